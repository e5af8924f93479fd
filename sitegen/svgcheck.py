"""SVG images without active content (issue 9).

An advance's ``image:`` is copied beside its page and served from the site's own origin. Shown with
``<img>`` an SVG cannot run scripts, but opened directly (its URL is in ``og:image`` and one click away)
it is a document of the site: a ``<script>``, an ``onload=`` or a ``javascript:`` link in it would run
with the site's origin. Such files are refused, not cleaned: a drawing program's export has none of these,
so their presence means the file is not what the editor thinks it is.

The file is parsed as XML (the standard library's expat, which limits entity expansion); a DOCTYPE is
refused before parsing, so no entity is ever declared.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

MAX_BYTES = 5 * 1024 * 1024
# Elements that run code, load other documents or embed HTML.
ACTIVE = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"}
# Animations that can set an attribute (href …) to a javascript: URL after loading.
ANIMATIONS = {"set", "animate", "animatemotion", "animatetransform", "animatecolor"}


def svg_problem(path: Path) -> str | None:
    """Why the SVG file at ``path`` may not be published, or None when it is a plain drawing."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if len(data) > MAX_BYTES:
        return f"is {len(data) / 1048576:.1f} MB (an SVG image may have at most {MAX_BYTES // 1048576} MB)"
    if re.search(rb"<!DOCTYPE|<!ENTITY", data, re.IGNORECASE):
        return "declares a DOCTYPE or entities (a way to hide content in SVG)"
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        return f"is not a well-formed SVG file ({exc})"
    if _local(root.tag) != "svg":
        return f"is not an SVG image (its root element is <{_local(root.tag)}>)"
    for element in root.iter():
        name = _local(element.tag)
        if name in ACTIVE:
            return f"contains a <{name}> element"
        for attribute, value in element.attrib.items():
            attr = _local(attribute)
            if attr.startswith("on"):
                return f"contains an event handler ({attr}= on <{name}>)"
            if attr == "href" and not value.strip().startswith("#") and \
                    not re.match(r"data:image/(png|jpeg|gif|webp);base64,", value.strip(), re.IGNORECASE):
                return f"links to {value.strip()[:60]!r} (only #fragment links inside the file are allowed)"
            if name in ANIMATIONS and attr in ("to", "from", "values", "by") and re.search(r"script:", value, re.I):
                return f"animates an attribute to a script URL (<{name} {attr}=…>)"
        if name == "style" and re.search(r"@import|url\(\s*['\"]?\s*(?!#|data:image/)", element.text or "", re.I):
            return "loads another file from its <style> (@import or url())"
    return None


def _local(tag: str) -> str:
    """``{http://www.w3.org/2000/svg}foreignObject`` → ``foreignobject``."""
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""
