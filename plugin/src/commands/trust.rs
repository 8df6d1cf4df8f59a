//! `kubectl irsa trust remove --cluster C | --oidc-issuer U`: take a retired cluster's OIDC provider out of
//! every role that trusts it. Gather (ListRoles has each trust policy; tags only for the roles that name the
//! provider), plan ([`crate::trust::plan_removal`]), then print or apply.

use serde_json::json;

use super::{print, warn, Ctx};
use crate::cli::{OutputFormat, TrustRemoveArgs};
use crate::error::Result;
use crate::executor::AwsSteps;
use crate::output::structured;
use crate::plan::PlanStep;
use crate::trust::{plan_removal, remove_provider, TrustingRole};

pub async fn remove(ctx: &Ctx, args: TrustRemoveArgs) -> Result<()> {
    let issuer = ctx.issuer(&args.issuer()).await?;
    let aws = ctx.aws().await?;
    let provider = aws.account().await?.provider_arn(&issuer.url);
    let mut roles = Vec::new();
    for role in aws.list_roles().await? {
        if remove_provider(&role.trust, &provider).is_none() {
            continue;
        }
        let tags = aws.tags_of(&role.name).await?;
        let managed = tags
            .iter()
            .any(|(k, v)| k == crate::aws::MANAGED_BY_TAG && v == crate::aws::MANAGED_BY_VALUE);
        roles.push(TrustingRole {
            name: role.name,
            trust: role.trust,
            managed,
        });
    }
    let plan = plan_removal(&provider, &roles, args.include_unmanaged);
    let table = ctx.output() == OutputFormat::Table;
    if args.dry_run || plan.is_empty() {
        match structured(ctx.output(), &plan)? {
            Some(text) => print(&text),
            None => {
                print(&plan.render(true));
                if args.dry_run {
                    print(
                        "dry run: nothing was changed (run without --dry-run to apply this plan)\n",
                    );
                }
            }
        }
        return Ok(());
    }
    if table {
        for w in &plan.warnings {
            warn(w);
        }
        print(&format!("Applying plan for {}:\n", plan.subject));
    }
    plan.apply(&AwsSteps(aws), |step, _| {
        if table {
            print(&format!("  + {}\n", step.summary()));
        }
    })
    .await?;
    match structured(
        ctx.output(),
        &json!({ "provider": provider, "changed": plan.steps.len(), "plan": plan }),
    )? {
        Some(text) => print(&text),
        None => print(&format!(
            "{} role(s) no longer trust {provider}\n",
            plan.steps.len()
        )),
    }
    Ok(())
}
