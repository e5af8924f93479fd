"""``sitegen serve``: build, serve the output folder on loopback, rebuild what a change touched, reload.

- Only files under the output folder are served: paths are resolved (symlinks included) and must stay
  inside it; anything else is the site's own 404 page.
- Bad content never stops the server: the terminal shows the ``path:line`` messages and every page
  shows them too (an error page with the live-reload script), until a fix restores the site.
- The live-reload websocket accepts connections only from pages of this server (same origin);
  livereload's unauthenticated ``/forcereload`` endpoint is not exposed.
- On a loopback address, requests whose ``Host`` is another name (DNS rebinding: a site re-pointing its
  own name at 127.0.0.1) get neither pages nor the websocket; paths that are not UTF-8 or hold a NUL
  are not found (404), like any other path outside the output folder.
"""

from __future__ import annotations

import gc
import html
import os
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ContentErrors, Problems, SitegenError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Preview:
    """The state of a preview: the last build's errors (if any) and the rebuild logic."""

    def __init__(self, config_path: Path, overrides: dict, drafts: bool):
        from .site import Warm

        self.config_path, self.overrides, self.drafts = config_path, overrides, drafts
        self.errors: list[str] = []
        self.warm = Warm()  # records, Markdown and build state stay in memory between rebuilds
        self.reused = False  # the last rebuild kept the model (see site.Kept)
        # Files changed since the last successful build, as the file watcher reported them; None: unknown
        # (no build yet, or one that started before the watcher did), the rebuild then looks at every file.
        self.pending: set[str] | None = None
        self.watching = False  # the watcher reports every change from now on (see sitegen.watch)

    def start(self) -> None:
        """The preview's first build: a full, staged build, unless the output folder is already what it would
        write (the preview ran before with the same settings); then a build that writes no page but leaves the
        model and the plan in memory, so that the first save is as quick as the next ones (see site.Kept)."""
        from . import site as site_mod

        stamp = site_mod.up_to_date(self.config_path, self.overrides, self.drafts)
        if stamp is None:
            self.rebuild("start", live=False)
        else:
            print(f"[start] up to date: {stamp.pages} pages", flush=True)
            self.rebuild("start")

    def watch_started(self) -> None:
        """The file watcher reports every change from now on. A change saved while it was starting is found by
        comparing the files with the stamp of the first (staged) build; after a start on an up-to-date output
        (whose live rebuild removed the stamp) that is a rebuild looking at every file, quick with the kept
        model. After a first build that failed, the next save rebuilds everything anyway."""
        from . import site as site_mod

        self.watching = True
        if not self.errors and site_mod.up_to_date(self.config_path, self.overrides, self.drafts) is None:
            self.rebuild("change")

    def close(self) -> None:
        """Write what the rebuilds kept in memory to the cache folder (the next run starts from it)."""
        self.warm.save()

    def rebuild(self, reason: str, live: bool = True, changed: set[str] | None = None) -> bool:
        """Build again; the cyclic garbage collector waits until the pages are written.

        ``changed``: the paths the file watcher reported since the previous call (None: not known). Once
        a build that started while the watcher was running has succeeded, later rebuilds read only the
        files reported changed since (see site.load).

        A rebuild allocates millions of objects next to the ones the preview keeps (records, Markdown,
        the model): with the collector on, its passes over that heap took a quarter of a rebuild at 10,000
        records. The garbage of the rebuild is collected once, after the report: the young objects only
        when the model was kept (see site.Kept), else everything (the previous model is garbage now)."""
        enabled = gc.isenabled()
        gc.disable()
        self.reused = False
        self.pending = None if changed is None or self.pending is None else self.pending | changed
        trusted = self.watching
        try:
            done = self._rebuild(reason, live)
            if done:
                self.pending = set() if trusted else None
            return done
        finally:
            if enabled:
                gc.enable()
                gc.collect(1 if self.reused else 2)

    def _rebuild(self, reason: str, live: bool) -> bool:
        from . import site as site_mod
        from .cli import print_problems

        started = time.perf_counter()
        try:
            loaded = site_mod.load(self.config_path, self.overrides, drafts=self.drafts, warm=self.warm,
                                   changed=self.pending)
            result = site_mod.build(loaded, live=live, warm=self.warm)
        except ContentErrors as exc:
            print_problems(exc.problems)
            self.errors = [str(p) for p in exc.problems.errors]
            print(f"[{reason}] {len(self.errors)} error(s) — the browser shows them until they are fixed",
                  file=sys.stderr, flush=True)
            return False
        except SitegenError as exc:
            self.errors = [str(exc)]
            print(f"[{reason}] {exc}", file=sys.stderr, flush=True)
            return False
        self.errors = []
        self.reused = result.reused
        changed = ", ".join(result.changed[:3]) + (f" (+{len(result.changed) - 3})" if len(result.changed) > 3 else "")
        if not changed:
            changed = "full build" if len(result.rendered) == result.pages else "no source change"
        print(f"[{reason}] {changed}: {len(result.rendered)} of {result.pages} pages "
              f"rewritten in {(time.perf_counter() - started) * 1000:.0f} ms", flush=True)
        return True

    def error_page(self) -> bytes:
        items = "".join(f"<li><code>{html.escape(e)}</code></li>" for e in self.errors)
        return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>sitegen: errors</title>"
                "<style>body{font:16px/1.6 system-ui,sans-serif;margin:2rem;color:#1a1f24}"
                "h1{color:#a3221b}code{white-space:pre-wrap}li{margin:.5em 0}</style></head><body>"
                f"<h1 id=\"sitegen-errors\">sitegen: the content has {len(self.errors)} error(s)</h1>"
                f"<ol class=\"sitegen-errors\">{items}</ol><p>Fix the file and save: this page reloads.</p>"
                "</body></html>").encode("utf-8")


def local_request(host_header: str, bound_host: str) -> bool:
    """Whether a request's Host names this machine's loopback address (always true when the server was
    deliberately bound to another address)."""
    if bound_host not in LOOPBACK:
        return True
    name = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
    return name.strip("[]").lower() in LOOPBACK


def make_server(preview: Preview, output: Path):
    """A livereload server that serves only ``output`` and shows build errors instead of stale pages."""
    from livereload import Server
    from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
    from livereload.server import LiveScriptInjector
    from tornado import web

    from .watch import ChangeWatcher

    root = output.resolve()
    bound = {"host": "127.0.0.1"}  # the address the server listens on (set when it starts)

    class SiteHandler(web.StaticFileHandler):
        def prepare(self):
            if not local_request(self.request.host, bound["host"]):
                raise web.HTTPError(403)  # DNS rebinding: another site's name pointed at this machine

        def decode_argument(self, value, name=None):
            try:
                decoded = super().decode_argument(value, name)
            except web.HTTPError:  # not UTF-8 (e.g. the overlong %c0%ae for '.'): no such file
                raise web.HTTPError(404) from None
            if "\x00" in decoded:
                raise web.HTTPError(404)
            return decoded

        def set_extra_headers(self, path):
            self.set_header("Cache-Control", "no-store")

        def validate_absolute_path(self, root_dir, absolute_path):
            real = os.path.realpath(absolute_path)
            if real != str(root) and not real.startswith(str(root) + os.sep):
                raise web.HTTPError(404)
            return super().validate_absolute_path(root_dir, absolute_path)

        def get(self, path, include_body=True):
            if preview.errors and (path == "" or path.endswith(("/", ".html"))):
                self.set_status(500)
                self.set_header("Content-Type", "text/html; charset=utf-8")
                self.set_header("Cache-Control", "no-store")
                return self.finish(preview.error_page())
            return super().get(path, include_body)

        def write_error(self, status_code, **kwargs):
            page = root / "404.html"
            if status_code in (403, 404) and page.is_file():  # outside the output folder: not found
                self.set_status(404)
                self.set_header("Content-Type", "text/html; charset=utf-8")
                return self.finish(page.read_bytes())
            return super().write_error(status_code, **kwargs)

    class SameOriginLiveReload(LiveReloadHandler):
        def prepare(self):
            # Tornado accepts an Origin equal to the Host without asking check_origin: with DNS
            # rebinding both name another site, so the Host itself must be this machine.
            if not local_request(self.request.host, bound["host"]):
                raise web.HTTPError(403)

        def check_origin(self, origin):
            return urlsplit(origin).netloc == self.request.host and local_request(self.request.host, bound["host"])

    class PreviewServer(Server):
        def application(self, port, host, liveport=None, debug=None, live_css=True):
            # livereload ignores changes within 3 s of the previous reload; an editor fixing a typo
            # right after saving must see the result, so every rebuild reloads.
            bound["host"] = host
            LiveReloadHandler.DEFAULT_RELOAD_TIME = 0
            LiveReloadHandler.watcher = SameOriginLiveReload.watcher = self.watcher
            LiveReloadHandler.live_css = SameOriginLiveReload.live_css = live_css
            script = (b'<script>(function(){var s=document.createElement("script");'
                      b's.src="/livereload.js?port="+(window.location.port||80);'
                      b'document.head.appendChild(s);})();</script>')

            class Injector(LiveScriptInjector):
                pass

            Injector.script = script
            app = web.Application(handlers=[
                (r"/livereload", SameOriginLiveReload),
                (r"/livereload.js", LiveReloadJSHandler),
                (r"/(.*)", SiteHandler, {"path": str(root), "default_filename": "index.html"}),
            ], transforms=[Injector])
            app.listen(port, address=host)

    return PreviewServer(watcher=ChangeWatcher(on_ready=preview.watch_started))


def serve(config_path: Path, host: str, port: int, overrides: dict, drafts: bool = False) -> int:
    from . import site as site_mod
    from .config import load_config

    # The preview lives at the root of this server, whatever sub-path the public base_url has.
    shown = f"[{host}]" if ":" in host else host
    overrides = {**overrides, "base_url": f"http://{shown}:{port}/"}
    config = load_config(config_path, Problems(), overrides)
    if host not in LOOPBACK:
        print(f"warning: serving on {host} makes the preview reachable from other machines", file=sys.stderr)
    preview = Preview(config_path, overrides, drafts)

    def on_change(changed: set[str] | None = None) -> None:  # a set from ChangeWatcher; nothing when polling
        preview.rebuild("change", changed=changed)

    preview.start()
    output = config.output_path
    output.mkdir(parents=True, exist_ok=True)

    server = make_server(preview, output)
    for watched in site_mod.watched_paths(config):
        server.watch(str(watched), on_change)
    print(f"Serving {output} at http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop like Ctrl+C: what is kept in memory is saved
    try:
        server.serve(host=host, port=port, root=str(output), open_url_delay=None, restart_delay=0)
    finally:
        preview.close()
    return 0
