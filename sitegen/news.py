"""News and monthly reports: model, pagination, pages and the Atom feed.

``content/news/<name>.md`` — front matter :data:`~sitegen.contenttypes.NEWS`, the text as body.

* :func:`build_news` (model stage): items newest first, slugs, sources, ``updated`` not before ``date``.
* :func:`news_pages` (a planner of :data:`sitegen.render.PLANNERS`): the listing pages of ``news_per_page``
  items (``/news/``, ``/news/page/2/`` …) and one page per item.
* :func:`make_files` (an entry of :data:`sitegen.site.FILES`): the Atom feed (RFC 4287) ``/feed.xml``
  and ``/en/feed.xml``, built with ElementTree so it is always well-formed. Entry and feed ids are
  ``urn:uuid:`` values derived from the file names, so they survive a change of ``base_url``.
"""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET
import zoneinfo
from dataclasses import dataclass

from . import urls
from .content import Content
from .errors import Problems
from .model import Document, sources
from .pagination import paginate
from .slugs import record_slug

NAMESPACE = uuid.UUID("2f6a0c1d-8e4b-5d3a-a7c9-5b1e0d4f3a62")  # fixed forever: feed and entry ids depend on it
ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
RESERVED_SLUGS = {"page"}  # news/page/2/ is a listing page


@dataclass(eq=False)
class NewsItem(Document):

    @property
    def route(self) -> str:
        return urls.news_item(self.slug)

    @property
    def updated(self) -> dt.date:
        return self.meta["updated"] or self.meta["date"]

    def atom_id(self, lang: str) -> str:
        return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'news/{lang}/{self.record.stem}')}"

    def sort_key(self) -> tuple:
        return (-self.meta["date"].toordinal(), self.slug)


def build_news(content: Content, problems: Problems, drafts: bool = False) -> list[NewsItem]:
    """Items newest first, checked across fields and files."""
    items: list[NewsItem] = []
    slugs: dict[str, NewsItem] = {}
    for record in content.news:
        meta = record.meta
        if meta.get("draft") and not drafts:
            continue
        if meta["title"] is None or meta["date"] is None:
            continue  # reported as required
        if meta["updated"] is not None and meta["updated"] < meta["date"]:
            problems.add(record.rel, record.line_of("updated"), "updated",
                         f"{meta['updated'].isoformat()} is before the date {meta['date'].isoformat()}",
                         "write the day of the last change, on or after 'date'")
        if not meta["demo"] and not meta["source"] and not record.invalid & {"demo", "source"}:
            problems.add(record.rel, record.line, "source", "a real news item needs the document it is based on",
                         "add 'source: {title: …, date: …}', or mark an invented item with 'demo: true'")
        slug = meta["slug"] or record_slug(None, None, record.stem)
        if not slug:
            problems.add(record.rel, record.line_of("slug"), "slug", "no URL slug can be made from the file name",
                         "rename the file with ASCII letters and digits, or add 'slug: short-english-name'")
            continue
        if slug in RESERVED_SLUGS or slug in slugs:
            owner = slugs[slug].record.rel if slug in slugs else "the news listing pages"
            problems.add(record.rel, record.line_of("slug"), "slug",
                         f"the URL /news/{slug}/ is already used by {owner}", "set another 'slug:' or rename the file")
            continue
        slugs[slug] = NewsItem(record, slug, meta)
        items.append(slugs[slug])
    items.sort(key=NewsItem.sort_key)
    return items


def news_pages(model, add) -> None:
    """``/news/``, ``/news/page/<n>/`` and one page per item."""
    items = model.news
    # Which items are on which page (and how many pages there are) changes with any item added or removed.
    order = add.derived("@members:news", [item.record.rel for item in items])
    for page in paginate(items, model.news_per_page, urls.news()):
        add(page.route, "news_list.html", add.fronts(page.items) | {order}, news_page=page)
    for index, item in enumerate(items):
        newer = items[index - 1] if index else None
        older = items[index + 1] if index + 1 < len(items) else None
        add(item.route, "news_item.html", sources([item]) | add.fronts([i for i in (newer, older) if i]), item=item,
            newer=newer, older=older)


# --- the Atom feed ---------------------------------------------------------------------------------

def _stamp(day: dt.date, tz: dt.tzinfo) -> str:
    """RFC 3339 date-time at the start of ``day`` in the site time zone."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).isoformat()


def _el(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def atom_feed(items: list[NewsItem], lang: str, strings: dict, site: dict, url_abs, tz: dt.tzinfo) -> bytes:
    """The Atom document of every item, newest first, in one language (English falls back to Chinese)."""
    ET.register_namespace("", ATOM)

    def loc(meta: dict, name: str) -> str | None:
        return (meta.get(name + "_en") or meta.get(name)) if lang == "en" else meta.get(name)

    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: strings["html_lang"]})
    _el(feed, "id", f"urn:uuid:{uuid.uuid5(NAMESPACE, f'feed/{lang}')}")
    _el(feed, "title", f"{loc(site, 'title')} · {strings['news_title']}")
    if loc(site, "description"):
        _el(feed, "subtitle", loc(site, "description"))
    newest = max((item.updated for item in items), default=None)
    _el(feed, "updated", _stamp(newest, tz) if newest else "1970-01-01T00:00:00+00:00")
    _el(feed, "link", rel="self", type="application/atom+xml", href=url_abs(urls.feed(), lang))
    _el(feed, "link", rel="alternate", type="text/html", href=url_abs(urls.news(), lang))
    author = _el(feed, "author")
    _el(author, "name", loc(site, "title"))
    _el(author, "uri", url_abs(urls.home(), lang))
    _el(feed, "generator", "sitegen")
    for item in items:
        meta = item.meta
        entry = _el(feed, "entry")
        _el(entry, "id", item.atom_id(lang))
        title = loc(meta, "title")
        if meta["demo"]:
            title = f"{title} ({strings['demo_badge']})" if lang == "en" else f"{title}（{strings['demo_badge']}）"
        _el(entry, "title", title)
        _el(entry, "link", rel="alternate", type="text/html", href=url_abs(item.route, lang))
        _el(entry, "published", _stamp(meta["date"], tz))
        _el(entry, "updated", _stamp(item.updated, tz))
        _el(entry, "category", term=meta["kind"], label=strings[f"news_kind_{meta['kind']}"])
        summary = loc(meta, "summary")
        if summary:
            _el(entry, "summary", summary)
        body = item.html_en if lang == "en" and item.html_en else item.html
        if body.strip():
            content = _el(entry, "content", body, type="html")
            content.set(XML_BASE, url_abs(item.route, lang))  # relative links in the body resolve from the page
            if lang == "en" and not item.html_en:
                content.set(XML_LANG, "zh-CN")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def make_files(site, renderer) -> list[tuple[str, bytes]]:
    """``feed.xml`` (Chinese) and ``en/feed.xml``; none when there is no news."""
    items = site.model.news
    if not items:
        return []
    try:
        tz = zoneinfo.ZoneInfo(site.config.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    return [(urls.LANG_PREFIX[lang] + urls.feed(),
             atom_feed(items, lang, renderer.theme.strings[lang], site.config.values, renderer.urls.absolute, tz))
            for lang in renderer.theme.strings]
