//! A real, node-less Kubernetes control plane for tests: etcd and
//! kube-apiserver (built from the Go module in `e2e/controlplane/` by
//! `scripts/controlplane.sh`), configured as an IRSA service-account token
//! issuer, on free loopback ports in a temporary directory.
//!
//! No controller-manager runs: namespaces get no `default` ServiceAccount and
//! no `kube-root-ca.crt` ConfigMap, so tests create the ServiceAccounts they use.
//! No kubelet runs either: Pods are stored (and admitted, mutated by webhooks)
//! but never started.
//!
//! Environment:
//! - `IRSA_CONTROLPLANE_BIN`: directory holding `kube-apiserver` and `etcd`;
//!   when unset, `scripts/controlplane.sh` is run (it builds them once and
//!   caches them) and its output is used.
//! - `IRSA_KUBECTL`: the kubectl binary; else `<cache>/bin/kubectl` as
//!   installed by `scripts/install-kubectl.sh`; else `kubectl` on `PATH`.
//! - `IRSA_CONTROLPLANE_TIMEOUT_SECS`: how long to wait for `/readyz` (90).
//! - `IRSA_KEEP_CONTROLPLANE_DIR=1`: keep the temp dir (logs, etcd data) when
//!   the control plane is dropped, and print where it is.
//! - `IRSA_SKIP_CONTROLPLANE=1`: read by tests through [`skip_requested`].

mod binaries;
mod config;
mod exit_cleanup;
mod prepare;
mod process;
mod spawn;
mod tls;

use std::env;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

pub use binaries::{
    cache_dir, controlplane_bin_dir, is_executable, kubectl_binary, repo_root, script_built_dir,
    skip_requested,
};
pub use config::ControlPlaneConfig;
use prepare::{free_ports, kubeconfig_yaml, random_token, write_private};
use process::{log_tail, wait_for_apiserver, wait_for_etcd, Proc, StartError};

/// The audience AWS STS requires in web identity tokens.
pub use irsa_names::STS_AUDIENCE;

const ADMIN_USER: &str = "irsa-e2e-admin";
const SERVICE_CLUSTER_IP_RANGE: &str = "10.0.0.0/24";
const LOG_TAIL_LINES: usize = 60;

/// A running etcd + kube-apiserver. Dropping it kills and reaps both and
/// removes its temporary directory.
pub struct ControlPlane {
    // Field order is drop order: apiserver, then etcd, then the directory.
    apiserver: Proc,
    etcd: Proc,
    dir: Option<tempfile::TempDir>,
    keep_dir: bool,
    kubeconfig: PathBuf,
    ca_file: PathBuf,
    server_url: String,
    addr: SocketAddr,
    token: String,
    tls: Arc<rustls::ClientConfig>,
}

impl ControlPlane {
    /// Start etcd and kube-apiserver and wait until `/readyz` answers ok.
    pub fn start(cfg: ControlPlaneConfig) -> Result<ControlPlane> {
        cfg.validate()?;
        let bin = controlplane_bin_dir()?;
        const ATTEMPTS: usize = 3;
        for attempt in 1..=ATTEMPTS {
            match Self::start_once(&cfg, &bin) {
                Ok(cp) => return Ok(cp),
                Err(e) if e.port_clash && attempt < ATTEMPTS => {
                    eprintln!("irsa-e2e: port taken while starting the control plane; retrying");
                }
                Err(e) => return Err(e.error.context("starting the e2e control plane")),
            }
        }
        unreachable!("the last attempt returns")
    }

    fn start_once(cfg: &ControlPlaneConfig, bin: &Path) -> Result<ControlPlane, StartError> {
        let keep_dir = env::var("IRSA_KEEP_CONTROLPLANE_DIR").is_ok_and(|v| v == "1");
        let dir = tempfile::Builder::new()
            .prefix("irsa-controlplane-")
            .tempdir()
            .context("creating the control plane's temp dir")?;
        let root = dir.path();
        let pki = root.join("pki");
        fs::create_dir_all(&pki)?;

        let certs = tls::serving_cert()?;
        let ca_file = pki.join("ca.crt");
        let cert_file = pki.join("apiserver.crt");
        let key_file = pki.join("apiserver.key");
        fs::write(&ca_file, &certs.ca_pem)?;
        fs::write(&cert_file, &certs.cert_pem)?;
        write_private(&key_file, certs.key_pem.as_bytes())?;
        let tls = tls::client_config(certs.ca_der.clone())?;

        let token = random_token();
        let token_file = root.join("tokens.csv");
        write_private(
            &token_file,
            format!("{token},{ADMIN_USER},{ADMIN_USER},\"system:masters\"\n").as_bytes(),
        )?;

        let [etcd_client, etcd_peer, secure_port] = free_ports()?;
        let loopback = Ipv4Addr::LOCALHOST;
        let etcd_url = format!("http://{loopback}:{etcd_client}");
        let peer_url = format!("http://{loopback}:{etcd_peer}");
        let etcd_args = vec![
            "--name=irsa-e2e".to_string(),
            format!("--data-dir={}", root.join("etcd").display()),
            format!("--listen-client-urls={etcd_url}"),
            format!("--advertise-client-urls={etcd_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=irsa-e2e={peer_url}"),
            "--unsafe-no-fsync=true".to_string(),
            "--log-level=warn".to_string(),
        ];
        let mut etcd = Proc::spawn("etcd", &bin.join("etcd"), &etcd_args, root.join("etcd.log"))?;
        wait_for_etcd(&mut etcd, SocketAddr::from((loopback, etcd_client)))?;

        let mut apiserver_args = vec![
            format!("--etcd-servers={etcd_url}"),
            format!("--bind-address={loopback}"),
            format!("--advertise-address={loopback}"),
            format!("--secure-port={secure_port}"),
            format!("--cert-dir={}", pki.display()),
            format!("--tls-cert-file={}", cert_file.display()),
            format!("--tls-private-key-file={}", key_file.display()),
            format!("--token-auth-file={}", token_file.display()),
            "--authorization-mode=RBAC".to_string(),
            format!("--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}"),
            "--allow-privileged=true".to_string(),
            "--enable-priority-and-fairness=false".to_string(),
            "--profiling=false".to_string(),
        ];
        // The issuer flags from the one function `irsa-emulator cluster create` prints and kind gets.
        apiserver_args.extend(irsa_names::apiserver_issuer_flags(
            &cfg.issuer,
            &cfg.signing_key_file,
            &cfg.public_key_file,
            &cfg.api_audiences,
        ));
        let mut apiserver = Proc::spawn(
            "kube-apiserver",
            &bin.join("kube-apiserver"),
            &apiserver_args,
            root.join("apiserver.log"),
        )?;
        let addr = SocketAddr::from((loopback, secure_port));
        wait_for_apiserver(&mut apiserver, &etcd, &tls, addr, &token)?;

        let server_url = format!("https://{addr}");
        let kubeconfig = root.join("kubeconfig");
        write_private(
            &kubeconfig,
            kubeconfig_yaml(&server_url, &certs.ca_pem, &token).as_bytes(),
        )?;

        if !keep_dir {
            exit_cleanup::remove_at_exit(root, vec![apiserver.child.id(), etcd.child.id()]);
        }
        Ok(ControlPlane {
            apiserver,
            etcd,
            dir: Some(dir),
            keep_dir,
            kubeconfig,
            ca_file,
            server_url,
            addr,
            token,
            tls,
        })
    }

    /// A kubeconfig for the admin user (group `system:masters`), trusting the
    /// control plane's CA.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// `https://127.0.0.1:<port>`.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// PEM of the CA that signed the apiserver's serving certificate.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The admin bearer token (also in [`kubeconfig`](Self::kubeconfig)).
    pub fn admin_token(&self) -> &str {
        &self.token
    }

    /// The temporary directory holding logs, certificates and etcd's data.
    pub fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .map(|d| d.path())
            .expect("dir is set until drop")
    }

    /// kube-apiserver's stdout + stderr.
    pub fn apiserver_log(&self) -> &Path {
        &self.apiserver.log
    }

    /// etcd's stdout + stderr.
    pub fn etcd_log(&self) -> &Path {
        &self.etcd.log
    }

    /// The last `lines` lines of kube-apiserver's log, for failure messages.
    pub fn apiserver_log_tail(&self, lines: usize) -> String {
        log_tail(&self.apiserver.log, lines)
    }

    /// Process ids of kube-apiserver and etcd.
    pub fn pids(&self) -> Vec<u32> {
        vec![self.apiserver.child.id(), self.etcd.child.id()]
    }

    /// kubectl (see [`kubectl_binary`]) with `--kubeconfig` set. If none is
    /// found this is a `kubectl` command that will fail to spawn; call
    /// [`kubectl_binary`] first for a clear error.
    pub fn kubectl(&self) -> Command {
        let bin = kubectl_binary().unwrap_or_else(|_| PathBuf::from("kubectl"));
        let mut cmd = Command::new(bin);
        cmd.env_remove("KUBECONFIG")
            .arg(format!("--kubeconfig={}", self.kubeconfig.display()));
        cmd
    }

    /// Run kubectl with `args`; its stdout, or an error with its stderr.
    pub fn run_kubectl<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Result<String> {
        let shown = args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let bin = kubectl_binary()?;
        let out = self
            .kubectl()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {} {shown}", bin.display()))?;
        if !out.status.success() {
            bail!(
                "kubectl {shown} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `GET path` on the apiserver as the admin: status code and body (e.g.
    /// `/.well-known/openid-configuration`, `/openid/v1/jwks`).
    pub fn get_raw(&self, path: &str) -> Result<(u16, String)> {
        tls::https_get(&self.tls, self.addr, &self.token, path)
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        // Processes first (fields would drop after this body), then the dir.
        for proc in [&mut self.apiserver, &mut self.etcd] {
            let _ = proc.child.kill();
            let _ = proc.child.wait();
        }
        if let Some(dir) = self.dir.take() {
            exit_cleanup::forget(dir.path());
            if self.keep_dir {
                let path = dir.keep();
                eprintln!("irsa-e2e: kept control plane dir {}", path.display());
            }
        }
    }
}
