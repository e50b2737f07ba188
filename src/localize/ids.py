"""Course ids: what names a course in keys, folders and catalogs (checked everywhere the
same way, so no layer accepts an id another refuses)."""

from __future__ import annotations

import re

from localize.errors import ConfigError

__all__ = ["check_course_id"]

_COURSE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def check_course_id(course: str) -> str:
    """``course`` when it is a valid id (letters, digits, '.', '_', '-'; at most 200), else ConfigError."""
    if not isinstance(course, str) or not _COURSE.fullmatch(course):
        shown = course[:60] if isinstance(course, str) else course
        raise ConfigError(
            f"invalid course id {shown!r}: use letters, digits, '.', '_' and '-' (for example '8.05-quantum-physics')"
        )
    return course
