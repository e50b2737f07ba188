"""A real CAT tool in the suite (issue 14): Debian's OmegaT 3.6 runs headless over a kit
(``omegat PROJECT --mode=console-translate``) with a translation memory in ``tm/auto/``,
and its output goes back through ``localize ingest`` like any partner's return.

What OmegaT 3.6 does, found by running it (the test pins each point):

* its XLIFF filter translates what ``<target>`` holds and skips units whose target is
  empty, so an OmegaT partner sets ``xliff_targets = "source"`` (the kit's untranslated
  targets are copies of the source, state ``needs-translation``);
* it shows inline codes as its own shortcuts numbered in order of appearance across
  paired and void codes (``<g id="a1">…</g>`` … ``<x id="br3"/>`` become ``<g0>…</g0>``
  … ``<x2/>``), matches memory segments written with those shortcuts, and writes the
  original codes back (ids and ctype kept, in the translation's order);
* it leaves ``state`` as it was (``needs-translation`` on units it translated) and leaves
  the source copy in units the memory does not cover; the reader takes a target equal to
  its source in state needs-translation as untranslated;
* in a .po kit our placeholders ``<a1>…</a1>`` are plain text to it: a memory segment
  matches with them typed as text and they reach msgstr unchanged.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from conftest import SAMPLE
from localize.catalogs.workspace import Workspace
from localize.cli import main
from localize.config import load_config
from localize.partners.routing import route

OMEGAT = shutil.which("omegat")
pytestmark = pytest.mark.skipif(
    OMEGAT is None, reason="OmegaT is not installed (apt-get install omegat; `make system-deps` does it)"
)
COURSE, LOCALE = "intro-course", "es"
CONFIG = """\
[workspace]
location = "locales"

[[partners]]
id = "omt"
name = "OmegaT users"
locales = ["es"]
inbox = "inbox-xlf"
format = "xliff"
xliff_targets = "source"

[[partners]]
id = "pot"
name = "OmegaT users with a .po kit"
locales = ["es"]
inbox = "inbox-po"
courses = []
"""
PROJECT = """\
<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<omegat>
  <project version="1.0">
    <source_dir>__DEFAULT__</source_dir>
    <target_dir>__DEFAULT__</target_dir>
    <tm_dir>__DEFAULT__</tm_dir>
    <glossary_dir>__DEFAULT__</glossary_dir>
    <glossary_file>__DEFAULT__</glossary_file>
    <dictionary_dir>__DEFAULT__</dictionary_dir>
    <source_lang>en</source_lang>
    <target_lang>es</target_lang>
    <source_tok>org.omegat.tokenizer.LuceneEnglishTokenizer</source_tok>
    <target_tok>org.omegat.tokenizer.LuceneSpanishTokenizer</target_tok>
    <sentence_seg>false</sentence_seg>
    <support_default_translations>true</support_default_translations>
    <remove_tags>false</remove_tags>
  </project>
</omegat>
"""

# (OmegaT's source segment, its translation, the msgid in our catalog, the msgstr that must land)
XLIFF_MEMORY = [
    (
        "Check the <g0>calendar</g0> first",
        "Consulta primero el <g0>calendario</g0>",
        "Check the <a1>calendar</a1> first",
        "Consulta primero el <a1>calendario</a1>",
    ),
    (
        "Instructor: Prof. José Núñez<x0/>Fall 2024 — Undergraduate",
        "Profesor: Prof. José Núñez<x0/>Otoño de 2024 — Grado",
        "Instructor: Prof. José Núñez<br1/>Fall 2024 — Undergraduate",
        "Profesor: Prof. José Núñez<br1/>Otoño de 2024 — Grado",
    ),
    (  # two links, swapped in the translation
        "Students should be comfortable with single-variable calculus and complex numbers. Read the "
        "<g0>syllabus</g0> for grading details and the <g1>calendar</g1> for due dates.",
        "Conviene dominar el cálculo de una variable y los números complejos. Consulta el "
        "<g1>calendario</g1> para las fechas y el <g0>programa</g0> para la evaluación.",
        "Students should be comfortable with single-variable calculus and complex numbers. Read the "
        "<a1>syllabus</a1> for grading details and the <a2>calendar</a2> for due dates.",
        "Conviene dominar el cálculo de una variable y los números complejos. Consulta el "
        "<a2>calendario</a2> para las fechas y el <a1>programa</a1> para la evaluación.",
    ),
    (
        "<g0>Problem Set 1:</g0> Signal properties and transformations (see <g1>Lecture Notes</g1> 1–2)",
        "<g0>Tarea 1:</g0> propiedades y transformaciones de señales (ver <g1>Apuntes</g1> 1–2)",
        "<strong1>Problem Set 1:</strong1> Signal properties and transformations (see <a2>Lecture Notes</a2> 1–2)",
        "<strong1>Tarea 1:</strong1> propiedades y transformaciones de señales (ver <a2>Apuntes</a2> 1–2)",
    ),
]
PO_MEMORY = [
    ("Check the <a1>calendar</a1> first", "Consulta primero el <a1>calendario</a1>"),
    (
        "Instructor: Prof. José Núñez<br1/>Fall 2024 — Undergraduate",
        "Profesor: Prof. José Núñez<br1/>Otoño de 2024 — Grado",
    ),
]


def tmx(pairs: list[tuple[str, str]]) -> str:
    """A TMX 1.4 memory whose segments hold tags as text (OmegaT's own shortcuts)."""
    units = "".join(
        f'<tu><tuv xml:lang="en"><seg>{escape(s)}</seg></tuv><tuv xml:lang="es"><seg>{escape(t)}</seg></tuv></tu>\n'
        for s, t in pairs
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4">\n'
        '<header creationtool="localize-tests" creationtoolversion="1" segtype="paragraph" o-tmf="none" '
        'adminlang="en" srclang="en" datatype="plaintext"/>\n'
        f"<body>\n{units}</body>\n</tmx>\n"
    )


def run_omegat(tmp: Path, kit_file: Path, memory: str) -> Path:
    """An OmegaT project around ``kit_file`` with ``memory`` in tm/auto/; returns the translated file."""
    project = tmp / "omegat-project"
    for sub in ("source", "target", "tm/auto", "glossary", "dictionary", "omegat"):
        (project / sub).mkdir(parents=True)  # OmegaT takes a folder as a project only with omegat/ in it
    (project / "omegat.project").write_text(PROJECT, encoding="utf-8")
    (project / "tm" / "auto" / "memory.tmx").write_text(memory, encoding="utf-8")
    shutil.copy(kit_file, project / "source" / kit_file.name)
    home = tmp / "home"
    home.mkdir()
    # Java takes its home from the password file, not $HOME: user.home keeps OmegaT out of the real one
    env = {**os.environ, "HOME": str(home), "JAVA_TOOL_OPTIONS": f"-Djava.awt.headless=true -Duser.home={home}"}
    # arguments not starting with -- are taken as the project: java flags go in JAVA_TOOL_OPTIONS
    done = subprocess.run(
        [str(OMEGAT), str(project), "--mode=console-translate", f"--config-dir={home / 'omegat-config'}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = project / "target" / kit_file.name
    assert done.returncode == 0 and out.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    return out


def setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    (tmp_path / "localize.toml").write_text(CONFIG, encoding="utf-8")
    assert main(["extract", str(SAMPLE), "--course", COURSE, "--locales-dir", str(tmp_path / "locales"), "-q"]) == 0
    capsys.readouterr()
    return tmp_path


def ingest_return(ws: Path, partner: str, inbox: str, translated: Path) -> dict[str, str]:
    """Drop OmegaT's file into the partner's returns/ and ingest the inbox; the catalog's translations."""
    returns = ws / inbox / "returns"
    returns.mkdir(parents=True, exist_ok=True)
    shutil.copy(translated, returns / translated.name)
    assert main(["ingest", "--partner", partner, "--config", str(ws / "localize.toml")]) == 0
    catalog = Workspace(str(ws / "locales")).read_catalog(COURSE, LOCALE)
    return {e.msgid: e.msgstr for e in catalog.entries if e.translated}


def test_omegat_translates_the_xliff_kit_from_memory_and_inline_codes_land(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = setup(tmp_path, capsys)
    result = route(load_config(ws / "localize.toml"), COURSE, LOCALE)
    kit = Path(result.kit_location) / f"{COURSE}.{LOCALE}.xlf"
    assert 'state="needs-translation">Check the <g id="a1" ctype="link">calendar</g> first</target>' in kit.read_text()
    out = run_omegat(tmp_path, kit, tmx([(s, t) for s, t, _, _ in XLIFF_MEMORY]))
    text = out.read_text(encoding="utf-8")
    # OmegaT wrote our own codes back, in the translation's order, and left the state alone
    assert (
        'Consulta el <g id="a2" ctype="link">calendario</g> para las fechas y el <g id="a1" ctype="link">programa</g>'
        in text
    )
    assert 'state="needs-translation">Consulta primero el <g id="a1" ctype="link">calendario</g></target>' in text
    assert "&lt;g0" not in text and "<g0" not in text
    translated = ingest_return(ws, "omt", "inbox-xlf", out)
    assert translated == {msgid: msgstr for _, _, msgid, msgstr in XLIFF_MEMORY}  # the rest came back untranslated
    report = next((ws / "inbox-xlf" / "reports").rglob("*.json")).read_text(encoding="utf-8")
    assert '"accepted": 4' in report


def test_omegat_translates_the_po_kit_with_placeholders_intact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = setup(tmp_path, capsys)
    result = route(load_config(ws / "localize.toml"), COURSE, LOCALE, partner_id="pot")
    kit = Path(result.kit_location) / f"{COURSE}.{LOCALE}.po"
    out = run_omegat(tmp_path, kit, tmx(PO_MEMORY))
    translated = ingest_return(ws, "pot", "inbox-po", out)
    assert translated == dict(PO_MEMORY)


def test_omegat_fills_a_po_kit_from_the_memory_tm_export_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`tm export` writes placeholders as text in its TMX. TMX inline codes (``<bpt>``, ``<ph>``)
    were tried: OmegaT 3.6 then matched no segment of either kind of kit, while text placeholders
    match a .po kit's, where ours are text to it too."""
    ws = setup(tmp_path, capsys)
    loc = ["--locales-dir", str(ws / "elsewhere")]  # another workspace's memory: this one's is empty
    compendium = "".join(f'\nmsgid "{s}"\nmsgstr "{t}"\n' for s, t in PO_MEMORY)
    (ws / "partner.po").write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n' + compendium)
    assert main(["tm", "import", str(ws / "partner.po"), "--locale", LOCALE, *loc]) == 0
    assert main(["tm", "export", "--locale", LOCALE, "--out", str(ws / "memory.tmx"), *loc]) == 0
    memory = (ws / "memory.tmx").read_text(encoding="utf-8")
    assert "&lt;a1&gt;calendario&lt;/a1&gt;" in memory
    result = route(load_config(ws / "localize.toml"), COURSE, LOCALE, partner_id="pot")
    kit = Path(result.kit_location) / f"{COURSE}.{LOCALE}.po"
    assert "calendario" not in kit.read_text(encoding="utf-8")
    out = run_omegat(tmp_path, kit, memory)
    assert ingest_return(ws, "pot", "inbox-po", out) == dict(PO_MEMORY)
