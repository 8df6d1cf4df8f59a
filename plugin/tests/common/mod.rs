//! Shared by the plugin's integration tests: the emulator (in-process, HTTPS with its own CA) acting as AWS,
//! one emulated EKS cluster whose issuer a real kube-apiserver (no nodes) uses, and helpers that run the
//! built `kubectl-irsa` binary against both, as a user would.
//!
//! One environment per test binary, built on first use and shared; tests take [`env`]'s lock so that a test
//! that breaks shared state on purpose (e.g. deletes the OIDC provider) cannot disturb another.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};

use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use irsa_e2e::controlplane::{self, ControlPlane, ControlPlaneConfig};
use irsa_emulator::{config, Config, Emulator};
use kubectl_irsa::aws::Aws;
use serde_json::Value;

/// The built plugin: `KUBECTL_IRSA_BIN` (set by scripts/test.sh), else cargo's.
pub fn plugin_bin() -> PathBuf {
    std::env::var_os("KUBECTL_IRSA_BIN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_kubectl-irsa")))
}

pub struct Env {
    pub rt: tokio::runtime::Runtime,
    pub emulator: Emulator,
    pub dir: tempfile::TempDir,
    pub ca_path: PathBuf,
    pub cluster: String,
    pub issuer: String,
    pub cp: ControlPlane,
    pub aws: Aws,
    /// The region the emulator serves and the plugin is configured for; its partition is the account's.
    pub region: &'static str,
}

static ENV: OnceLock<Option<Env>> = OnceLock::new();
static LOCK: Mutex<()> = Mutex::new(());

/// The shared environment and the lock that serialises tests using it; `None` (test skipped) when
/// `IRSA_SKIP_CONTROLPLANE=1`.
pub fn env() -> Option<(&'static Env, MutexGuard<'static, ()>)> {
    env_in("us-east-1")
}

/// [`env`] with the emulator serving `region` (`cn-north-1` is AWS China, `us-gov-west-1` GovCloud): one
/// region per test binary, since the environment is built once.
pub fn env_in(region: &'static str) -> Option<(&'static Env, MutexGuard<'static, ()>)> {
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let env = ENV.get_or_init(|| {
        if controlplane::skip_requested() {
            eprintln!("IRSA_SKIP_CONTROLPLANE=1: skipping tests that need the control plane");
            return None;
        }
        Some(Env::start(region))
    });
    if let Some(env) = env {
        assert_eq!(env.region, region, "one region per test binary");
    }
    env.as_ref().map(|e| (e, guard))
}

/// An SDK configuration for the emulator, trusting only its CA, with the admin credentials.
pub fn sdk_config(emulator: &Emulator) -> aws_config::SdkConfig {
    sdk_config_in(emulator, "us-east-1")
}

/// [`sdk_config`] for a region other than us-east-1.
pub fn sdk_config_in(emulator: &Emulator, region: &str) -> aws_config::SdkConfig {
    let trust = TrustStore::empty().with_pem_certificate(emulator.ca_pem().unwrap().as_bytes());
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(trust)
                .build()
                .unwrap(),
        )
        .build_https();
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(emulator.url())
        .credentials_provider(aws_sdk_iam::config::SharedCredentialsProvider::new(
            Credentials::new(
                config::DEFAULT_ADMIN_ACCESS_KEY_ID,
                config::DEFAULT_ADMIN_SECRET_ACCESS_KEY,
                None,
                None,
                "kubectl-irsa-tests",
            ),
        ))
        .http_client(http_client)
        .build()
}

impl Env {
    fn start(region: &'static str) -> Env {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emulator = rt
            .block_on(irsa_emulator::start(Config {
                region: region.to_string(),
                ..Config::ephemeral()
            }))
            .expect("emulator starts");
        let dir = tempfile::tempdir().unwrap();
        let ca_path = dir.path().join("ca.pem");
        std::fs::write(&ca_path, emulator.ca_pem().unwrap()).unwrap();
        let cluster = "test-cluster".to_string();
        let info = rt.block_on(create_cluster(&emulator, &cluster));
        let key = dir.path().join("sa.key");
        let public = dir.path().join("sa.pub");
        std::fs::write(&key, info.signing_key_pem.as_deref().unwrap()).unwrap();
        std::fs::write(&public, info.public_key_pem.as_deref().unwrap()).unwrap();
        let cp = ControlPlane::start(ControlPlaneConfig::new(&info.issuer, &key, &public))
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start the control plane (scripts/test.sh installs it; IRSA_CONTROLPLANE_BIN; \
                     IRSA_SKIP_CONTROLPLANE=1 skips): {e:?}"
                )
            });
        let aws = Aws::from_config(&sdk_config_in(&emulator, region));
        let env = Env {
            rt,
            emulator,
            dir,
            ca_path,
            cluster,
            issuer: info.issuer,
            cp,
            aws,
            region,
        };
        // Every test needs the OIDC provider; associating it is itself tested (idempotency, thumbprint).
        env.ok(&["oidc", "associate", "--cluster", "test-cluster"]);
        env
    }

    /// The plugin with the environment a user of the emulator would have, and `--kubeconfig`.
    pub fn plugin(&self) -> Command {
        let mut cmd = self.plugin_without_kubeconfig();
        cmd.arg(format!("--kubeconfig={}", self.cp.kubeconfig().display()));
        cmd
    }

    /// The plugin with the emulator's AWS environment and no kubeconfig at all.
    pub fn plugin_without_kubeconfig(&self) -> Command {
        let mut cmd = Command::new(plugin_bin());
        isolate(&mut cmd, self.dir.path());
        cmd.env("AWS_ENDPOINT_URL", self.emulator.url())
            .env("AWS_CA_BUNDLE", &self.ca_path)
            .env("AWS_ACCESS_KEY_ID", config::DEFAULT_ADMIN_ACCESS_KEY_ID)
            .env(
                "AWS_SECRET_ACCESS_KEY",
                config::DEFAULT_ADMIN_SECRET_ACCESS_KEY,
            )
            .env("AWS_REGION", self.region);
        cmd
    }

    /// Run the plugin with `args`.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = self
            .plugin()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("plugin runs");
        Run::new(args, out)
    }

    /// Run the plugin; panic (with its output) unless it succeeds. Returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, 0, "{run}");
        run.stdout
    }

    pub fn kubectl(&self, args: &[&str]) -> String {
        self.cp
            .run_kubectl(args)
            .unwrap_or_else(|e| panic!("kubectl {args:?}: {e:#}"))
    }

    pub fn kubectl_json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.kubectl(&all)).expect("kubectl prints JSON")
    }

    /// The service account as JSON, or `None` if it does not exist.
    pub fn service_account(&self, ns: &str, name: &str) -> Option<Value> {
        self.cp
            .run_kubectl(&["get", "serviceaccount", name, "-n", ns, "-o", "json"])
            .ok()
            .map(|s| serde_json::from_str(&s).unwrap())
    }

    /// Exchange a real service-account token for `ns/name` (from the API server) at the emulator's STS, signed
    /// for the environment's region: the assumed-role ARN, or "code: message".
    pub fn assume(
        &self,
        ns: &str,
        name: &str,
        role_arn: &str,
        session: &str,
    ) -> Result<String, String> {
        use aws_sdk_sts::error::ProvideErrorMetadata;
        let token = self.kubectl(&[
            "create",
            "token",
            name,
            "-n",
            ns,
            "--audience",
            irsa_names::STS_AUDIENCE,
        ]);
        let sts = aws_sdk_sts::Client::new(&sdk_config_in(&self.emulator, self.region));
        self.block_on(
            sts.assume_role_with_web_identity()
                .role_arn(role_arn)
                .role_session_name(session)
                .web_identity_token(token.trim())
                .send(),
        )
        .map(|out| out.assumed_role_user.map(|u| u.arn).unwrap_or_default())
        .map_err(|e| {
            format!(
                "{}: {}",
                e.code().unwrap_or("?"),
                e.message().unwrap_or("?")
            )
        })
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub fn provider_arn(&self) -> String {
        self.aws_account().provider_arn(&self.issuer)
    }

    pub fn account(&self) -> &'static str {
        config::DEFAULT_ACCOUNT_ID
    }

    /// The emulated account in its region's partition, as `kubectl irsa` learns it from GetCallerIdentity.
    pub fn aws_account(&self) -> irsa_policy::Account {
        irsa_policy::Account::new(
            irsa_policy::partition_of_region(self.region),
            self.account(),
        )
    }

    /// Create a customer managed policy allowing `action` and return its ARN.
    pub fn create_policy(&self, name: &str, action: &str) -> String {
        let doc = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{ "Effect": "Allow", "Action": action, "Resource": "*" }]
        });
        self.block_on(async {
            match self
                .aws
                .iam
                .create_policy()
                .policy_name(name)
                .policy_document(doc.to_string())
                .send()
                .await
            {
                Ok(out) => out.policy.and_then(|p| p.arn).unwrap(),
                Err(_) => format!("arn:aws:iam::{}:policy/{name}", config::DEFAULT_ACCOUNT_ID),
            }
        })
    }
}

/// Keep the developer's own AWS and kube configuration out of the plugin's way.
pub fn isolate(cmd: &mut Command, home: &Path) {
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_EKS",
        "AWS_ENDPOINT_URL_STS",
        "KUBECONFIG",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

/// A finished plugin run.
pub struct Run {
    pub args: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn new(args: &[&str], out: Output) -> Run {
        Run {
            args: args.join(" "),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self}"))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "kubectl-irsa {} exited {}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }
}

/// Creates a cluster through the emulator's admin API.
pub async fn create_cluster(emulator: &Emulator, name: &str) -> irsa_emulator::admin::ClusterInfo {
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(emulator.ca_pem().unwrap().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let response = client
        .post(format!("{}/_emulator/clusters", emulator.url()))
        .bearer_auth(config::DEFAULT_ADMIN_SECRET_ACCESS_KEY)
        .json(&serde_json::json!({ "name": name }))
        .send()
        .await
        .expect("admin API reachable");
    assert_eq!(response.status(), 201, "cluster {name} created");
    response.json().await.expect("cluster info")
}
