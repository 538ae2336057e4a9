"""What the GitHub and GitLab collectors share: config, repository scanning, run verdicts.

A host collector lists its repositories, then scans them concurrently. Each repository
costs a tree listing, the files the detectors want and the history they ask for (the
"files" requests), then what only the host knows (the "host" requests): runs, schedules,
environments, protection, releases. The file detectors' findings become Evidence through
`finding_evidence`; host verdicts raise their strength (`verified` when the job ran and
succeeded in the lookback window) and the host adds evidence of its own.

A repository that cannot be read (404, 403, repeated 5xx, an answer that is not the host's
API) is reported in the source status and the others go on (the source is `partial`); when
no repository at all could be read, the source is `failed` with those reasons (a shard
of a sharded scan stays `partial`: other shards may read theirs). A refused
token fails the source with one line; a rate limit that would make the scan wait longer
than `max_rate_limit_wait` stops it cleanly, keeping what was read and marking the rest
unknown.

An answer the client library cannot read (a proxy's HTML login page, JSON of another
shape) makes it raise whatever its parsing hit (KeyError, TypeError, its parse error).
Every read of the host runs through `HostCollector.bind` or `step`, which turn such an
error into `MalformedAnswer` naming the URL of the thread's last answer; an error of that
kind raised outside them is a bug of the probe and is reported as an internal error.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, ParamSpec, TypeVar

import requests
from pydantic import Field

from maturity_probe import requestlog
from maturity_probe.collectors import CollectContext, Collector, SourceConfig, SourceError
from maturity_probe.collectors.hosthttp import (
    Answer,
    HttpLimits,
    HttpPolicy,
    MalformedAnswer,
    RateLimitStop,
    RequestLedger,
    network_cause,
    unreachable,
)
from maturity_probe.collectors.hosttree import RemoteHistory, RemoteTree, TreeEntry
from maturity_probe.collectors.repo_findings import HostVerdict, finding_evidence
from maturity_probe.config import secret_from_env
from maturity_probe.detectors import all_detectors, run_detectors
from maturity_probe.detectors.context import FileHistory, Finding, RepoContext
from maturity_probe.evidence import Evidence, JsonValue, Strength

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")

# What a client library raises when an answer does not have the shape it expects.
SHAPE_ERRORS = (LookupError, TypeError, AttributeError, ValueError)

# Findings of CI jobs whose strength the host's run history can raise.
RUN_SIGNALS = frozenset({
    "ci.pipeline", "ci.test_job", "ci.lint_job", "ci.build_job", "ci.data_validation_job",
    "ci.training_job",
    "ci.model_evaluation_job", "ci.model_registration_job", "ci.model_deployment_job",
    "ci.pipeline_deployment_job", "retrain.scheduled", "retrain.on_data_change",
    "retrain.on_alert", "security.scanning",
})  # fmt: skip
# Findings whose jobs deploy to environments the host knows (protection, deployments).
ENVIRONMENT_SIGNALS = frozenset({"ci.gated_release", "ci.deployment_environments"})
# A repository with one of these findings is an ML repository whose deployments matter.
MODEL_DEPLOY_SIGNALS = frozenset({
    "ci.model_deployment_job", "ci.pipeline_deployment_job", "ci.gated_release",
    "ci.deployment_environments",
})  # fmt: skip


class HostSource(SourceConfig):
    """Fields shared by the `github` and `gitlab` sources."""

    token_env: str | None = Field(
        default=None,
        description="Environment variable holding the API token. Named here, it must be set; "
        "null reads anonymously (public repositories only).",
    )
    include: list[str] = Field(
        default_factory=list,
        description="Only the repositories of the organisations / groups whose name or full "
        "path matches one of these globs (listed repos / projects are always scanned).",
    )
    include_archived: bool = Field(default=False, description="Also scan archived repositories.")
    include_forks: bool = Field(default=False, description="Also scan forks.")
    max_concurrency: int = Field(default=8, ge=1, le=64, description="Requests in flight at most.")
    max_rate_limit_wait: float = Field(
        default=300, ge=0,
        description="Longest wait (seconds) for a rate limit before stopping cleanly.",
    )
    batch_reads: bool = Field(
        default=True,
        description="Read several files in one GraphQL query (a read) instead of one REST "
        "request per file.",
    )
    timeout: float = Field(default=30, gt=0, description="Seconds before one request times out.")


@dataclass
class HostRepo:
    """One repository (GitHub) or project (GitLab) to scan."""

    key: str  # owner/name or group/project, as messages name it
    subject: str  # github:owner/name, gitlab:host/group/project
    web_url: str
    default_branch: str | None
    handle: Any  # the client library's object for it
    info: dict[str, Any] = field(default_factory=dict)  # what the listing said about it


@dataclass(frozen=True)
class Run:
    """One run of a workflow, pipeline or job, as the host reports it."""

    source: str  # GitHub event (`schedule`, `push` ...) or GitLab pipeline source
    status: str  # success, failure, cancelled, ...
    at: datetime
    url: str

    @property
    def succeeded(self) -> bool:
        return self.status == "success"


@dataclass
class HostFindings:
    """What the host adds to one repository: verdicts on findings, and its own evidence."""

    verdicts: dict[int, HostVerdict] = field(default_factory=dict)  # index into findings
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class RepoOutcome:
    repo: HostRepo
    evidence: list[Evidence] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problem: str | None = None
    stopped: bool = False


class AuthRefused(Exception):
    """The host refused the token (HTTP 401)."""


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def run_verdict(
    what: str,
    runs: list[Run],
    sources: frozenset[str] | None,
    *,
    lookback_days: int,
    disabled: str | None = None,
) -> HostVerdict:
    """Strength of a CI finding from its runs in the lookback window.

    verified: a relevant run succeeded; active: relevant runs happened, none succeeded;
    declared: disabled, or no relevant run (attribute `host_state` says which).
    """
    kind = "/".join(sorted(sources)) + " " if sources else ""
    relevant = [r for r in runs if sources is None or r.source in sources]
    if disabled:
        return HostVerdict(Strength.declared, None, f"{what} is disabled on the host ({disabled})",
                           {"host_state": "disabled", "host_disabled": disabled})
    succeeded = [r for r in relevant if r.succeeded]
    if succeeded:
        last = max(succeeded, key=lambda r: r.at)
        return HostVerdict(
            Strength.verified,
            last.at,
            f"{what}: {len(succeeded)} successful {kind}run{'s' if len(succeeded) != 1 else ''} "
            f"in the last {lookback_days} days, last on {when(last.at)}",
            {"host_state": "succeeded", "host_runs": len(relevant),
             "host_successful_runs": len(succeeded), "host_last_run_url": last.url},
        )
    if relevant:
        last = max(relevant, key=lambda r: r.at)
        return HostVerdict(
            Strength.active,
            last.at,
            f"{what}: {len(relevant)} {kind}run{'s' if len(relevant) != 1 else ''} in the last "
            f"{lookback_days} days, none succeeded (last: {last.status} on {when(last.at)})",
            {"host_state": "failing", "host_runs": len(relevant), "host_successful_runs": 0,
             "host_last_run_url": last.url},
        )
    return HostVerdict(Strength.declared, None,
                       f"{what}: no {kind}run in the last {lookback_days} days",
                       {"host_state": "not_run", "host_runs": 0})


def gated_by_environment(finding: Finding) -> bool:
    """The finding's approval is an environment's protection (not a manual job or step)."""
    return str(finding.attributes.get("approval") or "").startswith("environment")


def matches_include(patterns: list[str], *names: str) -> bool:
    """True without patterns; else when a glob matches the short name or the full path."""
    return not patterns or any(
        fnmatch.fnmatchcase(name.lower(), pattern.lower()) for pattern in patterns for name in names
    )


class HostCollector(Collector):
    """Base of the GitHub and GitLab collectors (subclasses talk to their client library)."""

    host_name: ClassVar[str]  # "GitHub", "GitLab"
    ci_system: ClassVar[str]  # the CI system whose jobs the host runs
    default_token_env: ClassVar[str]
    host_signals: ClassVar[frozenset[str]]  # signals only the host shows
    backoff_seconds: ClassVar[float] = 0.5  # first wait before retrying a 5xx, doubled each time
    shardable = True  # a shard lists every repository and scans the ones it owns

    config: HostSource

    def __init__(self, config: HostSource, ctx: CollectContext) -> None:
        super().__init__(config, ctx)
        self.ledger = RequestLedger()
        self.policy = HttpPolicy(
            HttpLimits(max_concurrency=config.max_concurrency,
                       max_wait=config.max_rate_limit_wait, backoff=self.backoff_seconds),
            self.ledger,
            host=self.host_name,
        )
        self.since = ctx.now - timedelta(days=config.lookback_days)
        # A variable named in the config must be set; the default one may be unset (a
        # warning, then anonymous reads of public repositories); null: anonymous on purpose.
        self.token_env_named = "token_env" in config.model_fields_set
        self.token_env: str | None = (config.token_env if self.token_env_named
                                      else config.token_env or self.default_token_env)
        self.token: str | None = None
        self.problems: list[str] = []
        self._step_failures: Counter[str] = Counter()
        self._step_examples: dict[str, str] = {}  # a URL that gave each step failure
        self._lock = threading.Lock()
        self.scanned = 0
        self.files_fetched = 0
        self._fetch_pool: ThreadPoolExecutor | None = None

    @classmethod
    def signals(cls) -> frozenset[str]:
        return frozenset().union(*(d.signals for d in all_detectors())) | cls.host_signals

    # -- what subclasses provide ----------------------------------------------------------------
    def connect(self) -> None:
        """Build the client (self.token may be None)."""
        raise NotImplementedError

    def list_repositories(self) -> list[HostRepo]:
        """The repositories to scan; unreadable organisations/groups go to self.problem()."""
        raise NotImplementedError

    def list_tree(self, repo: HostRepo) -> list[TreeEntry]:
        raise NotImplementedError

    def read_blob(self, repo: HostRepo, entry: TreeEntry) -> bytes:
        raise NotImplementedError

    def read_blobs(self, repo: HostRepo, entries: list[TreeEntry]) -> dict[str, bytes]:
        raise NotImplementedError

    def path_history(self, repo: HostRepo, path: str | None) -> FileHistory | None:
        raise NotImplementedError

    def host_findings(self, repo: HostRepo, findings: list[Finding]) -> HostFindings:
        raise NotImplementedError

    def file_url(self, repo: HostRepo, path: str, line: int | None) -> str:
        raise NotImplementedError

    def http_status(self, exc: BaseException) -> int | None:
        """The HTTP status of a client library error, None when it is not one."""
        raise NotImplementedError

    def open_repository(self, repo: HostRepo) -> Any:
        """The client library's object for a repository, when its scan starts."""
        return repo.handle

    def is_parse_error(self, exc: BaseException) -> bool:
        """The client library's own error for an answer it could not parse."""
        return False

    # -- answers that are not the host's API ----------------------------------------------------
    def malformed(self, exc: BaseException) -> MalformedAnswer | None:
        """`exc` as an answer that was not the host's API, None when it is something else.

        A parsing error counts only when this thread received an answer since the read
        began (`policy.forget_answer`): that answer is the one that could not be read.
        """
        if isinstance(exc, MalformedAnswer):
            return exc
        if self.http_status(exc) is not None or not (
                isinstance(exc, SHAPE_ERRORS) or self.is_parse_error(exc)):
            return None
        answer = self.policy.last_answer()
        if answer is None:
            return None
        missing = exc.args[0] if isinstance(exc, KeyError) and exc.args and isinstance(
            exc.args[0], str) else None
        return MalformedAnswer(self.host_name, answer, missing)

    def not_the_api(self, missing: str | None = None) -> MalformedAnswer:
        """The answer just received is not the host's API (a value of the wrong type)."""
        answer = self.policy.last_answer() or Answer(self.api_root(), 0, "")
        return MalformedAnswer(self.host_name, answer, missing)

    def api_root(self) -> str:
        """The API's base URL, for messages."""
        raise NotImplementedError

    def bind(self, func: Callable[P, R], repo: str, kind: str) -> Callable[P, R]:
        """`func`, a read of the host, charging its requests to repo and kind (also from
        pool threads), with an answer it could not parse raised as MalformedAnswer."""
        charged = self.ledger.bind(func, repo, kind)

        def read(*args: P.args, **kwargs: P.kwargs) -> R:
            self.policy.forget_answer()
            try:
                return charged(*args, **kwargs)
            except Exception as exc:
                malformed = self.malformed(exc)
                if malformed is None or malformed is exc:
                    raise
                raise malformed from exc

        return read

    # -- the scan -------------------------------------------------------------------------------
    def collect(self) -> Iterator[Evidence]:
        self.token = secret_from_env(self.token_env)
        if self.token:
            self.ctx.secrets.append(self.token)
        elif self.token_env and self.token_env_named:
            raise SourceError(f"environment variable {self.token_env} is not set (named in the config)")
        elif self.token_env:
            self.status.warnings.append(
                f"environment variable {self.token_env} is not set: unauthenticated requests, "
                "public repositories only"
            )
        try:
            self.connect()
            repos = self._guarded_listing()
            outcomes = self._scan_all(repos)
        finally:
            self.status.requests = self.ledger.total()
        for outcome in outcomes:
            self.status.warnings.extend(outcome.warnings)
            yield from outcome.evidence
        self._finish_status(repos, outcomes)

    def _guarded_listing(self) -> list[HostRepo]:
        self.policy.forget_answer()
        try:
            repos = self.list_repositories()
        except RateLimitStop as exc:
            raise SourceError(f"listing repositories: {exc}") from exc
        except Exception as exc:
            raise SourceError(self._listing_failure(exc)) from exc
        unique = {repo.key: repo for repo in repos if self.ctx.owns(repo.subject)}
        return [unique[key] for key in sorted(unique)]

    def _listing_failure(self, exc: Exception) -> str:
        status = self.http_status(exc)
        if status == 401 or isinstance(exc, AuthRefused):
            return self.auth_refused()
        malformed = self.malformed(exc)
        if malformed is not None:
            return str(malformed)
        if isinstance(exc, requests.RequestException):
            return unreachable(exc, self.host_name, self.config.timeout)
        if status is not None:
            return f"listing repositories: HTTP {status} from {self.host_name}"
        raise exc

    def listed_repository_problem(self, exc: Exception) -> str | None:
        """Why one repository named in the config could not be read (None: it is not the
        repository's problem, the source fails)."""
        status = self.http_status(exc)
        if status is not None and status != 401:
            return describe_status(status, self.host_name)
        malformed = self.malformed(exc)
        return str(malformed) if malformed is not None else None

    def auth_refused(self) -> str:
        if self.token:
            return f"authentication refused (HTTP 401): check {self.token_env}"
        if self.token_env:
            return (f"authentication refused (HTTP 401): environment variable {self.token_env} "
                    "is not set, the requests were unauthenticated")
        return ("authentication refused (HTTP 401): the source reads anonymously (token_env: "
                "null); name the variable holding a token in token_env")

    def _scan_all(self, repos: list[HostRepo]) -> list[RepoOutcome]:
        stop = threading.Event()
        workers = self.config.max_concurrency
        # Twice as many repositories in progress as requests in flight: while some parse
        # files, the others keep every request slot busy. The policy caps what is in flight.
        with ThreadPoolExecutor(2 * workers, requestlog.worker_prefix("repo")) as repo_pool, \
                ThreadPoolExecutor(workers, requestlog.worker_prefix("fetch")) as fetch_pool:
            self._fetch_pool = fetch_pool

            def scan(repo: HostRepo) -> RepoOutcome:
                if stop.is_set():
                    return RepoOutcome(repo, stopped=True)
                outcome = self._scan_guarded(repo)
                if outcome.stopped:
                    stop.set()
                repo.handle, repo.info = None, {}  # scanned: let its listing objects go
                return outcome

            outcomes = list(in_order(repo_pool, scan, repos, window=4 * workers))
        auth = [o for o in outcomes if o.problem == self.auth_refused()]
        if auth:
            raise SourceError(self.auth_refused())
        return outcomes

    def _scan_guarded(self, repo: HostRepo) -> RepoOutcome:
        try:
            return self._scan_repository(repo)
        except RateLimitStop as exc:
            with self._lock:
                if not any(p.startswith("rate limit:") for p in self.problems):
                    self.problems.append(f"rate limit: {exc}")
            return RepoOutcome(repo, stopped=True)
        except Exception as exc:
            status = self.http_status(exc)
            if status == 401:
                return RepoOutcome(repo, problem=self.auth_refused())
            if status is not None:
                return RepoOutcome(repo, problem=f"{repo.key}: {describe_status(status, self.host_name)}")
            if isinstance(exc, MalformedAnswer):  # raw parsing errors out of `bind` are our bugs
                return RepoOutcome(repo, problem=f"{repo.key}: {exc}")
            if isinstance(exc, requests.RequestException):
                return RepoOutcome(repo, problem=f"{repo.key}: "
                                   f"{unreachable(exc, self.host_name, self.config.timeout)}")
            first_line = next(iter(str(exc).splitlines()), "")
            return RepoOutcome(repo, problem=f"{repo.key}: internal error: "
                                             f"{type(exc).__name__}: {first_line}")

    def _scan_repository(self, repo: HostRepo) -> RepoOutcome:
        pool = self._fetch_pool
        assert pool is not None
        repo.handle = self.open_repository(repo)
        bind = self.bind
        with self.ledger.charge(repo.key, "files"):
            entries = bind(self.list_tree, repo.key, "files")(repo)
            tree = RemoteTree(
                repo.key,
                entries,
                read_one=bind(lambda entry: self.read_blob(repo, entry), repo.key, "files"),
                read_many=(bind(lambda todo: self.read_blobs(repo, todo), repo.key, "files")
                           if self.config.batch_reads and self.token else None),
                pool=pool,
            )
            history = RemoteHistory(bind(
                lambda path: self.step(repo, "commit history", lambda: self.path_history(repo, path)),
                repo.key, "files"), pool)
            context = RepoContext(tree, history)
            findings = run_detectors(context)
        added = bind(self.host_findings, repo.key, "host")(repo, findings)
        with self._lock:
            self.scanned += 1
            self.files_fetched += tree.fetched
        evidence = [
            finding_evidence(self, finding, repo.subject, self.locator(repo, finding),
                             added.verdicts.get(index))
            for index, finding in enumerate(findings)
        ]
        warnings = [f"{repo.key}: {warning}" for warning in context.warnings]
        return RepoOutcome(repo, evidence + added.evidence, warnings)

    def locator(self, repo: HostRepo, finding: Finding) -> str:
        if not finding.path:
            return repo.web_url
        return self.file_url(repo, finding.path, finding.line)

    # -- host steps -------------------------------------------------------------------------------
    def step(self, repo: HostRepo, what: str, call: Callable[[], T], *,
             missing_ok: bool = False) -> T | None:
        """One host read; a 403/404/5xx makes it None and is counted for one status line.

        With `missing_ok`, a 404 means "there is none" (an unprotected branch) and is not
        counted as a failure.
        """
        self.policy.forget_answer()
        try:
            return call()
        except RateLimitStop:
            raise
        except Exception as exc:
            status = self.http_status(exc)
            if status == 401:
                raise
            if missing_ok and status == 404:
                return None
            malformed = self.malformed(exc)
            example = None
            if status is not None:
                label = describe_status(status, self.host_name)
            elif malformed is not None:
                label, example = malformed.kind, malformed.answer.url
            elif isinstance(exc, requests.RequestException):
                label = f"cannot reach {self.host_name} ({network_cause(exc, self.config.timeout)})"
            else:
                raise
            with self._lock:
                self._step_failures[f"{what}: {label}"] += 1
                if example:
                    self._step_examples.setdefault(f"{what}: {label}", example)
            return None

    def evidence_for(self, repo: HostRepo, signal: str, locator: str, strength: Strength,
                     summary: str, occurred_at: datetime | None,
                     attributes: dict[str, JsonValue]) -> Evidence:
        return self.evidence(signal=signal, subject=repo.subject, locator=locator,
                             strength=strength, summary=summary, occurred_at=occurred_at,
                             attributes=attributes)

    # -- status -----------------------------------------------------------------------------------
    def _finish_status(self, repos: list[HostRepo], outcomes: list[RepoOutcome]) -> None:
        skipped = sum(1 for o in outcomes if o.stopped)
        problems = list(self.problems)
        problems += [o.problem for o in outcomes if o.problem]
        if skipped:
            problems.append(f"{skipped} of {len(repos)} repositories not scanned")
        for what, count in sorted(self._step_failures.items()):
            example = self._step_examples.get(what)
            self.status.warnings.append(
                f"{what} ({count} repositor{'y' if count == 1 else 'ies'}"
                + (f", e.g. {example}" if example else "")
                + "); that evidence is missing there"
            )
        # Nothing of this source was read: it failed. A shard cannot tell (the other shards
        # may read theirs, and merged statuses take the worst): it stays partial.
        if problems and not self.scanned and self.ctx.shard is None:
            raise SourceError("; ".join(problems))
        if problems:
            self.partial("; ".join(problems), sorted(self.signals()))
        # the ledger counts requests by what they read: listings, a repository's files and
        # history (its tree, blobs, commits, metadata), what only the host knows (runs ...)
        files, total = self.ledger.total("files"), self.ledger.total()
        per_repo = (f" ({files / self.scanned:.1f} per repository, {self.files_fetched} files read)"
                    if self.scanned else "")
        summary = (
            f"{self.scanned} repositor{'y' if self.scanned == 1 else 'ies'} scanned, "
            f"{total} request{'' if total == 1 else 's'}: "
            f"{self.ledger.total('listing')} listing, {files} for files and history{per_repo}, "
            f"{self.ledger.total('host')} for host data"
        )
        if self.policy.waited:
            summary += f", {self.policy.waited:.0f} s waited for rate limits and retries"
        self.status.reason = "; ".join(r for r in (self.status.reason, summary) if r)


def in_order(pool: ThreadPoolExecutor, task: Callable[[R], T], items: list[R], *, window: int
             ) -> Iterator[T]:
    """`pool.map(task, items)` with at most `window` tasks submitted ahead: 2,000
    repositories never wait as 2,000 futures at once."""
    pending: deque[Future[T]] = deque()
    for item in items:
        if len(pending) >= window:
            yield pending.popleft().result()
        pending.append(pool.submit(task, item))
    while pending:
        yield pending.popleft().result()


def describe_status(status: int | None, host: str) -> str:
    if status == 404:
        return "not found (HTTP 404)"
    if status == 403:
        return "access denied (HTTP 403)"
    if status == 409:
        return "empty repository (HTTP 409)"
    return f"HTTP {status} from {host}"
