//! AssumeRoleForPodIdentity, step by step: the agent's permission, the cluster, the pod's token (issuer,
//! keys, signature, expiry, audience `pods.eks.amazonaws.com`, the pod binding), the association, the role's
//! trust (and the target role's, chained), and the credentials with their session tags. Every refusal and
//! every grant is audited with its reason.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use irsa_names::{POD_IDENTITY_AUDIENCE, POD_IDENTITY_SERVICE_PRINCIPAL};
use serde_json::Value;

use super::EksAuth;
use crate::audit::{Decision, Entry};
use crate::auth::trust::{trust_decision, AssumeRequest, Assumer};
use crate::auth::{Caller, IssuedCredentials, Session, SessionGrant, SessionPrincipal};
use crate::pod_identity::exchange::{
    self as decide, cannot_assume, invalid_token, PodSubject, CHAINED_SESSION_SECONDS,
    DIRECT_SESSION_SECONDS,
};
use crate::protocol::AwsError;
use crate::services::sts::token::UnverifiedToken;
use crate::state::blocking;
use crate::state::model::{Cluster, PodIdentityAssociation, Role, Tag};

const ACTION: &str = "eks-auth:AssumeRoleForPodIdentity";

/// What a successful exchange returns (`AssumeRoleForPodIdentityResponse`).
pub struct Granted {
    pod: PodSubject,
    association: PodIdentityAssociation,
    credentials: IssuedCredentials,
    assumed_role_arn: String,
    assumed_role_id: String,
}

impl Granted {
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "subject": { "namespace": self.pod.namespace, "serviceAccount": self.pod.service_account },
            "audience": POD_IDENTITY_AUDIENCE,
            "podIdentityAssociation": {
                "associationArn": self.association.association_arn,
                "associationId": self.association.association_id,
            },
            "assumedRoleUser": { "arn": self.assumed_role_arn, "assumeRoleId": self.assumed_role_id },
            "credentials": {
                "sessionToken": self.credentials.session_token,
                "secretAccessKey": self.credentials.secret_access_key,
                "accessKeyId": self.credentials.access_key_id,
                "expiration": self.credentials.expiration.timestamp(),
            },
        })
    }
}

fn invalid_parameter(message: impl Into<String>) -> AwsError {
    AwsError::new(
        "InvalidParameterException",
        StatusCode::BAD_REQUEST,
        message,
    )
}

/// The model's `ClusterName`: 1–100 characters, `[0-9A-Za-z][A-Za-z0-9\-_]*`.
fn cluster_name_ok(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The model's `JwtToken`: three non-empty dot-separated parts of `[A-Za-z0-9-_=]`.
fn token_shape_ok(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_=".contains(c))
        })
}

/// STS's token errors in eks-auth's words: an invalid token is `InvalidTokenException`; an expired one keeps
/// `ExpiredTokenException`, which both services name alike.
fn as_eks_auth(err: AwsError) -> AwsError {
    match err.code {
        "InvalidIdentityToken" | "IDPCommunicationError" => invalid_token(err.message),
        _ => err,
    }
}

impl EksAuth {
    fn record(&self, caller: &str, role: Option<&str>, result: Result<String, &AwsError>) {
        let (decision, code, explanation) = match result {
            Ok(explanation) => (Decision::Allow, None, explanation),
            Err(err) => (Decision::Deny, Some(err.code), err.message.clone()),
        };
        self.audit.record(Entry {
            caller,
            action: ACTION,
            role,
            decision,
            code,
            explanation,
        });
    }
}

pub async fn exchange(
    eks_auth: &EksAuth,
    agent: &Caller,
    cluster_name: &str,
    token: Option<&str>,
) -> Result<Granted, AwsError> {
    let agent_arn = agent.arn(eks_auth.clusters.account());
    let unverified = |err: AwsError| {
        let why = AwsError {
            message: format!("{} (agent {agent_arn})", err.message),
            ..err.clone()
        };
        eks_auth.record("(unverified pod identity token)", None, Err(&why));
        err
    };
    if !cluster_name_ok(cluster_name) {
        return Err(unverified(invalid_parameter(format!(
            "Invalid cluster name {cluster_name:?}: 1-100 characters, letters, digits, - and _, starting with a letter or digit"
        ))));
    }
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unverified(invalid_parameter("token is a required parameter")))?;
    if !token_shape_ok(token) {
        return Err(unverified(invalid_token(
            "The token is not a JWT (expected header.payload.signature)",
        )));
    }

    let cluster = {
        let (e, agent, name) = (eks_auth.clone(), agent.clone(), cluster_name.to_string());
        blocking(move || {
            e.authorizer
                .authorize(&agent, ACTION, &e.clusters.arn(&name))
                .map_err(|err| {
                    AwsError::new(
                        "AccessDeniedException",
                        StatusCode::BAD_REQUEST,
                        err.message,
                    )
                })?;
            e.clusters
                .get(&name)?
                .ok_or_else(|| crate::clusters::not_found(&name))
        })
        .await
        .map_err(unverified)?
    };

    let pod = verify_token(eks_auth, &cluster, token)
        .await
        .map_err(unverified)?;
    let subject = irsa_policy::service_account_subject(&pod.namespace, &pod.service_account);
    let e = eks_auth.clone();
    let agent_arn = agent_arn.clone();
    blocking(move || {
        let result = grant(&e, &cluster, pod);
        match &result {
            Ok((granted, explanation)) => e.record(
                &subject,
                Some(&granted.association.role_arn),
                Ok(format!("{explanation} (agent {agent_arn})")),
            ),
            Err((err, role, why)) => {
                let logged = AwsError {
                    message: why.clone(),
                    ..err.clone()
                };
                e.record(&subject, role.as_deref(), Err(&logged));
            }
        }
        result
            .map(|(granted, _)| granted)
            .map_err(|(err, _, _)| err)
    })
    .await
}

/// The token checks of AssumeRoleWithWebIdentity, with the cluster's issuer in place of an IAM OIDC
/// provider: issued by this cluster, signed by one of its keys, unexpired, for `pods.eks.amazonaws.com`, bound
/// to a pod.
async fn verify_token(
    eks_auth: &EksAuth,
    cluster: &Cluster,
    token: &str,
) -> Result<PodSubject, AwsError> {
    let token = UnverifiedToken::decode(token).map_err(as_eks_auth)?;
    if token.issuer().trim_end_matches('/') != cluster.issuer.trim_end_matches('/') {
        return Err(invalid_token(format!(
            "The token was issued by {}, not by cluster {}'s issuer {}",
            token.issuer(),
            cluster.name,
            cluster.issuer
        )));
    }
    let keys = eks_auth
        .jwks
        .keys(&cluster.issuer)
        .await
        .map_err(as_eks_auth)?;
    let kid = token.kid().map_err(as_eks_auth)?;
    let key = match keys.find(kid) {
        None => Err(invalid_token(format!(
            "No key with kid {kid} in the JWKS of {}",
            cluster.issuer
        ))),
        Some(Err(e)) => Err(invalid_token(format!(
            "The issuer's key {kid} is unusable: {e}"
        ))),
        Some(Ok(key)) => Ok(key),
    }?;
    let now = Utc::now().timestamp().max(0) as u64;
    let verified = token
        .verify_for(key, |aud| aud == POD_IDENTITY_AUDIENCE, now)
        .map_err(as_eks_auth)?;
    decide::pod_subject(&verified)
}

type Refused = (AwsError, Option<String>, String);

fn refused(err: AwsError, role: Option<&str>, why: String) -> Refused {
    (err, role.map(str::to_string), why)
}

/// Blocking: the association, the roles and their trust, and the credentials.
fn grant(e: &EksAuth, cluster: &Cluster, pod: PodSubject) -> Result<(Granted, String), Refused> {
    let account = e.clusters.account().clone();
    let store_error =
        |err: crate::state::StoreError| refused(err.into(), None, "state store failure".into());
    let association = e
        .associations
        .for_service_account(&cluster.name, &pod.namespace, &pod.service_account)
        .map_err(|err| refused(err, None, "state store failure".into()))?
        .ok_or_else(|| {
            let err = AwsError::new(
                "ResourceNotFoundException",
                StatusCode::NOT_FOUND,
                format!(
                    "No Pod Identity Association found for service account {} in namespace {} of cluster {}.",
                    pod.service_account, pod.namespace, cluster.name
                ),
            );
            let why = err.message.clone();
            refused(err, None, why)
        })?;
    let role_arn = association.role_arn.clone();
    let role = own_role(e, &role_arn)
        .map_err(store_error)?
        .ok_or_else(|| {
            refused(
                cannot_assume(),
                Some(&role_arn),
                format!("role {role_arn} does not exist"),
            )
        })?;
    let tags = decide::session_tags(cluster, &association, &pod);
    let session = decide::session_name(&cluster.name, &pod.pod_name);
    let trust = e
        .trust
        .of(&role)
        .map_err(|err| refused(err, Some(&role_arn), "trust policy unreadable".into()))?;
    let request = AssumeRequest {
        session: &session,
        tags: &tags,
        external_id: None,
    };
    let first = trust_decision(
        &trust,
        Assumer::Service(POD_IDENTITY_SERVICE_PRINCIPAL),
        request,
    )
    .map_err(|why| {
        refused(
            cannot_assume(),
            Some(&role_arn),
            format!("trust policy of {}: {why}", role.name),
        )
    })?;
    let mut explanation = format!(
        "{} (pod {}) via association {}: trust policy of {}: {first}",
        irsa_policy::service_account_subject(&pod.namespace, &pod.service_account),
        pod.pod_name,
        association.association_id,
        role.name
    );

    let (granted_role, seconds) = match &association.target_role_arn {
        None => (role, DIRECT_SESSION_SECONDS),
        Some(target_arn) => {
            let target = chain(e, &role, &session, &tags, &association, target_arn)?;
            explanation.push_str(&format!("; then {}: {}", target.0.name, target.1));
            (target.0, CHAINED_SESSION_SECONDS)
        }
    };
    let credentials = e.sessions.issue(SessionGrant {
        session_policy: association.policy.clone(),
        tags,
        ..SessionGrant::plain(
            assumed(&granted_role, &session),
            Utc::now() + Duration::seconds(seconds),
        )
    });
    let granted = Granted {
        assumed_role_arn: account.sts_arn(&format!("assumed-role/{}/{session}", granted_role.name)),
        assumed_role_id: format!("{}:{session}", granted_role.role_id),
        pod,
        association,
        credentials,
    };
    Ok((granted, explanation))
}

fn assumed(role: &Role, session: &str) -> SessionPrincipal {
    SessionPrincipal::AssumedRole {
        role_name: role.name.clone(),
        role_arn: role.arn.clone(),
        role_id: role.role_id.clone(),
        session_name: session.to_string(),
    }
}

fn own_role(e: &EksAuth, arn: &str) -> Result<Option<Role>, crate::state::StoreError> {
    let Some(name) = irsa_policy::role_name_from_arn(arn) else {
        return Ok(None);
    };
    e.store
        .read(|db| Ok(db.role(&name)?.filter(|r| r.arn == arn)))
}

/// The second AssumeRole of an association with a target role: the first role's session (tags and all, as
/// they are transitive) asks for the target, so the first role's policies must allow it and the target's
/// trust must admit it, `sts:ExternalId` included. Only targets in the emulated account can be assumed.
fn chain(
    e: &EksAuth,
    first: &Role,
    session: &str,
    tags: &[Tag],
    association: &PodIdentityAssociation,
    target_arn: &str,
) -> Result<(Role, String), Refused> {
    let deny = |why: String| refused(cannot_assume(), Some(target_arn), why);
    let account = e.clusters.account();
    let first_session = Caller::Session(Session {
        access_key_id: String::new(),
        principal: assumed(first, session),
        expiration: Utc::now() + Duration::seconds(CHAINED_SESSION_SECONDS),
        session_policy: None,
        source_identity: None,
        tags: tags.to_vec(),
        transitive_tag_keys: Vec::new(),
    });
    let mut actions = vec!["sts:AssumeRole"];
    if !tags.is_empty() {
        actions.push("sts:TagSession");
    }
    for action in actions {
        e.authorizer
            .authorize(&first_session, action, target_arn)
            .map_err(|err| {
                deny(format!(
                    "{} may not {action} the target role: {}",
                    first.name, err.message
                ))
            })?;
    }
    let target = own_role(e, target_arn)
        .map_err(|err| refused(err.into(), Some(target_arn), "state store failure".into()))?
        .ok_or_else(|| {
            deny(format!(
                "target role {target_arn} does not exist in account {}",
                account.id()
            ))
        })?;
    let trust = e
        .trust
        .of(&target)
        .map_err(|err| refused(err, Some(target_arn), "trust policy unreadable".into()))?;
    let session_arn = account.sts_arn(&format!("assumed-role/{}/{session}", first.name));
    let assumer = Assumer::Identity {
        arn: &session_arn,
        principal_arn: &first.arn,
        account,
    };
    let request = AssumeRequest {
        session,
        tags,
        external_id: association.external_id.as_deref(),
    };
    let explanation = trust_decision(&trust, assumer, request)
        .map_err(|why| deny(format!("trust policy of {}: {why}", target.name)))?;
    Ok((target, explanation))
}
