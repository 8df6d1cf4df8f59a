"""IAM as AWS answered it: requests whose answers were recorded against real AWS, replayed against the emulator.

Where the answers come from: LocalStack's IAM test suites (github.com/localstack/localstack, Apache-2.0), whose tests
marked `@markers.aws.validated` are run against AWS and store AWS's responses in `*.snapshot.json`. Nobody on this
team wrote them. Only the facts are taken (the request made, and the code, message, HTTP status and response members
AWS gave); the tests below are our own. Each cites the snapshot file and key it asserts, as
`<file> "<test id>" <snapshot key>`, with these abbreviations for the files (all under tests/aws/services/iam/):

    OIDC     test_iam_oidc.snapshot.json            (recorded 17-18 Feb 2026)
    ROLES    test_iam_roles.snapshot.json           (recorded 11-16 Feb 2026)
    MANAGED  test_iam_managed_policies.snapshot.json (recorded 12 Feb 2026)
    POLICIES test_iam_policies.snapshot.json        (recorded 10-18 Feb 2026)
    IAM      test_iam.snapshot.json                 (recorded 14 Sep 2023)

An error's recorded Error.Message is asserted even where LocalStack's own test skips verifying it
(`skip_snapshot_verify(paths=["$..Error.Message"])` only says LocalStack's message differs from AWS's).

How cases were chosen: every recorded case whose requests use only operations the emulator serves (roles, role
policies, managed policies and their versions, OIDC providers, tags on roles and providers). Left out, because they
need operations the emulator does not have: users, groups, instance profiles (ROLES test_delete_role_with_instance_profile),
TagPolicy/UntagPolicy/ListPolicyTags (POLICIES test_policy_tag_operations, test_policy_tag_update_errors, and the
ListPolicyTags steps of test_policy_tag_lifecycle and test_policy_tag_order), ListEntitiesForPolicy, service-linked
roles, SimulatePrincipalPolicy, service-specific credentials. Placeholders map to our values: account 111111111111 is
`conftest.ACCOUNT`, `<partition>` is `aws`, `<role-name:N>` and the like are the names each test makes.

Where a recording masks a value (`<url:1>`, `<datetime>`, ids) only the member's presence is asserted.
"""

import json

import boto3
import pytest
from botocore.config import Config

from conftest import ACCOUNT, ADMIN_KEY, ADMIN_SECRET, Emulator, refused

SYNTAX = "Syntax errors in policy."
LEGACY = "The policy failed legacy parsing"
VERSION = "Policy document must be version 2012-10-17 or greater."
ACTIONS = "Policy statement must contain actions."
RESOURCES = "Policy statement must contain resources."
VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ONE_COLON = "Actions/Condition can contain only one colon."
TAG_PATTERN = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"
VERSION_ID_PATTERN = "v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?"
ROLE_DUPLICATE_TAGS = "Duplicate tag keys found. Please note that Tag keys are case insensitive."

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::example_bucket"},
}


def listing(action: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Sid": "Statement1", "Effect": "Allow", "Action": [action], "Resource": "*"}]}


LIST_USERS, LIST_BUCKET, DESCRIBE_INSTANCES = listing("iam:ListUsers"), listing("s3:ListBucket"), listing("ec2:DescribeInstances")

ROLE_CREATED = {"Arn", "AssumeRolePolicyDocument", "CreateDate", "Path", "RoleId", "RoleName"}
ROLE_GOT = ROLE_CREATED | {"MaxSessionDuration", "RoleLastUsed"}
ROLE_LISTED = ROLE_CREATED | {"MaxSessionDuration"}
POLICY_CREATED = {
    "Arn", "AttachmentCount", "CreateDate", "DefaultVersionId", "IsAttachable", "Path",
    "PermissionsBoundaryUsageCount", "PolicyId", "PolicyName", "UpdateDate",
}
POLICY_GOT = POLICY_CREATED | {"Tags"}
VERSION_MEMBERS = {"CreateDate", "IsDefaultVersion", "VersionId"}


def not_found(message: str) -> tuple:
    return (404, "Sender", "NoSuchEntity", message)


def invalid(code: str, message: str) -> tuple:
    return (400, "Sender", code, message)


def one_violation(text: str) -> tuple:
    return invalid("ValidationError", f"1 validation error detected: {text}")


def no_role(name: str) -> tuple:
    return not_found(f"The role with name {name} cannot be found.")


def ok(response: dict) -> dict:
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    return response


def client(emulator, service: str, validate=True):
    return boto3.client(
        service, endpoint_url=emulator.url, verify=str(emulator.ca), region_name=emulator.region,
        aws_access_key_id=ADMIN_KEY, aws_secret_access_key=ADMIN_SECRET,
        config=Config(parameter_validation=validate),
    )


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One emulator for the table-driven cases, which make uniquely named things and read nothing else back."""
    emu = Emulator(data_dir=tmp_path_factory.mktemp("recorded") / "data").start()
    yield emu
    emu.stop()


@pytest.fixture
def iam(emulator):
    return client(emulator, "iam")


def create_role(iam, name, trust=TRUST, **kwargs) -> dict:
    return ok(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), **kwargs))["Role"]


def create_policy(iam, name, document=BUCKET_POLICY, **kwargs) -> dict:
    return ok(iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document), **kwargs))["Policy"]


def policy_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy/{name}"


def provider_arn(host_path: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host_path}"


# ---------------------------------------------------------------------------------------------------- OIDC providers


def test_create_open_id_connect_provider(iam):
    """OIDC "…::TestOIDCProviderCreate::test_create_open_id_connect_provider" create-https, create-with-client,
    create-with-path: 200 and only the ARN, which names the host (and path)."""
    for host_path, extra in [
        ("oidc-basic.example.com", {"ThumbprintList": ["a" * 40]}),
        ("oidc-client.example.com", {"ThumbprintList": ["b" * 40], "ClientIDList": ["my-client-id"]}),
        ("oidc-path.example.com/oidc", {"ThumbprintList": ["a" * 40]}),
    ]:
        response = ok(iam.create_open_id_connect_provider(Url=f"https://{host_path}", **extra))
        assert set(response) == {"OpenIDConnectProviderArn", "ResponseMetadata"}
        assert response["OpenIDConnectProviderArn"] == provider_arn(host_path)


def test_create_open_id_connect_provider_invalid_url(iam):
    """OIDC "…::TestOIDCProviderCreateErrors::test_create_open_id_connect_provider_invalid_url" invalid-url."""
    assert refused(iam.create_open_id_connect_provider, Url="example.org", ThumbprintList=["a" * 40]) == invalid(
        "ValidationError", "Invalid Open ID Connect Provider URL"
    )


def test_create_open_id_connect_provider_duplicate_error(iam):
    """OIDC "…::TestOIDCProviderCreateErrors::test_create_open_id_connect_provider_duplicate_error" duplicate-error."""
    url = "https://oidc-dup.example.com"
    iam.create_open_id_connect_provider(Url=url, ThumbprintList=["a" * 40])
    assert refused(iam.create_open_id_connect_provider, Url=url, ThumbprintList=["a" * 40]) == (
        409, "Sender", "EntityAlreadyExists", f"Provider with url {url} already exists."
    )


def test_create_open_id_connect_provider_too_many_thumbprints(iam):
    """OIDC "…::TestOIDCProviderCreateErrors::test_create_open_id_connect_provider_too_many_thumbprints"
    too-many-thumbprints."""
    thumbprints = [c * 40 for c in "abcdef"]
    assert refused(
        iam.create_open_id_connect_provider, Url="https://oidc-thumbs.example.com", ThumbprintList=thumbprints
    ) == invalid("InvalidInput", "Thumbprint list must contain fewer than 5 entries.")


def test_create_open_id_connect_provider_quota_error(iam):
    """OIDC "…::TestOIDCProviderCreateErrors::test_create_open_id_connect_provider_quota_error" quota-error."""
    assert refused(
        iam.create_open_id_connect_provider, Url="https://oidc-clients.example.com", ThumbprintList=["a" * 40],
        ClientIDList=[str(i) for i in range(101)],
    ) == (409, "Sender", "LimitExceeded", "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")


def test_create_open_id_connect_provider_validation_errors(iam):
    """OIDC "…::TestOIDCProviderCreateErrors::test_create_open_id_connect_provider_validation_errors"
    multiple-validation-errors: every violation at once, the members in this order, list elements reported at the
    list with all their element's constraints, no values echoed."""
    assert refused(
        iam.create_open_id_connect_provider, Url="b" * 256, ThumbprintList=["b" * 41], ClientIDList=["b" * 256]
    ) == invalid(
        "ValidationError",
        "3 validation errors detected: "
        "Value at 'clientIDList' failed to satisfy constraint: Member must satisfy constraint: "
        "[Member must have length less than or equal to 255, Member must have length greater than or equal to 1]; "
        "Value at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: "
        "[Member must have length less than or equal to 40, Member must have length greater than or equal to 40]; "
        "Value at 'url' failed to satisfy constraint: Member must have length less than or equal to 255",
    )


def test_get_open_id_connect_provider(iam):
    """OIDC "…::TestOIDCProviderOperations::test_get_open_id_connect_provider" get-response (Url is masked in the
    recording: only its presence is asserted)."""
    arn = iam.create_open_id_connect_provider(
        Url="https://oidc-get.example.com", ThumbprintList=["b" * 40], ClientIDList=["client-id-1"]
    )["OpenIDConnectProviderArn"]
    got = ok(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn))
    assert set(got) - {"ResponseMetadata"} == {"ClientIDList", "CreateDate", "Tags", "ThumbprintList", "Url"}
    assert (got["ClientIDList"], got["Tags"], got["ThumbprintList"]) == (["client-id-1"], [], ["b" * 40])


def test_get_open_id_connect_provider_not_found(iam):
    """OIDC "…::TestOIDCProviderOperations::test_get_open_id_connect_provider_not_found" not-found-error."""
    arn = provider_arn("non-existent.example.com")
    assert refused(iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn) == not_found(
        f"OpenIDConnect Provider not found for arn {arn}"
    )


def test_update_open_id_connect_provider_thumbprint(iam):
    """OIDC "…::TestOIDCProviderOperations::test_update_open_id_connect_provider_thumbprint" after-update."""
    arn = iam.create_open_id_connect_provider(Url="https://oidc-update.example.com", ThumbprintList=["b" * 40])[
        "OpenIDConnectProviderArn"
    ]
    ok(iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["c" * 40, "d" * 40]))
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert (got["ClientIDList"], got["Tags"], got["ThumbprintList"]) == ([], [], ["c" * 40, "d" * 40])
    assert {"CreateDate", "Url"} <= set(got)


def test_delete_open_id_connect_provider(iam):
    """OIDC "…::TestOIDCProviderOperations::test_delete_open_id_connect_provider" delete-response,
    get-not-found-error, deletion-not-found-error (recorded 18-02-2026 20:24:58): deleting a provider that is gone is
    NoSuchEntity, whatever the API reference says about idempotence. (The file's empty entry for a removed
    test_delete_open_id_connect_provider_idempotent, recorded the day before, asserts nothing.)"""
    host = "oidc-delete.example.com"
    arn = iam.create_open_id_connect_provider(Url=f"https://{host}", ThumbprintList=["a" * 40])[
        "OpenIDConnectProviderArn"
    ]
    response = ok(iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn))
    assert set(response) == {"ResponseMetadata"}
    assert refused(iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn) == not_found(
        f"OpenIDConnect Provider not found for arn {arn}"
    )
    assert refused(iam.delete_open_id_connect_provider, OpenIDConnectProviderArn=arn) == not_found(
        f"OpenId connect Provider {arn} cannot be found."
    )


def test_list_open_id_connect_providers(iam):
    """OIDC "…::TestOIDCProviderList::test_list_open_id_connect_providers" list-response."""
    arns = [
        iam.create_open_id_connect_provider(Url=f"https://oidc-list-{i}.example.com", ThumbprintList=["a" * 40])[
            "OpenIDConnectProviderArn"
        ]
        for i in range(3)
    ]
    listed = [p["Arn"] for p in ok(iam.list_open_id_connect_providers())["OpenIDConnectProviderList"]]
    assert listed == [provider_arn(f"oidc-list-{i}.example.com") for i in range(3)] == arns


def test_tag_and_untag_open_id_connect_provider(iam):
    """OIDC "…::TestOIDCProviderTags::test_tag_open_id_connect_provider" after-tagging and
    "…::test_untag_open_id_connect_provider" after-untagging."""
    arn = iam.create_open_id_connect_provider(Url="https://oidc-tag.example.com", ThumbprintList=["a" * 40])[
        "OpenIDConnectProviderArn"
    ]
    ok(iam.tag_open_id_connect_provider(
        OpenIDConnectProviderArn=arn, Tags=[{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}]
    ))
    tags = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["Tags"]
    assert tags == [{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}]
    ok(iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["k2"]))
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["Tags"] == [{"Key": "k1", "Value": "v1"}]


def test_list_open_id_connect_provider_tags(iam):
    """OIDC "…::TestOIDCProviderTags::test_list_open_id_connect_provider_tags" list-tags-response."""
    arn = iam.create_open_id_connect_provider(
        Url="https://oidc-listtags.example.com", ThumbprintList=["a" * 40],
        Tags=[{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}],
    )["OpenIDConnectProviderArn"]
    listed = ok(iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn))
    assert set(listed) == {"IsTruncated", "Tags", "ResponseMetadata"}
    assert (listed["IsTruncated"], listed["Tags"]) == (False, [{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}])


def test_list_open_id_connect_provider_tags_max_items(iam):
    """OIDC "…::TestOIDCProviderTags::test_list_open_id_connect_provider_tags_max_items" final-page: 10 tags in pages
    of 4, 4 and 2, the last without a Marker."""
    arn = iam.create_open_id_connect_provider(
        Url="https://oidc-tagsmax.example.com", ThumbprintList=["a" * 40],
        Tags=[{"Key": f"k{i:02d}", "Value": f"v{i}"} for i in range(10)],
    )["OpenIDConnectProviderArn"]
    first = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn, MaxItems=4)
    second = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn, Marker=first["Marker"], MaxItems=4)
    last = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn, Marker=second["Marker"])
    assert (len(first["Tags"]), len(second["Tags"])) == (4, 4)
    assert {"tag_count": len(last["Tags"]), "has_marker": "Marker" in last} == {"tag_count": 2, "has_marker": False}


def test_open_id_connect_provider_tags_limit(iam):
    """OIDC "…::TestOIDCProviderTags::test_open_id_connect_provider_tags_limit" tags-limit-error: a provider made
    with 50 tags takes no 51st."""
    arn = iam.create_open_id_connect_provider(
        Url="https://oidc-tagslimit.example.com", ThumbprintList=["a" * 40],
        Tags=[{"Key": f"k{i:02d}", "Value": f"v{i}"} for i in range(50)],
    )["OpenIDConnectProviderArn"]
    assert refused(
        iam.tag_open_id_connect_provider, OpenIDConnectProviderArn=arn, Tags=[{"Key": "string", "Value": "string"}]
    ) == (409, "Sender", "LimitExceeded", "The number of tags has reached the maximum limit.")


# ------------------------------------------------------------------------------------------------------------- roles


def test_role_errors(iam):
    """ROLES "…::TestRoleLifecycle::test_role_errors" get-role-error, update-role-error, delete-role-error,
    create-role-for-duplicate-test, create-role-already-exists-error."""
    missing = "test-nonexistent-role"
    assert refused(iam.get_role, RoleName=missing) == no_role(missing)
    assert refused(iam.update_role, RoleName=missing, Description="test") == no_role(missing)
    assert refused(iam.delete_role, RoleName=missing) == no_role(missing)
    role = create_role(iam, "role-dup")
    assert set(role) == ROLE_CREATED
    assert refused(iam.create_role, RoleName="role-dup", AssumeRolePolicyDocument=json.dumps(TRUST)) == (
        409, "Sender", "EntityAlreadyExists", "Role with name role-dup already exists."
    )


def test_create_role_defaults(iam):
    """ROLES "…::TestRoleLifecycle::test_create_role_defaults" create-role-response, get-role-response: CreateRole
    shows neither MaxSessionDuration nor RoleLastUsed; GetRole shows both."""
    created = create_role(iam, "role-defaults")
    assert set(created) == ROLE_CREATED
    assert (created["Path"], created["Arn"]) == ("/", f"arn:aws:iam::{ACCOUNT}:role/role-defaults")
    assert created["AssumeRolePolicyDocument"] == TRUST
    got = ok(iam.get_role(RoleName="role-defaults"))["Role"]
    assert set(got) == ROLE_GOT
    assert (got["MaxSessionDuration"], got["RoleLastUsed"], got["RoleId"]) == (3600, {}, created["RoleId"])


def test_create_describe_role(iam):
    """ROLES "…::TestRoleLifecycle::test_create_describe_role" create-role-result, get-role-result,
    list-roles-result; IAM "…::TestIAMIntegrations::test_create_describe_role" (2023), the same answers."""
    created = create_role(iam, "role-described", Path="/described/")
    assert set(created) == ROLE_CREATED
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/described/role-described"
    assert set(iam.get_role(RoleName="role-described")["Role"]) == ROLE_GOT
    listed = ok(iam.list_roles(PathPrefix="/described/"))
    assert listed["IsTruncated"] is False
    assert [set(r) for r in listed["Roles"]] == [ROLE_LISTED]
    assert listed["Roles"][0]["Path"] == "/described/"


def test_delete_role_with_attached_policy(iam):
    """ROLES "…::TestRoleLifecycle::test_delete_role_with_attached_policy" delete-role-with-policy-error,
    get-role-after-deletion-error."""
    create_role(iam, "role-attached")
    arn = create_policy(iam, "policy-attached")["Arn"]
    iam.attach_role_policy(RoleName="role-attached", PolicyArn=arn)
    assert refused(iam.delete_role, RoleName="role-attached") == (
        409, "Sender", "DeleteConflict", "Cannot delete entity, must detach all policies first."
    )
    iam.detach_role_policy(RoleName="role-attached", PolicyArn=arn)
    ok(iam.delete_role(RoleName="role-attached"))
    assert refused(iam.get_role, RoleName="role-attached") == no_role("role-attached")


def test_delete_role_with_inline_policy(iam):
    """ROLES "…::TestRoleLifecycle::test_delete_role_with_inline_policy" delete-role-with-inline-policy-error,
    get-role-after-deletion-error."""
    create_role(iam, "role-inline")
    iam.put_role_policy(RoleName="role-inline", PolicyName="inline", PolicyDocument=json.dumps(BUCKET_POLICY))
    assert refused(iam.delete_role, RoleName="role-inline") == (
        409, "Sender", "DeleteConflict", "Cannot delete entity, must delete policies first."
    )
    iam.delete_role_policy(RoleName="role-inline", PolicyName="inline")
    ok(iam.delete_role(RoleName="role-inline"))
    assert refused(iam.get_role, RoleName="role-inline") == no_role("role-inline")


def test_update_role(iam):
    """ROLES "…::TestRoleLifecycle::test_update_role": get-role-initial, update-role-response (no members),
    get-role-after-update, update-role-description-response (the role without MaxSessionDuration and RoleLastUsed),
    get-role-after-desc-update, update-role-defaults-response and get-role-after-defaults (UpdateRole without
    parameters changes nothing)."""
    create_role(iam, "role-updated", Description="initial description")
    initial = iam.get_role(RoleName="role-updated")["Role"]
    assert set(initial) == ROLE_GOT | {"Description"}
    assert (initial["Description"], initial["MaxSessionDuration"]) == ("initial description", 3600)

    updated = ok(iam.update_role(RoleName="role-updated", Description="updated description", MaxSessionDuration=7200))
    assert set(updated) == {"ResponseMetadata"}
    got = iam.get_role(RoleName="role-updated")["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("updated description", 7200)

    described = ok(iam.update_role_description(RoleName="role-updated", Description="description via update_role_description"))
    assert set(described["Role"]) == ROLE_CREATED | {"Description"}
    assert described["Role"]["Description"] == "description via update_role_description"
    got = iam.get_role(RoleName="role-updated")["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("description via update_role_description", 7200)

    assert set(ok(iam.update_role(RoleName="role-updated"))) == {"ResponseMetadata"}
    got = iam.get_role(RoleName="role-updated")["Role"]
    assert set(got) == ROLE_GOT | {"Description"}
    assert (got["Description"], got["MaxSessionDuration"]) == ("description via update_role_description", 7200)


@pytest.mark.parametrize(
    "document, message",
    [
        # invalid-json-error
        ("not valid json", "This policy contains invalid Json"),
        # invalid-action-error
        (json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:InvalidAction"}]}),
         "AssumeRole policy may only specify STS AssumeRole actions."),
        # resource-field-error
        (json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole",
             "Resource": "arn:aws:s3:::example_bucket"}]}),
         "Has prohibited field Resource"),
    ],
    ids=["invalid-json-error", "invalid-action-error", "resource-field-error"],
)
def test_update_assume_role_policy_errors(shared, document, message, request):
    """ROLES "…::TestRoleLifecycle::test_update_assume_role_policy_errors" (the key is the case's id)."""
    iam = client(shared, "iam")
    name = f"role-{request.node.callspec.id}"
    create_role(iam, name)
    assert refused(iam.update_assume_role_policy, RoleName=name, PolicyDocument=document) == invalid(
        "MalformedPolicyDocument", message
    )


def test_create_role_with_malformed_assume_role_policy_document(iam):
    """IAM "…::TestIAMExtensions::test_create_role_with_malformed_assume_role_policy_document" invalid-json: a
    trailing comma in the trust policy."""
    document = '{"Version": "2012-10-17", "Statement": [{"Action": "sts:AssumeRole", "Principal": "*", "Effect": "Allow",}]}'
    assert refused(iam.create_role, RoleName="role-comma", AssumeRolePolicyDocument=document) == invalid(
        "MalformedPolicyDocument", "This policy contains invalid Json"
    )


def test_update_assume_role_policy(iam):
    """ROLES "…::TestRoleLifecycle::test_update_assume_role_policy" created_role (lists kept as lists),
    updated_policy (no members); IAM "…::TestIAMIntegrations::test_update_assume_role_policy" (2023), the same."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": ["ec2.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}],
    }
    created = create_role(iam, "role-trust-lists", trust=trust)
    assert set(created) == ROLE_CREATED
    assert created["AssumeRolePolicyDocument"] == trust
    response = ok(iam.update_assume_role_policy(RoleName="role-trust-lists", PolicyDocument=json.dumps(trust)))
    assert set(response) == {"ResponseMetadata"}


def test_list_roles_path_prefix(iam):
    """ROLES "…::TestRoleLifecycle::test_list_roles_path_prefix" create-role-without-path, create-role-with-path,
    list-roles-with-path-prefix, list-roles-empty-path-prefix."""
    assert create_role(iam, "role-no-path")["Path"] == "/"
    assert create_role(iam, "role-with-path", Path="/test-path/")["Path"] == "/test-path/"
    listed = iam.list_roles(PathPrefix="/test-path/")
    assert ([r["RoleName"] for r in listed["Roles"]], listed["IsTruncated"]) == (["role-with-path"], False)
    assert set(listed["Roles"][0]) == ROLE_LISTED
    empty = ok(iam.list_roles(PathPrefix="/nonexistent-path/"))
    assert (empty["Roles"], empty["IsTruncated"]) == ([], False)


def test_create_role_with_assume_role_policy(iam):
    """IAM "…::TestIAMIntegrations::test_create_role_with_assume_role_policy" (a validated test without a snapshot;
    its assertions): ListRoles shows the trust policy as given, and PathPrefix matches the start of a path."""
    trust = {"Version": "2012-10-17", "Statement": [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
    create_role(iam, "role-root-1", trust=trust, Path="/")
    create_role(iam, "role-root-2", trust=trust, Path="/", Description="string")
    for role in iam.list_roles()["Roles"]:
        assert role["AssumeRolePolicyDocument"] == trust
        iam.delete_role(RoleName=role["RoleName"])
    create_role(iam, "role-root-2", trust=trust, Path="/myPath/", Description="string")
    roles = iam.list_roles(PathPrefix="/my")["Roles"]
    assert [(r["Path"], r["RoleName"]) for r in roles] == [("/myPath/", "role-root-2")]


def test_recreate_iam_role(iam):
    """IAM "…::TestIAMIntegrations::test_recreate_iam_role" (validated, its assertion): EntityAlreadyExists."""
    trust = {"Version": "2012-10-17", "Statement": [
        {"Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}, "Effect": "Allow"}]}
    create_role(iam, "role-again", trust=trust)
    assert refused(iam.create_role, RoleName="role-again", AssumeRolePolicyDocument=json.dumps(trust))[2] == (
        "EntityAlreadyExists"
    )


def boundary(arn: str) -> dict:
    return {"PermissionsBoundaryArn": arn, "PermissionsBoundaryType": "Policy"}


def test_role_permissions_boundary_lifecycle(iam):
    """ROLES "…::TestRolePermissionsBoundary::test_role_permissions_boundary_lifecycle": create-role-with-boundary
    (the boundary, of type "Policy", but not the Description given), get-role-with-boundary, get-role-no-boundary,
    list-roles-without-boundary, get-role-boundary-restored, list-roles-with-boundary (ListRoles never shows it)."""
    arn = create_policy(iam, "boundary-policy")["Arn"]
    created = create_role(iam, "role-bounded", PermissionsBoundary=arn, Description="Role with permissions boundary")
    assert set(created) == ROLE_CREATED | {"PermissionsBoundary"}
    assert created["PermissionsBoundary"] == boundary(arn)
    got = iam.get_role(RoleName="role-bounded")["Role"]
    assert set(got) == ROLE_GOT | {"Description", "PermissionsBoundary"}
    assert got["PermissionsBoundary"] == boundary(arn)

    ok(iam.delete_role_permissions_boundary(RoleName="role-bounded"))
    assert set(iam.get_role(RoleName="role-bounded")["Role"]) == ROLE_GOT | {"Description"}
    listed = [r for r in iam.list_roles()["Roles"] if r["RoleName"] == "role-bounded"]
    assert [set(r) for r in listed] == [ROLE_LISTED | {"Description"}]

    ok(iam.put_role_permissions_boundary(RoleName="role-bounded", PermissionsBoundary=arn))
    assert iam.get_role(RoleName="role-bounded")["Role"]["PermissionsBoundary"] == boundary(arn)
    listed = [r for r in iam.list_roles()["Roles"] if r["RoleName"] == "role-bounded"]
    assert [set(r) for r in listed] == [ROLE_LISTED | {"Description"}]


def test_role_permissions_boundary_errors(iam):
    """ROLES "…::TestRolePermissionsBoundary::test_role_permissions_boundary_errors": put-invalid-boundary-error,
    create-role-invalid-boundary-error, put-nonexistent-policy-error, create-role-nonexistent-policy-error,
    put-boundary-nonexistent-role-error."""
    create_role(iam, "role-boundary-errors")
    valid = create_policy(iam, "boundary-errors-policy")["Arn"]
    malformed = f"arn:aws:iam::{ACCOUNT}:not_a_policy/invalid"
    bad_arn = invalid("InvalidInput", f"ARN {malformed} is not valid.")
    assert refused(iam.put_role_permissions_boundary, RoleName="role-boundary-errors", PermissionsBoundary=malformed) == bad_arn
    assert refused(
        iam.create_role, RoleName="role-invalid", AssumeRolePolicyDocument=json.dumps(TRUST), PermissionsBoundary=malformed
    ) == bad_arn
    missing = policy_arn("nonexistent-policy")
    no_scope = not_found(f"Scope ARN: {missing} does not exist or is not attachable.")
    assert refused(iam.put_role_permissions_boundary, RoleName="role-boundary-errors", PermissionsBoundary=missing) == no_scope
    assert refused(
        iam.create_role, RoleName="role-nonexistent", AssumeRolePolicyDocument=json.dumps(TRUST), PermissionsBoundary=missing
    ) == no_scope
    assert refused(iam.put_role_permissions_boundary, RoleName="nonexistent-role", PermissionsBoundary=valid) == no_role(
        "nonexistent-role"
    )


# ------------------------------------------------------------------------------------------------- policies on roles


def test_role_inline_policy_lifecycle(iam):
    """ROLES "…::TestRoleInlinePolicies::test_role_inline_policy_lifecycle": get-role-policy-1, list-role-policies-1,
    get-role-policy-2, list-role-policies-2, list-role-policies-after-delete, get-deleted-policy-error,
    delete-nonexistent-policy-error."""
    create_role(iam, "role-inline-life")
    put = lambda name: iam.put_role_policy(RoleName="role-inline-life", PolicyName=name, PolicyDocument=json.dumps(BUCKET_POLICY))  # noqa: E731
    names = lambda: iam.list_role_policies(RoleName="role-inline-life")  # noqa: E731
    put("policy-1")
    got = ok(iam.get_role_policy(RoleName="role-inline-life", PolicyName="policy-1"))
    assert set(got) - {"ResponseMetadata"} == {"PolicyDocument", "PolicyName", "RoleName"}
    assert (got["PolicyDocument"], got["PolicyName"], got["RoleName"]) == (BUCKET_POLICY, "policy-1", "role-inline-life")
    assert (names()["PolicyNames"], names()["IsTruncated"]) == (["policy-1"], False)
    put("policy-2")
    assert iam.get_role_policy(RoleName="role-inline-life", PolicyName="policy-2")["PolicyName"] == "policy-2"
    assert names()["PolicyNames"] == ["policy-1", "policy-2"]
    iam.delete_role_policy(RoleName="role-inline-life", PolicyName="policy-1")
    assert names()["PolicyNames"] == ["policy-2"]
    gone = not_found("The role policy with name policy-1 cannot be found.")
    assert refused(iam.get_role_policy, RoleName="role-inline-life", PolicyName="policy-1") == gone
    assert refused(iam.delete_role_policy, RoleName="role-inline-life", PolicyName="policy-1") == gone


def test_role_inline_policy_errors(iam):
    """ROLES "…::TestRoleInlinePolicies::test_role_inline_policy_errors": get-nonexistent-policy-error,
    delete-nonexistent-policy-error, put-policy-nonexistent-role-error, get-policy-nonexistent-role-error,
    delete-policy-nonexistent-role-error."""
    create_role(iam, "role-inline-errors")
    gone = not_found("The role policy with name non-existent-policy cannot be found.")
    assert refused(iam.get_role_policy, RoleName="role-inline-errors", PolicyName="non-existent-policy") == gone
    assert refused(iam.delete_role_policy, RoleName="role-inline-errors", PolicyName="non-existent-policy") == gone
    missing = no_role("nonexistent-role")
    assert refused(
        iam.put_role_policy, RoleName="nonexistent-role", PolicyName="non-existent-policy",
        PolicyDocument=json.dumps(BUCKET_POLICY),
    ) == missing
    assert refused(iam.get_role_policy, RoleName="nonexistent-role", PolicyName="non-existent-policy") == missing
    assert refused(iam.delete_role_policy, RoleName="nonexistent-role", PolicyName="non-existent-policy") == missing


def test_role_managed_policy_lifecycle(iam):
    """ROLES "…::TestRoleManagedPolicies::test_role_managed_policy_lifecycle": list-attached-policies-empty,
    list-attached-policies-1, list-attached-policies-after-detach."""
    create_role(iam, "role-managed-life")
    arn = create_policy(iam, "policy-managed-life")["Arn"]
    attached = lambda: iam.list_attached_role_policies(RoleName="role-managed-life")  # noqa: E731
    assert (attached()["AttachedPolicies"], attached()["IsTruncated"]) == ([], False)
    ok(iam.attach_role_policy(RoleName="role-managed-life", PolicyArn=arn))
    assert attached()["AttachedPolicies"] == [{"PolicyArn": arn, "PolicyName": "policy-managed-life"}]
    ok(iam.detach_role_policy(RoleName="role-managed-life", PolicyArn=arn))
    assert attached()["AttachedPolicies"] == []


def test_role_managed_policy_errors(iam):
    """ROLES "…::TestRoleManagedPolicies::test_role_managed_policy_errors" (recorded 11-02-2026):
    detach-not-attached-policy-error, non-existent-malformed-policy-arn, existing-policy-name-provided,
    attach-nonexistent-policy-error. A malformed ARN is a ValidationError; IAM "…::test_role_attach_policy" (recorded
    14-09-2023) had InvalidInput for the same requests, so AWS changed its answer, and the newer one is asserted.
    Its valid_arn_not_existent (a policy ARN with "123" appended) is the same NoSuchEntity as here."""
    create_role(iam, "role-managed-errors")
    # 20 characters, as the recording's test-policy-<8 characters>: the model's minimum for a PolicyArn.
    name = "test-policy-12345678"
    arn = create_policy(iam, name)["Arn"]
    assert refused(iam.detach_role_policy, RoleName="role-managed-errors", PolicyArn=arn) == not_found(
        f"Policy {arn} was not found."
    )
    for malformed in ["longpolicynamebutnoarn", name]:
        assert refused(iam.attach_role_policy, RoleName="role-managed-errors", PolicyArn=malformed) == invalid(
            "ValidationError", f"ARN {malformed} is not valid."
        )
    for missing in [policy_arn("nonexistent-policy"), f"{arn}123"]:
        assert refused(iam.attach_role_policy, RoleName="role-managed-errors", PolicyArn=missing) == not_found(
            f"Policy {missing} does not exist or is not attachable."
        )


def test_attach_detach_aws_managed_policy_role(iam):
    """ROLES "…::TestRoleManagedPolicies::test_attach_detach_aws_managed_policy_role": list-attached-2 (in the order
    attached), list-attached-after-detach, detach-already-detached-error, detach-nonexistent-policy-error; MANAGED
    "…::TestListPoliciesScope::test_list_policies_only_attached" list-attached-role-policies and
    list-attached-role-policies-after-detach are the same listings."""
    create_role(iam, "role-aws-managed")
    emr = "arn:aws:iam::aws:policy/service-role/AmazonElasticMapReduceRole"
    control_tower = "arn:aws:iam::aws:policy/service-role/AWSControlTowerServiceRolePolicy"
    for arn in (emr, control_tower):
        ok(iam.attach_role_policy(RoleName="role-aws-managed", PolicyArn=arn))
    listed = iam.list_attached_role_policies(RoleName="role-aws-managed")
    assert (listed["AttachedPolicies"], listed["IsTruncated"]) == ([
        {"PolicyArn": emr, "PolicyName": "AmazonElasticMapReduceRole"},
        {"PolicyArn": control_tower, "PolicyName": "AWSControlTowerServiceRolePolicy"},
    ], False)
    iam.detach_role_policy(RoleName="role-aws-managed", PolicyArn=emr)
    assert iam.list_attached_role_policies(RoleName="role-aws-managed")["AttachedPolicies"] == [
        {"PolicyArn": control_tower, "PolicyName": "AWSControlTowerServiceRolePolicy"}
    ]
    assert refused(iam.detach_role_policy, RoleName="role-aws-managed", PolicyArn=emr) == not_found(
        f"Policy {emr} was not found."
    )
    nonexistent = "arn:aws:iam::aws:policy/Nonexistent"
    assert refused(iam.detach_role_policy, RoleName="role-aws-managed", PolicyArn=nonexistent) == not_found(
        f"Policy {nonexistent} was not found."
    )


def test_attach_detach_role_policy(iam):
    """IAM "…::TestIAMIntegrations::test_attach_detach_role_policy" (validated, its assertions; LocalStack's extra
    managed policies left out): a role with a policy attached is DeleteConflict; detached, it deletes."""
    create_role(iam, "s3-role")
    arn = create_policy(iam, "s3-role-policy", document={"Version": "2012-10-17", "Statement": [{
        "Action": ["s3:GetReplicationConfiguration", "s3:GetObjectVersion", "s3:ListBucket"], "Effect": "Allow",
        "Resource": ["arn:aws:s3:::bucket_name"]}]}, Path="/")["Arn"]
    ok(iam.attach_role_policy(RoleName="s3-role", PolicyArn=arn))
    assert refused(iam.delete_role, RoleName="s3-role")[2] == "DeleteConflict"
    ok(iam.detach_role_policy(RoleName="s3-role", PolicyArn=arn))
    ok(iam.delete_role(RoleName="s3-role"))
    ok(iam.delete_policy(PolicyArn=arn))


# --------------------------------------------------------------------------------------------------------- role tags


def test_role_with_tags(iam):
    """ROLES "…::TestRoleTags::test_role_with_tags": create-role-response and get-role-response (with Tags),
    list-role-response (without), create-role-empty-tag-value, list-role-tags-empty-value."""
    tags = [{"Key": "test", "Value": "value"}]
    created = create_role(iam, "role-tagged", Tags=tags, Path="/role-with-tags/")
    assert set(created) == ROLE_CREATED | {"Tags"}
    assert created["Tags"] == tags
    got = iam.get_role(RoleName="role-tagged")["Role"]
    assert set(got) == ROLE_GOT | {"Tags"}
    assert got["Tags"] == tags
    listed = iam.list_roles(PathPrefix="/role-with-tags/")
    assert ([set(r) for r in listed["Roles"]], listed["IsTruncated"]) == ([ROLE_LISTED], False)

    empty = [{"Key": "emptykey", "Value": ""}]
    assert create_role(iam, "role-empty-tag", Tags=empty)["Tags"] == empty
    listed = ok(iam.list_role_tags(RoleName="role-empty-tag"))
    assert (listed["Tags"], listed["IsTruncated"]) == (empty, False)


def test_role_tag_operations(iam):
    """ROLES "…::TestRoleTags::test_role_tag_operations": get-role-no-tags (no Tags member), get-role-with-tags,
    list-role-tags, list-role-tags-after-update, list-role-tags-empty-value, list-role-tags-after-untag,
    list-role-tags-empty."""
    create_role(iam, "role-tag-ops")
    tags = lambda: iam.list_role_tags(RoleName="role-tag-ops")["Tags"]  # noqa: E731
    assert set(iam.get_role(RoleName="role-tag-ops")["Role"]) == ROLE_GOT
    ok(iam.tag_role(RoleName="role-tag-ops", Tags=[
        {"Key": "somekey", "Value": "somevalue"}, {"Key": "someotherkey", "Value": "someothervalue"}]))
    other = {"Key": "someotherkey", "Value": "someothervalue"}
    assert iam.get_role(RoleName="role-tag-ops")["Role"]["Tags"] == [{"Key": "somekey", "Value": "somevalue"}, other]
    assert tags() == [{"Key": "somekey", "Value": "somevalue"}, other]
    iam.tag_role(RoleName="role-tag-ops", Tags=[{"Key": "somekey", "Value": "updatedvalue"}])
    assert tags() == [{"Key": "somekey", "Value": "updatedvalue"}, other]
    iam.tag_role(RoleName="role-tag-ops", Tags=[{"Key": "somekey", "Value": ""}])
    assert tags() == [{"Key": "somekey", "Value": ""}, other]
    ok(iam.untag_role(RoleName="role-tag-ops", TagKeys=["somekey"]))
    assert tags() == [other]
    iam.untag_role(RoleName="role-tag-ops", TagKeys=["someotherkey"])
    listed = iam.list_role_tags(RoleName="role-tag-ops")
    assert (listed["Tags"], listed["IsTruncated"]) == ([], False)


def test_role_tag_errors(iam):
    """ROLES "…::TestRoleTags::test_role_tag_errors", every key in order: tag-, untag-, list-tags-nonexistent-role-error,
    create-role-too-many-tags, create-role, tag-role-too-many-tags (on a role that does not exist: the list's length
    is checked first), create-role-duplicate-tags(-different-case), create-role-tag-key-too-long, -value-too-long,
    -invalid-char, the same five for TagRole, untag-role-too-many-keys, untag-role-key-too-long,
    untag-role-invalid-char."""
    missing = "test-nonexistent-role"
    assert refused(iam.tag_role, RoleName=missing, Tags=[{"Key": "somekey", "Value": "somevalue"}]) == no_role(missing)
    assert refused(iam.untag_role, RoleName=missing, TagKeys=["somekey"]) == no_role(missing)
    assert refused(iam.list_role_tags, RoleName=missing) == no_role(missing)

    many = [{"Key": str(x), "Value": str(x)} for x in range(51)]
    too_many = one_violation("Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
    trust = json.dumps(TRUST)
    assert refused(iam.create_role, RoleName="role-tag-errors", AssumeRolePolicyDocument=trust, Tags=many) == too_many
    create_role(iam, "role-tag-errors")
    assert refused(iam.tag_role, RoleName=missing, Tags=many) == too_many

    bad_tags = [
        ([{"Key": "dupkey", "Value": "val1"}, {"Key": "dupkey", "Value": "val2"}], invalid("InvalidInput", ROLE_DUPLICATE_TAGS)),
        ([{"Key": "mykey", "Value": "val1"}, {"Key": "MyKey", "Value": "val2"}], invalid("InvalidInput", ROLE_DUPLICATE_TAGS)),
        ([{"Key": "k" * 129, "Value": "value"}], one_violation(
            "Value at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128")),
        ([{"Key": "key", "Value": "v" * 257}], one_violation(
            "Value at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")),
        ([{"Key": "invalid!key", "Value": "value"}], one_violation(
            f"Value at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: {TAG_PATTERN}")),
    ]
    for tags, expected in bad_tags:
        assert refused(iam.create_role, RoleName="role-bad-tags", AssumeRolePolicyDocument=trust, Tags=tags) == expected, tags
    for tags, expected in bad_tags:
        assert refused(iam.tag_role, RoleName="role-tag-errors", Tags=tags) == expected, tags

    assert refused(iam.untag_role, RoleName="role-tag-errors", TagKeys=[str(x) for x in range(51)]) == one_violation(
        "Value at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 50"
    )
    element = one_violation(
        "Value at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less "
        f"than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular "
        f"expression pattern: {TAG_PATTERN}, Member must not be null]"
    )
    assert refused(iam.untag_role, RoleName="role-tag-errors", TagKeys=["k" * 129]) == element
    assert refused(iam.untag_role, RoleName="role-tag-errors", TagKeys=["invalid!key"]) == element


def test_list_roles_pagination(iam):
    """ROLES "…::TestRolePagination::test_list_roles_pagination": create-role-0 … -4, list-roles-with-path,
    list-roles-max-items, list-roles-with-marker, list-roles-empty (Description listed where given)."""
    path = "/test-pagination/"
    names = [f"role-{i:02d}" for i in range(5)]
    for i, name in enumerate(names):
        created = create_role(iam, name, Path=path, **({"Description": f"Role {i}"} if i % 2 == 0 else {}))
        assert set(created) == ROLE_CREATED
    listed = iam.list_roles(PathPrefix=path)
    assert ([r["RoleName"] for r in listed["Roles"]], listed["IsTruncated"]) == (names, False)
    assert [r.get("Description") for r in listed["Roles"]] == ["Role 0", None, "Role 2", None, "Role 4"]
    first = iam.list_roles(PathPrefix=path, MaxItems=2)
    assert ([r["RoleName"] for r in first["Roles"]], first["IsTruncated"], "Marker" in first) == (names[:2], True, True)
    rest = iam.list_roles(PathPrefix=path, Marker=first["Marker"])
    assert ([r["RoleName"] for r in rest["Roles"]], rest["IsTruncated"], "Marker" in rest) == (names[2:], False, False)
    empty = iam.list_roles(PathPrefix="/nonexistent-path/")
    assert (empty["Roles"], empty["IsTruncated"]) == ([], False)


# ------------------------------------------------------------------------------------------ AWS managed policies


def test_get_aws_managed_policy(iam):
    """MANAGED "…::TestGetAwsManagedPolicy::test_get_aws_managed_policy" get-policy."""
    policy = ok(iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/IAMUserChangePassword"))["Policy"]
    assert set(policy) == POLICY_GOT | {"Description"}
    assert {k: policy[k] for k in ("AttachmentCount", "DefaultVersionId", "Description", "IsAttachable", "Path",
                                   "PermissionsBoundaryUsageCount", "PolicyName", "Tags")} == {
        "AttachmentCount": 0, "DefaultVersionId": "v5",
        "Description": "Provides the ability for an IAM user to change their own password.",
        "IsAttachable": True, "Path": "/", "PermissionsBoundaryUsageCount": 0, "PolicyName": "IAMUserChangePassword",
        "Tags": [],
    }


def test_get_aws_managed_policy_version(iam):
    """MANAGED "…::TestGetAwsManagedPolicy::test_get_aws_managed_policy_version" get-version-error, get-version-v1."""
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert refused(iam.get_policy_version, PolicyArn=arn, VersionId="v2-does-not-exist") == one_violation(
        f"Value at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: {VERSION_ID_PATTERN}"
    )
    version = ok(iam.get_policy_version(PolicyArn=arn, VersionId="v1"))["PolicyVersion"]
    assert set(version) == VERSION_MEMBERS | {"Document"}
    assert (version["IsDefaultVersion"], version["VersionId"]) == (True, "v1")
    assert version["Document"] == {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": "*"}]}


def test_get_aws_managed_policy_higher_version(iam):
    """MANAGED "…::TestGetAwsManagedPolicy::test_get_aws_managed_policy_higher_version" get-version-error,
    get-policy, get-version-default (the document's shape and a few of its values, not all 180 actions)."""
    arn = "arn:aws:iam::aws:policy/job-function/SystemAdministrator"
    assert refused(iam.get_policy_version, PolicyArn=arn, VersionId="v2-does-not-exist") == one_violation(
        f"Value at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: {VERSION_ID_PATTERN}"
    )
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert set(policy) == POLICY_GOT | {"Description"}
    assert (policy["DefaultVersionId"], policy["Path"], policy["Tags"], policy["Description"]) == (
        "v12", "/job-function/", [],
        "Grants full access permissions necessary for resources required for application and development operations.",
    )
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v12")["PolicyVersion"]
    assert (version["IsDefaultVersion"], version["VersionId"]) == (True, "v12")
    statements = version["Document"]["Statement"]
    assert len(statements) == 5
    assert statements[2] == {"Action": "s3:*", "Effect": "Allow", "Resource": ["*"]}
    assert statements[4] == {"Action": ["iam:GetRole", "iam:ListRoles", "iam:PassRole"], "Effect": "Allow", "Resource": [
        "arn:aws:iam::*:role/rds-monitoring-role", "arn:aws:iam::*:role/ec2-sysadmin-*",
        "arn:aws:iam::*:role/ecr-sysadmin-*", "arn:aws:iam::*:role/lambda-sysadmin-*"]}
    assert statements[0]["Action"][:3] == ["acm:Describe*", "acm:Get*", "acm:List*"]
    assert statements[0]["Action"][-1] == "trustedadvisor:*"


def test_list_policies_scope_local(iam):
    """MANAGED "…::TestListPoliciesScope::test_list_policies_scope_local" (its assertions)."""
    create_policy(iam, "test-policy-local")
    assert "test-policy-local" in [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]]
    assert "test-policy-local" not in [p["PolicyName"] for p in iam.list_policies(Scope="AWS", MaxItems=500)["Policies"]]


def test_list_policies_scope_aws(iam):
    """MANAGED "…::TestListPoliciesScope::test_list_policies_scope_aws" list-policies-aws-page (which policies come
    first, and their attachment counts, are the recording account's: not asserted)."""
    page = ok(iam.list_policies(Scope="AWS", MaxItems=5))
    assert (page["IsTruncated"], len(page["Policies"]), "Marker" in page) == (True, 5, True)
    for policy in page["Policies"]:
        assert set(policy) == POLICY_CREATED
        assert ":aws:policy/" in policy["Arn"]


def test_list_policies_scope_all(iam):
    """MANAGED "…::TestListPoliciesScope::test_list_policies_scope_all" (its assertions)."""
    create_policy(iam, "test-policy-all")
    pages = iam.get_paginator("list_policies").paginate().build_full_result()
    names = {p["PolicyName"] for p in pages["Policies"]}
    assert {"test-policy-all", "IAMUserChangePassword"} <= names


def test_list_policies_only_attached(iam):
    """MANAGED "…::TestListPoliciesScope::test_list_policies_only_attached" (its assertions; the listings it
    snapshots are those of test_attach_detach_aws_managed_policy_role)."""
    create_role(iam, "role-only-attached")
    emr = "arn:aws:iam::aws:policy/service-role/AmazonElasticMapReduceRole"
    control_tower = "arn:aws:iam::aws:policy/service-role/AWSControlTowerServiceRolePolicy"
    for arn in (emr, control_tower):
        iam.attach_role_policy(RoleName="role-only-attached", PolicyArn=arn)
    attached = iam.list_policies(OnlyAttached=True)["Policies"]
    assert {"AmazonElasticMapReduceRole", "AWSControlTowerServiceRolePolicy"} <= {p["PolicyName"] for p in attached}
    assert all(p["AttachmentCount"] > 0 for p in attached)
    iam.detach_role_policy(RoleName="role-only-attached", PolicyArn=emr)
    attached = iam.list_policies(OnlyAttached=True)["Policies"]
    names = {p["PolicyName"] for p in attached}
    assert "AWSControlTowerServiceRolePolicy" in names and "AmazonElasticMapReduceRole" not in names
    assert all(p["AttachmentCount"] > 0 for p in attached)


# --------------------------------------------------------------------------------------- customer managed policies


@pytest.mark.parametrize("path", ["/test/path/", "/", None], ids=["/test/path/", "/", "None"])
def test_policy_lifecycle(shared, path):
    """POLICIES "…::TestPolicies::test_policy_lifecycle[<path>]": create-policy-response (no Tags),
    get-policy-response (Tags: []), filtered-policy-list, delete-policy-response."""
    iam = client(shared, "iam")
    name = f"test-policy-lifecycle-{['/test/path/', '/', None].index(path)}"
    created = create_policy(iam, name, document=LIST_USERS, **({"Path": path} if path else {}))
    assert set(created) == POLICY_CREATED
    expected_path = path or "/"
    assert (created["Arn"], created["Path"], created["DefaultVersionId"], created["AttachmentCount"]) == (
        f"arn:aws:iam::{ACCOUNT}:policy{expected_path}{name}", expected_path, "v1", 0
    )
    got = ok(iam.get_policy(PolicyArn=created["Arn"]))["Policy"]
    assert set(got) == POLICY_GOT and got["Tags"] == []
    listed = [p for p in iam.list_policies()["Policies"] if p["PolicyName"] == name]
    assert [set(p) for p in listed] == [POLICY_CREATED]
    assert set(ok(iam.delete_policy(PolicyArn=created["Arn"]))) == {"ResponseMetadata"}


def test_policy_errors(iam):
    """POLICIES "…::TestPolicies::test_policy_errors" create-policy-response, policy-already-exists."""
    create_policy(iam, "test-policy-twice", document=LIST_USERS)
    assert refused(iam.create_policy, PolicyName="test-policy-twice", PolicyDocument=json.dumps(LIST_USERS)) == (
        409, "Sender", "EntityAlreadyExists",
        "A policy called test-policy-twice already exists. Duplicate names are not allowed.",
    )


def test_delete_non_existent_policy_returns_no_such_entity(iam):
    """IAM "…::TestIAMIntegrations::test_delete_non_existent_policy_returns_no_such_entity" (validated; the 2023
    version of the test asserts the code, the stored snapshot lacks the later key)."""
    assert refused(iam.delete_policy, PolicyArn=policy_arn("non-existent-policy"))[2] == "NoSuchEntity"


def versions(iam, arn) -> list:
    listed = ok(iam.list_policy_versions(PolicyArn=arn))
    assert listed["IsTruncated"] is False
    assert all(set(v) == VERSION_MEMBERS for v in listed["Versions"])
    return [(v["VersionId"], v["IsDefaultVersion"]) for v in listed["Versions"]]


def test_policy_version_lifecycle(iam):
    """POLICIES "…::TestPolicies::test_policy_version_lifecycle": create-policy, create-version-v2 (no Document),
    get-version-v2, create-version-v3, get-version-v3, list-versions (newest first)."""
    arn = create_policy(iam, "policy-versions", document=LIST_USERS)["Arn"]
    v2 = ok(iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(LIST_BUCKET), SetAsDefault=True))
    assert set(v2["PolicyVersion"]) == VERSION_MEMBERS
    assert (v2["PolicyVersion"]["VersionId"], v2["PolicyVersion"]["IsDefaultVersion"]) == ("v2", True)
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]
    assert set(got) == VERSION_MEMBERS | {"Document"}
    assert (got["Document"], got["IsDefaultVersion"]) == (LIST_BUCKET, True)
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    v3 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(DESCRIBE_INSTANCES))["PolicyVersion"]
    assert (v3["VersionId"], v3["IsDefaultVersion"]) == ("v3", False)
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]
    assert (got["Document"], got["IsDefaultVersion"]) == (DESCRIBE_INSTANCES, False)
    assert versions(iam, arn) == [("v3", False), ("v2", True)]


def test_policy_version_set_default(iam):
    """POLICIES "…::TestPolicies::test_policy_version_set_default": list-after-create, set-default-v1,
    list-after-set-default."""
    arn = create_policy(iam, "policy-set-default", document=LIST_USERS)["Arn"]
    for document in (LIST_BUCKET, DESCRIBE_INSTANCES):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)
    assert versions(iam, arn) == [("v3", True), ("v2", False), ("v1", False)]
    assert set(ok(iam.set_default_policy_version(PolicyArn=arn, VersionId="v1"))) == {"ResponseMetadata"}
    assert versions(iam, arn) == [("v3", False), ("v2", False), ("v1", True)]


def test_policy_version_limit(iam):
    """POLICIES "…::TestPolicies::test_policy_version_limit": err-version-limit-exceeded, list-versions-at-limit,
    create-version-after-delete (v6: ids are not reused)."""
    arn = create_policy(iam, "policy-version-limit", document=LIST_USERS)["Arn"]
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(LIST_USERS))
    assert refused(iam.create_policy_version, PolicyArn=arn, PolicyDocument=json.dumps(LIST_USERS)) == (
        409, "Sender", "LimitExceeded",
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
    )
    assert versions(iam, arn) == [("v5", False), ("v4", False), ("v3", False), ("v2", False), ("v1", True)]
    iam.delete_policy_version(PolicyArn=arn, VersionId="v5")
    created = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(LIST_USERS))["PolicyVersion"]
    assert (created["VersionId"], created["IsDefaultVersion"]) == ("v6", False)


def test_policy_version_errors(iam):
    """POLICIES "…::TestPolicies::test_policy_version_errors": err-get-version-nonexistent-policy,
    err-get-nonexistent-version, err-delete-default-version, err-delete-nonexistent-version,
    err-set-default-nonexistent-policy, err-set-default-invalid-version-format, err-set-default-nonexistent-version,
    list-after-delete."""
    arn = create_policy(iam, "policy-version-errors", document=LIST_USERS)["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(LIST_BUCKET))
    missing = policy_arn("TestNonExistingPolicy")
    assert refused(iam.get_policy_version, PolicyArn=missing, VersionId="v1") == not_found(
        f"Policy {missing} version v1 does not exist or is not attachable."
    )
    v9 = not_found(f"Policy {arn} version v9 does not exist or is not attachable.")
    assert refused(iam.get_policy_version, PolicyArn=arn, VersionId="v9") == v9
    assert refused(iam.delete_policy_version, PolicyArn=arn, VersionId="v1") == (
        409, "Sender", "DeleteConflict", "Cannot delete the default version of a policy."
    )
    assert refused(iam.delete_policy_version, PolicyArn=arn, VersionId="v9") == v9
    assert refused(iam.set_default_policy_version, PolicyArn=missing, VersionId="v1") == not_found(
        f"Policy {missing} version v1 does not exist or is not attachable."
    )
    assert refused(iam.set_default_policy_version, PolicyArn=arn, VersionId="wrong_version_id") == one_violation(
        f"Value at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: {VERSION_ID_PATTERN}"
    )
    assert refused(iam.set_default_policy_version, PolicyArn=arn, VersionId="v4") == not_found(
        f"Policy {arn} version v4 does not exist or is not attachable."
    )
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    assert versions(iam, arn) == [("v1", True)]


def test_policy_tag_lifecycle(iam):
    """POLICIES "…::TestPolicyTags::test_policy_tag_lifecycle", the steps without ListPolicyTags (which the emulator
    does not serve): create-with-tags (Tags, but not the Description given), get-with-tags (both),
    create-with-empty-tag-value, get-without-tags (Tags: []), create-with-case-sensitive-tags (a and A are two keys)."""
    two = [{"Key": "somekey", "Value": "somevalue"}, {"Key": "someotherkey", "Value": "someothervalue"}]
    created = create_policy(iam, "policy-tags-1", document=LIST_USERS, Tags=two, Description="testing")
    assert set(created) == POLICY_CREATED | {"Tags"}
    assert created["Tags"] == two
    got = iam.get_policy(PolicyArn=created["Arn"])["Policy"]
    assert set(got) == POLICY_GOT | {"Description"}
    assert (got["Tags"], got["Description"]) == (two, "testing")
    empty = [{"Key": "somekey", "Value": ""}]
    assert create_policy(iam, "policy-tags-2", document=LIST_USERS, Tags=empty)["Tags"] == empty
    untagged = create_policy(iam, "policy-tags-3", document=LIST_USERS)
    assert iam.get_policy(PolicyArn=untagged["Arn"])["Policy"]["Tags"] == []
    cased = [{"Key": "a", "Value": "lowercase"}, {"Key": "A", "Value": "uppercase"}]
    assert create_policy(iam, "policy-tags-4", document=LIST_USERS, Tags=cased)["Tags"] == cased


def test_policy_tag_order(iam):
    """POLICIES "…::TestPolicyTags::test_policy_tag_order" create-with-case-sensitive-tags: CreatePolicy shows the
    tags in the order given (the test's code is not in the stored copy; the values first … fourth name the order)."""
    tags = [{"Key": "abc", "Value": "first"}, {"Key": "b", "Value": "second"}, {"Key": "z", "Value": "third"},
            {"Key": "a", "Value": "fourth"}]
    assert create_policy(iam, "policy-tag-order", document=LIST_USERS, Tags=tags)["Tags"] == tags


@pytest.mark.parametrize(
    "key, tags, expected",
    [
        ("err-too-many-tags", [{"Key": str(x), "Value": str(x)} for x in range(51)],
         one_violation("Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")),
        ("err-duplicate-keys", [{"Key": "0", "Value": ""}, {"Key": "0", "Value": ""}],
         invalid("InvalidInput", "Duplicate tag keys found.")),
        ("err-large-key", [{"Key": "0" * 129, "Value": ""}], one_violation(
            "Value at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128")),
        ("err-large-value", [{"Key": "0", "Value": "0" * 257}], one_violation(
            "Value at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")),
        ("err-invalid-character", [{"Key": "NOWAY!", "Value": ""}], one_violation(
            f"Value at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: {TAG_PATTERN}")),
    ],
    ids=["err-too-many-tags", "err-duplicate-keys", "err-large-key", "err-large-value", "err-invalid-character"],
)
def test_policy_tag_create_errors(shared, key, tags, expected):
    """POLICIES "…::TestPolicyTags::test_policy_tag_create_errors" (the key is the case's id)."""
    iam = client(shared, "iam")
    assert refused(iam.create_policy, PolicyName=f"test-policy-{key}", PolicyDocument=json.dumps(LIST_USERS), Tags=tags) == expected


# ------------------------------------------------------------------------------------ the policy grammar, 129 cases
#
# POLICIES "…::TestPolicyDocumentValidity::test_create_policy_invalid_document[invalid-N]" error and
# "…::test_create_policy_valid_document[valid-N]" response: CreatePolicy with each document, N its index below.

BUCKET = "arn:aws:s3:::example_bucket"


def st(extra=None, drop=()) -> dict:
    """A statement IAM accepts, with `extra` elements set and `drop` ones removed."""
    statement = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET}
    for element in drop:
        del statement[element]
    statement.update(extra or {})
    return statement


def v12(statement, **top) -> dict:
    return {"Version": "2012-10-17", "Statement": statement, **top}


def condition(block) -> dict:
    return v12(st({"Condition": block}))


def partition(found: str, resource: str) -> str:
    return f'Partition "{found}" is not valid for resource "{resource}".'


def arn_format(resource: str) -> str:
    return f'Resource {resource} must be in ARN format or "*".'


DUPLICATE_SIDS = [st({"Sid": "sdf"}), {"Sid": "sdf", "Effect": "Allow"}]
BAD_DATE = {"DateGreaterThan": {"a": "sdfdsf"}}

INVALID = [
    ("This is not a json document", SYNTAX),  # 0
    ({"Statement": st()}, VERSION),
    ({"Version": "2008-10-17", "Statement": st()}, VERSION),
    ({"Version": "2013-10-17", "Statement": st()}, SYNTAX),
    ({"Version": "2012-10-17"}, SYNTAX),
    (v12(["afd"]), SYNTAX),  # 5
    (v12(st(), **{"Extra field": "value"}), SYNTAX),
    (v12(st({"Extra field": "value"})), SYNTAX),
    (v12(st(), Id=["cd3a324d2343d942772346-34234234423404-4c2242343242349d1642ee"]), SYNTAX),
    (v12(st(), Id={}), SYNTAX),
    (v12(st({"Effect": "invalid"})), SYNTAX),  # 10
    (v12(st({"Action": "invalid"})), VENDOR),
    (v12(st({"NotAction": ""}, drop=["Action"])), VENDOR),
    (v12(st({"Action": "a a:ListBucket"})), "Vendor a a is not valid"),
    (v12(st({"Action": "s3:List:Bucket"})), ONE_COLON),
    (v12([st({"Action": "s3s:ListBucket"}), st({"Action": "s:3s:ListBucket"})]), ONE_COLON),  # 15
    (v12(st({"Resource": "invalid resource"})), arn_format("invalid resource")),
    (v12([
        {"Sid": "EnableDisableHongKong", "Effect": "Allow", "Action": ["account:EnableRegion", "account:DisableRegion"],
         "Resource": "", "Condition": {"StringEquals": {"account:TargetRegion": "ap-east-1"}}},
        {"Sid": "ViewConsole", "Effect": "Allow", "Action": ["aws-portal:ViewAccount", "account:ListRegions"], "Resource": ""},
    ]), arn_format("")),
    (v12(st({"Action": "s:3:ListBucket", "Resource": "sdfsadf"})), arn_format("sdfsadf")),
    (v12(st({"Resource": ["adf"]})), arn_format("adf")),
    (v12(st({"Resource": ""})), arn_format("")),  # 20
    (v12(st({"NotAction": "s3s:ListBucket", "Resource": "a:bsdfdsafsad"}, drop=["Action"])),
     partition("bsdfdsafsad", "arn:bsdfdsafsad:*:*:*:*")),
    (v12(st({"NotAction": "s3s:ListBucket", "Resource": "a:b:cadfsdf"}, drop=["Action"])), partition("b", "arn:b:cadfsdf:*:*:*")),
    (v12(st({"NotAction": "s3s:ListBucket", "Resource": "a:b:c:d:e:f:g:h"}, drop=["Action"])), partition("b", "arn:b:c:d:e:f:g:h")),
    (v12(st({"Resource": "aws:s3:::example_bucket"})), partition("s3", "arn:s3:::example_bucket:*")),
    (v12(st({"Resource": ["arn:error:s3:::example_bucket", "arn:error:s3::example_bucket"]})),  # 25
     partition("error", "arn:error:s3:::example_bucket")),
    (v12([]), SYNTAX),
    (v12(st(drop=["Resource"])), RESOURCES),
    (v12(st({"Resource": []})), RESOURCES),
    (v12({"Effect": "Allow", "Action": "invalid"}), RESOURCES),
    (v12(st(drop=["Action"])), ACTIONS),  # 30
    (v12(st(drop=["Effect"])), SYNTAX),
    (v12({"Effect": "Allow"}), ACTIONS),
    (v12(st({"Action": []})), ACTIONS),
    (v12([{"Effect": "Deny"}, st()]), ACTIONS),
    (v12(st({"Resource": "arn:aws:iam:::example_bucket"})),  # 35
     'IAM resource path must either be "*", root, or start with user/, federated-user/, role/, group/, '
     "instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, "
     "access-report/."),
    (v12(st({"Resource": "arn:aws:s3::example_bucket"})), LEGACY),
    (v12({"Effect": "Allow", "Resource": "arn:aws:s3::example_bucket"}), LEGACY),
    (v12(st({"Resource": "arn:aws"})), "Resource vendor must be fully qualified and cannot contain regexes."),
    (v12(st({"Resource": {"a": BUCKET}})), SYNTAX),
    (v12(st({"Effect": "Deny", "Resource": ["adfdf", {}]})), SYNTAX),  # 40
    (v12(st({"NotAction": "s3:ListBucket", "NotResource": []}, drop=["Action"])), SYNTAX),
    (v12(st({"Effect": "Deny", "Action": [[]]})), SYNTAX),
    (v12(st({"NotAction": "s3s:ListBucket", "Action": []})), SYNTAX),
    (v12(st({"Action": {}})), SYNTAX),
    (condition([]), SYNTAX),  # 45
    (condition("a"), SYNTAX),
    (condition({"a": "b"}), SYNTAX),
    (condition({"DateGreaterThan": "b"}), SYNTAX),
    (condition({"DateGreaterThan": []}), SYNTAX),
    (condition({"DateGreaterThan": {"a": {}}}), SYNTAX),  # 50
    (v12(st({"Condition": {"DateGreaterThan": {"a": {}}}}, drop=["Action"])), SYNTAX),
    (condition({"x": {"a": "1"}}), SYNTAX),
    (condition({"ForAnyValue::StringEqualsIfExists": {"a": "asf"}}), SYNTAX),
    (condition([{"ForAllValues:StringEquals": {"aws:TagKeys": "Department"}}]), SYNTAX),
    (v12(st({"Resource": "arn:aws:iam:us-east-1::example_bucket"})),  # 55
     "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information."),
    (v12(st({"Resource": "arn:aws:s3:us-east-1::example_bucket"})),
     "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information."),
    (v12(st({"Sid": {}})), SYNTAX),
    (v12(st({"Sid": []})), SYNTAX),
    (v12(DUPLICATE_SIDS), "Statement IDs (SID) in a single policy must be unique."),
    ({"Statement": DUPLICATE_SIDS}, VERSION),  # 60
    (v12(st({"NotAction": "s3:ListBucket", "Action": "iam:dsf"})), SYNTAX),
    (v12(st({"NotResource": "*"})), SYNTAX),
    (v12(st({"Effect": "denY"})), LEGACY),
    (condition(BAD_DATE), LEGACY),
    ({"Statement": st({"Condition": BAD_DATE})}, VERSION),  # 65
    ({"Statement": st({"Effect": "denY"})}, VERSION),
    (v12({"Effect": "Allow", "Condition": BAD_DATE}), LEGACY),
    (v12(st({"NotAction": "s3:ListBucket", "Resource": "arn:aws::::example_bucket"}, drop=["Action"])), LEGACY),
    (v12({"Effect": "allow", "Resource": "arn:aws:s3:us-east-1::example_bucket"}), LEGACY),
    (v12([st({"Sid": "sdf", "Effect": "aLLow"}), {"Sid": "sdf", "Effect": "Allow"}]), LEGACY),  # 70
    (v12(st({"NotResource": "arn:aws:s3::example_bucket"}, drop=["Resource"])), LEGACY),
    (condition({"DateLessThanEquals": {"a": "234-13"}}), LEGACY),
    (condition({"DateLessThanEquals": {"a": "2016-12-13t2:00:00.593194+1"}}), LEGACY),
    (condition({"DateLessThanEquals": {"a": "2016-12-13t2:00:00.1999999999+10:59"}}), LEGACY),
    (condition({"DateLessThan": {"a": "9223372036854775808"}}), LEGACY),  # 75
    (v12(st({"Resource": "arn:error:s3:::example_bucket", "Condition": BAD_DATE})), LEGACY),
    (v12(st({"Resource": "arn:aws::fdsasf"})), LEGACY),
]


@pytest.mark.parametrize("document, message", INVALID, ids=[f"invalid-{i}" for i in range(len(INVALID))])
def test_create_policy_invalid_document(shared, document, message, request):
    iam = client(shared, "iam")
    name = f"test-policy-{request.node.callspec.id}"
    text = document if isinstance(document, str) else json.dumps(document)
    assert refused(iam.create_policy, PolicyName=name, PolicyDocument=text) == invalid("MalformedPolicyDocument", message)


def self_service(*sids_actions) -> list:
    return [{"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": "arn:aws:iam::*:user/${aws:username}"}
            for sid, actions in sids_actions]


OWN_CREDENTIALS = [
    ("AllowManageOwnPasswords", ["iam:ChangePassword", "iam:GetUser"]),
    ("AllowManageOwnAccessKeys", ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys", "iam:UpdateAccessKey"]),
    ("AllowManageOwnSigningCertificates", ["iam:DeleteSigningCertificate", "iam:ListSigningCertificates",
                                           "iam:UpdateSigningCertificate", "iam:UploadSigningCertificate"]),
    ("AllowManageOwnSSHPublicKeys", ["iam:DeleteSSHPublicKey", "iam:GetSSHPublicKey", "iam:ListSSHPublicKeys",
                                     "iam:UpdateSSHPublicKey", "iam:UploadSSHPublicKey"]),
    ("AllowManageOwnGitCredentials", ["iam:CreateServiceSpecificCredential", "iam:DeleteServiceSpecificCredential",
                                      "iam:ListServiceSpecificCredentials", "iam:ResetServiceSpecificCredential",
                                      "iam:UpdateServiceSpecificCredential"]),
]
CURRENT_TIME = {"DateGreaterThan": {"aws:CurrentTime": "2017-07-01T00:00:00Z"},
                "DateLessThan": {"aws:CurrentTime": "2017-12-31T23:59:59Z"}}
ATTACH_DETACH = ["ec2:AttachVolume", "ec2:DetachVolume"]
COGNITO = "cognito/application-name/${cognito-identity.amazonaws.com:sub}"

VALID = [
    v12(st({"Resource": [BUCKET]})),  # 0
    v12(st({"Action": "iam: asdf safdsf af "})),
    v12(st({"Resource": [BUCKET, "*"]})),
    v12(st({"Action": "*"})),
    v12([st()]),
    v12(st({"Action": "service-prefix:action-name", "Resource": "*", "Condition": CURRENT_TIME})),  # 5
    v12(st({"Action": "fsx:ListBucket"})),
    v12(st({"Resource": "arn:aws:iam:::user/example_bucket"})),
    v12(st({"Resource": "arn:aws:s33:::example_bucket"})),
    v12(st({"Resource": "arn:aws:fdsasf"})),
    condition({}),  # 10
    condition({"ForAllValues:StringEquals": {"aws:TagKeys": "Department"}}),
    v12(st({"Resource": "arn:aws:cloudwatch:us-east-1::example_bucket"})),
    v12(st({"Resource": "arn:aws:ec2:us-east-1::example_bucket"})),
    v12(st({"Resource": "arn:aws:invalid-service:::example_bucket"})),
    v12(st({"Resource": "arn:aws:invalid-service:us-east-1::example_bucket"})),  # 15
    condition(CURRENT_TIME),
    condition({"DateGreaterThan": {}}),
    condition({"DateGreaterThan": {"a": []}}),
    condition({"a": {}}),
    v12(st({"Sid": "dsfsdfsdfsdfsdfsadfsd"})),  # 20
    v12([
        {"Sid": "ConsoleDisplay", "Effect": "Allow", "Resource": "*", "Action": [
            "iam:GetRole", "iam:GetUser", "iam:ListRoles", "iam:ListRoleTags", "iam:ListUsers", "iam:ListUserTags"]},
        {"Sid": "AddTag", "Effect": "Allow", "Action": ["iam:TagUser", "iam:TagRole"], "Resource": "*", "Condition": {
            "StringEquals": {"aws:RequestTag/CostCenter": ["A-123", "B-456"]},
            "ForAllValues:StringEquals": {"aws:TagKeys": "CostCenter"}}},
    ]),
    v12(st({"NotAction": "s3:ListBucket"}, drop=["Action"])),
    v12({"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}),
    v12(st({"NotAction": "s3:ListBucket"}, drop=["Action"]), Id="sdfsdfsdf"),
    v12(st({"Action": "aaaaaadsfdsafsadfsadfaaaaa:ListBucket"})),  # 25
    v12(st({"Action": "s3-s:ListBucket"})),
    v12(st({"Action": "s3.s:ListBucket"})),
    v12({"Effect": "Allow", "NotAction": "s3:ListBucket", "NotResource": "*"}),
    v12([st({"Sid": "sdf"}), st()]),
    condition({"DateGreaterThan": {"a": "01T"}}),  # 30
    condition({"x": {}, "y": {}}),
    condition({"StringEqualsIfExists": {"a": "asf"}}),
    condition({"ForAnyValue:StringEqualsIfExists": {"a": "asf"}}),
    condition({"DateLessThanEquals": {"a": "2019-07-01T13:20:15Z"}}),
    condition({"DateLessThanEquals": {"a": "2016-12-13T21:20:37.593194+00:00"}}),  # 35
    condition({"DateLessThanEquals": {"a": "2016-12-13t2:00:00.593194+23"}}),
    condition({"DateLessThan": {"a": "-292275054"}}),
    v12([
        {"Sid": "AllowViewAccountInfo", "Effect": "Allow", "Resource": "*", "Action": [
            "iam:GetAccountPasswordPolicy", "iam:GetAccountSummary", "iam:ListVirtualMFADevices"]},
        *self_service(*OWN_CREDENTIALS),
        {"Sid": "AllowManageOwnVirtualMFADevice", "Effect": "Allow",
         "Action": ["iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"], "Resource": "arn:aws:iam::*:mfa/${aws:username}"},
        *self_service(("AllowManageOwnUserMFA", ["iam:DeactivateMFADevice", "iam:EnableMFADevice", "iam:ListMFADevices",
                                                 "iam:ResyncMFADevice"])),
        {"Sid": "DenyAllExceptListedIfNoMFA", "Effect": "Deny", "Resource": "*", "NotAction": [
            "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices",
            "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "sts:GetSessionToken"],
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}},
    ]),
    v12([
        {"Sid": "ListAndDescribe", "Effect": "Allow", "Resource": "*", "Action": [
            "dynamodb:List*", "dynamodb:DescribeReservedCapacity*", "dynamodb:DescribeLimits", "dynamodb:DescribeTimeToLive"]},
        {"Sid": "SpecificTable", "Effect": "Allow", "Resource": "arn:aws:dynamodb:*:*:table/MyTable", "Action": [
            "dynamodb:BatchGet*", "dynamodb:DescribeStream", "dynamodb:DescribeTable", "dynamodb:Get*", "dynamodb:Query",
            "dynamodb:Scan", "dynamodb:BatchWrite*", "dynamodb:CreateTable", "dynamodb:Delete*", "dynamodb:Update*",
            "dynamodb:PutItem"]},
    ]),
    v12([{"Effect": "Allow", "Action": ATTACH_DETACH, "Resource": ["arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*:*:instance/*"],  # 40
          "Condition": {"ArnEquals": {"ec2:SourceInstanceARN": "arn:aws:ec2:*:*:instance/instance-id"}}}]),
    v12([
        {"Effect": "Allow", "Action": ATTACH_DETACH, "Resource": "arn:aws:ec2:*:*:instance/*",
         "Condition": {"StringEquals": {"ec2:ResourceTag/Department": "Development"}}},
        {"Effect": "Allow", "Action": ATTACH_DETACH, "Resource": "arn:aws:ec2:*:*:volume/*",
         "Condition": {"StringEquals": {"ec2:ResourceTag/VolumeUser": "${aws:username}"}}},
    ]),
    v12([{"Sid": "StartStopIfTags", "Effect": "Allow", "Action": ["ec2:StartInstances", "ec2:StopInstances", "ec2:DescribeTags"],
          "Resource": "arn:aws:ec2:region:account-id:instance/*", "Condition": {"StringEquals": {
              "ec2:ResourceTag/Project": "DataAnalytics", "aws:PrincipalTag/Department": "Data"}}}]),
    v12([
        {"Sid": "ListYourObjects", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": ["arn:aws:s3:::bucket-name"],
         "Condition": {"StringLike": {"s3:prefix": [COGNITO]}}},
        {"Sid": "ReadWriteDeleteYourObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": [f"arn:aws:s3:::bucket-name/{COGNITO}", f"arn:aws:s3:::bucket-name/{COGNITO}/*"]},
    ]),
    v12([
        {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::bucket-name",
         "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:userid}/*"]}}},
        {"Effect": "Allow", "Action": "s3:*", "Resource": [
            "arn:aws:s3:::bucket-name/home/${aws:userid}", "arn:aws:s3:::bucket-name/home/${aws:userid}/*"]},
    ]),
    v12([  # 45
        {"Sid": "ConsoleAccess", "Effect": "Allow", "Resource": "*", "Action": [
            "s3:GetAccountPublicAccessBlock", "s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketPolicyStatus",
            "s3:GetBucketPublicAccessBlock", "s3:ListAllMyBuckets"]},
        {"Sid": "ListObjectsInBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": ["arn:aws:s3:::bucket-name"]},
        {"Sid": "AllObjectActions", "Effect": "Allow", "Action": "s3:*Object", "Resource": ["arn:aws:s3:::bucket-name/*"]},
    ]),
    v12([
        {"Sid": "AllowViewAccountInfo", "Effect": "Allow", "Resource": "*",
         "Action": ["iam:GetAccountPasswordPolicy", "iam:GetAccountSummary"]},
        *self_service(*OWN_CREDENTIALS),
    ]),
    v12([{"Action": "ec2:*", "Resource": "*", "Effect": "Allow", "Condition": {"StringEquals": {"ec2:Region": "region"}}}]),
    v12([{"Effect": "Allow", "Action": "rds:*", "Resource": ["arn:aws:rds:region:*:*"]},
         {"Effect": "Allow", "Action": ["rds:Describe*"], "Resource": ["*"]}]),
    v12([{"Sid": "", "Effect": "Allow", "Action": "rds:*", "Resource": ["arn:aws:rds:region:*:*"]},
         {"Sid": "", "Effect": "Allow", "Action": ["rds:Describe*"], "Resource": ["*"]}]),
    v12([{"Sid": "", "Effect": "Allow", "Action": ["s3:*"], "Resource": [  # 50
        "arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point",
        "arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point/object/*"]}]),
]


@pytest.mark.parametrize("document", VALID, ids=[f"valid-{i}" for i in range(len(VALID))])
def test_create_policy_valid_document(shared, document, request):
    iam = client(shared, "iam")
    name = f"test-policy-{request.node.callspec.id}"
    created = create_policy(iam, name, document=document)
    assert set(created) == POLICY_CREATED
    assert (created["DefaultVersionId"], created["Path"], created["AttachmentCount"]) == ("v1", "/", 0)


def test_the_tables_hold_every_recorded_case():
    assert (len(INVALID), len(VALID)) == (78, 51)
