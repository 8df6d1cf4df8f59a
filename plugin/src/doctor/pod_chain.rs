//! `describe pod/NAME`: the whole chain STS walks for one pod, link by link, naming the first that fails:
//! the service account's annotation, the pod's spec as the webhook mutated it, the claims of a token the API
//! server issues for this pod (TokenRequest bound to the pod, with its volume's audience and expiry; the
//! pod's own token is never read), the IAM OIDC provider for the token's issuer, the role's trust policy
//! evaluated with those claims, and the role's permissions (with `--action`, an offline simulation).

use std::collections::BTreeMap;

use irsa_names::{AUDIENCE_ANNOTATION, ENV_ROLE_ARN, ENV_TOKEN_FILE, STS_AUDIENCE, TOKEN_VOLUME};
use irsa_policy::{provider_arn, service_account_subject, trust_admits, PolicyDocument};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::pod_spec::PodSpecFacts;
use super::simulate::{simulate, Simulation};
use super::{check, checks, Check, ProviderFacts, RoleFacts, Status, Verdict, Who};

/// The claims of a token (never the token itself).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(default)]
    pub iss: String,
    #[serde(default)]
    pub sub: String,
    #[serde(default, deserialize_with = "string_or_list")]
    pub aud: Vec<String>,
    #[serde(default)]
    pub exp: i64,
    #[serde(default)]
    pub iat: i64,
    #[serde(default, rename = "kubernetes.io")]
    pub kubernetes: Value,
}

fn string_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => vec![s],
        Value::Array(items) => items
            .into_iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    })
}

/// How the pod gets credentials. IRSA is checked link by link. Pod Identity is recognised and reported as not
/// checked: the emulator serves its associations and eks-auth now, but the plugin does not make Pod Identity
/// bindings yet; checking that chain means gathering the association (EKS ListPodIdentityAssociations) and
/// judging the trust `Service: pods.eks.amazonaws.com` in a `pod_identity_links` beside [`diagnose_pod`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Binding {
    Irsa,
    PodIdentity,
}

/// Everything the pod's chain is judged on.
#[derive(Debug, Clone)]
pub struct PodChainFacts {
    pub namespace: String,
    pub pod: PodSpecFacts,
    /// `None`: the service account does not exist.
    pub sa_annotations: Option<BTreeMap<String, String>>,
    /// The cluster's issuer as the plugin knows it (flags or discovery), to compare with `iss`.
    pub issuer: Result<String, String>,
    /// A token for the pod, or why none could be had.
    pub token: Result<Claims, String>,
    /// The provider named by the token's `iss`, in the role's account.
    pub provider: ProviderFacts,
    /// The thumbprint of the issuer's TLS chain right now, when it could be fetched.
    pub live_thumbprint: Option<Result<String, String>>,
    pub role: RoleFacts,
    /// Identity policy documents by name (attached ARN or `inline <name>`), for the simulation.
    pub documents: Vec<(String, Value)>,
    pub boundary: Option<(String, Value)>,
    /// `--action`, `--resource`.
    pub simulate: Option<(String, String)>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodDiagnosis {
    pub namespace: String,
    pub pod: String,
    pub service_account: String,
    pub binding: Binding,
    pub verdict: Verdict,
    /// The first link that fails, if any.
    pub failing_link: Option<&'static str>,
    pub links: Vec<Check>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Claims>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simulation: Option<Simulation>,
}

fn spec_link(
    facts: &PodChainFacts,
    want_arn: Option<&str>,
    audience: &str,
    links: &mut Vec<Check>,
) {
    let pod = &facts.pod;
    let mut problems = Vec::new();
    match &pod.volume {
        None => problems.push(format!("no {TOKEN_VOLUME} volume")),
        Some(v) => {
            if v.audience.as_deref().unwrap_or(STS_AUDIENCE) != audience {
                problems.push(format!(
                    "the {TOKEN_VOLUME} volume's audience is {:?}, the service account asks for {audience:?}",
                    v.audience.as_deref().unwrap_or("")
                ));
            }
        }
    }
    for c in pod.containers.iter().filter(|c| !c.skipped) {
        match (&c.role_arn, want_arn) {
            (None, _) => problems.push(format!("container {} has no {ENV_ROLE_ARN}", c.name)),
            (Some(env), Some(want)) if env != want => problems.push(format!(
                "container {} has {ENV_ROLE_ARN}={env}, the annotation now says {want} (the pod predates it)",
                c.name
            )),
            _ => {}
        }
        if c.token_file.is_none() {
            problems.push(format!("container {} has no {ENV_TOKEN_FILE}", c.name));
        }
        if !c.mounted {
            problems.push(format!(
                "container {} does not mount {TOKEN_VOLUME}",
                c.name
            ));
        }
    }
    if problems.is_empty() {
        let v = pod.volume.as_ref();
        links.push(check(
            "pod-spec",
            Status::Ok,
            "mutated",
            format!(
                "every container has {ENV_ROLE_ARN}, {ENV_TOKEN_FILE} and the {TOKEN_VOLUME} mount; token audience \
                 {audience}, expiry {}s",
                v.and_then(|v| v.expiration_seconds).unwrap_or(86400)
            ),
            None,
        ));
    } else {
        links.push(check(
            "pod-spec",
            Status::Problem,
            "pod not mutated",
            format!("pod {}: {}", pod.name, problems.join("; ")),
            Some(format!(
                "recreate the pod so the webhook mutates it (kubectl delete pod {} -n {}, or kubectl rollout restart \
                 its workload); check the webhook with kubectl get mutatingwebhookconfigurations",
                pod.name, facts.namespace
            )),
        ));
    }
}

fn token_link(
    facts: &PodChainFacts,
    subject: &str,
    audience: &str,
    links: &mut Vec<Check>,
) -> Option<Claims> {
    let claims = match &facts.token {
        Ok(c) => c.clone(),
        Err(e) => {
            links.push(check(
                "token",
                Status::Problem,
                "no token",
                format!("cannot get a token for pod {}: {e}", facts.pod.name),
                Some("the API server must allow TokenRequest for this service account (create serviceaccounts/token)".into()),
            ));
            return None;
        }
    };
    let mut problems = Vec::new();
    if claims.sub != subject {
        problems.push(format!("sub is {}, expected {subject}", claims.sub));
    }
    if !claims.aud.iter().any(|a| a == audience) {
        problems.push(format!("aud is {:?}, expected {audience}", claims.aud));
    }
    if let Ok(issuer) = &facts.issuer {
        if irsa_policy::issuer_host_path(issuer) != irsa_policy::issuer_host_path(&claims.iss) {
            problems.push(format!(
                "iss is {}, but the cluster's issuer is {issuer} (kube-apiserver --service-account-issuer)",
                claims.iss
            ));
        }
    }
    let bound = claims
        .kubernetes
        .pointer("/pod/name")
        .and_then(Value::as_str);
    if bound != Some(facts.pod.name.as_str()) {
        problems.push(format!("the token is not bound to pod {}", facts.pod.name));
    }
    let lifetime = claims.exp - claims.iat;
    let message = format!(
        "iss {}, sub {}, aud {}, valid {lifetime}s, bound to pod {}",
        claims.iss,
        claims.sub,
        claims.aud.join(","),
        bound.unwrap_or("-")
    );
    if problems.is_empty() {
        links.push(check("token", Status::Ok, "token ok", message, None));
    } else {
        links.push(check(
            "token",
            Status::Problem,
            "token claims wrong",
            format!("{message}: {}", problems.join("; ")),
            None,
        ));
    }
    Some(claims)
}

fn thumbprint_link(facts: &PodChainFacts, links: &mut Vec<Check>) {
    let (ProviderFacts::Found(p), Some(Ok(live))) = (&facts.provider, &facts.live_thumbprint)
    else {
        return;
    };
    if p.thumbprints.iter().any(|t| t.eq_ignore_ascii_case(live)) {
        links.push(check(
            "oidc-provider",
            Status::Ok,
            "thumbprint ok",
            format!("thumbprint {live} of the issuer's TLS chain is listed"),
            None,
        ));
    } else {
        links.push(check(
            "oidc-provider",
            Status::Warning,
            "thumbprint differs",
            format!(
                "the issuer's TLS chain now has thumbprint {live}; the provider lists {} (AWS ignores thumbprints for \
                 issuers whose CA it trusts, others fail with InvalidIdentityToken)",
                p.thumbprints.join(", ")
            ),
            Some(format!("aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn {} --thumbprint-list {live}", p.arn)),
        ));
    }
}

/// Judge the chain.
pub fn diagnose_pod(facts: &PodChainFacts) -> PodDiagnosis {
    let (ns, sa) = (facts.namespace.as_str(), facts.pod.service_account.as_str());
    let empty = BTreeMap::new();
    let annotations = facts.sa_annotations.as_ref().unwrap_or(&empty);
    let audience = annotations
        .get(AUDIENCE_ANNOTATION)
        .cloned()
        .unwrap_or_else(|| STS_AUDIENCE.into());
    let who = Who {
        ns,
        name: sa,
        subject: service_account_subject(ns, sa),
        audience: audience.clone(),
    };
    let mut links = Vec::new();
    let pod_identity = facts.pod.containers.iter().any(|c| c.pod_identity);
    let binding = if pod_identity && facts.pod.volume.is_none() {
        Binding::PodIdentity
    } else {
        Binding::Irsa
    };
    let mut claims = None;
    let mut simulation = None;
    if binding == Binding::PodIdentity {
        links.push(check(
            "binding",
            Status::Skipped,
            "pod identity",
            "the pod gets credentials through EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_FULL_URI); its chain is not \
             checked yet",
            None,
        ));
    } else if facts.sa_annotations.is_none() {
        links.push(check(
            "annotation",
            Status::Problem,
            "service account missing",
            format!("the pod's service account {ns}/{sa} does not exist"),
            Some(format!("kubectl irsa create --name {sa} -n {ns}")),
        ));
    } else {
        let arn = checks::annotation(&who, annotations, &mut links);
        spec_link(facts, arn.as_deref(), &audience, &mut links);
        claims = token_link(facts, &who.subject, &audience, &mut links);
        let found = checks::role(&who, &facts.role, arn.as_deref(), &mut Vec::new());
        let iss = claims.as_ref().map(|c| c.iss.clone());
        let issuer = iss
            .clone()
            .ok_or_else(|| "no token to read the issuer from".to_string());
        checks::provider(&who, &issuer, &facts.provider, &mut links);
        thumbprint_link(facts, &mut links);
        checks::role(&who, &facts.role, arn.as_deref(), &mut links);
        trust_link(&who, found.as_ref(), claims.as_ref(), &mut links);
        checks::policies(&who, found.as_ref(), &mut links);
        if let (Some((action, resource)), Some(found)) = (&facts.simulate, found.as_ref()) {
            let s = simulate(
                &facts.documents,
                facts.boundary.as_ref(),
                &found.role.arn,
                action,
                resource,
            );
            links.push(check(
                "simulation",
                if s.allowed { Status::Ok } else { Status::Problem },
                s.decision.clone(),
                format!("{action} on {resource}: {} ({})", s.decision, s.explanation),
                (!s.allowed).then(|| format!(
                    "attach a policy allowing {action} on {resource} (kubectl irsa create --name {sa} -n {ns} \
                     --attach-role-arn {} --attach-policy-arn <arn>), or lift the deny / boundary that decided",
                    found.role.arn
                )),
            ));
            simulation = Some(s);
        }
    }
    let failing_link = links
        .iter()
        .find(|c| c.status == Status::Problem)
        .map(|c| c.check);
    let verdict = if failing_link.is_some() {
        Verdict::Problems
    } else if links.iter().any(|c| c.status == Status::Warning) {
        Verdict::Warnings
    } else {
        Verdict::Ok
    };
    PodDiagnosis {
        namespace: ns.to_string(),
        pod: facts.pod.name.clone(),
        service_account: sa.to_string(),
        binding,
        verdict,
        failing_link,
        links,
        claims,
        simulation,
    }
}

/// The trust policy evaluated with the token's own `sub` and `aud` against the provider its `iss` names.
fn trust_link(
    who: &Who,
    found: Option<&checks::Found>,
    claims: Option<&Claims>,
    links: &mut Vec<Check>,
) {
    let (Some(found), Some(claims)) = (found, claims) else {
        links.push(check(
            "trust",
            Status::Skipped,
            "",
            "needs the role and a token",
            None,
        ));
        return;
    };
    let provider = provider_arn(&found.account, &claims.iss);
    let audience = claims
        .aud
        .iter()
        .find(|a| **a == who.audience)
        .or(claims.aud.first())
        .cloned()
        .unwrap_or_default();
    let evaluation = match PolicyDocument::from_value(found.role.trust.clone()) {
        Ok(doc) => trust_admits(&doc, &provider, &claims.sub, &audience),
        Err(e) => {
            links.push(check(
                "trust",
                Status::Problem,
                "trust unreadable",
                format!("{e}"),
                None,
            ));
            return;
        }
    };
    if evaluation.is_allowed() {
        links.push(check(
            "trust",
            Status::Ok,
            "trust ok",
            format!(
                "the token's claims (sub {}, aud {audience}) are admitted: {}",
                claims.sub,
                evaluation.explain()
            ),
            None,
        ));
    } else {
        links.push(check(
            "trust",
            Status::Problem,
            "trust denies",
            format!(
                "role {} refuses the token's claims: {}",
                found.role.name,
                evaluation.explain()
            ),
            Some(format!(
                "kubectl irsa create --name {} -n {} --attach-role-arn {} --add-trust",
                who.name, who.ns, found.role.arn
            )),
        ));
    }
}

/// The report as text.
pub fn render_pod(d: &PodDiagnosis) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "Pod:              {}/{}", d.namespace, d.pod);
    let _ = writeln!(out, "Service account:  {}", d.service_account);
    let _ = writeln!(out, "Chain:");
    let width = d.links.iter().map(|c| c.check.len()).max().unwrap_or(0);
    for c in &d.links {
        let _ = writeln!(
            out,
            "  {:<9} {:<width$}  {}",
            format!("[{}]", c.status.label()),
            c.check,
            c.message
        );
        if let Some(fix) = &c.fix {
            let _ = writeln!(out, "  {:<9} {:<width$}  fix: {fix}", "", "");
        }
    }
    if let Some(s) = &d.simulation {
        let _ = writeln!(
            out,
            "Simulation:       {} on {}: {}",
            s.action, s.resource, s.decision
        );
        for by in &s.deciding {
            let _ = writeln!(out, "  decided by {by}");
        }
        let _ = writeln!(out, "  (identity policies and permissions boundary only: SCPs, session and resource policies are not known offline)");
    }
    match d.failing_link {
        None => {
            let _ = writeln!(out, "Verdict: OK - every link holds");
        }
        Some(link) => {
            let _ = writeln!(out, "Verdict: the chain breaks at link {link:?}");
        }
    }
    out
}

#[cfg(test)]
#[path = "pod_chain_tests.rs"]
mod tests;
