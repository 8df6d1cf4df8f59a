//! Well-known add-on policies (`--well-known-policy NAME`, `wellKnownPolicies` in a ClusterConfig): eksctl's
//! seven (`pkg/cfn/builder/iam_helper.go` createWellKnownPolicies and `statement.go`, whose inline statements
//! these are) and the Terraform module's common ones (terraform-aws-modules/terraform-aws-iam,
//! `modules/iam-role-for-service-accounts-eks/policies.tf`). Each is either AWS managed policies or an inline
//! policy (`kubectl-irsa-<name>`), with the namespace and service account its Helm chart uses.
//!
//! Inline documents are templates: `${Partition}`, `${AccountId}`, `${Region}` and `${ClusterName}` are filled
//! in for the target cluster (IAM policy variables such as `${aws:username}` are left alone).

use serde_json::Value;

use crate::error::{Error, Result};

/// One preset.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub name: &'static str,
    /// eksctl's `wellKnownPolicies` key, for the ones eksctl has.
    pub eksctl_key: Option<&'static str>,
    pub summary: &'static str,
    /// Where the policy comes from.
    pub source: &'static str,
    /// The Helm chart's defaults.
    pub namespace: &'static str,
    pub service_account: &'static str,
    /// AWS managed policies by path and name (`service-role/AmazonEBSCSIDriverPolicy`).
    pub managed: &'static [&'static str],
    /// The inline policy template, if any.
    inline: Option<&'static str>,
}

const EKSCTL: &str = "eksctl pkg/cfn/builder (createWellKnownPolicies, statement.go)";
const TERRAFORM: &str =
    "terraform-aws-modules/terraform-aws-iam iam-role-for-service-accounts-eks policies.tf";

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "image-builder",
        eksctl_key: Some("imageBuilder"),
        summary: "push and pull images in ECR (AmazonEC2ContainerRegistryPowerUser)",
        source: EKSCTL,
        namespace: "default",
        service_account: "image-builder",
        managed: &["AmazonEC2ContainerRegistryPowerUser"],
        inline: None,
    },
    Preset {
        name: "auto-scaler",
        eksctl_key: Some("autoScaler"),
        summary: "cluster-autoscaler, eksctl's policy",
        source: EKSCTL,
        namespace: "kube-system",
        service_account: "cluster-autoscaler",
        managed: &[],
        inline: Some(include_str!("policies/auto-scaler.json")),
    },
    Preset {
        name: "aws-load-balancer-controller",
        eksctl_key: Some("awsLoadBalancerController"),
        summary: "AWS Load Balancer Controller (ALB/NLB for Ingress and Service)",
        source: EKSCTL,
        namespace: "kube-system",
        service_account: "aws-load-balancer-controller",
        managed: &[],
        inline: Some(include_str!("policies/aws-load-balancer-controller.json")),
    },
    Preset {
        name: "external-dns",
        eksctl_key: Some("externalDNS"),
        summary: "ExternalDNS on Route 53",
        source: EKSCTL,
        namespace: "external-dns",
        service_account: "external-dns",
        managed: &[],
        inline: Some(include_str!("policies/external-dns.json")),
    },
    Preset {
        name: "cert-manager",
        eksctl_key: Some("certManager"),
        summary: "cert-manager ACME DNS-01 on Route 53",
        source: EKSCTL,
        namespace: "cert-manager",
        service_account: "cert-manager",
        managed: &[],
        inline: Some(include_str!("policies/cert-manager.json")),
    },
    Preset {
        name: "ebs-csi-controller",
        eksctl_key: Some("ebsCSIController"),
        summary: "EBS CSI driver controller, eksctl's policy",
        source: EKSCTL,
        namespace: "kube-system",
        service_account: "ebs-csi-controller-sa",
        managed: &[],
        inline: Some(include_str!("policies/ebs-csi-controller.json")),
    },
    Preset {
        name: "efs-csi-controller",
        eksctl_key: Some("efsCSIController"),
        summary: "EFS CSI driver controller, eksctl's policy",
        source: EKSCTL,
        namespace: "kube-system",
        service_account: "efs-csi-controller-sa",
        managed: &[],
        inline: Some(include_str!("policies/efs-csi-controller.json")),
    },
    Preset {
        name: "vpc-cni",
        eksctl_key: None,
        summary: "Amazon VPC CNI (aws-node), AmazonEKS_CNI_Policy",
        source: TERRAFORM,
        namespace: "kube-system",
        service_account: "aws-node",
        managed: &["AmazonEKS_CNI_Policy"],
        inline: None,
    },
    Preset {
        name: "ebs-csi",
        eksctl_key: None,
        summary: "EBS CSI driver, the AWS managed AmazonEBSCSIDriverPolicy (what the EKS add-on docs attach)",
        source: "AWS EKS user guide, Amazon EBS CSI driver IAM role",
        namespace: "kube-system",
        service_account: "ebs-csi-controller-sa",
        managed: &["service-role/AmazonEBSCSIDriverPolicy"],
        inline: None,
    },
    Preset {
        name: "efs-csi",
        eksctl_key: None,
        summary: "EFS CSI driver, the AWS managed AmazonEFSCSIDriverPolicy",
        source: "AWS EKS user guide, Amazon EFS CSI driver IAM role",
        namespace: "kube-system",
        service_account: "efs-csi-controller-sa",
        managed: &["service-role/AmazonEFSCSIDriverPolicy"],
        inline: None,
    },
    Preset {
        name: "cluster-autoscaler",
        eksctl_key: None,
        summary: "cluster-autoscaler, scoped to the cluster's node groups (kubernetes.io/cluster/<name>=owned)",
        source: TERRAFORM,
        namespace: "kube-system",
        service_account: "cluster-autoscaler",
        managed: &[],
        inline: Some(include_str!("policies/cluster-autoscaler.json")),
    },
    Preset {
        name: "karpenter",
        eksctl_key: None,
        summary: "Karpenter controller (node role KarpenterNodeRole-<cluster>, tag karpenter.sh/discovery)",
        source: TERRAFORM,
        namespace: "karpenter",
        service_account: "karpenter",
        managed: &[],
        inline: Some(include_str!("policies/karpenter.json")),
    },
    Preset {
        name: "external-secrets",
        eksctl_key: None,
        summary: "External Secrets Operator: SSM parameters, Secrets Manager, KMS decrypt",
        source: TERRAFORM,
        namespace: "external-secrets",
        service_account: "external-secrets",
        managed: &[],
        inline: Some(include_str!("policies/external-secrets.json")),
    },
    Preset {
        name: "cloudwatch-observability",
        eksctl_key: None,
        summary: "CloudWatch agent and X-Ray (CloudWatchAgentServerPolicy, AWSXrayWriteOnlyAccess)",
        source: TERRAFORM,
        namespace: "amazon-cloudwatch",
        service_account: "cloudwatch-agent",
        managed: &["CloudWatchAgentServerPolicy", "AWSXrayWriteOnlyAccess"],
        inline: None,
    },
];

/// What a preset's templates are filled with.
#[derive(Debug, Clone)]
pub struct Placeholders {
    pub partition: String,
    pub account: String,
    pub region: String,
    pub cluster: String,
}

impl Preset {
    /// The inline policy's name on the role.
    pub fn inline_policy_name(&self) -> Option<String> {
        self.inline.map(|_| format!("kubectl-irsa-{}", self.name))
    }

    /// The managed policies' ARNs.
    pub fn managed_arns(&self, partition: &str) -> Vec<String> {
        self.managed
            .iter()
            .map(|p| irsa_policy::aws_managed_policy_arn(partition, p))
            .collect()
    }

    /// The inline document with the placeholders filled in.
    pub fn inline_document(&self, values: &Placeholders) -> Option<Value> {
        let text = self
            .inline?
            .replace("${Partition}", &values.partition)
            .replace("${AccountId}", &values.account)
            .replace("${Region}", &values.region)
            .replace("${ClusterName}", &values.cluster);
        Some(serde_json::from_str(&text).expect("preset documents are JSON (unit-tested)"))
    }
}

/// A preset by its name or its eksctl key, case-insensitively.
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| {
        p.name.eq_ignore_ascii_case(name)
            || p.eksctl_key.is_some_and(|k| k.eq_ignore_ascii_case(name))
    })
}

/// Presets by name, with a usage error (and the closest name) for an unknown one.
pub fn resolve(names: &[String]) -> Result<Vec<&'static Preset>> {
    let mut out: Vec<&'static Preset> = Vec::new();
    for name in names {
        let preset = find(name).ok_or_else(|| {
            let guess = crate::lint::suggest::closest(name, PRESETS.iter().map(|p| p.name))
                .map(|g| format!(" (did you mean {g}?)"))
                .unwrap_or_default();
            Error::usage(format!(
                "--well-known-policy {name:?} is not a known policy{guess}; known: {}",
                PRESETS
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        if !out.iter().any(|p| p.name == preset.name) {
            out.push(preset);
        }
    }
    Ok(out)
}

/// The table `--well-known-policy list` prints.
pub fn listing() -> String {
    let rows: Vec<Vec<String>> = PRESETS
        .iter()
        .map(|p| {
            vec![
                p.name.to_string(),
                p.eksctl_key.unwrap_or("-").to_string(),
                format!("{}/{}", p.namespace, p.service_account),
                p.summary.to_string(),
            ]
        })
        .collect();
    crate::output::table(&["NAME", "EKSCTL", "DEFAULT SA", "POLICY"], &rows)
}

#[cfg(test)]
mod tests;
