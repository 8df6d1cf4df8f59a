//! Evaluation semantics: the tricky corners of IAM's logic, and the explanations.

use irsa_policy::{evaluate, Decision, MissReason, PolicyDocument, RequestContext};

fn doc(json: &str) -> PolicyDocument {
    PolicyDocument::parse(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

fn statements(s: &str) -> PolicyDocument {
    doc(&format!(r#"{{"Version":"2012-10-17","Statement":[{s}]}}"#))
}

fn decide(d: &PolicyDocument, ctx: &RequestContext) -> Decision {
    evaluate(&[d], ctx).decision
}

fn get(resource: &str) -> RequestContext {
    RequestContext::new("s3:GetObject").with_resource(resource)
}

#[test]
fn managed_s3_read_only_allows_reads_not_writes() {
    let d = statements(
        r#"{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}"#,
    );
    assert_eq!(decide(&d, &get("arn:aws:s3:::b/k")), Decision::Allow);
    assert_eq!(
        decide(&d, &RequestContext::new("s3:ListAllMyBuckets")),
        Decision::Allow
    );
    assert_eq!(
        decide(
            &d,
            &RequestContext::new("s3:PutObject").with_resource("arn:aws:s3:::b/k")
        ),
        Decision::ImplicitDeny
    );
    // `s3:Get*` must not match a different service that starts the same way.
    assert_eq!(
        decide(&d, &RequestContext::new("s3express:GetObject")),
        Decision::ImplicitDeny
    );
}

#[test]
fn actions_are_case_insensitive_resources_are_not() {
    let d = statements(
        r#"{"Effect":"Allow","Action":"S3:getobject","Resource":"arn:aws:s3:::Bucket/*"}"#,
    );
    assert_eq!(decide(&d, &get("arn:aws:s3:::Bucket/k")), Decision::Allow);
    let e = evaluate(&[&d], &get("arn:aws:s3:::bucket/k"));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert!(matches!(
        &e.near_misses[0].reasons[0],
        MissReason::Resource { .. }
    ));
}

#[test]
fn seed_bucket_policy_is_diagnosed_as_a_resource_near_miss() {
    // The EKS guide's example grants s3:GetObject on the bucket ARN, which covers no object.
    let d = statements(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-pod-secrets-bucket"}"#,
    );
    let e = evaluate(
        &[&d],
        &get("arn:aws:s3:::my-pod-secrets-bucket/config.yaml"),
    );
    assert!(!e.is_allowed());
    assert_eq!(
        e.explain(),
        "denied: no statement allows s3:GetObject; statement 0 near miss: resource: wanted \
         arn:aws:s3:::my-pod-secrets-bucket, request has arn:aws:s3:::my-pod-secrets-bucket/config.yaml"
    );
    let fixed = statements(
        r#"{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::my-pod-secrets-bucket/*"]}"#,
    );
    assert!(evaluate(
        &[&fixed],
        &get("arn:aws:s3:::my-pod-secrets-bucket/config.yaml")
    )
    .is_allowed());
}

#[test]
fn kaniko_policy_scopes_repositories() {
    let d = doc(r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["ecr:*","cloudtrail:LookupEvents"],"Resource":"arn:aws:ecr:us-east-1:111122223333:repository/edp/*"},
        {"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},
        {"Effect":"Allow","Action":["ecr:DescribeRepositories","ecr:CreateRepository"],"Resource":"arn:aws:ecr:us-east-1:111122223333:repository/*"}]}"#);
    let push = |repo: &str| {
        RequestContext::new("ecr:PutImage").with_resource(format!(
            "arn:aws:ecr:us-east-1:111122223333:repository/{repo}"
        ))
    };
    assert!(evaluate(&[&d], &push("edp/app")).is_allowed());
    assert!(!evaluate(&[&d], &push("other/app")).is_allowed());
    assert!(evaluate(&[&d], &RequestContext::new("ecr:GetAuthorizationToken")).is_allowed());
    assert!(evaluate(
        &[&d],
        &RequestContext::new("ecr:CreateRepository")
            .with_resource("arn:aws:ecr:us-east-1:111122223333:repository/other")
    )
    .is_allowed());
}

#[test]
fn not_action() {
    let d = statements(r#"{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}"#);
    assert_eq!(decide(&d, &get("arn:aws:s3:::b/k")), Decision::Allow);
    let e = evaluate(&[&d], &RequestContext::new("iam:CreateUser"));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert!(
        e.near_misses.is_empty(),
        "an excluded action is not a near miss"
    );
    assert_eq!(
        decide(&d, &RequestContext::new("IAM:createuser")),
        Decision::ImplicitDeny
    );
}

#[test]
fn not_resource() {
    let d = statements(
        r#"{"Effect":"Allow","Action":"s3:*","NotResource":["arn:aws:s3:::secret","arn:aws:s3:::secret/*"]}"#,
    );
    assert_eq!(decide(&d, &get("arn:aws:s3:::public/k")), Decision::Allow);
    let e = evaluate(&[&d], &get("arn:aws:s3:::secret/k"));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert!(e
        .explain()
        .contains("resource: wanted none of arn:aws:s3:::secret, arn:aws:s3:::secret/*"));
}

#[test]
fn explicit_deny_overrides_allow_across_policies() {
    let allow = statements(r#"{"Sid":"All","Effect":"Allow","Action":"s3:*","Resource":"*"}"#);
    let deny =
        statements(r#"{"Sid":"NoDelete","Effect":"Deny","Action":"s3:Delete*","Resource":"*"}"#);
    let del = RequestContext::new("s3:DeleteObject").with_resource("arn:aws:s3:::b/k");
    let e = evaluate(&[&allow, &deny], &del);
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert_eq!(e.matched.len(), 2);
    assert_eq!(
        e.explain(),
        "denied: policy 1 statement 0 (Sid \"NoDelete\") explicitly denies s3:DeleteObject"
    );
    let e = evaluate(&[&allow, &deny], &get("arn:aws:s3:::b/k"));
    assert_eq!(
        e.explain(),
        "allowed: policy 0 statement 0 (Sid \"All\") allows s3:GetObject"
    );
}

#[test]
fn deny_with_unmet_condition_does_not_apply() {
    let d = statements(
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"},
           {"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#,
    );
    let secure = get("arn:aws:s3:::b/k").with_key("aws:SecureTransport", "true");
    assert_eq!(decide(&d, &secure), Decision::Allow);
    let plain = get("arn:aws:s3:::b/k").with_key("aws:SecureTransport", "false");
    assert_eq!(decide(&d, &plain), Decision::ExplicitDeny);
}

#[test]
fn empty_statement_list_denies_implicitly() {
    let d = doc(r#"{"Version":"2012-10-17","Statement":[]}"#);
    let e = evaluate(&[&d], &get("arn:aws:s3:::b/k"));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(
        e.explain(),
        "denied: no statement allows s3:GetObject (no Allow statement covers this action)"
    );
    assert_eq!(evaluate(&[], &get("x")).decision, Decision::ImplicitDeny);
}

#[test]
fn if_exists_with_missing_key() {
    let d = statements(
        r#"{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringLikeIfExists":{"ec2:InstanceType":["t3.*"]}}}"#,
    );
    let no_key = RequestContext::new("ec2:RunInstances");
    assert_eq!(decide(&d, &no_key), Decision::Allow);
    let small = no_key.clone().with_key("ec2:InstanceType", "t3.micro");
    assert_eq!(decide(&d, &small), Decision::Allow);
    let big = no_key.with_key("ec2:InstanceType", "m5.24xlarge");
    let e = evaluate(&[&d], &big);
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert!(e
        .explain()
        .ends_with("StringLikeIfExists ec2:InstanceType: wanted t3.*, request has m5.24xlarge"));
}

#[test]
fn for_all_values_with_empty_set_is_true_for_any_value_is_false() {
    let all = statements(
        r#"{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}}"#,
    );
    let any = statements(
        r#"{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}}"#,
    );
    let none = RequestContext::new("ec2:CreateTags");
    let empty = none
        .clone()
        .with_key_values("aws:TagKeys", Vec::<String>::new());
    let ok = none.clone().with_key_values("aws:TagKeys", ["env"]);
    let extra = none.clone().with_key_values("aws:TagKeys", ["env", "cost"]);
    assert_eq!(decide(&all, &none), Decision::Allow);
    assert_eq!(decide(&all, &empty), Decision::Allow);
    assert_eq!(decide(&all, &ok), Decision::Allow);
    assert_eq!(decide(&all, &extra), Decision::ImplicitDeny);
    assert_eq!(decide(&any, &none), Decision::ImplicitDeny);
    assert_eq!(decide(&any, &empty), Decision::ImplicitDeny);
    assert_eq!(decide(&any, &extra), Decision::Allow);
}

#[test]
fn null_condition() {
    let must_be_absent = statements(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}"#,
    );
    let must_be_present = statements(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":false}}}"#,
    );
    let without = get("arn:aws:s3:::b/k");
    let with = without
        .clone()
        .with_key("aws:TokenIssueTime", "2024-01-01T00:00:00Z");
    assert_eq!(decide(&must_be_absent, &without), Decision::Allow);
    assert_eq!(decide(&must_be_absent, &with), Decision::ImplicitDeny);
    assert_eq!(decide(&must_be_present, &without), Decision::ImplicitDeny);
    assert_eq!(decide(&must_be_present, &with), Decision::Allow);
    assert!(evaluate(&[&must_be_present], &without)
        .explain()
        .contains("Null aws:TokenIssueTime: wanted the key present, request has (missing)"));
}

#[test]
fn condition_keys_are_case_insensitive() {
    let d = statements(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"AWS:SourceIP":"203.0.113.0/24"}}}"#,
    );
    assert_eq!(
        decide(
            &d,
            &get("arn:aws:s3:::b/k").with_key("aws:sourceip", "203.0.113.9")
        ),
        Decision::Allow
    );
    assert_eq!(
        decide(
            &d,
            &get("arn:aws:s3:::b/k").with_key("Aws:SourceIp", "198.51.100.1")
        ),
        Decision::ImplicitDeny
    );
}

#[test]
fn keys_under_one_operator_are_anded_values_ored() {
    let d = statements(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{
            "StringEquals":{"aws:PrincipalTag/team":["a","b"],"aws:RequestedRegion":"us-east-1"}}}"#,
    );
    let base = get("arn:aws:s3:::b/k");
    let both = base
        .clone()
        .with_key("aws:PrincipalTag/team", "b")
        .with_key("aws:RequestedRegion", "us-east-1");
    assert_eq!(decide(&d, &both), Decision::Allow);
    let one = base
        .with_key("aws:PrincipalTag/team", "b")
        .with_key("aws:RequestedRegion", "eu-west-1");
    let e = evaluate(&[&d], &one);
    assert_eq!(e.decision, Decision::ImplicitDeny);
    let failures: Vec<_> = e.near_misses[0].condition_failures().collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].key, "aws:RequestedRegion");
    assert_eq!(failures[0].expected, vec!["us-east-1"]);
    assert_eq!(failures[0].actual, Some(vec!["eu-west-1".to_string()]));
}

#[test]
fn negated_operator_on_missing_key_is_true() {
    let d = statements(
        r#"{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"platform"}}},
           {"Effect":"Allow","Action":"*","Resource":"*"}"#,
    );
    let untagged = RequestContext::new("ec2:TerminateInstances");
    assert_eq!(decide(&d, &untagged), Decision::ExplicitDeny);
    let platform = untagged
        .clone()
        .with_key("aws:PrincipalTag/team", "platform");
    assert_eq!(decide(&d, &platform), Decision::Allow);
}

#[test]
fn policy_variables_in_resources() {
    let json = |version: &str| {
        format!(
            r#"{{{version}"Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${{aws:username}}/*"}}]}}"#
        )
    };
    let v2012 = doc(&json(r#""Version":"2012-10-17","#));
    let legacy = doc(&json(""));
    let bob = get("arn:aws:s3:::home/bob/notes.txt").with_key("aws:username", "bob");
    let alice = get("arn:aws:s3:::home/bob/notes.txt").with_key("aws:username", "alice");
    let anonymous = get("arn:aws:s3:::home/bob/notes.txt");
    assert_eq!(decide(&v2012, &bob), Decision::Allow);
    assert_eq!(decide(&v2012, &alice), Decision::ImplicitDeny);
    assert_eq!(decide(&v2012, &anonymous), Decision::ImplicitDeny);
    // Without Version 2012-10-17, `${…}` is literal text.
    assert_eq!(decide(&legacy, &bob), Decision::ImplicitDeny);
    assert_eq!(
        decide(&legacy, &get("arn:aws:s3:::home/${aws:username}/x")),
        Decision::Allow
    );
}

#[test]
fn trust_principals() {
    let d = statements(
        r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"},
           {"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
    );
    let assume = RequestContext::new("sts:AssumeRole");
    assert!(evaluate(
        &[&d],
        &assume
            .clone()
            .with_aws_principal("arn:aws:iam::111122223333:role/ci")
    )
    .is_allowed());
    assert!(evaluate(
        &[&d],
        &assume.clone().with_service_principal("ec2.amazonaws.com")
    )
    .is_allowed());
    let outsider = evaluate(
        &[&d],
        &assume
            .clone()
            .with_aws_principal("arn:aws:iam::444455556666:role/ci"),
    );
    assert!(!outsider.is_allowed());
    assert!(outsider.explain().contains(
        "statement 0 near miss: principal: wanted AWS 111122223333, request has AWS arn:aws:iam::444455556666:role/ci"
    ));
    // No principal in the request: a statement with a Principal cannot match.
    assert!(!evaluate(&[&d], &assume).is_allowed());
    // An identity-style statement (no Principal) does not care who asks.
    let identity = statements(r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#);
    assert!(evaluate(&[&identity], &RequestContext::new("sts:AssumeRole")).is_allowed());
}

#[test]
fn not_principal() {
    let d = statements(
        r#"{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/admin"},"Action":"s3:*","Resource":"*"},
           {"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}"#,
    );
    let req = get("arn:aws:s3:::b/k");
    assert_eq!(
        decide(
            &d,
            &req.clone()
                .with_aws_principal("arn:aws:iam::111122223333:role/admin")
        ),
        Decision::Allow
    );
    assert_eq!(
        decide(
            &d,
            &req.clone()
                .with_aws_principal("arn:aws:iam::111122223333:role/dev")
        ),
        Decision::ExplicitDeny
    );
    // Anonymous: "*" admits it, and it is not in the NotPrincipal list, so the Deny applies.
    assert_eq!(decide(&d, &req), Decision::ExplicitDeny);
}
