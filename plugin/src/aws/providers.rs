//! IAM OIDC providers: which issuers the account trusts, for which audiences.

use super::{aws_error, iam_tags, tag_pairs, tags_as_map, Aws};
use crate::error::Result;

/// An IAM OIDC provider.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    pub arn: String,
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    #[serde(serialize_with = "tags_as_map")]
    pub tags: Vec<(String, String)>,
}

impl Aws {
    /// ARNs of every OIDC provider in the account.
    pub async fn provider_arns(&self) -> Result<Vec<String>> {
        let out = self
            .iam
            .list_open_id_connect_providers()
            .send()
            .await
            .map_err(|e| aws_error("iam:ListOpenIDConnectProviders", e))?;
        Ok(out
            .open_id_connect_provider_list()
            .iter()
            .filter_map(|p| p.arn().map(str::to_string))
            .collect())
    }

    /// The provider for an issuer, found by listing (so the account need not be known).
    pub async fn find_provider(&self, issuer: &str) -> Result<Option<Provider>> {
        let host_path = irsa_policy::issuer_host_path(issuer);
        let suffix = format!(":oidc-provider/{host_path}");
        let arns = self.provider_arns().await?;
        match arns.iter().find(|a| a.ends_with(&suffix)) {
            Some(arn) => self.get_provider(arn).await,
            None => Ok(None),
        }
    }

    pub async fn get_provider(&self, arn: &str) -> Result<Option<Provider>> {
        let out = match self
            .iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let err = aws_error("iam:GetOpenIDConnectProvider", e);
                return if err.is_aws_not_found() {
                    Ok(None)
                } else {
                    Err(err)
                };
            }
        };
        Ok(Some(Provider {
            arn: arn.to_string(),
            url: out.url().unwrap_or_default().to_string(),
            client_ids: out.client_id_list().to_vec(),
            thumbprints: out.thumbprint_list().to_vec(),
            tags: tag_pairs(out.tags()),
        }))
    }

    pub async fn create_provider(
        &self,
        issuer: &str,
        client_ids: &[String],
        thumbprints: &[String],
        tags: &[(String, String)],
    ) -> Result<String> {
        let out = self
            .iam
            .create_open_id_connect_provider()
            .url(issuer)
            .set_client_id_list(Some(client_ids.to_vec()))
            .set_thumbprint_list(Some(thumbprints.to_vec()))
            .set_tags(Some(iam_tags(tags)?))
            .send()
            .await
            .map_err(|e| aws_error("iam:CreateOpenIDConnectProvider", e))?;
        Ok(out.open_id_connect_provider_arn.unwrap_or_default())
    }

    /// Delete the provider; one already gone counts as deleted (IAM answers NoSuchEntity to a second delete,
    /// though its API reference calls the operation idempotent), so an undo or a re-run does not fail on it.
    pub async fn delete_provider(&self, arn: &str) -> Result<()> {
        match self
            .iam
            .delete_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = aws_error("iam:DeleteOpenIDConnectProvider", e);
                if err.is_aws_not_found() {
                    Ok(())
                } else {
                    Err(err)
                }
            }
        }
    }

    pub async fn add_client_id(&self, arn: &str, client_id: &str) -> Result<()> {
        self.iam
            .add_client_id_to_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .client_id(client_id)
            .send()
            .await
            .map_err(|e| aws_error("iam:AddClientIDToOpenIDConnectProvider", e))?;
        Ok(())
    }

    pub async fn remove_client_id(&self, arn: &str, client_id: &str) -> Result<()> {
        self.iam
            .remove_client_id_from_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .client_id(client_id)
            .send()
            .await
            .map_err(|e| aws_error("iam:RemoveClientIDFromOpenIDConnectProvider", e))?;
        Ok(())
    }
}
