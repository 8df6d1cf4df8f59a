"""Partitions with the real AWS CLI and boto3: an emulator serving `--region cn-north-1` (or `us-gov-west-1`) is
AWS China (GovCloud): every ARN it mints is `arn:aws-cn:` (`arn:aws-us-gov:`) — the caller, roles, OIDC providers,
assumed-role sessions, EKS clusters, AWS managed policies — and documents are validated for that partition.
botocore signs IAM there for cn-north-1 (us-gov-west-1), the partition's global IAM region, which the emulator
requires.

Sources: the ARN formats of the IAM User Guide ("IAM identifiers": `arn:aws-cn:iam::123456789012:role/…`), the
partition names of botocore's endpoint rules, and the MalformedPolicyDocument text users of AWS China report for a
commercial ARN in a policy (aws/chalice#777, kubernetes-sigs/aws-load-balancer-controller#1557):
`Partition "aws" is not valid for resource "arn:aws:s3:::…".` What IAM China answers
for a commercial managed-policy ARN given to AttachRolePolicy is 400 ValidationError "Invalid ARN partition", as users
report it from cn-northwest-1 (pulumi/pulumi-aws-apigateway#347) and GovCloud (cattle-ops/terraform-aws-gitlab-runner
#1273); IAM's 2024 notice on strict input ARNs (quoted in cloud-gov/aws-broker#383) requires the caller's partition
in every ARN passed to an IAM API, so the emulator answers the same for OIDC provider ARNs (that extension is ours:
no user report of its exact text was found).
"""

import json
import subprocess

import pytest

from conftest import ACCOUNT, Emulator, emulator_binary


@pytest.fixture(params=[("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")], ids=["china", "govcloud"])
def partitioned(request, tmp_path):
    region, partition = request.param
    emu = Emulator(data_dir=tmp_path / "data", region=region).start()
    emu.partition = partition
    yield emu
    emu.stop()


def aws(emulator, *args) -> subprocess.CompletedProcess:
    return subprocess.run(["aws", *args], env=emulator.env(), capture_output=True, text=True)


def ok(emulator, *args) -> dict:
    out = aws(emulator, *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else {}


def test_every_arn_is_in_the_regions_partition(partitioned, tmp_path):
    emu, p = partitioned, partitioned.partition
    assert ok(emu, "sts", "get-caller-identity")["Arn"] == f"arn:{p}:iam::{ACCOUNT}:user/irsa-emulator-admin"

    out = subprocess.run(
        [emulator_binary(), "cluster", "create", "lab", "--out-dir", str(tmp_path / "keys")],
        env=emu.env(), capture_output=True, text=True, check=True,
    ).stdout
    issuer = next(line.split()[1] for line in out.splitlines() if line.startswith("issuer:"))
    cluster = ok(emu, "eks", "describe-cluster", "--name", "lab")["cluster"]
    assert cluster["arn"] == f"arn:{p}:eks:{emu.region}:{ACCOUNT}:cluster/lab"
    assert cluster["roleArn"].startswith(f"arn:{p}:iam::{ACCOUNT}:role/")

    provider_arn = ok(
        emu, "iam", "create-open-id-connect-provider", "--url", issuer, "--client-id-list", "sts.amazonaws.com"
    )["OpenIDConnectProviderArn"]
    provider = issuer.removeprefix("https://")
    assert provider_arn == f"arn:{p}:iam::{ACCOUNT}:oidc-provider/{provider}"

    trust = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{provider}:sub": "system:serviceaccount:default:app"}},
        }],
    }
    role = ok(emu, "iam", "create-role", "--role-name", "app", "--assume-role-policy-document", json.dumps(trust))
    assert role["Role"]["Arn"] == f"arn:{p}:iam::{ACCOUNT}:role/app"

    managed = f"arn:{p}:iam::aws:policy/ReadOnlyAccess"
    ok(emu, "iam", "attach-role-policy", "--role-name", "app", "--policy-arn", managed)
    attached = ok(emu, "iam", "list-attached-role-policies", "--role-name", "app")["AttachedPolicies"]
    assert attached == [{"PolicyName": "ReadOnlyAccess", "PolicyArn": managed}]
    assert ok(emu, "iam", "get-policy", "--policy-arn", managed)["Policy"]["Arn"] == managed
    listed = ok(emu, "iam", "list-policies", "--scope", "AWS", "--path-prefix", "/job-function/")["Policies"]
    assert listed and all(x["Arn"].startswith(f"arn:{p}:iam::aws:policy/job-function/") for x in listed)

    token = subprocess.run(
        [emulator_binary(), "token", "--cluster", "lab", "--namespace", "default", "--service-account", "app",
         "--audience", "sts.amazonaws.com"],
        env=emu.env(), capture_output=True, text=True, check=True,
    ).stdout.strip()
    assumed = ok(
        emu, "sts", "assume-role-with-web-identity", "--role-arn", role["Role"]["Arn"],
        "--role-session-name", "lab", "--web-identity-token", token,
    )
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:{p}:sts::{ACCOUNT}:assumed-role/app/lab"
    assert assumed["Provider"] == provider_arn


def test_documents_are_validated_for_the_partition(partitioned):
    emu, p = partitioned, partitioned.partition
    trust = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    })
    ok(emu, "iam", "create-role", "--role-name", "app", "--assume-role-policy-document", trust)

    def policy(resource):
        return json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}],
        })

    out = aws(emu, "iam", "put-role-policy", "--role-name", "app", "--policy-name", "s3",
              "--policy-document", policy("arn:aws:s3:::bucket/*"))
    assert out.returncode != 0
    assert ('(MalformedPolicyDocument) when calling the PutRolePolicy operation: '
            'Partition "aws" is not valid for resource "arn:aws:s3:::bucket/*".') in out.stderr, out.stderr
    ok(emu, "iam", "put-role-policy", "--role-name", "app", "--policy-name", "s3",
       "--policy-document", policy(f"arn:{p}:s3:::bucket/*"))

    out = aws(emu, "iam", "attach-role-policy", "--role-name", "app", "--policy-arn",
              "arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert out.returncode != 0
    assert "(ValidationError) when calling the AttachRolePolicy operation: Invalid ARN partition" in out.stderr, out.stderr
    assert ok(emu, "iam", "list-attached-role-policies", "--role-name", "app")["AttachedPolicies"] == []
    # A malformed ARN in the right partition keeps IAM's other answer (terraform-provider-aws#1337).
    out = aws(emu, "iam", "attach-role-policy", "--role-name", "app", "--policy-arn", f"arn:{p}:iam::aws:role/NotAPolicy")
    assert "(InvalidInput) when calling the AttachRolePolicy operation: ARN " in out.stderr, out.stderr
    out = aws(emu, "iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn",
              f"arn:aws:iam::{ACCOUNT}:oidc-provider/example.com/id/X")
    assert "(ValidationError) when calling the GetOpenIDConnectProvider operation: Invalid ARN partition" in out.stderr, \
        out.stderr


def test_an_arn_of_another_partition_is_refused_in_the_commercial_one(emulator):
    out = aws(emulator, "iam", "get-policy", "--policy-arn", "arn:aws-cn:iam::aws:policy/ReadOnlyAccess")
    assert "(ValidationError) when calling the GetPolicy operation: Invalid ARN partition" in out.stderr, out.stderr


def test_the_default_region_stays_in_the_aws_partition(emulator):
    out = ok(emulator, "sts", "get-caller-identity")
    assert out["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/irsa-emulator-admin"


@pytest.mark.parametrize(
    "region, says",
    [
        ("eusc-de-east-1", "eusc-de-east-1 is in partition aws-eusc, which the emulator does not serve"),
        ("us-isob-east-1", "us-isob-east-1 is in partition aws-iso-b, which the emulator does not serve"),
        ("us-east1", "a region is an AWS region name such as us-east-1"),
        ("US-EAST-1", "a region is an AWS region name such as us-east-1"),
    ],
)
def test_a_region_the_emulator_cannot_serve_is_refused_at_start(tmp_path, region, says):
    """Without this, an unserved partition's region would mint commercial `arn:aws:` ARNs, and a typo would show
    only later, as every signature being refused for its scope."""
    out = subprocess.run(
        [emulator_binary(), "serve", "--ephemeral", "--listen", "127.0.0.1:0", "--region", region],
        capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 2, out.stderr
    assert f"invalid value '{region}' for '--region <REGION>'" in out.stderr
    assert says in out.stderr
