"""Sub-path hosting (issue 7): the bundled site built for ``http://127.0.0.1:PORT/imac/dual-top10/``, served
only under that prefix, browsed home → year → advance → category (→ search) with every response a 200."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from qa_gates import REPO, serve

PREFIX = "/imac/dual-top10/"


@pytest.fixture(scope="module")
def hosted(tmp_path_factory):
    out = tmp_path_factory.mktemp("subpath") / "output"
    out.mkdir()
    httpd = serve(out, PREFIX)  # the port must be known before the build: it is part of the base URL
    base = f"http://127.0.0.1:{httpd.server_address[1]}{PREFIX}"
    result = subprocess.run([sys.executable, "-m", "sitegen", "build", "--base-url", base, "--output", str(out)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    yield base, out
    httpd.shutdown()


class Responses:
    """Every response and failed request of a page, for the assertion that all of them are 200."""

    def __init__(self, page):
        self.page = page
        self.seen: list[tuple[int, str]] = []
        self.failed: list[tuple[str, str]] = []
        page.on("response", lambda r: self.seen.append((r.status, r.url)))
        page.on("requestfailed", lambda r: self.failed.append((r.url, r.failure or "")))

    def bad(self) -> list[str]:
        out = [f"{status} {url}" for status, url in self.seen if status != 200]
        for url, failure in self.failed:
            # A click cancels the requests still in flight (net::ERR_ABORTED): ask for those again.
            status = self.page.request.get(url).status if "ERR_ABORTED" in failure else None
            if status != 200:
                out.append(f"{url} ({failure}{f', then {status}' if status else ''})")
        return out


def test_browse_the_site_under_a_sub_path_without_a_single_failed_request(page, hosted):
    base, out = hosted
    log = Responses(page)
    page.goto(base)
    expect(page.locator(".dual .dual-list")).to_have_count(2)
    # home → year (the dual view of the latest year)
    page.locator("a.more").first.click()
    expect(page).to_have_url(re.compile(re.escape(base) + r"years/\d{4}/$"))
    # year → advance
    page.locator(".list-world .advance-title a").first.click()
    expect(page).to_have_url(re.compile(re.escape(base) + r"advances/\d{4}/[a-z0-9-]+/$"))
    expect(page.locator(".meta-panel")).to_be_visible()
    # advance → category
    page.locator(".meta-panel .chips a").first.click()
    expect(page).to_have_url(re.compile(re.escape(base) + r"categories/[a-z0-9-]+/$"))
    expect(page.locator("h1")).to_have_count(1)
    # category → search (the header's search box), when the site has search: the index and its fragments
    # load from under the prefix too; a result leads back to an advance
    if (out / "search" / "index.html").is_file():
        box = page.locator("#site-search-q")
        box.fill("智能")
        box.press("Enter")
        expect(page).to_have_url(re.compile(re.escape(base) + r"search/\?q="))
        result = page.locator("main a[href*='/advances/']").first
        expect(result).to_be_visible(timeout=15_000)
        assert any(PREFIX + "pagefind/" in url for _, url in log.seen), "the search index was not loaded"
        result.click()
        expect(page).to_have_url(re.compile(re.escape(base) + r"advances/\d{4}/[a-z0-9-]+/$"))
    # → the English version of the page
    page.locator(".lang-switch").click()
    expect(page).to_have_url(re.compile(re.escape(base) + r"en/(advances|categories)/"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    visited = [url for status, url in log.seen if url.endswith("/")]
    assert len(visited) >= 5
    assert all(url.startswith(base) for _, url in log.seen), [u for _, u in log.seen if not u.startswith(base)]
    assert any(url.endswith(".css") for _, url in log.seen)
    assert log.bad() == [], "\n".join(log.bad())


def test_every_sitemap_entry_asset_feed_and_image_answers_200_under_the_sub_path(page, hosted):
    base, out = hosted
    robots = page.request.get(base + "robots.txt")
    assert robots.status == 200 and f"Sitemap: {base}sitemap.xml" in robots.text()
    sitemap = page.request.get(base + "sitemap.xml")
    assert sitemap.status == 200
    locs = re.findall(r"<loc>([^<]+)</loc>", sitemap.text())
    assert len(locs) > 100 and all(loc.startswith(base) for loc in locs)
    bad = [f"{r.status} {loc}" for loc in locs if (r := page.request.get(loc)).status != 200]
    # Every file the pages point at that is not a page: CSS, JS, images, og:image, feeds, calendars, data.
    files = set()
    for html in out.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        for ref in re.findall(r'(?:href|src|content)="([^"#?]+)', text):
            url = base + ref[len(PREFIX):] if ref.startswith(PREFIX) else ref
            if url.startswith(base) and not url.endswith("/"):
                files.add(url)
        assert not re.search(r'(?:href|src)="/(?!imac/dual-top10/)', text), f"{html}: a root link outside the prefix"
    assert any(u.endswith(".css") for u in files) and any(u.endswith(".png") for u in files)
    assert any(u.endswith("feed.xml") for u in files) and any(u.endswith(".ics") for u in files)
    bad += [f"{r.status} {url}" for url in sorted(files) if (r := page.request.get(url)).status != 200]
    # Feeds carry absolute links: under the base URL too.
    feed = page.request.get(base + "feed.xml").text()
    links = re.findall(r'<link[^>]* href="([^"]+)"', feed)
    assert links and all(link.startswith(base) for link in links), links[:5]
    assert bad == [], "\n".join(bad[:20])


def test_missing_page_shows_the_404_page_with_its_styles(page, hosted):
    base, _ = hosted
    log = Responses(page)
    response = page.goto(base + "no/such/page/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_count(1)
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor") != \
        "rgba(0, 0, 0, 0)", "the stylesheet did not load on the 404 page"
    assert [b for b in log.bad() if not b.startswith(f"404 {base}no/such/page/")] == []
    page.locator("main a").first.click()
    expect(page).to_have_url(base)
