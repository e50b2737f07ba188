"""CLI: ``localize run FLOW``, the flows run in this process (their code lives in ``flows/cli.py``)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from localize.cli.common import EXIT_FAILED, EXIT_OK, HelpFormatter
from localize.errors import ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="run a pipeline flow locally",
        description="Run one of the Prefect flows on this machine with the same parameters as its\n"
        "deployment (Prefect starts a temporary server in-process unless PREFECT_API_URL is set).\n"
        "Values are JSON when they parse as JSON (lists, numbers, true/false), text otherwise.\n\n"
        "  localize run localize-course --param course=intro-course --param config=localize.toml\n"
        "  localize run sync-all --param listing=courses/ --param locales_dir=locales\n\n"
        "Flows: " + ", ".join(FLOWS),
        formatter_class=HelpFormatter,
    )
    p.add_argument("flow", metavar="FLOW", choices=sorted(FLOWS))
    p.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    params = _parse_params(args.param)
    # The one lazy import of flows/ from the library: Prefect loads only for `localize run`.
    runner = importlib.import_module("flows.cli")
    try:
        completed, result, message = runner.run_flow(args.flow, params)
    except runner.FlowParameterError as e:
        raise ConfigError(str(e)) from None
    if not completed:
        print(f"error: {message}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    print(message, file=sys.stderr)
    return EXIT_OK


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
