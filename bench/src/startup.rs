//! Start-up time: from spawning the server process to its first `200` on a given path, polled every
//! millisecond over fresh TCP connections (what a CI job waiting for the emulator does).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// `{port}` in the command is replaced by a free loopback port, `{dir}` by a fresh empty directory.
pub fn measure_once(command: &[String], path: &str, timeout: Duration) -> anyhow::Result<Duration> {
    let port = free_port()?;
    let dir = tempfile::tempdir()?;
    let argv: Vec<String> = command
        .iter()
        .map(|arg| {
            arg.replace("{port}", &port.to_string())
                .replace("{dir}", &dir.path().join("data").display().to_string())
        })
        .collect();
    let (program, args) = argv.split_first().context("empty command")?;
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let result = loop {
        if ok_response(addr, path) {
            break Ok(started.elapsed());
        }
        if let Some(status) = child.try_wait()? {
            break Err(anyhow::anyhow!(
                "{program} exited before answering: {status}"
            ));
        }
        if started.elapsed() > timeout {
            break Err(anyhow::anyhow!(
                "{program} did not answer {path} within {timeout:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn ok_response(addr: SocketAddr, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(100)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Median of `runs` measurements.
pub fn median(
    command: &[String],
    path: &str,
    runs: usize,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let mut times = (0..runs)
        .map(|_| measure_once(command, path, Duration::from_secs(60)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let all = times.clone();
    times.sort();
    Ok((times[runs / 2], all))
}
