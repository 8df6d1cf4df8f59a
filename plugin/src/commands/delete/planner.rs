//! What `delete` changes, decided from what it found: pure, so each case is a unit test.

use irsa_names::ROLE_ARN_ANNOTATION;
use k8s_openapi::api::core::v1::ServiceAccount;
use serde_json::Value;

use crate::aws::{Association, Role};
use crate::kube::{annotations, is_managed, labels};
use crate::plan::{ClusterStep, EksStep, IamStep, Plan, SaSnapshot};
use crate::trust::pod_identity::remove_pod_identity;

/// The role a service account's annotation names, as IAM has it.
#[derive(Debug, Clone)]
pub enum RoleFacts {
    /// The annotation is no role ARN.
    NotARoleArn(String),
    Missing {
        name: String,
    },
    Found {
        role: Box<Role>,
        attached: Vec<String>,
        /// Inline policies by name, with their documents (to restore them on rollback).
        inline: Vec<(String, Value)>,
    },
}

/// The `sub` values a statement's conditions pin (any operator, any `…:sub` key).
fn statement_subjects(statement: &Value) -> Vec<String> {
    let mut subjects = Vec::new();
    let Some(conditions) = statement.get("Condition").and_then(Value::as_object) else {
        return subjects;
    };
    for block in conditions.values() {
        let Some(block) = block.as_object() else {
            continue;
        };
        for (key, value) in block {
            if !key.ends_with(":sub") {
                continue;
            }
            match value {
                Value::String(s) => subjects.push(s.clone()),
                Value::Array(items) => {
                    subjects.extend(items.iter().filter_map(Value::as_str).map(str::to_string))
                }
                _ => {}
            }
        }
    }
    subjects
}

/// `statement` without `subject` in the `…:sub` lists that name it among others (a statement of a shared role,
/// its subjects merged by `create --add-trust`); `None` when no list names it beside another subject.
fn without_subject(statement: &Value, subject: &str) -> Option<Value> {
    let mut trimmed = statement.clone();
    let mut changed = false;
    let blocks = trimmed.get_mut("Condition")?.as_object_mut()?;
    for block in blocks.values_mut() {
        let Some(block) = block.as_object_mut() else {
            continue;
        };
        for (key, value) in block.iter_mut() {
            let Value::Array(items) = value else { continue };
            if !key.ends_with(":sub") || items.len() < 2 || !items.iter().any(|i| i == subject) {
                continue;
            }
            items.retain(|i| i != subject);
            if items.len() == 1 {
                *value = items[0].clone();
            }
            changed = true;
        }
    }
    changed.then_some(trimmed)
}

/// Split a trust policy's statements into those about `subject` and the statements to keep: a statement
/// only about `subject` goes; one whose merged subject list names it among others is kept without it (the
/// original is then in the first list too, so a caller sees that the trust changes).
pub fn split_trust(trust: &Value, subject: &str) -> (Vec<Value>, Vec<Value>) {
    let statements = match trust.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    };
    let (mut mine, mut others) = (Vec::new(), Vec::new());
    for st in statements {
        let subs = statement_subjects(&st);
        if !subs.is_empty() && subs.iter().all(|s| s == subject) {
            mine.push(st);
        } else if let Some(trimmed) = without_subject(&st, subject) {
            mine.push(st);
            others.push(trimmed);
        } else {
            others.push(st);
        }
    }
    (mine, others)
}

/// The service account's side: a managed one is deleted, any other only loses its annotation.
pub fn plan_unbind(namespace: &str, name: &str, sa: &ServiceAccount) -> Plan<ClusterStep> {
    let (ns, name) = (namespace.to_string(), name.to_string());
    let current_annotations = annotations(&sa.metadata);
    let mut plan = Plan::new(format!("service account {ns}/{name}"));
    if is_managed(&sa.metadata) {
        plan.push(ClusterStep::DeleteServiceAccount {
            namespace: ns,
            name,
            previous: SaSnapshot {
                annotations: current_annotations
                    .iter()
                    .filter(|(k, _)| !k.starts_with("kubectl.kubernetes.io/"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                labels: labels(&sa.metadata),
            },
        });
    } else if let Some(arn) = current_annotations.get(ROLE_ARN_ANNOTATION) {
        plan.warn(format!(
            "service account {ns}/{name} was not created by kubectl-irsa: only its {ROLE_ARN_ANNOTATION} \
             annotation is removed"
        ));
        plan.push(ClusterStep::RemoveServiceAccountAnnotations {
            namespace: ns,
            name,
            keys: vec![ROLE_ARN_ANNOTATION.into()],
            previous: SaSnapshot {
                annotations: [(ROLE_ARN_ANNOTATION.to_string(), arn.clone())].into(),
                labels: Default::default(),
            },
        });
    } else {
        plan.ok(format!(
            "service account {ns}/{name} has no {ROLE_ARN_ANNOTATION} annotation"
        ));
    }
    plan
}

/// The role's side: a managed role trusting only `subject` loses its policies and is deleted; one that also
/// trusts others only loses `subject`'s statement; an unmanaged one is left alone.
pub fn plan_role_deletion(subject: &str, facts: &RoleFacts) -> Plan<IamStep> {
    let mut plan = Plan::new(String::new());
    match facts {
        RoleFacts::NotARoleArn(arn) => plan.warn(format!(
            "annotation {arn:?} is not a role ARN: no role to delete"
        )),
        RoleFacts::Missing { name } => plan.ok(format!("role {name} does not exist")),
        RoleFacts::Found { role, .. } if !role.is_managed() => plan.warn(format!(
            "role {} is not managed by kubectl-irsa (no managed-by=kubectl-irsa tag): left alone",
            role.name
        )),
        RoleFacts::Found {
            role,
            attached,
            inline,
        } => {
            let role_name = &role.name;
            let (mine, others) = split_trust(&role.trust, subject);
            if others.is_empty() {
                for policy_arn in attached {
                    plan.push(IamStep::DetachPolicy {
                        role: role_name.clone(),
                        policy_arn: policy_arn.clone(),
                    });
                }
                for (policy_name, previous) in inline {
                    plan.push(IamStep::DeleteInlinePolicy {
                        role: role_name.clone(),
                        policy_name: policy_name.clone(),
                        previous: previous.clone(),
                    });
                }
                plan.push(IamStep::DeleteRole {
                    role: role_name.clone(),
                });
            } else if mine.is_empty() {
                plan.warn(format!(
                    "role {role_name} trusts other service accounts too and has no statement only for \
                     {subject}: the role is kept unchanged"
                ));
            } else {
                let mut trust = role.trust.clone();
                trust["Statement"] = Value::Array(others);
                plan.warn(format!(
                    "role {role_name} also trusts other service accounts: only the statement for \
                     {subject} is removed, the role is kept"
                ));
                plan.push(IamStep::UpdateTrust {
                    role: role_name.clone(),
                    trust,
                    previous: role.trust.clone(),
                });
            }
        }
    }
    plan
}

/// The associations of a Pod Identity binding: each deleted (an association is the binding itself, like the
/// annotation an IRSA binding has).
pub fn plan_association_deletion(associations: &[Association]) -> Plan<EksStep> {
    let mut plan = Plan::new(String::new());
    for a in associations {
        plan.push(EksStep::DeletePodIdentityAssociation {
            cluster: a.cluster.clone(),
            association_id: a.id.clone(),
            namespace: a.namespace.clone(),
            service_account: a.service_account.clone(),
            role_arn: a.role_arn.clone(),
            tags: a.tags.clone(),
        });
    }
    plan
}

/// The role of a Pod Identity binding: as [`plan_role_deletion`], with its `pods.eks.amazonaws.com` statement
/// counted as this binding's. A role other associations (`shared_with`) still use is kept as it is.
pub fn plan_pod_identity_role_deletion(
    subject: &str,
    facts: &RoleFacts,
    shared_with: &[String],
) -> Plan<IamStep> {
    let RoleFacts::Found {
        role,
        attached,
        inline,
    } = facts
    else {
        return plan_role_deletion(subject, facts);
    };
    if !role.is_managed() {
        return plan_role_deletion(subject, facts);
    }
    if !shared_with.is_empty() {
        let mut plan = Plan::new(String::new());
        plan.warn(format!(
            "role {} is also used by the Pod Identity association(s) of {}: kept unchanged",
            role.name,
            shared_with.join(", ")
        ));
        return plan;
    }
    let Some(without) = remove_pod_identity(&role.trust) else {
        return plan_role_deletion(subject, facts);
    };
    let mut trimmed = role.clone();
    trimmed.trust = without.clone();
    let mut plan = plan_role_deletion(
        subject,
        &RoleFacts::Found {
            role: trimmed,
            attached: attached.clone(),
            inline: inline.clone(),
        },
    );
    let deletes = plan
        .steps
        .iter()
        .any(|s| matches!(s, IamStep::DeleteRole { .. }));
    if deletes {
        return plan;
    }
    let mut updated = false;
    for step in &mut plan.steps {
        if let IamStep::UpdateTrust { previous, .. } = step {
            *previous = role.trust.clone();
            updated = true;
        }
    }
    if !updated {
        plan.warnings.clear();
        plan.warn(format!(
            "role {} also trusts other principals: only its pods.eks.amazonaws.com statement is removed, the \
             role is kept",
            role.name
        ));
        plan.push(IamStep::UpdateTrust {
            role: role.name.clone(),
            trust: without,
            previous: role.trust.clone(),
        });
    }
    plan
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
