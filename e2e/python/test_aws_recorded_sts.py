"""STS as AWS answered it: requests whose answers were recorded against real AWS, replayed against the emulator.

The answers are LocalStack's recordings (github.com/localstack/localstack, Apache-2.0): tests marked
`@markers.aws.validated` in tests/aws/services/sts/test_sts.py, with AWS's responses in test_sts.snapshot.json
(cited below as STS "<test id>" <snapshot key>; recorded June 2024 to February 2026). Only the facts are taken; the
tests are ours. See test_aws_recorded_iam.py for how cases were chosen and placeholders mapped.

Left out: GetFederationToken (test_get_federation_token) and IAM users (test_get_caller_identity_with_iam_user_credentials),
which the emulator does not serve.
"""

import json

import boto3
import pytest
from botocore.config import Config

from conftest import ACCOUNT, ADMIN_KEY, ADMIN_SECRET, refused


def client(emulator, service: str, validate=True, credentials=None):
    keys = credentials or {"AccessKeyId": ADMIN_KEY, "SecretAccessKey": ADMIN_SECRET}
    return boto3.client(
        service, endpoint_url=emulator.url, verify=str(emulator.ca), region_name=emulator.region,
        aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys.get("SessionToken"), config=Config(parameter_validation=validate),
    )


def trusting_the_account(actions) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Action": actions, "Principal": {"AWS": ACCOUNT}, "Effect": "Allow"}]})


def role(emulator, name, actions="sts:AssumeRole") -> dict:
    return client(emulator, "iam").create_role(RoleName=name, AssumeRolePolicyDocument=trusting_the_account(actions))["Role"]


def test_assume_role(emulator):
    """STS "…::TestSTSIntegrations::test_assume_role" create-role (the account id kept as given), assume-role (no
    PackedPolicySize without a session policy)."""
    created = role(emulator, "role-assumed")
    assert created["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"AWS": ACCOUNT}
    response = client(emulator, "sts").assume_role(RoleArn=created["Arn"], RoleSessionName="test-assume-role")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert set(response) == {"AssumedRoleUser", "Credentials", "ResponseMetadata"}
    assert response["AssumedRoleUser"] == {
        "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/role-assumed/test-assume-role",
        "AssumedRoleId": f"{created['RoleId']}:test-assume-role",
    }
    assert set(response["Credentials"]) == {"AccessKeyId", "Expiration", "SecretAccessKey", "SessionToken"}


def test_get_caller_identity_with_assumed_role_credentials(emulator):
    """STS "…::TestSTSCallerIdentity::test_get_caller_identity_with_assumed_role_credentials"
    caller-identity-assumed-role (UserId is masked in the recording: only its presence is asserted)."""
    created = role(emulator, "role-caller")
    keys = client(emulator, "sts").assume_role(RoleArn=created["Arn"], RoleSessionName="session-caller")["Credentials"]
    identity = client(emulator, "sts", credentials=keys).get_caller_identity()
    assert set(identity) == {"Account", "Arn", "UserId", "ResponseMetadata"}
    assert (identity["Account"], identity["Arn"]) == (ACCOUNT, f"arn:aws:sts::{ACCOUNT}:assumed-role/role-caller/session-caller")


@pytest.mark.parametrize(
    "role_arn, session, message",
    [
        ("nothing-valid-in-here", "Session1", "nothing-valid-in-here is invalid"),
        ("arn::b:::something/test-role", "Session1", "arn::b:::something/test-role is invalid"),
        ("arn:a::::something/test-role", "Session1", "arn:a::::something/test-role is invalid"),
        ("arn:a:::something/test-role", "Session1", "arn:a:::something/test-role is invalid"),
        ("arn:a:a::aaaaaaaaaa:", "Session1", "arn:a:a::aaaaaaaaaa: is invalid"),
        ("arn:a:b:::something/test-role", "Session1:2",
         "1 validation error detected: Value 'Session1:2' at 'roleSessionName' failed to satisfy constraint: "
         "Member must satisfy regular expression pattern: [\\w+=,.@-]*"),
    ],
    ids=["malformed-arn", "no-partition", "no-service", "not-enough-colons", "no-resource", "invalid-session-name"],
)
def test_sts_invalid_parameters(emulator, role_arn, session, message):
    """STS "…::TestSTSIntegrations::test_sts_invalid_parameters" (the key is the case's id); sent without the
    client's own parameter checks, as the recording's client was."""
    sts = client(emulator, "sts", validate=False)
    assert refused(sts.assume_role, RoleArn=role_arn, RoleSessionName=session) == (400, "Sender", "ValidationError", message)


def test_assume_role_session_name_too_long(emulator):
    """STS "…::TestSTSIntegrations::test_assume_role_session_name_too_long" session-name-too-long-error (the test's
    code is not in the stored copy: AssumeRole of a role that may be assumed, so that only the name is wrong)."""
    created = role(emulator, "role-long-session")
    name = "s" * 65
    assert refused(client(emulator, "sts").assume_role, RoleArn=created["Arn"], RoleSessionName=name) == (
        400, "Sender", "ValidationError",
        f"1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64",
    )


@pytest.mark.skip(reason="STS \"…::test_assume_role_with_policy\" records PackedPolicySize 16, but the session policy "
                         "it was for is not in the stored copy of the test: what AWS packs to 16 is unknown")
def test_assume_role_with_policy():
    pass


def test_assume_role_tag_validation(emulator):
    """STS "…::TestSTSAssumeRoleTagging::test_assume_role_tag_validation" invalid-transitive-tag-keys, the step in
    between (transitive keys match tags without case), duplicate-tag-keys-different-casing."""
    created = role(emulator, "role-tags", actions=["sts:AssumeRole", "sts:TagSession"])
    sts = client(emulator, "sts")
    tag = {"Key": "SessionTag1", "Value": "SessionValue1"}
    assert refused(
        sts.assume_role, RoleArn=created["Arn"], RoleSessionName="SessionInvalidTransitiveKeys", Tags=[tag],
        TransitiveTagKeys=["InvalidKey"],
    ) == (400, "Sender", "InvalidParameterValue", "The specified transitive tag key must be included in the requested tags.")
    sts.assume_role(
        RoleArn=created["Arn"], RoleSessionName="SessionInvalidCasingTransitiveKeys", Tags=[tag],
        TransitiveTagKeys=["sessiontag1"],
    )
    assert refused(
        sts.assume_role, RoleArn=created["Arn"], RoleSessionName="SessionInvalidCasingTransitiveKeys",
        Tags=[tag, {"Key": "sessiontag1", "Value": "SessionValue2"}], TransitiveTagKeys=["sessiontag1"],
    ) == (400, "Sender", "InvalidParameterValue",
          "Duplicate tag keys found. Please note that Tag keys are case insensitive.")


def test_iam_role_chaining_override_transitive_tags(emulator):
    """STS "…::TestSTSAssumeRoleTagging::test_iam_role_chaining_override_transitive_tags"
    override-transitive-tag-error, override-transitive-tag-case-ignore-error: a chained session may not set a tag
    its caller's session passes on as transitive, in any case."""
    first = role(emulator, "role-chain-1", actions=["sts:AssumeRole", "sts:TagSession"])
    second = role(emulator, "role-chain-2", actions=["sts:AssumeRole", "sts:TagSession"])
    client(emulator, "iam").put_role_policy(RoleName="role-chain-1", PolicyName="chain", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": [second["Arn"]]}],
    }))
    keys = client(emulator, "sts").assume_role(
        RoleArn=first["Arn"], RoleSessionName="Session1", Tags=[{"Key": "SessionTag1", "Value": "SessionValue1"}],
        TransitiveTagKeys=["SessionTag1"],
    )["Credentials"]
    chained = client(emulator, "sts", credentials=keys)
    conflict = (400, "Sender", "InvalidParameterValue",
                "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key "
                "from the calling session.")
    for key in ("SessionTag1", "sessiontag1"):
        assert refused(
            chained.assume_role, RoleArn=second["Arn"], RoleSessionName="Session2SessionTagOverride",
            Tags=[{"Key": key, "Value": "SessionValue2"}],
        ) == conflict, key
