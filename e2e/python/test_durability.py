"""State survives restarts and `kill -9`: every write that was answered 200 is there afterwards."""

import json
import sqlite3

import botocore.exceptions

from conftest import Emulator


def trust_for(provider_arn: str, provider: str, sa: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {f"{provider}:sub": f"system:serviceaccount:default:{sa}"}},
                }
            ],
        }
    )


def test_restart_keeps_everything(tmp_path):
    emu = Emulator(data_dir=tmp_path / "data").start()
    issuer = emu.create_cluster("keep", tmp_path / "keys")
    iam = emu.boto3("iam")
    provider_arn = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"])[
        "OpenIDConnectProviderArn"
    ]
    provider = issuer.removeprefix("https://")
    iam.create_role(RoleName="r1", AssumeRolePolicyDocument=trust_for(provider_arn, provider, "a"))
    policy_arn = iam.create_policy(
        PolicyName="p1",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="r1", PolicyArn=policy_arn)
    eks_before = emu.boto3("eks").describe_cluster(name="keep")["cluster"]
    ca_before = emu.ca.read_text()
    emu.stop()

    emu = Emulator(data_dir=tmp_path / "data", port=emu.port).start()
    try:
        assert emu.ca.read_text() == ca_before, "the CA clients trust must not change across restarts"
        iam = emu.boto3("iam")
        assert iam.get_role(RoleName="r1")["Role"]["Arn"].endswith(":role/r1")
        attached = iam.list_attached_role_policies(RoleName="r1")["AttachedPolicies"]
        assert [a["PolicyArn"] for a in attached] == [policy_arn]
        assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn)["ClientIDList"] == [
            "sts.amazonaws.com"
        ]
        eks_after = emu.boto3("eks").describe_cluster(name="keep")["cluster"]
        assert eks_after["identity"] == eks_before["identity"]
    finally:
        emu.stop()


def test_kill_9_loses_no_acknowledged_write(tmp_path):
    data = tmp_path / "data"
    emu = Emulator(data_dir=data).start()
    issuer = emu.create_cluster("crash", tmp_path / "keys")
    provider = issuer.removeprefix("https://")
    iam = emu.boto3("iam")
    provider_arn = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"])[
        "OpenIDConnectProviderArn"
    ]
    acknowledged = []
    for round_ in range(3):
        for i in range(40):
            name = f"role-{round_}-{i}"
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_for(provider_arn, provider, name))
            iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
            acknowledged.append(name)
        # Killed right after the last 200, with no chance to flush anything.
        emu.kill9()
        conn = sqlite3.connect(data / "state.db")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
        emu = Emulator(data_dir=data, port=emu.port).start()
        iam = emu.boto3("iam")

    try:
        names = set()
        for page in iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 50}):
            names.update(r["RoleName"] for r in page["Roles"])
        missing = [n for n in acknowledged if n not in names]
        assert missing == [], f"lost acknowledged roles: {missing[:5]}"
        for name in acknowledged[::17]:
            attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
            assert [a["PolicyName"] for a in attached] == ["AmazonS3ReadOnlyAccess"]
    finally:
        emu.stop()


def test_failed_request_changes_nothing(emulator):
    iam = emulator.boto3("iam")
    try:
        iam.create_role(RoleName="bad", AssumeRolePolicyDocument="{not json")
        raise AssertionError("malformed trust policy accepted")
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "MalformedPolicyDocument"
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == []
