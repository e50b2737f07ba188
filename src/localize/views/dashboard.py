"""The coordinators' dashboard: one self-contained HTML page.

No external assets (inline CSS and SVG, system fonts), works offline, readable on
a phone. Per partner and locale: a progress bar per course (translated / fuzzy /
untranslated), the assignment with its due date (overdue marked), the last QA
result, the version live in each region; the open kits' words by match band (with the
estimate at the partner's rates), from the assignment records; each locale's consistency
across courses as its last full run left it (``index/consistency/LL.json``: finding it
reads every catalog of a locale, so the page does not, unless built with ``consistency``);
and a chart of words translated over time from the catalogs' history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from localize.catalogs.bands import BANDS
from localize.catalogs.consistency import find_inconsistencies, read_summary, save_summary, uses_of
from localize.catalogs.stats import share
from localize.catalogs.workspace import Workspace
from localize.config import Config, load_config
from localize.errors import ConfigError
from localize.locales import PSEUDO_LOCALE
from localize.templating import render
from localize.views.status import course_locales

__all__ = ["collect", "refresh_consistency", "render_dashboard", "write_report"]

BAND_NAMES = {"new": "new", "fuzzy": "75-99 %", "memory": "100 % memory", "repetition": "repetitions"}
COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16", "#4a5568")


def collect(
    workspace: Workspace,
    config: Config | None = None,
    *,
    pseudo: bool = False,
    today: date | None = None,
    region: str | None = None,
    public: bool = False,
) -> dict[str, Any]:
    """Everything the dashboard shows, as plain data (the pseudo-locale only when ``pseudo``).

    ``region``: only the courses and locales that region serves, and only its
    published versions. ``public``: for a page anyone can read (a region's
    report.html): no partners, contacts, kits, assignments or QA returns, just
    each course x locale's progress and live version."""
    if public:
        return _public(workspace, collect(workspace, config, pseudo=pseudo, today=today, region=region), pseudo)
    served = config.region(region).locales if config is not None and region is not None else None
    partners: dict[str, dict[str, Any]] = {}
    if config is not None:
        for p in config.partners:
            partners[p.id] = {"id": p.id, "name": p.name, "contact": p.contact, "locales": list(p.locales), "rows": []}
    unassigned: dict[str, Any] = {"id": "", "name": "Not assigned to a partner", "locales": [], "rows": []}
    kits: list[dict[str, Any]] = []
    for c in course_locales(workspace, config, pseudo=pseudo, today=today):
        course, locale, s, a = c.course, c.locale, c.stats, c.assignment
        if served is not None and locale not in served:
            continue
        published = {name: version or "not published" for name, version in c.published.items()}
        published |= dict.fromkeys(c.unreachable, "unreachable")
        if region is not None:
            published = {name: v for name, v in published.items() if name == region}
        sent = a.entries if a else 0  # a kit of a locale with no catalog yet: its entries, none translated
        row = {
            "course": course,
            "locale": locale,
            "entries": s.entries if s else sent,
            "translated": s.translated if s else 0,
            "fuzzy": s.fuzzy if s else 0,
            "untranslated": s.untranslated if s else sent,
            "translated_percent": share(s.translated_percent) if s else 0.0,
            "translated_words_percent": share(s.translated_words_percent) if s else 0.0,
            "words": s.words if s else 0,
            "translated_words": s.translated_words if s else 0,
            "reviewed": s.reviewed if s else 0,
            "oldest_unreviewed": (c.oldest_unreviewed or "")[:10] or None,
            "kit": a.kit if a else None,
            "state": a.shown if a else None,
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
        if a is not None and a.open and a.bands:
            kits.append(_open_kit(row, a.partner, a.bands, a.estimate))
    groups = [g for g in partners.values() if g["rows"]] + ([unassigned] if unassigned["rows"] else [])
    locales = sorted({r["locale"] for g in groups for r in g["rows"]} - {PSEUDO_LOCALE})
    return {
        "generated": datetime.now(UTC).isoformat(timespec="minutes"),
        "groups": groups,
        "series": _series(workspace, pseudo, lambda course, locale: served is None or locale in served),
        "overdue": sum(1 for g in groups for r in g["rows"] if r["overdue"]),
        "kits": kits,
        "kit_totals": _kit_totals(kits),
        "consistency": [{"locale": ll, "summary": read_summary(workspace, ll)} for ll in locales],
    }


def _words(bands: dict[str, Any], band: str) -> int:
    count = bands.get(band)
    words = count.get("words") if isinstance(count, dict) else None
    return words if isinstance(words, int) and words >= 0 else 0


def _open_kit(
    row: dict[str, Any], partner: str, bands: dict[str, Any], estimate: dict[str, Any] | None
) -> dict[str, Any]:
    """One open kit's words by match band and its estimate (when the partner has rates)."""
    cost = None
    if isinstance(estimate, dict) and isinstance(estimate.get("total"), int | float):
        cost = {"total": float(estimate["total"]), "currency": str(estimate.get("currency") or "")[:8]}
    return {
        "course": row["course"],
        "locale": row["locale"],
        "partner": partner,
        "kit": row["kit"],
        "due": row["due"],
        "overdue": row["overdue"],
        "bands": {b: _words(bands, b) for b in BANDS},
        "estimate": cost,
    }


def _kit_totals(kits: list[dict[str, Any]]) -> dict[str, Any]:
    """Words per band over the open kits, and the estimates summed per currency."""
    money: dict[str, float] = defaultdict(float)
    for k in kits:
        if k["estimate"] is not None:
            money[k["estimate"]["currency"]] += k["estimate"]["total"]
    return {
        "bands": {b: sum(k["bands"][b] for k in kits) for b in BANDS},
        "estimates": [{"currency": c, "total": round(t, 2)} for c, t in sorted(money.items())],
        "unpriced": sum(1 for k in kits if k["estimate"] is None),
    }


def _series(workspace: Workspace, pseudo: bool, shown: Callable[[str, str], bool]) -> dict[str, list[tuple[str, int]]]:
    """Words translated over time, per locale (latest snapshot of each course up to each moment),
    counting only the course x locale pairs ``shown`` keeps; one point a day per locale (its
    last). Linear in the number of snapshots: a running total per locale."""
    series: dict[str, list[tuple[str, int]]] = defaultdict(list)
    current: dict[tuple[str, str], int] = {}
    totals: dict[str, int] = defaultdict(int)
    for at, course, locale, words in workspace.history():
        if (locale == PSEUDO_LOCALE and not pseudo) or not shown(course, locale):
            continue
        totals[locale] += words - current.get((course, locale), 0)
        current[(course, locale)] = words
        points = series[locale]
        if points and points[-1][0][:10] == at[:10]:
            points[-1] = (at, totals[locale])
        else:
            points.append((at, totals[locale]))
    return dict(series)


_PUBLIC_ROW_KEYS = (
    "course", "locale", "entries", "translated", "fuzzy", "untranslated", "translated_percent", "words",
    "translated_words", "translated_words_percent", "reviewed", "published",
)  # fmt: skip


_NOT_LIVE = ("not published", "unreachable")


def _public(workspace: Workspace, data: dict[str, Any], pseudo: bool) -> dict[str, Any]:
    """``data`` without anything about partners: one group of progress rows, only of the
    course x locale pairs with a live version (in the region's index), and the words-over-time
    history of those pairs only (an unreleased course is not announced)."""
    rows = [
        {k: r[k] for k in _PUBLIC_ROW_KEYS}
        | {"kit": None, "state": None, "due": None, "overdue": False, "last_qa": None}
        for g in data["groups"]
        for r in g["rows"]
        if any(v not in _NOT_LIVE for v in r["published"].values())
    ]
    released = {(r["course"], r["locale"]) for r in rows}
    rows.sort(key=lambda r: (r["course"], r["locale"]))
    groups = (
        [{"id": "", "name": "Courses", "locales": sorted({r["locale"] for r in rows}), "rows": rows}] if rows else []
    )
    series = _series(workspace, pseudo, lambda course, locale: (course, locale) in released)
    return {
        "generated": data["generated"],
        "groups": groups,
        "series": series,
        "overdue": 0,
        "public": True,  # no assignment or QA columns: they would read "not sent" and "-" for every row
    }


_DASHES = ("", "7 4", "2 3", "10 3 2 3")


def _bar(row: dict[str, Any]) -> list[tuple[str, str]]:
    total = max(1, row["entries"])
    return [
        (css, f"{100.0 * row[key] / total:.2f}")
        for key, css in (("translated", "t"), ("fuzzy", "f"), ("untranslated", "u"))
        if row[key]
    ]


def _nice(top: int) -> int:
    """A round axis maximum at or above ``top``."""
    for step in (1, 2, 5):
        for power in range(0, 10):
            value = step * 10**power
            if value >= top:
                return int(value)
    return top


def chart(series: dict[str, list[tuple[str, int]]], *, now: datetime | None = None) -> dict[str, Any] | None:
    """Geometry of the words-over-time chart: a day axis with its range, one
    labelled, dashed-differently line per locale, each carried on to the end."""
    if not series:
        return None
    stamps = [datetime.fromisoformat(at) for s in series.values() for at, _ in s]
    first = min(stamps).astimezone(UTC)
    last = max([*stamps, now or max(stamps)]).astimezone(UTC)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = max(datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1), start + timedelta(days=1))
    days = (end - start).days
    top = _nice(max(1, max(words for s in series.values() for _, words in s)))
    width, height, left, right, top_y, bottom = 680, 260, 56, 600, 16, 224
    span = (end - start).total_seconds()

    def x(at: datetime) -> float:
        return left + (at.astimezone(UTC) - start).total_seconds() / span * (right - left)

    def y(words: int) -> float:
        return bottom - words / top * (bottom - top_y)

    lines: list[dict[str, Any]] = []
    for i, (locale, points) in enumerate(sorted(series.items())):
        coords = [(x(datetime.fromisoformat(at)), y(words)) for at, words in points]
        coords.append((x(last), coords[-1][1]))  # the latest count holds until now
        lines.append(
            {
                "locale": locale,
                "colour": COLOURS[i % len(COLOURS)],
                "dash": _DASHES[i % len(_DASHES)],
                "points": " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords),
                "end_x": round(coords[-1][0], 1),
                "end_y": round(coords[-1][1], 1),
                "last": points[-1][1],
            }
        )
    # labels at the line ends, pushed apart so that lines ending together stay readable
    previous = -1e9
    for line in sorted(lines, key=lambda s: float(s["end_y"])):
        label_y = round(max(float(line["end_y"]) + 4, previous + 14), 1)
        line["label_y"] = label_y
        previous = label_y
    ticks = min(days, 6)
    xticks = [
        (round(left + k / ticks * (right - left), 1), f"{start + (end - start) * k / ticks:%d %b}")
        for k in range(ticks + 1)
    ]
    values = sorted({top * k // 4 for k in range(5)})
    yticks = [(round(y(v), 1), f"{v:,}") for v in values]
    return {
        "width": width, "height": height, "left": left, "right": right, "top": top_y, "bottom": bottom,
        "series": lines, "xticks": xticks, "yticks": yticks, "days": days,
        "start": f"{start:%Y-%m-%d}", "end": f"{end - timedelta(days=1):%Y-%m-%d}",
    }  # fmt: skip


def render_dashboard(data: dict[str, Any], title: str = "Localization progress") -> str:
    groups = []
    for g in data["groups"]:
        rows = []
        for r in g["rows"]:
            rows.append(
                r
                | {
                    "bar": _bar(r),
                    "bar_label": f"{r['translated']} translated, {r['fuzzy']} fuzzy, {r['untranslated']} untranslated",
                }
            )
        groups.append(g | {"rows": rows})
    return render(
        "dashboard.html",
        title=title,
        generated=data["generated"],
        overdue=data["overdue"],
        groups=groups,
        chart=chart(data["series"]),
        bands=BANDS,
        band_names=BAND_NAMES,
        kits=data.get("kits"),  # None on a public page: no kits section
        public=data.get("public", False),
        kit_totals=data.get("kit_totals") or _kit_totals([]),
        consistency=data.get("consistency", []),
    )


def refresh_consistency(workspace: Workspace) -> list[str]:
    """Find the inconsistencies of every locale anew (reading all its catalogs) and save
    their summaries; returns the locales."""
    locales = sorted({ll for _, ll in workspace.catalogs()} - {PSEUDO_LOCALE})
    for ll in locales:
        uses = uses_of(workspace, ll)
        save_summary(workspace, ll, uses, find_inconsistencies(uses))
    return locales


def write_report(
    out: str,
    *,
    locales_dir: str | None = None,
    config_path: str | None = None,
    pseudo: bool = False,
    consistency: bool = False,
) -> str:
    """Write the dashboard to ``out``; ``consistency`` first finds every locale's inconsistencies
    anew (reads every catalog: on demand only)."""
    config = load_config(config_path) if config_path else None
    location = locales_dir or (config.workspace_location if config else "locales")
    workspace = Workspace(location)
    if Path(out).is_dir():
        raise ConfigError("is a folder; give the file to write, for example report.html", path=out)
    if consistency:
        refresh_consistency(workspace)
    page = render_dashboard(collect(workspace, config, pseudo=pseudo))
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return str(path)
