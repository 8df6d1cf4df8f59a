//! The situations plugin/tests/e2e/delete.rs puts `delete` in.

use std::collections::BTreeMap;

use irsa_names::{MANAGED_BY_LABEL, STS_AUDIENCE};
use irsa_policy::{irsa_trust_policy, irsa_trust_statement};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::json;

use super::*;
use crate::aws::{MANAGED_BY_TAG, MANAGED_BY_VALUE};

const ISSUER: &str = "https://127.0.0.1:8443/id/ABC";
const ARN: &str = "arn:aws:iam::111122223333:role/r";
const SUBJECT: &str = "system:serviceaccount:ns:app";

fn sa(labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> ServiceAccount {
    let map = |pairs: &[(&str, &str)]| {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        )
    };
    ServiceAccount {
        metadata: ObjectMeta {
            labels: map(labels),
            annotations: map(annotations),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn role(trust: Value, managed: bool) -> Role {
    Role {
        name: "r".into(),
        arn: ARN.into(),
        path: "/".into(),
        trust,
        max_session_duration: None,
        permissions_boundary: None,
        tags: if managed {
            vec![(MANAGED_BY_TAG.into(), MANAGED_BY_VALUE.into())]
        } else {
            Vec::new()
        },
    }
}

fn summaries<S: crate::plan::PlanStep>(plan: &Plan<S>) -> Vec<String> {
    plan.steps.iter().map(|s| s.summary()).collect()
}

#[test]
fn a_managed_service_account_is_deleted_with_its_metadata_kept_for_rollback() {
    let account = sa(
        &[(MANAGED_BY_LABEL, MANAGED_BY_VALUE)],
        &[
            (ROLE_ARN_ANNOTATION, ARN),
            ("kubectl.kubernetes.io/last-applied-configuration", "{}"),
        ],
    );
    let plan = plan_unbind("ns", "app", &account);
    let [ClusterStep::DeleteServiceAccount { previous, .. }] = plan.steps.as_slice() else {
        panic!("{:?}", plan.steps)
    };
    assert_eq!(
        previous.annotations.len(),
        1,
        "kubectl's own annotation is not restored"
    );
    assert_eq!(previous.labels[MANAGED_BY_LABEL], MANAGED_BY_VALUE);
}

#[test]
fn another_service_account_only_loses_its_annotation() {
    let plan = plan_unbind("ns", "app", &sa(&[], &[(ROLE_ARN_ANNOTATION, ARN)]));
    assert_eq!(
        summaries(&plan),
        [format!(
            "remove annotation {ROLE_ARN_ANNOTATION} from service account ns/app"
        )]
    );
    assert!(plan.warnings[0].contains("not created by kubectl-irsa"));
    let plan = plan_unbind("ns", "app", &sa(&[], &[]));
    assert!(plan.is_empty());
    assert!(plan.up_to_date[0].contains("has no"));
}

#[test]
fn a_managed_role_trusting_only_this_account_loses_its_policies_and_is_deleted() {
    let trust = irsa_trust_policy(
        &irsa_policy::Account::aws("111122223333"),
        ISSUER,
        "ns",
        "app",
        STS_AUDIENCE,
        None,
    );
    let facts = RoleFacts::Found {
        role: Box::new(role(trust, true)),
        attached: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
        inline: vec![("kubectl-irsa".into(), json!({"Statement": []}))],
    };
    let plan = plan_role_deletion(SUBJECT, &facts);
    assert_eq!(
        summaries(&plan),
        [
            "detach policy arn:aws:iam::aws:policy/ReadOnlyAccess from role r",
            "delete inline policy kubectl-irsa of role r",
            "delete IAM role r",
        ]
    );
}

#[test]
fn a_role_shared_with_other_accounts_only_loses_this_statement() {
    let mine = irsa_trust_statement(
        &irsa_policy::Account::aws("111122223333"),
        ISSUER,
        "ns",
        "app",
        STS_AUDIENCE,
        None,
    );
    let other = irsa_trust_statement(
        &irsa_policy::Account::aws("111122223333"),
        ISSUER,
        "ns",
        "b",
        STS_AUDIENCE,
        None,
    );
    let trust = json!({"Version": "2012-10-17", "Statement": [mine, other.clone()]});
    let facts = RoleFacts::Found {
        role: Box::new(role(trust.clone(), true)),
        attached: Vec::new(),
        inline: Vec::new(),
    };
    let plan = plan_role_deletion(SUBJECT, &facts);
    let [IamStep::UpdateTrust {
        trust: left,
        previous,
        ..
    }] = plan.steps.as_slice()
    else {
        panic!("{:?}", plan.steps)
    };
    assert_eq!(left["Statement"], json!([other]));
    assert_eq!(previous, &trust);
    assert!(plan.warnings[0].contains("only the statement for"));

    let pattern = irsa_trust_statement(
        &irsa_policy::Account::aws("1"),
        ISSUER,
        "ns",
        "app",
        STS_AUDIENCE,
        Some("*"),
    );
    let facts = RoleFacts::Found {
        role: Box::new(role(json!({"Statement": [pattern]}), true)),
        attached: Vec::new(),
        inline: Vec::new(),
    };
    let plan = plan_role_deletion(SUBJECT, &facts);
    assert!(plan.is_empty());
    assert!(plan.warnings[0].contains("kept unchanged"));
}

#[test]
fn roles_kubectl_irsa_does_not_manage_or_cannot_find_are_left_alone() {
    let facts = RoleFacts::Found {
        role: Box::new(role(json!({}), false)),
        attached: Vec::new(),
        inline: Vec::new(),
    };
    let plan = plan_role_deletion(SUBJECT, &facts);
    assert!(plan.is_empty());
    assert!(plan.warnings[0].contains("not managed by kubectl-irsa"));
    let plan = plan_role_deletion(SUBJECT, &RoleFacts::Missing { name: "r".into() });
    assert_eq!(plan.up_to_date, ["role r does not exist"]);
    let plan = plan_role_deletion(SUBJECT, &RoleFacts::NotARoleArn("nope".into()));
    assert!(plan.warnings[0].contains("not a role ARN"));
}

#[test]
fn the_service_account_goes_first_then_the_role() {
    let unbind = plan_unbind("ns", "app", &sa(&[], &[(ROLE_ARN_ANNOTATION, ARN)]));
    let role = plan_role_deletion(SUBJECT, &RoleFacts::Missing { name: "r".into() });
    let plan = unbind.then(role);
    assert_eq!(plan.subject, "service account ns/app");
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(plan.up_to_date, ["role r does not exist"]);
}

#[test]
fn a_pod_identity_role_is_deleted_unless_shared_and_keeps_other_trust() {
    use crate::trust::pod_identity::{add_pod_identity, pod_identity_trust_policy};
    let facts = |trust: Value| RoleFacts::Found {
        role: Box::new(role(trust, true)),
        attached: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
        inline: Vec::new(),
    };
    let plan = plan_pod_identity_role_deletion(SUBJECT, &facts(pod_identity_trust_policy()), &[]);
    assert_eq!(
        summaries(&plan),
        [
            "detach policy arn:aws:iam::aws:policy/ReadOnlyAccess from role r",
            "delete IAM role r"
        ]
    );
    let shared = ["ns/other".to_string()];
    let plan =
        plan_pod_identity_role_deletion(SUBJECT, &facts(pod_identity_trust_policy()), &shared);
    assert!(plan.is_empty());
    assert!(plan.warnings[0].contains("ns/other"));
    // Migrated: the same subject's OIDC statement goes with it, so the role goes.
    let irsa = irsa_trust_policy(
        &irsa_policy::Account::aws("111122223333"),
        ISSUER,
        "ns",
        "app",
        STS_AUDIENCE,
        None,
    );
    let both = add_pod_identity(&irsa);
    let plan = plan_pod_identity_role_deletion(SUBJECT, &facts(both.clone()), &[]);
    assert!(summaries(&plan).contains(&"delete IAM role r".to_string()));
    // Another subject's OIDC statement keeps the role: only the service's statement goes.
    let other = irsa_trust_policy(
        &irsa_policy::Account::aws("111122223333"),
        ISSUER,
        "ns",
        "b",
        STS_AUDIENCE,
        None,
    );
    let plan = plan_pod_identity_role_deletion(SUBJECT, &facts(add_pod_identity(&other)), &[]);
    let [IamStep::UpdateTrust {
        trust, previous, ..
    }] = plan.steps.as_slice()
    else {
        panic!("{:?}", plan.steps)
    };
    assert_eq!(trust, &other);
    assert_eq!(previous, &add_pod_identity(&other));
    let deletions = plan_association_deletion(&[Association {
        cluster: "demo".into(),
        id: "a-1".into(),
        namespace: "ns".into(),
        service_account: "app".into(),
        role_arn: ARN.into(),
        ..Default::default()
    }]);
    assert_eq!(
        summaries(&deletions),
        [format!(
            "delete EKS Pod Identity association a-1 (ns/app -> {ARN}) in cluster demo"
        )]
    );
}
