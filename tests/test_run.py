"""`localize run`: parameters checked before Prefect loads; one local server reused across runs."""

from __future__ import annotations

import inspect
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLE

ENV = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")} | {
    "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}

PROBE = """
import sys, time
from localize.cli import main
started = time.monotonic()
code = main(sys.argv[1:])
print(code, "prefect" in sys.modules, round(time.monotonic() - started, 2))
"""


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (
            ["localize-course", "--param", "course=bad id!", "--param", f"source={SAMPLE}"],
            "error: localize-course: --param course='bad id!' is not valid: use letters, digits, '.', '_' and '-' "
            "(for example 8.05-quantum-physics)\n",
        ),
        (
            ["extract-course", "--param", "course=c", "--param", "source=no/such/course"],
            "error: extract-course: --param source=no/such/course: no such file or folder\n",
        ),
        (
            ["localize-course", "--param", "course=intro-course", "--param", f"source={SAMPLE}"],
            "error: localize-course: configuration file localize.toml not found in {cwd}; pass --param config=PATH "
            "(copy src/localize/samples/localize.toml, a documented example, and edit it)\n",
        ),
        (
            ["publish-course", "--param", "course=c", "--param", "config=missing.toml"],
            "error: publish-course: configuration file missing.toml not found; pass --param config=PATH "
            "(copy src/localize/samples/localize.toml, a documented example, and edit it)\n",
        ),
        (
            ["sync-all", "--param", "listing=.", "--param", "nonsense=1"],
            "error: sync-all: unknown parameter 'nonsense'; it takes: listing, locales_dir, max_courses, shards, shard_deployment, shard_wait\n",
        ),
        (["sync-all"], "error: sync-all: missing parameter: --param listing=...\n"),
        (
            ["localize-course", "--param", "cours=intro-course"],  # mistyped: named, not reported as missing
            "error: localize-course: unknown parameter 'cours'; it takes: course, source, locales, config, publish\n",
        ),
        (["route-course", "--param", "course=c", "--param", "locales=es"], None),
        ([], "error: name a flow to run: extract-course, route-course, ingest-returns, publish-course, "
         "localize-course, sync-all (or --stop-server)\n"),
    ],
)  # fmt: skip
def test_bad_parameters_fail_in_one_line_before_prefect_starts(
    argv: list[str], error: str | None, tmp_path: Path
) -> None:
    home = tmp_path / "prefect-home"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "run", *argv],
        cwd=tmp_path, env=ENV | {"PREFECT_HOME": str(home)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    code, prefect_loaded, seconds = done.stdout.split()
    assert (code, prefect_loaded) == ("2", "False"), done.stderr
    assert float(seconds) < 3
    if error is not None:
        assert done.stderr == error.replace("{cwd}", str(tmp_path))
    else:
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not home.exists()  # no server, no Prefect home


def test_the_parameter_schemas_are_the_flows_signatures() -> None:
    import importlib

    from flows import cli

    for name, target in cli.FLOWS.items():
        module, _, attr = target.partition(":")
        flow = getattr(importlib.import_module(module), attr)
        assert flow.name == name
        signature = inspect.signature(flow.fn)
        declared = {k: (None if default is ... else default) for k, (_type, default) in cli.PARAMETERS[name].items()}
        actual = {
            k: (None if p.default is inspect.Parameter.empty else p.default) for k, p in signature.parameters.items()
        }
        assert declared == actual, name
        required = {k for k, (_t, d) in cli.PARAMETERS[name].items() if d is ...}
        assert required == {k for k, p in signature.parameters.items() if p.default is inspect.Parameter.empty}
        # the same types: what Prefect's schema says is what ours says
        ours = cli._model(name).model_json_schema()["properties"]
        theirs = flow.parameters.model_dump()["properties"]
        for key in ours:
            for constraint in ("pattern", "minimum", "minLength"):
                assert _find(ours[key], constraint) == _find(theirs[key], constraint), (name, key, constraint)


def _find(schema: object, key: str) -> object:
    if isinstance(schema, dict):
        if key in schema:
            return schema[key]
        for value in schema.values():
            found = _find(value, key)
            if found is not None:
                return found
    if isinstance(schema, list):
        for value in schema:
            found = _find(value, key)
            if found is not None:
                return found
    return None


@pytest.mark.prefect
def test_runs_reuse_one_local_server_and_stop_server_stops_it(tmp_path: Path) -> None:
    """No PREFECT_API_URL: the first run starts a server under PREFECT_HOME, the second reuses it."""
    env = ENV | {"PREFECT_HOME": str(tmp_path / "home")}
    localize = [sys.executable, "-m", "localize.cli"]
    argv = ["run", "extract-course", "--param", f"source={SAMPLE}", "--param", "course=intro-course",
            "--param", f"locales_dir={tmp_path / 'loc'}"]  # fmt: skip
    record = tmp_path / "home" / "localize-server.json"
    try:
        timings = []
        for _ in range(2):
            started = time.monotonic()
            done = subprocess.run(
                [*localize, *argv], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240
            )
            timings.append(time.monotonic() - started)
            assert done.returncode == 0, done.stderr
            assert "Traceback" not in done.stderr and "ERROR" not in done.stderr, done.stderr
            assert json.loads(done.stdout)["pages"] == 8
        first, second = timings
        assert "starting a local Prefect server" not in done.stderr  # the second run found it
        pid = json.loads(record.read_text())["pid"]
        os.kill(pid, 0)
        assert second < first
        stopped = subprocess.run([*localize, "run", "--stop-server"], env=env, capture_output=True, text=True)
        assert stopped.returncode == 0 and stopped.stdout.startswith(
            "stopped the local Prefect server http://127.0.0.1:"
        )
        assert not record.exists()
        with pytest.raises(ProcessLookupError):
            for _ in range(50):
                os.kill(pid, 0)
                time.sleep(0.2)
    finally:
        if record.exists():
            os.killpg(json.loads(record.read_text())["pid"], signal.SIGKILL)


@pytest.mark.parametrize(
    ("result", "code"),
    [
        ([{"course": "c", "locale": "ar", "region": "r", "published": True, "error": None}], 0),
        ({"catalogs": [{"course": "c", "locale": "es", "written": False, "error": "no ar catalog"}]}, 1),
        ({"reports": [{"file": "x.po", "state": "partially accepted"}]}, 1),
        ([{"course": "c", "state": "Failed", "hashed": 0}], 1),
    ],
)
def test_a_run_whose_items_failed_exits_1(
    result: object, code: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`localize run publish-course --param course=nope` printed the error in its JSON, then
    'publish-course completed', and exited 0; the plain commands exit 1 or 2."""
    from types import SimpleNamespace

    from localize.cli import main
    from localize.cli import run as run_module

    runner = SimpleNamespace(run_flow=lambda name, params: (True, result, f"{name} completed in 0.1 s"))
    runner.FlowParameterError = ValueError
    monkeypatch.setattr(run_module, "_runner", lambda: runner)
    assert main(["run", "publish-course", "--param", "course=c"]) == code
    err = capsys.readouterr().err
    assert err == (
        "publish-course completed in 0.1 s" + ('; some items failed: see their "error" or "state" above' if code else "")
        + "\n"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("config", "argv", "error"),
    [
        (
            '[workspace]\nlocaton = "ws"\n',
            ["route-course", "--param", "course=c", "--param", "config=typo.toml"],
            "error: route-course: typo.toml: workspace.locaton: unknown setting (check the spelling)\n",
        ),
        (
            '[[partners]]\nid = "lima"\nname = "Lima"\nlocales = ["es"]\ninbox = "inbox"\n',
            ["ingest-returns", "--param", "partner=lmia", "--config", "typo.toml"],
            "error: ingest-returns: no partner 'lmia' in the configuration (partners: lima)\n",
        ),
    ],
)
def test_a_mistake_in_the_configuration_or_a_partner_fails_before_prefect_starts(
    config: str, argv: list[str], error: str, tmp_path: Path
) -> None:
    """A typo in a key of the configuration gave a 24-line traceback from inside the flow, and
    an unknown partner an 80-line one: the flow had started."""
    (tmp_path / "typo.toml").write_text(config, encoding="utf-8")
    home = tmp_path / "prefect-home"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "run", *argv],
        cwd=tmp_path, env=ENV | {"PREFECT_HOME": str(home)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.stdout.split()[:2] == ["2", "False"] and done.stderr == error
    assert not home.exists()


def test_run_takes_config_and_the_workspace_rule_like_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`localize run` listed --config and --quiet and ignored them; extract-course wrote into
    ./locales where ./localize.toml named another workspace."""
    from types import SimpleNamespace

    from localize.cli import main
    from localize.cli import run as run_module

    seen: list[dict[str, object]] = []
    runner = SimpleNamespace(
        run_flow=lambda name, params: seen.append(params) or (True, [], f"{name} completed"),
        FlowParameterError=ValueError,
        PARAMETERS={"extract-course": {"course": 0, "source": 0, "locales_dir": 0}, "route-course": {"config": 0}},
    )
    monkeypatch.setattr(run_module, "_runner", lambda: runner)
    monkeypatch.setenv("PREFECT_LOGGING_LEVEL", "INFO")  # restored after the test (-q sets it)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "localize.toml").write_text('[workspace]\nlocation = "ws"\n', encoding="utf-8")
    (tmp_path / "other.toml").write_text('[workspace]\nlocation = "elsewhere"\n', encoding="utf-8")
    assert main(["run", "extract-course", "--param", "course=c", "--param", "source=s"]) == 0
    assert main(["run", "route-course", "--param", "course=c", "--config", "other.toml", "-q"]) == 0
    assert main(["run", "extract-course", "--param", "course=c", "--param", "locales_dir=mine"]) == 0
    assert seen[0]["locales_dir"] == str(tmp_path / "ws") and seen[1]["config"] == "other.toml"
    assert seen[2]["locales_dir"] == "mine" and os.environ["PREFECT_LOGGING_LEVEL"] == "WARNING"
