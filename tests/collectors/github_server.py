"""A local GitHub REST/GraphQL API for the collector tests and the benchmark.

Serves the sample repositories of `host_repos` on 127.0.0.1 with the paths, pagination
(`Link` headers), rate-limit headers and JSON shapes of api.github.com; the response
objects are filled from the recorded templates in tests/fixtures/github/. Absolute URLs in
responses point at this server, as PyGithub follows them. Tests make it fail on purpose
with `Fault`s (401, secondary rate limits with Retry-After, 404, 500 then success ...) and
read back every request it answered.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from host_repos import NOW, SampleRepo, blob_sha, days_ago, iso

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"
DOCS = "https://docs.github.com/rest"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


class Templates:
    """Recorded response objects of one host, filled in per request."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: dict[str, Any] = {}

    def fill(self, recorded: str, /, **values: Any) -> Any:
        """A recorded response object with its `${placeholders}` replaced."""
        if recorded not in self._cache:
            self._cache[recorded] = json.loads((self.folder / f"{recorded}.json").read_text())
        return _substitute(copy.deepcopy(self._cache[recorded]), values)


fill = Templates(FIXTURES).fill


def _substitute(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        return {key: _substitute(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(item, values) for item in node]
    if isinstance(node, str):
        whole = _PLACEHOLDER.fullmatch(node)
        if whole:
            return values[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), node)
    return node


@dataclass
class Fault:
    """Answer matching requests with `status` (at most `times` times, -1 = always)."""

    pattern: str  # regex over "METHOD /path"
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    query: dict[str, list[str]]
    repo: str  # owner/name the request is about, "" for listings
    status: int


class RepoData:
    """A sample repository as GitHub stores it: blobs and trees by id, commit history."""

    def __init__(self, repo: SampleRepo, index: int) -> None:
        self.repo = repo
        self.id = 600_000_000 + index
        self.contents = {path: text.encode("utf-8") for path, text in repo.files.items()}
        self.blobs = {blob_sha(data): data for data in self.contents.values()}
        self.dirs: dict[str, str] = {"": _sha(f"{repo.full_name}:tree:")}
        for path in self.contents:
            parts = path.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                folder = "/".join(parts[:depth])
                self.dirs.setdefault(folder, _sha(f"{repo.full_name}:tree:{folder}"))
        self.dir_by_sha = {sha: folder for folder, sha in self.dirs.items()}
        self.commits = [(_sha(f"{repo.full_name}:commit:{i}"), days_ago(age), paths)
                        for i, (age, paths) in enumerate(repo.history())]

    def entries(self, folder: str, recursive: bool) -> list[dict[str, Any]]:
        prefix = f"{folder}/" if folder else ""
        items = []
        for sub, sha in sorted(self.dirs.items()):
            if sub and sub.startswith(prefix) and (recursive or "/" not in sub[len(prefix):]):
                items.append({"path": sub[len(prefix):], "mode": "040000", "type": "tree", "sha": sha})
        for path, data in sorted(self.contents.items()):
            if path.startswith(prefix) and (recursive or "/" not in path[len(prefix):]):
                items.append({"path": path[len(prefix):], "mode": "100644", "type": "blob",
                              "sha": blob_sha(data), "size": len(data)})
        return sorted(items, key=lambda item: item["path"])


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode()).hexdigest()


class GitHubState:
    """Everything the fake server knows and remembers; shared by its handler threads."""

    def __init__(self, repos: list[SampleRepo], *, token: str = "ghp_T3stT0kenForTheFakeServer",
                 max_per_page: int = 100, latency: float = 0.0, rate_limit: int = 5000) -> None:
        self.repos = {r.full_name: RepoData(r, i) for i, r in enumerate(repos)}
        self.token = token
        self.max_per_page = max_per_page
        self.latency = latency
        self.faults: list[Fault] = []
        self.log: list[Logged] = []
        self.lock = threading.Lock()
        self.rate_limit = rate_limit
        self.remaining = rate_limit
        self.window = 3600  # GitHub: an hourly budget of requests
        self.reset = int(time.time()) + self.window
        self.api = ""  # set when the server starts

    def fail(self, pattern: str, status: int, *, times: int = 1, headers: dict[str, str] | None = None,
             body: Any = None) -> None:
        self.faults.append(Fault(pattern, status, times, headers or {}, body))

    def requests_for(self, repo: str) -> list[Logged]:
        with self.lock:
            return [entry for entry in self.log if entry.repo == repo]

    def paths(self) -> list[str]:
        with self.lock:
            return [f"{entry.method} {entry.path}" for entry in self.log]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GitHubServer

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

    # -- plumbing ------------------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        state = self.server.state
        if state.latency:
            time.sleep(state.latency)
        parts = urlsplit(self.path)
        path, query = unquote(parts.path), parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null") if length else None
        if path == "/_stats":
            return self._stats()
        repo = _repo_of(path, body)
        status, payload, headers = self._answer(method, path, query, body)
        with state.lock:
            state.log.append(Logged(method, path, query, repo, status))
        self._send(status, payload, headers, graphql=path == "/graphql")

    def _answer(self, method: str, path: str, query: dict[str, list[str]],
                body: Any) -> tuple[int, Any, dict[str, str]]:
        state = self.server.state
        with state.lock:
            for fault in state.faults:
                if fault.times != 0 and re.search(fault.pattern, f"{method} {path}"):
                    fault.times -= 1
                    return fault.status, fault.body or {"message": "fault", "documentation_url": DOCS}, \
                        dict(fault.headers)
        auth = self.headers.get("Authorization", "")
        if state.token and auth and auth.split(" ")[-1] != state.token:
            return 401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}, {}
        try:
            if method == "POST" and path == "/graphql":
                return 200, self._graphql(body), {}
            status, payload, headers = route(state, path, query)
            return status, payload, headers
        except NotFound:
            return 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, {}

    def _send(self, status: int, payload: Any, headers: dict[str, str], graphql: bool) -> None:
        state = self.server.state
        # a fault may answer raw bytes with its own Content-Type (an HTML page, say)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        content_type = headers.pop("Content-Type", "application/json; charset=utf-8")
        with state.lock:
            if time.time() >= state.reset:  # a new rate-limit window
                state.reset += state.window
                state.remaining = state.rate_limit
            state.remaining = max(state.remaining - 1, 0)
            remaining = state.remaining
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        rate = {"X-RateLimit-Limit": str(state.rate_limit), "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(state.reset),
                "X-RateLimit-Used": str(state.rate_limit - remaining),
                "X-RateLimit-Resource": "graphql" if graphql else "core"}
        rate.update(headers)
        for key, value in rate.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _stats(self) -> None:
        state = self.server.state
        with state.lock:
            counts: dict[str, int] = {}
            for entry in state.log:
                counts[entry.repo] = counts.get(entry.repo, 0) + 1
        self._send(200, {"requests": len(state.log), "by_repo": counts}, {}, graphql=False)

    def _graphql(self, body: Any) -> Any:
        """Blobs by object id: `fN: object(oid: $oN) { ... on Blob { text isBinary ... } }`."""
        state = self.server.state
        query, variables = body.get("query", ""), body.get("variables") or {}
        data = state.repos.get(f"{variables.get('owner')}/{variables.get('name')}")
        if data is None:
            return {"data": {"repository": None}, "errors": [{
                "type": "NOT_FOUND", "path": ["repository"],
                "message": "Could not resolve to a Repository with the name "
                f"'{variables.get('owner')}/{variables.get('name')}'."}]}
        found: dict[str, Any] = {}
        for alias, variable in re.findall(r"(\w+): object\(oid: \$(\w+)\)", query):
            content = data.blobs.get(variables.get(variable, ""))
            if content is None:
                found[alias] = None
            elif b"\x00" in content:
                found[alias] = {"text": None, "isBinary": True, "isTruncated": False}
            else:
                found[alias] = {"text": content.decode("utf-8"), "isBinary": False, "isTruncated": False}
        return {"data": {"repository": found}}


class NotFound(Exception):
    pass


def _repo_of(path: str, body: Any) -> str:
    match = re.match(r"^/repos/([^/]+)/([^/]+)", path)
    if match:
        return f"{match.group(1)}/{match.group(2)}"
    if path == "/graphql" and isinstance(body, dict):
        variables = body.get("variables") or {}
        return f"{variables.get('owner')}/{variables.get('name')}"
    return ""


# -- routes ------------------------------------------------------------------------------------
def route(state: GitHubState, path: str, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
    match = re.fullmatch(r"/orgs/([^/]+)", path)
    if match:
        if not any(r.repo.owner == match.group(1) for r in state.repos.values()):
            raise NotFound
        return 200, fill("organization", api=state.api, owner=match.group(1)), {}
    match = re.fullmatch(r"/orgs/([^/]+)/repos", path)
    if match:
        repos = [r for r in state.repos.values() if r.repo.owner == match.group(1)]
        if not repos:
            raise NotFound
        return _page(state, path, query, [_repository(state, r) for r in repos])
    match = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
    if not match:
        raise NotFound
    data = state.repos.get(f"{match.group(1)}/{match.group(2)}")
    if data is None:
        raise NotFound
    return _repo_route(state, data, match.group(3) or "", path, query)


def _repo_route(state: GitHubState, data: RepoData, rest: str, path: str,
                query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
    repo = data.repo
    common = _common(state, data)
    if rest == "":
        return 200, _repository(state, data), {}
    match = re.fullmatch(r"/git/trees/(.+)", rest)
    if match:
        return 200, _tree(state, data, match.group(1), query.get("recursive") == ["1"]), {}
    match = re.fullmatch(r"/git/blobs/([0-9a-f]{40})", rest)
    if match:
        content = data.blobs.get(match.group(1))
        if content is None:
            raise NotFound
        encoded = base64.encodebytes(content).decode()
        return 200, {"sha": match.group(1), "node_id": f"B_kwDOJx{match.group(1)[:12]}",
                     "size": len(content), "url": f"{state.api}{path}", "content": encoded,
                     "encoding": "base64"}, {}
    if rest == "/commits":
        return _commits(state, data, path, query)
    if rest == "/actions/workflows":
        workflows = [fill("workflow", **common, workflow_id=w.id, workflow_name=w.name,
                          workflow_path=w.path, state=w.state) for w in repo.workflows]
        return 200, {"total_count": len(workflows), "workflows": workflows}, {}
    match = re.fullmatch(r"/actions/workflows/(\d+)/runs", rest)
    if match:
        return _runs(state, data, int(match.group(1)), path, query)
    if rest == "/environments":
        environments = [_environment(common, i, env) for i, env in enumerate(repo.environments)]
        return 200, {"total_count": len(environments), "environments": environments}, {}
    if rest == "/deployments":
        ordered = sorted(enumerate(repo.deployments), key=lambda pair: pair[1].days_ago)
        return _page(state, path, query, [_deployment(common, data, i, d) for i, d in ordered])
    match = re.fullmatch(r"/deployments/(\d+)/statuses", rest)
    if match:
        index = int(match.group(1)) - data.id * 10
        if not 0 <= index < len(repo.deployments):
            raise NotFound
        spec = repo.deployments[index]
        return 200, [fill("deployment_status", **common, deployment_id=int(match.group(1)),
                          status_id=int(match.group(1)) * 7, state=spec.state,
                          environment=spec.environment, created_at=iso(days_ago(spec.days_ago)))], {}
    match = re.fullmatch(r"/branches/([^/]+)/protection", rest)
    if match:
        if not repo.review_approvals:
            return 404, {"message": "Branch not protected", "documentation_url": DOCS, "status": "404"}, {}
        protection = fill("branch_protection", **common, branch=match.group(1),
                          approvals=repo.review_approvals)
        protection["required_status_checks"]["contexts"] = list(repo.required_checks)
        protection["required_status_checks"]["checks"] = [
            {"context": c, "app_id": 15368} for c in repo.required_checks]
        return 200, protection, {}
    match = re.fullmatch(r"/rules/branches/([^/]+)", rest)
    if match:
        if not repo.review_approvals:
            return 200, [], {}
        rules = fill("branch_rules", **common, approvals=repo.review_approvals)
        rules[1]["parameters"]["required_status_checks"] = [
            {"context": c, "integration_id": 15368} for c in repo.required_checks]
        return 200, rules, {}
    if rest == "/releases":
        releases = [fill("release", **common, release_id=data.id * 10 + i, tag=r.tag, author=r.author,
                         author_type="Bot" if r.author.endswith("[bot]") else "User",
                         published_at=iso(days_ago(r.days_ago)))
                    for i, r in sorted(enumerate(repo.releases), key=lambda p: p[1].days_ago)]
        return _page(state, path, query, releases)
    raise NotFound


def _common(state: GitHubState, data: RepoData) -> dict[str, Any]:
    return {"api": state.api, "owner": data.repo.owner, "name": data.repo.name}


def _repository(state: GitHubState, data: RepoData) -> Any:
    repo = data.repo
    size = max(sum(len(c) for c in data.contents.values()) // 1024, 1)
    pushed = data.commits[0][1] if data.commits else NOW
    return fill("repository", **_common(state, data), repo_id=data.id, node_id=f"R_kgDOJx{data.id}",
                description=f"{repo.name} of {repo.owner}", fork=repo.fork, archived=repo.archived,
                default_branch=repo.default_branch, size=size, pushed_at=iso(pushed))


def _tree(state: GitHubState, data: RepoData, ref: str, recursive: bool) -> Any:
    if ref in (data.repo.default_branch, data.dirs[""]):
        folder = ""
    elif ref in data.dir_by_sha:
        folder = data.dir_by_sha[ref]
    else:
        raise NotFound
    entries = data.entries(folder, recursive)
    truncated = recursive and data.repo.truncated_tree and folder == ""
    if truncated:
        entries = entries[: max(len(entries) // 3, 1)]  # GitHub cuts the listing short
    prefix = f"{state.api}/repos/{data.repo.full_name}/git"
    for entry in entries:
        kind = "trees" if entry["type"] == "tree" else "blobs"
        entry["url"] = f"{prefix}/{kind}/{entry['sha']}"
    return {"sha": data.dirs[folder], "url": f"{prefix}/trees/{data.dirs[folder]}",
            "tree": entries, "truncated": truncated}


def _commits(state: GitHubState, data: RepoData, path: str,
             query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
    wanted = (query.get("path") or [None])[0]
    commits = [(sha, when) for sha, when, paths in data.commits if wanted is None or wanted in paths]
    items = [fill("commit", **_common(state, data), sha=sha, date=iso(when)) for sha, when in commits]
    return _page(state, path, query, items)


def _runs(state: GitHubState, data: RepoData, workflow_id: int, path: str,
          query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
    workflow = next((w for w in data.repo.workflows if w.id == workflow_id), None)
    if workflow is None:
        raise NotFound
    since = None
    created = (query.get("created") or [""])[0]
    if created.startswith(">="):
        since = datetime.fromisoformat(created[2:]).replace(tzinfo=NOW.tzinfo)
    event = (query.get("event") or [None])[0]
    runs = []
    for number, run in enumerate(sorted(workflow.runs, key=lambda r: r.days_ago)):
        started = days_ago(run.days_ago)
        if (since and started < since) or (event and run.event != event):
            continue
        runs.append(fill("workflow_run", **_common(state, data), run_id=workflow_id * 1000 + number,
                         run_number=len(workflow.runs) - number, workflow_id=workflow_id,
                         workflow_name=workflow.name, workflow_path=workflow.path, event=run.event,
                         conclusion=run.conclusion, created_at=iso(started),
                         updated_at=iso(started + timedelta(minutes=23))))
    status, page, headers = _page(state, path, query, runs)
    return status, {"total_count": len(runs), "workflow_runs": page}, headers


def _environment(common: dict[str, Any], index: int, env: Any) -> Any:
    environment = fill("environment", **common, environment_id=160_000_000 + index,
                       environment=env.name)
    if env.reviewers:
        rule = fill("required_reviewers_rule", rule_id=3_700_000 + index)
        rule["reviewers"] = [fill("reviewer", **common, reviewer_id=5_000_000 + i)
                             for i in range(env.reviewers)]
        environment["protection_rules"].append(rule)
    if env.wait_timer:
        environment["protection_rules"].append({"id": 3_800_000 + index, "node_id": "GA_kwDOJxwt",
                                                "type": "wait_timer", "wait_timer": env.wait_timer})
    return environment


def _deployment(common: dict[str, Any], data: RepoData, index: int, spec: Any) -> Any:
    return fill("deployment", **common, deployment_id=data.id * 10 + index,
                environment=spec.environment, created_at=iso(days_ago(spec.days_ago)))


def _page(state: GitHubState, path: str, query: dict[str, list[str]],
          items: list[Any]) -> tuple[int, Any, dict[str, str]]:
    """One page of a list, with GitHub's Link header (first/prev/next/last)."""
    per_page = min(int((query.get("per_page") or ["30"])[0]), state.max_per_page)
    page = int((query.get("page") or ["1"])[0])
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page: page * per_page]
    links = []

    def link(number: int, rel: str) -> str:
        params = {k: v[0] for k, v in query.items() if k != "page"}
        params["page"] = str(number)
        return f'<{state.api}{path}?{urlencode(params)}>; rel="{rel}"'

    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links += [link(1, "first"), link(page - 1, "prev")]
    return 200, chunk, ({"Link": ", ".join(links)} if links else {})


class GitHubServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, state: GitHubState) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state
        state.api = f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def running(state: GitHubState) -> Iterator[str]:
    """Serve `state` in a background thread; yields the API base URL."""
    server = GitHubServer(state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state.api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
