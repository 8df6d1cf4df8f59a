//! Argument errors: every bad flag combination ends with a clear message on stderr and a non-zero exit,
//! never a panic, and before anything is contacted (no AWS, no cluster is reachable here).

mod common;

use assert_cmd::Command;
use predicates::prelude::*;

/// The plugin with AWS and Kubernetes pointed at nothing reachable.
fn plugin(home: &std::path::Path) -> Command {
    let mut std_cmd = std::process::Command::new(common::plugin_bin());
    common::isolate(&mut std_cmd, home);
    std_cmd
        .env("AWS_ENDPOINT_URL", "https://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1");
    Command::from_std(std_cmd)
}

fn fails(args: &[&str], code: i32, needle: &str) {
    let home = tempfile::tempdir().unwrap();
    plugin(home.path())
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(code)
        .stderr(predicate::str::contains(needle))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn clap_rejects_bad_combinations() {
    let cases: &[(&[&str], &str)] = &[
        (&["create"], "--name is required"),
        (
            &["create", "--well-known-policy", "karpentr"],
            "did you mean karpenter?",
        ),
        (
            &["create", "--name", "a", "-o", "terraform"],
            "add --dry-run",
        ),
        (&["create", "--name", "a", "--prune"], "it needs -f FILE"),
        (&["lint"], "<FILE>"),
        (&["diff"], "--config-file <FILE>"),
        (&["trust", "remove"], "--cluster <NAME>"),
        (
            &["describe", "app", "--action", "s3:GetObject"],
            "describe pod/NAME",
        ),
        (&["list", "-o", "terraform"], "create --dry-run"),
        (
            &["create", "--name", "a", "--pod-identity"],
            "--cluster <NAME>",
        ),
        (
            &[
                "create",
                "--name",
                "a",
                "--pod-identity",
                "--cluster",
                "c",
                "--subject-pattern",
                "a*",
            ],
            "cannot be used with",
        ),
        (&["migrate", "--name", "a"], "--to <KIND>"),
        (
            &["migrate", "--to", "irsa", "--name", "a"],
            "migrate needs --cluster NAME",
        ),
        (
            &[
                "migrate",
                "--to",
                "irsa",
                "--name",
                "a",
                "--cluster",
                "c",
                "--remove-oidc-trust",
            ],
            "--remove-oidc-trust is for --to pod-identity",
        ),
        (
            &["delete", "--orphans", "--name", "a"],
            "cannot be used with",
        ),
        (
            &[
                "create",
                "--name",
                "a",
                "--cluster",
                "c",
                "--oidc-issuer",
                "https://x",
            ],
            "cannot be used with",
        ),
        (
            &[
                "create",
                "--name",
                "a",
                "--attach-role-arn",
                "arn:aws:iam::1:role/r",
                "--attach-policy-arn",
                "arn:aws:iam::1:policy/p",
            ],
            "cannot be used with",
        ),
        (
            &[
                "create",
                "--name",
                "a",
                "--attach-role-arn",
                "arn:aws:iam::1:role/r",
                "--role-name",
                "x",
            ],
            "cannot be used with",
        ),
        (
            &["create", "--name", "a", "-f", "c.yaml"],
            "cannot be used with",
        ),
        (
            &["create", "-f", "c.yaml", "--role-only"],
            "cannot be used with",
        ),
        (
            &[
                "create",
                "--name",
                "a",
                "--role-only",
                "--override-existing-serviceaccounts",
            ],
            "cannot be used with",
        ),
        (
            &["create", "--name", "a", "--max-session-duration", "100"],
            "3600..=43200",
        ),
        (
            &["create", "--name", "a", "--max-session-duration", "lots"],
            "invalid value",
        ),
        (
            &["create", "--name", "a", "--tags", "novalue"],
            "is not key=value",
        ),
        (
            &["create", "--name", "a", "--concurrency", "0"],
            "invalid value",
        ),
        (&["create", "--name"], "a value is required"),
        (&["create", "--nmae", "a"], "unexpected argument '--nmae'"),
        (&["annotate", "app"], "--role-arn <ARN>"),
        (&["annotate", "--role-arn", "arn:aws:iam::1:role/r"], "<SA>"),
        (
            &[
                "annotate",
                "app",
                "--role-arn",
                "arn:aws:iam::1:role/r",
                "--sts-regional-endpoints",
                "maybe",
            ],
            "invalid value",
        ),
        (
            &[
                "annotate",
                "app",
                "--role-arn",
                "arn:aws:iam::1:role/r",
                "--token-expiration",
                "0",
            ],
            "invalid value",
        ),
        (&["describe", "app", "-A"], "cannot be used with"),
        (
            &["describe", "--cluster", "c", "--oidc-issuer", "https://x"],
            "cannot be used with",
        ),
        (&["delete"], "--name <SA>"),
        (&["oidc"], "Usage: kubectl irsa oidc"),
        (
            &[
                "oidc",
                "associate",
                "--cluster",
                "a",
                "--oidc-issuer",
                "https://x",
            ],
            "cannot be used with",
        ),
        (&["completion", "tcsh"], "invalid value 'tcsh'"),
        (&["list", "-o", "xml"], "invalid value 'xml'"),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (&[], "Usage: kubectl irsa"),
    ];
    for (args, needle) in cases {
        fails(args, 2, needle);
    }
}

#[test]
fn values_are_checked_before_anything_is_contacted() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["create", "--name", "Bad_Name"],
            "service account name \"Bad_Name\" is not valid",
        ),
        (
            &["create", "--name", "a", "-n", "Bad_NS"],
            "namespace \"Bad_NS\" is not a valid",
        ),
        (
            &[
                "create",
                "--name",
                "a",
                "--attach-policy-arn",
                "ReadOnlyAccess",
            ],
            "is not an IAM policy ARN",
        ),
        (
            &[
                "create",
                "--name",
                "a",
                "--permissions-boundary",
                "arn:aws:iam::1:role/x",
            ],
            "is not an IAM policy ARN",
        ),
        (
            &["create", "--name", "a", "--attach-role-arn", "my-role"],
            "is not an IAM role ARN",
        ),
        (
            &["create", "--name", "a", "--role-name", "has space"],
            "is not a valid IAM role name",
        ),
        (
            &["create", "--name", "a", "--role-name", &"r".repeat(65)],
            "is not a valid IAM role name",
        ),
        (
            &["create", "--name", "a", "--role-path", "team"],
            "is not a valid IAM path",
        ),
        (
            &["create", "--name", "a", "--audience", " "],
            "--audience must not be empty",
        ),
        (
            &["create", "--name", "a", "--subject-pattern", "other-*"],
            "does not match the service account itself",
        ),
        (
            &[
                "create",
                "--name",
                "a",
                "--oidc-issuer",
                "http://insecure.example.com",
            ],
            "must start with https://",
        ),
        (
            &["create", "--name", "a", "--oidc-issuer", "not a url"],
            "is not a URL",
        ),
        (
            &["annotate", "app", "--role-arn", "arn:aws:iam::1:user/bob"],
            "is not an IAM role ARN",
        ),
        (
            &[
                "annotate",
                "Bad_Name",
                "--role-arn",
                "arn:aws:iam::1:role/r",
            ],
            "is not valid",
        ),
        (&["delete", "--name", "Bad_Name"], "is not valid"),
        (
            &[
                "oidc",
                "associate",
                "--oidc-issuer",
                "https://x.example.com",
                "--audience",
                "",
            ],
            "--audience must not be empty",
        ),
    ];
    for (args, needle) in cases {
        fails(args, 2, needle);
    }
}

#[test]
fn files_and_unreachable_services_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    fails(
        &["create", "-f", missing.to_str().unwrap()],
        1,
        "cannot read",
    );
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "kind: Pod\n").unwrap();
    fails(
        &["create", "-f", bad.to_str().unwrap()],
        1,
        "expected ClusterConfig",
    );
    let wk = dir.path().join("wk.yaml");
    std::fs::write(
        &wk,
        "kind: ClusterConfig\niam:\n  serviceAccounts:\n  - metadata: {name: Bad_Name}\n",
    )
    .unwrap();
    fails(
        &["create", "-f", wk.to_str().unwrap()],
        2,
        "iam.serviceAccounts[0]",
    );
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, "{not json").unwrap();
    fails(
        &[
            "create",
            "--name",
            "a",
            "--inline-policy",
            policy.to_str().unwrap(),
        ],
        1,
        "is not JSON",
    );
    std::fs::write(
        &policy,
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe"}]}"#,
    )
    .unwrap();
    fails(
        &[
            "create",
            "--name",
            "a",
            "--inline-policy",
            policy.to_str().unwrap(),
        ],
        2,
        "not a valid IAM policy",
    );

    // No cluster: a kubeconfig error that says what to do.
    fails(&["describe"], 1, "Kubernetes configuration");
    fails(
        &["list", "--kubeconfig", missing.to_str().unwrap()],
        1,
        "cannot read --kubeconfig",
    );
    // AWS unreachable: the call, the cause and what to check.
    fails(
        &[
            "oidc",
            "show",
            "--oidc-issuer",
            "https://oidc.example.com/id/X",
        ],
        1,
        "AWS iam:ListOpenIDConnectProviders failed",
    );
    // A CA bundle that is not one.
    let home = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    plugin(home.path())
        .env("AWS_CA_BUNDLE", &not_pem)
        .args([
            "oidc",
            "show",
            "--oidc-issuer",
            "https://oidc.example.com/id/X",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "AWS_CA_BUNDLE contains no PEM certificate",
        ));
}

#[test]
fn version_help_and_completion() {
    let home = tempfile::tempdir().unwrap();
    plugin(home.path())
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(concat!(
            "kubectl-irsa ",
            env!("CARGO_PKG_VERSION")
        )));
    for args in [
        vec!["--help"],
        vec!["create", "--help"],
        vec!["describe", "--help"],
        vec!["annotate", "--help"],
        vec!["list", "--help"],
        vec!["delete", "--help"],
        vec!["oidc", "associate", "--help"],
        vec!["oidc", "show", "--help"],
        vec!["migrate", "--help"],
    ] {
        plugin(home.path())
            .args(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Examples:"))
            .stdout(predicate::str::contains("kubectl irsa"));
    }
    for shell in ["bash", "zsh", "fish"] {
        plugin(home.path())
            .args(["completion", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("kubectl-irsa"));
    }
}
