"""sitegen.opendata: /data/advances.json and /data/advances.csv (issue 3).

The JSON must validate against the JSON Schema kept in the repository (docs/open-data/advances.schema.json,
generated from the front-matter schema); the CSV must round-trip through ``csv`` with one row per advance
and the Chinese text intact. Checked on the fixture site tests/sites/discovery/ (with a sub-path base URL)
and on the bundled content.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest

from discovery_helpers import REPO, build_bundled, build_site, front_matter, read_content
from sitegen import opendata
from sitegen.contenttypes import ADVANCE

COMMITTED = REPO / opendata.REPO_SCHEMA


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory) -> tuple[Path, Path]:
    site = build_site(tmp_path_factory.mktemp("data-fixture"))
    return site / "output", site / "content"


@pytest.fixture(scope="module")
def bundled_site(tmp_path_factory) -> tuple[Path, Path]:
    return build_bundled(tmp_path_factory.mktemp("data-bundled")), REPO / "content"


@pytest.fixture(params=["fixture", "bundled"])
def built(request) -> tuple[Path, Path]:
    return request.getfixturevalue(f"{request.param}_site")


def load_json(output: Path) -> dict:
    return json.loads((output / "data/advances.json").read_text(encoding="utf-8"))


def test_committed_schema_is_up_to_date():
    """Regenerate with: python -m sitegen.opendata > docs/open-data/advances.schema.json"""
    generated = json.dumps(opendata.data_schema(), ensure_ascii=False, indent=2) + "\n"
    assert COMMITTED.read_text(encoding="utf-8") == generated


def test_schema_is_a_valid_json_schema():
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    advance = schema["properties"]["advances"]["items"]
    for fld in ADVANCE.fields:  # every front-matter field is described
        assert fld.name in advance["properties"] and fld.name in advance["required"]


def test_json_validates_against_the_committed_schema(built):
    output, _ = built
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(load_json(output)), key=lambda e: list(e.path))
    assert errors == [], "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    assert (output / "data/advances.schema.json").read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8")


def test_schema_rejects_a_broken_document(fixture_site):
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    document = load_json(fixture_site[0])
    document["advances"][0]["list"] = "europe"
    del document["advances"][1]["title"]
    document["advances"][2]["surprise"] = 1
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
    assert len(errors) == 3


def test_json_has_every_advance_with_every_front_matter_field(built):
    output, content_dir = built
    content = read_content(content_dir)
    document = load_json(output)
    assert document["count"] == len(content.advances) == len(document["advances"])
    assert [a["id"] for a in document["advances"]] == [a.id for a in content.advances]  # the site's order
    for obj, adv in zip(document["advances"], content.advances):
        for key, value in adv.meta.items():
            expected = value.isoformat() if hasattr(value, "isoformat") else value
            if isinstance(value, dict):
                expected = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in value.items()}
            if isinstance(value, (str, int)) and isinstance(obj[key], list):
                expected = [value]  # a one-item list may be written as a single value
            assert obj[key] == expected, (adv.id, key)
        for fld in ADVANCE.fields:
            assert fld.name in obj
        assert [c["key"] for c in obj["category_names"]] == list(adv.meta.get("categories") or [])
        assert [c["key"] for c in obj["industry_names"]] == list(adv.meta.get("industries") or [])
        assert {c["key"] for c in obj["top_category_names"]} == content.tops_of(adv)
        assert obj["url"].startswith(("http://", "https://")) and f"/advances/{adv.year}/" in obj["url"]
        assert obj["url_en"] == obj["url"].replace(f"/advances/{adv.year}/", f"/en/advances/{adv.year}/")


def test_json_urls_names_and_twins_on_the_fixture(fixture_site):
    output, content_dir = fixture_site
    by_id = {a["id"]: a for a in load_json(output)["advances"]}
    five = by_id["2021/world-five-axis"]
    assert five["url"] == "https://example.org/imac/dual/advances/2021/five-axis/"
    assert five["url_en"] == "https://example.org/imac/dual/en/advances/2021/five-axis/"
    assert five["category_names"] == [
        {"key": "cnc-robots", "name": "高档数控机床与工业机器人", "name_en": "High-end CNC machine tools and industrial robots",
         "parent": "equipment"},
        {"key": "ai", "name": "人工智能在制造业中的应用", "name_en": "AI in manufacturing", "parent": "key-tech"}]
    assert five["society_name"] == {"key": "cmes", "name": "中国机械工程学会",
                                    "name_en": "Chinese Mechanical Engineering Society", "abbr": "CMES"}
    assert five["twin"] == "2021/china-five-axis" and by_id["2021/china-five-axis"]["twin"] == "2021/world-five-axis"
    assert by_id["2021/world-vision-welding"]["twin"] == "2021/china-hull-welding"
    assert by_id["2021/world-melt-pool"]["source"] == {"url": "https://example.org/news/1", "publisher": "示例日报",
                                                       "date": "2021-12-08"}
    assert "2021/china-draft" not in by_id  # drafts are not published
    assert by_id["2020/china-uncategorised"]["nominated_by"] is None
    assert by_id["2020/china-uncategorised"]["society_name"] is None


def read_csv(output: Path) -> tuple[bytes, list[dict]]:
    raw = (output / "data/advances.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    return raw, rows


def test_csv_round_trips_with_one_row_per_advance_and_chinese_intact(built):
    output, content_dir = built
    content = read_content(content_dir)
    raw, rows = read_csv(output)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark for spreadsheet programs
    assert len(rows) == len(content.advances)
    for row, adv in zip(rows, content.advances):
        assert row["id"] == adv.id
        assert row["title"] == adv.meta["title"]  # Chinese text preserved
        assert row["year"] == str(adv.year) and row["list"] == adv.meta["list"]
        assert row["organizations"].split("; ") == adv.meta["organizations"]
        assert row["categories"] == "; ".join(adv.meta.get("categories") or [])
        assert row["summary"] == (adv.meta.get("summary") or "")
        assert row["demo"] == ("true" if adv.meta.get("demo") else "false")
    assert list(rows[0]) == opendata.csv_columns()


def test_csv_quotes_commas_and_quotes_and_splits_the_source(fixture_site):
    _, rows = read_csv(fixture_site[0])
    by_id = {r["id"]: r for r in rows}
    fabric = by_id["2021/china-fabric-vision"]
    assert fabric["summary"] == '逗号,引号"与换行前的中文摘要。'
    assert fabric["category_names"] == "人工智能在制造业中的应用" and fabric["top_categories"] == "key-tech"
    melt = by_id["2021/world-melt-pool"]
    assert (melt["source_url"], melt["source_publisher"], melt["source_date"]) == (
        "https://example.org/news/1", "示例日报", "2021-12-08")
    assert by_id["2021/world-five-axis"]["links"] == "项目主页 <https://example.org/five-axis>"
    assert by_id["2021/world-five-axis"]["nominated_by_name_en"] == "Chinese Mechanical Engineering Society"


def test_data_files_are_deterministic(fixture_site, tmp_path):
    again = build_site(tmp_path)
    for name in ("advances.json", "advances.csv", "advances.schema.json"):
        assert (again / "output/data" / name).read_bytes() == (fixture_site[0] / "data" / name).read_bytes()


def test_front_matter_helper_reads_what_sitegen_reads():
    meta = front_matter(REPO / "tests/sites/discovery/content/advances/2021/world-five-axis.md")
    assert meta["title"] == "五轴数控机床自适应加工系统" and meta["rank"] == 1


def test_csv_cells_cannot_run_as_spreadsheet_formulas():
    from sitegen.opendata import _no_formula

    assert _no_formula("=HYPERLINK(\"http://evil\")") == "'=HYPERLINK(\"http://evil\")"
    for text in ("+1", "-2", "@SUM(A1)", "\tx"):
        assert _no_formula(text).startswith("'")
    assert _no_formula("数控机床") == "数控机床" and _no_formula("") == ""


def test_document_is_one_line_per_advance_and_parses_back_exactly():
    document = {"site": {"title": "智能制造"}, "advances": [{"id": "a", "n": 1}, {"id": "b", "x": [1, "二"]}],
                "empty": []}
    data = b"".join(opendata.document_parts(document))
    assert json.loads(data) == document
    # The advances may come from a generator, made while the file is written: the same bytes.
    assert b"".join(opendata.document_parts({**document, "advances": (a for a in document["advances"])})) == data
    lines = data.decode("utf-8").splitlines()
    assert '    {"id": "a", "n": 1},' in lines and '    {"id": "b", "x": [1, "二"]}' in lines
    assert lines[0] == "{" and lines[-1] == "}"


def test_the_csv_is_made_a_hundred_rows_at_a_time_and_reads_back_whole(tmp_path):
    from sitegen import site as site_mod
    from test_site import copy_project
    from sitegen.urls import Urls

    site = site_mod.load(copy_project(tmp_path / "site") / "config.yaml")
    objects = [opendata.advance_object(adv, Urls("/", "https://example.org")) for adv in site.model.advances] * 4
    parts = list(opendata.advances_csv(iter(objects)))
    assert len(parts) == len(objects) // 100 + 1 and parts[0].startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(b"".join(parts).decode("utf-8-sig"), newline="")))
    assert len(rows) == len(objects) + 1 and rows[0] == opendata.csv_columns()
    assert [row[0] for row in rows[1:]] == [obj["id"] for obj in objects]
