//! Policy documents as IAM checks them on the way in: parsed by `irsa-policy`, then the checks that need
//! the account's state (does the Federated principal name a provider that exists?).

use irsa_policy::{DocumentKind, PolicyDocument};

use crate::partition::{Account, Partition};
use crate::protocol::AwsError;
use crate::state::Db;

/// Trust policies have their own, smaller quota (`ACLSizePerRole`).
pub const TRUST_POLICY_QUOTA: usize = 2048;
pub const MANAGED_POLICY_QUOTA: usize = 6144;
pub const INLINE_ROLE_POLICIES_QUOTA: usize = 10240;

/// CreatePolicy, CreatePolicyVersion: IAM's grammar, and the current `Version`.
pub fn managed(document: &str, partition: Partition) -> Result<PolicyDocument, AwsError> {
    checked(document, DocumentKind::Managed, partition)
}

/// PutRolePolicy: IAM's grammar; `Version` may be left out.
pub fn inline(document: &str, partition: Partition) -> Result<PolicyDocument, AwsError> {
    checked(document, DocumentKind::Inline, partition)
}

/// IAM's grammar, with ARNs that must be in the account's partition (`Partition "aws" is not valid for
/// resource …` in AWS China).
fn checked(
    document: &str,
    kind: DocumentKind,
    partition: Partition,
) -> Result<PolicyDocument, AwsError> {
    irsa_policy::validate_in(document, kind, partition.name())
        .map_err(|e| AwsError::malformed_policy(e.message()))
}

/// A trust policy must parse, and every principal that names something in this account must exist:
/// IAM rejects a trust on a missing OIDC provider or role with "Invalid principal in policy".
pub fn trust(db: &Db, account: &Account, document: &str) -> Result<PolicyDocument, AwsError> {
    let doc = checked(document, DocumentKind::Trust, account.partition())?;
    let ours = account.iam_arn("oidc-provider/");
    for principal in doc.federated_principals() {
        // Other accounts' providers and web identity domains (accounts.google.com, …) are not ours to check.
        if principal.starts_with(&ours) && db.oidc_provider(&principal)?.is_none() {
            return Err(AwsError::malformed_policy(format!(
                "Invalid principal in policy: \"Federated\":\"{principal}\""
            )));
        }
    }
    Ok(doc)
}
