//! The links of [`super::pod_chain`] that are the pod's own: its mutated spec, the token the API server issues
//! for it, the provider's thumbprint, and the trust policy evaluated with the token's claims.

use irsa_names::{ENV_ROLE_ARN, ENV_TOKEN_FILE, STS_AUDIENCE, TOKEN_VOLUME};
use irsa_policy::{trust_admits, PolicyDocument};
use serde_json::Value;

use super::pod_chain::{Claims, PodChainFacts};
use super::{check, checks, Check, ProviderFacts, Status, Who};

pub(super) fn spec_link(
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

pub(super) fn token_link(
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
    links.push(claims_link(
        &claims,
        subject,
        audience,
        facts.issuer.as_deref().ok(),
        |issuer| {
            format!("the cluster's issuer is {issuer} (kube-apiserver --service-account-issuer)")
        },
        &facts.pod.name,
    ));
    Some(claims)
}

/// The token link from a pod's token claims: the right subject and audience, the issuer `issuer` (when
/// known; `whose_issuer` says whose issuer it is and who checks it), and bound to `pod`.
pub(super) fn claims_link(
    claims: &Claims,
    subject: &str,
    audience: &str,
    issuer: Option<&str>,
    whose_issuer: impl Fn(&str) -> String,
    pod: &str,
) -> Check {
    let mut problems = Vec::new();
    if claims.sub != subject {
        problems.push(format!("sub is {}, expected {subject}", claims.sub));
    }
    if !claims.aud.iter().any(|a| a == audience) {
        problems.push(format!("aud is {:?}, expected {audience}", claims.aud));
    }
    if let Some(issuer) = issuer {
        if irsa_policy::issuer_host_path(issuer) != irsa_policy::issuer_host_path(&claims.iss) {
            problems.push(format!(
                "iss is {}, but {}",
                claims.iss,
                whose_issuer(issuer)
            ));
        }
    }
    let bound = claims
        .kubernetes
        .pointer("/pod/name")
        .and_then(Value::as_str);
    if bound != Some(pod) {
        problems.push(format!("the token is not bound to pod {pod}"));
    }
    let message = format!(
        "iss {}, sub {}, aud {}, valid {}s, bound to pod {}",
        claims.iss,
        claims.sub,
        claims.aud.join(","),
        claims.exp - claims.iat,
        bound.unwrap_or("-")
    );
    if problems.is_empty() {
        check("token", Status::Ok, "token ok", message, None)
    } else {
        check(
            "token",
            Status::Problem,
            "token claims wrong",
            format!("{message}: {}", problems.join("; ")),
            None,
        )
    }
}

pub(super) fn thumbprint_link(facts: &PodChainFacts, links: &mut Vec<Check>) {
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

/// The trust policy evaluated with the token's own `sub` and `aud` against the provider its `iss` names.
pub(super) fn trust_link(
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
    let provider = found.account.provider_arn(&claims.iss);
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
