use super::*;

fn values() -> Placeholders {
    Placeholders {
        partition: "aws".into(),
        account: "111122223333".into(),
        region: "us-east-1".into(),
        cluster: "prod".into(),
    }
}

#[test]
fn every_inline_preset_is_a_valid_identity_policy_that_lints_clean() {
    for preset in PRESETS {
        let Some(doc) = preset.inline_document(&values()) else {
            assert!(!preset.managed.is_empty(), "{} has no policy", preset.name);
            continue;
        };
        let text = doc.to_string();
        assert!(
            !text.contains("${"),
            "{}: unfilled placeholder",
            preset.name
        );
        irsa_policy::validate(&text, irsa_policy::DocumentKind::Inline)
            .unwrap_or_else(|e| panic!("{}: {e}", preset.name));
        let findings = crate::lint::lint_value(&doc).unwrap();
        assert_eq!(findings, vec![], "{} lints clean", preset.name);
    }
}

#[test]
fn eksctl_has_seven_and_names_resolve_either_way() {
    let eksctl: Vec<_> = PRESETS.iter().filter_map(|p| p.eksctl_key).collect();
    assert_eq!(
        eksctl,
        [
            "imageBuilder",
            "autoScaler",
            "awsLoadBalancerController",
            "externalDNS",
            "certManager",
            "ebsCSIController",
            "efsCSIController"
        ]
    );
    assert_eq!(find("ebsCSIController").unwrap().name, "ebs-csi-controller");
    assert_eq!(find("VPC-CNI").unwrap().service_account, "aws-node");
    let err = resolve(&["karpentr".into()]).unwrap_err().to_string();
    assert!(err.contains("did you mean karpenter?"), "{err}");
    assert_eq!(
        resolve(&["vpc-cni".into(), "vpc-cni".into()])
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn templates_are_filled_for_the_cluster() {
    let karpenter = find("karpenter")
        .unwrap()
        .inline_document(&values())
        .unwrap();
    let text = karpenter.to_string();
    assert!(
        text.contains("arn:aws:eks:us-east-1:111122223333:cluster/prod"),
        "{text}"
    );
    assert!(text.contains("role/KarpenterNodeRole-prod"));
    assert_eq!(
        find("ebs-csi").unwrap().managed_arns("aws"),
        ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]
    );
    assert_eq!(
        find("ebs-csi-controller")
            .unwrap()
            .inline_policy_name()
            .as_deref(),
        Some("kubectl-irsa-ebs-csi-controller")
    );
}
