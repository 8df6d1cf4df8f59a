//! Parity with the upstream pod identity webhook's container-credentials mode (EKS Pod Identity): upstream is
//! given the identities in the file format of its `--watch-container-credentials-config` (loaded by its own
//! `containercredentials.FileConfig`), the emulator the same (namespace, service account) pairs as
//! associations, and the pods both produce must be equal modulo the emulator's documented additions. The
//! harness and the comparison are `parity/`'s, as for IRSA.

mod parity;

use parity::*;
use serde_json::json;

const APP: (&str, &str) = (NAMESPACE, "app");

fn cases() -> Vec<Case> {
    let c = |name: &str| json!({ "name": name, "image": "amazonlinux" });
    let case =
        |name, region, sa_annotations, pod, identities: Vec<(&'static str, &'static str)>| Case {
            name,
            region,
            sa_annotations,
            pod,
            identities: Some(identities),
        };
    vec![
        case(
            "associated service account",
            "us-east-1",
            Some(json!({})),
            pod(app(json!([c("app")]))),
            vec![APP],
        ),
        case(
            "associated, no region",
            "",
            Some(json!({})),
            pod(app(json!([c("app")]))),
            vec![APP],
        ),
        case(
            "associated and annotated for IRSA: Pod Identity wins",
            "us-east-1",
            role(),
            pod(app(json!([c("app")]))),
            vec![APP],
        ),
        case(
            "associated, IRSA audience annotation ignored",
            "us-east-1",
            Some(
                json!({ "eks.amazonaws.com/role-arn": ROLE, "eks.amazonaws.com/audience": "mine" }),
            ),
            pod(app(json!([c("app")]))),
            vec![APP],
        ),
        case(
            "associated, service account not found",
            "us-east-1",
            None,
            pod(app(json!([c("app")]))),
            vec![APP],
        ),
        case(
            "associated, service account token-expiration and regional STS",
            "us-east-1",
            Some(
                json!({ "eks.amazonaws.com/token-expiration": "3600", "eks.amazonaws.com/sts-regional-endpoints": "true" }),
            ),
            pod(app(json!([c("app")]))),
            vec![APP],
        ),
        case(
            "associated, pod token-expiration",
            "us-east-1",
            Some(json!({})),
            pod_with(
                json!({ "annotations": { "eks.amazonaws.com/token-expiration": "7200" } }),
                app(json!([c("app")])),
            ),
            vec![APP],
        ),
        case(
            "associated, init containers, sidecars and skip-containers",
            "us-east-1",
            Some(json!({})),
            pod_with(
                json!({ "annotations": { "eks.amazonaws.com/skip-containers": "sidecar" } }),
                json!({ "serviceAccountName": "app", "initContainers": [c("init")],
                    "containers": [c("app"), c("sidecar")] }),
            ),
            vec![APP],
        ),
        case(
            "associated, existing volumes",
            "us-east-1",
            Some(json!({})),
            pod(json!({ "serviceAccountName": "app",
                "containers": [{ "name": "app", "volumeMounts": [{ "name": "data", "mountPath": "/data" }] }],
                "volumes": [{ "name": "data", "emptyDir": {} }] })),
            vec![APP],
        ),
        case(
            "associated, containers already setting env",
            "us-east-1",
            Some(json!({})),
            pod(app(json!([
                { "name": "uri", "env": [{ "name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": "http://127.0.0.1:1/x" }] },
                { "name": "file", "env": [{ "name": "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "value": "/mine" }] },
                { "name": "irsa-vars", "env": [{ "name": "AWS_ROLE_ARN", "value": ROLE }] },
                { "name": "all", "env": [
                    { "name": "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value": "u" }, { "name": "AWS_REGION", "value": "r" },
                    { "name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "legacy" } ] }
            ]))),
            vec![APP],
        ),
        case(
            "associated, token volume already present (reinvocation)",
            "us-east-1",
            Some(json!({})),
            pod(json!({ "serviceAccountName": "app",
                "containers": [{ "name": "app",
                    "volumeMounts": [{ "name": "eks-pod-identity-token", "readOnly": true,
                        "mountPath": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount" }] }],
                "volumes": [{ "name": "eks-pod-identity-token", "projected": { "sources": [{ "serviceAccountToken": {
                    "audience": "pods.eks.amazonaws.com", "expirationSeconds": 86400, "path": "eks-pod-identity-token" } }] } }] })),
            vec![APP],
        ),
        case(
            "associated, windows node",
            "us-east-1",
            Some(json!({})),
            pod(
                json!({ "serviceAccountName": "app", "nodeSelector": { "kubernetes.io/os": "windows" },
                "containers": [c("app")] }),
            ),
            vec![APP],
        ),
        case(
            "another service account associated: IRSA as usual",
            "us-east-1",
            role(),
            pod(app(json!([c("app")]))),
            vec![(NAMESPACE, "other")],
        ),
        case(
            "same name associated in another namespace: not this pod",
            "us-east-1",
            Some(json!({})),
            pod(app(json!([c("app")]))),
            vec![("elsewhere", "app")],
        ),
        case(
            "no identities at all",
            "us-east-1",
            Some(json!({})),
            pod(app(json!([c("app")]))),
            vec![],
        ),
    ]
}

#[test]
fn container_credentials_mutation_matches_upstream() {
    assert_parity(cases());
}
