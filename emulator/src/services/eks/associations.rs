//! The Pod Identity association API (`/clusters/{name}/pod-identity-associations`): Create, Describe, List,
//! Update and Delete, signed for `eks`, authorized with the actions and resources IAM's Service Authorization
//! Reference gives them (the cluster for Create and List, the association for the rest; `iam:PassRole` on
//! the role as the EKS User Guide requires of whoever creates an association), and every change audited.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::wire::{self, association_json, summary_json, CreateBody, UpdateBody};
use super::Eks;
use crate::audit::{Decision, Entry};
use crate::auth::Caller;
use crate::pod_identity::Refusal;
use crate::protocol::{AwsError, EksSigning, RestError, Signed, SignedJson};
use crate::state::{blocking, AssociationFilter};

const PATH: &str = "/clusters/{name}/pod-identity-associations";
const ONE: &str = "/clusters/{name}/pod-identity-associations/{id}";

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Eks: axum::extract::FromRef<S>,
    crate::auth::Authenticator: axum::extract::FromRef<S>,
    crate::protocol::RequestLimits: axum::extract::FromRef<S>,
{
    Router::new()
        .route(PATH, get(list).post(create))
        .route(ONE, get(describe).post(update).delete(remove))
}

impl Eks {
    fn audit(&self, caller: &Caller, action: &str, role: Option<&str>, outcome: Outcome) {
        let caller = caller.arn(self.clusters.account());
        let (decision, code, explanation) = match outcome {
            Outcome::Done(explanation) => (Decision::Allow, None, explanation),
            Outcome::Refused(refusal) => (
                Decision::Deny,
                Some(refusal.error.code),
                refusal.explanation.clone(),
            ),
        };
        self.audit.record(Entry {
            caller: &caller,
            action,
            role,
            decision,
            code,
            explanation,
        });
    }
}

enum Outcome<'a> {
    Done(String),
    Refused(&'a Refusal),
}

async fn create(
    State(eks): State<Eks>,
    Path(cluster): Path<String>,
    request: SignedJson<EksSigning, CreateBody>,
) -> Result<Json<Value>, RestError> {
    const ACTION: &str = "eks:CreatePodIdentityAssociation";
    let SignedJson { caller, body, .. } = request;
    let association = blocking(move || {
        eks.authorize(&caller, ACTION, &eks.clusters.arn(&cluster))?;
        let new = body.into_new()?;
        let role = new.role_arn.clone();
        if let Some(role) = &role {
            eks.authorize(&caller, "iam:PassRole", role)?;
        }
        match eks.associations.create(&cluster, new) {
            Ok(changed) => {
                let explanation = format!(
                    "{} {}: {}",
                    cluster, changed.association.association_id, changed.explanation
                );
                eks.audit(&caller, ACTION, role.as_deref(), Outcome::Done(explanation));
                Ok(changed.association)
            }
            Err(refusal) => {
                eks.audit(&caller, ACTION, role.as_deref(), Outcome::Refused(&refusal));
                Err(refusal.error)
            }
        }
    })
    .await?;
    Ok(Json(association_json(&association)))
}

async fn describe(
    State(eks): State<Eks>,
    Path((cluster, id)): Path<(String, String)>,
    signed: Signed<EksSigning>,
) -> Result<Json<Value>, RestError> {
    let association = blocking(move || {
        let arn = eks.associations.arn(&cluster, &id);
        eks.authorize(&signed.caller, "eks:DescribePodIdentityAssociation", &arn)?;
        eks.associations.get(&cluster, &id)
    })
    .await?;
    Ok(Json(association_json(&association)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    namespace: Option<String>,
    service_account: Option<String>,
    max_results: Option<String>,
    next_token: Option<String>,
}

async fn list(
    State(eks): State<Eks>,
    Path(cluster): Path<String>,
    signed: Signed<EksSigning>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, RestError> {
    let max = wire::max_results(query.max_results.as_deref())?;
    // The token is the id the next page starts at.
    if let Some(token) = &query.next_token {
        if !token.starts_with("a-") {
            return Err(wire::invalid_next_token().into());
        }
    }
    let page = blocking(move || {
        let arn = eks.clusters.arn(&cluster);
        eks.authorize(&signed.caller, "eks:ListPodIdentityAssociations", &arn)?;
        let filter = AssociationFilter {
            namespace: query.namespace.as_deref(),
            service_account: query.service_account.as_deref(),
            from_id: query.next_token.as_deref(),
        };
        eks.associations.list(&cluster, &filter, max)
    })
    .await?;
    let mut body = serde_json::json!({
        "associations": page.items.iter().map(summary_json).collect::<Vec<_>>(),
    });
    if let Some(next) = page.next_marker {
        body["nextToken"] = next.into();
    }
    Ok(Json(body))
}

async fn update(
    State(eks): State<Eks>,
    Path((cluster, id)): Path<(String, String)>,
    request: SignedJson<EksSigning, UpdateBody>,
) -> Result<Json<Value>, RestError> {
    const ACTION: &str = "eks:UpdatePodIdentityAssociation";
    let SignedJson { caller, body, .. } = request;
    let association = blocking(move || {
        eks.authorize(&caller, ACTION, &eks.associations.arn(&cluster, &id))?;
        let update = body.into_update();
        let role = update.role_arn.clone().filter(|r| !r.is_empty());
        if let Some(role) = &role {
            eks.authorize(&caller, "iam:PassRole", role)?;
        }
        match eks.associations.update(&cluster, &id, update) {
            Ok(changed) => {
                let explanation = format!("{cluster} {id}: {}", changed.explanation);
                let role = Some(changed.association.role_arn.as_str());
                eks.audit(&caller, ACTION, role, Outcome::Done(explanation));
                Ok(changed.association)
            }
            Err(refusal) => {
                eks.audit(&caller, ACTION, role.as_deref(), Outcome::Refused(&refusal));
                Err(refusal.error)
            }
        }
    })
    .await?;
    Ok(Json(association_json(&association)))
}

async fn remove(
    State(eks): State<Eks>,
    Path((cluster, id)): Path<(String, String)>,
    signed: Signed<EksSigning>,
) -> Result<Json<Value>, RestError> {
    const ACTION: &str = "eks:DeletePodIdentityAssociation";
    let association = blocking(move || {
        eks.authorize(&signed.caller, ACTION, &eks.associations.arn(&cluster, &id))?;
        let deleted = eks.associations.delete(&cluster, &id)?;
        let explanation = format!(
            "{cluster} {id}: {}/{} no longer assumes a role",
            deleted.namespace, deleted.service_account
        );
        let role = Some(deleted.role_arn.as_str());
        eks.audit(&signed.caller, ACTION, role, Outcome::Done(explanation));
        Ok::<_, AwsError>(deleted)
    })
    .await?;
    Ok(Json(association_json(&association)))
}
