//! IAM OpenID Connect providers through the real aws-sdk-iam.

mod common;

use aws_sdk_iam::types::Tag;
use common::{code, message};
use irsa_emulator::config::DEFAULT_ACCOUNT_ID;

const ISSUER: &str = "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
const THUMB_A: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";
const THUMB_B: &str = "06b25927c42a721631c1efd9431e648fa62e1e39";

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

fn arn() -> String {
    format!(
        "arn:aws:iam::{DEFAULT_ACCOUNT_ID}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    )
}

async fn create(iam: &aws_sdk_iam::Client) -> String {
    iam.create_open_id_connect_provider()
        .url(ISSUER)
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list(THUMB_A)
        .send()
        .await
        .expect("CreateOpenIDConnectProvider")
        .open_id_connect_provider_arn
        .unwrap()
}

#[tokio::test]
async fn create_get_list_and_delete() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);

    let listed = iam.list_open_id_connect_providers().send().await.unwrap();
    assert!(listed.open_id_connect_provider_list().is_empty());

    let created = iam
        .create_open_id_connect_provider()
        .url(ISSUER)
        .client_id_list("sts.amazonaws.com")
        .client_id_list("other-audience")
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list(THUMB_A)
        .tags(tag("cluster", "demo"))
        .send()
        .await
        .expect("CreateOpenIDConnectProvider");
    assert_eq!(created.open_id_connect_provider_arn(), Some(arn().as_str()));
    assert_eq!(created.tags(), &[tag("cluster", "demo")]);

    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(arn())
        .send()
        .await
        .expect("GetOpenIDConnectProvider");
    assert_eq!(
        got.url(),
        Some("oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"),
        "IAM returns the URL without its scheme"
    );
    assert_eq!(
        got.client_id_list(),
        ["sts.amazonaws.com", "other-audience"],
        "duplicates collapse"
    );
    assert_eq!(got.thumbprint_list(), [THUMB_A]);
    assert!(got.create_date().is_some());
    assert_eq!(got.tags(), &[tag("cluster", "demo")]);

    let listed = iam.list_open_id_connect_providers().send().await.unwrap();
    let arns: Vec<&str> = listed
        .open_id_connect_provider_list()
        .iter()
        .map(|p| p.arn().unwrap())
        .collect();
    assert_eq!(arns, [arn()]);

    // Same URL again, even with a trailing slash: the same provider.
    for url in [ISSUER.to_string(), format!("{ISSUER}/")] {
        let err = iam
            .create_open_id_connect_provider()
            .url(url)
            .thumbprint_list(THUMB_A)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "EntityAlreadyExists");
        assert_eq!(
            message(&err),
            format!("Provider with url {ISSUER} already exists.")
        );
    }

    iam.delete_open_id_connect_provider()
        .open_id_connect_provider_arn(arn())
        .send()
        .await
        .expect("DeleteOpenIDConnectProvider");
    let err = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(arn())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(
        message(&err),
        format!("OpenIDConnect Provider not found for arn {}", arn())
    );
    let listed = iam.list_open_id_connect_providers().send().await.unwrap();
    assert!(listed.open_id_connect_provider_list().is_empty());

    // Deleting a provider that is gone is NoSuchEntity, as AWS answers (LocalStack's recording,
    // tests/aws/services/iam/test_iam_oidc.snapshot.json "…test_delete_open_id_connect_provider"
    // deletion-not-found-error), although the API reference calls DeleteOpenIDConnectProvider idempotent.
    let err = iam
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(arn())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(
        message(&err),
        format!("OpenId connect Provider {} cannot be found.", arn())
    );

    // Without client ids or thumbprints (IAM fetches thumbprints itself nowadays).
    let bare = iam
        .create_open_id_connect_provider()
        .url(ISSUER)
        .send()
        .await
        .expect("CreateOpenIDConnectProvider with only a URL");
    assert!(bare.tags().is_empty());
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(arn())
        .send()
        .await
        .unwrap();
    assert!(got.client_id_list().is_empty());
    assert!(got.tags().is_empty());
    emulator.shutdown().await;
}

#[tokio::test]
async fn create_rejects_bad_urls_and_thumbprints() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);

    let err = iam
        .create_open_id_connect_provider()
        .url("http://oidc.example.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidInput");
    assert_eq!(
        message(&err),
        "Invalid Open ID Connect Provider URL. The URL must begin with https://."
    );
    for bad in ["oidc.example.com", "https://"] {
        let err = iam
            .create_open_id_connect_provider()
            .url(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "ValidationError", "{bad}");
        assert_eq!(
            message(&err),
            "Invalid Open ID Connect Provider URL",
            "{bad}"
        );
    }
    for bad in [
        "https://oidc.example.com?x=1",
        "https://oidc.example.com#frag",
    ] {
        let err = iam
            .create_open_id_connect_provider()
            .url(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "InvalidInput", "{bad}");
        assert_eq!(
            message(&err),
            "Invalid Open ID Connect Provider URL.",
            "{bad}"
        );
    }

    let err = iam
        .create_open_id_connect_provider()
        .url(ISSUER)
        .thumbprint_list("abc")
        .send()
        .await
        .unwrap_err();
    // IAM checks the model's thumbprintType (length 40..40) before the call: ValidationError, worded as AWS
    // answered a 41-character thumbprint (LocalStack's recording, tests/aws/services/iam/test_iam_oidc.snapshot.json
    // "…test_create_open_id_connect_provider_validation_errors"): at the list, every constraint, no value.
    assert_eq!(code(&err), "ValidationError");
    assert_eq!(
        message(&err),
        "1 validation error detected: Value at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 40, Member must have length greater than or equal to 40]"
    );

    let err = iam
        .create_open_id_connect_provider()
        .url(ISSUER)
        .set_thumbprint_list(Some((0..6).map(|i| format!("{i}").repeat(40)).collect()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidInput");

    let err = iam
        .create_open_id_connect_provider()
        .url(ISSUER)
        .client_id_list("x".repeat(256))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");

    let listed = iam.list_open_id_connect_providers().send().await.unwrap();
    assert!(
        listed.open_id_connect_provider_list().is_empty(),
        "nothing was created"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn client_ids() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let arn = create(&iam).await;
    let client_ids = |iam: aws_sdk_iam::Client, arn: String| async move {
        iam.get_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .unwrap()
            .client_id_list()
            .to_vec()
    };

    iam.add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("my-audience")
        .send()
        .await
        .expect("AddClientIDToOpenIDConnectProvider");
    // Idempotent: adding an existing id changes nothing.
    iam.add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("my-audience")
        .send()
        .await
        .expect("AddClientIDToOpenIDConnectProvider again");
    assert_eq!(
        client_ids(iam.clone(), arn.clone()).await,
        ["sts.amazonaws.com", "my-audience"]
    );

    iam.remove_client_id_from_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("sts.amazonaws.com")
        .send()
        .await
        .expect("RemoveClientIDFromOpenIDConnectProvider");
    // Idempotent: removing an absent id is not an error.
    iam.remove_client_id_from_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("never-there")
        .send()
        .await
        .expect("RemoveClientIDFromOpenIDConnectProvider of an absent id");
    assert_eq!(client_ids(iam.clone(), arn.clone()).await, ["my-audience"]);

    let err = iam
        .add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("x".repeat(256))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");

    let missing = format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:oidc-provider/nowhere.example.com");
    let err = iam
        .add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&missing)
        .client_id("a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam
        .remove_client_id_from_open_id_connect_provider()
        .open_id_connect_provider_arn(&missing)
        .client_id("a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    emulator.shutdown().await;
}

#[tokio::test]
async fn update_thumbprint() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let arn = create(&iam).await;

    iam.update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(&arn)
        .thumbprint_list(THUMB_B)
        .thumbprint_list(THUMB_A)
        .send()
        .await
        .expect("UpdateOpenIDConnectProviderThumbprint");
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.thumbprint_list(), [THUMB_B, THUMB_A]);

    let err = iam
        .update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(&arn)
        .thumbprint_list("a".repeat(39))
        .send()
        .await
        .unwrap_err();
    // IAM checks the model's thumbprintType (length 40..40) before the call: ValidationError, worded as AWS
    // answered a 41-character thumbprint (LocalStack's recording, tests/aws/services/iam/test_iam_oidc.snapshot.json
    // "…test_create_open_id_connect_provider_validation_errors"): at the list, every constraint, no value.
    assert_eq!(code(&err), "ValidationError");
    assert_eq!(
        message(&err),
        "1 validation error detected: Value at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 40, Member must have length greater than or equal to 40]"
    );
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.thumbprint_list(), [THUMB_B, THUMB_A], "unchanged");

    let missing = format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:oidc-provider/nowhere.example.com");
    let err = iam
        .update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(&missing)
        .thumbprint_list(THUMB_A)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    emulator.shutdown().await;
}

#[tokio::test]
async fn provider_tags() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let arn = create(&iam).await;

    let listed = iam
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .expect("ListOpenIDConnectProviderTags");
    assert!(listed.tags().is_empty());
    assert!(!listed.is_truncated());

    iam.tag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tags(tag("env", "dev"))
        .tags(tag("owner", "platform"))
        .send()
        .await
        .expect("TagOpenIDConnectProvider");
    iam.tag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    let listed = iam
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.tags(),
        &[tag("env", "prod"), tag("owner", "platform")]
    );

    iam.untag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tag_keys("env")
        .send()
        .await
        .expect("UntagOpenIDConnectProvider");
    let listed = iam
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.tags(), &[tag("owner", "platform")]);
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.tags(), &[tag("owner", "platform")]);

    // Paged as every IAM listing is: the SDK's paginator follows IsTruncated/Marker to the end.
    iam.tag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .set_tags(Some((0..5).map(|i| tag(&format!("k{i}"), "v")).collect()))
        .send()
        .await
        .unwrap();
    let first = iam
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&arn)
        .max_items(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.tags().len(), 2);
    assert!(first.is_truncated() && first.marker().is_some());
    let pages: Vec<_> = iam
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&arn)
        .max_items(2)
        .into_paginator()
        .send()
        .collect::<Result<_, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let keys: Vec<_> = pages
        .iter()
        .flat_map(|p| p.tags())
        .map(|t| t.key())
        .collect();
    assert_eq!(keys, ["owner", "k0", "k1", "k2", "k3", "k4"]);

    let err = iam
        .tag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tags(tag("aws:cluster", "x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidInput");

    let missing = format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:oidc-provider/nowhere.example.com");
    for err in [
        code(
            &iam.tag_open_id_connect_provider()
                .open_id_connect_provider_arn(&missing)
                .tags(tag("a", "b"))
                .send()
                .await
                .unwrap_err(),
        ),
        code(
            &iam.untag_open_id_connect_provider()
                .open_id_connect_provider_arn(&missing)
                .tag_keys("a")
                .send()
                .await
                .unwrap_err(),
        ),
        code(
            &iam.list_open_id_connect_provider_tags()
                .open_id_connect_provider_arn(&missing)
                .send()
                .await
                .unwrap_err(),
        ),
    ] {
        assert_eq!(err, "NoSuchEntity");
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn provider_for_an_emulated_cluster() {
    let emulator = common::start().await;
    let iam = common::iam(&emulator);
    let cluster = common::create_cluster(&emulator, "oidc-demo").await;
    let arn = iam
        .create_open_id_connect_provider()
        .url(&cluster.issuer)
        .client_id_list("sts.amazonaws.com")
        .send()
        .await
        .expect("provider for the emulator's own issuer (host with port)")
        .open_id_connect_provider_arn
        .unwrap();
    assert_eq!(arn, common::provider_arn(&cluster.issuer));
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.url(), cluster.issuer.strip_prefix("https://"));
    emulator.shutdown().await;
}
