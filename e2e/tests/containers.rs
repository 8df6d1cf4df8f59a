//! Containers, for machines with Docker (the e2e-kind workflow's runner):
//! - the emulator image built from the repository's Dockerfile answers the real AWS CLI;
//! - k3s (testcontainers-modules) with an emulator cluster as its service-account issuer runs seed 001's
//!   aws-cli pod, which the emulator's webhook mutates and whose `aws sts get-caller-identity` is the role.
//!
//! Without a Docker engine each test prints "skipped: …" with what it would have checked, and returns.
//!
//! Environment: `IRSA_EMULATOR_IMAGE` (an already built image, e.g. `irsa-emulator:ci`: no `docker build`),
//! `IRSA_EMULATOR_BIN` (the emulator binary the k3s test runs on the host), `IRSA_KUBECTL`, and `aws` on PATH.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use irsa_e2e::controlplane::{kubectl_binary, repo_root};
use irsa_emulator::config::{
    DEFAULT_ACCOUNT_ID, DEFAULT_ADMIN_ACCESS_KEY_ID, DEFAULT_ADMIN_SECRET_ACCESS_KEY,
};
use testcontainers_modules::k3s::{K3s, KUBE_SECURE_PORT};
use testcontainers_modules::testcontainers::core::{
    ExecCommand, IntoContainerPort, Mount, WaitFor,
};
use testcontainers_modules::testcontainers::runners::AsyncRunner;
use testcontainers_modules::testcontainers::{GenericImage, ImageExt};

/// Checked once per test, before anything touches testcontainers.
fn skip_without_docker(would_check: &str) -> bool {
    irsa_e2e::docker::skip_without_engine(would_check)
}

/// The AWS CLI pointed at an emulator as its admin, with nothing from the user's own AWS config.
fn aws(endpoint: &str, ca_bundle: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new("aws")
        .args(args)
        .args(["--output", "json"])
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_CA_BUNDLE", ca_bundle)
        .env("AWS_ACCESS_KEY_ID", DEFAULT_ADMIN_ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", DEFAULT_ADMIN_SECRET_ACCESS_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("the AWS CLI (`aws`) on PATH: scripts/test.sh puts its venv there");
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

/// `IRSA_EMULATOR_IMAGE`, else `docker build` of the repository's Dockerfile. Shelling out rather than
/// testcontainers' GenericBuildableImage: the Dockerfile relies on BuildKit cache mounts and the context on
/// .dockerignore (target/ stays out), both of which `docker build` honours.
fn emulator_image() -> (String, String) {
    if let Some(image) = std::env::var("IRSA_EMULATOR_IMAGE")
        .ok()
        .filter(|v| !v.is_empty())
    {
        let (name, tag) = image.rsplit_once(':').unwrap_or((&image, "latest"));
        return (name.to_string(), tag.to_string());
    }
    let (name, tag) = ("irsa-emulator", "e2e");
    let status = Command::new("docker")
        .args(["build", "-t", &format!("{name}:{tag}"), "."])
        .current_dir(repo_root())
        .env("DOCKER_BUILDKIT", "1")
        .status()
        .expect("docker build runs");
    assert!(
        status.success(),
        "docker build of the repository's Dockerfile failed"
    );
    (name.to_string(), tag.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn emulator_image_answers_the_aws_cli() {
    if skip_without_docker(
        "the emulator image built from the Dockerfile was not run against `aws iam create-role` and \
         `aws sts get-caller-identity`",
    ) {
        return;
    }
    let (name, tag) = emulator_image();
    let container = GenericImage::new(name, tag)
        .with_exposed_port(8443.tcp())
        .with_wait_for(WaitFor::message_on_stderr("irsa-emulator listening on"))
        .with_cmd([
            "serve",
            "--listen=0.0.0.0:8443",
            "--data-dir=/data",
            "--hostname=localhost",
            "--hostname=127.0.0.1",
        ])
        .with_startup_timeout(Duration::from_secs(60))
        .start()
        .await
        .expect("the emulator container starts");
    let host = container.get_host().await.unwrap();
    let port = container.get_host_port_ipv4(8443.tcp()).await.unwrap();
    // The CA the image generated on its first start, as a user would copy it out.
    let mut cat = container
        .exec(ExecCommand::new(["cat", "/data/ca.pem"]))
        .await
        .unwrap();
    let ca_pem = cat.stdout_to_vec().await.unwrap();
    assert!(
        String::from_utf8_lossy(&ca_pem).contains("BEGIN CERTIFICATE"),
        "no CA in /data/ca.pem"
    );
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let endpoint = format!("https://{host}:{port}");

    let identity = aws(&endpoint, &ca, &["sts", "get-caller-identity"]);
    assert_eq!(identity["Account"], DEFAULT_ACCOUNT_ID, "{identity}");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let created = aws(
        &endpoint,
        &ca,
        &[
            "iam",
            "create-role",
            "--role-name",
            "from-the-image",
            "--assume-role-policy-document",
            trust,
        ],
    );
    assert_eq!(
        created["Role"]["Arn"],
        format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/from-the-image"),
        "{created}"
    );
    let got = aws(
        &endpoint,
        &ca,
        &["iam", "get-role", "--role-name", "from-the-image"],
    );
    assert_eq!(got["Role"]["RoleName"], "from-the-image", "{got}");
}

/// `irsa-emulator serve` on the host, killed when dropped.
struct HostEmulator {
    child: Child,
}

impl Drop for HostEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn emulator_binary() -> PathBuf {
    std::env::var_os("IRSA_EMULATOR_BIN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/debug/irsa-emulator"))
}

/// Serves on all interfaces (pods reach it at the Docker network's gateway), the certificate valid for `host`.
fn serve_on_host(data: &Path, host: &str, port: u16, kubeconfig: Option<&Path>) -> HostEmulator {
    let mut cmd = Command::new(emulator_binary());
    cmd.arg("serve")
        .arg(format!("--listen=0.0.0.0:{port}"))
        .arg("--data-dir")
        .arg(data)
        .args(["--hostname", host, "--hostname", "127.0.0.1"])
        .arg(format!("--public-url=https://{host}:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(k) = kubeconfig {
        cmd.arg("--kubeconfig").arg(k);
    }
    let child = cmd
        .spawn()
        .expect("irsa-emulator serve starts (IRSA_EMULATOR_BIN)");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        || !data.join("ca.pem").exists()
    {
        assert!(
            Instant::now() < deadline,
            "the emulator did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    HostEmulator { child }
}

fn emulator_cli(args: &[&str], url: &str, data: &Path) -> String {
    let out = Command::new(emulator_binary())
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("AWS_ENDPOINT_URL", url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "irsa-emulator {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn kubectl(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
    use std::io::Write as _;
    let mut child = Command::new(kubectl_binary().expect("kubectl"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn free_port() -> u16 {
    TcpListener::bind(("0.0.0.0", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Seed 001: a ServiceAccount annotated with the role, and a pod of the AWS CLI image running as it.
fn seed_manifests(role_arn: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: irsa-test
  namespace: default
  annotations:
    eks.amazonaws.com/role-arn: "{role_arn}"
---
apiVersion: v1
kind: Pod
metadata:
  name: irsa-test
  namespace: default
spec:
  serviceAccountName: irsa-test
  restartPolicy: Never
  containers:
  - name: irsa
    image: public.ecr.aws/aws-cli/aws-cli:2.25.4
    command: ['sh', '-c', 'aws sts get-caller-identity --output json']
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn k3s_pod_gets_the_role_through_the_emulator() {
    if skip_without_docker(
        "k3s was not started with an emulator cluster as its service-account issuer, and seed 001's aws-cli \
         pod did not print get-caller-identity",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let keys = dir.path().join("keys");
    let k3s_conf = dir.path().join("k3s");
    std::fs::create_dir_all(&k3s_conf).unwrap();
    // k3s runs on the default bridge network: its pods reach the host at that network's gateway.
    let host = irsa_e2e::docker::network_gateway("bridge").expect("the bridge network's gateway");
    let port = free_port();
    let local_url = format!("https://127.0.0.1:{port}");
    let pod_url = format!("https://{host}:{port}");

    // 1. The emulator cluster: issuer and keys, before k3s (its API server needs them to start).
    let first = serve_on_host(&data, &host, port, None);
    let created = emulator_cli(
        &[
            "cluster",
            "create",
            "k3s",
            "--out-dir",
            keys.to_str().unwrap(),
        ],
        &local_url,
        &data,
    );
    let issuer = created
        .lines()
        .find_map(|l| l.strip_prefix("issuer:"))
        .map(|s| s.trim().to_string())
        .expect("cluster create prints the issuer");

    // 2. k3s, its API server signing with the emulator cluster's key under its issuer.
    let audiences = irsa_emulator::clusters::default_api_audiences();
    let k3s = K3s::default()
        .with_conf_mount(&k3s_conf)
        .with_cmd(irsa_e2e::k3s::server_args(&issuer, &audiences))
        .with_mount(Mount::bind_mount(
            keys.to_str().unwrap(),
            irsa_e2e::k3s::NODE_KEY_DIR,
        ))
        .with_privileged(true)
        .with_userns_mode("host")
        .with_startup_timeout(Duration::from_secs(180))
        .start()
        .await
        .expect("k3s starts");
    let api_port = k3s.get_host_port_ipv4(KUBE_SECURE_PORT).await.unwrap();
    let kubeconfig_text = k3s
        .image()
        .read_kube_config()
        .expect("k3s wrote k3s.yaml")
        .replace(
            "https://127.0.0.1:6443",
            &format!("https://127.0.0.1:{api_port}"),
        );
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kubeconfig_text).unwrap();
    let discovery = kubectl(
        &kubeconfig,
        &["get", "--raw", "/.well-known/openid-configuration"],
        None,
    )
    .expect("k3s serves OIDC discovery");
    assert!(discovery.contains(&issuer), "k3s issuer: {discovery}");

    // 3. The emulator again, now reading the cluster's ServiceAccounts; the webhook registered.
    drop(first);
    let _emulator = serve_on_host(&data, &host, port, Some(&kubeconfig));
    emulator_cli(
        &[
            "webhook",
            "install",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--url",
            &pod_url,
        ],
        &local_url,
        &data,
    );

    // 4. IAM as seed 001 sets it up: the cluster's OIDC provider and a role trusting default/irsa-test.
    let ca = data.join("ca.pem");
    let provider = issuer.trim_start_matches("https://");
    aws(
        &local_url,
        &ca,
        &[
            "iam",
            "create-open-id-connect-provider",
            "--url",
            &issuer,
            "--client-id-list",
            "sts.amazonaws.com",
        ],
    );
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:oidc-provider/{provider}") },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": { "StringEquals": {
                format!("{provider}:sub"): "system:serviceaccount:default:irsa-test"
            } }
        }]
    })
    .to_string();
    let role = aws(
        &local_url,
        &ca,
        &[
            "iam",
            "create-role",
            "--role-name",
            "AWSIRSATestRole",
            "--assume-role-policy-document",
            &trust,
        ],
    );
    let role_arn = role["Role"]["Arn"].as_str().unwrap().to_string();

    // 5. The pod. The webhook publishes its CA ConfigMap to each namespace; wait for it in default.
    let deadline = Instant::now() + Duration::from_secs(60);
    while kubectl(
        &kubeconfig,
        &["get", "configmap", "irsa-emulator-ca", "-n", "default"],
        None,
    )
    .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "no ConfigMap irsa-emulator-ca in default"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    kubectl(
        &kubeconfig,
        &["apply", "-f", "-"],
        Some(&seed_manifests(&role_arn)),
    )
    .expect("seed 001's ServiceAccount and pod are created");
    let pod = kubectl(
        &kubeconfig,
        &["get", "pod", "irsa-test", "-o", "json"],
        None,
    )
    .unwrap();
    let pod: serde_json::Value = serde_json::from_str(&pod).unwrap();
    let env: BTreeMap<String, String> = pod["spec"]["containers"][0]["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                e["value"].as_str()?.to_string(),
            ))
        })
        .collect();
    assert_eq!(
        env.get("AWS_ROLE_ARN"),
        Some(&role_arn),
        "the webhook did not mutate the pod: {pod}"
    );
    let waited = kubectl(
        &kubeconfig,
        &[
            "wait",
            "pod/irsa-test",
            "--for=jsonpath={.status.phase}=Succeeded",
            "--timeout=300s",
        ],
        None,
    );
    let logs = kubectl(&kubeconfig, &["logs", "irsa-test"], None).unwrap_or_else(|e| e);
    if let Err(e) = waited {
        let described =
            kubectl(&kubeconfig, &["describe", "pod", "irsa-test"], None).unwrap_or_else(|e| e);
        panic!("the aws-cli pod did not succeed: {e}\n--- logs ---\n{logs}\n--- describe ---\n{described}");
    }
    let identity: serde_json::Value = serde_json::from_str(logs.trim())
        .unwrap_or_else(|e| panic!("pod output is not get-caller-identity JSON ({e}): {logs}"));
    let arn = identity["Arn"].as_str().unwrap_or_default();
    assert!(
        arn.starts_with(&format!(
            "arn:aws:sts::{DEFAULT_ACCOUNT_ID}:assumed-role/AWSIRSATestRole/"
        )),
        "{identity}"
    );
    assert_eq!(identity["Account"], DEFAULT_ACCOUNT_ID, "{identity}");
}
