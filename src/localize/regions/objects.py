"""How a region stores a file's bytes, and how a mirror reads them back.

A publisher stores an object gzip-compressed (``objects/sha256/XX/SHA.gz``) when that saves
bytes, raw (``objects/sha256/XX/SHA``) otherwise; the manifest records which, and the
compressed size, while the sha256 and size stay those of the file itself. Compression is
deterministic (no name, no time in the gzip header, one level), so equal files give equal
objects.

A mirror inflates while it streams (:class:`Inflating`), never holding a whole file, and stops once
the output passes the size the manifest records: a decompression bomb is refused after one chunk.
:class:`Metered` counts the bytes a pull moves and can cap its rate (a token bucket).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Protocol, cast

from localize.errors import PreconditionFailed
from localize.regions.schema import FileRecord, object_key
from localize.storage.base import CHUNK, Storage, list_bounded

__all__ = [
    "COMPRESSIBLE",
    "Digest",
    "Inflating",
    "Metered",
    "Refused",
    "Tee",
    "TokenBucket",
    "copy_stored",
    "gzip_file",
    "plan_records",
    "store_object",
]

COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/xhtml+xml",
    "image/svg+xml",
    "application/x-tex",
    "application/vnd.ms-fontobject",
    "font/ttf",
    "font/otf",
)
"""Content types worth trying to compress; images, video, archives and fonts packed as woff
are compressed already (trying them would cost time for nothing)."""
GZIP_LEVEL = 6
# a compressed object up to this size is written only if absent (one conditional put, in memory)
MAX_CONDITIONAL_BYTES = 32 * 1024 * 1024


def compressible(content_type: str) -> bool:
    return content_type.startswith(COMPRESSIBLE)


def gzip_file(src: IO[bytes], dest: IO[bytes]) -> int:
    """Deterministic gzip of ``src`` into ``dest`` (streamed); returns the compressed size."""
    with gzip.GzipFile(filename="", mode="wb", fileobj=dest, compresslevel=GZIP_LEVEL, mtime=0) as z:
        shutil.copyfileobj(src, z, CHUNK)
    return dest.tell()


class _Opens(Protocol):
    def open(self, path: str) -> IO[bytes]: ...


class _Discard:
    def write(self, block: bytes) -> int:
        return len(block)

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def truncate(self, size: int | None = None) -> int:
        return 0


def _stored_size(storage: Storage, key: str) -> int | None:
    try:
        return storage.download(key, cast(IO[bytes], _Discard()))
    except FileNotFoundError:
        return None  # gone since the listing: uploaded again


LISTING_PAGE = 1000
"""Keys an S3 listing returns a page."""


def _placed(key: str) -> str | None:
    """The name (``SHA`` or ``SHA.gz``) of an object listed where the layout puts it; None for a
    key elsewhere (``objects/sha256/XX/sub/SHA``, ``objects/sha256/zz/SHA``...), which no manifest
    may name as that object."""
    name = key.rsplit("/", 1)[-1]
    sha = name.removesuffix(".gz")
    return name if key == object_key(sha) + name[len(sha) :] else None


def existing_objects(storage: Storage, records: Iterable[FileRecord]) -> set[str]:
    """The names (``SHA`` or ``SHA.gz``) of the objects in the folders where ``records``' objects
    would be. The listing of every object of the region when it takes no more pages than listing
    those folders would (a small region); else only those folders (about 1/256 of the region
    each, listed several at a time), so that what a publish reads is bounded by what it changes,
    not by the region. Keys not where the layout puts them do not count."""
    folders = sorted({object_key(r.sha256).rsplit("/", 1)[0] for r in records})
    keys: Iterable[str] = ()
    if len(folders) == 1:
        keys = storage.list(folders[0])
    elif folders:
        whole = list_bounded(storage, "objects/sha256", LISTING_PAGE * len(folders))
        if whole is not None:
            keys = whole
        else:
            with ThreadPoolExecutor(max_workers=min(8, len(folders))) as pool:
                keys = [key for listed in pool.map(lambda f: list(storage.list(f)), folders) for key in listed]
    return {name for name in map(_placed, keys) if name is not None}


def plan_records(
    records: Iterable[FileRecord], existing: set[str], known: dict[str, FileRecord], storage: Storage, compress: bool
) -> tuple[list[FileRecord], dict[str, FileRecord]]:
    """Each record with the storage of the object it will use, and the objects to upload
    (sha256 -> record). ``known`` maps sha256 to a record of the live manifest (whose object is
    there, stored as it says: the live version's objects are never collected); ``existing`` is
    the names under ``objects/sha256`` (``SHA`` or ``SHA.gz``) of the others
    (:func:`existing_objects`). An existing compressed object that no manifest at hand describes
    (another course's or locale's) is measured by reading it through once: the region's bytes
    decide its size, whatever zlib wrote them."""
    out: list[FileRecord] = []
    missing: dict[str, FileRecord] = {}
    for r in records:
        seen = known.get(r.sha256)
        if seen is not None:
            out.append(FileRecord(*r.content(), seen.encoding, seen.stored_size))
        elif f"{r.sha256}.gz" in existing and (compress or r.sha256 not in existing):
            size = _stored_size(storage, FileRecord(*r.content(), "gzip", 0).key)
            out.append(FileRecord(*r.content(), "gzip", size) if size is not None else r)
            if size is None:
                missing.setdefault(r.sha256, r)
        elif r.sha256 in existing:
            out.append(r)
        else:
            out.append(r)
            missing.setdefault(r.sha256, r)
    return out, missing


def store_object(
    storage: Storage, bundle: _Opens, record: FileRecord, compress: bool, workdir: str | None = None
) -> FileRecord:
    """Upload one object, compressed when that saves bytes; the record as stored."""
    if compress and compressible(record.content_type) and record.size > 256:
        with tempfile.TemporaryFile(dir=workdir) as tmp:
            with bundle.open(record.path) as src:
                stored = gzip_file(src, tmp)
            if stored < record.size:
                tmp.seek(0)
                gz = FileRecord(*record.content(), "gzip", stored)
                if stored > MAX_CONDITIONAL_BYTES:
                    storage.upload(gz.key, tmp, content_type="application/gzip")
                    return gz
                # Only if absent: another publisher may have stored the same file first, with
                # another zlib (other bytes, another size). Its object stays, and the record
                # gets the size the region holds, which is what mirrors check.
                body = tmp.read()
                for attempt in range(4):
                    try:
                        storage.put(gz.key, body, content_type="application/gzip", if_none_match=True)
                        return gz
                    except PreconditionFailed:
                        size = _stored_size(storage, gz.key)
                        if size is not None:
                            return FileRecord(*record.content(), "gzip", size)
                        # not there: another conditional write still in progress (S3's 409), or
                        # deleted since by garbage collection; ask again, conditionally
                        time.sleep(0.2 * (attempt + 1))
                storage.upload(gz.key, io.BytesIO(body), content_type="application/gzip")
                return gz
    with bundle.open(record.path) as src:
        storage.upload(object_key(record.sha256), src, content_type=record.content_type)
    return FileRecord(*record.content())


class Refused(Exception):
    """An object does not inflate to what the manifest says (too large, damaged, trailing bytes)."""


class _Sink(Protocol):
    def write(self, block: bytes) -> int: ...
    def seek(self, offset: int, whence: int = 0) -> int: ...
    def truncate(self, size: int | None = None) -> int: ...


class Inflating:
    """A writer that inflates gzip bytes into ``out``, refusing output past ``limit`` bytes.
    A retry's ``seek(0)`` starts it over."""

    def __init__(self, out: _Sink, limit: int) -> None:
        self.out = out
        self.limit = limit
        self._reset()

    def _reset(self) -> None:
        self.d = zlib.decompressobj(wbits=31)
        self.produced = 0

    def _ended(self) -> bool:
        return bool(self.d.eof)

    def write(self, block: bytes) -> int:
        if self._ended():
            if block:
                raise Refused("bytes after the end of the compressed object")
            return 0
        data = block
        while data:
            try:
                piece = self.d.decompress(data, min(CHUNK, self.limit - self.produced + 1))  # bounded memory
            except zlib.error as e:
                raise Refused(f"not valid gzip ({e})") from None
            self.produced += len(piece)
            if self.produced > self.limit:
                raise Refused(f"inflates to more than the {self.limit} bytes the manifest records")
            self.out.write(piece)
            data = self.d.unconsumed_tail
            if self._ended() and (data or self.d.unused_data):
                raise Refused("bytes after the end of the compressed object")
        return len(block)

    def finish(self) -> None:
        if not self._ended():
            raise Refused("the compressed object is cut short")

    def seek(self, offset: int, whence: int = 0) -> int:
        if offset == 0 and whence == 0:
            self._reset()
        return self.out.seek(offset, whence)

    def truncate(self, size: int | None = None) -> int:
        return self.out.truncate(size)


class TokenBucket:
    """At most ``rate`` bytes a second on average, in bursts of up to one second's worth."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("the rate must be positive")
        self.rate, self.clock, self.sleep = rate, clock, sleep
        self.capacity = max(rate, 1.0)
        self.tokens = self.capacity
        self.last = clock()

    def take(self, n: int) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        self.tokens -= n
        if self.tokens < 0:
            self.sleep(-self.tokens / self.rate)


class _Remote(Protocol):
    def read(self, key: str, max_bytes: int) -> bytes: ...
    def download(self, key: str, dest: IO[bytes], max_bytes: int, block: int = ...) -> int: ...
    def describe(self, key: str = "") -> str: ...


class _Counting:
    def __init__(self, out: IO[bytes], meter: Metered) -> None:
        self.out, self.meter = out, meter

    def write(self, block: bytes) -> int:
        self.meter.moved(len(block))
        return self.out.write(block)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.out.seek(offset, whence)

    def truncate(self, size: int | None = None) -> int:
        return self.out.truncate(size)


class Metered:
    """A remote whose reads are counted (``bytes_moved``: what came over the wire, retries
    included) and, with ``max_rate`` (bytes a second), paced by a :class:`TokenBucket`."""

    def __init__(self, remote: _Remote, max_rate: float | None = None) -> None:
        self.remote = remote
        self.bucket = TokenBucket(max_rate) if max_rate else None
        # paced, small blocks (an eighth of a second's worth): the network sends no faster than read
        self.block = CHUNK if not max_rate else int(min(CHUNK, max(4096, max_rate // 8)))
        self.bytes_moved = 0

    def moved(self, n: int) -> None:
        self.bytes_moved += n
        if self.bucket is not None:
            self.bucket.take(n)

    def read(self, key: str, max_bytes: int) -> bytes:
        if self.bucket is not None:  # paced: in small blocks too (a manifest may be 64 MiB)
            buffer = io.BytesIO()
            self.download(key, buffer, max_bytes)
            return buffer.getvalue()
        data = self.remote.read(key, max_bytes)
        self.moved(len(data))
        return data

    def download(self, key: str, dest: IO[bytes], max_bytes: int, block: int = CHUNK) -> int:
        counting = cast(IO[bytes], _Counting(dest, self))
        return self.remote.download(key, counting, max_bytes, min(block, self.block))

    def describe(self, key: str = "") -> str:
        return self.remote.describe(key)


class Digest:
    """Where the file's bytes go while they are hashed."""

    def __init__(self) -> None:
        self.h = hashlib.sha256()
        self.size = 0

    def write(self, block: bytes) -> int:
        self.h.update(block)
        self.size += len(block)
        return len(block)

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def truncate(self, size: int | None = None) -> int:
        return 0


class Tee:
    """The stored bytes to the file, the file's own (inflated if need be) into a hash; seek(0) restarts."""

    def __init__(self, f: IO[bytes], limit: int, gzipped: bool) -> None:
        self.f, self.limit, self.gzipped = f, limit, gzipped
        self._reset()

    def _reset(self) -> None:
        self.inflated = Digest()
        self.inflating = Inflating(self.inflated, self.limit) if self.gzipped else None

    def write(self, block: bytes) -> int:
        (self.inflating or self.inflated).write(block)
        return self.f.write(block)

    def seek(self, offset: int, whence: int = 0) -> int:
        self._reset()
        return self.f.seek(offset, whence)

    def truncate(self, size: int | None = None) -> int:
        return self.f.truncate(size)

    def finish(self) -> None:
        if self.inflating is not None:
            self.inflating.finish()


def _stored_intact(path: Path, record: FileRecord) -> bool:
    """Whether ``path`` already holds the object of ``record`` as the region stores it."""
    if not path.is_file() or path.is_symlink() or path.stat().st_size != record.wire_size:
        return False
    tee = Tee(cast(IO[bytes], Digest()), record.size, record.encoding == "gzip")  # the stored bytes go nowhere
    try:
        with path.open("rb") as f:
            while block := f.read(CHUNK):
                tee.write(block)
        tee.finish()
    except Refused:
        return False
    return tee.inflated.size == record.size and tee.inflated.h.hexdigest() == record.sha256


def copy_stored(storage: Storage, record: FileRecord, target: Path) -> bool:
    """Copy the object of ``record`` as the region stores it (compressed or raw) to ``target``,
    checking the file it holds (a compressed one is inflated on the way, never kept inflated);
    False when ``target`` held it already. A mismatch is :class:`Refused`."""
    if _stored_intact(target, record):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.part")
    part.unlink(missing_ok=True)
    fd = os.open(part, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)  # never through a link
    try:
        with os.fdopen(fd, "w+b") as f:
            tee = Tee(f, record.size, record.encoding == "gzip")
            storage.download(record.key, cast(IO[bytes], tee), max_bytes=record.wire_size)
            tee.finish()
        if tee.inflated.h.hexdigest() != record.sha256 or tee.inflated.size != record.size:
            raise Refused(f"does not hold the file of sha256 {record.sha256}")
        if part.stat().st_size != record.wire_size:
            raise Refused(f"is not the {record.wire_size} bytes the manifest records")
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, target)
    return True
