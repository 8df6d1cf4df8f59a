//! The webhook's Pod Identity mode behind a real kube-apiserver: the API server issues tokens for an emulated
//! cluster (its `--service-account-issuer` is that cluster's), so the webhook knows which cluster's
//! associations apply by the API server's own discovery document; a pod of an associated ServiceAccount is
//! stored with the agent's URI and the `pods.eks.amazonaws.com` token, even when the ServiceAccount also has the
//! IRSA annotation, and a pod of another ServiceAccount gets IRSA as before.
//!
//! Needs kube-apiserver + etcd (`scripts/controlplane.sh`, or `IRSA_CONTROLPLANE_BIN`); missing binaries fail
//! this test unless `IRSA_SKIP_CONTROLPLANE=1`.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use irsa_e2e::controlplane::{self, ControlPlane, ControlPlaneConfig};
use irsa_emulator::webhook::install;
use irsa_emulator::Config;
use k8s_openapi::api::core::v1::{Container, Namespace, Pod, ServiceAccount};
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};

const ROLE: &str = "arn:aws:iam::111122223333:role/irsa-role";

fn meta(name: &str, annotations: &[(&str, &str)]) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        annotations: (!annotations.is_empty()).then(|| {
            annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        }),
        ..Default::default()
    }
}

async fn create_pod(client: &Client, ns: &str, name: &str, sa: &str) -> Pod {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut pod = Pod {
        metadata: meta(name, &[]),
        ..Default::default()
    };
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.service_account_name = Some(sa.to_string());
    spec.containers = vec![Container {
        name: "app".into(),
        image: Some("public.ecr.aws/aws-cli/aws-cli:2.25.4".into()),
        ..Default::default()
    }];
    api.create(&PostParams::default(), &pod)
        .await
        .unwrap_or_else(|e| panic!("create pod {ns}/{name}: {e}"))
}

fn env_of(pod: &Pod) -> BTreeMap<String, String> {
    pod.spec.as_ref().unwrap().containers[0]
        .env
        .iter()
        .flatten()
        .map(|e| (e.name.clone(), e.value.clone().unwrap_or_default()))
        .collect()
}

/// The same data and address for both starts: the issuer is minted under the emulator's URL.
fn config(dir: &std::path::Path, port: u16) -> Config {
    Config {
        data_dir: Some(dir.join("data")),
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        ..Config::ephemeral()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn associated_service_accounts_get_pod_identity_from_the_webhook() {
    if controlplane::skip_requested() {
        eprintln!("IRSA_SKIP_CONTROLPLANE=1: skipping the Pod Identity webhook test against kube-apiserver");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The emulated cluster first (the API server needs its keys), then the API server, then the emulator again
    // with the API server's kubeconfig, as kind-up.sh does.
    let port = irsa_e2e::kind_cluster::free_port();
    let first = irsa_emulator::start(config(dir.path(), port))
        .await
        .unwrap();
    let cluster = common::create_cluster(&first, "podid").await;
    let role = common::create_pod_identity_role(&common::iam(&first), "podid-role").await;
    for (ns, sa) in [("team", "app"), ("team", "both")] {
        common::eks(&first)
            .create_pod_identity_association()
            .cluster_name("podid")
            .namespace(ns)
            .service_account(sa)
            .role_arn(&role)
            .send()
            .await
            .expect("association");
    }
    first.shutdown().await;
    let (key, public) = (dir.path().join("sa.key"), dir.path().join("sa.pub"));
    std::fs::write(&key, cluster.signing_key_pem.expect("signing key")).unwrap();
    std::fs::write(&public, cluster.public_key_pem.expect("public key")).unwrap();
    let cp_config = ControlPlaneConfig::new(cluster.issuer, key, public);
    let cp: ControlPlane = tokio::task::spawn_blocking(move || ControlPlane::start(cp_config))
        .await
        .unwrap()
        .unwrap_or_else(|e| {
            panic!("cannot start the e2e control plane (scripts/test.sh installs it; IRSA_SKIP_CONTROLPLANE=1 skips): {e:?}")
        });
    let emulator = irsa_emulator::start(Config {
        kubeconfig: Some(cp.kubeconfig().to_path_buf()),
        ..config(dir.path(), port)
    })
    .await
    .unwrap();
    let ca_file = dir.path().join("emulator-ca.pem");
    std::fs::write(&ca_file, emulator.ca_pem().unwrap()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_irsa-emulator"))
        .args(["webhook", "install", "--kubeconfig"])
        .arg(cp.kubeconfig())
        .args(["--url", emulator.url(), "--ca-file"])
        .arg(&ca_file)
        .args(["--timeout-seconds", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let client = install::client(Some(cp.kubeconfig())).await.unwrap();
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &Namespace {
                metadata: meta("team", &[]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), "team");
    for (name, annotations) in [
        ("app", vec![]),
        ("both", vec![("eks.amazonaws.com/role-arn", ROLE)]),
        ("irsa", vec![("eks.amazonaws.com/role-arn", ROLE)]),
    ] {
        sas.create(
            &PostParams::default(),
            &ServiceAccount {
                metadata: meta(name, &annotations),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }

    // The API server takes up a new webhook configuration asynchronously.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut attempt = 0;
    let pod = loop {
        attempt += 1;
        let pod = create_pod(&client, "team", &format!("app-{attempt}"), "app").await;
        if !env_of(&pod).is_empty() || Instant::now() > deadline {
            break pod;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let env = env_of(&pod);
    assert_eq!(
        env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            .map(String::as_str),
        Some("http://169.254.170.23/v1/credentials"),
        "{env:?}"
    );
    assert_eq!(
        env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
            .map(String::as_str),
        Some("/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token")
    );
    let volume = pod.spec.as_ref().unwrap().volumes.as_ref().unwrap()[0].clone();
    assert_eq!(volume.name, "eks-pod-identity-token");
    let projection = volume.projected.unwrap().sources.unwrap()[0]
        .service_account_token
        .clone()
        .unwrap();
    assert_eq!(
        projection.audience.as_deref(),
        Some("pods.eks.amazonaws.com")
    );
    assert_eq!(projection.path, "eks-pod-identity-token");

    let both = env_of(&create_pod(&client, "team", "both-0", "both").await);
    assert!(
        both.contains_key("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            && !both.contains_key("AWS_ROLE_ARN"),
        "the association wins over the IRSA annotation: {both:?}"
    );
    let irsa = env_of(&create_pod(&client, "team", "irsa-0", "irsa").await);
    assert_eq!(
        irsa.get("AWS_ROLE_ARN").map(String::as_str),
        Some(ROLE),
        "{irsa:?}"
    );
    assert!(!irsa.contains_key("AWS_CONTAINER_CREDENTIALS_FULL_URI"));
    emulator.shutdown().await;
}
