//! The pieces agree: a token the real kube-apiserver issues (`kubectl create token`) for an emulator
//! cluster's issuer is accepted by the emulator's STS for the role that trusts that service account, and
//! refused for any other service account.

#[path = "../../emulator/tests/common/mod.rs"]
mod common;

use irsa_e2e::controlplane::{skip_requested, ControlPlane, ControlPlaneConfig};

#[tokio::test(flavor = "multi_thread")]
async fn apiserver_tokens_are_accepted_by_sts_only_for_the_trusted_service_account() {
    if skip_requested() {
        eprintln!("skipped: IRSA_SKIP_CONTROLPLANE=1 (no local control plane)");
        return;
    }
    let emulator = common::start().await;
    let cluster = common::create_cluster(&emulator, "real").await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("sa.key");
    let public = dir.path().join("sa.pub");
    std::fs::write(&key, cluster.signing_key_pem.as_deref().unwrap()).unwrap();
    std::fs::write(&public, cluster.public_key_pem.as_deref().unwrap()).unwrap();

    let issuer = cluster.issuer.clone();
    let plane = tokio::task::spawn_blocking(move || {
        ControlPlane::start(ControlPlaneConfig::new(issuer, key, public))
    })
    .await
    .unwrap()
    .expect("local control plane starts (scripts/test.sh builds it)");
    plane.run_kubectl(&["create", "namespace", "shop"]).unwrap();
    for sa in ["cart", "intruder"] {
        plane
            .run_kubectl(&["create", "serviceaccount", sa, "-n", "shop"])
            .unwrap();
    }
    let token_for = |sa: &str| {
        plane
            .run_kubectl(&[
                "create",
                "token",
                sa,
                "-n",
                "shop",
                "--audience",
                "sts.amazonaws.com",
            ])
            .unwrap()
            .trim()
            .to_string()
    };

    let iam = common::iam(&emulator);
    iam.create_open_id_connect_provider()
        .url(&cluster.issuer)
        .client_id_list("sts.amazonaws.com")
        .send()
        .await
        .unwrap();
    let role_arn = iam
        .create_role()
        .role_name("cart")
        .assume_role_policy_document(common::trust_policy(&cluster.issuer, "shop", "cart"))
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string();

    let sts = aws_sdk_sts::Client::new(&common::sdk_config(&emulator));
    let assumed = sts
        .assume_role_with_web_identity()
        .role_arn(&role_arn)
        .role_session_name("pod")
        .web_identity_token(token_for("cart"))
        .send()
        .await
        .expect("the API server's token for shop/cart is accepted");
    assert_eq!(
        assumed.subject_from_web_identity_token(),
        Some("system:serviceaccount:shop:cart")
    );
    assert_eq!(
        assumed.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::111122223333:assumed-role/cart/pod"
    );

    let err = sts
        .assume_role_with_web_identity()
        .role_arn(&role_arn)
        .role_session_name("pod")
        .web_identity_token(token_for("intruder"))
        .send()
        .await
        .expect_err("another service account's token is refused");
    assert_eq!(
        err.as_service_error()
            .and_then(|e| aws_sdk_sts::error::ProvideErrorMetadata::code(e)),
        Some("AccessDenied")
    );
    drop(plane);
    emulator.shutdown().await;
}
