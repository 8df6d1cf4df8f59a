//! etcd and kube-apiserver as child processes: spawned tied to the test process, logged to files, killed
//! when dropped, and waited for until healthy (or reported with the tail of their logs).

use std::env;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};

use super::{spawn, tls, LOG_TAIL_LINES};

/// One child process, killed and reaped when dropped.
pub(super) struct Proc {
    name: &'static str,
    pub(super) child: Child,
    pub(super) log: PathBuf,
}

impl Proc {
    pub(super) fn spawn(
        name: &'static str,
        bin: &Path,
        args: &[String],
        log: PathBuf,
    ) -> Result<Proc> {
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

    pub(super) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub(super) fn log_tail(&self) -> String {
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

pub(super) fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("<cannot read: {e}>"));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A failed start, and whether a port was taken between picking and binding.
pub(super) struct StartError {
    pub(super) error: anyhow::Error,
    pub(super) port_clash: bool,
}

impl<E: Into<anyhow::Error>> From<E> for StartError {
    fn from(e: E) -> Self {
        StartError {
            error: e.into(),
            port_clash: false,
        }
    }
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

pub(super) fn wait_for_etcd(etcd: &mut Proc, addr: SocketAddr) -> Result<(), StartError> {
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

pub(super) fn wait_for_apiserver(
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
