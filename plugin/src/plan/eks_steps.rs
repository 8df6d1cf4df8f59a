//! Changes in EKS: Pod Identity associations. They need only the AWS client, like [`super::IamStep`]s, but
//! are their own kind so a plan shows which API a step calls.

use serde::Serialize;

use super::PlanStep;

/// A change in EKS.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum EksStep {
    /// CreatePodIdentityAssociation. Undone by deleting the association it made (its id is in the outcome).
    CreatePodIdentityAssociation {
        cluster: String,
        namespace: String,
        service_account: String,
        role_arn: String,
        #[serde(serialize_with = "crate::aws::tags_as_map")]
        tags: Vec<(String, String)>,
    },
    /// DeletePodIdentityAssociation. Undone by creating it again (EKS gives it a new id).
    DeletePodIdentityAssociation {
        cluster: String,
        association_id: String,
        namespace: String,
        service_account: String,
        role_arn: String,
        #[serde(serialize_with = "crate::aws::tags_as_map")]
        tags: Vec<(String, String)>,
    },
}

impl PlanStep for EksStep {
    fn summary(&self) -> String {
        match self {
            EksStep::CreatePodIdentityAssociation {
                cluster,
                namespace,
                service_account,
                role_arn,
                ..
            } => format!(
                "create EKS Pod Identity association {namespace}/{service_account} -> {role_arn} in cluster {cluster}"
            ),
            EksStep::DeletePodIdentityAssociation {
                cluster,
                association_id,
                namespace,
                service_account,
                role_arn,
                ..
            } => format!(
                "delete EKS Pod Identity association {association_id} ({namespace}/{service_account} -> {role_arn}) \
                 in cluster {cluster}"
            ),
        }
    }

    fn undo_summary(&self) -> String {
        match self {
            EksStep::CreatePodIdentityAssociation {
                namespace,
                service_account,
                ..
            } => format!("deleted the Pod Identity association of {namespace}/{service_account}"),
            EksStep::DeletePodIdentityAssociation {
                namespace,
                service_account,
                ..
            } => {
                format!("re-created the Pod Identity association of {namespace}/{service_account}")
            }
        }
    }
}

/// The association id at the end of an association ARN (`…:podidentityassociation/<cluster>/<id>`).
pub fn association_id_of(arn: &str) -> Option<&str> {
    arn.rsplit('/').next().filter(|id| id.starts_with("a-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_arn_and_summaries_name_both_ends() {
        assert_eq!(
            association_id_of(
                "arn:aws:eks:us-east-1:111122223333:podidentityassociation/demo/a-0123456789abcdefg"
            ),
            Some("a-0123456789abcdefg")
        );
        assert_eq!(association_id_of("nope"), None);
        let step = EksStep::CreatePodIdentityAssociation {
            cluster: "demo".into(),
            namespace: "shop".into(),
            service_account: "app".into(),
            role_arn: "arn:aws:iam::1:role/r".into(),
            tags: vec![("managed-by".into(), "kubectl-irsa".into())],
        };
        assert_eq!(
            step.summary(),
            "create EKS Pod Identity association shop/app -> arn:aws:iam::1:role/r in cluster demo"
        );
        let json = serde_json::to_value(&step).unwrap();
        assert_eq!(json["action"], "createPodIdentityAssociation");
        assert_eq!(json["serviceAccount"], "app");
        assert_eq!(json["tags"]["managed-by"], "kubectl-irsa");
    }
}
