//! The AWS Query protocol (IAM, STS): form-encoded parameters in, namespaced XML out.

use std::collections::HashMap;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::AwsError;
use crate::xml::XmlWriter;

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

/// Which XML namespace and request id a Query response carries.
#[derive(Debug, Clone, Copy)]
pub struct QueryService {
    pub namespace: &'static str,
}

pub const IAM: QueryService = QueryService {
    namespace: "https://iam.amazonaws.com/doc/2010-05-08/",
};
pub const STS: QueryService = QueryService {
    namespace: "https://sts.amazonaws.com/doc/2011-06-15/",
};

/// `<{Action}Response xmlns=…><{Action}Result>…</{Action}Result><ResponseMetadata>…` — actions with no
/// output (DeleteRole, …) pass `None` and get no Result element, as AWS sends them.
pub fn success(service: QueryService, action: &str, result: Option<XmlWriter>) -> Response {
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

pub fn error(service: QueryService, err: &AwsError) -> Response {
    xml_response(err.status, error_document(service, err))
}

/// The `<ErrorResponse>` document [`error`] sends.
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

pub fn request_id() -> String {
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
