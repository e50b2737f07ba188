"""Deployments on a real local Prefect server with a process worker."""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SAMPLE

BIN = Path(sys.executable).parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_prefect_yaml_declares_every_flow_with_a_nightly_sync() -> None:
    config = yaml.safe_load((ROOT / "infra" / "prefect.yaml").read_text())
    names = set()
    for d in config["deployments"]:
        path, _, attr = d["entrypoint"].partition(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        flow = getattr(module, attr)
        assert flow.name == d["name"]
        assert d["work_pool"]["name"] == "localize"
        names.add(d["name"])
    assert names == {
        "extract-course",
        "route-course",
        "ingest-returns",
        "publish-course",
        "localize-course",
        "sync-all",
        "sync-shard",
    }
    [nightly] = [d for d in config["deployments"] if d["name"] == "sync-all"]
    assert nightly["schedules"][0]["cron"] == "0 2 * * *"


def test_a_deployment_runs_to_completion_on_a_process_worker(tmp_path: Path) -> None:
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "LOCALIZE_ROOT": str(ROOT),
    }
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=(tmp_path / "server.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the Prefect server did not start: " + (tmp_path / "server.log").read_text()[-2000:])

        def prefect(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [str(BIN / "prefect"), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
            )

        assert prefect("work-pool", "create", "localize", "--type", "process").returncode == 0
        deployed = prefect("--no-prompt", "deploy", "--prefect-file", "infra/prefect.yaml", "--name", "extract-course")
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        locales = tmp_path / "locales"
        run = prefect(
            "deployment", "run", "extract-course/extract-course",
            "--param", f"source={SAMPLE}", "--param", "course=intro-course", "--param", f"locales_dir={locales}",
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        worker = prefect("worker", "start", "--pool", "localize", "--run-once", timeout=240)
        assert worker.returncode == 0, worker.stdout[-3000:] + worker.stderr[-3000:]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/flow_runs/filter",
            data=json.dumps({}).encode(),
            headers={"Content-Type": "application/json"},
        )
        runs = json.loads(urllib.request.urlopen(request, timeout=10).read())
        assert [(r["state_type"], r["parameters"]["course"]) for r in runs] == [("COMPLETED", "intro-course")]
        pot = (locales / "templates" / "intro-course.pot").read_text()
        assert 'msgid "Course Description"' in pot
        listed = prefect("deployment", "ls")
        assert "extract-course/extract-course" in listed.stdout
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_production_layout_files_parse() -> None:
    compose = yaml.safe_load((ROOT / "infra" / "compose.yaml").read_text())
    assert {"postgres", "prefect-server", "worker", "seaweedfs"} <= set(compose["services"])
    template = json.loads((ROOT / "infra" / "k8s-work-pool-template.json").read_text())
    assert "job_configuration" in template and "variables" in template
    assert "{{ image }}" in json.dumps(template["job_configuration"])


def test_make_serve_comes_up_on_a_fresh_prefect_home_and_stops(tmp_path: Path) -> None:
    """infra/serve.sh (`make serve`) on a Prefect home that does not exist yet: server, pool,
    deployments and worker come up; SIGTERM (as Ctrl-C) stops the worker and the server."""
    port = _port()
    home = tmp_path / "fresh" / ".prefect"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {"PREFECT_HOME": str(home), "PREFECT_PORT": str(port), "LOCALIZE_BIN": str(BIN)}
    log = tmp_path / "serve.log"
    serve = subprocess.Popen(
        [str(ROOT / "infra" / "serve.sh")], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    health = f"http://127.0.0.1:{port}/api/health"
    try:
        deadline = time.monotonic() + 240
        while "Prefect UI:" not in log.read_text() and time.monotonic() < deadline:
            assert serve.poll() is None, log.read_text()[-3000:]
            time.sleep(0.5)
        assert "Prefect UI:" in log.read_text(), log.read_text()[-3000:]
        assert (home / "server.log").is_file()
        urllib.request.urlopen(health, timeout=5)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/deployments/filter", data=b"{}", headers={"Content-Type": "application/json"}
        )
        names = {d["name"] for d in json.loads(urllib.request.urlopen(request, timeout=10).read())}
        assert {"extract-course", "localize-course", "sync-all"} <= names
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            raise
    for _ in range(40):  # the server went with it
        try:
            urllib.request.urlopen(health, timeout=1)
        except OSError:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the Prefect server is still running after serve.sh stopped")


SHARDED_DRIVER = """\
import json, sys
from flows.sync_all import sync_all
print(json.dumps(sync_all(listing=sys.argv[1], locales_dir=sys.argv[2], shards=3,
                          shard_deployment="sync-shard/sync-shard")))
"""


def test_sync_all_shards_are_flow_runs_that_two_process_workers_take(tmp_path: Path) -> None:
    """sync-all on a real server: its shards are sync-shard flow runs on the pool, taken by two
    workers (one run at a time each); the rows come back combined, and a rerun parses nothing."""
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(tmp_path / "results"),
        "LOCALIZE_ROOT": str(ROOT),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    listing = tmp_path / "courses"
    for i in range(5):
        (listing / f"course-{i}").mkdir(parents=True)
        (listing / f"course-{i}" / "index.html").write_text(f"<title>Course {i}</title><p>Unique text {i}</p>")
        os.utime(listing / f"course-{i}" / "index.html", (time.time() - 60,) * 2)
    procs: list[subprocess.Popen[bytes]] = []
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=(tmp_path / "server.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the Prefect server did not start: " + (tmp_path / "server.log").read_text()[-2000:])

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)

        assert run(str(BIN / "prefect"), "work-pool", "create", "localize", "--type", "process").returncode == 0
        deployed = run(
            str(BIN / "prefect"),
            "--no-prompt",
            "deploy",
            "--prefect-file",
            "infra/prefect.yaml",
            "--name",
            "sync-shard",
        )
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        for i in range(2):
            command = [str(BIN / "prefect"), "worker", "start", "--pool", "localize", "--limit", "1"]
            log = (tmp_path / f"worker-{i}.log").open("wb")
            procs.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
        ws = tmp_path / "ws"
        results = []
        for _ in range(2):
            done = run(sys.executable, "-c", SHARDED_DRIVER, str(listing), str(ws))
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        cold, again = results
        assert [r["course"] for r in cold] == [f"course-{i}" for i in range(5)]
        assert [(r["state"], r["parsed"]) for r in cold] == [("Completed", 1)] * 5
        assert {r["shard"] for r in cold} <= {0, 1, 2} and len({r["shard"] for r in cold}) > 1
        assert [(r["state"], r["parsed"], r["hashed"]) for r in again] == [("Cached", 0, 0)] * 5
        assert sorted(p.name for p in (ws / "templates").iterdir()) == [f"course-{i}.pot" for i in range(5)]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/flow_runs/filter",
            data=json.dumps({}).encode(),
            headers={"Content-Type": "application/json"},
        )
        runs = json.loads(urllib.request.urlopen(request, timeout=10).read())
        shard_runs = [r for r in runs if r["name"].startswith("sync-shard-")]
        assert len(shard_runs) == 2 * len({r["shard"] for r in cold})
        assert {r["state_type"] for r in shard_runs} == {"COMPLETED"}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
