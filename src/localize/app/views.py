"""What the translators' and coordinators' views do, once: the preview built into a folder."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from localize.app.output import check_output, staged_output
from localize.storage.sources import Source
from localize.views.preview import PreviewBuild, build_preview, read_po_bytes

__all__ = ["preview_to_folder"]


def preview_to_folder(
    po: str | os.PathLike[str], source: Source, out: str | os.PathLike[str], *, force: bool = False
) -> PreviewBuild:
    """Build the preview of ``po`` on ``source`` into ``out``: staged beside it and
    renamed into place; refuses an ``out`` that is, holds or lies inside the source."""
    read_po_bytes(Path(po))
    target = check_output(source, out, force=force)
    with staged_output(target) as staging:
        result = build_preview(po, source, staging)
    return replace(result, out=target)
