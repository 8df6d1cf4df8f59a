//! EKS Pod Identity, the domain: associations between a cluster's service accounts and IAM roles (what EKS's
//! `…/pod-identity-associations` API manages), and what eks-auth decides when a pod's agent asks for
//! credentials ([`exchange`]). The wire formats are in `services/eks` and `services/eks_auth`; this module
//! has the rules.

pub mod exchange;
pub mod validate;

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::Utc;

use crate::clusters;
use crate::partition::Account;
use crate::protocol::AwsError;
use crate::state::model::{PodIdentityAssociation, Role, Tag};
use crate::state::{AssociationFilter, Db, Page, Store};

/// What CreatePodIdentityAssociation asks for, already taken off the wire.
#[derive(Debug, Clone, Default)]
pub struct NewAssociation {
    pub namespace: Option<String>,
    pub service_account: Option<String>,
    pub role_arn: Option<String>,
    pub target_role_arn: Option<String>,
    pub disable_session_tags: Option<bool>,
    pub policy: Option<String>,
    pub tags: Vec<Tag>,
    pub client_request_token: Option<String>,
}

/// What UpdatePodIdentityAssociation changes; absent members stay. An empty `target_role_arn` or `policy`
/// removes it.
#[derive(Debug, Clone, Default)]
pub struct AssociationUpdate {
    pub role_arn: Option<String>,
    pub target_role_arn: Option<String>,
    pub disable_session_tags: Option<bool>,
    pub policy: Option<String>,
}

/// A change that was made, for the audit log: what it did and to which association.
pub struct Changed {
    pub association: PodIdentityAssociation,
    pub explanation: String,
}

/// A request refused, with the reason the audit log keeps (more than EKS tells the caller).
#[derive(Debug)]
pub struct Refusal {
    pub error: AwsError,
    pub explanation: String,
}

impl From<AwsError> for Refusal {
    fn from(error: AwsError) -> Self {
        Refusal {
            explanation: error.message.clone(),
            error,
        }
    }
}

impl From<crate::state::StoreError> for Refusal {
    fn from(error: crate::state::StoreError) -> Self {
        AwsError::from(error).into()
    }
}

/// The account's associations. Blocking (SQLite): call from the blocking pool.
#[derive(Clone)]
pub struct Associations {
    store: Arc<Store>,
    region: Arc<str>,
    account: Account,
}

pub fn not_found(id: &str) -> AwsError {
    AwsError::new(
        "ResourceNotFoundException",
        StatusCode::NOT_FOUND,
        format!("No Pod Identity Association found for id: {id}."),
    )
}

/// The 409 EKS answers a second association for one service account with; the id is the existing one's
/// (crossplane-on-eks #168, eksctl #7753: "ResourceInUseException: Association already exists: a-…").
fn already_exists(existing: &PodIdentityAssociation) -> AwsError {
    AwsError::new(
        "ResourceInUseException",
        StatusCode::CONFLICT,
        format!("Association already exists: {}", existing.association_id),
    )
}

impl Associations {
    pub fn new(store: Arc<Store>, region: &str, account: &Account) -> Self {
        Associations {
            store,
            region: region.into(),
            account: account.clone(),
        }
    }

    pub fn arn(&self, cluster: &str, id: &str) -> String {
        self.account.arn(
            "eks",
            &self.region,
            &format!("podidentityassociation/{cluster}/{id}"),
        )
    }

    /// The role `arn` names, if it is one of this account's (EKS requires the association's role in the
    /// cluster's account: IAM PassRole).
    fn own_role(&self, db: &Db, arn: &str) -> Result<Role, AwsError> {
        let name = irsa_policy::role_name_from_arn(arn).ok_or_else(|| {
            validate::invalid_parameter(format!("Role ARN {arn} is not a valid IAM role ARN"))
        })?;
        db.role(&name)?
            .filter(|r| r.arn == arn)
            .ok_or_else(validate::role_does_not_exist)
    }

    /// The checks every role given to an association gets: it exists here and trusts EKS Pod Identity.
    fn checked_role(&self, db: &Db, arn: &str) -> Result<Role, Refusal> {
        let role = self.own_role(db, arn)?;
        validate::trust_admits_pod_identity(&role).map_err(|why| Refusal {
            error: validate::trust_invalid(),
            explanation: why,
        })?;
        Ok(role)
    }

    fn target_role(arn: &str) -> Result<(), AwsError> {
        irsa_policy::role_name_from_arn(arn)
            .map(|_| ())
            .ok_or_else(|| {
                validate::invalid_parameter(format!(
                    "Target role ARN {arn} is not a valid IAM role ARN"
                ))
            })
    }

    /// What the chained AssumeRole passes as `ExternalId`: the EKS User Guide ("Access AWS Resources using
    /// EKS Pod Identity Target IAM Roles") shows `region/account/cluster-name/namespace/service-account-name`.
    fn external_id(&self, cluster: &str, namespace: &str, service_account: &str) -> String {
        format!(
            "{}/{}/{cluster}/{namespace}/{service_account}",
            self.region,
            self.account.id()
        )
    }

    pub fn create(&self, cluster: &str, new: NewAssociation) -> Result<Changed, Refusal> {
        let namespace = validate::required(new.namespace.as_deref(), "namespace")?.to_string();
        let service_account =
            validate::required(new.service_account.as_deref(), "serviceAccount")?.to_string();
        let role_arn = validate::required(new.role_arn.as_deref(), "roleArn")?.to_string();
        validate::namespace(&namespace)?;
        validate::service_account(&service_account)?;
        validate::tags(&new.tags)?;
        let disable_session_tags = new.disable_session_tags.unwrap_or(false);
        let policy = new.policy.filter(|p| !p.is_empty());
        if let Some(policy) = &policy {
            validate::session_policy(policy, disable_session_tags, self.account.partition())?;
        }
        let target_role_arn = new.target_role_arn.filter(|t| !t.is_empty());
        if let Some(target) = &target_role_arn {
            Self::target_role(target)?;
        }
        self.store.write(|db| {
            db.cluster(cluster)?
                .ok_or_else(|| clusters::not_found(cluster))?;
            if let Some(existing) = db.association_for(cluster, &namespace, &service_account)? {
                // A retry with the same idempotency token is the same request: the same answer.
                if new.client_request_token.is_some()
                    && existing.client_request_token == new.client_request_token
                {
                    return Ok(Changed {
                        explanation: "retried with the same clientRequestToken".into(),
                        association: existing,
                    });
                }
                return Err(already_exists(&existing).into());
            }
            let role = self.checked_role(db, &role_arn)?;
            let id = crate::ids::association_id();
            let now = Utc::now();
            let association = PodIdentityAssociation {
                cluster_name: cluster.to_string(),
                association_arn: self.arn(cluster, &id),
                association_id: id,
                external_id: target_role_arn
                    .as_ref()
                    .map(|_| self.external_id(cluster, &namespace, &service_account)),
                namespace,
                service_account,
                role_arn,
                target_role_arn,
                disable_session_tags,
                policy,
                tags: new.tags,
                created_at: now,
                modified_at: now,
                owner_arn: None,
                client_request_token: new.client_request_token,
            };
            db.put_association(&association)?;
            Ok(Changed {
                explanation: format!(
                    "{}/{} may assume {} (its trust admits pods.eks.amazonaws.com)",
                    association.namespace, association.service_account, role.name
                ),
                association,
            })
        })
    }

    pub fn get(&self, cluster: &str, id: &str) -> Result<PodIdentityAssociation, AwsError> {
        self.store.read(|db| {
            db.cluster(cluster)?
                .ok_or_else(|| clusters::not_found(cluster))?;
            db.association(cluster, id)?.ok_or_else(|| not_found(id))
        })
    }

    pub fn list(
        &self,
        cluster: &str,
        filter: &AssociationFilter,
        max: usize,
    ) -> Result<Page<PodIdentityAssociation>, AwsError> {
        self.store.read(|db| {
            db.cluster(cluster)?
                .ok_or_else(|| clusters::not_found(cluster))?;
            Ok(db.list_associations(cluster, filter, max)?)
        })
    }

    pub fn update(
        &self,
        cluster: &str,
        id: &str,
        update: AssociationUpdate,
    ) -> Result<Changed, Refusal> {
        self.store.write(|db| {
            db.cluster(cluster)?
                .ok_or_else(|| clusters::not_found(cluster))?;
            let mut association = db
                .association(cluster, id)?
                .ok_or_else(|| Refusal::from(not_found(id)))?;
            let mut changes = Vec::new();
            if let Some(role_arn) = update.role_arn.filter(|r| !r.is_empty()) {
                self.checked_role(db, &role_arn)?;
                changes.push(format!("role {} -> {role_arn}", association.role_arn));
                association.role_arn = role_arn;
            }
            if let Some(disable) = update.disable_session_tags {
                association.disable_session_tags = disable;
                changes.push(format!("disableSessionTags {disable}"));
            }
            if let Some(target) = update.target_role_arn {
                if target.is_empty() {
                    association.target_role_arn = None;
                    association.external_id = None;
                    changes.push("target role removed".into());
                } else {
                    Self::target_role(&target)?;
                    association.external_id = Some(self.external_id(
                        cluster,
                        &association.namespace,
                        &association.service_account,
                    ));
                    changes.push(format!("target role {target}"));
                    association.target_role_arn = Some(target);
                }
            }
            if let Some(policy) = update.policy {
                association.policy = (!policy.is_empty()).then_some(policy);
                changes.push("session policy replaced".into());
            }
            if let Some(policy) = &association.policy {
                validate::session_policy(
                    policy,
                    association.disable_session_tags,
                    self.account.partition(),
                )?;
            }
            association.modified_at = Utc::now();
            db.put_association(&association)?;
            Ok(Changed {
                explanation: if changes.is_empty() {
                    "nothing changed".into()
                } else {
                    changes.join(", ")
                },
                association,
            })
        })
    }

    pub fn delete(&self, cluster: &str, id: &str) -> Result<PodIdentityAssociation, AwsError> {
        self.store.write(|db| {
            db.cluster(cluster)?
                .ok_or_else(|| clusters::not_found(cluster))?;
            let association = db.association(cluster, id)?.ok_or_else(|| not_found(id))?;
            db.delete_association(cluster, id)?;
            Ok(association)
        })
    }

    /// Every (namespace, service account) of `cluster` with an association: who the webhook injects for.
    pub fn associated_service_accounts(
        &self,
        cluster: &str,
    ) -> Result<Vec<(String, String)>, AwsError> {
        self.store
            .read(|db| Ok(db.associated_service_accounts(cluster)?))
    }

    /// The association pods of `namespace/service_account` in `cluster` get, if any.
    pub fn for_service_account(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
    ) -> Result<Option<PodIdentityAssociation>, AwsError> {
        self.store
            .read(|db| Ok(db.association_for(cluster, namespace, service_account)?))
    }

    /// Changes with every committed write (see [`Store::generation`]).
    pub fn generation(&self) -> u64 {
        self.store.generation()
    }
}
