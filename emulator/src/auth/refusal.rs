//! Why a call was refused before anyone was authenticated, as the audit log says it: AWS's error stays what
//! the caller gets, the audit line adds what the emulator knows and AWS would not say (which key was unknown,
//! and how to get one that works).

use crate::protocol::AwsError;

/// A refused authentication: the error for the caller, and a hint for the audit line only.
pub struct Refusal {
    pub error: AwsError,
    hint: Option<String>,
}

impl Refusal {
    pub fn plain(error: AwsError) -> Self {
        Refusal { error, hint: None }
    }

    pub fn because(error: AwsError, hint: impl Into<String>) -> Self {
        Refusal {
            error,
            hint: Some(hint.into()),
        }
    }

    /// The audit line's explanation: the error's own message, then the hint.
    pub fn explanation(&self) -> String {
        match &self.hint {
            Some(hint) => format!("{} {hint}", self.error.message.trim_end()),
            None => self.error.message.trim_end().to_string(),
        }
    }
}

pub const WRONG_ADMIN_SECRET: &str = "The access key id is the emulator's admin key, but the request was not signed with its secret: check AWS_SECRET_ACCESS_KEY (eval \"$(irsa-emulator env)\" sets both).";
pub const NO_SESSION_TOKEN: &str =
    "Temporary (ASIA…) credentials need their session token: set AWS_SESSION_TOKEN too.";
pub const NOT_OUR_SESSION: &str = "The session token was not issued by this emulator (or by its state before a reset or a new data dir).";

/// For a key the emulator does not know, e.g. LocalStack's `AWS_ACCESS_KEY_ID=test` habit.
pub fn unknown_key_hint(access_key_id: &str) -> String {
    format!(
        "Access key id '{access_key_id}' is not known to this emulator. Use the emulator's admin credentials: eval \"$(irsa-emulator env)\", or start the emulator with --admin-access-key-id {id} --admin-secret-access-key <secret> to keep the ones you have (e.g. --admin-access-key-id test --admin-secret-access-key test).",
        id = shell_word(access_key_id)
    )
}

/// The key as it can be pasted into a shell command; anything unusual is quoted.
fn shell_word(value: &str) -> String {
    if !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_localstack_habit_gets_the_way_out() {
        let hint = unknown_key_hint("test");
        assert!(hint.contains("'test' is not known"), "{hint}");
        assert!(hint.contains("eval \"$(irsa-emulator env)\""), "{hint}");
        assert!(
            hint.contains("--admin-access-key-id test --admin-secret-access-key test"),
            "{hint}"
        );
        assert!(unknown_key_hint("a b'c").contains("--admin-access-key-id 'a b'\\''c'"));
    }
}
