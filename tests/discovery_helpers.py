"""Helpers for the discovery tests (issue 3): build a fixture site, read its content files independently
of sitegen, and pull advance links and data tables out of the built HTML.

The expectations are computed here straight from the YAML files with PyYAML, never through sitegen's
model, so a bug in the model cannot hide itself.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SITES = Path(__file__).resolve().parent / "sites"
LISTS = ("world", "china")


def build_site(dest: Path, name: str = "discovery", config: str = "") -> Path:
    """Copy tests/sites/<name>/ and the repository's themes into ``dest/site`` (``config`` appended to its
    config.yaml), build it; return the site folder."""
    site = dest / "site"
    shutil.copytree(SITES / name, site)
    shutil.copytree(REPO / "themes", site / "themes")
    if config:
        with (site / "config.yaml").open("a", encoding="utf-8") as fh:
            fh.write("\n" + config)
    result = subprocess.run([sys.executable, "-m", "sitegen", "build"], cwd=site, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return site


def build_bundled(dest: Path) -> Path:
    """Build the repository's own content into ``dest/output``; return the output folder."""
    out = dest / "output"
    result = subprocess.run([sys.executable, "-m", "sitegen", "build", "--output", str(out)], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return out


@dataclass
class Adv:
    stem: str
    meta: dict

    @property
    def year(self) -> int:
        return self.meta["year"]

    @property
    def id(self) -> str:
        return f"{self.year}/{self.stem}"

    def order_key(self) -> tuple:
        m = self.meta
        rank = m.get("rank")
        return (-m["year"], LISTS.index(m["list"]), rank is None, rank or 0, m.get("order") or 999, m["title"],
                self.stem)


@dataclass
class Content:
    advances: list[Adv]  # published (no drafts), in the site's order
    parent: dict[str, str]  # category key → top-level key (top-level keys map to themselves)
    tops: list[str]  # top-level category keys in file order
    categories: list[str]  # every category key, file order
    industries: list[str]
    societies: list[str]
    years: list[int]  # years that have a year file, ascending
    data: dict = field(default_factory=dict)  # file name → parsed YAML of the taxonomy files

    def with_category(self, key: str) -> list[Adv]:
        """Advances carrying ``key`` or, for a top-level category, one of its sub-categories."""
        return [a for a in self.advances
                if any(c == key or self.parent.get(c) == key for c in a.meta.get("categories") or [])]

    def tops_of(self, adv: Adv) -> set[str]:
        return {self.parent[c] for c in adv.meta.get("categories") or []}


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8-sig")
    return yaml.safe_load(text.split("---", 2)[1])


def read_content(content: Path) -> Content:
    def load(name):
        path = content / name
        return yaml.safe_load(path.read_text(encoding="utf-8-sig")) if path.is_file() else {}

    cats, inds, socs = load("categories.yaml"), load("industries.yaml"), load("societies.yaml")
    parent, order = {}, []
    for key, value in cats.items():
        parent[key] = key
        order.append(key)
        for child in (value.get("children") or {}):
            parent[child] = key
            order.append(child)
    advances = []
    for path in sorted((content / "advances").glob("*/*.md")):
        if path.name.endswith(".en.md"):
            continue
        meta = front_matter(path)
        if not meta.get("draft"):
            advances.append(Adv(path.stem, meta))
    advances.sort(key=Adv.order_key)
    years = sorted(int(p.stem) for p in (content / "years").glob("*.yaml"))
    return Content(advances, parent, list(cats), order, list(inds), list(socs), years,
                   {"categories": cats, "industries": inds, "societies": socs})


class PageParser(HTMLParser):
    """Collects the links of advance titles (in page order), every ``href``, chips per advance item,
    and the cells of every table with an id (row key from ``data-key``)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.advance_links: list[str] = []
        self.hrefs: list[str] = []
        self.items: list[dict] = []  # one per .advance-item: {"href": …, "chips": [...], "section": id}
        self.tables: dict[str, list[tuple[str, list[str]]]] = {}
        self.ids: set[str] = set()
        self.text_of_id: dict[str, str] = {}
        self._in_title = 0
        self._stack: list[tuple[str, set]] = []
        self._table = None
        self._row = None
        self._cell = None
        self._section = None
        self._capture_id = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "section":
            self._section = a.get("class", "") + "#" + a.get("aria-labelledby", "")
        if tag in ("title", "desc") and a.get("id"):
            self._capture_id = a["id"]
            self.text_of_id[a["id"]] = ""
        if "advance-item" in classes:
            self.items.append({"href": None, "chips": [], "section": self._section})
        if "advance-title" in classes:
            self._in_title = 1
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
            if self._in_title == 1:
                self.advance_links.append(a["href"])
                if self.items and self.items[-1]["href"] is None:
                    self.items[-1]["href"] = a["href"]
                self._in_title = 2
            if "chip" in classes and self.items:
                self.items[-1]["chips"].append(a["href"])
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = []
        if tag == "tr" and self._table:
            self._row = (a.get("data-key", ""), [])
        if tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("h2", "h3", "h4") and self._in_title:
            self._in_title = 0
        if tag in ("title", "desc"):
            self._capture_id = None
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row[1].append(" ".join(self._cell.split()))
            self._cell = None
        if tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._capture_id:
            self.text_of_id[self._capture_id] += data


def parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def advance_href(base_path: str, adv: Adv, slug: str, lang: str = "zh") -> str:
    return f"{base_path}{'en/' if lang == 'en' else ''}advances/{adv.year}/{slug}/"
