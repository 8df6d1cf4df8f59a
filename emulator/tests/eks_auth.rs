//! eks-auth AssumeRoleForPodIdentity through the real aws-sdk-eksauth (what the Pod Identity agent calls): the
//! pod's token verified as STS verifies web identity tokens, the association found, credentials for the
//! role with EKS's session tags, which the emulator's own authorization honours (`aws:PrincipalTag/…`), role
//! chaining through a target role, and the exact refusal for each hostile token.
//!
//! Codes and statuses are the botocore `eks-auth` model's (InvalidTokenException, ExpiredTokenException,
//! AccessDeniedException and InvalidParameterException are 400; ResourceNotFoundException 404). The
//! AccessDeniedException message is EKS's as the agent relays it (aws-controllers-k8s community #2678); the
//! other messages are the emulator's, since EKS's are not documented.

mod common;

use aws_credential_types::Credentials;
use aws_sdk_eksauth::operation::assume_role_for_pod_identity::AssumeRoleForPodIdentityOutput;
use common::assert_aws_error;
use irsa_emulator::config::{DEFAULT_ACCOUNT_ID, DEFAULT_REGION};
use irsa_emulator::Emulator;
use serde_json::json;

const AUDIENCE: &str = "pods.eks.amazonaws.com";
const CANNOT_ASSUME: &str =
    "Unauthorized Exception! EKS does not have permissions to assume the associated role.";

async fn associate(
    emulator: &Emulator,
    namespace: &str,
    service_account: &str,
    role_arn: &str,
) -> String {
    common::eks(emulator)
        .create_pod_identity_association()
        .cluster_name("demo")
        .namespace(namespace)
        .service_account(service_account)
        .role_arn(role_arn)
        .send()
        .await
        .expect("association")
        .association
        .unwrap()
        .association_id
        .unwrap()
}

async fn exchange(
    emulator: &Emulator,
    cluster: &str,
    token: String,
) -> Result<
    AssumeRoleForPodIdentityOutput,
    aws_sdk_eksauth::error::SdkError<
        aws_sdk_eksauth::operation::assume_role_for_pod_identity::AssumeRoleForPodIdentityError,
        aws_smithy_runtime_api::http::Response,
    >,
> {
    aws_sdk_eksauth::Client::new(&common::sdk_config(emulator))
        .assume_role_for_pod_identity()
        .cluster_name(cluster)
        .token(token)
        .send()
        .await
}

fn credentials(out: &AssumeRoleForPodIdentityOutput) -> Credentials {
    let c = out.credentials().unwrap();
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "pod-identity",
    )
}

#[tokio::test]
async fn a_pod_token_becomes_credentials_for_the_associated_role() {
    let emulator = common::start().await;
    let cluster = common::create_cluster(&emulator, "demo").await;
    let role_arn = common::create_pod_identity_role(&common::iam(&emulator), "app-role").await;
    let id = associate(&emulator, "team-a", "app", &role_arn).await;
    let token = common::mint_pod_token(&emulator, "demo", "team-a", "app", "web-0", AUDIENCE).await;
    let out = exchange(&emulator, "demo", token)
        .await
        .expect("AssumeRoleForPodIdentity");

    let subject = out.subject().unwrap();
    assert_eq!(
        (subject.namespace(), subject.service_account()),
        ("team-a", "app")
    );
    assert_eq!(out.audience(), AUDIENCE);
    let association = out.pod_identity_association().unwrap();
    assert_eq!(association.association_id(), id);
    assert_eq!(
        association.association_arn(),
        format!(
            "arn:aws:eks:{DEFAULT_REGION}:{DEFAULT_ACCOUNT_ID}:podidentityassociation/demo/{id}"
        )
    );
    // botocore `eks-auth`: the session name is `eks-<cluster>-<pod>-<random UUID>`.
    let user = out.assumed_role_user().unwrap();
    let prefix = format!("arn:aws:sts::{DEFAULT_ACCOUNT_ID}:assumed-role/app-role/eks-demo-web-0-");
    assert!(user.arn().starts_with(&prefix), "{}", user.arn());
    let session = user.arn().rsplit('/').next().unwrap();
    assert!(session.len() <= 64, "{session}");
    assert!(user.assume_role_id().starts_with("AROA"));
    assert!(user.assume_role_id().ends_with(&format!(":{session}")));
    let expiration = out.credentials().unwrap().expiration().secs();
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now + 6 * 3600 - 60..=now + 6 * 3600 + 5).contains(&expiration),
        "six hours"
    );

    let sts = aws_sdk_sts::Client::new(&common::sdk_config_with(&emulator, credentials(&out)));
    let identity = sts
        .get_caller_identity()
        .send()
        .await
        .expect("the credentials work");
    assert_eq!(identity.arn(), Some(user.arn()));

    let events = common::audit_events(&emulator).await;
    let granted = events
        .iter()
        .find(|e| e["action"] == "eks-auth:AssumeRoleForPodIdentity" && e["decision"] == "allow")
        .expect("the grant is audited");
    assert_eq!(granted["caller"], "system:serviceaccount:team-a:app");
    assert_eq!(granted["role"].as_str(), Some(role_arn.as_str()));
    let why = granted["explanation"].as_str().unwrap();
    assert!(why.contains("pod web-0") && why.contains(&id), "{why}");
    let _ = cluster;
    emulator.shutdown().await;
}

/// One role for two namespaces, its policy conditioned on the session tag `kubernetes-namespace`: the EKS
/// User Guide's ABAC ("Grant Pods access to AWS resources based on tags").
#[tokio::test]
async fn session_tags_decide_what_one_role_lets_each_namespace_do() {
    let emulator = common::start().await;
    common::create_cluster(&emulator, "demo").await;
    let iam = common::iam(&emulator);
    let role_arn = common::create_pod_identity_role(&iam, "shared").await;
    iam.put_role_policy()
        .role_name("shared")
        .policy_name("team-a-only")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/kubernetes-namespace": "team-a"}}
            }]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    associate(&emulator, "team-a", "app", &role_arn).await;
    associate(&emulator, "team-b", "app", &role_arn).await;
    let describe = |out: AssumeRoleForPodIdentityOutput| {
        let eks = aws_sdk_eks::Client::new(&common::sdk_config_with(&emulator, credentials(&out)));
        async move { eks.describe_cluster().name("demo").send().await }
    };
    let team_a = exchange(
        &emulator,
        "demo",
        common::mint_pod_token(&emulator, "demo", "team-a", "app", "a-0", AUDIENCE).await,
    )
    .await
    .unwrap();
    describe(team_a)
        .await
        .expect("team-a's session has the tag the policy wants");
    let team_b = exchange(
        &emulator,
        "demo",
        common::mint_pod_token(&emulator, "demo", "team-b", "app", "b-0", AUDIENCE).await,
    )
    .await
    .unwrap();
    let session = team_b.assumed_role_user().unwrap().arn().to_string();
    let err = describe(team_b).await.unwrap_err();
    assert_aws_error(
        &err,
        403,
        "AccessDeniedException",
        &format!("User: {session} is not authorized to perform: eks:DescribeCluster on resource: arn:aws:eks:{DEFAULT_REGION}:{DEFAULT_ACCOUNT_ID}:cluster/demo because no identity-based policy allows the eks:DescribeCluster action"),
    );

    // With session tags disabled, team-a's pods carry no tag either.
    let eks = common::eks(&emulator);
    let id = eks
        .list_pod_identity_associations()
        .cluster_name("demo")
        .namespace("team-a")
        .send()
        .await
        .unwrap()
        .associations()[0]
        .association_id()
        .unwrap()
        .to_string();
    eks.update_pod_identity_association()
        .cluster_name("demo")
        .association_id(id)
        .disable_session_tags(true)
        .send()
        .await
        .unwrap();
    let untagged = exchange(
        &emulator,
        "demo",
        common::mint_pod_token(&emulator, "demo", "team-a", "app", "a-1", AUDIENCE).await,
    )
    .await
    .unwrap();
    assert!(describe(untagged).await.is_err(), "no tag, no access");
    emulator.shutdown().await;
}

/// The trust policy sees the request tags too: the User Guide's restricted Pod Identity trust.
#[tokio::test]
async fn a_trust_conditioned_on_request_tags_admits_only_its_service_account() {
    let emulator = common::start().await;
    common::create_cluster(&emulator, "demo").await;
    let iam = common::iam(&emulator);
    let role = iam
        .create_role()
        .role_name("pinned")
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {"StringEquals": {
                    "aws:RequestTag/kubernetes-namespace": ["team-a"],
                    "aws:RequestTag/kubernetes-service-account": ["app"]}}
            }]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_string();
    associate(&emulator, "team-a", "app", &role_arn).await;
    associate(&emulator, "team-a", "intruder", &role_arn).await;
    let ok = common::mint_pod_token(&emulator, "demo", "team-a", "app", "p", AUDIENCE).await;
    exchange(&emulator, "demo", ok)
        .await
        .expect("the pinned service account");
    let intruder =
        common::mint_pod_token(&emulator, "demo", "team-a", "intruder", "p", AUDIENCE).await;
    let err = exchange(&emulator, "demo", intruder).await.unwrap_err();
    assert_aws_error(&err, 400, "AccessDeniedException", CANNOT_ASSUME);
    let events = common::audit_events(&emulator).await;
    let denied = events
        .iter()
        .find(|e| e["caller"] == "system:serviceaccount:team-a:intruder")
        .expect("the refusal is audited");
    let why = denied["explanation"].as_str().unwrap();
    assert!(
        why.contains("aws:RequestTag/kubernetes-service-account"),
        "{why}"
    );
    emulator.shutdown().await;
}

/// A token signed with `pem` under kube-apiserver's kid for it, with these claims.
fn signed(pem: &str, claims: &serde_json::Value) -> String {
    let kid = irsa_emulator::keys::key_id(&irsa_emulator::keys::public_key(pem).unwrap()).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.typ = None;
    header.kid = Some(kid);
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

#[tokio::test]
async fn hostile_tokens_are_refused_each_for_its_reason() {
    let emulator = common::start().await;
    let demo = common::create_cluster(&emulator, "demo").await;
    let other = common::create_cluster(&emulator, "other").await;
    let role_arn = common::create_pod_identity_role(&common::iam(&emulator), "app-role").await;
    associate(&emulator, "default", "app", &role_arn).await;
    let now = chrono::Utc::now().timestamp();
    let claims = |iss: &str, aud: &str, exp: i64| {
        json!({"iss": iss, "sub": "system:serviceaccount:default:app", "aud": [aud], "exp": exp,
            "iat": now - 10, "nbf": now - 10, "kubernetes.io": {"namespace": "default",
            "serviceaccount": {"name": "app", "uid": "u"}, "pod": {"name": "web-0", "uid": "p"}}})
    };
    let demo_key = demo.signing_key_pem.as_deref().unwrap();
    let good = signed(demo_key, &claims(&demo.issuer, AUDIENCE, now + 3600));
    exchange(&emulator, "demo", good.clone())
        .await
        .expect("the well-formed token passes");

    // Bad signature: the payload changed after signing.
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let forged = claims(&demo.issuer, AUDIENCE, now + 7200);
    parts[1] = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        forged.to_string(),
    );
    let err = exchange(&emulator, "demo", parts.join("."))
        .await
        .unwrap_err();
    assert_aws_error(
        &err,
        400,
        "InvalidTokenException",
        "The web identity token's signature does not verify with the issuer's key",
    );

    // Wrong audience: an IRSA token (sts.amazonaws.com) given to eks-auth.
    let irsa = signed(
        demo_key,
        &claims(&demo.issuer, "sts.amazonaws.com", now + 3600),
    );
    let err = exchange(&emulator, "demo", irsa).await.unwrap_err();
    assert_aws_error(
        &err,
        400,
        "InvalidTokenException",
        "Incorrect token audience",
    );

    // Expired (beyond the minute of leeway STS allows).
    let expired = signed(demo_key, &claims(&demo.issuer, AUDIENCE, now - 300));
    let err = exchange(&emulator, "demo", expired).await.unwrap_err();
    assert_aws_error(
        &err,
        400,
        "ExpiredTokenException",
        "Token expired: current date/time must be before the expiration date/time in the token",
    );

    // Another cluster's token, sent as demo's; and signed by the other cluster's key under demo's issuer.
    let other_key = other.signing_key_pem.as_deref().unwrap();
    let foreign = signed(other_key, &claims(&other.issuer, AUDIENCE, now + 3600));
    let err = exchange(&emulator, "demo", foreign).await.unwrap_err();
    assert_aws_error(
        &err,
        400,
        "InvalidTokenException",
        &format!(
            "The token was issued by {}, not by cluster demo's issuer {}",
            other.issuer, demo.issuer
        ),
    );
    let impostor = signed(other_key, &claims(&demo.issuer, AUDIENCE, now + 3600));
    let err = exchange(&emulator, "demo", impostor).await.unwrap_err();
    assert_eq!(common::code(&err), "InvalidTokenException");
    assert!(
        common::message(&err).starts_with("No key with kid"),
        "{err:?}"
    );

    // No association for this service account.
    let stranger =
        common::mint_pod_token(&emulator, "demo", "default", "stranger", "s-0", AUDIENCE).await;
    let err = exchange(&emulator, "demo", stranger).await.unwrap_err();
    assert_aws_error(
        &err,
        404,
        "ResourceNotFoundException",
        "No Pod Identity Association found for service account stranger in namespace default of cluster demo.",
    );

    // Not bound to a pod (a TokenRequest without a bound object).
    let mut unbound = claims(&demo.issuer, AUDIENCE, now + 3600);
    unbound["kubernetes.io"]
        .as_object_mut()
        .unwrap()
        .remove("pod");
    let err = exchange(&emulator, "demo", signed(demo_key, &unbound))
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "InvalidTokenException");
    assert!(
        common::message(&err).contains("not bound to a pod"),
        "{err:?}"
    );

    // A cluster that does not exist, and a token that is not a JWT.
    let err = exchange(&emulator, "nope", good.clone()).await.unwrap_err();
    assert_aws_error(
        &err,
        404,
        "ResourceNotFoundException",
        "No cluster found for name: nope.",
    );
    let err = exchange(&emulator, "demo", "not-a-jwt".into())
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "InvalidTokenException");

    // Every refusal is in the audit log.
    let events = common::audit_events(&emulator).await;
    let refusals = events
        .iter()
        .filter(|e| e["action"] == "eks-auth:AssumeRoleForPodIdentity" && e["decision"] == "deny")
        .count();
    assert_eq!(refusals, 9, "{events:#?}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_agent_needs_permission_and_the_role_must_still_trust_eks() {
    let emulator = common::start().await;
    common::create_cluster(&emulator, "demo").await;
    let iam = common::iam(&emulator);
    let role_arn = common::create_pod_identity_role(&iam, "app-role").await;
    associate(&emulator, "default", "app", &role_arn).await;
    let token =
        common::mint_pod_token(&emulator, "demo", "default", "app", "web-0", AUDIENCE).await;

    // A node role without eks-auth:AssumeRoleForPodIdentity (AmazonEKSWorkerNodePolicy grants it).
    let node = common::session_credentials(&emulator, "irsa", "node").await;
    let as_node = aws_sdk_eksauth::Client::new(&common::sdk_config_with(&emulator, node));
    let err = as_node
        .assume_role_for_pod_identity()
        .cluster_name("demo")
        .token(&token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(common::code(&err), "AccessDeniedException");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    iam.attach_role_policy()
        .role_name("node")
        .policy_arn("arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy")
        .send()
        .await
        .unwrap();
    as_node
        .assume_role_for_pod_identity()
        .cluster_name("demo")
        .token(&token)
        .send()
        .await
        .expect("a node role with AmazonEKSWorkerNodePolicy");

    // The trust changed after the association was made: EKS can no longer assume the role.
    iam.update_assume_role_policy()
        .role_name("app-role")
        .policy_document(common::service_trust_policy())
        .send()
        .await
        .unwrap();
    let err = exchange(&emulator, "demo", token).await.unwrap_err();
    assert_aws_error(&err, 400, "AccessDeniedException", CANNOT_ASSUME);
    emulator.shutdown().await;
}

/// An association with a target role: EKS assumes the association's role, then the target with that
/// session (User Guide, "Access AWS Resources using EKS Pod Identity Target IAM Roles").
#[tokio::test]
async fn a_target_role_is_assumed_through_the_associations_role() {
    let emulator = common::start().await;
    common::create_cluster(&emulator, "demo").await;
    let iam = common::iam(&emulator);
    let primary = common::create_pod_identity_role(&iam, "primary").await;
    let external_id = format!("{DEFAULT_REGION}/{DEFAULT_ACCOUNT_ID}/demo/default/app");
    // The guide's target trust: the account root, the primary role's ARN and the ExternalId.
    let target_trust = |external_id: &str| {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{DEFAULT_ACCOUNT_ID}:root")},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {"StringEquals": {"sts:ExternalId": external_id,
                "aws:RequestTag/kubernetes-namespace": "default"},
                "ArnEquals": {"aws:PrincipalARN": primary.as_str()}}
        }]})
        .to_string()
    };
    let target = iam
        .create_role()
        .role_name("target")
        .assume_role_policy_document(target_trust(&external_id))
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .arn;
    let id = common::eks(&emulator)
        .create_pod_identity_association()
        .cluster_name("demo")
        .namespace("default")
        .service_account("app")
        .role_arn(&primary)
        .target_role_arn(&target)
        .send()
        .await
        .unwrap()
        .association
        .unwrap();
    assert_eq!(id.external_id(), Some(external_id.as_str()));
    let token = || common::mint_pod_token(&emulator, "demo", "default", "app", "web-0", AUDIENCE);

    // The primary role may not assume the target yet: its policies must allow it.
    let err = exchange(&emulator, "demo", token().await)
        .await
        .unwrap_err();
    assert_aws_error(&err, 400, "AccessDeniedException", CANNOT_ASSUME);
    iam.put_role_policy()
        .role_name("primary")
        .policy_name("chain")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": target.as_str()}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let out = exchange(&emulator, "demo", token().await)
        .await
        .expect("chained");
    let arn = out.assumed_role_user().unwrap().arn();
    assert!(
        arn.starts_with(&format!(
            "arn:aws:sts::{DEFAULT_ACCOUNT_ID}:assumed-role/target/eks-demo-web-0-"
        )),
        "{arn}"
    );
    let expiration = out.credentials().unwrap().expiration().secs();
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now + 3600 - 60..=now + 3600 + 5).contains(&expiration),
        "an hour when chained"
    );

    // A target trust that wants another ExternalId refuses.
    iam.update_assume_role_policy()
        .role_name("target")
        .policy_document(target_trust("someone-else"))
        .send()
        .await
        .unwrap();
    let err = exchange(&emulator, "demo", token().await)
        .await
        .unwrap_err();
    assert_aws_error(&err, 400, "AccessDeniedException", CANNOT_ASSUME);
    emulator.shutdown().await;
}
