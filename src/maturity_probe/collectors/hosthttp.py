"""The HTTP policy of the Git host collectors: rate limits, retries, concurrency, counting.

PyGithub and python-gitlab both speak HTTP through a `requests` session; both collectors
mount `PolicyAdapter` on it, so every request they make goes through one policy:

- at most `max_concurrency` requests in flight;
- primary rate limits (GitHub `X-RateLimit-Remaining` / `-Reset`, GitLab `RateLimit-*`):
  once the window is used up, later requests wait for the reset when it is near, or the
  scan stops cleanly with `RateLimitStop` when it is further than `max_wait`;
- secondary limits (403 / 429 with `Retry-After`, or GitHub's "secondary rate limit"
  message): sleep, then retry a bounded number of times;
- 5xx answers and dropped connections: bounded retries with exponential backoff;
- every request is counted against the repository and kind of evidence it serves;
- each thread's last answer (URL, status, content type) is kept, so an answer the client
  library could not read (an HTML login page, JSON of another shape) is reported as
  `URL did not answer like the GitHub API (HTTP 200, text/html)`, and a request that got
  no answer as `cannot reach GitHub at URL: connection refused`.

The policy never logs requests, so credentials in headers cannot leak through it; the
URLs it names carry neither query nor user info.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

P = ParamSpec("P")
R = TypeVar("R")

RETRIED_STATUSES = (500, 502, 503, 504)
SECONDARY_LIMIT_DEFAULT_WAIT = 60.0  # GitHub: "wait at least one minute" when no header says


class RateLimitStop(Exception):
    """Waiting for the host's rate limit would take longer than allowed: stop cleanly."""


def public_url(url: str) -> str:
    """The URL without query, fragment or user info: safe and short enough for a message."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


@dataclass(frozen=True)
class Answer:
    """What one response was, for messages about it."""

    url: str  # without query or user info
    status: int
    content_type: str  # media type only, "" when the server sent none

    @classmethod
    def of(cls, response: requests.Response) -> Answer:
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        return cls(public_url(response.url or ""), response.status_code, media)

    @property
    def is_json(self) -> bool:
        return self.content_type == "application/json" or self.content_type.endswith("+json")


class MalformedAnswer(Exception):
    """The host answered, but not like its API: an HTML page, JSON of another shape."""

    def __init__(self, host: str, answer: Answer, missing: str | None = None) -> None:
        if not answer.is_json:
            what = answer.content_type or "no content type"
        elif missing is not None:
            what = f"JSON without `{missing}`"
        else:
            what = "JSON of another shape"
        self.answer = answer
        self.kind = f"did not answer like the {host} API (HTTP {answer.status}, {what})"
        super().__init__(f"{answer.url} {self.kind}")


def network_cause(exc: BaseException, timeout: float) -> str:
    """Why a request got no answer, in a few words: connection refused, timed out ..."""
    if isinstance(exc, requests.Timeout):
        return f"timed out (no answer within {timeout:g} s)"
    # requests wraps urllib3's errors in args (MaxRetryError.reason), not in __cause__
    chain: list[BaseException] = []
    pending: list[object] = [exc]
    while pending and len(chain) < 12:
        current = pending.pop()
        if isinstance(current, BaseException):
            chain.append(current)
            pending += [*current.args, getattr(current, "reason", None), current.__cause__]
    text = " ".join(str(e) for e in chain).lower()
    if "refused" in text:
        return "connection refused"
    if any(words in text for words in ("failed to resolve", "name or service not known",
                                       "nodename nor servname", "name resolution",
                                       "getaddrinfo failed", "no address associated")):
        return "name not resolved"
    if "timed out" in text or "timeout" in text:
        return f"timed out (no answer within {timeout:g} s)"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed"
    if "reset by peer" in text or "remote end closed" in text or "aborted" in text:
        return "connection closed by the server"
    return f"network error ({type(exc).__name__})"


def unreachable(exc: requests.RequestException, host: str, timeout: float) -> str:
    """`cannot reach GitHub at URL: connection refused`, one line, no credentials."""
    request = exc.request
    url = public_url(str(request.url)) if request is not None and request.url else ""
    where = f" at {url}" if url else ""
    return f"cannot reach {host}{where}: {network_cause(exc, timeout)}"


@dataclass(frozen=True)
class HttpLimits:
    max_concurrency: int = 8
    max_wait: float = 300.0  # longest sleep for a rate limit before stopping instead
    retries: int = 3  # for secondary limits, 5xx answers and dropped connections
    backoff: float = 0.5  # first 5xx backoff in seconds, doubled per retry


class RequestLedger:
    """Counts requests per (repository, kind); the kind is `listing`, `files` or `host`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.counts: Counter[tuple[str, str]] = Counter()

    @contextmanager
    def charge(self, repo: str, kind: str) -> Iterator[None]:
        """Count the requests this thread makes inside the block against repo and kind."""
        previous = getattr(self._local, "key", None)
        self._local.key = (repo, kind)
        try:
            yield
        finally:
            self._local.key = previous

    def bind(self, func: Callable[P, R], repo: str, kind: str) -> Callable[P, R]:
        """`func` charging its requests to repo and kind, for work run in pool threads."""

        def charged(*args: P.args, **kwargs: P.kwargs) -> R:
            with self.charge(repo, kind):
                return func(*args, **kwargs)

        return charged

    def record(self) -> None:
        key = getattr(self._local, "key", None) or ("", "listing")
        with self._lock:
            self.counts[key] += 1

    def total(self, kind: str | None = None) -> int:
        with self._lock:
            return sum(n for (_, k), n in self.counts.items() if kind is None or k == kind)

    def for_repo(self, repo: str, kind: str) -> int:
        with self._lock:
            return self.counts.get((repo, kind), 0)


def _header_number(response: requests.Response, *names: str) -> float | None:
    for name in names:
        value = response.headers.get(name)
        if value is None:
            continue
        try:
            return float(value)
        except ValueError:
            return None
    return None


def retry_after_seconds(response: requests.Response, now: float) -> float | None:
    """`Retry-After` as seconds: either a number or an HTTP date."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - now, 0.0)


class HttpPolicy:
    """Shared by every request of one source; thread-safe."""

    def __init__(
        self,
        limits: HttpLimits,
        ledger: RequestLedger,
        *,
        host: str,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits
        self.ledger = ledger
        self.host = host  # "GitHub" or "GitLab", for messages
        self.sleep = sleep
        self.clock = clock
        self.waited = 0.0  # seconds some request slept for rate limits and backoff (wall clock)
        self._waited_until = 0.0
        self._slots = threading.BoundedSemaphore(limits.max_concurrency)
        self._lock = threading.Lock()
        self._blocked_until = 0.0
        self._answers = threading.local()  # each thread's last answer

    def last_answer(self) -> Answer | None:
        """The last answer this thread received (since `forget_answer`)."""
        answer: Answer | None = getattr(self._answers, "last", None)
        return answer

    def forget_answer(self) -> None:
        self._answers.last = None

    def send(self, transmit: Callable[[], requests.Response]) -> requests.Response:
        """Send one request through the policy (transmit sends it once)."""
        attempt = 0
        while True:
            self._wait_for_window()
            try:
                with self._slots:
                    response = transmit()
            except (requests.ConnectionError, requests.Timeout):
                self.ledger.record()
                if attempt >= self.limits.retries:
                    raise
                attempt += 1
                self._pause(self.limits.backoff * 2 ** (attempt - 1))
                continue
            self.ledger.record()
            self._answers.last = Answer.of(response)
            self._note_window(response)
            delay = self._retry_delay(response, attempt)
            if delay is None:
                return response
            if attempt >= self.limits.retries:
                if response.status_code in RETRIED_STATUSES:
                    return response  # the caller reports the error
                raise RateLimitStop(
                    f"{self.host} still refuses requests for rate limiting after "
                    f"{attempt} retries (HTTP {response.status_code})"
                )
            if delay > self.limits.max_wait:
                raise RateLimitStop(self._too_long(response, delay))
            response.close()
            attempt += 1
            self._pause(delay)

    # -- rate-limit window -------------------------------------------------------------------
    def _note_window(self, response: requests.Response) -> None:
        if "Retry-After" in response.headers:
            return  # the host said exactly when to come back: _retry_delay waits for that
        remaining = _header_number(response, "X-RateLimit-Remaining", "RateLimit-Remaining")
        reset = _header_number(response, "X-RateLimit-Reset", "RateLimit-Reset")
        if remaining is None or remaining > 0 or reset is None:
            return
        with self._lock:
            self._blocked_until = max(self._blocked_until, reset + 1)

    def _wait_for_window(self) -> None:
        with self._lock:
            blocked_until = self._blocked_until
        wait = blocked_until - self.clock()
        if wait <= 0:
            return
        if wait > self.limits.max_wait:
            resets = datetime.fromtimestamp(blocked_until, UTC).strftime("%H:%M:%S UTC")
            raise RateLimitStop(
                f"{self.host} API rate limit used up until {resets} (in {wait:.0f} s, more "
                f"than max_rate_limit_wait {self.limits.max_wait:.0f} s)"
            )
        self._pause(wait)

    def _retry_delay(self, response: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying this response, or None to hand it back."""
        status = response.status_code
        now = self.clock()
        if status in RETRIED_STATUSES:
            after = retry_after_seconds(response, now)
            return after if after is not None else self.limits.backoff * 2**attempt
        if status not in (403, 429):
            return None
        after = retry_after_seconds(response, now)
        if after is not None:
            return after
        remaining = _header_number(response, "X-RateLimit-Remaining", "RateLimit-Remaining")
        reset = _header_number(response, "X-RateLimit-Reset", "RateLimit-Reset")
        if remaining == 0 and reset is not None:
            return max(reset + 1 - now, 0.0)
        if status == 429 or "rate limit" in response.text[:2000].lower():
            return SECONDARY_LIMIT_DEFAULT_WAIT
        return None  # a plain 403: access denied, the caller reports it

    def _too_long(self, response: requests.Response, delay: float) -> str:
        limit = f"more than max_rate_limit_wait {self.limits.max_wait:.0f} s"
        if _header_number(response, "X-RateLimit-Remaining", "RateLimit-Remaining") == 0:
            resets = datetime.fromtimestamp(self.clock() + delay, UTC).strftime("%H:%M:%S UTC")
            return (f"{self.host} API rate limit used up until {resets} (in {delay:.0f} s, "
                    f"{limit})")
        kind = "server error" if response.status_code in RETRIED_STATUSES else "secondary rate limit"
        return (f"{self.host} asks to wait {delay:.0f} s ({kind}, HTTP {response.status_code}), "
                f"{limit}")

    def _pause(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:  # wall-clock time with some request waiting, not summed over threads
            start, end = self.clock(), self.clock() + seconds
            self.waited += max(end - max(start, self._waited_until), 0.0)
            self._waited_until = max(self._waited_until, end)
        self.sleep(seconds)


class PolicyAdapter(HTTPAdapter):
    """A requests transport adapter that sends every request through an HttpPolicy."""

    def __init__(self, policy: HttpPolicy) -> None:
        size = max(policy.limits.max_concurrency, 10)
        super().__init__(pool_connections=4, pool_maxsize=size, max_retries=0)
        self.policy = policy

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        return self.policy.send(lambda: super(PolicyAdapter, self).send(request, **kwargs))


def policy_session(policy: HttpPolicy) -> requests.Session:
    """A requests session whose every request goes through the policy."""
    session = requests.Session()
    adapter = PolicyAdapter(policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
