//! `kubectl irsa create`: plan the role, its trust, its policies and the service account; print the plan
//! (`--dry-run`) or apply it with rollback. `-f` does the same for every entry of an eksctl ClusterConfig.
//!
//! [`spec`] is what one binding asks for, [`facts`] reads (never writes) what exists in AWS and Kubernetes,
//! [`planner`] turns both into a [`Plan`] without I/O, this module prints and applies plans, and
//! `config_file` runs many at once.

mod config_file;
pub mod diff;
mod exported;
pub mod facts;
pub mod planner;
mod pod_identity;
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
    /// The binding for `-o terraform|cloudformation|eksctl|yaml` with `--dry-run`.
    #[serde(skip)]
    export: Option<crate::export::Binding>,
}

/// Whether a run prints an export instead of the plan: `--dry-run` with `-o terraform|cloudformation|eksctl`
/// or `-o yaml` (the manifest, as `kubectl create --dry-run -o yaml` prints). Anything else with an export
/// format is a usage error.
fn exporting(ctx: &Ctx, dry_run: bool) -> Result<bool> {
    let format = ctx.output();
    match (format.is_export(), format == OutputFormat::Yaml, dry_run) {
        (true, _, false) => Err(Error::usage(
            "-o terraform|cloudformation|eksctl prints what create would make: add --dry-run",
        )),
        (true, _, true) | (false, true, true) => Ok(true),
        _ => Ok(false),
    }
}

/// Print the export of every binding planned.
fn print_export(ctx: &Ctx, reports: &[&Report]) {
    let bindings: Vec<crate::export::Binding> =
        reports.iter().filter_map(|r| r.export.clone()).collect();
    if let Some(text) = crate::export::render(ctx.output(), &bindings) {
        print(&text);
    }
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
    // clap lets `--prune` through beside `--name` (whose group -f conflicts with): say it here, before
    // anything is contacted.
    if args.prune && args.config_file.is_none() {
        return Err(Error::usage(
            "--prune detaches what a cluster config no longer lists: it needs -f FILE",
        ));
    }
    if args.well_known_policy.iter().any(|p| p == "list") {
        print(&crate::presets::listing());
        return Ok(());
    }
    let export = exporting(&ctx, args.dry_run)?;
    if let Some(path) = args.config_file.clone() {
        return config_file::run_config(ctx, args, &path, export).await;
    }
    let well_known = crate::presets::resolve(&args.well_known_policy)?;
    // A single preset supplies its Helm chart's namespace and service account unless -n / --name say otherwise.
    let chart = match well_known.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    let namespace = match (&ctx.global.namespace, chart) {
        (None, Some(preset)) => preset.namespace.to_string(),
        _ => ctx.namespace()?,
    };
    let name = match (&args.name, chart) {
        (Some(name), _) => name.clone(),
        (None, Some(preset)) => preset.service_account.to_string(),
        (None, None) => return Err(Error::usage(
            "--name is required (or -f FILE, or one --well-known-policy whose default it takes)",
        )),
    };
    let spec = CreateSpec {
        namespace,
        name,
        well_known,
        prune: false,
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
    if args.pod_identity {
        return pod_identity::run(&ctx, &args, &spec, export).await;
    }
    let target = resolve_target(&ctx, &args.issuer, &spec.audience, None).await?;
    let aws = ctx.aws().await?;
    let clients = if spec.role_only {
        Clients::RoleOnly(aws)
    } else {
        let kube = ctx.kube().await?;
        same_cluster(kube, &target.issuer).await?;
        Clients::Binding(aws, kube)
    };
    let (report, error) =
        plan_and_apply(&ctx, &spec, &target, clients, args.dry_run, !export).await?;
    if export {
        print_export(&ctx, &[&report]);
    } else if let Some(text) = structured(ctx.output(), &report)? {
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
    // The provider's ARN is IAM's own answer, so its partition is the account's (aws-cn in China).
    let account = irsa_policy::Account::of_arn(&provider.arn).ok_or_else(|| {
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
        region: ctx.aws().await?.region.clone(),
    })
}

/// When the issuer came from `--cluster` / `--oidc-issuer`, make sure the kubeconfig context is that cluster:
/// otherwise the service account would be annotated in one cluster with a role trusting another. A cluster
/// that does not serve its discovery document cannot be checked and is let through.
pub(crate) async fn same_cluster(kube: &Kube, issuer: &crate::commands::Issuer) -> Result<()> {
    if issuer.flags.is_empty() {
        return Ok(());
    }
    let Ok(actual) = kube.discover_issuer().await else {
        return Ok(());
    };
    let wanted = &issuer.url;
    if irsa_policy::issuer_host_path(&actual) != irsa_policy::issuer_host_path(wanted) {
        return Err(Error::Conflict(format!(
            "{} gives the issuer {wanted}, but the Kubernetes context is a cluster whose issuer is {actual}: the \
             service account would be bound to a role that trusts another cluster; pick the matching --context (or \
             use --role-only)",
            issuer.flags
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
            let role_facts = facts::gather_role(spec, &role_name, aws).await?;
            let planned = plan_role(spec, target, &role_facts)?;
            if dry_run && !verbose && ctx.output() == OutputFormat::Table {
                print(&planned.plan.render(true));
            }
            let export = exported::binding(spec, target, &role_facts, &planned, None);
            let (mut report, error) =
                execute(ctx, &planned, &AwsSteps(aws), dry_run, verbose).await;
            report.export = Some(export);
            (report, error)
        }
        Clients::Binding(aws, kube) => {
            let role_facts = facts::gather_role(spec, &role_name, aws).await?;
            // The role's plan first: a spec that cannot be planned fails before the cluster is read.
            let role = plan_role(spec, target, &role_facts)?;
            let service_account = facts::gather_service_account(spec, kube).await?;
            let export = exported::binding(
                spec,
                target,
                &role_facts,
                &role,
                Some(service_account.namespace_exists),
            );
            let planned = plan_binding(spec, role, &service_account);
            if dry_run && !verbose && ctx.output() == OutputFormat::Table {
                print(&planned.plan.render(true));
            }
            let (mut report, error) =
                execute(ctx, &planned, &Live { aws, kube }, dry_run, verbose).await;
            report.export = Some(export);
            (report, error)
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
        export: None,
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
        // Warnings (lint findings above all) come before anything is applied.
        for w in &planned.plan.warnings {
            warn(w);
        }
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
