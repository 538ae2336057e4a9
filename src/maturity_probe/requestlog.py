"""`--verbose`: one line on stderr per HTTP request a source makes, never a secret.

The client libraries log their requests themselves: urllib3 (under requests, so MLflow,
PyGithub and python-gitlab; the kubernetes client; botocore) on `urllib3.connectionpool`,
httpx (the prometheus collector) on `httpx`. A handler on those two loggers turns each
record into

    +1.234s prod-mlflow POST http://127.0.0.1:5000/api/2.0/mlflow/runs/search 200

(seconds since --verbose was set up, the source, method, URL, status) and passes the line
through `redact` with every secret of the scan, after blanking the values of query
parameters that look like credentials. Libraries log no headers, so tokens sent as
headers never reach this code at all.

The source is the scanning thread's name (`source:<name>`, set by the runner). A
collector's own worker threads carry it too when their pool is named by `worker_prefix`
(`source:<name>/<role>_<n>`); requests from other threads are matched by their URL's origin
to the sources that `watch` registered.

urllib3's warning that it retries a request after a broken connection becomes

    +5.874s prod-mlflow RETRY http://127.0.0.1:5000/api/2.0/mlflow/runs/search ReadTimeoutError (1 retry left)

(the record has no method: RETRY stands in its place, and the error in the status's).
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
import time
from typing import Any, TextIO
from urllib.parse import urlsplit

from maturity_probe.redact import REDACTED, redact
from maturity_probe.words import plural

LOGGERS = ("urllib3.connectionpool", "httpx")
THREAD_PREFIX = "source:"
# `?private_token=…`, `&X-Amz-Signature=…`, `sig=…` (Azure SAS), `client_secret=…`
_SECRET_QUERY = re.compile(
    r"(?P<key>[?&;][^=&#\s]*(?:token|key|secret|password|passwd|signature|credential|sig|auth)"
    r"[^=&#\s]*=)[^&#\s]+", re.I)
_URLLIB3_REQUEST = '%s://%s:%s "%s %s %s" %s %s'
_URLLIB3_RETRY = "Retrying (%r) after connection broken by '%r': %s"
_URLLIB3_CONNECTING = ("Starting new HTTP connection (%d): %s:%s",
                       "Starting new HTTPS connection (%d): %s:%s")
_POOL_IN_ERROR = re.compile(  # urllib3's errors name the pool: HTTPConnectionPool(host='h', port=1)
    r"(?P<kind>HTTPS?)Connection(?:Pool)?\(host='(?P<host>[^']+)', port=(?P<port>\d+)\)")
_HTTPX_REQUEST = 'HTTP Request: %s %s "%s %d %s"'


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"


def _base(scheme: str, host: str, port: Any) -> str:
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}:{port}" if port and str(port) != str(default) else f"{scheme}://{host}"


def worker_prefix(role: str) -> str:
    """The `thread_name_prefix` of a collector's worker pool: made in a source's thread, its
    threads carry that source's name, so the requests they make are named after it."""
    current = threading.current_thread().name
    if current.startswith(THREAD_PREFIX):
        return f"{current.split('/')[0]}/{role}"
    return role


def hide_query_secrets(url: str) -> str:
    return _SECRET_QUERY.sub(lambda m: m.group("key") + REDACTED, url)


class RequestLog(logging.Handler):
    """Formats the libraries' request records as one redacted line each."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(level=logging.DEBUG)
        self.stream = stream
        self.started = time.time()  # the clock of LogRecord.created
        self.secrets: list[str] = []
        self.origins: dict[str, set[str]] = {}  # origin -> names of the sources using it
        self.connected: dict[int, str] = {}  # thread -> base URL it last connected to or asked
        self._state = threading.Lock()

    def add_secrets(self, secrets: list[str]) -> None:
        with self._state:
            self.secrets = sorted(set(self.secrets) | {s for s in secrets if s})

    def watch(self, source: Any, secrets: list[str]) -> None:
        """Remember a source's secrets and the origins of the URLs in its config."""
        self.add_secrets(secrets)
        with self._state:
            for _, value in source:
                origin = _origin(value) if isinstance(value, str) else None
                if origin:
                    self.origins.setdefault(origin, set()).add(source.name)

    def _source_of(self, record: logging.LogRecord, url: str) -> str:
        thread = record.threadName or ""
        if thread.startswith(THREAD_PREFIX):
            return thread.removeprefix(THREAD_PREFIX).split("/")[0]
        names = self.origins.get(_origin(url) or "", set())
        return next(iter(names)) if len(names) == 1 else thread

    def describe(self, record: logging.LogRecord) -> str | None:
        """The line for a record; None for the libraries' other chatter."""
        args = record.args if isinstance(record.args, tuple) else ()
        if record.msg == _URLLIB3_REQUEST and len(args) == 8:
            scheme, host, port, method, path, _, status, _ = args
            base = _base(str(scheme), str(host), port)
            self.connected[record.thread or 0] = base
            url = f"{base}{path}"
        elif record.msg == _HTTPX_REQUEST and len(args) == 5:
            method, raw_url, _, status, _ = args
            url = str(raw_url)
        elif record.msg in _URLLIB3_CONNECTING and len(args) == 3:
            scheme = "https" if record.msg == _URLLIB3_CONNECTING[1] else "http"
            self.connected[record.thread or 0] = _base(scheme, str(args[1]), args[2])
            return None
        elif record.msg == _URLLIB3_RETRY and len(args) == 3:
            return self.retry(record, *args)
        elif record.levelno >= logging.WARNING:  # the libraries' other warnings
            return f"{self._elapsed(record)} {self._source_of(record, '')} {record.getMessage()}"
        else:
            return None
        return f"{self._elapsed(record)} {self._source_of(record, url)} {method} {url} {status}"

    def retry(self, record: logging.LogRecord, retries: Any, error: Any, target: Any) -> str:
        """The line of a retry after a broken connection, shaped like a request's."""
        url = str(target)
        if not url.startswith(("http://", "https://")):  # a path: the host is in the error,
            pool = _POOL_IN_ERROR.search(repr(error))  # or where this thread last went
            base = (_base(pool["kind"].lower(), pool["host"], pool["port"]) if pool
                    else self.connected.get(record.thread or 0, ""))
            url = f"{base}{url}"
        left = getattr(retries, "total", None)
        remaining = f" ({plural(left, 'retry', 'retries')} left)" if isinstance(left, int) else ""
        return (f"{self._elapsed(record)} {self._source_of(record, url)} RETRY {url} "
                f"{type(error).__name__}{remaining}")

    def _elapsed(self, record: logging.LogRecord) -> str:
        return f"+{max(record.created - self.started, 0.0):.3f}s"

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.describe(record)
            if line is None:
                return
            with self._state:
                secrets = list(self.secrets)
            self.stream.write(redact(hide_query_secrets(line), secrets) + "\n")
            self.stream.flush()
        except Exception as exc:  # a log line must never stop a scan, nor print a traceback
            with contextlib.suppress(OSError, ValueError):  # the stream itself may be gone
                self.stream.write(f"request log: a request could not be shown "
                                  f"({type(exc).__name__})\n")


_handler: RequestLog | None = None
_saved_levels: dict[str, int] = {}


def enable(stream: TextIO | None = None) -> RequestLog:
    """Show every request of the libraries' loggers on `stream` (default: stderr)."""
    global _handler
    if _handler is None:
        _handler = RequestLog(stream or sys.stderr)
        for name in LOGGERS:
            logger = logging.getLogger(name)
            _saved_levels[name] = logger.level
            logger.addHandler(_handler)
            logger.setLevel(logging.DEBUG)
    return _handler


def disable() -> None:
    """Undo `enable` (for callers that turn it on for a while, like tests)."""
    global _handler
    if _handler is not None:
        for name in LOGGERS:
            logger = logging.getLogger(name)
            logger.removeHandler(_handler)
            logger.setLevel(_saved_levels.pop(name, logging.NOTSET))
        _handler = None


def watch(source: Any, secrets: list[str]) -> None:
    """Called for every source before it runs; nothing to do unless --verbose is on."""
    if _handler is not None:
        _handler.watch(source, secrets)


def add_secrets(secrets: list[str]) -> None:
    """Secrets a source learns while it runs (CollectContext.add_secrets)."""
    if _handler is not None:
        _handler.add_secrets(secrets)
