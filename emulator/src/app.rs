//! Everything a handler may use, passed explicitly as axum state.

use std::sync::Arc;

use crate::audit::Audit;
use crate::auth::SessionKeys;
use crate::config::Config;
use crate::iam::catalog::Catalog;
use crate::jwks::JwksCache;
use crate::state::Store;

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub store: Store,
    pub config: Config,
    pub catalog: Catalog,
    /// Base URL of this server as clients reach it (issuers are minted under it).
    pub public_url: String,
    /// PEM of the CA that signed the serving certificate (`None` with `--http`).
    pub ca_pem: Option<String>,
    pub sessions: SessionKeys,
    pub audit: Audit,
    pub jwks: JwksCache,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }

    pub fn account_id(&self) -> &str {
        &self.0.config.account_id
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
