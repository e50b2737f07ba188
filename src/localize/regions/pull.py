"""The regional pull client: fetch a published course safely onto a mirror.

On the mirror (``--dest DIR``)::

    DIR/COURSE/LL -> .localize/COURSE/LL/VERSION     the live site: a symlink
    DIR/.localize/COURSE/LL/VERSION/                 version folders (live and previous)
    DIR/.localize/COURSE/LL/.staging-VERSION/        a download in progress
    DIR/.localize/COURSE/LL/.downloads/              files being downloaded (outside the staged tree)
    DIR/.localize/COURSE/LL/.lock                    held (flock) while a pull or rollback runs
    DIR/.localize/COURSE/LL/manifests/VERSION.json   what each version holds
    DIR/.localize/COURSE/LL/state.json               live and previous version, and the region
    DIR/.localize/.index.json                        the region's index as this mirror serves it (pull --all)

A pull reads the pointer and the manifest, downloads only the files whose hash
the live version does not already have (the rest are linked from it), verifies
every sha256, checks the staged folder holds exactly the manifest's files, and
only then switches the symlink with one atomic rename. An interrupted pull
leaves the live version untouched and resumes where it stopped; a file with the
wrong bytes stops the pull before anything switches. Two pulls of one course
and locale into one folder do not run at once (the second one is refused).

One cohesive thing: the mirror's whole protocol (lock, read, stage, verify,
switch, prune locally), kept in one module so its order is read in one place.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

from localize.errors import ConfigError, IntegrityError, LocalizeError
from localize.regions.checkpoints import checkpoint
from localize.regions.freshness import check_not_older, parse_updated
from localize.regions.keys import (
    MAX_SIGNATURE_BYTES,
    TrustedKeys,
    index_signature_key,
    manifest_signature_key,
    pointer_signature_key,
)
from localize.regions.mirror_objects import LocalObjects, MissingObject, sha256_file
from localize.regions.objects import Inflating, Metered, Refused
from localize.regions.remote import Remote, open_remote
from localize.regions.safe_files import check_real_folders, links_under, read_regular
from localize.regions.schema import (
    MAX_INDEX_BYTES,
    MAX_MANIFEST_BYTES,
    MAX_POINTER_BYTES,
    FileRecord,
    Manifest,
    check_names,
    index_entry,
    is_version,
    manifest_key,
    parse_json,
    pointer_key,
    validate_index,
    validate_pointer,
)
from localize.storage.base import TooLarge, check_key, local_error

__all__ = [
    "IntegrityError",
    "PullResult",
    "Remote",
    "TrustedKeys",
    "live_version",
    "open_remote",
    "pull",
    "pull_all",
    "rollback_local",
]


class _HashingFile:
    """A file being written, its sha256 and size computed on the way."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.h = hashlib.sha256()
        self.size = 0

    def write(self, block: bytes) -> int:
        self.h.update(block)
        self.size += len(block)
        return self.f.write(block)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.f.seek(offset, whence)

    def truncate(self, size: int | None = None) -> int:
        if size in (None, 0) and self.f.tell() == 0:
            self.h, self.size = hashlib.sha256(), 0
        return self.f.truncate(size)


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
    moved_bytes: int = 0  # what came over the wire: pointer, manifest, signatures, objects as stored


def _unique(path: Path, what: str) -> Path:
    """A temporary name beside ``path`` that no other process picks."""
    return path.with_name(f".{path.name}.{what}.{os.getpid()}.{secrets.token_hex(4)}")


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _unique(path, "part")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _pull_lock(state_dir: Path, course: str, locale: str) -> Iterator[None]:
    """Hold the course x locale's lock on this mirror, or refuse at once if another pull has it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / ".lock").open("a+b") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(f.fileno()).st_ino != os.stat(state_dir / ".lock").st_ino:
                raise BlockingIOError  # a failed first pull removed it meanwhile (see _forget)
        except (BlockingIOError, FileNotFoundError):
            raise LocalizeError(
                f"another pull of {course}/{locale} into {state_dir.parent.parent.parent} is running; "
                "try again when it has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _state_dir(dest: Path, course: str, locale: str) -> Path:
    return dest / ".localize" / check_key(course) / check_key(locale)


def _read_state(state_dir: Path) -> dict[str, Any]:
    """The mirror's record of its live and previous version ({} when absent or unreadable)."""
    try:
        state = json.loads(read_regular(state_dir / "state.json", 65536))  # never a link or a pipe
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(state, dict):
        return {}
    kept = {k: v for k, v in state.items() if k in ("current", "previous") and is_version(v)}
    for key, most in (("updated", 40), ("previous_updated", 40), ("region", 200), ("index_region", 200)):
        if isinstance(state.get(key), str) and len(state[key]) <= most:  # pointers' signed time (.freshness), region
            kept[key] = state[key]
    return kept


def live_version(dest: str | os.PathLike[str], course: str, locale: str) -> str | None:
    state = _read_state(_state_dir(Path(dest), course, locale))
    current = state.get("current")
    return str(current) if current else None


def _switchable(dest: Path, course: str, locale: str) -> Path:
    """The live link DIR/COURSE/LL, when a switch can replace it (checked before the switch is recorded)."""
    link = dest / course / locale
    check_real_folders(link.parent)
    if link.exists() and not link.is_symlink():
        raise LocalizeError(f"{link} is a real folder, not a link made by localize; move it away first")
    return link


def _switch(dest: Path, course: str, locale: str, version: str) -> None:
    """Point DIR/COURSE/LL at the version folder with one atomic rename."""
    link = _switchable(dest, course, locale)
    link.parent.mkdir(parents=True, exist_ok=True)
    target = os.path.relpath(_state_dir(dest, course, locale) / version, link.parent)
    tmp = _unique(link, "switch")
    try:
        os.symlink(target, tmp)
        os.replace(tmp, link)
    finally:
        if tmp.is_symlink():
            tmp.unlink()


def _complete(folder: Path, manifest: Manifest) -> bool:
    """Whether ``folder`` holds exactly the manifest's files with their sha256."""
    wanted = {f.path for f in manifest.files}
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()}
    if present != wanted:
        return False
    return all(
        not (folder / f.path).is_symlink()
        and (folder / f.path).stat().st_size == f.size
        and sha256_file(folder / f.path) == f.sha256
        for f in manifest.files
    )


def _check_signature(remote: Remote, trust: TrustedKeys, data: bytes, what: str, key: str, signature_key: str) -> bytes:
    """Refuse ``data`` (read from ``key``) unless a trusted key signed exactly these bytes;
    returns the signature (verified)."""
    try:
        signature = remote.read(signature_key, MAX_SIGNATURE_BYTES)
    except FileNotFoundError:
        raise IntegrityError(
            f"the {what} is not signed (no {signature_key}) and keys are trusted; not using it "
            "(the live version is left as it was). Signatures are found by the signed bytes: a file changed "
            "after signing looks unsigned too",
            path=remote.describe(key),
        ) from None
    except TooLarge:
        raise IntegrityError(
            f"the {what}'s signature is larger than {MAX_SIGNATURE_BYTES} bytes; not using it",
            path=remote.describe(key),
        ) from None
    trust.verify(data, signature, what, remote.describe(key))
    return signature


def _kept_manifest(folder: Path, version: str, sha256: str) -> bytes | None:
    """The manifest of ``version`` an earlier pull verified and kept, if its bytes are ``sha256``."""
    try:
        data = (folder / f"{version}.json").read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == sha256 else None


def _read_pointer_and_manifest(
    remote: Remote, course: str, locale: str, trust: TrustedKeys | None = None, kept: Path | None = None
) -> tuple[str, bytes, Manifest, str, str | None]:
    key = pointer_key(course, locale)
    try:
        pointer_bytes = remote.read(key, MAX_POINTER_BYTES)
        if trust is not None:  # before the bytes are even parsed
            signature_key = pointer_signature_key(course, locale, pointer_bytes)
            _check_signature(remote, trust, pointer_bytes, "pointer", key, signature_key)
        raw = parse_json(pointer_bytes, "pointer", remote.describe(key))
    except FileNotFoundError:
        raise LocalizeError(f"{course}/{locale} is not published at {remote.describe()}") from None
    except TooLarge:
        raise IntegrityError(
            f"the pointer is larger than {MAX_POINTER_BYTES} bytes; not using it", path=remote.describe(key)
        ) from None
    pointer = validate_pointer(raw, remote.describe(key), course, locale)
    version = str(pointer["version"])
    # a version this mirror pulled already: its verified manifest is kept, and the pointer pins its hash
    manifest_bytes = _kept_manifest(kept, version, pointer["manifest_sha256"]) if kept is not None else None
    if manifest_bytes is None:
        try:
            manifest_bytes = remote.read(pointer["manifest"], MAX_MANIFEST_BYTES)
        except FileNotFoundError:
            raise IntegrityError(
                f"the manifest of live version {version} is missing; not switching",
                path=remote.describe(pointer["manifest"]),
            ) from None
        except TooLarge:
            raise IntegrityError(
                f"the manifest is larger than {MAX_MANIFEST_BYTES} bytes; not using it",
                path=remote.describe(pointer["manifest"]),
            ) from None
        if trust is not None:
            signature_key = manifest_signature_key(course, locale, version)
            _check_signature(remote, trust, manifest_bytes, "manifest", pointer["manifest"], signature_key)
    if hashlib.sha256(manifest_bytes).hexdigest() != pointer["manifest_sha256"]:
        raise IntegrityError(
            f"the manifest of version {version} does not match its pointer; not switching",
            path=remote.describe(pointer["manifest"]),
        )
    manifest = Manifest.from_bytes(
        manifest_bytes, where=remote.describe(pointer["manifest"]), course=course, locale=locale, version=version
    )
    region = pointer.get("region")
    return version, manifest_bytes, manifest, str(pointer["updated"]), region if isinstance(region, str) else None


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
    trust: TrustedKeys | None = None,
    local: LocalObjects | None = None,
    max_rate: float | None = None,
    allow_older: bool = False,
    region: str | None = None,
    index_region: str | None = None,
) -> PullResult:
    """Bring DIR/COURSE/LL to the region's live version of the course.

    Everything the region says is validated first (with ``trust``, the pointer's
    and the manifest's signatures by one of those keys; pointer and manifest
    schema, the manifest's sha256; a pointer older than the live one is refused unless
    ``allow_older``, see :mod:`.freshness`); objects stream to disk with their sha256
    computed on the way and no more bytes than the manifest records accepted (a compressed
    object is inflated on the way, and refused once it inflates past the file's size).
    An object the region lacks (a delta export) is taken from ``local``, the mirror's own
    verified copies. ``max_rate`` caps the bytes read per second; the result says how many
    bytes moved. A pointer names the region it was published to (signed with it): one of
    another region than ``region``, else than the mirror recorded at its first pull of the course,
    else than ``index_region`` (the region's index, for ``pull --all``), is refused, so regions
    sharing a signing key cannot stand in for each other.
    Steps end at checkpoints: ``pull:object-downloaded`` (each file),
    ``pull:staged``, ``pull:switched``, ``pull:local-pruned``."""
    check_names(course, locale)
    refuse_dest_inside(location, dest)
    metered = Metered(remote or open_remote(location, endpoint_url), max_rate)
    dest_dir = Path(dest)
    state_dir = _state_dir(dest_dir, course, locale)
    # never written through a link (DIR/COURSE/LL itself is the link localize makes)
    check_real_folders(dest_dir / ".localize", state_dir.parent, state_dir, dest_dir / course)
    made = [p for p in (state_dir, *state_dir.parents) if not p.exists()]  # deepest first
    try:
        return _pull_in(metered, course, locale, dest_dir, state_dir, made, progress=progress, on_file=on_file,
                        trust=trust, local=local or LocalObjects(dest_dir), allow_older=allow_older,
                        region=region, index_region=index_region)  # fmt: skip
    except OSError as e:  # the mirror's own disk (full, read-only): never blamed on the region
        raise local_error(
            e,
            f"cannot pull {course}/{locale} into {dest_dir} (what was staged stays in {state_dir} for the next "
            "pull; remove it to free the space)",
            str(e.filename or dest_dir),
        ) from e


def _pull_in(
    metered: Metered,
    course: str,
    locale: str,
    dest_dir: Path,
    state_dir: Path,
    made: list[Path],
    *,
    local: LocalObjects,
    **kwargs: Any,
) -> PullResult:
    with _pull_lock(state_dir, course, locale):
        try:
            result = _pull_locked(metered, course, locale, dest_dir, state_dir, local=local, **kwargs)
            return replace(
                result, moved_bytes=metered.bytes_moved, message=f"{result.message}; {metered.bytes_moved} bytes moved"
            )
        except BaseException:
            shutil.rmtree(state_dir / ".downloads", ignore_errors=True)
            _forget(made)  # a first pull that failed (not published, not signed...) leaves no folders
            raise
        finally:
            shutil.rmtree(state_dir / ".downloads", ignore_errors=True)  # parts of files not finished


def _forget(made: list[Path]) -> None:
    """Remove the folders a failed pull made (deepest first), each only while it holds nothing
    but the pull's lock, which is still held: a pull that opened it meanwhile is refused (it
    checks that the file it locked is still the lock, :func:`_pull_lock`)."""
    for folder in made:
        with contextlib.suppress(OSError):
            if folder == made[0] and os.listdir(folder) == [".lock"]:
                os.unlink(folder / ".lock")
            folder.rmdir()


def _pull_locked(
    remote: Remote,
    course: str,
    locale: str,
    dest_dir: Path,
    state_dir: Path,
    *,
    progress: Callable[[str, int], None] | None,
    on_file: Callable[[str], None] | None,
    trust: TrustedKeys | None,
    local: LocalObjects,
    allow_older: bool = False,
    region: str | None = None,
    index_region: str | None = None,
) -> PullResult:
    shutil.rmtree(state_dir / ".downloads", ignore_errors=True)  # parts a killed pull left
    version, manifest_bytes, manifest, updated, named = _read_pointer_and_manifest(
        remote, course, locale, trust, state_dir / "manifests"
    )
    state = _read_state(state_dir)
    current = state.get("current")
    # the region this mirror serves (one key may sign several regions' releases): --region, else
    # the one it recorded, else (a first pull of --all) the one the region's index names; a pointer
    # of an earlier localize names none, refused only where the region is given or was recorded
    recorded, soft = state.get("region"), state.get("index_region") or index_region
    pinned, why = (region, "--region") if region else (recorded, "recorded at its first pull")
    if not pinned and soft:  # (a pointer of an earlier localize under it: its region is the index's)
        pinned, why = soft, "named by the region's index when the mirror took a pointer naming none"
    if pinned and named != pinned and (named is not None or not why.startswith("named by")):
        shown = f"of region {named!r}" if named else "of no region (published by an earlier localize: publish it again)"
        raise IntegrityError(
            f"this pointer is {shown}, and this mirror serves region {pinned!r} ({why}); not switching (the live "
            f"version stays {current}). If the region was renamed, pull with --region NEW",
            path=remote.describe(pointer_key(course, locale)),
        )
    region = named or (recorded if isinstance(recorded, str) else None)
    # with no region of its own, the index's is recorded as such: pointers of another region refused
    under = soft if region is None and isinstance(soft, str) else None
    if not allow_older:
        check_not_older(course, locale, version, updated, state.get("updated"), current, remote.describe())
    link = dest_dir / course / locale
    final = state_dir / version
    staging = state_dir / f".staging-{version}"
    check_real_folders(final, staging, state_dir / "manifests", state_dir / ".downloads")
    if current == version and final.is_dir() and _links_to(link, final):
        # the same version, perhaps under a newer pointer (re-signed, or back after a rollback):
        # remember the newer time, so an older pointer replayed later is refused, and the signature
        if trust is not None and not (state_dir / "manifests" / f"{version}.json.sig").is_file():
            _keep_signature(remote, trust, state_dir, course, locale, version, manifest_bytes)
        newer, kept_time = parse_updated(updated), parse_updated(state.get("updated"))
        if newer is not None and (kept_time is None or newer > kept_time):
            _write_state(state_dir, version, state.get("previous"), updated, state.get("previous_updated"),
                         region, under)  # fmt: skip
        elif (region, under) != _recorded_region(state):
            # the region, recorded the first time a pointer names it (or the index does)
            _write_state(state_dir, version, state.get("previous"), state.get("updated"),
                         state.get("previous_updated"), region, under)  # fmt: skip
        _prune_local(state_dir, {version, state.get("previous")})
        return PullResult(
            course, locale, version, False, f"already at version {version}", previous=state.get("previous")
        )
    downloaded = downloaded_bytes = reused = 0
    if final.is_dir() and _complete(final, manifest):
        reused = len(manifest.files)  # an interrupted pull staged (and maybe switched to) it already
    else:
        if final.is_dir():
            if link.is_symlink() and link.resolve() == final.resolve():
                raise IntegrityError(f"the live folder {final} does not match its manifest; repair it by hand")
            shutil.rmtree(final)
        downloaded, downloaded_bytes, reused = _stage(
            remote, state_dir, version, manifest, current, progress=progress, on_file=on_file, local=local
        )
        if not _complete(staging, manifest):
            raise IntegrityError(
                f"the staged version {version} does not hold exactly its manifest's files; "
                f"not switching ({f'the live version stays {current}' if current else 'nothing is live here yet'})",
                path=str(staging),
            )
        os.replace(staging, final)
    checkpoint("pull:staged")
    _write_atomic(state_dir / "manifests" / f"{version}.json", manifest_bytes)
    if trust is not None:
        _keep_signature(remote, trust, state_dir, course, locale, version, manifest_bytes)
    previous = current if current != version else state.get("previous")
    previous_updated = state.get("updated") if current != version else state.get("previous_updated")
    recorded, pointed = parse_updated(state.get("updated")), parse_updated(updated)
    if current == version and recorded is not None and (pointed is None or pointed < recorded):
        updated = str(state.get("updated"))  # the same version again (repaired): never an older time
    # recorded before the switch: a pull stopped between the two leaves the record ahead of the
    # link, which the next pull or `--verify` completes; the other way round, verify took the
    # link back to the older version, and a replay of its pointer was not refused
    _switchable(dest_dir, course, locale)  # (a real folder there: refused before anything is recorded)
    _write_state(state_dir, version, previous, updated, previous_updated, region, under)
    _switch(dest_dir, course, locale, version)
    checkpoint("pull:switched")
    _prune_local(state_dir, {version, previous})
    checkpoint("pull:local-pruned")
    return PullResult(
        course, locale, version, True,
        f"switched to version {version}: {downloaded} files downloaded ({downloaded_bytes} bytes), {reused} reused",
        downloaded, downloaded_bytes, reused, previous,
    )  # fmt: skip


def _keep_signature(
    remote: Remote, trust: TrustedKeys, state_dir: Path, course: str, locale: str, version: str, manifest: bytes
) -> None:
    """Keep the manifest's signature beside it, verified first, for `pull --verify --trust` once
    the region no longer has this version."""
    signature = _check_signature(
        remote, trust, manifest, "manifest", manifest_key(course, locale, version),
        manifest_signature_key(course, locale, version),
    )  # fmt: skip
    _write_atomic(state_dir / "manifests" / f"{version}.json.sig", signature)


def _write_state(
    state_dir: Path,
    current: str,
    previous: str | None,
    updated: str | None,
    previous_updated: object = None,
    region: object = None,
    index_region: object = None,
) -> None:
    """``region``: the region this mirror serves (a pointer of another is refused); else
    ``index_region``: the region of the index it took a pointer naming none under."""
    body = {"current": current, "previous": previous, "updated": updated}
    if isinstance(previous_updated, str):  # what a local rollback goes back to (never to an older time)
        body["previous_updated"] = previous_updated
    if isinstance(region, str):
        body["region"] = region
    elif isinstance(index_region, str):
        body["index_region"] = index_region
    _write_atomic(state_dir / "state.json", (json.dumps(body, indent=2) + "\n").encode())


def _recorded_region(state: dict[str, Any]) -> tuple[str | None, str | None]:
    """(region, index_region) as :func:`_write_state` keeps them (the second only without the first)."""
    region, index_region = state.get("region"), state.get("index_region")
    if isinstance(region, str) and region:
        return region, None
    return None, index_region if isinstance(index_region, str) and index_region else None


def _stage(
    remote: Remote,
    state_dir: Path,
    version: str,
    manifest: Manifest,
    current: str | None,
    *,
    progress: Callable[[str, int], None] | None,
    on_file: Callable[[str], None] | None,
    local: LocalObjects,
) -> tuple[int, int, int]:
    """Fill .staging-VERSION with the manifest's files; (downloaded, bytes, reused)."""
    current_files: dict[str, str] = {}
    old_manifest = state_dir / "manifests" / f"{current}.json"
    if current and old_manifest.is_file():
        try:
            old = Manifest.from_bytes(old_manifest.read_bytes(), where=str(old_manifest))
            current_files = {f.path: f.sha256 for f in old.files}
        except LocalizeError:
            current_files = {}  # nothing of the live version is reused then
    staging = state_dir / f".staging-{version}"
    staging.mkdir(parents=True, exist_ok=True)
    for odd in links_under(staging):  # a link (or pipe) someone put in a killed pull's staging folder:
        os.unlink(staging / odd)  # removed, never followed (writes land only inside staging)
    downloaded = downloaded_bytes = reused = 0
    for record in manifest.files:
        target = staging / record.path
        if (
            target.is_file()
            and not target.is_symlink()
            and target.stat().st_size == record.size
            and sha256_file(target) == record.sha256
        ):
            reused += 1  # already staged by an interrupted pull
            continue
        live_copy = state_dir / str(current) / record.path if current else None
        if (
            live_copy is not None
            and current_files.get(record.path) == record.sha256
            and live_copy.is_file()
            and not live_copy.is_symlink()
            and live_copy.stat().st_size == record.size
            and sha256_file(live_copy) == record.sha256  # a live file edited in place is never spread
        ):
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                if target.exists() or target.is_symlink():
                    target.unlink()
                os.link(live_copy, target)
            except OSError:
                shutil.copy2(live_copy, target)
            reused += 1
            continue
        try:
            _download_object(remote, record, target, current, state_dir / ".downloads")
        except MissingObject:
            if not local.copy_to(record.sha256, record.size, target):
                raise
            reused += 1  # a delta export relies on the mirror's copy
            continue
        downloaded += 1
        downloaded_bytes += record.size
        checkpoint("pull:object-downloaded")
        if progress is not None:
            progress(record.path, record.size)
        if on_file is not None:
            on_file(record.path)
    wanted = {f.path for f in manifest.files}
    for path in sorted(staging.rglob("*"), reverse=True):
        rel = path.relative_to(staging).as_posix()
        if (path.is_file() or path.is_symlink()) and rel not in wanted:
            path.unlink()
        elif path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
            path.rmdir()
    return downloaded, downloaded_bytes, reused


def _download_object(remote: Remote, record: FileRecord, target: Path, current: str | None, parts: Path) -> None:
    """Stream one object to ``target`` (inflating a compressed one), checking size and sha256 on
    the way. The bytes go to a file of their own in ``parts`` first (outside the staged tree: no
    manifest path can name it)."""
    path, sha256, size = record.path, record.sha256, record.size
    where = remote.describe(record.key)
    stays = f"not switching ({f'the live version stays {current}' if current else 'nothing is live here yet'})"
    target.parent.mkdir(parents=True, exist_ok=True)
    parts.mkdir(parents=True, exist_ok=True)
    part = parts / f"{os.getpid()}.{secrets.token_hex(8)}.part"
    try:
        with part.open("w+b") as f:
            writer = _HashingFile(f)
            inflating = Inflating(writer, size) if record.encoding == "gzip" else None
            try:
                remote.download(record.key, cast(IO[bytes], inflating or writer), record.wire_size)
                if inflating is not None:
                    inflating.finish()
            except TooLarge:
                raise IntegrityError(
                    f"{path}: the region's object is larger than the {record.wire_size} bytes the manifest "
                    f"records; {stays}",
                    path=where,
                ) from None
            except Refused as e:
                raise IntegrityError(f"{path}: the region's compressed object {e}; {stays}", path=where) from None
            except FileNotFoundError:
                raise MissingObject(
                    f"{path}: the region lacks this object and this mirror has no intact copy of it (a region "
                    "whose object was deleted: its coordinators repair it with `localize publish --repair`; "
                    "a delta export: import the export it was made against first; if the mirror had it, its "
                    "copy was changed: `localize pull --verify` against a region or drive holding it repairs "
                    f"it); {stays}",
                    path=where,
                ) from None
        actual = writer.h.hexdigest()
        if writer.size != size or actual != sha256:
            raise IntegrityError(
                f"{path}: expected sha256 {sha256}, got {actual}; the region's copy is damaged or was "
                f"tampered with (its coordinators replace it with `localize publish --repair`); {stays}",
                path=where,
            )
        if target.is_symlink() or target.exists():
            target.unlink()
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def _links_to(link: Path, folder: Path) -> bool:
    """Whether the live link ``link`` serves ``folder`` (a stopped pull or rollback may have left it elsewhere)."""
    try:
        return link.is_symlink() and link.resolve() == folder.resolve()
    except (OSError, RuntimeError):
        return False


def _prune_local(state_dir: Path, keep: set[str | None]) -> None:
    """Drop version folders and manifests other than ``keep`` (only names that are version ids),
    never the folder the live link serves."""
    course_dir, locale = state_dir.parent, state_dir.name
    link = state_dir.parents[2] / course_dir.name / locale
    with contextlib.suppress(OSError, RuntimeError):
        if link.is_symlink() and link.resolve().parent == state_dir.resolve():
            keep = {*keep, link.resolve().name}
    for child in state_dir.iterdir():
        if child.is_dir() and not child.is_symlink() and is_version(child.name) and child.name not in keep:
            shutil.rmtree(child)
        elif (
            child.name.startswith(".staging-")
            and is_version(child.name.removeprefix(".staging-"))
            and child.is_dir()
            and not child.is_symlink()
        ):  # a stopped pull's download of a version since passed by: else kept on the disk for good
            shutil.rmtree(child)
    manifests = state_dir / "manifests"
    if manifests.is_dir():
        for m in manifests.iterdir():
            version = m.name.removesuffix(".sig").removesuffix(".json")
            if m.name in (f"{version}.json", f"{version}.json.sig") and is_version(version) and version not in keep:
                m.unlink()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIRROR_INDEX = ".index.json"
"""The mirror's index (``pull --all``), beside the courses' folders in ``.localize``: a name no
course id can take (one named ``index.json`` collided with it)."""


def refuse_dest_inside(location: str, dest: str | os.PathLike[str]) -> None:
    """A mirror folder inside the region's folder (a drive) would be written into what is read."""
    if "://" in location or not os.path.isdir(location):
        return
    source, target = Path(location).resolve(), Path(dest).resolve()
    if target == source or source in target.parents:
        raise ConfigError(
            f"the mirror folder lies inside the region's folder {location} (a drive is never written to); "
            "choose a folder outside it",
            path=str(dest),
        )


def rollback_local(dest: str | os.PathLike[str], course: str, locale: str) -> tuple[str, str]:
    """Switch DIR/COURSE/LL back to the previous version it holds."""
    dest_dir = Path(dest)
    state_dir = _state_dir(dest_dir, course, locale)
    check_real_folders(dest_dir / ".localize", state_dir.parent, state_dir, dest_dir / course)
    with _pull_lock(state_dir, course, locale):
        state = _read_state(state_dir)
        current, previous = state.get("current"), state.get("previous")
        check_real_folders(state_dir / str(previous))
        if not previous or not (state_dir / str(previous)).is_dir():
            raise LocalizeError(f"no previous version of {course}/{locale} is kept in {dest_dir}")
        # never a time older than the one it is on: a local rollback must not let an old drive in
        was, back = state.get("updated"), state.get("previous_updated")
        later = back if (parse_updated(back) or _EPOCH) > (parse_updated(was) or _EPOCH) else was
        _switchable(dest_dir, course, locale)
        _write_state(
            state_dir, str(previous), str(current), later, was, *_recorded_region(state)
        )  # first, as in a pull
        _switch(dest_dir, course, locale, str(previous))
        _index_after_rollback(dest_dir, course, locale, str(previous), back)
    return str(current), str(previous)


def _index_after_rollback(dest: Path, course: str, locale: str, version: str, updated: object) -> None:
    """The mirror's index names the version a local rollback went back to (from its kept
    manifest), as `pull --all` would; nothing when the mirror has no index or the manifest is gone."""
    path = dest / ".localize" / MIRROR_INDEX
    try:
        index = json.loads(read_regular(path, MAX_INDEX_BYTES))
        manifest = Manifest.from_bytes(read_regular(_state_dir(dest, course, locale) / "manifests" / f"{version}.json",
                                                    MAX_MANIFEST_BYTES), where=str(path))  # fmt: skip
        pointer = {"version": version, "manifest": manifest_key(course, locale, version), "updated": updated}
        index["courses"].setdefault(course, {})[locale] = index_entry(pointer, manifest)
    except (OSError, ValueError, LocalizeError, KeyError, TypeError, AttributeError, RecursionError):
        return
    _write_atomic(path, json.dumps(index, indent=2, sort_keys=True).encode() + b"\n")


def read_index(remote: Remote, trust: TrustedKeys | None) -> bytes:
    """The region index's bytes; with ``trust``, only when a trusted key signed exactly them."""
    try:
        data = remote.read("index.json", MAX_INDEX_BYTES)
    except FileNotFoundError:
        raise LocalizeError(f"no region index at {remote.describe('index.json')}") from None
    except TooLarge:
        raise IntegrityError(
            f"the region index is larger than {MAX_INDEX_BYTES} bytes; not using it", path=remote.describe("index.json")
        ) from None
    if trust is not None:
        _check_signature(remote, trust, data, "region index", "index.json", index_signature_key(data))
    return data


def pull_all(
    location: str,
    dest: str | os.PathLike[str],
    *,
    endpoint_url: str | None = None,
    on_result: Callable[[PullResult | LocalizeError], None] | None = None,
    **kwargs: Any,
) -> list[PullResult | LocalizeError]:
    """Every course and locale in the region index; one failure does not stop the others
    (``on_result`` hears of each as it ends)."""
    refuse_dest_inside(location, dest)
    check_real_folders(Path(dest) / ".localize")  # (nothing is removed or written through a link)
    earlier = Path(dest) / ".localize" / "index.json"  # where an earlier localize kept the index: a course's
    if earlier.is_file() and not earlier.is_symlink():  # name (the file stopped that course's pulls)
        if (Path(dest) / ".localize" / MIRROR_INDEX).exists():
            earlier.unlink()
        else:  # moved, with what it says of courses a failed pull leaves as they were
            os.replace(earlier, Path(dest) / ".localize" / MIRROR_INDEX)
    remote = open_remote(location, endpoint_url)
    rate = kwargs.get("max_rate")
    data = read_index(Metered(remote, rate) if rate else remote, kwargs.get("trust"))  # paced like the rest
    index = validate_index(parse_json(data, "region index", remote.describe("index.json")), entries=False)
    named, wanted = index.get("region"), kwargs.get("region")
    if wanted is not None and named is not None and named != wanted:
        raise IntegrityError(
            f"this region index is of region {named!r}, and this mirror serves region {wanted!r} (--region); "
            "nothing was pulled",
            path=remote.describe("index.json"),
        )
    if wanted is None and isinstance(named, str):  # an index of another region than the mirror's own
        served = _regions_served(Path(dest))
        if served and named not in served:
            raise IntegrityError(
                f"this region index is of region {named!r}, and this mirror serves region "
                f"{', '.join(repr(r) for r in sorted(served))} (recorded by its pulls); nothing was pulled. "
                "If the region was renamed, pull with --region NEW",
                path=remote.describe("index.json"),
            )
    if isinstance(named, str):  # a default for a course's first pull, never over what a mirror recorded
        kwargs["index_region"] = named  # (signed with the index, when the mirror trusts a key)
    results: list[PullResult | LocalizeError] = []
    live: dict[tuple[str, str], str | None] = {}  # (course, locale) -> the version the mirror is on
    kwargs.setdefault("local", LocalObjects(dest))  # read once for every course
    for course, locales in sorted(index.get("courses", {}).items()):
        for locale in sorted(locales):
            try:
                results.append(pull(location, course, locale, dest, remote=remote, **kwargs))
            except LocalizeError as e:
                results.append(e)
            except OSError as e:  # the mirror's folder (full disk, a file in the way): this course only
                results.append(local_error(e, f"cannot pull {course}/{locale}", str(Path(dest))))
            done = results[-1]
            if isinstance(done, PullResult):
                live[(course, locale)] = done.version
            else:  # refused or failed: the version the mirror stays on, if any
                with contextlib.suppress(LocalizeError):
                    live[(course, locale)] = live_version(dest, course, locale)
            if on_result is not None:
                on_result(done)
    index_path = Path(dest) / ".localize" / MIRROR_INDEX
    check_real_folders(index_path.parent)
    index_path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(index_path, json.dumps(_as_live(index, live, index_path), indent=2, sort_keys=True).encode() + b"\n")
    return results


def _regions_served(dest: Path) -> set[str]:
    """The regions this mirror's pulls recorded (every course's state)."""
    found: set[str] = set()
    root = dest / ".localize"
    for path in root.glob("*/*/state.json") if root.is_dir() and not root.is_symlink() else ():
        state = _read_state(path.parent)
        region = state.get("region") or state.get("index_region")
        if isinstance(region, str):
            found.add(region)
    return found


def _as_live(index: dict[str, Any], live: dict[tuple[str, str], str | None], kept: Path) -> dict[str, Any]:
    """The region's index as this mirror serves it (``live``: the version each course and locale
    is on after the pulls): each entry only where the mirror is on its version, else the mirror's
    earlier entry for the version it is on (a course refused or cut short stays as it was), else none."""
    try:
        earlier = json.loads(read_regular(kept, MAX_INDEX_BYTES)).get("courses", {})
    except (OSError, ValueError, AttributeError, RecursionError):
        earlier = {}
    earlier = earlier if isinstance(earlier, dict) else {}  # the mirror's own file, damaged: not used
    courses: dict[str, dict[str, Any]] = {}
    for course, locales in index.get("courses", {}).items():
        for locale, entry in locales.items() if isinstance(locales, dict) else ():
            version = live.get((course, locale))
            known = earlier.get(course)
            before = known.get(locale) if isinstance(known, dict) else None
            for candidate in (entry, before):
                if isinstance(candidate, dict) and version is not None and candidate.get("version") == version:
                    courses.setdefault(course, {})[locale] = candidate
                    break
    return {**index, "courses": courses}
