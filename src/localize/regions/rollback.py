"""Roll a region's live version of a course back to an earlier one.

A rollback writes a new pointer (the publisher's protocol: lease, wait for any
collector, check the target whole, swap) and then the region index. The swap is
the rollback; when the index cannot be written after it, the error says so, and
``rollback --to`` the version now live only brings the index up to date (rolling
back again without ``--to`` would return to the release that was rolled back).
"""

from __future__ import annotations

from datetime import UTC, datetime

from localize.errors import ConfigError, IntegrityError, LocalizeError, TransientStorageError
from localize.regions.checkpoints import checkpoint
from localize.regions.gc import wait_for_gc, write_lease
from localize.regions.keys import Signer, show_fingerprint
from localize.regions.layout import (
    index_entry,
    make_pointer,
    never_published,
    read_live_versions,
    read_manifest,
    read_pointer,
    update_index,
    versions,
)
from localize.regions.schema import MAX_MANIFEST_BYTES, Manifest, manifest_key, read_limited
from localize.regions.signing import signed_live, signed_manifest, swap_signed
from localize.storage.base import Storage

__all__ = ["rollback"]


def _index_names(storage: Storage, course: str, locale: str) -> str | None:
    """The version the region index names for ``course``/``locale`` (None when unreadable)."""
    try:
        return read_live_versions(storage).get((course, locale))
    except LocalizeError:
        return None


def rollback(
    storage: Storage, region: str, course: str, locale: str, to: str | None = None, *, signer: Signer | None = None
) -> tuple[str, str]:
    """Point the live version back (default: the previous one). Returns (from, to).

    Follows the publisher's protocol (see :mod:`localize.regions.gc`): a lease
    naming the target's manifest and objects is written first, then any live
    collector is waited for, and only then is the target checked to be whole and
    the pointer swapped. A collector either reads the lease and spares the
    target, or finished deleting before the check. With ``signer``, the target's
    manifest must carry this key's signature (a bucket's bytes are never signed
    on trust) and the new pointer is signed."""
    pointer, etag = read_pointer(storage, course, locale)
    if pointer is None:
        raise never_published(storage, region, course, locale)
    if to is not None and to == pointer["version"]:  # live already (a rollback stopped after its swap): the index
        entry = index_entry(pointer, read_manifest(storage, course, locale, to))
        update_index(storage, region, course, locale, entry, pointer["updated"], signer)
        return to, to
    target = to or pointer.get("previous")
    if to is None and target and _index_names(storage, course, locale) == target:
        raise ConfigError(
            f"the region index still names {target} while {pointer['version']} is live: the last rollback or "
            f"publish of {course}/{locale} in {region!r} stopped before updating the index. Say which you mean: "
            f"--to {pointer['version']} keeps it live and brings the index up to date, --to {target} makes {target} "
            "live again"
        )
    if not target:
        others = [v for v in versions(storage, course, locale) if v != pointer.get("version")]
        raise ConfigError(
            f"{course}/{locale} in {region!r} has no previous version to roll back to"
            + (f"; name one with --to ({', '.join(others[-3:])})" if others else ": it has only the live one")
        )
    available = versions(storage, course, locale)
    if target not in available:
        raise ConfigError(
            f"no version {target!r} of {course}/{locale} in {region!r} (versions: {', '.join(available) or 'none'})"
        )
    key = manifest_key(course, locale, target)
    pruned = ConfigError(f"version {target} of {course}/{locale} was pruned meanwhile; not rolling back")
    try:
        manifest = read_manifest(storage, course, locale, target)
    except FileNotFoundError:
        raise pruned from None
    lease = write_lease(storage, course, locale, {f.sha256 for f in manifest.files}, {key})
    try:
        wait_for_gc(storage)
        try:
            manifest_bytes = read_limited(storage, key, MAX_MANIFEST_BYTES)
        except FileNotFoundError:
            raise pruned from None
        manifest = Manifest.from_bytes(
            manifest_bytes, where=storage.describe(key), course=course, locale=locale, version=target
        )
        if signer is not None and not signed_manifest(storage, signer, course, locale, target):
            raise IntegrityError(
                f"version {target} is not signed by this signing key ({show_fingerprint(signer.fingerprint)}); "
                "not rolling back to it (publish the course again instead)",
                path=storage.describe(key),
            )
        missing = [f.path for f in manifest.files if not storage.exists(f.key)]
        if missing:
            raise IntegrityError(
                f"version {target} lacks {len(missing)} object{'s' if len(missing) != 1 else ''} (first: "
                f"{missing[0]}); not rolling back to it. To serve that content again, publish it anew (a new "
                "version uploads what the region lacks)",
                path=storage.describe(key),
            )
        new_pointer = make_pointer(
            course, locale, target, manifest_bytes, pointer["version"], datetime.now(UTC), pointer["updated"], region,
            trusted=signer is not None and signed_live(storage, signer, course, locale),
        )  # fmt: skip
        swap_signed(storage, course, locale, new_pointer, etag, signer)
        checkpoint("rollback:pointer-swapped")
        try:
            update_index(
                storage, region, course, locale, index_entry(new_pointer, manifest), new_pointer["updated"], signer
            )
        except LocalizeError as e:
            raise TransientStorageError(
                f"{target} is live (rolled back from {pointer['version']}), but the region index still names "
                f"{pointer['version']}: {e.message}. Finish with `localize rollback --to {target}` (same region, "
                f"course and locale); rollback without --to would go back to {pointer['version']}",
                path=storage.describe("index.json"),
            ) from e
    finally:
        storage.delete(lease)
    return pointer["version"], target
