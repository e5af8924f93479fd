"""The render stage: plan every page of both languages, then render each with Jinja2.

``plan`` lists :class:`Job` s — route, language, template, context and the source files the page
depends on — without rendering anything, so the writer (and the incremental rebuild) can decide
what to render.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from . import urls
from .config import Config
from .errors import SitegenError
from .contenttypes import LISTS
from .model import TERM_KINDS, Model, by_year, image_file, sources
from .pagination import paginate
from .stats import stats_page
from .lectures import lecture_pages
from .news import news_pages
from .search import search_pages
from .theme import LANGS, Theme


@dataclass
class Job:
    route: str
    lang: str
    template: str
    context: dict = field(default_factory=dict)
    deps: frozenset = frozenset()  # the source files the page reads, but for the common ones and its template's

    @functools.cached_property
    def output(self) -> str:
        return urls.Urls.output_file(urls.Urls.localise(self.route, self.lang))


class Renderer:
    def __init__(self, config: Config, theme: Theme, model: Model):
        self.config, self.theme, self.model = config, theme, model
        self.urls = urls.Urls(config.base_path, config.origin)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(theme.template_dirs),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            bytecode_cache=_bytecode_cache(config.cache_path),
        )
        self._memo: dict = {}
        self._jobs: list[Job] | None = None
        self.env.globals.update(site=config.values, model=model, lists=LISTS, langs=LANGS,
                                asset=self.asset, term_kinds=TERM_KINDS, memo=self._memo_one, memo_each=self._memo_each,
                                page_routes=frozenset(page.route for page in model.pages))
        self.env.globals["file_url"] = lambda route: self.urls.asset(route)  # language-neutral files (data/…)
        # json: safe inside <script> too (a "</script>" in a value cannot close the element).
        self.env.filters.update(date=self._date, json=lambda v: Markup(
            json.dumps(v, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")))

    @property
    def jobs(self) -> list[Job]:
        """The pages of the site (the build's own plan when it set one, else planned once here)."""
        if self._jobs is None:
            self._jobs = plan(self.model, frozenset())
        return self._jobs

    @jobs.setter
    def jobs(self, jobs: list[Job]) -> None:
        self._jobs = jobs

    def reset(self) -> None:
        """Forget the fragments of the previous build (a preview renders again with the same renderer)."""
        self._memo.clear()

    @jinja2.pass_context
    def _memo_one(self, context, make, *key) -> Markup:
        """``make()`` (a macro), rendered once per language and ``key`` and kept for the other pages: the parts of
        every page that do not depend on the page (its brand and search form, navigation and footer; see
        base.html). The key must hold whatever the macro's output depends on besides the language."""
        full = (make.name, context["lang"], key)
        hit = self._memo.get(full)
        if hit is None:
            hit = self._memo[full] = make()
        return hit

    @jinja2.pass_context
    def _memo_each(self, context, make, records, *args) -> Markup:
        """``make(record, *args)`` for each of ``records`` (macro output), joined; each fragment is rendered once
        per language and arguments and kept for the other pages that show it (an advance's list item is on its
        year, list and term pages). The lookup is done here, not in the template: a macro call per item cost
        a term page of 50 advances a third of its time."""
        memo, lang, out = self._memo, context["lang"], []
        for record in records:
            key = (make.name, record.record.rel, lang, args)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = make(record, *args)
            out.append(hit)
        return Markup("".join(out))

    def compile(self, names) -> None:
        """Load (and so compile) templates up front; problems are reported when their pages render."""
        for name in sorted(names):
            try:
                self.env.get_template(name)
            except jinja2.TemplateError:
                pass

    def asset(self, name: str) -> str:
        return self.urls.asset(self.theme.assets[name][0])

    def _date(self, value, lang: str = "zh") -> str:
        """A date in the language's ``date_format`` UI string (``month_names`` gives month names)."""
        if not isinstance(value, (dt.date, dt.datetime)):
            return str(value)
        strings = self.theme.strings[lang]
        months = strings["month_names"].split()
        return strings["date_format"].format(year=value.year, month=value.month, day=value.day,
                                             month_name=months[value.month - 1])

    def context_for(self, job: Job) -> dict:
        lang = job.lang
        strings = self.theme.strings[lang]

        def t(key: str, **kwargs) -> str:
            if kwargs.get("n") == 1 and key + "_one" in strings:  # the singular, where the language has one
                key += "_one"
            text = strings.get(key)
            if text is None:
                raise KeyError(f"UI string {key!r} is missing from the {lang} translation file")
            return text.format(**kwargs) if kwargs else text

        def url(route: str, in_lang: str | None = None) -> str:
            return self.urls.url(route, in_lang or lang)

        def loc(obj, name: str):
            """The value of ``name`` in this language, falling back visibly to Chinese."""
            zh = _get(obj, name)
            if lang == "zh":
                return zh
            en = _get(obj, name + "_en")
            if en:
                return en
            if not zh:
                return zh
            if isinstance(zh, list):
                return zh
            return Markup('<span lang="zh">{}</span> <span class="fallback">{}</span>').format(
                zh, t("fallback_zh"))

        return {
            **job.context,
            "lang": lang,
            "route": job.route,
            "t": t,
            "url": url,
            "abs_url": lambda route, in_lang=None: self.urls.absolute(route, in_lang or lang),
            "loc": loc,
            "page_url": self.urls.url(job.route, lang),
            "alternates": {code: self.urls.url(job.route, code) for code in LANGS},
            "canonical": self.urls.absolute(job.route, lang),
        }

    def render(self, job: Job) -> bytes:
        try:
            template = self.env.get_template(job.template)
            return template.render(self.context_for(job)).encode("utf-8")
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(f"{_theme_rel(exc.filename)}:{exc.lineno}: template syntax error: {exc.message}") from None
        except (jinja2.TemplateError, KeyError, TypeError, AttributeError, ValueError) as exc:
            frame = _template_frame(exc.__traceback__)
            where = f"{_theme_rel(frame[0])}:{frame[1]}" if frame else job.template
            raise RenderError(f"{where}: {type(exc).__name__}: {exc} (while rendering "
                              f"/{urls.Urls.localise(job.route, job.lang)})") from None


def _bytecode_cache(cache_path: Path) -> jinja2.BytecodeCache | None:
    """Compiled templates kept in the cache folder (keyed by Jinja on each template's name and source): a
    process that renders a few pages (a one-shot build after an edit) skips compiling them (0.3 s for the
    default theme). None where the folder cannot be made: templates are compiled as without it."""
    folder = cache_path / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder), "%s.cache")


class RenderError(SitegenError):
    """A template failed; the message names the template file and line."""


def _theme_rel(filename: str | None) -> str:
    if not filename:
        return "template"
    parts = Path(filename).parts
    return "/".join(parts[parts.index("themes"):]) if "themes" in parts else filename


def _template_frame(tb) -> tuple[str, int] | None:
    found = None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith((".html", ".xml", ".txt")):
            found = (name, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _get(obj, name: str):
    if isinstance(obj, dict):
        return obj.get(name)
    value = getattr(obj, name, None)
    if value is None and hasattr(obj, "meta"):
        value = obj.meta.get(name)
    return value


DATA_FILES = frozenset(f"content/{n}" for n in ("categories.yaml", "industries.yaml", "societies.yaml"))


def listed(add, advances) -> frozenset:
    """What a page listing ``advances`` depends on: their files, and what each item shows that other
    records decide (its place in an unranked list, its organisations' spelling and links)."""
    out: set = set()
    for adv in advances:
        deps = add.memo.get(adv)
        if deps is None:  # once per advance: most are listed on several pages
            deps = add.memo[adv] = add.fronts([adv]) | {add.derived(
                f"@item:{adv.record.rel}", adv.position, [(o.name, o.slug) for o in adv.organizations])}
        out |= deps
    return frozenset(out)


def core_pages(model: Model, add) -> None:
    """Home, years, dual views, lists, advances, term pages, static pages and the 404 page."""
    everything = add.fronts(model.advances) | DATA_FILES | frozenset(y.rel for y in model.years if y.rel)
    latest = model.latest
    add(urls.home(), "home.html", ((listed(add, (a for lst in latest.lists.values() for a in lst)) | {latest.rel}
                                    | DATA_FILES) if latest else frozenset())
        | add.fronts(model.lectures) | add.fronts(model.news), year=latest)  # home shows lectures and news too
    add(urls.years(), "years.html", everything, years=model.years)
    for year in model.years:
        deps = listed(add, (a for lst in year.lists.values() for a in lst)) | DATA_FILES | (
            {year.rel} if year.rel else set())
        add(year.route, "year.html", deps, year=year)
        for lst in LISTS:
            add(year.list_route(lst), "list.html", deps, year=year, list_name=lst, advances=year.lists[lst])
    for adv in model.advances:
        # Its own files (the body is shown here only), and what it shows of its neighbours and of the related
        # advances (chosen among all advances sharing a term): their front matter.
        neighbours = [a for a in (adv.prev, adv.next, adv.other_list, *adv.related) if a]
        add(adv.route, "advance.html", sources([adv]) | listed(add, [adv, *neighbours]) | DATA_FILES, advance=adv)
    for kind in TERM_KINDS:
        add(urls.term_index(kind), "terms.html", everything, kind=kind,
            terms=model.categories if kind == "categories" else model.term_list(kind))
        for term in model.term_list(kind):
            # A page depends on the advances it shows, and on the term's members in order: which advances
            # are on which page, the count, the name (an organisation is spelled as in its newest advance).
            members = term.all_advances()
            order = add.derived(f"@members:{term.route}", term.name, [a.record.rel for a in members])
            for page in paginate(members, model.term_per_page, term.route):
                add(page.route, "term.html", listed(add, page.items) | DATA_FILES | {order}, kind=kind, term=term,
                    term_page=page, groups=by_year(page.items))
    for page in model.pages:
        add(page.route, "page.html", sources([page]), page=page)
    add(urls.not_found(), "404.html", set())


# Each planner adds the pages of one section of the site: planner(model, add) where
# add(route, template, deps, **context) registers one page (rendered in each language), see Plan.
PLANNERS = [core_pages, stats_page, lecture_pages, news_pages, search_pages]


class Plan:
    """The pages being planned; planners call it as ``add(route, template, deps, **context)``.

    ``deps`` are project-relative files, and *derived sources* (``add.derived``): values computed across
    records, such as a term's members in order. A derived source is fingerprinted like a file, so a page
    that depends on one is re-rendered when the value changes, even when none of its own files did.
    """

    def __init__(self, base: frozenset):
        self.base = base
        self.pages: list[tuple] = []
        self.values: dict[str, str] = {}  # derived source → sha256 of its value
        self.memo: dict = {}  # for planners: what they compute once per record (see listed)

    def __call__(self, route: str, template: str, deps, **context) -> None:
        self.pages.append((route, template, context, frozenset(deps)))

    def derived(self, name: str, *value) -> str:
        self.values[name] = hashlib.sha256(repr(value).encode("utf-8")).hexdigest()
        return name

    def fronts(self, items) -> frozenset:
        """What a page that lists ``items`` (records) depends on: their front matter — one derived source per
        record, ``@front:<file>`` — and their images, not their bodies, which only their own pages show
        (those depend on the files: :func:`sitegen.model.sources`). An edit of a body re-renders its own
        pages only; of front matter, every page listing the record."""
        out = set()
        for item in items:
            record = item.record
            name = "@front:" + record.rel
            self.values[name] = record.front
            out.add(name)
            image = image_file(item)
            if image:
                out.add(image)
        return frozenset(out)


def plan(model: Model, base_deps: frozenset, derived: dict | None = None, common: set | None = None) -> list[Job]:
    """Every page of the site in both languages, with the source files each depends on.

    ``base_deps`` are files every page depends on (config, UI strings, static files); with the navigation's
    pages they are put in ``common``, not in each page's own dependencies (nor is its template: see
    sitegen.incremental). The planners run once; each page they add becomes one job per language (all Chinese
    jobs first), the two sharing one set of dependencies. The values of derived sources are put in
    ``derived`` (see :class:`Plan`).
    """
    add = Plan(base_deps)
    add.base |= add.fronts(model.pages)  # the navigation lists every page
    for planner in PLANNERS:
        planner(model, add)
    if derived is not None:
        derived.update(add.values)
    if common is not None:
        common.update(add.base)
    return [Job(route, lang, template, context, deps) for lang in LANGS for route, template, context, deps in add.pages]


def theme_rel_files(theme: Theme, root: Path) -> frozenset:
    return frozenset(p.relative_to(root).as_posix() for p in theme.files())
