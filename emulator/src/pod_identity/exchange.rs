//! What eks-auth's AssumeRoleForPodIdentity decides, once the pod's token is verified: which pod is asking,
//! the session tags its credentials carry, the session's name and lifetime (whether the role's trust admits it is
//! [`crate::auth::trust`]'s, shared with STS). Plain functions; `services/eks_auth` does the I/O.

use crate::protocol::AwsError;
use crate::services::sts::token::{KubernetesClaims, VerifiedToken};
use crate::state::model::{Cluster, PodIdentityAssociation, Tag};
use axum::http::StatusCode;
use irsa_names::{
    TAG_CLUSTER_ARN, TAG_CLUSTER_NAME, TAG_NAMESPACE, TAG_POD_NAME, TAG_POD_UID,
    TAG_SERVICE_ACCOUNT,
};

/// How long the credentials last. The EKS User Guide ("Target IAM Roles", caching considerations): the
/// agent's cached credentials last 6 hours for an association without a target role and 59 minutes with one
/// (role chaining caps sessions at an hour). Not confirmed against eks-auth itself.
pub const DIRECT_SESSION_SECONDS: i64 = 6 * 3600;
pub const CHAINED_SESSION_SECONDS: i64 = 3600;

pub fn invalid_token(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidTokenException", StatusCode::BAD_REQUEST, message)
}

/// The message EKS sends when the role's trust refuses it, as the agent relays it (aws-controllers-k8s
/// community #2678: "(AccessDeniedException): Unauthorized Exception! EKS does not have permissions to assume
/// the associated role."). eks-auth's AccessDeniedException is a 400 (botocore `eks-auth` model).
pub fn cannot_assume() -> AwsError {
    AwsError::new(
        "AccessDeniedException",
        StatusCode::BAD_REQUEST,
        "Unauthorized Exception! EKS does not have permissions to assume the associated role.",
    )
}

/// The pod a verified token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSubject {
    pub namespace: String,
    pub service_account: String,
    pub pod_name: String,
    pub pod_uid: String,
}

/// The pod behind `token`: a service-account token bound to a pod, whose `kubernetes.io` claims agree with
/// its `sub`. A token requested without a bound pod (`kubectl create token` without `--bound-object-kind
/// Pod`) names no pod, so it has nothing to tag the session with and is refused (the kubelet's projected
/// tokens always name theirs).
pub fn pod_subject(token: &VerifiedToken) -> Result<PodSubject, AwsError> {
    let Some(KubernetesClaims {
        namespace,
        serviceaccount,
        pod,
    }) = &token.kubernetes
    else {
        return Err(invalid_token(
            "The token is not a Kubernetes service account token: it has no kubernetes.io claim",
        ));
    };
    let expected = irsa_policy::service_account_subject(namespace, &serviceaccount.name);
    if token.subject != expected {
        return Err(invalid_token(format!(
            "The token's sub {} does not match its kubernetes.io claims ({expected})",
            token.subject
        )));
    }
    let Some(pod) = pod else {
        return Err(invalid_token(
            "The token is not bound to a pod: EKS Pod Identity takes the projected token the kubelet mounts",
        ));
    };
    Ok(PodSubject {
        namespace: namespace.clone(),
        service_account: serviceaccount.name.clone(),
        pod_name: pod.name.clone(),
        pod_uid: pod.uid.clone(),
    })
}

/// The six session tags, in the EKS User Guide's order ("Grant Pods access to AWS resources based on tags");
/// none when the association disables them.
pub fn session_tags(
    cluster: &Cluster,
    association: &PodIdentityAssociation,
    pod: &PodSubject,
) -> Vec<Tag> {
    if association.disable_session_tags {
        return Vec::new();
    }
    [
        (TAG_CLUSTER_ARN, cluster.arn.as_str()),
        (TAG_CLUSTER_NAME, cluster.name.as_str()),
        (TAG_NAMESPACE, pod.namespace.as_str()),
        (TAG_SERVICE_ACCOUNT, pod.service_account.as_str()),
        (TAG_POD_NAME, pod.pod_name.as_str()),
        (TAG_POD_UID, pod.pod_uid.as_str()),
    ]
    .into_iter()
    .map(|(key, value)| Tag {
        key: key.into(),
        value: value.into(),
    })
    .collect()
}

/// `eks-<cluster>-<pod>-<random UUID>` (botocore `eks-auth` model, `AssumedRoleUser.assumeRoleId`), cut to
/// the 64 characters STS allows a session name; EKS's own cut is not documented.
pub fn session_name(cluster: &str, pod_name: &str) -> String {
    let mut name = format!("eks-{cluster}-{pod_name}-{}", uuid::Uuid::new_v4());
    name.truncate(64);
    name
}
