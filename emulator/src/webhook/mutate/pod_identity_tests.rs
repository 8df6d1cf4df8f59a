//! The Pod Identity (container credentials) rules, one test each; upstream's own cases are in
//! `pkg/handler/testdata/containercredentials/` of aws/amazon-eks-pod-identity-webhook.

use std::collections::BTreeMap;

use super::*;
use serde_json::json;

const ROLE: &str = "arn:aws:iam::111122223333:role/s3-reader";
const PI_TOKEN_FILE: &str =
    "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token";

fn pod(value: Value) -> Pod {
    serde_json::from_value(value).expect("test pod")
}

fn simple_pod() -> Pod {
    pod(json!({
        "metadata": { "name": "p", "namespace": "default" },
        "spec": { "serviceAccountName": "app", "containers": [{ "name": "app", "image": "x" }] }
    }))
}

fn sa(annotations: Value) -> ServiceAccountSettings {
    let annotations: BTreeMap<String, String> = serde_json::from_value(annotations).unwrap();
    ServiceAccountSettings::from_annotations(Some(&annotations), &MutationConfig::upstream(None))
}

fn associated(service_account: Option<&ServiceAccountSettings>) -> Binding<'_> {
    Binding {
        service_account,
        pod_identity: true,
    }
}

fn apply(pod: &Pod, decision: Decision) -> Value {
    let Decision::Patch(ops) = decision else {
        panic!("expected a patch, got {decision:?}");
    };
    let mut doc = serde_json::to_value(pod).unwrap();
    let patch: json_patch::Patch = serde_json::from_value(to_json(&ops)).unwrap();
    json_patch::patch(&mut doc, &patch).expect("patch applies");
    doc
}

fn pi_volume(expiration: i64) -> Value {
    json!({ "name": "eks-pod-identity-token", "projected": { "sources": [{ "serviceAccountToken": {
        "audience": "pods.eks.amazonaws.com", "expirationSeconds": expiration, "path": "eks-pod-identity-token" } }] } })
}

#[test]
fn an_associated_service_account_gets_the_agent_and_its_token() {
    let p = simple_pod();
    let config = MutationConfig::upstream(Some("us-east-1".into()));
    let result = apply(&p, mutate_bound(&p, associated(None), &config));
    assert_eq!(
        result["metadata"]["labels"],
        json!({ "eks.amazonaws.com/pod-identity": "enabled" })
    );
    // The default lifetime, jittered as upstream does.
    let expiration = result["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]
        ["expirationSeconds"]
        .as_i64()
        .unwrap();
    assert!((79200..=86400).contains(&expiration), "{expiration}");
    assert_eq!(result["spec"]["volumes"], json!([pi_volume(expiration)]));
    assert_eq!(
        result["spec"]["containers"][0],
        json!({ "name": "app", "image": "x",
            "env": [
                { "name": "AWS_DEFAULT_REGION", "value": "us-east-1" },
                { "name": "AWS_REGION", "value": "us-east-1" },
                { "name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": "http://169.254.170.23/v1/credentials" },
                { "name": "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "value": PI_TOKEN_FILE } ],
            "volumeMounts": [{ "name": "eks-pod-identity-token", "readOnly": true,
                "mountPath": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount" }] })
    );
}

#[test]
fn pod_identity_wins_over_the_irsa_annotation() {
    let p = simple_pod();
    let both =
        sa(json!({ "eks.amazonaws.com/role-arn": ROLE, "eks.amazonaws.com/audience": "mine" }));
    let result = apply(
        &p,
        mutate_bound(&p, associated(Some(&both)), &MutationConfig::upstream(None)),
    );
    let text = result.to_string();
    assert!(
        !text.contains("AWS_ROLE_ARN") && !text.contains("aws-iam-token"),
        "{text}"
    );
    // The audience annotation is IRSA's: the Pod Identity token keeps pods.eks.amazonaws.com.
    let projection =
        &result["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"];
    assert_eq!(projection["audience"], "pods.eks.amazonaws.com");
    assert_eq!(
        result["spec"]["volumes"][0]["name"],
        "eks-pod-identity-token"
    );
}

#[test]
fn the_service_accounts_expiry_and_regional_sts_still_apply() {
    let settings = sa(json!({ "eks.amazonaws.com/token-expiration": "3600",
        "eks.amazonaws.com/sts-regional-endpoints": "true" }));
    let p = simple_pod();
    let result = apply(
        &p,
        mutate_bound(
            &p,
            associated(Some(&settings)),
            &MutationConfig::upstream(None),
        ),
    );
    assert_eq!(result["spec"]["volumes"][0], pi_volume(3600));
    assert_eq!(
        result["spec"]["containers"][0]["env"][0],
        json!({ "name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional" })
    );
    // The pod's annotation overrides, floored at 600 as for IRSA.
    let annotated = pod(json!({
        "metadata": { "name": "p", "annotations": { "eks.amazonaws.com/token-expiration": "60" } },
        "spec": { "serviceAccountName": "app", "containers": [{ "name": "app" }] }
    }));
    let result = apply(
        &annotated,
        mutate_bound(
            &annotated,
            associated(Some(&settings)),
            &MutationConfig::upstream(None),
        ),
    );
    assert_eq!(result["spec"]["volumes"][0], pi_volume(600));
}

#[test]
fn containers_that_set_the_container_credentials_keep_theirs() {
    let p = pod(json!({
        "metadata": { "name": "p" },
        "spec": { "serviceAccountName": "app", "containers": [
            { "name": "own", "env": [{ "name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": "http://127.0.0.1:9/x" }] },
            { "name": "irsa-env", "env": [{ "name": "AWS_ROLE_ARN", "value": ROLE }] } ] }
    }));
    let result = apply(
        &p,
        mutate_bound(&p, associated(None), &MutationConfig::upstream(None)),
    );
    let own = &result["spec"]["containers"][0]["env"];
    assert_eq!(own.as_array().unwrap().len(), 1, "{own}");
    // A container with IRSA's variables still gets Pod Identity's (upstream checks the method's own two).
    let irsa_env = result["spec"]["containers"][1]["env"].to_string();
    assert!(
        irsa_env.contains("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
        "{irsa_env}"
    );
}

#[test]
fn without_an_association_or_a_role_nothing_happens() {
    let p = simple_pod();
    let none = Binding::default();
    assert!(matches!(
        mutate_bound(&p, none, &MutationConfig::upstream(None)),
        Decision::Skip(_)
    ));
    let plain = sa(json!({}));
    let Decision::Skip(reason) = mutate_bound(
        &p,
        Binding {
            service_account: Some(&plain),
            pod_identity: false,
        },
        &MutationConfig::upstream(None),
    ) else {
        panic!("no role, no association: not mutated")
    };
    assert!(reason.contains("no Pod Identity association"), "{reason}");
}

#[test]
fn emulator_additions_come_with_pod_identity_too() {
    let p = simple_pod();
    let config = MutationConfig::emulator(None, "https://10.0.0.1:8443", true);
    let result = apply(&p, mutate_bound(&p, associated(None), &config));
    let env = result["spec"]["containers"][0]["env"].to_string();
    assert!(
        env.contains("AWS_ENDPOINT_URL_STS") && env.contains("AWS_CA_BUNDLE"),
        "{env}"
    );
    let windows = pod(json!({
        "metadata": { "name": "p" },
        "spec": { "serviceAccountName": "app", "nodeSelector": { "kubernetes.io/os": "windows" },
            "containers": [{ "name": "app" }] }
    }));
    let result = apply(
        &windows,
        mutate_bound(&windows, associated(None), &MutationConfig::upstream(None)),
    );
    assert_eq!(
        result["spec"]["containers"][0]["env"][1]["value"],
        "C:\\var\\run\\secrets\\pods.eks.amazonaws.com\\serviceaccount\\eks-pod-identity-token"
    );
}

#[test]
fn the_label_joins_labels_the_pod_has() {
    let p = pod(json!({
        "metadata": { "name": "p", "labels": { "app": "web" } },
        "spec": { "serviceAccountName": "app", "containers": [{ "name": "app" }] }
    }));
    let result = apply(
        &p,
        mutate_bound(&p, associated(None), &MutationConfig::upstream(None)),
    );
    assert_eq!(
        result["metadata"]["labels"],
        json!({ "app": "web", "eks.amazonaws.com/pod-identity": "enabled" })
    );
}
