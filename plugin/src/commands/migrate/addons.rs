//! Which service accounts a bulk `migrate` leaves alone: those of EKS add-ons.

use k8s_openapi::api::core::v1::ServiceAccount;

/// Service accounts EKS add-ons make in kube-system (vpc-cni, EBS/EFS CSI, ADOT, CloudWatch, GuardDuty):
/// migrated only when named (eksctl #7752 migrated them in bulk, breaking add-on versions without Pod
/// Identity support).
pub const ADDON_SERVICE_ACCOUNTS: [&str; 6] = [
    "aws-node",
    "ebs-csi-controller-sa",
    "efs-csi-controller-sa",
    "adot-col-otlp-ingest",
    "cloudwatch-agent",
    "aws-guardduty-agent",
];

/// Is this service account an EKS add-on's?
pub fn is_addon_service_account(sa: &ServiceAccount) -> bool {
    let in_kube_system = sa.metadata.namespace.as_deref() == Some("kube-system");
    let name = sa.metadata.name.as_deref().unwrap_or_default();
    let eks_managed = sa
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("app.kubernetes.io/managed-by"))
        .is_some_and(|v| v.eq_ignore_ascii_case("eks"));
    eks_managed || (in_kube_system && ADDON_SERVICE_ACCOUNTS.contains(&name))
}
