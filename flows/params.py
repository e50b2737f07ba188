"""Parameter types shared by the flows; Prefect validates them with pydantic."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

CourseId = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="course id, e.g. 8.05-quantum-physics")
]
Locale = Annotated[
    str, Field(pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$", description="locale code, e.g. es, pt_BR, ar")
]
ConfigPath = Annotated[str, Field(min_length=1, description="path of localize.toml")]
