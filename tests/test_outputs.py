"""`build` and `preview --out` never overwrite the source and never leave half an output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import SAMPLE
from localize.app.pages import build
from localize.catalogs.workspace import Workspace
from localize.cli import main
from localize.storage.courses import open_source

COURSE = "intro-course"
KIT_PO = SAMPLE.parent / "returns" / f"{COURSE}.es.po"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    shutil.copytree(SAMPLE, tmp_path / "course")
    loc = str(tmp_path / "loc")
    assert main(["extract", str(tmp_path / "course"), "--course", COURSE, "--locales-dir", loc]) == 0
    assert main(["pseudo", "--course", COURSE, "--locales-dir", loc]) == 0
    capsys.readouterr()
    return tmp_path


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _build(project: Path, capsys: pytest.CaptureFixture[str], out: Path, *extra: str) -> tuple[int, str, str]:
    return run(
        capsys, "build", str(project / "course"), "--course", COURSE, "--locale", "qps-ploc",
        "--locales-dir", str(project / "loc"), "--out", str(out), *extra,
    )  # fmt: skip


@pytest.mark.parametrize("where", ["the source", "its parent", "inside it"])
def test_build_refuses_an_output_that_would_overwrite_the_source(
    where: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = project / "course"
    out = {"the source": source, "its parent": project, "inside it": source / "pages" / "built"}[where]
    before = _files(project)
    code, stdout, err = _build(project, capsys, out)
    assert (code, stdout) == (2, "")
    assert err.startswith(f"error: {out}: ") and err.count("\n") == 1
    assert ("--force" in err) == (where == "the source")  # forcing may replace the source only whole
    assert _files(project) == before
    if where != "the source":  # forced, the source would be lost (a subfolder of it, or all of it)
        assert _build(project, capsys, out, "--force")[0] == 2
        assert _files(project) == before


def test_build_with_force_refuses_an_output_linked_into_the_source(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator's link to a folder of the source: forced, the build replaced the source's pages."""
    (project / "linkout").symlink_to(project / "course" / "pages")
    before = _files(project / "course")
    code, _, err = _build(project, capsys, project / "linkout", "--force")
    assert code == 2 and "is inside the source course" in err and "--force" not in err
    assert _files(project / "course") == before


def test_build_refuses_a_folder_holding_other_files(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = project / "site"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, _, err = _build(project, capsys, out)
    assert code == 2 and "holds files that are not part of the course (such as notes.txt)" in err
    assert _files(out) == {"notes.txt": b"mine"}
    assert _build(project, capsys, out, "--force")[0] == 0
    assert "notes.txt" not in _files(out) and "index.html" in _files(out)


def test_build_replaces_an_earlier_build_whole(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = project / "site"
    assert _build(project, capsys, out)[0] == 0
    first = _files(out)
    assert len(first) == 11 and '<html lang="qps-ploc">' in first["index.html"].decode()
    assert _build(project, capsys, out)[0] == 0
    assert _files(out) == first
    assert sorted(p.name for p in project.iterdir()) == ["course", "loc", "site"]  # no staging left behind


def test_an_interrupted_build_leaves_the_previous_output_or_none(project: Path) -> None:
    out = project / "site"
    seen = []

    def interrupt(path: str) -> None:
        seen.append(path)
        if len(seen) == 4:
            raise KeyboardInterrupt

    workspace, source = Workspace(str(project / "loc")), open_source(project / "course")
    with pytest.raises(KeyboardInterrupt):
        build(workspace, source, COURSE, "qps-ploc", str(out), jobs=1, progress=interrupt)
    assert sorted(p.name for p in project.iterdir()) == ["course", "loc"]  # nothing half-written
    build(workspace, source, COURSE, "qps-ploc", str(out), jobs=1)
    complete = _files(out)
    seen.clear()
    with pytest.raises(KeyboardInterrupt):
        build(workspace, source, COURSE, "qps-ploc", str(out), jobs=1, progress=interrupt)
    assert _files(out) == complete
    assert sorted(p.name for p in project.iterdir()) == ["course", "loc", "site"]


def test_build_with_force_may_replace_the_source(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = project / "course"
    code, _, err = _build(project, capsys, source, "--force")
    assert code == 0, err
    assert '<html lang="qps-ploc">' in (source / "index.html").read_text(encoding="utf-8")


def test_preview_out_refuses_the_source_and_builds_whole(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = project / "course"
    before = _files(source)
    code, _, err = run(capsys, "preview", str(KIT_PO), str(source), "--course", COURSE, "--out", str(source))
    assert code == 2 and err.startswith(f"error: {source}: is the source course itself")
    assert _files(source) == before
    out = project / "preview"
    code, stdout, err = run(capsys, "preview", str(KIT_PO), str(source), "--course", COURSE, "--out", str(out))
    assert code == 0, err
    assert stdout.startswith("8 pages (es) -> ") and "lz-" in (out / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in project.iterdir()) == ["course", "loc", "preview"]


def test_build_knows_a_folder_by_what_it_is_not_by_its_spelling(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bind mount of the project (or ~/Courses for ~/courses on a case-insensitive disk) passed the
    path checks, and `--force` replaced the folder holding the source (a review of this session)."""
    from localize.app import output

    alias = project.parent / "alias-of-project"
    alias.mkdir()
    real = output._identity

    def as_mounted(path: Path) -> tuple[int, int] | None:  # alias/x is project/x, as through a bind mount
        return real(project / path.relative_to(alias) if path.is_relative_to(alias) else path)

    monkeypatch.setattr(output, "_identity", as_mounted)
    before = _files(project)
    code, _, err = _build(project, capsys, alias, "--force")
    assert code == 2 and "contains the source course" in err
    code, _, err = _build(project, capsys, alias / "site", "--force")  # = project/site: beside the course
    assert code == 0, err
    code, _, err = _build(project, capsys, project.parent / "alias-of-project" / "course" / "built", "--force")
    assert code == 2 and "is inside the source course" in err
    assert _files(project / "course") == {
        k.removeprefix("course/"): v for k, v in before.items() if k.startswith("course/")
    }


def test_build_refuses_an_output_reached_through_a_bind_mount_of_a_folder_of_the_source(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bind mount of the source's pages/ at m1: OUT m1/out lay inside the source (a second review)."""
    from localize.app import output

    m1 = project.parent / "m1"
    m1.mkdir()
    inner = project / "course" / "pages"
    real = output._identity

    def as_mounted(path: Path) -> tuple[int, int] | None:
        return real(inner / path.relative_to(m1) if path.is_relative_to(m1) else path)

    monkeypatch.setattr(output, "_identity", as_mounted)
    before = _files(project / "course")
    for out in (m1 / "out", m1):
        code, _, err = _build(project, capsys, out, "--force")
        assert code == 2 and "is inside the source course" in err, (out, err)
    assert _files(project / "course") == before


def test_a_file_system_without_inode_numbers_falls_back_to_the_paths(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """st_ino 0 (some network and FUSE drives): every output was refused, even with --force."""
    from localize.app import output

    monkeypatch.setattr(output, "_identity", lambda path: None)
    assert _build(project, capsys, project / "site")[0] == 0
    assert _build(project, capsys, project / "course" / "built", "--force")[0] == 2
