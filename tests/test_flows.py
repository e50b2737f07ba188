"""Flows on a real Prefect (prefect_test_harness: a temporary local API server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SAMPLE
from localize.po import read_po

pytestmark = pytest.mark.prefect


def test_extract_course_flow_writes_the_template(prefect_harness: None, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client  # noqa: F401  (imported inside the harness)

    from flows.extract_course import extract_course

    state = extract_course(str(SAMPLE), "intro-course", str(tmp_path), return_state=True)
    assert state.is_completed()
    summary = state.result()
    pot = tmp_path / "templates" / "intro-course.pot"
    assert summary["path"] == str(pot) and summary["written"] is True
    assert summary["pages"] == 8 and summary["failures"] == []
    catalog = read_po(pot.read_bytes(), str(pot))
    assert len(catalog.entries) == summary["entries"]
    assert catalog.header("X-Localize-Course") == "intro-course"
    # a rerun finds nothing to change
    again = extract_course(str(SAMPLE), "intro-course", str(tmp_path))
    assert again["written"] is False


def test_extract_course_flow_reports_bad_pages(prefect_harness: None, tmp_path: Path) -> None:
    from flows.extract_course import extract_course

    course = tmp_path / "course"
    course.mkdir()
    (course / "a.html").write_text("<p>Fine</p>")
    (course / "b.html").write_bytes(b"\x00\x01binary")
    summary = extract_course(str(course), "c", str(tmp_path / "loc"))
    assert summary["pages"] == 1
    assert summary["failures"] == ["b.html: binary file (NUL bytes), not an HTML page; remove it or rename it"]
