"""The ``sitegen`` command line: build, check, serve.

Exit status: 0 success, 1 content errors, 2 usage errors. No traceback unless ``--debug``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import __version__
from .errors import ContentErrors, Problems, SitegenError, UsageError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sitegen", description="Build the Intelligent Manufacturing "
                                     "Dual Top-10 site from content/ and config.yaml.")
    parser.add_argument("--version", action="version", version=f"sitegen {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default="config.yaml", help="path of config.yaml (default: ./config.yaml)")
    common.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    common.add_argument("--drafts", action="store_true", help="include records marked draft: true")
    base = argparse.ArgumentParser(add_help=False)  # for `new` and `schema`, which take no --drafts
    base.add_argument("--config", default="config.yaml", help="path of config.yaml (default: ./config.yaml)")
    base.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    build = sub.add_parser("build", parents=[common], help="build the site into the output folder")
    build.add_argument("--base-url", help="public address, e.g. https://example.org/imac/dual-top10/")
    build.add_argument("--output", help="output folder (default: output_dir from config.yaml)")

    check = sub.add_parser("check", parents=[common], help="report every content error with file:line, build nothing")
    check.add_argument("--output", nargs="?", const="", metavar="DIR",
                       help="also walk the built site (default: output_dir) for broken links, missing images and "
                            "anchors, pages without title or description, duplicate ids")

    serve = sub.add_parser("serve", parents=[common], help="build, serve on 127.0.0.1 and rebuild on change")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--output", help="output folder (default: output_dir from config.yaml)")

    from .scaffold import add_arguments as scaffold_arguments
    scaffold_arguments(sub.add_parser("new", help="scaffold a new advance, lecture, news item or year file"), base)
    schema = sub.add_parser("schema", parents=[base], help="write JSON Schema files for editors' YAML tooling")
    schema.add_argument("--out", metavar="DIR", help="folder to write to (default: docs/schemas/ beside config.yaml)")
    return parser


def print_problems(problems: Problems, stream=sys.stderr) -> None:
    for problem in problems.errors + problems.warnings:
        print(problem, file=stream)


def _overrides(args) -> dict:
    out = {}
    if getattr(args, "base_url", None):
        out["base_url"] = args.base_url
    if getattr(args, "output", None):
        out["output_dir"] = str(Path(args.output).resolve())
    return out


def _run(args) -> int:
    from . import site as site_mod

    config = Path(args.config)
    if args.command == "check":
        loaded = site_mod.load(config, drafts=args.drafts)
        print_problems(loaded.problems)
        count = len(loaded.model.advances)
        print(f"No errors: {count} advances, {len(loaded.model.years)} years, {len(loaded.model.pages)} pages.")
        if args.output is not None:
            return _check_output(loaded, args.output)
        return 0
    if args.command == "build":
        started = time.perf_counter()
        stamp = site_mod.up_to_date(config, _overrides(args), drafts=args.drafts)
        if stamp is not None:  # nothing the output depends on changed since the last build
            for problem in stamp.warnings:
                print(problem, file=sys.stderr)
            _report_build(stamp.pages, 0, 0, time.perf_counter() - started, stamp.output,
                          stamp.warnings)
            return 0
        loaded = site_mod.load(config, _overrides(args), drafts=args.drafts)
        print_problems(loaded.problems)
        reported = set(loaded.problems.warnings)
        result = site_mod.build(loaded)
        for problem in result.warnings:  # found while building, e.g. by the search index
            if problem not in reported:
                print(problem, file=sys.stderr)
        _report_build(result.pages, len(result.rendered), result.files, result.seconds, result.output, result.warnings)
        return 0
    if args.command == "serve":
        from .serve import serve
        return serve(config, args.host, args.port, _overrides(args), drafts=args.drafts)
    if args.command == "new":
        from .scaffold import run as scaffold_run
        return scaffold_run(args)
    if args.command == "schema":
        from .schemafiles import run as schema_run
        return schema_run(args)
    raise UsageError(f"unknown command {args.command}")


def _report_build(pages: int, rendered: int, files: int, seconds: float, output: Path, warnings: list) -> None:
    rel = output.relative_to(Path.cwd()) if output.is_relative_to(Path.cwd()) else output
    print(f"Built {pages} pages ({rendered} rendered, {pages - rendered} unchanged; {files} files "
          f"written) in {seconds:.2f} s → {rel}/" + (f", {len(warnings)} warning(s)" if warnings else ""))


def _check_output(loaded, output: str) -> int:
    """``check --output``: walk the built site; every problem names the record that produced the page."""
    from . import render as render_stage
    from .linkcheck import check_output, page_sources

    folder = Path(output).resolve() if output else loaded.config.output_path
    if not (folder / "index.html").is_file():
        raise UsageError(f"{folder}: no built site here — run sitegen build first")
    sources = page_sources(render_stage.plan(loaded.model, frozenset()))
    problems = check_output(folder, sources=sources)
    for problem in problems:
        print(problem, file=sys.stderr)
    pages = sum(1 for _ in folder.rglob("*.html"))
    if problems:
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the built site ({pages} pages).",
              file=sys.stderr)
        return 1
    print(f"Built site OK: {pages} pages, no broken links, anchors or images.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ContentErrors as exc:
        print_problems(exc.problems)
        n = len(exc.problems.errors)
        print(f"{n} error{'s' if n != 1 else ''} — nothing was written.", file=sys.stderr)
        return 1
    except UsageError as exc:
        print(f"sitegen: {exc}", file=sys.stderr)
        return 2
    except SitegenError as exc:
        print(f"sitegen: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback unless asked
        if args.debug:
            raise
        print(f"sitegen: internal error: {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return 1
