//! IAM's policy grammar where IAM applies it, through the real aws-sdk-iam: CreatePolicy, CreatePolicyVersion,
//! PutRolePolicy, CreateRole and UpdateAssumeRolePolicy refuse what IAM refuses, with IAM's message, and store
//! nothing; and accept what IAM accepts.
//!
//! The answers are IAM's as LocalStack recorded them against AWS (tests/aws/services/iam/test_iam_policies.py
//! and test_iam_roles.py with their snapshots, 2026; github.com/localstack/localstack), case numbers as there;
//! irsa-policy's tests/grammar.rs holds the whole corpus.

mod common;

use aws_sdk_iam::types::PolicyScopeType;
use common::{code, message};
use serde_json::{json, Value};

fn document(statement: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statement}).to_string()
}

fn allow(action: &str, resource: &str) -> Value {
    json!({"Effect": "Allow", "Action": action, "Resource": resource})
}

/// Identity documents IAM refuses, and what it says; shared by the managed and inline cases.
fn refused_everywhere() -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "two colons (invalid-14)",
            document(allow("s3:List:Bucket", "*")),
            "Actions/Condition can contain only one colon.",
        ),
        (
            "space in the vendor (invalid-13)",
            document(allow("a a:ListBucket", "*")),
            "Vendor a a is not valid",
        ),
        (
            "empty Statement (invalid-26)",
            document(json!([])),
            "Syntax errors in policy.",
        ),
        (
            "not JSON (invalid-0)",
            "policy.json".to_string(),
            "Syntax errors in policy.",
        ),
        (
            "another partition",
            document(allow("s3:GetObject", "arn:aws-cn:s3:::b")),
            "Partition \"aws-cn\" is not valid for resource \"arn:aws-cn:s3:::b\".",
        ),
        (
            "unknown partition (invalid-25)",
            document(allow("s3:GetObject", "arn:error:s3:::example_bucket")),
            "Partition \"error\" is not valid for resource \"arn:error:s3:::example_bucket\".",
        ),
        (
            "region in an IAM ARN (invalid-55)",
            document(allow("iam:GetRole", "arn:aws:iam:us-east-1::role/x")),
            "IAM resource arn:aws:iam:us-east-1::role/x cannot contain region information.",
        ),
        (
            "region in an S3 ARN (invalid-56)",
            document(allow("s3:GetObject", "arn:aws:s3:us-east-1::b")),
            "Resource arn:aws:s3:us-east-1::b can not contain region information.",
        ),
        (
            "too few parts (invalid-36)",
            document(allow("s3:GetObject", "arn:aws:s3::b")),
            "The policy failed legacy parsing",
        ),
        (
            "Effect in the wrong case (invalid-63)",
            document(json!({"Effect": "allow", "Action": "s3:*", "Resource": "*"})),
            "The policy failed legacy parsing",
        ),
    ]
}

/// Documents IAM accepts that a stricter grammar would not (LocalStack's valid-1, -19, -32, -50).
fn accepted_everywhere() -> Vec<String> {
    vec![
        document(
            json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"StringEquals": {"SourceIp": "x"}}}),
        ),
        document(
            json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"NoSuchOperator": {}}}),
        ),
        document(allow("iam: asdf safdsf af ", "*")),
        document(allow(
            "s3:GetObject",
            "arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point",
        )),
    ]
}

#[tokio::test]
async fn create_policy_applies_the_grammar() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let mut cases = refused_everywhere();
    cases.push((
        "no Version (invalid-1)",
        json!({"Statement": allow("s3:*", "*")}).to_string(),
        "Policy document must be version 2012-10-17 or greater.",
    ));
    cases.push((
        "Version 2008-10-17 (invalid-2)",
        json!({"Version": "2008-10-17", "Statement": allow("s3:*", "*")}).to_string(),
        "Policy document must be version 2012-10-17 or greater.",
    ));
    // Version is checked first: this one also has two colons.
    cases.push((
        "Version before actions",
        json!({"Statement": allow("s3:List:Bucket", "*")}).to_string(),
        "Policy document must be version 2012-10-17 or greater.",
    ));
    for (case, doc, expected) in &cases {
        let err = iam
            .create_policy()
            .policy_name("refused")
            .policy_document(doc)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "MalformedPolicyDocument", "{case}");
        assert_eq!(message(&err), *expected, "{case}");
    }
    let local = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    assert!(
        local.policies().is_empty(),
        "refused policies are not stored"
    );

    for (i, doc) in accepted_everywhere().iter().enumerate() {
        iam.create_policy()
            .policy_name(format!("accepted-{i}"))
            .policy_document(doc)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{doc}: {e:?}"));
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn create_policy_version_applies_the_grammar() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let arn = common::create_policy(&iam, "versioned", &common::identity_policy("s3:*")).await;
    for (case, doc, expected) in [
        (
            "no Version",
            json!({"Statement": allow("s3:*", "*")}).to_string(),
            "Policy document must be version 2012-10-17 or greater.",
        ),
        (
            "two colons",
            document(allow("s3:List:Bucket", "*")),
            "Actions/Condition can contain only one colon.",
        ),
    ] {
        let err = iam
            .create_policy_version()
            .policy_arn(&arn)
            .policy_document(doc)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            (code(&err), message(&err)),
            ("MalformedPolicyDocument".to_string(), expected.to_string()),
            "{case}"
        );
    }
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        versions.versions().len(),
        1,
        "refused versions are not stored"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn put_role_policy_applies_the_grammar_but_not_the_managed_version_rule() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "inline").await;
    for (case, doc, expected) in refused_everywhere() {
        let err = iam
            .put_role_policy()
            .role_name("inline")
            .policy_name("p")
            .policy_document(doc)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "MalformedPolicyDocument", "{case}");
        assert_eq!(message(&err), expected, "{case}");
    }
    let listed = iam
        .list_role_policies()
        .role_name("inline")
        .send()
        .await
        .unwrap();
    assert!(
        listed.policy_names().is_empty(),
        "refused policies are not stored"
    );

    // Inline policies may leave Version out (it then means 2008-10-17: IAM's Version element reference).
    let mut accepted = accepted_everywhere();
    accepted.push(json!({"Statement": allow("s3:*", "*")}).to_string());
    accepted.push(json!({"Version": "2008-10-17", "Statement": allow("s3:*", "*")}).to_string());
    for (i, doc) in accepted.iter().enumerate() {
        iam.put_role_policy()
            .role_name("inline")
            .policy_name(format!("p{i}"))
            .policy_document(doc)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{doc}: {e:?}"));
    }
    emulator.shutdown().await;
}

/// Trust policies: IAM's answers to UpdateAssumeRolePolicy recorded by LocalStack (test_iam_roles.snapshot.json,
/// 2026-02-11) and to CreateRole without `file://` as users quote them (AWSCookbook/Security#2).
#[tokio::test]
async fn trust_policies_have_their_own_rules() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let trust = common::service_trust_policy();
    common::create_role(&iam, "trusting").await;
    let ec2 = json!({"Service": "ec2.amazonaws.com"});
    let cases = [
        ("missing file://", "trust-policy.json".to_string(), "This policy contains invalid Json"),
        ("not JSON", "not valid json".to_string(), "This policy contains invalid Json"),
        ("trailing comma (test_iam.snapshot.json, 2023)",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole",}]}"#.to_string(),
            "This policy contains invalid Json"),
        ("not an STS action", document(json!({"Effect": "Allow", "Principal": ec2, "Action": "sts:InvalidAction"})),
            "AssumeRole policy may only specify STS AssumeRole actions."),
        ("a Resource", document(json!({"Effect": "Allow", "Principal": ec2, "Action": "sts:AssumeRole", "Resource": "arn:aws:s3:::example_bucket"})),
            "Has prohibited field Resource"),
    ];
    for (case, doc, expected) in &cases {
        let err = iam
            .create_role()
            .role_name("refused")
            .assume_role_policy_document(doc)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            (code(&err), message(&err)),
            ("MalformedPolicyDocument".to_string(), expected.to_string()),
            "CreateRole {case}"
        );
        let err = iam
            .update_assume_role_policy()
            .role_name("trusting")
            .policy_document(doc)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            (code(&err), message(&err)),
            ("MalformedPolicyDocument".to_string(), expected.to_string()),
            "Update {case}"
        );
    }
    let err = iam
        .get_role()
        .role_name("refused")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
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
        common::json(&trust)
    );

    // Trust policies may still be legacy ones, and Sids there may hold spaces.
    let legacy = json!({"Version": "2008-10-17", "Statement": {"Sid": "cross account", "Effect": "Allow",
        "Principal": {"AWS": "444455556666"}, "Action": "sts:AssumeRole"}});
    iam.update_assume_role_policy()
        .role_name("trusting")
        .policy_document(legacy.to_string())
        .send()
        .await
        .expect("legacy trust policy");
    emulator.shutdown().await;
}
