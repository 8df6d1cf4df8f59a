//! The live [`Executor`]: each [`Step`] as AWS and Kubernetes calls, and how to undo it.

use std::collections::BTreeMap;

use crate::aws::{Aws, NewRole};
use crate::error::{Error, Result};
use crate::kube::Kube;
use crate::plan::{Executor, Outcome, SaSnapshot, Step};

/// Talks to AWS and (when the plan has Kubernetes steps) to the cluster.
pub struct Live<'a> {
    pub aws: Option<&'a Aws>,
    pub kube: Option<&'a Kube>,
}

impl Live<'_> {
    fn aws(&self) -> Result<&Aws> {
        self.aws
            .ok_or_else(|| Error::Conflict("internal: an AWS step without an AWS client".into()))
    }

    fn kube(&self) -> Result<&Kube> {
        self.kube.ok_or_else(|| {
            Error::Conflict("internal: a Kubernetes step without a Kubernetes client".into())
        })
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

impl Executor for Live<'_> {
    async fn apply(&self, step: &Step) -> Result<Outcome> {
        match step {
            Step::CreateOidcProvider {
                issuer,
                client_ids,
                thumbprints,
                tags,
            } => {
                let arn = self
                    .aws()?
                    .create_provider(issuer, client_ids, thumbprints, tags)
                    .await?;
                Ok(Outcome::created(arn))
            }
            Step::AddClientId {
                provider_arn,
                client_id,
            } => {
                self.aws()?.add_client_id(provider_arn, client_id).await?;
                Ok(Outcome::changed())
            }
            Step::CreateRole { role } => recreate_role(self.aws()?, role).await,
            Step::UpdateTrust { role, trust, .. } => {
                self.aws()?.update_trust(role, trust).await?;
                Ok(Outcome::changed())
            }
            Step::UpdateMaxSessionDuration { role, seconds, .. } => {
                self.aws()?.update_max_session(role, *seconds).await?;
                Ok(Outcome::changed())
            }
            Step::PutPermissionsBoundary {
                role, policy_arn, ..
            } => {
                self.aws()?.put_boundary(role, policy_arn).await?;
                Ok(Outcome::changed())
            }
            Step::TagRole { role, tags, .. } => {
                self.aws()?.tag_role(role, tags).await?;
                Ok(Outcome::changed())
            }
            Step::AttachPolicy { role, policy_arn } => {
                self.aws()?.attach_policy(role, policy_arn).await?;
                Ok(Outcome::changed())
            }
            Step::DetachPolicy { role, policy_arn } => {
                self.aws()?.detach_policy(role, policy_arn).await?;
                Ok(Outcome::changed())
            }
            Step::PutInlinePolicy {
                role,
                policy_name,
                document,
                ..
            } => {
                self.aws()?
                    .put_inline_policy(role, policy_name, document)
                    .await?;
                Ok(Outcome::changed())
            }
            Step::DeleteInlinePolicy {
                role, policy_name, ..
            } => {
                self.aws()?.delete_inline_policy(role, policy_name).await?;
                Ok(Outcome::changed())
            }
            Step::DeleteRole { role } => {
                self.aws()?.delete_role(role).await?;
                Ok(Outcome::changed())
            }
            Step::CreateNamespace { namespace } => {
                if self.kube()?.create_namespace(namespace).await? {
                    Ok(Outcome::changed())
                } else {
                    Ok(Outcome::unchanged())
                }
            }
            Step::ApplyServiceAccount {
                namespace,
                name,
                annotations,
                labels,
                ..
            } => {
                self.kube()?
                    .apply_service_account(namespace, name, annotations, labels)
                    .await?;
                Ok(Outcome::changed())
            }
            Step::RemoveServiceAccountAnnotations {
                namespace,
                name,
                keys,
                ..
            } => {
                let patch = keys.iter().map(|k| (k.clone(), None)).collect();
                self.kube()?
                    .patch_service_account_metadata(namespace, name, &patch, &BTreeMap::new())
                    .await?;
                Ok(Outcome::changed())
            }
            Step::DeleteServiceAccount {
                namespace, name, ..
            } => {
                self.kube()?.delete_service_account(namespace, name).await?;
                Ok(Outcome::changed())
            }
        }
    }

    async fn undo(&self, step: &Step, outcome: &Outcome) -> Result<()> {
        match step {
            Step::CreateOidcProvider { .. } => match &outcome.arn {
                Some(arn) => self.aws()?.delete_provider(arn).await,
                None => Ok(()),
            },
            Step::AddClientId {
                provider_arn,
                client_id,
            } => self.aws()?.remove_client_id(provider_arn, client_id).await,
            Step::CreateRole { role } => self.aws()?.delete_role(&role.name).await,
            Step::UpdateTrust { role, previous, .. } => {
                self.aws()?.update_trust(role, previous).await
            }
            Step::UpdateMaxSessionDuration { role, previous, .. } => {
                self.aws()?
                    .update_max_session(role, previous.unwrap_or(3600))
                    .await
            }
            Step::PutPermissionsBoundary { role, previous, .. } => match previous {
                Some(arn) => self.aws()?.put_boundary(role, arn).await,
                None => self.aws()?.delete_boundary(role).await,
            },
            Step::TagRole { role, previous, .. } => {
                let aws = self.aws()?;
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
            Step::AttachPolicy { role, policy_arn } => {
                self.aws()?.detach_policy(role, policy_arn).await
            }
            Step::DetachPolicy { role, policy_arn } => {
                self.aws()?.attach_policy(role, policy_arn).await
            }
            Step::PutInlinePolicy {
                role,
                policy_name,
                previous,
                ..
            } => match previous {
                Some(doc) => self.aws()?.put_inline_policy(role, policy_name, doc).await,
                None => self.aws()?.delete_inline_policy(role, policy_name).await,
            },
            Step::DeleteInlinePolicy {
                role,
                policy_name,
                previous,
            } => {
                self.aws()?
                    .put_inline_policy(role, policy_name, previous)
                    .await
            }
            Step::DeleteRole { role } => Err(Error::Conflict(format!(
                "role {role} was deleted and cannot be restored"
            ))),
            Step::CreateNamespace { namespace } => self.kube()?.delete_namespace(namespace).await,
            Step::ApplyServiceAccount {
                namespace,
                name,
                annotations,
                labels,
                previous,
            } => match previous {
                None => self.kube()?.delete_service_account(namespace, name).await,
                Some(SaSnapshot {
                    annotations: prev_annotations,
                    labels: prev_labels,
                }) => {
                    let a = restore(prev_annotations, annotations.keys().cloned());
                    let l = restore(prev_labels, labels.keys().cloned());
                    self.kube()?
                        .patch_service_account_metadata(namespace, name, &a, &l)
                        .await
                }
            },
            Step::RemoveServiceAccountAnnotations {
                namespace,
                name,
                keys,
                previous,
            } => {
                let a = restore(&previous.annotations, keys.iter().cloned());
                self.kube()?
                    .patch_service_account_metadata(namespace, name, &a, &BTreeMap::new())
                    .await
            }
            Step::DeleteServiceAccount {
                namespace,
                name,
                previous,
            } => {
                self.kube()?
                    .apply_service_account(namespace, name, &previous.annotations, &previous.labels)
                    .await?;
                Ok(())
            }
        }
    }
}
