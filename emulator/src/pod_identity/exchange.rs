//! What eks-auth's AssumeRoleForPodIdentity decides, once the pod's token is verified: which pod is asking,
//! the session tags its credentials carry, the session's name and lifetime, and whether the role's trust (and,
//! with a target role, the target's trust) admits it. Plain functions; `services/eks_auth` does the I/O.

use axum::http::StatusCode;
use irsa_names::{
    POD_IDENTITY_SERVICE_PRINCIPAL, TAG_CLUSTER_ARN, TAG_CLUSTER_NAME, TAG_NAMESPACE, TAG_POD_NAME,
    TAG_POD_UID, TAG_SERVICE_ACCOUNT,
};
use irsa_policy::{evaluate, Evaluation, PolicyDocument, PrincipalRef, RequestContext};

use crate::partition::Account;
use crate::protocol::AwsError;
use crate::services::sts::token::{KubernetesClaims, VerifiedToken};
use crate::state::model::{Cluster, PodIdentityAssociation, Tag};

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

/// Who calls AssumeRole: EKS itself for the association's role, that role's session for a target role.
#[derive(Clone, Copy)]
pub enum Caller<'a> {
    PodIdentity,
    Role {
        session_arn: &'a str,
        role_arn: &'a str,
        account: &'a Account,
    },
}

impl Caller<'_> {
    /// What a trust policy's `Principal` may name to match the caller: the service; or a role session by its
    /// session ARN, its role's ARN or the account root.
    fn principals(&self) -> Vec<PrincipalRef> {
        match *self {
            Caller::PodIdentity => vec![PrincipalRef::service(POD_IDENTITY_SERVICE_PRINCIPAL)],
            Caller::Role {
                session_arn,
                role_arn,
                account,
            } => vec![
                PrincipalRef::aws(session_arn),
                PrincipalRef::aws(role_arn),
                PrincipalRef::aws(account.iam_arn("root")),
            ],
        }
    }
}

/// The request a trust policy is evaluated against for `action`, principal aside: the session name, the
/// request tags (`aws:RequestTag/<key>`, `aws:TagKeys`), `sts:ExternalId`, and for a role session
/// `aws:PrincipalArn` (what the User Guide's target-role trust tests with `ArnEquals`).
fn assume_context(
    action: &str,
    caller: Caller,
    session: &str,
    tags: &[Tag],
    external_id: Option<&str>,
) -> RequestContext {
    let mut ctx = RequestContext::new(action).with_key("sts:RoleSessionName", session);
    if let Caller::Role {
        role_arn, account, ..
    } = caller
    {
        ctx = ctx
            .with_key("aws:PrincipalArn", role_arn)
            .with_key("aws:PrincipalAccount", account.id());
    }
    if let Some(id) = external_id {
        ctx = ctx.with_key("sts:ExternalId", id);
    }
    for tag in tags {
        ctx = ctx.with_key_values(format!("aws:RequestTag/{}", tag.key), [tag.value.clone()]);
    }
    if !tags.is_empty() {
        ctx = ctx.with_key_values("aws:TagKeys", tags.iter().map(|t| t.key.clone()));
    }
    ctx
}

/// Whether `trust` lets `caller` assume the role with these tags: `sts:AssumeRole`, and `sts:TagSession`
/// when there are tags, each evaluated on its own as STS does. `Ok` and `Err` both explain the decision.
pub fn trust_decision(
    trust: &PolicyDocument,
    caller: Caller,
    session: &str,
    tags: &[Tag],
    external_id: Option<&str>,
) -> Result<String, String> {
    let mut actions = vec!["sts:AssumeRole"];
    if !tags.is_empty() {
        actions.push("sts:TagSession");
    }
    let mut explanations = Vec::new();
    for action in actions {
        let ctx = assume_context(action, caller, session, tags, external_id);
        let evaluations: Vec<Evaluation> = caller
            .principals()
            .into_iter()
            .map(|principal| evaluate(&[trust], &ctx.clone().with_principal(principal)))
            .collect();
        match evaluations.iter().find(|e| e.is_allowed()) {
            Some(allowed) => explanations.push(format!("{action}: {}", allowed.explain())),
            None => {
                let first = evaluations
                    .first()
                    .map(Evaluation::explain)
                    .unwrap_or_default();
                return Err(format!("{action}: {first}"));
            }
        }
    }
    Ok(explanations.join("; "))
}
