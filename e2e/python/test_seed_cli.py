"""Every `aws` command of the seed documents, verbatim, with the real AWS CLI against the emulator.

The commands below are copied from ../shared/seeds/ (002 and 004: the AWS CLI route of "configure a service
account to assume an IAM role"; 001: reading the issuer). Only the placeholders the seeds tell the user to
replace are filled in. Each check compares with the output the seed shows.
"""

import json

from conftest import ACCOUNT, run_shell

SEED_002_POLICY = """
cat >my-policy.json <<EOF
{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::my-pod-secrets-bucket"
        }
    ]
}
EOF
aws iam create-policy --policy-name my-policy --policy-document file://my-policy.json
"""

SEED_002_ROLE = r"""
account_id=$(aws sts get-caller-identity --query "Account" --output text)
oidc_provider=$(aws eks describe-cluster --name my-cluster --region $AWS_REGION --query "cluster.identity.oidc.issuer" --output text | sed -e "s/^https:\/\///")
export namespace=default
export service_account=my-service-account
cat >trust-relationship.json <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Federated": "arn:aws:iam::$account_id:oidc-provider/$oidc_provider"
      },
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {
          "$oidc_provider:aud": "sts.amazonaws.com",
          "$oidc_provider:sub": "system:serviceaccount:$namespace:$service_account"
        }
      }
    }
  ]
}
EOF
aws iam create-role --role-name my-role --assume-role-policy-document file://trust-relationship.json --description "my-role-description"
aws iam attach-role-policy --role-name my-role --policy-arn=arn:aws:iam::$account_id:policy/my-policy
"""

SEED_004_ROLE = r"""
ACCOUNT_ID=$(aws sts get-caller-identity --query "Account" --output text)
OIDC_PROVIDER=$(aws eks describe-cluster --name my-cluster --query "cluster.identity.oidc.issuer" --output text | sed -e "s/^https:\/\///")
read -r -d '' TRUST_RELATIONSHIP <<EOF || true
{
"Version": "2012-10-17",
"Statement": [
{
"Effect": "Allow",
"Principal": {
"Federated": "arn:aws:iam::${ACCOUNT_ID}:oidc-provider/${OIDC_PROVIDER}"
},
"Action": "sts:AssumeRoleWithWebIdentity",
"Condition": {
"StringEquals": {
"${OIDC_PROVIDER}:aud": "sts.amazonaws.com",
"${OIDC_PROVIDER}:sub": "system:serviceaccount:my-namespace:my-service-account"
}
}
}
]
}
EOF
echo "${TRUST_RELATIONSHIP}" > trust.json
aws iam create-role --role-name my-iam-role --assume-role-policy-document file://trust.json --description "my-role-description"
aws iam attach-role-policy --role-name my-iam-role --policy-arn=arn:aws:iam::111122223333:policy/my-iam-policy
echo "ACCOUNT_ID=$ACCOUNT_ID"
echo "OIDC_PROVIDER=$OIDC_PROVIDER"
"""


def associate_provider(emulator, cwd, issuer):
    """The prerequisite the seeds point to: an IAM OIDC provider for the cluster."""
    out = run_shell(
        f"aws iam create-open-id-connect-provider --url {issuer} --client-id-list sts.amazonaws.com",
        emulator.env(),
        cwd,
    )
    assert out.returncode == 0, out.stderr


def test_seed_002_aws_cli_route(emulator, tmp_path):
    issuer = emulator.create_cluster("my-cluster", tmp_path / "keys")
    provider = issuer.removeprefix("https://")
    env = emulator.env()

    out = run_shell(SEED_002_POLICY, env, tmp_path)
    assert out.returncode == 0, out.stderr
    created = json.loads(out.stdout)["Policy"]
    assert created["PolicyName"] == "my-policy"
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:policy/my-policy"
    assert created["DefaultVersionId"] == "v1"

    # Without the OIDC provider IAM refuses the trust policy, as the seed's prerequisite warns.
    out = run_shell(SEED_002_ROLE, env, tmp_path)
    assert out.returncode != 0
    assert "MalformedPolicyDocument" in out.stderr and "Invalid principal in policy" in out.stderr

    associate_provider(emulator, tmp_path, issuer)
    out = run_shell(SEED_002_ROLE, env, tmp_path)
    assert out.returncode == 0, out.stderr
    role = json.loads(out.stdout)["Role"]
    # create-role prints no Description, even one given; get-role does (AWS's answers recorded by LocalStack,
    # tests/aws/services/iam/test_iam_roles.snapshot.json "…test_role_permissions_boundary_lifecycle").
    assert role["RoleName"] == "my-role" and "Description" not in role
    out = run_shell("aws iam get-role --role-name my-role --query Role.Description --output text", env, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "my-role-description"

    out = run_shell("aws iam get-role --role-name my-role --query Role.AssumeRolePolicyDocument", env, tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{provider}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{provider}:sub": "system:serviceaccount:default:my-service-account",
                        f"{provider}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }

    out = run_shell(
        "aws iam list-attached-role-policies --role-name my-role --query AttachedPolicies[].PolicyArn --output text",
        env,
        tmp_path,
    )
    assert out.stdout.strip() == f"arn:aws:iam::{ACCOUNT}:policy/my-policy"

    out = run_shell(
        f"export policy_arn=arn:aws:iam::{ACCOUNT}:policy/my-policy\naws iam get-policy --policy-arn $policy_arn",
        env,
        tmp_path,
    )
    policy = json.loads(out.stdout)["Policy"]
    assert {k: policy[k] for k in ("PolicyName", "Arn", "Path", "DefaultVersionId")} == {
        "PolicyName": "my-policy",
        "Arn": f"arn:aws:iam::{ACCOUNT}:policy/my-policy",
        "Path": "/",
        "DefaultVersionId": "v1",
    }
    assert policy["AttachmentCount"] == 1

    out = run_shell(
        f"export policy_arn=arn:aws:iam::{ACCOUNT}:policy/my-policy\n"
        "aws iam get-policy-version --policy-arn $policy_arn --version-id v1",
        env,
        tmp_path,
    )
    version = json.loads(out.stdout)["PolicyVersion"]
    # The seed: "If you created the example policy in a previous step, then your output is the same."
    assert version["Document"] == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::my-pod-secrets-bucket"}],
    }
    assert version["VersionId"] == "v1" and version["IsDefaultVersion"] is True


def test_seed_004_aws_cli_route(emulator, tmp_path):
    issuer = emulator.create_cluster("my-cluster", tmp_path / "keys")
    associate_provider(emulator, tmp_path, issuer)
    env = emulator.env()
    out = run_shell(SEED_002_POLICY.replace("my-policy", "my-iam-policy"), env, tmp_path)
    assert out.returncode == 0, out.stderr

    out = run_shell(SEED_004_ROLE, env, tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"ACCOUNT_ID={ACCOUNT}" in out.stdout
    assert f"OIDC_PROVIDER={issuer.removeprefix('https://')}" in out.stdout
    attached = run_shell(
        "aws iam list-attached-role-policies --role-name my-iam-role "
        "--query 'AttachedPolicies[].PolicyName' --output text",
        env,
        tmp_path,
    )
    assert attached.stdout.strip() == "my-iam-policy"


def test_seed_001_reads_the_issuer(emulator, tmp_path):
    issuer = emulator.create_cluster("edp", tmp_path / "keys")
    out = run_shell(
        'aws eks describe-cluster --name edp --query "cluster.identity.oidc.issuer" --output text',
        emulator.env(),
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == issuer
    assert issuer.startswith("https://") and "/id/" in issuer
    missing = run_shell("aws eks describe-cluster --name nope", emulator.env(), tmp_path)
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr


def test_seed_000_kaniko_documents(emulator, tmp_path):
    """Seed 000's policy and trust documents, created with the AWS CLI (placeholders filled in)."""
    issuer = emulator.create_cluster("edp-cluster", tmp_path / "keys")
    associate_provider(emulator, tmp_path, issuer)
    provider = issuer.removeprefix("https://")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["ecr:*", "cloudtrail:LookupEvents"],
                "Resource": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/edp/*",
            },
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["ecr:DescribeRepositories", "ecr:CreateRepository"],
                "Resource": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/*",
            },
        ],
    }
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{provider}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{provider}:sub": "system:serviceaccount:edp:edp-kaniko"}},
            }
        ],
    }
    (tmp_path / "policy.json").write_text(json.dumps(policy, indent=2))
    (tmp_path / "trust.json").write_text(json.dumps(trust, indent=2))
    script = """
aws iam create-policy --policy-name AWSIRSAedp-clusteredpKaniko_policy --policy-document file://policy.json
aws iam create-role --role-name AWSIRSAedp-clusteredpKaniko --assume-role-policy-document file://trust.json
aws iam attach-role-policy --role-name AWSIRSAedp-clusteredpKaniko \
    --policy-arn arn:aws:iam::111122223333:policy/AWSIRSAedp-clusteredpKaniko_policy
aws iam get-role --role-name AWSIRSAedp-clusteredpKaniko --query Role.Arn --output text
"""
    out = run_shell(script, emulator.env(), tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == f"arn:aws:iam::{ACCOUNT}:role/AWSIRSAedp-clusteredpKaniko"


def test_boto3_reads_documents_decoded(emulator):
    """botocore URL-decodes policy documents; a wrong encoding would surface here as a string."""
    iam = emulator.boto3("iam")
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::a b/+%"}],
    }
    arn = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"]
    assert got == doc
    aws_policy = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")["Policy"]
    version = iam.get_policy_version(PolicyArn=aws_policy["Arn"], VersionId=aws_policy["DefaultVersionId"])
    assert "s3:Get*" in version["PolicyVersion"]["Document"]["Statement"][0]["Action"]
