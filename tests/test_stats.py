"""sitegen.stats: the /stats/ page (issue 3).

The numbers in the page's tables are checked against counts computed here from the content files
(tests/discovery_helpers.py reads them with PyYAML), for the fixture site tests/sites/discovery/ and for
the bundled content, whatever it holds. The SVG charts must carry the same numbers, be labelled for
assistive technology, scale with their container, and use colours with enough contrast.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from discovery_helpers import LISTS, REPO, build_bundled, build_site, parse, read_content
from sitegen import stats

SVG_NS = "{http://www.w3.org/2000/svg}"


def luminance(colour: str) -> float:
    r, g, b = (int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_of_known_colours():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54  # the classic AA grey


@pytest.mark.parametrize("colour", [*stats.PALETTE, *stats.LIST_COLOURS.values(), stats.NONE_COLOUR])
def test_series_colours_pass_wcag_aa_against_the_background(colour):
    # WCAG 1.4.11 asks 3:1 for graphics; these even reach 4.5:1 (1.4.3, text), so a label could sit on them.
    assert contrast(colour, stats.BACKGROUND) >= 4.5, colour


@pytest.mark.parametrize("colour", [stats.INK, stats.MUTED])
def test_chart_text_colours_pass_wcag_aa(colour):
    assert contrast(colour, stats.BACKGROUND) >= 4.5


def test_palette_colours_are_distinct():
    assert len(set(stats.PALETTE)) == len(stats.PALETTE)
    assert stats.NONE_COLOUR not in stats.PALETTE


@pytest.mark.parametrize("top, step", [(1, 1), (4, 1), (5, 2), (8, 2), (9, 5), (19, 5), (20, 5), (21, 10),
                                       (105, 50)])
def test_nice_step(top, step):
    assert stats.nice_step(top) == step


# --- the page, against the content files -------------------------------------------------------------

@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory) -> tuple[Path, Path]:
    site = build_site(tmp_path_factory.mktemp("stats-fixture"))
    return site / "output", site / "content"


@pytest.fixture(scope="module")
def bundled_site(tmp_path_factory) -> tuple[Path, Path]:
    return build_bundled(tmp_path_factory.mktemp("stats-bundled")), REPO / "content"


@pytest.fixture(params=["fixture", "bundled"])
def built(request) -> tuple[Path, Path]:
    return request.getfixturevalue(f"{request.param}_site")


def numbers(cells: list[str]) -> list[int]:
    return [int(c) for c in cells]


def test_category_tables_equal_counts_from_the_content_files(built):
    output, content_dir = built
    content = read_content(content_dir)
    page = parse(output / "stats/index.html")
    years = content.years
    for lst in LISTS:
        rows = page.tables[f"table-categories-{lst}"]
        header, body = rows[0], {key: cells for key, cells in rows[1:]}
        assert header[1][1:-1] == [str(y) for y in years]
        members = [a for a in content.advances if a.meta["list"] == lst]
        expected_keys = list(content.tops)
        if any(not a.meta.get("categories") for a in members):
            expected_keys.append("")
        assert [key for key, _ in rows[1:-2]] == expected_keys
        sums = [0] * len(years)
        for top in content.tops:
            counts = [sum(1 for a in members if a.year == y and top in content.tops_of(a)) for y in years]
            assert numbers(body[top][1:]) == counts + [sum(counts)], (lst, top)
            sums = [s + c for s, c in zip(sums, counts)]
        if "" in body:
            counts = [sum(1 for a in members if a.year == y and not a.meta.get("categories")) for y in years]
            assert numbers(body[""][1:]) == counts + [sum(counts)]
            sums = [s + c for s, c in zip(sums, counts)]
        assert numbers(body["sum"][1:]) == sums + [sum(sums)]
        advances = [sum(1 for a in members if a.year == y) for y in years]
        assert numbers(body["advances"][1:]) == advances + [len(members)]


def test_industry_table_equals_counts_from_the_content_files(built):
    output, content_dir = built
    content = read_content(content_dir)
    rows = parse(output / "stats/index.html").tables["table-industries"]
    total = len(content.advances)
    expected = []
    for index, key in enumerate(content.industries):
        per_list = [sum(1 for a in content.advances if a.meta["list"] == lst and key in (a.meta.get("industries") or []))
                    for lst in LISTS]
        expected.append((-sum(per_list), index, key, per_list))
    expected.sort()
    body = rows[1:-1]
    assert [key for key, _ in body] == [key for *_, key, _ in expected]  # most advances first, ties in file order
    for (key, cells), (neg_total, _, _, per_list) in zip(body, expected):
        assert numbers(cells[1:4]) == per_list + [-neg_total], key
        assert cells[4] == f"{round(100 * -neg_total / total)}%", key
    assert numbers(rows[-1][1][1:4]) == [sum(1 for a in content.advances if a.meta["list"] == lst) for lst in LISTS] + [total]


def test_society_table_equals_counts_from_the_content_files(built):
    output, content_dir = built
    content = read_content(content_dir)
    rows = parse(output / "stats/index.html").tables["table-societies"]
    body = {key: numbers(cells[1:]) for key, cells in rows[1:]}
    assert [key for key, _ in rows[1:-2]] == sorted(
        content.societies, key=lambda k: (-sum(1 for a in content.advances if a.meta.get("nominated_by") == k),
                                          content.societies.index(k)))
    for key in content.societies:
        per_list = [sum(1 for a in content.advances if a.meta["list"] == lst and a.meta.get("nominated_by") == key)
                    for lst in LISTS]
        assert body[key] == per_list + [sum(per_list)], key
    none = [sum(1 for a in content.advances if a.meta["list"] == lst and not a.meta.get("nominated_by")) for lst in LISTS]
    assert body["none"] == none + [sum(none)]


def test_fixture_numbers_by_hand(fixture_site):
    """A few numbers of the fixture worked out by hand, so the independent counting above is checked too."""
    page = parse(fixture_site[0] / "stats/index.html")
    world = {k: c for k, c in page.tables["table-categories-world"][1:]}
    assert world["equipment"][1:] == ["0", "3", "3"]  # 2020: none; 2021: five-axis, vision-welding, melt-pool
    assert world["key-tech"][1:] == ["2", "1", "3"]
    assert world["advances"][1:] == ["2", "4", "6"]
    china = {k: c for k, c in page.tables["table-categories-china"][1:]}
    assert china[""][1:] == ["1", "0", "1"]  # the uncategorised advance; the draft is left out
    industries = {k: c for k, c in page.tables["table-industries"][1:]}
    assert industries["machinery"][1:] == ["3", "2", "5", "45%"]  # 5 of 11
    assert industries["food"][1:] == ["0", "0", "0", "0%"]  # only the draft names it


# --- the charts ----------------------------------------------------------------------------------------

def charts(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r'<svg class="chart".*?</svg>', html, flags=re.S)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_charts_are_accessible_scalable_svg(fixture_site, lang):
    html = (fixture_site[0] / ("en/" if lang == "en" else "") / "stats/index.html").read_text(encoding="utf-8")
    assert "<script" not in html.split("<main", 1)[1]  # no chart library in the browser
    svgs = charts(html)
    assert len(svgs) == 4  # World and China categories, industries, societies
    ids = set()
    for svg in svgs:
        assert svg.get("role") == "img"
        title, desc = svg.find(SVG_NS + "title"), svg.find(SVG_NS + "desc")
        assert svg.get("aria-labelledby") == title.get("id") and title.text.strip()
        assert svg.get("aria-describedby") == desc.get("id") and desc.text.strip()
        assert svg.get("width") == "100%" and re.fullmatch(r"0 0 \d+ \d+", svg.get("viewBox"))
        assert svg.get("height") is None  # the height follows the width through the viewBox
        ids |= {title.get("id"), desc.get("id")}
        sizes = [float(e.get("font-size")) for e in svg.iter() if e.get("font-size")]
        assert sizes and min(sizes) >= 13  # about 10 px or more once scaled to a 375 px phone
    assert len(ids) == 8  # unique ids on the page
    if lang == "en":
        assert "advances per top-level category and year" in html


def test_chart_numbers_equal_the_tables(fixture_site):
    html = (fixture_site[0] / "stats/index.html").read_text(encoding="utf-8")
    page = parse(fixture_site[0] / "stats/index.html")
    world, china, industries, societies = charts(html)
    for svg, lst in ((world, "world"), (china, "china")):
        table = {k: c for k, c in page.tables[f"table-categories-{lst}"][1:]}
        years = page.tables[f"table-categories-{lst}"][0][1][1:-1]
        columns = [g for g in svg.iter(SVG_NS + "g") if g.get("class") == "column"]
        assert [g.get("data-year") for g in columns] == years
        ratios = []
        for index, g in enumerate(columns):
            rects = list(g.iter(SVG_NS + "rect"))
            counts = {r.get("data-series"): int(r.get("data-count")) for r in rects}
            expected = {k: int(c[1 + index]) for k, c in table.items()
                        if k not in ("sum", "advances") and c[1 + index] != "0"}
            assert counts == expected, (lst, years[index])
            if rects:  # the bar's height is proportional to the sum of its segments
                ratios.append(sum(float(r.get("height")) for r in rects) / int(table["sum"][1 + index]))
        assert ratios and max(ratios) - min(ratios) < 0.05
    for svg, key in ((industries, "table-industries"), (societies, "table-societies")):
        table = {k: c for k, c in page.tables[key][1:]}
        bars = [g for g in svg.iter(SVG_NS + "g") if g.get("class") == "bar"]
        assert [g.get("data-key") for g in bars] == [k for k, _ in page.tables[key][1:] if k in
                                                      {g.get("data-key") for g in bars}]
        for g in bars:
            per_list = {r.get("data-list"): int(r.get("data-count")) for r in g.iter(SVG_NS + "rect")}
            row = table[g.get("data-key")]
            assert [per_list.get(lst, 0) for lst in LISTS] == [int(row[1]), int(row[2])]


def test_stats_page_links_the_open_data_and_is_in_the_navigation(fixture_site):
    output = fixture_site[0]
    for prefix in ("", "en/"):
        page = parse(output / prefix / "stats/index.html")
        assert "/imac/dual/data/advances.json" in page.hrefs and "/imac/dual/data/advances.csv" in page.hrefs
        home = parse(output / prefix / "index.html")
        assert f"/imac/dual/{prefix}stats/" in home.hrefs
        assert "/imac/dual/data/advances.json" in home.hrefs  # the footer, on every page
