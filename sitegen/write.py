"""The write stage: build into a staging folder beside the output folder, then swap it in.

A build that fails (or is killed) never touches the previous output; stale staging folders from
an interrupted build are removed by the next one. An incremental build starts its staging folder as
hard links to the previous output, so unchanged pages cost no copying and keep their mtimes; a
changed page replaces its link, never the shared file. ``LiveOutput`` is the preview server's variant:
it replaces changed files in the served folder one by one, each atomically.

The spare tree: the tree a swap replaces is not deleted but kept beside the output as ``.<output>.spare``.
The next incremental build takes it as its staging folder and makes it equal to the output with
:func:`mirror` — one walk of both trees, comparing inode numbers that the directory entries carry, and a new
link only where they differ (the files the previous build wrote) — instead of cloning every folder of the
output again (a ``mkdir`` per folder costs: 27,840 of them took 4.8 s of a 6 s clone at 10,000 records).
Nothing is trusted about the spare but its name: whatever it holds (an older build, a half-mirrored tree of
a killed build, files added by hand), the mirror leaves exactly the output's files in it. It is claimed by
renaming it to the build's staging name, so two builds never share it, and a build that fails deletes it
like any staging folder.

Crash safety (issue 9), at every moment of a build killed with SIGKILL:

* before the swap, ``output/`` is the previous build, untouched (the staging folder shares its files'
  inodes at most, and every write makes a new inode);
* the swap is one ``renameat2(RENAME_EXCHANGE)`` on Linux: ``output/`` is the old tree or the new
  one, never missing. Elsewhere (or on a file system without it) it is two renames; a kill between
  them leaves the old tree as ``.output.old-…``, which the next build puts back before anything else;
* folders left behind (``.output.staging-<pid>-…``, ``.output.old-<pid>-…``) are removed by the next
  build, unless the process that made them is still running (a concurrent build).

Test hooks (environment variables read by this module only): ``SITEGEN_TEST_PAUSE_AFTER=N`` makes the
writer stop for good after its N-th file (per process: rendering workers count their own files);
``SITEGEN_TEST_PAUSE_AT=swap`` stops between the two halves of the swap;
``SITEGEN_TEST_NO_EXCHANGE=1`` uses the two renames even where the atomic exchange exists. A pause prints
``sitegen: test pause …`` on stderr first, so a test knows when to kill the build.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from .errors import SitegenError

PAUSE_AFTER = "SITEGEN_TEST_PAUSE_AFTER"
PAUSE_AT = "SITEGEN_TEST_PAUSE_AT"
NO_EXCHANGE = "SITEGEN_TEST_NO_EXCHANGE"
_written = 0  # files written by this process (for PAUSE_AFTER)


class UnsafeOutputPath(SitegenError, ValueError):
    """A path that would be written outside the output folder (refused, never written)."""


def test_pause(reason: str) -> None:
    """Stop this process for good (a test kills it); see the module's docstring."""
    print(f"sitegen: test pause {reason} (pid {os.getpid()})", file=sys.stderr, flush=True)
    while True:
        time.sleep(3600)


class _Writer:
    dir: Path
    listing: list[str] | None = None  # every file of the folder as it started (see Staging), when known
    # The folder was made empty by this build and is seen by no one else until it is swapped in: a file is
    # written in place. Otherwise each file is written beside its target and renamed over it, so that a file
    # hard-linked from the previous output, or served, is never modified or seen half-written.
    fresh: bool = False

    def path(self, rel: str) -> Path:
        """Where ``rel`` is written: resolved (links followed), and refused unless it is inside the folder.
        String work (``os.path.realpath``): ``Path.resolve`` and ``Path.parents`` cost 90 µs a file, 3 s of
        27,840 pages."""
        if "\x00" in rel or os.path.isabs(rel) or (os.name == "nt" and ":" in rel):
            raise UnsafeOutputPath(f"{rel!r} would be written outside the output folder")
        top = os.path.realpath(self.dir)
        target = os.path.realpath(os.path.join(top, rel))
        if not target.startswith(top.rstrip(os.sep) + os.sep):
            raise UnsafeOutputPath(f"{rel!r} would be written outside the output folder")
        return Path(target)

    def write(self, rel: str, data: bytes | Iterable[bytes]) -> None:
        """Write a file: its bytes, or an iterable of its parts (a large file made a part at a time)."""
        global _written
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target if self.fresh else target.with_name(f".{target.name}.tmp-{os.getpid()}")
        if isinstance(data, (bytes, bytearray)):
            tmp.write_bytes(data)
        else:
            with open(tmp, "wb") as fh:
                for part in data:
                    fh.write(part)
        if tmp is not target:
            os.replace(tmp, target)  # a new inode: a hard-linked previous output is never modified
        _written += 1
        if os.environ.get(PAUSE_AFTER) == str(_written):
            test_pause(f"after {_written} files written into {self.dir.name}")

    def copy(self, rel: str, source: Path) -> None:
        self.write(rel, source.read_bytes())

    def prune(self, keep: set[str], keep_dirs: tuple[str, ...] = ()) -> list[str]:
        """Remove files not in ``keep`` (nor under ``keep_dirs``) and the folders left empty; return the
        removed files, sorted. When the folder started as a copy of the output, the files it started with are
        known (``listing``: a build adds only files it keeps); else one ``os.walk`` (its directory entries
        carry their type: no stat per file)."""
        if self.listing is not None:
            return self.remove(sorted(rel for rel in self.listing if rel not in keep and not rel.startswith(keep_dirs)))
        removed = []
        emptied: set[str] = set()
        top = str(self.dir)
        for folder, dirs, files in os.walk(top, topdown=False):
            rel_folder = os.path.relpath(folder, top).replace(os.sep, "/")
            prefix = "" if rel_folder == "." else rel_folder + "/"
            left = False
            for name in files:  # links to folders are listed in dirs: see below
                rel = prefix + name
                if rel in keep or rel.startswith(keep_dirs):
                    left = True
                else:
                    os.unlink(os.path.join(folder, name))
                    removed.append(rel)
            for name in dirs:
                path = os.path.join(folder, name)
                if os.path.islink(path):  # a link is removed like a file, never followed
                    rel = prefix + name
                    if rel in keep or rel.startswith(keep_dirs):
                        left = True
                    else:
                        os.unlink(path)
                        removed.append(rel)
                elif prefix + name not in emptied:
                    left = True
            if not left and prefix:
                os.rmdir(folder)
                emptied.add(rel_folder)
        return sorted(removed)


    def remove(self, rels: list[str]) -> list[str]:
        """Remove these files (where they exist) and the folders they leave empty; return ``rels``."""
        for rel in rels:
            path = self.path(rel)
            path.unlink(missing_ok=True)
            folder = path.parent
            while folder != self.dir and self.dir in folder.parents:
                try:
                    folder.rmdir()
                except OSError:  # not empty (or already gone with a sibling): stop here
                    break
                folder = folder.parent
        return rels


class Staging(_Writer):
    """``with Staging(output) as stage: stage.write("a/index.html", b"…")`` — swapped in on success."""

    def __init__(self, output: Path, reuse: bool = False):
        self.output = output
        self.reuse = reuse
        # Unique per build, not only per process: a process that builds twice (the Python API, tests)
        # must not meet the previous build's folder while it is still being deleted in the background.
        tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.dir = output.parent / f".{output.name}.staging-{tag}"
        self.old = output.parent / f".{output.name}.old-{tag}"

    def __enter__(self) -> "Staging":
        clean_stale(self.output)
        if self.reuse and self.output.is_dir():
            self.listing = []
            if claim_spare(self.output, self.dir):
                mirror(self.output, self.dir, self.listing)
            else:
                link_tree(self.output, self.dir, self.listing)
        else:
            self.dir.mkdir(parents=True)
            self.fresh = True
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            return
        if not self.output.exists():
            os.rename(self.dir, self.output)
            return
        if exchange(self.dir, self.output):
            # output/ is the new tree, the staging name holds the old one.
            if os.environ.get(PAUSE_AT) == "swap":
                test_pause("after swapping the new output in (the old tree is in the staging folder)")
            keep_spare(self.dir, self.output)
            return
        os.rename(self.output, self.old)
        if os.environ.get(PAUSE_AT) == "swap":
            test_pause("between the two renames of the swap (output/ is missing until the next build)")
        os.rename(self.dir, self.output)
        keep_spare(self.old, self.output)


class LiveOutput(_Writer):
    """Writes straight into the served output folder (``sitegen serve``), file by file."""

    def __init__(self, output: Path):
        self.output = self.dir = output

    def __enter__(self) -> "LiveOutput":
        self.dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc) -> None:
        return None


def link_tree(source: Path | str, target: Path | str, listing: list[str] | None = None, prefix: str = "") -> None:
    """A copy of the folder ``source`` whose files are hard links to its files (links are linked, not followed).

    What ``shutil.copytree(copy_function=os.link, symlinks=True)`` makes, without copying each folder's
    times and permissions (the folders are new, as in a build from scratch): 1.4 s instead of 6.6 s for the
    27,840 folders of a 10,000-record site, where each metadata call costs. ``listing`` receives the
    ``source``-relative path of every file and link (with ``prefix`` in front)."""
    os.mkdir(target)
    with os.scandir(source) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                link_tree(entry.path, os.path.join(target, entry.name), listing, f"{prefix}{entry.name}/")
            else:
                os.link(entry.path, os.path.join(target, entry.name), follow_symlinks=False)
                if listing is not None:
                    listing.append(prefix + entry.name)


def mirror(source: Path | str, target: Path | str, listing: list[str] | None = None, prefix: str = "") -> int:
    """Make the folder ``target`` what :func:`link_tree` would make of ``source``, changing only what differs:
    an entry of ``target`` whose inode is not its namesake's in ``source`` is linked again, one that ``source``
    lacks is removed, a missing folder is linked whole. Directory entries carry their inode and type, so
    unchanged files cost no system call. Returns the number of entries changed; ``listing`` as for link_tree."""
    with os.scandir(target) as entries:
        have = {entry.name: entry for entry in entries}
    changed = 0
    with os.scandir(source) as entries:
        for entry in entries:
            name = entry.name
            mine = have.pop(name, None)
            path = os.path.join(target, name)
            if entry.is_dir(follow_symlinks=False):
                if mine is not None and mine.is_dir(follow_symlinks=False):
                    changed += mirror(entry.path, path, listing, f"{prefix}{name}/")
                    continue
                _discard(mine)
                link_tree(entry.path, path, listing, f"{prefix}{name}/")
            else:
                if listing is not None:
                    listing.append(prefix + name)
                if mine is not None and mine.inode() == entry.inode():
                    continue
                _discard(mine)
                os.link(entry.path, path, follow_symlinks=False)
            changed += 1
    for mine in have.values():  # not in source
        _discard(mine)
        changed += 1
    return changed


def _discard(entry: os.DirEntry | None) -> None:
    """Remove a directory entry: a folder with its contents, anything else (a link too) by unlinking it."""
    if entry is None:
        return
    if entry.is_dir(follow_symlinks=False):
        shutil.rmtree(entry.path)
    else:
        os.unlink(entry.path)


def spare_path(output: Path) -> Path:
    """Where the tree replaced by the last swap is kept for the next incremental build (see the module's notes)."""
    return output.parent / f".{output.name}.spare"


def claim_spare(output: Path, folder: Path) -> bool:
    """Take the spare tree as the staging ``folder`` (a rename: no other build can take it then); False when
    there is none (a first incremental build, a concurrent build took it) or it is not a plain folder."""
    spare = spare_path(output)
    try:
        if not stat.S_ISDIR(os.lstat(spare).st_mode):
            return False
        os.rename(spare, folder)
    except OSError:
        return False
    if stat.S_ISDIR(os.lstat(folder).st_mode):
        return True
    os.unlink(folder)  # replaced by a link between the check and the rename: never followed
    return False


def keep_spare(folder: Path, output: Path) -> None:
    """Keep the replaced tree ``folder`` as the spare (deleting it in the background where one is there already:
    a concurrent build's)."""
    try:
        os.rename(folder, spare_path(output))
    except OSError:
        remove_in_background(folder)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False where that is
    not available (another system, an old kernel or C library, a file system without it)."""
    if not sys.platform.startswith("linux") or os.environ.get(NO_EXCHANGE):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


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


def _pid(tag: str) -> int | None:
    """The process id at the start of ``<pid>-<random>`` (or a bare ``<pid>`` from older versions)."""
    head = tag.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _running(pid: int | None) -> bool:
    """Whether another process with this id runs (never true of this process: its own leftovers are stale)."""
    if pid is None or pid == os.getpid() or os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True


def clean_stale(output: Path) -> None:
    """Remove staging/old folders left by builds that were interrupted (and put a lost output back)."""
    parent = output.parent
    if not parent.is_dir():
        return
    staging, old = f".{output.name}.staging-", f".{output.name}.old-"
    leftovers = [(entry, entry.name[len(prefix):]) for entry in parent.iterdir() for prefix in (staging, old)
                 if entry.name.startswith(prefix) and entry.is_dir() and not entry.is_symlink()]
    stale = [entry for entry, tag in leftovers if not _running(_pid(tag))]
    if not output.exists():
        # A kill between the two renames of a swap leaves only the old tree: put it back.
        olds = [entry for entry in stale if entry.name.startswith(old)]
        if olds:
            newest = max(olds, key=lambda entry: entry.stat().st_mtime_ns)
            os.rename(newest, output)
            stale.remove(newest)
    for entry in stale:
        shutil.rmtree(entry, ignore_errors=True)


def scratch_folder(prefix: str, parent: Path | None = None) -> Path:
    """A new temporary folder ``<parent>/<prefix><pid>-…`` for work that a kill may interrupt; the ones
    of processes that no longer run (killed before they could delete theirs) are removed first."""
    parent = Path(parent or tempfile.gettempdir())
    for entry in parent.glob(f"{prefix}*"):
        try:
            mine = entry.is_dir() and not entry.is_symlink() and entry.stat().st_uid == os.getuid()
        except (OSError, AttributeError):
            mine = False
        if mine and not _running(_pid(entry.name[len(prefix):])) and _pid(entry.name[len(prefix):]):
            shutil.rmtree(entry, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
