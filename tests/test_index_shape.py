"""The region index's one-pass recogniser (regions/index_shape.py): every index localize writes
is recognised, and nothing it recognises is refused by the schema's entry-by-entry checks (a
bucket is not trusted: a planted entry must still be found)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from localize.errors import IntegrityError
from localize.regions.index_shape import in_written_form
from localize.regions.schema import manifest_key, parse_index, parse_json, to_compact_json, validate_index

V1 = "20261204T101010.123Z-0123abcd"
V2 = "20261203T000000.000Z-ffffffff"


def entry(course: str, locale: str, version: str, **fields: Any) -> dict[str, Any]:
    full = {
        "version": version,
        "manifest": manifest_key(course, locale, version),
        "updated": "2026-12-04T10:10:10+00:00",
        "translated_percent": 87.5,
        "files": 12,
    }
    full.update(fields)
    return {k: v for k, v in full.items() if v is not ...}


def written_index() -> dict[str, Any]:
    """An index as publishes write it, with the shapes an older localize wrote beside them."""
    return {
        "region": "latam",
        "updated": "2026-12-04T10:10:10+00:00",
        "courses": {
            "18.02SC-multivariable-calculus": {
                "es": entry("18.02SC-multivariable-calculus", "es", V1),
                "pt_BR": entry("18.02SC-multivariable-calculus", "pt_BR", V2, translated_percent=None),
                "sr_Latn": entry("18.02SC-multivariable-calculus", "sr_Latn", V2, translated_percent=100),
            },
            "8.05": {
                "ar": entry("8.05", "ar", V2, translated_percent=0, files=0),
                "fr": {"version": V1},  # the fields of the first releases
                "zh_Hant_TW": entry("8.05", "zh_Hant_TW", V1, manifest=..., files=...),
            },
            "empty": {},
        },
    }


def outcome(data: bytes) -> dict[str, Any] | str:
    """What the schema's own checks say of ``data``: the index, or the refusal."""
    try:
        return validate_index(parse_json(data, "region index", "index.json"))
    except IntegrityError as e:
        return e.message


def test_every_index_localize_writes_is_recognised_and_read_as_the_schema_reads_it() -> None:
    for index in (written_index(), {"courses": {}}, {"courses": {}, "region": "r"}):
        data = to_compact_json(index)
        assert in_written_form(data), data[:200]
        assert parse_index(data, "index.json") == outcome(data) == index
    # a float share as json writes it, and the largest number of files
    index = {"courses": {"c": {"es": entry("c", "es", V1, translated_percent=2 / 3 * 100, files=999_999_999)}}}
    assert in_written_form(to_compact_json(index))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.update(manifest=manifest_key("other-course", "es", V1)), "manifest: must be"),
        (lambda e: e.update(manifest=manifest_key("c", "fr", V1)), "manifest: must be"),
        (lambda e: e.update(manifest=manifest_key("c", "es", V2)), "manifest: must be"),
        (lambda e: e.update(version="20261204T101010.123Z-0123ABCD", manifest=...), "version: must be a version"),
        (lambda e: e.update(version="٢٠٢٦١٢٠٤T101010.123Z-0123abcd", manifest=...), "version: must be a version"),
        (lambda e: e.update(files=10**9 + 1), "files: must be a whole number"),
        (lambda e: e.update(files=True), "files: must be a whole number"),
        (lambda e: e.update(files=-1), "files: must be a whole number"),
        (lambda e: e.update(translated_percent=100.5), "translated_percent: must be a number"),
        (lambda e: e.update(translated_percent=-0.5), "translated_percent: must be a number"),
        (lambda e: e.update(translated_percent=True), "translated_percent: must be a number"),
        (lambda e: e.update(translated_percent="50"), "translated_percent: must be a number"),
        (lambda e: e.update(updated="x" * 41), "updated: must be a short single-line string"),
        (lambda e: e.update(updated="line\nbreak"), "updated: must be a short single-line string"),
        (lambda e: e.update(extra=1), "'extra': is not a field"),
        (lambda e: e.pop("version"), "version: is missing"),
    ],
)
def test_a_planted_entry_is_refused_with_the_schemas_message(change: Any, message: str) -> None:
    index = written_index()
    planted = entry("c", "es", V1)
    change(planted)
    index["courses"]["c"] = {"es": {k: v for k, v in planted.items() if v is not ...}}
    data = to_compact_json(index)
    assert not in_written_form(data)  # none of these has the written form: checked entry by entry
    refused = outcome(data)
    assert isinstance(refused, str) and message in refused, refused
    with pytest.raises(IntegrityError) as caught:
        parse_index(data, "index.json")
    assert caught.value.message == refused


@pytest.mark.parametrize(
    ("course", "locale"),
    [
        (".hidden", "es"),
        ("a" * 201, "es"),
        ("c", "EN"),  # recognised by its form, refused by the locale check
        ("c", "xx_NOT_A_LOCALE"),
        ("c", "../es"),
    ],
)
def test_a_planted_course_or_locale_name_is_refused(course: str, locale: str) -> None:
    index = written_index()
    index["courses"][course] = {locale: {"version": V1}}
    data = to_compact_json(index)
    refused = outcome(data)
    assert isinstance(refused, str) and "malformed region index" in refused
    with pytest.raises(IntegrityError) as caught:
        parse_index(data, "index.json")
    assert caught.value.message == refused


def test_what_the_recogniser_accepts_the_schema_accepts_under_mutation() -> None:
    """Twenty thousand indexes, each a written one with a few bytes changed, inserted or
    removed: :func:`parse_index` reads the same index as the entry-by-entry checks, or refuses
    it with the same message, whether or not the one-pass recogniser takes it."""
    rng = random.Random(20261204)
    base = to_compact_json(written_index())
    alphabet = b'{}[]",:0123456789.-eE/Tnulltruefalse abcZ_\\\n\x00\xff'
    recognised = 0
    for _ in range(20_000):
        data = bytearray(base)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(data))
            what = rng.random()
            if what < 0.4:
                data[at] = rng.choice(alphabet)
            elif what < 0.7:
                data.insert(at, rng.choice(alphabet))
            else:
                del data[at]
        data_bytes = bytes(data)
        try:
            got: dict[str, Any] | str = parse_index(data_bytes, "index.json")
        except IntegrityError as e:
            got = e.message
        assert got == outcome(data_bytes), data_bytes  # the same index, or the same refusal
        recognised += in_written_form(data_bytes) and isinstance(got, dict)
    assert recognised > 1_000  # the mutations that keep the form (a digit, a letter) were tried


def test_other_writers_forms_are_read_entry_by_entry() -> None:
    index = written_index()
    for data in (
        json.dumps(index).encode(),  # spaces
        json.dumps(index, indent=2).encode(),  # the indented form of earlier releases
        to_compact_json(index).replace(b'"latam"', b'"lat\\u0061m"'),  # an escape
        to_compact_json({**index, "region": "Amérique latine"}),  # non-ASCII
    ):
        assert not in_written_form(data)
        assert parse_index(data, "index.json") == outcome(data)


def test_memory_stays_bounded_on_an_index_of_empty_courses() -> None:
    """The regular expression engine keeps state for each repetition of a group: one match over
    every course of an index took about 12 bytes of memory per byte of an index of empty courses
    (a bucket may hold 64 MB of them: 900 MB). Courses are matched one at a time."""
    import tracemalloc

    data = b'{"courses":{' + (b'"a":{},' * 300_000)[:-1] + b"}}\n"
    tracemalloc.start()
    try:
        assert in_written_form(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # one match over every course took 12 bytes a byte (25 MB here); the bound leaves room for what other
    # threads of the test process allocate meanwhile (a Prefect test server: 0.27 MB seen in a CI run)
    assert peak < len(data), peak
    assert parse_index(data, "index.json") == {"courses": {"a": {}}}
