//! What the control plane is configured with: the issuer, its key files, the audiences.

use std::path::PathBuf;

use anyhow::{bail, Result};

use super::STS_AUDIENCE;

/// How the control plane issues service-account tokens.
#[derive(Debug, Clone)]
pub struct ControlPlaneConfig {
    /// `--service-account-issuer`: the `iss` of every token it signs.
    pub issuer: String,
    /// `--service-account-signing-key-file`: PEM private key (PKCS#1 or PKCS#8).
    pub signing_key_file: PathBuf,
    /// `--service-account-key-file`: PEM public key verifying those tokens.
    pub public_key_file: PathBuf,
    /// `--api-audiences`; must include [`STS_AUDIENCE`].
    pub api_audiences: Vec<String>,
}

impl ControlPlaneConfig {
    /// A config whose `api_audiences` is just [`STS_AUDIENCE`].
    pub fn new(
        issuer: impl Into<String>,
        signing_key_file: impl Into<PathBuf>,
        public_key_file: impl Into<PathBuf>,
    ) -> Self {
        ControlPlaneConfig {
            issuer: issuer.into(),
            signing_key_file: signing_key_file.into(),
            public_key_file: public_key_file.into(),
            api_audiences: vec![STS_AUDIENCE.to_string()],
        }
    }

    pub(super) fn validate(&self) -> Result<()> {
        if self.issuer.trim().is_empty() {
            bail!("ControlPlaneConfig.issuer is empty");
        }
        for (what, path) in [
            ("signing_key_file", &self.signing_key_file),
            ("public_key_file", &self.public_key_file),
        ] {
            if !path.is_file() {
                bail!("ControlPlaneConfig.{what} {} is not a file", path.display());
            }
        }
        if !self.api_audiences.iter().any(|a| a == STS_AUDIENCE) {
            bail!(
                "ControlPlaneConfig.api_audiences {:?} must include {STS_AUDIENCE:?}",
                self.api_audiences
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn config_requires_sts_audience() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k");
        fs::write(&key, "x").unwrap();
        let mut cfg = ControlPlaneConfig::new("https://issuer", &key, &key);
        assert!(cfg.validate().is_ok());
        cfg.api_audiences = vec!["https://kubernetes.default.svc".into()];
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("sts.amazonaws.com"), "{err}");
    }
}
