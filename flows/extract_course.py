"""Flow ``extract-course``: pull a course, extract it and update its catalogs.

The source is a folder, an OCW .zip, an s3:// prefix or an http(s):// site
(crawled within its own prefix, four requests at a time).

    python -m flows.extract_course --source src/localize/samples/intro-course --course intro-course
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from prefect import flow, get_run_logger

from flows import tasks, without_telemetry
from flows.artifacts import stats_table
from flows.fanout import outcome
from flows.params import CourseId


@flow(name="extract-course", task_runner=tasks.threads())
def extract_course(
    source: str, course: CourseId, locales_dir: str = "locales", source_locale: str = "en"
) -> dict[str, Any]:
    """Extract every piece of human-readable text of one course into
    ``LOCALES_DIR/templates/COURSE.pot`` and merge it into the course's catalogs
    (changed text becomes fuzzy, vanished text obsolete, memory fills the rest).

    Pages that cannot be read are listed in ``failures``; the others are still
    extracted, so one bad page never blocks a course.
    """
    logger = get_run_logger()
    result = tasks.extract_template(source, course, locales_dir, source_locale)
    items = {locale: tasks.update_locale.submit(course, locale, locales_dir) for locale in result["locales"]}
    result["catalogs"] = []
    for locale, item in items.items():  # one task per locale: a retry redoes that catalog only
        _, row, error = outcome(item)
        result["catalogs"].append(row or {"course": course, "locale": locale, "written": False, "error": error})
        if error is not None:
            result["failures"].append(f"{locale}: {error}")
    for failure in result["failures"]:
        logger.warning("%s: %s", course, failure)
    stats_table(tasks.stats_rows(locales_dir, course), course)
    logger.info("%s: %d pages, %d entries -> %s", course, result["pages"], result["entries"], result["template"])
    return result | {"path": result["template"], "written": result["template_written"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=extract_course.__doc__)
    parser.add_argument("--source", required=True)
    parser.add_argument("--course", required=True)
    parser.add_argument("--locales-dir", default="locales")
    parser.add_argument("--source-locale", default="en")
    args = parser.parse_args()
    without_telemetry()  # as `localize run` and the Makefile have it
    print(json.dumps(extract_course(args.source, args.course, args.locales_dir, args.source_locale), indent=2))


if __name__ == "__main__":
    main()
