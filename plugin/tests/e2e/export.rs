//! `create --dry-run -o terraform|cloudformation|eksctl|yaml`, each read by its own tool: the manifest by the real
//! kube-apiserver (`kubectl apply --dry-run=server`), the template by cfn-lint (PyPI; scripts/test.sh installs it
//! in the venv from e2e/python/requirements.txt), the eksctl fragment by the plugin's own `-f` reader, Terraform
//! by a real HCL parser (hcl-rs; Terraform's providers cannot be downloaded here, so `terraform validate` is not
//! run). Nothing is created by any of them.

use std::path::PathBuf;

use crate::common::{env, Env};
use crate::{default_role, namespace_exists, role};

fn export_in(env: &Env, ns: &str, format: &str, policy: &str, inline: &str) -> String {
    env.ok(&[
        "create",
        "--name",
        "app",
        "-n",
        ns,
        "--attach-policy-arn",
        policy,
        "--inline-policy",
        inline,
        "--tags",
        "team=shop",
        "--dry-run",
        "-o",
        format,
    ])
}

fn export(env: &Env, format: &str, policy: &str, inline: &str) -> String {
    export_in(env, "gitops", format, policy, inline)
}

fn write(env: &Env, name: &str, text: &str) -> String {
    let path = env.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// cfn-lint from IRSA_CFN_LINT, else PATH (scripts/test.sh puts the venv's bin there), else the venv itself.
fn cfn_lint() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("IRSA_CFN_LINT").map(PathBuf::from) {
        return Some(p);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("cfn-lint"))
        .find(|p| p.is_file());
    on_path.or_else(|| {
        let home = std::env::var_os("HOME")?;
        let venv = PathBuf::from(home).join(".cache/kubectl-irsa/venv/bin/cfn-lint");
        venv.is_file().then_some(venv)
    })
}

#[test]
fn each_export_is_accepted_by_its_own_tool_and_nothing_is_created() {
    let Some((env, _guard)) = env() else { return };
    let policy = env.create_policy("gitops-read", "s3:GetObject");
    let inline = write(
        env,
        "gitops-inline.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}]}"#,
    );
    let role_name = default_role("gitops", "app");

    // Kubernetes YAML, as the API server takes it. A server dry run creates nothing, so a ServiceAccount can
    // only be checked in a namespace that exists: gitops is made first; for one that does not exist yet the
    // export starts with the Namespace, checked on its own.
    let fresh = export_in(env, "gitops-new", "yaml", &policy, &inline);
    let docs: Vec<&str> = fresh.split("---\n").collect();
    assert_eq!(docs.len(), 2, "{fresh}");
    let namespace_doc = write(env, "gitops-new-namespace.yaml", docs[0]);
    let accepted = env.kubectl(&["apply", "--dry-run=server", "-f", &namespace_doc]);
    assert!(
        accepted.contains("namespace/gitops-new created (server dry run)"),
        "{accepted}"
    );
    env.kubectl(&["create", "namespace", "gitops"]);
    let yaml = export(env, "yaml", &policy, &inline);
    assert!(
        !yaml.contains("kind: Namespace"),
        "the namespace exists now\n{yaml}"
    );
    let manifest = write(env, "gitops.yaml", &yaml);
    let accepted = env.kubectl(&["apply", "--dry-run=server", "-f", &manifest]);
    assert!(
        accepted.contains("serviceaccount/app created (server dry run)"),
        "{accepted}"
    );
    assert!(env.service_account("gitops", "app").is_none(), "a dry run");
    assert!(yaml.contains(&format!(
        "eks.amazonaws.com/role-arn: arn:aws:iam::{}:role/{role_name}",
        env.account()
    )));

    // CloudFormation, linted by cfn-lint.
    let template = export(env, "cloudformation", &policy, &inline);
    let parsed: serde_json::Value = serde_json::from_str(&template).unwrap();
    let props = &parsed["Resources"]["GitopsAppRole"]["Properties"];
    assert_eq!(props["RoleName"], role_name.as_str(), "{template}");
    assert_eq!(props["ManagedPolicyArns"], serde_json::json!([policy]));
    assert_eq!(props["Policies"][0]["PolicyName"], "kubectl-irsa");
    let path = write(env, "gitops.template.json", &template);
    match cfn_lint() {
        Some(lint) => {
            let out = std::process::Command::new(&lint)
                .arg(&path)
                .output()
                .expect("cfn-lint runs");
            assert!(
                out.status.success(),
                "cfn-lint: {}\n{}\n{template}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        None => eprintln!(
            "skipped cfn-lint: not installed (pip install cfn-lint, or IRSA_CFN_LINT=/path)"
        ),
    }

    // The eksctl fragment, read back by `create -f`: the same role, policies and trust are planned.
    let fragment = write(
        env,
        "gitops-eksctl.yaml",
        &export(env, "eksctl", &policy, &inline),
    );
    let plan = env.ok(&["create", "-f", &fragment, "--dry-run"]);
    assert!(
        plan.contains(&format!("create IAM role {role_name}")),
        "{plan}"
    );
    assert!(
        plan.contains(&format!("attach policy {policy} to role {role_name}")),
        "{plan}"
    );
    assert!(
        plan.contains(&format!(
            "put inline policy kubectl-irsa of role {role_name}"
        )),
        "{plan}"
    );

    // Terraform, parsed as HCL; the trust is the document the plan would send.
    let terraform = export(env, "terraform", &policy, &inline);
    let body: hcl::Body = hcl::parse(&terraform).unwrap_or_else(|e| panic!("{e}\n{terraform}"));
    let kinds: Vec<String> = body
        .blocks()
        .map(|b| b.labels()[0].as_str().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "aws_iam_role",
            "aws_iam_role_policy_attachment",
            "aws_iam_role_policy",
            "kubernetes_service_account_v1"
        ],
        "{terraform}"
    );
    assert!(
        terraform.contains("\"system:serviceaccount:gitops:app\""),
        "{terraform}"
    );

    // Nothing was created by any of it; an export without --dry-run is refused.
    assert!(role(env, &role_name).is_none());
    assert!(!namespace_exists(env, "gitops-new"));
    assert!(env.service_account("gitops", "app").is_none());
    let refused = env.run(&["create", "--name", "app", "-n", "gitops", "-o", "terraform"]);
    assert_eq!(refused.code, 2, "{refused}");
    assert!(refused.stderr.contains("add --dry-run"), "{refused}");
}
