"""Webhook notices to partners: a JSON body signed with HMAC-SHA256.

Headers: ``X-Localize-Signature: sha256=HEX`` over ``TIMESTAMP.BODY``, with
``X-Localize-Timestamp``, ``X-Localize-Event`` and ``X-Localize-Delivery``.

A notice never holds a command up for long: all attempts together get
:data:`DEADLINE` seconds (a server that accepts the connection and never answers
costs that much, once). A notice that could not be delivered waits in the
workspace's outbox (``outbox/PARTNER/ID.json``) and is sent again by the next
``route`` or ``ingest`` (:func:`flush_outbox`). Delivery is at least once: a
notice keeps its ``X-Localize-Delivery`` id across attempts, so a partner can
drop repeats.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from localize.catalogs.workspace import Workspace
from localize.config import Partner
from localize.errors import StorageError

__all__ = ["DEADLINE", "flush_outbox", "notify", "send_notice", "sign", "verify_signature"]

DEADLINE = 5.0


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


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> str:
    """One POST with a hard deadline: it runs in a daemon thread, so a server that
    trickles its answer byte by byte cannot hold the command past ``timeout``."""
    result: list[str] = []

    import httpx  # here, not at the top: every command would pay its import (0.1-0.4 s) for webhooks it never sends

    def attempt() -> None:
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=timeout)
            result.append("delivered" if response.status_code < 300 else f"HTTP {response.status_code}")
        except httpx.HTTPError as e:
            result.append(type(e).__name__)
        except Exception as e:
            result.append(type(e).__name__)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout)
    return result[0] if result else "timed out"


def notify(
    partner: Partner,
    event: str,
    payload: dict[str, Any],
    *,
    attempts: int = 3,
    deadline: float = DEADLINE,
    delivery: str | None = None,
) -> str:
    """POST a signed notice; returns "delivered", "no webhook" or why it failed (never raises).
    All ``attempts`` together take at most ``deadline`` seconds."""
    if not partner.webhook_url:
        return "no webhook"
    secret = partner.secret()
    if not secret:
        return f"not sent: no secret (set {partner.webhook_secret_env or 'webhook_secret'})"
    body = json.dumps({"event": event, **payload}, sort_keys=True).encode("utf-8")
    delivery = delivery or str(uuid.uuid4())
    end = time.monotonic() + deadline
    error = "timed out"
    for attempt in range(attempts):
        left = end - time.monotonic()
        if left <= 0.05:
            break
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "localize",
            "X-Localize-Event": event,
            "X-Localize-Delivery": delivery,
            "X-Localize-Timestamp": timestamp,
            "X-Localize-Signature": sign(secret, timestamp, body),
        }
        outcome = _post(partner.webhook_url, body, headers, left)
        if outcome == "delivered":
            return "delivered"
        error = outcome
        if outcome.startswith("HTTP 4"):
            break
        pause = min(0.2 * 2**attempt, end - time.monotonic())
        if pause > 0:
            time.sleep(pause)
    return f"failed: {error}"


def _outbox_key(partner_id: str, notice_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in notice_id)[:120]
    return f"outbox/{partner_id}/{safe}.json"


def send_notice(workspace: Workspace, partner: Partner, event: str, payload: dict[str, Any], notice_id: str) -> str:
    """Notify now; a notice that fails waits in the outbox for the next run.
    The same ``notice_id`` is the same notice (one outbox entry, one delivery id)."""
    if not partner.webhook_url:
        return "no webhook"
    key = _outbox_key(partner.id, notice_id)
    delivery = str(uuid.uuid5(uuid.NAMESPACE_URL, f"localize:{partner.id}:{notice_id}"))
    record = {"partner": partner.id, "event": event, "payload": payload, "delivery": delivery}
    workspace.storage.write_bytes(key, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    outcome = notify(partner, event, payload, delivery=delivery)
    if outcome == "delivered":
        workspace.storage.delete(key)
        return outcome
    return f"{outcome} (queued in the outbox; sent again by the next route or ingest)"


def flush_outbox(workspace: Workspace, partners: Iterable[Partner], *, deadline: float = DEADLINE) -> dict[str, int]:
    """Send the queued notices of ``partners``; all together take at most ``deadline``
    seconds, and a partner whose webhook fails is not tried again in this run.
    Returns {"delivered": n, "waiting": m}."""
    end = time.monotonic() + deadline
    counts = {"delivered": 0, "waiting": 0}
    for partner in partners:
        try:
            keys = [k for k in workspace.storage.list(f"outbox/{partner.id}") if k.endswith(".json")]
        except StorageError:
            continue
        failing = False
        for key in keys:
            left = end - time.monotonic()
            if failing or left <= 0.05 or not partner.webhook_url:
                counts["waiting"] += 1
                continue
            try:
                record = json.loads(workspace.storage.read_bytes(key))
                outcome = notify(
                    partner,
                    str(record["event"]),
                    dict(record["payload"]),
                    delivery=str(record["delivery"]),
                    deadline=left,
                )
                if outcome == "delivered":
                    workspace.storage.delete(key)
                    counts["delivered"] += 1
                    continue
            except (StorageError, FileNotFoundError, ValueError, KeyError, TypeError):
                pass
            failing = True
            counts["waiting"] += 1
    return counts
