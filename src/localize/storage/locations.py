"""Opening a storage location by its name: a folder path or ``s3://bucket/prefix``."""

from __future__ import annotations

import os

from localize.storage.base import LocalStorage, Storage

__all__ = ["open_storage"]


def open_storage(location: str | os.PathLike[str], endpoint_url: str | None = None) -> Storage:
    """A folder path, or ``s3://bucket/prefix`` (endpoint from ``endpoint_url``,
    ``?endpoint=...``, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)."""
    text = str(location)
    if text.startswith("s3://"):
        # boto3 loads only when an S3 location is opened
        from localize.storage.s3 import S3Storage, parse_s3_url

        return S3Storage(parse_s3_url(text, endpoint_url=endpoint_url))
    return LocalStorage(location)
