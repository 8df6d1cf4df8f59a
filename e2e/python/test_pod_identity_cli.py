"""The real AWS CLI against the emulator's EKS Pod Identity association API: create, the duplicate that EKS
refuses (ResourceInUseException, botocore `eks` model), list with the CLI's own pagination and filters,
describe, delete. The members checked are those of botocore's PodIdentityAssociation shapes."""

import json

from conftest import run_shell

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }],
}


def aws(emulator, cwd, command: str):
    return run_shell(f"aws {command} --output json", emulator.env(), cwd)


def ok(out) -> dict:
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_cli_manages_pod_identity_associations(emulator, tmp_path):
    emulator.create_cluster("podid", tmp_path / "cluster")
    role = emulator.boto3("iam").create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]

    created = []
    for ns in ["team-a", "team-b", "team-c"]:
        a = ok(aws(emulator, tmp_path, f"eks create-pod-identity-association --cluster-name podid "
                                       f"--namespace {ns} --service-account app --role-arn {role}"))["association"]
        assert (a["namespace"], a["serviceAccount"], a["roleArn"], a["clusterName"]) == (ns, "app", role, "podid")
        assert a["associationArn"].endswith(f"/podid/{a['associationId']}"), a
        created.append(a["associationId"])

    dup = aws(emulator, tmp_path, "eks create-pod-identity-association --cluster-name podid "
                                  f"--namespace team-a --service-account app --role-arn {role}")
    assert dup.returncode != 0
    assert "ResourceInUseException" in dup.stderr, dup.stderr

    # --page-size 1: the CLI follows nextToken through every page.
    listed = ok(aws(emulator, tmp_path, "eks list-pod-identity-associations --cluster-name podid --page-size 1"))
    assert sorted(s["associationId"] for s in listed["associations"]) == sorted(created)
    only_b = ok(aws(emulator, tmp_path, "eks list-pod-identity-associations --cluster-name podid --namespace team-b"))
    assert [s["namespace"] for s in only_b["associations"]] == ["team-b"]

    described = ok(aws(emulator, tmp_path, "eks describe-pod-identity-association --cluster-name podid "
                                           f"--association-id {created[1]}"))["association"]
    assert described["namespace"] == "team-b" and described["disableSessionTags"] is False, described

    ok(aws(emulator, tmp_path, f"eks delete-pod-identity-association --cluster-name podid --association-id {created[1]}"))
    gone = aws(emulator, tmp_path, f"eks describe-pod-identity-association --cluster-name podid --association-id {created[1]}")
    assert gone.returncode != 0 and "ResourceNotFoundException" in gone.stderr, gone.stderr
