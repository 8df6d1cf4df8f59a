//! Policies through the real aws-sdk-iam: attached and inline role policies, customer managed policies and
//! their versions, and the read-only AWS managed catalog.

mod common;

use aws_sdk_iam::types::{PolicyScopeType, Tag};
use common::{code, message};
use irsa_emulator::config::DEFAULT_ACCOUNT_ID;

const S3_READ: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
const ECR_READ: &str = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";

fn local_arn(name: &str) -> String {
    format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:policy/{name}")
}

async fn attached_arns(iam: &aws_sdk_iam::Client, role: &str) -> Vec<String> {
    let out = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .expect("ListAttachedRolePolicies");
    assert!(!out.is_truncated());
    out.attached_policies()
        .iter()
        .map(|p| p.policy_arn().unwrap().to_string())
        .collect()
}

async fn attachment_count(iam: &aws_sdk_iam::Client, arn: &str) -> i32 {
    iam.get_policy()
        .policy_arn(arn)
        .send()
        .await
        .expect("GetPolicy")
        .policy
        .unwrap()
        .attachment_count()
        .unwrap()
}

#[tokio::test]
async fn attach_list_and_detach_role_policies() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "worker").await;
    let mine = common::create_policy(&iam, "mine", &common::identity_policy("sqs:*")).await;

    assert!(attached_arns(&iam, "worker").await.is_empty());
    for arn in [S3_READ, mine.as_str()] {
        iam.attach_role_policy()
            .role_name("worker")
            .policy_arn(arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("AttachRolePolicy {arn}: {e:?}"));
    }
    // Attaching twice is not an error and not a second attachment.
    iam.attach_role_policy()
        .role_name("worker")
        .policy_arn(S3_READ)
        .send()
        .await
        .expect("AttachRolePolicy again");

    let out = iam
        .list_attached_role_policies()
        .role_name("worker")
        .send()
        .await
        .unwrap();
    let mut pairs: Vec<(String, String)> = out
        .attached_policies()
        .iter()
        .map(|p| {
            (
                p.policy_name().unwrap().to_string(),
                p.policy_arn().unwrap().to_string(),
            )
        })
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("AmazonS3ReadOnlyAccess".to_string(), S3_READ.to_string()),
            ("mine".to_string(), mine.clone()),
        ]
    );
    assert_eq!(attachment_count(&iam, S3_READ).await, 1);
    assert_eq!(attachment_count(&iam, &mine).await, 1);

    // PathPrefix filters on the policy's path.
    let none = iam
        .list_attached_role_policies()
        .role_name("worker")
        .path_prefix("/service-role/")
        .send()
        .await
        .unwrap();
    assert!(none.attached_policies().is_empty());

    iam.detach_role_policy()
        .role_name("worker")
        .policy_arn(S3_READ)
        .send()
        .await
        .expect("DetachRolePolicy");
    assert_eq!(attached_arns(&iam, "worker").await, [mine.as_str()]);
    assert_eq!(attachment_count(&iam, S3_READ).await, 0);

    let err = iam
        .detach_role_policy()
        .role_name("worker")
        .policy_arn(S3_READ)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(message(&err), format!("Policy {S3_READ} was not found."));

    let err = iam
        .list_attached_role_policies()
        .role_name("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam
        .detach_role_policy()
        .role_name("missing")
        .policy_arn(&mine)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    emulator.shutdown().await;
}

#[tokio::test]
async fn attach_role_policy_errors() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "limited").await;

    let missing = local_arn("does-not-exist");
    let err = iam
        .attach_role_policy()
        .role_name("limited")
        .policy_arn(&missing)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(
        message(&err),
        format!("Policy {missing} does not exist or is not attachable.")
    );
    let err = iam
        .attach_role_policy()
        .role_name("limited")
        .policy_arn("arn:aws:iam::aws:policy/NoSuchAwsPolicy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam
        .attach_role_policy()
        .role_name("limited")
        .policy_arn("not-an-arn")
        .send()
        .await
        .unwrap_err();
    // Under the model's arnType minimum (20): IAM's input validation answers before the ARN is parsed.
    assert_eq!(code(&err), "ValidationError");
    assert_eq!(
        message(&err),
        "1 validation error detected: Value 'not-an-arn' at 'policyArn' failed to satisfy constraint: Member must have length greater than or equal to 20"
    );
    let err = iam
        .attach_role_policy()
        .role_name("limited")
        .policy_arn("not-an-arn-but-long-enough")
        .send()
        .await
        .unwrap_err();
    // A ValidationError, as AWS answers AttachRolePolicy with "longpolicynamebutnoarn" (LocalStack's recording,
    // tests/aws/services/iam/test_iam_roles.snapshot.json "…test_role_managed_policy_errors", February 2026).
    assert_eq!(code(&err), "ValidationError");
    assert_eq!(
        message(&err),
        "ARN not-an-arn-but-long-enough is not valid."
    );
    let err = iam
        .attach_role_policy()
        .role_name("missing")
        .policy_arn(S3_READ)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(message(&err), "The role with name missing cannot be found.");

    let mut arns = Vec::new();
    for i in 0..11 {
        arns.push(
            common::create_policy(&iam, &format!("p{i:02}"), &common::identity_policy("s3:*"))
                .await,
        );
    }
    for arn in &arns[..10] {
        iam.attach_role_policy()
            .role_name("limited")
            .policy_arn(arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("attach {arn}: {e:?}"));
    }
    let err = iam
        .attach_role_policy()
        .role_name("limited")
        .policy_arn(&arns[10])
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");
    assert_eq!(message(&err), "Cannot exceed quota for PoliciesPerRole: 10");
    // Re-attaching one that is already there does not count against the quota.
    iam.attach_role_policy()
        .role_name("limited")
        .policy_arn(&arns[0])
        .send()
        .await
        .expect("re-attach at quota");
    assert_eq!(attached_arns(&iam, "limited").await.len(), 10);
    assert_eq!(attachment_count(&iam, &arns[10]).await, 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn inline_role_policies() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "inliner").await;
    let document = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ReadBucket",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::my-bucket", "arn:aws:s3:::my-bucket/*"],
            "Condition": { "StringLike": { "s3:prefix": ["home/${aws:username}/*"] } }
        }]
    })
    .to_string();

    let listed = iam
        .list_role_policies()
        .role_name("inliner")
        .send()
        .await
        .unwrap();
    assert!(listed.policy_names().is_empty());
    assert!(!listed.is_truncated());

    for name in ["zeta", "alpha"] {
        iam.put_role_policy()
            .role_name("inliner")
            .policy_name(name)
            .policy_document(&document)
            .send()
            .await
            .expect("PutRolePolicy");
    }
    let got = iam
        .get_role_policy()
        .role_name("inliner")
        .policy_name("alpha")
        .send()
        .await
        .expect("GetRolePolicy");
    assert_eq!(got.role_name(), "inliner");
    assert_eq!(got.policy_name(), "alpha");
    assert!(
        !got.policy_document().contains('{'),
        "document comes back URL-encoded: {}",
        got.policy_document()
    );
    assert_eq!(
        common::decode_document(got.policy_document()),
        common::json(&document)
    );

    // Put again replaces the document.
    let replacement = common::identity_policy("dynamodb:GetItem");
    iam.put_role_policy()
        .role_name("inliner")
        .policy_name("alpha")
        .policy_document(&replacement)
        .send()
        .await
        .expect("PutRolePolicy replace");
    let got = iam
        .get_role_policy()
        .role_name("inliner")
        .policy_name("alpha")
        .send()
        .await
        .unwrap();
    assert_eq!(
        common::decode_document(got.policy_document()),
        common::json(&replacement)
    );

    let listed = iam
        .list_role_policies()
        .role_name("inliner")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.policy_names(), ["alpha", "zeta"]);

    iam.delete_role_policy()
        .role_name("inliner")
        .policy_name("zeta")
        .send()
        .await
        .expect("DeleteRolePolicy");
    let listed = iam
        .list_role_policies()
        .role_name("inliner")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.policy_names(), ["alpha"]);

    let err = iam
        .get_role_policy()
        .role_name("inliner")
        .policy_name("zeta")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(
        message(&err),
        "The role policy with name zeta cannot be found."
    );
    let err = iam
        .delete_role_policy()
        .role_name("inliner")
        .policy_name("zeta")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");

    for err in [
        code(
            &iam.put_role_policy()
                .role_name("missing")
                .policy_name("p")
                .policy_document(&document)
                .send()
                .await
                .unwrap_err(),
        ),
        code(
            &iam.get_role_policy()
                .role_name("missing")
                .policy_name("p")
                .send()
                .await
                .unwrap_err(),
        ),
        code(
            &iam.delete_role_policy()
                .role_name("missing")
                .policy_name("p")
                .send()
                .await
                .unwrap_err(),
        ),
        code(
            &iam.list_role_policies()
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
async fn inline_policy_documents_are_validated() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "strict").await;
    let put = |document: String| {
        iam.put_role_policy()
            .role_name("strict")
            .policy_name("p")
            .policy_document(document)
    };

    let err = put("{\"Version\": \"2012-10-17\"".into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    assert_eq!(message(&err), "Syntax errors in policy.");

    let with_principal = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": "*" },
            "Action": "s3:GetObject",
            "Resource": "*"
        }]
    });
    let err = put(with_principal.to_string()).send().await.unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    assert_eq!(
        message(&err),
        "Policy document should not specify a principal."
    );

    let no_resource = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": "s3:GetObject" }]
    });
    let err = put(no_resource.to_string()).send().await.unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    assert_eq!(message(&err), "Policy statement must contain resources.");

    let err = iam
        .put_role_policy()
        .role_name("strict")
        .policy_name("bad/name")
        .policy_document(common::identity_policy("s3:*"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    assert!(message(&err).contains("'policyName'"), "{}", message(&err));

    let listed = iam
        .list_role_policies()
        .role_name("strict")
        .send()
        .await
        .unwrap();
    assert!(
        listed.policy_names().is_empty(),
        "rejected policies are not stored"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn customer_managed_policy_lifecycle() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let document = common::identity_policy("s3:GetObject");

    let created = iam
        .create_policy()
        .policy_name("reader")
        .path("/apps/")
        .description("reads objects")
        .policy_document(&document)
        .tags(Tag::builder().key("team").value("a").build().unwrap())
        .send()
        .await
        .expect("CreatePolicy")
        .policy
        .unwrap();
    let arn = format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:policy/apps/reader");
    assert_eq!(created.arn(), Some(arn.as_str()));
    assert_eq!(created.policy_name(), Some("reader"));
    assert_eq!(created.path(), Some("/apps/"));
    assert_eq!(created.default_version_id(), Some("v1"));
    assert_eq!(created.attachment_count(), Some(0));
    assert!(created.is_attachable());
    let id = created.policy_id().unwrap();
    assert!(id.starts_with("ANPA") && id.len() == 21, "{id}");

    let got = iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("GetPolicy")
        .policy
        .unwrap();
    assert_eq!(got.policy_id(), created.policy_id());
    assert_eq!(got.description(), Some("reads objects"));
    assert_eq!(got.default_version_id(), Some("v1"));
    assert_eq!(got.create_date(), created.create_date());
    assert!(got.update_date().is_some());
    assert_eq!(got.tags().len(), 1);

    let v1 = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .expect("GetPolicyVersion")
        .policy_version
        .unwrap();
    assert_eq!(v1.version_id(), Some("v1"));
    assert!(v1.is_default_version());
    assert_eq!(
        common::decode_document(v1.document().unwrap()),
        common::json(&document)
    );

    // Names are unique case-insensitively, whatever the path.
    let err = iam
        .create_policy()
        .policy_name("READER")
        .policy_document(&document)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "EntityAlreadyExists");
    assert_eq!(
        message(&err),
        "A policy called READER already exists. Duplicate names are not allowed."
    );

    // AttachmentCount follows attachments.
    common::create_role(&iam, "r1").await;
    common::create_role(&iam, "r2").await;
    for role in ["r1", "r2"] {
        iam.attach_role_policy()
            .role_name(role)
            .policy_arn(&arn)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(attachment_count(&iam, &arn).await, 2);

    let err = iam
        .delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    assert_eq!(
        message(&err),
        "Cannot delete a policy attached to entities."
    );

    for role in ["r1", "r2"] {
        iam.detach_role_policy()
            .role_name(role)
            .policy_arn(&arn)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(attachment_count(&iam, &arn).await, 0);

    // Extra versions block deletion too.
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(common::identity_policy("s3:ListBucket"))
        .send()
        .await
        .unwrap();
    let err = iam
        .delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    assert!(
        message(&err).starts_with("This policy has more than one version."),
        "{}",
        message(&err)
    );
    iam.delete_policy_version()
        .policy_arn(&arn)
        .version_id("v2")
        .send()
        .await
        .unwrap();

    iam.delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("DeletePolicy");
    let err = iam.get_policy().policy_arn(&arn).send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(
        message(&err),
        format!("Policy {arn} does not exist or is not attachable.")
    );
    let err = iam
        .delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");

    // The name is free again.
    common::create_policy(&iam, "reader", &document).await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn create_policy_validation() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let create = |name: &str, document: String| {
        iam.create_policy()
            .policy_name(name)
            .policy_document(document)
    };
    let err = create("bad", "not json".into()).send().await.unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    assert_eq!(message(&err), "Syntax errors in policy.");

    let principal = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "*"
        }]
    });
    let err = create("bad", principal.to_string())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    assert_eq!(
        message(&err),
        "Policy document should not specify a principal."
    );

    let err = create("bad name", common::identity_policy("s3:*"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    let err = create(&"p".repeat(129), common::identity_policy("s3:*"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    let err = create("pathless", common::identity_policy("s3:*"))
        .path("apps")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");

    let huge = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{}", "b".repeat(6200)) }]
    });
    let err = create("huge", huge.to_string()).send().await.unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");
    assert!(message(&err).contains("PolicySize"), "{}", message(&err));

    let listed = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    assert!(listed.policies().is_empty());
    emulator.shutdown().await;
}

#[tokio::test]
async fn policy_versions() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let arn =
        common::create_policy(&iam, "versioned", &common::identity_policy("s3:GetObject")).await;

    let v2_doc = common::identity_policy("s3:PutObject");
    let v2 = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(&v2_doc)
        .send()
        .await
        .expect("CreatePolicyVersion")
        .policy_version
        .unwrap();
    assert_eq!(v2.version_id(), Some("v2"));
    assert!(!v2.is_default_version());
    assert!(v2.create_date().is_some());
    let policy = iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    assert_eq!(policy.default_version_id(), Some("v1"));

    let v3 = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(common::identity_policy("s3:DeleteObject"))
        .set_as_default(true)
        .send()
        .await
        .expect("CreatePolicyVersion SetAsDefault")
        .policy_version
        .unwrap();
    assert_eq!(v3.version_id(), Some("v3"));
    assert!(v3.is_default_version());
    let policy = iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    assert_eq!(policy.default_version_id(), Some("v3"));

    let got = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v2")
        .send()
        .await
        .unwrap()
        .policy_version
        .unwrap();
    assert!(!got.is_default_version());
    assert_eq!(
        common::decode_document(got.document().unwrap()),
        common::json(&v2_doc)
    );

    for i in 4..=5 {
        iam.create_policy_version()
            .policy_arn(&arn)
            .policy_document(common::identity_policy(&format!("s3:Action{i}")))
            .send()
            .await
            .unwrap_or_else(|e| panic!("version {i}: {e:?}"));
    }
    let err = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(common::identity_policy("s3:Sixth"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");
    assert!(
        message(&err).starts_with("A managed policy can have up to 5 versions."),
        "{}",
        message(&err)
    );

    let listed = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .expect("ListPolicyVersions");
    assert!(!listed.is_truncated());
    let mut ids: Vec<&str> = listed
        .versions()
        .iter()
        .map(|v| v.version_id().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["v1", "v2", "v3", "v4", "v5"]);
    let defaults: Vec<&str> = listed
        .versions()
        .iter()
        .filter(|v| v.is_default_version())
        .map(|v| v.version_id().unwrap())
        .collect();
    assert_eq!(defaults, ["v3"]);
    assert!(
        listed.versions().iter().all(|v| v.document().is_none()),
        "ListPolicyVersions leaves documents out"
    );

    let err = iam
        .delete_policy_version()
        .policy_arn(&arn)
        .version_id("v3")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    assert_eq!(
        message(&err),
        "Cannot delete the default version of a policy."
    );

    iam.set_default_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .expect("SetDefaultPolicyVersion");
    let policy = iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    assert_eq!(policy.default_version_id(), Some("v1"));
    let v1 = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap()
        .policy_version
        .unwrap();
    assert!(v1.is_default_version());

    iam.delete_policy_version()
        .policy_arn(&arn)
        .version_id("v3")
        .send()
        .await
        .expect("DeletePolicyVersion of a non-default version");
    let err = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v3")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(
        message(&err),
        format!("Policy {arn} version v3 does not exist or is not attachable.")
    );

    // Version ids are never reused.
    let v6 = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(common::identity_policy("s3:Again"))
        .send()
        .await
        .unwrap()
        .policy_version
        .unwrap();
    assert_eq!(v6.version_id(), Some("v6"));

    for err in [
        code(
            &iam.delete_policy_version()
                .policy_arn(&arn)
                .version_id("v3")
                .send()
                .await
                .unwrap_err(),
        ),
        code(
            &iam.set_default_policy_version()
                .policy_arn(&arn)
                .version_id("v9")
                .send()
                .await
                .unwrap_err(),
        ),
        code(
            &iam.list_policy_versions()
                .policy_arn(local_arn("missing"))
                .send()
                .await
                .unwrap_err(),
        ),
        code(
            &iam.create_policy_version()
                .policy_arn(local_arn("missing"))
                .policy_document(common::identity_policy("s3:*"))
                .send()
                .await
                .unwrap_err(),
        ),
    ] {
        assert_eq!(err, "NoSuchEntity");
    }

    let err = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document("{")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    emulator.shutdown().await;
}

#[tokio::test]
async fn aws_managed_policies_are_readable_and_attachable_but_not_modifiable() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);

    let policy = iam
        .get_policy()
        .policy_arn(S3_READ)
        .send()
        .await
        .expect("GetPolicy on an AWS managed policy")
        .policy
        .unwrap();
    assert_eq!(policy.policy_name(), Some("AmazonS3ReadOnlyAccess"));
    assert_eq!(policy.arn(), Some(S3_READ));
    assert_eq!(policy.path(), Some("/"));
    assert!(policy.is_attachable());
    assert_eq!(policy.attachment_count(), Some(0));
    assert!(policy.policy_id().unwrap().starts_with("ANPA"));
    let default_version = policy.default_version_id().unwrap().to_string();
    // The id is stable: the same on a second read.
    let again = iam
        .get_policy()
        .policy_arn(S3_READ)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    assert_eq!(again.policy_id(), policy.policy_id());

    let version = iam
        .get_policy_version()
        .policy_arn(S3_READ)
        .version_id(&default_version)
        .send()
        .await
        .expect("GetPolicyVersion on an AWS managed policy")
        .policy_version
        .unwrap();
    assert!(version.is_default_version());
    let document = common::decode_document(version.document().unwrap());
    let text = document.to_string();
    assert!(text.contains("s3:Get*"), "{text}");
    assert!(text.contains("s3:List*"), "{text}");
    let versions = iam
        .list_policy_versions()
        .policy_arn(S3_READ)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 1);

    common::create_role(&iam, "consumer").await;
    iam.attach_role_policy()
        .role_name("consumer")
        .policy_arn(S3_READ)
        .send()
        .await
        .expect("attach AWS managed policy");
    assert_eq!(attachment_count(&iam, S3_READ).await, 1);

    let unmodifiable = |err: String| assert_eq!(err, "InvalidInput");
    unmodifiable(code(
        &iam.delete_policy()
            .policy_arn(S3_READ)
            .send()
            .await
            .unwrap_err(),
    ));
    iam.detach_role_policy()
        .role_name("consumer")
        .policy_arn(S3_READ)
        .send()
        .await
        .unwrap();
    unmodifiable(code(
        &iam.delete_policy()
            .policy_arn(S3_READ)
            .send()
            .await
            .unwrap_err(),
    ));
    unmodifiable(code(
        &iam.create_policy_version()
            .policy_arn(S3_READ)
            .policy_document(common::identity_policy("s3:*"))
            .send()
            .await
            .unwrap_err(),
    ));
    unmodifiable(code(
        &iam.set_default_policy_version()
            .policy_arn(S3_READ)
            .version_id(&default_version)
            .send()
            .await
            .unwrap_err(),
    ));
    unmodifiable(code(
        &iam.delete_policy_version()
            .policy_arn(S3_READ)
            .version_id(&default_version)
            .send()
            .await
            .unwrap_err(),
    ));
    // Still there, unchanged.
    let after = iam
        .get_policy()
        .policy_arn(S3_READ)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    assert_eq!(after.default_version_id(), Some(default_version.as_str()));
    emulator.shutdown().await;
}

/// Every page of a ListPolicies call, followed through its markers.
async fn all_policy_names(
    iam: &aws_sdk_iam::Client,
    scope: PolicyScopeType,
    path_prefix: &str,
    page_size: i32,
) -> Vec<String> {
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..1_000 {
        let page = iam
            .list_policies()
            .scope(scope.clone())
            .path_prefix(path_prefix)
            .max_items(page_size)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("ListPolicies");
        assert!(page.policies().len() <= page_size as usize);
        assert_eq!(page.is_truncated(), page.marker().is_some());
        names.extend(
            page.policies()
                .iter()
                .map(|p| p.policy_name().unwrap().to_string()),
        );
        match page.marker() {
            Some(m) => marker = Some(m.to_string()),
            None => return names,
        }
    }
    panic!("pagination does not terminate");
}

/// The AWS managed policies the generated catalog holds (emulator/data, see scripts/gen-managed-policies.sh),
/// as (name, path).
fn generated_catalog() -> Vec<(String, String)> {
    let index = include_str!("../data/aws-managed-policies.tsv");
    index
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let mut fields = l.split('\t');
            (
                fields.next().unwrap().to_string(),
                fields.next().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn list_policies_by_scope_attachment_and_page() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let names = |out: &aws_sdk_iam::operation::list_policies::ListPoliciesOutput| -> Vec<String> {
        out.policies()
            .iter()
            .map(|p| p.policy_name().unwrap().to_string())
            .collect()
    };
    let catalog = generated_catalog();
    assert!(
        catalog.len() > 1_500,
        "{} policies generated",
        catalog.len()
    );

    // Scope=AWS: every generated policy, once, in pages of the default size (100) and of the largest (1000).
    let first = iam
        .list_policies()
        .scope(PolicyScopeType::Aws)
        .send()
        .await
        .expect("ListPolicies Scope=AWS");
    assert_eq!(first.policies().len(), 100, "MaxItems defaults to 100");
    assert!(first.is_truncated());
    assert!(first
        .policies()
        .iter()
        .all(|p| p.arn().unwrap().starts_with("arn:aws:iam::aws:policy/")));
    let aws_names = all_policy_names(&iam, PolicyScopeType::Aws, "/", 1000).await;
    let expected: Vec<String> = catalog.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(aws_names, expected);
    assert_eq!(
        all_policy_names(&iam, PolicyScopeType::Aws, "/", 100).await,
        expected
    );

    // PathPrefix filters on the path, for AWS's policies as for the account's.
    let job_functions = all_policy_names(&iam, PolicyScopeType::Aws, "/job-function/", 4).await;
    let expected_jobs: Vec<String> = catalog
        .iter()
        .filter(|(_, path)| path == "/job-function/")
        .map(|(n, _)| n.clone())
        .collect();
    assert_eq!(job_functions, expected_jobs);
    assert!(job_functions.iter().any(|n| n == "ViewOnlyAccess"));
    let service_roles = all_policy_names(&iam, PolicyScopeType::Aws, "/service-role/", 1000).await;
    for name in ["AmazonEBSCSIDriverPolicy", "AWSLambdaBasicExecutionRole"] {
        assert!(service_roles.iter().any(|n| n == name), "{name}");
    }
    assert!(!service_roles.iter().any(|n| n == "AmazonS3ReadOnlyAccess"));

    let local = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    assert!(local.policies().is_empty());

    let mine = common::create_policy(&iam, "local-one", &common::identity_policy("s3:*")).await;
    common::create_policy(&iam, "local-two", &common::identity_policy("s3:*")).await;
    let local = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&local), ["local-one", "local-two"]);
    assert!(!local.is_truncated());

    // Scope=All (also the default): the account's policies, then AWS's, every one once whatever the page size
    // (AWS lists a new policy in the first page: LocalStack's recording, tests/aws/services/iam/
    // test_iam_policies.snapshot.json "…test_policy_lifecycle" filtered-policy-list).
    let all = all_policy_names(&iam, PolicyScopeType::All, "/", 1000).await;
    assert_eq!(all.len(), catalog.len() + 2);
    assert_eq!(&all[..2], ["local-one", "local-two"]);
    assert_eq!(&all[2..], aws_names);
    assert_eq!(
        all_policy_names(&iam, PolicyScopeType::All, "/", 250).await,
        all
    );
    let default_scope = iam.list_policies().max_items(1000).send().await.unwrap();
    assert_eq!(names(&default_scope), all[..1000]);

    // OnlyAttached.
    let attached = iam
        .list_policies()
        .only_attached(true)
        .send()
        .await
        .unwrap();
    assert!(attached.policies().is_empty());
    common::create_role(&iam, "attacher").await;
    for arn in [mine.as_str(), ECR_READ] {
        iam.attach_role_policy()
            .role_name("attacher")
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    let attached = iam
        .list_policies()
        .only_attached(true)
        .send()
        .await
        .unwrap();
    let mut attached_names = names(&attached);
    attached_names.sort();
    assert_eq!(
        attached_names,
        ["AmazonEC2ContainerRegistryReadOnly", "local-one"]
    );
    assert!(attached
        .policies()
        .iter()
        .all(|p| p.attachment_count() == Some(1)));
    let attached_local = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .only_attached(true)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&attached_local), ["local-one"]);
    let attached_aws = iam
        .list_policies()
        .scope(PolicyScopeType::Aws)
        .only_attached(true)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&attached_aws), ["AmazonEC2ContainerRegistryReadOnly"]);

    let err = iam
        .list_policies()
        .max_items(1001)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    emulator.shutdown().await;
}

/// MaxItems outside 1..=1000 on every role-policy and version listing: AWS's ValidationError, word for word.
async fn assert_max_items_rejected<F, Fut, O, E>(list: F)
where
    F: Fn(i32) -> Fut,
    Fut: std::future::Future<
        Output = Result<O, aws_sdk_iam::error::SdkError<E, aws_smithy_runtime_api::http::Response>>,
    >,
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::fmt::Debug,
    O: std::fmt::Debug,
{
    for (max, bound) in [
        (0, "greater than or equal to 1"),
        (-3, "greater than or equal to 1"),
        (1001, "less than or equal to 1000"),
    ] {
        let err = list(max).await.unwrap_err();
        common::assert_aws_error(
            &err,
            400,
            "ValidationError",
            &format!(
                "1 validation error detected: Value '{max}' at 'maxItems' failed to satisfy constraint: Member must have value {bound}"
            ),
        );
    }
    list(1).await.expect("MaxItems=1");
    list(1000).await.expect("MaxItems=1000");
}

#[tokio::test]
async fn attached_and_inline_role_policies_paginate() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "pager").await;
    let mut expected = vec![S3_READ.to_string(), ECR_READ.to_string()];
    for i in 0..7 {
        let path = if i % 2 == 0 { "/team/" } else { "/" };
        let arn = iam
            .create_policy()
            .policy_name(format!("paged-{i}"))
            .path(path)
            .policy_document(common::identity_policy("s3:GetObject"))
            .send()
            .await
            .unwrap()
            .policy
            .unwrap()
            .arn
            .unwrap();
        expected.push(arn);
    }
    for arn in &expected {
        iam.attach_role_policy()
            .role_name("pager")
            .policy_arn(arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("AttachRolePolicy {arn}: {e:?}"));
    }
    // Listed in the order attached, as AWS lists them (LocalStack's recording, tests/aws/services/iam/
    // test_iam_roles.snapshot.json "…test_attach_detach_aws_managed_policy_role" list-attached-2).

    // By hand: pages of 4, truncated exactly while a marker is returned, in the single page's order.
    let whole = attached_arns(&iam, "pager").await;
    assert_eq!(whole, expected);
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = iam
            .list_attached_role_policies()
            .role_name("pager")
            .max_items(4)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("ListAttachedRolePolicies page");
        assert_eq!(page.is_truncated(), page.marker().is_some());
        pages.push(
            page.attached_policies()
                .iter()
                .map(|p| p.policy_arn().unwrap().to_string())
                .collect(),
        );
        match page.marker() {
            Some(m) => marker = Some(m.to_string()),
            None => break,
        }
        assert!(pages.len() < 10, "pagination does not terminate");
    }
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [4, 4, 1],
        "{pages:?}"
    );
    assert_eq!(pages.concat(), expected);

    // The SDK's own paginator, and the path filter applied before the page is cut.
    let paginated: Vec<String> = iam
        .list_attached_role_policies()
        .role_name("pager")
        .max_items(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginated ListAttachedRolePolicies")
        .iter()
        .map(|p| p.policy_arn().unwrap().to_string())
        .collect();
    assert_eq!(paginated, expected);
    let team: Vec<String> = iam
        .list_attached_role_policies()
        .role_name("pager")
        .path_prefix("/team/")
        .max_items(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginated ListAttachedRolePolicies under /team/")
        .iter()
        .map(|p| p.policy_name().unwrap().to_string())
        .collect();
    assert_eq!(team, ["paged-0", "paged-2", "paged-4", "paged-6"]);

    // Inline policies: names in order, paged the same way.
    let mut names: Vec<String> = (0..5).map(|i| format!("inline-{i}")).collect();
    for name in names.iter().rev() {
        iam.put_role_policy()
            .role_name("pager")
            .policy_name(name)
            .policy_document(common::identity_policy("sqs:*"))
            .send()
            .await
            .unwrap();
    }
    names.sort();
    let first = iam
        .list_role_policies()
        .role_name("pager")
        .max_items(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.policy_names(), &names[..2]);
    assert!(first.is_truncated());
    let second = iam
        .list_role_policies()
        .role_name("pager")
        .max_items(3)
        .set_marker(first.marker().map(str::to_string))
        .send()
        .await
        .unwrap();
    assert_eq!(second.policy_names(), &names[2..]);
    assert!(!second.is_truncated());
    assert!(second.marker().is_none());
    let paginated: Vec<String> = iam
        .list_role_policies()
        .role_name("pager")
        .max_items(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginated ListRolePolicies");
    assert_eq!(paginated, names);

    assert_max_items_rejected(|max| {
        iam.list_attached_role_policies()
            .role_name("pager")
            .max_items(max)
            .send()
    })
    .await;
    assert_max_items_rejected(|max| {
        iam.list_role_policies()
            .role_name("pager")
            .max_items(max)
            .send()
    })
    .await;
    // Validation comes before the lookup, as in AWS.
    let err = iam
        .list_role_policies()
        .role_name("nobody")
        .max_items(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    emulator.shutdown().await;
}

#[tokio::test]
async fn policy_versions_paginate_newest_first() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let arn = common::create_policy(&iam, "paged", &common::identity_policy("s3:GetObject")).await;
    for action in ["s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "s3:*"] {
        iam.create_policy_version()
            .policy_arn(&arn)
            .policy_document(common::identity_policy(action))
            .send()
            .await
            .unwrap();
    }
    let ids = |out: &aws_sdk_iam::operation::list_policy_versions::ListPolicyVersionsOutput| {
        out.versions()
            .iter()
            .map(|v| v.version_id().unwrap().to_string())
            .collect::<Vec<_>>()
    };

    let mut pages = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = iam
            .list_policy_versions()
            .policy_arn(&arn)
            .max_items(2)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("ListPolicyVersions page");
        assert_eq!(page.is_truncated(), page.marker().is_some());
        pages.push(ids(&page));
        match page.marker() {
            Some(m) => marker = Some(m.to_string()),
            None => break,
        }
        assert!(pages.len() < 10, "pagination does not terminate");
    }
    assert_eq!(
        pages,
        [vec!["v5", "v4"], vec!["v3", "v2"], vec!["v1"]],
        "{pages:?}"
    );

    let paginated: Vec<String> = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .max_items(3)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginated ListPolicyVersions")
        .iter()
        .map(|v| v.version_id().unwrap().to_string())
        .collect();
    assert_eq!(paginated, ["v5", "v4", "v3", "v2", "v1"]);
    let default_only = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(ids(&default_only).len(), 5);
    assert!(!default_only.is_truncated());

    assert_max_items_rejected(|max| {
        iam.list_policy_versions()
            .policy_arn(&arn)
            .max_items(max)
            .send()
    })
    .await;
    emulator.shutdown().await;
}
