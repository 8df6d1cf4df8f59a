//! Kubernetes: client from kubeconfig with kubectl's conventions, and the few calls the plugin makes.
//!
//! Service accounts are written with server-side apply (field manager `kubectl-irsa`), so the plugin owns
//! exactly the fields it sets and never clobbers what others manage.

use std::collections::BTreeMap;
use std::path::PathBuf;

use irsa_names::MANAGED_BY_LABEL;
use k8s_openapi::api::core::v1::{Namespace, Pod, ServiceAccount};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{json, Value};

use crate::error::{Error, Result};

mod pods;

/// Field manager for server-side apply.
pub const FIELD_MANAGER: &str = "kubectl-irsa";
/// Value of the managed-by label on what the plugin creates.
pub const MANAGED_BY_VALUE: &str = "kubectl-irsa";

/// Which kubeconfig and context.
#[derive(Debug, Clone, Default)]
pub struct KubeSettings {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

impl KubeSettings {
    /// The kubeconfig as kubectl reads it (`--kubeconfig`, else `KUBECONFIG` merged, else `~/.kube/config`);
    /// `None` when there is none at all.
    fn read_kubeconfig(&self) -> Result<Option<Kubeconfig>> {
        match &self.kubeconfig {
            Some(path) => Kubeconfig::read_from(path)
                .map(Some)
                .map_err(|e| Error::Kubeconfig {
                    message: format!("cannot read --kubeconfig {}: {e}", path.display()),
                }),
            None => match Kubeconfig::from_env() {
                Ok(Some(k)) => Ok(Some(k)),
                Ok(None) => Ok(Kubeconfig::read().ok()),
                Err(e) => Err(Error::Kubeconfig {
                    message: format!("cannot read KUBECONFIG: {e}"),
                }),
            },
        }
    }

    /// The context's namespace and cluster name, read from the kubeconfig without connecting.
    pub fn context_defaults(&self) -> Result<(Option<String>, Option<String>)> {
        let Some(config) = self.read_kubeconfig()? else {
            if let Some(ctx) = &self.context {
                return Err(Error::Kubeconfig {
                    message: format!(
                        "--context {ctx}: no kubeconfig found (KUBECONFIG, ~/.kube/config)"
                    ),
                });
            }
            return Ok((None, None));
        };
        let name = self.context.clone().or(config.current_context.clone());
        let Some(name) = name else {
            return Ok((None, None));
        };
        let Some(ctx) = config.contexts.iter().find(|c| c.name == name) else {
            if self.context.is_some() {
                let known: Vec<_> = config.contexts.iter().map(|c| c.name.as_str()).collect();
                return Err(Error::Kubeconfig {
                    message: format!(
                        "context {name:?} is not in the kubeconfig (contexts: {})",
                        known.join(", ")
                    ),
                });
            }
            return Ok((None, None));
        };
        let ns = ctx.context.as_ref().and_then(|c| c.namespace.clone());
        let cluster = ctx.context.as_ref().map(|c| c.cluster.clone());
        Ok((
            ns.filter(|n| !n.is_empty()),
            cluster.filter(|c| !c.is_empty()),
        ))
    }
}

/// A connected Kubernetes client.
#[derive(Clone)]
pub struct Kube {
    pub client: Client,
}

fn hint_for_status(status: u16) -> Option<String> {
    match status {
        401 => Some("the API server rejected the credentials: check the kubeconfig user".into()),
        403 => {
            Some("RBAC does not allow this: ask for the permission or use another --context".into())
        }
        _ => None,
    }
}

/// Turn a kube-rs error into ours.
pub fn kube_error(operation: impl Into<String>, err: kube::Error) -> Error {
    match err {
        kube::Error::Api(status) => Error::Kube {
            operation: operation.into(),
            status: status.code,
            message: if status.message.is_empty() {
                status.reason.clone()
            } else {
                status.message.clone()
            },
            hint: hint_for_status(status.code),
        },
        other => {
            let mut message = other.to_string();
            let mut source = std::error::Error::source(&other);
            while let Some(s) = source {
                message.push_str(": ");
                message.push_str(&s.to_string());
                source = s.source();
            }
            Error::Kube {
                operation: operation.into(),
                status: 0,
                message,
                hint: Some(
                    "cannot reach the Kubernetes API server: check --kubeconfig / --context and that the \
                     cluster is running"
                        .into(),
                ),
            }
        }
    }
}

impl Kube {
    pub async fn connect(settings: &KubeSettings) -> Result<Kube> {
        let options = KubeConfigOptions {
            context: settings.context.clone(),
            ..Default::default()
        };
        let config = match (&settings.kubeconfig, &settings.context) {
            (Some(path), _) => {
                let kubeconfig = Kubeconfig::read_from(path).map_err(|e| Error::Kubeconfig {
                    message: format!("cannot read --kubeconfig {}: {e}", path.display()),
                })?;
                Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(|e| Error::Kubeconfig {
                        message: format!("{}: {e}", path.display()),
                    })?
            }
            (None, Some(_)) => {
                Config::from_kubeconfig(&options)
                    .await
                    .map_err(|e| Error::Kubeconfig {
                        message: e.to_string(),
                    })?
            }
            (None, None) => Config::infer().await.map_err(|e| Error::Kubeconfig {
                message: format!(
                    "{e}: no kubeconfig found (set KUBECONFIG or --kubeconfig, or run inside a cluster)"
                ),
            })?,
        };
        let client = Client::try_from(config).map_err(|e| kube_error("client setup", e))?;
        Ok(Kube { client })
    }

    fn service_accounts(&self, namespace: &str) -> Api<ServiceAccount> {
        Api::namespaced(self.client.clone(), namespace)
    }

    pub async fn get_service_account(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<ServiceAccount>> {
        self.service_accounts(namespace)
            .get_opt(name)
            .await
            .map_err(|e| kube_error(format!("get serviceaccount {namespace}/{name}"), e))
    }

    /// Server-side apply of the given annotations and labels (field manager `kubectl-irsa`, forced: the
    /// caller has decided to take these fields over).
    pub async fn apply_service_account(
        &self,
        namespace: &str,
        name: &str,
        annotations: &BTreeMap<String, String>,
        labels: &BTreeMap<String, String>,
    ) -> Result<ServiceAccount> {
        let mut metadata = json!({ "name": name, "namespace": namespace });
        if !annotations.is_empty() {
            metadata["annotations"] = json!(annotations);
        }
        if !labels.is_empty() {
            metadata["labels"] = json!(labels);
        }
        let body = json!({ "apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata });
        self.service_accounts(namespace)
            .patch(
                name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&body),
            )
            .await
            .map_err(|e| kube_error(format!("apply serviceaccount {namespace}/{name}"), e))
    }

    /// JSON merge patch of annotations and labels: `Some` sets, `None` removes.
    pub async fn patch_service_account_metadata(
        &self,
        namespace: &str,
        name: &str,
        annotations: &BTreeMap<String, Option<String>>,
        labels: &BTreeMap<String, Option<String>>,
    ) -> Result<()> {
        let mut metadata = serde_json::Map::new();
        if !annotations.is_empty() {
            metadata.insert("annotations".into(), json!(annotations));
        }
        if !labels.is_empty() {
            metadata.insert("labels".into(), json!(labels));
        }
        let body = json!({ "metadata": Value::Object(metadata) });
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..Default::default()
        };
        self.service_accounts(namespace)
            .patch(name, &params, &Patch::Merge(&body))
            .await
            .map_err(|e| kube_error(format!("patch serviceaccount {namespace}/{name}"), e))?;
        Ok(())
    }

    pub async fn delete_service_account(&self, namespace: &str, name: &str) -> Result<()> {
        match self
            .service_accounts(namespace)
            .delete(name, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(kube_error(
                format!("delete serviceaccount {namespace}/{name}"),
                e,
            )),
        }
    }

    /// Service accounts in one namespace, or in all when `namespace` is `None`.
    pub async fn list_service_accounts(
        &self,
        namespace: Option<&str>,
    ) -> Result<Vec<ServiceAccount>> {
        let api: Api<ServiceAccount> = match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        };
        api.list(&ListParams::default())
            .await
            .map(|l| l.items)
            .map_err(|e| kube_error("list serviceaccounts", e))
    }

    /// Pods in one namespace, or in all when `namespace` is `None`.
    pub async fn list_pods(&self, namespace: Option<&str>) -> Result<Vec<Pod>> {
        let api: Api<Pod> = match namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        };
        api.list(&ListParams::default())
            .await
            .map(|l| l.items)
            .map_err(|e| kube_error("list pods", e))
    }

    /// The namespace, if it exists.
    pub async fn get_namespace(&self, name: &str) -> Result<Option<Namespace>> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        api.get_opt(name)
            .await
            .map_err(|e| kube_error(format!("get namespace {name}"), e))
    }

    /// Create a namespace labelled as managed by kubectl-irsa. `Ok(false)` if it already existed.
    pub async fn create_namespace(&self, name: &str) -> Result<bool> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let ns: Namespace = serde_json::from_value(json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": name, "labels": { MANAGED_BY_LABEL: MANAGED_BY_VALUE } },
        }))
        .expect("literal namespace");
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..Default::default()
        };
        match api.create(&params, &ns).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(kube_error(format!("create namespace {name}"), e)),
        }
    }

    pub async fn delete_namespace(&self, name: &str) -> Result<()> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(kube_error(format!("delete namespace {name}"), e)),
        }
    }

    /// The service-account issuer, from the API server's OIDC discovery document.
    pub async fn discover_issuer(&self) -> Result<String> {
        let request = http::Request::get("/.well-known/openid-configuration")
            .body(Vec::new())
            .map_err(|e| Error::Issuer {
                message: e.to_string(),
            })?;
        let text = self.client.request_text(request).await.map_err(|e| {
            let err = kube_error("GET /.well-known/openid-configuration", e);
            let message = match &err {
                Error::Kube { status: 404, .. } => {
                    "the API server does not serve /.well-known/openid-configuration (service account \
                     issuer discovery is off); pass --oidc-issuer URL or --cluster NAME"
                        .to_string()
                }
                Error::Kube { status: 401 | 403, .. } => format!(
                    "{err}; reading it needs the system:service-account-issuer-discovery role, or pass \
                     --oidc-issuer URL or --cluster NAME"
                ),
                _ => format!("{err}; or pass --oidc-issuer URL or --cluster NAME"),
            };
            Error::Issuer { message }
        })?;
        let doc: Value = serde_json::from_str(&text).map_err(|e| Error::Issuer {
            message: format!("/.well-known/openid-configuration is not JSON: {e}"),
        })?;
        doc.get("issuer")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_end_matches('/').to_string())
            .ok_or_else(|| Error::Issuer {
                message: "/.well-known/openid-configuration has no \"issuer\"".into(),
            })
    }
}

/// Annotations of an object (empty map when none).
pub fn annotations(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> BTreeMap<String, String> {
    meta.annotations.clone().unwrap_or_default()
}

/// Labels of an object (empty map when none).
pub fn labels(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> BTreeMap<String, String> {
    meta.labels.clone().unwrap_or_default()
}

/// The annotation and label keys kubectl-irsa owns through server-side apply (its `Apply` entry in
/// `managedFields`). An apply must list them again, or the API server removes them.
pub fn applied_keys(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> (Vec<String>, Vec<String>) {
    let mut annotations = Vec::new();
    let mut labels = Vec::new();
    for entry in meta.managed_fields.iter().flatten() {
        if entry.manager.as_deref() != Some(FIELD_MANAGER)
            || entry.operation.as_deref() != Some("Apply")
        {
            continue;
        }
        let Some(fields) = entry.fields_v1.as_ref().and_then(|f| f.0.get("f:metadata")) else {
            continue;
        };
        let keys = |section: &str| -> Vec<String> {
            fields
                .get(section)
                .and_then(Value::as_object)
                .map(|o| {
                    o.keys()
                        .filter_map(|k| k.strip_prefix("f:"))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        annotations.extend(keys("f:annotations"));
        labels.extend(keys("f:labels"));
    }
    (annotations, labels)
}

/// Add to `want` the current values of the keys kubectl-irsa already owns but `want` does not mention.
pub fn keep_owned(
    want: &mut BTreeMap<String, String>,
    current: &BTreeMap<String, String>,
    owned: &[String],
) {
    for key in owned {
        if let (false, Some(v)) = (want.contains_key(key), current.get(key)) {
            want.insert(key.clone(), v.clone());
        }
    }
}

/// True if the object carries `app.kubernetes.io/managed-by=kubectl-irsa`.
pub fn is_managed(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> bool {
    meta.labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .is_some_and(|v| v == MANAGED_BY_VALUE)
}

/// A DNS-1123 subdomain (service account names): lowercase alphanumerics, '-' and '.', at most 253.
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(|part| is_dns_label_inner(part, 253))
}

/// A DNS-1123 label (namespace names): lowercase alphanumerics and '-', at most 63.
pub fn is_dns_label(s: &str) -> bool {
    is_dns_label_inner(s, 63)
}

fn is_dns_label_inner(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_keys_come_from_the_apply_entry() {
        let meta: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta =
            serde_json::from_value(json!({
                "name": "sa",
                "managedFields": [
                    { "manager": "kubectl-irsa", "operation": "Apply", "fieldsType": "FieldsV1",
                      "fieldsV1": { "f:metadata": {
                          "f:annotations": { "f:eks.amazonaws.com/role-arn": {} },
                          "f:labels": { "f:app.kubernetes.io/managed-by": {}, "f:tier": {} } } } },
                    { "manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1",
                      "fieldsV1": { "f:metadata": { "f:annotations": { "f:team": {} } } } }
                ]
            }))
            .unwrap();
        let (a, l) = applied_keys(&meta);
        assert_eq!(a, vec!["eks.amazonaws.com/role-arn".to_string()]);
        assert_eq!(
            l,
            vec![
                "app.kubernetes.io/managed-by".to_string(),
                "tier".to_string()
            ]
        );
        let mut want = BTreeMap::from([("x".to_string(), "1".to_string())]);
        let current = BTreeMap::from([
            ("tier".to_string(), "web".to_string()),
            ("x".to_string(), "0".to_string()),
        ]);
        keep_owned(&mut want, &current, &l);
        assert_eq!(want["tier"], "web");
        assert_eq!(want["x"], "1");
    }

    #[test]
    fn names() {
        assert!(is_dns_subdomain("my-app"));
        assert!(is_dns_subdomain("my.app-1"));
        assert!(!is_dns_subdomain("My_App"));
        assert!(!is_dns_subdomain("-a"));
        assert!(!is_dns_subdomain(""));
        assert!(is_dns_label("default"));
        assert!(!is_dns_label("a.b"));
        assert!(!is_dns_label(&"a".repeat(64)));
    }
}
