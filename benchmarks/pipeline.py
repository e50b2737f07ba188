"""Benchmark publishing/pulling a corpus and the sync-all pipeline flow, as whole processes.

Usage: .venv/bin/python benchmarks/pipeline.py --corpus ../shared/corpus/ocw [--repeat 3] [--keep DIR] [--write BENCHMARKS.md]

Section `publish`: each course folder of the corpus is a course with a fully translated `es` catalog (pseudo text),
published with `localize publish` (one process per course) to a region on a local SeaweedFS and pulled onto a mirror
with `localize pull --all`: cold, again with nothing changed, and after a one-page change.

Section `pipeline`: `localize run sync-all` over a copy of the corpus (cold, no-change rerun, one course changed), once
with Prefect's temporary server inside every process and once against a real local Prefect server, plus one cold run
with a Dask task runner against that server. Timing and peak RSS (os.wait4) as in benchmarks/run.py.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (
    RSS_METHOD,
    BenchError,
    corpus_pages,
    find_tool,
    fresh,
    git_revision,
    render_intro,
    replace_section,
    run_quiet,
    tool_version,
    warm_cache,
)

if TYPE_CHECKING:
    from localize.model import Entry

LOCALE = "es"
BUCKET = "bench"
REGION = "bench"
REGION_URL = f"s3://{BUCKET}/region"
EDIT = b"<!-- edited by benchmarks/pipeline.py -->\n"
REPO = Path(__file__).resolve().parent.parent
PROCESS_TIMEOUT = 900.0
SERVER_TIMEOUT = 120.0
PREFECT_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}
PUBLISHED = re.compile(r"(\d+) new objects \((\d+) bytes\), (\d+) reused")
PULLED = re.compile(r"(\d+) files downloaded \((\d+) bytes\), (\d+) reused")
DASK_DRIVER = """\
import json, sys
from prefect_dask import DaskTaskRunner
from flows.sync_all import sync_all
runner = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "processes": True, "threads_per_worker": 1})
rows = sync_all.with_options(task_runner=runner)(listing=sys.argv[1], locales_dir=sys.argv[2])
print(json.dumps(rows))
"""
TOOL_HINTS = {
    "localize": "run `make install` (pip install -e '.[dev]')",
    "prefect": "run `make install` (Prefect is a dependency of localize)",
}
MODULE_HINTS = {
    "localize": "run `make install` (pip install -e '.[dev]')",
    "prefect_dask": "run `make bench` or `.venv/bin/pip install prefect-dask` (the `bench` extra)",
}


# --- processes ------------------------------------------------------------------------------------------------


@dataclass
class Proc:
    """One whole process: wall time, peak RSS (KiB), exit code and what it printed."""

    seconds: float
    kib: int
    code: int
    stdout: str
    stderr: str


def run_process(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str],
    log: Path,
    cwd: Path | None = None,
    check: bool = True,
    timeout: float = PROCESS_TIMEOUT,
) -> Proc:
    """Run cmd as a child (own session); stdout/stderr kept in log.out/log.err; wall time and os.wait4 peak RSS.

    After `timeout` seconds its process group gets SIGTERM. A non-zero exit raises BenchError when check is set.
    """
    out_path, err_path = log.with_name(log.name + ".out"), log.with_name(log.name + ".err")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=dict(env), cwd=cwd, start_new_session=True)
        timer = threading.Timer(timeout, _terminate_group, (proc.pid,))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    stdout, stderr = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    result = Proc(seconds, usage.ru_maxrss, code, stdout, stderr)
    if check and code != 0:
        raise BenchError(f"command failed with exit code {code}: {' '.join(cmd)}\n{result.stderr[-2000:]}".rstrip())
    return result


def _terminate_group(pid: int) -> None:
    """SIGTERM the process group of a child this script started (its id is the child's pid)."""
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)


def base_env() -> dict[str, str]:
    """This environment without Prefect/S3 targets, plus the quiet, offline Prefect settings."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL" and not k.startswith("AWS_")}
    return env | PREFECT_ENV


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- corpus ---------------------------------------------------------------------------------------------------


def course_dirs(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.iterdir() if p.is_dir() and not p.name.startswith("."))


def copy_corpus(corpus: Path, dest: Path) -> Path:
    """A private copy of the corpus's course folders (the benchmark edits pages)."""
    dest.mkdir(parents=True, exist_ok=True)
    for course in course_dirs(corpus):
        shutil.copytree(course, dest / course.name)
    return dest


def pick_page(corpus: Path) -> Path:
    """The first page (sorted) with a </body>: the one page the benchmark edits."""
    for rel in corpus_pages(corpus):
        if b"</body>" in (corpus / rel).read_bytes().lower():
            return corpus / rel
    raise BenchError(f"no page with </body> under {corpus}")


def edit_page(page: Path) -> None:
    """Append an HTML comment before </body>: a new page for publish, no new text for the catalogs."""
    data = page.read_bytes()
    i = data.lower().rfind(b"</body>")
    page.write_bytes(data[:i] + EDIT + data[i:])


# --- publish and pull -----------------------------------------------------------------------------------------


@dataclass
class Transfer:
    """One step of the publish section in one repetition, summed over its processes."""

    seconds: float = 0.0
    kib: int = 0
    processes: int = 0
    moved: int = 0
    size: int = 0
    reused: int = 0
    bucket_objects: int | None = None
    bucket_bytes: int | None = None

    def add(self, proc: Proc, pattern: re.Pattern[str]) -> None:
        self.seconds += proc.seconds
        self.kib = max(self.kib, proc.kib)
        self.processes += 1
        for m in pattern.finditer(proc.stdout):
            self.moved += int(m.group(1))
            self.size += int(m.group(2))
            self.reused += int(m.group(3))


@dataclass
class PublishSetup:
    work: Path
    corpus: Path
    ws: Path
    config: Path
    courses: list[str]
    page: Path
    original: bytes
    pages: int
    entries: int
    tools: dict[str, str]


def translate_entry(entry: Entry) -> Entry:
    from localize.engine.pseudo import pseudo_text

    if entry.obsolete:
        return entry
    flags = tuple(f for f in entry.flags if f != "fuzzy")
    if entry.msgid_plural is not None:
        forms = max(2, len(entry.msgstr_plural))
        plural = tuple(pseudo_text(entry.msgid if i == 0 else entry.msgid_plural) for i in range(forms))
        return dataclasses.replace(entry, msgstr_plural=plural, flags=flags)
    return dataclasses.replace(entry, msgstr=pseudo_text(entry.msgid), flags=flags)


def fill_catalog(ws: Path, course: str) -> int:
    """Translate every entry of the course's es catalog (pseudo text, nothing fuzzy); the number of entries."""
    from localize.catalogs.workspace import Workspace

    workspace = Workspace(str(ws))
    key = Workspace.catalog_key(course, LOCALE)
    catalog = workspace.read(key)
    workspace.write(key, dataclasses.replace(catalog, entries=tuple(translate_entry(e) for e in catalog.entries)))
    return sum(1 for e in catalog.entries if not e.obsolete)


def write_config(path: Path) -> None:
    path.write_text(
        "\n".join(
            [
                "[workspace]",
                'location = "ws"',
                'source_locale = "en"',
                "",
                "[[regions]]",
                f'name = "{REGION}"',
                f'location = "{REGION_URL}"',
                f'locales = ["{LOCALE}"]',
                "",
            ]
        )
    )


def prepare_publish(corpus: Path, work: Path, tools: dict[str, str]) -> PublishSetup:
    """Untimed: copy the corpus, extract every course, init and fill its es catalog, write localize.toml."""
    copy = copy_corpus(corpus, work / "corpus")
    ws = work / "ws"
    courses = [c.name for c in course_dirs(copy)]
    entries = 0
    localize, where = tools["localize"], ["--locales-dir", str(ws)]
    for course in courses:
        print(f"setup: {course}", file=sys.stderr)
        run_quiet([localize, "extract", str(copy / course), "--course", course, *where, "-q"])
        run_quiet([localize, "init", "--course", course, "--locale", LOCALE, *where])
        entries += fill_catalog(ws, course)
    config = work / "localize.toml"
    write_config(config)
    page = pick_page(copy)
    pages = len(corpus_pages(copy))
    return PublishSetup(work, copy, ws, config, courses, page, page.read_bytes(), pages, entries, tools)


def bucket_usage(client: Any) -> tuple[int, int]:
    """Objects and bytes in the bucket."""
    count = size = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            count += 1
            size += int(obj["Size"])
    return count, size


def publish_all(setup: PublishSetup, env: Mapping[str, str], client: Any, name: str) -> Transfer:
    """`localize publish` for every course, one process each; the bucket's growth over the whole step."""
    step = Transfer()
    before = bucket_usage(client)
    for course in setup.courses:
        cmd = [setup.tools["localize"], "publish", "--course", course, "--locale", LOCALE]
        cmd += ["--config", str(setup.config)]
        step.add(run_process(cmd, env=env, log=setup.work / "logs" / f"{name}-{course}"), PUBLISHED)
    after = bucket_usage(client)
    step.bucket_objects, step.bucket_bytes = after[0] - before[0], after[1] - before[1]
    return step


def pull_all(setup: PublishSetup, env: Mapping[str, str], mirror: Path, name: str) -> Transfer:
    step = Transfer()
    cmd = [setup.tools["localize"], "pull", "--from", REGION_URL, "--all", "--dest", str(mirror), "-q"]
    step.add(run_process(cmd, env=env, log=setup.work / "logs" / name), PULLED)
    return step


PUBLISH_STEPS = (
    "publish, cold",
    "pull, cold",
    "publish, no change",
    "pull, no change",
    "publish, one-page change",
    "pull, one-page change",
)


def publish_round(setup: PublishSetup, rep: int) -> dict[str, Transfer]:
    """One repetition on a fresh SeaweedFS and mirror, from the unedited corpus copy."""
    from localize_dev.seaweed import SeaweedFS

    setup.page.write_bytes(setup.original)
    steps: dict[str, Transfer] = {}
    with SeaweedFS(setup.work / f"seaweed-{rep}", buckets=(BUCKET,)) as seaweed:
        env = base_env() | seaweed.env()
        client = seaweed.client()
        mirror = setup.work / f"mirror-{rep}"
        for label, kind in (("cold", "cold"), ("no change", "same"), ("one-page change", "edit")):
            if kind == "edit":
                edit_page(setup.page)
            print(f"[{rep + 1}] publish + pull, {label}", file=sys.stderr)
            steps[f"publish, {label}"] = publish_all(setup, env, client, f"publish-{kind}-{rep}")
            steps[f"pull, {label}"] = pull_all(setup, env, mirror, f"pull-{kind}-{rep}")
    return steps


Rounds = list[dict[str, Transfer]]


def run_publish(corpus: Path, work: Path, repeat: int, tools: dict[str, str]) -> tuple[PublishSetup, Rounds]:
    (work / "logs").mkdir(parents=True, exist_ok=True)
    setup = prepare_publish(corpus, work, tools)
    return setup, [publish_round(setup, rep) for rep in range(repeat)]


# --- the sync-all flow ----------------------------------------------------------------------------------------


@dataclass
class FlowRun:
    label: str
    api: str
    runs: list[Proc] = field(default_factory=list)
    states: collections.Counter[str] = field(default_factory=collections.Counter)
    completed: list[str] = field(default_factory=list)
    error: str = ""


def flow_rows(stdout: str) -> list[dict[str, Any]]:
    """The flow's JSON result (a list of per-course rows) from a process's stdout."""
    start, end = stdout.find("["), stdout.rfind("]")
    if start < 0 or end < start:
        raise BenchError(f"no JSON result in the flow's output:\n{stdout[-1000:]}")
    rows: list[dict[str, Any]] = json.loads(stdout[start : end + 1])
    return rows


def record(run: FlowRun, proc: Proc) -> None:
    """Add one process to a row; the states are those of its last run."""
    run.runs.append(proc)
    if proc.code != 0:
        run.error = error_text(proc)
        return
    rows = flow_rows(proc.stdout)
    run.states = collections.Counter(str(r["state"]) for r in rows)
    run.completed = [str(r["course"]) for r in rows if r["state"] != "Cached"]


def error_text(proc: Proc) -> str:
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    return "\n".join(lines[-25:])[-3000:] or f"exit code {proc.code}, nothing on stderr"


FLOW_STEPS = ("cold", "no-change rerun", "one-course change")


def flow_series(localize: str, corpus: Path, base: Path, env: Mapping[str, str], rows: list[FlowRun]) -> None:
    """Cold run, no-change rerun, one-course change on a fresh corpus copy and workspace; adds to rows in order."""
    listing = copy_corpus(corpus, base / "corpus")
    cmd = [localize, "run", "sync-all", "--param", f"listing={listing}", "--param", f"locales_dir={base / 'ws'}"]
    (base / "logs").mkdir(parents=True, exist_ok=True)
    for row, step in zip(rows, FLOW_STEPS, strict=True):
        if step == "one-course change":
            edit_page(pick_page(listing))
        print(f"sync-all ({row.api}): {step}", file=sys.stderr)
        record(row, run_process(cmd, env=env, log=base / "logs" / step.replace(" ", "-"), check=False))


@dataclass
class Server:
    url: str
    startup: float
    process: subprocess.Popen[bytes]


def wait_healthy(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"the Prefect server exited at start (code {server.process.returncode})")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise BenchError(f"the Prefect server did not answer {server.url}/health within {timeout:.0f} s")


def stop_server(server: Server) -> None:
    """SIGTERM the server's process group (started by us, id = its pid) and wait; SIGKILL after 30 s."""
    if server.process.poll() is None:
        _terminate_group(server.process.pid)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


@contextmanager
def prefect_server(prefect: str, env: Mapping[str, str], log: Path) -> Iterator[Server]:
    """`prefect server start` on a free local port, healthy, stopped on exit."""
    port = free_port()
    cmd = [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=dict(env), start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}/api", 0.0, process)
    try:
        wait_healthy(server, SERVER_TIMEOUT)
        server.startup = time.perf_counter() - start
        yield server
    finally:
        stop_server(server)


@dataclass
class PipelineReport:
    temporary: list[FlowRun]
    server: list[FlowRun]
    dask: FlowRun
    server_startup: list[float] = field(default_factory=list)
    courses: int = 0
    page: str = ""


def run_dask(work: Path, corpus: Path, env: Mapping[str, str], row: FlowRun) -> None:
    base = work / "dask"
    listing = copy_corpus(corpus, base / "corpus")
    (base / "logs").mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-c", DASK_DRIVER, str(listing), str(base / "ws")]
    print("sync-all with DaskTaskRunner (real server): cold", file=sys.stderr)
    proc = run_process(cmd, env=env, log=base / "logs" / "dask", cwd=REPO, check=False)
    try:
        record(row, proc)
    except (BenchError, ValueError) as exc:
        row.error = f"could not read the result: {exc}"


def run_pipeline(corpus: Path, work: Path, repeat: int, tools: dict[str, str]) -> PipelineReport:
    temp_api, real_api = "temporary server in each process", "real local server"
    report = PipelineReport(
        [FlowRun(s, temp_api) for s in FLOW_STEPS], [FlowRun(s, real_api) for s in FLOW_STEPS], FlowRun("cold", "")
    )
    report.courses = len(course_dirs(corpus))
    report.page = str(pick_page(corpus).relative_to(corpus))
    for rep in range(repeat):
        base = work / f"temporary-{rep}"
        env = base_env() | {"PREFECT_HOME": str(base / "prefect-home")}
        flow_series(tools["localize"], corpus, base, env, report.temporary)
    home = work / "server-home"
    home.mkdir(parents=True, exist_ok=True)
    server_env = base_env() | {"PREFECT_HOME": str(home)}
    with prefect_server(tools["prefect"], server_env, work / "prefect-server.log") as server:
        report.server_startup.append(server.startup)
        client_env = server_env | {"PREFECT_API_URL": server.url}
        for rep in range(repeat):
            flow_series(tools["localize"], corpus, work / f"server-{rep}", client_env, report.server)
        report.dask.api = "real local server, DaskTaskRunner"
        run_dask(work, corpus, client_env, report.dask)
    return report


# --- rendering ------------------------------------------------------------------------------------------------


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def size(n: int) -> str:
    return f"{n:,} B ({n / 1024 / 1024:.1f} MiB)" if n >= 1024 * 1024 else f"{n:,} B"


def median_of(values: Sequence[float]) -> float:
    return statistics.median(values)


def publish_table(rounds: Sequence[dict[str, Transfer]]) -> str:
    lines = [
        "| step | processes | wall (s) | peak RSS | objects up / files down | bytes moved | reused | bucket growth |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in PUBLISH_STEPS:
        steps = [r[name] for r in rounds]
        last = steps[-1]
        growth = "-"
        if last.bucket_objects is not None:
            growth = f"{last.bucket_objects} objects, {size(last.bucket_bytes or 0)}"
        lines.append(
            f"| {name} | {last.processes} | {median_of([s.seconds for s in steps]):.2f} "
            f"| {mib(max(s.kib for s in steps))} | {last.moved} | {size(last.size)} | {last.reused} | {growth} |"
        )
    return "\n".join(lines)


def render_publish(setup: PublishSetup, rounds: Sequence[dict[str, Transfer]], context: Mapping[str, str]) -> str:
    courses = len(setup.courses)
    page = setup.page.relative_to(setup.corpus)
    runs = [f"- {name}: " + ", ".join(f"{r[name].seconds:.2f}" for r in rounds) + " s" for name in PUBLISH_STEPS]
    return "\n".join(
        [
            "## publish and pull",
            "",
            f"Corpus `{context['corpus']}`: {courses} course folders, each published as its own course "
            f"({setup.pages} pages, {setup.entries} catalog entries in all), locale `{LOCALE}` fully translated "
            f"(pseudo text), to one region `{REGION_URL}` on a local SeaweedFS (`weed mini`, 127.0.0.1). "
            f"Publish is one `localize publish` process per course: wall time is the sum over the {courses} processes, "
            "objects and bytes are summed from each process's line \"published version ...: N new objects (B bytes), "
            'M reused" (an unchanged course prints "unchanged since version ...; nothing uploaded"). '
            "Pull is one `localize pull --all` process for the whole region; files and bytes are summed from its lines "
            '"N files downloaded (B bytes), R reused". Bucket growth: objects and bytes the step added to the bucket '
            "(content objects and one manifest per new version, and on the first publish each course's live pointer "
            "and the region index; later publishes rewrite those in place). "
            f"Median of {context['repeat']} repetitions, each on a fresh SeaweedFS and mirror; peak RSS is the "
            f"largest single process, {RSS_METHOD}. localize revision: {context['revision']}.",
            "",
            publish_table(rounds),
            "",
            f"Load average (1 min) of the machine: {context['load']}.",
            "",
            f"One-page change: an HTML comment appended before `</body>` of `{page}` (no new text, so the catalog "
            "is unchanged; the built page differs).",
            "",
            "Commands (TMP = a fresh work folder; catalogs made untimed with `localize extract`, `localize init` and "
            "pseudo text filled in through the library):",
            "",
            f"- publish: `localize publish --course C --locale {LOCALE} --config TMP/localize.toml` for each course C",
            f"- pull: `localize pull --from {REGION_URL} --all --dest TMP/mirror -q`",
            "",
            "All runs (s):",
            "",
            *runs,
        ]
    )


def state_counts(row: FlowRun) -> tuple[str, str, str]:
    if row.error:
        return "-", "-", "-"
    other = sum(n for s, n in row.states.items() if s not in ("Completed", "Cached"))
    return str(row.states.get("Completed", 0)), str(row.states.get("Cached", 0)), str(other)


def flow_line(row: FlowRun, cold: FlowRun | None) -> str:
    seconds = median_of([p.seconds for p in row.runs])
    ratio = "-" if cold is None or row is cold else f"{seconds / median_of([p.seconds for p in cold.runs]):.2f}"
    completed, cached, other = state_counts(row)
    status = "failed" if row.error else ", ".join(row.completed) if row.label == "one-course change" else ""
    return (
        f"| {row.label} | {row.api} | {seconds:.2f} | {mib(max(p.kib for p in row.runs))} "
        f"| {completed} | {cached} | {other} | {ratio} | {status} |"
    )


def pipeline_table(report: PipelineReport) -> str:
    lines = [
        "| run | Prefect API | wall (s) | peak RSS | Completed | Cached | other | vs cold | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for series in (report.temporary, report.server):
        lines += [flow_line(row, series[0]) for row in series]
    dask = dataclasses.replace(report.dask, label="cold, DaskTaskRunner", api="real local server")
    lines.append(flow_line(dask, report.server[0]))
    return "\n".join(lines)


def render_pipeline(report: PipelineReport, context: Mapping[str, str]) -> str:
    startup = ", ".join(f"{s:.1f}" for s in report.server_startup)
    runs = [
        f"- {row.label} ({row.api}): " + ", ".join(f"{p.seconds:.2f}" for p in row.runs) + " s"
        for row in (*report.temporary, *report.server, report.dask)
    ]
    errors = [
        f"{row.label} ({row.api}) failed:\n\n```text\n{row.error}\n```"
        for row in (*report.temporary, *report.server, report.dask)
        if row.error
    ]
    return "\n".join(
        [
            "## sync-all pipeline",
            "",
            f"`localize run sync-all` (flows/sync_all.py) over a copy of `{context['corpus']}` as a listing "
            f"({report.courses} course folders = {report.courses} courses, one cached `sync-template` task each and "
            "one cached `sync-locale` task per course x locale), "
            "each run a whole process: wall time from spawn to exit, peak RSS of the largest single process "
            f"({RSS_METHOD}). Completed/Cached count the per-course task states of the flow's JSON result; "
            '"vs cold" is wall time over the series\' cold run. The three runs of a series share one PREFECT_HOME '
            "(persisted results, so the rerun's tasks are cached) and one catalog workspace; one-course change = "
            f"an HTML comment appended before `</body>` of `{report.page}` (its course's content hash changes). "
            "Settings: PREFECT_SERVER_ANALYTICS_ENABLED=false, PREFECT_LOGGING_LEVEL=WARNING, "
            f"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=90. Median of {context['repeat']} series. "
            f"localize revision: {context['revision']}; {context['versions']}.",
            "",
            "- temporary server: no PREFECT_API_URL, so every process starts Prefect's temporary local server "
            "(a fresh PREFECT_HOME per series: the cold run also creates its database).",
            "- real local server: `prefect server start --host 127.0.0.1 --port P` started once in the background "
            f"(healthy after {startup} s, not counted in any run) and PREFECT_API_URL=http://127.0.0.1:P/api for "
            "the flow processes; stopped with SIGTERM at the end.",
            "- DaskTaskRunner: one cold run against the real server with a fresh workspace, "
            f"`{sys.executable.rsplit('/', 1)[-1]} -c DRIVER LISTING WS` from the repository root, where DRIVER "
            'runs `sync_all.with_options(task_runner=DaskTaskRunner(cluster_kwargs={"n_workers": 2, '
            '"processes": True, "threads_per_worker": 1}))(listing=..., locales_dir=...)`. Peak RSS is the largest '
            'single process; the Dask worker processes are not summed. Its "vs cold" compares it with the '
            "thread-pool cold run against the same server.",
            f"- Load average (1 min) of the machine: {context['load']}.",
            "",
            pipeline_table(report),
            "",
            *([*errors, ""] if errors else []),
            "Command: `localize run sync-all --param listing=TMP/corpus --param locales_dir=TMP/ws`",
            "",
            "All runs (s):",
            "",
            *runs,
        ]
    )


# --- file -----------------------------------------------------------------------------------------------------


def intro_tools() -> dict[str, str] | None:
    """The tools the shared intro names (run.py's set), or None when one is missing: the intro is then kept."""
    try:
        return {name: find_tool(name) for name in ("localize", "html2po", "msgen")}
    except BenchError:
        return None


def write_section(path: Path, name: str, body: str) -> None:
    """Re-read the file and replace only the intro and this section, through a private temporary file."""
    text = path.read_text() if path.exists() else ""
    intro = intro_tools()
    if intro is not None:
        text = replace_section(text, "intro", render_intro(intro), after_title=True)
    text = replace_section(text, name, body)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text if text.endswith("\n") else text + "\n")
    tmp.replace(path)


def emit(args: argparse.Namespace, name: str, body: str) -> None:
    print(body + "\n")
    if args.write:
        write_section(args.write, name, body)
        print(f"wrote section '{name}' of {args.write}", file=sys.stderr)


# --- main -----------------------------------------------------------------------------------------------------


def find_tools() -> dict[str, str]:
    tools = {}
    for name, hint in TOOL_HINTS.items():
        try:
            tools[name] = find_tool(name)
        except BenchError:
            raise BenchError(f"required tool not found: {name} ({hint})") from None
    for module, hint in MODULE_HINTS.items():
        if importlib.util.find_spec(module) is None:
            raise BenchError(f"required Python package not found: {module} ({hint})")
    from localize.errors import StorageError
    from localize_dev.seaweed import find_weed

    try:
        tools["weed"] = find_weed()
    except StorageError as exc:
        raise BenchError(f"required tool not found: weed ({exc.message})") from None
    return tools


def check_corpus(corpus: Path) -> None:
    if not corpus.is_dir():
        raise BenchError(f"corpus folder not found: {corpus}")
    if not course_dirs(corpus) or not corpus_pages(corpus):
        raise BenchError(f"no course folders with .html/.htm pages under the corpus folder: {corpus}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time publish/pull and the sync-all flow on a corpus folder.")
    parser.add_argument("--corpus", required=True, type=Path, help="folder of course folders")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; the median is reported (default 3)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="work in DIR and keep the outputs there")
    parser.add_argument("--write", type=Path, metavar="FILE", help="replace this benchmark's sections in FILE")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def run_all(args: argparse.Namespace, corpus: Path, work: Path, tools: dict[str, str]) -> None:
    context = {
        "corpus": str(args.corpus),
        "repeat": str(args.repeat),
        "revision": git_revision(),  # before the runs: others may commit meanwhile
        "versions": f"`{tool_version(tools['localize'])}`, `prefect {tool_version(tools['prefect'])}`",
    }
    warm_cache(corpus)
    for folder in ("publish", "pipeline"):
        fresh(work / folder)  # --keep DIR from an earlier run
    before = os.getloadavg()[0]
    setup, rounds = run_publish(corpus, work / "publish", args.repeat, tools)
    after = os.getloadavg()[0]
    emit(args, "publish", render_publish(setup, rounds, context | {"load": load_note(before, after)}))
    report = run_pipeline(corpus, work / "pipeline", args.repeat, tools)
    emit(args, "pipeline", render_pipeline(report, context | {"load": load_note(after, os.getloadavg()[0])}))


def load_note(before: float, after: float) -> str:
    return f"{before:.1f} before, {after:.1f} after, on {os.cpu_count()} CPUs (other work on the machine shows here)"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        check_corpus(args.corpus)
        tools = find_tools()
        corpus = args.corpus.resolve()
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            run_all(args, corpus, args.keep.resolve(), tools)
        else:
            with tempfile.TemporaryDirectory(prefix="localize-bench-pipeline-") as tmp:
                run_all(args, corpus, Path(tmp), tools)
    except BenchError as exc:
        print(f"benchmarks: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
