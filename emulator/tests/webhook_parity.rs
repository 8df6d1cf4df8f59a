//! Parity with the upstream pod identity webhook for IRSA (the harness is in `parity/`): the same
//! AdmissionReviews go to the emulator's mutation and to github.com/aws/amazon-eks-pod-identity-webhook's own
//! handler, and the pods their patches produce must be equal once the emulator's documented additions
//! (AWS_ENDPOINT_URL_STS, AWS_CA_BUNDLE and the irsa-emulator-ca volume and mounts) are taken out.
//!
//! The upstream binary: `IRSA_PODIDENTITY_BIN`, else what `scripts/podidentity.sh` prints (it builds once and
//! caches; needs Go and the Go module proxy). `IRSA_SKIP_PARITY=1` skips instead of failing when it cannot be
//! had.

mod parity;

use parity::*;
use serde_json::json;

fn cases() -> Vec<Case> {
    let c = |name: &str| json!({ "name": name, "image": "amazonlinux" });
    let case = Case::irsa;
    vec![
        case(
            "plain pod",
            "us-east-1",
            role(),
            pod(app(json!([c("app")]))),
        ),
        case(
            "plain pod, no region",
            "",
            role(),
            pod(app(json!([c("app")]))),
        ),
        case(
            "pod with volumes",
            "us-east-1",
            role(),
            pod(json!({ "serviceAccountName": "app",
                "containers": [{ "name": "app", "image": "x", "volumeMounts": [{ "name": "data", "mountPath": "/data" }] }],
                "volumes": [{ "name": "data", "emptyDir": {} }, { "name": "cfg", "configMap": { "name": "cfg" } }] })),
        ),
        case(
            "empty volumes and env",
            "us-east-1",
            role(),
            pod(json!({ "serviceAccountName": "app", "volumes": [],
                "containers": [{ "name": "app", "env": [], "volumeMounts": [] }] })),
        ),
        case(
            "init containers",
            "seattle",
            role(),
            pod(
                json!({ "serviceAccountName": "app", "initContainers": [c("init-a"), c("init-b")], "containers": [c("app")] }),
            ),
        ),
        case(
            "sidecars",
            "us-east-1",
            role(),
            pod(app(json!([c("app"), c("envoy"), c("log-shipper")]))),
        ),
        case(
            "native sidecar (restartPolicy Always init container)",
            "us-east-1",
            role(),
            pod(json!({ "serviceAccountName": "app",
                "initContainers": [{ "name": "proxy", "image": "x", "restartPolicy": "Always" }], "containers": [c("app")] })),
        ),
        case(
            "containers already setting env",
            "us-east-1",
            role(),
            pod(app(json!([
                { "name": "role", "env": [{ "name": "AWS_ROLE_ARN", "value": "arn:aws:iam::111122223333:role/mine" }] },
                { "name": "token", "env": [{ "name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": "/mine/token" }] },
                { "name": "region", "env": [{ "name": "AWS_REGION", "value": "eu-west-1" }] },
                { "name": "default-region", "env": [{ "name": "AWS_DEFAULT_REGION", "value": "eu-west-1" }] },
                { "name": "sts", "env": [{ "name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "legacy" }] },
                { "name": "all", "env": [
                    { "name": "AWS_ROLE_ARN", "value": "r" }, { "name": "AWS_REGION", "value": "r" },
                    { "name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "legacy" } ] },
                { "name": "value-from", "env": [
                    { "name": "AWS_ROLE_ARN", "valueFrom": { "configMapKeyRef": { "name": "c", "key": "k" } } },
                    { "name": "OTHER", "value": "1" } ] },
                { "name": "emulator-env", "env": [
                    { "name": "AWS_ENDPOINT_URL_STS", "value": "https://elsewhere" }, { "name": "AWS_CA_BUNDLE", "value": "/mine.pem" } ] }
            ]))),
        ),
        case(
            "skip-containers",
            "us-east-1",
            role(),
            pod_with(
                json!({ "annotations": { "eks.amazonaws.com/skip-containers": "sidecar,init" } }),
                json!({ "serviceAccountName": "app", "initContainers": [c("init"), c("init-2")], "containers": [c("app"), c("sidecar")] }),
            ),
        ),
        case(
            "skip-containers quoted CSV",
            "us-east-1",
            role(),
            pod_with(
                json!({ "annotations": { "eks.amazonaws.com/skip-containers": "\"app\",sidecar" } }),
                app(json!([c("app"), c("sidecar"), c("other")])),
            ),
        ),
        case(
            "skip-containers with a space (kept, as Go's csv does)",
            "us-east-1",
            role(),
            pod_with(
                json!({ "annotations": { "eks.amazonaws.com/skip-containers": "app, sidecar" } }),
                app(json!([c("app"), c("sidecar")])),
            ),
        ),
        case(
            "skip-containers unparsable",
            "us-east-1",
            role(),
            pod_with(
                json!({ "annotations": { "eks.amazonaws.com/skip-containers": "ap\"p" } }),
                app(json!([c("app")])),
            ),
        ),
        case(
            "service account token-expiration",
            "us-east-1",
            Some(
                json!({ "eks.amazonaws.com/role-arn": ROLE, "eks.amazonaws.com/token-expiration": "3600" }),
            ),
            pod(app(json!([c("app")]))),
        ),
        case(
            "service account token-expiration below the minimum",
            "us-east-1",
            Some(
                json!({ "eks.amazonaws.com/role-arn": ROLE, "eks.amazonaws.com/token-expiration": "100" }),
            ),
            pod(app(json!([c("app")]))),
        ),
        case(
            "service account token-expiration invalid",
            "us-east-1",
            Some(
                json!({ "eks.amazonaws.com/role-arn": ROLE, "eks.amazonaws.com/token-expiration": "1h" }),
            ),
            pod(app(json!([c("app")]))),
        ),
        case(
            "pod token-expiration overrides the service account's",
            "us-east-1",
            Some(
                json!({ "eks.amazonaws.com/role-arn": ROLE, "eks.amazonaws.com/token-expiration": "3600" }),
            ),
            pod_with(
                json!({ "annotations": { "eks.amazonaws.com/token-expiration": "7200" } }),
                app(json!([c("app")])),
            ),
        ),
        case(
            "pod token-expiration below the minimum",
            "us-east-1",
            role(),
            pod_with(
                json!({ "annotations": { "eks.amazonaws.com/token-expiration": "0" } }),
                app(json!([c("app")])),
            ),
        ),
        case(
            "pod token-expiration invalid",
            "us-east-1",
            Some(
                json!({ "eks.amazonaws.com/role-arn": ROLE, "eks.amazonaws.com/token-expiration": "5000" }),
            ),
            pod_with(
                json!({ "annotations": { "eks.amazonaws.com/token-expiration": "soon" } }),
                app(json!([c("app")])),
            ),
        ),
        case(
            "windows node selector",
            "us-east-1",
            role(),
            pod(
                json!({ "serviceAccountName": "app", "nodeSelector": { "kubernetes.io/os": "windows" }, "containers": [c("app")] }),
            ),
        ),
        case(
            "beta windows node selector",
            "us-east-1",
            role(),
            pod(json!({ "serviceAccountName": "app",
                "nodeSelector": { "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "windows" }, "containers": [c("app")] })),
        ),
        case(
            "linux node selector",
            "us-east-1",
            role(),
            pod(
                json!({ "serviceAccountName": "app", "nodeSelector": { "kubernetes.io/os": "linux" }, "containers": [c("app")] }),
            ),
        ),
        case(
            "audience annotation",
            "us-east-1",
            Some(
                json!({ "eks.amazonaws.com/role-arn": ROLE, "eks.amazonaws.com/audience": "my-audience" }),
            ),
            pod(app(json!([c("app")]))),
        ),
        case(
            "regional STS annotation",
            "us-east-1",
            Some(
                json!({ "eks.amazonaws.com/role-arn": ROLE, "eks.amazonaws.com/sts-regional-endpoints": "true" }),
            ),
            pod(app(
                json!([c("app"), { "name": "has-sts", "env": [{ "name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "legacy" }] }]),
            )),
        ),
        case(
            "regional STS annotation invalid",
            "us-east-1",
            Some(
                json!({ "eks.amazonaws.com/role-arn": ROLE, "eks.amazonaws.com/sts-regional-endpoints": "yes" }),
            ),
            pod(app(json!([c("app")]))),
        ),
        case(
            "role ARN that is not an ARN",
            "us-east-1",
            Some(json!({ "eks.amazonaws.com/role-arn": "s3-reader" })),
            pod(app(json!([c("app")]))),
        ),
        case(
            "token volume already present (reinvocation)",
            "us-east-1",
            role(),
            pod(json!({ "serviceAccountName": "app",
                "containers": [
                    { "name": "app", "env": [
                        { "name": "AWS_ROLE_ARN", "value": ROLE },
                        { "name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token" } ],
                      "volumeMounts": [{ "name": "aws-iam-token", "readOnly": true, "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount" }] },
                    c("sidecar") ],
                "volumes": [{ "name": "aws-iam-token", "projected": { "sources": [{ "serviceAccountToken": {
                    "audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token" } }] } }] })),
        ),
        case(
            "mount named aws-iam-token already present",
            "us-east-1",
            role(),
            pod(app(
                json!([{ "name": "app", "volumeMounts": [{ "name": "aws-iam-token", "mountPath": "/elsewhere" }] }]),
            )),
        ),
        case(
            "service account without annotations",
            "us-east-1",
            Some(json!({})),
            pod(app(json!([c("app")]))),
        ),
        case(
            "service account with other annotations only",
            "us-east-1",
            Some(json!({ "eks.amazonaws.com/audience": "x", "example.com/owner": "me" })),
            pod(app(json!([c("app")]))),
        ),
        case(
            "empty role ARN",
            "us-east-1",
            Some(json!({ "eks.amazonaws.com/role-arn": "" })),
            pod(app(json!([c("app")]))),
        ),
        case(
            "service account not found",
            "us-east-1",
            None,
            pod(app(json!([c("app")]))),
        ),
        case(
            "pod without serviceAccountName",
            "us-east-1",
            role(),
            pod(json!({ "containers": [c("app")] })),
        ),
    ]
}

#[test]
fn mutation_matches_upstream() {
    assert_parity(cases());
}
