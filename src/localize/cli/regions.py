"""CLI: regions."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from localize.app.regions import export, list_versions, publish, rollback
from localize.catalogs.stats import format_share
from localize.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PARTIAL,
    SOURCE_HELP,
    HelpFormatter,
    add_config,
    add_jobs,
    add_workspace,
    bytes_progress,
    config_of,
    config_with_workspace,
    locale_arg,
)
from localize.config import DEFAULT_CONFIG, load_config
from localize.errors import LocalizeError, printable
from localize.regions.keys import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, TrustedKeys, generate_keys, show_fingerprint
from localize.regions.mirror_health import Verified, mirror_status, older_copies, verify_mirror
from localize.regions.pull import PullResult, pull, pull_all, rollback_local
from localize.regions.remote import shown_location
from localize.regions.safe_files import refuse_trust_inside


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "publish",
        help="build a locale and publish it to its regions",
        description="Build COURSE in LL and upload it to every region serving LL (or --region R):\n"
        "content-addressed objects (only what the region lacks is uploaded), a manifest per\n"
        "version, then the live pointer, swapped with a conditional write; the region index\n"
        "lists what is available. An unchanged course uploads nothing.\n\n"
        "The region's public progress page (report.html beside its index) covers the whole\n"
        "fleet, so reading it costs as much as the fleet: --dashboard refreshes it after this\n"
        "course (do it once after a batch); the flows refresh it once at the end of their run.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--course", required=True, metavar="ID", help="the course to publish")
    p.add_argument("--locale", required=True, type=locale_arg, metavar="LL", help="the locale to publish")
    p.add_argument("--region", metavar="R", help="only this region (default: every region serving LL)")
    p.add_argument("--source", metavar="SOURCE", help=SOURCE_HELP + " (default: where `extract` read it)")
    p.add_argument("--dry-run", action="store_true", help="say what would be uploaded, upload nothing")
    p.add_argument(
        "--repair",
        action="store_true",
        help="read and hash every object of the live version first, and upload again, in a new version, "
        "any the region lacks or holds with other bytes (deleted or replaced in the bucket; mirrors "
        "then fail with 'missing object' or a sha256 mismatch)",
    )
    p.add_argument(
        "--dashboard",
        action="store_true",
        help="also refresh the public progress page of each region that got a new version (reads the whole fleet)",
    )
    add_jobs(p)
    add_workspace(p)
    add_config(p)
    p.set_defaults(func=cmd_publish)
    p = sub.add_parser(
        "versions",
        help="list the published versions of a course in a region",
        description="List the versions of COURSE/LL kept in region R, newest first: the live one is\n"
        "marked *, with when it was published, its files and how much of it is translated.\n"
        "`localize rollback --to VERSION` makes an earlier one live again.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--course", required=True, metavar="ID", help="the course")
    p.add_argument("--locale", required=True, type=locale_arg, metavar="LL", help="the locale")
    p.add_argument("--region", required=True, metavar="R", help="the region (as named in the configuration)")
    add_config(p)
    p.set_defaults(func=cmd_versions)
    p = sub.add_parser(
        "rollback",
        help="point a region back to an earlier version",
        description="Move the live pointer of COURSE/LL in region R back to the previous version\n"
        "(or --to VERSION). The previous version is the one live before the current one, so a\n"
        "second rollback without --to returns to where the first started. Mirrors get it on their\n"
        "next pull. The pointer's swap is the rollback; when the region index cannot be written\n"
        "after it, the error says so, and --to the version now live only brings the index up to\n"
        "date (a rollback without --to is refused while the index lags the pointer: it could mean\n"
        "either version).",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--course", required=True, metavar="ID", help="the course")
    p.add_argument("--locale", required=True, type=locale_arg, metavar="LL", help="the locale")
    p.add_argument("--region", required=True, metavar="R", help="the region (as named in the configuration)")
    p.add_argument("--to", metavar="VERSION", help="the version to make live (default: the previous one)")
    add_config(p)
    p.set_defaults(func=cmd_rollback)
    p = sub.add_parser(
        "pull",
        help="fetch a published course onto a mirror",
        description="Download COURSE/LL from LOCATION (s3://bucket/prefix, or an https:// base URL of a\n"
        "public bucket or CDN) into DEST: only files that changed, every sha256 verified, staged\n"
        "beside the live version and switched with one atomic rename (DEST/COURSE/LL is a\n"
        "symlink). An interrupted pull resumes; a damaged file stops it before anything\n"
        "switches. --all pulls everything in the region index; --rollback switches back.\n"
        "LOCATION may be a folder or a mounted drive that `localize export` wrote (a delta export\n"
        "takes what it does not carry from the mirror's own verified copies). --verify re-hashes\n"
        "the live copy and repairs what differs; --status says which version each course and\n"
        "locale is on and whether it is behind the region.",
        formatter_class=HelpFormatter,
    )
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--from",
        dest="location",
        metavar="LOCATION",
        help="the region: s3://bucket/prefix, an https:// base URL, or a folder (an export on a drive)",
    )
    what.add_argument(
        "--rollback", action="store_true", help="switch DEST back to the previous version it holds (no download)"
    )
    p.add_argument("--course", metavar="ID", help="the course (or --all)")
    p.add_argument("--locale", type=locale_arg, metavar="LL", help="the locale (or --all)")
    p.add_argument("--dest", required=True, metavar="DIR", help="the mirror's folder")
    p.add_argument("--all", action="store_true", help="every course and locale in the region index")
    check = p.add_mutually_exclusive_group()
    check.add_argument(
        "--verify",
        action="store_true",
        help="re-hash the live copy of every course the mirror holds (or --course/--locale) and repair "
        "what differs from LOCATION, saying what was fixed",
    )
    check.add_argument(
        "--status",
        action="store_true",
        help="which version each course and locale is on, and whether it is behind the region (one read of its index)",
    )
    p.add_argument(
        "--allow-older",
        action="store_true",
        help="take a pointer older than the one the mirror is on (a deliberate rollback from an old drive); "
        "without it an older pointer is refused and nothing changes",
    )
    p.add_argument(
        "--region",
        metavar="NAME",
        help="the region this mirror serves: a release signed for another region is refused (default: the "
        "region the mirror's pulls recorded; for a course's first pull by --all, the one the index names)",
    )
    p.add_argument(
        "--trust",
        action="append",
        metavar="FILE",
        help="a public key (PEM) whose signatures are accepted; repeat it for two keys during a rotation. "
        "Anything unsigned or signed by another key is refused (default: [mirror] trust in the configuration)",
    )
    p.add_argument(
        "--max-rate",
        type=rate_arg,
        metavar="RATE",
        help="cap the download rate, in bytes a second (suffixes k, M, G: 200k, 1.5M); default: no cap",
    )
    p.set_defaults(func=cmd_pull)
    p = sub.add_parser(
        "export",
        help="write a region onto a folder or drive, for mirrors without a link",
        description="Write the live versions of region R (or of --course ID) into DIR as a\n"
        "self-contained snapshot: objects, manifests, pointers, their signatures, a signed\n"
        "index, README.txt for the person carrying it and export.json listing what it holds.\n"
        "--since EARLIER writes a delta: only the objects the earlier export lacks. DIR is\n"
        "staged beside it and appears only when complete; a rerun resumes an interrupted one.\n"
        "Mirrors import it with `localize pull --from DIR --all --dest SITE --trust KEY`.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--region", required=True, metavar="R", help="the region (as named in the configuration)")
    p.add_argument(
        "--course", action="append", metavar="ID", help="only this course (repeat it for several; default: all)"
    )
    p.add_argument("--since", metavar="EARLIER", help="an earlier export of the region: carry only what it lacks")
    p.add_argument("--to", required=True, metavar="DIR", help="the new export folder (on the drive)")
    add_config(p)
    p.set_defaults(func=cmd_export)
    p = sub.add_parser(
        "keys",
        help="make the coordinators' signing key",
        description="Signed releases: publish signs every pointer and manifest with the region's\n"
        "signing_key (or LOCALIZE_SIGNING_KEY); `pull --trust FILE` refuses what that key did not sign.",
        formatter_class=HelpFormatter,
    )
    keys = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    g = keys.add_parser(
        "generate",
        help="write a new Ed25519 key pair and print its fingerprint",
        description=f"Write DIR/{PRIVATE_KEY_FILE} (the private key, PEM, mode 0600: keep it with the\n"
        f"coordinators, never in a bucket) and DIR/{PUBLIC_KEY_FILE} (the public key, for mirrors'\n"
        "--trust), and print the fingerprint: the sha256 of the raw public key, in groups of four.\n"
        "An existing key is never overwritten.",
        formatter_class=HelpFormatter,
    )
    g.add_argument("--out", required=True, metavar="DIR", help="the folder for the two key files")
    g.set_defaults(func=cmd_keys_generate)


def cmd_publish(args: argparse.Namespace) -> int:
    results = publish(
        config_with_workspace(args),
        args.course,
        args.locale,
        region=args.region,
        source=args.source,
        dry_run=args.dry_run,
        jobs=args.jobs,
        dashboard=args.dashboard,
        repair=args.repair,
    )
    failed = 0
    for r in results:
        if r.error is not None:
            failed += 1
            print(f"error: {r.region}: {r.message}", file=sys.stderr)
            continue
        print(f"{r.region}: {r.message}")
        for warning in () if args.quiet else r.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        for path in r.would_upload:
            print(f"  would upload {path}")
    return (EXIT_FAILED if failed == len(results) else EXIT_PARTIAL) if failed else EXIT_OK  # 2: nothing done


def cmd_versions(args: argparse.Namespace) -> int:
    found = list_versions(config_of(args), args.region, args.course, args.locale)
    if not found:
        print(f"{args.course}/{args.locale} has no published versions in {args.region}")
    for v in reversed(found):  # newest first, as --help says (the list is oldest first)
        if v.error is not None:
            print(printable(f"{'*' if v.live else ' '} {v.version}  damaged: {v.error}"))
            continue
        print(
            f"{'*' if v.live else ' '} {v.version}  {v.created}  {v.files} files  {_shown(v.translated_percent)} of entries translated"
        )
    return EXIT_PARTIAL if any(v.error for v in found) else EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    old, new = rollback(config_of(args), args.region, args.course, args.locale, args.to)
    if old == new:
        print(f"{args.region}: {args.course}/{args.locale} version {new} is live already; the region index names it")
    else:
        print(f"{args.region}: {args.course}/{args.locale} live version {old} -> {new}")
    return EXIT_OK


def rate_arg(value: str) -> float:
    """A rate in bytes a second: 500000, 200k, 1.5M, 1G."""
    text = value.strip()
    scale = {"k": 1e3, "m": 1e6, "g": 1e9}.get(text[-1:].lower(), 1.0)
    number = text[:-1] if scale != 1.0 else text
    try:
        rate = float(number)
    except ValueError:
        rate = 0.0
    if not rate > 0 or rate == float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r} is not a rate: give bytes a second, e.g. 500000, 200k or 1.5M")
    if rate * scale < 1000:  # slower would look like a stalled pull
        raise argparse.ArgumentTypeError(f"{value!r} is under 1k (1000 bytes a second); give at least 1k")
    return rate * scale


def cmd_pull(args: argparse.Namespace) -> int:
    if args.rollback:
        if not (args.course and args.locale):
            print("error: --rollback needs --course and --locale", file=sys.stderr)
            return EXIT_FAILED
        old, new = rollback_local(args.dest, args.course, args.locale)
        print(f"{args.dest}/{args.course}/{args.locale}: {old} -> {new}")
        return EXIT_OK
    if not args.location:
        print("error: --from LOCATION is required", file=sys.stderr)
        return EXIT_FAILED
    trust = _trust(args)
    if args.status:
        rows = mirror_status(args.location, args.dest, endpoint_url=args.endpoint_url, trust=trust)
        for row in rows:
            print(
                printable(
                    f"{row.course}/{row.locale}: {row.state} (mirror {row.mirror or '-'}, region {row.region or '-'})"
                )
            )
        if not rows:
            print(f"nothing in {shown_location(args.location)} or {args.dest}")
        return EXIT_OK
    if args.verify:
        if bool(args.course) != bool(args.locale):
            print("error: --verify takes both --course and --locale, or neither (every course)", file=sys.stderr)
            return EXIT_FAILED
        checked = verify_mirror(
            args.location,
            args.dest,
            course=args.course,
            locale=args.locale,
            endpoint_url=args.endpoint_url,
            trust=trust,
        )
        for v in checked:
            if not isinstance(v, Verified):
                print(f"error: {v}", file=sys.stderr)
                continue
            print(f"{v.course}/{v.locale}: {v.message}")
            for path in v.repaired:
                print(f"  repaired {path}")
            for path in v.removed:
                print(f"  removed {path}")
        return EXIT_PARTIAL if any(not isinstance(v, Verified) for v in checked) else EXIT_OK
    if args.all:

        def show(r: PullResult | LocalizeError) -> None:  # as each ends: an interrupted run shows what is done
            with contextlib.suppress(OSError):  # a closed or full output never stops the pull itself
                if isinstance(r, LocalizeError):
                    print(f"error: {r}", file=sys.stderr)
                else:
                    print(f"{r.course}/{r.locale}: {r.message}", flush=True)

        try:
            results = pull_all(
                args.location, args.dest, endpoint_url=args.endpoint_url, trust=trust, max_rate=args.max_rate,
                allow_older=args.allow_older, on_result=show, region=args.region,
            )  # fmt: skip
        except KeyboardInterrupt:
            print("interrupted: what is listed above is done; run the same command again to finish (a course "
                  "cut short goes on from what it had staged, its live version unchanged meanwhile)", file=sys.stderr)  # fmt: skip
            return 130
        failed = sum(1 for r in results if isinstance(r, LocalizeError))
        moved = sum(r.moved_bytes for r in results if not isinstance(r, LocalizeError))
        print(f"{moved} bytes moved in all")
        return EXIT_PARTIAL if failed else EXIT_OK
    if not (args.course and args.locale):
        print("error: give --course and --locale, or --all", file=sys.stderr)
        return EXIT_FAILED
    with bytes_progress(f"pulling {args.course}/{args.locale}", args.quiet, sys.stderr) as tick:
        result = pull(
            args.location,
            args.course,
            args.locale,
            args.dest,
            endpoint_url=args.endpoint_url,
            progress=tick,
            trust=trust,
            max_rate=args.max_rate,
            allow_older=args.allow_older,
            region=args.region,
        )
    print(f"{args.course}/{args.locale}: {result.message}")
    if not args.quiet:
        for old in older_copies(Path(args.dest), args.course, args.locale):
            where = printable(str(Path(args.dest) / args.course / old))
            print(
                f"warning: {where} holds {args.course} pulled under {old}, an older spelling of {args.locale}: "
                f"serve {args.locale} now, then delete {old}",
                file=sys.stderr,
            )
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    with bytes_progress(f"exporting {args.region}", args.quiet, sys.stderr) as tick:
        done = export(
            config_of(args),
            args.region,
            args.to,
            courses=args.course,
            since=args.since,
            progress=lambda _, n: tick("", n),
        )
    kind = f"delta since export {done.since}" if done.since else "full export"
    count = f"{len(done.versions)} live version{'s' if len(done.versions) != 1 else ''}"
    print(
        f"{args.region} -> {done.folder}: export {done.export_id} ({kind}), {count}, "
        f"{done.carried} of {done.objects} objects carried ({done.carried_bytes} bytes)"
    )
    for course, locale, version in done.versions:
        print(f"  {course}/{locale}: version {version}")
    if done.signed_by:
        print(f"signed by {show_fingerprint(done.signed_by)}")
    else:
        print("not signed (the region has no signing_key): mirrors cannot check it with --trust")
    return EXIT_OK


def _trust(args: argparse.Namespace) -> TrustedKeys | None:
    """--trust, else the configuration's [mirror] trust (--config, or ./localize.toml when there is one)."""
    if args.trust:
        refuse_trust_inside(args.location, [Path(p) for p in args.trust])
        return TrustedKeys.from_files(args.trust)
    path = args.config or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None)
    if path is None:
        return None
    refuse_trust_inside(args.location, [Path(path)])
    config = load_config(path)
    if not config.mirror.trust:
        return None
    keys = [config.resolve(p) for p in config.mirror.trust]
    refuse_trust_inside(args.location, [Path(k) for k in keys])
    return TrustedKeys.from_files(keys)


def cmd_keys_generate(args: argparse.Namespace) -> int:
    made = generate_keys(args.out)
    print(f"private key: {made.private} (mode 0600; keep it secret: set it as a region's signing_key)")
    print(f"public key:  {made.public} (give it to mirrors: pull --trust)")
    print(f"fingerprint: {show_fingerprint(made.fingerprint)}")
    return EXIT_OK


def _shown(percent: object) -> str:
    return format_share(percent) if isinstance(percent, int | float) else "?"
