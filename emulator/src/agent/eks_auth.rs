//! The agent's one call: eks-auth `AssumeRoleForPodIdentity`, SigV4-signed for `eks-auth` with the node's
//! credentials, its answer turned into what the SDKs' container credentials provider reads
//! (upstream `internal/cloud/eksauth/service.go` and `pkg/errors/errors.go`).

use std::time::{Duration, SystemTime};

use anyhow::Context;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use axum::http::StatusCode;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

/// eks-auth is a fast local call here; upstream allows one second, this some slack for a loaded CI machine.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The node's credentials (upstream: the node role, through IMDS; here: a key the emulator knows).
#[derive(Clone)]
pub struct NodeCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for NodeCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct EksAuthClient {
    http: reqwest::Client,
    endpoint: String,
    authority: String,
    region: String,
    identity: Identity,
}

/// Credentials for the pod, as the agent answers them (`EksCredentialsResponse`).
pub struct Served {
    pub body: Value,
    pub role_arn: String,
}

/// A refusal, as the agent relays it: eks-auth's status, upstream's text.
#[derive(Debug)]
pub struct Refused {
    pub status: StatusCode,
    pub message: String,
}

impl EksAuthClient {
    pub fn new(
        endpoint: &str,
        region: &str,
        credentials: NodeCredentials,
        ca_pem: Option<&str>,
    ) -> anyhow::Result<EksAuthClient> {
        let endpoint = endpoint.trim_end_matches('/').to_string();
        let url = reqwest::Url::parse(&endpoint)
            .with_context(|| format!("--endpoint {endpoint} is not a URL"))?;
        let host = url
            .host_str()
            .with_context(|| format!("--endpoint {endpoint} names no host"))?;
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let mut builder = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .no_proxy()
            .tls_built_in_root_certs(false);
        if let Some(pem) = ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .context("the CA bundle (AWS_CA_BUNDLE) is not PEM")?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        let identity = Credentials::new(
            credentials.access_key_id,
            credentials.secret_access_key,
            credentials.session_token,
            None,
            "irsa-emulator-agent",
        )
        .into();
        Ok(EksAuthClient {
            http: builder.build().context("HTTP client for eks-auth")?,
            endpoint,
            authority,
            region: region.to_string(),
            identity,
        })
    }

    pub async fn assume(&self, cluster: &str, token: &str) -> Result<Served, Refused> {
        let path = format!("/clusters/{cluster}/assume-role-for-pod-identity");
        let body = serde_json::json!({ "token": token }).to_string();
        let request = self.signed(&path, &body).map_err(internal)?;
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| internal(anyhow::Error::new(e).context("calling eks-auth")))?;
        let status = response.status();
        let request_id = response
            .headers()
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| internal(anyhow::Error::new(e).context("reading eks-auth's answer")))?;
        let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(service_error(status, &request_id, error_type, &json));
        }
        served(&json).ok_or_else(|| {
            internal(anyhow::anyhow!(
                "invalid response from server: credentials or assumed role empty: {}",
                String::from_utf8_lossy(&bytes)
            ))
        })
    }

    fn signed(&self, path: &str, body: &str) -> anyhow::Result<reqwest::Request> {
        let headers = [
            ("host", self.authority.as_str()),
            ("content-type", "application/json"),
        ];
        let params = SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("eks-auth")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .context("signing parameters")?
            .into();
        let signable = SignableRequest::new(
            "POST",
            path,
            headers.into_iter(),
            SignableBody::Bytes(body.as_bytes()),
        )?;
        let (instructions, _) = sign(signable, &params)?.into_parts();
        let mut request = axum::http::Request::builder()
            .method("POST")
            .uri(format!("{}{path}", self.endpoint))
            .header("content-type", "application/json")
            .body(body.to_string())?;
        instructions.apply_to_request_http1x(&mut request);
        Ok(reqwest::Request::try_from(request)?)
    }
}

fn internal(error: anyhow::Error) -> Refused {
    Refused {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("unable to fetch credentials from EKS Auth: {error:#}"),
    }
}

/// `[request-id]: (Code): message, fault: client`, with eks-auth's status, as upstream formats a smithy API
/// error. The code is the `X-Amzn-Errortype` header's, else the body's `__type`, without namespace or
/// suffix, as smithy-go reads it.
fn service_error(
    status: StatusCode,
    request_id: &str,
    error_type: Option<String>,
    body: &Value,
) -> Refused {
    let raw = error_type
        .or_else(|| {
            ["__type", "code"]
                .iter()
                .find_map(|k| body.get(*k).and_then(Value::as_str).map(str::to_string))
        })
        .unwrap_or_else(|| "UnknownError".into());
    let code = raw.split(':').next().unwrap_or(&raw);
    let code = code.rsplit('#').next().unwrap_or(code).to_string();
    let message = ["message", "Message"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
        .unwrap_or_default();
    // The eks-auth model's errors: the server's two are faults of the server, the rest the client's.
    let fault = match code.as_str() {
        "InternalServerException" | "ServiceUnavailableException" => "server",
        "AccessDeniedException"
        | "ExpiredTokenException"
        | "InvalidParameterException"
        | "InvalidRequestException"
        | "InvalidTokenException"
        | "ResourceNotFoundException"
        | "ThrottlingException" => "client",
        _ => "unknown",
    };
    Refused {
        status,
        message: format!("[{request_id}]: ({code}): {message}, fault: {fault}"),
    }
}

/// The SDK-facing JSON (`AccessKeyId`, `SecretAccessKey`, `Token`, `AccountId`, `Expiration` in RFC 3339 with
/// nanoseconds, upstream's `SdkCompliantExpirationTime`), from eks-auth's answer.
fn served(json: &Value) -> Option<Served> {
    let credentials = json.get("credentials")?;
    let text = |key: &str| credentials.get(key).and_then(Value::as_str);
    let role_arn = json.get("assumedRoleUser")?.get("arn")?.as_str()?;
    let account = role_arn.split(':').nth(4).filter(|a| !a.is_empty())?;
    let seconds = credentials.get("expiration")?.as_f64()?;
    let expiration = DateTime::<Utc>::from_timestamp(
        seconds.trunc() as i64,
        (seconds.fract() * 1e9).round() as u32,
    )?;
    Some(Served {
        body: serde_json::json!({
            "AccessKeyId": text("accessKeyId")?,
            "SecretAccessKey": text("secretAccessKey")?,
            "Token": text("sessionToken")?,
            "AccountId": account,
            "Expiration": expiration.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        }),
        role_arn: role_arn.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn eks_auth_answer_becomes_the_container_credentials_json() {
        let answer = json!({
            "assumedRoleUser": { "arn": "arn:aws:sts::111122223333:assumed-role/r/eks-demo-web-0-x", "assumeRoleId": "AROA:x" },
            "credentials": { "accessKeyId": "ASIAX", "secretAccessKey": "s", "sessionToken": "t", "expiration": 1796279833 }
        });
        let got = served(&answer).unwrap();
        assert_eq!(
            got.body.to_string(),
            r#"{"AccessKeyId":"ASIAX","SecretAccessKey":"s","Token":"t","AccountId":"111122223333","Expiration":"2026-12-03T06:37:13Z"}"#
        );
        assert!(served(&json!({ "credentials": {} })).is_none());
    }

    #[test]
    fn service_errors_read_as_upstream_relays_them() {
        let refused = service_error(
            StatusCode::BAD_REQUEST,
            "req-1",
            Some("InvalidTokenException:http://internal".into()),
            &json!({ "message": "The token is bad" }),
        );
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            refused.message,
            "[req-1]: (InvalidTokenException): The token is bad, fault: client"
        );
        let from_body = service_error(
            StatusCode::NOT_FOUND,
            "",
            None,
            &json!({ "__type": "com.amazonaws#ResourceNotFoundException", "message": "m" }),
        );
        assert_eq!(
            from_body.message,
            "[]: (ResourceNotFoundException): m, fault: client"
        );
    }
}
