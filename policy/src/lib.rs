//! `irsa-policy`: IAM policy documents, ARNs, and policy evaluation that explains itself.
//!
//! Shared by the IAM/STS emulator (validating documents sent to `CreateRole`/`CreatePolicy`/`PutRolePolicy`,
//! evaluating trust policies in `AssumeRoleWithWebIdentity`) and the kubectl plugin (building IRSA trust
//! policies, diagnosing why a binding fails). Everything here is plain functions over plain types: no I/O,
//! no unsafe, and no panics on any input.
//!
//! ```
//! use irsa_policy::{trust_admits, irsa_trust_policy, Account, PolicyDocument};
//!
//! let issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC";
//! let account = Account::aws("111122223333");
//! let policy = irsa_trust_policy(&account, issuer, "default", "my-sa", "sts.amazonaws.com", None);
//! let doc = PolicyDocument::parse(&policy.to_string()).unwrap();
//! let provider = account.provider_arn(issuer);
//!
//! let ok = trust_admits(&doc, &provider, "system:serviceaccount:default:my-sa", "sts.amazonaws.com");
//! assert!(ok.is_allowed());
//!
//! let denied = trust_admits(&doc, &provider, "system:serviceaccount:dev:my-sa", "sts.amazonaws.com");
//! assert!(denied.explain().contains("token has system:serviceaccount:dev:my-sa"));
//! ```

pub mod arn;
pub mod condition;
pub mod context;
pub mod document;
pub mod error;
pub mod evaluate;
mod explain;
mod grammar;
pub mod operator;
pub mod principal;
mod scalar;
pub mod trust;
pub mod validate;
mod variables;
pub mod wildcard;

pub use arn::{
    account_from_arn, aws_managed_policy_arn, is_account_id, is_partition, issuer_host_path,
    partition_of_region, provider_arn_to_issuer, provider_host_path, role_name_from_arn, Account,
    Arn, PARTITIONS,
};
pub use condition::{Condition, ConditionFailure};
pub use context::RequestContext;
pub use document::{
    Effect, PolicyDocument, Principal, PrincipalKind, PrincipalRef, Statement, VERSION_2008_10_17,
    VERSION_2012_10_17,
};
pub use error::PolicyError;
pub use evaluate::{evaluate, Decision, Evaluation, MissReason, NearMiss, StatementMatch};
pub use operator::{BaseOperator, Operator, SetQualifier};
pub use trust::{
    irsa_trust_policy, irsa_trust_statement, parse_service_account_subject,
    service_account_subject, trust_admits, web_identity_context, WEB_IDENTITY_ACTION,
};
pub use validate::{
    validate, validate_document, validate_in, DocumentKind, ANY_PARTITION, DEFAULT_PARTITION,
    TRUST_ACTIONS,
};
pub use wildcard::{wildcard_match, wildcard_match_ignore_case, Pattern};
