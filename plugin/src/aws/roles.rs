//! IAM roles and their policies.

use serde_json::Value;

use super::{
    aws_error, decode_document, iam_tags, tag_pairs, tags_as_map, Aws, MANAGED_BY_TAG,
    MANAGED_BY_VALUE,
};
use crate::error::{Error, Result};

/// An IAM role as the plugin needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub name: String,
    pub arn: String,
    pub path: String,
    pub trust: Value,
    pub max_session_duration: Option<i32>,
    pub permissions_boundary: Option<String>,
    pub tags: Vec<(String, String)>,
}

impl Role {
    /// Created by kubectl-irsa (tag `managed-by=kubectl-irsa`).
    pub fn is_managed(&self) -> bool {
        self.tags
            .iter()
            .any(|(k, v)| k == MANAGED_BY_TAG && v == MANAGED_BY_VALUE)
    }
}

/// What `CreateRole` is given.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRole {
    pub name: String,
    pub path: String,
    pub trust: Value,
    pub description: String,
    pub max_session_duration: Option<i32>,
    pub permissions_boundary: Option<String>,
    #[serde(serialize_with = "tags_as_map")]
    pub tags: Vec<(String, String)>,
}

impl Aws {
    pub async fn get_role(&self, name: &str) -> Result<Option<Role>> {
        let out = match self.iam.get_role().role_name(name).send().await {
            Ok(out) => out,
            Err(e) => {
                let err = aws_error("iam:GetRole", e);
                return if err.is_aws_not_found() {
                    Ok(None)
                } else {
                    Err(err)
                };
            }
        };
        let Some(role) = out.role else {
            return Ok(None);
        };
        let trust = match role.assume_role_policy_document() {
            Some(doc) => decode_document(doc)?,
            None => Value::Null,
        };
        // GetRole returns tags on AWS; ask ListRoleTags when it did not.
        let mut tags = tag_pairs(role.tags());
        if tags.is_empty() {
            tags = self.role_tags(name).await?;
        }
        Ok(Some(Role {
            name: role.role_name().to_string(),
            arn: role.arn().to_string(),
            path: role.path().to_string(),
            trust,
            max_session_duration: role.max_session_duration(),
            permissions_boundary: role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_string),
            tags,
        }))
    }

    async fn role_tags(&self, name: &str) -> Result<Vec<(String, String)>> {
        let out = self
            .iam
            .list_role_tags()
            .role_name(name)
            .send()
            .await
            .map_err(|e| aws_error("iam:ListRoleTags", e))?;
        Ok(tag_pairs(out.tags()))
    }

    pub async fn create_role(&self, role: &NewRole) -> Result<String> {
        let out = self
            .iam
            .create_role()
            .role_name(&role.name)
            .path(&role.path)
            .description(&role.description)
            .assume_role_policy_document(role.trust.to_string())
            .set_max_session_duration(role.max_session_duration)
            .set_permissions_boundary(role.permissions_boundary.clone())
            .set_tags(Some(iam_tags(&role.tags)?))
            .send()
            .await
            .map_err(|e| aws_error("iam:CreateRole", e))?;
        Ok(out.role.map(|r| r.arn).unwrap_or_default())
    }

    pub async fn delete_role(&self, name: &str) -> Result<()> {
        self.iam
            .delete_role()
            .role_name(name)
            .send()
            .await
            .map_err(|e| aws_error("iam:DeleteRole", e))?;
        Ok(())
    }

    pub async fn update_trust(&self, role: &str, trust: &Value) -> Result<()> {
        self.iam
            .update_assume_role_policy()
            .role_name(role)
            .policy_document(trust.to_string())
            .send()
            .await
            .map_err(|e| aws_error("iam:UpdateAssumeRolePolicy", e))?;
        Ok(())
    }

    pub async fn update_max_session(&self, role: &str, seconds: i32) -> Result<()> {
        self.iam
            .update_role()
            .role_name(role)
            .max_session_duration(seconds)
            .send()
            .await
            .map_err(|e| aws_error("iam:UpdateRole", e))?;
        Ok(())
    }

    pub async fn put_boundary(&self, role: &str, arn: &str) -> Result<()> {
        self.iam
            .put_role_permissions_boundary()
            .role_name(role)
            .permissions_boundary(arn)
            .send()
            .await
            .map_err(|e| aws_error("iam:PutRolePermissionsBoundary", e))?;
        Ok(())
    }

    pub async fn delete_boundary(&self, role: &str) -> Result<()> {
        self.iam
            .delete_role_permissions_boundary()
            .role_name(role)
            .send()
            .await
            .map_err(|e| aws_error("iam:DeleteRolePermissionsBoundary", e))?;
        Ok(())
    }

    pub async fn tag_role(&self, role: &str, tags: &[(String, String)]) -> Result<()> {
        self.iam
            .tag_role()
            .role_name(role)
            .set_tags(Some(iam_tags(tags)?))
            .send()
            .await
            .map_err(|e| aws_error("iam:TagRole", e))?;
        Ok(())
    }

    pub async fn untag_role(&self, role: &str, keys: &[String]) -> Result<()> {
        self.iam
            .untag_role()
            .role_name(role)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(|e| aws_error("iam:UntagRole", e))?;
        Ok(())
    }

    /// ARNs of the managed policies attached to a role.
    pub async fn attached_policies(&self, role: &str) -> Result<Vec<String>> {
        let mut arns = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .iam
                .list_attached_role_policies()
                .role_name(role)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| aws_error("iam:ListAttachedRolePolicies", e))?;
            arns.extend(
                out.attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_string)),
            );
            if !out.is_truncated {
                break;
            }
            marker = out.marker;
            if marker.is_none() {
                break;
            }
        }
        Ok(arns)
    }

    pub async fn attach_policy(&self, role: &str, arn: &str) -> Result<()> {
        self.iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| {
                let err = aws_error("iam:AttachRolePolicy", e);
                if err.is_aws_not_found() {
                    Error::NotFound(format!(
                        "policy {arn} does not exist (or is not attachable): check the ARN \
                         (aws iam get-policy --policy-arn {arn})"
                    ))
                } else {
                    err
                }
            })?;
        Ok(())
    }

    pub async fn detach_policy(&self, role: &str, arn: &str) -> Result<()> {
        self.iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| aws_error("iam:DetachRolePolicy", e))?;
        Ok(())
    }

    /// Names of a role's inline policies.
    pub async fn inline_policies(&self, role: &str) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .iam
                .list_role_policies()
                .role_name(role)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| aws_error("iam:ListRolePolicies", e))?;
            names.extend(out.policy_names().iter().cloned());
            if !out.is_truncated {
                break;
            }
            marker = out.marker;
            if marker.is_none() {
                break;
            }
        }
        Ok(names)
    }

    pub async fn inline_policy(&self, role: &str, name: &str) -> Result<Option<Value>> {
        match self
            .iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
        {
            Ok(out) => Ok(Some(decode_document(out.policy_document())?)),
            Err(e) => {
                let err = aws_error("iam:GetRolePolicy", e);
                if err.is_aws_not_found() {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    pub async fn put_inline_policy(&self, role: &str, name: &str, doc: &Value) -> Result<()> {
        self.iam
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(doc.to_string())
            .send()
            .await
            .map_err(|e| aws_error("iam:PutRolePolicy", e))?;
        Ok(())
    }

    pub async fn delete_inline_policy(&self, role: &str, name: &str) -> Result<()> {
        self.iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map_err(|e| aws_error("iam:DeleteRolePolicy", e))?;
        Ok(())
    }

    /// The default version's document of a managed policy.
    pub async fn managed_policy_document(&self, arn: &str) -> Result<Value> {
        let policy = self
            .iam
            .get_policy()
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| aws_error("iam:GetPolicy", e))?;
        let version = policy
            .policy
            .and_then(|p| p.default_version_id)
            .unwrap_or_else(|| "v1".to_string());
        let out = self
            .iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(&version)
            .send()
            .await
            .map_err(|e| aws_error("iam:GetPolicyVersion", e))?;
        match out.policy_version.and_then(|v| v.document) {
            Some(doc) => decode_document(&doc),
            None => Ok(Value::Null),
        }
    }

    /// Whether a managed policy exists.
    pub async fn policy_exists(&self, arn: &str) -> Result<bool> {
        match self.iam.get_policy().policy_arn(arn).send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let err = aws_error("iam:GetPolicy", e);
                if err.is_aws_not_found() {
                    Ok(false)
                } else {
                    Err(err)
                }
            }
        }
    }
}
