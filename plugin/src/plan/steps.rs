//! The steps a plan is made of, by the client each needs, and how each one describes itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use super::EksStep;
use crate::aws::NewRole;

/// A service account's IRSA-relevant metadata before a step changed it, to restore it on rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct SaSnapshot {
    pub annotations: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// A change in IAM: needs only the AWS client.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum IamStep {
    CreateOidcProvider {
        issuer: String,
        client_ids: Vec<String>,
        thumbprints: Vec<String>,
        #[serde(serialize_with = "crate::aws::tags_as_map")]
        tags: Vec<(String, String)>,
    },
    AddClientId {
        provider_arn: String,
        client_id: String,
    },
    CreateRole {
        role: NewRole,
    },
    UpdateTrust {
        role: String,
        trust: Value,
        previous: Value,
    },
    UpdateMaxSessionDuration {
        role: String,
        seconds: i32,
        previous: Option<i32>,
    },
    PutPermissionsBoundary {
        role: String,
        policy_arn: String,
        previous: Option<String>,
    },
    TagRole {
        role: String,
        #[serde(serialize_with = "crate::aws::tags_as_map")]
        tags: Vec<(String, String)>,
        /// Previous values of those keys (`None`: the key was absent).
        #[serde(serialize_with = "crate::aws::tags_as_map")]
        previous: Vec<(String, Option<String>)>,
    },
    AttachPolicy {
        role: String,
        policy_arn: String,
    },
    DetachPolicy {
        role: String,
        policy_arn: String,
    },
    PutInlinePolicy {
        role: String,
        policy_name: String,
        document: Value,
        previous: Option<Value>,
    },
    DeleteInlinePolicy {
        role: String,
        policy_name: String,
        previous: Value,
    },
    DeleteRole {
        role: String,
    },
}

/// A change in the cluster: needs only the Kubernetes client.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ClusterStep {
    CreateNamespace {
        namespace: String,
    },
    ApplyServiceAccount {
        namespace: String,
        name: String,
        annotations: BTreeMap<String, String>,
        labels: BTreeMap<String, String>,
        /// `None`: the service account does not exist yet.
        previous: Option<SaSnapshot>,
    },
    RemoveServiceAccountAnnotations {
        namespace: String,
        name: String,
        keys: Vec<String>,
        previous: SaSnapshot,
    },
    DeleteServiceAccount {
        namespace: String,
        name: String,
        previous: SaSnapshot,
    },
}

/// One change of a plan that touches both IAM and the cluster. Its type says which client it needs: a plan of
/// [`IamStep`]s runs with the AWS client alone, a plan of [`Step`]s needs both, so no plan can reach a step
/// whose client was never connected.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Step {
    Iam(IamStep),
    Cluster(ClusterStep),
    Eks(EksStep),
}

impl From<EksStep> for Step {
    fn from(step: EksStep) -> Self {
        Step::Eks(step)
    }
}

impl From<IamStep> for Step {
    fn from(step: IamStep) -> Self {
        Step::Iam(step)
    }
}

impl From<ClusterStep> for Step {
    fn from(step: ClusterStep) -> Self {
        Step::Cluster(step)
    }
}

/// What a plan says about each of its steps.
pub trait PlanStep {
    /// One line saying what the step does.
    fn summary(&self) -> String;
    /// What undoing the step does, in the past tense (for the rollback report).
    fn undo_summary(&self) -> String;
    /// Documents worth showing in full (trust policies, inline policies), as `(title, JSON)`.
    fn documents(&self) -> Vec<(&'static str, &Value)> {
        Vec::new()
    }
}

impl PlanStep for Step {
    fn summary(&self) -> String {
        match self {
            Step::Iam(step) => step.summary(),
            Step::Cluster(step) => step.summary(),
            Step::Eks(step) => step.summary(),
        }
    }

    fn undo_summary(&self) -> String {
        match self {
            Step::Iam(step) => step.undo_summary(),
            Step::Cluster(step) => step.undo_summary(),
            Step::Eks(step) => step.undo_summary(),
        }
    }

    fn documents(&self) -> Vec<(&'static str, &Value)> {
        match self {
            Step::Iam(step) => step.documents(),
            Step::Cluster(step) => step.documents(),
            Step::Eks(step) => step.documents(),
        }
    }
}

fn kv(pairs: &BTreeMap<String, String>) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn tags_text(tags: &[(String, String)]) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl PlanStep for IamStep {
    fn summary(&self) -> String {
        match self {
            IamStep::CreateOidcProvider {
                issuer,
                client_ids,
                thumbprints,
                ..
            } => format!(
                "create IAM OIDC provider for {issuer} (client IDs {}, thumbprint {})",
                client_ids.join(", "),
                thumbprints.join(", ")
            ),
            IamStep::AddClientId {
                provider_arn,
                client_id,
            } => format!("add client ID {client_id} to IAM OIDC provider {provider_arn}"),
            IamStep::CreateRole { role } => {
                let mut s = format!("create IAM role {} (path {}", role.name, role.path);
                if let Some(m) = role.max_session_duration {
                    let _ = write!(s, ", max session {m}s");
                }
                if let Some(b) = &role.permissions_boundary {
                    let _ = write!(s, ", permissions boundary {b}");
                }
                let _ = write!(s, ", tags {})", tags_text(&role.tags));
                s
            }
            IamStep::UpdateTrust { role, .. } => format!("update the trust policy of role {role}"),
            IamStep::UpdateMaxSessionDuration {
                role,
                seconds,
                previous,
            } => format!(
                "set max session duration of role {role} to {seconds}s (was {})",
                previous.map_or("the default".to_string(), |p| format!("{p}s"))
            ),
            IamStep::PutPermissionsBoundary {
                role, policy_arn, ..
            } => format!("set permissions boundary of role {role} to {policy_arn}"),
            IamStep::TagRole { role, tags, .. } => {
                format!("tag role {role} with {}", tags_text(tags))
            }
            IamStep::AttachPolicy { role, policy_arn } => {
                format!("attach policy {policy_arn} to role {role}")
            }
            IamStep::DetachPolicy { role, policy_arn } => {
                format!("detach policy {policy_arn} from role {role}")
            }
            IamStep::PutInlinePolicy {
                role,
                policy_name,
                previous,
                ..
            } => {
                let verb = if previous.is_some() { "replace" } else { "put" };
                format!("{verb} inline policy {policy_name} of role {role}")
            }
            IamStep::DeleteInlinePolicy {
                role, policy_name, ..
            } => format!("delete inline policy {policy_name} of role {role}"),
            IamStep::DeleteRole { role } => format!("delete IAM role {role}"),
        }
    }

    fn undo_summary(&self) -> String {
        match self {
            IamStep::CreateOidcProvider { issuer, .. } => {
                format!("deleted the IAM OIDC provider for {issuer}")
            }
            IamStep::AddClientId {
                provider_arn,
                client_id,
            } => format!("removed client ID {client_id} from {provider_arn}"),
            IamStep::CreateRole { role } => format!("deleted role {}", role.name),
            IamStep::UpdateTrust { role, .. } => {
                format!("restored the trust policy of role {role}")
            }
            IamStep::UpdateMaxSessionDuration { role, .. } => {
                format!("restored the max session duration of role {role}")
            }
            IamStep::PutPermissionsBoundary { role, .. } => {
                format!("restored the permissions boundary of role {role}")
            }
            IamStep::TagRole { role, .. } => format!("restored the tags of role {role}"),
            IamStep::AttachPolicy { role, policy_arn } => {
                format!("detached policy {policy_arn} from role {role}")
            }
            IamStep::DetachPolicy { role, policy_arn } => {
                format!("re-attached policy {policy_arn} to role {role}")
            }
            IamStep::PutInlinePolicy {
                role,
                policy_name,
                previous,
                ..
            } => match previous {
                Some(_) => format!("restored inline policy {policy_name} of role {role}"),
                None => format!("deleted inline policy {policy_name} of role {role}"),
            },
            IamStep::DeleteInlinePolicy {
                role, policy_name, ..
            } => format!("restored inline policy {policy_name} of role {role}"),
            IamStep::DeleteRole { role } => format!("(role {role} cannot be restored)"),
        }
    }

    fn documents(&self) -> Vec<(&'static str, &Value)> {
        match self {
            IamStep::CreateRole { role } => vec![("trust policy", &role.trust)],
            IamStep::UpdateTrust { trust, .. } => vec![("new trust policy", trust)],
            IamStep::PutInlinePolicy { document, .. } => vec![("policy document", document)],
            _ => Vec::new(),
        }
    }
}

impl PlanStep for ClusterStep {
    fn summary(&self) -> String {
        match self {
            ClusterStep::CreateNamespace { namespace } => format!("create namespace {namespace}"),
            ClusterStep::ApplyServiceAccount {
                namespace,
                name,
                annotations,
                labels,
                previous,
            } => {
                let verb = if previous.is_some() {
                    "annotate"
                } else {
                    "create"
                };
                let mut parts = Vec::new();
                if !annotations.is_empty() {
                    parts.push(kv(annotations));
                }
                if !labels.is_empty() {
                    parts.push(format!("labels {}", kv(labels)));
                }
                format!(
                    "{verb} service account {namespace}/{name} ({})",
                    parts.join("; ")
                )
            }
            ClusterStep::RemoveServiceAccountAnnotations {
                namespace,
                name,
                keys,
                ..
            } => format!(
                "remove annotation {} from service account {namespace}/{name}",
                keys.join(", ")
            ),
            ClusterStep::DeleteServiceAccount {
                namespace, name, ..
            } => format!("delete service account {namespace}/{name}"),
        }
    }

    fn undo_summary(&self) -> String {
        match self {
            ClusterStep::CreateNamespace { namespace } => format!("deleted namespace {namespace}"),
            ClusterStep::ApplyServiceAccount {
                namespace,
                name,
                previous,
                ..
            } => match previous {
                None => format!("deleted service account {namespace}/{name}"),
                Some(_) => format!(
                    "restored the annotations and labels of service account {namespace}/{name}"
                ),
            },
            ClusterStep::RemoveServiceAccountAnnotations {
                namespace, name, ..
            } => format!("restored the annotations of service account {namespace}/{name}"),
            ClusterStep::DeleteServiceAccount {
                namespace, name, ..
            } => format!("re-created service account {namespace}/{name}"),
        }
    }
}
