//! The orders `migrate` keeps, one case per situation plugin/tests/e2e/migrate.rs makes for real.

use irsa_policy::irsa_trust_policy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::*;
use crate::commands::migrate::is_addon_service_account;
use crate::plan::PlanStep;
use crate::trust::pod_identity::pod_identity_trust_policy;

const ACCOUNT: &str = "111122223333";
const ISSUER: &str = "https://127.0.0.1:8443/id/ABC";
const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/app";

fn target() -> MigrationTarget {
    MigrationTarget {
        cluster: "demo".into(),
        account: irsa_policy::Account::aws(ACCOUNT),
        issuer: ISSUER.into(),
        provider_arn: irsa_policy::Account::aws(ACCOUNT).provider_arn(ISSUER),
    }
}

fn irsa_trust() -> Value {
    irsa_trust_policy(
        &irsa_policy::Account::aws(ACCOUNT),
        ISSUER,
        "shop",
        "app",
        STS_AUDIENCE,
        None,
    )
}

fn role(trust: Value) -> Role {
    Role {
        name: "app".into(),
        arn: ROLE_ARN.into(),
        path: "/".into(),
        trust,
        max_session_duration: None,
        permissions_boundary: None,
        tags: Vec::new(),
    }
}

fn association() -> Association {
    Association {
        cluster: "demo".into(),
        id: "a-0123456789abcdefg".into(),
        namespace: "shop".into(),
        service_account: "app".into(),
        role_arn: ROLE_ARN.into(),
        ..Default::default()
    }
}

fn pod(name: &str, injected: bool, irsa_env: bool) -> PodIdentityPod {
    PodIdentityPod {
        name: name.into(),
        injected,
        irsa_env,
        predates_association: !injected,
    }
}

fn facts(
    annotated: bool,
    trust: Value,
    associations: Vec<Association>,
    pods: Vec<PodIdentityPod>,
) -> MigrationFacts {
    let annotations =
        annotated.then(|| [(ROLE_ARN_ANNOTATION.to_string(), ROLE_ARN.to_string())].into());
    MigrationFacts {
        namespace: "shop".into(),
        name: "app".into(),
        service_account: ServiceAccount {
            metadata: ObjectMeta {
                name: Some("app".into()),
                namespace: Some("shop".into()),
                annotations,
                ..Default::default()
            },
            ..Default::default()
        },
        role: Some(role(trust)),
        associations,
        pods,
    }
}

fn summaries(m: &Migration) -> Vec<String> {
    m.plan.steps.iter().map(|s| s.summary()).collect()
}

#[test]
fn to_pod_identity_adds_trust_then_the_association_and_keeps_irsa_without_the_flag() {
    let m = plan_to_pod_identity(
        &facts(true, irsa_trust(), vec![], vec![pod("old", false, true)]),
        &target(),
        false,
    )
    .unwrap();
    assert_eq!(
        summaries(&m),
        [
            "update the trust policy of role app".to_string(),
            format!("create EKS Pod Identity association shop/app -> {ROLE_ARN} in cluster demo"),
        ]
    );
    let Step::Iam(IamStep::UpdateTrust { trust, .. }) = &m.plan.steps[0] else {
        panic!()
    };
    assert!(admits_pod_identity(trust).is_ok());
    assert_eq!(
        crate::trust::statements(trust).len(),
        2,
        "the OIDC statement stays"
    );
    assert!(m.plan.warnings[0].contains("re-run with --remove-oidc-trust"));
    assert_eq!(m.restart.len(), 1);
    assert!(m.restart[0].starts_with("old: "));
}

#[test]
fn removing_the_oidc_trust_waits_for_the_irsa_pods() {
    let staged = add_pod_identity(&irsa_trust());
    // A pod still on IRSA's token: the annotation goes, the OIDC statement stays for it.
    let m = plan_to_pod_identity(
        &facts(
            true,
            staged.clone(),
            vec![association()],
            vec![pod("old", false, true)],
        ),
        &target(),
        true,
    )
    .unwrap();
    assert_eq!(
        summaries(&m),
        [format!(
            "remove annotation {ROLE_ARN_ANNOTATION} from service account shop/app"
        )]
    );
    assert!(
        m.plan
            .warnings
            .iter()
            .any(|w| w.contains("pod(s) old still use IRSA")),
        "{:?}",
        m.plan.warnings
    );
    assert!(m
        .plan
        .up_to_date
        .iter()
        .any(|u| u.contains("association a-0123456789abcdefg")));
    // Restarted (Pod Identity env only): the re-run removes the statement; the trust is Pod Identity's alone.
    let m = plan_to_pod_identity(
        &facts(
            false,
            staged.clone(),
            vec![association()],
            vec![pod("new", true, false)],
        ),
        &target(),
        true,
    )
    .unwrap();
    let [Step::Iam(IamStep::UpdateTrust { trust, .. })] = m.plan.steps.as_slice() else {
        panic!("{:?}", summaries(&m))
    };
    assert_eq!(trust, &pod_identity_trust_policy());
    assert!(m.restart.is_empty());
    // Done: nothing left.
    let m = plan_to_pod_identity(
        &facts(
            false,
            pod_identity_trust_policy(),
            vec![association()],
            vec![pod("new", true, false)],
        ),
        &target(),
        true,
    )
    .unwrap();
    assert!(m.plan.is_empty(), "{:?}", summaries(&m));
}

#[test]
fn a_re_run_is_up_to_date_and_another_roles_association_is_left_alone() {
    let staged = add_pod_identity(&irsa_trust());
    let m = plan_to_pod_identity(
        &facts(true, staged, vec![association()], vec![]),
        &target(),
        false,
    )
    .unwrap();
    assert!(m.plan.is_empty(), "{:?}", summaries(&m));
    assert!(m.plan.render(false).contains("up to date"));
    let mut other = association();
    other.role_arn = "arn:aws:iam::111122223333:role/other".into();
    let m = plan_to_pod_identity(
        &facts(true, irsa_trust(), vec![other], vec![]),
        &target(),
        true,
    )
    .unwrap();
    assert!(m.plan.is_empty());
    assert!(m.plan.warnings[0].contains("left alone"));
}

#[test]
fn to_irsa_trusts_and_annotates_first_then_deletes_the_association_naming_the_pods_to_restart() {
    let pi_only = pod_identity_trust_policy();
    let m = plan_to_irsa(
        &facts(
            false,
            pi_only.clone(),
            vec![association()],
            vec![pod("p", true, false)],
        ),
        &target(),
    )
    .unwrap();
    assert_eq!(
        summaries(&m),
        [
            "update the trust policy of role app".to_string(),
            format!("annotate service account shop/app ({ROLE_ARN_ANNOTATION}={ROLE_ARN})"),
            format!(
                "delete EKS Pod Identity association a-0123456789abcdefg (shop/app -> {ROLE_ARN}) in cluster demo"
            ),
        ]
    );
    assert!(m
        .plan
        .warnings
        .iter()
        .any(|w| w.contains("pod(s) p get credentials only through Pod Identity")));
    assert_eq!(m.restart.len(), 1);
    let Step::Iam(IamStep::UpdateTrust { trust, .. }) = &m.plan.steps[0] else {
        panic!()
    };
    let doc = PolicyDocument::from_value(trust.clone()).unwrap();
    assert!(trust_admits(
        &doc,
        &target().provider_arn,
        "system:serviceaccount:shop:app",
        STS_AUDIENCE
    )
    .is_allowed());
    // Already trusted and annotated (a re-run after a failure): only the association goes.
    let both = add_pod_identity(&irsa_trust());
    let m = plan_to_irsa(
        &facts(true, both, vec![association()], vec![pod("p", true, true)]),
        &target(),
    )
    .unwrap();
    assert_eq!(
        summaries(&m),
        [format!(
            "delete EKS Pod Identity association a-0123456789abcdefg (shop/app -> {ROLE_ARN}) in cluster demo"
        )]
    );
}

#[test]
fn add_on_service_accounts_are_recognised() {
    let sa = |ns: &str, name: &str| ServiceAccount {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(is_addon_service_account(&sa("kube-system", "aws-node")));
    assert!(!is_addon_service_account(&sa("shop", "aws-node")));
    assert!(!is_addon_service_account(&sa("kube-system", "my-app")));
}
