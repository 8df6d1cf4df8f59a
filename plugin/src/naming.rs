//! Deterministic names: the default role name, derived from cluster, namespace and service account.

use sha2::{Digest, Sha256};

/// IAM's limit on role names.
pub const MAX_ROLE_NAME: usize = 64;

fn hex8(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// Keep what IAM allows in role names (`[\w+=,.@-]`); anything else becomes `-`.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A short, readable label for a cluster: the kubeconfig / EKS name (the part after the last `/` of an EKS
/// ARN), or, when no name is known, 8 hex digits of the issuer's hash.
pub fn cluster_label(cluster_name: Option<&str>, issuer: &str) -> String {
    match cluster_name.map(str::trim).filter(|s| !s.is_empty()) {
        Some(name) => {
            let short = name.rsplit('/').next().unwrap_or(name);
            sanitize(short)
        }
        None => hex8(&irsa_policy::issuer_host_path(issuer)),
    }
}

/// `irsa-<cluster>-<namespace>-<name>`; when that exceeds 64 characters it is cut and ends with 8 hex
/// digits of the full name's hash, so distinct bindings keep distinct names. Never random.
pub fn default_role_name(cluster: &str, namespace: &str, name: &str) -> String {
    let full = sanitize(&format!("irsa-{cluster}-{namespace}-{name}"));
    if full.len() <= MAX_ROLE_NAME {
        return full;
    }
    let hash = hex8(&full);
    let keep = MAX_ROLE_NAME - 1 - hash.len();
    let head = full[..keep].trim_end_matches(['-', '.']);
    format!("{head}-{hash}")
}

/// IAM role name rules: 1–64 of `[\w+=,.@-]`.
pub fn is_valid_role_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ROLE_NAME
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// IAM path rules: `/` or `/…/`, printable ASCII without spaces, at most 512.
pub fn is_valid_role_path(s: &str) -> bool {
    s.starts_with('/')
        && s.ends_with('/')
        && s.len() <= 512
        && !s.contains("//")
        && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_readable() {
        assert_eq!(
            default_role_name("my-cluster", "default", "my-app"),
            "irsa-my-cluster-default-my-app"
        );
    }

    #[test]
    fn long_names_fit_and_stay_distinct() {
        let a = default_role_name("c", &"n".repeat(63), &"a".repeat(100));
        let b = default_role_name("c", &"n".repeat(63), &"b".repeat(100));
        assert_eq!(a.len(), 64);
        assert!(b.len() <= 64);
        assert_ne!(a, b);
        assert!(is_valid_role_name(&a));
        assert_eq!(
            a,
            default_role_name("c", &"n".repeat(63), &"a".repeat(100)),
            "deterministic"
        );
    }

    #[test]
    fn cluster_labels() {
        assert_eq!(
            cluster_label(Some("arn:aws:eks:us-east-1:1:cluster/prod"), "x"),
            "prod"
        );
        assert_eq!(cluster_label(Some("kind-kind"), "x"), "kind-kind");
        let hashed = cluster_label(None, "https://oidc.example.com/id/A");
        assert_eq!(hashed.len(), 8);
        assert_eq!(hashed, cluster_label(None, "oidc.example.com/id/A"));
    }

    #[test]
    fn role_names_and_paths() {
        assert!(is_valid_role_name("a+b=c,d.e@f-g_h"));
        assert!(!is_valid_role_name("a b"));
        assert!(!is_valid_role_name(&"a".repeat(65)));
        assert!(is_valid_role_path("/"));
        assert!(is_valid_role_path("/team/a/"));
        assert!(!is_valid_role_path("team/"));
        assert!(!is_valid_role_path("/a"));
    }
}
