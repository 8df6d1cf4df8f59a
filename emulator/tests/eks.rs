//! EKS through the real aws-sdk-eks, and each cluster's OIDC issuer (discovery document and JWKS) as any
//! OIDC client fetches it.

mod common;

use aws_sdk_eks::types::ClusterStatus;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::{code, message};
use irsa_emulator::config::{DEFAULT_ACCOUNT_ID, DEFAULT_REGION};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

#[tokio::test]
async fn describe_cluster() {
    let emulator = common::start().await;
    let eks = common::eks(&emulator);
    let info = common::create_cluster(&emulator, "demo").await;
    assert!(
        info.issuer.starts_with(&format!("{}/id/", emulator.url())),
        "{}",
        info.issuer
    );

    let cluster = eks
        .describe_cluster()
        .name("demo")
        .send()
        .await
        .expect("DescribeCluster")
        .cluster
        .expect("cluster in response");
    assert_eq!(cluster.name(), Some("demo"));
    assert_eq!(
        cluster.arn(),
        Some(format!("arn:aws:eks:{DEFAULT_REGION}:{DEFAULT_ACCOUNT_ID}:cluster/demo").as_str())
    );
    assert_eq!(cluster.arn(), Some(info.arn.as_str()));
    assert_eq!(cluster.status(), Some(&ClusterStatus::Active));
    assert_eq!(cluster.endpoint(), Some(info.endpoint.as_str()));
    assert!(
        info.endpoint.starts_with("https://") && info.endpoint.ends_with(".eks.amazonaws.com"),
        "{}",
        info.endpoint
    );
    assert_eq!(
        cluster
            .identity()
            .and_then(|i| i.oidc())
            .and_then(|o| o.issuer()),
        Some(info.issuer.as_str())
    );
    assert!(cluster.certificate_authority().is_some());
    assert!(cluster.version().is_some());
    assert!(cluster.platform_version().is_some());
    assert!(cluster
        .role_arn()
        .unwrap()
        .starts_with(&format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/")));
    let created = cluster.created_at().expect("createdAt").secs();
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now - 60..=now + 5).contains(&created),
        "createdAt {created}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn describe_cluster_reports_given_endpoint_ca_and_external_issuer() {
    let emulator = common::start().await;
    let eks = common::eks(&emulator);
    let ca_pem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
    let info = common::create_cluster_with(
        &emulator,
        serde_json::json!({
            "name": "kind-cluster",
            "endpoint": "https://127.0.0.1:6443",
            "certificate_authority_pem": ca_pem,
            "issuer_url": "https://kubernetes.default.svc.cluster.local",
        }),
    )
    .await;
    assert_eq!(info.issuer, "https://kubernetes.default.svc.cluster.local");
    assert!(
        info.signing_key_pem.is_none(),
        "an external issuer signs its own tokens"
    );

    let cluster = eks
        .describe_cluster()
        .name("kind-cluster")
        .send()
        .await
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(cluster.endpoint(), Some("https://127.0.0.1:6443"));
    let data = cluster.certificate_authority().unwrap().data().unwrap();
    assert_eq!(
        STANDARD.decode(data).unwrap(),
        ca_pem.as_bytes(),
        "base64 of the PEM, as EKS"
    );
    assert_eq!(
        cluster.identity().unwrap().oidc().unwrap().issuer(),
        Some("https://kubernetes.default.svc.cluster.local")
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_cluster_is_resource_not_found() {
    let emulator = common::start().await;
    let eks = common::eks(&emulator);
    let err = eks
        .describe_cluster()
        .name("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
    assert_eq!(message(&err), "No cluster found for name: nope.");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "the SDK maps it to its modelled error: {err:?}"
    );
    let raw = err.raw_response().expect("HTTP response");
    assert_eq!(raw.status().as_u16(), 404);

    // A deleted cluster is gone from EKS too.
    common::create_cluster(&emulator, "short-lived").await;
    eks.describe_cluster()
        .name("short-lived")
        .send()
        .await
        .unwrap();
    let response = common::http_client(&emulator)
        .delete(format!("{}/_emulator/clusters/short-lived", emulator.url()))
        .bearer_auth(irsa_emulator::config::DEFAULT_ADMIN_SECRET_ACCESS_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let err = eks
        .describe_cluster()
        .name("short-lived")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
    emulator.shutdown().await;
}

#[tokio::test]
async fn list_clusters() {
    let emulator = common::start().await;
    let eks = common::eks(&emulator);
    let listed = eks.list_clusters().send().await.expect("ListClusters");
    assert!(listed.clusters().is_empty());
    assert!(listed.next_token().is_none());

    for name in ["gamma", "alpha", "beta"] {
        common::create_cluster(&emulator, name).await;
    }
    let listed = eks.list_clusters().send().await.unwrap();
    assert_eq!(listed.clusters(), ["alpha", "beta", "gamma"]);
    assert!(listed.next_token().is_none());

    let first = eks.list_clusters().max_results(2).send().await.unwrap();
    assert_eq!(first.clusters(), ["alpha", "beta"]);
    let token = first.next_token().expect("more to come").to_string();
    let second = eks
        .list_clusters()
        .max_results(2)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.clusters(), ["gamma"]);
    assert!(second.next_token().is_none());

    let all: Vec<String> = eks
        .list_clusters()
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginated ListClusters");
    assert_eq!(all, ["alpha", "beta", "gamma"]);

    let err = eks
        .list_clusters()
        .max_results(101)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidParameterException");
    let err = eks
        .list_clusters()
        .next_token("garbage")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidParameterException");
    emulator.shutdown().await;
}

#[tokio::test]
async fn issuer_serves_discovery_and_jwks() {
    let emulator = common::start().await;
    let info = common::create_cluster(&emulator, "issuing").await;
    let http = common::http_client(&emulator);

    let response = http
        .get(format!("{}/.well-known/openid-configuration", info.issuer))
        .send()
        .await
        .expect("discovery reachable");
    assert_eq!(response.status(), 200);
    assert!(response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json")));
    let discovery: serde_json::Value = response.json().await.unwrap();
    assert_eq!(discovery["issuer"], info.issuer.as_str());
    let jwks_uri = format!("{}/keys", info.issuer);
    assert_eq!(discovery["jwks_uri"], jwks_uri.as_str());
    assert_eq!(
        discovery["response_types_supported"],
        serde_json::json!(["id_token"])
    );
    assert_eq!(
        discovery["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );

    let jwks: serde_json::Value = http
        .get(&jwks_uri)
        .send()
        .await
        .expect("JWKS reachable")
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().expect("keys array");
    assert_eq!(keys.len(), 1, "{jwks}");
    let jwk = &keys[0];
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["alg"], "RS256");
    assert_eq!(jwk["use"], "sig");

    // kid is kube-apiserver's: base64url(SHA-256(PKIX DER of the public key)).
    let public_pem = info.public_key_pem.as_deref().expect("public key PEM");
    let public = RsaPublicKey::from_public_key_pem(public_pem).expect("PKIX PEM");
    let der = public.to_public_key_der().unwrap();
    let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(der.as_bytes()));
    assert_eq!(jwk["kid"], kid.as_str());
    assert_eq!(
        jwk["n"],
        URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()).as_str()
    );
    assert_eq!(
        jwk["e"],
        URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()).as_str()
    );

    // The signing key handed out is the private half of that public key.
    let private = RsaPrivateKey::from_pkcs8_pem(info.signing_key_pem.as_deref().unwrap()).unwrap();
    assert_eq!(private.to_public_key(), public);

    // Each cluster has its own issuer and key.
    let other = common::create_cluster(&emulator, "other").await;
    assert_ne!(other.issuer, info.issuer);
    let other_jwks: serde_json::Value = http
        .get(format!("{}/keys", other.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(other_jwks["keys"][0]["kid"], jwk["kid"]);

    let missing = http
        .get(format!(
            "{}/id/0000/.well-known/openid-configuration",
            emulator.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let missing = http
        .get(format!("{}/id/0000/keys", emulator.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    emulator.shutdown().await;
}

/// `irsa-emulator cluster …` against `emulator`: stdout, or a panic with stderr.
fn cluster_cli(emulator: &irsa_emulator::Emulator, args: &[&str]) -> String {
    common::emulator_cli(
        env!("CARGO_BIN_EXE_irsa-emulator"),
        emulator,
        &[&["cluster"], args].concat(),
    )
}

/// kind-up.sh registers the cluster before kind creates its API server (kind needs the cluster's keys), then
/// `irsa-emulator cluster update` gives it the endpoint and CA; DescribeCluster reports them from then on.
#[tokio::test(flavor = "multi_thread")]
async fn cluster_update_sets_endpoint_and_ca_that_describe_cluster_reports() {
    let emulator = common::start().await;
    let eks = common::eks(&emulator);
    common::create_cluster(&emulator, "kind-later").await;
    let describe = || async {
        eks.describe_cluster()
            .name("kind-later")
            .send()
            .await
            .expect("DescribeCluster")
            .cluster
            .expect("cluster in response")
    };
    // No CA known yet: EKS's shape for that is `"certificateAuthority": {}`, never `"data": ""`.
    let before = describe().await;
    assert_eq!(
        before.certificate_authority().map(|c| c.data()),
        Some(None),
        "{before:?}"
    );

    let ca_pem = "-----BEGIN CERTIFICATE-----\nMIIBkindCA\n-----END CERTIFICATE-----\n";
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("kind-ca.crt");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let printed = cluster_cli(
        &emulator,
        &[
            "update",
            "kind-later",
            "--endpoint",
            "https://127.0.0.1:40123",
            "--certificate-authority",
            ca_file.to_str().unwrap(),
        ],
    );
    assert!(printed.contains("https://127.0.0.1:40123"), "{printed}");

    let after = describe().await;
    assert_eq!(after.endpoint(), Some("https://127.0.0.1:40123"));
    let data = after
        .certificate_authority()
        .and_then(|c| c.data())
        .unwrap();
    assert_eq!(STANDARD.decode(data).unwrap(), ca_pem.as_bytes());
    // Nothing else moved.
    assert_eq!(after.arn(), before.arn());
    assert_eq!(
        after
            .identity()
            .and_then(|i| i.oidc())
            .and_then(|o| o.issuer()),
        before
            .identity()
            .and_then(|i| i.oidc())
            .and_then(|o| o.issuer())
    );

    // Only the endpoint: the CA stays.
    cluster_cli(
        &emulator,
        &[
            "update",
            "kind-later",
            "--endpoint",
            "https://10.0.0.1:6443",
        ],
    );
    let again = describe().await;
    assert_eq!(again.endpoint(), Some("https://10.0.0.1:6443"));
    assert_eq!(
        again.certificate_authority().and_then(|c| c.data()),
        Some(data)
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn cluster_update_refuses_unknown_clusters_and_bad_values() {
    let emulator = common::start().await;
    common::create_cluster(&emulator, "c1").await;
    let client = common::http_client(&emulator);
    let patch = |name: &str, body: serde_json::Value| {
        client
            .patch(format!("{}/_emulator/clusters/{name}", emulator.url()))
            .bearer_auth(irsa_emulator::config::DEFAULT_ADMIN_SECRET_ACCESS_KEY)
            .json(&body)
            .send()
    };
    let response = patch("nope", serde_json::json!({ "endpoint": "https://x:1" }))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["__type"], "ResourceNotFoundException");

    for bad in [
        serde_json::json!({ "endpoint": "http://127.0.0.1:6443" }),
        serde_json::json!({ "certificate_authority_pem": "not a certificate" }),
    ] {
        let response = patch("c1", bad.clone()).await.unwrap();
        assert_eq!(response.status(), 400, "{bad}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["__type"], "InvalidParameterException", "{bad}");
    }

    // Without the admin secret: refused.
    let response = client
        .patch(format!("{}/_emulator/clusters/c1", emulator.url()))
        .json(&serde_json::json!({ "endpoint": "https://x:1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    emulator.shutdown().await;
}

/// `irsa-emulator cluster create` prints the kube-apiserver flags of the one function the e2e control plane and
/// the kind config use, pointing at the key files it wrote.
#[tokio::test(flavor = "multi_thread")]
async fn cluster_create_prints_the_shared_apiserver_flags() {
    let emulator = common::start().await;
    let out_dir = tempfile::tempdir().unwrap();
    let printed = cluster_cli(
        &emulator,
        &[
            "create",
            "flags",
            "--out-dir",
            out_dir.path().to_str().unwrap(),
        ],
    );
    let issuer = printed
        .lines()
        .find_map(|l| l.strip_prefix("issuer:"))
        .map(str::trim)
        .expect("issuer printed");
    let keys = out_dir.path().canonicalize().unwrap();
    let want = irsa_names::apiserver_issuer_flags(
        issuer,
        &keys.join("sa.key"),
        &keys.join("sa.pub"),
        &irsa_names::default_api_audiences(),
    );
    let flags: Vec<&str> = printed
        .lines()
        .skip_while(|l| !l.starts_with("kube-apiserver flags:"))
        .skip(1)
        .map(str::trim)
        .collect();
    assert_eq!(flags, want, "{printed}");
    emulator.shutdown().await;
}
