"""Every command the README shows works as written, in a fresh copy of the repository.

Commands come from the README's ``sh`` code blocks and from inline code (tables and prose)
that starts with ``localize ``, ``make `` or ``python ``. They run in README order in a copy
of the tracked files, with the shared interpreter's environment first on PATH (no venv is
created). Each one not run is in SKIPPED with the reason; the test fails on a command that
is neither run nor skipped, and on a skip the README no longer shows.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

README = ROOT / "README.md"
BIN = Path(sys.executable).parent
STAMP = ".venv/.installed-dev"

PLACEHOLDER = "a placeholder (SOURCE, ID, LL, FILE, DIR, …) stands for the reader's own value"
SKIPPED = {
    "make test": "the whole suite itself (it runs this test)",
    "make bench": "minutes on the real corpus; writes BENCHMARKS.md",
    "make serve": "a long-running server: tests/test_deployments.py starts it on a fresh Prefect home and stops it",
    "make s3": "a long-running server: tests/test_dev_s3.py starts `python -m localize_dev.seaweed` and stops it",
    "make demo": "about two minutes (SeaweedFS and two Prefect runs): over the one-minute budget for this test",
    "make install": "creates .venv; this test uses the shared interpreter instead",
    "localize access": "a command named in prose (it needs --out and a configuration)",
    "localize extract": "a command named in prose (the Guarantees section; the code blocks run it)",
    "localize report": "a command named in prose (Publishing and mirrors; the table shows it with --out)",
    "localize tm list": "a command named in prose (the Commands table shows it with --locale)",
    "localize consistency": "a command named in prose (the Commands table shows it with --locale)",
    "localize run": "a command named in prose (the code block above runs it)",
    "localize publish": "a command named in prose (the Commands table shows it with --course and --locale)",
    "python -m flows.extract_course": "a command named in prose (the code block above runs it)",
}


def commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    found: list[str] = []
    for block in re.finditer(r"^```sh\n(.*?)^```", text, flags=re.M | re.S):
        for line in block.group(1).splitlines():
            command = line.split("  #")[0].strip()
            if command:
                found.append(command)
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    for span in re.findall(r"`([^`\n]+)`", prose):
        if re.match(r"(localize|make|python) ", span):
            found.append(span.strip())
    return list(dict.fromkeys(found))


def skip_reason(command: str) -> str | None:
    if command in SKIPPED:
        return SKIPPED[command]
    if re.search(r"\b[A-Z][A-Z0-9_.]*\b|…|\[|\bk=v\b", command.replace("--", "")):
        return PLACEHOLDER
    return None


def test_every_readme_command_is_run_or_skipped_for_a_reason() -> None:
    found = commands()
    assert "localize --help" in found and "make demo" in found
    stale = set(SKIPPED) - set(found)
    assert not stale, f"SKIPPED names commands the README no longer shows: {stale}"
    placeholders = [c for c in found if skip_reason(c) == PLACEHOLDER]
    assert "localize run FLOW --param k=v" in placeholders
    assert all(not c.startswith("localize extract src/") for c in placeholders)


def _fresh_copy(dest: Path) -> Path:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    for name in filter(None, tracked):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.mark.prefect
def test_readme_commands_work_as_written_in_a_fresh_copy(tmp_path: Path) -> None:
    repo = _fresh_copy(tmp_path / "localize")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "AWS_", "VIRTUAL_ENV"))}
    env |= {
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": f"{repo / 'src'}{os.pathsep}{repo}",
        "PREFECT_HOME": str(repo / ".prefect"),  # as the Makefile sets it
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    ran = []
    try:
        for command in commands():
            if skip_reason(command) is not None:
                continue
            argv = command
            if command.startswith("make "):  # the shared venv, never an install into it
                argv = command.replace("make ", f"make -o {STAMP} BIN={BIN} ", 1)
            done = subprocess.run(argv, shell=True, cwd=repo, env=env, capture_output=True, text=True, timeout=400)
            assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
            if command.startswith("localize run "):
                assert "Traceback" not in done.stderr, f"{command}\n{done.stderr[-3000:]}"
            ran.append(command)
    finally:
        subprocess.run(
            [sys.executable, "-m", "localize.cli", "run", "--stop-server"], cwd=repo, env=env, capture_output=True
        )
    assert {"localize --help", "make lint", "make typecheck", "localize run --stop-server"} <= set(ran)
    assert (repo / "build" / "qps-ploc" / "index.html").is_file()
    assert (repo / "locales" / "templates" / "intro-course.pot").is_file()
