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
        let i = issuer_id();
        assert_eq!(i.len(), 32);
        assert!(i
            .chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));
    }
}
