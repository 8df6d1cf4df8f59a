//! Input validation as AWS's Query services do it before any lookup: every constraint of the operation's input
//! shape (required, length, pattern, range, enum) from botocore's service model ([`generated`], written by
//! scripts/gen-input-constraints.py), every violation reported in one "N validation errors detected: …; …".
//!
//! Message forms are AWS's: "Value '<v>' at '<member>' failed to satisfy constraint: Member must …", members
//! named camelCase-initial with list elements as `tags.1.member.key` (as IAM reports them). Within a member the
//! pattern comes before the lengths, as AWS STS reports an empty RoleArn; across members, the model's order.
//! Lengths count characters (code points), not bytes.

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
    let mut violations = Vec::new();
    for member in operation.members {
        check_member(
            params,
            member,
            member.name,
            &lower_first(member.name),
            &mut violations,
        );
    }
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

fn check_member(params: &Params, member: &Member, wire: &str, path: &str, out: &mut Vec<String>) {
    if !present(params, wire, member.shape) {
        if member.required {
            out.push(format!(
                "Value null at '{path}' failed to satisfy constraint: Member must not be null"
            ));
        }
        return;
    }
    check_shape(params, member.shape, member.sensitive, wire, path, out);
}

fn check_shape(
    params: &Params,
    shape: &Shape,
    sensitive: bool,
    wire: &str,
    path: &str,
    out: &mut Vec<String>,
) {
    let fail = |value: &str, constraint: String| {
        let value = if sensitive {
            String::new()
        } else {
            format!(" '{value}'")
        };
        format!("Value{value} at '{path}' failed to satisfy constraint: {constraint}")
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
            for i in 1..=count {
                let element = format!("{wire}.member.{i}");
                let element_path = format!("{path}.{i}.member");
                check_shape(params, member, sensitive, &element, &element_path, out);
            }
        }
        Shape::Structure(members) => {
            for m in members.iter() {
                let wire = format!("{wire}.{}", m.name);
                let path = format!("{path}.{}", lower_first(m.name));
                check_member(params, m, &wire, &path, out);
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
