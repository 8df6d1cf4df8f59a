//! IAM's policy grammar: what IAM refuses before it stores a document, checked in the order IAM checks it,
//! with IAM's messages.
//!
//! The order matters because a document with two faults gets the message of the first check that fails, and
//! users (and the AWS CLI's error output) see only that one. IAM runs these phases:
//!
//! 1. syntax: JSON, the elements and their shapes ([`syntax`]) — "Syntax errors in policy.";
//! 2. `Version` (managed policies only) — "Policy document must be version 2012-10-17 or greater.";
//! 3. the legacy parser: `Effect` spelled exactly, readable dates, ARNs with enough parts — "The policy failed
//!    legacy parsing";
//! 4. `Sid`s, then actions present, then resources present;
//! 5. what is wrong with a resource ARN ([`resource`]), then with an action's vendor prefix.
//!
//! Where these come from: IAM's answers to a corpus of 78 invalid and 51 valid documents, recorded against
//! AWS in February 2026 by LocalStack (tests/aws/services/iam/test_iam_policies.py and its snapshot,
//! github.com/localstack/localstack), which match the ones moto collected from AWS in 2019
//! (moto/iam/policy_validation.py, github.com/getmoto/moto) except for the IAM resource-path message; the
//! phases are moto's reading of those answers. The IAM JSON policy grammar
//! (docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html) says what each element may hold.

mod date;
mod resource;
mod syntax;

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::document::VERSION_2012_10_17;
use crate::error::PolicyError;
use crate::validate::DocumentKind;

type StatementMap = Map<String, Value>;

/// Check `document` as IAM does for a document of `kind` in `partition` (`aws`, `aws-cn`, …).
pub(crate) fn check(
    document: &Value,
    kind: DocumentKind,
    partition: &str,
) -> Result<(), PolicyError> {
    let statements = syntax::check(document, kind)?;
    if kind == DocumentKind::Managed {
        require_current_version(document)?;
    }
    if kind != DocumentKind::Trust
        && statements
            .iter()
            .any(|st| st.contains_key("Principal") || st.contains_key("NotPrincipal"))
    {
        return Err(PolicyError::PrincipalNotAllowed);
    }
    let resource_error = legacy_parse(&statements, kind, partition)?;
    check_sids(&statements, kind)?;
    for st in &statements {
        require_nonempty(st, "Action", "NotAction", PolicyError::MissingActions)?;
    }
    if kind != DocumentKind::Trust {
        for st in &statements {
            require_nonempty(st, "Resource", "NotResource", PolicyError::MissingResources)?;
        }
        if let Some(error) = resource_error {
            return Err(error);
        }
    }
    for element in ["Action", "NotAction"] {
        for st in &statements {
            for action in strings(st.get(element)) {
                check_action_prefix(action)?;
            }
        }
    }
    Ok(())
}

fn require_current_version(document: &Value) -> Result<(), PolicyError> {
    match document.get("Version").and_then(Value::as_str) {
        Some(VERSION_2012_10_17) => Ok(()),
        found => Err(PolicyError::VersionTooOld {
            found: found.map(str::to_string),
        }),
    }
}

/// The legacy parser's checks; a resource's first format error is returned for later, because IAM reports
/// it only after `Sid`s, actions and resources pass (an ARN it cannot parse at all fails here, though).
fn legacy_parse(
    statements: &[&StatementMap],
    kind: DocumentKind,
    partition: &str,
) -> Result<Option<PolicyError>, PolicyError> {
    for st in statements {
        if let Some(effect) = st.get("Effect").and_then(Value::as_str) {
            if effect != "Allow" && effect != "Deny" {
                return Err(PolicyError::legacy(format!(
                    "Effect {effect} is not spelled Allow or Deny"
                )));
            }
        }
        date::check_conditions(st.get("Condition"))?;
    }
    if kind == DocumentKind::Trust {
        // A trust policy's Resource is refused outright ("Has prohibited field Resource").
        return Ok(None);
    }
    let mut first_error = None;
    for st in statements {
        for element in ["Resource", "NotResource"] {
            for value in strings(st.get(element)) {
                match resource::check(value, partition) {
                    Err(error) => {
                        first_error.get_or_insert(error);
                    }
                    Ok(()) if !resource::legacy_parses(value) => {
                        return Err(PolicyError::legacy(format!(
                            "{element} {value} has too few parts"
                        )))
                    }
                    Ok(()) => {}
                }
            }
        }
    }
    Ok(first_error)
}

/// Identity policies allow only letters and digits in a `Sid` (trust policies, like other resource-based
/// policies, allow more); empty `Sid`s may repeat.
fn check_sids(statements: &[&StatementMap], kind: DocumentKind) -> Result<(), PolicyError> {
    let sids: Vec<&str> = statements
        .iter()
        .filter_map(|st| st.get("Sid").and_then(Value::as_str))
        .collect();
    if kind != DocumentKind::Trust {
        if let Some(bad) = sids
            .iter()
            .find(|sid| !sid.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(PolicyError::InvalidSid(bad.to_string()));
        }
    }
    let mut seen = BTreeSet::new();
    match sids
        .into_iter()
        .find(|sid| !sid.is_empty() && !seen.insert(*sid))
    {
        Some(duplicate) => Err(PolicyError::DuplicateSid(duplicate.to_string())),
        None => Ok(()),
    }
}

/// One of the pair must be there, and a list must not be empty (a string, even `""`, counts as there).
fn require_nonempty(
    st: &StatementMap,
    element: &str,
    negated: &str,
    missing: PolicyError,
) -> Result<(), PolicyError> {
    match st.get(element).or(st.get(negated)) {
        Some(Value::Array(items)) if items.is_empty() => Err(missing),
        Some(_) => Ok(()),
        None => Err(missing),
    }
}

/// `vendor:action`, one colon, the vendor in letters, digits, `-` and `.`; the action part may hold anything
/// (IAM accepts `iam: asdf safdsf af `).
fn check_action_prefix(action: &str) -> Result<(), PolicyError> {
    let mut parts = action.split(':');
    let vendor = parts.next().unwrap_or_default();
    match (parts.next(), parts.next()) {
        (None, _) if action != "*" => return Err(PolicyError::MissingVendor(action.to_string())),
        (Some(_), Some(_)) => return Err(PolicyError::ExtraColon(action.to_string())),
        _ => {}
    }
    let vendor_ok = vendor == "*"
        || vendor
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !vendor_ok {
        return Err(PolicyError::InvalidVendor(vendor.to_string()));
    }
    Ok(())
}

/// The strings of a string-or-list element the syntax phase has already checked.
fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_prefixes() {
        for ok in [
            "s3:GetObject",
            "*",
            "*:*",
            "s3-object-lambda:Get*",
            "iam: a b ",
            "a.b:c",
        ] {
            assert_eq!(check_action_prefix(ok), Ok(()), "{ok}");
        }
        assert!(matches!(
            check_action_prefix("GetObject"),
            Err(PolicyError::MissingVendor(_))
        ));
        assert!(matches!(
            check_action_prefix(""),
            Err(PolicyError::MissingVendor(_))
        ));
        assert!(matches!(
            check_action_prefix("s3:List:Bucket"),
            Err(PolicyError::ExtraColon(_))
        ));
        assert_eq!(
            check_action_prefix("a a:ListBucket"),
            Err(PolicyError::InvalidVendor("a a".into()))
        );
        assert_eq!(
            check_action_prefix("s3*:Get"),
            Err(PolicyError::InvalidVendor("s3*".into()))
        );
    }
}
