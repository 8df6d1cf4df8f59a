//! The doctor behind `describe` and `list`: facts gathered from AWS and Kubernetes in, checks with a
//! verdict and a fix for each problem out. Pure functions: the I/O is in `commands::describe`.
//!
//! One check per part of the chain STS walks: the annotation, the role, the OIDC
//! provider for the cluster's issuer (with the token's audience), the trust policy (evaluated with
//! `irsa-policy`, which explains a denial), the role's policies, and the pods (did the webhook mutate them?).

mod checks;
pub mod pod_chain;
pub mod pod_identity;
pub mod pod_identity_chain;
mod pod_links;
pub mod pod_spec;
mod pods;
mod render;
pub mod simulate;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use irsa_names::{AUDIENCE_ANNOTATION, ROLE_ARN_ANNOTATION, STS_AUDIENCE};
use irsa_policy::service_account_subject;
use serde::Serialize;
use serde_json::Value;

use crate::aws::{Provider, Role};

pub use checks::looks_like_role_arn_key;
pub use pods::PodFacts;
pub use render::render;

/// A service account as the doctor sees it.
#[derive(Debug, Clone, Default)]
pub struct SaFacts {
    pub namespace: String,
    pub name: String,
    pub annotations: BTreeMap<String, String>,
    pub managed: bool,
}

/// The role behind the annotation.
#[derive(Debug, Clone)]
pub enum RoleFacts {
    /// Not looked up (no usable annotation).
    NotChecked,
    /// The role is in another account than the credentials in use: it cannot be inspected.
    OtherAccount {
        role_account: String,
        caller_account: String,
    },
    Missing,
    Error(String),
    Found {
        role: Box<Role>,
        attached: Vec<String>,
        /// Attached policies that no longer exist.
        missing_policies: Vec<String>,
        inline: Vec<String>,
    },
}

/// The IAM OIDC provider for the cluster's issuer.
#[derive(Debug, Clone)]
pub enum ProviderFacts {
    NotChecked,
    Missing { arn: String },
    Error(String),
    Found(Provider),
}

/// Everything the checks look at.
#[derive(Debug, Clone)]
pub struct Facts {
    pub sa: SaFacts,
    /// The cluster's issuer, or why it could not be determined.
    pub issuer: Result<String, String>,
    pub role: RoleFacts,
    pub provider: ProviderFacts,
    pub pods: Vec<PodFacts>,
    /// `--show-policies`: (policy, document).
    pub documents: Vec<(String, Value)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Skipped,
    Warning,
    Problem,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Skipped => "skipped",
            Status::Warning => "WARNING",
            Status::Problem => "PROBLEM",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub check: &'static str,
    pub status: Status,
    /// A few words for `list`'s STATUS column.
    pub short: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Ok,
    Warnings,
    Problems,
}

/// The two ways a role is bound to a service account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum BindingKind {
    #[default]
    Irsa,
    PodIdentity,
}

impl BindingKind {
    pub fn label(self) -> &'static str {
        match self {
            BindingKind::Irsa => "irsa",
            BindingKind::PodIdentity => "pod-identity",
        }
    }
}

/// The doctor's report for one service account.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    pub namespace: String,
    pub name: String,
    /// How the service account is bound: `irsa` (annotation) or `pod-identity` (EKS association).
    pub kind: BindingKind,
    /// Pod Identity: the association's id and its cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    pub role_arn: Option<String>,
    pub issuer: Option<String>,
    pub verdict: Verdict,
    pub checks: Vec<Check>,
    pub pods: Vec<PodFacts>,
    pub attached_policies: Vec<String>,
    pub inline_policies: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub policy_documents: BTreeMap<String, Value>,
}

impl Diagnosis {
    /// `OK`, or the first problem (else warning) in a few words.
    pub fn status(&self) -> String {
        let worst = self
            .checks
            .iter()
            .filter(|c| c.status == Status::Problem)
            .chain(self.checks.iter().filter(|c| c.status == Status::Warning))
            .next();
        match worst {
            None => "OK".into(),
            Some(c) => c.short.clone(),
        }
    }
}

pub(crate) fn check(
    name: &'static str,
    status: Status,
    short: impl Into<String>,
    message: impl Into<String>,
    fix: Option<String>,
) -> Check {
    Check {
        check: name,
        status,
        short: short.into(),
        message: message.into(),
        fix,
    }
}

/// Who the checks are about: the service account, its token subject and audience.
pub(crate) struct Who<'a> {
    pub ns: &'a str,
    pub name: &'a str,
    pub subject: String,
    pub audience: String,
}

/// Run every check.
pub fn diagnose(facts: &Facts) -> Diagnosis {
    let sa = &facts.sa;
    let who = Who {
        ns: &sa.namespace,
        name: &sa.name,
        subject: service_account_subject(&sa.namespace, &sa.name),
        audience: sa
            .annotations
            .get(AUDIENCE_ANNOTATION)
            .cloned()
            .unwrap_or_else(|| STS_AUDIENCE.to_string()),
    };
    let mut checks = Vec::new();
    let usable_arn = checks::annotation(&who, &sa.annotations, &mut checks);
    let found = checks::role(&who, &facts.role, usable_arn.as_deref(), &mut checks);
    let issuer = facts.issuer.as_ref().ok().cloned();
    checks::provider(&who, &facts.issuer, &facts.provider, &mut checks);
    checks::trust(&who, found.as_ref(), issuer.as_deref(), &mut checks);
    checks::policies(&who, found.as_ref(), &mut checks);
    pods::check_pods(facts, usable_arn.as_deref(), &mut checks);

    let verdict = if checks.iter().any(|c| c.status == Status::Problem) {
        Verdict::Problems
    } else if checks.iter().any(|c| c.status == Status::Warning) {
        Verdict::Warnings
    } else {
        Verdict::Ok
    };
    let (attached, inline) = match &found {
        Some(f) => (f.attached.to_vec(), f.inline.to_vec()),
        None => (Vec::new(), Vec::new()),
    };
    Diagnosis {
        namespace: sa.namespace.clone(),
        name: sa.name.clone(),
        kind: BindingKind::Irsa,
        association: None,
        cluster: None,
        role_arn: sa.annotations.get(ROLE_ARN_ANNOTATION).cloned(),
        issuer,
        verdict,
        checks,
        pods: facts.pods.clone(),
        attached_policies: attached,
        inline_policies: inline,
        policy_documents: facts.documents.iter().cloned().collect(),
    }
}
