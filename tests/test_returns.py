"""Bad returned files (tests/fixtures/returns): what `localize check` says, what ingest takes, what gets published.

The corpus and its expectations (files/expected.json) come from
tests/fixtures/returns/make_returns.py; every test here starts from a fresh workspace.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from localize.catalogs.lifecycle import new_catalog
from localize.catalogs.po import read_po
from localize.catalogs.workspace import Workspace
from localize.cli import main
from localize.config import load_config
from localize.engine.segments import escape_attribute, escape_text
from localize.errors import CatalogNotFoundError
from localize.partners.ingest import ingest_bytes
from localize.partners.routing import route

RETURNS = Path(__file__).resolve().parent / "fixtures" / "returns"
COURSE_DIR = RETURNS / "course"
FILES = RETURNS / "files"
EXPECTED = json.loads((FILES / "expected.json").read_text(encoding="utf-8"))
COURSE, LOCALE = EXPECTED["course"], EXPECTED["locale"]
NAMES = sorted(EXPECTED["files"])
MARKUP = [n for n in NAMES if any(p[0] == "markup" for p in EXPECTED["files"][n]["problems"])]
NEEDLES = ("<script", "onerror", "javascript:", "<iframe", "<style", "data:text", "<svg", "onload", "onclick")
PLACEHOLDER = re.compile(r"</?[A-Za-z][A-Za-z-]*\d+/?>")
CONFIG = """\
[workspace]
location = "locales"

[[partners]]
id = "acme"
name = "Acme Translations"
locales = ["es"]
inbox = "inbox"
"""

Triple = tuple[str, int, str]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def printed_problems(out: str, path: str) -> set[Triple]:
    """(check, line, severity) of every error and warning line `PATH:LINE: SEVERITY: CHECK: ...`."""
    found: set[Triple] = set()
    for line in out.splitlines():
        assert line.startswith(f"{path}:"), line
        m = re.match(r"(\d+): (error|warning|info): ([a-z-]+): .", line[len(path) + 1 :])
        assert m is not None, line
        if m.group(2) != "info":
            found.add((m.group(3), int(m.group(1)), m.group(2)))
    return found


def expected(name: str, key: str = "problems") -> set[Triple]:
    return {(c, n, s) for c, n, s in EXPECTED["files"][name][key]}


def extract(capsys: pytest.CaptureFixture[str], locales: Path) -> None:
    code, _, err = run(capsys, "extract", str(COURSE_DIR), "--course", COURSE, "--locales-dir", str(locales))
    assert code == 0, err


def build(capsys: pytest.CaptureFixture[str], locales: Path, out: Path) -> dict[str, str]:
    """Build the course in LOCALE; the pages as {relative path: text}."""
    argv = ["build", str(COURSE_DIR), "--course", COURSE, "--locale", LOCALE, "--out", str(out)]
    code, _, err = run(capsys, *argv, "--locales-dir", str(locales))
    assert code == 0, err
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.html"))}


def markup_of(page: str) -> tuple[Counter[str], list[str], list[str]]:
    """Elements by name, event handler attributes, and URL attributes as a browser would parse the page."""
    soup = BeautifulSoup(page, "html.parser")
    elements = soup.find_all(True)
    tags = Counter(el.name for el in elements)
    handlers = sorted(f"{el.name}[{a}]" for el in elements for a in el.attrs if a.lower().startswith("on"))
    urls = sorted(
        f"{el.name}[{a}]={v}" for el in elements for a, v in el.attrs.items() if a in ("href", "src", "action", "data")
    )
    return tags, handlers, urls


def assert_no_injection(pages: dict[str, str], *, needles: bool = True) -> None:
    """``needles``: not even the text of an injection (escaped text such as alt="x&quot; onerror=..." is harmless)."""
    for rel, built in pages.items():
        source = (COURSE_DIR / rel).read_text(encoding="utf-8")
        for needle in NEEDLES if needles else ():
            assert built.lower().count(needle) <= source.lower().count(needle), f"{rel}: {needle}"
        # the same elements, no handler, the same links: translations only ever change text
        assert markup_of(built) == markup_of(source), rel


def test_the_corpus_is_complete() -> None:
    assert sorted(p.name for p in FILES.glob("*.po")) == NAMES
    bad = [n for n in NAMES if any(s == "error" for _, _, s in expected(n))]
    assert len(bad) >= 30
    whole = {n for n in NAMES if EXPECTED["files"][n]["rejected"]}
    assert whole <= set(bad)
    checks = {c for n in NAMES for c, _, _ in expected(n)}
    assert checks >= {
        "syntax",
        "header-language",
        "plural-forms",
        "edited-source",
        "placeholders",
        "markup",
        "variables",
        "urls",
        "newlines",
        "numbers",
        "whitespace",
        "same-as-source",
        "length",
    }


@pytest.mark.parametrize("name", NAMES)
def test_check_reports_the_expected_problem_at_the_expected_line(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`localize check FILE --locale es`, as the translator runs it (no template: edited msgids go unseen)."""
    path = str(FILES / name)
    code, out, _ = run(capsys, "check", path, "--locale", LOCALE)
    want = {p for p in expected(name) if p[0] != "edited-source"}
    assert printed_problems(out, path) == want
    assert code == (1 if any(s == "error" for _, _, s in want) else 0)


@pytest.mark.parametrize("name", NAMES)
def test_check_with_the_template_finds_edited_msgids(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extract(capsys, tmp_path / "locales")
    path = str(FILES / name)
    code, out, _ = run(
        capsys, "check", path, "--locale", LOCALE, "--course", COURSE, "--locales-dir", str(tmp_path / "locales")
    )
    want = expected(name)
    assert printed_problems(out, path) == want
    assert code == (1 if any(s == "error" for _, _, s in want) else 0)


def test_routing_again_a_minute_later_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A locale with no catalog yet is routed from a new one, whose revision date is the clock's
    minute: a second route in the next minute holds the same translations, so it sends nothing."""
    from datetime import UTC, datetime

    from localize.catalogs import lifecycle

    (tmp_path / "localize.toml").write_text(CONFIG, encoding="utf-8")
    extract(capsys, tmp_path / "locales")
    config = load_config(tmp_path / "localize.toml")
    minutes = iter([datetime(2026, 12, 1, 23, 59, tzinfo=UTC), datetime(2026, 12, 2, 0, 0, tzinfo=UTC)])

    class Clock(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return next(minutes)

    monkeypatch.setattr(lifecycle, "datetime", Clock)
    first = route(config, COURSE, LOCALE)
    second = route(config, COURSE, LOCALE)
    assert first.sent and not second.sent
    assert second.assignment.kit == first.assignment.kit


def test_of_two_kits_sent_in_one_second_the_later_is_the_latest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kits were ordered by the time sent, to the second, then by kit id: a catalog changed and
    routed again within the second could leave the earlier kit as the latest one (status and a
    return without its kit header answer that one). The time sent now keeps microseconds."""
    from datetime import UTC, datetime

    from localize.partners import routing
    from localize.partners.assignments import latest_assignments, load_assignments

    (tmp_path / "localize.toml").write_text(CONFIG, encoding="utf-8")
    extract(capsys, tmp_path / "locales")
    config = load_config(tmp_path / "localize.toml")
    assert main(["init", "--course", COURSE, "--locale", LOCALE, "--locales-dir", str(tmp_path / "locales")]) == 0
    ids = iter(["20261202-zzzz", "20261202-aaaa"])  # the later kit's id sorts first
    monkeypatch.setattr(routing, "_new_kit_id", lambda *args: next(ids))
    first = route(config, COURSE, LOCALE, now=datetime(2026, 12, 2, 9, 0, 0, 100, tzinfo=UTC))
    ws = Workspace(str(tmp_path / "locales"))
    catalog = ws.read_catalog(COURSE, LOCALE)
    at = next(i for i, e in enumerate(catalog.entries) if not e.msgstr)
    entries = list(catalog.entries)
    entries[at] = replace(entries[at], msgstr="Hola")
    ws.write(ws.catalog_key(COURSE, LOCALE), replace(catalog, entries=tuple(entries)))
    second = route(config, COURSE, LOCALE, now=datetime(2026, 12, 2, 9, 0, 0, 900, tzinfo=UTC))
    assert (first.assignment.kit, second.assignment.kit) == ("20261202-zzzz", "20261202-aaaa")
    assert [a.kit for a in load_assignments(ws, course=COURSE, locale=LOCALE)] == [
        first.assignment.kit,
        second.assignment.kit,
    ]
    assert latest_assignments(ws, course=COURSE)[(COURSE, LOCALE)].kit == second.assignment.kit
    assert second.assignment.sent_at == "2026-12-02T09:00:00.000900+00:00"


@pytest.mark.parametrize("name", NAMES)
def test_ingest_takes_exactly_the_clean_entries(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = EXPECTED["files"][name]
    (tmp_path / "localize.toml").write_text(CONFIG, encoding="utf-8")
    locales = tmp_path / "locales"
    extract(capsys, locales)
    config = load_config(tmp_path / "localize.toml")
    kit = route(config, COURSE, LOCALE).assignment.kit
    data = (FILES / name).read_bytes().replace(b"KIT", kit.encode("ascii"))

    report = ingest_bytes(config, config.partner("acme"), name, data)

    # archived first, byte for byte
    archived = Path(report.archived)
    assert archived.parent == locales / "archive" / "returns" / "acme"
    assert archived.read_bytes() == data
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    # the QA gate
    assert {(p.check, p.line, p.severity) for p in report.problems if p.severity != "info"} == expected(
        name, "ingest_problems"
    )
    assert report.state == spec["state"]
    assert report.accepted == len(spec["accepted"])
    if spec["rejected"]:
        assert report.accepted == 0 and not report.entries
    # the catalog of record: the accepted translations, nothing else (route does not write it, so a
    # file refused as a whole leaves none at all)
    try:
        catalog = Workspace(str(locales)).read_catalog(COURSE, LOCALE)
    except CatalogNotFoundError:
        assert spec["accepted"] == {} and report.accepted == 0
        return  # nothing to publish either
    assert {e.msgid: e.msgstr for e in catalog.entries if e.msgstr or e.msgstr_plural} == spec["accepted"]
    assert not any(e.fuzzy or e.obsolete for e in catalog.entries)
    # the QA report, in the partner's inbox, itself free of the partner's markup
    reports = tmp_path / "inbox" / "reports"
    html_report = Path(report.report)
    assert html_report.parent == reports and html_report.is_file()
    payload = json.loads(html_report.with_suffix(".json").read_text(encoding="utf-8"))
    assert (payload["state"], payload["sha256"], payload["kit"]) == (
        spec["state"],
        report.sha256,
        kit if ("kit", 1, "error") not in expected(name, "ingest_problems") else None,
    )
    tags, handlers, _ = markup_of(html_report.read_text(encoding="utf-8"))
    assert handlers == [] and not {"script", "iframe", "svg", "img", "a", "object", "embed"} & set(tags)
    # what gets published: the accepted translations, escaped, and no injected markup
    pages = build(capsys, locales, tmp_path / "out")
    assert_no_injection(pages)
    everything = "\n".join(pages.values())
    for msgid, msgstr in spec["accepted"].items():
        attribute = msgid in ("A sine wave", "An introduction to waves for first-year students.")
        for piece in PLACEHOLDER.split(msgstr):
            shown = escape_attribute(piece, '"') if attribute else escape_text(piece)
            assert shown in everything, (msgid, shown)


@pytest.mark.parametrize("name", MARKUP)
def test_markup_that_got_past_the_gate_is_still_only_text(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Defence in depth: put every translation of the file into the catalog unchecked; build still escapes it."""
    locales = tmp_path / "locales"
    extract(capsys, locales)
    workspace = Workspace(str(locales))
    template = workspace.read_template(COURSE)
    returned = {e.key: e.msgstr for e in read_po((FILES / name).read_bytes(), name).entries if not e.obsolete}
    catalog = new_catalog(template, COURSE, LOCALE)
    catalog = replace(catalog, entries=tuple(replace(e, msgstr=returned.get(e.key, "")) for e in catalog.entries))
    workspace.write(workspace.catalog_key(COURSE, LOCALE), catalog)
    assert_no_injection(build(capsys, locales, tmp_path / "out"), needles=False)


def test_a_lost_kit_index_object_or_an_unknown_kit_never_lists_the_assignments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Routing on a new workspace starts a complete kit index. A return whose kit index object
    was lost is found where the file says (course, locale) and indexed again; a return naming a
    kit that was never sent is refused; neither lists the assignments of the workspace."""
    from localize.partners.assignments import kits_complete
    from localize.storage.base import LocalStorage

    (tmp_path / "localize.toml").write_text(CONFIG, encoding="utf-8")
    locales = tmp_path / "locales"
    extract(capsys, locales)
    config = load_config(tmp_path / "localize.toml")
    kit = route(config, COURSE, LOCALE).assignment.kit
    ws = Workspace(str(locales))
    assert kits_complete(ws)
    listed: list[str] = []
    original = LocalStorage.list

    def spy(self: LocalStorage, prefix: str = ""):  # type: ignore[no-untyped-def]
        listed.append(prefix)
        return original(self, prefix)

    monkeypatch.setattr(LocalStorage, "list", spy)
    good = (FILES / "good.po").read_bytes()
    stranger = ingest_bytes(config, config.partner("acme"), "stranger.po", good.replace(b"KIT", b"20990101-0000000000"))
    assert stranger.state == "rejected" and any("no kit 20990101-0000000000" in p.message for p in stranger.problems)
    (locales / "index" / "kits" / f"{kit}.json").unlink()
    report = ingest_bytes(config, config.partner("acme"), "good.po", good.replace(b"KIT", kit.encode("ascii")))
    assert report.state == "accepted" and report.kit == kit
    assert (locales / "index" / "kits" / f"{kit}.json").is_file()  # indexed again
    assert not [p for p in listed if p.strip("/") == "assignments"]


def test_a_file_without_its_kit_header_of_a_kit_never_sent_says_what_it_claims(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by a newcomer: a header-less return of a course and locale no kit was sent for said
    only "cannot tell which kit this file answers"; it now says what the file claims to be."""
    (tmp_path / "localize.toml").write_text(CONFIG, encoding="utf-8")
    extract(capsys, tmp_path / "locales")
    config = load_config(tmp_path / "localize.toml")
    data = f'msgid ""\nmsgstr ""\n"Language: es\\n"\n"X-Localize-Course: {COURSE}\\n"\n\nmsgid "a"\nmsgstr "b"\n'
    report = ingest_bytes(config, config.partner("acme"), "x.po", data.encode())
    [problem] = [p for p in report.problems if p.check == "kit"]
    assert problem.message == (
        f"this file has no X-Localize-Kit header and says it is {COURSE} in es, of which no kit was sent to acme; "
        "send the file from the kit you received"
    )


def test_the_same_translations_returned_again_are_unchanged_not_accepted_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A translator saves the kit again (a new revision date, the same translations) and sends it:
    nothing is new, and the report says so instead of counting every entry accepted a second time."""
    (tmp_path / "localize.toml").write_text(CONFIG, encoding="utf-8")
    locales = tmp_path / "locales"
    extract(capsys, locales)
    config = load_config(tmp_path / "localize.toml")
    kit = route(config, COURSE, LOCALE).assignment.kit
    data = (FILES / "good.po").read_bytes().replace(b"KIT", kit.encode("ascii"))
    first = ingest_bytes(config, config.partner("acme"), "good.po", data)
    catalog = (locales / LOCALE / "LC_MESSAGES" / f"{COURSE}.po").read_bytes()
    again = ingest_bytes(config, config.partner("acme"), "good-saved-again.po", b"# saved again\n" + data)
    assert first.accepted == len(EXPECTED["files"]["good.po"]["accepted"]) > 0
    assert (again.state, again.accepted, again.unchanged) == ("accepted", 0, first.accepted + first.unchanged)
    assert Counter(o["status"] for o in again.entries)["accepted"] == 0
    assert sum(o["reason"] == "same as your earlier return of this kit" for o in again.entries) == first.accepted
    assert (locales / LOCALE / "LC_MESSAGES" / f"{COURSE}.po").read_bytes() == catalog
