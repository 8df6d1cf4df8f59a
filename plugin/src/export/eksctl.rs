//! An eksctl ClusterConfig fragment (`iam.serviceAccounts`), the shape `eksctl create iamserviceaccount -f`
//! and `kubectl irsa create -f` read. eksctl has one `attachPolicy` per service account, so several inline
//! documents become one (their statements concatenated); presets eksctl knows are written as
//! `wellKnownPolicies`, the rest as the policies they stand for.

use serde_json::{json, Map, Value};

use super::Binding;

fn entry(b: &Binding) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(b.name));
    metadata.insert("namespace".into(), json!(b.namespace));
    let mut sa = Map::new();
    if let Some(account) = &b.service_account {
        let annotations: Map<String, Value> = account
            .annotations
            .iter()
            .filter(|(k, _)| k.as_str() != irsa_names::ROLE_ARN_ANNOTATION)
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let labels: Map<String, Value> = account
            .labels
            .iter()
            .filter(|(k, _)| k.as_str() != irsa_names::MANAGED_BY_LABEL)
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        if !annotations.is_empty() {
            metadata.insert("annotations".into(), Value::Object(annotations));
        }
        if !labels.is_empty() {
            metadata.insert("labels".into(), Value::Object(labels));
        }
    }
    sa.insert("metadata".into(), Value::Object(metadata));
    if let Some(arn) = &b.attach_role_arn {
        sa.insert("attachRoleARN".into(), json!(arn));
    }
    if let Some(role) = &b.role {
        sa.insert("roleName".into(), json!(b.role_name));
        let managed: Vec<&String> = role
            .managed_policies
            .iter()
            .filter(|p| !role.preset_managed_policies.contains(p))
            .collect();
        if !managed.is_empty() {
            sa.insert("attachPolicyARNs".into(), json!(managed));
        }
        let statements: Vec<Value> = role
            .inline_policies
            .iter()
            .filter(|(name, _)| !role.preset_inline_policies.contains(name))
            .flat_map(|(_, doc)| crate::trust::statements(doc))
            .collect();
        if !statements.is_empty() {
            sa.insert(
                "attachPolicy".into(),
                json!({ "Version": "2012-10-17", "Statement": statements }),
            );
        }
        if let Some(boundary) = &role.permissions_boundary {
            sa.insert("permissionsBoundary".into(), json!(boundary));
        }
        let tags: Map<String, Value> = role
            .tags
            .iter()
            .filter(|(k, _)| !k.starts_with("kubectl-irsa/") && k != crate::aws::MANAGED_BY_TAG)
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        if !tags.is_empty() {
            sa.insert("tags".into(), Value::Object(tags));
        }
    }
    if !b.eksctl_well_known.is_empty() {
        let keys: Map<String, Value> = b
            .eksctl_well_known
            .iter()
            .map(|k| (k.to_string(), json!(true)))
            .collect();
        sa.insert("wellKnownPolicies".into(), Value::Object(keys));
    }
    if b.service_account.is_none() {
        sa.insert("roleOnly".into(), json!(true));
    }
    Value::Object(sa)
}

pub fn render(bindings: &[Binding]) -> String {
    let first = bindings.first();
    let config = json!({
        "apiVersion": "eksctl.io/v1alpha5",
        "kind": "ClusterConfig",
        "metadata": {
            "name": first.map(|b| b.cluster.clone()).unwrap_or_default(),
            "region": first.map(|b| b.region.clone()).unwrap_or_default(),
        },
        "iam": {
            "withOIDC": true,
            "serviceAccounts": bindings.iter().map(entry).collect::<Vec<_>>(),
        },
    });
    serde_yaml::to_string(&config).unwrap_or_default()
}
