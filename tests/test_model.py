"""sitegen.model: lists and their order, prev/next, organisations, slugs, also_in and the cross-record rules.

Each test writes a few records on top of the minimal fixture site and runs discover → build_model in process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.content import discover
from sitegen.errors import Problems
from sitegen.model import build_model, normalise_org


def advance(title_en: str, lst: str = "world", year: int = 2021, **fields) -> str:
    """An advance file; the fields are on lines 2 title, 3 title_en, 4 year, 5 list, 6 organizations, 7 demo,
    then the other ``fields`` from line 8 on, in the order given."""
    meta = {"title": fields.pop("title", "进展 " + title_en), "title_en": title_en, "year": year, "list": lst,
            "organizations": "[Example AG]", "demo": "true", **fields}
    return "---\n" + "".join(f"{key}: {value}\n" for key, value in meta.items()) + "---\n\n## 背景与意义\n\n正文。\n"


@pytest.fixture
def site(minimal_site) -> Path:
    return minimal_site


def write(site: Path, rel: str, text: str) -> None:
    path = site / "content" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def model_of(site: Path, drafts: bool = False):
    problems = Problems()
    content = discover(site, site / "content", problems)
    model = build_model(content, problems, drafts=drafts)
    return model, [str(p) for p in problems.errors]


def names(advances) -> list[str]:
    return [a.record.stem for a in advances]


def test_minimal_site_model(site):
    model, errors = model_of(site)
    assert errors == []
    [year] = model.years
    assert year.year == 2021 and year.count == 3
    assert names(year.lists["world"]) == ["world-five-axis", "world-vision-welding"]
    assert names(year.lists["china"]) == ["china-defect-vision"]
    assert names(model.advances) == ["world-five-axis", "world-vision-welding", "china-defect-vision"]
    assert [p.slug for p in model.pages] == ["about"]
    assert [c.key for c in model.categories] == ["equipment", "key-tech", "applications"]


# --- order ---------------------------------------------------------------------------------------

def test_ranked_before_unranked_then_order_then_title(site):
    write(site, "advances/2021/world-u-title-b.md", advance("Unranked B", title="二"))
    write(site, "advances/2021/world-u-title-a.md", advance("Unranked A", title="一"))
    write(site, "advances/2021/world-u-order-2.md", advance("Ordered two", order=2))
    write(site, "advances/2021/world-u-order-1.md", advance("Ordered one", order=1))
    write(site, "advances/2021/world-r-5.md", advance("Rank five", rank=5))
    model, errors = model_of(site)
    assert errors == []
    world = model.years[0].lists["world"]
    assert names(world) == ["world-five-axis", "world-vision-welding", "world-r-5", "world-u-order-1",
                            "world-u-order-2", "world-u-title-a", "world-u-title-b"]
    assert [a.position for a in world] == [1, 2, 5, 4, 5, 6, 7]  # the rank when ranked, else the place


def test_years_newest_first_and_world_before_china(site):
    write(site, "years/2023.yaml", "year: 2023\n")
    write(site, "advances/2023/china-new.md", advance("New china", lst="china", year=2023, rank=1))
    write(site, "advances/2023/world-new.md", advance("New world", year=2023, rank=1))
    model, errors = model_of(site)
    assert errors == []
    assert [y.year for y in model.years] == [2023, 2021]
    assert model.latest.year == 2023
    assert names(model.advances)[:3] == ["world-new", "china-new", "world-five-axis"]


def test_a_year_without_advances_has_empty_lists(site):
    write(site, "years/2019.yaml", "year: 2019\n")
    model, errors = model_of(site)
    assert errors == []
    assert model.years[-1].year == 2019 and model.years[-1].lists == {"world": [], "china": []}


# --- prev / next ---------------------------------------------------------------------------------

def test_prev_next_stay_within_a_list(site):
    write(site, "advances/2021/world-r-3.md", advance("Rank three", rank=3))
    model, errors = model_of(site)
    assert errors == []
    world = model.years[0].lists["world"]
    assert [a.prev and a.prev.record.stem for a in world] == [None, "world-five-axis", "world-vision-welding"]
    assert [a.next and a.next.record.stem for a in world] == ["world-vision-welding", "world-r-3", None]
    [china] = model.years[0].lists["china"]
    assert china.prev is None and china.next is None


# --- organisations ------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    ("示例（北京）有限公司", "示例(北京)有限公司"),
    ("ＡＢＣ　Robotics", "ABC Robotics"),
    ("ABC  Robotics ", "ABC Robotics"),
    ("甲，乙：丙；丁、戊", "甲,乙:丙;丁,戊"),
])
def test_normalise_org(a, b):
    assert normalise_org(a) == normalise_org(b)


def test_organisations_are_grouped_by_normalised_name(site):
    write(site, "advances/2021/world-r-3.md", advance("Rank three", rank=3, organizations="[示例科技有限公司]"))
    write(site, "advances/2021/china-r-2.md", advance("China two", lst="china", rank=2,
                                                      organizations="['示例大学 ', Nordhaven GmbH]"))
    model, errors = model_of(site)
    assert errors == []
    orgs = model.terms["organizations"]
    assert names(orgs[normalise_org("示例科技有限公司")].advances) == ["world-r-3", "china-defect-vision"]
    assert names(orgs["Nordhaven GmbH"].advances) == ["world-five-axis", "china-r-2"]
    assert len(orgs["示例大学"].advances) == 2
    assert list(orgs) == sorted(orgs, key=lambda k: orgs[k].slug)  # listed in slug order


def test_organisation_slug_collisions_are_disambiguated(site):
    write(site, "advances/2021/world-r-3.md", advance("Rank three", rank=3, organizations="['Foo, Inc.']"))
    write(site, "advances/2021/world-r-4.md", advance("Rank four", rank=4, organizations="['Foo Inc']"))
    write(site, "advances/2021/world-r-5.md", advance("Rank five", rank=5, organizations="['FOO-INC']"))
    model, errors = model_of(site)
    assert errors == []
    orgs = model.terms["organizations"]
    slugs = {orgs[n].name: orgs[n].slug for n in ("Foo, Inc.", "Foo Inc", "FOO-INC")}
    assert slugs == {"FOO-INC": "foo-inc", "Foo Inc": "foo-inc-2", "Foo, Inc.": "foo-inc-3"}  # sorted names
    assert len({t.slug for t in orgs.values()}) == len(orgs)
    assert all(t.route.startswith("organizations/") for t in orgs.values())


def test_chinese_organisation_names_get_a_slug(site):
    model, _ = model_of(site)
    slug = model.terms["organizations"]["示例大学"].slug
    assert slug and slug.isascii()


# --- advance slugs ------------------------------------------------------------------------------

def test_slug_policy(site):
    write(site, "advances/2021/world-explicit.md", advance("Some English Title", rank=3, slug="my-slug"))
    write(site, "advances/2021/world-from-file.md",
          "---\ntitle: 只有中文\nyear: 2021\nlist: world\nrank: 4\norganizations: [X]\ndemo: true\n---\n")
    model, errors = model_of(site)
    assert errors == []
    slugs = {a.record.stem: a.slug for a in model.advances}
    assert slugs["world-explicit"] == "my-slug"
    assert slugs["world-five-axis"] == "adaptive-five-axis-machining"
    assert slugs["world-from-file"] == "world-from-file"
    assert model.advances[0].route.startswith("advances/2021/")


def test_slug_collision_is_an_error(site):
    write(site, "advances/2021/world-x.md", advance("Vision-guided welding robot", rank=3))
    write(site, "advances/2021/world-y.md", advance("Other", rank=4, slug="adaptive-five-axis-machining"))
    _, errors = model_of(site)
    assert [e.split(" — ")[0] for e in errors] == [
        "content/advances/2021/world-x.md:3: slug: the URL slug 'vision-guided-welding-robot' is already used by "
        "content/advances/2021/world-vision-welding.md",
        "content/advances/2021/world-y.md:9: slug: the URL slug 'adaptive-five-axis-machining' is already used by "
        "content/advances/2021/world-five-axis.md",
    ]


def test_same_slug_in_two_years_is_fine(site):
    write(site, "years/2022.yaml", "year: 2022\n")
    write(site, "advances/2022/world-five-axis.md", advance("Adaptive five-axis machining", year=2022, rank=1))
    _, errors = model_of(site)
    assert errors == []


# --- also_in ------------------------------------------------------------------------------------

def test_also_in_links_both_ways(site):
    write(site, "advances/2021/china-twin.md",
          advance("Twin", lst="china", rank=2, also_in="2021/world-vision-welding.md"))
    model, errors = model_of(site)
    assert errors == []
    by_stem = {a.record.stem: a for a in model.advances}
    assert by_stem["china-twin"].other_list is by_stem["world-vision-welding"]
    assert by_stem["world-vision-welding"].other_list is by_stem["china-twin"]
    assert by_stem["world-five-axis"].other_list is None


@pytest.mark.parametrize("target", ["2021/world-nothing", "2021/china-twin", "2020/world-five-axis"])
def test_also_in_must_name_another_advance(site, target):
    write(site, "advances/2021/china-twin.md", advance("Twin", lst="china", rank=2, also_in=target))
    _, errors = model_of(site)
    assert errors == [f"content/advances/2021/china-twin.md:9: also_in: '{target}' is not another advance — "
                      "write <year>/<file name without .md>"]


# --- keys and taxonomies ------------------------------------------------------------------------

def test_terms_collect_their_advances(site):
    model, _ = model_of(site)
    cats = model.terms["categories"]
    assert names(cats["cnc-robots"].advances) == ["world-five-axis", "world-vision-welding"]
    assert cats["cnc-robots"].parent is cats["equipment"]
    assert names(cats["equipment"].all_advances()) == ["world-five-axis", "world-vision-welding"]
    assert names(cats["key-tech"].all_advances()) == ["world-vision-welding", "china-defect-vision"]
    assert [(y, len(a)) for y, a in cats["key-tech"].by_year()] == [(2021, 2)]
    assert model.terms["societies"]["cmes"].extra == {"abbr": "CMES", "website": "https://www.cmes.org"}
    assert names(model.terms["industries"]["automotive"].advances) == ["world-five-axis", "world-vision-welding"]
    by_stem = {a.record.stem: a for a in model.advances}
    assert by_stem["world-vision-welding"].society.key == "caa"


def test_unknown_keys_with_did_you_mean(site):
    write(site, "advances/2021/world-x.md",
          advance("X", rank=3, categories="[cnc-robot, ai]", industries="[food]", nominated_by="cmse"))
    _, errors = model_of(site)
    assert errors == [
        "content/advances/2021/world-x.md:9: categories: unknown key 'cnc-robot' — did you mean 'cnc-robots'? use a "
        "key defined in categories.yaml",
        "content/advances/2021/world-x.md:10: industries: unknown key 'food' — use a key defined in industries.yaml",
        "content/advances/2021/world-x.md:11: nominated_by: unknown key 'cmse' — did you mean 'cmes'? use a key "
        "defined in societies.yaml",
    ]


def test_keys_are_not_checked_against_a_broken_taxonomy_file(site):
    write(site, "industries.yaml", "automotive:\n\tname: 汽车\n")
    write(site, "societies.yaml", "cmes: [a list]\n")
    _, errors = model_of(site)
    # Only the files' own errors: not "unknown key 'automotive'" for every advance that uses one.
    assert [e.split(" — ")[0] for e in errors] == [
        "content/industries.yaml:2: indented with a tab character",
        "content/societies.yaml:1: cmes: expected 'field: value' lines, got a list",
    ]


def test_missing_taxonomy_file(site):
    (site / "content" / "societies.yaml").unlink()
    _, errors = model_of(site)
    assert errors == ["content/societies.yaml: file is missing — create content/societies.yaml"]


def test_category_key_used_twice(site):
    write(site, "categories.yaml", "a:\n  name: 甲\n  name_en: A\n  children:\n    b: {name: 乙, name_en: B}\n"
                                   "b:\n  name: 乙\n  name_en: B\n  children:\n    a: {name: 甲, name_en: A}\n")
    _, errors = model_of(site)
    fix = "give every category and sub-category its own key"
    assert [e for e in errors if e.startswith("content/categories.yaml")] == [
        f"content/categories.yaml:6: b: this key is used twice in the category tree — {fix}",
        f"content/categories.yaml:10: a: this key is used twice in the category tree — {fix}",
    ]


# --- ranks and list sizes -----------------------------------------------------------------------

def test_duplicate_rank(site):
    write(site, "advances/2021/world-x.md", advance("X", rank=2, title="一"))
    _, errors = model_of(site)
    assert errors == ["content/advances/2021/world-vision-welding.md:6: rank: rank 2 of the 2021 world list is also "
                      "given to content/advances/2021/world-x.md — give each advance of a list its own rank"]


def test_same_rank_on_the_two_lists_is_fine(site):
    model, errors = model_of(site)
    assert errors == []
    assert [a.meta["rank"] for a in model.advances] == [1, 2, 1]


def test_ten_per_list(site):
    for i in range(3, 11):
        write(site, f"advances/2021/world-r{i:02d}.md", advance(f"Rank {i}", rank=i))
    _, errors = model_of(site)
    assert errors == []
    write(site, "advances/2021/world-extra.md", advance("Extra", order=1))
    _, errors = model_of(site)
    assert [e.split(" — ")[0] for e in errors] == [
        "content/advances/2021/world-extra.md:5: list: the 2021 world list has 11 advances, at most 10 are allowed"]


def test_drafts_are_left_out_unless_asked(site):
    for i in range(3, 11):
        write(site, f"advances/2021/world-r{i:02d}.md", advance(f"Rank {i}", rank=i))
    write(site, "advances/2021/world-draft.md", advance("Draft", order=1, draft="true"))
    model, errors = model_of(site)
    assert errors == [] and "world-draft" not in names(model.advances)
    model, errors = model_of(site, drafts=True)
    assert len(errors) == 1 and "has 11 advances" in errors[0]


def test_missing_year_file(site):
    write(site, "advances/2020/world-b.md", advance("B", year=2020, rank=2))
    write(site, "advances/2020/world-a.md", advance("A", year=2020, rank=1))
    model, errors = model_of(site)
    assert errors == ["content/advances/2020/world-a.md:4: year: there is no year file for 2020 — create "
                      "content/years/2020.yaml with at least 'year: 2020'"]


# --- sources ------------------------------------------------------------------------------------

def test_real_record_needs_a_source(site):
    write(site, "advances/2021/world-x.md", advance("X", rank=3, demo="false"))
    write(site, "advances/2021/world-y.md", advance("Y", rank=4, demo="false", source="https://example.org/y"))
    _, errors = model_of(site)
    assert errors == ["content/advances/2021/world-x.md:2: source: a real result needs the source it was published "
                      "in — add 'source: {url: …, publisher: …}', or mark a sample record with 'demo: true'"]


def test_an_invalid_source_is_reported_once(site):
    write(site, "advances/2021/world-x.md", advance("X", rank=3, demo="false", source="'{publisher: p}'"))
    write(site, "advances/2021/world-y.md", advance("Y", rank=4, demo="maybe"))
    _, errors = model_of(site)
    assert [e.split(" — ")[0] for e in errors] == [
        "content/advances/2021/world-x.md:9: source: expected a mapping of fields, got the text '{publisher: p}'",
        "content/advances/2021/world-y.md:7: demo: expected true or false, got the text 'maybe'",
    ]


# --- pages --------------------------------------------------------------------------------------

def test_pages_order_and_slugs(site):
    write(site, "pages/contact.md", "---\ntitle: 联系\norder: 0\n---\n")
    write(site, "pages/zeta.md", "---\ntitle: 末\n---\n")
    write(site, "pages/alpha.md", "---\ntitle: 首\nslug: first\n---\n")
    model, errors = model_of(site)
    assert errors == []
    assert [p.slug for p in model.pages] == ["contact", "about", "first", "zeta"]
    assert model.pages[0].route == "contact/"


@pytest.mark.parametrize("slug, owner", [("years", "the site's own pages"), ("organizations", "the site's own pages"),
                                         ("about", "content/pages/about.md")])
def test_page_slug_taken(site, slug, owner):
    write(site, "pages/x.md", f"---\ntitle: X\nslug: {slug}\n---\n")
    _, errors = model_of(site)
    assert errors == [f"content/pages/x.md:3: slug: the URL /{slug}/ is already used by {owner} — set another "
                      "'slug:' or rename the file"]
