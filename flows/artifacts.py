"""What a coordinator reads in the Prefect UI: small tables and summaries."""

from __future__ import annotations

import re
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact


def _key(*parts: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")[:100]


def stats_table(rows: list[dict[str, Any]], course: str | None) -> None:
    columns = ("course", "locale", "entries", "words", "translated_percent", "fuzzy", "untranslated")
    create_table_artifact(
        [{c: r.get(c) for c in columns} for r in rows] or [{"course": course or "", "locale": "(no catalogs yet)"}],
        key=_key("catalog-stats", course or "all"),
        description=f"Translation progress per course and locale{f' for {course}' if course else ''}",
    )


def qa_summary(rows: list[dict[str, Any]]) -> None:
    if not rows:
        text = "No returned files were waiting."
    else:
        lines = [
            "| partner | file | course/locale | state | accepted | rejected | conflicts | report |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            report = r.get("report") or ""
            link = f"[QA report]({report})" if report.startswith(("http", "s3://", "/")) else report
            lines.append(
                f"| {r.get('partner')} | {r.get('file')} | {r.get('course')}/{r.get('locale')} | **{r.get('state')}** | "
                f"{r.get('accepted')} | {r.get('rejected')} | {r.get('conflicts')} | {link} |"
            )
        errors = [e for r in rows for e in r.get("errors", [])]
        if errors:
            lines += ["", "Errors (each names the file and line):", ""] + [f"- `{e}`" for e in errors[:50]]
        text = "\n".join(lines)
    create_markdown_artifact(text, key="qa-summary", description="Returned translations through the QA gate")


def published_table(rows: list[dict[str, Any]], course: str) -> None:
    columns = ("region", "locale", "version", "published", "uploaded_objects", "uploaded_bytes", "message", "error")
    create_table_artifact(
        [{c: r.get(c) for c in columns} for r in rows] or [{"region": "(none)"}],
        key=_key("published", course),
        description=f"Published versions of {course} per region",
    )
