//! The pod identity webhook's AdmissionReview handling (`webhook::review::review`: parse, decide, mutate,
//! answer) on arbitrary bytes.
//!
//! The ServiceAccount the webhook would look up is taken from the body's top-level `serviceAccount` member
//! when there is one (its `metadata.annotations`; `null` means it does not exist), else it is one annotated
//! with a role ARN. The API server ignores unknown top-level members, so real reviews stay real.
//!
//! Checks, beyond "no panic": the answer is an AdmissionReview that allows and echoes the uid; a patch is a
//! JSON Patch that applies to the request's object and leaves a valid Pod; and the webhook run again on the
//! patched Pod has nothing left to add.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use base64::Engine as _;
use irsa_emulator::webhook::mutate::{MutationConfig, ServiceAccountSettings};
use irsa_names::ROLE_ARN_ANNOTATION;
use irsa_emulator::webhook::review::{review, Outcome};
use k8s_openapi::api::core::v1::Pod;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

static CONFIGS: LazyLock<[MutationConfig; 2]> = LazyLock::new(|| {
    [
        MutationConfig::emulator(Some("us-east-1".into()), "https://127.0.0.1:8443", true),
        MutationConfig::upstream(None),
    ]
});

fn service_account(
    body: Option<&Value>,
    config: &MutationConfig,
) -> Option<ServiceAccountSettings> {
    let annotations: BTreeMap<String, String> = match body.and_then(|b| b.get("serviceAccount")) {
        Some(Value::Null) => return None,
        Some(sa) => sa
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .map(|a| {
                a.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
        None => BTreeMap::from([(
            ROLE_ARN_ANNOTATION.to_string(),
            "arn:aws:iam::111122223333:role/app".to_string(),
        )]),
    };
    Some(ServiceAccountSettings::from_annotations(
        Some(&annotations),
        config,
    ))
}

fuzz_target!(|data: &[u8]| {
    let body: Option<Value> = serde_json::from_slice(data).ok();
    for config in CONFIGS.iter() {
        let settings = service_account(body.as_ref(), config);
        let (answer, outcome) = review(data, config, |_, _| settings.clone());
        assert_eq!(answer["kind"], "AdmissionReview");
        assert!(answer["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("admission.k8s.io/")));
        assert_eq!(answer["response"]["allowed"], true);
        let request = body.as_ref().and_then(|b| b.get("request"));
        if let Some(uid) = request.and_then(|r| r.get("uid")).and_then(Value::as_str) {
            if body.as_ref().and_then(|b| b.get("kind")) == Some(&Value::from("AdmissionReview")) {
                assert_eq!(answer["response"]["uid"], uid);
            }
        }

        let Some(patch) = answer["response"].get("patch") else {
            assert!(matches!(outcome, Outcome::NotMutated { .. }), "{outcome:?}");
            continue;
        };
        assert_eq!(answer["response"]["patchType"], "JSONPatch");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(patch.as_str().expect("patch is a string"))
            .expect("patch is base64");
        let operations: json_patch::Patch =
            serde_json::from_slice(&bytes).expect("patch is a JSON Patch");
        let mut object = request
            .and_then(|r| r.get("object"))
            .cloned()
            .expect("a patched review has an object");
        if let Err(e) = json_patch::patch(&mut object, &operations) {
            panic!(
                "patch does not apply ({e}): {}\nto {}",
                String::from_utf8_lossy(&bytes),
                object
            );
        }
        if let Err(e) = serde_json::from_value::<Pod>(object.clone()) {
            panic!("the patched object is not a Pod ({e}): {object}");
        }

        // Admitted again (as the API server's reinvocation would): nothing left to add.
        let mut again = body.clone().expect("a patched review is JSON");
        again["request"]["object"] = object;
        let again_bytes = serde_json::to_vec(&again).expect("serializes");
        let (_, outcome) = review(&again_bytes, config, |_, _| settings.clone());
        assert_eq!(
            outcome,
            Outcome::Mutated { operations: 0 },
            "second pass on {again}"
        );
    }
});
