"""The command line: exact output, exit codes, bad input that never stops a batch."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from conftest import SAMPLE
from localize.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_extract_sample_course_and_rerun_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loc = tmp_path / "loc"
    code, out, err = run(capsys, "extract", str(SAMPLE), "--course", "intro-course", "--locales-dir", str(loc))
    pot = loc / "templates" / "intro-course.pot"
    assert (code, err) == (0, "")
    assert out.startswith("8 pages, ") and out.endswith(f" entries -> {pot} (written)\n")
    first = pot.read_bytes()
    code, out, _ = run(capsys, "extract", str(SAMPLE), "--course", "intro-course", "--locales-dir", str(loc), "-j", "1")
    assert code == 0 and out.endswith("(unchanged)\n")
    assert pot.read_bytes() == first


def test_bad_pages_are_reported_and_the_rest_goes_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    course = tmp_path / "course"
    course.mkdir()
    (course / "good.html").write_text("<p>Good page</p>")
    (course / "binary.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (course / "latin.html").write_bytes(b"<p>Caf\xe9 cr\xe8me</p>")
    (course / "nested").mkdir()
    (course / "nested" / "ok.htm").write_text("<p>Another good page</p>")
    loc = tmp_path / "loc"
    code, out, err = run(capsys, "extract", str(course), "--course", "c1", "--locales-dir", str(loc))
    assert code == 1
    assert err == (
        "error: binary.html: binary file (NUL bytes), not an HTML page; remove it or rename it\n"
        "error: latin.html: not valid UTF-8 at line 1 (byte 0xe9); declare its charset with <meta charset=...> "
        "or save it as UTF-8\n"
        "2 files could not be extracted (listed above); 2 extracted\n"
    )
    assert out == f"2 pages, 2 units, 2 entries -> {loc}/templates/c1.pot (written)\n"
    pot = (loc / "templates" / "c1.pot").read_text()
    assert 'msgid "Good page"' in pot and 'msgid "Another good page"' in pot


def test_pseudo_and_build_qps_ploc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loc, out_dir = tmp_path / "loc", tmp_path / "site"
    assert run(capsys, "extract", str(SAMPLE), "--course", "intro-course", "--locales-dir", str(loc))[0] == 0
    code, out, _ = run(capsys, "pseudo", "--course", "intro-course", "--locales-dir", str(loc))
    po = loc / "qps-ploc" / "LC_MESSAGES" / "intro-course.po"
    assert code == 0 and out.endswith(f" entries -> {po} (written)\n")
    code, out, err = run(
        capsys,
        "build",
        str(SAMPLE),
        "--course",
        "intro-course",
        "--locale",
        "qps-ploc",
        "--locales-dir",
        str(loc),
        "--out",
        str(out_dir),
    )
    assert (code, err) == (0, "")
    assert out.startswith("8 pages (8 with translations), 3 other files -> ")
    assert out.endswith(" in the source language\n") and "units: 0 translated" not in out
    # an update of the unchanged course leaves the pseudo catalog as `pseudo` wrote it
    before = po.read_bytes()
    assert run(capsys, "update", str(SAMPLE), "--course", "intro-course", "--locales-dir", str(loc), "-q")[0] == 0
    assert po.read_bytes() == before
    home = (out_dir / "index.html").read_text(encoding="utf-8")
    assert '<html lang="qps-ploc">' in home
    assert (out_dir / "static" / "figure1.png").read_bytes() == (SAMPLE / "static" / "figure1.png").read_bytes()


def test_build_without_a_catalog_says_how_to_make_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loc = tmp_path / "loc"
    assert run(capsys, "extract", str(SAMPLE), "--course", "intro-course", "--locales-dir", str(loc), "-q")[0] == 0
    code, out, err = run(
        capsys,
        "build",
        str(SAMPLE),
        "--course",
        "intro-course",
        "--locale",
        "es",
        "--locales-dir",
        str(loc),
        "--out",
        str(tmp_path / "o"),
    )
    assert (code, out) == (2, "")
    assert err == (
        f"error: {loc}/es/LC_MESSAGES/intro-course.po: no es catalog for course 'intro-course'; start one with "
        "`localize init --course intro-course --locale es`\n"
    )


def test_build_with_a_broken_catalog_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    po = tmp_path / "loc" / "es" / "LC_MESSAGES" / "c.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n\nmsgid "Hello"\nmsgstr "Hola\n')
    code, _, err = run(
        capsys,
        "build",
        str(SAMPLE),
        "--course",
        "c",
        "--locale",
        "es",
        "--locales-dir",
        str(tmp_path / "loc"),
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2
    assert err == f"error: {po}:5: expected a quoted string, found '\"Hola'\n"


def test_pseudo_without_a_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "pseudo", "--course", "nope", "--locales-dir", str(tmp_path))
    assert code == 2
    assert err == (
        f"error: {tmp_path}/templates/nope.pot: no template for course 'nope'; "
        "create it with: localize extract SOURCE --course nope\n"
    )


def test_a_mistyped_course_is_named_with_the_course_it_is_close_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A newcomer's `build --course intro-coures` was told to start an es catalog with init, and
    init to extract a new course; `glossary import --course` of it wrote the terms without a word."""
    loc = ["--locales-dir", str(tmp_path / "loc")]
    assert run(capsys, "extract", str(SAMPLE), "--course", "intro-course", *loc, "-q")[0] == 0
    hint = (
        f"error: {tmp_path}/loc/templates/intro-coures.pot: no template for course 'intro-coures' (did you mean "
        "'intro-course'?); create it with: localize extract SOURCE --course intro-coures\n"
    )
    build = ("build", str(SAMPLE), "--course", "intro-coures", "--locale", "es", "--out", str(tmp_path / "o"), *loc)
    assert run(capsys, *build) == (2, "", hint)
    assert run(capsys, "init", "--course", "intro-coures", "--locale", "es", *loc) == (2, "", hint)
    # a course's terms may be made ready before it is extracted: imported, with a warning
    glossary = ("glossary", "import", str(SAMPLE.parent / "glossary" / "es.csv"), "--locale", "es", *loc)
    code, out, err = run(capsys, *glossary, "--course", "intro-coures")
    assert code == 0 and "terms imported" in out
    assert err == (
        f"warning: no course 'intro-coures' in {tmp_path}/loc (did you mean 'intro-course'?): its terms apply "
        "once it is extracted (localize extract SOURCE --course intro-coures)\n"
    )
    assert run(capsys, *glossary, "--course", "intro-course")[2] == ""


def test_the_close_course_names_are_looked_for_only_for_a_message_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: the "did you mean" of a missing template listed every template and ran
    difflib over them on each first extraction of a course, and the caller threw the message away
    (96 ms a course at 2,500 courses, four minutes of a first sync)."""
    from localize.catalogs.workspace import Workspace

    looked: list[str] = []
    real = Workspace.meant
    monkeypatch.setattr(Workspace, "meant", lambda self, course: looked.append(course) or real(self, course))
    loc = ["--locales-dir", str(tmp_path / "loc")]
    assert run(capsys, "extract", str(SAMPLE), "--course", "intro-course", *loc, "-q")[0] == 0
    assert run(capsys, "update", str(SAMPLE), "--course", "another-course", *loc, "-q")[0] == 0  # as the flows do
    assert looked == []
    assert run(capsys, "init", "--course", "intro-coures", "--locale", "es", *loc)[0] == 2
    assert looked == ["intro-coures"]


def test_init_in_the_course_s_own_language_says_what_it_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A newcomer's `init --locale EN` made a catalog of the English course without a word."""
    loc = ["--locales-dir", str(tmp_path / "loc")]
    assert run(capsys, "extract", str(SAMPLE), "--course", "c", *loc, "-q")[0] == 0
    code, out, err = run(capsys, "init", "--course", "c", "--locale", "EN", *loc)
    assert code == 0 and out.startswith("181 entries -> ") and "/en/LC_MESSAGES/c.po" in out
    assert err == (
        "warning: en is the language c is written in (en): this catalog's translations replace its text on the "
        "pages (a copy-edit); a translation is a catalog of another locale\n"
    )
    assert run(capsys, "init", "--course", "c", "--locale", "en_GB", *loc)[2].startswith("warning: en_GB is the")
    assert run(capsys, "init", "--course", "c", "--locale", "es", *loc)[2] == ""


def test_invalid_course_id_and_missing_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "extract", str(SAMPLE), "--course", "../x", "--locales-dir", str(tmp_path))[2] == (
        "error: invalid course id '../x': use letters, digits, '.', '_' and '-' (for example '8.05-quantum-physics')\n"
    )
    assert run(capsys, "extract", str(tmp_path / "missing"), "--course", "c", "--locales-dir", str(tmp_path))[2] == (
        f"error: {tmp_path}/missing: no such file or folder\n"
    )


def test_ocw_zip_with_a_top_folder_and_an_escaping_member(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "course.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("course-8.05/index.html", "<title>Home</title><p>Welcome</p>")
        z.writestr("course-8.05/pages/syllabus/index.html", "<p>Syllabus text</p>")
        z.writestr("course-8.05/static/logo.png", b"\x89PNG")
        z.writestr("../../evil.html", "<p>Escaped</p>")
    loc = tmp_path / "loc"
    code, _out, err = run(capsys, "extract", str(archive), "--course", "z", "--locales-dir", str(loc))
    assert code == 1
    assert err == (
        f"error: {archive}: archive member '../../evil.html' points outside the course; skipped\n"
        "1 file could not be extracted (listed above); 2 extracted\n"
    )
    pot = (loc / "templates" / "z.pot").read_text()
    assert "#: index.html\n" in pot and "#: pages/syllabus/index.html\n" in pot and "Escaped" not in pot
    run(capsys, "pseudo", "--course", "z", "--locales-dir", str(loc))
    code, _, _ = run(
        capsys,
        "build",
        str(archive),
        "--course",
        "z",
        "--locale",
        "qps-ploc",
        "--locales-dir",
        str(loc),
        "--out",
        str(tmp_path / "out"),
    )
    assert code == 1
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.html")) == [
        "out/index.html",
        "out/pages/syllabus/index.html",
    ]


def test_help_explains_each_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["build", "--help"])
    out = capsys.readouterr().out
    assert "Untranslated and fuzzy entries keep the source text" in out and "--locale LL" in out


def test_a_mistyped_course_or_an_empty_memory_is_not_reported_as_done(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`stats --course nope` said 'no catalogs in WS' (the workspace had many) and exited 0;
    `tm export` of a locale with no catalog wrote an empty file and exited 0."""
    loc = str(tmp_path / "loc")
    assert run(capsys, "extract", str(SAMPLE), "--course", "intro-course", "--locales-dir", loc)[0] == 0
    assert run(capsys, "init", "--course", "intro-course", "--locale", "es", "--locales-dir", loc)[0] == 0
    assert run(capsys, "stats", "--course", "nope", "--locales-dir", loc) == (
        2, "", f"error: {loc}: no course nope here (no template); `localize stats` lists the courses\n"
    )  # fmt: skip
    code, out, _ = run(capsys, "stats", "--course", "intro-course", "--locale", "fr", "--locales-dir", loc)
    assert (code, out) == (0, f"no catalogs of intro-course in fr in {loc}\n")
    out_file = tmp_path / "fr.tmx"
    assert run(capsys, "tm", "export", "--locale", "fr", "--out", str(out_file), "--locales-dir", loc) == (
        2, "", f"error: {loc}: the fr translation memory is empty (no translated entry in any fr catalog, nothing "
        "imported): nothing exported; check the locale and the workspace\n",
    )  # fmt: skip
    assert not out_file.exists()


def test_status_columns_stay_aligned_with_long_ocw_course_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    long_id = "22.01-intro-to-nuclear-engineering-and-ionizing-radiation-fall-2016"
    for course in ("intro-course", long_id):
        assert run(capsys, "extract", str(SAMPLE), "--course", course, "--locales-dir", "loc")[0] == 0
        for locale in ("es", "sr@latin"):  # a newcomer's sr@latin row was out of line
            assert run(capsys, "init", "--course", course, "--locale", locale, "--locales-dir", "loc")[0] == 0
    code, out, _ = run(capsys, "status", "--locales-dir", "loc")
    header, *rows = out.splitlines()
    assert code == 0 and len(rows) == 4
    column = header.index(" locale ")
    assert all(row[column : column + 10] in (" es       ", " sr@latin ") for row in rows), out
    entries = header.index("entries") + len("entries")
    assert all(row[entries - 1] != " " for row in rows), out  # the shares end under the header's end


def test_check_with_the_wrong_locale_blames_the_option_not_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check KIT.es.po --locale fr` told the translator to set Language: fr in the es kit."""
    loc = str(tmp_path / "loc")
    assert run(capsys, "extract", str(SAMPLE), "--course", "intro-course", "--locales-dir", loc)[0] == 0
    assert run(capsys, "init", "--course", "intro-course", "--locale", "es", "--locales-dir", loc)[0] == 0
    po = tmp_path / "loc" / "es" / "LC_MESSAGES" / "intro-course.po"
    po.write_text(
        po.read_text(encoding="utf-8").replace('"Language: es\\n"', '"Language: es\\n"\n"X-Localize-Locale: es\\n"', 1)
    )
    code, out, err = run(capsys, "check", str(po), "--locale", "fr")
    assert code == 1 and err == "1 error, 0 warnings\n"
    assert out.splitlines()[0] == (
        f"{po}:1: error: kit-locale: this is the es kit (X-Localize-Locale), but --locale says fr: checked as es; "
        "leave --locale out or give --locale es"
    )
    assert "set Language" not in out


def test_update_with_another_courses_pages_warns_and_the_right_pages_bring_everything_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`update` with the wrong course's pages obsoleted 321 of 380 entries without a word."""
    loc = str(tmp_path / "loc")
    other = tmp_path / "other"
    other.mkdir()
    (other / "index.html").write_text("<html><body><p>Another course entirely.</p></body></html>", encoding="utf-8")
    assert run(capsys, "extract", str(SAMPLE), "--course", "intro-course", "--locales-dir", loc)[0] == 0
    assert run(capsys, "pseudo", "--course", "intro-course", "--locales-dir", loc)[0] == 0  # all translated
    code, out, err = run(capsys, "update", str(other), "--course", "intro-course", "--locales-dir", loc)
    assert code == 0 and "181 obsolete" in out
    assert err.splitlines()[-1] == (
        f"warning: qps-ploc: 181 of 181 entries became obsolete: if {other} is not the pages of intro-course, "
        "run update again with its own pages (obsolete entries come back)"
    )
    code, out, err = run(capsys, "update", str(SAMPLE), "--course", "intro-course", "--locales-dir", loc)
    assert code == 0 and "181 revived" in out and "warning" not in err


def test_build_counts_only_pages_with_translations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a build of a catalog with nothing translated still sets lang on every page, but localizes none
    loc = tmp_path / "loc"
    assert run(capsys, "extract", str(SAMPLE), "--course", "intro-course", "--locales-dir", str(loc))[0] == 0
    assert run(capsys, "init", "--course", "intro-course", "--locale", "es", "--locales-dir", str(loc))[0] == 0
    args = ("build", str(SAMPLE), "--course", "intro-course", "--locale", "es", "--locales-dir", str(loc))
    code, out, _ = run(capsys, *args, "--out", str(tmp_path / "site"))
    assert code == 0 and out.startswith("8 pages (0 with translations), 3 other files -> ")
    assert "units: 0 translated" in out
    assert '<html lang="es"' in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def test_reading_commands_refuse_a_workspace_that_is_not_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`stats --locales-dir typo` said "no catalogs in typo" and exited 0, `report` wrote an empty
    dashboard and `consistency` made ./locales: a newcomer's look. A missing template says which
    workspace was looked in, and why that one."""
    monkeypatch.chdir(tmp_path)
    for argv in (
        ["stats", "--locales-dir", "typo"],
        ["report", "--out", "r.html"],
        ["consistency", "--locale", "ar"],
        ["status", "--locales-dir", "typo"],
        ["tm", "list", "--locale", "es", "--locales-dir", "typo"],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "no workspace here: " in err and "is not a folder" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, no workspace made
    assert main(["build", str(SAMPLE), "--course", "c", "--locale", "es", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"(the workspace is ./locales of {tmp_path}: no --locales-dir or --config was given" in err, err


def test_build_warns_when_the_source_is_not_the_one_the_course_was_extracted_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another course's folder, or a subfolder, built silently half in the source language."""
    import shutil

    ws = str(tmp_path / "ws")
    assert main(["extract", str(SAMPLE), "--course", "c", "--locales-dir", ws, "-q"]) == 0
    assert main(["pseudo", "--course", "c", "--locales-dir", ws]) == 0
    other = tmp_path / "other"
    shutil.copytree(SAMPLE, other)
    capsys.readouterr()
    argv = ["build", "--course", "c", "--locale", "qps-ploc", "--locales-dir", ws]
    assert main([*argv[:1], str(SAMPLE), *argv[1:], "--out", str(tmp_path / "o1")]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main([*argv[:1], str(other), *argv[1:], "--out", str(tmp_path / "o2")]) == 0
    assert f"warning: c was extracted from {SAMPLE}, not from {other}" in capsys.readouterr().err


def test_status_shows_a_region_server_error_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A region's S3 error text (its server's <Message>) reached the table raw: a bidi override
    or a C1 control could reorder or forge the coordinator's rows (an attacker look at the views)."""
    from localize.cli import views

    monkeypatch.chdir(tmp_path)
    assert run(capsys, "extract", str(SAMPLE), "--course", "intro-course", "--locales-dir", "loc")[0] == 0
    real = views.course_status

    def with_hostile_region(*args: object, **kwargs: object) -> list[dict[str, object]]:
        rows = real(*args, **kwargs)  # type: ignore[arg-type]
        for row in rows:
            row["published"] = {"andes": "unreachable (denied \u009b31m\u202eFAKE: all OK\u2028next)"}
        return rows

    monkeypatch.setattr(views, "course_status", with_hostile_region)
    assert run(capsys, "init", "--course", "intro-course", "--locale", "es", "--locales-dir", "loc")[0] == 0
    code, out, _ = run(capsys, "status", "--locales-dir", "loc")
    assert code == 0 and "andes=unreachable (denied \\x9b31m\\u202eFAKE: all OK\\u2028next)" in out
    assert not any(c in out for c in "\u009b\u202e\u2028")
