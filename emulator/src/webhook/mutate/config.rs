//! What the mutation is configured with (upstream's flags) and what it reads from a ServiceAccount.

use std::collections::BTreeMap;

use irsa_names::{
    AUDIENCE_ANNOTATION, CONTAINER_CREDENTIALS_FULL_URI, DEFAULT_TOKEN_EXPIRATION,
    MIN_TOKEN_EXPIRATION, POD_IDENTITY_AUDIENCE, POD_IDENTITY_TOKEN_FILE_NAME,
    POD_IDENTITY_TOKEN_MOUNT_PATH, POD_IDENTITY_TOKEN_VOLUME, ROLE_ARN_ANNOTATION, STS_AUDIENCE,
    STS_REGIONAL_ENDPOINTS_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION,
};

use super::go::{looks_like_role_arn, parse_go_bool, parse_go_int};

/// What the webhook is configured with (upstream's flags), plus the emulator's additions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutationConfig {
    /// Upstream `--aws-default-region`: sets `AWS_DEFAULT_REGION` and `AWS_REGION` when present.
    pub region: Option<String>,
    /// Upstream `--token-audience`.
    pub default_audience: String,
    /// Upstream `--token-expiration`.
    pub default_token_expiration: i64,
    /// Upstream `--sts-regional-endpoint`.
    pub default_regional_sts: bool,
    /// The container-credentials method (EKS Pod Identity).
    pub pod_identity: PodIdentityConfig,
    /// `None` mutates exactly as upstream does.
    pub additions: Option<EmulatorAdditions>,
}

/// Upstream's `--container-credentials-*` flags, with the defaults EKS runs it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodIdentityConfig {
    /// `--container-credentials-audience`.
    pub audience: String,
    /// `--container-credentials-full-uri`: the agent.
    pub full_uri: String,
    /// `--container-credentials-token-volume-name`.
    pub volume: String,
    /// `--container-credentials-token-mount-path`.
    pub mount_path: String,
    /// `--container-credentials-token-path`.
    pub token_file_name: String,
}

impl Default for PodIdentityConfig {
    fn default() -> Self {
        PodIdentityConfig {
            audience: POD_IDENTITY_AUDIENCE.into(),
            full_uri: CONTAINER_CREDENTIALS_FULL_URI.into(),
            volume: POD_IDENTITY_TOKEN_VOLUME.into(),
            mount_path: POD_IDENTITY_TOKEN_MOUNT_PATH.into(),
            token_file_name: POD_IDENTITY_TOKEN_FILE_NAME.into(),
        }
    }
}

/// What makes a mutated pod talk to the emulator instead of AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorAdditions {
    /// Value of `AWS_ENDPOINT_URL_STS`: the emulator's public URL.
    pub sts_endpoint: String,
    /// Mount the `irsa-emulator-ca` ConfigMap and set `AWS_CA_BUNDLE` (false when serving plain HTTP).
    pub ca_bundle: bool,
}

impl MutationConfig {
    /// Upstream's defaults and nothing else.
    pub fn upstream(region: Option<String>) -> Self {
        MutationConfig {
            region: region.filter(|r| !r.is_empty()),
            default_audience: STS_AUDIENCE.to_string(),
            default_token_expiration: DEFAULT_TOKEN_EXPIRATION,
            default_regional_sts: false,
            pod_identity: PodIdentityConfig::default(),
            additions: None,
        }
    }

    /// Upstream's defaults plus the emulator's additions.
    pub fn emulator(region: Option<String>, sts_endpoint: &str, ca_bundle: bool) -> Self {
        MutationConfig {
            additions: Some(EmulatorAdditions {
                sts_endpoint: sts_endpoint.trim_end_matches('/').to_string(),
                ca_bundle,
            }),
            ..MutationConfig::upstream(region)
        }
    }
}

/// A ServiceAccount's annotations as the webhook reads them (upstream's cache entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountSettings {
    /// `None` (or empty) means the pod is not mutated.
    pub role_arn: Option<String>,
    pub audience: String,
    pub regional_sts: bool,
    pub token_expiration: i64,
}

impl ServiceAccountSettings {
    pub fn from_annotations(
        annotations: Option<&BTreeMap<String, String>>,
        config: &MutationConfig,
    ) -> Self {
        let get = |key: &str| annotations.and_then(|a| a.get(key)).map(String::as_str);
        let role_arn = get(ROLE_ARN_ANNOTATION).map(str::to_string);
        if let Some(arn) = &role_arn {
            if !looks_like_role_arn(arn) {
                tracing::warn!(arn = %arn, "eks.amazonaws.com/role-arn is not a role ARN; using it anyway, as the upstream webhook does");
            }
        }
        ServiceAccountSettings {
            role_arn,
            audience: get(AUDIENCE_ANNOTATION)
                .map(str::to_string)
                .unwrap_or_else(|| config.default_audience.clone()),
            regional_sts: get(STS_REGIONAL_ENDPOINTS_ANNOTATION)
                .and_then(parse_go_bool)
                .unwrap_or(config.default_regional_sts),
            token_expiration: get(TOKEN_EXPIRATION_ANNOTATION)
                .and_then(parse_go_int)
                .map(clamp_token_expiration)
                .unwrap_or(config.default_token_expiration),
        }
    }
}

pub(super) fn clamp_token_expiration(seconds: i64) -> i64 {
    seconds.max(MIN_TOKEN_EXPIRATION)
}
