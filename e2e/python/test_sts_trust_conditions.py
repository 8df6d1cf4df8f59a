"""AssumeRole's trust policy conditions, through boto3: the keys STS puts in the request a role's trust is
evaluated against, as the IAM User Guide documents them.

- sts:ExternalId: "Access to AWS accounts owned by third parties" (a trust policy with
  `"Condition": {"StringEquals": {"sts:ExternalId": "..."}}` admits only AssumeRole calls that pass that ExternalId).
- aws:PrincipalArn: "AWS global condition context keys" (the ARN of the principal that made the request; for a
  role session, the role's ARN, not the assumed-role ARN).
- aws:RequestTag/<key>, aws:TagKeys: "Passing session tags in AWS STS" (tags need sts:TagSession, whose statement may
  test the tags the request passes).

A refusal is AWS's AccessDenied (403) "User: <caller> is not authorized to perform: sts:AssumeRole on resource:
<role>", the message AWS gives whatever condition failed.
"""

import json

from test_aws_recorded_sts import client
from conftest import ACCOUNT, refused

ADMIN_ARN = f"arn:aws:iam::{ACCOUNT}:user/irsa-emulator-admin"


def create_role(emulator, name, statements) -> str:
    document = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return client(emulator, "iam").create_role(RoleName=name, AssumeRolePolicyDocument=document)["Role"]["Arn"]


def denied(caller: str, role_arn: str) -> tuple:
    return (403, "Sender", "AccessDenied",
            f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}")


def test_external_id_must_match_the_trust_policys(emulator):
    arn = create_role(emulator, "third-party", [{
        "Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "Unique-ID-1234"}},
    }])
    sts = client(emulator, "sts")
    assert refused(sts.assume_role, RoleArn=arn, RoleSessionName="none") == denied(ADMIN_ARN, arn)
    assert refused(sts.assume_role, RoleArn=arn, RoleSessionName="wrong", ExternalId="Other-ID") == denied(ADMIN_ARN, arn)
    granted = sts.assume_role(RoleArn=arn, RoleSessionName="right", ExternalId="Unique-ID-1234")
    assert granted["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/third-party/right"


def test_external_id_is_checked_against_its_constraints_first(emulator):
    """botocore's model: ExternalId is 2 to 1224 characters of [\\w+=,.@:\\/-]*; sent past the client's own checks."""
    arn = create_role(emulator, "third-party-short", [{
        "Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}])
    sts = client(emulator, "sts", validate=False)
    assert refused(sts.assume_role, RoleArn=arn, RoleSessionName="s1", ExternalId="x") == (
        400, "Sender", "ValidationError",
        "1 validation error detected: Value 'x' at 'externalId' failed to satisfy constraint: "
        "Member must have length greater than or equal to 2",
    )


def test_principal_arn_names_a_sessions_role(emulator):
    """A trust that admits the account only for roles named ci-*: the admin user is refused, a session of role
    ci-runner (whose own policy allows the AssumeRole) is admitted."""
    target = create_role(emulator, "deployer", [{
        "Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole",
        "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/ci-*"}},
    }])
    runner = create_role(emulator, "ci-runner", [{
        "Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}])
    client(emulator, "iam").put_role_policy(RoleName="ci-runner", PolicyName="deploy", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target}],
    }))
    sts = client(emulator, "sts")
    assert refused(sts.assume_role, RoleArn=target, RoleSessionName="admin") == denied(ADMIN_ARN, target)
    keys = sts.assume_role(RoleArn=runner, RoleSessionName="job-1")["Credentials"]
    granted = client(emulator, "sts", credentials=keys).assume_role(RoleArn=target, RoleSessionName="job-1-deploy")
    assert granted["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/job-1-deploy"


def test_tag_session_may_test_the_request_tags(emulator):
    arn = create_role(emulator, "tagged", [
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:TagSession",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "payments"},
                       "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}},
    ])
    sts = client(emulator, "sts")
    sts.assume_role(RoleArn=arn, RoleSessionName="untagged")
    sts.assume_role(RoleArn=arn, RoleSessionName="payments", Tags=[{"Key": "team", "Value": "payments"}])
    assert refused(
        sts.assume_role, RoleArn=arn, RoleSessionName="other", Tags=[{"Key": "team", "Value": "search"}],
    ) == denied(ADMIN_ARN, arn)
    assert refused(
        sts.assume_role, RoleArn=arn, RoleSessionName="extra",
        Tags=[{"Key": "team", "Value": "payments"}, {"Key": "cost-center", "Value": "42"}],
    ) == denied(ADMIN_ARN, arn)
