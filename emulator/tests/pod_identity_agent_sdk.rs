//! aws-sdk-rust's own container credentials provider (`aws_config::ecs::EcsCredentialsProvider`, part of the
//! default chain) gets a role's credentials through `irsa_emulator::agent`, configured exactly as EKS's webhook
//! configures a pod: `AWS_CONTAINER_CREDENTIALS_FULL_URI` (here the agent on 127.0.0.1, which the SDK allows
//! over plain HTTP like 169.254.170.23) and `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, whose contents the SDK
//! sends as the `Authorization` header; STS then names the assumed role. A token eks-auth refuses leaves the
//! SDK without credentials (with eks-auth's status, which is all aws-config reports), and the refusal audited.
//!
//! The provider reads those variables from the process environment (aws-config's way to give it another is
//! crate-private), so this binary has one test, which sets them before anything else runs.

mod common;

use aws_config::ecs::EcsCredentialsProvider;
use aws_credential_types::provider::ProvideCredentials;
use irsa_emulator::agent::{self, AgentConfig, NodeCredentials};
use irsa_emulator::config::{
    DEFAULT_ACCOUNT_ID, DEFAULT_ADMIN_ACCESS_KEY_ID, DEFAULT_ADMIN_SECRET_ACCESS_KEY,
};

#[test]
fn the_sdks_container_provider_gets_the_role_through_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("eks-pod-identity-token");
    // The agent's port is known only once it listens: bind it here, hand the listener's port to the agent.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::env::set_var(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        format!("http://127.0.0.1:{port}/v1/credentials"),
    );
    std::env::set_var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &token_file);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let emulator = common::start().await;
        common::create_cluster(&emulator, "demo").await;
        common::create_cluster(&emulator, "other").await;
        let role = common::create_pod_identity_role(&common::iam(&emulator), "app-role").await;
        common::eks(&emulator)
            .create_pod_identity_association()
            .cluster_name("demo")
            .namespace("team-a")
            .service_account("app")
            .role_arn(&role)
            .send()
            .await
            .expect("association");
        let _agent = agent::start(AgentConfig {
            cluster_name: "demo".into(),
            bind: vec![format!("127.0.0.1:{port}").parse().unwrap()],
            probe: None,
            endpoint: emulator.url().to_string(),
            region: "us-east-1".into(),
            credentials: NodeCredentials {
                access_key_id: DEFAULT_ADMIN_ACCESS_KEY_ID.into(),
                secret_access_key: DEFAULT_ADMIN_SECRET_ACCESS_KEY.into(),
                session_token: None,
            },
            ca_pem: emulator.ca_pem().map(str::to_string),
        })
        .await
        .expect("agent starts");

        let token = common::mint_pod_token(
            &emulator,
            "demo",
            "team-a",
            "app",
            "web-0",
            "pods.eks.amazonaws.com",
        )
        .await;
        std::fs::write(&token_file, &token).unwrap();
        let credentials = EcsCredentialsProvider::builder()
            .build()
            .provide_credentials()
            .await
            .expect("the container provider gets credentials from the agent");
        assert!(credentials.access_key_id().starts_with("ASIA"));
        assert!(credentials.session_token().is_some());
        let left = credentials
            .expiry()
            .expect("the agent gives an Expiration")
            .duration_since(std::time::SystemTime::now())
            .unwrap()
            .as_secs();
        assert!((6 * 3600 - 120..=6 * 3600).contains(&left), "{left} s");
        let sts = aws_sdk_sts::Client::new(&common::sdk_config_with(&emulator, credentials));
        let identity = sts
            .get_caller_identity()
            .send()
            .await
            .expect("the credentials work");
        let arn = identity.arn().unwrap();
        let prefix =
            format!("arn:aws:sts::{DEFAULT_ACCOUNT_ID}:assumed-role/app-role/eks-demo-web-0-");
        assert!(arn.starts_with(&prefix), "{arn}");

        // Another cluster's token: eks-auth refuses it, the agent relays that, the SDK has no credentials.
        let foreign = common::mint_pod_token(
            &emulator,
            "other",
            "team-a",
            "app",
            "web-0",
            "pods.eks.amazonaws.com",
        )
        .await;
        std::fs::write(&token_file, &foreign).unwrap();
        let err = EcsCredentialsProvider::builder()
            .build()
            .provide_credentials()
            .await
            .expect_err("no credentials for another cluster's token");
        // aws-config reports the agent's status, not its body (eks-auth's 400 for InvalidTokenException).
        let shown = format!("{err:?}");
        assert!(shown.contains("StatusCode(400)"), "{shown}");
        let events = common::audit_events(&emulator).await;
        assert!(
            events
                .iter()
                .any(|e| e["action"] == "eks-auth:AssumeRoleForPodIdentity"
                    && e["decision"] == "deny"
                    && e["code"] == "InvalidTokenException"),
            "the refusal is audited: {events:?}"
        );
        emulator.shutdown().await;
    });
}
