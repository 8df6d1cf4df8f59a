//! What IAM says about one `Resource`/`NotResource` value.
//!
//! IAM splits the value at its colons and looks at each part in turn, so the message names the first part
//! that is wrong. It does not read the first part at all: `aws:s3:::b` is taken as partition `s3`, and the
//! partition must be the document's own (a policy in China that says `arn:aws:…` gets `Partition "aws" is
//! not valid`, as users of aws-cn report in aws/chalice#777 and kubernetes-sigs/aws-load-balancer-controller
//! #1557), or `*`. A caller that does not know the account's partition yet passes [`ANY_PARTITION`], which
//! takes any partition that exists.

use crate::arn::is_partition;
use crate::error::PolicyError;
use crate::validate::ANY_PARTITION;

/// What an IAM resource may start with after `arn:<partition>:iam::<account>:`, as IAM's message lists it.
const IAM_RESOURCE_TYPES: [&str; 13] = [
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

/// The first format error of `resource` in a document of `partition`.
pub(super) fn check(resource: &str, partition: &str) -> Result<(), PolicyError> {
    if resource == "*" {
        return Ok(());
    }
    let Some((_, after_arn)) = resource.split_once(':') else {
        return Err(PolicyError::InvalidResource(resource.to_string()));
    };
    let (found, rest) = match after_arn.split_once(':') {
        Some((found, rest)) => (found, Some(rest)),
        None => (after_arn, None),
    };
    let in_partition =
        found == "*" || found == partition || (partition == ANY_PARTITION && is_partition(found));
    if !in_partition {
        return Err(PolicyError::InvalidPartition {
            partition: found.to_string(),
            resource: spelled_back(found, rest),
        });
    }
    let Some(rest) = rest else {
        return Err(PolicyError::UnqualifiedResourceVendor(resource.to_string()));
    };
    let mut parts = rest.splitn(4, ':');
    let service = parts.next().unwrap_or_default();
    let region = parts.next().unwrap_or_default();
    let account = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or_default();
    match service {
        "iam" if !region.is_empty() => Err(PolicyError::IamResourceRegion(resource.to_string())),
        "iam" if !iam_path_ok(path) => {
            Err(PolicyError::InvalidIamResourcePath(resource.to_string()))
        }
        // Bucket and object ARNs have neither region nor account; access points have both
        // (arn:aws:s3:us-west-2:123456789012:accesspoint/x is accepted, LocalStack's valid-50).
        "s3" if !region.is_empty() && account.is_empty() => {
            Err(PolicyError::S3ResourceRegion(resource.to_string()))
        }
        _ => Ok(()),
    }
}

fn iam_path_ok(path: &str) -> bool {
    path == "*" || path == "root" || IAM_RESOURCE_TYPES.iter().any(|t| path.starts_with(t))
}

/// The legacy parser wants six parts whenever parts are left empty (`arn:aws:s3::bucket` fails, the short
/// `arn:aws:anything` does not) and a service in the third.
pub(super) fn legacy_parses(resource: &str) -> bool {
    if resource == "*" {
        return true;
    }
    let colons = resource.matches(':').count();
    let enough_parts = colons >= 5 || !resource.contains("::");
    let service_named = resource.split(':').nth(2).is_none_or(|s| !s.is_empty());
    enough_parts && service_named
}

/// The ARN as IAM quotes it in the partition error: `arn:<partition>:` and four more parts, `*` for each
/// that is missing (`a:b:c` → `arn:b:c:*:*:*`), the fourth keeping any further colons.
fn spelled_back(partition: &str, rest: Option<&str>) -> String {
    let parts: Vec<&str> = rest.unwrap_or_default().split(':').collect();
    let part = |i: usize| parts.get(i).copied().unwrap_or("*");
    let first = if parts.len() == 1 && parts[0].is_empty() {
        "*"
    } else {
        parts[0]
    };
    let last = if parts.len() > 3 {
        parts[3..].join(":")
    } else {
        "*".to_string()
    };
    format!("arn:{partition}:{first}:{}:{}:{last}", part(1), part(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_errors_spell_the_arn_back_as_iam_does() {
        // IAM's texts, from LocalStack's recording (invalid-21 … invalid-25).
        for (resource, partition, spelled) in [
            ("a:bsdfdsafsad", "bsdfdsafsad", "arn:bsdfdsafsad:*:*:*:*"),
            ("a:b:cadfsdf", "b", "arn:b:cadfsdf:*:*:*"),
            ("a:b:c:d:e:f:g:h", "b", "arn:b:c:d:e:f:g:h"),
            ("aws:s3:::example_bucket", "s3", "arn:s3:::example_bucket:*"),
            (
                "arn:aws-cn:s3:::example_bucket",
                "aws-cn",
                "arn:aws-cn:s3:::example_bucket",
            ),
        ] {
            assert_eq!(
                check(resource, "aws"),
                Err(PolicyError::InvalidPartition {
                    partition: partition.into(),
                    resource: spelled.into()
                }),
                "{resource}"
            );
        }
    }

    #[test]
    fn the_documents_own_partition_and_a_wildcard_are_accepted() {
        assert_eq!(check("arn:aws-cn:s3:::b", "aws-cn"), Ok(()));
        assert_eq!(check("arn:*:s3:::b", "aws"), Ok(()));
        assert!(check("arn:aws:s3:::b", "aws-cn").is_err());
        assert_eq!(check("arn:aws-us-gov:s3:::b", ANY_PARTITION), Ok(()));
        assert!(check("arn:aws-moon:s3:::b", ANY_PARTITION).is_err());
    }

    #[test]
    fn iam_and_s3_resources() {
        assert_eq!(check("arn:aws:iam::111122223333:role/x", "aws"), Ok(()));
        assert_eq!(check("arn:aws:iam::111122223333:root", "aws"), Ok(()));
        assert_eq!(check("arn:aws:iam::*:*", "aws"), Ok(()));
        assert!(matches!(
            check("arn:aws:iam:us-east-1::role/x", "aws"),
            Err(PolicyError::IamResourceRegion(_))
        ));
        assert!(matches!(
            check("arn:aws:iam::1:bucket", "aws"),
            Err(PolicyError::InvalidIamResourcePath(_))
        ));
        assert!(matches!(
            check("arn:aws:s3:us-east-1::b", "aws"),
            Err(PolicyError::S3ResourceRegion(_))
        ));
        assert_eq!(
            check("arn:aws:s3:us-west-2:123456789012:accesspoint/a", "aws"),
            Ok(())
        );
        assert_eq!(check("arn:aws:ec2:us-east-1::b", "aws"), Ok(()));
    }

    #[test]
    fn legacy_parts() {
        assert!(legacy_parses("arn:aws:s3:::b"));
        assert!(legacy_parses("arn:aws:fdsasf"));
        assert!(!legacy_parses("arn:aws:s3::b"));
        assert!(!legacy_parses("arn:aws::fdsasf"));
        assert!(!legacy_parses("arn:aws::::b"));
    }
}
