"""sitegen.config: config.yaml is validated by the one schema, every error named with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.config import CONFIG, load_config
from sitegen.errors import Problems, UsageError
from sitegen.yamlio import load_yaml, read_text

REPO = Path(__file__).resolve().parents[1]
VALID = "title: 站点\ntitle_en: Site\n"


def load(tmp_path: Path, text: str | bytes, overrides: dict | None = None):
    path = tmp_path / "config.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    problems = Problems()
    config = load_config(path, problems, overrides)
    return config, [str(p) for p in problems.errors]


def test_defaults(tmp_path):
    config, errors = load(tmp_path, VALID)
    assert errors == []
    assert config.title == "站点" and config.title_en == "Site"
    assert config.base_url == "http://127.0.0.1:8000/"
    assert (config.language, config.timezone, config.theme) == ("zh", "Asia/Shanghai", "default")
    assert config.news_per_page == 10
    assert config.root == tmp_path.resolve()
    assert config.content_path == (tmp_path / "content").resolve()
    assert config.output_path == (tmp_path / "output").resolve()
    with pytest.raises(AttributeError):
        config.no_such_setting


def test_the_repository_config_is_valid():
    problems = Problems()
    config = load_config(REPO / "config.yaml", problems)
    assert not problems.errors
    assert config.content_path == REPO / "content"


def test_the_repository_config_matches_the_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(dict(load_yaml(read_text(REPO / "config.yaml"))), CONFIG.json_schema())


@pytest.mark.parametrize("base_url, path, origin", [
    ("https://example.org", "/", "https://example.org"),
    ("https://example.org/", "/", "https://example.org"),
    ("https://example.org/imac/dual-top10", "/imac/dual-top10/", "https://example.org"),
    ("http://127.0.0.1:8000/sub/", "/sub/", "http://127.0.0.1:8000"),
])
def test_base_path_and_origin(tmp_path, base_url, path, origin):
    config, errors = load(tmp_path, VALID + f"base_url: {base_url}\n")
    assert errors == []
    assert config.base_path == path and config.origin == origin


def test_overrides_win(tmp_path):
    config, errors = load(tmp_path, VALID, {"base_url": "https://x.org/a/", "output_dir": "/tmp/elsewhere",
                                             "theme": None})
    assert errors == []
    assert config.base_path == "/a/"
    assert config.output_path == Path("/tmp/elsewhere").resolve()
    assert config.theme == "default"


def test_with_values(tmp_path):
    config, _ = load(tmp_path, VALID)
    other = config.with_values(base_url="https://y.org/b/")
    assert other.base_path == "/b/" and config.base_path == "/"


def test_unknown_key(tmp_path):
    _, errors = load(tmp_path, VALID + "theme_dir: themes\nfavicon: x.svg\n")
    assert errors[0] == "config.yaml:3: theme_dir: unknown field — did you mean 'theme'?"
    assert errors[1].startswith("config.yaml:4: favicon: unknown field — remove it; known fields: base_url, ")
    assert len(errors) == 2


def test_wrong_types_all_reported(tmp_path):
    _, errors = load(tmp_path, "title: 2021\ntitle_en: yes\nnews_per_page: ten\nlanguage: en\n"
                               "base_url: example.org\ntheme: ../evil\n")
    assert [e.split(" — ")[0] for e in errors] == [
        "config.yaml:1: title: expected text, got the number 2021",
        "config.yaml:2: title_en: expected text, got the boolean true (YAML reads yes/no/on/off/true/false as "
        "booleans)",
        "config.yaml:3: news_per_page: expected a whole number, got the text 'ten'",
        "config.yaml:4: language: the text 'en' is not one of zh",
        "config.yaml:5: base_url: 'example.org' is not a web address",
        "config.yaml:6: theme: '../evil' is not valid",
    ]


def test_wrong_values_fall_back_to_defaults(tmp_path):
    config, errors = load(tmp_path, VALID + "news_per_page: 0\n")
    assert errors == ["config.yaml:3: news_per_page: 0 is out of range (1–100) — use a number from 1 to 100"]
    assert config.news_per_page == 10


def test_unknown_timezone(tmp_path):
    config, errors = load(tmp_path, VALID + "timezone: Mars/Olympus\n")
    assert errors == ["config.yaml:3: timezone: unknown time zone 'Mars/Olympus' — use an IANA name such as "
                      "Asia/Shanghai"]
    assert config.timezone == "Asia/Shanghai"


@pytest.mark.parametrize("output_dir", [".", "..", "content", "./content/", "/"])
def test_output_dir_must_not_overwrite_the_project(tmp_path, output_dir):
    (tmp_path / "content").mkdir()
    _, errors = load(tmp_path, VALID + f"output_dir: '{output_dir}'\n")
    assert len(errors) == 1 and errors[0].startswith("config.yaml:3: output_dir: ")


def test_output_dir_of_its_own(tmp_path):
    _, errors = load(tmp_path, VALID + "output_dir: public\n")
    assert errors == []


def test_missing_required(tmp_path):
    _, errors = load(tmp_path, "title_en: Site\n")
    assert errors == ["config.yaml:1: title: is required — add 'title: …' (site title, Chinese)"]


def test_empty_file(tmp_path):
    _, errors = load(tmp_path, "")
    assert [e.split(" — ")[0] for e in errors] == ["config.yaml:1: title: is required",
                                                    "config.yaml:1: title_en: is required"]


def test_not_a_mapping(tmp_path):
    _, errors = load(tmp_path, "- title\n- title_en\n")
    assert len(errors) == 1 and errors[0].startswith("config.yaml:1: expected 'field: value' lines, got a list")


def test_broken_yaml_is_the_only_error(tmp_path):
    _, errors = load(tmp_path, 'title: 站点\ntitle_en: "Site\nbase_url: http://a.b/\n')
    assert len(errors) == 1
    assert errors[0].startswith("config.yaml:2: invalid YAML: ")


def test_duplicate_key(tmp_path):
    _, errors = load(tmp_path, VALID + "title: 又一个\n")
    assert errors == ["config.yaml:3: title: duplicate key (first set on line 1) — keep only one of them"]


def test_not_utf8_is_the_only_error(tmp_path):
    _, errors = load(tmp_path, "title: caf\xe9\ntitle_en: x\n".encode("latin-1"))
    assert errors == ["config.yaml:1: not valid UTF-8 (byte 0xe9) — save the file as UTF-8"]


def test_bom_and_crlf(tmp_path):
    config, errors = load(tmp_path, b"\xef\xbb\xbftitle: t\r\ntitle_en: e\r\nnews_per_page: 5\r\n")
    assert errors == [] and config.news_per_page == 5


def test_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no config file here"):
        load_config(tmp_path / "config.yaml", Problems())
