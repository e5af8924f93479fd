"""sitegen.serve without a browser: the first build rewrites no page when the output is up to date, and what
the preview keeps in memory between rebuilds is written to the cache folder when it stops (SIGTERM).
The browser side (live reload, the error overlay, what is served) is tests/browser/test_serve.py, whose
module name test_serve this file cannot share."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_incremental import ADVANCE, cold_digest, edit
from test_site import copy_project, run, tree_digest


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_until(proc: subprocess.Popen, text: str, seconds: float = 60) -> str:
    """The server's output up to the first line containing ``text``."""
    seen = []
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if text in line:
                return "".join(seen)
    proc.kill()
    raise AssertionError(f"no {text!r} from sitegen serve:\n" + "".join(seen))


def test_serve_after_build_starts_without_rewriting_pages_and_saves_its_state_when_stopped(tmp_path):
    project = copy_project(tmp_path / "site")
    port = free_port()  # the preview's base URL is the public one: a build with it is what serve would write
    edit(project, "config.yaml", "base_url: http://127.0.0.1:8000/", f"base_url: http://127.0.0.1:{port}/")
    assert run(["build"], project).returncode == 0
    state = project / ".sitegen-cache/build-state.pickle"
    proc = subprocess.Popen([sys.executable, "-m", "sitegen", "serve", "--port", str(port)], cwd=project,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        started = read_until(proc, "Serving")
        assert "[start] up to date: 590 pages" in started and "[start] no source change: 0 of 590 pages" in started
        edit(project, ADVANCE, "## 应用情况", "## 应用情况\n\n预览里改的一句。")
        read_until(proc, f"[change] {ADVANCE}")
        assert not state.exists()  # kept in memory while the preview runs
        # The file watcher reports the next save with its path: the two pages of the advance are rewritten.
        edit(project, ADVANCE, "预览里改的一句。", "预览里又改的一句。")
        output = read_until(proc, f"[change] {ADVANCE}")
        assert f"[change] {ADVANCE}: 2 of 590 pages rewritten" in output and "polling" not in output
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0 and state.exists()
    result = run(["build"], project)  # starts from the saved state: the preview's pages, a fresh search index
    assert result.returncode == 0 and "(0 rendered" in result.stdout  # the preview wrote every page already
    assert tree_digest(project / "output") == cold_digest(project, tmp_path)


def test_a_preview_rebuild_pauses_the_collector_and_frees_the_previous_model_before_returning(tmp_path, monkeypatch):
    import gc
    import weakref

    from sitegen import site as site_mod
    from sitegen.serve import Preview

    project = copy_project(tmp_path / "site")
    models, collecting = [], []
    real_load, real_build = site_mod.load, site_mod.build

    def load(*args, **kwargs):
        loaded = real_load(*args, **kwargs)
        models.append(weakref.ref(loaded.model.advances[0]))  # the model holds cycles (prev/next, terms)
        return loaded

    def build(*args, **kwargs):
        collecting.append(gc.isenabled())
        return real_build(*args, **kwargs)

    monkeypatch.setattr(site_mod, "load", load)
    monkeypatch.setattr(site_mod, "build", build)
    preview = Preview(project / "config.yaml", {}, False)
    assert preview.rebuild("start", live=False)
    edit(project, ADVANCE, "## 应用情况", "## 应用情况\n\n预览里改的一句。")
    assert preview.rebuild("change") and preview.reused  # a body edit: the model is kept (site.Kept)
    assert models[1]() is models[0]()
    edit(project, ADVANCE, "\ntitle: ", "\ntitle: 改名 ")
    assert preview.rebuild("change") and not preview.reused  # front matter: a new model
    assert collecting == [False, False, False]  # no collector passes over the kept heap while building
    assert gc.isenabled()
    assert models[0]() is None  # the previous model is garbage, and already collected


def test_a_preview_started_on_an_up_to_date_output_writes_no_page_and_keeps_its_model(tmp_path, capsys):
    from sitegen import site as site_mod
    from sitegen.serve import Preview

    project = copy_project(tmp_path / "site")
    site_mod.build(site_mod.load(project / "config.yaml"))  # what `sitegen build` writes, with the same settings
    pages = {p: p.stat().st_mtime_ns for p in (project / "output").rglob("*.html")}
    preview = Preview(project / "config.yaml", {}, False)
    preview.start()
    assert "[start] up to date: 590 pages" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in (project / "output").rglob("*.html")} == pages
    assert preview.warm.kept is not None  # the first save keeps the model (site.Kept) like every later one
    edit(project, ADVANCE, "## 应用情况", "## 应用情况\n\n启动后的第一次修改。")
    assert preview.rebuild("change") and preview.reused
