"""Web-quality gates on the bundled site (issue 7): accessibility (axe-core, WCAG 2.1 AA), phones (375 px),
print — on one page of every page type in both languages; and each gate shown to bite on a broken page."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_gates import (DESKTOP, PHONE, axe_violations, horizontal_overflow, page_types, serve,
                      visible_chrome_in_print)

BROKEN = Path(__file__).resolve().parents[1] / "sites" / "broken-page"


@pytest.fixture(scope="module")
def types(built_site) -> dict[str, str]:
    found = page_types(built_site)
    templates = {label.split(":")[1] for label in found}
    assert {"home.html", "years.html", "year.html", "list.html", "advance.html", "terms.html", "term.html",
            "page.html", "404.html"} <= templates
    assert {label.split(":")[0] for label in found} == {"zh", "en"}
    return found


@pytest.fixture(scope="module")
def broken_url():
    httpd = serve(BROKEN)
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def test_axe_finds_no_wcag21_aa_violations_on_any_page_type(page, site_url, types):
    page.set_viewport_size(DESKTOP)
    failures = []
    for label, path in types.items():
        page.goto(f"{site_url}/{path}")
        failures += [f"/{path} [{label}]: {v}" for v in axe_violations(page)]
    assert failures == [], "\n".join(failures)


def test_no_page_type_scrolls_sideways_at_375px(page, site_url, types):
    page.set_viewport_size(PHONE)
    wide = []
    for label, path in types.items():
        page.goto(f"{site_url}/{path}")
        if (over := horizontal_overflow(page)) > 0:
            wide.append(f"/{path} [{label}] is {over}px wider than the 375px screen")
    assert wide == [], "\n".join(wide)


def test_every_page_type_prints_without_navigation(page, site_url, types):
    shown = []
    for label, path in types.items():
        page.goto(f"{site_url}/{path}")
        if chrome := visible_chrome_in_print(page):
            shown.append(f"/{path} [{label}] prints {chrome}")
    assert shown == [], "\n".join(shown)


def test_advance_prints_its_content_without_chrome(page, site_url, types):
    path = types["zh:advance.html:advances"]
    page.goto(f"{site_url}/{path}")
    page.emulate_media(media="print")
    assert page.locator("h1").is_visible() and page.locator(".prose").is_visible()
    assert page.locator(".meta-panel").is_visible()
    for selector in (".site-header", ".site-footer", ".breadcrumb", ".prev-next", ".lang-switch"):
        assert not page.locator(selector).first.is_visible(), selector


# --- the gates bite: each one fails on a deliberately broken page ---------------------------------------

def test_axe_gate_catches_missing_alt_duplicate_id_and_unlabelled_input(page, broken_url):
    page.goto(broken_url)
    rules = {line.split(" ")[0] for line in axe_violations(page)}
    assert {"image-alt", "label", "duplicate-id-aria"} <= rules, rules


def test_phone_gate_catches_a_page_wider_than_the_screen(page, broken_url):
    page.set_viewport_size(PHONE)
    page.goto(broken_url)
    assert horizontal_overflow(page) > 0


def test_print_gate_catches_navigation_that_prints(page, broken_url):
    page.goto(broken_url)
    assert any(item.startswith("nav") for item in visible_chrome_in_print(page))
