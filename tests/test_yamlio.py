"""sitegen.yamlio: YAML with the line of every key, front matter, and safe reading of text files."""

from __future__ import annotations

import datetime as dt

import pytest

from sitegen.yamlio import (LineDict, LineList, ReadProblem, YAMLProblem, load_yaml, read_text,
                            split_front_matter)


def problem(text: str, offset: int = 0) -> YAMLProblem:
    with pytest.raises(YAMLProblem) as info:
        load_yaml(text, line_offset=offset)
    return info.value


# --- lines -------------------------------------------------------------------------------------

def test_lines_of_keys_and_nested_mappings():
    data = load_yaml("a: 1\nb:\n  c: 2\n\n  d: [x, y]\nlist:\n  - one\n  - two\n")
    assert isinstance(data, LineDict)
    assert data.line == 1
    assert data.lines == {"a": 1, "b": 2, "list": 6}
    assert data["b"].line_of("c") == 3 and data["b"].line_of("d") == 5
    assert isinstance(data["list"], LineList) and data["list"].lines == [7, 8]
    assert data["list"].line_of(5) == data["list"].line  # out of range falls back to the list's line


def test_line_of_unknown_key_is_the_mapping_line():
    data = load_yaml("x: 1\nm:\n  a: 1\n")
    assert data["m"].line_of("missing") == 3


def test_line_offset_shifts_every_line():
    data = load_yaml("a: 1\nb: 2\n", line_offset=10)
    assert data.lines == {"a": 11, "b": 12}


def test_front_matter_lines_are_file_lines():
    fm = split_front_matter("---\ntitle: t\nyear: 2021\n---\n\n## Body\n")
    assert fm.meta.lines == {"title": 2, "year": 3}
    assert fm.meta.line == 2
    assert fm.body == "\n## Body\n"
    assert fm.body_line == 5


def test_front_matter_error_line_is_a_file_line():
    with pytest.raises(YAMLProblem) as info:
        split_front_matter("---\ntitle: t\n  year: 2021\n---\n")
    assert info.value.line == 3


def test_empty_line_dict_and_list_have_lines():
    assert LineDict().line_of("x") == 0
    assert LineList().line_of(0) == 0


# --- what is refused ---------------------------------------------------------------------------

def test_duplicate_key():
    exc = problem("title: a\nyear: 2021\ntitle: b\n")
    assert (exc.line, exc.field) == (3, "title")
    assert "first set on line 1" in exc.message


def test_duplicate_key_in_nested_mapping_names_the_path():
    exc = problem("release:\n  event: a\n  event: b\n")
    assert (exc.line, exc.field) == (3, "release.event")


def test_duplicate_key_line_includes_front_matter_offset():
    with pytest.raises(YAMLProblem) as info:
        split_front_matter("---\na: 1\nb: 2\na: 3\n---\n")
    assert (info.value.line, info.value.field) == (4, "a")


def test_alias_is_refused_on_the_line_of_the_alias():
    exc = problem("a: &x [1, 2]\nb: 2\nc: *x\n")
    assert (exc.line, exc.field) == (3, "c")
    assert "anchors and aliases" in exc.message


def test_alias_of_a_scalar_is_refused():
    exc = problem("a: &x hello\nb: *x\n")
    assert (exc.line, exc.field) == (2, "b")


def test_alias_in_a_list_is_refused():
    exc = problem("a: &x hello\nb:\n  - *x\n")
    assert exc.field == "b" and "anchors and aliases" in exc.message


def test_merge_key_is_refused():
    exc = problem("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
    assert (exc.line, exc.field) == (3, "other")
    assert "merge keys" in exc.message


def test_unused_anchor_is_harmless():
    assert load_yaml("a: &x 1\n") == {"a": 1}


@pytest.mark.parametrize("text", ["a: !!python/object:os.system [ls]\n", "a: !!python/name:os.system ''\n",
                                  "a: !custom 1\n"])
def test_custom_tags_are_refused(text):
    exc = problem(text)
    assert exc.line == 1 and exc.field == "a"
    assert "is not allowed" in exc.message


def test_tab_indentation():
    exc = problem("a:\n  b: 1\n\tc: 2\n")
    assert exc.line == 3
    assert "tab" in exc.message and "spaces" in exc.fix


def test_tab_indentation_line_includes_offset():
    assert problem("a: 1\n\tb: 2\n", offset=1).line == 3


def test_tab_inside_a_value_is_fine():
    assert load_yaml("a: x\ty\n") == {"a": "x\ty"}


def test_nesting_limit():
    deep = "a: " + "[" * 60 + "]" * 60 + "\n"
    assert "nest" in problem(deep).message


@pytest.mark.parametrize("text, line", [
    ('a: 1\nb: "open\nc: 3\n', 2),           # unclosed quote: the line where it opens, not end of file
    ("a: 1\nfoo\nbar: b\n", 2),              # a line without a colon
    ("a: 1\n  b: 2\n", 2),                   # bad indentation
    ("a: 1\n- b\n", 2),                      # a list item inside a mapping
    ("a: @x\n", 1),                          # a reserved character
])
def test_syntax_errors_name_the_line(text, line):
    exc = problem(text)
    assert exc.line == line, exc.message
    assert exc.message.startswith("invalid YAML: ") and exc.fix


def test_syntax_error_line_includes_front_matter_offset():
    with pytest.raises(YAMLProblem) as info:
        split_front_matter('---\ntitle: a\ntitle_en: "b\nyear: 2021\n---\n')
    assert info.value.line == 3


# --- values ------------------------------------------------------------------------------------

def test_octal_looking_numbers_are_decimal():
    assert load_yaml("a: 010\nb: 0010\nc: -07\nd: 1_000\n") == {"a": 10, "b": 10, "c": -7, "d": 1000}


def test_other_int_forms_still_work():
    assert load_yaml("a: 0x1f\nb: 0b101\nc: 0\nd: 0o17\n") == {"a": 31, "b": 5, "c": 0, "d": "0o17"}


def test_yaml_11_booleans_are_booleans():
    assert load_yaml("a: no\nb: yes\nc: 'no'\n") == {"a": False, "b": True, "c": "no"}


def test_dates():
    assert load_yaml("d: 2021-04-15\n") == {"d": dt.date(2021, 4, 15)}


def test_impossible_date_is_kept_as_text():
    assert load_yaml("d: 2021-02-30\ne: 2021-13-01\n") == {"d": "2021-02-30", "e": "2021-13-01"}


def test_non_string_keys_become_text():
    assert list(load_yaml("2021: a\ntrue: b\n")) == ["2021", "true"]


def test_empty_document_is_none():
    assert load_yaml("") is None
    assert load_yaml("# just a comment\n") is None


# --- reading files -----------------------------------------------------------------------------

def test_read_text_drops_bom(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    text = read_text(path)
    assert text == "a: 1\n"
    assert load_yaml(text).lines == {"a": 1}


def test_read_text_normalises_crlf_and_cr(tmp_path):
    path = tmp_path / "a.md"
    path.write_bytes(b"---\r\ntitle: t\r\nyear: 2021\r\n---\r\nbody\rmore\r\n")
    text = read_text(path)
    assert "\r" not in text
    fm = split_front_matter(text)
    assert fm.meta == {"title": "t", "year": 2021}
    assert fm.meta.lines == {"title": 2, "year": 3}
    assert fm.body == "body\nmore\n"


def test_read_text_bom_and_crlf_front_matter(tmp_path):
    path = tmp_path / "a.md"
    path.write_bytes("\ufeff---\r\ntitle: 标题\r\n---\r\n".encode("utf-8"))
    assert split_front_matter(read_text(path)).meta == {"title": "标题"}


def test_read_text_not_utf8(tmp_path):
    path = tmp_path / "a.md"
    path.write_bytes("---\ntitle: ok\n".encode() + "café\n".encode("latin-1"))
    with pytest.raises(ReadProblem) as info:
        read_text(path)
    assert info.value.line == 3
    assert "0xe9" in info.value.message and "UTF-8" in info.value.fix


def test_read_text_gbk_is_not_utf8(tmp_path):
    path = tmp_path / "a.md"
    path.write_bytes("标题\n".encode("gbk"))
    with pytest.raises(ReadProblem) as info:
        read_text(path)
    assert info.value.line == 1


def test_read_text_nul(tmp_path):
    path = tmp_path / "a.md"
    path.write_bytes(b"a\nb\x00\n")
    with pytest.raises(ReadProblem) as info:
        read_text(path)
    assert info.value.line == 2


# --- front matter ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("  \n\n", "empty"),
    ("title: x\n", "missing front matter"),
    ("\n---\ntitle: x\n---\n", "missing front matter"),
    ("---title: x\n---\n", "exactly '---'"),
    ("---\ntitle: x\n", "not closed"),
    ("---\ntitle: x\n----\n", "not closed"),
])
def test_front_matter_problems(text, message):
    with pytest.raises(YAMLProblem) as info:
        split_front_matter(text)
    assert message in info.value.message
    assert info.value.line == 1 and info.value.fix


def test_empty_front_matter_block():
    fm = split_front_matter("---\n---\nbody\n")
    assert fm.meta is None and fm.body == "body\n" and fm.body_line == 3


def test_fence_with_trailing_spaces_and_no_body():
    fm = split_front_matter("---  \ntitle: x\n---")
    assert fm.meta == {"title": "x"} and fm.body == ""


def test_later_fences_belong_to_the_body():
    fm = split_front_matter("---\ntitle: x\n---\nabove\n---\nbelow\n")
    assert fm.body == "above\n---\nbelow\n"


# --- hostile and broken input (issue 9) ---------------------------------------------------------

def run_child(code: str, stdin: str = "") -> dict:
    """Run ``code`` in a fresh interpreter (a crash there cannot take the test run down); it prints JSON."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, text=True, cwd=repo,
                          timeout=300)
    assert done.returncode == 0, f"exit status {done.returncode} (a negative status is a signal):\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


CHILD_LOAD = """
import json, resource, sys, time, tracemalloc
limit = 1 << 30  # a hard ceiling: an expanded bomb would need far more and die with MemoryError
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from sitegen.yamlio import YAMLProblem, load_yaml
text = sys.stdin.read()
tracemalloc.start()
cpu = time.process_time()
try:
    load_yaml(text, line_offset=1)
    out = {"loaded": True}
except YAMLProblem as exc:
    out = {"loaded": False, "line": exc.line, "field": exc.field, "message": exc.message, "fix": exc.fix}
out["cpu"] = time.process_time() - cpu
out["peak"] = tracemalloc.get_traced_memory()[1]
out["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(out))
"""


def billion_laughs(mapping: bool = False) -> str:
    """Ten levels of ten aliases: 10^9 strings if anything expanded it."""
    def node(items):
        if mapping:
            return "{" + ", ".join(f"k{i}: {item}" for i, item in enumerate(items)) + "}"
        return "[" + ", ".join(items) + "]"

    lines = ["a: &a " + node(['"lol"'] * 10)]
    for prev, cur in zip("abcdefghi", "bcdefghij"):
        lines.append(f"{cur}: &{cur} " + node([f"*{prev}"] * 10))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text", [
    billion_laughs(),
    billion_laughs(mapping=True),
    "a: &a [lol, lol]\nb: &b {x: *a, y: *a}\nc: {x: *b, y: *b}\n",
], ids=["lists", "mappings", "mixed"])
def test_billion_laughs_is_refused_quickly_with_bounded_memory(text):
    out = run_child(CHILD_LOAD, text)
    assert out["loaded"] is False
    assert out["message"] == "anchors and aliases (&name / *name) are not allowed"
    assert out["fix"] == "write the value out in full" and out["line"] == 3  # file line of 'b:' (offset 1)
    # Generous bounds: the refusal comes at the first alias, before anything is expanded (measured:
    # about 1 ms of CPU and a few KB). CPU time, not wall-clock time, so a busy machine does not matter.
    assert out["cpu"] < 2.0, out
    assert out["peak"] < 5 * 1024 * 1024, out
    assert out["maxrss_kib"] < 512 * 1024, out


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{a: ", "}"), ("[{a: ", "}]")])
def test_very_deep_nesting_is_refused_without_crashing(opening, closing):
    """PyYAML's C composer recurses once per level: 100,000 levels used to kill the interpreter (SIGSEGV)."""
    depth = 100_000
    out = run_child(CHILD_LOAD, "x: 1\ny: " + opening * depth + "1" + closing * depth + "\n")
    assert out["loaded"] is False and out["message"] == "nesting deeper than 50 levels"
    assert out["line"] == 3 and out["cpu"] < 2.0, out


def test_nesting_at_the_limit_loads():
    assert load_yaml("a: " + "[" * 49 + "]" * 49 + "\n") is not None


@pytest.mark.parametrize("text, field, shown", [
    ('title: "red \\x1b[31m text"\n', "title", "U+001B (ESC)"),
    ('title: "a\\0b"\n', "title", "U+0000 (NUL)"),
    ('list: [ok, "\\x85"]\n', "list", "U+0085"),
    ('"key\\x07": 1\n', "", "U+0007"),
    ('title: "x\\ry"\n', "title", "U+000D"),
])
def test_control_characters_written_as_escapes_are_refused(text, field, shown):
    exc = problem("a: 1\n" + text)
    assert exc.line == 2 and exc.field == field
    assert exc.message == f"contains the control character {shown}"


def test_tabs_and_line_breaks_in_values_are_fine():
    assert load_yaml('a: "x\\ty"\nb: |\n  one\n  two\n') == {"a": "x\ty", "b": "one\ntwo\n"}


@pytest.mark.parametrize("raw, line, shown", [
    (b"---\ntitle: t\n---\n\nWord line break\x0bhere\n", 5, "U+000B (a line break copied from Word)"),
    (b"a: 1\nb: \x1b[31m\n", 2, "U+001B (ESC)"),
    ("a: 中文\nb: x\u0085y\n".encode(), 2, "U+0085"),
    (b"\x0c\na: 1\n", 1, "U+000C (a page break)"),
])
def test_read_text_refuses_control_characters(tmp_path, raw, line, shown):
    path = tmp_path / "a.md"
    path.write_bytes(raw)
    with pytest.raises(ReadProblem) as info:
        read_text(path)
    assert (info.value.line, info.value.message) == (line, f"contains the control character {shown}")


def test_character_yaml_does_not_allow_is_reported_on_its_line():
    # The C parser counts bytes, not characters: the Chinese text before it must not shift the line.
    exc = problem("a: 中文中文中文中文中文中文中文中文\nb: 中文\nc: x\uffff\n", offset=1)
    assert exc.line == 4 and exc.message == "contains the character U+FFFF, which YAML does not allow"


def test_numbers_remember_how_they_were_written():
    data = load_yaml("a: 010\nb: 19:30\nc: 1_000\nd: 1.10\ne: 10\nf: 1.5\ng: 1e3\n")
    assert data == {"a": 10, "b": 1170, "c": 1000, "d": 1.1, "e": 10, "f": 1.5, "g": "1e3"}
    assert [getattr(data[k], "source", None) for k in "abcdef"] == ["010", "19:30", "1_000", "1.10", None, None]
    assert type(data["e"]) is int and type(data["f"]) is float  # plain numbers stay plain


def test_a_large_file_loads_whole(tmp_path):
    """A 6 MB body (every line kept, the line numbers right) is read in one linear pass."""
    from sitegen import contenttypes as ct
    from sitegen.content import parse_markdown
    from sitegen.errors import Problems

    paragraph = "五轴数控机床在航空结构件加工中实现了热误差实时补偿，精度提升 42%。\r\n\r\n"
    body = "## 背景与意义\r\n\r\n" + paragraph * (6 * 1024 * 1024 // len(paragraph.encode()))
    path = tmp_path / "world-big.md"
    path.write_bytes(("\ufeff---\r\ntitle: 大文件\r\nyear: 2021\r\nlist: world\r\norganizations: [Example AG]\r\n"
                      "demo: true\r\n---\r\n" + body).encode("utf-8"))
    assert path.stat().st_size > 6 * 1024 * 1024
    problems = Problems()
    record = parse_markdown(path, "content/advances/2021/world-big.md", "advance", ct.ADVANCE, problems)
    assert problems.items == []
    assert record.body == body.replace("\r\n", "\n") and record.body_line == 8
    assert record.meta["title"] == "大文件"
