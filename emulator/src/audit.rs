//! Every STS decision and every denied call: kept in a bounded ring for `GET /_emulator/audit` and
//! appended to `audit.log` (JSON lines) by a background task, so requests never wait on the disk.

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

const RING_CAPACITY: usize = 2000;
const QUEUE_CAPACITY: usize = 10_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEvent {
    pub seq: u64,
    pub time: DateTime<Utc>,
    pub caller: String,
    pub action: String,
    pub role: Option<String>,
    pub decision: Decision,
    pub code: Option<String>,
    pub explanation: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Deny,
}

/// What a caller records; the audit log numbers and stamps it.
pub struct Entry<'a> {
    pub caller: &'a str,
    pub action: &'a str,
    pub role: Option<&'a str>,
    pub decision: Decision,
    pub code: Option<&'a str>,
    pub explanation: String,
}

pub struct Audit {
    ring: Mutex<(u64, VecDeque<AuditEvent>)>,
    file: Option<mpsc::Sender<AuditEvent>>,
}

impl Audit {
    /// `log_path` None keeps events in memory only (`--ephemeral`).
    pub fn new(log_path: Option<PathBuf>) -> Audit {
        let file = log_path.map(|path| {
            let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
            tokio::spawn(write_log(path, rx));
            tx
        });
        Audit {
            ring: Mutex::new((0, VecDeque::with_capacity(RING_CAPACITY))),
            file,
        }
    }

    pub fn record(&self, entry: Entry) {
        let event = {
            let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
            ring.0 += 1;
            let event = AuditEvent {
                seq: ring.0,
                time: Utc::now(),
                caller: entry.caller.to_string(),
                action: entry.action.to_string(),
                role: entry.role.map(str::to_string),
                decision: entry.decision,
                code: entry.code.map(str::to_string),
                explanation: entry.explanation,
            };
            if ring.1.len() == RING_CAPACITY {
                ring.1.pop_front();
            }
            ring.1.push_back(event.clone());
            event
        };
        tracing::info!(
            action = %event.action,
            caller = %event.caller,
            decision = ?event.decision,
            explanation = %event.explanation,
            "audit"
        );
        if let Some(tx) = &self.file {
            // Under overload the file loses events rather than slowing requests; the ring still has them.
            let _ = tx.try_send(event);
        }
    }

    /// Events after `since` (a sequence number), oldest first.
    pub fn since(&self, since: u64) -> Vec<AuditEvent> {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        ring.1.iter().filter(|e| e.seq > since).cloned().collect()
    }
}

async fn write_log(path: PathBuf, mut rx: mpsc::Receiver<AuditEvent>) {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path);
    let mut file = match file {
        Ok(f) => std::io::BufWriter::new(f),
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "cannot open audit log; events stay in memory only");
            return;
        }
    };
    while let Some(event) = rx.recv().await {
        let mut batch = vec![event];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        for event in batch {
            if let Ok(line) = serde_json::to_string(&event) {
                let _ = writeln!(file, "{line}");
            }
        }
        let _ = file.flush();
    }
}
