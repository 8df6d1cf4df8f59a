//! `create --pod-identity` decided without AWS or a cluster: the situations plugin/tests/e2e/pod_identity.rs
//! puts it in.

use std::collections::BTreeMap;

use irsa_names::{MANAGED_BY_LABEL, ROLE_ARN_ANNOTATION, STS_AUDIENCE};
use irsa_policy::irsa_trust_policy;
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::*;
use crate::aws::Role;
use crate::plan::PlanStep;

const ACCOUNT: &str = "111122223333";
const POLICY: &str = "arn:aws:iam::111122223333:policy/read";

fn target() -> PodIdentityTarget {
    PodIdentityTarget {
        cluster: "demo".into(),
        account: irsa_policy::Account::aws(ACCOUNT),
        region: "us-east-1".into(),
    }
}

fn spec() -> CreateSpec {
    CreateSpec {
        namespace: "shop".into(),
        name: "app".into(),
        audience: STS_AUDIENCE.into(),
        attach_policy_arns: vec![POLICY.into()],
        ..Default::default()
    }
}

fn role(trust: Value) -> Role {
    Role {
        name: "irsa-demo-shop-app".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:role/irsa-demo-shop-app"),
        path: "/".into(),
        trust,
        max_session_duration: Some(3600),
        permissions_boundary: None,
        tags: vec![(MANAGED_BY_TAG.into(), MANAGED_BY_VALUE.into())],
    }
}

fn association(role_arn: &str) -> Association {
    Association {
        cluster: "demo".into(),
        id: "a-0123456789abcdefg".into(),
        namespace: "shop".into(),
        service_account: "app".into(),
        role_arn: role_arn.into(),
        tags: vec![(MANAGED_BY_TAG.into(), MANAGED_BY_VALUE.into())],
        ..Default::default()
    }
}

fn sa(annotations: &[(&str, &str)]) -> ServiceAccountFacts {
    ServiceAccountFacts {
        namespace_exists: true,
        service_account: Some(ServiceAccount {
            metadata: ObjectMeta {
                annotations: Some(
                    annotations
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect::<BTreeMap<_, _>>(),
                ),
                ..Default::default()
            },
            ..Default::default()
        }),
    }
}

fn summaries(plan: &Plan<Step>) -> Vec<String> {
    plan.steps.iter().map(|s| s.summary()).collect()
}

fn binding(role_facts: &RoleFacts, sa: &ServiceAccountFacts, existing: &[Association]) -> Planned {
    let role = plan_pod_identity_role(&spec(), &target(), role_facts).unwrap();
    plan_pod_identity_binding(&spec(), "demo", role, sa, existing)
}

#[test]
fn a_new_binding_makes_the_role_the_service_account_and_then_the_association() {
    let fresh = ServiceAccountFacts::default();
    let planned = binding(&RoleFacts::default(), &fresh, &[]);
    let arn = format!("arn:aws:iam::{ACCOUNT}:role/irsa-demo-shop-app");
    assert_eq!(planned.role_arn, arn);
    assert_eq!(
        summaries(&planned.plan),
        [
            "create IAM role irsa-demo-shop-app (path /, tags managed-by=kubectl-irsa, kubectl-irsa/cluster=demo, \
             kubectl-irsa/service-account=shop/app)"
                .to_string(),
            format!("attach policy {POLICY} to role irsa-demo-shop-app"),
            "create namespace shop".to_string(),
            "create service account shop/app (labels app.kubernetes.io/managed-by=kubectl-irsa)".to_string(),
            format!("create EKS Pod Identity association shop/app -> {arn} in cluster demo"),
        ]
    );
    let Step::Iam(IamStep::CreateRole { role }) = &planned.plan.steps[0] else {
        panic!()
    };
    assert_eq!(role.trust, pod_identity_trust_policy());
    let Step::Cluster(ClusterStep::ApplyServiceAccount {
        annotations,
        labels,
        ..
    }) = &planned.plan.steps[3]
    else {
        panic!()
    };
    assert!(
        annotations.is_empty(),
        "no role-arn annotation for Pod Identity"
    );
    assert_eq!(labels[MANAGED_BY_LABEL], "kubectl-irsa");
}

#[test]
fn a_re_run_is_up_to_date() {
    let facts = RoleFacts {
        role: Some(role(pod_identity_trust_policy())),
        attached: vec![POLICY.into()],
        ..Default::default()
    };
    let arn = facts.role.as_ref().unwrap().arn.clone();
    let planned = binding(&facts, &sa(&[]), &[association(&arn)]);
    assert!(planned.plan.is_empty(), "{:?}", planned.plan.steps);
    let text = planned.plan.render(false);
    assert!(text.contains("up to date, nothing to change"), "{text}");
    assert!(
        text.contains("association a-0123456789abcdefg binds shop/app"),
        "{text}"
    );
    assert!(text.contains("admits pods.eks.amazonaws.com"), "{text}");
}

#[test]
fn an_irsa_role_needs_add_trust_and_an_irsa_annotation_is_warned_about() {
    let irsa = irsa_trust_policy(
        &irsa_policy::Account::aws(ACCOUNT),
        "https://i/x",
        "shop",
        "app",
        STS_AUDIENCE,
        None,
    );
    let facts = RoleFacts {
        role: Some(role(irsa.clone())),
        attached: vec![POLICY.into()],
        ..Default::default()
    };
    let err = plan_pod_identity_role(&spec(), &target(), &facts).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("re-run with --add-trust"), "{text}");
    assert!(
        text.contains("AllowEksAuthToAssumeRoleForPodIdentity"),
        "{text}"
    );
    let mut with_trust = spec();
    with_trust.add_trust = true;
    let role_plan = plan_pod_identity_role(&with_trust, &target(), &facts).unwrap();
    let [IamStep::UpdateTrust {
        trust, previous, ..
    }] = role_plan.plan.steps.as_slice()
    else {
        panic!("{:?}", role_plan.plan.steps)
    };
    assert_eq!(previous, &irsa);
    assert_eq!(
        crate::trust::statements(trust).len(),
        2,
        "the OIDC statement stays"
    );
    let planned = plan_pod_identity_binding(
        &with_trust,
        "demo",
        role_plan,
        &sa(&[(ROLE_ARN_ANNOTATION, "arn:aws:iam::111122223333:role/x")]),
        &[],
    );
    assert!(
        planned
            .plan
            .warnings
            .iter()
            .any(|w| w.contains("container credentials take precedence")),
        "{:?}",
        planned.plan.warnings
    );
}

#[test]
fn an_association_to_another_role_is_left_unless_overridden() {
    let mut plan = Plan::new("x");
    let other = association("arn:aws:iam::111122223333:role/other");
    plan_association(
        &spec(),
        "demo",
        "arn:aws:iam::1:role/r",
        std::slice::from_ref(&other),
        &mut plan,
    );
    assert!(plan.is_empty());
    assert!(plan.warnings[0].contains("left alone"));
    let mut overriding = spec();
    overriding.override_existing = true;
    let mut plan = Plan::new("x");
    plan_association(
        &overriding,
        "demo",
        "arn:aws:iam::1:role/r",
        &[other],
        &mut plan,
    );
    assert!(matches!(
        plan.steps.as_slice(),
        [
            EksStep::DeletePodIdentityAssociation { .. },
            EksStep::CreatePodIdentityAssociation { .. }
        ]
    ));
}

#[test]
fn attach_role_arn_needs_the_role_and_regions_give_partitions() {
    let mut s = spec();
    s.attach_role_arn = Some("arn:aws:iam::111122223333:role/shared".into());
    let err = plan_pod_identity_role(&s, &target(), &RoleFacts::default()).unwrap_err();
    assert!(err.to_string().contains("does not exist"));
}
