//! Who is calling: the SigV4 `Authorization` header names the access key and the service it was signed for.
//! Today only the admin credentials exist; STS-issued credentials and full signature verification arrive
//! with the STS issue.

use axum::http::{HeaderMap, StatusCode};

use crate::app::AppState;
use crate::error::AwsError;

/// The parts of `AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, …` routing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    pub access_key_id: String,
    pub region: String,
    pub service: String,
}

pub fn credential_scope(headers: &HeaderMap) -> Option<CredentialScope> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256")?;
    let credential = rest
        .split(',')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("Credential="))?;
    let mut fields = credential.split('/');
    let access_key_id = fields.next()?.to_string();
    let _date = fields.next()?;
    let region = fields.next()?.to_string();
    let service = fields.next()?.to_string();
    Some(CredentialScope {
        access_key_id,
        region,
        service,
    })
}

/// The identity behind a signed request.
#[derive(Debug, Clone)]
pub enum Caller {
    Admin,
}

pub fn authenticate(state: &AppState, scope: Option<&CredentialScope>) -> Result<Caller, AwsError> {
    let scope = scope.ok_or_else(|| {
        AwsError::new(
            "MissingAuthenticationToken",
            StatusCode::FORBIDDEN,
            "Request is missing Authentication Token",
        )
    })?;
    if scope.access_key_id == state.config.admin.access_key_id {
        Ok(Caller::Admin)
    } else {
        Err(AwsError::new(
            "InvalidClientTokenId",
            StatusCode::FORBIDDEN,
            "The security token included in the request is invalid.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_credential_scope() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
                .parse()
                .unwrap(),
        );
        let scope = credential_scope(&headers).unwrap();
        assert_eq!(scope.access_key_id, "AKIDEXAMPLE");
        assert_eq!(scope.region, "us-east-1");
        assert_eq!(scope.service, "iam");
        headers.insert("authorization", "Bearer nope".parse().unwrap());
        assert!(credential_scope(&headers).is_none());
    }
}
