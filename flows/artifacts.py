"""What a coordinator reads in the Prefect UI: small tables and summaries."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from prefect.artifacts import create_markdown_artifact, create_table_artifact


def _key(*parts: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")[:100]


_MARKDOWN = re.compile(r"([\\`*_\[\]()|<>!#~{}+=-])")


def _md(value: object) -> str:
    """``value`` as literal text in a markdown table cell or list item: a partner's file name or
    the URL a translator wrote quoted in an error could otherwise add cells, links or emphasis."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(value).split()))


def _code(value: object) -> str:
    """``value`` as a code span (never a link, not even a bare URL a translator wrote), fenced by
    more backticks than it holds; ``|`` escaped, which a table would take for a cell's end."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    fence = "`" * (max((len(m) for m in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


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
            link = (
                f"[QA report](<{quote(report, safe='/:')}>)"
                if report.startswith(("http", "s3://", "/"))
                else _md(report)
            )
            where = f"{r.get('course')}/{r.get('locale')}"
            lines.append(
                f"| {_md(r.get('partner'))} | {_code(r.get('file'))} | {_md(where)} | **{_md(r.get('state'))}** | "
                f"{_md(r.get('accepted'))} | {_md(r.get('rejected'))} | {_md(r.get('conflicts'))} | {link} |"
            )
        errors = [e for r in rows for e in r.get("errors", [])]
        if errors:
            lines += ["", "Errors (each names the file and line):", ""] + [f"- {_code(e)}" for e in errors[:50]]
        text = "\n".join(lines)
    create_markdown_artifact(text, key="qa-summary", description="Returned translations through the QA gate")


def published_table(rows: list[dict[str, Any]], course: str) -> None:
    columns = ("region", "locale", "version", "published", "uploaded_objects", "uploaded_bytes", "message", "error")
    create_table_artifact(
        [{c: r.get(c) for c in columns} for r in rows] or [{"region": "(none)"}],
        key=_key("published", course),
        description=f"Published versions of {course} per region",
    )
