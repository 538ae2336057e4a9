"""The `prometheus` collector: live model monitors of a Prometheus-compatible API.

Reads Prometheus, Thanos Query or Mimir/Cortex and says which models are monitored for
drift and quality, whether those monitors are live, and whether they have fired:

    sources:
      - type: prometheus
        name: prod-prom
        url: http://127.0.0.1:9090
        token_env: PROM_TOKEN          # or username_env / password_env (basic auth)
        lookback_days: 30

The number of requests does not depend on the number of series, and samples are read only
of request counters and `ALERTS` (two PromQL queries); everything else comes from the rules,
metadata and label APIs, which answer from the label index. Independent requests run in
parallel:
- `/api/v1/rules` (alerting and recording rules: expression, labels, health, last error,
  active alerts), `/api/v1/targets?state=active`, `/api/v1/alertmanagers`,
  `/api/v1/status/runtimeinfo`, `/api/v1/metadata`;
- `/api/v1/label/__name__/values` over the lookback and over the last `recent_minutes`
  (a metric "has recent samples" when the label index holds it for that window - for
  Prometheus, the in-memory head block, i.e. the last two to three hours);
- `/api/v1/labels` and `/api/v1/label/<model label>/values` matched on model metrics: which
  models have serving, drift and quality series, and which models a rule's metrics cover
  (one lookup per drift / quality metric and per rule metric of no known kind, at most
  `MAX_LOOKUPS` of them);
- one instant query of request rates per model (request counters only) and one range query
  of firing `ALERTS` over the lookback.

Subjects:
- `prometheus:<source>`: the server (rules that watch no particular model, the coverage
  summary of served models).
- `prometheus:<source>/model/<model>`: a model named by a label value (`model`,
  `model_name`, `inference_service`, ... and the source's `model_labels`); its evidence
  carries `attributes.model` and links `model:<model>` for the correlation step.
- `prometheus:<source>/job/<job>`: a scrape job that serves models.

Strength of a monitor rule: `declared` when it is loaded; `active` when it is healthy,
evaluated, and its metrics have recent samples; `verified` when it fired within the
lookback, or when it is active and the model it watches serves traffic. A rule that fails
to evaluate, or reads a metric with no series in the lookback, is configured but not
working: `declared` with `broken: true` and a `problem`, and a line in the source warnings.
Rules are classified by `maturity_probe.detectors.monitoring.classify_alert_rule` (the
classification of rule files in repositories), extended by the source's `*_patterns`.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import math
import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from pydantic import Field, field_validator, model_validator

from maturity_probe.collectors import CollectContext, Collector, SourceConfig, SourceError
from maturity_probe.config import secret_from_env
from maturity_probe.detectors.monitoring import (
    DRIFT_WORDS,
    MODEL_QUALITY_WORDS,
    MODEL_SERVER_METRIC_PREFIXES,
    MODEL_SUBJECT_WORDS,
    TRAINING_WORDS,
    classify_alert_rule,
    words_of,
)
from maturity_probe.evidence import Evidence, JsonValue, SourceStatus, Strength
from maturity_probe.words import plural

# Label names that name a model. The strict ones always win; the others (`deployment` is
# also a Kubernetes Deployment) count only where no strict label names the model.
STRICT_MODEL_LABELS = ("model", "model_name", "inference_service", "isvc", "seldon_deployment_id")
DEFAULT_MODEL_LABELS = (*STRICT_MODEL_LABELS, "deployment_name", "deployment")
# Exporters whose `model` / `model_name` labels name hardware, not ML models.
NOT_MODEL_METRIC_PREFIXES = (
    "node_",
    "smartctl_",
    "smartmon_",
    "ipmi_",
    "dcgm_",
    "nvidia_",
    "windows_",
    "go_",
    "process_",
    "prometheus_",
    "scrape_",
    "net_",
    "kube_node_",
    "alerts",
)
DRIFT_LIBRARIES = (
    ("evidently_", "evidently"),
    ("nannyml_", "nannyml"),
    ("whylogs_", "whylogs"),
    ("whylabs_", "whylogs"),
    ("alibi_detect_", "alibi-detect"),
)
# Model servers: words of scrape-job and target labels, and metric-name prefixes.
SERVER_WORDS = {
    "kserve": "kserve",
    "inferenceservice": "kserve",
    "isvc": "kserve",
    "seldon": "seldon",
    "triton": "triton",
    "tritonserver": "triton",
    "torchserve": "torchserve",
    "tfserving": "tf-serving",
    "mlserver": "mlserver",
    "bentoml": "bentoml",
    "vllm": "vllm",
}
SERVER_PHRASES = {
    ("tensorflow", "serving"): "tf-serving",
    ("tf", "serving"): "tf-serving",
    ("ray", "serve"): "ray-serve",
    ("model", "server"): "custom",
    ("text", "generation"): "tgi",
}
SERVER_METRIC_PREFIXES = (
    ("seldon_", "seldon"),
    ("kserve_", "kserve"),
    ("nv_inference_", "triton"),
    ("ts_inference_", "torchserve"),
    ("ts_queue_latency", "torchserve"),
    ("torchserve_", "torchserve"),
    (":tensorflow:serving", "tf-serving"),
    ("tensorflow_serving", "tf-serving"),
    ("mlserver_", "mlserver"),
    ("bentoml_", "bentoml"),
    ("vllm:", "vllm"),
    ("tgi_", "tgi"),
    ("ray_serve_", "ray-serve"),
    ("revision_", "knative"),
)
REQUEST_WORDS = frozenset(
    {
        "request",
        "requests",
        "prediction",
        "predictions",
        "predict",
        "inference",
        "inferences",
        "infer",
        "hits",
        "calls",
        "scored",
        "scoring",
    }
)
NOT_REQUEST_WORDS = frozenset(
    {
        "error",
        "errors",
        "fail",
        "failed",
        "failure",
        "failures",
        "exception",
        "exceptions",
        "bytes",
        "size",
        "queue",
        "tokens",
        "bucket",
        "sum",
    }
)
TIMING_WORDS = frozenset({"latency", "duration", "seconds", "time", "milliseconds"})


def _substring_pattern(words: Iterable[str]) -> re.Pattern[str]:
    """A regex finding any of `words` as a substring, as a trie: one branch per next letter
    instead of one alternative per word, several times faster on long rule texts."""
    minimal = sorted({w for w in words if not any(o != w and o in w for o in words)})
    trie: dict[str, Any] = {}
    for word in minimal:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def branch(node: dict[str, Any]) -> str:
        if "" in node:  # a whole word ends here: any continuation is a longer match
            return ""
        parts = [re.escape(char) + branch(child) for char, child in sorted(node.items())]
        return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"

    return re.compile(branch(trie))


# Every text `classify_alert_rule` can call drift, model quality, pipeline freshness or
# serving health contains one of these (words, words of its phrases, metric prefixes, model
# labels): an exact pre-filter that spares the word analysis of infrastructure rules.
_VOCABULARY = _substring_pattern(
    {
        *DRIFT_WORDS,
        *MODEL_QUALITY_WORDS,
        *MODEL_SUBJECT_WORDS,
        *TRAINING_WORDS,
        "data",
        "quality",
        "feature",
        "population",
        "distribution",
        "covariate",
        "shift",
        "kl",
        "log",
        "loss",
        "model",
        "performance",
        "isvc",
        "inference_service",
        "seldon_deployment_id",
        *(p for p, _ in SERVER_METRIC_PREFIXES),
        *MODEL_SERVER_METRIC_PREFIXES,
        *(p for p, _ in DRIFT_LIBRARIES),
    }
)
ALERT_SERIES = frozenset({"ALERTS", "ALERTS_FOR_STATE"})
MONITOR_SIGNALS = {
    "drift": "monitor.drift_alert_rule",
    "model_quality": "monitor.model_alert_rule",
    "serving_health": "monitor.model_alert_rule",
}
MONITORS = sorted(set(MONITOR_SIGNALS.values()))
SERIES_SIGNALS = [*MONITORS, "monitor.model_metrics", "monitor.drift_detection"]  # what series show
MAX_LOOKUPS = 24  # metrics whose models are looked up one by one (the rest as one group)
MAX_LISTED = 25  # names listed in one attribute
MAX_WARNINGS = 40
RANGE_POINTS = 720  # buckets of the ALERTS range query over the lookback
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PrometheusSource(SourceConfig):
    """A Prometheus-compatible HTTP API (Prometheus, Thanos Query, Mimir, Cortex)."""

    type: Literal["prometheus"] = "prometheus"
    url: str = Field(
        description="Base URL of the API, e.g. http://prometheus:9090 or https://mimir.example/prometheus."
    )
    token_env: str | None = Field(None, description="Environment variable holding a bearer token.")
    username_env: str | None = Field(None, description="Environment variable holding the user.")
    password_env: str | None = Field(None, description="Environment variable holding the password.")
    tenant: str | None = Field(None, description="Tenant sent as X-Scope-OrgID (Mimir, Cortex, Thanos).")
    timeout_seconds: float = Field(30.0, gt=0, le=600, description="Timeout of each request.")
    max_retries: int = Field(2, ge=0, le=10, description="Retries of a request answered 429 or 503.")
    max_retry_wait_seconds: float = Field(60.0, ge=0, description="Longest Retry-After honoured.")
    verify_tls: bool = True
    recent_minutes: int = Field(10, ge=1, le=1440, description="Window of 'recent samples'.")
    rate_window: str = Field(
        "1h",
        pattern=r"^[1-9][0-9]*[smhdw]$",
        description="Window of the request rate per model (PromQL duration).",
    )
    model_labels: list[str] = Field(default_factory=list, description="Extra label names that name a model.")
    drift_patterns: list[str] = Field(
        default_factory=list,
        description=("Regular expressions: alert or metric names matching one watch drift."),
    )
    quality_patterns: list[str] = Field(
        default_factory=list,
        description=("Regular expressions: alert or metric names matching one watch model quality."),
    )
    serving_patterns: list[str] = Field(
        default_factory=list,
        description=("Regular expressions: alert or metric names matching one watch model serving."),
    )
    pipeline_patterns: list[str] = Field(
        default_factory=list,
        description=("Regular expressions: alert names matching one watch training pipeline freshness."),
    )

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL")
        if parts.username or parts.password:
            raise ValueError("must not hold credentials: name them with username_env / password_env")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query string or fragment")
        return value.strip().rstrip("/")

    @field_validator("drift_patterns", "quality_patterns", "serving_patterns", "pipeline_patterns")
    @classmethod
    def _valid_patterns(cls, values: list[str]) -> list[str]:
        for pattern in values:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
        return values

    @field_validator("model_labels")
    @classmethod
    def _valid_labels(cls, values: list[str]) -> list[str]:
        for name in values:
            if not _LABEL_NAME.match(name):
                raise ValueError(f"{name!r} is not a Prometheus label name")
        return values

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> PrometheusSource:
        if self.token_env and (self.username_env or self.password_env):
            raise ValueError("use token_env or username_env / password_env, not both")
        if bool(self.username_env) != bool(self.password_env):
            raise ValueError("username_env and password_env go together")
        return self

    @property
    def patterns(self) -> dict[str, list[str]]:
        """User patterns per category of `classify_alert_rule`."""
        return {
            "drift": self.drift_patterns,
            "model_quality": self.quality_patterns,
            "serving_health": self.serving_patterns,
            "pipeline_freshness": self.pipeline_patterns,
        }

    @property
    def all_model_labels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.model_labels, *DEFAULT_MODEL_LABELS]))

    @property
    def strict_model_labels(self) -> frozenset[str]:
        return frozenset([*self.model_labels, *STRICT_MODEL_LABELS])


# -- HTTP -------------------------------------------------------------------------------------


class ApiError(SourceError):
    """A request failed; the message is one line without secrets."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status, when the server answered


def _one_line(text: object, limit: int = 240) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _evaluation_error(error: str) -> str:
    """A rule's last error, cause first and series lists elided: PromQL puts the cause last."""
    text = re.sub(r"\[\{[^\]]*\]", "[...]", error)
    parts = [part.strip() for part in text.split(";") if part.strip()]
    if len(parts) > 1:
        text = f"{parts[-1]} ({'; '.join(parts[:-1])})"
    return _one_line(text, 200)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


Params = Sequence[tuple[str, str]]


class PromHttp:
    """The one HTTP helper: auth, timeouts, bounded retries on 429/503, request counting."""

    def __init__(self, source: PrometheusSource, status: SourceStatus) -> None:
        import httpx

        self._httpx = httpx
        self.base = source.url
        self.source = source
        self.status = status
        self._lock = threading.Lock()
        headers = {"Accept": "application/json", "User-Agent": "maturity-probe"}
        if source.tenant:
            headers["X-Scope-OrgID"] = source.tenant
        auth: httpx.Auth | None = None
        if source.token_env:
            token = secret_from_env(source.token_env)
            if token is None:
                raise SourceError(f"environment variable {source.token_env} (token_env) is not set")
            headers["Authorization"] = f"Bearer {token}"
            self.credentials_hint = f"check {source.token_env}"
        elif source.username_env and source.password_env:
            user = secret_from_env(source.username_env)
            password = secret_from_env(source.password_env)
            unset = [
                variable
                for variable, value in ((source.username_env, user), (source.password_env, password))
                if value is None
            ]
            if unset:
                raise SourceError(f"environment variable {' and '.join(unset)} is not set")
            auth = httpx.BasicAuth(user or "", password or "")
            self.credentials_hint = f"check {source.username_env} / {source.password_env}"
        else:
            self.credentials_hint = "set token_env or username_env / password_env"
        # plain http needs no TLS context (loading the CA bundle costs tens of milliseconds)
        tls = source.verify_tls and self.base.startswith("https:")
        self.client = httpx.Client(
            base_url=self.base,
            headers=headers,
            auth=auth,
            verify=tls,
            timeout=httpx.Timeout(source.timeout_seconds),
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, params: Params = ()) -> Any:
        return self._request("GET", path, params=list(params))

    def query(self, path: str, form: Mapping[str, str]) -> Any:
        """PromQL over POST: long expressions do not hit URL length limits."""
        return self._request("POST", path, data=dict(form))

    def _count(self) -> None:
        with self._lock:
            self.status.requests += 1

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        data: dict[str, str] | None = None,
    ) -> Any:
        httpx = self._httpx
        where = f"{self.base}{path}"
        attempt = 0
        while True:
            self._count()
            try:
                query = httpx.QueryParams(params or [])
                response = self.client.request(method, path, params=query, data=data)
            except httpx.TimeoutException as exc:
                raise ApiError(f"no answer from {where} within {self.source.timeout_seconds:g}s") from exc
            except httpx.ConnectError as exc:
                raise ApiError(f"cannot connect to {self.base}: {_one_line(exc, 120)}") from exc
            except httpx.HTTPError as exc:
                raise ApiError(
                    f"request to {where} failed: {type(exc).__name__}: {_one_line(exc, 120)}"
                ) from exc
            if response.status_code in (429, 503) and attempt < self.source.max_retries:
                wait = _retry_after(response.headers.get("Retry-After"))
                wait = 0.5 * 2**attempt if wait is None else wait
                if wait > self.source.max_retry_wait_seconds:
                    raise ApiError(
                        f"{where} answered HTTP {response.status_code} and asks to retry "
                        f"after {wait:.0f}s (more than max_retry_wait_seconds)"
                    )
                time.sleep(wait)
                attempt += 1
                continue
            return self._payload(where, response, attempt)

    def _payload(self, where: str, response: Any, retries: int) -> Any:
        code = response.status_code
        if code in (401, 403):
            raise ApiError(f"authentication refused (HTTP {code}): {self.credentials_hint}")
        kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or body.get("status") not in ("success", "error"):
            if code >= 400:
                after = f" after {retries} retries" if retries else ""
                raise ApiError(f"{where} answered HTTP {code}{after}", code)
            what = "JSON without `status: success`" if isinstance(body, dict | list) else kind
            raise ApiError(f"{where} did not answer like a Prometheus API (HTTP {code}, {what})")
        if body["status"] == "error":
            raise ApiError(
                f"{where}: Prometheus error (HTTP {code}, {body.get('errorType', '?')}): "
                f"{_one_line(body.get('error', ''), 160)}"
            )
        if code >= 400:
            raise ApiError(f"{where} answered HTTP {code}", code)
        return body.get("data")


# -- PromQL text ---------------------------------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.I)
_NUMBER = re.compile(
    r"(?<![\w:.])(?:0x[0-9a-f]+|(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?"
    r"(?:(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)?)(?![\w:])",
    re.I,
)
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*+(?!\s*\()")
_NAME_MATCHER = re.compile(r'__name__\s*=\s*"([^"\\]*)"')
_KEYWORDS = frozenset(
    {
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "atan2",
        "inf",
        "nan",
        "start",
        "end",
    }
)


def expression_metrics(expr: str) -> list[str]:
    """Metric names a PromQL expression selects (not functions, labels, keywords or numbers)."""
    found = dict.fromkeys(_NAME_MATCHER.findall(expr))
    text = _STRING.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    for name in _IDENTIFIER.findall(text):
        if name.lower() not in _KEYWORDS:
            found.setdefault(name)
    return list(found)


def _promql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _names_selector(names: Iterable[str]) -> str:
    ordered = sorted(names)
    if len(ordered) == 1:
        return f"{{__name__={_promql_string(ordered[0])}}}"
    return f"{{__name__=~{_promql_string('|'.join(re.escape(n) for n in ordered))}}}"


# -- metrics ---------------------------------------------------------------------------------------


def metric_kind(name: str, help_text: str, patterns: Mapping[str, list[str]]) -> str | None:
    """drift | quality | serving for a model metric name (its help text helps), else None."""
    lower = name.lower()
    if lower.startswith(NOT_MODEL_METRIC_PREFIXES) or name in ALERT_SERIES:
        return None
    if (
        not any(patterns.values())
        and not _VOCABULARY.search(lower)
        and not (help_text and _VOCABULARY.search(help_text.lower()))
    ):
        return None
    category = classify_alert_rule(name, name, {}, {"help": help_text} if help_text else {}, patterns)
    if category == "drift":
        return "drift"
    if category == "model_quality":
        return "quality"
    if category == "pipeline_freshness":
        return None
    if category == "serving_health" or set(words_of(name)) & set(MODEL_SUBJECT_WORDS):
        return "serving"
    return None


def request_counter_rank(name: str) -> int | None:
    """0 for a counter of requests or predictions, 1 for the count of a latency histogram."""
    lower = name.lower()
    if not lower.endswith(("_total", "_count", "_success")):
        return None
    words = set(words_of(name))
    if not words & REQUEST_WORDS and not lower.startswith(("nv_inference_", "revision_")):
        return None
    if words & NOT_REQUEST_WORDS:
        return None
    if words & TIMING_WORDS:
        return 1 if lower.endswith("_count") else None
    return 0


def drift_library(metric: str) -> str:
    lower = metric.lower()
    return next((lib for prefix, lib in DRIFT_LIBRARIES if lower.startswith(prefix)), "custom")


def server_of_metric(metric: str) -> str | None:
    lower = metric.lower()
    return next((server for prefix, server in SERVER_METRIC_PREFIXES if lower.startswith(prefix)), None)


def server_of_labels(values: Iterable[str]) -> str | None:
    """The model server a scrape target's labels name (job, service, pod, container...)."""
    for value in values:
        words = words_of(value)
        for word in words:
            if word in SERVER_WORDS:
                return SERVER_WORDS[word]
        pairs = set(itertools.pairwise(words))
        for phrase, server in SERVER_PHRASES.items():
            if phrase in pairs:
                return server
    return None


def classify_rule(
    name: str,
    expr: str,
    labels: dict[str, str],
    annotations: dict[str, str],
    patterns: Mapping[str, list[str]],
) -> str:
    """`classify_alert_rule`, skipping the word analysis of texts that cannot be about models."""
    if not any(patterns.values()):
        text = " ".join([name, expr, *labels, *labels.values(), *annotations.values()]).lower()
        if not _VOCABULARY.search(text):
            return "other"
    return classify_alert_rule(name, expr, labels, annotations, patterns)


# -- what was read ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fired:
    """An alert's firing over the lookback: episodes (runs of buckets) and the last one."""

    labels: dict[str, str]
    episodes: int
    last: datetime


@dataclass
class Rule:
    """An alerting rule that watches models."""

    name: str
    expr: str
    group: str
    file: str
    labels: dict[str, str]
    annotations: dict[str, str]
    health: str
    last_error: str
    last_evaluation: datetime | None
    state: str
    alerts: list[dict[str, Any]]
    locator: str
    category: str
    metrics: list[str]


@dataclass
class Reading:
    """Everything one scan read, before it is joined by model."""

    groups: list[dict[str, Any]]
    names: set[str] | None = None  # metric names over the lookback
    recent: set[str] | None = None  # metric names with recent samples
    help: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # model metric -> drift | quality | serving
    metric_models: dict[str, set[str]] = field(default_factory=dict)  # looked-up metric -> models
    serving_models: set[str] | None = None
    serving_jobs: set[str] | None = None
    targets: list[dict[str, Any]] | None = None
    alertmanagers: int | None = None
    reload_ok: bool | None = None
    last_reload: str = ""
    rates: list[tuple[str, str, dict[str, str], float]] | None = None  # metric, job, labels, rate
    fired: dict[str, list[Fired]] | None = None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _dict(value).items()}


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time of the API; Go's zero time (never) is None."""
    if not isinstance(value, str) or not value or value.startswith("0001-"):
        return None
    text = value
    head, dot, tail = value.partition(".")
    if dot:  # Go writes nanoseconds; Python reads at most microseconds
        digits = len(tail) - len(tail.lstrip("0123456789"))
        text = f"{head}.{tail[: min(digits, 6)]}{tail[digits:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the answers are parsed and joined: the rule and
    label documents are large, acyclic trees, and each full collection would walk them all."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@functools.lru_cache(maxsize=8192)
def _url_part(text: str) -> str:
    return quote(text)


def _family(name: str) -> str:
    for suffix in ("_bucket", "_sum", "_count", "_total", "_created"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


# -- the collector -----------------------------------------------------------------------------------


class PrometheusCollector(Collector):
    """Rules, alerts, targets and model series of one Prometheus-compatible API."""

    type = "prometheus"
    config_model = PrometheusSource

    def __init__(self, config: PrometheusSource, ctx: CollectContext) -> None:
        super().__init__(config, ctx)
        self.source: PrometheusSource = config
        self.server = f"prometheus:{config.name}"
        self.other_errors = 0  # rules that watch no model and fail to evaluate

    @classmethod
    def signals(cls) -> frozenset[str]:
        return frozenset(
            {
                "monitor.drift_alert_rule",
                "monitor.model_alert_rule",
                "monitor.model_metrics",
                "monitor.drift_detection",
                "serving.model_server",
            }
        )

    def collect(self) -> Iterator[Evidence]:
        http = PromHttp(self.source, self.status)
        with _gc_paused():
            try:
                reading, rules = self._read(http)
            finally:
                http.close()
            evidence = list(_Analysis(self, reading, rules).evidence())
        yield from evidence

    # -- reading -----------------------------------------------------------------------------------
    def _optional(
        self, future: Future[Any] | None, what: str, signals: Iterable[str], absent_ok: bool = False
    ) -> Any:
        """The result of a request the scan can do without; its failure makes the source
        partial, except a 404 of an endpoint some compatible APIs lack (`absent_ok`)."""
        if future is None:
            return None
        try:
            return future.result()
        except ApiError as exc:
            if not (absent_ok and exc.status == 404):
                self.partial(f"{what}: {exc}", list(signals))
            return None

    def _window(self, seconds: float) -> list[tuple[str, str]]:
        end = self.ctx.now.timestamp()
        return [("start", f"{end - seconds:.0f}"), ("end", f"{math.ceil(end)}")]

    def _read(self, http: PromHttp) -> tuple[Reading, list[Rule]]:
        """Every request, independent ones in parallel; rules are classified meanwhile."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            first = self._first_requests(http, pool)
            reading = self._rule_groups(http, first)
            self._metric_names(reading, first)
            later = self._series_requests(http, pool, reading)
            in_use = self._optional(later.get("labels"), "model labels", SERIES_SIGNALS)
            lookups = None
            if in_use is not None:  # which models the drift, quality and serving metrics cover
                lookups = ModelLookups(self, http, pool, reading, {str(x) for x in _list(in_use)})
                lookups.add(sorted(n for n, k in reading.kinds.items() if k in ("drift", "quality")))
            rules = self._rules(reading.groups)  # classified while the label requests run
            if lookups is not None:  # and the metrics of no known kind that monitor rules read
                lookups.add(sorted({m for r in rules for m in r.metrics if m not in reading.kinds}))
                lookups.gather()
            self._other_answers(reading, first, later)
        return reading, rules

    def _first_requests(self, http: PromHttp, pool: ThreadPoolExecutor) -> dict[str, Future[Any]]:
        recent = self._window(self.source.recent_minutes * 60)
        labelled = [("match[]", f'{{{label}!=""}}') for label in sorted(self.source.strict_model_labels)]
        names = "/api/v1/label/__name__/values"
        return {
            "rules": pool.submit(http.get, "/api/v1/rules"),
            "names": pool.submit(http.get, names, self._window(self.source.lookback_days * 86400)),
            "recent": pool.submit(http.get, names, recent),
            "labelled": pool.submit(http.get, names, [*labelled, *recent]),
            "metadata": pool.submit(http.get, "/api/v1/metadata"),
            "fired": pool.submit(self._fired_alerts, http),
            "targets": pool.submit(http.get, "/api/v1/targets", [("state", "active")]),
            "alertmanagers": pool.submit(http.get, "/api/v1/alertmanagers"),
            "runtime": pool.submit(http.get, "/api/v1/status/runtimeinfo"),
        }

    def _rule_groups(self, http: PromHttp, first: dict[str, Future[Any]]) -> Reading:
        """The rules answer decides whether this is a Prometheus API at all."""
        try:
            data = _dict(first["rules"].result())
        except ApiError:
            for future in first.values():
                future.cancel()
            raise
        if not isinstance(data.get("groups"), list):
            raise SourceError(
                f"{http.base}/api/v1/rules did not answer like a Prometheus API (no rule groups)"
            )
        return Reading(groups=[_dict(group) for group in data["groups"]])

    def _metric_names(self, reading: Reading, first: dict[str, Future[Any]]) -> None:
        names = self._optional(first["names"], "metric names", SERIES_SIGNALS)
        recent = self._optional(first["recent"], "recent metric names", SERIES_SIGNALS)
        labelled = self._optional(first["labelled"], "metrics with model labels", SERIES_SIGNALS)
        metadata = _dict(self._optional(first["metadata"], "metric metadata", []))
        reading.help = {str(k): str(_dict(v[0]).get("help", "")) for k, v in metadata.items() if _list(v)}
        if names is not None and recent is not None and labelled is not None:
            reading.names = {str(n) for n in _list(names)}
            reading.recent = {str(n) for n in _list(recent)}
            reading.kinds = self._metric_kinds(reading, {str(n) for n in _list(labelled)})

    def _series_requests(
        self, http: PromHttp, pool: ThreadPoolExecutor, reading: Reading
    ) -> dict[str, Future[Any]]:
        """Request rates, the jobs serving models and the model labels in use."""
        recent = self._window(self.source.recent_minutes * 60)
        live = {n: k for n, k in reading.kinds.items() if n in (reading.recent or ())}
        serving = [n for n, k in live.items() if k == "serving"]
        later: dict[str, Future[Any]] = {}
        if reading.kinds:
            later["rates"] = pool.submit(self._rates, http, reading.kinds)
        if serving:
            later["jobs"] = pool.submit(
                http.get, "/api/v1/label/job/values", [("match[]", _names_selector(serving)), *recent]
            )
        if live:
            later["labels"] = pool.submit(
                http.get, "/api/v1/labels", [("match[]", _names_selector(live)), *recent]
            )
        return later

    def _other_answers(
        self, reading: Reading, first: dict[str, Future[Any]], later: dict[str, Future[Any]]
    ) -> None:
        jobs = self._optional(later.get("jobs"), "serving jobs", ["serving.model_server"])
        if jobs is not None:
            reading.serving_jobs = {str(j) for j in _list(jobs)}
        reading.rates = self._optional(later.get("rates"), "request rates", ["monitor.model_metrics"])
        reading.fired = self._optional(first["fired"], "firing alerts over the lookback", MONITORS)
        targets = self._optional(first["targets"], "scrape targets", ["serving.model_server"])
        if targets is not None:
            reading.targets = [_dict(t) for t in _list(_dict(targets).get("activeTargets"))]
        managers = self._optional(first["alertmanagers"], "alertmanagers", [], absent_ok=True)
        if managers is not None:
            reading.alertmanagers = len(_list(_dict(managers).get("activeAlertmanagers")))
        try:  # Thanos and Mimir have no runtime info: nothing to say then
            runtime = _dict(first["runtime"].result())
        except ApiError:
            return
        if isinstance(runtime.get("reloadConfigSuccess"), bool):
            reading.reload_ok = runtime["reloadConfigSuccess"]
            reading.last_reload = str(runtime.get("lastConfigTime", ""))

    def _metric_kinds(self, reading: Reading, custom: set[str]) -> dict[str, str]:
        """Model metrics among the metric names: name -> drift | quality | serving. Metrics
        with a model label whose name says nothing are custom serving metrics."""
        kinds = {}
        patterns = self.source.patterns
        for name in reading.names or ():
            help_text = reading.help.get(name) or reading.help.get(_family(name), "")
            kind = metric_kind(name, help_text, patterns)
            if kind is None and name in custom and not name.lower().startswith(NOT_MODEL_METRIC_PREFIXES):
                kind = "serving"
            if kind:
                kinds[name] = kind
        return kinds

    def _rates(self, http: PromHttp, kinds: dict[str, str]) -> list[tuple[str, str, dict[str, str], float]]:
        """Requests per second over the rate window, per request counter, job and model labels."""
        counters = sorted(
            n for n, k in kinds.items() if k == "serving" and request_counter_rank(n) is not None
        )
        if not counters:
            return []
        by = ", ".join(["job", *self.source.all_model_labels])
        window = self.source.rate_window
        query = " or ".join(
            f"label_replace(sum by ({by}) (rate({{__name__={_promql_string(c)}}}[{window}])), "
            f'"mp_metric", {_promql_string(c)}, "", "")'
            for c in counters
        )
        data = _dict(http.query("/api/v1/query", {"query": query, "time": f"{self.ctx.now.timestamp():.3f}"}))
        rows = []
        for result in _list(data.get("result")):
            metric = _labels(_dict(result).get("metric"))
            name, job = metric.pop("mp_metric", ""), metric.pop("job", "")
            try:
                value = float(_list(_dict(result).get("value"))[1])
            except (IndexError, ValueError):
                continue
            rows.append((name, job, metric, value))
        return rows

    def _fired_alerts(self, http: PromHttp) -> dict[str, list[Fired]]:
        """Alerts that fired within the lookback: one range query over `ALERTS`."""
        lookback = self.source.lookback_days * 86400
        step = max(60, -(-lookback // RANGE_POINTS))
        end = math.ceil(self.ctx.now.timestamp())
        start = end - (lookback // step) * step
        by = ", ".join(["alertname", *self.source.all_model_labels])
        query = f'sum by ({by}) (count_over_time(ALERTS{{alertstate="firing"}}[{step}s]))'
        data = _dict(
            http.query(
                "/api/v1/query_range",
                {"query": query, "start": str(start), "end": str(end), "step": str(step)},
            )
        )
        fired: dict[str, list[Fired]] = defaultdict(list)
        for result in _list(data.get("result")):
            labels = _labels(_dict(result).get("metric"))
            name = labels.pop("alertname", "")
            stamps = sorted(float(_list(v)[0]) for v in _list(_dict(result).get("values")) if _list(v))
            if not name or not stamps:
                continue
            episodes = 1 + sum(1 for a, b in itertools.pairwise(stamps) if b - a > step)
            fired[name].append(Fired(labels, episodes, datetime.fromtimestamp(min(stamps[-1], end), UTC)))
        return dict(fired)

    def _rules(self, groups: list[dict[str, Any]]) -> list[Rule]:
        """The alerting rules that watch models, classified; the others are only counted
        (`other_errors`) when they fail to evaluate."""
        rules: list[Rule] = []
        seen: dict[str, int] = defaultdict(int)
        patterns = self.source.patterns
        for group in groups:
            group_name, file = str(group.get("name", "")), str(group.get("file", ""))
            for raw in _list(group.get("rules")):
                raw = _dict(raw)
                name, query = str(raw.get("name", "")), str(raw.get("query", ""))
                labels, annotations = _labels(raw.get("labels")), _labels(raw.get("annotations"))
                category = "other"
                if raw.get("type") == "alerting":
                    category = classify_rule(name, query, labels, annotations, patterns)
                if category == "other":
                    self.other_errors += raw.get("health") == "err"
                    continue
                key = f"{file}\x1f{group_name}\x1f{name}"
                seen[key] += 1
                locator = f"{self.source.url}/alerts?search={_url_part(name)}#{_url_part(group_name)}"
                if seen[key] > 1:  # the same alert name twice in a group (e.g. per severity)
                    locator += f"~{seen[key]}"
                expr = " ".join(query.split())
                rules.append(
                    Rule(
                        name=name,
                        expr=expr,
                        group=group_name,
                        file=file,
                        labels=labels,
                        annotations=annotations,
                        health=str(raw.get("health", "")),
                        last_error=str(raw.get("lastError", "")),
                        last_evaluation=parse_time(raw.get("lastEvaluation")),
                        state=str(raw.get("state", "")),
                        alerts=[_dict(a) for a in _list(raw.get("alerts"))],
                        locator=locator,
                        category=category,
                        metrics=expression_metrics(expr),
                    )
                )
        return rules


class ModelLookups:
    """Which models each metric (or group of metrics) has recent series for.

    One label-values request per metric and model label in use, matched on the metric and
    limited to the recent window (the label index answers; no sample is read). Metrics are
    looked up one by one up to MAX_LOOKUPS, the rest as one group; the serving metrics are
    always one group. Strict model labels win over weak ones (`deployment`).
    """

    def __init__(
        self,
        collector: PrometheusCollector,
        http: PromHttp,
        pool: ThreadPoolExecutor,
        reading: Reading,
        in_use: set[str],
    ) -> None:
        self.collector, self.http, self.pool, self.reading = collector, http, pool, reading
        source = collector.source
        self.labels = [label for label in source.all_model_labels if label in in_use]
        self.strict = source.strict_model_labels
        self.window = collector._window(source.recent_minutes * 60)
        self.futures: dict[str, list[tuple[str, Future[Any]]]] = {}
        self.singles: list[str] = []
        self.rest: list[str] = []
        recent = reading.recent or set()
        self.recent = recent
        serving = sorted(n for n, k in reading.kinds.items() if k == "serving" and n in recent)
        if serving:
            self.submit(" serving", serving)

    def submit(self, key: str, names: list[str]) -> None:
        self.futures[key] = [
            (
                label,
                self.pool.submit(
                    self.http.get,
                    f"/api/v1/label/{label}/values",
                    [("match[]", _names_selector(names)), *self.window],
                ),
            )
            for label in self.labels
        ]

    def add(self, names: list[str]) -> None:
        for name in names:
            if name not in self.recent or name in self.singles or name in self.rest:
                continue
            if len(self.singles) < MAX_LOOKUPS:
                self.singles.append(name)
                self.submit(name, [name])
            else:
                self.rest.append(name)

    def gather(self) -> None:
        if self.rest:
            self.submit(" more", self.rest)
        found: dict[str, set[str]] = {}
        for key, futures in self.futures.items():
            values = {
                label: self.collector._optional(
                    future, "models of metrics", ["monitor.model_metrics", "monitor.drift_detection"]
                )
                for label, future in futures
            }
            models = {str(v) for label, got in values.items() if label in self.strict for v in _list(got)}
            if not models:  # only weak labels (deployment) name these models
                models = {str(v) for got in values.values() for v in _list(got)}
            found[key] = models
        self.reading.serving_models = found.pop(" serving", set())
        rest = found.pop(" more", set())
        self.reading.metric_models = {name: found.get(name, rest) for name in [*self.singles, *self.rest]}


# -- from what was read to evidence --------------------------------------------------------------


@dataclass
class RuleState:
    """What a monitor rule's own data says, before looking at one model."""

    broken: bool
    problem: str
    evaluated: bool
    recent: bool | None  # its metrics have recent samples (None: could not look)
    missing: list[str]


@dataclass
class ModelFacts:
    """What the label index and the request rates say about one model (or one job)."""

    serving: bool = False
    drift: set[str] = field(default_factory=set)
    quality: set[str] = field(default_factory=set)
    jobs: set[str] = field(default_factory=set)
    rate: float | None = None
    rate_metric: str = ""


class _Analysis:
    """Joins rules, metrics, rates and alerts by model and turns them into evidence."""

    def __init__(self, collector: PrometheusCollector, reading: Reading, rules: list[Rule]) -> None:
        self.c = collector
        self.source = collector.source
        self.reading = reading
        self.rules = rules
        self.model_labels = self.source.all_model_labels
        self.strict = self.source.strict_model_labels
        self.models: dict[str, ModelFacts] = defaultdict(ModelFacts)
        self.jobs: dict[str, ModelFacts] = defaultdict(ModelFacts)  # request counters without model
        self.job_models: dict[str, set[str]] = defaultdict(set)
        self.job_rate: dict[str, float] = defaultdict(float)
        self.monitored: dict[str, set[str]] = defaultdict(set)  # category -> models with a working rule
        self.rule_counts: dict[str, int] = defaultdict(int)
        self.broken_count = 0
        for model in reading.serving_models or ():
            self.models[model].serving = True
        for metric, models in reading.metric_models.items():
            kind = reading.kinds.get(metric)
            if kind in ("drift", "quality"):
                for model in models:
                    (self.models[model].drift if kind == "drift" else self.models[model].quality).add(metric)
        self._index_rates()

    def model_of(self, labels: Mapping[str, str]) -> str | None:
        """The model a label set names: the first strict label, else a weak one."""
        weak = None
        for key in self.model_labels:
            value = labels.get(key)
            if value and "{{" not in value:
                if key in self.strict:
                    return value
                weak = weak or value
        return weak

    def _index_rates(self) -> None:
        """One request counter per job (the best ranked, then by name), summed per model."""
        chosen: dict[str, tuple[int, str]] = {}
        for metric, job, _, _ in self.reading.rates or []:
            rank = request_counter_rank(metric)
            key = (1 if rank is None else rank, metric)
            if job not in chosen or key < chosen[job]:
                chosen[job] = key
        for metric, job, labels, value in self.reading.rates or []:
            if chosen[job][1] != metric:
                continue
            model = self.model_of(labels)
            facts = self.models[model] if model else self.jobs[job]
            facts.rate = (facts.rate or 0.0) + value
            facts.rate_metric = metric
            if job:
                facts.jobs.add(job)
                self.job_rate[job] += value
                if model:
                    self.job_models[job].add(model)

    def served_models(self) -> list[str]:
        return sorted(m for m, f in self.models.items() if f.serving)

    def rule_models(self, rule: Rule) -> set[str]:
        """Models a rule watches: its model labels or matchers, else its metrics' series."""
        found: set[str] = set()
        for key in self.model_labels:
            value = rule.labels.get(key, "")
            if value and "{{" not in value:
                found.add(value)
            if key not in rule.expr:
                continue
            for op, matched in re.findall(rf'(?<![\w]){key}\s*(=~|=)\s*"([^"]*)"', rule.expr):
                if op == "=":
                    found.add(matched)
                else:
                    found |= {m for m in self.models if _fullmatch(matched, m)}
        if not found:
            for metric in rule.metrics:
                if metric in self.reading.metric_models:
                    found |= self.reading.metric_models[metric]
                elif self.reading.kinds.get(metric) == "serving":
                    found |= self.reading.serving_models or set()
        for alert in rule.alerts:
            model = self.model_of(_labels(alert.get("labels")))
            if model:
                found.add(model)
        return found

    def rule_state(self, rule: Rule) -> RuleState:
        names, recent = self.reading.names, self.reading.recent
        missing = []
        if names is not None and "absent" not in rule.expr:
            missing = [m for m in rule.metrics if m not in names]
        is_recent = None if recent is None else any(m in recent for m in rule.metrics)
        evaluated = rule.health == "ok" and rule.last_evaluation is not None
        if rule.health == "err":
            problem = f"evaluation fails: {_evaluation_error(rule.last_error)}"
            return RuleState(True, problem, evaluated, is_recent, missing)
        if missing:
            shown = ", ".join(f"`{m}`" for m in missing[:5])
            verb = "have" if len(missing) > 1 else "has"
            problem = (
                f"metric{'s' if len(missing) > 1 else ''} {shown} {verb} no series in the "
                f"last {self.source.lookback_days} days"
            )
            return RuleState(True, problem, evaluated, is_recent, missing)
        if not evaluated:
            return RuleState(False, "loaded but not evaluated yet", False, is_recent, [])
        if is_recent is False:
            return RuleState(False, "its metrics have no recent samples", True, False, [])
        return RuleState(False, "", True, is_recent, [])

    # -- evidence -----------------------------------------------------------------------------------
    def item(
        self,
        *,
        signal: str,
        subject: str,
        locator: str,
        strength: Strength,
        summary: str,
        attributes: dict[str, JsonValue],
        occurred_at: datetime | None = None,
        links: Iterable[str] = (),
    ) -> Evidence:
        return self.c.evidence(
            signal=signal,
            subject=subject,
            locator=locator,
            strength=strength,
            summary=summary,
            occurred_at=occurred_at,
            attributes=attributes,
            links=list(links),
        )

    def model_subject(self, model: str) -> str:
        return f"{self.c.server}/model/{model}"

    def model_links(self, model: str) -> list[str]:
        return [f"model:{model}", self.c.server]

    def evidence(self) -> Iterator[Evidence]:
        yield from self.rule_evidence()
        yield from self.metric_evidence()
        yield from self.serving_targets()
        yield from self.coverage()
        self.general_warnings()

    def rule_evidence(self) -> Iterator[Evidence]:
        warnings: list[str] = []
        for rule in self.rules:
            self.rule_counts[rule.category] += 1
            state = self.rule_state(rule)
            if state.broken:
                self.broken_count += 1
                warnings.append(
                    f"rule `{rule.name}` (group {rule.group}, {rule.file or 'no file'}) "
                    f"is configured but not working: {state.problem}"
                )
            signal = MONITOR_SIGNALS.get(rule.category)
            if signal is None:  # pipeline freshness: counted, no model signal
                continue
            models: list[str | None] = [*sorted(self.rule_models(rule))]
            for model in models or [None]:
                item = self.rule_item(rule, signal, model, state)
                if model and item.strength != Strength.declared:
                    self.monitored[rule.category].add(model)
                yield item
        if len(warnings) > MAX_WARNINGS:
            more = len(warnings) - MAX_WARNINGS
            warnings = [
                *warnings[:MAX_WARNINGS],
                f"... and {more} more monitor rules configured but not working",
            ]
        self.c.status.warnings.extend(warnings)
        if self.c.other_errors:
            self.c.status.warnings.append(f"{self.c.other_errors} other rules fail to evaluate")

    def rule_item(self, rule: Rule, signal: str, model: str | None, state: RuleState) -> Evidence:
        def about_model(labels: Mapping[str, str]) -> bool:
            return model is None or self.model_of(labels) in (None, model)

        fired = [f for f in (self.reading.fired or {}).get(rule.name, []) if about_model(f.labels)]
        firing_now = any(
            a.get("state") == "firing" and about_model(_labels(a.get("labels"))) for a in rule.alerts
        )
        facts = self.models.get(model) if model else None
        traffic = facts is not None and (facts.rate or 0) > 0
        episodes = sum(f.episodes for f in fired)
        last_fired = max((f.last for f in fired), default=None)
        if firing_now and self.reading.fired is not None and not episodes:
            # it started firing after the range query's last point
            episodes, last_fired = 1, rule.last_evaluation or self.c.ctx.now
        if state.broken or not state.evaluated:
            strength = Strength.declared
            status = f"configured but not working: {state.problem}" if state.broken else state.problem
        elif episodes or firing_now:
            strength = Strength.verified
            parts = ["firing now"] if firing_now else []
            if episodes:
                parts.append(
                    f"fired {episodes} time{'s' if episodes > 1 else ''} in the last "
                    f"{self.source.lookback_days} days, last at {last_fired:%Y-%m-%d %H:%M} UTC"
                )
            status = "; ".join(parts)
        elif state.recent and traffic:
            strength = Strength.verified
            status = f"healthy, its series have recent samples and model {model} serves traffic"
        elif state.recent:
            strength, status = Strength.active, "healthy, evaluated, its series have recent samples"
        else:
            strength, status = Strength.declared, state.problem or "loaded"
        what = {"drift": "drift", "model_quality": "model quality", "serving_health": "serving health"}[
            rule.category
        ]
        shown = rule.expr if len(rule.expr) <= 80 else rule.expr[:77] + "..."
        attributes: dict[str, JsonValue] = {
            "alert": rule.name,
            "group": rule.group,
            "file": rule.file,
            "expr": rule.expr[:500],
            "category": rule.category,
            "health": rule.health or "unknown",
            "state": rule.state or "unknown",
            "broken": state.broken,
        }
        optional: dict[str, JsonValue] = {
            "model": model,
            "problem": state.problem or None,
            "missing_metrics": state.missing[:MAX_LISTED] or None,
            "recent_samples": state.recent,
            "last_evaluation": rule.last_evaluation.isoformat() if rule.last_evaluation else None,
            "alerts_fired": episodes if self.reading.fired is not None else None,
            "last_fired": last_fired.isoformat() if last_fired else None,
            "routed": self.reading.alertmanagers > 0 if self.reading.alertmanagers is not None else None,
            "severity": rule.labels.get("severity"),
        }
        attributes.update({k: v for k, v in optional.items() if v is not None})
        return self.item(
            signal=signal,
            subject=self.model_subject(model) if model else self.c.server,
            locator=rule.locator,
            strength=strength,
            attributes=attributes,
            summary=(
                f"alert `{rule.name}` on {self.source.name} watches {what}"
                f"{f' of model {model}' if model else ''} ({shown}): {status}"
            ),
            occurred_at=last_fired or (rule.last_evaluation if strength != Strength.declared else None),
            links=self.model_links(model) if model else (),
        )

    def metric_evidence(self) -> Iterator[Evidence]:
        now = self.c.ctx.now
        for model, facts in sorted(self.models.items()):
            yield from self.facts_items(facts, self.model_subject(model), model, now)
        for job, facts in sorted(self.jobs.items()):
            if job:
                yield from self.facts_items(facts, f"{self.c.server}/job/{job}", None, now, job=job)
        if self.reading.recent is not None:  # drift metrics of the lookback with no recent samples
            stale = sorted(
                n for n, k in self.reading.kinds.items() if k == "drift" and n not in self.reading.recent
            )
            if stale:
                yield self.item(
                    signal="monitor.drift_detection",
                    subject=self.c.server,
                    locator=f"{self.source.url}/graph?g0.expr={_url_part(stale[0])}",
                    strength=Strength.active,
                    summary=(
                        f"{self.source.name} holds drift metrics of the last "
                        f"{self.source.lookback_days} days with no recent samples: "
                        f"{', '.join(stale[:5])}"
                    ),
                    attributes={
                        "metrics": stale[:MAX_LISTED],
                        "recent_samples": False,
                        "libraries": sorted({drift_library(n) for n in stale}),
                    },
                )

    def facts_items(
        self, facts: ModelFacts, subject: str, model: str | None, now: datetime, job: str | None = None
    ) -> Iterator[Evidence]:
        links = self.model_links(model) if model else [self.c.server]
        about = f"model {model}" if model else f"job {job}"
        base: dict[str, JsonValue] = {"model": model} if model else {"job": job}
        if facts.drift:
            drift = sorted(facts.drift)
            yield self.item(
                signal="monitor.drift_detection",
                subject=subject,
                locator=f"{self.source.url}/graph?g0.expr={_url_part(drift[0])}",
                strength=Strength.verified,
                summary=(
                    f"drift of {about} is computed and collected by {self.source.name}: "
                    f"{', '.join(drift[:5])} (recent samples)"
                ),
                occurred_at=now,
                links=links,
                attributes={
                    **base,
                    "metrics": drift[:MAX_LISTED],
                    "libraries": sorted({drift_library(m) for m in drift}),
                },
            )
        if not (facts.serving or facts.quality or facts.rate is not None):
            return
        kinds = [
            k
            for k, present in (
                ("serving", facts.serving or facts.rate is not None),
                ("quality", bool(facts.quality)),
            )
            if present
        ]
        attributes: dict[str, JsonValue] = {**base, "kinds": kinds}
        parts = []
        if facts.rate is not None:
            attributes.update(
                request_rate=round(facts.rate, 6),
                request_metric=facts.rate_metric,
                jobs=sorted(facts.jobs)[:MAX_LISTED],
            )
            parts.append(
                f"{facts.rate:.3g} requests/s over the last {self.source.rate_window} ({facts.rate_metric})"
            )
        elif facts.serving:
            parts.append("serving metrics")
        if facts.quality:
            quality = sorted(facts.quality)
            attributes["quality_metrics"] = quality[:MAX_LISTED]
            parts.append(f"quality metrics {', '.join(quality[:5])}")
        first = facts.rate_metric or (sorted(facts.quality)[0] if facts.quality else "")
        yield self.item(
            signal="monitor.model_metrics",
            subject=subject,
            locator=f"{self.source.url}/graph?g0.expr={_url_part(first or 'up')}",
            strength=Strength.verified,
            summary=f"{self.source.name} collects live metrics of {about}: {'; '.join(parts)}",
            occurred_at=now,
            attributes=attributes,
            links=links,
        )

    def serving_targets(self) -> Iterator[Evidence]:
        if self.reading.targets is None:
            return
        by_job: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for target in self.reading.targets:
            labels = _labels(target.get("labels"))
            by_job[labels.get("job") or str(target.get("scrapePool", ""))].append(target)
        serving_jobs = self.reading.serving_jobs or set()
        families = sorted(
            {s for n, k in self.reading.kinds.items() if k == "serving" and (s := server_of_metric(n))}
        )
        for job, targets in sorted(by_job.items()):
            values = [
                job,
                *(
                    v
                    for t in targets
                    for k, v in _labels(t.get("labels")).items()
                    if k not in ("instance", "__address__")
                ),
            ]
            server = server_of_labels(values)
            if server is None and (job in serving_jobs or job in self.job_rate):
                server = families[0] if len(families) == 1 else "custom"
            if server is None:
                continue
            up = [t for t in targets if t.get("health") == "up"]
            models = sorted(self.job_models.get(job, set()))
            rate = self.job_rate.get(job, 0.0)
            last_scrape = max((d for t in targets if (d := parse_time(t.get("lastScrape")))), default=None)
            state = f"{len(up)} of {plural(targets, 'target')} up"
            if up:
                strength = Strength.verified if rate > 0 else Strength.active
            else:
                down = "its target is down" if len(targets) == 1 else f"all {len(targets)} targets are down"
                strength = Strength.declared
                error = next((str(t.get("lastError")) for t in targets if t.get("lastError")), "")
                self.c.status.warnings.append(
                    f"model server job `{job}`: {down}{f' ({_one_line(error, 120)})' if error else ''}"
                )
            attributes: dict[str, JsonValue] = {
                "job": job,
                "server": server,
                "targets": len(targets),
                "targets_up": len(up),
                "models": models[:MAX_LISTED],
            }
            if rate > 0:
                attributes["request_rate"] = round(rate, 6)
            if last_scrape:
                attributes["last_scrape"] = last_scrape.isoformat()
            traffic = f", {rate:.3g} requests/s" if rate > 0 else ""
            serves = f"; serves {', '.join(models[:5])}" if models else ""
            yield self.item(
                signal="serving.model_server",
                subject=f"{self.c.server}/job/{job}",
                locator=f"{self.source.url}/targets?search={_url_part(job)}",
                strength=strength,
                summary=(
                    f"{self.source.name} scrapes model server job `{job}` ({server}): "
                    f"{state}{traffic}{serves}"
                ),
                occurred_at=last_scrape,
                attributes=attributes,
                links=[*(f"model:{m}" for m in models[:200]), self.c.server],
            )

    def coverage(self) -> Iterator[Evidence]:
        """The server's summary: served models and the share a working monitor watches."""
        served = self.served_models()
        if not served:
            return
        drift = [m for m in served if m in self.monitored["drift"]]
        quality = [m for m in served if m in self.monitored["model_quality"]]
        attributes: dict[str, JsonValue] = {
            "served_models": len(served),
            "models": served[:MAX_LISTED],
            "drift_monitor_share": round(100 * len(drift) / len(served), 1),
            "quality_monitor_share": round(100 * len(quality) / len(served), 1),
            "models_without_drift_monitor": [m for m in served if m not in drift][:MAX_LISTED],
            "monitor_rules": dict(sorted(self.rule_counts.items())),
            "broken_monitor_rules": self.broken_count,
        }
        if self.reading.alertmanagers is not None:
            attributes["alertmanagers"] = self.reading.alertmanagers
        yield self.item(
            signal="monitor.model_metrics",
            subject=self.c.server,
            locator=self.source.url,
            strength=Strength.verified,
            attributes=attributes,
            occurred_at=self.c.ctx.now,
            summary=(
                f"{self.source.name} collects live metrics of {len(served)} served model"
                f"{'s' if len(served) > 1 else ''}: {len(drift)} with a working drift monitor, "
                f"{len(quality)} with a working quality monitor"
            ),
            links=[f"model:{m}" for m in served[:200]],
        )

    def general_warnings(self) -> None:
        status = self.c.status
        if self.reading.reload_ok is False:
            status.warnings.append(
                f"the last configuration reload failed (configuration of "
                f"{self.reading.last_reload} still in use): changed rule files "
                "are not loaded"
            )
        monitors = sum(self.rule_counts.values())
        if self.reading.alertmanagers == 0 and monitors:
            status.warnings.append(
                f"no Alertmanager is configured: {monitors} model monitor rules fire without notifying anyone"
            )


def _fullmatch(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return False
