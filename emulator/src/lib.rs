//! irsa-emulator: what AWS serves for IRSA (an OIDC issuer, IAM, STS, EKS DescribeCluster), offline.
//!
//! [`start`] runs the server in-process; the `irsa-emulator` binary is a thin CLI over it. The layers, outside
//! in: [`server`] (listening, TLS, routing), `protocol` (AWS wire formats, authentication and errors as axum
//! extractors and responses), `services` (IAM, STS, EKS, the issuers, the admin API: handlers that translate
//! between wire and domain), the domain ([`auth`], [`clusters`], [`audit`]) and [`state`] (SQLite). The pod
//! identity [`webhook`] is a service of its own, on the same port; the Pod Identity [`agent`] runs apart, on
//! the nodes.

pub mod agent;
pub mod audit;
pub mod auth;
pub mod clusters;
pub mod config;
#[doc(hidden)]
pub mod fuzzing;
mod ids;
pub mod partition;
pub mod pod_identity;
mod protocol;
pub mod server;
mod services;
pub mod state;
pub mod webhook;

pub use clusters::{keys, tokens};
pub use config::{AdminCredentials, Config};
pub use protocol::AwsError;
pub use server::{start, tls, AppState, Emulator};
pub use services::admin;

/// Selects rustls' crypto (ring) once per process; every TLS client and server in the crate relies on it.
pub fn install_crypto_provider() {
    // Fails only if a provider is already installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
