"""The build pipeline: config → discover → parse → model → markdown → render → write → report.

Everything is read and checked before anything is rendered; a run with errors raises
:class:`~sitegen.errors.ContentErrors` carrying all of them, and writes nothing.
"""

from __future__ import annotations

import shutil
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
from .content import Content, discover
from .errors import ContentErrors, Problems
from .mdcache import MarkdownCache
from .model import Model, build_model
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


def load(config_path: Path, overrides: dict | None = None, drafts: bool = False) -> Site:
    """Read and check everything; raise ContentErrors listing every error found."""
    problems = Problems()
    config = load_config(config_path, problems, overrides)
    root = config.root
    theme = load_theme(root, config.theme, problems)
    content = discover(root, config.content_path, problems)
    model = build_model(content, problems, drafts=drafts)
    model.now = resolve_now(config.values, problems)
    model.schedule = lectures.build_schedule(content, model, problems, model.now, config.timezone, drafts=drafts)
    model.lectures = model.schedule.all
    model.news = news.build_news(content, problems, drafts=drafts)
    model.news_pages = news.paginate(model.news, config.news_per_page)
    site = Site(root, config, theme, content, model, problems, drafts)
    render_markdown(site)
    images.check_images(model, config.content_path, problems)
    if problems.errors:
        raise ContentErrors(problems)
    return site


def documents(model: Model) -> list:
    """Every record with a Markdown body (advances, pages, lectures, news)."""
    return [*model.advances, *model.pages, *model.lectures, *model.news]


def render_markdown(site: Site) -> None:
    """Convert every body to sanitised HTML (cached, on all cores); warn where raw HTML was changed."""
    items = documents(site.model)
    cache = MarkdownCache(site.config.cache_path, site.config.video_hosts)
    texts = [item.record.body for item in items]
    english = [item for item in items if item.record.body_en is not None]
    done = cache.render_all(texts + [item.record.body_en for item in english])
    for item, result in zip(items, done):
        item.html, item.toc = result.html, result.toc
        markdown_stage.report(site.problems, item.record.rel, item.record.body_line, result)
    for item, result in zip(english, done[len(items):]):
        item.html_en, item.toc_en = result.html, result.toc
        markdown_stage.report(site.problems, item.record.rel_en, 1, result)
    try:
        cache.save()
    except OSError:
        pass  # a read-only project still builds, just without the cache


# Each entry makes the site's non-page files (feeds, data downloads, sitemap …):
# make_files(site, renderer) -> list of (output-relative path, bytes).
FILES: list = [sitemap.make_files, images.make_files, opendata.make_data_files, lectures.make_files,
               news.make_files]


# Each entry runs over the complete staging folder before it is swapped in (e.g. the search index):
# post_write(site, folder: Path) -> list of output-relative folders it owns (kept by incremental builds).
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
    changed: list = field(default_factory=list)  # source files changed since the previous build


TIME_SOURCE = "@time"


def time_signature(model: Model) -> str:
    """What the build's "now" changes in the output: which lectures are still upcoming."""
    schedule = model.schedule
    return repr([lecture.record.rel for lecture in schedule.upcoming]) if schedule else ""


def _code_version() -> str:
    package = Path(__file__).parent
    return incremental.state_key(*[(p.name, p.read_bytes()) for p in sorted(package.glob("*.py"))])


def source_files(site: Site) -> list[str]:
    """Every file the output can depend on, project-relative."""
    files = {p.relative_to(site.root).as_posix() for p in site.content.files + site.theme.files()}
    files.add(site.config.path.relative_to(site.root).as_posix())
    return sorted(files)


def build(site: Site, incremental_build: bool = True, live: bool = False) -> BuildResult:
    """Render and write the site.

    With ``incremental_build`` the state saved by the previous build is used to re-render only the pages
    a change touched (output identical to a full build). ``live`` writes into the served output folder
    file by file instead of staging and swapping (``sitegen serve``).
    """
    started = time.perf_counter()
    root, output = site.root, site.config.output_path
    renderer = render_stage.Renderer(site.config, site.theme, site.model)
    theme_files = render_stage.theme_rel_files(site.theme, root)
    base_deps = frozenset(f for f in theme_files if "/templates/" not in f) | {
        site.config.path.relative_to(root).as_posix(), TIME_SOURCE}
    jobs = render_stage.plan(site.model, base_deps)
    closures: dict = {}
    for job in jobs:
        job.deps = job.deps | incremental.template_closure(renderer.env, job.template, root, closures)

    state_path = site.config.cache_path / "build-state.pickle"
    key = incremental.state_key(_code_version(), sorted(site.config.values.items()), site.drafts, str(output))
    previous = incremental.load_state(state_path, key, output) if incremental_build else None
    sources = incremental.fingerprint(root, source_files(site), previous.sources if previous else {})
    # Pages that depend on the time of the build (upcoming vs past lectures) depend on this virtual
    # source: it changes when the model's view of "now" changes what is shown.
    sources[TIME_SOURCE] = (0, 0, time_signature(site.model))
    changed = incremental.changed_files(previous.sources, sources) if previous else set()
    todo = incremental.dirty(jobs, previous, changed)

    writer = LiveOutput(output) if live else Staging(output, reuse=previous is not None)
    with writer as out:
        # Pages are rendered on all cores straight into the staging folder; the previous output is
        # only replaced once everything has been written.
        renderer.compile({job.template for job in todo})  # once, before the workers fork
        map_items(lambda job: out.write(job.output, renderer.render(job)), todo)
        keep = {job.output for job in jobs}
        written = len(todo)
        for make_files in FILES:
            for rel, data in make_files(site, renderer):
                out.write(rel, data)
                keep.add(rel)
                written += 1
        for fingerprinted, source in sorted(site.theme.assets.values()):
            out.copy(fingerprinted, source)
            keep.add(fingerprinted)
            written += 1
        if previous is not None and (live or not todo and not changed):
            # Nothing changed, or a preview rebuild (which must be quick): the previous search index
            # etc. are kept; `sitegen build` regenerates them.
            owned = list(previous.owned)
            removed = out.prune(keep, tuple(d.rstrip("/") + "/" for d in owned))
        else:
            for folder in previous.owned if previous else ():
                shutil.rmtree(out.dir / folder, ignore_errors=True)  # regenerated whole by its step
            removed = out.prune(keep)  # before the post-write steps, which read the final pages
            owned = []
            for post_write in POST_WRITE:
                owned.extend(post_write(site, out.dir) or [])
    incremental.save_state(state_path, incremental.BuildState(
        key, output.stat().st_ino, sources, {job.output: job.deps for job in jobs}, tuple(owned)))
    return BuildResult(len(jobs), written, time.perf_counter() - started, output, site.problems.warnings,
                       sorted(job.output for job in todo), removed, sorted(changed))
