//! Validating a document as IAM does for its use.
//!
//! IAM applies one grammar to every document (the `grammar` module) but checks it against its use: a role's
//! trust policy (`CreateRole --assume-role-policy-document`, `UpdateAssumeRolePolicy`) says *who* may assume
//! the role, so it needs a principal and may only grant the `sts:AssumeRole*` family; an identity policy
//! (`CreatePolicy`, `PutRolePolicy`) is attached to a principal already, so naming one is an error, and it
//! must say which resources it covers. Managed policies, newer than inline ones, also insist on the current
//! `Version`.

use serde_json::Value;

use crate::document::{PolicyDocument, Statement};
use crate::error::PolicyError;
use crate::grammar;
use crate::wildcard::wildcard_match_ignore_case;

/// Which kind of document is being validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// A managed policy (`CreatePolicy`, `CreatePolicyVersion`): `Version` must be `2012-10-17`.
    Managed,
    /// An inline policy (`PutRolePolicy`) or a session policy: `Version` may be left out (it then means
    /// `2008-10-17`, docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html).
    Inline,
    /// A role's trust policy (`AssumeRolePolicyDocument`).
    Trust,
}

/// The partition documents are validated for when none is given.
pub const DEFAULT_PARTITION: &str = "aws";
/// For [`validate_in`] before the account's partition is known: a resource may be in any that exists.
pub const ANY_PARTITION: &str = "*";

/// The actions a trust policy may grant.
pub const TRUST_ACTIONS: [&str; 6] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:SetContext",
];

/// Parse `json` and apply IAM's checks for documents of `kind` in the `aws` partition.
pub fn validate(json: &str, kind: DocumentKind) -> Result<PolicyDocument, PolicyError> {
    validate_in(json, kind, DEFAULT_PARTITION)
}

/// Parse `json` and apply IAM's checks for documents of `kind` in `partition`, whose ARNs must name it (or
/// `*`); with [`ANY_PARTITION`], any partition that exists.
pub fn validate_in(
    json: &str,
    kind: DocumentKind,
    partition: &str,
) -> Result<PolicyDocument, PolicyError> {
    let value: Value = serde_json::from_str(json).map_err(|e| {
        let detail = e.to_string();
        match kind {
            DocumentKind::Trust => PolicyError::InvalidJson { detail },
            _ => PolicyError::Syntax { detail },
        }
    })?;
    grammar::check(&value, kind, partition)?;
    let doc = PolicyDocument::from_value(value)?;
    check_use(&doc, kind)?;
    Ok(doc)
}

/// Apply IAM's checks for `kind` (in the `aws` partition) to an already parsed document.
pub fn validate_document(doc: &PolicyDocument, kind: DocumentKind) -> Result<(), PolicyError> {
    grammar::check(doc.as_json(), kind, DEFAULT_PARTITION)?;
    check_use(doc, kind)
}

/// The trust policy's own rules, checked once the grammar holds.
fn check_use(doc: &PolicyDocument, kind: DocumentKind) -> Result<(), PolicyError> {
    if kind == DocumentKind::Trust {
        for st in &doc.statements {
            check_trust(st)?;
        }
    }
    Ok(())
}

fn check_trust(st: &Statement) -> Result<(), PolicyError> {
    if !st.has_principal() {
        return Err(PolicyError::NoPrincipal);
    }
    if st.resource.is_some() {
        return Err(PolicyError::ProhibitedField("Resource"));
    }
    if st.not_resource.is_some() {
        return Err(PolicyError::ProhibitedField("NotResource"));
    }
    if let Some(na) = &st.not_action {
        // "Everything except X" would include non-STS actions.
        return Err(PolicyError::InvalidTrustAction(na.join(",")));
    }
    for action in st.action.iter().flatten() {
        if !is_trust_action(action) {
            return Err(PolicyError::InvalidTrustAction(action.clone()));
        }
    }
    Ok(())
}

/// An action (or action pattern such as `sts:AssumeRole*`) is acceptable in a trust policy when it is in the
/// `sts:` namespace and names at least one of [`TRUST_ACTIONS`].
fn is_trust_action(action: &str) -> bool {
    let in_sts = action
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("sts:"));
    in_sts
        && TRUST_ACTIONS
            .iter()
            .any(|allowed| wildcard_match_ignore_case(action, allowed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_action_patterns() {
        assert!(is_trust_action("sts:AssumeRoleWithWebIdentity"));
        assert!(is_trust_action("STS:assumerolewithwebidentity"));
        assert!(is_trust_action("sts:AssumeRole*"));
        assert!(is_trust_action("sts:TagSession"));
        assert!(!is_trust_action("sts:GetCallerIdentity"));
        assert!(!is_trust_action("s3:GetObject"));
        assert!(!is_trust_action("*"));
        assert!(!is_trust_action("é"));
    }
}
