//! Resident memory of a server process, read from /proc (Linux).

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::oneshot;

/// RSS in KiB, from `VmRSS` in /proc/PID/status.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

#[derive(Debug, Serialize, Clone)]
pub struct RssSummary {
    /// When measuring started (after the warm-up).
    pub start_kib: u64,
    pub peak_kib: u64,
    pub end_kib: u64,
    /// One sample a second from the start of measuring.
    pub samples_kib: Vec<u64>,
}

impl RssSummary {
    /// End over start, e.g. 1.04 for 4% growth during the measured period.
    pub fn growth(&self) -> f64 {
        self.end_kib as f64 / self.start_kib.max(1) as f64
    }
}

pub struct RssSampler {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Vec<u64>>,
}

impl RssSampler {
    pub fn start(pid: u32, from: Instant) -> Self {
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            tokio::time::sleep_until(from.into()).await;
            let mut samples = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tick.tick() => samples.extend(rss_kib(pid)),
                    _ = &mut stopped => break,
                }
            }
            samples
        });
        Self { stop, task }
    }

    pub async fn finish(self) -> RssSummary {
        let _ = self.stop.send(());
        let samples = self.task.await.unwrap_or_default();
        RssSummary {
            start_kib: samples.first().copied().unwrap_or(0),
            peak_kib: samples.iter().copied().max().unwrap_or(0),
            end_kib: samples.last().copied().unwrap_or(0),
            samples_kib: samples,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_own_rss() {
        let kib = super::rss_kib(std::process::id()).expect("VmRSS of this process");
        assert!(kib > 100, "{kib} KiB");
    }
}
