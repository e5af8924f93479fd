"""Images of records: an advance's ``image:`` is checked at load time and copied beside its page.

``image: images/robot.png`` in ``content/advances/2021/foo.md`` names
``content/advances/2021/images/robot.png``; it must exist, be an image type browsers show, and stay inside
``content/`` (no ``..`` or symbolic link out of it). The build copies it to the advance page's folder under
its file name (``advances/2021/<slug>/robot.png``, :attr:`~sitegen.model.Advance.image_route`), where both
language versions of the page and its Open Graph tag refer to it.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from posixpath import normpath

from . import urls
from .errors import Problems
from .model import Model
from .svgcheck import svg_problem

IMAGE_TYPES = (".avif", ".gif", ".jpeg", ".jpg", ".png", ".svg", ".webp")


def check_images(model: Model, content_dir: Path, problems: Problems, advances: list | None = None) -> dict[str, Path]:
    """Report every ``image:`` (of ``advances``, default all) that is missing, not an image or outside ``content/``.

    Returns route of the copy → source file for the images that are fine.
    """
    content_dir = content_dir.resolve()
    found: dict[str, Path] = {}
    for adv in model.advances if advances is None else advances:
        name = adv.meta.get("image")
        if not name:
            continue
        record = adv.record
        line = record.line_of("image")
        if "://" in name or name.startswith(("/", "~")) or "\\" in name or ":" in name:
            problems.add(record.rel, line, "image", f"{name!r} is not a path relative to this file's folder",
                         "put the image beside the record, e.g. images/photo.png for "
                         f"{Path(record.rel).parent.as_posix()}/images/photo.png")
            continue
        unsafe = _name_problem(name)
        try:
            target = (record.path.parent / name).resolve() if not unsafe else None
        except (OSError, RuntimeError):  # a symbolic link loop, a name the file system refuses
            unsafe = "cannot be resolved to a file (a symbolic link loop?)", \
                "make the link point at a real file inside content/, or copy the image there"
        if unsafe:
            problems.add(record.rel, line, "image", f"{name[:80]!r} {unsafe[0]}", unsafe[1])
        elif content_dir not in target.parents:
            problems.add(record.rel, line, "image", f"{name!r} is outside the content folder",
                         "copy the image into content/, e.g. beside the record in an images/ folder")
        elif target.suffix.lower() not in IMAGE_TYPES:
            problems.add(record.rel, line, "image", f"{name!r} is not an image file browsers show",
                         "use one of " + ", ".join(IMAGE_TYPES))
        elif not _is_file(target):
            problems.add(record.rel, line, "image", f"{name!r} does not exist "
                         f"(looked for {normpath(Path(record.rel).parent.as_posix() + '/' + name)})",
                         "add the file or correct the path (it is relative to this file's folder)")
        elif target.suffix.lower() == ".svg" and svg_problem(target):
            problems.add(record.rel, line, "image", f"{name!r} {svg_problem(target)}; an SVG is served as a page "
                         "of the site, so it may not contain scripts, event handlers or links out",
                         "export the drawing again as plain SVG, or use PNG")
        else:
            found[adv.image_route] = target
            adv.image_size = image_size(target)
    return found


# Names Windows gives to devices, whatever the extension: writing "nul.png" there writes nowhere.
_RESERVED = re.compile(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?", re.IGNORECASE)
MAX_NAME_BYTES = 200  # per file or folder name: room for the writer's temporary name within 255 bytes


def _name_problem(name: str) -> tuple[str, str] | None:
    """(problem, fix) when an ``image:`` path cannot be used on every system, before the file system is asked."""
    for part in name.split("/"):
        if len(part.encode("utf-8")) > MAX_NAME_BYTES:
            return (f"has a file or folder name longer than {MAX_NAME_BYTES} bytes",
                    "rename the file with a short name, e.g. images/photo.png")
        if _RESERVED.fullmatch(part) or part.endswith((" ", ".")) and part not in (".", ".."):
            return (f"uses the name {part!r}, which Windows reserves or cannot store",
                    "rename the file, e.g. images/photo.png")
    return None


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) in pixels from the file's header (PNG, GIF, JPEG, WebP, SVG), or None.

    Written into ``<img width height>`` so the page does not jump when the image arrives.
    """
    try:
        with path.open("rb") as f:
            head = f.read(65536)
    except OSError:
        return None
    try:
        if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", head[6:10])
        if head[:2] == b"\xff\xd8":
            return _jpeg_size(path)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return _webp_size(head)
        if path.suffix.lower() == ".svg":
            return _svg_size(head.decode("utf-8", "replace"))
    except (struct.error, ValueError):
        return None
    return None


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(path: Path) -> tuple[int, int] | None:
    data = path.read_bytes()
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


def _svg_size(text: str) -> tuple[int, int] | None:
    tag = re.search(r"<svg\b[^>]*>", text)
    if not tag:
        return None
    attrs = dict(re.findall(r'\s([a-zA-Z:-]+)\s*=\s*["\']([^"\']*)["\']', tag.group(0)))
    number = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:px)?\s*$")
    w, h = number.match(attrs.get("width", "")), number.match(attrs.get("height", ""))
    if w and h:
        return round(float(w.group(1))), round(float(h.group(1)))
    box = attrs.get("viewBox", "").replace(",", " ").split()
    if len(box) == 4:
        return round(float(box[2])), round(float(box[3]))
    return None


def make_files(site, renderer) -> list[tuple[str, bytes]]:
    """Each advance image, copied beside its page."""
    images = check_images(site.model, site.config.content_path, Problems())
    return [(urls.Urls.output_file(route), source.read_bytes()) for route, source in sorted(images.items())]

