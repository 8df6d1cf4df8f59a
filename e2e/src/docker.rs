//! Is there a Docker engine? The kind and container tests need one; where none answers (this project's own CI)
//! they say so and return, neither failing nor claiming to have checked anything.

use std::process::{Command, Stdio};

/// `Some(reason)` when no Docker engine answers `docker info`.
pub fn engine_absent() -> Option<String> {
    match Command::new("docker")
        .arg("info")
        .stdin(Stdio::null())
        .output()
    {
        Err(e) => Some(format!("docker is not installed ({e})")),
        Ok(out) if !out.status.success() => Some(format!(
            "no Docker engine answers (docker info failed: {})",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
        )),
        Ok(_) => None,
    }
}

/// For a test that needs Docker: `true` (after printing "skipped: <reason> — <would_check>") when no engine
/// answers. With `IRSA_REQUIRE_DOCKER=1` (CI runners that have Docker) a missing engine panics instead, so a
/// skip cannot pass for a success there.
pub fn skip_without_engine(would_check: &str) -> bool {
    let Some(reason) = engine_absent() else {
        return false;
    };
    if std::env::var("IRSA_REQUIRE_DOCKER").is_ok_and(|v| v == "1") {
        panic!("IRSA_REQUIRE_DOCKER=1 but {reason} — {would_check}");
    }
    eprintln!("skipped: {reason} — {would_check}");
    true
}

/// The gateway of a Docker network (e.g. `bridge`): the host's address as that network's containers, and the
/// pods of a Kubernetes node running in one, reach it.
pub fn network_gateway(network: &str) -> anyhow::Result<String> {
    let out = Command::new("docker")
        .args(["network", "inspect", network, "--format"])
        .arg("{{range .IPAM.Config}}{{.Gateway}} {{end}}")
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "docker network inspect {network}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|g| g.parse::<std::net::Ipv4Addr>().is_ok())
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("docker network {network} has no IPv4 gateway"))
}
