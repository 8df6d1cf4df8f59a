//! Amazon Resource Names and the few IRSA-specific spellings derived from them.
//!
//! The OIDC issuer appears in three spellings and mixing them up is the classic IRSA bug: the issuer URL
//! (`https://oidc.eks…/id/X`, what EKS reports and what tokens carry in `iss`), the host+path used in trust
//! policy condition keys (`oidc.eks…/id/X:sub`), and the provider ARN
//! (`arn:aws:iam::<acct>:oidc-provider/oidc.eks…/id/X`). The helpers here convert between them in one place.

use std::fmt;
use std::str::FromStr;

use crate::error::PolicyError;

/// Every AWS partition, as the SDKs' partitions.json lists them (aws-sdk-iam 1.133, `endpoint_lib.rs`):
/// commercial, China, the European Sovereign Cloud, the ISO regions, GovCloud (US).
pub const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-eusc",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-us-gov",
];

/// True for a partition that exists (see [`PARTITIONS`]).
pub fn is_partition(s: &str) -> bool {
    PARTITIONS.contains(&s)
}

/// A parsed ARN: `arn:partition:service:region:account:resource`.
///
/// The resource part keeps any further `:` (e.g. `arn:aws:logs:us-east-1:1:log-group:x:*`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account: String,
    pub resource: String,
}

impl FromStr for Arn {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || PolicyError::InvalidArn(s.to_string());
        let rest = s.strip_prefix("arn:").ok_or_else(invalid)?;
        let mut parts = rest.splitn(5, ':');
        let mut next = || parts.next().map(str::to_string).ok_or_else(invalid);
        let arn = Arn {
            partition: next()?,
            service: next()?,
            region: next()?,
            account: next()?,
            resource: next()?,
        };
        if arn.partition.is_empty() || arn.service.is_empty() || arn.resource.is_empty() {
            return Err(invalid());
        }
        Ok(arn)
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

impl Arn {
    /// The resource type: the resource part up to the first `/` or `:` (`role`, `oidc-provider`, `root`).
    pub fn resource_type(&self) -> &str {
        self.resource
            .split(['/', ':'])
            .next()
            .unwrap_or(self.resource.as_str())
    }

    /// True for `arn:<partition>:iam::<account>:root`, which in a principal stands for the whole account.
    pub fn is_account_root(&self) -> bool {
        self.service == "iam" && self.resource == "root"
    }
}

/// True for a 12-digit AWS account id, which IAM accepts in `Principal.AWS` as shorthand for the account root.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `arn:aws:iam::<account>:root`, the principal that stands for a whole account.
pub fn account_root_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// The account id of an ARN (empty for S3 buckets and other account-less ARNs), or `None` if not an ARN.
pub fn account_from_arn(arn: &str) -> Option<String> {
    arn.parse::<Arn>().ok().map(|a| a.account)
}

/// `arn:aws:iam::<account>:role<path><name>`; `path` is `/` or `/…/` as IAM stores it (empty means `/`).
pub fn role_arn(account: &str, path: &str, name: &str) -> String {
    let path = if path.is_empty() { "/" } else { path };
    format!("arn:aws:iam::{account}:role{path}{name}")
}

/// The role name in a role ARN (`…:role/path/name` → `name`) or an assumed-role session ARN
/// (`arn:aws:sts::…:assumed-role/name/session` → `name`). `None` for anything else.
pub fn role_name_from_arn(arn: &str) -> Option<String> {
    let arn: Arn = arn.parse().ok()?;
    let name = match arn.service.as_str() {
        "iam" => arn.resource.strip_prefix("role/")?.rsplit('/').next()?,
        "sts" => arn
            .resource
            .strip_prefix("assumed-role/")?
            .split('/')
            .next()?,
        _ => return None,
    };
    (!name.is_empty()).then(|| name.to_string())
}

/// The issuer as it appears in provider ARNs and condition keys: no scheme, no trailing slash.
/// `https://oidc.eks.us-east-1.amazonaws.com/id/ABC/` → `oidc.eks.us-east-1.amazonaws.com/id/ABC`.
pub fn issuer_host_path(issuer_url: &str) -> String {
    let s = issuer_url.trim();
    let s = strip_prefix_ignore_ascii_case(s, "https://")
        .or_else(|| strip_prefix_ignore_ascii_case(s, "http://"))
        .unwrap_or(s);
    s.trim_end_matches('/').to_string()
}

/// The IAM OIDC provider ARN for an issuer: `arn:aws:iam::<account>:oidc-provider/<issuer host+path>`.
pub fn provider_arn(account: &str, issuer_url: &str) -> String {
    format!(
        "arn:aws:iam::{account}:oidc-provider/{}",
        issuer_host_path(issuer_url)
    )
}

/// The issuer URL (`https://…`) an OIDC provider ARN stands for, or `None` if `arn` is not one.
pub fn provider_arn_to_issuer(arn: &str) -> Option<String> {
    provider_host_path(arn).map(|hp| format!("https://{hp}"))
}

/// The issuer host+path (condition-key prefix) of an OIDC provider ARN, or `None` if `arn` is not one.
pub fn provider_host_path(arn: &str) -> Option<String> {
    let arn: Arn = arn.parse().ok()?;
    if arn.service != "iam" {
        return None;
    }
    let hp = arn.resource.strip_prefix("oidc-provider/")?;
    (!hp.is_empty()).then(|| hp.to_string())
}

fn strip_prefix_ignore_ascii_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for s in [
            "arn:aws:iam::111122223333:role/my-role",
            "arn:aws:s3:::my-pod-secrets-bucket/*",
            "arn:aws:logs:us-east-1:111122223333:log-group:x:*",
            "arn:aws-cn:iam::111122223333:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/X",
        ] {
            let arn: Arn = s.parse().unwrap();
            assert_eq!(arn.to_string(), s);
        }
        let arn: Arn = "arn:aws:logs:us-east-1:1:log-group:x:*".parse().unwrap();
        assert_eq!(arn.service, "logs");
        assert_eq!(arn.region, "us-east-1");
        assert_eq!(arn.account, "1");
        assert_eq!(arn.resource, "log-group:x:*");
        assert_eq!(arn.resource_type(), "log-group");
    }

    #[test]
    fn rejects_non_arns() {
        for s in [
            "",
            "arn:",
            "arn:aws",
            "arn:aws:iam::1",
            "arn:aws:iam::1:",
            "role/x",
            "ARN:aws:iam::1:root",
        ] {
            assert_eq!(
                s.parse::<Arn>().unwrap_err().code(),
                "ValidationError",
                "{s}"
            );
        }
        assert_eq!("nope".parse::<Arn>().unwrap_err().code(), "ValidationError");
    }

    #[test]
    fn role_names() {
        assert_eq!(
            role_name_from_arn("arn:aws:iam::111122223333:role/my-role").as_deref(),
            Some("my-role")
        );
        assert_eq!(
            role_name_from_arn("arn:aws:iam::111122223333:role/team/a/my-role").as_deref(),
            Some("my-role")
        );
        assert_eq!(
            role_name_from_arn("arn:aws:sts::111122223333:assumed-role/my-role/sess").as_deref(),
            Some("my-role")
        );
        assert_eq!(
            role_name_from_arn("arn:aws:iam::111122223333:user/bob"),
            None
        );
        assert_eq!(role_name_from_arn("arn:aws:iam::111122223333:role/"), None);
        assert_eq!(role_name_from_arn("my-role"), None);
    }

    #[test]
    fn issuer_spellings() {
        let url = "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E";
        assert_eq!(
            issuer_host_path(url),
            "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"
        );
        assert_eq!(issuer_host_path("HTTPS://host/x/"), "host/x");
        assert_eq!(issuer_host_path("host/x"), "host/x");
        let arn = provider_arn("111122223333", url);
        assert_eq!(
            arn,
            "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E"
        );
        assert_eq!(provider_arn_to_issuer(&arn).as_deref(), Some(url));
        assert_eq!(provider_arn_to_issuer("arn:aws:iam::1:role/x"), None);
        assert_eq!(
            provider_arn_to_issuer("arn:aws:iam::1:oidc-provider/"),
            None
        );
        assert_eq!(provider_arn_to_issuer("garbage"), None);
        // Non-ASCII input must not trip byte slicing.
        assert_eq!(issuer_host_path("hé"), "hé");
    }

    #[test]
    fn accounts() {
        assert!(is_account_id("111122223333"));
        assert!(!is_account_id("11112222333"));
        assert!(!is_account_id("11112222333x"));
        assert_eq!(account_root_arn("1"), "arn:aws:iam::1:root");
        assert_eq!(role_arn("1", "", "r"), "arn:aws:iam::1:role/r");
        assert_eq!(role_arn("1", "/a/", "r"), "arn:aws:iam::1:role/a/r");
        assert_eq!(account_from_arn("arn:aws:s3:::b").as_deref(), Some(""));
        assert!("arn:aws:iam::1:root"
            .parse::<Arn>()
            .unwrap()
            .is_account_root());
    }
}
