"""A local GitLab REST (v4) and GraphQL API for the collector tests and the benchmark.

Serves the sample projects of `host_repos` on 127.0.0.1 with GitLab's paths (URL-encoded
`group%2Fproject` ids, then numeric ids), offset pagination (`X-Total`, `X-Next-Page`,
`Link`), keyset pagination of repository trees, `RateLimit-*` headers and the JSON shapes
of the recorded objects in tests/fixtures/gitlab/. Tests make it fail on purpose with
`Fault`s and read back every request it answered.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from github_server import Fault, Logged, Templates
from host_repos import NOW, SampleRepo, blob_sha, days_ago, iso

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gitlab"
fill = Templates(FIXTURES).fill


class ProjectData:
    """A sample project as GitLab stores it."""

    def __init__(self, repo: SampleRepo, index: int) -> None:
        self.repo = repo
        self.id = 41_000_000 + index
        self.path = repo.full_name
        self.contents = {path: text.encode("utf-8") for path, text in repo.files.items()}
        self.blobs = {blob_sha(data): data for data in self.contents.values()}
        folders = sorted({"/".join(p.split("/")[:i]) for p in self.contents
                          for i in range(1, p.count("/") + 1)})
        self.tree = sorted(
            [{"id": _sha(f"{self.path}:{f}"), "name": f.rsplit("/", 1)[-1], "type": "tree",
              "path": f, "mode": "040000"} for f in folders]
            + [{"id": blob_sha(data), "name": p.rsplit("/", 1)[-1], "type": "blob", "path": p,
                "mode": "100644"} for p, data in self.contents.items()],
            key=lambda item: item["path"])
        self.commits = [(_sha(f"{self.path}:commit:{i}"), days_ago(age), paths)
                        for i, (age, paths) in enumerate(repo.history())]


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode()).hexdigest()


class GitLabState:
    def __init__(self, repos: list[SampleRepo], *, token: str = "glpat-T3stT0kenForTheFakeServer",
                 max_per_page: int = 100, latency: float = 0.0, rate_limit: int = 2000) -> None:
        self.projects = {r.full_name: ProjectData(r, i) for i, r in enumerate(repos)}
        self.by_id = {p.id: p for p in self.projects.values()}
        self.token = token
        self.max_per_page = max_per_page
        self.latency = latency
        self.faults: list[Fault] = []
        self.log: list[Logged] = []
        self.lock = threading.Lock()
        self.rate_limit = rate_limit
        self.remaining = rate_limit
        self.window = 60  # GitLab: requests per minute
        self.reset = int(time.time()) + self.window
        self.web = ""
        self.api = ""
        self.host = "127.0.0.1"

    def fail(self, pattern: str, status: int, *, times: int = 1, headers: dict[str, str] | None = None,
             body: Any = None) -> None:
        self.faults.append(Fault(pattern, status, times, headers or {}, body))

    def requests_for(self, project: str) -> list[Logged]:
        with self.lock:
            return [entry for entry in self.log if entry.repo == project]

    def paths(self) -> list[str]:
        with self.lock:
            return [f"{entry.method} {entry.path}" for entry in self.log]


class NotFound(Exception):
    def __init__(self, what: str = "Not Found") -> None:
        super().__init__(what)
        self.what = what


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GitLabServer

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without TCP_NODELAY, delayed ACKs add 40 ms
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the request log instead."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        state = self.server.state
        if state.latency:
            time.sleep(state.latency)
        parts = urlsplit(self.path)
        raw_path, query = parts.path, parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null") if length else None
        if raw_path == "/_stats":
            with state.lock:
                counts: dict[str, int] = {}
                for entry in state.log:
                    counts[entry.repo] = counts.get(entry.repo, 0) + 1
            return self._send(200, {"requests": len(state.log), "by_repo": counts}, {})
        project = self._project_of(raw_path, body)
        status, payload, headers = self._answer(method, raw_path, query, body)
        with state.lock:
            state.log.append(Logged(method, unquote(raw_path), query, project, status))
        self._send(status, payload, headers)

    def _project_of(self, raw_path: str, body: Any) -> str:
        state = self.server.state
        match = re.match(r"^/api/v4/projects/([^/]+)", raw_path)
        if match:
            key = unquote(match.group(1))
            data = state.by_id.get(int(key)) if key.isdigit() else state.projects.get(key)
            return data.path if data else key
        if raw_path == "/api/graphql" and isinstance(body, dict):
            return str((body.get("variables") or {}).get("path", ""))
        return ""

    def _answer(self, method: str, raw_path: str, query: dict[str, list[str]],
                body: Any) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        with state.lock:
            for fault in state.faults:
                if fault.times != 0 and re.search(fault.pattern, f"{method} {unquote(raw_path)}"):
                    fault.times -= 1
                    return fault.status, fault.body or {"message": f"{fault.status} fault"}, \
                        dict(fault.headers)
        token = self.headers.get("PRIVATE-TOKEN")
        if state.token and token is not None and token != state.token:
            return 401, {"message": "401 Unauthorized"}, {}
        try:
            if method == "POST" and raw_path == "/api/graphql":
                return 200, self._graphql(body), {}
            return route(state, raw_path, query)
        except NotFound as exc:
            return 404, {"message": f"404 {exc.what}"}, {}

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        state = self.server.state
        raw = isinstance(payload, bytes)
        data = payload if raw else json.dumps(payload).encode()
        # a fault may answer with its own Content-Type (an HTML page, say)
        content_type = headers.pop("Content-Type", "text/plain; charset=utf-8" if raw else "application/json")
        with state.lock:
            if time.time() >= state.reset:  # a new rate-limit window
                state.reset += state.window
                state.remaining = state.rate_limit
            state.remaining = max(state.remaining - 1, 0)
            remaining = state.remaining
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        rate = {"RateLimit-Name": "throttle_authenticated_api",
                "RateLimit-Limit": str(state.rate_limit),
                "RateLimit-Observed": str(state.rate_limit - remaining),
                "RateLimit-Remaining": str(remaining), "RateLimit-Reset": str(state.reset),
                "RateLimit-ResetTime": formatdate(state.reset, usegmt=True)}
        rate.update(headers)
        for key, value in rate.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _graphql(self, body: Any) -> Any:
        """`project(fullPath:) { repository { blobs(ref:, paths:) { nodes { path rawTextBlob } } } }`."""
        state = self.server.state
        variables = body.get("variables") or {}
        data = state.projects.get(str(variables.get("path")))
        if data is None:
            return {"data": {"project": None}}
        nodes = []
        for path in variables.get("paths") or []:
            content = data.contents.get(path)
            if content is None:
                continue
            text = None if b"\x00" in content else content.decode("utf-8")
            nodes.append({"path": path, "rawTextBlob": text})
        return {"data": {"project": {"repository": {"blobs": {"nodes": nodes}}}}}


# -- routes ------------------------------------------------------------------------------------
def route(state: GitLabState, raw_path: str, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
    match = re.fullmatch(r"/api/v4/groups/([^/]+)/projects", raw_path)
    if match:
        group = unquote(match.group(1))
        members = [p for p in state.projects.values()
                   if p.repo.owner == group or (_truthy(query.get("include_subgroups"))
                                                and p.repo.owner.startswith(f"{group}/"))]
        if not any(p.repo.owner.split("/")[0] == group.split("/")[0] for p in state.projects.values()):
            raise NotFound("Group Not Found")
        if query.get("archived") == ["false"]:
            members = [p for p in members if not p.repo.archived]
        members.sort(key=lambda p: p.path)
        return _offset_page(state, raw_path, query, [_project(state, p) for p in members])
    match = re.fullmatch(r"/api/v4/projects/([^/]+)(/.*)?", raw_path)
    if not match:
        raise NotFound
    key = unquote(match.group(1))
    data = state.by_id.get(int(key)) if key.isdigit() else state.projects.get(key)
    if data is None:
        raise NotFound("Project Not Found")
    return _project_route(state, data, match.group(2) or "", raw_path, query)


def _common(state: GitLabState, data: ProjectData) -> dict[str, Any]:
    return {"api": state.api, "web": state.web, "host": state.host, "namespace": data.repo.owner,
            "name": data.repo.name, "project_id": data.id}


def _project(state: GitLabState, data: ProjectData) -> Any:
    namespace = data.repo.owner
    pushed = data.commits[0][1] if data.commits else NOW
    return fill("project", **_common(state, data), description=f"{data.repo.name} model",
                namespace_title=namespace.split("/")[-1].replace("-", " ").title(),
                namespace_path=namespace.split("/")[-1], namespace_id=9000 + len(namespace),
                default_branch=data.repo.default_branch, archived=data.repo.archived,
                last_activity_at=iso(pushed),
                model_registry_access_level="enabled" if data.repo.model_versions else "disabled")


def _project_route(state: GitLabState, data: ProjectData, rest: str, raw_path: str,
                   query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
    repo, common = data.repo, _common(state, data)
    if rest == "":
        return 200, _project(state, data), {}
    if rest == "/repository/tree":
        return _tree(state, data, raw_path, query)
    match = re.fullmatch(r"/repository/blobs/([0-9a-f]{40})/raw", rest)
    if match:
        content = data.blobs.get(match.group(1))
        if content is None:
            raise NotFound("Blob Not Found")
        return 200, content, {}
    if rest == "/repository/commits":
        wanted = (query.get("path") or [None])[0]
        items = [fill("commit", **common, sha=sha, short_id=sha[:8], date=iso(when))
                 for sha, when, paths in data.commits if wanted is None or wanted in paths]
        return _offset_page(state, raw_path, query, items)
    if rest == "/pipelines":
        return _offset_page(state, raw_path, query, _pipelines(common, repo, query))
    if rest == "/jobs":
        scopes = query.get("scope[]") or query.get("scope") or []
        jobs = [job for job in _jobs(common, repo) if not scopes or job["status"] in scopes]
        return _offset_page(state, raw_path, query, jobs)
    match = re.fullmatch(r"/pipelines/(\d+)/jobs", rest)
    if match:
        jobs = [job for job in _jobs(common, repo) if job["pipeline"]["id"] == int(match.group(1))]
        return _offset_page(state, raw_path, query, jobs)
    if rest == "/pipeline_schedules":
        schedules = [fill("pipeline_schedule", **common, schedule_id=500 + i, description=s.description,
                          cron=s.cron, active=s.active, next_run_at=iso(NOW + timedelta(hours=14)))
                     for i, s in enumerate(repo.schedules)]
        return _offset_page(state, raw_path, query, schedules)
    if rest == "/deployments":
        deployments = [fill("deployment", **common, deployment_id=data.id * 10 + i, deployment_iid=i + 1,
                            created_at=iso(days_ago(d.days_ago)),
                            finished_at=iso(days_ago(d.days_ago) + timedelta(minutes=4)),
                            status=d.state, environment_id=700 + i, environment=d.environment,
                            tier="production" if d.environment == "production" else "staging",
                            job_id=data.id * 100 + i, job_name=d.job, pipeline_id=9002)
                       for i, d in sorted(enumerate(repo.deployments), key=lambda p: p[1].days_ago)]
        return _offset_page(state, raw_path, query, deployments)
    if rest == "/protected_environments":
        protected = [fill("protected_environment", environment=e.name, approvals=e.reviewers)
                     for e in repo.environments if e.reviewers]
        return _offset_page(state, raw_path, query, protected)
    if rest == "/protected_branches":
        branches = [fill("protected_branch", protected_id=data.id % 100000, branch=repo.default_branch)]
        return _offset_page(state, raw_path, query, branches)
    if rest == "/approval_rules":
        rules = [fill("approval_rule", **common, rule_id=data.id % 10000, approvals=repo.review_approvals,
                      protected_id=data.id % 100000, branch=repo.default_branch)] \
            if repo.review_approvals else []
        return _offset_page(state, raw_path, query, rules)
    if rest == "/releases":
        releases = [fill("release", **common, tag=r.tag, author=r.author,
                         released_at=iso(days_ago(r.days_ago)))
                    for r in sorted(repo.releases, key=lambda r: r.days_ago)]
        return _offset_page(state, raw_path, query, releases)
    if rest == "/packages":
        packages = [fill("package", **common, package_id=data.id * 10 + i, model=name, version=version,
                         created_at=iso(days_ago(age)))
                    for i, (name, version, age) in sorted(enumerate(repo.model_versions),
                                                          key=lambda p: p[1][2])]
        if (query.get("package_type") or ["ml_model"])[0] != "ml_model":
            packages = []
        return _offset_page(state, raw_path, query, packages)
    raise NotFound


def _pipelines(common: dict[str, Any], repo: SampleRepo, query: dict[str, list[str]]) -> list[Any]:
    after = (query.get("updated_after") or [None])[0]
    since = datetime.fromisoformat(after) if after else None
    ref, status = (query.get("ref") or [None])[0], (query.get("status") or [None])[0]
    items = []
    for spec in sorted(repo.pipelines, key=lambda p: p.days_ago):
        created = days_ago(spec.days_ago)
        if (since and created < since) or (ref and spec.ref != ref) or (status and spec.status != status):
            continue
        items.append(fill("pipeline", **common, pipeline_id=spec.id, pipeline_iid=spec.id % 1000,
                          ref=spec.ref, status=spec.status, source=spec.source,
                          created_at=iso(created), updated_at=iso(created + timedelta(minutes=12))))
    return items


def _jobs(common: dict[str, Any], repo: SampleRepo) -> list[Any]:
    items = []
    for spec in sorted(repo.pipelines, key=lambda p: p.days_ago):
        created = days_ago(spec.days_ago)
        for number, (name, status) in enumerate(spec.jobs):
            items.append(fill("job", **common, job_id=spec.id * 10 + number, status=status,
                              stage=name.split("-")[0], job_name=name, ref=spec.ref,
                              created_at=iso(created), started_at=iso(created + timedelta(minutes=1)),
                              finished_at=iso(created + timedelta(minutes=9)), pipeline_id=spec.id,
                              pipeline_status=spec.status, source=spec.source))
    return items


def _tree(state: GitLabState, data: ProjectData, raw_path: str,
          query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
    """The recursive listing; keyset pagination follows `page_token` (the last path's id)."""
    per_page = min(int((query.get("per_page") or ["20"])[0]), state.max_per_page)
    items = data.tree if _truthy(query.get("recursive")) else [i for i in data.tree if "/" not in i["path"]]
    token = (query.get("page_token") or [None])[0]
    start = 0
    if token:
        start = next((i + 1 for i, item in enumerate(items) if item["id"] == token), len(items))
    chunk = items[start:start + per_page]
    headers: dict[str, str] = {}
    if start + per_page < len(items):
        params = {k: v[0] for k, v in query.items() if k != "page_token"}
        params["page_token"] = chunk[-1]["id"]
        headers["Link"] = f'<{state.web}{raw_path}?{urlencode(params)}>; rel="next"'
    return 200, chunk, headers


def _offset_page(state: GitLabState, raw_path: str, query: dict[str, list[str]],
                 items: list[Any]) -> tuple[int, Any, dict[str, str]]:
    per_page = min(int((query.get("per_page") or ["20"])[0]), state.max_per_page)
    page = int((query.get("page") or ["1"])[0])
    pages = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page: page * per_page]

    def link(number: int, rel: str) -> str:
        params = {k: v[0] for k, v in query.items() if k != "page"}
        params["page"] = str(number)
        return f'<{state.web}{raw_path}?{urlencode(params)}>; rel="{rel}"'

    links = [link(page + 1, "next")] if page < pages else []
    links += [link(1, "first"), link(pages, "last")]
    headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(items)),
               "X-Total-Pages": str(pages), "X-Next-Page": str(page + 1) if page < pages else "",
               "X-Prev-Page": str(page - 1) if page > 1 else "", "Link": ", ".join(links)}
    return 200, chunk, headers


class GitLabServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, state: GitLabState) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state
        state.web = f"http://127.0.0.1:{self.server_address[1]}"
        state.api = f"{state.web}/api/v4"


@contextmanager
def running(state: GitLabState) -> Iterator[str]:
    """Serve `state` in a background thread; yields the instance URL."""
    server = GitLabServer(state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state.web
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _truthy(values: list[str] | None) -> bool:
    """GitLab reads booleans leniently (`true`, `True`, `1` ...)."""
    return bool(values) and values[0].lower() in ("1", "true", "t", "yes", "on")
