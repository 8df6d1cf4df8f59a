"""EKS Pod Identity from the real AWS CLI: `aws eks-auth assume-role-for-pod-identity` (the agent's call, botocore's
`eks-auth` model) against the emulator, and the CLI's own container credentials provider (botocore reads
AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, and allows plain HTTP to loopback)
getting a role's credentials through `irsa-emulator agent`."""

import json
import socket
import subprocess
import time

import pytest

from conftest import ACCOUNT, emulator_binary, free_port, run_shell

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }],
}


def bound(emulator, tmp_path) -> str:
    """Cluster podid, role app-role (Pod Identity trust) associated with team-a/app."""
    emulator.create_cluster("podid", tmp_path / "cluster")
    role = emulator.boto3("iam").create_role(RoleName="app-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    emulator.boto3("eks").create_pod_identity_association(
        clusterName="podid", namespace="team-a", serviceAccount="app", roleArn=role["Role"]["Arn"])
    return role["Role"]["Arn"]


def pod_token(emulator, namespace: str, pod: str, cluster: str = "podid") -> str:
    """A token as the kubelet projects it for Pod Identity: bound to a pod, audience pods.eks.amazonaws.com."""
    return subprocess.run(
        [emulator_binary(), "token", "--cluster", cluster, "-n", namespace, "--service-account", "app",
         "--audience", "pods.eks.amazonaws.com", "--pod", pod, "--endpoint-url", emulator.url,
         "--ca-bundle", str(emulator.ca)],
        env=emulator.env(), capture_output=True, text=True, check=True,
    ).stdout.strip()


def test_cli_assume_role_for_pod_identity(emulator, tmp_path):
    role = bound(emulator, tmp_path)
    token = pod_token(emulator, "team-a", "web-0")
    out = run_shell(f"aws eks-auth assume-role-for-pod-identity --cluster-name podid --token {token} --output json",
                    emulator.env(), tmp_path)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["subject"] == {"namespace": "team-a", "serviceAccount": "app"}, got
    assert got["audience"] == "pods.eks.amazonaws.com"
    arn = got["assumedRoleUser"]["arn"]
    assert arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/app-role/eks-podid-web-0-"), arn
    assert got["podIdentityAssociation"]["associationArn"].startswith(f"arn:aws:eks:us-east-1:{ACCOUNT}:"), got
    creds = got["credentials"]

    env = emulator.env()
    env.update(AWS_ACCESS_KEY_ID=creds["accessKeyId"], AWS_SECRET_ACCESS_KEY=creds["secretAccessKey"],
               AWS_SESSION_TOKEN=creds["sessionToken"])
    who = run_shell("aws sts get-caller-identity --query Arn --output text", env, tmp_path)
    assert who.returncode == 0, who.stderr
    assert who.stdout.strip() == arn
    assert role.endswith("/app-role")

    # Another namespace's pod has no association: eks-auth's ResourceNotFoundException (AWS CLI v1 exits 255).
    other = pod_token(emulator, "team-b", "web-1")
    refused = run_shell(f"aws eks-auth assume-role-for-pod-identity --cluster-name podid --token {other}",
                        emulator.env(), tmp_path)
    assert refused.returncode == 255, refused
    assert "(ResourceNotFoundException)" in refused.stderr, refused.stderr
    # A token the model's pattern accepts but no issuer signed.
    forged = token.rsplit(".", 1)[0] + ".AAAA"
    bad = run_shell(f"aws eks-auth assume-role-for-pod-identity --cluster-name podid --token {forged}",
                    emulator.env(), tmp_path)
    assert bad.returncode == 255 and "(InvalidTokenException)" in bad.stderr, bad.stderr


@pytest.fixture
def agent(emulator, tmp_path):
    port = free_port()
    log = tmp_path / "agent.log"
    env = emulator.env()
    proc = subprocess.Popen(
        [emulator_binary(), "agent", "--cluster-name", "podid", "--bind-hosts", "127.0.0.1", "--port", str(port),
         "--probe-port", "0", "--endpoint", emulator.url],
        env=env, stdout=subprocess.DEVNULL, stderr=open(log, "ab"))
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, log.read_text()
            assert time.time() < deadline, "the agent did not listen in 30 s"
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1/credentials"
    proc.terminate()
    proc.wait(timeout=10)


def pod_env(emulator, url: str, token_file) -> dict:
    """A mutated pod's environment: no keys, the container provider's two variables, STS at the emulator."""
    env = {k: v for k, v in emulator.env().items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    env.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=url, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(token_file))
    return env


def test_cli_gets_the_role_through_the_agent(emulator, agent, tmp_path):
    bound(emulator, tmp_path)
    token_file = tmp_path / "eks-pod-identity-token"
    token_file.write_text(pod_token(emulator, "team-a", "web-0"))
    out = run_shell("aws sts get-caller-identity --output json", pod_env(emulator, agent, token_file), tmp_path)
    assert out.returncode == 0, out.stderr
    arn = json.loads(out.stdout)["Arn"]
    assert arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/app-role/eks-podid-web-0-"), arn

    # A token another cluster's issuer signed: the agent relays eks-auth's refusal, the CLI finds no credentials,
    # and the emulator's audit has the decision and its reason.
    emulator.create_cluster("elsewhere", tmp_path / "elsewhere")
    token_file.write_text(pod_token(emulator, "team-a", "web-0", cluster="elsewhere"))
    refused = run_shell("aws sts get-caller-identity", pod_env(emulator, agent, token_file), tmp_path)
    # botocore shows the agent's answer: eks-auth's status and upstream's "(Code): message, fault: client".
    assert refused.returncode != 0
    assert "Received non 200 response 400 from container metadata" in refused.stderr, refused.stderr
    assert "(InvalidTokenException): The token was issued by" in refused.stderr, refused.stderr
    assert refused.stderr.rstrip().endswith("fault: client"), refused.stderr
    audit = subprocess.run([emulator_binary(), "audit", "--json", "--endpoint-url", emulator.url,
                            "--ca-bundle", str(emulator.ca)], env=emulator.env(), capture_output=True, text=True,
                           check=True).stdout
    events = [json.loads(line) for line in audit.splitlines()]
    denied = [e for e in events if e["action"] == "eks-auth:AssumeRoleForPodIdentity" and e["decision"] == "deny"]
    assert denied and denied[-1]["code"] == "InvalidTokenException", events
    assert "elsewhere" in denied[-1]["explanation"] or "issuer" in denied[-1]["explanation"], denied[-1]
