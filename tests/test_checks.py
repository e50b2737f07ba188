"""The QA gate's check registry: one small function per rule, configurable per partner, linear in its input."""

from __future__ import annotations

import pytest

from localize.errors import ConfigError
from localize.model import Entry
from localize.partners.checks import CHECKS, ERROR, INFO, WARNING, Limits, Severity, entry_problems, policy
from localize.partners.qa import check_catalog, check_file

HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: es\\n"\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'


def problems_of(msgid: str, msgstr: str, **kwargs: object) -> list[tuple[str, str]]:
    return [(p.check, p.severity) for p in entry_problems(Entry(msgid, msgstr), "x.po", **kwargs)]  # type: ignore[arg-type]


def test_every_check_is_a_small_documented_function_with_an_id_and_a_severity() -> None:
    ids = [c.id for c in CHECKS]
    assert len(ids) == len(set(ids))
    assert {"placeholders", "markup", "variables", "urls", "newlines", "numbers", "length"} <= set(ids)
    for check in CHECKS:
        assert isinstance(check.severity, Severity) and check.doc, check.id
    # severities compare equal to their names, so reports and JSON stay as they were
    assert ERROR == "error" and WARNING == "warning" and INFO == "info"


def test_a_partner_can_switch_a_check_off_or_change_its_severity() -> None:
    long = "x" * 30
    assert ("length", "warning") in problems_of(long, long * 5)
    assert ("length", "warning") not in problems_of(long, long * 5, checks={"length": "off"})
    assert ("numbers", "error") in problems_of("Chapter 3", "Capítulo 4", checks={"numbers": "error"})
    catalog_problems = check_catalog(
        __import__("localize.catalogs.po", fromlist=["read_po"]).read_po(
            HEADER + 'msgid "Chapter 3"\nmsgstr "Capítulo 4"\n'
        ),
        "x.po",
        checks={"numbers": "error"},
    )
    assert [(p.check, p.severity, p.line) for p in catalog_problems if p.check == "numbers"] == [
        ("numbers", "error", 8)
    ]


def test_unknown_checks_and_severities_are_refused_with_the_known_ones_listed() -> None:
    with pytest.raises(ConfigError) as info:
        policy({"lenght": "off"})
    assert "unknown check 'lenght'" in str(info.value) and "length" in str(info.value)
    with pytest.raises(ConfigError, match="severity must be error, warning, info or off"):
        policy({"length": "fatal"})


def test_localize_toml_takes_checks_per_partner(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from localize.config import load_config

    config = tmp_path / "localize.toml"
    config.write_text(
        '[[partners]]\nid = "lima"\nname = "Lima"\nlocales = ["es"]\ninbox = "in"\nchecks = { length = "off" }\n'
    )
    assert load_config(config).partner("lima").checks == {"length": "off"}
    config.write_text(
        '[[partners]]\nid = "lima"\nname = "Lima"\nlocales = ["es"]\ninbox = "in"\nchecks = { length = "loud" }\n'
    )
    with pytest.raises(ConfigError, match=r"partners\[0\]\.checks"):
        load_config(config)


# Inputs a quadratic pattern could not get through within the suite's time: each is about 1 MB.
HUGE = 1_000_000

# (source, the translation's shape at size n): the megabyte form must be judged like a small one.
SHAPES = {
    "email": ("Write to us", lambda n: "a" * n + "@"),  # a long local part with no domain
    "email-dots": ("Write to us", lambda n: "a." * (n // 2) + "@b"),
    "printf-zeros": ("100%", lambda n: "%" + "0" * n),  # flags and width fighting over zeros
    "printf-percents": ("100%", lambda n: "%" * n),
    "tag": ("x < y", lambda n: "<a" + "-a" * (n // 2)),  # a name that never ends in >
    "tag-spaces": ("x < y", lambda n: "< " * (n // 2)),
    "handler": ("x", lambda n: "on" + "n" * n),  # an event handler that never reaches =
    "js": ("x", lambda n: "java" + " " * n + "script"),
    "url": ("See http://a.b", lambda n: "http://" + "a" * n),
    "numbers": ("1", lambda n: "1" + " 1" * (n // 2)),
    "wide": ("<a1>x</a1>", lambda n: "\uff1ca1\uff1e" * (n // 4)),  # each one found, put back in one pass
    "wide-open": ("<a1>x</a1>", lambda n: "\uff1c\uff41" * (n // 2)),  # never closed
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_check_is_linear_on_megabyte_strings(shape: str) -> None:
    """Finishing at all is the linear-time half (a quadratic pattern would not, within the
    suite's time); the megabyte form must also find the same problems as a 100-character one."""
    source, make = SHAPES[shape]
    limits = Limits(max_string_chars=10 * HUGE)

    def judged(n: int) -> set[tuple[str, str]]:
        return {(p.check, p.severity) for p in entry_problems(Entry(source, make(n)), "x.po", limits=limits)}

    small, big = judged(100), judged(HUGE)
    assert big - {("length", "warning")} == small - {("length", "warning")}


def test_a_5000_digit_number_and_nplurals_are_problems_not_tracebacks() -> None:
    digits = "9" * 5000
    assert ("numbers", "warning") in problems_of(f"{digits} students", f"{digits}8 estudiantes")
    assert ("numbers", "warning") not in problems_of(f"{digits} students", f"{digits} estudiantes")
    _, found = check_file(
        (
            HEADER.replace("nplurals=2", f"nplurals={digits}")
            + 'msgid "a"\nmsgid_plural "b"\nmsgstr[0] "x"\nmsgstr[1] "y"\n'
        ).encode(),
        "x.po",
    )
    header = [p.message for p in found if p.line == 5 and p.severity == ERROR]  # the Plural-Forms line
    assert len(header) == 1 and header[0].startswith("the header has no valid Plural-Forms; use: nplurals=")


def test_numbers_take_arabic_separators_and_say_which_differ() -> None:
    """٢٫١ (U+066B) and ٢٬٥٠٠ (U+066C) are 2.1 and 2,500 in Arabic typography; the warning named no number."""
    assert problems_of("Ch 2.1-2.2, 2,500 students", "الفصل ٢٫١–٢٫٢، ٢٬٥٠٠ طالب") == []
    assert problems_of("Problems 1,2,3", "المسائل ١،٢،٣") == []
    assert (
        problems_of("1,000 students", "1'000 Studierende") == problems_of("1,000 students", "1’000 Studierende") == []
    )
    [found] = entry_problems(Entry("Lectures 3 and 12", "Clases 3 y 13"), "x.po")
    assert (
        found.message
        == "the numbers differ from the source (missing 12; not in the source 13; digits compared, separators aside)"
    )
    [long] = entry_problems(Entry("9" * 5000 + " students", "9" * 4999 + " estudiantes"), "x.po")
    assert len(long.message) < 200


def test_an_html_entity_in_a_translation_is_warned_not_shown_as_typed() -> None:
    """ "Juzuu 1 &amp; 2" passed the gate and the page showed "&amp;" (a translation is text); the
    numbers check also took the 160 of &#160; for a number."""
    found = entry_problems(Entry("Syllabus of the course", "Muhtasari&#160;wa kozi"), "x.po")
    assert [(p.check, p.message) for p in found] == [
        ("entities", "&#160; would show as typed on the page: type the character itself (a no-break space)")
    ]
    [amp] = entry_problems(Entry("Volumes 1 and 2", "Juzuu 1 &amp; 2"), "x.po")
    assert amp.message == "&amp; would show as typed on the page: type the character itself ('&')"
    assert problems_of("Use &amp; in HTML", "Usa &amp; en HTML") == []  # the source has it: kept as is
    assert problems_of("Fish and chips", "Fish & chips") == []


def test_the_length_check_counts_a_wide_character_twice() -> None:
    """Correct Chinese ("本节包含全套讲义。" for a 55-character sentence) was "0.3 times as long", with 0.3 the limit."""
    assert problems_of("This section includes a complete set of lecture notes.", "本节包含全套讲义。") == []
    [short] = entry_problems(Entry("This section includes a complete set of lecture notes.", "Notas."), "x.po")
    assert short.message == (
        "the translation is 0.13 times as long as the source, outside 0.3 to 3 ([qa] min_length_ratio, "
        "max_length_ratio; a wide character, as in Chinese, counts twice)"
    )


def test_control_characters_are_refused_and_never_printed_raw() -> None:
    for bad in ("\x00", "\x1b[2J", "\x07", "\x9b"):
        found = entry_problems(Entry("Hello", f"Hola{bad}"), "x.po")
        assert (found[0].check, found[0].severity) == ("control-characters", "error")
        assert "\x1b" not in str(found[0]) and "\x00" not in str(found[0])
    # tab and newline are ordinary text
    assert problems_of("a\tb", "c\td") == []


def test_bidi_overrides_and_open_isolates_are_refused_but_marks_and_balanced_isolates_pass() -> None:
    assert ("bidi-controls", "error") in problems_of("Waves", "\u202eseváW")
    assert ("bidi-controls", "error") in problems_of("Waves", "\u2067موجات")
    assert ("bidi-controls", "error") in problems_of("Waves", "موجات\u2069")
    assert ("bidi-controls", "error") in problems_of("Waves", "\u2066a\u202c")  # closed by the wrong kind
    # marks and balanced isolates are how right-to-left text is written well
    assert problems_of("Waves 6.S01", "موجات \u2066 6.S01\u2069\u200f") == []
    assert problems_of("Waves", "\u202bموجات\u202c") == []
    # a source that carries the control may keep it
    assert problems_of("\u202eWaves", "\u202eOndas") == []


def test_strings_and_files_over_the_limits_are_refused_up_front() -> None:
    found = entry_problems(Entry("Hello", "x" * 200), "x.po", limits=Limits(max_string_chars=100))
    assert [(p.check, p.severity) for p in found] == [("length-limit", "error")]
    assert "more than the limit of 100 ([qa] max_string_chars)" in found[0].message
    catalog, found = check_file(b"x" * 2048, "big.po", limits=Limits(max_file_bytes=1024))
    assert catalog is None and [(p.check, p.message) for p in found] == [
        (
            "size",
            "the file has 2048 bytes, more than the limit of 1024 ([qa] max_file_bytes); split the work or ask your coordinator",
        )
    ]


def test_plural_forms_on_a_singular_entry_are_an_error_not_silently_dropped() -> None:
    from localize.catalogs.po import read_po

    template = read_po(HEADER + 'msgid "cat"\nmsgstr ""\n')
    _, found = check_file(
        (HEADER + 'msgid "cat"\nmsgid_plural "cats"\nmsgstr[0] "gato"\nmsgstr[1] "gatos"\n').encode(),
        "x.po",
        template=template,
    )
    assert [(p.check, p.message) for p in found if p.check == "edited-source"] == [
        ("edited-source", "msgid_plural was added or changed; the source has no plural form: write one msgstr")
    ]
    # msgstr[N] without any msgid_plural does not even parse
    _, found = check_file((HEADER + 'msgid "cat"\nmsgstr[0] "gato"\n').encode(), "x.po")
    assert [p.check for p in found] == ["syntax"]


def test_header_problems_are_on_the_header_lines_and_a_wrong_charset_is_warned() -> None:
    data = (
        'msgid ""\nmsgstr ""\n"Project-Id-Version: x\\n"\n"Language: ar\\n"\n'
        '"Content-Type: text/plain; charset=ISO-8859-1\\n"\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        'msgid "Café"\nmsgstr "قهوة"\n'
    ).encode()
    _, problems = check_file(data, "a.po")
    found = {(p.line, p.check, p.severity) for p in problems if p.check != "progress"}
    assert found == {(5, "charset", WARNING), (6, "plural-forms", WARNING)}
    [charset] = [p for p in problems if p.check == "charset"]
    assert (
        "says charset=ISO-8859-1, but the file is UTF-8" in charset.message and "set charset=UTF-8" in charset.message
    )
    _, problems = check_file(data.replace(b"ISO-8859-1", b"CHARSET"), "a.po")
    assert any(p.check == "charset" for p in problems)
    _, problems = check_file(data.replace(b"ISO-8859-1", b"UTF-8"), "a.po")
    assert not any(p.check == "charset" for p in problems)
    latin1 = data.replace("Café".encode(), "Café".encode("latin-1")).replace("قهوة".encode(), b"Cafe")
    _, problems = check_file(latin1, "a.po")  # truly ISO-8859-1: read as it says
    assert not any(p.check == "charset" for p in problems)


@pytest.mark.parametrize(
    "translation",
    [
        r"Infos \(\href{//evil.example/phish}{\text{Cliquez ici}}\)",
        r"Donner $$\style{position:fixed;top:0}{\text{x}}$$",
        r"Donner \[x\]",
        r"Infos \begin{align}x\end{align}",
    ],
)
def test_tex_a_pages_mathjax_would_render_is_refused_at_the_gate_and_at_the_build(translation: str) -> None:
    """MathJax turns `\\(\\href{//evil.example}{…}\\)` in a page's text into a working link (and
    `\\style` into CSS): written as text, it passed the gate and the build; an attacker's look."""
    from localize.engine.segments import find_units, render

    [found] = [p for p in entry_problems(Entry("Course Info", translation), "x.po") if p.check == "placeholders"]
    assert found.severity == ERROR
    assert "is TeX, which the page's MathJax would turn into a formula" in found.message
    page = "<html><body><p>Course Info</p></body></html>"
    refused: list[str] = []
    assert render(page, find_units(page), lambda u: translation, on_problem=lambda u, m: refused.append(m)) is None
    assert refused and "TeX" in refused[0]


def test_the_sources_own_tex_and_backslashes_of_prose_pass() -> None:
    assert problems_of(r"Solve \(x\) first: <math1/>", r"Resuelva \(x\) primero: <math1/>") == []
    assert problems_of("Save in C:\\Users", "Guardar en C:\\Usuarios") == []
    assert problems_of("Cost: $5", "Coste: 5 $") == []


def test_a_link_nested_in_another_is_refused_in_a_po_return_as_in_an_xliff_one() -> None:
    source = "Read the <a1>syllabus</a1> and the <a2>calendar</a2>."
    [found] = entry_problems(Entry(source, "Lea el <a1>programa y el <a2>calendario</a2></a1>."), "x.po")
    assert found.message == "placeholder <a2> (a link) is nested inside another link"
    assert problems_of(source, "Lea el <a2>calendario</a2> y el <a1>programa</a1>.") == []
    assert problems_of("See <em1>the <a2>notes</a2></em1>", "Vea <em1>las <a2>notas</a2></em1>") == []
    # a page's own broken markup nests them: its translation may keep that structure, no other
    nested = "Read <a1>the <a2>notes</a2> now</a1> or <a3>the forum</a3>"
    assert problems_of(nested, "Lea <a1>las <a2>notas</a2> ahora</a1> o <a3>el foro</a3>") == []
    assert problems_of(nested, "Lea <a3>el foro <a1>las <a2>notas</a2></a1></a3>") == [("placeholders", "error")]


def test_tex_split_by_markup_mathjax_reads_across_is_refused() -> None:
    """MathJax joins the text around <wbr> and comments: `\\<wbr1/>(` is `\\(`, and `\\bbox` takes CSS
    (a review of the first rule)."""
    source = "Read the notes<wbr1/> at <span2>home</span2><wbr3/> and<comment4/> now"
    sneaky = r"Lea \<wbr1/>(\<comment4/>bbox[position:fixed;background:red]X\<wbr3/>) <span2>casa</span2> ahora"
    [found] = [p for p in entry_problems(Entry(source, sneaky), "x.po") if p.check == "placeholders"]
    assert found.message.startswith("\\( is TeX")
    assert problems_of("Box", r"Caja \bbox") != []
    # MathJax does not read across an element: a path in bold, then a bracket, is no formula
    path = "Files live in <strong1>C:\\</strong1> (the root drive)."
    assert problems_of(path, "ファイルは<strong1>C:\\</strong1>(ルートドライブ)にあります。") == []
    assert problems_of("In <a1>C:\\Temp\\</a1> (temp)", "En <a1>C:\\Temp\\</a1>(temp)") == []


def test_a_placeholder_typed_in_full_width_characters_is_named_with_what_to_type() -> None:
    """A Chinese or Japanese input method in full-width mode types ＜a1＞ for <a1>: the gate said
    only that <a1> was missing, and the translator saw it right there. It now names the
    placeholder as typed and as meant, and checks the rest of the translation as meant."""
    source = "See <a1>the syllabus</a1> and <strong2>the notes</strong2>.<br3/>"
    typed = (
        "见\uff1ca1\uff1e教学大纲\uff1c\uff0fa1\uff1e和<strong2>笔记</strong2>。\uff1c\uff42\uff52\uff13\uff0f\uff1e"
    )
    found = entry_problems(Entry(source, typed), "x.po")
    assert {p.check for p in found} == {"placeholders"}  # (their digits are no numbers of the text)
    assert [(p.check, p.severity, p.message) for p in found if p.check == "placeholders"] == [
        ("placeholders", ERROR, "placeholder <a1> is typed in full-width characters (\uff1ca1\uff1e): type it as <a1>"),
        (
            "placeholders",
            ERROR,
            "placeholder </a1> is typed in full-width characters (\uff1c\uff0fa1\uff1e): type it as </a1>",
        ),
        (
            "placeholders",
            ERROR,
            "placeholder <br3/> is typed in full-width characters (\uff1c\uff42\uff52\uff13\uff0f\uff1e): "
            "type it as <br3/>",
        ),
    ]
    # what is wrong besides is still found; a full-width text that is no placeholder of the source is text
    also = entry_problems(Entry(source, "见\uff1ca1\uff1e教学大纲\uff1c/a1\uff1e和笔记。<br3/>"), "x.po")
    assert [p.message for p in also if p.check == "placeholders" and "full-width" not in p.message] == [
        "placeholder <strong2> is missing"
    ]
    assert problems_of("Use <a1>x</a1> (b7)", "使用<a1>x</a1>（见\uff1cb7\uff1e）") == []
