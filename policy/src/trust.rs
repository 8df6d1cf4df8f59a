//! IRSA trust policies: building them exactly as eksctl and the AWS docs do, and checking whether one admits
//! a given service-account token.
//!
//! The shape matters beyond correctness: people diff these documents against the AWS docs and against what
//! eksctl wrote, so key order and spelling follow the docs (`Version`, `Statement`; `Effect`, `Principal`,
//! `Action`, `Condition`; `sub` before `aud`).

use serde_json::{json, Map, Value};

use crate::arn::{issuer_host_path, provider_host_path, Account};
use crate::context::RequestContext;
use crate::document::{PolicyDocument, VERSION_2012_10_17};
use crate::evaluate::{evaluate, Evaluation};

/// The action a projected service-account token is exchanged with.
pub const WEB_IDENTITY_ACTION: &str = "sts:AssumeRoleWithWebIdentity";
/// The `sub` claim prefix of Kubernetes service-account tokens.
pub const SUBJECT_PREFIX: &str = "system:serviceaccount:";

/// `system:serviceaccount:<namespace>:<name>`, the `sub` of a service-account token.
pub fn service_account_subject(namespace: &str, name: &str) -> String {
    format!("{SUBJECT_PREFIX}{namespace}:{name}")
}

/// Split a service-account subject into `(namespace, name)`; `None` for anything else.
pub fn parse_service_account_subject(sub: &str) -> Option<(&str, &str)> {
    let (ns, name) = sub.strip_prefix(SUBJECT_PREFIX)?.split_once(':')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
}

/// One IRSA trust statement, for adding to an existing trust policy.
///
/// Without `subject_pattern`, `sub` is pinned with `StringEquals` to `system:serviceaccount:<ns>:<sa>`.
/// With one, `sub` uses `StringLike` (and `aud` stays under `StringEquals`): a pattern that is a whole subject
/// (starts with `system:serviceaccount:`) is used as is; otherwise it stands for the service-account name
/// within `namespace` (e.g. `*` → `system:serviceaccount:<ns>:*`), keeping the namespace fixed.
/// An empty `audience` leaves the `aud` condition out.
pub fn irsa_trust_statement(
    account: &Account,
    issuer_url: &str,
    namespace: &str,
    service_account: &str,
    audience: &str,
    subject_pattern: Option<&str>,
) -> Value {
    let issuer = issuer_host_path(issuer_url);
    let sub_key = format!("{issuer}:sub");
    let aud_key = format!("{issuer}:aud");
    let mut equals = Map::new();
    let mut condition = Map::new();
    match subject_pattern {
        None => {
            equals.insert(
                sub_key,
                Value::String(service_account_subject(namespace, service_account)),
            );
            if !audience.is_empty() {
                equals.insert(aud_key, Value::String(audience.to_string()));
            }
            condition.insert("StringEquals".into(), Value::Object(equals));
        }
        Some(pattern) => {
            let sub = if pattern.starts_with(SUBJECT_PREFIX) {
                pattern.to_string()
            } else {
                service_account_subject(namespace, pattern)
            };
            if !audience.is_empty() {
                equals.insert(aud_key, Value::String(audience.to_string()));
                condition.insert("StringEquals".into(), Value::Object(equals));
            }
            condition.insert("StringLike".into(), json!({ sub_key: sub }));
        }
    }
    json!({
        "Effect": "Allow",
        "Principal": { "Federated": account.provider_arn(issuer_url) },
        "Action": WEB_IDENTITY_ACTION,
        "Condition": Value::Object(condition),
    })
}

/// A complete IRSA trust policy with the single statement of [`irsa_trust_statement`].
pub fn irsa_trust_policy(
    account: &Account,
    issuer_url: &str,
    namespace: &str,
    service_account: &str,
    audience: &str,
    subject_pattern: Option<&str>,
) -> Value {
    json!({
        "Version": VERSION_2012_10_17,
        "Statement": [irsa_trust_statement(
            account,
            issuer_url,
            namespace,
            service_account,
            audience,
            subject_pattern,
        )],
    })
}

/// The request STS evaluates a trust policy against for `AssumeRoleWithWebIdentity`: action
/// `sts:AssumeRoleWithWebIdentity`, the provider as `Federated` principal, and the keys `<issuer>:sub` and
/// `<issuer>:aud`.
pub fn web_identity_context(provider_arn: &str, sub: &str, aud: &str) -> RequestContext {
    // If the ARN is malformed, the keys still get a recognisable prefix rather than nothing.
    let issuer = provider_host_path(provider_arn).unwrap_or_else(|| {
        provider_arn
            .split_once("oidc-provider/")
            .map_or(provider_arn, |(_, hp)| hp)
            .to_string()
    });
    RequestContext::new(WEB_IDENTITY_ACTION)
        .with_federated_principal(provider_arn)
        .with_key(format!("{issuer}:sub"), sub)
        .with_key(format!("{issuer}:aud"), aud)
}

/// Would `doc` let a token with `sub`/`aud` from `provider_arn` assume the role? The evaluation explains why
/// not.
pub fn trust_admits(doc: &PolicyDocument, provider_arn: &str, sub: &str, aud: &str) -> Evaluation {
    evaluate(&[doc], &web_identity_context(provider_arn, sub, aud))
}
