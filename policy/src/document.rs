//! Policy documents: IAM's JSON as plain types, the model policies are evaluated with.
//!
//! Parsing walks a `serde_json::Value` by hand instead of deriving `Deserialize`, because IAM's grammar is
//! loose in ways derive handles badly (string-or-list everywhere, `Statement` as object or array).
//! The model only refuses what it could not represent; whether IAM would store a document, with IAM's
//! message when not, is [`crate::validate()`]'s question.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::condition::{parse_block, Condition};
use crate::error::PolicyError;
pub use crate::principal::{Principal, PrincipalKind, PrincipalRef};

/// The current policy language version; the only one with policy variables.
pub const VERSION_2012_10_17: &str = "2012-10-17";
/// The legacy version IAM still accepts.
pub const VERSION_2008_10_17: &str = "2008-10-17";

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(&self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One statement. Each `Not*` field is the negated form of its sibling; parsing guarantees at most one of each
/// pair is set, and that `action`/`not_action` has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Principal>,
    pub not_principal: Option<Principal>,
    pub action: Option<Vec<String>>,
    pub not_action: Option<Vec<String>>,
    pub resource: Option<Vec<String>>,
    pub not_resource: Option<Vec<String>>,
    /// All conditions of the statement; they are ANDed.
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// True if the statement has a `Principal` or `NotPrincipal` element.
    pub fn has_principal(&self) -> bool {
        self.principal.is_some() || self.not_principal.is_some()
    }

    /// True if the statement has a `Resource` or `NotResource` element.
    pub fn has_resource(&self) -> bool {
        self.resource.is_some() || self.not_resource.is_some()
    }
}

/// A parsed policy document.
///
/// The original JSON is kept so that a document can be handed back exactly as it was written (IAM returns
/// documents as submitted, and `Statement`-as-object must stay an object).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    pub version: Option<String>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
    raw: Value,
}

impl PolicyDocument {
    /// Parse into the model, refusing only what it cannot represent (not JSON, unknown elements, a statement
    /// without actions, a malformed principal). To check a document as IAM does before storing it, use
    /// [`crate::validate()`].
    pub fn parse(json: &str) -> Result<PolicyDocument, PolicyError> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| PolicyError::syntax(e.to_string()))?;
        Self::from_value(value)
    }

    /// Like [`PolicyDocument::parse`], from already-parsed JSON.
    pub fn from_value(value: Value) -> Result<PolicyDocument, PolicyError> {
        let Value::Object(top) = &value else {
            return Err(PolicyError::syntax(
                "a policy document must be a JSON object",
            ));
        };
        let mut version = None;
        let mut id = None;
        let mut statement = None;
        for (key, v) in top {
            match key.as_str() {
                "Version" => match v {
                    Value::String(s) if s == VERSION_2012_10_17 || s == VERSION_2008_10_17 => {
                        version = Some(s.clone())
                    }
                    other => {
                        return Err(PolicyError::syntax(format!(
                            "Version {} is not one IAM knows",
                            value_text(other)
                        )))
                    }
                },
                "Id" => id = Some(string(v, "Id")?),
                "Statement" => statement = Some(v),
                other => return Err(PolicyError::syntax(format!("unknown element {other}"))),
            }
        }
        let statements =
            match statement.ok_or_else(|| PolicyError::syntax("Statement is missing"))? {
                Value::Array(items) => items
                    .iter()
                    .map(parse_statement)
                    .collect::<Result<Vec<_>, _>>()?,
                single @ Value::Object(_) => vec![parse_statement(single)?],
                other => {
                    return Err(PolicyError::syntax(format!(
                        "Statement must be an object or a list, got {other}"
                    )))
                }
            };
        Ok(PolicyDocument {
            version,
            id,
            statements,
            raw: value,
        })
    }

    /// All `Federated` principals named in `Principal` of `Allow` statements, deduplicated, in document order.
    /// IAM rejects a trust policy naming an OIDC/SAML provider that does not exist; this is the list to check.
    pub fn federated_principals(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for st in self.statements.iter().filter(|s| s.effect == Effect::Allow) {
            let Some(p) = &st.principal else { continue };
            for e in p
                .entries()
                .iter()
                .filter(|e| e.kind == PrincipalKind::Federated)
            {
                if !out.contains(&e.id) {
                    out.push(e.id.clone());
                }
            }
        }
        out
    }

    /// True when policy variables (`${aws:username}`) are substituted: only for Version 2012-10-17.
    pub fn supports_variables(&self) -> bool {
        self.version.as_deref() == Some(VERSION_2012_10_17)
    }

    /// The document as submitted.
    pub fn as_json(&self) -> &Value {
        &self.raw
    }

    /// The document as submitted, as compact JSON text.
    pub fn to_json_string(&self) -> String {
        self.raw.to_string()
    }
}

impl FromStr for PolicyDocument {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PolicyDocument::parse(s)
    }
}

impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        PolicyDocument::from_value(value).map_err(serde::de::Error::custom)
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn string(v: &Value, what: &str) -> Result<String, PolicyError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(PolicyError::syntax(format!(
            "{what} must be a string, got {other}"
        ))),
    }
}

/// A string or a list of strings (IAM's usual shape for Action and Resource).
fn string_list(v: &Value, what: &str) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items.iter().map(|i| string(i, what)).collect(),
        other => Err(PolicyError::syntax(format!(
            "{what} must be a string or a list of strings, got {other}"
        ))),
    }
}

/// Pick exactly one of two mutually exclusive elements.
fn one_of<'a>(
    map: &'a Map<String, Value>,
    a: &str,
    b: &str,
) -> Result<(Option<&'a Value>, Option<&'a Value>), PolicyError> {
    let (x, y) = (map.get(a), map.get(b));
    if x.is_some() && y.is_some() {
        return Err(PolicyError::syntax(format!(
            "a statement cannot have both {a} and {b}"
        )));
    }
    Ok((x, y))
}

const STATEMENT_ELEMENTS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn parse_statement(v: &Value) -> Result<Statement, PolicyError> {
    let Value::Object(map) = v else {
        return Err(PolicyError::syntax(format!(
            "a statement must be an object, got {v}"
        )));
    };
    if let Some(unknown) = map
        .keys()
        .find(|k| !STATEMENT_ELEMENTS.contains(&k.as_str()))
    {
        return Err(PolicyError::syntax(format!(
            "unknown statement element {unknown}"
        )));
    }
    let sid = map.get("Sid").map(|s| string(s, "Sid")).transpose()?;
    let effect = match map.get("Effect") {
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        other => {
            return Err(PolicyError::syntax(format!(
                "Effect {} is neither Allow nor Deny",
                other.map_or_else(|| "(missing)".to_string(), value_text)
            )))
        }
    };

    let (p, np) = one_of(map, "Principal", "NotPrincipal")?;
    let principal = p.map(Principal::parse).transpose()?;
    let not_principal = np.map(Principal::parse).transpose()?;

    let (a, na) = one_of(map, "Action", "NotAction")?;
    let action = a.map(|v| string_list(v, "Action")).transpose()?;
    let not_action = na.map(|v| string_list(v, "NotAction")).transpose()?;
    let actions = action.as_deref().or(not_action.as_deref()).unwrap_or(&[]);
    if actions.is_empty() {
        return Err(PolicyError::MissingActions);
    }

    let (r, nr) = one_of(map, "Resource", "NotResource")?;
    let resource = r.map(|v| string_list(v, "Resource")).transpose()?;
    let not_resource = nr.map(|v| string_list(v, "NotResource")).transpose()?;

    let conditions = map
        .get("Condition")
        .map(parse_block)
        .transpose()?
        .unwrap_or_default();

    Ok(Statement {
        sid,
        effect,
        principal,
        not_principal,
        action,
        not_action,
        resource,
        not_resource,
        conditions,
    })
}
