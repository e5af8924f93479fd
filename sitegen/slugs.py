"""The slug policy, in one place.

An explicit ``slug:`` wins; otherwise the English title; otherwise the file name. python-slugify's
pinyin of Chinese is often wrong (重庆 → zhong-qing), so Chinese text is never the first choice. An
empty slug is an error; colliding slugs are reported by the model stage.
"""

from __future__ import annotations

import functools
import re

from slugify import slugify as _slugify

MAX_LEN = 80


@functools.lru_cache(maxsize=1 << 16)  # a pure function of the text; a preview slugs the same titles again
def slugify(text: str) -> str:
    """ASCII, lower-case, hyphen-separated; '' when nothing usable is left."""
    return _slugify(text or "", max_length=MAX_LEN, word_boundary=True, lowercase=True)


def is_ascii_slug(text: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", text or ""))


def record_slug(explicit: str | None, title_en: str | None, stem: str, title: str = "") -> str:
    """The slug of a record, following the policy above."""
    for candidate in (explicit, title_en, stem, title):
        slug = slugify(candidate or "")
        if slug:
            return slug
    return ""


def unique_slugs(names: list[str]) -> dict[str, str]:
    """Map each name to a slug unique among them; collisions get -2, -3 … in sorted name order."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(set(names)):
        base = slugify(name) or "item"
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        out[name] = slug
    return out
