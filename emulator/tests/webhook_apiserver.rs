//! The emulator as a real kube-apiserver's mutating webhook: registered with `irsa-emulator webhook install`,
//! called by the API server's admission chain for every pod creation, with ServiceAccounts read from its
//! watch cache over the control plane's kubeconfig.
//!
//! Needs kube-apiserver + etcd (`scripts/controlplane.sh`, or `IRSA_CONTROLPLANE_BIN`); missing binaries
//! fail this test unless `IRSA_SKIP_CONTROLPLANE=1`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use irsa_e2e::controlplane::{self, ControlPlane, ControlPlaneConfig};
use irsa_emulator::webhook::cache::{ServiceAccountCache, Source};
use irsa_emulator::webhook::install;
use irsa_emulator::{Config, Emulator};
use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
use k8s_openapi::api::core::v1::{ConfigMap, Container, Namespace, Pod, ServiceAccount};
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::{Api, Client};

const ROLE: &str = "arn:aws:iam::111122223333:role/webhook-e2e";
const TOKEN_FILE: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";

fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("irsa_emulator=info")
        .with_test_writer()
        .try_init();
}

async fn start_control_plane(dir: &Path) -> Option<ControlPlane> {
    if controlplane::skip_requested() {
        eprintln!("IRSA_SKIP_CONTROLPLANE=1: skipping the webhook test against kube-apiserver");
        return None;
    }
    // The control plane issues tokens for an emulated cluster (unused here, but as a user sets it up).
    let keys = common::start().await;
    let cluster = common::create_cluster(&keys, "webhook").await;
    keys.shutdown().await;
    let (key, public) = (dir.join("sa.key"), dir.join("sa.pub"));
    std::fs::write(&key, cluster.signing_key_pem.expect("signing key")).unwrap();
    std::fs::write(&public, cluster.public_key_pem.expect("public key")).unwrap();
    let config = ControlPlaneConfig::new(cluster.issuer, key, public);
    let started = tokio::task::spawn_blocking(move || ControlPlane::start(config))
        .await
        .unwrap();
    match started {
        Ok(cp) => Some(cp),
        Err(e) => panic!(
            "cannot start the e2e control plane (kube-apiserver + etcd; scripts/test.sh installs them, or set \
             IRSA_CONTROLPLANE_BIN; IRSA_SKIP_CONTROLPLANE=1 skips): {e:?}"
        ),
    }
}

fn irsa_emulator(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_irsa-emulator"))
        .args(args)
        .env("IRSA_LOG", "irsa_emulator=warn")
        .output()
        .expect("irsa-emulator runs");
    assert!(
        out.status.success(),
        "irsa-emulator {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn meta(name: &str, annotations: &[(&str, &str)], labels: &[(&str, &str)]) -> ObjectMeta {
    let map = |pairs: &[(&str, &str)]| {
        (!pairs.is_empty()).then(|| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        })
    };
    ObjectMeta {
        name: Some(name.to_string()),
        annotations: map(annotations),
        labels: map(labels),
        ..Default::default()
    }
}

async fn create_sa(client: &Client, ns: &str, name: &str, annotations: &[(&str, &str)]) {
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
    let sa = ServiceAccount {
        metadata: meta(name, annotations, &[]),
        ..Default::default()
    };
    api.create(&PostParams::default(), &sa)
        .await
        .unwrap_or_else(|e| panic!("create serviceaccount {ns}/{name}: {e}"));
}

fn container(name: &str) -> Container {
    Container {
        name: name.to_string(),
        image: Some("public.ecr.aws/amazonlinux/amazonlinux:2023".to_string()),
        ..Default::default()
    }
}

/// Creates a pod (stored, never run: there is no kubelet) and returns it as the API server stored it.
async fn create_pod(
    client: &Client,
    ns: &str,
    name: &str,
    sa: &str,
    labels: &[(&str, &str)],
) -> Pod {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut pod = Pod {
        metadata: meta(name, &[], labels),
        ..Default::default()
    };
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.service_account_name = Some(sa.to_string());
    spec.init_containers = Some(vec![container("init")]);
    spec.containers = vec![container("app"), container("sidecar")];
    api.create(&PostParams::default(), &pod)
        .await
        .unwrap_or_else(|e| panic!("create pod {ns}/{name}: {e}"))
}

async fn create_namespace(client: &Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: meta(name, &[], &[]),
        ..Default::default()
    };
    api.create(&PostParams::default(), &ns)
        .await
        .unwrap_or_else(|e| panic!("create namespace {name}: {e}"));
}

fn env_of(container: &Container) -> BTreeMap<String, String> {
    container
        .env
        .iter()
        .flatten()
        .map(|e| (e.name.clone(), e.value.clone().unwrap_or_default()))
        .collect()
}

fn volume_names(pod: &Pod) -> Vec<String> {
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .map(|v| v.name.clone())
        .collect()
}

fn all_containers(pod: &Pod) -> Vec<&Container> {
    let spec = pod.spec.as_ref().expect("spec");
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .collect()
}

fn is_mutated(pod: &Pod) -> bool {
    volume_names(pod).iter().any(|v| v == "aws-iam-token")
}

fn assert_unchanged(pod: &Pod, what: &str) {
    assert!(
        !is_mutated(pod),
        "{what}: expected no aws-iam-token volume, got {:?}",
        volume_names(pod)
    );
    for c in all_containers(pod) {
        let env = env_of(c);
        assert!(
            env.keys().all(|k| !k.starts_with("AWS_")),
            "{what}: container {} got {env:?}",
            c.name
        );
    }
}

fn assert_mutated(pod: &Pod, emulator_url: &str) {
    let spec = pod.spec.as_ref().unwrap();
    let volumes = spec.volumes.as_ref().expect("volumes");
    let token = volumes
        .iter()
        .find(|v| v.name == "aws-iam-token")
        .unwrap_or_else(|| panic!("no aws-iam-token volume in {:?}", volume_names(pod)));
    let projection = token
        .projected
        .as_ref()
        .expect("projected")
        .sources
        .as_ref()
        .expect("sources")[0]
        .service_account_token
        .as_ref()
        .expect("serviceAccountToken");
    assert_eq!(projection.audience.as_deref(), Some("sts.amazonaws.com"));
    assert_eq!(projection.expiration_seconds, Some(86400));
    assert_eq!(projection.path, "token");
    let ca = volumes
        .iter()
        .find(|v| v.name == "irsa-emulator-ca")
        .expect("irsa-emulator-ca volume");
    assert_eq!(
        ca.config_map.as_ref().map(|c| c.name.as_str()),
        Some("irsa-emulator-ca")
    );

    for c in all_containers(pod) {
        let env = env_of(c);
        let expect = |name: &str, value: &str| {
            assert_eq!(
                env.get(name).map(String::as_str),
                Some(value),
                "container {}: {name} in {env:?}",
                c.name
            )
        };
        expect("AWS_ROLE_ARN", ROLE);
        expect("AWS_WEB_IDENTITY_TOKEN_FILE", TOKEN_FILE);
        expect("AWS_STS_REGIONAL_ENDPOINTS", "regional");
        expect("AWS_DEFAULT_REGION", "us-east-1");
        expect("AWS_REGION", "us-east-1");
        expect("AWS_ENDPOINT_URL_STS", emulator_url);
        expect("AWS_CA_BUNDLE", "/var/run/secrets/irsa-emulator/ca.pem");
        let mounts = c.volume_mounts.as_ref().expect("volumeMounts");
        let mount = |name: &str| {
            mounts
                .iter()
                .find(|m| m.name == name)
                .unwrap_or_else(|| panic!("container {}: no mount {name}", c.name))
        };
        let token_mount = mount("aws-iam-token");
        assert_eq!(
            token_mount.mount_path,
            "/var/run/secrets/eks.amazonaws.com/serviceaccount"
        );
        assert_eq!(token_mount.read_only, Some(true));
        let ca_mount = mount("irsa-emulator-ca");
        assert_eq!(ca_mount.mount_path, "/var/run/secrets/irsa-emulator");
        assert_eq!(ca_mount.read_only, Some(true));
    }
}

async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ca_configmap(client: &Client, ns: &str) -> Option<String> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    api.get_opt("irsa-emulator-ca")
        .await
        .ok()
        .flatten()
        .and_then(|cm| cm.data)
        .and_then(|d| d.get("ca.pem").cloned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apiserver_calls_the_emulator_for_pods() {
    init_logs();
    let dir = tempfile::tempdir().unwrap();
    let Some(cp) = start_control_plane(dir.path()).await else {
        return;
    };
    let fail_context = || {
        format!(
            "--- kube-apiserver log tail ---\n{}",
            cp.apiserver_log_tail(40)
        )
    };

    let emulator: Emulator = irsa_emulator::start(Config {
        kubeconfig: Some(cp.kubeconfig().to_path_buf()),
        ..Config::ephemeral()
    })
    .await
    .expect("emulator starts with --kubeconfig");
    let ca_pem = emulator.ca_pem().unwrap().to_string();
    let ca_file = dir.path().join("emulator-ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let kubeconfig = cp.kubeconfig().to_str().unwrap().to_string();

    irsa_emulator(&[
        "webhook",
        "install",
        "--kubeconfig",
        &kubeconfig,
        "--url",
        emulator.url(),
        "--ca-file",
        ca_file.to_str().unwrap(),
        "--timeout-seconds",
        "2",
    ]);
    let client = install::client(Some(cp.kubeconfig())).await.unwrap();
    let configurations: Api<MutatingWebhookConfiguration> = Api::all(client.clone());
    let installed = configurations
        .get("irsa-emulator")
        .await
        .expect("configuration installed");
    let webhook = &installed.webhooks.as_ref().unwrap()[0];
    assert_eq!(webhook.failure_policy.as_deref(), Some("Ignore"));
    assert_eq!(webhook.side_effects, "None");
    assert_eq!(
        webhook.client_config.url.as_deref(),
        Some(format!("{}/mutate", emulator.url()).as_str())
    );
    assert_eq!(
        webhook
            .client_config
            .ca_bundle
            .as_ref()
            .map(|b| b.0.as_slice()),
        Some(ca_pem.as_bytes())
    );

    let ns = "irsa-webhook";
    create_namespace(&client, ns).await;
    // The API server picks up new webhook configurations asynchronously: probe until pods are mutated.
    create_sa(
        &client,
        ns,
        "probe",
        &[("eks.amazonaws.com/role-arn", ROLE)],
    )
    .await;
    let mut attempt = 0;
    eventually(
        "the API server to call the webhook",
        Duration::from_secs(30),
        || {
            attempt += 1;
            let client = client.clone();
            async move {
                let pod = create_pod(&client, ns, &format!("probe-{attempt}"), "probe", &[]).await;
                is_mutated(&pod).then_some(())
            }
        },
    )
    .await;

    // A ServiceAccount created right before its pod: the cache may not have it yet; the grace lookup does.
    create_sa(
        &client,
        ns,
        "app",
        &[
            ("eks.amazonaws.com/role-arn", ROLE),
            ("eks.amazonaws.com/sts-regional-endpoints", "true"),
        ],
    )
    .await;
    let pod = create_pod(&client, ns, "annotated", "app", &[]).await;
    assert!(
        is_mutated(&pod),
        "pod created right after its SA was not mutated\n{}",
        fail_context()
    );
    assert_mutated(&pod, emulator.url());
    // The stored pod, not just the create response.
    let stored = Api::<Pod>::namespaced(client.clone(), ns)
        .get("annotated")
        .await
        .unwrap();
    assert_mutated(&stored, emulator.url());
    assert_eq!(
        volume_names(&stored)[0],
        "aws-iam-token",
        "upstream puts the token volume first"
    );

    // An SA without the role annotation: unchanged.
    create_sa(&client, ns, "plain", &[]).await;
    let pod = create_pod(&client, ns, "plain", "plain", &[]).await;
    assert_unchanged(&pod, "SA without role-arn");

    // A labelled pod: excluded by the objectSelector.
    let pod = create_pod(
        &client,
        ns,
        "labelled",
        "app",
        &[("eks.amazonaws.com/skip-pod-identity-webhook", "true")],
    )
    .await;
    assert_unchanged(&pod, "labelled pod");

    // The CA reaches every namespace, new ones too, and comes back when deleted.
    let published = eventually(
        "CA ConfigMap in the pod's namespace",
        Duration::from_secs(20),
        || ca_configmap(&client, ns),
    )
    .await;
    assert_eq!(published, ca_pem);
    create_namespace(&client, "irsa-webhook-later").await;
    eventually(
        "CA ConfigMap in a new namespace",
        Duration::from_secs(20),
        || ca_configmap(&client, "irsa-webhook-later"),
    )
    .await;
    Api::<ConfigMap>::namespaced(client.clone(), ns)
        .delete("irsa-emulator-ca", &DeleteParams::default())
        .await
        .unwrap();
    eventually(
        "the deleted CA ConfigMap to be restored",
        Duration::from_secs(20),
        || ca_configmap(&client, ns),
    )
    .await;

    // The cache's grace lookup, on its own: a ServiceAccount is found right after it is created, whether
    // the watch has delivered it yet or not; a missing one is not found, after at most the grace period.
    let cache = ServiceAccountCache::start(client.clone()).await;
    let mut sources = Vec::new();
    for i in 0..10 {
        let name = format!("race-{i}");
        create_sa(&client, ns, &name, &[("eks.amazonaws.com/role-arn", ROLE)]).await;
        let (sa, source) = cache
            .get(ns, &name, Duration::from_secs(2))
            .await
            .unwrap_or_else(|| panic!("{name} not found right after its creation"));
        assert_eq!(
            sa.metadata.annotations.as_ref().unwrap()["eks.amazonaws.com/role-arn"],
            ROLE
        );
        sources.push(source);
    }
    eprintln!("lookups right after creation were answered by: {sources:?}");
    let started = Instant::now();
    assert!(cache
        .get(ns, "missing", Duration::from_millis(500))
        .await
        .is_none());
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(cache.get(ns, "missing", Duration::ZERO).await.is_none());
    eventually(
        "the watch to deliver race-0",
        Duration::from_secs(10),
        || {
            let cache = &cache;
            async move {
                cache
                    .get(ns, "race-0", Duration::ZERO)
                    .await
                    .filter(|(_, source)| *source == Source::Cache)
            }
        },
    )
    .await;
    drop(cache);

    // The emulator stopped: failurePolicy Ignore admits pods unchanged.
    emulator.shutdown().await;
    let started = Instant::now();
    let pod = create_pod(&client, ns, "emulator-down", "app", &[]).await;
    assert_unchanged(&pod, "emulator stopped");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "pod creation took {:?} with the emulator down",
        started.elapsed()
    );

    irsa_emulator(&["webhook", "uninstall", "--kubeconfig", &kubeconfig]);
    assert!(configurations
        .get_opt("irsa-emulator")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        ca_configmap(&client, ns).await,
        None,
        "uninstall removes the CA ConfigMaps"
    );
    assert_eq!(ca_configmap(&client, "irsa-webhook-later").await, None);
    // Uninstalling twice is fine.
    irsa_emulator(&["webhook", "uninstall", "--kubeconfig", &kubeconfig]);
    drop(cp);
}
