//! IRSA trust policies: the builder's exact output and the diagnosis of failing bindings.

use irsa_policy::{
    irsa_trust_policy, irsa_trust_statement, parse_service_account_subject, trust_admits, validate,
    Account, Decision, DocumentKind, MissReason, PolicyDocument,
};
use serde_json::json;

const ACCOUNT: &str = "111122223333";
const ISSUER_URL: &str = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC";
const ISSUER: &str = "oidc.eks.us-east-1.amazonaws.com/id/ABC";
const PROVIDER: &str =
    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC";
const AUD: &str = "sts.amazonaws.com";

fn parse(v: &serde_json::Value) -> PolicyDocument {
    validate(&v.to_string(), DocumentKind::Trust).unwrap()
}

#[test]
fn builder_produces_the_eksctl_shape_exactly() {
    let policy = irsa_trust_policy(
        &Account::aws(ACCOUNT),
        ISSUER_URL,
        "default",
        "my-sa",
        AUD,
        None,
    );
    // Byte-for-byte, including key order (serde_json preserves insertion order in this workspace).
    assert_eq!(
        serde_json::to_string(&policy).unwrap(),
        concat!(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","#,
            r#""Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"},"#,
            r#""Action":"sts:AssumeRoleWithWebIdentity","#,
            r#""Condition":{"StringEquals":{"#,
            r#""oidc.eks.us-east-1.amazonaws.com/id/ABC:sub":"system:serviceaccount:default:my-sa","#,
            r#""oidc.eks.us-east-1.amazonaws.com/id/ABC:aud":"sts.amazonaws.com"}}}]}"#
        )
    );
    let doc = parse(&policy);
    assert_eq!(doc.federated_principals(), vec![PROVIDER.to_string()]);
    // The trailing slash and scheme of the issuer URL never leak into keys or ARNs.
    assert_eq!(
        irsa_trust_policy(
            &Account::aws(ACCOUNT),
            "https://oidc.eks.us-east-1.amazonaws.com/id/ABC/",
            "default",
            "my-sa",
            AUD,
            None
        ),
        policy
    );
}

#[test]
fn builder_with_subject_pattern_uses_string_like_on_sub_only() {
    let st = irsa_trust_statement(
        &Account::aws(ACCOUNT),
        ISSUER_URL,
        "ci",
        "my-sa",
        AUD,
        Some("*"),
    );
    assert_eq!(
        st,
        json!({
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {format!("{ISSUER}:aud"): AUD},
                "StringLike": {format!("{ISSUER}:sub"): "system:serviceaccount:ci:*"}
            }
        })
    );
    let full = irsa_trust_statement(
        &Account::aws(ACCOUNT),
        ISSUER_URL,
        "ci",
        "x",
        AUD,
        Some("system:serviceaccount:ci:build-*"),
    );
    assert_eq!(
        full["Condition"]["StringLike"][format!("{ISSUER}:sub")],
        "system:serviceaccount:ci:build-*"
    );
    let doc = parse(&json!({"Version": "2012-10-17", "Statement": [st]}));
    assert!(trust_admits(&doc, PROVIDER, "system:serviceaccount:ci:anything", AUD).is_allowed());
    assert!(!trust_admits(&doc, PROVIDER, "system:serviceaccount:prod:anything", AUD).is_allowed());
    // Without an audience, no aud condition at all.
    let no_aud = irsa_trust_statement(&Account::aws(ACCOUNT), ISSUER_URL, "ci", "sa", "", None);
    assert_eq!(
        no_aud["Condition"]["StringEquals"]
            .as_object()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn trust_admits_the_bound_service_account_only() {
    let doc = parse(&irsa_trust_policy(
        &Account::aws(ACCOUNT),
        ISSUER_URL,
        "default",
        "my-sa",
        AUD,
        None,
    ));
    let ok = trust_admits(&doc, PROVIDER, "system:serviceaccount:default:my-sa", AUD);
    assert_eq!(ok.decision, Decision::Allow);
    assert_eq!(
        ok.explain(),
        "allowed: statement 0 allows sts:AssumeRoleWithWebIdentity"
    );

    let wrong_aud = trust_admits(
        &doc,
        PROVIDER,
        "system:serviceaccount:default:my-sa",
        "vault",
    );
    assert!(!wrong_aud.is_allowed());
    assert!(wrong_aud.explain().contains(&format!(
        "StringEquals {ISSUER}:aud: wanted sts.amazonaws.com, token has vault"
    )));
}

#[test]
fn near_miss_names_key_wanted_and_actual_subject() {
    let json = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"x","Effect":"Allow",
            "Principal":{{"Federated":"{PROVIDER}"}},"Action":"sts:AssumeRoleWithWebIdentity",
            "Condition":{{"StringEquals":{{"{ISSUER}:sub":"system:serviceaccount:default:my-sa","{ISSUER}:aud":"sts.amazonaws.com"}}}}}}]}}"#
    );
    let doc = validate(&json, DocumentKind::Trust).unwrap();
    let e = trust_admits(&doc, PROVIDER, "system:serviceaccount:dev:my-sa", AUD);
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(
        e.explain(),
        "denied: no statement allows sts:AssumeRoleWithWebIdentity; statement 0 (Sid \"x\") near miss: \
         StringEquals oidc.eks.us-east-1.amazonaws.com/id/ABC:sub: wanted system:serviceaccount:default:my-sa, \
         token has system:serviceaccount:dev:my-sa"
    );
    let nm = &e.near_misses[0];
    assert_eq!((nm.statement_index, nm.sid.as_deref()), (0, Some("x")));
    let MissReason::Condition(c) = &nm.reasons[0] else {
        panic!("expected a condition failure, got {:?}", nm.reasons)
    };
    assert_eq!(c.operator, "StringEquals");
    assert_eq!(c.key, format!("{ISSUER}:sub"));
    assert_eq!(c.expected, vec!["system:serviceaccount:default:my-sa"]);
    assert_eq!(
        c.actual,
        Some(vec!["system:serviceaccount:dev:my-sa".to_string()])
    );
}

#[test]
fn wrong_provider_is_a_principal_near_miss() {
    // The classic mistake: the role trusts cluster A's issuer, the token comes from cluster B.
    let doc = parse(&irsa_trust_policy(
        &Account::aws(ACCOUNT),
        ISSUER_URL,
        "default",
        "my-sa",
        AUD,
        None,
    ));
    let other =
        Account::aws(ACCOUNT).provider_arn("https://oidc.eks.us-east-1.amazonaws.com/id/OTHER");
    let e = trust_admits(&doc, &other, "system:serviceaccount:default:my-sa", AUD);
    assert!(!e.is_allowed());
    let text = e.explain();
    assert!(
        text.contains(&format!(
            "principal: wanted Federated {PROVIDER}, request has Federated {other}"
        )),
        "{text}"
    );
    // The condition keys are issuer-specific, so they are missing from the other issuer's token.
    assert!(text.contains(&format!("StringEquals {ISSUER}:sub: wanted system:serviceaccount:default:my-sa, token has (missing)")), "{text}");
}

#[test]
fn seed_trust_without_aud_admits_any_audience() {
    // Seeds 000/001 pin only `sub`; IAM then accepts any audience the provider allows.
    let json = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},
            "Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{ISSUER}:sub":"system:serviceaccount:edp:edp-kaniko"}}}}}}]}}"#
    );
    let doc = validate(&json, DocumentKind::Trust).unwrap();
    assert!(trust_admits(
        &doc,
        PROVIDER,
        "system:serviceaccount:edp:edp-kaniko",
        "anything"
    )
    .is_allowed());
    assert!(!trust_admits(&doc, PROVIDER, "system:serviceaccount:edp:other", AUD).is_allowed());
}

#[test]
fn several_service_accounts_in_one_statement() {
    // The EKS guide: "add multiple entries in StringEquals ... to allow multiple service accounts".
    let json = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER}"}},
            "Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{
            "{ISSUER}:sub":["system:serviceaccount:a:x","system:serviceaccount:b:y"],"{ISSUER}:aud":"sts.amazonaws.com"}}}}}}]}}"#
    );
    let doc = validate(&json, DocumentKind::Trust).unwrap();
    assert!(trust_admits(&doc, PROVIDER, "system:serviceaccount:b:y", AUD).is_allowed());
    let e = trust_admits(&doc, PROVIDER, "system:serviceaccount:a:y", AUD);
    assert!(e.explain().contains(
        "wanted system:serviceaccount:a:x or system:serviceaccount:b:y, token has system:serviceaccount:a:y"
    ));
}

#[test]
fn subjects() {
    assert_eq!(
        parse_service_account_subject("system:serviceaccount:default:my-sa"),
        Some(("default", "my-sa"))
    );
    assert_eq!(
        parse_service_account_subject("system:serviceaccount:default"),
        None
    );
    assert_eq!(parse_service_account_subject("system:node:x"), None);
    assert_eq!(
        parse_service_account_subject("system:serviceaccount:a:b:c"),
        None
    );
}
