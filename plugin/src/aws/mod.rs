//! AWS: SDK configuration (standard chain, `--region`, `--profile`, `AWS_ENDPOINT_URL`, `AWS_CA_BUNDLE`) and
//! the IAM / EKS calls the plugin makes, returning plain types: roles and policies in `roles`, OIDC providers
//! in `providers`.
//!
//! aws-sdk-rust honours `AWS_ENDPOINT_URL` by itself but not `AWS_CA_BUNDLE`: the HTTPS client is built here
//! with the platform's roots plus that bundle, so the emulator's (or a corporate proxy's) CA is trusted.

mod listing;
mod pod_identity;
mod providers;
mod roles;

use std::fmt::Debug;
use std::path::PathBuf;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use irsa_policy::{partition_of_region, Account};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde_json::Value;

use crate::error::{Error, Result};

/// Tag key and value on everything kubectl-irsa creates in IAM.
pub const MANAGED_BY_TAG: &str = "managed-by";
pub const MANAGED_BY_VALUE: &str = "kubectl-irsa";
/// Region used when none is configured: IAM is global and signs in us-east-1.
pub const FALLBACK_REGION: &str = "us-east-1";

/// How to reach AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Attempts per call, including the first (throttling and transient errors are retried with backoff).
    pub max_attempts: u32,
}

/// The PEM file named by `AWS_CA_BUNDLE`, if set.
pub fn ca_bundle_path() -> Option<PathBuf> {
    std::env::var_os("AWS_CA_BUNDLE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The certificates in `AWS_CA_BUNDLE` (empty when unset). A bundle without any certificate is an error:
/// silently trusting nothing extra would turn into a confusing TLS failure later.
pub fn ca_bundle_certs() -> Result<Vec<CertificateDer<'static>>> {
    let Some(path) = ca_bundle_path() else {
        return Ok(Vec::new());
    };
    let pem = std::fs::read(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::InvalidFile {
            path: path.clone(),
            message: format!("AWS_CA_BUNDLE is not a PEM certificate bundle: {e}"),
        })?;
    if certs.is_empty() {
        return Err(Error::InvalidFile {
            path,
            message: "AWS_CA_BUNDLE contains no PEM certificate (-----BEGIN CERTIFICATE-----)"
                .into(),
        });
    }
    Ok(certs)
}

fn http_client() -> Result<aws_sdk_iam::config::SharedHttpClient> {
    let mut trust = TrustStore::default();
    if let Some(path) = ca_bundle_path() {
        ca_bundle_certs()?;
        let pem = std::fs::read(&path).map_err(|source| Error::Io { path, source })?;
        trust = trust.with_pem_certificate(pem);
    }
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|e| Error::Tls {
            host: "AWS".into(),
            message: format!("cannot build the TLS configuration: {e}"),
        })?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(context)
        .build_https())
}

/// Load the SDK configuration the way the AWS CLI does, plus `AWS_CA_BUNDLE`.
pub async fn sdk_config(settings: &AwsSettings) -> Result<SdkConfig> {
    let attempts = settings.max_attempts.max(1);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client()?)
        .retry_config(RetryConfig::standard().with_max_attempts(attempts));
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Ok(config
            .to_builder()
            .region(Region::new(FALLBACK_REGION))
            .build());
    }
    Ok(config)
}

/// Turn an SDK error into ours: the AWS code and message when AWS answered, else the whole cause chain and
/// a hint at what to check.
pub fn aws_error<E, R>(operation: &'static str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug,
{
    let code = err.code().unwrap_or_default().to_string();
    let (message, hint) = match &err {
        SdkError::ServiceError(_) => {
            let message = err.message().unwrap_or("(no message)").to_string();
            (message, hint_for_code(&code, operation))
        }
        _ => {
            let text = DisplayErrorContext(&err).to_string();
            let hint = if text.contains("credentials") || text.contains("Credentials") {
                "no usable AWS credentials: run `aws configure`, set AWS_PROFILE / --profile, or export \
                 AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            } else if text.contains("certificate") || text.contains("UnknownIssuer") {
                "the endpoint's TLS certificate is not trusted: set AWS_CA_BUNDLE to its CA (PEM)"
            } else {
                "AWS could not be reached: check the network, AWS_ENDPOINT_URL and --region"
            };
            (text, Some(hint.to_string()))
        }
    };
    Error::Aws {
        operation,
        code,
        message,
        hint,
    }
}

fn hint_for_code(code: &str, operation: &str) -> Option<String> {
    let hint = match code {
        "AccessDenied" | "AccessDeniedException" => {
            format!("the AWS identity in use is not allowed to call {operation}")
        }
        "InvalidClientTokenId" | "SignatureDoesNotMatch" | "UnrecognizedClientException" => {
            "the AWS credentials are not valid: check AWS_ACCESS_KEY_ID / AWS_PROFILE".to_string()
        }
        "ExpiredToken" | "ExpiredTokenException" => {
            "the AWS session has expired: refresh your credentials (e.g. aws sso login)".to_string()
        }
        _ => return None,
    };
    Some(hint)
}

/// IAM returns policy documents URL-encoded; decode and parse.
pub fn decode_document(encoded: &str) -> Result<Value> {
    let decoded = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .map_err(|e| Error::Aws {
            operation: "decode policy document",
            code: String::new(),
            message: e.to_string(),
            hint: None,
        })?;
    // Some implementations return the JSON as is; percent-decoding plain JSON is harmless unless it contains
    // a literal '%', in which case parse the original.
    serde_json::from_str(&decoded)
        .or_else(|_| serde_json::from_str(encoded))
        .map_err(|e| Error::Aws {
            operation: "decode policy document",
            code: String::new(),
            message: format!("policy document is not JSON: {e}"),
            hint: None,
        })
}

/// Serialize `[(key, value)]` tag lists as a JSON/YAML object, the way people read tags.
pub fn tags_as_map<S, V>(tags: &[(String, V)], serializer: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
    V: serde::Serialize,
{
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(tags.len()))?;
    for (k, v) in tags {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

pub use listing::ListedRole;
pub use pod_identity::Association;
pub use providers::Provider;
pub use roles::{NewRole, Role};

pub(crate) fn iam_tags(tags: &[(String, String)]) -> Result<Vec<aws_sdk_iam::types::Tag>> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| Error::usage(format!("invalid tag {k}={v}: {e}")))
        })
        .collect()
}

pub(crate) fn tag_pairs(tags: &[aws_sdk_iam::types::Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// IAM and EKS clients.
#[derive(Clone, Debug)]
pub struct Aws {
    pub iam: aws_sdk_iam::Client,
    pub eks: aws_sdk_eks::Client,
    pub sts: aws_sdk_sts::Client,
    pub region: String,
}

impl Aws {
    pub async fn connect(settings: &AwsSettings) -> Result<Aws> {
        let config = sdk_config(settings).await?;
        Ok(Aws::from_config(&config))
    }

    pub fn from_config(config: &SdkConfig) -> Aws {
        Aws {
            iam: aws_sdk_iam::Client::new(config),
            eks: aws_sdk_eks::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            region: config
                .region()
                .map(|r| r.to_string())
                .unwrap_or_else(|| FALLBACK_REGION.to_string()),
        }
    }

    /// The calling identity's account and its partition (STS GetCallerIdentity): the caller's ARN says
    /// `aws`, `aws-cn` or `aws-us-gov`, so every ARN the plugin mints is in the partition IAM will accept.
    pub async fn account(&self) -> Result<Account> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| aws_error("sts:GetCallerIdentity", e))?;
        let Some(id) = out.account else {
            return Err(Error::Aws {
                operation: "sts:GetCallerIdentity",
                code: String::new(),
                message: "the answer has no Account".into(),
                hint: None,
            });
        };
        let partition = out.arn.as_deref().and_then(Account::of_arn).map_or_else(
            || partition_of_region(&self.region).to_string(),
            |a| a.partition,
        );
        Ok(Account::new(partition, id))
    }

    /// The OIDC issuer of an EKS cluster.
    pub async fn cluster_issuer(&self, cluster: &str) -> Result<String> {
        let out = self
            .eks
            .describe_cluster()
            .name(cluster)
            .send()
            .await
            .map_err(|e| {
                let err = aws_error("eks:DescribeCluster", e);
                if err.is_aws_not_found() {
                    Error::NotFound(format!(
                        "EKS cluster {cluster:?} not found in region {}: check the name and --region \
                         (for a cluster that is not EKS, omit --cluster: the issuer is then read from the \
                         Kubernetes API, or give it with --oidc-issuer)",
                        self.region
                    ))
                } else {
                    err
                }
            })?;
        out.cluster
            .as_ref()
            .and_then(|c| c.identity.as_ref())
            .and_then(|i| i.oidc.as_ref())
            .and_then(|o| o.issuer.clone())
            .filter(|i| !i.is_empty())
            .ok_or_else(|| Error::Issuer {
                message: format!(
                    "EKS cluster {cluster:?} reports no OIDC issuer (identity.oidc.issuer)"
                ),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_decode_encoded_and_plain() {
        let plain = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            decode_document(encoded).unwrap(),
            serde_json::json!({"Version":"2012-10-17","Statement":[]})
        );
        assert_eq!(decode_document(plain).unwrap()["Version"], "2012-10-17");
        assert!(matches!(
            decode_document("nope"),
            Err(Error::Aws {
                operation: "decode policy document",
                ..
            })
        ));
    }

    #[test]
    fn managed_roles_are_recognised_by_tag() {
        let mut role = Role {
            name: "r".into(),
            arn: "arn:aws:iam::1:role/r".into(),
            path: "/".into(),
            trust: Value::Null,
            max_session_duration: None,
            permissions_boundary: None,
            tags: vec![],
        };
        assert!(!role.is_managed());
        role.tags
            .push((MANAGED_BY_TAG.into(), MANAGED_BY_VALUE.into()));
        assert!(role.is_managed());
    }
}
