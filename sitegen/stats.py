"""The statistics page: counts from the model and charts drawn at build time as inline SVG.

No chart library runs in the browser. Each chart is an ``<svg role="img">`` with a ``<title>`` and a
``<desc>`` (referenced by ``aria-labelledby`` / ``aria-describedby``); the page shows a table with the
same numbers beneath every chart, which is the text alternative. The SVGs scale with their container
(``viewBox`` + ``width="100%"``), so they read on a 375 px phone.

Counting rules (documented on the page and in the README):

* *Advances per top-level category per year*: an advance counts once in every top-level category it
  carries, directly or through a sub-category. An advance classified in two groups therefore counts in
  both, and a bar can be taller than the number of advances (which the table gives separately).
  Advances without a category are shown as their own series.
* *Industries*: the number of advances that name the industry, and that number as a share of all
  advances (shares add up to more than 100 % because an advance may name several industries).
* *Societies*: the number of advances each society nominated; advances that name none are counted in
  the table.

UI strings (titles, descriptions) are passed in by the template, so none live in this module.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from markupsafe import Markup, escape

from . import urls
from .contenttypes import LISTS
from .model import Model, Term

# Series colours. Every one has a contrast ratio of at least 4.5:1 against the white page (WCAG AA
# asks 3:1 for graphics; 4.5:1 would even carry white text). Adjacent segments are separated by a
# white gap, so each colour only ever touches white. Checked by tests/test_stats.py.
PALETTE = ("#0072b2", "#b35900", "#00785a", "#8e4585", "#a3221b", "#00838f", "#6a3d9a", "#7a4b00")
LIST_COLOURS = {"world": "#0b4f8a", "china": "#a3221b"}  # the site's list colours (site.css)
NONE_COLOUR = "#5f6b76"  # advances without a category
INK = "#1a1f24"  # text
MUTED = "#4d5761"  # axis labels (7:1 on white)
GRID = "#d5dbe1"  # decorative grid lines
BACKGROUND = "#ffffff"

Loc = Callable[[object, str], str]


@dataclass
class Series:
    """One stacked series: a term (or None for "uncategorised"), its colour and one count per column."""

    term: Term | None
    colour: str
    counts: list[int]

    @property
    def key(self) -> str:
        return self.term.key if self.term else ""

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class CategoryChart:
    """Advances of one list per top-level category (series) and year (columns, oldest first)."""

    list_name: str
    years: list[int]
    series: list[Series]
    advances: list[int]  # distinct advances of the list per year

    @property
    def stack_totals(self) -> list[int]:
        return [sum(s.counts[i] for s in self.series) for i in range(len(self.years))]


@dataclass
class Row:
    """One bar of a horizontal chart: a term and its count on each list."""

    term: Term
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Stats:
    years: list[int]
    totals: dict[str, int]  # advances per list
    categories: dict[str, CategoryChart]  # list → chart
    industries: list[Row]
    societies: list[Row]
    no_society: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    list_colours = LIST_COLOURS

    @property
    def legend(self) -> list[Series]:
        """The category series of both lists, each once, in chart order (for the shared legend)."""
        out: dict[str, Series] = {}
        for chart in self.categories.values():
            for series in chart.series:
                out.setdefault(series.key, series)
        return list(out.values())

    def share(self, count: int) -> str:
        """``count`` as a whole-number percentage of all advances."""
        return f"{round(100 * count / self.total) if self.total else 0}%"

    # The charts. ``t`` and ``loc`` are the template's UI-string and localisation functions.
    def category_svg(self, list_name: str, t, loc: Loc) -> Markup:
        chart = self.categories[list_name]
        labels = [_plain(loc(s.term, "name")) if s.term else t("stats_uncategorised") for s in chart.series]
        return stacked_columns(
            f"chart-categories-{list_name}", chart, labels,
            title=t("stats_categories_chart_title", list=t("list_" + list_name)),
            desc=t("stats_categories_chart_desc", list=t("list_" + list_name), first=chart.years[0] if chart.years else "",
                   last=chart.years[-1] if chart.years else ""),
        )

    def industry_svg(self, t, loc: Loc) -> Markup:
        return hbars("chart-industries", self.industries, loc,
                     value=lambda row: f"{row.total} · {self.share(row.total)}",
                     title=t("stats_industries_chart_title"), desc=t("stats_industries_chart_desc", n=self.total),
                     list_names=[t("list_" + lst) for lst in LISTS])

    def society_svg(self, t, loc: Loc) -> Markup:
        return hbars("chart-societies", self.societies, loc, value=lambda row: str(row.total),
                     title=t("stats_societies_chart_title"), desc=t("stats_societies_chart_desc", n=self.total),
                     list_names=[t("list_" + lst) for lst in LISTS])


def compute(model: Model) -> Stats:
    """Count everything the page shows from the model (drafts are already left out by the model).

    One pass over the advances: the counts are keyed by (list, year, category) and (term, list).
    """
    years = sorted(y.year for y in model.years)
    totals = dict.fromkeys(LISTS, 0)
    per_year: Counter = Counter()  # (list, year) → advances
    per_category: Counter = Counter()  # (list, year, top-level category key or None) → advances
    per_term: Counter = Counter()  # (id of term, list) → advances
    no_society = dict.fromkeys(LISTS, 0)
    for adv in model.advances:
        lst, year = adv.meta["list"], adv.meta["year"]
        totals[lst] += 1
        per_year[lst, year] += 1
        for top in adv.top_categories:
            per_category[lst, year, top.key] += 1
        if not adv.categories:
            per_category[lst, year, None] += 1
        for term in {id(t): t for t in adv.industries}:
            per_term[term, lst] += 1
        if adv.society is None:
            no_society[lst] += 1
        else:
            per_term[id(adv.society), lst] += 1

    charts: dict[str, CategoryChart] = {}
    for lst in LISTS:
        series = [Series(top, PALETTE[index % len(PALETTE)], [per_category[lst, y, top.key] for y in years])
                  for index, top in enumerate(model.categories)]
        none = [per_category[lst, y, None] for y in years]
        if any(none):
            series.append(Series(None, NONE_COLOUR, none))
        charts[lst] = CategoryChart(lst, years, series, [per_year[lst, y] for y in years])

    def rows(kind: str) -> list[Row]:
        out = [Row(term, {lst: per_term[id(term), lst] for lst in LISTS}) for term in model.term_list(kind)]
        order = {id(r.term): i for i, r in enumerate(out)}
        return sorted(out, key=lambda r: (-r.total, order[id(r.term)]))

    return Stats(years, totals, charts, rows("industries"), rows("societies"), no_society)


def _plain(value) -> str:
    """Text of a label (``loc`` may return Markup with a language fallback marker)."""
    return Markup(value).striptags() if isinstance(value, Markup) else str(value)


def nice_step(top: int, ticks: int = 4) -> int:
    """A 1-2-5 step giving at most ``ticks`` intervals up to ``top``."""
    step = 1
    while True:
        for mult in (1, 2, 5):
            if top <= step * mult * ticks:
                return step * mult
        step *= 10


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg_open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg class="chart" role="img" aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-desc" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<rect width="{width}" height="{height}" fill="{BACKGROUND}"/>',
    ]


def stacked_columns(chart_id: str, chart: CategoryChart, labels: list[str], title: str, desc: str) -> Markup:
    """Vertical stacked bars: one column per year, one segment per series (first series at the bottom)."""
    width, height = 380, 280
    left, right, top, bottom = 34, 8, 26, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    stacks = chart.stack_totals
    step = nice_step(max(stacks, default=0) or 1)
    y_max = max(step, -(-max(stacks, default=0) // step) * step)
    scale = plot_h / y_max
    out = _svg_open(chart_id, width, height, title, desc)
    base = top + plot_h
    out.append(f'<g font-size="14" fill="{MUTED}" text-anchor="end">')
    for value in range(0, y_max + 1, step):
        y = base - value * scale
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{_num(y)}" y2="{_num(y)}" stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{_num(y + 5)}">{value}</text>')
    out.append("</g>")
    slot = plot_w / max(len(chart.years), 1)
    bar = min(44.0, slot * 0.62)
    for index, year in enumerate(chart.years):
        x = left + slot * index + (slot - bar) / 2
        y = float(base)
        out.append(f'<g class="column" data-year="{year}">')
        for series, label in zip(chart.series, labels):
            count = series.counts[index]
            if not count:
                continue
            h = count * scale
            y -= h
            out.append(f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(bar)}" height="{_num(h)}" fill="{series.colour}" '
                       f'stroke="{BACKGROUND}" stroke-width="1.5" data-series="{escape(series.key)}" data-count="{count}">'
                       f'<title>{year} · {escape(label)}: {count}</title></rect>')
        out.append(f'<text x="{_num(x + bar / 2)}" y="{_num(y - 6)}" font-size="14" font-weight="700" fill="{INK}" '
                   f'text-anchor="middle">{stacks[index]}</text>')
        out.append(f'<text x="{_num(x + bar / 2)}" y="{height - 9}" font-size="14" fill="{INK}" '
                   f'text-anchor="middle">{year}</text>')
        out.append("</g>")
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="{MUTED}" stroke-width="1"/>')
    out.append("</svg>")
    return Markup("\n".join(out))


def hbars(chart_id: str, rows: list[Row], loc: Loc, value: Callable[[Row], str], title: str, desc: str,
          list_names: list[str]) -> Markup:
    """Horizontal bars, one per row, each split into the World and China counts; the label sits above
    its bar so long names never need truncating."""
    width, row_h, top = 420, 46, 8
    label_w = 96  # room for the value label at the end of the longest bar
    height = top + row_h * len(rows) + 4
    biggest = max((r.total for r in rows), default=0) or 1
    scale = (width - label_w) / biggest
    out = _svg_open(chart_id, width, height, title, desc)
    for index, row in enumerate(rows):
        y = top + row_h * index
        name = _plain(loc(row.term, "name"))
        out.append(f'<g class="bar" data-key="{escape(row.term.key)}" data-count="{row.total}">')
        out.append(f'<text x="0" y="{y + 15}" font-size="14" fill="{INK}">{escape(name)}</text>')
        x = 0.0
        for lst, list_name in zip(LISTS, list_names):
            count = row.counts.get(lst, 0)
            if not count:
                continue
            w = count * scale
            out.append(f'<rect x="{_num(x)}" y="{y + 21}" width="{_num(w)}" height="18" fill="{LIST_COLOURS[lst]}" '
                       f'stroke="{BACKGROUND}" stroke-width="1.5" data-list="{lst}" data-count="{count}">'
                       f'<title>{escape(name)} · {escape(list_name)}: {count}</title></rect>')
            x += w
        out.append(f'<text x="{_num(x + 6)}" y="{y + 35}" font-size="14" fill="{INK}">{escape(value(row))}</text>')
        out.append("</g>")
    out.append("</svg>")
    return Markup("\n".join(out))


def stats_page(model: Model, add) -> None:
    """Planner: the statistics page, in both languages."""
    from .render import DATA_FILES  # render imports this module for its planner list

    deps = add.fronts(model.advances) | DATA_FILES | {y.rel for y in model.years if y.rel}
    add(urls.stats(), "stats.html", deps, stats=compute(model))
