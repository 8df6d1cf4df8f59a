//! `kubectl irsa oidc associate|show`: the IAM OIDC provider that lets STS trust the cluster's tokens.

use serde_json::json;

use super::{print, Ctx};
use crate::aws::{MANAGED_BY_TAG, MANAGED_BY_VALUE};
use crate::cli::{OidcAssociateArgs, OidcShowArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::executor::Live;
use crate::output::structured;
use crate::plan::{Plan, Step};
use crate::thumbprint::issuer_thumbprint;

pub async fn associate(ctx: &Ctx, args: OidcAssociateArgs) -> Result<()> {
    let mut audiences: Vec<String> = Vec::new();
    for a in &args.audience {
        if a.trim().is_empty() {
            return Err(Error::usage("--audience must not be empty"));
        }
        if !audiences.contains(a) {
            audiences.push(a.clone());
        }
    }
    let issuer = ctx.issuer(&args.issuer).await?;
    let aws = ctx.aws().await?;
    let mut plan = Plan::new(format!("IAM OIDC provider for {}", issuer.url));
    let existing = aws.find_provider(&issuer.url).await?;
    let mut provider_arn = existing.as_ref().map(|p| p.arn.clone());
    match &existing {
        Some(p) => {
            plan.ok(format!("IAM OIDC provider {} exists", p.arn));
            for a in &audiences {
                if p.client_ids.contains(a) {
                    plan.ok(format!("client ID {a} is listed"));
                } else {
                    plan.push(Step::AddClientId {
                        provider_arn: p.arn.clone(),
                        client_id: a.clone(),
                    });
                }
            }
        }
        None => {
            let thumbprint = issuer_thumbprint(&issuer.url).await?;
            plan.push(Step::CreateOidcProvider {
                issuer: issuer.url.clone(),
                client_ids: audiences.clone(),
                thumbprints: vec![thumbprint],
                tags: vec![(MANAGED_BY_TAG.into(), MANAGED_BY_VALUE.into())],
            });
        }
    }
    let table = ctx.output() == OutputFormat::Table;
    if args.dry_run {
        match structured(ctx.output(), &plan)? {
            Some(text) => print(&text),
            None => {
                print(&plan.render(true));
                print("dry run: nothing was changed (run without --dry-run to apply this plan)\n");
            }
        }
        return Ok(());
    }
    if plan.is_empty() {
        match structured(
            ctx.output(),
            &json!({ "issuer": issuer.url, "providerArn": provider_arn, "changed": false }),
        )? {
            Some(text) => print(&text),
            None => print(&plan.render(false)),
        }
        return Ok(());
    }
    let executor = Live {
        aws: Some(aws),
        kube: None,
    };
    let outcomes = plan
        .apply(&executor, |step, _| {
            if table {
                print(&format!("  + {}\n", step.summary()));
            }
        })
        .await?;
    if let Some(arn) = outcomes.iter().find_map(|o| o.arn.clone()) {
        provider_arn = Some(arn);
    }
    let arn = provider_arn.unwrap_or_default();
    match structured(
        ctx.output(),
        &json!({ "issuer": issuer.url, "providerArn": arn, "changed": true }),
    )? {
        Some(text) => print(&text),
        None => print(&format!("IAM OIDC provider {arn} trusts {}\n", issuer.url)),
    }
    Ok(())
}

pub async fn show(ctx: &Ctx, args: OidcShowArgs) -> Result<()> {
    let issuer = ctx.issuer(&args.issuer).await?;
    let aws = ctx.aws().await?;
    let provider = aws.find_provider(&issuer.url).await?;
    let value = json!({
        "issuer": issuer.url,
        "provider": provider,
    });
    if let Some(text) = structured(ctx.output(), &value)? {
        print(&text);
        return Ok(());
    }
    let mut out = format!("Issuer:          {}\n", issuer.url);
    match &provider {
        Some(p) => {
            out.push_str(&format!("Provider ARN:    {}\n", p.arn));
            out.push_str(&format!("Client IDs:      {}\n", p.client_ids.join(", ")));
            out.push_str(&format!("Thumbprints:     {}\n", p.thumbprints.join(", ")));
            let tags: Vec<String> = p.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("Tags:            {}\n", tags.join(", ")));
        }
        None => {
            out.push_str("Provider ARN:    <none>\n");
            out.push_str(&format!(
                "No IAM OIDC provider trusts this issuer; create it with: kubectl irsa oidc associate {}\n",
                issuer.flags
            ));
        }
    }
    print(&out);
    Ok(())
}
