//! Rendering an [`Evaluation`] as one line a person can act on.
//!
//! The wording is stable (tests and the plugin's `describe` depend on it):
//! `denied: no statement allows <action>; statement 0 (Sid "x") near miss: StringEquals <key>: wanted <v>,
//! token has <v>`. Values that come from a web-identity token are said to be in the "token"; otherwise "request".

use std::fmt;

use crate::condition::ConditionFailure;
use crate::evaluate::{Decision, Evaluation, MissReason};

const MISSING: &str = "(missing)";

impl Evaluation {
    /// A one-line explanation of the decision: the statements that decided it, or, for an implicit deny,
    /// every near miss with the operator, key, wanted and actual values.
    pub fn explain(&self) -> String {
        let label = |policy: usize, statement: usize, sid: &Option<String>| {
            let mut s = if self.policy_count > 1 {
                format!("policy {policy} statement {statement}")
            } else {
                format!("statement {statement}")
            };
            if let Some(sid) = sid.as_deref().filter(|s| !s.is_empty()) {
                s.push_str(&format!(" (Sid \"{sid}\")"));
            }
            s
        };
        let deciding = |effect_is_deny: bool| {
            self.matched
                .iter()
                .filter(|m| (m.effect == crate::Effect::Deny) == effect_is_deny)
                .map(|m| label(m.policy_index, m.statement_index, &m.sid))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self.decision {
            Decision::Allow => format!("allowed: {} allows {}", deciding(false), self.action),
            Decision::ExplicitDeny => {
                format!(
                    "denied: {} explicitly denies {}",
                    deciding(true),
                    self.action
                )
            }
            Decision::ImplicitDeny => {
                let mut out = format!("denied: no statement allows {}", self.action);
                if self.near_misses.is_empty() && self.matched.is_empty() {
                    out.push_str(" (no Allow statement covers this action)");
                }
                let source = if self
                    .action
                    .eq_ignore_ascii_case("sts:AssumeRoleWithWebIdentity")
                {
                    "token"
                } else {
                    "request"
                };
                for nm in &self.near_misses {
                    let reasons: Vec<String> =
                        nm.reasons.iter().map(|r| reason_text(r, source)).collect();
                    out.push_str(&format!(
                        "; {} near miss: {}",
                        label(nm.policy_index, nm.statement_index, &nm.sid),
                        reasons.join("; ")
                    ));
                }
                out
            }
        }
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explain())
    }
}

fn wanted(expected: &[String], negated: bool) -> String {
    match (negated, expected) {
        (false, _) => expected.join(" or "),
        (true, [one]) => format!("not {one}"),
        (true, many) => format!("none of {}", many.join(", ")),
    }
}

fn reason_text(reason: &MissReason, source: &str) -> String {
    match reason {
        MissReason::Principal {
            expected,
            negated,
            actual,
        } => format!(
            "principal: wanted {}, request has {}",
            wanted(expected, *negated),
            actual.as_deref().unwrap_or(MISSING)
        ),
        MissReason::Resource {
            expected,
            negated,
            actual,
        } => format!(
            "resource: wanted {}, request has {}",
            wanted(expected, *negated),
            actual.as_deref().unwrap_or(MISSING)
        ),
        MissReason::Condition(c) => condition_text(c, source),
    }
}

fn condition_text(c: &ConditionFailure, source: &str) -> String {
    let actual = match &c.actual {
        None => MISSING.to_string(),
        Some(values) => values.join(", "),
    };
    let want = if c.operator == "Null" {
        // Null's values say whether the key should be absent ("true") or present ("false").
        if c.expected.iter().any(|v| v.eq_ignore_ascii_case("true")) {
            "the key absent".to_string()
        } else {
            "the key present".to_string()
        }
    } else {
        wanted(&c.expected, c.negated)
    };
    format!(
        "{} {}: wanted {want}, {source} has {actual}",
        c.operator, c.key
    )
}
