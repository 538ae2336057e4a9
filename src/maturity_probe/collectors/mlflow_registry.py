"""The `mlflow` collector: what an MLflow tracking server and model registry prove.

It reads, in a bounded number of paginated requests (never one per model or version):
experiments, the runs started in the lookback window, every registered model (with its
aliases), every model version, and - in batches - the runs behind versions that are
older than the window. From them it emits evidence about experiment tracking, runs
reproducible from a git commit, automated runs, registered and versioned models, their
lineage to runs, commits and data sets, production promotion, validation, documentation
and retraining cadence, and per-model KPIs (configs/kpis.yaml).

Credentials never touch the process environment: each source talks to MLflow's REST API
through MLflow's own HTTP transport (`http_request`: retries, back-off, TLS settings) with
its own `MlflowHostCreds`, built from the variables its config names, and its own timeout
and retry counts. Answers are read as JSON rather than converted to MLflow entities: that
protobuf conversion costs about 0.4 ms per run, more than the server takes to send it.
The runs of the lookback window are read as time slices at once (a search's pages are
sequential: each needs the token of the one before).
"""

from __future__ import annotations

import importlib
import itertools
import json
import re
import statistics
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from pydantic import Field, field_validator, model_validator

from maturity_probe import requestlog
from maturity_probe.collectors import CollectContext, Collector, SourceConfig, SourceError
from maturity_probe.collectors.repo import subject_for_remote
from maturity_probe.config import secret_from_env
from maturity_probe.evidence import Evidence, Strength
from maturity_probe.words import plural

INSTALL_HINT = "the mlflow collector needs `pip install 'maturity-probe[mlflow]'`"

TRACKING_SIGNALS = ["tracking.runs_logged", "tracking.runs_from_git_commit", "tracking.automated_runs"]
REGISTRY_SIGNALS = [
    "registry.model_registered",
    "registry.version_lineage",
    "registry.dataset_lineage",
    "registry.production_alias",
    "registry.version_validated",
    "registry.model_documented",
    "registry.retraining_cadence",
]
# Registry signals whose evidence (or whose strongest strength) needs the versions' runs.
RUN_DEPENDENT_SIGNALS = [
    "registry.version_lineage",
    "registry.dataset_lineage",
    "registry.production_alias",
    "registry.version_validated",
    "registry.retraining_cadence",
]

COMMIT_TAG = "mlflow.source.git.commit"
REPO_URL_TAGS = ("mlflow.source.git.repoURL", "mlflow.gitRepoURL")
SOURCE_TYPE_TAG = "mlflow.source.type"
USER_TAG = "mlflow.user"
LOGGED_MODELS_TAG = "mlflow.log-model.history"  # MLflow 2.x: flavors, signature, input example
PROMPT_TAG = "mlflow.prompt.is_prompt"  # MLflow 3 keeps prompts in the registry: not models

EXPERIMENT_PAGE = 1000
RUN_PAGE = 1000
MODEL_PAGE = 1000  # the server's maximum for registered models
VERSION_PAGE = 10000
RUN_IDS_PER_REQUEST = 200
EXPERIMENT_IDS_PER_REQUEST = 500
RUN_SLICES = 8  # the lookback window is searched as this many time slices ...
RUN_READERS = 4  # ... by this many concurrent requests
API = "/api/2.0/mlflow"
FALSY_TAG_VALUES = {"", "0", "false", "no", "none", "null"}
DAY = timedelta(days=1)
T = TypeVar("T")



class MlflowSource(SourceConfig):
    """An MLflow tracking server and model registry, read over its REST API."""

    type: Literal["mlflow"] = "mlflow"
    tracking_uri: str = Field(description="Base URL of the tracking server, e.g. http://mlflow:5000.")
    registry_uri: str | None = Field(None, description="Model registry URL (default: tracking_uri).")
    token_env: str | None = Field(None, description="Environment variable with a bearer token.")
    username_env: str | None = Field(None, description="Environment variable with the basic-auth user.")
    password_env: str | None = Field(None, description="Environment variable with the basic-auth password.")
    timeout_seconds: int = Field(10, ge=1, le=600, description="Timeout of each HTTP request.")
    max_retries: int = Field(2, ge=0, le=10, description="Retries of a failed request (5xx, 429, network).")
    max_runs: int = Field(10000, ge=1, description="Most recent runs read from the lookback window.")
    production_aliases: list[str] = Field(
        default=["production", "prod", "champion", "live"],
        description="Aliases that mark the version serving production (case-insensitive); "
        "the `Production` stage counts too.",
    )
    staging_aliases: list[str] = Field(
        default=["staging", "stage", "preprod", "pre-production", "qa", "test"],
        description="Aliases that mark a pre-production environment (the `Staging` stage counts too).",
    )
    validation_tags: list[str] = Field(
        default=["validation_status", "validation", "validated", "model_validation",
                 "validation_result"],
        description="Version (or run) tags that record a validation of the model.",
    )
    validation_pass_values: list[str] = Field(
        default=["passed", "pass", "true", "success", "succeeded", "ok", "approved", "yes", "1"],
        description="Values of those tags that mean the validation passed (case-insensitive).",
    )
    automation_source_types: list[str] = Field(
        default=["JOB", "PROJECT"],
        description="`mlflow.source.type` values of runs launched by automation.",
    )
    automation_users: list[str] = Field(
        default=["ci", "ci-*", "*-ci", "github-actions*", "gitlab-ci*", "jenkins*", "airflow*",
                 "argo*", "kubeflow*", "svc-*", "*-bot", "*[bot]"],
        description="Run users (`mlflow.user`) that are automation; `*` matches anything.",
    )
    automation_tags: list[str] = Field(
        default=["ci", "orchestrator", "mlflow.databricks.jobID", "airflow_dag_id"],
        description="Run tags whose presence (with a value other than false/0/no) marks automation.",
    )

    @field_validator("tracking_uri", "registry_uri")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL of an MLflow server")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _basic_auth_pair(self) -> MlflowSource:
        if bool(self.username_env) != bool(self.password_env):
            raise ValueError("username_env and password_env go together")
        return self


# -- what the server holds, reduced to the facts the evidence needs ------------------------


@dataclass(frozen=True, slots=True)
class RunFacts:
    run_id: str
    experiment_id: str
    status: str
    started: datetime | None
    ended: datetime | None
    user: str
    tags: dict[str, str]  # only those read later: validation tags, logged-model history
    datasets: tuple[str, ...]  # "name@digest" of logged input data sets
    commit: str | None  # mlflow.source.git.commit
    repo: str | None  # subject of the git remote it ran from (github:owner/name, ...)
    automated_by: str | None  # why it counts as launched by automation, None if manual

    @property
    def finished(self) -> bool:
        return self.status == "FINISHED"

    @property
    def last_activity(self) -> datetime | None:
        return self.ended or self.started


@dataclass(frozen=True, slots=True)
class VersionFacts:
    model: str
    version: int
    created: datetime | None
    updated: datetime | None
    run_id: str
    status: str
    stage: str
    tags: dict[str, str]
    description: str


@dataclass
class ModelFacts:
    name: str
    created: datetime | None
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    versions: list[VersionFacts] = field(default_factory=list)


@dataclass
class Snapshot:
    """Everything read from one server, before any interpretation."""

    experiments: dict[str, str] = field(default_factory=dict)  # id -> name
    recent_runs: list[RunFacts] = field(default_factory=list)
    runs: dict[str, RunFacts] = field(default_factory=dict)  # recent + those behind versions
    models: list[ModelFacts] = field(default_factory=list)
    runs_truncated: bool = False
    tracking_ok: bool = False
    registry_ok: bool = False


class ServerError(Exception):
    """A request to the server failed; the message is a one-line reason."""


def _workers(count: int, role: str) -> ThreadPoolExecutor:
    """A pool of request threads named after the source (--verbose names requests by it)."""
    return ThreadPoolExecutor(max_workers=count, thread_name_prefix=requestlog.worker_prefix(role))


def _same(item: dict[str, Any]) -> dict[str, Any]:
    return item


def _start_order(run: RunFacts) -> datetime:
    return run.started or datetime.min.replace(tzinfo=UTC)


def _int(value: Any) -> int | None:
    """An integer of a JSON answer (protobuf's JSON may write int64 as a string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _time(millis: Any) -> datetime | None:
    moment = _int(millis)
    if moment is None or moment <= 0:
        return None
    return datetime.fromtimestamp(moment / 1000, UTC)


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _wildcard(pattern: str) -> re.Pattern[str]:
    """A user pattern where only `*` is special (so `name[bot]` means what it says)."""
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$", re.I)


def describe_failure(exc: BaseException, url: str, timeout: int, status: int | None = None) -> str:
    """One line saying why a request to `url` failed, from MLflow's and requests' errors;
    `status` is the HTTP status of the answer, when there was one."""
    import requests

    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(str(e) for e in chain)
    for error in chain:
        if isinstance(error, requests.exceptions.Timeout):
            return f"{url} did not answer within {timeout} s (timeout)"
        if isinstance(error, requests.exceptions.RetryError):
            repeated = re.search(r"too many (\d{3}) error responses", text)
            answer = f"HTTP {repeated.group(1)}" if repeated else "errors"
            return f"{url} answered {answer} (retries exhausted): not a working MLflow API"
        if isinstance(error, requests.exceptions.ConnectionError):
            if "refused" in text.lower():
                return f"cannot connect to {url}: connection refused"
            if "timed out" in text.lower():
                return f"{url} did not answer within {timeout} s (timeout)"
            return f"cannot connect to {url}: network error"
        if isinstance(error, json.JSONDecodeError):
            return f"{url} answered with a page that is not JSON: not an MLflow API"
    # the answer's own status first: MLflow derives one from the body's error_code, and a
    # body without one (a proxy's, an auth plugin's) would read as HTTP 500 INTERNAL_ERROR
    http_status = getattr(exc, "get_http_status_code", None)
    code = status if status and status != 200 else http_status() if callable(http_status) else None
    if code == 401:
        return (f"{url} refused the request: HTTP 401 unauthenticated "
                "(check token_env or username_env/password_env)")
    if code == 403:
        return f"{url} refused the request: HTTP 403 permission denied for these credentials"
    if code == 404:
        return f"{url} has no such MLflow API endpoint (HTTP 404)"
    body = getattr(exc, "json", None)
    if status and isinstance(body, dict) and not body.get("error_code"):
        message = str(body.get("message") or "").strip()
        detail = message.splitlines()[0][:200] if message else "an error without an MLflow error code"
        return f"{url}: HTTP {status}: {detail}"
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{url}: {first_line[:200]}"


class MlflowServer:
    """Paginated reads of one MLflow server's REST API, answers as JSON objects.

    Requests go through MLflow's `http_request` with this source's credentials, timeout and
    retries (never read from or written to the environment); every request is counted.
    """

    def __init__(self, config: MlflowSource, token: str | None, username: str | None,
                 password: str | None) -> None:
        try:
            self._rest = importlib.import_module("mlflow.utils.rest_utils")
        except ImportError as exc:
            raise SourceError(INSTALL_HINT) from exc
        self.config = config
        self.requests = 0
        self._count_lock = threading.Lock()
        credentials = {"token": token, "username": username, "password": password}
        self.tracking = self._rest.MlflowHostCreds(host=config.tracking_uri, **credentials)
        self.registry = self._rest.MlflowHostCreds(
            host=config.registry_uri or config.tracking_uri, **credentials)

    def _request(self, host: Any, endpoint: str, method: str, body: dict[str, Any]
                 ) -> dict[str, Any]:
        with self._count_lock:
            self.requests += 1
        payload = {"json": body} if method == "POST" else {"params": body}
        status: int | None = None
        try:
            response = self._rest.http_request(
                host, f"{API}/{endpoint}", method, max_retries=self.config.max_retries,
                backoff_factor=1, backoff_jitter=0.5, timeout=self.config.timeout_seconds, **payload)
            status = response.status_code
            if status != 200:
                self._rest.verify_rest_response(response, f"{API}/{endpoint}")
            answer = response.json()
        except Exception as exc:  # requests', MLflow's and JSON errors: each becomes one line
            raise ServerError(describe_failure(exc, host.host, self.config.timeout_seconds,
                                               status)) from exc
        if not isinstance(answer, dict):
            raise ServerError(f"{host.host} answered JSON that is not an MLflow API response")
        return answer

    def _pages(self, host: Any, endpoint: str, method: str, body: dict[str, Any], key: str,
               convert: Callable[[dict[str, Any]], T], limit: int | None = None,
               enough: Callable[[int], bool] = lambda read: False) -> tuple[list[T], bool]:
        """The items under `key` of every page, converted page by page (so raw answers do
        not pile up), up to `limit` items or until `enough(items read)` says so after a
        page; True when it stopped before the last page."""
        items: list[T] = []
        token: str | None = None
        while True:
            answer = self._request(host, endpoint, method, {**body, "page_token": token} if token else body)
            listed = answer.get(key, [])  # MLflow leaves out an empty list
            next_token = answer.get("next_page_token") or None
            if not isinstance(listed, list) or not isinstance(next_token, str | None):
                wrong = f"`{key}` is not a list" if not isinstance(listed, list) else (
                    "`next_page_token` is not a string")
                raise ServerError(f"{host.host} did not answer {endpoint} like an MLflow API ({wrong})")
            if next_token is not None and next_token == token:  # it would never end
                raise ServerError(f"{host.host} did not answer {endpoint} like an MLflow API "
                                  "(the same page token twice)")
            items.extend(convert(item) for item in listed if isinstance(item, dict))
            token = next_token
            if not token:
                return items, False
            if limit is not None and len(items) >= limit:
                return items[:limit], True
            if enough(len(items)):
                return items, True

    def experiments(self) -> list[dict[str, Any]]:
        found, _ = self._pages(self.tracking, "experiments/search", "POST",
                               {"max_results": EXPERIMENT_PAGE, "view_type": "ACTIVE_ONLY"},
                               "experiments", _same)
        return found

    def runs(self, experiment_ids: list[str], filter_string: str, convert: Callable[[dict[str, Any]], T],
             limit: int | None, enough: Callable[[int], bool] = lambda read: False
             ) -> tuple[list[T], bool]:
        """Runs matching a filter: of each chunk of experiments the `limit` most recent (the
        caller orders them across chunks); `enough(runs read so far)` may stop the reading
        between pages. True when runs were left unread."""
        found: list[T] = []
        truncated = False
        for start in range(0, len(experiment_ids), EXPERIMENT_IDS_PER_REQUEST):
            body = {"experiment_ids": experiment_ids[start:start + EXPERIMENT_IDS_PER_REQUEST],
                    "filter": filter_string, "run_view_type": "ALL",
                    "max_results": RUN_PAGE if limit is None else min(RUN_PAGE, limit),
                    "order_by": ["attributes.start_time DESC"]}

            def enough_in_all(count: int, before: int = len(found)) -> bool:
                return enough(before + count)

            items, cut = self._pages(self.tracking, "runs/search", "POST", body, "runs", convert,
                                     limit, enough_in_all)
            found.extend(items)
            truncated = truncated or cut
            if cut and enough(len(found)):
                return found, True
        return found, truncated

    def recent_runs(self, experiment_ids: list[str], since: datetime, until: datetime, limit: int,
                    convert: Callable[[dict[str, Any]], RunFacts]) -> tuple[list[RunFacts], bool]:
        """The `limit` most recent runs started since `since`, newest first; True when more
        started. The window is cut into RUN_SLICES equal time slices searched at once; a
        slice stops between pages once the newer slices hold `limit` runs (none of its runs
        could be among the most recent)."""
        first, last = _millis(since), _millis(until)
        bounds = [last - (last - first) * index // RUN_SLICES for index in range(RUN_SLICES + 1)]
        counts = [0] * RUN_SLICES

        def read_slice(index: int) -> tuple[list[RunFacts], bool]:
            window = f"attributes.start_time >= {bounds[index + 1]}"
            if index:  # the newest slice has no end: clocks differ
                window += f" AND attributes.start_time < {bounds[index]}"

            def enough(read: int) -> bool:
                counts[index] = read
                return sum(counts[:index]) >= limit

            return self.runs(experiment_ids, window, convert, limit, enough)

        with _workers(RUN_READERS, "mlflow-runs") as pool:
            slices = list(pool.map(read_slice, range(RUN_SLICES)))
        found = sorted((run for runs, _ in slices for run in runs), key=_start_order, reverse=True)
        return found[:limit], len(found) > limit or any(cut for _, cut in slices)

    def registered_models(self) -> list[dict[str, Any]]:
        found, _ = self._pages(self.registry, "registered-models/search", "GET",
                               {"max_results": MODEL_PAGE}, "registered_models", _same)
        return found

    def model_versions(self) -> list[dict[str, Any]]:
        found, _ = self._pages(self.registry, "model-versions/search", "GET",
                               {"max_results": VERSION_PAGE}, "model_versions", _same)
        return found


# -- the collector -------------------------------------------------------------------------


class MlflowCollector(Collector):
    """Reads an MLflow tracking server and registry (see the module docstring)."""

    type = "mlflow"
    config_model = MlflowSource
    shardable = True  # models are partitioned; the tracking evidence goes with the source

    def __init__(self, config: MlflowSource, ctx: CollectContext) -> None:
        super().__init__(config, ctx)
        self.config: MlflowSource = config
        self.ui = config.tracking_uri
        self.server_subject = f"mlflow:{config.name}"
        self.window_start = ctx.now - timedelta(days=config.lookback_days)
        self._users = [_wildcard(p) for p in config.automation_users]
        self._source_types = {t.upper() for t in config.automation_source_types}
        self._production = {a.lower() for a in config.production_aliases}
        self._staging = {a.lower() for a in config.staging_aliases}
        self._passing = {v.lower() for v in config.validation_pass_values}
        # the run tags read after the reading (the others are reduced to RunFacts' fields)
        self._kept_run_tags = (*config.validation_tags, LOGGED_MODELS_TAG)

    @classmethod
    def signals(cls) -> frozenset[str]:
        return frozenset(TRACKING_SIGNALS + REGISTRY_SIGNALS)

    # -- reading ---------------------------------------------------------------------
    def credentials(self) -> tuple[str | None, str | None, str | None]:
        config = self.config
        values = []
        for variable in (config.token_env, config.username_env, config.password_env):
            value = secret_from_env(variable)
            if variable and value is None:
                raise SourceError(f"environment variable {variable} is not set (named in the config)")
            values.append(value)
        return values[0], values[1], values[2]

    def collect(self) -> Iterator[Evidence]:
        server = MlflowServer(self.config, *self.credentials())
        try:
            snapshot = self.read(server)
        finally:
            self.status.requests = server.requests
        yield from self.interpret(snapshot)

    def interpret(self, snapshot: Snapshot) -> Iterator[Evidence]:
        """The evidence of a snapshot, letting go of each part of it once interpreted, so
        that memory holds the facts not yet interpreted beside the evidence made so far,
        never all of both (the facts of 1,000 models are ~5 MiB)."""
        if self.owns_source():
            yield from self.tracking_evidence(snapshot)
        uses = Counter(v.run_id for model in snapshot.models for v in model.versions)
        snapshot.recent_runs = []
        snapshot.runs = {run_id: run for run_id, run in snapshot.runs.items() if uses[run_id]}
        snapshot.models.reverse()
        while snapshot.models:
            model = snapshot.models.pop()
            yield from self.model_evidence(model, snapshot)
            for version in model.versions:
                uses[version.run_id] -= 1
                if not uses[version.run_id]:
                    snapshot.runs.pop(version.run_id, None)

    def read(self, server: MlflowServer) -> Snapshot:
        """Tracking (experiments, recent runs) and registry (models, versions) are read
        concurrently, then the runs behind older versions; a side that fails makes the
        source partial, both failing make it failed."""
        snapshot = Snapshot()
        with _workers(2, "mlflow-read") as pool:
            tracking = pool.submit(self.read_tracking, server, snapshot)
            registry = pool.submit(self.read_registry, server, snapshot)
            tracking_error, registry_error = _error_of(tracking), _error_of(registry)
        if tracking_error and registry_error:
            raise SourceError(tracking_error)
        if tracking_error:
            self.partial(f"tracking: {tracking_error}", TRACKING_SIGNALS + RUN_DEPENDENT_SIGNALS)
        if registry_error:
            self.partial(f"registry: {registry_error}", REGISTRY_SIGNALS)
        snapshot.tracking_ok, snapshot.registry_ok = not tracking_error, not registry_error
        if snapshot.runs_truncated:
            self.status.warnings.append(
                f"more than {self.config.max_runs} runs started in the last "
                f"{self.config.lookback_days} days: only the most recent {self.config.max_runs} "
                "were read (raise max_runs to read more)")
        if snapshot.tracking_ok and snapshot.registry_ok:
            try:
                self.read_version_runs(server, snapshot)
            except ServerError as exc:
                snapshot.tracking_ok = False
                self.partial(f"runs of model versions: {exc}", RUN_DEPENDENT_SIGNALS)
        return snapshot

    def read_tracking(self, server: MlflowServer, snapshot: Snapshot) -> None:
        """Experiments, and the runs started in the lookback window (most recent first)."""
        snapshot.experiments = {str(e["experiment_id"]): str(e.get("name", e["experiment_id"]))
                                for e in server.experiments() if e.get("experiment_id")}
        if not snapshot.experiments:
            return
        snapshot.recent_runs, snapshot.runs_truncated = server.recent_runs(
            sorted(snapshot.experiments, key=_id_order), self.window_start, self.ctx.now,
            self.config.max_runs, self.run_facts)
        snapshot.runs.update((facts.run_id, facts) for facts in snapshot.recent_runs)

    def read_registry(self, server: MlflowServer, snapshot: Snapshot) -> None:
        """Registered models and every model version (the two listings at once)."""
        models: dict[str, ModelFacts] = {}
        with _workers(1, "mlflow-versions") as pool:
            versions = pool.submit(server.model_versions)
            listed = server.registered_models()
        for item in listed:
            name = str(item.get("name") or "")
            tags = _tag_dict(item.get("tags"))
            if not name or str(tags.get(PROMPT_TAG, "")).lower() == "true":
                continue
            aliases = {}
            for alias in _list(item.get("aliases")):
                version = _int(_dict(alias).get("version"))
                if version is not None and _dict(alias).get("alias"):
                    aliases[str(alias["alias"])] = version
            models[name] = ModelFacts(
                name=name,
                created=_time(item.get("creation_timestamp")),
                description=str(item.get("description") or ""),
                tags=tags,
                aliases=aliases,
            )
        for item in versions.result():
            model = models.get(str(item.get("name") or ""))
            number = _int(item.get("version"))
            if model is None or number is None:  # a prompt, or created between the listings
                continue
            model.versions.append(VersionFacts(
                model=model.name,
                version=number,
                created=_time(item.get("creation_timestamp")),
                updated=_time(item.get("last_updated_timestamp")),
                run_id=str(item.get("run_id") or ""),
                status=str(item.get("status") or ""),
                stage=str(item.get("current_stage") or "None"),
                tags=_tag_dict(item.get("tags")),
                description=str(item.get("description") or ""),
            ))
        for model in models.values():
            model.versions.sort(key=lambda v: v.version)
        # a sharded scan keeps the models its shard owns (and reads only their versions' runs)
        snapshot.models = [models[name] for name in sorted(models)
                           if self.ctx.owns(self.model_subject(name))]

    def read_version_runs(self, server: MlflowServer, snapshot: Snapshot) -> None:
        """The runs behind versions that the lookback search did not return, in batches."""
        wanted = sorted({v.run_id for m in snapshot.models for v in m.versions
                         if v.run_id and v.run_id not in snapshot.runs
                         and re.fullmatch(r"[0-9a-zA-Z_-]+", v.run_id)})
        if not wanted or not snapshot.experiments:
            return
        experiment_ids = sorted(snapshot.experiments, key=_id_order)

        def read_batch(start: int) -> list[RunFacts]:
            ids = ", ".join(f"'{run_id}'" for run_id in wanted[start:start + RUN_IDS_PER_REQUEST])
            runs, _ = server.runs(experiment_ids, f"attributes.run_id IN ({ids})", self.run_facts, None)
            return runs

        with _workers(RUN_READERS, "mlflow-runs") as pool:
            for runs in pool.map(read_batch, range(0, len(wanted), RUN_IDS_PER_REQUEST)):
                snapshot.runs.update((facts.run_id, facts) for facts in runs)

    # -- interpretation: helpers -----------------------------------------------------
    def run_facts(self, run: dict[str, Any]) -> RunFacts:
        """The facts of one run (REST JSON) that the evidence needs, computed once."""
        info = _dict(run.get("info"))
        tags = _tag_dict(_dict(run.get("data")).get("tags"))
        datasets: list[str] = []
        for dataset_input in _list(_dict(run.get("inputs")).get("dataset_inputs")):
            dataset = _dict(_dict(dataset_input).get("dataset"))
            if dataset.get("name"):
                digest = dataset.get("digest") or ""
                datasets.append(f"{dataset['name']}@{digest}" if digest else str(dataset["name"]))
        user = tags.get(USER_TAG) or str(info.get("user_id") or "")
        repo_url = next((tags[t] for t in REPO_URL_TAGS if tags.get(t)), None)
        return RunFacts(
            run_id=str(info.get("run_id") or info.get("run_uuid") or ""),
            experiment_id=str(info.get("experiment_id") or ""),
            status=str(info.get("status") or ""),
            started=_time(info.get("start_time")),
            ended=_time(info.get("end_time")),
            user=user,
            tags={tag: tags[tag] for tag in self._kept_run_tags if tag in tags},
            datasets=tuple(sorted(set(datasets))),
            commit=tags.get(COMMIT_TAG) or None,
            repo=subject_for_remote(repo_url) if repo_url else None,
            automated_by=self.automation_marker(tags, user),
        )

    def automation_marker(self, tags: dict[str, str], user: str) -> str | None:
        """Why a run counts as launched by automation, or None when it looks manual."""
        source_type = tags.get(SOURCE_TYPE_TAG, "").upper()
        if source_type in self._source_types:
            return f"source type {source_type}"
        if user and any(p.match(user) for p in self._users):
            return f"user {user}"
        for tag in self.config.automation_tags:
            value = tags.get(tag)
            if value is not None and value.strip().lower() not in FALSY_TAG_VALUES:
                return f"tag {tag}"
        return None

    def in_window(self, moment: datetime | None) -> bool:
        return moment is not None and moment >= self.window_start

    def experiment_url(self, experiment_id: str) -> str:
        return f"{self.ui}/#/experiments/{experiment_id}"

    def model_url(self, name: str) -> str:
        return f"{self.ui}/#/models/{quote(name, safe='')}"

    def version_url(self, version: VersionFacts) -> str:
        return f"{self.model_url(version.model)}/versions/{version.version}"

    def model_subject(self, name: str) -> str:
        return f"{self.server_subject}/{name}"

    def commit_of(self, version: VersionFacts, run: RunFacts | None) -> str | None:
        return (run.commit if run else None) or version.tags.get(COMMIT_TAG) or None

    def recency_strength(self, version: VersionFacts, run: RunFacts | None) -> Strength:
        """verified: created in the window from a FINISHED run; active: created in the window."""
        if not self.in_window(version.created):
            return Strength.declared
        return Strength.verified if run is not None and run.finished else Strength.active

    def validation_of(self, version: VersionFacts, run: RunFacts | None) -> tuple[str, str] | None:
        """(tag, value) of the validation recorded on the version, else on its run."""
        for tags in (version.tags, run.tags if run else {}):
            for tag in self.config.validation_tags:
                value = tags.get(tag)
                if value is not None and value.strip():
                    return tag, value.strip()
        return None

    def production_marks(self, model: ModelFacts) -> dict[int, list[str]]:
        """Version -> how it is marked as production (aliases, or the Production stage)."""
        marks: dict[int, list[str]] = {}
        for alias, number in sorted(model.aliases.items()):
            if alias.lower() in self._production:
                marks.setdefault(number, []).append(f"alias {alias}")
        for version in model.versions:
            if version.stage.lower() == "production":
                marks.setdefault(version.version, []).append("stage Production")
        return marks

    def environments(self, model: ModelFacts) -> list[str]:
        found = set()
        for alias in model.aliases:
            if alias.lower() in self._production:
                found.add("production")
            elif alias.lower() in self._staging:
                found.add("staging")
        for version in model.versions:
            if version.stage.lower() in ("production", "staging"):
                found.add(version.stage.lower())
        return sorted(found)

    # -- interpretation: tracking ----------------------------------------------------
    def tracking_evidence(self, snapshot: Snapshot) -> Iterator[Evidence]:
        by_experiment: dict[str, list[RunFacts]] = {}
        for run in snapshot.recent_runs:
            by_experiment.setdefault(run.experiment_id, []).append(run)
        for experiment_id in sorted(by_experiment, key=_id_order):
            runs = by_experiment[experiment_id]
            name = snapshot.experiments.get(experiment_id, experiment_id)
            yield from self.experiment_evidence(experiment_id, name, runs)

    def experiment_evidence(self, experiment_id: str, name: str, runs: list[RunFacts]
                            ) -> Iterator[Evidence]:
        locator = self.experiment_url(experiment_id)
        days = self.config.lookback_days
        finished = [r for r in runs if r.finished]
        yield self.evidence(
            signal="tracking.runs_logged",
            subject=self.server_subject,
            locator=locator,
            strength=Strength.verified if finished else Strength.active,
            summary=(f"experiment `{name}` logged {_plural(len(runs), 'run')} in the last {days} days "
                     f"({len(finished)} finished)"),
            occurred_at=_latest(r.last_activity for r in runs),
            attributes={
                "experiment": name,
                "runs": len(runs),
                "finished_runs": len(finished),
                "failed_runs": sum(r.status in ("FAILED", "KILLED") for r in runs),
                "users": len({r.user for r in runs if r.user}),
            },
        )
        with_commit = [r for r in runs if r.commit]
        if with_commit:
            repos = sorted({r.repo for r in with_commit if r.repo})
            yield self.evidence(
                signal="tracking.runs_from_git_commit",
                subject=self.server_subject,
                locator=locator,
                strength=Strength.verified if any(r.finished for r in with_commit) else Strength.active,
                summary=(f"{len(with_commit)} of {len(runs)} recent runs of experiment `{name}` "
                         f"record the git commit they ran"
                         + (f" (from {', '.join(repos)})" if repos else "")),
                occurred_at=_latest(r.last_activity for r in with_commit),
                attributes={
                    "experiment": name,
                    "runs": len(runs),
                    "runs_with_commit": len(with_commit),
                    "commit_share": _percent(len(with_commit), len(runs)),
                    "repos": repos,
                },
                links=repos,
            )
        automated = [(r, r.automated_by) for r in runs if r.automated_by]
        if automated:
            done = [r for r, _ in automated if r.finished]
            markers = sorted({m for _, m in automated})
            yield self.evidence(
                signal="tracking.automated_runs",
                subject=self.server_subject,
                locator=locator,
                strength=Strength.verified if done else Strength.active,
                summary=(f"{len(automated)} recent runs of experiment `{name}` were launched by "
                         f"automation ({', '.join(markers[:3])}), {len(done)} finished"),
                occurred_at=_latest(r.last_activity for r, _ in automated),
                attributes={
                    "experiment": name,
                    "automated_runs": len(automated),
                    "finished_automated_runs": len(done),
                    "markers": markers[:10],
                },
            )

    # -- interpretation: registry ----------------------------------------------------
    def model_evidence(self, model: ModelFacts, snapshot: Snapshot) -> Iterator[Evidence]:
        versions = model.versions
        runs = {v.version: snapshot.runs.get(v.run_id) if v.run_id else None for v in versions}
        repos = sorted({r.repo for r in runs.values() if r and r.repo})
        yield self.registered(model, runs, repos)
        if not versions:
            return
        yield from self.lineage(model, runs, repos)
        yield from self.dataset_lineage(model, runs)
        yield from self.production(model, runs)
        yield from self.validation(model, runs)
        yield from self.documentation(model, runs)
        yield from self.cadence(model, runs)

    def registered(self, model: ModelFacts, runs: dict[int, RunFacts | None], repos: list[str]
                   ) -> Evidence:
        versions = model.versions
        recent = [v for v in versions if self.in_window(v.created)]
        latest = versions[-1] if versions else None
        attributes: dict[str, Any] = {
            "versions": len(versions),
            "latest_version": latest.version if latest else None,
        }
        attributes.update(self.kpis(model, runs))
        return self.evidence(
            signal="registry.model_registered",
            subject=self.model_subject(model.name),
            locator=self.model_url(model.name),
            strength=Strength.active if recent else Strength.declared,
            summary=(f"model `{model.name}` is registered with {_plural(len(versions), 'version')}"
                     + (f", {len(recent)} created in the last {self.config.lookback_days} days"
                        if recent else "")),
            occurred_at=_latest(v.created for v in versions) if versions else model.created,
            attributes=attributes,
            links=[*repos, f"model:{model.name}"],
        )

    def kpis(self, model: ModelFacts, runs: dict[int, RunFacts | None]) -> dict[str, Any]:
        """Per-model KPIs (seed 002: versioning and lineage, time to market)."""
        now = self.ctx.now
        versions = model.versions
        values: dict[str, Any] = {
            "versions_30d": sum(1 for v in versions if v.created and v.created >= now - 30 * DAY),
            "versions_90d": sum(1 for v in versions if v.created and v.created >= now - 90 * DAY),
        }
        recent = sorted(v.created for v in versions if self.in_window(v.created) and v.created)
        if len(recent) >= 2:
            gaps = [(b - a) / DAY for a, b in itertools.pairwise(recent)]
            values["median_days_between_versions"] = round(statistics.median(gaps), 2)
        marks = self.production_marks(model)
        production = [v for v in versions if v.version in marks]
        if production:
            newest = max(production, key=lambda v: v.version)
            if newest.created:
                values["production_version_age_days"] = round((now - newest.created) / DAY, 2)
            run = runs.get(newest.version)
            promoted = newest.updated if newest.stage.lower() == "production" else None
            if run and run.ended and promoted:
                values["lead_time_run_to_production_hours"] = _hours(promoted - run.ended)
        leads = [
            _hours(v.created - run.ended)
            for v in versions
            if self.in_window(v.created) and v.created
            for run in [runs.get(v.version)] if run and run.ended
        ]
        if leads:
            values["lead_time_run_to_version_hours"] = round(statistics.median(leads), 2)
        if versions:
            traced = sum(1 for v in versions if self.commit_of(v, runs.get(v.version)))
            values["lineage_coverage_percent"] = _percent(traced, len(versions))
        return values

    def lineage(self, model: ModelFacts, runs: dict[int, RunFacts | None], repos: list[str]
                ) -> Iterator[Evidence]:
        with_run = [v for v in model.versions if v.run_id]
        with_commit = [v for v in model.versions if self.commit_of(v, runs.get(v.version))]
        if not with_run and not with_commit:
            return
        newest = max(with_commit or with_run, key=lambda v: v.version)
        run = runs.get(newest.version)
        commit = self.commit_of(newest, run)
        total = len(model.versions)
        yield self.evidence(
            signal="registry.version_lineage",
            subject=self.model_subject(model.name),
            locator=self.version_url(newest),
            strength=self.recency_strength(newest, run),
            summary=(f"{len(with_run)} of {total} versions of `{model.name}` record their source run, "
                     f"{len(with_commit)} trace to a git commit"
                     + (f" (version {newest.version}: commit {commit[:12]})" if commit else "")),
            occurred_at=newest.created,
            attributes={
                "versions": total,
                "versions_with_run": len(with_run),
                "versions_with_commit": len(with_commit),
                "lineage_coverage_percent": _percent(len(with_commit), total),
                "latest_commit": commit,
                "repos": repos,
            },
            links=[*repos, f"model:{model.name}"],
        )

    def dataset_lineage(self, model: ModelFacts, runs: dict[int, RunFacts | None]
                        ) -> Iterator[Evidence]:
        traced = [v for v in model.versions if (r := runs.get(v.version)) and r.datasets]
        if not traced:
            return
        newest = traced[-1]
        run = runs.get(newest.version)
        datasets = sorted({d for v in traced for r in [runs.get(v.version)] if r for d in r.datasets})
        yield self.evidence(
            signal="registry.dataset_lineage",
            subject=self.model_subject(model.name),
            links=[f"model:{model.name}"],
            locator=self.version_url(newest),
            strength=self.recency_strength(newest, run),
            summary=(f"{len(traced)} of {len(model.versions)} versions of `{model.name}` come from runs "
                     f"that logged their input data sets ({', '.join(datasets[:3])})"),
            occurred_at=newest.created,
            attributes={"versions_with_datasets": len(traced), "datasets": datasets[:10]},
        )

    def production(self, model: ModelFacts, runs: dict[int, RunFacts | None]) -> Iterator[Evidence]:
        marks = self.production_marks(model)
        by_number = {v.version: v for v in model.versions}
        environments = self.environments(model)
        for number in sorted(marks):
            version = by_number.get(number)
            if version is None:  # an alias pointing at a deleted version
                continue
            run = runs.get(number)
            proven = version.status.upper() == "READY" and run is not None and run.finished
            how = ", ".join(marks[number])
            yield self.evidence(
                signal="registry.production_alias",
                subject=self.model_subject(model.name),
                links=[f"model:{model.name}"],
                locator=self.version_url(version),
                strength=Strength.verified if proven else Strength.declared,
                summary=(f"version {number} of `{model.name}` is in production ({how})"
                         + ("; its training run finished successfully" if proven
                            else "; its training run is not known to have finished")),
                occurred_at=version.updated if version.stage.lower() == "production" else version.created,
                attributes={
                    "version": number,
                    "marked_by": marks[number],
                    "run_status": run.status if run else None,
                    "environments": environments,
                    "environment_count": len(environments),
                },
            )

    def validation(self, model: ModelFacts, runs: dict[int, RunFacts | None]) -> Iterator[Evidence]:
        records = [(v, rec) for v in model.versions
                   for rec in [self.validation_of(v, runs.get(v.version))] if rec]
        if not records:
            return
        passed = [v for v, (_, value) in records if value.lower() in self._passing]
        newest, (tag, value) = records[-1]
        shown = passed[-1] if passed else newest
        strength = self.recency_strength(shown, runs.get(shown.version))
        if not passed and strength == Strength.verified:
            strength = Strength.active  # recorded recently, but no version passed
        yield self.evidence(
            signal="registry.version_validated",
            subject=self.model_subject(model.name),
            links=[f"model:{model.name}"],
            locator=self.version_url(shown),
            strength=strength,
            summary=(f"{plural(records, 'version')} of `{model.name}` "
                     f"{'records' if len(records) == 1 else 'record'} a validation, "
                     f"{len(passed)} passed (version {newest.version}: {tag}={value})"),
            occurred_at=shown.created,
            attributes={
                "validated_versions": len(records),
                "passed_versions": len(passed),
                "latest_result": value,
                "tags": sorted({t for _, (t, _) in records}),
            },
        )

    def documentation(self, model: ModelFacts, runs: dict[int, RunFacts | None]
                      ) -> Iterator[Evidence]:
        described = [v for v in model.versions if v.description.strip()]
        signature, example = _logged_model_docs([r for r in runs.values() if r])
        chars = len(model.description.strip())
        if not chars and not described and not signature and not example:
            return
        parts = []
        if chars:
            parts.append(f"a {chars}-character description")
        if described:
            parts.append(f"{len(described)} described versions")
        if signature:
            parts.append("a logged input/output signature")
        if example:
            parts.append("a logged input example")
        yield self.evidence(
            signal="registry.model_documented",
            subject=self.model_subject(model.name),
            links=[f"model:{model.name}"],
            locator=self.model_url(model.name),
            strength=Strength.declared,
            summary=f"model `{model.name}` is documented in the registry: {', '.join(parts)}",
            attributes={
                "description_chars": chars,
                "described_versions": len(described),
                "signature": signature,
                "input_example": example,
            },
        )

    def cadence(self, model: ModelFacts, runs: dict[int, RunFacts | None]) -> Iterator[Evidence]:
        recent = [v for v in model.versions if self.in_window(v.created) and v.created]
        if len(recent) < 2:
            return
        automated = [v for v in recent for r in [runs.get(v.version)]
                     if r and r.finished and r.automated_by]
        created = sorted(v.created for v in recent if v.created)
        gaps = [(b - a) / DAY for a, b in itertools.pairwise(created)]
        median = round(statistics.median(gaps), 2)
        newest = recent[-1]
        yield self.evidence(
            signal="registry.retraining_cadence",
            subject=self.model_subject(model.name),
            links=[f"model:{model.name}"],
            locator=self.model_url(model.name),
            strength=Strength.verified if len(automated) >= 2 else Strength.active,
            summary=(f"`{model.name}` got {len(recent)} new versions in the last "
                     f"{self.config.lookback_days} days, one every {median:g} days (median); "
                     f"{len(automated)} from automated runs that finished"),
            occurred_at=newest.created,
            attributes={
                "versions_in_lookback": len(recent),
                "median_days_between_versions": median,
                "automated_versions": len(automated),
            },
        )


# -- small helpers -------------------------------------------------------------------------


def _mlflow(module: str, name: str) -> Any:
    """An attribute of an MLflow module, imported on first use (mlflow is an optional extra)."""
    return getattr(importlib.import_module(module), name)


def _error_of(future: Future[None]) -> str | None:
    """The one-line reason a read failed, or None when it worked."""
    try:
        future.result()
    except ServerError as exc:
        return str(exc)
    return None


def _tag_dict(tags: Any) -> dict[str, str]:
    """Tags of a JSON answer (`[{"key": k, "value": v}, ...]`) as a dict."""
    return {str(tag["key"]): str(tag.get("value", "")) for tag in _list(tags)
            if isinstance(tag, dict) and tag.get("key") is not None}


def _logged_model_docs(runs: Iterable[RunFacts]) -> tuple[bool | None, bool | None]:
    """(signature, input example) of models logged by these runs, from MLflow 2.x's
    `mlflow.log-model.history` tag; (None, None) when no run carries it (unknown)."""
    signature: bool | None = None
    example: bool | None = None
    for run in runs:
        raw = run.tags.get(LOGGED_MODELS_TAG)
        if not raw:
            continue
        try:
            entries = json.loads(raw)
        except ValueError:
            continue
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            signature = bool(signature) or bool(entry.get("signature"))
            example = bool(example) or bool(entry.get("saved_input_example_info"))
    return signature, example


def _id_order(experiment_id: str) -> tuple[int, str]:
    return (int(experiment_id), "") if experiment_id.isdigit() else (1 << 62, experiment_id)


def _latest(moments: Iterable[datetime | None]) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _hours(delta: timedelta) -> float:
    return round(max(delta.total_seconds(), 0.0) / 3600, 2)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
