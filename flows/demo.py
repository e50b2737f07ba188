"""``make demo``: the whole pipeline on the sample course, on this machine alone.

Starts a local SeaweedFS (S3) server, runs the ``localize-course`` flow on the
sample course (Prefect without a server: it starts a temporary one in-process),
plays the two sample partners returning their translations (Spanish and
Arabic, each with one deliberately bad entry), runs the flow again to take
them in and publish to two regions, pulls one region into ``demo-site/``, exports
the ``mena`` region onto a drive folder (signed) and brings a second mirror up
from it with ``--trust``, and says where to look. It stops the processes it started.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "src" / "localize" / "samples"
COURSE = "intro-course"


def say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def translate_xliff_kit(inbox: Path, locale: str) -> str:
    """What Cairo's CAT tool does: fill the XLIFF kit's targets (the sample translations,
    inline codes kept) and save the file into returns/."""
    from localize.catalogs.po import read_po
    from localize.catalogs.xliff import read_xliff, write_xliff

    [kit] = sorted(inbox.glob(f"kits/{COURSE}/{locale}/*/{COURSE}.{locale}.xlf"))
    catalog = read_xliff(kit.read_bytes(), str(kit)).catalog
    done = {e.key: e.msgstr for e in read_po((SAMPLES / "returns" / f"{COURSE}.{locale}.po").read_bytes()).entries}
    from dataclasses import replace

    filled = replace(catalog, entries=tuple(replace(e, msgstr=done.get(e.key, e.msgstr)) for e in catalog.entries))
    name = f"{COURSE}.{locale}.xlf"
    (inbox / "returns").mkdir(parents=True, exist_ok=True)
    (inbox / "returns" / name).write_bytes(
        write_xliff(filled, original=f"{COURSE}.{locale}.po", source_locale="en", target_locale=locale)
    )
    return name


def sign_off_review_kit(inbox: Path, locale: str) -> str:
    """What the reviewer does in Poedit: read the review kit and approve every translation
    (clear its fuzzy mark), then save it into returns/."""
    from dataclasses import replace

    from localize.catalogs.po import read_po, write_po

    [kit] = sorted(inbox.glob(f"kits/{COURSE}/{locale}/*/{COURSE}.{locale}.po"))
    catalog = read_po(kit.read_bytes(), str(kit))
    approved = replace(
        catalog, entries=tuple(replace(e, flags=tuple(f for f in e.flags if f != "fuzzy")) for e in catalog.entries)
    )
    (inbox / "returns").mkdir(parents=True, exist_ok=True)
    (inbox / "returns" / kit.name).write_text(write_po(approved), encoding="utf-8")
    return kit.name


def main(out: str = "demo-output", site: str = "demo-site") -> int:
    from flows import without_telemetry
    from localize_dev.seaweed import SeaweedFS

    without_telemetry()  # as `make demo` has it
    root, site_dir = Path(out).resolve(), Path(site).resolve()
    for path in (root, site_dir):
        if path.exists():
            shutil.rmtree(path)
    root.mkdir(parents=True)
    config = root / "localize.toml"
    shutil.copy(SAMPLES / "localize.toml", config)
    from localize.regions.keys import generate_keys, show_fingerprint

    keys = generate_keys(root / "keys")  # the coordinators sign what mena publishes
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace('name = "mena"\n', 'name = "mena"\nsigning_key = "keys/localize-signing.pem"\n', 1),
        encoding="utf-8",
    )
    shutil.copytree(SAMPLES / "notices", root / "notices")  # the regions' attribution notices
    print(
        f"signing key for region mena: {keys.private} (public: {keys.public}, "
        f"fingerprint {show_fingerprint(keys.fingerprint)}; `localize keys generate` makes one)"
    )
    started = time.monotonic()
    say("starting a local S3 server (SeaweedFS) on 127.0.0.1")
    with SeaweedFS(root / "s3-data", buckets=("localize-demo",)) as s3:
        os.environ.update(s3.env())
        print(f"S3 endpoint {s3.endpoint}")
        from flows.localize_course import localize_course
        from localize.app.glossary import import_glossary
        from localize.catalogs.workspace import Workspace
        from localize.regions.pull import pull

        say("the coordinator imports the partners' glossaries (TBX of record in locales/glossary/)")
        for locale in ("es", "ar"):
            g = import_glossary(Workspace(str(root / "locales")), str(SAMPLES / "glossary" / f"{locale}.csv"), locale)
            print(f"{locale}: {g.imported} terms -> {g.path}")

        say("run 1 of localize-course: extract, send kits to the partners (Prefect starts in-process)")
        first = localize_course(COURSE, source=str(SAMPLES / COURSE), config=str(config))
        for r in first["routed"]:
            print(
                f"kit {r.get('kit')} -> {r.get('partner')} ({r['locale']}): {r.get('words_to_translate')} words, due {r.get('due')}"
            )
        for r in first["published"]:
            print(f"publish {r['locale']} -> {r.get('region')}: {r.get('message') or r.get('error')}")

        say("the partners translate and return their files (Lima in Poedit: .po; Cairo in a CAT tool: XLIFF)")
        returns = root / "inboxes" / "lima" / "returns"
        returns.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / "returns" / f"{COURSE}.es.po", returns / f"{COURSE}.es.po")
        print(f"lima: returns/{COURSE}.es.po")
        print(f"cairo: returns/{translate_xliff_kit(root / 'inboxes' / 'cairo', 'ar')}")

        say("run 2 of localize-course: QA gate, merge, publish to two regions")
        second = localize_course(COURSE, config=str(config))
        for r in second["ingested"]:
            print(f"{r['partner']}: {r['file']} {r['state']} ({r['accepted']} accepted, {r['rejected']} rejected)")
            for error in r["errors"]:
                print(f"    {error}")
            for warning in r.get("terminology", []):
                print(f"    {warning}")
        for r in second["published"]:
            print(f"publish {r['locale']} -> {r.get('region')}: {r.get('message') or r.get('error')}")

        say("Lima's review board signs the Spanish translations off (latam publishes reviewed work only)")
        from localize.app.regions import publish
        from localize.config import load_config
        from localize.partners.ingest import ingest
        from localize.partners.routing import route

        settings = load_config(config)
        kit = route(settings, COURSE, "es", review=True)
        print(f"review kit {kit.assignment.kit} -> lima-review: {kit.assignment.entries} translations to review")
        print(f"lima-review: returns/{sign_off_review_kit(root / 'inboxes' / 'lima-review', 'es')}")
        for report in ingest(settings, "lima-review"):
            print(report.summary())
        for result in publish(settings, COURSE, "es"):
            print(f"publish es -> {result.region}: {result.message}")

        say("a regional mirror pulls its courses (region mena: Arabic; region latam: Spanish)")
        for region, locale in (("mena", "ar"), ("latam", "es")):
            pulled = pull(f"s3://localize-demo/regions/{region}", COURSE, locale, site_dir)
            print(f"{region}: {pulled.message}")

        say("no link where the next mirror is: export mena onto a drive, bring a mirror up from it (--trust)")
        from localize.app.regions import export
        from localize.regions.keys import TrustedKeys
        from localize.regions.mirror_health import mirror_status
        from localize.regions.pull import pull_all

        drive = root / "drive" / "mena"
        done = export(settings, "mena", drive)
        print(
            f"export {done.export_id} -> {drive}: {done.carried} objects ({done.carried_bytes} bytes), "
            f"signed by {show_fingerprint(keys.fingerprint)}"
        )
        offline = root / "offline-mirror"
        trust = TrustedKeys.from_files([keys.public])
        for r in pull_all(str(drive), offline, trust=trust):
            print(f"offline mirror: {r if isinstance(r, Exception) else f'{r.course}/{r.locale}: {r.message}'}")
        for row in mirror_status(str(drive), offline, trust=trust):
            print(f"offline mirror: {row.course}/{row.locale} {row.state} (version {row.mirror})")

    reports = sorted(str(p) for p in (root / "inboxes").glob("*/reports/*.html"))
    kits = sorted(p.parent for p in (root / "inboxes" / "lima" / "kits" / COURSE / "es").glob("*/preview.html"))
    kit_dir = kits[-1] if kits else root / "inboxes" / "lima" / "kits" / COURSE / "es"
    say(f"done in {time.monotonic() - started:.0f} s; the S3 server is stopped")
    print(f"""
Localized pages (open in a browser):
  {site_dir}/{COURSE}/ar/index.html      Arabic, right to left
  {site_dir}/{COURSE}/es/index.html      Spanish
  serve them: python -m http.server -d {site_dir} 8000  ->  http://127.0.0.1:8000/{COURSE}/ar/
Kits with the glossary (glossary.tbx, "#. Terms:" comments, word counts by match band in kit.json)
and an offline preview (open preview.html in the kit's folder, then choose the returned file):
  {kit_dir}/
  {SAMPLES}/returns/{COURSE}.es.po   (Lima's translation, to choose in its preview.html)
QA reports sent back to the partners:
  {chr(10).join("  " + r for r in reports).lstrip()}
A drive for places without a link (region mena, signed; README.txt for whoever carries it):
  {drive}/README.txt
  and the mirror brought up from it: {offline}/{COURSE}/ar/index.html
  (localize pull --from {drive} --all --dest {offline} --trust {keys.public})
Coordinators' dashboard (also published beside each region's index):
  {root}/report.html
Catalogs of record and assignments:
  {root}/locales/
The Prefect runs (flow runs, task states, artifacts): PREFECT_HOME={os.environ.get("PREFECT_HOME", "~/.prefect")} {Path(sys.executable).parent / "prefect"} server start
""")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
