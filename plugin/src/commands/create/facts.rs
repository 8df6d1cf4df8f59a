//! What exists, read (never written) from AWS and Kubernetes: everything [`super::planner`] decides from.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ServiceAccount;
use serde_json::Value;

use super::spec::CreateSpec;
use super::INLINE_POLICY_NAME;
use crate::aws::{Aws, Role};
use crate::error::Result;
use crate::kube::Kube;

/// The role a binding uses, as IAM has it.
#[derive(Debug, Clone, Default)]
pub struct RoleFacts {
    /// `None`: the role does not exist yet.
    pub role: Option<Role>,
    /// Managed policies attached to it.
    pub attached: Vec<String>,
    /// Inline policies by name with their documents: those the spec puts, and with `--prune` every one
    /// kubectl-irsa put (`kubectl-irsa*`).
    pub inline: BTreeMap<String, Value>,
    /// With `--prune`: the names of every inline policy of the role.
    pub inline_names: Vec<String>,
    /// Customer managed policies the spec attaches, with their documents (for lint).
    pub customer_policies: Vec<(String, Value)>,
}

/// The service account a binding annotates, as the cluster has it.
#[derive(Debug, Clone, Default)]
pub struct ServiceAccountFacts {
    pub namespace_exists: bool,
    /// `None`: the service account (or its namespace) does not exist yet.
    pub service_account: Option<ServiceAccount>,
}

pub async fn gather_role(spec: &CreateSpec, role_name: &str, aws: &Aws) -> Result<RoleFacts> {
    let Some(role) = aws.get_role(role_name).await? else {
        return Ok(RoleFacts {
            customer_policies: gather_customer_policies(spec, aws).await,
            ..RoleFacts::default()
        });
    };
    let attached = aws.attached_policies(&role.name).await?;
    let mut wanted = spec.inline_policy_names();
    let inline_names = if spec.prune {
        let names = aws.inline_policies(role_name).await?;
        wanted.extend(
            names
                .iter()
                .filter(|n| n.starts_with(INLINE_POLICY_NAME))
                .cloned(),
        );
        names
    } else {
        Vec::new()
    };
    let mut inline = BTreeMap::new();
    for name in wanted {
        if let Some(doc) = aws.inline_policy(role_name, &name).await? {
            inline.insert(name, doc);
        }
    }
    Ok(RoleFacts {
        role: Some(role),
        attached,
        inline,
        inline_names,
        customer_policies: gather_customer_policies(spec, aws).await,
    })
}

/// The documents of the customer managed policies the spec attaches, for lint; a policy that cannot be read
/// is left out here (attaching it reports the error).
async fn gather_customer_policies(spec: &CreateSpec, aws: &Aws) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for arn in &spec.attach_policy_arns {
        if irsa_policy::account_from_arn(arn).is_some_and(|a| a != "aws") {
            if let Ok(doc) = aws.managed_policy_document(arn).await {
                out.push((arn.clone(), doc));
            }
        }
    }
    out
}

pub async fn gather_service_account(spec: &CreateSpec, kube: &Kube) -> Result<ServiceAccountFacts> {
    let namespace_exists = kube.get_namespace(&spec.namespace).await?.is_some();
    let service_account = if namespace_exists {
        kube.get_service_account(&spec.namespace, &spec.name)
            .await?
    } else {
        None
    };
    Ok(ServiceAccountFacts {
        namespace_exists,
        service_account,
    })
}
