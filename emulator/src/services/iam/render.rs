//! IAM records as the Query protocol's XML shapes them.

use chrono::{DateTime, Utc};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::paging::Paging;
use super::Handled;
use crate::protocol::XmlWriter;
use crate::state::model::{ManagedPolicy, OidcProvider, PolicyVersion, Role, Tag};

/// IAM returns policy documents URL-encoded (RFC 3986 unreserved characters left as they are).
const DOCUMENT_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn encode_document(document: &str) -> String {
    utf8_percent_encode(document, DOCUMENT_ENCODE).to_string()
}

pub fn date(d: &DateTime<Utc>) -> String {
    d.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Which call shows a role, since each shows different members, as AWS answered LocalStack's recorded requests
/// (tests/aws/services/iam/test_iam_roles.snapshot.json, February 2026: "…test_create_role_defaults",
/// "…test_update_role", "…test_role_permissions_boundary_lifecycle", "…test_list_roles_pagination").
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum Detail {
    /// GetRole: every member, `RoleLastUsed` even when empty.
    Full,
    /// CreateRole: neither `Description` (even when given), `MaxSessionDuration` nor `RoleLastUsed`; the
    /// boundary and tags when set.
    Created,
    /// UpdateRoleDescription: the description, but neither `MaxSessionDuration` nor `RoleLastUsed`.
    DescriptionUpdated,
    /// ListRoles: no tags, boundary or last use.
    Listing,
}

pub fn role(xml: &mut XmlWriter, element: &str, role: &Role, detail: Detail) {
    xml.open(element);
    xml.text_element("Path", &role.path)
        .text_element("RoleName", &role.name)
        .text_element("RoleId", &role.role_id)
        .text_element("Arn", &role.arn)
        .text_element("CreateDate", &date(&role.create_date))
        .text_element(
            "AssumeRolePolicyDocument",
            &encode_document(&role.assume_role_policy),
        );
    if detail != Detail::Created {
        xml.optional("Description", role.description.as_deref());
    }
    if matches!(detail, Detail::Full | Detail::Listing) {
        xml.text_element("MaxSessionDuration", &role.max_session_duration.to_string());
    }
    if detail != Detail::Listing {
        if let Some(boundary) = &role.permissions_boundary {
            // "Policy", as AWS answers (LocalStack's recording, tests/aws/services/iam/
            // test_iam_roles.snapshot.json "…test_role_permissions_boundary_lifecycle"), not the model's enum
            // value `PermissionsBoundaryPolicy`.
            xml.open("PermissionsBoundary")
                .text_element("PermissionsBoundaryType", "Policy")
                .text_element("PermissionsBoundaryArn", boundary)
                .close("PermissionsBoundary");
        }
        if !role.tags.is_empty() {
            tags(xml, &role.tags);
        }
    }
    if detail == Detail::Full {
        xml.raw_element("RoleLastUsed", "");
    }
    xml.close(element);
}

pub fn tags(xml: &mut XmlWriter, tags: &[Tag]) {
    xml.open("Tags");
    for tag in tags {
        xml.open("member")
            .text_element("Key", &tag.key)
            .text_element("Value", &tag.value)
            .close("member");
    }
    xml.close("Tags");
}

/// ListRoleTags / ListOpenIDConnectProviderTags: one page of a resource's tags (IAM allows 50 per resource).
pub fn tag_page(paging: &Paging, all: Vec<Tag>) -> Handled {
    let page = paging.page(all)?;
    let mut xml = XmlWriter::new();
    tags(&mut xml, &page.items);
    pagination(&mut xml, page.next_marker.as_deref());
    Ok(Some(xml))
}

/// Which call shows a policy, since each shows different members of botocore's `Policy` shape: GetPolicy
/// always has `Tags` (`"Tags": []` when none); CreatePolicy has them only when given, and no `Description`;
/// ListPolicies has neither tags nor `Description` (IAM API Reference, `Policy.Description`: "It is not included in the
/// response to the ListPolicies operation"; ListPolicies: "this operation does not return tags").
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum PolicyView {
    Created,
    Got,
    Listed,
}

pub fn policy(
    xml: &mut XmlWriter,
    element: &str,
    policy: &ManagedPolicy,
    attachments: usize,
    view: PolicyView,
) {
    // CreatePolicy leaves the description out even when given (AWS's answer recorded by LocalStack,
    // tests/aws/services/iam/test_iam_policies.snapshot.json "…test_policy_tag_lifecycle" create-with-tags).
    let description = match view {
        PolicyView::Got => policy.description.as_deref(),
        PolicyView::Created | PolicyView::Listed => None,
    };
    xml.open(element)
        .text_element("PolicyName", &policy.name)
        .text_element("PolicyId", &policy.policy_id)
        .text_element("Arn", &policy.arn)
        .text_element("Path", &policy.path)
        .text_element("DefaultVersionId", &policy.default_version_id)
        .text_element("AttachmentCount", &attachments.to_string())
        .text_element("PermissionsBoundaryUsageCount", "0")
        .text_element("IsAttachable", "true")
        .optional("Description", description)
        .text_element("CreateDate", &date(&policy.create_date))
        .text_element("UpdateDate", &date(&policy.update_date));
    let with_tags = match view {
        PolicyView::Got => true,
        PolicyView::Created => !policy.tags.is_empty(),
        PolicyView::Listed => false,
    };
    if with_tags {
        tags(xml, &policy.tags);
    }
    xml.close(element);
}

pub fn policy_version(
    xml: &mut XmlWriter,
    element: &str,
    version: &PolicyVersion,
    is_default: bool,
    with_document: bool,
) {
    xml.open(element);
    if with_document {
        xml.text_element("Document", &encode_document(&version.document));
    }
    xml.text_element("VersionId", &version.version_id)
        .text_element(
            "IsDefaultVersion",
            if is_default { "true" } else { "false" },
        )
        .text_element("CreateDate", &date(&version.create_date))
        .close(element);
}

pub fn members(xml: &mut XmlWriter, element: &str, values: &[String]) {
    xml.open(element);
    for value in values {
        xml.text_element("member", value);
    }
    xml.close(element);
}

pub fn oidc_provider(xml: &mut XmlWriter, provider: &OidcProvider) {
    xml.text_element("Url", &provider.url);
    members(xml, "ClientIDList", &provider.client_ids);
    members(xml, "ThumbprintList", &provider.thumbprints);
    xml.text_element("CreateDate", &date(&provider.create_date));
    tags(xml, &provider.tags);
}

pub fn pagination(xml: &mut XmlWriter, next_marker: Option<&str>) {
    xml.text_element(
        "IsTruncated",
        if next_marker.is_some() {
            "true"
        } else {
            "false"
        },
    );
    xml.optional("Marker", next_marker);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_encode_as_iam_does() {
        assert_eq!(
            encode_document("{\"a\": \"b c/*\"}"),
            "%7B%22a%22%3A%20%22b%20c%2F%2A%22%7D"
        );
    }
}
