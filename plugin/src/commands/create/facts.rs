//! What exists, read (never written) from AWS and Kubernetes: everything [`super::planner`] decides from.

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
    /// The `kubectl-irsa` inline policy, when the spec gives one and the role has it.
    pub inline_policy: Option<Value>,
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
        return Ok(RoleFacts::default());
    };
    let attached = aws.attached_policies(&role.name).await?;
    let inline_policy = match &spec.inline_policy {
        Some(_) => aws.inline_policy(role_name, INLINE_POLICY_NAME).await?,
        None => None,
    };
    Ok(RoleFacts {
        role: Some(role),
        attached,
        inline_policy,
    })
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
