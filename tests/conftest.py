from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "src" / "localize" / "samples" / "intro-course"
CORPUS = Path(os.environ.get("LOCALIZE_CORPUS") or ROOT.parent / "shared" / "corpus" / "ocw")  # make's CORPUS=PATH

# Prefect: local, quiet, offline, and never in ~/.prefect (see ../shared/notes/prefect.md)
_PREFECT_HOME = tempfile.mkdtemp(prefix="localize-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


def corpus_courses() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.is_dir())


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(
            f"real OCW corpus not found at {CORPUS} (it lives in ../shared/corpus/ocw; or give make CORPUS=PATH)"
        )
    return CORPUS


def msgfmt_check(path: Path) -> subprocess.CompletedProcess[str]:
    """GNU msgfmt -c; returns the completed process (check .returncode and .stderr)."""
    if shutil.which("msgfmt") is None:
        pytest.fail("GNU msgfmt is missing: `make system-deps` installs gettext")
    return subprocess.run(["msgfmt", "-c", "-o", os.devnull, str(path)], capture_output=True, text=True)


@pytest.fixture(scope="session")
def prefect_harness():  # type: ignore[no-untyped-def]
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real S3 server (SeaweedFS `weed mini`) on loopback ports, for the whole session."""
    from localize_dev.seaweed import SeaweedFS

    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    yield server
    server.stop()


_BUCKETS = iter(range(1_000_000))


@pytest.fixture
def s3_env(seaweed, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Client environment for the session's SeaweedFS and a fresh bucket name."""
    from localize.storage.s3 import S3Location, S3Storage

    for key, value in seaweed.env().items():
        monkeypatch.setenv(key, value)
    bucket = f"test-{os.getpid()}-{next(_BUCKETS)}"
    S3Storage(S3Location(bucket, endpoint_url=seaweed.endpoint), client=seaweed.client()).ensure_bucket()
    return bucket
