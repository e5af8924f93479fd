"""sitegen.scaffold (`sitegen new`): scaffolds in a copy of the bundled project pass `sitegen check` once their
empty fields are filled (the test fills them by parsing the YAML), name the next free rank, and never
overwrite a file."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sitegen import contenttypes as ct
from sitegen import scaffold
from sitegen.markdown import SECTIONS

REPO = Path(__file__).resolve().parents[1]


def sitegen(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sitegen", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the bundled project (content, themes, config)."""
    for name in ("content", "themes"):
        shutil.copytree(REPO / name, tmp_path / name)
    shutil.copy(REPO / "config.yaml", tmp_path / "config.yaml")
    return tmp_path


def created(result: subprocess.CompletedProcess, root: Path) -> Path:
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"^Created (\S+)$", result.stdout, re.MULTILINE)
    assert match, result.stdout
    return root / match[1]


def split(path: Path) -> tuple[dict, str]:
    """Front matter (parsed) and body of a Markdown file."""
    _, meta, body = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(meta), body


def fill(path: Path, **values) -> None:
    """Set front matter fields the way an editor would, keeping the body."""
    meta, body = split(path)
    meta.update(values)
    path.write_text("---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n" + body,
                    encoding="utf-8")


def check_passes(root: Path) -> str:
    result = sitegen("check", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr  # not even a warning
    return result.stdout


def error_lines(root: Path) -> list[str]:
    result = sitegen("check", cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    return [line for line in result.stderr.splitlines() if not line.endswith("nothing was written.")]


def line_of(path: Path, key: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith(f"{key}:"):
            return number
    raise AssertionError(f"{key} not in {path}")


# --- Advances ------------------------------------------------------------------------------------

def test_new_year_and_advance_pass_check_once_filled(project):
    year = created(sitegen("new", "year", "--year", "2022", cwd=project), project)
    assert year == project / "content/years/2022.yaml"
    advance = created(sitegen("new", "advance", "--year", "2022", "--list", "china", "--title", "五轴数控：自适应加工",
                              "--title-en", "Adaptive five-axis machining", cwd=project), project)
    assert advance == project / "content/advances/2022/china-adaptive-five-axis-machining.md"

    # Unfilled, check points at each empty required value by file and line — nothing passes silently.
    errors = error_lines(project)
    rel = "content/advances/2022/china-adaptive-five-axis-machining.md"
    assert sorted(errors) == sorted([
        f"{rel}:{line_of(advance, 'organizations')}: organizations: is required — "
        "add 'organizations: …' (the organisations that achieved the advance)",
        f"{rel}:{line_of(advance, 'source')}: source: a real result needs the source it was published in — "
        "add 'source: {url: …, publisher: …}', or mark a sample record with 'demo: true'",
        "content/years/2022.yaml:7: release.event: is required — add 'event: …' "
        "(event where the lists were released, Chinese)",
    ])

    fill(advance, organizations=["示例智能装备有限公司"], demo=True, categories=["cnc-robots"], nominated_by="cmes")
    data = yaml.safe_load(year.read_text(encoding="utf-8"))
    data["release"]["event"] = "2022世界智能制造大会"
    data["demo"] = True
    year.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    before = int(re.search(r"(\d+) advances", check_passes(REPO))[1])
    assert f"No errors: {before + 1} advances" in check_passes(project)

    build = sitegen("build", cwd=project)
    assert build.returncode == 0, build.stderr
    page = (project / "output/advances/2022/adaptive-five-axis-machining/index.html").read_text(encoding="utf-8")
    for heading, _en in SECTIONS.values():
        assert heading in page
    assert "<!--" not in page and SECTION_HINT_SAMPLE not in page  # hints never reach the site


SECTION_HINT_SAMPLE = scaffold.SECTION_HINTS["benefits"]


def test_advance_scaffold_has_every_field_with_its_doc_and_the_six_sections(project):
    path = created(sitegen("new", "advance", "--year", "2022", "--list", "china", "--title", "标题",
                           "--slug", "some-advance", cwd=project), project)
    meta, body = split(path)
    assert list(meta) == [f.name for f in ct.ADVANCE.fields]
    text = path.read_text(encoding="utf-8")
    for fld in ct.ADVANCE.fields:
        line = next(line for line in text.splitlines() if line.startswith(f"{fld.name}:"))
        assert f"# {fld.doc}" in line, line
        assert line.endswith("(required)") == fld.required, line
    # the filled values; everything else empty (no dummy values)
    assert {k: v for k, v in meta.items() if v is not None} == \
        {"title": "标题", "year": 2022, "list": "china", "rank": 1, "slug": "some-advance"}
    # nested structures as commented templates that become valid YAML when uncommented
    assert "\n  # - title:" in text and "\n  #   url:" in text and "\n  # url:" in text
    headings = re.findall(r"^## (.+)$", body, re.MULTILINE)
    assert headings == [zh for zh, _en in SECTIONS.values()]
    for key in SECTIONS:
        assert f"<!-- {scaffold.SECTION_HINTS[key]} -->" in body


def test_every_section_has_a_one_line_hint():
    assert list(scaffold.SECTION_HINTS) == list(SECTIONS)
    assert all("\n" not in hint and "-->" not in hint for hint in scaffold.SECTION_HINTS.values())


def write_advance(root: Path, year: int, lst: str, name: str, **fields) -> None:
    meta = {"title": name, "year": year, "list": lst, "organizations": ["示例公司"], "demo": True, **fields}
    path = root / f"content/advances/{year}/{lst}-{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n", encoding="utf-8")


def new_rank(root: Path, year: int, lst: str) -> tuple[int | None, int | None]:
    path = created(sitegen("new", "advance", "--year", str(year), "--list", lst, "--title", "新进展", cwd=root), root)
    meta, _ = split(path)
    return meta["rank"], meta["order"]


def test_next_free_rank(project):
    shutil.copy(REPO / "content/years/2021.yaml", project / "content/years/2022.yaml")
    (project / "content/years/2022.yaml").write_text(
        (REPO / "content/years/2021.yaml").read_text(encoding="utf-8").replace("year: 2021", "year: 2022", 1),
        encoding="utf-8")
    assert new_rank(project, 2022, "world") == (1, None)  # an empty list starts at 1
    assert (project / "content/advances/2022/world-01.md").is_file()  # no English title: named by rank
    write_advance(project, 2022, "world", "second", rank=2)
    write_advance(project, 2022, "world", "fourth", rank=4)
    assert new_rank(project, 2022, "world") == (3, None)  # the first gap
    assert new_rank(project, 2022, "world") == (5, None)
    write_advance(project, 2022, "china", "draft-one", rank=1, draft=True)  # drafts hold their rank too
    assert new_rank(project, 2022, "china") == (2, None)


def test_an_unranked_list_continues_its_order(project):
    # The bundled 2021 China list is unranked (order: 1–10 … here it has 10 members: make room first).
    members = sorted((project / "content/advances/2021").glob("china-*.md"))
    orders = [split(p)[0]["order"] for p in members]
    members[0].unlink()
    rank, order = new_rank(project, 2021, "china")
    assert rank is None and order == max(o for p, o in zip(members, orders) if p.exists()) + 1


def test_a_full_list_and_a_taken_rank_are_refused(project):
    before = sorted(p.name for p in (project / "content/advances/2021").iterdir())
    full = sitegen("new", "advance", "--year", "2021", "--list", "world", "--title", "第十一", cwd=project)
    assert full.returncode == 1
    assert full.stderr.strip() == \
        "sitegen: the 2021 world list already has 10 advances (at most 10) — nothing was written"
    assert sorted(p.name for p in (project / "content/advances/2021").iterdir()) == before

    write_advance(project, 2022, "world", "third", rank=3)
    taken = sitegen("new", "advance", "--year", "2022", "--list", "world", "--title", "重复", "--rank", "3",
                    cwd=project)
    assert taken.returncode == 1
    assert taken.stderr.strip() == ("sitegen: rank 3 of the 2022 world list is already given to "
                                    "content/advances/2022/world-third.md — nothing was written; "
                                    "choose another --rank or leave it out")
    assert sorted(p.name for p in (project / "content/advances/2022").iterdir()) == ["world-third.md"]
    free = created(sitegen("new", "advance", "--year", "2022", "--list", "world", "--title", "四", "--rank", "4",
                           cwd=project), project)
    assert split(free)[0]["rank"] == 4


def test_an_existing_file_is_never_overwritten(project):
    args = ("new", "advance", "--year", "2021", "--list", "world", "--title", "x")
    # the file of a bundled advance: same list and name
    target = project / "content/advances/2021/world-adaptive-five-axis-cnc.md"
    original = target.read_bytes()
    (project / "content/advances/2021/world-amr-fleet-warehousing.md").unlink()  # room in the list
    result = sitegen(*args, "--slug", "adaptive-five-axis-cnc", cwd=project)
    assert result.returncode == 1
    assert result.stderr.strip() == ("sitegen: content/advances/2021/world-adaptive-five-axis-cnc.md already exists — "
                                     "nothing was written; edit that file, or choose another file name with --slug")
    assert target.read_bytes() == original

    first = created(sitegen("new", "news", "--title", "消息", "--date", "2024-05-01", "--slug", "n", cwd=project),
                    project)
    first.write_text(first.read_text(encoding="utf-8") + "编辑过的正文\n", encoding="utf-8")
    edited = first.read_bytes()
    again = sitegen("new", "news", "--title", "另一条", "--date", "2024-05-01", "--slug", "n", cwd=project)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert first.read_bytes() == edited


@pytest.mark.parametrize("args, message", [
    (("--year", "2016"), "2016 is out of range"),
    (("--year", "2022", "--rank", "11"), "11 is out of range"),
    (("--year", "2022", "--slug", "Bad Slug"), "--slug 'Bad Slug': use lower-case ASCII"),
])
def test_bad_options_are_usage_errors(project, args, message):
    result = sitegen("new", "advance", "--list", "world", "--title", "t", *args, cwd=project)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("title", ["no", "2021", "智能制造\"双十\"：进展 # 一", "'quoted'", "yes: really"])
def test_titles_are_written_as_text(title):
    assert yaml.safe_load(f"title: {scaffold.yaml_scalar(title)}") == {"title": title}


# --- Lectures and news -----------------------------------------------------------------------------

def test_new_lecture_passes_check_once_filled(project):
    path = created(sitegen("new", "lecture", "--title", "数字孪生与智能工厂", "--title-en", "Digital twins",
                           "--date", "2024-06-12", cwd=project), project)
    assert path == project / "content/lectures/2024-06-12-digital-twins.md"
    meta, body = split(path)
    assert list(meta) == [f.name for f in ct.LECTURE.fields]
    assert meta["date"] == dt.date(2024, 6, 12) and meta["speakers"] is None
    assert scaffold.BODY_HINTS["lecture"] in body
    assert "\n  # - name:" in path.read_text(encoding="utf-8")  # the speakers template

    errors = error_lines(project)
    assert errors and all(line.startswith("content/lectures/2024-06-12-digital-twins.md:") for line in errors)
    fill(path, demo=True, start="19:30", end="21:00", host="cmes",
         speakers=[{"name": "示例讲者", "title": "教授", "affiliation": "示例大学"}])
    check_passes(project)


def test_new_news_passes_check_once_filled(project):
    path = created(sitegen("new", "news", "--title", "2024年度遴选启动", "--title-en", "2024 call opens",
                           "--date", "2024-04-15", cwd=project), project)
    assert path == project / "content/news/2024-04-15-2024-call-opens.md"
    meta, body = split(path)
    assert list(meta) == [f.name for f in ct.NEWS.fields]
    assert meta["date"] == dt.date(2024, 4, 15)
    errors = error_lines(project)
    assert errors and all(line.startswith("content/news/2024-04-15-2024-call-opens.md:") for line in errors)
    fill(path, demo=True, summary="示例摘要。")
    check_passes(project)


def test_news_date_defaults_to_the_sites_today(project):
    env_result = subprocess.run([sys.executable, "-m", "sitegen", "new", "news", "--title", "消息", "--slug", "x"],
                                cwd=project, capture_output=True, text=True, timeout=120,
                                env={**os.environ, "SITEGEN_NOW": "2024-03-09"})
    path = created(env_result, project)
    assert path.name == "2024-03-09-x.md"
    assert split(path)[0]["date"] == dt.date(2024, 3, 9)


def test_a_lecture_needs_something_to_name_its_file_after(project):
    before = sorted(p.name for p in (project / "content").rglob("*"))
    result = sitegen("new", "lecture", "--title", "只有中文标题", cwd=project)
    assert result.returncode == 2
    assert "give --title-en, --slug or --date" in result.stderr
    assert sorted(p.name for p in (project / "content").rglob("*")) == before
    path = created(sitegen("new", "lecture", "--title", "只有中文标题", "--slug", "twin-talk", cwd=project), project)
    assert path.name == "twin-talk.md"
    assert "no --date" in sitegen("new", "lecture", "--title", "t", "--slug", "other", cwd=project).stdout


def test_titles_are_checked_by_the_content_types_own_field(project):
    long = "长" * 201  # the advance title field allows 200 characters
    result = sitegen("new", "advance", "--year", "2022", "--list", "world", "--title", long, cwd=project)
    assert result.returncode == 2
    assert "--title" in result.stderr and "is 201 characters long (at most 200)" in result.stderr
    blank = sitegen("new", "news", "--title", "  ", "--date", "2024-01-01", cwd=project)
    assert blank.returncode == 2 and "--title '  ': is empty" in blank.stderr
