//! The IRSA rules, one test each.

use std::collections::BTreeMap;

use super::*;
use irsa_names::{
    AUDIENCE_ANNOTATION, STS_REGIONAL_ENDPOINTS_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION,
};
use serde_json::json;

const ROLE: &str = "arn:aws:iam::111122223333:role/s3-reader";
const TOKEN_FILE: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";

fn pod(value: Value) -> Pod {
    serde_json::from_value(value).expect("test pod")
}

fn sa(annotations: Value) -> ServiceAccountSettings {
    let annotations: BTreeMap<String, String> = serde_json::from_value(annotations).unwrap();
    ServiceAccountSettings::from_annotations(Some(&annotations), &upstream())
}

fn upstream() -> MutationConfig {
    MutationConfig::upstream(None)
}

fn role_sa() -> ServiceAccountSettings {
    sa(json!({ ROLE_ARN_ANNOTATION: ROLE }))
}

fn patch(decision: Decision) -> Vec<PatchOperation> {
    match decision {
        Decision::Patch(ops) => ops,
        Decision::Skip(reason) => panic!("expected a patch, skipped: {reason}"),
    }
}

fn skip_reason(decision: Decision) -> String {
    match decision {
        Decision::Skip(reason) => reason,
        Decision::Patch(ops) => panic!("expected a skip, got {ops:?}"),
    }
}

/// The pod with the patch applied, as the API server would store it.
fn apply(pod: &Pod, ops: &[PatchOperation]) -> Value {
    let mut doc = serde_json::to_value(pod).unwrap();
    let patch: json_patch::Patch = serde_json::from_value(to_json(&ops)).unwrap();
    json_patch::patch(&mut doc, &patch).expect("patch applies");
    doc
}

fn simple_pod() -> Pod {
    pod(json!({
        "metadata": { "name": "p", "namespace": "default" },
        "spec": { "serviceAccountName": "default", "containers": [{ "name": "app", "image": "amazonlinux" }] }
    }))
}

fn token_volume_json(audience: &str, expiration: i64) -> Value {
    json!({ "name": "aws-iam-token", "projected": { "sources": [{ "serviceAccountToken": {
        "audience": audience, "expirationSeconds": expiration, "path": "token" } }] } })
}

fn token_mount_json() -> Value {
    json!({ "name": "aws-iam-token", "readOnly": true, "mountPath": TOKEN_MOUNT_PATH })
}

#[test]
fn plain_pod_gets_volume_mount_and_env() {
    let p = simple_pod();
    let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &upstream())));
    assert_eq!(
        result["spec"]["volumes"],
        json!([token_volume_json("sts.amazonaws.com", 86400)])
    );
    assert_eq!(
        result["spec"]["containers"][0],
        json!({ "name": "app", "image": "amazonlinux",
            "env": [{ "name": "AWS_ROLE_ARN", "value": ROLE }, { "name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": TOKEN_FILE }],
            "volumeMounts": [token_mount_json()] })
    );
}

#[test]
fn region_and_regional_sts_precede_the_role() {
    let p = simple_pod();
    let config = MutationConfig::upstream(Some("seattle".into()));
    let settings = ServiceAccountSettings {
        regional_sts: true,
        ..role_sa()
    };
    let result = apply(&p, &patch(mutate(&p, Some(&settings), &config)));
    let names: Vec<_> = result["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}={}",
                e["name"].as_str().unwrap(),
                e["value"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "AWS_STS_REGIONAL_ENDPOINTS=regional",
            "AWS_DEFAULT_REGION=seattle",
            "AWS_REGION=seattle",
            &format!("AWS_ROLE_ARN={ROLE}"),
            &format!("AWS_WEB_IDENTITY_TOKEN_FILE={TOKEN_FILE}"),
        ]
    );
}

#[test]
fn existing_volumes_keep_their_place_after_the_token_volume() {
    let p = pod(json!({
        "metadata": { "name": "p" },
        "spec": { "serviceAccountName": "default",
            "containers": [{ "name": "app", "image": "x", "volumeMounts": [{ "name": "data", "mountPath": "/data" }] }],
            "volumes": [{ "name": "data", "emptyDir": {} }] }
    }));
    let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &upstream())));
    assert_eq!(result["spec"]["volumes"][0]["name"], "aws-iam-token");
    assert_eq!(result["spec"]["volumes"][1]["name"], "data");
    assert_eq!(
        result["spec"]["containers"][0]["volumeMounts"],
        json!([{ "name": "data", "mountPath": "/data" }, token_mount_json()])
    );
}

#[test]
fn init_containers_and_sidecars_are_mutated_unless_skipped() {
    let p = pod(json!({
        "metadata": { "name": "p", "annotations": { SKIP_CONTAINERS_ANNOTATION: "sidecar,init-skip" } },
        "spec": { "serviceAccountName": "default",
            "initContainers": [{ "name": "init" }, { "name": "init-skip" }],
            "containers": [{ "name": "app" }, { "name": "sidecar" }] }
    }));
    let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &upstream())));
    assert!(result["spec"]["initContainers"][0]["env"].is_array());
    assert_eq!(
        result["spec"]["initContainers"][1],
        json!({ "name": "init-skip" })
    );
    assert!(result["spec"]["containers"][0]["env"].is_array());
    assert_eq!(
        result["spec"]["containers"][1],
        json!({ "name": "sidecar" })
    );
}

#[test]
fn env_a_container_sets_is_not_overwritten() {
    let p = pod(json!({
        "metadata": { "name": "p" },
        "spec": { "serviceAccountName": "default", "containers": [{ "name": "app", "env": [
            { "name": "AWS_ROLE_ARN", "value": "mine" }, { "name": "AWS_REGION", "value": "eu-west-1" } ] }] }
    }));
    let config = MutationConfig::upstream(Some("us-east-1".into()));
    let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &config)));
    // Either web-identity variable set means neither is added; either region variable likewise.
    assert_eq!(
        result["spec"]["containers"][0]["env"],
        json!([{ "name": "AWS_ROLE_ARN", "value": "mine" }, { "name": "AWS_REGION", "value": "eu-west-1" }])
    );
    assert_eq!(
        result["spec"]["containers"][0]["volumeMounts"],
        json!([token_mount_json()])
    );
}

#[test]
fn a_fully_configured_container_is_left_alone() {
    let p = pod(json!({
        "metadata": { "name": "p" },
        "spec": { "serviceAccountName": "default", "containers": [{ "name": "app", "env": [
            { "name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": "/t" }, { "name": "AWS_DEFAULT_REGION", "value": "r" },
            { "name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "legacy" } ] }] }
    }));
    let ops = patch(mutate(&p, Some(&role_sa()), &upstream()));
    // Only the pod volume; not even the mount (upstream returns early).
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].path, "/spec/volumes");
}

#[test]
fn existing_token_volume_and_mount_are_not_duplicated() {
    let p = pod(json!({
        "metadata": { "name": "p" },
        "spec": { "serviceAccountName": "default",
            "containers": [{ "name": "app", "volumeMounts": [token_mount_json()] }, { "name": "sidecar" }],
            "volumes": [token_volume_json("sts.amazonaws.com", 86400)] }
    }));
    let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &upstream())));
    assert_eq!(result["spec"]["volumes"].as_array().unwrap().len(), 1);
    assert_eq!(
        result["spec"]["containers"][0]["volumeMounts"],
        json!([token_mount_json()])
    );
    assert_eq!(
        result["spec"]["containers"][1]["volumeMounts"],
        json!([token_mount_json()])
    );
}

#[test]
fn token_expiration_pod_annotation_wins_and_is_floored() {
    let settings = sa(json!({ ROLE_ARN_ANNOTATION: ROLE, TOKEN_EXPIRATION_ANNOTATION: "3600" }));
    assert_eq!(settings.token_expiration, 3600);
    let low = sa(json!({ ROLE_ARN_ANNOTATION: ROLE, TOKEN_EXPIRATION_ANNOTATION: "10" }));
    assert_eq!(low.token_expiration, 600);
    let invalid = sa(json!({ ROLE_ARN_ANNOTATION: ROLE, TOKEN_EXPIRATION_ANNOTATION: "1h" }));
    assert_eq!(invalid.token_expiration, 86400);

    for (annotation, expected) in [("7200", 7200), ("0", 600), ("-5", 600), ("abc", 3600)] {
        let p = pod(json!({
            "metadata": { "name": "p", "annotations": { TOKEN_EXPIRATION_ANNOTATION: annotation } },
            "spec": { "serviceAccountName": "default", "containers": [{ "name": "app" }] }
        }));
        let result = apply(&p, &patch(mutate(&p, Some(&settings), &upstream())));
        assert_eq!(
            result["spec"]["volumes"][0],
            token_volume_json("sts.amazonaws.com", expected),
            "pod annotation {annotation:?}"
        );
    }
}

#[test]
fn audience_annotation_is_used() {
    let settings = sa(json!({ ROLE_ARN_ANNOTATION: ROLE, AUDIENCE_ANNOTATION: "my-aud" }));
    let p = simple_pod();
    let result = apply(&p, &patch(mutate(&p, Some(&settings), &upstream())));
    assert_eq!(
        result["spec"]["volumes"][0],
        token_volume_json("my-aud", 86400)
    );
}

#[test]
fn regional_sts_annotation_parses_like_go() {
    for (value, expected) in [
        ("true", true),
        ("1", true),
        ("T", true),
        ("false", false),
        ("yes", false),
    ] {
        let settings =
            sa(json!({ ROLE_ARN_ANNOTATION: ROLE, STS_REGIONAL_ENDPOINTS_ANNOTATION: value }));
        assert_eq!(settings.regional_sts, expected, "{value}");
    }
}

#[test]
fn windows_pods_get_a_windows_token_path() {
    for key in ["kubernetes.io/os", "beta.kubernetes.io/os"] {
        let p = pod(json!({
            "metadata": { "name": "p" },
            "spec": { "serviceAccountName": "default", "nodeSelector": { key: "windows" }, "containers": [{ "name": "app" }] }
        }));
        let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &upstream())));
        assert_eq!(
            result["spec"]["containers"][0]["env"][1]["value"],
            "C:\\var\\run\\secrets\\eks.amazonaws.com\\serviceaccount\\token"
        );
        assert_eq!(
            result["spec"]["containers"][0]["volumeMounts"][0]["mountPath"],
            TOKEN_MOUNT_PATH
        );
    }
}

#[test]
fn skips_have_reasons() {
    let p = simple_pod();
    assert!(skip_reason(mutate(&p, None, &upstream())).contains("not found"));
    let no_role = sa(json!({ AUDIENCE_ANNOTATION: "x" }));
    assert!(skip_reason(mutate(&p, Some(&no_role), &upstream())).contains("role-arn"));
    let empty_role = sa(json!({ ROLE_ARN_ANNOTATION: "" }));
    assert!(skip_reason(mutate(&p, Some(&empty_role), &upstream())).contains("role-arn"));

    let labelled = pod(json!({
        "metadata": { "name": "p", "labels": { SKIP_POD_LABEL: "true" } },
        "spec": { "serviceAccountName": "default", "containers": [{ "name": "app" }] }
    }));
    assert!(skip_reason(mutate(&labelled, Some(&role_sa()), &upstream())).contains("labelled"));
    let empty = pod(json!({ "metadata": { "name": "p" }, "spec": { "containers": [] } }));
    assert!(skip_reason(mutate(&empty, Some(&role_sa()), &upstream())).contains("no containers"));
}

#[test]
fn emulator_additions_point_sdks_at_the_emulator() {
    let config = MutationConfig::emulator(Some("us-east-1".into()), "https://10.0.0.1:8443/", true);
    let p = pod(json!({
        "metadata": { "name": "p" },
        "spec": { "serviceAccountName": "default", "containers": [
            { "name": "app" },
            { "name": "own", "env": [{ "name": "AWS_ENDPOINT_URL_STS", "value": "https://mine" }] } ] }
    }));
    let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &config)));
    let env = &result["spec"]["containers"][0]["env"];
    let value = |name: &str| {
        env.as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .map(|e| e["value"].clone())
    };
    assert_eq!(
        value("AWS_ENDPOINT_URL_STS"),
        Some(json!("https://10.0.0.1:8443"))
    );
    assert_eq!(
        value("AWS_CA_BUNDLE"),
        Some(json!("/var/run/secrets/irsa-emulator/ca.pem"))
    );
    assert_eq!(
        result["spec"]["volumes"],
        json!([token_volume_json("sts.amazonaws.com", 86400), { "name": "irsa-emulator-ca", "configMap": { "name": "irsa-emulator-ca" } }])
    );
    assert_eq!(
        result["spec"]["containers"][0]["volumeMounts"][1],
        json!({ "name": "irsa-emulator-ca", "readOnly": true, "mountPath": CA_MOUNT_PATH })
    );
    let own = result["spec"]["containers"][1]["env"].as_array().unwrap();
    assert_eq!(
        own.iter()
            .filter(|e| e["name"] == "AWS_ENDPOINT_URL_STS")
            .count(),
        1
    );
    assert_eq!(own[0]["value"], "https://mine");

    // Plain HTTP: no CA to trust, so no bundle and no volume.
    let http = MutationConfig::emulator(None, "http://127.0.0.1:8080", false);
    let result = apply(
        &simple_pod(),
        &patch(mutate(&simple_pod(), Some(&role_sa()), &http)),
    );
    assert_eq!(result["spec"]["volumes"].as_array().unwrap().len(), 1);
    assert!(!result.to_string().contains("AWS_CA_BUNDLE"));
}

#[test]
fn emulator_additions_with_existing_volumes_append_the_ca_volume() {
    let config = MutationConfig::emulator(None, "https://e", true);
    let p = pod(json!({
        "metadata": { "name": "p" },
        "spec": { "serviceAccountName": "default", "containers": [{ "name": "app" }], "volumes": [{ "name": "data", "emptyDir": {} }] }
    }));
    let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &config)));
    let names: Vec<_> = result["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].clone())
        .collect();
    assert_eq!(
        names,
        [
            json!("aws-iam-token"),
            json!("data"),
            json!("irsa-emulator-ca")
        ]
    );
}
