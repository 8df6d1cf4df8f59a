"""The real AWS CLI's pagination (--page-size, --max-items, --starting-token, --no-paginate) over the IAM
listings of a role's policies, its tags and a policy's versions: the CLI follows IsTruncated/Marker as against
AWS."""

import json

from conftest import run_shell


def aws(emulator, cwd, command: str) -> dict:
    out = run_shell(f"aws {command} --output json", emulator.env(), cwd)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_cli_paginates_role_policies_and_versions(emulator, tmp_path):
    iam = emulator.boto3("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="pager", AssumeRolePolicyDocument=json.dumps(trust))

    def policy(action: str) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})

    inline = [f"inline-{i}" for i in range(5)]
    for name in inline:
        iam.put_role_policy(RoleName="pager", PolicyName=name, PolicyDocument=policy("sqs:*"))
    attached = []
    for i in range(5):
        arn = iam.create_policy(PolicyName=f"managed-{i}", PolicyDocument=policy("s3:GetObject"))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="pager", PolicyArn=arn)
        attached.append(arn)
    versioned = attached[0]
    for action in ["s3:PutObject", "s3:ListBucket", "s3:*"]:
        iam.create_policy_version(PolicyArn=versioned, PolicyDocument=policy(action))

    # --page-size: the CLI sends MaxItems=2 and follows the markers to the end.
    assert aws(emulator, tmp_path, "iam list-role-policies --role-name pager --page-size 2")["PolicyNames"] == inline
    got = aws(emulator, tmp_path, "iam list-attached-role-policies --role-name pager --page-size 2")
    assert [p["PolicyArn"] for p in got["AttachedPolicies"]] == sorted(attached)
    got = aws(emulator, tmp_path, f"iam list-policy-versions --policy-arn {versioned} --page-size 3")
    assert [v["VersionId"] for v in got["Versions"]] == ["v4", "v3", "v2", "v1"]

    tags = [{"Key": f"k{i}", "Value": str(i)} for i in range(7)]
    iam.tag_role(RoleName="pager", Tags=tags)
    assert aws(emulator, tmp_path, "iam list-role-tags --role-name pager --page-size 3")["Tags"] == tags

    # --max-items across pages: the CLI's NextToken resumes where the emulator's Marker left off.
    first = aws(emulator, tmp_path, "iam list-role-policies --role-name pager --page-size 2 --max-items 3")
    assert first["PolicyNames"] == inline[:3]
    rest = aws(
        emulator,
        tmp_path,
        f"iam list-role-policies --role-name pager --page-size 2 --starting-token {first['NextToken']}",
    )
    assert rest["PolicyNames"] == inline[3:]
    assert "NextToken" not in rest

    # --no-paginate: one request, and the service's own IsTruncated/Marker in the output.
    one = aws(emulator, tmp_path, "iam list-attached-role-policies --role-name pager --no-paginate --max-items 2")
    assert len(one["AttachedPolicies"]) == 2
    assert one["IsTruncated"] is True and one["Marker"]

    # MaxItems out of range: AWS's ValidationError, as the CLI prints it.
    out = run_shell("aws iam list-role-policies --role-name pager --no-paginate --max-items 1001", emulator.env(), tmp_path)
    assert out.returncode != 0
    assert "ValidationError" in out.stderr, out.stderr
    assert "Member must have value less than or equal to 1000" in out.stderr, out.stderr
