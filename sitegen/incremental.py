"""Incremental builds: which pages a change touches.

A page depends on the source files it reads: those every page reads (``config.yaml``, the UI strings and
static files, the navigation's pages), the closure of templates its template extends, includes or imports,
and its own (a render :class:`~sitegen.render.Job`'s ``deps``: its records, the data files, the records it
lists …). The three are kept apart, so each page's own set is small and shared by its two languages. After a
build the *state* — the fingerprint of every source file and the dependencies of every page — is saved in
the cache folder. The next build compares fingerprints, re-renders only the pages whose dependencies (before
or after the change) intersect the changed files, and reuses every other page of the previous output
unchanged.
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

STATE_VERSION = 3


@dataclass
class BuildState:
    key: str  # what must be equal for the previous output to be reused (versions, config, options)
    output_inode: int  # the output folder the state describes
    sources: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # rel → (mtime_ns, size, sha256)
    pages: dict[str, tuple[str, frozenset]] = field(default_factory=dict)  # output file → (template, its own deps)
    owned: tuple = ()  # output folders written by post-write steps (the search index)
    common: frozenset = frozenset()  # sources every page depends on (config, UI strings, the navigation …)
    files: frozenset = frozenset()  # the other files written (feeds, data, sitemap, assets)
    post_written: bool = True  # the post-write steps' folders match the pages (False after a preview rebuild)
    made: dict = field(default_factory=dict)  # file maker (module.name) → the files it wrote (see site.FILES)
    templates: dict[str, frozenset] = field(default_factory=dict)  # template → its closure (template_closure)


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


def fingerprint(root: Path, rels: list[str], previous: dict,
                recheck: set[str] | None = None) -> dict[str, tuple[int, int, str]]:
    """(mtime, size, hash) of each file; the hash is reused when mtime and size are unchanged.

    ``recheck``: the only files that may have changed since ``previous`` (a file watcher said so); the
    others keep their entry without a stat call."""
    out = {}
    top = os.fspath(root)
    for rel in rels:
        if recheck is not None and rel not in recheck:
            old = previous.get(rel)
            if old is not None:
                out[rel] = old
                continue
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


def changed_files(old: dict, new: dict, among=None) -> set[str]:
    """The sources whose hash differs (or that came or went); ``among``: the only ones that can have changed."""
    if among is not None:
        return {rel for rel in among if (old.get(rel) or (0, 0, ""))[2] != (new.get(rel) or (0, 0, ""))[2]}
    out = {rel for rel, value in new.items() if (was := old.get(rel)) is None or was[2] != value[2]}
    out.update(old.keys() - new.keys())
    return out


def refresh(root: Path, previous: dict, recheck: set[str], sources: list[str]) -> dict[str, tuple[int, int, str]]:
    """What :func:`fingerprint` returns for ``sources`` when only the files ``recheck`` can differ from
    ``previous`` (a file watcher said so) and every other entry of ``previous`` (derived sources included)
    is still right."""
    out = dict(previous)
    for rel in recheck:
        out.pop(rel, None)
    known = set(sources)
    out.update(fingerprint(root, sorted(rel for rel in recheck if rel in known), previous))
    return out


def users(jobs) -> dict[str, list[int]]:
    """Source → the indices of the jobs depending on it themselves (for :func:`dirty` with a plan used again)."""
    out: dict[str, list[int]] = {}
    for index, job in enumerate(jobs):
        for dep in job.deps:
            out.setdefault(dep, []).append(index)
    return out


def bodies_only(changed: set[str], old: dict, new: dict) -> bool:
    """Whether every changed source is a body: a record's Markdown file that both builds read and whose front
    matter (its ``@front:`` derived source, see sitegen.render.Plan.fronts) is unchanged, or an English body
    file both read. Not so for anything else: a file added or removed, a template, a data file, a derived
    source (front matter, the time of the build …)."""
    return all(not rel.startswith("@") and rel in old and rel in new
               and (rel.endswith(".en.md") or "@front:" + rel in new) for rel in changed)


def dirty(jobs, state: BuildState | None, changed: set[str], common: frozenset, templates: dict,
          by_source: dict | None = None) -> list:
    """The jobs to render: new pages and pages whose old or new dependencies changed.

    A page depends on the ``common`` sources (every page does), on the closure of its template (``templates``:
    template → :func:`template_closure`) and on its own ``job.deps``; the state holds the same three of the
    previous build. ``by_source``: :func:`users` of ``jobs``, when ``state`` was made by a build of these
    very jobs (a preview's kept plan), whose old and new dependencies are then the same."""
    if state is None or not changed.isdisjoint(common) or not changed.isdisjoint(state.common):
        return list(jobs)
    touched = {name for closures in (templates, state.templates) for name, files in closures.items()
               if not changed.isdisjoint(files)}
    if by_source is not None:
        indices = {i for rel in changed for i in by_source.get(rel, ())}
        return [job for i, job in enumerate(jobs) if i in indices or job.template in touched]
    out = []
    for job in jobs:
        old = state.pages.get(job.output)
        if (old is None or job.template in touched or old[0] != job.template or not changed.isdisjoint(job.deps)
                or not changed.isdisjoint(old[1])):
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


def save_pickle(path: Path, value, apart: bool = False) -> bool:
    """Write a cache file atomically (a temporary file, then a rename); False where it cannot be written
    (a read-only project still builds, only without that cache).

    ``apart``: pickle in a forked child process. Pickling a string stores its UTF-8 form inside it (CPython
    keeps the encoding with the object), so pickling the records in the build's own process left a UTF-8 copy
    of all their text there: 37 MiB at 10,000 records, for the rest of the build."""
    if apart and hasattr(os, "fork"):
        pid = os.fork()
        if pid == 0:  # the child: write and leave at once (no cleanup of the parent's objects)
            try:
                code = 0 if save_pickle(path, value) else 1
            except BaseException:  # noqa: BLE001 - reported by the exit status
                code = 2
            os._exit(code)
        status = os.waitpid(pid, 0)[1]
        if os.waitstatus_to_exitcode(status) == 2:  # not an OSError: find out what in this process
            return save_pickle(path, value)
        return os.waitstatus_to_exitcode(status) == 0
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:  # streamed: no copy of a state of tens of MB in memory
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
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
