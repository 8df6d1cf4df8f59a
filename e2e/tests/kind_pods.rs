//! Real pods on a real kind cluster, offline: `scripts/kind-up.sh` (the path users take) with the node image
//! built on this machine; the kubelet projects the tokens, the pods' own AWS CLI calls the emulator, and the
//! tests read `kubectl logs` — nothing here plays the kubelet.
//!
//! - the seed's pod (../shared/seeds/001, verbatim) bound by `kubectl irsa create` logs the assumed-role
//!   ARN; a pod of another service account pointed at the same role logs AccessDenied, and the emulator's
//!   audit names both subjects; nothing the cluster does sends a packet off the machine;
//! - a pod with `eks.amazonaws.com/token-expiration: "600"` keeps getting credentials after the kubelet
//!   rotates its token (about eight minutes: the kubelet renews at 80% of the lifetime);
//! - the emulator inside the cluster (the Dockerfile's image, deploy/): the webhook served from its pod and
//!   a pod in another namespace gets its role from it — the path a platform team takes.
//!
//! Without a Docker engine each test prints "skipped: …" and returns; with `IRSA_REQUIRE_DOCKER=1` that is a
//! failure. scripts/test.sh starts the suite's own engine and builds the images (scripts/kind-node-image.sh,
//! scripts/local-images.sh).

mod kind_common;

use std::time::Duration;

use kind_common::*;

/// Seed 001's pod template, verbatim but for the placeholder it tells the user to fill in.
const SEED_POD: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: irsa-test
  namespace: default
spec:
  serviceAccountName: <SERVICE_ACCOUNT_NAME>
  containers:
  - name: irsa
    image: public.ecr.aws/aws-cli/aws-cli:2.25.4
    command: ['sh', '-c', 'aws sts "get-caller-identity" && sleep 3600']
"#;

/// Prints the token's `iat` whenever the kubelet has written a new one, then uses that very token with STS
/// and the SDK's default chain (which reads the file itself).
const ROTATION_SCRIPT: &str = r#"
last=
while true; do
  token=$(cat "$AWS_WEB_IDENTITY_TOKEN_FILE")
  iat=$(printf %s "$token" | cut -d. -f2 | python3 -c 'import base64,json,sys; s=sys.stdin.read().strip(); print(json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))["iat"])')
  if [ "$iat" != "$last" ]; then
    echo "token iat=$iat"
    if arn=$(aws sts assume-role-with-web-identity --role-arn "$AWS_ROLE_ARN" --role-session-name "iat-$iat" \
      --web-identity-token "$token" --query AssumedRoleUser.Arn --output text 2>&1); then
      echo "assumed with iat=$iat: $arn"
    else
      echo "refused at iat=$iat: $arn"
    fi
    if caller=$(aws sts get-caller-identity --query Arn --output text 2>&1); then
      echo "default chain at iat=$iat: $caller"
    else
      echo "default chain failed at iat=$iat: $caller"
    fi
    last=$iat
  fi
  sleep 15
done
"#;

#[test]
fn real_pods_seed_pod_logs_its_role_and_another_service_account_is_denied() {
    if skip_without_docker("no pod ran on kind: the seed pod, the denied pod and the network guard")
    {
        return;
    }
    let uplink = Uplink::watch();
    let cluster = up("irsa-pods");
    kind_up_kept_its_promises(&cluster);
    cluster.load_image(AWS_CLI_IMAGE).unwrap();
    let shell = PluginShell::new(&cluster);
    let role_arn = bind(
        &shell,
        &cluster,
        "default/s3-reader",
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    );
    let role_name = role_arn.rsplit('/').next().unwrap().to_string();

    // Another service account, annotated with the same role: the webhook mutates its pod, the trust policy
    // (the subject is s3-reader's) refuses its token.
    cluster
        .kubectl(&["create", "serviceaccount", "intruder", "-n", "default"])
        .unwrap();
    cluster
        .kubectl(&[
            "annotate",
            "serviceaccount",
            "intruder",
            "-n",
            "default",
            &format!("eks.amazonaws.com/role-arn={role_arn}"),
        ])
        .unwrap();

    shell.apply_file(
        "seed-pod.yaml",
        &SEED_POD.replace("<SERVICE_ACCOUNT_NAME>", "s3-reader"),
    );
    shell.apply_file(
        "intruder-pod.yaml",
        &SEED_POD
            .replace("<SERVICE_ACCOUNT_NAME>", "intruder")
            .replace("name: irsa-test", "name: irsa-intruder"),
    );

    let logs = cluster
        .wait_for_logs("default", "irsa-test", Duration::from_secs(180), |l| {
            l.contains("\"Arn\"")
        })
        .unwrap();
    let identity: serde_json::Value = serde_json::from_str(&logs)
        .unwrap_or_else(|e| panic!("the pod's log is get-caller-identity's JSON ({e}):\n{logs}"));
    let arn = identity["Arn"].as_str().unwrap();
    let prefix = format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/botocore-session-");
    assert!(
        arn.starts_with(&prefix) && arn[prefix.len()..].chars().all(|c| c.is_ascii_digit()),
        "the seed pod's identity is the role kubectl irsa create made: {identity}"
    );
    assert_eq!(identity["Account"], ACCOUNT, "{identity}");
    assert!(
        identity["UserId"].as_str().unwrap().starts_with("AROA"),
        "{identity}"
    );
    // The webhook mutated it and the kubelet mounted the projected token (the pod ran, so it did).
    let pod = cluster
        .kubectl(&["get", "pod", "irsa-test", "-o", "json"])
        .unwrap();
    let pod: serde_json::Value = serde_json::from_str(&pod).unwrap();
    let projection = pod["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "aws-iam-token")
        .map(|v| v["projected"]["sources"][0]["serviceAccountToken"].clone())
        .expect("the webhook's projected token volume");
    assert_eq!(projection["audience"], "sts.amazonaws.com");

    let denied = cluster
        .wait_for_logs("default", "irsa-intruder", Duration::from_secs(180), |l| {
            l.contains("AccessDenied")
        })
        .unwrap();
    assert!(
        denied.contains("Not authorized to perform sts:AssumeRoleWithWebIdentity"),
        "the intruder's log has STS's refusal: {denied}"
    );

    // The emulator's audit: the allowed session for s3-reader, and the refusal naming both subjects.
    let audit = emulator_audit(&cluster);
    let allowed = audit.iter().any(|e| {
        e["action"] == "sts:AssumeRoleWithWebIdentity"
            && e["decision"] == "allow"
            && e["caller"]
                .as_str()
                .unwrap_or("")
                .contains("system:serviceaccount:default:s3-reader")
    });
    assert!(allowed, "an allowed web identity for s3-reader: {audit:?}");
    let refusal = audit
        .iter()
        .find(|e| {
            e["action"] == "sts:AssumeRoleWithWebIdentity"
                && e["decision"] == "deny"
                && e["caller"]
                    .as_str()
                    .unwrap_or("")
                    .contains("system:serviceaccount:default:intruder")
        })
        .unwrap_or_else(|| panic!("a denied web identity for intruder: {audit:?}"));
    let why = refusal["explanation"].as_str().unwrap();
    assert!(
        why.contains("system:serviceaccount:default:s3-reader")
            && why.contains("system:serviceaccount:default:intruder"),
        "the refusal names the subject the trust wants and the one the token has: {why}"
    );

    // The network rule: a pod that tries to leave is refused at once, and nothing left the machine.
    let probe = r#"apiVersion: v1
kind: Pod
metadata:
  name: egress-probe
  namespace: default
spec:
  restartPolicy: Never
  containers:
  - name: probe
    image: public.ecr.aws/aws-cli/aws-cli:2.25.4
    command: ['python3', '-c']
    args:
    - |
      import socket
      for target in [("1.1.1.1", 443), ("8.8.8.8", 53)]:
          try:
              socket.create_connection(target, timeout=10)
              print("CONNECTED", target)
          except OSError as e:
              print("refused", target, e.errno)
      for name in ["sts.amazonaws.com", "CANARY"]:
          try:
              socket.getaddrinfo(name, 443)
              print("RESOLVED", name)
          except OSError as e:
              print("no DNS", name, e)
      print("done")
"#;
    cluster
        .apply(&probe.replace("CANARY", &canary_name()))
        .unwrap();
    let probed = cluster
        .wait_for_logs("default", "egress-probe", Duration::from_secs(120), |l| {
            l.contains("done")
        })
        .unwrap();
    assert!(
        !probed.contains("CONNECTED") && !probed.contains("RESOLVED"),
        "a pod reached beyond the machine: {probed}"
    );
    assert_eq!(
        probed.matches("refused").count(),
        2,
        "both connections are rejected by the node's guard: {probed}"
    );

    kind_down_leaves_nothing(cluster);
    if let Some(uplink) = uplink {
        let seen = uplink.stop();
        let leaked = cluster_traffic(&seen);
        assert!(
            leaked.is_empty(),
            "the cluster sent packets off the machine, or DNS queries of its names:\n{}",
            leaked.join("\n")
        );
        if !seen.is_empty() {
            eprintln!(
                "other DNS on the uplink meanwhile (this machine's own, not the cluster's):\n{}",
                seen.join("\n")
            );
        }
    }
}

#[test]
fn real_pods_rotated_token_keeps_earning_credentials() {
    if skip_without_docker("no pod ran on kind through a token rotation") {
        return;
    }
    let cluster = up("irsa-rotate");
    cluster.load_image(AWS_CLI_IMAGE).unwrap();
    let shell = PluginShell::new(&cluster);
    let role_arn = bind(
        &shell,
        &cluster,
        "default/rotator",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    );
    let role_name = role_arn.rsplit('/').next().unwrap().to_string();
    let pod = format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: rotator
  namespace: default
  annotations:
    eks.amazonaws.com/token-expiration: "600"
spec:
  serviceAccountName: rotator
  containers:
  - name: rotator
    image: public.ecr.aws/aws-cli/aws-cli:2.25.4
    command: ['sh', '-c', {script}]
"#,
        script = serde_json::to_string(ROTATION_SCRIPT).unwrap()
    );
    cluster.apply(&pod).unwrap();
    let spec = cluster
        .kubectl(&[
            "get",
            "pod",
            "rotator",
            "-o",
            "jsonpath={.spec.volumes[?(@.name=='aws-iam-token')].projected.sources[0].serviceAccountToken.expirationSeconds}",
        ])
        .unwrap();
    assert_eq!(spec.trim(), "600", "the webhook honours token-expiration");

    // The kubelet renews a projected token once 80% of its lifetime has passed: after 480 s, at its next
    // volume sync.
    let logs = cluster
        .wait_for_logs("default", "rotator", Duration::from_secs(900), |l| {
            // The second token, and both calls made with it.
            rotations(l).get(1).is_some_and(|iat| {
                l.lines().any(|line| {
                    line.starts_with("default chain ") && line.contains(&format!("iat={iat}:"))
                })
            })
        })
        .unwrap();
    let seen = rotations(&logs);
    let (first, second) = (seen[0], seen[1]);
    assert!(
        second >= first + 470,
        "the second token (iat {second}) came at rotation, not before 80% of 600 s (less the kubelet's 10 s jitter) after {first}:\n{logs}"
    );
    let want = format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/");
    for iat in [first, second] {
        assert!(
            logs.contains(&format!("assumed with iat={iat}: {want}iat-{iat}")),
            "STS accepted the token with iat {iat}:\n{logs}"
        );
        assert!(
            logs.lines()
                .any(|l| l.starts_with(&format!("default chain at iat={iat}: {want}"))),
            "the SDK chain got credentials after the token with iat {iat}:\n{logs}"
        );
    }
}

/// The `iat`s the rotation pod logged, in order.
fn rotations(logs: &str) -> Vec<u64> {
    logs.lines()
        .filter_map(|l| l.strip_prefix("token iat="))
        .filter_map(|v| v.trim().parse().ok())
        .collect()
}

/// The emulator as a platform team runs it: inside the cluster (the repository's Dockerfile, built here from
/// local images; deploy/ applied), made the cluster's service-account issuer the way a kubeadm cluster is
/// reconfigured, the webhook served from its pod, and a pod in another namespace getting its role from it.
#[test]
fn real_pods_emulator_inside_the_cluster_serves_a_pod_in_another_namespace() {
    if skip_without_docker("the emulator image did not run inside a kind cluster") {
        return;
    }
    let image = emulator_image();
    let cluster = up("irsa-inside");
    cluster.load_image(&image).unwrap();
    cluster.load_image(AWS_CLI_IMAGE).unwrap();

    // kind-up.sh's emulator runs on the host; from here on the one in the cluster takes over, so the host one
    // stops and its webhook and CA ConfigMaps go.
    stop_host_emulator(&cluster);
    let emulator_bin = built_binary("IRSA_EMULATOR_BIN", "irsa-emulator");
    let kubeconfig = cluster.kubeconfig().display().to_string();
    let mut shell = PluginShell::new(&cluster);
    shell.run(
        &emulator_bin,
        &["webhook", "uninstall", "--kubeconfig", &kubeconfig],
    );

    // deploy/, with the image built here.
    apply_with_emulator_image(&cluster, "deploy", &image);
    cluster
        .kubectl(&[
            "rollout",
            "status",
            "-n",
            "irsa-system",
            "deploy/irsa-emulator",
            "--timeout=180s",
        ])
        .unwrap_or_else(|e| {
            panic!(
                "{e:#}\n{}",
                cluster
                    .kubectl(&["describe", "pods", "-n", "irsa-system"])
                    .unwrap_or_default()
            )
        });
    let in_pod = |args: &[&str]| {
        let mut all = vec!["exec", "-n", "irsa-system", "deploy/irsa-emulator", "--"];
        all.extend_from_slice(args);
        cluster.kubectl(&all).unwrap()
    };
    let ca_pem = in_pod(&["cat", "/data/ca.pem"]);
    assert!(ca_pem.contains("BEGIN CERTIFICATE"), "{ca_pem}");

    // A cluster in the in-cluster emulator; the API server re-issued under it, as on a kubeadm cluster.
    let created = in_pod(&[
        "irsa-emulator",
        "cluster",
        "create",
        "inside",
        "--endpoint-url",
        "https://127.0.0.1:8443",
        "--data-dir",
        "/data",
        "--out-dir",
        "/data/inside-keys",
    ]);
    let issuer = created
        .lines()
        .find_map(|l| l.strip_prefix("issuer:"))
        .map(|s| s.trim().to_string())
        .expect("cluster create prints the issuer");
    assert!(
        issuer.starts_with("https://irsa-emulator.irsa-system.svc/id/"),
        "the issuer is the in-cluster emulator's URL: {issuer}"
    );
    let key = in_pod(&["cat", "/data/inside-keys/sa.key"]);
    let public = in_pod(&["cat", "/data/inside-keys/sa.pub"]);
    reissue(&cluster, &issuer, &key, &public);

    let scratch = tempfile::tempdir().unwrap();
    let ca = scratch.path().join("ca.pem");
    std::fs::write(&ca, &ca_pem).unwrap();
    shell.run(
        &emulator_bin,
        &[
            "webhook",
            "install",
            "--service",
            "irsa-system/irsa-emulator:443",
            "--kubeconfig",
            &kubeconfig,
            "--ca-file",
            ca.to_str().unwrap(),
        ],
    );

    // IAM of the in-cluster emulator, through a port-forward, as a user without cluster networking reaches it.
    let forward = PortForward::start(&cluster, "irsa-system", "svc/irsa-emulator", 443);
    shell.set(
        "AWS_ENDPOINT_URL",
        format!("https://127.0.0.1:{}", forward.port),
    );
    shell.set("AWS_CA_BUNDLE", ca.display().to_string());
    // Its issuer is a cluster-internal name this machine cannot resolve, so the platform team registers the
    // IAM OIDC provider with the AWS CLI, giving the thumbprint of the CA it already has.
    shell.run(
        std::path::Path::new("aws"),
        &[
            "iam",
            "create-open-id-connect-provider",
            "--url",
            &issuer,
            "--client-id-list",
            "sts.amazonaws.com",
            "--thumbprint-list",
            &sha1_fingerprint(&ca),
        ],
    );
    shell.kubectl(&["create", "namespace", "team-b"]);
    shell.irsa(&[
        "create",
        "--name",
        "reader",
        "-n",
        "team-b",
        "--cluster",
        "inside",
        "--attach-policy-arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ]);
    let role_name = role_arn_of(&cluster, "team-b", "reader")
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let pod = SEED_POD
        .replace("<SERVICE_ACCOUNT_NAME>", "reader")
        .replace("namespace: default", "namespace: team-b");
    // The API server restarted under the emulator's watches; until its client is back, the webhook cannot read
    // the service account and admits pods unchanged (as upstream's does). A server-side dry run goes through
    // admission without creating anything: once it comes back mutated, the webhook is serving again.
    wait_until_mutated(&cluster, &pod);
    shell.apply_file("team-b-pod.yaml", &pod);
    let logs = cluster
        .wait_for_logs("team-b", "irsa-test", Duration::from_secs(180), |l| {
            l.contains("\"Arn\"")
        })
        .unwrap();
    let identity: serde_json::Value = serde_json::from_str(&logs).unwrap();
    assert!(
        identity["Arn"].as_str().unwrap().starts_with(&format!(
            "arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/botocore-session-"
        )),
        "{identity}"
    );
    let env = cluster
        .kubectl(&[
            "get",
            "pod",
            "irsa-test",
            "-n",
            "team-b",
            "-o",
            "jsonpath={.spec.containers[0].env[?(@.name=='AWS_ENDPOINT_URL_STS')].value}",
        ])
        .unwrap();
    assert_eq!(
        env, "https://irsa-emulator.irsa-system.svc",
        "the webhook in the cluster sent the pod to the emulator in the cluster"
    );
    drop(forward);
    kind_down_leaves_nothing(cluster);
}

#[test]
fn a_reissued_api_server_keeps_the_old_issuer_and_both_public_keys() {
    let manifest = "spec:\n  containers:\n  - command:\n    - kube-apiserver\n    - --service-account-issuer=https://old/id/A\n    - --service-account-key-file=/etc/kubernetes/pki/irsa/sa.pub\n    - --service-account-signing-key-file=/etc/kubernetes/pki/irsa/sa.key\n    - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt\n";
    let got = reissued_manifest(manifest, "https://new/id/B", "/k");
    assert_eq!(
        got,
        "spec:\n  containers:\n  - command:\n    - kube-apiserver\n    - --service-account-issuer=https://new/id/B\n    - --service-account-issuer=https://old/id/A\n    - --service-account-key-file=/etc/kubernetes/pki/irsa/sa.pub\n    - --service-account-key-file=/k/sa.pub\n    - --service-account-signing-key-file=/k/sa.key\n    - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt\n"
    );
}

#[test]
fn kustomize_bases_are_named_relative_to_the_overlay() {
    use std::path::Path;
    assert_eq!(
        relative_to(Path::new("/tmp/.tmpX"), Path::new("/work/main/deploy")),
        "../../work/main/deploy"
    );
    assert_eq!(
        relative_to(Path::new("/work/main/o"), Path::new("/work/main/deploy")),
        "../deploy"
    );
}
