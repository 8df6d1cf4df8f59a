//! kind, for users with Docker: the kind config `scripts/kind-up.sh` writes (via `irsa-kind-config`) sets
//! exactly the kube-apiserver flags the local control plane of the other e2e tests runs with, and — where a
//! Docker engine answers — `scripts/kind-up.sh` brings up a kind cluster whose API server is the emulator
//! cluster's issuer, and `scripts/kind-down.sh` removes it.
//!
//! The Docker tests print "skipped: …" and return when `docker info` fails (no Docker engine, as in this
//! project's CI): they neither fail nor claim to have checked anything.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use irsa_e2e::controlplane::{repo_root, STS_AUDIENCE};
use irsa_e2e::kind::{KindConfig, KubeadmApi, KUBERNETES_AUDIENCE, NODE_KEY_DIR};
use irsa_emulator::clusters::apiserver_issuer_args;
use serde_yaml::Value;

const ISSUER: &str = "https://172.18.0.1:8444/id/0123456789ABCDEF0123456789ABCDEF";

fn key_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sa.key"), "not read by the generator").unwrap();
    std::fs::write(dir.path().join("sa.pub"), "not read by the generator").unwrap();
    dir
}

/// The one ClusterConfiguration patch of a generated kind config, parsed.
fn cluster_configuration(config: &Value) -> Value {
    let patches = config["kubeadmConfigPatches"]
        .as_sequence()
        .expect("kubeadmConfigPatches");
    assert_eq!(patches.len(), 1, "one patch: {config:?}");
    serde_yaml::from_str(patches[0].as_str().expect("patch is a YAML string")).unwrap()
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
    let patch = cluster_configuration(&yaml);
    assert_eq!(patch["apiVersion"].as_str(), Some("kubeadm.k8s.io/v1beta4"));
    assert_eq!(patch["kind"].as_str(), Some("ClusterConfiguration"));
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
fn kind_config_v1beta3_uses_extra_args_maps_with_the_same_flags() {
    let keys = key_dir();
    let mut cfg = KindConfig::new("irsa", ISSUER, keys.path());
    cfg.kubeadm_api = KubeadmApi::V1beta3;
    cfg.node_image = Some("kindest/node:v1.30.0".into());
    let yaml: Value = serde_yaml::from_str(&cfg.to_yaml()).unwrap();
    assert_eq!(
        yaml["nodes"][0]["image"].as_str(),
        Some("kindest/node:v1.30.0")
    );
    let patch = cluster_configuration(&yaml);
    assert_eq!(patch["apiVersion"].as_str(), Some("kubeadm.k8s.io/v1beta3"));
    let map = patch["apiServer"]["extraArgs"]
        .as_mapping()
        .expect("a map in v1beta3");
    let got: Vec<(String, String)> = map
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
        .collect();
    assert_eq!(got, owned(cfg.apiserver_args()));
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

/// `$IRSA_EMULATOR_BIN` (scripts/test.sh sets it), else `<target>/debug/irsa-emulator`.
fn emulator_binary() -> PathBuf {
    std::env::var_os("IRSA_EMULATOR_BIN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| repo_root().join("target"))
                .join("debug/irsa-emulator")
        })
}

struct KindDown {
    name: String,
    cache: PathBuf,
}

impl Drop for KindDown {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repo_root().join("scripts/kind-down.sh"))
            .arg(&self.name)
            .env("IRSA_CACHE_DIR", &self.cache)
            .status();
    }
}

#[test]
fn kind_up_makes_the_api_server_the_emulator_issuer_and_kind_down_removes_it() {
    if irsa_e2e::docker::skip_without_engine("kind-up.sh/kind-down.sh were not exercised") {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let name = format!("irsa-e2e-{}", std::process::id());
    let _down = KindDown {
        name: name.clone(),
        cache: cache.path().to_path_buf(),
    };
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/kind-up.sh"))
        .arg(&name)
        .env("IRSA_CACHE_DIR", cache.path())
        .env("IRSA_KIND_PORT", "18444")
        .env("IRSA_EMULATOR_BIN", emulator_binary())
        .env(
            "IRSA_KIND_CONFIG_BIN",
            env!("CARGO_BIN_EXE_irsa-kind-config"),
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "kind-up.sh failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // kind-up.sh itself checks the API server's discovery names the emulator's issuer; check its promises.
    let state = cache.path().join("kind").join(&name);
    for line in [
        "export KUBECONFIG=",
        "AWS_ENDPOINT_URL",
        "AWS_CA_BUNDLE",
        "export IRSA_KIND_ISSUER=https://",
    ] {
        assert!(
            stdout.contains(line),
            "no {line} in the export lines:\n{stdout}"
        );
    }
    let kubeconfig = state.join("kubeconfig");
    let kubectl = irsa_e2e::controlplane::kubectl_binary().expect("kubectl");

    // DescribeCluster (the real AWS CLI, with kind-up.sh's export lines) reports the kind API server's URL and
    // CA: kind-up.sh sets them once kind created the API server.
    let server = Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["config", "view", "--raw", "-o"])
        .arg("jsonpath={.clusters[0].cluster.server}|{.clusters[0].cluster.certificate-authority-data}")
        .output()
        .unwrap();
    let server = String::from_utf8_lossy(&server.stdout).to_string();
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "eval \"$(cat {})\" && aws eks describe-cluster --name {name} --output text \
             --query 'join(`|`, [cluster.endpoint, cluster.certificateAuthority.data])'",
            state.join("env").display()
        ))
        .output()
        .expect("bash and the AWS CLI (scripts/test.sh puts its venv on PATH)");
    assert!(
        out.status.success(),
        "aws eks describe-cluster: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), server.trim());
    let out = Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args([
            "get",
            "mutatingwebhookconfiguration",
            "irsa-emulator",
            "-o",
            "name",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = Command::new("bash")
        .arg(repo_root().join("scripts/kind-down.sh"))
        .arg(&name)
        .env("IRSA_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!state.exists(), "kind-down.sh left {}", state.display());
    let out = Command::new("kind").args(["get", "clusters"]).output();
    if let Ok(out) = out {
        assert!(!String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l == name));
    }
}
