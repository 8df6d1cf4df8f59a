//! A kind cluster made by `scripts/kind-up.sh` — the one path users take — for tests where pods really run:
//! the kubelet projects their tokens, their containers call the emulator, `kubectl logs` shows what they
//! got. Dropping it runs `scripts/kind-down.sh` (after `kind export logs` when the test is failing).
//!
//! Environment: `IRSA_KIND_NODE_IMAGE` (the node image; scripts/test.sh builds it offline with
//! scripts/kind-node-image.sh, otherwise kind's default image is used), `IRSA_EMULATOR_BIN`,
//! `IRSA_KIND_CONFIG_BIN`, `IRSA_KUBECTL`, and `kind` on PATH (scripts/test.sh puts it there).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::controlplane::{cache_dir, kubectl_binary, repo_root};

pub struct KindCluster {
    pub name: String,
    /// kind-up.sh's state directory (emulator data, keys, kubeconfig, logs).
    pub state: PathBuf,
    /// The export lines kind-up.sh printed, as variables.
    pub env: BTreeMap<String, String>,
    pub kubectl: PathBuf,
    /// The emulator as pods reach it (the kind network's gateway).
    pub pod_url: String,
    down: bool,
}

fn run(cmd: &mut Command) -> Result<Output> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    Ok(out)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The export lines of kind-up.sh (`export NAME=value`), as a map.
pub fn parse_exports(lines: &str) -> BTreeMap<String, String> {
    lines
        .lines()
        .filter_map(|l| l.trim().strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches(['\'', '"']).to_string()))
        .collect()
}

impl KindCluster {
    /// `scripts/kind-up.sh NAME` with the emulator on `port`; fails with kind-up.sh's output.
    pub fn up(name: &str, port: u16) -> Result<KindCluster> {
        let kubectl = kubectl_binary()?;
        let mut cmd = Command::new("bash");
        cmd.arg(repo_root().join("scripts/kind-up.sh"))
            .arg(name)
            .env("IRSA_KIND_PORT", port.to_string())
            .env("IRSA_KUBECTL", &kubectl)
            // Both given: kind-up.sh builds nothing (no cargo inside cargo test).
            .env(
                "IRSA_EMULATOR_BIN",
                built_binary("IRSA_EMULATOR_BIN", "irsa-emulator"),
            )
            .env(
                "IRSA_KIND_CONFIG_BIN",
                built_binary("IRSA_KIND_CONFIG_BIN", "irsa-kind-config"),
            );
        if let Some(image) = std::env::var_os("IRSA_KIND_NODE_IMAGE").filter(|v| !v.is_empty()) {
            cmd.env("KIND_NODE_IMAGE", image);
        }
        let state = cache_dir().join("kind").join(name);
        let mut cluster = KindCluster {
            name: name.to_string(),
            state,
            env: BTreeMap::new(),
            kubectl,
            pod_url: String::new(),
            down: false,
        };
        let start = Instant::now();
        let out = run(&mut cmd)?;
        if !out.status.success() {
            bail!(
                "scripts/kind-up.sh {name} failed ({}):\n{}\n{}",
                out.status,
                text(&out.stdout),
                text(&out.stderr)
            );
        }
        eprintln!(
            "kind cluster {name} up in {:.1}s",
            start.elapsed().as_secs_f64()
        );
        cluster.env = parse_exports(&text(&out.stdout));
        let stderr = text(&out.stderr);
        cluster.pod_url = stderr
            .lines()
            .find_map(|l| l.split_once("the kind node reaches the emulator at "))
            .map(|(_, url)| url.trim().to_string())
            .context("kind-up.sh did not say where the node reaches the emulator")?;
        Ok(cluster)
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.state.join("kubeconfig")
    }

    pub fn var(&self, name: &str) -> &str {
        self.env.get(name).map(String::as_str).unwrap_or("")
    }

    /// kubectl against the cluster.
    pub fn kubectl_cmd(&self) -> Command {
        let mut cmd = Command::new(&self.kubectl);
        cmd.arg("--kubeconfig").arg(self.kubeconfig());
        cmd
    }

    /// kubectl ARGS, its stdout; an error with stderr when it fails.
    pub fn kubectl<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Result<String> {
        let out = run(self.kubectl_cmd().args(args))?;
        if !out.status.success() {
            bail!(
                "kubectl {:?}: {}",
                args.iter()
                    .map(|a| a.as_ref().to_owned())
                    .collect::<Vec<_>>(),
                text(&out.stderr).trim()
            );
        }
        Ok(text(&out.stdout))
    }

    /// `kubectl apply -f -` of `yaml`.
    pub fn apply(&self, yaml: &str) -> Result<String> {
        use std::io::Write;
        let mut child = self
            .kubectl_cmd()
            .args(["apply", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child.stdin.take().unwrap().write_all(yaml.as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!("kubectl apply: {}\n{yaml}", text(&out.stderr).trim());
        }
        Ok(text(&out.stdout))
    }

    /// `kind load docker-image IMAGE` into the cluster's node.
    pub fn load_image(&self, image: &str) -> Result<()> {
        let out =
            run(Command::new("kind").args(["load", "docker-image", "--name", &self.name, image]))?;
        if !out.status.success() {
            bail!(
                "kind load docker-image {image}: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
        }
        Ok(())
    }

    /// `kubectl logs` of a pod (its first container), empty while it has none.
    pub fn logs(&self, namespace: &str, pod: &str) -> String {
        self.kubectl(&["logs", "-n", namespace, pod])
            .unwrap_or_default()
    }

    /// Waits until `done(logs)` holds for the pod, failing early when the pod cannot start (image, config).
    pub fn wait_for_logs(
        &self,
        namespace: &str,
        pod: &str,
        timeout: Duration,
        done: impl Fn(&str) -> bool,
    ) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let logs = self.logs(namespace, pod);
            if done(&logs) {
                return Ok(logs);
            }
            let waiting = self
                .kubectl(&[
                    "get",
                    "pod",
                    "-n",
                    namespace,
                    pod,
                    "-o",
                    "jsonpath={.status.containerStatuses[*].state.waiting.reason}",
                ])
                .unwrap_or_default();
            if [
                "ErrImagePull",
                "ImagePullBackOff",
                "CreateContainerConfigError",
                "InvalidImageName",
            ]
            .iter()
            .any(|r| waiting.contains(r))
            {
                bail!(
                    "pod {namespace}/{pod} cannot start ({waiting}):\n{}",
                    self.kubectl(&["describe", "pod", "-n", namespace, pod])
                        .unwrap_or_default()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "pod {namespace}/{pod}: timed out after {timeout:?}; logs so far:\n{logs}\n{}",
                    self.kubectl(&["describe", "pod", "-n", namespace, pod])
                        .unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    }

    /// `docker exec` in the (only) node.
    pub fn node_exec(&self, script: &str) -> Result<String> {
        let out = run(Command::new("docker").args([
            "exec",
            &format!("{}-control-plane", self.name),
            "sh",
            "-c",
            script,
        ]))?;
        if !out.status.success() {
            bail!("in the node: {script}: {}", text(&out.stderr).trim());
        }
        Ok(text(&out.stdout))
    }

    /// Writes a file in the node (its directory created).
    pub fn node_write(&self, path: &str, contents: &str) -> Result<()> {
        use std::io::Write;
        let dir = Path::new(path)
            .parent()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        let mut child = Command::new("docker")
            .args([
                "exec",
                "-i",
                &format!("{}-control-plane", self.name),
                "sh",
                "-c",
            ])
            .arg(format!("mkdir -p '{dir}' && cat > '{path}'"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        child.stdin.take().unwrap().write_all(contents.as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!("writing {path} in the node: {}", text(&out.stderr).trim());
        }
        Ok(())
    }

    /// Runs `scripts/kind-down.sh`; returns its output (for tests that check what it leaves).
    pub fn down(mut self) -> Result<Output> {
        self.down = true;
        kind_down(&self.name)
    }
}

fn kind_down(name: &str) -> Result<Output> {
    run(Command::new("bash")
        .arg(repo_root().join("scripts/kind-down.sh"))
        .arg(name))
}

impl Drop for KindCluster {
    fn drop(&mut self) {
        if self.down {
            return;
        }
        if std::thread::panicking() {
            let dir = repo_root().join("target/kind-logs").join(&self.name);
            let exported = Command::new("kind")
                .args(["export", "logs", "--name", &self.name])
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            let emulator_log = self.state.join("emulator.log");
            if exported {
                let _ = std::fs::copy(&emulator_log, dir.join("emulator.log"));
                eprintln!(
                    "kind logs of {} (and the emulator's) in {}",
                    self.name,
                    dir.display()
                );
            }
        }
        let _ = kind_down(&self.name);
    }
}

/// The first free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// An executable named by `var`, else beside the running test binary's target dir (`target/debug/NAME`).
pub fn built_binary(var: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(Path::parent)
        .map(|dir| dir.join(name))
        .expect("target/debug")
}
