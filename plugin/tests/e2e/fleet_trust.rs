//! One role for many clusters: `--add-trust` keeps one statement per provider, refuses before IAM's 2,048
//! character quota with the alternatives, and `trust remove` takes a retired cluster out again.

use irsa_policy::irsa_trust_policy;

use crate::common::{env, Env};
use crate::role;

/// Leaves the account as the other tests expect it, even when a test fails: the made-up providers and the
/// roles a test made are deleted when it ends.
struct Cleanup<'a> {
    env: &'a Env,
    roles: &'a [&'a str],
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let env = self.env;
        for arn in env.block_on(env.aws.provider_arns()).unwrap_or_default() {
            if arn != env.provider_arn() {
                let _ = env.block_on(env.aws.delete_provider(&arn));
            }
        }
        for name in self.roles {
            let _ = env.block_on(env.aws.delete_role(name));
        }
    }
}

/// An IAM OIDC provider for a made-up issuer (STS never sees it: these roles are only planned and sized).
fn provider(env: &Env, n: usize) -> String {
    let issuer = format!("https://oidc.eks.us-east-1.amazonaws.com/id/{n:032X}");
    env.block_on(env.aws.create_provider(
        &issuer,
        &["sts.amazonaws.com".into()],
        &["a".repeat(40)],
        &[],
    ))
    .ok();
    issuer
}

fn shared_role(env: &Env, name: &str) -> String {
    let trust = irsa_trust_policy(
        &env.aws_account(),
        &env.issuer,
        "fleet",
        "app",
        "sts.amazonaws.com",
        None,
    );
    env.block_on(env.aws.create_role(&kubectl_irsa::aws::NewRole {
        name: name.into(),
        path: "/".into(),
        trust,
        description: "shared".into(),
        max_session_duration: None,
        permissions_boundary: None,
        tags: vec![("managed-by".into(), "kubectl-irsa".into())],
    }))
    .unwrap()
}

fn add_trust(env: &Env, arn: &str, issuer: &str, name: &str) -> crate::common::Run {
    env.run(&[
        "create",
        "--name",
        name,
        "-n",
        "fleet",
        "--attach-role-arn",
        arn,
        "--add-trust",
        "--role-only",
        "--oidc-issuer",
        issuer,
    ])
}

#[test]
fn a_shared_role_keeps_one_statement_per_cluster_until_the_quota_then_refuses() {
    let Some((env, _guard)) = env() else { return };
    let _cleanup = Cleanup {
        env,
        roles: &["fleet-shared"],
    };
    let arn = shared_role(env, "fleet-shared");
    let other = provider(env, 1);
    assert_eq!(add_trust(env, &arn, &other, "app").code, 0);
    let second = add_trust(env, &arn, &other, "worker");
    assert_eq!(second.code, 0, "{second}");
    let trust = role(env, "fleet-shared").unwrap().trust;
    let statements = trust["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 2, "one statement per provider: {trust:#}");
    let sub_key = format!("{}:sub", irsa_policy::issuer_host_path(&other));
    assert_eq!(
        statements[1]["Condition"]["StringEquals"][&sub_key],
        serde_json::json!([
            "system:serviceaccount:fleet:app",
            "system:serviceaccount:fleet:worker"
        ])
    );

    let mut refused = None;
    for n in 2..20 {
        let issuer = provider(env, n);
        let run = add_trust(env, &arn, &issuer, "app");
        if run.code != 0 {
            refused = Some((n, run));
            break;
        }
    }
    let (n, run) = refused.expect("the quota is reached well before 20 clusters");
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains("over the ACLSizePerRole quota of 2048"),
        "{run}"
    );
    assert!(
        run.stderr.contains("a role per cluster") && run.stderr.contains("EKS Pod Identity"),
        "{run}"
    );
    let kept = role(env, "fleet-shared").unwrap().trust;
    // Four clusters fit (the emulator's own, then three EKS-shaped issuers of 428 characters each), the
    // fifth does not: "only around 5 clusters can be trusted per role" (aws/containers-roadmap#1408).
    assert_eq!(
        kept["Statement"].as_array().unwrap().len(),
        4,
        "refused at cluster {n}: {kept:#}"
    );
    assert!(
        kubectl_irsa::trust::policy_size(&kept) <= 2048,
        "nothing was sent that IAM would refuse"
    );
    // What the plugin refused is what IAM refuses: the same trust sent straight to the emulator gets
    // LimitExceeded with IAM's message.
    let refused_issuer = format!("https://oidc.eks.us-east-1.amazonaws.com/id/{n:032X}");
    let statement = irsa_policy::irsa_trust_statement(
        &env.aws_account(),
        &refused_issuer,
        "fleet",
        "app",
        "sts.amazonaws.com",
        None,
    );
    let too_big = kubectl_irsa::trust::add_statement(&kept, &statement);
    assert!(kubectl_irsa::trust::policy_size(&too_big) > 2048);
    let err = env
        .block_on(env.aws.update_trust("fleet-shared", &too_big))
        .expect_err("IAM refuses it too")
        .to_string();
    assert!(
        err.contains("Cannot exceed quota for ACLSizePerRole: 2048"),
        "{err}"
    );
}

#[test]
fn trust_remove_takes_a_retired_cluster_out_of_every_role() {
    let Some((env, _guard)) = env() else { return };
    let _cleanup = Cleanup {
        env,
        roles: &["fleet-retire-a", "fleet-retire-only"],
    };
    let retired = provider(env, 100);
    let arn = shared_role(env, "fleet-retire-a");
    assert_eq!(add_trust(env, &arn, &retired, "app").code, 0);
    let only = env.block_on(env.aws.create_role(&kubectl_irsa::aws::NewRole {
        name: "fleet-retire-only".into(),
        path: "/".into(),
        trust: irsa_trust_policy(
            &env.aws_account(),
            &retired,
            "fleet",
            "x",
            "sts.amazonaws.com",
            None,
        ),
        description: "only the retired cluster".into(),
        max_session_duration: None,
        permissions_boundary: None,
        tags: vec![("managed-by".into(), "kubectl-irsa".into())],
    }));
    assert!(only.is_ok());
    let dry = env.ok(&["trust", "remove", "--oidc-issuer", &retired, "--dry-run"]);
    assert!(
        dry.contains("update the trust policy of role fleet-retire-a"),
        "{dry}"
    );
    assert!(
        dry.contains("fleet-retire-only trusts only this provider"),
        "{dry}"
    );
    let retired_arn = env.aws_account().provider_arn(&retired);
    assert!(
        role(env, "fleet-retire-a")
            .unwrap()
            .trust
            .to_string()
            .contains(&retired_arn),
        "dry run"
    );
    let applied = env.ok(&["trust", "remove", "--oidc-issuer", &retired]);
    assert!(applied.contains("1 role(s) no longer trust"), "{applied}");
    let trust = role(env, "fleet-retire-a").unwrap().trust;
    assert!(!trust.to_string().contains(&retired_arn), "{trust:#}");
    assert!(
        trust.to_string().contains(&env.provider_arn()),
        "the live cluster stays"
    );
    let again = env.ok(&["trust", "remove", "--oidc-issuer", &retired]);
    assert!(
        !again.contains("update the trust policy of role fleet-retire-a"),
        "idempotent: {again}"
    );
}

#[test]
fn trust_remove_by_cluster_name_reads_the_issuer_from_eks() {
    let Some((env, _guard)) = env() else { return };
    let _cleanup = Cleanup {
        env,
        roles: &["fleet-retire-eks"],
    };
    let retired = env.block_on(crate::common::create_cluster(
        &env.emulator,
        "fleet-retired",
    ));
    env.ok(&["oidc", "associate", "--cluster", "fleet-retired"]);
    let arn = shared_role(env, "fleet-retire-eks");
    assert_eq!(add_trust(env, &arn, &retired.issuer, "app").code, 0);
    let retired_arn = env.aws_account().provider_arn(&retired.issuer);
    assert!(role(env, "fleet-retire-eks")
        .unwrap()
        .trust
        .to_string()
        .contains(&retired_arn));

    let plan = env
        .run(&[
            "trust",
            "remove",
            "--cluster",
            "fleet-retired",
            "--dry-run",
            "-o",
            "json",
        ])
        .json();
    assert_eq!(plan["steps"].as_array().map(Vec::len), Some(1), "{plan:#}");
    let applied = env.run(&[
        "trust",
        "remove",
        "--cluster",
        "fleet-retired",
        "-o",
        "json",
    ]);
    assert_eq!(applied.code, 0, "{applied}");
    let json = applied.json();
    assert_eq!(json["provider"], retired_arn.as_str());
    assert_eq!(json["changed"], 1);
    let trust = role(env, "fleet-retire-eks").unwrap().trust;
    assert!(!trust.to_string().contains(&retired_arn), "{trust:#}");
    let unknown = env.run(&["trust", "remove", "--cluster", "no-such-cluster"]);
    assert_eq!(unknown.code, 1, "{unknown}");
    assert!(unknown.stderr.contains("no-such-cluster"), "{unknown}");
}
