"""An advance's ``image:``: checked with path:line errors, copied beside its page (issue 7)."""

from __future__ import annotations

import os
import struct
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "sites" / "publishing"
RECORD = "content/advances/2021/world-five-axis.md"
IMAGE_LINE = 15  # the line of 'image:' in the fixture record


def copy_fixture(dest: Path) -> Path:
    shutil.copytree(FIXTURE, dest)
    shutil.copytree(REPO / "themes", dest / "themes")
    return dest


def sitegen(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sitegen", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def set_image(site: Path, value: str) -> None:
    record = site / RECORD
    lines = record.read_text(encoding="utf-8").splitlines()
    assert lines[IMAGE_LINE - 1].startswith("image:")
    lines[IMAGE_LINE - 1] = f"image: {value}"
    record.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_image_is_copied_beside_its_page_and_shown_in_both_languages(tmp_path):
    site = copy_fixture(tmp_path / "site")
    result = sitegen("build", "--base-url", "https://example.org/sub/", cwd=site)
    assert result.returncode == 0, result.stderr
    out = site / "output"
    copy = out / "advances/2021/adaptive-five-axis-machining/five-axis.svg"
    assert copy.read_bytes() == (site / "content/advances/2021/images/five-axis.svg").read_bytes()
    assert not list((out / "en").rglob("*.svg")), "one copy, shared by both languages"
    zh = (out / "advances/2021/adaptive-five-axis-machining/index.html").read_text(encoding="utf-8")
    en = (out / "en/advances/2021/adaptive-five-axis-machining/index.html").read_text(encoding="utf-8")
    src = "/sub/advances/2021/adaptive-five-axis-machining/five-axis.svg"
    assert f'<img src="{src}" alt="五轴加工中心示意图" width="640" height="320">' in zh
    assert f'<img src="{src}" alt="Diagram of a five-axis machining centre" width="640" height="320">' in en
    other = (out / "advances/2021/a-sourced-advance/index.html").read_text(encoding="utf-8")
    assert "<img" not in other


@pytest.mark.parametrize("value, message", [
    ("images/missing.png", "'images/missing.png' does not exist (looked for content/advances/2021/images/missing.png)"),
    ("../../../outside.png", "'../../../outside.png' is outside the content folder"),
    ("images/notes.txt", "'images/notes.txt' is not an image file browsers show"),
    ("https://example.org/a.png", "'https://example.org/a.png' is not a path relative to this file's folder"),
    ("/images/five-axis.svg", "'/images/five-axis.svg' is not a path relative to this file's folder"),
])
def test_bad_image_is_reported_with_file_and_line(tmp_path, value, message):
    site = copy_fixture(tmp_path / "site")
    (site / "outside.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # exists, but outside content/
    (site / "content/advances/2021/images/notes.txt").write_text("not an image", encoding="utf-8")
    set_image(site, value)
    result = sitegen("check", cwd=site)
    assert result.returncode == 1
    assert f"{RECORD}:{IMAGE_LINE}: image: {message} — " in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    build = sitegen("build", cwd=site)
    assert build.returncode == 1 and not (site / "output").exists()


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_symlink_out_of_content_is_refused(tmp_path):
    site = copy_fixture(tmp_path / "site")
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n")
    (site / "content/advances/2021/images/link.png").symlink_to(secret)
    set_image(site, "images/link.png")
    result = sitegen("check", cwd=site)
    assert result.returncode == 1
    assert f"{RECORD}:{IMAGE_LINE}: image: 'images/link.png' is outside the content folder" in result.stderr


def test_a_changed_image_updates_its_size_on_the_next_build(tmp_path):
    site = copy_fixture(tmp_path / "site")
    assert sitegen("build", cwd=site).returncode == 0
    svg = site / "content/advances/2021/images/five-axis.svg"
    svg.write_text(svg.read_text(encoding="utf-8").replace('width="640" height="320"', 'width="800" height="450"'),
                   encoding="utf-8")
    assert sitegen("build", cwd=site).returncode == 0
    page = (site / "output/advances/2021/adaptive-five-axis-machining/index.html").read_text(encoding="utf-8")
    assert 'width="800" height="450"' in page
    assert (site / "output/advances/2021/adaptive-five-axis-machining/five-axis.svg").read_bytes() == svg.read_bytes()


def test_image_size_is_read_from_the_file_header(tmp_path):
    from sitegen.images import image_size

    def write(name, data):
        path = tmp_path / name
        path.write_bytes(data)
        return path

    png = REPO / "content/advances/2021/images/five-axis-adaptive-machining.png"
    assert image_size(png) == (1200, 630)
    assert image_size(write("a.gif", b"GIF89a" + struct.pack("<HH", 33, 44) + b"\0" * 8)) == (33, 44)
    jpeg = (b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0" + b"\0" * 9
            + b"\xff\xc0" + struct.pack(">HBHH", 17, 8, 480, 640) + b"\0" * 10 + b"\xff\xd9")
    assert image_size(write("a.jpg", jpeg)) == (640, 480)
    webp = b"RIFF" + b"\0" * 4 + b"WEBPVP8X" + b"\0" * 8 + (299).to_bytes(3, "little") + (199).to_bytes(3, "little")
    assert image_size(write("a.webp", webp)) == (300, 200)
    assert image_size(write("a.svg", b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 60"/>')) == (120, 60)
    assert image_size(write("b.svg", b'<svg width="50%" height="10em"/>')) is None
    assert image_size(write("broken.png", b"\x89PNG\r\n")) is None


# --- hostile paths and files (issue 9) -----------------------------------------------------------------

@pytest.mark.parametrize("value, message", [
    ('"images/a\\0.png"', "contains the control character U+0000 (NUL)"),
    ('"C:\\\\images\\\\a.png"', "'C:\\\\images\\\\a.png' is not a path relative to this file's folder"),
    ("C:a.png", "'C:a.png' is not a path relative to this file's folder"),
    ('"\\\\\\\\server\\\\share\\\\a.png"', "is not a path relative to this file's folder"),
    ("~/a.png", "'~/a.png' is not a path relative to this file's folder"),
    ("file:///etc/passwd", "is not a path relative to this file's folder"),
    ("images/../../../../../../../../etc/passwd.png", "is outside the content folder"),
    ("../../../config.yaml", "is outside the content folder"),
    ("images/" + "a" * 201 + ".png", "has a file or folder name longer than 200 bytes"),
    ("images/nul.png", "uses the name 'nul.png', which Windows reserves or cannot store"),
    ("images/COM1.svg", "uses the name 'COM1.svg', which Windows reserves or cannot store"),
    ("images/..", "'images/..' is not an image file browsers show"),
])
def test_hostile_image_paths_are_errors_with_file_and_line(tmp_path, value, message):
    site = copy_fixture(tmp_path / "site")
    set_image(site, value)
    result = sitegen("check", cwd=site)
    assert result.returncode == 1 and "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert f"{RECORD}:{IMAGE_LINE}: image: " in result.stderr and message in result.stderr, result.stderr


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_symlink_loop_and_link_to_a_folder_outside_are_errors(tmp_path):
    site = copy_fixture(tmp_path / "site")
    images = site / "content/advances/2021/images"
    (images / "loop-a.png").symlink_to(images / "loop-b.png")
    (images / "loop-b.png").symlink_to(images / "loop-a.png")
    set_image(site, "images/loop-a.png")
    result = sitegen("check", cwd=site)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{RECORD}:{IMAGE_LINE}: image: 'images/loop-a.png' cannot be resolved to a file" in result.stderr
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (images / "dir").symlink_to(outside, target_is_directory=True)
    set_image(site, "images/dir/secret.png")
    result = sitegen("check", cwd=site)
    assert f"{RECORD}:{IMAGE_LINE}: image: 'images/dir/secret.png' is outside the content folder" in result.stderr


ACTIVE_SVG = [
    ('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "contains a <script> element"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><SCRIPT xmlns="http://www.w3.org/2000/svg">x</SCRIPT></svg>',
     "contains a <script> element"),
    ('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "contains an event handler (onload= on <svg>)"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><rect onClick="alert(1)"/></svg>', "event handler (onclick= on <rect>)"),
    ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink"><a x:href="javascript:alert(1)">'
     '<text>t</text></a></svg>', "links to 'javascript:alert(1)'"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><a href=" JAVASCRIPT:alert(1)"><text>t</text></a></svg>', "links to"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><image href="https://tracker.example/p.png"/></svg>', "links to"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div>'
     '</foreignObject></svg>', "contains a <foreignobject> element"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><a href="#x"><set attributeName="href" to="javascript:alert(1)"/>'
     '</a></svg>', "animates an attribute to a script URL"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/x.css);</style></svg>',
     "loads another file from its <style>"),
    ('<!DOCTYPE svg [<!ENTITY a "lol">]><svg xmlns="http://www.w3.org/2000/svg"><text>&a;</text></svg>',
     "declares a DOCTYPE or entities"),
    ("<html><script>alert(1)</script></html>", "is not an SVG image (its root element is <html>)"),
    ("<svg><rect></svg>", "is not a well-formed SVG file"),
]


@pytest.mark.parametrize("svg, message", ACTIVE_SVG)
def test_svg_with_active_content_is_refused(tmp_path, svg, message):
    from sitegen.svgcheck import svg_problem

    path = tmp_path / "x.svg"
    path.write_text(svg, encoding="utf-8")
    assert message in (svg_problem(path) or ""), svg_problem(path)


def test_plain_svg_drawings_pass(tmp_path):
    from sitegen.svgcheck import svg_problem

    assert svg_problem(FIXTURE / "content/advances/2021/images/five-axis.svg") is None
    path = tmp_path / "inkscape.svg"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<!-- Created with a drawing program -->\n'
                    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
                    'viewBox="0 0 10 10"><defs><linearGradient id="g"/></defs><style>.a{fill:url(#g)}</style>'
                    '<rect class="a" width="10" height="10"/><use xlink:href="#g"/></svg>', encoding="utf-8")
    assert svg_problem(path) is None


def test_svg_image_with_a_script_fails_the_build_with_file_and_line(tmp_path):
    site = copy_fixture(tmp_path / "site")
    svg = site / "content/advances/2021/images/five-axis.svg"
    svg.write_text(svg.read_text(encoding="utf-8").replace("</svg>", "<script>alert(document.domain)</script></svg>"),
                   encoding="utf-8")
    result = sitegen("build", cwd=site)
    assert result.returncode == 1 and not (site / "output").exists()
    assert (f"{RECORD}:{IMAGE_LINE}: image: 'images/five-axis.svg' contains a <script> element; an SVG is served "
            "as a page of the site") in result.stderr
