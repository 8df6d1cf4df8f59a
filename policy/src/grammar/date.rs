//! The legacy parser's reading of `Date*` condition values: an ISO 8601 date-time, or whole seconds since the
//! epoch. A value it cannot read fails the whole document ("The policy failed legacy parsing").
//!
//! The bounds are Java's (years −292275054 to 292278993, seconds up to 2^63−1); the cases below are IAM's
//! answers as LocalStack recorded them (valid-30, -34 … -37; invalid-64, -72 … -75): `01T` and
//! `2016-12-13t2:00:00.593194+23` are read, `234-13`, `…+1` (a one-digit offset), ten fraction digits and
//! 2^63 are not.

use serde_json::Value;

use crate::error::PolicyError;

/// Every value of every `Date…` operator in a statement's `Condition` must be readable.
pub(super) fn check_conditions(condition: Option<&Value>) -> Result<(), PolicyError> {
    let Some(Value::Object(operators)) = condition else {
        return Ok(());
    };
    for (operator, keys) in operators {
        if !base_name(operator).starts_with("Date") {
            continue;
        }
        let Value::Object(keys) = keys else { continue };
        for values in keys.values() {
            let values = match values {
                Value::Array(items) => items.iter().collect(),
                one => vec![one],
            };
            for value in values {
                let text = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if !readable(&text) {
                    return Err(PolicyError::legacy(format!(
                        "{operator} value {text} is not a date"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// `ForAnyValue:DateLessThanIfExists` → `DateLessThan`.
fn base_name(operator: &str) -> &str {
    let name = operator
        .strip_prefix("ForAnyValue:")
        .or_else(|| operator.strip_prefix("ForAllValues:"))
        .unwrap_or(operator);
    name.strip_suffix("IfExists").unwrap_or(name)
}

fn readable(value: &str) -> bool {
    let lower = value.to_lowercase();
    if lower.contains('t') || lower.contains('-') {
        iso8601(&lower)
    } else {
        integer(&lower).is_some_and(|seconds| seconds >= 0)
    }
}

fn integer(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

fn within(s: &str, low: i64, high: i64) -> bool {
    integer(s).is_some_and(|n| (low..=high).contains(&n))
}

fn iso8601(value: &str) -> bool {
    let (date, time) = value.split_once('t').unwrap_or((value, ""));
    let (negative, date) = match date.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, date),
    };
    let date_parts: Vec<&str> = date.split('-').collect();
    let year = if negative {
        format!("-{}", date_parts[0])
    } else {
        date_parts[0].to_string()
    };
    let date_ok = date_parts.len() < 4
        && within(&year, -292_275_054, 292_278_993)
        && date_parts.get(1).is_none_or(|m| within(m, 1, 12))
        && date_parts.get(2).is_none_or(|d| within(d, 1, 31));
    date_ok && time_of_day(time)
}

fn time_of_day(time: &str) -> bool {
    let parts: Vec<&str> = time.split(':').collect();
    let hours_ok = parts[0].is_empty() || within(parts[0], 0, 23);
    let minutes_ok = parts.get(1).is_none_or(|m| within(m, 0, 59));
    hours_ok && minutes_ok && parts.get(2).is_none_or(|s| seconds_and_zone(s))
}

/// `SS[.fraction]` then `z` or an offset whose hours are two digits; the offset's minutes follow the next
/// colon, where the legacy parser does not look.
fn seconds_and_zone(text: &str) -> bool {
    let seconds = if let Some((seconds, after)) = text.split_once('z') {
        if !after.is_empty() {
            return false;
        }
        seconds
    } else if let Some((seconds, hours)) = text.split_once(['+', '-']) {
        if hours.len() != 2 || !within(hours, 0, 23) {
            return false;
        }
        seconds
    } else {
        text
    };
    match seconds.split_once('.') {
        Some((whole, fraction)) => within(whole, 0, 59) && within(fraction, 0, 999_999_999),
        None => within(seconds, 0, 59),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_iam_reads() {
        for ok in [
            "2017-07-01T00:00:00Z",
            "2019-07-01T13:20:15Z",
            "2016-12-13T21:20:37.593194+00:00",
            "2016-12-13t2:00:00.593194+23",
            "01T",
            "-292275054",
            "2024-01-01",
            "1717200000",
            "9223372036854775807",
        ] {
            assert!(readable(ok), "{ok}");
        }
    }

    #[test]
    fn dates_iam_refuses() {
        for bad in [
            "sdfdsf",
            "234-13",
            "2016-12-13t2:00:00.593194+1",
            "2016-12-13t2:00:00.1999999999+10:59",
            "9223372036854775808",
            "2024-01-01-01",
            "2024-01-01T25:00:00Z",
            "2024-01-01T00:00:00Zx",
        ] {
            assert!(!readable(bad), "{bad}");
        }
    }

    #[test]
    fn operator_qualifiers_are_stripped() {
        assert_eq!(
            base_name("ForAnyValue:DateLessThanIfExists"),
            "DateLessThan"
        );
        assert_eq!(base_name("DateEquals"), "DateEquals");
    }
}
