"""Regenerate the README screenshots: build the bundled site, serve it, shoot pages at 1280 and 375 px.

Usage: python .ci/screenshots.py [PAGE …]   (writes docs/screenshots/<page>-<width>.png; all pages by default)
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
PAGES = {
    "home": "/",
    "dual-view": "/years/2021/",
    "advance": "/advances/2021/adaptive-intelligent-machining-system-for-five-axis-cnc-machine-tools/",
    "stats": "/stats/",
}
# On a phone, start these pages at an anchor so the shot shows what matters (the first chart).
PHONE_ANCHORS = {"stats": "#stats-categories"}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main(names: list[str]) -> int:
    """Shoot every page of PAGES, or only those named on the command line (e.g. ``stats``)."""
    unknown = set(names) - set(PAGES)
    if unknown:
        print(f"unknown page(s): {', '.join(sorted(unknown))}; choose from {', '.join(PAGES)}", file=sys.stderr)
        return 2
    out_dir = REPO / "docs" / "screenshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "output"
        subprocess.run([sys.executable, "-m", "sitegen", "build", "--output", str(site)], cwd=REPO, check=True)
        handler = functools.partial(QuietHandler, directory=str(site))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for width, height in ((1280, 900), (375, 812)):
                page = browser.new_page(viewport={"width": width, "height": height})
                for name, path in PAGES.items():
                    if names and name not in names:
                        continue
                    page.goto(base + path + (PHONE_ANCHORS.get(name, "") if width < 600 else ""))
                    page.screenshot(path=out_dir / f"{name}-{width}.png")
                page.close()
            browser.close()
        httpd.shutdown()
    print(f"screenshots written to {out_dir.relative_to(REPO)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
