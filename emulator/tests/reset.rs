//! `irsa-emulator reset` (POST /_emulator/reset): a clean slate between tests or lab exercises. IAM state goes,
//! the clusters stay unless asked, and nothing issued before the reset works after it.

mod common;

use aws_sdk_sts::error::ProvideErrorMetadata;
use irsa_emulator::{config, Emulator};

fn reset_cli(emulator: &Emulator, args: &[&str]) -> String {
    common::emulator_cli(
        env!("CARGO_BIN_EXE_irsa-emulator"),
        emulator,
        &[&["reset"], args].concat(),
    )
}

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{}:role/{name}", config::DEFAULT_ACCOUNT_ID)
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_removes_iam_state_and_keeps_clusters() {
    let emulator = common::start().await;
    let session = common::session_credentials(&emulator, "lab", "lab-role").await;
    let iam = common::iam(&emulator);
    let policy_arn =
        common::create_policy(&iam, "lab-read", &common::identity_policy("iam:GetRole")).await;
    iam.attach_role_policy()
        .role_name("lab-role")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();

    let printed = reset_cli(&emulator, &[]);
    assert!(
        printed
            .contains("removed 1 roles, 1 customer managed policies, 1 OIDC providers, 0 clusters"),
        "{printed}"
    );
    assert!(printed.contains("clusters kept"), "{printed}");

    let roles = iam.list_roles().send().await.unwrap();
    assert!(roles.roles().is_empty(), "{:?}", roles.roles());
    let local = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    assert!(local.policies().is_empty(), "{:?}", local.policies());
    let providers = iam.list_open_id_connect_providers().send().await.unwrap();
    assert!(providers.open_id_connect_provider_list().is_empty());
    // AWS managed policies are not state: they are still there to attach.
    iam.get_policy()
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .expect("AWS managed policies survive a reset");
    let cluster = common::eks(&emulator)
        .describe_cluster()
        .name("lab")
        .send()
        .await
        .expect("the cluster survives a reset without --clusters");
    assert_eq!(cluster.cluster().unwrap().name(), Some("lab"));

    // The same exercise runs again on the kept cluster: re-creating the role and provider works.
    let again = common::session_credentials_on_existing_cluster(&emulator, "lab", "lab-role").await;
    assert_ne!(again.access_key_id(), session.access_key_id());
    emulator.shutdown().await;
}

/// IAM keeps a deleted role's sessions powerless even when a role of the same name is created again: the new
/// role has another RoleId. A reset must not hand old credentials the new exercise's permissions.
#[tokio::test(flavor = "multi_thread")]
async fn sessions_from_before_a_reset_get_nothing_from_a_recreated_role() {
    let emulator = common::start().await;
    let old = common::session_credentials(&emulator, "lab", "lab-role").await;
    reset_cli(&emulator, &[]);
    common::session_credentials_on_existing_cluster(&emulator, "lab", "lab-role").await;
    common::iam(&emulator)
        .put_role_policy()
        .role_name("lab-role")
        .policy_name("read")
        .policy_document(common::identity_policy("iam:GetRole"))
        .send()
        .await
        .unwrap();

    let old_iam = aws_sdk_iam::Client::new(&common::sdk_config_with(&emulator, old));
    let err = old_iam
        .get_role()
        .role_name("lab-role")
        .send()
        .await
        .expect_err("a session of the deleted role must not use the new role's policy");
    assert_eq!(common::code(&err), "AccessDenied");
    assert!(
        common::message(&err).contains("no longer exists"),
        "{}",
        common::message(&err)
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_with_clusters_removes_them_and_their_tokens_stop_verifying() {
    let emulator = common::start().await;
    common::session_credentials(&emulator, "gone", "gone-role").await;
    let token = common::mint_token(&emulator, "gone", "default", "app").await;

    let printed = reset_cli(&emulator, &["--clusters"]);
    assert!(printed.contains("1 clusters"), "{printed}");
    assert!(!printed.contains("clusters kept"), "{printed}");

    let err = common::eks(&emulator)
        .describe_cluster()
        .name("gone")
        .send()
        .await
        .expect_err("the cluster is gone");
    assert_eq!(
        err.as_service_error().and_then(|e| e.code()),
        Some("ResourceNotFoundException")
    );
    // Even with the trust re-created for the old issuer, the old cluster's tokens do not verify.
    let sts = aws_sdk_sts::Client::new(&common::sdk_config(&emulator));
    let err = sts
        .assume_role_with_web_identity()
        .role_arn(role_arn("gone-role"))
        .role_session_name("late")
        .web_identity_token(token)
        .send()
        .await
        .expect_err("a removed cluster's token must not verify");
    assert!(
        matches!(
            err.as_service_error().and_then(|e| e.code()),
            Some("InvalidIdentityToken") | Some("IDPCommunicationError")
        ),
        "{err:?}"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reset_is_audited_and_needs_the_admin_secret() {
    let emulator = common::start().await;
    let http = common::http_client(&emulator);
    let url = format!("{}/_emulator/reset", emulator.url());
    let refused = http
        .post(&url)
        .bearer_auth("not-the-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    let reset = http
        .post(&url)
        .bearer_auth(config::DEFAULT_ADMIN_SECRET_ACCESS_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    let cleared: serde_json::Value = reset.json().await.unwrap();
    assert_eq!(cleared["roles"], 0, "{cleared}");

    let audit: serde_json::Value = http
        .get(format!("{}/_emulator/audit", emulator.url()))
        .bearer_auth(config::DEFAULT_ADMIN_SECRET_ACCESS_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = audit["events"].as_array().unwrap();
    let reset_event = events
        .iter()
        .find(|e| e["action"] == "emulator:Reset")
        .unwrap_or_else(|| panic!("no reset in the audit: {audit}"));
    assert!(
        reset_event["caller"]
            .as_str()
            .unwrap()
            .ends_with(":user/irsa-emulator-admin"),
        "{reset_event}"
    );
    emulator.shutdown().await;
}
