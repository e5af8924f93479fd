"""The build pipeline: config → discover → parse → model → markdown → render → write → report.

Everything is read and checked before anything is rendered; a run with errors raises
:class:`~sitegen.errors.ContentErrors` carrying all of them, and writes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from . import render as render_stage
from . import images, sitemap
from . import opendata
from .config import Config, load_config
from .content import Content, discover
from .errors import ContentErrors, Problems
from .markdown import MarkdownRenderer
from .model import Model, build_model
from .theme import Theme, load_theme
from .write import Staging


@dataclass
class Site:
    root: Path
    config: Config
    theme: Theme
    content: Content
    model: Model
    problems: Problems = field(default_factory=Problems)


def load(config_path: Path, overrides: dict | None = None, drafts: bool = False) -> Site:
    """Read and check everything; raise ContentErrors listing every error found."""
    problems = Problems()
    config = load_config(config_path, problems, overrides)
    root = config.root
    theme = load_theme(root, config.theme, problems)
    content = discover(root, config.content_path, problems)
    model = build_model(content, problems, drafts=drafts)
    site = Site(root, config, theme, content, model, problems)
    render_markdown(site)
    images.check_images(model, config.content_path, problems)
    if problems.errors:
        raise ContentErrors(problems)
    return site


def render_markdown(site: Site) -> None:
    """Convert every body to sanitised HTML; warn where the sanitiser changed raw HTML."""
    md = MarkdownRenderer()
    for item in [*site.model.advances, *site.model.pages]:
        record = item.record
        done = md.render(record.body)
        item.html, item.toc = done.html, done.toc
        if done.altered:
            site.problems.add(record.rel, record.body_line, "body",
                              "raw HTML was changed by the sanitiser (scripts, event handlers or unsafe tags removed)",
                              "use Markdown instead of raw HTML", warning=True)
        if record.body_en is not None:
            done_en = md.render(record.body_en)
            item.html_en, item.toc_en = done_en.html, done_en.toc


# Each entry makes the site's non-page files (feeds, data downloads, sitemap …):
# make_files(site, renderer) -> list of (output-relative path, bytes).
FILES: list = [sitemap.make_files, images.make_files, opendata.make_data_files]


@dataclass
class BuildResult:
    pages: int
    files: int
    seconds: float
    output: Path
    warnings: list


def build(site: Site) -> BuildResult:
    started = time.perf_counter()
    renderer = render_stage.Renderer(site.config, site.theme, site.model)
    base_deps = render_stage.theme_rel_files(site.theme, site.root) | {site.config.path.relative_to(site.root).as_posix()}
    jobs = render_stage.plan(site.model, base_deps)
    rendered = [(job.output, renderer.render(job)) for job in jobs]  # render all before touching the disk
    for make_files in FILES:
        rendered.extend(make_files(site, renderer))
    output = site.config.output_path
    with Staging(output) as stage:
        for rel, data in rendered:
            stage.write(rel, data)
        for fingerprinted, source in sorted(site.theme.assets.values()):
            stage.copy(fingerprinted, source)
    return BuildResult(len(jobs), stage.count, time.perf_counter() - started, output, site.problems.warnings)
