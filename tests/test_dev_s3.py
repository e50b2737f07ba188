"""`make s3` (python -m localize_dev.seaweed) and the launcher's clean-up when a start fails."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from localize.errors import StorageError
from localize_dev.seaweed import SeaweedFS

ENV = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
    "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"
}


def _processes_using(folder: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if str(folder).encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def test_a_failed_start_stops_the_weed_process(tmp_path: Path) -> None:
    server = SeaweedFS(tmp_path / "data", buckets=("Not A Valid Bucket!",))
    with pytest.raises(StorageError):
        server.start(timeout=20)
    assert server.process is None
    assert _processes_using(tmp_path / "data") == []


def test_make_s3_prints_the_environment_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "localize_dev.seaweed", "--dir", str(tmp_path / "s3"), "--port", "0", "--bucket", "dev", "--bucket", "demo"],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(8)]
        exports = dict(
            line.removeprefix("export ").strip().split("=", 1) for line in lines if line.startswith("export ")
        )
        assert set(exports) == {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"}
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert "buckets s3://dev, s3://demo" in lines[0]  # make s3: localize-dev and the sample's localize-demo
        from localize.storage.s3 import client_for

        client = client_for(exports["AWS_ENDPOINT_URL"], exports["AWS_ACCESS_KEY_ID"], exports["AWS_SECRET_ACCESS_KEY"])
        client.put_object(Bucket="dev", Key="hello.txt", Body=b"hi")
        assert client.get_object(Bucket="dev", Key="hello.txt")["Body"].read() == b"hi"
        client.put_object(Bucket="demo", Key="hello.txt", Body=b"hi")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 0
    assert _processes_using(tmp_path / "s3") == []
