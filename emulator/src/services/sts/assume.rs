//! AssumeRole and GetSessionToken, and what every AssumeRole* shares: validate the request, decide with the
//! role's trust policy, issue sealed temporary credentials.

use axum::http::StatusCode;
use chrono::{Duration, Utc};

use super::{render_credentials, Sts};
use crate::audit::{Decision, Entry};
use crate::auth::trust::{trust_decision, AssumeRequest, Assumer};
use crate::auth::{Caller, SessionGrant, SessionPrincipal};
use crate::partition::Partition;
use crate::protocol::{AwsError, Params, XmlWriter};
use crate::services::iam::Handled;
use crate::state::model::{Role, Tag};
use crate::state::Db;

const SESSION_POLICY_MAX: usize = 2048;

pub(super) fn not_authorized(action: &str) -> AwsError {
    AwsError::new(
        "AccessDenied",
        StatusCode::FORBIDDEN,
        format!("Not authorized to perform sts:{action}"),
    )
}

pub(super) fn session_name(params: &Params) -> Result<String, AwsError> {
    let name = params.required("RoleSessionName")?;
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !(2..=64).contains(&name.len()) || !valid_chars {
        return Err(AwsError::constraint(
            "RoleSessionName",
            name,
            "Member must have length between 2 and 64 and satisfy regular expression pattern: [\\w+=,.@-]*",
        ));
    }
    Ok(name.to_string())
}

pub(super) fn duration(
    params: &Params,
    role: &Role,
    default: i64,
    chained: bool,
) -> Result<i64, AwsError> {
    let requested = params
        .int("DurationSeconds")?
        .unwrap_or(default.min(role.max_session_duration));
    if !(900..=43200).contains(&requested) {
        return Err(AwsError::constraint(
            "DurationSeconds",
            &requested.to_string(),
            "Member must have value between 900 and 43200",
        ));
    }
    let max = if chained {
        3600
    } else {
        role.max_session_duration
    };
    if requested > max {
        return Err(AwsError::validation(format!(
            "The requested DurationSeconds exceeds the {} set for this role.",
            if chained {
                "1 hour session limit for roles assumed by role chaining"
            } else {
                "MaxSessionDuration"
            }
        )));
    }
    Ok(requested)
}

pub(super) fn session_policy(
    params: &Params,
    partition: Partition,
) -> Result<Option<String>, AwsError> {
    let Some(policy) = params.get("Policy") else {
        return Ok(None);
    };
    if policy.len() > SESSION_POLICY_MAX {
        return Err(AwsError::new(
            "PackedPolicyTooLarge",
            StatusCode::BAD_REQUEST,
            "Packed size of consumed session policies exceeds the allowed limit",
        ));
    }
    irsa_policy::validate_in(policy, irsa_policy::DocumentKind::Inline, partition.name())
        .map_err(|e| AwsError::malformed_policy(e.message()))?;
    Ok(Some(policy.to_string()))
}

/// The name of the role `RoleArn` names, after STS's checks of the ARN.
pub(super) fn role_name(arn: &str) -> Result<String, AwsError> {
    if !(20..=2048).contains(&arn.len()) {
        return Err(AwsError::constraint(
            "RoleArn",
            arn,
            "Member must have length between 20 and 2048",
        ));
    }
    irsa_policy::role_name_from_arn(arn)
        .ok_or_else(|| AwsError::validation(format!("{arn} is invalid")))
}

/// The role named by `RoleArn`, if it is one of this account's.
pub(super) fn role_from_arn(db: &Db, name: &str, arn: &str) -> Result<Option<Role>, AwsError> {
    Ok(db.role(name)?.filter(|r| r.arn == arn))
}

fn assumed_role_user(xml: &mut XmlWriter, state: &Sts, role: &Role, session: &str) {
    xml.open("AssumedRoleUser")
        .text_element("AssumedRoleId", &format!("{}:{session}", role.role_id))
        .text_element(
            "Arn",
            &state
                .account()
                .sts_arn(&format!("assumed-role/{}/{session}", role.name)),
        )
        .close("AssumedRoleUser");
}

/// An allowed AssumeRole*: issues the session, audits the decision and renders the shared result
/// members in AWS's order (`between` writes the action's own members after Credentials).
pub(super) struct Grant<'a> {
    pub caller: &'a str,
    pub action: &'a str,
    pub role: &'a Role,
    pub session: &'a str,
    pub seconds: i64,
    pub policy: Option<String>,
    pub explanation: String,
    /// Session tags, and which of their keys a chained session inherits.
    pub tags: SessionTags,
}

/// A session's tags and transitive keys.
#[derive(Default)]
pub struct SessionTags {
    pub tags: Vec<Tag>,
    pub transitive_keys: Vec<String>,
}

impl Grant<'_> {
    pub fn issue(self, state: &Sts, xml: &mut XmlWriter, between: impl FnOnce(&mut XmlWriter)) {
        let packed = packed_policy_size(&self.policy);
        let creds = state.sessions.issue(SessionGrant {
            session_policy: self.policy,
            tags: self.tags.tags,
            transitive_tag_keys: self.tags.transitive_keys,
            ..SessionGrant::plain(
                SessionPrincipal::AssumedRole {
                    role_name: self.role.name.clone(),
                    role_arn: self.role.arn.clone(),
                    role_id: self.role.role_id.clone(),
                    session_name: self.session.to_string(),
                },
                Utc::now() + Duration::seconds(self.seconds),
            )
        });
        state.audit.record(Entry {
            caller: self.caller,
            action: self.action,
            role: Some(&self.role.arn),
            decision: Decision::Allow,
            code: None,
            explanation: self.explanation,
        });
        render_credentials(xml, &creds);
        between(xml);
        assumed_role_user(xml, state, self.role, self.session);
        if let Some(size) = packed {
            xml.text_element("PackedPolicySize", &size.to_string());
        }
    }
}

fn packed_policy_size(policy: &Option<String>) -> Option<usize> {
    policy
        .as_ref()
        .map(|p| (p.len() * 100).div_ceil(SESSION_POLICY_MAX))
}

fn invalid_parameter(message: &str) -> AwsError {
    AwsError::new("InvalidParameterValue", StatusCode::BAD_REQUEST, message)
}

/// AssumeRole's session tags as STS checks them: no key twice in any case, and every transitive key one of the
/// tags' (compared without case). AWS's answers recorded by LocalStack: tests/aws/services/sts/
/// test_sts.snapshot.json "…test_assume_role_tag_validation" invalid-transitive-tag-keys and
/// duplicate-tag-keys-different-casing (April 2025).
fn check_session_tags(params: &Params) -> Result<SessionTags, AwsError> {
    let tags = params.tags("Tags")?;
    let transitive_keys = params.list("TransitiveTagKeys");
    let mut keys = std::collections::HashSet::new();
    if !tags.iter().all(|(key, _)| keys.insert(key.to_lowercase())) {
        return Err(invalid_parameter(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        ));
    }
    if transitive_keys
        .iter()
        .any(|key| !keys.contains(&key.to_lowercase()))
    {
        return Err(invalid_parameter(
            "The specified transitive tag key must be included in the requested tags.",
        ));
    }
    Ok(SessionTags {
        tags: tags
            .into_iter()
            .map(|(key, value)| Tag { key, value })
            .collect(),
        transitive_keys,
    })
}

/// A session chained from one with transitive tags inherits them, and may not set them again in any case (AWS's
/// answer recorded by LocalStack: tests/aws/services/sts/test_sts.snapshot.json
/// "…test_iam_role_chaining_override_transitive_tags", April 2025).
fn inherit_transitive_tags(
    caller: &Caller,
    requested: SessionTags,
) -> Result<SessionTags, AwsError> {
    let Some(session) = caller.role() else {
        return Ok(requested);
    };
    let transitive = |key: &str| {
        session
            .transitive_tag_keys
            .iter()
            .any(|t| t.eq_ignore_ascii_case(key))
    };
    if requested.tags.iter().any(|t| transitive(&t.key)) {
        return Err(invalid_parameter(
            "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.",
        ));
    }
    let mut tags: Vec<Tag> = session
        .tags
        .iter()
        .filter(|t| transitive(&t.key))
        .cloned()
        .collect();
    let mut transitive_keys: Vec<String> = tags.iter().map(|t| t.key.clone()).collect();
    tags.extend(requested.tags);
    transitive_keys.extend(requested.transitive_keys);
    Ok(SessionTags {
        tags,
        transitive_keys,
    })
}

/// Blocking (the role and the caller's permissions are read from the store).
pub fn assume_role(state: &Sts, caller: &Caller, params: &Params) -> Handled {
    let role_arn = params.required("RoleArn")?.to_string();
    let session = session_name(params)?;
    let policy = session_policy(params, state.account().partition())?;
    let requested_tags = check_session_tags(params)?;
    let request_tags = requested_tags.tags.clone();
    let session_tags = inherit_transitive_tags(caller, requested_tags)?;
    let caller_arn = caller.arn(state.account());
    state
        .authorizer
        .authorize(caller, "sts:AssumeRole", &role_arn)?;
    let deny = |err: AwsError, explanation: String| {
        state.audit.record(Entry {
            caller: &caller_arn,
            action: "sts:AssumeRole",
            role: Some(&role_arn),
            decision: Decision::Deny,
            code: Some(err.code),
            explanation,
        });
        Err(err)
    };
    let denied = || {
        AwsError::new(
            "AccessDenied",
            StatusCode::FORBIDDEN,
            format!("User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"),
        )
    };
    let name = role_name(&role_arn)?;
    let Some(role) = state.store.read(|db| role_from_arn(db, &name, &role_arn))? else {
        return deny(denied(), format!("role {role_arn} does not exist"));
    };
    let trust = state.trust.of(&role)?;
    // aws:PrincipalArn names a role session's role, and any other caller itself.
    let principal_arn = match caller.role() {
        Some(crate::auth::Session {
            principal: SessionPrincipal::AssumedRole { role_arn, .. },
            ..
        }) => role_arn.clone(),
        _ => caller_arn.clone(),
    };
    let assumer = Assumer::Identity {
        arn: &caller_arn,
        principal_arn: &principal_arn,
        account: state.account(),
    };
    let request = AssumeRequest {
        session: &session,
        tags: &request_tags,
        external_id: params.get("ExternalId"),
    };
    let explanation = match trust_decision(&trust, assumer, request) {
        Ok(explanation) => explanation,
        Err(why) => return deny(denied(), format!("trust policy of {}: {why}", role.name)),
    };
    let chained = caller.role().is_some();
    let seconds = duration(params, &role, 3600, chained)?;
    let grant = Grant {
        caller: &caller_arn,
        action: "sts:AssumeRole",
        role: &role,
        session: &session,
        seconds,
        policy,
        explanation,
        tags: session_tags,
    };
    let mut xml = XmlWriter::new();
    grant.issue(state, &mut xml, |_| {});
    Ok(Some(xml))
}

pub fn get_session_token(state: &Sts, caller: &Caller, params: &Params) -> Handled {
    if !matches!(caller, Caller::Admin) {
        return Err(AwsError::new(
            "AccessDenied",
            StatusCode::FORBIDDEN,
            "Cannot call GetSessionToken with session credentials",
        ));
    }
    let seconds = params.int("DurationSeconds")?.unwrap_or(43200);
    if !(900..=129600).contains(&seconds) {
        return Err(AwsError::constraint(
            "DurationSeconds",
            &seconds.to_string(),
            "Member must have value between 900 and 129600",
        ));
    }
    let creds = state.sessions.issue(SessionGrant::plain(
        SessionPrincipal::AdminUser,
        Utc::now() + Duration::seconds(seconds),
    ));
    let mut xml = XmlWriter::new();
    render_credentials(&mut xml, &creds);
    Ok(Some(xml))
}
