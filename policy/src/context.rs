//! The request being authorized: who, what action, on which resource, and the condition keys.

use std::collections::BTreeMap;

use crate::principal::{PrincipalKind, PrincipalRef};

/// Everything policy evaluation looks at.
///
/// Condition keys are case-insensitive in IAM, so they are stored lower-cased; lookups lower-case too (and
/// fall back to a case-insensitive scan, in case a caller filled `keys` directly). A key with an empty value
/// list counts as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The caller; `None` for an anonymous or not-yet-known caller.
    pub principal: Option<PrincipalRef>,
    /// `service:Action`, e.g. `sts:AssumeRoleWithWebIdentity`.
    pub action: String,
    /// The resource ARN; `None` behaves like IAM's `*` for actions without resource-level permissions.
    pub resource: Option<String>,
    /// Condition keys (lower-cased) and their values; several values make a multivalued key.
    pub keys: BTreeMap<String, Vec<String>>,
}

impl RequestContext {
    pub fn new(action: impl Into<String>) -> Self {
        RequestContext {
            action: action.into(),
            ..Default::default()
        }
    }

    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Add one value for `key`; calling it again for the same key makes the key multivalued.
    pub fn with_key(mut self, key: impl AsRef<str>, value: impl Into<String>) -> Self {
        self.keys
            .entry(key.as_ref().to_lowercase())
            .or_default()
            .push(value.into());
        self
    }

    /// Set all values of a (multivalued) key at once, replacing earlier ones.
    pub fn with_key_values<I, V>(mut self, key: impl AsRef<str>, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        self.keys.insert(
            key.as_ref().to_lowercase(),
            values.into_iter().map(Into::into).collect(),
        );
        self
    }

    pub fn with_principal(mut self, principal: PrincipalRef) -> Self {
        self.principal = Some(principal);
        self
    }

    /// The caller is a web-identity/SAML provider, e.g. an OIDC provider ARN.
    pub fn with_federated_principal(self, arn: impl Into<String>) -> Self {
        self.with_principal(PrincipalRef::new(PrincipalKind::Federated, arn))
    }

    /// The caller is an IAM principal (role, user, session, account).
    pub fn with_aws_principal(self, arn: impl Into<String>) -> Self {
        self.with_principal(PrincipalRef::new(PrincipalKind::Aws, arn))
    }

    /// The caller is an AWS service, e.g. `ec2.amazonaws.com`.
    pub fn with_service_principal(self, service: impl Into<String>) -> Self {
        self.with_principal(PrincipalRef::new(PrincipalKind::Service, service))
    }

    /// The values of a condition key, case-insensitively; `None` if absent or empty.
    pub fn values(&self, key: &str) -> Option<&[String]> {
        let lower = key.to_lowercase();
        let found = self.keys.get(&lower).or_else(|| {
            self.keys
                .iter()
                .find(|(k, _)| k.to_lowercase() == lower)
                .map(|(_, v)| v)
        })?;
        (!found.is_empty()).then_some(found.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_and_multivalued() {
        let ctx = RequestContext::new("s3:GetObject")
            .with_key("aws:PrincipalTag/Team", "a")
            .with_key("AWS:principaltag/team", "b")
            .with_key_values("aws:TagKeys", Vec::<String>::new());
        assert_eq!(
            ctx.values("aws:principaltag/TEAM"),
            Some(&["a".to_string(), "b".to_string()][..])
        );
        assert_eq!(ctx.values("aws:tagkeys"), None);
        let mut raw = RequestContext::new("x:y");
        raw.keys.insert("Mixed:Case".into(), vec!["v".into()]);
        assert_eq!(raw.values("mixed:case"), Some(&["v".to_string()][..]));
    }
}
