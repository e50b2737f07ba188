"""Parameter types shared by the flows; Prefect validates them with pydantic."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from localize.errors import ConfigError
from localize.locales import check_locale


def _canonical(code: str) -> str:
    try:
        return check_locale(code)  # iw is he, sr-Latn is sr@latin: one locale, one run
    except ConfigError as e:
        raise ValueError(e.message) from None


CourseId = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="course id, e.g. 8.05-quantum-physics")
]
Locale = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*(@[A-Za-z]{2,16})?$",
        description="locale code, e.g. es, pt_BR, sr@latin",
    ),
    AfterValidator(_canonical),
]
# each locale once (["iw", "he"] sent one kit twice and ran two publishes of one locale at once)
Locales = Annotated[list[Locale], AfterValidator(lambda codes: list(dict.fromkeys(codes)))]
ConfigPath = Annotated[str, Field(min_length=1, description="path of localize.toml")]
