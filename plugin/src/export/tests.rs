//! Each export read back by a real parser: HCL by hcl-rs (the `jsonencode` arguments evaluated and compared
//! with the documents), the eksctl fragment by the plugin's own `-f` reader, YAML by serde_yaml.
//! plugin/tests/e2e/export.rs checks the rest with the tools themselves (cfn-lint, kubectl apply
//! --dry-run=server).

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::clusterconfig::ClusterConfig;

fn sample() -> Binding {
    let trust = irsa_policy::irsa_trust_policy(
        &irsa_policy::Account::aws("111122223333"),
        "https://oidc.eks.us-east-1.amazonaws.com/id/ABC",
        "shop",
        "app",
        "sts.amazonaws.com",
        None,
    );
    Binding {
        namespace: "shop".into(),
        name: "app".into(),
        role_name: "irsa-prod-shop-app".into(),
        role_arn: "arn:aws:iam::111122223333:role/irsa-prod-shop-app".into(),
        role: Some(RoleSpec {
            path: "/".into(),
            description: "IRSA role".into(),
            trust,
            managed_policies: vec![
                "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into(),
                "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser".into(),
            ],
            preset_managed_policies: vec![
                "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser".into(),
            ],
            inline_policies: vec![(
                "kubectl-irsa".into(),
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::home/${aws:username}/*"}]}),
            )],
            preset_inline_policies: vec![],
            permissions_boundary: Some("arn:aws:iam::111122223333:policy/boundary".into()),
            max_session_duration: Some(7200),
            tags: vec![
                ("managed-by".into(), "kubectl-irsa".into()),
                ("team".into(), "shop".into()),
            ],
        }),
        service_account: Some(ServiceAccountSpec {
            annotations: BTreeMap::from([
                (
                    irsa_names::ROLE_ARN_ANNOTATION.into(),
                    "arn:aws:iam::111122223333:role/irsa-prod-shop-app".into(),
                ),
                ("team.example.com/owner".into(), "shop".into()),
            ]),
            labels: BTreeMap::from([(irsa_names::MANAGED_BY_LABEL.into(), "kubectl-irsa".into())]),
            create_namespace: true,
        }),
        eksctl_well_known: vec!["imageBuilder"],
        attach_role_arn: None,
        cluster: "prod".into(),
        region: "us-east-1".into(),
    }
}

fn attribute<'a>(body: &'a hcl::Body, block: &str, name: &str) -> &'a hcl::Expression {
    body.blocks()
        .filter(|b| b.identifier() == block)
        .flat_map(|b| b.body().attributes())
        .find(|a| a.key() == name)
        .map(|a| a.expr())
        .unwrap_or_else(|| panic!("{block}.{name}"))
}

fn jsonencode_argument(expr: &hcl::Expression) -> serde_json::Value {
    use hcl::eval::Evaluate;
    let hcl::Expression::FuncCall(call) = expr else {
        panic!("{expr:?}")
    };
    assert_eq!(call.name.to_string(), "jsonencode");
    let value = call.args[0]
        .evaluate(&hcl::eval::Context::new())
        .expect("a literal");
    serde_json::to_value(value).unwrap()
}

#[test]
fn terraform_parses_and_keeps_the_documents_exact() {
    let b = sample();
    let text = render(OutputFormat::Terraform, std::slice::from_ref(&b)).unwrap();
    let body: hcl::Body = hcl::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let kinds: Vec<String> = body
        .blocks()
        .map(|b| b.labels()[0].as_str().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "aws_iam_role",
            "aws_iam_role_policy_attachment",
            "aws_iam_role_policy_attachment",
            "aws_iam_role_policy",
            "kubernetes_service_account_v1"
        ]
    );
    let role = b.role.as_ref().unwrap();
    assert_eq!(
        jsonencode_argument(attribute(&body, "resource", "assume_role_policy")),
        role.trust
    );
    assert_eq!(
        jsonencode_argument(attribute(&body, "resource", "policy")),
        role.inline_policies[0].1
    );
    assert!(
        text.contains("$${aws:username}"),
        "policy variables are escaped, not interpolated"
    );
    assert!(
        text.contains("\"eks.amazonaws.com/role-arn\" = aws_iam_role.shop_app.arn"),
        "{text}"
    );
}

#[test]
fn cloudformation_is_a_template_with_the_role() {
    let text = render(OutputFormat::Cloudformation, &[sample()]).unwrap();
    let template: serde_json::Value = serde_json::from_str(&text).unwrap();
    let role = &template["Resources"]["ShopAppRole"];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    assert_eq!(role["Properties"]["MaxSessionDuration"], 7200);
    assert_eq!(
        role["Properties"]["Policies"][0]["PolicyName"],
        "kubectl-irsa"
    );
    assert_eq!(
        template["Outputs"]["ShopAppRoleArn"]["Value"]["Fn::GetAtt"][0],
        "ShopAppRole"
    );
}

#[test]
fn the_eksctl_fragment_reads_back_with_the_plugins_own_reader() {
    let b = sample();
    let text = render(OutputFormat::Eksctl, std::slice::from_ref(&b)).unwrap();
    let config = ClusterConfig::parse(std::path::Path::new("fragment.yaml"), &text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(config.metadata.name.as_deref(), Some("prod"));
    let sa = &config.service_accounts()[0];
    assert_eq!(
        (sa.metadata.name.as_str(), sa.metadata.namespace.as_deref()),
        ("app", Some("shop"))
    );
    assert_eq!(sa.role_name.as_deref(), Some("irsa-prod-shop-app"));
    assert_eq!(
        sa.attach_policy_arns,
        ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
    );
    assert_eq!(sa.well_known_policies.names(), ["image-builder"]);
    assert_eq!(
        sa.attach_policy.as_ref().unwrap()["Statement"],
        b.role.unwrap().inline_policies[0].1["Statement"]
    );
    assert_eq!(sa.tags["team"], "shop");
    assert!(!sa.tags.contains_key("managed-by"));
}

#[test]
fn the_manifest_is_the_namespace_and_the_service_account() {
    let text = render(OutputFormat::Yaml, &[sample()]).unwrap();
    let docs: Vec<serde_yaml::Value> = text
        .split("---\n")
        .map(|d| serde_yaml::from_str(d).unwrap())
        .collect();
    assert_eq!(docs.len(), 2, "{text}");
    assert_eq!(docs[0]["kind"], "Namespace");
    assert_eq!(docs[1]["kind"], "ServiceAccount");
    assert_eq!(
        docs[1]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::111122223333:role/irsa-prod-shop-app"
    );
}

#[test]
fn identifiers_are_safe() {
    assert_eq!(
        identifier(&["kube-system", "ebs-csi.controller"], false),
        "kube_system_ebs_csi_controller"
    );
    assert_eq!(
        identifier(&["kube-system", "aws-node"], true),
        "KubeSystemAwsNode"
    );
    assert_eq!(identifier(&["1ns", "a"], false), "b1ns_a");
}
