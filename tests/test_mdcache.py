"""sitegen.mdcache: converted bodies live in the cache file, not in the build's memory, and are never lost."""

from __future__ import annotations

import os
import sqlite3
import tracemalloc

from sitegen import mdcache
from sitegen import site as site_mod

from test_site import copy_project, tree_digest

ADVANCE = "content/advances/2021/world-adaptive-five-axis-cnc.md"


def bodies(count: int, size: int = 20_000) -> list[str]:
    """Distinct bodies whose HTML is about ``size`` characters of Chinese each."""
    return [f"## 第{i}节\n\n" + ("智能制造数控机床。" * (size // 9)) + f"\n\n编号{i}。\n" for i in range(count)]


def test_converted_bodies_are_read_from_the_file_not_kept_in_memory(tmp_path):
    texts = bodies(100)  # 100 × 20,000 characters: 4 MB of HTML as Python strings
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cache = mdcache.MarkdownCache(tmp_path)
        done = cache.render_all(texts)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 1_000_000, held  # keys and problems only (the HTML would be 4 MB)
    assert cache.memory == {}
    assert "智能制造数控机床" in done[42].html and "编号42" in done[42].html
    assert done[42].toc == [{"id": "第42节", "name": "第42节", "level": 2, "children": []}]
    # Another process (a render worker, the next build) reads the same HTML from the file.
    again = mdcache.MarkdownCache(tmp_path).render_all(texts[:3])
    assert [c.html for c in again] == [c.html for c in done[:3]]


def test_a_forked_worker_reads_the_bodies_through_its_own_connection(tmp_path):
    from sitegen.parallel import map_items

    texts = bodies(70, 200)
    cache = mdcache.MarkdownCache(tmp_path)
    done = cache.render_all(texts)
    seen = map_items(lambda c: (os.getpid(), c.html, cache._db_pid), done, 2)
    assert {pid for pid, _, _ in seen} - {os.getpid()}  # read in the workers,
    assert all(pid == opened for pid, _, opened in seen)  # each through a connection it opened itself
    assert [html for _, html, _ in seen] == [mdcache._render(t).html for t in texts]


def test_a_body_gone_from_the_file_is_converted_again(tmp_path):
    texts = bodies(3, 100)
    done = mdcache.MarkdownCache(tmp_path).render_all(texts)
    path = mdcache.MarkdownCache.path_for(tmp_path)
    with sqlite3.connect(path) as db:  # e.g. another project's build dropped what it did not use
        db.execute("DELETE FROM bodies")
    assert "编号1" in done[1].html and done[1].toc


def test_an_unusable_cache_file_is_started_again(tmp_path):
    path = mdcache.MarkdownCache.path_for(tmp_path)
    path.write_bytes(b"not a database")
    cache = mdcache.MarkdownCache(tmp_path)
    assert "编号0" in cache.render_all(bodies(1, 100))[0].html and cache.memory == {}
    assert sqlite3.connect(path).execute("SELECT count(*) FROM bodies").fetchone() == (1,)


def test_a_cache_folder_that_cannot_be_made_keeps_the_bodies_in_memory(tmp_path):
    folder = tmp_path / "cache"
    folder.write_text("a file where the cache folder should be", encoding="utf-8")
    cache = mdcache.MarkdownCache(folder)
    assert "编号0" in cache.render_all(bodies(1, 100))[0].html and len(cache.memory) == 1
    cache.save()  # nothing to write, and no error


def test_a_write_that_fails_keeps_the_bodies_in_memory_and_still_reads_the_file(tmp_path, monkeypatch):
    texts = bodies(3, 100)
    mdcache.MarkdownCache(tmp_path).render_all(texts[:1])
    cache = mdcache.MarkdownCache(tmp_path)
    real = cache._db

    class Full:  # what a full disk looks like to the cache: it can read, not write
        def execute(self, sql, *a):
            if sql.startswith(("BEGIN", "ROLLBACK")):
                raise sqlite3.OperationalError("database or disk is full")
            return real.execute(sql, *a)

    cache._db = Full()
    done = cache.render_all(texts)
    assert len(cache.memory) == 2 and "编号1" in done[1].html and "编号2" in done[2].html
    converted = []
    monkeypatch.setattr(mdcache, "_render", lambda *a: converted.append(a))
    assert "编号0" in done[0].html and converted == []  # read from the file, not converted again


def test_save_keeps_what_the_run_used_and_drops_other_versions(tmp_path):
    old_version = tmp_path / "markdown-0123456789abcdef.pickle"  # an older sitegen's cache
    old_version.write_bytes(b"x")
    texts = bodies(3, 100)
    mdcache.MarkdownCache(tmp_path).render_all(texts)
    cache = mdcache.MarkdownCache(tmp_path)
    cache.render_all(texts[:1])
    cache.save()
    assert not old_version.exists()
    keys = {row[0] for row in sqlite3.connect(cache.path).execute("SELECT key FROM bodies")}
    assert keys == {mdcache.key(texts[0])}


def test_a_built_site_shows_the_bodies_of_the_file(tmp_path):
    project = copy_project(tmp_path / "site")
    loaded = site_mod.load(project / "config.yaml")
    advance = next(a for a in loaded.model.advances if a.record.rel == ADVANCE)
    assert isinstance(advance.converted, mdcache.Converted)  # its key and problems: the HTML is in the file
    site_mod.build(loaded)
    first = tree_digest(project / "output")
    page = (project / "output/advances/2021").glob("*/index.html")
    assert any(advance.html[:200] in p.read_text("utf-8") for p in page)
    # The same output when every body comes from the file of the first build, and when none does.
    site_mod.build(site_mod.load(project / "config.yaml"), incremental_build=False)
    assert tree_digest(project / "output") == first
    for path in (project / ".sitegen-cache").glob("markdown-*"):
        path.unlink()
    site_mod.build(site_mod.load(project / "config.yaml"), incremental_build=False)
    assert tree_digest(project / "output") == first
