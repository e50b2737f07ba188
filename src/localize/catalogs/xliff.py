"""XLIFF 1.2: the exchange format of desktop CAT tools (OmegaT, memoQ, Trados, Okapi kits).

A catalog becomes one ``<file>`` (``datatype="html"``, source and target language)
with one ``<trans-unit>`` per live singular entry:

* ``id``: ``u`` + 20 hex digits of the sha256 of msgctxt and msgid (stable across runs);
  ``resname``: the msgid, prefixed with ``msgctxt|`` when there is one;
* ``<source>`` and ``<target state="…">`` (needs-translation, translated,
  needs-review-translation for fuzzy, signed-off for reviewed, with ``approved="yes"``);
* placeholders as inline codes: ``<a1>…</a1>`` is ``<g id="a1" ctype="link">…</g>``,
  ``<br2/>`` is ``<x id="br2" ctype="lb"/>``; the original markup never appears in
  the file (a catalog never holds it);
* msgctxt in a ``<context-group purpose="information">``, references in a
  ``<context-group purpose="location">``, extracted comments (the placeholder legend)
  as ``<note from="developer">``, translator comments as ``<note from="translator">``,
  the glossary terms of the entry as ``<note from="glossary">`` (and the kit's TBX file
  as the header's ``<glossary>``);
* the previous source of a fuzzy entry (``#|``), or the previous accepted translation
  of a review kit, as ``<alt-trans alttranstype="previous-version">``;
* the PO header fields as ``<note from="po-header">Name: value</note>`` in ``<header>``.

Reading is hardened (no DTD, no entities, no network, no huge trees; a DOCTYPE is
refused) and never trusts the file: every problem of a unit's inline codes (dropped,
repeated, unknown ids, a code changed between paired and void, illegal nesting, a
code typed as text) is returned as a :class:`UnitProblem` naming the unit, so the QA
gate rejects that entry only. Entries with msgid_plural and obsolete entries are not
written (HTML courses have none).

One cohesive module, like ``po.py``: the writer and the reader share the inline-code
mapping and must change together.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace

from localize import __version__
from localize.catalogs.glossary import TERMS_COMMENT
from localize.engine.placeholders import PLACEHOLDER, TranslationProblem, nested_links, parse_translation, unit_for
from localize.errors import PoSyntaxError
from localize.locales import html_lang
from localize.model import REVIEWED, Catalog, Entry

__all__ = [
    "NS",
    "REVIEWED",
    "UnitProblem",
    "XliffCatalog",
    "is_xliff",
    "read_xliff",
    "unit_id",
    "write_xliff",
]

NS = "urn:oasis:names:tc:xliff:document:1.2"
_XML_NS = "http://www.w3.org/XML/1998/namespace"

_PAIRED_CTYPE = {"a": "link", "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underlined"}
_VOID_CTYPE = {"br": "lb", "img": "image"}
_FUZZY_STATES = frozenset(
    ("needs-review-translation", "needs-review-l10n", "needs-review-adaptation", "needs-l10n", "needs-adaptation")
)
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TAG = re.compile(r"^([A-Za-z][A-Za-z-]*?)\d+$")


def unit_id(msgctxt: str | None, msgid: str) -> str:
    key = ("\x00" if msgctxt is None else msgctxt + "\x04") + msgid
    return "u" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _ctype(name: str, void: bool) -> str:
    m = _TAG.match(name)
    tag = (m.group(1) if m else name).lower()
    table = _VOID_CTYPE if void else _PAIRED_CTYPE
    return table.get(tag) or f"x-html-{tag}"


def is_xliff(name: str, data: bytes) -> bool:
    """True for a file that is XLIFF by its name or by its first bytes."""
    if name.lower().endswith((".xlf", ".xliff")):
        return True
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<?xml") or head.startswith(b"<xliff")


# -- writing -----------------------------------------------------------------------


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _clean(text: str) -> str:
    """Text XML 1.0 can carry (characters it cannot are replaced by U+FFFD)."""
    return _XML_BAD.sub("\ufffd", text) if _XML_BAD.search(text) else text


def _fill(el: object, text: str) -> None:
    """Write ``text`` (a msgid or msgstr with placeholders) into ``el`` as text and inline codes."""
    from lxml import etree

    assert isinstance(el, etree._Element)
    try:
        tokens = parse_translation(text, unit_for(text))
    except TranslationProblem:
        tokens = [text]  # placeholder-like text that is not a valid set of placeholders stays text
    stack = [el]
    last: etree._Element | None = None

    def add_text(s: str) -> None:
        s = _clean(s)
        if last is None:
            stack[-1].text = (stack[-1].text or "") + s
        else:
            last.tail = (last.tail or "") + s

    for token in tokens:
        if isinstance(token, str):
            add_text(token)
            continue
        kind, ph = token
        if kind == "void":
            last = etree.SubElement(stack[-1], _q("x"), id=ph.name, ctype=_ctype(ph.name, True))
        elif kind == "open":
            g = etree.SubElement(stack[-1], _q("g"), id=ph.name, ctype=_ctype(ph.name, False))
            stack.append(g)
            last = None
        else:
            last = stack.pop()


def _state(entry: Entry) -> str:
    if REVIEWED in entry.flags and entry.translated:
        return "signed-off"
    if entry.fuzzy and entry.msgstr:
        return "needs-review-translation"
    if entry.translated:
        return "translated"
    return "needs-translation"


def write_xliff(
    catalog: Catalog,
    *,
    original: str,
    source_locale: str,
    target_locale: str,
    previous: dict[tuple[str | None, str], str] | None = None,
    glossary: str | None = None,
    copy_source: bool = False,
) -> bytes:
    """The catalog as an XLIFF 1.2 document (UTF-8 bytes, deterministic).

    ``previous`` maps entry keys to an earlier accepted translation, shown as an
    ``<alt-trans>`` (review kits). ``glossary`` names the kit's TBX file, referred to from
    the header (``<glossary><external-file href=.../>``); an entry's ``Terms:`` comment
    (:func:`localize.catalogs.glossary.annotate`) becomes its ``<note from="glossary">``.
    ``copy_source`` fills the target of an untranslated unit with a copy of its source
    (state stays needs-translation): OmegaT 3.x's XLIFF filter translates what
    ``<target>`` holds and skips empty ones; the reader takes such a copy back as
    untranslated."""
    from lxml import etree

    root = etree.Element(_q("xliff"), nsmap={None: NS}, version="1.2")
    file_el = etree.SubElement(
        root,
        _q("file"),
        original=original,
        datatype="html",
        attrib={
            "source-language": html_lang(source_locale),  # BCP 47: sr@latin is sr-Latn
            "target-language": html_lang(target_locale),
            "tool-id": "localize",
        },
    )
    header = etree.SubElement(file_el, _q("header"))
    etree.SubElement(
        header, _q("tool"), attrib={"tool-id": "localize", "tool-name": "localize", "tool-version": __version__}
    )
    if glossary is not None:
        etree.SubElement(etree.SubElement(header, _q("glossary")), _q("external-file"), href=glossary)
    for name, value in catalog.headers:
        note = etree.SubElement(header, _q("note"), attrib={"from": "po-header"})
        note.text = _clean(f"{name}: {value}")
    body = etree.SubElement(file_el, _q("body"))
    previous = previous or {}
    for e in catalog.entries:
        if e.obsolete or e.msgid_plural is not None:
            continue
        attrib = {
            "id": unit_id(e.msgctxt, e.msgid),
            "resname": _clean(e.msgid if e.msgctxt is None else f"{e.msgctxt}|{e.msgid}"),
            f"{{{_XML_NS}}}space": "preserve",
        }
        state = _state(e)
        if state == "signed-off":
            attrib["approved"] = "yes"
        tu = etree.SubElement(body, _q("trans-unit"), attrib=attrib)
        _fill(etree.SubElement(tu, _q("source")), e.msgid)
        target = etree.SubElement(tu, _q("target"), state=state)
        if e.msgstr:
            _fill(target, e.msgstr)
        elif copy_source:
            _fill(target, e.msgid)
        if e.msgctxt is not None:
            group = etree.SubElement(tu, _q("context-group"), purpose="information")
            ctx = etree.SubElement(group, _q("context"), attrib={"context-type": "x-gettext-msgctxt"})
            ctx.text = _clean(e.msgctxt)
        if e.references:
            group = etree.SubElement(tu, _q("context-group"), purpose="location")
            for ref in e.references:
                ctx = etree.SubElement(group, _q("context"), attrib={"context-type": "sourcefile"})
                ctx.text = _clean(ref)
        for comment in e.extracted_comments:
            terms = comment.startswith(TERMS_COMMENT)
            text = comment.removeprefix(TERMS_COMMENT) if terms else comment
            etree.SubElement(tu, _q("note"), attrib={"from": "glossary" if terms else "developer"}).text = _clean(text)
        for comment in e.translator_comments:
            etree.SubElement(tu, _q("note"), attrib={"from": "translator"}).text = _clean(comment)
        if e.previous_msgid is not None and e.msgstr:
            alt = etree.SubElement(tu, _q("alt-trans"), alttranstype="previous-version")
            _fill(etree.SubElement(alt, _q("source")), e.previous_msgid)
            _fill(etree.SubElement(alt, _q("target")), e.msgstr)
            if e.previous_msgctxt is not None and e.previous_msgctxt != e.msgctxt:
                group = etree.SubElement(alt, _q("context-group"), purpose="information")
                ctx = etree.SubElement(group, _q("context"), attrib={"context-type": "x-gettext-msgctxt"})
                ctx.text = _clean(e.previous_msgctxt)
        if e.key in previous:
            alt = etree.SubElement(tu, _q("alt-trans"), alttranstype="previous-version", origin="accepted")
            _fill(etree.SubElement(alt, _q("source")), e.msgid)
            _fill(etree.SubElement(alt, _q("target")), previous[e.key])
            etree.SubElement(alt, _q("note"), attrib={"from": "localize"}).text = "the translation accepted before"
    etree.indent(header, space="  ", level=2)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=False)
    # one unit per line keeps diffs readable without touching xml:space="preserve" content
    data = data.replace(b"<trans-unit ", b"\n<trans-unit ").replace(b"</body>", b"\n</body>")
    return data + b"\n"


# -- reading -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitProblem:
    """Something wrong with one unit: the entry is rejected, the rest of the file is not."""

    line: int
    unit: str
    key: tuple[str | None, str] | None
    message: str


@dataclass(frozen=True, slots=True)
class XliffCatalog:
    catalog: Catalog
    problems: tuple[UnitProblem, ...]
    signed_off: frozenset[tuple[str | None, str]]


def _local(tag: object) -> str:
    return tag.split("}", 1)[1] if isinstance(tag, str) and tag.startswith(f"{{{NS}}}") else f"?{tag}"


class _Codes:
    """Converts a <source>/<target> back to placeholder text, collecting what is wrong."""

    def __init__(self, known: dict[str, bool] | None, nested: set[tuple[str, str]] | None = None) -> None:
        self.known = known  # placeholder name -> void, for a target; None for a source
        self.nested = nested or set()  # (outer, inner) links the source nests: kept as the page has them
        self.errors: list[str] = []
        self.seen: dict[str, int] = {}

    def text(self, el: object) -> str:
        out: list[str] = []
        self._walk(el, out, ())
        return "".join(out)

    def _error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def _walk(self, el: object, out: list[str], open_tags: tuple[str, ...]) -> None:
        from lxml import etree

        assert isinstance(el, etree._Element)
        if el.text:
            out.append(el.text)
        for child in el:
            if not isinstance(child.tag, str):  # comments and processing instructions are dropped
                if child.tail:
                    out.append(child.tail)
                continue
            kind = _local(child.tag)
            code = child.get("id") or ""
            if kind == "mrk":  # segmentation or term marks: transparent
                self._walk(child, out, open_tags)
            elif kind in ("g", "x"):
                void = kind == "x"
                name_ok = PLACEHOLDER.fullmatch(f"<{code}>") is not None
                if not name_ok:
                    self._error(f"inline code id {code[:40]!r} is not a code of this unit")
                elif self.known is not None and code not in self.known:
                    self._error(f"inline code id {code!r} is not in the source (unknown id)")
                elif self.known is not None and self.known[code] != void:
                    self._error(
                        f"inline code {code!r} changed from {'paired <g>' if not void else '<x/>'} "
                        f"to {'<x/>' if void else 'paired <g>'}"
                    )
                self.seen[code] = self.seen.get(code, 0) + 1
                tag = _TAG.match(code)
                tag_name = tag.group(1).lower() if tag else ""
                if void:
                    if len(child) or (child.text or "").strip():
                        self._error(f"inline code <x id={code!r}/> must stay empty (illegal nesting)")
                    out.append(f"<{code}/>" if name_ok else "")
                else:
                    outer = next((o for o in reversed(open_tags) if o.rstrip("0123456789") == "a"), None)
                    if (
                        self.known is not None
                        and tag_name == "a"
                        and outer is not None
                        and (outer, code) not in self.nested
                    ):
                        self._error(f"inline code {code!r} (a link) is nested inside another link (illegal nesting)")
                    if name_ok:
                        out.append(f"<{code}>")
                    self._walk(child, out, (*open_tags, code))
                    if name_ok:
                        out.append(f"</{code}>")
            else:
                self._error(f"<{kind.lstrip('?')[:40]}> is not allowed here (only <g>, <x/> and <mrk>)")
                self._walk(child, out, open_tags)
            if child.tail:
                out.append(child.tail)

    def finish(self, source_codes: dict[str, bool]) -> None:
        for code, n in self.seen.items():
            if n > 1 and code in source_codes:
                self._error(f"inline code {code!r} appears {n} times (duplicated)")
        for code, void in source_codes.items():
            if code not in self.seen:
                self._error(f"inline code {'<x/>' if void else '<g>'} {code!r} was dropped")


def _codes_of(msgid: str) -> dict[str, bool]:
    return {p.name: p.void for p in unit_for(msgid).placeholders}


def read_xliff(data: bytes, path: str = "<xliff>") -> XliffCatalog:
    """Parse an XLIFF 1.2 file (one ``<file>``). Raises :class:`PoSyntaxError` (a
    syntax error of the exchange file, naming the line) for what is not XLIFF."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise PoSyntaxError(f"not well-formed XML: {e.msg}", path=path, line=e.lineno or 1) from None
    except ValueError as e:
        raise PoSyntaxError(f"not readable XML: {e}", path=path, line=1) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise PoSyntaxError("a DOCTYPE is not allowed in an XLIFF file", path=path, line=1)
    if root.tag != _q("xliff"):
        raise PoSyntaxError(
            f"not an XLIFF 1.2 file (root element <{str(root.tag)[:60]}>; expected <xliff> in {NS})", path=path, line=1
        )
    files = root.findall(_q("file"))
    if len(files) != 1:
        raise PoSyntaxError(
            f"an XLIFF return holds exactly one <file> (this one has {len(files)})",
            path=path,
            line=root.sourceline or 1,
        )
    file_el = files[0]
    headers: list[tuple[str, str]] = []
    header = file_el.find(_q("header"))
    if header is not None:
        for note in header.findall(_q("note")):
            if note.get("from") == "po-header" and ":" in (note.text or ""):
                name, _, value = (note.text or "").partition(":")
                headers.append((name.strip(), value.strip()))
    target_language = file_el.get("target-language")
    catalog = Catalog(headers=tuple(headers))
    if target_language:
        # the language the translator's tool translated into (a CAT tool never edits our header
        # notes, so the note's Language would pass a project set up in another language)
        catalog = catalog.with_header("Language", target_language.strip().replace("-", "_"))
    entries: list[Entry] = []
    problems: list[UnitProblem] = []
    signed_off: set[tuple[str | None, str]] = set()
    seen_ids: set[str] = set()
    body = file_el.find(_q("body"))
    units = body.iter(_q("trans-unit")) if body is not None else iter(())
    for tu in units:
        uid = tu.get("id") or ""
        line = tu.sourceline or 1
        source = tu.find(_q("source"))
        if source is None:
            raise PoSyntaxError(f"trans-unit {uid[:40]!r} has no <source>", path=path, line=line)
        reader = _Codes(None)
        msgid = reader.text(source)
        msgctxt: str | None = None
        references: list[str] = []
        for group in tu.findall(_q("context-group")):
            for ctx in group.findall(_q("context")):
                if ctx.get("context-type") == "x-gettext-msgctxt":
                    msgctxt = ctx.text or ""
                elif ctx.get("context-type") == "sourcefile" and ctx.text:
                    references.append(ctx.text)
        key = (msgctxt, msgid)
        shown = uid if re.fullmatch(r"[A-Za-z0-9._-]{1,64}", uid) else repr(uid[:40])
        if reader.errors:
            problems.append(UnitProblem(line, shown, key, f"unit {shown}: <source>: {reader.errors[0]}"))
        if uid in seen_ids:
            problems.append(UnitProblem(line, shown, key, f"unit {shown} appears twice; keep one of them"))
        seen_ids.add(uid)
        if uid != unit_id(msgctxt, msgid):
            problems.append(
                UnitProblem(
                    line, shown, key, f"unit {shown}: its <source> or context was edited (the id no longer matches)"
                )
            )
        target = tu.find(_q("target"))
        msgstr = ""
        flags: list[str] = []
        msgstr_line = line
        if target is not None:
            msgstr_line = target.sourceline or line
            codes = _codes_of(msgid)
            treader = _Codes(codes, nested_links(msgid))
            msgstr = treader.text(target)
            if msgstr:  # an empty target is an untranslated unit, not dropped codes
                treader.finish(codes)
            for m in PLACEHOLDER.finditer("".join(target.itertext())):
                if m.group(2) in codes:
                    treader._error(f"inline code {m.group(2)!r} was typed as text; use the tool's inline code instead")
                    break
            for message in treader.errors:
                problems.append(UnitProblem(msgstr_line, shown, key, f"unit {shown}: {message}"))
            state = target.get("state") or ""
            if state == "needs-translation" and msgstr == msgid:
                msgstr = ""  # a tool's copy of the source (OmegaT, Okapi Rainbow), not a translation
            if msgstr and state in _FUZZY_STATES:
                flags.append("fuzzy")
            if msgstr and (state == "signed-off" or tu.get("approved") == "yes") and "fuzzy" not in flags:
                signed_off.add(key)
        extracted = tuple(n.text or "" for n in tu.findall(_q("note")) if n.get("from") == "developer")
        translator = tuple(n.text or "" for n in tu.findall(_q("note")) if n.get("from") == "translator")
        previous_msgid: str | None = None
        for alt in tu.findall(_q("alt-trans")):
            alt_source = alt.find(_q("source"))
            if alt.get("origin") != "accepted" and alt_source is not None:
                previous_msgid = _Codes(None).text(alt_source)
        entries.append(
            Entry(
                msgid=msgid,
                msgstr=msgstr,
                msgctxt=msgctxt,
                flags=tuple(flags),
                references=tuple(references),
                extracted_comments=extracted,
                translator_comments=translator,
                previous_msgctxt=msgctxt if previous_msgid is not None and "fuzzy" in flags else None,
                previous_msgid=previous_msgid if "fuzzy" in flags else None,
                lineno=line,
                msgid_lineno=source.sourceline or line,
                msgstr_lineno=msgstr_line,
            )
        )
    return XliffCatalog(replace(catalog, entries=tuple(entries)), tuple(problems), frozenset(signed_off))
