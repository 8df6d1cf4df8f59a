//! Customer managed policies and their versions; AWS managed policies are read-only from the catalog.

use chrono::Utc;

use super::catalog::AwsPolicy;
use super::paging::Paging;
use super::render::{self, PolicyView};
use super::roles::{merge_tags, KeyCase};
use super::Iam;
use super::{documents, find_policy, validate, Handled};
use crate::protocol::AwsError;
use crate::protocol::Params;
use crate::protocol::XmlWriter;
use crate::state::model::{ManagedPolicy, PolicyVersion};
use crate::state::Db;

pub const MAX_VERSIONS: usize = 5;

pub fn create(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("PolicyName")?;
    validate::policy_name(name)?;
    let document = p.required("PolicyDocument")?;
    let path = p.get("Path").unwrap_or("/");
    validate::path("Path", path)?;
    let description = p.get("Description");
    if let Some(d) = description {
        validate::description(d)?;
    }
    let tags = p.tags("Tags")?;
    validate::policy_tags(&tags)?;
    validate::within_quota(document, "PolicySize", documents::MANAGED_POLICY_QUOTA)?;
    documents::managed(document, iam.account().partition())?;
    let policy = iam.write(|db| {
        if db.policy_name_taken(name)? {
            return Err(AwsError::already_exists(format!(
                "A policy called {name} already exists. Duplicate names are not allowed."
            )));
        }
        let now = Utc::now();
        let mut policy = ManagedPolicy {
            name: name.to_string(),
            path: path.to_string(),
            policy_id: crate::ids::policy_id(),
            arn: iam.account().iam_arn(&format!("policy{path}{name}")),
            description: description.map(str::to_string),
            create_date: now,
            update_date: now,
            default_version_id: "v1".into(),
            versions: vec![PolicyVersion {
                version_id: "v1".into(),
                document: document.to_string(),
                create_date: now,
            }],
            next_version: 2,
            tags: Vec::new(),
        };
        merge_tags(&mut policy.tags, tags, "TagsPerPolicy", KeyCase::Sensitive)?;
        db.put_policy(&policy)?;
        Ok(policy)
    })?;
    let mut xml = XmlWriter::new();
    render::policy(&mut xml, "Policy", &policy, 0, PolicyView::Created);
    Ok(Some(xml))
}

pub fn get(iam: &Iam, p: &Params) -> Handled {
    let arn = p.required("PolicyArn")?;
    let (policy, attachments) = iam.read(|db| {
        let policy = find_policy(&iam.catalog, db, arn)?;
        Ok((policy, db.attachment_count(arn)?))
    })?;
    let mut xml = XmlWriter::new();
    render::policy(&mut xml, "Policy", &policy, attachments, PolicyView::Got);
    Ok(Some(xml))
}

/// A customer managed policy that may be changed; AWS managed ones may not.
fn customer_policy(iam: &Iam, db: &Db, arn: &str) -> Result<ManagedPolicy, AwsError> {
    let policy = find_policy(&iam.catalog, db, arn)?;
    if policy.is_aws_managed() {
        return Err(AwsError::invalid_input(format!(
            "Policy {arn} is an AWS managed policy and cannot be changed; create a customer managed copy instead."
        )));
    }
    Ok(policy)
}

pub fn delete(iam: &Iam, p: &Params) -> Handled {
    let arn = p.required("PolicyArn")?;
    iam.write(|db| {
        let policy = customer_policy(iam, db, arn)?;
        if db.attachment_count(arn)? > 0 {
            return Err(AwsError::delete_conflict(
                "Cannot delete a policy attached to entities.",
            ));
        }
        if policy.versions.len() > 1 {
            return Err(AwsError::delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
            ));
        }
        Ok(db.delete_policy(arn)?)
    })?;
    Ok(None)
}

pub fn list(iam: &Iam, p: &Params) -> Handled {
    let scope = p.get("Scope").unwrap_or("All");
    if !["All", "AWS", "Local"].contains(&scope) {
        return Err(AwsError::constraint(
            "Scope",
            scope,
            "Member must satisfy enum value set: [All, AWS, Local]",
        ));
    }
    let only_attached = p.bool("OnlyAttached")?.unwrap_or(false);
    let prefix = p.get("PathPrefix").unwrap_or("/");
    validate::path_prefix(prefix)?;
    let paging = Paging::from_params(p)?;
    // 1,500 AWS policies are listed as handles; only the page's become records.
    let listed = iam.read(|db| {
        let counts = db.attachment_counts()?;
        let count_of = |arn: &str| counts.get(arn).copied().unwrap_or(0);
        // The account's own first: AWS lists a policy just made in the first page of ListPolicies without a
        // Scope, ahead of its 1,000 and more (LocalStack's recording, tests/aws/services/iam/
        // test_iam_policies.snapshot.json "…test_policy_lifecycle" filtered-policy-list, from one call with the
        // default 100 items).
        let mut listed: Vec<(Listed, usize)> = Vec::new();
        if scope != "AWS" {
            for policy in db
                .policies()?
                .into_iter()
                .filter(|p| p.path.starts_with(prefix))
            {
                let count = count_of(&policy.arn);
                listed.push((Listed::Local(Box::new(policy)), count));
            }
        }
        if scope != "Local" {
            listed.extend(
                iam.catalog
                    .listing(prefix)
                    .map(|p| (Listed::Aws(p), count_of(&p.arn()))),
            );
        }
        listed.retain(|(_, count)| !only_attached || *count > 0);
        Ok(listed)
    })?;
    let page = paging.page(listed)?;
    let mut xml = XmlWriter::new();
    xml.open("Policies");
    for (listed, count) in page.items {
        let policy = match listed {
            Listed::Aws(p) => p.summary(),
            Listed::Local(p) => *p,
        };
        render::policy(&mut xml, "member", &policy, count, PolicyView::Listed);
    }
    xml.close("Policies");
    render::pagination(&mut xml, page.next_marker.as_deref());
    Ok(Some(xml))
}

enum Listed {
    Aws(AwsPolicy),
    Local(Box<ManagedPolicy>),
}

fn no_such_version(arn: &str, version: &str) -> AwsError {
    AwsError::no_such_entity(format!(
        "Policy {arn} version {version} does not exist or is not attachable."
    ))
}

/// A version of a policy that does not exist is missing as a version (AWS's answer to GetPolicyVersion and
/// SetDefaultPolicyVersion, recorded by LocalStack: tests/aws/services/iam/test_iam_policies.snapshot.json
/// "…test_policy_version_errors" err-get-version-nonexistent-policy, err-set-default-nonexistent-policy).
fn missing_version(error: AwsError, arn: &str, version: &str) -> AwsError {
    match error.code {
        "NoSuchEntity" => no_such_version(arn, version),
        _ => error,
    }
}

pub fn get_version(iam: &Iam, p: &Params) -> Handled {
    let arn = p.required("PolicyArn")?;
    let version_id = p.required("VersionId")?;
    let policy = iam.read(|db| {
        find_policy(&iam.catalog, db, arn).map_err(|e| missing_version(e, arn, version_id))
    })?;
    let version = policy
        .versions
        .iter()
        .find(|v| v.version_id == version_id)
        .ok_or_else(|| no_such_version(arn, version_id))?;
    let mut xml = XmlWriter::new();
    render::policy_version(
        &mut xml,
        "PolicyVersion",
        version,
        version.version_id == policy.default_version_id,
        true,
    );
    Ok(Some(xml))
}

pub fn create_version(iam: &Iam, p: &Params) -> Handled {
    let arn = p.required("PolicyArn")?;
    let document = p.required("PolicyDocument")?;
    let set_default = p.bool("SetAsDefault")?.unwrap_or(false);
    validate::within_quota(document, "PolicySize", documents::MANAGED_POLICY_QUOTA)?;
    documents::managed(document, iam.account().partition())?;
    let (version, is_default) = iam.write(|db| {
        let mut policy = customer_policy(iam, db, arn)?;
        if policy.versions.len() >= MAX_VERSIONS {
            return Err(AwsError::limit_exceeded(format!(
                "A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new version, you must delete an existing version."
            )));
        }
        let now = Utc::now();
        let version = PolicyVersion {
            version_id: format!("v{}", policy.next_version),
            document: document.to_string(),
            create_date: now,
        };
        policy.next_version += 1;
        policy.update_date = now;
        if set_default {
            policy.default_version_id = version.version_id.clone();
        }
        policy.versions.push(version.clone());
        db.put_policy(&policy)?;
        Ok((version, set_default))
    })?;
    let mut xml = XmlWriter::new();
    render::policy_version(&mut xml, "PolicyVersion", &version, is_default, false);
    Ok(Some(xml))
}

/// Newest version first, as IAM lists them.
pub fn list_versions(iam: &Iam, p: &Params) -> Handled {
    let arn = p.required("PolicyArn")?;
    let paging = Paging::from_params(p)?;
    let policy = iam.read(|db| find_policy(&iam.catalog, db, arn))?;
    let page = paging.page(policy.versions.iter().rev().collect())?;
    let mut xml = XmlWriter::new();
    xml.open("Versions");
    for version in page.items {
        render::policy_version(
            &mut xml,
            "member",
            version,
            version.version_id == policy.default_version_id,
            false,
        );
    }
    xml.close("Versions");
    render::pagination(&mut xml, page.next_marker.as_deref());
    Ok(Some(xml))
}

pub fn delete_version(iam: &Iam, p: &Params) -> Handled {
    let arn = p.required("PolicyArn")?;
    let version_id = p.required("VersionId")?;
    iam.write(|db| {
        let mut policy = customer_policy(iam, db, arn)?;
        if !policy.versions.iter().any(|v| v.version_id == version_id) {
            return Err(no_such_version(arn, version_id));
        }
        if policy.default_version_id == version_id {
            return Err(AwsError::delete_conflict(
                "Cannot delete the default version of a policy.",
            ));
        }
        policy.versions.retain(|v| v.version_id != version_id);
        Ok(db.put_policy(&policy)?)
    })?;
    Ok(None)
}

pub fn set_default_version(iam: &Iam, p: &Params) -> Handled {
    let arn = p.required("PolicyArn")?;
    let version_id = p.required("VersionId")?;
    iam.write(|db| {
        let mut policy =
            customer_policy(iam, db, arn).map_err(|e| missing_version(e, arn, version_id))?;
        if !policy.versions.iter().any(|v| v.version_id == version_id) {
            return Err(no_such_version(arn, version_id));
        }
        policy.default_version_id = version_id.to_string();
        policy.update_date = Utc::now();
        Ok(db.put_policy(&policy)?)
    })?;
    Ok(None)
}
