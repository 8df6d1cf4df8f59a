//! The role's policies: what the spec wants attached and put (presets expanded), what `--prune` takes away,
//! and the lint warnings for the documents about to be applied.

use super::super::facts::RoleFacts;
use super::super::spec::{CreateSpec, DesiredPolicies};
use super::super::INLINE_POLICY_NAME;
use crate::plan::{IamStep, Plan};

/// Push the policy steps for `role_name`. `managed_role`: the role exists and kubectl-irsa manages it, the
/// only kind `--prune` changes.
pub(super) fn plan_policies(
    spec: &CreateSpec,
    desired: &DesiredPolicies,
    facts: &RoleFacts,
    role_name: &str,
    plan: &mut Plan<IamStep>,
) {
    let exists = facts.role.is_some();
    for arn in &desired.managed {
        if exists && facts.attached.contains(arn) {
            plan.ok(format!("policy {arn} is attached"));
        } else {
            plan.push(IamStep::AttachPolicy {
                role: role_name.to_string(),
                policy_arn: arn.clone(),
            });
        }
    }
    for (name, doc) in &desired.inline {
        let previous = facts.inline.get(name).filter(|_| exists).cloned();
        if previous.as_ref() == Some(doc) {
            plan.ok(format!("inline policy {name} is as given"));
        } else {
            plan.push(IamStep::PutInlinePolicy {
                role: role_name.to_string(),
                policy_name: name.clone(),
                document: doc.clone(),
                previous,
            });
        }
    }
    lint_warnings(spec, facts, plan);
    if spec.prune {
        prune(facts, role_name, desired, plan);
    }
}

/// `--prune`: detach every managed policy the spec does not list and delete kubectl-irsa's inline policies
/// it no longer puts; inline policies someone else put are named and left. Only on roles kubectl-irsa
/// manages: a role given with attachRoleARN belongs to someone else.
fn prune(facts: &RoleFacts, role_name: &str, desired: &DesiredPolicies, plan: &mut Plan<IamStep>) {
    let Some(role) = &facts.role else { return };
    if !role.is_managed() {
        plan.warn(format!(
            "--prune leaves role {role_name} alone: it is not managed by kubectl-irsa"
        ));
        return;
    }
    for arn in &facts.attached {
        if !desired.managed.contains(arn) {
            plan.push(IamStep::DetachPolicy {
                role: role_name.to_string(),
                policy_arn: arn.clone(),
            });
        }
    }
    for name in &facts.inline_names {
        if desired.inline.iter().any(|(n, _)| n == name) {
            continue;
        }
        match facts.inline.get(name) {
            Some(previous) if name.starts_with(INLINE_POLICY_NAME) => {
                plan.push(IamStep::DeleteInlinePolicy {
                    role: role_name.to_string(),
                    policy_name: name.clone(),
                    previous: previous.clone(),
                })
            }
            _ => plan.warn(format!(
                "inline policy {name} of role {role_name} was not put by kubectl-irsa: --prune leaves it"
            )),
        }
    }
}

/// Warnings for the inline and customer managed documents this binding applies (IAM accepts them anyway).
fn lint_warnings(spec: &CreateSpec, facts: &RoleFacts, plan: &mut Plan<IamStep>) {
    let mut documents: Vec<(String, &serde_json::Value)> = Vec::new();
    if let Some(doc) = &spec.inline_policy {
        documents.push((format!("inline policy {INLINE_POLICY_NAME}"), doc));
    }
    for (arn, doc) in &facts.customer_policies {
        documents.push((format!("policy {arn}"), doc));
    }
    for (what, doc) in documents {
        match crate::lint::lint_value(doc) {
            Ok(findings) => {
                for finding in findings {
                    plan.warn(format!("lint: {what}: {finding}"));
                }
            }
            Err(e) => plan.warn(format!("lint: {what} is not a valid policy: {e}")),
        }
    }
}
