//! The binding as the export formats describe it ([`crate::export::Binding`]), from the same spec, facts and
//! plan `create` applies: a new role as `CreateRole` would make it, an existing one with the trust the plan
//! leaves it with.

use std::collections::BTreeMap;

use irsa_names::{AUDIENCE_ANNOTATION, MANAGED_BY_LABEL, ROLE_ARN_ANNOTATION, STS_AUDIENCE};

use super::facts::RoleFacts;
use super::planner::{Planned, Target};
use super::spec::CreateSpec;
use crate::export::{Binding, RoleSpec, ServiceAccountSpec};
use crate::plan::IamStep;

pub fn binding(
    spec: &CreateSpec,
    target: &Target,
    facts: &RoleFacts,
    role: &Planned<IamStep>,
    namespace_exists: Option<bool>,
) -> Binding {
    let desired = spec.desired_policies(target);
    let partition = &target.account.partition;
    let eksctl_presets: Vec<_> = spec
        .well_known
        .iter()
        .filter(|p| p.eksctl_key.is_some())
        .collect();
    let created = role.plan.steps.iter().find_map(|s| match s {
        IamStep::CreateRole { role } => Some(role),
        _ => None,
    });
    let updated_trust = role.plan.steps.iter().find_map(|s| match s {
        IamStep::UpdateTrust { trust, .. } => Some(trust),
        _ => None,
    });
    let role_spec = match (&spec.attach_role_arn, created, &facts.role) {
        (Some(_), _, _) => None,
        (None, Some(new), _) => Some(RoleSpec {
            path: new.path.clone(),
            description: new.description.clone(),
            trust: new.trust.clone(),
            managed_policies: desired.managed.clone(),
            preset_managed_policies: Vec::new(),
            inline_policies: desired.inline.clone(),
            preset_inline_policies: Vec::new(),
            permissions_boundary: new.permissions_boundary.clone(),
            max_session_duration: new.max_session_duration,
            tags: new.tags.clone(),
        }),
        (None, None, Some(existing)) => Some(RoleSpec {
            path: existing.path.clone(),
            description: format!(
                "IRSA role for service account {}/{} (kubectl-irsa)",
                spec.namespace, spec.name
            ),
            trust: updated_trust.unwrap_or(&existing.trust).clone(),
            managed_policies: desired.managed.clone(),
            preset_managed_policies: Vec::new(),
            inline_policies: desired.inline.clone(),
            preset_inline_policies: Vec::new(),
            permissions_boundary: spec
                .permissions_boundary
                .clone()
                .or(existing.permissions_boundary.clone()),
            max_session_duration: spec.max_session_duration.or(existing.max_session_duration),
            tags: existing.tags.clone(),
        }),
        (None, None, None) => None,
    };
    let role_spec = role_spec.map(|mut r| {
        for preset in &eksctl_presets {
            r.preset_managed_policies
                .extend(preset.managed_arns(partition));
            r.preset_inline_policies.extend(preset.inline_policy_name());
        }
        r
    });
    let service_account = (!spec.role_only).then(|| {
        let mut annotations = spec.annotations.clone();
        annotations.insert(ROLE_ARN_ANNOTATION.into(), role.role_arn.clone());
        if spec.audience != STS_AUDIENCE {
            annotations.insert(AUDIENCE_ANNOTATION.into(), spec.audience.clone());
        }
        let mut labels: BTreeMap<String, String> = spec.labels.clone();
        labels.insert(
            MANAGED_BY_LABEL.into(),
            crate::kube::MANAGED_BY_VALUE.into(),
        );
        ServiceAccountSpec {
            annotations,
            labels,
            create_namespace: namespace_exists == Some(false),
        }
    });
    Binding {
        namespace: spec.namespace.clone(),
        name: spec.name.clone(),
        role_name: role.role_name.clone(),
        role_arn: role.role_arn.clone(),
        role: role_spec,
        service_account,
        eksctl_well_known: eksctl_presets.iter().filter_map(|p| p.eksctl_key).collect(),
        attach_role_arn: spec.attach_role_arn.clone(),
        cluster: target.cluster_label.clone(),
        region: target.region.clone(),
    }
}
