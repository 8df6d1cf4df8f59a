//! Expected messages are AWS's own, as users reported them (sources beside each test).

use super::*;

fn params(pairs: &[(&str, &str)]) -> Params {
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    Params::parse(form.as_bytes())
}

fn message(model: Model, action: &str, pairs: &[(&str, &str)]) -> String {
    let err = validate(model, action, &params(pairs)).expect_err("must be refused");
    assert_eq!(
        (err.code, err.status.as_u16()),
        ("ValidationError", 400),
        "{}",
        err.message
    );
    err.message
}

#[test]
fn every_model_pattern_compiles() {
    for model in [Model::Iam, Model::Sts] {
        for op in operations(model) {
            for member in op.members {
                let mut all = HashMap::new();
                collect(member.shape, &mut all);
            }
        }
    }
}

/// Issue 12, from IAM: a name outside `[\w+=,.@-]+` is refused before the role is looked up.
#[test]
fn role_names_outside_the_pattern_are_refused() {
    assert_eq!(
        message(Model::Iam, "GetRole", &[("RoleName", "%ZZ%4%")]),
        r"1 validation error detected: Value '%ZZ%4%' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+"
    );
    // Java's \w is ASCII: IAM refuses letters outside it.
    assert!(validate(Model::Iam, "GetRole", &params(&[("RoleName", "rôle")])).is_err());
    assert!(validate(
        Model::Iam,
        "GetRole",
        &params(&[("RoleName", "my-role_1+=,.@")])
    )
    .is_ok());
}

/// NixOS/nixops#328 (IAM's ErrorResponse): a 66-character role name.
#[test]
fn too_long_names_name_the_bound() {
    let name = "charon-31f85414-3f74-11e5-b275-f23c91ae92d9-DynamoReadOnlyPermission";
    assert_eq!(
        message(Model::Iam, "GetRole", &[("RoleName", name)]),
        format!("1 validation error detected: Value '{name}' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64")
    );
}

/// Tags are named by position, without their values: AWS's answer to CreateRole with a 129-character key
/// (LocalStack's recording, tests/aws/services/iam/test_iam_roles.snapshot.json "…test_role_tag_errors"
/// create-role-tag-key-too-long, February 2026). SWO-GS/auto-tag#90 quoted IAM echoing a tag's value (for
/// CreateUser, years earlier); the recording is AWS's current answer.
#[test]
fn tag_members_are_named_by_position() {
    let value = "SourceIP: 1.2.3.4, UserAgent: aws-cli/2.1.17 Python/3.7.4";
    let mut pairs = vec![("RoleName", "r"), ("AssumeRolePolicyDocument", "{}")];
    let keys: Vec<String> = (1..=6).map(|i| format!("Tags.member.{i}.Key")).collect();
    let values: Vec<String> = (1..=6).map(|i| format!("Tags.member.{i}.Value")).collect();
    for i in 0..6 {
        pairs.push((&keys[i], "k"));
        pairs.push((&values[i], if i == 5 { value } else { "v" }));
    }
    assert_eq!(
        message(Model::Iam, "CreateRole", &pairs),
        r"1 validation error detected: Value at 'tags.6.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*"
    );
    let long_key = "k".repeat(129);
    assert_eq!(
        message(
            Model::Iam,
            "CreateRole",
            &[
                ("RoleName", "r"),
                ("AssumeRolePolicyDocument", "{}"),
                ("Tags.member.1.Key", &long_key),
                ("Tags.member.1.Value", "value"),
            ]
        ),
        "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"
    );
}

/// A probe of AWS STS (AssumeRole with `RoleArn=`): the pattern first, then the length, joined by "; ".
#[test]
fn several_violations_are_counted_and_joined() {
    assert_eq!(
        message(
            Model::Sts,
            "AssumeRole",
            &[("RoleArn", ""), ("RoleSessionName", "s")]
        ),
        r"3 validation errors detected: Value '' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+; Value '' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20; Value 's' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"
    );
}

/// AWS's answer to CreateOpenIDConnectProvider with a URL, a thumbprint and a client id too long (LocalStack's
/// recording, tests/aws/services/iam/test_iam_oidc.snapshot.json
/// "…test_create_open_id_connect_provider_validation_errors" multiple-validation-errors, February 2026): by member
/// name, without values, the lists' elements reported at the list with every constraint of an element.
#[test]
fn an_oidc_provider_with_three_faults_gets_three_errors() {
    let url = "b".repeat(256);
    let client = "b".repeat(256);
    let thumbprint = "b".repeat(41);
    assert_eq!(
        message(
            Model::Iam,
            "CreateOpenIDConnectProvider",
            &[
                ("Url", &url),
                ("ThumbprintList.member.1", &thumbprint),
                ("ClientIDList.member.1", &client),
            ],
        ),
        "3 validation errors detected: \
         Value at 'clientIDList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 1]; \
         Value at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 40, Member must have length greater than or equal to 40]; \
         Value at 'url' failed to satisfy constraint: Member must have length less than or equal to 255"
    );
}

#[test]
fn missing_required_members_are_null() {
    assert_eq!(
        message(Model::Iam, "TagRole", &[("RoleName", "r")]),
        "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"
    );
    // An empty list is a list (the CLI sends `Tags=`), not null.
    assert!(validate(
        Model::Iam,
        "TagRole",
        &params(&[("RoleName", "r"), ("Tags", "")])
    )
    .is_ok());
}

/// IAM's API reference: "You can pass up to 50 tags" (tagListType max 50), refused as a length violation, without
/// the list (AWS's answers to UntagRole with 51 keys and with one bad key: LocalStack's recording,
/// tests/aws/services/iam/test_iam_roles.snapshot.json "…test_role_tag_errors" untag-role-too-many-keys and
/// untag-role-key-too-long, February 2026).
#[test]
fn more_than_fifty_tags_or_tag_keys_are_refused() {
    let names: Vec<(String, String)> = (1..=51)
        .map(|i| (format!("TagKeys.member.{i}"), format!("k{i}")))
        .collect();
    let mut pairs: Vec<(&str, &str)> = names
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    pairs.push(("RoleName", "r"));
    assert_eq!(
        message(Model::Iam, "UntagRole", &pairs),
        "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 50"
    );
    assert_eq!(
        message(
            Model::Iam,
            "UntagRole",
            &[("RoleName", "r"), ("TagKeys.member.1", "invalid!key")]
        ),
        r"1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+, Member must not be null]"
    );
}

#[test]
fn ranges_and_enums() {
    assert_eq!(
        message(Model::Iam, "ListRoles", &[("MaxItems", "0")]),
        "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    assert_eq!(
        message(Model::Iam, "ListPolicies", &[("Scope", "Mine")]),
        "1 validation error detected: Value 'Mine' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]"
    );
}

/// AWS does not echo sensitive members (WebIdentityToken is `sensitive` in the STS model).
#[test]
fn sensitive_values_are_not_echoed() {
    let text = message(
        Model::Sts,
        "AssumeRoleWithWebIdentity",
        &[
            ("RoleArn", "arn:aws:iam::111122223333:role/r"),
            ("RoleSessionName", "s1"),
            ("WebIdentityToken", "abc"),
        ],
    );
    assert_eq!(
        text,
        "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4"
    );
}
