//! Closed-loop load: N connections, each sending its next request as soon as the previous answer is read.
//! Latencies are recorded per request after the warm-up; a non-2xx answer or a transport error is an error.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode};
use serde::Serialize;

use crate::connection::{Body, Connection, Target};
use crate::rss::{RssSampler, RssSummary};

/// What one connection sends: request number `seq` (per connection, from 0) of connection `worker`.
pub trait Workload: Send + Sync + 'static {
    fn request(&self, target: &Target, worker: usize, seq: u64) -> anyhow::Result<Request<Body>>;

    /// Whether an answer counts as a success; by default any 2xx.
    fn check(&self, status: StatusCode, body: &Bytes) -> Result<(), String> {
        if status.is_success() {
            Ok(())
        } else {
            Err(format!(
                "{status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ))
        }
    }
}

#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub connections: usize,
    pub warmup: Duration,
    /// The server's process, whose RSS is sampled once a second during the run.
    pub server_pid: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub first_error: Option<String>,
    pub rss: Option<RssSummary>,
}

struct WorkerResult {
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

/// Runs the workload for `duration` after `options.warmup`.
pub async fn run_for(
    target: &Target,
    workload: Arc<dyn Workload>,
    options: &LoadOptions,
    duration: Duration,
) -> Report {
    let measure_from = Instant::now() + options.warmup;
    let until = measure_from + duration;
    run(target, workload, options, measure_from, Stop::At(until)).await
}

/// Sends exactly `total` requests in all (no warm-up), as fast as the connections allow.
pub async fn run_count(
    target: &Target,
    workload: Arc<dyn Workload>,
    options: &LoadOptions,
    total: u64,
) -> Report {
    let counter = Arc::new(AtomicU64::new(0));
    run(
        target,
        workload,
        options,
        Instant::now(),
        Stop::After { counter, total },
    )
    .await
}

#[derive(Clone)]
enum Stop {
    At(Instant),
    After { counter: Arc<AtomicU64>, total: u64 },
}

impl Stop {
    fn should_stop(&self) -> bool {
        match self {
            Stop::At(until) => Instant::now() >= *until,
            Stop::After { counter, total } => counter.fetch_add(1, Ordering::Relaxed) >= *total,
        }
    }
}

async fn run(
    target: &Target,
    workload: Arc<dyn Workload>,
    options: &LoadOptions,
    measure_from: Instant,
    stop: Stop,
) -> Report {
    let sampler = options
        .server_pid
        .map(|pid| RssSampler::start(pid, measure_from));
    let workers: Vec<_> = (0..options.connections.max(1))
        .map(|worker| {
            let workload = workload.clone();
            let target = target.clone();
            let stop = stop.clone();
            tokio::spawn(async move { drive(target, workload, worker, measure_from, stop).await })
        })
        .collect();
    let mut latencies = Vec::new();
    let (mut errors, mut first_error) = (0, None);
    for worker in workers {
        let result = worker.await.expect("load worker panicked");
        latencies.extend(result.latencies_us);
        errors += result.errors;
        first_error = first_error.or(result.first_error);
    }
    let seconds = measure_from.elapsed().as_secs_f64();
    let rss = match sampler {
        Some(sampler) => Some(sampler.finish().await),
        None => None,
    };
    latencies.sort_unstable();
    let requests = latencies.len() as u64 + errors;
    Report {
        requests,
        errors,
        seconds,
        requests_per_second: requests as f64 / seconds.max(f64::EPSILON),
        p50_ms: percentile_ms(&latencies, 0.50),
        p99_ms: percentile_ms(&latencies, 0.99),
        max_ms: latencies.last().map_or(0.0, |us| *us as f64 / 1000.0),
        first_error,
        rss,
    }
}

async fn drive(
    target: Target,
    workload: Arc<dyn Workload>,
    worker: usize,
    measure_from: Instant,
    stop: Stop,
) -> WorkerResult {
    let mut connection = Connection::new(target.clone());
    let mut result = WorkerResult {
        latencies_us: Vec::with_capacity(1 << 16),
        errors: 0,
        first_error: None,
    };
    let mut seq = 0;
    while !stop.should_stop() {
        let outcome = match workload.request(&target, worker, seq) {
            Ok(request) => {
                let started = Instant::now();
                match connection.send(request).await {
                    Ok((status, body)) => workload.check(status, &body).map(|()| started.elapsed()),
                    Err(e) => Err(format!("transport: {e:#}")),
                }
            }
            Err(e) => Err(format!("building the request: {e:#}")),
        };
        seq += 1;
        if Instant::now() < measure_from {
            continue;
        }
        match outcome {
            Ok(latency) => result
                .latencies_us
                .push(latency.as_micros().min(u32::MAX as u128) as u32),
            Err(message) => {
                result.errors += 1;
                result.first_error.get_or_insert(message);
            }
        }
    }
    result
}

fn percentile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let index = ((sorted_us.len() as f64 * q).ceil() as usize).clamp(1, sorted_us.len()) - 1;
    sorted_us[index] as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::percentile_ms;

    #[test]
    fn percentiles_use_nearest_rank() {
        let us: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile_ms(&us, 0.50), 50.0);
        assert_eq!(percentile_ms(&us, 0.99), 99.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
    }
}
