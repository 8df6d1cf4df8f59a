//! What AssumeRoleWithWebIdentity reads from the store (the issuer's provider and the role), remembered until
//! the next committed write. STS is the hot path and reads the same few rows again and again; a hit costs no
//! trip to the blocking pool, and any write (a role's trust updated, a provider deleted, a reset) makes every
//! entry stale at once, so nothing is served that the store would not answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::protocol::AwsError;
use crate::state::model::{OidcProvider, Role};
use crate::state::{blocking, Store};

/// Enough for every (issuer, role) pair a lab or a load test uses; past it the cache starts over.
const MAX_ENTRIES: usize = 4096;

/// The provider registered for a token's issuer and the role `RoleArn` names, as the store has them.
#[derive(Debug)]
pub struct Found {
    pub provider: Option<OidcProvider>,
    pub role: Option<Role>,
}

/// Which rows to read: the provider's ARN, and the role's name and ARN when `RoleArn` is one.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Wanted {
    pub provider_arn: String,
    pub role: Option<(String, String)>,
}

#[derive(Default)]
pub struct Lookups {
    cache: Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    generation: u64,
    entries: HashMap<Wanted, Arc<Found>>,
}

impl Lookups {
    pub async fn find(&self, store: &Arc<Store>, wanted: Wanted) -> Result<Arc<Found>, AwsError> {
        let generation = store.generation();
        if let Some(found) = self.cached(generation, &wanted) {
            return Ok(found);
        }
        let (store, key) = (store.clone(), wanted.clone());
        let found = Arc::new(
            blocking(move || {
                store.read(|db| {
                    let provider = db.oidc_provider(&key.provider_arn)?;
                    let role = match &key.role {
                        Some((name, arn)) => db.role(name)?.filter(|r| r.arn == *arn),
                        None => None,
                    };
                    Ok::<_, AwsError>(Found { provider, role })
                })
            })
            .await?,
        );
        let mut cache = self.lock();
        // Read while the store was at `generation`: only worth keeping beside entries of that generation.
        if cache.generation > generation {
            return Ok(found);
        }
        if cache.generation < generation {
            cache.entries.clear();
            cache.generation = generation;
        }
        if cache.entries.len() >= MAX_ENTRIES {
            cache.entries.clear();
        }
        cache.entries.insert(wanted, found.clone());
        Ok(found)
    }

    fn cached(&self, generation: u64, wanted: &Wanted) -> Option<Arc<Found>> {
        let cache = self.lock();
        (cache.generation == generation)
            .then(|| cache.entries.get(wanted).cloned())
            .flatten()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    const ARN: &str = "arn:aws:iam::111122223333:oidc-provider/example.com";

    fn wanted() -> Wanted {
        Wanted {
            provider_arn: ARN.into(),
            role: Some(("r".into(), "arn:aws:iam::111122223333:role/r".into())),
        }
    }

    #[tokio::test]
    async fn reads_are_reused_until_the_next_write() {
        let store = Arc::new(Store::open(None).unwrap());
        let provider = OidcProvider {
            arn: ARN.into(),
            url: "example.com".into(),
            client_ids: vec!["sts.amazonaws.com".into()],
            thumbprints: Vec::new(),
            create_date: Utc::now(),
            tags: Vec::new(),
        };
        store.write(|db| db.put_oidc_provider(&provider)).unwrap();
        let lookups = Lookups::default();
        let first = lookups.find(&store, wanted()).await.unwrap();
        assert!(first.provider.is_some());
        assert!(first.role.is_none(), "no such role");
        let again = lookups.find(&store, wanted()).await.unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "the second read is the cached one"
        );

        store.write(|db| db.delete_oidc_provider(ARN)).unwrap();
        let after = lookups.find(&store, wanted()).await.unwrap();
        assert!(
            after.provider.is_none(),
            "a write makes what was read stale"
        );
    }
}
