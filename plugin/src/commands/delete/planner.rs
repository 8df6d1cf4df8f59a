//! What `delete` changes, decided from what it found: pure, so each case is a unit test.

use irsa_names::ROLE_ARN_ANNOTATION;
use k8s_openapi::api::core::v1::ServiceAccount;
use serde_json::Value;

use crate::aws::Role;
use crate::kube::{annotations, is_managed, labels};
use crate::plan::{ClusterStep, IamStep, Plan, SaSnapshot};

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

#[cfg(test)]
mod tests {
    //! The situations plugin/tests/e2e/delete.rs puts `delete` in.

    use std::collections::BTreeMap;

    use irsa_names::{MANAGED_BY_LABEL, STS_AUDIENCE};
    use irsa_policy::{irsa_trust_policy, irsa_trust_statement};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    use super::*;
    use crate::aws::{MANAGED_BY_TAG, MANAGED_BY_VALUE};

    const ISSUER: &str = "https://127.0.0.1:8443/id/ABC";
    const ARN: &str = "arn:aws:iam::111122223333:role/r";
    const SUBJECT: &str = "system:serviceaccount:ns:app";

    fn sa(labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> ServiceAccount {
        let map = |pairs: &[(&str, &str)]| {
            Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
            )
        };
        ServiceAccount {
            metadata: ObjectMeta {
                labels: map(labels),
                annotations: map(annotations),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn role(trust: Value, managed: bool) -> Role {
        Role {
            name: "r".into(),
            arn: ARN.into(),
            path: "/".into(),
            trust,
            max_session_duration: None,
            permissions_boundary: None,
            tags: if managed {
                vec![(MANAGED_BY_TAG.into(), MANAGED_BY_VALUE.into())]
            } else {
                Vec::new()
            },
        }
    }

    fn summaries<S: crate::plan::PlanStep>(plan: &Plan<S>) -> Vec<String> {
        plan.steps.iter().map(|s| s.summary()).collect()
    }

    #[test]
    fn a_managed_service_account_is_deleted_with_its_metadata_kept_for_rollback() {
        let account = sa(
            &[(MANAGED_BY_LABEL, MANAGED_BY_VALUE)],
            &[
                (ROLE_ARN_ANNOTATION, ARN),
                ("kubectl.kubernetes.io/last-applied-configuration", "{}"),
            ],
        );
        let plan = plan_unbind("ns", "app", &account);
        let [ClusterStep::DeleteServiceAccount { previous, .. }] = plan.steps.as_slice() else {
            panic!("{:?}", plan.steps)
        };
        assert_eq!(
            previous.annotations.len(),
            1,
            "kubectl's own annotation is not restored"
        );
        assert_eq!(previous.labels[MANAGED_BY_LABEL], MANAGED_BY_VALUE);
    }

    #[test]
    fn another_service_account_only_loses_its_annotation() {
        let plan = plan_unbind("ns", "app", &sa(&[], &[(ROLE_ARN_ANNOTATION, ARN)]));
        assert_eq!(
            summaries(&plan),
            [format!(
                "remove annotation {ROLE_ARN_ANNOTATION} from service account ns/app"
            )]
        );
        assert!(plan.warnings[0].contains("not created by kubectl-irsa"));
        let plan = plan_unbind("ns", "app", &sa(&[], &[]));
        assert!(plan.is_empty());
        assert!(plan.up_to_date[0].contains("has no"));
    }

    #[test]
    fn a_managed_role_trusting_only_this_account_loses_its_policies_and_is_deleted() {
        let trust = irsa_trust_policy("111122223333", ISSUER, "ns", "app", STS_AUDIENCE, None);
        let facts = RoleFacts::Found {
            role: Box::new(role(trust, true)),
            attached: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
            inline: vec![("kubectl-irsa".into(), json!({"Statement": []}))],
        };
        let plan = plan_role_deletion(SUBJECT, &facts);
        assert_eq!(
            summaries(&plan),
            [
                "detach policy arn:aws:iam::aws:policy/ReadOnlyAccess from role r",
                "delete inline policy kubectl-irsa of role r",
                "delete IAM role r",
            ]
        );
    }

    #[test]
    fn a_role_shared_with_other_accounts_only_loses_this_statement() {
        let mine = irsa_trust_statement("111122223333", ISSUER, "ns", "app", STS_AUDIENCE, None);
        let other = irsa_trust_statement("111122223333", ISSUER, "ns", "b", STS_AUDIENCE, None);
        let trust = json!({"Version": "2012-10-17", "Statement": [mine, other.clone()]});
        let facts = RoleFacts::Found {
            role: Box::new(role(trust.clone(), true)),
            attached: Vec::new(),
            inline: Vec::new(),
        };
        let plan = plan_role_deletion(SUBJECT, &facts);
        let [IamStep::UpdateTrust {
            trust: left,
            previous,
            ..
        }] = plan.steps.as_slice()
        else {
            panic!("{:?}", plan.steps)
        };
        assert_eq!(left["Statement"], json!([other]));
        assert_eq!(previous, &trust);
        assert!(plan.warnings[0].contains("only the statement for"));

        let pattern = irsa_trust_statement("1", ISSUER, "ns", "app", STS_AUDIENCE, Some("*"));
        let facts = RoleFacts::Found {
            role: Box::new(role(json!({"Statement": [pattern]}), true)),
            attached: Vec::new(),
            inline: Vec::new(),
        };
        let plan = plan_role_deletion(SUBJECT, &facts);
        assert!(plan.is_empty());
        assert!(plan.warnings[0].contains("kept unchanged"));
    }

    #[test]
    fn roles_kubectl_irsa_does_not_manage_or_cannot_find_are_left_alone() {
        let facts = RoleFacts::Found {
            role: Box::new(role(json!({}), false)),
            attached: Vec::new(),
            inline: Vec::new(),
        };
        let plan = plan_role_deletion(SUBJECT, &facts);
        assert!(plan.is_empty());
        assert!(plan.warnings[0].contains("not managed by kubectl-irsa"));
        let plan = plan_role_deletion(SUBJECT, &RoleFacts::Missing { name: "r".into() });
        assert_eq!(plan.up_to_date, ["role r does not exist"]);
        let plan = plan_role_deletion(SUBJECT, &RoleFacts::NotARoleArn("nope".into()));
        assert!(plan.warnings[0].contains("not a role ARN"));
    }

    #[test]
    fn the_service_account_goes_first_then_the_role() {
        let unbind = plan_unbind("ns", "app", &sa(&[], &[(ROLE_ARN_ANNOTATION, ARN)]));
        let role = plan_role_deletion(SUBJECT, &RoleFacts::Missing { name: "r".into() });
        let plan = unbind.then(role);
        assert_eq!(plan.subject, "service account ns/app");
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(plan.up_to_date, ["role r does not exist"]);
    }
}
