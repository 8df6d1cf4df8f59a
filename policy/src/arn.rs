//! Amazon Resource Names and the few IRSA-specific spellings derived from them.
//!
//! The OIDC issuer appears in three spellings and mixing them up is the classic IRSA bug: the issuer URL
//! (`https://oidc.eks…/id/X`, what EKS reports and what tokens carry in `iss`), the host+path used in trust
//! policy condition keys (`oidc.eks…/id/X:sub`), and the provider ARN
//! (`arn:<partition>:iam::<acct>:oidc-provider/oidc.eks…/id/X`). The helpers here convert between them in one place.

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

/// An AWS account in its partition, which every IAM ARN of the account is minted from: `arn:aws:` in the
/// commercial regions, `arn:aws-cn:` in China, `arn:aws-us-gov:` in GovCloud. Knowing only the id is how
/// tools end up writing `arn:aws:` trust policies that IAM China refuses, so the builders take this.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Account {
    pub partition: String,
    pub id: String,
}

impl Account {
    pub fn new(partition: impl Into<String>, id: impl Into<String>) -> Account {
        Account {
            partition: partition.into(),
            id: id.into(),
        }
    }

    /// An account in the commercial partition (`aws`).
    pub fn aws(id: impl Into<String>) -> Account {
        Account::new("aws", id)
    }

    /// The account an ARN belongs to, in the ARN's partition (a caller's `arn:aws-cn:iam::1:user/x`, a role's
    /// ARN); `None` for a string that is not an ARN or an ARN without an account (`arn:aws:s3:::bucket`).
    pub fn of_arn(arn: &str) -> Option<Account> {
        let arn: Arn = arn.parse().ok()?;
        (!arn.account.is_empty()).then(|| Account::new(arn.partition, arn.account))
    }

    /// `arn:<partition>:iam::<account>:root`, the principal that stands for the whole account.
    pub fn root_arn(&self) -> String {
        format!("arn:{}:iam::{}:root", self.partition, self.id)
    }

    /// `arn:<partition>:iam::<account>:role<path><name>`; `path` is `/` or `/…/` as IAM stores it (empty
    /// means `/`).
    pub fn role_arn(&self, path: &str, name: &str) -> String {
        let path = if path.is_empty() { "/" } else { path };
        format!("arn:{}:iam::{}:role{path}{name}", self.partition, self.id)
    }

    /// The IAM OIDC provider ARN for an issuer:
    /// `arn:<partition>:iam::<account>:oidc-provider/<issuer host+path>`.
    pub fn provider_arn(&self, issuer_url: &str) -> String {
        format!(
            "arn:{}:iam::{}:oidc-provider/{}",
            self.partition,
            self.id,
            issuer_host_path(issuer_url)
        )
    }
}

/// The partition a region belongs to, as the SDKs' partitions.json matches them: `cn-…` is `aws-cn`,
/// `us-gov-…` is `aws-us-gov`, `eusc-…` is `aws-eusc`, `us-iso-…`/`us-isob-…` the ISO partitions; every
/// other region is commercial (`aws`).
pub fn partition_of_region(region: &str) -> &'static str {
    const PREFIXES: [(&str, &str); 6] = [
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("eusc-", "aws-eusc"),
        ("us-isob-", "aws-iso-b"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, partition)| partition)
}

/// `arn:<partition>:iam::aws:policy/<path-and-name>`, an AWS managed policy in a partition.
pub fn aws_managed_policy_arn(partition: &str, path_and_name: &str) -> String {
    format!(
        "arn:{partition}:iam::aws:policy/{}",
        path_and_name.trim_start_matches('/')
    )
}

/// The account id of an ARN (empty for S3 buckets and other account-less ARNs), or `None` if not an ARN.
pub fn account_from_arn(arn: &str) -> Option<String> {
    arn.parse::<Arn>().ok().map(|a| a.account)
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
        let arn = Account::aws("111122223333").provider_arn(url);
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
    fn accounts_mint_arns_in_their_partition() {
        let china = Account::of_arn("arn:aws-cn:iam::111122223333:user/admin").unwrap();
        assert_eq!(china, Account::new("aws-cn", "111122223333"));
        assert_eq!(china.root_arn(), "arn:aws-cn:iam::111122223333:root");
        assert_eq!(
            china.role_arn("/team/", "app"),
            "arn:aws-cn:iam::111122223333:role/team/app"
        );
        assert_eq!(
            china.provider_arn("https://oidc.eks.cn-north-1.amazonaws.com.cn/id/X/"),
            "arn:aws-cn:iam::111122223333:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/X"
        );
        let gov = Account::of_arn("arn:aws-us-gov:sts::1:assumed-role/r/s").unwrap();
        assert_eq!(gov.role_arn("/", "r"), "arn:aws-us-gov:iam::1:role/r");
        assert_eq!(Account::of_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(Account::of_arn("111122223333"), None);
        assert_eq!(partition_of_region("cn-northwest-1"), "aws-cn");
        assert_eq!(partition_of_region("us-gov-east-1"), "aws-us-gov");
        assert_eq!(partition_of_region("us-isob-east-1"), "aws-iso-b");
        assert_eq!(partition_of_region("us-iso-east-1"), "aws-iso");
        assert_eq!(partition_of_region("eu-west-1"), "aws");
        assert_eq!(
            aws_managed_policy_arn("aws-cn", "service-role/AmazonEBSCSIDriverPolicy"),
            "arn:aws-cn:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
        );
    }

    #[test]
    fn accounts() {
        assert!(is_account_id("111122223333"));
        assert!(!is_account_id("11112222333"));
        assert!(!is_account_id("11112222333x"));
        assert_eq!(Account::aws("1").root_arn(), "arn:aws:iam::1:root");
        assert_eq!(Account::aws("1").role_arn("", "r"), "arn:aws:iam::1:role/r");
        assert_eq!(
            Account::aws("1").role_arn("/a/", "r"),
            "arn:aws:iam::1:role/a/r"
        );
        assert_eq!(account_from_arn("arn:aws:s3:::b").as_deref(), Some(""));
        assert!("arn:aws:iam::1:root"
            .parse::<Arn>()
            .unwrap()
            .is_account_root());
    }
}
