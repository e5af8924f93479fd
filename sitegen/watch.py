"""The preview's file watcher: the operating system says which files changed (inotify, through watchfiles).

livereload's own watcher polls: every 0.8 s it walks every watched folder and compares modification times,
so a save is noticed up to 0.8 s late, each poll stats every file (10,000 records: 10,000 calls on the
server's thread), and the rebuild is not told which files changed. :class:`ChangeWatcher` is told by the
kernel; a save is reported 50 ms after its last write (watchfiles groups the events of one save), with the
changed paths, which the preview passes to the rebuild (see sitegen.content.rediscover). Where the
kernel's watcher cannot be used (e.g. the limit of inotify watches is reached) it falls back to livereload's
polling, whose rebuilds look at every file.
"""

from __future__ import annotations

import os
import sys
import threading

from livereload.watcher import Watcher

STEP_MS = 50  # a save is reported once no file changed for this long (one save writes in several steps)
POLL_MS = 800  # livereload's interval, if polling is the fallback


class ChangeWatcher(Watcher):
    """A livereload watcher whose tasks are called with the set of changed paths (absolute, as strings).

    Watched folders are watched recursively; a watched file is followed through its folder (not its inode:
    editors that save by writing a new file and renaming it over the old one replace the inode)."""

    def __init__(self, on_ready=None):
        super().__init__()
        self.on_ready = on_ready  # called on the server's loop once every path is being watched
        self.polling = False
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def start(self, callback) -> bool:
        from tornado import ioloop

        loop = ioloop.IOLoop.current()

        def fall_back(error: str) -> None:
            print(f"warning: file watching failed ({error}); polling every {POLL_MS} ms instead",
                  file=sys.stderr, flush=True)
            self.polling = True
            ioloop.PeriodicCallback(callback, POLL_MS).start()

        self.follow(lambda: loop.add_callback(callback), lambda error: loop.add_callback(fall_back, error),
                    lambda: loop.add_callback(self.on_ready) if self.on_ready else None)
        return True  # no polling: the threads call back

    def follow(self, notify, failed, ready) -> None:
        """Watch every task's path in background threads; ``ready()`` once every path is watched, ``notify()``
        after each batch of changes, ``failed(message)`` if watching stops working (each from a thread)."""
        import watchfiles

        folders = sorted(p for p in self._tasks if os.path.isdir(p))
        files: dict[str, set[str]] = {}
        for path in self._tasks:
            if path not in folders:
                files.setdefault(os.path.dirname(path) or ".", set()).add(path)
        groups = [(folders, True, None)] if folders else []
        groups += [([folder], False, names) for folder, names in sorted(files.items())]
        waiting = [len(groups)]

        def run(paths: list[str], recursive: bool, only: set[str] | None) -> None:
            watching = False
            try:
                for changes in watchfiles.watch(*paths, watch_filter=None, step=STEP_MS, stop_event=self._stop,
                                                recursive=recursive, rust_timeout=1000, yield_on_timeout=True,
                                                raise_interrupt=False):
                    if not watching:  # the first batch (or timeout) comes once the kernel watches every path
                        watching = True
                        with self._lock:
                            waiting[0] -= 1
                            all_ready = waiting[0] == 0
                        if all_ready:
                            ready()
                    found = {path for _, path in changes if only is None or path in only}
                    if found:
                        with self._lock:
                            self._pending |= found
                        notify()
            except Exception as exc:  # noqa: BLE001 — any failure of the watcher: poll instead
                if not self._stop.is_set():
                    failed(f"{type(exc).__name__}: {exc}")

        for group in groups:
            threading.Thread(target=run, args=group, daemon=True, name="sitegen-watch").start()

    def stop(self) -> None:
        self._stop.set()

    def take(self) -> set[str]:
        """The paths changed since the last call."""
        with self._lock:
            changed, self._pending = self._pending, set()
        return changed

    def examine(self):
        """Run the tasks whose paths changed, each once, with its changed paths; (a changed path, None)."""
        if self.polling:
            return super().examine()
        # livereload's own message (the server started: reload the pages open) does not hold changes back
        message = self._changes.pop() if self._changes else None
        changed = self.take()
        if not changed:
            return message or (None, None)
        calls: dict[int, tuple] = {}
        for path, task in self._tasks.items():
            mine = {p for p in changed if p == path or p.startswith(path.rstrip(os.sep) + os.sep)}
            if mine and task["func"]:
                func, paths = calls.get(id(task["func"]), (task["func"], set()))
                calls[id(task["func"])] = (func, paths | mine)
        for func, paths in calls.values():
            func(paths)
        self.filepath = min(changed)
        return message or (self.filepath, None)
