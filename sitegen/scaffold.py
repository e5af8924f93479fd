"""``sitegen new advance|lecture|news|year``: write a new record with every field, ready to fill in.

The front matter is generated from the content type's :class:`~sitegen.schema.Schema` (the one the
validator uses), so a scaffold cannot drift from what ``sitegen check`` accepts: every field is written
with its documentation as a YAML comment, nested structures (a source, links, speakers) as commented
templates. Values the command cannot know are left empty: an empty optional field counts as absent, and
an empty required one is reported by ``sitegen check`` with its ``path:line`` — there are no dummy
values that would pass silently. Advances get the six sections of the nomination form as headings with
a one-line hint each (an HTML comment, which never reaches the site) and the next free rank of their list.
An existing file is never overwritten.
"""

from __future__ import annotations

import argparse
import datetime as dt
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import contenttypes as ct
from .content import rel_path
from .errors import Problems, SitegenError, UsageError
from .markdown import SECTIONS
from .model import MAX_PER_LIST
from .schema import (KEY, Bool, Choice, Date, DateTime, Int, Invalid, Kind, ListOf, MapOf, Obj, OneOf, Schema, Text,
                     Time, Url)
from .slugs import is_ascii_slug, slugify

# The texts written into new records (hints for editors, never published): sitegen/scaffold.yaml.
_TEXTS = yaml.safe_load((Path(__file__).with_name("scaffold.yaml")).read_text(encoding="utf-8"))
SECTION_HINTS: dict[str, str] = _TEXTS["sections"]  # keyed like markdown.SECTIONS (a test keeps them in step)
BODY_HINTS: dict[str, str] = _TEXTS["body"]
HEADER: str = _TEXTS["header"]

COMMENT_COLUMN = 30


# --- Rendering the front matter from a schema ---------------------------------------------------

def _object_schema(kind: Kind) -> tuple[Schema | None, bool]:
    """The schema nested in ``kind`` (a mapping, or a list of mappings) and whether it is a list."""
    if isinstance(kind, Obj):
        return kind.schema, False
    if isinstance(kind, ListOf) and isinstance(kind.item, Obj):
        return kind.item.schema, True
    if isinstance(kind, OneOf):
        for option in kind.kinds:
            found = _object_schema(option)
            if found[0] is not None:
                return found
    return None, False


def kind_hint(kind: Kind) -> str:
    """How a value of ``kind`` is written, for the comment beside the field."""
    if isinstance(kind, Choice):
        return "one of: " + " | ".join(kind.values)
    if isinstance(kind, Int):
        if kind.min is not None and kind.max is not None:
            return f"a whole number {kind.min}–{kind.max}"
        return "a whole number"
    if isinstance(kind, Date):
        return "YYYY-MM-DD"
    if isinstance(kind, DateTime):
        return 'YYYY-MM-DD or "YYYY-MM-DD HH:MM"'
    if isinstance(kind, Time):
        return '"HH:MM" in quotes'
    if isinstance(kind, Bool):
        return "true | false"
    if isinstance(kind, Url):
        return "https://…"
    if isinstance(kind, Text) and kind.pattern and kind != KEY:  # keys are explained by their field's doc
        return kind.pattern_hint.removeprefix("use ")
    if isinstance(kind, ListOf):
        if isinstance(kind.item, Obj):
            return "a list; each item starts with '- '"
        return "a list: [a, b]"
    if isinstance(kind, MapOf):
        return "key: entries"
    if isinstance(kind, Obj):
        return "the fields indented below"
    if isinstance(kind, OneOf):
        return " or ".join(filter(None, (kind_hint(k) if not isinstance(k, Obj) else "the fields indented below"
                                         for k in kind.kinds)))
    return ""


def _comment(fld) -> str:
    parts = [fld.doc] if fld.doc else []
    hint = kind_hint(fld.kind)
    if hint and hint not in fld.doc:
        parts.append(hint)
    text = "; ".join(parts)
    return f"{text} (required)" if fld.required else text


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in an editor."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _line(code: str, comment: str) -> str:
    if not comment:
        return code
    return f"{code}{' ' * max(1, COMMENT_COLUMN - _width(code))}# {comment}"


def yaml_scalar(value) -> str:
    """``value`` as one line of YAML (quoted when plain text would be read as something else)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    text = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10**6).strip()
    return text.removesuffix("...").strip()


def _template(schema: Schema, indent: int, as_list: bool) -> list[str]:
    """Commented lines showing a nested mapping's fields; uncommenting them gives valid YAML."""
    lines = []
    pad = " " * indent
    for index, fld in enumerate(schema.fields):
        lead = ("- " if index == 0 else "  ") if as_list else ""
        lines.append(_line(f"{pad}# {lead}{fld.name}:", _comment(fld)))
    return lines


def render_fields(schema: Schema, values: dict, indent: int = 0, every: bool = True,
                  comments: bool = True) -> list[str]:
    """YAML lines for ``schema``: every field (or only those in ``values``), each with its comment.

    A value of None is written as an empty field; a dict or a list of dicts as a nested block (its
    fields are the keys given); an empty nested field gets a commented template of its fields.
    """
    lines: list[str] = []
    pad = " " * indent
    for fld in schema.fields:
        if not every and fld.name not in values:
            continue
        value = values.get(fld.name)
        comment = _comment(fld) if comments else ""
        nested, is_list = _object_schema(fld.kind)
        if value is None:
            lines.append(_line(f"{pad}{fld.name}:", comment))
            if nested is not None:
                lines.extend(_template(nested, indent + 2, is_list))
        elif isinstance(value, dict) and nested is not None:
            lines.append(_line(f"{pad}{fld.name}:", comment))
            lines.extend(render_fields(nested, value, indent + 2, every=False))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and nested is not None:
            lines.append(_line(f"{pad}{fld.name}:", comment))
            for index, item in enumerate(value):  # the first item carries the comments
                item_lines = render_fields(nested, item, indent + 4, every=False, comments=index == 0)
                first = item_lines[0]
                item_lines[0] = first[:indent + 2] + "- " + first[indent + 4:]
                lines.extend(item_lines)
        else:
            lines.append(_line(f"{pad}{fld.name}: {yaml_scalar(value)}", comment))
    return lines


def front_matter(kind: str, schema: Schema, values: dict) -> str:
    return "---\n" + HEADER.format(kind=kind) + "\n".join(render_fields(schema, values)) + "\n---\n"


def advance_body() -> str:
    parts = []
    for key, (heading, _en) in SECTIONS.items():
        parts.append(f"## {heading}\n\n<!-- {SECTION_HINTS[key]} -->\n")
    return "\n" + "\n".join(parts)


# --- Where the files go -------------------------------------------------------------------------

@dataclass
class Scaffold:
    path: Path
    text: str
    notes: list[str]


def _project(config_path: Path):
    from .config import load_config
    from .content import discover

    problems = Problems()  # the scaffold works on content that has errors: check reports them
    config = load_config(config_path, problems)
    content = discover(config.root, config.content_path, problems)
    return config, content


def _checked_slug(slug: str | None) -> str | None:
    if slug is not None and not is_ascii_slug(slug):
        raise UsageError(f"--slug {slug!r}: use lower-case ASCII letters, digits and single hyphens, "
                         "e.g. five-axis-machining")
    return slug


def _option(schema: Schema, name: str, value, option: str):
    """A command-line value checked by the content type's own field (same rules, same words as check)."""
    if value is None:
        return None
    try:
        return schema.by_name[name].kind.check(value)
    except Invalid as exc:
        raise UsageError(f"{option} {value!r}: {exc.message}" + (f" — {exc.fix}" if exc.fix else "")) from None


def next_place(content, year: int, lst: str, wanted: int | None = None) -> tuple[int | None, int | None]:
    """(rank, order) for a new advance of ``year``/``lst``: the next free rank, or the next order when
    the list is unranked. Raises SitegenError when the list is full or ``wanted`` is taken."""
    members = [r for r in content.advances if r.meta.get("year") == year and r.meta.get("list") == lst]
    if len(members) >= MAX_PER_LIST:
        raise SitegenError(f"the {year} {lst} list already has {len(members)} advances "
                           f"(at most {MAX_PER_LIST}) — nothing was written")
    taken = {r.meta["rank"]: r for r in members if r.meta.get("rank") is not None}
    if wanted is not None:
        if wanted in taken:
            raise SitegenError(f"rank {wanted} of the {year} {lst} list is already given to {taken[wanted].rel} "
                               "— nothing was written; choose another --rank or leave it out")
        return wanted, None
    if members and not taken:  # an unranked list: continue its order
        return None, max((r.meta.get("order") or 0 for r in members), default=0) + 1
    return next(n for n in range(1, MAX_PER_LIST + 1) if n not in taken), None


def new_advance(config_path: Path, year: int, lst: str, title: str, title_en: str | None = None,
                slug: str | None = None, rank: int | None = None) -> Scaffold:
    year = _option(ct.ADVANCE, "year", year, "--year")
    rank = _option(ct.ADVANCE, "rank", rank, "--rank")
    title = _option(ct.ADVANCE, "title", title, "--title")
    title_en = _option(ct.ADVANCE, "title_en", title_en, "--title-en")
    config, content = _project(config_path)
    rank, order = next_place(content, year, lst, rank)
    name = _checked_slug(slug) or slugify(title_en or "") or f"{rank or order:02d}"
    path = config.content_path / "advances" / str(year) / f"{lst}-{name}.md"
    values = {"title": title, "title_en": title_en, "year": year, "list": lst, "rank": rank, "order": order,
              "slug": slug}
    text = front_matter("advance", ct.ADVANCE, values) + advance_body()
    place = f"rank {rank}" if rank else f"order {order} (the list is unranked)"
    notes = [f"{place} of the {year} {lst} list"]
    if not (config.content_path / "years" / f"{year}.yaml").is_file():
        notes.append(f"there is no year file for {year} yet: create it with `sitegen new year --year {year}`")
    return Scaffold(path, text, notes)


def new_year(config_path: Path, year: int) -> Scaffold:
    year = _option(ct.YEAR, "year", year, "--year")
    config, _content = _project(config_path)
    release = {f.name: None for f in ct.RELEASE.fields}
    timeline = [{"step": step, "date": None} for step in ct.TIMELINE_STEPS]
    values = {"year": year, "release": release, "timeline": timeline}
    body = "\n".join(render_fields(ct.YEAR, values)) + "\n"
    text = HEADER.format(kind="year") + body
    return Scaffold(config.content_path / "years" / f"{year}.yaml", text, [])


def _dated(config_path: Path, kind: str, folder: str, schema: Schema, title: str, title_en: str | None,
           date: dt.date | None, slug: str | None, date_required: bool) -> Scaffold:
    title = _option(schema, "title", title, "--title")
    title_en = _option(schema, "title_en", title_en, "--title-en")
    config, _content = _project(config_path)
    if date is None and date_required:
        from .clock import resolve_now
        date = resolve_now(config.values, Problems()).date()
    name = _checked_slug(slug) or slugify(title_en or "")
    stem = "-".join(filter(None, (date.isoformat() if date else "", name)))
    if not stem:
        raise UsageError("give --title-en, --slug or --date: the file name (and the page's URL) is made from them")
    values = {"title": title, "title_en": title_en, "date": date}
    text = front_matter(kind, schema, values) + f"\n<!-- {BODY_HINTS[kind]} -->\n"
    notes = [] if date else ["no --date: fill in the date once it is fixed"]
    return Scaffold(config.content_path / folder / f"{stem}.md", text, notes)


def new_lecture(config_path: Path, title: str, title_en: str | None = None, date: dt.date | None = None,
                slug: str | None = None) -> Scaffold:
    return _dated(config_path, "lecture", "lectures", ct.LECTURE, title, title_en, date, slug, False)


def new_news(config_path: Path, title: str, title_en: str | None = None, date: dt.date | None = None,
             slug: str | None = None) -> Scaffold:
    return _dated(config_path, "news", "news", ct.NEWS, title, title_en, date, slug, True)


def write(scaffold: Scaffold, root: Path) -> None:
    """Create the file; never overwrite one (exclusive creation, so a race cannot either)."""
    scaffold.path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with scaffold.path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(scaffold.text)
    except FileExistsError:
        raise SitegenError(f"{rel_path(scaffold.path, root)} already exists — nothing was written; edit that file, "
                           "or choose another file name with --slug") from None


# --- Command line -------------------------------------------------------------------------------

def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write YYYY-MM-DD") from None


def add_arguments(new, base) -> None:
    """The ``new`` sub-commands; ``base`` is the parent parser with --config and --debug."""
    kinds = new.add_subparsers(dest="kind", metavar="TYPE")
    kinds.required = True
    adv = kinds.add_parser("advance", parents=[base], help="a new advance in content/advances/<year>/")
    adv.add_argument("--year", type=int, required=True, help="selection year, e.g. 2022")
    adv.add_argument("--list", dest="list_", choices=ct.LISTS, required=True, help="world or china")
    adv.add_argument("--rank", type=int, help="rank 1–10 (default: the next free rank of the list)")
    for parser in (adv, kinds.add_parser("lecture", parents=[base], help="a new lecture in content/lectures/"),
                   kinds.add_parser("news", parents=[base], help="a new news item in content/news/")):
        parser.add_argument("--title", required=True, help="Chinese title")
        parser.add_argument("--title-en", help="English title: the file name and the URL are made from it")
        parser.add_argument("--slug", help="file name and URL slug (lower-case ASCII with hyphens)")
        if parser is not adv:
            default = "today in the site time zone" if parser.prog.endswith("news") else "none: fill it in later"
            parser.add_argument("--date", type=_date, help=f"YYYY-MM-DD (default: {default})")
    year = kinds.add_parser("year", parents=[base], help="a new year file in content/years/")
    year.add_argument("--year", type=int, required=True, help="selection year, e.g. 2022")


def run(args) -> int:
    config = Path(args.config)
    if args.kind == "advance":
        made = new_advance(config, args.year, args.list_, args.title, args.title_en, args.slug, args.rank)
    elif args.kind == "lecture":
        made = new_lecture(config, args.title, args.title_en, args.date, args.slug)
    elif args.kind == "news":
        made = new_news(config, args.title, args.title_en, args.date, args.slug)
    else:
        made = new_year(config, args.year)
    root = config.resolve().parent
    write(made, root)
    print(f"Created {rel_path(made.path, root)}")
    for note in made.notes:
        print(f"  {note}")
    print("Fill in the empty fields, then run `sitegen check`: it names the file and line of anything missing.")
    return 0
