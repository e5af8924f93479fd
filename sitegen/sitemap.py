"""``sitemap.xml`` and ``robots.txt``: every public page of both languages, for search engines.

``lastmod`` comes from the content's own dates, never from the build time, so two builds of the same
input are identical:

- an advance → its source's publication date, else its year's date;
- a year or list page → the year's release date, else the publication date of the year's source;
- a taxonomy page (category, industry, society, organisation) → the newest date of its advances;
- a record with an ``updated`` or ``date`` field (news; for a lecture, whose ``date`` is the day it is held,
  only ``updated``) → that date;
- the newest of these over everything in the page's context (home, indexes, listings).

A page with no known date has no ``lastmod``. Pages whose template says ``noindex`` (404, search) are
not listed.
Each ``<url>`` lists its other-language version (``xhtml:link rel="alternate"``). Past 50,000 URLs, the
limit of the sitemap protocol, ``sitemap.xml`` becomes an index of ``sitemap-1.xml``, ``sitemap-2.xml`` ….
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from xml.sax.saxutils import escape, quoteattr

from . import urls
from .model import Advance, Model, Term, Year
from .theme import LANGS

MAX_URLS = 50_000
HREFLANG = {"zh": "zh-CN", "en": "en"}
NOT_LISTED = {urls.not_found()}  # never listed, whatever its template says


def make_files(site, renderer) -> list[tuple[str, bytes | Iterator[bytes]]]:
    """sitemap.xml (or an index of numbered sitemaps) and robots.txt; a sitemap is made as it is written."""
    u = renderer.urls
    jobs = renderer.jobs
    hidden = noindex_templates(renderer, {job.template for job in jobs})
    entries = sitemap_entries(site.model, [job for job in jobs if job.template not in hidden], u)
    files: list = []
    chunks = [entries[i:i + MAX_URLS] for i in range(0, len(entries), MAX_URLS)] or [[]]
    if len(chunks) == 1:
        files.append(("sitemap.xml", _urlset(chunks[0])))
    else:
        names = [f"sitemap-{n}.xml" for n in range(1, len(chunks) + 1)]
        files.extend((name, _urlset(chunk)) for name, chunk in zip(names, chunks))
        files.append(("sitemap.xml", _index([u.absolute(name) for name in names],
                                            [max((e[1] for e in c if e[1]), default=None) for c in chunks])))
    robots = f"User-agent: *\nDisallow:\n\nSitemap: {u.absolute('sitemap.xml')}\n"
    files.append(("robots.txt", robots.encode("utf-8")))
    return files


make_files.reads_bodies = False  # URLs from the plan, dates from front matter (see site.FILES)

_NOINDEX = re.compile(r"""<meta\s+name=["']robots["']\s+content=["'][^"']*noindex""", re.IGNORECASE)


def noindex_templates(renderer, names) -> set[str]:
    """Templates that mark their pages ``<meta name="robots" content="noindex">`` (404, search): not listed."""
    hidden = set()
    for name in sorted(names):
        try:
            source = renderer.env.loader.get_source(renderer.env, name)[0]
        except Exception:  # noqa: BLE001 - a missing template fails the page render with its own message
            continue
        if _NOINDEX.search(source):
            hidden.add(name)
    return hidden


def sitemap_entries(model: Model, jobs, u: urls.Urls) -> list[tuple[str, dt.date | None, dict[str, str]]]:
    """(absolute URL, lastmod, {hreflang: absolute URL}) of every listed page, sorted by URL."""
    dater = ContentDates(model)
    routes: dict[str, dict[str, object]] = {}  # route → lang → job
    for job in jobs:
        if job.route in NOT_LISTED:
            continue
        routes.setdefault(job.route, {})[job.lang] = job
    entries = []
    for route, by_lang in routes.items():
        dates = [d for job in by_lang.values() if (d := dater.of_context(job.context))]
        lastmod = max(dates) if dates else None
        alternates = {HREFLANG[lang]: u.absolute(route, lang) for lang in LANGS if lang in by_lang}
        for lang in sorted(by_lang):
            entries.append((u.absolute(route, lang), lastmod, alternates if len(alternates) > 1 else {}))
    entries.sort(key=lambda e: e[0])
    return entries


class ContentDates:
    """The date a page's content was last known to change, from the records the page shows."""

    def __init__(self, model: Model):
        self.release = {y.year: _release_date(y) for y in model.years}
        self._terms: dict[int, dt.date | None] = {}  # a term's date is asked once per language and per page

    def of_context(self, context: dict) -> dt.date | None:
        dates = [d for key in sorted(context) if (d := self.of(context[key]))]
        return max(dates) if dates else None

    def of(self, value, depth: int = 0) -> dt.date | None:
        if isinstance(value, Advance):
            source = value.meta.get("source")
            if isinstance(source, dict) and isinstance(source.get("date"), dt.date):
                return source["date"]
            return self.release.get(value.meta.get("year"))
        if isinstance(value, Year):
            return _release_date(value)
        if isinstance(value, Term):
            if id(value) not in self._terms:
                self._terms[id(value)] = self.of(value.all_advances(), depth)
            return self._terms[id(value)]
        if isinstance(value, (list, tuple)) and depth < 2:
            dates = [d for item in value if (d := self.of(item, depth + 1))]
            return max(dates) if dates else None
        meta = getattr(value, "meta", None)
        if isinstance(meta, dict):  # pages, news, lectures: a date field of their own
            # A lecture's ``date`` is the day it is held, not a change: only its ``updated`` counts.
            for name in ("updated",) if "start" in meta else ("updated", "date"):
                found = meta.get(name)
                if isinstance(found, dt.datetime):
                    return found.date()
                if isinstance(found, dt.date):
                    return found
        return None


def _release_date(year: Year) -> dt.date | None:
    """The year's release date, else the publication date of its source."""
    for holder in (year.data.get("release"), year.data.get("source")):
        date = holder.get("date") if isinstance(holder, dict) else None
        if isinstance(date, dt.date):
            return date
    return None


XMLNS = ('xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
         'xmlns:xhtml="http://www.w3.org/1999/xhtml"')


def _urlset(entries) -> Iterator[bytes]:
    """A sitemap, yielded a ``<url>`` at a time (8 MB at 10,000 advances)."""
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {XMLNS}>\n'.encode("utf-8")
    for loc, lastmod, alternates in entries:
        lines = ["<url>", f"  <loc>{escape(loc)}</loc>"]
        if lastmod:
            lines.append(f"  <lastmod>{lastmod.isoformat()}</lastmod>")
        for hreflang, href in alternates.items():
            lines.append(f'  <xhtml:link rel="alternate" hreflang="{hreflang}" href={quoteattr(href)}/>')
        lines.append("</url>\n")
        yield "\n".join(lines).encode("utf-8")
    yield b"</urlset>\n"


def _index(locations: list[str], lastmods: list) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for loc, lastmod in zip(locations, lastmods):
        lines.append(f"<sitemap><loc>{escape(loc)}</loc>"
                     + (f"<lastmod>{lastmod.isoformat()}</lastmod>" if lastmod else "") + "</sitemap>")
    lines.append("</sitemapindex>")
    return ("\n".join(lines) + "\n").encode("utf-8")
