"""The search stage: a static Pagefind index of the staged output, one index per language.

:func:`post_write` (a ``site.POST_WRITE`` hook) runs after every page is written into the staging
folder and before the folder is swapped in, so a published site and its index always match.
Pagefind (PyPI ``pagefind[extended]``) reads copies of the built pages:

* only elements marked ``data-pagefind-body`` are indexed — an advance's header (title, English
  title, summary), organisations, keywords and body; a lecture's title, summary, speakers, host,
  keywords and abstract; a news item's title, summary and body — and ``data-pagefind-ignore`` leaves
  out badges and notices, so navigation, related-advance lists and UI strings never match a query;
  the Chinese fallback body of an English page is not indexed either;
* hidden ``data-pagefind-filter`` values (``type``, ``year``, ``list``, top-level ``category``; see
  templates/_search.html) drive the search page's filters;
* pages are split by ``<html lang>``: ``zh-cn`` for the Chinese site, ``en`` for ``/en/``; the search
  page of each language loads its own index;
* Chinese is indexed one character per entry and queried as exact phrases (see below).

The bundle lives at the site root (:func:`sitegen.urls.search_bundle`) for both languages.
Pagefind writes its filter and metadata files in hash-map order; :func:`canonicalise` sorts them
and names them by content so that two builds stay byte-identical.

Without a Pagefind binary the build still succeeds: :func:`index` returns a report with a warning
(printed by ``sitegen build``), and the search page (planned with ``search_available=False``) tells
visitors that search is unavailable.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from . import incremental, urls
from .theme import LANGS
from .errors import SitegenError
from .write import scratch_folder
from .parallel import imap_items, map_items, workers

BINARY_ENV = "PAGEFIND_BINARY_PATH"  # the variable Pagefind's own Python wrapper honours
INSTALL_HINT = "pip install 'pagefind[extended]'"
_HEADER = b"pagefind_dcd"
# Pagefind's ready-made interfaces and its on-page highlighter: the theme's search.js talks to pagefind.js
# directly, so these ~420 KB are not published.
UNUSED = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-component-ui.js", "pagefind-component-ui.css",
          "pagefind-modular-ui.js", "pagefind-modular-ui.css", "pagefind-highlight.js")


class SearchError(SitegenError):
    """Pagefind ran but failed; the previous output stays as it was."""


@dataclass
class SearchReport:
    available: bool
    languages: dict[str, int] = field(default_factory=dict)  # Pagefind language → pages indexed
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (problem, fix)
    indexed_parts: int = 0  # parts (re)indexed by this run
    parts: int = 0


def find_binary() -> Path | None:
    """The Pagefind executable: ``$PAGEFIND_BINARY_PATH``, else the extended wheel, the plain wheel, PATH."""
    if BINARY_ENV in os.environ:
        path = Path(os.environ[BINARY_ENV])
        return path if path.is_file() and os.access(path, os.X_OK) else None
    for module in ("pagefind_bin_extended", "pagefind_bin"):
        try:
            found = __import__(module).get_executable()
        except (ImportError, FileNotFoundError, AttributeError):
            continue
        if found and Path(found).is_file():
            return Path(found)
    for name in ("pagefind_extended", "pagefind"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def available() -> bool:
    return find_binary() is not None


# --- partitions: the index in parts that are rebuilt only when one of their pages changed ----------------
# Pagefind rebuilds an index whole. A large site's index is therefore cut into parts of about PART_SIZE pages
# (a page's part follows from a hash of its path, so it never moves while the number of parts stays the
# same), each a Pagefind bundle of its own, merged in the browser by search.js (Pagefind's mergeIndex).
# A build re-indexes only the parts whose pages changed; the others are kept from the previous output.
# A site of up to PART_SIZE indexed pages has one part: the bundle itself, as without partitions.

PART_SIZE = 2000
PART_SIZE_ENV = "SITEGEN_SEARCH_PART_SIZE"  # overrides PART_SIZE (tests use small parts on a small site)
INDEX_CACHE = "search-index.pickle"


def part_count(indexed_pages: int) -> int:
    """How many parts an index of this many pages has: a power of two, at most PART_SIZE pages each."""
    size = os.environ.get(PART_SIZE_ENV, "")
    size = int(size) if size.isdigit() and int(size) > 0 else PART_SIZE
    parts = 1
    while indexed_pages > parts * size:
        parts *= 2
    return parts


def part_folders(parts: int) -> list[str]:
    """The bundle-relative folder of each part ("" for a one-part index)."""
    return [""] if parts == 1 else [f"part-{i}/" for i in range(parts)]


def part_of(rel: str, parts: int) -> int:
    """The part of a page: from its route without the language, so that both languages of a record are in
    the same part (an edit re-indexes one part)."""
    for prefix in urls.LANG_PREFIX.values():
        if prefix and rel.startswith(prefix):
            rel = rel[len(prefix):]
            break
    return zlib.crc32(rel.encode("utf-8")) % parts


@dataclass
class IndexCache:
    """What the previous index was made of (kept in the cache folder; see :func:`index`)."""

    folder_inode: int  # the output folder holding that index
    parts: int
    pages: dict  # output-relative page → ((inode, size, mtime_ns), sha256 of the page, or None: not indexed)
    signatures: dict  # part folder → hash of its pages and their hashes
    sizes: dict = field(default_factory=dict)  # part folder → (files, bytes) of its bundle


def _load_cache(path: Path | None) -> IndexCache | None:
    cache = incremental.load_pickle(path)
    return cache if isinstance(cache, IndexCache) and hasattr(cache, "sizes") else None


def page_digest(data: bytes) -> str | None:
    """The sha256 of a page that has indexed parts (None: Pagefind ignores the page)."""
    return hashlib.sha256(data).hexdigest() if b"data-pagefind-body" in data else None


def _page_hash(page: Path) -> str | None:
    return page_digest(page.read_bytes())


class Copies:
    """The indexing copies (see :func:`split_page`) of the pages a build renders, made by the worker that renders
    each page, while it holds the page: the search stage then moves them into place instead of reading every
    page back and splitting it in the main process (at 10,000 records: 20,000 pages, about 480 MB through the
    workers' pipes). A copy that cannot be kept (no Pagefind, a full memory-backed folder) is simply missing:
    :func:`write_documents` makes it from the page, as for the pages this build did not render.

    Kept in a scratch folder (memory-backed /dev/shm where there is one) until :meth:`close`. They never take the
    last quarter of that file system (nor its last 64 MiB): /dev/shm is shared memory that other programs (a
    browser) need; past that point the copies are made from the pages, a part at a time, as before."""

    RESERVE = 64 * 2**20  # bytes left free at least, besides a quarter of the file system

    def __init__(self, enabled: bool = True):
        self.folder = scratch_folder("sitegen-copies-", _scratch_parent()) if enabled and available() else None
        self.full = False  # in this process: a copy could not be written, the next ones are not tried
        self._kept: set[str] | None = None  # in the main process, once rendering is over: see has

    @staticmethod
    def name(rel: str) -> str:
        return hashlib.sha1(rel.encode("utf-8")).hexdigest() + ".html"

    def add(self, rel: str, data: bytes) -> str | None:
        """In the worker that rendered the page ``rel``: keep its indexing copy; return :func:`page_digest`."""
        digest = page_digest(data)
        if digest is None or self.folder is None or self.full:
            return digest
        path = self.folder / self.name(rel)
        try:
            self.full = self._nearly_full(4 * len(data))  # the copy is at most twice the page's UTF-8
            if not self.full:
                path.write_text(split_page(data.decode("utf-8")), encoding="utf-8")
        except OSError:  # e.g. /dev/shm is full: this process keeps no more copies
            self.full = True
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass
        return digest

    def _nearly_full(self, size: int) -> bool:
        room = os.statvfs(self.folder)
        return (room.f_bavail - room.f_blocks // 4) * room.f_frsize < self.RESERVE + size

    def names(self) -> set[str]:
        """The copies that were kept (file names: see :meth:`name`)."""
        try:
            return set(os.listdir(self.folder)) if self.folder is not None else set()
        except OSError:
            return set()

    def has(self, rel: str) -> bool:
        """Whether the page ``rel`` has a copy (asked once rendering is over: the folder is listed once)."""
        if self._kept is None:
            self._kept = self.names()
        return self.name(rel) in self._kept

    def take(self, rel: str, target: Path) -> None:
        """Move the copy of ``rel`` (see :meth:`has`) to ``target`` (a rename where both are in one file system)."""
        name = self.name(rel)
        shutil.move(self.folder / name, target)
        self._kept.discard(name)

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> "Copies":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def index(folder: Path, binary: Path | None = None, parts: int = 1, cache_path: Path | None = None,
          reuse_from: Path | None = None, pages: list[str] | None = None,
          written: set[str] | None = None, rendered: dict | None = None,
          copies: Copies | None = None) -> SearchReport:
    """Index the built site in ``folder`` into ``folder/pagefind/`` (in ``parts`` parts).

    With ``cache_path``, the parts whose pages are unchanged since the index recorded there are kept —
    provided ``folder`` started as a copy of ``reuse_from``, the output folder that index was written to.
    ``pages``: the ``.html`` files of ``folder`` (output-relative), when the caller knows them (else a walk
    finds them); ``written``: the only files written into ``folder`` since it was that copy (else each page's
    inode, size and mtime are compared with the recorded ones); ``rendered``: page → :func:`page_digest` of the
    pages this build rendered (not read again); ``copies``: their indexing copies (see :class:`Copies`).
    """
    folder = folder.resolve()
    binary = binary or find_binary()
    bundle = folder / urls.search_bundle()
    if binary is None:
        shutil.rmtree(bundle, ignore_errors=True)  # a kept index would no longer match the search page
        return SearchReport(False, warnings=[(
            "Pagefind was not found, so the site was built without a search index and its search page says "
            "search is unavailable", f"install it with {INSTALL_HINT} (or set {BINARY_ENV} to its executable)")])
    started = time.perf_counter()
    previous = _load_cache(cache_path)
    try:
        reusable = (previous is not None and reuse_from is not None and previous.parts == parts
                    and previous.folder_inode == reuse_from.stat().st_ino and bundle.is_dir())
    except OSError:
        reusable = False
    if not reusable:
        shutil.rmtree(bundle, ignore_errors=True)
        previous = None
    # Each page's hash; a page not written since the recorded index (or whose inode, size and mtime are those
    # recorded) is not read again.
    known = previous.pages if previous else {}
    if pages is None:
        pages = html_pages(folder, skip={DOCUMENTS, urls.search_bundle().strip("/")})
    entries: dict = {}
    unread = []
    rendered = rendered or {}
    for rel in pages:
        if written is not None and rel not in written and rel in known:
            entries[rel] = known[rel]
            continue
        st = os.stat(os.path.join(folder, rel))
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        if rel in rendered:
            entries[rel] = (key, rendered[rel])
        elif rel in known and known[rel][0] == key:
            entries[rel] = known[rel]
        else:
            entries[rel] = (key, None)
            unread.append(rel)
    for rel, digest in zip(unread, map_items(_page_hash, [folder / rel for rel in unread])):
        entries[rel] = (entries[rel][0], digest)
    indexed = [rel for rel in sorted(entries) if entries[rel][1]]
    if not indexed:
        shutil.rmtree(bundle, ignore_errors=True)
        return SearchReport(False, warnings=[(
            "no page has searchable parts (data-pagefind-body), so no search index was written",
            "add advances, lectures or news; a theme of your own marks the searchable parts of its templates "
            "with data-pagefind-body")])
    folders = part_folders(parts)
    groups: dict[str, list[str]] = {name: [] for name in folders}
    for rel in indexed:
        groups[folders[part_of(rel, parts)]].append(rel)
    signatures = {name: hashlib.sha256("\n".join(f"{rel} {entries[rel][1]}" for rel in rels).encode()).hexdigest()
                  for name, rels in groups.items()}
    dirty = [name for name in folders if not (
        previous and previous.signatures.get(name) == signatures[name] and name in previous.sizes
        and (bundle / name / "pagefind.js").is_file())]

    todo = [name for name in dirty if groups[name]]  # an empty part: no bundle (search_parts leaves it out)
    for name in todo:
        if (bundle / name).exists():
            shutil.rmtree(bundle / name)  # hard links to the published index: unlinked, never written into
    warnings = _index_parts(binary, folder, [(groups[name], bundle / name) for name in todo], copies)
    languages: dict[str, int] = {}
    sizes: dict = {}
    for name in folders:
        if not groups[name]:
            continue
        part = bundle / name
        entry = json.loads((part / "pagefind-entry.json").read_text(encoding="utf-8"))
        for lang, info in entry["languages"].items():
            languages[lang] = languages.get(lang, 0) + info["page_count"]
        sizes[name] = previous.sizes[name] if name not in dirty else _size(part)
    if cache_path is not None:  # without it the next build indexes every part again
        incremental.save_pickle(cache_path, IndexCache(folder.stat().st_ino, parts, entries, signatures, sizes))
    return SearchReport(True, dict(sorted(languages.items())), sum(n for n, _ in sizes.values()),
                        sum(b for _, b in sizes.values()), time.perf_counter() - started,
                        list(dict.fromkeys(warnings)), len(dirty), len(folders))


def _size(part: Path) -> tuple[int, int]:
    """(files, bytes) of a part's bundle."""
    sizes = [p.stat().st_size for p in part.rglob("*") if p.is_file()]
    return len(sizes), sum(sizes)


def _scratch_parent() -> Path | None:
    """Where indexing copies are kept: memory-backed /dev/shm where there is one (creating and deleting thousands
    of small files on disk costs more than indexing them), else the temporary folder."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else None


def _index_parts(binary: Path, folder: Path, parts: list[tuple[list[str], Path]],
                 copies: Copies | None = None) -> list[tuple[str, str]]:
    """Index each (pages, bundle folder) of ``parts``; their warnings, in order.

    One Pagefind process uses about 1.6 of two cores, so as many run at once as there are workers: while one
    indexes a part, the next part's indexing copies are put in place."""
    if not parts:
        return []
    # Named after this process, so that the next build removes the copies of a build that was killed.
    scratch = scratch_folder("sitegen-search-", _scratch_parent())
    warnings: list = []
    running: list = []
    try:
        for number, (pages, part) in enumerate(parts):
            documents = scratch / str(number) / DOCUMENTS
            write_documents(folder, documents, pages, copies)
            running.append((_start(binary, documents, part), documents, part))
            if len(running) >= workers():
                warnings.extend(_finish_part(*running.pop(0)))
        while running:
            warnings.extend(_finish_part(*running.pop(0)))
    finally:
        for proc, _, _ in running:  # an error: stop the others
            proc.kill()
            proc.wait()
        shutil.rmtree(scratch, ignore_errors=True)
    return warnings


def _finish_part(proc: subprocess.Popen, documents: Path, part: Path) -> list[tuple[str, str]]:
    """Wait for a Pagefind run (see :func:`_start`), remove its copies, make its bundle deterministic;
    its warnings."""
    try:
        log = _wait(proc, documents.parent / "pagefind.log", part)
    finally:
        shutil.rmtree(documents.parent, ignore_errors=True)  # at once: /dev/shm is memory
    warnings = []
    if "(Extended)" not in log:
        warnings.append(("this is not Pagefind's extended build, which sitegen's Chinese search is made and "
                         "tested with", f"install the extended build with {INSTALL_HINT}"))
    try:
        canonicalise(part)
    except UnknownFormat as exc:
        warnings.append((f"{exc}: this Pagefind version writes files sitegen cannot put in a stable order, so "
                         "the search index differs between two builds of the same input",
                         "install the Pagefind version pinned in .ci/requirements-qa.txt"))
    for name in UNUSED:
        (part / name).unlink(missing_ok=True)
    return warnings


def _start(binary: Path, documents: Path, bundle: Path) -> subprocess.Popen:
    # Run inside the documents folder with no PAGEFIND_* settings, so no pagefind.yml or environment
    # variable of the machine changes what is indexed. Its log goes to a file: two runs at once never block
    # on a full pipe.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAGEFIND_")}
    try:
        with open(documents.parent / "pagefind.log", "wb") as log:
            return subprocess.Popen([str(binary), "--site", ".", "--output-path", str(bundle)], cwd=documents,
                                    env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    except OSError as exc:
        raise SearchError(f"search: could not run Pagefind ({binary}): {exc}") from None


def _wait(proc: subprocess.Popen, log_path: Path, bundle: Path) -> str:
    """The log of a Pagefind run (started by :func:`_start`); SearchError when it failed."""
    returncode = proc.wait()
    log = log_path.read_bytes().decode("utf-8", "replace")
    if returncode != 0 or not (bundle / "pagefind.js").is_file():
        tail = "\n".join(log.strip().splitlines()[-8:])
        raise SearchError(f"search: Pagefind failed (exit status {returncode}); nothing was published:\n{tail}")
    return log


# --- Chinese: one index entry per character ----------------------------------------------------------
# Pagefind's extended build splits Chinese into dictionary words when it indexes, but the browser splits
# the query with Intl.Segmenter, whose dictionary differs: 数控机床 is one word to the browser and
# 数控|机床 to the indexer, 机器人 is 机器|人, so plain queries both miss pages and match pages that
# have the parts apart. sitegen therefore indexes copies of the pages ("search documents") in which
# every CJK character stands alone (separated by U+200B ZERO WIDTH SPACE, which Pagefind splits on and
# which stays invisible in excerpts), and search.js looks a Chinese term up as an exact phrase of its
# characters: a page matches exactly when its indexed text contains the term, whatever any dictionary
# says. The published pages are not changed.

DOCUMENTS = ".pagefind-documents"  # inside the staging folder while indexing, removed afterwards
ZWSP = "\u200b"
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_BOUNDARY = re.compile(f"(?<=[{_CJK}])(?=\\S)|(?<=\\S)(?=[{_CJK}])")
_HAS_CJK = re.compile(f"[{_CJK}]")


def split_cjk(text: str) -> str:
    """``工业机器人 5G工厂`` → ``工|业|机|器|人 5G|工|厂`` with ``|`` being U+200B."""
    return _BOUNDARY.sub(ZWSP, text) if _HAS_CJK.search(text) else text


# The same split applied to a page: only text between tags (attribute values such as filters stay intact),
# and only from the first Pagefind attribute to the end of <main> (Pagefind reads nothing else of a page that
# has data-pagefind-body). Each run of CJK characters is joined with U+200B in C, and padded where it touches
# other text (not white space, a tag or the end of the text): the result equals split_cjk per text run, at
# half the cost of padding every character and removing the pads that are not wanted.
_TAG = re.compile(r"(<[^>]*>)")
_CJK_RUN = re.compile(f"[{_CJK}]+")


def _split_run(match: re.Match) -> str:
    text, start, end = match.string, match.start(), match.end()
    out = ZWSP.join(match.group())
    if start > 0 and not text[start - 1].isspace() and text[start - 1] not in "<>":
        out = ZWSP + out
    if end < len(text) and not text[end].isspace() and text[end] not in "<>":
        out += ZWSP
    return out


def split_page(html: str) -> str:
    """A page's indexing copy: :func:`split_cjk` applied to the text of its indexed region."""
    start = html.find("data-pagefind-")
    if start < 0:
        return html
    start = html.rfind("<", 0, start)
    end = html.find("</main>", start)
    end = len(html) if end < 0 else end
    parts = _TAG.split(html[start:end])
    for i in range(0, len(parts), 2):  # the text between tags
        if _HAS_CJK.search(parts[i]):
            parts[i] = _CJK_RUN.sub(_split_run, parts[i])
    return html[:start] + "".join(parts) + html[end:]


def html_pages(folder: Path, skip: set[str]) -> list[str]:
    """The ``.html`` files under ``folder`` (output-relative, sorted), except under its top folders ``skip``."""
    out = []
    top = str(folder)
    start = len(top) + 1
    for current, dirs, files in os.walk(top):
        if current == top:
            dirs[:] = [d for d in dirs if d not in skip]
        prefix = current[start:].replace(os.sep, "/") + "/" if current != top else ""  # no relpath: 27,000 folders
        out.extend(prefix + name for name in files if name.endswith(".html"))
    return sorted(out)


def write_documents(folder: Path, documents: Path, pages: list[str] | None = None,
                    copies: Copies | None = None) -> int:
    """Copy the pages that have indexed parts (``data-pagefind-body``) with their text split per CJK
    character: ``pages`` (output-relative), or every page of ``folder``. A page whose copy the rendering worker
    kept (``copies``) is moved into place, the others are split here."""
    documents.mkdir(parents=True, exist_ok=True)
    if pages is None:
        pages = html_pages(folder, skip={DOCUMENTS})

    def split(rel: str) -> str | None:
        html = (folder / rel).read_text(encoding="utf-8")
        return split_page(html) if "data-pagefind-body" in html else None

    # Split on all cores, create in one process in sorted order: Pagefind numbers pages in the order the
    # file system lists them, so the files must be created (or moved in) in the same order every time. The
    # texts stream in: a part's documents are never all in memory at once.
    moved = {rel for rel in pages if copies is not None and copies.has(rel)}
    texts = iter(imap_items(split, [rel for rel in pages if rel not in moved]))
    count = 0
    for rel in pages:
        target = documents / rel
        if rel in moved:
            target.parent.mkdir(parents=True, exist_ok=True)
            copies.take(rel, target)
        else:
            text = next(texts)
            if text is None:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        count += 1
    return count


# --- byte-identical output --------------------------------------------------------------------------
# Pagefind 1.x keeps filters in hash maps, so the filter files, the per-language metadata file that
# names them and pagefind-entry.json come out in a different order (and under different file names)
# on every run. Their contents are CBOR behind a fixed header, gzipped; the functions below sort
# them and name them after their content. Every file is first checked to re-encode to exactly its
# original bytes, so a format this code does not understand is left alone rather than damaged.

def canonicalise(bundle: Path) -> dict[str, int]:
    """Make the Pagefind bundle in ``bundle`` deterministic; return language → page count.

    Raises :class:`UnknownFormat` (before changing anything) when a file is not in the expected format.
    """
    entry_path = bundle / "pagefind-entry.json"
    entry = json.loads(entry_path.read_text(encoding="utf-8"))
    filters = {path: _read(path) for path in sorted((bundle / "filter").glob("*.pf_filter"))}
    metas = {lang: _read(bundle / f"pagefind.{info['hash']}.pf_meta") for lang, info in entry["languages"].items()}
    for path, value in filters.items():
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], list)):
            raise UnknownFormat(path.name)
    for lang, meta in metas.items():
        if not (isinstance(meta, list) and len(meta) >= 5 and all(
                isinstance(pair, list) and len(pair) == 2 for pair in meta[3] + meta[4])):
            raise UnknownFormat(f"pagefind.{entry['languages'][lang]['hash']}.pf_meta")

    renamed: dict[str, str] = {}
    for path, value in filters.items():
        value[1].sort(key=lambda item: item[0])
        path.unlink()
        renamed[path.stem] = _write_named(path.parent, path.stem.rpartition("_")[0], value, ".pf_filter", 7)
    for lang, meta in metas.items():
        for position in (3, 4):  # filters and sorts: [name, file hash] pairs
            for pair in meta[position]:
                pair[1] = renamed.get(pair[1], pair[1])
            meta[position].sort(key=lambda pair: pair[0])
        info = entry["languages"][lang]
        (bundle / f"pagefind.{info['hash']}.pf_meta").unlink()
        info["hash"] = _write_named(bundle, lang, meta, ".pf_meta", 13, prefix="pagefind.")
    entry["languages"] = dict(sorted(entry["languages"].items()))
    entry_path.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return {lang: info["page_count"] for lang, info in entry["languages"].items()}


class UnknownFormat(Exception):
    """A Pagefind file is not in the format :func:`canonicalise` knows."""


def _read(path: Path):
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError):
        raise UnknownFormat(path.name) from None
    if not raw.startswith(_HEADER):
        raise UnknownFormat(path.name)
    body = raw[len(_HEADER):]
    try:
        value, end = _decode(body, 0)
    except (ValueError, IndexError, UnicodeDecodeError):
        raise UnknownFormat(path.name) from None
    if end != len(body) or _encode(value) != body:
        raise UnknownFormat(path.name)
    return value


def _write_named(folder: Path, lang: str, value, suffix: str, length: int, prefix: str = "") -> str:
    body = _encode(value)
    digest = hashlib.sha256(body).hexdigest()
    name = f"{lang}_{digest[:length]}"
    while (folder / f"{prefix}{name}{suffix}").exists():
        length += 1
        name = f"{lang}_{digest[:length]}"
    (folder / f"{prefix}{name}{suffix}").write_bytes(gzip.compress(_HEADER + body, compresslevel=9, mtime=0))
    return name


def _decode(data: bytes, i: int):
    """One CBOR item (the subset Pagefind writes: integers, byte and text strings, arrays, maps)."""
    major, info = data[i] >> 5, data[i] & 31
    i += 1
    if info < 24:
        arg = info
    elif info <= 27:
        size = 1 << (info - 24)
        arg = int.from_bytes(data[i:i + size], "big")
        i += size
    else:
        raise ValueError(f"indefinite or reserved length {info}")
    if major == 0:
        return arg, i
    if major == 1:
        return -1 - arg, i
    if major == 2:
        return _Bytes(data[i:i + arg]), i + arg
    if major == 3:
        return data[i:i + arg].decode("utf-8"), i + arg
    if major in (4, 5):
        items = []
        for _ in range(arg * (2 if major == 5 else 1)):
            item, i = _decode(data, i)
            items.append(item)
        return (items if major == 4 else _Map(zip(items[::2], items[1::2]))), i
    raise ValueError(f"CBOR major type {major}")


class _Bytes(bytes):
    pass


class _Map(list):
    """A CBOR map kept as its ordered (key, value) pairs."""


def _head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([major << 5 | info]) + arg.to_bytes(size, "big")
    raise ValueError("integer too large")


def _encode(value) -> bytes:
    if isinstance(value, bool) or value is None:
        raise ValueError("unexpected simple value")
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, _Bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _head(3, len(raw)) + raw
    if isinstance(value, _Map):
        return _head(5, len(value)) + b"".join(_encode(k) + _encode(v) for k, v in value)
    if isinstance(value, list):
        return _head(4, len(value)) + b"".join(_encode(v) for v in value)
    raise ValueError(f"cannot encode {type(value).__name__}")


# --- the search page and the build hook -------------------------------------------------------------

def _types(model) -> list[str]:
    """The kinds of indexed pages the site has (the search page offers a type filter when there are several)."""
    types = ["advance"]
    if model.lectures:
        types.append("lecture")
    if model.news:
        types.append("news")
    return types


def indexed_outputs(model) -> list[str]:
    """The output files the index will hold: every advance, lecture and news item, in both languages."""
    return sorted(urls.Urls.output_file(urls.Urls.localise(item.route, lang))
                  for item in (*model.advances, *model.lectures, *model.news) for lang in LANGS)


def search_parts(model) -> tuple[int, list[str]]:
    """The number of parts of the index and the folders of those that will hold pages (a small part may
    by chance hold none: it is not written, and the search page does not ask for it)."""
    outputs = indexed_outputs(model)
    parts = part_count(len(outputs))
    folders = part_folders(parts)
    return parts, [folders[i] for i in sorted({part_of(rel, parts) for rel in outputs})] or folders[:1]


def search_pages(model, add) -> None:
    """``/search/`` and ``/en/search/``: the form, the filters and the script that queries the index."""
    records = [*model.advances, *model.lectures, *model.news]
    deps = add.fronts(records) | {y.rel for y in model.years if y.rel} | {"content/categories.yaml"}
    years = {y.year for y in model.years} | {lec.day.year for lec in model.lectures if lec.day} | {
        item.meta["date"].year for item in model.news}
    add(urls.search(), "search.html", deps, search_available=available(), search_bundle=urls.search_bundle(),
        search_parts=search_parts(model)[1],
        search_types=_types(model), search_years=sorted(years, reverse=True), search_categories=model.categories)


def post_write(site, folder: Path, files: set[str], written: set[str] | None, rendered: dict,
               copies: Copies | None = None) -> list[str]:
    """The build hook (``site.POST_WRITE``): index the complete staging folder before it is swapped in.

    An incremental build's staging folder starts as hard links to the previous output: the parts of the
    previous index whose pages did not change are kept, the others are unlinked and written anew.
    ``files``: every file of the site outside the folders of post-write steps; ``written``: those the build
    wrote; ``rendered`` and ``copies``: the pages it rendered (see :func:`index`).
    """
    bundle = folder / urls.search_bundle()
    prefix = urls.search_bundle().strip("/") + "/"
    pages = sorted(rel for rel in files if rel.endswith(".html"))
    taken = [rel for rel in pages if rel.startswith(prefix)]
    if taken or (bundle.exists() and not bundle.is_dir()):
        raise SearchError(f"{taken[0] if taken else urls.search_bundle()}: the search index folder "
                          f"{urls.search_bundle()} is taken by a page of the site — give that page another slug")
    report = index(folder, parts=search_parts(site.model)[0], cache_path=site.config.cache_path / INDEX_CACHE,
                   reuse_from=site.config.output_path, pages=pages, written=written, rendered=rendered,
                   copies=copies)
    for message, fix in report.warnings:
        site.problems.add("search", 0, "", message, fix, warning=True)
    return [urls.search_bundle()]
