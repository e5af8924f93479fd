"""The model stage: years, lists, taxonomies and cross-document rules.

Input is the parsed :class:`~sitegen.content.Content`; output is a :class:`Model` that templates
read. Every cross-record rule (ranks, ten per list, keys that exist, slugs, sources) lives here and
adds problems with the line of the offending field.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import urls
from .content import Content, DataFile, Record
from .contenttypes import LISTS
from .errors import Problems
from .related import link_same_titles, related_advances
from .slugs import record_slug, unique_slugs

if TYPE_CHECKING:
    from .mdcache import Converted

MAX_PER_LIST = 10
TERM_KINDS = ("categories", "industries", "societies", "organizations")


@dataclass(eq=False)
class Term:
    """A category, sub-category, industry, society or organisation, with its advances."""

    kind: str
    key: str
    slug: str
    name: str
    name_en: str | None = None
    description: str | None = None
    description_en: str | None = None
    parent: "Term | None" = None
    children: list["Term"] = field(default_factory=list)
    advances: list["Advance"] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    source: str = ""  # the data file it comes from
    _all: list | None = field(default=None, init=False, repr=False)  # all_advances(), once the model is built

    def __repr__(self) -> str:  # short: the generated repr walks the whole graph of terms and advances
        return f"<Term {self.kind}/{self.slug}>"

    @property
    def route(self) -> str:
        return urls.term(self.kind, self.slug)

    def all_advances(self) -> list["Advance"]:
        """Own advances and those of sub-categories, each once, newest year first.

        Kept after the first call: membership is complete once :func:`build_model` has returned.
        """
        if self._all is None:
            seen: dict[int, Advance] = {id(a): a for a in self.advances}
            for child in self.children:
                seen.update((id(a), a) for a in child.advances)
            self._all = sorted(seen.values(), key=Advance.sort_key)
        return self._all

    def by_year(self) -> list[tuple[int, list["Advance"]]]:
        return by_year(self.all_advances())


def by_year(advances) -> list[tuple[int, list["Advance"]]]:
    """(year, advances of that year in their order), newest year first."""
    groups: dict[int, list[Advance]] = defaultdict(list)
    for adv in advances:
        groups[adv.year].append(adv)
    return sorted(groups.items(), reverse=True)


def sources(items) -> frozenset:
    """The source files of records (advances, pages, …), English bodies included."""
    out = set()
    for item in items:
        out.add(item.record.rel)
        if item.record.rel_en:
            out.add(item.record.rel_en)
        image = image_file(item)
        if image:
            out.add(image)
    return frozenset(out)


def image_file(item) -> str | None:
    """The project-relative file of a record's ``image:``, whose width and height are written into the pages
    showing it (sitegen/images.py)."""
    image = getattr(item, "meta", {}).get("image")
    if isinstance(image, str) and image:
        return posixpath.normpath(posixpath.join(posixpath.dirname(item.record.rel), image))
    return None


@dataclass(eq=False)
class Document:
    """A record with a Markdown body: its front-matter values read as attributes, its rendered HTML and TOC
    (filled by the markdown stage). Advances, pages, lectures and news items are documents."""

    record: Record
    slug: str
    meta: dict
    # The converted bodies (sitegen.mdcache.Converted; set by the markdown stage): their HTML and table of
    # contents stay in the Markdown cache until a page shows them.
    converted: Converted | None = None
    converted_en: Converted | None = None

    @property
    def html(self) -> str:
        return self.converted.html if self.converted else ""

    @property
    def toc(self) -> list:
        return self.converted.toc if self.converted else []

    @property
    def html_en(self) -> str | None:
        return self.converted_en.html if self.converted_en else None

    @property
    def toc_en(self) -> list:
        return self.converted_en.toc if self.converted_en else []

    def __getattr__(self, name):
        try:
            return self.__dict__["meta"][name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(eq=False)
class Advance(Document):
    categories: list[Term] = field(default_factory=list)
    industries: list[Term] = field(default_factory=list)
    society: Term | None = None
    organizations: list[Term] = field(default_factory=list)
    prev: "Advance | None" = None
    next: "Advance | None" = None
    position: int = 0  # 1-based place in its list (the rank when ranked)
    other_list: "Advance | None" = None
    related: list["Advance"] = field(default_factory=list)  # see sitegen/related.py
    image_size: tuple[int, int] | None = None  # (width, height) of image:, when known (sitegen/images.py)

    def __repr__(self) -> str:  # short: the generated repr walks prev/next/related/terms recursively
        return f"<Advance {self.record.rel}>"

    @property
    def top_categories(self) -> list[Term]:
        """The top-level categories of the advance (a sub-category counts as its parent), each once."""
        out: list[Term] = []
        for term in self.categories:
            top = term.parent or term
            if top not in out:
                out.append(top)
        return out

    @property
    def route(self) -> str:
        return urls.advance(self.meta["year"], self.slug)

    @property
    def image_route(self) -> str | None:
        """Where ``image:`` is copied: beside the page, under its file name (see sitegen/images.py)."""
        image = self.meta.get("image")
        return self.route + image.replace("\\", "/").rsplit("/", 1)[-1] if image else None

    @property
    def list_order(self) -> tuple:
        return self.sort_key()[2]

    def sort_key(self) -> tuple:
        """Newest year first, World before China, then rank (kept: the fields it reads never change)."""
        key = self.__dict__.get("_sort_key")
        if key is None:
            m = self.meta
            key = self.__dict__["_sort_key"] = (
                -m["year"], LISTS.index(m["list"]),
                (m["rank"] is None, m["rank"] or 0, m["order"] or 999, m["title"], self.record.rel))
        return key


@dataclass(eq=False)
class Page(Document):

    @property
    def route(self) -> str:
        return urls.page(self.slug)


@dataclass
class Year:
    year: int
    data: dict
    rel: str
    lists: dict[str, list[Advance]] = field(default_factory=dict)

    @property
    def route(self) -> str:
        return urls.year(self.year)

    def list_route(self, lst: str) -> str:
        return urls.year_list(self.year, lst)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.lists.values())


@dataclass
class Model:
    years: list[Year]  # newest first
    advances: list[Advance]  # newest year first, world before china, list order
    pages: list[Page]
    categories: list[Term]  # top level, in file order
    terms: dict[str, dict[str, Term]]  # kind → key → term (categories include sub-categories)
    # Lectures and news (sitegen/lectures.py, sitegen/news.py), added after build_model by site.load.
    lectures: list = field(default_factory=list)  # lectures.Lecture, chronological
    schedule: object = None  # lectures.Schedule: upcoming and past as of `now`
    now: object = None  # the build's now (sitegen/clock.py), an aware datetime
    news: list = field(default_factory=list)  # news.NewsItem, newest first
    news_per_page: int = 10  # page sizes of listings (config.yaml)
    term_per_page: int = 50

    @property
    def latest(self) -> Year | None:
        return self.years[0] if self.years else None

    def term_list(self, kind: str) -> list[Term]:
        return list(self.terms[kind].values())


_CJK_SPACE = re.compile(r"(?<=[\u3000-\u9fff]) | (?=[\u3000-\u9fff])")
_PUNCT = str.maketrans({"（": "(", "）": ")", "，": ",", "：": ":", "；": ";", "、": ",", "　": " "})


def normalise_org(name: str) -> str:
    """The grouping form of an organisation name: width-folded, punctuation and spaces unified."""
    text = unicodedata.normalize("NFKC", name).translate(_PUNCT)
    text = re.sub(r"\s+", " ", text).strip()
    return _CJK_SPACE.sub("", text)  # a space beside a Chinese character is a typo


def _terms_from(data: DataFile | None, kind: str) -> dict[str, Term]:
    out: dict[str, Term] = {}
    for key, values in (data.values if data else {}).items():
        extra = {k: v for k, v in values.items() if k in ("abbr", "website") and v}
        out[key] = Term(kind, key, key, values["name"] or key, values["name_en"], values.get("description"),
                        values.get("description_en"), extra=extra, source=data.rel)
    return out


def _categories(data: DataFile | None, problems: Problems) -> tuple[list[Term], dict[str, Term]]:
    top: list[Term] = []
    every: dict[str, Term] = {}
    for key, values in (data.values if data else {}).items():
        parent = Term("categories", key, key, values["name"] or key, values["name_en"], values.get("description"),
                      values.get("description_en"), source=data.rel)
        top.append(parent)
        if key in every:  # a sub-category of an earlier entry has this key
            problems.add(data.rel, data.line_of(key), key, "this key is used twice in the category tree",
                         "give every category and sub-category its own key")
        every[key] = parent
        for child_key, child in (values.get("children") or {}).items():
            if child_key in every:
                problems.add(data.rel, data.children_lines.get(child_key, 1), child_key,
                             "this key is used twice in the category tree",
                             "give every category and sub-category its own key")
                continue
            term = Term("categories", child_key, child_key, child["name"] or child_key, child["name_en"],
                        child.get("description"), child.get("description_en"), parent=parent, source=data.rel)
            parent.children.append(term)
            every[child_key] = term
    return top, every


def _lookup(record: Record, fld: str, keys: list[str], table: dict[str, Term], file: str,
            problems: Problems, checked: bool = True) -> list[Term]:
    """The terms of ``keys``; unknown keys are errors unless the file has errors itself (``checked``)."""
    found = []
    for key in keys:
        if key in table:
            found.append(table[key])
        elif checked:
            import difflib
            close = difflib.get_close_matches(key, list(table), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.add(record.rel, record.line_of(fld), fld, f"unknown key {key!r}",
                         f"{hint}use a key defined in {file}")
    return found


def build_model(content: Content, problems: Problems, drafts: bool = False) -> Model:
    categories, category_terms = _categories(content.categories, problems)
    terms: dict[str, dict[str, Term]] = {
        "categories": category_terms,
        "industries": _terms_from(content.industries, "industries"),
        "societies": _terms_from(content.societies, "societies"),
        "organizations": {},
    }

    # Advances: slugs, keys, sources. Keys are not checked against a taxonomy file that is missing or
    # has errors of its own: those are reported already, and every key would look unknown.
    checked = {name: bool(data and data.ok) for name, data in
               (("categories", content.categories), ("industries", content.industries),
                ("societies", content.societies))}
    advances: list[Advance] = []
    slugs_seen: dict[tuple[int, str], Advance] = {}
    for record in content.advances:
        meta = record.meta
        if meta.get("draft") and not drafts:
            continue
        if meta["year"] is None or meta["list"] is None or meta["title"] is None:
            continue  # already reported as required
        slug = record_slug(meta["slug"], meta["title_en"], record.stem, meta["title"])
        if not slug:
            problems.add(record.rel, record.line_of("title_en"), "slug", "no URL slug can be made from this record",
                         "add 'slug: short-english-name' or an English title_en")
            continue
        key = (meta["year"], slug)
        if key in slugs_seen:
            other = slugs_seen[key].record
            problems.add(record.rel, record.line_of("slug" if meta["slug"] else "title_en"), "slug",
                         f"the URL slug {slug!r} is already used by {other.rel}",
                         "set a different 'slug:' in one of the two files")
            continue
        adv = Advance(record, slug, meta)
        slugs_seen[key] = adv
        adv.categories = _lookup(record, "categories", meta["categories"], category_terms, "categories.yaml", problems,
                                 checked["categories"])
        adv.industries = _lookup(record, "industries", meta["industries"], terms["industries"], "industries.yaml",
                                 problems, checked["industries"])
        if meta["nominated_by"]:
            found = _lookup(record, "nominated_by", [meta["nominated_by"]], terms["societies"], "societies.yaml",
                            problems, checked["societies"])
            adv.society = found[0] if found else None
        if not meta["demo"] and not meta["source"] and not record.invalid & {"demo", "source"}:
            problems.add(record.rel, record.line_of("source"), "source",
                         "a real result needs the source it was published in",
                         "add 'source: {url: …, publisher: …}', or mark a sample record with 'demo: true'")
        advances.append(adv)

    # Organisations: grouped by normalised name, slugs unique and stable. An organisation is shown as
    # spelled in its newest advance (runs of spaces collapsed).
    org_names: dict[str, str] = {}
    for adv in sorted(advances, key=Advance.sort_key):
        for name in adv.meta["organizations"] or []:
            org_names.setdefault(normalise_org(name), " ".join(name.split()))
    org_slugs = unique_slugs(list(org_names))
    for norm, slug in org_slugs.items():
        terms["organizations"][norm] = Term("organizations", norm, slug, org_names[norm])
    for adv in advances:
        adv.organizations = [terms["organizations"][normalise_org(n)] for n in adv.meta["organizations"] or []]

    # Years and lists.
    grouped: dict[tuple[int, str], list[Advance]] = defaultdict(list)
    for adv in advances:
        grouped[(adv.meta["year"], adv.meta["list"])].append(adv)
    years: dict[int, Year] = {}
    for y, data in content.years.items():
        years[y] = Year(y, data.values, data.rel, {lst: [] for lst in LISTS})
    for (y, lst), members in sorted(grouped.items()):
        if y not in years:
            first = min(members, key=lambda a: a.record.rel).record
            problems.add(first.rel, first.line_of("year"), "year", f"there is no year file for {y}",
                         f"create content/years/{y}.yaml with at least 'year: {y}'")
            years[y] = Year(y, {"year": y}, "", {name: [] for name in LISTS})
        members.sort(key=lambda a: a.list_order)
        ranks: dict[int, Advance] = {}
        for adv in members:
            rank = adv.meta["rank"]
            if rank is not None and rank in ranks:
                problems.add(adv.record.rel, adv.record.line_of("rank"), "rank",
                             f"rank {rank} of the {y} {lst} list is also given to {ranks[rank].record.rel}",
                             "give each advance of a list its own rank")
            elif rank is not None:
                ranks[rank] = adv
        if len(members) > MAX_PER_LIST:
            for adv in members[MAX_PER_LIST:]:
                problems.add(adv.record.rel, adv.record.line_of("list"), "list",
                             f"the {y} {lst} list has {len(members)} advances, at most {MAX_PER_LIST} are allowed",
                             "move this advance to the other list or another year, or mark it draft: true")
        for index, adv in enumerate(members):
            adv.position = adv.meta["rank"] or index + 1
            adv.prev = members[index - 1] if index else None
            adv.next = members[index + 1] if index + 1 < len(members) else None
        years[y].lists[lst] = members

    # The same advance on both lists.
    by_file = {f"{a.meta['year']}/{a.record.stem}": a for a in advances}
    for adv in advances:
        target = adv.meta["also_in"]
        if not target:
            continue
        other = by_file.get(target.removesuffix(".md"))
        if other is None or other is adv:
            problems.add(adv.record.rel, adv.record.line_of("also_in"), "also_in",
                         f"{target!r} is not another advance", "write <year>/<file name without .md>")
        else:
            adv.other_list, other.other_list = other, adv
    link_same_titles(advances)

    # Term membership.
    ordered = sorted(advances, key=Advance.sort_key)
    for adv in ordered:
        for term in adv.categories + adv.industries + adv.organizations + ([adv.society] if adv.society else []):
            term.advances.append(adv)
    related_advances(ordered)

    # Pages.
    pages: list[Page] = []
    page_slugs: dict[str, Page] = {}
    reserved = {"years", "advances", "en", "search", "data", "static", "assets", "stats", *TERM_KINDS,
                "lectures", "news", "css", "js"}  # a page there would replace (or be) another file (pagefind/:
    # refused by the search stage)
    for record in content.pages:
        meta = record.meta
        if meta.get("draft") and not drafts:
            continue
        slug = meta["slug"] or record_slug(None, None, record.stem)
        if slug in reserved or slug in page_slugs:
            owner = page_slugs[slug].record.rel if slug in page_slugs else "the site's own pages"
            problems.add(record.rel, record.line_of("slug"), "slug", f"the URL /{slug}/ is already used by {owner}",
                         "set another 'slug:' or rename the file")
            continue
        page_slugs[slug] = Page(record, slug, meta)
        pages.append(page_slugs[slug])
    pages.sort(key=lambda p: (p.meta["order"], p.slug))

    return Model(
        years=[years[y] for y in sorted(years, reverse=True)],
        advances=ordered,
        pages=pages,
        categories=categories,
        terms={kind: dict(sorted(table.items(), key=lambda kv: kv[1].slug)) if kind == "organizations" else table
               for kind, table in terms.items()},
    )
