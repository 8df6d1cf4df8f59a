//! What `migrate` changes for one service account, decided from what it found: pure, so every case is a unit
//! test. The order never leaves a running pod without credentials:
//!
//! - to Pod Identity: the role trusts `pods.eks.amazonaws.com` → the association → (with `--remove-oidc-trust`)
//!   the annotation goes, and the role's OIDC statement for this service account goes only once no pod of it
//!   still carries IRSA's token env (a pod keeps the env it was created with; it needs that statement until it
//!   restarts). Until then it is kept and the pods to restart are named; a re-run takes it out.
//! - to IRSA: the role trusts the cluster's OIDC provider for the service account → the annotation → the
//!   association goes. It cannot wait for pods: while an association exists the pod identity webhook gives new
//!   pods Pod Identity's env, not IRSA's (upstream's buildPodPatchConfig: "Container credentials method takes
//!   precedence"), so pods relying on it keep their cached credentials until they expire and are named to
//!   restart right away.
//!
//! Re-runs find their work done ("up to date"): an association that exists is never created again (eksctl
//! #7753 fails a re-run with ResourceInUseException "Association already exists").

use std::collections::BTreeMap;

use irsa_names::{ROLE_ARN_ANNOTATION, STS_AUDIENCE};
use irsa_policy::{irsa_trust_statement, service_account_subject, trust_admits, PolicyDocument};
use k8s_openapi::api::core::v1::ServiceAccount;
use serde_json::Value;

use crate::aws::{Association, Role, MANAGED_BY_TAG, MANAGED_BY_VALUE};
use crate::commands::create::planner::pod_identity::check_size;
use crate::commands::delete::split_trust;
use crate::doctor::pod_identity::PodIdentityPod;
use crate::error::Result;
use crate::kube::{annotations, applied_keys, keep_owned, labels};
use crate::plan::{ClusterStep, EksStep, IamStep, Plan, SaSnapshot, Step};
use crate::trust::pod_identity::{add_pod_identity, admits_pod_identity};

/// The cluster a migration is about.
#[derive(Debug, Clone)]
pub struct MigrationTarget {
    /// The EKS cluster's name.
    pub cluster: String,
    /// The caller's account, in its partition.
    pub account: irsa_policy::Account,
    /// The cluster's OIDC issuer and its IAM provider (`--to irsa` needs both).
    pub issuer: String,
    pub provider_arn: String,
}

/// One service account as found.
#[derive(Debug, Clone)]
pub struct MigrationFacts {
    pub namespace: String,
    pub name: String,
    pub service_account: ServiceAccount,
    /// The role: the annotation's (to Pod Identity) or the association's (to IRSA); `None` when missing.
    pub role: Option<Role>,
    pub associations: Vec<Association>,
    pub pods: Vec<PodIdentityPod>,
}

/// A migration's plan and the pods that have to restart to use the new binding.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Migration {
    pub namespace: String,
    pub name: String,
    pub plan: Plan<Step>,
    /// `pod: why`, for pods created with the old binding's env.
    pub restart: Vec<String>,
}

fn subject_plan(facts: &MigrationFacts, to: &str) -> Plan<Step> {
    Plan::new(format!(
        "service account {}/{} (migrate to {to})",
        facts.namespace, facts.name
    ))
}

/// The role's trust without the OIDC statement(s) only about this service account; `None` when there is none.
fn without_oidc_subject(trust: &Value, subject: &str) -> Option<Value> {
    let (mine, others) = split_trust(trust, subject);
    if mine.is_empty() {
        return None;
    }
    let mut out = trust.clone();
    out["Statement"] = Value::Array(others);
    Some(out)
}

/// `--to pod-identity`.
pub fn plan_to_pod_identity(
    facts: &MigrationFacts,
    target: &MigrationTarget,
    remove_oidc_trust: bool,
) -> Result<Migration> {
    let (ns, name) = (&facts.namespace, &facts.name);
    let mut plan = subject_plan(facts, "pod-identity");
    let sa_annotations = annotations(&facts.service_account.metadata);
    let mut migration = Migration {
        namespace: ns.clone(),
        name: name.clone(),
        plan: Plan::new(String::new()),
        restart: Vec::new(),
    };
    // Annotated (IRSA), or already moved and only the OIDC statement is left to take out.
    let annotated = sa_annotations.get(ROLE_ARN_ANNOTATION).cloned();
    let Some(arn) = annotated
        .clone()
        .or_else(|| facts.associations.first().map(|a| a.role_arn.clone()))
    else {
        plan.warn(format!(
            "service account {ns}/{name} has no {ROLE_ARN_ANNOTATION} annotation: nothing to migrate"
        ));
        migration.plan = plan;
        return Ok(migration);
    };
    let Some(role) = &facts.role else {
        plan.warn(format!(
            "role {arn} does not exist: fix the binding first (kubectl irsa describe {name} -n {ns})"
        ));
        migration.plan = plan;
        return Ok(migration);
    };
    if let Some(other) = facts.associations.iter().find(|a| a.role_arn != role.arn) {
        plan.warn(format!(
            "service account {ns}/{name} already has Pod Identity association {} to another role ({}): left alone; \
             delete it (aws eks delete-pod-identity-association) or bind {} with kubectl irsa create --pod-identity \
             --override-existing-serviceaccounts",
            other.id, other.role_arn, role.arn
        ));
        migration.plan = plan;
        return Ok(migration);
    }
    // 1. The trust.
    let mut trust = role.trust.clone();
    match admits_pod_identity(&trust) {
        Ok(()) => plan.ok(format!("role {} trusts pods.eks.amazonaws.com", role.name)),
        Err(_) => {
            let added = add_pod_identity(&trust);
            check_size(&role.name, &added)?;
            plan.push(
                IamStep::UpdateTrust {
                    role: role.name.clone(),
                    trust: added.clone(),
                    previous: trust.clone(),
                }
                .into(),
            );
            trust = added;
        }
    }
    // 2. The association.
    match facts.associations.first() {
        Some(a) => plan.ok(format!(
            "Pod Identity association {} binds {ns}/{name} to {}",
            a.id, role.arn
        )),
        None => plan.push(
            EksStep::CreatePodIdentityAssociation {
                cluster: target.cluster.clone(),
                namespace: ns.clone(),
                service_account: name.clone(),
                role_arn: role.arn.clone(),
                tags: vec![(MANAGED_BY_TAG.to_string(), MANAGED_BY_VALUE.to_string())],
            }
            .into(),
        ),
    }
    let irsa_pods: Vec<&PodIdentityPod> = facts.pods.iter().filter(|p| p.irsa_env).collect();
    if !remove_oidc_trust {
        if annotated.is_none() {
            migration.plan = plan;
            return Ok(migration);
        }
        plan.warn(format!(
            "the {ROLE_ARN_ANNOTATION} annotation and the role's OIDC statement stay (no --remove-oidc-trust): running \
             pods keep IRSA's env, pods created from now on get Pod Identity's (the webhook prefers it); once they \
             have restarted, re-run with --remove-oidc-trust to take IRSA out"
        ));
        migration.restart = facts
            .pods
            .iter()
            .filter(|p| !p.injected)
            .map(|p| {
                format!(
                    "{}: started before the association (no Pod Identity env)",
                    p.name
                )
            })
            .collect();
        migration.plan = plan;
        return Ok(migration);
    }
    // 3. The annotation, then (when no pod needs it any more) the OIDC statement.
    if let Some(arn) = &annotated {
        plan.push(
            ClusterStep::RemoveServiceAccountAnnotations {
                namespace: ns.clone(),
                name: name.clone(),
                keys: vec![ROLE_ARN_ANNOTATION.into()],
                previous: SaSnapshot {
                    annotations: [(ROLE_ARN_ANNOTATION.to_string(), arn.clone())].into(),
                    labels: Default::default(),
                },
            }
            .into(),
        );
    }
    let subject = service_account_subject(ns, name);
    match without_oidc_subject(&trust, &subject) {
        None => plan.ok(format!(
            "role {} has no OIDC statement only for {subject}",
            role.name
        )),
        Some(_) if !irsa_pods.is_empty() => plan.warn(format!(
            "the role's OIDC statement for {subject} stays: pod(s) {} still use IRSA's token and need it until they \
             restart; restart them, then re-run this command to remove it",
            irsa_pods.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
        )),
        Some(removed) => plan.push(
            IamStep::UpdateTrust {
                role: role.name.clone(),
                trust: removed,
                previous: trust,
            }
            .into(),
        ),
    }
    migration.restart = facts
        .pods
        .iter()
        .filter(|p| p.irsa_env || !p.injected)
        .map(|p| {
            format!(
                "{}: created with the IRSA binding's env (restart to use Pod Identity)",
                p.name
            )
        })
        .collect();
    migration.plan = plan;
    Ok(migration)
}

/// `--to irsa`.
pub fn plan_to_irsa(facts: &MigrationFacts, target: &MigrationTarget) -> Result<Migration> {
    let (ns, name) = (&facts.namespace, &facts.name);
    let mut plan = subject_plan(facts, "irsa");
    let mut migration = Migration {
        namespace: ns.clone(),
        name: name.clone(),
        plan: Plan::new(String::new()),
        restart: Vec::new(),
    };
    let Some(association) = facts.associations.first() else {
        plan.warn(format!(
            "service account {ns}/{name} has no Pod Identity association in cluster {}: nothing to migrate",
            target.cluster
        ));
        migration.plan = plan;
        return Ok(migration);
    };
    let Some(role) = &facts.role else {
        plan.warn(format!(
            "role {} (the association's) does not exist: nothing to bind",
            association.role_arn
        ));
        migration.plan = plan;
        return Ok(migration);
    };
    let sa_annotations = annotations(&facts.service_account.metadata);
    if let Some(current) = sa_annotations
        .get(ROLE_ARN_ANNOTATION)
        .filter(|a| **a != role.arn)
    {
        plan.warn(format!(
            "service account {ns}/{name} is annotated with another role ({current}): left alone"
        ));
        migration.plan = plan;
        return Ok(migration);
    }
    // 1. The trust.
    let subject = service_account_subject(ns, name);
    let admitted = PolicyDocument::from_value(role.trust.clone())
        .map(|d| trust_admits(&d, &target.provider_arn, &subject, STS_AUDIENCE).is_allowed())
        .unwrap_or(false);
    if admitted {
        plan.ok(format!(
            "role {} trusts {subject} through {}",
            role.name, target.provider_arn
        ));
    } else {
        let statement = irsa_trust_statement(
            &target.account,
            &target.issuer,
            ns,
            name,
            STS_AUDIENCE,
            None,
        );
        let trust = crate::trust::add_statement(&role.trust, &statement);
        check_size(&role.name, &trust)?;
        plan.push(
            IamStep::UpdateTrust {
                role: role.name.clone(),
                trust,
                previous: role.trust.clone(),
            }
            .into(),
        );
    }
    // 2. The annotation.
    if sa_annotations.get(ROLE_ARN_ANNOTATION) == Some(&role.arn) {
        plan.ok(format!(
            "service account {ns}/{name} is annotated with {}",
            role.arn
        ));
    } else {
        // A server-side apply must list again what kubectl-irsa applied before, or the API server drops it.
        let meta = &facts.service_account.metadata;
        let (owned_annotations, owned_labels) = applied_keys(meta);
        let current_labels = labels(meta);
        let mut want_annotations: BTreeMap<String, String> =
            [(ROLE_ARN_ANNOTATION.to_string(), role.arn.clone())].into();
        keep_owned(&mut want_annotations, &sa_annotations, &owned_annotations);
        let mut want_labels = BTreeMap::new();
        keep_owned(&mut want_labels, &current_labels, &owned_labels);
        let previous = SaSnapshot {
            annotations: want_annotations
                .keys()
                .filter_map(|k| sa_annotations.get(k).map(|v| (k.clone(), v.clone())))
                .collect(),
            labels: want_labels
                .keys()
                .filter_map(|k| current_labels.get(k).map(|v| (k.clone(), v.clone())))
                .collect(),
        };
        plan.push(
            ClusterStep::ApplyServiceAccount {
                namespace: ns.clone(),
                name: name.clone(),
                annotations: want_annotations,
                labels: want_labels,
                previous: Some(previous),
            }
            .into(),
        );
    }
    // 3. The association, once no pod depends on it alone.
    // 3. The association. While one exists the webhook gives new pods Pod Identity's env, not IRSA's, so pods
    // cannot move to IRSA before it goes: pods that have only Pod Identity's keep their cached credentials until
    // they expire, and are named to restart now.
    for a in &facts.associations {
        plan.push(
            EksStep::DeletePodIdentityAssociation {
                cluster: a.cluster.clone(),
                association_id: a.id.clone(),
                namespace: a.namespace.clone(),
                service_account: a.service_account.clone(),
                role_arn: a.role_arn.clone(),
                tags: a.tags.clone(),
            }
            .into(),
        );
    }
    let pod_identity_only: Vec<&str> = facts
        .pods
        .iter()
        .filter(|p| p.injected && !p.irsa_env)
        .map(|p| p.name.as_str())
        .collect();
    if !pod_identity_only.is_empty() {
        plan.warn(format!(
            "pod(s) {} get credentials only through Pod Identity: once association {} is deleted they keep the \
             credentials they hold until those expire; restart them right after this run",
            pod_identity_only.join(", "),
            association.id
        ));
    }
    plan.warn(format!(
        "role {}'s pods.eks.amazonaws.com statement stays (harmless without an association; other clusters' \
         associations may use it)",
        role.name
    ));
    migration.restart = facts
        .pods
        .iter()
        .filter(|p| !p.irsa_env)
        .map(|p| {
            format!(
                "{}: created without IRSA's token (restart to use IRSA)",
                p.name
            )
        })
        .collect();
    migration.plan = plan;
    Ok(migration)
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
