//! AWS partitions: which ARN prefix a region's resources carry and where IAM, a global service, signs; and
//! the emulated [`Account`], which mints every ARN in its region's partition.

use std::sync::Arc;

/// The partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    Aws,
    China,
    GovCloud,
}

impl Partition {
    /// The partition of `region` as the plugin reads it too (`irsa_policy::partition_of_region`); a region of
    /// a partition the emulator does not serve (`--region` refuses those) counts as commercial.
    pub fn of_region(region: &str) -> Partition {
        Partition::served(region).unwrap_or(Partition::Aws)
    }

    /// `region`'s partition if the emulator serves it, else the name of the partition it is in (the ISO and
    /// European Sovereign Cloud partitions have their own catalogs and endpoints, none of them emulated).
    pub fn served(region: &str) -> Result<Partition, &'static str> {
        match irsa_policy::partition_of_region(region) {
            "aws" => Ok(Partition::Aws),
            "aws-cn" => Ok(Partition::China),
            "aws-us-gov" => Ok(Partition::GovCloud),
            other => Err(other),
        }
    }

    /// The ARN's second field: `arn:<partition>:iam::…`.
    pub fn name(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::China => "aws-cn",
            Partition::GovCloud => "aws-us-gov",
        }
    }

    /// IAM is global: requests to it are signed for the partition's one IAM region (botocore's endpoint
    /// rules: `aws-global` → us-east-1, `aws-cn-global` → cn-north-1, `aws-us-gov-global` → us-gov-west-1).
    pub fn iam_signing_region(self) -> &'static str {
        match self {
            Partition::Aws => "us-east-1",
            Partition::China => "cn-north-1",
            Partition::GovCloud => "us-gov-west-1",
        }
    }

    /// What every AWS managed policy's ARN starts with in this partition (its path follows).
    pub fn managed_policy_prefix(self) -> String {
        format!("arn:{}:iam::aws:policy", self.name())
    }
}

/// The one emulated account and the partition of the region it serves (`--region cn-north-1` makes
/// `arn:aws-cn:` roles, providers, sessions and managed policies, as AWS China does).
#[derive(Debug, Clone)]
pub struct Account {
    id: Arc<str>,
    partition: Partition,
}

impl Account {
    pub fn new(id: &str, region: &str) -> Account {
        Account {
            id: id.into(),
            partition: Partition::of_region(region),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn partition(&self) -> Partition {
        self.partition
    }

    /// `arn:<partition>:<service>:<region>:<account>:<resource>`; global services leave `region` empty.
    pub fn arn(&self, service: &str, region: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{region}:{}:{resource}",
            self.partition.name(),
            self.id
        )
    }

    /// An IAM ARN of this account: `role/path/name`, `policy/…`, `oidc-provider/…`, `root`.
    pub fn iam_arn(&self, resource: &str) -> String {
        self.arn("iam", "", resource)
    }

    /// An STS ARN of this account: `assumed-role/role/session`.
    pub fn sts_arn(&self, resource: &str) -> String {
        self.arn("sts", "", resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_map_to_partitions() {
        assert_eq!(Partition::of_region("us-east-1").name(), "aws");
        assert_eq!(
            Partition::of_region("eu-west-1").iam_signing_region(),
            "us-east-1"
        );
        assert_eq!(Partition::of_region("cn-northwest-1").name(), "aws-cn");
        assert_eq!(
            Partition::of_region("cn-northwest-1").iam_signing_region(),
            "cn-north-1"
        );
        assert_eq!(Partition::of_region("us-gov-east-1").name(), "aws-us-gov");
        assert_eq!(
            Partition::of_region("us-gov-east-1").iam_signing_region(),
            "us-gov-west-1"
        );
    }

    #[test]
    fn regions_of_unserved_partitions_are_named() {
        assert_eq!(Partition::served("eusc-de-east-1"), Err("aws-eusc"));
        assert_eq!(Partition::served("us-isob-east-1"), Err("aws-iso-b"));
        assert_eq!(Partition::served("cn-north-1"), Ok(Partition::China));
        assert_eq!(Partition::served("ap-southeast-7"), Ok(Partition::Aws));
    }

    #[test]
    fn accounts_mint_arns_in_their_partition() {
        let china = Account::new("111122223333", "cn-north-1");
        assert_eq!(
            china.iam_arn("role/app"),
            "arn:aws-cn:iam::111122223333:role/app"
        );
        assert_eq!(
            china.sts_arn("assumed-role/app/s"),
            "arn:aws-cn:sts::111122223333:assumed-role/app/s"
        );
        let gov = Account::new("111122223333", "us-gov-west-1");
        assert_eq!(
            gov.arn("eks", "us-gov-west-1", "cluster/c"),
            "arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/c"
        );
        assert_eq!(
            gov.partition().managed_policy_prefix(),
            "arn:aws-us-gov:iam::aws:policy"
        );
        assert_eq!(
            Account::new("111122223333", "eu-west-1").iam_arn("root"),
            "arn:aws:iam::111122223333:root"
        );
    }
}
