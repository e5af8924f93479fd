"""The build pipeline: config → discover → parse → model → markdown → render → write → report.

Everything is read and checked before anything is rendered; a run with errors raises
:class:`~sitegen.errors.ContentErrors` carrying all of them, and writes nothing.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import incremental
from . import render as render_stage
from . import images, sitemap
from . import markdown as markdown_stage
from . import opendata
from . import lectures, news
from . import search
from .config import Config, load_config
from .content import RECORDS_CACHE, Content, RecordCache, discover, rediscover, rel_path
from .errors import ContentErrors, Problems, SitegenError
from .mdcache import MarkdownCache
from .model import Model, build_model, image_file
from .clock import resolve_now
from .parallel import map_items
from .theme import Theme, load_theme
from .write import LiveOutput, Staging


@dataclass
class Site:
    root: Path
    config: Config
    theme: Theme
    content: Content
    model: Model
    problems: Problems = field(default_factory=Problems)
    drafts: bool = False
    kept: "Kept | None" = None  # a preview's: what the next rebuild may reuse once this build has succeeded
    reused: bool = False  # the model is the previous build's, with new bodies (see Kept)
    # The files changed since the previous successful build of this process, as a file watcher reported
    # them (None: not known); every other file is as that build saw it (see load).
    changed: set[str] | None = None


@dataclass
class Kept:
    """What a preview keeps of its last successful build so that an edit of bodies only — the common edit,
    text — skips the model, the plan and the files made from front matter (like Hugo's and Zola's fast
    preview paths, but exact).

    Front matter decides the model (slugs, lists, terms, related advances …) and the plan; a body is only
    converted and shown. So when every record that changed kept its front matter, lines and files (and the
    configuration, the theme, the data files, the set of files and the window of "now" in which the same
    lectures are upcoming are unchanged), the previous model equals what :func:`build_model` would make:
    its items get their new records, and only the pages depending on the changed files are rendered.
    Anything else is a full rebuild."""

    config_values: dict
    drafts: bool
    theme_stamp: tuple
    content: Content
    model: Model
    model_problems: list  # what building the model reported (warnings; it had no errors)
    discovered: list = field(default_factory=list)  # what discovering the content reported (see rediscover)
    converted: list = field(default_factory=list)  # what converting the bodies reported (per record)
    checked: list = field(default_factory=list)  # what checking the images reported (per advance)
    renderer: render_stage.Renderer | None = None  # with the plan (renderer.jobs) and its compiled templates
    derived: dict = field(default_factory=dict)
    common: frozenset = frozenset()  # what every page of the plan depends on (see sitegen.incremental)
    templates: dict = field(default_factory=dict)  # template → its closure
    # Lookups derived from the model and the plan, made once: the copies that keep them share it.
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    def lookup(self, name: str, make):
        if name not in self.memo:
            self.memo[name] = make()
        return self.memo[name]

    def reuse(self, config: Config, theme: Theme, content: Content, now, drafts: bool) -> list | None:
        """(item, its previous record) for the items of the previous model whose records changed (only their
        bodies did), now holding their new records; or None: build the model anew."""
        old = self.content
        if (self.renderer is None or self.config_values != config.values or self.drafts != drafts
                or self.theme_stamp != theme_stamp(theme) or old.files != content.files
                or (old.categories, old.industries, old.societies, old.years)
                != (content.categories, content.industries, content.societies, content.years)):
            return None
        changed = []
        for kind in ("advances", "pages", "lectures", "news"):
            before, after = getattr(old, kind), getattr(content, kind)
            if len(before) != len(after):
                return None
            for was, now_record in zip(before, after):
                if was is not now_record:
                    if dataclasses.replace(now_record, body=was.body, body_en=was.body_en) != was:
                        return None  # front matter, lines or files changed
                    changed.append((was, now_record))
        valid_from, valid_until = _time_window(self.model)
        if (valid_from and now < valid_from) or (valid_until and now >= valid_until):
            return None
        items = self.lookup("items", lambda: {item.record.rel: item for item in documents(self.model)})
        if any(was.rel not in items or items[was.rel].record is not was for was, _ in changed):
            return None  # e.g. a draft: not in the model
        out = []
        for was, now_record in changed:
            item = items[was.rel]
            item.record = now_record
            if getattr(item, "meta", None) is was.meta:
                item.meta = now_record.meta
            out.append((item, was))
        self.model.now = now
        return out


def theme_stamp(theme: Theme) -> tuple:
    """(path, mtime_ns, size, inode) of every file and folder of the theme chain (see :func:`_tree`)."""
    return _tree(list(theme.dirs))


@dataclass
class Warm:
    """What a process that builds again and again (``sitegen serve``) keeps in memory between builds instead
    of reading it back from the cache folder and writing it again each time: the parsed records, the
    rendered Markdown and the state of the last build. :meth:`save` writes them when the process stops;
    until then the cache folder holds no build state (it would not describe the output any more)."""

    records: RecordCache | None = None
    markdown: MarkdownCache | None = None
    state: incremental.BuildState | None = None
    state_path: Path | None = None
    kept: Kept | None = None  # the last successful build's model and plan (see Kept)

    def record_cache(self, path: Path) -> RecordCache:
        if self.records is None or self.records.path != path:
            self.records = RecordCache(path)
            self.records.in_memory = True
        return self.records.next_run()

    def markdown_cache(self, folder: Path, video_hosts) -> MarkdownCache:
        if self.markdown is None or self.markdown.path != MarkdownCache.path_for(folder, video_hosts):
            self.markdown = MarkdownCache(folder, video_hosts)
        return self.markdown.next_run()

    def save(self) -> None:
        try:
            if self.records:
                self.records.save(force=True)
            if self.markdown:
                self.markdown.save()
            if self.state and self.state_path:
                incremental.save_state(self.state_path, self.state)
        except OSError:
            pass  # a read-only project: the next run starts from what is there


def load(config_path: Path, overrides: dict | None = None, drafts: bool = False, warm: Warm | None = None,
         changed: set[str] | None = None) -> Site:
    """Read and check everything; raise ContentErrors listing every error found.

    With ``warm``, the parsed records and rendered Markdown of the previous run in this process are reused
    from memory (see :class:`Warm`); with ``changed`` too — the paths a file watcher reported changed since
    the previous successful build (see sitegen.watch) — only those files are looked at."""
    problems = Problems()
    config = load_config(config_path, problems, overrides)
    root = config.root
    theme = load_theme(root, config.theme, problems)
    records_path = config.cache_path / RECORDS_CACHE
    previous = warm.kept if warm else None
    if warm:
        warm.kept = None  # until this run's build has succeeded
    if previous is None or previous.content.root != config.content_path:
        changed = None
    before = len(problems.items)
    cache = warm.record_cache(records_path) if warm else RecordCache(records_path)
    content = None
    if changed is not None:
        content = rediscover(previous.content, previous.discovered, changed, root, problems, cache)
    if content is None:
        content = discover(root, config.content_path, problems, cache)
    discovered = problems.items[before:]
    now = resolve_now(config.values, problems)
    edited = previous.reuse(config, theme, content, now, drafts) if previous and not problems.errors else None
    reused = edited is not None
    if reused:
        model = previous.model
        problems.items.extend(previous.model_problems)
    else:
        before = len(problems.items)
        model = build_model(content, problems, drafts=drafts)
        model.now = now
        model.schedule = lectures.build_schedule(content, model, problems, model.now, config.timezone, drafts=drafts)
        model.lectures = model.schedule.all
        model.news = news.build_news(content, problems, drafts=drafts)
        model.news_per_page, model.term_per_page = config.news_per_page, config.term_per_page
        model_problems = problems.items[before:]
    site = Site(root, config, theme, content, model, problems, drafts, None, reused, changed)
    markdown_cache = warm.markdown_cache(config.cache_path, config.video_hosts) if warm else None
    # Per record: bodies, then images. A kept model's unchanged records keep their HTML and their problems.
    before = len(problems.items)
    if reused:
        edited_rels = {rel for _, was in edited for rel in (was.rel, was.rel_en)}
        problems.items.extend(p for p in previous.converted if p.path not in edited_rels)
        render_markdown(site, markdown_cache, edited)
    else:
        render_markdown(site, markdown_cache)
    converted = problems.items[before:]
    before = len(problems.items)
    if reused and changed is not None:  # the advances whose record or image file changed: checked again
        changed_rels = {rel_path(p, root) for p in changed} | edited_rels
        users = previous.lookup("images", lambda: _image_users(model))  # image file → advances showing it
        shown = {adv.record.rel for rel in changed_rels & users.keys() for adv in users[rel]}
        recheck = [adv for adv in model.advances if adv.record.rel in changed_rels or adv.record.rel in shown]
        recheck_rels = {adv.record.rel for adv in recheck}
        problems.items.extend(p for p in previous.checked if p.path not in recheck_rels)
        images.check_images(model, config.content_path, problems, recheck)
    else:
        images.check_images(model, config.content_path, problems)
    checked = problems.items[before:]
    if warm and reused:
        site.kept = dataclasses.replace(previous, content=content, discovered=discovered, converted=converted,
                                        checked=checked)
    elif warm:
        site.kept = Kept(config.values, drafts, theme_stamp(theme), content, model, model_problems, discovered,
                         converted, checked)
    if problems.errors:
        raise ContentErrors(problems)
    return site


def _image_users(model: Model) -> dict[str, list]:
    out: dict[str, list] = {}
    for adv in model.advances:
        rel = image_file(adv)
        if rel is not None:
            out.setdefault(rel, []).append(adv)
    return out


def documents(model: Model) -> list:
    """Every record with a Markdown body (advances, pages, lectures, news)."""
    return [*model.advances, *model.pages, *model.lectures, *model.news]


def render_markdown(site: Site, kept: MarkdownCache | None = None, edited: list | None = None) -> None:
    """Convert every body to sanitised HTML (cached, on all cores); warn where raw HTML was changed.

    ``kept``: a cache held in memory by the caller, which also saves it (see :class:`Warm`). ``edited``:
    (item, its previous record) of the only items to convert, whose records changed; every other item keeps
    its HTML (see Kept)."""
    items = documents(site.model) if edited is None else [item for item, _ in edited]
    cache = kept or MarkdownCache(site.config.cache_path, site.config.video_hosts)
    texts = [item.record.body for item in items]
    english = [item for item in items if item.record.body_en is not None]
    texts += [item.record.body_en for item in english]
    if edited is None:
        done = cache.render_all(texts)
    else:
        done = cache.render_more(texts, [text for _, was in edited for text in (was.body, was.body_en) if text])
    for item, result in zip(items, done):
        item.converted = result
        markdown_stage.report(site.problems, item.record.rel, item.record.body_line, result)
    for item, result in zip(english, done[len(items):]):
        item.converted_en = result
        markdown_stage.report(site.problems, item.record.rel_en, 1, result)
    try:
        if kept is None:
            cache.save()
    except OSError:
        pass  # a read-only project still builds, just without the cache


# Each entry makes the site's non-page files (feeds, data downloads, sitemap …):
# make_files(site, renderer) -> iterable of (output-relative path, bytes), each written before the next is made.
# A maker whose files come from front matter and the plan alone says so with ``make_files.reads_bodies =
# False``: a preview rebuild after an edit of bodies only keeps its files (see Kept).
FILES: list = [sitemap.make_files, images.make_files, opendata.make_data_files, lectures.make_files,
               news.make_files]


# Each entry runs over the complete staging folder before it is swapped in (e.g. the search index):
# post_write(site, folder: Path, files: set, written: set | None, rendered: dict, copies) -> list of
# output-relative folders it owns (kept by incremental builds); ``files``: every other file of the site;
# ``written``: those this build wrote (None: every file is new); ``rendered``: page → search.page_digest of the
# pages this build rendered, whose indexing copies the rendering workers put in ``copies`` (search.Copies).
POST_WRITE: list = [search.post_write]


@dataclass
class BuildResult:
    pages: int  # pages in the site
    files: int  # files written by this build
    seconds: float
    output: Path
    warnings: list
    rendered: list = field(default_factory=list)  # output paths of the pages rendered by this build
    removed: list = field(default_factory=list)  # output paths removed by this build
    changed: list = field(default_factory=list)  # source files changed since the previous build (no derived sources)
    reused: bool = False  # a preview rebuild that kept the model and the plan (see Kept)


TIME_SOURCE = "@time"


def time_signature(model: Model) -> str:
    """What the build's "now" changes in the output: which lectures are still upcoming."""
    schedule = model.schedule
    return repr([lecture.record.rel for lecture in schedule.upcoming]) if schedule else ""


def source_files(site: Site) -> list[str]:
    """Every file the output can depend on, project-relative (kept with the content's files: see Content.memo)."""
    others = tuple(site.theme.files()) + (site.config.path, site.root)
    memo = site.content.memo.get("sources")
    if memo is None or memo[0] != others:
        files = {rel_path(p, site.root) for p in site.content.files + list(others[:-1])}
        memo = site.content.memo["sources"] = (others, sorted(files))
    return memo[1]


def build(site: Site, incremental_build: bool = True, live: bool = False, warm: Warm | None = None) -> BuildResult:
    """Render and write the site.

    With ``incremental_build`` the state saved by the previous build is used to re-render only the pages
    a change touched (output identical to a full build). ``live`` writes into the served output folder
    file by file instead of staging and swapping (``sitegen serve``). With ``warm`` the state is kept in
    memory instead (see :class:`Warm`).
    """
    started = time.perf_counter()
    root, output = site.root, site.config.output_path
    # A preview rebuild after an edit of bodies only keeps the model, so the plan and the renderer too
    # (see Kept); the state of the previous build must then be the one in memory.
    kept = site.kept if site.reused and live and warm is not None and warm.state is not None else None
    if kept is not None:
        renderer, derived, common, templates = kept.renderer, kept.derived, kept.common, kept.templates
        renderer.reset()
        jobs = renderer.jobs
    else:
        renderer = render_stage.Renderer(site.config, site.theme, site.model)
        theme_files = render_stage.theme_rel_files(site.theme, root)
        base_deps = frozenset(f for f in theme_files if "/templates/" not in f) | {
            site.config.path.relative_to(root).as_posix(), TIME_SOURCE}
        # Derived sources (see render.Plan), and one of the build's own: pages that depend on the time of
        # the build (upcoming vs past lectures) change when the model's view of "now" changes what is shown.
        derived = {TIME_SOURCE: time_signature(site.model)}
        common_deps: set = set()
        jobs = renderer.jobs = render_stage.plan(site.model, base_deps, derived, common_deps)
        common = frozenset(common_deps)
        closures: dict = {}
        templates = {name: incremental.template_closure(renderer.env, name, root, closures)
                     for name in sorted({job.template for job in jobs})}

    state_path = site.config.cache_path / "build-state.pickle"
    stamp_path = site.config.cache_path / STAMP
    stamp_path.unlink(missing_ok=True)  # written again below only once this build has succeeded
    key = state_key(site.config, site.drafts)
    previous = _previous_state(state_path, key, output, warm) if incremental_build else None
    if previous is None:
        kept = None  # the output is not what the kept build wrote: every file is made again
    # A preview rebuild told which files changed since the state in memory was made looks at those files only.
    recheck = {rel_path(p, root) for p in site.changed} \
        if site.changed is not None and warm is not None and previous is not None and previous is warm.state else None
    if warm is not None:
        warm.state = None  # until this build has succeeded
        state_path.unlink(missing_ok=True)  # kept in memory from now on; written by Warm.save
    if kept is not None and recheck is not None:  # the kept plan's derived sources are as they were
        sources = incremental.refresh(root, previous.sources, recheck, source_files(site))
        changed = incremental.changed_files(previous.sources, sources, among=recheck)
        by_source = kept.lookup("users", lambda: incremental.users(jobs))
        todo = incremental.dirty(jobs, previous, changed, common, templates, by_source)
    else:
        sources = incremental.fingerprint(root, source_files(site), previous.sources if previous else {}, recheck)
        sources.update((name, (0, 0, value)) for name, value in derived.items())
        changed = incremental.changed_files(previous.sources, sources) if previous else set()
        todo = incremental.dirty(jobs, previous, changed, common, templates)

    # Nothing changed, or a preview rebuild (which must be quick): the previous search index etc. are kept;
    # `sitegen build` regenerates them (the state says they are behind).
    keeps_post_written = previous is not None and (live or not todo and not changed and previous.post_written)
    writer = LiveOutput(output) if live else Staging(output, reuse=previous is not None)
    with writer as out, search.Copies(enabled=not keeps_post_written) as copies:
        # Pages are rendered on all cores straight into the staging folder; the previous output is
        # only replaced once everything has been written.
        renderer.compile({job.template for job in todo})  # once, before the workers fork

        def write_page(job) -> str | None:
            data = renderer.render(job)
            out.write(job.output, data)
            return copies.add(job.output, data)

        digests = map_items(write_page, todo)
        rendered = {job.output: digest for job, digest in zip(todo, digests) if digest}
        keep = {job.output for job in jobs}
        wrote = {job.output for job in todo}  # the files this build writes (the rest are the previous output's)
        # After edits of bodies only, the files made from front matter and the plan alone are the previous
        # build's (see FILES); they are in the output (a preview's) or its clone (a staged build).
        fronts_kept = previous is not None and (kept is not None or incremental.bodies_only(changed, previous.sources,
                                                                                              sources))
        made: dict = {}
        for make_files in FILES:
            name = f"{make_files.__module__}.{make_files.__qualname__}"
            if fronts_kept and not getattr(make_files, "reads_bodies", True) and name in previous.made:
                made[name] = previous.made[name]
            else:
                made[name] = []
                for rel, data in make_files(site, renderer):
                    out.write(rel, data)
                    made[name].append(rel)
                    wrote.add(rel)
                    del data  # before the next file is made (a data download is tens of MB at 10,000 records)
            keep.update(made[name])
        for fingerprinted, source in sorted(site.theme.assets.values()):
            out.copy(fingerprinted, source)
            keep.add(fingerprinted)
            wrote.add(fingerprinted)
        if keeps_post_written:
            owned = list(previous.owned)
            if live:  # the served folder holds exactly what the previous build wrote: no walk needed
                removed = out.remove(sorted((previous.pages.keys() | previous.files) - keep))
            else:
                removed = out.prune(keep, tuple(d.rstrip("/") + "/" for d in owned))
        else:
            # Before the post-write steps, which read the final pages; each step updates its own folders.
            removed = out.prune(keep, tuple(d.rstrip("/") + "/" for d in previous.owned) if previous else ())
            owned = []
            # The previous build's index describes the output's pages unless a preview rewrote some since.
            written = wrote if previous is not None and previous.post_written else None
            for post_write in POST_WRITE:
                owned.extend(post_write(site, out.dir, keep, written, rendered, copies) or [])
    post_written = not live or (previous is not None and previous.post_written and not todo and not removed)
    if kept is not None:  # the same plan: the pages' dependencies are as they were
        state = dataclasses.replace(previous, sources=sources, owned=tuple(owned), post_written=post_written,
                                    files=frozenset(keep) - previous.pages.keys(), made=made)
    else:
        previous = None  # its dependencies (tens of MB at 10,000 records) go before the new ones are made
        pages = {job.output: (job.template, job.deps) for job in jobs}  # a set shared by two pages is pickled once
        state = incremental.BuildState(key, output.stat().st_ino, sources, pages, tuple(owned), common,
                                       frozenset(keep) - pages.keys(), post_written, made, templates)
    if warm is not None:
        warm.state, warm.state_path = state, state_path
        if site.kept is not None:
            warm.kept = dataclasses.replace(site.kept, renderer=renderer, derived=derived, common=common,
                                            templates=templates)
    else:
        incremental.save_state(state_path, state)
    if not live:  # the preview writes into output/ with its own base URL: never "up to date" for a build
        incremental.save_pickle(stamp_path, Stamp(key, output, output.stat().st_ino, _tree(watched_paths(site.config)),
                                      *_time_window(site.model), len(jobs), list(site.problems.warnings)))
    return BuildResult(len(jobs), len(wrote), time.perf_counter() - started, output, site.problems.warnings,
                       sorted(job.output for job in todo), removed, sorted(c for c in changed if not c.startswith("@")),
                       kept is not None)


def _previous_state(state_path: Path, key: str, output: Path, warm: Warm | None) -> incremental.BuildState | None:
    """The state of the build that wrote ``output`` (None: build everything): kept in memory by a preview,
    else saved in the cache folder."""
    if warm is None or warm.state is None:
        return incremental.load_state(state_path, key, output)
    state = warm.state
    try:
        same_output = output.stat().st_ino == state.output_inode
    except OSError:
        return None
    return state if same_output and state.key == key and warm.state_path == state_path else None


# --- nothing changed: the check that lets `sitegen build` skip everything ---------------------------
# After each successful build a small *stamp* records the state key, the output folder and the
# (mtime, size, inode) of every file and folder under content/, themes/ and of config.yaml, and the
# interval of "now" in which the same lectures are upcoming. When all of that still holds, the output
# is exactly what a build would write, so nothing is read, parsed or written (the warnings of that
# build are repeated). Any difference — an edited, added or removed file, a folder's mtime, another
# key — falls through to a normal (incremental) build.

STAMP = "build-stamp.pickle"


@dataclass
class Stamp:
    key: str
    output: Path
    output_inode: int
    tree: tuple
    valid_from: object  # the build's now may move within [valid_from, valid_until) (None: unbounded)
    valid_until: object
    pages: int
    warnings: list


def state_key(config: Config, drafts: bool) -> str:
    """What must be equal for a previous build's output to be reused: code, configuration, options."""
    return incremental.state_key(incremental.code_version(), sorted(config.values.items()), drafts, str(config.output_path))


def watched_paths(config: Config) -> list[Path]:
    return [config.path, config.content_path, config.root / "themes"]


def _tree(paths: list[Path]) -> tuple:
    """(path, mtime_ns, size, inode) of every file and folder under ``paths``, in sorted order."""
    out = []
    for top in paths:
        try:
            st = os.stat(top)
        except OSError:
            out.append((str(top), None))
            continue
        out.append((str(top), st.st_mtime_ns, st.st_size, st.st_ino))
        for folder, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(dirs + files):
                path = os.path.join(folder, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                out.append((path, st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)


def _time_window(model: Model) -> tuple:
    """The interval of "now" in which the same lectures are upcoming (see Lecture.is_upcoming)."""
    ends = [lec.ends_at for lec in model.lectures if lec.ends_at is not None]
    now = model.now
    return (max((e for e in ends if e <= now), default=None), min((e for e in ends if e > now), default=None))


def up_to_date(config_path: Path, overrides: dict | None = None, drafts: bool = False) -> Stamp | None:
    """The stamp of the previous build when nothing it depends on changed since; else None."""
    problems = Problems()
    try:
        config = load_config(config_path, problems, overrides)
    except (SitegenError, OSError):
        return None
    if problems.errors:
        return None
    stamp = incremental.load_pickle(config.cache_path / STAMP)
    try:
        inode = config.output_path.stat().st_ino
    except OSError:
        return None
    if not isinstance(stamp, Stamp) or stamp.key != state_key(config, drafts) or stamp.output_inode != inode:
        return None
    now = resolve_now(config.values, problems)
    if problems.errors or (stamp.valid_from and now < stamp.valid_from) or (
            stamp.valid_until and now >= stamp.valid_until):
        return None
    return stamp if _tree(watched_paths(config)) == stamp.tree else None
