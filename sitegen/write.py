"""The write stage: build into a staging folder beside the output folder, then swap it in.

A build that fails (or is killed) never touches the previous output; stale staging folders from
an interrupted build are removed by the next one. An incremental build starts its staging folder as
hard links to the previous output, so unchanged pages cost no copying and keep their mtimes; a
changed page replaces its link, never the shared file. ``LiveOutput`` is the preview server's variant:
it replaces changed files in the served folder one by one, each atomically.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


class _Writer:
    dir: Path

    def path(self, rel: str) -> Path:
        target = (self.dir / rel).resolve()
        if self.dir.resolve() not in target.parents:
            raise ValueError(f"{rel!r} would be written outside the output folder")
        return target

    def write(self, rel: str, data: bytes) -> None:
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, target)  # a new inode: a hard-linked previous output is never modified

    def copy(self, rel: str, source: Path) -> None:
        self.write(rel, source.read_bytes())

    def prune(self, keep: set[str], keep_dirs: tuple[str, ...] = ()) -> list[str]:
        """Remove files not in ``keep`` (nor under ``keep_dirs``) and the folders left empty."""
        removed = []
        for path in sorted(self.dir.rglob("*"), reverse=True):
            rel = path.relative_to(self.dir).as_posix()
            if path.is_dir():
                if not any(path.iterdir()):
                    path.rmdir()
            elif rel not in keep and not rel.startswith(keep_dirs):
                path.unlink()
                removed.append(rel)
        return removed


class Staging(_Writer):
    """``with Staging(output) as stage: stage.write("a/index.html", b"…")`` — swapped in on success."""

    def __init__(self, output: Path, reuse: bool = False):
        self.output = output
        self.reuse = reuse
        self.dir = output.parent / f".{output.name}.staging-{os.getpid()}"
        self.old = output.parent / f".{output.name}.old-{os.getpid()}"

    def __enter__(self) -> "Staging":
        clean_stale(self.output)
        if self.reuse and self.output.is_dir():
            shutil.copytree(self.output, self.dir, copy_function=os.link, symlinks=True)
        else:
            self.dir.mkdir(parents=True)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        if self.output.exists():
            os.rename(self.output, self.old)
        os.rename(self.dir, self.output)
        remove_in_background(self.old)


class LiveOutput(_Writer):
    """Writes straight into the served output folder (``sitegen serve``), file by file."""

    def __init__(self, output: Path):
        self.output = self.dir = output

    def __enter__(self) -> "LiveOutput":
        self.dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc) -> None:
        return None


def remove_in_background(folder: Path) -> None:
    """Delete a replaced output tree without making the caller wait (deleting 20,000 files takes
    seconds); anything left behind is removed by the next build's :func:`clean_stale`."""
    if not folder.exists():
        return
    if os.name == "posix" and shutil.which("rm"):
        subprocess.Popen(["rm", "-rf", "--", str(folder)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    else:
        shutil.rmtree(folder, ignore_errors=True)


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
