"""A persistent cache of rendered Markdown, keyed by the body's content hash.

The cache file lives in the project's cache folder (``cache_dir`` in config.yaml, default
``.sitegen-cache``). Its version covers the Markdown/nh3 versions, the renderer's own source and the
allowed video hosts (``video_hosts`` in config.yaml), so a change to the extensions or the sanitiser
rules invalidates it. A missing or unreadable cache is
simply rebuilt; it never changes what is rendered.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import markdown as md_lib
import nh3

from . import incremental
from . import markdown as md_stage
from .parallel import map_items

_renderers: dict[tuple, md_stage.MarkdownRenderer] = {}


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


class MarkdownCache:
    def __init__(self, folder: Path | None, video_hosts=()):
        self.video_hosts = tuple(sorted(video_hosts))
        self.path = self.path_for(folder, video_hosts) if folder else None
        self.entries: dict[str, md_stage.Rendered] = {}
        self.used: set[str] = set()
        self.dirty = False
        self._known: dict = {}  # id of a text of the last run → (the text, its key)
        saved = incremental.load_pickle(self.path)
        if isinstance(saved, dict):
            self.entries = saved

    def render_all(self, texts: list[str]) -> list[md_stage.Rendered]:
        """Render every text, using the cache and rendering the misses on all cores."""
        # A preview passes the same text objects run after run (see RecordCache): their keys are not hashed again.
        known = self._known
        keys = [hit[1] if (hit := known.get(id(t))) is not None and hit[0] is t else key(t) for t in texts]
        self._known = {id(t): (t, k) for t, k in zip(texts, keys)}
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in self.entries}.items())
        if missing:
            hosts = self.video_hosts
            done = map_items(lambda text: _render(text, hosts), [t for _, t in missing])
            self.entries.update((k, r) for (k, _), r in zip(missing, done))
            self.dirty = True
        self.used.update(keys)
        return [self.entries[k] for k in keys]

    def render_more(self, texts: list[str], replaced: list[str]) -> list[md_stage.Rendered]:
        """Like :meth:`render_all`, in a run that converts only the texts that changed since the last run (they
        replace the texts ``replaced``): every other text of that run is still in use (a preview's kept model
        shows them; see sitegen.site.Kept)."""
        known, used = self._known, set(self.entries)  # what the last run used (see next_run)
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

    @staticmethod
    def path_for(folder: Path, video_hosts=()) -> Path:
        return folder / f"markdown-{version(tuple(sorted(video_hosts)))}.pickle"

    def next_run(self) -> "MarkdownCache":
        """The same cache for another run in this process; only what the last run used is kept."""
        if self.used:
            self.entries = {k: v for k, v in self.entries.items() if k in self.used}
            self.used = set()
        return self

    def save(self) -> None:
        """Keep only the entries this run used, written atomically."""
        if not self.path or (not self.dirty and len(self.used) == len(self.entries)):
            return
        folder = self.path.parent
        for stale in [*folder.glob("markdown-*.pickle"), *folder.glob(".markdown-*.tmp-*")]:
            if stale != self.path:  # other versions, and temporary files of a run that was killed
                stale.unlink(missing_ok=True)
        if incremental.save_pickle(self.path, {k: v for k, v in self.entries.items() if k in self.used}):
            self.dirty = False
