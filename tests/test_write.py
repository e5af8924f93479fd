"""sitegen.write: crash-safe output (issue 9).

``sitegen build`` is killed with SIGKILL at several moments — while pages are written into the staging
folder (a full and an incremental build), while the search index is being made, and during the swap —
and each time the previous ``output/`` must be byte-identical and servable, and the next build must
succeed and leave no stale folder behind. The moments are reached with the writer's test hooks
(``SITEGEN_TEST_PAUSE_AFTER``, ``SITEGEN_TEST_PAUSE_AT``) and a Pagefind wrapper that stops after indexing.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from sitegen import write
from sitegen.search import find_binary

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups and SIGKILL")

REPO = Path(__file__).resolve().parents[1]
ADVANCE = "content/advances/2021/world-five-axis.md"
ADVANCE_PAGE = "advances/2021/adaptive-five-axis-machining/index.html"


def snapshot(root: Path) -> dict[str, str]:
    """Every file and link under ``root`` with its content hash (a link by its target)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def leftovers(site: Path) -> list[str]:
    return sorted(p.name for p in site.iterdir() if p.name.startswith((".output.staging-", ".output.old-")))


def wait_for_no_leftovers(site: Path) -> list[str]:
    """The replaced tree is deleted in the background: give it time (a generous bound, not a timing test)."""
    deadline = time.monotonic() + 120
    while leftovers(site) and time.monotonic() < deadline:
        time.sleep(0.1)
    return leftovers(site)


def build(site: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sitegen", "build"], cwd=site, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def start_paused(site: Path, env: dict, marker: Path | None = None) -> subprocess.Popen:
    """Start a build in its own process group and wait until it says (or its marker file shows) that it
    has stopped at the requested moment."""
    proc = subprocess.Popen([sys.executable, "-m", "sitegen", "build"], cwd=site, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env}, start_new_session=True)
    deadline = time.monotonic() + 300  # only against a hang; the build normally pauses within seconds
    if marker is not None:
        while not marker.exists():
            assert proc.poll() is None, f"build ended before pausing:\n{proc.stderr.read()}"
            assert time.monotonic() < deadline, "the build never reached the pause"
            time.sleep(0.05)
        return proc
    selector = selectors.DefaultSelector()
    selector.register(proc.stderr, selectors.EVENT_READ)
    seen = ""
    while "sitegen: test pause" not in seen:
        assert time.monotonic() < deadline, f"the build never reached the pause:\n{seen}"
        if selector.select(timeout=1):
            line = proc.stderr.readline()
            assert line or proc.poll() is None, f"build ended before pausing:\n{seen}"
            seen += line
    return proc


def kill(proc: subprocess.Popen, whole_group: bool = True) -> None:
    """SIGKILL the build (only its main process, or with its rendering workers and Pagefind)."""
    if whole_group:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group (orphaned workers)
    except ProcessLookupError:
        pass


def served(output: Path, paths: list[str]) -> dict[str, bytes]:
    """GET each path from a plain static server on ``output`` (what a web host would do)."""
    handler = functools.partial(type("Quiet", (http.server.SimpleHTTPRequestHandler,),
                                     {"log_message": lambda *a: None}), directory=str(output))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}/"
        return {path: urllib.request.urlopen(base + path, timeout=30).read() for path in paths}
    finally:
        httpd.shutdown()
        httpd.server_close()


def edit(site: Path, text: str) -> None:
    path = site / ADVANCE
    path.write_text(path.read_text(encoding="utf-8").replace("示例正文。", text, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, make_site):
    """The minimal site built twice from scratch: before and after the edit the killed builds make."""
    out = {}
    for name, text in (("before", None), ("after", "示例正文，修改之后。")):
        site = make_site(tmp_path_factory.mktemp(name), "minimal")
        if text:
            edit(site, text)
        result = build(site)
        assert result.returncode == 0, result.stderr
        out[name] = snapshot(site / "output")
    return out


@pytest.fixture
def site(tmp_path, make_site, reference):
    """A built minimal site whose output equals the 'before' reference."""
    site = make_site(tmp_path, "minimal")
    result = build(site)
    assert result.returncode == 0, result.stderr
    assert snapshot(site / "output") == reference["before"]
    return site


def without_search(tree: dict) -> dict:
    """Pagefind's own files are compared separately (made by an external binary)."""
    return {k: v for k, v in tree.items() if not k.startswith("pagefind/")}


def assert_previous_output_intact(site: Path, reference: dict) -> None:
    output = site / "output"
    assert snapshot(output) == reference
    search = ["pagefind/pagefind.js"] if "pagefind/pagefind.js" in reference else []
    pages = served(output, ["", ADVANCE_PAGE, "en/" + ADVANCE_PAGE, *search])
    assert pages[""] == (output / "index.html").read_bytes()
    assert "示例正文。".encode() in pages[ADVANCE_PAGE]


def assert_next_build_recovers(site: Path, reference: dict) -> None:
    result = build(site)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert wait_for_no_leftovers(site) == []
    now = snapshot(site / "output")
    assert without_search(now) == without_search(reference)
    assert ("pagefind/pagefind.js" in now) == ("pagefind/pagefind.js" in reference)


@pytest.mark.parametrize("after, workers", [(1, ""), (40, "1"), (75, "1")],
                         ids=["first-page-in-each-worker", "page-40", "feeds-and-assets"])
def test_kill_while_a_full_build_writes_pages(site, reference, after, workers):
    """A full build (no saved state: the staging folder starts empty), killed after N files: in the
    rendering workers (each pauses at its first page), or with one process among the pages (70 of them)
    and among the feeds, data files and assets written after them."""
    edit(site, "示例正文，修改之后。")
    shutil.rmtree(site / ".sitegen-cache")
    proc = start_paused(site, {write.PAUSE_AFTER: str(after), "SITEGEN_WORKERS": workers})
    assert [p for p in leftovers(site) if ".staging-" in p], "the build writes into a staging folder"
    kill(proc)
    assert_previous_output_intact(site, reference["before"])
    assert_next_build_recovers(site, reference["after"])


def test_kill_while_an_incremental_build_writes_pages(site, reference):
    """An incremental build's staging folder is a hard-linked clone of output/: writing into it must
    never change the published files (killed with only its main process, the workers orphaned)."""
    edit(site, "示例正文，修改之后。")
    proc = start_paused(site, {write.PAUSE_AFTER: "2"})
    [staging] = [site / p for p in leftovers(site) if ".staging-" in p]
    inodes = {p.stat().st_ino for p in (site / "output").rglob("*") if p.is_file()}
    assert inodes & {p.stat().st_ino for p in staging.rglob("*") if p.is_file()}, "expected a hard-linked clone"
    kill(proc, whole_group=False)
    assert_previous_output_intact(site, reference["before"])
    assert_next_build_recovers(site, reference["after"])


def test_kill_while_the_search_index_is_made(site, reference, tmp_path):
    """Killed inside the post-write step: Pagefind has written its index into the staging folder and
    (through a wrapper) stops before sitegen swaps anything. Its scratch copies are cleaned next time."""
    real = find_binary()
    if real is None:
        pytest.skip("Pagefind is not installed")
    marker = tmp_path / "pagefind-ran"
    wrapper = tmp_path / "pagefind-wrapper"
    wrapper.write_text(f'#!/bin/sh\n"{real}" "$@"\ntouch "{marker}"\nexec sleep 600\n', encoding="utf-8")
    wrapper.chmod(0o755)
    edit(site, "示例正文，修改之后。")
    shutil.rmtree(site / ".sitegen-cache")
    proc = start_paused(site, {"PAGEFIND_BINARY_PATH": str(wrapper)}, marker=marker)
    [staging] = [site / p for p in leftovers(site) if ".staging-" in p]
    assert (staging / "pagefind" / "pagefind.js").is_file(), "killed after the index was written"
    scratch_dirs = [Path("/dev/shm"), Path(write.tempfile.gettempdir())]
    scratch = [p for d in scratch_dirs if d.is_dir() for p in d.glob(f"sitegen-search-{proc.pid}-*")]
    assert scratch, "Pagefind reads copies in a scratch folder named after the build's process"
    kill(proc)
    assert all(p.exists() for p in scratch)  # what a killed build leaves behind …
    assert_previous_output_intact(site, reference["before"])
    assert_next_build_recovers(site, reference["after"])
    assert not any(p.exists() for p in scratch)  # … is removed by the next one


def exchange_available(folder: Path) -> bool:
    a, b = folder / "probe-a", folder / "probe-b"
    a.mkdir()
    b.mkdir()
    try:
        return write.exchange(a, b)
    finally:
        a.rmdir()
        b.rmdir()


def test_kill_during_the_swap_never_leaves_output_missing(site, reference, tmp_path):
    """With the atomic exchange, the only moment inside the swap: output/ is already the new tree."""
    edit(site, "示例正文，修改之后。")
    if not exchange_available(tmp_path):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available on this system")
    proc = start_paused(site, {write.PAUSE_AT: "swap"})
    assert without_search(snapshot(site / "output")) == without_search(reference["after"])
    kill(proc)
    served(site / "output", ["", ADVANCE_PAGE])
    assert_next_build_recovers(site, reference["after"])


def test_kill_between_the_two_renames_of_the_fallback_swap(site, reference):
    """Where the exchange is not available: killed with output/ renamed away, the next build puts the
    previous tree back before it starts (and then builds)."""
    edit(site, "示例正文，修改之后。")
    proc = start_paused(site, {write.PAUSE_AT: "swap", write.NO_EXCHANGE: "1"})
    assert not (site / "output").exists()
    [old] = [site / p for p in leftovers(site) if ".old-" in p]
    kill(proc)
    assert snapshot(old) == reference["before"]
    write.clean_stale(site / "output")  # what the next build does first
    assert_previous_output_intact(site, reference["before"])
    assert_next_build_recovers(site, reference["after"])


# --- the pieces ----------------------------------------------------------------------------------------

def test_exchange_swaps_two_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    (a / "x").mkdir(parents=True)
    (b / "y").mkdir(parents=True)
    if not write.exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available on this system")
    assert (a / "y").is_dir() and (b / "x").is_dir()


def test_clean_stale_keeps_the_folders_of_a_running_build(tmp_path):
    output = tmp_path / "output"
    output.mkdir()
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".output.staging-{running.pid}-abcd1234"
        dead = tmp_path / ".output.staging-99999999-abcd1234"
        legacy = tmp_path / ".output.old-99999998"
        for folder in (live, dead, legacy):
            (folder / "sub").mkdir(parents=True)
        write.clean_stale(output)
        assert live.exists() and not dead.exists() and not legacy.exists()
    finally:
        running.kill()
        running.wait()


def test_clean_stale_restores_an_output_lost_between_the_renames(tmp_path):
    output = tmp_path / "output"
    old = tmp_path / ".output.old-99999999-abcd1234"
    (old / "a").mkdir(parents=True)
    (old / "a" / "index.html").write_text("previous", encoding="utf-8")
    write.clean_stale(output)
    assert (output / "a" / "index.html").read_text(encoding="utf-8") == "previous" and not old.exists()


def test_a_process_building_twice_gets_two_staging_folders(tmp_path):
    output = tmp_path / "output"
    first, second = write.Staging(output), write.Staging(output)
    assert first.dir != second.dir and first.dir.name.startswith(f".output.staging-{os.getpid()}-")


@pytest.mark.parametrize("rel", ["../escape.html", "/etc/passwd", "a/../../escape", "a\x00b", "link/escape.html"])
def test_the_writer_refuses_paths_outside_the_output_folder(tmp_path, rel):
    output = tmp_path / "output"
    output.mkdir()
    (output / "link").symlink_to(tmp_path)  # a link in the output folder pointing out of it
    writer = write.LiveOutput(output)
    with pytest.raises(write.UnsafeOutputPath):
        writer.write(rel, b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output"]


def test_prune_removes_a_link_without_following_it(tmp_path):
    outside = tmp_path / "outside"
    (outside / "keep").mkdir(parents=True)
    output = tmp_path / "output"
    output.mkdir()
    (output / "dirlink").symlink_to(outside, target_is_directory=True)
    assert write.LiveOutput(output).prune(set()) == ["dirlink"]
    assert (outside / "keep").is_dir()


def test_scratch_folders_of_dead_processes_are_removed(tmp_path):
    dead = tmp_path / "sitegen-search-99999999-x1"
    (dead / "copy").mkdir(parents=True)
    other = tmp_path / "sitegen-search-notapid"
    other.mkdir()
    new = write.scratch_folder("sitegen-search-", tmp_path)
    assert new.name.startswith(f"sitegen-search-{os.getpid()}-") and new.is_dir()
    assert not dead.exists() and other.exists()



def test_link_tree_links_every_file_and_link_without_following_links(tmp_path):
    import shutil

    from sitegen.write import link_tree

    source = tmp_path / "output"
    (source / "a/b").mkdir(parents=True)
    (source / "index.html").write_text("home", encoding="utf-8")
    (source / "a/b/page.html").write_text("page", encoding="utf-8")
    (source / "a/empty").mkdir()
    (source / "a/to-home.html").symlink_to("../index.html")
    (source / "a/to-b").symlink_to("b", target_is_directory=True)
    link_tree(source, tmp_path / "linked")
    shutil.copytree(source, tmp_path / "copied", copy_function=os.link, symlinks=True)  # what it replaces
    listing = sorted(p.relative_to(tmp_path / "copied").as_posix() for p in (tmp_path / "copied").rglob("*"))
    assert sorted(p.relative_to(tmp_path / "linked").as_posix() for p in (tmp_path / "linked").rglob("*")) == listing
    linked = tmp_path / "linked"
    assert (linked / "a/b/page.html").stat().st_ino == (source / "a/b/page.html").stat().st_ino  # a link, not a copy
    assert os.readlink(linked / "a/to-home.html") == "../index.html"  # links stay links
    assert (linked / "a/to-b").is_symlink() and (linked / "a/empty").is_dir()


def test_mirror_makes_a_stale_tree_the_linked_copy_of_the_output(tmp_path):
    from sitegen.write import mirror

    source, target = tmp_path / "output", tmp_path / "spare"
    (source / "a/b").mkdir(parents=True)
    (source / "index.html").write_text("home", encoding="utf-8")
    (source / "a/b/page.html").write_text("page", encoding="utf-8")
    (source / "a/kept.html").write_text("kept", encoding="utf-8")
    (source / "new").mkdir()
    (source / "new/x.html").write_text("x", encoding="utf-8")
    (source / "was-dir").write_text("now a file", encoding="utf-8")
    (target / "a/b").mkdir(parents=True)
    os.link(source / "a/kept.html", target / "a/kept.html")  # already the output's file
    (target / "index.html").write_text("old home", encoding="utf-8")  # another inode
    (target / "a/gone.html").write_text("removed since", encoding="utf-8")
    (target / "was-dir/deep").mkdir(parents=True)
    listing: list = []
    changed = mirror(source, target, listing)
    files = sorted(p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file())
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == files
    assert sorted(listing) == files
    assert all((target / rel).stat().st_ino == (source / rel).stat().st_ino for rel in files)
    assert changed == 5  # index.html, a/b/page.html, new/, was-dir, a/gone.html; a/kept.html untouched


def test_an_incremental_build_takes_the_spare_tree_instead_of_cloning(tmp_path, monkeypatch):
    output = tmp_path / "output"
    with write.Staging(output) as stage:
        stage.write("a/index.html", b"one")
        stage.write("b/index.html", b"b")
    with write.Staging(output, reuse=True) as stage:  # no spare yet: a clone
        stage.write("a/index.html", b"two")
    spare = write.spare_path(output)
    assert spare.is_dir() and (spare / "a/index.html").read_bytes() == b"one"  # the tree the swap replaced
    monkeypatch.setattr(write, "link_tree", lambda *a: pytest.fail("cloned although a spare tree was there"))
    inode = spare.stat().st_ino
    with write.Staging(output, reuse=True) as stage:
        assert stage.dir.stat().st_ino == inode and not spare.exists()  # claimed by a rename
        assert (stage.dir / "a/index.html").read_bytes() == b"two"  # mirrored: the output's file
        assert stage.prune({"a/index.html"}) == ["b/index.html"]
    assert sorted(p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file()) == ["a/index.html"]


def test_a_spare_that_is_a_link_is_never_followed(tmp_path):
    output = tmp_path / "output"
    (output / "a").mkdir(parents=True)
    (output / "a/index.html").write_text("page", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("keep", encoding="utf-8")
    write.spare_path(output).symlink_to(elsewhere, target_is_directory=True)
    with write.Staging(output, reuse=True) as stage:
        assert not stage.dir.is_symlink() and (stage.dir / "a/index.html").is_file()
    assert (elsewhere / "precious.txt").read_text(encoding="utf-8") == "keep"


def test_a_new_staging_folder_is_written_in_place_and_a_reused_one_by_rename(tmp_path, monkeypatch):
    from sitegen import write

    output = tmp_path / "output"
    renamed = []
    real = os.replace
    monkeypatch.setattr(write.os, "replace", lambda a, b: renamed.append(Path(b).name) or real(a, b))
    with write.Staging(output) as stage:
        stage.write("a/index.html", b"one")
        stage.write("data.json", iter([b"[", b"]"]))
    assert renamed == [] and (output / "a/index.html").read_bytes() == b"one"
    assert (output / "data.json").read_bytes() == b"[]"
    with write.Staging(output, reuse=True) as stage:  # starts as hard links to the output
        stage.write("a/index.html", b"two")
    assert renamed == ["index.html"]  # a new inode: the linked file of the previous output is not written into
    assert (output / "a/index.html").read_bytes() == b"two"
    assert (write.spare_path(output) / "a/index.html").read_bytes() == b"one"
    assert not [p for p in output.rglob("*") if ".tmp-" in p.name]
