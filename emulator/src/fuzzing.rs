//! Entry points for the fuzz targets in `fuzz/` (not an API; hidden from the docs). Each wrapper calls the
//! code the server runs, unchanged; it only reaches modules that are private to the crate.

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey};

use std::sync::Arc;

use crate::audit::Audit;
use crate::clusters::keys;
use crate::config::Config;
use crate::protocol::{error_document, AwsError, Params, IAM};
use crate::server::AppState;
use crate::services::iam::validate;
use crate::state::model::{Cluster, OidcProvider};
use crate::state::Store;

/// An error as the Query protocol sends it: the message and the whole `<ErrorResponse>` document.
#[derive(Debug, Clone)]
pub struct QueryError {
    pub code: &'static str,
    pub message: String,
    pub xml: String,
}

fn query_error(err: &AwsError) -> QueryError {
    QueryError {
        code: err.code,
        message: err.message.clone(),
        xml: error_document(IAM, err),
    }
}

/// A decoded Query-protocol form (`Action=…&Name.member.1=…`), as IAM and STS handlers read it.
pub struct Query(Params);

impl Query {
    /// What the server does with a POST body (and with the URL's query string).
    pub fn parse(form: &[u8]) -> Query {
        Query(Params::parse(form))
    }

    pub fn names(&self) -> Vec<String> {
        self.0.names().map(str::to_string).collect()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name)
    }

    pub fn required(&self, name: &str) -> Result<&str, QueryError> {
        self.0.required(name).map_err(|e| query_error(&e))
    }

    pub fn list(&self, name: &str) -> Vec<String> {
        self.0.list(name)
    }

    pub fn tags(&self, name: &str) -> Result<Vec<(String, String)>, QueryError> {
        self.0.tags(name).map_err(|e| query_error(&e))
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, QueryError> {
        self.0.int(name).map_err(|e| query_error(&e))
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, QueryError> {
        self.0.bool(name).map_err(|e| query_error(&e))
    }

    /// IAM's input rules over the members that have them, as the IAM handlers apply them; the errors found.
    pub fn validate_iam(&self) -> Vec<QueryError> {
        let mut errors = Vec::new();
        let mut check = |result: Result<(), AwsError>| {
            if let Err(e) = result {
                errors.push(query_error(&e));
            }
        };
        if let Some(v) = self.get("RoleName") {
            check(validate::role_name(v));
        }
        if let Some(v) = self.get("PolicyName") {
            check(validate::policy_name(v));
        }
        if let Some(v) = self.get("Path") {
            check(validate::path("Path", v));
        }
        if let Some(v) = self.get("PathPrefix") {
            check(validate::path_prefix(v));
        }
        if let Some(v) = self.get("Description") {
            check(validate::description(v));
        }
        match self.0.int("MaxSessionDuration") {
            Ok(Some(n)) => check(validate::max_session_duration(n)),
            Ok(None) => {}
            Err(e) => check(Err(e)),
        }
        match self.0.int("MaxItems") {
            Ok(n) => check(validate::max_items(n).map(drop)),
            Err(e) => check(Err(e)),
        }
        match self.0.tags("Tags") {
            Ok(tags) => check(validate::tags(&tags)),
            Err(e) => check(Err(e)),
        }
        errors
    }
}

/// The public URL the token harness's emulator pretends to serve. Nothing listens there: an issuer STS does
/// not recognise as one of its own clusters' is fetched over HTTPS, which must fail at once and offline.
pub const TOKEN_PUBLIC_URL: &str = "https://127.0.0.1:1";
/// The issuer id of the harness's one cluster: its issuer is `{TOKEN_PUBLIC_URL}/id/{TOKEN_ISSUER_ID}`.
pub const TOKEN_ISSUER_ID: &str = "F0225F0225F0225F0225F0225F0225F0";
/// The audience the harness's OIDC provider lists as a client id.
pub const TOKEN_AUDIENCE: &str = irsa_names::STS_AUDIENCE;

/// What a verified token said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub subject: String,
    pub audience: String,
}

/// STS's web identity token verification over an in-memory emulator with one cluster (signing with a key the
/// harness chooses) registered as an IAM OIDC provider: the state `AssumeRoleWithWebIdentity` verifies against.
pub struct TokenVerifier {
    runtime: tokio::runtime::Runtime,
    state: AppState,
    issuer: String,
    kid: String,
    signing_key_pem: String,
}

impl TokenVerifier {
    /// `signing_key_pem` is the cluster's service-account signing key (PKCS#8 PEM).
    pub fn new(signing_key_pem: &str) -> Result<TokenVerifier, String> {
        crate::install_crypto_provider();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let mut config = Config::ephemeral();
        config.public_url = Some(TOKEN_PUBLIC_URL.to_string());
        let store = Arc::new(Store::open(None).map_err(|e| e.to_string())?);
        // The state `start` builds, from the same builder.
        let state = AppState::build(
            &config,
            TOKEN_PUBLIC_URL,
            None,
            store.clone(),
            Audit::new(None),
        )
        .map_err(|e| e.to_string())?;
        let issuer = format!("{TOKEN_PUBLIC_URL}/id/{TOKEN_ISSUER_ID}");
        let public = keys::public_key(signing_key_pem).map_err(|e| e.to_string())?;
        let kid = keys::key_id(&public).map_err(|e| e.to_string())?;
        let account = config.account_id.clone();
        let cluster = Cluster {
            name: "fuzz".into(),
            arn: format!("arn:aws:eks:us-east-1:{account}:cluster/fuzz"),
            issuer: issuer.clone(),
            endpoint: "https://fuzz.gr7.us-east-1.eks.amazonaws.com".into(),
            certificate_authority: String::new(),
            created_at: Utc::now(),
            version: "1.33".into(),
            signing_key_pem: Some(signing_key_pem.to_string()),
            tags: Vec::new(),
        };
        let provider = OidcProvider {
            arn: irsa_policy::Account::aws(account.as_str()).provider_arn(&issuer),
            url: irsa_policy::issuer_host_path(&issuer),
            client_ids: vec![TOKEN_AUDIENCE.to_string()],
            thumbprints: Vec::new(),
            create_date: Utc::now(),
            tags: Vec::new(),
        };
        store
            .write(|db| {
                db.put_cluster(&cluster)?;
                db.put_oidc_provider(&provider)
            })
            .map_err(|e| e.to_string())?;
        Ok(TokenVerifier {
            runtime,
            state,
            issuer,
            kid,
            signing_key_pem: signing_key_pem.to_string(),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `kid` of the cluster's key, as its JWKS publishes it.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs `claims` as kube-apiserver does (RS256, the key's `kid`, no `typ`): the only tokens that may verify.
    pub fn sign(&self, claims: &serde_json::Value) -> Result<String, String> {
        crate::clusters::tokens::sign(&self.signing_key_pem, &self.kid, claims)
    }

    /// The RS256 signature (base64url) of `signing_input` (`header.payload`) with the cluster's key, for
    /// building tokens whose header or claims are wrong but whose signature is genuine.
    pub fn signature(&self, signing_input: &str) -> Result<String, String> {
        let key = EncodingKey::from_rsa_pem(self.signing_key_pem.as_bytes())
            .map_err(|e| e.to_string())?;
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, Algorithm::RS256)
            .map_err(|e| e.to_string())
    }

    /// `AssumeRoleWithWebIdentity`'s verification of `token`; the error is STS's code and message.
    pub fn verify(&self, token: &str) -> Result<Verified, (&'static str, String)> {
        let verified = self
            .runtime
            .block_on(self.state.sts.verify_web_identity(token))
            .map_err(|e| (e.code, e.message))?;
        Ok(Verified {
            subject: verified.subject,
            audience: verified.audience,
        })
    }
}
