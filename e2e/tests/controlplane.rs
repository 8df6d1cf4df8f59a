//! A real kube-apiserver (no nodes) issues IRSA web identity tokens.
//!
//! Needs kube-apiserver + etcd (`scripts/controlplane.sh`, or
//! `IRSA_CONTROLPLANE_BIN`) and kubectl (`scripts/install-kubectl.sh`, or
//! `IRSA_KUBECTL`). Missing binaries fail these tests, unless
//! `IRSA_SKIP_CONTROLPLANE=1`.

use std::path::{Path, PathBuf};
use std::thread;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use irsa_e2e::controlplane::{self, ControlPlane, ControlPlaneConfig, STS_AUDIENCE};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::Value;
use sha2::{Digest, Sha256};

const ISSUER: &str = "https://127.0.0.1:8443/id/0123456789ABCDEF0123456789ABCDEF";

/// An RSA key pair written as PEM files, and the `kid` Kubernetes derives.
struct SigningKey {
    _dir: tempfile::TempDir,
    private_pem: PathBuf,
    public_pem: PathBuf,
    kid: String,
    n: String,
    e: String,
}

fn signing_key() -> SigningKey {
    let dir = tempfile::tempdir().unwrap();
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let public = key.to_public_key();
    let private_pem = dir.path().join("sa-signer.key");
    let public_pem = dir.path().join("sa-signer.pub");
    std::fs::write(
        &private_pem,
        key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes(),
    )
    .unwrap();
    std::fs::write(
        &public_pem,
        public.to_public_key_pem(LineEnding::LF).unwrap(),
    )
    .unwrap();
    // kid = base64url(SHA-256(PKIX DER of the public key)), no padding.
    let der = public.to_public_key_der().unwrap();
    let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(der.as_bytes()));
    SigningKey {
        _dir: dir,
        private_pem,
        public_pem,
        kid,
        n: URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        e: URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    }
}

/// `None` when the test should be skipped (IRSA_SKIP_CONTROLPLANE=1);
/// panics with a clear message when the control plane cannot be had.
fn start(key: &SigningKey) -> Option<ControlPlane> {
    if controlplane::skip_requested() {
        eprintln!("IRSA_SKIP_CONTROLPLANE=1: skipping the control plane test");
        return None;
    }
    let cfg = ControlPlaneConfig::new(ISSUER, &key.private_pem, &key.public_pem);
    match ControlPlane::start(cfg) {
        Ok(cp) => Some(cp),
        Err(e) => panic!(
            "cannot start the e2e control plane (kube-apiserver + etcd; scripts/test.sh \
             installs them, or set IRSA_CONTROLPLANE_BIN; IRSA_SKIP_CONTROLPLANE=1 skips): {e:?}"
        ),
    }
}

fn decode_segment(segment: &str) -> Value {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .unwrap_or_else(|e| panic!("JWT segment {segment:?} is not base64url: {e}"));
    serde_json::from_slice(&bytes).expect("JWT segment is JSON")
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn apiserver_issues_irsa_tokens() {
    let key = signing_key();
    let Some(cp) = start(&key) else { return };
    if let Err(e) = controlplane::kubectl_binary() {
        panic!("{e:#} (scripts/test.sh installs kubectl; IRSA_SKIP_CONTROLPLANE=1 skips)");
    }
    let kubectl = |args: &[&str]| {
        cp.run_kubectl(args).unwrap_or_else(|e| {
            panic!(
                "{e:#}\n--- kube-apiserver log tail ---\n{}",
                cp.apiserver_log_tail(30)
            )
        })
    };

    // kube-apiserver runs with exactly the issuer flags of the one function `irsa-emulator cluster create`
    // prints and the kind config patches in (tests/kind.rs compares the kind config with it).
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", cp.pids()[0])).unwrap();
    let args: Vec<String> = cmdline
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let issuer_args: Vec<&String> = args
        .iter()
        .filter(|a| a.starts_with("--service-account-") || a.starts_with("--api-audiences"))
        .collect();
    let want = irsa_names::apiserver_issuer_flags(
        ISSUER,
        &key.private_pem,
        &key.public_pem,
        &[STS_AUDIENCE.to_string()],
    );
    assert_eq!(issuer_args, want.iter().collect::<Vec<_>>(), "{args:?}");

    let (ns, sa) = ("irsa-e2e", "app");
    kubectl(&["create", "namespace", ns]);
    kubectl(&["create", "serviceaccount", sa, "-n", ns]);
    let token = kubectl(&[
        "create",
        "token",
        sa,
        "-n",
        ns,
        "--audience",
        STS_AUDIENCE,
        "--duration",
        "1h",
    ]);
    let token = token.trim();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWS compact token: {token:?}");

    let header = decode_segment(parts[0]);
    assert_eq!(header["alg"], "RS256", "header: {header}");
    assert_eq!(header["kid"], key.kid.as_str(), "header: {header}");

    let claims = decode_segment(parts[1]);
    assert_eq!(claims["iss"], ISSUER, "claims: {claims}");
    assert_eq!(
        claims["sub"],
        format!("system:serviceaccount:{ns}:{sa}"),
        "claims: {claims}"
    );
    assert_eq!(
        claims["aud"],
        serde_json::json!([STS_AUDIENCE]),
        "claims: {claims}"
    );
    let iat = claims["iat"].as_i64().expect("iat is a number");
    let exp = claims["exp"].as_i64().expect("exp is a number");
    assert_eq!(exp - iat, 3600, "claims: {claims}");
    assert_eq!(
        claims["kubernetes.io"]["serviceaccount"]["name"], sa,
        "claims: {claims}"
    );
    assert_eq!(claims["kubernetes.io"]["namespace"], ns, "claims: {claims}");

    // The apiserver's own OIDC discovery agrees on issuer and key.
    let (status, body) = cp.get_raw("/.well-known/openid-configuration").unwrap();
    assert_eq!(status, 200, "{body}");
    let discovery: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(discovery["issuer"], ISSUER, "{discovery}");
    let (status, body) = cp.get_raw("/openid/v1/jwks").unwrap();
    assert_eq!(status, 200, "{body}");
    let jwks: Value = serde_json::from_str(&body).unwrap();
    let keys = jwks["keys"].as_array().expect("jwks has keys");
    assert_eq!(keys.len(), 1, "{jwks}");
    assert_eq!(keys[0]["kid"], key.kid.as_str(), "{jwks}");
    assert_eq!(keys[0]["alg"], "RS256", "{jwks}");
    assert_eq!(keys[0]["n"], key.n.as_str(), "{jwks}");
    assert_eq!(keys[0]["e"], key.e.as_str(), "{jwks}");

    let pids = cp.pids();
    let dir = cp.dir().to_path_buf();
    assert!(
        pids.iter().all(|&p| alive(p)),
        "processes {pids:?} not running"
    );
    drop(cp);
    for pid in pids {
        assert!(!alive(pid), "process {pid} still exists after drop");
    }
    assert!(!dir.exists(), "{} not removed after drop", dir.display());
}

#[test]
fn processes_die_when_a_test_panics() {
    let key = signing_key();
    let Some(cp) = start(&key) else { return };
    let pids = cp.pids();
    let outcome = thread::spawn(move || {
        let _cp = cp;
        panic!("deliberate panic while a control plane runs");
    })
    .join();
    assert!(outcome.is_err(), "the thread should have panicked");
    for pid in pids {
        assert!(!alive(pid), "process {pid} outlived the panicking test");
    }
}

/// Run in a child process by the test below: a control plane that is never dropped, as one held in a static.
#[test]
fn leaked_control_plane_child() {
    if std::env::var_os("IRSA_LEAKED_CONTROL_PLANE_CHILD").is_none() {
        return;
    }
    let key = signing_key();
    let Some(cp) = start(&key) else { return };
    let pids: Vec<String> = cp.pids().iter().map(u32::to_string).collect();
    println!("LEAKED dir={} pids={}", cp.dir().display(), pids.join(","));
    std::mem::forget(cp);
}

#[test]
fn a_control_plane_never_dropped_leaves_nothing_after_the_process_exits() {
    if controlplane::skip_requested() {
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "leaked_control_plane_child", "--nocapture"])
        .env("IRSA_LEAKED_CONTROL_PLANE_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split("LEAKED ").nth(1))
        .unwrap_or_else(|| panic!("the child printed no LEAKED line:\n{stdout}"));
    let dir = line
        .split_whitespace()
        .find_map(|f| f.strip_prefix("dir="))
        .unwrap();
    let pids = line
        .split_whitespace()
        .find_map(|f| f.strip_prefix("pids="))
        .unwrap();
    assert!(
        !Path::new(dir).exists(),
        "{dir} is still there after the process that started it exited"
    );
    for pid in pids.split(',') {
        assert!(
            !alive(pid.parse().unwrap()),
            "process {pid} outlived its test"
        );
    }
}
