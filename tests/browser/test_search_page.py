"""Search in a real browser: Chinese and English queries, filters, results that open, sub-path hosting,
and the site without Pagefind.

Expected results are computed from the built HTML, independently of Pagefind: the indexed text of a page
is the text inside its ``data-pagefind-body`` elements (minus ``data-pagefind-ignore``), and its filters
are its ``data-pagefind-filter`` values.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest
import yaml
from playwright.sync_api import expect


REPO = Path(__file__).resolve().parents[2]
STRINGS = {lang: yaml.safe_load((REPO / f"themes/default/i18n/{lang}.yaml").read_text(encoding="utf-8"))
           for lang in ("zh", "en")}


class Indexed(html.parser.HTMLParser):
    """The indexed text and the filters of one built page."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    # Elements Pagefind never indexes, even inside data-pagefind-body (REMOVE_SELECTORS in its parser).
    REMOVED = {"head", "style", "script", "noscript", "label", "form", "svg", "footer", "nav", "iframe", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[bool, bool]] = []
        self.parts: list[str] = []
        self.filters: dict[str, set[str]] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-pagefind-filter" in attrs:
            name, _, value = attrs["data-pagefind-filter"].partition(":")
            self.filters.setdefault(name, set()).add(value)
        if tag in self.VOID:
            return
        body, ignore = self.stack[-1] if self.stack else (False, False)
        self.stack.append((body or "data-pagefind-body" in attrs,
                           ignore or "data-pagefind-ignore" in attrs or tag in self.REMOVED))

    def handle_endtag(self, tag):
        if tag not in self.VOID:
            self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] and not self.stack[-1][1]:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(self.parts)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_folder(folder: Path):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def indexed_pages(site: Path, prefix: str = "") -> dict[str, Indexed]:
    """Root-relative URL → indexed content, for every page of one language that has indexed parts."""
    out = {}
    for path in sorted(site.rglob("index.html")):
        rel = path.relative_to(site).as_posix()
        if rel.startswith("en/") != (prefix == "en/"):
            continue
        page = Indexed()
        page.feed(path.read_text(encoding="utf-8"))
        if page.parts:
            out["/" + rel[: -len("index.html")]] = page
    return out


def results(page) -> list[str]:
    """Every result's path, after loading all pages of results."""
    expect(page.locator("#search")).to_have_attribute("data-state", "done")
    more = page.locator("#search-more")
    while more.is_visible():
        more.click()
        expect(page.locator("#search")).to_have_attribute("data-state", "done")
    return [urlsplit(href).path for href in page.locator(".search-result-title a").evaluate_all(
        "links => links.map(a => a.href)")]


@pytest.fixture(scope="module")
def zh_pages(built_site):
    return indexed_pages(built_site)


@pytest.fixture(scope="module")
def en_pages(built_site):
    return indexed_pages(built_site, "en/")


def advances_containing(pages: dict[str, Indexed], pattern: str, flags=0) -> set[str]:
    return {url for url, page in pages.items() if url.startswith(("/advances/", "/en/advances/"))
            and re.search(pattern, page.text, flags)}


def test_chinese_query_in_the_header_box_lists_exactly_the_advances_containing_it(page, site_url, zh_pages):
    expected = {url for url, p in zh_pages.items() if "机器人" in p.text}
    assert advances_containing(zh_pages, "机器人") and expected - advances_containing(zh_pages, "机器人")  # + lectures
    assert len(expected) < len(zh_pages)  # the word does not occur everywhere: the test can tell
    page.goto(site_url + "/years/2021/")
    page.fill("#site-search-q", "机器人")
    page.press("#site-search-q", "Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=" + re.escape(quote("机器人"))))
    found = results(page)
    assert len(found) == len(set(found))
    assert set(found) == expected
    expect(page.locator("#search-status")).to_have_text(STRINGS["zh"]["search_count"].format(n=len(expected)))
    first = page.locator(".search-excerpt").first
    assert "机器人" in "".join(first.locator("mark").all_inner_texts())
    assert page.locator(".search-result-title a").first.inner_text().strip()


def test_a_two_word_query_needs_both_and_never_matches_the_parts_apart(page, site_url, zh_pages):
    both = {url for url, p in zh_pages.items() if "机器人" in p.text and "焊接" in p.text}
    parts_apart = {url for url, p in zh_pages.items() if "机器" in p.text and "人" in p.text} - {
        url for url, p in zh_pages.items() if "机器人" in p.text}
    assert both and parts_apart  # the bundled content has both cases
    page.goto(site_url + "/search/?q=" + quote("机器人 焊接"))
    assert set(results(page)) == both


def test_year_filter_narrows_the_results(page, site_url, zh_pages):
    everything = {url for url, p in zh_pages.items() if "机器人" in p.text}
    in_2021 = {url for url in everything if "2021" in zh_pages[url].filters.get("year", set())}
    assert 0 < len(in_2021) < len(everything)
    page.goto(site_url + "/search/?q=" + quote("机器人"))
    assert set(results(page)) == everything
    page.select_option("#search-year", "2021")
    assert set(results(page)) == in_2021
    assert "year=2021" in page.url


def test_list_and_category_filters(page, site_url, zh_pages):
    everything = {url for url, p in zh_pages.items() if "机器人" in p.text}
    china_equipment = {url for url in everything if zh_pages[url].filters.get("list") == {"china"}
                       and "equipment" in zh_pages[url].filters.get("category", set())}
    assert 0 < len(china_equipment) < len(everything)
    page.goto(site_url + "/search/?q=" + quote("机器人") + "&list=china&category=equipment")
    expect(page.locator("#search-list")).to_have_value("china")
    assert set(results(page)) == china_equipment


def test_english_query_finds_the_same_advances_in_english(page, site_url, built_site, zh_pages, en_pages):
    expected = {url for url, p in en_pages.items() if re.search(r"\brobot", p.text, re.IGNORECASE)}
    assert expected
    page.goto(site_url + "/en/")
    page.fill("#site-search-q", "robot")
    page.press("#site-search-q", "Enter")
    expect(page).to_have_url(re.compile(r"/en/search/\?q=robot"))
    found = results(page)
    assert set(found) == expected
    expect(page.locator("#search-status")).to_have_text(STRINGS["en"]["search_count"].format(n=len(expected)))
    # The same advances as 机器人 on the Chinese site: every English hit is a Chinese hit, and every
    # Chinese hit whose English edition has a full English text is an English hit.
    chinese = advances_containing(zh_pages, "机器人")
    english = {url.removeprefix("/en") for url in found if url.startswith("/en/advances/")}
    assert english <= chinese
    translated = {url for url in chinese if 'class="prose" data-pagefind-body' in
                  (built_site / "en" / url.strip("/") / "index.html").read_text(encoding="utf-8")}
    assert translated and {"/en" + url for url in translated} <= set(found)
    assert "robot" in page.locator(".search-excerpt mark").first.inner_text().lower()


def test_clicking_a_result_opens_the_page(page, site_url):
    page.goto(site_url + "/search/?q=" + quote("数控机床"))
    results(page)
    link = page.locator(".search-result-title a").first
    title, href = link.inner_text().strip(), link.get_attribute("href")
    link.click()
    expect(page).to_have_url(site_url + href)
    expect(page.locator("h1")).to_contain_text(title)


def test_search_works_under_a_sub_path(page, tmp_path_factory):
    root = tmp_path_factory.mktemp("subpath")
    out = root / "imac" / "dual"
    build = subprocess.run([sys.executable, "-m", "sitegen", "build", "--output", str(out), "--base-url",
                            "https://example.org/imac/dual/"], cwd=REPO, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    httpd = serve_folder(root)
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        page.goto(base + "/imac/dual/years/")
        page.fill("#site-search-q", "机器人")
        page.press("#site-search-q", "Enter")
        expect(page).to_have_url(re.compile(r"/imac/dual/search/\?q="))
        found = results(page)
        assert any(url.startswith("/imac/dual/advances/") for url in found)
        assert all(url.startswith(("/imac/dual/advances/", "/imac/dual/lectures/", "/imac/dual/news/"))
                   for url in found)
        page.locator(".search-result-title a").first.click()
        expect(page).to_have_url(base + found[0])
        expect(page.locator("article.advance h1")).to_be_visible()
    finally:
        httpd.shutdown()


def test_without_pagefind_the_site_builds_and_the_search_page_says_so(page, tmp_path_factory):
    out = tmp_path_factory.mktemp("nopagefind") / "output"
    env = {**os.environ, "PAGEFIND_BINARY_PATH": str(out.parent / "no-such-pagefind")}
    build = subprocess.run([sys.executable, "-m", "sitegen", "build", "--output", str(out)], cwd=REPO,
                           capture_output=True, text=True, env=env)
    assert build.returncode == 0, build.stderr
    assert "Pagefind was not found" in build.stderr and "pip install 'pagefind[extended]'" in build.stderr
    assert (out / "index.html").is_file() and not (out / "pagefind").exists()
    httpd = serve_folder(out)
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        for prefix, lang in (("", "zh"), ("/en", "en")):
            page.goto(base + prefix + "/")
            page.fill("#site-search-q", "机器人")
            page.press("#site-search-q", "Enter")
            expect(page.locator(".search-unavailable")).to_have_text(STRINGS[lang]["search_unavailable"])
            expect(page.locator("#search-results")).to_have_count(0)
    finally:
        httpd.shutdown()


def test_a_missing_index_is_reported_on_the_search_page(page, built_site, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(built_site, copy)
    shutil.rmtree(copy / "pagefind")
    httpd = serve_folder(copy)
    try:
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/en/search/?q=robot")
        expect(page.locator("#search")).to_have_attribute("data-ready", "failed")
        expect(page.locator("#search-status")).to_have_text(STRINGS["en"]["search_failed"])
    finally:
        httpd.shutdown()


def test_search_page_keeps_the_query_in_the_address(page, site_url):
    page.goto(site_url + "/search/")
    expect(page.locator("#search-status")).to_have_text(STRINGS["zh"]["search_prompt"])
    page.fill("#search-q", "焊接")
    page.press("#search-q", "Enter")
    results(page)
    assert unquote(urlsplit(page.url).query) == "q=焊接"
    expect(page.locator("#search-q")).to_have_value("焊接")


def test_an_index_in_parts_finds_exactly_what_one_index_finds(page, tmp_path_factory, zh_pages):
    """With parts of at most 40 pages the bundled site's index is cut into 8 bundles, merged by search.js."""
    out = tmp_path_factory.mktemp("parts") / "output"
    env = {**os.environ, "SITEGEN_SEARCH_PART_SIZE": "40"}
    build = subprocess.run([sys.executable, "-m", "sitegen", "build", "--output", str(out)], cwd=REPO, env=env,
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    assert sorted(p.name for p in (out / "pagefind").iterdir()) == [f"part-{i}" for i in range(8)]
    expected = {url for url, p in zh_pages.items() if "机器人" in p.text}
    httpd = serve_folder(out)
    try:
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/search/?q=" + quote("机器人"))
        found = results(page)
        assert len(found) == len(set(found)) and set(found) == expected
        assert "机器人" in "".join(page.locator(".search-excerpt").first.locator("mark").all_inner_texts())
    finally:
        httpd.shutdown()
