//! Whether a role's trust policy admits whoever asks to assume it. STS's AssumeRole and eks-auth's
//! AssumeRoleForPodIdentity (with the AssumeRole it chains to a target role) decide the same way: the request's
//! session name, tags and external id are condition keys, and `sts:TagSession` is decided apart from
//! `sts:AssumeRole` when there are tags (IAM User Guide, "Passing session tags in AWS STS": "the role's trust
//! policy must allow sts:TagSession").

use irsa_policy::{evaluate, Evaluation, PolicyDocument, PrincipalRef, RequestContext};

use crate::partition::Account;
use crate::state::model::Tag;

/// Who asks to assume a role.
#[derive(Clone, Copy)]
pub enum Assumer<'a> {
    /// An AWS service (EKS Pod Identity's `pods.eks.amazonaws.com`).
    Service(&'a str),
    /// An IAM identity of `account`: `arn` is what it calls as (a user's ARN, or a role session's
    /// assumed-role ARN), `principal_arn` what `aws:PrincipalArn` names (the user, or the session's role).
    Identity {
        arn: &'a str,
        principal_arn: &'a str,
        account: &'a Account,
    },
}

impl Assumer<'_> {
    /// What a trust policy's `Principal` may name to match: the service; or the identity by its ARN, a role
    /// session also by its role's ARN, and any identity by its account's root.
    fn principals(&self) -> Vec<PrincipalRef> {
        match *self {
            Assumer::Service(service) => vec![PrincipalRef::service(service)],
            Assumer::Identity {
                arn,
                principal_arn,
                account,
            } => {
                let mut principals = vec![PrincipalRef::aws(arn)];
                if principal_arn != arn {
                    principals.push(PrincipalRef::aws(principal_arn));
                }
                principals.push(PrincipalRef::aws(account.iam_arn("root")));
                principals
            }
        }
    }
}

/// What the caller asks for, besides the role: the condition keys a trust policy may test.
#[derive(Clone, Copy)]
pub struct AssumeRequest<'a> {
    pub session: &'a str,
    pub tags: &'a [Tag],
    pub external_id: Option<&'a str>,
}

/// The request a trust policy is evaluated against for `action`, principal aside: `sts:RoleSessionName`, the
/// request tags (`aws:RequestTag/<key>`, `aws:TagKeys`), `sts:ExternalId`, and for an IAM identity
/// `aws:PrincipalArn` and `aws:PrincipalAccount` (what the User Guide's target-role trust tests with
/// `ArnEquals`).
fn context(action: &str, assumer: Assumer, request: AssumeRequest) -> RequestContext {
    let mut ctx = RequestContext::new(action).with_key("sts:RoleSessionName", request.session);
    if let Assumer::Identity {
        principal_arn,
        account,
        ..
    } = assumer
    {
        ctx = ctx
            .with_key("aws:PrincipalArn", principal_arn)
            .with_key("aws:PrincipalAccount", account.id());
    }
    if let Some(id) = request.external_id {
        ctx = ctx.with_key("sts:ExternalId", id);
    }
    for tag in request.tags {
        ctx = ctx.with_key_values(format!("aws:RequestTag/{}", tag.key), [tag.value.clone()]);
    }
    if !request.tags.is_empty() {
        ctx = ctx.with_key_values("aws:TagKeys", request.tags.iter().map(|t| t.key.clone()));
    }
    ctx
}

/// Whether `trust` lets `assumer` assume the role as `request` asks: `sts:AssumeRole`, and `sts:TagSession`
/// when there are tags, each evaluated on its own as STS does, each allowed if the policy admits the assumer
/// under any of its principals. `Ok` and `Err` both explain the decision (the first refused action's reason).
pub fn trust_decision(
    trust: &PolicyDocument,
    assumer: Assumer,
    request: AssumeRequest,
) -> Result<String, String> {
    let mut actions = vec!["sts:AssumeRole"];
    if !request.tags.is_empty() {
        actions.push("sts:TagSession");
    }
    let mut explanations = Vec::new();
    for action in actions {
        let ctx = context(action, assumer, request);
        let evaluations: Vec<Evaluation> = assumer
            .principals()
            .into_iter()
            .map(|principal| evaluate(&[trust], &ctx.clone().with_principal(principal)))
            .collect();
        match evaluations.iter().find(|e| e.is_allowed()) {
            Some(allowed) => explanations.push(format!("{action}: {}", allowed.explain())),
            None => {
                let first = evaluations
                    .first()
                    .map(Evaluation::explain)
                    .unwrap_or_default();
                return Err(format!("{action}: {first}"));
            }
        }
    }
    Ok(explanations.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const USER: &str = "arn:aws:iam::111122223333:user/admin";
    const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/first/s1";
    const ROLE: &str = "arn:aws:iam::111122223333:role/first";

    fn trust(statement: serde_json::Value) -> PolicyDocument {
        PolicyDocument::parse(&json!({"Version": "2012-10-17", "Statement": statement}).to_string())
            .unwrap()
    }

    fn decide(
        trust: &PolicyDocument,
        assumer: Assumer,
        tags: &[Tag],
        external_id: Option<&str>,
    ) -> Result<String, String> {
        trust_decision(
            trust,
            assumer,
            AssumeRequest {
                session: "s2",
                tags,
                external_id,
            },
        )
    }

    fn tag(key: &str, value: &str) -> Tag {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }

    /// The admin user: an IAM user is its own `aws:PrincipalArn`.
    fn user(account: &Account) -> Assumer<'_> {
        Assumer::Identity {
            arn: USER,
            principal_arn: USER,
            account,
        }
    }

    #[test]
    fn a_role_session_is_admitted_by_its_session_arn_its_role_arn_or_the_account_root() {
        let account = Account::new("111122223333", "us-east-1");
        let session = Assumer::Identity {
            arn: SESSION,
            principal_arn: ROLE,
            account: &account,
        };
        for principal in [
            SESSION,
            ROLE,
            "111122223333",
            "arn:aws:iam::111122223333:root",
        ] {
            let doc = trust(json!([{"Effect": "Allow", "Principal": {"AWS": principal},
                "Action": "sts:AssumeRole"}]));
            assert!(decide(&doc, session, &[], None).is_ok(), "{principal}");
        }
        let other = trust(json!([{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:role/other"}, "Action": "sts:AssumeRole"}]));
        assert!(decide(&other, session, &[], None).is_err());
    }

    #[test]
    fn a_user_is_matched_on_aws_principal_arn_and_a_service_is_not() {
        let account = Account::new("111122223333", "us-east-1");
        let doc = trust(
            json!([{"Effect": "Allow", "Principal": {"AWS": "111122223333"},
            "Action": "sts:AssumeRole",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": USER}}}]),
        );
        let user = user(&account);
        assert!(decide(&doc, user, &[], None).is_ok());
        let service = trust(json!([{"Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": USER}}}]));
        assert!(decide(
            &service,
            Assumer::Service("pods.eks.amazonaws.com"),
            &[],
            None
        )
        .is_err());
    }

    #[test]
    fn an_external_id_condition_needs_the_same_id() {
        let account = Account::new("111122223333", "us-east-1");
        let user = user(&account);
        let doc = trust(
            json!([{"Effect": "Allow", "Principal": {"AWS": "111122223333"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "Unique-1234"}}}]),
        );
        assert!(decide(&doc, user, &[], None).is_err());
        assert!(decide(&doc, user, &[], Some("other")).is_err());
        assert!(decide(&doc, user, &[], Some("Unique-1234")).is_ok());
    }

    #[test]
    fn tags_need_tag_session_which_may_test_the_request_tags() {
        let service = Assumer::Service("pods.eks.amazonaws.com");
        let principal = json!({"Service": "pods.eks.amazonaws.com"});
        let assume_only = trust(json!([{"Effect": "Allow", "Principal": principal,
            "Action": "sts:AssumeRole"}]));
        assert!(decide(&assume_only, service, &[], None).is_ok());
        let refused = decide(&assume_only, service, &[tag("team", "a")], None).unwrap_err();
        assert!(refused.starts_with("sts:TagSession: "), "{refused}");

        let team_a = trust(json!([
            {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": principal, "Action": "sts:TagSession",
             "Condition": {"StringEquals": {"aws:RequestTag/team": "a"},
                           "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}}]));
        let allowed = decide(&team_a, service, &[tag("team", "a")], None).unwrap();
        assert!(allowed.contains("sts:AssumeRole: ") && allowed.contains("; sts:TagSession: "));
        assert!(decide(&team_a, service, &[tag("team", "b")], None).is_err());
        assert!(decide(
            &team_a,
            service,
            &[tag("team", "a"), tag("cost", "x")],
            None
        )
        .is_err());
    }
}
