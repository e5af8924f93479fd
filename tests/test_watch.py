"""sitegen.watch: the preview's file watcher reports the paths that changed, within moments of a save."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from sitegen.watch import ChangeWatcher


class Started:
    """A ChangeWatcher following ``paths`` in its threads, as the server runs it."""

    def __init__(self, *paths: Path):
        self.watcher = ChangeWatcher()
        self.calls: list[set[str]] = []
        for path in paths:
            self.watcher.watch(str(path), lambda changed=None: self.calls.append(changed))
        self.ready, self.saved, self.failed = threading.Event(), threading.Event(), []
        self.watcher.follow(self.saved.set, self.failed.append, self.ready.set)
        assert self.ready.wait(30), self.failed

    def changes(self, seconds: float = 10) -> set[str]:
        """What the watcher reports after a change (waiting until a batch arrives and the files are quiet)."""
        assert self.saved.wait(seconds), f"nothing reported {self.failed}"
        time.sleep(0.3)  # the rest of the save, if the watcher split it
        self.saved.clear()
        return self.watcher.take()

    def stop(self) -> None:
        self.watcher.stop()


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "content/advances/2021").mkdir(parents=True)
    (tmp_path / "themes/default").mkdir(parents=True)
    (tmp_path / "config.yaml").write_text("title: x\n", encoding="utf-8")
    (tmp_path / "content/advances/2021/a.md").write_text("---\n---\n", encoding="utf-8")
    return tmp_path


def test_a_save_in_a_watched_folder_is_reported_with_its_path(project):
    started = Started(project / "content", project / "themes", project / "config.yaml")
    try:
        record = project / "content/advances/2021/a.md"
        before = time.perf_counter()
        record.write_text("---\n---\nnew\n", encoding="utf-8")
        assert started.changes() == {str(record)}
        assert time.perf_counter() - before < 5  # moments, not a polling interval (never a timing assertion)
        assert started.failed == []
    finally:
        started.stop()


def test_a_watched_file_replaced_by_rename_is_followed_and_its_neighbours_are_not_reported(project):
    started = Started(project / "content", project / "config.yaml")
    try:
        config = project / "config.yaml"
        for round_ in range(2):  # the second save replaces the file that replaced the first one
            temp = project / f".config.yaml.tmp{round_}"
            temp.write_text(f"title: saved {round_}\n", encoding="utf-8")
            os.replace(temp, config)
            assert started.changes() == {str(config)}
        (project / "README.md").write_text("not watched\n", encoding="utf-8")
        (project / "content/advances/2021/b.md").write_text("---\n---\n", encoding="utf-8")
        assert started.changes() == {str(project / "content/advances/2021/b.md")}
    finally:
        started.stop()


def test_examine_calls_each_task_once_with_its_changed_paths(project):
    watcher = ChangeWatcher()
    calls = []

    def rebuild(changed=None):
        calls.append(changed)

    for path in (project / "content", project / "themes", project / "config.yaml"):
        watcher.watch(str(path), rebuild)
    assert watcher.examine() == (None, None) and calls == []
    record, template = str(project / "content/advances/2021/a.md"), str(project / "themes/default/base.html")
    watcher._pending = {record, template, str(project / "contents-other.txt")}
    assert watcher.examine() == (record, None)
    assert calls == [{record, template}]  # one rebuild for the batch; a path beside content/ is nobody's
    # livereload's message at the start of the server (reload the open pages) does not hold a change back
    watcher._changes.append(("__livereload__", 0))
    watcher._pending = {record}
    assert watcher.examine() == ("__livereload__", 0) and calls[-1] == {record}


def test_a_watcher_that_fails_says_so_and_the_server_polls_instead(project, monkeypatch):
    import watchfiles

    def broken(*args, **kwargs):
        raise OSError(28, "inotify watch limit reached")
        yield  # a generator, like watchfiles.watch

    monkeypatch.setattr(watchfiles, "watch", broken)
    watcher = ChangeWatcher()
    watcher.watch(str(project / "content"), lambda changed=None: None)
    failed = threading.Event()
    messages = []
    watcher.follow(lambda: None, lambda message: (messages.append(message), failed.set()), lambda: None)
    assert failed.wait(10) and "inotify watch limit reached" in messages[0]
    # What the server does then (ChangeWatcher.start): poll with livereload's own examine, which calls the
    # task without paths; the preview then looks at every file.
    calls = []
    watcher = ChangeWatcher()
    watcher.watch(str(project / "content"), lambda changed=None: calls.append(changed))
    watcher.polling = True
    watcher.examine()  # livereload's first look notes the files
    time.sleep(0.05)
    (project / "content/advances/2021/a.md").write_text("---\n---\nchanged\n", encoding="utf-8")
    os.utime(project / "content/advances/2021/a.md", (time.time() + 5, time.time() + 5))
    watcher.examine()
    assert calls == [None]
