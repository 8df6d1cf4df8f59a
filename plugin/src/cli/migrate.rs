//! `kubectl irsa migrate`'s flags and help.

use clap::{Args, ValueEnum};

use super::IssuerArgs;

pub(super) const MIGRATE_ABOUT: &str = "\
Move service accounts between IRSA and EKS Pod Identity, a plan first, in an order that keeps running pods' \
credentials working as far as the webhook allows, and name the pods that must restart.

--to pod-identity: (1) the role's trust gains Service pods.eks.amazonaws.com (sts:AssumeRole, sts:TagSession),
(2) an EKS Pod Identity association binds the service account to the same role, (3) only with
--remove-oidc-trust: the eks.amazonaws.com/role-arn annotation goes, then the role's OIDC statement for that
service account, but only once no pod of it still carries IRSA's token env; until then it stays and the pods to
restart are named (re-run to finish). Without --remove-oidc-trust both bindings work: running pods keep IRSA's env,
pods created after the association get Pod Identity's (the pod identity webhook prefers it to the annotation).

--to irsa: (1) the role's trust gains the cluster's OIDC statement for the service account, (2) the annotation,
(3) the association is deleted (while it exists the webhook keeps giving new pods Pod Identity's env, so pods can
only move after it goes): pods that have only Pod Identity's env keep their cached credentials until they expire
and are named to restart right away. The pods.eks.amazonaws.com statement stays (harmless without an association).

Every step is undone in reverse if one fails; re-runs say \"up to date\". Unlike eksctl's
`utils migrate-to-pod-identity`: a re-run finds the association it made and does not create it again (eksctl#7753,
ResourceInUseException \"Association already exists\"), and a bulk run (-n NS or -A) leaves EKS add-ons' service
accounts (aws-node, ebs-csi-controller-sa, efs-csi-controller-sa, … in kube-system, or labelled
app.kubernetes.io/managed-by=EKS) alone, since add-on versions without Pod Identity support would break
(eksctl#7752): name one with --name to migrate it.";

pub(super) const MIGRATE_EXAMPLES: &str = "\
Examples:
  # The plan for one service account (nothing changes)
  kubectl irsa migrate --to pod-identity --name my-app -n shop --cluster my-cluster --dry-run

  # Stage: trust + association; running pods keep IRSA, new pods get Pod Identity
  kubectl irsa migrate --to pod-identity --name my-app -n shop --cluster my-cluster

  # Switch: remove the annotation, and the OIDC statement once no pod needs it (re-run after restarting them)
  kubectl irsa migrate --to pod-identity --name my-app -n shop --cluster my-cluster --remove-oidc-trust

  # Every IRSA-annotated service account of the cluster (add-ons left out), as JSON
  kubectl irsa migrate --to pod-identity -A --cluster my-cluster --dry-run -o json

  # Back to IRSA
  kubectl irsa migrate --to irsa --name my-app -n shop --cluster my-cluster";

/// Which binding to move to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MigrateTo {
    /// EKS Pod Identity (an association; no annotation)
    PodIdentity,
    /// IRSA (the eks.amazonaws.com/role-arn annotation and the OIDC trust)
    Irsa,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The binding to move to
    #[arg(long, value_enum, value_name = "KIND")]
    pub to: MigrateTo,
    /// Service account name (default: every bound service account in the namespace, add-ons left out)
    #[arg(long, value_name = "SA", conflicts_with = "all_namespaces")]
    pub name: Option<String>,
    /// All namespaces
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    #[command(flatten)]
    pub issuer: IssuerArgs,
    /// With --to pod-identity: also remove the role-arn annotation and the role's OIDC statement for the
    /// service account (the statement only once no pod still uses IRSA's token)
    #[arg(long)]
    pub remove_oidc_trust: bool,
    /// Print the plans and the pods to restart; change nothing
    #[arg(long)]
    pub dry_run: bool,
}
