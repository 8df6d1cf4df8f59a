//! What one binding asks for, from flags or a cluster-config entry, and the checks that need no API call.

use std::collections::BTreeMap;

use irsa_policy::{
    service_account_subject, validate_in, wildcard_match, DocumentKind, ANY_PARTITION,
};
use serde_json::Value;

use super::planner::Target;
use super::INLINE_POLICY_NAME;
use crate::commands::{validate_policy_arn, validate_role_arn};
use crate::error::{Error, Result};
use crate::kube::{is_dns_label, is_dns_subdomain};
use crate::naming::{default_role_name, is_valid_role_name, is_valid_role_path};
use crate::presets::{Placeholders, Preset};

/// Everything one binding needs, from flags or from a cluster-config entry.
#[derive(Debug, Clone, Default)]
pub struct CreateSpec {
    pub namespace: String,
    pub name: String,
    pub role_name: Option<String>,
    pub attach_policy_arns: Vec<String>,
    pub inline_policy: Option<Value>,
    pub attach_role_arn: Option<String>,
    pub permissions_boundary: Option<String>,
    pub role_path: Option<String>,
    pub max_session_duration: Option<i32>,
    pub tags: Vec<(String, String)>,
    pub audience: String,
    pub subject_pattern: Option<String>,
    pub role_only: bool,
    pub override_existing: bool,
    pub add_trust: bool,
    /// Extra metadata for the service account (from a cluster config).
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// `--well-known-policy` / `wellKnownPolicies`.
    pub well_known: Vec<&'static Preset>,
    /// `create -f --prune`: detach and delete what the spec does not list.
    pub prune: bool,
}

/// The policies a binding wants on its role, presets expanded for the target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DesiredPolicies {
    pub managed: Vec<String>,
    /// `(policy name, document)`: `kubectl-irsa` for `--inline-policy`, `kubectl-irsa-<preset>` for presets.
    pub inline: Vec<(String, Value)>,
}

impl CreateSpec {
    /// Checks that need no API call; errors are usage errors.
    pub fn validate(&self) -> Result<()> {
        if !is_dns_subdomain(&self.name) {
            return Err(Error::usage(format!(
                "service account name {:?} is not valid: lowercase letters, digits, '-' and '.', starting and \
                 ending with a letter or digit, at most 253",
                self.name
            )));
        }
        if !is_dns_label(&self.namespace) {
            return Err(Error::usage(format!(
                "namespace {:?} is not valid: lowercase letters, digits and '-', at most 63",
                self.namespace
            )));
        }
        if let Some(r) = &self.role_name {
            if !is_valid_role_name(r) {
                return Err(Error::usage(format!(
                    "--role-name {r:?} is not a valid IAM role name: 1-64 of letters, digits and +=,.@_-"
                )));
            }
        }
        if let Some(p) = &self.role_path {
            if !is_valid_role_path(p) {
                return Err(Error::usage(format!(
                    "--role-path {p:?} is not a valid IAM path: \"/\" or \"/a/b/\" (starts and ends with /)"
                )));
            }
        }
        for arn in &self.attach_policy_arns {
            validate_policy_arn("--attach-policy-arn", arn)?;
        }
        if let Some(arn) = &self.permissions_boundary {
            validate_policy_arn("--permissions-boundary", arn)?;
        }
        if let Some(arn) = &self.attach_role_arn {
            validate_role_arn("--attach-role-arn", arn)?;
        }
        if self.audience.trim().is_empty() {
            return Err(Error::usage("--audience must not be empty"));
        }
        if let Some(doc) = &self.inline_policy {
            // IAM's own checks, so a policy IAM would refuse fails here, before anything is created; the
            // account's partition is not known yet, so any partition passes.
            validate_in(&doc.to_string(), DocumentKind::Inline, ANY_PARTITION).map_err(|e| {
                let detail = e.detail().map(|d| format!(" ({d})")).unwrap_or_default();
                Error::usage(format!(
                    "the inline policy is not a valid IAM policy: {e}{detail}"
                ))
            })?;
        }
        if let Some(pattern) = &self.subject_pattern {
            let full = self.subject_pattern_full(pattern);
            let subject = service_account_subject(&self.namespace, &self.name);
            if !wildcard_match(&full, &subject) {
                return Err(Error::usage(format!(
                    "--subject-pattern {pattern:?} ({full}) does not match the service account itself ({subject})"
                )));
            }
        }
        Ok(())
    }

    /// The managed policies and inline documents the role should have, in the order given.
    pub fn desired_policies(&self, target: &Target) -> DesiredPolicies {
        self.desired_for(&Placeholders {
            partition: target.account.partition.clone(),
            account: target.account.id.clone(),
            region: target.region.clone(),
            cluster: target.cluster_label.clone(),
        })
    }

    /// The same for a binding with no OIDC provider (Pod Identity): the placeholders given directly.
    pub fn desired_for(&self, values: &Placeholders) -> DesiredPolicies {
        let mut managed: Vec<String> = Vec::new();
        let mut add = |arn: String| {
            if !managed.contains(&arn) {
                managed.push(arn);
            }
        };
        for arn in &self.attach_policy_arns {
            add(arn.clone());
        }
        for preset in &self.well_known {
            for arn in preset.managed_arns(&values.partition) {
                add(arn);
            }
        }
        let mut inline = Vec::new();
        if let Some(doc) = &self.inline_policy {
            inline.push((INLINE_POLICY_NAME.to_string(), doc.clone()));
        }
        for preset in &self.well_known {
            if let (Some(name), Some(doc)) =
                (preset.inline_policy_name(), preset.inline_document(values))
            {
                inline.push((name, doc));
            }
        }
        DesiredPolicies { managed, inline }
    }

    /// The names of the inline policies the spec puts (what `facts` reads back).
    pub fn inline_policy_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if self.inline_policy.is_some() {
            names.push(INLINE_POLICY_NAME.to_string());
        }
        names.extend(
            self.well_known
                .iter()
                .filter_map(|p| p.inline_policy_name()),
        );
        names
    }

    fn subject_pattern_full(&self, pattern: &str) -> String {
        if pattern.starts_with("system:serviceaccount:") {
            pattern.to_string()
        } else {
            service_account_subject(&self.namespace, pattern)
        }
    }

    pub fn subject(&self) -> String {
        service_account_subject(&self.namespace, &self.name)
    }

    /// The role's name: from `--attach-role-arn`, `--role-name`, else the deterministic default.
    pub fn role_name(&self, cluster: &str) -> String {
        if let Some(arn) = &self.attach_role_arn {
            if let Some(name) = irsa_policy::role_name_from_arn(arn) {
                return name;
            }
        }
        self.role_name
            .clone()
            .unwrap_or_else(|| default_role_name(cluster, &self.namespace, &self.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use irsa_names::STS_AUDIENCE;
    use serde_json::json;

    fn spec() -> CreateSpec {
        CreateSpec {
            namespace: "shop".into(),
            name: "app-1".into(),
            audience: STS_AUDIENCE.into(),
            ..Default::default()
        }
    }

    #[test]
    fn validation_names_the_problem() {
        assert!(spec().validate().is_ok());
        let mut s = spec();
        s.name = "Bad_Name".into();
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("service account name"));
        let mut s = spec();
        s.attach_policy_arns = vec!["ReadOnly".into()];
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("--attach-policy-arn"));
        let mut s = spec();
        s.subject_pattern = Some("other-*".into());
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("does not match"));
        let mut s = spec();
        s.subject_pattern = Some("app-*".into());
        assert!(s.validate().is_ok());
        let mut s = spec();
        s.role_path = Some("nope".into());
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("--role-path"));
        let mut s = spec();
        s.inline_policy = Some(json!({"Statement": "x"}));
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("inline policy"));
        // IAM's grammar, with IAM's message: the mistake is caught before the role is created.
        s.inline_policy = Some(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:List:Bucket", "Resource": "*"}]}));
        let err = s.validate().unwrap_err().to_string();
        assert!(
            err.contains("Actions/Condition can contain only one colon. (s3:List:Bucket)"),
            "{err}"
        );
        // Any real partition will do: the account's is not known yet.
        s.inline_policy = Some(json!({"Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws-cn:s3:::b/*"}]}));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn role_names_come_from_flags_or_default() {
        let mut s = spec();
        assert_eq!(s.role_name("c1"), "irsa-c1-shop-app-1");
        s.role_name = Some("mine".into());
        assert_eq!(s.role_name("c1"), "mine");
        s.attach_role_arn = Some("arn:aws:iam::111122223333:role/team/shared".into());
        assert_eq!(s.role_name("c1"), "shared");
    }
}
