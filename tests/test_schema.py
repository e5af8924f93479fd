"""sitegen.schema: every Kind's check and message, Schema.validate, and the generated JSON Schema."""

from __future__ import annotations

import datetime as dt

import pytest

from sitegen import contenttypes as ct
from sitegen.config import CONFIG
from sitegen.errors import Problems
from sitegen.schema import (KEY, Bool, Choice, Date, Field, Int, Invalid, ListOf, MapOf, Obj, OneOf, Schema, Text,
                            Time, Url, describe)
from sitegen.yamlio import load_yaml


def invalid(kind, value) -> Invalid:
    with pytest.raises(Invalid) as info:
        kind.check(value)
    return info.value


# --- describe ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (None, "nothing (an empty value)"),
    (False, "the boolean false (YAML reads yes/no/on/off/true/false as booleans)"),
    (3, "the number 3"),
    (1.5, "the number 1.5"),
    (dt.date(2021, 1, 2), "the date 2021-01-02"),
    ("x", "the text 'x'"),
    ([1], "a list"),
    ({"a": 1}, "a mapping"),
    (b"x", "bytes"),
])
def test_describe(value, text):
    assert describe(value) == text


# --- Text --------------------------------------------------------------------------------------

def test_text_strips():
    assert Text().check("  hi  ") == "hi"


@pytest.mark.parametrize("value, message, fix", [
    (2021, "expected text, got the number 2021", 'put it in quotes: "2021"'),
    (False, "expected text, got the boolean false", 'put the word in quotes, e.g. "no" or "on", so it stays text'),
    (True, "expected text, got the boolean true", 'put the word in quotes, e.g. "no" or "on", so it stays text'),
    (dt.date(2021, 1, 1), "expected text, got the date 2021-01-01", 'put it in quotes: "2021-01-01"'),
    (["a"], "expected text, got a list", None),
    ("   ", "is empty", "write a value or remove the field"),
])
def test_text_refuses(value, message, fix):
    exc = invalid(Text(), value)
    assert exc.message.startswith(message)
    if fix:
        assert exc.fix == fix


def test_text_length_and_lines():
    assert invalid(Text(max_len=3), "abcd").message == "is 4 characters long (at most 3)"
    assert invalid(Text(), "a\nb").message == "must be on one line"
    assert Text(multiline=True).check("a\nb") == "a\nb"


def test_text_pattern():
    exc = invalid(KEY, "CNC_robots")
    assert exc.message == "'CNC_robots' is not valid"
    assert "lower-case ASCII" in exc.fix
    assert KEY.check("cnc-robots") == "cnc-robots"
    for bad in ("-a", "a-", "a--b", "Ab", "a b"):
        invalid(KEY, bad)


# --- Url ---------------------------------------------------------------------------------------

def test_url():
    assert Url().check("https://example.org/x") == "https://example.org/x"
    assert Url().check("http://a.b") == "http://a.b"
    for bad in ("www.example.org", "ftp://a.b", "https://", "https:// a"):
        exc = invalid(Url(), bad)
        assert "is not a web address" in exc.message and "https://" in exc.fix
    assert invalid(Url(), 5).message == "expected text, got the number 5"


# --- Int ---------------------------------------------------------------------------------------

def test_int():
    assert Int(1, 10).check(10) == 10
    assert invalid(Int(1, 10), 11).message == "11 is out of range (1–10)"
    assert invalid(Int(1, 10), 0).fix == "use a number from 1 to 10"
    assert Int().check(-5) == -5


@pytest.mark.parametrize("value, message, fix", [
    ("二〇二一", "expected a whole number, got the text '二〇二一'", "write digits only, e.g. 2021"),
    ("2021", "expected a whole number, got the text '2021'", "write digits only, e.g. 2021"),
    (True, "expected a whole number, got the boolean true", "write a whole number"),
    (1.5, "expected a whole number, got the number 1.5", "write a whole number"),
])
def test_int_refuses(value, message, fix):
    exc = invalid(Int(), value)
    assert exc.message.startswith(message) and exc.fix == fix


# --- Bool, Date, Time --------------------------------------------------------------------------

def test_bool():
    assert Bool().check(False) is False
    exc = invalid(Bool(), "maybe")
    assert exc.message == "expected true or false, got the text 'maybe'" and exc.fix == "write true or false"
    invalid(Bool(), 0)


def test_date():
    assert Date().check(dt.date(2021, 4, 15)) == dt.date(2021, 4, 15)
    assert Date().check(dt.datetime(2021, 4, 15, 10, 0)) == dt.date(2021, 4, 15)
    assert Date().check(" 2021-04-15 ") == dt.date(2021, 4, 15)
    for bad in ("2021-02-30", "15/04/2021", "2021", 2021, None):
        exc = invalid(Date(), bad)
        assert exc.message.startswith("expected a date, got ") and "YYYY-MM-DD" in exc.fix


def test_time():
    assert Time().check("19:30") == dt.time(19, 30)
    assert Time().check(1170) == dt.time(19, 30)  # YAML 1.1 reads 19:30 as base-60 1170
    assert Time().check(load_yaml("t: 9:05\n")["t"]) == dt.time(9, 5)
    for bad in ("24:00", "7pm", "19:60", True):
        exc = invalid(Time(), bad)
        assert exc.message.startswith("expected a time") and '"HH:MM"' in exc.fix


# --- Choice ------------------------------------------------------------------------------------

def test_choice():
    assert Choice(ct.LISTS).check("china") == "china"
    exc = invalid(Choice(ct.LISTS), "wrold")
    assert exc.message == "the text 'wrold' is not one of world, china"
    assert exc.fix == "did you mean 'world'? use one of: world, china"
    assert invalid(Choice(ct.LISTS), "global").fix == "use one of: world, china"
    assert invalid(Choice(ct.LISTS), None).message.startswith("nothing")


# --- ListOf ------------------------------------------------------------------------------------

def test_list_single_value_is_a_one_item_list():
    assert ListOf(Text()).check("甲公司") == ["甲公司"]
    assert ListOf(Int()).check(3) == [3]


def test_list_refuses():
    assert invalid(ListOf(Text()), {"a": 1}).message == "expected a list, got a mapping"
    assert invalid(ListOf(Text(), min_items=1), []).message == "is an empty list"
    exc = invalid(ListOf(Text()), ["a", "b", "a"])
    assert exc.message == "item 3 ('a') is listed twice" and exc.fix == "remove the repeat"
    assert ListOf(Text(), unique=False).check(["a", "a"]) == ["a", "a"]


def test_list_item_error_has_the_item_line():
    data = load_yaml("k:\n  - a\n  - 5\n")
    exc = invalid(ListOf(Text()), data["k"])
    assert exc.message == "item 2: expected text, got the number 5"
    assert exc.line == 3


def test_list_of_objects_does_not_accept_a_single_string():
    exc = invalid(ListOf(Obj(ct.LINK)), "https://x.y")
    assert exc.message == "expected a list, got the text 'https://x.y'"


# --- Obj, MapOf, OneOf -------------------------------------------------------------------------

def test_obj_reports_field_and_line():
    data = load_yaml("s:\n  url: https://a.b\n  date: soon\n")
    exc = invalid(Obj(ct.SOURCE), data["s"])
    assert (exc.sub, exc.line) == ("date", 3)
    assert exc.message.startswith("expected a date")
    assert invalid(Obj(ct.SOURCE), "x").message == "expected a mapping of fields, got the text 'x'"


def test_map_of():
    data = load_yaml("m:\n  good:\n    name: a\n    name_en: b\n  Bad_Key:\n    name: c\n    name_en: d\n")
    exc = invalid(MapOf(Obj(ct.TERM)), data["m"])
    assert (exc.sub, exc.line) == ("Bad_Key", 5)
    data = load_yaml("m:\n  good:\n    name: a\n")
    exc = invalid(MapOf(Obj(ct.TERM)), data["m"])
    assert exc.sub == "good.name_en" and exc.message == "is required"
    assert invalid(MapOf(Text()), ["a"]).message == "expected a mapping of keys, got a list"


def test_one_of():
    kind = OneOf((Url(), Obj(ct.SOURCE)))
    assert kind.check("https://a.b") == "https://a.b"
    assert kind.check({"url": "https://a.b"})["url"] == "https://a.b"
    exc = invalid(kind, {"publisher": "x"})  # the mapping's error is more useful than "expected text"
    assert exc.sub == "url" and exc.message == "is required"


# --- Schema.validate ---------------------------------------------------------------------------

SMALL = Schema("Small", (
    Field("title", Text(), required=True, doc="the title"),
    Field("summary", Text()),
    Field("count", Int(0, 9), default=1),
    Field("tags", ListOf(KEY), default=[]),
))


def validate(text: str, schema: Schema = SMALL):
    problems = Problems()
    values = schema.validate(load_yaml(text), "f.yaml", problems)
    return values, [str(p) for p in problems.errors]


def test_validate_clean_values_and_defaults():
    values, errors = validate("title: ' T '\n")
    assert errors == []
    assert values == {"title": "T", "summary": None, "count": 1, "tags": []}


def test_validate_collects_every_error():
    values, errors = validate("summery: x\ncount: 12\ntags: [a, B]\n")
    assert errors == [
        "f.yaml:1: summery: unknown field — did you mean 'summary'?",
        "f.yaml:1: title: is required — add 'title: …' (the title)",
        "f.yaml:2: count: 12 is out of range (0–9) — use a number from 0 to 9",
        "f.yaml:3: tags: item 2: 'B' is not valid — use lower-case ASCII letters, digits and single hyphens, "
        "e.g. cnc-robots",
    ]
    assert values["count"] == 1 and values["tags"] == []  # wrong values fall back to defaults


def test_unknown_field_without_a_close_match_lists_the_fields():
    _, errors = validate("title: t\nzzz: 1\n")
    assert errors == ["f.yaml:2: zzz: unknown field — remove it; known fields: count, summary, tags, title"]


def test_required_field_given_empty_points_at_its_line():
    _, errors = validate("summary: s\ntitle:\n")
    assert errors == ["f.yaml:2: title: is required — add 'title: …' (the title)"]


def test_nested_errors_name_the_path_and_line():
    _, errors = validate("year: 2021\nrelease:\n  event: e\n  date: 2021-13-01\n", ct.YEAR)
    assert errors == ["f.yaml:4: release.date: expected a date, got the text '2021-13-01', which is not a day of "
                      "the calendar (month must be in 1..12) — check the month and the day (YYYY-MM-DD)"]


def test_validate_not_a_mapping():
    problems = Problems()
    values = SMALL.validate(load_yaml("- a\n- b\n"), "f.yaml", problems)
    assert values == {"title": None, "summary": None, "count": 1, "tags": []}
    [error] = problems.errors
    assert (error.line, error.field) == (1, "") and "got a list" in error.message


def test_validate_with_prefix():
    problems = Problems()
    ct.TERM.validate(load_yaml("name: a\nnam_en: b\n"), "i.yaml", problems, prefix="rail.")
    assert [(p.field, p.message) for p in problems.errors] == [
        ("rail.name_en", "is required"), ("rail.nam_en", "unknown field")]  # sorted by line: 1, 2


def test_extra_keys_are_kept():
    schema = Schema("Open", (Field("a", Int()),), extra_keys=True)
    problems = Problems()
    assert schema.validate({"a": 1, "b": 2}, "f", problems) == {"a": 1, "b": 2}
    assert not problems


# --- the content types -------------------------------------------------------------------------

def test_advance_messages():
    text = ("title: no\nyear: '2021'\nlist: World\nrank: 11\norganizations: []\nsource: www.x.org\n"
            "categories: [cnc-robots, cnc-robots]\n")
    _, errors = validate(text, ct.ADVANCE)
    assert errors == [
        "f.yaml:1: title: expected text, got the boolean false (YAML reads yes/no/on/off/true/false as booleans)"
        ' — put the word in quotes, e.g. "no" or "on", so it stays text',
        "f.yaml:2: year: expected a whole number, got the text '2021' — write digits only, e.g. 2021",
        "f.yaml:3: list: the text 'World' is not one of world, china — did you mean 'world'? use one of: world, "
        "china",
        "f.yaml:4: rank: 11 is out of range (1–10) — use a number from 1 to 10",
        "f.yaml:5: organizations: is an empty list — give at least one item",
        "f.yaml:6: source: expected a mapping of fields, got the text 'www.x.org' — write 'field: value' lines "
        "(url, publisher, date, note)",
        "f.yaml:7: categories: item 2 ('cnc-robots') is listed twice — remove the repeat",
    ]


def test_advance_source_forms():
    for text in ("source: https://a.b\n", "source: {url: https://a.b, publisher: p, date: 2023-12-09}\n"):
        values, errors = validate("title: t\nyear: 2021\nlist: world\norganizations: [a]\n" + text, ct.ADVANCE)
        assert errors == [] and values["source"]


def test_year_timeline_step():
    _, errors = validate("year: 2021\ntimeline:\n  - step: opens\n", ct.YEAR)
    assert len(errors) == 1 and errors[0].startswith("f.yaml:3: timeline.step: item 1: the text 'opens'")


# --- JSON Schema -------------------------------------------------------------------------------

def test_json_schema_shape():
    out = SMALL.json_schema()
    assert out == {
        "type": "object", "title": "Small", "additionalProperties": False, "required": ["title"],
        "properties": {
            "title": {"description": "the title", "type": "string", "minLength": 1, "maxLength": 2000},
            "summary": {"type": "string", "minLength": 1, "maxLength": 2000},
            "count": {"type": "integer", "minimum": 0, "maximum": 9},
            "tags": {"type": "array", "items": KEY.json(), "uniqueItems": True},
        },
    }


def test_kind_json():
    assert KEY.json()["pattern"] == "^(?:[a-z0-9]+(?:-[a-z0-9]+)*)$"
    assert Url().json() == {"type": "string", "format": "uri", "pattern": "^https?://"}
    assert Bool().json() == {"type": "boolean"}
    assert Date().json() == {"type": "string", "format": "date"}
    assert Choice(("a", "b")).json() == {"enum": ["a", "b"]}
    assert ListOf(Obj(ct.LINK), min_items=1).json()["minItems"] == 1
    assert "uniqueItems" not in ListOf(Obj(ct.LINK)).json()
    assert MapOf(Text()).json()["propertyNames"] == KEY.json()
    assert OneOf((Url(), Bool())).json() == {"anyOf": [Url().json(), Bool().json()]}


@pytest.mark.parametrize("schema", [CONFIG, ct.ADVANCE, ct.YEAR, ct.PAGE, ct.TERM, ct.CATEGORY, ct.SOCIETY])
def test_json_schemas_are_valid_and_complete(schema):
    jsonschema = pytest.importorskip("jsonschema")
    out = schema.json_schema()
    jsonschema.Draft202012Validator.check_schema(out)
    assert set(out["properties"]) == {f.name for f in schema.fields}
    assert out["required"] == [f.name for f in schema.fields if f.required]
    assert out["additionalProperties"] is False


def test_json_schema_accepts_what_validate_accepts():
    jsonschema = pytest.importorskip("jsonschema")
    text = ("title: 标题\ntitle_en: Title\nyear: 2021\nlist: world\nrank: 1\norganizations: [甲]\n"
            "categories: [cnc-robots]\nlinks: [{title: t, url: 'https://a.b'}]\nsource: {url: 'https://a.b'}\n")
    _, errors = validate(text, ct.ADVANCE)
    assert errors == []
    jsonschema.validate(load_yaml(text), ct.ADVANCE.json_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**load_yaml(text), "rank": 11}, ct.ADVANCE.json_schema())


@pytest.mark.parametrize("value, message, fix", [
    ("2021/9/1", "expected a date, got the text '2021/9/1'", "write it as 2021-09-01 (YYYY-MM-DD: hyphens, "
                                                              "two-digit month and day)"),
    ("2021-9-1", "expected a date, got the text '2021-9-1'", "write it as 2021-09-01 (YYYY-MM-DD: hyphens, "
                                                              "two-digit month and day)"),
    ("2021年9月1日", "expected a date, got the text '2021年9月1日'", "write it as 2021-09-01 (YYYY-MM-DD: hyphens, "
                                                                   "two-digit month and day)"),
    (20210901, "expected a date, got the number 20210901", "write it as 2021-09-01 (YYYY-MM-DD: hyphens, "
                                                           "two-digit month and day)"),
    ("2021-09-01 19:30", "expected a date, got the text '2021-09-01 19:30'",
     "this field takes the day only, as YYYY-MM-DD: write 2021-09-01"),
    ("01.09.2021", "expected a date, got the text '01.09.2021'",
     "write it year first as YYYY-MM-DD (01.09.2021 could be 1 September or 9 January), e.g. 2021-09-01"),
    ("2021-02-29", "expected a date, got the text '2021-02-29', which is not a day of the calendar "
                   "(day is out of range for month)", "check the month and the day (YYYY-MM-DD)"),
    ("2021/13/01", "expected a date, got the text '2021/13/01', which is not a day of the calendar "
                   "(month must be in 1..12)", "check the month and the day (YYYY-MM-DD)"),
    ("Sept 1, 2021", "expected a date, got the text 'Sept 1, 2021'", "write it as YYYY-MM-DD, e.g. 2021-04-15"),
    (True, "expected a date, got the boolean true", "write it as YYYY-MM-DD, e.g. 2021-04-15"),
])
def test_odd_date_formats_get_a_clear_fix(value, message, fix):
    """Issue 9: dates the way people write them are refused with the exact ISO spelling to use."""
    exc = invalid(Date(), value)
    assert exc.message.startswith(message) and exc.fix == fix


def test_numbers_are_quoted_as_written():
    from sitegen.yamlio import load_yaml

    data = load_yaml("a: 010\nb: 19:30\nc: 1.10\n")
    fixes = [invalid(Text(), data[key]) for key in "abc"]
    assert [e.fix for e in fixes] == ['put it in quotes: "010"', 'put it in quotes: "19:30"', 'put it in quotes: "1.10"']
    assert fixes[1].message == "expected text, got 19:30 (which YAML reads as the number 1170)"
