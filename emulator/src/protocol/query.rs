//! The AWS Query protocol (IAM, STS): form-encoded parameters in, namespaced XML out.

use std::collections::HashMap;

use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::body::read_body;
use super::extract::RequestLimits;
use super::sigv4::{authorization, Authorization, SignedRequest};
use super::validation::{self, Model};
use super::{AwsError, XmlWriter};
use crate::auth::{Authenticator, Caller, Target};

/// Decoded `Action=…&Name.member.1=…` parameters.
#[derive(Debug, Default, Clone)]
pub struct Params {
    values: HashMap<String, String>,
}

impl Params {
    pub fn parse(form: &[u8]) -> Self {
        let values = form_urlencoded::parse(form).into_owned().collect();
        Params { values }
    }

    pub fn merge(&mut self, other: Params) {
        self.values.extend(other.values);
    }

    /// Every parameter name, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn required(&self, name: &str) -> Result<&str, AwsError> {
        self.get(name).ok_or_else(|| AwsError::missing(name))
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, AwsError> {
        match self.get(name) {
            None => Ok(None),
            Some(raw) => raw
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| AwsError::constraint(name, raw, "Member must be a valid integer")),
        }
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, AwsError> {
        match self.get(name) {
            None => Ok(None),
            Some(raw) if raw.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(raw) if raw.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(raw) => Err(AwsError::constraint(
                name,
                raw,
                "Member must be a valid boolean",
            )),
        }
    }

    /// `Name.member.1`, `Name.member.2`, … in order, stopping at the first gap as AWS does.
    pub fn list(&self, name: &str) -> Vec<String> {
        (1..)
            .map_while(|i| self.get(&format!("{name}.member.{i}")).map(str::to_owned))
            .collect()
    }

    /// `Tags.member.N.Key` / `Tags.member.N.Value` pairs.
    pub fn tags(&self, name: &str) -> Result<Vec<(String, String)>, AwsError> {
        let mut tags = Vec::new();
        for i in 1.. {
            let key = self.get(&format!("{name}.member.{i}.Key"));
            let value = self.get(&format!("{name}.member.{i}.Value"));
            match (key, value) {
                (None, None) => break,
                (Some(k), v) => tags.push((k.to_owned(), v.unwrap_or_default().to_owned())),
                (None, Some(_)) => {
                    return Err(AwsError::missing(&format!("{name}.member.{i}.key")))
                }
            }
        }
        Ok(tags)
    }
}

/// A service spoken over the Query protocol: how requests name it and which XML namespace answers carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryService {
    /// The SigV4 signing name (`Credential=…/<region>/<name>/aws4_request`).
    pub signing_name: &'static str,
    /// The API version unsigned requests name in `Version=`.
    pub version: &'static str,
    pub namespace: &'static str,
    /// The service model requests are validated against.
    pub model: Model,
}

pub const IAM: QueryService = QueryService {
    signing_name: "iam",
    version: "2010-05-08",
    namespace: "https://iam.amazonaws.com/doc/2010-05-08/",
    model: Model::Iam,
};
pub const STS: QueryService = QueryService {
    signing_name: "sts",
    version: "2011-06-15",
    namespace: "https://sts.amazonaws.com/doc/2011-06-15/",
    model: Model::Sts,
};

/// The signing scope says which service a request is for; unsigned requests are told apart by `Version`.
fn service_for(auth: Option<&Authorization>, params: &Params) -> Option<QueryService> {
    let by_scope = auth.and_then(|a| [IAM, STS].into_iter().find(|s| s.signing_name == a.service));
    by_scope.or_else(|| {
        let version = params.get("Version")?;
        [IAM, STS].into_iter().find(|s| s.version == version)
    })
}

/// Actions AWS accepts without a signature.
fn unsigned_allowed(service: QueryService, action: &str) -> bool {
    service == STS && action == "AssumeRoleWithWebIdentity"
}

/// A Query-protocol request, read and authenticated: the URL's and the form body's parameters, which service
/// and action they are for, and who signed them (`None` only for the actions AWS takes unsigned).
#[derive(Debug)]
pub struct QueryRequest {
    pub service: QueryService,
    pub action: String,
    pub params: Params,
    pub caller: Option<Caller>,
}

impl<S> FromRequest<S> for QueryRequest
where
    S: Send + Sync,
    Authenticator: FromRef<S>,
    RequestLimits: FromRef<S>,
{
    type Rejection = QueryError;

    async fn from_request(request: Request, state: &S) -> Result<Self, QueryError> {
        let (parts, body) = request.into_parts();
        let auth_header = authorization(&parts.headers);
        let mut params = parts
            .uri
            .query()
            .map(|q| Params::parse(q.as_bytes()))
            .unwrap_or_default();
        let body = if parts.method == Method::POST {
            let limits = RequestLimits::from_ref(state);
            match read_body(body, limits.read_timeout).await {
                Ok(bytes) => bytes,
                Err(error) => {
                    // Only the signing scope or the query string can say which service this was for.
                    let service = service_for(auth_header.as_ref(), &params).unwrap_or(IAM);
                    return Err(QueryError::new(service, error.into_aws_error()));
                }
            }
        } else {
            drop(body);
            Default::default()
        };
        params.merge(Params::parse(&body));

        let Some(service) = service_for(auth_header.as_ref(), &params) else {
            return Err(QueryError::new(IAM, AwsError::new(
                "InvalidAction",
                StatusCode::BAD_REQUEST,
                "Cannot tell which service this request is for: sign it (SigV4 scope iam or sts) or send Version=2010-05-08 (IAM) / 2011-06-15 (STS)",
            )));
        };
        let Some(action) = params.get("Action").map(str::to_string) else {
            let err = AwsError::new("MissingAction", StatusCode::BAD_REQUEST, "Missing Action");
            return Err(QueryError::new(service, err));
        };
        // The operation is known before anything else: whether it needs a signature depends on it.
        if !validation::has_operation(service.model, &action) {
            let err = AwsError::new(
                "InvalidAction",
                StatusCode::BAD_REQUEST,
                format!(
                    "Could not find operation {action} for version {}",
                    service.version
                ),
            );
            return Err(QueryError::new(service, err));
        }
        let caller = if unsigned_allowed(service, &action) && auth_header.is_none() {
            None
        } else {
            let signed = SignedRequest {
                method: parts.method.as_str(),
                path_and_query: parts.uri.path_and_query().map_or("/", |p| p.as_str()),
                authority: parts.uri.authority().map(|a| a.as_str()),
                headers: &parts.headers,
                body: &body,
            };
            let authenticator = Authenticator::from_ref(state);
            Some(
                authenticator
                    .authenticate(
                        &signed,
                        Target {
                            service: service.signing_name,
                            action: &action,
                        },
                    )
                    .map_err(|err| QueryError::new(service, err))?,
            )
        };
        // Input constraints, as AWS checks them: after authentication, before any lookup or authorization.
        validation::validate(service.model, &action, &params)
            .map_err(|err| QueryError::new(service, err))?;
        Ok(QueryRequest {
            service,
            action,
            params,
            caller,
        })
    }
}

/// A handler's answer: the inner XML of `<ActionResult>`, `None` for actions without output.
pub struct QueryResponse {
    pub service: QueryService,
    pub action: String,
    pub result: Option<XmlWriter>,
}

impl IntoResponse for QueryResponse {
    fn into_response(self) -> Response {
        success(self.service, &self.action, self.result)
    }
}

/// An error as a Query-protocol service sends it: `<ErrorResponse>` in the service's namespace.
#[derive(Debug)]
pub struct QueryError {
    pub service: QueryService,
    pub error: AwsError,
}

impl QueryError {
    pub fn new(service: QueryService, error: AwsError) -> Self {
        QueryError { service, error }
    }
}

impl IntoResponse for QueryError {
    fn into_response(self) -> Response {
        xml_response(self.error.status, error_document(self.service, &self.error))
    }
}

/// `<{Action}Response xmlns=…><{Action}Result>…</{Action}Result><ResponseMetadata>…` — actions with no
/// output (DeleteRole, …) pass `None` and get no Result element, as AWS sends them.
fn success(service: QueryService, action: &str, result: Option<XmlWriter>) -> Response {
    let mut xml = XmlWriter::document();
    xml.open_ns(&format!("{action}Response"), service.namespace);
    if let Some(result) = result {
        xml.raw_element(&format!("{action}Result"), &result.finish());
    }
    xml.open("ResponseMetadata");
    xml.text_element("RequestId", &request_id());
    xml.close("ResponseMetadata");
    xml.close(&format!("{action}Response"));
    xml_response(StatusCode::OK, xml.finish())
}

/// The `<ErrorResponse>` document a [`QueryError`] sends.
pub fn error_document(service: QueryService, err: &AwsError) -> String {
    let mut xml = XmlWriter::document();
    xml.open_ns("ErrorResponse", service.namespace);
    xml.open("Error");
    xml.text_element("Type", err.fault_type());
    xml.text_element("Code", err.code);
    xml.text_element("Message", &err.message);
    xml.close("Error");
    xml.text_element("RequestId", &request_id());
    xml.close("ErrorResponse");
    xml.finish()
}

fn xml_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::events::Event;

    /// fuzz/regressions/query_decoder/error-xml-control-characters: values with NUL, CR and markup characters,
    /// echoed by validation errors, made `<ErrorResponse>` documents no XML 1.0 parser (botocore's) accepts.
    const CONTROL_CHARACTERS: &[u8] = b"Action=CreateRole&RoleName=a%00b%0D%0Ac%26%3C%3E%22&Path=%2F%2F&Description=+x+%FF%FE&Tags.member.1.Key=aws%3Ax";

    #[test]
    fn errors_echoing_control_characters_are_well_formed_xml() {
        let params = Params::parse(CONTROL_CHARACTERS);
        let role_name = params.get("RoleName").unwrap();
        assert_eq!(role_name, "a\0b\r\nc&<>\"");
        let err = AwsError::constraint("RoleName", role_name, "Member must be a valid integer");
        let doc = error_document(IAM, &err);
        assert!(
            !doc.chars().any(|c| c < ' ' && c != '\n'),
            "XML 1.0 forbids these control characters, and a literal CR reads back as LF: {doc:?}"
        );
        let mut reader = quick_xml::Reader::from_str(&doc);
        let mut message = None;
        let mut in_message = false;
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) => in_message = e.name().as_ref() == b"Message",
                Event::End(_) => in_message = false,
                Event::Text(text) if in_message => {
                    let raw = std::str::from_utf8(&text).unwrap();
                    let part = quick_xml::escape::unescape(raw).unwrap();
                    message.get_or_insert_with(String::new).push_str(&part);
                }
                Event::GeneralRef(r) if in_message => {
                    let raw = format!("&{};", std::str::from_utf8(&r).unwrap());
                    let resolved = quick_xml::escape::unescape(&raw).unwrap().into_owned();
                    message.get_or_insert_with(String::new).push_str(&resolved);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(
            message.unwrap(),
            err.message.replace('\0', "\u{fffd}"),
            "the message reads back, NUL replaced"
        );
    }
}
