"""`sitegen serve` in a subprocess: live reload after an edit, errors shown in the browser, a safe server."""

from __future__ import annotations

import os
import re
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


# --- more of issue 9: traversal spelt every way, loopback only, no commands from elsewhere -------------------

def raw_get(url: str, target: str) -> tuple[int, bytes]:
    """GET a request target exactly as written (no client-side normalisation of '..' or escapes)."""
    import http.client

    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("GET", target, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("target", [
    "/../config.yaml", "/../../../../etc/passwd", "/%2e%2e/config.yaml", "/%2E%2E/config.yaml",
    "/%2e%2e%2fconfig.yaml", "/..%2fconfig.yaml", "/..%2Fconfig.yaml", "/.%2e/config.yaml", "/%2e./config.yaml",
    "/%252e%252e/config.yaml", "/..%5cconfig.yaml", "/..\\config.yaml", "/en/../../config.yaml",
    "/en/%2e%2e/%2e%2e/config.yaml", "//etc/passwd", "/%2fetc%2fpasswd", "/./../config.yaml",
    "/..%00/config.yaml", "/%c0%ae%c0%ae/config.yaml", "/escape", "/escape-dir/passwd",
    "/content/advances/2021/world-adaptive-five-axis-cnc.md", "/.sitegen-cache/build-state.pickle",
])
def test_traversal_in_any_spelling_gets_the_sites_404_page(server, target):
    project, url = server
    output = project / "output"
    for name, where in (("escape", "/etc/passwd"), ("escape-dir", "/etc")):
        if not (output / name).is_symlink():
            os.symlink(where, output / name)
    code, body = raw_get(url, target)
    assert code == 404, (target, code)
    # The site's own 404 page (with the live-reload script the server injects), nothing of the file asked for.
    body = re.sub(rb'<script>\(function\(\)\{var s=document\.createElement\("script"\).*?</script>', b"", body)
    assert body == (output / "404.html").read_bytes()
    assert b"root:" not in body and b"title:" not in body


def test_the_server_listens_on_loopback_only(server):
    _, url = server
    port = int(url.rsplit(":", 1)[1])
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].is_file():
        pytest.skip("no /proc/net/tcp on this system")
    listening = []
    for table in tables:
        for row in table.read_text().splitlines()[1:] if table.is_file() else []:
            local, state = row.split()[1], row.split()[3]
            address, hexport = local.split(":")
            if int(hexport, 16) == port and state == "0A":  # LISTEN
                listening.append(address)
    assert listening, "the server's socket was not found"
    loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1 as the kernel writes them
    assert set(listening) <= loopback, listening


def test_livereload_takes_no_commands_over_plain_http(server):
    _, url = server
    for target in ("/forcereload", "/livereload?cmd=reload", "/forcereload?path=/"):
        code, _ = raw_get(url, target)
        assert code in (400, 404, 405), (target, code)  # no reload endpoint without the websocket handshake


@pytest.mark.parametrize("origin", ["null", "http://127.0.0.1:1", "http://localhost.evil.example", "file://"])
def test_live_reload_socket_refuses_lookalike_origins(server, origin):
    _, url = server
    host = url.removeprefix("http://")
    with socket.create_connection(("127.0.0.1", int(host.split(":")[1])), timeout=5) as sock:
        request = (f"GET /livereload HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   f"Origin: {origin}\r\n\r\n")
        sock.sendall(request.encode())
        reply = sock.recv(200).decode("latin-1")
    assert reply.startswith("HTTP/1.1 403"), reply


def test_dns_rebinding_gets_nothing(server):
    """A page on evil.example whose name the attacker re-points at 127.0.0.1 is same-origin with itself,
    not with the preview: its requests carry Host: evil.example and get neither pages nor the socket."""
    project, url = server
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET / HTTP/1.1\r\nHost: evil.example:{port}\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 404"), reply[:100]
    assert (project / "output" / "index.html").read_bytes()[:2000] not in reply
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall((f"GET /livereload HTTP/1.1\r\nHost: evil.example:{port}\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      f"Sec-WebSocket-Version: 13\r\nOrigin: http://evil.example:{port}\r\n\r\n").encode())
        assert sock.recv(200).startswith(b"HTTP/1.1 403")
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            assert sock.recv(100).startswith(b"HTTP/1.1 200"), host


def test_local_request_names():
    from sitegen.serve import local_request

    assert local_request("127.0.0.1:8000", "127.0.0.1") and local_request("[::1]:8000", "127.0.0.1")
    assert local_request("LOCALHOST:8000", "127.0.0.1") and local_request("localhost", "127.0.0.1")
    assert not local_request("evil.example:8000", "127.0.0.1") and not local_request("127.0.0.1.evil:80", "::1")
    assert local_request("192.168.1.5:8000", "0.0.0.0")  # bound to the network on purpose (with a warning)
