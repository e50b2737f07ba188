"""Peak memory of publish and pull for a course holding one large file.

Usage: .venv/bin/python benchmarks/large_file.py [--size-mb 300] [--seaweed] [--keep DIR]

Builds a course with a few pages and one incompressible file of --size-mb MiB, then, each in its
own process, publishes it (build the bundle, stream the uploads) to a region and pulls it onto a
mirror, reporting wall time and peak RSS (os.wait4). The region is a local folder, or a bucket on
a local SeaweedFS with --seaweed (the S3 path: multipart upload, streamed GETs). Both peaks should
stay well under 200 MB whatever --size-mb is.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PUBLISH = """
import sys
from localize.model import Catalog
from localize.regions.bundle import make_bundle
from localize.regions.publish import publish_bundle
from localize.storage.locations import open_storage
from localize.storage.courses import open_source
with make_bundle(open_source(sys.argv[1]), Catalog(), "es") as bundle:
    r = publish_bundle(open_storage(sys.argv[2]), "bench", "big", "es", bundle, Catalog())
print(r.message)
"""
PULL = """
import sys
from localize.regions.pull import pull
print(pull(sys.argv[1], "big", "es", sys.argv[2]).message)
"""


def measure(script: str, *args: str, env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, stdout) of one process running ``script``."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed:\n{err.decode()}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024, out.decode().strip()


def make_course(root: Path, size_mb: int) -> None:
    (root / "pages").mkdir(parents=True)
    for i in range(5):
        (root / "pages" / f"p{i}.html").write_text(f"<html><body><h1>Page {i}</h1><p>Text {i}.</p></body></html>")
    with (root / "lecture.mp4").open("wb") as f:
        for _ in range(size_mb):
            f.write(os.urandom(1 << 20))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=300)
    parser.add_argument("--seaweed", action="store_true", help="publish to a local SeaweedFS instead of a folder")
    parser.add_argument("--keep", help="work in this folder and keep it")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="localize-bench-large-"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))
    server = None
    try:
        make_course(work / "course", args.size_mb)
        region = str(work / "region")
        if args.seaweed:
            sys.path.insert(0, str(REPO / "src"))
            from localize_dev.seaweed import SeaweedFS

            server = SeaweedFS(work / "seaweed", buckets=("bench",))
            server.start()
            env |= server.env()
            region = "s3://bench/region"
        rows = []
        seconds, peak, message = measure(PUBLISH, str(work / "course"), region, env=env)
        rows.append(("publish", seconds, peak, message))
        seconds, peak, message = measure(PULL, region, str(work / "mirror"), env=env)
        rows.append(("pull", seconds, peak, message))
        size = (work / "mirror" / "big" / "es" / "lecture.mp4").stat().st_size
        assert size == args.size_mb << 20, size
        print(f"course with one {args.size_mb} MiB file, region {'SeaweedFS' if server else 'folder'}")
        print(f"{'step':8} {'seconds':>8} {'peak RSS MiB':>13}  result")
        for name, s, p, m in rows:
            print(f"{name:8} {s:8.2f} {p:13.1f}  {m}")
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
