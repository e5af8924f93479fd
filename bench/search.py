"""Measure the search index: build time and size for the bundled site and for a synthetic corpus.

    python bench/search.py [N ...] [--runs 3] [--seed 1]

For the bundled site and for each N (default 1000) seeded records from bench/generate.py, it builds the
site once with `sitegen build`, then times sitegen's search stage alone (search documents + Pagefind +
canonicalisation, as run inside every build) on fresh copies of that output, ``--runs`` times, and
prints the median wall and CPU time (CPU time does not grow when the machine is busy), the pages indexed per language and the size of the bundle (total, and the word
index, page fragments and filters separately). For comparison it also indexes the same pages with
Pagefind's own Chinese word segmentation (what sitegen does not ship, see sitegen/search.py). Nothing is
asserted: the numbers go to README.md by hand.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402

from sitegen import search  # noqa: E402


def build(project: Path, out: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "sitegen", "build", "--output", str(out)], cwd=project,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr)


def cpu_seconds() -> float:
    """User + system time of this process and its finished children (Pagefind runs as a child)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def sizes(bundle: Path) -> dict[str, int]:
    files = [p for p in bundle.rglob("*") if p.is_file()]
    part = {name: sum(p.stat().st_size for p in (bundle / name).rglob("*") if p.is_file())
            for name in ("index", "fragment", "filter")}
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files), **part}


def fresh_copy(out: Path, work: Path) -> Path:
    copy = work / "copy"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("pagefind"))
    return copy


def measure(label: str, project: Path, work: Path, runs: int) -> None:
    out = work / "output"
    build(project, out)
    html = [p for p in out.rglob("*.html") if not p.is_relative_to(out / "pagefind")
            and "data-pagefind-body" in p.read_text(encoding="utf-8")]
    times, cpus, report = [], [], None
    for _ in range(runs):
        copy = fresh_copy(out, work)
        started, cpu = time.perf_counter(), cpu_seconds()
        report = search.index(copy)
        times.append(time.perf_counter() - started)
        cpus.append(cpu_seconds() - cpu)
    size = sizes(copy / "pagefind")
    copy = fresh_copy(out, work)  # Pagefind's own word segmentation, for comparison
    started, cpu = time.perf_counter(), cpu_seconds()
    subprocess.run([str(search.find_binary()), "--site", ".", "--output-subdir", "pagefind", "--quiet"], cwd=copy,
                   check=True, capture_output=True)
    native_seconds, native_cpu = time.perf_counter() - started, cpu_seconds() - cpu
    for name in search.UNUSED:  # not published by sitegen either
        (copy / "pagefind" / name).unlink(missing_ok=True)
    native = sizes(copy / "pagefind")
    langs = ", ".join(f"{n} {lang}" for lang, n in sorted(report.languages.items()))
    print(f"{label}: {len(html)} indexed pages ({sum(p.stat().st_size for p in html) / 1e6:.1f} MB HTML; {langs})\n"
          f"  sitegen search stage: median {statistics.median(times):.2f} s wall, "
          f"{statistics.median(cpus):.2f} s CPU, of {runs} ({', '.join(f'{t:.2f}' for t in times)}); bundle {size['bytes'] / 1e6:.2f} MB in {size['files']} files "
          f"(word index {size['index'] / 1e6:.2f} MB, fragments {size['fragment'] / 1e6:.2f} MB, "
          f"filters {size['filter'] / 1e3:.0f} KB)\n"
          f"  Pagefind's own segmentation: {native_seconds:.2f} s wall, {native_cpu:.2f} s CPU; bundle {native['bytes'] / 1e6:.2f} MB in "
          f"{native['files']} files (word index {native['index'] / 1e6:.2f} MB)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="*", default=[1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if search.find_binary() is None:
        raise SystemExit(f"Pagefind is not installed: {search.INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="sitegen-bench-search-") as tmp:
        work = Path(tmp)
        project = work / "bundled"
        for name in ("content", "themes"):
            shutil.copytree(REPO / name, project / name)
        shutil.copy(REPO / "config.yaml", project / "config.yaml")
        (work / "a").mkdir()
        measure("bundled site", project, work / "a", args.runs)
        for n in args.n:
            project = generate(n, work / f"corpus-{n}", args.seed)
            (work / f"b{n}").mkdir()
            measure(f"{n} synthetic records (seed {args.seed})", project, work / f"b{n}", args.runs)


if __name__ == "__main__":
    main()
