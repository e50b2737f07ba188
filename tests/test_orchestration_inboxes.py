"""The flows' plain-data entry points stay per item: one partner's broken inbox does not stop the
others' returns (an attacker's look, session 31), and the QA summary a coordinator reads in the
Prefect UI shows partners' file names and translators' words as text, never as markdown."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from conftest import SAMPLE
from flows.artifacts import _code, _md
from localize.app.orchestration import ingest_returns
from localize.catalogs.po import read_po, write_po
from localize.cli import main
from localize.config import load_config
from localize.partners.routing import route

CONFIG = """[workspace]
location = "locales"

[[partners]]
id = "lima"
name = "Lima"
locales = ["es"]
inbox = "inbox-lima"

[[partners]]
id = "paris"
name = "Paris"
locales = ["fr"]
inbox = "inbox-paris"
"""


def test_one_partners_broken_inbox_leaves_the_others_returns_taken(tmp_path: Path) -> None:
    (tmp_path / "localize.toml").write_text(CONFIG, encoding="utf-8")
    locales = str(tmp_path / "locales")
    assert main(["extract", str(SAMPLE), "--course", "intro-course", "--locales-dir", locales, "-q"]) == 0
    config = load_config(tmp_path / "localize.toml")
    kits = {ll: route(config, "intro-course", ll).kit_location for ll in ("es", "fr")}
    kit = next(Path(kits["fr"]).glob("*.po"))
    catalog = read_po(kit.read_bytes(), str(kit))
    entry = next(e for e in catalog.entries if e.msgid == "Course Description")
    filled = replace(catalog, entries=[replace(e, msgstr="Description du cours") if e is entry else e
                                       for e in catalog.entries])  # fmt: skip
    (tmp_path / "inbox-paris" / "returns").mkdir(parents=True, exist_ok=True)
    (tmp_path / "inbox-paris" / "returns" / kit.name).write_text(write_po(filled), encoding="utf-8")
    lima_kit = next(Path(kits["es"]).glob("*.po"))
    (tmp_path / "inbox-lima" / "returns").mkdir(parents=True, exist_ok=True)
    (tmp_path / "inbox-lima" / "returns" / lima_kit.name).write_bytes(lima_kit.read_bytes())
    reports = tmp_path / "inbox-lima" / "reports"
    if reports.exists():
        reports.rmdir()
    reports.write_text("x")  # where lima's reports go: a file, not a folder

    rows = ingest_returns(str(tmp_path / "localize.toml"))
    by_partner = {r["partner"]: r for r in rows}
    assert by_partner["lima"]["state"] == "failed"
    assert by_partner["lima"]["error"].startswith("lima: ") and "reports" in by_partner["lima"]["error"]
    assert by_partner["paris"]["state"] == "accepted" and by_partner["paris"]["accepted"] == 1
    assert not (tmp_path / "inbox-paris" / "returns" / kit.name).exists()  # taken (into processed/)
    assert (tmp_path / "inbox-lima" / "returns" / lima_kit.name).exists()  # kept for a run after the repair


def test_the_qa_summary_shows_a_partners_file_name_and_quoted_urls_as_text() -> None:
    name = "a | rome | ok.po | [report](https:evil.example) |.po"
    cell = _code(name)
    assert cell.startswith("` ") and cell.endswith(" `") and "[report]" in cell
    assert "|" not in cell.replace("\\|", "")  # no cell ends inside it
    quoted = _code("URL https://a.example/`[Open](https://evil.example/login)` is not in the source")
    assert quoted.startswith("`` ") and quoted.endswith(" ``")  # a longer fence than the text's backticks
    assert _md("**x** [a](b)") == "\\*\\*x\\*\\* \\[a\\]\\(b\\)"


def test_a_catalog_with_nothing_left_to_translate_sends_no_kit(tmp_path: Path) -> None:
    """After an accepted return, the next localize-course sent the partner an empty kit (0 words),
    which status showed as open work until it went overdue (an attacker's look, session 31)."""
    import pytest

    from localize.app.orchestration import route_kit
    from localize.catalogs.workspace import Workspace
    from localize.errors import NothingToSend

    (tmp_path / "localize.toml").write_text(CONFIG, encoding="utf-8")
    locales = str(tmp_path / "locales")
    assert main(["extract", str(SAMPLE), "--course", "intro-course", "--locales-dir", locales, "-q"]) == 0
    assert main(["init", "--course", "intro-course", "--locale", "fr", "--locales-dir", locales]) == 0
    ws = Workspace(locales)
    catalog = ws.read_catalog("intro-course", "fr")
    done = replace(catalog, entries=[replace(e, msgstr=f"fr {e.msgid}") if e.msgid_plural is None else
                                     replace(e, msgstr_plural={0: "fr", 1: "fr"}) for e in catalog.entries])  # fmt: skip
    ws.write(ws.catalog_key("intro-course", "fr"), done)
    config = load_config(tmp_path / "localize.toml")
    with pytest.raises(NothingToSend, match="nothing to translate: every entry of intro-course in fr is translated"):
        route(config, "intro-course", "fr")
    row = route_kit(str(tmp_path / "localize.toml"), "intro-course", "fr")
    assert row["sent"] is False and "error" not in row and row["note"].startswith("nothing to translate")
    assert not (tmp_path / "inbox-paris" / "kits").exists()
