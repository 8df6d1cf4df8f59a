//! Authorization of callers acting as a role: the role's identity policies (attached and inline), its
//! permissions boundary and the session policy, evaluated with `irsa-policy` as IAM does. The admin
//! credentials may do everything.

use axum::http::StatusCode;
use irsa_policy::{evaluate, Decision, PolicyDocument, RequestContext};

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::{Caller, SessionPrincipal};
use crate::error::AwsError;
use crate::state::Db;

fn parse_all(documents: &[String]) -> Vec<PolicyDocument> {
    documents
        .iter()
        .filter_map(|d| PolicyDocument::parse(d).ok())
        .collect()
}

/// The documents that decide what a role's sessions may do.
struct RolePolicies {
    identity: Vec<String>,
    boundary: Option<String>,
}

/// None when the session's role is gone. A role recreated under the same name is another role (a new
/// RoleId), and IAM gives the old role's sessions none of its permissions.
fn policy_documents(
    state: &AppState,
    db: &Db,
    role_name: &str,
    role_id: &str,
) -> Result<Option<RolePolicies>, AwsError> {
    let Some(role) = db.role(role_name)?.filter(|role| role.role_id == role_id) else {
        return Ok(None);
    };
    let mut documents: Vec<String> = role
        .inline_policies
        .iter()
        .map(|p| p.document.clone())
        .collect();
    for arn in db.attached_policies(role_name)? {
        if let Ok(policy) = crate::iam::find_policy(state, db, &arn) {
            if let Some(version) = policy.default_version() {
                documents.push(version.document.clone());
            }
        }
    }
    let boundary = match &role.permissions_boundary {
        Some(arn) => crate::iam::find_policy(state, db, arn)
            .ok()
            .and_then(|p| p.default_version().map(|v| v.document.clone())),
        None => None,
    };
    Ok(Some(RolePolicies {
        identity: documents,
        boundary,
    }))
}

/// Allows or refuses `action` on `resource` for `caller`, with AWS's AccessDenied wording.
pub fn authorize(
    state: &AppState,
    caller: &Caller,
    action: &str,
    resource: &str,
) -> Result<(), AwsError> {
    let Some(session) = caller.role() else {
        return Ok(());
    };
    let SessionPrincipal::AssumedRole {
        role_name, role_id, ..
    } = &session.principal
    else {
        return Ok(());
    };
    let caller_arn = caller.arn(state.account_id());
    let loaded = state
        .store
        .read(|db| policy_documents(state, db, role_name, role_id))?;
    let ctx = RequestContext::new(action)
        .with_resource(resource)
        .with_key(
            "aws:PrincipalArn",
            format!("arn:aws:iam::{}:role/{role_name}", state.account_id()),
        )
        .with_key("aws:PrincipalAccount", state.account_id());

    let (reason, explanation) = match loaded {
        None => (
            "because the role it assumed no longer exists".to_string(),
            format!("role {role_name} ({role_id}) was deleted; a role created since under the same name has another RoleId"),
        ),
        Some(RolePolicies { identity, boundary }) => {
            let identity_docs = parse_all(&identity);
            let identity_eval = evaluate(&identity_docs.iter().collect::<Vec<_>>(), &ctx);
            let mut denial = match identity_eval.decision {
                Decision::Allow => None,
                Decision::ExplicitDeny => Some((
                    "with an explicit deny in an identity-based policy",
                    identity_eval.explain(),
                )),
                Decision::ImplicitDeny => Some((
                    "because no identity-based policy allows the action",
                    identity_eval.explain(),
                )),
            };
            if denial.is_none() {
                if let Some(doc) = boundary
                    .as_deref()
                    .and_then(|d| PolicyDocument::parse(d).ok())
                {
                    let eval = evaluate(&[&doc], &ctx);
                    if !eval.is_allowed() {
                        denial = Some((
                            "because no permissions boundary allows the action",
                            eval.explain(),
                        ));
                    }
                }
            }
            if denial.is_none() {
                if let Some(doc) = session
                    .session_policy
                    .as_deref()
                    .and_then(|d| PolicyDocument::parse(d).ok())
                {
                    let eval = evaluate(&[&doc], &ctx);
                    if !eval.is_allowed() {
                        denial = Some((
                            "because no session policy allows the action",
                            eval.explain(),
                        ));
                    }
                }
            }
            match denial {
                None => return Ok(()),
                Some((reason, explanation)) => (
                    reason.replace("the action", &format!("the {action} action")),
                    explanation,
                ),
            }
        }
    };
    state.audit.record(Entry {
        caller: &caller_arn,
        action,
        role: Some(role_name),
        decision: audit::Decision::Deny,
        code: Some("AccessDenied"),
        explanation,
    });
    Err(AwsError::new(
        "AccessDenied",
        StatusCode::FORBIDDEN,
        format!("User: {caller_arn} is not authorized to perform: {action} on resource: {resource} {reason}"),
    ))
}
