"""config.yaml: load, validate against :data:`CONFIG`, and resolve folders."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import Problems, UsageError
from .schema import Choice, DateTime, Field, Int, ListOf, Schema, Text, Url
from .yamlio import ReadProblem, YAMLProblem, load_yaml, read_text

# Hosts whose https:// players a Markdown body may embed with <iframe> (the big video sites in China and
# abroad, each only its embeddable player host). Any other iframe is removed by the sanitiser.
VIDEO_HOSTS = ["player.bilibili.com", "player.vimeo.com", "player.youku.com", "v.qq.com",
               "www.youtube-nocookie.com", "www.youtube.com"]
HOST = Text(max_len=253, pattern=r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+",
            pattern_hint="a host name in lower case, without https:// or a path, e.g. player.bilibili.com")

CONFIG = Schema("sitegen config.yaml", (
    Field("title", Text(max_len=200), required=True, doc="site title, Chinese"),
    Field("title_en", Text(max_len=300), required=True, doc="site title, English"),
    Field("description", Text(max_len=500), doc="site description, Chinese"),
    Field("description_en", Text(max_len=800), doc="site description, English"),
    Field("base_url", Url(), default="http://127.0.0.1:8000/",
          doc="public address of the site, may include a sub-path: https://example.org/imac/dual-top10/"),
    Field("language", Choice(("zh",)), default="zh", doc="main language (Chinese)"),
    Field("timezone", Text(max_len=64), default="Asia/Shanghai", doc="IANA time zone of dates and times"),
    Field("theme", Text(max_len=64, pattern=r"[A-Za-z0-9_-]+", pattern_hint="a folder name under themes/"),
          default="default", doc="theme folder under themes/; missing templates fall back to default"),
    Field("content_dir", Text(max_len=200), default="content", doc="folder of the content, relative to config.yaml"),
    Field("output_dir", Text(max_len=200), default="output", doc="folder the site is written to"),
    Field("cache_dir", Text(max_len=200), default=".sitegen-cache",
          doc="folder for the build cache (rendered Markdown), relative to config.yaml; safe to delete"),
    Field("news_per_page", Int(1, 100), default=10, doc="news items per listing page"),
    Field("term_per_page", Int(1, 1000), default=50,
          doc="advances per page of a category, industry, society or organisation"),
    Field("video_hosts", ListOf(HOST), default=VIDEO_HOSTS,
          doc="hosts whose https:// video players Markdown bodies may embed with <iframe>; [] allows none"),
    Field("now", DateTime(), doc="the build's now for upcoming/past lectures: YYYY-MM-DD or \"YYYY-MM-DD HH:MM\" "
          "in the site time zone; pin it for reproducible builds (SITEGEN_NOW overrides it; default: the clock)"),
), doc="The site configuration, config.yaml")


@dataclass(frozen=True)
class Config:
    root: Path
    path: Path
    values: dict

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def content_path(self) -> Path:
        return (self.root / self.values["content_dir"]).resolve()

    @property
    def output_path(self) -> Path:
        return (self.root / self.values["output_dir"]).resolve()

    @property
    def cache_path(self) -> Path:
        return (self.root / self.values["cache_dir"]).resolve()

    @property
    def base_path(self) -> str:
        """The URL path the site lives under, always with a leading and trailing slash."""
        path = urlsplit(self.values["base_url"]).path or "/"
        return path if path.endswith("/") else path + "/"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.values["base_url"])
        return f"{parts.scheme}://{parts.netloc}"

    def with_values(self, **changes) -> "Config":
        return Config(self.root, self.path, {**self.values, **changes})


def load_config(path: Path, problems: Problems, overrides: dict | None = None) -> Config:
    """Read and validate config.yaml; problems are added, a missing file is a usage error."""
    path = path.resolve()
    if not path.is_file():
        raise UsageError(f"{path}: no config file here — run sitegen in the site's folder or pass --config")
    rel = path.name
    data: object = {}
    parsed = True
    try:
        data = load_yaml(read_text(path))
    except ReadProblem as exc:
        problems.add(rel, exc.line, "", exc.message, exc.fix)
        parsed = False
    except YAMLProblem as exc:
        problems.add(rel, exc.line, exc.field, exc.message, exc.fix)
        parsed = False
    # A file that cannot be read has no fields: do not also report each required one as missing.
    values = CONFIG.validate(data if data is not None else {}, rel, problems if parsed else Problems())
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    try:
        zoneinfo.ZoneInfo(values["timezone"])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        line = data.line_of("timezone") if hasattr(data, "line_of") else 1
        problems.add(rel, line, "timezone", f"unknown time zone {values['timezone']!r}",
                     "use an IANA name such as Asia/Shanghai")
        values["timezone"] = "Asia/Shanghai"
    config = Config(path.parent, path, values)
    out = config.output_path
    if out == config.root or out in config.root.parents or out == config.content_path or \
            out in config.content_path.parents:
        line = data.line_of("output_dir") if hasattr(data, "line_of") else 1
        problems.add(rel, line, "output_dir", f"{values['output_dir']!r} would overwrite the project or its content",
                     "use a folder of its own, e.g. output")
    return config
