//! IAM roles through the real aws-sdk-iam: lifecycle, listing, updates, tags, boundaries and IAM's input rules.

mod common;

use aws_sdk_iam::types::Tag;
use common::{code, message};
use irsa_emulator::config::DEFAULT_ACCOUNT_ID;

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

#[tokio::test]
async fn create_get_and_delete_a_role() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let trust = common::service_trust_policy();

    let created = iam
        .create_role()
        .role_name("app-role")
        .path("/team-a/")
        .description("the app's role")
        .max_session_duration(7200)
        .assume_role_policy_document(&trust)
        .tags(tag("team", "a"))
        .send()
        .await
        .expect("CreateRole")
        .role
        .unwrap();
    assert_eq!(created.role_name(), "app-role");
    assert_eq!(created.path(), "/team-a/");
    assert_eq!(
        created.arn(),
        format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/team-a/app-role")
    );
    assert!(
        created.role_id().starts_with("AROA"),
        "{}",
        created.role_id()
    );
    assert_eq!(created.role_id().len(), 21);
    // CreateRole leaves out the description and the session duration (GetRole shows them): AWS's answer
    // recorded by LocalStack, tests/aws/services/iam/test_iam_roles.snapshot.json "…test_list_roles_pagination"
    // create-role-0 and "…test_create_role_defaults" create-role-response.
    assert_eq!(created.description(), None);
    assert_eq!(created.max_session_duration(), None);
    assert!(created.role_last_used().is_none());
    assert_eq!(
        common::decode_document(created.assume_role_policy_document().unwrap()),
        common::json(&trust)
    );
    assert_eq!(created.tags(), &[tag("team", "a")]);
    let age = now_secs() - created.create_date().secs();
    assert!(
        (-5..60).contains(&age),
        "CreateDate {:?}",
        created.create_date()
    );

    let got = iam
        .get_role()
        .role_name("app-role")
        .send()
        .await
        .expect("GetRole")
        .role
        .unwrap();
    assert_eq!(got.role_id(), created.role_id());
    assert_eq!(got.arn(), created.arn());
    assert_eq!(got.create_date(), created.create_date());
    assert_eq!(got.description(), Some("the app's role"));
    assert_eq!(got.max_session_duration(), Some(7200));
    assert_eq!(got.tags(), &[tag("team", "a")]);
    assert!(got.permissions_boundary().is_none());
    assert_eq!(
        common::decode_document(got.assume_role_policy_document().unwrap()),
        common::json(&trust)
    );

    iam.delete_role()
        .role_name("app-role")
        .send()
        .await
        .expect("DeleteRole");
    let err = iam
        .get_role()
        .role_name("app-role")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(
        message(&err),
        "The role with name app-role cannot be found."
    );
    let err = iam
        .delete_role()
        .role_name("app-role")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    emulator.shutdown().await;
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn create_role_defaults() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let created = common::create_role(&iam, "plain").await;
    assert_eq!(created.path(), "/");
    assert_eq!(
        created.arn(),
        format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/plain")
    );
    // The defaults are GetRole's to show (LocalStack's recording of AWS, tests/aws/services/iam/
    // test_iam_roles.snapshot.json "…test_create_role_defaults": CreateRole has no MaxSessionDuration).
    assert_eq!(created.max_session_duration(), None);
    let role = iam
        .get_role()
        .role_name("plain")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(role.max_session_duration(), Some(3600));
    assert_eq!(role.description(), None);
    assert!(role.tags().is_empty());
    emulator.shutdown().await;
}

#[tokio::test]
async fn role_names_are_unique_case_insensitively() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "MyRole").await;
    let err = iam
        .create_role()
        .role_name("myrole")
        .assume_role_policy_document(common::service_trust_policy())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "EntityAlreadyExists");
    assert_eq!(message(&err), "Role with name myrole already exists.");
    let err = iam
        .create_role()
        .role_name("MyRole")
        .assume_role_policy_document(common::service_trust_policy())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "EntityAlreadyExists");

    // Lookups are case-insensitive too, and return the name as created.
    let got = iam.get_role().role_name("MYROLE").send().await.unwrap();
    assert_eq!(got.role.unwrap().role_name(), "MyRole");
    emulator.shutdown().await;
}

#[tokio::test]
async fn delete_role_conflicts_while_policies_exist() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "busy").await;
    let s3 = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";

    iam.attach_role_policy()
        .role_name("busy")
        .policy_arn(s3)
        .send()
        .await
        .expect("AttachRolePolicy");
    let err = iam
        .delete_role()
        .role_name("busy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    assert_eq!(
        message(&err),
        "Cannot delete entity, must detach all policies first."
    );
    iam.detach_role_policy()
        .role_name("busy")
        .policy_arn(s3)
        .send()
        .await
        .expect("DetachRolePolicy");

    iam.put_role_policy()
        .role_name("busy")
        .policy_name("inline")
        .policy_document(common::identity_policy("s3:GetObject"))
        .send()
        .await
        .expect("PutRolePolicy");
    let err = iam
        .delete_role()
        .role_name("busy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    assert_eq!(
        message(&err),
        "Cannot delete entity, must delete policies first."
    );
    iam.delete_role_policy()
        .role_name("busy")
        .policy_name("inline")
        .send()
        .await
        .expect("DeleteRolePolicy");

    iam.delete_role()
        .role_name("busy")
        .send()
        .await
        .expect("DeleteRole once nothing is attached");
    emulator.shutdown().await;
}

#[tokio::test]
async fn list_roles_paginates_in_name_order() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let mut expected: Vec<String> = (0..25).map(|i| format!("role-{i:02}")).collect();
    // Created out of order: the listing is sorted, not insertion-ordered.
    for name in expected.iter().rev() {
        common::create_role(&iam, name).await;
    }
    expected.sort();

    let mut pages = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = iam
            .list_roles()
            .max_items(10)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("ListRoles");
        let names: Vec<String> = page
            .roles()
            .iter()
            .map(|r| r.role_name().to_string())
            .collect();
        assert_eq!(page.is_truncated(), page.marker().is_some());
        pages.push(names);
        match page.marker() {
            Some(next) => marker = Some(next.to_string()),
            None => break,
        }
        assert!(pages.len() < 10, "pagination does not terminate");
    }
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![10, 10, 5]
    );
    assert_eq!(pages.concat(), expected);

    // The SDK's own paginator sees the same.
    let all: Vec<String> = iam
        .list_roles()
        .max_items(7)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginated ListRoles")
        .iter()
        .map(|r| r.role_name().to_string())
        .collect();
    assert_eq!(all, expected);

    // Without MaxItems: everything in one page (default 100).
    let page = iam.list_roles().send().await.unwrap();
    assert_eq!(page.roles().len(), 25);
    assert!(!page.is_truncated());
    assert!(page.marker().is_none());

    let err = iam.list_roles().max_items(0).send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    emulator.shutdown().await;
}

#[tokio::test]
async fn list_roles_filters_by_path_prefix() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    for (name, path) in [
        ("a1", "/team-a/"),
        ("a2", "/team-a/sub/"),
        ("b1", "/team-b/"),
        ("root", "/"),
    ] {
        iam.create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(common::service_trust_policy())
            .send()
            .await
            .unwrap();
    }
    let names = |out: aws_sdk_iam::operation::list_roles::ListRolesOutput| -> Vec<String> {
        out.roles()
            .iter()
            .map(|r| r.role_name().to_string())
            .collect()
    };
    let team_a = iam
        .list_roles()
        .path_prefix("/team-a/")
        .send()
        .await
        .unwrap();
    assert_eq!(names(team_a), ["a1", "a2"]);
    let team = iam.list_roles().path_prefix("/team").send().await.unwrap();
    assert_eq!(names(team), ["a1", "a2", "b1"]);
    let all = iam.list_roles().path_prefix("/").send().await.unwrap();
    assert_eq!(names(all), ["a1", "a2", "b1", "root"]);
    let none = iam
        .list_roles()
        .path_prefix("/nobody/")
        .send()
        .await
        .unwrap();
    assert!(none.roles().is_empty());
    assert!(!none.is_truncated());

    // Listings carry the role's main fields, trust policy included.
    let listed = iam
        .list_roles()
        .path_prefix("/team-b/")
        .send()
        .await
        .unwrap();
    let b1 = &listed.roles()[0];
    assert_eq!(b1.path(), "/team-b/");
    assert_eq!(
        b1.arn(),
        format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/team-b/b1")
    );
    assert_eq!(
        common::decode_document(b1.assume_role_policy_document().unwrap()),
        common::json(&common::service_trust_policy())
    );

    let err = iam
        .list_roles()
        .path_prefix("team-a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    emulator.shutdown().await;
}

#[tokio::test]
async fn update_role_and_description() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "upd").await;

    iam.update_role()
        .role_name("upd")
        .description("first")
        .max_session_duration(43200)
        .send()
        .await
        .expect("UpdateRole");
    let role = iam
        .get_role()
        .role_name("upd")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(role.description(), Some("first"));
    assert_eq!(role.max_session_duration(), Some(43200));

    // Only what is given changes.
    iam.update_role()
        .role_name("upd")
        .max_session_duration(3600)
        .send()
        .await
        .expect("UpdateRole duration only");
    let role = iam
        .get_role()
        .role_name("upd")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(role.description(), Some("first"));
    assert_eq!(role.max_session_duration(), Some(3600));

    let updated = iam
        .update_role_description()
        .role_name("upd")
        .description("second")
        .send()
        .await
        .expect("UpdateRoleDescription")
        .role
        .expect("UpdateRoleDescription returns the role");
    assert_eq!(updated.role_name(), "upd");
    assert_eq!(updated.description(), Some("second"));
    // Without the session duration or last use (LocalStack's recording of AWS, tests/aws/services/iam/
    // test_iam_roles.snapshot.json "…test_update_role" update-role-description-response).
    assert_eq!(updated.max_session_duration(), None);
    assert!(updated.role_last_used().is_none());

    for bad in [3599, 43201] {
        let err = iam
            .update_role()
            .role_name("upd")
            .max_session_duration(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "ValidationError", "{bad}");
        assert!(
            message(&err).contains("maxSessionDuration"),
            "{}",
            message(&err)
        );
    }
    let err = iam
        .update_role()
        .role_name("upd")
        .description("x".repeat(1001))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");

    let err = iam
        .update_role()
        .role_name("missing")
        .description("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam
        .update_role_description()
        .role_name("missing")
        .description("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(message(&err), "The role with name missing cannot be found.");
    emulator.shutdown().await;
}

#[tokio::test]
async fn update_assume_role_policy() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "trusting").await;
    let new_trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:root") },
            "Action": ["sts:AssumeRole", "sts:TagSession"]
        }]
    })
    .to_string();
    iam.update_assume_role_policy()
        .role_name("trusting")
        .policy_document(&new_trust)
        .send()
        .await
        .expect("UpdateAssumeRolePolicy");
    let role = iam
        .get_role()
        .role_name("trusting")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(
        common::decode_document(role.assume_role_policy_document().unwrap()),
        common::json(&new_trust)
    );

    let err = iam
        .update_assume_role_policy()
        .role_name("trusting")
        .policy_document("{not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    // A trust policy may only grant STS actions.
    let err = iam
        .update_assume_role_policy()
        .role_name("trusting")
        .policy_document(
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": "ec2.amazonaws.com" },
                    "Action": "s3:GetObject"
                }]
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    assert_eq!(
        message(&err),
        "AssumeRole policy may only specify STS AssumeRole actions."
    );
    // A failed update leaves the document as it was.
    let role = iam
        .get_role()
        .role_name("trusting")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(
        common::decode_document(role.assume_role_policy_document().unwrap()),
        common::json(&new_trust)
    );

    let err = iam
        .update_assume_role_policy()
        .role_name("missing")
        .policy_document(common::service_trust_policy())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    emulator.shutdown().await;
}

#[tokio::test]
async fn tag_untag_and_list_role_tags() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "tagged").await;

    let listed = iam
        .list_role_tags()
        .role_name("tagged")
        .send()
        .await
        .unwrap();
    assert!(listed.tags().is_empty());
    assert!(!listed.is_truncated());

    iam.tag_role()
        .role_name("tagged")
        .tags(tag("env", "dev"))
        .tags(tag("team", "a"))
        .send()
        .await
        .expect("TagRole");
    // Tagging an existing key replaces its value.
    iam.tag_role()
        .role_name("tagged")
        .tags(tag("env", "prod"))
        .send()
        .await
        .expect("TagRole again");
    let listed = iam
        .list_role_tags()
        .role_name("tagged")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.tags(), &[tag("env", "prod"), tag("team", "a")]);
    let role = iam
        .get_role()
        .role_name("tagged")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(role.tags(), &[tag("env", "prod"), tag("team", "a")]);

    iam.untag_role()
        .role_name("tagged")
        .tag_keys("env")
        .tag_keys("absent")
        .send()
        .await
        .expect("UntagRole");
    let listed = iam
        .list_role_tags()
        .role_name("tagged")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.tags(), &[tag("team", "a")]);

    let err = iam
        .tag_role()
        .role_name("tagged")
        .tags(tag("aws:reserved", "x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidInput");
    let err = iam
        .tag_role()
        .role_name("tagged")
        .tags(tag("k", &"v".repeat(257)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    let err = iam
        .tag_role()
        .role_name("tagged")
        .set_tags(Some((0..50).map(|i| tag(&format!("k{i}"), "v")).collect()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");
    assert_eq!(message(&err), "Cannot exceed quota for TagsPerRole: 50");

    for err in [
        code(
            &iam.tag_role()
                .role_name("missing")
                .tags(tag("a", "b"))
                .send()
                .await
                .unwrap_err(),
        ),
        code(
            &iam.untag_role()
                .role_name("missing")
                .tag_keys("a")
                .send()
                .await
                .unwrap_err(),
        ),
        code(
            &iam.list_role_tags()
                .role_name("missing")
                .send()
                .await
                .unwrap_err(),
        ),
    ] {
        assert_eq!(err, "NoSuchEntity");
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn permissions_boundary() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "bounded").await;
    let boundary = common::create_policy(&iam, "boundary", &common::identity_policy("s3:*")).await;

    iam.put_role_permissions_boundary()
        .role_name("bounded")
        .permissions_boundary(&boundary)
        .send()
        .await
        .expect("PutRolePermissionsBoundary");
    let role = iam
        .get_role()
        .role_name("bounded")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    let pb = role.permissions_boundary().expect("boundary set");
    assert_eq!(pb.permissions_boundary_arn(), Some(boundary.as_str()));
    // AWS sends "Policy", not the model's `PermissionsBoundaryPolicy` (so the SDK sees an unknown variant):
    // LocalStack's recording, tests/aws/services/iam/test_iam_roles.snapshot.json
    // "…test_role_permissions_boundary_lifecycle" get-role-with-boundary.
    assert_eq!(
        pb.permissions_boundary_type().map(|t| t.as_str()),
        Some("Policy")
    );

    // AWS managed policies may be boundaries too.
    let aws_boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    iam.put_role_permissions_boundary()
        .role_name("bounded")
        .permissions_boundary(aws_boundary)
        .send()
        .await
        .expect("PutRolePermissionsBoundary with an AWS managed policy");
    let role = iam
        .get_role()
        .role_name("bounded")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(
        role.permissions_boundary()
            .unwrap()
            .permissions_boundary_arn(),
        Some(aws_boundary)
    );

    iam.delete_role_permissions_boundary()
        .role_name("bounded")
        .send()
        .await
        .expect("DeleteRolePermissionsBoundary");
    let role = iam
        .get_role()
        .role_name("bounded")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert!(role.permissions_boundary().is_none());

    let missing = format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:policy/nope");
    let err = iam
        .put_role_permissions_boundary()
        .role_name("bounded")
        .permissions_boundary(&missing)
        .send()
        .await
        .unwrap_err();
    // The boundary's "Scope ARN", as AWS answers (LocalStack's recording, tests/aws/services/iam/
    // test_iam_roles.snapshot.json "…test_role_permissions_boundary_errors" put-nonexistent-policy-error).
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(
        message(&err),
        format!("Scope ARN: {missing} does not exist or is not attachable.")
    );
    let err = iam
        .put_role_permissions_boundary()
        .role_name("missing")
        .permissions_boundary(&boundary)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam
        .delete_role_permissions_boundary()
        .role_name("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");

    // CreateRole takes a boundary as well, and checks it.
    let role = iam
        .create_role()
        .role_name("born-bounded")
        .assume_role_policy_document(common::service_trust_policy())
        .permissions_boundary(&boundary)
        .send()
        .await
        .expect("CreateRole with boundary")
        .role
        .unwrap();
    assert_eq!(
        role.permissions_boundary()
            .unwrap()
            .permissions_boundary_arn(),
        Some(boundary.as_str())
    );
    let err = iam
        .create_role()
        .role_name("badly-bounded")
        .assume_role_policy_document(common::service_trust_policy())
        .permissions_boundary(&missing)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    emulator.shutdown().await;
}

#[tokio::test]
async fn role_input_validation() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let create = |name: &str| {
        iam.create_role()
            .role_name(name)
            .assume_role_policy_document(common::service_trust_policy())
    };

    for bad in ["bad/name", "bad name", "bad#name", "bad:name"] {
        let err = create(bad).send().await.unwrap_err();
        assert_eq!(code(&err), "ValidationError", "{bad}");
        let msg = message(&err);
        assert!(msg.contains("'roleName'"), "{msg}");
        assert!(
            msg.contains("Member must satisfy regular expression pattern: [\\w+=,.@-]+"),
            "{msg}"
        );
    }
    let err = create(&"a".repeat(65)).send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    assert!(
        message(&err).contains("Member must have length less than or equal to 64"),
        "{}",
        message(&err)
    );
    create(&"a".repeat(64))
        .send()
        .await
        .expect("64 characters is fine");
    create("ok+=,.@_-1")
        .send()
        .await
        .expect("all allowed punctuation");

    for bad in ["no-slashes", "/no-trailing", "no-leading/", "//", "/a b/"] {
        let err = create("pathy").path(bad).send().await.unwrap_err();
        assert_eq!(code(&err), "ValidationError", "{bad:?}");
        assert!(message(&err).contains("'path'"), "{}", message(&err));
    }

    for (bad, bound) in [
        (3599, "greater than or equal to 3600"),
        (43201, "less than or equal to 43200"),
    ] {
        let err = create("timed")
            .max_session_duration(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "ValidationError", "{bad}");
        let msg = message(&err);
        assert!(msg.contains("'maxSessionDuration'"), "{msg}");
        assert!(msg.contains(bound), "{msg}");
    }
    create("timed-ok")
        .max_session_duration(43200)
        .send()
        .await
        .expect("43200 is the maximum");

    let err = iam
        .create_role()
        .role_name("malformed")
        .assume_role_policy_document("{\"Version\": \"2012-10-17\", \"Statement\": [")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    // Trust policies that do not parse are "invalid Json", not syntax errors (IAM's answer to CreateRole with
    // a trailing comma, recorded by LocalStack: tests/aws/services/iam/test_iam.snapshot.json, 2023).
    assert_eq!(message(&err), "This policy contains invalid Json");

    // A trust policy without a principal is not a trust policy.
    let err = iam
        .create_role()
        .role_name("no-principal")
        .assume_role_policy_document(common::identity_policy("sts:AssumeRole"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");

    let err = iam
        .create_role()
        .role_name("too-big")
        .assume_role_policy_document(
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "x".repeat(2100),
                    "Effect": "Allow",
                    "Principal": { "Service": "ec2.amazonaws.com" },
                    "Action": "sts:AssumeRole"
                }]
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");
    assert!(
        message(&err).contains("ACLSizePerRole"),
        "{}",
        message(&err)
    );

    // None of the rejected roles exist.
    let names: Vec<String> = iam
        .list_roles()
        .send()
        .await
        .unwrap()
        .roles()
        .iter()
        .map(|r| r.role_name().to_string())
        .collect();
    assert_eq!(
        names,
        ["a".repeat(64), "ok+=,.@_-1".into(), "timed-ok".into()]
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn trust_policy_must_name_an_existing_oidc_provider() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let cluster = common::create_cluster(&emulator, "trusty").await;
    let trust = common::trust_policy(&cluster.issuer, "default", "app");
    let provider = common::provider_arn(&cluster.issuer);

    let err = iam
        .create_role()
        .role_name("irsa")
        .assume_role_policy_document(&trust)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    let msg = message(&err);
    assert!(msg.starts_with("Invalid principal in policy"), "{msg}");
    assert!(msg.contains(&provider), "{msg}");

    // UpdateAssumeRolePolicy applies the same check.
    common::create_role(&iam, "later-irsa").await;
    let err = iam
        .update_assume_role_policy()
        .role_name("later-irsa")
        .policy_document(&trust)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    assert!(message(&err).starts_with("Invalid principal in policy"));

    let created = iam
        .create_open_id_connect_provider()
        .url(&cluster.issuer)
        .client_id_list("sts.amazonaws.com")
        .send()
        .await
        .expect("CreateOpenIDConnectProvider");
    assert_eq!(
        created.open_id_connect_provider_arn(),
        Some(provider.as_str())
    );

    let role = iam
        .create_role()
        .role_name("irsa")
        .assume_role_policy_document(&trust)
        .send()
        .await
        .expect("CreateRole once the provider exists")
        .role
        .unwrap();
    assert_eq!(
        common::decode_document(role.assume_role_policy_document().unwrap()),
        common::json(&trust)
    );
    iam.update_assume_role_policy()
        .role_name("later-irsa")
        .policy_document(&trust)
        .send()
        .await
        .expect("UpdateAssumeRolePolicy once the provider exists");

    // Providers of other accounts and web identity domains are not this account's to check.
    let foreign = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": "arn:aws:iam::999999999999:oidc-provider/oidc.example.com" },
            "Action": "sts:AssumeRoleWithWebIdentity"
        }]
    })
    .to_string();
    iam.create_role()
        .role_name("foreign")
        .assume_role_policy_document(foreign)
        .send()
        .await
        .expect("another account's provider is accepted");
    emulator.shutdown().await;
}
