//! The one error type of the crate.
//!
//! Every document error renders (via `Display` and [`PolicyError::message`]) as the text IAM itself puts in a
//! `MalformedPolicyDocument` error, so the emulator can pass it through verbatim and clients that match on
//! IAM's wording keep working. What IAM does not say (the serde error, the offending value) is kept apart in
//! [`PolicyError::detail`] for humans debugging a document.

use thiserror::Error;

/// Why a policy document, ARN or condition was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// Not JSON, or JSON of the wrong shape (a statement that is a number, an unknown element, …).
    #[error("Syntax errors in policy.")]
    Syntax {
        /// What exactly was wrong; IAM does not say, we do.
        detail: String,
    },
    /// `Version` is neither `2012-10-17` nor `2008-10-17`.
    #[error("The policy failed legacy parsing")]
    InvalidVersion(String),
    /// A required top-level or statement element is absent (`Statement`, `Effect`, `Principal`).
    #[error("Missing required field {0}")]
    MissingField(&'static str),
    /// A statement has neither `Action` nor `NotAction` (or an empty list).
    #[error("Policy statement must contain actions.")]
    MissingActions,
    /// An identity-policy statement has neither `Resource` nor `NotResource`.
    #[error("Policy statement must contain resources.")]
    MissingResources,
    /// `Effect` is not exactly `Allow` or `Deny` (IAM is case-sensitive here).
    #[error("Invalid effect: {0}")]
    InvalidEffect(String),
    /// An action or condition key without a `vendor:` prefix.
    #[error("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")]
    MissingVendor(String),
    /// A condition operator IAM does not know (typos such as `StringEqual` land here).
    #[error("Invalid Condition type : {0}")]
    UnknownConditionOperator(String),
    /// An identity policy names a `Principal`/`NotPrincipal`.
    #[error("Policy document should not specify a principal.")]
    PrincipalNotAllowed,
    /// A principal that is not well-formed, e.g. `"AWS":"bob"`.
    #[error("Invalid principal in policy: {0}")]
    InvalidPrincipal(String),
    /// An element that this kind of document must not have (`Resource` in a trust policy).
    #[error("Has prohibited field {0}")]
    ProhibitedField(&'static str),
    /// A trust policy allows something other than the `sts:AssumeRole*` family.
    #[error("AssumeRole policy may only specify STS AssumeRole actions.")]
    InvalidTrustAction(String),
    /// Two statements share a `Sid`.
    #[error("Statement IDs (SID) in a single policy must be unique.")]
    DuplicateSid(String),
    /// Identity policies only allow `[0-9A-Za-z]*` in a `Sid`.
    #[error(
        "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
    )]
    InvalidSid(String),
    /// A `Resource` that is neither `*` nor an ARN.
    #[error("Resource {0} must be in ARN format or \"*\".")]
    InvalidResource(String),
    /// A string that is not an ARN where one was required (not a document error).
    #[error("Invalid ARN: {0}")]
    InvalidArn(String),
}

impl PolicyError {
    /// The human text; identical to `Display`, offered so callers need not import `ToString` semantics.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The AWS error code this error maps to when returned by IAM.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::InvalidArn(_) => "ValidationError",
            _ => "MalformedPolicyDocument",
        }
    }

    /// Extra context IAM's message leaves out (the parser's complaint, the offending value), if any.
    pub fn detail(&self) -> Option<&str> {
        match self {
            PolicyError::Syntax { detail } => Some(detail),
            PolicyError::InvalidVersion(v)
            | PolicyError::InvalidEffect(v)
            | PolicyError::MissingVendor(v)
            | PolicyError::UnknownConditionOperator(v)
            | PolicyError::InvalidPrincipal(v)
            | PolicyError::InvalidTrustAction(v)
            | PolicyError::DuplicateSid(v)
            | PolicyError::InvalidSid(v)
            | PolicyError::InvalidResource(v)
            | PolicyError::InvalidArn(v) => Some(v),
            PolicyError::MissingField(_)
            | PolicyError::MissingActions
            | PolicyError::MissingResources
            | PolicyError::PrincipalNotAllowed
            | PolicyError::ProhibitedField(_) => None,
        }
    }

    pub(crate) fn syntax(detail: impl Into<String>) -> Self {
        PolicyError::Syntax {
            detail: detail.into(),
        }
    }
}
