//! Where the test binaries come from: kube-apiserver and etcd (`scripts/controlplane.sh`), kubectl, the
//! repository and the cache the scripts share.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use anyhow::{anyhow, bail, Result};

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
    script_built_dir(
        "IRSA_CONTROLPLANE_BIN",
        "controlplane.sh",
        &["kube-apiserver", "etcd"],
        "kube-apiserver and etcd could not be built",
    )
}

/// The directory holding `tools`: `$var`, else the last line `scripts/<script>` prints (the scripts build the
/// tools with Go on first use and print where they are). `failure` says what a failed script means.
pub fn script_built_dir(
    var: &str,
    script: &str,
    tools: &[&str],
    failure: &str,
) -> std::result::Result<PathBuf, String> {
    let script = repo_root().join("scripts").join(script);
    let check = |dir: PathBuf, origin: &str| {
        let missing: Vec<_> = tools
            .iter()
            .filter(|tool| !is_executable(&dir.join(tool)))
            .copied()
            .collect();
        if missing.is_empty() {
            Ok(dir)
        } else {
            Err(format!(
                "{origin} ({}) has no executable {}; build them with {}",
                dir.display(),
                missing.join(", "),
                script.display()
            ))
        }
    };
    if let Some(dir) = env::var_os(var).filter(|v| !v.is_empty()) {
        return check(dir.into(), var);
    }
    if !script.is_file() {
        return Err(format!(
            "{var} is unset and {} does not exist",
            script.display()
        ));
    }
    eprintln!(
        "irsa-e2e: {var} unset; running {} (the first build takes minutes)",
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
            "{} failed ({}), see its output above: {failure} (they need Go and the Go module proxy); \
             scripts/test.sh installs them, or set {var} to a directory holding {}",
            script.display(),
            out.status,
            tools.join(" and ")
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

pub fn is_executable(path: &Path) -> bool {
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
