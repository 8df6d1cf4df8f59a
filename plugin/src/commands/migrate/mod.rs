//! `kubectl irsa migrate --to pod-identity|irsa`: move service accounts from one binding to the other, a plan
//! first and in an order that keeps every running pod's credentials working ([`planner`] says why), then the
//! pods that must restart to use the new binding (a pod keeps the env it was created with).

mod addons;
mod planner;

use std::collections::BTreeMap;

use irsa_names::{ROLE_ARN_ANNOTATION, STS_AUDIENCE};
use k8s_openapi::api::core::v1::ServiceAccount;
use serde::Serialize;

pub use addons::{is_addon_service_account, ADDON_SERVICE_ACCOUNTS};
pub use planner::{plan_to_irsa, plan_to_pod_identity, Migration, MigrationFacts, MigrationTarget};

use super::create::same_cluster;
use super::{print, warn, Ctx, Issuer};
use crate::aws::Association;
use crate::cli::{MigrateArgs, MigrateTo, OutputFormat};
use crate::doctor::pod_identity::PodIdentityPod;
use crate::error::{Error, Result};
use crate::executor::Live;
use crate::kube::{annotations, is_dns_subdomain};
use crate::output::structured;
use crate::plan::PlanStep;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    dry_run: bool,
    migrations: Vec<Migration>,
    /// Service accounts of EKS add-ons left out of a bulk run (name one to migrate it).
    skipped: Vec<String>,
}

pub async fn run(ctx: &Ctx, args: MigrateArgs) -> Result<()> {
    let Some(cluster) = args.issuer.cluster.clone() else {
        return Err(Error::usage(
            "migrate needs --cluster NAME: Pod Identity associations live in an EKS cluster",
        ));
    };
    if args.remove_oidc_trust && args.to == MigrateTo::Irsa {
        return Err(Error::usage(
            "--remove-oidc-trust is for --to pod-identity (going to IRSA keeps the OIDC trust it adds)",
        ));
    }
    if let Some(name) = &args.name {
        if !is_dns_subdomain(name) {
            return Err(Error::usage(format!(
                "service account name {name:?} is not valid (lowercase letters, digits, '-' and '.')"
            )));
        }
    }
    let namespace = if args.all_namespaces {
        None
    } else {
        Some(ctx.namespace()?)
    };
    let aws = ctx.aws().await?;
    let issuer = Issuer {
        url: aws.cluster_issuer(&cluster).await?,
        flags: format!("--cluster {cluster}"),
    };
    let kube = ctx.kube().await?;
    same_cluster(kube, &issuer).await?;
    let provider_arn = match args.to {
        MigrateTo::Irsa => ctx.provider(&issuer, STS_AUDIENCE).await?.arn,
        MigrateTo::PodIdentity => String::new(),
    };
    let target = MigrationTarget {
        cluster: cluster.clone(),
        account: aws.account().await?,
        issuer: issuer.url.clone(),
        provider_arn,
    };
    let associations = aws
        .pod_identity_associations(&cluster, namespace.as_deref(), args.name.as_deref())
        .await?;
    let (accounts, skipped) = select(ctx, &args, namespace.as_deref(), &associations).await?;
    let pods = kube.list_pods(namespace.as_deref()).await?;

    let mut migrations = Vec::new();
    for sa in accounts {
        let ns = sa.metadata.namespace.clone().unwrap_or_default();
        let name = sa.metadata.name.clone().unwrap_or_default();
        let mine: Vec<Association> = associations
            .iter()
            .filter(|a| a.namespace == ns && a.service_account == name)
            .cloned()
            .collect();
        let role_arn = match args.to {
            MigrateTo::PodIdentity => annotations(&sa.metadata)
                .get(ROLE_ARN_ANNOTATION)
                .cloned()
                .or_else(|| mine.first().map(|a| a.role_arn.clone())),
            MigrateTo::Irsa => mine.first().map(|a| a.role_arn.clone()),
        };
        let role = match role_arn
            .as_deref()
            .and_then(irsa_policy::role_name_from_arn)
        {
            Some(role_name) => aws.get_role(&role_name).await?,
            None => None,
        };
        let created = mine.first().and_then(|a| a.created_at);
        let facts = MigrationFacts {
            pods: pods
                .iter()
                .filter(|p| {
                    p.metadata.namespace.as_deref() == Some(ns.as_str())
                        && p.spec
                            .as_ref()
                            .and_then(|s| s.service_account_name.as_deref())
                            .unwrap_or("default")
                            == name
                })
                .map(|p| PodIdentityPod::from_pod(p, created))
                .collect(),
            namespace: ns,
            name,
            service_account: sa,
            role,
            associations: mine,
        };
        migrations.push(match args.to {
            MigrateTo::PodIdentity => {
                plan_to_pod_identity(&facts, &target, args.remove_oidc_trust)?
            }
            MigrateTo::Irsa => plan_to_irsa(&facts, &target)?,
        });
    }
    let table = ctx.output() == OutputFormat::Table;
    for s in &skipped {
        if table {
            warn(&format!(
                "{s} is an EKS add-on's service account: left out of a bulk migration (eksctl #7752); name it with \
                 --name to migrate it"
            ));
        }
    }
    if migrations.is_empty() && table {
        print("No service accounts to migrate.\n");
    }
    for m in &migrations {
        if !table {
            continue;
        }
        print(&m.plan.render(true));
        if args.dry_run {
            continue;
        }
        if !m.plan.is_empty() {
            print(&format!("Applying plan for {}:\n", m.plan.subject));
        }
        m.plan
            .apply(&Live { aws, kube }, |step, _| {
                print(&format!("  + {}\n", step.summary()));
            })
            .await?;
    }
    if !table && !args.dry_run {
        for m in &migrations {
            m.plan.apply(&Live { aws, kube }, |_, _| {}).await?;
        }
    }
    let report = Report {
        dry_run: args.dry_run,
        migrations,
        skipped,
    };
    match structured(ctx.output(), &report)? {
        Some(text) => print(&text),
        None => print(&restart_report(&report.migrations, args.dry_run)),
    }
    Ok(())
}

/// The pods to restart, by service account.
fn restart_report(migrations: &[Migration], dry_run: bool) -> String {
    let mut by_sa: BTreeMap<String, &[String]> = BTreeMap::new();
    for m in migrations.iter().filter(|m| !m.restart.is_empty()) {
        by_sa.insert(format!("{}/{}", m.namespace, m.name), &m.restart);
    }
    let mut out = String::new();
    if dry_run {
        out.push_str("dry run: nothing was changed (run without --dry-run to apply these plans)\n");
    }
    if by_sa.is_empty() {
        out.push_str("Pods to restart: none\n");
        return out;
    }
    out.push_str("Pods to restart (they keep the env they were created with):\n");
    for (sa, pods) in by_sa {
        for p in pods {
            out.push_str(&format!("  {sa}  {p}\n"));
        }
    }
    out
}

/// The service accounts to migrate, and the add-on ones a bulk run leaves out.
async fn select(
    ctx: &Ctx,
    args: &MigrateArgs,
    namespace: Option<&str>,
    associations: &[Association],
) -> Result<(Vec<ServiceAccount>, Vec<String>)> {
    let kube = ctx.kube().await?;
    if let Some(name) = &args.name {
        let ns = namespace.unwrap_or_default();
        let sa = kube.get_service_account(ns, name).await?.ok_or_else(|| {
            Error::NotFound(format!(
                "service account {ns}/{name} not found (kubectl get serviceaccounts -n {ns})"
            ))
        })?;
        return Ok((vec![sa], Vec::new()));
    }
    let mut chosen = Vec::new();
    let mut skipped = Vec::new();
    for sa in kube.list_service_accounts(namespace).await? {
        let ns = sa.metadata.namespace.clone().unwrap_or_default();
        let name = sa.metadata.name.clone().unwrap_or_default();
        let has_association = associations
            .iter()
            .any(|a| a.namespace == ns && a.service_account == name);
        let wanted = match args.to {
            // With --remove-oidc-trust, an association alone may still leave an OIDC statement to remove.
            MigrateTo::PodIdentity => {
                annotations(&sa.metadata).contains_key(ROLE_ARN_ANNOTATION)
                    || (args.remove_oidc_trust && has_association)
            }
            MigrateTo::Irsa => has_association,
        };
        if !wanted {
            continue;
        }
        if is_addon_service_account(&sa) {
            skipped.push(format!("{ns}/{name}"));
            continue;
        }
        chosen.push(sa);
    }
    Ok((chosen, skipped))
}
