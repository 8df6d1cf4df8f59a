//! Go's parsing, as upstream's webhook applies it to annotations: `strconv.ParseBool`, `strconv.ParseInt`,
//! `encoding/csv`, and its role ARN pattern.

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseInt(value, 10, 64)`: optional sign, ASCII digits, nothing else.
pub fn parse_go_int(value: &str) -> Option<i64> {
    let digits = value.strip_prefix(['+', '-']).unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// The first record of `input` as Go's `encoding/csv` reads it (comma separated, `"`-quoted fields with `""`
/// escapes, blank lines skipped); `None` where Go reports an error (no record, bare or unterminated quote).
pub fn first_csv_record(input: &str) -> Option<Vec<String>> {
    let mut rest = input;
    loop {
        if let Some(r) = rest.strip_prefix('\n') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("\r\n") {
            rest = r;
        } else {
            break;
        }
    }
    if rest.is_empty() {
        return None;
    }
    let chars: Vec<char> = rest.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let end_of_line =
        |i: usize| at(i) == Some('\n') || (at(i) == Some('\r') && at(i + 1) == Some('\n'));
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        let mut field = String::new();
        if at(i) == Some('"') {
            i += 1;
            loop {
                match at(i) {
                    None => return None,
                    Some('"') if at(i + 1) == Some('"') => {
                        field.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        if at(i).is_none() || end_of_line(i) {
                            fields.push(field);
                            return Some(fields);
                        }
                        if at(i) == Some(',') {
                            i += 1;
                            fields.push(field);
                            break;
                        }
                        return None;
                    }
                    Some('\r') if at(i + 1) == Some('\n') => {
                        field.push('\n');
                        i += 2;
                    }
                    Some(c) => {
                        field.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            loop {
                if at(i).is_none() || end_of_line(i) {
                    fields.push(field);
                    return Some(fields);
                }
                match at(i) {
                    Some(',') => {
                        i += 1;
                        fields.push(field);
                        break;
                    }
                    Some('"') => return None,
                    Some(c) => {
                        field.push(c);
                        i += 1;
                    }
                    None => unreachable!("checked above"),
                }
            }
        }
    }
}

/// Upstream's (warning-only) role ARN check: `^arn:aws[a-z0-9-]*:iam::\d{12}:role\/[\w-\/.@+=,]+$`.
pub(super) fn looks_like_role_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws") else {
        return false;
    };
    let Some((partition_suffix, rest)) = rest.split_once(':') else {
        return false;
    };
    if !partition_suffix
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return false;
    }
    let Some(rest) = rest.strip_prefix("iam::") else {
        return false;
    };
    let Some((account, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some(name) = rest.strip_prefix("role/") else {
        return false;
    };
    account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "_-/.@+=,".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::111122223333:role/s3-reader";

    #[test]
    fn csv_matches_go() {
        let record = |s: &str| first_csv_record(s);
        assert_eq!(record("a,b"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(record("a, b"), Some(vec!["a".into(), " b".into()]));
        assert_eq!(record("a,"), Some(vec!["a".into(), "".into()]));
        assert_eq!(record("\"a,b\",c"), Some(vec!["a,b".into(), "c".into()]));
        assert_eq!(record("\"a\"\"b\""), Some(vec!["a\"b".into()]));
        assert_eq!(record("\n\na,b\nc"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(record("a\r\nb"), Some(vec!["a".into()]));
        assert_eq!(record(""), None);
        assert_eq!(record("a\"b"), None);
        assert_eq!(record("\"ab"), None);
        assert_eq!(record("\"a\"b"), None);
    }

    #[test]
    fn go_int_parsing() {
        assert_eq!(parse_go_int("600"), Some(600));
        assert_eq!(parse_go_int("+600"), Some(600));
        assert_eq!(parse_go_int("-1"), Some(-1));
        assert_eq!(parse_go_int(" 1"), None);
        assert_eq!(parse_go_int("1_000"), None);
        assert_eq!(parse_go_int(""), None);
        assert_eq!(parse_go_int("99999999999999999999"), None);
    }

    #[test]
    fn role_arn_shape() {
        assert!(looks_like_role_arn(ROLE));
        assert!(looks_like_role_arn(
            "arn:aws-us-gov:iam::111122223333:role/path/name@x"
        ));
        assert!(!looks_like_role_arn("s3-reader"));
        assert!(!looks_like_role_arn("arn:aws:iam::1111:role/x"));
    }
}
