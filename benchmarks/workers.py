"""Benchmark sharded `sync-all` on a real Prefect server with a process work pool: one worker against two.

Usage: .venv/bin/python benchmarks/workers.py --corpus ../shared/corpus/ocw [--courses 2500] [--pages 4] [--shards 4]
       [--keep DIR] [--write BENCHMARKS.md]

Generates a synthetic listing of N course folders from the corpus pages (course i takes up to --pages pages of corpus
course i mod 10, hard links of one copy, and its first page is a copy with a paragraph of its own, so that every
course's content differs), starts `prefect server start` on loopback, creates the process work pool `localize`,
deploys `sync-shard` from infra/prefect.yaml (entrypoints in this checkout), and times, with one worker and then two
(`prefect worker start --pool localize --limit 1`: each worker takes one flow run at a time), a cold `sync-all` over a
fresh workspace and a no-change rerun. `sync-all` itself runs in a client process against the server
(`sync_all(listing, ws, shards=K, shard_deployment="sync-shard/sync-shard")`): it splits the listing into K shards and
waits for their flow runs, which the workers take. Wall time is from the client's spawn to its exit; pages parsed and
files read come from the flow's own rows; the load average is the machine's (shared with other work), so compare
ratios, not seconds. Too slow for `make bench` at N = 2,500 (about half an hour): run by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import corpus_pages, git_revision, replace_section

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECTION = "workers"
SHARD_DEPLOYMENT = "sync-shard/sync-shard"
DRIVER = """\
import json, sys
from flows.sync_all import sync_all
rows = sync_all(listing=sys.argv[1], locales_dir=sys.argv[2], shards=int(sys.argv[3]), shard_deployment=sys.argv[4])
print(json.dumps(rows))
"""


def build_listing(corpus: Path, root: Path, n: int, pages: int) -> tuple[Path, int]:
    """N course folders; returns the listing and its number of pages."""
    by_course: dict[str, list[Path]] = {}
    for page in corpus_pages(corpus):
        by_course.setdefault(page.parts[0], []).append(page)
    bases = sorted(by_course)
    if not bases:
        raise SystemExit(f"no .html/.htm pages under {corpus}; give the corpus with --corpus DIR")
    base = root / "base"
    for course in bases:  # one copy on this file system, hard-linked by every course made from it
        for page in by_course[course][:pages]:
            target = base / page
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(corpus / page, target)
    listing = root / "courses"
    total = 0
    for i in range(n):
        src = bases[i % len(bases)]
        course = listing / f"course-{i:05d}"
        chosen = by_course[src][:pages]
        for k, page in enumerate(chosen):
            rel = page.relative_to(src)
            target = course / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if k == 0:  # the varied page: this course's own paragraph
                text = (base / page).read_bytes()
                own = f"<p>Synthetic course {i}: notes for week {i % 13 + 1}, part {i // 13}.</p>".encode()
                at = text.rfind(b"</body>")
                target.write_bytes(text[:at] + own + text[at:] if at >= 0 else text + own)
            else:
                os.link(base / page, target)
        total += len(chosen)
    old = time.time() - 3600  # a site nobody is editing right now
    for path in listing.rglob("*.htm*"):
        if path.stat().st_nlink == 1:
            os.utime(path, (old, old))
    for path in base.rglob("*.htm*"):
        os.utime(path, (old, old))
    return listing, total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to its process group, then SIGKILL."""
    if proc.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def prefect(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "prefect"), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"prefect {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout


def start_server(env: dict[str, str], home: Path) -> subprocess.Popen[bytes]:
    port = env["PREFECT_API_URL"].split(":")[2].split("/")[0]
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", port],
        env=env, stdout=(home / "server.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(env["PREFECT_API_URL"] + "/health", timeout=2)
            return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.5)
    stop(server)
    raise SystemExit("the Prefect server did not start:\n" + (home / "server.log").read_text()[-3000:])


def start_workers(env: dict[str, str], home: Path, count: int) -> list[subprocess.Popen[bytes]]:
    workers = []
    for i in range(count):
        command = [
            str(BIN / "prefect"),
            "worker",
            "start",
            "--pool",
            "localize",
            "--limit",
            "1",
            "--name",
            f"bench-{i}",
        ]
        log = (home / f"worker-{count}-{i}.log").open("wb")
        workers.append(
            subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )
    return workers


def timed_sync(env: dict[str, str], listing: Path, ws: Path, shards: int) -> dict[str, Any]:
    load_before = os.getloadavg()
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(listing), str(ws), str(shards), SHARD_DEPLOYMENT],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=7200,
    )  # fmt: skip
    wall = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f"sync-all failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    rows: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    states: dict[str, int] = {}
    for row in rows:
        states[row["state"]] = states.get(row["state"], 0) + 1
    return {
        "wall": wall,
        "courses": len(rows),
        "states": states,
        "parsed": sum(int(r.get("parsed", 0)) for r in rows),
        "hashed": sum(int(r.get("hashed", 0)) for r in rows),
        "failed": [r for r in rows if r["state"] not in ("Completed", "Cached")][:3],
        "load_before": load_before[0],
        "load_after": os.getloadavg()[0],
    }


def render(results: list[tuple[int, int, str, dict[str, Any]]], context: dict[str, Any]) -> str:
    """results: (series, workers, run, measures); "vs 1 worker" compares within a series."""
    lines = [
        "## workers: sharded sync-all on a process work pool, one worker against two",
        "",
        f"`python benchmarks/workers.py --courses {context['n']} --pages {context['pages']} "
        f"--shards {context['shards']} --repeat {context['repeat']}` (run by hand; too slow for `make bench`; "
        "every other series runs the worker counts in reverse order, against drift in the machine's load). "
        f"A synthetic listing of {context['n']} course folders made from `{context['corpus']}`: course i takes up to "
        f"{context['pages']} pages of corpus course i mod 10 ({context['total_pages']} pages in all, fewer per course "
        "than on the real site), hard links of one copy, except its first page, a copy with a paragraph of its own; "
        "a first sync, so the workspace has templates and no locale catalogs yet. "
        "A real `prefect server start` on loopback (SQLite), the process work pool `localize`, `sync-shard` deployed "
        "from infra/prefect.yaml, and workers started with `prefect worker start --pool localize --limit 1` (each "
        "takes one flow run at a time, as a worker per machine would). `sync-all` runs as a client against the server "
        f'with `shards={context["shards"]}, shard_deployment="{SHARD_DEPLOYMENT}"`: it splits the listing by course '
        "id and waits for the shards' flow runs, which the workers take. Cold = a fresh workspace (no cached task, no "
        "remembered file hashes); no change = the same run again. Wall time from the client's spawn to its exit; "
        "pages parsed and files read are summed from the flow's rows (0 parsed = every course Cached, 0 read = no "
        "page body opened, only listed and stat'ed). The machine has "
        f"{os.cpu_count()} cores shared with other work while this ran (load average, 1 min, before and after each "
        f"run): compare the ratios, not the seconds. localize revision {context['revision']}, {context['date']}.",
        "",
        "| series | workers | run | wall | vs 1 worker | courses (states) | pages parsed | files read | load before → after |",
        "|---:|---:|---|---:|---:|---|---:|---:|---|",
    ]
    one = {(series, run): r["wall"] for series, w, run, r in results if w == 1}
    for series, workers, run, r in results:
        states = ", ".join(f"{v} {k}" for k, v in sorted(r["states"].items()))
        ratio = f"{r['wall'] / one[series, run]:.2f}×" if (series, run) in one else ""
        lines.append(
            f"| {series} | {workers} | {run} | {r['wall']:.1f} s | {ratio} | {r['courses']} ({states}) | {r['parsed']} | "
            f"{r['hashed']} | {r['load_before']:.1f} → {r['load_after']:.1f} |"
        )
    # a rerun after a cold run that left failed courses redoes those: not a no-change run
    clean = {(series, w) for series, w, run, r in results if run == "cold" and not r["failed"]}
    nochange = [r for series, w, run, r in results if run == "no change" and (series, w) in clean]
    redone = sum(1 for series, w, run, _ in results if run == "no change" and (series, w) not in clean)
    if nochange:
        worst = max(r["wall"] for r in nochange)
        ok = worst <= 300 and all(r["parsed"] == 0 for r in nochange)
        lines += [
            "",
            f"Target (no-change `sync-all` over {context['n']} courses on a real server: at most 5 minutes, zero pages "
            f"parsed): **{'PASS' if ok else 'FAIL'}** (slowest {worst:.1f} s over {len(nochange)} no-change runs"
            + (f"; {redone} rerun(s) after a cold run with failed courses left out" if redone else "")
            + ").",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "ocw")
    parser.add_argument("--courses", type=int, default=2500, help="number of synthetic courses")
    parser.add_argument("--pages", type=int, default=4, help="pages per course, at most")
    parser.add_argument("--shards", type=int, default=4, help="shards of sync-all")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to compare")
    parser.add_argument(
        "--repeat", type=int, default=1, help="series; every other one takes the worker counts reversed"
    )
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--write", type=Path, help="write the section into this markdown file")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-workers-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    home = work / "prefect"
    home.mkdir(exist_ok=True)
    print(f"building {args.courses} courses in {work}", flush=True)
    listing, total_pages = build_listing(args.corpus, work / "site", args.courses, args.pages)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(work / "results"),  # shared by every worker: cache hits
        "LOCALIZE_ROOT": str(REPO),
        "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}",
    }
    server = start_server(env, home)
    workers: list[subprocess.Popen[bytes]] = []
    results: list[tuple[int, int, str, dict[str, Any]]] = []
    try:
        prefect(env, "work-pool", "create", "localize", "--type", "process", "--overwrite")
        prefect(env, "--no-prompt", "deploy", "--prefect-file", "infra/prefect.yaml", "--name", "sync-shard")
        for series in range(1, args.repeat + 1):
            for count in args.workers if series % 2 else args.workers[::-1]:
                workers = start_workers(env, home, count)
                ws = work / f"ws-{series}-{count}"
                for run in ("cold", "no change"):
                    print(f"series {series}: {count} worker(s), {run} ...", flush=True)
                    r = timed_sync(env, listing, ws, args.shards)
                    print(json.dumps(r), flush=True)
                    results.append((series, count, run, r))
                for w in workers:
                    stop(w)
                workers = []
    finally:
        for w in workers:
            stop(w)
        stop(server)
    context = {
        "n": args.courses,
        "pages": args.pages,
        "shards": args.shards,
        "repeat": args.repeat,
        "total_pages": total_pages,
        "corpus": "../shared/corpus/ocw",
        "revision": os.environ.get("LOCALIZE_REVISION") or git_revision(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    section = render(results, context)
    print(section)
    if args.write:
        text = args.write.read_text() if args.write.exists() else ""
        args.write.write_text(replace_section(text, SECTION, section))
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
