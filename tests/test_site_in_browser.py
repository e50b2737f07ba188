"""A pulled Arabic bundle served by a plain static server works in a real browser."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin

import pytest
from browser import browser_page, require_browser, static_server
from test_publish import COURSE, setup_workspace

from localize.config import load_config
from localize.regions.publish import publish
from localize.regions.pull import pull


def test_rtl_site_renders_with_working_links_and_images(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    require_browser()
    config = setup_workspace(tmp_path, '[[regions]]\nname = "mena"\nlocation = "region"\nlocales = ["ar"]\n')
    publish(load_config(config), COURSE, "ar")
    site = tmp_path / "site"
    pull(str(tmp_path / "region"), COURSE, "ar", site)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with static_server(site) as base, browser_page() as page:
        start = f"{base}/{COURSE}/ar/index.html"
        response = page.goto(start)
        assert response is not None and response.ok
        page.wait_for_load_state("load")
        page.screenshot(path=str(shots / "index-ar.png"), full_page=True)
        root = page.evaluate(
            "() => ({lang: document.documentElement.lang, dir: document.documentElement.dir, direction: getComputedStyle(document.body).direction})"
        )
        assert root == {"lang": "ar", "dir": "rtl", "direction": "rtl"}
        assert "عربي" in page.inner_text("h1")
        images = page.evaluate(
            "() => Array.from(document.images).map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])"
        )
        assert images and all(ok for _, ok in images), images
        links = page.evaluate(
            "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')).filter(h => !/^(https?:|mailto:|#)/.test(h))"
        )
        assert len(links) >= 5
        for href in sorted(set(links)):
            target = urljoin(start, href)
            resp = page.request.get(target)
            assert resp.ok, f"{href} -> {target}: HTTP {resp.status}"
        # follow one internal link in the browser itself
        page.click("nav a[href*='syllabus']")
        page.wait_for_load_state("load")
        assert page.url.endswith("/syllabus/index.html") and page.evaluate("document.documentElement.dir") == "rtl"
        page.screenshot(path=str(shots / "syllabus-ar.png"), full_page=True)
    assert (shots / "index-ar.png").stat().st_size > 10_000


def test_arabic_attribution_notice_renders_right_to_left(tmp_path: Path) -> None:
    """The notice of an Arabic page is Arabic, right to left (its text starts at the right edge),
    with its links working; the English fallback notice inside an Arabic page stays left to right."""
    require_browser()
    notices = tmp_path / "notices"
    notices.mkdir()
    (notices / "notice.ar.html").write_text(
        "هذه الصفحة ترجمة لمقرر <bdi>{{ course_title }}</bdi> (<bdi>{{ licence }}</bdi>)، ترجمها {{ partners | join('، ') or 'شركاؤنا' }}."
        ' <a href="{{ source_url }}" hreflang="en">الصفحة الأصلية</a>',
        encoding="utf-8",
    )
    config = setup_workspace(
        tmp_path,
        '[[regions]]\nname = "mena"\nlocation = "region"\nlocales = ["ar"]\nnotice_templates = "notices"\n\n'
        '[[regions]]\nname = "plain"\nlocation = "plain"\nlocales = ["ar"]\n',
    )
    publish(load_config(config), COURSE, "ar")
    site = tmp_path / "site"
    pull(str(tmp_path / "region"), COURSE, "ar", site / "mena")
    pull(str(tmp_path / "plain"), COURSE, "ar", site / "plain")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    probe = """() => {
        const n = document.querySelector('.localize-attribution');
        const r = document.createRange();
        r.selectNodeContents(n);
        const rects = Array.from(r.getClientRects()), box = n.getBoundingClientRect(), style = getComputedStyle(n);
        return {lang: n.lang, direction: style.direction, text: n.innerText,
                fromRight: box.right - parseFloat(style.paddingRight) - Math.max(...rects.map(x => x.right)),
                fromLeft: Math.min(...rects.map(x => x.left)) - box.left - parseFloat(style.paddingLeft),
                link: n.querySelector('a') && n.querySelector('a').href};
    }"""
    with static_server(site) as base, browser_page() as page:
        response = page.goto(f"{base}/mena/{COURSE}/ar/pages/syllabus/index.html")
        assert response is not None and response.ok
        page.wait_for_load_state("load")
        page.locator(".localize-attribution").screenshot(path=str(shots / "notice-ar.png"))
        page.screenshot(path=str(shots / "syllabus-ar.png"))
        arabic = page.evaluate(probe)
        assert arabic["lang"] == "ar" and arabic["direction"] == "rtl"
        assert arabic["text"].startswith("هذه الصفحة ترجمة") and "CC BY-NC-SA 4.0" in arabic["text"]
        assert abs(arabic["fromRight"]) < 2 and arabic["fromLeft"] > 20  # starts at the right edge
        assert arabic["link"] == f"https://ocw.mit.edu/courses/{COURSE}/pages/syllabus/"
        page.goto(f"{base}/plain/{COURSE}/ar/index.html")
        page.wait_for_load_state("load")
        english = page.evaluate(probe)
        assert english["lang"] == "en" and english["direction"] == "ltr" and abs(english["fromLeft"]) < 2
        assert english["text"].startswith("This page is a translation of")
    assert (shots / "notice-ar.png").stat().st_size > 2_000
