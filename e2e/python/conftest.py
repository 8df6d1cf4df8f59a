"""Fixtures: the real irsa-emulator binary on a free loopback port, and the AWS CLI pointed at it."""

import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ADMIN_KEY = "AKIAIRSAEMULATORTEST"
ADMIN_SECRET = "irsaEmulatorAdminSecretAccessKey00000000"
ACCOUNT = "111122223333"


def emulator_binary() -> str:
    path = os.environ.get("IRSA_EMULATOR_BIN")
    if not path or not Path(path).exists():
        pytest.fail("IRSA_EMULATOR_BIN must name a built irsa-emulator (scripts/test.sh sets it)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Emulator:
    data_dir: Path
    region: str = "us-east-1"
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen = None
    log: Path = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca(self) -> Path:
        return self.data_dir / "ca.pem"

    def start(self) -> "Emulator":
        self.log = self.data_dir.parent / f"emulator-{self.port}.log"
        self.proc = subprocess.Popen(
            [
                emulator_binary(), "serve", "--data-dir", str(self.data_dir),
                "--listen", f"127.0.0.1:{self.port}", "--region", self.region,
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.log, "ab"),
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"emulator exited early: {self.log.read_text()}")
            try:
                ctx = ssl.create_default_context(cafile=str(self.ca))
                with urllib.request.urlopen(f"{self.url}/healthz", context=ctx, timeout=1) as r:
                    if r.status == 200:
                        return self
            except (OSError, ssl.SSLError):
                time.sleep(0.05)
        raise RuntimeError("emulator did not become healthy in 30 s")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()

    def env(self) -> dict:
        """What `eval "$(irsa-emulator env)"` sets, on top of a clean environment."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ENDPOINT_URL=self.url,
            AWS_CA_BUNDLE=str(self.ca),
            AWS_REGION=self.region,
            AWS_DEFAULT_REGION=self.region,
            AWS_ACCESS_KEY_ID=ADMIN_KEY,
            AWS_SECRET_ACCESS_KEY=ADMIN_SECRET,
            AWS_CONFIG_FILE="/dev/null",
            AWS_SHARED_CREDENTIALS_FILE="/dev/null",
            AWS_PAGER="",
        )
        return env

    def create_cluster(self, name: str, out_dir: Path) -> str:
        out = subprocess.run(
            [emulator_binary(), "cluster", "create", name, "--out-dir", str(out_dir)],
            env=self.env(), capture_output=True, text=True, check=True,
        ).stdout
        return next(line.split()[1] for line in out.splitlines() if line.startswith("issuer:"))

    def boto3(self, service: str):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            verify=str(self.ca),
            region_name=self.region,
            aws_access_key_id=ADMIN_KEY,
            aws_secret_access_key=ADMIN_SECRET,
        )


@pytest.fixture
def emulator(tmp_path):
    emu = Emulator(data_dir=tmp_path / "data").start()
    yield emu
    emu.stop()


def run_shell(script: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    """Runs a seed's commands as a user would paste them into bash."""
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, cwd=cwd, capture_output=True, text=True)


def refused(call, **kwargs) -> tuple:
    """Make a boto3 call that must fail: (HTTP status, fault type, code, message), the members AWS's recorded
    answers are compared on (test_aws_recorded_*.py)."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    response = excinfo.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"].get("Type"),
        response["Error"]["Code"],
        response["Error"]["Message"],
    )
