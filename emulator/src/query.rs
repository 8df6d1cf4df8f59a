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
    let mut xml = XmlWriter::document();
    xml.open_ns("ErrorResponse", service.namespace);
    xml.open("Error");
    xml.text_element("Type", err.fault_type());
    xml.text_element("Code", err.code);
    xml.text_element("Message", &err.message);
    xml.close("Error");
    xml.text_element("RequestId", &request_id());
    xml.close("ErrorResponse");
    xml_response(err.status, xml.finish())
}

fn xml_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
