"""STS AssumeRoleWithWebIdentity as a pod sees it, with the real AWS CLI and boto3, and every way a token or a
trust policy can be wrong — each rejected with the code AWS uses.
"""

import base64
import hashlib
import hmac
import json
import subprocess
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from conftest import ACCOUNT, emulator_binary, run_shell


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def kid_of(public_key) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return b64url(hashlib.sha256(der).digest())


class Signer:
    """Signs tokens the way kube-apiserver does, and lets a test break them on purpose."""

    def __init__(self, key_path):
        self.key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        self.kid = kid_of(self.key.public_key())

    def token(self, header=None, claims=None, sign=True) -> str:
        head = {"alg": "RS256", "kid": self.kid, **(header or {})}
        h = b64url(json.dumps(head).encode())
        p = b64url(json.dumps(claims).encode())
        signing_input = f"{h}.{p}".encode()
        signature = self.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256()) if sign else b""
        return f"{h}.{p}.{b64url(signature)}"


@pytest.fixture
def irsa(emulator, tmp_path):
    """A cluster, its IAM OIDC provider, and role `s3-reader` trusted by default/app."""
    keys = tmp_path / "keys"
    issuer = emulator.create_cluster("lab", keys)
    provider = issuer.removeprefix("https://")
    iam = emulator.boto3("iam")
    provider_arn = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"])[
        "OpenIDConnectProviderArn"
    ]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{provider}:sub": "system:serviceaccount:default:app",
                        f"{provider}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }
    role = iam.create_role(RoleName="s3-reader", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.attach_role_policy(RoleName="s3-reader", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")

    class Lab:
        pass

    lab = Lab()
    lab.issuer, lab.provider, lab.provider_arn, lab.role_arn = issuer, provider, provider_arn, role["Arn"]
    lab.signer = Signer(keys / "sa.key")
    lab.tmp = tmp_path

    def claims(sub="system:serviceaccount:default:app", aud=("sts.amazonaws.com",), iss=issuer, ttl=3600, **extra):
        now = int(time.time())
        c = {"aud": list(aud), "exp": now + ttl, "iat": now, "iss": iss, "nbf": now, "sub": sub}
        c.update(extra)
        return c

    lab.claims = claims
    return lab


def mint(emulator, sa="app", namespace="default", audience="sts.amazonaws.com") -> str:
    return subprocess.run(
        [emulator_binary(), "token", "--cluster", "lab", "--namespace", namespace, "--service-account", sa,
         "--audience", audience],
        env=emulator.env(), capture_output=True, text=True, check=True,
    ).stdout.strip()


def pod_env(emulator, lab, token: str) -> dict:
    """Exactly what the pod identity webhook gives a container: no static credentials."""
    token_file = lab.tmp / "token"
    token_file.write_text(token)
    env = emulator.env()
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(key)
    env.update(
        AWS_ROLE_ARN=lab.role_arn,
        AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file),
        AWS_STS_REGIONAL_ENDPOINTS="regional",
    )
    return env


def test_pod_view_aws_cli(emulator, irsa):
    out = run_shell("aws sts get-caller-identity", pod_env(emulator, irsa, mint(emulator)), irsa.tmp)
    assert out.returncode == 0, out.stderr
    identity = json.loads(out.stdout)
    assert identity["Account"] == ACCOUNT
    assert identity["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/s3-reader/botocore-session-")
    assert identity["UserId"].startswith("AROA") and ":botocore-session-" in identity["UserId"]


def test_pod_view_boto3(emulator, irsa):
    env = pod_env(emulator, irsa, mint(emulator))
    script = "import boto3, json; print(json.dumps(boto3.client('sts').get_caller_identity()))"
    out = subprocess.run(["python", "-c", script], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/s3-reader/")


def test_response_shape(emulator, irsa):
    sts = emulator.boto3("sts")
    resp = sts.assume_role_with_web_identity(
        RoleArn=irsa.role_arn, RoleSessionName="shape", WebIdentityToken=mint(emulator)
    )
    creds = resp["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40
    assert resp["SubjectFromWebIdentityToken"] == "system:serviceaccount:default:app"
    assert resp["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/s3-reader/shape"
    assert resp["AssumedRoleUser"]["AssumedRoleId"].endswith(":shape")
    assert resp["Audience"] == "sts.amazonaws.com"
    assert resp["Provider"] == irsa.provider_arn


def assume(emulator, lab, token, role_arn=None, extra="") -> subprocess.CompletedProcess:
    (lab.tmp / "t").write_text(token)
    return run_shell(
        f"aws sts assume-role-with-web-identity --role-arn {role_arn or lab.role_arn} "
        f"--role-session-name test --web-identity-token \"$(cat t)\" {extra}",
        emulator.env(), lab.tmp,
    )


def error_code(out) -> str:
    assert out.returncode != 0, f"accepted: {out.stdout}"
    marker = "An error occurred ("
    assert marker in out.stderr, out.stderr
    return out.stderr.split(marker, 1)[1].split(")", 1)[0]


def hs256_with_public_key(lab) -> str:
    public_pem = lab.signer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    h = b64url(json.dumps({"alg": "HS256", "kid": lab.signer.kid}).encode())
    p = b64url(json.dumps(lab.claims()).encode())
    sig = hmac.new(public_pem, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64url(sig)}"


def tamper_payload(token: str) -> str:
    h, p, s = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(p + "=="))
    claims["sub"] = "system:serviceaccount:kube-system:admin"
    return f"{h}.{b64url(json.dumps(claims).encode())}.{s}"


def tamper_signature(token: str) -> str:
    h, p, s = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(s + "=="))
    raw[10] ^= 0xFF
    return f"{h}.{p}.{b64url(bytes(raw))}"


CASES = {
    "another service account": (lambda lab, emu: mint(emu, sa="other"), "AccessDenied"),
    "another namespace": (lambda lab, emu: mint(emu, namespace="dev"), "AccessDenied"),
    "wrong audience": (lambda lab, emu: mint(emu, audience="vault"), "InvalidIdentityToken"),
    "expired": (lambda lab, emu: lab.signer.token(claims=lab.claims(ttl=-3600)), "ExpiredTokenException"),
    "not yet valid": (
        lambda lab, emu: lab.signer.token(claims=lab.claims(nbf=int(time.time()) + 3600)),
        "InvalidIdentityToken",
    ),
    "unknown issuer": (
        lambda lab, emu: lab.signer.token(claims=lab.claims(iss="https://issuer.example.com/id/NOPE")),
        "InvalidIdentityToken",
    ),
    "unknown kid": (lambda lab, emu: lab.signer.token(header={"kid": "not-a-key"}, claims=lab.claims()),
                    "InvalidIdentityToken"),
    "tampered payload": (lambda lab, emu: tamper_payload(mint(emu)), "InvalidIdentityToken"),
    "tampered signature": (lambda lab, emu: tamper_signature(mint(emu)), "InvalidIdentityToken"),
    "alg none": (lambda lab, emu: lab.signer.token(header={"alg": "none"}, claims=lab.claims(), sign=False),
                 "InvalidIdentityToken"),
    "HS256 signed with the public key": (lambda lab, emu: hs256_with_public_key(lab), "InvalidIdentityToken"),
    "garbage": (lambda lab, emu: "garbage", "InvalidIdentityToken"),
    "RS512 header over an RS256 signature": (
        lambda lab, emu: lab.signer.token(header={"alg": "RS512"}, claims=lab.claims()),
        "InvalidIdentityToken",
    ),
    "duplicated sub claim": (lambda lab, emu: raw_token(lab, duplicated_sub_payload(lab)), "InvalidIdentityToken"),
    "payload is not JSON": (lambda lab, emu: raw_token(lab, b"not json at all"), "InvalidIdentityToken"),
    "payload is a JSON array": (lambda lab, emu: raw_token(lab, b"[1,2,3]"), "InvalidIdentityToken"),
    "exp as a string": (
        lambda lab, emu: lab.signer.token(claims={**lab.claims(), "exp": str(int(time.time()) + 3600)}),
        "InvalidIdentityToken",
    ),
    "exp huge": (lambda lab, emu: lab.signer.token(claims={**lab.claims(), "exp": 10**30}), "InvalidIdentityToken"),
    "missing sub": (
        lambda lab, emu: lab.signer.token(claims={k: v for k, v in lab.claims().items() if k != "sub"}),
        "InvalidIdentityToken",
    ),
    "missing exp": (
        lambda lab, emu: lab.signer.token(claims={k: v for k, v in lab.claims().items() if k != "exp"}),
        "InvalidIdentityToken",
    ),
    "huge header": (
        lambda lab, emu: lab.signer.token(header={"x": "A" * 12000}, claims=lab.claims()),
        "InvalidIdentityToken",
    ),
    "over STS's 20,000-character limit": (
        lambda lab, emu: lab.signer.token(header={"x": "A" * 21000}, claims=lab.claims()),
        "ValidationError",
    ),
    "nested JWS as payload": (lambda lab, emu: raw_token(lab, mint(emu).encode()), "InvalidIdentityToken"),
    "base64 with padding and bad charset": (
        lambda lab, emu: mint(emu).replace(".", "==.", 1).replace("-", "+"),
        "InvalidIdentityToken",
    ),
    "signed by another cluster's key with this cluster's kid": (
        lambda lab, emu: other_key_same_kid(lab),
        "InvalidIdentityToken",
    ),
}


def raw_token(lab, payload: bytes) -> str:
    """A correctly signed token whose payload bytes are whatever the test says."""
    h = b64url(json.dumps({"alg": "RS256", "kid": lab.signer.kid}).encode())
    p = b64url(payload)
    sig = lab.signer.key.sign(f"{h}.{p}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{h}.{p}.{b64url(sig)}"


def duplicated_sub_payload(lab) -> bytes:
    body = json.dumps(lab.claims())
    return (body[:-1] + ', "sub": "system:serviceaccount:kube-system:admin"}').encode()


def other_key_same_kid(lab) -> str:
    other = Signer.__new__(Signer)
    other.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other.kid = lab.signer.kid
    return other.token(claims=lab.claims())


def test_aud_as_a_string_is_accepted(emulator, irsa):
    """RFC 7519 allows a single audience as a string; only the value matters."""
    token = irsa.signer.token(claims={**irsa.claims(), "aud": "sts.amazonaws.com"})
    out = assume(emulator, irsa, token)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("case", list(CASES))
def test_bad_tokens_are_rejected(emulator, irsa, case):
    make, code = CASES[case]
    assert error_code(assume(emulator, irsa, make(irsa, emulator))) == code


def test_role_without_matching_trust(emulator, irsa):
    iam = emulator.boto3("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    arn = iam.create_role(RoleName="ec2-only", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    assert error_code(assume(emulator, irsa, mint(emulator), role_arn=arn)) == "AccessDenied"


def test_role_that_does_not_exist(emulator, irsa):
    arn = f"arn:aws:iam::{ACCOUNT}:role/no-such-role"
    assert error_code(assume(emulator, irsa, mint(emulator), role_arn=arn)) == "AccessDenied"


def test_duration_over_role_maximum(emulator, irsa):
    assert error_code(assume(emulator, irsa, mint(emulator), extra="--duration-seconds 7200")) == "ValidationError"
    ok = assume(emulator, irsa, mint(emulator), extra="--duration-seconds 3600")
    assert ok.returncode == 0, ok.stderr


def test_sigv4_with_tampered_secret(emulator, irsa):
    env = emulator.env()
    env["AWS_SECRET_ACCESS_KEY"] = env["AWS_SECRET_ACCESS_KEY"][:-1] + "X"
    out = run_shell("aws iam list-roles", env, irsa.tmp)
    assert error_code(out) == "SignatureDoesNotMatch"


def test_assumed_role_credentials_are_verified_and_limited(emulator, irsa):
    sts = emulator.boto3("sts")
    creds = sts.assume_role_with_web_identity(
        RoleArn=irsa.role_arn, RoleSessionName="limited", WebIdentityToken=mint(emulator)
    )["Credentials"]
    env = emulator.env()
    env.update(
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_SESSION_TOKEN=creds["SessionToken"],
    )
    who = run_shell("aws sts get-caller-identity --query Arn --output text", env, irsa.tmp)
    assert who.stdout.strip() == f"arn:aws:sts::{ACCOUNT}:assumed-role/s3-reader/limited"
    # AmazonS3ReadOnlyAccess grants no IAM: least privilege, enforced.
    denied = run_shell("aws iam create-role --role-name x --assume-role-policy-document '{}'", env, irsa.tmp)
    assert error_code(denied) == "AccessDenied"
    assert f"assumed-role/s3-reader/limited is not authorized to perform: iam:CreateRole" in denied.stderr
    env["AWS_SESSION_TOKEN"] = creds["SessionToken"][:-4] + "AAAA"
    forged = run_shell("aws sts get-caller-identity", env, irsa.tmp)
    assert error_code(forged) == "InvalidClientTokenId"


def test_audit_explains_a_denial_with_both_values(emulator, irsa):
    assert error_code(assume(emulator, irsa, mint(emulator, namespace="dev"))) == "AccessDenied"
    out = subprocess.run(
        [emulator_binary(), "audit", "--json"], env=emulator.env(), capture_output=True, text=True, check=True
    ).stdout
    events = [json.loads(line) for line in out.splitlines()]
    denial = [e for e in events if e["decision"] == "deny" and e["action"] == "sts:AssumeRoleWithWebIdentity"][-1]
    assert "system:serviceaccount:default:app" in denial["explanation"]
    assert "system:serviceaccount:dev:app" in denial["explanation"]
    assert f"{irsa.provider}:sub" in denial["explanation"]


def test_external_issuer_keys_come_through_discovery(emulator, irsa):
    """A cluster registered with --issuer-url serves its own discovery document; STS fetches the JWKS from it.

    The external issuer here is this emulator reached as `localhost` (a name its certificate covers), so the
    keys really travel through discovery and the JWKS URL over HTTPS rather than the in-process shortcut.
    """
    external = irsa.issuer.replace("127.0.0.1", "localhost")
    out = subprocess.run(
        [emulator_binary(), "cluster", "create", "kind-like", "--issuer-url", external],
        env=emulator.env(), capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr
    eks = emulator.boto3("eks").describe_cluster(name="kind-like")["cluster"]
    assert eks["identity"]["oidc"]["issuer"] == external

    iam = emulator.boto3("iam")
    provider_arn = iam.create_open_id_connect_provider(Url=external, ClientIDList=["sts.amazonaws.com"])[
        "OpenIDConnectProviderArn"
    ]
    host = external.removeprefix("https://")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{host}:sub": "system:serviceaccount:default:app"}},
        }],
    }
    role_arn = iam.create_role(RoleName="external", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    # The external cluster's API server signs with its own key; here that is the same key pair.
    token = irsa.signer.token(claims=irsa.claims(iss=external))
    ok = assume(emulator, irsa, token, role_arn=role_arn)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["Provider"] == provider_arn
    # A kid the external JWKS does not have is refused after the fetch.
    bad = irsa.signer.token(header={"kid": "unknown"}, claims=irsa.claims(iss=external))
    assert error_code(assume(emulator, irsa, bad, role_arn=role_arn)) == "InvalidIdentityToken"


def session_client(emulator, service, creds):
    import boto3

    return boto3.client(
        service, endpoint_url=emulator.url, verify=str(emulator.ca), region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def test_assume_role_chaining_and_session_tokens(emulator, irsa):
    """AssumeRole with Principal.AWS trust, role chaining (1 hour cap), GetSessionToken for the admin."""
    iam = emulator.boto3("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": irsa.role_arn}, "Action": "sts:AssumeRole"}],
    }
    target = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps(trust),
                             MaxSessionDuration=7200)["Role"]["Arn"]
    web = emulator.boto3("sts").assume_role_with_web_identity(
        RoleArn=irsa.role_arn, RoleSessionName="pod", WebIdentityToken=mint(emulator)
    )["Credentials"]
    reader_sts = session_client(emulator, "sts", web)

    # s3-reader's identity policies do not allow sts:AssumeRole: refused before the trust is even read.
    with pytest.raises(Exception) as err:
        reader_sts.assume_role(RoleArn=target, RoleSessionName="chain")
    assert "AccessDenied" in str(err.value) and "sts:AssumeRole" in str(err.value)

    iam.put_role_policy(
        RoleName="s3-reader", PolicyName="may-chain",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target}]}),
    )
    chained = reader_sts.assume_role(RoleArn=target, RoleSessionName="chain")
    assert chained["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/chain"
    who = session_client(emulator, "sts", chained["Credentials"]).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/chain"
    # Chained sessions are capped at one hour whatever the role's maximum.
    with pytest.raises(Exception) as err:
        reader_sts.assume_role(RoleArn=target, RoleSessionName="long", DurationSeconds=7200)
    assert "ValidationError" in str(err.value)

    # The admin may assume it too only if the trust says so: it names s3-reader alone.
    with pytest.raises(Exception) as err:
        emulator.boto3("sts").assume_role(RoleArn=target, RoleSessionName="admin")
    assert "AccessDenied" in str(err.value)

    token = emulator.boto3("sts").get_session_token(DurationSeconds=900)["Credentials"]
    assert token["AccessKeyId"].startswith("ASIA")
    assert session_client(emulator, "iam", token).list_roles()["Roles"], "admin session keeps admin rights"
    with pytest.raises(Exception) as err:
        reader_sts.get_session_token()
    assert "AccessDenied" in str(err.value)


def test_eks_calls_are_authorized_for_role_sessions(emulator, irsa):
    web = emulator.boto3("sts").assume_role_with_web_identity(
        RoleArn=irsa.role_arn, RoleSessionName="pod", WebIdentityToken=mint(emulator)
    )["Credentials"]
    eks = session_client(emulator, "eks", web)
    with pytest.raises(Exception) as err:
        eks.describe_cluster(name="lab")
    assert "AccessDenied" in str(err.value) and "eks:DescribeCluster" in str(err.value)
    iam_doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/lab"}]}
    emulator.boto3("iam").put_role_policy(RoleName="s3-reader", PolicyName="eks", PolicyDocument=json.dumps(iam_doc))
    assert eks.describe_cluster(name="lab")["cluster"]["identity"]["oidc"]["issuer"] == irsa.issuer
