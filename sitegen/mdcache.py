"""A persistent cache of rendered Markdown, keyed by the body's content hash.

The cache file lives in the project's cache folder (``cache_dir`` in config.yaml, default
``.sitegen-cache``). Its version covers the Markdown/nh3 versions and the renderer's own source, so a
change to the extensions or the sanitiser rules invalidates it. A missing or unreadable cache is
simply rebuilt; it never changes what is rendered.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import markdown as md_lib
import nh3

from . import markdown as md_stage
from .parallel import map_items

_renderer: md_stage.MarkdownRenderer | None = None


def version() -> str:
    source = Path(md_stage.__file__).read_bytes()
    text = f"{md_lib.__version__}|{getattr(nh3, '__version__', '')}|".encode() + source
    return hashlib.sha256(text).hexdigest()[:16]


def key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _render(text: str) -> md_stage.Rendered:
    global _renderer
    if _renderer is None:
        _renderer = md_stage.MarkdownRenderer()
    return _renderer.render(text)


class MarkdownCache:
    def __init__(self, folder: Path | None):
        self.path = folder / f"markdown-{version()}.pickle" if folder else None
        self.entries: dict[str, md_stage.Rendered] = {}
        self.used: set[str] = set()
        self.dirty = False
        if self.path and self.path.is_file():
            try:
                with self.path.open("rb") as fh:
                    self.entries = pickle.load(fh)
            except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError):
                self.entries = {}

    def render_all(self, texts: list[str]) -> list[md_stage.Rendered]:
        """Render every text, using the cache and rendering the misses on all cores."""
        keys = [key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in self.entries}.items())
        if missing:
            done = map_items(_render, [t for _, t in missing])
            self.entries.update((k, r) for (k, _), r in zip(missing, done))
            self.dirty = True
        self.used.update(keys)
        return [self.entries[k] for k in keys]

    def save(self) -> None:
        """Keep only the entries this run used, written atomically."""
        if not self.path or (not self.dirty and len(self.used) == len(self.entries)):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for stale in self.path.parent.glob("markdown-*.pickle"):
            if stale != self.path:
                stale.unlink(missing_ok=True)
        keep = {k: v for k, v in self.entries.items() if k in self.used}
        tmp = self.path.with_suffix(f".tmp-{os.getpid()}")
        with tmp.open("wb") as fh:
            pickle.dump(keep, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.path)
