//! The checks on IAM: annotation, role, OIDC provider, trust policy, policies. Each pushes its findings
//! (with a fix for every problem) and hands the next check what it needs.

use std::fmt::Write as _;

use irsa_names::{ROLE_ARN_ANNOTATION, STS_AUDIENCE, TOKEN_EXPIRATION_ANNOTATION};
use irsa_policy::{trust_admits, Account, PolicyDocument};

use super::{check, Check, ProviderFacts, RoleFacts, Status, Who};
use crate::aws::Role;
use crate::lint::suggest::distance;

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

/// The `annotation` check. Returns the role ARN when the annotation is usable.
pub(super) fn annotation(
    who: &Who,
    annotations: &std::collections::BTreeMap<String, String>,
    checks: &mut Vec<Check>,
) -> Option<String> {
    let (ns, name) = (who.ns, who.name);
    let typos: Vec<(&String, &String)> = annotations
        .iter()
        .filter(|(k, _)| looks_like_role_arn_key(k))
        .collect();
    let usable = match (annotations.get(ROLE_ARN_ANNOTATION), typos.first()) {
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
    if let Some(exp) = annotations.get(TOKEN_EXPIRATION_ANNOTATION) {
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
                format!(
                    "{TOKEN_EXPIRATION_ANNOTATION} is {exp:?}, not a number of seconds; the webhook ignores it"
                ),
                Some(format!(
                    "kubectl annotate serviceaccount {name} -n {ns} --overwrite {TOKEN_EXPIRATION_ANNOTATION}=86400"
                )),
            )),
        }
    }
    usable
}

/// A role that exists, with what is attached to it.
pub(super) struct Found<'a> {
    pub role: &'a Role,
    /// The role's account, in the role ARN's partition (its OIDC provider is in the same).
    pub account: Account,
    pub attached: &'a [String],
    pub inline: &'a [String],
    pub missing: &'a [String],
}

/// The `role` check.
pub(super) fn role<'a>(
    who: &Who,
    facts: &'a RoleFacts,
    arn: Option<&str>,
    checks: &mut Vec<Check>,
) -> Option<Found<'a>> {
    let (ns, name) = (who.ns, who.name);
    let account = arn
        .and_then(Account::of_arn)
        .unwrap_or_else(|| Account::aws(""));
    let role_name = arn
        .and_then(irsa_policy::role_name_from_arn)
        .unwrap_or_default();
    match facts {
        RoleFacts::NotChecked => {
            checks.push(check(
                "role",
                Status::Skipped,
                "",
                "no role ARN to check",
                None,
            ));
            None
        }
        RoleFacts::OtherAccount {
            role_account,
            caller_account,
        } => {
            checks.push(check(
                "role",
                Status::Warning,
                "role in another account",
                format!(
                    "role is in account {role_account} but the AWS credentials are for {caller_account}: it cannot be \
                     inspected (the trust policy must name an OIDC provider in {role_account})"
                ),
                Some(format!("run describe with credentials for account {role_account} (--profile)")),
            ));
            None
        }
        RoleFacts::Missing => {
            checks.push(check(
                "role",
                Status::Problem,
                "role not found",
                format!("role {role_name} does not exist in account {}", account.id),
                Some(format!(
                    "create it: kubectl irsa create --name {name} -n {ns} --role-name {role_name} \
                     --override-existing-serviceaccounts (or correct the annotation: kubectl irsa annotate {name} -n {ns} \
                     --role-arn <arn> --overwrite)"
                )),
            ));
            None
        }
        RoleFacts::Error(e) => {
            checks.push(check(
                "role",
                Status::Problem,
                "role lookup failed",
                format!("cannot read role {role_name}: {e}"),
                None,
            ));
            None
        }
        RoleFacts::Found {
            role,
            attached,
            missing_policies,
            inline,
        } => {
            let mut message = format!("role {} exists", role.arn);
            if role.is_managed() {
                message.push_str(" (managed by kubectl-irsa)");
            }
            if let Some(b) = &role.permissions_boundary {
                let _ = write!(message, "; permissions boundary {b}");
            }
            if Some(role.arn.as_str()) != arn {
                checks.push(check(
                    "role",
                    Status::Warning,
                    "role ARN differs",
                    format!(
                        "the annotation says {} but the role's ARN is {} (different path?)",
                        arn.unwrap_or_default(),
                        role.arn
                    ),
                    Some(format!(
                        "kubectl irsa annotate {name} -n {ns} --role-arn {} --overwrite",
                        role.arn
                    )),
                ));
            }
            checks.push(check("role", Status::Ok, "role exists", message, None));
            Some(Found {
                role,
                account,
                attached,
                inline,
                missing: missing_policies,
            })
        }
    }
}

/// The `oidc-provider` check: the issuer is known, IAM has a provider for it listing the audience, and the
/// issuer looks reachable from AWS.
pub(super) fn provider(
    who: &Who,
    issuer: &Result<String, String>,
    provider: &ProviderFacts,
    checks: &mut Vec<Check>,
) {
    let audience = &who.audience;
    match (issuer, provider) {
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
            format!(
                "the account has no IAM OIDC provider for the cluster's issuer {url} ({arn} does not exist): STS \
                 rejects every token from this cluster"
            ),
            Some(format!("kubectl irsa oidc associate --oidc-issuer {url}")),
        )),
        (Ok(_), ProviderFacts::Error(e)) => checks.push(check(
            "oidc-provider",
            Status::Problem,
            "provider lookup failed",
            format!("cannot read the IAM OIDC provider: {e}"),
            None,
        )),
        (Ok(url), ProviderFacts::Found(p)) if p.client_ids.iter().any(|c| c == audience) => {
            checks.push(check(
                "oidc-provider",
                Status::Ok,
                "provider ok",
                format!("{} trusts issuer {url} for audience {audience}", p.arn),
                None,
            ))
        }
        (Ok(url), ProviderFacts::Found(p)) => checks.push(check(
            "oidc-provider",
            Status::Problem,
            "audience not allowed",
            format!(
                "{} does not list audience {audience} (client IDs: {}): STS answers \"Incorrect token audience\"",
                p.arn,
                p.client_ids.join(", ")
            ),
            Some(format!(
                "kubectl irsa oidc associate --oidc-issuer {url} --audience {audience}"
            )),
        )),
    }
    if let Ok(url) = issuer {
        let host_path = irsa_policy::issuer_host_path(url);
        let host = host_path.split(['/', ':']).next().unwrap_or_default();
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
}

/// The `trust` check: the role's trust policy, evaluated as STS would for this service account's token.
pub(super) fn trust(
    who: &Who,
    found: Option<&Found>,
    issuer: Option<&str>,
    checks: &mut Vec<Check>,
) {
    let (Some(found), Some(url)) = (found, issuer) else {
        checks.push(check(
            "trust",
            Status::Skipped,
            "",
            "needs the role and the issuer",
            None,
        ));
        return;
    };
    let (role, subject, audience) = (found.role, &who.subject, &who.audience);
    let provider = found.account.provider_arn(url);
    let doc = match PolicyDocument::from_value(role.trust.clone()) {
        Ok(doc) => doc,
        Err(e) => {
            checks.push(check(
                "trust",
                Status::Problem,
                "trust unreadable",
                format!("trust policy of role {} cannot be parsed: {e}", role.name),
                None,
            ));
            return;
        }
    };
    let e = trust_admits(&doc, &provider, subject, audience);
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
        return;
    }
    let audience_flag = if audience == STS_AUDIENCE {
        String::new()
    } else {
        format!(" --audience {audience}")
    };
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
            "kubectl irsa create --name {} -n {} --attach-role-arn {} --add-trust{audience_flag}",
            who.name, who.ns, role.arn
        )),
    ));
}

/// The `policies` check: the role can do something, and what it names exists.
pub(super) fn policies(who: &Who, found: Option<&Found>, checks: &mut Vec<Check>) {
    let Some(found) = found else {
        checks.push(check(
            "policies",
            Status::Skipped,
            "",
            "needs the role",
            None,
        ));
        return;
    };
    let (ns, name, role) = (who.ns, who.name, found.role);
    for arn in found.missing {
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
    let (attached, inline) = (found.attached, found.inline);
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
    } else if found.missing.is_empty() {
        let list = |items: &[String]| {
            if items.is_empty() {
                String::new()
            } else {
                format!(": {}", items.join(", "))
            }
        };
        checks.push(check(
            "policies",
            Status::Ok,
            "policies ok",
            format!(
                "{} attached{}, {} inline{}",
                attached.len(),
                list(attached),
                inline.len(),
                list(inline)
            ),
            None,
        ));
    }
}
