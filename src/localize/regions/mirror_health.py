"""A mirror's own health: re-hash the live copy and repair it, and say where each course stands.

``verify`` re-reads every file of each live version on the mirror, compares it
with the version's manifest (read again from the region, its signature checked
when keys are trusted; the copy recorded at pull when the region no longer has
that version), and repairs what differs: a damaged or missing file is fetched
again (from the mirror's own verified copies, else from the region) and renamed
into place, a file the manifest does not name is removed, a live link that
points elsewhere is switched back. It holds the course's pull lock meanwhile.

``status`` reads the region index once and says, for each course and locale on
the mirror or in the region, which version the mirror is on and whether it is
behind the region.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from localize.errors import IntegrityError, LocalizeError
from localize.locales import known_locale
from localize.regions.keys import MAX_SIGNATURE_BYTES, TrustedKeys, manifest_signature_key
from localize.regions.mirror_objects import LocalObjects, sha256_file
from localize.regions.pull import (
    _check_signature,
    _download_object,
    _pull_lock,
    _read_state,
    _state_dir,
    _switch,
    _write_atomic,
    read_index,
)
from localize.regions.remote import Remote, open_remote
from localize.regions.safe_files import check_real_folders, read_regular
from localize.regions.schema import (
    MAX_MANIFEST_BYTES,
    MAX_POINTER_BYTES,
    Manifest,
    check_names,
    is_version,
    manifest_key,
    parse_json,
    pointer_key,
    validate_index,
    validate_pointer,
)
from localize.storage.base import TooLarge

__all__ = ["MirrorStatus", "Verified", "mirror_courses", "mirror_status", "older_copies", "verify_mirror"]


@dataclass(frozen=True)
class Verified:
    course: str
    locale: str
    version: str
    checked: int
    repaired: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    relinked: bool = False

    @property
    def message(self) -> str:
        if not (self.repaired or self.removed or self.relinked):
            return f"version {self.version}: {self.checked} files checked, all intact"
        done = [f"{len(self.repaired)} repaired"] if self.repaired else []
        done += [f"{len(self.removed)} not in the manifest removed"] if self.removed else []
        done += ["the live link switched back"] if self.relinked else []
        return f"version {self.version}: {self.checked} files checked, " + ", ".join(done)


@dataclass(frozen=True)
class MirrorStatus:
    course: str
    locale: str
    mirror: str | None
    region: str | None

    @property
    def state(self) -> str:
        if self.mirror is None:
            return "not pulled"
        if self.region is None:
            return "not in the region"
        if self.mirror == self.region:
            return "up to date"
        # ahead: the source holds an older version than the mirror (rolled back there, or an older drive)
        return "behind" if self.region > self.mirror else "ahead (the source holds an older version)"


def mirror_courses(dest: str | os.PathLike[str]) -> dict[tuple[str, str], str]:
    """(course, locale) -> live version, for every course and locale this mirror holds: the version
    its live link serves (a pull or local rollback stopped between its switch and its record leaves
    the record on another), else the one recorded."""
    found: dict[tuple[str, str], str] = {}
    root = Path(dest) / ".localize"
    for state in sorted(root.glob("*/*/state.json")) if root.is_dir() else ():
        course, locale = state.parent.parent.name, state.parent.name
        try:
            check_names(course, locale)
        except LocalizeError:
            continue
        current = _read_state(state.parent).get("current")
        link = Path(dest) / course / locale
        try:
            served = link.resolve() if link.is_symlink() else None
        except (OSError, RuntimeError):
            served = None
        if served is not None and served.parent == state.parent.resolve() and is_version(served.name):
            current = served.name
        if current:
            found[(course, locale)] = str(current)
    return found


def mirror_status(
    location: str,
    dest: str | os.PathLike[str],
    *,
    endpoint_url: str | None = None,
    trust: TrustedKeys | None = None,
    remote: Remote | None = None,
) -> list[MirrorStatus]:
    """Where each course and locale stands, from one read of the region index."""
    remote = remote or open_remote(location, endpoint_url)
    data = read_index(remote, trust)
    index = validate_index(parse_json(data, "region index", remote.describe("index.json")), entries=False)
    region: dict[tuple[str, str], str] = {}
    for course, locales in index.get("courses", {}).items():
        for locale, entry in locales.items():
            if isinstance(course, str) and isinstance(locale, str) and is_version(entry.get("version")):
                try:
                    check_names(course, locale)  # an index (unsigned without trust) names nothing else
                except LocalizeError:
                    continue
                region[(course, locale)] = str(entry["version"])
    mirror = mirror_courses(dest)
    return [
        MirrorStatus(c, ll, mirror.get((c, ll)), region.get((c, ll))) for c, ll in sorted(set(region) | set(mirror))
    ]


def _manifest_for(
    remote: Remote, trust: TrustedKeys | None, state_dir: Path, course: str, locale: str, version: str
) -> Manifest:
    """The manifest of ``version``: the region's (signature checked with ``trust``), recorded
    anew when the mirror's copy differs; the mirror's record when the region no longer has it."""
    key = manifest_key(course, locale, version)
    record = state_dir / "manifests" / f"{version}.json"
    signature_record = record.with_name(record.name + ".sig")
    try:
        data = remote.read(key, MAX_MANIFEST_BYTES)
    except FileNotFoundError:
        try:
            data = read_regular(record, MAX_MANIFEST_BYTES)
        except OSError:
            raise IntegrityError(
                f"neither the region nor this mirror has the manifest of version {version}; pull {course}/{locale} again",
                path=remote.describe(key),
            ) from None
        if trust is not None:  # the mirror's own record is no more trusted than the region
            try:
                signature = read_regular(signature_record, MAX_SIGNATURE_BYTES)
            except OSError:
                raise IntegrityError(
                    f"unverifiable: the region no longer has the manifest of version {version} and this mirror "
                    "kept no signature for its own record; verify against a region (or drive) that still holds "
                    f"that version, or pull {course}/{locale} again",
                    path=str(record),
                ) from None
            trust.verify(data, signature, "manifest recorded by this mirror", str(record))
        return Manifest.from_bytes(data, where=str(record), course=course, locale=locale, version=version)
    except TooLarge:
        raise IntegrityError(
            f"the manifest is larger than {MAX_MANIFEST_BYTES} bytes", path=remote.describe(key)
        ) from None
    try:
        same = read_regular(record, MAX_MANIFEST_BYTES) == data
    except (OSError, TooLarge):
        same = False
    if trust is not None:
        _check_signature(remote, trust, data, "manifest", key, manifest_signature_key(course, locale, version))
    elif not same and hashlib.sha256(data).hexdigest() != _pinned(remote, course, locale, version):
        # unsigned bytes that are neither what this mirror pulled nor what the live pointer pins
        raise IntegrityError(
            f"the region's manifest of version {version} is not the one this mirror pulled, and the region's "
            f"pointer does not pin it (edited in the bucket?); nothing was repaired from it. Pull {course}/{locale} "
            "to take the region's live version, or verify with --trust against a signed region",
            path=remote.describe(key),
        )
    manifest = Manifest.from_bytes(data, where=remote.describe(key), course=course, locale=locale, version=version)
    if not same:
        _write_atomic(record, data)
    if trust is not None:
        _write_atomic(
            signature_record, remote.read(manifest_signature_key(course, locale, version), MAX_SIGNATURE_BYTES)
        )
    return manifest


def _pinned(remote: Remote, course: str, locale: str, version: str) -> str | None:
    """The manifest hash the region's live pointer pins, when that pointer is on ``version``."""
    key = pointer_key(course, locale)
    try:
        pointer = validate_pointer(
            parse_json(remote.read(key, MAX_POINTER_BYTES), "pointer", remote.describe(key)),
            remote.describe(key), course, locale,
        )  # fmt: skip
    except (FileNotFoundError, TooLarge, LocalizeError):
        return None
    return str(pointer["manifest_sha256"]) if pointer["version"] == version else None


def _intact(path: Path, size: int, sha256: str) -> bool:
    try:
        return path.is_file() and not path.is_symlink() and path.stat().st_size == size and sha256_file(path) == sha256
    except OSError:
        return False


def _remove_strays(folder: Path, wanted: set[str]) -> list[str]:
    """Remove from ``folder`` every link, special file and file the manifest does not name, and
    empty folders it does not need, deepest first; links are removed, never followed."""
    removed: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder, topdown=False, followlinks=False):
        here = Path(dirpath)
        for name in filenames + dirnames:
            path = here / name
            rel = path.relative_to(folder).as_posix()
            try:
                mode = os.lstat(path).st_mode
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(mode):
                if not any(path.iterdir()) and not any(w.startswith(rel + "/") for w in wanted):
                    path.rmdir()
            elif not stat.S_ISREG(mode) or rel not in wanted:
                path.unlink()
                removed.append(rel)
    return removed


def _verify_one(
    remote: Remote, dest: Path, course: str, locale: str, trust: TrustedKeys | None, local: LocalObjects
) -> Verified:
    state_dir = _state_dir(dest, course, locale)
    check_real_folders(dest / ".localize", state_dir.parent, state_dir, dest / course)  # before the lock
    with _pull_lock(state_dir, course, locale):
        check_real_folders(dest / ".localize", state_dir.parent, state_dir)
        version = _read_state(state_dir).get("current")
        if not version:
            raise LocalizeError(f"{course}/{locale} has not been pulled into {dest}")
        manifest = _manifest_for(remote, trust, state_dir, course, locale, str(version))
        folder = state_dir / str(version)
        removed: list[str] = []
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            folder.unlink()  # a link planted in place of the version folder: never followed, rebuilt
            removed.append("(a symbolic link in place of the version folder)")
        folder.mkdir(parents=True, exist_ok=True)
        removed += _remove_strays(folder, {f.path for f in manifest.files})
        repaired: list[str] = []
        try:
            for record in manifest.files:
                target = folder / record.path
                if _intact(target, record.size, record.sha256):
                    continue
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                for parent in target.parents:  # a file where a folder of the manifest belongs
                    if parent == folder:
                        break
                    if parent.is_file() or parent.is_symlink():
                        parent.unlink()
                if not local.copy_to(record.sha256, record.size, target):
                    _download_object(remote, record, target, str(version), state_dir / ".downloads")
                repaired.append(record.path)
        finally:
            shutil.rmtree(state_dir / ".downloads", ignore_errors=True)
        link = dest / course / locale
        relinked = not (link.is_symlink() and link.resolve() == folder.resolve())
        if relinked:
            _switch(dest, course, locale, str(version))
    return Verified(
        course, locale, str(version), len(manifest.files), tuple(repaired), tuple(sorted(removed)), relinked
    )


def verify_mirror(
    location: str,
    dest: str | os.PathLike[str],
    *,
    course: str | None = None,
    locale: str | None = None,
    endpoint_url: str | None = None,
    trust: TrustedKeys | None = None,
    remote: Remote | None = None,
) -> list[Verified | LocalizeError]:
    """Re-hash every live file (of ``course``/``locale``, default all the mirror holds) and repair
    what differs from ``location``; one course's failure does not stop the others."""
    remote = remote or open_remote(location, endpoint_url)
    dest_dir = Path(dest)
    held = mirror_courses(dest_dir)
    pairs = sorted(k for k in held if (course is None or k[0] == course) and (locale is None or k[1] == locale))
    if course is not None and locale is not None and not pairs:
        raise LocalizeError(f"{course}/{locale} has not been pulled into {dest_dir}")
    if not pairs:
        raise LocalizeError(
            f"nothing pulled into {dest_dir}{f' for course {course}' if course else ''}: nothing to verify "
            "(is --dest the mirror's site folder? pull first)"
        )
    local = LocalObjects(dest_dir)
    results: list[Verified | LocalizeError] = []
    for c, ll in pairs:
        try:
            results.append(_verify_one(remote, dest_dir, c, ll, trust, local))
        except LocalizeError as e:
            results.append(e)
        except OSError as e:
            results.append(
                LocalizeError(f"cannot verify {c}/{ll}: {e.strerror or type(e).__name__}", path=str(dest_dir))
            )
    return results


def older_copies(dest: Path, course: str, locale: str) -> list[str]:
    """The folders of ``course`` on a mirror named by an older spelling of ``locale`` (iw for he)."""
    try:
        names = sorted(p.name for p in (dest / course).iterdir() if not p.name.startswith("."))
    except OSError:
        return []
    return [n for n in names if n != locale and known_locale(n) == locale]
