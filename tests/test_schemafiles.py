"""sitegen.schemafiles (`sitegen schema`): the committed JSON Schema files are current, and they give the
same verdict as the validator on every bundled content file and every fixture file.

Files are read the way sitegen reads them (sitegen.yamlio) and dates become ISO strings, which is what an
editor's YAML tooling sees.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen import schemafiles
from sitegen.errors import Problems
from sitegen.schema import Invalid, MapOf, Obj
from sitegen.yamlio import ReadProblem, YAMLProblem, load_yaml, read_text, split_front_matter

jsonschema = pytest.importorskip("jsonschema")

REPO = Path(__file__).resolve().parents[1]
SITES = REPO / "tests" / "sites"
COMMITTED = REPO / schemafiles.DEFAULT_OUT
BY_NAME = {item.name: item for item in schemafiles.SCHEMA_FILES}


def run_sitegen(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sitegen", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def schema_file_for(rel: str):
    """The SchemaFile describing a site-relative path, or None."""
    if rel.endswith(".en.md"):
        return None
    for item in schemafiles.SCHEMA_FILES:
        if any(fnmatch.fnmatch(rel, glob.replace("{content}", "content")) for glob in item.globs):
            return item
    return None


def plain(value):
    """What an editor's YAML tooling sees: plain dicts and lists, dates as ISO strings."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def load(path: Path, item):
    """The YAML data of a file as sitegen reads it; raises ReadProblem/YAMLProblem like sitegen does."""
    text = read_text(path)
    data = split_front_matter(text).meta if item.front_matter else load_yaml(text)
    return {} if data is None else data  # an empty front matter or file has no fields


def validator_accepts(item, data) -> bool:
    """The validator's schema stage verdict (the stage of content.py / config.py that uses the Schema)."""
    kind = MapOf(Obj(item.schema)) if item.keyed else Obj(item.schema)
    try:
        kind.check(data)
    except Invalid:
        return False
    return True


def json_accepts(item, data) -> bool:
    validator = jsonschema.Draft7Validator(schemafiles.json_schema(item), format_checker=jsonschema.FormatChecker())
    return validator.is_valid(plain(data))


def site_files(root: Path, under: str = ""):
    """(path, site-relative path, SchemaFile) of every file in a site folder that has a schema."""
    for path in sorted(p for p in (root / under).rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        item = schema_file_for(rel)
        if item is not None:
            yield path, rel, item


def bundled_files():
    yield REPO / "config.yaml", "config.yaml", BY_NAME["config"]
    yield from site_files(REPO, "content")


def fixture_files():
    """Every schema-described file under tests/sites/ (minimal site and the invalid overlays)."""
    for site in sorted([SITES / "minimal", *(SITES / "invalid").iterdir()]):
        if site.is_dir():
            for path, rel, item in site_files(site):
                yield pytest.param(path, item, id=f"{site.name}/{rel}")


# --- The committed files ------------------------------------------------------------------------

def test_committed_schema_files_are_up_to_date():
    """Run `sitegen schema` after changing a schema in contenttypes.py or config.py."""
    expected = {item.file_name: schemafiles.render(item) for item in schemafiles.SCHEMA_FILES}
    present = {p.name: p.read_bytes() for p in COMMITTED.glob("*.schema.json")}
    assert sorted(present) == sorted(expected), "stale or missing files in docs/schemas/: run `sitegen schema`"
    for name, data in expected.items():
        assert present[name] == data, f"docs/schemas/{name} is out of date: run `sitegen schema`"


@pytest.mark.parametrize("item", schemafiles.SCHEMA_FILES, ids=lambda i: i.name)
def test_schema_files_are_valid_draft7(item):
    data = json.loads(schemafiles.render(item))
    jsonschema.Draft7Validator.check_schema(data)
    assert data["$schema"] == "http://json-schema.org/draft-07/schema#"
    # every field of the validator's schema is described, with its documentation for hover text
    entry = data["additionalProperties"] if item.keyed else data
    assert list(entry["properties"]) == [f.name for f in item.schema.fields]
    for fld in item.schema.fields:
        assert entry["properties"][fld.name].get("description") == (fld.doc or None)
    assert entry.get("required", []) == [f.name for f in item.schema.fields if f.required]


def test_every_content_type_has_a_schema_file():
    from sitegen import contenttypes as ct
    from sitegen.config import CONFIG
    described = {id(item.schema) for item in schemafiles.SCHEMA_FILES}
    wanted = (CONFIG, ct.ADVANCE, ct.PAGE, ct.LECTURE, ct.NEWS, ct.YEAR, ct.CATEGORY, ct.TERM, ct.SOCIETY)
    assert {id(schema) for schema in wanted} <= described


def test_command_writes_the_files_and_prints_the_vscode_setting(tmp_path):
    for name in ("content", "themes"):
        (tmp_path / name).symlink_to(REPO / name)
    (tmp_path / "config.yaml").write_bytes((REPO / "config.yaml").read_bytes())
    result = run_sitegen("schema", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "docs" / "schemas").iterdir())
    assert written == sorted(item.file_name for item in schemafiles.SCHEMA_FILES)
    for item in schemafiles.SCHEMA_FILES:
        assert (tmp_path / "docs" / "schemas" / item.file_name).read_bytes() == schemafiles.render(item)
    setting = json.loads(result.stdout[result.stdout.index("{"):result.stdout.rindex("}") + 1])
    assert setting["yaml.schemas"]["docs/schemas/year.schema.json"] == "content/years/*.yaml"
    assert setting["yaml.schemas"]["docs/schemas/config.schema.json"] == "config.yaml"
    assert not any("advance" in key for key in setting["yaml.schemas"])  # front matter: not for that extension

    other = run_sitegen("schema", "--out", "elsewhere", cwd=tmp_path)
    assert other.returncode == 0, other.stderr
    assert len(list((tmp_path / "elsewhere").glob("*.schema.json"))) == len(schemafiles.SCHEMA_FILES)
    again = run_sitegen("schema", cwd=tmp_path)
    assert "(0 changed)" in again.stdout


# --- Same verdicts as the validator ---------------------------------------------------------------

@pytest.mark.parametrize("path, rel, item", list(bundled_files()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_bundled_file_is_valid_for_both(path, rel, item):
    data = load(path, item)
    assert validator_accepts(item, data), rel
    validator = jsonschema.Draft7Validator(schemafiles.json_schema(item), format_checker=jsonschema.FormatChecker())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(plain(data))]
    assert errors == [], rel


def test_the_bundled_content_is_covered():
    kinds = {item.name for _path, _rel, item in bundled_files()}
    assert {"config", "categories", "industries", "societies", "year", "advance", "page"} <= kinds


@pytest.mark.parametrize("path, item", list(fixture_files()))
def test_same_verdict_on_every_fixture_file(path, item):
    """Every file of every fixture site that sitegen can parse: the JSON Schema accepts it exactly when the
    validator's schema stage does. (Files sitegen cannot parse — bad YAML, encodings — are not schema matters.)"""
    try:
        data = load(path, item)
    except (ReadProblem, YAMLProblem):
        pytest.skip("not parseable: a YAML/encoding error, reported before any schema applies")
    assert json_accepts(item, data) == validator_accepts(item, data)


# Fixtures the validator rejects for a schema reason, with the file and the reason. Both must reject the
# file, and `sitegen check` must report the error at that file.
SCHEMA_REASONS = [
    ("config-unknown-key", "config.yaml", "unknown field"),
    ("config-wrong-type", "config.yaml", "type"),
    ("empty-front-matter", "content/advances/2021/world-x.md", "required"),
    ("empty-year-file", "content/years/2021.yaml", "required"),
    ("front-matter-list", "content/advances/2021/world-x.md", "type"),
    ("invalid-date", "content/years/2021.yaml", "format"),
    ("many-errors-one-file", "content/advances/2021/world-x.md", "range, minItems, pattern, type, required"),
    ("missing-organizations", "content/advances/2021/world-x.md", "required"),
    ("page-errors", "content/pages/about.md", "type"),
    ("rank-11", "content/advances/2021/world-x.md", "range"),
    ("title-no", "content/advances/2021/world-x.md", "type (YAML 1.1 boolean)"),
    ("title-number", "content/advances/2021/world-x.md", "type"),
    ("two-files", "content/advances/2021/world-x.md", "range"),
    ("two-files", "content/societies.yaml", "pattern (web address)"),
    ("unknown-field", "content/advances/2021/world-x.md", "unknown field"),
    ("unknown-list", "content/advances/2021/world-five-axis.md", "enum"),
    ("year-chinese", "content/advances/2021/world-x.md", "type"),
]

# Fixtures rejected for reasons no single file's schema can see (other files, taxonomy keys, file
# names): the file itself is valid for both, and only `sitegen check` finds the problem.
CROSS_FILE_REASONS = [
    ("also-in-unknown", "content/advances/2021/china-defect-vision.md"),
    ("duplicate-rank", "content/advances/2021/china-x.md"),
    ("eleven-in-list", "content/advances/2021/world-extra-9.md"),
    ("missing-year-file", "content/advances/2022/world-x.md"),
    ("no-source", "content/advances/2021/world-x.md"),
    ("slug-collision", "content/advances/2021/world-x.md"),
    ("unknown-category", "content/advances/2021/world-x.md"),
    ("unknown-industry", "content/advances/2021/world-x.md"),
    ("unknown-society", "content/advances/2021/world-x.md"),
    ("year-file-mismatch", "content/years/2021.yaml"),
    ("year-mismatch", "content/advances/2021/world-x.md"),
    ("duplicate-category-key", "content/categories.yaml"),
]


def expected_errors(case: str) -> list[str]:
    text = (SITES / "invalid" / case / "expected.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("case, rel, reason", SCHEMA_REASONS, ids=lambda v: v if "/" not in v else "")
def test_schema_reasons_are_rejected_by_both(case, rel, reason):
    item = schema_file_for(rel)
    data = load(SITES / "invalid" / case / rel, item)
    assert not validator_accepts(item, data), reason
    assert not json_accepts(item, data), reason
    assert any(line.startswith(rel + ":") for line in expected_errors(case)), "sitegen check rejects it"


@pytest.mark.parametrize("case, rel", CROSS_FILE_REASONS, ids=lambda v: v if "/" not in v else "")
def test_cross_file_reasons_pass_both_schemas(case, rel):
    item = schema_file_for(rel)
    data = load(SITES / "invalid" / case / rel, item)
    assert validator_accepts(item, data)
    assert json_accepts(item, data)
    assert expected_errors(case), "sitegen check rejects it"


def test_valid_files_are_accepted_by_both():
    for path, rel, item in site_files(SITES / "minimal"):
        data = load(path, item)
        assert validator_accepts(item, data) and json_accepts(item, data), rel


# --- The editor adjustments ------------------------------------------------------------------------

def test_empty_optional_fields_are_accepted_and_empty_required_ones_are_not():
    advance = BY_NAME["advance"]
    base = {"title": "标题", "year": 2021, "list": "world", "organizations": ["甲"], "demo": True}
    empty = {f.name: None for f in advance.schema.fields if not f.required}
    assert validator_accepts(advance, {**base, **empty}) and json_accepts(advance, {**base, **empty})
    for fld in (f for f in advance.schema.fields if f.required):
        data = {**base, fld.name: None}
        assert not validator_accepts(advance, data) and not json_accepts(advance, data), fld.name


@pytest.mark.parametrize("value, ok", [("甲公司", True), (["甲公司"], True), ([], False), (2021, False),
                                       ([None], False), (["甲", "甲"], False)])
def test_a_single_value_for_a_list_is_judged_alike(value, ok):
    advance = BY_NAME["advance"]
    data = {"title": "标题", "year": 2021, "list": "world", "organizations": value, "demo": True}
    assert validator_accepts(advance, data) is ok
    assert json_accepts(advance, data) is ok


def test_problems_are_not_needed_for_the_verdict():
    # validator_accepts uses Obj.check, which runs Schema.validate: the same function content.py calls.
    problems = Problems()
    BY_NAME["advance"].schema.validate({"title": "t"}, "x.md", problems)
    assert problems.errors and not validator_accepts(BY_NAME["advance"], {"title": "t"})
