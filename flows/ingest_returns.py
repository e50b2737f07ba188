"""Flow ``ingest-returns``: every returned file waiting in partner inboxes."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from flows import tasks
from flows.artifacts import qa_summary
from flows.params import ConfigPath


@flow(name="ingest-returns")
def ingest_returns(partner: str | None = None, config: ConfigPath = "localize.toml") -> list[dict[str, Any]]:
    """Archive, check and merge every returned .po in the partners' inboxes
    (or one partner's). A bad file fails only its own entries; the QA summary
    artifact links each partner's report."""
    logger = get_run_logger()
    rows = tasks.ingest_returns(config, partner)
    for r in rows:
        for error in r.get("errors", []):
            logger.warning("%s: %s", r["partner"], error)
    qa_summary(rows)
    return rows
