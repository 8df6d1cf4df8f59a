//! The `Principal` / `NotPrincipal` element, and who a request comes from.
//!
//! IAM principals are `"*"` or a map of principal type (`AWS`, `Federated`, `Service`, `CanonicalUser`) to one
//! id or a list. Matching follows IAM's equivalences that matter for trust policies: a 12-digit account id means
//! that account's root, the account root stands for every principal in the account, and a role ARN admits the
//! sessions of that role (`arn:aws:sts::<acct>:assumed-role/<name>/<session>`).

use std::fmt;

use serde_json::Value;

use crate::arn::{is_account_id, role_name_from_arn, Arn};
use crate::error::PolicyError;

/// The type of a principal, i.e. the key in a `Principal` map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalKind {
    /// IAM users, roles, sessions, accounts (`"AWS"`).
    Aws,
    /// Web-identity and SAML providers (`"Federated"`), e.g. an OIDC provider ARN.
    Federated,
    /// AWS services (`"Service"`), e.g. `ec2.amazonaws.com`.
    Service,
    /// S3 canonical user ids (`"CanonicalUser"`).
    CanonicalUser,
}

impl PrincipalKind {
    /// The key as written in a policy.
    pub fn as_str(&self) -> &'static str {
        match self {
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::Service => "Service",
            PrincipalKind::CanonicalUser => "CanonicalUser",
        }
    }

    /// Parse a `Principal` map key (case-sensitive, as IAM is).
    pub fn from_key(key: &str) -> Option<Self> {
        match key {
            "AWS" => Some(PrincipalKind::Aws),
            "Federated" => Some(PrincipalKind::Federated),
            "Service" => Some(PrincipalKind::Service),
            "CanonicalUser" => Some(PrincipalKind::CanonicalUser),
            _ => None,
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One principal: a type and an id. Used both for entries of a policy's `Principal` element and for the
/// principal making a request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrincipalRef {
    pub kind: PrincipalKind,
    pub id: String,
}

impl PrincipalRef {
    pub fn new(kind: PrincipalKind, id: impl Into<String>) -> Self {
        PrincipalRef {
            kind,
            id: id.into(),
        }
    }
    /// An `AWS` principal (ARN or 12-digit account id).
    pub fn aws(id: impl Into<String>) -> Self {
        Self::new(PrincipalKind::Aws, id)
    }
    /// A `Federated` principal, e.g. an OIDC provider ARN.
    pub fn federated(id: impl Into<String>) -> Self {
        Self::new(PrincipalKind::Federated, id)
    }
    /// A `Service` principal, e.g. `ec2.amazonaws.com`.
    pub fn service(id: impl Into<String>) -> Self {
        Self::new(PrincipalKind::Service, id)
    }
}

impl fmt::Display for PrincipalRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.id)
    }
}

/// The value of a `Principal` or `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `"*"`: everyone, including anonymous callers.
    Any,
    /// A map of principal types to ids, flattened in document order.
    Named(Vec<PrincipalRef>),
}

impl Principal {
    /// The named entries (empty for [`Principal::Any`]).
    pub fn entries(&self) -> &[PrincipalRef] {
        match self {
            Principal::Any => &[],
            Principal::Named(v) => v,
        }
    }

    /// Does this element name `who`?
    pub fn matches(&self, who: &PrincipalRef) -> bool {
        match self {
            Principal::Any => true,
            Principal::Named(entries) => entries.iter().any(|e| entry_matches(e, who)),
        }
    }

    pub(crate) fn parse(value: &Value) -> Result<Self, PolicyError> {
        match value {
            Value::String(s) if s == "*" => Ok(Principal::Any),
            Value::String(s) => Err(PolicyError::InvalidPrincipal(format!("\"{s}\""))),
            Value::Object(map) => {
                if map.is_empty() {
                    return Err(PolicyError::syntax("empty Principal"));
                }
                let mut entries = Vec::new();
                for (key, ids) in map {
                    let kind = PrincipalKind::from_key(key)
                        .ok_or_else(|| PolicyError::InvalidPrincipal(format!("\"{key}\":{ids}")))?;
                    for id in string_or_list(ids)? {
                        validate_entry(kind, &id)?;
                        entries.push(PrincipalRef { kind, id });
                    }
                }
                Ok(Principal::Named(entries))
            }
            other => Err(PolicyError::syntax(format!(
                "Principal must be \"*\" or an object, got {other}"
            ))),
        }
    }
}

fn string_or_list(value: &Value) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(PolicyError::syntax(format!(
                    "principal ids must be strings, got {other}"
                ))),
            })
            .collect(),
        other => Err(PolicyError::syntax(format!(
            "principal ids must be a string or a list, got {other}"
        ))),
    }
}

fn validate_entry(kind: PrincipalKind, id: &str) -> Result<(), PolicyError> {
    let invalid = || PolicyError::InvalidPrincipal(format!("\"{}\":\"{}\"", kind.as_str(), id));
    if id.is_empty() {
        return Err(invalid());
    }
    if kind == PrincipalKind::Aws && id != "*" && !is_account_id(id) && id.parse::<Arn>().is_err() {
        return Err(invalid());
    }
    Ok(())
}

/// The account a principal id belongs to: the id itself for a bare account id, the ARN's account otherwise.
fn account_of(id: &str) -> Option<String> {
    if is_account_id(id) {
        return Some(id.to_string());
    }
    id.parse::<Arn>()
        .ok()
        .map(|a| a.account)
        .filter(|a| !a.is_empty())
}

fn entry_matches(entry: &PrincipalRef, who: &PrincipalRef) -> bool {
    // IAM documents `{"AWS": "*"}` as equivalent to `"*"`.
    if entry.kind == PrincipalKind::Aws && entry.id == "*" {
        return true;
    }
    if entry.kind != who.kind {
        return false;
    }
    match entry.kind {
        PrincipalKind::Aws => aws_matches(&entry.id, &who.id),
        PrincipalKind::Service => entry.id.eq_ignore_ascii_case(&who.id),
        PrincipalKind::Federated | PrincipalKind::CanonicalUser => entry.id == who.id,
    }
}

fn aws_matches(entry: &str, who: &str) -> bool {
    // IAM stores a bare account id as that account's root ARN, in the account's own partition.
    if is_account_id(entry) {
        return account_of(who).as_deref() == Some(entry);
    }
    let entry = entry.to_string();
    if entry == who {
        return true;
    }
    let Ok(entry_arn) = entry.parse::<Arn>() else {
        return false;
    };
    if entry_arn.is_account_root() {
        return account_of(who).as_deref() == Some(entry_arn.account.as_str());
    }
    // A role ARN in a principal admits that role's sessions.
    if entry_arn.service == "iam" && entry_arn.resource.starts_with("role/") {
        if let Ok(who_arn) = who.parse::<Arn>() {
            if who_arn.service == "sts"
                && who_arn.resource.starts_with("assumed-role/")
                && who_arn.account == entry_arn.account
            {
                return role_name_from_arn(&entry) == role_name_from_arn(who);
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_shapes() {
        assert_eq!(Principal::parse(&json!("*")).unwrap(), Principal::Any);
        let p = Principal::parse(&json!({"AWS": ["111122223333", "arn:aws:iam::1:role/r"], "Service": "ec2.amazonaws.com"}))
            .unwrap();
        assert_eq!(p.entries().len(), 3);
        assert_eq!(p.entries()[2], PrincipalRef::service("ec2.amazonaws.com"));
        assert!(matches!(
            Principal::parse(&json!({"AWS": "bob"})),
            Err(PolicyError::InvalidPrincipal(m)) if m == "\"AWS\":\"bob\""
        ));
        assert!(matches!(
            Principal::parse(&json!({"Nobody": "x"})),
            Err(PolicyError::InvalidPrincipal(_))
        ));
        assert!(matches!(
            Principal::parse(&json!(3)),
            Err(PolicyError::Syntax { .. })
        ));
        assert!(matches!(
            Principal::parse(&json!({})),
            Err(PolicyError::Syntax { .. })
        ));
    }

    #[test]
    fn account_equivalences() {
        let by_id = Principal::parse(&json!({"AWS": "111122223333"})).unwrap();
        assert!(by_id.matches(&PrincipalRef::aws("arn:aws:iam::111122223333:root")));
        assert!(by_id.matches(&PrincipalRef::aws("arn:aws:iam::111122223333:role/x")));
        assert!(!by_id.matches(&PrincipalRef::aws("arn:aws:iam::999999999999:role/x")));
        assert!(!by_id.matches(&PrincipalRef::federated("arn:aws:iam::111122223333:root")));

        let role =
            Principal::parse(&json!({"AWS": "arn:aws:iam::111122223333:role/app/r"})).unwrap();
        assert!(role.matches(&PrincipalRef::aws(
            "arn:aws:sts::111122223333:assumed-role/r/s"
        )));
        assert!(!role.matches(&PrincipalRef::aws(
            "arn:aws:sts::111122223333:assumed-role/q/s"
        )));
        assert!(!role.matches(&PrincipalRef::aws("arn:aws:iam::111122223333:role/other")));

        let any_aws = Principal::parse(&json!({"AWS": "*"})).unwrap();
        assert!(any_aws.matches(&PrincipalRef::federated("x")));
    }
}
