//! Measurements behind `scripts/bench.sh` and the emulator's load test: a load generator that speaks the AWS
//! Query protocol over plain HTTP/1.1 (SigV4-signed by aws-sigv4 where the API requires it), start-up timing and
//! RSS sampling. The same code drives irsa-emulator and moto, so the two are measured alike.

pub mod connection;
pub mod load;
pub mod query;
pub mod rss;
pub mod startup;
pub mod workloads;

pub use connection::{Connection, Target};
pub use load::{run_count, run_for, LoadOptions, Report, Workload};
pub use query::Signer;
