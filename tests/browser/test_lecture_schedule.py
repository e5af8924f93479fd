"""The lecture schedule in a real browser: the client-side re-sort under a mocked clock, and the page with
JavaScript off. The fixture site (tests/sites/minimal + tests/sites/lectures) is built with now pinned to
2021-09-01 12:00 Beijing time; b-soon is on 10 September 2021, 19:30–21:00 Beijing time.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
BEIJING = dt.timezone(dt.timedelta(hours=8))
AT_BUILD = ["b-soon", "d-postponed", "c-cancelled", "f-all-day", "e-tba", "g-postponed-tba"]  # upcoming, in order


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def lecture_url(tmp_path_factory):
    site = tmp_path_factory.mktemp("lecture-browser") / "site"
    shutil.copytree(REPO / "tests/sites/minimal", site)
    shutil.copytree(REPO / "tests/sites/lectures", site, dirs_exist_ok=True)
    shutil.copytree(REPO / "themes", site / "themes")
    result = subprocess.run([sys.executable, "-m", "sitegen", "build"], cwd=site, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(site)})
    assert result.returncode == 0, result.stderr
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site / "output")))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def upcoming_slugs(page) -> list[str]:
    return page.eval_on_selector_all("[data-upcoming] .lecture-title a",
                                     "links => links.map(a => a.getAttribute('href').split('/').filter(Boolean).pop())")


def past_groups(page) -> list[tuple[str, list[str]]]:
    return page.eval_on_selector_all(
        "[data-past] [data-month-group]",
        "groups => groups.map(g => [g.querySelector('h3').textContent,"
        " Array.from(g.querySelectorAll('.lecture-title a'))"
        ".map(a => a.getAttribute('href').split('/').filter(Boolean).pop())])")


def test_build_time_order_is_kept_when_the_clock_agrees(page, lecture_url):
    page.clock.set_fixed_time(dt.datetime(2021, 9, 1, 12, 0, tzinfo=BEIJING))
    page.goto(lecture_url + "/lectures/")
    expect(page.locator("[data-schedule][data-resorted]")).to_have_count(1)
    assert upcoming_slugs(page) == AT_BUILD
    assert [tuple(g) for g in past_groups(page)] == [("2021年8月", ["a-past"])]


def test_a_lecture_moves_from_upcoming_to_past_when_it_has_ended(page, lecture_url):
    # 21:00 Beijing time on 10 September: b-soon has just ended; d-postponed (17 September) has not.
    page.clock.set_fixed_time(dt.datetime(2021, 9, 10, 21, 0, 1, tzinfo=BEIJING))
    page.goto(lecture_url + "/lectures/")
    expect(page.locator("[data-schedule][data-resorted]")).to_have_count(1)
    assert upcoming_slugs(page) == ["d-postponed", "c-cancelled", "f-all-day", "e-tba", "g-postponed-tba"]
    # It lands in a new month group, newest month first, with the same heading the build would write.
    assert [tuple(g) for g in past_groups(page)] == [("2021年9月", ["b-soon"]), ("2021年8月", ["a-past"])]
    moved = page.locator("[data-past] li", has=page.locator('a[href="/lectures/b-soon/"]'))
    expect(moved.locator(".lecture-join")).to_be_hidden()  # no join link for a lecture that is over
    expect(page.locator("[data-upcoming] [data-empty]")).to_be_hidden()


def test_when_every_dated_lecture_is_over(page, lecture_url):
    page.clock.set_fixed_time(dt.datetime(2022, 1, 1, tzinfo=BEIJING))
    page.goto(lecture_url + "/en/lectures/")
    expect(page.locator("[data-schedule][data-resorted]")).to_have_count(1)
    assert upcoming_slugs(page) == ["e-tba", "g-postponed-tba"]  # no day: stays upcoming
    assert [g[0] for g in past_groups(page)] == ["October 2021", "September 2021", "August 2021"]
    assert [tuple(g) for g in past_groups(page)][1] == ("September 2021", ["c-cancelled", "d-postponed", "b-soon"])


def test_a_lecture_can_move_back_to_upcoming(page, lecture_url):
    page.clock.set_fixed_time(dt.datetime(2021, 8, 20, 19, 0, tzinfo=BEIJING))  # before a-past started
    page.goto(lecture_url + "/lectures/")
    expect(page.locator("[data-schedule][data-resorted]")).to_have_count(1)
    assert upcoming_slugs(page)[:2] == ["a-past", "b-soon"]
    assert past_groups(page) == []
    expect(page.locator("[data-past] [data-empty]")).to_be_visible()


def test_home_teaser_skips_lectures_that_have_ended(page, lecture_url):
    page.clock.set_fixed_time(dt.datetime(2021, 9, 11, 8, 0, tzinfo=BEIJING))
    page.goto(lecture_url + "/")
    teaser = page.locator("[data-lecture-teaser][data-resorted]")
    expect(teaser).to_have_count(1)
    visible = teaser.locator("li:visible .lecture-title a")
    expect(visible).to_have_count(2)
    assert [visible.nth(i).get_attribute("href") for i in range(2)] == ["/lectures/d-postponed/",
                                                                       "/lectures/f-all-day/"]


def test_the_page_works_without_javascript(browser, lecture_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(lecture_url + "/lectures/")
        expect(page.locator("[data-schedule][data-resorted]")).to_have_count(0)
        assert upcoming_slugs(page) == AT_BUILD
        assert [tuple(g) for g in past_groups(page)] == [("2021年8月", ["a-past"])]
        expect(page.locator('a[href="/lectures/lectures.ics"]')).to_be_visible()
        page.goto(lecture_url + "/")
        expect(page.locator("[data-lecture-teaser] li:visible")).to_have_count(2)
    finally:
        context.close()


def test_bundled_schedule_on_a_phone(page, site_url):
    page.set_viewport_size({"width": 375, "height": 800})
    for path in ("/lectures/", "/en/lectures/", "/news/", "/lectures/2021-11-19-ship-welding-robots/"):
        page.goto(site_url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide"
