"""The web-quality gates (issue 7), as plain functions the gate tests and the "gates bite" tests share.

- :func:`axe_violations`: axe-core at the WCAG 2.1 A/AA tags;
- :func:`horizontal_overflow`: how far a page scrolls sideways at the current viewport;
- :func:`visible_chrome_in_print`: navigation chrome still visible when the page is printed;
- :func:`page_types`: one page of every page type in both languages, taken from the render plan;
- :func:`serve`: a local web server for a folder, optionally under a sub-path as a web host would.
"""

from __future__ import annotations

import functools
import http.server
import io
import threading
from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe

REPO = Path(__file__).resolve().parents[2]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
REVIEW_FAILS = {"duplicate-id-aria"}  # "needs review" results that are failures
PHONE = {"width": 375, "height": 800}
DESKTOP = {"width": 1280, "height": 900}
# Navigation chrome that must not print: the site header, every <nav>, the footer, the skip link.
ONE_TYPE = {"page.html"}  # templates whose pages differ only by their text
CHROME = "header.site-header, body > header, nav, footer.site-footer, .skip"

_axe = Axe()


def axe_violations(page) -> list[str]:
    """One line per violated rule: ``rule-id (impact): N nodes, e.g. <first target>``.

    axe files a duplicate id that ARIA refers to (``duplicate-id-aria``) under "needs review" rather than
    "violations"; it is always an error (WCAG 2.1 4.1.1 and 4.1.2), so it counts here as a violation.
    """
    results = _axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                      "resultTypes": ["violations", "incomplete"]})
    found = results.response["violations"] + [r for r in results.response["incomplete"] if r["id"] in REVIEW_FAILS]
    out = []
    for v in found:
        target = v["nodes"][0]["target"] if v["nodes"] else ""
        out.append(f"{v['id']} ({v['impact']}): {len(v['nodes'])} node(s), e.g. {target}")
    return out


def horizontal_overflow(page) -> int:
    """Pixels the document is wider than the viewport (0 when nothing scrolls sideways)."""
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
                         " - document.documentElement.clientWidth")


def visible_chrome_in_print(page) -> list[str]:
    """The navigation elements still visible with print media emulated."""
    page.emulate_media(media="print")
    try:
        return page.locator(CHROME).evaluate_all(
            """els => els.filter(e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')
                       .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className.split(' ').join('.') : '')
                                 + (e.getAttribute('aria-label') ? '[' + e.getAttribute('aria-label') + ']' : ''))""")
    finally:
        page.emulate_media(media="screen")


def page_types(output: Path) -> dict[str, str]:
    """label → site-relative path of one page of every page type, in both languages.

    A page type is a template and the first segment of its route (``term.html`` under ``categories/`` and
    under ``industries/`` are two types; the static pages of ``page.html`` are one); of each, the page with
    the largest HTML file is taken, as it shows the most of the template (tables, long lists, fallbacks).
    """
    from sitegen import render, site, urls

    loaded = site.load(REPO / "config.yaml")
    chosen: dict[str, tuple[int, str]] = {}
    for job in render.plan(loaded.model, frozenset()):
        segment = "" if job.template in ONE_TYPE else job.route.split("/", 1)[0]
        label = f"{job.lang}:{job.template}" + (f":{segment}" if segment else "")
        rel = urls.Urls.localise(job.route, job.lang)
        size = (output / job.output).stat().st_size
        if label not in chosen or size > chosen[label][0]:
            chosen[label] = (size, rel)
    return {label: rel for label, (size, rel) in sorted(chosen.items())}


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves ``directory`` under ``prefix`` (``/imac/dual-top10/``) like a host's sub-path; anything outside
    the prefix is 404, and a missing file gets the site's own 404.html with status 404 (nginx's
    ``error_page 404``). ``no-store`` keeps every response a plain 200 (no 304 revalidations)."""

    prefix = "/"

    def log_message(self, *args):
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def send_head(self):
        path = urlsplit(self.path).path
        if not path.startswith(self.prefix):
            self.send_error(404)
            return None
        local = Path(self.translate_path(self.path))
        if not local.exists() or (local.is_dir() and not (local / "index.html").is_file()):
            missing = Path(self.directory) / "404.html"
            if missing.is_file():
                data = missing.read_bytes()
                self.send_response(404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                return io.BytesIO(data)
        return super().send_head()

    def translate_path(self, path):
        parts = urlsplit(path)
        inner = parts.path[len(self.prefix) - 1:] if parts.path.startswith(self.prefix) else "/__outside__"
        return super().translate_path(inner)


def serve(folder: Path, prefix: str = "/") -> http.server.ThreadingHTTPServer:
    """Start a server on a free loopback port (``httpd.server_address[1]``); stop it with ``shutdown()``."""
    handler = functools.partial(type("Handler", (_Handler,), {"prefix": prefix}), directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd
