//! The AWS managed-policy catalog through the real aws-sdk-iam: the policies IRSA set-ups attach first (EBS CSI
//! driver, Lambda, load balancer controller, external-dns, read-only job functions) with their paths, default
//! versions, dates and documents, attachable and evaluated like any other.

mod common;

use aws_smithy_types::date_time::Format;
use common::code;

/// (ARN, a statement's action its default document must hold): the policies issue 12 names.
const POLICIES: [(&str, &str); 5] = [
    (
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
        "ec2:CreateSnapshot",
    ),
    (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "logs:PutLogEvents",
    ),
    (
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
        "s3:ListAllMyBuckets",
    ),
    (
        "arn:aws:iam::aws:policy/ElasticLoadBalancingFullAccess",
        "elasticloadbalancing:*",
    ),
    (
        "arn:aws:iam::aws:policy/AmazonRoute53FullAccess",
        "route53:*",
    ),
];

/// The generated index line of a policy: (path, default version, created, updated).
fn generated(name: &str) -> (String, String, String, String) {
    let line = include_str!("../data/aws-managed-policies.tsv")
        .lines()
        .find(|l| l.split('\t').next() == Some(name))
        .unwrap_or_else(|| panic!("{name} is not in the generated catalog"));
    let f: Vec<&str> = line.split('\t').collect();
    (f[1].into(), f[2].into(), f[3].into(), f[4].into())
}

#[tokio::test]
async fn get_policy_and_its_default_version() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    for (arn, action) in POLICIES {
        let name = arn.rsplit('/').next().unwrap();
        let (path, version_id, created, updated) = generated(name);
        let policy = iam
            .get_policy()
            .policy_arn(arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetPolicy {arn}: {e:?}"))
            .policy
            .unwrap();
        assert_eq!(policy.arn(), Some(arn));
        assert_eq!(policy.policy_name(), Some(name));
        assert_eq!(policy.path(), Some(path.as_str()));
        assert_eq!(policy.default_version_id(), Some(version_id.as_str()));
        assert!(policy.is_attachable());
        assert!(policy.policy_id().unwrap().starts_with("ANPA"));
        let date =
            |d: Option<&aws_smithy_types::DateTime>| d.unwrap().fmt(Format::DateTime).unwrap();
        assert_eq!(date(policy.create_date()), created, "{name}");
        assert_eq!(date(policy.update_date()), updated, "{name}");

        let version = iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(&version_id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetPolicyVersion {arn}: {e:?}"))
            .policy_version
            .unwrap();
        assert!(version.is_default_version());
        assert_eq!(date(version.create_date()), updated, "{name}");
        let document = common::decode_document(version.document().unwrap());
        assert_eq!(document["Version"], "2012-10-17", "{name}");
        assert!(document.to_string().contains(action), "{name}: {document}");
        irsa_policy::validate(&document.to_string(), irsa_policy::DocumentKind::Managed)
            .unwrap_or_else(|e| panic!("{name}: {e}"));

        let versions = iam
            .list_policy_versions()
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
        let ids: Vec<&str> = versions
            .versions()
            .iter()
            .filter_map(|v| v.version_id())
            .collect();
        assert_eq!(ids, [version_id.as_str()], "{name}");

        let err = iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id("v999")
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "NoSuchEntity");
    }
    // The path is part of the ARN: the right name on the wrong path is not there.
    let err = iam
        .get_policy()
        .policy_arn("arn:aws:iam::aws:policy/AmazonEBSCSIDriverPolicy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    emulator.shutdown().await;
}

#[tokio::test]
async fn attach_them_to_a_role_and_see_them_counted() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    common::create_role(&iam, "irsa-addons").await;
    for (arn, _) in &POLICIES {
        iam.attach_role_policy()
            .role_name("irsa-addons")
            .policy_arn(*arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("AttachRolePolicy {arn}: {e:?}"));
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name("irsa-addons")
        .send()
        .await
        .unwrap();
    let mut arns: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    arns.sort();
    let mut expected: Vec<&str> = POLICIES.iter().map(|(arn, _)| *arn).collect();
    expected.sort();
    assert_eq!(arns, expected);

    let service_roles = iam
        .list_attached_role_policies()
        .role_name("irsa-addons")
        .path_prefix("/service-role/")
        .send()
        .await
        .unwrap();
    assert_eq!(service_roles.attached_policies().len(), 2);

    let counted = iam
        .get_policy()
        .policy_arn(POLICIES[0].0)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    assert_eq!(counted.attachment_count(), Some(1));
    emulator.shutdown().await;
}
