//! The live [`Executor`]s: each step as AWS or Kubernetes calls, and how to undo it. Which one runs a plan
//! follows from the plan's step type, so a plan can only be applied with the clients its steps need.

use std::collections::BTreeMap;

use crate::aws::{Aws, NewRole};
use crate::error::{Error, Result};
use crate::kube::Kube;
use crate::plan::{
    association_id_of, ClusterStep, EksStep, Executor, IamStep, Outcome, SaSnapshot, Step,
};

/// Applies [`IamStep`]s with the AWS client.
pub struct AwsSteps<'a>(pub &'a Aws);

/// Applies [`ClusterStep`]s with the Kubernetes client.
pub struct KubeSteps<'a>(pub &'a Kube);

/// Applies [`EksStep`]s with the AWS client.
pub struct EksSteps<'a>(pub &'a Aws);

/// Applies plans that touch both: IAM steps with AWS, cluster steps with Kubernetes.
pub struct Live<'a> {
    pub aws: &'a Aws,
    pub kube: &'a Kube,
}

impl Executor<IamStep> for Live<'_> {
    async fn apply(&self, step: &IamStep) -> Result<Outcome> {
        AwsSteps(self.aws).apply(step).await
    }

    async fn undo(&self, step: &IamStep, outcome: &Outcome) -> Result<()> {
        AwsSteps(self.aws).undo(step, outcome).await
    }
}

impl Executor<ClusterStep> for Live<'_> {
    async fn apply(&self, step: &ClusterStep) -> Result<Outcome> {
        KubeSteps(self.kube).apply(step).await
    }

    async fn undo(&self, step: &ClusterStep, outcome: &Outcome) -> Result<()> {
        KubeSteps(self.kube).undo(step, outcome).await
    }
}

impl Executor<Step> for Live<'_> {
    async fn apply(&self, step: &Step) -> Result<Outcome> {
        match step {
            Step::Iam(step) => AwsSteps(self.aws).apply(step).await,
            Step::Cluster(step) => KubeSteps(self.kube).apply(step).await,
            Step::Eks(step) => EksSteps(self.aws).apply(step).await,
        }
    }

    async fn undo(&self, step: &Step, outcome: &Outcome) -> Result<()> {
        match step {
            Step::Iam(step) => AwsSteps(self.aws).undo(step, outcome).await,
            Step::Cluster(step) => KubeSteps(self.kube).undo(step, outcome).await,
            Step::Eks(step) => EksSteps(self.aws).undo(step, outcome).await,
        }
    }
}

impl Executor<EksStep> for EksSteps<'_> {
    async fn apply(&self, step: &EksStep) -> Result<Outcome> {
        match step {
            EksStep::CreatePodIdentityAssociation {
                cluster,
                namespace,
                service_account,
                role_arn,
                tags,
            } => {
                let created = self
                    .0
                    .create_pod_identity_association(
                        cluster,
                        namespace,
                        service_account,
                        role_arn,
                        tags,
                    )
                    .await?;
                Ok(Outcome::created(created.arn))
            }
            EksStep::DeletePodIdentityAssociation {
                cluster,
                association_id,
                ..
            } => {
                self.0
                    .delete_pod_identity_association(cluster, association_id)
                    .await?;
                Ok(Outcome::changed())
            }
        }
    }

    async fn undo(&self, step: &EksStep, outcome: &Outcome) -> Result<()> {
        match step {
            EksStep::CreatePodIdentityAssociation { cluster, .. } => {
                let Some(id) = outcome.arn.as_deref().and_then(association_id_of) else {
                    return Err(Error::Conflict(format!(
                        "the association made in cluster {cluster} has no id to delete it by"
                    )));
                };
                self.0.delete_pod_identity_association(cluster, id).await
            }
            EksStep::DeletePodIdentityAssociation {
                cluster,
                namespace,
                service_account,
                role_arn,
                tags,
                ..
            } => {
                self.0
                    .create_pod_identity_association(
                        cluster,
                        namespace,
                        service_account,
                        role_arn,
                        tags,
                    )
                    .await?;
                Ok(())
            }
        }
    }
}

/// Merge-patch values that turn the current metadata back into `previous` for the keys `touched`.
fn restore(
    previous: &BTreeMap<String, String>,
    touched: impl Iterator<Item = String>,
) -> BTreeMap<String, Option<String>> {
    touched
        .map(|k| {
            let v = previous.get(&k).cloned();
            (k, v)
        })
        .collect()
}

async fn recreate_role(aws: &Aws, role: &NewRole) -> Result<Outcome> {
    let arn = aws.create_role(role).await?;
    Ok(Outcome::created(arn))
}

impl Executor<IamStep> for AwsSteps<'_> {
    async fn apply(&self, step: &IamStep) -> Result<Outcome> {
        match step {
            IamStep::CreateOidcProvider {
                issuer,
                client_ids,
                thumbprints,
                tags,
            } => {
                let arn = self
                    .0
                    .create_provider(issuer, client_ids, thumbprints, tags)
                    .await?;
                Ok(Outcome::created(arn))
            }
            IamStep::AddClientId {
                provider_arn,
                client_id,
            } => {
                self.0.add_client_id(provider_arn, client_id).await?;
                Ok(Outcome::changed())
            }
            IamStep::CreateRole { role } => recreate_role(self.0, role).await,
            IamStep::UpdateTrust { role, trust, .. } => {
                self.0.update_trust(role, trust).await?;
                Ok(Outcome::changed())
            }
            IamStep::UpdateMaxSessionDuration { role, seconds, .. } => {
                self.0.update_max_session(role, *seconds).await?;
                Ok(Outcome::changed())
            }
            IamStep::PutPermissionsBoundary {
                role, policy_arn, ..
            } => {
                self.0.put_boundary(role, policy_arn).await?;
                Ok(Outcome::changed())
            }
            IamStep::TagRole { role, tags, .. } => {
                self.0.tag_role(role, tags).await?;
                Ok(Outcome::changed())
            }
            IamStep::AttachPolicy { role, policy_arn } => {
                self.0.attach_policy(role, policy_arn).await?;
                Ok(Outcome::changed())
            }
            IamStep::DetachPolicy { role, policy_arn } => {
                self.0.detach_policy(role, policy_arn).await?;
                Ok(Outcome::changed())
            }
            IamStep::PutInlinePolicy {
                role,
                policy_name,
                document,
                ..
            } => {
                self.0
                    .put_inline_policy(role, policy_name, document)
                    .await?;
                Ok(Outcome::changed())
            }
            IamStep::DeleteInlinePolicy {
                role, policy_name, ..
            } => {
                self.0.delete_inline_policy(role, policy_name).await?;
                Ok(Outcome::changed())
            }
            IamStep::DeleteRole { role } => {
                self.0.delete_role(role).await?;
                Ok(Outcome::changed())
            }
        }
    }

    async fn undo(&self, step: &IamStep, outcome: &Outcome) -> Result<()> {
        match step {
            IamStep::CreateOidcProvider { .. } => match &outcome.arn {
                Some(arn) => self.0.delete_provider(arn).await,
                None => Ok(()),
            },
            IamStep::AddClientId {
                provider_arn,
                client_id,
            } => self.0.remove_client_id(provider_arn, client_id).await,
            IamStep::CreateRole { role } => self.0.delete_role(&role.name).await,
            IamStep::UpdateTrust { role, previous, .. } => {
                self.0.update_trust(role, previous).await
            }
            IamStep::UpdateMaxSessionDuration { role, previous, .. } => {
                self.0
                    .update_max_session(role, previous.unwrap_or(3600))
                    .await
            }
            IamStep::PutPermissionsBoundary { role, previous, .. } => match previous {
                Some(arn) => self.0.put_boundary(role, arn).await,
                None => self.0.delete_boundary(role).await,
            },
            IamStep::TagRole { role, previous, .. } => {
                let aws = self.0;
                let restore: Vec<(String, String)> = previous
                    .iter()
                    .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
                    .collect();
                let remove: Vec<String> = previous
                    .iter()
                    .filter(|(_, v)| v.is_none())
                    .map(|(k, _)| k.clone())
                    .collect();
                if !remove.is_empty() {
                    aws.untag_role(role, &remove).await?;
                }
                if !restore.is_empty() {
                    aws.tag_role(role, &restore).await?;
                }
                Ok(())
            }
            IamStep::AttachPolicy { role, policy_arn } => {
                self.0.detach_policy(role, policy_arn).await
            }
            IamStep::DetachPolicy { role, policy_arn } => {
                self.0.attach_policy(role, policy_arn).await
            }
            IamStep::PutInlinePolicy {
                role,
                policy_name,
                previous,
                ..
            } => match previous {
                Some(doc) => self.0.put_inline_policy(role, policy_name, doc).await,
                None => self.0.delete_inline_policy(role, policy_name).await,
            },
            IamStep::DeleteInlinePolicy {
                role,
                policy_name,
                previous,
            } => self.0.put_inline_policy(role, policy_name, previous).await,
            IamStep::DeleteRole { role } => Err(Error::Conflict(format!(
                "role {role} was deleted and cannot be restored"
            ))),
        }
    }
}

impl Executor<ClusterStep> for KubeSteps<'_> {
    async fn apply(&self, step: &ClusterStep) -> Result<Outcome> {
        match step {
            ClusterStep::CreateNamespace { namespace } => {
                if self.0.create_namespace(namespace).await? {
                    Ok(Outcome::changed())
                } else {
                    Ok(Outcome::unchanged())
                }
            }
            ClusterStep::ApplyServiceAccount {
                namespace,
                name,
                annotations,
                labels,
                ..
            } => {
                self.0
                    .apply_service_account(namespace, name, annotations, labels)
                    .await?;
                Ok(Outcome::changed())
            }
            ClusterStep::RemoveServiceAccountAnnotations {
                namespace,
                name,
                keys,
                ..
            } => {
                let patch = keys.iter().map(|k| (k.clone(), None)).collect();
                self.0
                    .patch_service_account_metadata(namespace, name, &patch, &BTreeMap::new())
                    .await?;
                Ok(Outcome::changed())
            }
            ClusterStep::DeleteServiceAccount {
                namespace, name, ..
            } => {
                self.0.delete_service_account(namespace, name).await?;
                Ok(Outcome::changed())
            }
        }
    }

    async fn undo(&self, step: &ClusterStep, _: &Outcome) -> Result<()> {
        match step {
            ClusterStep::CreateNamespace { namespace } => self.0.delete_namespace(namespace).await,
            ClusterStep::ApplyServiceAccount {
                namespace,
                name,
                annotations,
                labels,
                previous,
            } => match previous {
                None => self.0.delete_service_account(namespace, name).await,
                Some(SaSnapshot {
                    annotations: prev_annotations,
                    labels: prev_labels,
                }) => {
                    let a = restore(prev_annotations, annotations.keys().cloned());
                    let l = restore(prev_labels, labels.keys().cloned());
                    self.0
                        .patch_service_account_metadata(namespace, name, &a, &l)
                        .await
                }
            },
            ClusterStep::RemoveServiceAccountAnnotations {
                namespace,
                name,
                keys,
                previous,
            } => {
                let a = restore(&previous.annotations, keys.iter().cloned());
                self.0
                    .patch_service_account_metadata(namespace, name, &a, &BTreeMap::new())
                    .await
            }
            ClusterStep::DeleteServiceAccount {
                namespace,
                name,
                previous,
            } => {
                self.0
                    .apply_service_account(namespace, name, &previous.annotations, &previous.labels)
                    .await?;
                Ok(())
            }
        }
    }
}
