//! Authorization of callers acting as a role: the role's identity policies (attached and inline), its
//! permissions boundary and the session policy, evaluated with `irsa-policy` as IAM does. The admin
//! credentials may do everything.

use std::sync::Arc;

use axum::http::StatusCode;
use irsa_policy::{evaluate, Decision, PolicyDocument, RequestContext};

use super::catalog::Catalog;
use super::find_policy;
use crate::audit::{self, Audit, Entry};
use crate::auth::{Caller, Session, SessionPrincipal};
use crate::partition::Account;
use crate::protocol::AwsError;
use crate::state::{Db, Store};

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
    catalog: &Catalog,
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
        if let Ok(policy) = find_policy(catalog, db, &arn) {
            if let Some(version) = policy.default_version() {
                documents.push(version.document.clone());
            }
        }
    }
    let boundary = match &role.permissions_boundary {
        Some(arn) => find_policy(catalog, db, arn)
            .ok()
            .and_then(|p| p.default_version().map(|v| v.document.clone())),
        None => None,
    };
    Ok(Some(RolePolicies {
        identity: documents,
        boundary,
    }))
}

/// Decides what callers acting as a role may do. Blocking (SQLite): call from the blocking pool.
#[derive(Clone)]
pub struct Authorizer {
    store: Arc<Store>,
    catalog: Arc<Catalog>,
    audit: Arc<Audit>,
    account: Account,
}

impl Authorizer {
    pub fn new(
        store: Arc<Store>,
        catalog: Arc<Catalog>,
        audit: Arc<Audit>,
        account: &Account,
    ) -> Self {
        Authorizer {
            store,
            catalog,
            audit,
            account: account.clone(),
        }
    }

    /// Allows or refuses `action` on `resource` for `caller`, with AWS's AccessDenied wording.
    pub fn authorize(&self, caller: &Caller, action: &str, resource: &str) -> Result<(), AwsError> {
        authorize(self, caller, action, resource)
    }
}

/// The session's tags as `aws:PrincipalTag/<key>`: a session tag is a principal tag of the session (IAM
/// User Guide, "Passing session tags in AWS STS"), and EKS Pod Identity's are how a role's policy tells one
/// namespace's pods from another's.
fn principal_tags(ctx: RequestContext, session: &Session) -> RequestContext {
    session.tags.iter().fold(ctx, |ctx, tag| {
        ctx.with_key_values(format!("aws:PrincipalTag/{}", tag.key), [tag.value.clone()])
    })
}

fn authorize(
    state: &Authorizer,
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
    let caller_arn = caller.arn(&state.account);
    let loaded = state
        .store
        .read(|db| policy_documents(&state.catalog, db, role_name, role_id))?;
    let ctx = principal_tags(
        RequestContext::new(action)
            .with_resource(resource)
            .with_key(
                "aws:PrincipalArn",
                state.account.iam_arn(&format!("role/{role_name}")),
            )
            .with_key("aws:PrincipalAccount", state.account.id()),
        session,
    );

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

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::partition::Partition;
    use crate::state::model::{InlinePolicy, Role, Tag};

    const ACCOUNT: &str = "111122223333";

    fn allow(action: &str) -> String {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
            .to_string()
    }

    fn deny(action: &str) -> String {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": action, "Resource": "*"}]})
            .to_string()
    }

    fn setup(inline: &[String], boundary: Option<&str>) -> (Authorizer, Arc<Audit>, Arc<Store>) {
        let store = Arc::new(Store::open(None).unwrap());
        let role = Role {
            name: "app".into(),
            path: "/".into(),
            role_id: "AROAAPP".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/app"),
            create_date: Utc::now(),
            assume_role_policy: "{}".into(),
            description: None,
            max_session_duration: 3600,
            permissions_boundary: boundary.map(str::to_string),
            tags: Vec::new(),
            inline_policies: inline
                .iter()
                .enumerate()
                .map(|(i, document)| InlinePolicy {
                    name: format!("p{i}"),
                    document: document.clone(),
                })
                .collect(),
        };
        store.write(|db| db.put_role(&role)).unwrap();
        let audit = Arc::new(Audit::new(None));
        let authorizer = Authorizer::new(
            store.clone(),
            Arc::new(Catalog::builtin(Partition::Aws)),
            audit.clone(),
            &Account::new(ACCOUNT, "us-east-1"),
        );
        (authorizer, audit, store)
    }

    fn session(role_id: &str, session_policy: Option<String>) -> Caller {
        Caller::Session(Session {
            access_key_id: "ASIAEXAMPLE".into(),
            principal: SessionPrincipal::AssumedRole {
                role_name: "app".into(),
                role_arn: format!("arn:aws:iam::{ACCOUNT}:role/app"),
                role_id: role_id.into(),
                session_name: "s".into(),
            },
            expiration: Utc::now(),
            session_policy,
            source_identity: None,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
        })
    }

    fn tagged_session(namespace: &str) -> Caller {
        let Caller::Session(mut session) = session("AROAAPP", None) else {
            unreachable!()
        };
        session.tags = vec![Tag {
            key: "kubernetes-namespace".into(),
            value: namespace.into(),
        }];
        Caller::Session(session)
    }

    #[test]
    fn session_tags_are_principal_tags_in_conditions() {
        let conditioned = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "iam:GetRole", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/kubernetes-namespace": "team-a"}}
        }]})
        .to_string();
        let (authorizer, _, _) = setup(&[conditioned], None);
        assert!(authorizer
            .authorize(&tagged_session("team-a"), "iam:GetRole", "*")
            .is_ok());
        let message = refusal(authorizer.authorize(&tagged_session("team-b"), "iam:GetRole", "*"));
        assert!(
            message.ends_with("because no identity-based policy allows the iam:GetRole action"),
            "{message}"
        );
        refusal(authorizer.authorize(&session("AROAAPP", None), "iam:GetRole", "*"));
    }

    fn refusal(result: Result<(), AwsError>) -> String {
        let err = result.expect_err("must be refused");
        assert_eq!(err.code, "AccessDenied");
        assert_eq!(err.status, StatusCode::FORBIDDEN);
        err.message
    }

    #[test]
    fn the_admin_may_do_anything() {
        let (authorizer, _, _) = setup(&[], None);
        assert!(authorizer
            .authorize(&Caller::Admin, "iam:DeleteRole", "*")
            .is_ok());
    }

    #[test]
    fn a_role_session_may_do_what_its_policies_allow() {
        let (authorizer, audit, _) = setup(&[allow("iam:GetRole")], None);
        assert!(authorizer
            .authorize(&session("AROAAPP", None), "iam:GetRole", "*")
            .is_ok());
        let message =
            refusal(authorizer.authorize(&session("AROAAPP", None), "iam:DeleteRole", "*"));
        assert_eq!(
            message,
            format!("User: arn:aws:sts::{ACCOUNT}:assumed-role/app/s is not authorized to perform: iam:DeleteRole on resource: * because no identity-based policy allows the iam:DeleteRole action")
        );
        let events = audit.since(0);
        assert_eq!(events.len(), 1, "denials are audited, allows are not");
        assert_eq!(events[0].code.as_deref(), Some("AccessDenied"));
    }

    #[test]
    fn an_explicit_deny_wins() {
        let (authorizer, _, _) = setup(&[allow("iam:*"), deny("iam:DeleteRole")], None);
        let message =
            refusal(authorizer.authorize(&session("AROAAPP", None), "iam:DeleteRole", "*"));
        assert!(
            message.ends_with("with an explicit deny in an identity-based policy"),
            "{message}"
        );
    }

    #[test]
    fn the_boundary_and_the_session_policy_limit_further() {
        let (authorizer, _, store) = setup(
            &[allow("iam:*")],
            Some("arn:aws:iam::aws:policy/ReadOnlyAccess"),
        );
        assert!(store.read(|db| db.role("app")).unwrap().is_some());
        let message =
            refusal(authorizer.authorize(&session("AROAAPP", None), "iam:DeleteRole", "*"));
        assert!(
            message.ends_with("because no permissions boundary allows the iam:DeleteRole action"),
            "{message}"
        );
        let (authorizer, _, _) = setup(&[allow("iam:*")], None);
        let limited = session("AROAAPP", Some(allow("iam:GetRole")));
        assert!(authorizer.authorize(&limited, "iam:GetRole", "*").is_ok());
        let message = refusal(authorizer.authorize(&limited, "iam:ListRoles", "*"));
        assert!(
            message.ends_with("because no session policy allows the iam:ListRoles action"),
            "{message}"
        );
    }

    #[test]
    fn sessions_of_a_deleted_role_get_nothing_from_its_namesake() {
        let (authorizer, audit, _) = setup(&[allow("iam:*")], None);
        let old_session = session("AROAOLDROLE", None);
        let message = refusal(authorizer.authorize(&old_session, "iam:GetRole", "*"));
        assert!(
            message.ends_with("because the role it assumed no longer exists"),
            "{message}"
        );
        assert!(audit.since(0)[0].explanation.contains("has another RoleId"));
    }
}
