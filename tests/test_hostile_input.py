"""Property-based tests (Hypothesis) of hostile and broken input (issue 9).

Thousands of generated front matters, YAML files and bodies — random bytes, YAML 1.1 surprises,
anchors, tags, escapes, control characters, hostile paths and HTML — go through the loader and the
Markdown stage, and a smaller number through the whole build (``sitegen.site.load`` + ``build`` on a
copy of tests/sites/minimal with lectures and news). Every run must end in success or in a clean list
of problems (``path:line: field: problem — fix``), never in another exception, never writing a file
outside the output folder, and never publishing a file from outside ``content/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from html_safety import active_content, video_iframe
from sitegen import contenttypes as ct
from sitegen import site as site_mod
from sitegen.config import VIDEO_HOSTS
from sitegen.content import parse_markdown
from sitegen.errors import ContentErrors, Problems
from sitegen.markdown import MarkdownRenderer
from sitegen.yamlio import YAMLProblem, load_yaml
from test_markdown import XSS

FAST = settings(max_examples=1500, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WHOLE_BUILD = settings(max_examples=60, deadline=None, database=None,
                       suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                              HealthCheck.data_too_large])

TRICKY = [
    "no", "on", "off", "yes", "NO", "Off", "y", "~", "null", "010", "0o17", "0x1F", "-07", "1e3", "1.10", "1_000",
    ".inf", ".nan", "19:30", "190:20:30", "2021-02-30", "2021-13-01", "2021/9/1", "2021-09-01 19:30",
    "2021-09-01T19:30:00+08:00", "2021-9-1", "20210901", "'quoted'", '"double"', '"esc \\x1b[31m"', '"nul \\0"',
    '"\\ud800"', '"\\x85"', '"\\u2028"', "&a anchor", "*a", "&b [1, *b]", "<<: *a", "!!python/object:os.system [ls]",
    "!!python/name:os.system ''", "!custom x", "!!binary aGk=", "!!set {a, b}", "[a, b]", "{a: 1}", "[[[[[", "]]",
    "{", "|", ">-", "- a", "@at", "`tick", "%TAG", "'unterminated", '"unterminated', "a: b: c", "? complex",
    "<script>alert(1)</script>", "javascript:alert(1)", "https://example.org/\"><script>x</script>",
    "../../../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini", "images/x.png", "images/../../outside.png",
    "a" * 300, "中文标题", "\u202e\u202dreversed", "\ufeffbom", "#comment", "", "---", "...",
]
KEYS = sorted({f.name for f in ct.ADVANCE.fields} | {f.name for f in ct.LECTURE.fields} | {f.name for f in ct.NEWS.fields}
              | {"unknown", "Title", "title ", "<<", "2021", "true"})


def scalars():
    return st.one_of(st.sampled_from(TRICKY), st.text(max_size=40).map(json.dumps),
                     st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
                     st.integers(-10**12, 10**12).map(str))


def yaml_lines():
    line = st.one_of(
        st.tuples(st.sampled_from(["", " ", "  ", "\t", "    "]), st.sampled_from(KEYS), scalars())
          .map(lambda t: f"{t[0]}{t[1]}: {t[2]}"),
        st.tuples(st.sampled_from(["  - ", "- ", "  "]), scalars()).map(lambda t: t[0] + t[1]),
        st.text(max_size=40),
    )
    return st.lists(line, max_size=14).map("\n".join)


def bodies():
    part = st.one_of(st.sampled_from(XSS), st.text(max_size=120),
                     st.sampled_from(["## 背景与意义", "| a | b |\n|---|---|\n| 1 | 2 |", "x[^1]\n\n[^1]: n",
                                      "```\n<script>\n```", "- a\n    - b\n        - c", "> q\n>> qq",
                                      "[l](https://e.org)", "![i](../../../etc/passwd)", "*[W]: w", "# h1",
                                      '<iframe src="https://www.youtube.com/embed/x"></iframe>', "[" * 50]))
    return st.lists(part, max_size=8).map("\n\n".join)


def markdown_files():
    return st.one_of(
        st.binary(max_size=600),
        st.tuples(yaml_lines(), bodies(), st.sampled_from(["---\n", "---  \n", "\ufeff---\n", "--- x\n", ""]),
                  st.sampled_from(["\n---\n", "\n---", "\n", "\n----\n"]),
                  st.sampled_from(["\n", "\r\n", "\r"]))
          .map(lambda t: (t[2] + t[0] + t[3] + t[1]).replace("\n", t[4]).encode("utf-8", "surrogatepass")),
    )


def assert_clean(problems: Problems, rel: str) -> None:
    for problem in problems.items:
        assert problem.path == rel
        assert isinstance(problem.line, int) and problem.line >= 1, problem
        assert problem.message and problem.fix, problem
        text = str(problem)
        text.encode("utf-8")  # printable: no lone surrogate
        assert text.startswith(f"{rel}:{problem.line}: ") and " — " in text


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("hypothesis")


RENDERER = MarkdownRenderer(VIDEO_HOSTS)


@FAST
@given(data=markdown_files())
def test_front_matter_files_load_or_give_clean_problems(scratch, data):
    path = scratch / "world-generated.md"
    path.write_bytes(data)
    problems = Problems()
    rel = "content/advances/2021/world-generated.md"
    for schema, kind in ((ct.ADVANCE, "advance"), (ct.LECTURE, "lecture"), (ct.NEWS, "news")):
        record = parse_markdown(path, rel, kind, schema, problems)
        assert record is None or isinstance(record.meta, dict)
    assert_clean(problems, rel)
    if record is not None and not problems.errors:
        result = RENDERER.render(record.body)
        assert active_content(result.html, video_iframe(VIDEO_HOSTS)) == []


@FAST
@given(text=st.one_of(yaml_lines(), st.text(max_size=300)))
def test_yaml_data_files_load_or_give_clean_problems(text):
    try:
        data = load_yaml(text, line_offset=3)
    except YAMLProblem as exc:
        assert exc.line >= 1 and exc.message and exc.fix
        str(exc.message).encode("utf-8")
        return
    problems = Problems()
    for schema in (ct.YEAR, ct.ADVANCE, ct.SOCIETY):
        schema.validate(data, "content/years/2021.yaml", problems)
    for problem in problems.items:
        assert problem.line >= 0 and problem.message and problem.fix
        str(problem).encode("utf-8")


@settings(max_examples=1000, deadline=None, database=None)
@given(body=bodies())
def test_bodies_render_without_active_content(body):
    result = RENDERER.render(body)
    assert active_content(result.html, video_iframe(VIDEO_HOSTS)) == []
    if result.error:
        assert result.html == "" and result.error[0] >= 1


# --- the whole build ------------------------------------------------------------------------------------

TARGETS = ["content/advances/2021/world-five-axis.md", "content/lectures/b-soon.md",
           "content/news/2021-05-item-2.md", "content/pages/about.md", "content/years/2021.yaml",
           "content/categories.yaml", "content/advances/2021/world-five-axis.en.md"]
BAIT = b"BAIT-outside-content-" + hashlib.sha256(b"bait").hexdigest().encode()


def tree(root: Path, skip: tuple[str, ...]) -> dict[str, str]:
    """Every file and link under ``root`` (not descending into ``skip``: the output, the cache and the
    previous output being deleted in the background) with its content hash or link target."""
    out = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder).relative_to(root).as_posix()
        prefix = "" if here == "." else here + "/"
        dirs[:] = [d for d in dirs if not (prefix + d + "/").startswith(skip)]
        for name in files + [d for d in dirs if (Path(folder) / d).is_symlink()]:
            path = Path(folder) / name
            rel = prefix + name
            if not rel.startswith(skip):
                out[rel] = os.readlink(path) if path.is_symlink() else hashlib.sha256(path.read_bytes()).hexdigest()
    return dict(sorted(out.items()))


@pytest.fixture(scope="module")
def project(tmp_path_factory, make_site):
    """A site beside files it must never read or overwrite (bait), built once."""
    top = tmp_path_factory.mktemp("whole")
    site = make_site(top, "minimal", "lectures")
    for bait in (top / "outside.png", site / "outside.png", top / "secret.svg"):
        bait.write_bytes(BAIT)
    images = site / "content/advances/2021/images"
    images.mkdir()
    (images / "link.png").symlink_to(top / "outside.png")
    (images / "ok.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    originals = {rel: (site / rel).read_bytes() if (site / rel).exists() else None for rel in TARGETS}
    return top, site, originals


def mutate(original: bytes, lines: list[str], body: str, where: int) -> bytes:
    text = original.decode("utf-8")
    parts = text.split("\n")
    for offset, line in enumerate(lines):
        parts.insert(min(where + offset, len(parts)), line)
    return ("\n".join(parts) + "\n\n" + body).encode("utf-8", "surrogatepass")


TEXT_FIELDS = ["title", "title_en", "summary", "summary_en", "country", "country_en", "platform", "platform_en",
               "image_alt", "notes", "notes_en"]
LIST_FIELDS = ["keywords", "keywords_en", "organizations", "tags", "tags_en"]
SINGLE_LINE = [x for x in XSS if "\n" not in x]


def text_values():
    """Text that is valid YAML and plausible to the schema: hostile HTML, any printable Unicode."""
    return st.one_of(st.sampled_from(SINGLE_LINE),
                     st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1,
                             max_size=60).filter(str.strip))


def field_edits():
    return st.lists(st.one_of(
        st.tuples(st.sampled_from(TEXT_FIELDS), text_values()).map(lambda t: (t[0], json.dumps(t[1]))),
        st.tuples(st.sampled_from(LIST_FIELDS), st.lists(text_values(), min_size=1, max_size=3, unique=True))
          .map(lambda t: (t[0], json.dumps(t[1], ensure_ascii=False))),
    ), min_size=1, max_size=4)


SCHEMAS = {"advances": ct.ADVANCE, "lectures": ct.LECTURE, "news": ct.NEWS, "pages": ct.PAGE, "years": ct.YEAR}


def set_fields(original: bytes, edits: list[tuple[str, str]], body: str | None, schema=None) -> bytes:
    """Set top-level fields (replacing their line, else after the opening '---'); replace the body.
    With a ``schema``, only its fields are set (the others would just be 'unknown field' errors)."""
    if schema is not None:
        edits = [(key, value) for key, value in edits if key in schema.by_name] or \
            [("title", value) for _, value in edits[:1] if not value.startswith("[")]
    lines = original.decode("utf-8").split("\n")
    fence = lines[0] == "---"
    end = lines.index("---", 1) if fence and "---" in lines[1:] else len(lines)
    for key, value in edits:
        index = next((i for i in range(end) if lines[i].startswith(f"{key}:")), None)
        if index is None:
            lines.insert(1 if fence else 0, f"{key}: {value}")
            end += 1
        else:
            lines[index] = f"{key}: {value}"
    if fence and body is not None:
        lines = lines[:end + 1] + ["", body]
    return "\n".join(lines).encode("utf-8")


IMAGE_LINES = ["image: images/link.png", "image: images/ok.png", "image: ../../../outside.png",
               "image: ../../../../outside.png", "image: /etc/passwd", 'image: "C:\\\\x.png"', 'image: "images/\\0.png"',
               "image: images/" + "a" * 250 + ".png", "image: images", "image: ../../../../secret.svg"]


def edits():
    """What one example does to its file: random bytes, random lines, or hostile but valid field values."""
    return st.one_of(
        st.binary(max_size=300).map(lambda b: ("raw", b)),
        st.tuples(st.lists(st.one_of(st.sampled_from(IMAGE_LINES), yaml_lines()), max_size=3), st.integers(1, 12))
          .map(lambda t: ("lines", t)),
        field_edits().map(lambda e: ("fields", e)),
        field_edits().map(lambda e: ("fields", e)),
    )


@WHOLE_BUILD
@given(target=st.sampled_from(TARGETS), edit=edits(), body=bodies())
def test_whole_build_succeeds_or_reports_cleanly_and_stays_in_its_folder(project, monkeypatch, target, edit, body):
    top, site, originals = project
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(top / "no-pagefind"))  # the index is not what is tested here
    monkeypatch.setenv("SITEGEN_WORKERS", "1")
    skip = ("site/output/", "site/.sitegen-cache/", "site/.output.")
    original = originals[target] or b""
    how, what = edit
    if how == "raw":
        data = what
    elif how == "lines":
        data = mutate(original, what[0], body, what[1])
    else:
        schema = SCHEMAS.get(target.split("/")[1]) if not target.endswith(".en.md") else None
        data = set_fields(original, what, body if target.endswith(".md") else None, schema)
    assume(data != original)
    (site / target).write_bytes(data)
    before = tree(top, skip)
    try:
        try:
            loaded = site_mod.load(site / "config.yaml")
            site_mod.build(loaded)
            event("built")
        except ContentErrors as exc:
            event("refused with errors")
            assert exc.problems.errors
            for problem in exc.problems.items:
                assert (site / problem.path).exists() or problem.path in ("search",), problem
                assert problem.line >= 0 and problem.message and problem.fix, problem
                str(problem).encode("utf-8")
        assert tree(top, skip) == before  # nothing written (or removed) outside output/ and the cache
        output = site / "output"
        if output.exists():
            assert not [p for p in output.rglob("*") if p.is_file() and BAIT in p.read_bytes()]
            assert not [p for p in output.rglob("*") if p.is_symlink()]
    finally:
        if originals[target] is None:
            (site / target).unlink(missing_ok=True)
        else:
            (site / target).write_bytes(original)
