//! IAM over the Query protocol: one handler per action, each translating parameters to state changes and
//! records to XML.

mod authz;
pub mod catalog;
mod documents;
mod managed;
mod oidc;
mod paging;
pub mod render;
mod role_policies;
mod roles;
pub mod validate;

pub use authz::Authorizer;
pub use oidc::provider_url;

use std::sync::Arc;

use catalog::Catalog;

use crate::auth::{missing_authentication, Caller};
use crate::partition::{Account, Partition};
use crate::protocol::{AwsError, Params, XmlWriter};
use crate::state::model::ManagedPolicy;
use crate::state::{blocking, Db, Store};

/// A handler's outcome: the inner XML of `<ActionResult>`, `None` for actions without output.
pub type Handled = Result<Option<XmlWriter>, AwsError>;

type Handler = fn(&Iam, &Params) -> Handled;

/// IAM: roles, policies and OIDC providers of the one emulated account.
#[derive(Clone)]
pub struct Iam {
    store: Arc<Store>,
    catalog: Arc<Catalog>,
    account: Account,
    authorizer: Authorizer,
}

impl Iam {
    pub fn new(
        store: Arc<Store>,
        catalog: Arc<Catalog>,
        account: &Account,
        authorizer: Authorizer,
    ) -> Self {
        Iam {
            store,
            catalog,
            account: account.clone(),
            authorizer,
        }
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    pub fn account_id(&self) -> &str {
        self.account.id()
    }

    /// [`Store::read`] with IAM's error.
    fn read<T>(&self, f: impl FnOnce(&Db) -> Result<T, AwsError>) -> Result<T, AwsError> {
        self.store.read(f)
    }

    /// [`Store::write`] with IAM's error.
    fn write<T>(&self, f: impl FnOnce(&Db) -> Result<T, AwsError>) -> Result<T, AwsError> {
        self.store.write(f)
    }

    /// One IAM call, on the blocking pool (every handler reads or writes the store). A role session must be
    /// allowed the action by its role's policies; the admin may do everything.
    pub async fn handle(&self, caller: Option<Caller>, action: String, params: Params) -> Handled {
        let iam = self.clone();
        blocking(move || {
            let caller = caller.ok_or_else(missing_authentication)?;
            // Naming the resource may read the role; only role sessions are ever refused, so only they pay
            // for it.
            if caller.role().is_some() {
                let resource = iam.resource_for(&action, &params);
                iam.authorizer
                    .authorize(&caller, &format!("iam:{action}"), &resource)?;
            }
            iam.dispatch(&action, &params)
        })
        .await
    }

    fn dispatch(&self, action: &str, params: &Params) -> Handled {
        match handler(action) {
            Some(handle) => handle(self, params),
            // IAM's own answer to an action it lacks (fog-aws#368: "InvalidAction => Could not find
            // operation ReplaceIamInstanceProfileAssociation for version 2010-05-08").
            None => Err(AwsError::new(
                "InvalidAction",
                axum::http::StatusCode::BAD_REQUEST,
                format!("Could not find operation {action} for version 2010-05-08"),
            )),
        }
    }

    /// The resource ARN an IAM action acts on, as IAM authorizes it.
    fn resource_for(&self, action: &str, params: &Params) -> String {
        let account = self.account();
        if let Some(name) = params.get("RoleName") {
            let arn = self
                .read(|db| Ok(db.role(name)?.map(|r| r.arn)))
                .ok()
                .flatten();
            let path = params.get("Path").unwrap_or("/");
            return arn.unwrap_or_else(|| account.iam_arn(&format!("role{path}{name}")));
        }
        if let Some(arn) = params
            .get("PolicyArn")
            .or(params.get("OpenIDConnectProviderArn"))
        {
            return arn.to_string();
        }
        match action {
            "CreatePolicy" => account.iam_arn(&format!(
                "policy{}{}",
                params.get("Path").unwrap_or("/"),
                params.get("PolicyName").unwrap_or_default()
            )),
            "CreateOpenIDConnectProvider" => account.iam_arn(&format!(
                "oidc-provider/{}",
                params
                    .get("Url")
                    .and_then(|u| provider_url(u).ok())
                    .unwrap_or_default()
            )),
            _ => "*".to_string(),
        }
    }
}

fn handler(action: &str) -> Option<Handler> {
    Some(match action {
        "CreateRole" => roles::create,
        "GetRole" => roles::get,
        "DeleteRole" => roles::delete,
        "ListRoles" => roles::list,
        "UpdateRole" => roles::update_role,
        "UpdateRoleDescription" => roles::update_description,
        "UpdateAssumeRolePolicy" => roles::update_assume_role_policy,
        "TagRole" => roles::tag,
        "UntagRole" => roles::untag,
        "ListRoleTags" => roles::list_tags,
        "PutRolePermissionsBoundary" => roles::put_permissions_boundary,
        "DeleteRolePermissionsBoundary" => roles::delete_permissions_boundary,
        "AttachRolePolicy" => role_policies::attach,
        "DetachRolePolicy" => role_policies::detach,
        "ListAttachedRolePolicies" => role_policies::list_attached,
        "PutRolePolicy" => role_policies::put_inline,
        "GetRolePolicy" => role_policies::get_inline,
        "DeleteRolePolicy" => role_policies::delete_inline,
        "ListRolePolicies" => role_policies::list_inline,
        "CreatePolicy" => managed::create,
        "GetPolicy" => managed::get,
        "DeletePolicy" => managed::delete,
        "ListPolicies" => managed::list,
        "GetPolicyVersion" => managed::get_version,
        "CreatePolicyVersion" => managed::create_version,
        "ListPolicyVersions" => managed::list_versions,
        "DeletePolicyVersion" => managed::delete_version,
        "SetDefaultPolicyVersion" => managed::set_default_version,
        "CreateOpenIDConnectProvider" => oidc::create,
        "GetOpenIDConnectProvider" => oidc::get,
        "ListOpenIDConnectProviders" => oidc::list,
        "DeleteOpenIDConnectProvider" => oidc::delete,
        "AddClientIDToOpenIDConnectProvider" => oidc::add_client_id,
        "RemoveClientIDFromOpenIDConnectProvider" => oidc::remove_client_id,
        "UpdateOpenIDConnectProviderThumbprint" => oidc::update_thumbprint,
        "TagOpenIDConnectProvider" => oidc::tag,
        "UntagOpenIDConnectProvider" => oidc::untag,
        "ListOpenIDConnectProviderTags" => oidc::list_tags,
        _ => return None,
    })
}

/// A well-formed ARN of another partition than the account's: 400 ValidationError "Invalid ARN partition",
/// the answer users report for `arn:aws:iam::aws:policy/…` in AttachRolePolicy from China
/// (pulumi/pulumi-aws-apigateway#347, cn-northwest-1) and GovCloud (cattle-ops/terraform-aws-gitlab-runner
/// #1273); IAM's 2024 notice on strict input ARNs says the partition must match the caller's for every IAM
/// API that takes an ARN (cloud-gov/aws-broker#383). Malformed ARNs are left to the caller's own check.
pub fn same_partition(arn: &str, partition: Partition) -> Result<(), AwsError> {
    match arn.parse::<irsa_policy::Arn>() {
        Ok(parsed) if parsed.partition != partition.name() => {
            Err(AwsError::validation("Invalid ARN partition"))
        }
        _ => Ok(()),
    }
}

/// A policy by ARN, from the AWS catalog or the account's own; IAM's wording when it is not there.
pub fn find_policy(catalog: &Catalog, db: &Db, arn: &str) -> Result<ManagedPolicy, AwsError> {
    same_partition(arn, catalog.partition())?;
    let iam_prefix = format!("arn:{}:iam::", catalog.partition().name());
    if !arn.starts_with(&iam_prefix) || !arn.contains(":policy/") {
        return Err(AwsError::invalid_input(format!("ARN {arn} is not valid.")));
    }
    let found = match catalog.get(arn) {
        Some(policy) => Some(policy.clone()),
        None => db.policy(arn)?,
    };
    found.ok_or_else(|| {
        AwsError::no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
    })
}

/// A policy named as a permissions boundary: a missing one is the boundary's "Scope ARN" (AWS's answer to
/// CreateRole and PutRolePermissionsBoundary, recorded by LocalStack: tests/aws/services/iam/
/// test_iam_roles.snapshot.json "…test_role_permissions_boundary_errors" put-nonexistent-policy-error).
pub fn find_boundary(catalog: &Catalog, db: &Db, arn: &str) -> Result<ManagedPolicy, AwsError> {
    find_policy(catalog, db, arn).map_err(|e| match e.code {
        "NoSuchEntity" => AwsError::no_such_entity(format!(
            "Scope ARN: {arn} does not exist or is not attachable."
        )),
        _ => e,
    })
}
