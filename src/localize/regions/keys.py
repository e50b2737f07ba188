"""Signed releases: Ed25519 keys, signatures over the exact bytes of every pointer, manifest and index.

The coordinators hold a private key; publish and rollback write a detached
signature object beside each manifest (``versions/V.json.sig``) and, for each
pointer they write, one named by the pointer's sha256
(``courses/COURSE/LL/signatures/SHA256.sig``, written *before* the pointer is
swapped, so a mirror never reads a pointer whose signature is not there yet), and
the region index's the same way (``signatures/index/SHA256.sig``). A
signature object is JSON: ``{"algorithm": "ed25519", "key": FINGERPRINT,
"signature": BASE64}``. A mirror that trusts one or more public keys
(``pull --trust FILE``) refuses a pointer or manifest that is unsigned, signed
by another key or changed after signing, before anything on its live site changes.
This module is all a mirror needs (keys and verification); the publisher's side is
:mod:`.signing`.

The fingerprint of a key is the sha256 of its 32 raw public bytes, in hex
(shown in groups of four). Private keys never appear in messages: errors name
the file, never its contents.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from localize.errors import ConfigError, IntegrityError
from localize.regions.schema import SHA256_RE, manifest_key, to_json

__all__ = [
    "MAX_SIGNATURE_BYTES",
    "PRIVATE_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "SIGNING_KEY_ENV",
    "GeneratedKeys",
    "Signer",
    "TrustedKeys",
    "fingerprint",
    "generate_keys",
    "index_signature_key",
    "manifest_signature_key",
    "pointer_signature_key",
    "show_fingerprint",
]

SIGNING_KEY_ENV = "LOCALIZE_SIGNING_KEY"
PRIVATE_KEY_FILE = "localize-signing.pem"
PUBLIC_KEY_FILE = "localize-signing.pub.pem"
MAX_SIGNATURE_BYTES = 4096
_FIELDS = {"algorithm", "key", "signature"}


def pointer_signature_key(course: str, locale: str, pointer_bytes: bytes) -> str:
    """Where the signature of these exact pointer bytes lives (content-addressed: no race with the swap)."""
    return f"courses/{course}/{locale}/signatures/{hashlib.sha256(pointer_bytes).hexdigest()}.sig"


def index_signature_key(index_bytes: bytes) -> str:
    """Where the signature of these exact region index bytes lives (content-addressed, like a pointer's)."""
    return f"signatures/index/{hashlib.sha256(index_bytes).hexdigest()}.sig"


def manifest_signature_key(course: str, locale: str, version: str) -> str:
    return manifest_key(course, locale, version) + ".sig"


def fingerprint(key: Ed25519PublicKey) -> str:
    """sha256 of the raw public key, 64 lowercase hex digits."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def show_fingerprint(hex_digits: str) -> str:
    """A fingerprint in groups of four, as people compare it: ``1a2b 3c4d …``."""
    return " ".join(hex_digits[i : i + 4] for i in range(0, len(hex_digits), 4))


class Signer:
    """A private Ed25519 key, loaded from a PEM file."""

    def __init__(self, key: Ed25519PrivateKey, source: str = "", previous: TrustedKeys | None = None) -> None:
        self._key = key
        self.source = source
        self.fingerprint = fingerprint(key.public_key())
        self.previous = previous  # the region's earlier keys (``previous_keys``): vouched for in index rebuilds

    def __repr__(self) -> str:  # never the key itself
        return f"Signer(fingerprint={self.fingerprint!r})"

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Signer:
        """The private key at ``path`` (PEM, PKCS#8, unencrypted), refused when others may read it."""
        file = Path(path)
        try:
            mode = file.stat().st_mode
            data = file.read_bytes()
        except FileNotFoundError:
            raise ConfigError(
                f"no signing key here; make one with: localize keys generate --out {file.parent} "
                + ("" if file.name == PRIVATE_KEY_FILE else f"(it writes {PRIVATE_KEY_FILE}: name that in the config) ")
                + "and give its public key to the region's mirrors",
                path=str(file),
            ) from None
        except OSError as e:
            raise ConfigError(
                f"cannot read the signing key: {e.strerror or type(e).__name__}", path=str(file)
            ) from None
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"the signing key may be read by others (mode {stat.S_IMODE(mode):04o}); chmod 600 it", path=str(file)
            )
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            key = None  # the library's message may quote the file: say nothing of its contents
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(
                "not an unencrypted Ed25519 private key in PEM (make one with `localize keys generate`)", path=str(file)
            )
        return cls(key, str(file))

    def signed(self, data: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's, over exactly ``data``."""
        try:
            TrustedKeys({self.fingerprint: self._key.public_key()}).verify(data, signature, "file", "")
        except IntegrityError:
            return False
        return True

    def vouches(self, data: bytes, signature: bytes) -> bool:
        """Whether ``signature`` over exactly ``data`` is this key's or one of its ``previous`` keys'."""
        if self.signed(data, signature):
            return True
        try:
            return self.previous is not None and bool(self.previous.verify(data, signature, "file", ""))
        except IntegrityError:
            return False

    def sign(self, data: bytes) -> bytes:
        """The signature object (JSON bytes) over exactly ``data``."""
        signature = base64.b64encode(self._key.sign(data)).decode("ascii")
        return to_json({"algorithm": "ed25519", "key": self.fingerprint, "signature": signature})


@dataclass(frozen=True)
class TrustedKeys:
    """The public keys a mirror accepts (two during a rotation), by fingerprint."""

    keys: dict[str, Ed25519PublicKey]

    @classmethod
    def from_files(cls, paths: list[str] | list[Path]) -> TrustedKeys:
        keys: dict[str, Ed25519PublicKey] = {}
        for path in paths:
            try:
                data = Path(path).read_bytes()
            except OSError as e:
                raise ConfigError(
                    f"cannot read the trusted key: {e.strerror or type(e).__name__}", path=str(path)
                ) from None
            try:
                key = serialization.load_pem_public_key(data)
            except (ValueError, TypeError):
                key = None
            if not isinstance(key, Ed25519PublicKey):
                raise ConfigError(
                    f"not an Ed25519 public key in PEM (the {PUBLIC_KEY_FILE} that `localize keys generate` wrote)",
                    path=str(path),
                )
            keys[fingerprint(key)] = key
        if not keys:
            raise ConfigError("no trusted key given")
        return cls(keys)

    def describe(self) -> str:
        return ", ".join(show_fingerprint(f) for f in sorted(self.keys))

    def verify(self, data: bytes, signature: bytes, what: str, where: str) -> str:
        """The fingerprint that signed exactly ``data``; IntegrityError naming ``where`` otherwise.
        ``what``: "pointer" or "manifest", for the message."""
        refuse = "; not using it (the live version is left as it was)"
        try:
            raw = json.loads(signature.decode("utf-8"))
        except (ValueError, RecursionError):
            raw = None
        if (
            not isinstance(raw, dict)
            or set(raw) != _FIELDS
            or raw["algorithm"] != "ed25519"
            or not isinstance(raw["key"], str)
            or not SHA256_RE.fullmatch(raw["key"])
            or not isinstance(raw["signature"], str)
        ):
            raise IntegrityError(f"the {what}'s signature is malformed{refuse}", path=where)
        key = self.keys.get(raw["key"])
        if key is None:
            raise IntegrityError(
                f"the {what} is signed by key {show_fingerprint(raw['key'])}, which is not trusted "
                f"(trusted: {self.describe()}){refuse}",
                path=where,
            )
        try:
            key.verify(base64.b64decode(raw["signature"], validate=True), data)
        except (InvalidSignature, binascii.Error, ValueError):
            raise IntegrityError(
                f"the {what} does not match its signature: it was changed after signing{refuse}", path=where
            ) from None
        return str(raw["key"])


@dataclass(frozen=True)
class GeneratedKeys:
    private: Path
    public: Path
    fingerprint: str


def generate_keys(out: str | os.PathLike[str]) -> GeneratedKeys:
    """A new key pair in ``out``: the private key (PEM, mode 0600) and the public key (PEM).
    Never overwrites a key that is there."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    private, public = folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE
    for path in (private, public):
        if path.exists() or path.is_symlink():
            raise ConfigError("a key is there already; move it away or choose another folder", path=str(path))
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)  # whatever the umask
        f.write(pem)
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return GeneratedKeys(private, public, fingerprint(key.public_key()))
