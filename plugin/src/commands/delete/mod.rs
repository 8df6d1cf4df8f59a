//! `kubectl irsa delete`: undo a binding, touching only what kubectl-irsa manages. A role created by
//! kubectl-irsa loses its policies and is deleted (or, when it also trusts other service accounts, only loses
//! this one's trust statement); a service account kubectl-irsa created is deleted, any other only loses its
//! annotation. What exists is read first ([`gather_role`]), the plan is computed from it ([`planner`]), then
//! printed or applied.

mod planner;

use irsa_names::ROLE_ARN_ANNOTATION;
use irsa_policy::service_account_subject;
use k8s_openapi::api::core::v1::ServiceAccount;
use serde::Serialize;
use serde_json::Value;

pub use planner::{
    plan_association_deletion, plan_pod_identity_role_deletion, plan_role_deletion, plan_unbind,
    split_trust, RoleFacts,
};

use super::{print, Ctx};
use crate::aws::Aws;
use crate::cli::{DeleteArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::executor::{KubeSteps, Live};
use crate::kube::{annotations, is_dns_subdomain};
use crate::output::structured;
use crate::plan::{Executor, Plan, PlanStep};

/// What IAM has for the role `arn` names.
pub(crate) async fn gather_role(aws: &Aws, arn: &str) -> Result<RoleFacts> {
    let Some(name) = irsa_policy::role_name_from_arn(arn) else {
        return Ok(RoleFacts::NotARoleArn(arn.to_string()));
    };
    let Some(role) = aws.get_role(&name).await? else {
        return Ok(RoleFacts::Missing { name });
    };
    if !role.is_managed() {
        return Ok(RoleFacts::Found {
            role: Box::new(role),
            attached: Vec::new(),
            inline: Vec::new(),
        });
    }
    let attached = aws.attached_policies(&name).await?;
    let mut inline = Vec::new();
    for policy_name in aws.inline_policies(&name).await? {
        let document = aws
            .inline_policy(&name, &policy_name)
            .await?
            .unwrap_or(Value::Null);
        inline.push((policy_name, document));
    }
    Ok(RoleFacts::Found {
        role: Box::new(role),
        attached,
        inline,
    })
}

pub async fn run(ctx: &Ctx, args: DeleteArgs) -> Result<()> {
    let ns = ctx.namespace()?;
    if args.orphans {
        return super::orphans::delete(ctx, &args).await;
    }
    let name = args.name.clone().unwrap_or_default();
    if !is_dns_subdomain(&name) {
        return Err(Error::usage(format!(
            "service account name {name:?} is not valid (lowercase letters, digits, '-' and '.')"
        )));
    }
    let kube = ctx.kube().await?;
    let sa = kube.get_service_account(&ns, &name).await?;
    // Pod Identity: the cluster's associations for this service account, when the cluster is known.
    let (associations, shared_with) = match ctx.eks_cluster(&args.issuer) {
        Some(cluster) => {
            let aws = ctx.aws().await?;
            // Given --cluster, the associations must be read; from the context, a failure only warns.
            let all = match aws.pod_identity_associations(&cluster, None, None).await {
                Ok(all) => all,
                Err(e) if args.issuer.cluster.is_none() => {
                    super::warn(&format!(
                        "cannot read the EKS Pod Identity associations of cluster {cluster} ({e}); deleting the \
                         IRSA binding only"
                    ));
                    Vec::new()
                }
                Err(e) => return Err(e),
            };
            let (mine, others): (Vec<_>, Vec<_>) = all
                .into_iter()
                .partition(|a| a.namespace == ns && a.service_account == name);
            (mine, others)
        }
        _ => (Vec::new(), Vec::new()),
    };
    let Some(sa) = sa.or_else(|| (!associations.is_empty()).then(ServiceAccount::default)) else {
        return Err(Error::NotFound(format!(
            "service account {ns}/{name} not found (kubectl get serviceaccounts -n {ns})"
        )));
    };
    let exists = sa.metadata.name.is_some();
    let role_arn = annotations(&sa.metadata).get(ROLE_ARN_ANNOTATION).cloned();
    let mut unbind = if exists {
        plan_unbind(&ns, &name, &sa)
    } else {
        let mut plan = Plan::new(format!("service account {ns}/{name}"));
        plan.ok(format!("service account {ns}/{name} does not exist"));
        plan
    };
    if !associations.is_empty() {
        let aws = ctx.aws().await?;
        let subject = service_account_subject(&ns, &name);
        // The association goes first: pods stop getting the role before anything else changes.
        let mut plan = plan_association_deletion(&associations).then(unbind);
        plan.subject = format!("service account {ns}/{name}");
        if args.keep_role {
            plan.ok("the role is kept (--keep-role)");
        } else {
            let mut roles: Vec<&str> = associations.iter().map(|a| a.role_arn.as_str()).collect();
            roles.sort();
            roles.dedup();
            for arn in roles {
                let users: Vec<String> = shared_with
                    .iter()
                    .filter(|a| a.role_arn == arn)
                    .map(|a| format!("{}/{}", a.namespace, a.service_account))
                    .collect();
                let role = gather_role(aws, arn).await?;
                plan = plan.then(plan_pod_identity_role_deletion(&subject, &role, &users));
            }
            // An IRSA role of its own beside the association's: deleted as for IRSA.
            if let Some(irsa) = role_arn.filter(|r| associations.iter().all(|a| &a.role_arn != r)) {
                let role = gather_role(aws, &irsa).await?;
                plan = plan.then(plan_role_deletion(&subject, &role));
            }
        }
        return show_or_apply(ctx, &args, &ns, &name, plan, &Live { aws, kube }).await;
    }
    // AWS is only asked when there is a role to delete: `--keep-role` works without AWS credentials.
    match role_arn {
        Some(arn) if !args.keep_role => {
            let aws = ctx.aws().await?;
            let role = gather_role(aws, &arn).await?;
            let subject = service_account_subject(&ns, &name);
            let plan = unbind.then(plan_role_deletion(&subject, &role));
            show_or_apply(ctx, &args, &ns, &name, plan, &Live { aws, kube }).await
        }
        Some(_) => {
            unbind.ok("the role is kept (--keep-role)");
            show_or_apply(ctx, &args, &ns, &name, unbind, &KubeSteps(kube)).await
        }
        None => show_or_apply(ctx, &args, &ns, &name, unbind, &KubeSteps(kube)).await,
    }
}

async fn show_or_apply<S: PlanStep + Serialize, E: Executor<S>>(
    ctx: &Ctx,
    args: &DeleteArgs,
    ns: &str,
    name: &str,
    plan: Plan<S>,
    executor: &E,
) -> Result<()> {
    let table = ctx.output() == OutputFormat::Table;
    if args.dry_run {
        match structured(ctx.output(), &plan)? {
            Some(text) => print(&text),
            None => {
                print(&plan.render(true));
                print("dry run: nothing was changed (run without --dry-run to apply this plan)\n");
            }
        }
        return Ok(());
    }
    if table {
        if plan.is_empty() {
            print(&plan.render(false));
            return Ok(());
        }
        print(&format!("Applying plan for {}:\n", plan.subject));
    }
    plan.apply(executor, |step, _| {
        if table {
            print(&format!("  + {}\n", step.summary()));
        }
    })
    .await?;
    match structured(ctx.output(), &plan)? {
        Some(text) => print(&text),
        None => {
            for ok in &plan.up_to_date {
                print(&format!("  = {ok}\n"));
            }
            for w in &plan.warnings {
                super::warn(w);
            }
            print(&format!("binding {ns}/{name} deleted\n"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use irsa_policy::{irsa_trust_policy, irsa_trust_statement};
    use serde_json::json;

    #[test]
    fn trust_statements_split_by_subject() {
        let issuer = "https://oidc.example.com/id/A";
        let mine = irsa_trust_statement(
            &irsa_policy::Account::aws("1"),
            issuer,
            "ns",
            "a",
            "sts.amazonaws.com",
            None,
        );
        let other = irsa_trust_statement(
            &irsa_policy::Account::aws("1"),
            issuer,
            "ns",
            "b",
            "sts.amazonaws.com",
            None,
        );
        let trust = json!({"Version": "2012-10-17", "Statement": [mine.clone(), other.clone()]});
        let (m, o) = split_trust(&trust, "system:serviceaccount:ns:a");
        assert_eq!(m, vec![mine.clone()]);
        assert_eq!(o, vec![other.clone()]);
        let single = json!({"Version": "2012-10-17", "Statement": mine});
        let (m, o) = split_trust(&single, "system:serviceaccount:ns:a");
        assert_eq!(m.len(), 1);
        assert!(o.is_empty());
        let pattern = irsa_trust_statement(
            &irsa_policy::Account::aws("1"),
            issuer,
            "ns",
            "a",
            "sts.amazonaws.com",
            Some("*"),
        );
        let (m, o) = split_trust(
            &json!({"Statement": [pattern]}),
            "system:serviceaccount:ns:a",
        );
        assert!(m.is_empty());
        assert_eq!(o.len(), 1);
        // A shared role's merged statement (create --add-trust) loses only the subject.
        let merged = kubectl_irsa_trust_merged(issuer);
        let (m, o) = split_trust(&merged, "system:serviceaccount:ns:a");
        assert_eq!(m.len(), 1);
        assert_eq!(
            o,
            vec![other.clone()],
            "the list of one becomes the statement b alone had"
        );
        let (m, o) = split_trust(&merged, "system:serviceaccount:ns:c");
        assert!(m.is_empty(), "a subject it does not name changes nothing");
        assert_eq!(o, crate::trust::statements(&merged));
    }

    fn kubectl_irsa_trust_merged(issuer: &str) -> serde_json::Value {
        let a = irsa_trust_policy(
            &irsa_policy::Account::aws("1"),
            issuer,
            "ns",
            "a",
            "sts.amazonaws.com",
            None,
        );
        crate::trust::add_statement(
            &a,
            &irsa_trust_statement(
                &irsa_policy::Account::aws("1"),
                issuer,
                "ns",
                "b",
                "sts.amazonaws.com",
                None,
            ),
        )
    }
}
