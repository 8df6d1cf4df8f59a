//! Trust policies shared by many clusters: one statement per OIDC provider (its subjects merged), sized the
//! way IAM sizes them, and a retired provider taken out again. Pure functions over the JSON document.
//!
//! IAM's default quota for a role's trust policy (`ACLSizePerRole`) is 2,048 characters, counted without
//! white space (IAM User Guide, "IAM and AWS STS quotas"; the emulator's `policy_size` does the same), and
//! exceeding it fails with `LimitExceeded: Cannot exceed quota for ACLSizePerRole: 2048` (kubeflow#6687).
//! A statement per EKS cluster costs 428 characters (its 32-character issuer id twice in condition keys and once
//! in the provider ARN), a further subject of the same cluster about 32: four clusters fit, the fifth does not
//! ("only around 5 clusters can be trusted per role", aws/containers-roadmap#1408).

use serde_json::{Map, Value};

pub mod pod_identity;
pub mod remove;

pub use remove::{plan_removal, remove_provider, Removal, TrustingRole};

/// IAM's default trust-policy quota (`ACLSizePerRole`); it can be raised to 4,096 in Service Quotas.
pub const TRUST_POLICY_QUOTA: usize = 2048;

/// The document's size as IAM counts it: compact JSON without space, tab, LF or CR.
pub fn policy_size(document: &Value) -> usize {
    document
        .to_string()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
        .count()
}

/// The statements of a trust policy (a single statement object counts as a list of one).
pub fn statements(trust: &Value) -> Vec<Value> {
    match trust.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    }
}

fn single_string(value: Option<&Value>) -> Option<&str> {
    match value? {
        Value::String(s) => Some(s),
        Value::Array(items) if items.len() == 1 => items[0].as_str(),
        _ => None,
    }
}

/// What makes two IRSA statements mergeable: same provider, same `sub` operator, same audience condition.
#[derive(Debug, PartialEq)]
struct MergeKey {
    provider: String,
    sub_operator: String,
    sub_key: String,
    audience: Option<Value>,
}

/// A plain IRSA statement (Allow, one Federated provider, `sts:AssumeRoleWithWebIdentity`, a `sub`
/// condition and at most an `aud` condition beside it): its merge key and subjects. Anything else is left
/// as written.
fn irsa_parts(statement: &Value) -> Option<(MergeKey, Vec<String>)> {
    let object = statement.as_object()?;
    if object.get("Effect")?.as_str()? != "Allow"
        || object
            .keys()
            .any(|k| !["Sid", "Effect", "Principal", "Action", "Condition"].contains(&k.as_str()))
        || object.get("Sid").is_some_and(|s| s.as_str() != Some(""))
    {
        return None;
    }
    let principal = object.get("Principal")?.as_object()?;
    if principal.len() != 1 {
        return None;
    }
    let provider = single_string(principal.get("Federated"))?.to_string();
    if !single_string(object.get("Action"))?.eq_ignore_ascii_case(irsa_policy::WEB_IDENTITY_ACTION)
    {
        return None;
    }
    let condition = object.get("Condition")?.as_object()?;
    let mut sub: Option<(String, String, Vec<String>)> = None;
    let mut audience = None;
    for (operator, block) in condition {
        for (key, value) in block.as_object()? {
            if key.ends_with(":sub") && sub.is_none() {
                let subjects = match value {
                    Value::String(s) => vec![s.clone()],
                    Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().map(str::to_string))
                        .collect::<Option<_>>()?,
                    _ => return None,
                };
                sub = Some((operator.clone(), key.clone(), subjects));
            } else if key.ends_with(":aud") && operator == "StringEquals" && audience.is_none() {
                audience = Some(value.clone());
            } else {
                return None;
            }
        }
    }
    let (sub_operator, sub_key, subjects) = sub?;
    Some((
        MergeKey {
            provider,
            sub_operator,
            sub_key,
            audience,
        },
        subjects,
    ))
}

/// `statement` with its `sub` values replaced by `subjects` (a string for one, a list for more).
fn with_subjects(statement: &Value, key: &MergeKey, subjects: &[String]) -> Value {
    let mut statement = statement.clone();
    let value = match subjects {
        [one] => Value::String(one.clone()),
        many => Value::Array(many.iter().cloned().map(Value::String).collect()),
    };
    statement["Condition"][&key.sub_operator][&key.sub_key] = value;
    statement
}

/// Merge plain IRSA statements that differ only in their subjects: one statement per provider (and per `sub`
/// operator and audience), subjects in first-seen order. Other statements are kept as they are, in place.
pub fn compact(trust: &Value) -> Value {
    let mut out: Vec<Value> = Vec::new();
    let mut groups: Vec<(MergeKey, usize, Vec<String>)> = Vec::new();
    for statement in statements(trust) {
        match irsa_parts(&statement) {
            Some((key, subjects)) => match groups.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, _, existing)) => {
                    for s in subjects {
                        if !existing.contains(&s) {
                            existing.push(s);
                        }
                    }
                }
                None => {
                    groups.push((key, out.len(), subjects));
                    out.push(statement);
                }
            },
            None => out.push(statement),
        }
    }
    for (key, index, subjects) in &groups {
        out[*index] = with_subjects(&out[*index], key, subjects);
    }
    let mut document = match trust {
        Value::Object(o) => o.clone(),
        _ => Map::new(),
    };
    document
        .entry("Version")
        .or_insert_with(|| Value::String(irsa_policy::VERSION_2012_10_17.into()));
    document.insert("Statement".into(), Value::Array(out));
    Value::Object(document)
}

/// The trust policy with `statement` added, compacted: a subject of a provider the role already trusts joins
/// that provider's statement instead of adding one.
pub fn add_statement(trust: &Value, statement: &Value) -> Value {
    let mut all = statements(trust);
    all.push(statement.clone());
    let mut document = trust.clone();
    if !document.is_object() {
        document = Value::Object(Map::new());
    }
    document["Statement"] = Value::Array(all);
    compact(&document)
}

#[cfg(test)]
mod tests;
