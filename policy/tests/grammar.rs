//! IAM's grammar for identity policies, case by case, against what IAM answered.
//!
//! The cases and IAM's answers are LocalStack's recording of CreatePolicy against AWS (February 2026:
//! tests/aws/services/iam/test_iam_policies.py, INVALID_POLICY_DOCUMENTS and VALID_POLICY_DOCUMENTS, with
//! the answers in test_iam_policies.snapshot.json, github.com/localstack/localstack); the number in each case
//! is its index there. moto's tests/test_iam/test_iam_policies.py (github.com/getmoto/moto) holds the same
//! cases as answered in 2019. Cases marked "report" come from users quoting IAM in public issues.

use irsa_policy::{validate, validate_in, DocumentKind, PARTITIONS};
use serde_json::{json, Value};

const SYNTAX: &str = "Syntax errors in policy.";
const LEGACY: &str = "The policy failed legacy parsing";
const VERSION: &str = "Policy document must be version 2012-10-17 or greater.";
const ACTIONS: &str = "Policy statement must contain actions.";
const RESOURCES: &str = "Policy statement must contain resources.";
const VENDOR: &str = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
const ONE_COLON: &str = "Actions/Condition can contain only one colon.";

/// `{"Version":"2012-10-17","Statement": statement}`.
fn current(statement: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statement})
}

/// A valid statement with `extra` merged in (and `remove`d elements taken out).
fn statement(extra: Value, remove: &[&str]) -> Value {
    let mut st = json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::example_bucket"});
    for element in remove {
        st.as_object_mut().unwrap().remove(*element);
    }
    for (k, v) in extra.as_object().unwrap() {
        st[k] = v.clone();
    }
    st
}

fn refusal(document: &str, kind: DocumentKind) -> String {
    match validate(document, kind) {
        Ok(_) => panic!("accepted as {kind:?}: {document}"),
        Err(e) => e.message(),
    }
}

#[test]
fn documents_iam_refuses_get_iams_message() {
    let s = statement;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("1 no Version", json!({"Statement": s(json!({}), &[])}), VERSION),
        ("2 legacy Version", json!({"Version": "2008-10-17", "Statement": s(json!({}), &[])}), VERSION),
        ("3 unknown Version", json!({"Version": "2013-10-17", "Statement": s(json!({}), &[])}), SYNTAX),
        ("4 no Statement", json!({"Version": "2012-10-17"}), SYNTAX),
        ("5 a statement that is a string", current(json!(["afd"])), SYNTAX),
        ("6 unknown top-level element", json!({"Version": "2012-10-17", "Statement": s(json!({}), &[]), "Extra field": "value"}), SYNTAX),
        ("7 unknown statement element", current(s(json!({"Extra field": "value"}), &[])), SYNTAX),
        ("8 Id a list", json!({"Version": "2012-10-17", "Id": ["x"], "Statement": s(json!({}), &[])}), SYNTAX),
        ("9 Id an object", json!({"Version": "2012-10-17", "Id": {}, "Statement": s(json!({}), &[])}), SYNTAX),
        ("10 Effect neither allow nor deny", current(s(json!({"Effect": "invalid"}), &[])), SYNTAX),
        ("11 action without vendor", current(s(json!({"Action": "invalid"}), &[])), VENDOR),
        ("12 empty NotAction", current(s(json!({"NotAction": ""}), &["Action"])), VENDOR),
        ("13 space in the vendor", current(s(json!({"Action": "a a:ListBucket"}), &[])), "Vendor a a is not valid"),
        ("14 two colons", current(s(json!({"Action": "s3:List:Bucket"}), &[])), ONE_COLON),
        ("15 two colons in the second statement", current(json!([s(json!({"Action": "s3s:ListBucket"}), &[]), s(json!({"Action": "s:3s:ListBucket"}), &[])])), ONE_COLON),
        ("16 resource not an ARN", current(s(json!({"Resource": "invalid resource"}), &[])), "Resource invalid resource must be in ARN format or \"*\"."),
        ("17 empty resources", current(json!([s(json!({"Resource": ""}), &[]), s(json!({"Resource": ""}), &[])])), "Resource  must be in ARN format or \"*\"."),
        ("18 resource before action", current(s(json!({"Action": "s:3:ListBucket", "Resource": "sdfsadf"}), &[])), "Resource sdfsadf must be in ARN format or \"*\"."),
        ("19 resource list", current(s(json!({"Resource": ["adf"]}), &[])), "Resource adf must be in ARN format or \"*\"."),
        ("21 partition only", current(s(json!({"NotAction": "s3s:ListBucket", "Resource": "a:bsdfdsafsad"}), &["Action"])), "Partition \"bsdfdsafsad\" is not valid for resource \"arn:bsdfdsafsad:*:*:*:*\"."),
        ("22 partition and service", current(s(json!({"NotAction": "s3s:ListBucket", "Resource": "a:b:cadfsdf"}), &["Action"])), "Partition \"b\" is not valid for resource \"arn:b:cadfsdf:*:*:*\"."),
        ("23 many parts", current(s(json!({"NotAction": "s3s:ListBucket", "Resource": "a:b:c:d:e:f:g:h"}), &["Action"])), "Partition \"b\" is not valid for resource \"arn:b:c:d:e:f:g:h\"."),
        ("24 arn: left out", current(s(json!({"Resource": "aws:s3:::example_bucket"}), &[])), "Partition \"s3\" is not valid for resource \"arn:s3:::example_bucket:*\"."),
        ("25 first bad resource", current(s(json!({"Resource": ["arn:error:s3:::example_bucket", "arn:error:s3::example_bucket"]}), &[])), "Partition \"error\" is not valid for resource \"arn:error:s3:::example_bucket\"."),
        ("26 empty Statement", current(json!([])), SYNTAX),
        ("27 no Resource", current(s(json!({}), &["Resource"])), RESOURCES),
        ("28 empty Resource", current(s(json!({"Resource": []}), &[])), RESOURCES),
        ("29 resources before vendor", current(s(json!({"Action": "invalid"}), &["Resource"])), RESOURCES),
        ("30 no Action", current(s(json!({}), &["Action"])), ACTIONS),
        ("31 no Effect", current(s(json!({}), &["Effect"])), SYNTAX),
        ("32 only Effect", current(json!({"Effect": "Allow"})), ACTIONS),
        ("33 empty Action", current(s(json!({"Action": []}), &[])), ACTIONS),
        ("34 first statement without actions", current(json!([{"Effect": "Deny"}, s(json!({}), &[])])), ACTIONS),
        ("35 IAM resource of no type", current(s(json!({"Resource": "arn:aws:iam:::example_bucket"}), &[])),
            "IAM resource path must either be \"*\", root, or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/."),
        ("36 ARN with too few parts", current(s(json!({"Resource": "arn:aws:s3::example_bucket"}), &[])), LEGACY),
        ("37 legacy before actions", current(json!({"Effect": "Allow", "Resource": "arn:aws:s3::example_bucket"})), LEGACY),
        ("38 ARN of a partition alone", current(s(json!({"Resource": "arn:aws"}), &[])), "Resource vendor must be fully qualified and cannot contain regexes."),
        ("39 Resource an object", current(s(json!({"Resource": {"a": "arn:aws:s3:::example_bucket"}}), &[])), SYNTAX),
        ("40 object in Resource", current(s(json!({"Effect": "Deny", "Resource": ["adfdf", {}]}), &[])), SYNTAX),
        ("41 Resource and NotResource", current(s(json!({"NotAction": "s3:ListBucket", "NotResource": []}), &["Action"])), SYNTAX),
        ("42 list in Action", current(s(json!({"Effect": "Deny", "Action": [[]]}), &[])), SYNTAX),
        ("43 Action and NotAction", current(s(json!({"NotAction": "s3s:ListBucket", "Action": []}), &[])), SYNTAX),
        ("44 Action an object", current(s(json!({"Action": {}}), &[])), SYNTAX),
        ("45 Condition a list", current(s(json!({"Condition": []}), &[])), SYNTAX),
        ("46 Condition a string", current(s(json!({"Condition": "a"}), &[])), SYNTAX),
        ("47 operator not an object", current(s(json!({"Condition": {"a": "b"}}), &[])), SYNTAX),
        ("48 DateGreaterThan a string", current(s(json!({"Condition": {"DateGreaterThan": "b"}}), &[])), SYNTAX),
        ("49 DateGreaterThan a list", current(s(json!({"Condition": {"DateGreaterThan": []}}), &[])), SYNTAX),
        ("50 object as a condition value", current(s(json!({"Condition": {"DateGreaterThan": {"a": {}}}}), &[])), SYNTAX),
        ("51 syntax before actions", current(s(json!({"Condition": {"DateGreaterThan": {"a": {}}}}), &["Action"])), SYNTAX),
        ("52 unknown operator with keys", current(s(json!({"Condition": {"x": {"a": "1"}}}), &[])), SYNTAX),
        ("53 two colons in an operator", current(s(json!({"Condition": {"ForAnyValue::StringEqualsIfExists": {"a": "asf"}}}), &[])), SYNTAX),
        ("54 Condition a list of blocks", current(s(json!({"Condition": [{"ForAllValues:StringEquals": {"aws:TagKeys": "Department"}}]}), &[])), SYNTAX),
        ("55 IAM resource with a region", current(s(json!({"Resource": "arn:aws:iam:us-east-1::example_bucket"}), &[])),
            "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information."),
        ("56 S3 bucket with a region", current(s(json!({"Resource": "arn:aws:s3:us-east-1::example_bucket"}), &[])),
            "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information."),
        ("57 Sid an object", current(s(json!({"Sid": {}}), &[])), SYNTAX),
        ("58 Sid a list", current(s(json!({"Sid": []}), &[])), SYNTAX),
        ("59 Sid before actions", current(json!([s(json!({"Sid": "sdf"}), &[]), {"Sid": "sdf", "Effect": "Allow"}])),
            "Statement IDs (SID) in a single policy must be unique."),
        ("60 Version before Sid", json!({"Statement": [s(json!({"Sid": "sdf"}), &[]), {"Sid": "sdf", "Effect": "Allow"}]}), VERSION),
        ("61 Action and NotAction with values", current(s(json!({"NotAction": "s3:ListBucket", "Action": "iam:dsf"}), &[])), SYNTAX),
        ("62 Resource and NotResource with values", current(s(json!({"NotResource": "*"}), &[])), SYNTAX),
        ("63 Effect in the wrong case", current(s(json!({"Effect": "denY"}), &[])), LEGACY),
        ("64 unreadable date", current(s(json!({"Condition": {"DateGreaterThan": {"a": "sdfdsf"}}}), &[])), LEGACY),
        ("65 Version before dates", json!({"Statement": s(json!({"Condition": {"DateGreaterThan": {"a": "sdfdsf"}}}), &[])}), VERSION),
        ("66 Version before Effect case", json!({"Statement": s(json!({"Effect": "denY"}), &[])}), VERSION),
        ("67 dates before actions", current(json!({"Effect": "Allow", "Condition": {"DateGreaterThan": {"a": "sdfdsf"}}})), LEGACY),
        ("68 ARN with no service", current(s(json!({"NotAction": "s3:ListBucket", "Resource": "arn:aws::::example_bucket"}), &["Action"])), LEGACY),
        ("69 Effect case before actions", current(json!({"Effect": "allow", "Resource": "arn:aws:s3:us-east-1::example_bucket"})), LEGACY),
        ("70 Effect case before Sid", current(json!([s(json!({"Sid": "sdf", "Effect": "aLLow"}), &[]), {"Sid": "sdf", "Effect": "Allow"}])), LEGACY),
        ("71 NotResource with too few parts", current(s(json!({"NotResource": "arn:aws:s3::example_bucket"}), &["Resource"])), LEGACY),
        ("72 month 13", current(s(json!({"Condition": {"DateLessThanEquals": {"a": "234-13"}}}), &[])), LEGACY),
        ("73 one-digit offset", current(s(json!({"Condition": {"DateLessThanEquals": {"a": "2016-12-13t2:00:00.593194+1"}}}), &[])), LEGACY),
        ("74 ten fraction digits", current(s(json!({"Condition": {"DateLessThanEquals": {"a": "2016-12-13t2:00:00.1999999999+10:59"}}}), &[])), LEGACY),
        ("75 epoch past 2^63-1", current(s(json!({"Condition": {"DateLessThan": {"a": "9223372036854775808"}}}), &[])), LEGACY),
        ("76 dates before partitions", current(s(json!({"Resource": "arn:error:s3:::example_bucket", "Condition": {"DateGreaterThan": {"a": "sdfdsf"}}}), &[])), LEGACY),
        ("77 empty service", current(s(json!({"Resource": "arn:aws::fdsasf"}), &[])), LEGACY),
        ("report: principal in an identity policy (hashicorp/terraform#13449)", current(s(json!({"Principal": {"AWS": "*"}}), &[])),
            "Policy document should not specify a principal."),
        ("report: Sid with a dash before uniqueness (Wolox/carthage_cache#22)", current(json!([s(json!({"Sid": "autogenerated-id"}), &[]), s(json!({"Sid": "autogenerated-id"}), &[])])),
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"),
        ("report: another partition (aws/chalice#777, in reverse)", current(s(json!({"Resource": "arn:aws-cn:logs:*:*:*"}), &[])),
            "Partition \"aws-cn\" is not valid for resource \"arn:aws-cn:logs:*:*:*\"."),
        ("report: unresolved template (cloudera-labs/cloudera.exe#112)", current(s(json!({"Resource": "arn:${ARN_PARTITION}:s3:::b"}), &[])),
            "Partition \"${ARN_PARTITION}\" is not valid for resource \"arn:${ARN_PARTITION}:s3:::b\"."),
    ];
    for (case, document, message) in &cases {
        assert_eq!(
            refusal(&document.to_string(), DocumentKind::Managed),
            *message,
            "case {case}"
        );
    }
}

/// Not JSON at all gets the syntax message for identity policies: CreatePolicy (LocalStack's invalid-0;
/// moto's first case), CreatePolicy with a URL instead of `file://` (kubernetes-sigs/aws-load-balancer-controller
/// #1415, aws-samples/eks-workshop#1270), PutUserPolicy with a path (aws/aws-cli#3501), `null` (99designs/iamy#74)
/// and a trailing comma (aws-samples/amazon-ecs-firelens-examples#50). Trust policies say "invalid Json" instead
/// (tests/documents.rs).
#[test]
fn identity_policies_that_are_not_json_are_syntax_errors() {
    for text in [
        "This is not a json document",
        "policy.json",
        "https://raw.githubusercontent.com/x/y/main/iam_policy.json",
        "null",
        "",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*",}]}"#,
    ] {
        for kind in [DocumentKind::Managed, DocumentKind::Inline] {
            assert_eq!(refusal(text, kind), SYNTAX, "{kind:?} {text:?}");
        }
    }
}

#[test]
fn documents_iam_accepts_are_accepted() {
    let s = statement;
    let cases: Vec<(&str, Value)> = vec![
        (
            "0 Resource a list",
            s(json!({"Resource": ["arn:aws:s3:::example_bucket"]}), &[]),
        ),
        (
            "1 spaces after the vendor",
            s(json!({"Action": "iam: asdf safdsf af "}), &[]),
        ),
        (
            "2 an ARN and *",
            s(
                json!({"Resource": ["arn:aws:s3:::example_bucket", "*"]}),
                &[],
            ),
        ),
        ("3 every action", s(json!({"Action": "*"}), &[])),
        (
            "5 dates",
            s(
                json!({"Action": "service-prefix:action-name", "Resource": "*", "Condition": {
            "DateGreaterThan": {"aws:CurrentTime": "2017-07-01T00:00:00Z"},
            "DateLessThan": {"aws:CurrentTime": "2017-12-31T23:59:59Z"}}}),
                &[],
            ),
        ),
        (
            "7 an IAM user",
            s(
                json!({"Resource": "arn:aws:iam:::user/example_bucket"}),
                &[],
            ),
        ),
        (
            "8 unknown service",
            s(json!({"Resource": "arn:aws:s33:::example_bucket"}), &[]),
        ),
        ("9 short ARN", s(json!({"Resource": "arn:aws:fdsasf"}), &[])),
        ("10 empty Condition", s(json!({"Condition": {}}), &[])),
        (
            "11 ForAllValues",
            s(
                json!({"Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": "Department"}}}),
                &[],
            ),
        ),
        (
            "12 region outside IAM and S3",
            s(
                json!({"Resource": "arn:aws:cloudwatch:us-east-1::example_bucket"}),
                &[],
            ),
        ),
        (
            "15 unknown service with a region",
            s(
                json!({"Resource": "arn:aws:invalid-service:us-east-1::example_bucket"}),
                &[],
            ),
        ),
        (
            "17 empty date operator",
            s(json!({"Condition": {"DateGreaterThan": {}}}), &[]),
        ),
        (
            "18 no dates",
            s(json!({"Condition": {"DateGreaterThan": {"a": []}}}), &[]),
        ),
        (
            "19 unknown operator, nothing under it",
            s(json!({"Condition": {"a": {}}}), &[]),
        ),
        (
            "22 NotAction",
            s(json!({"NotAction": "s3:ListBucket"}), &["Action"]),
        ),
        (
            "23 NotResource",
            s(
                json!({"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}),
                &["Resource"],
            ),
        ),
        (
            "26 hyphen in the vendor",
            s(json!({"Action": "s3-s:ListBucket"}), &[]),
        ),
        (
            "27 dot in the vendor",
            s(json!({"Action": "s3.s:ListBucket"}), &[]),
        ),
        (
            "28 NotAction and NotResource",
            json!({"Effect": "Allow", "NotAction": "s3:ListBucket", "NotResource": "*"}),
        ),
        (
            "30 a year and T",
            s(json!({"Condition": {"DateGreaterThan": {"a": "01T"}}}), &[]),
        ),
        (
            "31 two unknown operators",
            s(json!({"Condition": {"x": {}, "y": {}}}), &[]),
        ),
        (
            "32 key without vendor",
            s(
                json!({"Condition": {"StringEqualsIfExists": {"a": "asf"}}}),
                &[],
            ),
        ),
        (
            "33 qualifier and IfExists",
            s(
                json!({"Condition": {"ForAnyValue:StringEqualsIfExists": {"a": "asf"}}}),
                &[],
            ),
        ),
        (
            "35 fraction and offset",
            s(
                json!({"Condition": {"DateLessThanEquals": {"a": "2016-12-13T21:20:37.593194+00:00"}}}),
                &[],
            ),
        ),
        (
            "36 one-digit hour",
            s(
                json!({"Condition": {"DateLessThanEquals": {"a": "2016-12-13t2:00:00.593194+23"}}}),
                &[],
            ),
        ),
        (
            "37 earliest year",
            s(
                json!({"Condition": {"DateLessThan": {"a": "-292275054"}}}),
                &[],
            ),
        ),
        (
            "38 policy variables",
            s(
                json!({"Action": ["iam:ChangePassword", "iam:GetUser"], "Resource": "arn:aws:iam::*:user/${aws:username}"}),
                &[],
            ),
        ),
        (
            "40 ArnEquals",
            s(
                json!({"Action": ["ec2:AttachVolume"], "Resource": ["arn:aws:ec2:*:*:volume/*"],
            "Condition": {"ArnEquals": {"ec2:SourceInstanceARN": "arn:aws:ec2:*:*:instance/instance-id"}}}),
                &[],
            ),
        ),
        (
            "42 placeholders for region and account",
            s(
                json!({"Resource": "arn:aws:ec2:region:account-id:instance/*"}),
                &[],
            ),
        ),
        (
            "48 wildcard resource type",
            s(
                json!({"Action": "rds:*", "Resource": ["arn:aws:rds:region:*:*"]}),
                &[],
            ),
        ),
        (
            "50 S3 access points",
            s(
                json!({"Sid": "", "Action": ["s3:*"], "Resource": [
            "arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point",
            "arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point/object/*"]}),
                &[],
            ),
        ),
    ];
    for (case, st) in &cases {
        let document = current(st.clone()).to_string();
        validate(&document, DocumentKind::Managed).unwrap_or_else(|e| panic!("case {case}: {e}"));
    }
    // 4, 20, 24, 29, 49: lists, Sids (empty ones may repeat) and Id.
    let whole = json!({"Version": "2012-10-17", "Id": "sdfsdfsdf", "Statement": [
        s(json!({"Sid": "dsfsdfsdfsdfsdfsadfsd"}), &[]), s(json!({}), &[]),
        s(json!({"Sid": ""}), &[]), s(json!({"Sid": ""}), &[])]});
    let doc = validate(&whole.to_string(), DocumentKind::Managed).unwrap();
    assert_eq!(doc.statements.len(), 4);
    assert_eq!(doc.id.as_deref(), Some("sdfsdfsdf"));
}

/// A document in one partition may only name that partition's resources (or `*`): the partition list is the
/// SDKs' partitions.json; the refusal across partitions is what China users report (aws/chalice#777,
/// aws/copilot-cli#3844, terraform-aws-modules/terraform-aws-iam#39).
#[test]
fn resources_must_be_in_the_documents_partition() {
    assert_eq!(PARTITIONS.len(), 8);
    for home in PARTITIONS {
        let own = current(statement(
            json!({"Resource": format!("arn:{home}:s3:::b")}),
            &[],
        ))
        .to_string();
        validate_in(&own, DocumentKind::Managed, home).unwrap_or_else(|e| panic!("{home}: {e}"));
        let any = current(statement(json!({"Resource": "arn:*:s3:::b"}), &[])).to_string();
        validate_in(&any, DocumentKind::Managed, home).unwrap();
        for other in PARTITIONS.iter().filter(|p| **p != home) {
            let err = validate_in(&own, DocumentKind::Managed, other).unwrap_err();
            assert_eq!(
                err.message(),
                format!("Partition \"{home}\" is not valid for resource \"arn:{home}:s3:::b\"."),
                "{home} in {other}"
            );
        }
    }
}

/// Inline policies follow the same grammar, less the Version rule (see tests/documents.rs for why).
#[test]
fn inline_policies_share_the_grammar() {
    let legacy =
        json!({"Version": "2008-10-17", "Statement": statement(json!({}), &[])}).to_string();
    validate(&legacy, DocumentKind::Inline).unwrap();
    let bad = json!({"Statement": statement(json!({"Action": "s3:List:Bucket"}), &[])}).to_string();
    assert_eq!(refusal(&bad, DocumentKind::Inline), ONE_COLON);
    assert_eq!(
        refusal(&current(json!([])).to_string(), DocumentKind::Inline),
        SYNTAX
    );
}
