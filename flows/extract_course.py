"""Flow ``extract-course``: a course's pages -> its gettext template.

Thin by design: each task is one call into the library (``localize.pipeline``),
retries sit only on I/O, and only plain data passes between tasks.

Run it locally (Prefect starts a temporary server in-process):

    python -m flows.extract_course --source src/localize/samples/intro-course --course intro-course
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from prefect import flow, get_run_logger, task

from localize import pipeline


@task(name="extract-template")
def extract_template(source: str, course: str, source_locale: str) -> dict[str, Any]:
    return pipeline.extract_template(source, course, source_locale)


@task(name="save-template", retries=3, retry_delay_seconds=2)
def save_template(locales_dir: str, course: str, template: str) -> dict[str, Any]:
    return pipeline.save_template(locales_dir, course, template)


@flow(name="extract-course")
def extract_course(source: str, course: str, locales_dir: str = "locales", source_locale: str = "en") -> dict[str, Any]:
    """Extract every piece of human-readable text of one course into
    ``LOCALES_DIR/templates/COURSE.pot``.

    Pages that cannot be read are listed in ``failures``; the others are still
    extracted, so one bad page never blocks a course.
    """
    logger = get_run_logger()
    extracted = extract_template(source, course, source_locale)
    saved = save_template(locales_dir, course, extracted["template"])
    for failure in extracted["failures"]:
        logger.warning("page skipped: %s", failure)
    summary = {k: v for k, v in extracted.items() if k != "template"} | saved
    logger.info("%s: %d pages, %d entries -> %s", course, summary["pages"], summary["entries"], summary["path"])
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=extract_course.__doc__)
    parser.add_argument("--source", required=True)
    parser.add_argument("--course", required=True)
    parser.add_argument("--locales-dir", default="locales")
    parser.add_argument("--source-locale", default="en")
    args = parser.parse_args()
    summary = extract_course(args.source, args.course, args.locales_dir, args.source_locale)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
