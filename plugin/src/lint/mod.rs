//! Offline policy lint: actions, condition keys and resource ARN shapes checked against AWS's service
//! authorization reference ([`reference`]), with "did you mean" for typos. Only warnings: IAM itself accepts a
//! policy naming an action that does not exist (it simply never matches), which is exactly why a typo such as
//! `s3:GetObjects` goes unnoticed until a pod gets AccessDenied.

mod glob;
pub mod reference;
pub mod suggest;

use irsa_policy::{
    wildcard_match_ignore_case, DocumentKind, PolicyDocument, Statement, ANY_PARTITION,
};
use serde::Serialize;

pub use reference::Reference;
use reference::{Service, GLOBAL_CONDITION_KEYS};

/// One warning about one statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub statement: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// `unknown-service`, `unknown-action`, `action-matches-nothing`, `unknown-condition-key` or
    /// `resource-mismatch`.
    pub kind: &'static str,
    pub message: String,
    /// The likely intended spelling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub did_you_mean: Option<String>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "statement {}", self.statement)?;
        if let Some(sid) = &self.sid {
            write!(f, " (Sid {sid:?})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(d) = &self.did_you_mean {
            write!(f, "; did you mean {d}?")?;
        }
        Ok(())
    }
}

/// Lint a parsed policy against the embedded reference.
pub fn lint(doc: &PolicyDocument) -> Vec<Finding> {
    lint_with(doc, Reference::embedded())
}

/// Lint JSON that may not even be a policy: a document IAM's grammar rejects (irsa-policy's `validate_in`,
/// IAM's checks in IAM's order, any partition since the account's is not known offline) is an error with
/// IAM's message, not a warning.
pub fn lint_value(value: &serde_json::Value) -> Result<Vec<Finding>, String> {
    irsa_policy::validate_in(&value.to_string(), kind_of(value), ANY_PARTITION)
        .map(|doc| lint(&doc))
        .map_err(|e| match e.detail() {
            Some(detail) => format!("{e} ({detail})"),
            None => e.to_string(),
        })
}

/// A document naming a principal is a trust (resource) policy; anything else an identity policy, validated
/// as an inline one (`Version` may be left out).
fn kind_of(value: &serde_json::Value) -> DocumentKind {
    let statements = match value.get("Statement") {
        Some(serde_json::Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    let names_principal = statements
        .iter()
        .any(|st| st.get("Principal").is_some() || st.get("NotPrincipal").is_some());
    if names_principal {
        DocumentKind::Trust
    } else {
        DocumentKind::Inline
    }
}

pub fn lint_with(doc: &PolicyDocument, reference: &Reference) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (index, st) in doc.statements.iter().enumerate() {
        let mut push = |kind, message: String, did_you_mean: Option<String>| {
            findings.push(Finding {
                statement: index,
                sid: st.sid.clone(),
                kind,
                message,
                did_you_mean,
            })
        };
        let actions = st.action.iter().chain(st.not_action.iter()).flatten();
        for action in actions {
            check_action(reference, action, &mut push);
        }
        check_conditions(reference, st, &mut push);
        if st.action.is_some() && !st.has_principal() {
            check_resources(reference, st, &mut push);
        }
    }
    findings
}

type Push<'a> = dyn FnMut(&'static str, String, Option<String>) + 'a;

fn check_action(reference: &Reference, action: &str, push: &mut Push) {
    if action == "*" {
        return;
    }
    let Some((prefix, name)) = action.split_once(':') else {
        return;
    };
    let Some(service) = reference.service(prefix) else {
        let guess = suggest::closest(prefix, reference.services.keys().map(String::as_str));
        push(
            "unknown-service",
            format!("{action}: no AWS service has the prefix {prefix:?}"),
            guess.map(|g| format!("{g}:{name}")),
        );
        return;
    };
    let prefix = prefix.to_ascii_lowercase();
    if name.contains(['*', '?']) {
        if !service
            .actions
            .keys()
            .any(|a| wildcard_match_ignore_case(name, a))
        {
            push(
                "action-matches-nothing",
                format!("{action} matches no {prefix} action"),
                None,
            );
        }
        return;
    }
    if service.action(name).is_none() {
        let guess = suggest::closest(name, service.actions.keys().map(String::as_str));
        push(
            "unknown-action",
            format!("{action} is not a {prefix} action"),
            guess.map(|g| format!("{prefix}:{g}")),
        );
    }
}

/// A documented key (`${…}` matching anything) that names `key`, case-insensitively.
fn key_matches(documented: &str, key: &str) -> bool {
    let mut glob = String::new();
    let mut rest = documented;
    while let Some(start) = rest.find("${") {
        glob.push_str(&rest[..start]);
        glob.push('*');
        rest = rest[start..]
            .find('}')
            .map_or("", |end| &rest[start + end + 1..]);
    }
    glob.push_str(rest);
    wildcard_match_ignore_case(&glob, key)
}

fn check_conditions(reference: &Reference, st: &Statement, push: &mut Push) {
    for condition in &st.conditions {
        let key = condition.key.as_str();
        let Some((vendor, _)) = key.split_once(':') else {
            continue;
        };
        // Keys of identity providers (`oidc.eks…/id/X:sub`, `accounts.google.com:aud`) are not in the reference.
        if vendor.contains(['.', '/']) {
            continue;
        }
        let known: Vec<&str> = if vendor.eq_ignore_ascii_case("aws") {
            GLOBAL_CONDITION_KEYS.to_vec()
        } else {
            match reference.service(vendor) {
                Some(service) => service.condition_keys.iter().map(String::as_str).collect(),
                None => {
                    push(
                        "unknown-condition-key",
                        format!("condition key {key}: no AWS service has the prefix {vendor:?}"),
                        None,
                    );
                    continue;
                }
            }
        };
        if !known.iter().any(|k| key_matches(k, key)) {
            let guess = suggest::closest(key, known.iter().copied());
            push(
                "unknown-condition-key",
                format!("condition key {key} is not documented for {vendor}"),
                guess.map(str::to_string),
            );
        }
    }
}

fn templates<'a>(service: &'a Service, indexes: &[usize]) -> Vec<&'a (String, String)> {
    indexes
        .iter()
        .filter_map(|&i| service.resource_types.get(i))
        .collect()
}

/// Each literal action must be able to apply to at least one of the statement's resources; otherwise the
/// statement grants (or denies) it on nothing, e.g. `s3:GetObject` on `arn:aws:s3:::bucket` (a bucket, not
/// an object).
fn check_resources(reference: &Reference, st: &Statement, push: &mut Push) {
    let Some(resources) = &st.resource else {
        return;
    };
    if resources.iter().any(|r| r == "*") {
        return;
    }
    for action in st.action.iter().flatten() {
        let Some((prefix, name)) = action.split_once(':') else {
            continue;
        };
        if name.contains(['*', '?']) {
            continue;
        }
        let Some(service) = reference.service(prefix) else {
            continue;
        };
        let Some((spelled, indexes)) = service.action(name) else {
            continue;
        };
        let types = templates(service, indexes);
        let full = format!("{}:{spelled}", prefix.to_ascii_lowercase());
        if types.is_empty() {
            push(
                "resource-mismatch",
                format!(
                    "{full} does not support resource-level permissions: it needs \"Resource\": \"*\", and \
                     none of {} applies to it",
                    resources.join(", ")
                ),
                None,
            );
            continue;
        }
        let fits = resources.iter().any(|r| {
            types
                .iter()
                .any(|(_, template)| glob::overlaps(r, template))
        });
        if !fits {
            let wanted: Vec<String> = types
                .iter()
                .map(|(kind, template)| format!("{kind} ({template})"))
                .collect();
            push(
                "resource-mismatch",
                format!(
                    "{full} applies to {}, but no resource of the statement ({}) is one",
                    wanted.join(" or "),
                    resources.join(", ")
                ),
                None,
            );
        }
    }
}

#[cfg(test)]
mod tests;
