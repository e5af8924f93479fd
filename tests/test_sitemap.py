"""sitemap.xml, robots.txt and the head tags search engines and social sites read (issue 7)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sitegen import sitemap

REPO = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "sites" / "publishing"
BASE = "https://example.org/imac/dual-top10/"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


def copy_fixture(dest: Path) -> Path:
    shutil.copytree(FIXTURE, dest)
    shutil.copytree(REPO / "themes", dest / "themes")
    return dest


def sitegen(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sitegen", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    site = copy_fixture(tmp_path_factory.mktemp("publishing") / "site")
    result = sitegen("build", "--base-url", BASE, cwd=site)
    assert result.returncode == 0, result.stderr
    return site / "output"


def urlset(path: Path) -> dict[str, ET.Element]:
    root = ET.parse(path).getroot()
    return {u.findtext("s:loc", namespaces=NS): u for u in root.findall("s:url", NS)}


def page_url(rel: str) -> str:
    return BASE + rel.removesuffix("index.html")


def test_sitemap_lists_every_public_page_in_both_languages(out):
    entries = urlset(out / "sitemap.xml")
    pages = {p.relative_to(out).as_posix() for p in out.rglob("*.html")}
    public = {page_url(rel) for rel in pages
              if '<meta name="robots" content="noindex">' not in (out / rel).read_text(encoding="utf-8")}
    assert set(entries) == public
    assert BASE in entries and BASE + "en/" in entries
    assert not any("404" in loc for loc in entries)
    # each entry names both language versions
    alternates = entries[BASE + "years/2021/"].findall("x:link", NS)
    assert {(a.get("hreflang"), a.get("href")) for a in alternates} == {
        ("zh-CN", BASE + "years/2021/"), ("en", BASE + "en/years/2021/")}


def test_lastmod_comes_from_the_content_and_is_left_out_when_unknown(out):
    entries = urlset(out / "sitemap.xml")

    def lastmod(rel):
        return entries[BASE + rel].findtext("s:lastmod", namespaces=NS)

    # a sourced advance: its source's date, in both languages
    assert lastmod("advances/2021/a-sourced-advance/") == "2022-01-10"
    assert lastmod("en/advances/2021/a-sourced-advance/") == "2022-01-10"
    # a demo advance without a source: its year's release date
    assert lastmod("advances/2021/adaptive-five-axis-machining/") == "2021-12-07"
    assert lastmod("years/2021/") == "2021-12-07" and lastmod("years/2021/world/") == "2021-12-07"
    # a category: the newest of its advances (ai has the sourced one)
    assert lastmod("categories/ai/") == "2022-01-10"
    # the year 2020 has no release date: no lastmod at all rather than a made-up one
    assert lastmod("years/2020/") is None and lastmod("advances/2020/an-advance-of-a-year-without-a-release-date/") is None
    assert lastmod("about/") is None
    dates = {u.findtext("s:lastmod", namespaces=NS) for u in entries.values()} - {None}
    assert dates == {"2021-12-07", "2022-01-10"}


def test_robots_txt_points_at_the_sitemap(out):
    robots = (out / "robots.txt").read_text(encoding="utf-8")
    assert f"Sitemap: {BASE}sitemap.xml" in robots.splitlines()
    assert "User-agent: *" in robots and "Disallow: /" not in robots


def test_head_has_canonical_open_graph_and_twitter_tags(out):
    html = (out / "advances/2021/adaptive-five-axis-machining/index.html").read_text(encoding="utf-8")
    canonical = BASE + "advances/2021/adaptive-five-axis-machining/"
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert f'<meta property="og:url" content="{canonical}">' in html
    assert '<meta property="og:type" content="article">' in html
    assert '<meta property="og:description" content="实时补偿热误差的五轴加工系统。">' in html
    assert f'<meta property="og:image" content="{BASE}advances/2021/adaptive-five-axis-machining/five-axis.svg">' in html
    assert '<meta property="og:image:alt" content="五轴加工中心示意图">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    assert '<meta property="og:locale" content="zh_CN">' in html
    assert '<link rel="icon" href="/imac/dual-top10/favicon.svg"' in html
    assert re.search(r'<meta name="theme-color" content="#[0-9a-f]{6}">', html)
    en = (out / "en/advances/2021/adaptive-five-axis-machining/index.html").read_text(encoding="utf-8")
    assert ('<meta property="og:description" content="A five-axis machining system that compensates thermal '
            'errors in real time.">') in en
    assert '<meta property="og:image:alt" content="Diagram of a five-axis machining centre">' in en
    assert '<meta property="og:locale" content="en_US">' in en
    # a record without an image: a plain summary card and no og:image
    plain = (out / "advances/2021/a-sourced-advance/index.html").read_text(encoding="utf-8")
    assert "og:image" not in plain and '<meta name="twitter:card" content="summary">' in plain
    home = (out / "index.html").read_text(encoding="utf-8")
    assert '<meta property="og:type" content="website">' in home
    assert '<meta property="og:description" content="用于测试站点地图、图片与社交分享标签的站点。">' in home


def test_a_big_site_gets_a_sitemap_index(tmp_path, monkeypatch):
    from sitegen import site as site_mod

    site = copy_fixture(tmp_path / "site")
    loaded = site_mod.load(site / "config.yaml", {"base_url": BASE})
    from sitegen.render import Renderer
    renderer = Renderer(loaded.config, loaded.theme, loaded.model)
    monkeypatch.setattr(sitemap, "MAX_URLS", 5)
    files = {name: data if isinstance(data, bytes) else b"".join(data) for name, data in sitemap.make_files(loaded, renderer)}
    parts = sorted((name for name in files if re.fullmatch(r"sitemap-\d+\.xml", name)), key=lambda n: int(n[8:-4]))
    total = sum(len(urlset_bytes(files[name])) for name in parts)
    assert len(parts) == -(-total // 5) and len(parts) > 1
    assert all(len(urlset_bytes(files[name])) <= 5 for name in parts)
    index = ET.fromstring(files["sitemap.xml"])
    assert [e.findtext("s:loc", namespaces=NS) for e in index.findall("s:sitemap", NS)] == [BASE + n for n in parts]
    assert f"Sitemap: {BASE}sitemap.xml" in files["robots.txt"].decode()


def urlset_bytes(data: bytes) -> list:
    return ET.fromstring(data).findall("s:url", NS)


def test_content_dates_of_years_records_and_lectures(tmp_path):
    from types import SimpleNamespace

    from sitegen import site as site_mod

    site = copy_fixture(tmp_path / "site")
    loaded = site_mod.load(site / "config.yaml")
    dater = sitemap.ContentDates(loaded.model)
    by_year = {y.year: y for y in loaded.model.years}
    assert dater.of(by_year[2021]) == dt.date(2021, 12, 7)
    assert dater.of(by_year[2020]) is None
    assert dater.of([]) is None
    news = SimpleNamespace(meta={"date": dt.date(2024, 3, 1), "updated": None})
    assert dater.of(news) == dt.date(2024, 3, 1)
    # a lecture's date is the day it is held (maybe in the future): only its updated field counts
    lecture = SimpleNamespace(meta={"date": dt.date(2030, 1, 1), "start": "19:00", "updated": dt.date(2024, 2, 2)})
    assert dater.of(lecture) == dt.date(2024, 2, 2)
    assert dater.of(SimpleNamespace(meta={"date": dt.date(2030, 1, 1), "start": "19:00"})) is None
    assert dater.of_context({"items": [news, lecture], "year": by_year[2021]}) == dt.date(2024, 3, 1)


def test_pages_whose_template_says_noindex_are_not_listed(tmp_path):
    site = copy_fixture(tmp_path / "site")
    custom = site / "themes" / "custom" / "templates"
    custom.mkdir(parents=True)
    (custom / "page.html").write_text(
        (site / "themes/default/templates/page.html").read_text(encoding="utf-8")
        .replace("{% block main %}", '{% block head %}<meta name="robots" content="noindex">{% endblock %}\n'
                                     "{% block main %}", 1), encoding="utf-8")
    config = site / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "theme: custom\n", encoding="utf-8")
    result = sitegen("build", cwd=site)
    assert result.returncode == 0, result.stderr
    assert '<meta name="robots" content="noindex">' in (site / "output/about/index.html").read_text(encoding="utf-8")
    entries = urlset(site / "output/sitemap.xml")
    assert "http://127.0.0.1:8000/about/" not in entries and "http://127.0.0.1:8000/years/" in entries
