//! Taking a retired cluster's OIDC provider out of a trust policy.

use serde_json::Value;

use super::statements;

/// The trust policy without the provider, and how many statements that took out and left.
#[derive(Debug, Clone, PartialEq)]
pub struct Removal {
    pub trust: Value,
    pub removed: usize,
    pub remaining: usize,
}

/// Remove `provider_arn` from every `Principal.Federated` of the trust policy: a statement naming only that
/// provider goes; one naming it among others keeps the others. `None` when the provider is not named.
pub fn remove_provider(trust: &Value, provider_arn: &str) -> Option<Removal> {
    let mut kept = Vec::new();
    let mut removed = 0;
    for mut statement in statements(trust) {
        let Some(federated) = statement.pointer_mut("/Principal/Federated") else {
            kept.push(statement);
            continue;
        };
        match federated {
            Value::String(s) if s == provider_arn => removed += 1,
            Value::Array(items) if items.iter().any(|i| i == provider_arn) => {
                items.retain(|i| i != provider_arn);
                if items.is_empty() {
                    removed += 1;
                } else {
                    if items.len() == 1 {
                        *federated = items[0].clone();
                    }
                    removed += 1;
                    kept.push(statement);
                }
            }
            _ => kept.push(statement),
        }
    }
    if removed == 0 {
        return None;
    }
    let mut trust = trust.clone();
    let remaining = kept.len();
    trust["Statement"] = Value::Array(kept);
    Some(Removal {
        trust,
        removed,
        remaining,
    })
}

/// A role that names the provider, with what decides whether `trust remove` may change it.
#[derive(Debug, Clone)]
pub struct TrustingRole {
    pub name: String,
    pub trust: Value,
    pub managed: bool,
}

/// The plan of `trust remove`: an `UpdateTrust` per role naming the provider; unmanaged roles only with
/// `include_unmanaged`; a role left trusting nothing is not changed (IAM needs a statement, and such a role
/// is `delete`'s business).
pub fn plan_removal(
    provider_arn: &str,
    roles: &[TrustingRole],
    include_unmanaged: bool,
) -> crate::plan::Plan<crate::plan::IamStep> {
    let mut plan = crate::plan::Plan::new(format!("roles trusting {provider_arn}"));
    for role in roles {
        let Some(removal) = remove_provider(&role.trust, provider_arn) else {
            continue;
        };
        if !role.managed && !include_unmanaged {
            plan.warn(format!(
                "role {} trusts the provider but is not managed by kubectl-irsa: left alone (--include-unmanaged \
                 changes it too)",
                role.name
            ));
        } else if removal.remaining == 0 {
            plan.warn(format!(
                "role {} trusts only this provider: left as it is (delete the binding with kubectl irsa delete, \
                 or kubectl irsa delete --orphans)",
                role.name
            ));
        } else {
            plan.push(crate::plan::IamStep::UpdateTrust {
                role: role.name.clone(),
                trust: removal.trust,
                previous: role.trust.clone(),
            });
        }
    }
    if plan.is_empty() && plan.warnings.is_empty() {
        plan.ok(format!("no role trusts {provider_arn}"));
    }
    plan
}
