//! The emulator image built from the repository's Dockerfile, run with testcontainers, answers the real AWS CLI.
//! Pods in a cluster are tests/kind_pods.rs (kind, through scripts/kind-up.sh).
//!
//! Without a Docker engine the test prints "skipped: …" with what it would have checked, and returns.
//!
//! Environment: `IRSA_EMULATOR_IMAGE` (an already built image; scripts/test.sh builds `irsa-emulator:local`
//! offline with scripts/local-images.sh), else the test builds it the same way; `aws` on PATH.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use irsa_e2e::controlplane::repo_root;
use irsa_emulator::config::{
    DEFAULT_ACCOUNT_ID, DEFAULT_ADMIN_ACCESS_KEY_ID, DEFAULT_ADMIN_SECRET_ACCESS_KEY,
};
use testcontainers::core::{ExecCommand, IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{GenericImage, ImageExt};

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
        .env("AWS_DEFAULT_REGION", "us-east-1")
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

/// `IRSA_EMULATOR_IMAGE`, else scripts/local-images.sh's build of the repository's Dockerfile (local base
/// image, the cargo-built binary as its prebuilt stage: nothing is pulled).
fn emulator_image() -> (String, String) {
    let image = std::env::var("IRSA_EMULATOR_IMAGE")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            let binary = irsa_e2e::kind_cluster::built_binary("IRSA_EMULATOR_BIN", "irsa-emulator");
            let out = Command::new("bash")
                .arg(repo_root().join("scripts/local-images.sh"))
                .arg("emulator")
                .arg(binary)
                .stderr(Stdio::inherit())
                .output()
                .expect("scripts/local-images.sh runs");
            assert!(
                out.status.success(),
                "docker build of the repository's Dockerfile failed (output above)"
            );
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        });
    let (name, tag) = image.rsplit_once(':').unwrap_or((&image, "latest"));
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
    // A local engine (a unix socket) publishes on this machine's loopback — the suite's own binds nothing else.
    // testcontainers would take the bridge's gateway instead wherever /.dockerenv exists (these VMs' images
    // have one), which the suite's engine does not publish on.
    let local =
        std::env::var("DOCKER_HOST").map_or(true, |h| h.is_empty() || h.starts_with("unix://"));
    let host = if local {
        "127.0.0.1".to_string()
    } else {
        container.get_host().await.unwrap().to_string()
    };
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
