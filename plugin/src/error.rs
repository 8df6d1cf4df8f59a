//! The plugin's one error type. Every message names the thing that failed and, where there is one, the fix.

use std::path::PathBuf;

/// Everything that can go wrong, by where it went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag or argument is wrong in a way clap cannot see (exit code 2).
    #[error("{0}")]
    Usage(String),

    /// A file the user named cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file the user named is not what it should be (cluster config, policy document).
    #[error("{path}: {message}")]
    InvalidFile { path: PathBuf, message: String },

    /// No usable kubeconfig / context.
    #[error("Kubernetes configuration: {message}")]
    Kubeconfig { message: String },

    /// An AWS API call failed.
    #[error("AWS {operation} failed: {message}{}", hint_suffix(.hint))]
    Aws {
        operation: &'static str,
        /// The AWS error code (`NoSuchEntity`, `AccessDenied`…), empty when the call never got an answer.
        code: String,
        message: String,
        hint: Option<String>,
    },

    /// A Kubernetes API call failed.
    #[error("Kubernetes {operation} failed: {message}{}", hint_suffix(.hint))]
    Kube {
        operation: String,
        /// HTTP status code, 0 when the API server never answered.
        status: u16,
        message: String,
        hint: Option<String>,
    },

    /// The account has no IAM OIDC provider for the cluster's issuer.
    #[error(
        "no IAM OIDC provider for issuer {issuer} (expected {provider_arn}); \
         create it first with: kubectl irsa oidc associate{}", space_before(.associate_args)
    )]
    MissingProvider {
        issuer: String,
        provider_arn: String,
        associate_args: String,
    },

    /// The OIDC provider exists but does not list the audience the tokens will carry.
    #[error(
        "IAM OIDC provider {provider_arn} does not list audience {audience:?} (client IDs: {client_ids}); \
         add it with: kubectl irsa oidc associate{} --audience {audience}", space_before(.associate_args)
    )]
    MissingAudience {
        provider_arn: String,
        audience: String,
        client_ids: String,
        associate_args: String,
    },

    /// An existing role's trust policy does not admit the service account.
    #[error(
        "role {role} exists but its trust policy does not admit {subject}: {explanation}\n\
         the statement that would admit it:\n{wanted}\n\
         fix: re-run with --add-trust to add this statement to the role's trust policy, \
         or choose another --role-name"
    )]
    TrustMismatch {
        role: String,
        subject: String,
        explanation: String,
        wanted: String,
    },

    /// A trust policy would exceed IAM's quota; refused before IAM does.
    #[error(
        "the trust policy of role {role} would be {size} characters (IAM counts it without white space), over \
         the ACLSizePerRole quota of {quota}: IAM would answer LimitExceeded (\"Cannot exceed quota for \
         ACLSizePerRole: {quota}\"). It already trusts {providers} OIDC provider(s). Alternatives: a role per \
         cluster (omit --attach-role-arn: each cluster gets its own role), EKS Pod Identity (one trust statement \
         for pods.eks.amazonaws.com whatever the number of clusters), --subject-pattern to cover several \
         service accounts with one subject, take retired clusters out (kubectl irsa trust remove), or raise \
         the quota in Service Quotas (up to 4096)"
    )]
    TrustTooLarge {
        role: String,
        size: usize,
        quota: usize,
        providers: usize,
    },

    /// The cluster's OIDC issuer could not be determined.
    #[error("cannot determine the cluster's OIDC issuer: {message}")]
    Issuer { message: String },

    /// A TLS connection (thumbprint fetch) failed.
    #[error("TLS connection to {host} failed: {message}")]
    Tls { host: String, message: String },

    /// Something the user asked for conflicts with what exists (e.g. the SA is bound to another role).
    #[error("{0}")]
    Conflict(String),

    /// A thing the command needs does not exist.
    #[error("{0}")]
    NotFound(String),

    /// A step of a plan failed; the steps before it were undone (or could not be).
    #[error("{}", apply_failed_text(.step, .cause, .rolled_back, .rollback_failed))]
    ApplyFailed {
        step: String,
        cause: Box<Error>,
        rolled_back: Vec<String>,
        rollback_failed: Vec<String>,
    },

    /// Several independent operations failed (e.g. entries of a cluster config).
    #[error("{failed} of {total} failed")]
    Several { failed: usize, total: usize },

    /// `diff` found drift (exit code 1, what CI checks for); the differences have been printed.
    #[error("{0}")]
    Drift(String),

    /// `describe` found problems (exit code 3); the report itself has been printed.
    #[error("{0}")]
    Unhealthy(String),
}

fn space_before(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" {s}")
    }
}

fn hint_suffix(hint: &Option<String>) -> String {
    match hint {
        Some(h) => format!("; {h}"),
        None => String::new(),
    }
}

fn apply_failed_text(
    step: &str,
    cause: &Error,
    rolled_back: &[String],
    rollback_failed: &[String],
) -> String {
    let mut s = format!("step failed: {step}: {cause}");
    if rolled_back.is_empty() && rollback_failed.is_empty() {
        s.push_str("\nnothing had been changed before it, so nothing was rolled back");
    }
    if !rolled_back.is_empty() {
        s.push_str("\nrolled back (in reverse order):");
        for r in rolled_back {
            s.push_str("\n  - ");
            s.push_str(r);
        }
    }
    if !rollback_failed.is_empty() {
        s.push_str("\nCOULD NOT ROLL BACK (fix by hand):");
        for r in rollback_failed {
            s.push_str("\n  - ");
            s.push_str(r);
        }
    }
    s
}

impl Error {
    /// The process exit code for this error: 2 for usage errors, 3 for an unhealthy `describe`, else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Unhealthy(_) => 3,
            _ => 1,
        }
    }

    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage(message.into())
    }

    /// True for an AWS "does not exist" answer.
    pub fn is_aws_not_found(&self) -> bool {
        matches!(self, Error::Aws { code, .. }
            if code == "NoSuchEntity" || code == "ResourceNotFoundException")
    }

    /// True for a Kubernetes 404.
    pub fn is_kube_not_found(&self) -> bool {
        matches!(self, Error::Kube { status: 404, .. })
    }

    /// True for a Kubernetes 409 (already exists / conflict).
    pub fn is_kube_conflict(&self) -> bool {
        matches!(self, Error::Kube { status: 409, .. })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_failed_lists_rollback() {
        let e = Error::ApplyFailed {
            step: "attach policy P to role R".into(),
            cause: Box::new(Error::NotFound("policy P does not exist".into())),
            rolled_back: vec!["deleted role R".into()],
            rollback_failed: vec![],
        };
        let text = e.to_string();
        assert!(text.contains("step failed: attach policy P to role R: policy P does not exist"));
        assert!(text.contains("rolled back (in reverse order):\n  - deleted role R"));
        assert_eq!(e.exit_code(), 1);
        assert_eq!(Error::usage("x").exit_code(), 2);
    }

    #[test]
    fn missing_provider_names_the_fix() {
        let e = Error::MissingProvider {
            issuer: "https://i/x".into(),
            provider_arn: "arn:aws:iam::1:oidc-provider/i/x".into(),
            associate_args: "--oidc-issuer https://i/x".into(),
        };
        assert!(e
            .to_string()
            .contains("kubectl irsa oidc associate --oidc-issuer https://i/x"));
    }
}
