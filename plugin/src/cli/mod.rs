//! Command line: `kubectl irsa <command>` with kubectl's conventions (`--kubeconfig`, `--context`,
//! `-n/--namespace`, `-o`) and the AWS CLI's (`--region`, `--profile`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod create;
mod fleet;
mod migrate;

pub use create::CreateArgs;
pub use fleet::{DiffArgs, LintArgs, TrustCommand, TrustRemoveArgs};
pub use migrate::{MigrateArgs, MigrateTo};

const ABOUT: &str = "Bind AWS IAM roles to Kubernetes service accounts (IRSA)";

const LONG_ABOUT: &str = "\
Bind AWS IAM roles to Kubernetes service accounts (IAM Roles for Service Accounts, IRSA).

kubectl irsa does what `eksctl create iamserviceaccount` does with direct IAM calls (seconds, no
CloudFormation stack), on any cluster whose service-account issuer AWS can reach (EKS, kind,
self-managed). Every change is planned first (--dry-run prints the plan, including the exact trust
policy), applied step by step, and undone in reverse if a step fails. `describe` explains why a
binding works or does not.

AWS: the standard credential chain (environment, shared config/--profile, SSO, web identity, IMDS),
--region or AWS_REGION, AWS_ENDPOINT_URL to redirect the SDK, AWS_CA_BUNDLE for an extra CA.
Kubernetes: --kubeconfig or KUBECONFIG, --context, -n/--namespace (default: the context's namespace).";

const EXAMPLES: &str = "\
Examples:
  # Trust the cluster's OIDC issuer once per account
  kubectl irsa oidc associate --cluster my-cluster

  # Create a role for default/my-app, attach a policy, annotate the service account
  kubectl irsa create --name my-app --cluster my-cluster \\
      --attach-policy-arn arn:aws:iam::111122223333:policy/my-policy

  # See what would change, including the trust policy, without changing anything
  kubectl irsa create --name my-app -n shop --dry-run

  # Explain whether a binding works, and how to fix it when it does not
  kubectl irsa describe my-app -n shop

  # Every binding in the cluster with its status
  kubectl irsa list -A

  # Why can't this pod reach S3? Every link from annotation to permission, and a simulation
  kubectl irsa describe pod/my-app-7d9f -n shop --action s3:GetObject --resource arn:aws:s3:::bucket/key

  # EKS Pod Identity instead of IRSA, and moving between the two safely
  kubectl irsa create --pod-identity --name my-app -n shop --cluster my-cluster --attach-policy-arn <arn>
  kubectl irsa migrate --to pod-identity --name my-app -n shop --cluster my-cluster --dry-run

  # Lint a policy offline (unknown actions, condition keys, resource shapes)
  kubectl irsa lint policy.json

  # What would `create -f` change? (exit 1 on drift)
  kubectl irsa diff -f cluster.yaml

Exit status: 0 success, 1 failure (and, for `diff`, drift), 2 usage error, 3 problems found (`describe`:
a binding does not work; `lint`: warnings).";

/// Top-level command line.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-irsa",
    bin_name = "kubectl irsa",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    propagate_version = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config)
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context)
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace (default: the context's namespace, else "default")
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// AWS region (default: AWS_REGION / the profile's region)
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS shared-config profile (default: AWS_PROFILE)
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Output format
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Human-readable text and tables
    #[default]
    Table,
    Json,
    /// YAML; with `create --dry-run`, the Kubernetes manifest (like `kubectl create --dry-run -o yaml`)
    Yaml,
    /// `create --dry-run` only: Terraform (aws_iam_role, aws_iam_role_policy_attachment,
    /// kubernetes_service_account_v1)
    Terraform,
    /// `create --dry-run` only: a CloudFormation template
    #[value(alias = "cfn")]
    Cloudformation,
    /// `create --dry-run` only: an eksctl ClusterConfig fragment (iam.serviceAccounts)
    Eksctl,
}

impl OutputFormat {
    /// The GitOps exports, which only `create --dry-run` prints.
    pub fn is_export(self) -> bool {
        matches!(
            self,
            OutputFormat::Terraform | OutputFormat::Cloudformation | OutputFormat::Eksctl
        )
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create (or converge) an IAM role for a service account and annotate the service account
    #[command(after_help = create::CREATE_EXAMPLES)]
    Create(Box<CreateArgs>),
    /// Annotate an existing service account with an existing role, after checking the role trusts it
    #[command(after_help = ANNOTATE_EXAMPLES)]
    Annotate(AnnotateArgs),
    /// Diagnose IRSA and EKS Pod Identity bindings: annotation or association, role, trust, policies, pods
    #[command(after_help = DESCRIBE_EXAMPLES)]
    Describe(DescribeArgs),
    /// List service accounts bound to IAM roles (IRSA and EKS Pod Identity), with their status
    #[command(after_help = LIST_EXAMPLES)]
    List(ListArgs),
    /// Remove a binding: the role (if kubectl-irsa manages it) and the service account or its annotation
    #[command(after_help = DELETE_EXAMPLES)]
    Delete(DeleteArgs),
    /// Move service accounts between IRSA and EKS Pod Identity: plan first, safe order, pods to restart
    #[command(long_about = migrate::MIGRATE_ABOUT, after_help = migrate::MIGRATE_EXAMPLES)]
    Migrate(MigrateArgs),
    /// Manage the IAM OIDC provider for the cluster's service-account issuer
    #[command(subcommand)]
    Oidc(OidcCommand),
    /// Lint IAM policy documents offline: unknown actions, condition keys and resource ARN shapes
    #[command(after_help = fleet::LINT_EXAMPLES)]
    Lint(LintArgs),
    /// Show what `create -f` would change (policies, trust, tags, annotations); exit 1 on drift
    #[command(after_help = fleet::DIFF_EXAMPLES)]
    Diff(DiffArgs),
    /// Trust policies across roles: take a retired cluster out of every role that trusts it
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  source <(kubectl irsa completion bash)\n  kubectl irsa completion zsh > \"${fpath[1]}/_kubectl-irsa\""
    )]
    Completion(CompletionArgs),
}

const ANNOTATE_EXAMPLES: &str = "\
Examples:
  kubectl irsa annotate my-app -n shop --role-arn arn:aws:iam::111122223333:role/my-role
  kubectl irsa annotate my-app --role-arn arn:aws:iam::111122223333:role/my-role --strict --overwrite";

const DESCRIBE_EXAMPLES: &str = "\
Examples:
  kubectl irsa describe my-app -n shop
  kubectl irsa describe -A -o json
  kubectl irsa describe my-app --show-policies

  # EKS Pod Identity bindings too (--cluster, or an EKS kubeconfig context): the association and its role, the
  # trust for pods.eks.amazonaws.com, the agent DaemonSet, the pods' env, SDK versions, an IRSA annotation beside it
  kubectl irsa describe my-app -n shop --cluster my-cluster

  # One pod, link by link: annotation, mutated spec, a token's claims (TokenRequest bound to the pod), the
  # OIDC provider, the trust policy, the permissions; with --action, an offline simulation
  kubectl irsa describe pod/my-app-7d9f -n shop
  kubectl irsa describe pod/my-app-7d9f -n shop --action s3:GetObject --resource arn:aws:s3:::bucket/key";

const LIST_EXAMPLES: &str = "\
Examples:
  kubectl irsa list
  kubectl irsa list -A -o yaml
  # IRSA and EKS Pod Identity bindings (KIND column); associations need --cluster or an EKS context
  kubectl irsa list -A --cluster my-cluster
  # Roles kubectl-irsa made for this cluster whose service account is gone, and service accounts whose role
  # is missing or no longer trusts them
  kubectl irsa list --orphans -A";

const DELETE_EXAMPLES: &str = "\
Examples:
  kubectl irsa delete --name my-app -n shop --dry-run
  kubectl irsa delete --name my-app -n shop --keep-role
  # A Pod Identity binding: the association, the service account if kubectl-irsa made it, the role if it did
  kubectl irsa delete --name my-app -n shop --cluster my-cluster --dry-run
  # Every orphan `list --orphans` shows: plan first
  kubectl irsa delete --orphans -A --dry-run";

/// Where the cluster's OIDC issuer comes from.
#[derive(Debug, Args, Clone, Default)]
pub struct IssuerArgs {
    /// EKS cluster name: the issuer comes from EKS DescribeCluster
    #[arg(long, value_name = "NAME", conflicts_with = "oidc_issuer")]
    pub cluster: Option<String>,
    /// The cluster's service-account issuer URL (https://…); default: discovered through the Kubernetes API
    #[arg(long, value_name = "URL")]
    pub oidc_issuer: Option<String>,
}

#[derive(Debug, Args)]
pub struct AnnotateArgs {
    /// Service account name
    #[arg(value_name = "SA")]
    pub name: String,
    /// The role the service account should assume
    #[arg(long, value_name = "ARN", required = true)]
    pub role_arn: String,
    #[command(flatten)]
    pub issuer: IssuerArgs,
    /// Token audience (annotation eks.amazonaws.com/audience)
    #[arg(long, value_name = "AUD")]
    pub audience: Option<String>,
    /// Use the regional STS endpoint (annotation eks.amazonaws.com/sts-regional-endpoints)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub sts_regional_endpoints: Option<bool>,
    /// Token lifetime in seconds (annotation eks.amazonaws.com/token-expiration, at least 600)
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(i64).range(1..))]
    pub token_expiration: Option<i64>,
    /// Replace an existing eks.amazonaws.com/role-arn annotation
    #[arg(long)]
    pub overwrite: bool,
    /// Fail (instead of warning) when the role is missing or its trust does not admit the service account
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// Service account name (default: every bound service account in the namespace)
    #[arg(value_name = "SA", conflicts_with = "all_namespaces")]
    pub name: Option<String>,
    /// All namespaces
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    #[command(flatten)]
    pub issuer: IssuerArgs,
    /// Print the documents of attached and inline policies
    #[arg(long)]
    pub show_policies: bool,
    /// Simulate this action against the role's policies and permissions boundary, offline (e.g. s3:GetObject)
    #[arg(long, value_name = "ACTION")]
    pub action: Option<String>,
    /// The resource ARN for --action (default "*")
    #[arg(long, value_name = "ARN", requires = "action")]
    pub resource: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// All namespaces
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Only orphans: kubectl-irsa's roles for this cluster whose service account is gone, and service
    /// accounts whose role is missing or no longer trusts them
    #[arg(long)]
    pub orphans: bool,
    #[command(flatten)]
    pub issuer: IssuerArgs,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Service account name
    #[arg(long, value_name = "SA", required_unless_present = "orphans")]
    pub name: Option<String>,
    /// Delete every orphan `list --orphans` finds: kubectl-irsa's roles without their service account, and
    /// the role annotation of service accounts whose role is gone or no longer trusts them
    #[arg(long, conflicts_with_all = ["name", "keep_role"])]
    pub orphans: bool,
    /// With --orphans: all namespaces
    #[arg(short = 'A', long, requires = "orphans")]
    pub all_namespaces: bool,
    #[command(flatten)]
    pub issuer: IssuerArgs,
    /// Keep the IAM role (only unbind the service account)
    #[arg(long)]
    pub keep_role: bool,
    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum OidcCommand {
    /// Create the IAM OIDC provider for the cluster's issuer (idempotent)
    #[command(
        after_help = "Examples:\n  kubectl irsa oidc associate --cluster my-cluster\n  kubectl irsa oidc associate                      # issuer from the Kubernetes API\n  kubectl irsa oidc associate --oidc-issuer https://oidc.example.com/id/ABC --dry-run"
    )]
    Associate(OidcAssociateArgs),
    /// Show the cluster's issuer and its IAM OIDC provider
    #[command(after_help = "Examples:\n  kubectl irsa oidc show --cluster my-cluster -o json")]
    Show(OidcShowArgs),
}

#[derive(Debug, Args)]
pub struct OidcAssociateArgs {
    #[command(flatten)]
    pub issuer: IssuerArgs,
    /// Client ID (audience) the provider accepts (repeatable)
    #[arg(long, value_name = "AUD", default_value = irsa_names::STS_AUDIENCE, action = clap::ArgAction::Append)]
    pub audience: Vec<String>,
    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct OidcShowArgs {
    #[command(flatten)]
    pub issuer: IssuerArgs,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to print the script for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn tags_parse() {
        let cli = Cli::try_parse_from([
            "kubectl-irsa",
            "create",
            "--name",
            "a",
            "--tags",
            "team=x,env=prod",
            "--tags",
            "k=v",
        ])
        .unwrap();
        let Command::Create(c) = cli.command else {
            panic!()
        };
        assert_eq!(
            c.tags,
            vec![
                ("team".into(), "x".into()),
                ("env".into(), "prod".into()),
                ("k".into(), "v".into())
            ]
        );
    }
}
