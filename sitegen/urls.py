"""Every URL of the site is made here.

The rule: pages link to each other with root-relative URLs that include the base URL's path
(``/imac/dual-top10/years/2021/``), so the site works under any sub-path; canonical links, Open Graph,
sitemap and feeds use absolute URLs (``https://example.org/imac/dual-top10/years/2021/``).
A *route* is the site-relative path of a page (``years/2021/``, ``404.html``); English pages live under
``en/``.
"""

from __future__ import annotations

from posixpath import normpath

LANG_PREFIX = {"zh": "", "en": "en/"}


class Urls:
    def __init__(self, base_path: str, origin: str):
        self.base_path = base_path
        self.origin = origin

    @staticmethod
    def localise(route: str, lang: str) -> str:
        return LANG_PREFIX[lang] + route

    def url(self, route: str, lang: str = "zh") -> str:
        """Root-relative URL of a route in a language."""
        return self.base_path + self.localise(route, lang)

    def absolute(self, route: str, lang: str = "zh") -> str:
        return self.origin + self.url(route, lang)

    def asset(self, name: str) -> str:
        return self.base_path + name

    @staticmethod
    def output_file(route: str) -> str:
        """The file a route is written to, relative to the output folder; never escapes it."""
        path = route + "index.html" if route == "" or route.endswith("/") else route
        clean = normpath(path)
        if clean.startswith(("../", "/")) or clean == ".." or "\\" in clean or "\x00" in clean:
            raise ValueError(f"route {route!r} escapes the output folder")
        return clean


# Routes of every page type (site-relative, language-neutral).
def home() -> str:
    return ""


def years() -> str:
    return "years/"


def year(y: int) -> str:
    return f"years/{y}/"


def year_list(y: int, lst: str) -> str:
    return f"years/{y}/{lst}/"


def advance(y: int, slug: str) -> str:
    return f"advances/{y}/{slug}/"


def term_index(kind: str) -> str:
    return f"{kind}/"


def term(kind: str, slug: str) -> str:
    return f"{kind}/{slug}/"


def page(slug: str) -> str:
    return f"{slug}/"


def not_found() -> str:
    return "404.html"


def stats() -> str:
    return "stats/"


def data_file(name: str) -> str:
    """An open-data download (``data/advances.json``): one file for both languages, never under ``en/``."""
    return f"data/{name}"


# IMAC cloud lectures and news (sitegen/lectures.py, sitegen/news.py).
def lectures() -> str:
    return "lectures/"


def lecture(slug: str) -> str:
    return f"lectures/{slug}/"


def lecture_ics(slug: str) -> str:
    """The single-lecture calendar file ("add to calendar")."""
    return f"lectures/{slug}.ics"


def lectures_ics() -> str:
    """The subscribable calendar of every dated lecture."""
    return "lectures/lectures.ics"


def paged(route: str, number: int) -> str:
    """Page ``number`` of the listing at ``route`` (page 1 is the listing itself)."""
    return route if number == 1 else f"{route}page/{number}/"


def news(page: int = 1) -> str:
    return paged("news/", page)


def news_item(slug: str) -> str:
    return f"news/{slug}/"


def feed() -> str:
    """The Atom feed of the news."""
    return "feed.xml"


def search() -> str:
    return "search/"


def search_bundle() -> str:
    """The Pagefind bundle (script and indexes of both languages): one folder at the site root.

    Not localised: ``url(search_bundle(), 'zh')`` is its address from any page of either language.
    """
    return "pagefind/"
