"""``localize run FLOW``: run a pipeline flow on this machine, like its deployment.

The ``localize`` command reaches this module through one documented lazy import
(:mod:`localize.cli.run`), so the library never imports Prefect. This module
does not import Prefect at its top either: parameters are checked against
:data:`PARAMETERS` (the flows' own pydantic types from :mod:`flows.params`; a
test keeps them equal to the flows' signatures) and the paths they name must
exist, so a wrong parameter costs a one-line error, not a Prefect start.

Prefect then runs against a server that outlives the run: ``PREFECT_API_URL``
when set (for example the one ``make serve`` starts), else a local server this
module starts in the background on first use under ``PREFECT_HOME`` (default
``./.prefect``) and finds again through ``PREFECT_HOME/localize-server.json``
and a health check. ``localize run --stop-server`` stops it.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from flows import without_telemetry
from flows.params import ConfigPath, CourseId, Locales

FLOWS = {
    "extract-course": "flows.extract_course:extract_course",
    "route-course": "flows.route_course:route_course",
    "ingest-returns": "flows.ingest_returns:ingest_returns",
    "publish-course": "flows.publish_course:publish_course",
    "localize-course": "flows.localize_course:localize_course",
    "sync-all": "flows.sync_all:sync_all",
}

_REQUIRED: Any = ...
PARAMETERS: dict[str, dict[str, tuple[Any, Any]]] = {
    "extract-course": {
        "source": (str, _REQUIRED),
        "course": (CourseId, _REQUIRED),
        "locales_dir": (str, "locales"),
        "source_locale": (str, "en"),
    },
    "route-course": {
        "course": (CourseId, _REQUIRED),
        "locales": (Locales | None, None),
        "config": (ConfigPath, "localize.toml"),
    },
    "ingest-returns": {"partner": (str | None, None), "config": (ConfigPath, "localize.toml")},
    "publish-course": {
        "course": (CourseId, _REQUIRED),
        "locales": (Locales | None, None),
        "region": (str | None, None),
        "config": (ConfigPath, "localize.toml"),
    },
    "localize-course": {
        "course": (CourseId, _REQUIRED),
        "source": (str | None, None),
        "locales": (Locales | None, None),
        "config": (ConfigPath, "localize.toml"),
        "publish": (bool, True),
    },
    "sync-all": {
        "listing": (str, _REQUIRED),
        "locales_dir": (str, "locales"),
        "max_courses": (Annotated[int, Field(ge=1)], 10_000),
        "shards": (Annotated[int, Field(ge=1, le=1024)], 1),
        "shard_deployment": (str | None, None),
        "shard_wait": (Annotated[float, Field(gt=0)], 600.0),
    },
}
"""Each flow's parameters: name -> (type, default; ``...`` when required), as in its signature."""

_FIX = {
    "course": "use letters, digits, '.', '_' and '-' (for example 8.05-quantum-physics)",
    "locales": 'give a JSON list of locale codes, for example \'["es", "pt_BR"]\'',
}
_PATHS = ("source", "listing")  # parameters naming an input that must exist (when local)


class FlowParameterError(ValueError):
    """The flow does not take these parameters, or a path they name does not exist."""


def _model(name: str) -> type[BaseModel]:
    fields: dict[str, Any] = dict(PARAMETERS[name])
    return create_model(f"{name}-parameters", __config__=ConfigDict(extra="forbid", strict=False), **fields)


def check_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters with defaults filled in, or FlowParameterError in one line."""
    try:
        values = _model(name).model_validate(params).model_dump()
    except ValidationError as e:
        errors = e.errors()  # an unknown name first: a mistyped one is also reported as missing
        err = next((x for x in errors if x["type"] == "extra_forbidden"), errors[0])
        key = ".".join(str(x) for x in err["loc"])
        top = str(err["loc"][0]) if err["loc"] else key
        takes = ", ".join(PARAMETERS[name])
        if err["type"] == "extra_forbidden":
            raise FlowParameterError(f"{name}: unknown parameter {key!r}; it takes: {takes}") from None
        if err["type"] == "missing":
            raise FlowParameterError(f"{name}: missing parameter: --param {key}=...") from None
        fix = _FIX.get(top, err["msg"].lower())
        raise FlowParameterError(f"{name}: --param {key}={err.get('input')!r} is not valid: {fix}") from None
    for key in _PATHS:
        value = values.get(key)
        if isinstance(value, str) and "://" not in value and not Path(value).exists():
            raise FlowParameterError(f"{name}: --param {key}={value}: no such file or folder")
    config = values.get("config")
    if isinstance(config, str) and "://" not in config and not Path(config).is_file():
        where = "" if params.get("config") else f" in {Path.cwd()}"
        raise FlowParameterError(
            f"{name}: configuration file {config} not found{where}; pass --param config=PATH "
            "(copy src/localize/samples/localize.toml, a documented example, and edit it)"
        )
    if isinstance(config, str) and "://" not in config:
        from localize.config import load_config
        from localize.errors import LocalizeError

        try:  # a mistake in it is a one-line error before anything starts, as for every command
            loaded = load_config(config)
            if values.get("partner"):
                loaded.partner(str(values["partner"]))
        except LocalizeError as e:
            raise FlowParameterError(f"{name}: {e}") from None
    return values


# -- the local server ------------------------------------------------------------------

SERVER_FILE = "localize-server.json"
STARTUP_SECONDS = 90.0


def prefect_home() -> Path:
    """PREFECT_HOME (default ./.prefect, as the Makefile sets), made absolute and exported."""
    home = Path(os.environ.get("PREFECT_HOME") or ".prefect").expanduser().resolve()
    os.environ["PREFECT_HOME"] = str(home)
    return home


def _healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_record(home: Path) -> dict[str, Any] | None:
    try:
        record: dict[str, Any] = json.loads((home / SERVER_FILE).read_text())
        return record
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    """One `localize run` at a time decides whether to start the server."""
    home.mkdir(parents=True, exist_ok=True)
    with (home / "localize-server.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_server() -> tuple[str, str]:
    """The API URL to run against and where it comes from; starts the local server if needed."""
    url = os.environ.get("PREFECT_API_URL")
    if url:
        return url, "PREFECT_API_URL"
    if "prefect" in sys.modules:  # already configured in this process (tests: prefect_test_harness)
        settings = importlib.import_module("prefect.settings")
        configured = settings.get_current_settings().api.url
        if configured:
            return str(configured), "this process's Prefect settings"
    home = prefect_home()
    with _locked(home):
        record = _read_record(home)
        if record and _alive(int(record["pid"])) and _healthy(record["url"]):
            os.environ["PREFECT_API_URL"] = record["url"]
            return str(record["url"]), "reused"
        port = _free_port()
        url = f"http://127.0.0.1:{port}/api"
        without_telemetry()
        env = os.environ | {"PREFECT_HOME": str(home), "PREFECT_LOGGING_LEVEL": "WARNING"}
        log = home / "server.log"
        print(f"starting a local Prefect server on 127.0.0.1:{port} (once; later runs reuse it)", file=sys.stderr)
        with log.open("ab") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(url, timeout=1.0):
            if server.poll() is not None or time.monotonic() > deadline:
                if server.poll() is None:
                    server.terminate()
                raise FlowParameterError(f"the Prefect server did not start; see {log}")
            time.sleep(0.3)
        (home / SERVER_FILE).write_text(json.dumps({"pid": server.pid, "url": url, "log": str(log)}) + "\n")
        os.environ["PREFECT_API_URL"] = url
        return url, "started"


def stop_server() -> str:
    """Stop the server ``ensure_server`` started under PREFECT_HOME; says what it did."""
    home = prefect_home()
    if not (home / SERVER_FILE).exists():  # nothing to stop: no folder made to say so
        return f"no local Prefect server recorded in {home}"
    with _locked(home):
        record = _read_record(home)
        if record is None:
            return f"no local Prefect server recorded in {home}"
        pid = int(record["pid"])
        (home / SERVER_FILE).unlink(missing_ok=True)
        if not _alive(pid):
            return f"the local Prefect server (pid {pid}) had already stopped"
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while _alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.2)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        return f"stopped the local Prefect server {record['url']} (pid {pid})"


def run_flow(name: str, params: dict[str, Any]) -> tuple[bool, Any, str]:
    """Run flow ``name`` (parameters checked first); returns (completed, result, message)."""
    check_params(name, params)
    ensure_server()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    module_name, _, attr = FLOWS[name].partition(":")
    flow = getattr(importlib.import_module(module_name), attr)
    started = time.monotonic()
    print(f"running {name} with {json.dumps(params)}", file=sys.stderr)
    try:
        state = flow(**params, return_state=True)
    except TypeError as e:
        raise FlowParameterError(f"{name}: {e}") from None
    elapsed = time.monotonic() - started
    if not state.is_completed():
        return False, None, f"{name} {state.name.lower()} after {elapsed:.1f} s: {state.message}"
    return True, state.result(), f"{name} completed in {elapsed:.1f} s"
