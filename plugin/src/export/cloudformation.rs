//! A CloudFormation template: an `AWS::IAM::Role` per binding (trust, managed policies, inline policies,
//! boundary, tags) and its ARN as an output. The service account stays Kubernetes' (annotate it with the
//! output, or use `-o yaml`).

use serde_json::{json, Map, Value};

use super::{identifier, Binding};

pub fn render(bindings: &[Binding]) -> String {
    let mut resources = Map::new();
    let mut outputs = Map::new();
    for b in bindings {
        let Some(role) = &b.role else { continue };
        let id = format!("{}Role", identifier(&[&b.namespace, &b.name], true));
        let mut properties = Map::new();
        properties.insert("RoleName".into(), json!(b.role_name));
        properties.insert("Path".into(), json!(role.path));
        properties.insert("Description".into(), json!(role.description));
        properties.insert("AssumeRolePolicyDocument".into(), role.trust.clone());
        if !role.managed_policies.is_empty() {
            properties.insert("ManagedPolicyArns".into(), json!(role.managed_policies));
        }
        if !role.inline_policies.is_empty() {
            let policies: Vec<Value> = role
                .inline_policies
                .iter()
                .map(|(name, doc)| json!({ "PolicyName": name, "PolicyDocument": doc }))
                .collect();
            properties.insert("Policies".into(), Value::Array(policies));
        }
        if let Some(boundary) = &role.permissions_boundary {
            properties.insert("PermissionsBoundary".into(), json!(boundary));
        }
        if let Some(seconds) = role.max_session_duration {
            properties.insert("MaxSessionDuration".into(), json!(seconds));
        }
        let tags: Vec<Value> = role
            .tags
            .iter()
            .map(|(k, v)| json!({ "Key": k, "Value": v }))
            .collect();
        properties.insert("Tags".into(), Value::Array(tags));
        resources.insert(
            id.clone(),
            json!({ "Type": "AWS::IAM::Role", "Properties": Value::Object(properties) }),
        );
        outputs.insert(
            format!("{id}Arn"),
            json!({
                "Description": format!("annotate service account {}/{} with eks.amazonaws.com/role-arn", b.namespace, b.name),
                "Value": { "Fn::GetAtt": [id, "Arn"] }
            }),
        );
    }
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "IRSA roles (kubectl irsa create --dry-run -o cloudformation)",
        "Resources": Value::Object(resources),
        "Outputs": Value::Object(outputs),
    });
    serde_json::to_string_pretty(&template).unwrap_or_default() + "\n"
}
