"""Markdown bodies to safe HTML with heading anchors, tables, footnotes and a table of contents.

Raw HTML written in a body is passed through an allow-list sanitiser (nh3): nominations are written by
outside organisations. The six sections of the nomination form get fixed, language-neutral anchors
(``#background`` … ``#ip``) so links to them are stable in both languages.

The rules (documented for editors in README "Safety" and docs/editing.md):

* only the tags of :data:`ALLOWED_TAGS` with the attributes of :data:`ALLOWED_ATTRIBUTES` survive; no
  ``<script>``, ``<style>``, forms, ``<svg>``/``<math>``, event handlers (``on…=``) or ``style`` beyond
  ``text-align`` on table cells;
* links and images only with ``http:``, ``https:``, ``mailto:`` or relative URLs (no ``javascript:``,
  ``data:``, ``file:`` …, however they are spelt with case, entities or control characters);
* ``<iframe>`` only with an ``https://`` ``src`` on one of the configured video hosts (``video_hosts`` in
  config.yaml), sandboxed and lazy; any other iframe is removed whole;
* off-site links (``http(s)://`` or ``//``) get ``rel="noopener"``; links within the site do not;
* links and images in a body are URLs for the browser: the build never reads or copies the files they
  name, so no path written there can reach the disk;
* a body whose markup the sanitiser changed gets a warning naming ``path:line`` and what was removed;
* bodies that Python-Markdown could only convert in quadratic time or with deep recursion (thousands of
  ``[`` in one paragraph, lists nested 30 deep …) are refused with an error instead of hanging the build.
"""

from __future__ import annotations

import bisect
import html as html_lib
import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

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
    "iframe": {"src", "width", "height", "allow", "allowfullscreen", "referrerpolicy"},
}
URL_SCHEMES = {"http", "https", "mailto"}
# Set on every iframe that survives (whatever the editor wrote): the embedded player may run its own
# scripts in its own origin, but cannot navigate this page or open forms on it.
IFRAME_SET = {"sandbox": "allow-scripts allow-same-origin allow-presentation allow-popups", "loading": "lazy"}
# Permissions an embedded player may ask for (``allow="…"``); camera, microphone, geolocation … are dropped.
IFRAME_PERMISSIONS = {"accelerometer", "autoplay", "clipboard-write", "encrypted-media", "fullscreen", "gyroscope",
                      "picture-in-picture", "web-share"}
# Attributes the sanitiser sets itself: not a change the editor needs to hear about.
# Obsolete presentational attributes of the embed codes YouTube and Bilibili hand out (the theme draws no
# border and no scroll bars): dropped without a warning.
_MANAGED = {("a", "rel"), ("iframe", "sandbox"), ("iframe", "loading"),
            *(("iframe", name) for name in ("frameborder", "border", "framespacing", "scrolling", "marginwidth",
                                            "marginheight"))}

# Limits against inputs Python-Markdown converts in quadratic time or with deep recursion (measured:
# 8,000 '[' in one paragraph take 8 s, 2,000 abbreviations 4 s, 300 levels of nested lists overflow
# the stack). Ordinary text is far below them: the bundled content's largest link cost is 6,000.
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_INDENT = 128  # columns of leading white space (32 levels of lists)
MAX_HEADINGS = 5000
MAX_ABBREVIATIONS = 200
# The link parser scans from every '[', '(' and '<' to its closing ']', ')' or '>' (to the end of the
# paragraph when there is none): the sum of those distances is its cost, about 0.25 µs each.
LINK_COST_BASE = 5_000_000
LINK_COST_PER_CHAR = 4


def _slugify(text: str, sep: str) -> str:
    plain = _NUMBERING.sub("", text).strip().lower()
    return _SECTION_IDS.get(plain) or slugify_unicode(text, sep) or "section"


@dataclass
class Rendered:
    html: str
    toc: list[dict]  # [{"id", "name", "level", "children"}]
    removed: tuple[str, ...] = ()  # what the sanitiser removed or changed, e.g. "<script>", "onerror= on <img>"
    error: tuple[int, str, str] | None = None  # (line within the body, problem, fix): the body was not converted

    @property
    def altered(self) -> bool:
        return bool(self.removed)


class MarkdownRenderer:
    """One reusable Python-Markdown instance (not thread-safe: one per process).

    ``video_hosts``: the host names whose ``https://`` pages may be embedded with ``<iframe>``.
    """

    def __init__(self, video_hosts=()):
        self.video_hosts = frozenset(h.lower() for h in video_hosts)
        self._md = md_lib.Markdown(
            extensions=["tables", "footnotes", "toc", "fenced_code", "sane_lists", "def_list", "abbr"],
            extension_configs={
                "toc": {"slugify": _slugify, "toc_depth": "2-3", "permalink": False},
                "footnotes": {"BACKLINK_TITLE": "", "SUPERSCRIPT_TEXT": "{}"},
            },
            output_format="html",
        )
        self.quick_inline = _skip_plain_text(self._md)

    def render(self, text: str) -> Rendered:
        refused = complexity_problem(text)
        if refused:
            return Rendered("", [], error=refused)
        self._md.reset()
        # Level-1 headings belong to the page title; demote them so the outline stays valid.
        text = re.sub(r"^# ", "## ", text, flags=re.MULTILINE)
        try:
            html = self._md.convert(text)
        except RecursionError:
            self._md.reset()
            return Rendered("", [], error=(1, "is nested too deeply for the Markdown converter",
                                           "use fewer levels of nested lists and quotes"))
        toc = [_toc_entry(t) for t in getattr(self._md, "toc_tokens", [])]
        clean = sanitise(html, self.video_hosts)
        # Most bodies leave the sanitiser unchanged: then nothing was removed, and neither need be parsed (the
        # comparison was 30 % of a conversion).
        return Rendered(clean, toc, () if clean == html else removed_markup(html, clean, self.video_hosts))


# --- plain text skips the inline patterns ---------------------------------------------------------------
# Python-Markdown tries each of its inline patterns on every text node, one regex search each: 40 % of a
# conversion of a Chinese body, whose text nodes mostly hold no markup at all. Every inline pattern it
# registers needs one of a few characters to match (a backtick, a backslash, "[", "<", "&", "*", "_", or two
# spaces before a line break), so a text node without any of them comes back unchanged: it is returned at once.
# This holds for the patterns known here; with any other pattern (another Python-Markdown version or
# extension) every text node goes through all patterns, as without this shortcut.

_INLINE_TRIGGER = re.compile(r"[\\`\[<&*_]|  \n")
_KNOWN_INLINE = frozenset({
    ("BacktickInlineProcessor", r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)"),
    ("EscapeInlineProcessor", r"\\(.)"),
    ("FootnoteInlineProcessor", r"\[\^([^\]]*)\]"),
    ("ReferenceInlineProcessor", r"(?<!\!)\["),
    ("LinkInlineProcessor", r"(?<!\!)\["),
    ("ImageInlineProcessor", r"\!\["),
    ("ImageReferenceInlineProcessor", r"\!\["),
    ("ShortReferenceInlineProcessor", r"(?<!\!)\["),
    ("ShortImageReferenceInlineProcessor", r"\!\["),
    ("AutolinkInlineProcessor", r"<([A-Za-z][A-Za-z0-9+.-]*://[^<>]*)>"),
    ("AutomailInlineProcessor", r"<([^<> !]+@[^@<> ]+)>"),
    ("SubstituteTagInlineProcessor", r"  \n"),
    ("HtmlInlineProcessor", md_lib.inlinepatterns.HTML_RE),
    ("HtmlInlineProcessor", md_lib.inlinepatterns.ENTITY_RE),
    ("DelimiterProcessor", r"\*|_"),
})


def _skip_plain_text(md: md_lib.Markdown) -> bool:
    """Make ``md``'s inline stage return text without markup characters at once (see above); False (and
    nothing changed) when ``md`` has an inline pattern not known here."""
    patterns = {(type(p).__name__, p.compiled_re.pattern) for p in md.inlinePatterns}
    inline = md.treeprocessors["inline"] if "inline" in md.treeprocessors else None
    handle = getattr(inline, "_InlineProcessor__handleInline", None)
    if not patterns <= _KNOWN_INLINE or handle is None:
        return False

    def quick(data: str, patternIndex: int = 0) -> str:  # noqa: N803 - Python-Markdown's name
        if patternIndex == 0 and not _INLINE_TRIGGER.search(data):
            return data
        return handle(data, patternIndex)

    inline._InlineProcessor__handleInline = quick  # the instance's, looked up before the class's
    return True


# --- what the sanitiser changed -----------------------------------------------------------------------

class _Elements(HTMLParser):
    """Every start tag of a fragment as (tag, sorted attributes), values decoded, comments ignored."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.items: list[tuple] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        kept = ((name, _normal(name, value or "")) for name, value in attrs if (tag, name) not in _MANAGED)
        self.items.append((tag, tuple(sorted(kept))))

    handle_startendtag = handle_starttag


def _normal(name: str, value: str) -> str:
    if name == "allowfullscreen":  # a boolean attribute: allowfullscreen="true" means the same as allowfullscreen
        return ""
    return re.sub(r"\s+", "", value).rstrip(";").lower() if name == "style" else value


def removed_markup(before: str, after: str, video_hosts=frozenset()) -> tuple[str, ...]:
    """What the sanitiser removed: the elements of ``before`` missing from ``after``, each explained."""
    lost = Counter(_Elements(before).items) - Counter(_Elements(after).items)
    return tuple(sorted({_explain(tag, attrs, video_hosts) for tag, attrs in lost}))


def _explain(tag: str, attrs: tuple, video_hosts) -> str:
    if tag not in ALLOWED_TAGS and tag != "iframe":
        return f"<{tag}>"
    allowed = ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, set())
    values = dict(attrs)
    for name in values:
        if name not in allowed:
            return f"{name}= on <{tag}>"
    if tag == "iframe":
        src = values.get("src")
        if src is None:
            return "<iframe> without src"
        if not _video_src(src, video_hosts):
            try:
                host = urlsplit(src.strip()).hostname
            except ValueError:
                host = None
            return f"<iframe> from {host or _short(src)} (not in video_hosts)"
        if any(part.strip().split(" ")[0] not in IFRAME_PERMISSIONS for part in values.get("allow", "").split(";")
               if part.strip()):
            return f"allow= permissions other than {', '.join(sorted(IFRAME_PERMISSIONS))} on <iframe>"
    for name in ("href", "src"):
        if name in values and not _safe_url(values[name]):
            return f"{name}={_short(values[name])} on <{tag}>"
    if re.sub(r"text-align:[a-z-]+;?", "", values.get("style", "")):
        return f"style other than text-align on <{tag}>"
    return f"<{tag}>"


def _short(value: str) -> str:
    value = value.strip()
    return repr(value if len(value) <= 40 else value[:37] + "…")


def _safe_url(value: str) -> bool:
    """Whether a URL has an allowed scheme or none, read the way browsers read it (tabs and line
    breaks anywhere, control characters and spaces around it, are ignored)."""
    value = re.sub(r"[\t\n\r]", "", value).strip("".join(map(chr, range(33))))
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", value)
    return not scheme or scheme[1].lower() in URL_SCHEMES


# --- inputs too costly to convert ---------------------------------------------------------------------

_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_OPENERS = {"[": "]", "(": ")", "<": ">"}


def _scan_cost(paragraph: str) -> int:
    """Σ over the openers of a paragraph of the distance to the next closer (or to the end)."""
    total = 0
    for opener, closer in _OPENERS.items():
        if opener not in paragraph:
            continue
        closers = [m.start() for m in re.finditer(re.escape(closer), paragraph)]
        for match in re.finditer(re.escape(opener), paragraph):
            index = bisect.bisect_left(closers, match.start())
            total += (closers[index] if index < len(closers) else len(paragraph)) - match.start()
    return total


def complexity_problem(text: str) -> tuple[int, str, str] | None:
    """(line, problem, fix) when converting ``text`` would take quadratic time or recurse too deeply."""
    size = len(text.encode("utf-8"))
    if size > MAX_BODY_BYTES:
        return (1, f"the text is {size / 1048576:.1f} MB (at most {MAX_BODY_BYTES // 1048576} MB)",
                "split it into several records or move data into a linked file")
    headings = abbreviations = 0
    cost, worst = 0, (0, 1)  # link cost so far; (cost, first line) of the costliest paragraph
    start, paragraph = 1, []
    fence = None
    lines = text.split("\n")
    for number, line in enumerate(lines + [""], start=1):
        opening = _FENCE_LINE.match(line)
        if fence:
            if opening and opening[1][0] == fence[0] and len(opening[1]) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening[1]
            continue
        indent = len(re.match(r"[ \t>]*", line)[0].expandtabs(4))
        if indent > MAX_INDENT and line.strip():
            return (number, f"is indented {indent} columns (lists and quotes nested more than "
                            f"{MAX_INDENT // 4} levels deep)",
                    "remove the indentation, or put code between ``` lines")
        if line.startswith("#") or re.fullmatch(r" {0,3}(=+|-+)\s*", line):
            headings += 1
        if line.startswith("*["):
            abbreviations += 1
        if line.strip():
            paragraph.append(line)
            continue
        if paragraph:
            here = _scan_cost("\n".join(paragraph))
            cost += here
            worst = max(worst, (here, -start))
        start, paragraph = number + 1, []
    if headings > MAX_HEADINGS:
        return (1, f"has {headings} headings (at most {MAX_HEADINGS})", "split it into several records")
    if abbreviations > MAX_ABBREVIATIONS:
        return (1, f"defines {abbreviations} abbreviations (*[…]: lines; at most {MAX_ABBREVIATIONS})",
                "keep only the abbreviations readers need")
    if cost > LINK_COST_BASE + LINK_COST_PER_CHAR * len(text):
        return (-worst[1], "has too many '[', '(' or '<' in long paragraphs for the Markdown converter "
                          "(its link parser would take minutes)",
                "split long paragraphs with blank lines, or write literal brackets as \\[ \\( \\<")
    return None


def _toc_entry(token: dict) -> dict:
    return {"id": token["id"], "name": re.sub(r"<[^>]+>", "", token["name"]), "level": token["level"],
            "children": [_toc_entry(c) for c in token.get("children", [])]}


def sanitise(html: str, video_hosts=frozenset()) -> str:
    """Allow-list sanitising (nh3), then: iframes only from ``video_hosts``, ``rel`` on off-site links."""
    hosts = frozenset(h.lower() for h in video_hosts)

    def attribute_filter(tag: str, name: str, value: str) -> str | None:
        if tag == "iframe" and name == "src":
            return value if _video_src(value, hosts) else None
        if tag == "iframe" and name == "allow":
            kept = [p for p in (part.strip() for part in value.split(";")) if p.split(" ")[0] in IFRAME_PERMISSIONS]
            return "; ".join(kept) or None
        if tag == "iframe" and name == "allowfullscreen":
            return ""  # a boolean attribute ("true" is invalid HTML)
        return value

    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS | ({"iframe"} if hosts else set()),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        attribute_filter=attribute_filter,
        set_tag_attribute_values={"iframe": IFRAME_SET},
        filter_style_properties={"text-align"},
        strip_comments=True,
    )
    if "<iframe" in clean:
        # nh3 can only drop an attribute: drop the iframes whose src was refused, and any fallback content
        # of the others (nh3 escapes '<' and '>' inside attribute values, so these patterns are exact).
        clean = _IFRAME.sub(lambda m: m[1] + "</iframe>" if _SRC.search(m[1]) else "", clean)
    return _A_TAG.sub(_mark_offsite, clean)


_IFRAME = re.compile(r"(<iframe\b[^>]*>).*?</iframe>", re.DOTALL)
_SRC = re.compile(r'\ssrc="')
_A_TAG = re.compile(r"<a\b([^>]*)>")
_HREF = re.compile(r'\shref="([^"]*)"')
_OFFSITE = re.compile(r"\s*(?:https?:)?//", re.IGNORECASE)


def _mark_offsite(match: re.Match) -> str:
    href = _HREF.search(match[1])
    if href and _OFFSITE.match(html_lib.unescape(href[1])):
        return f'<a{match[1]} rel="noopener">'
    return match[0]


def _video_src(value: str, hosts) -> bool:
    """An ``https://`` URL on an allowed host, without user name or port."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return False
    return (parts.scheme.lower() == "https" and (parts.hostname or "") in hosts and parts.username is None
            and port is None)


def report(problems, rel: str, body_line: int, result: Rendered) -> None:
    """Add the problem of a converted body: an error when it was refused, a warning when HTML was removed."""
    if result.error:
        line, message, fix = result.error
        problems.add(rel, body_line + line - 1, "body", message, fix)
    elif result.removed:
        shown = ", ".join(result.removed[:4]) + (f" and {len(result.removed) - 4} more" if len(result.removed) > 4 else "")
        problems.add(rel, body_line, "body", f"the HTML sanitiser removed {shown}",
                     "write it in Markdown (unsafe HTML is never published; see Safety in the README)",
                     warning=True)
