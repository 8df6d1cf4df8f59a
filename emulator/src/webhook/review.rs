//! The AdmissionReview envelope (`admission.k8s.io/v1`, and `v1beta1` which has the same shape): what is read
//! from a request and what is answered. Every request gets an answer that admits the object: anything the
//! webhook cannot or need not mutate is allowed unchanged, with the reason logged, never an HTTP error.

use base64::Engine as _;
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};

use super::mutate::{
    self, Binding, Decision, MutationConfig, PatchOperation, ServiceAccountSettings,
};

pub const API_VERSION_V1: &str = "admission.k8s.io/v1";
const API_VERSION_V1BETA1: &str = "admission.k8s.io/v1beta1";

/// A review request the webhook can act on.
#[derive(Debug, Clone)]
pub struct PodReview {
    /// Echoed in the response, as the API server requires.
    pub uid: String,
    pub api_version: String,
    /// The request's namespace (the pod's, which may not be in the object yet).
    pub namespace: String,
    /// `spec.serviceAccountName` ("" when unset, as upstream reads it).
    pub service_account: String,
    pub pod: Pod,
    /// `metadata.name`, else `metadata.generateName`, for logs.
    pub pod_name: String,
}

/// A request the webhook answers without looking further.
#[derive(Debug, Clone)]
pub struct Ignored {
    pub uid: String,
    pub api_version: String,
    pub reason: String,
}

fn text(value: Option<&Value>) -> &str {
    value.and_then(Value::as_str).unwrap_or_default()
}

/// Reads an AdmissionReview body.
pub fn parse(body: &[u8]) -> Result<PodReview, Ignored> {
    let ignored = |uid: &str, api_version: &str, reason: String| Ignored {
        uid: uid.to_string(),
        api_version: api_version.to_string(),
        reason,
    };
    let review: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            return Err(ignored(
                "",
                API_VERSION_V1,
                format!("body is not JSON: {e}"),
            ))
        }
    };
    let api_version = match review.get("apiVersion").and_then(Value::as_str) {
        Some(v @ (API_VERSION_V1 | API_VERSION_V1BETA1)) => v,
        _ => API_VERSION_V1,
    };
    if review.get("kind").and_then(Value::as_str) != Some("AdmissionReview") {
        return Err(ignored(
            "",
            api_version,
            "body is not an AdmissionReview".into(),
        ));
    }
    let Some(request) = review.get("request").filter(|r| r.is_object()) else {
        return Err(ignored(
            "",
            api_version,
            "AdmissionReview has no request".into(),
        ));
    };
    let uid = text(request.get("uid"));
    let ignore = |reason: String| Err(ignored(uid, api_version, reason));

    if let Some(kind) = request.get("kind") {
        let (group, kind_name) = (text(kind.get("group")), text(kind.get("kind")));
        if !group.is_empty() || kind_name != "Pod" {
            return ignore(format!(
                "request is for {kind_name} (group {group:?}), not a Pod"
            ));
        }
    }
    let sub_resource = text(request.get("subResource"));
    if !sub_resource.is_empty() {
        return ignore(format!(
            "request is for the pods/{sub_resource} subresource"
        ));
    }
    let operation = text(request.get("operation"));
    if !operation.is_empty() && operation != "CREATE" {
        return ignore(format!("operation is {operation}; only CREATE is mutated"));
    }
    let Some(object) = request.get("object").filter(|o| o.is_object()) else {
        return ignore("request has no object".into());
    };
    if let Some(kind) = object.get("kind").and_then(Value::as_str) {
        if kind != "Pod" {
            return ignore(format!("object is a {kind}, not a Pod"));
        }
    }
    let pod: Pod = match serde_json::from_value(object.clone()) {
        Ok(pod) => pod,
        Err(e) => return ignore(format!("object is not a valid Pod: {e}")),
    };
    let namespace = Some(text(request.get("namespace")))
        .filter(|ns| !ns.is_empty())
        .or(pod.metadata.namespace.as_deref())
        .unwrap_or_default()
        .to_string();
    let service_account = pod
        .spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .unwrap_or_default();
    let pod_name = pod
        .metadata
        .name
        .clone()
        .or_else(|| pod.metadata.generate_name.clone())
        .unwrap_or_default();
    Ok(PodReview {
        uid: uid.to_string(),
        api_version: api_version.to_string(),
        namespace,
        service_account,
        pod,
        pod_name,
    })
}

/// The AdmissionReview answering `uid`: allowed, with `patch` when there is one.
pub fn response(api_version: &str, uid: &str, patch: Option<&[PatchOperation]>) -> Value {
    let mut response = json!({ "uid": uid, "allowed": true });
    if let Some(ops) = patch {
        let bytes = serde_json::to_vec(ops).expect("patch operations serialize");
        response["patchType"] = json!("JSONPatch");
        response["patch"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    json!({ "apiVersion": api_version, "kind": "AdmissionReview", "response": response })
}

/// What happened to one review, for the log line and for tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Mutated { operations: usize },
    NotMutated { reason: String },
}

/// The whole review, with the ServiceAccount looked up by `lookup(namespace, name)`: what the server does,
/// minus the I/O. `None` from `lookup` means the ServiceAccount does not exist.
pub fn review(
    body: &[u8],
    config: &MutationConfig,
    lookup: impl FnOnce(&str, &str) -> Option<ServiceAccountSettings>,
) -> (Value, Outcome) {
    review_known(body, config, |namespace, name| Known {
        settings: lookup(namespace, name),
        pod_identity: false,
    })
}

/// What the webhook found out about a request's ServiceAccount.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Its annotations; `None`: it does not exist (or could not be read).
    pub settings: Option<ServiceAccountSettings>,
    /// It has an EKS Pod Identity association in the webhook's cluster.
    pub pod_identity: bool,
}

/// [`review`] for both methods: `lookup(namespace, name)` says what is known of the ServiceAccount.
pub fn review_known(
    body: &[u8],
    config: &MutationConfig,
    lookup: impl FnOnce(&str, &str) -> Known,
) -> (Value, Outcome) {
    match parse(body) {
        Err(ignored) => (
            response(&ignored.api_version, &ignored.uid, None),
            Outcome::NotMutated {
                reason: ignored.reason,
            },
        ),
        Ok(request) => {
            let known = lookup(&request.namespace, &request.service_account);
            decide_known(&request, &known, config)
        }
    }
}

/// The answer for a parsed request once its ServiceAccount is known (IRSA only: no association).
pub fn decide(
    request: &PodReview,
    settings: Option<&ServiceAccountSettings>,
    config: &MutationConfig,
) -> (Value, Outcome) {
    let known = Known {
        settings: settings.cloned(),
        pod_identity: false,
    };
    decide_known(request, &known, config)
}

/// The answer for a parsed request given what is known of its ServiceAccount.
pub fn decide_known(
    request: &PodReview,
    known: &Known,
    config: &MutationConfig,
) -> (Value, Outcome) {
    let binding = Binding {
        service_account: known.settings.as_ref(),
        pod_identity: known.pod_identity,
    };
    match mutate::mutate_bound(&request.pod, binding, config) {
        Decision::Patch(ops) => (
            response(&request.api_version, &request.uid, Some(&ops)),
            Outcome::Mutated {
                operations: ops.len(),
            },
        ),
        Decision::Skip(reason) => (
            response(&request.api_version, &request.uid, None),
            Outcome::NotMutated { reason },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use irsa_names::ROLE_ARN_ANNOTATION;
    use std::collections::BTreeMap;

    fn config() -> MutationConfig {
        MutationConfig::emulator(Some("us-east-1".into()), "https://127.0.0.1:8443", true)
    }

    fn with_role() -> Option<ServiceAccountSettings> {
        let annotations = BTreeMap::from([(
            ROLE_ARN_ANNOTATION.to_string(),
            "arn:aws:iam::111122223333:role/r".to_string(),
        )]);
        Some(ServiceAccountSettings::from_annotations(
            Some(&annotations),
            &config(),
        ))
    }

    fn review_of(request: Value) -> Vec<u8> {
        serde_json::to_vec(
            &json!({ "apiVersion": API_VERSION_V1, "kind": "AdmissionReview", "request": request }),
        )
        .unwrap()
    }

    fn pod_request(pod: Value) -> Value {
        json!({ "uid": "u-1", "kind": { "group": "", "version": "v1", "kind": "Pod" },
            "resource": { "group": "", "version": "v1", "resource": "pods" },
            "namespace": "team", "operation": "CREATE", "object": pod })
    }

    fn assert_allowed_unpatched(answer: &Value, uid: &str) {
        assert_eq!(answer["apiVersion"], API_VERSION_V1);
        assert_eq!(answer["kind"], "AdmissionReview");
        assert_eq!(answer["response"]["uid"], uid);
        assert_eq!(answer["response"]["allowed"], true);
        assert!(answer["response"].get("patch").is_none(), "{answer}");
    }

    fn reason(outcome: Outcome) -> String {
        match outcome {
            Outcome::NotMutated { reason } => reason,
            other => panic!("expected not mutated, got {other:?}"),
        }
    }

    #[test]
    fn a_pod_is_patched_and_the_uid_echoed() {
        let body = review_of(pod_request(json!({ "apiVersion": "v1", "kind": "Pod",
            "metadata": { "name": "p" }, "spec": { "serviceAccountName": "app", "containers": [{ "name": "c" }] } })));
        let mut looked_up = None;
        let (answer, outcome) = review(&body, &config(), |ns, name| {
            looked_up = Some(format!("{ns}/{name}"));
            with_role()
        });
        assert_eq!(looked_up.as_deref(), Some("team/app"));
        assert!(matches!(outcome, Outcome::Mutated { .. }));
        assert_eq!(answer["response"]["uid"], "u-1");
        assert_eq!(answer["response"]["patchType"], "JSONPatch");
        let patch = base64::engine::general_purpose::STANDARD
            .decode(answer["response"]["patch"].as_str().unwrap())
            .unwrap();
        let ops: Vec<Value> = serde_json::from_slice(&patch).unwrap();
        assert!(ops.iter().all(|op| op["op"] == "add"));
    }

    #[test]
    fn bad_input_is_allowed_with_a_reason() {
        let cases: Vec<(Vec<u8>, &str, &str)> = vec![
            (b"not json".to_vec(), "", "not JSON"),
            (b"".to_vec(), "", "not JSON"),
            (b"{\"kind\":\"Pod\"}".to_vec(), "", "not an AdmissionReview"),
            (
                serde_json::to_vec(
                    &json!({ "apiVersion": API_VERSION_V1, "kind": "AdmissionReview" }),
                )
                .unwrap(),
                "",
                "no request",
            ),
            (
                review_of(
                    json!({ "uid": "u-2", "kind": { "group": "", "version": "v1", "kind": "ConfigMap" },
                    "operation": "CREATE", "object": { "kind": "ConfigMap", "metadata": { "name": "x" } } }),
                ),
                "u-2",
                "not a Pod",
            ),
            (
                review_of(
                    json!({ "uid": "u-3", "operation": "CREATE", "object": { "kind": "Secret" } }),
                ),
                "u-3",
                "not a Pod",
            ),
            (
                review_of(pod_request(
                    json!({ "metadata": { "name": "p" }, "spec": { "containers": [] } }),
                )),
                "u-1",
                "no containers",
            ),
            (
                review_of(pod_request(json!({ "metadata": { "name": "p" } }))),
                "u-1",
                "no spec",
            ),
            (
                review_of(pod_request(
                    json!({ "metadata": { "name": 5 }, "spec": {} }),
                )),
                "u-1",
                "not a valid Pod",
            ),
            (
                review_of(json!({ "uid": "u-4", "operation": "CREATE" })),
                "u-4",
                "no object",
            ),
            (
                review_of(
                    json!({ "uid": "u-5", "operation": "UPDATE", "object": { "kind": "Pod" } }),
                ),
                "u-5",
                "only CREATE",
            ),
        ];
        for (body, uid, expected) in cases {
            let (answer, outcome) = review(&body, &config(), |_, _| with_role());
            assert_allowed_unpatched(&answer, uid);
            let reason = reason(outcome);
            assert!(
                reason.contains(expected),
                "{reason:?} should mention {expected:?}"
            );
        }
    }

    #[test]
    fn v1beta1_is_answered_in_kind() {
        let body = serde_json::to_vec(
            &json!({ "apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview",
            "request": { "uid": "b" } }),
        )
        .unwrap();
        let (answer, _) = review(&body, &config(), |_, _| None);
        assert_eq!(answer["apiVersion"], "admission.k8s.io/v1beta1");
    }
}
