"""Garbage collection of a region's objects, safe against concurrent publishers by construction.

A publisher writes a lease (``leases/COURSE/LL/TOKEN.json``) naming every object
of its new version *before* it checks which objects the region has, then waits
while a live collector holds ``gc/lock.json``. A collector takes that lock
(If-None-Match) *before* it reads manifests and leases, deletes only objects none
of them names, and releases the lock when it has stopped deleting. Whichever
comes first, the object a publisher reuses survives (see :func:`prune`).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from localize.errors import LocalizeError, PreconditionFailed, StorageError, TransientStorageError
from localize.regions.checkpoints import checkpoint
from localize.regions.keys import index_signature_key, pointer_signature_key
from localize.regions.layout import read_pointer, versions
from localize.regions.schema import (
    MAX_INDEX_BYTES,
    MAX_MANIFEST_BYTES,
    MAX_POINTER_BYTES,
    Manifest,
    lease_prefix,
    manifest_key,
    parse_json,
    pointer_key,
    read_limited,
    to_json,
)
from localize.storage.base import Storage, TooLarge

__all__ = [
    "GC_LOCK_KEY", "GC_MAX_SECONDS", "GC_WAIT_SECONDS", "LEASE_TTL_SECONDS", "holder_identity", "prune",
    "wait_for_gc", "write_lease",
]  # fmt: skip

LEASE_TTL_SECONDS = 24 * 3600.0  # a lease older than this is a dead publisher's; a publish must swap before half of it
GC_MAX_SECONDS = 300.0  # a collector stops deleting this long after taking the lock
GC_WAIT_SECONDS = GC_MAX_SECONDS + 60.0  # the longest a publisher waits for one lock (its ETag), skew included
GC_LOCK_KEY = "gc/lock.json"
CLOCK_SKEW_SECONDS = 60.0

# -- who holds a lock or a lease -------------------------------------------------------------------

_TOKEN: tuple[int, str] = (-1, "")


def _process_token() -> str:
    """A random token of this process (a forked child gets its own)."""
    global _TOKEN
    if _TOKEN[0] != os.getpid():
        _TOKEN = (os.getpid(), secrets.token_hex(8))
    return _TOKEN[1]


def _read_id(path: str, *, link: bool = False) -> str | None:
    try:
        value = os.readlink(path) if link else open(path, encoding="ascii").read(200).strip()  # noqa: SIM115
    except (OSError, ValueError):
        return None
    return value or None


def holder_identity() -> dict[str, Any]:
    """What a lock or lease records of its writer, so that another process can tell whether
    it is gone: host name, boot id and pid namespace (containers may share a host name and a
    kernel, never a pid namespace), pid and a random per-process token."""
    return {
        "host": socket.gethostname(),
        "boot": _read_id("/proc/sys/kernel/random/boot_id"),
        "pidns": _read_id("/proc/self/ns/pid", link=True),
        "pid": os.getpid(),
        "process": _process_token(),
    }


# -- leases and garbage collection -----------------------------------------------------------------


def write_lease(
    storage: Storage, course: str, locale: str, objects: set[str], manifests: set[str] | None = None
) -> str:
    """Announce the objects (and manifests: a rollback's target) a publish is about to
    reference; returns the lease key.

    Written before the publisher looks at which objects exist, so that a
    collector either sees it (and spares them) or took its lock before it was
    written (and the publisher waits for that collector, see :func:`wait_for_gc`)."""
    key = f"{lease_prefix(course, locale)}/{secrets.token_hex(8)}.json"
    body = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **holder_identity(),
        "objects": sorted(objects),
    }
    if manifests:
        body["manifests"] = sorted(manifests)
    storage.put(key, to_json(body), content_type="application/json", if_none_match=True)
    return key


def _dead_here(holder: dict[str, Any]) -> bool:
    """Whether the process that wrote a lock or lease ran on this machine (same host name,
    boot and pid namespace) and is gone. Anything less certain counts as alive (until it expires)."""
    me = holder_identity()
    if any(me[k] is None or holder.get(k) != me[k] for k in ("host", "boot", "pidns")):
        return False
    if type(holder.get("pid")) is not int or not isinstance(holder.get("process"), str):
        return False
    if holder["pid"] == me["pid"]:
        return bool(holder["process"] != me["process"])  # our pid, another process: it is gone
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False
    return False


def _lock_is_dead(storage: Storage) -> tuple[bool, str | None]:
    """(whether the GC lock is absent or held by nobody alive, its ETag when present)."""
    try:
        data, etag = storage.read_with_etag(GC_LOCK_KEY, MAX_POINTER_BYTES)
    except FileNotFoundError:
        return True, None
    except TooLarge as e:  # never read whole; not a lock a collector of ours wrote
        return True, e.etag
    try:
        lock = json.loads(data[:MAX_POINTER_BYTES])
        created = datetime.fromisoformat(str(lock["created"])).timestamp()
        expires = datetime.fromisoformat(str(lock["expires"])).timestamp()
    except (ValueError, KeyError, TypeError, RecursionError, OverflowError):
        return True, etag  # not a lock a collector of ours wrote
    now = time.time()
    if created > now + CLOCK_SKEW_SECONDS:
        return True, etag  # from the future: not a collector of ours (clocks agree within a minute)
    # a collector stops deleting GC_MAX_SECONDS after taking the lock, whatever the lock claims
    if now > min(expires, created + GC_MAX_SECONDS) + CLOCK_SKEW_SECONDS:
        return True, etag
    # a collector that died deletes nothing any more
    return _dead_here(lock), etag


def wait_for_gc(storage: Storage, *, poll: float = 0.2, limit: float = GC_WAIT_SECONDS) -> None:
    """Return once no live collector holds the region's GC lock.

    Waits at most ``limit`` seconds for any one lock (its ETag): a lock still there
    after that is not one a collector of ours would hold (TransientStorageError)."""
    first_seen: dict[str, float] = {}
    while True:
        dead, etag = _lock_is_dead(storage)
        if dead:
            return
        seen = first_seen.setdefault(str(etag), time.monotonic())
        if time.monotonic() - seen > limit:
            raise TransientStorageError(
                f"a garbage collection lock has been held for over {limit:.0f} s, longer than any collector "
                "of ours holds it; nothing was switched. If no collector is running, delete the lock and "
                "publish again",
                path=storage.describe(GC_LOCK_KEY),
            )
        time.sleep(poll)


def _take_gc_lock(storage: Storage) -> str | None:
    """The lock's body (to release it) if we got it, None if a live collector has it."""
    now = datetime.now(UTC)
    body = to_json(
        {
            **holder_identity(),
            "token": secrets.token_hex(8),
            "created": now.isoformat(timespec="seconds"),
            "expires": (now + timedelta(seconds=GC_MAX_SECONDS)).isoformat(timespec="seconds"),
        }
    )
    try:
        storage.put(GC_LOCK_KEY, body, content_type="application/json", if_none_match=True)
        return body.decode()
    except PreconditionFailed:
        dead, etag = _lock_is_dead(storage)
        if not dead or etag is None:
            return None
        try:
            storage.put(GC_LOCK_KEY, body, content_type="application/json", if_match=etag)  # take over a dead one
        except PreconditionFailed:
            return None
        return body.decode()


def _references(storage: Storage, skip: set[str], deadline: float) -> tuple[set[str], set[str]] | None:
    """Every object a manifest (but those in ``skip``) or a live lease names, and every
    manifest a live lease names (a rollback's target); None when one cannot be read or
    time ran out (then nothing may be deleted)."""
    used: set[str] = set()
    manifests: set[str] = set()
    for key in storage.list("courses"):
        if time.monotonic() > deadline:
            return None
        parts = key.split("/")
        if len(parts) == 5 and parts[3] == "versions" and key.endswith(".json") and key not in skip:
            try:
                data = read_limited(storage, key, MAX_MANIFEST_BYTES)
                used.update(f.sha256 for f in Manifest.from_bytes(data, where=storage.describe(key)).files)
            except FileNotFoundError:
                continue  # pruned meanwhile by another course's collector
            except LocalizeError:
                return None
    cutoff = time.time() - LEASE_TTL_SECONDS
    for key, modified in storage.list_with_times("leases"):
        if time.monotonic() > deadline:
            return None
        if modified < cutoff:
            storage.delete(key)  # a publisher that died long ago
            continue
        try:
            lease = parse_json(read_limited(storage, key, MAX_MANIFEST_BYTES), "lease", storage.describe(key))
            objects = lease["objects"]
            named = lease.get("manifests", [])
            if not isinstance(objects, list) or not isinstance(named, list):
                return None
            if _dead_here(lease):
                storage.delete(key)  # its publisher was killed: it will never swap a pointer
                continue
            used.update(str(o) for o in objects)
            manifests.update(str(m) for m in named)
        except FileNotFoundError:
            continue  # its publish finished: its manifest (read above or newer) names the objects
        except (LocalizeError, KeyError, TypeError):
            return None
    return used, manifests


def prune(
    storage: Storage, course: str, locale: str, keep: int, grace_seconds: float = 3600.0
) -> tuple[tuple[str, ...], int]:
    """Drop versions beyond the newest ``keep`` (never the live or previous one) and
    the objects that no other manifest of the region and no lease names.

    Safe against concurrent publishers by construction: the collector takes
    ``gc/lock.json`` (If-None-Match) *before* it reads manifests and leases, and
    a publisher writes its lease *before* it checks which objects exist and then
    waits while a live collector holds the lock. So for any object a publisher
    reuses, either the collector read the lease (and spares the object) or the
    collector's lock was there before the publisher looked, and the publisher
    checked only after the collector had finished deleting. A collector stops
    deleting GC_MAX_SECONDS after taking the lock (the lock says so), so a
    publisher never waits on a dead one longer than that. Objects younger than
    ``grace_seconds`` are kept too. Object deletion comes before the manifests
    are removed, so an interrupted prune is finished by the next one."""
    pointer, _ = read_pointer(storage, course, locale)
    protected = {pointer.get("version"), pointer.get("previous")} if pointer else set()
    all_versions = versions(storage, course, locale)
    doomed = [v for v in all_versions[: max(0, len(all_versions) - keep)] if v not in protected]
    if not doomed:
        return (), 0
    started = time.monotonic()
    deadline = started + GC_MAX_SECONDS * 0.8  # publishers stop waiting for us at GC_MAX_SECONDS
    lock = _take_gc_lock(storage)
    if lock is None:
        return (), 0  # another collector is at work; the next publish prunes
    deleted = 0
    try:
        # a rollback may have landed since the first read: spare whatever the pointer names now
        pointer, _ = read_pointer(storage, course, locale)
        if pointer:
            doomed = [v for v in doomed if v not in (pointer.get("version"), pointer.get("previous"))]
        doomed_keys = {manifest_key(course, locale, v) for v in doomed}
        found = _references(storage, doomed_keys, deadline) if doomed else None
        if found is None:
            return (), 0  # nothing may be deleted, not even a manifest
        used, leased = found
        # a rollback is about to make one of them live: keep its manifest (its lease names its objects)
        doomed = [v for v in doomed if manifest_key(course, locale, v) not in leased]
        doomed_keys -= leased
        cutoff = time.time() - grace_seconds
        for key, modified in storage.list_with_times("objects/sha256"):
            if time.monotonic() > deadline:
                break  # leave the rest for next time
            if key.rsplit("/", 1)[-1].removesuffix(".gz") not in used and modified <= cutoff:
                storage.delete(key)
                deleted += 1
                checkpoint("prune:object-deleted")
        if time.monotonic() > deadline:
            return (), deleted  # a rollback may no longer wait for us: its target's manifest stays
        for key in sorted(doomed_keys):
            storage.delete(key)
            storage.delete(key + ".sig")  # the manifest's detached signature, when it was signed
        _prune_pointer_signatures(storage, course, locale)
        _prune_index_signatures(storage)
        checkpoint("prune:done")
    finally:
        _release_gc_lock(storage, lock)
    return tuple(doomed), deleted


POINTER_SIGNATURE_GRACE = 24 * 3600.0
"""Signatures of pointers that are no longer live are kept this long: a publisher writes its new
pointer's signature before the swap, and a mirror may still hold a pointer it read a while ago."""


def _prune_pointer_signatures(storage: Storage, course: str, locale: str) -> None:
    """Delete the signatures of earlier pointers of ``course``/``locale`` (never the live one's)."""
    try:
        live = pointer_signature_key(
            course, locale, read_limited(storage, pointer_key(course, locale), MAX_POINTER_BYTES)
        )
    except FileNotFoundError:
        return
    cutoff = time.time() - POINTER_SIGNATURE_GRACE
    prefix = live.rsplit("/", 1)[0]
    for key, modified in storage.list_with_times(prefix):
        if key != live and key.endswith(".sig") and modified <= cutoff:
            storage.delete(key)


def _prune_index_signatures(storage: Storage) -> None:
    """Delete the signatures of earlier region indexes (never the live index's), after the same grace."""
    try:
        live = index_signature_key(read_limited(storage, "index.json", MAX_INDEX_BYTES))
    except FileNotFoundError:
        return
    cutoff = time.time() - POINTER_SIGNATURE_GRACE
    for key, modified in storage.list_with_times("signatures/index"):
        if key != live and key.endswith(".sig") and modified <= cutoff:
            storage.delete(key)


def _release_gc_lock(storage: Storage, lock: str) -> None:
    """Delete the GC lock if it is still ours: its owner token is re-checked just before
    the delete, so a successor that took over (after GC_MAX_SECONDS) keeps its lock."""
    token = json.loads(lock)["token"]
    try:
        data = storage.read_with_etag(GC_LOCK_KEY, MAX_POINTER_BYTES)[0]
        if json.loads(data[:MAX_POINTER_BYTES]).get("token") == token and data.decode() == lock:
            storage.delete(GC_LOCK_KEY)
    except (FileNotFoundError, StorageError, ValueError, AttributeError, RecursionError):
        pass
