"""The kill matrix: ingest, update and tm import stopped dead (SIGKILL, no cleanup) at every step
boundary, or failing on a storage error at every write, and then run again, end exactly where an
uninterrupted run ends: the same catalog of record bytes, assignment, QA report and archive.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hostile.test_partners import CONFIG, COURSE, RETURNS, Project, cli
from localize.errors import TransientStorageError
from localize.partners.inbox import LocalInbox
from localize.storage.base import LocalStorage

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
RUN = "import sys; from localize.cli import main; sys.exit(main(sys.argv[1:]))"


def run(p: Project, *argv: str, kill_at: str | None = None, code: str = RUN) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT}")
    env.pop("LOCALIZE_TEST_KILL_AT", None)
    if kill_at is not None:
        env["LOCALIZE_TEST_KILL_AT"] = kill_at
    return subprocess.run([PYTHON, "-c", code, *argv], cwd=p.root, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pristine-kills")
    (root / "localize.toml").write_text(CONFIG.format(lima_hook=""), encoding="utf-8")
    shutil.copytree(RETURNS / "course", root / "course")
    ws = str(root / "locales")
    for argv in (
        ["extract", str(root / "course"), "--course", COURSE, "--locales-dir", ws],
        ["init", "--course", COURSE, "--locale", "es", "--locales-dir", ws],
        ["init", "--course", COURSE, "--locale", "ar", "--locales-dir", ws],
        ["route", "--course", COURSE, "--locale", "es", "--config", str(root / "localize.toml")],
    ):
        code, _, err = cli(*argv)
        assert code == 0, err
    return root


def fresh(pristine: Path, tmp_path: Path, name: str) -> Project:
    shutil.copytree(pristine, tmp_path / name, symlinks=True)
    return Project(tmp_path / name)


_STAMP = re.compile(r"\d{8}T\d{6}|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:\+00:00)?")


def state_of(p: Project) -> dict[str, object]:
    """What an ingest leaves behind, with the run's own time and place taken out."""

    def norm(data: bytes) -> str:
        return _STAMP.sub("STAMP", data.decode("utf-8").replace(str(p.root), "ROOT"))

    archive = p.ws / "archive" / "returns" / "lima"
    return {
        "catalog": p.catalog(),
        "assignments": sorted(norm(f.read_bytes()) for f in (p.ws / "assignments").rglob("*.json")),
        "reports": sorted((f.name, norm(f.read_bytes())) for f in (p.lima / "reports").iterdir()),
        "archive": sorted((_STAMP.sub("STAMP", f.name), f.read_bytes()) for f in archive.glob("*.po")),
        "records": sorted(json.loads(f.read_bytes())["step"] for f in archive.glob("*.ingest.json")),
        "inbox": sorted(str(f.relative_to(p.lima)) for f in (p.lima / "returns").rglob("*") if f.is_file()),
        "outbox": sorted((p.ws / "outbox").rglob("*.json")) if (p.ws / "outbox").exists() else [],
    }


def drop_return(p: Project) -> None:
    data = p.good().replace(b'msgstr "Ondas y oscilaciones"', b'msgstr "Ondas<script>x</script>"')
    p.drop("return.po", data)  # one entry rejected, the rest merged: every step has work to do


INGEST_KILLS = [
    "ingest:received",
    "ingest:archived",
    "ingest:checked",
    "ingest:catalog-written",
    "ingest:merged",
    "ingest:report-written",
    "ingest:reported",
    "ingest:processed-copied",
]


@pytest.fixture(scope="module")
def ingest_reference(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    p = fresh(pristine, tmp_path_factory.mktemp("reference"), "p")
    drop_return(p)
    done = run(p, "ingest", "--partner", "lima", "--config", str(p.config))
    assert done.returncode == 1 and "return.po: partially accepted" in done.stdout, done.stderr
    reference = state_of(p)
    assert reference["records"] == ["reported"] and reference["inbox"] == ["returns/processed/return.po"]
    return reference


@pytest.mark.parametrize("step", INGEST_KILLS)
def test_ingest_killed_at_every_step_is_finished_by_the_next_run(
    step: str, pristine: Path, tmp_path: Path, ingest_reference: dict[str, object]
) -> None:
    p = fresh(pristine, tmp_path, "p")
    drop_return(p)
    killed = run(p, "ingest", "--partner", "lima", "--config", str(p.config), kill_at=step)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    again = run(p, "ingest", "--partner", "lima", "--config", str(p.config))

    assert "Traceback" not in again.stderr
    if step in ("ingest:reported", "ingest:processed-copied"):
        assert "return.po: already ingested" in again.stdout  # only once the report exists
    else:
        assert "return.po: partially accepted (waves/es kit " in again.stdout, again.stdout + again.stderr
    assert state_of(p) == ingest_reference
    third = run(p, "ingest", "--partner", "lima", "--config", str(p.config))
    assert third.stdout == "no returned files waiting\n" and state_of(p) == ingest_reference


def _failing_writes(monkeypatch: pytest.MonkeyPatch, fail_at: int) -> list[str]:
    """Make the ``fail_at``-th write (workspace or inbox) raise a transient storage error."""
    seen: list[str] = []
    for cls in (LocalStorage, LocalInbox):
        original = cls.write_bytes

        def write(self: object, key: str, data: bytes, _original: Callable[..., None] = original) -> None:
            seen.append(key)
            if len(seen) == fail_at:
                raise TransientStorageError("connection reset (injected)", path=key)
            _original(self, key, data)

        monkeypatch.setattr(cls, "write_bytes", write)
    return seen


def test_ingest_failing_on_a_storage_error_at_every_write_is_finished_by_the_next_run(
    pristine: Path, tmp_path: Path, ingest_reference: dict[str, object]
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        probe = fresh(pristine, tmp_path, "probe")
        drop_return(probe)
        writes = _failing_writes(mp, 0)
        cli("ingest", "--partner", "lima", "--config", str(probe.config))
        keys = list(writes)
    assert len(keys) >= 12, keys  # state records, archive, staged merge, catalog, reports, assignment, processed
    for n in range(1, len(keys) + 1):
        p = fresh(pristine, tmp_path, f"fail-{n}")
        drop_return(p)
        with pytest.MonkeyPatch.context() as mp:
            _failing_writes(mp, n)
            code, _out, err = cli("ingest", "--partner", "lima", "--config", str(p.config))
        assert code == 2 and "connection reset (injected)" in err and "Traceback" not in err, (n, keys[n - 1])
        cli("ingest", "--partner", "lima", "--config", str(p.config))
        assert state_of(p) == ingest_reference, (n, keys[n - 1])


# -- update ------------------------------------------------------------------------------------------


def change_course(p: Project) -> None:
    page = p.root / "course" / "index.html"
    text = page.read_text(encoding="utf-8")
    assert "before class." in text
    page.write_text(
        text.replace("before class.", "before the first class.").replace(
            "</body>", "<p>A new paragraph about standing waves.</p></body>"
        ),
        encoding="utf-8",
    )


def catalogs_of(p: Project) -> dict[str, bytes]:
    volatile = re.compile(rb'^"(?:POT-Creation-Date|PO-Revision-Date): .*\n', re.M)
    files = {"template": p.ws / "templates" / f"{COURSE}.pot"}
    files |= {ll: p.ws / ll / "LC_MESSAGES" / f"{COURSE}.po" for ll in ("ar", "es")}
    return {k: volatile.sub(b"", f.read_bytes()) for k, f in files.items()}


def translate_es(p: Project) -> None:
    """Some work in the es catalog (that update must carry over, fuzzy where the text changed)."""
    drop_return(p)
    assert run(p, "ingest", "--partner", "lima", "--config", str(p.config)).returncode == 1


UPDATE_KILLS = ["update:template-written", "update:catalog-written:ar", "update:catalog-written:es"]


def update(p: Project, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    return run(p, "update", str(p.root / "course"), "--course", COURSE, "--locales-dir", str(p.ws), kill_at=kill_at)


@pytest.fixture(scope="module")
def update_reference(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    p = fresh(pristine, tmp_path_factory.mktemp("update-reference"), "p")
    translate_es(p)
    change_course(p)
    done = update(p)
    assert done.returncode == 0, done.stdout + done.stderr
    return catalogs_of(p)


@pytest.mark.parametrize("step", UPDATE_KILLS)
def test_update_killed_at_every_write_never_wedges(
    step: str, pristine: Path, tmp_path: Path, update_reference: dict[str, bytes]
) -> None:
    p = fresh(pristine, tmp_path, "p")
    translate_es(p)
    change_course(p)
    assert update(p, kill_at=step).returncode == -signal.SIGKILL
    again = update(p)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "edited by hand" not in again.stdout + again.stderr
    assert catalogs_of(p) == update_reference


def test_update_after_extract_merges_instead_of_refusing(
    pristine: Path, tmp_path: Path, update_reference: dict[str, bytes]
) -> None:
    """The documented `localize extract` after a course change used to wedge every later update."""
    p = fresh(pristine, tmp_path, "p")
    translate_es(p)
    change_course(p)
    code, _, err = cli("extract", str(p.root / "course"), "--course", COURSE, "--locales-dir", str(p.ws))
    assert code == 0, err
    again = update(p)
    assert again.returncode == 0 and "edited by hand" not in again.stdout + again.stderr, again.stderr
    assert catalogs_of(p) == update_reference


def test_update_still_refuses_a_msgid_edited_by_hand(pristine: Path, tmp_path: Path) -> None:
    p = fresh(pristine, tmp_path, "p")
    path = p.ws / "es" / "LC_MESSAGES" / f"{COURSE}.po"
    before = path.read_bytes().replace(b'msgid "Waves and Oscillations"', b'msgid "Waves and oscillations!"')
    path.write_bytes(before)
    change_course(p)
    done = update(p)
    assert done.returncode == 1
    assert (
        "'Waves and oscillations!' is not in the template: the source text was edited by hand"
        in done.stdout + done.stderr
    )
    assert path.read_bytes() == before


# -- tm import ----------------------------------------------------------------------------------------

MEMORY = b'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: es\\n"\n\n' + b"".join(
    f'msgid "Sentence number {i}"\nmsgstr "Frase n\xc3\xbamero {i}"\n\n'.encode("latin-1") for i in range(400)
)
OLD_MEMORY = b'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: es\\n"\n\nmsgid "Hello"\nmsgstr "Hola"\n'
# os.replace is the one moment the compendium changes: dying just before it must leave the old one whole
DIE_BEFORE_RENAME = (
    "import os, signal, sys\n"
    "real = os.replace\n"
    "def replace(src, dst, *a, **k):\n"
    "    if str(dst).endswith('memory/es.po') or str(dst) == 'es.po':  # by path, or in its folder\n"
    "        os.kill(os.getpid(), signal.SIGKILL)\n"
    "    return real(src, dst, *a, **k)\n"
    "os.replace = replace\n" + RUN
)


def recorded(compendium: bytes) -> bytes:
    """A compendium without the time each import recorded (two runs import at different times)."""
    return re.sub(rb"(?m)^# imported-at: .*\n", b"", compendium)


@pytest.mark.parametrize("step", ["tm-import:before-write", "rename", "tm-import:written"])
def test_tm_import_killed_midway_leaves_the_old_or_the_new_compendium(
    step: str, pristine: Path, tmp_path: Path
) -> None:
    reference = fresh(pristine, tmp_path, "reference")
    for p in (reference,):
        (p.root / "old.po").write_bytes(OLD_MEMORY)
        (p.root / "tm.po").write_bytes(MEMORY)
        assert (
            run(p, "tm", "import", str(p.root / "old.po"), "--locale", "es", "--locales-dir", str(p.ws)).returncode == 0
        )
    old = (reference.ws / "memory" / "es.po").read_bytes()
    assert (
        run(
            reference,
            "tm",
            "import",
            str(reference.root / "tm.po"),
            "--locale",
            "es",
            "--locales-dir",
            str(reference.ws),
        ).returncode
        == 0
    )
    new = (reference.ws / "memory" / "es.po").read_bytes()

    p = fresh(pristine, tmp_path, "p")
    (p.root / "old.po").write_bytes(OLD_MEMORY)
    (p.root / "tm.po").write_bytes(MEMORY)
    assert run(p, "tm", "import", str(p.root / "old.po"), "--locale", "es", "--locales-dir", str(p.ws)).returncode == 0
    argv = ("tm", "import", str(p.root / "tm.po"), "--locale", "es", "--locales-dir", str(p.ws))
    killed = run(p, *argv, code=DIE_BEFORE_RENAME) if step == "rename" else run(p, *argv, kill_at=step)
    assert killed.returncode == -signal.SIGKILL
    compendium = recorded((p.ws / "memory" / "es.po").read_bytes())
    assert compendium == recorded(new if step == "tm-import:written" else old)  # never half of one
    assert run(p, *argv).returncode == 0
    assert recorded((p.ws / "memory" / "es.po").read_bytes()) == recorded(new)


# -- route ---------------------------------------------------------------------------------------------

# every step of a send: the kit's base in the workspace, its index entry, its record, the kit file in
# the partner's inbox, the rest of the kit, the notice
ROUTE_KILLS = [
    "route:base-written",
    "assignment:kit-indexed",
    "route:recorded",
    "route:kit-written",
    "route:inbox-written",
    "route:notified",
]
_DATES = re.compile(r"\d{4}-\d\d-\d\d|\d\d [A-Z][a-z]+ \d{4}|\d{8}")


def route_ar(p: Project, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    return run(p, "route", "--course", COURSE, "--locale", "ar", "--config", str(p.config), kill_at=kill_at)


def sent_state(p: Project) -> dict[str, object]:
    """What a route of the ar catalog leaves: the kit in cairo's inbox, its assignment and base in
    the workspace, the kit index (the day and the kit id, made of the day, taken out)."""
    kit = p.kit("ar")

    def norm(text: str) -> str:
        return _DATES.sub("DAY", _STAMP.sub("STAMP", text.replace(kit, "KIT").replace(str(p.root), "ROOT")))

    def files(root: Path) -> list[tuple[str, str]]:
        return sorted(
            (norm(str(f.relative_to(root))), norm(f.read_text("utf-8")))
            for f in root.rglob("*")
            if f.is_file() and not f.name.startswith(".")  # not the locks of conditional writes
        )

    return {
        "inbox": files(p.cairo / "kits"),
        "assignments": files(p.ws / "assignments" / COURSE / "ar"),
        "kit index": sorted(norm(f.name) for f in (p.ws / "index" / "kits").iterdir()),
    }


@pytest.fixture(scope="module")
def route_reference(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    p = fresh(pristine, tmp_path_factory.mktemp("route-reference"), "p")
    done = route_ar(p)
    assert done.returncode == 0, done.stdout + done.stderr
    reference = sent_state(p)
    assert [name for name, _ in reference["assignments"]] == ["KIT.json", "KIT.po"]  # type: ignore[union-attr]
    assert '"complete"' not in dict(reference["assignments"])["KIT.json"]  # type: ignore[arg-type]
    return reference


@pytest.mark.parametrize("step", ROUTE_KILLS)
def test_route_killed_at_every_step_is_finished_by_the_next_route(
    step: str, pristine: Path, tmp_path: Path, route_reference: dict[str, object]
) -> None:
    p = fresh(pristine, tmp_path, "p")
    killed = route_ar(p, kill_at=step)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr

    again = route_ar(p)

    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stdout + again.stderr
    resumed = step not in ("route:base-written", "assignment:kit-indexed")  # recorded: the same kit, finished
    assert ("stopped midway, now sent whole" in again.stdout) == resumed, again.stdout
    assert sent_state(p) == route_reference  # one kit, whole, under one id, recorded once
    third = route_ar(p)
    assert "nothing sent" in third.stdout and sent_state(p) == route_reference


def ar_return(p: Project) -> bytes:
    kit = p.kit_file("ar").read_bytes()
    assert b'msgid "Waves and Oscillations"\nmsgstr ""' in kit
    return kit.replace(
        b'msgid "Waves and Oscillations"\nmsgstr ""',
        'msgid "Waves and Oscillations"\nmsgstr "الموجات والاهتزازات"'.encode(),
    )


@pytest.mark.parametrize("step", ["route:kit-written", "route:inbox-written", "route:notified"])
def test_a_kit_that_reached_the_partner_before_routing_was_killed_is_taken_back(
    step: str, pristine: Path, tmp_path: Path
) -> None:
    """Once the kit file is in the partner's inbox, its return is known, whether or not the send
    finished: routing records the kit before it writes any of it there."""
    p = fresh(pristine, tmp_path, "p")
    assert route_ar(p, kill_at=step).returncode == -signal.SIGKILL
    (p.cairo / "returns").mkdir(parents=True, exist_ok=True)
    (p.cairo / "returns" / "return.po").write_bytes(ar_return(p))

    done = run(p, "ingest", "--partner", "cairo", "--config", str(p.config))

    assert done.returncode == 0 and f"return.po: accepted ({COURSE}/ar kit {p.kit('ar')}" in done.stdout, (
        done.stdout + done.stderr
    )
    assert "الموجات والاهتزازات" in p.catalog("ar").decode("utf-8")
    [a] = _ar_assignments(p)
    assert a["state"] == "accepted" and "complete" not in a  # a return proves the partner had the kit


def _ar_assignments(p: Project) -> list[dict[str, object]]:
    return [json.loads(f.read_bytes()) for f in sorted((p.ws / "assignments" / COURSE / "ar").glob("*.json"))]


def test_a_return_ingested_while_its_kit_is_being_sent_is_kept(
    pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kit file is in the inbox before the rest of the kit and the notice: a return ingested
    meanwhile (a scheduled ingest during a slow webhook) is never overwritten by the send's end."""
    from localize.partners import routing

    p = fresh(pristine, tmp_path, "p")
    original = routing.send_notice

    def slow_notice(*args: object, **kwargs: object) -> str:
        (p.cairo / "returns").mkdir(parents=True, exist_ok=True)
        (p.cairo / "returns" / "return.po").write_bytes(ar_return(p))
        code, out, err = cli("ingest", "--partner", "cairo", "--config", str(p.config))
        assert code == 0 and "return.po: accepted" in out, out + err
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(routing, "send_notice", slow_notice)
    code, _, err = cli("route", "--course", COURSE, "--locale", "ar", "--config", str(p.config))

    assert code == 0, err
    [a] = _ar_assignments(p)
    assert a["state"] == "accepted" and len(a["returns"]) == 1 and "complete" not in a  # type: ignore[arg-type]


def test_an_interrupted_send_is_dated_again_unless_the_partner_may_hold_the_kit(
    pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kit none of which reached the inbox is sent, when routed again, as of that day (not
    already overdue); one whose file is there keeps its dates, so the partner's copy matches."""
    from datetime import UTC, datetime

    from localize.config import load_config
    from localize.partners import routing

    then, later = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    original = routing._write
    for fail_on, (sent, due, said) in {
        f"{COURSE}.ar.po": ("2026-03-01", "2026-03-15", "15 March 2026"),  # before the kit file
        "README.txt": ("2026-01-05", "2026-01-19", "19 January 2026"),  # after it
    }.items():
        p = fresh(pristine, tmp_path, fail_on)
        config = load_config(str(p.config))
        with monkeypatch.context() as mp:

            def failing(storage: object, key: str, data: bytes, _name: str = fail_on) -> None:
                if key.endswith(_name):
                    raise TransientStorageError("connection reset (injected)", path=key)
                original(storage, key, data)  # type: ignore[arg-type]

            mp.setattr(routing, "_write", failing)
            with pytest.raises(TransientStorageError):
                routing.route(config, COURSE, "ar", now=then)
        [first] = _ar_assignments(p)
        assert first["complete"] is False
        result = routing.route(config, COURSE, "ar", now=later)
        [a] = _ar_assignments(p)
        assert result.resumed and a["kit"] == first["kit"] and "complete" not in a
        assert (a["sent_at"][:10], a["due"]) == (sent, due), fail_on
        readme = (p.cairo / "kits" / COURSE / "ar" / str(a["kit"]) / "README.txt").read_text("utf-8")
        assert f"by {said}" in readme
        kit = (p.cairo / "kits" / COURSE / "ar" / str(a["kit"]) / f"{COURSE}.ar.po").read_bytes()
        assert kit == (p.ws / "assignments" / COURSE / "ar" / f"{a['kit']}.po").read_bytes()  # the merge base


def test_status_and_the_dashboard_never_count_a_kit_not_sent_whole(pristine: Path, tmp_path: Path) -> None:
    p = fresh(pristine, tmp_path, "p")
    assert route_ar(p, kill_at="route:recorded").returncode == -signal.SIGKILL

    status = run(p, "status", "--config", str(p.config), "--course", COURSE, "--locale", "ar")
    assert status.returncode == 0, status.stderr
    [row] = [line for line in status.stdout.splitlines() if line.startswith(f"{COURSE} ") and " ar " in line]
    assert "sent (incomplete)" in row and "!" not in row and "route again to finish it" in status.stdout
    report = run(p, "status", "--config", str(p.config), "--json")
    rows = {(r["course"], r["locale"]): r for r in json.loads(report.stdout)}
    assert rows[(COURSE, "ar")]["state"] == "sent (incomplete)" and rows[(COURSE, "es")]["state"] == "sent"

    from localize.catalogs.workspace import Workspace
    from localize.config import load_config
    from localize.views.dashboard import collect

    data = collect(Workspace(str(p.ws)), load_config(str(p.config)))
    assert [(k["course"], k["locale"]) for k in data["kits"]] == [(COURSE, "es")]  # open kits: only the one sent
    shown = {(r["course"], r["locale"]): r["state"] for g in data["groups"] for r in g["rows"]}
    assert shown[(COURSE, "ar")] == "sent (incomplete)"


def test_a_return_without_its_kit_header_answers_the_last_kit_sent_whole(pristine: Path, tmp_path: Path) -> None:
    """A tool that drops the X-Localize-Kit header: the return is matched to the partner's latest
    kit of the course and locale, never to a later one a killed route left incomplete."""
    p = fresh(pristine, tmp_path, "p")
    assert route_ar(p).returncode == 0
    sent = p.kit("ar")
    change_course(p)
    assert update(p).returncode == 0
    assert route_ar(p, kill_at="route:recorded").returncode == -signal.SIGKILL
    assert [a["complete"] for a in _ar_assignments(p) if a["kit"] != sent] == [False]
    headerless = re.sub(rb'"X-Localize-Kit: [^"]*\\n"\n', b"", ar_return(p))
    assert b"X-Localize-Kit" not in headerless
    (p.cairo / "returns").mkdir(parents=True, exist_ok=True)
    (p.cairo / "returns" / "return.po").write_bytes(headerless)

    done = run(p, "ingest", "--partner", "cairo", "--config", str(p.config))

    assert f"(waves/ar kit {sent}" in done.stdout, done.stdout + done.stderr


def test_returns_archived_before_state_records_are_still_known_and_recorded_archives_are_never_listed_again(
    pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest looks through the partner's archive for a return archived before state records
    existed (the first round's ``STAMP-DIGEST16-NAME``, no ``.ingest.json``). Once a look finds
    every archive recorded, a marker says so: a partner's history is not listed for every return."""
    p = fresh(pristine, tmp_path, "p")
    archive = p.ws / "archive" / "returns" / "lima"
    drop_return(p)
    assert run(p, "ingest", "--partner", "lima", "--config", str(p.config)).returncode == 1
    assert (archive / "_all-recorded.json").is_file()

    listed: list[str] = []
    original = LocalStorage.list

    def spy(self: LocalStorage, prefix: str = "") -> list[str]:
        listed.append(prefix)
        return original(self, prefix)

    monkeypatch.setattr(LocalStorage, "list", spy)
    p.drop("second.po", p.good())
    code, out, err = cli("ingest", "--partner", "lima", "--config", str(p.config))
    assert code == 0 and "second.po: accepted" in out, out + err
    assert not [x for x in listed if x.startswith("archive/returns")], listed
    monkeypatch.undo()

    # a workspace of the first round: the records gone, the archives there
    for record in archive.glob("*.ingest.json"):
        record.unlink()
    (archive / "_all-recorded.json").unlink()
    p.drop("again.po", p.good())
    done = run(p, "ingest", "--partner", "lima", "--config", str(p.config))
    assert "again.po: already ingested" in done.stdout, done.stdout + done.stderr
    assert not (archive / "_all-recorded.json").exists()  # unrecorded archives: looked through each time


def test_a_resumed_send_keeps_a_return_ingested_before_it_records_the_kit_again(
    pristine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed once the kit file was in the inbox; the partner's return is ingested while the next
    route is on its way to finish the send (after it read the assignment, before it saves it)."""
    from localize.partners import routing

    p = fresh(pristine, tmp_path, "p")
    assert route_ar(p, kill_at="route:kit-written").returncode == -signal.SIGKILL
    original = routing.catalog_stats
    ingested: list[str] = []

    def stats_then_a_return(*args: object, **kwargs: object) -> object:
        if not ingested:
            (p.cairo / "returns").mkdir(parents=True, exist_ok=True)
            (p.cairo / "returns" / "return.po").write_bytes(ar_return(p))
            code, out, err = cli("ingest", "--partner", "cairo", "--config", str(p.config))
            ingested.append(out)
            assert code == 0 and "return.po: accepted" in out, out + err
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(routing, "catalog_stats", stats_then_a_return)
    code, out, err = cli("route", "--course", COURSE, "--locale", "ar", "--config", str(p.config))

    assert code == 0 and ingested, out + err
    [a] = _ar_assignments(p)
    assert a["state"] == "accepted" and len(a["returns"]) == 1 and "complete" not in a  # type: ignore[arg-type]


def test_a_headerless_return_of_a_kit_whose_file_reached_the_inbox_answers_that_kit(
    pristine: Path, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from localize.config import load_config
    from localize.partners.routing import route

    p = fresh(pristine, tmp_path, "p")
    # sent on an earlier day: "latest" goes by the time sent, which two routes in one second share
    first = route(load_config(str(p.config)), COURSE, "ar", now=datetime(2026, 1, 5, tzinfo=UTC)).assignment.kit
    change_course(p)
    assert update(p).returncode == 0
    assert route_ar(p, kill_at="route:kit-written").returncode == -signal.SIGKILL
    [second] = [a["kit"] for a in _ar_assignments(p) if a["kit"] != first]
    kit = (p.cairo / "kits" / COURSE / "ar" / str(second) / f"{COURSE}.ar.po").read_bytes()
    assert b'msgid "Waves and Oscillations"\nmsgstr ""' in kit
    translated = kit.replace(
        b'msgid "Waves and Oscillations"\nmsgstr ""', 'msgid "Waves and Oscillations"\nmsgstr "الموجات"'.encode()
    )
    (p.cairo / "returns").mkdir(parents=True, exist_ok=True)
    (p.cairo / "returns" / "return.po").write_bytes(re.sub(rb'"X-Localize-Kit: [^"]*\\n"\n', b"", translated))

    done = run(p, "ingest", "--partner", "cairo", "--config", str(p.config))

    assert f"return.po: accepted (waves/ar kit {second}" in done.stdout, done.stdout + done.stderr


def test_a_damaged_state_record_still_finds_its_archive_after_the_marker(pristine: Path, tmp_path: Path) -> None:
    """With every archive recorded (the marker), a return whose record was damaged is still
    looked for in the archive: answered 'already ingested', not merged a second time."""
    p = fresh(pristine, tmp_path, "p")
    archive = p.ws / "archive" / "returns" / "lima"
    p.drop("first.po", p.good())
    assert run(p, "ingest", "--partner", "lima", "--config", str(p.config)).returncode == 0
    assert (archive / "_all-recorded.json").is_file()
    [record] = archive.glob("*.ingest.json")
    record.write_bytes(b'{"step": "halfway')  # damaged
    archived = sorted(f.name for f in archive.glob("*.po"))
    p.drop("first-again.po", p.good())

    done = run(p, "ingest", "--partner", "lima", "--config", str(p.config))

    assert "first-again.po: already ingested" in done.stdout, done.stdout + done.stderr
    assert sorted(f.name for f in archive.glob("*.po")) == archived


# -- the progress a killed run did not record (found by a race look, session 32) --------------------


def _snapshot_matches_catalog(p: Project, locale: str) -> tuple[int, int]:
    """(translated words of today's snapshot, of the catalog of record)."""
    from datetime import UTC, datetime

    from localize.catalogs.stats import catalog_stats
    from localize.catalogs.workspace import Workspace

    ws = Workspace(str(p.ws))
    snapshot = json.loads((p.ws / "history" / COURSE / locale / f"{datetime.now(UTC):%Y%m%d}.json").read_bytes())
    stats = catalog_stats(ws.read_catalog(COURSE, locale), COURSE, locale)
    return int(snapshot["translated_words"]), stats.translated_words


def test_an_ingest_killed_between_its_catalog_write_and_its_record_is_recorded_by_the_next_run(
    pristine: Path, tmp_path: Path
) -> None:
    """The rerun found the catalog already written and recorded nothing: the progress chart said 0
    words where the catalog held 1,433, and `index rebuild` kept it (it rebuilds from the snapshots)."""
    p = fresh(pristine, tmp_path, "p")
    drop_return(p)
    assert run(p, "ingest", "--partner", "lima", "--config", str(p.config), kill_at="catalog:put:es").returncode == -9
    run(p, "ingest", "--partner", "lima", "--config", str(p.config))
    words, held = _snapshot_matches_catalog(p, "es")
    assert words == held > 0


def test_an_update_killed_between_its_catalog_write_and_its_record_is_recorded_by_the_next_run(
    pristine: Path, tmp_path: Path
) -> None:
    p = fresh(pristine, tmp_path, "p")
    translate_es(p)
    change_course(p)
    assert update(p, kill_at="catalog:put:es").returncode == -signal.SIGKILL
    assert update(p).returncode == 0
    words, held = _snapshot_matches_catalog(p, "es")
    assert words == held > 0
