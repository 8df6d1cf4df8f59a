//! AWS partitions: which ARN prefix a region's resources carry and where IAM, a global service, signs.

/// The partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    Aws,
    China,
    GovCloud,
}

impl Partition {
    pub fn of_region(region: &str) -> Partition {
        if region.starts_with("cn-") {
            Partition::China
        } else if region.starts_with("us-gov-") {
            Partition::GovCloud
        } else {
            Partition::Aws
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
}
