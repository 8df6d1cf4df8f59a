//! `diff -f` (exit 1 on drift, CI's gate) and `create -f --prune`, which alone detaches what the file no longer
//! lists (eksctl#6625: never without the flag).

use crate::common::{env, Env};
use crate::{attached, ROLE_ARN_ANNOTATION};

fn config(env: &Env, file: &str, policies: &[&str], extra: &str) -> String {
    let arns: Vec<String> = policies.iter().map(|p| format!("\"{p}\"")).collect();
    let text = format!(
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {{name: test-cluster, region: us-east-1}}\n\
         iam:\n  serviceAccounts:\n  - metadata: {{name: svc, namespace: drift}}\n    attachPolicyARNs: [{}]\n{extra}",
        arns.join(", ")
    );
    let path = env.dir.path().join(file);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn diff_exits_1_on_drift_and_only_prune_detaches() {
    let Some((env, _guard)) = env() else { return };
    let a = env.create_policy("drift-a", "s3:GetObject");
    let b = env.create_policy("drift-b", "s3:ListBucket");
    let role = kubectl_irsa::naming::default_role_name("test-cluster", "drift", "svc");
    let both = config(env, "drift-both.yaml", &[&a, &b], "");
    env.ok(&["create", "-f", &both]);
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(attached(env, &role), expected);

    let clean = env.run(&["diff", "-f", &both]);
    assert_eq!(clean.code, 0, "{clean}");
    assert!(clean.stdout.contains("= drift/svc: in sync"), "{clean}");

    // The file drops b: diff names the detach and exits 1; create -f without --prune leaves b attached.
    let only_a = config(env, "drift-a.yaml", &[&a], "");
    let drift = env.run(&["diff", "-f", &only_a]);
    assert_eq!(drift.code, 1, "drift exits 1\n{drift}");
    assert!(
        drift
            .stdout
            .contains(&format!("- detach policy {b} from role {role}")),
        "{drift}"
    );
    assert!(
        drift.stderr.contains("1 of 1 service account(s) differ"),
        "{drift}"
    );
    let json = env.run(&["diff", "-f", &only_a, "-o", "json"]).json();
    assert_eq!(json[0]["inSync"], false, "{json:#}");
    assert_eq!(json[0]["changes"].as_array().unwrap().len(), 1, "{json:#}");

    env.ok(&["create", "-f", &only_a]);
    assert_eq!(
        attached(env, &role),
        expected,
        "never detached without --prune"
    );
    let dry = env.ok(&["create", "-f", &only_a, "--prune", "--dry-run"]);
    assert!(
        dry.contains(&format!("detach policy {b} from role {role}")),
        "{dry}"
    );
    assert_eq!(attached(env, &role), expected, "--dry-run changes nothing");
    env.ok(&["create", "-f", &only_a, "--prune"]);
    assert_eq!(attached(env, &role), vec![a.clone()]);
    assert_eq!(
        env.run(&["diff", "-f", &only_a]).code,
        0,
        "in sync after --prune"
    );

    // Drift on the cluster side: someone re-annotates the service account.
    env.kubectl(&[
        "annotate",
        "serviceaccount",
        "svc",
        "-n",
        "drift",
        "--overwrite",
        &format!(
            "{ROLE_ARN_ANNOTATION}=arn:aws:iam::{}:role/elsewhere",
            env.account()
        ),
    ]);
    let drift = env.run(&["diff", "-f", &only_a]);
    assert_eq!(drift.code, 1, "{drift}");
    assert!(
        drift.stdout.contains("annotate service account drift/svc"),
        "{drift}"
    );
    // A file that cannot be read is a failure, not drift (also 1, with the reason).
    let missing = env.run(&["diff", "-f", "/nonexistent/cluster.yaml"]);
    assert_eq!(missing.code, 1, "{missing}");
    assert!(
        missing.stderr.contains("/nonexistent/cluster.yaml"),
        "{missing}"
    );
}
