//! A `create --pod-identity` whose step fails rolls back what it did, and the EKS steps applied by the live
//! executor against the emulator's association API can each be undone.

use crate::common::env;
use crate::pod_identity_support::{associations, pi_role, CLUSTER};
use crate::{role, role_arn};

#[test]
fn a_failed_step_rolls_back_and_every_eks_step_can_be_undone() {
    use kubectl_irsa::plan::{EksStep, Executor, PlanStep};
    let Some((env, _guard)) = env() else { return };
    let (ns, name) = ("pi-rollback", "app");
    let missing = format!("arn:aws:iam::{}:policy/does-not-exist", env.account());
    let run = env.run(&[
        "create",
        "--pod-identity",
        "--name",
        name,
        "-n",
        ns,
        "--cluster",
        CLUSTER,
        "--attach-policy-arn",
        &missing,
    ]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains(&format!("step failed: attach policy {missing}")),
        "{run}"
    );
    assert!(
        run.stderr
            .contains(&format!("deleted role {}", pi_role(ns, name))),
        "{run}"
    );
    assert!(role(env, &pi_role(ns, name)).is_none());
    assert!(associations(env, ns, name).is_empty());
    assert!(
        env.service_account(ns, name).is_none(),
        "the IAM step failed before the cluster was touched"
    );

    // The EKS steps with the live executor: applied, then undone.
    let policy = env.create_policy("pi-rollback-read", "s3:GetObject");
    env.ok(&[
        "create",
        "--pod-identity",
        "--name",
        "undo",
        "-n",
        ns,
        "--cluster",
        CLUSTER,
        "--attach-policy-arn",
        &policy,
    ]);
    let arn = role_arn(env, &pi_role(ns, "undo"));
    let live = kubectl_irsa::executor::EksSteps(&env.aws);
    let existing = associations(env, ns, "undo").remove(0);
    let delete = EksStep::DeletePodIdentityAssociation {
        cluster: CLUSTER.into(),
        association_id: existing.id.clone(),
        namespace: ns.into(),
        service_account: "undo".into(),
        role_arn: arn.clone(),
        tags: existing.tags.clone(),
    };
    let outcome = env.block_on(live.apply(&delete)).unwrap();
    assert!(
        associations(env, ns, "undo").is_empty(),
        "{}",
        delete.summary()
    );
    env.block_on(live.undo(&delete, &outcome)).unwrap();
    let again = associations(env, ns, "undo");
    assert_eq!(again.len(), 1, "re-created");
    assert_eq!(
        (again[0].role_arn.as_str(), &again[0].tags),
        (arn.as_str(), &existing.tags)
    );
    let create = EksStep::CreatePodIdentityAssociation {
        cluster: CLUSTER.into(),
        namespace: ns.into(),
        service_account: "other".into(),
        role_arn: arn,
        tags: Vec::new(),
    };
    let outcome = env.block_on(live.apply(&create)).unwrap();
    assert_eq!(associations(env, ns, "other").len(), 1);
    env.block_on(live.undo(&create, &outcome)).unwrap();
    assert!(associations(env, ns, "other").is_empty());
    env.ok(&["delete", "--name", "undo", "-n", ns, "--cluster", CLUSTER]);
}
