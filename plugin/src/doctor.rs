//! The doctor behind `describe` and `list`: facts gathered from AWS and Kubernetes in, checks with a
//! verdict and a fix for each problem out. Pure functions: the I/O is in `commands::describe`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use irsa_policy::{
    provider_arn, service_account_subject, trust_admits, PolicyDocument, DEFAULT_AUDIENCE,
};
use serde::Serialize;
use serde_json::Value;

use crate::aws::{Provider, Role};
use crate::kube::{AUDIENCE_ANNOTATION, ROLE_ARN_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION};

/// The webhook's projected volume and environment.
pub const TOKEN_VOLUME: &str = "aws-iam-token";
pub const ENV_ROLE_ARN: &str = "AWS_ROLE_ARN";
pub const ENV_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";
pub const SKIP_CONTAINERS_ANNOTATION: &str = "eks.amazonaws.com/skip-containers";
pub const SKIP_POD_LABEL: &str = "eks.amazonaws.com/skip-pod-identity-webhook";

/// A service account as the doctor sees it.
#[derive(Debug, Clone, Default)]
pub struct SaFacts {
    pub namespace: String,
    pub name: String,
    pub annotations: BTreeMap<String, String>,
    pub managed: bool,
}

/// The role behind the annotation.
#[derive(Debug, Clone)]
pub enum RoleFacts {
    /// Not looked up (no usable annotation).
    NotChecked,
    /// The role is in another account than the credentials in use: it cannot be inspected.
    OtherAccount {
        role_account: String,
        caller_account: String,
    },
    Missing,
    Error(String),
    Found {
        role: Box<Role>,
        attached: Vec<String>,
        /// Attached policies that no longer exist.
        missing_policies: Vec<String>,
        inline: Vec<String>,
    },
}

/// The IAM OIDC provider for the cluster's issuer.
#[derive(Debug, Clone)]
pub enum ProviderFacts {
    NotChecked,
    Missing { arn: String },
    Error(String),
    Found(Provider),
}

/// A pod using the service account and what the webhook did to it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodFacts {
    pub name: String,
    /// Has the `aws-iam-token` volume.
    pub has_volume: bool,
    /// Containers lacking `AWS_ROLE_ARN` or `AWS_WEB_IDENTITY_TOKEN_FILE` (skip-containers excluded).
    pub containers_missing_env: Vec<String>,
    /// The `AWS_ROLE_ARN` the containers were given.
    pub role_arn_env: Option<String>,
    /// The pod opts out of the webhook.
    pub skipped: bool,
}

impl PodFacts {
    pub fn mutated(&self) -> bool {
        self.has_volume && self.containers_missing_env.is_empty()
    }

    /// Read what the webhook injects from a pod spec.
    pub fn from_pod(pod: &k8s_openapi::api::core::v1::Pod) -> PodFacts {
        let meta = &pod.metadata;
        let skipped = meta
            .labels
            .as_ref()
            .and_then(|l| l.get(SKIP_POD_LABEL))
            .is_some_and(|v| v != "false");
        let skip_containers: Vec<String> = meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(SKIP_CONTAINERS_ANNOTATION))
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default();
        let spec = pod.spec.as_ref();
        let has_volume = spec
            .and_then(|s| s.volumes.as_ref())
            .is_some_and(|v| v.iter().any(|v| v.name == TOKEN_VOLUME));
        let mut missing = Vec::new();
        let mut role_arn_env = None;
        let containers = spec
            .map(|s| {
                s.init_containers
                    .iter()
                    .flatten()
                    .chain(s.containers.iter())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for c in containers {
            if skip_containers.contains(&c.name) {
                continue;
            }
            let env = c.env.as_deref().unwrap_or_default();
            let get = |name: &str| env.iter().find(|e| e.name == name);
            match (get(ENV_ROLE_ARN), get(ENV_TOKEN_FILE)) {
                (Some(role), Some(_)) => {
                    if role_arn_env.is_none() {
                        role_arn_env = role.value.clone();
                    }
                }
                _ => missing.push(c.name.clone()),
            }
        }
        PodFacts {
            name: meta.name.clone().unwrap_or_default(),
            has_volume,
            containers_missing_env: missing,
            role_arn_env,
            skipped,
        }
    }
}

/// Everything the checks look at.
#[derive(Debug, Clone)]
pub struct Facts {
    pub sa: SaFacts,
    /// The cluster's issuer, or why it could not be determined.
    pub issuer: Result<String, String>,
    pub role: RoleFacts,
    pub provider: ProviderFacts,
    pub pods: Vec<PodFacts>,
    /// `--show-policies`: (policy, document).
    pub documents: Vec<(String, Value)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Skipped,
    Warning,
    Problem,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Skipped => "skipped",
            Status::Warning => "WARNING",
            Status::Problem => "PROBLEM",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub check: &'static str,
    pub status: Status,
    /// A few words for `list`'s STATUS column.
    pub short: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Ok,
    Warnings,
    Problems,
}

/// The doctor's report for one service account.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    pub namespace: String,
    pub name: String,
    pub role_arn: Option<String>,
    pub issuer: Option<String>,
    pub verdict: Verdict,
    pub checks: Vec<Check>,
    pub pods: Vec<PodFacts>,
    pub attached_policies: Vec<String>,
    pub inline_policies: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub policy_documents: BTreeMap<String, Value>,
}

impl Diagnosis {
    /// `OK`, or the first problem (else warning) in a few words.
    pub fn status(&self) -> String {
        let worst = self
            .checks
            .iter()
            .filter(|c| c.status == Status::Problem)
            .chain(self.checks.iter().filter(|c| c.status == Status::Warning))
            .next();
        match worst {
            None => "OK".into(),
            Some(c) => c.short.clone(),
        }
    }
}

fn check(
    name: &'static str,
    status: Status,
    short: impl Into<String>,
    message: impl Into<String>,
    fix: Option<String>,
) -> Check {
    Check {
        check: name,
        status,
        short: short.into(),
        message: message.into(),
        fix,
    }
}

/// Levenshtein distance, for annotation-key typos.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// An annotation key that is probably a misspelt `eks.amazonaws.com/role-arn`.
pub fn looks_like_role_arn_key(key: &str) -> bool {
    if key == ROLE_ARN_ANNOTATION {
        return false;
    }
    let lower = key.to_ascii_lowercase();
    distance(&lower, ROLE_ARN_ANNOTATION) <= 4
        || lower.ends_with("/role-arn")
        || lower.ends_with("/rolearn")
        || lower.ends_with("/role_arn")
}

/// Is this a well-formed IAM role ARN?
fn valid_role_arn(value: &str) -> bool {
    value.parse::<irsa_policy::Arn>().is_ok_and(|a| {
        a.service == "iam"
            && irsa_policy::is_account_id(&a.account)
            && a.resource.starts_with("role/")
    }) && irsa_policy::role_name_from_arn(value).is_some()
}

/// Run every check.
pub fn diagnose(facts: &Facts) -> Diagnosis {
    let sa = &facts.sa;
    let (ns, name) = (&sa.namespace, &sa.name);
    let subject = service_account_subject(ns, name);
    let mut checks = Vec::new();
    let audience = sa
        .annotations
        .get(AUDIENCE_ANNOTATION)
        .cloned()
        .unwrap_or_else(|| DEFAULT_AUDIENCE.to_string());

    // 1. The annotation.
    let role_arn = sa.annotations.get(ROLE_ARN_ANNOTATION).cloned();
    let typos: Vec<(&String, &String)> = sa
        .annotations
        .iter()
        .filter(|(k, _)| looks_like_role_arn_key(k))
        .collect();
    let usable_arn = match (&role_arn, typos.first()) {
        (None, Some((key, value))) => {
            checks.push(check(
                "annotation",
                Status::Problem,
                "annotation key typo",
                format!(
                    "no {ROLE_ARN_ANNOTATION} annotation; {key} looks like a misspelling of it, and the pod \
                     identity webhook ignores it"
                ),
                Some(format!(
                    "kubectl annotate serviceaccount {name} -n {ns} {key}- {ROLE_ARN_ANNOTATION}={value}"
                )),
            ));
            None
        }
        (None, None) => {
            checks.push(check(
                "annotation",
                Status::Problem,
                "not annotated",
                format!("service account has no {ROLE_ARN_ANNOTATION} annotation"),
                Some(format!(
                    "kubectl irsa create --name {name} -n {ns} (new role) or kubectl irsa annotate {name} -n {ns} \
                     --role-arn <arn> (existing role)"
                )),
            ));
            None
        }
        (Some(value), _) if value.trim() != value || !valid_role_arn(value) => {
            checks.push(check(
                "annotation",
                Status::Problem,
                "annotation is not a role ARN",
                format!(
                    "{ROLE_ARN_ANNOTATION} is {value:?}, which is not an IAM role ARN \
                     (arn:aws:iam::<12-digit account>:role/<name>)"
                ),
                Some(format!(
                    "kubectl irsa annotate {name} -n {ns} --role-arn arn:aws:iam::<account>:role/<name> --overwrite"
                )),
            ));
            None
        }
        (Some(value), _) => {
            checks.push(check(
                "annotation",
                Status::Ok,
                "annotated",
                format!("{ROLE_ARN_ANNOTATION}: {value}"),
                None,
            ));
            for (key, _) in &typos {
                checks.push(check(
                    "annotation",
                    Status::Warning,
                    "stray annotation",
                    format!("annotation {key} looks like a misspelt {ROLE_ARN_ANNOTATION} and has no effect"),
                    Some(format!("kubectl annotate serviceaccount {name} -n {ns} {key}-")),
                ));
            }
            Some(value.clone())
        }
    };
    if let Some(exp) = sa.annotations.get(TOKEN_EXPIRATION_ANNOTATION) {
        match exp.parse::<i64>() {
            Ok(s) if s >= 600 => {}
            Ok(s) => checks.push(check(
                "annotation",
                Status::Warning,
                "token expiration clamped",
                format!("{TOKEN_EXPIRATION_ANNOTATION} is {s}s; the webhook raises it to 600s"),
                Some(format!(
                    "kubectl annotate serviceaccount {name} -n {ns} --overwrite {TOKEN_EXPIRATION_ANNOTATION}=600"
                )),
            )),
            Err(_) => checks.push(check(
                "annotation",
                Status::Warning,
                "token expiration invalid",
                format!("{TOKEN_EXPIRATION_ANNOTATION} is {exp:?}, not a number of seconds; the webhook ignores it"),
                Some(format!(
                    "kubectl annotate serviceaccount {name} -n {ns} --overwrite {TOKEN_EXPIRATION_ANNOTATION}=86400"
                )),
            )),
        }
    }

    let role_account = usable_arn
        .as_deref()
        .and_then(irsa_policy::account_from_arn)
        .unwrap_or_default();
    let role_name = usable_arn
        .as_deref()
        .and_then(irsa_policy::role_name_from_arn)
        .unwrap_or_default();

    // 2. The role.
    let mut role_found = None;
    let (mut attached, mut inline) = (Vec::new(), Vec::new());
    match &facts.role {
        RoleFacts::NotChecked => checks.push(check(
            "role",
            Status::Skipped,
            "",
            "no role ARN to check",
            None,
        )),
        RoleFacts::OtherAccount {
            role_account,
            caller_account,
        } => checks.push(check(
            "role",
            Status::Warning,
            "role in another account",
            format!(
                "role is in account {role_account} but the AWS credentials are for {caller_account}: it cannot be \
                 inspected (the trust policy must name an OIDC provider in {role_account})"
            ),
            Some(format!("run describe with credentials for account {role_account} (--profile)")),
        )),
        RoleFacts::Missing => checks.push(check(
            "role",
            Status::Problem,
            "role not found",
            format!("role {role_name} does not exist in account {role_account}"),
            Some(format!(
                "create it: kubectl irsa create --name {name} -n {ns} --role-name {role_name} \
                 --override-existing-serviceaccounts (or correct the annotation: kubectl irsa annotate {name} -n {ns} \
                 --role-arn <arn> --overwrite)"
            )),
        )),
        RoleFacts::Error(e) => checks.push(check(
            "role",
            Status::Problem,
            "role lookup failed",
            format!("cannot read role {role_name}: {e}"),
            None,
        )),
        RoleFacts::Found {
            role,
            attached: a,
            missing_policies,
            inline: i,
        } => {
            let mut message = format!("role {} exists", role.arn);
            if role.is_managed() {
                message.push_str(" (managed by kubectl-irsa)");
            }
            if let Some(b) = &role.permissions_boundary {
                let _ = write!(message, "; permissions boundary {b}");
            }
            if Some(&role.arn) != usable_arn.as_ref() {
                checks.push(check(
                    "role",
                    Status::Warning,
                    "role ARN differs",
                    format!(
                        "the annotation says {} but the role's ARN is {} (different path?)",
                        usable_arn.as_deref().unwrap_or_default(),
                        role.arn
                    ),
                    Some(format!(
                        "kubectl irsa annotate {name} -n {ns} --role-arn {} --overwrite",
                        role.arn
                    )),
                ));
            }
            checks.push(check("role", Status::Ok, "role exists", message, None));
            attached = a.clone();
            inline = i.clone();
            role_found = Some((role, missing_policies));
        }
    }

    // 3. Issuer and OIDC provider.
    let issuer = facts.issuer.as_ref().ok().cloned();
    match (&facts.issuer, &facts.provider) {
        (Err(e), _) => checks.push(check(
            "oidc-provider",
            Status::Problem,
            "issuer unknown",
            format!("cannot determine the cluster's OIDC issuer: {e}"),
            Some("pass --oidc-issuer URL or --cluster NAME".into()),
        )),
        (Ok(_), ProviderFacts::NotChecked) => checks.push(check(
            "oidc-provider",
            Status::Skipped,
            "",
            "no account to look the provider up in",
            None,
        )),
        (Ok(url), ProviderFacts::Missing { arn }) => checks.push(check(
            "oidc-provider",
            Status::Problem,
            "no OIDC provider",
            format!("the account has no IAM OIDC provider for the cluster's issuer {url} ({arn} does not exist): STS \
                     rejects every token from this cluster"),
            Some(format!("kubectl irsa oidc associate --oidc-issuer {url}")),
        )),
        (Ok(_), ProviderFacts::Error(e)) => checks.push(check(
            "oidc-provider",
            Status::Problem,
            "provider lookup failed",
            format!("cannot read the IAM OIDC provider: {e}"),
            None,
        )),
        (Ok(url), ProviderFacts::Found(p)) => {
            if p.client_ids.iter().any(|c| c == &audience) {
                checks.push(check(
                    "oidc-provider",
                    Status::Ok,
                    "provider ok",
                    format!("{} trusts issuer {url} for audience {audience}", p.arn),
                    None,
                ));
            } else {
                checks.push(check(
                    "oidc-provider",
                    Status::Problem,
                    "audience not allowed",
                    format!(
                        "{} does not list audience {audience} (client IDs: {}): STS answers \"Incorrect token \
                         audience\"",
                        p.arn,
                        p.client_ids.join(", ")
                    ),
                    Some(format!(
                        "kubectl irsa oidc associate --oidc-issuer {url} --audience {audience}"
                    )),
                ));
            }
        }
    }
    if let Some(url) = &issuer {
        let host = irsa_policy::issuer_host_path(url);
        let host = host.split(['/', ':']).next().unwrap_or_default();
        if host.ends_with(".svc")
            || host.ends_with(".cluster.local")
            || (!host.contains('.') && host != "localhost")
        {
            checks.push(check(
                "oidc-provider",
                Status::Warning,
                "issuer not public",
                format!(
                    "the issuer {url} looks cluster-internal: STS must fetch {url}/.well-known/openid-configuration"
                ),
                Some(
                    "serve the discovery document and JWKS at a public HTTPS URL and set kube-apiserver \
                     --service-account-issuer to it"
                        .into(),
                ),
            ));
        }
    }

    // 4. Trust.
    match (&role_found, &issuer) {
        (Some((role, _)), Some(url)) => {
            let provider = provider_arn(&role_account, url);
            match PolicyDocument::from_value(role.trust.clone()) {
                Ok(doc) => {
                    let e = trust_admits(&doc, &provider, &subject, &audience);
                    if e.is_allowed() {
                        checks.push(check(
                            "trust",
                            Status::Ok,
                            "trust ok",
                            format!(
                                "trust policy admits {subject} with audience {audience} ({})",
                                e.explain()
                            ),
                            None,
                        ));
                    } else {
                        checks.push(check(
                            "trust",
                            Status::Problem,
                            "trust denies",
                            format!(
                                "trust policy of role {} does not admit {subject} from {provider}: {}",
                                role.name,
                                e.explain()
                            ),
                            Some(format!(
                                "kubectl irsa create --name {name} -n {ns} --attach-role-arn {} --add-trust{}",
                                role.arn,
                                if audience == DEFAULT_AUDIENCE {
                                    String::new()
                                } else {
                                    format!(" --audience {audience}")
                                }
                            )),
                        ));
                    }
                }
                Err(e) => checks.push(check(
                    "trust",
                    Status::Problem,
                    "trust unreadable",
                    format!("trust policy of role {} cannot be parsed: {e}", role.name),
                    None,
                )),
            }
        }
        _ => checks.push(check(
            "trust",
            Status::Skipped,
            "",
            "needs the role and the issuer",
            None,
        )),
    }

    // 5. Policies.
    match &role_found {
        Some((role, missing)) => {
            for arn in missing.iter() {
                checks.push(check(
                    "policies",
                    Status::Problem,
                    "policy missing",
                    format!("policy {arn} is attached to role {} but does not exist", role.name),
                    Some(format!(
                        "aws iam detach-role-policy --role-name {} --policy-arn {arn}, then attach the right one",
                        role.name
                    )),
                ));
            }
            if attached.is_empty() && inline.is_empty() {
                checks.push(check(
                    "policies",
                    Status::Problem,
                    "no policies",
                    format!(
                        "role {} has no attached or inline policies: pods get credentials that allow nothing",
                        role.name
                    ),
                    Some(format!(
                        "kubectl irsa create --name {name} -n {ns} --attach-role-arn {} --attach-policy-arn <arn> \
                         (or: aws iam attach-role-policy --role-name {} --policy-arn <arn>)",
                        role.arn, role.name
                    )),
                ));
            } else if missing.is_empty() {
                checks.push(check(
                    "policies",
                    Status::Ok,
                    "policies ok",
                    format!(
                        "{} attached{}{}, {} inline{}{}",
                        attached.len(),
                        if attached.is_empty() { "" } else { ": " },
                        attached.join(", "),
                        inline.len(),
                        if inline.is_empty() { "" } else { ": " },
                        inline.join(", ")
                    ),
                    None,
                ));
            }
        }
        None => checks.push(check(
            "policies",
            Status::Skipped,
            "",
            "needs the role",
            None,
        )),
    }

    // 6. Pods.
    check_pods(facts, usable_arn.as_deref(), &mut checks);

    let verdict = if checks.iter().any(|c| c.status == Status::Problem) {
        Verdict::Problems
    } else if checks.iter().any(|c| c.status == Status::Warning) {
        Verdict::Warnings
    } else {
        Verdict::Ok
    };
    Diagnosis {
        namespace: ns.clone(),
        name: name.clone(),
        role_arn,
        issuer,
        verdict,
        checks,
        pods: facts.pods.clone(),
        attached_policies: attached,
        inline_policies: inline,
        policy_documents: facts.documents.iter().cloned().collect(),
    }
}

fn check_pods(facts: &Facts, role_arn: Option<&str>, checks: &mut Vec<Check>) {
    let (ns, name) = (&facts.sa.namespace, &facts.sa.name);
    if facts.pods.is_empty() {
        checks.push(check(
            "pods",
            Status::Ok,
            "no pods",
            "no pods use this service account",
            None,
        ));
        return;
    }
    let mut bad = false;
    for pod in &facts.pods {
        if pod.skipped {
            checks.push(check(
                "pods",
                Status::Warning,
                "pod opts out",
                format!(
                    "pod {} is labelled {SKIP_POD_LABEL}: the webhook leaves it alone",
                    pod.name
                ),
                None,
            ));
        } else if !pod.mutated() {
            bad = true;
            let mut what = Vec::new();
            if !pod.has_volume {
                what.push(format!("volume {TOKEN_VOLUME}"));
            }
            if !pod.containers_missing_env.is_empty() {
                what.push(format!(
                    "{ENV_ROLE_ARN}/{ENV_TOKEN_FILE} in container {}",
                    pod.containers_missing_env.join(", ")
                ));
            }
            checks.push(check(
                "pods",
                Status::Problem,
                "pod not mutated",
                format!(
                    "pod {} lacks {}: the pod identity webhook did not mutate it (it was created before the \
                     annotation, or the webhook is not running)",
                    pod.name,
                    what.join(" and ")
                ),
                Some(format!(
                    "check the webhook (kubectl get mutatingwebhookconfigurations), then recreate the pod \
                     (kubectl delete pod {} -n {ns}, or kubectl rollout restart its workload)",
                    pod.name
                )),
            ));
        } else if let (Some(env), Some(want)) = (&pod.role_arn_env, role_arn) {
            if env != want {
                bad = true;
                checks.push(check(
                    "pods",
                    Status::Warning,
                    "pod has old role",
                    format!("pod {} runs with {ENV_ROLE_ARN}={env}, the annotation now says {want}", pod.name),
                    Some(format!(
                        "recreate the pod (kubectl delete pod {} -n {ns}, or kubectl rollout restart its workload)",
                        pod.name
                    )),
                ));
            }
        }
    }
    if !bad {
        checks.push(check(
            "pods",
            Status::Ok,
            "pods ok",
            format!(
                "{} pod(s) use {ns}/{name}; they carry {ENV_ROLE_ARN}, {ENV_TOKEN_FILE} and volume {TOKEN_VOLUME}",
                facts.pods.len()
            ),
            None,
        ));
    }
}

/// The report as text.
pub fn render(d: &Diagnosis) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Service account:  {}/{}", d.namespace, d.name);
    let _ = writeln!(
        out,
        "Role ARN:         {}",
        d.role_arn.as_deref().unwrap_or("<none>")
    );
    let _ = writeln!(
        out,
        "Issuer:           {}",
        d.issuer.as_deref().unwrap_or("<unknown>")
    );
    let _ = writeln!(out, "Checks:");
    let width = d.checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
    for c in &d.checks {
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
    if !d.policy_documents.is_empty() {
        let _ = writeln!(out, "Policies:");
        for (name, doc) in &d.policy_documents {
            let _ = writeln!(out, "  {name}:");
            for line in serde_json::to_string_pretty(doc)
                .unwrap_or_default()
                .lines()
            {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let problems: Vec<&Check> = d
        .checks
        .iter()
        .filter(|c| c.status == Status::Problem)
        .collect();
    let warnings = d
        .checks
        .iter()
        .filter(|c| c.status == Status::Warning)
        .count();
    match d.verdict {
        Verdict::Ok => {
            let _ = writeln!(
                out,
                "Verdict: OK - pods using this service account can assume the role"
            );
        }
        Verdict::Warnings => {
            let _ = writeln!(out, "Verdict: OK with {warnings} warning(s)");
        }
        Verdict::Problems => {
            let _ = writeln!(
                out,
                "Verdict: {} problem(s) - the binding does not work:",
                problems.len()
            );
            for (i, p) in problems.iter().enumerate() {
                let _ = writeln!(out, "  {}. {}", i + 1, p.message);
                if let Some(fix) = &p.fix {
                    let _ = writeln!(out, "     fix: {fix}");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use irsa_policy::irsa_trust_policy;

    const ISSUER: &str = "https://oidc.example.com/id/ABC";
    const ACCOUNT: &str = "111122223333";
    const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/r";

    fn role(trust: Value) -> Role {
        Role {
            name: "r".into(),
            arn: ROLE_ARN.into(),
            path: "/".into(),
            trust,
            max_session_duration: Some(3600),
            permissions_boundary: None,
            tags: vec![("managed-by".into(), "kubectl-irsa".into())],
        }
    }

    fn healthy() -> Facts {
        Facts {
            sa: SaFacts {
                namespace: "shop".into(),
                name: "app".into(),
                annotations: BTreeMap::from([(ROLE_ARN_ANNOTATION.into(), ROLE_ARN.into())]),
                managed: true,
            },
            issuer: Ok(ISSUER.into()),
            role: RoleFacts::Found {
                role: Box::new(role(irsa_trust_policy(
                    ACCOUNT,
                    ISSUER,
                    "shop",
                    "app",
                    DEFAULT_AUDIENCE,
                    None,
                ))),
                attached: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
                missing_policies: vec![],
                inline: vec![],
            },
            provider: ProviderFacts::Found(Provider {
                arn: provider_arn(ACCOUNT, ISSUER),
                url: "oidc.example.com/id/ABC".into(),
                client_ids: vec![DEFAULT_AUDIENCE.into()],
                thumbprints: vec![],
                tags: vec![],
            }),
            pods: vec![PodFacts {
                name: "p".into(),
                has_volume: true,
                containers_missing_env: vec![],
                role_arn_env: Some(ROLE_ARN.into()),
                skipped: false,
            }],
            documents: vec![],
        }
    }

    fn problems(d: &Diagnosis) -> Vec<&str> {
        d.checks
            .iter()
            .filter(|c| c.status == Status::Problem)
            .map(|c| c.short.as_str())
            .collect()
    }

    #[test]
    fn healthy_binding_is_ok() {
        let d = diagnose(&healthy());
        assert_eq!(d.verdict, Verdict::Ok, "{}", render(&d));
        assert_eq!(d.status(), "OK");
        assert!(render(&d).contains("Verdict: OK"));
    }

    #[test]
    fn wrong_subject_is_explained() {
        let mut f = healthy();
        f.role = RoleFacts::Found {
            role: Box::new(role(irsa_trust_policy(
                ACCOUNT,
                ISSUER,
                "shop",
                "other",
                DEFAULT_AUDIENCE,
                None,
            ))),
            attached: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
            missing_policies: vec![],
            inline: vec![],
        };
        let d = diagnose(&f);
        assert_eq!(problems(&d), vec!["trust denies"]);
        let text = render(&d);
        assert!(
            text.contains(
                "wanted system:serviceaccount:shop:other, token has system:serviceaccount:shop:app"
            ),
            "{text}"
        );
        assert!(text.contains("--add-trust"));
        assert_eq!(d.status(), "trust denies");
    }

    #[test]
    fn each_break_is_named_with_a_fix() {
        let mut f = healthy();
        f.provider = ProviderFacts::Missing {
            arn: provider_arn(ACCOUNT, ISSUER),
        };
        let d = diagnose(&f);
        assert_eq!(problems(&d), vec!["no OIDC provider"]);
        assert!(render(&d).contains("kubectl irsa oidc associate"));

        let mut f = healthy();
        f.role = RoleFacts::Missing;
        let d = diagnose(&f);
        assert_eq!(problems(&d), vec!["role not found"]);

        let mut f = healthy();
        if let RoleFacts::Found { attached, .. } = &mut f.role {
            attached.clear();
        }
        let d = diagnose(&f);
        assert_eq!(problems(&d), vec!["no policies"]);

        let mut f = healthy();
        f.sa.annotations = BTreeMap::from([("eks.amazonaws.com/role-anr".into(), ROLE_ARN.into())]);
        f.role = RoleFacts::NotChecked;
        let d = diagnose(&f);
        assert!(problems(&d).contains(&"annotation key typo"));
        assert!(render(&d).contains("eks.amazonaws.com/role-anr-"));

        let mut f = healthy();
        f.sa.annotations = BTreeMap::from([(
            ROLE_ARN_ANNOTATION.into(),
            "arn:aws:iam::111122223333:rol/r".into(),
        )]);
        f.role = RoleFacts::NotChecked;
        let d = diagnose(&f);
        assert!(problems(&d).contains(&"annotation is not a role ARN"));

        let mut f = healthy();
        f.pods[0].has_volume = false;
        f.pods[0].containers_missing_env = vec!["app".into()];
        let d = diagnose(&f);
        assert_eq!(problems(&d), vec!["pod not mutated"]);

        let mut f = healthy();
        if let ProviderFacts::Found(p) = &mut f.provider {
            p.client_ids = vec!["other".into()];
        }
        let d = diagnose(&f);
        assert_eq!(problems(&d), vec!["audience not allowed"]);
    }

    #[test]
    fn typo_detection() {
        assert!(looks_like_role_arn_key("eks.amazonaws.com/role-anr"));
        assert!(looks_like_role_arn_key("eks.amazon.com/role-arn"));
        assert!(looks_like_role_arn_key("eks.amazonaws.com/rolearn"));
        assert!(!looks_like_role_arn_key(ROLE_ARN_ANNOTATION));
        assert!(!looks_like_role_arn_key("eks.amazonaws.com/audience"));
        assert!(!looks_like_role_arn_key(
            "kubectl.kubernetes.io/last-applied-configuration"
        ));
    }

    #[test]
    fn internal_issuers_warn() {
        let mut f = healthy();
        f.issuer = Ok("https://kubernetes.default.svc".into());
        let d = diagnose(&f);
        assert!(d.checks.iter().any(|c| c.short == "issuer not public"));
    }
}
