//! STS over the Query protocol: web identity federation (the IRSA call), role chaining, session tokens and
//! caller identity. Every decision is audited; denials say why.

mod assume;
pub mod jwks;
mod lookups;
pub mod token;
mod trust;
mod web_identity;

use std::sync::Arc;

use axum::http::StatusCode;

pub use jwks::JwksCache;
pub use trust::TrustPolicies;

use crate::audit::Audit;
use crate::auth::{missing_authentication, Caller, IssuedCredentials, SessionKeys};
use crate::partition::Account;
use crate::protocol::{AwsError, Params, XmlWriter};
use crate::services::iam::{render, Authorizer, Handled};
use crate::state::model::OidcProvider;
use crate::state::{blocking, Store};

/// STS: what it verifies tokens and sessions with, and what it records.
#[derive(Clone)]
pub struct Sts {
    store: Arc<Store>,
    sessions: Arc<SessionKeys>,
    audit: Arc<Audit>,
    jwks: Arc<JwksCache>,
    trust: Arc<TrustPolicies>,
    lookups: Arc<lookups::Lookups>,
    authorizer: Authorizer,
    account: Account,
}

impl Sts {
    pub fn new(
        store: Arc<Store>,
        sessions: Arc<SessionKeys>,
        audit: Arc<Audit>,
        jwks: Arc<JwksCache>,
        authorizer: Authorizer,
        account: &Account,
    ) -> Self {
        Sts {
            store,
            sessions,
            audit,
            jwks,
            trust: Arc::default(),
            lookups: Arc::default(),
            authorizer,
            account: account.clone(),
        }
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    pub fn account_id(&self) -> &str {
        self.account.id()
    }

    pub async fn dispatch(&self, caller: Option<Caller>, action: &str, params: Params) -> Handled {
        match (action, caller) {
            ("AssumeRoleWithWebIdentity", _) => {
                web_identity::assume_role_with_web_identity(self, &params).await
            }
            ("GetCallerIdentity", Some(caller)) => self.get_caller_identity(&caller),
            ("AssumeRole", Some(caller)) => {
                let sts = self.clone();
                blocking(move || assume::assume_role(&sts, &caller, &params)).await
            }
            ("GetSessionToken", Some(caller)) => assume::get_session_token(self, &caller, &params),
            (_, None) => Err(missing_authentication()),
            _ => Err(AwsError::new(
                "InvalidAction",
                StatusCode::BAD_REQUEST,
                format!("Could not find operation {action} for version 2011-06-15"),
            )),
        }
    }

    /// Web identity token verification as AssumeRoleWithWebIdentity does it, up to the trust policy (the
    /// token fuzz harness calls it).
    pub async fn verify_web_identity(&self, token: &str) -> Result<token::VerifiedToken, AwsError> {
        let token = token::UnverifiedToken::decode(token)?;
        let (store, arn) = (self.store.clone(), self.provider_arn(&token));
        let provider =
            blocking(move || store.read(|db| Ok::<_, AwsError>(db.oidc_provider(&arn)?))).await?;
        let (verified, _) = self.verify_token(token, provider.as_ref()).await?;
        Ok(verified)
    }

    /// The IAM OIDC provider ARN a token's issuer would be registered under.
    fn provider_arn(&self, token: &token::UnverifiedToken) -> String {
        self.account
            .iam_arn(&format!("oidc-provider/{}", token.provider_url()))
    }

    /// A decoded token checked against its issuer's provider (`None`: not registered) and keys.
    async fn verify_token<'p>(
        &self,
        token: token::UnverifiedToken<'_>,
        provider: Option<&'p OidcProvider>,
    ) -> Result<(token::VerifiedToken, &'p OidcProvider), AwsError> {
        let issuer = token.issuer().to_string();
        let provider = provider.ok_or_else(|| {
            token::invalid(format!(
                "No OpenIDConnect provider found in your account for {issuer}"
            ))
        })?;
        let keys = self.jwks.keys(&issuer).await?;
        let kid = token.kid()?;
        let key = match keys.find(kid) {
            None => Err(token::invalid(format!(
                "No key with kid {kid} in the JWKS of {issuer}"
            ))),
            Some(Err(e)) => Err(token::invalid(format!(
                "The issuer's key {kid} is unusable: {e}"
            ))),
            Some(Ok(key)) => Ok(key),
        }?;
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        Ok((token.verify(key, provider, now)?, provider))
    }

    fn get_caller_identity(&self, caller: &Caller) -> Handled {
        let mut xml = XmlWriter::new();
        xml.text_element("Arn", &caller.arn(self.account()))
            .text_element("UserId", &caller.user_id())
            .text_element("Account", self.account_id());
        Ok(Some(xml))
    }
}

pub fn render_credentials(xml: &mut XmlWriter, creds: &IssuedCredentials) {
    xml.open("Credentials")
        .text_element("AccessKeyId", &creds.access_key_id)
        .text_element("SecretAccessKey", &creds.secret_access_key)
        .text_element("SessionToken", &creds.session_token)
        .text_element("Expiration", &render::date(&creds.expiration))
        .close("Credentials");
}
