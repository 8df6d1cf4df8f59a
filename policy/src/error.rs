//! The one error type of the crate.
//!
//! Every document error renders (via `Display` and [`PolicyError::message`]) as the text IAM itself puts in a
//! `MalformedPolicyDocument` error, so the emulator can pass it through verbatim and clients that match on
//! IAM's wording keep working. What IAM does not say (the parser's complaint, the offending value) is kept
//! apart in [`PolicyError::detail`] for humans debugging a document.

use thiserror::Error;

/// Why a policy document, ARN or condition was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// An identity policy that is not JSON, or JSON of the wrong shape (an unknown element, a statement that
    /// is a number, an empty `Statement`, an `Effect` that is neither allow nor deny, …).
    #[error("Syntax errors in policy.")]
    Syntax {
        /// What exactly was wrong; IAM does not say, we do.
        detail: String,
    },
    /// A trust policy that does not parse as a JSON object (the classic `--assume-role-policy-document
    /// trust.json` without `file://`).
    #[error("This policy contains invalid Json")]
    InvalidJson { detail: String },
    /// A managed policy without `Version: 2012-10-17` (absent, or the legacy `2008-10-17`).
    #[error("Policy document must be version 2012-10-17 or greater.")]
    VersionTooOld { found: Option<String> },
    /// IAM's second parser refused the document: an `Effect` in the wrong case, a date it cannot read, an
    /// ARN with too few parts.
    #[error("The policy failed legacy parsing")]
    LegacyParsing { detail: String },
    /// A required element of a trust policy is absent (`Statement`, `Effect`).
    #[error("Missing required field {0}")]
    MissingField(&'static str),
    /// A statement has neither `Action` nor `NotAction` (or an empty list).
    #[error("Policy statement must contain actions.")]
    MissingActions,
    /// An identity-policy statement has neither `Resource` nor `NotResource` (or an empty list).
    #[error("Policy statement must contain resources.")]
    MissingResources,
    /// An action without a `vendor:` prefix.
    #[error("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")]
    MissingVendor(String),
    /// An action with more than one `:`, e.g. `s3:List:Bucket`.
    #[error("Actions/Condition can contain only one colon.")]
    ExtraColon(String),
    /// An action whose vendor has characters other than letters, digits, `-` and `.`.
    #[error("Vendor {0} is not valid")]
    InvalidVendor(String),
    /// An identity policy names a `Principal`/`NotPrincipal`.
    #[error("Policy document should not specify a principal.")]
    PrincipalNotAllowed,
    /// A trust-policy statement without `Principal`: IAM passes on the complaint of the policy library under
    /// it (seen on CreateRole in terraform-aws-modules/terraform-aws-iam#47, 2020; one report, so the exact
    /// text may have changed since).
    #[error(
        "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!"
    )]
    NoPrincipal,
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
    /// A `Resource` without a single `:`.
    #[error("Resource {0} must be in ARN format or \"*\".")]
    InvalidResource(String),
    /// A `Resource` in another partition than the document's (or in none that exists). `resource` is the
    /// ARN as IAM spells it back, missing parts shown as `*`.
    #[error("Partition \"{partition}\" is not valid for resource \"{resource}\".")]
    InvalidPartition { partition: String, resource: String },
    /// A `Resource` that stops after its partition (`arn:aws`).
    #[error("Resource vendor must be fully qualified and cannot contain regexes.")]
    UnqualifiedResourceVendor(String),
    /// An IAM `Resource` with a region (IAM is global).
    #[error("IAM resource {0} cannot contain region information.")]
    IamResourceRegion(String),
    /// An S3 bucket or object `Resource` with a region (bucket ARNs have none).
    #[error("Resource {0} can not contain region information.")]
    S3ResourceRegion(String),
    /// An IAM `Resource` naming no IAM resource type.
    #[error(
        "IAM resource path must either be \"*\", root, or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/."
    )]
    InvalidIamResourcePath(String),
    /// A condition operator outside IAM's list; only reached outside the grammar (parsing an operator name).
    #[error("Unknown condition operator {0}")]
    UnknownConditionOperator(String),
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
        use PolicyError::*;
        match self {
            Syntax { detail } | InvalidJson { detail } | LegacyParsing { detail } => Some(detail),
            VersionTooOld { found } => found.as_deref(),
            InvalidPartition { resource, .. } => Some(resource),
            MissingVendor(v)
            | ExtraColon(v)
            | InvalidVendor(v)
            | InvalidPrincipal(v)
            | InvalidTrustAction(v)
            | DuplicateSid(v)
            | InvalidSid(v)
            | InvalidResource(v)
            | UnqualifiedResourceVendor(v)
            | IamResourceRegion(v)
            | S3ResourceRegion(v)
            | InvalidIamResourcePath(v)
            | UnknownConditionOperator(v)
            | InvalidArn(v) => Some(v),
            MissingField(_) | MissingActions | MissingResources | PrincipalNotAllowed
            | NoPrincipal | ProhibitedField(_) => None,
        }
    }

    pub(crate) fn syntax(detail: impl Into<String>) -> Self {
        PolicyError::Syntax {
            detail: detail.into(),
        }
    }

    pub(crate) fn legacy(detail: impl Into<String>) -> Self {
        PolicyError::LegacyParsing {
            detail: detail.into(),
        }
    }
}
