//! `create -f cluster.yaml`: every `iam.serviceAccounts[]` entry of an eksctl ClusterConfig, planned and
//! applied with bounded concurrency (each entry rolls back on its own), with progress on stderr and more
//! retries for AWS throttling.

use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;

use super::{
    plan_and_apply, print_export, resolve_target, same_cluster, Clients, CreateSpec, Report,
    BULK_AWS_ATTEMPTS,
};
use crate::cli::{CreateArgs, IssuerArgs};
use crate::clusterconfig::{ClusterConfig, ServiceAccountConfig};
use crate::commands::{print, warn, Ctx};
use crate::error::{Error, Result};
use crate::output::structured;

/// Turn a cluster-config entry into a spec, with the command line's shared flags.
pub(crate) fn spec_from_config(
    entry: &ServiceAccountConfig,
    default_ns: &str,
    args: &CreateArgs,
) -> CreateSpec {
    let mut tags: Vec<(String, String)> = entry.tags.clone().into_iter().collect();
    tags.sort();
    let names: Vec<String> = entry
        .well_known_policies
        .names()
        .into_iter()
        .map(str::to_string)
        .collect();
    CreateSpec {
        well_known: crate::presets::resolve(&names).expect("eksctl's keys are all presets"),
        prune: args.prune,
        namespace: entry
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| default_ns.to_string()),
        name: entry.metadata.name.clone(),
        role_name: entry.role_name.clone(),
        attach_policy_arns: entry.attach_policy_arns.clone(),
        inline_policy: entry.attach_policy.clone(),
        attach_role_arn: entry.attach_role_arn.clone(),
        permissions_boundary: entry.permissions_boundary.clone(),
        role_path: None,
        max_session_duration: None,
        tags,
        audience: args.audience.clone(),
        subject_pattern: entry.subject_pattern.clone(),
        role_only: entry.role_only.unwrap_or(false),
        override_existing: args.override_existing_serviceaccounts,
        add_trust: args.add_trust,
        labels: entry.metadata.labels.clone(),
        annotations: entry.metadata.annotations.clone(),
    }
}

pub(super) async fn run_config(
    ctx: Ctx,
    args: CreateArgs,
    path: &std::path::Path,
    export: bool,
) -> Result<()> {
    let (ctx, reports) = plan_entries(ctx, &args, path).await?;
    let total = reports.len();
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    if export {
        print_export(&ctx, &reports.iter().collect::<Vec<_>>());
        return match failed {
            0 => Ok(()),
            _ => Err(Error::Several { failed, total }),
        };
    }
    print_reports(&ctx, &args, &reports)
}

/// Plan (and, without `--dry-run`, apply) every entry of the file; one report per entry.
pub(super) async fn plan_entries(
    mut ctx: Ctx,
    args: &CreateArgs,
    path: &std::path::Path,
) -> Result<(Ctx, Vec<Report>)> {
    let config = ClusterConfig::load(path)?;
    ctx.set_default_region(config.metadata.region.clone());
    let ctx = ctx.with_aws_attempts(BULK_AWS_ATTEMPTS);
    // Entries without a namespace use "default", as eksctl does.
    let specs: Vec<CreateSpec> = config
        .service_accounts()
        .iter()
        .map(|e| spec_from_config(e, "default", args))
        .collect();
    for (i, spec) in specs.iter().enumerate() {
        spec.validate().map_err(|e| {
            Error::usage(format!(
                "{}: iam.serviceAccounts[{i}] ({}/{}): {e}",
                path.display(),
                spec.namespace,
                spec.name
            ))
        })?;
    }
    let mut seen = std::collections::HashSet::new();
    for spec in &specs {
        if !seen.insert((spec.namespace.clone(), spec.name.clone())) {
            return Err(Error::usage(format!(
                "{}: service account {}/{} appears twice in iam.serviceAccounts",
                path.display(),
                spec.namespace,
                spec.name
            )));
        }
    }

    // The issuer: flags first, else EKS for metadata.name, else (not an EKS cluster) the Kubernetes API.
    let cluster_name = config.metadata.name.clone();
    let issuer_args = if args.issuer.cluster.is_some() || args.issuer.oidc_issuer.is_some() {
        args.issuer.clone()
    } else {
        IssuerArgs {
            cluster: cluster_name.clone(),
            oidc_issuer: None,
        }
    };
    let target =
        match resolve_target(&ctx, &issuer_args, &args.audience, cluster_name.as_deref()).await {
            Err(Error::NotFound(msg))
                if issuer_args.cluster.is_some() && args.issuer.cluster.is_none() =>
            {
                warn(&format!(
                    "{msg}\nusing the issuer the Kubernetes API reports instead"
                ));
                resolve_target(
                    &ctx,
                    &IssuerArgs::default(),
                    &args.audience,
                    cluster_name.as_deref(),
                )
                .await?
            }
            other => other?,
        };
    let aws = ctx.aws().await?;
    if !specs.iter().all(|s| s.role_only) {
        same_cluster(ctx.kube().await?, &target.issuer).await?;
    }

    let total = specs.len();
    let done = AtomicUsize::new(0);
    let concurrency = usize::from(args.concurrency);
    let reports: Vec<Report> = futures::stream::iter(specs.iter())
        .map(|spec| {
            let (target, ctx, done) = (&target, &ctx, &done);
            async move {
                // Connected above when any entry needs the cluster; `kube()` hands out that client.
                let clients = match spec.role_only {
                    true => Ok(Clients::RoleOnly(aws)),
                    false => ctx.kube().await.map(|kube| Clients::Binding(aws, kube)),
                };
                let planned = match clients {
                    Ok(clients) => {
                        plan_and_apply(ctx, spec, target, clients, args.dry_run, false).await
                    }
                    Err(e) => Err(e),
                };
                let report = match planned {
                    Ok((report, _)) => report,
                    Err(e) => Report {
                        namespace: spec.namespace.clone(),
                        name: spec.name.clone(),
                        role_arn: String::new(),
                        dry_run: args.dry_run,
                        result: "failed",
                        error: Some(e.to_string()),
                        plan: None,
                        export: None,
                    },
                };
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                let status = match &report.error {
                    Some(e) => format!("FAILED: {e}"),
                    None => report.result.to_string(),
                };
                eprintln!("[{n}/{total}] {}/{}: {status}", spec.namespace, spec.name);
                report
            }
        })
        .buffered(concurrency)
        .collect()
        .await;

    Ok((ctx, reports))
}

fn print_reports(ctx: &Ctx, args: &CreateArgs, reports: &[Report]) -> Result<()> {
    let total = reports.len();
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    match structured(ctx.output(), &reports)? {
        Some(text) => print(&text),
        None => {
            let rows: Vec<Vec<String>> = reports
                .iter()
                .map(|r| {
                    vec![
                        r.namespace.clone(),
                        r.name.clone(),
                        if r.role_arn.is_empty() {
                            "-".into()
                        } else {
                            r.role_arn.clone()
                        },
                        r.result.to_string(),
                    ]
                })
                .collect();
            print(&crate::output::table(
                &["NAMESPACE", "NAME", "ROLE-ARN", "RESULT"],
                &rows,
            ));
            if args.dry_run {
                print("dry run: nothing was changed\n");
            }
        }
    }
    if failed > 0 {
        for r in reports.iter().filter(|r| r.error.is_some()) {
            eprintln!(
                "error: {}/{}: {}",
                r.namespace,
                r.name,
                r.error.as_deref().unwrap_or_default()
            );
        }
        return Err(Error::Several { failed, total });
    }
    Ok(())
}
