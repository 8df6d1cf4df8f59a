//! AWS Query-protocol requests as the SDKs send them: a form-encoded POST to `/`, signed with aws-sigv4 when the
//! API requires a signature (everything but AssumeRoleWithWebIdentity).

use std::time::SystemTime;

use anyhow::Context;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::{header, Request};
use http_body_util::Full;

use crate::connection::{Body, Target};

pub const IAM_VERSION: &str = "2010-05-08";
pub const STS_VERSION: &str = "2011-06-15";
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

pub fn form(params: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

pub fn post(target: &Target, body: String) -> Request<Body> {
    Request::post("/")
        .header(header::HOST, target.authority())
        .header(header::CONTENT_TYPE, FORM_CONTENT_TYPE)
        .body(Full::new(Bytes::from(body)))
        .expect("static request parts are valid")
}

/// Signs requests the way every AWS SDK does; the emulator verifies them, moto does not look.
#[derive(Clone)]
pub struct Signer {
    identity: Identity,
    region: String,
}

impl Signer {
    pub fn new(access_key_id: &str, secret_access_key: &str, region: &str) -> Self {
        let identity =
            Credentials::new(access_key_id, secret_access_key, None, None, "irsa-bench").into();
        Self {
            identity,
            region: region.to_string(),
        }
    }

    /// From AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION, defaulting to the emulator's admin keys.
    pub fn from_env() -> Self {
        let var =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
        Self::new(
            &var("AWS_ACCESS_KEY_ID", "AKIAIRSAEMULATORTEST"),
            &var(
                "AWS_SECRET_ACCESS_KEY",
                "irsaEmulatorAdminSecretAccessKey00000000",
            ),
            &var("AWS_REGION", "us-east-1"),
        )
    }

    /// A signed Query request for `service` ("iam" or "sts").
    pub fn post(
        &self,
        target: &Target,
        service: &str,
        body: String,
    ) -> anyhow::Result<Request<Body>> {
        let authority = target.authority();
        let headers = [
            ("host", authority.as_str()),
            ("content-type", FORM_CONTENT_TYPE),
        ];
        let params = SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name(service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .context("signing parameters")?
            .into();
        let signable = SignableRequest::new(
            "POST",
            "/",
            headers.into_iter(),
            SignableBody::Bytes(body.as_bytes()),
        )?;
        let (instructions, _) = sign(signable, &params)?.into_parts();
        let mut request = post(target, body);
        instructions.apply_to_request_http1x(&mut request);
        Ok(request)
    }
}

/// The text of the first `<tag>…</tag>` in an XML response, entities and character references decoded
/// (enough for markers and ids); `None` when the tag is missing or its text is not valid XML.
pub fn xml_text<'a>(xml: &'a str, tag: &str) -> Option<std::borrow::Cow<'a, str>> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    quick_xml::escape::unescape(&xml[start..end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_request_carries_sigv4_headers() {
        let target = Target::parse("http://127.0.0.1:9").unwrap();
        let signer = Signer::new("AKIDEXAMPLE", "secret", "us-east-1");
        let request = signer
            .post(
                &target,
                "iam",
                form(&[("Action", "GetRole"), ("RoleName", "r")]),
            )
            .unwrap();
        let auth = request.headers()["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{auth}"
        );
        assert!(auth.contains("/us-east-1/iam/aws4_request"), "{auth}");
        assert!(request.headers().contains_key("x-amz-date"));
    }

    #[test]
    fn xml_text_decodes_entities() {
        let xml = "<R><Marker>a&amp;b&lt;</Marker><IsTruncated>true</IsTruncated></R>";
        assert_eq!(xml_text(xml, "Marker").unwrap(), "a&b<");
        assert_eq!(xml_text(xml, "IsTruncated").unwrap(), "true");
        assert_eq!(xml_text("<M>a&#xD;b</M>", "M").unwrap(), "a\rb");
        assert!(xml_text(xml, "Missing").is_none());
    }
}
