//! One case per situation the plugin's e2e tests (plugin/tests/e2e/create.rs, existing.rs, rollback.rs) put
//! `create` in, decided here without AWS or a cluster.

use std::collections::BTreeMap;

use irsa_names::{AUDIENCE_ANNOTATION, MANAGED_BY_LABEL, ROLE_ARN_ANNOTATION, STS_AUDIENCE};
use irsa_policy::irsa_trust_policy;
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{json, Value};

use super::*;
use crate::aws::Role;
use crate::commands::create::INLINE_POLICY_NAME;

const ACCOUNT: &str = "111122223333";
const ISSUER: &str = "https://127.0.0.1:8443/id/ABC";
const POLICY: &str = "arn:aws:iam::111122223333:policy/read";

fn target() -> Target {
    Target {
        issuer: Issuer {
            url: ISSUER.into(),
            flags: String::new(),
        },
        provider: Provider {
            arn: irsa_policy::Account::aws(ACCOUNT).provider_arn(ISSUER),
            url: "127.0.0.1:8443/id/ABC".into(),
            client_ids: vec![STS_AUDIENCE.into()],
            thumbprints: Vec::new(),
            tags: Vec::new(),
        },
        account: irsa_policy::Account::aws(ACCOUNT),
        cluster_label: "test-cluster".into(),
        region: "us-east-1".into(),
    }
}

fn spec(ns: &str, name: &str) -> CreateSpec {
    CreateSpec {
        namespace: ns.into(),
        name: name.into(),
        audience: STS_AUDIENCE.into(),
        attach_policy_arns: vec![POLICY.into()],
        ..Default::default()
    }
}

fn role_trusting(ns: &str, name: &str, managed: bool) -> Role {
    let role_name = spec(ns, name).role_name("test-cluster");
    Role {
        arn: format!("arn:aws:iam::{ACCOUNT}:role/{role_name}"),
        name: role_name,
        path: "/".into(),
        trust: irsa_trust_policy(
            &irsa_policy::Account::aws(ACCOUNT),
            ISSUER,
            ns,
            name,
            STS_AUDIENCE,
            None,
        ),
        max_session_duration: Some(3600),
        permissions_boundary: None,
        tags: if managed {
            vec![(MANAGED_BY_TAG.into(), MANAGED_BY_VALUE.into())]
        } else {
            Vec::new()
        },
    }
}

fn service_account(annotations: &[(&str, &str)], labels: &[(&str, &str)]) -> ServiceAccountFacts {
    let map = |pairs: &[(&str, &str)]| -> Option<BTreeMap<String, String>> {
        (!pairs.is_empty()).then(|| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
    };
    ServiceAccountFacts {
        namespace_exists: true,
        service_account: Some(ServiceAccount {
            metadata: ObjectMeta {
                annotations: map(annotations),
                labels: map(labels),
                ..Default::default()
            },
            ..Default::default()
        }),
    }
}

fn binding(spec: &CreateSpec, role: &RoleFacts, sa: &ServiceAccountFacts) -> Planned<Step> {
    plan_binding(spec, plan_role(spec, &target(), role).unwrap(), sa)
}

fn actions(plan: &Plan<Step>) -> Vec<String> {
    let json = serde_json::to_value(plan).unwrap();
    json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_new_binding_creates_the_role_with_the_exact_trust_then_the_service_account() {
    let spec = spec("shop", "reader");
    let planned = binding(
        &spec,
        &RoleFacts::default(),
        &ServiceAccountFacts::default(),
    );
    assert_eq!(
        actions(&planned.plan),
        [
            "createRole",
            "attachPolicy",
            "createNamespace",
            "applyServiceAccount"
        ]
    );
    let Step::Iam(IamStep::CreateRole { role }) = &planned.plan.steps[0] else {
        panic!("{:?}", planned.plan.steps[0]);
    };
    assert_eq!(
        role.trust,
        irsa_trust_policy(
            &irsa_policy::Account::aws(ACCOUNT),
            ISSUER,
            "shop",
            "reader",
            STS_AUDIENCE,
            None
        )
    );
    assert!(role
        .tags
        .contains(&(MANAGED_BY_TAG.into(), MANAGED_BY_VALUE.into())));
    let Step::Cluster(ClusterStep::ApplyServiceAccount {
        annotations,
        labels,
        previous,
        ..
    }) = &planned.plan.steps[3]
    else {
        panic!("{:?}", planned.plan.steps[3]);
    };
    assert_eq!(annotations[ROLE_ARN_ANNOTATION], planned.role_arn);
    assert!(
        !annotations.contains_key(AUDIENCE_ANNOTATION),
        "the default audience is not annotated"
    );
    assert_eq!(labels[MANAGED_BY_LABEL], MANAGED_BY_VALUE);
    assert_eq!(previous, &None);
    assert_eq!(
        planned.role_arn,
        format!("arn:aws:iam::{ACCOUNT}:role/irsa-test-cluster-shop-reader")
    );
}

#[test]
fn a_second_run_is_up_to_date() {
    let spec = spec("shop", "reader");
    let role = RoleFacts {
        role: Some(role_trusting("shop", "reader", true)),
        attached: vec![POLICY.into()],
        ..Default::default()
    };
    let arn = role.role.as_ref().unwrap().arn.clone();
    let sa = service_account(
        &[(ROLE_ARN_ANNOTATION, &arn)],
        &[(MANAGED_BY_LABEL, MANAGED_BY_VALUE)],
    );
    let planned = binding(&spec, &role, &sa);
    assert!(planned.plan.is_empty(), "{:?}", planned.plan.steps);
    assert_eq!(
        serde_json::to_value(&planned.plan).unwrap()["steps"],
        json!([])
    );
    let ok = planned.plan.up_to_date.join("\n");
    assert!(
        ok.contains("admits system:serviceaccount:shop:reader"),
        "{ok}"
    );
    assert!(ok.contains(&format!("policy {POLICY} is attached")), "{ok}");
    assert!(ok.contains("is annotated with"), "{ok}");
}

#[test]
fn an_existing_service_account_is_annotated_and_its_metadata_kept_for_rollback() {
    let spec = spec("shop", "app");
    let sa = service_account(&[("team", "payments")], &[]);
    let planned = binding(&spec, &RoleFacts::default(), &sa);
    assert_eq!(
        actions(&planned.plan),
        ["createRole", "attachPolicy", "applyServiceAccount"]
    );
    let Some(Step::Cluster(ClusterStep::ApplyServiceAccount {
        labels, previous, ..
    })) = planned.plan.steps.last()
    else {
        panic!()
    };
    assert!(
        labels.is_empty(),
        "a service account kubectl-irsa did not create gets no label"
    );
    assert_eq!(previous, &Some(SaSnapshot::default()));
    assert!(planned
        .plan
        .render(false)
        .contains("annotate service account shop/app"));
}

#[test]
fn a_subject_pattern_trusts_with_string_like() {
    let mut spec = spec("fleet", "svc-0");
    spec.subject_pattern = Some("svc-*".into());
    let planned = plan_role(&spec, &target(), &RoleFacts::default()).unwrap();
    let IamStep::CreateRole { role } = &planned.plan.steps[0] else {
        panic!()
    };
    assert_eq!(
        role.trust,
        irsa_trust_policy(
            &irsa_policy::Account::aws(ACCOUNT),
            ISSUER,
            "fleet",
            "svc-0",
            STS_AUDIENCE,
            Some("svc-*")
        )
    );
    assert!(
        role.trust.to_string().contains("StringLike"),
        "{}",
        role.trust
    );
}

#[test]
fn a_cluster_config_entry_brings_its_labels_and_annotations_and_a_custom_audience() {
    let mut spec = spec("team", "svc");
    spec.audience = "vault".into();
    spec.labels = BTreeMap::from([("tier".into(), "web".into())]);
    spec.annotations = BTreeMap::from([("note".into(), "from config".into())]);
    let planned = binding(
        &spec,
        &RoleFacts::default(),
        &ServiceAccountFacts::default(),
    );
    let Some(Step::Cluster(ClusterStep::ApplyServiceAccount {
        annotations,
        labels,
        ..
    })) = planned.plan.steps.last()
    else {
        panic!()
    };
    assert_eq!(annotations["note"], "from config");
    assert_eq!(annotations[AUDIENCE_ANNOTATION], "vault");
    assert_eq!(labels["tier"], "web");
    assert_eq!(labels[MANAGED_BY_LABEL], MANAGED_BY_VALUE);
}

#[test]
fn role_only_plans_iam_alone() {
    let mut spec = spec("shop", "reader");
    spec.role_only = true;
    let planned: Planned<IamStep> = plan_role(&spec, &target(), &RoleFacts::default()).unwrap();
    assert_eq!(planned.plan.steps.len(), 2, "{:?}", planned.plan.steps);
}

#[test]
fn an_existing_role_that_does_not_trust_the_service_account_is_refused_without_add_trust() {
    let spec = spec("shop", "other");
    let mut spec = CreateSpec {
        role_name: Some(role_trusting("shop", "reader", false).name),
        ..spec
    };
    let role = RoleFacts {
        role: Some(role_trusting("shop", "reader", false)),
        ..Default::default()
    };
    match plan_role(&spec, &target(), &role) {
        Err(Error::TrustMismatch { role, subject, .. }) => {
            assert_eq!(role, "irsa-test-cluster-shop-reader");
            assert_eq!(subject, "system:serviceaccount:shop:other");
        }
        other => panic!("{other:?}"),
    }
    spec.add_trust = true;
    let planned = plan_role(&spec, &target(), &role).unwrap();
    let IamStep::UpdateTrust {
        trust, previous, ..
    } = &planned.plan.steps[0]
    else {
        panic!("{:?}", planned.plan.steps)
    };
    assert_eq!(previous["Statement"].as_array().unwrap().len(), 1);
    let statements = trust["Statement"].as_array().unwrap();
    // The same provider: the new subject joins its statement (one statement per provider).
    assert_eq!(statements.len(), 1, "{trust:#}");
    let subjects = statements[0]["Condition"]["StringEquals"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.ends_with(":sub"))
        .map(|(_, v)| v.clone())
        .unwrap();
    assert_eq!(
        subjects,
        json!([
            "system:serviceaccount:shop:reader",
            "system:serviceaccount:shop:other"
        ])
    );
    assert!(
        planned.plan.warnings[0].contains("not managed by kubectl-irsa"),
        "{:?}",
        planned.plan.warnings
    );
}

#[test]
fn a_service_account_bound_elsewhere_is_left_alone_unless_overridden() {
    let elsewhere = "arn:aws:iam::111122223333:role/someone-else";
    let sa = service_account(&[(ROLE_ARN_ANNOTATION, elsewhere)], &[]);
    let mut spec = spec("shop", "app");
    let planned = binding(&spec, &RoleFacts::default(), &sa);
    assert_eq!(actions(&planned.plan), ["createRole", "attachPolicy"]);
    assert!(planned.plan.warnings[0].contains("bound to another role"));
    spec.override_existing = true;
    let planned = binding(&spec, &RoleFacts::default(), &sa);
    assert_eq!(
        actions(&planned.plan),
        ["createRole", "attachPolicy", "applyServiceAccount"]
    );
}

#[test]
fn attach_role_arn_needs_the_role_to_exist() {
    let mut spec = spec("shop", "app");
    spec.attach_role_arn = Some(format!("arn:aws:iam::{ACCOUNT}:role/shared"));
    match plan_role(&spec, &target(), &RoleFacts::default()) {
        Err(Error::NotFound(message)) => assert!(message.contains("role shared"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_existing_role_converges_to_what_was_asked() {
    let mut spec = spec("shop", "reader");
    spec.max_session_duration = Some(7200);
    spec.permissions_boundary = Some(POLICY.into());
    spec.tags = vec![("team".into(), "shop".into())];
    spec.inline_policy = Some(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}),
    );
    let role = RoleFacts {
        role: Some(role_trusting("shop", "reader", true)),
        attached: Vec::new(),
        inline: BTreeMap::from([(INLINE_POLICY_NAME.to_string(), Value::Null)]),
        ..Default::default()
    };
    let planned = plan_role(&spec, &target(), &role).unwrap();
    let json = serde_json::to_value(&planned.plan).unwrap();
    let actions: Vec<&str> = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "updateMaxSessionDuration",
            "putPermissionsBoundary",
            "tagRole",
            "attachPolicy",
            "putInlinePolicy"
        ]
    );
    assert_eq!(json["steps"][4]["previous"], Value::Null);
}

fn china_target() -> Target {
    let account = irsa_policy::Account::new("aws-cn", ACCOUNT);
    let mut target = target();
    target.provider.arn = account.provider_arn(ISSUER);
    target.account = account;
    target.region = "cn-north-1".into();
    target
}

#[test]
fn in_china_the_role_and_its_trust_are_minted_in_aws_cn() {
    let mut spec = spec("shop", "reader");
    spec.attach_policy_arns = vec!["arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess".into()];
    let target = china_target();
    let role = plan_role(&spec, &target, &RoleFacts::default()).unwrap();
    assert_eq!(
        role.role_arn,
        format!("arn:aws-cn:iam::{ACCOUNT}:role/irsa-test-cluster-shop-reader")
    );
    let IamStep::CreateRole { role: new } = &role.plan.steps[0] else {
        panic!("{:?}", role.plan.steps[0]);
    };
    assert_eq!(
        new.trust["Statement"][0]["Principal"]["Federated"],
        format!("arn:aws-cn:iam::{ACCOUNT}:oidc-provider/127.0.0.1:8443/id/ABC")
    );
}

#[test]
fn an_arn_from_another_partition_is_refused_with_the_arn_spelled_for_the_account() {
    let target = china_target();
    let mut spec = spec("shop", "reader");
    spec.attach_policy_arns = vec!["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into()];
    let err = plan_role(&spec, &target, &RoleFacts::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "--attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess is in partition aws, but account \
             {ACCOUNT} is in aws-cn: use arn:aws-cn:iam::aws:policy/AmazonS3ReadOnlyAccess"
        )
    );
    let mut spec = self::spec("shop", "reader");
    spec.attach_policy_arns.clear();
    spec.permissions_boundary = Some(format!("arn:aws:iam::{ACCOUNT}:policy/boundary"));
    let err = plan_role(&spec, &target, &RoleFacts::default()).unwrap_err();
    assert!(
        err.to_string().starts_with("--permissions-boundary"),
        "{err}"
    );
    // The same spec is fine in the commercial partition.
    assert!(plan_role(&spec, &self::target(), &RoleFacts::default()).is_ok());
}

#[test]
fn an_inline_policy_is_checked_for_the_accounts_partition_once_it_is_known() {
    let mut spec = spec("shop", "reader");
    spec.attach_policy_arns.clear();
    spec.inline_policy = Some(json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*" }]
    }));
    assert!(plan_role(&spec, &target(), &RoleFacts::default()).is_ok());
    let err = plan_role(&spec, &china_target(), &RoleFacts::default()).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "the inline policy is not valid in partition aws-cn (account {ACCOUNT}): "
        )) && err.to_string().contains("arn:aws:s3:::bucket/*"),
        "{err}"
    );
}
