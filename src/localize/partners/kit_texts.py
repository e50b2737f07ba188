"""The plain-language texts of a translation kit: its README, with the work the kit holds."""

from __future__ import annotations

from typing import Any

__all__ = ["GUIDES", "KIT_README", "PREVIEW_README", "kit_files", "readme_plan"]

KIT_README = """\
Translation kit for {course} ({language})
{underline}

Hello! This folder holds the text of the course "{course}" for you to
{task}.

{files}
Please return your translated file by {due} by saving it into the
"returns" folder of your inbox ({inbox}).

What you will see in the file
-----------------------------
{guide}
Check your file before you send it
----------------------------------
Two optional helpers show problems before your coordinator does. They
come with the `localize` tool, which is not on the public package index:
ask your coordinator for it (a folder or a .zip/.whl file). With Python
3.11 or newer installed, one command installs it:

    python -m pip install PATH-OF-WHAT-YOUR-COORDINATOR-SENT

Then, in the folder of this README:

    localize check {po_name} --locale {locale}

prints any problem as FILE:LINE: severity: check: message. To see your
translation on the course pages themselves:

    localize preview {po_name} --course {course} COURSE_PAGES

COURSE_PAGES is the course website: its web address (https://...), or
the folder or .zip of the course's pages (the offline version of the
course site; ask your coordinator if you do not have it). The preview
opens on your own computer only (http://127.0.0.1:...) and rebuilds
each time you save the file; Ctrl-C stops it.

Questions: {contact}
"""

# what the file looks like, by the kit's format (KIT_README's {guide})
GUIDES = {
    "po": """\
* msgid is the English text; write your translation in msgstr.
* Short tags such as <a1>...</a1>, <em2>...</em2> or <br3/> stand for
  formatting and links in the page. Keep every one of them in your
  translation, each exactly once; you may move them to fit your sentence.
  The comment above each text (#.) says what each tag is.
* Do not change the msgid lines, and do not add HTML of your own: it will
  be rejected.
* "fuzzy" marks a suggestion (from an earlier version or a similar
  sentence). Check it, correct it, then remove the fuzzy mark.
* msgctxt "attribute" marks text that is not shown as page text: picture
  descriptions for blind readers, tooltips, search engine descriptions.
""",
    "xliff": """\
* Each unit's source is the English text; your translation is its target.
* Formatting and links in the page are inline codes (tags) of your tool.
  Keep every one of them in your translation, each exactly once; you may
  move them to fit your sentence. The unit's note says what each one is.
* Do not change the source texts, and do not add HTML of your own: it will
  be rejected.
* A target in the state "needs review" is a suggestion (from an earlier
  version or a similar sentence). Check it, correct it, then confirm it.
* A unit whose context is "attribute" is text that is not shown as page
  text: picture descriptions for blind readers, tooltips, search engine
  descriptions.
""",
}

PREVIEW_README = """
See your translation in the course pages (no installation needed)
-----------------------------------------------------------------
Open preview.html (in this folder) in a web browser, then choose your
{file} with the button at the top, or drop the file on the page. The
course pages (from the pages folder) appear with your translations in
place; texts still to translate are marked yellow, fuzzy ones orange,
and texts with a problem (a missing or changed tag, HTML of your own)
red, with the list of problems beside the page. Save your file and
choose it again to see your latest changes. Nothing leaves your computer.
"""


_BAND_NAMES = {
    "new": "new text",
    "fuzzy": "75-99% matches (check and correct)",
    "memory": "100% matches from memory (review)",
    "repetition": "repetitions within this kit",
}


def kit_files(
    file: str, *, xliff: bool, glossary: bool, preview: bool, review: bool, source_targets: bool = False
) -> str:
    """The README's list of what the kit holds (KIT_README's {files}). ``source_targets``: an
    XLIFF kit whose untranslated targets hold the source (what OmegaT needs)."""
    if not xliff:
        tool = "Poedit, Weblate, or a text editor"
    elif source_targets:
        tool = "your translation tool: OmegaT, memoQ, Trados..."
    else:  # OmegaT 3.x skips units with empty targets: this kit would show it nothing to translate
        tool = (
            "your translation tool: memoQ, Trados...; for OmegaT, ask your coordinator for a kit with the "
            "source in its targets"
        )
    rows = [(file, f"the file to translate (open it in {tool})")]
    if glossary:
        rows.append(("glossary.tbx", "the agreed terms (see Terms below)"))
    if preview:
        rows += [("preview.html", "your translation on the course pages (see below)"), ("pages/", "those pages")]
    if review:
        rows.append(("changes.html", "what changed since the translations you review were accepted"))
    rows.append(("kit.json", "details of this kit (you do not need to edit it)"))
    width = max(len(name) for name, _ in rows)
    return "".join(f"  {name:<{width}}   {what}\n" for name, what in rows)


def readme_plan(manifest: dict[str, Any], review: int | None = None) -> str:
    """The README's section on the work in the kit (``review``: the translations a review kit
    holds, instead of words by match band) and its glossary."""
    lines = ["", "The work in this kit", "--------------------"]
    if review is not None:
        lines.append(f"  {review} translation{'' if review == 1 else 's'} to review")
    for band, count in manifest["bands"].items() if review is None else ():
        texts = "text " if count["entries"] == 1 else "texts"
        lines.append(f"  {count['words']:>7} words  {count['entries']:>5} {texts}  {_BAND_NAMES[band]}")
    if "estimate" in manifest and review is None:
        est = manifest["estimate"]
        lines.append(f"  estimate at the agreed rates: {est['total']:.2f} {est['currency']}".rstrip())
    if "glossary" in manifest:
        g = manifest["glossary"]
        lines += [
            "",
            "Terms",
            "-----",
            f"glossary.tbx holds {g['terms']} agreed terms (TBX: most translation tools import it).",
            f"{g['entries_with_terms']} texts use some of them; the comment above each says which",
            "and how to translate them:",
            "",
            "    #. Terms: eigenvalue = valor propio (not: autovalor); MATLAB (do not translate)",
            "",
            "Please use the agreed translation (in any form your sentence needs); the check",
            "warns when a term's agreed translation is missing or a forbidden one is used.",
        ]
    return "\n".join(lines) + "\n"
