//! The first phase: the document's elements and their shapes. Everything wrong here is "Syntax errors in
//! policy." for IAM; the detail says what, for humans.
//!
//! Trust policies keep the wording of IAM's other parser for what they lack ("Missing required field
//! Statement", "… Effect") and call a document that is no JSON object "This policy contains invalid Json"
//! (LocalStack's recording of UpdateAssumeRolePolicy and CreateRole, 2023 and 2026).

use serde_json::Value;

use super::StatementMap;
use crate::document::{VERSION_2008_10_17, VERSION_2012_10_17};
use crate::error::PolicyError;
use crate::operator::Operator;
use crate::validate::DocumentKind;

const DOCUMENT_ELEMENTS: [&str; 3] = ["Version", "Id", "Statement"];

const STATEMENT_ELEMENTS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// The statements of a document whose shape IAM accepts.
pub(super) fn check(
    document: &Value,
    kind: DocumentKind,
) -> Result<Vec<&StatementMap>, PolicyError> {
    let Value::Object(top) = document else {
        let detail = format!("a policy is a JSON object, not {}", json_kind(document));
        return Err(match kind {
            DocumentKind::Trust => PolicyError::InvalidJson { detail },
            _ => PolicyError::syntax(detail),
        });
    };
    if let Some(unknown) = top
        .keys()
        .find(|k| !DOCUMENT_ELEMENTS.contains(&k.as_str()))
    {
        return Err(PolicyError::syntax(format!("unknown element {unknown}")));
    }
    match top.get("Version") {
        None => {}
        Some(Value::String(v)) if v == VERSION_2012_10_17 || v == VERSION_2008_10_17 => {}
        Some(other) => {
            return Err(PolicyError::syntax(format!(
                "Version {other} is neither {VERSION_2012_10_17} nor {VERSION_2008_10_17}"
            )))
        }
    }
    if top.get("Id").is_some_and(|id| !id.is_string()) {
        return Err(PolicyError::syntax("Id must be a string"));
    }
    let statements: Vec<&StatementMap> = match top.get("Statement") {
        None => return Err(missing(kind, "Statement")),
        Some(Value::Object(one)) => vec![one],
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(PolicyError::syntax("Statement is an empty list"))
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_object().ok_or_else(|| {
                    PolicyError::syntax(format!(
                        "statement {} is {}, not an object",
                        i + 1,
                        json_kind(item)
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(PolicyError::syntax(format!(
                "Statement is {}, not an object or a list",
                json_kind(other)
            )))
        }
    };
    for (i, st) in statements.iter().enumerate() {
        statement(st, kind).map_err(|e| match e {
            PolicyError::Syntax { detail } => {
                PolicyError::syntax(format!("statement {}: {detail}", i + 1))
            }
            other => other,
        })?;
    }
    Ok(statements)
}

fn statement(st: &StatementMap, kind: DocumentKind) -> Result<(), PolicyError> {
    if let Some(unknown) = st
        .keys()
        .find(|k| !STATEMENT_ELEMENTS.contains(&k.as_str()))
    {
        return Err(PolicyError::syntax(format!("unknown element {unknown}")));
    }
    for (a, b) in [
        ("Action", "NotAction"),
        ("Resource", "NotResource"),
        ("Principal", "NotPrincipal"),
    ] {
        if st.contains_key(a) && st.contains_key(b) {
            return Err(PolicyError::syntax(format!("both {a} and {b}")));
        }
    }
    match st.get("Effect") {
        None => return Err(missing(kind, "Effect")),
        // The legacy parser is the one that minds the case ("allow" fails there, not here).
        Some(Value::String(e))
            if e.eq_ignore_ascii_case("allow") || e.eq_ignore_ascii_case("deny") => {}
        Some(other) => {
            return Err(PolicyError::syntax(format!(
                "Effect {other} is neither Allow nor Deny"
            )))
        }
    }
    if st.get("Sid").is_some_and(|sid| !sid.is_string()) {
        return Err(PolicyError::syntax("Sid must be a string"));
    }
    for element in ["Action", "NotAction", "Resource", "NotResource"] {
        if let Some(value) = st.get(element) {
            string_or_strings(element, value)?;
        }
    }
    if let Some(condition) = st.get("Condition") {
        condition_block(condition)?;
    }
    Ok(())
}

fn string_or_strings(element: &str, value: &Value) -> Result<(), PolicyError> {
    let ok = match value {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(Value::is_string),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(PolicyError::syntax(format!(
            "{element} must be a string or a list of strings"
        )))
    }
}

/// Operators map keys to values. An operator IAM does not know is accepted only with nothing under it, and
/// keys need no vendor prefix (LocalStack's valid-19, -31 and -32; invalid-52).
fn condition_block(condition: &Value) -> Result<(), PolicyError> {
    let Value::Object(operators) = condition else {
        return Err(PolicyError::syntax("Condition must be an object"));
    };
    for (operator, keys) in operators {
        let Value::Object(keys) = keys else {
            return Err(PolicyError::syntax(format!(
                "Condition operator {operator} must map keys to values"
            )));
        };
        if !keys.is_empty() && operator.parse::<Operator>().is_err() {
            return Err(PolicyError::syntax(format!(
                "unknown condition operator {operator}"
            )));
        }
        for (key, values) in keys {
            let scalar =
                |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
            let ok = match values {
                Value::Array(items) => items.iter().all(scalar),
                one => scalar(one),
            };
            if !ok {
                return Err(PolicyError::syntax(format!(
                    "condition {operator} {key}: values must be strings, numbers or booleans"
                )));
            }
        }
    }
    Ok(())
}

fn missing(kind: DocumentKind, element: &'static str) -> PolicyError {
    match kind {
        DocumentKind::Trust => PolicyError::MissingField(element),
        _ => PolicyError::syntax(format!("{element} is missing")),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
