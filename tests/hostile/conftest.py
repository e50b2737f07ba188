"""The hostile-input suite: everything a partner, a page or a bucket controls, attacked.

Every case asserts the exact error (no traceback), that what was refused left the
catalog of record byte-identical, and that nothing of the process environment or
of another partner's data reaches a partner-visible file. Run alone with
``pytest -m hostile``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Planted in the environment for the whole suite: it must never show up in any file a partner can see.
CANARY = "CANARY-7f3a9c-do-not-leak"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/hostile/" in str(item.fspath):
            item.add_marker(pytest.mark.hostile)


@pytest.fixture(autouse=True)
def _canary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALIZE_TEST_CANARY", CANARY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY_CANARY", CANARY)


def assert_no_leak(*roots: Path) -> None:
    """No file under ``roots`` holds the canary or another process secret."""
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                assert CANARY.encode() not in data, f"{path} leaks the environment"
                assert os.environ.get("AWS_SECRET_ACCESS_KEY", "\0never").encode() not in data or not os.environ.get(
                    "AWS_SECRET_ACCESS_KEY"
                ), f"{path} leaks AWS credentials"
