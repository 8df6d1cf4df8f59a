//! AWS: SDK configuration (standard chain, `--region`, `--profile`, `AWS_ENDPOINT_URL`, `AWS_CA_BUNDLE`) and
//! the IAM / EKS calls the plugin makes, returning plain types.
//!
//! aws-sdk-rust honours `AWS_ENDPOINT_URL` by itself but not `AWS_CA_BUNDLE`: the HTTPS client is built here
//! with the platform's roots plus that bundle, so the emulator's (or a corporate proxy's) CA is trusted.

use std::fmt::Debug;
use std::path::PathBuf;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
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

/// An IAM role as the plugin needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub name: String,
    pub arn: String,
    pub path: String,
    pub trust: Value,
    pub max_session_duration: Option<i32>,
    pub permissions_boundary: Option<String>,
    pub tags: Vec<(String, String)>,
}

impl Role {
    /// Created by kubectl-irsa (tag `managed-by=kubectl-irsa`).
    pub fn is_managed(&self) -> bool {
        self.tags
            .iter()
            .any(|(k, v)| k == MANAGED_BY_TAG && v == MANAGED_BY_VALUE)
    }
}

/// An IAM OIDC provider.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    pub arn: String,
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub tags: Vec<(String, String)>,
}

/// What `CreateRole` is given.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRole {
    pub name: String,
    pub path: String,
    pub trust: Value,
    pub description: String,
    pub max_session_duration: Option<i32>,
    pub permissions_boundary: Option<String>,
    pub tags: Vec<(String, String)>,
}

fn iam_tags(tags: &[(String, String)]) -> Result<Vec<aws_sdk_iam::types::Tag>> {
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

fn tag_pairs(tags: &[aws_sdk_iam::types::Tag]) -> Vec<(String, String)> {
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

    /// The calling identity's account (STS GetCallerIdentity).
    pub async fn account_id(&self) -> Result<String> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| aws_error("sts:GetCallerIdentity", e))?;
        out.account.ok_or_else(|| Error::Aws {
            operation: "sts:GetCallerIdentity",
            code: String::new(),
            message: "the answer has no Account".into(),
            hint: None,
        })
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

    pub async fn get_role(&self, name: &str) -> Result<Option<Role>> {
        let out = match self.iam.get_role().role_name(name).send().await {
            Ok(out) => out,
            Err(e) => {
                let err = aws_error("iam:GetRole", e);
                return if err.is_aws_not_found() {
                    Ok(None)
                } else {
                    Err(err)
                };
            }
        };
        let Some(role) = out.role else {
            return Ok(None);
        };
        let trust = match role.assume_role_policy_document() {
            Some(doc) => decode_document(doc)?,
            None => Value::Null,
        };
        // GetRole returns tags on AWS; ask ListRoleTags when it did not.
        let mut tags = tag_pairs(role.tags());
        if tags.is_empty() {
            tags = self.role_tags(name).await?;
        }
        Ok(Some(Role {
            name: role.role_name().to_string(),
            arn: role.arn().to_string(),
            path: role.path().to_string(),
            trust,
            max_session_duration: role.max_session_duration(),
            permissions_boundary: role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_string),
            tags,
        }))
    }

    async fn role_tags(&self, name: &str) -> Result<Vec<(String, String)>> {
        let out = self
            .iam
            .list_role_tags()
            .role_name(name)
            .send()
            .await
            .map_err(|e| aws_error("iam:ListRoleTags", e))?;
        Ok(tag_pairs(out.tags()))
    }

    pub async fn create_role(&self, role: &NewRole) -> Result<String> {
        let out = self
            .iam
            .create_role()
            .role_name(&role.name)
            .path(&role.path)
            .description(&role.description)
            .assume_role_policy_document(role.trust.to_string())
            .set_max_session_duration(role.max_session_duration)
            .set_permissions_boundary(role.permissions_boundary.clone())
            .set_tags(Some(iam_tags(&role.tags)?))
            .send()
            .await
            .map_err(|e| aws_error("iam:CreateRole", e))?;
        Ok(out.role.map(|r| r.arn).unwrap_or_default())
    }

    pub async fn delete_role(&self, name: &str) -> Result<()> {
        self.iam
            .delete_role()
            .role_name(name)
            .send()
            .await
            .map_err(|e| aws_error("iam:DeleteRole", e))?;
        Ok(())
    }

    pub async fn update_trust(&self, role: &str, trust: &Value) -> Result<()> {
        self.iam
            .update_assume_role_policy()
            .role_name(role)
            .policy_document(trust.to_string())
            .send()
            .await
            .map_err(|e| aws_error("iam:UpdateAssumeRolePolicy", e))?;
        Ok(())
    }

    pub async fn update_max_session(&self, role: &str, seconds: i32) -> Result<()> {
        self.iam
            .update_role()
            .role_name(role)
            .max_session_duration(seconds)
            .send()
            .await
            .map_err(|e| aws_error("iam:UpdateRole", e))?;
        Ok(())
    }

    pub async fn put_boundary(&self, role: &str, arn: &str) -> Result<()> {
        self.iam
            .put_role_permissions_boundary()
            .role_name(role)
            .permissions_boundary(arn)
            .send()
            .await
            .map_err(|e| aws_error("iam:PutRolePermissionsBoundary", e))?;
        Ok(())
    }

    pub async fn delete_boundary(&self, role: &str) -> Result<()> {
        self.iam
            .delete_role_permissions_boundary()
            .role_name(role)
            .send()
            .await
            .map_err(|e| aws_error("iam:DeleteRolePermissionsBoundary", e))?;
        Ok(())
    }

    pub async fn tag_role(&self, role: &str, tags: &[(String, String)]) -> Result<()> {
        self.iam
            .tag_role()
            .role_name(role)
            .set_tags(Some(iam_tags(tags)?))
            .send()
            .await
            .map_err(|e| aws_error("iam:TagRole", e))?;
        Ok(())
    }

    pub async fn untag_role(&self, role: &str, keys: &[String]) -> Result<()> {
        self.iam
            .untag_role()
            .role_name(role)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(|e| aws_error("iam:UntagRole", e))?;
        Ok(())
    }

    /// ARNs of the managed policies attached to a role.
    pub async fn attached_policies(&self, role: &str) -> Result<Vec<String>> {
        let mut arns = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .iam
                .list_attached_role_policies()
                .role_name(role)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| aws_error("iam:ListAttachedRolePolicies", e))?;
            arns.extend(
                out.attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_string)),
            );
            if !out.is_truncated {
                break;
            }
            marker = out.marker;
            if marker.is_none() {
                break;
            }
        }
        Ok(arns)
    }

    pub async fn attach_policy(&self, role: &str, arn: &str) -> Result<()> {
        self.iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| {
                let err = aws_error("iam:AttachRolePolicy", e);
                if err.is_aws_not_found() {
                    Error::NotFound(format!(
                        "policy {arn} does not exist (or is not attachable): check the ARN \
                         (aws iam get-policy --policy-arn {arn})"
                    ))
                } else {
                    err
                }
            })?;
        Ok(())
    }

    pub async fn detach_policy(&self, role: &str, arn: &str) -> Result<()> {
        self.iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| aws_error("iam:DetachRolePolicy", e))?;
        Ok(())
    }

    /// Names of a role's inline policies.
    pub async fn inline_policies(&self, role: &str) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .iam
                .list_role_policies()
                .role_name(role)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| aws_error("iam:ListRolePolicies", e))?;
            names.extend(out.policy_names().iter().cloned());
            if !out.is_truncated {
                break;
            }
            marker = out.marker;
            if marker.is_none() {
                break;
            }
        }
        Ok(names)
    }

    pub async fn inline_policy(&self, role: &str, name: &str) -> Result<Option<Value>> {
        match self
            .iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(Some(decode_document(out.policy_document())?)),
            Err(e) => {
                let err = aws_error("iam:GetRolePolicy", e);
                if err.is_aws_not_found() {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    pub async fn put_inline_policy(&self, role: &str, name: &str, doc: &Value) -> Result<()> {
        self.iam
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(doc.to_string())
            .send()
            .await
            .map_err(|e| aws_error("iam:PutRolePolicy", e))?;
        Ok(())
    }

    pub async fn delete_inline_policy(&self, role: &str, name: &str) -> Result<()> {
        self.iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map_err(|e| aws_error("iam:DeleteRolePolicy", e))?;
        Ok(())
    }

    /// The default version's document of a managed policy.
    pub async fn managed_policy_document(&self, arn: &str) -> Result<Value> {
        let policy = self
            .iam
            .get_policy()
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| aws_error("iam:GetPolicy", e))?;
        let version = policy
            .policy
            .and_then(|p| p.default_version_id)
            .unwrap_or_else(|| "v1".to_string());
        let out = self
            .iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(&version)
            .send()
            .await
            .map_err(|e| aws_error("iam:GetPolicyVersion", e))?;
        match out.policy_version.and_then(|v| v.document) {
            Some(doc) => decode_document(&doc),
            None => Ok(Value::Null),
        }
    }

    /// Whether a managed policy exists.
    pub async fn policy_exists(&self, arn: &str) -> Result<bool> {
        match self.iam.get_policy().policy_arn(arn).send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let err = aws_error("iam:GetPolicy", e);
                if err.is_aws_not_found() {
                    Ok(false)
                } else {
                    Err(err)
                }
            }
        }
    }

    /// ARNs of every OIDC provider in the account.
    pub async fn provider_arns(&self) -> Result<Vec<String>> {
        let out = self
            .iam
            .list_open_id_connect_providers()
            .send()
            .await
            .map_err(|e| aws_error("iam:ListOpenIDConnectProviders", e))?;
        Ok(out
            .open_id_connect_provider_list()
            .iter()
            .filter_map(|p| p.arn().map(str::to_string))
            .collect())
    }

    /// The provider for an issuer, found by listing (so the account need not be known).
    pub async fn find_provider(&self, issuer: &str) -> Result<Option<Provider>> {
        let host_path = irsa_policy::issuer_host_path(issuer);
        let suffix = format!(":oidc-provider/{host_path}");
        let arns = self.provider_arns().await?;
        match arns.iter().find(|a| a.ends_with(&suffix)) {
            Some(arn) => self.get_provider(arn).await,
            None => Ok(None),
        }
    }

    pub async fn get_provider(&self, arn: &str) -> Result<Option<Provider>> {
        let out = match self
            .iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let err = aws_error("iam:GetOpenIDConnectProvider", e);
                return if err.is_aws_not_found() {
                    Ok(None)
                } else {
                    Err(err)
                };
            }
        };
        Ok(Some(Provider {
            arn: arn.to_string(),
            url: out.url().unwrap_or_default().to_string(),
            client_ids: out.client_id_list().to_vec(),
            thumbprints: out.thumbprint_list().to_vec(),
            tags: tag_pairs(out.tags()),
        }))
    }

    pub async fn create_provider(
        &self,
        issuer: &str,
        client_ids: &[String],
        thumbprints: &[String],
        tags: &[(String, String)],
    ) -> Result<String> {
        let out = self
            .iam
            .create_open_id_connect_provider()
            .url(issuer)
            .set_client_id_list(Some(client_ids.to_vec()))
            .set_thumbprint_list(Some(thumbprints.to_vec()))
            .set_tags(Some(iam_tags(tags)?))
            .send()
            .await
            .map_err(|e| aws_error("iam:CreateOpenIDConnectProvider", e))?;
        Ok(out.open_id_connect_provider_arn.unwrap_or_default())
    }

    pub async fn delete_provider(&self, arn: &str) -> Result<()> {
        self.iam
            .delete_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .map_err(|e| aws_error("iam:DeleteOpenIDConnectProvider", e))?;
        Ok(())
    }

    pub async fn add_client_id(&self, arn: &str, client_id: &str) -> Result<()> {
        self.iam
            .add_client_id_to_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .client_id(client_id)
            .send()
            .await
            .map_err(|e| aws_error("iam:AddClientIDToOpenIDConnectProvider", e))?;
        Ok(())
    }

    pub async fn remove_client_id(&self, arn: &str, client_id: &str) -> Result<()> {
        self.iam
            .remove_client_id_from_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .client_id(client_id)
            .send()
            .await
            .map_err(|e| aws_error("iam:RemoveClientIDFromOpenIDConnectProvider", e))?;
        Ok(())
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
        assert!(decode_document("nope").is_err());
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
