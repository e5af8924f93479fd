"""`sitegen serve` in a subprocess: live reload after an edit, errors shown in the browser, a safe server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]
ADVANCE = "content/advances/2021/world-adaptive-five-axis-cnc.md"
PAGE = "/advances/2021/adaptive-intelligent-machining-system-for-five-axis-cnc-machine-tools/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    project = tmp_path_factory.mktemp("serve") / "site"
    for name in ("content", "themes"):
        shutil.copytree(REPO / name, project / name)
    shutil.copy(REPO / "config.yaml", project / "config.yaml")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sitegen", "serve", "--port", str(port)], cwd=project,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/", timeout=1)
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("sitegen serve did not start:\n" + (proc.stdout.read() if proc.stdout else ""))
    yield project, url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)


def status(url: str) -> int:
    try:
        return urllib.request.urlopen(url, timeout=5).status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_edit_reloads_page_and_errors_show_in_browser(server, page):
    project, url = server
    source = project / ADVANCE
    original = source.read_text(encoding="utf-8")
    page.goto(url + PAGE)
    expect(page.locator("h1")).to_contain_text("五轴数控机床")
    page.evaluate("window.__marker = 'still-here'")  # survives only without a reload

    source.write_text(original.replace("## 应用情况", "## 应用情况\n\n实时预览的新句子。", 1), encoding="utf-8")
    expect(page.locator(".prose")).to_contain_text("实时预览的新句子", timeout=20000)
    assert page.evaluate("window.__marker") is None  # the browser was reloaded by the server, not by us

    source.write_text(original.replace("list: world", "list: [world", 1), encoding="utf-8")
    overlay = page.locator(".sitegen-errors")
    expect(overlay).to_contain_text(ADVANCE + ":", timeout=20000)

    source.write_text(original, encoding="utf-8")
    expect(page.locator("h1")).to_contain_text("五轴数控机床", timeout=20000)
    expect(page.locator(".sitegen-errors")).to_have_count(0)


def test_server_serves_only_the_output_folder(server):
    project, url = server
    (project / "output" / "escape").unlink(missing_ok=True)
    os.symlink("/etc/passwd", project / "output" / "escape")
    for path in ("/../config.yaml", "/%2e%2e/config.yaml", "/%2e%2e/%2e%2e/etc/passwd", "/escape",
                 "/no/such/page/"):
        assert status(url + path) == 404, path
    body = urllib.request.urlopen(url + "/", timeout=5).read().decode("utf-8")
    assert "livereload.js" in body


def test_live_reload_socket_refuses_other_origins(server):
    _, url = server
    host = url.removeprefix("http://")
    with socket.create_connection(("127.0.0.1", int(host.split(":")[1])), timeout=5) as sock:
        request = (f"GET /livereload HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   "Origin: http://evil.example\r\n\r\n")
        sock.sendall(request.encode())
        reply = sock.recv(200).decode("latin-1")
    assert reply.startswith("HTTP/1.1 403"), reply
