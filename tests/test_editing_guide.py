"""docs/editing.md (the editors' guide) stays in step with the code: every field is explained, every complete
example passes the validator's schema, every command in it is accepted by the command line."""

from __future__ import annotations

import fnmatch
import re
import shlex
from pathlib import Path

import pytest

from sitegen import contenttypes as ct
from sitegen.cli import _parser
from sitegen.schema import MapOf, Obj
from sitegen.schemafiles import SCHEMA_FILES
from sitegen.yamlio import load_yaml

REPO = Path(__file__).resolve().parents[1]
GUIDE = (REPO / "docs" / "editing.md").read_text(encoding="utf-8")

EDITOR_SCHEMAS = [ct.ADVANCE, ct.SOURCE, ct.LINK, ct.YEAR, ct.RELEASE, ct.TIMELINE_STEP, ct.LECTURE, ct.SPEAKER,
                  ct.SOURCE_DOCUMENT, ct.NEWS, ct.PAGE, ct.TERM, ct.CATEGORY, ct.SOCIETY]


def code_blocks(language: str) -> list[str]:
    """The fenced code blocks whose info string is ``language`` ("" for plain blocks)."""
    blocks, current = [], None
    for line in GUIDE.splitlines(keepends=True):
        if line.startswith("```"):
            if current is None:
                current = (line[3:].strip(), [])
            else:
                if current[0] == language:
                    blocks.append("".join(current[1]))
                current = None
        elif current is not None:
            current[1].append(line)
    assert current is None, "unclosed code block"
    return blocks


@pytest.mark.parametrize("schema", EDITOR_SCHEMAS, ids=lambda s: s.title)
def test_every_field_is_explained(schema):
    missing = [f.name for f in schema.fields if f"`{f.name}`" not in GUIDE]
    assert missing == [], f"docs/editing.md does not mention {missing} of {schema.title}"


@pytest.mark.parametrize("value", [*ct.LISTS, *ct.TIMELINE_STEPS, *ct.LECTURE_STATUSES, *ct.NEWS_KINDS])
def test_every_choice_is_explained(value):
    assert f"`{value}`" in GUIDE


def examples():
    for block in code_blocks("yaml"):
        first = block.splitlines()[0]
        if first.startswith("# content/"):
            yield pytest.param(first[2:].strip(), block, id=first[2:].strip())


@pytest.mark.parametrize("rel, block", list(examples()))
def test_complete_examples_pass_the_schema(rel, block):
    item = next(i for i in SCHEMA_FILES
                if any(fnmatch.fnmatch(rel, g.replace("{content}", "content")) for g in i.globs))
    kind = MapOf(Obj(item.schema)) if item.keyed else Obj(item.schema)
    kind.check(load_yaml(block))  # raises Invalid with the field and the problem


def test_there_is_a_complete_example_of_each_kind_editors_add():
    kinds = {rel.split("/")[1] for rel, _block in (p.values for p in examples())}
    assert kinds == {"years", "advances", "lectures", "news"}


def commands():
    for line in GUIDE.splitlines():
        if line.startswith("| "):  # the quick-reference table
            for command in re.findall(r"`(sitegen [^`]+)`", line):
                yield command
    for block in code_blocks("bash"):
        for command in block.replace("\\\n", " ").splitlines():
            if command.startswith("sitegen "):
                yield command


@pytest.mark.parametrize("command", sorted(set(commands())))
def test_every_command_is_accepted(command):
    args = shlex.split(command)[1:]
    assert "--help" not in args
    _parser().parse_args(args)  # SystemExit (status 2) on an unknown command or option


def test_the_guide_has_the_tasks_and_the_readme_links_it():
    for heading in ("Add a year", "Add an advance", "Add a lecture", "Cancel or postpone a lecture", "Add news",
                    "Preview", "Check", "Publish", "Field reference", "Common errors"):
        assert re.search(rf"^##+ {re.escape(heading)}", GUIDE, re.MULTILINE), heading
    assert "docs/editing.md" in (REPO / "README.md").read_text(encoding="utf-8")


def test_quoted_errors_have_the_check_format():
    quoted = [line for block in code_blocks("") for line in block.splitlines() if re.match(r"^content/\S+:\d+: ", line)]
    assert len(quoted) >= 30
    for line in quoted:
        assert re.match(r"^content/[^\s:]+:\d+: .+ — .+$", line), line
