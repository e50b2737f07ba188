"""``localize.toml``: partners, regions, workspace and QA policy, validated.

Every error names the file and the key (``partners[1].locales[0]``) and says
what is expected. Relative paths are relative to the file's folder. Example::

    [workspace]
    location = "locales"          # or s3://bucket/prefix
    source_locale = "en"

    [qa]
    max_length_ratio = 3.0

    [[partners]]
    id = "kakuma"
    name = "Kakuma Learning Centre"
    locales = ["sw"]
    courses = "all"                # or a list of course ids
    contact = "coordinator@kakuma.example.org"
    inbox = "inboxes/kakuma"       # a folder or s3://bucket/prefix
    turnaround_days = 21
    webhook_url = "https://kakuma.example.org/hooks/localize"
    webhook_secret_env = "KAKUMA_WEBHOOK_SECRET"
    rates = { new = 0.12, fuzzy = 0.06, memory = 0.03, repetition = 0.03 }   # per source word
    currency = "USD"

    [[regions]]
    name = "latam"
    location = "s3://bucket/latam"
    locales = ["es", "pt_BR"]
    signing_key = "keys/localize-signing.pem"   # or LOCALIZE_SIGNING_KEY; publish signs
    previous_keys = []                          # during a rotation: the old public key (PEM)

    [mirror]
    trust = ["keys/localize-signing.pub.pem"]   # pull refuses what these keys did not sign
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from localize import DEFAULT_CONFIG
from localize.errors import ConfigError
from localize.locales import check_locale

__all__ = [
    "DEFAULT_CONFIG",
    "Config",
    "MirrorSettings",
    "Partner",
    "QAPolicy",
    "Region",
    "WorkspaceSettings",
    "load_config",
]

_ID = r"^[a-z0-9][a-z0-9_-]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _locale(value: str) -> str:

    try:
        return check_locale(value)
    except ConfigError as e:
        raise ValueError(e.message) from None


class Partner(_Model):
    id: Annotated[str, Field(pattern=_ID, description="short id: lowercase letters, digits, - and _")]
    name: str
    locales: Annotated[list[str], Field(min_length=1)]
    courses: Literal["all"] | list[str] = "all"
    contact: str = ""
    inbox: str
    turnaround_days: Annotated[int, Field(ge=1, le=365)] = 14
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_secret_env: str | None = None
    checks: dict[str, Literal["error", "warning", "info", "off"]] = Field(
        default_factory=dict, description="QA check id -> severity for this partner's returns, or off"
    )
    format: Literal["po", "xliff"] = Field("po", description="the kit's file: gettext .po or XLIFF 1.2 .xlf")
    xliff_targets: Literal["empty", "source"] = Field(
        "empty",
        description="XLIFF kits: untranslated units get an empty <target> (memoQ, Trados, Okapi) or a copy of "
        "the source (OmegaT 3.x, whose XLIFF filter translates what <target> holds)",
    )
    reviewer: bool = Field(False, description="may sign off translations (review kits, `localize route --review`)")
    rates: dict[Literal["new", "fuzzy", "memory", "repetition"], Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="price per source word of each match band, for kit estimates"
    )
    currency: str = ""

    @field_validator("locales")
    @classmethod
    def _check_locales(cls, value: list[str]) -> list[str]:
        return [_locale(v) for v in value]

    @field_validator("webhook_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    def serves(self, course: str, locale: str) -> bool:
        return locale in self.locales and (self.courses == "all" or course in self.courses)

    def secret(self) -> str | None:
        """The webhook secret, from the file or (better) from an environment variable."""
        if self.webhook_secret_env:
            return os.environ.get(self.webhook_secret_env)
        return self.webhook_secret


class Region(_Model):
    name: Annotated[str, Field(pattern=_ID)]
    location: str
    endpoint_url: str | None = None
    locales: Annotated[list[str], Field(min_length=1)]
    min_translated: Annotated[float, Field(ge=0, le=100)] = 0.0
    page_threshold: Annotated[float, Field(ge=0, le=100)] = 0.0
    below_threshold: Literal["source", "omit"] = "source"
    keep_versions: Annotated[int, Field(ge=2)] = 5
    gc_grace_seconds: Annotated[int, Field(ge=0)] = 3600
    public_url: str | None = None
    require_review: bool = False  # publish only reviewed translations (the rest falls back to the source)
    signing_key: str | None = Field(
        None, description="the coordinators' Ed25519 private key (PEM): publish and rollback sign with it"
    )
    previous_keys: list[str] = Field(
        default_factory=list,
        description="public keys (PEM) of the region's earlier signing keys: during a rotation, an index rebuilt "
        "from the pointers keeps the courses they signed; those of any other key are left out",
    )
    compress: bool = Field(True, description="store objects gzip-compressed when that saves bytes (light pulls)")
    notice_templates: str | None = Field(
        None, description="folder of notice.LL.html attribution templates (Jinja2, sandboxed); default: English"
    )
    licence: str = Field("CC BY-NC-SA 4.0", description="the licence of the original courses, named in every notice")
    licence_url: str = "https://creativecommons.org/licenses/by-nc-sa/4.0/"
    course_url: str = Field(
        "https://ocw.mit.edu/courses/{course}/", description="the original course's address ({course}: its id)"
    )

    @field_validator("locales")
    @classmethod
    def _check_locales(cls, value: list[str]) -> list[str]:
        return [_locale(v) for v in value]

    def check_serves(self, locale: str) -> None:
        """A ConfigError unless the region serves ``locale`` (canonical)."""
        if locale not in self.locales:
            raise ConfigError(f"region {self.name!r} does not serve {locale} (its locales: {', '.join(self.locales)})")


class QAPolicy(_Model):
    max_length_ratio: Annotated[float, Field(gt=1)] = 3.0
    min_length_ratio: Annotated[float, Field(gt=0, lt=1)] = 0.3
    accept_fuzzy: bool = False
    max_file_bytes: Annotated[int, Field(ge=1024)] = 20 * 1024 * 1024
    max_string_chars: Annotated[int, Field(ge=100)] = 100_000


class WorkspaceSettings(_Model):
    location: str = "locales"
    source_locale: str = "en"

    @field_validator("source_locale")
    @classmethod
    def _check_source_locale(cls, value: str) -> str:
        return _locale(value)  # en-US is en: the glossary's and the templates' source language


class MirrorSettings(_Model):
    trust: list[str] = Field(
        default_factory=list,
        description="public keys (PEM files) `pull` accepts signatures from; two during a key rotation",
    )


class Config(_Model):
    workspace: WorkspaceSettings = WorkspaceSettings()
    mirror: MirrorSettings = MirrorSettings()
    qa: QAPolicy = QAPolicy()
    partners: list[Partner] = []
    regions: list[Region] = []
    root: Path = Path(".")

    def resolve(self, location: str) -> str:
        """A location from the file: s3:// as is, relative folders from the file's folder."""
        if location.startswith("s3://") or os.path.isabs(location):
            return location
        return str(self.root / location)

    @property
    def workspace_location(self) -> str:
        return self.resolve(self.workspace.location)

    def partner(self, partner_id: str) -> Partner:
        for p in self.partners:
            if p.id == partner_id:
                return p
        known = ", ".join(p.id for p in self.partners) or "none"
        raise ConfigError(f"no partner {partner_id!r} in the configuration (partners: {known})")

    def region(self, name: str) -> Region:
        for r in self.regions:
            if r.name == name:
                return r
        known = ", ".join(r.name for r in self.regions) or "none"
        raise ConfigError(f"no region {name!r} in the configuration (regions: {known})")


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_config(path: str | os.PathLike[str] = DEFAULT_CONFIG) -> Config:
    """Read and validate a localize.toml; ConfigError names the file and key."""
    file = Path(path)
    try:
        data: dict[str, Any] = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            "configuration file not found; create one (see src/localize/samples/localize.toml) or pass --config",
            path=str(file),
        ) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"not valid TOML: {e}", path=str(file)) from None
    duplicate = _duplicates([p.get("id") for p in data.get("partners", []) if isinstance(p, dict)])
    if duplicate:
        raise ConfigError(f"partners: the id {duplicate!r} is used twice", path=str(file))
    try:
        return Config.model_validate({**data, "root": file.resolve().parent})
    except ValidationError as e:
        problems = []
        for err in e.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown setting (check the spelling)"
            elif err["type"] == "missing":
                msg = "required setting is missing"
            problems.append(f"{_where(err['loc'])}: {msg}")
        raise ConfigError("; ".join(problems), path=str(file)) from None


def _duplicates(values: list[Any]) -> Any:
    seen = set()
    for v in values:
        if v in seen:
            return v
        seen.add(v)
    return None
