"""sitegen.content: discovery and parsing of every content file, all problems collected."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.content import discover
from sitegen.errors import Problems


def write(site: Path, rel: str, data: str | bytes) -> None:
    path = site / "content" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def discovered(site: Path):
    problems = Problems()
    content = discover(site, site / "content", problems)
    return content, [str(p) for p in problems.errors]


def test_minimal_site(minimal_site):
    content, errors = discovered(minimal_site)
    assert errors == []
    assert [r.stem for r in content.advances] == ["china-defect-vision", "world-five-axis", "world-vision-welding"]
    assert [r.stem for r in content.pages] == ["about"]
    assert list(content.years) == [2021]
    assert all(d.ok for d in (content.categories, content.industries, content.societies, content.years[2021]))
    record = content.advances[1]
    assert record.line == 2 and record.line_of("rank") == 6 and record.line_of("nope") == 2
    assert record.body_line == 19 and record.body.startswith("\n## 背景与意义")
    assert record.invalid == frozenset()
    assert str(minimal_site / "content" / "years" / "2021.yaml") in content.files


def test_english_body(minimal_site):
    write(minimal_site, "advances/2021/world-five-axis.en.md", "## Background and significance\n\nText.\n")
    content, errors = discovered(minimal_site)
    assert errors == []
    record = next(r for r in content.advances if r.stem == "world-five-axis")
    assert record.body_en.startswith("## Background")
    assert record.rel_en == "content/advances/2021/world-five-axis.en.md"


def test_english_body_not_utf8(minimal_site):
    write(minimal_site, "advances/2021/world-five-axis.en.md", b"ok\ncaf\xe9\n")
    _, errors = discovered(minimal_site)
    assert errors == ["content/advances/2021/world-five-axis.en.md:2: not valid UTF-8 (byte 0xe9) — save the file "
                      "as UTF-8"]


def test_empty_front_matter_reports_required_fields(minimal_site):
    write(minimal_site, "pages/x.md", "---\n---\nbody\n")
    _, errors = discovered(minimal_site)
    assert errors == ["content/pages/x.md:2: title: is required — add 'title: …' (Chinese title)"]


def test_empty_year_file(minimal_site):
    write(minimal_site, "years/2021.yaml", "")
    content, errors = discovered(minimal_site)
    assert errors == ["content/years/2021.yaml:1: year: is required — add 'year: …' (equal to the file name)"]
    assert not content.years[2021].ok


def test_empty_taxonomy_file_is_not_an_error(minimal_site):
    write(minimal_site, "industries.yaml", "# none yet\n")
    content, errors = discovered(minimal_site)
    assert errors == [] and content.industries.values == {} and content.industries.ok


@pytest.mark.parametrize("text", ["automotive:\n\tname: x\n", "- a\n", "automotive: {name: x}\n", "Bad: {}\n"])
def test_taxonomy_file_with_errors_is_not_ok(minimal_site, text):
    write(minimal_site, "industries.yaml", text)
    content, errors = discovered(minimal_site)
    assert errors and all(e.startswith("content/industries.yaml:") for e in errors)
    assert not content.industries.ok


def test_invalid_fields_are_remembered(minimal_site):
    write(minimal_site, "advances/2021/world-x.md",
          "---\ntitle: t\nyear: 2021\nlist: world\norganizations: [a]\nrank: 99\nsource: {publisher: p}\n---\n")
    content, errors = discovered(minimal_site)
    assert len(errors) == 2
    record = next(r for r in content.advances if r.stem == "world-x")
    assert record.invalid == {"rank", "source"}


def test_year_file_names(minimal_site):
    write(minimal_site, "years/latest.yaml", "year: 2021\n")
    write(minimal_site, "years/2022.yaml", "year: 2021\n")
    _, errors = discovered(minimal_site)
    assert errors == [
        "content/years/2022.yaml:1: year: 2021 does not match the file name 2022.yaml — write year: 2022 or rename "
        "the file",
        "content/years/latest.yaml: a year file must be named after its year — rename it, e.g. 2021.yaml",
    ]


def test_advance_folders(minimal_site):
    write(minimal_site, "advances/loose.md", "---\ntitle: x\n---\n")
    write(minimal_site, "advances/misc/world-x.md", "---\ntitle: x\n---\n")
    write(minimal_site, "advances/2021/_draft-notes.md", "not front matter")
    write(minimal_site, "advances/2021/notes.txt", "ignored")
    _, errors = discovered(minimal_site)
    assert [e.split(" — ")[0] for e in errors] == [
        "content/advances/loose.md: advances live in a folder per year",
        "content/advances/misc: the folder name is not a year",
    ]


def test_missing_files_and_folders(tmp_path):
    (tmp_path / "content").mkdir()
    content, errors = discovered(tmp_path)
    assert errors == [f"content/{name}.yaml: file is missing — create content/{name}.yaml"
                      for name in ("categories", "industries", "societies")]
    assert content.advances == [] and content.years == {}


# --- RecordCache: unchanged files are not parsed again ------------------------------------------------

def cached_discover(site: Path, cache_file: Path):
    from sitegen.content import RecordCache

    problems = Problems()
    cache = RecordCache(cache_file)
    content = discover(site, site / "content", problems, cache)
    return content, [str(p) for p in problems.errors], cache


def test_record_cache_reuses_unchanged_files_and_reparses_changed_ones(minimal_site, tmp_path, monkeypatch):
    import sitegen.content as content_mod

    cache_file = tmp_path / "records.pickle"
    first, errors, _ = cached_discover(minimal_site, cache_file)
    assert errors == [] and cache_file.is_file()
    parsed = []
    real = content_mod.parse_markdown
    monkeypatch.setattr(content_mod, "parse_markdown", lambda path, *a: parsed.append(path.name) or real(path, *a))
    again, errors, _ = cached_discover(minimal_site, cache_file)
    assert parsed == [] and errors == []
    assert [(r.rel, r.meta, r.body, r.body_en, r.lines) for r in again.advances] == [
        (r.rel, r.meta, r.body, r.body_en, r.lines) for r in first.advances]

    target = first.advances[0].path
    target.write_text(target.read_text(encoding="utf-8").replace("\n---\n", "\n---\n改过的第一句。\n", 1),
                      encoding="utf-8")
    target.with_name(first.advances[1].path.stem + ".en.md").write_text("English body.\n", encoding="utf-8")
    changed, errors, _ = cached_discover(minimal_site, cache_file)
    assert sorted(parsed) == sorted([target.name, first.advances[1].path.name]) and errors == []
    assert changed.advances[0].body.startswith("改过的第一句。")
    assert changed.advances[1].body_en == "English body.\n"


def test_saving_the_record_cache_leaves_no_utf8_copy_of_the_text_in_the_build(minimal_site, tmp_path):
    import pickle
    import sys

    content, _, _ = cached_discover(minimal_site, tmp_path / "records.pickle")  # parsed, then saved
    body = content.advances[0].body
    fresh = "".join(list(body))  # an equal string that was never encoded
    assert not body.isascii() and sys.getsizeof(body) == sys.getsizeof(fresh)
    pickle.dumps(fresh)  # what pickling in this process does: CPython keeps the UTF-8 form in the string
    assert sys.getsizeof(fresh) > sys.getsizeof(body)


def test_record_cache_never_keeps_a_file_with_problems(minimal_site, tmp_path):
    cache_file = tmp_path / "records.pickle"
    write(minimal_site, "advances/2021/broken.md", "---\ntitle: [unclosed\n---\n")
    for _ in range(2):  # the second run must report the same error again
        _, errors, cache = cached_discover(minimal_site, cache_file)
        assert any("broken.md" in e for e in errors)
        assert not any(rel.endswith("broken.md") for rel in cache.new)


def test_record_cache_of_another_sitegen_version_is_ignored(minimal_site, tmp_path, monkeypatch):
    import pickle

    from sitegen import incremental

    cache_file = tmp_path / "records.pickle"
    cached_discover(minimal_site, cache_file)
    version, entries = pickle.loads(cache_file.read_bytes())
    cache_file.write_bytes(pickle.dumps(("another version", entries)))
    _, _, cache = cached_discover(minimal_site, cache_file)
    assert cache.old == {} and version == incremental.code_version()


def test_files_under_lists_what_rglob_and_is_file_list(tmp_path):
    from sitegen.content import _files_under

    (tmp_path / "a/b").mkdir(parents=True)
    (tmp_path / "a/b/one.md").write_text("x")
    (tmp_path / "a/two.yaml").write_text("x")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere/three.md").write_text("x")
    (tmp_path / "a/link-to-file.md").symlink_to(tmp_path / "a/two.yaml")
    (tmp_path / "a/link-to-folder").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "a/loop").symlink_to(tmp_path / "a")
    (tmp_path / "a/broken.md").symlink_to(tmp_path / "nothing")
    expected = sorted(p for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert sorted(_files_under(tmp_path / "a")) == sorted(map(str, expected))
    assert [p.name for p in expected] == ["one.md", "link-to-file.md", "two.yaml"]
    assert _files_under(tmp_path / "missing") == []


def test_records_not_cached_are_parsed_on_all_cores_with_the_same_result(minimal_site, monkeypatch):
    """A first build parses its records ahead in forked workers (RecordCache.prepare): the same records and the
    same problems, each with its file and line, as parsing them one by one."""
    import sitegen.content as content_mod

    template = (minimal_site / "content" / "advances" / "2021" / "world-five-axis.md").read_text(encoding="utf-8")
    for year in range(2001, 2011):
        for i in range(1, 9):
            text = template.replace("year: 2021", f"year: {year}").replace("rank: 1", f"rank: {i}")
            if (year, i) == (2004, 3):
                text = text.replace("list: world", "list: moon")  # an error, reported from a worker
            if (year, i) == (2007, 5):
                text = text.replace("---\n", "---\ntitle: [unclosed\n", 1)  # a YAML error
            write(minimal_site, f"advances/{year}/world-{i:02d}.md", text)
    spread, in_parent = [], []
    real, parse = content_mod.map_items, content_mod.parse_markdown
    monkeypatch.setattr(content_mod, "map_items", lambda func, items: spread.append(len(items)) or real(func, items))
    monkeypatch.setattr(content_mod, "parse_markdown", lambda path, *a: in_parent.append(path) or parse(path, *a))
    parallel, parallel_errors = discovered(minimal_site)  # the workers' calls are not seen here
    assert spread == [len(parallel.advances) + len(parallel.pages) + 1]  # every record file (one failed to parse)
    assert in_parent == []  # the records and messages of the workers are used, not parsed again
    monkeypatch.setattr(content_mod, "MIN_PARALLEL", 10**9)
    serial, serial_errors = discovered(minimal_site)
    assert len(spread) == 1 and len(parallel.advances) == 82
    assert parallel_errors == serial_errors and any("world-05.md:" in e for e in serial_errors)
    assert any("2004/world-03.md:" in e and "list" in e for e in serial_errors)
    assert parallel.advances == serial.advances and parallel.pages == serial.pages


def test_a_discovery_takes_each_record_files_stamp_once(minimal_site, tmp_path, monkeypatch):
    import sitegen.content as content_mod

    cached_discover(minimal_site, tmp_path / "records.pickle")
    stamped = []
    real = content_mod.RecordCache.stamp
    monkeypatch.setattr(content_mod.RecordCache, "stamp", staticmethod(lambda path, *a: stamped.append(path) or real(path, *a)))
    again, errors, _ = cached_discover(minimal_site, tmp_path / "records.pickle")
    records = [r.path for r in again.advances + again.pages]
    stamped_records = sorted(str(path) for path in stamped if str(path).endswith(".md"))
    assert errors == [] and stamped_records == sorted(map(str, records))  # once each: not again when looked up
