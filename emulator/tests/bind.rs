//! Where `irsa-emulator serve` listens: loopback unless told otherwise, and a warning when told to bind wider,
//! because the admin credentials are documented defaults.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};

use irsa_emulator::config;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `serve` on `listen` and returns its stderr up to the line saying where it listens.
fn serve_until_listening(listen: &str) -> String {
    let mut child: Child = Command::new(env!("CARGO_BIN_EXE_irsa-emulator"))
        .args(["serve", "--ephemeral", "--http", "--listen", listen])
        .env_remove("IRSA_LOG")
        .stderr(Stdio::piped())
        .spawn()
        .expect("irsa-emulator starts");
    let mut seen = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("irsa-emulator listening on") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        seen.contains("irsa-emulator listening on"),
        "serve --listen {listen} never said it was listening:\n{seen}"
    );
    seen
}

#[test]
fn the_default_address_is_loopback_and_help_says_so() {
    let default: SocketAddr = config::DEFAULT_LISTEN.parse().unwrap();
    assert!(default.ip().is_loopback(), "{default}");
    let help = Command::new(env!("CARGO_BIN_EXE_irsa-emulator"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("[default: 127.0.0.1:8443]"), "{help}");
}

#[test]
fn binding_beyond_loopback_warns() {
    let stderr = serve_until_listening(&format!("0.0.0.0:{}", free_port()));
    assert!(stderr.contains("listening beyond loopback"), "{stderr}");
    assert!(stderr.contains("admin credentials"), "{stderr}");
}

#[test]
fn binding_to_loopback_does_not_warn() {
    let stderr = serve_until_listening(&format!("127.0.0.1:{}", free_port()));
    assert!(!stderr.contains("beyond loopback"), "{stderr}");
}
