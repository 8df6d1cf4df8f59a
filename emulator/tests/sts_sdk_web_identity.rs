//! aws-sdk-rust's own web identity credentials provider, configured only through the environment a pod
//! gets from the pod identity webhook, assumes the role through the emulator's STS.
//! One test per binary: it sets process environment variables.

mod common;

use aws_config::BehaviorVersion;

#[tokio::test]
async fn sdk_default_chain_assumes_the_role_from_a_token_file() {
    let emulator = common::start().await;
    let cluster = common::create_cluster(&emulator, "sdk").await;
    let iam = common::iam(&emulator);
    iam.create_open_id_connect_provider()
        .url(&cluster.issuer)
        .client_id_list("sts.amazonaws.com")
        .send()
        .await
        .expect("provider");
    let role = iam
        .create_role()
        .role_name("sdk-reader")
        .assume_role_policy_document(common::trust_policy(&cluster.issuer, "default", "app"))
        .send()
        .await
        .expect("role");
    let role_arn = role.role().unwrap().arn().to_string();

    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(
        &token_file,
        common::mint_token(&emulator, "sdk", "default", "app").await,
    )
    .unwrap();
    for key in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
    ] {
        std::env::remove_var(key);
    }
    std::env::set_var("AWS_CONFIG_FILE", dir.path().join("none"));
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"));
    std::env::set_var("AWS_REGION", "us-east-1");
    std::env::set_var("AWS_ROLE_ARN", &role_arn);
    std::env::set_var("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file);
    std::env::set_var("AWS_ROLE_SESSION_NAME", "rust-pod");
    std::env::set_var("AWS_ENDPOINT_URL_STS", emulator.url());

    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(common::https_client(&emulator))
        .load()
        .await;
    let sts = aws_sdk_sts::Client::new(&config);
    let identity = sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with web identity credentials");
    assert_eq!(
        identity.arn(),
        Some("arn:aws:sts::111122223333:assumed-role/sdk-reader/rust-pod")
    );
    assert_eq!(identity.account(), Some("111122223333"));

    // A token for another service account is refused by the trust policy.
    std::fs::write(
        &token_file,
        common::mint_token(&emulator, "sdk", "default", "intruder").await,
    )
    .unwrap();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(common::https_client(&emulator))
        .load()
        .await;
    let err = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect_err("intruder must be denied");
    let text = format!(
        "{}",
        aws_smithy_types::error::display::DisplayErrorContext(&err)
    );
    assert!(text.contains("AccessDenied"), "{text}");
    emulator.shutdown().await;
}
