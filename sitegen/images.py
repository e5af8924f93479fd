"""Images of records: an advance's ``image:`` is checked at load time and copied beside its page.

``image: images/robot.png`` in ``content/advances/2021/foo.md`` names
``content/advances/2021/images/robot.png``; it must exist, be an image type browsers show, and stay inside
``content/`` (no ``..`` or symbolic link out of it). The build copies it to the advance page's folder under
its file name (``advances/2021/<slug>/robot.png``, :attr:`~sitegen.model.Advance.image_route`), where both
language versions of the page and its Open Graph tag refer to it.
"""

from __future__ import annotations

from pathlib import Path
from posixpath import normpath

from . import urls
from .errors import Problems
from .model import Model

IMAGE_TYPES = (".avif", ".gif", ".jpeg", ".jpg", ".png", ".svg", ".webp")


def check_images(model: Model, content_dir: Path, problems: Problems) -> dict[str, Path]:
    """Report every ``image:`` that is missing, not an image or outside ``content/``.

    Returns route of the copy → source file for the images that are fine.
    """
    content_dir = content_dir.resolve()
    found: dict[str, Path] = {}
    for adv in model.advances:
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
        target = (record.path.parent / name).resolve()
        if content_dir not in target.parents:
            problems.add(record.rel, line, "image", f"{name!r} is outside the content folder",
                         "copy the image into content/, e.g. beside the record in an images/ folder")
        elif target.suffix.lower() not in IMAGE_TYPES:
            problems.add(record.rel, line, "image", f"{name!r} is not an image file browsers show",
                         "use one of " + ", ".join(IMAGE_TYPES))
        elif not target.is_file():
            problems.add(record.rel, line, "image", f"{name!r} does not exist "
                         f"(looked for {normpath(Path(record.rel).parent.as_posix() + '/' + name)})",
                         "add the file or correct the path (it is relative to this file's folder)")
        else:
            found[adv.image_route] = target
    return found


def make_files(site, renderer) -> list[tuple[str, bytes]]:
    """Each advance image, copied beside its page."""
    images = check_images(site.model, site.config.content_path, Problems())
    return [(urls.Urls.output_file(route), source.read_bytes()) for route, source in sorted(images.items())]

