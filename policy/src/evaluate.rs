//! Policy evaluation that keeps its evidence.
//!
//! The logic is IAM's for a set of policies in one account: an explicit `Deny` wins, then any `Allow`, else
//! the request is implicitly denied. What this adds is the record of *why*: which statements matched, and for
//! `Allow` statements that almost did ("near misses": the action matched but the principal, resource or a
//! condition did not), exactly which part failed, with wanted and actual values. That record is what turns
//! "AccessDenied" into "the trust policy wants namespace default, the token says dev".

use crate::condition::ConditionFailure;
use crate::context::RequestContext;
use crate::document::{Effect, PolicyDocument, Principal, Statement};
use crate::variables::expand;
use crate::wildcard::wildcard_match_ignore_case;

/// The outcome of evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    /// A `Deny` statement matched; nothing can override it.
    ExplicitDeny,
    /// No statement allowed the request.
    ImplicitDeny,
}

/// A statement that matched the request entirely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementMatch {
    /// Index of the policy in the slice given to [`evaluate`].
    pub policy_index: usize,
    /// Index of the statement within its policy.
    pub statement_index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
}

/// One part of a statement that did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissReason {
    /// The `Principal` (or, with `negated`, `NotPrincipal`) did not admit the caller.
    Principal {
        expected: Vec<String>,
        negated: bool,
        /// The caller, e.g. `Federated arn:…`; `None` when anonymous.
        actual: Option<String>,
    },
    /// The `Resource` (or `NotResource`) did not cover the request's resource.
    Resource {
        expected: Vec<String>,
        negated: bool,
        actual: Option<String>,
    },
    /// A condition did not hold.
    Condition(ConditionFailure),
}

/// An `Allow` statement whose action matched but which failed elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearMiss {
    pub policy_index: usize,
    pub statement_index: usize,
    pub sid: Option<String>,
    /// Every part that failed, in the order principal, resource, conditions.
    pub reasons: Vec<MissReason>,
}

impl NearMiss {
    /// The failed conditions only.
    pub fn condition_failures(&self) -> impl Iterator<Item = &ConditionFailure> {
        self.reasons.iter().filter_map(|r| match r {
            MissReason::Condition(c) => Some(c),
            _ => None,
        })
    }
}

/// The decision and its evidence. See [`Evaluation::explain`] for the human rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    /// Every statement that matched, `Allow` and `Deny`.
    pub matched: Vec<StatementMatch>,
    /// `Allow` statements that matched the action but not the rest.
    pub near_misses: Vec<NearMiss>,
    /// The action evaluated (for the explanation).
    pub action: String,
    /// How many policies were evaluated (statements are labelled with their policy when more than one).
    pub policy_count: usize,
}

impl Evaluation {
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }
}

/// Evaluate identity-style: a statement's principal is only checked when it has a `Principal`/`NotPrincipal`
/// element (trust and resource policies), so the same function serves identity and trust policies.
pub fn evaluate(docs: &[&PolicyDocument], ctx: &RequestContext) -> Evaluation {
    let mut matched = Vec::new();
    let mut near_misses = Vec::new();
    for (policy_index, doc) in docs.iter().enumerate() {
        let variables = doc.supports_variables();
        for (statement_index, st) in doc.statements.iter().enumerate() {
            if !action_matches(st, &ctx.action) {
                continue;
            }
            let mut reasons = Vec::new();
            reasons.extend(principal_miss(st, ctx));
            reasons.extend(resource_miss(st, ctx, variables));
            reasons.extend(
                st.conditions
                    .iter()
                    .filter_map(|c| c.evaluate(ctx, variables).err())
                    .map(MissReason::Condition),
            );
            if reasons.is_empty() {
                matched.push(StatementMatch {
                    policy_index,
                    statement_index,
                    sid: st.sid.clone(),
                    effect: st.effect,
                });
            } else if st.effect == Effect::Allow {
                near_misses.push(NearMiss {
                    policy_index,
                    statement_index,
                    sid: st.sid.clone(),
                    reasons,
                });
            }
        }
    }
    let decision = if matched.iter().any(|m| m.effect == Effect::Deny) {
        Decision::ExplicitDeny
    } else if matched.iter().any(|m| m.effect == Effect::Allow) {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    };
    Evaluation {
        decision,
        matched,
        near_misses,
        action: ctx.action.clone(),
        policy_count: docs.len(),
    }
}

/// Actions match case-insensitively, with wildcards.
fn action_matches(st: &Statement, action: &str) -> bool {
    let any = |patterns: &[String]| {
        patterns
            .iter()
            .any(|p| wildcard_match_ignore_case(p, action))
    };
    match (&st.action, &st.not_action) {
        (Some(a), _) => any(a),
        (None, Some(na)) => !any(na),
        (None, None) => false,
    }
}

fn principal_text(p: &Principal) -> Vec<String> {
    match p {
        Principal::Any => vec!["*".to_string()],
        Principal::Named(entries) => entries.iter().map(ToString::to_string).collect(),
    }
}

fn principal_miss(st: &Statement, ctx: &RequestContext) -> Option<MissReason> {
    let who = ctx.principal.as_ref();
    let (principal, negated) = match (&st.principal, &st.not_principal) {
        (Some(p), _) => (p, false),
        (None, Some(np)) => (np, true),
        (None, None) => return None,
    };
    let named = who.is_some_and(|w| principal.matches(w));
    // An anonymous caller is named by "*" only; it is never in a NotPrincipal list.
    let ok = if negated {
        !named
    } else {
        named || (who.is_none() && *principal == Principal::Any)
    };
    (!ok).then(|| MissReason::Principal {
        expected: principal_text(principal),
        negated,
        actual: who.map(ToString::to_string),
    })
}

/// Resources match case-sensitively with wildcards and policy variables. A request without a resource is
/// treated as IAM treats actions without resource-level permissions: as the resource `*`.
fn resource_miss(st: &Statement, ctx: &RequestContext, variables: bool) -> Option<MissReason> {
    let (patterns, negated) = match (&st.resource, &st.not_resource) {
        (Some(r), _) => (r, false),
        (None, Some(nr)) => (nr, true),
        (None, None) => return None,
    };
    let target = ctx.resource.as_deref().unwrap_or("*");
    let any = patterns
        .iter()
        .any(|p| expand(p, ctx, variables).is_some_and(|pattern| pattern.matches(target)));
    (any == negated).then(|| MissReason::Resource {
        expected: patterns.clone(),
        negated,
        actual: ctx.resource.clone(),
    })
}
