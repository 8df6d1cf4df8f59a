//! The strings both products must spell the same way: what the plugin writes on a service account is what the
//! emulator's pod identity webhook reads, what the webhook injects is what the plugin's doctor looks for, and the
//! kube-apiserver flags the emulator prints are the ones the tests start API servers with. A typo in one copy
//! would be a bug no test of either product alone finds, so there is one copy, here.
//!
//! Values are those of AWS's pod identity webhook (aws/amazon-eks-pod-identity-webhook) and of kube-apiserver; EKS
//! Pod Identity's (the container-credentials mode, the agent, session tags) are in the `pod_identity` module's re-exports.

mod apiserver;
mod pod_identity;

pub use apiserver::{apiserver_issuer_args, apiserver_issuer_flags, default_api_audiences};
pub use pod_identity::*;

/// The audience AWS STS requires in web identity tokens, and the one IRSA trust policies name by default.
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";
/// The API server's own audience: in-cluster clients' tokens keep working next to [`STS_AUDIENCE`].
pub const KUBERNETES_AUDIENCE: &str = "https://kubernetes.default.svc";

/// The prefix of every annotation and label the pod identity webhook reads.
pub const ANNOTATION_DOMAIN: &str = "eks.amazonaws.com";
/// Service account: the role its pods assume.
pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// Service account: the token audience (default [`STS_AUDIENCE`]).
pub const AUDIENCE_ANNOTATION: &str = "eks.amazonaws.com/audience";
/// Service account: `true` sets `AWS_STS_REGIONAL_ENDPOINTS=regional`.
pub const STS_REGIONAL_ENDPOINTS_ANNOTATION: &str = "eks.amazonaws.com/sts-regional-endpoints";
/// Service account or pod: the projected token's lifetime in seconds.
pub const TOKEN_EXPIRATION_ANNOTATION: &str = "eks.amazonaws.com/token-expiration";
/// Pod: one CSV record of container names the webhook leaves alone.
pub const SKIP_CONTAINERS_ANNOTATION: &str = "eks.amazonaws.com/skip-containers";
/// Pod (milliseconds): how long the webhook waits for a ServiceAccount missing from its cache.
pub const SERVICE_ACCOUNT_LOOKUP_GRACE_ANNOTATION: &str =
    "eks.amazonaws.com/service-account-lookup-grace-period";
/// Pods with this label are never sent to the webhook (objectSelector) and never mutated.
pub const SKIP_POD_LABEL: &str = "eks.amazonaws.com/skip-pod-identity-webhook";
/// The Kubernetes label naming the tool that manages an object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";

/// The projected volume holding the service-account token.
pub const TOKEN_VOLUME: &str = "aws-iam-token";
/// Where every mutated container mounts [`TOKEN_VOLUME`], read-only.
pub const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount";
/// The token's file name inside [`TOKEN_MOUNT_PATH`].
pub const TOKEN_FILE_NAME: &str = "token";
/// The projected token's lifetime when no annotation says otherwise.
pub const DEFAULT_TOKEN_EXPIRATION: i64 = 86400;
/// kube-apiserver rejects projected tokens shorter than ten minutes; the webhook raises shorter requests to it.
pub const MIN_TOKEN_EXPIRATION: i64 = 600;

/// The role the SDKs assume with the web identity token.
pub const ENV_ROLE_ARN: &str = "AWS_ROLE_ARN";
/// Where the SDKs read the web identity token.
pub const ENV_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";
pub const ENV_REGION: &str = "AWS_REGION";
pub const ENV_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
pub const ENV_STS_REGIONAL_ENDPOINTS: &str = "AWS_STS_REGIONAL_ENDPOINTS";
/// The emulator's addition: STS calls go to the emulator instead of AWS.
pub const ENV_ENDPOINT_URL_STS: &str = "AWS_ENDPOINT_URL_STS";
/// The emulator's addition: the SDK trusts the emulator's CA.
pub const ENV_CA_BUNDLE: &str = "AWS_CA_BUNDLE";

/// `AWS_WEB_IDENTITY_TOKEN_FILE` as a Linux pod sees it.
pub fn token_file() -> String {
    format!("{TOKEN_MOUNT_PATH}/{TOKEN_FILE_NAME}")
}
