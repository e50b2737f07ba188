"""The coordinators' dashboard: one self-contained HTML page.

No external assets (inline CSS and SVG, system fonts), works offline, readable on
a phone. Per partner and locale: a progress bar per course (translated / fuzzy /
untranslated), the assignment with its due date (overdue marked), the last QA
result, the version live in each region; and a chart of words translated over
time from the catalogs' history.
"""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from localize.config import Config, load_config
from localize.status import course_locales
from localize.workspace import Workspace

__all__ = ["collect", "render_dashboard", "write_report"]

COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16", "#4a5568")


def collect(workspace: Workspace, config: Config | None = None, *, today: date | None = None) -> dict[str, Any]:
    """Everything the dashboard shows, as plain data."""
    partners: dict[str, dict[str, Any]] = {}
    if config is not None:
        for p in config.partners:
            partners[p.id] = {"id": p.id, "name": p.name, "locales": list(p.locales), "rows": []}
    unassigned: dict[str, Any] = {"id": "", "name": "Not assigned to a partner", "locales": [], "rows": []}
    for c in course_locales(workspace, config, today=today):
        course, locale, s, a = c.course, c.locale, c.stats, c.assignment
        published = {region: version or "not published" for region, version in c.published.items()}
        published |= dict.fromkeys(c.unreachable, "unreachable")
        row = {
            "course": course,
            "locale": locale,
            "entries": s.entries if s else 0,
            "translated": s.translated if s else 0,
            "fuzzy": s.fuzzy if s else 0,
            "untranslated": s.untranslated if s else 0,
            "translated_percent": round(s.translated_percent, 1) if s else 0.0,
            "words": s.words if s else 0,
            "translated_words": s.translated_words if s else 0,
            "kit": a.kit if a else None,
            "state": a.state if a else None,
            "due": a.due if a else None,
            "overdue": c.overdue,
            "last_qa": a.returns[-1] if a and a.returns else None,
            "published": published,
        }
        owner = a.partner if a else None
        if owner is None and config is not None:
            serving = [p.id for p in config.partners if p.serves(course, locale)]
            owner = serving[0] if serving else None
        group = (
            partners.setdefault(owner, {"id": owner, "name": owner, "locales": [locale], "rows": []})
            if owner
            else unassigned
        )
        group["rows"].append(row)
    groups = [g for g in partners.values() if g["rows"]] + ([unassigned] if unassigned["rows"] else [])
    # words translated over time, per locale (latest snapshot of each course up to each moment)
    series: dict[str, list[tuple[str, int]]] = defaultdict(list)
    current: dict[tuple[str, str], int] = {}
    for record in workspace.history():
        current[(str(record["course"]), str(record["locale"]))] = int(str(record["translated_words"]))
        locale = str(record["locale"])
        total = sum(v for (c, loc), v in current.items() if loc == locale)
        series[locale].append((str(record["at"]), total))
    return {
        "generated": datetime.now(UTC).isoformat(timespec="minutes"),
        "groups": groups,
        "series": dict(series),
        "overdue": sum(1 for g in groups for r in g["rows"] if r["overdue"]),
    }


def _bar(row: dict[str, Any]) -> str:
    total = max(1, row["entries"])
    parts = []
    for key, css in (("translated", "t"), ("fuzzy", "f"), ("untranslated", "u")):
        width = 100.0 * row[key] / total
        if width:
            parts.append(f'<span class="{css}" style="width:{width:.2f}%"></span>')
    label = f"{row['translated']} translated, {row['fuzzy']} fuzzy, {row['untranslated']} untranslated"
    return f'<div class="bar" role="img" aria-label="{label}" title="{label}">{"".join(parts)}</div>'


def _chart(series: dict[str, list[tuple[str, int]]]) -> str:
    if not series:
        return "<p>No history yet: catalogs record a snapshot each time they are written.</p>"
    points = [(datetime.fromisoformat(at).timestamp(), words) for s in series.values() for at, words in s]
    t0, t1 = min(p[0] for p in points), max(p[0] for p in points)
    top = max(1, max(p[1] for p in points))
    w, h, pad = 640, 220, 40
    span = max(1.0, t1 - t0)

    def xy(at: str, words: int) -> str:
        x = pad + (datetime.fromisoformat(at).timestamp() - t0) / span * (w - 2 * pad)
        y = h - pad - words / top * (h - 2 * pad)
        return f"{x:.1f},{y:.1f}"

    lines, legend = [], []
    for i, (locale, s) in enumerate(sorted(series.items())):
        colour = COLOURS[i % len(COLOURS)]
        pts = " ".join(xy(at, words) for at, words in s)
        if len(s) == 1:
            pts += " " + xy(s[0][0], s[0][1]).replace(",", ",", 1)
        lines.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{pts}"/>')
        last = xy(*s[-1])
        lines.append(f'<circle cx="{last.split(",")[0]}" cy="{last.split(",")[1]}" r="3.5" fill="{colour}"/>')
        legend.append(f'<span><i style="background:{colour}"></i>{html.escape(locale)}: {s[-1][1]} words</span>')
    axis = (
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#999"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="#999"/>'
        f'<text x="{pad - 6}" y="{pad + 4}" text-anchor="end" font-size="11">{top}</text>'
        f'<text x="{pad - 6}" y="{h - pad}" text-anchor="end" font-size="11">0</text>'
        f'<text x="{pad}" y="{h - pad + 16}" font-size="11">{datetime.fromtimestamp(t0, UTC):%Y-%m-%d}</text>'
        f'<text x="{w - pad}" y="{h - pad + 16}" text-anchor="end" font-size="11">{datetime.fromtimestamp(t1, UTC):%Y-%m-%d %H:%M}</text>'
    )
    return (
        f'<svg viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="words translated over time">{axis}{"".join(lines)}</svg>'
        f'<p class="legend">{"".join(legend)}</p>'
    )


def render_dashboard(data: dict[str, Any], title: str = "Localization progress") -> str:
    e = html.escape
    sections = []
    for g in data["groups"]:
        rows = []
        for r in g["rows"]:
            state = e(r["state"] or "not sent")
            due = e(r["due"] or "")
            if r["overdue"]:
                due = f'<strong class="overdue">{due} overdue</strong>'
            qa = r["last_qa"]
            qa_text = f"{e(qa['state'])}: {qa['accepted']} accepted, {qa['rejected']} rejected" if qa else "-"
            pub = "<br>".join(f"{e(k)}: {e(v)}" for k, v in r["published"].items()) or "-"
            rows.append(
                "<tr>"
                f'<td data-h="course">{e(r["course"])}</td><td data-h="locale">{e(r["locale"])}</td>'
                f'<td data-h="progress">{_bar(r)}<small>{r["translated_percent"]}% of {r["entries"]} entries</small></td>'
                f'<td data-h="assignment">{state}<br><small>{due}</small></td>'
                f'<td data-h="last QA">{qa_text}</td><td data-h="published">{pub}</td>'
                "</tr>"
            )
        locales = ", ".join(g["locales"])
        sections.append(
            f"<section><h2>{e(g['name'])}{f' <small>({e(locales)})</small>' if locales else ''}</h2>"
            "<table><thead><tr><th>course</th><th>locale</th><th>progress</th><th>assignment</th><th>last QA</th><th>published</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></section>"
        )
    overdue = f'<p class="overdue">{data["overdue"]} assignments overdue</p>' if data["overdue"] else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>
body {{ font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", sans-serif; margin: 0 auto; padding: 1rem; max-width: 70rem; color: #1a202c; }}
h1 {{ font-size: 1.5rem; margin: .2rem 0; }} h2 {{ font-size: 1.15rem; margin: 1.5rem 0 .5rem; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: start; vertical-align: top; padding: .4rem .5rem; border-bottom: 1px solid #e2e8f0; }}
th {{ font-size: .8rem; text-transform: uppercase; color: #4a5568; }}
.bar {{ display: flex; height: .9rem; min-width: 8rem; background: #edf2f7; border-radius: .2rem; overflow: hidden; }}
.bar .t {{ background: #2f855a; }} .bar .f {{ background: #d69e2e; }} .bar .u {{ background: #cbd5e0; }}
.overdue {{ color: #c53030; }} small {{ color: #4a5568; }}
.legend span {{ margin-inline-end: 1rem; white-space: nowrap; }} .legend i {{ display: inline-block; width: .8rem; height: .8rem; margin-inline-end: .3rem; border-radius: .2rem; }}
.key span {{ margin-inline-end: 1rem; }} .key i {{ display: inline-block; width: .8rem; height: .8rem; margin-inline-end: .3rem; }}
@media (max-width: 640px) {{
  thead {{ display: none; }} tr {{ display: block; border-bottom: 2px solid #cbd5e0; padding: .4rem 0; }}
  td {{ display: flex; gap: .6rem; border: 0; padding: .15rem 0; }} td::before {{ content: attr(data-h); min-width: 6.5rem; color: #4a5568; font-size: .8rem; }}
}}
</style>
</head>
<body>
<h1>{e(title)}</h1>
<p><small>generated {e(data["generated"])} UTC</small></p>
{overdue}
<p class="key"><span><i style="background:#2f855a"></i>translated</span><span><i style="background:#d69e2e"></i>fuzzy</span><span><i style="background:#cbd5e0"></i>untranslated</span></p>
{"".join(sections) or "<p>No catalogs yet.</p>"}
<section><h2>Words translated over time</h2>{_chart(data["series"])}</section>
</body>
</html>
"""


def write_report(out: str, *, locales_dir: str | None = None, config_path: str | None = None) -> str:
    config = load_config(config_path) if config_path else None
    location = locales_dir or (config.workspace_location if config else "locales")
    page = render_dashboard(collect(Workspace(location), config))
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return str(path)
