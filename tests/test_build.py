"""Rebuilding pages: translations spliced into the original bytes, nothing else touched."""

from __future__ import annotations

import pytest

from localize.engine.pages import localize_page
from localize.engine.segments import find_units
from localize.locales import is_rtl

PAGE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
    '<meta name="description" content="Waves &amp; sound">\n<title>Waves</title>\n'
    "<script>if (a < b) { go('x') }</script></head>\n"
    "<body>\n  <p class='lead'>Read the <a href=\"s.html\" data-x='{\"a\": 1}'>syllabus</a>&nbsp;now.</p>\n"
    '  <img src="w.png" alt="A wave">\n  <pre>keep   this</pre>\n  <p>Untouched &copy; text</p>\n</body>\n</html>\n'
)

T = {
    ("attribute", "Waves & sound"): "Ondas y sonido",
    (None, "Waves"): "Ondas",
    (None, "Read the <a1>syllabus</a1>\xa0now."): "Lee el <a1>programa</a1> ahora.",
    ("attribute", "A wave"): 'Una "onda"',
}


def build_page(*args, **kwargs):  # type: ignore[no-untyped-def]
    r = localize_page(*args, **kwargs)
    return r.data, r.translated, r.fallback


def build(page: str, translations: dict[tuple[str | None, str], str], locale: str = "es") -> str:
    problems: list[str] = []
    data, _, _ = build_page(
        page.encode("utf-8"), "p.html", translations, locale, on_problem=lambda u, m: problems.append(m)
    )
    assert not problems
    return data.decode("utf-8")


def test_translations_are_spliced_and_everything_else_is_byte_identical() -> None:
    assert build(PAGE, T) == (
        '<!DOCTYPE html>\n<html lang="es">\n<head><meta charset="utf-8">'
        '<meta name="description" content="Ondas y sonido">\n<title>Ondas</title>\n'
        "<script>if (a < b) { go('x') }</script></head>\n"
        "<body>\n  <p class='lead'>Lee el <a href=\"s.html\" data-x='{\"a\": 1}'>programa</a> ahora.</p>\n"
        '  <img src="w.png" alt="Una &quot;onda&quot;">\n  <pre>keep   this</pre>\n  <p lang="en">Untouched &copy; text</p>\n</body>\n</html>\n'
    )  # the one paragraph left in English says so


def test_nothing_translated_in_the_source_locale_returns_the_same_bytes() -> None:
    data = PAGE.encode("utf-8")
    out, translated, fallback = build_page(data, "p.html", {}, "en")
    assert out is data
    assert (translated, fallback) == (0, 5)


def test_right_to_left_locale_sets_lang_and_dir() -> None:
    out = build("<html><body><p>Hi</p></body></html>", {(None, "Hi"): "مرحبا"}, "ar")
    assert out == '<html lang="ar" dir="rtl"><body><p>مرحبا</p></body></html>'
    assert is_rtl("he") and is_rtl("fa") and not is_rtl("es") and not is_rtl("qps-ploc")


def test_existing_lang_and_dir_are_replaced() -> None:
    out = build("<html lang='en' dir=ltr xml:lang=\"en\"><p>Hi</p></html>", {}, "pt_BR")
    assert out == '<html lang=\'pt-BR\' dir="ltr" xml:lang="pt-BR"><p lang="en">Hi</p></html>'


@pytest.mark.parametrize(
    ("translation", "expected"),
    [
        (
            "<script>alert(1)</script>Hola <a1>mundo</a1>",
            '&lt;script&gt;alert(1)&lt;/script&gt;Hola <a href="w">mundo</a>',
        ),
        (
            '<img src=x onerror="alert(1)">Hola <a1>mundo</a1>',
            '&lt;img src=x onerror="alert(1)"&gt;Hola <a href="w">mundo</a>',
        ),
        (
            '<a href="javascript:alert(1)">Hola</a> <a1>mundo</a1>',
            '&lt;a href="javascript:alert(1)"&gt;Hola&lt;/a&gt; <a href="w">mundo</a>',
        ),
        ("Hola &lt;b&gt; <a1>mundo</a1>", 'Hola &amp;lt;b&amp;gt; <a href="w">mundo</a>'),
    ],
)
def test_markup_in_a_translation_is_escaped_never_emitted(translation: str, expected: str) -> None:
    out = build('<p>Hello <a href="w">world</a></p>', {(None, "Hello <a1>world</a1>"): translation})
    assert out == f"<p>{expected}</p>"


def test_attribute_translation_cannot_break_out_of_its_quotes() -> None:
    out = build(
        "<img alt='Photo' src=a.png><img alt=Photo2>",
        {("attribute", "Photo"): "x' onerror='alert(1)", ("attribute", "Photo2"): 'a" b'},
    )
    assert out == "<img alt='x&#39; onerror=&#39;alert(1)' src=a.png><img alt=\"a&quot; b\">"


@pytest.mark.parametrize(
    ("translation", "problem"),
    [
        ("Hola mundo", "placeholder <a1> is missing"),
        ("Hola <a1>mundo", "placeholder <a1> is never closed"),
        ("Hola </a1>mundo<a1>", "</a1> closes a placeholder that is not open or is misnested"),
        ("<a1>Hola</a1> <a1>mundo</a1>", "placeholder <a1> appears more than once"),
        ("Hola <a1/>", "placeholder <a1> needs its closing </a1>"),
        ('Hola <a1 href="javascript:x">mundo</a1>', "</a1> closes a placeholder that is not open or is misnested"),
    ],
)
def test_a_translation_must_keep_its_placeholders(translation: str, problem: str) -> None:
    page = '<p>Hello <a href="w">world</a></p>'
    seen: list[str] = []
    data, _, _ = build_page(
        page.encode(),
        "p.html",
        {(None, "Hello <a1>world</a1>"): translation},
        "es",
        on_problem=lambda u, m: seen.append(m),
    )
    assert data.decode() == page.replace("<p>", '<p lang="en">')  # falls back to the source text, labelled
    assert seen == [problem]


def test_placeholders_may_be_reordered_and_nested_markup_keeps_its_attributes() -> None:
    page = '<p>Click <b>here</b> to see <a href="x" title="More info">details</a>.</p>'
    [*_, text] = find_units(page)
    assert text.msgid == "Click <b1>here</b1> to see <a2>details</a2>."
    out = build(
        page,
        {(None, text.msgid): "Para ver <a2>detalles</a2>, pulsa <b1>aquí</b1>.", ("attribute", "More info"): "Más"},
    )
    assert out == '<p>Para ver <a href="x" title="Más">detalles</a>, pulsa <b>aquí</b>.</p>'


def test_attribute_inside_an_untranslated_sentence_is_still_translated() -> None:
    out = build(
        '<p>See <abbr title="Fast Fourier Transform">FFT</abbr> here</p>',
        {("attribute", "Fast Fourier Transform"): "Transformada rápida"},
    )
    assert out == '<p lang="en">See <abbr title="Transformada rápida">FFT</abbr> here</p>'


def test_the_page_keeps_its_own_encoding() -> None:
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Caf\xe9</p><p>Other \xe9</p></body></html>'
    data = page.encode("latin-1")
    out, _, _ = build_page(data, "p.html", {(None, "Café"): "مقهى"}, "en")
    assert out == page.replace("<p>Caf\xe9", "<p>&#1605;&#1602;&#1607;&#1609;").encode("latin-1")


def test_bom_and_crlf_survive() -> None:
    data = b"\xef\xbb\xbf<p>Hello\r\nthere</p>\r\n<p>Bye</p>\r\n"
    out, _, _ = build_page(data, "p.html", {(None, "Hello there"): "Hola"}, "en")
    assert out == b"\xef\xbb\xbf<p>Hola</p>\r\n<p>Bye</p>\r\n"


def test_untranslatable_inline_content_keeps_its_direction_in_rtl_pages() -> None:
    page = '<p>Welcome to <span translate="no">6.S01</span>, see <code>f(x)</code> and <br>more.</p>'
    msgid = "Welcome to <span1/>, see <code2/> and <br3/>more."
    out = build(page, {(None, msgid): "مرحبا بكم في <span1/>، انظر <code2/> و<br3/>المزيد."}, "ar")
    assert (
        out
        == '<p>مرحبا بكم في <bdi><span translate="no">6.S01</span></bdi>، انظر <bdi><code dir="ltr">f(x)</code></bdi> و<br>المزيد.</p>'
    )
    assert build(page, {(None, msgid): "Bienvenidos a <span1/>, ver <code2/> y <br3/>más."}, "es").count("<bdi>") == 0


@pytest.mark.parametrize(
    "decoy",
    [
        "<noscript><body data-decoy></noscript>",
        "<template><body data-decoy></template>",
        "<noscript><p><body data-decoy></p></noscript>",
    ],
)
def test_a_body_tag_hidden_in_the_head_cannot_take_the_notice(decoy: str) -> None:
    """What a build puts after <body> (a region's attribution notice) goes after the body a
    browser shows, not after a <body> tag a page hides in noscript or template in its head."""
    page = f"<!doctype html><html><head><title>T</title>{decoy}</head><body class=real><p>Hello</p></body></html>"
    result = localize_page(
        page.encode(), "index.html", {}, "es", after_body="<aside>NOTICE</aside>", documents_only=True
    )
    out = result.data.decode()
    assert out.count("NOTICE") == 1
    assert "<body class=real><aside>NOTICE</aside><p " in out
    assert decoy in out  # the decoy is left as it was


@pytest.mark.parametrize(
    "page",
    [
        "<html><head></head><div hidden><body></div><body class=x><p>Hello</p></body></html>",
        '<html><head><title>T</title></head><div style="display:none"><body><p>Hello</p></div></html>',
        "<html><head><title>T</title><div hidden><body></div></head><p>Hello</p></html>",  # head left open
    ],
)
def test_a_body_tag_inside_a_hidden_element_cannot_take_the_notice(page: str) -> None:
    """A browser starts the body at the first element only a body can hold and ignores later
    <body> tags: the notice goes before that element, not inside it."""
    out = localize_page(page.encode(), "a.html", {}, "es", after_body="<aside>N</aside>", documents_only=True).data
    text = out.decode()
    assert text.count("<aside>N</aside>") == 1
    assert "<aside>N</aside><div" in text


def test_a_page_whose_only_body_tag_is_hidden_still_gets_the_notice() -> None:
    page = "<html><head><noscript><body></noscript></head><p>Hello</p></html>"
    out = localize_page(page.encode(), "a.html", {}, "es", after_body="<aside>N</aside>", documents_only=True).data
    assert out.decode().count("<aside>N</aside>") == 1
