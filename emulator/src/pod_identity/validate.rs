//! What CreatePodIdentityAssociation and UpdatePodIdentityAssociation check before anything is stored: the
//! Kubernetes names, the tags, the session policy, and whether the role exists and trusts EKS Pod Identity.
//! Plain functions over plain values; the messages EKS is known to send are quoted where they are used.

use axum::http::StatusCode;
use irsa_names::{POD_IDENTITY_SERVICE_PRINCIPAL, POD_IDENTITY_TRUST_ACTIONS};
use irsa_policy::{evaluate, Effect, PolicyDocument, RequestContext};

use crate::partition::Partition;
use crate::protocol::AwsError;
use crate::state::model::{Role, Tag};

pub fn invalid_parameter(message: impl Into<String>) -> AwsError {
    AwsError::new(
        "InvalidParameterException",
        StatusCode::BAD_REQUEST,
        message,
    )
}

/// A member the operation requires (SDKs check this before sending; raw requests get it from the service).
pub fn required<'a>(value: Option<&'a str>, member: &str) -> Result<&'a str, AwsError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| invalid_parameter(format!("{member} is a required parameter")))
}

/// RFC 1123 label, as Kubernetes requires of namespace names: at most 63 lower-case letters, digits and `-`,
/// starting and ending with a letter or digit.
fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// RFC 1123 subdomain, as Kubernetes requires of service account names: dot-separated labels, 253 at most.
fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(is_dns_label)
}

pub fn namespace(name: &str) -> Result<(), AwsError> {
    if is_dns_label(name) {
        Ok(())
    } else {
        Err(invalid_parameter(format!(
            "Namespace {name} is invalid: a Kubernetes namespace is a lowercase RFC 1123 label (at most 63 characters, a-z, 0-9 and '-', starting and ending with an alphanumeric character)"
        )))
    }
}

pub fn service_account(name: &str) -> Result<(), AwsError> {
    if is_dns_subdomain(name) {
        Ok(())
    } else {
        Err(invalid_parameter(format!(
            "Service account {name} is invalid: a Kubernetes service account name is a lowercase RFC 1123 subdomain (at most 253 characters, a-z, 0-9, '-' and '.')"
        )))
    }
}

/// The EKS TagMap's limits (botocore `eks` model: 1–50 entries, keys 1–128, values at most 256) and the
/// reserved `aws:` prefix (aws-sdk-eks docs of CreatePodIdentityAssociation `tags`).
pub fn tags(tags: &[Tag]) -> Result<(), AwsError> {
    if tags.len() > 50 {
        return Err(invalid_parameter(
            "A resource can have at most 50 tags".to_string(),
        ));
    }
    for tag in tags {
        if tag.key.is_empty() || tag.key.chars().count() > 128 {
            return Err(invalid_parameter(format!(
                "Tag key {:?} must be 1 to 128 characters",
                tag.key
            )));
        }
        if tag.value.chars().count() > 256 {
            return Err(invalid_parameter(format!(
                "The value of tag {} must be at most 256 characters",
                tag.key
            )));
        }
        if tag.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid_parameter(format!(
                "Tag key {} uses the reserved prefix aws:",
                tag.key
            )));
        }
    }
    Ok(())
}

/// The association's session policy: an identity policy, allowed only with session tags disabled (aws-sdk-eks
/// docs: "When using this policy, disableSessionTags must be set to true").
pub fn session_policy(
    policy: &str,
    disable_session_tags: bool,
    partition: Partition,
) -> Result<(), AwsError> {
    if !disable_session_tags {
        return Err(invalid_parameter(
            "disableSessionTags must be true when a policy is given",
        ));
    }
    irsa_policy::validate_in(policy, irsa_policy::DocumentKind::Inline, partition.name())
        .map(|_| ())
        .map_err(|e| invalid_parameter(format!("The policy is invalid: {}", e.message())))
}

/// terraform-provider-aws PR #34717 retries on exactly this: `InvalidParameterException: Role provided in
/// the request does not exist`.
pub fn role_does_not_exist() -> AwsError {
    invalid_parameter("Role provided in the request does not exist")
}

/// What EKS answers when the role does not trust `pods.eks.amazonaws.com` (terraform-provider-aws #41483,
/// aws-cdk #31522: "Trust policy of the role provided is invalid. Follow the official documentation to
/// resolve the issue.").
pub fn trust_invalid() -> AwsError {
    invalid_parameter(
        "Trust policy of the role provided is invalid. Follow the official documentation to resolve the issue.",
    )
}

/// Whether `role`'s trust lets `pods.eks.amazonaws.com` call `sts:AssumeRole` and `sts:TagSession`, with the
/// reason when not. Conditions are left for the time a pod asks (they test request tags only a pod has), so
/// an allowing statement counts whatever its conditions, and a denying one only when it has none.
pub fn trust_admits_pod_identity(role: &Role) -> Result<(), String> {
    let parsed = PolicyDocument::parse(&role.assume_role_policy)
        .map_err(|e| format!("the trust policy does not parse: {}", e.message()))?;
    let mut unconditional = parsed.clone();
    unconditional
        .statements
        .retain(|s| s.effect == Effect::Allow || s.conditions.is_empty());
    for statement in &mut unconditional.statements {
        statement.conditions.clear();
    }
    for action in POD_IDENTITY_TRUST_ACTIONS {
        let ctx =
            RequestContext::new(action).with_service_principal(POD_IDENTITY_SERVICE_PRINCIPAL);
        let evaluation = evaluate(&[&unconditional], &ctx);
        if !evaluation.is_allowed() {
            return Err(format!(
                "the trust policy of {} does not allow {POD_IDENTITY_SERVICE_PRINCIPAL} {action}: {}",
                role.name,
                evaluation.explain()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;

    fn role(trust: serde_json::Value) -> Role {
        Role {
            name: "app".into(),
            path: "/".into(),
            role_id: "AROAAPP".into(),
            arn: "arn:aws:iam::111122223333:role/app".into(),
            create_date: Utc::now(),
            assume_role_policy: trust.to_string(),
            description: None,
            max_session_duration: 3600,
            permissions_boundary: None,
            tags: Vec::new(),
            inline_policies: Vec::new(),
        }
    }

    fn trust(
        actions: serde_json::Value,
        condition: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut statement = json!({
            "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": actions
        });
        if let Some(c) = condition {
            statement["Condition"] = c;
        }
        json!({"Version": "2012-10-17", "Statement": [statement]})
    }

    #[test]
    fn kubernetes_names_follow_rfc_1123() {
        for good in ["default", "team-a", "a", &"x".repeat(63)] {
            assert!(namespace(good).is_ok(), "{good}");
        }
        for bad in ["", "Team", "-a", "a-", "a.b", &"x".repeat(64), "a_b"] {
            let err = namespace(bad).unwrap_err();
            assert_eq!(err.code, "InvalidParameterException", "{bad}");
        }
        for good in ["app", "my.app", "a-1.b-2"] {
            assert!(service_account(good).is_ok(), "{good}");
        }
        for bad in ["", "App", "a..b", ".a", "a_b", &"x".repeat(254)] {
            assert!(service_account(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_documented_trust_policy_admits_pod_identity_and_an_oidc_one_does_not() {
        // The EKS User Guide's "Create IAM role with trust policy required by EKS Pod Identity".
        let documented = role(trust(json!(["sts:AssumeRole", "sts:TagSession"]), None));
        assert!(trust_admits_pod_identity(&documented).is_ok());
        // Conditions on request tags (the guide's own restricted example) are decided per pod, later.
        let conditioned = role(trust(
            json!(["sts:AssumeRole", "sts:TagSession"]),
            Some(json!({"StringEquals": {"aws:RequestTag/kubernetes-namespace": ["team-a"]}})),
        ));
        assert!(trust_admits_pod_identity(&conditioned).is_ok());
        let no_tag_session = role(trust(json!("sts:AssumeRole"), None));
        let why = trust_admits_pod_identity(&no_tag_session).unwrap_err();
        assert!(why.contains("sts:TagSession"), "{why}");
        let irsa = role(json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/example.com"},
            "Action": "sts:AssumeRoleWithWebIdentity"}]}));
        assert!(trust_admits_pod_identity(&irsa).is_err());
    }

    #[test]
    fn tags_and_policies_within_eks_limits() {
        let tag = |k: &str, v: &str| Tag {
            key: k.into(),
            value: v.into(),
        };
        assert!(tags(&[tag("team", "a")]).is_ok());
        assert!(tags(&[tag("aws:x", "a")]).is_err());
        assert!(tags(&[tag(&"k".repeat(129), "a")]).is_err());
        assert!(tags(&[tag("k", &"v".repeat(257))]).is_err());
        let many: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert!(tags(&many).is_err());
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}).to_string();
        assert!(session_policy(&policy, true, Partition::Aws).is_ok());
        assert!(session_policy(&policy, false, Partition::Aws)
            .unwrap_err()
            .message
            .contains("disableSessionTags"));
        assert!(session_policy("{", true, Partition::Aws).is_err());
    }
}
