//! `describe pod/NAME` for a pod bound by EKS Pod Identity: the association for its service account → the
//! pod's spec as the webhook's Pod Identity mode leaves it (the agent's URI and token file env, the
//! `eks-pod-identity-token` volume with audience `pods.eks.amazonaws.com`) → the claims of a token the API
//! server issues bound to this pod with that audience (the agent sends such a token to eks-auth) → the role
//! and its trust for `pods.eks.amazonaws.com` → the agent DaemonSet → the permissions, and with `--action` a
//! simulation where the session tags eks-auth adds are the session's `aws:PrincipalTag/…`.

use irsa_names::{
    pod_identity_token_file, CONTAINER_CREDENTIALS_FULL_URI,
    ENV_CONTAINER_AUTHORIZATION_TOKEN_FILE, ENV_CONTAINER_CREDENTIALS_FULL_URI,
    POD_IDENTITY_AUDIENCE, POD_IDENTITY_TOKEN_VOLUME, TAG_CLUSTER_ARN, TAG_CLUSTER_NAME,
    TAG_NAMESPACE, TAG_POD_NAME, TAG_POD_UID, TAG_SERVICE_ACCOUNT,
};
use serde_json::Value;

use super::pod_chain::{Claims, PodChainFacts};
use super::pod_identity::{agent_check, AgentFacts};
use super::pod_links::claims_link;
use super::simulate::{simulate_with_tags, Simulation};
use super::{check, checks, Check, RoleFacts, Status, Who};
use crate::aws::Association;
use crate::trust::pod_identity::admits_pod_identity;

/// What a Pod Identity pod's chain is judged on, beside [`PodChainFacts`]' pod spec.
#[derive(Debug, Clone)]
pub struct PodIdentityChainFacts {
    /// The EKS cluster (`--cluster` or the context), or why it is not known.
    pub cluster: Result<String, String>,
    /// The association for the pod's service account, or why it could not be read.
    pub association: Result<Option<Association>, String>,
    /// The cluster's issuer (DescribeCluster), to compare with the token's `iss`.
    pub issuer: Result<String, String>,
    /// A token for the pod with audience `pods.eks.amazonaws.com`.
    pub token: Result<Claims, String>,
    pub role: RoleFacts,
    pub documents: Vec<(String, Value)>,
    pub boundary: Option<(String, Value)>,
    pub agent: AgentFacts,
}

fn association_link(
    who: &Who,
    pi: &PodIdentityChainFacts,
    links: &mut Vec<Check>,
) -> Option<Association> {
    let cluster = match &pi.cluster {
        Ok(c) => c.clone(),
        Err(e) => {
            links.push(check(
                "association",
                Status::Problem,
                "cluster unknown",
                e.clone(),
                None,
            ));
            return None;
        }
    };
    match &pi.association {
        Err(e) => {
            links.push(check(
                "association",
                Status::Problem,
                "association lookup failed",
                format!("cannot list the Pod Identity associations of cluster {cluster}: {e}"),
                None,
            ));
            None
        }
        Ok(None) => {
            links.push(check(
                "association",
                Status::Problem,
                "no association",
                format!(
                    "the pod has Pod Identity's env, but cluster {cluster} has no association for {}/{}: eks-auth \
                     refuses its token",
                    who.ns, who.name
                ),
                Some(format!(
                    "kubectl irsa create --pod-identity --name {} -n {} --cluster {cluster} --attach-policy-arn <arn>",
                    who.name, who.ns
                )),
            ));
            None
        }
        Ok(Some(a)) => {
            links.push(check(
                "association",
                Status::Ok,
                "association",
                format!(
                    "association {} binds {}/{} to {}",
                    a.id, a.namespace, a.service_account, a.role_arn
                ),
                None,
            ));
            Some(a.clone())
        }
    }
}

fn spec_link(facts: &PodChainFacts, links: &mut Vec<Check>) {
    let spec = &facts.pod.pod_identity_spec;
    let token_file = pod_identity_token_file();
    let mut problems = Vec::new();
    match &spec.volume {
        None => problems.push(format!("no {POD_IDENTITY_TOKEN_VOLUME} volume")),
        Some(v) if v.audience.as_deref() != Some(POD_IDENTITY_AUDIENCE) => problems.push(format!(
            "the {POD_IDENTITY_TOKEN_VOLUME} volume's audience is {:?}, eks-auth accepts {POD_IDENTITY_AUDIENCE}",
            v.audience.as_deref().unwrap_or("")
        )),
        Some(_) => {}
    }
    for c in spec.containers.iter().filter(|c| !c.skipped) {
        match c.full_uri.as_deref() {
            None => problems.push(format!(
                "container {} has no {ENV_CONTAINER_CREDENTIALS_FULL_URI}",
                c.name
            )),
            Some(uri) if uri != CONTAINER_CREDENTIALS_FULL_URI => problems.push(format!(
                "container {} has {ENV_CONTAINER_CREDENTIALS_FULL_URI}={uri}, the agent answers at \
                 {CONTAINER_CREDENTIALS_FULL_URI}",
                c.name
            )),
            Some(_) => {}
        }
        match c.token_file.as_deref() {
            None => problems.push(format!("container {} has no {ENV_CONTAINER_AUTHORIZATION_TOKEN_FILE}", c.name)),
            Some(f) if f != token_file => problems.push(format!(
                "container {} has {ENV_CONTAINER_AUTHORIZATION_TOKEN_FILE}={f}, the volume is mounted at {token_file}",
                c.name
            )),
            Some(_) => {}
        }
        if !c.mounted {
            problems.push(format!(
                "container {} does not mount {POD_IDENTITY_TOKEN_VOLUME}",
                c.name
            ));
        }
    }
    if problems.is_empty() {
        links.push(check(
            "pod-spec",
            Status::Ok,
            "mutated",
            format!(
                "every container has {ENV_CONTAINER_CREDENTIALS_FULL_URI}={CONTAINER_CREDENTIALS_FULL_URI}, \
                 {ENV_CONTAINER_AUTHORIZATION_TOKEN_FILE}={token_file} and the {POD_IDENTITY_TOKEN_VOLUME} mount \
                 (audience {POD_IDENTITY_AUDIENCE})"
            ),
            None,
        ));
    } else {
        links.push(check(
            "pod-spec",
            Status::Problem,
            "pod not mutated",
            format!("pod {}: {}", facts.pod.name, problems.join("; ")),
            Some(format!(
                "recreate the pod so the webhook mutates it (kubectl delete pod {} -n {}, or kubectl rollout restart \
                 its workload)",
                facts.pod.name, facts.namespace
            )),
        ));
    }
}

fn token_link(
    facts: &PodChainFacts,
    who: &Who,
    pi: &PodIdentityChainFacts,
    links: &mut Vec<Check>,
) -> Option<Claims> {
    let claims = match &pi.token {
        Ok(c) => c.clone(),
        Err(e) => {
            links.push(check(
                "token",
                Status::Problem,
                "no token",
                format!(
                    "cannot get a token for pod {} (audience {POD_IDENTITY_AUDIENCE}): {e}",
                    facts.pod.name
                ),
                None,
            ));
            return None;
        }
    };
    links.push(claims_link(
        &claims,
        &who.subject,
        POD_IDENTITY_AUDIENCE,
        pi.issuer.as_deref().ok(),
        |issuer| {
            format!("the EKS cluster's issuer is {issuer}: eks-auth verifies the token against it")
        },
        &facts.pod.name,
    ));
    Some(claims)
}

/// The session tags eks-auth puts on the pod's credentials (EKS User Guide, "Grant Pods access to AWS resources
/// based on tags"), from the association and the pod; none when the association disables them.
pub fn session_tags(a: &Association, facts: &PodChainFacts) -> Vec<(String, String)> {
    if a.disable_session_tags {
        return Vec::new();
    }
    // arn:aws:eks:<region>:<account>:podidentityassociation/<cluster>/<id> → the cluster's ARN.
    let cluster_arn = a
        .arn
        .parse::<irsa_policy::Arn>()
        .map(|arn| {
            format!(
                "arn:{}:eks:{}:{}:cluster/{}",
                arn.partition, arn.region, arn.account, a.cluster
            )
        })
        .unwrap_or_default();
    vec![
        (TAG_CLUSTER_ARN.into(), cluster_arn),
        (TAG_CLUSTER_NAME.into(), a.cluster.clone()),
        (TAG_NAMESPACE.into(), a.namespace.clone()),
        (TAG_SERVICE_ACCOUNT.into(), a.service_account.clone()),
        (TAG_POD_NAME.into(), facts.pod.name.clone()),
        (TAG_POD_UID.into(), facts.pod.uid.clone()),
    ]
}

/// Push the links of a Pod Identity pod; the simulation when asked and possible.
pub(crate) fn pod_identity_links(
    facts: &PodChainFacts,
    pi: &PodIdentityChainFacts,
    who: &Who,
    links: &mut Vec<Check>,
) -> (Option<Claims>, Option<Simulation>) {
    let association = association_link(who, pi, links);
    spec_link(facts, links);
    let claims = token_link(facts, who, pi, links);
    let arn = association.as_ref().map(|a| a.role_arn.clone());
    let found = checks::role(who, &pi.role, arn.as_deref(), links);
    match &found {
        None => links.push(check("trust", Status::Skipped, "", "needs the role", None)),
        Some(f) => links.push(match admits_pod_identity(&f.role.trust) {
            Ok(()) => check(
                "trust",
                Status::Ok,
                "trust ok",
                format!("role {} trusts pods.eks.amazonaws.com for sts:AssumeRole and sts:TagSession", f.role.name),
                None,
            ),
            Err(why) => check(
                "trust",
                Status::Problem,
                "trust lacks pods.eks.amazonaws.com",
                format!("role {}: {why}", f.role.name),
                Some(format!(
                    "kubectl irsa create --pod-identity --name {} -n {} --cluster {} --attach-role-arn {} --add-trust",
                    who.name,
                    who.ns,
                    pi.cluster.as_deref().unwrap_or("<cluster>"),
                    f.role.arn
                )),
            ),
        }),
    }
    links.push(agent_check(
        &pi.agent,
        pi.cluster.as_deref().unwrap_or("<cluster>"),
    ));
    checks::policies(who, found.as_ref(), links);
    let mut simulation = None;
    if let (Some((action, resource)), Some(found), Some(a)) =
        (&facts.simulate, found.as_ref(), association.as_ref())
    {
        let tags = session_tags(a, facts);
        let s = simulate_with_tags(
            &pi.documents,
            pi.boundary.as_ref(),
            &found.role.arn,
            action,
            resource,
            &tags,
        );
        let tag_note = if tags.is_empty() {
            "session tags disabled".to_string()
        } else {
            format!(
                "with session tags {}",
                tags.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        links.push(check(
            "simulation",
            if s.allowed { Status::Ok } else { Status::Problem },
            s.decision.clone(),
            format!("{action} on {resource} {tag_note}: {} ({})", s.decision, s.explanation),
            (!s.allowed).then(|| format!(
                "attach a policy allowing {action} on {resource} to role {}, or lift the deny / boundary that decided",
                found.role.arn
            )),
        ));
        simulation = Some(s);
    }
    (claims, simulation)
}
