//! `kubectl irsa create`: plan the role, its trust, its policies and the service account; print the plan
//! (`--dry-run`) or apply it with rollback. `-f` does the same for every entry of an eksctl ClusterConfig.
//!
//! [`spec`] is what one binding asks for, [`facts`] reads (never writes) what exists in AWS and Kubernetes,
//! [`planner`] turns both into a [`Plan`] without I/O, this module prints and applies plans, and
//! `config_file` runs many at once.

mod config_file;
pub mod facts;
pub mod planner;
pub mod spec;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{print, warn, Ctx};
use crate::aws::Aws;
use crate::cli::{CreateArgs, IssuerArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::executor::{AwsSteps, Live};
use crate::kube::Kube;
use crate::naming::cluster_label;
use crate::output::structured;
use crate::plan::{Executor, Plan, PlanStep, Step};

pub use facts::{RoleFacts, ServiceAccountFacts};
pub use planner::{plan_binding, plan_role, Planned, Target};
pub use spec::CreateSpec;

/// The clients one binding needs: AWS always, the cluster unless `--role-only`. What is planned and with
/// which executor it runs follows from this, so no step can meet a missing client.
#[derive(Clone, Copy)]
pub enum Clients<'a> {
    RoleOnly(&'a Aws),
    Binding(&'a Aws, &'a Kube),
}

/// Name of the inline policy `--inline-policy` / `attachPolicy` puts on the role.
pub const INLINE_POLICY_NAME: &str = "kubectl-irsa";
/// Attempts per AWS call with `-f` (many calls at once: throttling is likely).
const BULK_AWS_ATTEMPTS: u32 = 10;

/// The result of one binding, for output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    namespace: String,
    name: String,
    role_arn: String,
    dry_run: bool,
    /// `planned` (dry run), `applied`, `up-to-date` or `failed`.
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    plan: Option<Plan>,
}

fn read_inline_policy(path: &std::path::Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| Error::InvalidFile {
        path: path.to_path_buf(),
        message: format!("the inline policy is not JSON: {e}"),
    })
}

pub async fn run(ctx: Ctx, args: CreateArgs) -> Result<()> {
    if let Some(path) = args.config_file.clone() {
        return config_file::run_config(ctx, args, &path).await;
    }
    let spec = CreateSpec {
        namespace: ctx.namespace()?,
        name: args.name.clone().unwrap_or_default(),
        role_name: args.role_name.clone(),
        attach_policy_arns: args.attach_policy_arn.clone(),
        inline_policy: args
            .inline_policy
            .as_deref()
            .map(read_inline_policy)
            .transpose()?,
        attach_role_arn: args.attach_role_arn.clone(),
        permissions_boundary: args.permissions_boundary.clone(),
        role_path: args.role_path.clone(),
        max_session_duration: args.max_session_duration,
        tags: args.tags.clone(),
        audience: args.audience.clone(),
        subject_pattern: args.subject_pattern.clone(),
        role_only: args.role_only,
        override_existing: args.override_existing_serviceaccounts,
        add_trust: args.add_trust,
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
    };
    spec.validate()?;
    let target = resolve_target(&ctx, &args.issuer, &spec.audience, None).await?;
    let aws = ctx.aws().await?;
    let clients = if spec.role_only {
        Clients::RoleOnly(aws)
    } else {
        let kube = ctx.kube().await?;
        same_cluster(kube, &target).await?;
        Clients::Binding(aws, kube)
    };
    let (report, error) = plan_and_apply(&ctx, &spec, &target, clients, args.dry_run, true).await?;
    if let Some(text) = structured(ctx.output(), &report)? {
        print(&text);
    }
    match error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Issuer, provider (checked for the audience), account and the cluster label for role names.
async fn resolve_target(
    ctx: &Ctx,
    issuer_args: &IssuerArgs,
    audience: &str,
    cluster_name: Option<&str>,
) -> Result<Target> {
    let issuer = ctx.issuer(issuer_args).await?;
    let provider = ctx.provider(&issuer, audience).await?;
    let account = irsa_policy::account_from_arn(&provider.arn)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            Error::Conflict(format!(
                "cannot read the account from provider ARN {}",
                provider.arn
            ))
        })?;
    let name = issuer_args
        .cluster
        .clone()
        .or(cluster_name.map(str::to_string))
        .or_else(|| ctx.context_cluster());
    let label = cluster_label(name.as_deref(), &issuer.url);
    Ok(Target {
        issuer,
        provider,
        account,
        cluster_label: label,
    })
}

/// When the issuer came from `--cluster` / `--oidc-issuer`, make sure the kubeconfig context is that cluster:
/// otherwise the service account would be annotated in one cluster with a role trusting another. A cluster
/// that does not serve its discovery document cannot be checked and is let through.
async fn same_cluster(kube: &Kube, target: &Target) -> Result<()> {
    if target.issuer.flags.is_empty() {
        return Ok(());
    }
    let Ok(actual) = kube.discover_issuer().await else {
        return Ok(());
    };
    let wanted = &target.issuer.url;
    if irsa_policy::issuer_host_path(&actual) != irsa_policy::issuer_host_path(wanted) {
        return Err(Error::Conflict(format!(
            "{} gives the issuer {wanted}, but the Kubernetes context is a cluster whose issuer is {actual}: the \
             service account would be bound to a role that trusts another cluster; pick the matching --context (or \
             use --role-only)",
            target.issuer.flags
        )));
    }
    Ok(())
}

/// Gather the facts for `spec`, plan, then print (table mode) and apply the plan. Gathering and planning errors
/// are returned; a failure to apply is recorded in the report (so `-f` can go on) and returned beside it.
async fn plan_and_apply(
    ctx: &Ctx,
    spec: &CreateSpec,
    target: &Target,
    clients: Clients<'_>,
    dry_run: bool,
    verbose: bool,
) -> Result<(Report, Option<Error>)> {
    let role_name = spec.role_name(&target.cluster_label);
    Ok(match clients {
        Clients::RoleOnly(aws) => {
            let role = facts::gather_role(spec, &role_name, aws).await?;
            let planned = plan_role(spec, target, &role)?;
            if dry_run && !verbose && ctx.output() == OutputFormat::Table {
                print(&planned.plan.render(true));
            }
            execute(ctx, &planned, &AwsSteps(aws), dry_run, verbose).await
        }
        Clients::Binding(aws, kube) => {
            let role = facts::gather_role(spec, &role_name, aws).await?;
            // The role's plan first: a spec that cannot be planned fails before the cluster is read.
            let role = plan_role(spec, target, &role)?;
            let service_account = facts::gather_service_account(spec, kube).await?;
            let planned = plan_binding(spec, role, &service_account);
            if dry_run && !verbose && ctx.output() == OutputFormat::Table {
                print(&planned.plan.render(true));
            }
            execute(ctx, &planned, &Live { aws, kube }, dry_run, verbose).await
        }
    })
}

/// Print (table mode) and apply one plan. A failure is recorded in the report and returned.
async fn execute<S, E>(
    ctx: &Ctx,
    planned: &Planned<S>,
    executor: &E,
    dry_run: bool,
    verbose: bool,
) -> (Report, Option<Error>)
where
    S: PlanStep + Clone,
    Step: From<S>,
    E: Executor<S>,
{
    let table = ctx.output() == OutputFormat::Table;
    let mut report = Report {
        namespace: planned.namespace.clone(),
        name: planned.name.clone(),
        role_arn: planned.role_arn.clone(),
        dry_run,
        result: "planned",
        error: None,
        plan: Some(planned.plan.clone().widen()),
    };
    if dry_run {
        if table && verbose {
            print(&planned.plan.render(true));
            print("dry run: nothing was changed (run without --dry-run to apply this plan)\n");
        }
        return (report, None);
    }
    if planned.plan.is_empty() {
        report.result = "up-to-date";
        if table && verbose {
            print(&planned.plan.render(false));
        }
        return (report, None);
    }
    if table && verbose {
        print(&format!("Applying plan for {}:\n", planned.plan.subject));
    }
    let applied = planned
        .plan
        .apply(executor, |step, outcome| {
            if table && verbose {
                let note = if outcome.changed {
                    ""
                } else {
                    " (already done)"
                };
                print(&format!("  + {}{note}\n", step.summary()));
            }
        })
        .await;
    match applied {
        Ok(_) => {
            report.result = "applied";
            if table && verbose {
                for ok in &planned.plan.up_to_date {
                    print(&format!("  = up to date: {ok}\n"));
                }
                for w in &planned.plan.warnings {
                    warn(w);
                }
                print(&format!(
                    "{}/{} -> {}\n",
                    planned.namespace, planned.name, planned.role_arn
                ));
            }
        }
        Err(e) => {
            report.result = "failed";
            report.error = Some(e.to_string());
            return (report, Some(e));
        }
    }
    (report, None)
}
