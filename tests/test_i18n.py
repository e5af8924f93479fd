"""The English edition: every page in both languages, the right <html lang>, hreflang alternates and a language
switcher that lead to the same page, no UI string of the other language, English fields with a visible
"中文" fallback, and English names and summaries for all bundled content.

UI strings are read from themes/default/i18n/{zh,en}.yaml, so the checks follow the theme as it changes.
"""

from __future__ import annotations

import html.parser
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
STRINGS = {lang: yaml.safe_load((REPO / f"themes/default/i18n/{lang}.yaml").read_text(encoding="utf-8"))
           for lang in ("zh", "en")}
HTML_LANG = {"zh": "zh-CN", "en": "en"}
OTHER = {"zh": "en", "en": "zh"}
LETTERS = {"zh": re.compile(r"[\u3400-\u9fff]"), "en": re.compile(r"[A-Za-z]")}
PLACEHOLDER = re.compile(r"\{[^}]*\}")


def run(args, cwd):
    return subprocess.run([sys.executable, "-m", "sitegen", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=180)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("i18n") / "output"
    result = run(["build", "--output", str(out)], REPO)
    assert result.returncode == 0, result.stderr
    return out


def pages(site: Path) -> dict[str, dict[str, Path]]:
    """lang → language-neutral route (``years/2021/index.html``) → file, for every HTML page."""
    out: dict[str, dict[str, Path]] = {"zh": {}, "en": {}}
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        if rel.startswith("pagefind/"):
            continue
        lang = "en" if rel.startswith("en/") else "zh"
        out[lang][rel.removeprefix("en/")] = path
    return out


class Head(html.parser.HTMLParser):
    """<html lang>, canonical, hreflang alternates and the language switcher of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lang = None
        self.canonical = None
        self.alternates: dict[str, str] = {}
        self.switch: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "link" and a.get("rel") == "canonical":
            self.canonical = a.get("href")
        elif tag == "link" and a.get("rel") == "alternate" and a.get("hreflang"):
            self.alternates[a["hreflang"]] = a["href"]
        elif tag == "a" and "lang-switch" in (a.get("class") or "").split():
            self.switch.append(a.get("href"))


def head(path: Path) -> Head:
    parsed = Head()
    parsed.feed(path.read_text(encoding="utf-8"))
    return parsed


def target(site: Path, url: str) -> Path:
    """The output file a root-relative or absolute link of the bundled site (base path /) points at."""
    path = urlsplit(url).path
    file = site / path.lstrip("/")
    return file / "index.html" if path.endswith("/") else file


def test_every_chinese_page_has_an_english_counterpart_and_vice_versa(built):
    found = pages(built)
    assert len(found["zh"]) > 100
    assert sorted(found["zh"]) == sorted(found["en"])
    for route in ("index.html", "search/index.html", "years/index.html", "lectures/index.html", "news/index.html",
                  "404.html"):
        assert route in found["zh"], route


def test_html_lang_canonical_and_hreflang_alternates_are_right_on_every_page(built):
    for lang, routes in pages(built).items():
        for route, path in routes.items():
            page = head(path)
            assert page.lang == HTML_LANG[lang], route
            assert target(built, page.canonical) == path, route
            assert set(page.alternates) == {"zh-CN", "en"}, route
            for code, other in (("zh-CN", "zh"), ("en", "en")):
                assert target(built, page.alternates[code]) == pages_of(built, other, route), (route, code)


def pages_of(site: Path, lang: str, route: str) -> Path:
    return site / ("en/" if lang == "en" else "") / route


def test_the_language_switcher_on_every_page_leads_to_the_same_page_in_the_other_language(built):
    for lang, routes in pages(built).items():
        for route, path in routes.items():
            page = head(path)
            assert len(page.switch) == 1, route
            counterpart = target(built, page.switch[0])
            assert counterpart == pages_of(built, OTHER[lang], route) and counterpart.is_file(), route


# --- UI strings of the other language ----------------------------------------------------------------

def own_strings(lang: str) -> dict[str, re.Pattern]:
    """The UI strings only ``lang`` has, as patterns matching a whole rendered text (placeholders filled)."""
    other = set(STRINGS[OTHER[lang]].values())
    out = {}
    for key, value in STRINGS[lang].items():
        for one in (value.split() if key == "month_names" else [value]):
            if one in other or not LETTERS[lang].search(PLACEHOLDER.sub("", one)):
                continue  # shared by both files ("JSON"), or no words of its own ("{year}")
            parts = [re.escape(part) for part in PLACEHOLDER.split(one)]
            out[f"{key}: {one}"] = re.compile(r"\s*" + ".+?".join(parts).strip() + r"\s*", re.DOTALL)
    return out


def long_fragments(lang: str) -> dict[str, str]:
    """Longer literal pieces of ``lang``'s UI strings (4+ characters / 3+ words) that no content file contains:
    found anywhere inside a text of the other language's page, they are a leak."""
    content = " ".join(p.read_text(encoding="utf-8") for p in (REPO / "content").rglob("*")
                       if p.is_file() and p.suffix in (".md", ".yaml"))
    other = " ".join(STRINGS[OTHER[lang]].values())
    out = {}
    for key, value in STRINGS[lang].items():
        for piece in PLACEHOLDER.split(value):
            piece = piece.strip()
            size = len(LETTERS["zh"].findall(piece)) if lang == "zh" else len(re.findall(r"[A-Za-z]+", piece))
            if size >= (4 if lang == "zh" else 3) and piece not in content and piece not in other:
                out[piece] = key
    return out


class Visible(html.parser.HTMLParser):
    """Texts and labelling attributes of a page outside elements marked with the other language's ``lang``."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    ATTRS = ("title", "aria-label", "placeholder", "alt")

    def __init__(self, other_lang: str):
        super().__init__(convert_charrefs=True)
        self.other = other_lang
        self.stack: list[bool] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        skipped = (self.stack[-1] if self.stack else False) or (
            tag != "html" and (a.get("lang") or "").startswith(self.other))
        if not skipped:
            self.texts += [a[name] for name in self.ATTRS if a.get(name)]
            if tag == "meta" and (a.get("name") == "description"
                                  or a.get("property") in ("og:title", "og:description", "og:site_name")):
                self.texts.append(a.get("content") or "")
        if tag not in self.VOID:
            self.stack.append(skipped)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]) and data.strip():
            self.texts.append(data)


def leaks(markup: str, lang: str, whole: dict, pieces: dict) -> list[str]:
    visible = Visible("zh" if lang == "en" else "en")
    visible.feed(markup)
    anything = re.compile("|".join(f"(?:{pattern.pattern})" for pattern in whole.values()), re.DOTALL)
    found = [f"{name} ← {text!r}" for text in visible.texts if anything.fullmatch(text)
             for name, pattern in whole.items() if pattern.fullmatch(text)]
    joined = "\n".join(visible.texts)
    return found + [f"{key}: {piece}" for piece, key in pieces.items() if piece in joined]


@pytest.fixture(scope="module")
def checks():
    return {lang: (own_strings(OTHER[lang]), long_fragments(OTHER[lang])) for lang in ("zh", "en")}


def test_the_leak_check_catches_a_leak(checks):
    """Positive control: the check below would see a Chinese UI string on an English page and the reverse."""
    zh, en = STRINGS["zh"], STRINGS["en"]
    english = f'<html lang="en"><body><p>{zh["nav_years"]}</p><p>{zh["year_label"].format(year=2021)}</p>' \
              f'<p lang="zh-CN">{zh["toc"]}</p><input placeholder="{zh["search_site"]}"></body></html>'
    found = leaks(english, "en", *checks["en"])
    assert any(item.startswith("nav_years") for item in found)
    assert any(item.startswith("year_label") for item in found)
    assert any(item.startswith("search_site") for item in found)
    assert not any(item.startswith("toc:") for item in found)  # marked as Chinese text: allowed
    chinese = f'<html lang="zh-CN"><body><p>{en["not_found_text"]}</p><p>Calvière Industries SA</p></body></html>'
    found = leaks(chinese, "zh", *checks["zh"])
    assert any(item.startswith("not_found_text") for item in found)
    assert not any(item.startswith("nav_industries") for item in found)  # a word inside a name is not a leak


def test_no_page_shows_ui_strings_of_the_other_language(built, checks):
    problems = []
    for lang, routes in pages(built).items():
        for route, path in routes.items():
            problems += [f"{'en/' if lang == 'en' else ''}{route}: {item}"
                         for item in leaks(path.read_text(encoding="utf-8"), lang, *checks[lang])]
    assert problems == [], "\n".join(problems[:40])


# --- English fields and the visible fallback -----------------------------------------------------------

def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])


def records(folder: str) -> list[Path]:
    return [p for p in sorted((REPO / "content" / folder).rglob("*.md")) if not p.name.endswith(".en.md")]


def test_every_bundled_record_and_term_has_english_names_and_summaries():
    missing = []
    for path in records("advances"):
        meta = front_matter(path)
        missing += [f"{path.relative_to(REPO)}: {f}" for f in ("title_en", "summary_en") if not meta.get(f)]
    for folder in ("pages", "lectures", "news"):
        for path in records(folder):
            meta = front_matter(path)
            missing += [f"{path.relative_to(REPO)}: {f}_en" for f in ("title", "summary")
                        if meta.get(f) and not meta.get(f + "_en")]

    def terms(data: dict, file: str):
        for key, value in data.items():
            yield f"{file}: {key}", value
            yield from terms(value.get("children") or {}, file)

    for file in ("categories.yaml", "industries.yaml", "societies.yaml"):
        data = yaml.safe_load((REPO / "content" / file).read_text(encoding="utf-8"))
        for where, value in terms(data, file):
            missing += [f"{where}: {f}_en" for f in ("name", "description") if value.get(f) and not value.get(f + "_en")]
    assert len(records("advances")) >= 100
    assert missing == [], "\n".join(missing)


def test_english_advance_pages_use_the_english_fields(built):
    for path in records("advances"):
        meta = front_matter(path)
        if meta.get("draft"):
            continue
        title = f'<h1>{html_escape(meta["title_en"])} '
        matches = [p for p in (built / "en" / "advances" / str(meta["year"])).glob("*/index.html")
                   if title in p.read_text(encoding="utf-8")]
        assert len(matches) == 1, path
        page = matches[0].read_text(encoding="utf-8")
        assert html_escape(meta["summary_en"]) in page, path
        has_english_body = path.with_name(path.stem + ".en.md").is_file()
        assert (STRINGS["en"]["body_only_zh"] in page) != has_english_body, path
        assert ('<div class="prose" lang="zh-CN">' in page) != has_english_body, path


def html_escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
            .replace("'", "&#39;"))


def test_missing_english_falls_back_to_chinese_marked_as_such(make_site, tmp_path):
    site = make_site(tmp_path, "minimal")
    (site / "content" / "advances" / "2021" / "china-untranslated.md").write_text(
        "---\ntitle: 未翻译的科技进展\nslug: untranslated\nyear: 2021\nlist: china\nrank: 2\n"
        "organizations: [示例公司]\nsummary: 只有中文摘要。\ndemo: true\n---\n\n## 背景与意义\n\n只有中文正文。\n",
        encoding="utf-8")
    result = run(["build"], site)
    assert result.returncode == 0, result.stderr
    english = (site / "output" / "en" / "advances" / "2021" / "untranslated" / "index.html").read_text(encoding="utf-8")
    marker = f'<span class="fallback">{STRINGS["en"]["fallback_zh"]}</span>'
    assert f'<span lang="zh">未翻译的科技进展</span> {marker}' in english
    assert f'<span lang="zh">只有中文摘要。</span> {marker}' in english
    assert STRINGS["en"]["body_only_zh"] in english and '<div class="prose" lang="zh-CN">' in english
    chinese = (site / "output" / "advances" / "2021" / "untranslated" / "index.html").read_text(encoding="utf-8")
    assert 'class="fallback"' not in chinese and "未翻译的科技进展" in chinese


def test_english_ui_strings_come_from_the_english_file(built):
    home = (built / "en" / "index.html").read_text(encoding="utf-8")
    for key in ("nav_years", "nav_categories", "search_site", "switch_language", "skip_to_content"):
        assert html_escape(STRINGS["en"][key]) in home, key
    assert os.path.getsize(built / "en" / "search" / "index.html") > 0


CJK_PUNCTUATION = re.compile(r"[\u3000-\u303f\uff00-\uffef]")


def test_templates_hold_no_chinese_text_or_punctuation():
    """Every Chinese word and mark of the theme lives in zh.yaml, so English pages cannot inherit one."""
    found = [f"{path.relative_to(REPO)}:{number}: {line.strip()[:80]}"
             for path in sorted((REPO / "themes").rglob("*.html"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if LETTERS["zh"].search(line) or CJK_PUNCTUATION.search(line)]
    assert found == [], "\n".join(found)


def test_english_pages_have_no_chinese_punctuation_between_english_words(built):
    """A text of an English page with Chinese punctuation but no Chinese word (``Source：``, ``A、B``) is a leak;
    Chinese names and fallbacks carry their own punctuation and are left alone."""
    problems = []
    for route, path in pages(built)["en"].items():
        visible = Visible("zh")
        visible.feed(path.read_text(encoding="utf-8"))
        problems += [f"en/{route}: {text.strip()[:60]!r}" for text in visible.texts
                     if CJK_PUNCTUATION.search(text) and not LETTERS["zh"].search(text)]
    assert problems == [], "\n".join(problems[:30])


def test_counts_of_one_use_the_singular_where_the_language_has_one(built):
    counts = {}
    for path in sorted((built / "en/organizations").glob("*/index.html")):
        found = re.search(r'<p class="meta">(\d+) (advances?)</p>', path.read_text(encoding="utf-8"))
        counts[found.group(1)] = counts.get(found.group(1), set()) | {found.group(2)}
    assert counts["1"] == {"advance"} and counts["2"] == {"advances"}  # organisations of one and of two
    zh = (built / "organizations").glob("*/index.html")
    assert any('<p class="meta">1 项</p>' in p.read_text(encoding="utf-8") for p in zh)
