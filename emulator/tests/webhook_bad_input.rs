//! `POST /mutate` over HTTPS with input the webhook cannot use: every answer is HTTP 200 with an
//! AdmissionReview that allows the object unchanged, and the reason is logged. Never a 500.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

/// Everything the emulator logs in this test binary.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter("irsa_emulator=info")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        logs
    })
}

fn logged() -> String {
    String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned()
}

async fn post(client: &reqwest::Client, url: &str, body: Vec<u8>, content_type: &str) -> Value {
    let response = client
        .post(format!("{url}/mutate"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("emulator reachable");
    assert_eq!(response.status(), 200, "/mutate answers 200");
    response.json().await.expect("an AdmissionReview")
}

fn assert_allowed_unchanged(answer: &Value, uid: &str) {
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1", "{answer}");
    assert_eq!(answer["kind"], "AdmissionReview", "{answer}");
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert_eq!(answer["response"]["uid"], uid, "{answer}");
    assert!(answer["response"].get("patch").is_none(), "{answer}");
    assert!(answer["response"].get("patchType").is_none(), "{answer}");
}

fn review(request: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({ "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request }))
        .unwrap()
}

#[tokio::test]
async fn bad_input_is_admitted_unchanged_and_logged() {
    logs();
    let emulator = common::start().await;
    let client = common::http_client(&emulator);
    let url = emulator.url().to_string();

    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "not JSON",
            b"{this is not json".to_vec(),
            "",
            "body is not JSON",
        ),
        ("empty body", Vec::new(), "", "body is not JSON"),
        (
            "JSON but not a review",
            br#"{"hello":"world"}"#.to_vec(),
            "",
            "not an AdmissionReview",
        ),
        (
            "review without request",
            serde_json::to_vec(
                &json!({ "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview" }),
            )
            .unwrap(),
            "",
            "has no request",
        ),
        (
            "a ConfigMap",
            review(
                json!({ "uid": "cm-1", "kind": { "group": "", "version": "v1", "kind": "ConfigMap" },
                "resource": { "group": "", "version": "v1", "resource": "configmaps" }, "namespace": "default",
                "operation": "CREATE", "object": { "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "x" } } }),
            ),
            "cm-1",
            "not a Pod",
        ),
        (
            "a Deployment",
            review(
                json!({ "uid": "dep-1", "kind": { "group": "apps", "version": "v1", "kind": "Deployment" },
                "namespace": "default", "operation": "CREATE", "object": { "apiVersion": "apps/v1", "kind": "Deployment" } }),
            ),
            "dep-1",
            "not a Pod",
        ),
        (
            "a pod without containers",
            review(
                json!({ "uid": "pod-1", "kind": { "group": "", "version": "v1", "kind": "Pod" }, "namespace": "default",
                "operation": "CREATE", "object": { "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "empty" },
                "spec": { "serviceAccountName": "app", "containers": [] } } }),
            ),
            "pod-1",
            "no containers",
        ),
        (
            "a pod that does not parse",
            review(
                json!({ "uid": "pod-2", "kind": { "group": "", "version": "v1", "kind": "Pod" }, "namespace": "default",
                "operation": "CREATE", "object": { "apiVersion": "v1", "kind": "Pod", "spec": { "containers": "nope" } } }),
            ),
            "pod-2",
            "not a valid Pod",
        ),
        (
            "a well-formed pod, but no --kubeconfig",
            review(
                json!({ "uid": "pod-3", "kind": { "group": "", "version": "v1", "kind": "Pod" }, "namespace": "default",
                "operation": "CREATE", "object": { "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "ok" },
                "spec": { "serviceAccountName": "app", "containers": [{ "name": "c", "image": "x" }] } } }),
            ),
            "pod-3",
            "without --kubeconfig",
        ),
    ];
    for (what, body, uid, reason) in cases {
        let answer = post(&client, &url, body, "application/json").await;
        assert_allowed_unchanged(&answer, uid);
        let log = logged();
        assert!(
            log.contains(reason),
            "{what}: the log should say {reason:?}; it has:\n{log}"
        );
    }

    // The content type does not matter, and a body far beyond any pod is still answered.
    let answer = post(&client, &url, b"<xml/>".to_vec(), "text/xml").await;
    assert_allowed_unchanged(&answer, "");
    let huge = vec![b' '; 9 * 1024 * 1024];
    let answer = post(&client, &url, huge, "application/json").await;
    assert_allowed_unchanged(&answer, "");
    assert!(logged().contains("larger than"), "{}", logged());

    emulator.shutdown().await;
}
