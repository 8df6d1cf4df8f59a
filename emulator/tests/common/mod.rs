//! Shared by the integration tests: an emulator started in-process over HTTPS and AWS SDK clients that
//! trust only its CA, as a user's would after `eval "$(irsa-emulator env)"`.
#![allow(dead_code)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use irsa_emulator::{config, Config, Emulator};

pub async fn start() -> Emulator {
    irsa_emulator::start(Config::ephemeral())
        .await
        .expect("emulator starts")
}

pub fn admin_credentials() -> Credentials {
    Credentials::new(
        config::DEFAULT_ADMIN_ACCESS_KEY_ID,
        config::DEFAULT_ADMIN_SECRET_ACCESS_KEY,
        None,
        None,
        "irsa-emulator-tests",
    )
}

pub fn sdk_config(emulator: &Emulator) -> SdkConfig {
    sdk_config_with(emulator, admin_credentials())
}

pub fn sdk_config_with(emulator: &Emulator, credentials: Credentials) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(emulator.url())
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
        )
        .http_client(https_client(emulator))
        .build()
}

pub fn iam(emulator: &Emulator) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&sdk_config(emulator))
}

pub fn eks(emulator: &Emulator) -> aws_sdk_eks::Client {
    aws_sdk_eks::Client::new(&sdk_config(emulator))
}

/// The error code of a failed SDK call, e.g. "NoSuchEntity".
pub fn code<E, R>(err: &aws_sdk_iam::error::SdkError<E, R>) -> String
where
    E: aws_sdk_iam::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .unwrap_or("<not a service error>")
        .to_string()
}

/// Creates a cluster through the admin API, as `irsa-emulator cluster create` does.
pub async fn create_cluster(emulator: &Emulator, name: &str) -> irsa_emulator::admin::ClusterInfo {
    create_cluster_with(emulator, serde_json::json!({ "name": name })).await
}

/// The eksctl-shaped trust policy for `system:serviceaccount:<ns>:<sa>` on `issuer`.
pub fn trust_policy(issuer: &str, namespace: &str, service_account: &str) -> String {
    irsa_policy::irsa_trust_policy(
        &irsa_policy::Account::aws(config::DEFAULT_ACCOUNT_ID),
        issuer,
        namespace,
        service_account,
        "sts.amazonaws.com",
        None,
    )
    .to_string()
}

/// The error message of a failed SDK call ("" when there is none).
pub fn message<E, R>(err: &aws_sdk_iam::error::SdkError<E, R>) -> String
where
    E: aws_sdk_iam::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.message())
        .unwrap_or_default()
        .to_string()
}

/// Asserts a failed SDK call is exactly the AWS error: HTTP status, code and message.
pub fn assert_aws_error<E, R>(
    err: &aws_sdk_iam::error::SdkError<E, aws_smithy_runtime_api::http::Response<R>>,
    status: u16,
    expected_code: &str,
    expected_message: &str,
) where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    let actual = (
        err.raw_response().map(|r| r.status().as_u16()),
        code(err),
        message(err),
    );
    assert_eq!(
        actual,
        (
            Some(status),
            expected_code.to_string(),
            expected_message.to_string()
        ),
        "{err:?}"
    );
}

/// A trust policy with a service principal: valid without any OIDC provider in the account.
pub fn service_trust_policy() -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "ec2.amazonaws.com" },
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// A small identity policy allowing `action` on every resource.
pub fn identity_policy(action: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": action, "Resource": "*" }]
    })
    .to_string()
}

/// IAM returns policy documents URL-encoded: decode and parse as JSON.
pub fn decode_document(encoded: &str) -> serde_json::Value {
    let decoded = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .expect("URL-encoded UTF-8");
    serde_json::from_str(&decoded).expect("policy document is JSON")
}

/// The JSON value of a document as it was sent.
pub fn json(document: &str) -> serde_json::Value {
    serde_json::from_str(document).expect("test document is JSON")
}

/// Creates a role with a service trust policy and defaults.
pub async fn create_role(iam: &aws_sdk_iam::Client, name: &str) -> aws_sdk_iam::types::Role {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(service_trust_policy())
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateRole {name}: {e:?}"))
        .role
        .expect("CreateRole returns the role")
}

/// Creates a customer managed policy and returns its ARN.
pub async fn create_policy(iam: &aws_sdk_iam::Client, name: &str, document: &str) -> String {
    iam.create_policy()
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreatePolicy {name}: {e:?}"))
        .policy
        .and_then(|p| p.arn)
        .expect("CreatePolicy returns the ARN")
}

/// A reqwest client that trusts only the emulator's CA.
pub fn http_client(emulator: &Emulator) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(emulator.ca_pem().unwrap().as_bytes()).unwrap(),
        )
        .build()
        .unwrap()
}

/// Creates a cluster through the admin API from a full request body (endpoint, CA, external issuer…).
pub async fn create_cluster_with(
    emulator: &Emulator,
    body: serde_json::Value,
) -> irsa_emulator::admin::ClusterInfo {
    let response = http_client(emulator)
        .post(format!("{}/_emulator/clusters", emulator.url()))
        .bearer_auth(config::DEFAULT_ADMIN_SECRET_ACCESS_KEY)
        .json(&body)
        .send()
        .await
        .expect("admin API reachable");
    assert_eq!(response.status(), 201, "cluster {body} created");
    response.json().await.expect("cluster info")
}

/// The ARN IAM gives the OIDC provider for `issuer` in the default account.
pub fn provider_arn(issuer: &str) -> String {
    format!(
        "arn:aws:iam::{}:oidc-provider/{}",
        config::DEFAULT_ACCOUNT_ID,
        issuer.trim_start_matches("https://")
    )
}

/// A service-account token minted with the cluster's key, as `irsa-emulator token` does.
pub async fn mint_token(
    emulator: &Emulator,
    cluster: &str,
    namespace: &str,
    service_account: &str,
) -> String {
    let response = http_client(emulator)
        .post(format!(
            "{}/_emulator/clusters/{cluster}/token",
            emulator.url()
        ))
        .bearer_auth(config::DEFAULT_ADMIN_SECRET_ACCESS_KEY)
        .json(&serde_json::json!({ "namespace": namespace, "service_account": service_account }))
        .send()
        .await
        .expect("admin API reachable");
    assert_eq!(response.status(), 200, "token minted");
    let body: serde_json::Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// An HTTP client for aws-sdk-rust that trusts only the emulator's CA.
pub fn https_client(emulator: &Emulator) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    let ca = emulator.ca_pem().expect("tests run over HTTPS");
    let trust = TrustStore::empty().with_pem_certificate(ca.as_bytes());
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(trust)
                .build()
                .unwrap(),
        )
        .build_https()
}

/// Credentials for `role`, assumed through web identity the way a pod gets them, on a new cluster.
pub async fn session_credentials(emulator: &Emulator, cluster: &str, role: &str) -> Credentials {
    create_cluster(emulator, cluster).await;
    session_credentials_on_existing_cluster(emulator, cluster, role).await
}

/// Creates the OIDC provider and `role` for an existing cluster, then assumes the role as its pod would.
pub async fn session_credentials_on_existing_cluster(
    emulator: &Emulator,
    cluster: &str,
    role: &str,
) -> Credentials {
    let issuer = eks(emulator)
        .describe_cluster()
        .name(cluster)
        .send()
        .await
        .expect("cluster exists")
        .cluster()
        .and_then(|c| c.identity())
        .and_then(|i| i.oidc())
        .and_then(|o| o.issuer())
        .expect("cluster has an issuer")
        .to_string();
    let iam = iam(emulator);
    iam.create_open_id_connect_provider()
        .url(&issuer)
        .client_id_list("sts.amazonaws.com")
        .send()
        .await
        .expect("provider");
    iam.create_role()
        .role_name(role)
        .assume_role_policy_document(trust_policy(&issuer, "default", "app"))
        .send()
        .await
        .expect("role");
    let token = mint_token(emulator, cluster, "default", "app").await;
    let sts = aws_sdk_sts::Client::new(&sdk_config(emulator));
    let assumed = sts
        .assume_role_with_web_identity()
        .role_arn(format!(
            "arn:aws:iam::{}:role/{role}",
            config::DEFAULT_ACCOUNT_ID
        ))
        .role_session_name("probe")
        .web_identity_token(token)
        .send()
        .await
        .expect("web identity accepted");
    let c = assumed.credentials().expect("credentials");
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "session",
    )
}

/// `irsa-emulator ARGS` against `emulator` as a user runs it (admin secret from the environment, the CA as
/// --ca-bundle), in a fresh working directory: stdout, or a panic with stderr. `bin` is
/// `env!("CARGO_BIN_EXE_irsa-emulator")`, which only the emulator's own tests have.
pub fn emulator_cli(bin: &str, emulator: &Emulator, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("emulator-ca.pem");
    std::fs::write(&ca, emulator.ca_pem().unwrap()).unwrap();
    let out = std::process::Command::new(bin)
        .args(args)
        .arg("--endpoint-url")
        .arg(emulator.url())
        .arg("--ca-bundle")
        .arg(&ca)
        .current_dir(dir.path())
        .env(
            "IRSA_ADMIN_SECRET_ACCESS_KEY",
            config::DEFAULT_ADMIN_SECRET_ACCESS_KEY,
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "irsa-emulator {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The trust policy the EKS User Guide gives a Pod Identity role ("Create IAM role with trust policy
/// required by EKS Pod Identity").
pub fn pod_identity_trust_policy() -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowEksAuthToAssumeRoleForPodIdentity",
            "Effect": "Allow",
            "Principal": { "Service": "pods.eks.amazonaws.com" },
            "Action": ["sts:AssumeRole", "sts:TagSession"]
        }]
    })
    .to_string()
}

/// Creates `name` with the Pod Identity trust policy and returns its ARN.
pub async fn create_pod_identity_role(iam: &aws_sdk_iam::Client, name: &str) -> String {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(pod_identity_trust_policy())
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateRole {name}: {e:?}"))
        .role
        .map(|r| r.arn)
        .expect("CreateRole returns the role")
}

/// A token as the kubelet projects it for Pod Identity: bound to pod `pod`, audience `audience`.
pub async fn mint_pod_token(
    emulator: &Emulator,
    cluster: &str,
    namespace: &str,
    service_account: &str,
    pod: &str,
    audience: &str,
) -> String {
    let response = http_client(emulator)
        .post(format!(
            "{}/_emulator/clusters/{cluster}/token",
            emulator.url()
        ))
        .bearer_auth(config::DEFAULT_ADMIN_SECRET_ACCESS_KEY)
        .json(&serde_json::json!({
            "namespace": namespace,
            "service_account": service_account,
            "audiences": [audience],
            "pod": { "name": pod, "uid": format!("{pod}-uid") },
        }))
        .send()
        .await
        .expect("admin API reachable");
    assert_eq!(response.status(), 200, "token minted");
    let body: serde_json::Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// The emulator's audit events since the start.
pub async fn audit_events(emulator: &Emulator) -> Vec<serde_json::Value> {
    let body: serde_json::Value = http_client(emulator)
        .get(format!("{}/_emulator/audit", emulator.url()))
        .bearer_auth(config::DEFAULT_ADMIN_SECRET_ACCESS_KEY)
        .send()
        .await
        .expect("admin API reachable")
        .json()
        .await
        .unwrap();
    body["events"].as_array().unwrap().clone()
}
