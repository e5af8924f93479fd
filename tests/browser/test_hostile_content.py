"""The XSS corpus of tests/test_xss.py in a real browser (issue 9): the hostile site, built with its search
index, is opened in Chromium — the record pages in both languages and search results whose titles and
excerpts hold the payloads — and no payload runs (no dialog, no element it would have created)."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from test_xss import write_hostile_content

PAGES = ["/", "/advances/2021/hostile-advance/", "/en/advances/2021/hostile-advance/", "/lectures/hostile-lecture/",
         "/en/lectures/hostile-lecture/", "/news/hostile-news/", "/about/", "/years/2021/", "/stats/",
         "/categories/", "/organizations/", "/lectures/", "/news/"]


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory, make_site):
    root = make_site(tmp_path_factory.mktemp("hostile-browser"), "minimal", "lectures")
    write_hostile_content(root)
    result = subprocess.run([sys.executable, "-m", "sitegen", "build"], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (root / "output/pagefind/pagefind.js").is_file(), "the search index is part of what is tested"
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root / "output")))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def watched(page):
    """The page, with a record of every dialog (alert/confirm/prompt) any script opened."""
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("http://127.0.0.1")
               else route.continue_())  # nothing leaves the machine (the allowed video host included)
    return page, dialogs


def injected(page) -> list[str]:
    """Elements a payload would have created if it had become markup."""
    return page.evaluate("""() => [...document.querySelectorAll(
        '.prose script, main script:not([src^="/js/"]), [onerror], [onload], [onclick], [onmouseover], [ontoggle], ' +
        'a[href^="javascript" i], iframe:not([src^="https://"]), object, embed, math, main svg:not(.chart)')]
        .map(e => e.outerHTML.slice(0, 120))""")


@pytest.mark.parametrize("path", PAGES)
def test_hostile_pages_run_no_payload(watched, hostile_url, path):
    page, dialogs = watched
    page.goto(hostile_url + path)
    page.wait_for_load_state("load")
    page.mouse.move(200, 300)  # onmouseover payloads, had they survived
    assert dialogs == [] and injected(page) == []


@pytest.mark.parametrize("lang, query", [("", "alert"), ("en/", "alert"), ("", "script"), ("", "onerror")])
def test_search_results_show_payloads_as_text(watched, hostile_url, lang, query):
    """Result titles and excerpts come from Pagefind's index of the hostile pages: inserted as text
    (titles) or as Pagefind's escaped excerpt, they must not become markup."""
    page, dialogs = watched
    page.goto(f"{hostile_url}/{lang}search/?q={quote(query)}")
    expect(page.locator("#search")).to_have_attribute("data-state", "done", timeout=30000)
    titles = page.locator(".search-result-title a").all_inner_texts()
    assert titles, "the hostile records are found"
    excerpts = page.locator(".search-excerpt").evaluate_all("els => els.map(e => e.innerHTML)")
    assert all("<" not in e.replace("<mark>", "").replace("</mark>", "") for e in excerpts), excerpts
    assert dialogs == [] and injected(page) == []
