"""One schema mechanism for config.yaml and every content type.

A :class:`Schema` is a list of :class:`Field` s, each with a :class:`Kind` that checks a value and
describes itself as JSON Schema. ``Schema.validate`` returns the cleaned values and adds a problem for
every wrong field (unknown keys included, with a "did you mean" hint), so one pass reports all of
them. ``Schema.json_schema`` generates the JSON Schema editors' tools use — one source of truth.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import Problems
from .yamlio import LineDict, LineList


class Invalid(Exception):
    def __init__(self, message: str, fix: str = "", line: int = 0, sub: str = ""):
        super().__init__(message)
        self.message, self.fix, self.line, self.sub = message, fix, line, sub


def describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()} (YAML reads yes/no/on/off/true/false as booleans)"
    written = getattr(value, "source", "")  # yamlio.YAMLInt/YAMLFloat: 010, 19:30, 1.10 as the editor wrote it
    if isinstance(value, int):
        return f"{written} (which YAML reads as the number {value})" if written else f"the number {value}"
    if isinstance(value, float):
        return f"{written} (which YAML reads as the number {value:g})" if written else f"the number {value:g}"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"the date {value.isoformat()}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class Kind:
    """A value type: ``check`` returns the cleaned value or raises :class:`Invalid`."""

    def check(self, value: Any) -> Any:
        raise NotImplementedError

    def json(self) -> dict:
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Kind):
    max_len: int = 2000
    pattern: str | None = None
    pattern_hint: str = ""
    multiline: bool = False

    def check(self, value):
        if isinstance(value, bool) or not isinstance(value, str):
            if isinstance(value, bool):
                raise Invalid(f"expected text, got {describe(value)}",
                              'put the word in quotes, e.g. "no" or "on", so it stays text')
            written = getattr(value, "source", "") or value
            raise Invalid(f"expected text, got {describe(value)}", f'put it in quotes: "{written}"')
        value = value.strip()
        if not value:
            raise Invalid("is empty", "write a value or remove the field")
        if len(value) > self.max_len:
            raise Invalid(f"is {len(value)} characters long (at most {self.max_len})", "shorten it")
        if not self.multiline and "\n" in value:
            raise Invalid("must be on one line", "remove the line breaks")
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise Invalid(f"{value!r} is not valid", self.pattern_hint)
        return value

    def json(self):
        out: dict = {"type": "string", "minLength": 1, "maxLength": self.max_len}
        if self.pattern:
            out["pattern"] = f"^(?:{self.pattern})$"
        return out


KEY = Text(max_len=64, pattern=r"[a-z0-9]+(?:-[a-z0-9]+)*",
           pattern_hint="use lower-case ASCII letters, digits and single hyphens, e.g. cnc-robots")


@dataclass(frozen=True)
class Url(Kind):
    def check(self, value):
        value = Text(max_len=2000).check(value)
        if not re.match(r"https?://[^\s/]+", value):
            raise Invalid(f"{value!r} is not a web address", "write a full URL starting with https://")
        return value

    def json(self):
        return {"type": "string", "format": "uri", "pattern": "^https?://"}


@dataclass(frozen=True)
class Int(Kind):
    min: int | None = None
    max: int | None = None

    def check(self, value):
        if isinstance(value, bool) or not isinstance(value, int):
            hint = "write digits only, e.g. 2021" if isinstance(value, str) else "write a whole number"
            raise Invalid(f"expected a whole number, got {describe(value)}", hint)
        if self.min is not None and value < self.min or self.max is not None and value > self.max:
            raise Invalid(f"{value} is out of range ({self.min}–{self.max})",
                          f"use a number from {self.min} to {self.max}")
        return value

    def json(self):
        out: dict = {"type": "integer"}
        if self.min is not None:
            out["minimum"] = self.min
        if self.max is not None:
            out["maximum"] = self.max
        return out


@dataclass(frozen=True)
class Bool(Kind):
    def check(self, value):
        if not isinstance(value, bool):
            raise Invalid(f"expected true or false, got {describe(value)}", "write true or false")
        return value

    def json(self):
        return {"type": "boolean"}


@dataclass(frozen=True)
class Date(Kind):
    def check(self, value):
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise _odd_date(value)

    def json(self):
        return {"type": "string", "format": "date"}


_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_DMY = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")


def _odd_date(value: Any) -> Invalid:
    """The error for a value that is not a YYYY-MM-DD date, with the fix spelled out when it is clear."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    got = f"expected a date, got {describe(value)}"
    generic = "write it as YYYY-MM-DD, e.g. 2021-04-15"
    match = _YMD.match(text) or (re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text) if isinstance(value, int) else None)
    rest = text[match.end():].strip() if match else ""
    if match and (not rest or re.fullmatch(r"(?:T|\s)?\d{1,2}:\d{2}(?::\d{2})?.*", rest)):
        year, month, day = (int(g) for g in match.groups())
        try:
            fixed = dt.date(year, month, day)
        except ValueError as exc:
            return Invalid(f"{got}, which is not a day of the calendar ({exc})",
                           "check the month and the day (YYYY-MM-DD)")
        if rest:
            return Invalid(got, f"this field takes the day only, as YYYY-MM-DD: write {fixed.isoformat()}")
        return Invalid(got, f"write it as {fixed.isoformat()} (YYYY-MM-DD: hyphens, two-digit month and day)")
    if _DMY.fullmatch(text):
        return Invalid(got, "write it year first as YYYY-MM-DD (01.09.2021 could be 1 September or 9 January), "
                            "e.g. 2021-09-01")
    return Invalid(got, generic)


@dataclass(frozen=True)
class Time(Kind):
    def check(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML 1.1 reads an unquoted 19:30 as the base-60 number 1170.
            value = f"{value // 60:02d}:{value % 60:02d}"
        if isinstance(value, str):
            match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
            if match:
                return dt.time(int(match[1]), int(match[2]))
        raise Invalid(f"expected a time, got {describe(value)}", 'write it as "HH:MM", e.g. "19:30"')

    def json(self):
        return {"type": ["string", "integer"], "pattern": "^([01]?[0-9]|2[0-3]):[0-5][0-9]$"}


@dataclass(frozen=True)
class DateTime(Kind):
    """A date (``2021-09-01``) or a date and time (``2021-09-01 19:30``, offset optional).

    Returns a :class:`datetime.date` or a :class:`datetime.datetime` (naive when no offset is given:
    the caller reads it in the site's time zone).
    """

    def check(self, value):
        if isinstance(value, (dt.date, dt.datetime)):
            return value
        if isinstance(value, str):
            text = value.strip().replace("Z", "+00:00")
            for parse in (dt.date.fromisoformat, dt.datetime.fromisoformat):
                try:
                    return parse(text)
                except ValueError:
                    pass
        raise Invalid(f"expected a date or a date and time, got {describe(value)}",
                      'write it as YYYY-MM-DD or "YYYY-MM-DD HH:MM", e.g. "2021-09-01 19:30"')

    def json(self):
        return {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"},
                                            {"pattern": r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}"}]}


@dataclass(frozen=True)
class Choice(Kind):
    values: tuple[str, ...]

    def check(self, value):
        if value not in self.values:
            close = difflib.get_close_matches(str(value), self.values, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise Invalid(f"{describe(value)} is not one of {', '.join(self.values)}",
                          f"{hint}use one of: {', '.join(self.values)}")
        return value

    def json(self):
        return {"enum": list(self.values)}


@dataclass(frozen=True)
class ListOf(Kind):
    item: Kind
    min_items: int = 0
    unique: bool = True

    def check(self, value):
        if isinstance(value, (str, int)) and not isinstance(value, bool) and not isinstance(self.item, Obj):
            value = LineList([value])  # a single value is accepted for a one-item list
            value.lines = []
        if not isinstance(value, list):
            raise Invalid(f"expected a list, got {describe(value)}", "write it as [a, b] or as '- a' lines")
        if len(value) < self.min_items:
            raise Invalid("is an empty list", "give at least one item")
        out = []
        for index, item in enumerate(value):
            line = value.line_of(index) if isinstance(value, LineList) else 0
            try:
                checked = self.item.check(item)
            except Invalid as exc:
                raise Invalid(f"item {index + 1}: {exc.message}", exc.fix, exc.line or line, exc.sub) from None
            if self.unique and not isinstance(checked, dict) and checked in out:
                raise Invalid(f"item {index + 1} ({checked!r}) is listed twice", "remove the repeat", line)
            out.append(checked)
        return out

    def json(self):
        out: dict = {"type": "array", "items": self.item.json()}
        if self.min_items:
            out["minItems"] = self.min_items
        if self.unique and not isinstance(self.item, Obj):
            out["uniqueItems"] = True
        return out


@dataclass(frozen=True)
class Obj(Kind):
    schema: "Schema"

    def check(self, value):
        if not isinstance(value, dict):
            raise Invalid(f"expected a mapping of fields, got {describe(value)}",
                          f"write 'field: value' lines ({', '.join(f.name for f in self.schema.fields)})")
        problems = Problems()
        out = self.schema.validate(value, "", problems)
        if problems.errors:
            first = problems.errors[0]
            raise Invalid(first.message, first.fix, first.line, first.field)
        return out

    def json(self):
        return self.schema.json_schema()


@dataclass(frozen=True)
class MapOf(Kind):
    """A mapping from keys (lower-case ASCII) to values of one kind."""

    item: Kind

    def check(self, value):
        if not isinstance(value, dict):
            raise Invalid(f"expected a mapping of keys, got {describe(value)}", "write 'key:' lines")
        out = {}
        for key, item in value.items():
            line = value.line_of(key) if isinstance(value, LineDict) else 0
            try:
                KEY.check(key)
                out[key] = self.item.check(item)
            except Invalid as exc:
                raise Invalid(exc.message, exc.fix, exc.line or line, f"{key}.{exc.sub}" if exc.sub else key) from None
        return out

    def json(self):
        return {"type": "object", "propertyNames": KEY.json(), "additionalProperties": self.item.json()}


@dataclass(frozen=True)
class OneOf(Kind):
    """The first kind that accepts the value wins (e.g. a URL string or a mapping)."""

    kinds: tuple[Kind, ...]

    def check(self, value):
        errors = []
        for kind in self.kinds:
            try:
                return kind.check(value)
            except Invalid as exc:
                errors.append(exc)
        best = next((e for e in errors if e.sub), errors[-1])
        raise best

    def json(self):
        return {"anyOf": [k.json() for k in self.kinds]}


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    required: bool = False
    doc: str = ""
    default: Any = None


@dataclass(frozen=True)
class Schema:
    title: str
    fields: tuple[Field, ...]
    extra_keys: bool = False  # allow keys the schema does not know (kept as they are)
    doc: str = ""
    by_name: dict = field(init=False, compare=False, repr=False, hash=False)

    def __post_init__(self):
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    def validate(self, data: Any, path: str, problems: Problems, prefix: str = "") -> dict:
        """Check ``data``; return the cleaned values (defaults filled) and add problems."""
        out: dict = {}
        if not isinstance(data, dict):
            line = getattr(data, "line", 1)
            problems.add(path, line, prefix.rstrip(".") or "", f"expected 'field: value' lines, got {describe(data)}",
                         f"write the fields as a YAML mapping ({', '.join(f.name for f in self.fields[:4])}, …)")
            return {f.name: f.default for f in self.fields}
        line_of = data.line_of if isinstance(data, LineDict) else (lambda key: 0)
        for key in data:
            if key not in self.by_name and not self.extra_keys:
                close = difflib.get_close_matches(key, list(self.by_name), n=1)
                fix = f"did you mean {close[0]!r}?" if close else \
                    f"remove it; known fields: {', '.join(sorted(self.by_name))}"
                problems.add(path, line_of(key), prefix + key, "unknown field", fix)
        for fld in self.fields:
            name = prefix + fld.name
            if fld.name not in data or data[fld.name] is None:
                if fld.required:
                    where = line_of(fld.name) if fld.name in data else getattr(data, "line", 1)
                    problems.add(path, where, name, "is required", f"add '{fld.name}: …'"
                                 + (f" ({fld.doc})" if fld.doc else ""))
                out[fld.name] = fld.default
                continue
            try:
                out[fld.name] = fld.kind.check(data[fld.name])
            except Invalid as exc:
                sub = f".{exc.sub}" if exc.sub else ""
                problems.add(path, exc.line or line_of(fld.name), name + sub, exc.message, exc.fix)
                out[fld.name] = fld.default
        if self.extra_keys:
            for key in data:
                out.setdefault(key, data[key])
        return out

    def json_schema(self) -> dict:
        props = {}
        for fld in self.fields:
            prop = fld.kind.json()
            if fld.doc:
                prop = {"description": fld.doc, **prop}
            props[fld.name] = prop
        out = {"type": "object", "title": self.title, "properties": props,
               "additionalProperties": self.extra_keys}
        if self.doc:
            out["description"] = self.doc
        required = [f.name for f in self.fields if f.required]
        if required:
            out["required"] = required
        return out
