//! Property tests: the wildcard matcher against a naive reference, and "no input makes us panic".

use irsa_policy::{
    evaluate, validate, wildcard_match, wildcard_match_ignore_case, Arn, Decision, DocumentKind,
    PolicyDocument, RequestContext,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Obviously-correct exponential reference: recursion over both strings.
fn reference(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => (0..=t.len()).any(|i| reference(rest, &t[i..])),
        Some(('?', rest)) => !t.is_empty() && reference(rest, &t[1..]),
        Some((c, rest)) => t.first() == Some(c) && reference(rest, &t[1..]),
    }
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

/// Arbitrary JSON biased toward policy grammar, so generated documents get past the first checks.
fn policy_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("Version".to_string()),
        Just("Statement".to_string()),
        Just("Effect".to_string()),
        Just("Action".to_string()),
        Just("NotAction".to_string()),
        Just("Resource".to_string()),
        Just("NotResource".to_string()),
        Just("Principal".to_string()),
        Just("NotPrincipal".to_string()),
        Just("Federated".to_string()),
        Just("AWS".to_string()),
        Just("Condition".to_string()),
        Just("StringEquals".to_string()),
        Just("ForAllValues:StringLikeIfExists".to_string()),
        Just("DateLessThan".to_string()),
        Just("IpAddress".to_string()),
        Just("Null".to_string()),
        Just("aws:x".to_string()),
        "[a-z:]{0,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        Just(Value::from("Allow")),
        Just(Value::from("Deny")),
        Just(Value::from("2012-10-17")),
        Just(Value::from("*")),
        Just(Value::from("s3:Get*")),
        Just(Value::from("arn:aws:s3:::b/${aws:username}/*")),
        Just(Value::from("2024-01-01T00:00:00Z")),
        Just(Value::from("10.0.0.0/8")),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5)
                .prop_map(|kvs| Value::Object(kvs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Valid identity-policy statements built from realistic parts.
fn statement_json() -> impl Strategy<Value = Value> {
    use prop::collection::vec;
    use prop::sample::select;
    let action = select(vec![
        "s3:GetObject",
        "s3:*",
        "*",
        "S3:get?bject",
        "iam:*",
        "ec2:Run*",
    ]);
    let resource = select(vec![
        "*",
        "arn:aws:s3:::b/*",
        "arn:aws:s3:::b",
        "arn:aws:s3:::${aws:username}/*",
        "arn:aws:iam::*:user/?ob",
    ]);
    let op = select(vec![
        "StringEquals",
        "StringNotEquals",
        "StringLike",
        "StringNotLikeIfExists",
        "StringEqualsIgnoreCase",
        "ForAllValues:StringEquals",
        "ForAnyValue:StringLike",
        "Null",
        "Bool",
        "NumericLessThan",
        "DateGreaterThan",
        "ArnLike",
        "IpAddress",
    ]);
    let key = select(vec!["aws:x", "AWS:X", "aws:username", "s3:prefix"]);
    let value = select(vec![
        "a",
        "b*",
        "true",
        "10",
        "2024-01-01",
        "10.0.0.0/8",
        "arn:aws:s3:::*",
    ]);
    (
        any::<bool>(),
        vec(action, 1..3),
        any::<bool>(),
        vec(resource, 1..3),
        any::<bool>(),
        vec((op, key, vec(value, 1..3)), 0..3),
    )
        .prop_map(
            |(deny, actions, not_action, resources, not_resource, conditions)| {
                let mut st = Map::new();
                st.insert(
                    "Effect".into(),
                    Value::from(if deny { "Deny" } else { "Allow" }),
                );
                st.insert(
                    (if not_action { "NotAction" } else { "Action" }).into(),
                    Value::from(actions),
                );
                st.insert(
                    (if not_resource {
                        "NotResource"
                    } else {
                        "Resource"
                    })
                    .into(),
                    Value::from(resources),
                );
                if !conditions.is_empty() {
                    let mut block = Map::new();
                    for (op, key, values) in conditions {
                        let entry = block.entry(op).or_insert_with(|| Value::Object(Map::new()));
                        if let Value::Object(keys) = entry {
                            keys.insert(key.to_string(), Value::from(values));
                        }
                    }
                    st.insert("Condition".into(), Value::Object(block));
                }
                Value::Object(st)
            },
        )
}

fn request() -> impl Strategy<Value = RequestContext> {
    use prop::sample::select;
    (
        select(vec![
            "s3:GetObject",
            "s3:PutObject",
            "iam:CreateUser",
            "ec2:RunInstances",
        ]),
        prop::option::of(select(vec![
            "arn:aws:s3:::b/k",
            "arn:aws:s3:::b",
            "arn:aws:s3:::bob/k",
            "arn:aws:iam::1:user/bob",
        ])),
        prop::collection::vec(
            (
                select(vec!["aws:x", "aws:username", "s3:prefix"]),
                select(vec![
                    "a",
                    "bob",
                    "b1",
                    "true",
                    "5",
                    "2025-01-01T00:00:00Z",
                    "10.1.2.3",
                ]),
            ),
            0..4,
        ),
    )
        .prop_map(|(action, resource, keys)| {
            let mut ctx = RequestContext::new(action);
            ctx.resource = resource.map(str::to_string);
            keys.into_iter().fold(ctx, |c, (k, v)| c.with_key(k, v))
        })
}

/// The evaluation model of the statements (IAM would refuse an empty list or an unreadable date, but the laws
/// hold for the model regardless).
fn document(statements: Vec<Value>) -> PolicyDocument {
    let json = serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    PolicyDocument::parse(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn evaluation_laws(statements in prop::collection::vec(statement_json(), 0..5), ctx in request()) {
        let doc = document(statements.clone());
        let e = evaluate(&[&doc], &ctx);
        let _ = e.explain();
        for nm in &e.near_misses {
            prop_assert!(!nm.reasons.is_empty());
            prop_assert_eq!(doc.statements[nm.statement_index].effect, irsa_policy::Effect::Allow);
        }

        // Statement order never matters.
        let mut reversed = statements.clone();
        reversed.reverse();
        prop_assert_eq!(evaluate(&[&document(reversed)], &ctx).decision, e.decision);

        // An unconditional Deny of everything always wins.
        let mut with_deny = statements.clone();
        with_deny.push(serde_json::json!({"Effect": "Deny", "Action": "*", "Resource": "*"}));
        prop_assert_eq!(evaluate(&[&document(with_deny)], &ctx).decision, Decision::ExplicitDeny);

        // An unconditional Allow of everything allows unless something denies explicitly.
        let allow_all = document(vec![serde_json::json!({"Effect": "Allow", "Action": "*", "Resource": "*"})]);
        let combined = evaluate(&[&doc, &allow_all], &ctx).decision;
        if e.decision == Decision::ExplicitDeny {
            prop_assert_eq!(combined, Decision::ExplicitDeny);
        } else {
            prop_assert_eq!(combined, Decision::Allow);
        }
    }

    #[test]
    fn wildcard_agrees_with_reference(p in "[ab*?]{0,8}", t in "[ab]{0,10}") {
        prop_assert_eq!(wildcard_match(&p, &t), reference(&chars(&p), &chars(&t)));
    }

    #[test]
    fn wildcard_ignore_case_agrees_with_lowercased_reference(p in "[aAbB*?]{0,8}", t in "[aAbB]{0,10}") {
        prop_assert_eq!(
            wildcard_match_ignore_case(&p, &t),
            reference(&chars(&p.to_lowercase()), &chars(&t.to_lowercase()))
        );
    }

    #[test]
    fn star_matches_everything_and_literals_match_themselves(t in ".{0,20}") {
        prop_assert!(wildcard_match("*", &t));
        let literal: String = t.chars().filter(|c| *c != '*' && *c != '?').collect();
        prop_assert!(wildcard_match(&literal, &literal));
    }

    #[test]
    fn parse_never_panics_on_arbitrary_text(s in ".{0,200}") {
        let _ = PolicyDocument::parse(&s);
        let _ = validate(&s, DocumentKind::Trust);
        let _ = s.parse::<Arn>();
    }

    #[test]
    fn parse_and_evaluate_never_panic_on_policy_shaped_json(
        v in policy_json(),
        value in ".{0,16}",
        resource in prop::option::of(".{0,16}"),
    ) {
        let text = v.to_string();
        for kind in [DocumentKind::Managed, DocumentKind::Inline, DocumentKind::Trust] {
            let _ = validate(&text, kind).map_err(|e| e.message());
        }
        if let Ok(doc) = PolicyDocument::parse(&text) {
            let mut ctx = RequestContext::new("s3:GetObject")
                .with_key("aws:x", value.clone())
                .with_key("aws:username", value.clone())
                .with_federated_principal(value);
            ctx.resource = resource;
            let e = evaluate(&[&doc, &doc], &ctx);
            let _ = e.explain();
            // Allowed exactly when some Allow statement matched and no Deny did.
            let allow = e.matched.iter().any(|m| m.effect == irsa_policy::Effect::Allow);
            let deny = e.matched.iter().any(|m| m.effect == irsa_policy::Effect::Deny);
            prop_assert_eq!(e.is_allowed(), allow && !deny);
        }
    }

    #[test]
    fn typed_conditions_never_panic_on_arbitrary_request_values(op_index in 0usize..10, value in ".{0,40}") {
        let ops = [
            "DateEquals", "DateLessThan", "NumericGreaterThan", "NumericNotEquals", "IpAddress",
            "NotIpAddress", "ArnLike", "Bool", "ForAllValues:DateGreaterThanEquals", "BinaryEquals",
        ];
        let json = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*",
               "Condition":{{"{}":{{"aws:k":["2024-01-01","10","10.0.0.0/8","arn:aws:s3:::*:*:*"]}}}}}}}}"#,
            ops[op_index]
        );
        let doc = PolicyDocument::parse(&json).unwrap();
        let e = evaluate(&[&doc], &RequestContext::new("a:b").with_key("aws:k", value));
        let _ = e.explain();
    }

    #[test]
    fn arn_display_round_trips(
        partition in "[a-z-]{1,8}",
        service in "[a-z0-9-]{1,8}",
        region in "[a-z0-9-]{0,12}",
        account in "[0-9]{0,12}",
        resource in "[a-zA-Z0-9/:*_.-]{1,30}",
    ) {
        let text = format!("arn:{partition}:{service}:{region}:{account}:{resource}");
        let arn: Arn = text.parse().unwrap();
        prop_assert_eq!(&arn.resource, &resource);
        prop_assert_eq!(arn.to_string(), text);
    }
}
