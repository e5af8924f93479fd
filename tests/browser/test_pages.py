"""Pages render in a real browser: the dual view, phones, accessibility."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

FULL_YEAR = "2021"


def test_home_shows_latest_dual_view(page, site_url):
    page.goto(site_url + "/")
    expect(page.locator("h1")).to_have_count(1)
    lists = page.locator(".dual .dual-list")
    expect(lists).to_have_count(2)
    for index in range(2):
        assert lists.nth(index).locator(".advance-item").count() >= 1


def test_year_dual_view_shows_ten_and_ten(page, site_url):
    page.goto(f"{site_url}/years/{FULL_YEAR}/")
    expect(page.locator(".list-world .advance-item")).to_have_count(10)
    expect(page.locator(".list-china .advance-item")).to_have_count(10)
    expect(page.locator(".list-world .rank").first).to_have_text("1")


def test_dual_view_side_by_side_on_desktop_and_stacked_on_phone(page, site_url):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{site_url}/years/{FULL_YEAR}/")
    world = page.locator(".list-world").bounding_box()
    china = page.locator(".list-china").bounding_box()
    assert abs(world["y"] - china["y"]) < 2 and china["x"] > world["x"] + world["width"] - 1
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{site_url}/years/{FULL_YEAR}/")
    world = page.locator(".list-world").bounding_box()
    china = page.locator(".list-china").bounding_box()
    assert china["y"] >= world["y"] + world["height"] - 1 and abs(world["x"] - china["x"]) < 2


@pytest.mark.parametrize("path", ["/", f"/years/{FULL_YEAR}/", f"/years/{FULL_YEAR}/world/", "/years/",
                                  "/categories/", "/about/", "/en/", f"/en/years/{FULL_YEAR}/", "/404.html"])
def test_no_horizontal_scroll_at_375px(page, site_url, path):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(site_url + path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{path} is {width}px wide"


def test_advance_page_links_through_to_next_and_back_to_list(page, site_url):
    page.goto(f"{site_url}/years/{FULL_YEAR}/world/")
    page.locator(".advance-title a").first.click()
    expect(page.locator("nav.toc")).to_be_visible()
    expect(page.locator(".meta-panel")).to_be_visible()
    first_title = page.locator("h1").inner_text()
    page.locator("a[rel=next]").click()
    assert page.locator("h1").inner_text() != first_title
    page.locator("a[rel=prev]").click()
    assert page.locator("h1").inner_text() == first_title
    page.locator(".breadcrumb a").last.click()
    expect(page.locator(".advance-item")).to_have_count(10)


def test_language_switcher_leads_to_same_page(page, site_url):
    page.goto(f"{site_url}/years/{FULL_YEAR}/")
    page.locator(".lang-switch").click()
    assert page.url.endswith(f"/en/years/{FULL_YEAR}/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.locator(".lang-switch").click()
    assert page.url.endswith(f"/years/{FULL_YEAR}/") and "/en/" not in page.url
