//! The whole IRSA flow as a user runs it, with no step faked: the emulator binary (HTTPS, fresh data dir)
//! and a real kube-apiserver issuing tokens for its cluster; the webhook installed; `kubectl irsa` found
//! by real kubectl plugin discovery; the seed's aws-cli pod mutated; then this test plays the kubelet
//! (TokenRequest with the projected volume's audience and expiry) and runs the real AWS CLI, boto3 and
//! aws-sdk-go-v2 with exactly the container's env. Needs what scripts/test.sh installs (control plane, kubectl, the venv).

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use irsa_e2e::controlplane::{kubectl_binary, skip_requested, ControlPlane, ControlPlaneConfig};

/// The built binaries: from scripts/test.sh's env, else beside this test binary (target/debug).
fn binary(env: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target/debug");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{name} is not built: run scripts/test.sh (or cargo build --workspace --bins)"
    );
    path
}

/// aws-sdk-go-v2's default config + GetCallerIdentity (e2e/gosdk), built by scripts/gosdk.sh.
fn go_sdk_program() -> PathBuf {
    if let Some(path) = std::env::var_os("IRSA_GOSDK_BIN") {
        return PathBuf::from(path);
    }
    let out = Command::new(irsa_e2e::controlplane::repo_root().join("scripts/gosdk.sh"))
        .output()
        .expect("scripts/gosdk.sh runs");
    assert!(
        out.status.success(),
        "cannot build e2e/gosdk: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Emulator {
    child: Child,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data_dir: &Path, port: u16, kubeconfig: Option<&Path>) -> Emulator {
    let mut cmd = Command::new(binary("IRSA_EMULATOR_BIN", "irsa-emulator"));
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(k) = kubeconfig {
        cmd.arg("--kubeconfig").arg(k);
    }
    let child = cmd.spawn().expect("irsa-emulator serve starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        || !data_dir.join("ca.pem").exists()
    {
        assert!(
            Instant::now() < deadline,
            "emulator did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Emulator { child }
}

/// A user's shell after `eval "$(irsa-emulator env)"` and `export KUBECONFIG=…`, with the plugin on PATH.
struct Shell {
    env: BTreeMap<String, String>,
    kubectl: PathBuf,
}

impl Shell {
    fn cmd(&self, program: &Path, args: &[&str]) -> Output {
        Command::new(program)
            .args(args)
            .env_clear()
            .envs(&self.env)
            .output()
            .unwrap_or_else(|e| panic!("{} cannot run: {e}", program.display()))
    }

    fn ok(&self, program: &Path, args: &[&str]) -> String {
        let out = self.cmd(program, args);
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

    fn kubectl(&self, args: &[&str]) -> String {
        self.ok(&self.kubectl, args)
    }

    fn aws(&self, args: &[&str]) -> String {
        self.ok(Path::new("aws"), args)
    }
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn env_of(pod: &serde_json::Value) -> BTreeMap<String, String> {
    pod["spec"]["containers"][0]["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

const POD: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: irsa-test
  namespace: demo
spec:
  serviceAccountName: SERVICE_ACCOUNT
  containers:
  - name: irsa
    image: public.ecr.aws/aws-cli/aws-cli:2.25.4
    command: ['sh', '-c', 'aws sts "get-caller-identity" && sleep 3600']
"#;

#[test]
fn the_whole_flow_without_aws() {
    if skip_requested() {
        eprintln!("skipped: IRSA_SKIP_CONTROLPLANE=1 (no local control plane)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("emulator");
    let port = free_port();
    let url = format!("https://127.0.0.1:{port}");
    let ca = data.join("ca.pem");
    let emulator_bin = binary("IRSA_EMULATOR_BIN", "irsa-emulator");
    let plugin_bin = binary("KUBECTL_IRSA_BIN", "kubectl-irsa");

    let mut env: BTreeMap<String, String> = ["PATH", "HOME", "LANG", "TMPDIR"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect();
    // Installed the way krew or a user would: alone in a directory on PATH (target/debug also holds
    // cargo's kubectl-irsa.d, which kubectl's plugin discovery rightly complains about).
    let plugin_dir = dir.path().join("bin");
    std::fs::create_dir_all(&plugin_dir).unwrap();
    std::fs::copy(&plugin_bin, plugin_dir.join("kubectl-irsa")).unwrap();
    let path = format!("{}:{}", plugin_dir.display(), env["PATH"]);
    env.insert("PATH".into(), path);
    for (k, v) in [
        ("AWS_ENDPOINT_URL", url.as_str()),
        ("AWS_CA_BUNDLE", ca.to_str().unwrap()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        (
            "AWS_ACCESS_KEY_ID",
            irsa_emulator::config::DEFAULT_ADMIN_ACCESS_KEY_ID,
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            irsa_emulator::config::DEFAULT_ADMIN_SECRET_ACCESS_KEY,
        ),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
    ] {
        env.insert(k.into(), v.into());
    }
    let mut shell = Shell {
        env,
        kubectl: kubectl_binary().expect("kubectl (scripts/test.sh installs it)"),
    };

    // 1. The emulator, a cluster in it, a real API server for that cluster, the webhook.
    let first = serve(&data, port, None);
    let created = shell.ok(
        &emulator_bin,
        &[
            "cluster",
            "create",
            "demo",
            "--out-dir",
            dir.path().join("keys").to_str().unwrap(),
        ],
    );
    let issuer = created
        .lines()
        .find_map(|l| l.strip_prefix("issuer:"))
        .map(|s| s.trim().to_string())
        .expect("cluster create prints the issuer");
    let plane = ControlPlane::start(ControlPlaneConfig::new(
        issuer.clone(),
        dir.path().join("keys/sa.key"),
        dir.path().join("keys/sa.pub"),
    ))
    .expect("local control plane starts (scripts/test.sh builds it)");
    drop(first);
    let _emulator = serve(&data, port, Some(plane.kubeconfig()));
    shell.env.insert(
        "KUBECONFIG".into(),
        plane.kubeconfig().display().to_string(),
    );
    let kubeconfig = plane.kubeconfig().display().to_string();
    shell.ok(
        &emulator_bin,
        &[
            "webhook",
            "install",
            "--kubeconfig",
            &kubeconfig,
            "--url",
            &url,
            "--ca-file",
            ca.to_str().unwrap(),
        ],
    );

    // 2. The plugin, through kubectl's plugin discovery.
    assert!(shell.kubectl(&["plugin", "list"]).contains("kubectl-irsa"));
    shell.kubectl(&["irsa", "oidc", "associate", "--cluster", "demo"]);
    shell.kubectl(&[
        "irsa",
        "create",
        "--name",
        "s3-reader",
        "-n",
        "demo",
        "--cluster",
        "demo",
        "--attach-policy-arn",
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    ]);
    let sa = json(&shell.kubectl(&[
        "get",
        "serviceaccount",
        "s3-reader",
        "-n",
        "demo",
        "-o",
        "json",
    ]));
    let role_arn = sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        .as_str()
        .unwrap()
        .to_string();
    let role_name = role_arn.rsplit('/').next().unwrap().to_string();

    // 3. The seed's pod, as the webhook left it; then the kubelet's part.
    std::fs::write(
        dir.path().join("pod.yaml"),
        POD.replace("SERVICE_ACCOUNT", "s3-reader"),
    )
    .unwrap();
    shell.kubectl(&["apply", "-f", dir.path().join("pod.yaml").to_str().unwrap()]);
    let pod = json(&shell.kubectl(&["get", "pod", "irsa-test", "-n", "demo", "-o", "json"]));
    let container_env = env_of(&pod);
    assert_eq!(
        container_env.get("AWS_ROLE_ARN"),
        Some(&role_arn),
        "webhook injected the role: {container_env:?}"
    );
    let volume = pod["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "aws-iam-token")
        .expect("projected token volume");
    let projection = &volume["projected"]["sources"][0]["serviceAccountToken"];
    let audience = projection["audience"].as_str().unwrap();
    let expiration = projection["expirationSeconds"].as_i64().unwrap();
    let token = shell.kubectl(&[
        "create",
        "token",
        "s3-reader",
        "-n",
        "demo",
        "--audience",
        audience,
        "--duration",
        &format!("{expiration}s"),
    ]);
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, token.trim()).unwrap();
    // The CA the pod mounts is the ConfigMap the emulator published: the same bytes as its ca.pem.
    let cm = json(&shell.kubectl(&[
        "get",
        "configmap",
        "irsa-emulator-ca",
        "-n",
        "demo",
        "-o",
        "json",
    ]));
    assert_eq!(
        cm["data"]["ca.pem"].as_str().unwrap(),
        std::fs::read_to_string(&ca).unwrap()
    );

    let mut pod_shell = Shell {
        env: BTreeMap::new(),
        kubectl: shell.kubectl.clone(),
    };
    for k in ["PATH", "HOME", "LANG", "TMPDIR"] {
        if let Some(v) = shell.env.get(k) {
            pod_shell.env.insert(k.into(), v.clone());
        }
    }
    pod_shell.env.extend(container_env.clone());
    pod_shell.env.insert(
        "AWS_WEB_IDENTITY_TOKEN_FILE".into(),
        token_file.display().to_string(),
    );
    pod_shell
        .env
        .insert("AWS_CA_BUNDLE".into(), ca.display().to_string());
    pod_shell
        .env
        .insert("AWS_CONFIG_FILE".into(), "/dev/null".into());
    pod_shell
        .env
        .insert("AWS_SHARED_CREDENTIALS_FILE".into(), "/dev/null".into());
    let expected = format!("arn:aws:sts::111122223333:assumed-role/{role_name}/");
    let identity = json(&pod_shell.aws(&["sts", "get-caller-identity"]));
    assert!(
        identity["Arn"].as_str().unwrap().starts_with(&expected),
        "{identity}"
    );
    let boto3 = pod_shell.ok(
        Path::new("python3"),
        &[
            "-c",
            "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])",
        ],
    );
    assert!(boto3.trim().starts_with(&expected), "boto3: {boto3}");
    let go = pod_shell.ok(&go_sdk_program(), &[]);
    assert!(go.trim().starts_with(&expected), "aws-sdk-go-v2: {go}");

    // 4. The doctor agrees; an unbound service account gets nothing and its token is refused, with a reason.
    let describe = shell.kubectl(&["irsa", "describe", "s3-reader", "-n", "demo"]);
    assert!(describe.contains("Verdict: OK"), "{describe}");
    shell.kubectl(&["create", "serviceaccount", "unbound", "-n", "demo"]);
    std::fs::write(
        dir.path().join("pod2.yaml"),
        POD.replace("SERVICE_ACCOUNT", "unbound")
            .replace("irsa-test", "unbound-test"),
    )
    .unwrap();
    shell.kubectl(&[
        "apply",
        "-f",
        dir.path().join("pod2.yaml").to_str().unwrap(),
    ]);
    let unbound = json(&shell.kubectl(&["get", "pod", "unbound-test", "-n", "demo", "-o", "json"]));
    assert!(
        !env_of(&unbound).contains_key("AWS_ROLE_ARN"),
        "unbound pod was mutated"
    );
    let intruder = shell.kubectl(&[
        "create",
        "token",
        "unbound",
        "-n",
        "demo",
        "--audience",
        "sts.amazonaws.com",
    ]);
    let denied = shell.cmd(
        Path::new("aws"),
        &[
            "sts",
            "assume-role-with-web-identity",
            "--role-arn",
            &role_arn,
            "--role-session-name",
            "intruder",
            "--web-identity-token",
            intruder.trim(),
        ],
    );
    assert!(!denied.status.success());
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(stderr.contains("AccessDenied"), "{stderr}");
    let audit = shell.ok(&emulator_bin, &["audit", "--json"]);
    let explanation = audit
        .lines()
        .rev()
        .map(json)
        .find(|e| e["decision"] == "deny")
        .expect("the denial is audited")["explanation"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        explanation.contains("system:serviceaccount:demo:unbound"),
        "{explanation}"
    );
    assert!(
        explanation.contains("system:serviceaccount:demo:s3-reader"),
        "{explanation}"
    );

    // 5. Delete: nothing left in IAM or in the cluster.
    shell.kubectl(&["irsa", "delete", "--name", "s3-reader", "-n", "demo"]);
    let roles = json(&shell.aws(&["iam", "list-roles"]));
    assert!(roles["Roles"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["RoleName"] != role_name.as_str()));
    let gone = shell.cmd(
        &shell.kubectl,
        &["get", "serviceaccount", "s3-reader", "-n", "demo"],
    );
    assert!(
        !gone.status.success(),
        "the service account kubectl-irsa created is deleted"
    );
    drop(plane);
}
