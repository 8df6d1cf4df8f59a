//! From a [`CreateSpec`] and the facts gathered for it ([`super::facts`]) to a [`Plan`]: what differs becomes a
//! step, what matches is reported up to date. Pure: no I/O here, so every case is a unit test. IAM steps come
//! first and the service account last, so the annotation never points at a half-made role.

use irsa_names::{AUDIENCE_ANNOTATION, MANAGED_BY_LABEL, ROLE_ARN_ANNOTATION, STS_AUDIENCE};
use irsa_policy::{irsa_trust_statement, trust_admits, Account, DocumentKind, PolicyDocument};
use serde::Serialize;
use serde_json::{json, Value};

use super::facts::{RoleFacts, ServiceAccountFacts};
use super::spec::CreateSpec;
use crate::aws::{NewRole, Provider, MANAGED_BY_TAG, MANAGED_BY_VALUE};
use crate::commands::Issuer;
use crate::error::{Error, Result};
use crate::kube::{annotations, applied_keys, is_managed, keep_owned, labels};
use crate::plan::{ClusterStep, IamStep, Plan, SaSnapshot, Step};

pub mod pod_identity;
mod policies;
#[cfg(test)]
mod tests;

/// The cluster side every binding shares.
#[derive(Debug, Clone)]
pub struct Target {
    pub issuer: Issuer,
    pub provider: Provider,
    /// The caller's account, in its partition (every ARN the plan mints is in it).
    pub account: Account,
    pub cluster_label: String,
    /// The AWS region in use (filled into presets).
    pub region: String,
}

/// Tag on roles kubectl-irsa creates: the cluster label (what `list --orphans` groups roles by).
pub const CLUSTER_TAG: &str = "kubectl-irsa/cluster";
/// Tag on roles kubectl-irsa creates: the service account, `<namespace>/<name>`.
pub const SERVICE_ACCOUNT_TAG: &str = "kubectl-irsa/service-account";

/// A computed plan and the role it binds. `S` is [`IamStep`] for `--role-only`, [`Step`] for a binding.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Planned<S = Step> {
    pub namespace: String,
    pub name: String,
    pub role_name: String,
    pub role_arn: String,
    pub issuer: String,
    pub plan: Plan<S>,
}

/// The role, its trust and its policies for `spec` (`--role-only`, and the first half of every binding).
pub fn plan_role(
    spec: &CreateSpec,
    target: &Target,
    facts: &RoleFacts,
) -> Result<Planned<IamStep>> {
    same_partition(spec, &target.account)?;
    let subject = spec.subject();
    let role_name = spec.role_name(&target.cluster_label);
    let mut plan = Plan::new(format!(
        "service account {}/{} (role {role_name})",
        spec.namespace, spec.name
    ));
    plan.ok(format!(
        "IAM OIDC provider {} lists audience {}",
        target.provider.arn, spec.audience
    ));

    let statement = irsa_trust_statement(
        &target.account,
        &target.issuer.url,
        &spec.namespace,
        &spec.name,
        &spec.audience,
        spec.subject_pattern.as_deref(),
    );
    let existing = &facts.role;
    if spec.attach_role_arn.is_some() && existing.is_none() {
        return Err(Error::NotFound(format!(
            "role {role_name} (--attach-role-arn) does not exist in this account; omit --attach-role-arn to \
             create a role"
        )));
    }
    let role_arn = match existing {
        Some(role) => role.arn.clone(),
        None => target
            .account
            .role_arn(spec.role_path.as_deref().unwrap_or("/"), &role_name),
    };

    match existing {
        Some(role) => plan_existing_role(spec, target, role, &statement, &subject, &mut plan)?,
        None => {
            let tags = new_role_tags(spec, &target.cluster_label);
            plan.push(IamStep::CreateRole {
                role: NewRole {
                    name: role_name.clone(),
                    path: spec.role_path.clone().unwrap_or_else(|| "/".into()),
                    trust: json!({ "Version": "2012-10-17", "Statement": [statement] }),
                    description: format!(
                        "IRSA role for service account {}/{} (kubectl-irsa)",
                        spec.namespace, spec.name
                    ),
                    max_session_duration: spec.max_session_duration,
                    permissions_boundary: spec.permissions_boundary.clone(),
                    tags,
                },
            });
        }
    }
    let desired = spec.desired_policies(target);
    policies::plan_policies(spec, &desired, facts, &role_name, &mut plan);

    Ok(Planned {
        namespace: spec.namespace.clone(),
        name: spec.name.clone(),
        role_name,
        role_arn,
        issuer: target.issuer.url.clone(),
        plan,
    })
}

/// The ARNs given on the command line (or in -f) must be in the account's partition: IAM China does not know
/// `arn:aws:iam::aws:policy/…`, and the usual cause is a command copied from commercial-region docs. Refused
/// before anything is planned, with the ARN spelled for the account.
pub fn same_partition(spec: &CreateSpec, account: &Account) -> Result<()> {
    let given = spec
        .attach_policy_arns
        .iter()
        .map(|arn| ("--attach-policy-arn", arn))
        .chain(
            spec.permissions_boundary
                .iter()
                .map(|arn| ("--permissions-boundary", arn)),
        )
        .chain(
            spec.attach_role_arn
                .iter()
                .map(|arn| ("--attach-role-arn", arn)),
        );
    for (flag, arn) in given {
        let Ok(parsed) = arn.parse::<irsa_policy::Arn>() else {
            continue;
        };
        if parsed.partition != account.partition {
            let fixed = irsa_policy::Arn {
                partition: account.partition.clone(),
                ..parsed.clone()
            };
            return Err(Error::usage(format!(
                "{flag} {arn} is in partition {}, but account {} is in {}: use {fixed}",
                parsed.partition, account.id, account.partition
            )));
        }
    }
    if let Some(doc) = &spec.inline_policy {
        // The spec checked it against any partition; now the account's is known, as IAM will check it.
        irsa_policy::validate_in(&doc.to_string(), DocumentKind::Inline, &account.partition)
            .map_err(|e| {
                let detail = e.detail().map(|d| format!(" ({d})")).unwrap_or_default();
                Error::usage(format!(
                    "the inline policy is not valid in partition {} (account {}): {e}{detail}",
                    account.partition, account.id
                ))
            })?;
    }
    Ok(())
}

/// An existing role: its trust must admit the service account (or `--add-trust` adds a statement); the
/// session duration, boundary and tags converge to what was asked. Policies are only ever added.
fn plan_existing_role(
    spec: &CreateSpec,
    target: &Target,
    role: &crate::aws::Role,
    statement: &Value,
    subject: &str,
    plan: &mut Plan<IamStep>,
) -> Result<()> {
    if !role.is_managed() {
        plan.warn(format!(
            "role {} exists and is not managed by kubectl-irsa: it is used as is, and `delete` will leave it",
            role.name
        ));
    }
    let evaluation = PolicyDocument::from_value(role.trust.clone())
        .map(|doc| trust_admits(&doc, &target.provider.arn, subject, &spec.audience));
    match evaluation {
        Ok(e) if e.is_allowed() => plan.ok(format!(
            "trust policy of role {} admits {subject} (audience {})",
            role.name, spec.audience
        )),
        other => {
            let explanation = match other {
                Ok(e) => e.explain(),
                Err(e) => format!("the trust policy cannot be parsed: {e}"),
            };
            if !spec.add_trust {
                return Err(Error::TrustMismatch {
                    role: role.name.clone(),
                    subject: subject.to_string(),
                    explanation,
                    wanted: serde_json::to_string_pretty(statement).unwrap_or_default(),
                });
            }
            // One statement per provider, subjects merged, and refused before IAM would refuse it.
            let trust = crate::trust::add_statement(&role.trust, statement);
            let size = crate::trust::policy_size(&trust);
            if size > crate::trust::TRUST_POLICY_QUOTA {
                let providers = PolicyDocument::from_value(trust.clone())
                    .map(|d| d.federated_principals().len())
                    .unwrap_or(0);
                return Err(Error::TrustTooLarge {
                    role: role.name.clone(),
                    size,
                    quota: crate::trust::TRUST_POLICY_QUOTA,
                    providers,
                });
            }
            plan.push(IamStep::UpdateTrust {
                role: role.name.clone(),
                trust,
                previous: role.trust.clone(),
            });
        }
    }
    plan_role_settings(spec, role, plan);
    Ok(())
}

/// The tags of a role kubectl-irsa creates: its own three, then the spec's (never overriding those).
pub(super) fn new_role_tags(spec: &CreateSpec, cluster_label: &str) -> Vec<(String, String)> {
    let mut tags = vec![
        (MANAGED_BY_TAG.to_string(), MANAGED_BY_VALUE.to_string()),
        (CLUSTER_TAG.to_string(), cluster_label.to_string()),
        (
            SERVICE_ACCOUNT_TAG.to_string(),
            format!("{}/{}", spec.namespace, spec.name),
        ),
    ];
    for (k, v) in &spec.tags {
        if !tags.iter().any(|(tk, _)| tk == k) {
            tags.push((k.clone(), v.clone()));
        }
    }
    tags
}

/// An existing role's session duration, boundary and tags converge to what the spec asks.
pub(super) fn plan_role_settings(
    spec: &CreateSpec,
    role: &crate::aws::Role,
    plan: &mut Plan<IamStep>,
) {
    if let Some(seconds) = spec.max_session_duration {
        if role.max_session_duration != Some(seconds) {
            plan.push(IamStep::UpdateMaxSessionDuration {
                role: role.name.clone(),
                seconds,
                previous: role.max_session_duration,
            });
        }
    }
    if let Some(boundary) = &spec.permissions_boundary {
        if role.permissions_boundary.as_ref() != Some(boundary) {
            plan.push(IamStep::PutPermissionsBoundary {
                role: role.name.clone(),
                policy_arn: boundary.clone(),
                previous: role.permissions_boundary.clone(),
            });
        }
    }
    let missing: Vec<(String, String)> = spec
        .tags
        .iter()
        .filter(|(k, v)| !role.tags.iter().any(|(rk, rv)| rk == k && rv == v))
        .cloned()
        .collect();
    if !missing.is_empty() {
        let previous = missing
            .iter()
            .map(|(k, _)| {
                let old = role
                    .tags
                    .iter()
                    .find(|(rk, _)| rk == k)
                    .map(|(_, v)| v.clone());
                (k.clone(), old)
            })
            .collect();
        plan.push(IamStep::TagRole {
            role: role.name.clone(),
            tags: missing,
            previous,
        });
    }
}

/// A binding: the role's plan ([`plan_role`]), then the service account annotated with its role.
pub fn plan_binding(
    spec: &CreateSpec,
    role: Planned<IamStep>,
    service_account: &ServiceAccountFacts,
) -> Planned<Step> {
    let mut cluster = Plan::new(String::new());
    plan_service_account(spec, &role.role_arn, service_account, &mut cluster);
    Planned {
        plan: role.plan.then(cluster),
        namespace: role.namespace,
        name: role.name,
        role_name: role.role_name,
        role_arn: role.role_arn,
        issuer: role.issuer,
    }
}

fn plan_service_account(
    spec: &CreateSpec,
    role_arn: &str,
    facts: &ServiceAccountFacts,
    plan: &mut Plan<ClusterStep>,
) {
    let (ns, name) = (&spec.namespace, &spec.name);
    if !facts.namespace_exists {
        plan.push(ClusterStep::CreateNamespace {
            namespace: ns.clone(),
        });
    }
    let sa = &facts.service_account;
    let mut want_annotations = spec.annotations.clone();
    want_annotations.insert(ROLE_ARN_ANNOTATION.into(), role_arn.to_string());
    if spec.audience != STS_AUDIENCE {
        want_annotations.insert(AUDIENCE_ANNOTATION.into(), spec.audience.clone());
    }
    let mut want_labels = spec.labels.clone();
    let Some(sa) = sa else {
        want_labels.insert(
            MANAGED_BY_LABEL.into(),
            crate::kube::MANAGED_BY_VALUE.into(),
        );
        plan.push(ClusterStep::ApplyServiceAccount {
            namespace: ns.clone(),
            name: name.clone(),
            annotations: want_annotations,
            labels: want_labels,
            previous: None,
        });
        return;
    };
    let current_annotations = annotations(&sa.metadata);
    let current_labels = labels(&sa.metadata);
    if is_managed(&sa.metadata) {
        // Keep owning the label: an apply without it would remove it.
        want_labels.insert(
            MANAGED_BY_LABEL.into(),
            crate::kube::MANAGED_BY_VALUE.into(),
        );
    }
    // Likewise for anything else an earlier run applied (e.g. a cluster config's labels).
    let (owned_annotations, owned_labels) = applied_keys(&sa.metadata);
    keep_owned(
        &mut want_annotations,
        &current_annotations,
        &owned_annotations,
    );
    keep_owned(&mut want_labels, &current_labels, &owned_labels);
    if let Some(current) = current_annotations.get(ROLE_ARN_ANNOTATION) {
        if current != role_arn && !spec.override_existing {
            plan.warn(format!(
                "service account {ns}/{name} is bound to another role ({current}); left alone \
                 (pass --override-existing-serviceaccounts to bind it to {role_arn})"
            ));
            return;
        }
    }
    let annotations_ok = want_annotations
        .iter()
        .all(|(k, v)| current_annotations.get(k) == Some(v));
    let labels_ok = want_labels
        .iter()
        .all(|(k, v)| current_labels.get(k) == Some(v));
    if annotations_ok && labels_ok {
        plan.ok(format!(
            "service account {ns}/{name} is annotated with {role_arn}"
        ));
        return;
    }
    let previous = SaSnapshot {
        annotations: want_annotations
            .keys()
            .filter_map(|k| current_annotations.get(k).map(|v| (k.clone(), v.clone())))
            .collect(),
        labels: want_labels
            .keys()
            .filter_map(|k| current_labels.get(k).map(|v| (k.clone(), v.clone())))
            .collect(),
    };
    plan.push(ClusterStep::ApplyServiceAccount {
        namespace: ns.clone(),
        name: name.clone(),
        annotations: want_annotations,
        labels: want_labels,
        previous: Some(previous),
    });
}
