use irsa_policy::{irsa_trust_policy, irsa_trust_statement, trust_admits, PolicyDocument};
use serde_json::json;

use super::*;

const ACCOUNT: &str = "111122223333";
const ISSUER_A: &str =
    "https://oidc.eks.us-east-1.amazonaws.com/id/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const ISSUER_B: &str =
    "https://oidc.eks.eu-west-1.amazonaws.com/id/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
const AUD: &str = "sts.amazonaws.com";

fn admits(trust: &Value, issuer: &str, ns: &str, name: &str) -> bool {
    let doc = PolicyDocument::from_value(trust.clone()).unwrap();
    let sub = irsa_policy::service_account_subject(ns, name);
    trust_admits(
        &doc,
        &irsa_policy::Account::aws(ACCOUNT).provider_arn(issuer),
        &sub,
        AUD,
    )
    .is_allowed()
}

#[test]
fn size_is_counted_without_white_space() {
    let doc = json!({"a": "b c"});
    assert_eq!(policy_size(&doc), 10, "{{\"a\":\"bc\"}} is 10 characters");
    let trust = irsa_trust_policy(
        &irsa_policy::Account::aws(ACCOUNT),
        ISSUER_A,
        "ns",
        "app",
        AUD,
        None,
    );
    let pretty = serde_json::to_string_pretty(&trust).unwrap();
    assert_eq!(
        policy_size(&trust),
        policy_size(&serde_json::from_str(&pretty).unwrap())
    );
}

#[test]
fn a_second_subject_of_the_same_provider_joins_its_statement() {
    let trust = irsa_trust_policy(
        &irsa_policy::Account::aws(ACCOUNT),
        ISSUER_A,
        "ns",
        "a",
        AUD,
        None,
    );
    let one = add_statement(
        &trust,
        &irsa_trust_statement(
            &irsa_policy::Account::aws(ACCOUNT),
            ISSUER_A,
            "ns",
            "b",
            AUD,
            None,
        ),
    );
    assert_eq!(statements(&one).len(), 1, "{one:#}");
    let sub_key = format!("{}:sub", irsa_policy::issuer_host_path(ISSUER_A));
    assert_eq!(
        one["Statement"][0]["Condition"]["StringEquals"][&sub_key],
        json!(["system:serviceaccount:ns:a", "system:serviceaccount:ns:b"])
    );
    let two = add_statement(
        &one,
        &irsa_trust_statement(
            &irsa_policy::Account::aws(ACCOUNT),
            ISSUER_B,
            "ns",
            "a",
            AUD,
            None,
        ),
    );
    assert_eq!(
        statements(&two).len(),
        2,
        "another provider is another statement"
    );
    for (issuer, name, ok) in [
        (ISSUER_A, "a", true),
        (ISSUER_A, "b", true),
        (ISSUER_B, "a", true),
        (ISSUER_B, "b", false),
        (ISSUER_A, "c", false),
    ] {
        assert_eq!(admits(&two, issuer, "ns", name), ok, "{issuer} {name}");
    }
    assert_eq!(
        add_statement(
            &two,
            &irsa_trust_statement(
                &irsa_policy::Account::aws(ACCOUNT),
                ISSUER_A,
                "ns",
                "a",
                AUD,
                None
            )
        ),
        two
    );
}

#[test]
fn statements_appended_one_per_cluster_are_compacted_and_others_kept() {
    let service = json!({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"});
    let pattern = irsa_trust_statement(
        &irsa_policy::Account::aws(ACCOUNT),
        ISSUER_A,
        "ns",
        "a",
        AUD,
        Some("web-*"),
    );
    let old = json!({"Version": "2012-10-17", "Statement": [
        irsa_trust_statement(&irsa_policy::Account::aws(ACCOUNT), ISSUER_A, "ns", "a", AUD, None),
        service,
        irsa_trust_statement(&irsa_policy::Account::aws(ACCOUNT), ISSUER_A, "ns", "b", AUD, None),
        pattern,
        irsa_trust_statement(&irsa_policy::Account::aws(ACCOUNT), ISSUER_A, "ns", "c", "vault", None),
    ]});
    let compacted = compact(&old);
    let kept = statements(&compacted);
    assert_eq!(kept.len(), 4, "{compacted:#}");
    assert_eq!(kept[1], service);
    assert!(policy_size(&compacted) < policy_size(&old));
    for name in ["a", "b", "web-1"] {
        assert!(admits(&compacted, ISSUER_A, "ns", name), "{name}");
    }
}

#[test]
fn a_role_for_many_clusters_outgrows_the_quota() {
    let mut trust = irsa_trust_policy(
        &irsa_policy::Account::aws(ACCOUNT),
        ISSUER_A,
        "ns",
        "app",
        AUD,
        None,
    );
    let mut clusters = 1;
    while policy_size(&trust) <= TRUST_POLICY_QUOTA {
        let issuer = format!("https://oidc.eks.us-east-1.amazonaws.com/id/{clusters:032}");
        trust = add_statement(
            &trust,
            &irsa_trust_statement(
                &irsa_policy::Account::aws(ACCOUNT),
                &issuer,
                "ns",
                "app",
                AUD,
                None,
            ),
        );
        clusters += 1;
    }
    // An EKS statement is 428 characters (32-character issuer id, one subject, the audience): four fit in
    // 2,048 and the fifth overflows, "only around 5 clusters can be trusted per role" as
    // aws/containers-roadmap#1408 puts it.
    assert_eq!(
        clusters, 5,
        "the fifth EKS cluster's statement overflows 2048 characters"
    );
    let four = compact(&json!({"Statement": statements(&trust)[..4].to_vec()}));
    assert!(
        policy_size(&four) <= TRUST_POLICY_QUOTA,
        "{}",
        policy_size(&four)
    );
}

#[test]
fn a_retired_provider_is_taken_out() {
    let both = add_statement(
        &irsa_trust_policy(
            &irsa_policy::Account::aws(ACCOUNT),
            ISSUER_A,
            "ns",
            "a",
            AUD,
            None,
        ),
        &irsa_trust_statement(
            &irsa_policy::Account::aws(ACCOUNT),
            ISSUER_B,
            "ns",
            "a",
            AUD,
            None,
        ),
    );
    let removal = remove_provider(
        &both,
        &irsa_policy::Account::aws(ACCOUNT).provider_arn(ISSUER_B),
    )
    .unwrap();
    assert_eq!((removal.removed, removal.remaining), (1, 1));
    assert!(admits(&removal.trust, ISSUER_A, "ns", "a"));
    assert!(!admits(&removal.trust, ISSUER_B, "ns", "a"));
    assert_eq!(
        remove_provider(
            &removal.trust,
            &irsa_policy::Account::aws(ACCOUNT).provider_arn(ISSUER_B)
        ),
        None
    );
    let shared = json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": [irsa_policy::Account::aws(ACCOUNT).provider_arn(ISSUER_A), irsa_policy::Account::aws(ACCOUNT).provider_arn(ISSUER_B)]}}]});
    let removal = remove_provider(
        &shared,
        &irsa_policy::Account::aws(ACCOUNT).provider_arn(ISSUER_A),
    )
    .unwrap();
    assert_eq!(
        removal.trust["Statement"][0]["Principal"]["Federated"],
        json!(irsa_policy::Account::aws(ACCOUNT).provider_arn(ISSUER_B))
    );
}

#[test]
fn trust_remove_plans_only_what_it_may_change() {
    let both = add_statement(
        &irsa_trust_policy(
            &irsa_policy::Account::aws(ACCOUNT),
            ISSUER_A,
            "ns",
            "a",
            AUD,
            None,
        ),
        &irsa_trust_statement(
            &irsa_policy::Account::aws(ACCOUNT),
            ISSUER_B,
            "ns",
            "a",
            AUD,
            None,
        ),
    );
    let only_b = irsa_trust_policy(
        &irsa_policy::Account::aws(ACCOUNT),
        ISSUER_B,
        "ns",
        "b",
        AUD,
        None,
    );
    let only_a = irsa_trust_policy(
        &irsa_policy::Account::aws(ACCOUNT),
        ISSUER_A,
        "ns",
        "c",
        AUD,
        None,
    );
    let role = |name: &str, trust: &Value, managed| TrustingRole {
        name: name.into(),
        trust: trust.clone(),
        managed,
    };
    let roles = [
        role("shared", &both, true),
        role("alone", &only_b, true),
        role("theirs", &both, false),
        role("unrelated", &only_a, true),
    ];
    let b = irsa_policy::Account::aws(ACCOUNT).provider_arn(ISSUER_B);
    let plan = plan_removal(&b, &roles, false);
    let changed: Vec<&str> = plan
        .steps
        .iter()
        .map(|s| match s {
            crate::plan::IamStep::UpdateTrust { role, .. } => role.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(changed, ["shared"]);
    assert_eq!(plan.warnings.len(), 2, "{:?}", plan.warnings);
    assert!(plan.warnings[0].contains("alone trusts only this provider"));
    assert!(
        plan.warnings[1].contains("theirs") && plan.warnings[1].contains("--include-unmanaged")
    );
    assert_eq!(plan_removal(&b, &roles, true).steps.len(), 2);
}
