//! `irsa-emulator webhook install | uninstall`: the MutatingWebhookConfiguration that sends pod creations to
//! the emulator's `/mutate`, as upstream's `deploy/mutatingwebhook.yaml` does for its own deployment.

use std::path::Path;

use anyhow::{bail, Context};
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhook, MutatingWebhookConfiguration, RuleWithOperations, ServiceReference,
    WebhookClientConfig,
};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use k8s_openapi::ByteString;
use kube::api::{DeleteParams, ListParams, ObjectMeta, Patch, PatchParams};
use kube::{Api, Client};

use super::ca::{CA_SELECTOR, MANAGER};
use irsa_names::{MANAGED_BY_LABEL, SKIP_POD_LABEL};

pub const DEFAULT_NAME: &str = "irsa-emulator";
/// The webhook's name inside the configuration (must be a fully qualified name).
pub const WEBHOOK_NAME: &str = "pod-identity.irsa-emulator.kubectl-irsa.dev";
pub const MUTATE_PATH: &str = "/mutate";
pub const DEFAULT_TIMEOUT_SECONDS: i32 = 5;

/// How the API server reaches the emulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The emulator's base URL (or the full `/mutate` URL), reachable from the API server.
    Url(String),
    /// A Service in front of the emulator.
    Service {
        namespace: String,
        name: String,
        port: Option<i32>,
    },
}

impl Target {
    /// Parses `--service namespace/name[:port]`.
    pub fn service(spec: &str) -> anyhow::Result<Target> {
        let (namespace, rest) = spec
            .split_once('/')
            .with_context(|| format!("--service {spec:?}: expected namespace/name[:port]"))?;
        let (name, port) = match rest.split_once(':') {
            Some((name, port)) => (
                name,
                Some(
                    port.parse::<i32>()
                        .ok()
                        .filter(|p| (1..=65535).contains(p))
                        .with_context(|| format!("--service {spec:?}: invalid port {port:?}"))?,
                ),
            ),
            None => (rest, None),
        };
        if namespace.is_empty() || name.is_empty() {
            bail!("--service {spec:?}: expected namespace/name[:port]");
        }
        Ok(Target::Service {
            namespace: namespace.to_string(),
            name: name.to_string(),
            port,
        })
    }

    fn client_config(&self, ca_pem: &str) -> anyhow::Result<WebhookClientConfig> {
        let ca_bundle = Some(ByteString(ca_pem.as_bytes().to_vec()));
        Ok(match self {
            Target::Url(url) => {
                if !url.starts_with("https://") {
                    bail!("the webhook URL must be https:// (the API server only calls webhooks over TLS): {url}");
                }
                let url = url.trim_end_matches('/');
                let url = if url.ends_with(MUTATE_PATH) {
                    url.to_string()
                } else {
                    format!("{url}{MUTATE_PATH}")
                };
                WebhookClientConfig {
                    url: Some(url),
                    ca_bundle,
                    service: None,
                }
            }
            Target::Service {
                namespace,
                name,
                port,
            } => WebhookClientConfig {
                url: None,
                ca_bundle,
                service: Some(ServiceReference {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    path: Some(MUTATE_PATH.to_string()),
                    port: *port,
                }),
            },
        })
    }
}

#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// Name of the MutatingWebhookConfiguration.
    pub name: String,
    pub target: Target,
    /// PEM of the CA that signed the emulator's serving certificate.
    pub ca_pem: String,
    pub timeout_seconds: i32,
}

/// The configuration `install` applies.
pub fn webhook_configuration(
    options: &InstallOptions,
) -> anyhow::Result<MutatingWebhookConfiguration> {
    if !options.ca_pem.contains("-----BEGIN CERTIFICATE-----") {
        bail!("the CA bundle is not a PEM certificate");
    }
    if !(1..=30).contains(&options.timeout_seconds) {
        bail!("timeoutSeconds must be between 1 and 30");
    }
    Ok(MutatingWebhookConfiguration {
        metadata: ObjectMeta {
            name: Some(options.name.clone()),
            labels: Some([(MANAGED_BY_LABEL.to_string(), MANAGER.to_string())].into()),
            ..Default::default()
        },
        webhooks: Some(vec![MutatingWebhook {
            name: WEBHOOK_NAME.to_string(),
            admission_review_versions: vec!["v1".to_string()],
            client_config: options.target.client_config(&options.ca_pem)?,
            failure_policy: Some("Ignore".to_string()),
            side_effects: "None".to_string(),
            timeout_seconds: Some(options.timeout_seconds),
            reinvocation_policy: Some("IfNeeded".to_string()),
            object_selector: Some(LabelSelector {
                match_expressions: Some(vec![LabelSelectorRequirement {
                    key: SKIP_POD_LABEL.to_string(),
                    operator: "DoesNotExist".to_string(),
                    values: None,
                }]),
                match_labels: None,
            }),
            rules: Some(vec![RuleWithOperations {
                api_groups: Some(vec![String::new()]),
                api_versions: Some(vec!["v1".to_string()]),
                operations: Some(vec!["CREATE".to_string()]),
                resources: Some(vec!["pods".to_string()]),
                scope: Some("Namespaced".to_string()),
            }]),
            ..Default::default()
        }]),
    })
}

/// Applies (creates or updates) the configuration.
pub async fn install(client: &Client, options: &InstallOptions) -> anyhow::Result<()> {
    let mut configuration = webhook_configuration(options)?;
    // Server-side apply needs the type in the body.
    let body = {
        configuration.metadata.managed_fields = None;
        let mut value = serde_json::to_value(&configuration)?;
        value["apiVersion"] = "admissionregistration.k8s.io/v1".into();
        value["kind"] = "MutatingWebhookConfiguration".into();
        value
    };
    let api: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
    api.patch(
        &options.name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(body),
    )
    .await
    .with_context(|| format!("cannot apply MutatingWebhookConfiguration {}", options.name))?;
    Ok(())
}

/// What `uninstall` removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Removed {
    pub webhook_configuration: bool,
    pub ca_configmaps: usize,
}

/// Deletes the configuration and the CA ConfigMaps the emulator published. A running emulator with
/// `--kubeconfig` publishes them again; stop it first.
pub async fn uninstall(client: &Client, name: &str) -> anyhow::Result<Removed> {
    let mut removed = Removed::default();
    let api: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => removed.webhook_configuration = true,
        Err(kube::Error::Api(status)) if status.code == 404 => {}
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot delete MutatingWebhookConfiguration {name}"))
        }
    }
    let configmaps: Api<ConfigMap> = Api::all(client.clone());
    let list = configmaps
        .list_metadata(&ListParams::default().labels(CA_SELECTOR))
        .await
        .context("cannot list the emulator's CA ConfigMaps")?;
    for cm in list.items {
        let (Some(namespace), Some(cm_name)) = (cm.metadata.namespace, cm.metadata.name) else {
            continue;
        };
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
        match api.delete(&cm_name, &DeleteParams::default()).await {
            Ok(_) => removed.ca_configmaps += 1,
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot delete ConfigMap {namespace}/{cm_name}"))
            }
        }
    }
    Ok(removed)
}

/// A client for the cluster in `kubeconfig` (its current context), or, without a path, the usual inference
/// (`$KUBECONFIG`, `~/.kube/config`, in-cluster).
pub async fn client(kubeconfig: Option<&Path>) -> anyhow::Result<Client> {
    let config = match kubeconfig {
        Some(path) => {
            if !path.is_file() {
                bail!("kubeconfig {} does not exist", path.display());
            }
            let file = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(file, &kube::config::KubeConfigOptions::default())
                .await
                .with_context(|| format!("invalid kubeconfig {}", path.display()))?
        }
        None => kube::Config::infer().await.context(
            "no kubeconfig found ($KUBECONFIG, ~/.kube/config or in-cluster); pass --kubeconfig",
        )?,
    };
    Client::try_from(config).context("cannot build a Kubernetes client")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn options(target: Target) -> InstallOptions {
        InstallOptions {
            name: DEFAULT_NAME.into(),
            target,
            ca_pem: CA.into(),
            timeout_seconds: 3,
        }
    }

    #[test]
    fn url_configuration() {
        let config =
            webhook_configuration(&options(Target::Url("https://10.0.0.1:8443/".into()))).unwrap();
        let value = serde_json::to_value(&config).unwrap();
        let webhook = &value["webhooks"][0];
        assert_eq!(
            webhook["clientConfig"]["url"],
            "https://10.0.0.1:8443/mutate"
        );
        // caBundle is base64 of the PEM in JSON.
        assert_eq!(webhook["clientConfig"]["caBundle"], base64_of(CA));
        assert_eq!(webhook["failurePolicy"], "Ignore");
        assert_eq!(webhook["sideEffects"], "None");
        assert_eq!(webhook["admissionReviewVersions"], json!(["v1"]));
        assert_eq!(webhook["timeoutSeconds"], 3);
        assert_eq!(
            webhook["objectSelector"],
            json!({ "matchExpressions": [{ "key": SKIP_POD_LABEL, "operator": "DoesNotExist" }] })
        );
        assert_eq!(
            webhook["rules"],
            json!([{ "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"], "scope": "Namespaced" }])
        );
        let full =
            webhook_configuration(&options(Target::Url("https://e:1/mutate".into()))).unwrap();
        assert_eq!(
            full.webhooks.unwrap()[0].client_config.url.as_deref(),
            Some("https://e:1/mutate")
        );
    }

    #[test]
    fn service_configuration() {
        let target = Target::service("irsa/emulator:8443").unwrap();
        let config = webhook_configuration(&options(target)).unwrap();
        let value = serde_json::to_value(&config).unwrap();
        assert_eq!(
            value["webhooks"][0]["clientConfig"]["service"],
            json!({ "namespace": "irsa", "name": "emulator", "path": "/mutate", "port": 8443 })
        );
        let err = Target::service("nameonly").unwrap_err().to_string();
        assert!(err.contains("expected namespace/name[:port]"), "{err}");
        let err = Target::service("ns/name:0").unwrap_err().to_string();
        assert!(err.contains("invalid port \"0\""), "{err}");
        assert_eq!(
            Target::service("ns/name").unwrap(),
            Target::Service {
                namespace: "ns".into(),
                name: "name".into(),
                port: None
            }
        );
    }

    #[test]
    fn rejects_plain_http_and_bad_ca() {
        let err = webhook_configuration(&options(Target::Url("http://e".into()))).unwrap_err();
        assert!(err.to_string().contains("must be https://"), "{err}");
        let mut bad = options(Target::Url("https://e".into()));
        bad.ca_pem = "nope".into();
        let err = webhook_configuration(&bad).unwrap_err();
        assert!(err.to_string().contains("not a PEM certificate"), "{err}");
    }

    fn base64_of(s: &str) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    }
}
