//! AWS managed policies (`arn:aws:iam::aws:policy/…`) with their real documents, read-only, shared by every
//! emulated account as in AWS.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::state::model::{ManagedPolicy, PolicyVersion};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/catalog.rs"));
}

const INDEX: &str = include_str!("catalog/index.json");

#[derive(Deserialize)]
struct IndexEntry {
    name: String,
    path: String,
    description: String,
    version_id: String,
    create_date: DateTime<Utc>,
}

pub struct Catalog {
    policies: Vec<ManagedPolicy>,
}

impl Catalog {
    pub fn builtin() -> Catalog {
        let index: Vec<IndexEntry> =
            serde_json::from_str(INDEX).expect("catalog/index.json is valid (checked by tests)");
        let mut policies: Vec<ManagedPolicy> = embedded::DOCUMENTS
            .iter()
            .map(|(name, document)| {
                let entry = index.iter().find(|e| e.name == *name);
                let path = entry.map_or("/", |e| e.path.as_str());
                let version_id = entry.map_or("v1", |e| e.version_id.as_str()).to_string();
                let created = entry.map_or_else(Utc::now, |e| e.create_date);
                ManagedPolicy {
                    name: name.to_string(),
                    path: path.to_string(),
                    policy_id: stable_policy_id(name),
                    arn: format!("arn:aws:iam::aws:policy{path}{name}"),
                    description: entry.map(|e| e.description.clone()),
                    create_date: created,
                    update_date: created,
                    default_version_id: version_id.clone(),
                    versions: vec![PolicyVersion {
                        version_id,
                        document: document.to_string(),
                        create_date: created,
                    }],
                    next_version: 0,
                    tags: Vec::new(),
                }
            })
            .collect();
        policies.sort_by(|a, b| a.name.cmp(&b.name));
        Catalog { policies }
    }

    pub fn get(&self, arn: &str) -> Option<&ManagedPolicy> {
        self.policies.iter().find(|p| p.arn == arn)
    }

    pub fn policies(&self) -> impl Iterator<Item = &ManagedPolicy> {
        self.policies.iter()
    }
}

/// The same id on every start, like AWS's fixed ids for its managed policies.
fn stable_policy_id(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let suffix: String = digest
        .iter()
        .take(17)
        .map(|b| alphabet[(*b as usize) % 32] as char)
        .collect();
    format!("ANPA{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_documents_are_valid_identity_policies() {
        let catalog = Catalog::builtin();
        for required in [
            "AmazonS3ReadOnlyAccess",
            "AmazonS3FullAccess",
            "AmazonEC2ContainerRegistryReadOnly",
            "AmazonEC2ContainerRegistryPowerUser",
            "AmazonDynamoDBReadOnlyAccess",
            "CloudWatchAgentServerPolicy",
            "AdministratorAccess",
        ] {
            let policy = catalog
                .get(&format!("arn:aws:iam::aws:policy/{required}"))
                .unwrap_or_else(|| panic!("{required} missing from catalog"));
            let doc = &policy.default_version().expect("default version").document;
            irsa_policy::validate(doc, irsa_policy::DocumentKind::Managed)
                .unwrap_or_else(|e| panic!("{required}: {}", e.message()));
        }
    }
}
