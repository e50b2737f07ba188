"""The S3 backend of the storage interface (the only module that imports boto3).

Works with AWS S3 and S3-compatible servers (SeaweedFS, MinIO, Ceph): path-style
addressing and SigV4 for custom endpoints, credentials from the usual AWS
sources (environment, profile, instance role), the endpoint from the location,
``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``. Throttling, 5xx answers and
dropped connections are retried with exponential backoff; 4xx answers are not.
Errors never carry credentials: they name the bucket, key and S3 error code.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import urlsplit

from localize.errors import (
    PROXY_VARIABLES,
    PermanentStorageError,
    PreconditionFailed,
    StorageError,
    TransientStorageError,
    proxy_with_password,
)
from localize.storage.base import CHUNK, TooLarge, check_key

__all__ = ["PreconditionFailed", "S3Location", "S3Storage", "client_for", "parse_s3_url"]

MAX_ATTEMPTS = 5
MULTIPART_THRESHOLD = 64 * 1024 * 1024  # larger uploads go in parts of MULTIPART_CHUNK, two at a time
MULTIPART_CHUNK = 8 * 1024 * 1024  # at most two parts are read into memory at a time


class S3Location:
    """``s3://bucket/prefix`` plus the endpoint to reach it."""

    def __init__(
        self, bucket: str, prefix: str = "", endpoint_url: str | None = None, region: str | None = None
    ) -> None:
        if not bucket:
            raise PermanentStorageError("an S3 location needs a bucket: s3://BUCKET/PREFIX")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.region = region

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def parse_s3_url(url: str, *, endpoint_url: str | None = None, region: str | None = None) -> S3Location:
    """``s3://bucket/prefix``; ``?endpoint=http://host:port`` may name the endpoint."""
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise PermanentStorageError(f"not an S3 location: {url!r} (expected s3://BUCKET/PREFIX)")
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    return S3Location(parts.netloc, parts.path, query.get("endpoint", endpoint_url), query.get("region", region))


def _client(location: S3Location) -> Any:
    import boto3
    from botocore.config import Config

    endpoint = location.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if endpoint else "auto"},
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
    )
    region = location.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name=region, config=config)


def client_for(endpoint_url: str, access_key: str, secret_key: str, *, max_attempts: int = 2) -> Any:
    """A client with explicit credentials for a custom endpoint (local servers, tests)."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": max_attempts, "mode": "standard"},
        ),
    )


class S3Storage:
    """Objects under ``s3://bucket/prefix/``."""

    def __init__(self, location: S3Location | str, *, client: Any = None) -> None:
        self.location = parse_s3_url(location) if isinstance(location, str) else location
        self.client = client if client is not None else _client(self.location)

    # -- helpers ---------------------------------------------------------------
    def _key(self, key: str) -> str:
        key = check_key(key)
        return f"{self.location.prefix}/{key}" if self.location.prefix else key

    def describe(self, key: str = "") -> str:
        base = str(self.location)
        return f"{base.rstrip('/')}/{key}" if key else base

    def _error(self, e: Exception, action: str, key: str) -> StorageError:
        return s3_error(e, action, self.describe(key))

    # -- the Storage protocol ----------------------------------------------------
    def read_bytes(self, key: str) -> bytes:
        return self.read_with_etag(key)[0]

    def read_with_etag(self, key: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_object(Bucket=self.location.bucket, Key=self._key(key))
            body, etag = response["Body"], response.get("ETag", "")
            if max_bytes is None:
                return body.read(), etag
            length = int(response.get("ContentLength") or 0)
            data = b"" if length > max_bytes else body.read(max_bytes + 1)
            if length <= max_bytes and len(data) <= max_bytes:
                return data, etag
            body.close()
            error = TooLarge(f"larger than the {max_bytes} bytes allowed here; not read", path=self.describe(key))
            error.etag = etag
            raise error
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(self.describe(key)) from None
            raise self._error(e, "read", key) from e
        except BotoCoreError as e:
            raise self._error(e, "read", key) from e

    def download(self, key: str, dest: IO[bytes], *, max_bytes: int | None = None, block: int = CHUNK) -> int:
        """Stream the object into ``dest`` a chunk at a time (never whole in memory)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_object(Bucket=self.location.bucket, Key=self._key(key))
            length = response.get("ContentLength")
            if max_bytes is not None and isinstance(length, int) and length > max_bytes:
                response["Body"].close()
                raise TooLarge(
                    f"larger than the {max_bytes} bytes allowed here ({length} bytes); not read",
                    path=self.describe(key),
                )
            total = 0
            for data in response["Body"].iter_chunks(block):
                total += len(data)
                if max_bytes is not None and total > max_bytes:
                    response["Body"].close()
                    raise TooLarge(
                        f"larger than the {max_bytes} bytes allowed here; stopped reading", path=self.describe(key)
                    )
                dest.write(data)
            return total
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(self.describe(key)) from None
            raise self._error(e, "read", key) from e
        except BotoCoreError as e:
            raise self._error(e, "read", key) from e

    def upload(self, key: str, src: IO[bytes], *, content_type: str | None = None) -> None:
        """Stream ``src`` up: one PUT below MULTIPART_THRESHOLD, a multipart upload above
        (S3 makes the object visible only when complete)."""
        from boto3.s3.transfer import TransferConfig
        from botocore.exceptions import BotoCoreError, ClientError

        config = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD,
            multipart_chunksize=MULTIPART_CHUNK,
            max_concurrency=2,
            max_io_queue=4,
            use_threads=True,
        )
        config.max_in_memory_upload_chunks = 2  # s3transfer reads parts of a stream into memory: 10 by default
        extra = {"ContentType": content_type} if content_type else {}
        try:
            self.client.upload_fileobj(src, self.location.bucket, self._key(key), ExtraArgs=extra, Config=config)
        except (ClientError, BotoCoreError) as e:
            raise self._error(e, "write", key) from e
        except Exception as e:  # boto3's transfer manager wraps failures in its own S3UploadFailedError
            cause = e.__cause__ or e.__context__
            if isinstance(cause, ClientError | BotoCoreError):
                raise self._error(cause, "write", key) from e
            raise self._error(e, "write", key) from e

    def write_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> str:
        return self.put(key, data, content_type=content_type)

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str | None = None,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> str:
        """Write an object; with ``if_none_match`` only if it does not exist, with
        ``if_match`` only if its ETag is still that one. Returns the new ETag."""
        from botocore.exceptions import BotoCoreError, ClientError

        args: dict[str, Any] = {"Bucket": self.location.bucket, "Key": self._key(key), "Body": data}
        if content_type:
            args["ContentType"] = content_type
        if if_none_match:
            args["IfNoneMatch"] = "*"
        if if_match is not None:
            args["IfMatch"] = if_match
        try:
            return str(self.client.put_object(**args).get("ETag", ""))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise PreconditionFailed("someone else changed this object first", path=self.describe(key)) from None
            raise self._error(e, "write", key) from e
        except BotoCoreError as e:
            raise self._error(e, "write", key) from e

    def exists(self, key: str) -> bool:
        return self.version(key) is not None

    def version(self, key: str) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            head = self.client.head_object(Bucket=self.location.bucket, Key=self._key(key))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise self._error(e, "check", key) from e
        except BotoCoreError as e:
            raise self._error(e, "check", key) from e
        return str(head.get("ETag", ""))

    def list(self, prefix: str = "") -> Iterator[str]:
        return iter([key for key, _ in self.list_with_times(prefix)])

    def list_bounded(self, prefix: str, limit: int) -> tuple[str, ...] | None:
        """:func:`~localize.storage.base.list_bounded` in at most ``limit`` // 1000 + 1 listing pages."""
        base, full = self._prefix(prefix)
        pages = self._pages(prefix, Prefix=full, PaginationConfig={"MaxItems": limit + 1})  # type: ignore[arg-type]
        keys = [
            obj["Key"][len(base) + 1 :] if base else obj["Key"] for page in pages for obj in page.get("Contents", ())
        ]
        return tuple(sorted(keys)) if len(keys) <= limit else None

    def list_with_times(self, prefix: str = "") -> Iterator[tuple[str, float]]:
        return iter([(key, obj["LastModified"].timestamp()) for key, obj in self._listing(prefix)])

    def list_versions(self, prefix: str = "") -> Iterator[tuple[str, str]]:
        return iter([(key, str(obj.get("ETag", ""))) for key, obj in self._listing(prefix)])

    def list_folders(self, prefix: str = "") -> Iterator[str]:
        """One delimiter listing: the common prefixes directly under ``prefix``."""
        _, full = self._prefix(prefix)
        names: list[str] = []
        for page in self._pages(prefix, Prefix=full, Delimiter="/"):
            for common in page.get("CommonPrefixes", ()):
                name = str(common["Prefix"])[len(full) :].rstrip("/")
                if name:
                    names.append(name)
        return iter(sorted(names))

    def _prefix(self, prefix: str) -> tuple[str, str]:
        base = self.location.prefix
        full = "/".join(p for p in (base, prefix.strip("/")) if p)
        return base, (full + "/" if full else "")

    def _pages(self, prefix: str, **args: str) -> tuple[dict[str, Any], ...]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            paginator = self.client.get_paginator("list_objects_v2")
            return tuple(paginator.paginate(Bucket=self.location.bucket, **args))
        except (ClientError, BotoCoreError) as e:
            raise self._error(e, "list", prefix) from e

    def _listing(self, prefix: str) -> tuple[tuple[str, dict[str, Any]], ...]:
        base, full = self._prefix(prefix)
        keys = [
            (obj["Key"][len(base) + 1 :] if base else obj["Key"], obj)
            for page in self._pages(prefix, Prefix=full)
            for obj in page.get("Contents", ())
        ]
        return tuple(sorted(keys, key=lambda ko: str(ko[0])))

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.location.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as e:
            raise self._error(e, "delete", key) from e

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (for local servers and tests)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.location.bucket)
        except ClientError:
            try:
                self.client.create_bucket(Bucket=self.location.bucket)
            except (ClientError, BotoCoreError) as e:
                raise self._error(e, "create bucket", "") from e
        except BotoCoreError as e:
            raise self._error(e, "reach bucket", "") from e


_TRANSIENT_CODES = frozenset(
    ("SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed", "InternalError",
     "ServiceUnavailable", "OperationAborted", "500", "502", "503", "504")
)  # fmt: skip
_HINTS = {
    "AccessDenied": "the credentials in use may not do this here",
    "InvalidAccessKeyId": "the access key is not known to this server",
    "SignatureDoesNotMatch": "the secret key does not match the access key",
    "NoSuchBucket": "create the bucket first",
}


def s3_error(e: Exception, action: str, where: str) -> StorageError:
    """A boto3 exception as a transient or permanent storage error (credentials never appear)."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionClosedError,
        ConnectionError,
        EndpointConnectionError,
        HTTPClientError,
        ProxyConnectionError,
        ReadTimeoutError,
    )

    if isinstance(e, ClientError):
        err = e.response.get("Error", {})
        code = str(err.get("Code", "?"))
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        hint = _HINTS.get(code, err.get("Message", ""))
        transient = code in _TRANSIENT_CODES or (isinstance(status, int) and status >= 500)
        kind = TransientStorageError if transient else PermanentStorageError
        return kind(f"{action} failed: {code} (HTTP {status}){': ' + hint if hint else ''}", path=where)
    if isinstance(e, ProxyConnectionError):  # (its message quotes the proxy: botocore's masking misses some)
        named = ", ".join(v for v in PROXY_VARIABLES if os.environ.get(v)) or "HTTPS_PROXY or HTTP_PROXY"
        return TransientStorageError(
            f"{action} failed: ProxyConnectionError: the proxy of the environment ({named}) does not answer: "
            "fix it, or name the endpoint's host in NO_PROXY to connect directly",
            path=where,
        )
    parse_error = isinstance(e, HTTPClientError) and isinstance(e.kwargs.get("error"), ValueError)
    with_password = proxy_with_password() if parse_error else []
    if with_password:
        # urllib3 could not parse the proxy's address: its message quotes parts of it, the password's too
        return PermanentStorageError(
            f"{action} failed: HTTPClientError: the proxy address of the environment "
            f"({', '.join(with_password)}) cannot be parsed: write it as http:// and then USER:PASSWORD@HOST:PORT, "
            "with any of / ? # @ : in USER or PASSWORD percent-encoded (%2F %3F %23 %40 %3A)",
            path=where,
        )
    if isinstance(e, EndpointConnectionError | ConnectionError | ConnectionClosedError | ReadTimeoutError):
        return TransientStorageError(f"{action} failed: {type(e).__name__}: {e}", path=where)
    if isinstance(e, BotoCoreError):
        return PermanentStorageError(f"{action} failed: {type(e).__name__}: {e}", path=where)
    return TransientStorageError(f"{action} failed: {e}", path=where)
