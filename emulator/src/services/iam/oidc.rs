//! IAM OpenID Connect providers: the account's record of which issuers it trusts, for which audiences.

use chrono::Utc;

use super::paging::Paging;
use super::render;
use super::roles::{merge_tags, KeyCase};
use super::Iam;
use super::{validate, Handled};
use crate::partition::Partition;
use crate::protocol::AwsError;
use crate::protocol::Params;
use crate::protocol::XmlWriter;
use crate::state::model::OidcProvider;
use crate::state::Db;

const ARN_PARAM: &str = "OpenIDConnectProviderArn";
const MAX_CLIENT_IDS: usize = 100;
const MAX_THUMBPRINTS: usize = 5;

/// IAM keys providers by the issuer without its scheme; the ARN embeds the same string. IAM's codes and
/// messages: no scheme or no host is a `ValidationError`, another scheme or a query/fragment `InvalidInput`.
/// (IAM also refuses explicit ports; the emulator accepts them because its own issuers have one.)
pub fn provider_url(issuer: &str) -> Result<String, AwsError> {
    const INVALID: &str = "Invalid Open ID Connect Provider URL";
    let Some((scheme, rest)) = issuer.split_once("://") else {
        return Err(AwsError::validation(INVALID));
    };
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.starts_with('/') {
        return Err(AwsError::validation(INVALID));
    }
    if scheme != "https" {
        return Err(AwsError::invalid_input(format!(
            "{INVALID}. The URL must begin with https://."
        )));
    }
    if rest.len() > 255 || rest.contains(['?', '#', ' ', '@']) {
        return Err(AwsError::invalid_input(format!("{INVALID}.")));
    }
    Ok(rest.to_string())
}

/// IAM checks only the length of a thumbprint (not that it is hex). Too many is `InvalidInput` with IAM's
/// wording ("fewer than 5" where 5 are allowed), not a `LimitExceeded` quota.
fn thumbprints(values: &[String]) -> Result<(), AwsError> {
    if values.len() > MAX_THUMBPRINTS {
        return Err(AwsError::invalid_input(format!(
            "Thumbprint list must contain fewer than {MAX_THUMBPRINTS} entries."
        )));
    }
    if values.iter().any(|t| t.chars().count() != 40) {
        return Err(AwsError::invalid_input(
            "Thumbprint must be exactly 40 characters.",
        ));
    }
    Ok(())
}

fn client_id(value: &str) -> Result<(), AwsError> {
    if value.is_empty() || value.len() > 255 {
        return Err(AwsError::constraint(
            "ClientID",
            value,
            "Member must have length between 1 and 255",
        ));
    }
    Ok(())
}

fn existing(db: &Db, partition: Partition, arn: &str) -> Result<OidcProvider, AwsError> {
    super::same_partition(arn, partition)?;
    let is_iam_arn = arn.starts_with("arn:") && arn.split(':').nth(2) == Some("iam");
    if !is_iam_arn || !arn.contains(":oidc-provider/") {
        return Err(AwsError::validation(format!("ARN {arn} is not valid.")));
    }
    db.oidc_provider(arn)?.ok_or_else(|| {
        AwsError::no_such_entity(format!("OpenIDConnect Provider not found for arn {arn}"))
    })
}

pub fn create(iam: &Iam, p: &Params) -> Handled {
    let issuer = p.required("Url")?;
    let url = provider_url(issuer)?;
    let client_ids = p.list("ClientIDList");
    if client_ids.len() > MAX_CLIENT_IDS {
        return Err(AwsError::limit_exceeded(format!(
            "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
        )));
    }
    for id in &client_ids {
        client_id(id)?;
    }
    let thumbprint_list = p.list("ThumbprintList");
    thumbprints(&thumbprint_list)?;
    let tags = p.tags("Tags")?;
    validate::tags(&tags)?;
    let arn = iam.account().iam_arn(&format!("oidc-provider/{url}"));
    let provider = iam.write(|db| {
        if db.oidc_provider(&arn)?.is_some() {
            return Err(AwsError::already_exists(format!(
                "Provider with url https://{url} already exists."
            )));
        }
        let mut deduped = Vec::new();
        for id in client_ids {
            if !deduped.contains(&id) {
                deduped.push(id);
            }
        }
        let mut provider = OidcProvider {
            arn: arn.clone(),
            url: url.clone(),
            client_ids: deduped,
            thumbprints: thumbprint_list,
            create_date: Utc::now(),
            tags: Vec::new(),
        };
        merge_tags(
            &mut provider.tags,
            tags,
            "TagsPerOpenIdConnectProvider",
            KeyCase::Sensitive,
        )?;
        db.put_oidc_provider(&provider)?;
        Ok(provider)
    })?;
    let mut xml = XmlWriter::new();
    xml.text_element("OpenIDConnectProviderArn", &provider.arn);
    if !provider.tags.is_empty() {
        render::tags(&mut xml, &provider.tags);
    }
    Ok(Some(xml))
}

pub fn get(iam: &Iam, p: &Params) -> Handled {
    let arn = p.required(ARN_PARAM)?;
    let provider = iam.read(|db| existing(db, iam.account().partition(), arn))?;
    let mut xml = XmlWriter::new();
    render::oidc_provider(&mut xml, &provider);
    Ok(Some(xml))
}

pub fn list(iam: &Iam, _: &Params) -> Handled {
    let providers = iam.read(|db| Ok(db.oidc_providers()?))?;
    let mut xml = XmlWriter::new();
    xml.open("OpenIDConnectProviderList");
    for provider in providers {
        xml.open("member")
            .text_element("Arn", &provider.arn)
            .close("member");
    }
    xml.close("OpenIDConnectProviderList");
    Ok(Some(xml))
}

pub fn delete(iam: &Iam, p: &Params) -> Handled {
    let arn = p.required(ARN_PARAM)?;
    // A provider that is not there is NoSuchEntity, in DeleteOpenIDConnectProvider's own words, although the API
    // reference calls the operation idempotent: AWS's answer to a second delete, recorded by LocalStack
    // (tests/aws/services/iam/test_iam_oidc.snapshot.json "…test_delete_open_id_connect_provider"
    // deletion-not-found-error, February 2026).
    iam.write(|db| {
        existing(db, iam.account().partition(), arn).map_err(|e| match e.code {
            "NoSuchEntity" => {
                AwsError::no_such_entity(format!("OpenId connect Provider {arn} cannot be found."))
            }
            _ => e,
        })?;
        Ok(db.delete_oidc_provider(arn)?)
    })?;
    Ok(None)
}

fn update(
    iam: &Iam,
    p: &Params,
    change: impl FnOnce(&mut OidcProvider) -> Result<(), AwsError>,
) -> Handled {
    let arn = p.required(ARN_PARAM)?;
    iam.write(|db| {
        let mut provider = existing(db, iam.account().partition(), arn)?;
        change(&mut provider)?;
        Ok(db.put_oidc_provider(&provider)?)
    })?;
    Ok(None)
}

pub fn add_client_id(iam: &Iam, p: &Params) -> Handled {
    let id = p.required("ClientID")?.to_string();
    client_id(&id)?;
    update(iam, p, |provider| {
        if !provider.client_ids.contains(&id) {
            if provider.client_ids.len() >= MAX_CLIENT_IDS {
                return Err(AwsError::limit_exceeded(format!(
                    "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
                )));
            }
            provider.client_ids.push(id);
        }
        Ok(())
    })
}

pub fn remove_client_id(iam: &Iam, p: &Params) -> Handled {
    let id = p.required("ClientID")?.to_string();
    update(iam, p, |provider| {
        provider.client_ids.retain(|c| *c != id);
        Ok(())
    })
}

pub fn update_thumbprint(iam: &Iam, p: &Params) -> Handled {
    let list = p.list("ThumbprintList");
    thumbprints(&list)?;
    update(iam, p, |provider| {
        provider.thumbprints = list;
        Ok(())
    })
}

pub fn tag(iam: &Iam, p: &Params) -> Handled {
    let tags = p.tags("Tags")?;
    validate::tags(&tags)?;
    update(iam, p, |provider| {
        // Past 50, AWS's own words for a provider (LocalStack's recording, tests/aws/services/iam/
        // test_iam_oidc.snapshot.json "…test_open_id_connect_provider_tags_limit" tags-limit-error), not the
        // quota's as for roles.
        merge_tags(
            &mut provider.tags,
            tags,
            "TagsPerOpenIdConnectProvider",
            KeyCase::Sensitive,
        )
        .map_err(|e| match e.code {
            "LimitExceeded" => {
                AwsError::limit_exceeded("The number of tags has reached the maximum limit.")
            }
            _ => e,
        })
    })
}

pub fn untag(iam: &Iam, p: &Params) -> Handled {
    let keys = p.list("TagKeys");
    update(iam, p, |provider| {
        provider.tags.retain(|t| !keys.contains(&t.key));
        Ok(())
    })
}

pub fn list_tags(iam: &Iam, p: &Params) -> Handled {
    let arn = p.required(ARN_PARAM)?;
    let provider = iam.read(|db| existing(db, iam.account().partition(), arn))?;
    render::tag_page(&Paging::from_params(p)?, provider.tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_url_strips_scheme_and_trailing_slash() {
        assert_eq!(
            provider_url("https://oidc.eks.us-west-2.amazonaws.com/id/ABC/").unwrap(),
            "oidc.eks.us-west-2.amazonaws.com/id/ABC"
        );
        assert_eq!(
            provider_url("http://insecure.example").unwrap_err().code,
            "InvalidInput"
        );
        assert_eq!(
            provider_url("https://").unwrap_err().code,
            "ValidationError"
        );
        assert_eq!(
            provider_url("example.com").unwrap_err().code,
            "ValidationError"
        );
        assert_eq!(
            provider_url("https://x/?q=1").unwrap_err().code,
            "InvalidInput"
        );
        assert_eq!(
            provider_url("https://127.0.0.1:8443/id/A").unwrap(),
            "127.0.0.1:8443/id/A"
        );
    }
}
