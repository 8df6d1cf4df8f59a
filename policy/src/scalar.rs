//! Parsing of the typed condition values: numbers, dates and IP ranges.
//!
//! Written by hand to keep the dependency list short; every function returns `None` on anything it does not
//! understand, and a value that does not parse never matches (IAM's behaviour for a type mismatch).

use std::net::IpAddr;

/// A finite number (`"10"`, `"-1.5"`); IAM compares numeric conditions as decimals.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    // Rust also accepts "inf"/"NaN"; IAM does not.
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Milliseconds since the Unix epoch for an ISO 8601 date/time (`2024-01-31`, `2024-01-31T12:00:00Z`,
/// `2024-01-31T12:00:00.250+02:00`, `…T12:00Z`) or a number of epoch seconds (`1706702400`).
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok()?.checked_mul(1000);
    }
    let (date, time) = match s.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut parts = date.splitn(3, '-');
    let year = fixed_digits(parts.next()?, 4)?;
    let month = fixed_digits(parts.next()?, 2)?;
    let day = fixed_digits(parts.next()?, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let millis_of_day = match time {
        None => 0,
        Some(t) => parse_time(t)?,
    };
    days.checked_mul(86_400_000)?.checked_add(millis_of_day)
}

/// `hh:mm[:ss[.fff]]` followed by `Z`, `±hh:mm`, `±hhmm` or nothing (UTC); returns UTC millis of day (may be
/// negative or exceed a day once the offset is applied, which the caller's addition handles).
fn parse_time(t: &str) -> Option<i64> {
    let (clock, offset_ms) = if let Some(c) = t.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if let Some(pos) = t.rfind(['+', '-']) {
        let (c, off) = t.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let off = off.get(1..)?;
        let (oh, om) = match off.split_once(':') {
            Some((h, m)) => (fixed_digits(h, 2)?, fixed_digits(m, 2)?),
            None => (
                fixed_digits(off.get(..2)?, 2)?,
                fixed_digits(off.get(2..)?, 2)?,
            ),
        };
        if oh > 23 || om > 59 {
            return None;
        }
        (c, sign * (oh * 3_600_000 + om * 60_000))
    } else {
        (t, 0)
    };
    let mut hms = clock.splitn(3, ':');
    let hour = fixed_digits(hms.next()?, 2)?;
    let minute = fixed_digits(hms.next()?, 2)?;
    let (second, millis) = match hms.next() {
        None => (0, 0),
        Some(sec) => {
            let (whole, frac) = match sec.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (sec, None),
            };
            let millis = match frac {
                None => 0,
                Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
                    // Keep the first three digits, padding short fractions (".5" = 500 ms).
                    let mut ms: String = f.chars().take(3).collect();
                    while ms.len() < 3 {
                        ms.push('0');
                    }
                    ms.parse::<i64>().ok()?
                }
                Some(_) => return None,
            };
            (fixed_digits(whole, 2)?, millis)
        }
    };
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some((hour * 3600 + minute * 60 + second) * 1000 + millis - offset_ms)
}

fn fixed_digits(s: &str, len: usize) -> Option<i64> {
    if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm); inputs are small so nothing overflows.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An address or CIDR block (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.1`).
pub(crate) fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let s = s.trim();
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a.parse::<IpAddr>().ok()?, Some(l.parse::<u8>().ok()?)),
        None => (s.parse::<IpAddr>().ok()?, None),
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    (len <= max).then_some((addr, len))
}

/// Is `ip` inside the block `net/len`?
pub(crate) fn cidr_contains(net: IpAddr, len: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("10"), Some(10.0));
        assert_eq!(parse_number(" -1.5 "), Some(-1.5));
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("ten"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_date("2024-01-31T12:00:00Z"), Some(1_706_702_400_000));
        assert_eq!(parse_date("1706702400"), Some(1_706_702_400_000));
        assert_eq!(
            parse_date("2024-01-31T14:00:00+02:00"),
            parse_date("2024-01-31T12:00:00Z")
        );
        assert_eq!(
            parse_date("2024-01-31T11:30:00-0030"),
            parse_date("2024-01-31T12:00:00Z")
        );
        assert_eq!(
            parse_date("2024-01-31T12:00:00.5Z"),
            Some(1_706_702_400_500)
        );
        assert_eq!(
            parse_date("2024-01-31T12:00"),
            parse_date("2024-01-31T12:00:00Z")
        );
        assert_eq!(parse_date("2024-02-29"), Some(19_782 * 86_400_000));
        for bad in [
            "",
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "yesterday",
            "2024-01-31T25:00:00Z",
            "99999999999999999999",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn cidrs() {
        let (n, l) = parse_cidr("10.0.0.0/8").unwrap();
        assert!(cidr_contains(n, l, "10.1.2.3".parse().unwrap()));
        assert!(!cidr_contains(n, l, "11.1.2.3".parse().unwrap()));
        let (n, l) = parse_cidr("0.0.0.0/0").unwrap();
        assert!(cidr_contains(n, l, "8.8.8.8".parse().unwrap()));
        let (n, l) = parse_cidr("2001:db8::/32").unwrap();
        assert!(cidr_contains(n, l, "2001:db8::1".parse().unwrap()));
        assert!(!cidr_contains(n, l, "10.0.0.1".parse().unwrap()));
        assert_eq!(parse_cidr("10.0.0.0/33"), None);
        assert_eq!(parse_cidr("nope"), None);
    }
}
