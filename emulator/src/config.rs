//! What `irsa-emulator serve` is told: where to listen, where to keep state, which account it pretends to be.

use std::net::SocketAddr;
use std::path::PathBuf;

pub const DEFAULT_ACCOUNT_ID: &str = "111122223333";
pub const DEFAULT_REGION: &str = "us-east-1";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";
/// Documented defaults so `irsa-emulator env` and tests agree without configuration. These credentials
/// only ever open this emulator.
pub const DEFAULT_ADMIN_ACCESS_KEY_ID: &str = "AKIAIRSAEMULATORTEST";
pub const DEFAULT_ADMIN_SECRET_ACCESS_KEY: &str = "irsaEmulatorAdminSecretAccessKey00000000";

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// More addresses served alike (`--listen` given again): e.g. loopback and the one address a kind
    /// node reaches, rather than every interface.
    pub also_listen: Vec<SocketAddr>,
    /// `None` is `--ephemeral`: state in memory, TLS material regenerated each start.
    pub data_dir: Option<PathBuf>,
    pub tls: bool,
    pub account_id: String,
    pub region: String,
    /// Extra names (beyond localhost and loopback addresses) the server certificate is valid for.
    pub hostnames: Vec<String>,
    pub admin: AdminCredentials,
    /// Base URL issuers and endpoints are minted under; derived from `listen` when not given.
    pub public_url: Option<String>,
    /// The cluster whose ServiceAccounts the pod identity webhook (`POST /mutate`) reads; `None` admits
    /// every pod unchanged.
    pub kubeconfig: Option<PathBuf>,
    /// A client must send a request's headers within this time, and its body within this time again;
    /// otherwise the connection is closed (idle, slow or stuck clients must not hold connections forever).
    pub request_read_timeout: std::time::Duration,
    /// A connection with no traffic either way for this long is closed (AWS's load balancers: 60 s).
    pub idle_timeout: std::time::Duration,
}

pub const DEFAULT_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// What AWS-facing servers commonly allow; SDKs send a request in milliseconds.
pub const DEFAULT_REQUEST_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(Debug, Clone)]
pub struct AdminCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl Default for AdminCredentials {
    fn default() -> Self {
        AdminCredentials {
            access_key_id: DEFAULT_ADMIN_ACCESS_KEY_ID.into(),
            secret_access_key: DEFAULT_ADMIN_SECRET_ACCESS_KEY.into(),
        }
    }
}

impl Config {
    /// In-memory emulator on a free loopback port: what tests start.
    pub fn ephemeral() -> Config {
        Config {
            listen: "127.0.0.1:0".parse().expect("literal address"),
            also_listen: Vec::new(),
            data_dir: None,
            tls: true,
            account_id: DEFAULT_ACCOUNT_ID.into(),
            region: DEFAULT_REGION.into(),
            hostnames: Vec::new(),
            admin: AdminCredentials::default(),
            public_url: None,
            kubeconfig: None,
            request_read_timeout: DEFAULT_REQUEST_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }

    pub fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }

    /// The URL clients use, for the actual bound address (the port may have been 0).
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        if let Some(url) = &self.public_url {
            return url.trim_end_matches('/').to_string();
        }
        let host = if bound.ip().is_unspecified() {
            self.hostnames
                .first()
                .cloned()
                .unwrap_or_else(|| "127.0.0.1".to_string())
        } else if bound.is_ipv6() {
            format!("[{}]", bound.ip())
        } else {
            bound.ip().to_string()
        };
        format!("{}://{}:{}", self.scheme(), host, bound.port())
    }
}
