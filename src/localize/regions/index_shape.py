"""The region index in the form localize writes it, recognised in one pass over its bytes.

Every publish reads its region's index (an entry per course and locale: 30,000 at 2,500 courses
and 12 locales), checks every entry against the schema (a bucket is not trusted), changes its
own entry and writes the index back. Checking 30,000 parsed entries in Python took about three
times as long as parsing them. :func:`in_written_form` instead matches the bytes against one
regular expression that accepts only the compact, key-sorted JSON that
:func:`~localize.regions.schema.to_compact_json` writes, with every field of every entry as the
schema allows it: course ids, version ids, a manifest key naming its own course, locale and
version, a share from 0 to 100 or null, a whole number of files, short single-line ASCII strings
without escapes. Its answer is one-sided: what it accepts, the schema accepts (but for the
locale names, which the caller checks once per distinct locale); what it does not accept (an
older localize's entries, another writer's spacing, escapes, non-ASCII text, an exponent) is
checked entry by entry as before. Each entry is matched atomically (``(?>...)``: an entry's end
is never in doubt), which keeps the match linear and about ten times faster than the checks
it spares; courses are matched one at a time (see :func:`in_written_form`).
"""

from __future__ import annotations

import re

__all__ = ["in_written_form"]

_TEXT = rb"[ !#-\[\]-~]"  # printable ASCII but for '"' and '\': a string without escapes
_VERSION = rb"[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-[0-9a-f]{8}"
_PERCENT = rb'"translated_percent":(?:null|100(?:\.0+)?|[0-9]{1,2}(?:\.[0-9]+)?),'
_UPDATED = rb'"updated":"' + _TEXT + rb'{0,40}",'
_TAIL = rb"(?:" + _PERCENT + rb")?(?:" + _UPDATED + rb")?"
# an entry's fields in sorted order, only "version" required; a manifest names the entry's own
# course (?P=c), locale (?P=l) and version (?P=v, captured in the same entry)
_LOCALE_ENTRY = (
    rb'"(?P<l>' + _TEXT + rb'{1,100})":\{(?:"files":(?:0|[1-9][0-9]{0,8}),)?(?:'
    rb'"manifest":"courses/(?P=c)/(?P=l)/versions/(?P<v>' + _VERSION + rb')\.json",' + _TAIL + rb'"version":"(?P=v)"'
    rb"|" + _TAIL + rb'"version":"' + _VERSION + rb'")\}'
)
# a separator before every item but the first: (?<=\{) holds only right after the opening brace
_COURSE_ENTRY = re.compile(
    rb'(?:(?<=\{)|,)"(?P<c>[A-Za-z0-9][A-Za-z0-9._-]{0,199})":\{(?>(?:(?<=\{)|,)' + _LOCALE_ENTRY + rb")*\}"
)
_HEAD = re.compile(rb'\{"courses":\{')
_END = re.compile(rb'\}(?:,"region":"' + _TEXT + rb'{0,200}")?(?:,"updated":"' + _TEXT + rb'{0,200}")?\}\n?')


def in_written_form(data: bytes) -> bool:
    """Whether ``data``, which :func:`json.loads` reads, is a region index in the compact form
    localize writes, every entry valid (locale names aside: check each distinct one). (Alone it
    takes a few byte strings that are not JSON, such as a share of ``05``: parse first.)

    One match per course: the engine keeps some state for each repetition of a group, so one
    match over all the courses took about 14 bytes of memory per byte of an index of empty
    courses (64 MB of them: 900 MB); per course, it is bounded by the course's own entries."""
    head = _HEAD.match(data)
    if head is None:
        return False
    pos, match = head.end(), _COURSE_ENTRY.match
    while (course := match(data, pos)) is not None:
        pos = course.end()
    return _END.fullmatch(data, pos) is not None
