"""The `github` collector: repositories of GitHub (or GitHub Enterprise) through PyGithub.

    sources:
      - type: github
        name: gh
        base_url: https://api.github.com      # GitHub Enterprise: https://HOST/api/v3
        token_env: GITHUB_TOKEN
        orgs: [acme]
        repos: [acme/churn-model]
        include: ["*-model", "ml-*"]

Files: one recursive tree listing per repository (a truncated tree is completed by walking
its subtrees), then the files the detectors want, read by blob or several at a time in a
GraphQL query, and the commits API for the paths whose history detectors ask for.

What only GitHub knows: workflow runs per workflow (event, conclusion, time) raise the
findings of that workflow's jobs to `verified` when a relevant run succeeded in the
lookback window (a scheduled training workflow needs successful `schedule` runs);
disabled workflows keep their findings `declared`; environments with required reviewers
and their deployments verify gated releases and deployment environments; branch
protection and rulesets requiring reviews show code review; releases published by a bot
show automated releases. Every request is a read (GraphQL queries, never mutations).
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlparse

import requests
from pydantic import Field, field_validator, model_validator

from maturity_probe import __version__
from maturity_probe.collectors import SourceError
from maturity_probe.collectors.hosthttp import policy_session
from maturity_probe.collectors.hostscan import (
    ENVIRONMENT_SIGNALS,
    MODEL_DEPLOY_SIGNALS,
    RUN_SIGNALS,
    HostCollector,
    HostFindings,
    HostRepo,
    HostSource,
    Run,
    describe_status,
    gated_by_environment,
    matches_include,
    run_verdict,
    when,
)
from maturity_probe.collectors.hosttree import TreeEntry
from maturity_probe.collectors.repo_findings import HostVerdict
from maturity_probe.detectors.context import FileHistory, Finding
from maturity_probe.evidence import JsonValue, Strength
from maturity_probe.filetree import Unreadable
from maturity_probe.words import plural

DEFAULT_API = "https://api.github.com"
SYSTEM = "github-actions"
LISTING_PAGE = 100  # repositories per listing page (GitHub's maximum)
GRAPHQL_FILES = 50  # files per GraphQL query
GRAPHQL_BYTES = 2_000_000  # and their total size
BINARY_MARK = b"\x00binary"  # content of a file GitHub reports as binary: reads as binary
_REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_LAST_PAGE = re.compile(r"[?&]page=(\d+)[^>]*>;\s*rel=\"last\"")


class GitHubSource(HostSource):
    """GitHub or GitHub Enterprise: organisations and/or single repositories."""

    type: Literal["github"] = "github"
    base_url: str = Field(default=DEFAULT_API, description="API root; GitHub Enterprise: https://HOST/api/v3")
    token_env: str | None = Field(
        default="GITHUB_TOKEN",
        description="Environment variable with the token. Named here, it must be set; left "
        "out and unset, or null, the source reads anonymously (public repositories only).",
    )
    orgs: list[str] = Field(default_factory=list, description="Organisations to scan entirely.")
    repos: list[str] = Field(default_factory=list, description="Single repositories, owner/name.")

    @field_validator("repos")
    @classmethod
    def _owner_and_name(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _REPO_NAME.match(name):
                raise ValueError(f"{name!r} is not owner/name")
        return value

    @model_validator(mode="after")
    def _something_to_scan(self) -> GitHubSource:
        if not self.orgs and not self.repos:
            raise ValueError("give `orgs` and/or `repos`")
        return self


class PolicyConnection:
    """Stands in for PyGithub's connection: requests go through the policy's session.

    PyGithub shares one connection object between threads and passes a request in two
    calls (`request`, then `getresponse`); the pending request is kept per thread.
    """

    def __init__(self, session: requests.Session, scheme: str, host: str, port: int | None,
                 timeout: float, wrap: Callable[[requests.Response], Any]) -> None:
        self.session = session
        self.scheme = scheme
        self.host = host
        self.port = port
        self.timeout = timeout
        self.wrap = wrap
        self._pending = threading.local()

    def request(self, verb: str, url: str, input: Any, headers: dict[str, str],
                stream: bool = False) -> None:
        self._pending.value = (verb, url, input, headers, stream)

    def getresponse(self) -> Any:
        verb, url, body, headers, stream = self._pending.value
        netloc = f"{self.host}:{self.port}" if self.port else self.host
        response = self.session.request(verb, f"{self.scheme}://{netloc}{url}", headers=headers,
                                        data=body, timeout=self.timeout, allow_redirects=False,
                                        stream=stream)
        return self.wrap(response)

    def close(self) -> None:
        """The session belongs to the collector."""


def _events(finding: Finding) -> frozenset[str] | None:
    """The run events that show a finding's practice (None: any event)."""
    if finding.signal == "retrain.scheduled":
        return frozenset({"schedule"})
    if finding.signal == "retrain.on_alert":
        event = finding.attributes.get("event")
        return frozenset({event if isinstance(event, str) and event else "repository_dispatch"})
    if finding.signal == "retrain.on_data_change":
        return frozenset({"push", "pull_request", "pull_request_target"})
    return None


def _workflow_file(finding: Finding) -> str:
    for key in ("file", "pipeline"):
        value = finding.attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return finding.path


def _environments_of(finding: Finding) -> list[str]:
    value = finding.attributes.get("environments")
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _last_page(link: str | None) -> int | None:
    match = _LAST_PAGE.search(link or "")
    return int(match.group(1)) if match else None


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


class GitHubCollector(HostCollector):
    """Organisations and repositories of GitHub: file detectors plus what GitHub knows."""

    type = "github"
    config_model = GitHubSource
    config: GitHubSource
    host_name = "GitHub"
    ci_system = SYSTEM
    default_token_env = "GITHUB_TOKEN"
    host_signals: ClassVar[frozenset[str]] = frozenset({"governance.code_review", "ci.build_job"})

    def connect(self) -> None:
        try:
            from github import Auth, Github
            from github.Requester import RequestsResponse
        except ImportError as exc:
            raise SourceError("the github source needs `pip install 'maturity-probe[github]'`") from exc
        base_url = self.config.base_url.rstrip("/")
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise SourceError(f"base_url {base_url!r} is not an http(s) URL")
        self.client = Github(
            auth=Auth.Token(self.token) if self.token else None,
            base_url=base_url,
            timeout=int(self.config.timeout),
            per_page=LISTING_PAGE,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            user_agent=f"maturity-probe/{__version__}",
        )
        requester = self.client.requester
        attribute = "_Requester__connectionClass"
        if not hasattr(requester, attribute):
            raise SourceError("unsupported PyGithub version: cannot install the HTTP policy")
        session = policy_session(self.policy)
        scheme, timeout = parsed.scheme, self.config.timeout

        def connection(host: str, port: int | None = None, **_: Any) -> PolicyConnection:
            return PolicyConnection(session, scheme, host, port, timeout, RequestsResponse)

        setattr(requester, attribute, connection)

    def http_status(self, exc: BaseException) -> int | None:
        from github import GithubException

        return exc.status if isinstance(exc, GithubException) else None

    def is_parse_error(self, exc: BaseException) -> bool:
        from github import BadAttributeException

        return isinstance(exc, BadAttributeException)

    def api_root(self) -> str:
        return self.config.base_url.rstrip("/")

    # -- repositories -----------------------------------------------------------------------------
    def list_repositories(self) -> list[HostRepo]:
        repos = []
        for org in self.config.orgs:
            try:
                for listed in self._organization_repositories(org):
                    if listed.get("archived") and not self.config.include_archived:
                        continue
                    if listed.get("fork") and not self.config.include_forks:
                        continue
                    if matches_include(self.config.include, str(listed.get("name")),
                                       str(listed.get("full_name"))):
                        repos.append(self._host_repo(listed))
            except Exception as exc:
                status = self.http_status(exc)
                if status in (403, 404):
                    self.problems.append(f"organisation {org}: {describe_status(status, 'GitHub')}")
                    continue
                raise
        for name in self.config.repos:
            self.policy.forget_answer()
            try:
                with self.ledger.charge(name, "files"):  # its metadata: part of its file budget
                    repos.append(self._host_repo(self.client.get_repo(name).raw_data))
            except Exception as exc:
                problem = self.listed_repository_problem(exc)
                if problem is None:
                    raise
                self.problems.append(f"{name}: {problem}")
        return repos

    def _organization_repositories(self, org: str) -> Iterator[dict[str, Any]]:
        """The organisation's repositories as listed (`GET /orgs/{org}/repos`), page by page
        through PyGithub's requester: its PaginatedList would keep every page's objects
        (~20 KB a repository) until the listing ends."""
        page = 1
        while True:
            headers, data = self.client.requester.requestJsonAndCheck(
                "GET", f"/orgs/{quote(org, safe='')}/repos",
                parameters={"type": "all", "per_page": LISTING_PAGE, "page": page})
            if not isinstance(data, list):  # PyGithub reads a page that is not JSON as {"data": text}
                raise self.not_the_api()
            yield from (item for item in data if isinstance(item, dict))
            link = next((str(v) for k, v in headers.items() if k.lower() == "link"), "")
            if 'rel="next"' not in link:
                return
            page += 1

    def _host_repo(self, listed: dict[str, Any]) -> HostRepo:
        """What the scan needs of a listed repository (`open_repository` makes the client's
        object for it when its turn comes)."""
        full_name = str(listed["full_name"])
        web_url = str(listed.get("html_url") or "").rstrip("/")
        host = (urlparse(web_url).hostname or "github.com").lower()
        subject = f"github:{full_name}" if host == "github.com" else f"github:{host}/{full_name}"
        return HostRepo(key=full_name, subject=subject, web_url=web_url,
                        default_branch=listed.get("default_branch"), handle=None,
                        info={"url": listed.get("url") or f"/repos/{full_name}"})

    def open_repository(self, repo: HostRepo) -> Any:
        from github.Repository import Repository

        # completed=True: PyGithub never fetches the attributes it was not given
        return Repository(self.client.requester, {}, {"url": repo.info["url"], "full_name": repo.key,
                                                      "default_branch": repo.default_branch},
                          completed=True)

    # -- files ------------------------------------------------------------------------------------
    def list_tree(self, repo: HostRepo) -> list[TreeEntry]:
        if not repo.default_branch:
            return []
        try:
            tree = repo.handle.get_git_tree(repo.default_branch, recursive=True)
        except Exception as exc:
            if self.http_status(exc) == 409:  # "Git Repository is empty."
                return []
            raise
        if not tree.raw_data.get("truncated"):
            return _blobs(self._items(tree), "")
        return self._walk(repo, tree.sha, "")

    def _items(self, tree: Any) -> list[Any]:
        """The entries of a tree answer (an answer without them is not GitHub's API)."""
        items = tree.raw_data.get("tree")
        if not isinstance(items, list):
            raise self.not_the_api("tree")
        return items

    def _walk(self, repo: HostRepo, sha: str, prefix: str) -> list[TreeEntry]:
        """A truncated tree, completed level by level: each subtree listed recursively."""
        level = self._items(repo.handle.get_git_tree(sha))
        entries = _blobs(level, prefix)
        subtrees = [item for item in level if isinstance(item, dict) and item.get("type") == "tree"]
        pool = self._fetch_pool
        assert pool is not None
        listing = self.bind(self._subtree, repo.key, "files")
        for found in pool.map(lambda item: listing(repo, item, prefix), subtrees):
            entries += found
        return entries

    def _subtree(self, repo: HostRepo, item: dict[str, Any], prefix: str) -> list[TreeEntry]:
        path = f"{prefix}{item['path']}/"
        tree = repo.handle.get_git_tree(item["sha"], recursive=True)
        if tree.raw_data.get("truncated"):
            return self._walk_sequential(repo, item["sha"], path)
        return _blobs(self._items(tree), path)

    def _walk_sequential(self, repo: HostRepo, sha: str, prefix: str) -> list[TreeEntry]:
        level = self._items(repo.handle.get_git_tree(sha))
        entries = _blobs(level, prefix)
        for item in level:
            if isinstance(item, dict) and item.get("type") == "tree":
                entries += self._subtree(repo, item, prefix)
        return entries

    def read_blob(self, repo: HostRepo, entry: TreeEntry) -> bytes:
        try:
            blob = repo.handle.get_git_blob(entry.sha)
        except Exception as exc:
            status = self.http_status(exc)
            if status is not None and status != 401:  # one file lost is a warning, not a failure
                raise Unreadable(f"could not be fetched (HTTP {status})") from exc
            raise
        if not isinstance(blob.raw_data.get("content"), str):  # one file lost: a warning
            raise Unreadable(f"could not be read: {self.not_the_api('content')}")
        if blob.encoding != "base64":
            return str(blob.content).encode()
        return base64.b64decode(blob.content)

    def read_blobs(self, repo: HostRepo, entries: list[TreeEntry]) -> dict[str, bytes]:
        chunks: list[list[TreeEntry]] = [[]]
        size = 0
        for entry in entries:
            if chunks[-1] and (len(chunks[-1]) >= GRAPHQL_FILES
                               or size + (entry.size or 0) > GRAPHQL_BYTES):
                chunks.append([])
                size = 0
            chunks[-1].append(entry)
            size += entry.size or 0
        query = self.bind(self._query_files, repo.key, "files")
        found: dict[str, bytes] = {}
        if len(chunks) == 1:
            return query(repo, chunks[0])
        pool = self._fetch_pool
        assert pool is not None
        for part in pool.map(lambda chunk: query(repo, chunk), chunks):
            found.update(part)
        return found

    def _query_files(self, repo: HostRepo, entries: list[TreeEntry]) -> dict[str, bytes]:
        """Several blobs in one GraphQL query, by object id; what it misses is read by REST."""
        declared = ", ".join(f"$o{i}: GitObjectID!" for i in range(len(entries)))
        fields = " ".join(
            f"f{i}: object(oid: $o{i}) {{ ... on Blob {{ text isBinary isTruncated }} }}"
            for i in range(len(entries))
        )
        query = (f"query($owner: String!, $name: String!, {declared}) "
                 f"{{ repository(owner: $owner, name: $name) {{ {fields} }} }}")
        owner, name = repo.key.split("/", 1)
        variables: dict[str, Any] = {"owner": owner, "name": name}
        variables.update({f"o{i}": entry.sha for i, entry in enumerate(entries)})
        data = self.step(repo, "batched file query",
                         lambda: self.client.requester.graphql_query(query, variables)[1])
        repository = ((data or {}).get("data") or {}).get("repository") or {}
        found: dict[str, bytes] = {}
        for i, entry in enumerate(entries):
            blob = repository.get(f"f{i}")
            if not isinstance(blob, dict) or blob.get("isTruncated"):
                continue
            if blob.get("isBinary"):
                found[entry.path] = BINARY_MARK
            elif isinstance(blob.get("text"), str):
                found[entry.path] = blob["text"].encode("utf-8")
        return found

    def path_history(self, repo: HostRepo, path: str | None) -> FileHistory | None:
        """Commit count (from the last page number at one commit per page) and last change."""
        if not repo.default_branch:
            return None
        parameters: dict[str, Any] = {"sha": repo.default_branch, "per_page": 1}
        if path is not None:
            parameters["path"] = path
        try:
            headers, data = repo.handle.requester.requestJsonAndCheck(
                "GET", f"{repo.handle.url}/commits", parameters=parameters)
        except Exception as exc:
            if self.http_status(exc) == 409:
                return None
            raise
        if not isinstance(data, list):
            raise self.not_the_api()
        if not data:
            return None
        count = _last_page(headers.get("link")) or len(data)
        commit = data[0].get("commit") or {}
        last = _parse_time((commit.get("committer") or {}).get("date"))
        return FileHistory(count, last) if last else None

    def file_url(self, repo: HostRepo, path: str, line: int | None) -> str:
        anchor = f"#L{line}" if line else ""
        return f"{repo.web_url}/blob/{quote(repo.default_branch or 'HEAD')}/{quote(path)}{anchor}"

    # -- what only GitHub knows -------------------------------------------------------------------------
    def host_findings(self, repo: HostRepo, findings: list[Finding]) -> HostFindings:
        added = HostFindings()
        disabled = self._workflow_verdicts(repo, findings, added)
        self._environment_verdicts(repo, findings, added, disabled)
        self._protection(repo, added)
        self._releases(repo, added)
        return added

    def _workflow_verdicts(self, repo: HostRepo, findings: list[Finding],
                           added: HostFindings) -> set[str]:
        """Run verdicts for CI findings; returns the files of disabled workflows."""
        by_file: dict[str, list[int]] = {}
        for index, finding in enumerate(findings):
            if (finding.signal in RUN_SIGNALS | ENVIRONMENT_SIGNALS
                    and finding.attributes.get("system", SYSTEM) == SYSTEM
                    and _workflow_file(finding).startswith(".github/workflows/")):
                by_file.setdefault(_workflow_file(finding), []).append(index)
        if not by_file:
            return set()
        workflows = self.step(repo, "workflows",
                              lambda: {w.path: w for w in repo.handle.get_workflows()})
        disabled: set[str] = set()
        for file, indexes in sorted(by_file.items()):
            workflow = (workflows or {}).get(file)
            if workflow is None:
                continue
            state = workflow.state if str(workflow.state).startswith("disabled") else None
            if state:
                disabled.add(file)
            what = f"workflow `{workflow.name}`"
            run_findings = [i for i in indexes if findings[i].signal in RUN_SIGNALS]
            runs: list[Run] | None = []
            if run_findings and not state:
                scheduled = any(findings[i].signal == "retrain.scheduled" for i in run_findings)
                runs = self.step(repo, "workflow runs", partial(self._runs, workflow, scheduled))
            for index in indexes:
                finding = findings[index]
                if state:
                    added.verdicts[index] = run_verdict(what, [], None, disabled=state,
                                                        lookback_days=self.config.lookback_days)
                elif runs is not None and finding.signal in RUN_SIGNALS:
                    added.verdicts[index] = run_verdict(what, runs, _events(finding),
                                                        lookback_days=self.config.lookback_days)
        return disabled

    def _runs(self, workflow: Any, scheduled: bool) -> list[Run]:
        since = f">={self.since:%Y-%m-%d}"
        page = workflow.get_runs(created=since, exclude_pull_requests=True).get_page(0)
        runs = [_run(r) for r in page]
        if scheduled and len(page) >= 100 and not any(r.source == "schedule" for r in runs):
            runs += [_run(r) for r in workflow.get_runs(created=since, event="schedule").get_page(0)]
        return [r for r in runs if r.at >= self.since]

    def _environment_verdicts(self, repo: HostRepo, findings: list[Finding], added: HostFindings,
                              disabled: set[str]) -> None:
        wanted = sorted({env for f in findings if f.signal in MODEL_DEPLOY_SIGNALS
                         for env in _environments_of(f)})
        if not wanted:
            return
        environments = self.step(repo, "environments",
                                 lambda: {e.name: e for e in repo.handle.get_environments()})
        deployments = self.step(repo, "deployments", lambda: self._deployments(repo, wanted))
        for index, finding in enumerate(findings):
            if finding.signal not in ENVIRONMENT_SIGNALS or _workflow_file(finding) in disabled:
                continue
            names = _environments_of(finding)
            if finding.signal == "ci.gated_release" and environments is not None and names:
                verdict = self._gate_verdict(names, environments, deployments or {},
                                             gated_by_environment(finding))
                if verdict is not None:
                    added.verdicts[index] = verdict
            elif finding.signal == "ci.deployment_environments" and deployments is not None:
                added.verdicts[index] = _deployed_verdict(names, deployments,
                                                          self.config.lookback_days)

    def _deployments(self, repo: HostRepo, wanted: list[str]) -> dict[str, Run]:
        """The latest deployment of each wanted environment in the lookback, with its state."""
        latest: dict[str, Any] = {}
        for deployment in repo.handle.get_deployments().get_page(0):
            created = _parse_time(deployment.created_at)
            if (deployment.environment in wanted and deployment.environment not in latest
                    and created and created >= self.since):
                latest[deployment.environment] = deployment
        found = {}
        for name, deployment in sorted(latest.items()):
            statuses = deployment.get_statuses().get_page(0)
            if not statuses:
                continue
            status = statuses[0]
            state = "success" if status.state in ("success", "inactive") else str(status.state)
            at = _parse_time(status.created_at) or _parse_time(deployment.created_at)
            assert at is not None
            found[name] = Run("deployment", state, at,
                              f"{repo.web_url}/deployments/{quote(name)}")
        return found

    def _gate_verdict(self, names: list[str], environments: dict[str, Any],
                      deployments: dict[str, Run], by_environment: bool) -> HostVerdict | None:
        """Protected environments raise a gate; an environment gate without reviewers on
        GitHub is no gate (None: the gate is a step or a manual trigger the host cannot see)."""
        for name in names:
            environment = environments.get(name)
            if environment is None:
                continue
            reviewers = [rule for rule in environment.protection_rules or []
                         if rule.type == "required_reviewers"]
            if not reviewers:
                continue
            count = sum(len(rule.reviewers or []) for rule in reviewers)
            attributes: dict[str, JsonValue] = {"host_state": "protected", "environment": name,
                                                "reviewers": count}
            note = f"environment `{name}` requires approval by {plural(count, 'reviewer')} on GitHub"
            deployed = deployments.get(name)
            if deployed and deployed.succeeded:
                attributes["host_last_deployment_url"] = deployed.url
                return HostVerdict(Strength.verified, deployed.at,
                                   f"{note}; last deployment succeeded on {when(deployed.at)}",
                                   attributes)
            return HostVerdict(Strength.active, None, note, attributes)
        if not by_environment:
            return None
        listed = ", ".join(f"`{n}`" for n in names)
        return HostVerdict(Strength.declared, None,
                           f"environment {listed} has no required reviewers on GitHub",
                           {"host_state": "unprotected"})

    def _protection(self, repo: HostRepo, added: HostFindings) -> None:
        """Branch protection and rulesets of the default branch that require reviews."""
        branch = repo.default_branch
        if not branch:
            return
        base = repo.handle.url
        rules = self.step(repo, "branch rules",
                          lambda: self._get(repo, f"{base}/rules/branches/{quote(branch)}"))
        protection = self.step(repo, "branch protection",
                               lambda: self._get(repo, f"{base}/branches/{quote(branch)}/protection"),
                               missing_ok=True)
        active_rules = [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []
        for rule in active_rules:
            parameters = rule.get("parameters") or {}
            if rule.get("type") != "pull_request":
                continue
            approvals = int(parameters.get("required_approving_review_count") or 0)
            if approvals < 1:
                continue
            ruleset = rule.get("ruleset_id")
            checks = sorted(str(c.get("context")) for r in active_rules
                            if r.get("type") == "required_status_checks"
                            for c in (r.get("parameters") or {}).get("required_status_checks") or [])
            added.evidence.append(self.evidence_for(
                repo, "governance.code_review", f"{repo.web_url}/rules/{ruleset}",
                Strength.active,
                f"a ruleset requires {plural(approvals, 'approving review')} on `{branch}`"
                + (f" and checks {', '.join(checks)}" if checks else ""),
                None,
                {"branch": branch, "required_approvals": approvals, "required_checks": checks,
                 "via": "ruleset"}))
            break
        reviews = (protection or {}).get("required_pull_request_reviews") if isinstance(
            protection, dict) else None
        if isinstance(reviews, dict) and int(reviews.get("required_approving_review_count") or 0) >= 1:
            approvals = int(reviews["required_approving_review_count"])
            status_checks = (protection or {}).get("required_status_checks") or {}
            checks = sorted(str(c) for c in status_checks.get("contexts") or [])
            added.evidence.append(self.evidence_for(
                repo, "governance.code_review", f"{repo.web_url}/settings/branches",
                Strength.active,
                f"branch protection of `{branch}` requires {plural(approvals, 'approving review')}"
                + (f" and checks {', '.join(checks)}" if checks else "")
                + (", also for administrators" if (protection or {}).get("enforce_admins", {}).get(
                    "enabled") else ""),
                None,
                {"branch": branch, "required_approvals": approvals, "required_checks": checks,
                 "code_owner_reviews": bool(reviews.get("require_code_owner_reviews")),
                 "via": "branch protection"}))

    def _releases(self, repo: HostRepo, added: HostFindings) -> None:
        """The latest release, when a bot (a CI workflow) published it: an automated release."""
        releases = self.step(repo, "releases",
                             lambda: self._get(repo, f"{repo.handle.url}/releases", per_page=10))
        published = [r for r in releases or [] if isinstance(r, dict) and not r.get("draft")]
        if not published:
            return
        release = published[0]
        author = release.get("author") or {}
        login = str(author.get("login") or "")
        if author.get("type") != "Bot" and not login.endswith("[bot]"):
            return
        at = _parse_time(release.get("published_at") or release.get("created_at"))
        added.evidence.append(self.evidence_for(
            repo, "ci.build_job", str(release.get("html_url") or f"{repo.web_url}/releases"),
            Strength.verified,
            f"release {release.get('tag_name')} was published by {login}, a CI workflow"
            + (f", on {when(at)}" if at else ""),
            at,
            {"release": release.get("tag_name"), "author": login, "via": "release",
             "assets": len(release.get("assets") or [])}))

    def _get(self, repo: HostRepo, url: str, **parameters: Any) -> Any:
        _, data = repo.handle.requester.requestJsonAndCheck("GET", url, parameters=parameters or None)
        return data


def _blobs(items: Any, prefix: str) -> list[TreeEntry]:
    entries = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("type") == "blob" and item.get("path"):
            size = item.get("size")
            entries.append(TreeEntry(prefix + str(item["path"]), str(item.get("sha")),
                                     size if isinstance(size, int) else None))
    return entries


def _run(run: Any) -> Run:
    status = run.conclusion or run.status or "unknown"
    at = _parse_time(run.updated_at) or _parse_time(run.created_at)
    assert at is not None
    return Run(str(run.event), str(status), at, str(run.html_url))


def _deployed_verdict(names: list[str], deployments: dict[str, Run], lookback_days: int) -> HostVerdict:
    runs = [deployments[n] for n in names if n in deployments]
    succeeded = sorted({n for n in names if n in deployments and deployments[n].succeeded})
    if succeeded:
        last = max((deployments[n] for n in succeeded), key=lambda r: r.at)
        return HostVerdict(Strength.verified, last.at,
                           f"successful deployments to {', '.join(succeeded)} in the last "
                           f"{lookback_days} days, last on {when(last.at)}",
                           {"host_state": "succeeded", "deployed_environments": succeeded,
                            "deployed_count": len(succeeded)})
    if runs:
        last = max(runs, key=lambda r: r.at)
        return HostVerdict(Strength.active, last.at,
                           f"deployments in the last {lookback_days} days did not succeed "
                           f"(last: {last.status} on {when(last.at)})",
                           {"host_state": "failing", "deployed_count": 0})
    return HostVerdict(Strength.declared, None,
                       f"no deployment to these environments in the last {lookback_days} days",
                       {"host_state": "not_run", "deployed_count": 0})
