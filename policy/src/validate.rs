//! The rules that depend on what a document is for.
//!
//! IAM accepts the same grammar for every document but then checks it against its use: a role's trust policy
//! (`CreateRole --assume-role-policy-document`, `UpdateAssumeRolePolicy`) says *who* may assume the role, so it
//! needs a principal and may only grant the `sts:AssumeRole*` family; an identity policy (`CreatePolicy`,
//! `PutRolePolicy`) is attached to a principal already, so naming one is an error, and it must say which
//! resources it covers.

use crate::document::{PolicyDocument, Statement};
use crate::error::PolicyError;
use crate::wildcard::wildcard_match_ignore_case;

/// Which kind of document is being validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// A permissions policy attached to a user, group or role (managed or inline).
    Identity,
    /// A role's trust policy (`AssumeRolePolicyDocument`).
    Trust,
}

/// The actions a trust policy may grant.
pub const TRUST_ACTIONS: [&str; 6] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:SetContext",
];

/// Parse `json` and apply IAM's checks for documents of `kind`.
pub fn validate(json: &str, kind: DocumentKind) -> Result<PolicyDocument, PolicyError> {
    let doc = PolicyDocument::parse(json)?;
    validate_document(&doc, kind)?;
    Ok(doc)
}

/// Apply the kind-specific checks to an already parsed document.
pub fn validate_document(doc: &PolicyDocument, kind: DocumentKind) -> Result<(), PolicyError> {
    for st in &doc.statements {
        match kind {
            DocumentKind::Identity => check_identity(st)?,
            DocumentKind::Trust => check_trust(st)?,
        }
    }
    Ok(())
}

fn non_empty(list: &Option<Vec<String>>) -> bool {
    list.as_ref().is_some_and(|l| !l.is_empty())
}

fn check_identity(st: &Statement) -> Result<(), PolicyError> {
    if st.has_principal() {
        return Err(PolicyError::PrincipalNotAllowed);
    }
    if !non_empty(&st.resource) && !non_empty(&st.not_resource) {
        return Err(PolicyError::MissingResources);
    }
    if let Some(sid) = &st.sid {
        if !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(PolicyError::InvalidSid(sid.clone()));
        }
    }
    Ok(())
}

fn check_trust(st: &Statement) -> Result<(), PolicyError> {
    if !st.has_principal() {
        return Err(PolicyError::MissingField("Principal"));
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
