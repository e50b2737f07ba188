"""Every HTML page and fragment the library writes comes from a Jinja2 template
(``localize/templates/``) rendered with autoescaping on, so text from a page, a
catalog, a partner or a bucket can never become markup by mistake.

Templates here are the package's own (``localize/templates/``); none comes from a bucket or a
partner. The operators' attribution notice templates are rendered in Jinja2's sandbox
(:mod:`localize.regions.attribution`) and wrapped by ``attribution.html`` here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = ["render"]


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # imported on first use: a command that renders no page does not pay for Jinja2
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("localize", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> str:
    """Render ``templates/TEMPLATE`` with ``context`` (every value escaped unless marked safe)."""
    return _environment().get_template(template).render(**context)
