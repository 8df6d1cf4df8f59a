//! `kubectl irsa create`'s flags and examples.

use std::path::PathBuf;

use clap::Args;

use super::IssuerArgs;

pub(super) const CREATE_EXAMPLES: &str = "\
Examples:
  # EKS: the issuer comes from DescribeCluster
  kubectl irsa create --name my-app -n shop --cluster my-cluster \\
      --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess

  # kind / self-managed: the issuer comes from the API server's /.well-known/openid-configuration
  kubectl irsa create --name my-app -n shop --inline-policy ./policy.json

  # Reuse an existing role and add this service account to its trust policy
  kubectl irsa create --name my-app --attach-role-arn arn:aws:iam::111122223333:role/shared --add-trust

  # Only the role (no Kubernetes changes), print the plan first
  kubectl irsa create --name my-app --cluster my-cluster --role-only --dry-run

  # Every iam.serviceAccounts entry of an eksctl ClusterConfig; --prune detaches what the file no longer lists
  kubectl irsa create -f cluster.yaml
  kubectl irsa create -f cluster.yaml --prune --dry-run

  # An add-on's policy by name (namespace and name default to its Helm chart's)
  kubectl irsa create --well-known-policy aws-load-balancer-controller --cluster my-cluster
  kubectl irsa create --well-known-policy list

  # One role for many clusters: each cluster adds its provider's statement (subjects merged, size checked)
  kubectl irsa create --name my-app --attach-role-arn arn:aws:iam::111122223333:role/shared --add-trust

  # EKS Pod Identity: a role trusting pods.eks.amazonaws.com, its policies, the association (no annotation;
  # the service account is created when missing); plan first, re-runs say up to date
  kubectl irsa create --pod-identity --name my-app -n shop --cluster my-cluster \\
      --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess --dry-run
  # ... or an existing role, adding the pods.eks.amazonaws.com statement to its trust
  kubectl irsa create --pod-identity --name my-app --cluster my-cluster \\
      --attach-role-arn arn:aws:iam::111122223333:role/shared --add-trust

  # GitOps: the same binding as Terraform, CloudFormation, an eksctl fragment or the ServiceAccount manifest
  kubectl irsa create --name my-app -n shop --attach-policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess \\
      --dry-run -o terraform";

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Service account name (default with --well-known-policy: the add-on's Helm chart default)
    #[arg(long, value_name = "SA")]
    pub name: Option<String>,
    /// eksctl ClusterConfig file: create every iam.serviceAccounts entry
    #[arg(
        short = 'f',
        long = "config-file",
        value_name = "FILE",
        conflicts_with_all = ["name", "role_name", "attach_policy_arn", "inline_policy", "attach_role_arn",
            "permissions_boundary", "role_path", "max_session_duration", "tags", "subject_pattern", "role_only",
            "well_known_policy"]
    )]
    pub config_file: Option<PathBuf>,
    #[command(flatten)]
    pub issuer: IssuerArgs,
    /// IAM role name (default: derived from cluster, namespace and name)
    #[arg(long, value_name = "NAME")]
    pub role_name: Option<String>,
    /// Managed policy to attach (repeatable)
    #[arg(long, value_name = "ARN", action = clap::ArgAction::Append)]
    pub attach_policy_arn: Vec<String>,
    /// JSON policy document to put as the role's inline policy
    #[arg(long, value_name = "FILE")]
    pub inline_policy: Option<PathBuf>,
    /// A well-known add-on policy (repeatable): eksctl's and the Terraform EKS module's; `list` shows them
    #[arg(long, value_name = "NAME", action = clap::ArgAction::Append)]
    pub well_known_policy: Vec<String>,
    /// Use this existing role instead of creating one
    #[arg(
        long,
        value_name = "ARN",
        conflicts_with_all = ["role_name", "attach_policy_arn", "inline_policy", "permissions_boundary",
            "role_path", "max_session_duration", "tags", "well_known_policy"]
    )]
    pub attach_role_arn: Option<String>,
    /// Permissions boundary policy ARN for the role
    #[arg(long, value_name = "ARN")]
    pub permissions_boundary: Option<String>,
    /// IAM path for the role (/ or /a/b/)
    #[arg(long, value_name = "PATH")]
    pub role_path: Option<String>,
    /// Maximum session duration of the role, in seconds (3600-43200)
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(i32).range(3600..=43200))]
    pub max_session_duration: Option<i32>,
    /// Tags for the role: key=value, comma separated (repeatable)
    #[arg(long, value_name = "K=V,…", value_delimiter = ',', value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,
    /// Audience of the tokens (the OIDC provider's client ID)
    #[arg(long, value_name = "AUD", default_value = irsa_names::STS_AUDIENCE)]
    pub audience: String,
    /// Trust every service account whose name matches this pattern (StringLike), e.g. "app-*"
    #[arg(long, value_name = "PATTERN")]
    pub subject_pattern: Option<String>,
    /// Only create the IAM role; do not touch Kubernetes
    #[arg(long)]
    pub role_only: bool,
    /// Bind with EKS Pod Identity instead of IRSA: the role trusts Service pods.eks.amazonaws.com
    /// (sts:AssumeRole, sts:TagSession) and an EKS Pod Identity association binds it to the service account,
    /// which gets no annotation. Needs --cluster (the EKS cluster's name)
    #[arg(
        long,
        requires = "cluster",
        conflicts_with_all = ["config_file", "oidc_issuer", "subject_pattern", "role_only"]
    )]
    pub pod_identity: bool,
    /// Re-annotate a service account that is already bound to another role
    #[arg(long, conflicts_with = "role_only")]
    pub override_existing_serviceaccounts: bool,
    /// Add a statement for this service account to an existing role whose trust policy does not admit it
    #[arg(long)]
    pub add_trust: bool,
    /// Print the plan (with the exact trust policy) and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// With -f: detach managed policies and delete kubectl-irsa's inline policies the file no longer lists
    /// (never without this flag)
    #[arg(long, requires = "config_file")]
    pub prune: bool,
    /// With -f: how many service accounts to create at once
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

fn parse_tag(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("tag {s:?} is not key=value")),
    }
}
