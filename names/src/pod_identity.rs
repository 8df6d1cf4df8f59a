//! EKS Pod Identity: what the webhook injects, where the agent listens, which audience and service principal the
//! tokens and trust policies name, and the session tags eks-auth puts on the credentials.
//!
//! Values are those of aws/amazon-eks-pod-identity-webhook (its container-credentials flags' defaults, `main.go`;
//! `pkg/constants.go`), aws/eks-pod-identity-agent (`configuration/config.go`) and the EKS User Guide
//! ("Understand how EKS Pod Identity works", "Grant Pods access to AWS resources based on tags").

/// The audience of the projected token the agent exchanges (webhook flag `--container-credentials-audience`).
pub const POD_IDENTITY_AUDIENCE: &str = "pods.eks.amazonaws.com";
/// The service principal a Pod Identity role's trust policy names, for `sts:AssumeRole` and `sts:TagSession`.
pub const POD_IDENTITY_SERVICE_PRINCIPAL: &str = "pods.eks.amazonaws.com";
/// The actions that trust must allow that principal.
pub const POD_IDENTITY_TRUST_ACTIONS: [&str; 2] = ["sts:AssumeRole", "sts:TagSession"];

/// The container credentials provider's endpoint (read by every AWS SDK's default chain).
pub const ENV_CONTAINER_CREDENTIALS_FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
/// The file whose contents the SDK sends as the `Authorization` header to that endpoint.
pub const ENV_CONTAINER_AUTHORIZATION_TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";

/// The projected volume holding the Pod Identity token (`--container-credentials-token-volume-name`).
pub const POD_IDENTITY_TOKEN_VOLUME: &str = "eks-pod-identity-token";
/// Where mutated containers mount it (`--container-credentials-token-mount-path`).
pub const POD_IDENTITY_TOKEN_MOUNT_PATH: &str =
    "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount";
/// The token's file name inside the mount (`--container-credentials-token-path`).
pub const POD_IDENTITY_TOKEN_FILE_NAME: &str = "eks-pod-identity-token";
/// The label the webhook puts on the pods it mutates for Pod Identity, with value [`POD_IDENTITY_LABEL_VALUE`].
pub const POD_IDENTITY_LABEL: &str = "eks.amazonaws.com/pod-identity";
pub const POD_IDENTITY_LABEL_VALUE: &str = "enabled";
/// The webhook spreads default-lifetime Pod Identity tokens between this and the default (86400 s), so that a
/// node's pods do not all refresh at once (upstream `pkg.DefaultMinTokenExpiration`).
pub const POD_IDENTITY_MIN_JITTERED_EXPIRATION: i64 = 79200;

/// The agent's link-local addresses on every node (IPv4 and IPv6) and the port it serves.
pub const AGENT_IPV4_ADDRESS: &str = "169.254.170.23";
pub const AGENT_IPV6_ADDRESS: &str = "fd00:ec2::23";
pub const AGENT_PORT: u16 = 80;
/// The path the agent answers credentials on.
pub const AGENT_CREDENTIALS_PATH: &str = "/v1/credentials";
/// The dummy interface the agent's init container puts its addresses on.
pub const AGENT_LINK_NAME: &str = "pod-id-link0";
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` as the webhook injects it (`--container-credentials-full-uri`).
pub const CONTAINER_CREDENTIALS_FULL_URI: &str = "http://169.254.170.23/v1/credentials";

/// The session tags eks-auth adds to the credentials unless the association disables them.
pub const TAG_CLUSTER_ARN: &str = "eks-cluster-arn";
pub const TAG_CLUSTER_NAME: &str = "eks-cluster-name";
pub const TAG_NAMESPACE: &str = "kubernetes-namespace";
pub const TAG_SERVICE_ACCOUNT: &str = "kubernetes-service-account";
pub const TAG_POD_NAME: &str = "kubernetes-pod-name";
pub const TAG_POD_UID: &str = "kubernetes-pod-uid";

/// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` as a Linux pod sees it.
pub fn pod_identity_token_file() -> String {
    format!("{POD_IDENTITY_TOKEN_MOUNT_PATH}/{POD_IDENTITY_TOKEN_FILE_NAME}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The EKS User Guide's "How EKS Pod Identity works" shows these two values in the pod spec EKS writes.
    #[test]
    fn injected_values_are_those_eks_documents() {
        assert_eq!(
            pod_identity_token_file(),
            "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"
        );
        assert_eq!(
            CONTAINER_CREDENTIALS_FULL_URI,
            format!("http://{AGENT_IPV4_ADDRESS}{AGENT_CREDENTIALS_PATH}")
        );
    }
}
