use serde_json::json;

use super::*;

fn findings(doc: serde_json::Value) -> Vec<Finding> {
    lint_value(&doc).expect("a valid policy")
}

fn policy(statement: serde_json::Value) -> serde_json::Value {
    json!({ "Version": "2012-10-17", "Statement": [statement] })
}

#[test]
fn a_correct_policy_has_no_findings() {
    let doc = json!({ "Version": "2012-10-17", "Statement": [
        { "Effect": "Allow", "Action": ["s3:GetObject", "s3:getobjectacl"],
          "Resource": "arn:aws:s3:::bucket/*" },
        { "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::bucket",
          "Condition": { "StringLike": { "s3:prefix": ["home/*"], "aws:PrincipalTag/team": "a" } } },
        { "Effect": "Allow", "Action": ["ec2:Describe*", "s3:ListAllMyBuckets"], "Resource": "*" }
    ]});
    assert_eq!(findings(doc), vec![]);
}

#[test]
fn typos_in_actions_get_a_suggestion() {
    let f = findings(policy(json!({
        "Effect": "Allow", "Action": ["s3:GetObjects", "s4:GetObject", "s3:Gte*"], "Resource": "*"
    })));
    let kinds: Vec<_> = f.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            "unknown-action",
            "unknown-service",
            "action-matches-nothing"
        ]
    );
    assert_eq!(f[0].did_you_mean.as_deref(), Some("s3:GetObject"));
    assert_eq!(
        f[0].to_string(),
        "statement 0: s3:GetObjects is not a s3 action; did you mean s3:GetObject?"
    );
    assert_eq!(f[1].did_you_mean.as_deref(), Some("s3:GetObject"));
}

#[test]
fn condition_keys_are_checked_per_service_and_globally() {
    let f = findings(policy(json!({
        "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
        "Condition": {
            "StringEquals": { "s3:prefx": "a", "aws:SourceIpp": "1.2.3.4", "aws:ResourceTag/x": "y" },
            "Bool": { "aws:SecureTransport": "true" }
        }
    })));
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(f[0].did_you_mean.as_deref(), Some("s3:prefix"));
    assert_eq!(f[1].did_you_mean.as_deref(), Some("aws:SourceIp"));
}

#[test]
fn resources_of_the_wrong_type_are_named() {
    let f = findings(policy(json!({
        "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListAllMyBuckets"], "Resource": "arn:aws:s3:::bucket"
    })));
    assert_eq!(f.len(), 2, "{f:?}");
    assert!(f[0].message.contains("s3:GetObject applies to"), "{}", f[0]);
    assert!(f[0]
        .message
        .contains("object (arn:${Partition}:s3:::${BucketName}/${ObjectName})"));
    assert!(f[1]
        .message
        .contains("does not support resource-level permissions"));
}

#[test]
fn trust_policies_keep_their_provider_keys() {
    let trust = irsa_policy::irsa_trust_policy(
        &irsa_policy::Account::aws("111122223333"),
        "https://oidc.eks.us-east-1.amazonaws.com/id/X",
        "ns",
        "sa",
        "sts.amazonaws.com",
        None,
    );
    assert_eq!(findings(trust), vec![]);
}
