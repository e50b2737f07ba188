"""The indexed memory's lazy answers and shared near-match scores equal a full scan.

No corpus needed: small workspaces of hand-made catalogs in two locales, with the sources a
length window and a fuzzy scorer find awkward (empty, one character, very long, all
punctuation, Arabic, Chinese, emoji, quotes and ``", "`` inside the text, contexts), filled
through :func:`memory_for` (which ranks a source only when asked, and shares scores between
lookups of one process) and through :func:`load_memory` (a full scan). Damaged or hostile
band objects are rebuilt from the catalogs, never trusted and never a traceback.
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from localize.catalogs import memory_index, memory_lookup
from localize.catalogs.lifecycle import new_catalog
from localize.catalogs.memory import load_memory
from localize.catalogs.memory_index import memory_for, record_catalog, template_sources
from localize.catalogs.memory_lookup import Damaged, LengthIndex, Moved, NearScores, check_records, parse_sources
from localize.catalogs.memory_rebuild import rebuild
from localize.catalogs.memory_records import key_of
from localize.catalogs.refresh import refresh, refresh_from_memory
from localize.catalogs.workspace import Workspace
from localize.errors import PermanentStorageError
from localize.model import Catalog, Entry

LOCALES = ("es", "ar")
LONG = "The quick brown fox jumps over the lazy dog near the riverbank. " * 80  # 5,120 characters
SOURCES = [
    "Home",
    "Homes",
    "A",
    "!!!",
    "!?!?!...",
    "«»—…",
    "Lecture Notes",
    "Lecture notes",
    "Lecture Notes (1)",
    "Problem set 3: due Friday, 5 pm",
    "Problem set 4: due Friday, 5 pm",
    "Problem set 4: due Monday, 9 am",
    'She said "hello", then left.',
    'She said "hello",  then left!',
    "Back\\slash and tab\tin text",
    "محاضرات الفيزياء الكلاسيكية",
    "محاضرات الفيزياء الحديثة",
    "量子力学导论第一讲",
    "量子力学导论第二讲",
    "📚 Reading list 📚",
    "📚 Reading lists 📚",
    LONG,
    LONG[:-1] + "!",
    LONG.replace("fox", "cat"),
    "x" * 300,
    "x" * 299 + "y",
]


def _template(course: str, k: int) -> Catalog:
    entries = []
    for j, s in enumerate(SOURCES):
        if (j + k) % 4 == 0:
            s = f"{s} ({k})"  # varies by course: near matches of the others
        entries.append(Entry(s, "", "menu" if j % 5 == 0 else None))
    entries.append(Entry("Only in course", "", None))
    return Catalog(headers=(("Project-Id-Version", course),), entries=tuple(entries))


def _translated(template: Catalog, course: str, ll: str, k: int) -> Catalog:
    out = []
    for j, e in enumerate(template.entries):
        if (j * 3 + k) % 5 == 0:
            out.append(e)  # left untranslated: the memory fills it
            continue
        flags = ("reviewed",) if (j + k) % 7 == 0 else ()
        out.append(replace(e, msgstr=f"[{ll} v{(j + k) % 2}] {e.msgid}", flags=flags))
    return replace(new_catalog(template, course, ll), entries=tuple(out))


def _workspace(root: Path, n: int = 6) -> tuple[Workspace, dict[str, Catalog]]:
    ws = Workspace(str(root / "ws"))
    templates: dict[str, Catalog] = {}
    for k in range(n):
        course = f"c{k:02d}"
        templates[course] = _template(course, k)
        ws.write(ws.template_key(course), templates[course])
        for ll in LOCALES[: 1 + k % 2] if k else LOCALES:
            ws.write(ws.catalog_key(course, ll), _translated(templates[course], course, ll, k))
    templates["new-course"] = _template("new-course", 11)
    return ws, templates


def _assert_same(ws: Workspace, templates: dict[str, Catalog], similarity: float = 0.75) -> None:
    for ll in LOCALES:
        for course, template in templates.items():
            empty = new_catalog(template, course, ll)
            indexed = memory_for(ws, ll, course, template_sources(template), similarity=similarity)
            scanned = load_memory(ws, ll, exclude_course=course)
            got, want = indexed.fill(empty, similarity=similarity), scanned.fill(empty, similarity=similarity)
            assert got == want, (ll, course)


@pytest.mark.parametrize("similarity", [0.75, 0.5, 0.95, 1.0])
def test_lazy_indexed_fills_equal_a_full_scan_in_two_locales(tmp_path: Path, similarity: float) -> None:
    ws, templates = _workspace(tmp_path)
    _assert_same(ws, templates, similarity)
    empty = new_catalog(templates["new-course"], "new-course", "es")
    _, report = load_memory(ws, "es", exclude_course="new-course").fill(empty, similarity=similarity)
    assert report.exact > 5 and (report.near > 0 or similarity == 1.0)  # the data gives both kinds


def test_a_write_after_a_lookup_keeps_the_index_equal_to_a_full_scan(tmp_path: Path) -> None:
    """The write starts from the bands the lookup parsed (and copies what it changes)."""
    ws, templates = _workspace(tmp_path)
    for ll, course, k in (("es", "c01", 7), ("ar", "c00", 3), ("es", "c01", 2)):
        memory = memory_for(ws, ll, course, template_sources(templates[course]))
        before = memory.fill(new_catalog(templates[course], course, ll))
        catalog = _translated(templates[course], course, ll, k)
        key = ws.catalog_key(course, ll)
        assert ws.write(key, catalog)
        record_catalog(ws, course, ll, catalog, ws.written[key])
        # the memory from before the write still answers as it did: nothing it holds was changed
        assert memory.fill(new_catalog(templates[course], course, ll)) == before
        _assert_same(ws, templates)


def test_shared_scores_stay_exact_when_the_cache_is_dropped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache so small that every lookup drops it: the answers do not change."""
    monkeypatch.setattr(memory_lookup, "NEAR_SCORES", NearScores(limit=5))
    ws, templates = _workspace(tmp_path)
    _assert_same(ws, templates)


def _brute(query: str, pool: list[str], cutoff: float) -> set[tuple[str, float]]:
    return {(m, float(fuzz.ratio(query, m))) for m in pool if fuzz.ratio(query, m) >= cutoff}


@pytest.mark.parametrize("cutoff", [0.0, 50.0, 75.0, 99.0, 100.0])
def test_length_windows_and_shared_scores_find_what_a_full_scan_finds(cutoff: float) -> None:
    rng = random.Random(7)
    alphabet = 'ab cdé!?—«»محاض量子📚\t"\\'
    pool = sorted({*SOURCES, "", " ", *("".join(rng.choices(alphabet, k=rng.randint(0, 60))) for _ in range(300))})
    halves = (pool[::2], pool[1::2], pool)  # three "locales": two disjoint memories and their union
    scores = NearScores(limit=10_000)
    generations = [scores.add(None, half) for half in halves]
    for query in [*SOURCES[:8], "", LONG[:200], *rng.sample(pool, 40)]:
        assert set(LengthIndex(pool).matches(query, cutoff)) == _brute(query, pool, cutoff)
        for half, generation in zip(halves, generations, strict=True):
            found = scores.matches(None, query, cutoff, generation)
            assert found is not None
            members = set(half)
            assert {(m, score) for m, score in found if m in members} == _brute(query, half, cutoff)
    assert scores.matches("other context", "Home", cutoff, generations[0]) == []
    scores.add(None, ["x"] * 20_000)  # past the limit: dropped, a new generation
    assert scores.matches(None, "Home", cutoff, generations[0]) is None


# -- hostile records and keys --------------------------------------------------------


def _record(msgstr: str = "t", count: int = 1) -> list[object]:
    return [msgstr, False, count, [["", "c01", "", ""]], [["c01", 0]]]


def test_sources_parse_exactly_as_written() -> None:
    pairs = [
        (None, ""),
        ("menu", "Home"),
        (None, 'a", "b'),
        (None, "محاضرات"),
        (None, "📚\\\t"),
        (None, LONG),
        ("", "!"),
    ]
    listed = [*pairs, (None, "x")]
    body = {
        "msgctxt": [c for c, _ in listed],
        "msgid": [m for _, m in listed],
        "home": ["c01"] * len(pairs) + ["@imported"],
    }
    body = json.loads(json.dumps(body))
    assert parse_sources(body) == {**dict.fromkeys(pairs, "c01"), (None, "x"): "@imported"}
    assert parse_sources({"msgctxt": [], "msgid": [], "home": []}) == {}


@pytest.mark.hostile
@pytest.mark.parametrize(
    "band",
    [
        {"msgctxt": {"a": 1}, "msgid": [], "home": []},
        {"msgctxt": [None], "msgid": "x", "home": ["c01"]},
        {"msgctxt": [None], "msgid": ["x"]},
        {"msgctxt": [None, None], "msgid": ["x"], "home": ["c01"]},  # lists of different lengths
        {"msgctxt": [1], "msgid": ["x"], "home": ["c01"]},
        {"msgctxt": [None], "msgid": [3], "home": ["c01"]},
        {"msgctxt": [None], "msgid": ["x"], "home": [3]},
        {"msgctxt": [None], "msgid": ["x"], "home": ["../../../etc/passwd"]},  # a home is a file name: never a path
        {"msgctxt": [None], "msgid": ["x"], "home": [""]},
        {"msgctxt": [None], "msgid": [["x"]], "home": ["c01"]},
        {"sources": [[None, "x", "c01"]]},
    ],
)
def test_sources_not_written_by_the_index_are_damage(band: dict[str, object]) -> None:
    with pytest.raises(Damaged):
        parse_sources(band)
    with pytest.raises(Damaged):
        parse_sources({"keys": {}})  # a band of the earlier format: rebuilt


@pytest.mark.hostile
@pytest.mark.parametrize(
    "entry",
    [
        {"a": 1},
        [None],
        [[1, False, 1, [["", "c01", "", ""]], [["c01", 0]]]],
        [["t", False, "1", [["", "c01", "", ""]], [["c01", 0]]]],
        [["t", False, 1, [], [["c01", 0]]]],
        [["t", False, 1, [["", "c01", "", ""]], []]],
        [["t", False, 1, [["", 3, "", ""]], [["c01", 0]]]],
        [["t", False, 1, [["", "c01", ""]], [["c01", 0]]]],
        [["t", False, 1, [["", "c01", "", ""]], [["c01", "0"]]]],
        [["t", False, 1, [["", "c01", "", ""]], [[None, 0]]]],
        [["t", False, 1, [["", "c01", "", ""]]]],
    ],
)
def test_records_not_written_by_the_index_are_damage(entry: object) -> None:
    with pytest.raises(Damaged):
        check_records({key_of(None, "x"): entry})


def _generation(ws: Workspace, ll: str) -> str:
    return str(json.loads(ws.storage.read_bytes(f"index/memory/{ll}/manifest.json"))["generation"])


@pytest.mark.hostile
def test_hostile_band_and_home_objects_are_rebuilt_and_answer_as_a_full_scan(tmp_path: Path) -> None:
    ws, templates = _workspace(tmp_path, n=4)
    some = {"c01": templates["c01"], "new-course": templates["new-course"]}
    bands = [
        {"keys": {key_of(None, "Home"): [_record()]}},  # the earlier format
        {"msgctxt": [None], "msgid": ["Home"], "home": ["../c01"]},
        {"msgctxt": [None], "msgid": ["Home"], "home": []},
        {"msgctxt": "x", "msgid": [], "home": []},
    ]
    homes = [
        {"keys": {key_of(None, "Home"): [["t", False, 5, [], []]]}},
        {"keys": {key_of(None, "Home"): [["t", False, 1, [["", 1, "", ""]], [["c01", 0]]]]}},
        {"keys": {key_of(None, "Home"): [["t", False, 1, [["", "c01", "", ""]], [["c01", 1e300]]]]}},
        {"keys": [1, 2]},
        {"msgctxt": [], "msgid": [], "home": []},
    ]
    for folder, bodies in (("band", bands), ("home", homes)):
        for body in bodies:
            for ll in LOCALES:
                rebuild(ws, ll)
                for k in ws.storage.list(f"index/memory/{ll}/{_generation(ws, ll)}/{folder}"):
                    ws.storage.write_bytes(k, json.dumps(body).encode())
            _assert_same(ws, some)
    # a band damaged between a lookup and the write that follows it: the write's compare-and-swap
    # sees another object, reads it, finds it damaged and marks the index for a rebuild
    memory_for(ws, "es", "c01", template_sources(templates["c01"]))
    for band_key in ws.storage.list(f"index/memory/es/{_generation(ws, 'es')}/band"):
        ws.storage.write_bytes(band_key, b'{"keys": [1, 2]}')
    catalog = _translated(templates["c01"], "c01", "es", 5)
    key = ws.catalog_key("c01", "es")
    assert ws.write(key, catalog)
    record_catalog(ws, "c01", "es", catalog, ws.written[key])
    _assert_same(ws, some)


@pytest.mark.hostile
def test_a_damaged_home_met_only_by_a_near_match_rebuilds_and_fills_as_a_full_scan(tmp_path: Path) -> None:
    """The records of a near match's source are read when the fill meets it: damaged there,
    the locale is rebuilt and the fill done again, never a traceback or a different answer."""
    ws, templates = _workspace(tmp_path, n=4)
    template = templates["new-course"]
    rebuild(ws, "es")
    generation = _generation(ws, "es")
    homes: dict[tuple[str | None, str], str] = {}
    for k in ws.storage.list(f"index/memory/es/{generation}/band"):
        homes.update(parse_sources(json.loads(ws.storage.read_bytes(k))))
    read_first = {homes[k] for k in template_sources(template) if k in homes}
    damaged = [
        k
        for k in ws.storage.list(f"index/memory/es/{generation}/home")
        if k.rsplit("/", 1)[1].removesuffix(".json") not in read_first
    ]
    assert damaged  # the data has near matches homed where no exact match is
    for k in damaged:
        ws.storage.write_bytes(k, b'{"keys": {"x": 1}}')
    memory = memory_for(ws, "es", "new-course", template_sources(template), near=[])  # near homes read lazily
    with pytest.raises(Damaged):  # met during the fill itself
        memory.fill(new_catalog(template, "new-course", "es"))
    got = refresh_from_memory(ws, None, template, "new-course", "es")
    want = refresh(None, template, "new-course", "es", load_memory(ws, "es", exclude_course="new-course"))
    assert got == want and got.memory.near > 0
    assert _generation(ws, "es") != generation  # rebuilt


# -- writers that race, stop, or meet a rebuild ----------------------------------------


def _fills(ws: Workspace, ll: str, template: Catalog, course: str) -> tuple[object, object]:
    empty = new_catalog(template, course, ll)
    got = memory_for(ws, ll, course, template_sources(template)).fill(empty)
    return got, load_memory(ws, ll, exclude_course=course).fill(empty)


def test_a_repair_never_trusts_a_band_an_earlier_lookup_parsed(tmp_path: Path) -> None:
    """A lookup parses a band; another process then brings a source into it and takes it out
    again behind the index's back. The next lookup's repair of that course must find the
    source's home (in the band as it is now), not skip the removal."""
    ws, templates = _workspace(tmp_path, n=3)
    new = "Brand new sentence zq"
    probe = replace(templates["c00"], entries=(*templates["c00"].entries, Entry("Brand new sentence zz", "", None)))
    memory_for(ws, "es", "c00", template_sources(probe))  # parses the band `new` falls in
    key = ws.catalog_key("c01", "es")
    catalog = ws.read_catalog("c01", "es")
    catalog = replace(catalog, entries=(*catalog.entries, Entry(new, "PLANTED", None)))
    ws.write(key, catalog)
    record_catalog(ws, "c01", "es", catalog, ws.written[key])
    ws.write(key, replace(catalog, entries=catalog.entries[:-1]))  # gone again, not recorded
    asked = Catalog(headers=(("Project-Id-Version", "zz"),), entries=(Entry(new, "", None),))
    got, want = _fills(ws, "es", asked, "zz")
    assert got == want and [e.msgstr for e in got[0].entries] == [""]  # type: ignore[index]


def test_a_rebuild_during_a_fill_is_met_and_the_fill_done_again(tmp_path: Path) -> None:
    """Another process rebuilds the locale (the old generation's objects are deleted) while a fill
    reads a near match's records: the fill notices (Moved) and refresh_from_memory fills again
    from the new index, with the full scan's answer."""
    ws, templates = _workspace(tmp_path, n=4)
    template = templates["new-course"]
    memory = memory_for(ws, "es", "new-course", template_sources(template), near=[])  # near homes read lazily
    rebuild(ws, "es")
    with pytest.raises(Moved):
        memory.fill(new_catalog(template, "new-course", "es"))
    rebuilt = _generation(ws, "es")
    calls: list[int] = []
    original = memory_lookup.IndexedMemory.load

    def rebuild_once_after_load(self: memory_lookup.IndexedMemory, keys: object, *more: object) -> None:
        original(self, keys, [], 0.0)  # type: ignore[arg-type]  # near homes left to the fill
        if not calls:
            calls.append(1)
            rebuild(ws, "es")  # "another process", between the lookup and the fill

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(memory_lookup.IndexedMemory, "load", rebuild_once_after_load)
        got = refresh_from_memory(ws, None, template, "new-course", "es")
    want = refresh(None, template, "new-course", "es", load_memory(ws, "es", exclude_course="new-course"))
    assert got == want and got.memory.near > 0 and calls == [1]
    assert _generation(ws, "es") != rebuilt


def test_a_writer_stopped_mid_write_is_never_taken_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer stops after changing the records and before writing its contribution; past the
    lease, the next writer of that course does not take over what it left (counts would double):
    the locale is rebuilt, and answers as a full scan."""
    from localize.catalogs import memory_index

    ws, _ = _workspace(tmp_path, n=3)
    rebuild(ws, "es")
    shared = Entry("Shared zq", "", None)
    other = ws.read_catalog("c02", "es")
    other = replace(other, entries=(*other.entries, replace(shared, msgstr="a from c02")))
    k2 = ws.catalog_key("c02", "es")
    ws.write(k2, other)
    record_catalog(ws, "c02", "es", other, ws.written[k2])
    key = ws.catalog_key("c01", "es")
    catalog = ws.read_catalog("c01", "es")
    catalog = replace(catalog, entries=(*catalog.entries, replace(shared, msgstr="from c01")))
    ws.write(key, catalog)
    real = memory_index.write_json

    def stop(workspace: Workspace, k: str, body: dict[str, object]) -> None:
        if "/units/c01" in k:
            raise KeyboardInterrupt("killed")
        real(workspace, k, body)

    monkeypatch.setattr(memory_index, "write_json", stop)
    with pytest.raises(KeyboardInterrupt):
        record_catalog(ws, "c01", "es", catalog, ws.written[key])
    monkeypatch.setattr(memory_index, "write_json", real)
    manifest_key = "index/memory/es/manifest.json"
    manifest = json.loads(ws.storage.read_bytes(manifest_key))
    manifest["writing"]["c01"]["since"] -= memory_index.LEASE + 5  # the lease has passed
    ws.storage.write_bytes(manifest_key, json.dumps(manifest).encode())
    record_catalog(ws, "c01", "es", catalog, ws.written[key])  # the next writer of c01
    asked = Catalog(headers=(("Project-Id-Version", "zz"),), entries=(shared,))
    got, want = _fills(ws, "es", asked, "zz")
    assert got == want and [e.msgstr for e in want[0].entries] == ["a from c02"]  # type: ignore[index]


@pytest.mark.hostile
@pytest.mark.parametrize(
    "change",
    [
        {"generation": "../../../es"},  # rebuild would list (and delete) the catalogs of es
        {"generation": 5},
        {"generation": ["x"]},
        {"courses": {"../../evil": "v1"}},
        {"writing": {"../x": {"since": 0, "token": "t"}}},
        {"sources": 10**400, "live": -(10**400)},
        {"sources": True, "live": "many"},  # counts no index writes: rebuilt
        {"sources": 0, "live": 10**9},
        {"sources": -5, "live": 2**70},
    ],
)
def test_a_hostile_manifest_is_rebuilt_and_never_reaches_outside_the_index(
    tmp_path: Path, change: dict[str, object]
) -> None:
    ws, templates = _workspace(tmp_path, n=2)
    rebuild(ws, "es")
    catalogs = {k: ws.storage.read_bytes(k) for k in ws.storage.list("es")}
    manifest_key = "index/memory/es/manifest.json"
    manifest = json.loads(ws.storage.read_bytes(manifest_key))
    manifest.update(change)
    ws.storage.write_bytes(manifest_key, json.dumps(manifest).encode())
    got, want = _fills(ws, "es", templates["c01"], "c01")
    assert got == want
    rebuilt = json.loads(ws.storage.read_bytes(manifest_key))
    assert rebuilt["generation"] != manifest["generation"] and rebuilt["sources"] == rebuilt["live"] > 0
    assert {k: ws.storage.read_bytes(k) for k in ws.storage.list("es")} == catalogs
    with pytest.raises(PermanentStorageError):
        list(ws.storage.list("index/memory/es/../../../es"))


@pytest.mark.hostile
def test_a_position_no_number_holds_is_damage_for_the_write_that_meets_it(tmp_path: Path) -> None:
    """A home whose later member sits at position Infinity: the write that touches the source marks
    the index for a rebuild (OverflowError is damage too), never a traceback after the catalog."""
    ws, templates = _workspace(tmp_path, n=3)
    rebuild(ws, "es")
    home_key = f"index/memory/es/{_generation(ws, 'es')}/home/c00.json"
    body = json.loads(ws.storage.read_bytes(home_key))
    in_c01 = {key_of(e.msgctxt, e.msgid) for e in ws.read_catalog("c01", "es").entries}
    source = next(k for k in body["keys"] if k not in in_c01)
    for r in body["keys"][source]:
        r[4].append(["c00", float("inf")])
        r[3].append(["", "c00", "", ""])
        r[2] = max(r[2], 2)
    ws.storage.write_bytes(home_key, json.dumps(body).encode())
    msgctxt, msgid = json.loads(source)
    catalog = ws.read_catalog("c01", "es")
    catalog = replace(catalog, entries=(*catalog.entries, Entry(msgid, body["keys"][source][0][0], msgctxt)))
    key = ws.catalog_key("c01", "es")
    ws.write(key, catalog)
    record_catalog(ws, "c01", "es", catalog, ws.written[key])
    assert json.loads(ws.storage.read_bytes("index/memory/es/manifest.json")).get("broken") is True
    got, want = _fills(ws, "es", templates["new-course"], "new-course")
    assert got == want


def test_the_records_a_fill_needs_are_read_before_it_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """memory_for reads the homes of the exact and the near matches up front (several at a
    time), so the fill reads nothing and damage is met where the index is rebuilt."""
    ws, templates = _workspace(tmp_path, n=4)
    template = templates["new-course"]
    memory = memory_for(ws, "es", "new-course", template_sources(template))
    reads: list[str] = []
    original = ws.storage.read_bytes

    def spy(key: str) -> bytes:
        reads.append(key)
        return original(key)

    monkeypatch.setattr(ws.storage, "read_bytes", spy)
    got = memory.fill(new_catalog(template, "new-course", "es"))
    assert reads == []
    want = load_memory(ws, "es", exclude_course="new-course").fill(new_catalog(template, "new-course", "es"))
    assert got == want and got[1].near > 0


def _dead_counts(ws: Workspace, ll: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """(sources, live) as the manifest counts them, and as the bands and homes hold them."""
    body = json.loads(ws.storage.read_bytes(f"index/memory/{ll}/manifest.json"))
    base = f"index/memory/{ll}/{body['generation']}"
    listed = sum(len(json.loads(ws.storage.read_bytes(k))["msgid"]) for k in ws.storage.list(f"{base}/band"))
    live = sum(len(json.loads(ws.storage.read_bytes(k))["keys"]) for k in ws.storage.list(f"{base}/home"))
    return (body["sources"], body["live"]), (listed, live)


def _revise(ws: Workspace, templates: dict[str, Catalog], ll: str, term: int) -> None:
    """Every course of ``ll`` revised: each text marked with the term (term 0: as at first)."""
    for k, (course, template) in enumerate(templates.items()):
        key = ws.catalog_key(course, ll)
        if not ws.storage.exists(key):
            continue
        entries = tuple(replace(e, msgid=f"{e.msgid} [term {term}]") for e in template.entries) if term else None
        catalog = _translated(replace(template, entries=entries or template.entries), course, ll, k)
        assert ws.write(key, catalog)
        record_catalog(ws, course, ll, catalog, ws.written[key])
        counted, held = _dead_counts(ws, ll)
        assert counted == held, (course, term)  # kept exact write by write


def test_dead_sources_are_counted_as_written_and_a_locale_left_mostly_dead_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Courses revised term after term leave their old texts in the bands with no records,
    scored by every near-match lookup. The manifest counts them as writes go (texts that come
    back count as live again), and a lookup that finds more than a quarter of the sources (and
    DEAD) dead rebuilds the locale: its bands then list only live sources."""
    ws, templates = _workspace(tmp_path)
    memory_for(ws, "es", "c00", template_sources(templates["c00"]))  # builds the index
    first = _generation(ws, "es")
    counted, _ = _dead_counts(ws, "es")
    assert counted[0] == counted[1] > 20  # nothing dead after a build
    _revise(ws, templates, "es", 1)
    _revise(ws, templates, "es", 0)  # the first texts again: live once more
    _revise(ws, templates, "es", 2)
    (sources, live), _ = _dead_counts(ws, "es")
    assert sources - live > sources // 4 and sources - live < memory_index.DEAD
    _assert_same(ws, templates)
    assert _generation(ws, "es") == first  # fewer dead than DEAD: kept

    monkeypatch.setattr(memory_index, "DEAD", 10)
    _assert_same(ws, templates)
    assert _generation(ws, "es") != first
    (sources, live), held = _dead_counts(ws, "es")
    assert sources == live == held[0] == held[1]  # only live sources listed


def test_one_lookup_rebuilds_for_dead_sources_while_the_others_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many lookups meet the dead-source threshold together (an update flow in a term of
    revisions): the first claims the rebuild in the manifest, the others answer from the index as
    it is (dead sources cost time, not answers) until the claim is older than LEASE."""
    import time

    ws, templates = _workspace(tmp_path)
    memory_for(ws, "es", "c00", template_sources(templates["c00"]))
    _revise(ws, templates, "es", 1)
    monkeypatch.setattr(memory_index, "DEAD", 10)
    key = "index/memory/es/manifest.json"
    for since, rebuilds in ((time.time() - 5, False), (time.time() - memory_index.LEASE - 5, True), (1e300, True)):
        if rebuilds and since > 1e299:  # a time no clock gave: not a claim
            _revise(ws, templates, "es", 3)
        first = _generation(ws, "es")
        manifest = json.loads(ws.storage.read_bytes(key))
        ws.storage.write_bytes(key, json.dumps(manifest | {"rebuilding": {"since": since, "token": "other"}}).encode())
        _assert_same(ws, templates)
        assert (_generation(ws, "es") != first) == rebuilds, since
    assert "rebuilding" not in json.loads(ws.storage.read_bytes(key))  # the switch clears the claim


def test_a_lookup_that_meets_another_writers_rebuild_looks_up_again_without_rebuilding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, templates = _workspace(tmp_path)
    rebuild(ws, "es")
    calls: list[str] = []
    real_rebuild, real_read = memory_index.rebuild, memory_index.read_object

    def counted(workspace: Workspace, locale: str) -> int:
        calls.append(locale)
        return real_rebuild(workspace, locale)

    lock = threading.Lock()

    def read_object(workspace: Workspace, key: str, read: dict[str, tuple[dict[str, object], str]]) -> object:
        with lock:  # homes are read several at a time
            if "/home/" in key and not calls:
                calls.append("other")
                real_rebuild(workspace, "es")  # another process switches generations under this lookup
        return real_read(workspace, key, read)

    monkeypatch.setattr(memory_index, "rebuild", counted)
    monkeypatch.setattr(memory_index, "read_object", read_object)
    memory = memory_for(ws, "es", "c01", template_sources(templates["c01"]))
    assert calls == ["other"]  # met, and looked up again: no rebuild of its own
    empty = new_catalog(templates["c01"], "c01", "es")
    assert memory.fill(empty) == load_memory(ws, "es", exclude_course="c01").fill(empty)
