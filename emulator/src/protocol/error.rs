//! The one error type every AWS-facing handler returns: a code, a message and the HTTP status AWS uses.

use axum::http::StatusCode;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AwsError {
    pub code: &'static str,
    pub message: String,
    pub status: StatusCode,
}

impl AwsError {
    pub fn new(code: &'static str, status: StatusCode, message: impl Into<String>) -> Self {
        AwsError {
            code,
            message: message.into(),
            status,
        }
    }

    pub fn no_such_entity(message: impl Into<String>) -> Self {
        Self::new("NoSuchEntity", StatusCode::NOT_FOUND, message)
    }

    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new("EntityAlreadyExists", StatusCode::CONFLICT, message)
    }

    pub fn delete_conflict(message: impl Into<String>) -> Self {
        Self::new("DeleteConflict", StatusCode::CONFLICT, message)
    }

    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new("LimitExceeded", StatusCode::CONFLICT, message)
    }

    pub fn malformed_policy(message: impl Into<String>) -> Self {
        Self::new("MalformedPolicyDocument", StatusCode::BAD_REQUEST, message)
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new("InvalidInput", StatusCode::BAD_REQUEST, message)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationError", StatusCode::BAD_REQUEST, message)
    }

    /// The exact text AWS's smithy validation produces for a missing required member.
    pub fn missing(member: &str) -> Self {
        Self::validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(member)
        ))
    }

    /// AWS's text for a member that fails a pattern or length constraint.
    pub fn constraint(member: &str, value: &str, constraint: &str) -> Self {
        Self::validation(format!(
            "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: {}",
            value,
            lower_first(member),
            constraint
        ))
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("ServiceFailure", StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// Errors the caller caused are `Sender` faults; AWS marks its own failures `Receiver`.
    pub fn fault_type(&self) -> &'static str {
        if self.status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        }
    }
}

impl From<crate::state::StoreError> for AwsError {
    fn from(err: crate::state::StoreError) -> Self {
        tracing::error!(error = %err, "state store failure");
        AwsError::internal(format!("emulator state store failure: {err}"))
    }
}

impl From<crate::state::Panicked> for AwsError {
    fn from(err: crate::state::Panicked) -> Self {
        AwsError::internal(err.to_string())
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
