//! Policies on a role: attached managed policies and inline policies.

use super::paging::Paging;
use super::render;
use super::roles::existing;
use super::Iam;
use super::{documents, find_policy, validate, Handled};
use crate::protocol::AwsError;
use crate::protocol::Params;
use crate::protocol::XmlWriter;
use crate::state::model::InlinePolicy;

/// Managed policies per role, IAM's default quota.
pub const ATTACHED_POLICIES_QUOTA: usize = 10;

pub fn attach(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let arn = p.required("PolicyArn")?;
    iam.write(|db| {
        existing(db, name)?;
        // What is no ARN at all is a ValidationError here, AWS's answer since 2023's InvalidInput (LocalStack's
        // recordings: tests/aws/services/iam/test_iam_roles.snapshot.json "…test_role_managed_policy_errors"
        // non-existent-malformed-policy-arn and existing-policy-name-provided, February 2026;
        // test_iam.snapshot.json "…test_role_attach_policy", September 2023). An ARN that names no policy
        // here (another partition's, say) is left as find_policy words it: no recording says otherwise.
        find_policy(&iam.catalog, db, arn).map_err(|e| match e.code {
            "InvalidInput" if arn.parse::<irsa_policy::Arn>().is_err() => {
                AwsError::validation(e.message)
            }
            _ => e,
        })?;
        let attached = db.attached_policies(name)?;
        if !attached.iter().any(|a| a == arn) && attached.len() >= ATTACHED_POLICIES_QUOTA {
            return Err(AwsError::limit_exceeded(format!(
                "Cannot exceed quota for PoliciesPerRole: {ATTACHED_POLICIES_QUOTA}"
            )));
        }
        Ok(db.attach(name, arn)?)
    })?;
    Ok(None)
}

pub fn detach(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let arn = p.required("PolicyArn")?;
    iam.write(|db| {
        existing(db, name)?;
        if !db.detach(name, arn)? {
            return Err(AwsError::no_such_entity(format!(
                "Policy {arn} was not found."
            )));
        }
        Ok(())
    })?;
    Ok(None)
}

pub fn list_attached(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let prefix = p.get("PathPrefix").unwrap_or("/");
    validate::path_prefix(prefix)?;
    let paging = Paging::from_params(p)?;
    let policies = iam.read(|db| {
        existing(db, name)?;
        db.attached_policies(name)?
            .iter()
            .map(|arn| find_policy(&iam.catalog, db, arn))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let page = paging.page(
        policies
            .into_iter()
            .filter(|p| p.path.starts_with(prefix))
            .collect(),
    )?;
    let mut xml = XmlWriter::new();
    xml.open("AttachedPolicies");
    for policy in &page.items {
        xml.open("member")
            .text_element("PolicyName", &policy.name)
            .text_element("PolicyArn", &policy.arn)
            .close("member");
    }
    xml.close("AttachedPolicies");
    render::pagination(&mut xml, page.next_marker.as_deref());
    Ok(Some(xml))
}

fn no_such_inline(policy_name: &str) -> AwsError {
    AwsError::no_such_entity(format!(
        "The role policy with name {policy_name} cannot be found."
    ))
}

pub fn put_inline(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let policy_name = p.required("PolicyName")?;
    validate::policy_name(policy_name)?;
    let document = p.required("PolicyDocument")?;
    documents::inline(document, iam.account().partition())?;
    iam.write(|db| {
        let mut role = existing(db, name)?;
        role.inline_policies.retain(|i| i.name != policy_name);
        role.inline_policies.push(InlinePolicy {
            name: policy_name.to_string(),
            document: document.to_string(),
        });
        let total: usize = role
            .inline_policies
            .iter()
            .map(|i| validate::policy_size(&i.document))
            .sum();
        if total > documents::INLINE_ROLE_POLICIES_QUOTA {
            return Err(AwsError::limit_exceeded(format!(
                "Maximum policy size of {} bytes exceeded for role {}",
                documents::INLINE_ROLE_POLICIES_QUOTA,
                role.name
            )));
        }
        Ok(db.put_role(&role)?)
    })?;
    Ok(None)
}

pub fn get_inline(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let policy_name = p.required("PolicyName")?;
    let (role_name, policy) = iam.read(|db| {
        let role = existing(db, name)?;
        let policy = role
            .inline_policies
            .into_iter()
            .find(|i| i.name == policy_name)
            .ok_or_else(|| no_such_inline(policy_name))?;
        Ok((role.name, policy))
    })?;
    let mut xml = XmlWriter::new();
    xml.text_element("RoleName", &role_name)
        .text_element("PolicyName", &policy.name)
        .text_element("PolicyDocument", &render::encode_document(&policy.document));
    Ok(Some(xml))
}

pub fn delete_inline(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let policy_name = p.required("PolicyName")?;
    iam.write(|db| {
        let mut role = existing(db, name)?;
        let before = role.inline_policies.len();
        role.inline_policies.retain(|i| i.name != policy_name);
        if role.inline_policies.len() == before {
            return Err(no_such_inline(policy_name));
        }
        Ok(db.put_role(&role)?)
    })?;
    Ok(None)
}

pub fn list_inline(iam: &Iam, p: &Params) -> Handled {
    let name = p.required("RoleName")?;
    let paging = Paging::from_params(p)?;
    let role = iam.read(|db| existing(db, name))?;
    let mut names: Vec<String> = role.inline_policies.into_iter().map(|i| i.name).collect();
    names.sort();
    let page = paging.page(names)?;
    let mut xml = XmlWriter::new();
    render::members(&mut xml, "PolicyNames", &page.items);
    render::pagination(&mut xml, page.next_marker.as_deref());
    Ok(Some(xml))
}
