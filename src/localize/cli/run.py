"""CLI: ``localize run FLOW``, the flows run in this process (their code lives in ``flows/cli.py``)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any

from localize.cli.common import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, HelpFormatter, workspace_location
from localize.errors import ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="run a pipeline flow on this machine",
        description="Run one of the Prefect flows on this machine with the same parameters as its\n"
        "deployment. Parameters are checked first (types, course ids, locale codes, that the\n"
        "configuration and source exist): a mistake is a one-line error and starts nothing.\n"
        "Values are JSON when they parse as JSON (lists, numbers, true/false), text otherwise.\n\n"
        "Prefect runs against PREFECT_API_URL when it is set (`make serve` starts one);\n"
        "otherwise the first run starts a local Prefect server in the background (10-40 s,\n"
        "its data and log under PREFECT_HOME, default ./.prefect) and later runs reuse it.\n"
        "`localize run --stop-server` stops it.\n\n"
        "  localize run extract-course --param course=intro-course --param source=COURSE_FOLDER\n"
        "  localize run localize-course --param course=intro-course --param config=localize.toml\n"
        "  localize run sync-all --param listing=courses/ --param locales_dir=locales\n\n"
        "Flows: " + ", ".join(FLOWS),
        formatter_class=HelpFormatter,
    )
    p.add_argument("flow", metavar="FLOW", nargs="?", choices=sorted(FLOWS), help="the flow to run (see Flows below)")
    p.add_argument(
        "--param", "-p", action="append", default=[], metavar="KEY=VALUE", help="a flow parameter (repeat for each)"
    )
    p.add_argument(
        "--stop-server", action="store_true", help="stop the local Prefect server an earlier run started, and exit"
    )
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    if args.stop_server:
        print(_runner().stop_server())
        return EXIT_OK
    if args.flow is None:
        raise ConfigError(f"name a flow to run: {', '.join(FLOWS)} (or --stop-server)")
    params = _parse_params(args.param)
    # The one lazy import of flows/ from the library: Prefect loads only for `localize run`,
    # and only after the parameters are known to be right.
    runner = _runner()
    takes = getattr(runner, "PARAMETERS", {}).get(args.flow, {})
    if args.config and "config" in takes:
        params.setdefault("config", args.config)  # --config, as every command takes it
    if "locales_dir" in takes and "locales_dir" not in params:
        params["locales_dir"] = workspace_location(args)  # the workspace rule of every command
    if args.quiet:
        os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    try:
        completed, result, message = runner.run_flow(args.flow, params)
    except runner.FlowParameterError as e:
        raise ConfigError(str(e)) from None
    if not completed:
        print(f"error: {message}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    if _failed(result):  # the run completed, but some of its items did not (each has its row)
        print(f'{message}; some items failed: see their "error" or "state" above', file=sys.stderr)
        return EXIT_PARTIAL
    print(message, file=sys.stderr)
    return EXIT_OK


_FAILED_STATES = frozenset(("Failed", "Crashed", "rejected", "partially accepted"))


def _failed(result: object) -> bool:
    """Whether a flow's result holds a row that failed: an ``error``, or a failed ``state``."""
    if isinstance(result, dict):
        if result.get("error") or result.get("state") in _FAILED_STATES:
            return True
        return any(_failed(v) for v in result.values())
    return isinstance(result, list) and any(_failed(v) for v in result)


def _runner() -> Any:
    return importlib.import_module("flows.cli")


def _parse_params(pairs: list[str]) -> dict[str, object]:

    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param {pair!r}: write KEY=VALUE")
        try:
            params[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            params[key.replace("-", "_")] = value
    return params


FLOWS = (
    "extract-course",
    "route-course",
    "ingest-returns",
    "publish-course",
    "localize-course",
    "sync-all",
)
"""The flows of ``flows/cli.py`` (a test keeps the two lists equal)."""
