"""Markdown bodies to safe HTML with heading anchors, tables, footnotes and a table of contents.

Raw HTML written in a body is passed through an allow-list sanitiser (nh3): nominations are written by
outside organisations. The six sections of the nomination form get fixed, language-neutral anchors
(``#background`` … ``#ip``) so links to them are stable in both languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import markdown as md_lib
import nh3
from markdown.extensions.toc import slugify_unicode

# The six sections of the nomination form: anchor id → (zh heading, en heading).
SECTIONS = {
    "background": ("背景与意义", "Background and significance"),
    "innovation": ("创新性与引领性", "Innovation and leadership"),
    "application": ("应用情况", "Application"),
    "benefits": ("经济与社会效益", "Economic and social benefits"),
    "prospects": ("发展前景", "Prospects"),
    "ip": ("知识产权", "Intellectual property"),
}
_SECTION_IDS = {heading.lower(): key for key, pair in SECTIONS.items() for heading in pair}
_NUMBERING = re.compile(r"^\s*(?:\d+[.、)]|[一二三四五六]、)\s*")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details", "div", "dl",
    "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "loading"},
    "td": {"style", "colspan", "rowspan"},
    "th": {"style", "colspan", "rowspan", "scope"},
    "ol": {"start"},
}


def _slugify(text: str, sep: str) -> str:
    plain = _NUMBERING.sub("", text).strip().lower()
    return _SECTION_IDS.get(plain) or slugify_unicode(text, sep) or "section"


@dataclass
class Rendered:
    html: str
    toc: list[dict]  # [{"id", "name", "level", "children"}]
    altered: bool  # the sanitiser removed or changed raw HTML


class MarkdownRenderer:
    """One reusable Python-Markdown instance (not thread-safe: one per process)."""

    def __init__(self):
        self._md = md_lib.Markdown(
            extensions=["tables", "footnotes", "toc", "fenced_code", "sane_lists", "def_list", "abbr"],
            extension_configs={
                "toc": {"slugify": _slugify, "toc_depth": "2-3", "permalink": False},
                "footnotes": {"BACKLINK_TITLE": "", "SUPERSCRIPT_TEXT": "{}"},
            },
            output_format="html",
        )

    def render(self, text: str) -> Rendered:
        self._md.reset()
        # Level-1 headings belong to the page title; demote them so the outline stays valid.
        text = re.sub(r"^# ", "## ", text, flags=re.MULTILINE)
        html = self._md.convert(text)
        toc = [_toc_entry(t) for t in getattr(self._md, "toc_tokens", [])]
        clean = sanitise(html)
        has_raw = bool(re.search(r"<[A-Za-z!/]", _strip_code(text)))
        return Rendered(clean, toc, has_raw and sanitise(clean) != clean or (has_raw and _lost_markup(html, clean)))


def _strip_code(text: str) -> str:
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r"`[^`\n]*`", "", text)


def _lost_markup(before: str, after: str) -> bool:
    tags = re.compile(r"<\s*([a-zA-Z][a-zA-Z0-9]*)")
    attrs = re.compile(r"\s([a-zA-Z-]+)\s*=")
    return sorted(tags.findall(before)) != sorted(tags.findall(after)) or \
        sorted(attrs.findall(before)) != sorted(attrs.findall(after))


def _toc_entry(token: dict) -> dict:
    return {"id": token["id"], "name": re.sub(r"<[^>]+>", "", token["name"]), "level": token["level"],
            "children": [_toc_entry(c) for c in token.get("children", [])]}


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener",
        filter_style_properties={"text-align"},
        strip_comments=True,
    )
