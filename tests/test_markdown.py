"""sitegen.markdown: the sanitiser, the video allow-list, off-site links, what is reported, costly input."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from html_safety import active_content, video_iframe
from sitegen import markdown as md
from sitegen import mdcache
from sitegen.config import VIDEO_HOSTS
from sitegen.errors import Problems

HOSTS = tuple(VIDEO_HOSTS)

# Each entry: Markdown with hostile raw HTML or links, spelt the ways filters get fooled.
XSS = [
    "<script>alert(1)</script>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<scr<script>ipt>alert(1)</script>",
    '<script src="https://evil.example/x.js"></script>',
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    '<img src="x" onerror="alert(1)"/>',
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="jav&#9;ascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;avascript&colon;alert(1)">x</a>',
    '<a href="java\nscript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "![x](javascript:alert(1))",
    '![x](data:text/html,<script>alert(1)</script>)',
    "[ref][1]\n\n[1]: javascript:alert(1)",
    "<svg><script>alert(1)</script></svg>",
    "<svg onload=alert(1)><circle r=1 /></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<svg><animate attributeName="href" to="javascript:alert(1)"/></svg>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe src="http://www.youtube.com/embed/x"></iframe>',
    '<iframe src="https://www.youtube.com.evil.example/embed/x"></iframe>',
    '<iframe src="https://user@www.youtube.com:8443/embed/x"></iframe>',
    '<object data="javascript:alert(1)"></object><embed src="x.swf">',
    '<form action="https://evil.example/"><input name=p><button formaction="javascript:alert(1)">go</button></form>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p style="width: expression(alert(1))">x</p>',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    "<details open ontoggle=alert(1)><summary>x</summary></details>",
    '<a href="#" onclick="alert(1)">x</a>',
    "<!--<img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<template><script>alert(1)</script></template>",
    '<xmp><img src=x onerror=alert(1)></xmp>',
    '<table><td background="javascript:alert(1)">x</td></table>',
    '<img srcset="javascript:alert(1) 1x">',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
]


def render(text: str, hosts=HOSTS) -> md.Rendered:
    return md.MarkdownRenderer(hosts).render(text)


@pytest.mark.parametrize("text", XSS)
def test_hostile_html_is_not_active_in_the_output(text):
    result = render(text)
    assert active_content(result.html, video_iframe(HOSTS)) == [], result.html
    assert result.error is None


# Escaped text and comments are not markup (a CDATA section is a comment to an HTML parser).
@pytest.mark.parametrize("text", [t for t in XSS if not t.startswith(("&lt;", "<!--", "<![CDATA["))])
def test_hostile_html_is_reported(text):
    result = render(text)
    assert result.removed, f"no warning for {text!r} → {result.html!r}"


def test_escaped_text_stays_text():
    result = render("&lt;script&gt;alert(1)&lt;/script&gt; and `<script>` in code")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result.html
    assert "<code>&lt;script&gt;</code>" in result.html
    assert result.removed == ()


@pytest.mark.parametrize("text, removed", [
    ("<script>alert(1)</script>", ("<script>",)),
    ("<img src=x onerror=alert(1)>", ("onerror= on <img>",)),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', ("href='JaVaScRiPt:alert(1)' on <a>",)),
    ("[x](javascript:alert(1))", ("href='javascript:alert(1)' on <a>",)),
    ('<img src="data:image/png;base64,AAAA">', ("src='data:image/png;base64,AAAA' on <img>",)),
    ('<iframe src="https://evil.example/x"></iframe>', ("<iframe> from evil.example (not in video_hosts)",)),
    ('<a href="https://e.org" target="_blank">x</a>', ("target= on <a>",)),
    ('<td style="color: red">x</td>', ("style other than text-align on <td>",)),
    ("<style>p{}</style><form><input></form>", ("<form>", "<input>", "<style>")),
])
def test_what_was_removed_is_named(text, removed):
    assert render(text).removed == removed


@pytest.mark.parametrize("text", [
    "## 背景与意义\n\n正文 **加粗** *斜体* `code`\n\n| 指标 | 应用前 | 应用后 |\n|:--|--:|:-:|\n| 效率 | 1 | 2 |\n",
    "text[^1]\n\n[^1]: a footnote\n",
    "<!-- 编辑提示：写清背景 -->\n\n## 背景与意义\n",
    "[站内](/advances/2021/x/) [外部](https://example.org) <https://example.org> <me@example.org>\n",
    "![图](images/a.png)\n\n<sup>2</sup> H<sub>2</sub>O <kbd>Ctrl</kbd> <mark>重点</mark>\n",
    "<details><summary>更多</summary>\n\n细节\n\n</details>\n",
    "Term\n: definition\n\n*[CNC]: computer numerical control\n\nCNC machines\n",
    '<iframe src="https://www.youtube.com/embed/x" title="视频" width="560" height="315" frameborder="0" '
    'allow="accelerometer; autoplay; clipboard-write; encrypted-media; gyroscope; picture-in-picture; web-share" '
    'referrerpolicy="strict-origin-when-cross-origin" allowfullscreen></iframe>\n',
    '<iframe src="https://player.bilibili.com/player.html?bvid=BV1xx411c7mD" scrolling="no" border="0" '
    'frameborder="no" framespacing="0" allowfullscreen="true"></iframe>\n',
])
def test_ordinary_markdown_and_embed_codes_are_not_reported(text):
    assert render(text).removed == ()


# --- iframes ---------------------------------------------------------------------------------------

def iframes(html: str) -> list[str]:
    return re.findall(r"<iframe\b[^>]*>", html)


def test_iframe_from_an_allowed_host_is_kept_sandboxed_and_lazy():
    result = render('<iframe src="https://player.bilibili.com/player.html?bvid=BV1" title="演示" '
                    'allow="autoplay; camera; microphone" allowfullscreen="true">fallback <b>x</b></iframe>')
    [tag] = iframes(result.html)
    assert 'src="https://player.bilibili.com/player.html?bvid=BV1"' in tag and 'title="演示"' in tag
    assert 'sandbox="allow-scripts allow-same-origin allow-presentation allow-popups"' in tag
    assert 'loading="lazy"' in tag and 'allowfullscreen=""' in tag
    assert 'allow="autoplay"' in tag  # camera and microphone are not granted
    assert "fallback" not in result.html
    assert "<b>" in result.removed and any("allow= permissions other than" in r for r in result.removed)


@pytest.mark.parametrize("src", [
    "https://evil.example/embed", "http://www.youtube.com/embed/x", "//www.youtube.com/embed/x",
    "https://www.youtube.com.evil.example/x", "https://evil.example/?u=https://www.youtube.com/",
    "https://user@www.youtube.com/embed/x", "https://www.youtube.com:444/embed/x", "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "https://[::1/x", "/local/page/", "",
])
def test_iframe_from_anywhere_else_is_removed_whole(src):
    result = render(f'<iframe src="{src}" title="t">inner text</iframe>')
    assert "<iframe" not in result.html and "inner text" not in result.html
    assert result.removed


def test_without_video_hosts_no_iframe_survives():
    assert "<iframe" not in render('<iframe src="https://www.youtube.com/embed/x"></iframe>', hosts=()).html


def test_video_hosts_are_config_with_a_safe_default(tmp_path):
    from sitegen.config import load_config

    (tmp_path / "config.yaml").write_text("title: t\ntitle_en: t\nvideo_hosts: [media.example.org]\n", encoding="utf-8")
    problems = Problems()
    assert load_config(tmp_path / "config.yaml", problems).video_hosts == ["media.example.org"]
    (tmp_path / "config.yaml").write_text("title: t\ntitle_en: t\nvideo_hosts: [https://x.org/]\n", encoding="utf-8")
    problems = Problems()
    load_config(tmp_path / "config.yaml", problems)
    assert [str(p) for p in problems.errors] == [
        "config.yaml:3: video_hosts: item 1: 'https://x.org/' is not valid — a host name in lower case, "
        "without https:// or a path, e.g. player.bilibili.com"]
    assert all(host.startswith(("player.", "www.", "v.")) for host in VIDEO_HOSTS)


def test_the_markdown_cache_depends_on_the_video_hosts(tmp_path):
    assert mdcache.version(("a.example",)) != mdcache.version(("b.example",))
    assert mdcache.version(("a.example", "b.example")) == mdcache.version(("b.example", "a.example"))
    text = '<iframe src="https://media.example/x"></iframe>'
    first = mdcache.MarkdownCache(tmp_path, ("media.example",))
    assert "<iframe" in first.render_all([text])[0].html
    first.save()
    second = mdcache.MarkdownCache(tmp_path, ())
    assert "<iframe" not in second.render_all([text])[0].html  # not the cached HTML of the other allow-list


# --- links -----------------------------------------------------------------------------------------

def test_only_off_site_links_get_noopener():
    html = render("[a](https://example.org/) [b](HTTP://EXAMPLE.ORG) [c](//cdn.example/) [d](/advances/) "
                  "[e](#background) [f](../x/) [g](mailto:a@example.org) <https://auto.example/>").html
    links = dict(re.findall(r'<a href="([^"]*)"([^>]*)>', html))
    offsite = {"https://example.org/", "HTTP://EXAMPLE.ORG", "//cdn.example/", "https://auto.example/"}
    for href, rest in links.items():
        assert (rest == ' rel="noopener"') == (href in offsite), (href, rest)
    footnotes = render("x[^1]\n\n[^1]: n\n").html
    assert "rel=" not in footnotes


def test_rel_is_added_only_to_real_anchor_tags():
    html = render('<abbr title="https://x">a</abbr> <a title="href=&quot;https://x&quot;" href="/in/">b</a>').html
    assert "rel=" not in html


def test_body_links_to_local_files_are_urls_never_read(tmp_path, monkeypatch):
    """A body's links and images name URLs for the browser; converting them opens no file."""
    import builtins

    opened = []
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda f, *a, **k: opened.append(f) or real_open(f, *a, **k))
    html = render("![x](../../../../etc/passwd) [y](/etc/shadow) ![z](C:/Windows/win.ini) [w](file:///etc/hosts)"
                  "\n\n<img src=\"..%2f..%2fetc/passwd\">").html
    assert opened == []
    assert 'src="../../../../etc/passwd"' in html  # a relative URL: the browser asks the site, which has no such file
    assert "file:" not in html and "C:/" not in html


# --- reports -----------------------------------------------------------------------------------------

def test_report_names_path_line_and_what_was_removed():
    problems = Problems()
    md.report(problems, "content/news/x.md", 7, render("<script>x</script><img src=x onerror=y>"))
    assert [str(p) for p in problems.warnings] == [
        "content/news/x.md:7: body: the HTML sanitiser removed <script>, onerror= on <img> — write it in Markdown "
        "(unsafe HTML is never published; see Safety in the README) (warning)"]
    assert problems.errors == []


def test_report_of_a_refused_body_is_an_error_on_its_line():
    problems = Problems()
    md.report(problems, "content/news/x.md", 7, render("ok\n\n" + "[" * 5000 + "\n"))
    [error] = problems.errors
    assert (error.line, error.field) == (9, "body") and "'['" in error.message and "\\[" in error.fix


# --- input that would take Python-Markdown minutes -----------------------------------------------------

@pytest.mark.parametrize("text, line, message", [
    ("ok\n\n" + "[" * 6000, 3, "too many '[', '(' or '<' in long paragraphs"),
    ("![" * 5000, 1, "too many '[', '(' or '<'"),
    ("<a " * 6000, 1, "too many '[', '(' or '<'"),
    ("[a](" * 6000, 1, "too many '[', '(' or '<'"),
    ("".join("\t" * i + "- x\n" for i in range(300)), 34, "is indented 132 columns"),
    ("".join(f"*[W{i}]: w\n" for i in range(500)) + "W1", 1, "defines 500 abbreviations"),
    ("a\n=\n" * 6000, 1, "has 6000 headings (at most 5000)"),
    ("x" * (11 * 1024 * 1024), 1, "the text is 11.0 MB (at most 10 MB)"),
])
def test_pathological_input_is_refused_before_conversion(text, line, message):
    result = render(text)
    assert result.error is not None and result.html == ""
    assert result.error[0] == line and message in result.error[1], result.error


def test_brackets_in_code_fences_and_short_paragraphs_are_fine():
    fenced = "```\n" + "[" * 20000 + "\n```\n"
    many_short = ("[link](https://example.org) " * 20 + "\n\n") * 2000
    assert md.complexity_problem(fenced) is None and md.complexity_problem(many_short) is None


def test_a_large_ordinary_body_is_converted():
    """Half a megabyte of ordinary text with tables, links and headings is converted whole; 6 MB of it is
    within the limits (converting that takes about 15 s of CPU, linear in the size)."""
    chunk = ("五轴数控机床实现了**热误差实时补偿** [来源](https://example.org)（见附表）(p < 0.05)。\n\n"
             "| 指标 | 应用前 | 应用后 |\n|---|---|---|\n| 精度 | 10 | 3 |\n\n- 一\n- 二\n\n")
    big = "".join(f"## 小节 {i}\n\n" + chunk * 10 for i in range(300))
    assert len(big.encode()) > 500_000
    assert md.complexity_problem(big * 12) is None and len((big * 12).encode()) > 6 * 1024 * 1024
    result = render(big)
    assert result.error is None and result.removed == ()
    assert result.html.count("<table>") == 3000 and len(result.toc) == 300


def test_the_cache_does_not_hash_again_the_texts_of_its_last_run(tmp_path, monkeypatch):
    cache = mdcache.MarkdownCache(tmp_path)
    texts = ["# 一\n\n正文。", "# 二\n\n正文。", "# 三\n\n正文。"]
    first = cache.render_all(texts)
    hashed = []
    real = mdcache.key
    monkeypatch.setattr(mdcache, "key", lambda text: hashed.append(text) or real(text))
    edited = "".join(["# 二\n\n改过的正文。"])  # a new object, as a re-parsed record's body is
    again = cache.next_run().render_all([texts[0], edited, texts[2]])
    assert hashed == [edited]  # the same objects are known by identity
    assert again[0] == first[0] and again[2] == first[2] and "改过的正文" in again[1].html
    equal_copy = "".join(["# 一\n\n", "正文。"])  # equal but another object: hashed, and found in the cache
    assert cache.next_run().render_all([equal_copy])[0] == first[0] and hashed[-1] is equal_copy


def test_a_body_the_sanitiser_leaves_unchanged_is_not_compared_element_by_element(monkeypatch):
    from sitegen import markdown as md

    compared = []
    real = md.removed_markup
    monkeypatch.setattr(md, "removed_markup", lambda *a: compared.append(a) or real(*a))
    plain = md.MarkdownRenderer().render("## 背景\n\n正文，[链接](/advances/) 与 **重点**。\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n")
    assert plain.removed == () and compared == []
    unsafe = md.MarkdownRenderer().render("正文<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n")
    assert len(compared) == 1 and "<script>" in unsafe.removed


# --- plain text skips the inline patterns (markdown._skip_plain_text) --------------------------------------

def _renderers() -> tuple[md.MarkdownRenderer, md.MarkdownRenderer]:
    quick, plain = md.MarkdownRenderer(HOSTS), md.MarkdownRenderer(HOSTS)
    plain._md.treeprocessors["inline"].__dict__.pop("_InlineProcessor__handleInline")  # the class's own method
    return quick, plain


def test_the_shortcut_is_on_for_the_pinned_python_markdown():
    # Off, every body is still converted right, only slower: this says when a new version needs a look.
    assert md.MarkdownRenderer().quick_inline


def test_an_unknown_inline_pattern_turns_the_shortcut_off():
    import markdown as md_lib
    from markdown.inlinepatterns import SimpleTagInlineProcessor

    engine = md_lib.Markdown()
    engine.inlinePatterns.register(SimpleTagInlineProcessor(r"()==(.+?)==", "mark"), "mark", 5)
    assert not md._skip_plain_text(engine)
    assert engine.convert("a ==b== c") == "<p>a <mark>b</mark> c</p>"


def _bodies() -> list[str]:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = sorted([*root.glob("content/**/*.md"), *root.glob("tests/**/*.md"), *root.glob("docs/**/*.md"),
                    root / "README.md"])
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in files]  # some fixtures are not UTF-8
    return [t.split("---", 2)[2] if t.startswith("---") and t.count("---") >= 2 else t for t in texts]


def test_every_bundled_body_converts_as_without_the_shortcut():
    quick, plain = _renderers()
    bodies = _bodies() + XSS
    assert len(bodies) > 100
    for text in bodies:
        assert quick.render(text) == plain.render(text)


MARKUP = st.lists(st.sampled_from([*"工业机器人 abc\n\\`[]()!<>&*_~^#:|-/@.;=\"'1", "  \n", "&amp;", "<b>", "[^1]",
                                    "http://a.b", "[x]: /y", "*[abc]: 缩写"]), max_size=60).map("".join)

_RENDERERS = _renderers()


@given(text=MARKUP)
@settings(max_examples=400, deadline=None)
def test_any_text_converts_as_without_the_shortcut(text):
    quick, plain = _RENDERERS
    assert quick.render(text) == plain.render(text)
