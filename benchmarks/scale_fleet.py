"""The synthetic OpenCourseWare that benchmarks/scale.py measures, and how one process is measured.

The fleet is written through the library (no CLI process per course): course i takes the
template of corpus course i mod 10, with a deterministic seventh of its longer texts varied by i
(the shared theme, navigation and footer stay identical across courses, as on the real site).
With ``pages``, a course keeps only the entries of its first ``pages`` pages (the --full run).
Every course x locale has a catalog at a stage from 0 % to 100 % translated and an assignment,
except ``course-00000`` in the last locale (``init`` of a new locale fills it from the full memory
of that locale) and ``course-new``, which has a template only (the same course at every N: the
template of corpus course 3 with its own varied texts). The three regions are prefixes of
one bucket on a local SeaweedFS: their indexes list every course x locale as published (one
version id; what the fleet-wide reads see), and the courses the benchmark publishes are published
for real.

A process is counted by a ``sitecustomize`` hook: workspace files read (every file
``LocalStorage`` opens for reading; the translation-memory index's database counts as one file,
whatever it was asked), the rows of that database read (``Rows._get``), S3 objects read
(``S3Storage.read_with_etag`` and ``download``: every GET) and S3 listings (one per page of
``list_objects_v2``).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from localize.model import Catalog

LOCALES = ("es", "ar", "pt_BR", "fr", "sw", "zh_CN", "hi", "ru", "fa", "tr", "id", "ur")
REGIONS = ("latam", "mena", "africa")
VERSION = "20260101T000000.000Z-00000000"  # the version id every seeded index entry names

COUNTER = """
import atexit, json, os
from localize.storage import base, rows, s3
_n = {"files": 0, "objects": 0, "lists": 0, "rows": 0}
def _count(cls, name, what):
    orig = getattr(cls, name)
    def counting(self, *a, **k):
        _n[what] += 1
        return orig(self, *a, **k)
    setattr(cls, name, counting)
_count(base.LocalStorage, "_open", "files")
_count(rows.Rows, "_get", "rows")
_count(s3.S3Storage, "read_with_etag", "objects")
_count(s3.S3Storage, "download", "objects")
_count(s3.S3Storage, "_pages", "lists")
def _write():
    _n["files"] += 1 if _n["rows"] else 0  # the database: one file
    open(os.environ["LOCALIZE_BENCH_READS"], "w").write(json.dumps(_n))
atexit.register(_write)
"""


@dataclass(frozen=True)
class Measure:
    seconds: float
    cpu: float  # user + system of the process
    rss_kib: int
    files: int  # workspace files read
    objects: int  # S3 objects read (GET)
    lists: int  # S3 listing pages
    rows: int = 0  # rows of the memory index's database read


def measure(argv: list[str], cwd: Path, env: dict[str, str]) -> Measure:
    """Run ``python ARGV`` as a new process (cold: no caches) and measure it.
    CPU time is what the process itself spent: unlike the wall clock, it hardly moves
    when other work shares the machine."""
    with tempfile.TemporaryDirectory() as hook:
        Path(hook, "sitecustomize.py").write_text(COUNTER)
        reads = Path(hook, "reads.json")
        env = (
            os.environ
            | env
            | {
                "PYTHONPATH": hook + os.pathsep + os.environ.get("PYTHONPATH", ""),
                "LOCALIZE_BENCH_READS": str(reads),
            }
        )
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, *argv], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        err = proc.stderr.read().decode() if proc.stderr else ""
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{err}")
        n = json.loads(reads.read_text()) if reads.exists() else {"files": -1, "objects": -1, "lists": -1, "rows": -1}
        cpu = usage.ru_utime + usage.ru_stime
        return Measure(seconds, cpu, usage.ru_maxrss, n["files"], n["objects"], n["lists"], n["rows"])


def corpus_courses(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.iterdir() if p.is_dir())


def load_templates(corpus: Path, cache: Path) -> list[Catalog]:
    """The template of every corpus course (extracted once, kept in ``cache``)."""
    from localize.catalogs.po import read_po, write_po
    from localize.engine.extract import extract_course
    from localize.storage.courses import open_source

    cache.mkdir(exist_ok=True)
    out = []
    for c in corpus_courses(corpus):
        cached = cache / f"{c.name}.pot"
        if not cached.exists():
            cached.write_text(write_po(extract_course(open_source(c), c.name, jobs=1).catalog), encoding="utf-8")
        out.append(read_po(cached.read_bytes(), str(cached)))
    return out


def first_pages(template: Catalog, pages: int) -> Catalog:
    """Only the entries of the template's first ``pages`` pages (by name), with their references there."""
    names = sorted({r.rsplit(":", 1)[0] for e in template.entries for r in e.references})[:pages]
    keep = set(names)
    entries = []
    for e in template.entries:
        refs = tuple(r for r in e.references if r.rsplit(":", 1)[0] in keep)
        if refs:
            entries.append(replace(e, references=refs))
    return replace(template, entries=tuple(entries))


# the new course that `init` fills: the same at every N (it was course number N, so the N=25 and
# N=2,500 runs filled courses made from different corpus courses, 261 and 87 entries)
NEW_COURSE = 1_000_003


def course_template(templates: list[Catalog], i: int, course: str) -> Catalog:
    """Course ``i``: the template of corpus course i mod 10, a seventh of its longer texts varied by ``i``."""
    base = templates[i % len(templates)]
    entries = tuple(
        replace(e, msgid=f"{e.msgid} ({i})") if (j % 7 == i % 7 and len(e.msgid) > 40) else e
        for j, e in enumerate(base.entries)
    )
    return (
        replace(base, entries=entries)
        .with_header("Project-Id-Version", course)
        .with_header("X-Localize-Course", course)
    )


def share(i: int, k: int) -> float:
    """How much of course i is translated in locale k: 0, 25, 50, 75 or 100 %."""
    return (k + i) % 5 / 4


def build_fleet(
    templates: list[Catalog],
    root: Path,
    n: int,
    locales: tuple[str, ...],
    *,
    bucket: str,
    endpoint: str,
    client: object,
    index_memory: bool = False,
) -> Path:
    """Write the fleet under ``root`` (workspace ``ws``, inboxes, ``localize.toml``) and seed the
    regions' indexes in ``bucket``; with ``index_memory``, build each locale's memory index here
    (the --full run, in place of a measured ``index rebuild``). Returns the configuration's path."""
    from localize.catalogs.memory_rebuild import rebuild
    from localize.catalogs.workspace import Workspace
    from localize.partners.assignments import Assignment, save_assignment
    from localize.storage.s3 import S3Location, S3Storage

    ws = Workspace(str(root / "ws"))
    rng = random.Random(n)
    for i in range(n):
        course = f"course-{i:05d}"
        template = course_template(templates, i, course)
        entries = template.entries
        ws.write(ws.template_key(course), template)
        for k, ll in enumerate(locales):
            if i == 0 and k == len(locales) - 1:
                continue  # a new locale for course-00000: `init` fills it from the full memory
            cut = int(len(entries) * share(i, k))
            cat = replace(
                template,
                headers=(*template.headers, ("Language", ll)),
                entries=tuple(replace(e, msgstr=f"[{ll}] {e.msgid}") if j < cut else e for j, e in enumerate(entries)),
            )
            ws.write(ws.catalog_key(course, ll), cat)
            save_assignment(
                ws,
                Assignment(
                    f"20260101-{i:05d}{k:02d}",
                    course,
                    ll,
                    f"p{k}",
                    "0" * 64,
                    "2026-01-01T00:00:00+00:00",
                    "2026-01-15",
                    rng.choice(("sent", "accepted")),
                ),
            )
    # a course with a template and no catalog yet: `init` fills it from the whole memory of a locale
    ws.write(ws.template_key("course-new"), course_template(templates, NEW_COURSE, "course-new"))
    if index_memory:
        for ll in locales:
            rebuild(ws, ll)
    for r in REGIONS:
        index = {
            "region": r,
            "courses": {f"course-{i:05d}": {ll: {"version": VERSION} for ll in locales} for i in range(n)},
        }
        S3Storage(S3Location(bucket, f"regions/{r}", endpoint_url=endpoint), client=client).write_bytes(
            "index.json", json.dumps(index).encode()
        )
    partners = "\n".join(
        f'[[partners]]\nid = "p{k}"\nname = "Partner {k}"\nlocales = ["{ll}"]\ninbox = "inboxes/p{k}"\n'
        for k, ll in enumerate(locales)
    )
    regions = "\n".join(
        f'[[regions]]\nname = "{r}"\nlocation = "s3://{bucket}/regions/{r}"\nendpoint_url = "{endpoint}"\n'
        f"locales = {json.dumps(list(locales))}\n"
        for r in REGIONS
    )
    config = root / "localize.toml"
    config.write_text(f'[workspace]\nlocation = "ws"\n\n{partners}\n{regions}')
    return config


def write_return(kit_po: Path, returned: Path, locale: str) -> int:
    """A translator's return: the kit's .po with every untranslated entry translated; returns how many."""
    from localize.catalogs.po import read_po, write_po

    catalog = read_po(kit_po.read_bytes(), str(kit_po))
    filled = 0
    entries = []
    for e in catalog.entries:
        if not e.obsolete and not e.msgstr and e.msgid_plural is None:
            e = replace(e, msgstr=f"[{locale}] {e.msgid}", flags=tuple(f for f in e.flags if f != "fuzzy"))
            filled += 1
        entries.append(e)
    returned.parent.mkdir(parents=True, exist_ok=True)
    returned.write_text(write_po(replace(catalog, entries=tuple(entries))), encoding="utf-8")
    return filled


EXTRACT_ALL = """
import sys
from localize.app.pages import extract_to_workspace
from localize.catalogs.workspace import Workspace
from localize.storage.courses import open_source
ws = Workspace(sys.argv[1])
sources = sys.argv[3:]
for i in range(int(sys.argv[2])):
    extract_to_workspace(ws, open_source(sources[i % len(sources)]), f"course-{i:05d}", jobs=1)
"""
