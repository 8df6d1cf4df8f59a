//! Every role of the account with its trust policy (ListRoles returns the trust document, so finding the
//! roles that trust a cluster costs one call per 100 roles); tags only for the roles asked about (ListRoles
//! leaves them out, as IAM does).

use serde_json::Value;

use super::{aws_error, decode_document, Aws};
use crate::error::Result;

/// A role as ListRoles has it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedRole {
    pub name: String,
    pub arn: String,
    pub trust: Value,
}

impl Aws {
    pub async fn list_roles(&self) -> Result<Vec<ListedRole>> {
        let mut roles = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .iam
                .list_roles()
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| aws_error("iam:ListRoles", e))?;
            for role in out.roles() {
                let trust = match role.assume_role_policy_document() {
                    Some(doc) => decode_document(doc).unwrap_or(Value::Null),
                    None => Value::Null,
                };
                roles.push(ListedRole {
                    name: role.role_name().to_string(),
                    arn: role.arn().to_string(),
                    trust,
                });
            }
            if !out.is_truncated {
                break;
            }
            marker = out.marker;
            if marker.is_none() {
                break;
            }
        }
        Ok(roles)
    }

    /// A role's tags (ListRoleTags).
    pub async fn tags_of(&self, role: &str) -> Result<Vec<(String, String)>> {
        let out = self
            .iam
            .list_role_tags()
            .role_name(role)
            .send()
            .await
            .map_err(|e| aws_error("iam:ListRoleTags", e))?;
        Ok(super::tag_pairs(out.tags()))
    }
}
