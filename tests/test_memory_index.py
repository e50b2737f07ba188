"""The indexed translation memory answers exactly as a full scan of the catalogs does.

Built on the real corpus (skipped without it): courses made from corpus templates with
texts that repeat across courses and vary by course, several translations of one source,
reviewed entries, provenance from the review ledger, an imported compendium and memory
edits. For every course, and for a course not yet in the workspace, filling its template
from :func:`memory_for` gives the very catalog :func:`load_memory` gives, before and after
incremental writes, a catalog changed behind the index's back, a removed catalog, and with
prefixes so short that they run out.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import corpus_courses
from localize.app.memory import import_memory
from localize.catalogs import memory_records
from localize.catalogs.lifecycle import new_catalog
from localize.catalogs.memory import load_memory
from localize.catalogs.memory_index import memory_for, record_catalog, template_sources
from localize.catalogs.memory_lookup import parse_sources
from localize.catalogs.memory_rebuild import rebuild
from localize.catalogs.memory_rules import DELETE, OBSOLETE, MemoryRule, add_rule
from localize.catalogs.po import read_po, write_po
from localize.catalogs.review import record_review
from localize.catalogs.workspace import Workspace
from localize.engine.extract import extract_course
from localize.model import Catalog, Entry
from localize.storage.base import LocalStorage
from localize.storage.courses import open_source
from localize.storage.rows import CURRENT as ROWS_CURRENT
from localize.storage.rows import PREFIX as ROWS_PREFIX
from localize.storage.rows import database_of

pytestmark = pytest.mark.corpus
LL = "es"


def _template(base: Catalog, k: int) -> Catalog:
    """Corpus texts, a share varied by course ``k`` (near matches of each other)."""
    entries = tuple(
        replace(e, msgid=f"{e.msgid} ({k})") if j % 5 == k % 5 and len(e.msgid) > 30 else e
        for j, e in enumerate(base.entries)
    )
    return replace(base, entries=entries)


def _translated(template: Catalog, k: int) -> Catalog:
    out = []
    for j, e in enumerate(template.entries):
        if e.msgid_plural is not None or (j + k) % 4 == 0:
            out.append(e)
            continue
        text = f"[{LL}] {e.msgid}" if (j * k) % 3 else f"[{LL} v{k % 2}] {e.msgid}"
        flags = ("reviewed",) if (j + k) % 11 == 0 else ()
        out.append(replace(e, msgstr=text, flags=flags))
    return replace(new_catalog(template, "x", LL), entries=tuple(out))


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> list[Catalog]:
    courses = corpus_courses()
    if not courses:
        pytest.skip("real OCW corpus not found (it lives in ../shared/corpus/ocw)")
    return [extract_course(open_source(c), c.name, jobs=1).catalog for c in courses[:3]]


def _workspace(root: Path, bases: list[Catalog], n: int = 7) -> tuple[Workspace, dict[str, Catalog]]:
    ws = Workspace(str(root / "ws"))
    templates: dict[str, Catalog] = {}
    for k in range(n):
        course = f"c{k:02d}"
        templates[course] = _template(bases[k % len(bases)], k)
        ws.write(ws.template_key(course), templates[course])
        ws.write(ws.catalog_key(course, LL), _translated(templates[course], k))
    some = [e for e in ws.read_catalog("c01", LL).entries if e.translated][:40]
    at = datetime(2026, 3, 1, tzinfo=UTC)
    record_review(ws, "c01", LL, partner="lima", kit="k1", at=at, translated=some[:20], signed_off=some[20:])
    single = [e for e in bases[0].entries if e.msgid_plural is None]
    others = [e for e in bases[1].entries if e.msgid_plural is None and len(e.msgid) > 30]
    imported = [
        *(Entry(e.msgid, "[imp] " + e.msgid, e.msgctxt) for e in single[5:60:3]),  # another text of a source
        *(Entry(e.msgid, f"[{LL}] {e.msgid}", e.msgctxt) for e in single[61:120:4]),  # a text the catalogs have
        # sources no catalog has: near matches of the courses' own and of their variants
        *(Entry(e.msgid + " (imp)", "[imp] " + e.msgid, e.msgctxt) for e in others[0:80:2]),
    ]
    trusted = [  # reviewed, and the operator trusts it: over the catalogs' unreviewed texts
        *(Entry(e.msgid, "[rev] " + e.msgid, e.msgctxt, translator_comments=("reviewed",)) for e in single[121:200:5]),
        *(
            Entry(e.msgid + " (rev)", "[rev] " + e.msgid, e.msgctxt, translator_comments=("reviewed",))
            for e in others[1:80:4]
        ),
    ]
    for name, units, trust in (("imported.po", imported, False), ("trusted.po", trusted, True)):
        compendium = root / name
        compendium.write_bytes(write_po(Catalog(headers=(("Language", LL),), entries=tuple(units))).encode())
        import_memory(ws, str(compendium), LL, trust_reviewed=trust)
    units = load_memory(ws, LL).listed
    add_rule(ws, LL, MemoryRule(OBSOLETE, units[3].msgctxt, units[3].msgid, units[3].msgstr), units)
    add_rule(ws, LL, MemoryRule(DELETE, units[50].msgctxt, units[50].msgid), units)
    templates["new-course"] = _template(bases[1], 9)
    return ws, templates


def _assert_same(ws: Workspace, templates: dict[str, Catalog], similarity: float = 0.75) -> None:
    for course, template in templates.items():
        empty = new_catalog(template, course, LL)
        indexed = memory_for(ws, LL, course, template_sources(template), similarity=similarity)
        scanned = load_memory(ws, LL, exclude_course=course)
        got, want = indexed.fill(empty, similarity=similarity), scanned.fill(empty, similarity=similarity)
        assert got[1] == want[1], course
        assert got[0] == want[0], course
        # every source asked: the same ranked translations, imported ones included
        assert dict(indexed.candidates) == {k: scanned.candidates[k] for k in indexed.candidates}
        assert want[1].exact > 10 and want[1].near > 5, course  # the corpus gives both kinds


@pytest.mark.parametrize("imported", [True, False])
def test_indexed_fills_equal_a_full_scan(bases: list[Catalog], tmp_path: Path, imported: bool) -> None:
    ws, templates = _workspace(tmp_path, bases)
    if not imported:
        ws.storage.delete(ws.memory_key(LL))
    _assert_same(ws, templates)
    _assert_same(ws, {c: templates[c] for c in ("c02", "new-course")}, similarity=0.5)
    filled = [
        e
        for course in ("c00", "new-course")
        for e in memory_for(ws, LL, course, template_sources(templates[course]))
        .fill(new_catalog(templates[course], course, LL))[0]
        .entries
    ]
    notes = [c for e in filled for c in e.translator_comments if "imported" in c]
    if imported:  # the compendium answers exactly and near, reviewed and not
        assert any("exact match from imported" in c for c in notes) and any("% match from imported" in c for c in notes)
        assert any(e.msgstr.startswith("[rev] ") for e in filled) and any(e.msgstr.startswith("[imp] ") for e in filled)
    else:
        assert not notes


@pytest.mark.parametrize("imported", [True, False])
def test_incremental_writes_keep_the_index_equal_to_a_full_scan(
    bases: list[Catalog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, imported: bool
) -> None:
    monkeypatch.setattr(memory_records, "KEEP", 2)  # prefixes that run out: the lookup must notice and rebuild
    ws, templates = _workspace(tmp_path, bases)
    if not imported:  # with an imported compendium, the full memory answers: without, the index
        ws.storage.delete(ws.memory_key(LL))
    memory_for(ws, LL, "c00", template_sources(templates["c00"]))  # builds the index
    for course, k in (("c00", 5), ("c03", 8), ("c04", 2)):  # other translations, other entries, other flags
        key = ws.catalog_key(course, LL)
        catalog = _translated(templates[course], k)
        assert ws.write(key, catalog)
        record_catalog(ws, course, LL, catalog, ws.written[key])
    _assert_same(ws, templates)
    key = ws.catalog_key("c05", LL)  # behind the index's back
    ws.storage.write_bytes(key, ws.storage.read_bytes(ws.catalog_key("c06", LL)))
    ws.storage.delete(ws.catalog_key("c02", LL))  # removed
    _assert_same(ws, templates)


def test_a_one_course_lookup_reads_no_catalog_and_a_bounded_number_of_objects(
    bases: list[Catalog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, templates = _workspace(tmp_path, bases)  # with an imported compendium: one file more
    rebuild(ws, LL)
    reads: list[str] = []
    original, original_etag = ws.storage.read_bytes, ws.storage.read_with_etag

    def spy(key: str) -> bytes:
        reads.append(key)
        return original(key)

    def spy_etag(key: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        if key.startswith(ROWS_PREFIX):  # the index's rows: read with their version in one query
            reads.append(key)
        return original_etag(key, max_bytes)

    monkeypatch.setattr(ws.storage, "read_bytes", spy)
    if isinstance(ws.storage, LocalStorage):
        monkeypatch.setattr(ws.storage, "read_with_etag", spy_etag)
    memory_for(ws, LL, "new-course", template_sources(templates["new-course"]))
    assert not [k for k in reads if k.startswith(f"{LL}/")]
    bands = [k for k in reads if "/band/" in k]
    assert len(bands) == len(set(bands)) <= memory_records.band(10**6)
    # the records read are those of the homes of the template's sources: each once
    homes: dict[tuple[str | None, str], str] = {}
    for k in ws.storage.list(bands[0].rsplit("/", 1)[0]):
        homes.update(parse_sources(json.loads(original(k))))
    wanted = {homes[k] for k in template_sources(templates["new-course"]) if k in homes}
    read_homes = [k.rsplit("/", 1)[1].removesuffix(".json") for k in reads if "/home/" in k]
    assert sorted(read_homes) == sorted(wanted) and len(wanted) < len(templates)
    assert reads.count(ws.memory_key(LL)) == 1
    assert len(reads) - len(bands) - len(read_homes) <= 7  # manifest, own contribution, edits, glossaries, compendium


def test_a_late_writer_never_records_a_file_it_no_longer_holds(bases: list[Catalog], tmp_path: Path) -> None:
    """Writer A wrote, B wrote and recorded, then A records: the lookup sees A's version is not the
    file's and records the file as it is."""
    ws, templates = _workspace(tmp_path, bases, n=3)
    rebuild(ws, LL)
    key = ws.catalog_key("c00", LL)
    a = _translated(templates["c00"], 7)
    a_version = ws.storage.write_bytes(key, write_po(a).encode("utf-8"))
    b = _translated(templates["c00"], 4)
    assert ws.write(key, b)
    record_catalog(ws, "c00", LL, b, ws.written[key])
    record_catalog(ws, "c00", LL, a, a_version)  # A, late
    _assert_same(ws, {"c01": templates["c01"], "new-course": templates["new-course"]})
    assert read_po(ws.storage.read_bytes(key), key) == b


@pytest.mark.hostile
def test_damaged_index_objects_are_rebuilt_never_trusted(bases: list[Catalog], tmp_path: Path) -> None:
    """Derived state that is not what it should be (any JSON, any shape) is rebuilt from the
    catalogs, by a lookup and by a write: never a crash, never a different answer."""
    ws, templates = _workspace(tmp_path, bases, n=3)
    rebuild(ws, LL)
    manifest = json.loads(ws.storage.read_bytes(f"index/memory/{LL}/manifest.json"))
    base = f"index/memory/{LL}/{manifest['generation']}"
    bands = sorted(k for k in ws.storage.list(f"{base}/band"))
    ws.storage.write_bytes(bands[0], b'{"keys": {"[null, \\"x\\"]": [[1, 2, "three", null, {}]]}}')
    ws.storage.write_bytes(bands[1], b'{"keys": [1, 2]}')
    ws.storage.write_bytes(f"{base}/units/c01.json", b'{"units": [[1]]}')
    key = ws.catalog_key("c00", LL)
    catalog = _translated(templates["c00"], 6)
    assert ws.write(key, catalog)
    record_catalog(ws, "c00", LL, catalog, ws.written[key])  # meets the damaged band: marks the index broken
    _assert_same(ws, {"c01": templates["c01"], "new-course": templates["new-course"]})
    for body in (b"[]", b'{"generation": "g1", "courses": [], "writing": 3}', b"\xff"):
        ws.storage.write_bytes(f"index/memory/{LL}/manifest.json", body)
        _assert_same(ws, {"c02": templates["c02"]})


@pytest.mark.hostile
def test_index_objects_nested_too_deep_typed_wrong_or_marked_forever_are_rebuilt(
    bases: list[Catalog], tmp_path: Path
) -> None:
    """A band or manifest nested 200,000 deep, a translation that is a number, a source key that
    is an object, and a writer's mark no clock could have written (NaN, far ahead) are damage:
    rebuilt from the catalogs, never a traceback, never a different answer, never held forever."""
    ws, templates = _workspace(tmp_path, bases, n=3)
    deep = b"[" * 200_000 + b"]" * 200_000
    for body in (
        deep,
        b'{"keys": {"[null, \\"Calendar\\"]": [[12345, false, 1, [["", "c01", "", ""]], [["c01", 0]]]]}}',
        b'{"keys": {"{\\"a\\": 1, \\"b\\": 2}": [["x", false, 1, [["", "c01", "", ""]], [["c01", 0]]]]}}',
    ):
        rebuild(ws, LL)
        manifest = json.loads(ws.storage.read_bytes(f"index/memory/{LL}/manifest.json"))
        base = f"index/memory/{LL}/{manifest['generation']}"
        for band_key in ws.storage.list(f"{base}/band"):
            ws.storage.write_bytes(band_key, body)
        _assert_same(ws, {"c01": templates["c01"], "new-course": templates["new-course"]})
    ws.storage.write_bytes(f"index/memory/{LL}/manifest.json", deep)
    key = ws.catalog_key("c00", LL)
    catalog = _translated(templates["c00"], 4)
    assert ws.write(key, catalog)
    record_catalog(ws, "c00", LL, catalog, ws.written[key])  # the write path meets it too
    _assert_same(ws, {"c02": templates["c02"]})
    for since in ("NaN", "1e300"):
        manifest = json.loads(ws.storage.read_bytes(f"index/memory/{LL}/manifest.json"))
        manifest["writing"] = {"c00": {"since": float(since), "token": "stuck"}}
        ws.storage.write_bytes(f"index/memory/{LL}/manifest.json", json.dumps(manifest).encode())
        catalog = _translated(templates["c00"], 7 if since == "NaN" else 3)  # changed behind the stuck mark
        assert ws.write(key, catalog)
        _assert_same(ws, {"c02": templates["c02"], "new-course": templates["new-course"]})


def test_a_rebuild_that_cannot_remove_the_generation_it_replaced_still_switches(
    bases: list[Catalog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removing the replaced generation comes after the switch: a delete or a listing that fails
    there (a permission, the network) used to fail the rebuild, and with it every lookup that
    triggered one, though the index was whole. It is now left for space, not answers."""
    ws, templates = _workspace(tmp_path, bases, n=3)
    rebuild(ws, LL)
    base = f"index/memory/{LL}"
    replaced = json.loads(ws.storage.read_bytes(f"{base}/manifest.json"))["generation"]

    def refuse(key: str) -> None:
        raise PermissionError(13, "Permission denied", key)

    monkeypatch.setattr(ws.storage, "delete", refuse)
    rebuild(ws, LL)
    current = json.loads(ws.storage.read_bytes(f"{base}/manifest.json"))["generation"]
    assert current != replaced and list(ws.storage.list(f"{base}/{replaced}/"))
    monkeypatch.undo()
    _assert_same(ws, {"c01": templates["c01"], "new-course": templates["new-course"]})


def _age(ws: Workspace, prefix: str, days: float) -> None:
    """Make every row of the index under ``prefix`` look written ``days`` ago (by the clock of the
    machine that wrote it: the one of the folder's database)."""
    import sqlite3
    import time

    database = database_of(Path(ws.storage.describe()))
    assert database is not None
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.execute("UPDATE objects SET modified = ? WHERE key LIKE ?", (time.time() - days * 86_400, prefix + "%"))


def _manifest(ws: Workspace) -> dict[str, Any]:
    return dict(json.loads(ws.storage.read_bytes(f"index/memory/{LL}/manifest.json")))


def test_a_rebuild_sweeps_generations_left_over_by_stopped_rebuilds_and_late_writers(
    bases: list[Catalog], tmp_path: Path
) -> None:
    """A rebuild stopped before its switch left its whole generation, and a writer that marked a
    course just before a switch wrote its home and contribution into the generation deleted under
    it: neither was ever deleted. A rebuild now deletes every generation the manifest does not
    name whose objects are all over a day old by the storage's clock (no machine's own clock
    counts), and leaves a younger one (a rebuild still at work)."""
    ws, templates = _workspace(tmp_path, bases, n=3)
    rebuild(ws, LL)
    base = f"index/memory/{LL}"
    stopped, late, working = "g1abc123", "g2def456", "g30a0b0c"  # names say nothing of age
    for generation, kind in ((stopped, "band/3.json"), (late, "home/c00.json"), (working, "units/c01.json")):
        ws.storage.write_bytes(f"{base}/{generation}/{kind}", b"{}")
    _age(ws, f"{base}/{stopped}/", 3)
    _age(ws, f"{base}/{late}/", 1.5)
    ws.storage.write_bytes(f"{base}/notes/keep.txt", b"mine")  # not a generation's name: never touched
    _age(ws, f"{base}/notes/", 30)
    rebuild(ws, LL)
    current = _manifest(ws)["generation"]
    kept = {k[len(base) + 1 :].split("/")[0] for k in ws.storage.list(base) if "/" in k[len(base) + 1 :]}
    assert kept == {current, working, "notes"}
    assert ws.storage.read_bytes(f"{base}/notes/keep.txt") == b"mine"
    _assert_same(ws, {"c01": templates["c01"], "new-course": templates["new-course"]})


def test_a_sweep_never_deletes_the_generation_the_manifest_names(
    bases: list[Catalog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: rebuild A switched, rebuild B switched after it, then A's sweep took B's
    generation for a left-over one (its name looked a day old to A's clock) and the manifest
    named an empty folder. Ages now come from the storage, and the manifest is read again before
    each generation goes; here B's objects even look three days old."""
    ws, templates = _workspace(tmp_path, bases, n=3)
    rebuild(ws, LL)
    listing = ws.storage.list_with_times
    raced: list[str] = []

    def b_first(prefix: str = "") -> Any:
        if prefix == f"index/memory/{LL}/" and not raced:  # A is past its switch: B runs whole
            raced.append("")
            rebuild(ws, LL)
            raced[0] = _manifest(ws)["generation"]
            _age(ws, f"index/memory/{LL}/{raced[0]}/", 3)
        return listing(prefix)

    monkeypatch.setattr(ws.storage, "list_with_times", b_first)
    rebuild(ws, LL)
    monkeypatch.setattr(ws.storage, "list_with_times", listing)
    assert _manifest(ws)["generation"] == raced[0]
    assert list(ws.storage.list(f"index/memory/{LL}/{raced[0]}/band/"))
    _assert_same(ws, {"c01": templates["c01"], "new-course": templates["new-course"]})


def test_a_lookup_overlapping_a_rebuild_asks_again_instead_of_answering_without_the_bands(
    bases: list[Catalog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review (before the sweep): a lookup read the manifest and its own contribution,
    another worker's rebuild switched and deleted that generation, and the lookup took the absent
    bands for "no sources": it filled the course from nothing, silently. An absent band is now
    checked against the manifest, as an absent home was."""
    ws, templates = _workspace(tmp_path, bases, n=3)
    rebuild(ws, LL)
    read = ws.storage.read_with_etag
    fired: list[bool] = []

    def spy(key: str) -> Any:
        if "/band/" in key and not fired:
            fired.append(True)
            rebuild(ws, LL)  # another worker
        return read(key)

    monkeypatch.setattr(ws.storage, "read_with_etag", spy)
    template = templates["c01"]
    got = memory_for(ws, LL, "c01", template_sources(template)).fill(new_catalog(template, "c01", LL))
    monkeypatch.setattr(ws.storage, "read_with_etag", read)
    want = load_memory(ws, LL, exclude_course="c01").fill(new_catalog(template, "c01", LL))
    assert fired and got[1] == want[1] and got[0] == want[0]


def test_a_rebuild_whose_files_went_missing_while_it_was_written_does_not_switch_to_them(
    bases: list[Catalog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild paused a day in the middle of its writes (a suspended machine) may see another
    rebuild's sweep take what it wrote before the pause: switching to it would answer from
    part of the memory. It counts its files before the switch."""
    from localize.catalogs import memory_rebuild
    from localize.errors import TransientStorageError

    ws, _ = _workspace(tmp_path, bases, n=3)
    rebuild(ws, LL)
    before = _manifest(ws)["generation"]
    write = memory_rebuild.write_json

    def swept(workspace: Workspace, key: str, body: dict[str, Any]) -> None:
        write(workspace, key, body)
        if "/home/" in key:  # another process's sweep, as the homes are written
            for band in list(workspace.storage.list(key.rsplit("/", 2)[0] + "/band")):
                workspace.storage.delete(band)

    monkeypatch.setattr(memory_rebuild, "write_json", swept)
    with pytest.raises(TransientStorageError, match="went missing while it was written"):
        rebuild(ws, LL)
    assert _manifest(ws)["generation"] == before


@pytest.mark.parametrize("inside", [False, True], ids=["link-out", "link-to-the-workspace"])
def test_the_index_is_never_written_or_deleted_through_a_link(
    bases: list[Catalog], tmp_path: Path, inside: bool
) -> None:
    """Whoever can write into the workspace may replace the index's database with a link to a file
    elsewhere, or leave the index as files from before it was kept as rows with a generation
    folder that links out (removing it once deleted every file there; with a link back up to the
    workspace, every catalog, return and record). The link is set aside, never followed; the
    files of before are removed without following a link; the index is rebuilt from the catalogs."""
    ws, templates = _workspace(tmp_path, bases, n=3)
    root = tmp_path / "ws"
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "thesis.tex").write_text("years of work")
    (outside / "home").mkdir()
    (outside / "home" / "notes.json").write_text("{}")
    old = root / "index" / "memory" / LL
    old.mkdir(parents=True)
    (old / "g0abc").symlink_to("../../.." if inside else outside)
    (root / "index" / ".memory.sqlite3").symlink_to(outside / "thesis.tex")  # the database of 0.x
    (root / ROWS_CURRENT).symlink_to(outside / "thesis.tex")
    files = sorted(p for p in root.rglob("*") if p.is_file() and "index" not in p.parts)
    rebuild(ws, LL)
    assert files and sorted(p for p in root.rglob("*") if p.is_file() and "index" not in p.parts) == files
    assert (outside / "thesis.tex").read_text() == "years of work"
    assert (outside / "home" / "notes.json").exists()
    database = database_of(root)
    assert database is not None and database.is_file() and not database.is_symlink()
    assert not (root / ROWS_CURRENT).is_symlink() and not (root / "index" / ".memory.sqlite3").is_symlink()
    assert not (root / "index" / "memory").exists()
    _assert_same(ws, {"c01": templates["c01"], "new-course": templates["new-course"]})


class _Killed(BaseException):
    """A writer stopped dead (as SIGKILL stops it: no handler runs)."""


def test_a_writer_killed_mid_write_is_not_waited_for_and_a_failed_write_marks_the_index(
    bases: list[Catalog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer killed after claiming homes (or stopped by a full disk) left its mark: for the
    ten minutes of the lease, lookups answered from a half-written index (init filled 0 entries
    where a rebuild fills 50; found by an operator's look). A mark of an ended process of this
    machine is taken over at once, and a write that fails marks the index for a rebuild."""
    import subprocess
    import sys

    from localize.catalogs import memory_index
    from localize.errors import PermanentStorageError

    ws, templates = _workspace(tmp_path, bases, n=4)
    memory_for(ws, LL, "c00", template_sources(templates["c00"]))  # builds the index
    key = ws.catalog_key("c01", LL)
    catalog = _translated(templates["c01"], 6)  # other translations: other records
    assert ws.write(key, catalog)

    def killed(step: str) -> None:
        if step == "memory:homes-claimed":
            raise _Killed

    monkeypatch.setattr(memory_index, "kill_point", killed)
    with pytest.raises(_Killed):
        record_catalog(ws, "c01", LL, catalog, ws.written[key])
    monkeypatch.undo()
    manifest_key = f"index/memory/{LL}/manifest.json"
    manifest = json.loads(ws.storage.read_bytes(manifest_key))
    assert manifest.pop("broken") is True  # stopped by an exception (a cancelled task): marked at once
    assert manifest["writing"]["c01"]["pid"] > 0  # without the mark: what a SIGKILL leaves
    from localize.catalogs.writers import gone

    assert not gone(manifest["writing"]["c01"])  # this process: alive
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    manifest["writing"]["c01"]["pid"] = int(ended.stdout)  # the process that held it has ended
    assert gone(manifest["writing"]["c01"])
    assert not gone(manifest["writing"]["c01"] | {"space": "another machine or container"})  # the lease decides
    ws.storage.write_bytes(manifest_key, json.dumps(manifest).encode())
    _assert_same(ws, {"c02": templates["c02"], "new-course": templates["new-course"]})

    def full_disk(*args: Any, **kwargs: Any) -> None:
        raise PermanentStorageError("cannot write: No space left on device", path="home")

    catalog = _translated(templates["c02"], 3)
    assert ws.write(ws.catalog_key("c02", LL), catalog)
    monkeypatch.setattr(memory_index, "write_json", full_disk)
    with pytest.raises(PermanentStorageError):
        record_catalog(ws, "c02", LL, catalog, ws.written[ws.catalog_key("c02", LL)])
    monkeypatch.undo()
    assert json.loads(ws.storage.read_bytes(manifest_key))["broken"] is True
    _assert_same(ws, {"c03": templates["c03"], "new-course": templates["new-course"]})


def test_a_review_ledger_written_while_a_course_is_recorded_is_not_missed(
    bases: list[Catalog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two partners' ingests at once: one recorded the course with the catalog both had merged and
    the ledger of the first only, under the catalog's version, so no lookup ever recorded it again
    and fills ranked the second partner's translations as undated (found by a race look)."""
    from localize.catalogs import memory_index

    ws, templates = _workspace(tmp_path, bases, n=3)
    rebuild(ws, LL)
    key = ws.catalog_key("c00", LL)
    catalog = _translated(templates["c00"], 5)
    assert ws.write(key, catalog)
    fresh = [e for e in catalog.entries if e.translated][:30]
    contribution = memory_index.contribution

    def ledger_written_meanwhile(*args: Any) -> Any:
        units = contribution(*args)
        at = datetime(2026, 4, 1, tzinfo=UTC)
        record_review(ws, "c00", LL, partner="quito", kit="k2", at=at, translated=fresh)  # the other ingest
        return units

    monkeypatch.setattr(memory_index, "contribution", ledger_written_meanwhile)
    record_catalog(ws, "c00", LL, catalog, ws.written[key])
    monkeypatch.undo()
    manifest = json.loads(ws.storage.read_bytes(f"index/memory/{LL}/manifest.json"))
    assert manifest["courses"]["c00"] == ""  # unsettled: the next lookup records it again
    _assert_same(ws, {"c01": templates["c01"], "new-course": templates["new-course"]})
    manifest = json.loads(ws.storage.read_bytes(f"index/memory/{LL}/manifest.json"))
    assert manifest["courses"]["c00"] == ws.storage.version(key)


def test_a_write_that_finds_another_writer_at_the_course_leaves_it_to_the_next_lookup(
    bases: list[Catalog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from localize.catalogs import memory_index

    ws, templates = _workspace(tmp_path, bases, n=3)
    rebuild(ws, LL)
    key = ws.catalog_key("c00", LL)
    catalog = _translated(templates["c00"], 6)
    assert ws.write(key, catalog)
    apply = memory_index._apply

    def another_writer_meanwhile(*args: Any) -> None:
        record_catalog(ws, "c00", LL, catalog, ws.written[key])  # finds the mark: does not write
        apply(*args)

    monkeypatch.setattr(memory_index, "_apply", another_writer_meanwhile)
    record_catalog(ws, "c00", LL, catalog, ws.written[key])
    monkeypatch.undo()
    manifest = json.loads(ws.storage.read_bytes(f"index/memory/{LL}/manifest.json"))
    assert manifest["courses"]["c00"] == "" and manifest["writing"] == {}
    _assert_same(ws, {"c01": templates["c01"], "new-course": templates["new-course"]})


def test_a_review_ledger_written_while_the_index_is_rebuilt_is_not_missed(
    bases: list[Catalog], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild read a course's ledger before an ingest wrote it, then switched: the course stood in
    the new generation with the older provenance, under its catalog's version, for good."""
    from localize.catalogs import memory_rebuild

    ws, templates = _workspace(tmp_path, bases, n=3)
    fresh = [e for e in ws.read_catalog("c00", LL).entries if e.translated][:30]
    contribution = memory_rebuild.contribution

    def ingest_meanwhile(workspace: Workspace, name: str, *rest: Any) -> Any:
        units = contribution(workspace, name, *rest)
        if name == "c00":
            at = datetime(2026, 4, 1, tzinfo=UTC)
            record_review(ws, "c00", LL, partner="quito", kit="k2", at=at, translated=fresh)
        return units

    monkeypatch.setattr(memory_rebuild, "contribution", ingest_meanwhile)
    rebuild(ws, LL)
    monkeypatch.undo()
    manifest = json.loads(ws.storage.read_bytes(f"index/memory/{LL}/manifest.json"))
    assert manifest["courses"]["c00"] == "" and manifest["courses"]["c01"] != ""
    _assert_same(ws, {"c01": templates["c01"], "new-course": templates["new-course"]})
