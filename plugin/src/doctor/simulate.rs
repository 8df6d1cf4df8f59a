//! An offline answer to "may this role do ACTION on RESOURCE?": the role's identity policies and its
//! permissions boundary evaluated with irsa-policy the way IAM combines them for a role session — an explicit
//! Deny anywhere wins; otherwise the identity policies must allow and, when there is a boundary, so must it.
//! (Session policies, SCPs and resource policies are not known here; the output says so.)

use irsa_policy::{evaluate, Decision, Evaluation, PolicyDocument, RequestContext};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Simulation {
    pub action: String,
    pub resource: String,
    pub allowed: bool,
    /// `allowed`, `explicit deny`, `denied by the permissions boundary` or `implicit deny`.
    pub decision: String,
    /// The statements that decided, as `<policy> statement N (Sid …)`.
    pub deciding: Vec<String>,
    /// irsa-policy's explanation (near misses with wanted and actual values).
    pub explanation: String,
    /// Documents that could not be evaluated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

fn parse(
    documents: &[(String, Value)],
    skipped: &mut Vec<String>,
) -> Vec<(String, PolicyDocument)> {
    documents
        .iter()
        .filter_map(
            |(name, doc)| match PolicyDocument::from_value(doc.clone()) {
                Ok(parsed) => Some((name.clone(), parsed)),
                Err(e) => {
                    skipped.push(format!("{name}: {e}"));
                    None
                }
            },
        )
        .collect()
}

fn deciding(evaluation: &Evaluation, names: &[&str], effect: irsa_policy::Effect) -> Vec<String> {
    evaluation
        .matched
        .iter()
        .filter(|m| m.effect == effect)
        .map(|m| {
            let mut s = format!(
                "{} statement {}",
                names.get(m.policy_index).copied().unwrap_or("?"),
                m.statement_index
            );
            if let Some(sid) = m.sid.as_deref().filter(|s| !s.is_empty()) {
                s.push_str(&format!(" (Sid {sid:?})"));
            }
            s
        })
        .collect()
}

/// Evaluate `action` on `resource` for `role_arn` against `identity` (name, document) and `boundary`.
pub fn simulate(
    identity: &[(String, Value)],
    boundary: Option<&(String, Value)>,
    role_arn: &str,
    action: &str,
    resource: &str,
) -> Simulation {
    simulate_with_tags(identity, boundary, role_arn, action, resource, &[])
}

/// The same for a session carrying `tags` (Pod Identity's session tags), seen by the policies as
/// `aws:PrincipalTag/<key>` (IAM User Guide, "Passing session tags in AWS STS": session tags are principal tags).
pub fn simulate_with_tags(
    identity: &[(String, Value)],
    boundary: Option<&(String, Value)>,
    role_arn: &str,
    action: &str,
    resource: &str,
    tags: &[(String, String)],
) -> Simulation {
    let mut skipped = Vec::new();
    let identity = parse(identity, &mut skipped);
    let boundary = boundary.and_then(|b| parse(std::slice::from_ref(b), &mut skipped).pop());
    let account = irsa_policy::account_from_arn(role_arn).unwrap_or_default();
    let ctx = RequestContext::new(action)
        .with_resource(resource)
        .with_aws_principal(role_arn)
        .with_key("aws:PrincipalArn", role_arn)
        .with_key("aws:PrincipalAccount", account)
        .with_key("aws:PrincipalType", "AssumedRole");
    let ctx = tags.iter().fold(ctx, |ctx, (k, v)| {
        ctx.with_key(format!("aws:PrincipalTag/{k}"), v.clone())
    });
    let docs: Vec<&PolicyDocument> = identity.iter().map(|(_, d)| d).collect();
    let names: Vec<&str> = identity.iter().map(|(n, _)| n.as_str()).collect();
    let on_identity = evaluate(&docs, &ctx);
    let on_boundary = boundary
        .as_ref()
        .map(|(name, doc)| (name, evaluate(&[doc], &ctx)));
    let explicit_deny = |e: &Evaluation| e.decision == Decision::ExplicitDeny;
    let (allowed, decision, deciding_statements, explanation) = if explicit_deny(&on_identity) {
        (
            false,
            "explicit deny",
            deciding(&on_identity, &names, irsa_policy::Effect::Deny),
            on_identity.explain(),
        )
    } else if let Some((name, b)) = on_boundary.as_ref().filter(|(_, b)| explicit_deny(b)) {
        let label = format!("permissions boundary {name}");
        (
            false,
            "explicit deny",
            deciding(b, &[label.as_str()], irsa_policy::Effect::Deny),
            b.explain(),
        )
    } else if !on_identity.is_allowed() {
        (false, "implicit deny", Vec::new(), on_identity.explain())
    } else if let Some((name, b)) = on_boundary.as_ref().filter(|(_, b)| !b.is_allowed()) {
        (
            false,
            "denied by the permissions boundary",
            Vec::new(),
            format!(
                "the identity policies allow it ({}), but permissions boundary {name} does not: {}",
                on_identity.explain(),
                b.explain()
            ),
        )
    } else {
        let mut by = deciding(&on_identity, &names, irsa_policy::Effect::Allow);
        if let Some((name, b)) = &on_boundary {
            let label = format!("permissions boundary {name}");
            by.extend(deciding(b, &[label.as_str()], irsa_policy::Effect::Allow));
        }
        (true, "allowed", by, on_identity.explain())
    };
    Simulation {
        action: action.to_string(),
        resource: resource.to_string(),
        allowed,
        decision: decision.to_string(),
        deciding: deciding_statements,
        explanation,
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ROLE: &str = "arn:aws:iam::111122223333:role/app";

    fn policy(statements: Value) -> Value {
        json!({ "Version": "2012-10-17", "Statement": statements })
    }

    fn identity() -> Vec<(String, Value)> {
        vec![
            (
                "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into(),
                policy(
                    json!([{ "Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*" }]),
                ),
            ),
            (
                "inline kubectl-irsa".into(),
                policy(
                    json!([{ "Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::bucket/secret/*" }]),
                ),
            ),
        ]
    }

    #[test]
    fn wildcards_allow_and_name_the_statement() {
        let s = simulate(
            &identity(),
            None,
            ROLE,
            "s3:GetObject",
            "arn:aws:s3:::bucket/key",
        );
        assert!(s.allowed, "{s:?}");
        assert_eq!(
            s.deciding,
            ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess statement 0"]
        );
    }

    #[test]
    fn an_explicit_deny_wins() {
        let s = simulate(
            &identity(),
            None,
            ROLE,
            "s3:GetObject",
            "arn:aws:s3:::bucket/secret/k",
        );
        assert_eq!(s.decision, "explicit deny");
        assert_eq!(
            s.deciding,
            ["inline kubectl-irsa statement 0 (Sid \"NoSecrets\")"]
        );
    }

    #[test]
    fn the_boundary_caps_what_policies_allow() {
        let boundary = (
            "arn:aws:iam::111122223333:policy/boundary".to_string(),
            policy(json!([{ "Effect": "Allow", "Action": "s3:List*", "Resource": "*" }])),
        );
        let s = simulate(
            &identity(),
            Some(&boundary),
            ROLE,
            "s3:GetObject",
            "arn:aws:s3:::bucket/key",
        );
        assert_eq!(s.decision, "denied by the permissions boundary");
        assert!(s
            .explanation
            .contains("permissions boundary arn:aws:iam::111122223333:policy/boundary does not"));
        let s = simulate(
            &identity(),
            Some(&boundary),
            ROLE,
            "s3:ListBucket",
            "arn:aws:s3:::bucket",
        );
        assert!(s.allowed);
        assert_eq!(s.deciding.len(), 2, "{:?}", s.deciding);
        let s = simulate(&identity(), None, ROLE, "dynamodb:GetItem", "*");
        assert_eq!(s.decision, "implicit deny");
    }

    #[test]
    fn session_tags_are_principal_tags() {
        let by_namespace = vec![(
            "inline ns".to_string(),
            policy(json!([{ "Effect": "Allow", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::bucket/${aws:PrincipalTag/kubernetes-namespace}/*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/eks-cluster-name": "demo"}} }])),
        )];
        let tags = |ns: &str| {
            vec![
                ("eks-cluster-name".to_string(), "demo".to_string()),
                ("kubernetes-namespace".to_string(), ns.to_string()),
            ]
        };
        let key = "arn:aws:s3:::bucket/shop/k";
        let s = simulate_with_tags(
            &by_namespace,
            None,
            ROLE,
            "s3:GetObject",
            key,
            &tags("shop"),
        );
        assert!(s.allowed, "{s:?}");
        let s = simulate_with_tags(&by_namespace, None, ROLE, "s3:GetObject", key, &tags("dev"));
        assert_eq!(s.decision, "implicit deny");
        let s = simulate(&by_namespace, None, ROLE, "s3:GetObject", key);
        assert!(!s.allowed, "no session tags, no match");
    }
}
