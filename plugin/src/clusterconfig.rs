//! eksctl's `ClusterConfig` (`eksctl.io/v1alpha5`), the part `create -f` reads: `metadata.name`,
//! `metadata.region` and `iam.serviceAccounts[]`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ClusterConfig {
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ClusterMeta,
    #[serde(default)]
    pub iam: Option<IamConfig>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ClusterMeta {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct IamConfig {
    #[serde(default)]
    pub with_oidc: Option<bool>,
    #[serde(default)]
    pub service_accounts: Vec<ServiceAccountConfig>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountConfig {
    pub metadata: SaMeta,
    #[serde(default, rename = "attachPolicyARNs")]
    pub attach_policy_arns: Vec<String>,
    #[serde(default)]
    pub attach_policy: Option<Value>,
    #[serde(default, rename = "attachRoleARN")]
    pub attach_role_arn: Option<String>,
    #[serde(default)]
    pub role_name: Option<String>,
    #[serde(default)]
    pub role_only: Option<bool>,
    #[serde(default)]
    pub permissions_boundary: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub subject_pattern: Option<String>,
    /// eksctl's shorthand policies, expanded by [`crate::presets`].
    #[serde(default)]
    pub well_known_policies: WellKnownPolicies,
}

/// `wellKnownPolicies`, as eksctl reads it (`pkg/apis/eksctl.io/v1alpha5` WellKnownPolicies): one boolean per
/// add-on; an unknown key is an error, as it is for eksctl's strict decoder.
#[derive(Debug, Deserialize, Default, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WellKnownPolicies {
    #[serde(default)]
    pub image_builder: bool,
    #[serde(default)]
    pub auto_scaler: bool,
    #[serde(default, rename = "awsLoadBalancerController")]
    pub aws_load_balancer_controller: bool,
    #[serde(default, rename = "externalDNS")]
    pub external_dns: bool,
    #[serde(default)]
    pub cert_manager: bool,
    #[serde(default, rename = "ebsCSIController")]
    pub ebs_csi_controller: bool,
    #[serde(default, rename = "efsCSIController")]
    pub efs_csi_controller: bool,
}

impl WellKnownPolicies {
    /// The presets switched on, by their `--well-known-policy` names.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.image_builder, "image-builder"),
            (self.auto_scaler, "auto-scaler"),
            (
                self.aws_load_balancer_controller,
                "aws-load-balancer-controller",
            ),
            (self.external_dns, "external-dns"),
            (self.cert_manager, "cert-manager"),
            (self.ebs_csi_controller, "ebs-csi-controller"),
            (self.efs_csi_controller, "efs-csi-controller"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct SaMeta {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

impl ClusterConfig {
    pub fn parse(path: &Path, text: &str) -> Result<ClusterConfig> {
        let invalid = |message: String| Error::InvalidFile {
            path: path.to_path_buf(),
            message,
        };
        let config: ClusterConfig = serde_yaml::from_str(text)
            .map_err(|e| invalid(format!("not an eksctl ClusterConfig: {e}")))?;
        if let Some(kind) = &config.kind {
            if kind != "ClusterConfig" {
                return Err(invalid(format!("kind is {kind:?}, expected ClusterConfig")));
            }
        }
        let accounts = config
            .iam
            .as_ref()
            .map(|i| i.service_accounts.as_slice())
            .unwrap_or_default();
        if accounts.is_empty() {
            return Err(invalid(
                "iam.serviceAccounts is empty: there is nothing to create".into(),
            ));
        }
        for (i, sa) in accounts.iter().enumerate() {
            if sa.metadata.name.is_empty() {
                return Err(invalid(format!(
                    "iam.serviceAccounts[{i}].metadata.name is empty"
                )));
            }
        }
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<ClusterConfig> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    pub fn service_accounts(&self) -> &[ServiceAccountConfig] {
        self.iam
            .as_ref()
            .map(|i| i.service_accounts.as_slice())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: cluster-13
  region: us-west-2
iam:
  withOIDC: true
  serviceAccounts:
  - metadata:
      name: s3-reader
      namespace: backend-apps
      labels: {aws-usage: "application"}
    attachPolicyARNs:
    - "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    tags:
      Owner: "John Doe"
  - metadata:
      name: cache-access
      namespace: backend-apps
    attachPolicy:
      Version: "2012-10-17"
      Statement:
      - Effect: Allow
        Action: ["dynamodb:GetItem"]
        Resource: "*"
    roleName: custom-role
    permissionsBoundary: "arn:aws:iam::11111:policy/entity/boundary"
  - metadata:
      name: existing
    attachRoleARN: arn:aws:iam::111122223333:role/existing
    roleOnly: true
"#;

    #[test]
    fn parses_eksctl_example() {
        let c = ClusterConfig::parse(Path::new("c.yaml"), EXAMPLE).unwrap();
        assert_eq!(c.metadata.name.as_deref(), Some("cluster-13"));
        assert_eq!(c.metadata.region.as_deref(), Some("us-west-2"));
        let sas = c.service_accounts();
        assert_eq!(sas.len(), 3);
        assert_eq!(sas[0].metadata.namespace.as_deref(), Some("backend-apps"));
        assert_eq!(sas[0].attach_policy_arns.len(), 1);
        assert_eq!(sas[0].tags["Owner"], "John Doe");
        assert_eq!(sas[0].metadata.labels["aws-usage"], "application");
        assert_eq!(
            sas[1].attach_policy.as_ref().unwrap()["Statement"][0]["Action"][0],
            "dynamodb:GetItem"
        );
        assert_eq!(sas[1].role_name.as_deref(), Some("custom-role"));
        assert_eq!(sas[2].role_only, Some(true));
        assert!(sas[2].metadata.namespace.is_none());
    }

    #[test]
    fn rejects_what_it_cannot_do() {
        let p = Path::new("c.yaml");
        assert!(ClusterConfig::parse(p, "kind: Pod\n")
            .unwrap_err()
            .to_string()
            .contains("expected ClusterConfig"));
        assert!(ClusterConfig::parse(p, "kind: ClusterConfig\n")
            .unwrap_err()
            .to_string()
            .contains("iam.serviceAccounts is empty"));
        let wk = "iam:\n  serviceAccounts:\n  - metadata: {name: a}\n    wellKnownPolicies: {autoScaler: true, ebsCSIController: true}\n";
        let config = ClusterConfig::parse(p, wk).unwrap();
        assert_eq!(
            config.service_accounts()[0].well_known_policies.names(),
            ["auto-scaler", "ebs-csi-controller"]
        );
        let unknown = "iam:\n  serviceAccounts:\n  - metadata: {name: a}\n    wellKnownPolicies: {autoScaling: true}\n";
        assert!(ClusterConfig::parse(p, unknown)
            .unwrap_err()
            .to_string()
            .contains("unknown field `autoScaling`"));
        match ClusterConfig::parse(p, ": : :") {
            Err(Error::InvalidFile { message, .. }) => {
                assert!(message.contains("not an eksctl ClusterConfig"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}
