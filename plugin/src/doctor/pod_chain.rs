//! `describe pod/NAME`: the whole chain STS walks for one pod, link by link, naming the first that fails:
//! the service account's annotation, the pod's spec as the webhook mutated it, the claims of a token the API
//! server issues for this pod (TokenRequest bound to the pod, with its volume's audience and expiry; the
//! pod's own token is never read), the IAM OIDC provider for the token's issuer, the role's trust policy
//! evaluated with those claims, and the role's permissions (with `--action`, an offline simulation).

use std::collections::BTreeMap;

use irsa_names::{AUDIENCE_ANNOTATION, STS_AUDIENCE};
use irsa_policy::service_account_subject;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::pod_identity_chain::{pod_identity_links, PodIdentityChainFacts};
use super::pod_links::{spec_link, thumbprint_link, token_link, trust_link};
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

/// How the pod gets credentials, each checked link by link: IRSA here, Pod Identity in
/// [`super::pod_identity_chain`]. A pod with both IRSA's token volume and Pod Identity's env counts as IRSA:
/// the SDKs' default chain tries web identity first.
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
    /// For a pod bound by EKS Pod Identity: what its chain is judged on (`None`: not gathered).
    pub pod_identity: Option<PodIdentityChainFacts>,
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
        let pi_who = Who {
            ns,
            name: sa,
            subject: who.subject.clone(),
            audience: irsa_names::POD_IDENTITY_AUDIENCE.to_string(),
        };
        match &facts.pod_identity {
            Some(pi) => (claims, simulation) = pod_identity_links(facts, pi, &pi_who, &mut links),
            None => links.push(check(
                "binding",
                Status::Skipped,
                "pod identity",
                "the pod gets credentials through EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_FULL_URI); its chain \
                 was not gathered",
                None,
            )),
        }
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
