"""Hostile partner input: returned files, inbox entries, kits, webhooks and access settings a partner
(or a misconfiguration) controls. Every case runs the real command (``localize.cli.main``), asserts the
exact problem text, that nothing was followed, read or merged that should not have been, and that no
partner-visible file holds the process environment (the CANARY) or another partner's data.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hostile.conftest import CANARY, assert_no_leak
from localize.catalogs.po import read_po
from localize.cli import main

ROOT = Path(__file__).resolve().parents[2]
RETURNS = ROOT / "tests" / "fixtures" / "returns"
GOOD = (RETURNS / "files" / "good.po").read_bytes()
COURSE = "waves"

CONFIG = """\
[workspace]
location = "locales"

[qa]
max_file_bytes = 65536
max_string_chars = 2000

[[partners]]
id = "lima"
name = "Lima"
locales = ["es"]
inbox = "inboxes/lima"
{lima_hook}

[[partners]]
id = "cairo"
name = "Cairo"
locales = ["ar"]
inbox = "inboxes/cairo"
"""


@dataclass
class Project:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "localize.toml"

    @property
    def ws(self) -> Path:
        return self.root / "locales"

    @property
    def lima(self) -> Path:
        return self.root / "inboxes" / "lima"

    @property
    def cairo(self) -> Path:
        return self.root / "inboxes" / "cairo"

    @property
    def returns(self) -> Path:
        return self.lima / "returns"

    def catalog(self, locale: str = "es") -> bytes:
        return (self.ws / locale / "LC_MESSAGES" / f"{COURSE}.po").read_bytes()

    def kit(self, locale: str = "es") -> str:
        inbox = self.lima if locale == "es" else self.cairo
        [kit] = [p.name for p in (inbox / "kits" / COURSE / locale).iterdir()]
        return kit

    def kit_file(self, locale: str = "es") -> Path:
        inbox = self.lima if locale == "es" else self.cairo
        return inbox / "kits" / COURSE / locale / self.kit(locale) / f"{COURSE}.{locale}.po"

    def good(self) -> bytes:
        return GOOD.replace(b"KIT", self.kit().encode()).replace(b"acme", b"lima")

    def drop(self, name: str | bytes, data: bytes) -> Path:
        self.returns.mkdir(parents=True, exist_ok=True)
        path = Path(os.fsdecode(os.fsencode(self.returns) + b"/" + (name if isinstance(name, bytes) else name.encode())))
        path.write_bytes(data)
        return path

    def reports(self) -> list[dict[str, object]]:
        return [json.loads(p.read_bytes()) for p in sorted((self.lima / "reports").glob("*.json"))]


def cli(*argv: str) -> tuple[int, str, str]:
    """Run the command in-process, capturing what it prints."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pristine")
    (root / "localize.toml").write_text(CONFIG.format(lima_hook=""), encoding="utf-8")
    ws = str(root / "locales")
    for argv in (
        ["extract", str(RETURNS / "course"), "--course", COURSE, "--locales-dir", ws],
        ["init", "--course", COURSE, "--locale", "es", "--locales-dir", ws],
        ["init", "--course", COURSE, "--locale", "ar", "--locales-dir", ws],
        ["route", "--course", COURSE, "--locale", "es", "--config", str(root / "localize.toml")],
        ["route", "--course", COURSE, "--locale", "ar", "--config", str(root / "localize.toml")],
    ):
        code, _, err = cli(*argv)
        assert code == 0, err
    return root


@pytest.fixture
def project(pristine: Path, tmp_path: Path) -> Project:
    shutil.copytree(pristine, tmp_path / "p", symlinks=True)
    return Project(tmp_path / "p")


def ingest(p: Project, *extra: str, partner: str = "lima") -> tuple[int, str, str]:
    code, out, err = cli("ingest", "--partner", partner, "--config", str(p.config), *extra)
    assert "Traceback" not in err
    for text in (out, err):
        assert CANARY not in text
        assert "\x1b" not in text and "\x07" not in text, "a partner's bytes reached the terminal unescaped"
    return code, out, err


def partner_visible_clean(p: Project) -> None:
    assert_no_leak(p.lima, p.cairo)
    # nothing of cairo's kit or assignment reaches lima's reports
    cairo_kit = p.kit("ar").encode()
    for path in (p.lima / "reports").glob("*"):
        assert cairo_kit not in path.read_bytes(), f"{path} names cairo's kit"


def errors(report: dict[str, object]) -> list[tuple[str, str]]:
    return [(str(q["check"]), str(q["message"])) for q in report["problems"] if q["severity"] == "error"]  # type: ignore[union-attr]


def set_msgstr(data: bytes, msgid: str, literal: str) -> bytes:
    """``data`` with the msgstr of ``msgid`` replaced by the PO string literal ``literal`` (escapes as written)."""
    marker = f'msgid "{msgid}"\nmsgstr "'.encode()
    start = data.index(marker) + len(marker) - 1
    end = data.index(b"\n", start)
    return data[:start] + b'"' + literal.encode("utf-8") + b'"' + data[end:]


TITLE = "Waves and Oscillations"
LINK = "Read the <a1>syllabus</a1> before class."
PRINTF = "Problem set %d is due on Friday."
BRACE = "Hello {name}, welcome back."
URL = "Visit https://ocw.example.org/waves for more."
MAIL = "Write to help@example.org with questions."

# -- one bad entry in an otherwise good file: that entry is rejected, the others merged -------------

ENTRY_CASES: dict[str, tuple[str, str, str, str]] = {
    # name: (msgid, msgstr literal, check, exact message)
    "script-tag": (TITLE, "Ondas<script>alert(1)</script>", "markup", "<script> is not allowed in a translation"),
    "img-onerror": (
        TITLE,
        '<img src=x onerror=alert(document.cookie)>',
        "markup",
        "'<img src=x onerror=alert(document.cookie' looks like HTML; only the source's placeholders may be used",
    ),
    "javascript-url-in-text": (
        TITLE,
        "Ondas javascript:alert(1)",
        "markup",
        "javascript:, vbscript: and data: URLs are not allowed in a translation",
    ),
    "java-tab-script-url": (
        TITLE,
        "Ondas java\\tscript:alert(1)",
        "markup",
        "javascript:, vbscript: and data: URLs are not allowed in a translation",
    ),
    "vbscript-url": (
        TITLE,
        "Ondas vbscript:msgbox(1)",
        "markup",
        "javascript:, vbscript: and data: URLs are not allowed in a translation",
    ),
    "data-url": (
        TITLE,
        "Ondas data:text/html;base64,PHNjcmlwdD4=",
        "markup",
        "javascript:, vbscript: and data: URLs are not allowed in a translation",
    ),
    "iframe": (TITLE, "<iframe src=//evil.example>", "markup", "<iframe> is not allowed in a translation"),
    "svg-onload": (TITLE, "<svg onload=alert(1)>", "markup", "<svg> is not allowed in a translation"),
    "style-tag": (TITLE, "<style>body{display:none}</style>", "markup", "<style> is not allowed in a translation"),
    "meta-refresh": (
        TITLE,
        '<meta http-equiv=refresh content=\\"0;url=//evil.example\\">',
        "markup",
        "<meta> is not allowed in a translation",
    ),
    "base-href": (TITLE, "<base href=//evil.example/>", "markup", "<base> is not allowed in a translation"),
    "form-tag": (TITLE, "<form action=//evil.example>", "markup", "<form> is not allowed in a translation"),
    "bare-handler": (
        TITLE,
        "Ondas\\\" onmouseover=alert(1) x=\\\"",
        "markup",
        "an event handler attribute (on...=) is not allowed in a translation",
    ),
    "html-comment": (
        TITLE,
        "Ondas <!-- hidden -->",
        "markup",
        "'<!--' looks like HTML; only the source's placeholders may be used",
    ),
    "cdata": (TITLE, "Ondas <![CDATA[x]]>", "markup", "'<![CDATA[' looks like HTML; only the source's placeholders may be used"),
    "placeholder-with-attribute": (
        LINK,
        'Lea el <a1 href=\\"javascript:alert(1)\\">programa</a1>.',
        "placeholders",
        "</a1> closes a placeholder that is not open or is misnested",
    ),
    "nul-octal-escape": (TITLE, "Ondas\\0 y oscilaciones", "control-characters", "control character U+0000 is not allowed; remove it"),
    "nul-hex-escape": (TITLE, "Ondas\\x00", "control-characters", "control character U+0000 is not allowed; remove it"),
    "ansi-clear-screen": (
        TITLE,
        "Ondas\\033[2J\\033[H",
        "control-characters",
        "control character U+001B is not allowed; remove it",
    ),
    "osc-title-escape": (
        TITLE,
        "\\033]0;owned\\a Ondas",
        "control-characters",
        "control character U+001B is not allowed; remove it",
    ),
    "bell": (TITLE, "Ondas\\a", "control-characters", "control character U+0007 is not allowed; remove it"),
    "c1-csi": (TITLE, "Ondas\u009b2J", "control-characters", "control character U+009B is not allowed; remove it"),
    "delete-char": (TITLE, "Ondas\u007f", "control-characters", "control character U+007F is not allowed; remove it"),
    "carriage-return": (TITLE, "Ondas\\rOK", "control-characters", "control character U+000D is not allowed; remove it"),
    "form-feed": (TITLE, "Ondas\\f", "control-characters", "control character U+000C is not allowed; remove it"),
    "over-long-msgstr": (
        TITLE,
        "a" * 5000,
        "length-limit",
        "the translation has 5000 characters, more than the limit of 2000 ([qa] max_string_chars)",
    ),
    "printf-percent-n": (
        PRINTF,
        "El conjunto %d %n se entrega el viernes.",
        "variables",
        "printf variables differ from the source: extra %n",
    ),
    "printf-swapped-for-string": (
        PRINTF,
        "El conjunto de problemas %s se entrega el viernes.",
        "variables",
        "printf variables differ from the source: missing %d; extra %s",
    ),
    "brace-dunder": (
        BRACE,
        "Hola {name.__class__}, bienvenido.",
        "variables",
        "brace variables differ from the source: missing {name}; extra {name.__class__}",
    ),
    "phishing-url": (
        URL,
        "Visite https://ocw.example.org.evil.example/waves para saber más.",
        "urls",
        "URL https://ocw.example.org/waves is missing or changed",
    ),
    "mail-redirected": (
        MAIL,
        "Escriba a help@evil.example si tiene preguntas.",
        "urls",
        "e-mail address help@example.org is missing or changed",
    ),
    "leading-newline": (
        TITLE,
        "\\nOndas",
        "newlines",
        "the source and the translation must both begin and end with a newline, or neither",
    ),
}


@pytest.mark.parametrize("name", sorted(ENTRY_CASES))
def test_a_hostile_entry_is_rejected_alone(name: str, project: Project) -> None:
    msgid, literal, check, message = ENTRY_CASES[name]
    data = set_msgstr(project.good(), msgid, literal)
    project.drop("return.po", data)

    code, out, err = ingest(project)

    assert code == 1 and "return.po: partially accepted (waves/es kit " in out
    [report] = project.reports()
    assert report["state"] == "partially accepted" and report["rejected"] == 1
    assert (check, message) in errors(report)
    rejected = [e for e in report["entries"] if e["status"] == "rejected"]  # type: ignore[union-attr]
    assert [e["msgid"] for e in rejected] == [msgid]
    catalog = {e.msgid: e.msgstr for e in read_po(project.catalog()).entries}
    assert catalog[msgid] == ""  # the hostile text never reached the catalog of record
    assert sum(1 for v in catalog.values() if v) == report["accepted"] > 0
    html = next((project.lima / "reports").glob("*.html")).read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<iframe src" not in html and "\x1b" not in html
    assert html.count('<li class="rejected">') == 1
    partner_visible_clean(project)
