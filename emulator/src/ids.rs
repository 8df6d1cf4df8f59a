//! Identifiers shaped like AWS's: a four-letter prefix that says what the id names, then upper-case
//! base-32-ish characters.

use rand::Rng;

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn random_suffix(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Role ids: `AROA` + 17 characters (21 in all), as IAM issues them.
pub fn role_id() -> String {
    format!("AROA{}", random_suffix(17))
}

/// Managed policy ids: `ANPA` + 17 characters.
pub fn policy_id() -> String {
    format!("ANPA{}", random_suffix(17))
}

/// Pod Identity association ids: `a-` + 17 lower-case letters and digits (`a-8mvwvh57cu74mgcst` in the AWS CLI's
/// `create-pod-identity-association` example).
pub fn association_id() -> String {
    const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let suffix: String = (0..17)
        .map(|_| LOWER[rng.gen_range(0..LOWER.len())] as char)
        .collect();
    format!("a-{suffix}")
}

/// EKS-style issuer id: 32 upper-case hex characters.
pub fn issuer_id() -> String {
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| {
            char::from_digit(rng.gen_range(0..16), 16)
                .unwrap_or('0')
                .to_ascii_uppercase()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_aws_shapes() {
        let r = role_id();
        assert_eq!(r.len(), 21);
        assert!(r.starts_with("AROA"));
        assert!(r
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert!(policy_id().starts_with("ANPA"));
        let a = association_id();
        assert_eq!(a.len(), 19);
        assert!(a.starts_with("a-"));
        assert!(a[2..]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        let i = issuer_id();
        assert_eq!(i.len(), 32);
        assert!(i
            .chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));
    }
}
