"""Walk a built site and report broken internal links, missing files and anchors, duplicate ids.

Used by the tests and by ``sitegen check --output``. External links are not fetched.
"""

from __future__ import annotations

import html.parser
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(html.parser.HTMLParser):
    LINKS = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src", "iframe": "src"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.refs: list[tuple[str, int]] = []
        self.title = ""
        self._in_title = False
        self.description = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.append(attrs["name"])
        attr = self.LINKS.get(tag)
        if attr and attrs.get(attr) and not (tag == "link" and attrs.get("rel") in ("canonical", "alternate")):
            self.refs.append((attrs[attr], self.getpos()[0]))
        if tag == "title":
            self._in_title = True
        if tag == "meta" and attrs.get("name") == "description":
            self.description = attrs.get("content") or ""

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


@dataclass(frozen=True)
class LinkProblem:
    page: str
    line: int
    message: str

    def __str__(self):
        return f"{self.page}:{self.line}: {self.message}"


def check_output(root: Path, base_path: str = "/") -> list[LinkProblem]:
    root = root.resolve()
    pages: dict[Path, _Page] = {}
    for path in sorted(root.rglob("*.html")):
        parser = _Page()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path] = parser
    problems: list[LinkProblem] = []
    for path, page in pages.items():
        rel = path.relative_to(root).as_posix()
        for ident, count in sorted(Counter(page.ids).items()):
            if count > 1:
                problems.append(LinkProblem(rel, 0, f"duplicate id {ident!r} ({count} times)"))
        if not page.title.strip():
            problems.append(LinkProblem(rel, 0, "page has no <title>"))
        if page.description is None or not page.description.strip():
            problems.append(LinkProblem(rel, 0, "page has no meta description"))
        for ref, line in page.refs:
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc or ref.startswith(("mailto:", "tel:", "data:")):
                continue
            if rel == "404.html" or rel.endswith("/404.html"):
                if not parts.path.startswith("/") and parts.path:
                    problems.append(LinkProblem(rel, line, f"relative link {ref!r} on the 404 page breaks on deep URLs"))
            if parts.path.startswith("/"):
                if not parts.path.startswith(base_path):
                    problems.append(LinkProblem(rel, line, f"{ref!r} is outside the base path {base_path}"))
                    continue
                target = root / unquote(parts.path[len(base_path):])
            elif parts.path:
                target = path.parent / unquote(parts.path)
            else:
                target = path
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            target = target.resolve()
            if root not in target.parents or not target.is_file():
                problems.append(LinkProblem(rel, line, f"broken link {ref!r}"))
                continue
            if parts.fragment and target in pages and unquote(parts.fragment) not in pages[target].ids:
                problems.append(LinkProblem(rel, line, f"missing anchor {ref!r}"))
    return problems
