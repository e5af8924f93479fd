"""Incremental builds rewrite exactly what a change touches, and match a cold build byte for byte."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from sitegen import site as site_mod
from sitegen.errors import SitegenError

from test_site import copy_project, tree_digest

ADVANCE = "content/advances/2021/world-adaptive-five-axis-cnc.md"


def build(project: Path, **kw):
    return site_mod.build(site_mod.load(project / "config.yaml"), **kw)


@pytest.fixture()
def project(tmp_path) -> Path:
    project = copy_project(tmp_path / "site")
    first = build(project)
    assert first.rendered and not first.changed
    return project


def cold_digest(project: Path, tmp_path: Path) -> dict:
    copy = tmp_path / "cold"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("output", ".sitegen-cache", ".output.*"))
    build(copy, incremental_build=False)
    return tree_digest(copy / "output")


def edit(project: Path, rel: str, old: str, new: str) -> None:
    path = project / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_nothing_changed_renders_nothing(project):
    result = build(project)
    assert result.rendered == [] and result.changed == [] and result.removed == []


SLUG = "adaptive-intelligent-machining-system-for-five-axis-cnc-machine-tools"


def test_a_body_edit_rewrites_the_advances_own_pages_only(project, tmp_path):
    out = project / "output"
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.html")}
    edit(project, ADVANCE, "## 应用情况", "## 应用情况\n\n新增的一句话：增量构建测试。")
    result = build(project)
    assert result.changed == [ADVANCE]
    # Pages listing it (year, list, terms, neighbours, the navigation's …) show its front matter only.
    assert result.rendered == [f"advances/2021/{SLUG}/index.html", f"en/advances/2021/{SLUG}/index.html"]
    assert "增量构建测试" in (out / f"advances/2021/{SLUG}/index.html").read_text(encoding="utf-8")
    unchanged = [p for p in mtimes if p.relative_to(out).as_posix() not in result.rendered
                 and not p.relative_to(out).as_posix().startswith("pagefind/")]
    assert len(unchanged) > 500 and all(p.stat().st_mtime_ns == mtimes[p] for p in unchanged)
    assert tree_digest(out) == cold_digest(project, tmp_path)


@pytest.mark.parametrize("rel, old, new", [
    ("content/pages/about.md", "请以官方发布为准。", "请以官方发布为准。关于页的新句子。"),
    ("content/news/2021-07-09-taizhou-conference.md", "按计划，", "据悉，按计划，"),
    ("content/lectures/2021-08-20-machine-tool-digital-twin.md", "- 基于实测数据的模型校正", "- 模型校正"),
])
def test_a_body_edit_of_a_page_news_item_or_lecture_rewrites_its_own_pages_only(project, tmp_path, rel, old, new):
    edit(project, rel, old, new)
    result = build(project)
    assert result.changed == [rel] and len(result.rendered) == 2  # its page in each language
    assert tree_digest(project / "output") == cold_digest(project, tmp_path)


def test_a_front_matter_edit_rewrites_every_page_listing_the_advance(project, tmp_path):
    link = f"/advances/2021/{SLUG}/"
    out = project / "output"
    advance_pages = sorted(out.glob("advances/*/*/index.html"))
    unrelated = [p for p in advance_pages if link not in p.read_text(encoding="utf-8")]
    mtimes = {p: p.stat().st_mtime_ns for p in unrelated}
    edit(project, ADVANCE, "\ntitle: ", "\ntitle: 增量构建测试")
    result = build(project)
    assert result.changed == [ADVANCE]
    rendered = set(result.rendered)
    for lang in ("", "en/"):
        assert f"{lang}advances/2021/{SLUG}/index.html" in rendered
        assert f"{lang}years/2021/index.html" in rendered
        assert f"{lang}years/2021/world/index.html" in rendered
        assert f"{lang}categories/cnc-robots/index.html" in rendered
    # Other advance pages are rewritten only when they show this one (prev/next, related, twin).
    for page in rendered:
        if page.startswith("advances/") and SLUG not in page:
            assert link in (out / page).read_text(encoding="utf-8"), page
    assert len(unrelated) > 50
    assert all(p.stat().st_mtime_ns == mtimes[p] for p in unrelated)  # reused, not rewritten
    assert "增量构建测试" in (out / "years/2021/world/index.html").read_text(encoding="utf-8")
    assert tree_digest(out) == cold_digest(project, tmp_path)


def forbid_front_matter_files(monkeypatch):
    """Make the file makers that read front matter and the plan alone (sitemap, open data) fail if they run."""
    from sitegen import opendata, sitemap

    for module, name in ((sitemap, "sitemap_entries"), (opendata, "advances_document")):
        monkeypatch.setattr(module, name, lambda *a, name=name, **k: pytest.fail(f"{name} ran for an edit of a body"))


@pytest.mark.parametrize("rel, old, new", [
    (ADVANCE, "## 应用情况", "## 应用情况\n\n只改正文：数据文件不变。"),
    (ADVANCE.replace(".md", ".en.md"), "## Application", "## Application\n\nOnly the English body changed."),
])
def test_a_build_after_edits_of_bodies_keeps_the_files_made_from_front_matter(project, tmp_path, monkeypatch,
                                                                              rel, old, new):
    data = project / "output/data/advances.json"
    before = data.stat().st_ino
    edit(project, rel, old, new)
    forbid_front_matter_files(monkeypatch)
    result = build(project)
    monkeypatch.undo()
    assert result.changed == [rel] and data.stat().st_ino == before  # the previous build's file, linked again
    assert tree_digest(project / "output") == cold_digest(project, tmp_path)


@pytest.mark.parametrize("change", ["front matter", "English file added", "template"])
def test_a_build_after_other_edits_makes_the_front_matter_files_again(project, tmp_path, change):
    data = project / "output/data/advances.json"
    before = data.stat().st_ino
    if change == "front matter":
        edit(project, ADVANCE, "\ntitle: ", "\ntitle: 数据文件里的新标题")
    elif change == "English file added":
        (project / "content/advances/2021/china-fabric-defect-vision.en.md").write_text(
            "## Background\n\nAn English body.\n", encoding="utf-8")
    else:
        edit(project, "themes/default/templates/list.html", "{% block main %}", "{% block main %}<!-- changed -->")
    build(project)
    assert data.stat().st_ino != before  # written again
    assert tree_digest(project / "output") == cold_digest(project, tmp_path)


def test_template_change_rewrites_every_page_using_it(project, tmp_path):
    edit(project, "themes/default/templates/list.html", "{% block main %}", "{% block main %}<!-- changed -->")
    result = build(project)
    rendered = set(result.rendered)
    lists = {p.relative_to(project / "output").as_posix() for p in (project / "output").rglob("years/*/*/index.html")}
    assert lists and lists <= rendered
    assert not any("/advances/" in f"/{p}" for p in rendered)
    assert tree_digest(project / "output") == cold_digest(project, tmp_path)


def test_removed_and_moved_records_are_reflected(project, tmp_path):
    (project / ADVANCE).unlink()
    result = build(project)
    slug = "adaptive-intelligent-machining-system-for-five-axis-cnc-machine-tools"
    assert f"advances/2021/{slug}/index.html" in result.removed
    assert not (project / f"output/advances/2021/{slug}").exists()
    assert tree_digest(project / "output") == cold_digest(project, tmp_path)


def test_config_change_rebuilds_everything(project):
    edit(project, "config.yaml", "base_url: http://127.0.0.1:8000/", "base_url: https://example.org/sub/")
    result = build(project)
    assert len(result.rendered) == result.pages


def test_output_replaced_by_hand_means_full_build(project):
    shutil.rmtree(project / "output")
    result = build(project)
    assert len(result.rendered) == result.pages
    assert (project / "output/index.html").is_file()


def test_failed_incremental_build_keeps_output(project):
    before = tree_digest(project / "output")
    edit(project, ADVANCE, "list: world", "list: nowhere")
    with pytest.raises(site_mod.ContentErrors):
        build(project)
    assert tree_digest(project / "output") == before


# --- nothing changed: `sitegen build` skips the whole pipeline (site.up_to_date) ---------------------

def cli_build(project: Path, capsys, monkeypatch):
    """`sitegen build` in the project (only where it takes no forked workers); its (stdout, stderr)."""
    from sitegen.cli import main

    monkeypatch.chdir(project)
    assert main(["build"]) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_unchanged_project_is_up_to_date_and_build_writes_nothing(project, capsys, monkeypatch):
    before = tree_digest(project / "output")
    mtimes = {p: p.stat().st_mtime_ns for p in (project / "output").rglob("*")}
    assert site_mod.up_to_date(project / "config.yaml") is not None
    out, _ = cli_build(project, capsys, monkeypatch)
    assert "(0 rendered" in out and "0 files written" in out
    assert tree_digest(project / "output") == before
    assert {p: p.stat().st_mtime_ns for p in (project / "output").rglob("*")} == mtimes


@pytest.mark.parametrize("change", ["edit", "add", "remove", "config", "theme", "output", "drafts"])
def test_any_change_means_a_real_build(project, change):
    config = project / "config.yaml"
    drafts = False
    if change == "edit":
        edit(project, ADVANCE, "## 应用情况", "## 应用情况\n\n一处修改。")
    elif change == "add":
        (project / "content/advances/2021/notes.txt").write_text("x", encoding="utf-8")
    elif change == "remove":
        (project / ADVANCE).unlink()
    elif change == "config":
        config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    elif change == "theme":
        css = next((project / "themes/default/static").rglob("*.css"))
        css.write_text(css.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    elif change == "output":
        shutil.rmtree(project / "output")
    else:
        drafts = True
    assert site_mod.up_to_date(config, drafts=drafts) is None


def test_a_lecture_ending_between_two_builds_means_a_real_build(project, monkeypatch):
    # The bundled lecture of 2021-08-20 runs 19:30–21:00 Beijing time.
    monkeypatch.setenv("SITEGEN_NOW", "2021-08-20T12:00+08:00")
    build(project)
    assert site_mod.up_to_date(project / "config.yaml") is not None
    monkeypatch.setenv("SITEGEN_NOW", "2021-08-20T20:59+08:00")
    assert site_mod.up_to_date(project / "config.yaml") is not None  # still upcoming: same pages
    monkeypatch.setenv("SITEGEN_NOW", "2021-08-20T21:00+08:00")
    assert site_mod.up_to_date(project / "config.yaml") is None
    monkeypatch.setenv("SITEGEN_NOW", "2021-08-19T12:00+08:00")
    assert site_mod.up_to_date(project / "config.yaml") is not None  # no lecture ended in between


def test_up_to_date_build_repeats_the_warnings_of_the_build_it_skips(project, capsys, monkeypatch):
    edit(project, ADVANCE, "## 应用情况", "## 应用情况\n\n<script>alert(1)</script>")
    warnings = build(project).warnings
    assert warnings and site_mod.up_to_date(project / "config.yaml").warnings == warnings
    out, err = cli_build(project, capsys, monkeypatch)
    assert "(0 rendered" in out and f"{len(warnings)} warning(s)" in out
    assert all(str(w) in err for w in warnings)


def test_failed_build_is_never_up_to_date(project):
    edit(project, ADVANCE, "year: 2021", "year: twenty")
    with pytest.raises(site_mod.ContentErrors):
        build(project)
    edit(project, ADVANCE, "year: twenty", "year: 2021")
    assert site_mod.up_to_date(project / "config.yaml") is None  # the file was rewritten: build and see


# --- derived sources: what a page shows that other records decide -----------------------------------

def advances_of(project: Path, route: str) -> list[str]:
    """The advance files listed on the term page at ``route`` (``categories/equipment/``) — its first page."""
    model = site_mod.load(project / "config.yaml").model
    term = next(t for kind in model.terms.values() for t in kind.values() if t.route == route)
    return [a.record.rel for a in term.all_advances()]


def test_an_edit_rewrites_only_the_page_of_a_term_that_shows_the_advance(project, tmp_path):
    members = advances_of(project, "categories/equipment/")
    assert len(members) > 50  # two pages of 50 (term_per_page)
    on_page_2 = members[50]
    edit(project, on_page_2, "\ntitle: ", "\ntitle: 分页测试")  # what the term page shows of it
    rendered = set(build(project).rendered)
    assert "categories/equipment/page/2/index.html" in rendered
    assert "en/categories/equipment/page/2/index.html" in rendered
    assert "categories/equipment/index.html" not in rendered  # it does not show that advance
    assert tree_digest(project / "output") == cold_digest(project, tmp_path)


def test_removing_an_advance_moves_the_next_pages_of_its_terms(project, tmp_path):
    members = advances_of(project, "categories/equipment/")
    first = members[0]
    (project / first).unlink()
    rendered = set(build(project).rendered)
    assert {"categories/equipment/index.html", "categories/equipment/page/2/index.html"} <= rendered
    assert tree_digest(project / "output") == cold_digest(project, tmp_path)


def test_removing_an_unranked_advance_renumbers_its_list_on_every_page(project, tmp_path):
    # The China lists are unranked: an advance's number is its place in the list. Removing the first one
    # renumbers the others on pages that do not show the removed one (term pages, related lists).
    model = site_mod.load(project / "config.yaml").model
    year = next(y for y in model.years if y.lists["china"] and y.lists["china"][0].meta["rank"] is None)
    first = year.lists["china"][0]
    assert not any(a.meta["also_in"] for a in year.lists["china"] + year.lists["world"])
    (project / first.record.rel).unlink()
    build(project)
    assert tree_digest(project / "output") == cold_digest(project, tmp_path)


def test_a_news_item_added_moves_the_items_of_the_next_news_pages(tmp_path):
    from test_lectures import lecture_site

    project = lecture_site(tmp_path)  # news_per_page: 2, five items
    build(project)
    (project / "content/news/2021-09-item-6.md").write_text(
        "---\ntitle: 新闻 6\ntitle_en: News 6\ndate: 2021-09-01\nsummary: 第 6 条。\ndemo: true\n---\n\n正文。\n",
        encoding="utf-8")
    rendered = set(build(project).rendered)
    assert {"news/index.html", "news/page/2/index.html", "news/page/3/index.html"} <= rendered
    assert tree_digest(project / "output") == cold_digest(project, tmp_path)


def test_dirty_pages_are_those_whose_common_template_or_own_dependencies_changed():
    from types import SimpleNamespace

    from sitegen import incremental

    common = frozenset({"config.yaml", "strings.yaml"})
    templates = {"a.html": frozenset({"a.html", "base.html"}), "b.html": frozenset({"b.html", "base.html"})}
    own = {"a.html": frozenset({"a.md"}), "b.html": frozenset({"b.md", "a.md"}), "c.html": frozenset({"c.md"})}
    template_of = {"a.html": "a.html", "b.html": "b.html", "c.html": "b.html"}
    jobs = [SimpleNamespace(output=out, template=template_of[out], deps=d) for out, d in own.items()]
    state = incremental.BuildState("k", 1, {}, {j.output: (j.template, j.deps) for j in jobs}, common=common,
                                   templates=templates)
    by_source = incremental.users(jobs)
    for changed in ({"a.md"}, {"c.md"}, {"a.html"}, {"b.html"}, {"base.html"}, {"config.yaml"}, {"other.md"}, set()):
        naive = [j.output for j in jobs if changed & (common | templates[j.template] | j.deps)]
        assert [j.output for j in incremental.dirty(jobs, state, changed, common, templates)] == naive, changed
        assert [j.output for j in incremental.dirty(jobs, state, changed, common, templates, by_source)] == naive
    # The previous build's dependencies count too: a page that no longer lists a.md, a template that no longer
    # includes base.html, a page that changed template, a page that is new.
    now = [SimpleNamespace(output="b.html", template="b.html", deps=frozenset({"b.md"})),
           SimpleNamespace(output="c.html", template="a.html", deps=frozenset({"c.md"})),
           SimpleNamespace(output="d.html", template="a.html", deps=frozenset())]

    def dirty(changed, closures):
        return [j.output for j in incremental.dirty(now, state, changed, common, closures)]

    assert dirty({"a.md"}, templates) == ["b.html", "c.html", "d.html"]
    assert dirty({"base.html"}, {"a.html": frozenset({"a.html"}), "b.html": frozenset({"b.html"})}) == [
        "b.html", "c.html", "d.html"]


def test_a_pages_two_languages_share_one_set_of_dependencies(project, monkeypatch):
    made = []
    real = site_mod.render_stage.Renderer
    monkeypatch.setattr(site_mod.render_stage, "Renderer", lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    build(project)  # nothing changed; the plan is made all the same
    routes: dict = {}
    for job in made[0].jobs:
        routes.setdefault(job.route, []).append(job)
    pairs = [jobs for jobs in routes.values() if len(jobs) == 2]
    assert len(pairs) > 250 and all(zh.deps is en.deps for zh, en in pairs)  # a set shared, not copied
    # What every page depends on, and the templates, are kept once beside the pages, not in each page's own set.
    assert not any({"config.yaml", "themes/default/templates/base.html", "@time"} & job.deps for job in made[0].jobs)


def test_a_preview_rebuild_removes_what_the_previous_build_wrote_and_no_longer_exists(project, tmp_path, monkeypatch):
    from sitegen import write

    slug = "adaptive-intelligent-machining-system-for-five-axis-cnc-machine-tools"
    (project / ADVANCE).unlink()
    monkeypatch.setattr(write._Writer, "prune", lambda *a: pytest.fail("a preview rebuild walked the output"))
    result = build(project, live=True)
    assert {f"advances/2021/{slug}/index.html", f"en/advances/2021/{slug}/index.html"} <= set(result.removed)
    assert not (project / f"output/advances/2021/{slug}").exists()  # and its folder, left empty
    assert (project / "output/advances/2021").is_dir()
    monkeypatch.undo()

    def pages(digest):  # the preview keeps the search index of the build before it
        return {k: v for k, v in digest.items() if not k.startswith("pagefind/")}
    assert pages(tree_digest(project / "output")) == pages(cold_digest(project, tmp_path))


def test_a_build_after_preview_rebuilds_brings_the_search_index_up_to_date(project, tmp_path):
    # A preview rebuild keeps the previous search index; the next `sitegen build` must not take the
    # "nothing changed since the last build" path for it.
    edit(project, ADVANCE, "## 应用情况", "## 应用情况\n\n预览中的修改：检索词青瓷釉面。")
    build(project, live=True)
    build(project)
    assert tree_digest(project / "output") == cold_digest(project, tmp_path)


def test_a_preview_keeps_records_markdown_and_state_in_memory(project, tmp_path, monkeypatch):
    from sitegen import content, mdcache

    config, state_file = project / "config.yaml", project / ".sitegen-cache/build-state.pickle"
    warm = site_mod.Warm()
    site_mod.build(site_mod.load(config, warm=warm), warm=warm)  # the preview's first build
    assert warm.state is not None and not state_file.exists()  # on disk it would not describe output/

    parsed, converted = [], []
    real_parse, real_render = content.parse_markdown, mdcache._render
    monkeypatch.setattr(content, "parse_markdown", lambda path, rel, *a: parsed.append(rel) or real_parse(path, rel, *a))
    monkeypatch.setattr(mdcache, "_render", lambda text, *a: converted.append(text) or real_render(text, *a))
    monkeypatch.setattr(site_mod.incremental, "load_pickle", lambda *a: pytest.fail("read from the cache folder"))
    monkeypatch.setattr(mdcache.MarkdownCache, "__init__", lambda *a: pytest.fail("Markdown cache read again"))
    edit(project, ADVANCE, "## 应用情况", "## 应用情况\n\n内存中的预览。")
    result = site_mod.build(site_mod.load(config, warm=warm), live=True, warm=warm)
    assert parsed == [ADVANCE] and len(converted) == 1  # only the edited file is read and converted again
    assert result.changed == [ADVANCE] and 0 < len(result.rendered) < result.pages // 4
    assert "内存中的预览" in (project / "output/advances/2021").joinpath(
        "adaptive-intelligent-machining-system-for-five-axis-cnc-machine-tools/index.html").read_text(encoding="utf-8")
    before = {r.rel: r for r in site_mod.load(config, warm=warm).content.advances}
    after = site_mod.load(config, warm=warm)  # and one more run, with no change
    site_mod.build(after, live=True, warm=warm)
    assert all(before[r.rel] is r for r in after.content.advances)  # not even unpickled again
    monkeypatch.undo()

    warm.save()  # when the preview stops
    assert state_file.exists()
    saved = content.RecordCache(project / ".sitegen-cache" / content.RECORDS_CACHE).old  # the edit included
    assert saved[ADVANCE][0] == ("advance", content.RecordCache.stamp(project / ADVANCE))
    result = build(project)  # a build after the preview starts from what it saved
    assert result.rendered == [] and result.changed == []
    assert tree_digest(project / "output") == cold_digest(project, tmp_path)


def test_a_build_that_fails_while_rendering_leaves_no_stamp(project):
    # The stamp is removed when a build starts and written only when it succeeds, so even a template put
    # back byte for byte, times included, after a failed build means a real build next time.
    template = project / "themes/default/templates/list.html"
    text, before = template.read_text(encoding="utf-8"), template.stat()
    assert site_mod.up_to_date(project / "config.yaml") is not None
    template.write_text(text.replace("{% block main %}", "{% block main %}{{ no_such_value.x }}", 1), encoding="utf-8")
    with pytest.raises(SitegenError):
        build(project)
    assert not (project / ".sitegen-cache" / site_mod.STAMP).exists()
    template.write_text(text, encoding="utf-8")
    os.utime(template, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert site_mod.up_to_date(project / "config.yaml") is None


# --- a preview's rebuild after an edit of bodies only keeps the model and the plan (site.Kept) ----------

def preview_build(project: Path, warm) -> site_mod.BuildResult:
    return site_mod.build(site_mod.load(project / "config.yaml", warm=warm), live=True, warm=warm)


def without_index(digest: dict) -> dict:
    """A preview does not re-index (sitegen build does): compare everything else."""
    return {rel: h for rel, h in digest.items() if not rel.startswith("pagefind/")}


@pytest.fixture()
def warm(project):
    warm = site_mod.Warm()
    site_mod.build(site_mod.load(project / "config.yaml", warm=warm), warm=warm)  # the preview's first build
    return warm


def forbid_model_and_plan(monkeypatch):
    from sitegen import opendata, render, sitemap

    for module, name in ((site_mod, "build_model"), (render, "plan"), (sitemap, "sitemap_entries"),
                         (opendata, "advances_document")):
        monkeypatch.setattr(module, name, lambda *a, name=name, **k: pytest.fail(f"{name} ran for an edit of a body"))


@pytest.mark.parametrize("rel, old, new", [
    (ADVANCE, "## 应用情况", "## 应用情况\n\n只改正文：模型不变。"),
    (ADVANCE.replace(".md", ".en.md"), "## Application", "## Application\n\nOnly the English body changed."),
    ("content/news/2021-07-09-taizhou-conference.md", "按计划，", "据悉，按计划，"),  # the Atom feed shows it
    ("content/lectures/2021-08-20-machine-tool-digital-twin.md", "- 基于实测数据的模型校正", "- 基于实测数据的模型校正与验证"),
    ("content/pages/about.md", "请以官方发布为准。", "请以官方发布为准。\n\n关于页的新段落。"),  # every page lists the pages (their titles)
])
def test_a_body_edit_in_a_preview_keeps_the_model_and_writes_what_a_cold_build_writes(
        project, warm, tmp_path, monkeypatch, rel, old, new):
    edit(project, rel, old, new)
    forbid_model_and_plan(monkeypatch)
    result = preview_build(project, warm)
    monkeypatch.undo()
    assert result.reused and result.changed == [rel] and result.rendered
    assert without_index(tree_digest(project / "output")) == without_index(cold_digest(project, tmp_path))


def test_a_front_matter_edit_in_a_preview_builds_the_model_again(project, warm, tmp_path):
    edit(project, ADVANCE, "## 应用情况", "## 应用情况\n\n先改正文。")
    assert preview_build(project, warm).reused
    edit(project, ADVANCE, "\ntitle: ", "\ntitle: 改过的标题 ")
    result = preview_build(project, warm)
    assert not result.reused and result.changed == [ADVANCE]
    assert "改过的标题" in (project / "output/data/advances.json").read_text(encoding="utf-8")  # made again
    edit(project, ADVANCE, "先改正文。", "再改正文。")  # and the model built here is the one kept next
    assert preview_build(project, warm).reused
    assert without_index(tree_digest(project / "output")) == without_index(cold_digest(project, tmp_path))


@pytest.mark.parametrize("change", ["config", "data file", "removed file", "template"])
def test_other_changes_in_a_preview_build_the_model_again(project, warm, tmp_path, change):
    if change == "config":
        edit(project, "config.yaml", "news_per_page: 10", "news_per_page: 2")
    elif change == "data file":
        edit(project, "content/industries.yaml", "name_en: ", "name_en: Renamed ")
    elif change == "removed file":
        for name in ("2021-07-monthly-report.md", "2021-07-monthly-report.en.md"):
            (project / "content/news" / name).unlink()
    else:
        edit(project, "themes/default/templates/list.html", "{% block main %}", "{% block main %}<!-- changed -->")
    edit(project, ADVANCE, "## 应用情况", "## 应用情况\n\n同时改了正文。")
    result = preview_build(project, warm)
    assert not result.reused
    assert without_index(tree_digest(project / "output")) == without_index(cold_digest(project, tmp_path))


def test_a_preview_after_an_error_builds_the_model_again(project, warm, tmp_path):
    edit(project, ADVANCE, "\ntitle: ", "\nrank: not-a-number\ntitle: ")
    with pytest.raises(SitegenError):
        preview_build(project, warm)
    assert warm.kept is None  # nothing of a failed run is reused
    edit(project, ADVANCE, "\nrank: not-a-number\n", "\n")
    edit(project, ADVANCE, "## 应用情况", "## 应用情况\n\n修好之后。")
    assert not preview_build(project, warm).reused
    assert without_index(tree_digest(project / "output")) == without_index(cold_digest(project, tmp_path))


def test_a_body_edit_in_a_preview_reports_the_warnings_of_the_new_body(project, warm):
    edit(project, ADVANCE, "## 应用情况", '## 应用情况\n\n<span onclick="x()">点击</span>')
    result = preview_build(project, warm)
    assert result.reused and [(w.path, w.field) for w in result.warnings] == [(ADVANCE, "body")]
    edit(project, ADVANCE, '<span onclick="x()">点击</span>', "点击")
    result = preview_build(project, warm)
    assert result.reused and result.warnings == []


def test_an_english_file_added_or_removed_in_a_preview_is_picked_up(project, warm, tmp_path):
    english = project / "content/advances/2021/china-fabric-defect-vision.en.md"
    english.write_text("## Background\n\nAn English body written during the preview.\n", encoding="utf-8")
    result = preview_build(project, warm)
    assert "content/advances/2021/china-fabric-defect-vision.en.md" in result.changed
    assert without_index(tree_digest(project / "output")) == without_index(cold_digest(project, tmp_path))
    english.unlink()
    preview_build(project, warm)
    shutil.rmtree(tmp_path / "cold")
    assert without_index(tree_digest(project / "output")) == without_index(cold_digest(project, tmp_path))


# --- a preview told by its file watcher which files changed looks at those files only (site.load) -------

def told_build(project: Path, warm, *rels: str) -> site_mod.BuildResult:
    """A preview rebuild after the file watcher reported ``rels`` changed (as absolute paths, like watchfiles)."""
    changed = {str((project / rel).resolve()) for rel in rels}
    return site_mod.build(site_mod.load(project / "config.yaml", warm=warm, changed=changed), live=True, warm=warm)


class StatLog:
    """``os`` for sitegen.incremental, recording the files whose fingerprint is taken."""

    def __init__(self):
        self.paths = []

    def __getattr__(self, name):
        return getattr(os, name)

    def stat(self, path, *args, **kwargs):
        self.paths.append(os.fspath(path))
        return os.stat(path, *args, **kwargs)


@pytest.mark.parametrize("rel, old, new", [
    (ADVANCE, "## 应用情况", "## 应用情况\n\n只改正文：只看这个文件。"),
    (ADVANCE.replace(".md", ".en.md"), "## Application", "## Application\n\nOnly this English file."),
    ("content/news/2021-07-09-taizhou-conference.md", "按计划，", "据悉，按计划，"),
    ("content/pages/about.md", "请以官方发布为准。", "请以官方发布为准。\n\n关于页的新段落。"),
])
def test_a_preview_told_which_files_changed_reads_only_those(project, warm, tmp_path, monkeypatch, rel, old, new):
    from sitegen import incremental

    edit(project, rel, old, new)
    forbid_model_and_plan(monkeypatch)
    monkeypatch.setattr(site_mod, "discover", lambda *a, **k: pytest.fail("every content file was looked at"))
    monkeypatch.setattr(incremental, "os", log := StatLog())
    result = told_build(project, warm, rel)
    monkeypatch.undo()
    assert result.reused and result.changed == [rel] and len(result.rendered) == 2
    assert log.paths == [str(project / rel)]  # the one fingerprint taken again
    assert without_index(tree_digest(project / "output")) == without_index(cold_digest(project, tmp_path))


def spy_discover(monkeypatch) -> list:
    calls = []
    real = site_mod.discover
    monkeypatch.setattr(site_mod, "discover", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


NEW_ADVANCE = "content/advances/2023/world-added-during-preview.md"  # 2023 has room on its lists


@pytest.mark.parametrize("change", ["added", "removed", "data file", "folder renamed", "English file added",
                                    "broken front matter"])
def test_a_preview_told_of_files_added_removed_or_data_discovers_everything_again(
        project, warm, tmp_path, monkeypatch, change):
    if change == "added":
        text = (project / ADVANCE).read_text(encoding="utf-8")
        text = re.sub(r"\nimage.*", "", text.replace("rank: 1\n", "").replace("year: 2021", "year: 2023"))
        (project / NEW_ADVANCE).write_text(text.replace("title_en: ", "title_en: Added ", 1), encoding="utf-8")
        rels = [NEW_ADVANCE]
    elif change == "removed":
        rels = ["content/news/2021-07-monthly-report.md", "content/news/2021-07-monthly-report.en.md"]
        for rel in rels:
            (project / rel).unlink()
    elif change == "data file":
        edit(project, "content/industries.yaml", "name_en: ", "name_en: Renamed ")
        rels = ["content/industries.yaml"]
    elif change == "folder renamed":
        (project / "content/lectures").rename(project / "content/old-lectures")
        rels = ["content/lectures", "content/old-lectures"]
    elif change == "English file added":
        rels = ["content/advances/2021/china-fabric-defect-vision.en.md"]
        (project / rels[0]).write_text("## Background\n\nWritten during the preview.\n", encoding="utf-8")
    else:  # the record no longer parses: its error, and no record, as a full discovery would find
        edit(project, ADVANCE, "\ntitle: ", "\ntitle: [")
        rels = [ADVANCE]
    calls = spy_discover(monkeypatch)
    try:
        result = told_build(project, warm, *rels)
    except SitegenError as exc:
        assert change == "broken front matter" and calls == [1]
        assert [p.path for p in exc.problems.errors] == [ADVANCE]
        return
    assert calls == [1] and result.changed
    assert without_index(tree_digest(project / "output")) == without_index(cold_digest(project, tmp_path))


def test_a_preview_told_of_a_file_gone_before_it_looked_or_of_other_files_only_changes_nothing(
        project, warm, monkeypatch):
    calls = spy_discover(monkeypatch)
    # An editor's temporary file, written and removed again; a file outside content/; nothing at all.
    result = told_build(project, warm, "content/advances/2021/.world-adaptive-five-axis-cnc.md.swp",
                        "README.md")
    assert calls == [] and result.reused and result.rendered == [] and result.changed == []
    assert told_build(project, warm).rendered == []


def test_a_preview_told_which_files_changed_keeps_the_problems_of_the_others(project, warm, tmp_path):
    page = "content/pages/about.md"
    edit(project, page, "请以官方发布为准。", '请以官方发布为准。<span onclick="x()">旧警告</span>')
    result = told_build(project, warm, page)  # a full discovery: the model kept, the warning new
    assert [(w.path, w.field) for w in result.warnings] == [(page, "body")]
    edit(project, ADVANCE, "## 应用情况", '## 应用情况\n\n<span onclick="y()">新警告</span>')
    result = told_build(project, warm, ADVANCE)
    assert result.reused and sorted((w.path, w.field) for w in result.warnings) == [(ADVANCE, "body"), (page, "body")]
    edit(project, ADVANCE, '<span onclick="y()">新警告</span>', "改好了")
    result = told_build(project, warm, ADVANCE)
    assert [(w.path, w.field) for w in result.warnings] == [(page, "body")]
    edit(project, page, '<span onclick="x()">旧警告</span>', "")
    result = told_build(project, warm, ADVANCE, page)
    assert result.reused and result.warnings == []
    assert without_index(tree_digest(project / "output")) == without_index(cold_digest(project, tmp_path))


def png(width: int, height: int) -> bytes:
    import struct
    import zlib

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + header
            + struct.pack(">I", zlib.crc32(b"IHDR" + header)))


def test_a_preview_told_that_an_image_changed_reads_its_size_again(project, warm, tmp_path):
    image = project / "content/advances/2021/images/five-axis-adaptive-machining.png"
    image.write_bytes(png(600, 200))
    result = told_build(project, warm, image.relative_to(project).as_posix())
    assert result.reused and f"advances/2021/{SLUG}/index.html" in result.rendered
    assert 'width="600" height="200"' in (project / f"output/advances/2021/{SLUG}/index.html").read_text("utf-8")
    assert without_index(tree_digest(project / "output")) == without_index(cold_digest(project, tmp_path))


def test_a_preview_of_body_edits_keeps_as_much_markdown_as_it_shows(project, warm):
    told_build(project, warm, ADVANCE)  # the first rebuild told which files changed
    sizes = []
    for i in range(5):
        edit(project, ADVANCE, "## 应用情况", f"## 应用情况\n\n第{i}次修改。")
        assert told_build(project, warm, ADVANCE).reused
        cache = warm.markdown
        sizes.append((len(cache.memory), len(cache.used), len(cache._known)))
    assert len(set(sizes)) == 1 and sizes[0][0] == 0, sizes  # no HTML in memory; the previous bodies are let go
    # The file keeps the replaced bodies until the preview stops: then only what the last run used is left.
    rows = lambda: cache._db.execute("SELECT count(*) FROM bodies").fetchone()[0]  # noqa: E731
    assert rows() == len(cache.used) + 5
    warm.save()
    assert rows() == len(cache.used)
