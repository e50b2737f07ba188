"""Publishing to regions and pulling onto mirrors, against a real S3 server."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import SAMPLE
from localize.app.regions import publish
from localize.catalogs.po import read_po, write_po
from localize.cli import main
from localize.config import load_config
from localize.errors import IntegrityError, StorageError
from localize.regions.attribution import Credits, region_notice
from localize.regions.layout import read_manifest, read_pointer, region_storage, versions
from localize.regions.pull import live_version, pull

COURSE = "intro-course"


def setup_workspace(tmp_path: Path, regions: str, capsys: pytest.CaptureFixture[str] | None = None) -> Path:
    """A course folder we can edit, a workspace with es and ar fully translated, a config."""
    course = tmp_path / "course"
    shutil.copytree(SAMPLE, course)
    config = tmp_path / "localize.toml"
    config.write_text('[workspace]\nlocation = "ws"\n\n' + regions)
    ws = str(tmp_path / "ws")
    assert main(["extract", str(course), "--course", COURSE, "--locales-dir", ws, "-q"]) == 0
    for locale, prefix in (("es", "ES "), ("ar", "عربي ")):
        assert main(["init", "--course", COURSE, "--locale", locale, "--locales-dir", ws]) == 0
        path = tmp_path / "ws" / locale / "LC_MESSAGES" / f"{COURSE}.po"
        cat = read_po(path.read_bytes())
        path.write_text(
            write_po(replace(cat, entries=tuple(replace(e, msgstr=prefix + e.msgid) for e in cat.entries))),
            encoding="utf-8",
        )
    if capsys is not None:
        capsys.readouterr()
    return config


def regions_toml(bucket_a: str, bucket_b: str, **extra: str) -> str:
    more = "".join(f"{k} = {v}\n" for k, v in extra.items())
    return (
        f'[[regions]]\nname = "latam"\nlocation = "s3://{bucket_a}/mirror"\nlocales = ["es"]\n{more}\n'
        f'[[regions]]\nname = "mena"\nlocation = "s3://{bucket_b}"\nlocales = ["ar", "es"]\n{more}'
    )


ATTRIBUTION = re.compile(rb'(<body[^>]*>)<div class="localize-attribution" role="note"[^>]*>.*?</div>', re.S)


def without_attribution(data: bytes) -> bytes:
    """A published page less its attribution notice, which must be there once, right after
    ``<body>`` (a fragment without one has none); the rest of the page is what ``localize
    build`` writes, byte for byte."""
    stripped, found = ATTRIBUTION.subn(rb"\1", data)
    assert found == (1 if re.search(rb"<body", data, re.IGNORECASE) else 0), data[:300]
    return stripped


def published_hashes(root: Path) -> dict[str, str]:
    """:func:`tree_hashes` of a pulled site, each translated page's attribution notice taken out."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(
            without_attribution(p.read_bytes()) if p.suffix == ".html" else p.read_bytes()
        ).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def object_count(storage: object) -> int:
    return len(list(storage.list("objects/sha256")))  # type: ignore[attr-defined]


def second_bucket(seaweed: object, name: str) -> str:
    from localize.storage.s3 import S3Location, S3Storage

    S3Storage(S3Location(name, endpoint_url=seaweed.endpoint), client=seaweed.client()).ensure_bucket()  # type: ignore[attr-defined]
    return name


def test_publish_pull_round_trip_two_locales_two_regions(
    seaweed, s3_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    other = second_bucket(seaweed, s3_env + "-b")
    config_path = setup_workspace(tmp_path, regions_toml(s3_env, other), capsys)
    config = load_config(config_path)
    results = publish(config, COURSE, "es")
    assert [(r.region, r.published) for r in results] == [("latam", True), ("mena", True)]
    [ar] = publish(config, COURSE, "ar")
    assert ar.region == "mena" and ar.published
    # the second region shares objects between locales: the images went up once
    assert ar.uploaded_objects < results[1].uploaded_objects
    mirror = tmp_path / "mirror"
    for location, locale in ((f"s3://{s3_env}/mirror", "es"), (f"s3://{other}", "ar"), (f"s3://{other}", "es")):
        dest = mirror / location.split("//")[1].replace("/", "_")
        result = pull(location, COURSE, locale, dest)
        assert result.switched
        built = tmp_path / "built" / locale
        assert (
            main(
                [
                    "build",
                    str(tmp_path / "course"),
                    "--course",
                    COURSE,
                    "--locale",
                    locale,
                    "--locales-dir",
                    str(tmp_path / "ws"),
                    "--out",
                    str(built),
                    "-q",
                ]
            )
            == 0
        )
        assert published_hashes(dest / COURSE / locale) == tree_hashes(built)
        assert (dest / COURSE / locale).is_symlink()
    page = (mirror / other / COURSE / "ar" / "index.html").read_text(encoding="utf-8")
    assert '<html dir="rtl" lang="ar">' in page and "عربي " in page
    index = json.loads(region_storage(config.region("mena"), config).read_bytes("index.json"))
    assert sorted(index["courses"][COURSE]) == ["ar", "es"]
    # nothing changed: nothing uploaded
    assert [r.message.startswith("unchanged since version") for r in publish(config, COURSE, "es")] == [True, True]


def test_one_page_edit_uploads_one_object_a_manifest_and_the_pointer(
    s3_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = setup_workspace(tmp_path, regions_toml(s3_env, s3_env + "x").split('[[regions]]\nname = "mena"')[0])
    config = load_config(config_path)
    [cold] = publish(config, COURSE, "es")
    storage = region_storage(config.region("latam"), config)
    before = object_count(storage)
    assert cold.uploaded_objects == before
    page = tmp_path / "course" / "pages" / "syllabus" / "index.html"
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<!-- edited --></body>"))
    [dry] = publish(config, COURSE, "es", dry_run=True)
    assert dry.dry_run and dry.would_upload == ("pages/syllabus/index.html",)
    [warm] = publish(config, COURSE, "es")
    assert (warm.uploaded_objects, warm.metadata_writes, warm.reused_objects) == (1, 3, cold.uploaded_objects - 1)
    built_page = tmp_path / "one.html"
    assert (
        main(
            [
                "build",
                str(tmp_path / "course"),
                "--course",
                COURSE,
                "--locale",
                "es",
                "--locales-dir",
                str(tmp_path / "ws"),
                "--out",
                str(tmp_path / "b"),
                "-q",
            ]
        )
        == 0
    )
    shutil.copy(tmp_path / "b" / "pages" / "syllabus" / "index.html", built_page)
    [record] = [f for f in read_manifest(storage, COURSE, "es", warm.version or "").files if "syllabus" in f.path]
    stored = storage.read_bytes(record.key)
    published_page = gzip.decompress(stored) if record.encoding == "gzip" else stored
    assert without_attribution(published_page) == built_page.read_bytes()
    assert warm.uploaded_bytes == len(published_page) and warm.stored_bytes == len(stored)
    assert object_count(storage) == before + 1
    capsys.readouterr()
    code = main(["versions", "--course", COURSE, "--locale", "es", "--region", "latam", "--config", str(config_path)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and len(lines) == 2 and lines[0].startswith(f"* {warm.version}")  # newest first
    assert lines[1].startswith(f"  {cold.version}")


def test_rollback_and_retention(s3_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_path = setup_workspace(
        tmp_path,
        regions_toml(s3_env, "unused", keep_versions="2", gc_grace_seconds="0").split('[[regions]]\nname = "mena"')[0],
    )
    config = load_config(config_path)
    storage = region_storage(config.region("latam"), config)
    page = tmp_path / "course" / "index.html"
    published = []
    for i in range(4):
        page.write_bytes(page.read_bytes().replace(b"</body>", f"<!-- v{i} --></body>".encode()))
        [r] = publish(config, COURSE, "es")
        published.append(r.version)
        if i == 0:  # it said "name one with --to", with no other version to name
            capsys.readouterr()
            argv = ["rollback", "--course", COURSE, "--locale", "es", "--region", "latam", "--config", str(config_path)]
            assert main(argv) == 2
            assert capsys.readouterr().err == (
                f"error: {COURSE}/es in 'latam' has no previous version to roll back to: it has only the live one\n"
            )
    kept = versions(storage, COURSE, "es")
    assert kept == published[-2:]
    # objects only the pruned versions used are gone; every object a kept version uses is there
    used = {
        f["sha256"]
        for v in kept
        for f in json.loads(storage.read_bytes(f"courses/{COURSE}/es/versions/{v}.json"))["files"]
    }
    stored = {key.rsplit("/", 1)[-1].removesuffix(".gz") for key in storage.list("objects/sha256")}
    assert stored == used and len(stored) > 3
    capsys.readouterr()
    assert (
        main(["rollback", "--course", COURSE, "--locale", "es", "--region", "latam", "--config", str(config_path)]) == 0
    )
    assert capsys.readouterr().out == f"latam: {COURSE}/es live version {published[3]} -> {published[2]}\n"
    pointer, _ = read_pointer(storage, COURSE, "es")
    assert pointer is not None and pointer["version"] == published[2]
    dest = tmp_path / "mirror"
    assert pull(f"s3://{s3_env}/mirror", COURSE, "es", dest).version == published[2]
    assert (
        main(
            [
                "rollback",
                "--course",
                COURSE,
                "--locale",
                "es",
                "--region",
                "latam",
                "--to",
                published[0],
                "--config",
                str(config_path),
            ]
        )
        == 2
    )
    assert "no version" in capsys.readouterr().err


def test_policy_thresholds(tmp_path: Path) -> None:
    regions = (
        '[[regions]]\nname = "strict"\nlocation = "regions/strict"\nlocales = ["es"]\nmin_translated = 99.5\n\n'
        '[[regions]]\nname = "pages"\nlocation = "regions/pages"\nlocales = ["es"]\npage_threshold = 50\n\n'
        '[[regions]]\nname = "omit"\nlocation = "regions/omit"\nlocales = ["es"]\npage_threshold = 50\nbelow_threshold = "omit"\n\n'
        '[[regions]]\nname = "reviewed"\nlocation = "regions/reviewed"\nlocales = ["es"]\nrequire_review = true\n'
        "min_translated = 10\n"
    )
    config_path = setup_workspace(tmp_path, regions)
    # untranslate everything that appears only on the calendar page
    po = tmp_path / "ws" / "es" / "LC_MESSAGES" / f"{COURSE}.po"
    cat = read_po(po.read_bytes())
    cat = replace(
        cat,
        entries=tuple(
            replace(e, msgstr="") if e.references == ("pages/calendar/index.html",) else e for e in cat.entries
        ),
    )
    po.write_text(write_po(cat), encoding="utf-8")
    strict, pages, omit, reviewed = publish(load_config(config_path), COURSE, "es")
    assert (
        not strict.published
        and strict.message.startswith("only ")
        and "region strict publishes from 99.5 % of words" in strict.message
    )
    assert pages.published and omit.published
    # nothing was reviewed: the message says so, not that nothing was translated
    assert not reviewed.published and reviewed.message.startswith("only 0.0 % of words reviewed (0.0 % of entries)")
    assert "region reviewed publishes reviewed translations only, from 10 % of words" in reviewed.message
    calendar = tmp_path / "regions" / "pages"
    mirror = tmp_path / "mirror"
    pull(str(calendar), COURSE, "es", mirror)
    text = (mirror / COURSE / "es" / "pages" / "calendar" / "index.html").read_text(encoding="utf-8")
    assert (
        '<div class="localize-notice" role="note" lang="es" dir="ltr"' in text
        and "todavía no está disponible en español" in text
    )
    assert "ES " not in text
    pull(str(tmp_path / "regions" / "omit"), COURSE, "es", tmp_path / "mirror2")
    assert not (tmp_path / "mirror2" / COURSE / "es" / "pages" / "calendar" / "index.html").exists()
    assert (tmp_path / "mirror2" / COURSE / "es" / "index.html").exists()


def test_tampered_object_is_detected_and_nothing_switches(seaweed, s3_env: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config_path = setup_workspace(tmp_path, regions_toml(s3_env, "unused").split('[[regions]]\nname = "mena"')[0])
    config = load_config(config_path)
    publish(config, COURSE, "es")
    dest = tmp_path / "mirror"
    first = pull(f"s3://{s3_env}/mirror", COURSE, "es", dest).version
    page = tmp_path / "course" / "index.html"
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<!-- v2 --></body>"))
    [second] = publish(config, COURSE, "es")
    storage = region_storage(config.region("latam"), config)
    manifest = json.loads(storage.read_bytes(f"courses/{COURSE}/es/versions/{second.version}.json"))
    record = next(f for f in manifest["files"] if f["path"] == "index.html")
    evil = b"<script>evil()</script>"  # stored as the region stores that object (compressed or not)
    suffix, evil = (".gz", gzip.compress(evil)) if record.get("encoding") == "gzip" else ("", evil)
    storage.write_bytes(f"objects/sha256/{record['sha256'][:2]}/{record['sha256']}{suffix}", evil)
    with pytest.raises(IntegrityError) as info:
        pull(f"s3://{s3_env}/mirror", COURSE, "es", dest)
    assert f"index.html: expected sha256 {record['sha256']}" in str(
        info.value
    ) and f"the live version stays {first}" in str(info.value)
    assert live_version(dest, COURSE, "es") == first
    assert "evil" not in (dest / COURSE / "es" / "index.html").read_text(encoding="utf-8")


def test_interrupted_pull_keeps_the_old_version_and_resumes(s3_env: str, tmp_path: Path) -> None:
    config_path = setup_workspace(tmp_path, regions_toml(s3_env, "unused").split('[[regions]]\nname = "mena"')[0])
    config = load_config(config_path)
    publish(config, COURSE, "es")
    dest = tmp_path / "mirror"
    first = pull(f"s3://{s3_env}/mirror", COURSE, "es", dest).version
    old_index = (dest / COURSE / "es" / "index.html").read_bytes()
    changed = 0
    for page in (tmp_path / "course").rglob("*.html"):
        if b"</body>" in page.read_bytes():
            page.write_bytes(page.read_bytes().replace(b"</body>", b"<!-- new --></body>"))
            changed += 1
    [second] = publish(config, COURSE, "es")

    class Killed(Exception):
        pass

    seen: list[str] = []

    def die_after_three(path: str) -> None:
        seen.append(path)
        if len(seen) == 3:
            raise Killed

    with pytest.raises(Killed):
        pull(f"s3://{s3_env}/mirror", COURSE, "es", dest, on_file=die_after_three)
    assert live_version(dest, COURSE, "es") == first
    assert (dest / COURSE / "es" / "index.html").read_bytes() == old_index
    done = pull(f"s3://{s3_env}/mirror", COURSE, "es", dest)
    assert done.version == second.version and done.switched
    assert done.downloaded_files == changed - 3  # the three staged pages are not fetched again
    assert b"<!-- new -->" in (dest / COURSE / "es" / "index.html").read_bytes()
    # and the mirror can go back
    assert main(["pull", "--rollback", "--course", COURSE, "--locale", "es", "--dest", str(dest)]) == 0
    assert live_version(dest, COURSE, "es") == first


def test_server_stopped_mid_publish(tmp_path: Path) -> None:
    from localize_dev.seaweed import SeaweedFS

    server = SeaweedFS(tmp_path / "sw", buckets=("region",))
    server.start()
    try:
        import os

        os.environ.update(server.env())
        config_path = setup_workspace(
            tmp_path, '[[regions]]\nname = "r1"\nlocation = "s3://region/site"\nlocales = ["es"]\n'
        )
        config = load_config(config_path)
        [first] = publish(config, COURSE, "es")
        for page in (tmp_path / "course").rglob("*.html"):
            page.write_bytes(page.read_bytes().replace(b"</body>", b"<!-- v2 --></body>"))
        uploads: list[str] = []

        def stop_after_two(path: str, size: int) -> None:
            uploads.append(path)
            if len(uploads) == 2:
                server.stop()

        [failed] = publish(config, COURSE, "es", on_upload=stop_after_two)  # the region's error, as its result
        assert isinstance(failed.error, StorageError) and not failed.published
        server.start()
        storage = region_storage(config.region("r1"), config)
        pointer, _ = read_pointer(storage, COURSE, "es")
        assert pointer is not None and pointer["version"] == first.version
        assert pull("s3://region/site", COURSE, "es", tmp_path / "mirror").version == first.version
        [again] = publish(config, COURSE, "es")
        assert again.published and again.reused_objects >= 2
        assert pull("s3://region/site", COURSE, "es", tmp_path / "mirror").version == again.version
    finally:
        server.stop()
        for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
            os.environ.pop(key, None)


def test_pull_over_plain_https_from_a_public_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    config_path = setup_workspace(tmp_path, '[[regions]]\nname = "r1"\nlocation = "public"\nlocales = ["ar"]\n')
    publish(load_config(config_path), COURSE, "ar")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(tmp_path / "public")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        assert main(["pull", "--from", base, "--all", "--dest", str(tmp_path / "site"), "-q"]) == 0
        assert (tmp_path / "site" / COURSE / "ar" / "index.html").read_text(encoding="utf-8").count('dir="rtl"') == 1
        assert json.loads((tmp_path / "site" / ".localize" / ".index.json").read_text())["courses"][COURSE]["ar"]
        # an address with a user name and password: they authenticate, and no message shows them
        secret = f"http://reader:s3cr3t@127.0.0.1:{server.server_port}"
        argv = ["pull", "--from", secret, "--course", "nope", "--locale", "ar", "--dest", str(tmp_path / "s2")]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err == f"error: nope/ar is not published at {base}\n", err
        for other in (secret.replace("http://", "HTTP://"), secret + "x:abc", "ftp" + secret[4:]):
            argv = ["pull", "--from", other, "--course", "nope", "--locale", "ar", "--dest", str(tmp_path / "s4")]
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert "s3cr3t" not in err and "reader" not in err and err.startswith("error: "), err
        assert main(["pull", "--from", secret + "/?X-Amz-Signature=abc", "--all", "--dest", str(tmp_path / "s3")]) == 2
        err = capsys.readouterr().err
        assert "s3cr3t" not in err and "abc" not in err and "no ?query or #fragment" in err, err
    finally:
        server.shutdown()


def test_garbage_collection_spares_young_objects(tmp_path: Path) -> None:
    """An object no manifest references yet may belong to a publish under way elsewhere."""
    from datetime import UTC, datetime

    from localize.regions.gc import prune
    from localize.regions.layout import make_pointer
    from localize.regions.schema import FileRecord, Manifest, manifest_key, pointer_key, to_json
    from localize.storage.base import LocalStorage

    storage = LocalStorage(tmp_path)
    ids = [f"20240101T00000{i}.000Z-0000000{i}" for i in range(3)]
    cat = "0" * 64

    def manifest(v: str, files: tuple[FileRecord, ...]) -> bytes:
        return Manifest(COURSE, "es", v, "", cat, "", "", files).to_bytes()

    for v, sha in zip(ids, ("aa" * 32, "bb" * 32, "cc" * 32), strict=True):
        storage.put(f"objects/sha256/{sha[:2]}/{sha}", b"x")
        storage.put(manifest_key(COURSE, "es", v), manifest(v, (FileRecord("index.html", sha, 1, "text/html"),)))
    live = make_pointer(COURSE, "es", ids[2], manifest(ids[2], ()), ids[1], datetime.now(UTC))
    storage.put(pointer_key(COURSE, "es"), to_json(live))
    pruned, deleted = prune(storage, COURSE, "es", 2)
    assert pruned == (ids[0],) and deleted == 0 and storage.exists("objects/sha256/aa/" + "aa" * 32)
    # v0 comes back (say, restored by hand) and is pruned again, now without grace
    storage.put(manifest_key(COURSE, "es", ids[0]), manifest(ids[0], ()))
    pruned, deleted = prune(storage, COURSE, "es", 2, grace_seconds=0)
    assert pruned == (ids[0],) and deleted == 1 and not storage.exists("objects/sha256/aa/" + "aa" * 32)


def test_a_run_publishes_each_regions_dashboard_once_at_its_end(tmp_path: Path) -> None:
    """Publishing several locales through the flows' entry point writes no dashboard per course;
    publish_dashboards writes each region's page once, public (no partner contacts)."""
    from localize.app.orchestration import publish_dashboards, publish_locales

    config = setup_workspace(
        tmp_path,
        '[[partners]]\nid = "acme"\nname = "Acme"\nlocales = ["es", "ar"]\ninbox = "inbox"\ncontact = "ana@acme.example.org"\n\n'
        f'[[regions]]\nname = "r1"\nlocation = "{tmp_path}/r1"\nlocales = ["es", "ar"]\n',
    )
    rows = publish_locales(str(config), COURSE, ["es", "ar"])
    assert [(r["locale"], r["published"]) for r in rows] == [("es", True), ("ar", True)]
    assert not (tmp_path / "r1" / "report.html").exists()
    [where] = publish_dashboards(str(config), ["r1"])
    page = (tmp_path / "r1" / "report.html").read_text(encoding="utf-8")
    assert where.endswith("report.html") and COURSE in page and "ana@acme.example.org" not in page
    # nor an assignment column, which read "not sent" for every course, a kit out or not
    assert "not sent" not in page and "<th>assignment</th>" not in page and "<th>last QA</th>" not in page
    assert "<th>progress</th><th>published</th>" in page


def test_a_bundle_built_on_the_worker_pool_is_the_serial_one_and_uploads_whole(
    s3_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pages built by worker processes (forked, or from a fork server when called from a
    thread as in a flow) give the same files, notices and omissions as one process; the
    objects go up several at a time and the pulled site is the bundle."""
    from concurrent.futures import ThreadPoolExecutor

    from localize.regions.bundle import make_bundle
    from localize.storage.courses import open_source

    config_path = setup_workspace(tmp_path, f'[[regions]]\nname = "r"\nlocation = "s3://{s3_env}"\nlocales = ["es"]\n')
    course = tmp_path / "course"
    pages = sorted(course.rglob("*.html"))
    for i in range(5):  # enough pages for the pool (12 per worker)
        for page in pages:
            copy = course / f"copy{i}" / page.relative_to(course)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(page.read_bytes().replace(b"</h1>", f" {i}</h1>".encode()))
    ws = str(tmp_path / "ws")
    assert main(["update", str(course), "--course", COURSE, "--locales-dir", ws, "-q"]) == 0
    catalog = read_po((tmp_path / "ws" / "es" / "LC_MESSAGES" / f"{COURSE}.po").read_bytes())
    source = open_source(str(course))

    config = load_config(config_path)
    credits = Credits(COURSE, "Intro <course>", ("Acme & co",), "2026-11-30")
    notice = region_notice(config, config.region("r"), credits, "es")  # pickled to the workers

    def summary(jobs: int, below: str, threshold: float = 99.9, with_notice: bool = True) -> tuple[object, ...]:
        with make_bundle(
            source, catalog, "es", page_threshold=threshold, below_threshold=below, jobs=jobs,
            notice=notice if with_notice else None,
        ) as b:  # fmt: skip
            noticed = sum(b"localize-attribution" in p.read_bytes() for p in b.root.rglob("*.html"))
            return b.files, b.pages_in_source_language, b.omitted, tree_hashes(b.root), noticed

    for below in ("source", "omit"):
        serial = summary(1, below)
        assert serial[1] or serial[2]  # the new headings are untranslated: some pages fall back
        assert serial[4] > 0  # the attribution notice is in the translated pages, built in the workers too
        assert summary(2, below) == serial
        with ThreadPoolExecutor(max_workers=1) as thread:
            assert thread.submit(summary, 2, below).result() == serial
    [result] = publish(load_config(config_path), COURSE, "es", jobs=2)
    files, _, _, tree, _ = summary(1, "source", 0, with_notice=False)  # the region's policy
    assert result.published and result.uploaded_objects == len({b.sha256 for b in files.values()})  # type: ignore[attr-defined]
    site = tmp_path / "site"
    pull(f"s3://{s3_env}", COURSE, "es", site)
    assert published_hashes(site / COURSE / "es") == tree


def test_publishing_one_course_reads_as_much_in_a_large_fleet_as_in_a_small_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publish costs what the course needs, not what the fleet holds: the same workspace files
    are read with 1 other course as with 6 (the public dashboard, which reads the whole fleet,
    is refreshed only when asked)."""
    from localize.app.regions import publish as app_publish
    from localize.config import load_config
    from localize.storage.base import LocalStorage

    reads: list[str] = []
    original = LocalStorage.read_bytes

    def counting(self: LocalStorage, key: str) -> bytes:
        reads.append(key)
        return original(self, key)

    counts = []
    for others in (1, 6):
        work = tmp_path / f"fleet-{others}"
        work.mkdir()
        config = load_config(setup_workspace(work, '[[regions]]\nname = "r"\nlocation = "r"\nlocales = ["es"]\n'))
        ws = work / "ws"
        for i in range(others):  # other courses of the fleet, translated and published already
            for name in (f"templates/{COURSE}.pot", f"es/LC_MESSAGES/{COURSE}.po"):
                target = ws / name.replace(COURSE, f"other-{i}")
                target.write_bytes((ws / name).read_bytes().replace(COURSE.encode(), f"other-{i}".encode()))
            app_publish(config, f"other-{i}", "es", source=str(work / "course"))
        monkeypatch.setattr(LocalStorage, "read_bytes", counting)
        reads.clear()
        [result] = app_publish(config, COURSE, "es")
        monkeypatch.setattr(LocalStorage, "read_bytes", original)
        assert result.published
        assert not any("other-" in key for key in reads), reads
        counts.append(len(reads))
    assert counts[0] == counts[1], counts
    assert not (tmp_path / "fleet-6" / "r" / "report.html").exists()


def test_publish_looks_only_at_its_own_object_folders_and_entry_of_the_region_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What grew with the region: a publish listed every object of the region to see which
    it could reuse, and a publish with no change validated the whole region index (an entry per
    course and locale). Now a publish lists only the object folders (``objects/sha256/XX/``) its
    files fall in, a no-change publish reads only its own entry of the index, and the index is
    written compact (json's C encoder)."""
    import json

    from localize.app.regions import publish as app_publish
    from localize.config import load_config
    from localize.regions import layout
    from localize.storage.base import LocalStorage

    config = load_config(setup_workspace(tmp_path, '[[regions]]\nname = "r"\nlocation = "r"\nlocales = ["es"]\n'))
    listed: list[str] = []
    validated: list[int] = []
    original_list, original_validate = LocalStorage.list, layout.parse_index

    def counting_list(self: LocalStorage, prefix: str = "") -> object:
        listed.append(prefix)
        return original_list(self, prefix)

    def counting_validate(data: bytes, where: str) -> object:
        validated.append(1)
        return original_validate(data, where)

    monkeypatch.setattr(LocalStorage, "list", counting_list)
    monkeypatch.setattr(layout, "parse_index", counting_validate)
    [first] = app_publish(config, COURSE, "es")
    assert first.published
    objects = [p for p in listed if p.startswith("objects")]
    assert objects == ["objects/sha256"], objects  # a small region: one listing of it all
    index = (tmp_path / "r" / "index.json").read_bytes()
    assert index.count(b"\n") == 1 and json.loads(index)["courses"][COURSE]["es"]["version"] == first.version
    listed.clear()
    validated.clear()
    [again] = app_publish(config, COURSE, "es")
    assert not again.published and again.version == first.version
    assert len(validated) == 1 and not [p for p in listed if p.startswith("objects")]
    assert (tmp_path / "r" / "index.json").read_bytes() == index  # nothing written
    # an index left behind by an interrupted publish is still brought up to the pointer, and a
    # damaged one (another course's entry) is rebuilt from the pointers by a no-change publish
    for damage in ("behind", "other"):
        broken = json.loads(index)
        if damage == "behind":
            broken["courses"][COURSE]["es"]["version"] = "20200101T000000.000Z-00000000"
        else:
            broken["courses"]["other-course"] = "garbage"
        (tmp_path / "r" / "index.json").write_bytes(json.dumps(broken).encode())
        app_publish(config, COURSE, "es")
        healed = json.loads((tmp_path / "r" / "index.json").read_bytes())
        assert healed["courses"] == {COURSE: {"es": json.loads(index)["courses"][COURSE]["es"]}}, damage


def test_a_large_region_is_listed_only_in_the_folders_of_the_new_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_env: str
) -> None:
    """The whole listing of a region's objects is tried for as many keys as the folder listings
    would take pages; past that (a region of OCW's size), only the folders of the new objects are
    listed, on S3 as on a folder."""
    from localize.regions import objects as objects_module
    from localize.regions.objects import existing_objects
    from localize.regions.schema import FileRecord, object_key
    from localize.storage.base import LocalStorage, list_bounded
    from localize.storage.s3 import S3Storage

    wanted = ["ab" + "1" * 62, "cd" + "2" * 62, "ef" + "3" * 62]
    others = [f"{i:02x}" + "0" * 62 for i in range(0, 40, 3)]  # 14 objects elsewhere
    records = [FileRecord(f"{i}.html", sha, 1, "text/html") for i, sha in enumerate(wanted)]
    monkeypatch.setattr(objects_module, "LISTING_PAGE", 2)  # a page of 2 keys: 3 folders, 6 keys
    for storage in (LocalStorage(str(tmp_path / "r")), S3Storage(f"s3://{s3_env}/large-region")):
        for sha in (*others, wanted[0]):
            storage.write_bytes(object_key(sha), b"x")
        assert list_bounded(storage, "objects/sha256", 15) is not None
        assert list_bounded(storage, "objects/sha256", 14) is None
        listed: list[str] = []
        original = type(storage).list

        def spy(self: object, prefix: str = "", _original=original, _listed=listed) -> object:  # type: ignore[no-untyped-def]
            _listed.append(prefix)
            return _original(self, prefix)

        monkeypatch.setattr(type(storage), "list", spy)
        assert existing_objects(storage, records) == {wanted[0]}
        monkeypatch.setattr(type(storage), "list", original)
        folders = sorted(p for p in listed if p != "objects/sha256")
        assert folders == ["objects/sha256/ab", "objects/sha256/cd", "objects/sha256/ef"], listed


def test_an_object_listed_off_its_place_is_not_taken_for_the_object(tmp_path: Path) -> None:
    """A key a sync tool or an attacker left at objects/sha256/XX/sub/SHA (or under another XX)
    is not the object a manifest would name: the publisher uploads the object where it belongs."""
    from localize.regions.objects import existing_objects
    from localize.regions.schema import FileRecord, object_key
    from localize.storage.base import LocalStorage

    storage = LocalStorage(str(tmp_path / "r"))
    a, b, c = ("a" * 64, "b" * 64, "c" * 64)
    storage.write_bytes(object_key(a), b"A")
    storage.write_bytes(object_key(b).replace("/bb/", "/bb/sub/"), b"B")  # nested
    storage.write_bytes(object_key(c).replace("/cc/", "/aa/"), b"C")  # in another folder
    storage.write_bytes(object_key(c) + ".gz", b"gz")
    records = [FileRecord(f"{x}.html", sha, 1, "text/html") for x, sha in (("a", a), ("b", b), ("c", c))]
    assert existing_objects(storage, records) == {a, f"{c}.gz"}


def test_publish_says_which_translations_it_left_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`build` reported a translation whose placeholders do not match; `publish` left it out
    of the pages in silence."""
    config = setup_workspace(tmp_path, '[[regions]]\nname = "r1"\nlocation = "public"\nlocales = ["es"]\n', capsys)
    path = tmp_path / "ws" / "es" / "LC_MESSAGES" / f"{COURSE}.po"
    cat = read_po(path.read_bytes())
    broken = next(e for e in cat.entries if "<a1>" in e.msgid)
    entries = tuple(replace(e, msgstr="ES sin enlace") if e is broken else e for e in cat.entries)
    path.write_text(write_po(replace(cat, entries=entries)), encoding="utf-8")
    assert main(["publish", "--course", COURSE, "--locale", "es", "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("r1: published version ")
    assert err.splitlines()[-1] == (
        f"warning: 1 translations not used, their placeholders do not match the source's ({broken.msgid[:40]!r}): "
        "those texts stay in the source language; `localize check` on the catalog lists them"
    )


def test_versions_lists_every_version_when_one_manifest_is_damaged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = setup_workspace(tmp_path, '[[regions]]\nname = "r1"\nlocation = "public"\nlocales = ["es"]\n', capsys)
    args = ["--course", COURSE, "--locale", "es", "--config", str(config)]
    assert main(["publish", *args]) == 0
    (tmp_path / "course" / "index.html").write_text(
        (tmp_path / "course" / "index.html").read_text(encoding="utf-8") + "<!-- changed -->", encoding="utf-8"
    )
    assert main(["publish", *args]) == 0
    capsys.readouterr()
    manifests = sorted((tmp_path / "public" / "courses" / COURSE / "es" / "versions").glob("*.json"))
    assert len(manifests) == 2
    manifests[0].write_bytes(b'{"damaged": ')
    assert main(["versions", "--region", "r1", *args]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].startswith(f"* {manifests[1].stem}  ") and " files  " in out[0]
    assert out[1].startswith(f"  {manifests[0].stem}  damaged: ")


def test_versions_of_a_locale_the_region_does_not_serve_is_a_mistake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A newcomer's `versions --locale es-ES` in a region of es said "has no published versions"
    and exited 0, as for a course not published yet."""
    config = setup_workspace(tmp_path, '[[regions]]\nname = "r1"\nlocation = "public"\nlocales = ["es"]\n', capsys)
    capsys.readouterr()
    args = ["versions", "--region", "r1", "--course", COURSE, "--config", str(config)]
    assert main([*args, "--locale", "es-ES"]) == 2
    assert capsys.readouterr().err == "error: region 'r1' does not serve es_ES (its locales: es)\n"
    assert main([*args, "--locale", "es"]) == 0  # served, not published yet: no versions
    assert capsys.readouterr().out == f"{COURSE}/es has no published versions in r1\n"


def test_a_region_holding_pages_under_an_older_spelling_stays_readable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an attacker's review: a region index or manifest naming a locale in an older
    spelling (iw, sr_Latn: canonical when it was published) was "malformed" after an upgrade:
    status showed every locale of the region unreachable, and pull --all stopped."""
    import hashlib

    config = setup_workspace(tmp_path, '[[regions]]\nname = "r1"\nlocation = "public"\nlocales = ["es"]\n', capsys)
    assert main(["publish", "--course", COURSE, "--locale", "es", "--config", str(config)]) == 0
    root = tmp_path / "public"
    courses = root / "courses" / COURSE
    (courses / "es").rename(courses / "es_Latn")  # as a release that kept the script would have stored it
    for manifest in (courses / "es_Latn" / "versions").glob("*.json"):
        body = json.loads(manifest.read_bytes())
        body["locale"] = "es_Latn"
        manifest.write_bytes(json.dumps(body).encode())
        pointer = json.loads((courses / "es_Latn" / "latest.json").read_bytes())
        pointer["manifest"] = pointer["manifest"].replace("/es/", "/es_Latn/")
        pointer["locale"] = "es_Latn"
        pointer["manifest_sha256"] = hashlib.sha256(manifest.read_bytes()).hexdigest()
        (courses / "es_Latn" / "latest.json").write_bytes(json.dumps(pointer).encode())
    index = json.loads((root / "index.json").read_bytes())
    entry = index["courses"][COURSE].pop("es")
    entry["manifest"] = entry["manifest"].replace("/es/", "/es_Latn/")
    index["courses"][COURSE]["es_Latn"] = entry
    (root / "index.json").write_bytes(json.dumps(index).encode())
    capsys.readouterr()
    assert main(["pull", "--from", str(root), "--all", "--dest", str(tmp_path / "mirror")]) == 0
    assert (tmp_path / "mirror" / COURSE / "es_Latn" / "index.html").is_file()
    assert main(["status", "--config", str(config)]) == 0
    shown = capsys.readouterr()
    assert "unreachable" not in shown.out + shown.err and "malformed" not in shown.out + shown.err
    # published under the current spelling, a mirror pulling it is told of the older copy it keeps
    assert main(["publish", "--course", COURSE, "--locale", "es", "--config", str(config)]) == 0
    capsys.readouterr()
    mirror = tmp_path / "mirror"
    assert main(["pull", "--from", str(root), "--course", COURSE, "--locale", "es", "--dest", str(mirror)]) == 0
    assert capsys.readouterr().err == (
        f"warning: {mirror}/{COURSE}/es_Latn holds {COURSE} pulled under es_Latn, an older spelling of es: "
        "serve es now, then delete es_Latn\n"
    )


def test_pages_published_under_an_older_spelling_of_the_locale_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by a review: once sr_Cyrl became sr (a usual script goes without saying), a region's
    courses/C/sr_Cyrl was reached by no command, and `versions` said "no published versions"."""
    config = setup_workspace(tmp_path, '[[regions]]\nname = "r1"\nlocation = "public"\nlocales = ["es"]\n', capsys)
    args = ["--course", COURSE, "--locale", "es", "--config", str(config)]
    assert main(["publish", *args]) == 0
    courses = tmp_path / "public" / "courses" / COURSE
    (courses / "es").rename(courses / "es_Latn")  # as a release that kept the script would have named it
    capsys.readouterr()
    where = (
        f"{tmp_path}/public/courses/{COURSE}/es_Latn holds {COURSE} published under es_Latn, an older spelling of es"
    )
    for command in ("versions", "rollback"):
        assert main([command, "--region", "r1", *args]) == 2
        assert capsys.readouterr().err == (
            f"error: {where}: publish {COURSE} --locale es to serve it under es, then delete es_Latn\n"
        )
    assert main(["publish", *args]) == 0
    assert (
        f"warning: {where}: its mirrors now pull es; delete es_Latn when they have moved\n" in capsys.readouterr().err
    )
    assert main(["versions", "--region", "r1", *args]) == 0 and (courses / "es" / "latest.json").is_file()
