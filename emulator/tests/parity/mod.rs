//! The parity harness: the same AdmissionReviews go to the emulator's mutation and to
//! github.com/aws/amazon-eks-pod-identity-webhook's own handler (built from its Go module by
//! scripts/podidentity.sh, harness in e2e/podidentity/), and the pods their patches produce must be equal once
//! the emulator's documented additions (AWS_ENDPOINT_URL_STS, AWS_CA_BUNDLE and the irsa-emulator-ca volume and
//! mounts) are taken out.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use irsa_emulator::webhook::mutate::{MutationConfig, ServiceAccountSettings, CA_VOLUME};
use irsa_emulator::webhook::review::{self, Known, Outcome};
use irsa_names::{ENV_CA_BUNDLE, ENV_ENDPOINT_URL_STS};
use serde_json::{json, Value};

pub const ROLE: &str = "arn:aws:iam::111122223333:role/s3-reader";
pub const NAMESPACE: &str = "team";
pub const EMULATOR_URL: &str = "https://127.0.0.1:8443";

pub struct Case {
    pub name: &'static str,
    pub region: &'static str,
    /// Annotations of ServiceAccount `team/app`; `None`: it does not exist.
    pub sa_annotations: Option<Value>,
    pub pod: Value,
    /// The (namespace, service account) identities of upstream's container-credentials config file (EKS Pod
    /// Identity associations, to the emulator); `None`: no such file.
    pub identities: Option<Vec<(&'static str, &'static str)>>,
}

impl Case {
    /// A case without Pod Identity.
    pub fn irsa(
        name: &'static str,
        region: &'static str,
        sa_annotations: Option<Value>,
        pod: Value,
    ) -> Case {
        Case {
            name,
            region,
            sa_annotations,
            pod,
            identities: None,
        }
    }
}

pub fn pod(spec: Value) -> Value {
    pod_with(json!({}), spec)
}

pub fn pod_with(metadata: Value, spec: Value) -> Value {
    let mut meta =
        json!({ "name": "balajilovesoreos", "uid": "be8695c4-4ad0-4038-8786-c508853aa255" });
    meta.as_object_mut()
        .unwrap()
        .extend(metadata.as_object().unwrap().clone());
    json!({ "apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec })
}

pub fn app(containers: Value) -> Value {
    json!({ "serviceAccountName": "app", "containers": containers })
}

pub fn role() -> Option<Value> {
    Some(json!({ "eks.amazonaws.com/role-arn": ROLE }))
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
pub fn upstream_binary() -> Option<PathBuf> {
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
        "containerCredentials": case.identities.as_ref().map(|ids| json!({ "identities": ids.iter()
            .map(|(namespace, sa)| json!({ "namespace": namespace, "serviceAccount": sa }))
            .collect::<Vec<_>>() })),
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

/// Go serializes every container with `"resources": {}`; the API server stores the same either way. A Pod
/// Identity token of the default lifetime gets a random one between 79200 and 86400 s from both webhooks
/// (upstream's jitter): any value in that range compares equal.
fn normalize(mut pod: Value) -> Value {
    if let Some(volumes) = array_mut(&mut pod, "/spec/volumes") {
        for volume in volumes
            .iter_mut()
            .filter(|v| v["name"] == "eks-pod-identity-token")
        {
            if let Some(seconds) =
                volume.pointer_mut("/projected/sources/0/serviceAccountToken/expirationSeconds")
            {
                if seconds
                    .as_i64()
                    .is_some_and(|s| (79200..=86400).contains(&s))
                {
                    *seconds = json!("79200..=86400");
                }
            }
        }
    }
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
    review::review_known(&body, &config, |namespace, name| {
        assert_eq!(namespace, NAMESPACE);
        let annotations: Option<BTreeMap<String, String>> = case
            .sa_annotations
            .as_ref()
            .filter(|_| name == "app")
            .map(|a| serde_json::from_value(a.clone()).unwrap());
        Known {
            settings: annotations
                .map(|a| ServiceAccountSettings::from_annotations(Some(&a), &config)),
            pod_identity: case
                .identities
                .as_ref()
                .is_some_and(|ids| ids.iter().any(|(ns, sa)| *ns == namespace && *sa == name)),
        }
    })
}

/// Runs `cases` through both webhooks and asserts they agree on each.
pub fn assert_parity(cases: Vec<Case>) {
    let Some(binary) = upstream_binary() else {
        return;
    };
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
