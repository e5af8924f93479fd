"""Reading text, YAML and front matter safely, keeping the line of every key.

YAML is parsed with the C loader when PyYAML has it. Mappings come back as :class:`LineDict`, which
remembers the (1-based, file-relative) line of each key so that later stages can report
``path:line``. Duplicate keys, anchors/aliases, custom tags and tabs are reported as problems, never
as tracebacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_DEPTH = 50


class LineDict(dict):
    """A dict that knows the line of the mapping and of each of its keys."""

    line: int = 0
    lines: dict

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = {}

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


class LineList(list):
    """A list that knows the line of each item."""

    line: int = 0
    lines: list

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = []

    def line_of(self, index: int) -> int:
        return self.lines[index] if index < len(self.lines) else self.line


class YAMLProblem(Exception):
    def __init__(self, line: int, field: str, message: str, fix: str):
        super().__init__(message)
        self.line, self.field, self.message, self.fix = line, field, message, fix


def _key_path(stack: list[str]) -> str:
    return ".".join(stack)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader: line-tracking containers, no duplicate keys, no aliases, decimal ints."""

    line_offset = 0

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def _line(self, node) -> int:
        return node.start_mark.line + 1 + self.line_offset

    def construct_object(self, node, deep=False):
        if node in self.constructed_objects or node in self.recursive_objects:
            raise YAMLProblem(self._line(node), "", "anchors and aliases (&name / *name) are not allowed",
                              "write the value out in full")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YAMLProblem(self._line(node), "", f"nesting deeper than {MAX_DEPTH} levels",
                                  "flatten the structure")
            return super().construct_object(node, deep=True)
        finally:
            self._depth -= 1

    def construct_yaml_map(self, node):
        data = LineDict()
        data.line = self._line(node)
        yield data
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YAMLProblem(self._line(key_node), "", "merge keys (<<: *name) are not allowed",
                                  "write the fields out in full")
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node)
            if not isinstance(key, str):
                key = str(key).lower() if isinstance(key, bool) else str(key)
            if key in data:
                raise YAMLProblem(self._line(key_node), key,
                                  f"duplicate key (first set on line {data.lines[key]})",
                                  "keep only one of them")
            if value_node in self.constructed_objects or value_node in self.recursive_objects:
                # An alias: report it on its own key, not on the line of the anchor it repeats.
                raise YAMLProblem(self._line(key_node), key, "anchors and aliases (&name / *name) are not allowed",
                                  "write the value out in full")
            try:
                data[key] = self.construct_object(value_node)
            except YAMLProblem as exc:
                exc.field = f"{key}.{exc.field}" if exc.field else key
                raise
            data.lines[key] = self._line(key_node)

    def construct_yaml_seq(self, node):
        data = LineList()
        data.line = self._line(node)
        data.lines = [self._line(child) for child in node.value]
        yield data
        data.extend(self.construct_object(child) for child in node.value)

    def construct_yaml_int(self, node):
        text = self.construct_scalar(node).replace("_", "")
        if re.fullmatch(r"[-+]?0[0-9]+", text):
            return int(text, 10)  # '010' means ten to an editor, not YAML 1.1's octal eight
        return super().construct_yaml_int(node)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:  # 2021-13-01 looks like a date but is none: keep the text for the schema to report
            return self.construct_scalar(node)

    def construct_undefined(self, node):
        raise YAMLProblem(self._line(node), "", f"the YAML tag {node.tag!r} is not allowed",
                          "remove the tag; only plain values, lists and mappings are read")


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_yaml_seq)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)
_Loader.add_constructor(None, _Loader.construct_undefined)


def load_yaml(text: str, line_offset: int = 0):
    """Parse one YAML document; raise :class:`YAMLProblem` with a file-relative line."""
    tab = re.search(r"^[ ]*\t", text, re.MULTILINE)
    if tab:
        line = text.count("\n", 0, tab.start()) + 1 + line_offset
        raise YAMLProblem(line, "", "indented with a tab character", "indent with spaces only")
    loader = _Loader(text)
    loader.line_offset = line_offset
    try:
        return loader.get_single_data()
    except YAMLProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = (exc.problem or exc.context or "invalid YAML").strip()
        if exc.context_mark and exc.problem and (exc.context or "").startswith("while scanning"):
            # A scanner error: the token started at the context mark (an unclosed quote is
            # otherwise reported at the end of the file).
            mark = exc.context_mark
            message = f"{message} {exc.context.strip()}"
        line = mark.line + 1 + line_offset if mark else line_offset + 1
        raise YAMLProblem(line, "", f"invalid YAML: {message}",
                          "check the indentation, colons and quotes on this line or the one above")
    except yaml.YAMLError as exc:
        raise YAMLProblem(line_offset + 1, "", f"invalid YAML: {exc}", "fix the YAML syntax")
    except RecursionError:
        raise YAMLProblem(line_offset + 1, "", "the YAML is nested too deeply", "flatten the structure")
    finally:
        loader.dispose()


class ReadProblem(Exception):
    def __init__(self, line: int, message: str, fix: str):
        super().__init__(message)
        self.line, self.message, self.fix = line, message, fix


def read_text(path: Path) -> str:
    """Read a UTF-8 file (a BOM is dropped, CRLF/CR become LF)."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ReadProblem(line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                          "save the file as UTF-8") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ReadProblem(line, "contains a NUL character", "remove it; content files are plain text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass
class FrontMatter:
    meta: object
    body: str
    body_line: int  # line of the body's first line in the file


_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)


def split_front_matter(text: str) -> FrontMatter:
    """Split ``---`` front matter from a Markdown body; raise :class:`YAMLProblem` on errors."""
    if not text.strip():
        raise YAMLProblem(1, "", "the file is empty", "start it with a front matter block between two '---' lines")
    if not text.startswith("---"):
        raise YAMLProblem(1, "", "missing front matter: the file must start with a '---' line",
                          "add '---', the YAML fields, then '---' before the text")
    first = _FENCE.match(text)
    if not first:
        raise YAMLProblem(1, "", "the first line must be exactly '---'", "put the fields on the lines after it")
    closing = _FENCE.search(text, first.end())
    if not closing:
        raise YAMLProblem(1, "", "the front matter block is not closed",
                          "add a line with exactly '---' after the last field")
    meta_text = text[first.end() + 1:closing.start()]
    meta = load_yaml(meta_text, line_offset=1)
    body_start = closing.end() + 1
    body_line = text.count("\n", 0, min(body_start, len(text))) + 1
    return FrontMatter(meta, text[body_start:], body_line)
