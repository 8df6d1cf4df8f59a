//! The trust EKS Pod Identity needs: `Service: pods.eks.amazonaws.com` allowed `sts:AssumeRole` and
//! `sts:TagSession` (EKS User Guide, "Create a Pod Identity association": the statement below, Sid included).
//! Pure functions over the JSON document, like the rest of [`crate::trust`].

use irsa_names::{POD_IDENTITY_SERVICE_PRINCIPAL, POD_IDENTITY_TRUST_ACTIONS};
use irsa_policy::{evaluate, Effect, PolicyDocument, RequestContext};
use serde_json::{json, Value};

use super::statements;

/// The Sid the EKS User Guide gives the statement.
pub const POD_IDENTITY_SID: &str = "AllowEksAuthToAssumeRoleForPodIdentity";

/// The statement EKS documents for a Pod Identity role.
pub fn pod_identity_statement() -> Value {
    json!({
        "Sid": POD_IDENTITY_SID,
        "Effect": "Allow",
        "Principal": { "Service": POD_IDENTITY_SERVICE_PRINCIPAL },
        "Action": POD_IDENTITY_TRUST_ACTIONS,
    })
}

/// A whole trust policy with only that statement.
pub fn pod_identity_trust_policy() -> Value {
    json!({ "Version": "2012-10-17", "Statement": [pod_identity_statement()] })
}

/// Does the trust let `pods.eks.amazonaws.com` call both actions? The reason when not. As EKS's own check on
/// CreatePodIdentityAssociation (and the emulator's, `pod_identity/validate.rs`): conditions are for the time a
/// pod asks (they test request tags only a pod has), so an allowing statement counts whatever its conditions,
/// a denying one only when it has none.
pub fn admits_pod_identity(trust: &Value) -> Result<(), String> {
    let mut document = PolicyDocument::from_value(trust.clone())
        .map_err(|e| format!("the trust policy does not parse: {e}"))?;
    document
        .statements
        .retain(|s| s.effect == Effect::Allow || s.conditions.is_empty());
    for statement in &mut document.statements {
        statement.conditions.clear();
    }
    let mut missing = Vec::new();
    for action in POD_IDENTITY_TRUST_ACTIONS {
        let ctx =
            RequestContext::new(action).with_service_principal(POD_IDENTITY_SERVICE_PRINCIPAL);
        if !evaluate(&[&document], &ctx).is_allowed() {
            missing.push(action);
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "it does not allow Service {POD_IDENTITY_SERVICE_PRINCIPAL} {}",
            missing.join(" and ")
        ))
    }
}

/// Is this the statement (any Sid) that trusts the Pod Identity service, and nothing else?
fn is_pod_identity_statement(statement: &Value) -> bool {
    let service = statement.pointer("/Principal/Service");
    let names_service = match service {
        Some(Value::String(s)) => s == POD_IDENTITY_SERVICE_PRINCIPAL,
        Some(Value::Array(items)) => items.len() == 1 && items[0] == POD_IDENTITY_SERVICE_PRINCIPAL,
        _ => false,
    };
    names_service
        && statement.get("Effect").and_then(Value::as_str) == Some("Allow")
        && statement.get("Condition").is_none()
        && statement.pointer("/Principal/AWS").is_none()
        && statement.pointer("/Principal/Federated").is_none()
}

/// The trust with the Pod Identity statement added (an existing statement for the service that lacks an
/// action is replaced by the documented one).
pub fn add_pod_identity(trust: &Value) -> Value {
    let mut kept: Vec<Value> = statements(trust)
        .into_iter()
        .filter(|s| !is_pod_identity_statement(s))
        .collect();
    kept.push(pod_identity_statement());
    let mut document = match trust {
        Value::Object(_) => trust.clone(),
        _ => json!({}),
    };
    document
        .as_object_mut()
        .map(|o| o.entry("Version").or_insert(json!("2012-10-17")));
    document["Statement"] = Value::Array(kept);
    document
}

/// The trust without its plain Pod Identity statement(s); `None` when it has none.
pub fn remove_pod_identity(trust: &Value) -> Option<Value> {
    let all = statements(trust);
    let kept: Vec<Value> = all
        .iter()
        .filter(|s| !is_pod_identity_statement(s))
        .cloned()
        .collect();
    if kept.len() == all.len() {
        return None;
    }
    let mut document = trust.clone();
    document["Statement"] = Value::Array(kept);
    Some(document)
}

#[cfg(test)]
mod tests {
    use super::*;
    use irsa_policy::irsa_trust_policy;

    const ISSUER: &str = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC";

    #[test]
    fn the_documented_statement_is_admitted_and_an_irsa_trust_is_not() {
        assert!(admits_pod_identity(&pod_identity_trust_policy()).is_ok());
        let irsa = irsa_trust_policy(
            &irsa_policy::Account::aws("111122223333"),
            ISSUER,
            "ns",
            "app",
            "sts.amazonaws.com",
            None,
        );
        let why = admits_pod_identity(&irsa).unwrap_err();
        assert!(why.contains("sts:AssumeRole and sts:TagSession"), "{why}");
        // AssumeRole alone is what EKS refuses ("Trust policy of the role provided is invalid").
        let assume_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        assert!(admits_pod_identity(&assume_only)
            .unwrap_err()
            .ends_with("sts:TagSession"));
        // A condition on an Allow is left for the pod's request; an unconditional Deny wins.
        let mut conditioned = pod_identity_trust_policy();
        conditioned["Statement"][0]["Condition"] =
            json!({"StringEquals": {"aws:RequestTag/kubernetes-namespace": "shop"}});
        assert!(admits_pod_identity(&conditioned).is_ok());
        let mut denied = pod_identity_trust_policy();
        denied["Statement"].as_array_mut().unwrap().push(
            json!({"Effect": "Deny", "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": "sts:TagSession"}),
        );
        assert!(admits_pod_identity(&denied).is_err());
    }

    #[test]
    fn adding_keeps_the_irsa_statement_and_removing_takes_only_the_service() {
        let irsa = irsa_trust_policy(
            &irsa_policy::Account::aws("111122223333"),
            ISSUER,
            "ns",
            "app",
            "sts.amazonaws.com",
            None,
        );
        let both = add_pod_identity(&irsa);
        let list = statements(&both);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0], statements(&irsa)[0]);
        assert_eq!(list[1], pod_identity_statement());
        assert!(admits_pod_identity(&both).is_ok());
        assert_eq!(
            add_pod_identity(&both),
            both,
            "adding twice changes nothing"
        );
        assert_eq!(remove_pod_identity(&both), Some(irsa.clone()));
        assert_eq!(remove_pod_identity(&irsa), None);
    }
}
