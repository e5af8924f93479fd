"""Incremental builds: which pages a change touches.

Every page (a render :class:`~sitegen.render.Job`) lists the source files it reads: its records, the data
files, ``config.yaml``, the UI strings and static files, and the closure of templates its template
extends, includes or imports. After a build the *state* — the fingerprint of every source file and
the dependencies of every page — is saved in the cache folder. The next build compares fingerprints,
re-renders only the pages whose dependencies (before or after the change) intersect the changed files,
and reuses every other page of the previous output unchanged.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import jinja2.meta

STATE_VERSION = 2


@dataclass
class BuildState:
    key: str  # what must be equal for the previous output to be reused (versions, config, options)
    output_inode: int  # the output folder the state describes
    sources: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # rel → (mtime_ns, size, sha256)
    pages: dict[str, frozenset] = field(default_factory=dict)  # output file → its sources not in common
    owned: tuple = ()  # output folders written by post-write steps (the search index)
    common: frozenset = frozenset()  # sources every page depends on (config, base templates, UI strings …)
    files: frozenset = frozenset()  # the other files written (feeds, data, sitemap, assets)
    post_written: bool = True  # the post-write steps' folders match the pages (False after a preview rebuild)

    @classmethod
    def of(cls, key: str, output_inode: int, sources: dict, deps: dict[str, frozenset], owned: tuple,
           files: frozenset = frozenset(), post_written: bool = True) -> "BuildState":
        """The state of a build whose pages have ``deps``; what all of them share is kept once."""
        common = frozenset.intersection(*deps.values()) if deps else frozenset()
        return cls(key, output_inode, sources, {out: d - common for out, d in deps.items()}, owned, common,
                   frozenset(files) - deps.keys(), post_written)


def template_closure(env: jinja2.Environment, name: str, root: Path, memo: dict) -> frozenset:
    """The project-relative files of a template and of every template it pulls in."""
    if name in memo:
        return memo[name]
    memo[name] = frozenset()  # guards against cycles
    try:
        source, filename, _ = env.loader.get_source(env, name)
    except jinja2.TemplateNotFound:
        return frozenset()  # reported with its page when the page is rendered
    files = {Path(filename).resolve().relative_to(root).as_posix()}
    for ref in jinja2.meta.find_referenced_templates(env.parse(source)):
        if ref:  # None when the name is computed at run time: depend on every template then
            files |= template_closure(env, ref, root, memo)
        else:
            files |= {Path(p).resolve().relative_to(root).as_posix()
                      for d in env.loader.searchpath for p in Path(d).rglob("*") if p.is_file()}
    memo[name] = frozenset(files)
    return memo[name]


def fingerprint(root: Path, rels: list[str], previous: dict) -> dict[str, tuple[int, int, str]]:
    """(mtime, size, hash) of each file; the hash is reused when mtime and size are unchanged."""
    out = {}
    top = os.fspath(root)
    for rel in rels:
        path = os.path.join(top, rel)
        try:
            stat = os.stat(path)
        except OSError:
            continue
        old = previous.get(rel)
        if old and old[0] == stat.st_mtime_ns and old[1] == stat.st_size:
            out[rel] = old
        else:
            with open(path, "rb") as fh:
                out[rel] = (stat.st_mtime_ns, stat.st_size, hashlib.sha256(fh.read()).hexdigest())
    return out


def changed_files(old: dict, new: dict) -> set[str]:
    return {rel for rel in old.keys() | new.keys() if (old.get(rel) or (0, 0, ""))[2] != (new.get(rel) or (0, 0, ""))[2]}


def dirty(jobs, state: BuildState | None, changed: set[str]) -> list:
    """The jobs to render: new pages and pages whose old or new dependencies changed."""
    if state is None or not changed.isdisjoint(state.common):
        return list(jobs)
    out = []
    for job in jobs:
        old = state.pages.get(job.output)
        if old is None or not changed.isdisjoint(job.deps) or not changed.isdisjoint(old):
            out.append(job)
    return out


def load_state(path: Path, key: str, output: Path) -> BuildState | None:
    state = load_pickle(path)
    if not isinstance(state, BuildState) or state.key != key:
        return None
    try:
        if output.stat().st_ino != state.output_inode:
            return None
    except OSError:
        return None
    return state


def save_state(path: Path, state: BuildState) -> None:
    """Like :func:`save_pickle`, but a state that cannot be written is an error (OSError)."""
    if not save_pickle(path, state):
        raise OSError(f"{path}: the build state cannot be written")


_UNPICKLE_ERRORS = (OSError, pickle.PickleError, EOFError, AttributeError, ValueError, TypeError, ImportError,
                    IndexError)


def load_pickle(path: Path | None):
    """A cache file's object, or None when it is missing, unreadable or from an incompatible version."""
    try:
        return pickle.loads(path.read_bytes()) if path else None
    except _UNPICKLE_ERRORS:
        return None


def save_pickle(path: Path, value) -> bool:
    """Write a cache file atomically (a temporary file, then a rename); False where it cannot be written
    (a read-only project still builds, only without that cache)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        return False
    return True


@functools.cache
def code_version() -> str:
    """A hash of sitegen's own code: cached results of another version are never reused."""
    package = Path(__file__).parent
    return state_key(*[(p.name, p.read_bytes()) for p in sorted(package.glob("*.py"))])


def state_key(*parts) -> str:
    return hashlib.sha256(repr((STATE_VERSION, *parts)).encode("utf-8")).hexdigest()
