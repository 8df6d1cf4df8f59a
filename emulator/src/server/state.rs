//! The state handlers are given, built in one place. Each service is a field, so a handler asks for exactly
//! the service it needs (`State<Iam>`, `State<Sts>`, …) through [`FromRef`]; no service sees the others.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::audit::Audit;
use crate::auth::session::SessionKeyError;
use crate::auth::{Authenticator, SessionKeys};
use crate::clusters::Clusters;
use crate::config::Config;
use crate::partition::Account;
use crate::pod_identity::Associations;
use crate::protocol::RequestLimits;
use crate::services::admin::Admin;
use crate::services::eks::Eks;
use crate::services::eks_auth::{EksAuth, EksAuthParts};
use crate::services::iam::catalog::Catalog;
use crate::services::iam::{Authorizer, Iam};
use crate::services::sts::{JwksCache, Sts};
use crate::state::Store;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub iam: Iam,
    pub sts: Sts,
    pub eks: Eks,
    pub eks_auth: EksAuth,
    pub clusters: Clusters,
    pub admin: Admin,
    pub authenticator: Authenticator,
    pub limits: RequestLimits,
}

impl AppState {
    /// Everything the emulator serves from `store`, as `config` describes it, under `public_url` (issuers are
    /// minted there); `ca_pem` is the CA of the serving certificate, trusted when fetching own issuers' keys.
    pub fn build(
        config: &Config,
        public_url: &str,
        ca_pem: Option<&str>,
        store: Arc<Store>,
        audit: Audit,
    ) -> Result<AppState, SessionKeyError> {
        let account = &Account::new(&config.account_id, &config.region);
        let sessions = Arc::new(SessionKeys::load_or_create(&store)?);
        let audit = Arc::new(audit);
        let catalog = Arc::new(Catalog::builtin(account.partition()));
        let clusters = Clusters::new(store.clone(), public_url, &config.region, account);
        let jwks = Arc::new(JwksCache::new(clusters.clone(), ca_pem));
        let authorizer = Authorizer::new(store.clone(), catalog.clone(), audit.clone(), account);
        let associations = Associations::new(store.clone(), &config.region, account);
        Ok(AppState {
            iam: Iam::new(store.clone(), catalog, account, authorizer.clone()),
            sts: Sts::new(
                store.clone(),
                sessions.clone(),
                audit.clone(),
                jwks.clone(),
                authorizer.clone(),
                account,
            ),
            eks: Eks::new(
                clusters.clone(),
                associations.clone(),
                authorizer.clone(),
                audit.clone(),
            ),
            eks_auth: EksAuth::new(EksAuthParts {
                store: store.clone(),
                clusters: clusters.clone(),
                associations: associations.clone(),
                jwks: jwks.clone(),
                sessions: sessions.clone(),
                authorizer: authorizer.clone(),
                audit: audit.clone(),
            }),
            admin: Admin::new(store, clusters.clone(), audit.clone(), jwks),
            clusters,
            authenticator: Authenticator::new(
                config.admin.clone(),
                sessions,
                audit.clone(),
                &config.region,
            ),
            limits: RequestLimits {
                read_timeout: config.request_read_timeout,
            },
        })
    }
}
