"""Discovery in a real browser (issue 3): category → advance → another term page, and the /stats/ charts."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def test_category_to_advance_to_another_term_page(page, site_url):
    page.goto(site_url + "/categories/")
    tree_link = page.locator('.term-tree a[href$="/categories/equipment/"]')
    category = tree_link.inner_text()
    tree_link.click()
    expect(page.locator("h1")).to_have_text(category)
    first = page.locator(".advance-item:has(.industry-chips) .advance-title a").first  # one with an industry
    title = first.inner_text()
    first.click()
    expect(page.locator("h1")).to_contain_text(title)
    # The metadata panel's chips lead on: category back to its page, industries to theirs.
    panel_category = page.locator('.meta-panel a.chip[href*="/categories/"]').first
    expect(panel_category).to_be_visible()
    industry = page.locator('.meta-panel a.chip[href*="/industries/"]').first
    name = industry.inner_text()
    industry.click()
    assert "/industries/" in page.url
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator(".advance-title a", has_text=title)).to_have_count(1)  # the advance is listed there
    # …and from there to an organisation's page, which lists it too.
    item = page.locator(".advance-item", has=page.locator(".advance-title a", has_text=title))
    org = item.locator(".orgs a").first
    org_name = org.inner_text()
    org.click()
    assert "/organizations/" in page.url
    expect(page.locator("h1")).to_have_text(org_name)
    expect(page.locator(".advance-title a", has_text=title)).to_have_count(1)


def test_related_advances_lead_to_other_advances(page, site_url):
    page.goto(site_url + "/categories/ai/")
    page.locator(".advance-title a").first.click()
    related = page.locator(".related .advance-title a")
    expect(related.first).to_be_visible()
    assert related.count() <= 6
    own = page.locator("h1").inner_text()
    target = related.first.inner_text()
    related.first.click()
    expect(page.locator("h1")).to_contain_text(target)
    assert page.locator("h1").inner_text() != own


@pytest.mark.parametrize("width", [1280, 375])
def test_stats_charts_render_and_fit(page, site_url, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site_url + "/stats/")
    charts = page.locator("svg.chart[role=img]")
    expect(charts).to_have_count(4)
    for index in range(4):
        box = charts.nth(index).bounding_box()
        assert box and 280 <= box["width"] <= min(width, 640) and box["height"] > 100
        # the SVG text scales with the chart: still at least ~10 px on a phone
        size = charts.nth(index).locator("text").first.evaluate("t => t.getBoundingClientRect().height")
        assert size >= 9.5, size
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"/stats/ scrolls {overflow}px sideways at {width}px"
    expect(page.locator("table#table-industries tbody tr").first).to_be_visible()
    href = page.locator('a[href$="/data/advances.json"]').first.get_attribute("href")
    response = page.request.get(site_url + href)
    assert response.ok and response.json()["count"] > 0


@pytest.mark.parametrize("path", ["/stats/", "/en/stats/", "/categories/equipment/"])
def test_discovery_pages_have_no_accessibility_violations(page, site_url, path):
    page.goto(site_url + path)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    assert results.violations_count == 0, results.generate_report()
