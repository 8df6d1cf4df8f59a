//! GitOps export: what `create --dry-run` would make, written for the tool that should own it instead —
//! Terraform, CloudFormation, an eksctl ClusterConfig fragment, or the Kubernetes manifest. Pure: a
//! [`Binding`] (the desired role and service account, from the same spec and planner `create` applies) in,
//! text out.

mod cloudformation;
mod eksctl;
mod manifest;
mod terraform;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::cli::OutputFormat;

/// One binding as it should exist.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub namespace: String,
    pub name: String,
    pub role_name: String,
    pub role_arn: String,
    /// `None`: the role exists and is not the binding's to describe (`--attach-role-arn`).
    pub role: Option<RoleSpec>,
    /// `None`: `--role-only`, no Kubernetes object.
    pub service_account: Option<ServiceAccountSpec>,
    /// eksctl's `wellKnownPolicies` keys of the presets (the eksctl fragment names them instead of the
    /// policies they stand for).
    pub eksctl_well_known: Vec<&'static str>,
    /// Whether the role is `--attach-role-arn` (eksctl: `attachRoleARN`).
    pub attach_role_arn: Option<String>,
    pub cluster: String,
    pub region: String,
}

/// A role to create.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleSpec {
    pub path: String,
    pub description: String,
    pub trust: Value,
    pub managed_policies: Vec<String>,
    /// Managed policies that come from presets eksctl knows (left out of the eksctl fragment's
    /// attachPolicyARNs: its wellKnownPolicies attach them).
    pub preset_managed_policies: Vec<String>,
    pub inline_policies: Vec<(String, Value)>,
    /// The inline policies that come from eksctl-known presets.
    pub preset_inline_policies: Vec<String>,
    pub permissions_boundary: Option<String>,
    pub max_session_duration: Option<i32>,
    pub tags: Vec<(String, String)>,
}

/// The service account to create or annotate.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceAccountSpec {
    pub annotations: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// The namespace does not exist yet (the manifest then starts with it).
    pub create_namespace: bool,
}

/// The bindings in `format`, or `None` when the format is no export.
pub fn render(format: OutputFormat, bindings: &[Binding]) -> Option<String> {
    match format {
        OutputFormat::Terraform => Some(terraform::render(bindings)),
        OutputFormat::Cloudformation => Some(cloudformation::render(bindings)),
        OutputFormat::Eksctl => Some(eksctl::render(bindings)),
        OutputFormat::Yaml => Some(manifest::render(bindings)),
        OutputFormat::Table | OutputFormat::Json => None,
    }
}

/// An identifier made of `[A-Za-z0-9_]` from a binding's namespace and name (Terraform resource names,
/// CloudFormation logical IDs).
pub(crate) fn identifier(parts: &[&str], camel: bool) -> String {
    let mut out = String::new();
    let mut upper = camel;
    for c in parts.join("-").chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.extend(c.to_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            if !camel {
                out.push('_');
            }
            upper = camel;
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, if camel { 'B' } else { 'b' });
    }
    out
}

#[cfg(test)]
mod tests;
