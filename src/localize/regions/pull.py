"""The regional pull client: fetch a published course safely onto a mirror.

On the mirror (``--dest DIR``)::

    DIR/COURSE/LL -> .localize/COURSE/LL/VERSION     the live site: a symlink
    DIR/.localize/COURSE/LL/VERSION/                 version folders (live and previous)
    DIR/.localize/COURSE/LL/.staging-VERSION/        a download in progress
    DIR/.localize/COURSE/LL/manifests/VERSION.json   what each version holds
    DIR/.localize/COURSE/LL/state.json               live and previous version

A pull reads the pointer and the manifest, downloads only the files whose hash
the live version does not already have (the rest are linked from it), verifies
every sha256, and only then switches the symlink with one atomic rename. An
interrupted pull leaves the live version untouched and resumes where it
stopped; a file with the wrong bytes stops the pull before anything switches.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from localize.errors import IntegrityError, LocalizeError, PermanentStorageError, TransientStorageError
from localize.regions.layout import Manifest, object_key, pointer_key
from localize.storage.base import check_key
from localize.storage.locations import open_storage

__all__ = [
    "IntegrityError",
    "PullResult",
    "Remote",
    "live_version",
    "open_remote",
    "pull",
    "pull_all",
    "rollback_local",
]


class Remote(Protocol):
    def read(self, key: str) -> bytes: ...

    def describe(self, key: str = "") -> str: ...


class _StorageRemote:
    def __init__(self, location: str, endpoint_url: str | None = None) -> None:
        self.storage = open_storage(location, endpoint_url=endpoint_url)

    def read(self, key: str) -> bytes:
        return self.storage.read_bytes(key)

    def describe(self, key: str = "") -> str:
        return self.storage.describe(key)


class _HttpRemote:
    """A public bucket or CDN: plain HTTPS GETs, retried on 5xx and dropped connections."""

    def __init__(self, base_url: str) -> None:
        import httpx

        self.base = base_url.rstrip("/")
        self.client = httpx.Client(timeout=30.0, follow_redirects=True, transport=httpx.HTTPTransport(retries=3))

    def describe(self, key: str = "") -> str:
        return f"{self.base}/{key}" if key else self.base

    def read(self, key: str) -> bytes:
        import httpx

        url = self.describe(check_key(key))
        error = ""
        for attempt in range(4):
            try:
                response = self.client.get(url)
            except httpx.HTTPError as e:
                error = type(e).__name__
            else:
                if response.status_code == 404:
                    raise FileNotFoundError(url)
                if response.status_code < 300:
                    return response.content
                error = f"HTTP {response.status_code}"
                if response.status_code < 500:
                    break
            time.sleep(0.3 * 2**attempt)
        kind = PermanentStorageError if error.startswith("HTTP 4") else TransientStorageError
        raise kind(f"download failed: {error}", path=url)


def open_remote(location: str, endpoint_url: str | None = None) -> Remote:
    if location.startswith(("http://", "https://")):
        return _HttpRemote(location)
    return _StorageRemote(location, endpoint_url)


@dataclass(frozen=True)
class PullResult:
    course: str
    locale: str
    version: str
    switched: bool
    message: str
    downloaded_files: int = 0
    downloaded_bytes: int = 0
    reused_files: int = 0
    previous: str | None = None


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _state_dir(dest: Path, course: str, locale: str) -> Path:
    return dest / ".localize" / check_key(course) / check_key(locale)


def _read_state(state_dir: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((state_dir / "state.json").read_text()))
    except FileNotFoundError:
        return {}


def live_version(dest: str | os.PathLike[str], course: str, locale: str) -> str | None:
    state = _read_state(_state_dir(Path(dest), course, locale))
    current = state.get("current")
    return str(current) if current else None


def _switch(dest: Path, course: str, locale: str, version: str) -> None:
    """Point DIR/COURSE/LL at the version folder with one atomic rename."""
    link = dest / course / locale
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists() and not link.is_symlink():
        raise LocalizeError(f"{link} is a real folder, not a link made by localize; move it away first")
    target = os.path.relpath(_state_dir(dest, course, locale) / version, link.parent)
    tmp = link.with_name(f".{locale}.switch")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


def pull(
    location: str,
    course: str,
    locale: str,
    dest: str | os.PathLike[str],
    *,
    endpoint_url: str | None = None,
    remote: Remote | None = None,
    progress: Callable[[str, int], None] | None = None,
    on_file: Callable[[str], None] | None = None,
) -> PullResult:
    """Bring DIR/COURSE/LL to the region's live version of the course."""
    remote = remote or open_remote(location, endpoint_url)
    dest_dir = Path(dest)
    state_dir = _state_dir(dest_dir, course, locale)
    try:
        pointer = json.loads(remote.read(pointer_key(course, locale)))
    except FileNotFoundError:
        raise LocalizeError(f"{course}/{locale} is not published at {remote.describe()}") from None
    version = str(pointer["version"])
    check_key(version)
    manifest_bytes = remote.read(pointer["manifest"])
    if hashlib.sha256(manifest_bytes).hexdigest() != pointer.get("manifest_sha256"):
        raise IntegrityError(
            f"the manifest of version {version} does not match its pointer; not switching",
            path=remote.describe(pointer["manifest"]),
        )
    manifest = Manifest.from_bytes(manifest_bytes)
    state = _read_state(state_dir)
    current = state.get("current")
    link = dest_dir / course / locale
    if current == version and (state_dir / version).is_dir() and link.is_symlink():
        return PullResult(
            course, locale, version, False, f"already at version {version}", previous=state.get("previous")
        )
    current_files: dict[str, str] = {}
    if current and (state_dir / "manifests" / f"{current}.json").is_file():
        old = Manifest.from_bytes((state_dir / "manifests" / f"{current}.json").read_bytes())
        current_files = {f.path: f.sha256 for f in old.files}
    staging = state_dir / f".staging-{version}"
    staging.mkdir(parents=True, exist_ok=True)
    downloaded = downloaded_bytes = reused = 0
    for record in manifest.files:
        target = staging / check_key(record.path)
        if target.is_file() and target.stat().st_size == record.size and _sha256_file(target) == record.sha256:
            reused += 1  # already staged by an interrupted pull
            continue
        live_copy = state_dir / str(current) / record.path if current else None
        if live_copy is not None and current_files.get(record.path) == record.sha256 and live_copy.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                if target.exists():
                    target.unlink()
                os.link(live_copy, target)
            except OSError:
                shutil.copy2(live_copy, target)
            reused += 1
            continue
        data = remote.read(object_key(record.sha256))
        actual = hashlib.sha256(data).hexdigest()
        if actual != record.sha256:
            raise IntegrityError(
                f"{record.path}: expected sha256 {record.sha256}, got {actual}; the region's copy is damaged or was "
                f"tampered with; not switching (the live version stays {current or 'none'})",
                path=remote.describe(object_key(record.sha256)),
            )
        _write_atomic(target, data)
        downloaded += 1
        downloaded_bytes += len(data)
        if progress is not None:
            progress(record.path, len(data))
        if on_file is not None:
            on_file(record.path)
    wanted = {check_key(f.path) for f in manifest.files}
    for path in sorted(staging.rglob("*"), reverse=True):
        rel = path.relative_to(staging).as_posix()
        if path.is_file() and rel not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    _write_atomic(state_dir / "manifests" / f"{version}.json", manifest_bytes)
    final = state_dir / version
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    _switch(dest_dir, course, locale, version)
    previous = current if current != version else state.get("previous")
    _write_atomic(
        state_dir / "state.json", (json.dumps({"current": version, "previous": previous}, indent=2) + "\n").encode()
    )
    _prune_local(state_dir, {version, previous})
    return PullResult(
        course, locale, version, True,
        f"switched to version {version}: {downloaded} files downloaded ({downloaded_bytes} bytes), {reused} reused",
        downloaded, downloaded_bytes, reused, previous,
    )  # fmt: skip


def _prune_local(state_dir: Path, keep: set[str | None]) -> None:
    for child in state_dir.iterdir():
        if (
            child.is_dir()
            and child.name not in keep
            and child.name not in ("manifests",)
            and not child.name.startswith(".staging-")
        ):
            shutil.rmtree(child)
    manifests = state_dir / "manifests"
    if manifests.is_dir():
        for m in manifests.iterdir():
            if m.stem not in keep:
                m.unlink()


def rollback_local(dest: str | os.PathLike[str], course: str, locale: str) -> tuple[str, str]:
    """Switch DIR/COURSE/LL back to the previous version it holds."""
    dest_dir = Path(dest)
    state_dir = _state_dir(dest_dir, course, locale)
    state = _read_state(state_dir)
    current, previous = state.get("current"), state.get("previous")
    if not previous or not (state_dir / str(previous)).is_dir():
        raise LocalizeError(f"no previous version of {course}/{locale} is kept in {dest_dir}")
    _switch(dest_dir, course, locale, str(previous))
    _write_atomic(
        state_dir / "state.json", (json.dumps({"current": previous, "previous": current}, indent=2) + "\n").encode()
    )
    return str(current), str(previous)


def pull_all(
    location: str, dest: str | os.PathLike[str], *, endpoint_url: str | None = None, **kwargs: Any
) -> list[PullResult | LocalizeError]:
    """Every course and locale in the region index; one failure does not stop the others."""
    remote = open_remote(location, endpoint_url)
    try:
        index = json.loads(remote.read("index.json"))
    except FileNotFoundError:
        raise LocalizeError(f"no region index at {remote.describe('index.json')}") from None
    results: list[PullResult | LocalizeError] = []
    for course, locales in sorted(index.get("courses", {}).items()):
        for locale in sorted(locales):
            try:
                results.append(pull(location, course, locale, dest, remote=remote, **kwargs))
            except LocalizeError as e:
                results.append(e)
    index_path = Path(dest) / ".localize" / "index.json"
    index_path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(index_path, json.dumps(index, indent=2, sort_keys=True).encode() + b"\n")
    return results
