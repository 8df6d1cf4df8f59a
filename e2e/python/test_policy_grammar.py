"""The policy mistakes a new user makes first, through the real AWS CLI, with IAM's words as the CLI prints them;
and the AWS managed policies IRSA set-ups attach first.

Where IAM's answers come from: the missing `file://` on create-role is "This policy contains invalid Json"
(AWSCookbook/Security#2, aws-samples/aws-microservices-deploy-options#118); on create-policy and the put-*-policy
commands it is "Syntax errors in policy." (aws/aws-cli#3501, kubernetes-sigs/aws-load-balancer-controller#1415);
a trailing comma is "Syntax errors in policy." for create-policy (aws-samples/amazon-ecs-firelens-examples#50) and
"This policy contains invalid Json" for create-role; an empty Statement and a missing Version are LocalStack's
recording of CreatePolicy against AWS (tests/aws/services/iam/test_iam_policies.snapshot.json, invalid-26 and
invalid-1)."""

import json

from conftest import run_shell

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def write(cwd, name: str, text: str) -> None:
    (cwd / name).write_text(text)


def refused(emulator, cwd, command: str, operation: str, message: str) -> None:
    out = run_shell(command, emulator.env(), cwd)
    assert out.returncode != 0, out.stdout
    expected = f"An error occurred (MalformedPolicyDocument) when calling the {operation} operation: {message}"
    assert expected in out.stderr, out.stderr


def ok(emulator, cwd, command: str) -> str:
    out = run_shell(command, emulator.env(), cwd)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_missing_file_prefix(emulator, tmp_path):
    write(tmp_path, "trust.json", json.dumps(TRUST))
    write(tmp_path, "policy.json", json.dumps(POLICY))
    refused(emulator, tmp_path, "aws iam create-role --role-name r --assume-role-policy-document trust.json",
            "CreateRole", "This policy contains invalid Json")
    refused(emulator, tmp_path, "aws iam create-policy --policy-name p --policy-document policy.json",
            "CreatePolicy", "Syntax errors in policy.")
    ok(emulator, tmp_path, "aws iam create-role --role-name r --assume-role-policy-document file://trust.json")
    refused(emulator, tmp_path, "aws iam update-assume-role-policy --role-name r --policy-document trust.json",
            "UpdateAssumeRolePolicy", "This policy contains invalid Json")
    refused(emulator, tmp_path, "aws iam put-role-policy --role-name r --policy-name p --policy-document policy.json",
            "PutRolePolicy", "Syntax errors in policy.")
    # With file:// both go through, and nothing refused was kept.
    ok(emulator, tmp_path, "aws iam create-policy --policy-name p --policy-document file://policy.json")
    names = json.loads(ok(emulator, tmp_path, "aws iam list-role-policies --role-name r --output json"))["PolicyNames"]
    assert names == []


def test_syntax_errors(emulator, tmp_path):
    trailing_comma = json.dumps(POLICY).replace('"*"}', '"*",}')
    assert trailing_comma != json.dumps(POLICY)
    write(tmp_path, "comma.json", trailing_comma)
    refused(emulator, tmp_path, "aws iam create-policy --policy-name p --policy-document file://comma.json",
            "CreatePolicy", "Syntax errors in policy.")
    write(tmp_path, "trust-comma.json", json.dumps(TRUST).replace('"sts:AssumeRole"}', '"sts:AssumeRole",}'))
    refused(emulator, tmp_path, "aws iam create-role --role-name r --assume-role-policy-document file://trust-comma.json",
            "CreateRole", "This policy contains invalid Json")
    write(tmp_path, "empty.json", json.dumps({"Version": "2012-10-17", "Statement": []}))
    refused(emulator, tmp_path, "aws iam create-policy --policy-name p --policy-document file://empty.json",
            "CreatePolicy", "Syntax errors in policy.")
    write(tmp_path, "colons.json", json.dumps(POLICY).replace("s3:GetObject", "s3:Get:Object"))
    refused(emulator, tmp_path, "aws iam create-policy --policy-name p --policy-document file://colons.json",
            "CreatePolicy", "Actions/Condition can contain only one colon.")


def test_managed_policies_need_the_current_version(emulator, tmp_path):
    unversioned = {"Statement": POLICY["Statement"]}
    write(tmp_path, "unversioned.json", json.dumps(unversioned))
    # Version is checked before anything else: this document also has an action without a vendor.
    write(tmp_path, "both.json", json.dumps({"Statement": [{"Effect": "Allow", "Action": "GetObject", "Resource": "*"}]}))
    for name in ["unversioned.json", "both.json"]:
        refused(emulator, tmp_path, f"aws iam create-policy --policy-name p --policy-document file://{name}",
                "CreatePolicy", "Policy document must be version 2012-10-17 or greater.")
    # Inline policies may leave it out.
    write(tmp_path, "trust.json", json.dumps(TRUST))
    ok(emulator, tmp_path, "aws iam create-role --role-name r --assume-role-policy-document file://trust.json")
    ok(emulator, tmp_path, "aws iam put-role-policy --role-name r --policy-name p --policy-document file://unversioned.json")


def test_aws_managed_policies_irsa_addons_attach(emulator, tmp_path):
    ebs = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    got = json.loads(ok(emulator, tmp_path, f"aws iam get-policy --policy-arn {ebs} --output json"))["Policy"]
    assert got["Path"] == "/service-role/" and got["Arn"] == ebs
    version = json.loads(ok(emulator, tmp_path,
                            f"aws iam get-policy-version --policy-arn {ebs} --version-id {got['DefaultVersionId']} "
                            "--output json"))["PolicyVersion"]
    assert version["IsDefaultVersion"] is True
    actions = [a for st in version["Document"]["Statement"] for a in st.get("Action", [])]
    assert "ec2:CreateSnapshot" in actions

    # The CLI follows the markers through all of Scope=AWS.
    listed = json.loads(ok(emulator, tmp_path, "aws iam list-policies --scope AWS --output json"))["Policies"]
    assert len(listed) > 1500
    assert len({p["Arn"] for p in listed}) == len(listed)
    jobs = json.loads(ok(emulator, tmp_path, "aws iam list-policies --scope AWS --path-prefix /job-function/ "
                                             "--query Policies[].PolicyName --output json"))
    assert "ViewOnlyAccess" in jobs

    write(tmp_path, "trust.json", json.dumps(TRUST))
    ok(emulator, tmp_path, "aws iam create-role --role-name ebs-csi --assume-role-policy-document file://trust.json")
    ok(emulator, tmp_path, f"aws iam attach-role-policy --role-name ebs-csi --policy-arn {ebs}")
    attached = json.loads(ok(emulator, tmp_path, "aws iam list-attached-role-policies --role-name ebs-csi "
                                                 "--query AttachedPolicies[].PolicyArn --output json"))
    assert attached == [ebs]
