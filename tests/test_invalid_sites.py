"""Malformed input, end to end (issue 2): one fixture per error message under tests/sites/invalid/<case>/.

Each case is an overlay of files on top of tests/sites/minimal/ plus an ``expected.txt`` listing the
``path:line: field:`` prefix of every error the run must report (``#`` lines are comments; a case with
no prefixes must load without errors). ``sitegen check`` must exit 1 with exactly those errors, all in one
run and without a traceback; ``sitegen build`` must exit 1 too and leave the previous output untouched.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SITES = Path(__file__).resolve().parent / "sites"
CASES = sorted(p.name for p in (SITES / "invalid").iterdir() if (p / "expected.txt").is_file())
SUMMARY = re.compile(r"^(\d+) errors? — nothing was written\.$")


def sitegen(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sitegen", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def expected(case: str) -> list[str]:
    text = (SITES / "invalid" / case / "expected.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@dataclass
class Run:
    case: str
    check: subprocess.CompletedProcess
    build: subprocess.CompletedProcess
    site: Path  # the copy that was built
    before: dict  # digest of output/ before the build


@pytest.fixture(scope="module", params=CASES)
def run(request, tmp_path_factory, make_site) -> Run:
    """Run ``sitegen check`` and ``sitegen build`` on two copies of the case at the same time."""
    case = request.param
    tmp = tmp_path_factory.mktemp(case)
    check_site = make_site(tmp / "check", "minimal", f"invalid/{case}")
    build_site = make_site(tmp / "build", "minimal", f"invalid/{case}")
    output = build_site / "output"
    (output / "sub").mkdir(parents=True)
    (output / "index.html").write_bytes(b"<p>previous build</p>\n")
    (output / "sub" / "data.bin").write_bytes(bytes(range(256)))
    before = digest(output)
    check, build = sitegen("check", cwd=check_site), sitegen("build", cwd=build_site)
    return Run(case, finish(check), finish(build), build_site, before)


def test_there_are_enough_cases():
    assert len(CASES) >= 24


def test_check_reports_every_error(run):
    prefixes = expected(run.case)
    result = run.check
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in result.stderr
    if not prefixes:
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("No errors"), result.stdout
        return
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    errors = [line for line in lines if not line.endswith("(warning)") and not SUMMARY.match(line)]
    for prefix in prefixes:
        assert any(line.startswith(prefix) for line in errors), f"{prefix!r} not in:\n{result.stderr}"
    # Exactly the expected errors: nothing missing, no cascade of follow-on errors.
    assert len(errors) == len(prefixes), result.stderr
    assert SUMMARY.match(lines[-1]) and int(SUMMARY.match(lines[-1])[1]) == len(prefixes), result.stderr
    for line in errors:  # path:line: [field: ]problem — fix
        assert re.match(r"^[^\s:]+:\d+: .+ — .+$", line), line


def test_build_fails_and_keeps_previous_output(run):
    result = run.build
    output = run.site / "output"
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in result.stderr
    if not expected(run.case):
        assert result.returncode == 0, result.stderr
        assert (output / "index.html").read_bytes() != b"<p>previous build</p>\n"
        return
    assert result.returncode == 1, result.stdout + result.stderr
    assert "nothing was written" in result.stderr
    assert digest(output) == run.before
    leftovers = [p.name for p in run.site.iterdir() if p.name.startswith((".output.staging-", ".output.old-"))]
    assert leftovers == []


def test_encoding_fixtures_keep_their_bytes():
    """Guard against a checkout that converts the byte-level fixtures (see .gitattributes)."""
    invalid = SITES / "invalid"
    assert (invalid / "bom/content/advances/2021/world-bom.md").read_bytes().startswith(b"\xef\xbb\xbf---\n")
    assert b"\r\n" in (invalid / "crlf/content/advances/2021/world-crlf.md").read_bytes()
    assert b"\r\n" in (invalid / "crlf/content/years/2021.yaml").read_bytes()
    assert b"\xe9" in (invalid / "non-utf8/content/advances/2021/world-x.md").read_bytes()
    assert b"\x00" in (invalid / "nul-character/content/pages/about.md").read_bytes()


def test_minimal_site_is_valid(minimal_site):
    result = finish(sitegen("check", cwd=minimal_site))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("No errors: 3 advances, 1 years, 1 pages")
    assert result.stderr == ""
