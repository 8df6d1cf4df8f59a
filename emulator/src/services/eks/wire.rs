//! EKS's JSON shapes for Pod Identity associations (botocore `eks` 2017-11-01: `PodIdentityAssociation`,
//! `PodIdentityAssociationSummary`, the request members) and the list parameters EKS's listings share.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::pod_identity::{validate, AssociationUpdate, NewAssociation};
use crate::protocol::AwsError;
use crate::state::model::{PodIdentityAssociation, Tag};

/// REST-JSON timestamps are epoch seconds with a fraction (the User Guide's example: `1700862734.922`).
fn epoch_seconds(time: &chrono::DateTime<chrono::Utc>) -> f64 {
    time.timestamp_millis() as f64 / 1000.0
}

fn tags_json(tags: &[Tag]) -> Value {
    Value::Object(
        tags.iter()
            .map(|t| (t.key.clone(), Value::from(t.value.clone())))
            .collect(),
    )
}

/// `{"association": PodIdentityAssociation}`: every member that has a value, `tags` always (`{}` when none,
/// as the AWS CLI's examples show).
pub fn association_json(a: &PodIdentityAssociation) -> Value {
    let mut json = serde_json::json!({
        "clusterName": a.cluster_name,
        "namespace": a.namespace,
        "serviceAccount": a.service_account,
        "roleArn": a.role_arn,
        "associationArn": a.association_arn,
        "associationId": a.association_id,
        "tags": tags_json(&a.tags),
        "createdAt": epoch_seconds(&a.created_at),
        "modifiedAt": epoch_seconds(&a.modified_at),
        "disableSessionTags": a.disable_session_tags,
    });
    for (member, value) in [
        ("ownerArn", &a.owner_arn),
        ("targetRoleArn", &a.target_role_arn),
        ("externalId", &a.external_id),
        ("policy", &a.policy),
    ] {
        if let Some(value) = value {
            json[member] = value.clone().into();
        }
    }
    serde_json::json!({ "association": json })
}

/// One entry of ListPodIdentityAssociations (`PodIdentityAssociationSummary`).
pub fn summary_json(a: &PodIdentityAssociation) -> Value {
    let mut json = serde_json::json!({
        "clusterName": a.cluster_name,
        "namespace": a.namespace,
        "serviceAccount": a.service_account,
        "associationArn": a.association_arn,
        "associationId": a.association_id,
    });
    if let Some(owner) = &a.owner_arn {
        json["ownerArn"] = owner.clone().into();
    }
    json
}

/// A TagMap in the order the caller wrote it.
fn tags_from(map: Option<Map<String, Value>>) -> Result<Vec<Tag>, AwsError> {
    map.unwrap_or_default()
        .into_iter()
        .map(|(key, value)| match value {
            Value::String(value) => Ok(Tag { key, value }),
            other => Err(validate::invalid_parameter(format!(
                "The value of tag {key} must be a string, not {other}"
            ))),
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    namespace: Option<String>,
    service_account: Option<String>,
    role_arn: Option<String>,
    client_request_token: Option<String>,
    tags: Option<Map<String, Value>>,
    disable_session_tags: Option<bool>,
    target_role_arn: Option<String>,
    policy: Option<String>,
}

impl CreateBody {
    pub fn into_new(self) -> Result<NewAssociation, AwsError> {
        Ok(NewAssociation {
            namespace: self.namespace,
            service_account: self.service_account,
            role_arn: self.role_arn,
            target_role_arn: self.target_role_arn,
            disable_session_tags: self.disable_session_tags,
            policy: self.policy,
            tags: tags_from(self.tags)?,
            client_request_token: self.client_request_token,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateBody {
    role_arn: Option<String>,
    #[allow(dead_code)] // an idempotency token: an update applied twice has the same result anyway
    client_request_token: Option<String>,
    disable_session_tags: Option<bool>,
    target_role_arn: Option<String>,
    policy: Option<String>,
}

impl UpdateBody {
    pub fn into_update(self) -> AssociationUpdate {
        AssociationUpdate {
            role_arn: self.role_arn,
            target_role_arn: self.target_role_arn,
            disable_session_tags: self.disable_session_tags,
            policy: self.policy,
        }
    }
}

fn invalid(message: &str) -> AwsError {
    AwsError::new(
        "InvalidParameterException",
        StatusCode::BAD_REQUEST,
        message,
    )
}

/// `maxResults` of EKS's listings: 1–100, default 100.
pub fn max_results(raw: Option<&str>) -> Result<usize, AwsError> {
    match raw.map(str::parse::<usize>) {
        None => Ok(100),
        Some(Ok(n)) if (1..=100).contains(&n) => Ok(n),
        Some(_) => Err(invalid("maxResults must be an integer between 1 and 100")),
    }
}

pub fn invalid_next_token() -> AwsError {
    invalid("The nextToken provided is invalid.")
}
