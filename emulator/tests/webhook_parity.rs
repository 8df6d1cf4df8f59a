//! Parity with the upstream pod identity webhook: the same AdmissionReviews go to the emulator's mutation and
//! to github.com/aws/amazon-eks-pod-identity-webhook's own handler (built from its Go module by
//! scripts/podidentity.sh, harness in e2e/podidentity/), and the pods their patches produce must be equal once
//! the emulator's documented additions (AWS_ENDPOINT_URL_STS, AWS_CA_BUNDLE and the irsa-emulator-ca volume and
//! mounts) are taken out.
//!
//! The upstream binary: `IRSA_PODIDENTITY_BIN`, else what `scripts/podidentity.sh` prints (it builds once and
//! caches; needs Go and the Go module proxy). `IRSA_SKIP_PARITY=1` skips instead of failing when it cannot be
//! had.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use irsa_emulator::webhook::mutate::{MutationConfig, ServiceAccountSettings, CA_VOLUME};
use irsa_emulator::webhook::review::{self, Outcome};
use irsa_names::{ENV_CA_BUNDLE, ENV_ENDPOINT_URL_STS};
use serde_json::{json, Value};

const ROLE: &str = "arn:aws:iam::111122223333:role/s3-reader";
const NAMESPACE: &str = "team";
const EMULATOR_URL: &str = "https://127.0.0.1:8443";

struct Case {
    name: &'static str,
    region: &'static str,
    /// Annotations of ServiceAccount `team/app`; `None`: it does not exist.
    sa_annotations: Option<Value>,
    pod: Value,
}

fn pod(spec: Value) -> Value {
    pod_with(json!({}), spec)
}

fn pod_with(metadata: Value, spec: Value) -> Value {
    let mut meta =
        json!({ "name": "balajilovesoreos", "uid": "be8695c4-4ad0-4038-8786-c508853aa255" });
    meta.as_object_mut()
        .unwrap()
        .extend(metadata.as_object().unwrap().clone());
    json!({ "apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec })
}

fn app(containers: Value) -> Value {
    json!({ "serviceAccountName": "app", "containers": containers })
}

fn role() -> Option<Value> {
    Some(json!({ "eks.amazonaws.com/role-arn": ROLE }))
}

fn cases() -> Vec<Case> {
    let c = |name: &str| json!({ "name": name, "image": "amazonlinux" });
    let case = |name, region, sa_annotations, pod| Case {
        name,
        region,
        sa_annotations,
        pod,
    };
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

fn admission_review(index: usize, pod: &Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("00000000-0000-0000-0000-{index:012}"),
            "kind": { "group": "", "version": "v1", "kind": "Pod" },
            "resource": { "group": "", "version": "v1", "resource": "pods" },
            "requestKind": { "group": "", "version": "v1", "kind": "Pod" },
            "requestResource": { "group": "", "version": "v1", "resource": "pods" },
            "name": pod["metadata"]["name"],
            "namespace": NAMESPACE,
            "operation": "CREATE",
            "userInfo": { "username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"] },
            "object": pod,
            "oldObject": null,
            "dryRun": false,
            "options": { "kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1" }
        }
    })
}

fn service_accounts(case: &Case) -> Vec<Value> {
    case.sa_annotations
        .iter()
        .map(|annotations| {
            json!({ "apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": { "name": "app", "namespace": NAMESPACE, "annotations": annotations } })
        })
        .collect()
}

/// The upstream harness, or `None` when the test is to be skipped.
fn upstream_binary() -> Option<PathBuf> {
    let skip = std::env::var("IRSA_SKIP_PARITY").is_ok_and(|v| v == "1" || v == "true");
    if let Some(path) = std::env::var_os("IRSA_PODIDENTITY_BIN").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/podidentity.sh");
    let output = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output();
    let problem = match output {
        Ok(out) if out.status.success() => {
            let stdout = String::from_utf8_lossy(&out.stdout);
            match stdout.lines().last().map(str::trim) {
                Some(path) if !path.is_empty() => return Some(PathBuf::from(path)),
                _ => "it printed no path".to_string(),
            }
        }
        Ok(out) => format!("it failed ({}), see its output above", out.status),
        Err(e) => format!("it could not be run: {e}"),
    };
    let message = format!(
        "the upstream pod identity webhook could not be built by {}: {problem}",
        script.display()
    );
    if skip {
        eprintln!("IRSA_SKIP_PARITY=1: skipping the parity test; {message}");
        None
    } else {
        panic!("{message} (IRSA_SKIP_PARITY=1 skips this test)");
    }
}

fn run_upstream(binary: &Path, cases: &[Case]) -> Vec<Value> {
    let input = json!({ "cases": cases.iter().enumerate().map(|(i, case)| json!({
        "name": case.name,
        "region": case.region,
        "serviceAccounts": service_accounts(case),
        "review": admission_review(i, &case.pod),
    })).collect::<Vec<_>>() });
    let mut child = Command::new(binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{} failed ({}): {}",
        binary.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let output: Value = serde_json::from_slice(&out.stdout).expect("harness prints JSON");
    let results = output["results"].as_array().expect("results").clone();
    assert_eq!(results.len(), cases.len());
    results
}

fn decode_patch(response: &Value) -> Option<json_patch::Patch> {
    let patch = response.get("patch")?.as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(patch)
        .expect("patch is base64");
    Some(serde_json::from_slice(&bytes).expect("patch is a JSONPatch"))
}

fn apply(pod: &Value, response: &Value) -> Value {
    let mut doc = pod.clone();
    if let Some(patch) = decode_patch(response) {
        json_patch::patch(&mut doc, &patch).expect("patch applies to the pod");
    }
    doc
}

fn named<'a>(array: &'a Value, name: &str) -> Option<&'a Value> {
    array.as_array()?.iter().find(|item| item["name"] == name)
}

/// Takes the emulator's additions out of `mutated` (those not already in `original`), asserting that every
/// mutated container got them; returns the pod without them.
fn strip_additions(case: &str, original: &Value, mutated: &Value, upstream_mutated: bool) -> Value {
    let mut pod = mutated.clone();
    for field in ["initContainers", "containers"] {
        let Some(containers) = array_mut(&mut pod, &format!("/spec/{field}")) else {
            continue;
        };
        for (index, container) in containers.iter_mut().enumerate() {
            let before = &original["spec"][field][index];
            let name = container["name"].as_str().unwrap_or_default().to_string();
            let mut added = Vec::new();
            for (list, key) in [
                ("env", ENV_ENDPOINT_URL_STS),
                ("env", ENV_CA_BUNDLE),
                ("volumeMounts", CA_VOLUME),
            ] {
                if named(&before[list], key).is_some() {
                    continue;
                }
                if let Some(items) = container.get_mut(list).and_then(Value::as_array_mut) {
                    let len = items.len();
                    items.retain(|item| item["name"] != key);
                    if items.len() < len {
                        added.push(key);
                    }
                    if items.is_empty() && before.get(list).is_none() {
                        container.as_object_mut().unwrap().remove(list);
                    }
                }
            }
            let upstream_touched = upstream_mutated && container != before;
            if upstream_touched {
                assert!(
                    added.contains(&ENV_ENDPOINT_URL_STS)
                        || named(&before["env"], ENV_ENDPOINT_URL_STS).is_some(),
                    "{case}: container {name} was mutated but has no {ENV_ENDPOINT_URL_STS}"
                );
            }
        }
    }
    if named(&original["spec"]["volumes"], CA_VOLUME).is_none() {
        if let Some(volumes) = array_mut(&mut pod, "/spec/volumes") {
            volumes.retain(|v| v["name"] != CA_VOLUME);
        }
    }
    pod
}

/// The array at `pointer` (indexing a `Value` mutably would insert `null` where there is none).
fn array_mut<'a>(value: &'a mut Value, pointer: &str) -> Option<&'a mut Vec<Value>> {
    value.pointer_mut(pointer).and_then(Value::as_array_mut)
}

/// Go serializes every container with `"resources": {}`; the API server stores the same either way.
fn normalize(mut pod: Value) -> Value {
    for field in ["initContainers", "containers"] {
        if let Some(containers) = array_mut(&mut pod, &format!("/spec/{field}")) {
            for container in containers {
                if container.get("resources") == Some(&json!({})) {
                    container.as_object_mut().unwrap().remove("resources");
                }
            }
        }
    }
    pod
}

fn emulator_answer(index: usize, case: &Case) -> (Value, Outcome) {
    let config = MutationConfig::emulator(
        Some(case.region.to_string()).filter(|r| !r.is_empty()),
        EMULATOR_URL,
        true,
    );
    let body = serde_json::to_vec(&admission_review(index, &case.pod)).unwrap();
    review::review(&body, &config, |namespace, name| {
        assert_eq!(namespace, NAMESPACE);
        let annotations: Option<BTreeMap<String, String>> = case
            .sa_annotations
            .as_ref()
            .filter(|_| name == "app")
            .map(|a| serde_json::from_value(a.clone()).unwrap());
        annotations.map(|a| ServiceAccountSettings::from_annotations(Some(&a), &config))
    })
}

#[test]
fn mutation_matches_upstream() {
    let Some(binary) = upstream_binary() else {
        return;
    };
    let cases = cases();
    let upstream = run_upstream(&binary, &cases);
    let mut failures = Vec::new();
    for (index, (case, upstream)) in cases.iter().zip(&upstream).enumerate() {
        assert_eq!(upstream["name"], case.name);
        assert_eq!(
            upstream["status"], 200,
            "{}: upstream answered {upstream}",
            case.name
        );
        let upstream_response = &upstream["body"]["response"];
        let (ours, outcome) = emulator_answer(index, case);
        let ours = &ours["response"];
        assert_eq!(ours["allowed"], true, "{}", case.name);
        assert_eq!(
            upstream_response["allowed"], true,
            "{}: {upstream}",
            case.name
        );
        assert_eq!(ours["uid"], upstream_response["uid"], "{}", case.name);

        let upstream_pod = apply(&case.pod, upstream_response);
        let upstream_mutated = decode_patch(upstream_response).is_some();
        assert_eq!(
            upstream_mutated,
            matches!(outcome, Outcome::Mutated { .. }),
            "{}: upstream mutated: {upstream_mutated}, emulator: {outcome:?}",
            case.name
        );
        let our_pod = apply(&case.pod, ours);
        let stripped = strip_additions(case.name, &case.pod, &our_pod, upstream_mutated);
        let (expected, actual) = (normalize(upstream_pod), normalize(stripped));
        if expected != actual {
            failures.push(format!(
                "{}:\n  upstream: {}\n  emulator: {}",
                case.name, expected["spec"], actual["spec"]
            ));
        }
        if upstream_mutated {
            assert!(
                our_pod["spec"]["volumes"].to_string().contains(CA_VOLUME),
                "{}: the CA volume is missing",
                case.name
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from upstream:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
