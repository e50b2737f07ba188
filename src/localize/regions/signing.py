"""The publisher's side of signed releases: which key a region signs with, and signing what is written.

Publish and rollback write each signature *before* the file it signs: a
manifest's beside it (``versions/V.json.sig``), a pointer's named by the
pointer's sha256 (``signatures/SHA256.sig``), so a mirror reading the old or the
new pointer during a swap finds the signature of exactly what it read. Nothing
read back from a bucket is signed on trust: a pending manifest or a rollback
target must already carry this key's signature. The keys themselves and
verification are in :mod:`.keys` (all a mirror needs).
"""

from __future__ import annotations

import json
import os
from typing import Any

from localize.config import Config, Region
from localize.errors import ConfigError, IntegrityError
from localize.regions.keys import (
    MAX_SIGNATURE_BYTES,
    SIGNING_KEY_ENV,
    Signer,
    TrustedKeys,
    manifest_signature_key,
    pointer_signature_key,
)
from localize.regions.layout import swap_pointer
from localize.regions.schema import (
    MAX_MANIFEST_BYTES,
    MAX_POINTER_BYTES,
    is_version,
    manifest_key,
    pointer_key,
    read_limited,
    to_json,
)
from localize.storage.base import Storage

__all__ = ["region_signer", "signed_live", "signed_manifest", "swap_signed"]


def signed_live(storage: Storage, signer: Signer, course: str, locale: str) -> bool:
    """Whether the live pointer and its manifest carry this key's signatures (publish
    signs the live version anew, as a new version, when they do not)."""
    try:
        pointer = read_limited(storage, pointer_key(course, locale), MAX_POINTER_BYTES)
        signature = read_limited(storage, pointer_signature_key(course, locale, pointer), MAX_SIGNATURE_BYTES)
        if not signer.signed(pointer, signature):
            return False
        version = json.loads(pointer)["version"]
        if not is_version(version):
            return False
        manifest = read_limited(storage, manifest_key(course, locale, version), MAX_MANIFEST_BYTES)
        signature = read_limited(storage, manifest_signature_key(course, locale, version), MAX_SIGNATURE_BYTES)
    except (FileNotFoundError, IntegrityError, ValueError, KeyError, TypeError):
        return False
    return signer.signed(manifest, signature)


def region_signer(region: Region, config: Config | None = None) -> Signer | None:
    """The region's signing key (its ``signing_key``, else LOCALIZE_SIGNING_KEY), or None: unsigned;
    with the region's ``previous_keys`` (public keys) as the key's :attr:`~.keys.Signer.previous`."""

    def resolve(path: str) -> str:
        return config.resolve(path) if config is not None else path

    if region.signing_key:
        signer = Signer.from_file(resolve(region.signing_key))
    elif os.environ.get(SIGNING_KEY_ENV):
        signer = Signer.from_file(os.environ[SIGNING_KEY_ENV])
    else:
        if region.previous_keys:
            raise ConfigError(
                f"region {region.name!r} has previous_keys but no signing key (signing_key, or {SIGNING_KEY_ENV}): "
                "previous keys only matter to a region that signs"
            )
        return None
    if region.previous_keys:
        signer.previous = TrustedKeys.from_files([resolve(p) for p in region.previous_keys])
    return signer


def swap_signed(
    storage: Storage, course: str, locale: str, pointer: dict[str, Any], etag: str | None, signer: Signer | None
) -> None:
    """Swap the pointer; with a signer, its signature goes up first (named by the pointer's sha256,
    so a mirror reading either the old or the new pointer finds the signature of what it read)."""
    if signer is not None:
        data = to_json(pointer)  # the very bytes swap_pointer writes
        storage.put(pointer_signature_key(course, locale, data), signer.sign(data), content_type="application/json")
    swap_pointer(storage, course, locale, pointer, etag)


def signed_manifest(storage: Storage, signer: Signer, course: str, locale: str, version: str) -> bool:
    try:
        data = read_limited(storage, manifest_key(course, locale, version), MAX_MANIFEST_BYTES)
        signature = read_limited(storage, manifest_signature_key(course, locale, version), MAX_SIGNATURE_BYTES)
    except (FileNotFoundError, IntegrityError):
        return False
    return signer.signed(data, signature)
