"""A persistent cache of converted Markdown, keyed by the body's content hash.

The cache is an SQLite file in the project's cache folder (``cache_dir`` in config.yaml, default
``.sitegen-cache``). Its name carries a version that covers the Markdown/nh3 versions, the converter's own
source and the allowed video hosts (``video_hosts`` in config.yaml), so a change to the extensions or the
sanitiser rules starts a new file. A missing or unreadable cache is simply rebuilt; it never changes what
is rendered.

A build holds only each body's key and problems in memory (:class:`Converted`): the HTML and the table of
contents are read from the file when a page shows them, in the worker rendering that page. So the
converted text of every body is never in one process's memory at once (at 10,000 advances it was the
largest part of a build's memory). Where the file cannot be used (a read-only project), the converted
bodies are kept in memory instead; a body gone from the file (another process's build dropped it) is
converted again when it is shown.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from pathlib import Path

import markdown as md_lib
import nh3

from . import markdown as md_stage
from .parallel import imap_items

_renderers: dict[tuple, md_stage.MarkdownRenderer] = {}
_SCHEMA = ("CREATE TABLE IF NOT EXISTS bodies (key TEXT PRIMARY KEY, html TEXT NOT NULL, toc TEXT NOT NULL, "
           "removed TEXT NOT NULL, error TEXT) WITHOUT ROWID")
_BATCH = 256  # bodies written per transaction while they are converted
_INHERITED: list = []  # in a forked worker, the connections of the parent (see MarkdownCache._reader)


def version(video_hosts=()) -> str:
    source = Path(md_stage.__file__).read_bytes()
    hosts = ",".join(sorted(h.lower() for h in video_hosts))
    text = f"{md_lib.__version__}|{getattr(nh3, '__version__', '')}|{hosts}|".encode() + source
    return hashlib.sha256(text).hexdigest()[:16]


def key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _render(text: str, video_hosts: tuple = ()) -> md_stage.Rendered:
    renderer = _renderers.get(video_hosts)
    if renderer is None:
        renderer = _renderers[video_hosts] = md_stage.MarkdownRenderer(video_hosts)
    return renderer.render(text)


class Converted:
    """A converted body: its problems (see :class:`sitegen.markdown.Rendered`) in memory, its HTML and table of
    contents in the cache, read when a page shows them."""

    __slots__ = ("key", "removed", "error", "_cache", "_text")

    def __init__(self, cache: "MarkdownCache", key: str, text: str, removed: tuple, error: tuple | None):
        self.key, self.removed, self.error = key, removed, error
        self._cache, self._text = cache, text  # the text: the record's own string, to convert again if need be

    @property
    def html(self) -> str:
        return self._cache.fetch(self)[0]

    @property
    def toc(self) -> list[dict]:
        return self._cache.fetch(self)[1]

    def __eq__(self, other) -> bool:
        return isinstance(other, Converted) and (self.key, self.removed, self.error) == (
            other.key, other.removed, other.error)

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Converted({self.key[:12]}, removed={self.removed!r}, error={self.error!r})"


class MarkdownCache:
    def __init__(self, folder: Path | None, video_hosts=()):
        self.video_hosts = tuple(sorted(video_hosts))
        self.path = self.path_for(folder, video_hosts) if folder else None
        self.problems: dict[str, tuple] = {}  # key → (removed, error) of every body in the file
        self.memory: dict[str, md_stage.Rendered] = {}  # bodies converted while the file could not be written
        self.used: set[str] = set()
        self.last_used: set[str] = set()  # what the previous run in this process used (see next_run)
        self._known: dict = {}  # id of a text of the last run → (the text, its key)
        self._db: sqlite3.Connection | None = None  # this process's connection, the writer's in the parent
        self._db_pid = 0
        self._writable = True  # False once a write failed: what the file holds is still read
        self._recent: tuple = ("", ("", []))  # the last body read: a page asks for its HTML and its TOC
        if self.path:
            self._open()

    def _open(self) -> None:
        for attempt in (1, 2):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                db.execute(_SCHEMA)
                self.problems = {k: (tuple(json.loads(removed)), tuple(json.loads(error)) if error else None)
                                 for k, removed, error in db.execute("SELECT key, removed, error FROM bodies")}
                self._db, self._db_pid = db, os.getpid()
                return
            except (sqlite3.Error, OSError, ValueError):
                self.problems = {}
                if attempt == 1:  # not a database (e.g. a file cut short): start it again
                    try:
                        self.path.unlink(missing_ok=True)
                    except OSError:
                        break
        self._db = None  # no usable file: the converted bodies stay in memory

    def render_all(self, texts: list[str]) -> list[Converted]:
        """Convert every text, using the cache and converting the misses on all cores."""
        # A preview passes the same text objects run after run (see RecordCache): their keys are not hashed again.
        known = self._known
        keys = [hit[1] if (hit := known.get(id(t))) is not None and hit[0] is t else key(t) for t in texts]
        self._known = {id(t): (t, k) for t, k in zip(texts, keys)}
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in self.problems and k not in self.memory}.items())
        if missing:
            hosts = self.video_hosts
            converted = imap_items(lambda text: _render(text, hosts), [t for _, t in missing])
            self._add(zip([k for k, _ in missing], converted))
        self.used.update(keys)
        return [self._converted(k, t) for k, t in zip(keys, texts)]

    def render_more(self, texts: list[str], replaced: list[str]) -> list[Converted]:
        """Like :meth:`render_all`, in a run that converts only the texts that changed since the last run (they
        replace the texts ``replaced``): every other text of that run is still in use (a preview's kept model
        shows them; see sitegen.site.Kept)."""
        known, used = self._known, set(self.last_used)
        for text in replaced:
            hit = known.get(id(text))
            if hit is not None and hit[0] is text:
                del known[id(text)]
                used.discard(hit[1])  # if another text has the same key, a later full run converts it again
        done = self.render_all(texts)
        known.update(self._known)
        self._known = known
        self.used |= used
        return done

    def _converted(self, k: str, text: str) -> Converted:
        kept = self.memory.get(k)
        removed, error = (kept.removed, kept.error) if kept is not None else self.problems[k]
        return Converted(self, k, text, removed, error)

    def _add(self, results) -> None:
        """Keep (key, Rendered) pairs as they come: written to the file in batches, in memory where it fails."""
        batch: list = []
        for k, result in results:
            batch.append((k, result))
            if len(batch) == _BATCH:
                self._write(batch)
                batch = []
        self._write(batch)

    def _write(self, batch: list) -> None:
        if self._db is not None and self._writable and batch:
            rows = [(k, r.html, json.dumps(r.toc, ensure_ascii=False), json.dumps(r.removed, ensure_ascii=False),
                     json.dumps(r.error, ensure_ascii=False) if r.error else None) for k, r in batch]
            try:
                with self._transaction():
                    self._db.executemany("INSERT OR REPLACE INTO bodies VALUES (?, ?, ?, ?, ?)", rows)
            except sqlite3.Error:
                self._writable = False  # e.g. the disk is full: this run's next bodies stay in memory
            else:
                self.problems.update((k, (r.removed, r.error)) for k, r in batch)
                return
        self.memory.update(batch)

    @contextlib.contextmanager
    def _transaction(self):
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def fetch(self, converted: Converted) -> tuple[str, list]:
        """The HTML and TOC of a converted body: from memory, from the file, or converted again if it is gone."""
        k = converted.key
        if self._recent[0] == k:
            return self._recent[1]
        kept = self.memory.get(k)
        if kept is not None:
            return kept.html, kept.toc
        row = None
        db = self._reader()
        if db is not None:
            try:
                row = db.execute("SELECT html, toc FROM bodies WHERE key = ?", (k,)).fetchone()
            except sqlite3.Error:
                row = None
        if row is None:
            again = _render(converted._text, self.video_hosts)
            value = (again.html, again.toc)
        else:
            value = (row[0], json.loads(row[1]))
        self._recent = (k, value)
        return value

    def _reader(self) -> sqlite3.Connection | None:
        """This process's connection: a forked worker opens its own (a connection must not cross a fork)."""
        if self._db_pid != os.getpid():
            _INHERITED.append(self._db)  # the parent's: never used, nor closed, in a forked process
            self._db, self._db_pid = None, os.getpid()
            if self.path is not None and self.path.is_file():
                try:
                    self._db = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
                except sqlite3.Error:
                    pass
        return self._db

    @staticmethod
    def path_for(folder: Path, video_hosts=()) -> Path:
        return folder / f"markdown-{version(tuple(sorted(video_hosts)))}.sqlite"

    def next_run(self) -> "MarkdownCache":
        """The same cache for another run in this process; only what the last run used is kept in memory."""
        if self.used:
            self.memory = {k: v for k, v in self.memory.items() if k in self.used}
            self.last_used, self.used = self.used, set()
        return self

    def save(self) -> None:
        """Drop from the file the bodies this run did not use, and the files of other versions."""
        if not self.path:
            return
        folder = self.path.parent
        mine = (self.path.name, self.path.name + "-journal")
        for stale in [*folder.glob("markdown-*"), *folder.glob(".markdown-*.tmp-*")]:
            if stale.name not in mine:  # other versions (older sitegen wrote pickles), a killed run's leftovers
                stale.unlink(missing_ok=True)
        unused = sorted(self.problems.keys() - self.used)
        if unused and self._db is not None and self._db_pid == os.getpid():
            try:
                with self._transaction():
                    self._db.executemany("DELETE FROM bodies WHERE key = ?", [(k,) for k in unused])
            except sqlite3.Error:
                return
            for k in unused:
                del self.problems[k]
