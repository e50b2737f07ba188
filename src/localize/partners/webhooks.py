"""Webhook notices to partners: a JSON body signed with HMAC-SHA256.

Headers: ``X-Localize-Signature: sha256=HEX`` over ``TIMESTAMP.BODY``, with
``X-Localize-Timestamp``, ``X-Localize-Event`` and ``X-Localize-Delivery``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from localize.config import Partner

__all__ = ["notify", "sign", "verify_signature"]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return (
        "sha256="
        + hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    )


def verify_signature(secret: str, headers: dict[str, str], body: bytes, *, max_age: float = 300.0) -> bool:
    """What a partner's server does: recompute and compare in constant time."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get("x-localize-timestamp", "")
    signature = lowered.get("x-localize-signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_age:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def notify(partner: Partner, event: str, payload: dict[str, Any], *, attempts: int = 3) -> str:
    """POST a signed notice; returns "delivered", "no webhook" or why it failed (never raises)."""
    if not partner.webhook_url:
        return "no webhook"
    secret = partner.secret()
    if not secret:
        return f"not sent: no secret (set {partner.webhook_secret_env or 'webhook_secret'})"
    import httpx

    body = json.dumps({"event": event, **payload}, sort_keys=True).encode("utf-8")
    error = ""
    for attempt in range(attempts):
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "localize",
            "X-Localize-Event": event,
            "X-Localize-Delivery": str(uuid.uuid4()),
            "X-Localize-Timestamp": timestamp,
            "X-Localize-Signature": sign(secret, timestamp, body),
        }
        try:
            response = httpx.post(partner.webhook_url, content=body, headers=headers, timeout=10.0)
            if response.status_code < 300:
                return "delivered"
            error = f"HTTP {response.status_code}"
            if response.status_code < 500:
                break
        except httpx.HTTPError as e:
            error = type(e).__name__
        time.sleep(0.2 * 2**attempt)
    return f"failed: {error}"
