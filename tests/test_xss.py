"""Hostile content through the whole build (issue 9): an XSS corpus in every front-matter string field of an
advance, a lecture, a news item and a page, in the year file, the taxonomies, config.yaml and in the
bodies. The built HTML is parsed (not string-matched): no script but the theme's own, no event handler,
no javascript:/data: URL, no iframe but from an allowed video host; the corpus shows up as text.
"""

from __future__ import annotations

import itertools
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from html_safety import active_content
from sitegen import contenttypes as ct
from sitegen import site as site_mod
from sitegen.config import CONFIG, VIDEO_HOSTS
from sitegen.schema import ListOf, MapOf, Obj, OneOf, Text, Url
from test_markdown import XSS

# Single-line payloads short enough for every text field (keywords take 60 characters).
PAYLOADS = [
    "<script>alert(1)</script>",
    "<ScRiPt>alert(2)</sCrIpT>",
    "<img src=x onerror=alert(3)>",
    '"><svg onload=alert(4)>',
    "'><iframe src=javascript:alert(5)>",
    '<a href="javascript:alert(6)">x</a>',
    "&lt;script&gt;alert(7)&lt;/script&gt;",
    "&#60;script&#62;alert(8)&#60;/script&#62;",
    "</title><script>alert(9)</script>",
    "</textarea><svg><script>alert(10)</script>",
    "javascript:alert(11)",
    "data:text/html,<script>alert(12)</script>",
    "{{ 7*7 }}{% if 1 %}x{% endif %}<!--",
    "<style>*{x:expression(alert(14))}</style>",
    '<math><a xlink:href="javascript:alert(15)">m</a></math>',
]
URL_PAYLOADS = [
    'https://example.org/"><script>alert(21)</script>',
    "https://example.org/?q=<img src=x onerror=alert(22)>",
    "https://example.org/'onmouseover='alert(23)",
]
SCRIPT_SRC = re.compile(r"^/(js|pagefind)/[\w.-]+\.js$")


def hostile(schema, base: dict, texts, urls) -> dict:
    """``base`` with every free-text field of ``schema`` (nested ones too) set to a payload."""
    out = dict(base)
    for field in schema.fields:
        kind = field.kind
        if isinstance(kind, OneOf):
            kind = next((k for k in kind.kinds if isinstance(k, Obj)), kind.kinds[0])
        if isinstance(kind, Text) and not kind.pattern:
            out[field.name] = next(texts)[: kind.max_len]
        elif isinstance(kind, Url):
            out[field.name] = next(urls)
        elif isinstance(kind, ListOf) and isinstance(kind.item, Text) and not kind.item.pattern:
            out[field.name] = [next(texts)[: kind.item.max_len] for _ in range(2)]
        elif isinstance(kind, ListOf) and isinstance(kind.item, Obj):
            out[field.name] = [hostile(kind.item.schema, {}, texts, urls)]
        elif isinstance(kind, Obj):
            out[field.name] = hostile(kind.schema, base.get(field.name) or {}, texts, urls)
    return out


def front_matter(meta: dict, body: str) -> str:
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=True, width=1000) + "---\n\n" + body


def tiny_png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b""))


BODY = "\n\n".join(["## 背景与意义", *XSS, "## 创新性与引领性", "| a | b |\n|---|---|\n| <script>x</script> | [y](javascript:z) |",
                    '<iframe src="https://www.youtube.com/embed/demo" title="视频"></iframe>'])


def write_hostile_content(root: Path) -> None:
    """Turn a copy of the minimal site with lectures and news into the hostile site."""
    texts, urls = itertools.cycle(PAYLOADS), itertools.cycle(URL_PAYLOADS)
    content = root / "content"

    advance = hostile(ct.ADVANCE, {"year": 2021, "list": "world", "rank": 1, "nominated_by": "cmes",
                                   "categories": ["cnc-robots"], "industries": ["machinery"], "demo": False,
                                   "slug": "hostile-advance"}, texts, urls)
    advance["image"] = "images/x.png"
    del advance["also_in"]  # a reference to another advance: any other value is an error (tested elsewhere)
    (content / "advances/2021/images").mkdir(exist_ok=True)
    (content / "advances/2021/images/x.png").write_bytes(tiny_png())
    (content / "advances/2021/world-five-axis.md").write_text(front_matter(advance, BODY), encoding="utf-8")
    (content / "advances/2021/world-five-axis.en.md").write_text(BODY, encoding="utf-8")

    lecture = hostile(ct.LECTURE, {"date": "2021-09-10", "start": "19:30", "end": "21:00", "host": "cmes",
                                   "status": "scheduled", "slug": "hostile-lecture", "demo": False}, texts, urls)
    lecture.pop("new_date", None)
    (content / "lectures/b-soon.md").write_text(front_matter(lecture, BODY), encoding="utf-8")
    news = hostile(ct.NEWS, {"date": "2021-08-30", "kind": "news", "slug": "hostile-news", "demo": False},
                   texts, urls)
    (content / "news/2021-08-item-5.md").write_text(front_matter(news, BODY), encoding="utf-8")
    page = hostile(ct.PAGE, {"order": 1, "slug": "about"}, texts, urls)
    (content / "pages/about.md").write_text(front_matter(page, BODY), encoding="utf-8")

    year = yaml.safe_load((content / "years/2021.yaml").read_text(encoding="utf-8"))
    year = hostile(ct.YEAR, year, texts, urls)
    year["timeline"] = [hostile(ct.TIMELINE_STEP, {"step": "release", "date": "2021-11-20"}, texts, urls)]
    year["release"]["date"] = "2021-11-20"
    (content / "years/2021.yaml").write_text(yaml.safe_dump(year, allow_unicode=True), encoding="utf-8")
    for name, schema in (("industries.yaml", ct.TERM), ("societies.yaml", ct.SOCIETY),
                         ("categories.yaml", ct.CATEGORY)):
        data = yaml.safe_load((content / name).read_text(encoding="utf-8"))
        for key, entry in data.items():
            data[key] = hostile(schema, entry, texts, urls)
            for child, sub in (entry.get("children") or {}).items():
                data[key]["children"][child] = hostile(ct.TERM, sub, texts, urls)
        (content / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    config = yaml.safe_load((root / "config.yaml").read_text(encoding="utf-8"))
    config = {**config, **{f.name: next(texts)[:200] for f in CONFIG.fields
                           if f.name in ("title", "title_en", "description", "description_en")}}
    (root / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory, make_site):
    root = make_site(tmp_path_factory.mktemp("xss"), "minimal", "lectures")
    write_hostile_content(root)
    loaded = site_mod.load(root / "config.yaml")
    result = site_mod.build(loaded, incremental_build=False)
    return root, result


class Page(HTMLParser):
    """Text content and script sources of one page."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs).get("src") or "")
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            assert not data.strip(), f"inline script: {data[:80]!r}"
        else:
            self.text.append(data)


def theme_element(tag: str, attrs: dict) -> bool:
    """What the theme itself puts on pages (and nothing a record could smuggle in)."""
    if tag == "script":
        return bool(SCRIPT_SRC.match(attrs.get("src", "")))
    if tag == "iframe":
        src = attrs.get("src", "")
        return (any(src.startswith(f"https://{host}/") for host in VIDEO_HOSTS) and "sandbox" in attrs
                and "allow-top-navigation" not in attrs["sandbox"])
    if tag == "link":
        return attrs.get("rel") in ("stylesheet", "canonical", "alternate", "icon", "prev", "next")
    if tag == "meta":
        return "http-equiv" not in attrs
    if tag == "svg":
        return attrs.get("class") == "chart" and attrs.get("role") == "img"
    if tag == "form":  # the header's search box and the search page's form
        return attrs.get("class") in ("site-search", "search-form") and attrs.get("action") in ("/search/",
                                                                                              "/en/search/")
    if tag in ("input", "button"):
        return attrs.get("type") in ("search", "submit", "button") and "formaction" not in attrs
    if tag == "select":  # the search page's filters
        return attrs.get("id", "").startswith("search-")
    return tag == "noscript" and not attrs  # the search page's note for browsers without JavaScript


def pages(output: Path) -> list[Path]:
    return sorted(output.rglob("*.html"))


def test_the_build_succeeds_and_reports_the_hostile_bodies(hostile_site):
    root, result = hostile_site
    warned = {(w.path, w.field) for w in result.warnings}
    for rel in ("content/advances/2021/world-five-axis.md", "content/advances/2021/world-five-axis.en.md",
                "content/lectures/b-soon.md", "content/news/2021-08-item-5.md", "content/pages/about.md"):
        assert (rel, "body") in warned, rel
    assert len(pages(root / "output")) > 50


def test_no_page_has_active_content_but_the_themes(hostile_site):
    root, _ = hostile_site
    findings = {}
    for path in pages(root / "output"):
        html = path.read_text(encoding="utf-8")
        found = active_content(html, theme_element)
        page = Page(html)  # also: no inline script at all
        found += [f"script {src!r}" for src in page.scripts if not SCRIPT_SRC.match(src)]
        if found:
            findings[path.relative_to(root / "output").as_posix()] = found
    assert findings == {}


def test_the_corpus_is_shown_as_text(hostile_site):
    """The payloads are not dropped silently: escaped, they are visible text on the pages."""
    root, _ = hostile_site
    output = root / "output"
    for rel in ("advances/2021/hostile-advance/index.html", "en/advances/2021/hostile-advance/index.html",
                "lectures/hostile-lecture/index.html", "news/hostile-news/index.html", "about/index.html",
                "years/2021/index.html", "index.html"):
        text = "".join(Page((output / rel).read_text(encoding="utf-8")).text)
        shown = [p for p in PAYLOADS if p in text]
        assert len(shown) >= 3, (rel, text[:500])
    everywhere = "".join("".join(Page(p.read_text(encoding="utf-8")).text) for p in pages(output))
    assert "{{ 7*7 }}{% if 1 %}x{% endif %}" in everywhere  # front matter is never a template


def test_only_the_allowed_video_iframe_is_embedded(hostile_site):
    root, _ = hostile_site
    html = (root / "output/advances/2021/hostile-advance/index.html").read_text(encoding="utf-8")
    iframes = re.findall(r"<iframe\b[^>]*>", html)
    assert len(iframes) == 1 and 'src="https://www.youtube.com/embed/demo"' in iframes[0]
    assert 'sandbox="allow-scripts allow-same-origin allow-presentation allow-popups"' in iframes[0]


def test_feeds_and_calendars_are_well_formed_and_inert(hostile_site):
    root, _ = hostile_site
    output = root / "output"
    for feed in (output / "feed.xml", output / "en/feed.xml"):
        tree = ET.parse(feed)  # well-formed XML, whatever the titles held
        for element in tree.iter():
            if element.get("type") == "html" and element.text:
                assert active_content(element.text, theme_element) == [], element.text[:200]
    from icalendar import Calendar

    calendar = Calendar.from_ical((output / "lectures/lectures.ics").read_bytes())
    events = list(calendar.walk("VEVENT"))
    hostile_event = next(e for e in events if "hostile-lecture" in str(e.get("URL")))
    others = set().union(*(set(e.keys()) for e in events if e is not hostile_event))
    assert set(hostile_event.keys()) <= others  # the payloads added no property of their own
    assert "alert(" in str(hostile_event.get("SUMMARY"))  # kept as the text it is


def test_url_fields_cannot_carry_scripts(tmp_path, make_site):
    """javascript:, data: and other schemes in URL fields are errors with path:line, never links."""
    from sitegen.errors import ContentErrors

    root = make_site(tmp_path, "minimal", "lectures")
    path = root / "content/lectures/b-soon.md"
    text = path.read_text(encoding="utf-8")
    text = text.replace("join_url: https://example.org/join/b", "join_url: javascript:alert(1)")
    path.write_text(text.replace("demo: true", "demo: true\nreplay_url: \"data:text/html,<script>x</script>\""),
                    encoding="utf-8")
    with pytest.raises(ContentErrors) as info:
        site_mod.load(root / "config.yaml")
    errors = [str(p) for p in info.value.problems.errors]
    assert any(e.startswith("content/lectures/b-soon.md:12: join_url: 'javascript:alert(1)' is not a web address")
               for e in errors), errors
    assert any(e.startswith("content/lectures/b-soon.md:17: replay_url: ") for e in errors), errors


def test_the_json_filter_cannot_close_a_script_element(make_site, tmp_path):
    from sitegen import render as render_stage

    loaded = site_mod.load(make_site(tmp_path, "minimal") / "config.yaml")
    env = render_stage.Renderer(loaded.config, loaded.theme, loaded.model).env
    out = env.from_string("<script>var v = {{ v | json }};</script>").render(v={"t": "</script><script>x()</script>&"})
    assert out.count("<script>") == 1 and out.count("</script>") == 1
    import json
    assert json.loads(out.removeprefix("<script>var v = ").removesuffix(";</script>")) == {
        "t": "</script><script>x()</script>&"}
