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

mod spawn;
mod tls;

use std::env;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;

/// The audience AWS STS requires in web identity tokens.
pub use irsa_emulator::clusters::STS_AUDIENCE;

const ADMIN_USER: &str = "irsa-e2e-admin";
const SERVICE_CLUSTER_IP_RANGE: &str = "10.0.0.0/24";
const LOG_TAIL_LINES: usize = 60;

/// How the control plane issues service-account tokens.
#[derive(Debug, Clone)]
pub struct ControlPlaneConfig {
    /// `--service-account-issuer`: the `iss` of every token it signs.
    pub issuer: String,
    /// `--service-account-signing-key-file`: PEM private key (PKCS#1 or PKCS#8).
    pub signing_key_file: PathBuf,
    /// `--service-account-key-file`: PEM public key verifying those tokens.
    pub public_key_file: PathBuf,
    /// `--api-audiences`; must include [`STS_AUDIENCE`].
    pub api_audiences: Vec<String>,
}

impl ControlPlaneConfig {
    /// A config whose `api_audiences` is just [`STS_AUDIENCE`].
    pub fn new(
        issuer: impl Into<String>,
        signing_key_file: impl Into<PathBuf>,
        public_key_file: impl Into<PathBuf>,
    ) -> Self {
        ControlPlaneConfig {
            issuer: issuer.into(),
            signing_key_file: signing_key_file.into(),
            public_key_file: public_key_file.into(),
            api_audiences: vec![STS_AUDIENCE.to_string()],
        }
    }

    fn validate(&self) -> Result<()> {
        if self.issuer.trim().is_empty() {
            bail!("ControlPlaneConfig.issuer is empty");
        }
        for (what, path) in [
            ("signing_key_file", &self.signing_key_file),
            ("public_key_file", &self.public_key_file),
        ] {
            if !path.is_file() {
                bail!("ControlPlaneConfig.{what} {} is not a file", path.display());
            }
        }
        if !self.api_audiences.iter().any(|a| a == STS_AUDIENCE) {
            bail!(
                "ControlPlaneConfig.api_audiences {:?} must include {STS_AUDIENCE:?}",
                self.api_audiences
            );
        }
        Ok(())
    }
}

/// `IRSA_SKIP_CONTROLPLANE=1`: tests that need a control plane return early
/// (saying why) instead of failing when the binaries are missing.
pub fn skip_requested() -> bool {
    env::var("IRSA_SKIP_CONTROLPLANE").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// The repository root (this crate lives in `<root>/e2e`).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The cache the scripts share: `$IRSA_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/kubectl-irsa`, else `$HOME/.cache/kubectl-irsa`.
pub fn cache_dir() -> PathBuf {
    let nonempty = |name: &str| env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = nonempty("IRSA_CACHE_DIR") {
        return dir.into();
    }
    if let Some(dir) = nonempty("XDG_CACHE_HOME") {
        return Path::new(&dir).join("kubectl-irsa");
    }
    let home = nonempty("HOME").unwrap_or_else(|| OsString::from("/tmp"));
    Path::new(&home).join(".cache").join("kubectl-irsa")
}

/// The directory holding `kube-apiserver` and `etcd`: `$IRSA_CONTROLPLANE_BIN`,
/// else what `scripts/controlplane.sh` prints (it builds them on first use,
/// which takes minutes). Resolved once per process.
pub fn controlplane_bin_dir() -> Result<PathBuf> {
    static BIN: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(find_bin_dir)
        .clone()
        .map_err(|e| anyhow!(e))
}

fn find_bin_dir() -> std::result::Result<PathBuf, String> {
    let check = |dir: PathBuf, origin: &str| {
        let missing: Vec<_> = ["kube-apiserver", "etcd"]
            .into_iter()
            .filter(|b| !is_executable(&dir.join(b)))
            .collect();
        if missing.is_empty() {
            Ok(dir)
        } else {
            Err(format!(
                "{origin} ({}) has no executable {}; build them with scripts/controlplane.sh",
                dir.display(),
                missing.join(", ")
            ))
        }
    };
    if let Some(dir) = env::var_os("IRSA_CONTROLPLANE_BIN").filter(|v| !v.is_empty()) {
        return check(dir.into(), "IRSA_CONTROLPLANE_BIN");
    }
    let script = repo_root().join("scripts").join("controlplane.sh");
    if !script.is_file() {
        return Err(format!(
            "IRSA_CONTROLPLANE_BIN is unset and {} does not exist",
            script.display()
        ));
    }
    eprintln!(
        "irsa-e2e: IRSA_CONTROLPLANE_BIN unset; running {} (the first build takes minutes)",
        script.display()
    );
    let out = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}), see its output above: kube-apiserver and etcd could not be built \
             (they need Go and the Go module proxy); scripts/test.sh installs them, or set \
             IRSA_CONTROLPLANE_BIN to a directory holding them",
            script.display(),
            out.status
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let dir = stdout.lines().last().unwrap_or("").trim();
    if dir.is_empty() {
        return Err(format!("{} printed no directory", script.display()));
    }
    check(
        dir.into(),
        &format!("the directory printed by {}", script.display()),
    )
}

/// The kubectl to use: `$IRSA_KUBECTL`, else `<cache>/bin/kubectl` (where
/// `scripts/install-kubectl.sh` puts one matching the apiserver's version),
/// else `kubectl` on `PATH`.
pub fn kubectl_binary() -> Result<PathBuf> {
    if let Some(path) = env::var_os("IRSA_KUBECTL").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        if !is_executable(&path) {
            bail!("IRSA_KUBECTL={} is not an executable file", path.display());
        }
        return Ok(path);
    }
    let cached = cache_dir().join("bin").join("kubectl");
    if is_executable(&cached) {
        return Ok(cached);
    }
    if let Some(found) = env::var_os("PATH").and_then(|paths| {
        env::split_paths(&paths)
            .map(|dir| dir.join("kubectl"))
            .find(|p| is_executable(p))
    }) {
        return Ok(found);
    }
    bail!(
        "kubectl not found: set IRSA_KUBECTL, run scripts/install-kubectl.sh (installs into {}), \
         or put kubectl on PATH",
        cached.parent().unwrap_or(&cached).display()
    )
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// One child process, killed and reaped when dropped.
struct Proc {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(name: &'static str, bin: &Path, args: &[String], log: PathBuf) -> Result<Proc> {
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        let child = spawn::spawn_tied(cmd)
            .with_context(|| format!("starting {name} ({})", bin.display()))?;
        Ok(Proc { name, child, log })
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn log_tail(&self) -> String {
        log_tail(&self.log, LOG_TAIL_LINES)
    }

    fn died(&self, status: ExitStatus) -> anyhow::Error {
        anyhow!(
            "{} exited early ({status})\n--- last lines of {} ---\n{}",
            self.name,
            self.log.display(),
            self.log_tail()
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("<cannot read: {e}>"));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

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

/// A failed start, and whether a port was taken between picking and binding.
struct StartError {
    error: anyhow::Error,
    port_clash: bool,
}

impl<E: Into<anyhow::Error>> From<E> for StartError {
    fn from(e: E) -> Self {
        StartError {
            error: e.into(),
            port_clash: false,
        }
    }
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
        apiserver_args.extend(irsa_emulator::clusters::apiserver_issuer_flags(
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
            if self.keep_dir {
                let path = dir.keep();
                eprintln!("irsa-e2e: kept control plane dir {}", path.display());
            }
        }
    }
}

fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(contents)?;
    Ok(())
}

fn random_token() -> String {
    let mut bytes = [0u8; 24];
    let from_os = File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if from_os.is_err() {
        let seed = format!(
            "{:?}{}{:?}",
            Instant::now(),
            std::process::id(),
            thread::current().id()
        );
        for (i, b) in seed.bytes().enumerate() {
            bytes[i % bytes.len()] ^= b;
        }
    }
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Three distinct free loopback ports (held together while picked, so no two
/// are equal; another process may still take one before our children bind).
fn free_ports() -> Result<[u16; 3]> {
    let listeners = [(); 3].map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)));
    let mut ports = [0u16; 3];
    for (port, listener) in ports.iter_mut().zip(listeners) {
        *port = listener
            .context("binding a free loopback port")?
            .local_addr()?
            .port();
    }
    Ok(ports)
}

fn timeout() -> Duration {
    let secs = env::var("IRSA_CONTROLPLANE_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(90);
    Duration::from_secs(secs)
}

fn port_clash(proc: &Proc) -> bool {
    let tail = proc.log_tail();
    tail.contains("address already in use") || tail.contains("bind: address already")
}

fn wait_for_etcd(etcd: &mut Proc, addr: SocketAddr) -> Result<(), StartError> {
    let deadline = Instant::now() + timeout();
    loop {
        if let Some(status) = etcd.exited() {
            return Err(StartError {
                port_clash: port_clash(etcd),
                error: etcd.died(status),
            });
        }
        let last = match etcd_health(addr) {
            Ok(body) if body.contains("\"health\":\"true\"") => return Ok(()),
            Ok(body) => body,
            Err(e) => e.to_string(),
        };
        if Instant::now() > deadline {
            return Err(anyhow!(
                "etcd at {addr} not healthy after {:?} (last: {last})\n--- last lines of {} ---\n{}",
                timeout(),
                etcd.log.display(),
                etcd.log_tail()
            )
            .into());
        }
        thread::sleep(Duration::from_millis(100));
    }
}

fn etcd_health(addr: SocketAddr) -> Result<String> {
    let mut sock = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    sock.set_read_timeout(Some(Duration::from_secs(5)))?;
    sock.write_all(format!("GET /health HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())?;
    let mut resp = String::new();
    sock.read_to_string(&mut resp)?;
    Ok(resp)
}

fn wait_for_apiserver(
    apiserver: &mut Proc,
    etcd: &Proc,
    tls: &Arc<rustls::ClientConfig>,
    addr: SocketAddr,
    token: &str,
) -> Result<(), StartError> {
    let started = Instant::now();
    let deadline = started + timeout();
    loop {
        if let Some(status) = apiserver.exited() {
            return Err(StartError {
                port_clash: port_clash(apiserver),
                error: apiserver.died(status),
            });
        }
        let last = match tls::https_get(tls, addr, token, "/readyz") {
            Ok((200, body)) if body.trim() == "ok" => return Ok(()),
            Ok((status, body)) => format!("HTTP {status}: {}", body.trim()),
            Err(e) => format!("{e:#}"),
        };
        if Instant::now() > deadline {
            return Err(anyhow!(
                "kube-apiserver at https://{addr} not ready after {:?}; last /readyz: {last}\n\
                 --- last lines of {} ---\n{}\n--- last lines of {} ---\n{}",
                started.elapsed(),
                apiserver.log.display(),
                apiserver.log_tail(),
                etcd.log.display(),
                log_tail(&etcd.log, 15),
            )
            .into());
        }
        thread::sleep(Duration::from_millis(250));
    }
}

fn kubeconfig_yaml(server_url: &str, ca_pem: &str, token: &str) -> String {
    let ca_data = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: irsa-e2e
  cluster:
    server: {server_url}
    certificate-authority-data: {ca_data}
users:
- name: {ADMIN_USER}
  user:
    token: {token}
contexts:
- name: irsa-e2e
  context:
    cluster: irsa-e2e
    user: {ADMIN_USER}
current-context: irsa-e2e
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_requires_sts_audience() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k");
        fs::write(&key, "x").unwrap();
        let mut cfg = ControlPlaneConfig::new("https://issuer", &key, &key);
        assert!(cfg.validate().is_ok());
        cfg.api_audiences = vec!["https://kubernetes.default.svc".into()];
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("sts.amazonaws.com"), "{err}");
    }

    #[test]
    fn free_ports_are_distinct() {
        let [a, b, c] = free_ports().unwrap();
        assert!(a != b && b != c && a != c);
    }

    #[test]
    fn random_tokens_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 48);
        assert_ne!(a, b);
    }
}
