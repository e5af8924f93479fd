"""``sitegen check --output``: the built site walked for broken links, images, anchors, titles, duplicate ids,
each problem naming the record that produced the page (issue 7)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen.linkcheck import check_output, detect_site_url

REPO = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "sites" / "publishing"
BASE = "https://example.org/imac/dual-top10/"
ADVANCE = "advances/2021/adaptive-five-axis-machining/index.html"
RECORD = "content/advances/2021/world-five-axis.md"


def sitegen(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sitegen", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def site(tmp_path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(FIXTURE, site)
    shutil.copytree(REPO / "themes", site / "themes")
    result = sitegen("build", "--base-url", BASE, cwd=site)
    assert result.returncode == 0, result.stderr
    return site


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_clean_site_passes(site):
    result = sitegen("check", "--output", cwd=site)
    assert result.returncode == 0, result.stderr
    assert "Built site OK" in result.stdout
    assert detect_site_url(site / "output") == BASE


def test_every_kind_of_problem_is_reported_with_the_record_behind_the_page(site):
    out = site / "output"
    page = out / ADVANCE
    (out / "advances/2021/adaptive-five-axis-machining/five-axis.svg").unlink()  # image and og:image
    edit(page, '<main id="main"', '<p id="meta-heading">x</p>\n<a href="#no-such-section">y</a>\n<main id="main"')
    edit(page, '<a href="/imac/dual-top10/years/">', '<a href="/imac/dual-top10/years/1999/">')  # broken link
    edit(page, '<meta name="description"', '<meta name="x-description"')  # no description
    en_year = out / "en/years/2021/index.html"
    text = en_year.read_text(encoding="utf-8")
    start, end = text.index("<title>"), text.index("</title>") + len("</title>")
    en_year.write_text(text[:start] + text[end:], encoding="utf-8")  # no title
    edit(out / "about/index.html", 'href="/imac/dual-top10/years/"', 'href="/elsewhere/"')  # outside base path
    edit(out / "404.html", 'href="/imac/dual-top10/years/"', 'href="years/"')  # relative link on the 404 page
    (out / "categories/ai/index.html").unlink()  # linked from pages and listed in the sitemap

    result = sitegen("check", "--output", cwd=site)
    assert result.returncode == 1
    err = result.stderr
    made = f"(page made from {RECORD})"
    for message in (
        "missing image '/imac/dual-top10/advances/2021/adaptive-five-axis-machining/five-axis.svg'",
        f"missing image '{BASE}advances/2021/adaptive-five-axis-machining/five-axis.svg'",  # og:image
        "duplicate id 'meta-heading' (2 times",
        "missing anchor '#no-such-section'",
        "broken link '/imac/dual-top10/years/1999/'",
        "page has no meta description",
    ):
        assert any(line.startswith(ADVANCE + ":") and message in line and line.endswith(made)
                   for line in err.splitlines()), (message, err)
    assert "en/years/2021/index.html:1: page has no <title> (page made from content/years/2021.yaml)" in err
    assert "about/index.html:" in err and "'/elsewhere/' is outside the base path /imac/dual-top10/" in err
    assert "(page made from content/pages/about.md)" in err
    assert "404.html:" in err and "relative link 'years/' on the 404 page breaks on deep URLs" in err
    assert f"sitemap.xml:" in err and f"broken link '{BASE}categories/ai/'" in err
    assert "broken link '/imac/dual-top10/categories/ai/'" in err
    assert "problems in the built site" in err


def test_check_output_without_a_built_site_is_a_usage_error(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(FIXTURE, site)
    shutil.copytree(REPO / "themes", site / "themes")
    result = sitegen("check", "--output", cwd=site)
    assert result.returncode == 2 and "run sitegen build first" in result.stderr


def test_check_output_accepts_another_folder(site, tmp_path):
    moved = tmp_path / "public"
    shutil.move(str(site / "output"), moved)
    assert sitegen("check", "--output", str(moved), cwd=site).returncode == 0


def test_walker_finds_srcset_and_anchors_on_other_pages(tmp_path):
    root = tmp_path / "out"
    (root / "a").mkdir(parents=True)
    (root / "index.html").write_text(
        '<!DOCTYPE html><html><head><title>t</title><meta name="description" content="d">'
        '<link rel="canonical" href="https://h.example/"></head><body>'
        '<img srcset="a/x.png 1x, a/missing.png 2x" src="a/x.png" alt="">'
        '<a href="a/#here">ok</a><a href="a/#gone">gone</a><a href="https://other.example/x">ext</a>'
        '<a href="https://h.example/a/">own absolute</a><a href="https://h.example/b/">own, broken</a>'
        '</body></html>', encoding="utf-8")
    (root / "a" / "x.png").write_bytes(b"png")
    (root / "a" / "index.html").write_text(
        '<!DOCTYPE html><html><head><title>a</title><meta name="description" content="d"></head>'
        '<body><h2 id="here">x</h2></body></html>', encoding="utf-8")
    problems = [str(p) for p in check_output(root, sources={"index.html": "content/x.md"})]
    assert problems == [
        "index.html:1: missing image 'a/missing.png' (page made from content/x.md)",
        "index.html:1: missing anchor 'a/#gone' (page made from content/x.md)",
        "index.html:1: broken link 'https://h.example/b/' (page made from content/x.md)",
    ]
