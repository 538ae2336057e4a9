"""A local Kubernetes API server for the kubernetes collector's tests and benchmark.

There is no fake kube-apiserver to install, so this serves recorded responses at the
exact paths the official client requests: discovery (`/api`, `/apis`,
`/apis/<group>/<version>`) from `tests/fixtures/kubernetes/discovery/`, and list
responses (`/apis/<group>/<version>/<plural>` and the namespaced form) built from the
recorded lists in `tests/fixtures/kubernetes/cluster/`, paginated like the real server
(`limit`, `continue`, `remainingItemCount`). Like the real server, items of built-in
groups are served without `kind` / `apiVersion`.

It checks the bearer token, and can be told to answer a path with an error `Status`
(403 Forbidden, 500 InternalError, ...) a number of times or for good. Every request
is recorded (`requests`) so tests can count them.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kubernetes"
TOKEN = "k8s-test-token-2f9c"  # what the kubeconfig written by the tests carries
BUILTIN_GROUPS = ("", "apps", "batch", "autoscaling")


@dataclass
class Failure:
    status: int
    times: int | None  # None: for good
    reason: str
    message: str


@dataclass
class ApiState:
    discovery: dict[str, Any] = field(default_factory=dict)  # path -> document
    # (group, version, plural) -> (list kind, items)
    lists: dict[tuple[str, str, str], tuple[str, list[dict[str, Any]]]] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)  # path -> failure
    requests: list[str] = field(default_factory=list)
    token: str | None = TOKEN
    max_page: int = 500  # the server may return fewer items than asked (like etcd paging)
    aggregated: bool = True  # serves aggregated discovery (Kubernetes 1.26+) when asked
    stale: set[str] = field(default_factory=set)  # group/versions aggregated discovery marks Stale
    expire_continue: set[str] = field(default_factory=set)  # paths whose next continue gets 410


def load_discovery(state: ApiState, directory: Path = FIXTURES / "discovery") -> None:
    """Recorded `/api`, `/apis` and `/apis/<group>/<version>` documents."""
    state.discovery["/api"] = json.loads((directory / "api.json").read_text())
    state.discovery["/apis"] = json.loads((directory / "apis.json").read_text())
    for file in sorted(directory.glob("apis_*.json")):
        document = json.loads(file.read_text())
        state.discovery[f"/apis/{document['groupVersion']}"] = document


def load_lists(state: ApiState, directory: Path = FIXTURES / "cluster") -> None:
    """Recorded list responses, one file per resource: `<plural>.<group>.json`."""
    for file in sorted(directory.glob("*.json")):
        document = json.loads(file.read_text())
        plural = file.name.split(".", 1)[0]
        group, _, version = document["apiVersion"].rpartition("/")
        add_items(state, group, version, plural, document["kind"], document["items"])


def add_items(state: ApiState, group: str, version: str, plural: str, list_kind: str,
              items: list[dict[str, Any]]) -> None:
    kind, existing = state.lists.get((group, version, plural), (list_kind, []))
    state.lists[(group, version, plural)] = (kind, existing + [copy.deepcopy(i) for i in items])


def remove_group(state: ApiState, group: str) -> None:
    """Make a whole API group absent, as when its CRDs are not installed."""
    apis = state.discovery["/apis"]
    apis["groups"] = [g for g in apis["groups"] if g["name"] != group]
    for path in [p for p in state.discovery if p.startswith(f"/apis/{group}/")]:
        del state.discovery[path]
    for key in [k for k in state.lists if k[0] == group]:
        del state.lists[key]


def aggregated_discovery(state: ApiState) -> dict[str, Any]:
    """`/apis` as an APIGroupDiscoveryList (apidiscovery.k8s.io/v2), built from the recorded
    group list and resource lists: every group's resources in one answer."""
    items = []
    for group in state.discovery["/apis"]["groups"]:
        versions = []
        for entry in group["versions"]:
            recorded = state.discovery.get(f"/apis/{entry['groupVersion']}", {"resources": []})
            top = [r for r in recorded["resources"] if "/" not in r["name"]]
            resources = []
            for r in top:
                subresources = [
                    {"subresource": sub["name"].split("/", 1)[1],
                     "responseKind": {"group": sub.get("group", ""), "version": sub.get("version", ""),
                                      "kind": sub["kind"]},
                     "verbs": sub["verbs"]}
                    for sub in recorded["resources"] if sub["name"].startswith(r["name"] + "/")
                ]
                resource = {"resource": r["name"], "responseKind": {"group": "", "version": "",
                                                                     "kind": r["kind"]},
                            "scope": "Namespaced" if r["namespaced"] else "Cluster",
                            "singularResource": r["singularName"], "verbs": r["verbs"]}
                for key, name in (("shortNames", "shortNames"), ("categories", "categories")):
                    if key in r:
                        resource[name] = r[key]
                if subresources:
                    resource["subresources"] = subresources
                resources.append(resource)
            stale = entry["groupVersion"] in state.stale
            versions.append({"version": entry["version"], "resources": [] if stale else resources,
                             "freshness": "Stale" if stale else "Current"})
        items.append({"metadata": {"name": group["name"], "creationTimestamp": None},
                      "versions": versions})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {}, "items": items}


def status_body(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def forbidden(plural: str, group: str) -> Failure:
    message = (f'{plural}.{group} is forbidden: User "system:serviceaccount:maturity:probe" '
               f'cannot list resource "{plural}" in API group "{group}" at the cluster scope')
    return Failure(403, None, "Forbidden", message)


def internal_error(times: int | None = None) -> Failure:
    return Failure(500, times, "InternalError",
                   "Internal error occurred: etcdserver: request timed out")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # headers and body leave in one write, as from a real API server
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.server.lock:
            state.requests.append(self.path)
            failure = state.failures.get(path)
            if failure is not None and failure.times is not None:
                failure.times -= 1
                if failure.times < 0:
                    del state.failures[path]
                    failure = None
        if state.token and self.headers.get("Authorization") != f"Bearer {state.token}":
            self._send(401, status_body(401, "Unauthorized", "Unauthorized"))
            return
        if failure is not None:
            self._send(failure.status, status_body(failure.status, failure.reason, failure.message))
            return
        if path == "/apis" and state.aggregated and "as=APIGroupDiscoveryList" in (
            self.headers.get("Accept") or ""
        ):
            self._send(200, aggregated_discovery(state),
                       "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
            return
        if path in state.discovery:
            self._send(200, state.discovery[path])
            return
        listed = self._list(path, query)
        if listed is None:
            self._send(404, status_body(404, "NotFound", "the server could not find the requested resource"))
            return
        self._send(*listed)

    def _list(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        state = self.server.state
        segments = path.strip("/").split("/")
        if segments[0] == "api":
            group, rest = "", segments[1:]
        elif segments[0] == "apis" and len(segments) >= 3:
            group, rest = segments[1], segments[2:]
        else:
            return None
        if len(rest) == 2:
            version, plural, namespace = rest[0], rest[1], None
        elif len(rest) == 4 and rest[1] == "namespaces":
            version, namespace, plural = rest[0], rest[2], rest[3]
        else:
            return None
        found = state.lists.get((group, version, plural))
        if found is None:  # an installed resource without objects lists as empty
            discovered = state.discovery.get(f"/apis/{group}/{version}", {})
            kinds = [r["kind"] for r in discovered.get("resources", []) if r["name"] == plural]
            if not kinds:
                return None
            found = (f"{kinds[0]}List", [])
        list_kind, items = found
        if namespace is not None:
            items = [i for i in items if i.get("metadata", {}).get("namespace") == namespace]
        offset = 0
        if query.get("continue") and path in state.expire_continue:
            state.expire_continue.discard(path)
            return 410, status_body(410, "Expired", "The provided continue parameter is too old "
                                    "to display a consistent list result. You can start a new "
                                    "list without the continue parameter.")
        if query.get("continue"):
            try:
                offset = int(json.loads(base64.b64decode(query["continue"]))["start"])
            except (ValueError, KeyError):
                return 400, status_body(400, "BadRequest", "invalid continue token")
        limit = int(query.get("limit") or 0) or len(items)
        limit = min(limit, state.max_page)
        page = items[offset:offset + limit]
        api_version = f"{group}/{version}" if group else version
        if group in BUILTIN_GROUPS:
            page = [{k: v for k, v in i.items() if k not in ("kind", "apiVersion")} for i in page]
        metadata: dict[str, Any] = {"resourceVersion": "48213377"}
        rest_count = len(items) - offset - len(page)
        if rest_count > 0:
            token = {"v": "meta.k8s.io/v1", "rv": 48213377, "start": offset + len(page)}
            metadata["continue"] = base64.b64encode(json.dumps(token).encode()).decode()
            metadata["remainingItemCount"] = rest_count
        return 200, {"apiVersion": api_version, "kind": list_kind, "metadata": metadata,
                     "items": page}

    def _send(self, code: int, document: dict[str, Any],
              content_type: str = "application/json") -> None:
        body = json.dumps(document).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Audit-Id", "5c1e2b7e-3f0a-4b7e-9d6c-0f3c2a1b9e88")
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: ApiState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.lock = threading.Lock()


@dataclass
class RunningServer:
    state: ApiState
    url: str

    def kubeconfig(self, directory: Path, token: str | None = TOKEN, context: str = "ml-prod") -> Path:
        """A kubeconfig file pointing at this server, as `kubectl config` would write it."""
        user: dict[str, Any] = {"token": token} if token else {}
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "ml-prod", "cluster": {"server": self.url}}],
            "users": [{"name": "maturity-probe", "user": user}],
            "contexts": [{"name": context, "context": {"cluster": "ml-prod",
                                                       "user": "maturity-probe"}}],
            "current-context": context,
            "preferences": {},
        }
        path = directory / "kubeconfig.yaml"
        path.write_text(json.dumps(document, indent=2))
        return path

    def lists_requested(self) -> list[str]:
        return [r for r in self.state.requests if "limit=" in r]


@contextmanager
def serve(state: ApiState) -> Iterator[RunningServer]:
    """Run the server on 127.0.0.1 (a free port) for the duration of the block."""
    server = _Server(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningServer(state, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def recorded_state() -> ApiState:
    """The recorded cluster: discovery and list responses of the fixtures."""
    state = ApiState()
    load_discovery(state)
    load_lists(state)
    return state


def save_state(state: ApiState, path: Path) -> None:
    """Write discovery and lists to a JSON file, for a server run in another process."""
    document = {"discovery": state.discovery,
                "lists": [[g, v, p, kind, items] for (g, v, p), (kind, items) in state.lists.items()]}
    path.write_text(json.dumps(document))


def load_state(path: Path) -> ApiState:
    document = json.loads(path.read_text())
    state = ApiState(discovery=document["discovery"])
    for group, version, plural, kind, items in document["lists"]:
        state.lists[(group, version, plural)] = (kind, items)
    return state


def main(argv: list[str]) -> None:
    """`python k8s_server.py STATE.json`: serve a saved state (benchmarks run the API server
    in its own process, like a real one); prints the URL, stops when stdin closes."""
    import sys

    with serve(load_state(Path(argv[0]))) as server:
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
