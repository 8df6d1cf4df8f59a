//! EKS Pod Identity associations through the real aws-sdk-eks: the five operations, EKS's validation (role
//! exists, trusts `pods.eks.amazonaws.com`, Kubernetes names, one association per service account), listing
//! with filters and pages, authorization of role sessions, the audit log, and durability across a restart.
//!
//! AWS-exact strings and their sources: the error codes and statuses are the botocore `eks` model's
//! (ResourceNotFoundException 404, ResourceInUseException 409, InvalidParameterException 400,
//! AccessDeniedException 403); "Association already exists: a-…" is quoted in crossplane-on-eks #168 and
//! eksctl #7753; "Role provided in the request does not exist" in terraform-provider-aws PR #34717; "Trust
//! policy of the role provided is invalid. Follow the official documentation to resolve the issue." in
//! aws-cdk #31522. The messages for invalid names, unknown association ids and pages are the emulator's own:
//! EKS's could not be confirmed.

mod common;

use common::assert_aws_error;
use irsa_emulator::config::{DEFAULT_ACCOUNT_ID, DEFAULT_REGION};

const TRUST_INVALID: &str =
    "Trust policy of the role provided is invalid. Follow the official documentation to resolve the issue.";

async fn setup(emulator: &irsa_emulator::Emulator) -> String {
    common::create_cluster(emulator, "demo").await;
    common::create_pod_identity_role(&common::iam(emulator), "app-role").await
}

#[tokio::test]
async fn create_describe_update_list_delete() {
    let emulator = common::start().await;
    let role_arn = setup(&emulator).await;
    let other_role = common::create_pod_identity_role(&common::iam(&emulator), "other-role").await;
    let eks = common::eks(&emulator);
    let before = chrono::Utc::now().timestamp();
    let created = eks
        .create_pod_identity_association()
        .cluster_name("demo")
        .namespace("team-a")
        .service_account("app")
        .role_arn(&role_arn)
        .tags("owner", "alice")
        .send()
        .await
        .expect("CreatePodIdentityAssociation")
        .association
        .expect("association in the response");
    let id = created.association_id().unwrap().to_string();
    assert!(
        id.len() == 19 && id.starts_with("a-"),
        "a- and 17 characters, as EKS: {id}"
    );
    assert_eq!(
        created.association_arn(),
        Some(
            format!("arn:aws:eks:{DEFAULT_REGION}:{DEFAULT_ACCOUNT_ID}:podidentityassociation/demo/{id}")
                .as_str()
        )
    );
    assert_eq!(created.cluster_name(), Some("demo"));
    assert_eq!(created.namespace(), Some("team-a"));
    assert_eq!(created.service_account(), Some("app"));
    assert_eq!(created.role_arn(), Some(role_arn.as_str()));
    assert_eq!(
        created.tags().unwrap().get("owner").map(String::as_str),
        Some("alice")
    );
    assert_eq!(created.disable_session_tags(), Some(false));
    assert_eq!(created.target_role_arn(), None);
    assert_eq!(created.external_id(), None);
    let created_at = created.created_at().unwrap().secs();
    assert!(
        (before - 5..=before + 5).contains(&created_at),
        "{created_at}"
    );
    assert_eq!(created.created_at(), created.modified_at());

    let described = eks
        .describe_pod_identity_association()
        .cluster_name("demo")
        .association_id(&id)
        .send()
        .await
        .expect("Describe")
        .association
        .unwrap();
    assert_eq!(described, created, "Describe returns what Create did");

    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let updated = eks
        .update_pod_identity_association()
        .cluster_name("demo")
        .association_id(&id)
        .role_arn(&other_role)
        .send()
        .await
        .expect("Update")
        .association
        .unwrap();
    assert_eq!(updated.role_arn(), Some(other_role.as_str()));
    assert_eq!(updated.created_at(), created.created_at());
    assert!(updated.modified_at().unwrap() > created.modified_at().unwrap());
    assert_eq!(updated.tags(), created.tags(), "tags stay");

    let listed = eks
        .list_pod_identity_associations()
        .cluster_name("demo")
        .send()
        .await
        .expect("List");
    let summaries = listed.associations();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0].association_id(), Some(id.as_str()));
    assert_eq!(summaries[0].namespace(), Some("team-a"));
    assert_eq!(summaries[0].service_account(), Some("app"));
    assert_eq!(summaries[0].association_arn(), created.association_arn());
    assert_eq!(listed.next_token(), None);

    let deleted = eks
        .delete_pod_identity_association()
        .cluster_name("demo")
        .association_id(&id)
        .send()
        .await
        .expect("Delete")
        .association
        .unwrap();
    assert_eq!(deleted.association_id(), Some(id.as_str()));
    let err = eks
        .describe_pod_identity_association()
        .cluster_name("demo")
        .association_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(
        &err,
        404,
        "ResourceNotFoundException",
        &format!("No Pod Identity Association found for id: {id}."),
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn one_association_per_service_account_and_the_checks_eks_makes() {
    let emulator = common::start().await;
    let role_arn = setup(&emulator).await;
    let iam = common::iam(&emulator);
    let eks = common::eks(&emulator);
    let create = |namespace: &str, service_account: &str, role: &str| {
        eks.create_pod_identity_association()
            .cluster_name("demo")
            .namespace(namespace)
            .service_account(service_account)
            .role_arn(role)
            .send()
    };
    let first = create("default", "app", &role_arn).await.unwrap();
    let id = first.association().unwrap().association_id().unwrap();
    let err = create("default", "app", &role_arn).await.unwrap_err();
    assert_aws_error(
        &err,
        409,
        "ResourceInUseException",
        &format!("Association already exists: {id}"),
    );

    let missing = format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/nobody");
    let err = create("default", "other", &missing).await.unwrap_err();
    assert_aws_error(
        &err,
        400,
        "InvalidParameterException",
        "Role provided in the request does not exist",
    );

    // An IRSA-only role, and one that allows AssumeRole but not TagSession, are refused.
    iam.create_role()
        .role_name("irsa-only")
        .assume_role_policy_document(common::service_trust_policy())
        .send()
        .await
        .unwrap();
    let irsa_only = format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/irsa-only");
    let err = create("default", "other", &irsa_only).await.unwrap_err();
    assert_aws_error(&err, 400, "InvalidParameterException", TRUST_INVALID);
    iam.create_role()
        .role_name("no-tag-session")
        .assume_role_policy_document(
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let no_tag = format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/no-tag-session");
    let err = create("default", "other", &no_tag).await.unwrap_err();
    assert_aws_error(&err, 400, "InvalidParameterException", TRUST_INVALID);

    for (namespace, service_account) in [("Default", "app"), ("default", "App_1"), ("-x", "app")] {
        let err = create(namespace, service_account, &role_arn)
            .await
            .unwrap_err();
        assert_eq!(
            common::code(&err),
            "InvalidParameterException",
            "{namespace}/{service_account}"
        );
        assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    }

    let err = eks
        .create_pod_identity_association()
        .cluster_name("nope")
        .namespace("default")
        .service_account("app")
        .role_arn(&role_arn)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(
        &err,
        404,
        "ResourceNotFoundException",
        "No cluster found for name: nope.",
    );

    // A session policy needs the session tags off (aws-sdk-eks docs of CreatePodIdentityAssociation).
    let err = eks
        .create_pod_identity_association()
        .cluster_name("demo")
        .namespace("default")
        .service_account("limited")
        .role_arn(&role_arn)
        .policy(common::identity_policy("s3:GetObject"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "InvalidParameterException");
    let limited = eks
        .create_pod_identity_association()
        .cluster_name("demo")
        .namespace("default")
        .service_account("limited")
        .role_arn(&role_arn)
        .policy(common::identity_policy("s3:GetObject"))
        .disable_session_tags(true)
        .target_role_arn(format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/target"))
        .send()
        .await
        .expect("policy with session tags disabled")
        .association
        .unwrap();
    assert_eq!(limited.disable_session_tags(), Some(true));
    assert_eq!(
        limited.policy(),
        Some(common::identity_policy("s3:GetObject").as_str())
    );
    // The User Guide ("Target IAM Roles") shows the ExternalId as region/account/cluster/namespace/account.
    assert_eq!(
        limited.external_id(),
        Some(format!("{DEFAULT_REGION}/{DEFAULT_ACCOUNT_ID}/demo/default/limited").as_str())
    );

    // Every refusal is audited with EKS's reason and the emulator's.
    let events = common::audit_events(&emulator).await;
    let refused: Vec<_> = events
        .iter()
        .filter(|e| e["action"] == "eks:CreatePodIdentityAssociation" && e["decision"] == "deny")
        .collect();
    assert!(
        refused.iter().any(|e| e["explanation"]
            .as_str()
            .unwrap()
            .contains("does not allow pods.eks.amazonaws.com sts:TagSession")),
        "{refused:#?}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn list_filters_and_pages() {
    let emulator = common::start().await;
    let role_arn = setup(&emulator).await;
    let eks = common::eks(&emulator);
    for (namespace, service_account) in [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y"), ("c", "x")]
    {
        eks.create_pod_identity_association()
            .cluster_name("demo")
            .namespace(namespace)
            .service_account(service_account)
            .role_arn(&role_arn)
            .send()
            .await
            .unwrap();
    }
    let names = |out: &aws_sdk_eks::operation::list_pod_identity_associations::ListPodIdentityAssociationsOutput| {
        let mut names: Vec<String> = out
            .associations()
            .iter()
            .map(|s| format!("{}/{}", s.namespace().unwrap(), s.service_account().unwrap()))
            .collect();
        names.sort();
        names
    };
    let in_b = eks
        .list_pod_identity_associations()
        .cluster_name("demo")
        .namespace("b")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&in_b), ["b/x", "b/y"]);
    let x_in_a = eks
        .list_pod_identity_associations()
        .cluster_name("demo")
        .namespace("a")
        .service_account("x")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&x_in_a), ["a/x"]);

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = eks
            .list_pod_identity_associations()
            .cluster_name("demo")
            .max_results(2)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.associations().len() <= 2);
        seen.extend(names(&page));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    seen.sort();
    assert_eq!(pages, 3);
    assert_eq!(seen, ["a/x", "a/y", "b/x", "b/y", "c/x"]);

    let err = eks
        .list_pod_identity_associations()
        .cluster_name("demo")
        .max_results(101)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "InvalidParameterException");
    emulator.shutdown().await;
}

#[tokio::test]
async fn role_sessions_need_the_eks_and_pass_role_permissions() {
    let emulator = common::start().await;
    let role_arn = setup(&emulator).await;
    let creds = common::session_credentials(&emulator, "irsa", "operator").await;
    let as_operator = aws_sdk_eks::Client::new(&common::sdk_config_with(&emulator, creds));
    let err = as_operator
        .create_pod_identity_association()
        .cluster_name("demo")
        .namespace("default")
        .service_account("app")
        .role_arn(&role_arn)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(
        &err,
        403,
        "AccessDeniedException",
        &format!("User: arn:aws:sts::{DEFAULT_ACCOUNT_ID}:assumed-role/operator/probe is not authorized to perform: eks:CreatePodIdentityAssociation on resource: arn:aws:eks:{DEFAULT_REGION}:{DEFAULT_ACCOUNT_ID}:cluster/demo because no identity-based policy allows the eks:CreatePodIdentityAssociation action"),
    );
    common::iam(&emulator)
        .put_role_policy()
        .role_name("operator")
        .policy_name("eks")
        .policy_document(common::identity_policy("eks:CreatePodIdentityAssociation"))
        .send()
        .await
        .unwrap();
    let err = as_operator
        .create_pod_identity_association()
        .cluster_name("demo")
        .namespace("default")
        .service_account("app")
        .role_arn(&role_arn)
        .send()
        .await
        .unwrap_err();
    assert!(common::message(&err).contains("iam:PassRole"), "{err:?}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn requests_signed_for_another_service_are_refused() {
    let emulator = common::start().await;
    setup(&emulator).await;
    // aws-sdk-eksauth signs for eks-auth; pointed at an EKS path it must be refused before anything else.
    let response = common::http_client(&emulator)
        .get(format!("{}/clusters/demo/pod-identity-associations", emulator.url()))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAIRSAEMULATORTEST/20240101/us-east-1/eks-auth/aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = response.json().await.unwrap();
    // AWS's words for it, e.g. aws-sdk-go-v2 #163, disneystreaming/smithy4s #1568.
    assert_eq!(body["__type"], "InvalidSignatureException");
    assert_eq!(
        body["message"],
        "Credential should be scoped to correct service: 'eks'. "
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn associations_survive_a_restart_and_go_with_their_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let config = || irsa_emulator::Config {
        data_dir: Some(dir.path().to_path_buf()),
        ..irsa_emulator::Config::ephemeral()
    };
    let emulator = irsa_emulator::start(config()).await.unwrap();
    let role_arn = setup(&emulator).await;
    let id = common::eks(&emulator)
        .create_pod_identity_association()
        .cluster_name("demo")
        .namespace("default")
        .service_account("app")
        .role_arn(&role_arn)
        .send()
        .await
        .unwrap()
        .association
        .unwrap()
        .association_id
        .unwrap();
    emulator.shutdown().await;

    let emulator = irsa_emulator::start(config()).await.unwrap();
    let eks = common::eks(&emulator);
    let found = eks
        .describe_pod_identity_association()
        .cluster_name("demo")
        .association_id(&id)
        .send()
        .await
        .expect("the association outlives the process");
    assert_eq!(found.association().unwrap().service_account(), Some("app"));

    let deleted = common::http_client(&emulator)
        .delete(format!("{}/_emulator/clusters/demo", emulator.url()))
        .bearer_auth(irsa_emulator::config::DEFAULT_ADMIN_SECRET_ACCESS_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    common::create_cluster(&emulator, "demo").await;
    let listed = eks
        .list_pod_identity_associations()
        .cluster_name("demo")
        .send()
        .await
        .unwrap();
    assert!(
        listed.associations().is_empty(),
        "a cluster's associations are deleted with it, as EKS does"
    );
    emulator.shutdown().await;
}
