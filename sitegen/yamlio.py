"""Reading text, YAML and front matter safely, keeping the line of every key.

YAML is parsed with the C loader when PyYAML has it. Mappings come back as :class:`LineDict`, which
remembers the (1-based, file-relative) line of each key so that later stages can report
``path:line``. Duplicate keys, anchors/aliases, custom tags, tabs, nesting deeper than
:data:`MAX_DEPTH` and control characters are reported as problems, never as tracebacks (nor as a crash:
the nesting is measured on the parser's event stream before the C composer, which recurses once per
level, builds anything).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_DEPTH = 50

# Control characters an editor never means (C0 except tab and line feed, DEL, C1): invisible on screen,
# invalid in XML feeds and reported by HTML checkers. In files they are refused by :func:`read_text`; in
# YAML they can still be written as escapes ("\x1b"), which :class:`_Loader` refuses.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_IN_FILE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # CR is a line break here


def control_character(char: str) -> str:
    """``U+000B`` plus what an editor knows it as, for messages."""
    names = {"\x00": "NUL", "\x0b": "a line break copied from Word", "\x0c": "a page break", "\x1b": "ESC"}
    name = names.get(char)
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


class YAMLInt(int):
    """An int written in a form that does not read back as itself (``010``, ``19:30``, ``1_000``).

    ``source`` keeps what the editor wrote, so a message can tell them to quote exactly that.
    """

    source: str = ""


class YAMLFloat(float):
    """A float written in a form that does not read back as itself (``1.10``, ``1e+3``); see YAMLInt."""

    source: str = ""


def _with_source(cls, value, text: str):
    if text.strip() == str(value):
        return value
    out = cls(value)
    out.source = text.strip()
    return out


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
        for child in node.value:
            if child in self.constructed_objects or child in self.recursive_objects:
                # An alias is the very node it repeats (with the anchor's line): name the list it is in.
                raise YAMLProblem(data.line, "", "anchors and aliases (&name / *name) are not allowed",
                                  "write the value out in full")
        data.extend(self.construct_object(child) for child in node.value)

    def construct_scalar(self, node):
        value = super().construct_scalar(node)
        bad = _CONTROL.search(value) if isinstance(value, str) else None
        if bad:
            raise YAMLProblem(self._line(node), "", f"contains the control character {control_character(bad[0])}",
                              "remove it (it is invisible; in quotes it may be written as an escape like \\x1b)")
        return value

    def construct_yaml_int(self, node):
        written = self.construct_scalar(node)
        text = written.replace("_", "")
        if re.fullmatch(r"[-+]?0[0-9]+", text):
            value = int(text, 10)  # '010' means ten to an editor, not YAML 1.1's octal eight
        else:
            value = super().construct_yaml_int(node)
        return _with_source(YAMLInt, value, written)

    def construct_yaml_float(self, node):
        return _with_source(YAMLFloat, super().construct_yaml_float(node), self.construct_scalar(node))

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
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)
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
        _check_depth(text, line_offset)
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
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (e.g. U+FFFF)
        # The C parser counts UTF-8 bytes, the Python one characters.
        before = text.encode("utf-8")[:exc.position] if _Base is not yaml.SafeLoader else text[:exc.position]
        line = before.count(b"\n" if isinstance(before, bytes) else "\n") + 1 + line_offset
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        raise YAMLProblem(line, "", f"contains the character U+{char:04X}, which YAML does not allow",
                          "delete it or retype the text around it")
    except yaml.YAMLError as exc:
        raise YAMLProblem(line_offset + 1, "", f"invalid YAML: {exc}", "fix the YAML syntax")
    except RecursionError:
        raise YAMLProblem(line_offset + 1, "", "the YAML is nested too deeply", "flatten the structure")
    finally:
        loader.dispose()


def _check_depth(text: str, line_offset: int) -> None:
    """Refuse nesting deeper than MAX_DEPTH before anything is composed.

    PyYAML's C composer recurses once per nesting level: 100,000 ``[`` crash the interpreter (a
    segmentation fault, not an exception). The parser's event stream is flat, so counting its start and
    end events is safe, and it stops at the first level too deep.
    """
    parser = _Base(text)
    try:
        depth = 0
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YAMLProblem(event.start_mark.line + 1 + line_offset, "",
                                      f"nesting deeper than {MAX_DEPTH} levels", "flatten the structure")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    finally:
        parser.dispose()


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
    bad = _CONTROL_IN_FILE.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        if bad[0] == "\x00":
            raise ReadProblem(line, "contains a NUL character", "remove it; content files are plain text")
        raise ReadProblem(line, f"contains the control character {control_character(bad[0])}",
                          "delete it (it is invisible in most editors) or replace it with a line break")
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
