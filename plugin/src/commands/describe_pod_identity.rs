//! The facts behind a Pod Identity diagnosis ([`crate::doctor::pod_identity`]): the cluster's associations,
//! each one's service account, role and pods, and the agent DaemonSet (read once per run).

use std::collections::HashMap;

use super::describe::role_facts;
use super::Ctx;
use crate::aws::Association;
use crate::doctor::pod_identity::{
    diagnose_pod_identity, AgentFacts, PodIdentityFacts, PodIdentityPod, AGENT_DAEMONSET,
    AGENT_NAMESPACE,
};
use crate::doctor::{Diagnosis, RoleFacts};
use crate::error::Result;
use crate::kube::annotations;

/// The associations of `cluster` (in `namespace`, for `name`, when given).
pub async fn associations(
    ctx: &Ctx,
    cluster: &str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Result<Vec<Association>> {
    ctx.aws()
        .await?
        .pod_identity_associations(cluster, namespace, name)
        .await
}

/// Diagnose each association.
pub async fn diagnoses(
    ctx: &Ctx,
    associations: &[Association],
    namespace: Option<&str>,
) -> Result<Vec<Diagnosis>> {
    if associations.is_empty() {
        return Ok(Vec::new());
    }
    let aws = ctx.aws().await?;
    let kube = ctx.kube().await?;
    let agent = match kube
        .daemonset_status(AGENT_NAMESPACE, AGENT_DAEMONSET)
        .await
    {
        Ok(Some((desired, ready))) => AgentFacts::Found { desired, ready },
        Ok(None) => AgentFacts::Missing,
        Err(e) => AgentFacts::Error(e.to_string()),
    };
    let pods = kube.list_pods(namespace).await?;
    let mut roles: HashMap<String, RoleFacts> = HashMap::new();
    let mut out = Vec::new();
    for a in associations {
        let sa = kube
            .get_service_account(&a.namespace, &a.service_account)
            .await?;
        let role_name = irsa_policy::role_name_from_arn(&a.role_arn).unwrap_or_default();
        let role = match roles.get(&role_name) {
            Some(r) => r.clone(),
            None => {
                let r = role_facts(aws, &role_name).await;
                roles.insert(role_name, r.clone());
                r
            }
        };
        let pods = pods
            .iter()
            .filter(|p| {
                p.metadata.namespace.as_deref() == Some(a.namespace.as_str())
                    && p.spec
                        .as_ref()
                        .and_then(|s| s.service_account_name.as_deref())
                        .unwrap_or("default")
                        == a.service_account
            })
            .map(|p| PodIdentityPod::from_pod(p, a.created_at))
            .collect();
        out.push(diagnose_pod_identity(&PodIdentityFacts {
            association: a.clone(),
            sa_annotations: sa.as_ref().map(|sa| annotations(&sa.metadata)),
            role,
            agent: agent.clone(),
            pods,
        }));
    }
    Ok(out)
}
