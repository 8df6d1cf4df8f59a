//! One pod, and a token for it: what `describe pod/NAME` reads. The token is requested as the kubelet does
//! for the projected volume (TokenRequest with the volume's audience and expiry, bound to the pod), so its
//! claims are what the pod's own token carries; the pod's token itself is never read, and the token asked
//! for here is only decoded for its claims, never printed or kept.

use base64::Engine as _;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::api::{Api, PostParams};
use serde_json::Value;

use super::{kube_error, Kube};
use crate::error::{Error, Result};

impl Kube {
    /// A DaemonSet's `(desiredNumberScheduled, numberReady)`; `None` when it does not exist.
    pub async fn daemonset_status(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<(i32, i32)>> {
        let ds = Api::<DaemonSet>::namespaced(self.client.clone(), namespace)
            .get_opt(name)
            .await
            .map_err(|e| kube_error(format!("get daemonset {namespace}/{name}"), e))?;
        Ok(ds.map(|ds| {
            let status = ds.status.unwrap_or_default();
            (status.desired_number_scheduled, status.number_ready)
        }))
    }

    pub async fn get_pod(&self, namespace: &str, name: &str) -> Result<Option<Pod>> {
        Api::<Pod>::namespaced(self.client.clone(), namespace)
            .get_opt(name)
            .await
            .map_err(|e| kube_error(format!("get pod {namespace}/{name}"), e))
    }

    /// The claims of a token for `pod` (TokenRequest bound to it).
    pub async fn pod_token_claims(
        &self,
        namespace: &str,
        service_account: &str,
        pod: &Pod,
        audience: &str,
        expiration_seconds: i64,
    ) -> Result<Value> {
        let request = TokenRequest {
            spec: TokenRequestSpec {
                audiences: vec![audience.to_string()],
                expiration_seconds: Some(expiration_seconds),
                bound_object_ref: Some(BoundObjectReference {
                    api_version: Some("v1".into()),
                    kind: Some("Pod".into()),
                    name: pod.metadata.name.clone(),
                    uid: pod.metadata.uid.clone(),
                }),
            },
            ..Default::default()
        };
        let issued = Api::<ServiceAccount>::namespaced(self.client.clone(), namespace)
            .create_token_request(service_account, &PostParams::default(), &request)
            .await
            .map_err(|e| {
                kube_error(
                    format!("create token for serviceaccount {namespace}/{service_account}"),
                    e,
                )
            })?;
        let token = issued.status.map(|s| s.token).unwrap_or_default();
        claims_of(&token)
    }
}

/// The payload of a JWT, decoded (the signature is the API server's business, not checked here).
pub fn claims_of(token: &str) -> Result<Value> {
    let invalid = |why: &str| Error::Kube {
        operation: "decode token".into(),
        status: 0,
        message: format!("the issued token is not a JWT: {why}"),
        hint: None,
    };
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| invalid("no payload"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| invalid("payload is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| invalid("payload is not JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_read_from_the_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            br#"{"iss":"https://i","sub":"system:serviceaccount:a:b","aud":["sts.amazonaws.com"]}"#,
        );
        let claims = claims_of(&format!("h.{payload}.s")).unwrap();
        assert_eq!(claims["sub"], "system:serviceaccount:a:b");
        assert!(claims_of("no-dots").is_err());
    }
}
