"""Term pages and cross-links (issue 3), on the fixture site tests/sites/discovery/ built in a temp folder.

Expectations come from the content files (tests/discovery_helpers.py reads them with PyYAML), not from
sitegen's model: category, industry, society and organisation pages must list exactly the advances that
carry the term, newest year first, World before China, in list order.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from discovery_helpers import LISTS, Adv, PageParser, parse, read_content, build_site

BASE = "/imac/dual/"  # the fixture's base_url path: every link must carry it


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_site(tmp_path_factory.mktemp("discovery"))


@pytest.fixture(scope="module")
def content(site):
    return read_content(site / "content")


def href(adv: Adv, lang: str = "zh") -> str:
    return f"{BASE}{'en/' if lang == 'en' else ''}advances/{adv.year}/{adv.meta['slug']}/"


def page(site: Path, route: str, lang: str = "zh") -> PageParser:
    path = site / "output" / ("en/" if lang == "en" else "") / route / "index.html"
    assert path.is_file(), path
    return parse(path)


def by_slug(content, slug: str) -> Adv:
    return next(a for a in content.advances if a.meta["slug"] == slug)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_category_page_lists_exactly_its_advances(site, content, lang):
    used = {c for a in content.advances for c in a.meta.get("categories") or []}
    assert used, "the fixture uses categories"
    for key in content.categories:
        expected = [href(a, lang) for a in content.with_category(key)]
        assert page(site, f"categories/{key}", lang).advance_links == expected, key


def test_sub_category_advances_also_appear_on_the_parent_page(site, content):
    for key, top in content.parent.items():
        if key == top:
            continue
        parent_links = set(page(site, f"categories/{top}").advance_links)
        for adv in content.with_category(key):
            assert href(adv) in parent_links, (key, top, adv.stem)


def test_category_page_groups_by_year_newest_first_with_list_and_rank(site):
    html = (site / "output/categories/equipment/index.html").read_text(encoding="utf-8")
    assert html.index('id="y2021"') < html.index('id="y2020"')
    assert "世界十大" in html and "中国十大" in html and "第1名" in html


def test_empty_categories_have_a_page_saying_so(site, content):
    empty = [k for k in content.categories if not content.with_category(k)]
    assert set(empty) >= {"warehousing-logistics", "frontier-standards"}  # the draft uses frontier-standards
    for key in empty:
        for lang in ("zh", "en"):
            path = site / "output" / ("en/" if lang == "en" else "") / "categories" / key / "index.html"
            html = path.read_text(encoding="utf-8")
            assert 'class="empty"' in html and 'class="advance-item"' not in html, (key, lang)


def test_category_tree_links_every_category_with_its_count(site, content):
    html = (site / "output/categories/index.html").read_text(encoding="utf-8")
    for key in content.categories:
        link = f'href="{BASE}categories/{key}/"'
        assert html.count(link) == 1, key
        count = html.split(link, 1)[1].split('<span class="count">', 1)[1].split("</span>", 1)[0]
        assert count == f"{len(content.with_category(key))} 项", key


@pytest.mark.parametrize("kind, field", [("industries", "industries"), ("societies", "nominated_by")])
def test_industry_and_society_pages_list_the_right_advances_in_order(site, content, kind, field):
    keys = content.industries if kind == "industries" else content.societies
    index = page(site, kind)
    for key in keys:
        def carries(adv):
            value = adv.meta.get(field)
            return key in (value or []) if isinstance(value, list) or value is None else value == key

        expected = [href(a) for a in content.advances if carries(a)]
        assert page(site, f"{kind}/{key}").advance_links == expected, (kind, key)
        assert f"{BASE}{kind}/{key}/" in index.hrefs


# The organisation groups of the fixture, written out by hand: names differing only in full-/half-width
# punctuation or whitespace are one organisation; "ACME GmbH" and "Acme GmbH" are two whose slugs collide.
ORGANISATIONS = {
    "Nordhaven GmbH": ["five-axis", "servo-diagnosis"],
    "示例大学（北京）": ["five-axis", "melt-pool", "slm-diagnosis"],
    "示例科技 有限公司": ["fabric-vision", "ai-inspection"],
    "示例机床股份有限公司": ["five-axis-china", "uncategorised"],
    "ACME GmbH": ["factory-case"],
    "Acme GmbH": ["hull-welding"],
    "Example Robotics Inc.": ["vision-welding"],
}


def test_organisation_pages_group_normalised_names_and_keep_colliding_ones_apart(site, content):
    index = (site / "output/organizations/index.html").read_text(encoding="utf-8")
    links = {}
    for name in ORGANISATIONS:
        marker = f">{name}</a>"
        assert marker in index, name
        links[name] = index.split(marker)[0].rsplit('href="', 1)[1].split('"')[0]
    assert len(set(links.values())) == len(ORGANISATIONS)  # one page per organisation, no two share a slug
    assert index.count('<span class="count">') == len(ORGANISATIONS)  # variants are not listed twice
    assert links["ACME GmbH"] == f"{BASE}organizations/acme-gmbh/"
    assert links["Acme GmbH"] == f"{BASE}organizations/acme-gmbh-2/"  # sorted names: deterministic suffix
    for name, slugs in ORGANISATIONS.items():
        route = links[name].removeprefix(BASE)
        expected = [href(a) for a in sorted((by_slug(content, s) for s in slugs), key=Adv.order_key)]
        assert page(site, route.rstrip("/")).advance_links == expected, name


def test_every_chip_on_the_dual_view_and_detail_page_links_to_its_term_page(site, content):
    output = site / "output"
    for year in content.years:
        parser = page(site, f"years/{year}")
        items = {item["href"]: item["chips"] for item in parser.items}
        for adv in (a for a in content.advances if a.year == year):
            terms = [f"{BASE}categories/{k}/" for k in adv.meta.get("categories") or []]
            terms += [f"{BASE}industries/{k}/" for k in adv.meta.get("industries") or []]
            assert items[href(adv)] == terms, adv.stem
    for adv in content.advances:
        detail = page(site, f"advances/{adv.year}/{adv.meta['slug']}")
        for key in adv.meta.get("categories") or []:
            assert f"{BASE}categories/{key}/" in detail.hrefs
        for key in adv.meta.get("industries") or []:
            assert f"{BASE}industries/{key}/" in detail.hrefs
        if adv.meta.get("nominated_by"):
            assert f"{BASE}societies/{adv.meta['nominated_by']}/" in detail.hrefs
        for link in detail.hrefs:
            if link.startswith(BASE + "categories/") or link.startswith(BASE + "industries/") \
                    or link.startswith(BASE + "societies/") or link.startswith(BASE + "organizations/"):
                assert (output / link.removeprefix(BASE) / "index.html").is_file(), link


@pytest.mark.parametrize("a, b", [("five-axis", "five-axis-china"),  # same title on both lists
                                  ("hull-welding", "vision-welding")])  # also_in, written on one side only
def test_an_advance_on_both_lists_links_to_its_twin_both_ways(site, content, a, b):
    first, second = by_slug(content, a), by_slug(content, b)
    for this, other in ((first, second), (second, first)):
        html = (site / "output" / "advances" / str(this.year) / this.meta["slug"] / "index.html").read_text(
            encoding="utf-8")
        also = html.split('class="also-in"', 1)[1].split("</p>", 1)[0]
        assert f'href="{href(other)}"' in also, (this.stem, other.stem)


def test_no_twin_link_without_also_in_or_same_title(site, content):
    html = (site / "output/advances/2021/melt-pool/index.html").read_text(encoding="utf-8")
    assert 'class="also-in"' not in html


def test_detail_page_shows_related_advances_without_itself(site, content):
    for adv in content.advances:
        detail = page(site, f"advances/{adv.year}/{adv.meta['slug']}")
        related = [i["href"] for i in detail.items if i["section"] and "related" in i["section"]]
        assert href(adv) not in related
        assert len(related) <= 6
        assert len(related) == len(set(related))
    five = page(site, "advances/2021/five-axis")
    related = [i["href"] for i in five.items if "related" in (i["section"] or "")]
    # Worked out by hand from the fixture (see tests/test_related.py for the rule).
    assert related == [href(by_slug(content, s)) for s in
                       ("ai-inspection", "slm-diagnosis", "servo-diagnosis", "vision-welding", "hull-welding",
                        "fabric-vision")]


def test_term_kinds_have_index_pages_in_both_languages(site):
    for kind in ("categories", "industries", "societies", "organizations"):
        for prefix in ("", "en/"):
            assert (site / "output" / prefix / kind / "index.html").is_file()
    assert LISTS == ("world", "china")


@pytest.mark.parametrize("route, text", [("industries/food", "该行业暂无入选科技进展。"),
                                         ("societies/csa", "该学会推荐的科技进展暂未入选。"),
                                         ("en/industries/food", "No selected advances in this industry yet.")])
def test_empty_industry_and_society_pages_say_so_in_their_own_words(site, route, text):
    html = (site / "output" / route / "index.html").read_text(encoding="utf-8")
    assert f'<p class="empty">{text}</p>' in html and 'class="advance-item"' not in html


# --- term pages in pages of term_per_page advances ----------------------------------------------------

@pytest.fixture(scope="module")
def paged(tmp_path_factory) -> Path:
    return build_site(tmp_path_factory.mktemp("paged"), config="term_per_page: 2\n")


def term_pages(site: Path, route: str, lang: str) -> list[str]:
    """The HTML of each page of a term, following rel="next" from its first page."""
    prefix = "en/" if lang == "en" else ""
    html = (site / "output" / prefix / route / "index.html").read_text(encoding="utf-8")
    pages = [html]
    while (found := re.search(r'<a rel="next" href="([^"]+)"', html)):
        assert found.group(1).startswith(f"{BASE}{prefix}{route}/page/{len(pages) + 1}/")
        html = (site / "output" / found.group(1).removeprefix(BASE) / "index.html").read_text(encoding="utf-8")
        pages.append(html)
    return pages


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_term_pages_list_every_advance_once_in_order_across_their_pages(paged, content, lang):
    page_n = "第 {n} 页，共 {count} 页" if lang == "zh" else "Page {n} of {count}"
    several = 0
    for key in content.categories:
        expected = [href(a, lang) for a in content.with_category(key)]
        pages = term_pages(paged, f"categories/{key}", lang)
        assert len(pages) == max(1, -(-len(expected) // 2)), key
        links = []
        for n, html in enumerate(pages, start=1):
            parser = PageParser()
            parser.feed(html)
            assert 0 < len(parser.advance_links) <= 2 or not expected
            links += parser.advance_links
            if len(pages) > 1:
                count = len(pages)
                assert f'<span class="meta">{page_n.format(n=n, count=count)}</span>' in html
                assert ('<link rel="prev"' in html) == (n > 1) and ('<link rel="next"' in html) == (n < count)
                assert (page_n.format(n=n, count=count) in html.split("</title>")[0]) == (n > 1)  # page 1: plain title
                total = f"{len(expected)} 项" if lang == "zh" else f"{len(expected)} advance"
                assert total in html  # every page gives the term's total
        several += len(pages) > 1
        assert links == expected, key
    assert several >= 2, "the fixture has terms of more than two advances"


def test_each_page_of_a_term_groups_its_own_advances_by_year(paged, content):
    key = max(content.categories, key=lambda k: len(content.with_category(k)))
    advances = content.with_category(key)
    for n, html in enumerate(term_pages(paged, f"categories/{key}", "zh")):
        shown = advances[2 * n:2 * n + 2]
        years = re.findall(r'<h2 id="y(\d{4})">', html)
        assert years == sorted({str(a.year) for a in shown}, reverse=True)


# --- the render memo: fragments shared by pages (render.Renderer.memo / memo_each) --------------------------

def test_a_page_rendered_after_others_is_the_page_rendered_alone(site, monkeypatch):
    """What the memo keeps (list items, header, navigation, footer) must be keyed by everything it depends on:
    every page of the site, rendered after all the others in one renderer, equals the page rendered with an
    empty memo."""
    from sitegen import render, site as site_mod

    monkeypatch.chdir(site)
    loaded = site_mod.load(site / "config.yaml")
    renderer = render.Renderer(loaded.config, loaded.theme, loaded.model)
    jobs = renderer.jobs
    shared = [renderer.render(job) for job in jobs]
    assert len(jobs) > 100 and len(renderer._memo) > 20
    for job, together in zip(jobs, shared):
        renderer.reset()
        assert renderer.render(job) == together, job.output


def test_the_navigation_marks_the_current_section_and_page_only(site):
    current = re.compile(r'<a href="([^"]+)" aria-current="page">')
    for route, expected in (("years/", f"{BASE}years/"), ("categories/equipment/", f"{BASE}categories/"),
                            ("about/", f"{BASE}about/"), ("search/", None)):
        html = (site / "output" / route / "index.html").read_text(encoding="utf-8")
        nav = html[html.index('<nav class="wrap site-nav"'):html.index("</nav>", html.index('<nav class="wrap site-nav"'))]
        assert current.findall(nav) == ([expected] if expected else []), route


def test_compiled_templates_are_kept_in_the_cache_folder_and_reused(site, monkeypatch):
    from sitegen import render, site as site_mod

    monkeypatch.chdir(site)
    loaded = site_mod.load(site / "config.yaml")
    first = render.Renderer(loaded.config, loaded.theme, loaded.model)
    job = next(job for job in first.jobs if job.template == "advance.html")
    page = first.render(job)
    assert len(list((loaded.config.cache_path / "templates").glob("*.cache"))) >= 3  # advance, base, macros …

    def no_compiling(*args, **kwargs):
        raise AssertionError("a template was compiled again")

    second = render.Renderer(loaded.config, loaded.theme, loaded.model)
    monkeypatch.setattr(second.env, "compile", no_compiling)
    assert second.render(job) == page
