"""Hostile and malformed requests get proper AWS errors, never a 500, and the emulator keeps serving."""

import ssl
import subprocess
import urllib.parse
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest

from conftest import ADMIN_KEY, ADMIN_SECRET, emulator_binary

NS = "{https://iam.amazonaws.com/doc/2010-05-08/}"


def send(emulator, body: bytes, service="iam", sign=True, method="POST", content_type=None):
    """Sends a raw Query-protocol request, SigV4-signed by botocore like a real client's."""
    headers = {"Content-Type": content_type or "application/x-www-form-urlencoded; charset=utf-8"}
    request = botocore.awsrequest.AWSRequest(method=method, url=emulator.url + "/", data=body, headers=headers)
    if sign:
        creds = botocore.credentials.Credentials(ADMIN_KEY, ADMIN_SECRET)
        botocore.auth.SigV4Auth(creds, service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method=method)
    ctx = ssl.create_default_context(cafile=str(emulator.ca))
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def error_code(body: str) -> str:
    root = ET.fromstring(body)
    code = root.find(f"{NS}Error/{NS}Code")
    if code is None:
        code = root.find("Error/Code")
    assert code is not None, f"not an AWS ErrorResponse: {body[:200]}"
    return code.text


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"Action=NoSuchThing&Version=2010-05-08", 400, "InvalidAction"),
        (b"Version=2010-05-08", 400, "MissingAction"),
        (b"Action=GetRole&Version=2010-05-08", 400, "ValidationError"),
        # A RoleName outside roleNameType's pattern is refused before the lookup (issue 12: AWS answers
        # '%ZZ%4%' with 400 ValidationError "... Member must satisfy regular expression pattern: [\w+=,.@-]+").
        (b"%%%&&&==\xff\xfe&Action=GetRole&Version=2010-05-08&RoleName=%ZZ", 400, "ValidationError"),
        (b"Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7Bnope", 400,
         "MalformedPolicyDocument"),
        (b"Action=CreatePolicy&Version=2010-05-08&PolicyName=p&PolicyDocument=%5B%5D", 400, "MalformedPolicyDocument"),
        (b"Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B%7D&MaxSessionDuration=abc",
         400, "ValidationError"),
        (b"Action=ListRoles&Version=2010-05-08&MaxItems=0", 400, "ValidationError"),
    ],
)
def test_malformed_requests_get_aws_errors(emulator, body, status, code):
    got_status, got_body = send(emulator, body)
    assert (got_status, error_code(got_body)) == (status, code), got_body


def test_oversized_body_is_refused_with_an_aws_error(emulator):
    body = b"Action=CreatePolicy&Version=2010-05-08&PolicyName=big&PolicyDocument=" + b"A" * (512 * 1024)
    status, text = send(emulator, body)
    assert status == 413
    assert error_code(text) == "RequestEntityTooLarge"
    # Still serving afterwards.
    status, _ = send(emulator, b"Action=ListRoles&Version=2010-05-08")
    assert status == 200


def test_policy_over_quota_is_limit_exceeded(emulator):
    statement = '{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::%s"}'
    doc = '{"Version":"2012-10-17","Statement":[%s]}' % ",".join(statement % ("b" * 60 + str(i)) for i in range(100))
    body = "Action=CreatePolicy&Version=2010-05-08&PolicyName=huge&PolicyDocument=" + urllib.parse.quote(doc)
    status, text = send(emulator, body.encode())
    assert (status, error_code(text)) == (409, "LimitExceeded"), text


def test_unsigned_iam_request_is_refused(emulator):
    status, text = send(emulator, b"Action=ListRoles&Version=2010-05-08", sign=False)
    assert status == 403
    assert error_code(text) == "MissingAuthenticationToken"


def test_unknown_access_key_is_refused(emulator):
    import boto3

    iam = boto3.client(
        "iam", endpoint_url=emulator.url, verify=str(emulator.ca), region_name="us-east-1",
        aws_access_key_id="AKIAUNKNOWNUNKNOWN00", aws_secret_access_key="x" * 40,
    )
    with pytest.raises(Exception) as err:
        iam.list_roles()
    assert "InvalidClientTokenId" in str(err.value)


def test_not_found_paths_and_methods_are_not_500(emulator):
    ctx = ssl.create_default_context(cafile=str(emulator.ca))
    for path in ["/nope", "/clusters/x/y", "/id/ZZZ/keys", "/id/ZZZ/.well-known/openid-configuration"]:
        try:
            with urllib.request.urlopen(emulator.url + path, context=ctx, timeout=5) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        assert 400 <= status < 500, (path, status)


def test_role_name_pattern_is_checked_before_the_lookup(emulator):
    """Issue 12's AWS-checked case: RoleName '%ZZ%4%' → 400 ValidationError naming roleNameType's pattern."""
    status, body = send(emulator, b"Action=GetRole&Version=2010-05-08&RoleName=%25ZZ%254%25")
    assert status == 400, body
    assert error_code(body) == "ValidationError"
    assert ET.fromstring(body).find(f"{NS}Error/{NS}Message").text == (
        "1 validation error detected: Value '%ZZ%4%' at 'roleName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    )


def test_every_violation_is_reported_at_once(emulator):
    """Issue 12's AWS-checked case: a URL over 255, a thumbprint and a client id too long in one call."""
    body = urllib.parse.urlencode({
        "Action": "CreateOpenIDConnectProvider", "Version": "2010-05-08", "Url": "https://" + "a" * 300,
        "ThumbprintList.member.1": "f" * 41, "ClientIDList.member.1": "c" * 256,
    }).encode()
    status, text = send(emulator, body)
    assert status == 400, text
    message = ET.fromstring(text).find(f"{NS}Error/{NS}Message").text
    assert message.startswith("3 validation errors detected: "), message
    assert message.count("; ") == 2, message
    assert "at 'url' failed to satisfy constraint: Member must have length less than or equal to 255" in message


def test_data_dir_ca_is_trusted_beside_a_machine_wide_ca_bundle(emulator, tmp_path):
    """Corporate machines set AWS_CA_BUNDLE to the system bundle for every tool; `irsa-emulator <cmd> --data-dir D`
    must still trust D's CA (it used to fail with "invalid peer certificate: UnknownIssuer")."""
    system_bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    if not system_bundle.exists():
        pytest.skip(f"no system CA bundle at {system_bundle} (Debian's ca-certificates)")
    env = emulator.env()
    env["AWS_CA_BUNDLE"] = str(system_bundle)
    for command in (["audit"], ["cluster", "list"]):
        out = subprocess.run(
            [emulator_binary(), *command, "--data-dir", str(emulator.data_dir), "--endpoint-url", emulator.url],
            env=env, capture_output=True, text=True,
        )
        assert out.returncode == 0, f"{command}: {out.stderr}"
        assert "UnknownIssuer" not in out.stderr
    # A bundle that cannot be read is named, not silently replaced.
    env["AWS_CA_BUNDLE"] = str(tmp_path / "missing.pem")
    out = subprocess.run(
        [emulator_binary(), "cluster", "list", "--data-dir", str(emulator.data_dir), "--endpoint-url", emulator.url],
        env=env, capture_output=True, text=True,
    )
    assert out.returncode != 0 and "missing.pem" in out.stderr, out.stderr
