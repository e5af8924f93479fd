"""sitegen/search.py: the Pagefind index built by `sitegen build`, its stable output, and the site without it."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from sitegen import search

REPO = Path(__file__).resolve().parents[1]
STRINGS = {lang: yaml.safe_load((REPO / f"themes/default/i18n/{lang}.yaml").read_text(encoding="utf-8"))
           for lang in ("zh", "en")}


def run(args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "sitegen", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def decoded(path: Path):
    raw = gzip.decompress(path.read_bytes())
    assert raw.startswith(b"pagefind_dcd")
    value, end = search._decode(raw[12:], 0)
    assert end == len(raw) - 12
    return value


def filter_values(bundle: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in (bundle / "filter").glob("*.pf_filter"):
        name, values = decoded(path)
        out.setdefault(name, set()).update(value for value, _pages in values)
    return out


def test_split_cjk_separates_every_chinese_character_and_nothing_else():
    z = search.ZWSP
    assert search.split_cjk("工业机器人") == z.join("工业机器人")
    assert search.split_cjk("5G工厂 digital twin") == f"5G{z}工{z}厂 digital twin"
    assert search.split_cjk("数控机床，精度") == f"数{z}控{z}机{z}床{z}，{z}精{z}度"
    assert search.split_cjk("CNC machine tools") == "CNC machine tools"


@pytest.mark.parametrize("text", ["工业机器人", "5G工厂 digital twin", "数控机床，精度", "CNC machine tools",
                                  " 前后有空格 ", "a工b 工 工工\n工", "《智能制造》（2021）", "𠀀扩展区A㐀", "丽\uf900"])
def test_page_split_equals_the_text_split_inside_the_indexed_region(text):
    z = search.ZWSP
    html = (f'<html lang="zh-CN"><head><title>{text}</title></head><body><nav>{text}</nav><main>'
            f'<div data-pagefind-body title="{text}">{text}<b>{text}</b>{text}</div><p>{text}</p></main>'
            f'<footer>{text}</footer></body></html>')
    split = search.split_page(html)
    assert split.count(search.split_cjk(text)) >= 4 or search.split_cjk(text) == text
    assert f'title="{text}"' in split  # attribute values are not split
    before, after = split.split("<main>")[0], split.split("</main>")[1]
    assert z not in before + after  # nothing outside the indexed region is touched
    assert split.replace(z, "") == html


def test_search_documents_split_text_not_markup_and_skip_unindexed_pages(tmp_path):
    site = tmp_path / "site"
    (site / "a").mkdir(parents=True)
    (site / "a" / "index.html").write_text(
        '<html lang="zh-CN"><body><main><h1 data-pagefind-body data-pagefind-meta="title:机器人">机器人</h1>'
        '<p title="数控机床">数控 &amp; CNC</p></main></body></html>', encoding="utf-8")
    (site / "index.html").write_text('<html lang="zh-CN"><body><p>首页机器人</p></body></html>', encoding="utf-8")
    documents = site / search.DOCUMENTS
    assert search.write_documents(site, documents) == 1
    assert not (documents / "index.html").exists()
    copy = (documents / "a" / "index.html").read_text(encoding="utf-8")
    z = search.ZWSP
    assert f">机{z}器{z}人<" in copy and f">数{z}控 &amp; CNC<" in copy
    assert 'data-pagefind-meta="title:机器人"' in copy and 'title="数控机床"' in copy


@pytest.mark.parametrize("value", [
    0, 23, 24, 255, 256, 65536, 2**32, -1, -25, -169, "", "机器人", "a" * 300,
    [], [1, [2, ["x", -3]]], list(range(30)),
])
def test_cbor_subset_round_trips(value):
    encoded = search._encode(value)
    assert search._decode(encoded, 0) == (value, len(encoded))


def test_cbor_maps_and_byte_strings_keep_their_order():
    data = bytes([0xA2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x42, 0x00, 0xFF])  # {"b": 1, "a": h'00ff'}
    value, end = search._decode(data, 0)
    assert end == len(data) and list(value) == [("b", 1), ("a", b"\x00\xff")]
    assert search._encode(value) == data


def _filtered_site(root: Path) -> Path:
    """Pages in two languages with several filters of several values each: Pagefind's unstable case."""
    for i in range(24):
        lang = "zh-CN" if i % 2 else "en"
        page = root / f"p{i}" / "index.html"
        page.parent.mkdir(parents=True)
        spans = "".join(f'<span data-pagefind-filter="{f}"></span>' for f in (
            f"year:{2017 + i % 5}", f"list:{'world' if i % 3 else 'china'}", f"category:c{i % 4}", "type:advance"))
        page.write_text(f'<!DOCTYPE html><html lang="{lang}"><head><title>p{i}</title></head><body><main>'
                        f'<h1 data-pagefind-body>机器人 robot {i}</h1><div hidden>{spans}</div></main></body></html>',
                        encoding="utf-8")
    return root


def test_two_pagefind_runs_give_identical_bundles(tmp_path):
    bundles = []
    for name in ("a", "b", "c"):
        site = _filtered_site(tmp_path / name)
        report = search.index(site)
        assert report.available and report.languages == {"en": 12, "zh-cn": 12}
        assert not report.warnings
        bundles.append(digest(site / "pagefind"))
    assert bundles[0] == bundles[1] == bundles[2]
    entry = json.loads((tmp_path / "a" / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert list(entry["languages"]) == ["en", "zh-cn"]
    assert filter_values(tmp_path / "a" / "pagefind")["year"] == {str(y) for y in range(2017, 2022)}


def test_find_binary_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(search.BINARY_ENV, str(tmp_path / "missing"))
    assert search.find_binary() is None and not search.available()
    report = search.index(tmp_path)
    assert not report.available and "Pagefind was not found" in report.warnings[0][0]
    monkeypatch.delenv(search.BINARY_ENV)
    assert search.find_binary() is not None  # the test environment has pagefind[extended] installed


def test_build_indexes_the_advances_of_both_languages_with_their_filters(minimal_site):
    result = run(["build"], minimal_site)
    assert result.returncode == 0, result.stderr
    bundle = minimal_site / "output" / "pagefind"
    entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
    advances = sorted((minimal_site / "content" / "advances").glob("*/*.md"))
    assert {lang: info["page_count"] for lang, info in entry["languages"].items()} == {
        "en": len(advances), "zh-cn": len(advances)}
    metas = [yaml.safe_load(p.read_text(encoding="utf-8").split("---")[1]) for p in advances]
    categories = yaml.safe_load((minimal_site / "content" / "categories.yaml").read_text(encoding="utf-8"))
    top = {key: key for key in categories} | {child: key for key, value in categories.items()
                                              for child in (value.get("children") or {})}
    assert filter_values(bundle) == {
        "type": {"advance"},
        "year": {str(m["year"]) for m in metas},
        "list": {m["list"] for m in metas},
        "category": {top[c] for m in metas for c in m.get("categories", [])},
    }
    for prefix in ("", "en/"):
        page = (minimal_site / "output" / prefix / "search" / "index.html").read_text(encoding="utf-8")
        assert 'id="search-results"' in page and "/js/search." in page and 'data-bundle="/pagefind/pagefind.js"' in page
    assert not (minimal_site / "output" / search.DOCUMENTS).exists()
    assert (bundle / "pagefind.js").is_file() and not any((bundle / name).exists() for name in search.UNUSED)


def test_without_pagefind_the_build_warns_and_the_search_page_says_search_is_unavailable(minimal_site):
    result = run(["build"], minimal_site, env={search.BINARY_ENV: str(minimal_site / "no-pagefind")})
    assert result.returncode == 0, result.stderr
    assert re.search(r"^search: Pagefind was not found.* — install it with pip install 'pagefind\[extended\]'",
                     result.stderr, re.MULTILINE), result.stderr
    out = minimal_site / "output"
    assert (out / "index.html").is_file() and not (out / "pagefind").exists()
    for prefix, lang in (("", "zh"), ("en/", "en")):
        page = (out / prefix / "search" / "index.html").read_text(encoding="utf-8")
        assert STRINGS[lang]["search_unavailable"].replace('"', "&#34;") in page
        assert "/js/search." not in page and 'id="search-results"' not in page


def test_a_page_in_the_search_folder_is_an_error_and_nothing_is_published(minimal_site):
    (minimal_site / "content" / "pages" / "pagefind.md").write_text("---\ntitle: 冲突\n---\n正文\n", encoding="utf-8")
    result = run(["build"], minimal_site)
    assert result.returncode == 1
    assert "pagefind/index.html: the search index folder pagefind/ is taken by a page" in result.stderr
    assert "Traceback" not in result.stderr and not (minimal_site / "output").exists()


def test_an_incremental_build_gives_the_index_of_a_full_build(minimal_site, tmp_path):
    assert run(["build"], minimal_site).returncode == 0
    record = minimal_site / "content" / "advances" / "2021" / "world-five-axis.md"
    record.write_text(record.read_text(encoding="utf-8").replace("实时补偿热误差。", "实时补偿热误差的机器人。"),
                      encoding="utf-8")
    assert run(["build"], minimal_site).returncode == 0  # incremental: the staging folder starts as hard links
    fresh = tmp_path / "fresh"
    assert run(["build", "--output", str(fresh)], minimal_site).returncode == 0
    assert digest(minimal_site / "output" / "pagefind") == digest(fresh / "pagefind")


def test_a_site_without_searchable_pages_gets_no_index_and_a_warning(tmp_path):
    (tmp_path / "index.html").write_text('<html lang="zh-CN"><body><p>首页</p></body></html>', encoding="utf-8")
    report = search.index(tmp_path)
    assert not report.available and "no page has searchable parts" in report.warnings[0][0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]


def test_parts_of_an_index_are_rebuilt_only_when_their_pages_change(minimal_site, tmp_path, monkeypatch):
    monkeypatch.setenv(search.PART_SIZE_ENV, "2")
    assert run(["build"], minimal_site).returncode == 0
    bundle = minimal_site / "output" / "pagefind"
    parts = sorted(p.name for p in bundle.iterdir())
    # 6 pages (3 records in two languages) in 4 parts of 2; a record's two pages share a part.
    assert len(parts) >= 2 and set(parts) <= {f"part-{i}" for i in range(4)}
    page = (minimal_site / "output" / "search" / "index.html").read_text(encoding="utf-8")
    assert f'data-bundle="/pagefind/{parts[0]}/pagefind.js"' in page
    assert f'data-merge="{" ".join(f"/pagefind/{name}/" for name in parts[1:])}"' in page
    inodes = {p.relative_to(bundle).as_posix(): p.stat().st_ino for p in bundle.rglob("*") if p.is_file()}
    record = minimal_site / "content" / "advances" / "2021" / "world-five-axis.md"
    record.write_text(record.read_text(encoding="utf-8").replace("实时补偿热误差。", "实时补偿热误差的机器人。"),
                      encoding="utf-8")
    assert run(["build"], minimal_site).returncode == 0
    after = {p.relative_to(bundle).as_posix(): p.stat().st_ino for p in bundle.rglob("*") if p.is_file()}
    rebuilt = {rel.split("/")[0] for rel in after if inodes.get(rel) != after[rel]}
    kept = {rel.split("/")[0] for rel in after if inodes.get(rel) == after[rel]}
    # The zh and en pages of the record are in one part: it is indexed again, the others kept as they were.
    assert len(rebuilt) == 1 and rebuilt.isdisjoint(kept) and len(kept) == len(parts) - 1
    fresh = tmp_path / "fresh"
    assert run(["build", "--output", str(fresh)], minimal_site).returncode == 0
    assert digest(bundle) == digest(fresh / "pagefind")  # the same index as a full build


def test_a_failing_pagefind_fails_the_build_with_its_log_and_leaves_no_copies(minimal_site, tmp_path, monkeypatch):
    """Several parts are indexed at once: the first failure stops the build (the other run is killed), its
    log's tail is shown, nothing is published and the indexing copies are removed."""
    monkeypatch.setenv(search.PART_SIZE_ENV, "2")
    wrapper = tmp_path / "pagefind-failing"
    wrapper.write_text("#!/bin/sh\necho 'Running Pagefind'\necho 'boom: the index broke' >&2\nexit 3\n",
                       encoding="utf-8")
    wrapper.chmod(0o755)
    scratch_dirs = [Path("/dev/shm"), Path(tempfile.gettempdir())]

    def copies():
        return {p for d in scratch_dirs if d.is_dir() for pattern in ("sitegen-search-*", "sitegen-copies-*")
                for p in d.glob(pattern)}

    before = copies()
    result = run(["build"], minimal_site, env={search.BINARY_ENV: str(wrapper)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "search: Pagefind failed (exit status 3); nothing was published" in result.stderr
    assert "boom: the index broke" in result.stderr and "Traceback" not in result.stderr
    assert not (minimal_site / "output").exists()
    assert copies() <= before


def _pages(root: Path) -> list[str]:
    pages = {"a/index.html": "机器人", "b/index.html": "数控机床", "en/a/index.html": "robot 机器人"}
    for rel, text in pages.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f'<html lang="zh-CN"><body><main><h1 data-pagefind-body>{text}</h1></main></body></html>',
                                encoding="utf-8")
    (root / "index.html").write_text('<html lang="zh-CN"><body><p>首页</p></body></html>', encoding="utf-8")
    return sorted([*pages, "index.html"])


def _documents(documents: Path) -> list[tuple[str, bytes]]:
    """Every file of an indexing folder in the order the file system lists them (Pagefind numbers pages so)."""
    out = []
    for folder, dirs, files in os.walk(documents):
        for name in dirs + files:
            path = Path(folder) / name
            out.append((path.relative_to(documents).as_posix(), path.read_bytes() if path.is_file() else b""))
    return out


def test_copies_made_while_rendering_are_moved_into_place_as_the_same_documents(tmp_path):
    site = tmp_path / "site"
    pages = _pages(site)
    search.write_documents(site, tmp_path / "plain", pages)
    with search.Copies() as copies:
        folder = copies.folder
        digests = {rel: copies.add(rel, (site / rel).read_bytes()) for rel in ("b/index.html", "index.html", "a/index.html")}
        assert digests["index.html"] is None  # nothing of it is indexed: no copy
        assert digests["a/index.html"] == hashlib.sha256((site / "a/index.html").read_bytes()).hexdigest()
        assert copies.names() == {search.Copies.name("a/index.html"), search.Copies.name("b/index.html")}
        assert search.write_documents(site, tmp_path / "moved", pages, copies) == 3
        assert copies.names() == set()  # moved, not copied: the third page was split from the output
    assert _documents(tmp_path / "moved") == _documents(tmp_path / "plain")
    assert not folder.exists()


def test_a_copy_that_cannot_be_kept_is_made_from_the_page(tmp_path, monkeypatch):
    site = tmp_path / "site"
    pages = _pages(site)
    search.write_documents(site, tmp_path / "plain", pages)
    real = Path.write_text

    def full(path, *args, **kwargs):
        if path.name == search.Copies.name("b/index.html"):
            real(path, "a half-written cop", encoding="utf-8")
            raise OSError(28, "No space left on device")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    with search.Copies() as copies:
        for rel in ("a/index.html", "b/index.html", "en/a/index.html"):
            assert copies.add(rel, (site / rel).read_bytes()) is not None  # the digest, copy or not
        assert copies.full and copies.names() == {search.Copies.name("a/index.html")}  # none tried after the failure
        monkeypatch.setattr(Path, "write_text", real)
        search.write_documents(site, tmp_path / "moved", pages, copies)
    assert _documents(tmp_path / "moved") == _documents(tmp_path / "plain")


def test_a_build_indexes_the_copies_its_workers_made(minimal_site, monkeypatch):
    from sitegen import site as site_mod

    used, taken = [], []
    names, take = search.Copies.names, search.Copies.take
    monkeypatch.setattr(search.Copies, "names", lambda self: used.append(names(self)) or set(used[-1]))
    monkeypatch.setattr(search.Copies, "take", lambda self, rel, target: taken.append(rel) or take(self, rel, target))
    monkeypatch.chdir(minimal_site)
    site = site_mod.load(minimal_site / "config.yaml")
    result = site_mod.build(site)
    indexed = search.indexed_outputs(site.model)
    assert used == [{search.Copies.name(rel) for rel in indexed}]  # every indexed page: none read back and split
    assert sorted(taken) == indexed  # and each copy moved into the index's documents
    bundle = result.output / "pagefind"
    entry = json.loads((bundle / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert sum(info["page_count"] for info in entry["languages"].values()) == len(indexed)


def test_copies_leave_the_last_quarter_of_the_scratch_file_system_free(tmp_path, monkeypatch):
    site = tmp_path / "site"
    pages = _pages(site)
    real = os.statvfs
    blocks = 10_000

    def nearly_full(path):
        st = real(path)
        free = blocks // 4 + search.Copies.RESERVE // st.f_frsize  # the reserve and nothing more
        return os.statvfs_result((st.f_bsize, st.f_frsize, blocks, free, free, st.f_files, st.f_ffree, st.f_favail,
                                  st.f_flag, st.f_namemax))

    with search.Copies() as copies:
        assert copies.add("a/index.html", (site / "a/index.html").read_bytes()) is not None
        monkeypatch.setattr(search.os, "statvfs", nearly_full)
        assert copies.add("b/index.html", (site / "b/index.html").read_bytes()) is not None  # the digest all the same
        assert copies.full and copies.names() == {search.Copies.name("a/index.html")}
        monkeypatch.setattr(search.os, "statvfs", real)
        search.write_documents(site, tmp_path / "documents", pages, copies)
    search.write_documents(site, tmp_path / "plain", pages)
    assert _documents(tmp_path / "documents") == _documents(tmp_path / "plain")
