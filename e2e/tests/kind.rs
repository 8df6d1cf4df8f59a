//! The kind config `scripts/kind-up.sh` writes (via `irsa-kind-config`) sets exactly the kube-apiserver flags
//! the local control plane of the other e2e tests runs with. kind-up.sh itself, with real pods, is
//! tests/kind_pods.rs.

use std::path::Path;
use std::process::Command;

use irsa_e2e::controlplane::STS_AUDIENCE;
use irsa_e2e::kind::{KindConfig, KubeadmApi, KUBERNETES_AUDIENCE, NODE_KEY_DIR};
use irsa_names::apiserver_issuer_args;
use serde_yaml::Value;

const ISSUER: &str = "https://172.18.0.1:8444/id/0123456789ABCDEF0123456789ABCDEF";

fn key_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sa.key"), "not read by the generator").unwrap();
    std::fs::write(dir.path().join("sa.pub"), "not read by the generator").unwrap();
    dir
}

/// The kubeadm config patches of a generated kind config, parsed.
fn patches(config: &Value) -> Vec<Value> {
    config["kubeadmConfigPatches"]
        .as_sequence()
        .expect("kubeadmConfigPatches")
        .iter()
        .map(|p| serde_yaml::from_str(p.as_str().expect("patch is a YAML string")).unwrap())
        .collect()
}

/// The ClusterConfiguration patch of a generated kind config for one kubeadm API.
fn cluster_configuration(config: &Value, api_version: &str) -> Value {
    let found: Vec<Value> = patches(config)
        .into_iter()
        .filter(|p| {
            p["kind"].as_str() == Some("ClusterConfiguration")
                && p["apiVersion"].as_str() == Some(api_version)
        })
        .collect();
    assert_eq!(found.len(), 1, "one {api_version} patch: {config:?}");
    found.into_iter().next().unwrap()
}

fn v1beta3_args(section: &Value) -> Vec<(String, String)> {
    section["extraArgs"]
        .as_mapping()
        .expect("extraArgs is a map in v1beta3")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
        .collect()
}

fn v1beta4_args(section: &Value) -> Vec<(String, String)> {
    section["extraArgs"]
        .as_sequence()
        .expect("extraArgs is a list in v1beta4")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn owned(args: Vec<(&str, String)>) -> Vec<(String, String)> {
    args.into_iter().map(|(n, v)| (n.to_string(), v)).collect()
}

#[test]
fn kind_config_sets_exactly_the_control_plane_issuer_flags() {
    let keys = key_dir();
    let cfg = KindConfig::new("irsa", ISSUER, keys.path());
    let yaml: Value = serde_yaml::from_str(&cfg.to_yaml()).unwrap();
    assert_eq!(yaml["kind"].as_str(), Some("Cluster"));
    assert_eq!(yaml["apiVersion"].as_str(), Some("kind.x-k8s.io/v1alpha4"));
    assert_eq!(yaml["name"].as_str(), Some("irsa"));

    // The key dir is mounted where the flags point.
    let nodes = yaml["nodes"].as_sequence().unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["role"].as_str(), Some("control-plane"));
    let mounts = nodes[0]["extraMounts"].as_sequence().unwrap();
    assert_eq!(mounts.len(), 1);
    assert_eq!(
        mounts[0]["hostPath"].as_str(),
        Some(&*keys.path().display().to_string())
    );
    assert_eq!(mounts[0]["containerPath"].as_str(), Some(NODE_KEY_DIR));
    assert_eq!(mounts[0]["readOnly"].as_bool(), Some(true));

    // kube-apiserver: exactly what apiserver_issuer_args gives the local control plane (tests/controlplane.rs
    // checks kube-apiserver's command line has them), nothing more.
    let patch = cluster_configuration(&yaml, "kubeadm.k8s.io/v1beta4");
    let audiences = vec![KUBERNETES_AUDIENCE.to_string(), STS_AUDIENCE.to_string()];
    let node = Path::new(NODE_KEY_DIR);
    let want = owned(apiserver_issuer_args(
        ISSUER,
        &node.join("sa.key"),
        &node.join("sa.pub"),
        &audiences,
    ));
    assert_eq!(v1beta4_args(&patch["apiServer"]), want);
    let names: Vec<_> = want.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "service-account-issuer",
            "service-account-signing-key-file",
            "service-account-key-file",
            "api-audiences"
        ]
    );
    assert!(want.contains(&(
        "api-audiences".to_string(),
        "https://kubernetes.default.svc,sts.amazonaws.com".to_string()
    )));

    // The kubelet of Kubernetes 1.35 runs on a cgroup v1 host (as CI's are) only when told it may.
    let kubelet: Vec<Value> = patches(&yaml)
        .into_iter()
        .filter(|p| p["kind"].as_str() == Some("KubeletConfiguration"))
        .collect();
    assert_eq!(kubelet.len(), 1, "one KubeletConfiguration patch");
    assert_eq!(
        kubelet[0]["apiVersion"].as_str(),
        Some("kubelet.config.k8s.io/v1beta1")
    );
    assert_eq!(kubelet[0]["failCgroupV1"].as_bool(), Some(false));
    // The same flags for kubeadm v1beta3, which kind generates before Kubernetes 1.36 (kind v0.33).
    let v1beta3 = cluster_configuration(&yaml, "kubeadm.k8s.io/v1beta3");
    assert_eq!(v1beta3_args(&v1beta3["apiServer"]), want);
    assert_eq!(
        v1beta3_args(&v1beta3["controllerManager"]),
        v1beta4_args(&patch["controllerManager"])
    );
    assert_eq!(patches(&yaml).len(), 3, "nothing else is patched");

    // kube-controller-manager signs with the same private key.
    assert_eq!(
        v1beta4_args(&patch["controllerManager"]),
        [(
            "service-account-private-key-file".to_string(),
            format!("{NODE_KEY_DIR}/sa.key")
        )]
    );
}

#[test]
fn kind_config_for_one_kubeadm_api_patches_only_that_one() {
    let keys = key_dir();
    let mut cfg = KindConfig::new("irsa", ISSUER, keys.path());
    cfg.kubeadm_apis = vec![KubeadmApi::V1beta3];
    cfg.node_image = Some("kindest/node:v1.30.0".into());
    let yaml: Value = serde_yaml::from_str(&cfg.to_yaml()).unwrap();
    assert_eq!(
        yaml["nodes"][0]["image"].as_str(),
        Some("kindest/node:v1.30.0")
    );
    let patch = cluster_configuration(&yaml, "kubeadm.k8s.io/v1beta3");
    assert_eq!(
        v1beta3_args(&patch["apiServer"]),
        owned(cfg.apiserver_args())
    );
    let kinds: Vec<_> = patches(&yaml)
        .iter()
        .map(|p| p["apiVersion"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        ["kubeadm.k8s.io/v1beta3", "kubelet.config.k8s.io/v1beta1"]
    );
}

#[test]
fn irsa_kind_config_binary_prints_the_library_config() {
    let keys = key_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_irsa-kind-config"))
        .args(["--name", "lab", "--issuer", ISSUER, "--key-dir"])
        .arg(keys.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = KindConfig::new("lab", ISSUER, keys.path()).to_yaml();
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);

    // It refuses a key dir without the keys, saying which file is missing.
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_irsa-kind-config"))
        .args(["--name", "lab", "--issuer", ISSUER, "--key-dir"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sa.key"));
}
