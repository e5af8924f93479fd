"""Walk a built site and report broken internal links, missing images and anchors, pages without a title or
description, and duplicate ids — each with the source record that produced the page.

Used by ``sitegen check --output`` and the tests. External links are not fetched. Absolute URLs under the
site's own address (canonical, alternate languages, Open Graph images, feeds, sitemap entries) are checked
like root-relative ones. The site's address is read from the home page's canonical link, so a site built
with ``--base-url`` is checked under that address.
"""

from __future__ import annotations

import html.parser
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

# Attributes that point at another file: (tag, attribute) → how to read the value.
_URL_ATTRS = {("a", "href"), ("area", "href"), ("link", "href"), ("img", "src"), ("script", "src"),
              ("source", "src"), ("iframe", "src"), ("video", "src"), ("video", "poster"), ("audio", "src"),
              ("track", "src"), ("embed", "src"), ("object", "data"), ("form", "action")}
_SRCSET_TAGS = {"img", "source"}
_URL_METAS = {"og:image", "og:url", "og:image:url", "og:image:secure_url", "twitter:image"}


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: dict[str, list[int]] = defaultdict(list)
        self.refs: list[tuple[str, int, str]] = []  # (url, line, what)
        self.title = ""
        self._in_title = False
        self.description: str | None = None
        self.canonical: str | None = None

    def handle_starttag(self, tag, attrs):
        line = self.getpos()[0]
        attrs = {name: value or "" for name, value in attrs}
        if attrs.get("id"):
            self.ids[attrs["id"]].append(line)
        if tag == "a" and attrs.get("name"):
            self.ids[attrs["name"]].append(line)
        for name, value in attrs.items():
            if (tag, name) in _URL_ATTRS and value.strip():
                what = "image" if tag == "img" else "link"
                self.refs.append((value.strip(), line, what))
            elif name == "srcset" and tag in _SRCSET_TAGS:
                for candidate in value.split(","):
                    if candidate.strip():
                        self.refs.append((candidate.split()[0], line, "image"))
        if tag == "link" and "canonical" in attrs.get("rel", "").split():
            self.canonical = attrs.get("href")
        if tag == "meta":
            key = attrs.get("property") or attrs.get("name") or ""
            if key in _URL_METAS and attrs.get("content"):
                self.refs.append((attrs["content"], line, "image" if "image" in key else "link"))
            if attrs.get("name") == "description":
                self.description = attrs.get("content", "")
        if tag == "title":
            self._in_title = True

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


@dataclass(frozen=True)
class LinkProblem:
    page: str  # output-relative file
    line: int
    message: str
    source: str = ""  # the record (or template) that produced the page

    def __str__(self):
        made = f" (page made from {self.source})" if self.source else ""
        return f"{self.page}:{self.line}: {self.message}{made}"


def detect_site_url(root: Path) -> str | None:
    """The address the site was built for: the home page's canonical link (``https://host/sub/path/``)."""
    home = root / "index.html"
    if not home.is_file():
        return None
    parser = _Page()
    parser.feed(home.read_text(encoding="utf-8", errors="replace"))
    canonical = parser.canonical
    if not canonical or not urlsplit(canonical).scheme:
        return None
    return canonical if canonical.endswith("/") else canonical.rsplit("/", 1)[0] + "/"


def check_output(root: Path, base_path: str | None = None, sources: dict[str, str] | None = None,
                 site_url: str | None = None) -> list[LinkProblem]:
    """Every problem of the built site under ``root``; ``sources`` maps output files to their records."""
    root = root.resolve()
    sources = sources or {}
    site_url = site_url or detect_site_url(root)
    if base_path is None:
        base_path = urlsplit(site_url).path if site_url else "/"
    if site_url is None:
        site_url = ""
    pages: dict[Path, _Page] = {}
    for path in sorted(root.rglob("*.html")):
        parser = _Page()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        pages[path] = parser
    problems: list[LinkProblem] = []

    def resolve(ref: str, page_path: Path, rel: str, line: int, what: str, source: str) -> None:
        if ref.startswith(("mailto:", "tel:", "data:", "javascript:")):
            return
        shown = ref
        if site_url and ref.startswith(site_url):
            ref = base_path + ref[len(site_url):]
        parts = urlsplit(ref)
        if parts.scheme or parts.netloc:
            return  # external: not fetched
        if rel.rsplit("/", 1)[-1] == "404.html" and parts.path and not parts.path.startswith("/"):
            problems.append(LinkProblem(rel, line, f"relative {what} {shown!r} on the 404 page breaks on deep URLs",
                                        source))
        if parts.path.startswith("/"):
            if not parts.path.startswith(base_path):
                problems.append(LinkProblem(rel, line, f"{what} {shown!r} is outside the base path {base_path}", source))
                return
            target = root / unquote(parts.path[len(base_path):])
        elif parts.path:
            target = page_path.parent / unquote(parts.path)
        else:
            target = page_path
        if parts.path.endswith("/") or target.is_dir():
            target = target / "index.html"
        target = target.resolve()
        if root not in target.parents or not target.is_file():
            kind = "missing image" if what == "image" else "broken link"
            problems.append(LinkProblem(rel, line, f"{kind} {shown!r}", source))
            return
        if parts.fragment and target in pages and unquote(parts.fragment) not in pages[target].ids:
            problems.append(LinkProblem(rel, line, f"missing anchor {shown!r}", source))

    for path, page in pages.items():
        rel = path.relative_to(root).as_posix()
        source = sources.get(rel, "")
        for ident, lines in sorted(page.ids.items()):
            if len(lines) > 1:
                problems.append(LinkProblem(rel, lines[1], f"duplicate id {ident!r} ({len(lines)} times, first on "
                                                           f"line {lines[0]})", source))
        if not page.title.strip():
            problems.append(LinkProblem(rel, 1, "page has no <title>", source))
        if page.description is None or not page.description.strip():
            problems.append(LinkProblem(rel, 1, "page has no meta description", source))
        for ref, line, what in page.refs:
            resolve(ref, path, rel, line, what, source)

    for sitemap in sorted(root.glob("sitemap*.xml")):
        rel = sitemap.relative_to(root).as_posix()
        for number, text in enumerate(sitemap.read_text(encoding="utf-8").splitlines(), 1):
            for loc in re.findall(r"<loc>([^<]+)</loc>", text):
                if site_url and not loc.startswith(site_url):
                    problems.append(LinkProblem(rel, number, f"{loc!r} is not under the site's address {site_url}"))
                else:
                    resolve(loc.replace("&amp;", "&"), sitemap, rel, number, "sitemap entry", "")
    return problems


def page_sources(jobs, theme_prefix: str = "template ") -> dict[str, str]:
    """Output file → what produced it: the record a page shows (its Markdown or YAML file), else its template."""
    out: dict[str, str] = {}
    for job in jobs:
        out[job.output] = producer(job.context) or theme_prefix + job.template
    return out


def producer(context: dict) -> str | None:
    """The source file of the main record in a page's context: a Markdown record, then a year, then a term."""
    values = [context[key] for key in sorted(context)]
    for value in values:
        record = getattr(value, "record", None)
        if getattr(record, "rel", None):
            return record.rel
    for value in values:
        rel = getattr(value, "rel", None)  # a year file
        if isinstance(rel, str) and rel and not hasattr(value, "kind"):
            return rel
    for value in values:
        source = getattr(value, "source", None)  # a category, industry or society entry
        if isinstance(source, str) and source and hasattr(value, "kind"):
            return f"{source} ({value.key})"
    return None
