//! EKS Pod Identity with real pods on kind, offline: the agent deployed as EKS deploys it (DaemonSet
//! `eks-pod-identity-agent` in `kube-system`, host network, its init step putting 169.254.170.23 on the node;
//! the image is the emulator's, built here from the Dockerfile, running `irsa-emulator agent`), the webhook
//! (the emulator kind-up.sh started) injecting `AWS_CONTAINER_CREDENTIALS_FULL_URI` and the
//! `pods.eks.amazonaws.com` token, the kubelet projecting it, and the seed's aws-cli image in the pods —
//! Debian's awscli 2.23 (its bundled botocore reads `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` and allows plain
//! HTTP to 169.254.170.23) — getting its role through the agent and eks-auth.
//!
//! One cluster for every step (bring-up is most of the time): the assumed-role ARN in a pod's logs; one role
//! shared by two namespaces whose policy allows `iam:ListRoles` only for the session tag
//! `kubernetes-namespace=team-a` (EKS User Guide, "Grant Pods access to AWS resources based on tags"), so
//! team-a's pod lists roles and team-b's is denied; every exchange in the emulator's audit; and a pod bound
//! by `kubectl irsa create` (IRSA) that, restarted after `kubectl irsa migrate --to pod-identity`, gets the same
//! role through the agent; and a pod bound by `kubectl irsa create --pod-identity` alone (role, service
//! account, association), its role through the agent, with `kubectl irsa describe` finding the binding.
//!
//! Without a Docker engine the test prints "skipped: …" and returns; with `IRSA_REQUIRE_DOCKER=1` that is a
//! failure. scripts/test.sh runs it beside kind_pods.rs.

mod kind_common;

use std::path::Path;
use std::time::Duration;

use kind_common::*;

/// A pod of the seed's image that prints its identity, then tries a call the emulator authorizes.
fn pod(namespace: &str, name: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: {namespace}
spec:
  serviceAccountName: app
  containers:
  - name: app
    image: {AWS_CLI_IMAGE}
    command: ['sh', '-c']
    args:
    - |
      aws sts get-caller-identity --output json
      # One line each: the CLI's error message starts with an empty line.
      if out=$(aws iam list-roles --endpoint-url "$AWS_ENDPOINT_URL_STS" --max-items 1 --query 'Roles[0].RoleName' --output text 2>&1); then
        echo "list-roles allowed: $(printf %s "$out" | tr '\n' ' ')"
      else
        echo "list-roles refused: $(printf %s "$out" | tr '\n' ' ')"
      fi
      sleep 3600
"#
    )
}

/// deploy/pod-identity-agent with the emulator image, its ConfigMap and Secret, rolled out.
fn deploy_agent(cluster: &KindCluster, image: &str) {
    cluster
        .kubectl(&[
            "-n",
            "kube-system",
            "create",
            "configmap",
            "eks-pod-identity-agent",
            &format!("--from-literal=cluster-name={}", cluster.name),
            &format!("--from-literal=endpoint={}", cluster.pod_url),
            "--from-literal=region=us-east-1",
        ])
        .unwrap();
    cluster
        .kubectl(&[
            "-n",
            "kube-system",
            "create",
            "secret",
            "generic",
            "eks-pod-identity-agent",
            &format!(
                "--from-literal=AWS_ACCESS_KEY_ID={}",
                irsa_emulator::config::DEFAULT_ADMIN_ACCESS_KEY_ID
            ),
            &format!(
                "--from-literal=AWS_SECRET_ACCESS_KEY={}",
                irsa_emulator::config::DEFAULT_ADMIN_SECRET_ACCESS_KEY
            ),
        ])
        .unwrap();
    apply_with_emulator_image(cluster, "deploy/pod-identity-agent", image);
    cluster
        .kubectl(&[
            "rollout",
            "status",
            "-n",
            "kube-system",
            "daemonset/eks-pod-identity-agent",
            "--timeout=180s",
        ])
        .unwrap_or_else(|e| {
            panic!(
                "{e:#}\n{}\n{}",
                cluster
                    .kubectl(&[
                        "describe",
                        "pods",
                        "-n",
                        "kube-system",
                        "-l",
                        "app.kubernetes.io/name=eks-pod-identity-agent"
                    ])
                    .unwrap_or_default(),
                cluster
                    .kubectl(&[
                        "logs",
                        "-n",
                        "kube-system",
                        "-l",
                        "app.kubernetes.io/name=eks-pod-identity-agent",
                        "--all-containers"
                    ])
                    .unwrap_or_default()
            )
        });
}

/// The JSON of `aws sts get-caller-identity` at the start of a pod's logs, and the list-roles line.
fn identity_and_verdict(logs: &str) -> (serde_json::Value, String) {
    let (json, rest) = logs
        .split_once("\n}")
        .unwrap_or_else(|| panic!("no get-caller-identity JSON in:\n{logs}"));
    let identity: serde_json::Value = serde_json::from_str(&format!("{json}\n}}"))
        .unwrap_or_else(|e| panic!("get-caller-identity's JSON ({e}):\n{logs}"));
    let verdict = rest
        .lines()
        .find(|l| l.starts_with("list-roles "))
        .unwrap_or_default()
        .to_string();
    (identity, verdict)
}

#[test]
fn real_pods_get_their_role_through_the_pod_identity_agent() {
    if skip_without_docker("no pod got EKS Pod Identity credentials through the agent on kind") {
        return;
    }
    let image = emulator_image();
    let cluster = up("irsa-podid");
    cluster.load_image(&image).unwrap();
    cluster.load_image(AWS_CLI_IMAGE).unwrap();
    deploy_agent(&cluster, &image);
    let addresses = cluster.node_exec("ip -o addr show").unwrap();
    assert!(
        addresses.contains("inet 169.254.170.23/32"),
        "the agent's init step put its address on the node:\n{addresses}"
    );

    // A role with EKS Pod Identity's trust, whose one permission depends on the namespace's session tag;
    // made and bound with the AWS CLI, as the EKS User Guide shows.
    let shell = PluginShell::new(&cluster);
    let aws = |args: &[&str]| shell.run(Path::new("aws"), args);
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}]});
    let role_arn = aws(&[
        "iam",
        "create-role",
        "--role-name",
        "podid-shared",
        "--assume-role-policy-document",
        &trust.to_string(),
        "--query",
        "Role.Arn",
        "--output",
        "text",
    ])
    .trim()
    .to_string();
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/kubernetes-namespace": "team-a"}}}]});
    aws(&[
        "iam",
        "put-role-policy",
        "--role-name",
        "podid-shared",
        "--policy-name",
        "team-a-lists-roles",
        "--policy-document",
        &policy.to_string(),
    ]);
    for namespace in ["team-a", "team-b"] {
        shell.kubectl(&["create", "namespace", namespace]);
        shell.kubectl(&["create", "serviceaccount", "app", "-n", namespace]);
        aws(&[
            "eks",
            "create-pod-identity-association",
            "--cluster-name",
            &cluster.name,
            "--namespace",
            namespace,
            "--service-account",
            "app",
            "--role-arn",
            &role_arn,
        ]);
    }
    shell.apply_file("team-a.yaml", &pod("team-a", "pi-a"));
    shell.apply_file("team-b.yaml", &pod("team-b", "pi-b"));

    // What the webhook injected, as EKS's does: the agent's URI, the token file, the projected token.
    let spec = cluster
        .kubectl(&["get", "pod", "pi-a", "-n", "team-a", "-o", "json"])
        .unwrap();
    let spec: serde_json::Value = serde_json::from_str(&spec).unwrap();
    let env = &spec["spec"]["containers"][0]["env"];
    let value = |name: &str| {
        env.as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .map(|e| e["value"].as_str().unwrap().to_string())
    };
    assert_eq!(
        value("AWS_CONTAINER_CREDENTIALS_FULL_URI").as_deref(),
        Some("http://169.254.170.23/v1/credentials"),
        "{env}"
    );
    assert_eq!(
        value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").as_deref(),
        Some("/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token")
    );
    assert_eq!(
        value("AWS_ROLE_ARN"),
        None,
        "no IRSA for an associated service account"
    );
    let projection = spec["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "eks-pod-identity-token")
        .map(|v| v["projected"]["sources"][0]["serviceAccountToken"].clone())
        .expect("the webhook's Pod Identity token volume");
    assert_eq!(projection["audience"], "pods.eks.amazonaws.com");

    let session_prefix = |pod: &str| {
        format!(
            "arn:aws:sts::{ACCOUNT}:assumed-role/podid-shared/eks-{}-{pod}-",
            cluster.name
        )
    };
    let logs_of = |namespace: &str, pod: &str| {
        cluster
            .wait_for_logs(namespace, pod, Duration::from_secs(180), |l| {
                l.contains("list-roles ")
            })
            .unwrap()
    };
    let (identity, verdict) = identity_and_verdict(&logs_of("team-a", "pi-a"));
    let arn = identity["Arn"].as_str().unwrap();
    assert!(
        arn.starts_with(&session_prefix("pi-a")),
        "team-a's pod is the role: {identity}"
    );
    assert!(
        verdict.starts_with("list-roles allowed: "),
        "team-a's session tag satisfies the policy: {verdict}"
    );
    let (identity, verdict) = identity_and_verdict(&logs_of("team-b", "pi-b"));
    let denied_arn = identity["Arn"].as_str().unwrap().to_string();
    assert!(
        denied_arn.starts_with(&session_prefix("pi-b")),
        "{identity}"
    );
    assert!(
        verdict.starts_with("list-roles refused: ") && verdict.contains("AccessDenied"),
        "team-b's session tag does not: {verdict}"
    );
    // Each `aws` run asks the agent anew, which (caching nothing) gets a new session: the same role and pod.
    assert!(
        verdict.contains(&format!("User: {}", session_prefix("pi-b")))
            && verdict.contains("is not authorized to perform: iam:ListRoles"),
        "{verdict}"
    );

    // The emulator decided each exchange (the agent asked, eks-auth verified the kubelet's token) and the
    // refusal.
    let audit = emulator_audit(&cluster);
    for namespace in ["team-a", "team-b"] {
        assert!(
            audit
                .iter()
                .any(|e| e["action"] == "eks-auth:AssumeRoleForPodIdentity"
                    && e["decision"] == "allow"
                    && e["caller"] == format!("system:serviceaccount:{namespace}:app")),
            "an audited grant for {namespace}: {audit:?}"
        );
    }
    assert!(
        audit.iter().any(|e| e["action"] == "iam:ListRoles"
            && e["decision"] == "deny"
            && e["caller"].as_str().unwrap_or("").contains("pi-b")),
        "team-b's ListRoles refusal is audited: {audit:?}"
    );

    // From IRSA to Pod Identity with the plugin: a pod bound by `kubectl irsa create` is the role through STS's
    // web identity; after `kubectl irsa migrate --to pod-identity` (annotation kept) its restart gets the same
    // role through the agent.
    shell.kubectl(&["create", "namespace", "team-c"]);
    let role = bind(
        &shell,
        &cluster,
        "team-c/mover",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    );
    let role_name = role.rsplit('/').next().unwrap().to_string();
    let mover = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: team-c\nspec:\n  \
             serviceAccountName: mover\n  containers:\n  - name: app\n    image: {AWS_CLI_IMAGE}\n    \
             command: ['sh', '-c', 'aws sts get-caller-identity --query Arn --output text && sleep 3600']\n"
        )
    };
    let arn_of = |name: &str| {
        cluster
            .wait_for_logs("team-c", name, Duration::from_secs(180), |l| {
                l.contains("arn:aws:sts::")
            })
            .unwrap()
            .trim()
            .to_string()
    };
    shell.apply_file("mover-0.yaml", &mover("mover-0"));
    let before = arn_of("mover-0");
    assert!(
        before.starts_with(&format!(
            "arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/botocore-session-"
        )),
        "IRSA before the migration: {before}"
    );
    shell.irsa(&[
        "migrate",
        "--to",
        "pod-identity",
        "--name",
        "mover",
        "-n",
        "team-c",
        "--cluster",
        &cluster.name,
    ]);
    shell.kubectl(&["delete", "pod", "mover-0", "-n", "team-c", "--wait=false"]);
    shell.apply_file("mover-1.yaml", &mover("mover-1"));
    let after = arn_of("mover-1");
    assert!(
        after.starts_with(&format!(
            "arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/eks-{}-mover-1-",
            cluster.name
        )),
        "the restarted pod gets the role through the agent: {after}"
    );

    // Bound by the plugin alone: `kubectl irsa create --pod-identity` makes the role, the service account
    // and the association; the pod is that role through the agent, and `describe` finds the binding sound.
    shell.kubectl(&["create", "namespace", "team-d"]);
    shell.irsa(&[
        "create",
        "--pod-identity",
        "--name",
        "web",
        "-n",
        "team-d",
        "--cluster",
        &cluster.name,
        "--attach-policy-arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ]);
    // A listing's summaries carry no roleArn (botocore `PodIdentityAssociationSummary`): describe the one found.
    let association = aws(&[
        "eks",
        "list-pod-identity-associations",
        "--cluster-name",
        &cluster.name,
        "--namespace",
        "team-d",
        "--service-account",
        "web",
        "--query",
        "associations[0].associationId",
        "--output",
        "text",
    ])
    .trim()
    .to_string();
    let web_role = aws(&[
        "eks",
        "describe-pod-identity-association",
        "--cluster-name",
        &cluster.name,
        "--association-id",
        &association,
        "--query",
        "association.roleArn",
        "--output",
        "text",
    ])
    .trim()
    .to_string();
    let web_role_name = web_role.rsplit('/').next().unwrap().to_string();
    assert!(
        web_role.starts_with(&format!("arn:aws:iam::{ACCOUNT}:role/")),
        "{web_role}"
    );
    let web = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-0\n  namespace: team-d\nspec:\n  \
               serviceAccountName: web\n  containers:\n  - name: app\n    image: IMAGE\n    \
               command: ['sh', '-c', 'aws sts get-caller-identity --query Arn --output text && sleep 3600']\n"
        .replace("IMAGE", AWS_CLI_IMAGE);
    shell.apply_file("web-0.yaml", &web);
    let arn = cluster
        .wait_for_logs("team-d", "web-0", Duration::from_secs(180), |l| {
            l.contains("arn:aws:sts::")
        })
        .unwrap()
        .trim()
        .to_string();
    assert!(
        arn.starts_with(&format!(
            "arn:aws:sts::{ACCOUNT}:assumed-role/{web_role_name}/eks-{}-web-0-",
            cluster.name
        )),
        "a pod bound by kubectl irsa create --pod-identity is its role through the agent: {arn}"
    );
    let described = shell.irsa(&[
        "describe",
        "web",
        "-n",
        "team-d",
        "--cluster",
        &cluster.name,
    ]);
    assert!(described.contains(&web_role), "{described}");
    kind_down_leaves_nothing(cluster);
}
