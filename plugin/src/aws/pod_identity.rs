//! EKS Pod Identity associations (EKS `…/clusters/{name}/pod-identity-associations`): list with their roles,
//! create, delete. ListPodIdentityAssociations returns summaries without the role, so each is described.

use serde::Serialize;

use super::{aws_error, Aws};
use crate::error::{Error, Result};

/// An association as DescribePodIdentityAssociation returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Association {
    pub cluster: String,
    pub id: String,
    pub arn: String,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_role_arn: Option<String>,
    pub disable_session_tags: bool,
    /// Seconds since the epoch (to tell which pods started before it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(serialize_with = "super::tags_as_map")]
    pub tags: Vec<(String, String)>,
}

impl Association {
    /// Created by kubectl-irsa (tag `managed-by=kubectl-irsa`).
    pub fn is_managed(&self) -> bool {
        self.tags
            .iter()
            .any(|(k, v)| k == super::MANAGED_BY_TAG && v == super::MANAGED_BY_VALUE)
    }
}

fn from_sdk(cluster: &str, a: &aws_sdk_eks::types::PodIdentityAssociation) -> Association {
    let mut tags: Vec<(String, String)> = a
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    tags.sort();
    Association {
        cluster: a.cluster_name().unwrap_or(cluster).to_string(),
        id: a.association_id().unwrap_or_default().to_string(),
        arn: a.association_arn().unwrap_or_default().to_string(),
        namespace: a.namespace().unwrap_or_default().to_string(),
        service_account: a.service_account().unwrap_or_default().to_string(),
        role_arn: a.role_arn().unwrap_or_default().to_string(),
        target_role_arn: a.target_role_arn().map(str::to_string),
        disable_session_tags: a.disable_session_tags().unwrap_or(false),
        created_at: a.created_at().map(|t| t.secs()),
        tags,
    }
}

impl Aws {
    /// EKS's answer for a cluster it does not have, turned into a message naming the cluster and the way out.
    fn cluster_error(&self, cluster: &str, err: Error) -> Error {
        if err.is_aws_not_found() && err.to_string().to_ascii_lowercase().contains("cluster") {
            Error::NotFound(format!(
                "EKS cluster {cluster:?} not found in region {}: Pod Identity associations live in an EKS cluster; \
                 check --cluster and --region",
                self.region
            ))
        } else {
            err
        }
    }

    /// Every association of `cluster`, filtered by namespace and service account when given, with its role.
    pub async fn pod_identity_associations(
        &self,
        cluster: &str,
        namespace: Option<&str>,
        service_account: Option<&str>,
    ) -> Result<Vec<Association>> {
        let mut ids = Vec::new();
        let mut next = None;
        loop {
            let out = self
                .eks
                .list_pod_identity_associations()
                .cluster_name(cluster)
                .set_namespace(namespace.map(str::to_string))
                .set_service_account(service_account.map(str::to_string))
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| {
                    self.cluster_error(cluster, aws_error("eks:ListPodIdentityAssociations", e))
                })?;
            ids.extend(
                out.associations()
                    .iter()
                    .filter_map(|s| s.association_id().map(str::to_string)),
            );
            next = out.next_token().map(str::to_string);
            if next.is_none() {
                break;
            }
        }
        let mut associations = Vec::new();
        for id in ids {
            let out = self
                .eks
                .describe_pod_identity_association()
                .cluster_name(cluster)
                .association_id(&id)
                .send()
                .await;
            match out {
                Ok(out) => {
                    if let Some(a) = out.association() {
                        associations.push(from_sdk(cluster, a));
                    }
                }
                // Deleted between the list and the describe: gone, not an error.
                Err(e) => {
                    let err = aws_error("eks:DescribePodIdentityAssociation", e);
                    if !err.is_aws_not_found() {
                        return Err(err);
                    }
                }
            }
        }
        associations.sort_by(|a, b| {
            (&a.namespace, &a.service_account).cmp(&(&b.namespace, &b.service_account))
        });
        Ok(associations)
    }

    pub async fn create_pod_identity_association(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
        role_arn: &str,
        tags: &[(String, String)],
    ) -> Result<Association> {
        let mut request = self
            .eks
            .create_pod_identity_association()
            .cluster_name(cluster)
            .namespace(namespace)
            .service_account(service_account)
            .role_arn(role_arn);
        for (k, v) in tags {
            request = request.tags(k, v);
        }
        let out = request.send().await.map_err(|e| {
            self.cluster_error(cluster, aws_error("eks:CreatePodIdentityAssociation", e))
        })?;
        out.association()
            .map(|a| from_sdk(cluster, a))
            .ok_or_else(|| Error::Aws {
                operation: "eks:CreatePodIdentityAssociation",
                code: String::new(),
                message: "the answer has no association".into(),
                hint: None,
            })
    }

    pub async fn delete_pod_identity_association(&self, cluster: &str, id: &str) -> Result<()> {
        match self
            .eks
            .delete_pod_identity_association()
            .cluster_name(cluster)
            .association_id(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = aws_error("eks:DeletePodIdentityAssociation", e);
                // Already gone is what was wanted.
                if err.is_aws_not_found() {
                    Ok(())
                } else {
                    Err(err)
                }
            }
        }
    }
}
