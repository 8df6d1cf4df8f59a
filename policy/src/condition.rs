//! The `Condition` element: parsing, and evaluation of one condition against a request.
//!
//! IAM's rules, which this module implements and the tests pin down:
//! - several keys under one operator, and several operators, are ANDed (each becomes one [`Condition`]);
//! - several values for one key are ORed; for negated operators (`StringNotEquals`, …) they are NORed;
//! - a key absent from the request makes positive operators false and negated operators true, except
//!   `…IfExists` (true when absent) and `Null` (which tests presence);
//! - `ForAllValues:` is true when every request value matches (vacuously true for an absent/empty key),
//!   `ForAnyValue:` when at least one does (false for an absent key);
//! - keys are case-insensitive; values of string operators are case-sensitive unless `…IgnoreCase`.

use serde_json::Value;

use crate::context::RequestContext;
use crate::error::PolicyError;
pub use crate::operator::{BaseOperator, Operator, SetQualifier};
use crate::scalar::{cidr_contains, parse_cidr, parse_date, parse_number};
use crate::variables::expand;
use crate::wildcard::Pattern;

/// One operator applied to one key with its (ORed) values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: Operator,
    /// The key as written (matching is case-insensitive).
    pub key: String,
    /// The values as written; booleans and numbers are kept in their JSON text form.
    pub values: Vec<String>,
}

/// Why a condition did not hold: what it wanted and what the request had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionFailure {
    /// The full operator, e.g. `StringEquals` or `ForAllValues:StringLike`.
    pub operator: String,
    /// The key as written in the policy.
    pub key: String,
    /// The policy's values, with policy variables substituted where they resolved.
    pub expected: Vec<String>,
    /// The request's values; `None` when the key is absent.
    pub actual: Option<Vec<String>>,
    /// True for negated operators: `expected` lists values the request must *not* have.
    pub negated: bool,
}

/// Parse a whole `Condition` element into its ANDed conditions. An operator with no keys adds nothing, so
/// one IAM does not know is harmless there (and IAM accepts it).
pub(crate) fn parse_block(value: &Value) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(ops) = value else {
        return Err(PolicyError::syntax("Condition must be an object"));
    };
    let mut out = Vec::new();
    for (op_name, keys) in ops {
        let Value::Object(keys) = keys else {
            return Err(PolicyError::syntax(format!(
                "Condition operator {op_name} must map keys to values"
            )));
        };
        if keys.is_empty() {
            continue;
        }
        let operator: Operator = op_name
            .parse()
            .map_err(|_| PolicyError::syntax(format!("unknown condition operator {op_name}")))?;
        for (key, values) in keys {
            out.push(Condition {
                operator,
                key: key.clone(),
                values: scalar_list(values)?,
            });
        }
    }
    Ok(out)
}

fn scalar_list(value: &Value) -> Result<Vec<String>, PolicyError> {
    fn scalar(v: &Value) -> Result<String, PolicyError> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(PolicyError::syntax(format!(
                "condition values must be strings, booleans or numbers, got {other}"
            ))),
        }
    }
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}

impl Condition {
    /// Evaluate against `ctx`. `variables` enables `${…}` substitution (policy Version 2012-10-17).
    pub fn evaluate(&self, ctx: &RequestContext, variables: bool) -> Result<(), ConditionFailure> {
        let op = self.operator;
        let actual = ctx.values(&self.key);
        // Expand variables once; unresolvable values can match nothing and are shown as written.
        let expanded: Vec<(String, Option<Pattern>)> = self
            .values
            .iter()
            .map(|v| {
                let p = if op.base.takes_variables() {
                    expand(v, ctx, variables)
                } else {
                    Some(Pattern::literal(v))
                };
                (v.clone(), p)
            })
            .collect();
        let holds = if op.base == BaseOperator::Null {
            let present = actual.is_some();
            self.values.iter().any(|v| {
                (v.eq_ignore_ascii_case("true") && !present)
                    || (v.eq_ignore_ascii_case("false") && present)
            })
        } else {
            match actual {
                None => {
                    op.if_exists
                        || op.qualifier == Some(SetQualifier::ForAllValues)
                        || (op.qualifier.is_none() && op.base.is_negated())
                }
                Some(actual) => {
                    let mut per_value = actual.iter().map(|a| {
                        match matches_any(op.base.positive(), a, &expanded) {
                            // A request value of the wrong type satisfies neither form of the operator.
                            None => false,
                            Some(m) => m != op.base.is_negated(),
                        }
                    });
                    match op.qualifier {
                        Some(SetQualifier::ForAllValues) => per_value.all(|r| r),
                        Some(SetQualifier::ForAnyValue) => per_value.any(|r| r),
                        // Single-valued use: positive operators need one match, negated ones need none.
                        None if op.base.is_negated() => per_value.all(|r| r),
                        None => per_value.any(|r| r),
                    }
                }
            }
        };
        if holds {
            return Ok(());
        }
        Err(ConditionFailure {
            operator: op.to_string(),
            key: self.key.clone(),
            expected: expanded
                .iter()
                .map(|(raw, p)| match p {
                    Some(p) if op.base.takes_variables() => p.to_glob_string(),
                    _ => raw.clone(),
                })
                .collect(),
            actual: actual.map(<[String]>::to_vec),
            negated: op.base.is_negated(),
        })
    }
}

/// Does request value `actual` match any of the policy values under positive operator `base`?
/// `None` when `actual` is not of the operator's type (not a number, date, IP…).
fn matches_any(
    base: BaseOperator,
    actual: &str,
    expected: &[(String, Option<Pattern>)],
) -> Option<bool> {
    use BaseOperator::*;
    let patterns = || expected.iter().filter_map(|(_, p)| p.as_ref());
    let raws = || expected.iter().map(|(raw, _)| raw.as_str());
    Some(match base {
        StringEquals => patterns().any(|p| p.to_glob_string() == actual),
        StringEqualsIgnoreCase => {
            let a = actual.to_lowercase();
            patterns().any(|p| p.to_glob_string().to_lowercase() == a)
        }
        StringLike => patterns().any(|p| p.matches(actual)),
        NumericEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => {
            let a = parse_number(actual)?;
            raws().filter_map(parse_number).any(|e| compare(base, a, e))
        }
        DateEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => {
            let a = parse_date(actual)?;
            raws().filter_map(parse_date).any(|e| compare(base, a, e))
        }
        Bool => raws().any(|e| e.eq_ignore_ascii_case(actual)),
        BinaryEquals => raws().any(|e| e == actual),
        IpAddress => {
            let ip = actual.trim().parse().ok()?;
            raws()
                .filter_map(parse_cidr)
                .any(|(net, len)| cidr_contains(net, len, ip))
        }
        ArnEquals | ArnLike => patterns().any(|p| arn_like(&p.to_glob_string(), actual)),
        // Negated and Null operators never reach here (callers pass `positive()`, Null is handled apart).
        _ => false,
    })
}

fn compare<T: PartialOrd>(base: BaseOperator, actual: T, expected: T) -> bool {
    use BaseOperator::*;
    match base {
        NumericEquals | DateEquals => actual == expected,
        NumericLessThan | DateLessThan => actual < expected,
        NumericLessThanEquals | DateLessThanEquals => actual <= expected,
        NumericGreaterThan | DateGreaterThan => actual > expected,
        NumericGreaterThanEquals | DateGreaterThanEquals => actual >= expected,
        _ => false,
    }
}

/// `ArnEquals`/`ArnLike`: each of the six `:`-separated components is matched separately (wildcards allowed in
/// each), so `*` cannot swallow a component boundary the way a plain string glob would.
fn arn_like(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if p.len() != 6 || a.len() != 6 {
        return false;
    }
    p.iter()
        .zip(a.iter())
        .all(|(p, a)| Pattern::new(p).matches(a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cond(op: &str, key: &str, values: Value) -> Condition {
        let mut v = parse_block(&json!({ op: { key: values } })).unwrap();
        v.remove(0)
    }

    fn holds(c: &Condition, ctx: &RequestContext) -> bool {
        c.evaluate(ctx, true).is_ok()
    }

    #[test]
    fn missing_keys() {
        let ctx = RequestContext::new("s3:GetObject");
        assert!(!holds(&cond("StringEquals", "aws:x", json!("a")), &ctx));
        assert!(holds(&cond("StringNotEquals", "aws:x", json!("a")), &ctx));
        assert!(holds(
            &cond("StringEqualsIfExists", "aws:x", json!("a")),
            &ctx
        ));
        assert!(holds(
            &cond("ForAllValues:StringEquals", "aws:x", json!("a")),
            &ctx
        ));
        assert!(!holds(
            &cond("ForAnyValue:StringEquals", "aws:x", json!("a")),
            &ctx
        ));
        assert!(holds(&cond("Null", "aws:x", json!("true")), &ctx));
        assert!(!holds(&cond("Null", "aws:x", json!(false)), &ctx));
        let present = ctx.with_key("aws:x", "v");
        assert!(!holds(&cond("Null", "aws:x", json!("true")), &present));
        assert!(holds(&cond("Null", "aws:x", json!("false")), &present));
        assert!(!holds(
            &cond("StringEqualsIfExists", "aws:x", json!("a")),
            &present
        ));
    }

    #[test]
    fn or_and_nor() {
        let ctx = RequestContext::new("s3:GetObject").with_key("s3:prefix", "b");
        assert!(holds(
            &cond("StringEquals", "s3:prefix", json!(["a", "b"])),
            &ctx
        ));
        assert!(!holds(
            &cond("StringNotEquals", "s3:prefix", json!(["a", "b"])),
            &ctx
        ));
        assert!(holds(
            &cond("StringNotEquals", "s3:prefix", json!(["a", "c"])),
            &ctx
        ));
        assert!(holds(
            &cond("StringEqualsIgnoreCase", "S3:PREFIX", json!("B")),
            &ctx
        ));
        assert!(!holds(&cond("StringEquals", "s3:prefix", json!("B")), &ctx));
        assert!(!holds(
            &cond("StringNotEqualsIgnoreCase", "s3:prefix", json!("B")),
            &ctx
        ));
    }

    #[test]
    fn set_qualifiers() {
        let ctx = RequestContext::new("x:y").with_key_values("aws:TagKeys", ["env", "team"]);
        let all = cond(
            "ForAllValues:StringEquals",
            "aws:TagKeys",
            json!(["env", "team", "cost"]),
        );
        assert!(holds(&all, &ctx));
        let all_narrow = cond("ForAllValues:StringEquals", "aws:TagKeys", json!(["env"]));
        assert!(!holds(&all_narrow, &ctx));
        let any = cond("ForAnyValue:StringEquals", "aws:TagKeys", json!(["team"]));
        assert!(holds(&any, &ctx));
        let any_none = cond("ForAnyValue:StringEquals", "aws:TagKeys", json!(["x"]));
        assert!(!holds(&any_none, &ctx));
        let empty = RequestContext::new("x:y").with_key_values("aws:TagKeys", Vec::<String>::new());
        assert!(holds(&all_narrow, &empty));
        let any_not = cond("ForAnyValue:StringNotEquals", "aws:TagKeys", json!(["env"]));
        assert!(holds(&any_not, &ctx));
        let all_not = cond(
            "ForAllValues:StringNotEquals",
            "aws:TagKeys",
            json!(["env"]),
        );
        assert!(!holds(&all_not, &ctx));
    }

    #[test]
    fn typed_operators() {
        let ctx = RequestContext::new("x:y")
            .with_key("aws:MultiFactorAuthAge", "300")
            .with_key("aws:CurrentTime", "2024-06-01T00:00:00Z")
            .with_key("aws:SecureTransport", "true")
            .with_key("aws:SourceIp", "203.0.113.7")
            .with_key("aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:topic");
        let t = |op: &str, key: &str, v: Value| holds(&cond(op, key, v), &ctx);
        assert!(t("NumericLessThan", "aws:MultiFactorAuthAge", json!(3600)));
        assert!(!t(
            "NumericGreaterThan",
            "aws:MultiFactorAuthAge",
            json!("3600")
        ));
        assert!(t("NumericEquals", "aws:MultiFactorAuthAge", json!("300.0")));
        assert!(t("NumericNotEquals", "aws:MultiFactorAuthAge", json!(1)));
        assert!(!t("NumericEquals", "aws:MultiFactorAuthAge", json!("abc")));
        assert!(t("DateGreaterThan", "aws:CurrentTime", json!("2024-01-01")));
        assert!(t("DateLessThan", "aws:CurrentTime", json!("1717200001")));
        assert!(t(
            "DateEquals",
            "aws:CurrentTime",
            json!("2024-06-01T02:00:00+02:00")
        ));
        assert!(!t(
            "DateLessThanEquals",
            "aws:CurrentTime",
            json!("2024-05-31T23:59:59Z")
        ));
        assert!(t("Bool", "aws:SecureTransport", json!(true)));
        assert!(!t("Bool", "aws:SecureTransport", json!("false")));
        assert!(t(
            "IpAddress",
            "aws:SourceIp",
            json!(["10.0.0.0/8", "203.0.113.0/24"])
        ));
        assert!(!t("NotIpAddress", "aws:SourceIp", json!("203.0.113.0/24")));
        assert!(t(
            "ArnLike",
            "aws:SourceArn",
            json!("arn:aws:sns:*:111122223333:*")
        ));
        assert!(t(
            "ArnEquals",
            "aws:SourceArn",
            json!("arn:aws:sns:us-east-1:111122223333:topic")
        ));
        assert!(!t(
            "ArnLike",
            "aws:SourceArn",
            json!("arn:aws:sns:*:999999999999:*")
        ));
        assert!(t("ArnNotLike", "aws:SourceArn", json!("arn:aws:sqs:*:*:*")));
        // A `*` cannot span ARN components.
        assert!(!t("ArnLike", "aws:SourceArn", json!("arn:aws:*:topic")));
        let bad_type = RequestContext::new("x:y").with_key("aws:MultiFactorAuthAge", "abc");
        assert!(!holds(
            &cond("NumericNotEquals", "aws:MultiFactorAuthAge", json!(1)),
            &bad_type
        ));
    }

    #[test]
    fn variables_in_values() {
        let ctx = RequestContext::new("s3:ListBucket")
            .with_key("aws:username", "bob")
            .with_key("s3:prefix", "home/bob/docs");
        let c = cond("StringLike", "s3:prefix", json!("home/${aws:username}/*"));
        assert!(c.evaluate(&ctx, true).is_ok());
        let unresolved = c.evaluate(&ctx, false).unwrap_err();
        assert_eq!(
            unresolved.expected,
            vec!["home/${aws:username}/*".to_string()]
        );
        let miss = cond("StringEquals", "s3:prefix", json!("home/${aws:username}"))
            .evaluate(&ctx, true)
            .unwrap_err();
        assert_eq!(miss.expected, vec!["home/bob".to_string()]);
        assert_eq!(miss.actual, Some(vec!["home/bob/docs".to_string()]));
    }

    #[test]
    fn parse_errors() {
        // Keys need no vendor prefix, and an unknown operator is fine with nothing under it (IAM accepts both:
        // LocalStack's recording of CreatePolicy, valid-19 and valid-32).
        let plain =
            parse_block(&json!({"StringEquals": {"nokey": "x"}, "NoSuchOperator": {}})).unwrap();
        assert_eq!(plain.len(), 1);
        assert_eq!(plain[0].key, "nokey");
        assert!(matches!(
            parse_block(&json!({"NoSuchOperator": {"a:b": "x"}})),
            Err(PolicyError::Syntax { .. })
        ));
        assert!(matches!(
            parse_block(&json!({"StringEquals": "x"})),
            Err(PolicyError::Syntax { .. })
        ));
        assert!(matches!(
            parse_block(&json!({"StringEquals": {"a:b": {"x": 1}}})),
            Err(PolicyError::Syntax { .. })
        ));
        assert!(matches!(
            parse_block(&json!([])),
            Err(PolicyError::Syntax { .. })
        ));
        let c = parse_block(
            &json!({"Bool": {"aws:SecureTransport": false}, "NumericLessThan": {"a:b": [1, 2.5]}}),
        )
        .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].values, vec!["false"]);
        assert_eq!(c[1].values, vec!["1", "2.5"]);
    }
}
