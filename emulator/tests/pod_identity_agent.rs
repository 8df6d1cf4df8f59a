//! The Pod Identity agent (`irsa_emulator::agent`) between a pod and the emulator's eks-auth, over HTTP as the
//! SDKs' container provider calls it (aws-sdk-rust's own provider is pod_identity_agent_sdk.rs; the AWS CLI's,
//! e2e/python/test_pod_identity_agent.py). The agent listens on 127.0.0.1: the SDKs allow plain HTTP only to
//! loopback and the agents' link-local addresses.
//!
//! Refusals are the real agent's (aws/eks-pod-identity-agent `pkg/errors/errors.go`, `internal/validation`):
//! plain text, eks-auth's status with `[request-id]: (Code): message, fault: client` for a service error, 400
//! for a token it cannot parse, 403 for a request sent to another address.

mod common;

use irsa_emulator::agent::{self, AgentConfig, NodeCredentials};
use irsa_emulator::config::{
    DEFAULT_ACCOUNT_ID, DEFAULT_ADMIN_ACCESS_KEY_ID, DEFAULT_ADMIN_SECRET_ACCESS_KEY,
};
use irsa_emulator::Emulator;

const AUDIENCE: &str = "pods.eks.amazonaws.com";

fn admin() -> NodeCredentials {
    NodeCredentials {
        access_key_id: DEFAULT_ADMIN_ACCESS_KEY_ID.into(),
        secret_access_key: DEFAULT_ADMIN_SECRET_ACCESS_KEY.into(),
        session_token: None,
    }
}

/// The agent for `cluster` on a loopback port, signing with `credentials`.
async fn start_agent_with(
    emulator: &Emulator,
    cluster: &str,
    credentials: NodeCredentials,
) -> agent::Agent {
    agent::start(AgentConfig {
        cluster_name: cluster.to_string(),
        bind: vec!["127.0.0.1:0".parse().unwrap()],
        probe: Some("127.0.0.1:0".parse().unwrap()),
        endpoint: emulator.url().to_string(),
        region: "us-east-1".into(),
        credentials,
        ca_pem: emulator.ca_pem().map(str::to_string),
    })
    .await
    .expect("agent starts")
}

async fn start_agent(emulator: &Emulator, cluster: &str) -> agent::Agent {
    start_agent_with(emulator, cluster, admin()).await
}

/// A cluster `demo` with role `app-role` (Pod Identity trust) associated with `team-a/app`.
async fn bound(emulator: &Emulator) -> String {
    common::create_cluster(emulator, "demo").await;
    let role = common::create_pod_identity_role(&common::iam(emulator), "app-role").await;
    common::eks(emulator)
        .create_pod_identity_association()
        .cluster_name("demo")
        .namespace("team-a")
        .service_account("app")
        .role_arn(&role)
        .send()
        .await
        .expect("association");
    role
}

#[tokio::test]
async fn the_agent_answers_the_container_credentials_json_for_an_associated_pod() {
    let emulator = common::start().await;
    bound(&emulator).await;
    let agent = start_agent(&emulator, "demo").await;
    let token = common::mint_pod_token(&emulator, "demo", "team-a", "app", "web-0", AUDIENCE).await;
    let (status, content_type, body) = get(&agent, Some(&token), None).await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/json"),
        "{body}"
    );
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    // Upstream's member names, in its order (`pkg/credentials/model.go`).
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "AccessKeyId",
            "SecretAccessKey",
            "Token",
            "AccountId",
            "Expiration"
        ]
    );
    assert_eq!(body["AccountId"], DEFAULT_ACCOUNT_ID);
    let expiration = chrono::DateTime::parse_from_rfc3339(body["Expiration"].as_str().unwrap())
        .expect("RFC 3339");
    let left = expiration.timestamp() - chrono::Utc::now().timestamp();
    assert!((6 * 3600 - 120..=6 * 3600).contains(&left), "{left} s");

    let credentials = aws_credential_types::Credentials::new(
        body["AccessKeyId"].as_str().unwrap(),
        body["SecretAccessKey"].as_str().unwrap(),
        Some(body["Token"].as_str().unwrap().to_string()),
        None,
        "agent",
    );
    let sts = aws_sdk_sts::Client::new(&common::sdk_config_with(&emulator, credentials));
    let identity = sts
        .get_caller_identity()
        .send()
        .await
        .expect("the credentials work");
    let prefix = format!("arn:aws:sts::{DEFAULT_ACCOUNT_ID}:assumed-role/app-role/eks-demo-web-0-");
    assert!(identity.arn().unwrap().starts_with(&prefix), "{identity:?}");

    let events = common::audit_events(&emulator).await;
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "eks-auth:AssumeRoleForPodIdentity"
                && e["decision"] == "allow"
                && e["caller"] == "system:serviceaccount:team-a:app"),
        "{events:?}"
    );
    let probe = agent.probe_addr().unwrap();
    for path in ["/healthz", "/readyz"] {
        let status = reqwest::get(format!("http://{probe}{path}"))
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200, "{path}");
    }
    emulator.shutdown().await;
}

async fn get(
    agent: &agent::Agent,
    authorization: Option<&str>,
    host: Option<&str>,
) -> (u16, String, String) {
    let mut request = reqwest::Client::new().get(agent.credentials_url());
    if let Some(token) = authorization {
        request = request.header("Authorization", token);
    }
    if let Some(host) = host {
        request = request.header("Host", host);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn refusals_carry_eks_auths_error_and_are_audited() {
    let emulator = common::start().await;
    bound(&emulator).await;
    common::create_cluster(&emulator, "other").await;
    let agent = start_agent(&emulator, "demo").await;

    // A token of another cluster's issuer: eks-auth's InvalidTokenException, status and all.
    let foreign =
        common::mint_pod_token(&emulator, "other", "team-a", "app", "web-0", AUDIENCE).await;
    let (status, content_type, body) = get(&agent, Some(&foreign), None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(content_type, "text/plain; charset=utf-8");
    assert!(
        body.starts_with("[")
            && body.contains("]: (InvalidTokenException): ")
            && body.ends_with(", fault: client\n"),
        "{body}"
    );
    assert!(body.contains("not by cluster demo's issuer"), "{body}");

    // The right cluster, but a service account without an association.
    let stranger =
        common::mint_pod_token(&emulator, "demo", "team-b", "app", "web-1", AUDIENCE).await;
    let (status, _, body) = get(&agent, Some(&stranger), None).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("(ResourceNotFoundException): No Pod Identity Association found for service account app in namespace team-b of cluster demo."), "{body}");

    // An IRSA token (audience sts.amazonaws.com) is not for Pod Identity.
    let irsa = common::mint_token(&emulator, "demo", "team-a", "app").await;
    let (status, _, body) = get(&agent, Some(&irsa), None).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("(InvalidTokenException)"), "{body}");

    let events = common::audit_events(&emulator).await;
    let denials: Vec<_> = events
        .iter()
        .filter(|e| e["action"] == "eks-auth:AssumeRoleForPodIdentity" && e["decision"] == "deny")
        .collect();
    assert_eq!(denials.len(), 3, "{events:?}");
    assert!(
        denials
            .iter()
            .any(|e| e["code"] == "ResourceNotFoundException"
                && e["caller"] == "system:serviceaccount:team-b:app"),
        "{denials:?}"
    );

    // Refused by the agent itself, before eks-auth: no token, a token that is not a JWT, the wrong address.
    let (status, _, body) = get(&agent, None, None).await;
    assert_eq!(
        (status, body.as_str()),
        (400, "Service account token cannot be empty\n")
    );
    let (status, _, body) = get(&agent, Some("not-a-jwt"), None).await;
    assert_eq!(status, 400);
    assert_eq!(body, "Service account token cannot be parsed: token is malformed: token contains an invalid number of segments\n");
    let token = common::mint_pod_token(&emulator, "demo", "team-a", "app", "web-0", AUDIENCE).await;
    let (status, _, body) = get(&agent, Some(&token), Some("attacker.example")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body,
        "Access Denied. Called agent through invalid address, please use either [127.0.0.1] address not attacker.example\n"
    );
    let after = common::audit_events(&emulator).await;
    assert_eq!(
        after.len(),
        events.len(),
        "the agent's own refusals never reach eks-auth"
    );

    emulator.shutdown().await;
}

#[tokio::test]
async fn node_credentials_the_emulator_does_not_know_are_refused_by_eks_auth() {
    let emulator = common::start().await;
    bound(&emulator).await;
    let agent = start_agent_with(
        &emulator,
        "demo",
        NodeCredentials {
            access_key_id: "AKIAUNKNOWNNODEKEY00".into(),
            secret_access_key: "wrong".into(),
            session_token: None,
        },
    )
    .await;
    let token = common::mint_pod_token(&emulator, "demo", "team-a", "app", "web-0", AUDIENCE).await;
    let (status, _, body) = get(&agent, Some(&token), None).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("(UnrecognizedClientException)")
            || body.contains("(InvalidClientTokenId)")
            || body.contains("security token"),
        "{body}"
    );
    emulator.shutdown().await;
}
