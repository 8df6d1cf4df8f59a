//! Input validation as AWS's Query services do it before any lookup: every constraint of the operation's input
//! shape (required, length, pattern, range, enum) from botocore's service model ([`generated`], written by
//! scripts/gen-input-constraints.py), every violation reported in one "N validation errors detected: …; …".
//!
//! Message forms are AWS's: "Value '<v>' at '<member>' failed to satisfy constraint: Member must …", members
//! named camelCase-initial with list elements as `tags.1.member.key` (as IAM reports them). Within a member the
//! pattern comes before the lengths, as AWS STS reports an empty RoleArn; across members, the model's order for
//! STS and the members' names in alphabetical order for IAM. Lengths count characters (code points), not bytes.
//!
//! IAM words some members differently, as AWS answered LocalStack's recorded requests (tests/aws/services/iam/
//! test_iam_oidc.snapshot.json "…test_create_open_id_connect_provider_validation_errors",
//! test_iam_roles.snapshot.json "…test_role_tag_errors", test_iam_policies.snapshot.json
//! "…test_policy_tag_create_errors" and "…test_policy_version_errors", test_iam_managed_policies.snapshot.json
//! "…test_get_aws_managed_policy_version", February 2026): it does not echo the value of tags, tag keys, an OIDC
//! provider's URL, client ids and thumbprints, or a policy version id ([`IAM_UNECHOED`]; names keep theirs,
//! `Value '%ZZ%4%' at 'roleName'`), it reports a bad element of a list of strings at the list, naming every
//! constraint of the element ("Value at 'clientIDList' failed to satisfy constraint: Member must satisfy
//! constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal
//! to 1]"), and it lists the violations of a request by member name ('clientIDList', 'thumbprintList', 'url').

#[rustfmt::skip]
mod generated;

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;

use super::{AwsError, Params};

/// One operation's input members, in the model's order.
pub struct Operation {
    pub name: &'static str,
    pub members: &'static [Member],
}

pub struct Member {
    /// The wire name (`RoleName`); messages use it camelCase-initial (`roleName`).
    pub name: &'static str,
    pub required: bool,
    /// Sensitive values (web identity tokens) are never echoed back.
    pub sensitive: bool,
    pub shape: &'static Shape,
}

pub enum Shape {
    String(StringRules),
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Boolean,
    List {
        min: usize,
        max: Option<usize>,
        member: &'static Shape,
    },
    Structure(&'static [Member]),
    /// The generator's fallback for types no served operation's input checks (timestamps, blobs).
    #[allow(dead_code)]
    Unchecked,
}

pub struct StringRules {
    pub min: usize,
    pub max: Option<usize>,
    pub pattern: Option<Pattern>,
    /// An enum's values; empty when any string is allowed.
    pub values: &'static [&'static str],
}

/// A model pattern: the Java source AWS names in messages, and the same pattern in Rust's syntax.
pub struct Pattern {
    pub java: &'static str,
    pub rust: &'static str,
}

/// Which service's model to check a request against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    Iam,
    Sts,
}

fn operations(model: Model) -> &'static [Operation] {
    match model {
        Model::Iam => generated::IAM,
        Model::Sts => generated::STS,
    }
}

/// Whether the model has this operation (the emulator serves exactly those it has tables for).
pub fn has_operation(model: Model, action: &str) -> bool {
    operations(model).iter().any(|op| op.name == action)
}

/// Checks `params` against the input shape of `action`; actions without a table pass (they are refused as
/// unknown elsewhere).
pub fn validate(model: Model, action: &str, params: &Params) -> Result<(), AwsError> {
    let Some(operation) = operations(model).iter().find(|op| op.name == action) else {
        return Ok(());
    };
    let mut found = Vec::new();
    for member in operation.members {
        check_member(
            params,
            model,
            member,
            member.name,
            &lower_first(member.name),
            &mut found,
        );
    }
    if model == Model::Iam {
        // Stable: a member's own violations keep their order.
        found.sort_by(|a, b| a.path.cmp(&b.path));
    }
    let violations: Vec<String> = found.into_iter().map(|v| v.text).collect();
    match violations.len() {
        0 => Ok(()),
        1 => Err(AwsError::validation(format!(
            "1 validation error detected: {}",
            violations[0]
        ))),
        n => Err(AwsError::validation(format!(
            "{n} validation errors detected: {}",
            violations.join("; ")
        ))),
    }
}

/// What a list or structure holds on the wire: `Name.member.N` entries, `Name.Field` fields.
fn present(params: &Params, wire: &str, shape: &Shape) -> bool {
    match shape {
        Shape::Structure(members) => members
            .iter()
            .any(|m| present(params, &format!("{wire}.{}", m.name), m.shape)),
        // An empty list is sent as `Name=` (the AWS CLI does so for `--tags '[]'`).
        Shape::List { member, .. } => {
            params.get(wire).is_some() || present(params, &format!("{wire}.member.1"), member)
        }
        _ => params.get(wire).is_some(),
    }
}

/// IAM members (by the first part of their path) whose values IAM's messages leave out.
const IAM_UNECHOED: [&str; 6] = [
    "clientIDList",
    "tagKeys",
    "tags",
    "thumbprintList",
    "url",
    "versionId",
];

/// IAM lists whose elements' constraints end with "Member must not be null" (only `tagKeys`, of those AWS
/// answered for: not `clientIDList` or `thumbprintList`).
const IAM_NON_NULL_ELEMENTS: [&str; 1] = ["tagKeys"];

/// One violation: the member it is at (IAM sorts by it) and the sentence.
struct Violation {
    path: String,
    text: String,
}

fn check_member(
    params: &Params,
    model: Model,
    member: &Member,
    wire: &str,
    path: &str,
    out: &mut Vec<Violation>,
) {
    if !present(params, wire, member.shape) {
        if member.required {
            out.push(Violation {
                path: path.to_string(),
                text: format!(
                    "Value null at '{path}' failed to satisfy constraint: Member must not be null"
                ),
            });
        }
        return;
    }
    check_shape(
        params,
        model,
        member.shape,
        member.sensitive,
        wire,
        path,
        out,
    );
}

fn check_shape(
    params: &Params,
    model: Model,
    shape: &Shape,
    sensitive: bool,
    wire: &str,
    path: &str,
    out: &mut Vec<Violation>,
) {
    let root = path.split('.').next().unwrap_or_default();
    let unechoed = sensitive || (model == Model::Iam && IAM_UNECHOED.contains(&root));
    let fail = |value: &str, constraint: String| {
        let value = if unechoed {
            String::new()
        } else {
            format!(" '{value}'")
        };
        Violation {
            path: path.to_string(),
            text: format!("Value{value} at '{path}' failed to satisfy constraint: {constraint}"),
        }
    };
    match shape {
        Shape::String(rules) => {
            let value = params.get(wire).unwrap_or_default();
            for constraint in string_violations(rules, value) {
                out.push(fail(value, constraint));
            }
        }
        Shape::Integer { min, max } => {
            // A value that is not an integer at all is the handler's to refuse (it parses it).
            let Some(value) = params.get(wire).and_then(|v| v.trim().parse::<i64>().ok()) else {
                return;
            };
            if let Some(min) = min.filter(|min| value < *min) {
                out.push(fail(
                    &value.to_string(),
                    format!("Member must have value greater than or equal to {min}"),
                ));
            }
            if let Some(max) = max.filter(|max| value > *max) {
                out.push(fail(
                    &value.to_string(),
                    format!("Member must have value less than or equal to {max}"),
                ));
            }
        }
        Shape::List { min, max, member } => {
            let count = (1..)
                .take_while(|i| present(params, &format!("{wire}.member.{i}"), member))
                .count();
            if count < *min || max.is_some_and(|max| count > max) {
                let rendered = render_list(params, wire, member, count);
                if count < *min {
                    out.push(fail(
                        &rendered,
                        format!("Member must have length greater than or equal to {min}"),
                    ));
                }
                if let Some(max) = max.filter(|max| count > *max) {
                    out.push(fail(
                        &rendered,
                        format!("Member must have length less than or equal to {max}"),
                    ));
                }
            }
            if let (Model::Iam, Shape::String(rules)) = (model, member) {
                let bad_element = (1..=count).any(|i| {
                    let value = params
                        .get(&format!("{wire}.member.{i}"))
                        .unwrap_or_default();
                    !string_violations(rules, value).is_empty()
                });
                if bad_element {
                    let rendered = render_list(params, wire, member, count);
                    let not_null = IAM_NON_NULL_ELEMENTS.contains(&path);
                    out.push(fail(
                        &rendered,
                        format!(
                            "Member must satisfy constraint: [{}]",
                            element_constraints(rules, not_null).join(", ")
                        ),
                    ));
                }
                return;
            }
            for i in 1..=count {
                let element = format!("{wire}.member.{i}");
                let element_path = format!("{path}.{i}.member");
                check_shape(
                    params,
                    model,
                    member,
                    sensitive,
                    &element,
                    &element_path,
                    out,
                );
            }
        }
        Shape::Structure(members) => {
            for m in members.iter() {
                let wire = format!("{wire}.{}", m.name);
                let path = format!("{path}.{}", lower_first(m.name));
                check_member(params, model, m, &wire, &path, out);
            }
        }
        Shape::Boolean | Shape::Unchecked => {}
    }
}

/// The constraints `value` breaks, in the order AWS names them: pattern, then lengths, then the enum.
fn string_violations(rules: &StringRules, value: &str) -> Vec<String> {
    let mut broken = Vec::new();
    if let Some(pattern) = &rules.pattern {
        if !compiled(pattern).is_match(value) {
            broken.push(format!(
                "Member must satisfy regular expression pattern: {}",
                pattern.java
            ));
        }
    }
    let length = value.chars().count();
    if length < rules.min {
        broken.push(format!(
            "Member must have length greater than or equal to {}",
            rules.min
        ));
    }
    if let Some(max) = rules.max.filter(|max| length > *max) {
        broken.push(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
    if !rules.values.is_empty() && !rules.values.contains(&value) {
        broken.push(format!(
            "Member must satisfy enum value set: [{}]",
            rules.values.join(", ")
        ));
    }
    broken
}

/// Every constraint of a list's string elements, as IAM names them when one element breaks any: the upper
/// bound, the lower, the pattern, then (for some lists) that an element is not null.
fn element_constraints(rules: &StringRules, not_null: bool) -> Vec<String> {
    let mut all = Vec::new();
    if let Some(max) = rules.max {
        all.push(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
    if rules.min > 0 {
        all.push(format!(
            "Member must have length greater than or equal to {}",
            rules.min
        ));
    }
    if let Some(pattern) = &rules.pattern {
        all.push(format!(
            "Member must satisfy regular expression pattern: {}",
            pattern.java
        ));
    }
    if not_null {
        all.push("Member must not be null".to_string());
    }
    all
}

/// A list as Java prints one (`[a, b]`), structures as `{Key: k, Value: v}`. (How AWS prints a list of
/// structures is not documented; the constraint text after it is what clients match.)
fn render_list(params: &Params, wire: &str, member: &Shape, count: usize) -> String {
    let items: Vec<String> = (1..=count)
        .map(|i| {
            let element = format!("{wire}.member.{i}");
            match member {
                Shape::Structure(fields) => {
                    let fields: Vec<String> = fields
                        .iter()
                        .filter_map(|f| {
                            let v = params.get(&format!("{element}.{}", f.name))?;
                            Some(format!("{}: {v}", f.name))
                        })
                        .collect();
                    format!("{{{}}}", fields.join(", "))
                }
                _ => params.get(&element).unwrap_or_default().to_string(),
            }
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn compiled(pattern: &Pattern) -> &'static Regex {
    static COMPILED: OnceLock<HashMap<&'static str, Regex>> = OnceLock::new();
    let all = COMPILED.get_or_init(|| {
        let mut all = HashMap::new();
        for model in [Model::Iam, Model::Sts] {
            for op in operations(model) {
                for member in op.members {
                    collect(member.shape, &mut all);
                }
            }
        }
        all
    });
    &all[pattern.rust]
}

fn collect(shape: &'static Shape, into: &mut HashMap<&'static str, Regex>) {
    match shape {
        Shape::String(StringRules {
            pattern: Some(p), ..
        }) => {
            into.entry(p.rust).or_insert_with(|| {
                Regex::new(p.rust).expect("scripts/gen-input-constraints.py writes valid patterns")
            });
        }
        Shape::List { member, .. } => collect(member, into),
        Shape::Structure(members) => members.iter().for_each(|m| collect(m.shape, into)),
        _ => {}
    }
}

pub(crate) fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
