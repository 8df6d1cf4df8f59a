//! IAM's quotas through the real aws-sdk-iam: each one at its limit (accepted) and one past it (refused with
//! AWS's code, HTTP status and message), with the size quotas measured as IAM measures them: characters
//! without white space.

mod common;

use common::assert_aws_error;
use serde::Serialize;
use serde_json::{json, Value};

/// `statement` in a policy whose size without white space is exactly `size`: the `Sid` takes up the rest.
fn document_of_size(statement: Value, size: usize) -> String {
    let with_sid = |sid: String| {
        let mut statement = statement.clone();
        statement["Sid"] = Value::String(sid);
        json!({ "Version": "2012-10-17", "Statement": [statement] }).to_string()
    };
    let base = with_sid(String::new()).len();
    assert!(
        size >= base,
        "{size} is smaller than the bare document ({base})"
    );
    let document = with_sid("S".repeat(size - base));
    assert_eq!(document.len(), size);
    document
}

fn identity_policy_of_size(size: usize) -> String {
    document_of_size(
        json!({ "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*" }),
        size,
    )
}

fn trust_policy_of_size(size: usize) -> String {
    document_of_size(
        json!({
            "Effect": "Allow",
            "Principal": { "Service": "ec2.amazonaws.com" },
            "Action": "sts:AssumeRole"
        }),
        size,
    )
}

/// The same document with every kind of white space a policy may hold, more than twice its size in all.
fn with_white_space(document: &str) -> String {
    let value: Value = serde_json::from_str(document).unwrap();
    let indent = b" \t".repeat(16);
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(&indent),
    );
    value.serialize(&mut serializer).unwrap();
    let padded = format!(
        "{}{}{}",
        "\r\n \t".repeat(document.len() / 4),
        String::from_utf8(out).unwrap().replace('\n', "\r\n"),
        "\n\t".repeat(document.len() / 2)
    );
    assert!(padded.len() > 2 * document.len());
    padded
}

#[tokio::test]
async fn trust_policy_quota_is_2048_characters_without_white_space() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    const MESSAGE: &str = "Cannot exceed quota for ACLSizePerRole: 2048";

    iam.create_role()
        .role_name("at-limit")
        .assume_role_policy_document(with_white_space(&trust_policy_of_size(2048)))
        .send()
        .await
        .expect("2048 characters and any amount of white space");
    let err = iam
        .create_role()
        .role_name("over-limit")
        .assume_role_policy_document(trust_policy_of_size(2049))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, 409, "LimitExceeded", MESSAGE);

    let err = iam
        .update_assume_role_policy()
        .role_name("at-limit")
        .policy_document(trust_policy_of_size(2049))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, 409, "LimitExceeded", MESSAGE);
    iam.update_assume_role_policy()
        .role_name("at-limit")
        .policy_document(with_white_space(&trust_policy_of_size(2048)))
        .send()
        .await
        .expect("UpdateAssumeRolePolicy at the limit");

    let roles = iam.list_roles().send().await.unwrap();
    let names: Vec<&str> = roles.roles().iter().map(|r| r.role_name()).collect();
    assert_eq!(names, ["at-limit"]);
    emulator.shutdown().await;
}

#[tokio::test]
async fn managed_policy_quota_is_6144_characters_without_white_space() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    const MESSAGE: &str = "Cannot exceed quota for PolicySize: 6144";

    let arn = common::create_policy(
        &iam,
        "at-limit",
        &with_white_space(&identity_policy_of_size(6144)),
    )
    .await;
    let err = iam
        .create_policy()
        .policy_name("over-limit")
        .policy_document(identity_policy_of_size(6145))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, 409, "LimitExceeded", MESSAGE);

    let err = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(identity_policy_of_size(6145))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, 409, "LimitExceeded", MESSAGE);
    let version = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(with_white_space(&identity_policy_of_size(6144)))
        .send()
        .await
        .expect("CreatePolicyVersion at the limit");
    assert_eq!(version.policy_version().unwrap().version_id(), Some("v2"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn inline_role_policies_share_10240_characters_without_white_space() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "inline").await;
    let put = |name: &str, document: String| {
        iam.put_role_policy()
            .role_name("inline")
            .policy_name(name)
            .policy_document(document)
            .send()
    };
    const MESSAGE: &str = "Maximum policy size of 10240 bytes exceeded for role inline";

    put("a", with_white_space(&identity_policy_of_size(5000)))
        .await
        .unwrap();
    put("b", with_white_space(&identity_policy_of_size(5240)))
        .await
        .expect("10240 together, white space aside");
    let err = put("c", identity_policy_of_size(120)).await.unwrap_err();
    assert_aws_error(&err, 409, "LimitExceeded", MESSAGE);
    // Replacing a policy counts its new size, not both.
    let err = put("b", identity_policy_of_size(5241)).await.unwrap_err();
    assert_aws_error(&err, 409, "LimitExceeded", MESSAGE);
    put("b", identity_policy_of_size(5120)).await.unwrap();
    put("c", identity_policy_of_size(120))
        .await
        .expect("room again after b shrank: 10240 exactly");

    let names = iam
        .list_role_policies()
        .role_name("inline")
        .send()
        .await
        .unwrap();
    assert_eq!(names.policy_names(), ["a", "b", "c"]);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_role_takes_10_managed_policies() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "busy").await;
    let mut arns = Vec::new();
    for i in 0..11 {
        arns.push(
            common::create_policy(&iam, &format!("p{i}"), &common::identity_policy("s3:*")).await,
        );
    }
    let attach = |arn: &str| {
        iam.attach_role_policy()
            .role_name("busy")
            .policy_arn(arn)
            .send()
    };
    for arn in &arns[..10] {
        attach(arn).await.unwrap();
    }
    let err = attach(&arns[10]).await.unwrap_err();
    assert_aws_error(
        &err,
        409,
        "LimitExceeded",
        "Cannot exceed quota for PoliciesPerRole: 10",
    );
    // Attaching one that is already attached is no new attachment.
    attach(&arns[3])
        .await
        .expect("re-attaching at the limit is a no-op");
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_managed_policy_keeps_5_versions() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let arn = common::create_policy(&iam, "versions", &common::identity_policy("s3:*")).await;
    let create = || {
        iam.create_policy_version()
            .policy_arn(&arn)
            .policy_document(common::identity_policy("s3:GetObject"))
            .send()
    };
    for _ in 2..=5 {
        create().await.unwrap();
    }
    let err = create().await.unwrap_err();
    assert_aws_error(
        &err,
        409,
        "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
    );
    iam.delete_policy_version()
        .policy_arn(&arn)
        .version_id("v2")
        .send()
        .await
        .unwrap();
    let v6 = create().await.expect("room after deleting a version");
    assert_eq!(v6.policy_version().unwrap().version_id(), Some("v6"));
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_oidc_provider_takes_100_client_ids_and_5_thumbprints() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let ids = |n: usize| (0..n).map(|i| format!("client-{i}")).collect::<Vec<_>>();
    let thumbprints = |n: usize| {
        (0..n)
            .map(|i| format!("{i:x}").repeat(40))
            .collect::<Vec<_>>()
    };
    const CLIENT_IDS: &str = "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100";
    const THUMBPRINTS: &str = "Thumbprint list must contain fewer than 5 entries.";

    let err = iam
        .create_open_id_connect_provider()
        .url("https://oidc.example.com/too-many")
        .set_client_id_list(Some(ids(101)))
        .set_thumbprint_list(Some(thumbprints(1)))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, 409, "LimitExceeded", CLIENT_IDS);
    let err = iam
        .create_open_id_connect_provider()
        .url("https://oidc.example.com/too-many")
        .set_client_id_list(Some(ids(1)))
        .set_thumbprint_list(Some(thumbprints(6)))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, 400, "InvalidInput", THUMBPRINTS);

    let arn = iam
        .create_open_id_connect_provider()
        .url("https://oidc.example.com/full")
        .set_client_id_list(Some(ids(100)))
        .set_thumbprint_list(Some(thumbprints(5)))
        .send()
        .await
        .expect("100 client ids and 5 thumbprints")
        .open_id_connect_provider_arn
        .unwrap();
    let err = iam
        .add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("one-more")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, 409, "LimitExceeded", CLIENT_IDS);
    iam.add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("client-7")
        .send()
        .await
        .expect("adding a present client id at the limit is a no-op");
    let err = iam
        .update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(&arn)
        .set_thumbprint_list(Some(thumbprints(6)))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, 400, "InvalidInput", THUMBPRINTS);

    let provider = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(provider.client_id_list().len(), 100);
    assert_eq!(provider.thumbprint_list(), thumbprints(5));
    let listed = iam.list_open_id_connect_providers().send().await.unwrap();
    assert_eq!(listed.open_id_connect_provider_list().len(), 1);
    emulator.shutdown().await;
}
