//! The records the emulator keeps. Stored as JSON in SQLite rows keyed by their identity, so adding a field
//! never needs a migration.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub type Tags = Vec<Tag>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub path: String,
    pub role_id: String,
    pub arn: String,
    pub create_date: DateTime<Utc>,
    /// Kept verbatim as the caller sent it: IAM returns the document the way it was written.
    pub assume_role_policy: String,
    pub description: Option<String>,
    pub max_session_duration: i64,
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InlinePolicy {
    pub name: String,
    pub document: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub path: String,
    pub policy_id: String,
    pub arn: String,
    pub description: Option<String>,
    pub create_date: DateTime<Utc>,
    pub update_date: DateTime<Utc>,
    pub default_version_id: String,
    pub versions: Vec<PolicyVersion>,
    /// Version ids are never reused, even after DeletePolicyVersion.
    pub next_version: u32,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub version_id: String,
    pub document: String,
    pub create_date: DateTime<Utc>,
}

impl ManagedPolicy {
    pub fn default_version(&self) -> Option<&PolicyVersion> {
        self.versions
            .iter()
            .find(|v| v.version_id == self.default_version_id)
    }

    pub fn is_aws_managed(&self) -> bool {
        // `arn:<partition>:iam::aws:policy/…`: the account field is `aws`.
        let mut fields = self.arn.splitn(6, ':');
        fields.nth(4) == Some("aws") && self.arn.contains(":policy/")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OidcProvider {
    pub arn: String,
    /// Host and path, no scheme — what IAM returns as `Url`.
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub create_date: DateTime<Utc>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cluster {
    pub name: String,
    pub arn: String,
    pub issuer: String,
    pub endpoint: String,
    /// Base64 of the PEM the cluster's API server presents, as EKS returns it.
    pub certificate_authority: String,
    pub created_at: DateTime<Utc>,
    pub version: String,
    /// PKCS#8 PEM of the service-account signing key; `None` when the cluster serves its own issuer.
    pub signing_key_pem: Option<String>,
    #[serde(default)]
    pub tags: Tags,
}

impl Cluster {
    /// Clusters the emulator issues tokens for; the others publish their keys at their own issuer.
    pub fn is_external(&self) -> bool {
        self.signing_key_pem.is_none()
    }
}

/// An EKS Pod Identity association: the role pods of `namespace/service_account` in `cluster_name` get.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodIdentityAssociation {
    pub cluster_name: String,
    /// `a-` and 17 lower-case letters and digits, as EKS issues them.
    pub association_id: String,
    pub association_arn: String,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
    /// A role assumed with `role_arn`'s session (role chaining), whose credentials the pods get instead.
    pub target_role_arn: Option<String>,
    /// What the chained AssumeRole passes as `ExternalId` (set with `target_role_arn`).
    pub external_id: Option<String>,
    pub disable_session_tags: bool,
    /// A session policy further limiting the credentials.
    pub policy: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    /// Set when an EKS add-on owns the association; never by the emulator, which has no add-ons.
    pub owner_arn: Option<String>,
    /// CreatePodIdentityAssociation's idempotency token.
    pub client_request_token: Option<String>,
}
