//! Trust policies parsed once per version: a role's document is parsed on its first AssumeRole* and reused
//! while the stored text is the same. The text is the version: IAM keeps the document verbatim, so any change
//! (UpdateAssumeRolePolicy, a role re-created under the same name, which gets a new RoleId) misses the cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use irsa_policy::PolicyDocument;

use crate::protocol::AwsError;
use crate::state::model::Role;

/// Enough for every role a lab or a test suite assumes; past it the cache starts over rather than grow.
const MAX_ROLES: usize = 4096;

#[derive(Default)]
pub struct TrustPolicies {
    by_role_id: Mutex<HashMap<String, (String, Arc<PolicyDocument>)>>,
}

impl TrustPolicies {
    /// `role`'s trust policy, parsed.
    pub fn of(&self, role: &Role) -> Result<Arc<PolicyDocument>, AwsError> {
        if let Some((text, parsed)) = self.lock().get(&role.role_id) {
            if *text == role.assume_role_policy {
                return Ok(parsed.clone());
            }
        }
        let parsed = Arc::new(
            PolicyDocument::parse(&role.assume_role_policy).map_err(|e| {
                AwsError::internal(format!(
                    "stored trust policy does not parse: {}",
                    e.message()
                ))
            })?,
        );
        let mut cache = self.lock();
        if cache.len() >= MAX_ROLES {
            cache.clear();
        }
        cache.insert(
            role.role_id.clone(),
            (role.assume_role_policy.clone(), parsed.clone()),
        );
        Ok(parsed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Arc<PolicyDocument>)>> {
        self.by_role_id.lock().unwrap_or_else(|p| p.into_inner())
    }
}
