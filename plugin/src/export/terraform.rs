//! Terraform (HCL): `aws_iam_role` with the trust as `jsonencode(…)`, an `aws_iam_role_policy_attachment` per
//! managed policy, an `aws_iam_role_policy` per inline policy, and `kubernetes_service_account_v1` whose
//! role-arn annotation references the role, so `terraform apply` orders them.

use std::fmt::Write as _;

use serde_json::Value;

use super::{identifier, Binding};

/// A quoted HCL string: JSON escapes plus `${` and `%{`, which HCL would read as interpolation and template
/// directives (IAM policy variables such as `${aws:username}` must stay literal).
fn string(s: &str) -> String {
    let json = Value::String(s.to_string()).to_string();
    json.replace("${", "$${").replace("%{", "%%{")
}

/// A JSON value as an HCL expression, indented by `depth` levels.
fn expression(value: &Value, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth + 1);
    let end = "  ".repeat(depth);
    match value {
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            out.push_str("{\n");
            for (k, v) in map {
                let _ = write!(out, "{pad}{} = ", string(k));
                expression(v, depth + 1, out);
                out.push('\n');
            }
            let _ = write!(out, "{end}}}");
        }
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push_str("[\n");
            for item in items {
                out.push_str(&pad);
                expression(item, depth + 1, out);
                out.push_str(",\n");
            }
            let _ = write!(out, "{end}]");
        }
        Value::String(s) => out.push_str(&string(s)),
        other => out.push_str(&other.to_string()),
    }
}

fn map_block(pairs: &[(String, String)], depth: usize) -> String {
    let object: serde_json::Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let mut out = String::new();
    expression(&Value::Object(object), depth, &mut out);
    out
}

fn binding(b: &Binding, out: &mut String) {
    let id = identifier(&[&b.namespace, &b.name], false);
    let _ = writeln!(
        out,
        "# {}/{} -> {} (kubectl irsa create --dry-run -o terraform)",
        b.namespace, b.name, b.role_arn
    );
    let role_arn_expr = match &b.role {
        Some(role) => {
            let _ = writeln!(out, "resource \"aws_iam_role\" \"{id}\" {{");
            let _ = writeln!(out, "  name        = {}", string(&b.role_name));
            let _ = writeln!(out, "  path        = {}", string(&role.path));
            let _ = writeln!(out, "  description = {}", string(&role.description));
            let mut trust = String::new();
            expression(&role.trust, 1, &mut trust);
            let _ = writeln!(out, "  assume_role_policy = jsonencode({trust})");
            if let Some(seconds) = role.max_session_duration {
                let _ = writeln!(out, "  max_session_duration = {seconds}");
            }
            if let Some(boundary) = &role.permissions_boundary {
                let _ = writeln!(out, "  permissions_boundary = {}", string(boundary));
            }
            let _ = writeln!(out, "  tags = {}", map_block(&role.tags, 1));
            let _ = writeln!(out, "}}\n");
            for (i, arn) in role.managed_policies.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "resource \"aws_iam_role_policy_attachment\" \"{id}_{i}\" {{"
                );
                let _ = writeln!(out, "  role       = aws_iam_role.{id}.name");
                let _ = writeln!(out, "  policy_arn = {}", string(arn));
                let _ = writeln!(out, "}}\n");
            }
            for (name, doc) in &role.inline_policies {
                let policy_id = identifier(&[&id, name], false);
                let mut document = String::new();
                expression(doc, 1, &mut document);
                let _ = writeln!(out, "resource \"aws_iam_role_policy\" \"{policy_id}\" {{");
                let _ = writeln!(out, "  name   = {}", string(name));
                let _ = writeln!(out, "  role   = aws_iam_role.{id}.id");
                let _ = writeln!(out, "  policy = jsonencode({document})");
                let _ = writeln!(out, "}}\n");
            }
            format!("aws_iam_role.{id}.arn")
        }
        None => string(&b.role_arn),
    };
    if let Some(sa) = &b.service_account {
        let mut annotations: Vec<(String, String)> = sa.annotations.clone().into_iter().collect();
        annotations.retain(|(k, _)| k != irsa_names::ROLE_ARN_ANNOTATION);
        let labels: Vec<(String, String)> = sa.labels.clone().into_iter().collect();
        let mut rendered = map_block(&annotations, 2);
        // The role-arn annotation references the role resource (or the existing role's ARN).
        let line = format!(
            "    {} = {role_arn_expr}\n",
            string(irsa_names::ROLE_ARN_ANNOTATION)
        );
        rendered = if rendered == "{}" {
            format!("{{\n{line}    }}")
        } else {
            rendered.replacen("{\n", &format!("{{\n{line}"), 1)
        };
        let _ = writeln!(
            out,
            "resource \"kubernetes_service_account_v1\" \"{id}\" {{"
        );
        let _ = writeln!(out, "  metadata {{");
        let _ = writeln!(out, "    name        = {}", string(&b.name));
        let _ = writeln!(out, "    namespace   = {}", string(&b.namespace));
        let _ = writeln!(out, "    annotations = {rendered}");
        let _ = writeln!(out, "    labels      = {}", map_block(&labels, 2));
        let _ = writeln!(out, "  }}");
        let _ = writeln!(out, "}}\n");
    }
}

pub fn render(bindings: &[Binding]) -> String {
    let mut out = String::new();
    for b in bindings {
        binding(b, &mut out);
    }
    out
}
