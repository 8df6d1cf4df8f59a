//! The Pod Identity doctor's verdicts, one per situation plugin/tests/e2e/pod_identity.rs makes for real.

use serde_json::json;

use super::*;
use crate::aws::{Role, MANAGED_BY_TAG, MANAGED_BY_VALUE};
use crate::trust::pod_identity::pod_identity_trust_policy;

const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/app";

fn facts(trust: serde_json::Value, agent: AgentFacts) -> PodIdentityFacts {
    PodIdentityFacts {
        association: Association {
            cluster: "demo".into(),
            id: "a-0123456789abcdefg".into(),
            namespace: "shop".into(),
            service_account: "app".into(),
            role_arn: ROLE_ARN.into(),
            ..Default::default()
        },
        sa_annotations: Some(BTreeMap::new()),
        role: RoleFacts::Found {
            role: Box::new(Role {
                name: "app".into(),
                arn: ROLE_ARN.into(),
                path: "/".into(),
                trust,
                max_session_duration: None,
                permissions_boundary: None,
                tags: vec![(MANAGED_BY_TAG.into(), MANAGED_BY_VALUE.into())],
            }),
            attached: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
            missing_policies: Vec::new(),
            inline: Vec::new(),
        },
        agent,
        pods: Vec::new(),
    }
}

fn status(d: &Diagnosis, name: &str) -> Status {
    d.checks
        .iter()
        .find(|c| c.check == name)
        .unwrap_or_else(|| panic!("no check {name}: {:?}", d.checks))
        .status
}

#[test]
fn a_working_binding_is_ok_and_names_the_sdk_versions() {
    let ready = AgentFacts::Found {
        desired: 2,
        ready: 2,
    };
    let d = diagnose_pod_identity(&facts(pod_identity_trust_policy(), ready));
    assert_eq!(d.verdict, Verdict::Ok, "{:?}", d.checks);
    assert_eq!(d.kind, BindingKind::PodIdentity);
    assert_eq!(d.status(), "OK");
    let sdk = d.checks.iter().find(|c| c.check == "sdk").unwrap();
    assert!(
        sdk.message.contains("boto3/botocore 1.34.41"),
        "{}",
        sdk.message
    );
    assert_eq!(serde_json::to_value(&d).unwrap()["kind"], "pod-identity");
}

#[test]
fn an_irsa_trust_and_a_missing_agent_are_problems() {
    let irsa = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/i/x"},
        "Action": "sts:AssumeRoleWithWebIdentity"}]});
    let d = diagnose_pod_identity(&facts(irsa, AgentFacts::Missing));
    assert_eq!(d.verdict, Verdict::Problems);
    assert_eq!(status(&d, "trust"), Status::Problem);
    assert_eq!(status(&d, "agent"), Status::Problem);
    let fix = d
        .checks
        .iter()
        .find(|c| c.check == "trust")
        .unwrap()
        .fix
        .clone()
        .unwrap();
    assert!(
        fix.contains("--pod-identity") && fix.contains("--add-trust"),
        "{fix}"
    );
}

#[test]
fn an_irsa_annotation_and_stale_pods_are_warnings() {
    let mut f = facts(
        pod_identity_trust_policy(),
        AgentFacts::Found {
            desired: 0,
            ready: 0,
        },
    );
    f.sa_annotations = Some(BTreeMap::from([(
        ROLE_ARN_ANNOTATION.to_string(),
        ROLE_ARN.to_string(),
    )]));
    f.pods = vec![PodIdentityPod {
        name: "old".into(),
        injected: false,
        irsa_env: true,
        predates_association: true,
    }];
    let d = diagnose_pod_identity(&f);
    assert_eq!(d.verdict, Verdict::Warnings, "{:?}", d.checks);
    let sa = d
        .checks
        .iter()
        .find(|c| c.check == "service-account")
        .unwrap();
    assert!(sa.message.contains("web identity"), "{}", sa.message);
    assert!(sa
        .fix
        .as_deref()
        .unwrap()
        .contains("migrate --to pod-identity"));
    assert_eq!(status(&d, "pods"), Status::Warning);
    assert_eq!(status(&d, "agent"), Status::Warning);
    f.sa_annotations = None;
    assert_eq!(diagnose_pod_identity(&f).verdict, Verdict::Problems);
}
