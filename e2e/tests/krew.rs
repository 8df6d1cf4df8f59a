//! kubectl-irsa installs with krew: the committed `krew-manifest.yaml` template, the archives and rendered
//! manifest `scripts/release.sh` makes, krew's own `validate-krew-manifest`, and an offline
//! `kubectl krew install --manifest --archive` into a temporary KREW_ROOT after which `kubectl irsa --version`
//! runs through kubectl's plugin discovery.
//!
//! Needs: krew + validate-krew-manifest (`IRSA_KREW_BIN`, else `scripts/krew-tools.sh` builds them from the Go
//! module in `e2e/krew/`), kubectl (`IRSA_KUBECTL`, see `scripts/install-kubectl.sh`) and a built plugin
//! (`KUBECTL_IRSA_BIN`, else `<target>/debug/kubectl-irsa`: `cargo build -p kubectl-irsa`). A missing tool
//! fails these tests with the reason, unless `IRSA_SKIP_KREW=1`.

use std::collections::BTreeSet;
use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use irsa_e2e::controlplane::{is_executable, kubectl_binary, repo_root, script_built_dir};
use serde_yaml::Value;

const PLATFORMS: [(&str, &str); 5] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
];
const RELEASES: &str = "https://github.com/kubectl-irsa/kubectl-irsa/releases/download";

fn version_tag() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

fn skip_requested() -> bool {
    env::var("IRSA_SKIP_KREW").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// The tools this test needs, or `None` (after saying so) when `IRSA_SKIP_KREW=1` and one is missing.
/// Without `IRSA_SKIP_KREW=1` a missing tool panics with what to do.
fn require<T>(what: &str, found: Result<T, String>) -> Option<T> {
    match found {
        Ok(v) => Some(v),
        Err(e) if skip_requested() => {
            eprintln!("skipped (IRSA_SKIP_KREW=1): {what} unavailable: {e}");
            None
        }
        Err(e) => panic!(
            "{what} unavailable: {e}\n(scripts/test.sh provides it; set IRSA_SKIP_KREW=1 to skip the krew tests)"
        ),
    }
}

/// The directory holding `krew` and `validate-krew-manifest`: `$IRSA_KREW_BIN`, else what
/// `scripts/krew-tools.sh` prints (it builds them with Go on first use). Resolved once per process.
fn krew_bin_dir() -> Result<PathBuf, String> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| {
        script_built_dir(
            "IRSA_KREW_BIN",
            "krew-tools.sh",
            &["krew", "validate-krew-manifest"],
            "krew's tools could not be built",
        )
    })
    .clone()
}

/// The plugin binary to package: `$KUBECTL_IRSA_BIN`, else `<target>/debug/kubectl-irsa`.
fn plugin_binary() -> Result<PathBuf, String> {
    if let Some(path) = env::var_os("KUBECTL_IRSA_BIN").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(format!(
                "KUBECTL_IRSA_BIN={} is not an executable file",
                path.display()
            ))
        };
    }
    let target = env::var_os("CARGO_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let path = target.join("debug").join("kubectl-irsa");
    if is_executable(&path) {
        Ok(path)
    } else {
        Err(format!(
            "no plugin binary at {} and KUBECTL_IRSA_BIN is unset: run `cargo build -p kubectl-irsa`",
            path.display()
        ))
    }
}

fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    out
}

fn text(out: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn release_sh() -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("scripts/release.sh"));
    cmd
}

/// `scripts/release.sh --profile dev --binary <plugin> --out <dir>`: the host archive and `<dir>/irsa.yaml`.
fn release_into(out_dir: &Path, plugin: &Path) -> PathBuf {
    let out = run(release_sh()
        .args(["--profile", "dev", "--binary"])
        .arg(plugin)
        .arg("--out")
        .arg(out_dir));
    assert!(out.status.success(), "release.sh failed: {}", text(&out));
    let rendered = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert_eq!(rendered, out_dir.join("irsa.yaml"), "{}", text(&out));
    rendered
}

fn host_platform() -> (&'static str, &'static str) {
    let os = match env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let found = PLATFORMS
        .iter()
        .find(|(o, a)| *o == os && *a == arch)
        .unwrap_or_else(|| panic!("host {os}/{arch} is not a krew platform of the manifest"));
    *found
}

fn load(path: &Path) -> Value {
    let s = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml::from_str(&s).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for key in path {
        cur = &cur[*key];
    }
    cur.as_str()
        .unwrap_or_else(|| panic!("{} is not a string: {cur:?}", path.join(".")))
}

fn platform_key(p: &Value) -> (String, String) {
    (
        str_at(p, &["selector", "matchLabels", "os"]).to_string(),
        str_at(p, &["selector", "matchLabels", "arch"]).to_string(),
    )
}

#[test]
fn template_declares_the_plugin_for_five_platforms() {
    let m = load(&repo_root().join("krew-manifest.yaml"));
    assert_eq!(
        str_at(&m, &["apiVersion"]),
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(str_at(&m, &["kind"]), "Plugin");
    assert_eq!(str_at(&m, &["metadata", "name"]), "irsa");
    assert_eq!(
        str_at(&m, &["spec", "version"]),
        version_tag(),
        "spec.version must be the workspace version"
    );
    assert_eq!(
        str_at(&m, &["spec", "homepage"]),
        "https://github.com/kubectl-irsa/kubectl-irsa"
    );
    assert!(!str_at(&m, &["spec", "shortDescription"]).contains('\n'));
    assert!(!str_at(&m, &["spec", "description"]).is_empty());
    let caveats = str_at(&m, &["spec", "caveats"]);
    for needle in ["credentials", "AWS_ENDPOINT_URL", "AWS_CA_BUNDLE"] {
        assert!(caveats.contains(needle), "caveats should mention {needle}");
    }

    let platforms = m["spec"]["platforms"]
        .as_sequence()
        .expect("spec.platforms");
    let keys: BTreeSet<_> = platforms.iter().map(platform_key).collect();
    let want: BTreeSet<_> = PLATFORMS
        .iter()
        .map(|(o, a)| (o.to_string(), a.to_string()))
        .collect();
    assert_eq!(keys, want);
    assert_eq!(platforms.len(), PLATFORMS.len(), "one entry per platform");
    for p in platforms {
        let (os, arch) = platform_key(p);
        let exe = if os == "windows" {
            "kubectl-irsa.exe"
        } else {
            "kubectl-irsa"
        };
        assert_eq!(
            str_at(p, &["uri"]),
            format!(
                "{RELEASES}/{}/kubectl-irsa_{os}_{arch}.tar.gz",
                version_tag()
            )
        );
        assert_eq!(
            str_at(p, &["sha256"]),
            format!("SHA256_{}_{}", os.to_uppercase(), arch.to_uppercase()),
            "the template keeps a placeholder release.sh fills"
        );
        assert_eq!(str_at(p, &["bin"]), exe);
        let files: Vec<(String, String)> = p["files"]
            .as_sequence()
            .expect("files")
            .iter()
            .map(|f| (str_at(f, &["from"]).into(), str_at(f, &["to"]).into()))
            .collect();
        assert_eq!(
            files,
            vec![
                (exe.to_string(), ".".to_string()),
                ("LICENSE".to_string(), ".".to_string())
            ]
        );
    }
}

#[test]
fn release_renders_the_host_archive_and_checksum() {
    let Some(plugin) = require("the kubectl-irsa binary", plugin_binary()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rendered = release_into(dir.path(), &plugin);
    let (os, arch) = host_platform();
    let archive = dir.path().join(format!("kubectl-irsa_{os}_{arch}.tar.gz"));

    // The archive holds exactly the binary and LICENSE, at its root.
    let out = run(Command::new("tar").arg("tzf").arg(&archive));
    assert!(out.status.success(), "{}", text(&out));
    let mut entries: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    entries.sort();
    assert_eq!(entries, ["LICENSE", "kubectl-irsa"]);

    // The rendered manifest lists the host platform only, with the archive's real sha256.
    let m = load(&rendered);
    let platforms = m["spec"]["platforms"].as_sequence().unwrap();
    assert_eq!(platforms.len(), 1, "only the platform that was built");
    assert_eq!(platform_key(&platforms[0]), (os.into(), arch.into()));
    let out = run(Command::new("sha256sum").arg(&archive));
    assert!(out.status.success(), "{}", text(&out));
    let sum = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(str_at(&platforms[0], &["sha256"]), sum);
    assert!(!std::fs::read_to_string(&rendered)
        .unwrap()
        .contains("SHA256_"));

    // A release needs all five: --require-all-platforms refuses a partial set.
    let out = run(release_sh()
        .args(["--manifest-only", "--require-all-platforms", "--out"])
        .arg(dir.path()));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no archive for"),
        "{}",
        text(&out)
    );
}

#[test]
fn validate_krew_manifest_accepts_the_rendered_manifest() {
    let Some(bin) = require("krew's tools", krew_bin_dir()) else {
        return;
    };
    let Some(plugin) = require("the kubectl-irsa binary", plugin_binary()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rendered = release_into(dir.path(), &plugin);
    // -skip-install: its install step downloads every platform's uri; the offline install is the next test.
    let out = run(Command::new(bin.join("validate-krew-manifest"))
        .arg("-manifest")
        .arg(&rendered)
        .arg("-skip-install"));
    assert!(
        out.status.success(),
        "validate-krew-manifest rejected {}: {}",
        rendered.display(),
        text(&out)
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("structural validation OK"), "{}", text(&out));
}

#[test]
fn validate_krew_manifest_accepts_the_template_for_all_platforms() {
    // The rendered manifest above only has the host platform; check every platform's entry (selectors, bin,
    // files, no overlap) with krew's validator by filling each placeholder with a well-formed stand-in.
    let Some(bin) = require("krew's tools", krew_bin_dir()) else {
        return;
    };
    // The sha256 of no bytes: well-formed, and matches no archive.
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let template = std::fs::read_to_string(repo_root().join("krew-manifest.yaml")).unwrap();
    let mut filled = template.clone();
    for (os, arch) in PLATFORMS {
        let placeholder = format!("SHA256_{}_{}", os.to_uppercase(), arch.to_uppercase());
        assert!(template.contains(&placeholder), "missing {placeholder}");
        filled = filled.replace(&placeholder, EMPTY_SHA256);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("irsa.yaml");
    std::fs::write(&path, filled).unwrap();
    let out = run(Command::new(bin.join("validate-krew-manifest"))
        .arg("-manifest")
        .arg(&path)
        .arg("-skip-install"));
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn krew_installs_the_archive_offline_and_kubectl_runs_the_plugin() {
    let Some(bin) = require("krew's tools", krew_bin_dir()) else {
        return;
    };
    let Some(kubectl) = require("kubectl", kubectl_binary().map_err(|e| e.to_string())) else {
        return;
    };
    let Some(plugin) = require("the kubectl-irsa binary", plugin_binary()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    let rendered = release_into(&dist, &plugin);
    let (os, arch) = host_platform();
    let archive = dist.join(format!("kubectl-irsa_{os}_{arch}.tar.gz"));

    // krew is a kubectl plugin itself: kubectl finds it on PATH as kubectl-krew. Nothing else of the host's
    // PATH may provide a kubectl-irsa.
    let tools = dir.path().join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    std::os::unix::fs::symlink(bin.join("krew"), tools.join("kubectl-krew")).unwrap();
    let krew_root = dir.path().join("krew-root");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let path = |first: &[&Path]| {
        let mut dirs: Vec<PathBuf> = first.iter().map(|p| p.to_path_buf()).collect();
        dirs.extend(["/usr/bin", "/bin"].map(PathBuf::from));
        env::join_paths(dirs).unwrap()
    };
    let kubectl_cmd = |path_var: &std::ffi::OsStr| {
        let mut cmd = Command::new(&kubectl);
        cmd.env_clear()
            .env("HOME", &home)
            .env("KREW_ROOT", &krew_root)
            .env("PATH", path_var)
            .env("KUBECONFIG", home.join("no-kubeconfig"));
        cmd
    };

    let out = run(kubectl_cmd(&path(&[&tools]))
        .args(["krew", "install"])
        .arg(format!("--manifest={}", rendered.display()))
        .arg(format!("--archive={}", archive.display())));
    assert!(
        out.status.success(),
        "kubectl krew install failed: {}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Installed plugin: irsa"),
        "{}",
        text(&out)
    );
    let tag = version_tag();
    for installed in [
        krew_root.join("bin/kubectl-irsa"),
        krew_root.join(format!("store/irsa/{tag}/kubectl-irsa")),
        krew_root.join(format!("store/irsa/{tag}/LICENSE")),
        krew_root.join("receipts/irsa.yaml"),
    ] {
        assert!(
            installed.exists(),
            "krew did not install {}",
            installed.display()
        );
    }

    // kubectl's plugin discovery finds it through KREW_ROOT/bin, as krew tells users to set PATH.
    let out =
        run(kubectl_cmd(&path(&[&krew_root.join("bin"), &tools])).args(["irsa", "--version"]));
    assert!(
        out.status.success(),
        "kubectl irsa --version: {}",
        text(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(env!("CARGO_PKG_VERSION")),
        "kubectl irsa --version should print {}: {}",
        env!("CARGO_PKG_VERSION"),
        text(&out)
    );

    // `kubectl plugin list` sees it where krew put it (krew's own `list` needs an index: not offline).
    let out = run(kubectl_cmd(&path(&[&krew_root.join("bin"), &tools])).args(["plugin", "list"]));
    assert!(out.status.success(), "{}", text(&out));
    let listed = krew_root.join("bin/kubectl-irsa");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&*listed.to_string_lossy()),
        "{}",
        text(&out)
    );
}
