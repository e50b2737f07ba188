"""Every HTML page and fragment the library writes comes from a Jinja2 template
(``localize/templates/``) rendered with autoescaping on, so text from a page, a
catalog, a partner or a bucket can never become markup by mistake.

Page templates use :func:`render`. Notices that a region's operators may write
themselves are rendered in Jinja2's sandbox (:func:`render_untrusted`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["render", "render_untrusted"]


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("localize", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=1)
def _sandbox() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)


def render(template: str, **context: Any) -> str:
    """Render ``templates/TEMPLATE`` with ``context`` (every value escaped unless marked safe)."""
    return _environment().get_template(template).render(**context)


def render_untrusted(source: str, **context: Any) -> str:
    """Render a template written by an operator, in the sandbox, autoescaped."""
    return _sandbox().from_string(source).render(**context)
