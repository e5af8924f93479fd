"""Integration tests: build the bundled site and check what a visitor and a publisher rely on."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sitegen.linkcheck import check_output

REPO = Path(__file__).resolve().parents[1]


def run(args, cwd, **kw):
    return subprocess.run([sys.executable, "-m", "sitegen", *args], cwd=cwd, capture_output=True, text=True, **kw)


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def copy_project(dest: Path) -> Path:
    for name in ("content", "themes"):
        shutil.copytree(REPO / name, dest / name)
    shutil.copy(REPO / "config.yaml", dest / "config.yaml")
    return dest


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundled") / "output"
    result = run(["build", "--output", str(out)], REPO)
    assert result.returncode == 0, result.stderr
    assert "Built" in result.stdout and "pages" in result.stdout
    return out


def heading(html: str) -> str:
    """The page's <h1> (an advance's demo badge sits there; related advances further down have their own)."""
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0]


def h1_text(html: str) -> str:
    import re
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.DOTALL)
    import html as html_lib
    return html_lib.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else ""


def bundled_advances():
    for path in sorted((REPO / "content" / "advances").glob("*/*.md")):
        if path.name.endswith(".en.md"):
            continue
        text = path.read_text(encoding="utf-8")
        meta = yaml.safe_load(text.split("---")[1])
        if not meta.get("draft"):
            yield path, meta


def test_every_page_type_is_written(built):
    years = sorted(int(p.stem) for p in (REPO / "content" / "years").glob("*.yaml"))
    for prefix in ("", "en/"):
        assert (built / prefix / "index.html").is_file()
        assert (built / prefix / "years/index.html").is_file()
        assert (built / prefix / "404.html").is_file()
        for y in years:
            assert (built / prefix / f"years/{y}/index.html").is_file()
            for lst in ("world", "china"):
                assert (built / prefix / f"years/{y}/{lst}/index.html").is_file()
        for page in (REPO / "content" / "pages").glob("*.md"):
            if not page.name.endswith(".en.md"):
                assert (built / prefix / page.stem / "index.html").is_file(), page
    advance_pages = list((built / "advances").glob("*/*/index.html"))
    assert len(advance_pages) == len(list(bundled_advances()))


def test_every_advance_title_appears_on_its_year_page(built):
    for path, meta in bundled_advances():
        year_page = (built / f"years/{meta['year']}/index.html").read_text(encoding="utf-8")
        assert meta["title"] in year_page, path


def test_internal_links_resolve(built):
    problems = check_output(built)
    assert problems == [], "\n".join(map(str, problems[:30]))


def test_at_least_one_full_year_with_six_sections(built):
    full = []
    for year_dir in sorted((built / "years").iterdir()):
        counts = {}
        for lst in ("world", "china"):
            page = year_dir / lst / "index.html"
            if page.is_file():
                counts[lst] = page.read_text(encoding="utf-8").count('class="advance-item"')
        if counts == {"world": 10, "china": 10}:
            full.append(year_dir.name)
    assert full, "no year has 10 + 10 advances"
    sections = ("background", "innovation", "application", "benefits", "prospects", "ip")
    year = full[-1]
    for page in (built / "advances" / year).glob("*/index.html"):
        html = page.read_text(encoding="utf-8")
        if "badge demo" in heading(html):
            for section in sections:
                assert f'id="{section}"' in html, (page, section)
            assert "<table>" in html


def test_demo_records_are_badged_everywhere(built):
    for path, meta in bundled_advances():
        if not meta.get("demo"):
            continue
        html = (built / "advances" / str(meta["year"])).glob("*/index.html")
        pages = [p.read_text(encoding="utf-8") for p in html]
        page = next(p for p in pages if f"<h1>{meta['title']}" in p)
        assert 'class="badge demo"' in heading(page), path


def test_real_records_show_their_source(built):
    for path, meta in bundled_advances():
        if meta.get("demo"):
            continue
        assert meta.get("source"), path
        url = meta["source"]["url"] if isinstance(meta["source"], dict) else meta["source"]
        pages = [p.read_text(encoding="utf-8") for p in (built / "advances" / str(meta["year"])).glob("*/index.html")]
        page = next(p for p in pages if f"<h1>{meta['title']}" in p)
        assert url in page and 'class="badge demo"' not in heading(page)


def test_two_builds_are_byte_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(["build", "--output", str(a)], REPO).returncode == 0
    assert run(["build", "--output", str(b)], REPO).returncode == 0
    assert tree_digest(a) == tree_digest(b)


def test_failed_build_leaves_previous_output_untouched(tmp_path):
    project = copy_project(tmp_path / "site")
    assert run(["build"], project).returncode == 0
    before = tree_digest(project / "output")
    broken = project / "content" / "advances" / "2021" / "world-adaptive-five-axis-cnc.md"
    broken.write_text(broken.read_text(encoding="utf-8").replace("list: world", "list: wrold"), encoding="utf-8")
    result = run(["build"], project)
    assert result.returncode == 1
    assert "content/advances/2021/world-adaptive-five-axis-cnc.md:" in result.stderr
    assert "list:" in result.stderr and "Traceback" not in result.stderr
    assert tree_digest(project / "output") == before
    assert sorted(p.name for p in project.iterdir()) == [".sitegen-cache", "config.yaml", "content", "output", "themes"]


def test_stale_staging_folders_are_removed(tmp_path):
    project = copy_project(tmp_path / "site")
    stale = project / ".output.staging-99999"
    (stale / "junk").mkdir(parents=True)
    assert run(["build"], project).returncode == 0
    assert not stale.exists()
    assert (project / "output" / "index.html").is_file()


def test_output_folder_may_not_be_the_project(tmp_path):
    project = copy_project(tmp_path / "site")
    config = project / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("output_dir: output", "output_dir: ."), encoding="utf-8")
    result = run(["check"], project)
    assert result.returncode == 1
    assert "config.yaml:" in result.stderr and "output_dir:" in result.stderr


def test_check_is_clean_on_bundled_content():
    result = run(["check"], REPO)
    assert result.returncode == 0, result.stderr
    assert "No errors" in result.stdout


def test_usage_error_exits_2(tmp_path):
    assert run(["check"], tmp_path).returncode == 2
    assert run(["frobnicate"], REPO).returncode == 2


def test_theme_overrides_one_template(tmp_path):
    project = copy_project(tmp_path / "site")
    custom = project / "themes" / "custom" / "templates"
    custom.mkdir(parents=True)
    (custom / "404.html").write_text('{% extends "base.html" %}{% block main %}<h1>CUSTOM 404</h1>{% endblock %}',
                                     encoding="utf-8")
    config = project / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("theme: default", "theme: custom"), encoding="utf-8")
    assert run(["build"], project).returncode == 0
    assert "CUSTOM 404" in (project / "output" / "404.html").read_text(encoding="utf-8")
    assert "site-header" in (project / "output" / "years" / "index.html").read_text(encoding="utf-8")


def test_template_error_names_template_file_and_line(tmp_path):
    project = copy_project(tmp_path / "site")
    template = project / "themes" / "default" / "templates" / "404.html"
    template.write_text(template.read_text(encoding="utf-8").replace(
        "{% block main %}", "{% block main %}\n{{ no_such_variable }}"), encoding="utf-8")
    result = run(["build"], project)
    assert result.returncode == 1
    assert "themes/default/templates/404.html:" in result.stderr and "Traceback" not in result.stderr
    assert not (project / "output").exists()


def test_ui_strings_are_not_in_python_code():
    """No Chinese UI string of the theme is hard-coded in a string literal of the package
    (docstrings and comments may quote them; markdown.py knows the nomination form's section
    headings, which are a content convention, not UI strings)."""
    import ast
    import re
    zh = yaml.safe_load((REPO / "themes/default/i18n/zh.yaml").read_text(encoding="utf-8"))
    literals = []
    for path in sorted((REPO / "sitegen").glob("*.py")):
        if path.name == "markdown.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        literals += [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                     and isinstance(node.value, str) and id(node) not in docstrings]
    code = "\n".join(literals)
    for key, text in zh.items():
        for phrase in re.findall(r"[\u4e00-\u9fff]{2,}", text):
            assert phrase not in code, (key, phrase)


@pytest.mark.skipif(os.name != "posix", reason="POSIX paths")
def test_python_dash_m_and_console_script_agree():
    assert run(["--version"], REPO).stdout.startswith("sitegen ")
