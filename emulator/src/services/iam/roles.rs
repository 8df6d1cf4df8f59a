//! Role operations: the role itself, its trust policy, tags and boundary.

use chrono::Utc;

use super::paging::Paging;
use super::render::{self, Detail};
use super::Iam;
use super::{documents, find_boundary, validate, Handled};
use crate::protocol::AwsError;
use crate::protocol::Params;
use crate::protocol::XmlWriter;
use crate::state::model::{Role, Tag};
use crate::state::Db;

pub fn no_such_role(name: &str) -> AwsError {
    AwsError::no_such_entity(format!("The role with name {name} cannot be found."))
}

pub fn existing(db: &Db, name: &str) -> Result<Role, AwsError> {
    db.role(name)?.ok_or_else(|| no_such_role(name))
}

fn role_result(role: &Role, detail: Detail) -> XmlWriter {
    let mut xml = XmlWriter::new();
    render::role(&mut xml, "Role", role, detail);
    xml
}

pub fn create(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    validate::role_name(name)?;
    let document = p.required("AssumeRolePolicyDocument")?;
    let path = p.get("Path").unwrap_or("/");
    validate::path("Path", path)?;
    let description = p.get("Description");
    if let Some(d) = description {
        validate::description(d)?;
    }
    let max_session_duration = p.int("MaxSessionDuration")?.unwrap_or(3600);
    validate::max_session_duration(max_session_duration)?;
    let tags = p.tags("Tags")?;
    validate::tags(&tags)?;
    if tags.len() > validate::MAX_TAGS {
        return Err(AwsError::limit_exceeded(
            "Cannot exceed quota for TagsPerRole: 50",
        ));
    }
    let boundary = p.get("PermissionsBoundary");
    validate::within_quota(document, "ACLSizePerRole", documents::TRUST_POLICY_QUOTA)?;

    let role = iam.write(|db| {
        documents::trust(db, iam.account(), document)?;
        if let Some(arn) = boundary {
            find_boundary(&iam.catalog, db, arn)?;
        }
        if db.role(name)?.is_some() {
            return Err(AwsError::already_exists(format!(
                "Role with name {name} already exists."
            )));
        }
        let role = Role {
            name: name.to_string(),
            path: path.to_string(),
            role_id: crate::ids::role_id(),
            arn: iam.account().iam_arn(&format!("role{path}{name}")),
            create_date: Utc::now(),
            assume_role_policy: document.to_string(),
            description: description.map(str::to_string),
            max_session_duration,
            permissions_boundary: boundary.map(str::to_string),
            tags: tags
                .into_iter()
                .map(|(key, value)| Tag { key, value })
                .collect(),
            inline_policies: Vec::new(),
        };
        db.put_role(&role)?;
        Ok(role)
    })?;
    Ok(Some(role_result(&role, Detail::Created)))
}

pub fn get(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let role = iam.read(|db| existing(db, name))?;
    Ok(Some(role_result(&role, Detail::Full)))
}

pub fn delete(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    iam.write(|db| {
        let role = existing(db, name)?;
        if !db.attached_policies(name)?.is_empty() {
            return Err(AwsError::delete_conflict(
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        if !role.inline_policies.is_empty() {
            return Err(AwsError::delete_conflict(
                "Cannot delete entity, must delete policies first.",
            ));
        }
        db.delete_role(name)?;
        Ok(())
    })?;
    Ok(None)
}

pub fn list(iam: &Iam, p: &Params) -> Handled {
    let prefix = p.get("PathPrefix").unwrap_or("/");
    validate::path_prefix(prefix)?;
    let paging = Paging::from_params(p)?;
    let page = iam.read(|db| Ok(db.list_roles(prefix, paging.marker, paging.max)?))?;
    let mut xml = XmlWriter::new();
    xml.open("Roles");
    for role in &page.items {
        render::role(&mut xml, "member", role, Detail::Listing);
    }
    xml.close("Roles");
    render::pagination(&mut xml, page.next_marker.as_deref());
    Ok(Some(xml))
}

/// Applies `change` to an existing role inside one transaction.
fn update(
    iam: &Iam,
    name: &str,
    change: impl FnOnce(&Db, &mut Role) -> Result<(), AwsError>,
) -> Result<Role, AwsError> {
    iam.write(|db| {
        let mut role = existing(db, name)?;
        change(db, &mut role)?;
        db.put_role(&role)?;
        Ok(role)
    })
}

pub fn update_role(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let description = p.get("Description");
    if let Some(d) = description {
        validate::description(d)?;
    }
    let duration = p.int("MaxSessionDuration")?;
    if let Some(d) = duration {
        validate::max_session_duration(d)?;
    }
    update(iam, name, |_, role| {
        if let Some(d) = description {
            role.description = Some(d.to_string());
        }
        if let Some(d) = duration {
            role.max_session_duration = d;
        }
        Ok(())
    })?;
    Ok(Some(XmlWriter::new()))
}

pub fn update_description(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let description = p.required("Description")?;
    validate::description(description)?;
    let role = update(iam, name, |_, role| {
        role.description = Some(description.to_string());
        Ok(())
    })?;
    Ok(Some(role_result(&role, Detail::DescriptionUpdated)))
}

pub fn update_assume_role_policy(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let document = p.required("PolicyDocument")?;
    validate::within_quota(document, "ACLSizePerRole", documents::TRUST_POLICY_QUOTA)?;
    update(iam, name, |db, role| {
        documents::trust(db, iam.account(), document)?;
        role.assume_role_policy = document.to_string();
        Ok(())
    })?;
    Ok(None)
}

pub fn put_permissions_boundary(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let arn = p.required("PermissionsBoundary")?;
    update(iam, name, |db, role| {
        find_boundary(&iam.catalog, db, arn)?;
        role.permissions_boundary = Some(arn.to_string());
        Ok(())
    })?;
    Ok(None)
}

pub fn delete_permissions_boundary(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    update(iam, name, |_, role| {
        role.permissions_boundary = None;
        Ok(())
    })?;
    Ok(None)
}

pub fn tag(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let new_tags = p.tags("Tags")?;
    validate::tags(&new_tags)?;
    update(iam, name, |_, role| {
        merge_tags(
            &mut role.tags,
            new_tags,
            "TagsPerRole",
            KeyCase::Insensitive,
        )
    })?;
    Ok(None)
}

pub fn untag(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let keys = p.list("TagKeys");
    update(iam, name, |_, role| {
        role.tags
            .retain(|t| !keys.iter().any(|k| KeyCase::Insensitive.same(k, &t.key)));
        Ok(())
    })?;
    Ok(None)
}

pub fn list_tags(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let role = iam.read(|db| existing(db, name))?;
    render::tag_page(&Paging::from_params(p)?, role.tags)
}

/// How a resource's tag keys are matched. IAM users' and roles' keys are not case sensitive but keep their
/// case: tagging `department=hr` where `Department=finance` is replaces that tag (IAM User Guide, "Tags for
/// IAM resources", Case sensitivity); other IAM resources' keys are matched exactly.
#[derive(Clone, Copy)]
pub enum KeyCase {
    Sensitive,
    Insensitive,
}

impl KeyCase {
    pub fn same(self, a: &str, b: &str) -> bool {
        match self {
            KeyCase::Sensitive => a == b,
            KeyCase::Insensitive => a.to_lowercase() == b.to_lowercase(),
        }
    }
}

/// Tagging an existing key replaces the tag, as IAM does; the total stays within the quota.
pub fn merge_tags(
    tags: &mut Vec<Tag>,
    new_tags: Vec<(String, String)>,
    quota: &str,
    case: KeyCase,
) -> Result<(), AwsError> {
    for (key, value) in new_tags {
        match tags.iter_mut().find(|t| case.same(&t.key, &key)) {
            Some(existing) => *existing = Tag { key, value },
            None => tags.push(Tag { key, value }),
        }
    }
    if tags.len() > validate::MAX_TAGS {
        return Err(AwsError::limit_exceeded(format!(
            "Cannot exceed quota for {quota}: {}",
            validate::MAX_TAGS
        )));
    }
    Ok(())
}
