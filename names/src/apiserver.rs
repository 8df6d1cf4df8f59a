//! The kube-apiserver flags that make an API server the issuer of an emulator cluster. The one source for
//! them: `irsa-emulator cluster create` prints them, the e2e tests' local control plane starts kube-apiserver
//! with them, and the kind config (`irsa-kind-config`, `scripts/kind-up.sh`) patches them into kubeadm.

use std::path::Path;

use crate::{KUBERNETES_AUDIENCE, STS_AUDIENCE};

/// `--api-audiences` for a real cluster: its own audience first (the default audience of tokens requested
/// without one), then STS.
pub fn default_api_audiences() -> Vec<String> {
    vec![KUBERNETES_AUDIENCE.to_string(), STS_AUDIENCE.to_string()]
}

/// The issuer flags as `(name, value)` pairs without the leading `--` (the shape of kubeadm's / kind's
/// `apiServer.extraArgs`). Paths are as the API server will see them.
pub fn apiserver_issuer_args(
    issuer: &str,
    signing_key_file: &Path,
    public_key_file: &Path,
    audiences: &[String],
) -> Vec<(&'static str, String)> {
    vec![
        ("service-account-issuer", issuer.to_string()),
        (
            "service-account-signing-key-file",
            signing_key_file.display().to_string(),
        ),
        (
            "service-account-key-file",
            public_key_file.display().to_string(),
        ),
        ("api-audiences", audiences.join(",")),
    ]
}

/// The same flags as kube-apiserver command-line arguments, `--name=value`.
pub fn apiserver_issuer_flags(
    issuer: &str,
    signing_key_file: &Path,
    public_key_file: &Path,
    audiences: &[String],
) -> Vec<String> {
    apiserver_issuer_args(issuer, signing_key_file, public_key_file, audiences)
        .into_iter()
        .map(|(name, value)| format!("--{name}={value}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_flags_are_exact() {
        let flags = apiserver_issuer_flags(
            "https://127.0.0.1:8443/id/ABC",
            Path::new("/k/sa.key"),
            Path::new("/k/sa.pub"),
            &default_api_audiences(),
        );
        assert_eq!(
            flags,
            [
                "--service-account-issuer=https://127.0.0.1:8443/id/ABC",
                "--service-account-signing-key-file=/k/sa.key",
                "--service-account-key-file=/k/sa.pub",
                "--api-audiences=https://kubernetes.default.svc,sts.amazonaws.com",
            ]
        );
    }
}
