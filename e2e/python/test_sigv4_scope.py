"""SigV4 credential scope, unsigned EKS calls and audited refusals, through boto3 as a user's client sends them.

Sources for AWS's behaviour:
- "Credential should be scoped to correct service: 'iam'. " and "Credential should be scoped to a valid region,
  not 'eu-west-1'. " (403 SignatureDoesNotMatch, trailing space included): real users' reports, e.g.
  cllunsford/aws-signing-proxy#25 and joona/aws-es-curl#15; IAM is global and signed for us-east-1 (botocore's
  endpoint rules, `aws-global`).
- An unknown access key: 403 InvalidClientTokenId "The security token included in the request is invalid."
- EKS ListClusters needs eks:ListClusters (Service Authorization Reference) and so a signature.
"""

import json
import ssl
import time
import urllib.error
import urllib.request

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
from botocore.exceptions import ClientError

from conftest import ADMIN_KEY, ADMIN_SECRET


def signed_iam(emulator, service: str, region: str):
    body = b"Action=ListRoles&Version=2010-05-08"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    request = botocore.awsrequest.AWSRequest(method="POST", url=emulator.url + "/", data=body, headers=headers)
    creds = botocore.credentials.Credentials(ADMIN_KEY, ADMIN_SECRET)
    botocore.auth.SigV4Auth(creds, service, region).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST")
    ctx = ssl.create_default_context(cafile=str(emulator.ca))
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_iam_signed_for_another_service_is_refused(emulator):
    status, body = signed_iam(emulator, "s3", "us-east-1")
    assert status == 403, body
    assert "<Code>SignatureDoesNotMatch</Code>" in body
    assert "Credential should be scoped to correct service: &apos;iam&apos;." in body or \
        "Credential should be scoped to correct service: 'iam'." in body


@pytest.mark.parametrize("service", ["iam", "sts"])
def test_signed_for_another_region_is_refused(emulator, service):
    import boto3

    client = boto3.client(
        service, endpoint_url=emulator.url, verify=str(emulator.ca), region_name="eu-west-1",
        aws_access_key_id=ADMIN_KEY, aws_secret_access_key=ADMIN_SECRET,
    )
    with pytest.raises(ClientError) as err:
        client.list_roles() if service == "iam" else client.get_caller_identity()
    error = err.value.response["Error"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Code"] == "SignatureDoesNotMatch"
    assert error["Message"].strip() == "Credential should be scoped to a valid region, not 'eu-west-1'."
    # Signed for the right region, the same client works.
    ok = emulator.boto3(service)
    ok.list_roles() if service == "iam" else ok.get_caller_identity()


def test_unsigned_list_clusters_is_refused(emulator):
    ctx = ssl.create_default_context(cafile=str(emulator.ca))
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{emulator.url}/clusters", context=ctx, timeout=10)
    assert err.value.code == 403
    # A signed one is answered.
    assert emulator.boto3("eks").list_clusters()["clusters"] == []


def test_unknown_key_is_refused_as_aws_does_and_audited_with_the_way_out(emulator):
    import boto3

    client = boto3.client(
        "sts", endpoint_url=emulator.url, verify=str(emulator.ca), region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )
    with pytest.raises(ClientError) as err:
        client.get_caller_identity()
    error = err.value.response["Error"]
    assert error["Code"] == "InvalidClientTokenId"
    assert error["Message"] == "The security token included in the request is invalid."
    assert "irsa-emulator env" not in error["Message"]

    log = emulator.data_dir / "audit.log"
    deadline = time.time() + 5
    lines = []
    while time.time() < deadline:
        lines = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        if any(e.get("caller") == "test" for e in lines):
            break
        time.sleep(0.05)
    refused = [e for e in lines if e.get("caller") == "test"]
    assert refused, f"no audit line for key 'test' in {lines}"
    text = json.dumps(refused[-1])
    assert "sts:GetCallerIdentity" in text
    assert 'eval \\"$(irsa-emulator env)\\"' in text
    assert "--admin-access-key-id test --admin-secret-access-key test" in text
    assert ADMIN_SECRET not in log.read_text()
