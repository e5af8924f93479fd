"""Open data: every advance as ``data/advances.json`` and ``data/advances.csv``.

The JSON holds one object per advance with every front-matter field (``null`` when not given; lists
empty), the advance's page URLs in both languages and the names of its categories, industries and
nominating society. Its JSON Schema is generated from the front-matter schema in
:mod:`sitegen.contenttypes` by :func:`data_schema`, published beside the data as
``data/advances.schema.json`` and kept in the repository as ``docs/open-data/advances.schema.json``
(regenerate it with ``python -m sitegen.opendata > docs/open-data/advances.schema.json``; a test
fails when the two differ).

The CSV has the same rows, one column per field; lists are joined with ``"; "``, links are written as
``title <url>``, and the source is split into ``source_url``, ``source_publisher``, ``source_date`` and
``source_note``. It is UTF-8 with a byte-order mark so spreadsheet programs open Chinese correctly.

Both files are deterministic: advances in the site's order (newest year first, World before China,
list order), keys in a fixed order, no build time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
import types
from collections.abc import Iterable, Iterator

from . import urls
from .contenttypes import ADVANCE
from .model import Advance, Term

SCHEMA_VERSION = 1
JSON_FILE, CSV_FILE, SCHEMA_FILE = "advances.json", "advances.csv", "advances.schema.json"
REPO_SCHEMA = "docs/open-data/advances.schema.json"
LIST_SEPARATOR = "; "
SOURCE_PARTS = ("url", "publisher", "date", "note")
_FIELDS = tuple(fld.name for fld in ADVANCE.fields)
# The CSV cells copied from the JSON object as they are (the others are split or looked up, see csv_row).
_PLAIN_COLUMNS = ("id", *(name for name in _FIELDS if name != "source"), "twin", "url", "url_en", "file")


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value):
    """JSON-ready form of a front-matter value: dates as ISO text, empty nested fields left out."""
    if type(value) in _SCALARS:  # most values: nothing to do (checked first, 350,000 calls at 10,000 advances)
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _name(term: Term, with_parent: bool = False) -> dict:
    out = {"key": term.key, "name": term.name, "name_en": term.name_en}
    if with_parent:
        out["parent"] = term.parent.key if term.parent else None
    return out


def advance_id(adv: Advance) -> str:
    """``<year>/<file name>``: the form ``also_in`` uses."""
    return f"{adv.meta['year']}/{adv.record.stem}"


def advance_object(adv: Advance, link: urls.Urls) -> dict:
    out = {
        "id": advance_id(adv),
        "file": adv.record.rel,
        "url": link.absolute(adv.route, "zh"),
        "url_en": link.absolute(adv.route, "en"),
    }
    meta = adv.meta
    for name in _FIELDS:
        out[name] = _plain(meta.get(name))
    out["category_names"] = [_name(t, with_parent=True) for t in adv.categories]
    out["top_category_names"] = [_name(t) for t in adv.top_categories]
    out["industry_names"] = [_name(t) for t in adv.industries]
    society = None
    if adv.society:
        society = {**_name(adv.society), "abbr": adv.society.extra.get("abbr")}
    out["society_name"] = society
    out["twin"] = advance_id(adv.other_list) if adv.other_list else None
    return out


def advances_document(site, link: urls.Urls, advances: Iterable[dict] | None = None) -> dict:
    """The data document; ``advances``: the advance objects (by default a list of them all)."""
    config = site.config.values
    return {
        "schema": link.absolute(urls.data_file(SCHEMA_FILE)),
        "schema_version": SCHEMA_VERSION,
        "title": config["title"],
        "title_en": config.get("title_en"),
        "url": link.absolute(urls.home()),
        "count": len(site.model.advances),
        "advances": [advance_object(adv, link) for adv in site.model.advances] if advances is None else advances,
    }


def csv_columns() -> list[str]:
    cols = ["id"]
    for fld in ADVANCE.fields:
        if fld.name == "source":
            cols += [f"source_{part}" for part in SOURCE_PARTS]
        else:
            cols.append(fld.name)
        if fld.name == "nominated_by":
            cols += ["nominated_by_name", "nominated_by_name_en"]
        if fld.name == "categories":
            cols += ["category_names", "category_names_en", "top_categories"]
        if fld.name == "industries":
            cols += ["industry_names", "industry_names_en"]
    return cols + ["twin", "url", "url_en", "file"]


def _cell(value) -> str:
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_SEPARATOR.join(f"{v['title']} <{v['url']}>" if isinstance(v, dict) else str(v) for v in value)
    return str(value)


def csv_row(obj: dict) -> dict:
    row = {key: _cell(obj[key]) for key in _PLAIN_COLUMNS}
    source = obj.get("source")
    parts = {"url": source} if isinstance(source, str) else source or {}
    for part in SOURCE_PARTS:
        row[f"source_{part}"] = _cell(parts.get(part))
    society = obj["society_name"] or {}
    row["nominated_by_name"] = _cell(society.get("name"))
    row["nominated_by_name_en"] = _cell(society.get("name_en"))
    row["category_names"] = _cell([c["name"] for c in obj["category_names"]])
    row["category_names_en"] = _cell([c["name_en"] for c in obj["category_names"]])
    row["top_categories"] = _cell([c["key"] for c in obj["top_category_names"]])
    row["industry_names"] = _cell([c["name"] for c in obj["industry_names"]])
    row["industry_names_en"] = _cell([c["name_en"] for c in obj["industry_names"]])
    return row


def _no_formula(cell: str) -> str:
    """Spreadsheets run a cell that starts with = + - @ (or a tab/CR) as a formula: the texts come from outside
    organisations, so such a cell is prefixed with an apostrophe (OWASP's CSV-injection advice)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def advances_csv(objects: Iterable[dict]) -> Iterator[bytes]:
    """The CSV of advance objects (see :func:`advance_object`), encoded and yielded a hundred rows at a time
    (at 10,000 advances the file is tens of MB)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    columns = csv_columns()
    writer.writerow(columns)
    prefix = "\ufeff"  # utf-8-sig: spreadsheet programs then read the file as UTF-8
    for count, obj in enumerate(objects, 1):
        row = csv_row(obj)
        writer.writerow([_no_formula(row[key]) for key in columns])
        if count % 100 == 0:
            yield (prefix + text.getvalue()).encode("utf-8")
            prefix = ""
            text.seek(0)
            text.truncate()
    yield (prefix + text.getvalue()).encode("utf-8")


def _json_bytes(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def document_parts(document: dict) -> Iterator[bytes]:
    """The data document, one line per top-level key and per advance, yielded line by line; a top-level list
    may be a generator, whose items are then made as they are written.

    As readable line by line (and as diffable) as an indented file, and written by json's C encoder,
    which ``indent`` turns off (10× slower at 10,000 advances).
    """
    def dump(value) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": ")).encode("utf-8")

    yield b"{\n"
    for index, (key, value) in enumerate(document.items()):
        yield b",\n  " if index else b"  "
        if isinstance(value, (list, types.GeneratorType)):
            empty = True
            for item in value:
                yield (dump(key) + b": [\n    " if empty else b",\n    ") + dump(item)
                empty = False
            yield dump(key) + b": []" if empty else b"\n  ]"
        else:
            yield dump(key) + b": " + dump(value)
    yield b"\n}\n"


def make_data_files(site, renderer):
    """File maker (see ``site.FILES``): the JSON, the CSV and the JSON's schema under ``data/``. The JSON and the
    CSV (tens of MB each at 10,000 advances) are written as they are made, an advance at a time: neither the
    files nor the advance objects are ever in memory whole."""
    def objects():
        return (advance_object(adv, renderer.urls) for adv in site.model.advances)

    yield urls.data_file(JSON_FILE), document_parts(advances_document(site, renderer.urls, objects()))
    yield urls.data_file(CSV_FILE), advances_csv(objects())
    yield urls.data_file(SCHEMA_FILE), _json_bytes(data_schema())


make_data_files.reads_bodies = False  # front matter only (see site.FILES)


def _nullable(schema: dict) -> dict:
    inner = {k: v for k, v in schema.items() if k != "description"}
    out = {"anyOf": [inner, {"type": "null"}]}
    if "description" in schema:
        out = {"description": schema["description"], **out}
    return out


def _term_name(with_parent: bool = False, abbr: bool = False) -> dict:
    props = {
        "key": {"type": "string", "description": "key in the taxonomy file"},
        "name": {"type": "string", "description": "Chinese name"},
        "name_en": {"type": ["string", "null"], "description": "English name"},
    }
    if with_parent:
        props["parent"] = {"type": ["string", "null"], "description": "key of the top-level category (null: it is one)"}
    if abbr:
        props["abbr"] = {"type": ["string", "null"], "description": "abbreviation"}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def data_schema() -> dict:
    """The JSON Schema of ``data/advances.json``, generated from the front-matter schema."""
    front = ADVANCE.json_schema()["properties"]
    props: dict = {
        "id": {"type": "string", "pattern": r"^\d{4}/[^/]+$",
               "description": "<year>/<file name without .md>, the form also_in uses"},
        "file": {"type": "string", "description": "the source file, relative to the project"},
        "url": {"type": "string", "format": "uri", "description": "the advance's page (Chinese)"},
        "url_en": {"type": "string", "format": "uri", "description": "the advance's page (English)"},
    }
    for fld in ADVANCE.fields:
        never_null = fld.required or fld.default is not None
        props[fld.name] = front[fld.name] if never_null else _nullable(front[fld.name])
    props["category_names"] = {"type": "array", "items": _term_name(with_parent=True),
                               "description": "the categories of `categories`, in the same order, with names"}
    props["top_category_names"] = {"type": "array", "items": _term_name(),
                                   "description": "the top-level categories these belong to, each once"}
    props["industry_names"] = {"type": "array", "items": _term_name(),
                               "description": "the industries of `industries`, with names"}
    props["society_name"] = {"anyOf": [_term_name(abbr=True), {"type": "null"}],
                             "description": "the nominating society of `nominated_by`, with its names"}
    props["twin"] = {"type": ["string", "null"],
                     "description": "id of the same advance on the other list of the year (also_in or same title)"}
    advance = {"type": "object", "title": "Advance", "properties": props, "required": list(props),
               "additionalProperties": False}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "sitegen open data: advances",
        "description": "data/advances.json: every published advance of the Intelligent Manufacturing Dual Top-10 "
                       "site, newest year first, World list before China list, in list order.",
        "type": "object",
        "properties": {
            "schema": {"type": "string", "format": "uri", "description": "where this schema is published"},
            "schema_version": {"const": SCHEMA_VERSION, "description": "changes when a field is renamed or removed"},
            "title": {"type": "string", "description": "site title, Chinese"},
            "title_en": {"type": ["string", "null"], "description": "site title, English"},
            "url": {"type": "string", "format": "uri", "description": "the site's home page"},
            "count": {"type": "integer", "minimum": 0, "description": "number of advances"},
            "advances": {"type": "array", "items": advance},
        },
        "required": ["schema", "schema_version", "title", "title_en", "url", "count", "advances"],
        "additionalProperties": False,
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(data_schema(), ensure_ascii=False, indent=2) + "\n")
