"""The theme: template lookup with file-by-file override, UI strings, and fingerprinted assets.

A theme other than ``default`` only needs the files it changes: templates, static files and UI
strings it lacks are taken from ``themes/default``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Problems
from .yamlio import ReadProblem, YAMLProblem, load_yaml, read_text

LANGS = ("zh", "en")


@dataclass
class Theme:
    dirs: list[Path]  # most specific first
    strings: dict[str, dict[str, str]] = field(default_factory=dict)  # lang → key → text
    assets: dict[str, tuple[str, Path]] = field(default_factory=dict)  # name → (fingerprinted name, file)

    @property
    def template_dirs(self) -> list[str]:
        return [str(d / "templates") for d in self.dirs if (d / "templates").is_dir()]

    def files(self) -> list[Path]:
        """Every file of the theme chain (for dependency tracking)."""
        return sorted(p for d in self.dirs if d.is_dir() for p in d.rglob("*") if p.is_file())


def load_theme(root: Path, name: str, problems: Problems) -> Theme:
    themes = root / "themes"
    dirs = [themes / name] + ([themes / "default"] if name != "default" else [])
    for d in dirs:
        if not d.is_dir():
            problems.add("config.yaml", 0, "theme", f"the theme folder {d.relative_to(root)} does not exist",
                         "create it or set theme: default")
    theme = Theme([d for d in dirs if d.is_dir()])
    for lang in LANGS:
        merged: dict[str, str] = {}
        for d in reversed(theme.dirs):
            path = d / "i18n" / f"{lang}.yaml"
            if not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            try:
                data = load_yaml(read_text(path))
            except (ReadProblem, YAMLProblem) as exc:
                problems.add(rel, exc.line, getattr(exc, "field", ""), exc.message, exc.fix)
                continue
            if not isinstance(data, dict):
                problems.add(rel, 1, "", "expected 'key: text' lines", "write one UI string per line")
                continue
            for key, text in data.items():
                if not isinstance(text, str):
                    problems.add(rel, data.line_of(key), key, "a UI string must be text", "put it in quotes")
                else:
                    merged[key] = text
        theme.strings[lang] = merged
    missing = set(theme.strings["zh"]) ^ set(theme.strings["en"])
    for key in sorted(missing):
        lang = "en" if key in theme.strings["zh"] else "zh"
        problems.add(f"themes/{name}/i18n/{lang}.yaml", 0, key, f"this UI string has no {lang} translation",
                     f"add '{key}: …' to the {lang} file")
    seen: set[str] = set()
    for d in theme.dirs:
        static = d / "static"
        for path in sorted(static.rglob("*")) if static.is_dir() else []:
            if not path.is_file():
                continue
            name = path.relative_to(static).as_posix()
            if name in seen:
                continue
            seen.add(name)
            theme.assets[name] = (fingerprint(name, path.read_bytes()), path)
    return theme


def fingerprint(name: str, data: bytes) -> str:
    """``css/site.css`` → ``css/site.3f2a9c01d2.css`` for hosts to cache forever; fonts/images keep names."""
    stem, dot, ext = name.rpartition(".")
    if ext not in ("css", "js") or not dot:
        return name
    return f"{stem}.{hashlib.sha256(data).hexdigest()[:10]}.{ext}"
