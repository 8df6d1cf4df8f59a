//! IAM's input rules, with IAM's messages: names, paths, durations, tags and document sizes.

use crate::protocol::AwsError;

const NAME_PATTERN: &str = "[\\w+=,.@-]+";

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c)
}

fn name(member: &str, value: &str, max: usize) -> Result<(), AwsError> {
    if value.is_empty() {
        return Err(AwsError::constraint(
            member,
            value,
            "Member must have length greater than or equal to 1",
        ));
    }
    if value.chars().count() > max {
        return Err(AwsError::constraint(
            member,
            value,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    if !value.chars().all(is_name_char) {
        return Err(AwsError::constraint(
            member,
            value,
            &format!("Member must satisfy regular expression pattern: {NAME_PATTERN}"),
        ));
    }
    Ok(())
}

pub fn role_name(value: &str) -> Result<(), AwsError> {
    name("RoleName", value, 64)
}

pub fn policy_name(value: &str) -> Result<(), AwsError> {
    name("PolicyName", value, 128)
}

/// `/` or `/segments/`, printable ASCII, at most 512 characters.
pub fn path(member: &str, value: &str) -> Result<(), AwsError> {
    let printable = value.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    let shaped =
        value == "/" || (value.len() > 2 && value.starts_with('/') && value.ends_with('/'));
    if value.len() > 512 || !printable || !shaped || value.contains("//") {
        return Err(AwsError::constraint(
            member,
            value,
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ));
    }
    Ok(())
}

/// `PathPrefix` accepts any `/`-led prefix (not only whole paths).
pub fn path_prefix(value: &str) -> Result<(), AwsError> {
    if !value.starts_with('/') || value.len() > 512 {
        return Err(AwsError::constraint(
            "PathPrefix",
            value,
            "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*",
        ));
    }
    Ok(())
}

pub fn description(value: &str) -> Result<(), AwsError> {
    if value.chars().count() > 1000 {
        return Err(AwsError::constraint(
            "Description",
            value,
            "Member must have length less than or equal to 1000",
        ));
    }
    Ok(())
}

pub fn max_session_duration(value: i64) -> Result<(), AwsError> {
    if value < 3600 {
        return Err(AwsError::constraint(
            "MaxSessionDuration",
            &value.to_string(),
            "Member must have value greater than or equal to 3600",
        ));
    }
    if value > 43200 {
        return Err(AwsError::constraint(
            "MaxSessionDuration",
            &value.to_string(),
            "Member must have value less than or equal to 43200",
        ));
    }
    Ok(())
}

/// `MaxItems` with AWS's constraint text (one bound named per message, as AWS's validation reports it).
pub fn max_items(value: Option<i64>) -> Result<usize, AwsError> {
    match value {
        None => Ok(100),
        Some(n) if n < 1 => Err(AwsError::constraint(
            "MaxItems",
            &n.to_string(),
            "Member must have value greater than or equal to 1",
        )),
        Some(n) if n > 1000 => Err(AwsError::constraint(
            "MaxItems",
            &n.to_string(),
            "Member must have value less than or equal to 1000",
        )),
        Some(n) => Ok(n as usize),
    }
}

pub const MAX_TAGS: usize = 50;

/// The tags of one call to a role or an OIDC provider, after the model's constraints (lengths, pattern, at most
/// 50): no `aws:` prefix, and no key twice — compared without case, as IAM compares a role's ("Duplicate tag keys
/// found. Please note that Tag keys are case insensitive.", AWS's InvalidInput for `mykey` and `MyKey` in one
/// CreateRole or TagRole: LocalStack's recording, tests/aws/services/iam/test_iam_roles.snapshot.json
/// "…test_role_tag_errors"). Providers are checked as roles are; no recording says otherwise.
pub fn tags(tags: &[(String, String)]) -> Result<(), AwsError> {
    tag_values(tags)?;
    let mut seen = std::collections::HashSet::new();
    if !tags.iter().all(|(key, _)| seen.insert(key.to_lowercase())) {
        return Err(AwsError::invalid_input(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        ));
    }
    Ok(())
}

/// The tags of a managed policy: keys are case sensitive (`a` and `A` are two tags) and a key twice is
/// "Duplicate tag keys found." (AWS's answers to CreatePolicy recorded by LocalStack,
/// tests/aws/services/iam/test_iam_policies.snapshot.json "…test_policy_tag_lifecycle"
/// create-with-case-sensitive-tags and "…test_policy_tag_create_errors" err-duplicate-keys).
pub fn policy_tags(tags: &[(String, String)]) -> Result<(), AwsError> {
    tag_values(tags)?;
    let mut seen = std::collections::HashSet::new();
    if !tags.iter().all(|(key, _)| seen.insert(key.as_str())) {
        return Err(AwsError::invalid_input("Duplicate tag keys found."));
    }
    Ok(())
}

fn tag_values(tags: &[(String, String)]) -> Result<(), AwsError> {
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 128 {
            return Err(AwsError::constraint(
                "Tags.member.key",
                key,
                "Member must have length between 1 and 128",
            ));
        }
        if value.chars().count() > 256 {
            return Err(AwsError::constraint(
                "Tags.member.value",
                value,
                "Member must have length less than or equal to 256",
            ));
        }
        if key.to_lowercase().starts_with("aws:") {
            return Err(AwsError::invalid_input(
                "User-defined tag keys can't start with the aws: prefix.",
            ));
        }
    }
    Ok(())
}

/// IAM measures policy quotas in characters without white space ("IAM doesn't count white space when
/// calculating the size of a policy", IAM quotas). A document may hold tab, LF, CR and U+0020–U+00FF, so its
/// white space is space, tab, LF and CR; U+00A0 and U+0085 count like any other character (Rust's
/// `char::is_whitespace` would drop them).
pub fn policy_size(document: &str) -> usize {
    document
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
        .count()
}

pub fn within_quota(document: &str, quota: &str, limit: usize) -> Result<(), AwsError> {
    if policy_size(document) > limit {
        return Err(AwsError::limit_exceeded(format!(
            "Cannot exceed quota for {quota}: {limit}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_follow_iam_rules() {
        assert!(role_name("my-role_1+=,.@").is_ok());
        let err = role_name("").unwrap_err();
        assert_eq!(err.code, "ValidationError");
        assert!(
            err.message.contains("greater than or equal to 1"),
            "{}",
            err.message
        );
        assert!(role_name(&"a".repeat(64)).is_ok());
        let err = role_name(&"a".repeat(65)).unwrap_err();
        assert!(
            err.message.contains("less than or equal to 64"),
            "{}",
            err.message
        );
        let err = role_name("bad/name").unwrap_err();
        assert_eq!(err.code, "ValidationError");
        assert!(err.message.contains("'roleName'"), "{}", err.message);
    }

    #[test]
    fn paths_must_be_slash_delimited() {
        assert!(path("Path", "/").is_ok());
        assert!(path("Path", "/a/b/").is_ok());
        for bad in ["", "a/", "/a", "//", "/a b/"] {
            let err = path("Path", bad).expect_err(bad);
            assert_eq!(err.code, "ValidationError", "{bad:?}");
            assert!(
                err.message.contains("regular expression pattern"),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn session_duration_bounds() {
        assert!(max_session_duration(3600).is_ok());
        assert!(max_session_duration(43200).is_ok());
        let low = max_session_duration(3599).unwrap_err();
        assert!(
            low.message.contains("greater than or equal to 3600"),
            "{}",
            low.message
        );
        let high = max_session_duration(43201).unwrap_err();
        assert!(
            high.message.contains("less than or equal to 43200"),
            "{}",
            high.message
        );
        assert_eq!(
            (low.code, high.code),
            ("ValidationError", "ValidationError")
        );
    }

    #[test]
    fn tag_keys_are_compared_without_case() {
        let tags = |keys: &[&str]| -> Vec<(String, String)> {
            keys.iter().map(|k| (k.to_string(), "v".into())).collect()
        };
        assert!(super::tags(&tags(&["Env", "Team"])).is_ok());
        for keys in [&["Env", "env"][..], &["Env", "Team", "ENV"]] {
            let err = super::tags(&tags(keys)).unwrap_err();
            assert_eq!(err.code, "InvalidInput");
            assert_eq!(
                err.message,
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            );
        }
        assert_eq!(
            super::tags(&tags(&["AWS:x"])).unwrap_err().code,
            "InvalidInput"
        );
    }

    #[test]
    fn policy_tag_keys_are_compared_with_case() {
        let tags = |keys: &[&str]| -> Vec<(String, String)> {
            keys.iter().map(|k| (k.to_string(), "v".into())).collect()
        };
        assert!(policy_tags(&tags(&["a", "A"])).is_ok());
        let err = policy_tags(&tags(&["0", "0"])).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            ("InvalidInput", "Duplicate tag keys found.")
        );
    }

    #[test]
    fn quota_ignores_whitespace() {
        assert_eq!(policy_size("{ \"a\" :\n 1 }"), 7);
        assert_eq!(policy_size("\t{\r\n}\n"), 2);
        // No-break space and NEL are characters a document may hold, not white space IAM drops.
        assert_eq!(policy_size("\"a\u{a0}b\u{85}\""), 6);
        assert!(within_quota(&format!("{}{}", "x".repeat(10), " ".repeat(100)), "Q", 10).is_ok());
        assert_eq!(
            within_quota(&"x".repeat(11), "Q", 10).unwrap_err().code,
            "LimitExceeded"
        );
    }
}
