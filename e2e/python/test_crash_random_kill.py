"""Crash safety under fire: 1,000 CreateRole/AttachRolePolicy calls while the emulator is `kill -9`ed at random
moments and restarted. Every call that was answered 200 must be there afterwards, and the database must open
cleanly after every kill. Calls cut off mid-flight are retried the way a careful client would."""

import random
import sqlite3
import threading
import time

import boto3
import botocore.config
import botocore.exceptions

from conftest import ACCOUNT, ADMIN_KEY, ADMIN_SECRET, Emulator

CALLS = 1000
KILLS = 25
POLICY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    f'"Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}'
)


class Server:
    """The emulator process, killed and restarted by one thread while another calls it."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.emu = Emulator(data_dir=data_dir).start()
        self.lock = threading.Lock()
        self.kills = 0
        self.integrity = []

    def kill_and_restart(self):
        with self.lock:
            self.emu.kill9()
            self.kills += 1
            conn = sqlite3.connect(self.data_dir / "state.db")
            self.integrity.append(conn.execute("PRAGMA integrity_check").fetchone()[0])
            conn.close()
            self.emu = Emulator(data_dir=self.data_dir, port=self.emu.port).start()


def client(emu: Emulator):
    return boto3.client(
        "iam",
        endpoint_url=emu.url,
        verify=str(emu.ca),
        region_name="us-east-1",
        aws_access_key_id=ADMIN_KEY,
        aws_secret_access_key=ADMIN_SECRET,
        config=botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=10),
    )


class Caller:
    def __init__(self, server: Server):
        self.server = server
        self.iam = client(server.emu)

    def call_until_answered(self, operation: str, **params) -> str:
        """'ok' for a 200, else the AWS error code; a call the crash cut off (no answer at all) is sent again."""
        while True:
            try:
                getattr(self.iam, operation)(**params)
                return "ok"
            except botocore.exceptions.ClientError as e:
                return e.response["Error"]["Code"]
            except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError,
                    botocore.exceptions.ReadTimeoutError, botocore.exceptions.SSLError):
                time.sleep(0.02)
                self.iam = client(self.server.emu)


def test_random_kill_9_loses_no_acknowledged_call(tmp_path):
    server = Server(tmp_path / "data")
    rng = random.Random(20261122)
    # Kill points tied to calls, not to the clock, so a fast machine gets as many crashes as a slow one: just
    # before the call is sent, while it is in flight, or as it commits.
    kill_before = set(rng.sample(range(CALLS), KILLS))
    acknowledged_roles, acknowledged_attachments = [], []
    caller = Caller(server)
    timers = []

    def call(index: int, operation: str, **params) -> str:
        if index in kill_before:
            timer = threading.Timer(rng.uniform(0.0, 0.02), server.kill_and_restart)
            timer.start()
            timers.append(timer)
        return caller.call_until_answered(operation, **params)

    for i in range(CALLS // 2):
        name = f"crash-{i}"
        created = call(2 * i, "create_role", RoleName=name, AssumeRolePolicyDocument=TRUST)
        # EntityAlreadyExists: an earlier attempt committed but its answer was lost to a kill.
        assert created in ("ok", "EntityAlreadyExists"), f"CreateRole {name}: {created}"
        if created == "ok":
            acknowledged_roles.append(name)
        attached = call(2 * i + 1, "attach_role_policy", RoleName=name, PolicyArn=POLICY)
        assert attached == "ok", f"AttachRolePolicy {name}: {attached}"
        acknowledged_attachments.append(name)
    for timer in timers:
        timer.join()

    try:
        assert server.kills == KILLS, f"{server.kills} kills, {KILLS} planned"
        assert set(server.integrity) == {"ok"}, f"integrity_check after kills: {server.integrity}"
        iam = client(server.emu)
        names = set()
        for page in iam.get_paginator("list_roles").paginate(PaginationConfig={"PageSize": 1000}):
            names.update(r["RoleName"] for r in page["Roles"])
        lost = [n for n in acknowledged_roles if n not in names]
        assert lost == [], f"{len(lost)} acknowledged CreateRole calls lost, e.g. {lost[:5]}"
        missing_attachment = [
            n for n in acknowledged_attachments
            if [a["PolicyArn"] for a in iam.list_attached_role_policies(RoleName=n)["AttachedPolicies"]] != [POLICY]
        ]
        assert missing_attachment == [], f"acknowledged AttachRolePolicy lost: {missing_attachment[:5]}"
        print(f"{server.kills} kills, {len(acknowledged_roles)} + {len(acknowledged_attachments)} acknowledged calls, 0 lost")
    finally:
        server.emu.stop()
