//! SigV4 verification: recompute the signature the caller should have produced with `aws-sigv4` (the
//! SDKs' own signer) over exactly the headers the caller says it signed, and compare.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDateTime, Utc};
use subtle::ConstantTimeEq;

use super::AwsError;

/// `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    /// `aws4_request` in every valid scope.
    pub terminator: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub fn authorization(headers: &HeaderMap) -> Option<Authorization> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256")?;
    let field = |name: &str| {
        rest.split(',')
            .map(str::trim)
            .find_map(|part| part.strip_prefix(name))
    };
    let mut scope = field("Credential=")?.split('/');
    let access_key_id = scope.next()?.to_string();
    let date = scope.next()?.to_string();
    let region = scope.next()?.to_string();
    let service = scope.next()?.to_string();
    let terminator = scope.next()?.to_string();
    let signed_headers = field("SignedHeaders=")?
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let signature = field("Signature=")?.to_string();
    Some(Authorization {
        access_key_id,
        date,
        region,
        service,
        terminator,
        signed_headers,
        signature,
    })
}

/// AWS refuses requests signed more than 15 minutes away from its clock.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// Path and query exactly as received.
    pub path_and_query: &'a str,
    pub authority: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

fn mismatch() -> AwsError {
    AwsError::new(
        "SignatureDoesNotMatch",
        StatusCode::FORBIDDEN,
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    )
}

fn request_time(headers: &HeaderMap) -> Result<DateTime<Utc>, AwsError> {
    let raw = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            AwsError::new(
                "IncompleteSignature",
                StatusCode::BAD_REQUEST,
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            )
        })?;
    NaiveDateTime::parse_from_str(raw, "%Y%m%dT%H%M%SZ")
        .map(|t| t.and_utc())
        .map_err(|_| {
            AwsError::new(
                "IncompleteSignature",
                StatusCode::BAD_REQUEST,
                format!("X-Amz-Date {raw} is not in the form YYYYMMDD'T'HHMMSS'Z'"),
            )
        })
}

/// When the request says it was signed, refused (`Signature expired`) more than 15 minutes from now.
pub fn signing_time(headers: &HeaderMap) -> Result<DateTime<Utc>, AwsError> {
    let time = request_time(headers)?;
    let now = Utc::now();
    let skew = (now - time).abs().to_std().unwrap_or(Duration::MAX);
    if skew > MAX_SKEW {
        return Err(AwsError::new(
            "SignatureDoesNotMatch",
            StatusCode::FORBIDDEN,
            format!(
                "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                time.format("%Y%m%dT%H%M%SZ"),
                (now - chrono::Duration::minutes(15)).format("%Y%m%dT%H%M%SZ"),
                now.format("%Y%m%dT%H%M%SZ")
            ),
        ));
    }
    Ok(time)
}

/// The credential scope (`date/region/service/aws4_request`) checked as AWS does before it looks the key up:
/// every wrong part named in one message, region, service, terminator, date in that order, each sentence
/// ending ". " (AWS's texts, trailing space included: "Credential should be scoped to correct service:
/// 'iam'. ").
pub fn check_scope(
    auth: &Authorization,
    time: DateTime<Utc>,
    region: &str,
    service: &str,
) -> Result<(), AwsError> {
    let mut message = String::new();
    if auth.region != region {
        message += &format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            auth.region
        );
    }
    if auth.service != service {
        message += &format!("Credential should be scoped to correct service: '{service}'. ");
    }
    if auth.terminator != "aws4_request" {
        message += &format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'. ",
            auth.terminator
        );
    }
    let day = time.format("%Y%m%d").to_string();
    if auth.date != day {
        message += &format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{day}', from '{}'. ",
            auth.date,
            time.format("%Y%m%dT%H%M%SZ")
        );
    }
    if message.is_empty() {
        Ok(())
    } else {
        Err(AwsError::new(
            "SignatureDoesNotMatch",
            StatusCode::FORBIDDEN,
            message,
        ))
    }
}

/// The signature itself, over exactly the headers the caller says it signed, at the time it says it signed.
pub fn verify(
    request: &SignedRequest,
    auth: &Authorization,
    time: DateTime<Utc>,
    secret_access_key: &str,
    session_token: Option<&str>,
) -> Result<(), AwsError> {
    let mut headers: Vec<(&str, String)> = Vec::new();
    for name in &auth.signed_headers {
        let values: Vec<&str> = request
            .headers
            .get_all(name.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty() {
            // HTTP/2 carries the host in the :authority pseudo-header, not in a Host header.
            match (name.as_str(), request.authority) {
                ("host", Some(authority)) => headers.push(("host", authority.to_string())),
                _ => return Err(mismatch()),
            }
        } else {
            headers.push((name.as_str(), values.join(",")));
        }
    }

    let mut settings = SigningSettings::default();
    settings.excluded_headers = None;
    let identity: Identity = Credentials::new(
        &auth.access_key_id,
        secret_access_key,
        session_token.map(str::to_string),
        None,
        "irsa-emulator",
    )
    .into();
    let system_time = SystemTime::UNIX_EPOCH + Duration::from_secs(time.timestamp().max(0) as u64);
    let params = SigningParams::builder()
        .identity(&identity)
        .region(&auth.region)
        .name(&auth.service)
        .time(system_time)
        .settings(settings)
        .build()
        .map_err(|_| mismatch())?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.path_and_query,
        headers.iter().map(|(k, v)| (*k, v.as_str())),
        SignableBody::Bytes(request.body),
    )
    .map_err(|_| mismatch())?;
    let expected = sign(signable, &params).map_err(|_| mismatch())?;
    if bool::from(
        expected
            .signature()
            .as_bytes()
            .ct_eq(auth.signature.as_bytes()),
    ) {
        Ok(())
    } else {
        Err(mismatch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_authorization_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/iam/aws4_request, SignedHeaders=host;X-Amz-Date, Signature=abc"
                .parse()
                .unwrap(),
        );
        let auth = authorization(&headers).unwrap();
        assert_eq!(auth.access_key_id, "AKIDEXAMPLE");
        assert_eq!(auth.date, "20240101");
        assert_eq!(auth.region, "us-east-1");
        assert_eq!(auth.service, "iam");
        assert_eq!(auth.terminator, "aws4_request");
        assert_eq!(auth.signed_headers, vec!["host", "x-amz-date"]);
        assert_eq!(auth.signature, "abc");
        headers.insert("authorization", "Bearer nope".parse().unwrap());
        assert!(authorization(&headers).is_none());
    }

    fn scoped(scope: &str) -> Authorization {
        let mut headers = HeaderMap::new();
        let value =
            format!("AWS4-HMAC-SHA256 Credential=AKID/{scope}, SignedHeaders=host, Signature=abc");
        headers.insert("authorization", value.parse().unwrap());
        authorization(&headers).unwrap()
    }

    /// AWS's texts: "Credential should be scoped to correct service: 'batch'. " (cllunsford/aws-signing-proxy#25)
    /// and "... to a valid region, not 'eu-west-1'. " (joona/aws-es-curl#15), trailing space included; every
    /// wrong part in one message, region first (dynalite's record of DynamoDB's answers).
    #[test]
    fn scope_errors_name_every_wrong_part() {
        let time = NaiveDateTime::parse_from_str("20240101T120000Z", "%Y%m%dT%H%M%SZ")
            .unwrap()
            .and_utc();
        assert!(check_scope(
            &scoped("20240101/us-east-1/iam/aws4_request"),
            time,
            "us-east-1",
            "iam"
        )
        .is_ok());
        let err = check_scope(
            &scoped("20240101/us-east-1/s3/aws4_request"),
            time,
            "us-east-1",
            "iam",
        )
        .unwrap_err();
        assert_eq!(
            (err.code, err.status, err.message.as_str()),
            (
                "SignatureDoesNotMatch",
                StatusCode::FORBIDDEN,
                "Credential should be scoped to correct service: 'iam'. "
            )
        );
        let err = check_scope(
            &scoped("20240102/eu-west-1/s3/aws4_reques"),
            time,
            "us-east-1",
            "iam",
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "Credential should be scoped to a valid region, not 'eu-west-1'. Credential should be scoped to correct service: 'iam'. Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reques'. Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240102' != '20240101', from '20240101T120000Z'. "
        );
    }
}
