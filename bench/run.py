"""Benchmark sitegen (and, where installed, Pelican and Hugo on the same corpus).

    python bench/run.py [N ...] [--edits 100] [--skip-others]

For each N (default 1000 and 10000) it generates a seeded corpus (bench/generate.py) and prints, for
sitegen: cold build, warm rebuild with nothing changed, one record changed (one-shot build) and one record
changed under ``serve`` (from the start of a save to the pages written: the server's file watcher and its
rebuild, median of --edits edits, with the memory before and after); each with wall time, CPU time and peak
memory. Pelican (cache on) and Hugo build the same records with minimal themes in the same run, so ratios
are like for like. Nothing here is asserted: the numbers go to bench/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402

PY = sys.executable


def timed(cmd: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Wall, CPU (user+sys, the process tree) and peak RSS of one command."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    out = proc.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out[-3000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024, "out": out}


def edited_record(project: Path) -> Path:
    """The record the benchmark edits (the same one every time)."""
    files = sorted((project / "content" / "advances").glob("*/*.md"))
    return files[len(files) // 2]


def touch_record(project: Path, i: int, path: Path | None = None) -> Path:
    """Edit the body of one record, as an editor saving a file would."""
    path = path or edited_record(project)
    text = re.sub(r"\n编辑\d+。\n", "\n", path.read_text(encoding="utf-8"))
    path.write_text(text.replace("## 应用情况\n", f"## 应用情况\n编辑{i}。\n", 1), encoding="utf-8")
    return path


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_sitegen(project: Path, edits: int) -> dict:
    shutil.rmtree(project / "output", ignore_errors=True)
    shutil.rmtree(project / ".sitegen-cache", ignore_errors=True)
    res = {"cold": timed([PY, "-m", "sitegen", "build"], project)}
    res["warm"] = timed([PY, "-m", "sitegen", "build"], project)
    touch_record(project, 0)
    res["one_change"] = timed([PY, "-m", "sitegen", "build"], project)

    # Under serve: from the start of a save to the pages written, in this process, with what the server runs:
    # its file watcher (which reports a save once the file has been quiet for 50 ms) and its rebuild.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from sitegen.config import load_config
    from sitegen.errors import Problems
    from sitegen.serve import Preview
    from sitegen.site import watched_paths
    from sitegen.watch import ChangeWatcher

    cwd = os.getcwd()
    os.chdir(project)
    try:
        preview = Preview(project / "config.yaml", {}, False)
        preview.rebuild("bench", live=False)
        watcher = ChangeWatcher()
        for path in watched_paths(load_config(project / "config.yaml", Problems(), {})):
            watcher.watch(str(path))
        ready, saved, failed, noticed = threading.Event(), threading.Event(), [], []
        watcher.follow(lambda: (noticed.append(time.perf_counter()), saved.set()), failed.append, ready.set)
        if not ready.wait(60):
            raise SystemExit("the file watcher did not start")
        preview.watch_started()
        times, waits, before = [], [], None
        record = edited_record(project)
        for i in range(1, edits + 1):
            saved.clear()
            noticed.clear()
            started = time.perf_counter()
            touch_record(project, i, record)
            if not saved.wait(30):
                raise SystemExit(f"the file watcher reported no change {failed}")
            with contextlib.redirect_stdout(io.StringIO()):
                preview.rebuild("bench", changed=watcher.take())
            times.append(time.perf_counter() - started)
            waits.append(noticed[0] - started)
            if i == min(5, edits):
                before = rss_mib()
        res["serve"] = {"median": statistics.median(times), "max": max(times), "noticed": statistics.median(waits),
                        "rss_before": before, "rss_after": rss_mib(), "edits": edits}
        watcher.stop()
    finally:
        os.chdir(cwd)
    return res


PELICAN_CONF = """AUTHOR = 'bench'
SITENAME = 'bench'
SITEURL = ''
TIMEZONE = 'Asia/Shanghai'
DEFAULT_LANG = 'zh'
DEFAULT_PAGINATION = 10
LOAD_CONTENT_CACHE = True
CACHE_CONTENT = True
CONTENT_CACHING_LAYER = 'reader'
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
MARKDOWN = {'extension_configs': {'markdown.extensions.tables': {}, 'markdown.extensions.toc': {}}, 'output_format': 'html5'}
"""

HUGO_LAYOUTS = {
    "baseof.html": "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{{ .Title }}</title>"
                   "</head><body>{{ block \"main\" . }}{{ end }}</body></html>",
    "single.html": "{{ define \"main\" }}<h1>{{ .Title }}</h1>{{ .TableOfContents }}{{ .Content }}{{ end }}",
    "list.html": "{{ define \"main\" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}<li><a href=\"{{ .RelPermalink }}\">"
                 "{{ .Title }}</a></li>{{ end }}</ul>{{ end }}",
}


def export_others(project: Path, dest: Path) -> tuple[Path, Path]:
    import yaml

    pel, hugo = dest / "pelican", dest / "hugo"
    for folder in (pel / "content", hugo / "content" / "advances", hugo / "layouts" / "_default"):
        folder.mkdir(parents=True, exist_ok=True)
    (pel / "pelicanconf.py").write_text(PELICAN_CONF, encoding="utf-8")
    (hugo / "hugo.yaml").write_text("baseURL: http://127.0.0.1/\ntitle: bench\ntaxonomies:\n  category: categories\n"
                                    "  tag: tags\n  organization: organizations\n", encoding="utf-8")
    for name, text in HUGO_LAYOUTS.items():
        (hugo / "layouts" / "_default" / name).write_text(text, encoding="utf-8")
    for path in sorted((project / "content" / "advances").glob("*/*.md")):
        text = path.read_text(encoding="utf-8")
        _, front, body = text.split("---", 2)
        meta = yaml.safe_load(front)
        name = f"{meta['year']}-{path.stem}"
        date = f"{meta['year']}-12-01"
        (pel / "content" / f"{name}.md").write_text(
            f"Title: {meta['title']}\nDate: {date}\nCategory: {meta['categories'][0]}\n"
            f"Tags: {', '.join(meta['categories'] + meta['industries'])}\nSlug: {name}\n"
            f"Summary: {meta['summary']}\n\n{body}", encoding="utf-8")
        hugo_meta = {"title": meta["title"], "date": date, "categories": meta["categories"],
                     "tags": meta["industries"], "organizations": meta["organizations"], "summary": meta["summary"]}
        (hugo / "content" / "advances" / f"{name}.md").write_text(
            "---\n" + yaml.safe_dump(hugo_meta, allow_unicode=True) + "---\n" + body, encoding="utf-8")
    return pel, hugo


def bench_others(project: Path, dest: Path) -> dict:
    pel, hugo = export_others(project, dest)
    res = {}
    if shutil.which("pelican"):
        res["pelican_cold"] = timed(["pelican", "content", "-o", "output", "-s", "pelicanconf.py", "-q"], pel)
        one = sorted((pel / "content").glob("*.md"))[0]
        one.write_text(one.read_text(encoding="utf-8") + "\n编辑。\n", encoding="utf-8")
        res["pelican_one_change"] = timed(["pelican", "content", "-o", "output", "-s", "pelicanconf.py", "-q"], pel)
    if shutil.which("hugo"):
        res["hugo_cold"] = timed(["hugo", "--quiet", "--destination", "public"], hugo)
    return res


def fmt(r: dict) -> str:
    return f"{r['wall']:7.2f} s wall {r['cpu']:7.2f} s CPU {r['rss_mib']:6.0f} MiB peak"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--skip-others", action="store_true", help="do not run Pelican and Hugo")
    parser.add_argument("--keep", type=Path, help="generate corpora under this folder and keep them")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="sitegen-bench-"))
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; workers "
          f"{os.environ.get('SITEGEN_WORKERS', 'all cores')}")
    for n in args.sizes:
        project = workdir / f"corpus-{n}"
        generate(n, project)
        print(f"\n== N = {n} advance records ==")
        res = bench_sitegen(project, args.edits)
        for name in ("cold", "warm", "one_change"):
            print(f"sitegen {name:<14} {fmt(res[name])}")
        s = res["serve"]
        print(f"sitegen serve edit     {s['median'] * 1000:7.0f} ms median, {s['max'] * 1000:.0f} ms max over "
              f"{s['edits']} edits (noticed after {s['noticed'] * 1000:.0f} ms median); "
              f"RSS {s['rss_before']:.0f} → {s['rss_after']:.0f} MiB")
        if not args.skip_others:
            others = bench_others(project, workdir / f"others-{n}")
            for name, r in others.items():
                print(f"{name:<22} {fmt(r)}")
            cold = res["cold"]["wall"]
            if "pelican_cold" in others:
                print(f"ratio cold sitegen/Pelican = {cold / others['pelican_cold']['wall']:.2f}; one change "
                      f"sitegen/Pelican = {res['one_change']['wall'] / others['pelican_one_change']['wall']:.2f}")
            if "hugo_cold" in others:
                print(f"ratio cold sitegen/Hugo = {cold / others['hugo_cold']['wall']:.2f}")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
