"""`maturity-probe serve`: /metrics from the store's latest scan, for Prometheus to scrape.

Each scrape asks the store for the id of its newest scan and renders that scan (the
rendering is kept until a newer scan is stored). An empty or unreachable store answers
503 with one line, so Prometheus marks the target down with a readable reason instead
of keeping stale values.
"""

from __future__ import annotations

import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from maturity_probe.errors import UserError
from maturity_probe.outputs import metrics
from maturity_probe.redact import redact
from maturity_probe.store import Store


class LatestMetrics:
    """The exposition of the newest stored scan, rendered once per scan."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._cached: tuple[str, str] | None = None  # (scan id, exposition)

    def text(self) -> str:
        """The exposition; UserError (one line) when the store is empty or unreadable."""
        try:
            return self._text()
        except UserError:
            raise
        except Exception as exc:  # a database error: said in one line, the server goes on
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise UserError(f"cannot read the store: {type(exc).__name__}: {redact(first)}") from exc

    def _text(self) -> str:
        newest = self.store.scans(limit=1, whole=True)  # a shard saw part of the platform
        if not newest:
            raise UserError("the store is empty: run `maturity-probe scan` first")
        scan_id = newest[0].id
        with self._lock:
            if self._cached is None or self._cached[0] != scan_id:
                self._cached = (scan_id, metrics.render(self.store.assessment(scan_id)))
            return self._cached[1]


def make_server(latest: LatestMetrics, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        server_version = "maturity-probe"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                try:
                    self._answer(HTTPStatus.OK, latest.text(), metrics.CONTENT_TYPE)
                except UserError as exc:
                    self._answer(HTTPStatus.SERVICE_UNAVAILABLE, f"{exc}\n")
            elif path == "/healthz":
                self._answer(HTTPStatus.OK, "ok\n")
            else:
                self._answer(HTTPStatus.NOT_FOUND, "not found: try /metrics or /healthz\n")

        def _answer(self, status: HTTPStatus, body: str,
                    content_type: str = "text/plain; charset=utf-8") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # scrapes are not news
            return

    try:
        return ThreadingHTTPServer((host, port), Handler)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def serve(store: Store, host: str, port: int) -> None:
    """Serve until interrupted; says on stderr where, and if the store is empty."""
    latest = LatestMetrics(store)
    server = make_server(latest, host, port)
    try:
        latest.text()
    except UserError as exc:
        sys.stderr.write(f"warning: {exc}; /metrics answers 503 until a scan is stored\n")
    bound_host, bound_port = server.server_address[:2]
    sys.stderr.write(f"serving http://{bound_host!s}:{bound_port}/metrics\n")
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
