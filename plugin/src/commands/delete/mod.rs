//! `kubectl irsa delete`: undo a binding, touching only what kubectl-irsa manages. A role created by
//! kubectl-irsa loses its policies and is deleted (or, when it also trusts other service accounts, only loses
//! this one's trust statement); a service account kubectl-irsa created is deleted, any other only loses its
//! annotation.

use irsa_names::ROLE_ARN_ANNOTATION;
use irsa_policy::service_account_subject;
use serde_json::Value;

use super::{print, Ctx};
use crate::cli::{DeleteArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::executor::Live;
use crate::kube::{annotations, is_dns_subdomain, is_managed, labels};
use crate::output::structured;
use crate::plan::{Plan, SaSnapshot, Step};

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

/// Split a trust policy's statements into those that are only about `subject` and the rest.
pub fn split_trust(trust: &Value, subject: &str) -> (Vec<Value>, Vec<Value>) {
    let statements = match trust.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    };
    statements.into_iter().partition(|st| {
        let subs = statement_subjects(st);
        !subs.is_empty() && subs.iter().all(|s| s == subject)
    })
}

pub async fn run(ctx: &Ctx, args: DeleteArgs) -> Result<()> {
    let ns = ctx.namespace()?;
    let name = args.name.clone();
    if !is_dns_subdomain(&name) {
        return Err(Error::usage(format!(
            "service account name {name:?} is not valid (lowercase letters, digits, '-' and '.')"
        )));
    }
    let kube = ctx.kube().await?;
    let sa = kube.get_service_account(&ns, &name).await?.ok_or_else(|| {
        Error::NotFound(format!(
            "service account {ns}/{name} not found (kubectl get serviceaccounts -n {ns})"
        ))
    })?;
    let current_annotations = annotations(&sa.metadata);
    let role_arn = current_annotations.get(ROLE_ARN_ANNOTATION).cloned();
    let mut plan = Plan::new(format!("service account {ns}/{name}"));

    if is_managed(&sa.metadata) {
        plan.push(Step::DeleteServiceAccount {
            namespace: ns.clone(),
            name: name.clone(),
            previous: SaSnapshot {
                annotations: current_annotations
                    .iter()
                    .filter(|(k, _)| !k.starts_with("kubectl.kubernetes.io/"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                labels: labels(&sa.metadata),
            },
        });
    } else if let Some(arn) = &role_arn {
        plan.warn(format!(
            "service account {ns}/{name} was not created by kubectl-irsa: only its {ROLE_ARN_ANNOTATION} \
             annotation is removed"
        ));
        plan.push(Step::RemoveServiceAccountAnnotations {
            namespace: ns.clone(),
            name: name.clone(),
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

    let aws = match (&role_arn, args.keep_role) {
        (Some(_), false) => Some(ctx.aws().await?),
        _ => None,
    };
    match (&role_arn, aws) {
        (Some(_), None) => plan.ok("the role is kept (--keep-role)"),
        (Some(arn), Some(aws)) => match irsa_policy::role_name_from_arn(arn) {
            None => plan.warn(format!("annotation {arn:?} is not a role ARN: no role to delete")),
            Some(role_name) => match aws.get_role(&role_name).await? {
                None => plan.ok(format!("role {role_name} does not exist")),
                Some(role) if !role.is_managed() => plan.warn(format!(
                    "role {role_name} is not managed by kubectl-irsa (no managed-by=kubectl-irsa tag): left alone"
                )),
                Some(role) => {
                    let subject = service_account_subject(&ns, &name);
                    let (mine, others) = split_trust(&role.trust, &subject);
                    if !others.is_empty() {
                        if mine.is_empty() {
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
                            plan.push(Step::UpdateTrust {
                                role: role_name.clone(),
                                trust,
                                previous: role.trust.clone(),
                            });
                        }
                    } else {
                        for policy_arn in aws.attached_policies(&role_name).await? {
                            plan.push(Step::DetachPolicy {
                                role: role_name.clone(),
                                policy_arn,
                            });
                        }
                        for policy_name in aws.inline_policies(&role_name).await? {
                            let previous = aws
                                .inline_policy(&role_name, &policy_name)
                                .await?
                                .unwrap_or(Value::Null);
                            plan.push(Step::DeleteInlinePolicy {
                                role: role_name.clone(),
                                policy_name,
                                previous,
                            });
                        }
                        plan.push(Step::DeleteRole {
                            role: role_name.clone(),
                        });
                    }
                }
            },
        },
        (None, _) => {}
    }

    let table = ctx.output() == OutputFormat::Table;
    if args.dry_run {
        match structured(ctx.output(), &plan)? {
            Some(text) => print(&text),
            None => {
                print(&plan.render(true));
                print("dry run: nothing was changed (run without --dry-run to apply this plan)\n");
            }
        }
        return Ok(());
    }
    if table {
        if plan.is_empty() {
            print(&plan.render(false));
            return Ok(());
        }
        print(&format!("Applying plan for {}:\n", plan.subject));
    }
    let executor = Live {
        aws,
        kube: Some(kube),
    };
    plan.apply(&executor, |step, _| {
        if table {
            print(&format!("  + {}\n", step.summary()));
        }
    })
    .await?;
    match structured(ctx.output(), &plan)? {
        Some(text) => print(&text),
        None => {
            for ok in &plan.up_to_date {
                print(&format!("  = {ok}\n"));
            }
            for w in &plan.warnings {
                super::warn(w);
            }
            print(&format!("binding {ns}/{name} deleted\n"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use irsa_policy::irsa_trust_statement;
    use serde_json::json;

    #[test]
    fn trust_statements_split_by_subject() {
        let issuer = "https://oidc.example.com/id/A";
        let mine = irsa_trust_statement("1", issuer, "ns", "a", "sts.amazonaws.com", None);
        let other = irsa_trust_statement("1", issuer, "ns", "b", "sts.amazonaws.com", None);
        let trust = json!({"Version": "2012-10-17", "Statement": [mine.clone(), other.clone()]});
        let (m, o) = split_trust(&trust, "system:serviceaccount:ns:a");
        assert_eq!(m, vec![mine.clone()]);
        assert_eq!(o, vec![other]);
        let single = json!({"Version": "2012-10-17", "Statement": mine});
        let (m, o) = split_trust(&single, "system:serviceaccount:ns:a");
        assert_eq!(m.len(), 1);
        assert!(o.is_empty());
        let pattern = irsa_trust_statement("1", issuer, "ns", "a", "sts.amazonaws.com", Some("*"));
        let (m, o) = split_trust(
            &json!({"Statement": [pattern]}),
            "system:serviceaccount:ns:a",
        );
        assert!(m.is_empty());
        assert_eq!(o.len(), 1);
    }
}
