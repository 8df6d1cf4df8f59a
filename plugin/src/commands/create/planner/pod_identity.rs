//! `create --pod-identity`: the role trusting `pods.eks.amazonaws.com`, its policies, the service account
//! (created when missing, as eksctl does, but never annotated) and the EKS Pod Identity association. Pure,
//! like the IRSA planner beside it. Order: IAM first, then the service account, the association last, so a
//! pod only ever gets the agent's env once the role it leads to exists and trusts the service.

use irsa_names::{MANAGED_BY_LABEL, ROLE_ARN_ANNOTATION};
use irsa_policy::Account;
use serde_json::Value;

use super::super::facts::{RoleFacts, ServiceAccountFacts};
use super::super::spec::CreateSpec;
use super::{new_role_tags, plan_role_settings, policies, same_partition, Planned};
use crate::aws::{Association, NewRole, MANAGED_BY_TAG, MANAGED_BY_VALUE};
use crate::error::{Error, Result};
use crate::plan::{ClusterStep, EksStep, IamStep, Plan, Step};
use crate::presets::Placeholders;
use crate::trust::pod_identity::{
    add_pod_identity, admits_pod_identity, pod_identity_statement, pod_identity_trust_policy,
};

/// The EKS cluster a Pod Identity binding lives in.
#[derive(Debug, Clone)]
pub struct PodIdentityTarget {
    /// The EKS cluster's name (`--cluster`).
    pub cluster: String,
    /// The caller's account, in its partition.
    pub account: Account,
    pub region: String,
}

impl PodIdentityTarget {
    pub fn placeholders(&self) -> Placeholders {
        Placeholders {
            partition: self.account.partition.clone(),
            account: self.account.id.clone(),
            region: self.region.clone(),
            cluster: self.cluster.clone(),
        }
    }
}

/// The role and its policies for a Pod Identity binding.
pub fn plan_pod_identity_role(
    spec: &CreateSpec,
    target: &PodIdentityTarget,
    facts: &RoleFacts,
) -> Result<Planned<IamStep>> {
    same_partition(spec, &target.account)?;
    let role_name = spec.role_name(&target.cluster);
    let mut plan = Plan::new(format!(
        "service account {}/{} (role {role_name}, EKS Pod Identity in cluster {})",
        spec.namespace, spec.name, target.cluster
    ));
    if spec.attach_role_arn.is_some() && facts.role.is_none() {
        return Err(Error::NotFound(format!(
            "role {role_name} (--attach-role-arn) does not exist in this account; omit --attach-role-arn to \
             create a role"
        )));
    }
    let arn = match &facts.role {
        Some(role) => role.arn.clone(),
        None => target
            .account
            .role_arn(spec.role_path.as_deref().unwrap_or("/"), &role_name),
    };
    match &facts.role {
        None => plan.push(IamStep::CreateRole {
            role: NewRole {
                name: role_name.clone(),
                path: spec.role_path.clone().unwrap_or_else(|| "/".into()),
                trust: pod_identity_trust_policy(),
                description: format!(
                    "EKS Pod Identity role for service account {}/{} (kubectl-irsa)",
                    spec.namespace, spec.name
                ),
                max_session_duration: spec.max_session_duration,
                permissions_boundary: spec.permissions_boundary.clone(),
                tags: new_role_tags(spec, &target.cluster),
            },
        }),
        Some(role) => {
            if !role.is_managed() {
                plan.warn(format!(
                    "role {} exists and is not managed by kubectl-irsa: it is used as is, and `delete` will leave it",
                    role.name
                ));
            }
            plan_pod_identity_trust(spec, role, &mut plan)?;
            plan_role_settings(spec, role, &mut plan);
        }
    }
    let desired = spec.desired_for(&target.placeholders());
    policies::plan_policies(spec, &desired, facts, &role_name, &mut plan);
    Ok(Planned {
        namespace: spec.namespace.clone(),
        name: spec.name.clone(),
        role_name,
        role_arn: arn,
        issuer: String::new(),
        plan,
    })
}

/// An existing role must trust the service (or `--add-trust` adds the documented statement).
pub(crate) fn plan_pod_identity_trust(
    spec: &CreateSpec,
    role: &crate::aws::Role,
    plan: &mut Plan<IamStep>,
) -> Result<()> {
    match admits_pod_identity(&role.trust) {
        Ok(()) => {
            plan.ok(format!(
                "trust policy of role {} admits pods.eks.amazonaws.com (sts:AssumeRole, sts:TagSession)",
                role.name
            ));
            Ok(())
        }
        Err(explanation) if !spec.add_trust => Err(Error::TrustMismatch {
            role: role.name.clone(),
            subject: "Service pods.eks.amazonaws.com (EKS Pod Identity)".into(),
            explanation,
            wanted: serde_json::to_string_pretty(&pod_identity_statement()).unwrap_or_default(),
        }),
        Err(_) => {
            let trust = add_pod_identity(&role.trust);
            check_size(&role.name, &trust)?;
            plan.push(IamStep::UpdateTrust {
                role: role.name.clone(),
                trust,
                previous: role.trust.clone(),
            });
            Ok(())
        }
    }
}

/// Refuse a trust policy IAM would refuse for its size, before IAM does.
pub(crate) fn check_size(role: &str, trust: &Value) -> Result<()> {
    let size = crate::trust::policy_size(trust);
    if size > crate::trust::TRUST_POLICY_QUOTA {
        let providers = irsa_policy::PolicyDocument::from_value(trust.clone())
            .map(|d| d.federated_principals().len())
            .unwrap_or(0);
        return Err(Error::TrustTooLarge {
            role: role.to_string(),
            size,
            quota: crate::trust::TRUST_POLICY_QUOTA,
            providers,
        });
    }
    Ok(())
}

/// The association binding `namespace/name` to `role_arn`: made when missing, reported when in place; one for
/// another role is left alone unless `--override-existing-serviceaccounts` (then deleted and made again).
pub fn plan_association(
    spec: &CreateSpec,
    cluster: &str,
    role_arn: &str,
    existing: &[Association],
    plan: &mut Plan<EksStep>,
) {
    let (ns, name) = (&spec.namespace, &spec.name);
    let mine: Vec<&Association> = existing
        .iter()
        .filter(|a| &a.namespace == ns && &a.service_account == name)
        .collect();
    if let Some(a) = mine.iter().find(|a| a.role_arn == role_arn) {
        plan.ok(format!(
            "EKS Pod Identity association {} binds {ns}/{name} to {role_arn}",
            a.id
        ));
        return;
    }
    if let Some(other) = mine.first() {
        if !spec.override_existing {
            plan.warn(format!(
                "service account {ns}/{name} already has EKS Pod Identity association {} to another role ({}); \
                 left alone (pass --override-existing-serviceaccounts to bind it to {role_arn})",
                other.id, other.role_arn
            ));
            return;
        }
        plan.push(EksStep::DeletePodIdentityAssociation {
            cluster: cluster.to_string(),
            association_id: other.id.clone(),
            namespace: ns.clone(),
            service_account: name.clone(),
            role_arn: other.role_arn.clone(),
            tags: other.tags.clone(),
        });
    }
    let mut tags = vec![(MANAGED_BY_TAG.to_string(), MANAGED_BY_VALUE.to_string())];
    for (k, v) in &spec.tags {
        if !tags.iter().any(|(tk, _)| tk == k) {
            tags.push((k.clone(), v.clone()));
        }
    }
    plan.push(EksStep::CreatePodIdentityAssociation {
        cluster: cluster.to_string(),
        namespace: ns.clone(),
        service_account: name.clone(),
        role_arn: role_arn.to_string(),
        tags,
    });
}

/// The service account a Pod Identity binding needs: made (labelled as kubectl-irsa's) when missing, never
/// annotated. One that is also IRSA-annotated gets a warning: new pods switch, running ones do not.
pub fn plan_pod_identity_service_account(
    spec: &CreateSpec,
    facts: &ServiceAccountFacts,
    plan: &mut Plan<ClusterStep>,
) {
    let (ns, name) = (&spec.namespace, &spec.name);
    if !facts.namespace_exists {
        plan.push(ClusterStep::CreateNamespace {
            namespace: ns.clone(),
        });
    }
    let Some(sa) = &facts.service_account else {
        let mut labels = spec.labels.clone();
        labels.insert(
            MANAGED_BY_LABEL.into(),
            crate::kube::MANAGED_BY_VALUE.into(),
        );
        plan.push(ClusterStep::ApplyServiceAccount {
            namespace: ns.clone(),
            name: name.clone(),
            annotations: spec.annotations.clone(),
            labels,
            previous: None,
        });
        return;
    };
    plan.ok(format!(
        "service account {ns}/{name} exists (Pod Identity needs no annotation)"
    ));
    if let Some(irsa) = crate::kube::annotations(&sa.metadata).get(ROLE_ARN_ANNOTATION) {
        plan.warn(format!(
            "service account {ns}/{name} is also annotated {ROLE_ARN_ANNOTATION}={irsa}: once the association \
             exists the pod identity webhook gives new pods Pod Identity's env instead (container credentials take \
             precedence) while running pods keep IRSA's; `kubectl irsa migrate --to pod-identity \
             --remove-oidc-trust` removes the annotation and the OIDC trust in a safe order"
        ));
    }
}

/// A whole Pod Identity binding: role, service account, association.
pub fn plan_pod_identity_binding(
    spec: &CreateSpec,
    cluster: &str,
    role: Planned<IamStep>,
    service_account: &ServiceAccountFacts,
    associations: &[Association],
) -> Planned<Step> {
    let mut sa_plan = Plan::new(String::new());
    plan_pod_identity_service_account(spec, service_account, &mut sa_plan);
    let mut eks = Plan::new(String::new());
    plan_association(spec, cluster, &role.role_arn, associations, &mut eks);
    let plan = role.plan.then(sa_plan).then(eks);
    Planned {
        plan,
        namespace: role.namespace,
        name: role.name,
        role_name: role.role_name,
        role_arn: role.role_arn,
        issuer: role.issuer,
    }
}

#[cfg(test)]
#[path = "pod_identity_tests.rs"]
mod tests;
