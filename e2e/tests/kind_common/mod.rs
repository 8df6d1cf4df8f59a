//! What the kind tests share: the cluster, a user's shell with the plugin on PATH, the emulator's audit, and
//! a watch on the machine's uplink for anything the clusters send off the machine.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub use irsa_e2e::kind_cluster::{built_binary, free_port, KindCluster};

pub const ACCOUNT: &str = irsa_emulator::config::DEFAULT_ACCOUNT_ID;
pub const AWS_CLI_IMAGE: &str = "public.ecr.aws/aws-cli/aws-cli:2.25.4";

pub fn skip_without_docker(would_check: &str) -> bool {
    irsa_e2e::docker::skip_without_engine(would_check)
}

/// A kind cluster from scripts/kind-up.sh under a name no other run uses.
pub fn up(prefix: &str) -> KindCluster {
    let name = format!("{prefix}-{}", std::process::id());
    KindCluster::up(&name, free_port()).unwrap_or_else(|e| panic!("{e:#}"))
}

/// A user's shell after `eval "$(cat <kind-up state>/env)"`, with `kubectl-irsa` alone on PATH beside kubectl
/// (as krew installs it) and nothing from the user's own AWS config.
pub struct PluginShell {
    env: BTreeMap<String, String>,
    dir: tempfile::TempDir,
    kubectl: PathBuf,
}

impl PluginShell {
    pub fn new(cluster: &KindCluster) -> PluginShell {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::copy(
            built_binary("KUBECTL_IRSA_BIN", "kubectl-irsa"),
            bin.join("kubectl-irsa"),
        )
        .expect("kubectl-irsa is built (scripts/test.sh, or cargo build --workspace --bins)");
        let mut env = cluster.env.clone();
        let path = format!(
            "{}:{}:{}",
            bin.display(),
            cluster.kubectl.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        env.insert("PATH".into(), path);
        env.insert("HOME".into(), dir.path().display().to_string());
        env.insert("AWS_CONFIG_FILE".into(), "/dev/null".into());
        env.insert("AWS_SHARED_CREDENTIALS_FILE".into(), "/dev/null".into());
        PluginShell {
            env,
            dir,
            kubectl: cluster.kubectl.clone(),
        }
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.env.insert(name.into(), value.into());
    }

    pub fn run(&self, program: &Path, args: &[&str]) -> String {
        let out = Command::new(program)
            .args(args)
            .env_clear()
            .envs(&self.env)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{} cannot run: {e}", program.display()));
        assert!(
            out.status.success(),
            "{} {} failed:\n{}{}",
            program.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `kubectl irsa ARGS`, through kubectl's plugin discovery.
    pub fn irsa(&self, args: &[&str]) -> String {
        let mut all = vec!["irsa"];
        all.extend_from_slice(args);
        self.run(&self.kubectl, &all)
    }

    pub fn kubectl(&self, args: &[&str]) -> String {
        self.run(&self.kubectl, args)
    }

    /// `kubectl apply -f FILE` of `yaml` written to FILE, as a user applies a manifest.
    pub fn apply_file(&self, file: &str, yaml: &str) -> String {
        let path = self.dir.path().join(file);
        std::fs::write(&path, yaml).unwrap();
        self.kubectl(&["apply", "-f", path.to_str().unwrap()])
    }
}

/// `kubectl irsa oidc associate` and `kubectl irsa create` for `namespace/name` with `policy_arn`, as a user
/// binds a service account; the role ARN the service account is annotated with.
pub fn bind(shell: &PluginShell, cluster: &KindCluster, account: &str, policy_arn: &str) -> String {
    let (namespace, name) = account.split_once('/').expect("namespace/name");
    shell.irsa(&["oidc", "associate", "--cluster", &cluster.name]);
    shell.irsa(&[
        "create",
        "--name",
        name,
        "-n",
        namespace,
        "--cluster",
        &cluster.name,
        "--attach-policy-arn",
        policy_arn,
    ]);
    role_arn_of(cluster, namespace, name)
}

/// The role a service account's annotation names.
pub fn role_arn_of(cluster: &KindCluster, namespace: &str, name: &str) -> String {
    let arn = cluster
        .kubectl(&[
            "get",
            "serviceaccount",
            name,
            "-n",
            namespace,
            "-o",
            "jsonpath={.metadata.annotations.eks\\.amazonaws\\.com/role-arn}",
        ])
        .unwrap();
    assert!(
        arn.starts_with("arn:aws:iam::"),
        "{namespace}/{name}: {arn}"
    );
    arn
}

/// `irsa-emulator audit --json` of the emulator kind-up.sh started.
pub fn emulator_audit(cluster: &KindCluster) -> Vec<serde_json::Value> {
    let out = Command::new(built_binary("IRSA_EMULATOR_BIN", "irsa-emulator"))
        .args(["audit", "--json", "--endpoint-url"])
        .arg(cluster.var("AWS_ENDPOINT_URL"))
        .arg("--ca-bundle")
        .arg(cluster.var("AWS_CA_BUNDLE"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "irsa-emulator audit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// tcpdump on the interface of the default route, for DNS and for anything from the networks the suite's
/// Docker engine and the kind pods use. `None` (saying so) where it cannot run: not root, or no tcpdump.
pub struct Uplink {
    child: Child,
    file: PathBuf,
    _dir: tempfile::TempDir,
}

/// The suite's engine's bridges (scripts/docker-private.sh), the kind pod and service networks.
const CLUSTER_NETWORKS: &str = "net 172.29.0.0/16 or net 172.30.0.0/16 or net 172.31.0.0/16 \
                                or net 10.244.0.0/16 or net 10.96.0.0/12";

impl Uplink {
    pub fn watch() -> Option<Uplink> {
        let route = Command::new("ip")
            .args(["-o", "route", "show", "default"])
            .output()
            .ok()?;
        let route = String::from_utf8_lossy(&route.stdout).to_string();
        let device = route
            .split_whitespace()
            .skip_while(|w| *w != "dev")
            .nth(1)?
            .to_string();
        let dir = tempfile::tempdir().ok()?;
        let file = dir.path().join("uplink.pcap");
        let filter = format!("port 53 or {CLUSTER_NETWORKS}");
        let child = Command::new("tcpdump")
            .args(["-i", &device, "-n", "-U", "-w"])
            .arg(&file)
            .arg(&filter)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            eprintln!(
                "not checked: tcpdump cannot run here (scripts/install-docker.sh installs it)"
            );
            return None;
        };
        std::thread::sleep(std::time::Duration::from_millis(500));
        let mut uplink = Uplink {
            child,
            file,
            _dir: dir,
        };
        if let Ok(Some(status)) = uplink.child.try_wait() {
            eprintln!(
                "not checked: tcpdump on {device} exited ({status}): root is needed to watch it"
            );
            return None;
        }
        eprintln!("watching {device} for DNS and for packets of {CLUSTER_NETWORKS}");
        Some(uplink)
    }

    /// Stops the capture; what it saw, one line per packet.
    pub fn stop(mut self) -> Vec<String> {
        interrupt(self.child.id());
        let _ = self.child.wait();
        let out = Command::new("tcpdump")
            .args(["-n", "-r"])
            .arg(&self.file)
            .output()
            .expect("tcpdump reads its capture");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// A name only the egress probe asks for: a DNS query for it anywhere off the machine means the guard leaked.
pub fn canary_name() -> String {
    format!("irsa-egress-canary-{}.example.com", std::process::id())
}

/// What in a capture the cluster caused: packets from its networks, and DNS queries for the names it would
/// ask for (the probe's canary, AWS, registries, cluster names). The host's own DNS is not the cluster's.
pub fn cluster_traffic(seen: &[String]) -> Vec<String> {
    let networks = [
        "IP 172.29.",
        "IP 172.30.",
        "IP 172.31.",
        "IP 10.244.",
        "IP 10.96.",
    ];
    let names = [
        canary_name(),
        "amazonaws.com".into(),
        "docker.io".into(),
        "docker.com".into(),
        "k8s.io".into(),
        "ecr.aws".into(),
        "cluster.local".into(),
        "host.docker.internal".into(),
    ];
    seen.iter()
        .filter(|line| {
            networks.iter().any(|n| line.contains(n))
                || names.iter().any(|n| line.contains(n.as_str()))
        })
        .cloned()
        .collect()
}

/// tcpdump flushes its file on SIGINT.
fn interrupt(pid: u32) {
    let _ = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
}

impl Drop for Uplink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The emulator image: `IRSA_EMULATOR_IMAGE` (scripts/test.sh builds it), else `scripts/local-images.sh
/// emulator` with the built binary.
pub fn emulator_image() -> String {
    if let Some(image) = std::env::var("IRSA_EMULATOR_IMAGE")
        .ok()
        .filter(|v| !v.is_empty())
    {
        return image;
    }
    let out = Command::new("bash")
        .arg(irsa_e2e::controlplane::repo_root().join("scripts/local-images.sh"))
        .arg("emulator")
        .arg(built_binary("IRSA_EMULATOR_BIN", "irsa-emulator"))
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/local-images.sh emulator failed (output above)"
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Stops the emulator kind-up.sh started on the host (its pid file in the state).
pub fn stop_host_emulator(cluster: &KindCluster) {
    let pid = std::fs::read_to_string(cluster.state.join("emulator.pid")).unwrap();
    let status = Command::new("kill").arg(pid.trim()).status().unwrap();
    assert!(status.success(), "kill {pid}");
    let proc = PathBuf::from(format!("/proc/{}", pid.trim()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while proc.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The kube-apiserver flags of a kubeadm node, rewritten for a new issuer the way a platform team re-keys a
/// cluster: the new issuer first (new tokens carry it) and the old one kept (tokens already handed out stay
/// valid), the new signing key, and both public keys.
pub fn reissued_manifest(manifest: &str, issuer: &str, key_dir: &str) -> String {
    let mut out = String::with_capacity(manifest.len() + 256);
    for line in manifest.lines() {
        let indent = &line[..line.len() - line.trim_start().len()];
        let flag = line.trim_start();
        if flag.starts_with("- --service-account-issuer=") {
            out.push_str(&format!("{indent}- --service-account-issuer={issuer}\n"));
            out.push_str(line);
        } else if flag.starts_with("- --service-account-signing-key-file=") {
            out.push_str(&format!(
                "{indent}- --service-account-signing-key-file={key_dir}/sa.key"
            ));
        } else if flag.starts_with("- --service-account-key-file=") {
            out.push_str(line);
            out.push('\n');
            out.push_str(&format!(
                "{indent}- --service-account-key-file={key_dir}/sa.pub"
            ));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Re-keys the kind cluster's API server to `issuer` (see [`reissued_manifest`]) and waits until it serves it.
pub fn reissue(cluster: &KindCluster, issuer: &str, key: &str, public: &str) {
    let dir = "/etc/kubernetes/pki/irsa-inside";
    cluster.node_write(&format!("{dir}/sa.key"), key).unwrap();
    cluster
        .node_write(&format!("{dir}/sa.pub"), public)
        .unwrap();
    let path = "/etc/kubernetes/manifests/kube-apiserver.yaml";
    let manifest = cluster.node_exec(&format!("cat {path}")).unwrap();
    let rewritten = reissued_manifest(&manifest, issuer, dir);
    assert_eq!(
        rewritten.matches("--service-account-issuer=").count(),
        2,
        "the manifest had one issuer flag:\n{manifest}"
    );
    // Written beside the manifests, then moved: the kubelet would run a half-written file in manifests/.
    cluster
        .node_write("/etc/kubernetes/kube-apiserver.yaml.new", &rewritten)
        .unwrap();
    cluster
        .node_exec(&format!(
            "mv /etc/kubernetes/kube-apiserver.yaml.new {path}"
        ))
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    loop {
        let discovery = cluster
            .kubectl(&["get", "--raw", "/.well-known/openid-configuration"])
            .unwrap_or_default();
        if discovery.contains(&format!("\"issuer\":\"{issuer}\"")) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the API server did not come back as {issuer}: {discovery}"
        );
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
}

/// `kubectl port-forward` to a Service on a free loopback port, stopped when dropped.
pub struct PortForward {
    child: Child,
    pub port: u16,
}

impl PortForward {
    pub fn start(cluster: &KindCluster, namespace: &str, target: &str, remote: u16) -> PortForward {
        let port = free_port();
        let child = cluster
            .kubectl_cmd()
            .args(["port-forward", "-n", namespace, target])
            .arg(format!("{port}:{remote}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "kubectl port-forward {target} did not listen on {port}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        PortForward { child, port }
    }
}

impl Drop for PortForward {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SHA-1 of a PEM certificate's DER, lowercase hex: what IAM's ThumbprintList holds.
pub fn sha1_fingerprint(pem: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha1", "-in"])
        .arg(pem)
        .output()
        .expect("openssl");
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text
        .trim()
        .rsplit('=')
        .next()
        .unwrap_or("")
        .replace(':', "");
    assert_eq!(hex.len(), 40, "{text}");
    hex.to_lowercase()
}

/// What kind-up.sh promises besides the cluster: export lines a shell can eval, DescribeCluster reporting the
/// kind API server (URL and CA, as EKS would), the webhook registered, and the emulator — which holds the
/// admin credentials' power — listening on loopback and the kind network's gateway only.
pub fn kind_up_kept_its_promises(cluster: &KindCluster) {
    for var in [
        "KUBECONFIG",
        "AWS_ENDPOINT_URL",
        "AWS_CA_BUNDLE",
        "IRSA_KIND_ISSUER",
        "DOCKER_HOST",
    ] {
        assert!(
            !cluster.var(var).is_empty(),
            "no {var} in kind-up.sh's export lines: {:?}",
            cluster.env
        );
    }
    let server = cluster
        .kubectl(&["config", "view", "--raw", "-o", "jsonpath={.clusters[0].cluster.server}|{.clusters[0].cluster.certificate-authority-data}"])
        .unwrap();
    let mut shell = PluginShell::new(cluster);
    shell.set("AWS_REGION", "us-east-1");
    let described = shell.run(
        Path::new("aws"),
        &[
            "eks",
            "describe-cluster",
            "--name",
            &cluster.name,
            "--output",
            "text",
            "--query",
            "join(`|`, [cluster.endpoint, cluster.certificateAuthority.data])",
        ],
    );
    assert_eq!(
        described.trim(),
        server.trim(),
        "DescribeCluster reports the kind API server"
    );
    cluster
        .kubectl(&[
            "get",
            "mutatingwebhookconfiguration",
            "irsa-emulator",
            "-o",
            "name",
        ])
        .expect("kind-up.sh registered the webhook");

    let (_, port) = host_and_port(cluster.var("AWS_ENDPOINT_URL"));
    let (gateway, _) = host_and_port(&cluster.pod_url);
    let addresses = Command::new("ip")
        .args(["-o", "-4", "addr", "show"])
        .output()
        .unwrap();
    let addresses: Vec<String> = String::from_utf8_lossy(&addresses.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3))
        .filter_map(|cidr| cidr.split('/').next())
        .map(str::to_string)
        .collect();
    assert!(
        addresses.contains(&gateway),
        "the gateway {gateway} is one of this machine's addresses: {addresses:?}"
    );
    for address in &addresses {
        let reachable = std::net::TcpStream::connect_timeout(
            &format!("{address}:{port}").parse().unwrap(),
            std::time::Duration::from_secs(2),
        )
        .is_ok();
        let wanted = address == "127.0.0.1" || *address == gateway;
        assert_eq!(
            reachable, wanted,
            "the emulator is {}reachable at {address}:{port} (it listens on loopback and {gateway} only)",
            if reachable { "" } else { "not " }
        );
    }
}

/// kind-down.sh removes the cluster, stops the emulator and deletes the state.
pub fn kind_down_leaves_nothing(cluster: KindCluster) {
    let name = cluster.name.clone();
    let state = cluster.state.clone();
    let pid = std::fs::read_to_string(state.join("emulator.pid")).ok();
    let output = cluster.down().unwrap();
    assert!(
        output.status.success(),
        "kind-down.sh: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!state.exists(), "kind-down.sh left {}", state.display());
    // `kind get clusters` reads container labels, and a node container the engine is still removing is listed
    // for a while after `kind delete cluster` returns: seen for a moment with four clusters on a loaded engine,
    // and for over ten seconds on a fresh machine whose disk was busy with a build. Allow the engine a minute.
    let listed = || {
        let clusters = Command::new("kind")
            .args(["get", "clusters"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&clusters.stdout)
            .lines()
            .any(|l| l == name)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while listed() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    if listed() {
        let left = Command::new("docker")
            .args([
                "ps",
                "-a",
                "--filter",
                &format!("label=io.x-k8s.kind.cluster={name}"),
            ])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        panic!(
            "kind cluster {name} is still there a minute after kind-down.sh; its containers:\n{left}\nkind-down.sh said:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let containers = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            &format!("label=io.x-k8s.kind.cluster={name}"),
            "-q",
        ])
        .output()
        .unwrap();
    assert!(
        containers.stdout.is_empty(),
        "containers of {name} are left"
    );
    if let Some(pid) = pid {
        assert!(
            !Path::new(&format!("/proc/{}", pid.trim())).exists(),
            "the emulator (pid {}) still runs",
            pid.trim()
        );
    }
}

/// `https://HOST:PORT` → (HOST, PORT).
fn host_and_port(url: &str) -> (String, u16) {
    let rest = url.trim_start_matches("https://").trim_end_matches('/');
    let (host, port) = rest
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("no port in {url}"));
    (host.to_string(), port.parse().unwrap())
}

/// `kubectl apply -k` of the repository's kustomize base `base` (e.g. `deploy`) through an overlay that swaps
/// the `irsa-emulator` image for `image`, the one built here.
pub fn apply_with_emulator_image(cluster: &KindCluster, base: &str, image: &str) {
    let overlay = tempfile::tempdir().unwrap();
    let (name, tag) = image.rsplit_once(':').unwrap();
    std::fs::write(
        overlay.path().join("kustomization.yaml"),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {}\n\
             images:\n- name: irsa-emulator\n  newName: {name}\n  newTag: {tag}\n",
            relative_to(
                overlay.path(),
                &irsa_e2e::controlplane::repo_root().join(base)
            )
        ),
    )
    .unwrap();
    cluster
        .kubectl(&["apply", "-k", overlay.path().to_str().unwrap()])
        .unwrap();
}

/// `to` as a path relative to the directory `from` (kustomize takes only relative paths to its bases).
pub fn relative_to(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".into(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// Waits until a server-side dry run of `pod` (admission runs, nothing is created) comes back with the role the
/// webhook injects.
pub fn wait_until_mutated(cluster: &KindCluster, pod: &str) {
    use std::io::Write;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let mut child = cluster
            .kubectl_cmd()
            .args(["create", "--dry-run=server", "-o", "json", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(pod.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        if text.contains("\"AWS_ROLE_ARN\"") {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the webhook did not mutate a dry run of the pod in 2 minutes:\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
}
