"""Uploading a bundle's missing objects to a region, several at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import IO, cast

from localize.regions.bundle import Bundle
from localize.regions.checkpoints import checkpoint
from localize.regions.objects import Digest, Refused, Tee, store_object
from localize.regions.schema import FileRecord
from localize.storage.base import Storage, TooLarge

__all__ = ["UPLOAD_CONCURRENCY", "upload_missing"]

UPLOAD_CONCURRENCY = 4
"""Objects uploaded at once by one publish (each streams its file; a large one in
parts, two in memory at a time; 4 x 2 connections stay within boto3's pool of 10)."""


def upload_missing(
    storage: Storage,
    bundle: Bundle,
    missing: dict[str, FileRecord],
    on_upload: Callable[[str, int], None] | None,
    compress: bool = True,
    workdir: str | None = None,
) -> tuple[int, int]:
    """Stream up every missing object (compressed when that saves bytes:
    :func:`~localize.regions.objects.store_object`), UPLOAD_CONCURRENCY at a time (a boto3
    client is thread-safe); completions are reported in the manifest's order, and each
    entry of ``missing`` becomes the record as stored. The first failure cancels the
    uploads not yet started and is raised once the running ones end. Returns the bytes of
    the files uploaded and the bytes stored."""

    def upload(record: FileRecord) -> FileRecord:
        return store_object(storage, bundle, record, compress, workdir)

    uploaded = stored_bytes = 0
    with ThreadPoolExecutor(max_workers=UPLOAD_CONCURRENCY, thread_name_prefix="localize-upload") as pool:
        futures = [(pool.submit(upload, record), sha, record) for sha, record in missing.items()]
        try:
            for future, sha, record in futures:
                stored = future.result()
                missing[sha] = stored
                uploaded += record.size
                stored_bytes += stored.wire_size
                checkpoint("publish:object-uploaded")
                if on_upload is not None:
                    on_upload(record.path, record.size)
        except BaseException:
            for future, _, _ in futures:
                future.cancel()
            raise
    return uploaded, stored_bytes


def damaged_objects(storage: Storage, records: Iterable[FileRecord]) -> set[str]:
    """The sha256 of each record whose object the region lacks, or holds with other bytes than the
    record says (read whole, inflated when compressed, and hashed): what ``publish --repair`` uploads again."""

    def bad(record: FileRecord) -> bool:
        tee = Tee(cast(IO[bytes], Digest()), record.size, record.encoding == "gzip")
        try:
            stored = storage.download(record.key, cast(IO[bytes], tee), max_bytes=record.wire_size)
            tee.finish()
        except (FileNotFoundError, Refused, TooLarge):
            return True
        return (stored, tee.inflated.size, tee.inflated.h.hexdigest()) != (record.wire_size, record.size, record.sha256)

    unique = list({r.sha256: r for r in records}.values())
    with ThreadPoolExecutor(max_workers=8) as pool:
        return {r.sha256 for r, broken in zip(unique, pool.map(bad, unique), strict=True) if broken}
