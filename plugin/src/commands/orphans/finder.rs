//! Which bindings of this cluster are dead, decided from the account's roles (with their trust policies)
//! and the cluster's service accounts. Pure, so each case is a unit test.
//!
//! - A role is an orphan when kubectl-irsa manages it, its trust policy names this cluster's OIDC provider,
//!   and no service account it trusts carries its ARN any more (the service account is gone, or annotated
//!   with another role). A `--role-only` role whose service account is yet to be made looks the same: the
//!   plan names the subjects it trusts, so that can be seen before anything is deleted.
//! - A service account is an orphan when its role-arn annotation names a role of this account that does not
//!   exist, or whose trust policy no longer admits it.

use std::collections::BTreeMap;

use irsa_names::{AUDIENCE_ANNOTATION, ROLE_ARN_ANNOTATION, STS_AUDIENCE};
use irsa_policy::{service_account_subject, trust_admits, PolicyDocument};
use serde::Serialize;

use crate::aws::ListedRole;

/// A service account as the finder sees it.
#[derive(Debug, Clone)]
pub struct Account {
    pub namespace: String,
    pub name: String,
    pub annotations: BTreeMap<String, String>,
}

/// A role of the account, and whether kubectl-irsa manages it.
#[derive(Debug, Clone)]
pub struct AccountRole {
    pub role: ListedRole,
    pub managed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrphanRole {
    pub name: String,
    pub arn: String,
    /// The subjects its trust policy names for this cluster.
    pub subjects: Vec<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrphanServiceAccount {
    pub namespace: String,
    pub name: String,
    pub role_arn: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Orphans {
    pub roles: Vec<OrphanRole>,
    pub service_accounts: Vec<OrphanServiceAccount>,
}

impl Orphans {
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.service_accounts.is_empty()
    }
}

fn audience(account: &Account) -> String {
    account
        .annotations
        .get(AUDIENCE_ANNOTATION)
        .cloned()
        .unwrap_or_else(|| STS_AUDIENCE.to_string())
}

fn admits(trust: &serde_json::Value, provider: &str, account: &Account) -> bool {
    let subject = service_account_subject(&account.namespace, &account.name);
    PolicyDocument::from_value(trust.clone())
        .is_ok_and(|doc| trust_admits(&doc, provider, &subject, &audience(account)).is_allowed())
}

/// The `…:sub` values of the statements that name `provider`.
fn subjects_for(trust: &serde_json::Value, provider: &str) -> Vec<String> {
    let mut out = Vec::new();
    for statement in crate::trust::statements(trust) {
        let names = match statement.pointer("/Principal/Federated") {
            Some(serde_json::Value::String(s)) => s == provider,
            Some(serde_json::Value::Array(items)) => items.iter().any(|i| i == provider),
            _ => false,
        };
        if !names {
            continue;
        }
        for block in statement["Condition"]
            .as_object()
            .into_iter()
            .flat_map(|c| c.values())
        {
            for (key, value) in block.as_object().into_iter().flatten() {
                if key.ends_with(":sub") {
                    match value {
                        serde_json::Value::String(s) => out.push(s.clone()),
                        serde_json::Value::Array(items) => {
                            out.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string)))
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    out
}

fn in_namespace(subject: &str, namespace: Option<&str>) -> bool {
    namespace.is_none_or(|ns| subject.starts_with(&format!("system:serviceaccount:{ns}:")))
}

fn annotated_with(account: &Account, role: &ListedRole) -> bool {
    account
        .annotations
        .get(ROLE_ARN_ANNOTATION)
        .and_then(|arn| irsa_policy::role_name_from_arn(arn.trim()))
        .is_some_and(|name| name.eq_ignore_ascii_case(&role.name))
}

/// Find the orphans among `roles` (every role of the account `caller_account`) and `accounts` (the service
/// accounts in scope: one namespace, or all with `namespace` `None`).
pub fn find(
    provider: &str,
    caller_account: &str,
    roles: &[AccountRole],
    accounts: &[Account],
    namespace: Option<&str>,
) -> Orphans {
    let mut orphans = Orphans::default();
    for AccountRole { role, managed } in roles {
        let subjects = subjects_for(&role.trust, provider);
        if !managed || subjects.is_empty() || !subjects.iter().any(|s| in_namespace(s, namespace)) {
            continue;
        }
        let live = accounts
            .iter()
            .any(|a| annotated_with(a, role) && admits(&role.trust, provider, a));
        if !live {
            orphans.roles.push(OrphanRole {
                name: role.name.clone(),
                arn: role.arn.clone(),
                reason: format!(
                    "no service account it trusts ({}) is annotated with it",
                    subjects.join(", ")
                ),
                subjects,
            });
        }
    }
    for account in accounts {
        let Some(arn) = account.annotations.get(ROLE_ARN_ANNOTATION) else {
            continue;
        };
        let arn = arn.trim();
        let (Some(name), Some(role_account)) = (
            irsa_policy::role_name_from_arn(arn),
            irsa_policy::account_from_arn(arn),
        ) else {
            continue;
        };
        if role_account != caller_account {
            continue;
        }
        let reason = match roles
            .iter()
            .find(|r| r.role.name.eq_ignore_ascii_case(&name))
        {
            None => format!("role {name} does not exist"),
            Some(r) if !admits(&r.role.trust, provider, account) => format!(
                "the trust policy of role {name} no longer admits {}",
                service_account_subject(&account.namespace, &account.name)
            ),
            Some(_) => continue,
        };
        orphans.service_accounts.push(OrphanServiceAccount {
            namespace: account.namespace.clone(),
            name: account.name.clone(),
            role_arn: arn.to_string(),
            reason,
        });
    }
    orphans
}

#[cfg(test)]
#[path = "finder_tests.rs"]
mod tests;
