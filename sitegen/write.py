"""The write stage: build into a staging folder beside the output folder, then swap it in.

A build that fails (or is killed) never touches the previous output; stale staging folders from
an interrupted build are removed by the next one. Nothing is written outside the output folder's
parent-level staging siblings.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


class Staging:
    """``with Staging(output) as stage: stage.write("a/index.html", b"…")`` — swapped in on success."""

    def __init__(self, output: Path):
        self.output = output
        self.dir = output.parent / f".{output.name}.staging-{os.getpid()}"
        self.old = output.parent / f".{output.name}.old-{os.getpid()}"
        self.count = 0

    def __enter__(self) -> "Staging":
        clean_stale(self.output)
        self.dir.mkdir(parents=True)
        return self

    def path(self, rel: str) -> Path:
        target = (self.dir / rel).resolve()
        if self.dir.resolve() not in target.parents:
            raise ValueError(f"{rel!r} would be written outside the output folder")
        return target

    def write(self, rel: str, data: bytes) -> None:
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.count += 1

    def copy(self, rel: str, source: Path) -> None:
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        self.count += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        if self.output.exists():
            os.rename(self.output, self.old)
        os.rename(self.dir, self.output)
        shutil.rmtree(self.old, ignore_errors=True)


def clean_stale(output: Path) -> None:
    """Remove staging/old folders left by builds that were interrupted."""
    parent = output.parent
    if not parent.is_dir():
        return
    if not output.exists():
        # A kill between the two renames of a swap leaves only the old tree: put it back.
        olds = sorted(parent.glob(f".{output.name}.old-*"))
        if olds:
            os.rename(olds[-1], output)
    for entry in parent.iterdir():
        if entry.name.startswith((f".{output.name}.staging-", f".{output.name}.old-")) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
