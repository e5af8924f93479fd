"""sitegen.news: order, pagination with prev/next, item pages, and the Atom feed checked against RFC 4287.

The fixture is tests/sites/minimal/ with tests/sites/lectures/ on top: five news items (2021-04 … 2021-08,
item 2 is a real monthly report with an English body) and ``news_per_page: 2``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from test_lectures import REPO, lecture_site, sitegen

ATOM = "{http://www.w3.org/2005/Atom}"
XML = "{http://www.w3.org/XML/1998/namespace}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
NEWEST_FIRST = ["2021-08-item-5", "2021-07-item-4", "2021-06-item-3", "2021-05-item-2", "2021-04-item-1"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    site = lecture_site(tmp_path_factory.mktemp("news"))
    result = sitegen("build", "--base-url", "https://example.org/imac/", cwd=site)
    assert result.returncode == 0, result.stderr
    return site / "output"


def read(built: Path, rel: str) -> str:
    return (built / rel).read_text(encoding="utf-8")


def listed(html: str) -> list[str]:
    return re.findall(r'<h2 class="news-title"><a href="/imac/news/([a-z0-9-]+)/"', html)


def test_pages_of_two_newest_first_with_prev_and_next(built):
    pages = {1: "news/index.html", 2: "news/page/2/index.html", 3: "news/page/3/index.html"}
    assert [listed(read(built, rel)) for rel in pages.values()] == [NEWEST_FIRST[0:2], NEWEST_FIRST[2:4],
                                                                    NEWEST_FIRST[4:]]
    assert not (built / "news/page/1").exists() and not (built / "news/page/4").exists()

    def links(rel: str) -> dict[str, list[str]]:
        html = read(built, rel)
        nav = html.split('class="pager news-pager"', 1)[1].split("</nav>", 1)[0]
        return {rel_: re.findall(rf'<a rel="{rel_}" href="([^"]+)"', nav) for rel_ in ("prev", "next")}

    assert links(pages[1]) == {"prev": [], "next": ["/imac/news/page/2/"]}
    assert links(pages[2]) == {"prev": ["/imac/news/"], "next": ["/imac/news/page/3/"]}
    assert links(pages[3]) == {"prev": ["/imac/news/page/2/"], "next": []}  # the last page has no next
    assert '<link rel="next" href="/imac/news/page/2/">' in read(built, pages[1])
    assert '<link rel="prev" href="/imac/news/">' in read(built, pages[2])
    assert "第 3 页，共 3 页" in read(built, pages[3])
    assert "Page 2 of 3" in read(built, "en/news/page/2/index.html")


def test_one_page_per_item_in_both_languages(built):
    for slug in NEWEST_FIRST:
        for prefix in ("", "en/"):
            assert (built / prefix / "news" / slug / "index.html").is_file()
    report = read(built, "news/2021-05-item-2/index.html")
    assert "工作月报" in report and "进展情况月报（2021年5月）" in report and 'class="badge demo"' not in report
    assert "The English text of news item 2." in read(built, "en/news/2021-05-item-2/index.html")
    # Relative links in the body work from the item's page in both languages.
    assert 'href="../../lectures/a-past/"' in read(built, "en/news/2021-04-item-1/index.html")
    middle = read(built, "news/2021-06-item-3/index.html")
    assert 'rel="prev" href="/imac/news/2021-07-item-4/"' in middle
    assert 'rel="next" href="/imac/news/2021-05-item-2/"' in middle


def test_feed_discovery_link_on_every_page(built):
    for rel, feed in (("index.html", "/imac/feed.xml"), ("years/2021/index.html", "/imac/feed.xml"),
                      ("en/news/index.html", "/imac/en/feed.xml")):
        assert f'<link rel="alternate" type="application/atom+xml" title=' in read(built, rel)
        assert re.search(rf'<link rel="alternate" type="application/atom\+xml" title="[^"]+" href="{feed}">',
                         read(built, rel)), rel


def atom_problems(data: bytes) -> list[str]:
    """The RFC 4287 rules a reader relies on (§4.1.1 feed, §4.1.2 entry, §4.2.6 id, §3.3 dates, §4.2.7 link)."""
    problems: list[str] = []
    root = ET.fromstring(data)
    if root.tag != f"{ATOM}feed":
        return [f"root element is {root.tag}"]

    def one(parent, name, where):
        found = parent.findall(f"{ATOM}{name}")
        if len(found) != 1:
            problems.append(f"{where}: {len(found)} <{name}> elements (exactly one required)")
        return found[0] if found else None

    def check_text(element, where):
        if element is not None and not (element.text or "").strip():
            problems.append(f"{where}: empty <{element.tag.split('}')[1]}>")

    def check_date(element, where):
        if element is not None and not RFC3339.match(element.text or ""):
            problems.append(f"{where}: {element.text!r} is not an RFC 3339 date-time")

    def check_links(parent, where, need_alternate):
        alternates = set()
        for link in parent.findall(f"{ATOM}link"):
            href = link.get("href", "")
            parts = urlsplit(href)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                problems.append(f"{where}: link {href!r} is not absolute")
            if link.get("rel", "alternate") == "alternate":
                key = (link.get("type"), link.get("hreflang"))
                if key in alternates:
                    problems.append(f"{where}: two alternate links with the same type and hreflang")
                alternates.add(key)
        if need_alternate and not alternates:
            problems.append(f"{where}: no alternate link")

    ids = []
    for name in ("id", "title", "updated"):
        element = one(root, name, "feed")
        check_text(element, "feed")
    check_date(root.find(f"{ATOM}updated"), "feed")
    check_links(root, "feed", need_alternate=False)
    if not [link for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]:
        problems.append("feed: no rel=self link")
    feed_author = root.find(f"{ATOM}author/{ATOM}name") is not None
    ids.append(root.findtext(f"{ATOM}id"))
    entries = root.findall(f"{ATOM}entry")
    if not entries:
        problems.append("feed: no entries")
    for index, entry in enumerate(entries, start=1):
        where = f"entry {index}"
        for name in ("id", "title", "updated"):
            check_text(one(entry, name, where), where)
        check_date(entry.find(f"{ATOM}updated"), where)
        check_date(entry.find(f"{ATOM}published"), where)
        check_links(entry, where, need_alternate=entry.find(f"{ATOM}content") is None)
        if not feed_author and entry.find(f"{ATOM}author/{ATOM}name") is None:
            problems.append(f"{where}: no author (and the feed has none)")
        content = entry.find(f"{ATOM}content")
        if content is None and entry.find(f"{ATOM}summary") is None:
            problems.append(f"{where}: neither content nor summary")
        if content is not None and content.get("type") not in (None, "text", "html", "xhtml"):
            problems.append(f"{where}: content type {content.get('type')!r}")
        ids.append(entry.findtext(f"{ATOM}id"))
    for ident in ids:
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$", ident or ""):
            problems.append(f"id {ident!r} is not an IRI")
    if len(set(ids)) != len(ids):
        problems.append("ids are not unique")
    return problems


def test_atom_feed_is_valid(built):
    for rel in ("feed.xml", "en/feed.xml"):
        data = (built / rel).read_bytes()
        assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<feed ")
        assert atom_problems(data) == [], rel


def test_atom_feed_content(built):
    root = ET.fromstring((built / "feed.xml").read_bytes())
    assert root.get(f"{XML}lang") == "zh-CN"
    self_link = [link.get("href") for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link == ["https://example.org/imac/feed.xml"]
    entries = root.findall(f"{ATOM}entry")
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert links == [f"https://example.org/imac/news/{slug}/" for slug in NEWEST_FIRST]
    assert root.findtext(f"{ATOM}updated") == "2021-08-15T00:00:00+08:00"  # the newest item
    report = entries[3]
    assert report.findtext(f"{ATOM}title") == "新闻 2"
    assert report.findtext(f"{ATOM}published") == "2021-05-12T00:00:00+08:00"
    assert report.findtext(f"{ATOM}updated") == "2021-06-01T00:00:00+08:00"
    assert report.find(f"{ATOM}category").get("term") == "report"
    content = entries[4].find(f"{ATOM}content")
    assert content.get("type") == "html" and "<a href=\"../../lectures/a-past/\"" in content.text
    assert content.get(f"{XML}base") == "https://example.org/imac/news/2021-04-item-1/"
    assert entries[0].findtext(f"{ATOM}title") == "新闻 5（示例）"  # samples are marked in readers too
    english = ET.fromstring((built / "en/feed.xml").read_bytes())
    assert [e.findtext(f"{ATOM}title") for e in english.findall(f"{ATOM}entry")][:2] == [
        "News 5 (Sample)", "News 4 (Sample)"]
    en_ids = {e.findtext(f"{ATOM}id") for e in english.findall(f"{ATOM}entry")}
    assert not en_ids & {e.findtext(f"{ATOM}id") for e in entries}


def test_feed_ids_do_not_depend_on_the_base_url(built, tmp_path):
    site = lecture_site(tmp_path)
    assert sitegen("build", cwd=site).returncode == 0

    def ids(path: Path) -> list[str]:
        return [e.text for e in ET.fromstring(path.read_bytes()).iter(f"{ATOM}id")]

    assert ids(site / "output/feed.xml") == ids(built / "feed.xml")


def test_the_validator_catches_broken_feeds():
    good = (b'<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:x:1</id><title>t</title>'
            b'<updated>2021-01-01T00:00:00Z</updated><link rel="self" href="https://e.org/f.xml"/>'
            b'<author><name>a</name></author><entry><id>urn:x:2</id><title>e</title>'
            b'<updated>2021-01-01T00:00:00Z</updated><link href="https://e.org/e/"/><summary>s</summary>'
            b'</entry></feed>')
    assert atom_problems(good) == []
    assert atom_problems(good.replace(b"urn:x:2", b"urn:x:1")) == ["ids are not unique"]
    assert atom_problems(good.replace(b'href="https://e.org/e/"', b'href="/e/"')) == [
        "entry 1: link '/e/' is not absolute"]
    assert atom_problems(good.replace(b"2021-01-01T00:00:00Z</updated><link href", b"2021-01-01</updated><link href")) \
        == ["entry 1: '2021-01-01' is not an RFC 3339 date-time"]


def test_bundled_news_and_lectures(tmp_path):
    """The bundled site: the real July 2021 report is a sourced news item, every lecture is a badged sample."""
    out = tmp_path / "out"
    result = sitegen("build", "--output", str(out), cwd=REPO, env={"SITEGEN_NOW": "2026-01-01"})
    assert result.returncode == 0, result.stderr
    assert atom_problems((out / "feed.xml").read_bytes()) == []
    report = read(out, "news/2021-07-monthly-report/index.html")
    assert "进展情况月报（2021年7月）" in report and 'class="badge demo"' not in report
    lectures = sorted((REPO / "content/lectures").glob("*.md"))
    lectures = [p for p in lectures if not p.name.endswith(".en.md")]
    assert len(lectures) >= 8
    for path in lectures:
        assert "\ndemo: true\n" in path.read_text(encoding="utf-8"), path
        assert 'class="badge demo"' in read(out, f"lectures/{path.stem}/index.html")
    schedule = read(out, "lectures/index.html")
    upcoming = schedule.split("data-past", 1)[0]
    assert upcoming.count('class="lecture-item') >= 2 and "已取消" in schedule and "已延期" in schedule
