"""Opening a course by its location: a folder, an OCW offline .zip, an ``s3://``
prefix or a live ``https://`` site."""

from __future__ import annotations

import os
from pathlib import Path

from localize.errors import SourceError
from localize.storage.sources import FolderSource, S3Source, ZipSource

__all__ = ["open_source"]


def open_source(location: str | os.PathLike[str]) -> FolderSource | ZipSource | S3Source:
    """Open a course folder, .zip archive, s3:// prefix or http(s):// site."""
    text = str(location)
    if text.startswith("s3://"):
        return S3Source(text)
    if text.startswith(("http://", "https://")):
        from localize.storage.sites import open_site  # threads and a cache: only for a live site

        return open_site(text)
    path = Path(location)
    if path.is_file():
        import zipfile  # here: a folder, the common case, does not load it

        if zipfile.is_zipfile(path):
            return ZipSource(path)
        raise SourceError("not a folder or .zip archive", path=str(location))
    if not path.exists():
        raise SourceError("no such file or folder", path=str(location))
    return FolderSource(path)
