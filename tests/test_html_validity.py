"""The Nu Html Checker over every page of the bundled site: zero errors (issue 7); and it bites.

Needs ``java`` and ``.ci/node_modules/vnu-jar`` (both installed by ``bash .ci/setup``). Also here: the
built-site walker (``sitegen check --output``) over the bundled site, and over the broken page.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen.linkcheck import check_output

REPO = Path(__file__).resolve().parents[1]
VNU_JAR = REPO / ".ci" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
BROKEN = Path(__file__).resolve().parent / "sites" / "broken-page"


def vnu_errors(folder: Path) -> list[str]:
    """Every error the Nu Html Checker reports for the HTML files under ``folder``, as ``file:line: message``."""
    if shutil.which("java") is None or not VNU_JAR.is_file():
        pytest.fail("the Nu Html Checker needs java and .ci/node_modules/vnu-jar: run `bash .ci/setup`")
    result = subprocess.run(["java", "-Xss4m", "-jar", str(VNU_JAR), "--errors-only", "--skip-non-html", "--stdout",
                             "--format", "json", str(folder)], capture_output=True, text=True, timeout=600)
    messages = json.loads(result.stdout)["messages"]
    assert result.returncode == (1 if messages else 0), result.stderr
    out = []
    for m in messages:
        where = m.get("url", "").removeprefix("file:")
        try:
            where = Path(where).relative_to(folder).as_posix()
        except ValueError:
            pass
        out.append(f"{where}:{m.get('lastLine', 0)}: {m['message']}")
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("validity") / "output"
    result = subprocess.run([sys.executable, "-m", "sitegen", "build", "--base-url",
                             "https://example.org/imac/dual-top10/", "--output", str(out)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return out


def test_every_page_of_the_bundled_site_is_valid_html(built):
    pages = list(built.rglob("*.html"))
    assert len(pages) > 100
    errors = vnu_errors(built)
    assert errors == [], f"{len(errors)} errors in {len(pages)} pages:\n" + "\n".join(errors[:40])


def test_built_site_has_no_broken_links_images_anchors_or_duplicate_ids(built):
    problems = check_output(built)
    assert problems == [], "\n".join(map(str, problems[:40]))


def test_html_gate_catches_missing_alt_and_duplicate_id():
    errors = "\n".join(vnu_errors(BROKEN))
    assert "index.html:" in errors
    assert "“img” element must have an “alt” attribute" in errors
    assert "Duplicate ID “dup”" in errors


def test_site_walker_catches_duplicate_id_and_missing_image():
    problems = [str(p) for p in check_output(BROKEN)]
    assert any("duplicate id 'dup'" in p for p in problems), problems
    assert any("missing image 'photo.png'" in p for p in problems), problems
