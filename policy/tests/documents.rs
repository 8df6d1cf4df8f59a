//! Parsing and validation against real documents (the seed workflows, eksctl, AWS managed policies) and
//! against IAM's error messages.

use irsa_policy::{
    validate, Condition, DocumentKind, Effect, PolicyDocument, PolicyError, Principal, PrincipalRef,
};

const ACCOUNT: &str = "111122223333";
const ISSUER: &str = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E";

/// Seed 000: the Kaniko ECR identity policy (placeholders filled in).
const KANIKO_ECR: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
        "Effect": "Allow",
        "Action": [
            "ecr:*",
            "cloudtrail:LookupEvents"
        ],
        "Resource": "arn:aws:ecr:us-east-1:111122223333:repository/edp/*"
    },
    {
        "Effect": "Allow",
        "Action": "ecr:GetAuthorizationToken",
        "Resource": "*"
    },
    {
        "Effect": "Allow",
        "Action": [
            "ecr:DescribeRepositories",
            "ecr:CreateRepository"
        ],
        "Resource": "arn:aws:ecr:us-east-1:111122223333:repository/*"
    }
  ]
}"#;

/// Seed 000: the Kaniko trust policy (sub only, no aud).
const KANIKO_TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"
      },
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {
          "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E:sub": "system:serviceaccount:edp:edp-kaniko"
        }
      }
    }
  ]
}"#;

/// Seed 002: the S3 policy exactly as in the EKS guide (Resource is the bucket, not its objects).
const S3_GET_BUCKET: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::my-pod-secrets-bucket"
        }
    ]
}"#;

/// Seed 002: the trust policy as `aws iam get-role` prints it (sub and aud).
const EKS_GUIDE_TRUST: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {
                "Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.region-code.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "oidc.eks.region-code.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub": "system:serviceaccount:default:my-service-account",
                    "oidc.eks.region-code.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:aud": "sts.amazonaws.com"
                }
            }
        }
    ]
}"#;

/// Seed 004: S3 read with list-shaped Action and Resource.
const S3_GET_OBJECTS: &str = r#"{
"Version": "2012-10-17",
"Statement": [
{
"Effect": "Allow",
"Action": [
"s3:GetObject"
],
"Resource": [
"arn:aws:s3:::my-pod-secrets-bucket/*"
]
}
]
}"#;

/// Seed 004: paid container images from AWS Marketplace (Action before Effect).
const MARKETPLACE: &str = r#"{
"Version": "2012-10-17",
"Statement": [
{
"Action": [
"aws-marketplace:RegisterUsage"
],
"Effect": "Allow",
"Resource": "*"
}
]
}"#;

/// Seed 003: what the console's visual editor produces for ECR read with "Any in this account".
const CONSOLE_ECR_READ: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "VisualEditor0",
            "Effect": "Allow",
            "Action": [
                "ecr:DescribeImages",
                "ecr:ListImages",
                "ecr:BatchGetImage",
                "ecr:DescribeRepositories"
            ],
            "Resource": "arn:aws:ecr:*:111122223333:repository/*"
        },
        {
            "Sid": "VisualEditor1",
            "Effect": "Allow",
            "Action": [
                "ecr:GetAuthorizationToken",
                "ecr:DescribeRegistry",
                "ecr:GetAccountSetting"
            ],
            "Resource": "*"
        }
    ]
}"#;

/// Seed 003: the EC2 service role trust policy the console creates.
const EC2_SERVICE_TRUST: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": { "Service": [ "ec2.amazonaws.com" ] },
            "Action": [ "sts:AssumeRole" ]
        }
    ]
}"#;

/// What eksctl writes (via CloudFormation) for `create iamserviceaccount`.
const EKSCTL_TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"
      },
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {
          "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E:aud": "sts.amazonaws.com",
          "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E:sub": "system:serviceaccount:my-namespace:my-service-account"
        }
      }
    }
  ]
}"#;

/// AWS managed policy AmazonS3ReadOnlyAccess (current version).
const S3_READ_ONLY_ACCESS: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:Get*",
                "s3:List*",
                "s3:Describe*",
                "s3-object-lambda:Get*",
                "s3-object-lambda:List*"
            ],
            "Resource": "*"
        }
    ]
}"#;

/// A trust policy from 2008 with Statement as an object and an account-id principal.
const LEGACY_CROSS_ACCOUNT_TRUST: &str = r#"{
  "Version": "2008-10-17",
  "Statement": {
    "Sid": "cross account",
    "Effect": "Allow",
    "Principal": { "AWS": "444455556666" },
    "Action": "sts:AssumeRole",
    "Condition": { "Bool": { "aws:MultiFactorAuthPresent": true } }
  }
}"#;

#[test]
fn real_documents_validate_as_their_kind() {
    let table: &[(&str, &str, DocumentKind, usize)] = &[
        ("kaniko ecr", KANIKO_ECR, DocumentKind::Managed, 3),
        ("kaniko trust", KANIKO_TRUST, DocumentKind::Trust, 1),
        ("s3 bucket", S3_GET_BUCKET, DocumentKind::Managed, 1),
        ("eks guide trust", EKS_GUIDE_TRUST, DocumentKind::Trust, 1),
        ("s3 objects", S3_GET_OBJECTS, DocumentKind::Managed, 1),
        ("marketplace", MARKETPLACE, DocumentKind::Managed, 1),
        ("console ecr", CONSOLE_ECR_READ, DocumentKind::Managed, 2),
        (
            "ec2 service trust",
            EC2_SERVICE_TRUST,
            DocumentKind::Trust,
            1,
        ),
        ("eksctl trust", EKSCTL_TRUST, DocumentKind::Trust, 1),
        (
            "AmazonS3ReadOnlyAccess",
            S3_READ_ONLY_ACCESS,
            DocumentKind::Managed,
            1,
        ),
        (
            "legacy trust",
            LEGACY_CROSS_ACCOUNT_TRUST,
            DocumentKind::Trust,
            1,
        ),
    ];
    for (name, json, kind, statements) in table {
        let doc = validate(json, *kind).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc.statements.len(), *statements, "{name}");
        // What passes as a managed policy passes inline too.
        if *kind == DocumentKind::Managed {
            validate(json, DocumentKind::Inline).unwrap_or_else(|e| panic!("{name} inline: {e}"));
        }
        // And the other use is refused, with IAM's message.
        let (other, expected) = match kind {
            DocumentKind::Trust => (
                DocumentKind::Inline,
                "Policy document should not specify a principal.",
            ),
            _ => (
                DocumentKind::Trust,
                "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!",
            ),
        };
        let err = validate(json, other).unwrap_err();
        assert_eq!(err.message(), expected, "{name} as {other:?}");
        assert_eq!(err.code(), "MalformedPolicyDocument");
    }
}

#[test]
fn parsed_structure_matches_the_json() {
    let doc = PolicyDocument::parse(EKS_GUIDE_TRUST).unwrap();
    assert_eq!(doc.version.as_deref(), Some("2012-10-17"));
    let st = &doc.statements[0];
    assert_eq!(st.effect, Effect::Allow);
    assert_eq!(
        st.action.as_deref(),
        Some(&["sts:AssumeRoleWithWebIdentity".to_string()][..])
    );
    assert_eq!(
        st.principal,
        Some(Principal::Named(vec![PrincipalRef::federated(
            "arn:aws:iam::111122223333:oidc-provider/oidc.eks.region-code.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
        )]))
    );
    let keys: Vec<&str> = st
        .conditions
        .iter()
        .map(|c: &Condition| c.key.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "oidc.eks.region-code.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub",
            "oidc.eks.region-code.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:aud"
        ]
    );
    assert!(st
        .conditions
        .iter()
        .all(|c| c.operator.to_string() == "StringEquals"));

    let legacy = PolicyDocument::parse(LEGACY_CROSS_ACCOUNT_TRUST).unwrap();
    assert_eq!(legacy.statements[0].sid.as_deref(), Some("cross account"));
    assert_eq!(legacy.statements[0].conditions[0].values, vec!["true"]);
    // The document is kept as submitted: Statement stays an object.
    assert!(legacy.as_json()["Statement"].is_object());
    let reparsed: PolicyDocument =
        serde_json::from_str(&serde_json::to_string(&legacy).unwrap()).unwrap();
    assert_eq!(reparsed, legacy);
}

#[test]
fn federated_principals_come_from_allow_statements_only() {
    let doc = PolicyDocument::parse(&format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"Federated":["arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}","accounts.google.com"]}},"Action":"sts:AssumeRoleWithWebIdentity"}},
            {{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}","AWS":"{ACCOUNT}"}},"Action":"sts:TagSession"}},
            {{"Effect":"Deny","Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/evil"}},"Action":"sts:AssumeRoleWithWebIdentity"}},
            {{"Effect":"Allow","Principal":{{"Service":"ec2.amazonaws.com"}},"Action":"sts:AssumeRole"}}
        ]}}"#
    ))
    .unwrap();
    assert_eq!(
        doc.federated_principals(),
        vec![
            format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"),
            "accounts.google.com".to_string()
        ]
    );
    assert!(PolicyDocument::parse(S3_READ_ONLY_ACCESS)
        .unwrap()
        .federated_principals()
        .is_empty());
}

fn stmt_doc(statement: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#)
}

/// Trust policies (CreateRole, UpdateAssumeRolePolicy). Where each message comes from:
/// - "This policy contains invalid Json", "AssumeRole policy may only specify STS AssumeRole actions.",
///   "Has prohibited field Resource": IAM's answers to UpdateAssumeRolePolicy and CreateRole recorded by
///   LocalStack (tests/aws/services/iam/test_iam_roles.snapshot.json, 2026-02-11, and test_iam.snapshot.json,
///   2023-09-14); the missing `file://` case as users quote it (AWSCookbook/Security#2,
///   aws-samples/aws-microservices-deploy-options#118, brendanhay/amazonka#434).
/// - no Principal: terraform-aws-modules/terraform-aws-iam#47 (2020, one report).
/// - "Invalid principal in policy: \"AWS\":…": opstrace/opstrace#88, databrickslabs/ucx#2269.
/// - Uncertain, no report found: "Has prohibited field NotResource" (by analogy with Resource), NotAction
///   and `*` as non-STS actions, "Missing required field Statement/Effect" (the wording of the policy library
///   IAM's trust parser shares with other services).
#[test]
fn trust_policy_messages() {
    let ok_trust =
        r#""Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole""#;
    let invalid_json = "This policy contains invalid Json";
    let table: Vec<(String, &str)> = vec![
        ("assume-role-policy.json".into(), invalid_json),
        ("not valid json".into(), invalid_json),
        ("".into(), invalid_json),
        ("[]".into(), invalid_json),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Action":"sts:AssumeRole","Principal":"*","Effect":"Allow",}]}"#.into(),
            invalid_json,
        ),
        (r#"{"Version":"2012-10-17"}"#.into(), "Missing required field Statement"),
        (stmt_doc(r#"{"Principal":"*","Action":"sts:AssumeRole"}"#), "Missing required field Effect"),
        (
            stmt_doc(r#"{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity"}"#),
            "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!",
        ),
        (stmt_doc(&format!(r#"{{{ok_trust},"Resource":"*"}}"#)), "Has prohibited field Resource"),
        (
            stmt_doc(&format!(r#"{{{ok_trust},"NotResource":"arn:aws:s3:::x"}}"#)),
            "Has prohibited field NotResource",
        ),
        (
            stmt_doc(r#"{"Effect":"Allow","Principal":"*","NotAction":"s3:*"}"#),
            "AssumeRole policy may only specify STS AssumeRole actions.",
        ),
        (
            stmt_doc(r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:InvalidAction"}"#),
            "AssumeRole policy may only specify STS AssumeRole actions.",
        ),
        (
            stmt_doc(r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"*"}"#),
            "AssumeRole policy may only specify STS AssumeRole actions.",
        ),
        (
            stmt_doc(r#"{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"sts:AssumeRole"}"#),
            "Invalid principal in policy: \"AWS\":\"bob\"",
        ),
        (
            stmt_doc(r#"{"Effect":"Allow","Principal":{"Federated":""},"Action":"sts:AssumeRoleWithWebIdentity"}"#),
            "Invalid principal in policy: \"Federated\":\"\"",
        ),
        // The grammar every document shares applies here too.
        (
            stmt_doc(r#"{"Sid":"a","Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},{"Sid":"a","Effect":"Allow","Principal":"*","Action":"sts:TagSession"}"#),
            "Statement IDs (SID) in a single policy must be unique.",
        ),
        (
            stmt_doc(r#"{"Effect":"allow","Principal":"*","Action":"sts:AssumeRole"}"#),
            "The policy failed legacy parsing",
        ),
        (
            stmt_doc(r#"{"Effect":"Allow","Principal":"*"}"#),
            "Policy statement must contain actions.",
        ),
    ];
    for (json, message) in &table {
        let err = validate(json, DocumentKind::Trust).expect_err(json);
        assert_eq!(err.message(), *message, "{json}");
        assert_eq!(err.to_string(), *message);
        assert_eq!(err.code(), "MalformedPolicyDocument");
    }
}

#[test]
fn syntax_errors_keep_a_detail_for_humans() {
    let err = PolicyDocument::parse("{\"Statement\": [}").unwrap_err();
    assert!(matches!(err, PolicyError::Syntax { .. }));
    assert!(err.detail().is_some_and(|d| !d.is_empty()));
}

#[test]
fn trust_policies_accept_the_assume_role_family() {
    for action in [
        r#""sts:AssumeRoleWithWebIdentity""#,
        r#"["sts:AssumeRoleWithWebIdentity","sts:TagSession"]"#,
        r#""sts:AssumeRole*""#,
        r#""sts:SetSourceIdentity""#,
        r#""STS:AssumeRole""#,
    ] {
        let json = stmt_doc(&format!(
            r#"{{"Sid":"any text is fine here","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:root"}},"Action":{action}}}"#
        ));
        validate(&json, DocumentKind::Trust).unwrap_or_else(|e| panic!("{action}: {e}"));
    }
}

/// Inline policies may leave `Version` out, managed ones may not ("Version defaults to 2008-10-17",
/// docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html; the managed-policy
/// refusal is LocalStack's recording of CreatePolicy, invalid-1).
#[test]
fn version_is_optional_inline_and_statement_may_be_an_object() {
    let json = r#"{"Statement":{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}}"#;
    let doc = validate(json, DocumentKind::Inline).unwrap();
    assert_eq!(doc.version, None);
    assert!(!doc.supports_variables());
    assert_eq!(doc.statements.len(), 1);
    let err = validate(json, DocumentKind::Managed).unwrap_err();
    assert_eq!(
        err.message(),
        "Policy document must be version 2012-10-17 or greater."
    );
    assert_eq!(err.detail(), None);
}
