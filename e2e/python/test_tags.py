"""IAM tags with the real AWS CLI: the model's constraints (botocore `iam` model: `tagKeyType` 1–128 characters of
[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+, `tagValueType` ≤ 256, `tagListType` and `tagKeyListType` at most 50), reported as
400 ValidationError before any lookup; a key twice in one call → InvalidInput "Duplicate tag keys found. Please
note that Tag keys are case insensitive." (IAM's answer, as users report it), except on managed policies, whose keys
are case sensitive and whose duplicates are "Duplicate tag keys found." (AWS's answers recorded by LocalStack, see
test_aws_recorded_iam.py); more than 50 on a resource →
LimitExceeded "Cannot exceed quota for TagsPerRole: 50" (IAM quotas). Role tag keys are matched without case
but keep the case given (IAM User Guide, "Tags for IAM resources", Case sensitivity: `department=hr` replaces
`Department=finance`).
"""

import json
import subprocess

import pytest

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
DUPLICATE = "Duplicate tag keys found. Please note that Tag keys are case insensitive."


def aws(emulator, *args) -> subprocess.CompletedProcess:
    return subprocess.run(["aws", *args], env=emulator.env(), capture_output=True, text=True)


def ok(emulator, *args) -> dict:
    out = aws(emulator, *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else {}


def refused(emulator, *args) -> str:
    out = aws(emulator, *args)
    assert out.returncode != 0, f"accepted: {out.stdout}"
    return out.stderr


def tags(*pairs) -> list:
    return [f"Key={k},Value={v}" for k, v in pairs]


@pytest.fixture
def role(emulator):
    ok(emulator, "iam", "create-role", "--role-name", "app", "--assume-role-policy-document", TRUST)
    return "app"


def test_duplicate_keys_in_one_call_differing_only_in_case_are_invalid_input(emulator, role):
    err = refused(emulator, "iam", "tag-role", "--role-name", role, "--tags", *tags(("Env", "a"), ("env", "b")))
    assert f"(InvalidInput) when calling the TagRole operation: {DUPLICATE}" in err, err
    err = refused(
        emulator, "iam", "create-role", "--role-name", "other", "--assume-role-policy-document", TRUST,
        "--tags", *tags(("Team", "a"), ("TEAM", "b")),
    )
    assert f"(InvalidInput) when calling the CreateRole operation: {DUPLICATE}" in err, err
    # Nothing was made or changed by the refused calls.
    assert "NoSuchEntity" in refused(emulator, "iam", "get-role", "--role-name", "other")
    assert ok(emulator, "iam", "list-role-tags", "--role-name", role)["Tags"] == []


def test_duplicate_keys_on_policies_and_providers_too(emulator):
    document = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]})
    # A policy's keys are case sensitive, and its duplicate is worded without the note on case (AWS's answers to
    # CreatePolicy recorded by LocalStack, tests/aws/services/iam/test_iam_policies.snapshot.json
    # "…test_policy_tag_lifecycle" create-with-case-sensitive-tags, "…test_policy_tag_create_errors"
    # err-duplicate-keys).
    err = refused(
        emulator, "iam", "create-policy", "--policy-name", "p", "--policy-document", document,
        "--tags", *tags(("Owner", "a"), ("Owner", "b")),
    )
    assert "(InvalidInput) when calling the CreatePolicy operation: Duplicate tag keys found." in err, err
    assert DUPLICATE not in err, err
    created = ok(
        emulator, "iam", "create-policy", "--policy-name", "p", "--policy-document", document,
        "--tags", *tags(("Owner", "a"), ("owner", "b")),
    )
    assert created["Policy"]["Tags"] == [{"Key": "Owner", "Value": "a"}, {"Key": "owner", "Value": "b"}]
    err = refused(
        emulator, "iam", "create-open-id-connect-provider", "--url", "https://oidc.example.com/id/A",
        "--client-id-list", "sts.amazonaws.com", "--tags", *tags(("k", "1"), ("K", "2")),
    )
    assert f"(InvalidInput) when calling the CreateOpenIDConnectProvider operation: {DUPLICATE}" in err, err


def test_a_role_key_in_another_case_replaces_the_tag(emulator, role):
    ok(emulator, "iam", "tag-role", "--role-name", role, "--tags", *tags(("Department", "finance")))
    ok(emulator, "iam", "tag-role", "--role-name", role, "--tags", *tags(("department", "hr")))
    assert ok(emulator, "iam", "list-role-tags", "--role-name", role)["Tags"] == [{"Key": "department", "Value": "hr"}]
    ok(emulator, "iam", "untag-role", "--role-name", role, "--tag-keys", "DEPARTMENT")
    assert ok(emulator, "iam", "list-role-tags", "--role-name", role)["Tags"] == []


def test_more_than_50_tags_in_one_call_is_a_validation_error(emulator, role):
    many = tags(*[(f"k{i}", "v") for i in range(51)])
    err = refused(emulator, "iam", "tag-role", "--role-name", role, "--tags", *many)
    assert "(ValidationError) when calling the TagRole operation: 1 validation error detected" in err, err
    assert "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50" in err, err
    err = refused(emulator, "iam", "untag-role", "--role-name", role, "--tag-keys", *[f"k{i}" for i in range(51)])
    assert "(ValidationError) when calling the UntagRole operation" in err, err
    assert "at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to 50" in err, err
    # The model's constraints come before the lookup: a role that does not exist still gets ValidationError.
    err = refused(emulator, "iam", "tag-role", "--role-name", "missing", "--tags", *many)
    assert "ValidationError" in err and "NoSuchEntity" not in err, err


def test_the_51st_tag_on_a_role_exceeds_the_quota(emulator, role):
    ok(emulator, "iam", "tag-role", "--role-name", role, "--tags", *tags(*[(f"k{i}", "v") for i in range(50)]))
    err = refused(emulator, "iam", "tag-role", "--role-name", role, "--tags", *tags(("one-more", "v")))
    assert "(LimitExceeded) when calling the TagRole operation: Cannot exceed quota for TagsPerRole: 50" in err, err
    assert len(ok(emulator, "iam", "list-role-tags", "--role-name", role)["Tags"]) == 50


def test_tag_keys_and_values_are_checked_with_the_models_member_names(emulator, role):
    # Without the value: AWS's answer to a tag key of "invalid!key" (LocalStack's recording,
    # tests/aws/services/iam/test_iam_roles.snapshot.json "…test_role_tag_errors" tag-role-tag-invalid-char).
    err = refused(emulator, "iam", "tag-role", "--role-name", role, "--tags", *tags(("bad#key", "v")))
    assert "Value at 'tags.1.member.key' failed to satisfy constraint: " in err, err
    assert "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+" in err, err
    err = refused(emulator, "iam", "tag-role", "--role-name", role, "--tags", *tags(("ok", "v"), ("k" * 129, "v")))
    assert "at 'tags.2.member.key' failed to satisfy constraint: Member must have length less than or equal to 128" in err, err
    err = refused(emulator, "iam", "tag-role", "--role-name", role, "--tags", *tags(("k", "v" * 257)))
    assert "at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256" in err, err
    err = refused(emulator, "iam", "tag-role", "--role-name", role, "--tags", *tags(("aws:owner", "v")))
    assert "(InvalidInput) when calling the TagRole operation: User-defined tag keys can't start with the aws: prefix." in err, err
