"""Per-partner access to S3 inboxes: a partner reaches only its own prefix.

Generates an AWS IAM policy per partner and the equivalent SeaweedFS identity
configuration (``weed ... -s3.config FILE``; actions scoped as
``Action:bucket/prefix/*``).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from typing import Any

from localize.config import Config, Partner
from localize.errors import ConfigError
from localize.storage.s3 import parse_s3_url

__all__ = ["PartnerAccess", "check_overlaps", "iam_policy", "partner_access", "seaweed_config", "seaweed_identity"]


@dataclass(frozen=True)
class PartnerAccess:
    partner: str
    bucket: str
    prefix: str
    access_key: str
    secret_key: str


def _inbox(partner: Partner, config: Config) -> tuple[str, str]:
    location = config.resolve(partner.inbox)
    if not location.startswith("s3://"):
        raise ConfigError(
            f"partner {partner.id!r} has a folder inbox ({location}); access policies are for s3:// inboxes"
        )
    parsed = parse_s3_url(location)
    if not parsed.prefix:
        raise ConfigError(
            f"partner {partner.id!r}: give the inbox its own prefix (s3://{parsed.bucket}/inboxes/{partner.id})"
        )
    return parsed.bucket, parsed.prefix


def _place(location: str) -> tuple[str, tuple[str, ...]]:
    """Where a location is, as (bucket or "", path parts) for comparing."""
    if location.startswith("s3://"):
        parsed = parse_s3_url(location)
        return "s3://" + parsed.bucket, tuple(p for p in parsed.prefix.split("/") if p)
    return "", tuple(p for p in os.path.realpath(location).split(os.sep) if p)


_POLICY_SPECIAL = ("*", "?", "$")  # (a "?" in an s3:// address starts its query: never in the prefix)


def check_overlaps(config: Config) -> None:
    """Refuse an inbox that is, contains or lies inside the workspace, a region or another
    partner's inbox: the partner's keys (or folder rights) would reach into it."""
    places: list[tuple[str, str]] = [(f"partner {p.id!r} inbox", config.resolve(p.inbox)) for p in config.partners]
    inboxes = len(places)
    for what, location in places:
        bucket, parts = _place(location) if location.startswith("s3://") else ("", ())
        if any(c in bucket + "/".join(parts) for c in _POLICY_SPECIAL):
            # in a policy's resource, * and ? are wildcards and ${...} a variable: "inboxes/*" would
            # give a partner every inbox, "*" the whole bucket (the workspace and the regions too)
            raise ConfigError(
                f"{what} ({location}) holds *, ? or $, which an access policy reads as a wildcard or a variable: "
                "give the inbox a plain prefix (s3://BUCKET/inboxes/PARTNER)"
            )
    places.append(("the workspace", config.workspace_location))
    places += [(f"region {r.name!r}", config.resolve(r.location)) for r in config.regions]
    for i in range(inboxes):
        what, location = places[i]
        where = _place(location)
        for j, (other_what, other_location) in enumerate(places):
            if j == i or (j < inboxes and j < i):
                continue
            other = _place(other_location)
            if where[0] != other[0]:
                continue
            shorter = min(len(where[1]), len(other[1]))
            if where[1][:shorter] == other[1][:shorter]:
                raise ConfigError(
                    f"{what} ({location}) overlaps {other_what} ({other_location}): "
                    "give every inbox its own prefix, apart from the workspace, the regions and other inboxes"
                )


def iam_policy(bucket: str, prefix: str) -> dict[str, Any]:
    """Read, write and list under ``prefix/`` of ``bucket``, nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListOwnInbox",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}"],
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/", f"{prefix}/*"]}},
            },
            {
                "Sid": "ReadWriteOwnInbox",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                "Resource": [f"arn:aws:s3:::{bucket}/{prefix}/*"],
            },
        ],
    }


def seaweed_identity(access: PartnerAccess) -> dict[str, Any]:
    scope = f"{access.bucket}/{access.prefix}/*"
    return {
        "name": f"partner-{access.partner}",
        "credentials": [{"accessKey": access.access_key, "secretKey": access.secret_key}],
        "actions": [f"Read:{scope}", f"Write:{scope}", f"List:{scope}"],
    }


def partner_access(
    config: Config, partner: Partner, *, access_key: str | None = None, secret_key: str | None = None
) -> PartnerAccess:
    bucket, prefix = _inbox(partner, config)
    return PartnerAccess(
        partner.id,
        bucket,
        prefix,
        access_key
        or f"LOCALIZE{partner.id.upper().replace('-', '').replace('_', '')[:12]}{secrets.token_hex(4).upper()}",
        secret_key or secrets.token_urlsafe(30),
    )


def seaweed_config(accesses: list[PartnerAccess], admin: tuple[str, str] | None = None) -> str:
    identities = [seaweed_identity(a) for a in accesses]
    if admin is not None:
        identities.insert(
            0,
            {
                "name": "localize-admin",
                "credentials": [{"accessKey": admin[0], "secretKey": admin[1]}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            },
        )
    return json.dumps({"identities": identities}, indent=2) + "\n"
