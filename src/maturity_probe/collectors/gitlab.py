"""The `gitlab` collector: projects of GitLab (gitlab.com or self-managed) through python-gitlab.

    sources:
      - type: gitlab
        name: gl
        url: https://gitlab.example.com
        token_env: GITLAB_TOKEN
        groups: [data-science]                  # subgroups included
        projects: [data-science/fraud]

Files: the recursive tree listing of each project's default branch (paginated by GitLab),
then the files the detectors want, by blob or several at a time in a GraphQL query, and
the commits API for the paths whose history detectors ask for.

What only GitLab knows: pipelines with their source (`schedule`, `push`, `trigger` ...)
and the jobs that succeeded in them raise the findings of those jobs to `verified`;
pipeline schedules (active, cron) decide whether a scheduled training job can run at all;
protected environments and deployments verify gated releases and deployment
environments; approval rules show required code review; a release built by a successful
tag pipeline shows an automated release; versions in GitLab's model registry show
versioned models. Every request is a read (GraphQL queries, never mutations).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from itertools import islice
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlparse

from pydantic import Field, model_validator

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

SYSTEM = "gitlab-ci"
GRAPHQL_FILES = 50
ALERT_SOURCES = frozenset({"trigger", "api", "pipeline", "parent_pipeline"})
REGISTRY_SIGNAL = "registry.model_registered"
# What the scan reads of a project's listing entry (the rest, ~5 KB a project, is let go).
LISTED_FIELDS = ("id", "model_registry_access_level")


class GitLabSource(HostSource):
    """GitLab: groups (with their subgroups) and/or single projects."""

    type: Literal["gitlab"] = "gitlab"
    url: str = Field(default="https://gitlab.com", description="The GitLab instance.")
    token_env: str | None = Field(
        default="GITLAB_TOKEN",
        description="Environment variable with the token. Named here, it must be set; left "
        "out and unset, or null, the source reads anonymously (public projects only).",
    )
    groups: list[str] = Field(default_factory=list, description="Groups to scan, subgroups included.")
    projects: list[str] = Field(default_factory=list, description="Single projects, group/project.")

    @model_validator(mode="after")
    def _something_to_scan(self) -> GitLabSource:
        if not self.groups and not self.projects:
            raise ValueError("give `groups` and/or `projects`")
        return self


def _events(finding: Finding) -> frozenset[str] | None:
    """The pipeline sources that show a finding's practice (None: any source)."""
    if finding.signal == "retrain.scheduled":
        return frozenset({"schedule"})
    if finding.signal == "retrain.on_alert":
        event = finding.attributes.get("event")
        return frozenset({event}) if isinstance(event, str) and event in ALERT_SOURCES else ALERT_SOURCES
    if finding.signal == "retrain.on_data_change":
        return frozenset({"push", "merge_request_event"})
    return None


def _job_names(finding: Finding) -> list[str]:
    names = finding.attributes.get("jobs")
    if isinstance(names, list):
        return [n for n in names if isinstance(n, str)]
    name = finding.attributes.get("job")
    return [name] if isinstance(name, str) else []


def _environments_of(finding: Finding) -> list[str]:
    value = finding.attributes.get("environments")
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _time(value: Any) -> datetime | None:
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def _field(obj: Any, name: str) -> Any:
    """An attribute of a python-gitlab object or a plain dict, None when absent."""
    if isinstance(obj, dict):
        return obj.get(name)
    return obj.attributes.get(name) if hasattr(obj, "attributes") else None


class GitLabCollector(HostCollector):
    """Groups and projects of GitLab: file detectors plus what GitLab knows."""

    type = "gitlab"
    config_model = GitLabSource
    config: GitLabSource
    host_name = "GitLab"
    ci_system = SYSTEM
    default_token_env = "GITLAB_TOKEN"
    host_signals: ClassVar[frozenset[str]] = frozenset({"governance.code_review", "ci.build_job",
                                                        REGISTRY_SIGNAL})

    def connect(self) -> None:
        try:
            import gitlab
        except ImportError as exc:
            raise SourceError("the gitlab source needs `pip install 'maturity-probe[gitlab]'`") from exc
        url = self.config.url.rstrip("/")
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise SourceError(f"url {url!r} is not an http(s) URL")
        self.base_url = url
        self.host = parsed.hostname.lower()
        self.client = gitlab.Gitlab(
            url,
            private_token=self.token,
            session=policy_session(self.policy),
            per_page=100,
            timeout=self.config.timeout,
            retry_transient_errors=False,
            user_agent=f"maturity-probe/{__version__}",
        )

    def http_status(self, exc: BaseException) -> int | None:
        from gitlab.exceptions import GitlabError

        return exc.response_code if isinstance(exc, GitlabError) else None

    def is_parse_error(self, exc: BaseException) -> bool:
        from gitlab.exceptions import GitlabParsingError

        return isinstance(exc, GitlabParsingError)

    def api_root(self) -> str:
        return f"{self.config.url.rstrip('/')}/api/v4"

    # -- projects ---------------------------------------------------------------------------------
    def list_repositories(self) -> list[HostRepo]:
        repos = []
        for group in self.config.groups:
            try:
                # iterated page by page, each project reduced to what the scan needs
                for project in self.client.groups.get(group, lazy=True).projects.list(
                        iterator=True, include_subgroups="true", with_shared="false",
                        archived=None if self.config.include_archived else "false",
                        order_by="path", sort="asc"):
                    attributes = project.attributes
                    if attributes.get("archived") and not self.config.include_archived:
                        continue
                    if attributes.get("forked_from_project") and not self.config.include_forks:
                        continue
                    if matches_include(self.config.include, str(attributes.get("path")),
                                       str(attributes.get("path_with_namespace"))):
                        handle = self.client.projects.get(attributes["id"], lazy=True)
                        repos.append(self._host_repo(attributes, handle))
            except Exception as exc:
                status = self.http_status(exc)
                if status in (403, 404):
                    self.problems.append(f"group {group}: {describe_status(status, 'GitLab')}")
                    continue
                raise
        for path in self.config.projects:
            self.policy.forget_answer()
            try:
                with self.ledger.charge(path, "files"):  # its metadata: part of its file budget
                    single = self.client.projects.get(path)
                repos.append(self._host_repo(single.attributes, single))
            except Exception as exc:
                problem = self.listed_repository_problem(exc)
                if problem is None:
                    raise
                self.problems.append(f"{path}: {problem}")
        return repos

    def _host_repo(self, attributes: dict[str, Any], handle: Any) -> HostRepo:
        full_path = str(attributes["path_with_namespace"])
        web_url = str(attributes.get("web_url") or f"{self.base_url}/{full_path}").rstrip("/")
        return HostRepo(key=full_path, subject=f"gitlab:{self.host}/{full_path}", web_url=web_url,
                        default_branch=attributes.get("default_branch"), handle=handle,
                        info={key: attributes[key] for key in LISTED_FIELDS if key in attributes})

    # -- files ------------------------------------------------------------------------------------
    def list_tree(self, repo: HostRepo) -> list[TreeEntry]:
        if not repo.default_branch:
            return []
        try:
            items = repo.handle.repository_tree(ref=repo.default_branch, recursive=True,
                                                get_all=True, per_page=100, pagination="keyset")
        except Exception as exc:
            if self.http_status(exc) == 404 and "tree" in str(exc).lower():
                return []  # an empty repository: "404 Tree Not Found"
            raise
        return [TreeEntry(str(item["path"]), str(item["id"]))
                for item in items if isinstance(item, dict) and item.get("type") == "blob"]

    def read_blob(self, repo: HostRepo, entry: TreeEntry) -> bytes:
        try:
            data = repo.handle.repository_raw_blob(entry.sha)
        except Exception as exc:
            status = self.http_status(exc)
            if status is not None and status != 401:  # one file lost is a warning, not a failure
                raise Unreadable(f"could not be fetched (HTTP {status})") from exc
            raise
        return data if isinstance(data, bytes) else bytes(data or b"")

    def read_blobs(self, repo: HostRepo, entries: list[TreeEntry]) -> dict[str, bytes]:
        chunks = [entries[i:i + GRAPHQL_FILES] for i in range(0, len(entries), GRAPHQL_FILES)]
        query = self.bind(self._query_files, repo.key, "files")
        if len(chunks) == 1:
            return query(repo, chunks[0])
        pool = self._fetch_pool
        assert pool is not None
        found: dict[str, bytes] = {}
        for part in pool.map(lambda chunk: query(repo, chunk), chunks):
            found.update(part)
        return found

    def _query_files(self, repo: HostRepo, entries: list[TreeEntry]) -> dict[str, bytes]:
        """Several files in one GraphQL query; what it misses is read by REST."""
        query = ("query($path: ID!, $ref: String!, $paths: [String!]!) { project(fullPath: $path) "
                 "{ repository { blobs(ref: $ref, paths: $paths) { nodes { path rawTextBlob } } } } }")
        variables = {"path": repo.key, "ref": repo.default_branch,
                     "paths": [entry.path for entry in entries]}
        data = self.step(repo, "batched file query", lambda: self.client.http_post(
            f"{self.base_url}/api/graphql", post_data={"query": query, "variables": variables}))
        project = ((data or {}).get("data") or {}).get("project") if isinstance(data, dict) else None
        nodes = ((((project or {}).get("repository") or {}).get("blobs") or {}).get("nodes")) or []
        wanted = {entry.path for entry in entries}
        found: dict[str, bytes] = {}
        for node in nodes:
            if isinstance(node, dict) and node.get("path") in wanted and isinstance(
                    node.get("rawTextBlob"), str):
                found[node["path"]] = node["rawTextBlob"].encode("utf-8")
        return found

    def path_history(self, repo: HostRepo, path: str | None) -> FileHistory | None:
        """Commits touching a path (or the repository): X-Total when GitLab sends it, else
        the commits of the first page (at most 100)."""
        if not repo.default_branch:
            return None
        parameters: dict[str, Any] = {"ref_name": repo.default_branch}
        if path is not None:
            parameters["path"] = path
        listed = repo.handle.commits.list(iterator=True, per_page=100,
                                          query_parameters=parameters)
        first = list(islice(listed, 100))
        if not first:
            return None
        count = listed.total or len(first)
        last = _time(first[0].attributes.get("committed_date"))
        return FileHistory(int(count), last) if last else None

    def file_url(self, repo: HostRepo, path: str, line: int | None) -> str:
        anchor = f"#L{line}" if line else ""
        return f"{repo.web_url}/-/blob/{quote(repo.default_branch or 'HEAD')}/{quote(path)}{anchor}"

    # -- what only GitLab knows -------------------------------------------------------------------
    def host_findings(self, repo: HostRepo, findings: list[Finding]) -> HostFindings:
        added = HostFindings()
        pipelines = self._pipeline_verdicts(repo, findings, added)
        self._environment_verdicts(repo, findings, added)
        self._approvals(repo, added)
        self._releases(repo, added, pipelines or [])
        self._model_registry(repo, added)
        return added

    def _pipeline_verdicts(self, repo: HostRepo, findings: list[Finding],
                           added: HostFindings) -> list[Any] | None:
        ci = [i for i, f in enumerate(findings)
              if f.signal in RUN_SIGNALS and f.attributes.get("system") == SYSTEM]
        if not ci:
            return None
        project = repo.handle
        pipelines = self.step(repo, "pipelines", lambda: project.pipelines.list(
            updated_after=self.since.isoformat(), per_page=100, get_all=False))
        if pipelines is None:
            return None
        sources = {p.id: str(_field(p, "source") or "unknown") for p in pipelines}
        successes = self.step(repo, "jobs", lambda: project.jobs.list(
            scope=["success"], per_page=100, get_all=False)) or []
        schedules = None
        if any(findings[i].signal == "retrain.scheduled" for i in ci):
            schedules = self.step(repo, "pipeline schedules",
                                  lambda: project.pipelineschedules.list(get_all=True))
        pipeline_jobs: dict[int, list[Any]] = {}
        lookback = self.config.lookback_days
        for index in ci:
            finding = findings[index]
            events = _events(finding)
            relevant = [p for p in pipelines if events is None or sources[p.id] in events]
            names = _job_names(finding)
            if finding.signal == "retrain.scheduled" and schedules is not None:
                active = [s for s in schedules if _field(s, "active")]
                extra: dict[str, JsonValue] = {
                    "schedules": [{"cron": _field(s, "cron"), "active": bool(_field(s, "active")),
                                   "description": _field(s, "description")} for s in schedules]}
                if active and not finding.attributes.get("cron"):
                    extra["cron"] = _field(active[0], "cron")
                if not active:
                    state = "inactive pipeline schedule" if schedules else "no pipeline schedule"
                    verdict = run_verdict(f"job `{', '.join(names)}`", [], None, disabled=state,
                                          lookback_days=lookback)
                    added.verdicts[index] = _with(verdict, extra)
                    continue
            else:
                extra = {}
            if not names:  # the pipeline file itself: any pipeline run counts
                runs = [_pipeline_run(p, sources) for p in relevant]
                added.verdicts[index] = run_verdict("pipelines", runs, events, lookback_days=lookback)
                continue
            runs = [_job_run(j, sources) for j in successes
                    if _field(j, "name") in names and _field(_field(j, "pipeline"), "id") in sources
                    and (events is None or sources[_field(j, "pipeline")["id"]] in events)]
            if not runs and relevant:
                latest = relevant[0]  # GitLab lists pipelines newest first
                if latest.id not in pipeline_jobs:
                    pipeline_jobs[latest.id] = self.step(
                        repo, "pipeline jobs", partial(latest.jobs.list, per_page=100, get_all=False)
                    ) or []
                runs = [_job_run(j, sources, pipeline=latest) for j in pipeline_jobs[latest.id]
                        if _field(j, "name") in names]
            what = f"job `{', '.join(names)}`"
            added.verdicts[index] = _with(run_verdict(what, runs, events, lookback_days=lookback), extra)
        return list(pipelines)

    def _environment_verdicts(self, repo: HostRepo, findings: list[Finding],
                              added: HostFindings) -> None:
        wanted = sorted({env for f in findings if f.signal in MODEL_DEPLOY_SIGNALS
                         for env in _environments_of(f)})
        if not wanted:
            return
        project = repo.handle
        deployments = self.step(repo, "deployments", lambda: project.deployments.list(
            updated_after=self.since.isoformat(), order_by="updated_at", sort="desc",
            per_page=100, get_all=False))
        protected = self.step(repo, "protected environments",
                              lambda: project.protected_environments.list(get_all=True))
        latest: dict[str, Run] = {}
        for deployment in deployments or []:
            name = _field(_field(deployment, "environment"), "name")
            at = _time(_field(deployment, "finished_at") or _field(deployment, "updated_at"))
            if name in wanted and name not in latest and at is not None:
                url = _field(_field(deployment, "deployable"), "web_url") or f"{repo.web_url}/-/environments"
                latest[name] = Run("deployment", str(_field(deployment, "status")), at, str(url))
        gates = {str(_field(p, "name")): _approvals_required(p) for p in protected or []}
        lookback = self.config.lookback_days
        for index, finding in enumerate(findings):
            names = _environments_of(finding)
            if finding.signal not in ENVIRONMENT_SIGNALS or not names:
                continue
            if finding.signal == "ci.gated_release" and protected is not None:
                verdict = _gate_verdict(names, gates, latest, gated_by_environment(finding))
                if verdict is not None:
                    added.verdicts[index] = verdict
            elif finding.signal == "ci.deployment_environments" and deployments is not None:
                runs = [latest[n] for n in names if n in latest]
                done = sorted(n for n in names if n in latest and latest[n].succeeded)
                verdict = run_verdict(f"deployments to {', '.join(names)}", runs, None,
                                      lookback_days=lookback)
                added.verdicts[index] = _with(verdict, {"deployed_environments": done,
                                                        "deployed_count": len(done)})

    def _approvals(self, repo: HostRepo, added: HostFindings) -> None:
        """Approval rules that require reviews of merge requests into the default branch."""
        branch = repo.default_branch
        if not branch:
            return
        project = repo.handle
        protected = self.step(repo, "protected branches",
                              lambda: project.protectedbranches.list(get_all=True)) or []
        rules = self.step(repo, "approval rules",
                          lambda: project.approvalrules.list(get_all=True), missing_ok=True) or []
        branch_protection = next((p for p in protected if _field(p, "name") == branch), None)
        push_levels = _field(branch_protection, "push_access_levels") or [] if branch_protection else []
        no_direct_push = bool(push_levels) and all(
            _field(level, "access_level") == 0 for level in push_levels)
        for rule in rules:
            approvals = int(_field(rule, "approvals_required") or 0)
            branches = [_field(b, "name") for b in _field(rule, "protected_branches") or []]
            applies = (not branches and not _field(rule, "applies_to_all_protected_branches")) or (
                branch in branches) or (bool(_field(rule, "applies_to_all_protected_branches"))
                                        and branch_protection is not None)
            if approvals < 1 or not applies:
                continue
            added.evidence.append(self.evidence_for(
                repo, "governance.code_review",
                f"{repo.web_url}/-/settings/merge_requests#js-merge-request-approval-settings",
                Strength.active,
                f"approval rule `{_field(rule, 'name')}` requires {plural(approvals, 'approval')} of merge "
                f"requests into `{branch}`" + ("; nobody may push to it directly" if no_direct_push else ""),
                None,
                {"branch": branch, "required_approvals": approvals, "rule": _field(rule, "name"),
                 "branch_protected": branch_protection is not None,
                 "direct_push_allowed": not no_direct_push, "via": "approval rule"}))
            break

    def _releases(self, repo: HostRepo, added: HostFindings, pipelines: list[Any]) -> None:
        """The latest release, when a successful pipeline of its tag built it."""
        project = repo.handle
        releases = self.step(repo, "releases", lambda: project.releases.list(per_page=5, get_all=False))
        if not releases:
            return
        release = releases[0]
        tag = str(_field(release, "tag_name"))
        built = next((p for p in pipelines if _field(p, "ref") == tag
                      and _field(p, "status") == "success"), None)
        if built is None:
            found = self.step(repo, "tag pipelines", lambda: project.pipelines.list(
                ref=tag, status="success", per_page=1, get_all=False))
            built = found[0] if found else None
        if built is None:
            return
        at = _time(_field(release, "released_at")) or _time(_field(built, "updated_at"))
        links = _field(release, "_links") or {}
        locator = str(links.get("self") or f"{repo.web_url}/-/releases/{quote(tag)}")
        added.evidence.append(self.evidence_for(
            repo, "ci.build_job", locator, Strength.verified,
            f"release {tag} was built by pipeline #{built.id}, which succeeded"
            + (f"; released on {when(at)}" if at else ""),
            at,
            {"release": tag, "pipeline": built.id, "pipeline_url": _field(built, "web_url"),
             "via": "release"}))

    def _model_registry(self, repo: HostRepo, added: HostFindings) -> None:
        """Model versions in GitLab's model registry, when the project uses it."""
        if repo.info.get("model_registry_access_level") in (None, "disabled"):
            return
        project = repo.handle
        packages = self.step(repo, "model registry", lambda: project.packages.list(
            package_type="ml_model", order_by="created_at", sort="desc", per_page=100,
            get_all=False))
        models: dict[str, list[Any]] = {}
        for package in packages or []:
            models.setdefault(str(_field(package, "name")), []).append(package)
        for name, versions in sorted(models.items()):
            latest = versions[0]
            at = _time(_field(latest, "created_at"))
            added.evidence.append(self.evidence_for(
                repo, REGISTRY_SIGNAL, f"{repo.web_url}/-/ml/models?name={quote(name)}",
                Strength.active,
                f"model `{name}` has {plural(versions, 'version')} in the GitLab model registry, "
                f"latest {_field(latest, 'version')}" + (f" on {when(at)}" if at else ""),
                at,
                {"model": name, "versions": len(versions), "latest_version": _field(latest, "version"),
                 "registry": "gitlab"}))


def _with(verdict: HostVerdict, extra: dict[str, JsonValue]) -> HostVerdict:
    if not extra:
        return verdict
    return HostVerdict(verdict.strength, verdict.occurred_at, verdict.note,
                       {**verdict.attributes, **extra})


def _pipeline_run(pipeline: Any, sources: dict[int, str]) -> Run:
    at = _time(_field(pipeline, "updated_at")) or _time(_field(pipeline, "created_at"))
    assert at is not None
    return Run(sources[pipeline.id], str(_field(pipeline, "status")), at, str(_field(pipeline, "web_url")))


def _job_run(job: Any, sources: dict[int, str], pipeline: Any = None) -> Run:
    pipeline_id = pipeline.id if pipeline is not None else _field(job, "pipeline")["id"]
    at = (_time(_field(job, "finished_at")) or _time(_field(job, "created_at"))
          or _time(_field(pipeline, "updated_at")))
    assert at is not None
    return Run(sources.get(pipeline_id, "unknown"), str(_field(job, "status")), at,
               str(_field(job, "web_url")))


def _approvals_required(protected: Any) -> int:
    count = int(_field(protected, "required_approval_count") or 0)
    for rule in _field(protected, "approval_rules") or []:
        count = max(count, int(_field(rule, "required_approvals") or 0))
    return count


def _gate_verdict(names: list[str], gates: dict[str, int], latest: dict[str, Run],
                  by_environment: bool) -> HostVerdict | None:
    """A protected environment requiring approvals raises the gate. Without one, a gate
    that is the environment's protection is no gate; a manual job that deployed
    successfully is a gate in use."""
    for name in names:
        approvals = gates.get(name, 0)
        if approvals < 1:
            continue
        attributes: dict[str, JsonValue] = {"host_state": "protected", "environment": name,
                                            "required_approvals": approvals}
        note = f"protected environment `{name}` requires {plural(approvals, 'approval')} on GitLab"
        deployed = latest.get(name)
        if deployed and deployed.succeeded:
            attributes["host_last_deployment_url"] = deployed.url
            return HostVerdict(Strength.verified, deployed.at,
                               f"{note}; last deployment succeeded on {when(deployed.at)}", attributes)
        return HostVerdict(Strength.active, None, note, attributes)
    if by_environment:
        listed = ", ".join(f"`{n}`" for n in names)
        return HostVerdict(Strength.declared, None,
                           f"environment {listed} requires no deployment approval on GitLab",
                           {"host_state": "unprotected"})
    successes = [latest[n] for n in names if n in latest and latest[n].succeeded]
    if not successes:
        return None
    last = max(successes, key=lambda run: run.at)
    return HostVerdict(Strength.verified, last.at,
                       f"the manual job last deployed successfully on {when(last.at)}",
                       {"host_state": "succeeded", "host_last_deployment_url": last.url})
