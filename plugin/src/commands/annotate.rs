//! `kubectl irsa annotate`: bind an existing service account to an existing role, after checking that the
//! role exists and its trust policy admits the service account (a warning, or an error with `--strict`).

use std::collections::BTreeMap;

use irsa_names::{
    AUDIENCE_ANNOTATION, MANAGED_BY_LABEL, MIN_TOKEN_EXPIRATION, ROLE_ARN_ANNOTATION, STS_AUDIENCE,
    STS_REGIONAL_ENDPOINTS_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION,
};
use irsa_policy::{service_account_subject, trust_admits, Account, PolicyDocument};
use serde_json::json;

use super::{print, validate_role_arn, warn, Ctx};
use crate::cli::AnnotateArgs;
use crate::error::{Error, Result};
use crate::kube::{
    annotations, applied_keys, is_dns_subdomain, is_managed, keep_owned, MANAGED_BY_VALUE,
};
use crate::output::structured;

/// Problems that make the binding not work, found before annotating.
async fn check_role(
    ctx: &Ctx,
    args: &AnnotateArgs,
    namespace: &str,
    audience: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    let role_name = irsa_policy::role_name_from_arn(&args.role_arn).unwrap_or_default();
    // validate_role_arn has checked it is an ARN; its partition is the provider's.
    let account = Account::of_arn(&args.role_arn).unwrap_or_else(|| Account::aws(""));
    let aws = match ctx.aws().await {
        Ok(aws) => aws,
        Err(e) => return vec![format!("cannot check the role: {e}")],
    };
    let role = match aws.get_role(&role_name).await {
        Ok(Some(role)) => role,
        Ok(None) => {
            return vec![format!(
                "role {role_name} does not exist in account {}; create it with \
                 kubectl irsa create --name {} -n {namespace} --role-name {role_name}",
                account.id, args.name
            )]
        }
        Err(e) => return vec![format!("cannot check role {role_name}: {e}")],
    };
    let issuer = match ctx.issuer(&args.issuer).await {
        Ok(i) => i,
        Err(e) => {
            return vec![format!(
                "cannot check the trust policy of role {role_name}: {e}"
            )]
        }
    };
    let provider = account.provider_arn(&issuer.url);
    let subject = service_account_subject(namespace, &args.name);
    match PolicyDocument::from_value(role.trust.clone()) {
        Ok(doc) => {
            let e = trust_admits(&doc, &provider, &subject, audience);
            if !e.is_allowed() {
                problems.push(format!(
                    "the trust policy of role {role_name} does not admit {subject}: {}; fix: kubectl irsa create \
                     --name {} -n {namespace} --attach-role-arn {} --add-trust",
                    e.explain(),
                    args.name,
                    args.role_arn
                ));
            }
        }
        Err(e) => problems.push(format!(
            "the trust policy of role {role_name} cannot be parsed: {e}"
        )),
    }
    problems
}

pub async fn run(ctx: &Ctx, args: AnnotateArgs) -> Result<()> {
    validate_role_arn("--role-arn", &args.role_arn)?;
    if !is_dns_subdomain(&args.name) {
        return Err(Error::usage(format!(
            "service account name {:?} is not valid (lowercase letters, digits, '-' and '.')",
            args.name
        )));
    }
    if args
        .audience
        .as_deref()
        .is_some_and(|a| a.trim().is_empty())
    {
        return Err(Error::usage("--audience must not be empty"));
    }
    let namespace = ctx.namespace()?;
    let kube = ctx.kube().await?;
    let sa = kube
        .get_service_account(&namespace, &args.name)
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "service account {namespace}/{} not found: create it (kubectl create serviceaccount {} -n {namespace}) \
                 or let kubectl irsa create it (kubectl irsa create --name {} -n {namespace} --attach-role-arn {})",
                args.name, args.name, args.name, args.role_arn
            ))
        })?;
    let current = annotations(&sa.metadata);
    if let Some(existing) = current.get(ROLE_ARN_ANNOTATION) {
        if existing != &args.role_arn && !args.overwrite {
            return Err(Error::Conflict(format!(
                "service account {namespace}/{} is already annotated with {ROLE_ARN_ANNOTATION}={existing}; pass \
                 --overwrite to replace it",
                args.name
            )));
        }
    }

    let audience = args
        .audience
        .clone()
        .unwrap_or_else(|| STS_AUDIENCE.to_string());
    let problems = check_role(ctx, &args, &namespace, &audience).await;
    if !problems.is_empty() {
        if args.strict {
            return Err(Error::Conflict(format!(
                "not annotating (--strict): {}",
                problems.join("; ")
            )));
        }
        for p in &problems {
            warn(p);
        }
    }

    let mut want = BTreeMap::from([(ROLE_ARN_ANNOTATION.to_string(), args.role_arn.clone())]);
    if let Some(a) = &args.audience {
        want.insert(AUDIENCE_ANNOTATION.into(), a.clone());
    }
    if let Some(b) = args.sts_regional_endpoints {
        want.insert(STS_REGIONAL_ENDPOINTS_ANNOTATION.into(), b.to_string());
    }
    if let Some(mut seconds) = args.token_expiration {
        if seconds < MIN_TOKEN_EXPIRATION {
            warn(&format!(
                "--token-expiration {seconds} is below the webhook's minimum; using {MIN_TOKEN_EXPIRATION}"
            ));
            seconds = MIN_TOKEN_EXPIRATION;
        }
        want.insert(TOKEN_EXPIRATION_ANNOTATION.into(), seconds.to_string());
    }
    // Keep the fields this field manager already owns, so the apply does not drop them.
    let mut labels = BTreeMap::new();
    if is_managed(&sa.metadata) {
        labels.insert(MANAGED_BY_LABEL.to_string(), MANAGED_BY_VALUE.to_string());
    }
    let (owned_annotations, owned_labels) = applied_keys(&sa.metadata);
    keep_owned(&mut want, &current, &owned_annotations);
    keep_owned(
        &mut labels,
        &crate::kube::labels(&sa.metadata),
        &owned_labels,
    );
    let unchanged = want.iter().all(|(k, v)| current.get(k) == Some(v));
    if !unchanged {
        kube.apply_service_account(&namespace, &args.name, &want, &labels)
            .await?;
    }
    let result = json!({
        "namespace": namespace,
        "name": args.name,
        "annotations": want,
        "changed": !unchanged,
        "warnings": problems,
    });
    match structured(ctx.output(), &result)? {
        Some(text) => print(&text),
        None if unchanged => print(&format!("serviceaccount/{} unchanged\n", args.name)),
        None => print(&format!("serviceaccount/{} annotated\n", args.name)),
    }
    Ok(())
}
