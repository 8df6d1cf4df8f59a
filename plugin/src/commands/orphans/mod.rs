//! `kubectl irsa list --orphans` and `delete --orphans`: bindings of this cluster that no longer work, found
//! from the account's roles and the cluster's service accounts ([`finder`]), then listed, or planned away
//! (orphan roles deleted with their policies, orphan service accounts losing their role annotation; a
//! service account is never deleted: pods may still use it).

mod finder;

use irsa_names::ROLE_ARN_ANNOTATION;

pub use finder::{find, Account, AccountRole, OrphanRole, OrphanServiceAccount, Orphans};

use super::delete::RoleFacts;
use super::{print, warn, Ctx};
use crate::cli::{DeleteArgs, IssuerArgs, ListArgs, OutputFormat};
use crate::error::Result;
use crate::executor::Live;
use crate::kube::annotations;
use crate::output::{structured, table};
use crate::plan::{ClusterStep, IamStep, Plan, PlanStep, SaSnapshot, Step};

async fn gather(ctx: &Ctx, all_namespaces: bool, issuer_args: &IssuerArgs) -> Result<Orphans> {
    let issuer = ctx.issuer(issuer_args).await?;
    let aws = ctx.aws().await?;
    let account = aws.account().await?;
    let provider = account.provider_arn(&issuer.url);
    let mut roles = Vec::new();
    for role in aws.list_roles().await? {
        // Tags are only worth a call for the roles that trust this cluster.
        let managed = if crate::trust::remove_provider(&role.trust, &provider).is_some() {
            let tags = aws.tags_of(&role.name).await?;
            tags.iter()
                .any(|(k, v)| k == crate::aws::MANAGED_BY_TAG && v == crate::aws::MANAGED_BY_VALUE)
        } else {
            false
        };
        roles.push(AccountRole { role, managed });
    }
    let namespace = if all_namespaces {
        None
    } else {
        Some(ctx.namespace()?)
    };
    let accounts: Vec<Account> = ctx
        .kube()
        .await?
        .list_service_accounts(namespace.as_deref())
        .await?
        .into_iter()
        .map(|sa| Account {
            namespace: sa.metadata.namespace.clone().unwrap_or_default(),
            name: sa.metadata.name.clone().unwrap_or_default(),
            annotations: annotations(&sa.metadata),
        })
        .collect();
    Ok(find(
        &provider,
        &account.id,
        &roles,
        &accounts,
        namespace.as_deref(),
    ))
}

fn render(orphans: &Orphans) -> String {
    if orphans.is_empty() {
        return "No orphans: every kubectl-irsa role of this cluster has its service account, and every \
                annotated service account's role exists and trusts it.\n"
            .into();
    }
    let mut out = String::new();
    if !orphans.roles.is_empty() {
        let rows: Vec<Vec<String>> = orphans
            .roles
            .iter()
            .map(|r| vec![r.name.clone(), r.reason.clone()])
            .collect();
        out.push_str("Roles without their service account:\n");
        out.push_str(&table(&["ROLE", "WHY"], &rows));
    }
    if !orphans.service_accounts.is_empty() {
        let rows: Vec<Vec<String>> = orphans
            .service_accounts
            .iter()
            .map(|s| vec![s.namespace.clone(), s.name.clone(), s.reason.clone()])
            .collect();
        out.push_str("Service accounts without a working role:\n");
        out.push_str(&table(&["NAMESPACE", "NAME", "WHY"], &rows));
    }
    out
}

pub async fn list(ctx: &Ctx, args: &ListArgs) -> Result<()> {
    let orphans = gather(ctx, args.all_namespaces, &args.issuer).await?;
    match structured(ctx.output(), &orphans)? {
        Some(text) => print(&text),
        None => print(&render(&orphans)),
    }
    Ok(())
}

/// The plan that removes the orphans: each role's policies detached and deleted, then the role; each
/// service account's role annotation removed.
pub fn plan_removal(orphans: &Orphans, roles: &[RoleFacts]) -> Plan<Step> {
    let mut plan: Plan<Step> = Plan::new("orphaned IRSA bindings");
    for facts in roles {
        let RoleFacts::Found {
            role,
            attached,
            inline,
        } = facts
        else {
            continue;
        };
        for policy_arn in attached {
            plan.push(
                IamStep::DetachPolicy {
                    role: role.name.clone(),
                    policy_arn: policy_arn.clone(),
                }
                .into(),
            );
        }
        for (policy_name, previous) in inline {
            plan.push(
                IamStep::DeleteInlinePolicy {
                    role: role.name.clone(),
                    policy_name: policy_name.clone(),
                    previous: previous.clone(),
                }
                .into(),
            );
        }
        plan.push(
            IamStep::DeleteRole {
                role: role.name.clone(),
            }
            .into(),
        );
    }
    for sa in &orphans.service_accounts {
        plan.push(
            ClusterStep::RemoveServiceAccountAnnotations {
                namespace: sa.namespace.clone(),
                name: sa.name.clone(),
                keys: vec![ROLE_ARN_ANNOTATION.into()],
                previous: SaSnapshot {
                    annotations: [(ROLE_ARN_ANNOTATION.to_string(), sa.role_arn.clone())].into(),
                    labels: Default::default(),
                },
            }
            .into(),
        );
    }
    if plan.is_empty() {
        plan.ok("no orphans");
    }
    plan
}

pub async fn delete(ctx: &Ctx, args: &DeleteArgs) -> Result<()> {
    let orphans = gather(ctx, args.all_namespaces, &args.issuer).await?;
    let aws = ctx.aws().await?;
    let mut roles = Vec::new();
    for role in &orphans.roles {
        roles.push(super::delete::gather_role(aws, &role.arn).await?);
    }
    let plan = plan_removal(&orphans, &roles);
    let table = ctx.output() == OutputFormat::Table;
    if args.dry_run || plan.is_empty() {
        match structured(
            ctx.output(),
            &serde_json::json!({ "orphans": orphans, "plan": plan }),
        )? {
            Some(text) => print(&text),
            None => {
                print(&render(&orphans));
                print(&plan.render(false));
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
    let kube = ctx.kube().await?;
    plan.apply(&Live { aws, kube }, |step, _| {
        if table {
            print(&format!("  + {}\n", step.summary()));
        }
    })
    .await?;
    match structured(
        ctx.output(),
        &serde_json::json!({ "orphans": orphans, "plan": plan }),
    )? {
        Some(text) => print(&text),
        None => print(&format!(
            "{} orphan role(s) deleted, {} service account(s) unbound\n",
            orphans.roles.len(),
            orphans.service_accounts.len()
        )),
    }
    Ok(())
}
