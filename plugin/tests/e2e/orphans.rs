//! `list --orphans` and `delete --orphans`: a kubectl-irsa role whose service account is gone, and a service
//! account annotated with a role that does not exist, found from both sides and planned away; a live binding
//! beside them is left as it is.

use crate::common::env;
use crate::{annotations, create_reader, role, role_arn, ROLE_ARN_ANNOTATION};

#[test]
fn orphans_on_both_sides_are_listed_then_deleted_with_a_plan() {
    let Some((env, _guard)) = env() else { return };
    let ns = "orphans";
    let gone = create_reader(env, ns, "gone", "orphans-gone");
    let kept = create_reader(env, ns, "kept", "orphans-kept");
    env.kubectl(&["delete", "serviceaccount", "gone", "-n", ns]);
    let missing_role = role_arn(env, "orphans-no-such-role");
    env.kubectl(&["create", "serviceaccount", "dangling", "-n", ns]);
    env.kubectl(&[
        "annotate",
        "serviceaccount",
        "dangling",
        "-n",
        ns,
        &format!("{ROLE_ARN_ANNOTATION}={missing_role}"),
    ]);

    let listed = env.run(&["list", "--orphans", "-n", ns]);
    assert_eq!(listed.code, 0, "{listed}");
    assert!(listed.stdout.contains(&gone.role_name), "{listed}");
    assert!(
        listed
            .stdout
            .contains("role orphans-no-such-role does not exist"),
        "{listed}"
    );
    assert!(
        !listed.stdout.contains(&kept.role_name),
        "a live binding is no orphan\n{listed}"
    );
    let json = env
        .run(&["list", "--orphans", "-n", ns, "-o", "json"])
        .json();
    assert_eq!(json["roles"].as_array().unwrap().len(), 1, "{json:#}");
    assert_eq!(
        json["roles"][0]["subjects"][0],
        "system:serviceaccount:orphans:gone"
    );
    assert_eq!(json["serviceAccounts"][0]["name"], "dangling", "{json:#}");

    let dry = env.ok(&["delete", "--orphans", "-n", ns, "--dry-run"]);
    assert!(
        dry.contains(&format!("delete IAM role {}", gone.role_name)),
        "{dry}"
    );
    assert!(
        dry.contains(&format!(
            "detach policy {} from role {}",
            gone.policy, gone.role_name
        )),
        "{dry}"
    );
    assert!(dry.contains(
        "remove annotation eks.amazonaws.com/role-arn from service account orphans/dangling"
    ));
    assert!(
        role(env, &gone.role_name).is_some(),
        "--dry-run deletes nothing"
    );

    let applied = env.ok(&["delete", "--orphans", "-n", ns]);
    assert!(
        applied.contains("1 orphan role(s) deleted, 1 service account(s) unbound"),
        "{applied}"
    );
    assert!(role(env, &gone.role_name).is_none());
    let dangling = env
        .service_account(ns, "dangling")
        .expect("never deleted, only unbound");
    assert!(
        !annotations(&dangling).contains_key(ROLE_ARN_ANNOTATION),
        "{dangling:#}"
    );
    assert!(
        role(env, &kept.role_name).is_some(),
        "the live binding is untouched"
    );
    let kept_sa = env.service_account(ns, "kept").unwrap();
    assert_eq!(annotations(&kept_sa)[ROLE_ARN_ANNOTATION], kept.arn);
    let again = env.ok(&["list", "--orphans", "-n", ns]);
    assert!(again.contains("No orphans"), "{again}");
}
