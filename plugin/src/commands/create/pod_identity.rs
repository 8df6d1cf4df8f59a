//! `create --pod-identity`: read what exists (the role, the cluster's associations for the service account,
//! the service account), plan with [`super::planner::pod_identity`], then print or apply the plan with the
//! same rollback as an IRSA binding.

use super::planner::pod_identity::{
    plan_pod_identity_binding, plan_pod_identity_role, PodIdentityTarget,
};
use super::{execute, facts, same_cluster, CreateSpec};
use crate::cli::{CreateArgs, OutputFormat};
use crate::commands::{print, Ctx, Issuer};
use crate::error::{Error, Result};
use crate::executor::Live;
use crate::output::structured;

pub(super) async fn run(
    ctx: &Ctx,
    args: &CreateArgs,
    spec: &CreateSpec,
    export: bool,
) -> Result<()> {
    // `-o yaml --dry-run` prints the plan as YAML here: the manifest export is IRSA's.
    if export && ctx.output().is_export() {
        return Err(Error::usage(
            "--pod-identity has no GitOps export yet (-o terraform|cloudformation|eksctl): print the plan with \
             --dry-run (-o json or -o yaml for a machine-readable one)",
        ));
    }
    let Some(cluster) = args.issuer.cluster.clone() else {
        return Err(Error::usage(
            "--pod-identity needs --cluster NAME: associations live in an EKS cluster",
        ));
    };
    let aws = ctx.aws().await?;
    // DescribeCluster first: an unknown cluster fails here, naming it, before anything is read or planned.
    let issuer = aws.cluster_issuer(&cluster).await?;
    let kube = ctx.kube().await?;
    same_cluster(
        kube,
        &Issuer {
            url: issuer,
            flags: format!("--cluster {cluster}"),
        },
    )
    .await?;
    let target = PodIdentityTarget {
        account: aws.account().await?,
        region: aws.region.clone(),
        cluster: cluster.clone(),
    };
    let role_name = spec.role_name(&cluster);
    let role_facts = facts::gather_role(spec, &role_name, aws).await?;
    let role = plan_pod_identity_role(spec, &target, &role_facts)?;
    let associations = aws
        .pod_identity_associations(&cluster, Some(&spec.namespace), Some(&spec.name))
        .await?;
    let service_account = facts::gather_service_account(spec, kube).await?;
    let planned = plan_pod_identity_binding(spec, &cluster, role, &service_account, &associations);
    let (report, error) = execute(ctx, &planned, &Live { aws, kube }, args.dry_run, true).await;
    if ctx.output() != OutputFormat::Table {
        if let Some(text) = structured(ctx.output(), &report)? {
            print(&text);
        }
    }
    match error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
