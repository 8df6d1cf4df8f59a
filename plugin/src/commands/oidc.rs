//! `kubectl irsa oidc associate|show`: the IAM OIDC provider that lets STS trust the cluster's tokens.

use serde_json::json;

use super::{print, Ctx};
use crate::aws::{Aws, Provider, MANAGED_BY_TAG, MANAGED_BY_VALUE};
use crate::cli::{OidcAssociateArgs, OidcShowArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::executor::AwsSteps;
use crate::output::structured;
use crate::plan::{IamStep, Plan, PlanStep};
use crate::thumbprint::issuer_thumbprint;

/// What IAM has for the issuer, and what creating a provider for it would need.
#[derive(Debug, Clone)]
pub enum ProviderFacts {
    Exists(Provider),
    /// No provider yet; `thumbprint` is of the issuer's TLS certificate chain's top CA.
    Missing {
        thumbprint: String,
    },
}

async fn gather_provider(aws: &Aws, issuer: &str) -> Result<ProviderFacts> {
    Ok(match aws.find_provider(issuer).await? {
        Some(provider) => ProviderFacts::Exists(provider),
        None => ProviderFacts::Missing {
            thumbprint: issuer_thumbprint(issuer).await?,
        },
    })
}

/// The provider for `issuer` listing every audience: created, completed, or left as it is.
pub fn plan_associate(issuer: &str, audiences: &[String], facts: &ProviderFacts) -> Plan<IamStep> {
    let mut plan = Plan::new(format!("IAM OIDC provider for {issuer}"));
    match facts {
        ProviderFacts::Exists(p) => {
            plan.ok(format!("IAM OIDC provider {} exists", p.arn));
            for a in audiences {
                if p.client_ids.contains(a) {
                    plan.ok(format!("client ID {a} is listed"));
                } else {
                    plan.push(IamStep::AddClientId {
                        provider_arn: p.arn.clone(),
                        client_id: a.clone(),
                    });
                }
            }
        }
        ProviderFacts::Missing { thumbprint } => plan.push(IamStep::CreateOidcProvider {
            issuer: issuer.to_string(),
            client_ids: audiences.to_vec(),
            thumbprints: vec![thumbprint.clone()],
            tags: vec![(MANAGED_BY_TAG.into(), MANAGED_BY_VALUE.into())],
        }),
    }
    plan
}

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
    let facts = gather_provider(aws, &issuer.url).await?;
    let mut provider_arn = match &facts {
        ProviderFacts::Exists(p) => Some(p.arn.clone()),
        ProviderFacts::Missing { .. } => None,
    };
    let plan = plan_associate(&issuer.url, &audiences, &facts);
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
    let outcomes = plan
        .apply(&AwsSteps(aws), |step, _| {
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

#[cfg(test)]
mod tests {
    //! The situations plugin/tests/e2e/oidc.rs puts `oidc associate` in.

    use super::*;

    const ISSUER: &str = "https://127.0.0.1:8443/id/ABC";

    fn provider(client_ids: &[&str]) -> ProviderFacts {
        ProviderFacts::Exists(Provider {
            arn: "arn:aws:iam::111122223333:oidc-provider/127.0.0.1:8443/id/ABC".into(),
            url: "127.0.0.1:8443/id/ABC".into(),
            client_ids: client_ids.iter().map(|c| c.to_string()).collect(),
            thumbprints: Vec::new(),
            tags: Vec::new(),
        })
    }

    #[test]
    fn a_missing_provider_is_created_with_the_thumbprint_and_every_audience() {
        let facts = ProviderFacts::Missing {
            thumbprint: "ab".repeat(20),
        };
        let audiences = vec!["sts.amazonaws.com".to_string(), "vault".to_string()];
        let plan = plan_associate(ISSUER, &audiences, &facts);
        let [IamStep::CreateOidcProvider {
            issuer,
            client_ids,
            thumbprints,
            tags,
        }] = plan.steps.as_slice()
        else {
            panic!("{:?}", plan.steps)
        };
        assert_eq!(issuer, ISSUER);
        assert_eq!(client_ids, &audiences);
        assert_eq!(thumbprints, &vec!["ab".repeat(20)]);
        assert_eq!(
            tags,
            &vec![(MANAGED_BY_TAG.to_string(), MANAGED_BY_VALUE.to_string())]
        );
    }

    #[test]
    fn an_existing_provider_only_gains_missing_audiences() {
        let audiences = vec!["sts.amazonaws.com".to_string(), "vault".to_string()];
        let plan = plan_associate(ISSUER, &audiences, &provider(&["sts.amazonaws.com"]));
        assert_eq!(
            plan.steps,
            [IamStep::AddClientId {
                provider_arn: "arn:aws:iam::111122223333:oidc-provider/127.0.0.1:8443/id/ABC"
                    .into(),
                client_id: "vault".into(),
            }]
        );
        let plan = plan_associate(
            ISSUER,
            &audiences,
            &provider(&["vault", "sts.amazonaws.com"]),
        );
        assert!(plan.is_empty(), "associating twice changes nothing");
        assert_eq!(plan.up_to_date.len(), 3);
    }
}
