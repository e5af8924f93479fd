"""sitegen.related: twins on both lists and related advances, computed in the model stage (issue 3).

The fixture is tests/sites/discovery/. The expected related lists are recomputed here from the content
files with the documented rule, independently of sitegen's model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from discovery_helpers import SITES, Adv, read_content
from sitegen.content import discover
from sitegen.errors import Problems
from sitegen.model import build_model
from sitegen.related import MAX_RELATED, title_key


def load_model(site: Path):
    problems = Problems()
    model = build_model(discover(site, site / "content", problems), problems)
    assert [str(p) for p in problems.errors] == []
    return model


@pytest.fixture
def site(tmp_path) -> Path:
    dest = tmp_path / "site"
    shutil.copytree(SITES / "discovery", dest)
    return dest


def stems(advances) -> list[str]:
    return [f"{a.meta['year']}/{a.record.stem}" for a in advances]


def expected_twins(content) -> dict[str, str]:
    twins = {}
    for adv in content.advances:
        if adv.meta.get("also_in"):
            twins[adv.id] = adv.meta["also_in"]
            twins[adv.meta["also_in"]] = adv.id
    for adv in content.advances:
        for other in content.advances:
            if adv.id not in twins and other.id not in twins and adv.year == other.year \
                    and adv.meta["list"] != other.meta["list"] and title_key(adv.meta["title"]) == title_key(other.meta["title"]):
                twins[adv.id], twins[other.id] = other.id, adv.id
    return twins


def expected_related(content, adv: Adv, twins: dict[str, str]) -> list[str]:
    def terms(a):
        return set(a.meta.get("categories") or []), set(a.meta.get("industries") or [])

    cats, inds = terms(adv)
    scored = []
    for other in content.advances:
        if other.id == adv.id or twins.get(adv.id) == other.id:
            continue
        ocats, oinds = terms(other)
        shared_c, shared_i = len(cats & ocats), len(inds & oinds)
        if shared_c or shared_i:
            scored.append(((other.year == adv.year, -shared_c, -shared_i, other.order_key()), other.id))
    return [i for _, i in sorted(scored)][:MAX_RELATED]


def test_related_advances_follow_the_rule_for_every_advance(site):
    model = load_model(site)
    content = read_content(site / "content")
    twins = expected_twins(content)
    by_id = {f"{a.meta['year']}/{a.record.stem}": a for a in model.advances}
    assert set(by_id) == {a.id for a in content.advances}
    checked = 0
    for adv in content.advances:
        assert stems(by_id[adv.id].related) == expected_related(content, adv, twins), adv.id
        checked += bool(by_id[adv.id].related)
    assert checked >= 8


def test_related_excludes_itself_and_its_twin_and_stops_at_six(site):
    model = load_model(site)
    for adv in model.advances:
        assert adv not in adv.related
        assert adv.other_list is None or adv.other_list not in adv.related
        assert len(adv.related) <= MAX_RELATED
        assert len({id(a) for a in adv.related}) == len(adv.related)
        for other in adv.related:  # shares a category key or an industry
            assert set(map(id, adv.categories)) & set(map(id, other.categories)) or \
                set(map(id, adv.industries)) & set(map(id, other.industries))
    five = next(a for a in model.advances if a.record.stem == "world-five-axis")
    assert len(five.related) == MAX_RELATED  # seven candidates in the fixture: one is cut


def test_other_years_come_first(site):
    model = load_model(site)
    for adv in model.advances:
        same = [a.meta["year"] == adv.meta["year"] for a in adv.related]
        assert same == sorted(same), adv.record.stem  # all False (other years) before any True


def test_related_is_deterministic_whatever_the_file_order(site, tmp_path):
    first = {a.record.rel: stems(a.related) for a in load_model(site).advances}
    # The same content discovered from a copy whose files were written in reverse order.
    copy = tmp_path / "copy"
    for path in sorted((site).rglob("*"), reverse=True):
        target = copy / path.relative_to(site)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    second = {a.record.rel: stems(a.related) for a in load_model(copy).advances}
    assert first == second


def test_twins_from_also_in_and_same_title(site):
    model = load_model(site)
    content = read_content(site / "content")
    twins = expected_twins(content)
    assert twins == {"2021/china-five-axis": "2021/world-five-axis", "2021/world-five-axis": "2021/china-five-axis",
                     "2021/china-hull-welding": "2021/world-vision-welding",
                     "2021/world-vision-welding": "2021/china-hull-welding"}
    for adv in model.advances:
        key = f"{adv.meta['year']}/{adv.record.stem}"
        got = adv.other_list and f"{adv.other_list.meta['year']}/{adv.other_list.record.stem}"
        assert got == twins.get(key), key


def write_advance(site: Path, rel: str, title: str, lst: str, rank: int, year: int = 2021) -> None:
    path = site / "content" / "advances" / rel
    path.write_text(f"---\ntitle: {title}\ntitle_en: T {rel}\nslug: s-{rank}-{lst}-{year}\nyear: {year}\nlist: {lst}\n"
                    f"rank: {rank}\norganizations: [Example AG]\ndemo: true\n---\n", encoding="utf-8")


def test_same_title_ignores_width_and_spaces_but_not_the_year_or_the_list(site):
    write_advance(site, "2021/world-a.md", "数字孪生 工厂（示范）", "world", 5)
    write_advance(site, "2021/china-a.md", "数字孪生工厂(示范)", "china", 5)
    write_advance(site, "2021/world-b.md", "同名但同榜", "world", 6)
    write_advance(site, "2021/world-c.md", "同名但同榜", "world", 7)
    write_advance(site, "2020/china-b.md", "同名但同榜", "china", 5, year=2020)
    model = load_model(site)
    by = {f"{a.meta['year']}/{a.record.stem}": a for a in model.advances}
    assert by["2021/world-a"].other_list is by["2021/china-a"]
    assert by["2021/china-a"].other_list is by["2021/world-a"]
    for key in ("2021/world-b", "2021/world-c", "2020/china-b"):
        assert by[key].other_list is None, key


def test_title_key():
    assert title_key("ＡＢＣ 数字孪生　工厂") == title_key("abc数字孪生工厂")
    assert title_key("甲（乙）") == title_key("甲(乙)")
    assert title_key("甲乙") != title_key("甲丙")
