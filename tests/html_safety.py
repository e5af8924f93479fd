"""Find active content in HTML by parsing it (issue 9): what a browser would run or load on its own.

Used by the sanitiser tests (tests/test_markdown.py) and the whole-site XSS tests (tests/test_xss.py).
The checks read the parsed document, never the raw string, so escaped text such as ``&lt;script&gt;``
is (correctly) not a finding, and a real ``<ScRiPt>`` in any spelling is.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

# Attributes whose value the browser loads or navigates to.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "data", "background", "cite", "xlink:href",
                  "srcset", "ping", "longdesc", "manifest", "codebase", "lowsrc", "dynsrc"}
# Elements that run code, embed other documents or change how the page is read.
ACTIVE_ELEMENTS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form", "input",
                   "button", "textarea", "select", "style", "link", "meta", "svg", "math", "template", "portal",
                   "noscript", "xmp", "plaintext", "set", "animate", "handler", "listener", "import"}
DANGEROUS_SCHEMES = {"javascript", "data", "vbscript", "livescript", "file", "jar"}


def browser_scheme(value: str) -> str:
    """The scheme of a URL as a browser reads it: tabs and line breaks anywhere and control characters
    and spaces around it are ignored; '' for a relative URL."""
    value = re.sub(r"[\t\n\r]", "", value).strip("".join(map(chr, range(33))))
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", value)
    return match[1].lower() if match else ""


class Finder(HTMLParser):
    """Collects findings; ``allowed`` decides about elements the page may legitimately have."""

    def __init__(self, allowed=lambda tag, attrs: False):
        super().__init__(convert_charrefs=True)
        self.allowed = allowed
        self.findings: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = {name: value or "" for name, value in attrs}
        if tag in ACTIVE_ELEMENTS and not self.allowed(tag, values):
            self.findings.append(f"<{tag} {values}>")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.findings.append(f"<{tag}> event handler {name}={value!r}")
            if name in URL_ATTRIBUTES or name.endswith(":href"):
                urls = [part.strip().split(" ")[0] for part in value.split(",")] if name == "srcset" else [value]
                for url in urls:
                    if browser_scheme(url) in DANGEROUS_SCHEMES:
                        self.findings.append(f"<{tag}> {name}={value[:60]!r}")
            if name == "style" and re.search(r"expression\s*\(|url\s*\(|@import|behavior\s*:", value, re.I):
                self.findings.append(f"<{tag}> style={value!r}")
            if name == "srcdoc":
                self.findings.append(f"<{tag}> srcdoc")

    handle_startendtag = handle_starttag


def active_content(html: str, allowed=lambda tag, attrs: False) -> list[str]:
    finder = Finder(allowed)
    finder.feed(html)
    finder.close()
    return finder.findings


def video_iframe(hosts):
    """An ``allowed`` function that accepts sandboxed https iframes from ``hosts`` only."""
    def allowed(tag, attrs):
        if tag != "iframe":
            return False
        parts = urlsplit(attrs.get("src", ""))
        return (parts.scheme == "https" and parts.hostname in set(hosts) and "allow-top-navigation" not in
                attrs.get("sandbox", "allow-top-navigation") and "srcdoc" not in attrs)
    return allowed
