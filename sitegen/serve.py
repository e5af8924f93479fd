"""``sitegen serve``: build, serve the output folder on loopback, rebuild on change, reload the browser.

Bad content never stops the server: the errors are printed and the last good site stays served.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .errors import ContentErrors, SitegenError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _build(config_path: Path, overrides: dict, drafts: bool, reason: str) -> bool:
    from . import site as site_mod
    from .cli import print_problems

    started = time.perf_counter()
    try:
        loaded = site_mod.load(config_path, overrides, drafts=drafts)
        result = site_mod.build(loaded)
    except ContentErrors as exc:
        print_problems(exc.problems)
        print(f"[{reason}] {len(exc.problems.errors)} error(s); still serving the last good build", file=sys.stderr)
        return False
    except SitegenError as exc:
        print(f"[{reason}] {exc}; still serving the last good build", file=sys.stderr)
        return False
    print(f"[{reason}] {result.pages} pages written in {time.perf_counter() - started:.2f} s", flush=True)
    return True


def serve(config_path: Path, host: str, port: int, overrides: dict, drafts: bool = False) -> int:
    from livereload import Server

    from .config import load_config
    from .errors import Problems

    config = load_config(config_path, Problems(), overrides)
    if host not in LOOPBACK:
        print(f"warning: serving on {host} makes the preview reachable from other machines", file=sys.stderr)
    _build(config_path, overrides, drafts, "start")
    output = config.output_path
    output.mkdir(parents=True, exist_ok=True)

    def rebuild():
        _build(config_path, overrides, drafts, "change")

    server = Server()
    for watched in (config.content_path, config.root / "themes", config.path):
        server.watch(str(watched), rebuild, delay=0.2)
    print(f"Serving {output} at http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    server.serve(host=host, port=port, root=str(output), open_url_delay=None, restart_delay=0)
    return 0
