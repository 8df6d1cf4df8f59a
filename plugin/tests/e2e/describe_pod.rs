//! `describe pod/NAME` against the real kube-apiserver: the token's claims come from a TokenRequest bound to the
//! pod (the API server signs it with the emulated cluster's key), the provider and role from the emulator, and
//! each broken link is the one named.

use serde_json::{json, Value};

use crate::common::{env, Env};
use crate::{create_reader, ROLE_ARN_ANNOTATION};

/// A pod as the pod identity webhook leaves it (no kubelet here: it stays Pending, which is all it takes).
fn apply_pod(
    env: &Env,
    ns: &str,
    pod: &str,
    sa: &str,
    role_arn: &str,
    audience: &str,
    expiry: i64,
) {
    let manifest = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": pod, "namespace": ns },
        "spec": {
            "serviceAccountName": sa,
            "containers": [{
                "name": "app", "image": "busybox",
                "env": [
                    { "name": "AWS_ROLE_ARN", "value": role_arn },
                    { "name": "AWS_WEB_IDENTITY_TOKEN_FILE",
                      "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token" }
                ],
                "volumeMounts": [{ "name": "aws-iam-token", "readOnly": true,
                    "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount" }]
            }],
            "volumes": [{ "name": "aws-iam-token", "projected": { "sources": [{ "serviceAccountToken": {
                "audience": audience, "expirationSeconds": expiry, "path": "token" } }] } }]
        }
    });
    let path = env.dir.path().join(format!("{ns}-{pod}.json"));
    std::fs::write(&path, manifest.to_string()).unwrap();
    env.kubectl(&["apply", "-f", path.to_str().unwrap()]);
}

fn link<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["links"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|l| l["check"] == name)
        .unwrap_or_else(|| panic!("no link {name}: {report:#}"))
}

#[test]
fn a_pods_chain_is_walked_with_a_token_bound_to_it_and_simulated() {
    let Some((env, _guard)) = env() else { return };
    let ns = "podchain";
    let reader = create_reader(env, ns, "app", "podchain-read");
    apply_pod(
        env,
        ns,
        "app-1",
        "app",
        &reader.arn,
        "sts.amazonaws.com",
        7200,
    );

    let run = env.run(&["describe", "pod/app-1", "-n", ns]);
    assert_eq!(run.code, 0, "{run}");
    for needle in [
        "annotation",
        "pod-spec",
        "token",
        "oidc-provider",
        "trust",
        "policies",
        "Verdict: OK",
    ] {
        assert!(run.stdout.contains(needle), "{needle}\n{run}");
    }

    let report = env
        .run(&["describe", "pod/app-1", "-n", ns, "-o", "json"])
        .json();
    assert_eq!(report["verdict"], "OK", "{report:#}");
    // The claims are the API server's, for this pod, with the projected volume's audience and expiry.
    let claims = &report["claims"];
    assert_eq!(claims["sub"], "system:serviceaccount:podchain:app");
    assert_eq!(claims["aud"], json!(["sts.amazonaws.com"]));
    assert_eq!(claims["iss"], env.issuer.as_str());
    assert_eq!(claims["kubernetes.io"]["pod"]["name"], "app-1");
    let pod = env.kubectl_json(&["get", "pod", "app-1", "-n", ns]);
    assert_eq!(
        claims["kubernetes.io"]["pod"]["uid"],
        pod["metadata"]["uid"]
    );
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 7200, "the volume's expirationSeconds");
    assert_eq!(link(&report, "trust")["status"], "ok");

    // The simulation: the attached policy allows s3:GetObject on "*", and names itself.
    let allowed = env
        .run(&[
            "describe",
            "pod/app-1",
            "-n",
            ns,
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::bucket/key",
            "-o",
            "json",
        ])
        .json();
    assert_eq!(allowed["simulation"]["decision"], "allowed", "{allowed:#}");
    assert_eq!(
        allowed["simulation"]["deciding"],
        json!([format!("{} statement 0", reader.policy)])
    );
    let denied = env.run(&[
        "describe",
        "pod/app-1",
        "-n",
        ns,
        "--action",
        "s3:PutObject",
        "--resource",
        "arn:aws:s3:::bucket/key",
    ]);
    assert_eq!(denied.code, 3, "a failing link exits 3\n{denied}");
    assert!(
        denied
            .stdout
            .contains("s3:PutObject on arn:aws:s3:::bucket/key: implicit deny"),
        "{denied}"
    );
    assert!(
        denied
            .stdout
            .contains("the chain breaks at link \"simulation\""),
        "{denied}"
    );
}

#[test]
fn each_broken_link_of_a_real_pod_is_named() {
    let Some((env, _guard)) = env() else { return };
    let ns = "podbreak";
    let reader = create_reader(env, ns, "app", "podbreak-read");

    // The volume asks for another audience than the service account's.
    apply_pod(env, ns, "vault-aud", "app", &reader.arn, "vault", 3600);
    let run = env.run(&["describe", "pod/vault-aud", "-n", ns, "-o", "json"]);
    assert_eq!(run.code, 3, "{run}");
    let report = run.json();
    assert_eq!(report["failingLink"], "pod-spec", "{report:#}");
    assert!(link(&report, "pod-spec")["message"]
        .as_str()
        .unwrap()
        .contains("audience is \"vault\""));
    assert_eq!(
        report["claims"]["aud"],
        json!(["vault"]),
        "the token is asked for as the kubelet would"
    );

    // Another service account annotated with the reader's role: the role's trust refuses its token's sub.
    env.kubectl(&["create", "serviceaccount", "intruder", "-n", ns]);
    env.kubectl(&[
        "annotate",
        "serviceaccount",
        "intruder",
        "-n",
        ns,
        &format!("{ROLE_ARN_ANNOTATION}={}", reader.arn),
    ]);
    apply_pod(
        env,
        ns,
        "intruder-1",
        "intruder",
        &reader.arn,
        "sts.amazonaws.com",
        3600,
    );
    let run = env.run(&["describe", "pod/intruder-1", "-n", ns, "-o", "json"]);
    assert_eq!(run.code, 3, "{run}");
    let report = run.json();
    assert_eq!(report["failingLink"], "trust", "{report:#}");
    assert!(
        link(&report, "trust")["message"]
            .as_str()
            .unwrap()
            .contains("refuses the token's claims"),
        "{report:#}"
    );

    // A pod that is not there, and bad flag use.
    let missing = env.run(&["describe", "pod/nope", "-n", ns]);
    assert_eq!(missing.code, 1, "{missing}");
    assert!(
        missing.stderr.contains("pod podbreak/nope not found"),
        "{missing}"
    );
    let misuse = env.run(&["describe", "app", "-n", ns, "--action", "s3:GetObject"]);
    assert_eq!(misuse.code, 2, "{misuse}");
}

#[test]
fn the_simulation_weighs_an_explicit_deny_and_the_permissions_boundary() {
    let Some((env, _guard)) = env() else { return };
    let ns = "podbound";
    let get = env.create_policy("podbound-get", "s3:GetObject");
    let list = env.create_policy("podbound-list", "s3:ListBucket");
    let boundary = env.create_policy("podbound-boundary", "s3:Get*");
    let deny = env.dir.path().join("podbound-deny.json");
    std::fs::write(
        &deny,
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoSecrets", "Effect": "Deny",
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/secret/*"}]})
        .to_string(),
    )
    .unwrap();
    env.ok(&[
        "create",
        "--name",
        "app",
        "-n",
        ns,
        "--attach-policy-arn",
        &get,
        "--attach-policy-arn",
        &list,
        "--inline-policy",
        deny.to_str().unwrap(),
        "--permissions-boundary",
        &boundary,
    ]);
    let arn = crate::role_arn(env, &crate::default_role(ns, "app"));
    apply_pod(env, ns, "app-1", "app", &arn, "sts.amazonaws.com", 3600);
    let simulate = |action: &str, resource: &str| {
        env.run(&[
            "describe",
            "pod/app-1",
            "-n",
            ns,
            "--action",
            action,
            "--resource",
            resource,
            "-o",
            "json",
        ])
    };

    let allowed = simulate("s3:GetObject", "arn:aws:s3:::bucket/key");
    assert_eq!(allowed.code, 0, "{allowed}");
    let s = &allowed.json()["simulation"];
    assert_eq!(s["decision"], "allowed", "{s:#}");
    assert_eq!(
        s["deciding"],
        json!([
            format!("{get} statement 0"),
            format!("permissions boundary {boundary} statement 0")
        ]),
        "both the policy and the boundary allow it"
    );

    let denied = simulate("s3:GetObject", "arn:aws:s3:::bucket/secret/k");
    assert_eq!(denied.code, 3, "{denied}");
    let s = &denied.json()["simulation"];
    assert_eq!(s["decision"], "explicit deny", "{s:#}");
    assert_eq!(
        s["deciding"],
        json!(["inline kubectl-irsa statement 0 (Sid \"NoSecrets\")"])
    );

    let capped = simulate("s3:ListBucket", "arn:aws:s3:::bucket");
    assert_eq!(capped.code, 3, "{capped}");
    let s = &capped.json()["simulation"];
    assert_eq!(s["decision"], "denied by the permissions boundary", "{s:#}");
}
