//! What a start prepares before spawning anything: free ports, the admin token, private files (keys,
//! token file) and the admin kubeconfig.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::thread;
use std::time::Instant;

use anyhow::{Context, Result};
use base64::Engine as _;

use super::ADMIN_USER;

pub(super) fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
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

pub(super) fn random_token() -> String {
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
pub(super) fn free_ports() -> Result<[u16; 3]> {
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

pub(super) fn kubeconfig_yaml(server_url: &str, ca_pem: &str, token: &str) -> String {
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
