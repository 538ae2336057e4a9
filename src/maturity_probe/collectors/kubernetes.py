"""The `kubernetes` collector: what a cluster really serves, trains on a schedule and monitors.

Live mode reads a cluster with the official `kubernetes` client. API discovery comes
first (`/apis`, then `/apis/<group>/<version>` of the groups this collector knows), so
a CRD that is not installed is simply absent, never a failure. Then every installed kind
it knows is listed page by page (`limit` / `continue`), in all namespaces or in the
configured ones: a constant number of requests per kind and page, never one per object.
A 403 on a kind makes the signals it could show unknown (the source is `partial`); 429
and 5xx answers and network errors are retried a bounded number of times first.

Offline mode (`manifests:`) reads YAML and JSON files instead: multi-document streams,
`kind: List`, `kubectl get -A -o yaml` dumps and `helm template` output.

Either way the objects are judged by the repository detectors (serving, monitoring,
pipelines) over a context seeded with these objects (`use_kube_objects`), so a manifest
in a repository and the same object in a cluster are judged alike. What only a live
cluster knows then raises the strength of a finding: a Ready InferenceService or a
model server with ready replicas is `active`; a CronJob (CronWorkflow, Kubeflow
ScheduledWorkflow) scheduled within the lookback window is `active`, and `verified` when
a run of it succeeded within the window; a Flagger canary or Argo rollout that completed
within the window is `verified`. Manifests are always `declared`.

Workflow runs are not judged one by one: runs of a CronWorkflow, WorkflowTemplate,
ScheduledWorkflow or Argo Events Sensor prove their origin ran; other runs are grouped by
`generateName` and judged once, on their newest run. Workloads owned by a controller
(the Deployment KServe creates for an InferenceService, Flagger's `-primary` copies)
are left to their owner.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gc
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from maturity_probe import yamlio
from maturity_probe.collectors import CollectContext, Collector, SourceConfig, SourceError, resolve_path
from maturity_probe.collectors.repo import subject_for_remote
from maturity_probe.detectors import all_detectors, run_detectors
from maturity_probe.detectors.context import Finding, RepoContext
from maturity_probe.detectors.manifests import (
    KubeObject,
    blank_template_actions,
    dig,
    line_in,
    objects_in_document,
    use_kube_objects,
)
from maturity_probe.detectors.monitoring import AlertRule, model_label
from maturity_probe.detectors.serving import mentions_model, served_objects
from maturity_probe.errors import first_line
from maturity_probe.evidence import Evidence, JsonValue, Strength
from maturity_probe.filetree import Unreadable
from maturity_probe.redact import basic_credentials
from maturity_probe.yamlio import as_dict, as_list, as_str

INSTALL_HINT = "the kubernetes collector needs `pip install 'maturity-probe[kubernetes]'`"

MODEL_SERVER = "serving.model_server"
DELIVERY = "serving.progressive_delivery"
AUTOSCALING = "serving.autoscaling"
SCHEDULED = "retrain.scheduled"
ON_ALERT = "retrain.on_alert"
PIPELINE = "pipeline.orchestrated"
DATA_PREP = "pipeline.data_preparation"
DRIFT_RULE = "monitor.drift_alert_rule"
MODEL_RULE = "monitor.model_alert_rule"
METRICS = "monitor.model_metrics"
DEPLOYMENT = "ci.model_deployment_job"
VALIDATION = "quality.model_validation"
SERVING = (MODEL_SERVER, DELIVERY, AUTOSCALING)
PIPELINES = (PIPELINE, DATA_PREP, VALIDATION, SCHEDULED)
# Signals the detectors show about Kubernetes objects; the collector adds the others.
DETECTED_SIGNALS = frozenset({*SERVING, SCHEDULED, ON_ALERT, PIPELINE, DATA_PREP, VALIDATION,
                              METRICS})
SIGNALS = frozenset({*DETECTED_SIGNALS, DRIFT_RULE, MODEL_RULE, DEPLOYMENT})

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
MAX_MANIFEST_BYTES = 64_000_000  # `kubectl get -A -o yaml` of a large cluster
# Aggregated discovery first (one answer for every group), the plain group list otherwise.
AGGREGATED_DISCOVERY = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
                        "application/json")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 10.0
BACKOFF_SECONDS = 0.2
# Objects whose kind a controller owns are judged through their owner.
OWNED_WORKLOADS = frozenset({"Deployment", "StatefulSet"})
# Labels Argo sets on the runs of a CronWorkflow / WorkflowTemplate, KFP and Argo Events.
CRON_WORKFLOW_LABEL = "workflows.argoproj.io/cron-workflow"
TEMPLATE_LABEL = "workflows.argoproj.io/workflow-template"
CLUSTER_TEMPLATE_LABEL = "workflows.argoproj.io/cluster-workflow-template"
KFP_SCHEDULE_LABEL = "scheduledworkflows.kubeflow.org/scheduledWorkflowName"
SENSOR_LABEL = "events.argoproj.io/sensor"
SUCCEEDED = "Succeeded"
# Flagger phases of a canary that is set up and analysing or promoted.
FLAGGER_LIVE_PHASES = frozenset({"Initialized", "Waiting", "Progressing", "WaitingPromotion",
                                 "Promoting", "Finalising", "Succeeded"})
SERVED_KINDS = frozenset({"InferenceService", "SeldonDeployment", "RayService"})


@dataclass(frozen=True)
class Resource:
    """A kind this collector lists, with the API versions it understands (preferred first)."""

    group: str
    plural: str
    kind: str
    versions: tuple[str, ...]
    signals: tuple[str, ...]
    namespaced: bool = True

    @property
    def label(self) -> str:
        return f"{self.plural}.{self.group}"


RESOURCES: tuple[Resource, ...] = (
    Resource("apps", "deployments", "Deployment", ("v1",), (MODEL_SERVER, AUTOSCALING, METRICS)),
    Resource("apps", "statefulsets", "StatefulSet", ("v1",), (MODEL_SERVER, AUTOSCALING, METRICS)),
    Resource("batch", "cronjobs", "CronJob", ("v1", "v1beta1"), (SCHEDULED,)),
    Resource("batch", "jobs", "Job", ("v1",), (SCHEDULED,)),
    Resource("autoscaling", "horizontalpodautoscalers", "HorizontalPodAutoscaler",
             ("v2", "v2beta2", "v1"), (AUTOSCALING,)),
    Resource("keda.sh", "scaledobjects", "ScaledObject", ("v1alpha1",), (AUTOSCALING,)),
    Resource("serving.kserve.io", "inferenceservices", "InferenceService", ("v1beta1",), SERVING),
    Resource("serving.kubeflow.org", "inferenceservices", "InferenceService",
             ("v1beta1", "v1alpha2"), SERVING),
    Resource("machinelearning.seldon.io", "seldondeployments", "SeldonDeployment",
             ("v1", "v1alpha3", "v1alpha2"), SERVING),
    Resource("mlops.seldon.io", "models", "Model", ("v1alpha1",), SERVING),
    Resource("mlops.seldon.io", "servers", "Server", ("v1alpha1",), (MODEL_SERVER, AUTOSCALING)),
    Resource("mlops.seldon.io", "experiments", "Experiment", ("v1alpha1",), (DELIVERY,)),
    Resource("ray.io", "rayservices", "RayService", ("v1", "v1alpha1"), (MODEL_SERVER,)),
    Resource("argoproj.io", "rollouts", "Rollout", ("v1alpha1",), (MODEL_SERVER, DELIVERY)),
    Resource("flagger.app", "canaries", "Canary", ("v1beta1",), (DELIVERY,)),
    Resource("networking.istio.io", "virtualservices", "VirtualService",
             ("v1", "v1beta1", "v1alpha3"), (DELIVERY,)),
    Resource("argoproj.io", "workflows", "Workflow", ("v1alpha1",), (*PIPELINES, ON_ALERT)),
    Resource("argoproj.io", "workflowtemplates", "WorkflowTemplate", ("v1alpha1",), PIPELINES),
    Resource("argoproj.io", "clusterworkflowtemplates", "ClusterWorkflowTemplate", ("v1alpha1",),
             PIPELINES, namespaced=False),
    Resource("argoproj.io", "cronworkflows", "CronWorkflow", ("v1alpha1",), PIPELINES),
    Resource("kubeflow.org", "scheduledworkflows", "ScheduledWorkflow", ("v1beta1", "v1"),
             (SCHEDULED,)),
    Resource("argoproj.io", "sensors", "Sensor", ("v1alpha1",), (ON_ALERT, SCHEDULED)),
    Resource("argoproj.io", "eventsources", "EventSource", ("v1alpha1",), (ON_ALERT, SCHEDULED)),
    Resource("argoproj.io", "applications", "Application", ("v1alpha1",), (DEPLOYMENT,)),
    Resource("monitoring.coreos.com", "prometheusrules", "PrometheusRule", ("v1",),
             (DRIFT_RULE, MODEL_RULE)),
    Resource("monitoring.coreos.com", "servicemonitors", "ServiceMonitor", ("v1",), (METRICS,)),
    Resource("monitoring.coreos.com", "podmonitors", "PodMonitor", ("v1",), (METRICS,)),
)
class KubernetesSource(SourceConfig):
    """A live cluster (kubeconfig, context, or the pod's service account), or manifests."""

    type: Literal["kubernetes"] = "kubernetes"
    kubeconfig: Path | None = Field(None, description="Kubeconfig file (default: $KUBECONFIG or "
                                    "~/.kube/config; in a pod, its service account).")
    context: str | None = Field(None, description="Kubeconfig context (default: the current one).")
    namespaces: list[str] = Field(default_factory=list,
                                  description="Namespaces to read (default: all namespaces).")
    manifests: Path | None = Field(None, description="Offline: a directory or file of YAML/JSON "
                                   "manifests or `kubectl get -o yaml` dumps, instead of a cluster.")
    page_size: int = Field(500, ge=1, le=10_000, description="Items per list request (`limit`).")
    timeout_seconds: int = Field(30, ge=1, le=600, description="Timeout of each API request.")
    concurrency: int = Field(4, ge=1, le=32, description="Kinds listed at the same time.")
    max_retries: int = Field(2, ge=0, le=10,
                             description="Retries of a request answered 429/5xx or failing on the network.")
    model_keys: list[str] = Field(
        default=["model", "model-name", "model_name", "app.kubernetes.io/model",
                 "mlops.acme.io/model-uri", "model-uri", "model_uri", "mlflow.org/model"],
        description="Labels and annotations whose value names the model a workload serves or "
        "trains (a name or a model URI such as models:/churn/Production).",
    )

    @field_validator("kubeconfig", "manifests")
    @classmethod
    def _relative_to_config(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return None if value is None else resolve_path(value, cls.base_dir(info))

    @model_validator(mode="after")
    def _one_mode(self) -> KubernetesSource:
        if self.manifests is not None and (self.kubeconfig or self.context or self.namespaces):
            raise ValueError("`manifests` reads files offline: it does not go with "
                             "kubeconfig, context or namespaces")
        return self


# -- small helpers ---------------------------------------------------------------------------
class EmptyTree:
    """A file tree without files: the detectors then judge only the seeded objects."""

    def __init__(self, label: str) -> None:
        self.label = label

    def paths(self) -> list[str]:
        return []

    def read_bytes(self, path: str, limit: int = 0) -> bytes:
        raise Unreadable("no files in a cluster")

    def prefetch(self, paths: Iterable[str]) -> None:
        """Nothing to fetch."""


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp of the API (`2026-05-31T02:00:00Z`), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _latest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def condition(obj: KubeObject, kind: str) -> dict[Any, Any]:
    """The status condition of that type, or {}."""
    for item in as_list(dig(obj.body, "status", "conditions")):
        if as_str(as_dict(item).get("type")) == kind:
            return as_dict(item)
    return {}


def _is_true(found: dict[Any, Any]) -> bool:
    return as_str(found.get("status")).lower() == "true"


_MODEL_URI = re.compile(r"^models:/+(?P<name>[^/@]+)")
_MODELS_SEGMENT = re.compile(r"/models/(?P<name>[A-Za-z0-9][\w.-]*)(?:/|$)")


def model_from_uri(uri: str) -> str | None:
    """The model a storage URI names: `models:/churn/Production`, `s3://b/models/churn/7`."""
    uri = uri.strip()
    if match := _MODEL_URI.match(uri):
        return match.group("name")
    if "://" in uri and (match := _MODELS_SEGMENT.search(uri.split("://", 1)[1])):
        return match.group("name")
    return None


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a cluster is read and judged.

    Thousands of listed objects become millions of small dicts and lists, none of them in
    reference cycles; the collector would otherwise rescan the growing heap again and
    again (it doubled the time of a 5,000-object cluster). Reference counting still
    frees everything; the collector runs again as soon as the block ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# -- reading a live cluster ---------------------------------------------------------------------
class ApiError(Exception):
    """A request failed; `status` is the HTTP status (None for network errors)."""

    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class Listing:
    """What listing the cluster gave: objects by resource, and what could not be read."""

    items: dict[Resource, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    failed: list[tuple[Resource, str]] = field(default_factory=list)
    absent: list[Resource] = field(default_factory=list)


class ClusterReader:
    """Discovery and paginated lists through the official client, with bounded retries."""

    def __init__(self, config: KubernetesSource, client_config: Any) -> None:
        from kubernetes import client

        self.config = config
        self.host = str(client_config.host).rstrip("/")
        # The client's own annotations are partial: its objects are handled as Any.
        self.api: Any = client.ApiClient(client_config)
        self.custom: Any = client.CustomObjectsApi(self.api)
        self.apis: Any = client.ApisApi(self.api)
        self.requests = 0
        self.lock = threading.Lock()
        self.timeout = float(config.timeout_seconds)

    def close(self) -> None:
        self.api.close()

    # -- one request, retried ---------------------------------------------------------------
    def call(self, what: str, request: Callable[[], Any]) -> Any:
        """The JSON document a request answers; ApiError with a one-line reason otherwise."""
        attempt = 0
        while True:
            with self.lock:
                self.requests += 1
            try:
                response = request()
                return json.loads(response.data)
            except Exception as exc:  # the client raises urllib3 and ApiException errors
                error = self.describe(exc, what)
                wait = self.retry_wait(exc, error, attempt)
                if wait is None:
                    raise error from exc
                time.sleep(wait)
                attempt += 1

    def retry_wait(self, exc: Exception, error: ApiError, attempt: int) -> float | None:
        if attempt >= self.config.max_retries:
            return None
        if error.status is not None and error.status not in RETRY_STATUSES:
            return None
        headers = getattr(exc, "headers", None) or {}
        retry_after = str(headers.get("Retry-After") or "") if hasattr(headers, "get") else ""
        if retry_after.isdigit():
            return min(float(retry_after), MAX_RETRY_AFTER_SECONDS)
        return float(BACKOFF_SECONDS * 2**attempt)

    def describe(self, exc: Exception, what: str) -> ApiError:
        from kubernetes.client.exceptions import ApiException

        if isinstance(exc, ApiException):
            status = int(exc.status or 0)
            message = ""
            try:
                message = as_str(as_dict(json.loads(exc.body or "{}")).get("message"))
            except (ValueError, TypeError):
                message = ""
            reason = as_str(exc.reason) or "error"
            if status == 401:
                return ApiError(status, f"{self.host} refused the credentials (HTTP 401 "
                                        "Unauthorized): check the kubeconfig user or service account")
            detail = f": {first_line(message)}" if message else ""
            return ApiError(status, f"HTTP {status} {reason} {what}{detail}")
        if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
            return ApiError(None, f"{self.host} answered {what} with something that is not JSON: "
                                  "not a Kubernetes API server")
        text = f"{type(exc).__name__}: {exc}"
        lower = text.lower()
        if "refused" in lower:
            return ApiError(None, f"cannot connect to {self.host}: connection refused")
        if "timed out" in lower or "timeout" in lower:
            return ApiError(None, f"{self.host} did not answer {what} within "
                                  f"{self.config.timeout_seconds} s (timeout)")
        if "ssl" in lower or "certificate" in lower:
            return ApiError(None, f"TLS error talking to {self.host}: {first_line(str(exc), 160)}")
        if "name or service not known" in lower or "resolve" in lower:
            return ApiError(None, f"cannot resolve the API server host of {self.host}")
        return ApiError(None, f"cannot read {what} from {self.host}: {first_line(text, 160)}")

    # -- discovery ----------------------------------------------------------------------------
    def discover(self) -> tuple[dict[str, list[str]], dict[tuple[str, str], dict[str, bool]]]:
        """(API group -> served versions, preferred first; (group, version) -> plural ->
        namespaced, for the versions whose resources the answer already told).

        Asks `/apis` for aggregated discovery (Kubernetes 1.26+), which holds every group's
        resources in one answer; older servers answer with the plain group list, and the
        resources of the groups this collector needs are then asked one group at a time.
        """
        document = self.call("/apis", lambda: self.apis.get_api_versions(
            _preload_content=False, _request_timeout=self.timeout,
            _headers={"Accept": AGGREGATED_DISCOVERY}))
        kind = as_str(as_dict(document).get("kind"))
        if kind == "APIGroupDiscoveryList":
            return self.aggregated(document)
        if kind != "APIGroupList":
            raise ApiError(None, f"{self.host}/apis is not an API group list: "
                                 "not a Kubernetes API server")
        found: dict[str, list[str]] = {}
        for group in as_list(document.get("groups")):
            group = as_dict(group)
            preferred = as_str(dig(group, "preferredVersion", "version"))
            versions = [as_str(as_dict(v).get("version")) for v in as_list(group.get("versions"))]
            found[as_str(group.get("name"))] = sorted(
                (v for v in versions if v), key=lambda v: v != preferred)
        return found, {}

    def aggregated(self, document: dict[Any, Any]
                   ) -> tuple[dict[str, list[str]], dict[tuple[str, str], dict[str, bool]]]:
        groups: dict[str, list[str]] = {}
        resources: dict[tuple[str, str], dict[str, bool]] = {}
        for group in as_list(document.get("items")):
            group = as_dict(group)
            name = as_str(dig(group, "metadata", "name"))
            versions = groups.setdefault(name, [])
            for entry in as_list(group.get("versions")):  # preferred version first
                entry = as_dict(entry)
                version = as_str(entry.get("version"))
                if not version:
                    continue
                versions.append(version)
                if as_str(entry.get("freshness")) == "Stale":
                    continue  # an aggregated API that did not answer: ask it directly
                resources[(name, version)] = {
                    as_str(r.get("resource")): as_str(r.get("scope")) != "Cluster"
                    for r in (as_dict(r) for r in as_list(entry.get("resources")))
                    if as_str(r.get("resource"))
                }
        return groups, resources

    def resources(self, group: str, version: str) -> dict[str, bool]:
        """Plural -> namespaced, of the resources `/apis/<group>/<version>` serves."""
        document = self.call(f"/apis/{group}/{version}", lambda: self.custom.get_api_resources(
            group, version, _preload_content=False, _request_timeout=self.timeout))
        found = {}
        for item in as_list(as_dict(document).get("resources")):
            item = as_dict(item)
            name = as_str(item.get("name"))
            if name and "/" not in name:
                found[name] = item.get("namespaced") is not False
        return found

    # -- lists ---------------------------------------------------------------------------------
    def list_all(self, resource: Resource, version: str, namespace: str | None
                 ) -> list[dict[str, Any]]:
        """Every item of one kind (in one namespace, or all), page by page."""
        where = f"in namespace {namespace}" if namespace else "in all namespaces"
        what = f"listing {resource.label} {where}" if resource.namespaced else (
            f"listing {resource.label}")
        items: list[dict[str, Any]] = []
        token: str | None = None
        restarted = False
        while True:
            def request(token: str | None = token) -> Any:
                return self._page(resource, version, namespace, token)

            try:
                page = self.call(what, request)
            except ApiError as error:
                if error.status == 410 and token and not restarted:
                    # the continue token expired during a long listing: start once more
                    items, token, restarted = [], None, True
                    continue
                raise
            items.extend(i for i in as_list(as_dict(page).get("items")) if isinstance(i, dict))
            token = as_str(dig(page, "metadata", "continue")) or None
            if token is None:
                return items

    def _page(self, resource: Resource, version: str, namespace: str | None,
              token: str | None) -> Any:
        # The generic API requests the same paths as the typed ones (`/apis/apps/v1/
        # deployments`, ...) without importing the client's thousands of typed models.
        options: dict[str, Any] = {"limit": self.config.page_size, "_continue": token,
                                   "_preload_content": False, "_request_timeout": self.timeout}
        if namespace:
            return self.custom.list_namespaced_custom_object(
                resource.group, version, namespace, resource.plural, **options)
        return self.custom.list_cluster_custom_object(resource.group, version, resource.plural,
                                                      **options)

    def read(self) -> tuple[Listing, dict[Resource, str]]:
        """Discovery, then every installed resource; (listing, resource -> version used).

        Kinds are listed `concurrency` at a time (each kind's pages in order): against a
        remote API server most of a listing is waiting for answers.
        """
        listing = Listing()
        versions_used: dict[Resource, str] = {}
        groups, known = self.discover()
        discovered: dict[tuple[str, str], dict[str, bool] | ApiError] = dict(known)
        for resource in RESOURCES:
            offered = groups.get(resource.group)
            if not offered:
                listing.absent.append(resource)
                continue
            chosen: str | None = None
            problem: ApiError | None = None
            for version in [v for v in resource.versions if v in offered]:
                key = (resource.group, version)
                if key not in discovered:
                    try:
                        discovered[key] = self.resources(*key)
                    except ApiError as error:
                        discovered[key] = error
                found = discovered[key]
                if isinstance(found, ApiError):
                    problem = problem or found
                elif resource.plural in found:
                    chosen = version
                    break
            if chosen is not None:
                versions_used[resource] = chosen
            elif problem is not None:
                listing.failed.append((resource, problem.reason))
            else:
                listing.absent.append(resource)
        with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
            futures = {resource: pool.submit(self.list_resource, resource, version)
                       for resource, version in versions_used.items()}
        for resource, future in futures.items():  # in RESOURCES order: deterministic
            try:
                listing.items[resource] = future.result()
            except ApiError as error:
                listing.failed.append((resource, error.reason))
        return listing, versions_used

    def list_resource(self, resource: Resource, version: str) -> list[tuple[str, dict[str, Any]]]:
        api_version = f"{resource.group}/{version}"
        namespaces: list[str | None] = (
            list(self.config.namespaces) if self.config.namespaces and resource.namespaced else [None])
        found: list[tuple[str, dict[str, Any]]] = []
        for namespace in namespaces:
            for item in self.list_all(resource, version, namespace):
                # built-in lists leave `kind` / `apiVersion` out of their items
                item["kind"] = resource.kind
                item["apiVersion"] = api_version
                found.append((version, item))
        return found


def client_configuration(config: KubernetesSource) -> Any:
    """The client's Configuration from the kubeconfig, the context, or the pod's account."""
    try:
        from kubernetes import client
        from kubernetes import config as kube_config_module
    except ImportError as exc:
        raise SourceError(INSTALL_HINT) from exc
    kube_config: Any = kube_config_module
    configuration = client.Configuration()
    try:
        if config.kubeconfig is None and not config.context and os.environ.get(
            "KUBERNETES_SERVICE_HOST"
        ):
            kube_config.load_incluster_config(client_configuration=configuration)
        else:
            path = str(config.kubeconfig) if config.kubeconfig else None
            if config.kubeconfig is not None and not config.kubeconfig.is_file():
                raise SourceError(f"{config.kubeconfig}: no such kubeconfig file")
            kube_config.load_kube_config(config_file=path, context=config.context,
                                         client_configuration=configuration,
                                         persist_config=False)
    except SourceError:
        raise
    except Exception as exc:  # ConfigException, a malformed file, a missing context...
        where = f"kubeconfig {config.kubeconfig}" if config.kubeconfig else "the kubeconfig"
        raise SourceError(f"cannot load {where}: {first_line(str(exc), 200)}") from exc
    configuration.retries = 0  # this collector retries itself, with backoff
    return configuration


def loaded_credentials(configuration: Any) -> list[str]:
    """The secrets the client loaded (from a kubeconfig, an exec or auth-provider plugin, or
    the pod's account), in every form an answer could echo them: a token (without its
    `Bearer` prefix), a basic-auth password and its base64 pair, a client key as PEM and as
    the base64 of `client-key-data`."""
    found: list[str] = []
    for value in dict(getattr(configuration, "api_key", None) or {}).values():
        header = str(value or "").strip()
        scheme, _, credential = header.partition(" ")
        found.append(credential.strip() or header)
        if scheme.lower() == "basic" and credential:
            with contextlib.suppress(binascii.Error, ValueError):
                found.extend(base64.b64decode(credential.strip()).decode().split(":", 1)[1:])
    user, password = getattr(configuration, "username", None), getattr(configuration, "password", None)
    if password:
        found += [str(password), basic_credentials(str(user or ""), str(password))]
    key_file = getattr(configuration, "key_file", None)
    if key_file:
        with contextlib.suppress(OSError):
            key = Path(key_file).read_bytes()
            found += [key.decode(errors="replace").strip(), base64.b64encode(key).decode()]
            # an echo may reflow a PEM: its base64 lines one by one
            found += [line for line in key.decode(errors="replace").splitlines()
                      if len(line) >= 16 and not line.startswith("-----")]
    return [value for value in found if len(value) >= 4]


# -- reading manifests ------------------------------------------------------------------------------
def manifest_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in MANIFEST_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def manifest_documents(text: str, suffix: str, warn: Callable[[int, str], None]) -> list[Any]:
    """Documents of a manifest file: JSON, YAML (with lines when small), Helm templates."""
    if suffix == ".json" or text.lstrip().startswith(("{", "[")):
        try:
            document = json.loads(text)
            return document if isinstance(document, list) else [document]
        except ValueError:
            if suffix == ".json":
                warn(0, "invalid JSON, ignored")
                return []
    if len(text) > yamlio.MAX_YAML_BYTES:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        try:
            return [d for d in yaml.load_all(text, Loader=loader) if d is not None]
        except yaml.YAMLError as exc:
            warn(0, f"invalid YAML, ignored: {first_line(str(exc), 160)}")
            return []
    try:
        return yamlio.load_all(text)
    except yamlio.YamlError as exc:
        if "{{" in text:
            try:
                return yamlio.load_all(blank_template_actions(text))
            except yamlio.YamlError:
                pass
        warn(exc.line, f"invalid YAML, ignored: {exc.message}")
        return []


# -- workflow and job runs -----------------------------------------------------------------------------
@dataclass
class RunStats:
    """Runs of one schedule, template or sensor: when they started, finished, how."""

    runs: dict[str, tuple[datetime | None, datetime | None, str]] = field(default_factory=dict)

    def add(self, name: str, started: datetime | None, finished: datetime | None,
            phase: str) -> None:
        self.runs.setdefault(name, (started, finished, phase))

    def last_started(self) -> datetime | None:
        return _latest(*(s or f for s, f, _ in self.runs.values()))

    def last_success(self) -> datetime | None:
        return _latest(*(f or s for s, f, p in self.runs.values() if p == SUCCEEDED))

    def last_phase(self) -> str:
        dated = [(s or f, p) for s, f, p in self.runs.values() if s or f]
        return max(dated, key=lambda item: item[0])[1] if dated else ""  # type: ignore[arg-type,return-value]

    def counts(self, since: datetime) -> tuple[int, int]:
        """(runs, successful runs) that started within the window."""
        recent = [p for s, f, p in self.runs.values() if (s or f) and (s or f) >= since]  # type: ignore[operator]
        return len(recent), sum(1 for p in recent if p == SUCCEEDED)


RunKey = tuple[str, str, str]  # (origin kind, namespace, origin name)


def workflow_origin(body: dict[str, Any]) -> RunKey | None:
    """What a Workflow run is a run of: a CronWorkflow, template, KFP schedule or sensor."""
    metadata = as_dict(body.get("metadata"))
    labels = as_dict(metadata.get("labels"))
    namespace = as_str(metadata.get("namespace"))
    for label, kind in ((CRON_WORKFLOW_LABEL, "CronWorkflow"), (KFP_SCHEDULE_LABEL, "ScheduledWorkflow"),
                        (SENSOR_LABEL, "Sensor"), (TEMPLATE_LABEL, "WorkflowTemplate")):
        if as_str(labels.get(label)):
            return kind, namespace, as_str(labels[label])
    if as_str(labels.get(CLUSTER_TEMPLATE_LABEL)):
        return "ClusterWorkflowTemplate", "", as_str(labels[CLUSTER_TEMPLATE_LABEL])
    ref = as_dict(dig(body, "spec", "workflowTemplateRef"))
    if as_str(ref.get("name")):
        if ref.get("clusterScope") is True:
            return "ClusterWorkflowTemplate", "", as_str(ref["name"])
        return "WorkflowTemplate", namespace, as_str(ref["name"])
    return None


def workflow_stem(body: dict[str, Any]) -> str:
    """The name a group of ad-hoc runs shares: `generateName` without its dash, else the name."""
    metadata = as_dict(body.get("metadata"))
    return as_str(metadata.get("generateName")).rstrip("-") or as_str(metadata.get("name"))


def job_phase(body: dict[str, Any]) -> tuple[str, datetime | None]:
    """(Succeeded | Failed | Running, when it finished) of a Job."""
    status = as_dict(body.get("status"))
    for item in as_list(status.get("conditions")):
        item = as_dict(item)
        if as_str(item.get("status")).lower() != "true":
            continue
        if item.get("type") in ("Complete", "SuccessCriteriaMet"):
            return SUCCEEDED, parse_time(status.get("completionTime")) or parse_time(
                item.get("lastTransitionTime"))
        if item.get("type") == "Failed":
            return "Failed", parse_time(item.get("lastTransitionTime"))
    return "Running", None


# -- strength from what a live cluster shows ------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """What the live cluster adds to a finding: its strength, when, and why."""

    strength: Strength
    occurred_at: datetime | None
    note: str
    attributes: dict[str, JsonValue] = field(default_factory=dict)


DECLARED = Verdict(Strength.declared, None, "")


class Judge:
    """Strength of findings about live objects, within the lookback window."""

    def __init__(self, now: datetime, lookback_days: int, runs: dict[RunKey, RunStats]) -> None:
        self.now = now
        self.since = now - timedelta(days=lookback_days)
        self.lookback_days = lookback_days
        self.runs = runs

    def recent(self, moment: datetime | None) -> bool:
        return moment is not None and moment >= self.since

    def verdict(self, signal: str, obj: KubeObject, run_key: RunKey | None) -> Verdict:
        if signal == DELIVERY:
            return self.delivery(obj)
        if signal == AUTOSCALING and obj.kind in ("HorizontalPodAutoscaler", "ScaledObject"):
            return self.scaling(obj)
        if signal in SERVING:
            return self.serving(obj)
        if signal == DEPLOYMENT:
            return self.sync(obj)
        if signal in (SCHEDULED, ON_ALERT, PIPELINE, DATA_PREP, VALIDATION):
            return self.ran(obj, run_key)
        return DECLARED

    # -- serving --------------------------------------------------------------------------------
    def serving(self, obj: KubeObject) -> Verdict:
        status = as_dict(obj.body.get("status"))
        ready = condition(obj, "Ready")
        if obj.kind == "SeldonDeployment":
            state = as_str(status.get("state"))
            if state == "Available":
                return Verdict(Strength.active, None, "it is Available", {"state": state})
            return Verdict(Strength.declared, None, f"it is not Available (state {state or 'unknown'})",
                           {"state": state})
        if obj.kind in ("Deployment", "StatefulSet", "Rollout"):
            replicas = status.get("readyReplicas")
            wanted = dig(obj.body, "spec", "replicas")
            if isinstance(replicas, int) and replicas > 0:
                of = f"/{wanted}" if isinstance(wanted, int) else ""
                return Verdict(Strength.active, None, f"{replicas}{of} replicas are ready",
                               {"ready_replicas": replicas})
            return Verdict(Strength.declared, None, "no replica is ready", {"ready_replicas": 0})
        if obj.kind == "RayService" and as_str(status.get("serviceStatus")) == "Running":
            return Verdict(Strength.active, None, "it is Running")
        if ready:
            if _is_true(ready):
                return Verdict(Strength.active, parse_time(ready.get("lastTransitionTime")),
                               "it is Ready", {"ready": True})
            why = as_str(ready.get("reason"))
            return Verdict(Strength.declared, None,
                           f"it is not Ready{f' ({why})' if why else ''}", {"ready": False})
        return DECLARED

    def scaling(self, obj: KubeObject) -> Verdict:
        if obj.kind == "ScaledObject":
            ready = condition(obj, "Ready")
            return (Verdict(Strength.active, None, "KEDA reports it Ready") if _is_true(ready)
                    else DECLARED)
        active = condition(obj, "ScalingActive")
        current = dig(obj.body, "status", "currentReplicas")
        if _is_true(active):
            return Verdict(Strength.active, parse_time(dig(obj.body, "status", "lastScaleTime")),
                           f"it is scaling on its metrics ({current} replicas now)",
                           {"current_replicas": current})
        why = as_str(active.get("reason"))
        return Verdict(Strength.declared, None,
                       f"it is not scaling{f' ({why})' if why else ''}" if active else "")

    def delivery(self, obj: KubeObject) -> Verdict:
        status = as_dict(obj.body.get("status"))
        if obj.kind == "Canary":
            phase = as_str(status.get("phase"))
            when = parse_time(status.get("lastTransitionTime"))
            attrs: dict[str, JsonValue] = {"phase": phase}
            if phase == SUCCEEDED and self.recent(when):
                assert when is not None
                return Verdict(Strength.verified, when,
                               f"its last canary analysis succeeded on {_day(when)}", attrs)
            if phase in FLAGGER_LIVE_PHASES:
                return Verdict(Strength.active, when, f"Flagger reports it {phase}", attrs)
            return Verdict(Strength.declared, None,
                           f"Flagger reports it {phase}" if phase else "", attrs)
        if obj.kind == "Rollout":
            phase = as_str(status.get("phase"))
            completed = condition(obj, "Completed")
            when = parse_time(completed.get("lastTransitionTime"))
            if phase == "Healthy" and _is_true(completed) and self.recent(when):
                assert when is not None
                return Verdict(Strength.verified, when,
                               f"its last rollout completed on {_day(when)}", {"phase": phase})
            if phase in ("Healthy", "Progressing", "Paused"):
                return Verdict(Strength.active, None, f"the rollout is {phase}", {"phase": phase})
            return Verdict(Strength.declared, None, f"the rollout is {phase}" if phase else "")
        if obj.kind == "InferenceService":
            traffic = [as_dict(t) for t in as_list(dig(status, "components", "predictor", "traffic"))]
            split = {as_str(t.get("revisionName")) or as_str(t.get("tag")): t.get("percent")
                     for t in traffic if isinstance(t.get("percent"), int) and t["percent"] > 0}
            if len(split) > 1:
                shown = ", ".join(f"{p}% to {r}" for r, p in split.items())
                return Verdict(Strength.active, None, f"traffic is split live ({shown})",
                               {"traffic": split})
        return self.serving(obj)

    # -- runs --------------------------------------------------------------------------------------
    def ran(self, obj: KubeObject, key: RunKey | None) -> Verdict:
        stats = self.runs.get(key) if key else None
        stats = stats or RunStats()
        scheduled = self.scheduled_at(obj)
        success = stats.last_success()
        if obj.kind == "CronJob":
            success = _latest(success, parse_time(dig(obj.body, "status", "lastSuccessfulTime")))
        started = _latest(stats.last_started(), scheduled)
        runs, succeeded = stats.counts(self.since)
        attrs: dict[str, JsonValue] = {}
        if started:
            attrs["last_run"] = started.isoformat()
        if success:
            attrs["last_success"] = success.isoformat()
        if stats.runs:
            attrs.update(runs_in_lookback=runs, successful_runs_in_lookback=succeeded)
        phase = stats.last_phase()
        if phase:
            attrs["last_run_phase"] = phase
        if self.recent(success):
            assert success is not None
            return Verdict(Strength.verified, success, f"a run succeeded on {_day(success)}", attrs)
        if self.recent(started):
            assert started is not None
            how = f" ({phase})" if phase else ""
            return Verdict(Strength.active, started,
                           f"it last ran on {_day(started)}{how}, with no success in the last "
                           f"{self.lookback_days} days", attrs)
        if obj.kind == "Sensor" and _is_true(condition(obj, "Deployed")):
            return Verdict(Strength.active, None, "the sensor is deployed and listening", attrs)
        return Verdict(Strength.declared, None,
                       f"it has not run in the last {self.lookback_days} days", attrs)

    @staticmethod
    def scheduled_at(obj: KubeObject) -> datetime | None:
        status = as_dict(obj.body.get("status"))
        if obj.kind == "CronJob":
            return parse_time(status.get("lastScheduleTime"))
        if obj.kind == "CronWorkflow":
            return parse_time(status.get("lastScheduledTime"))
        if obj.kind == "ScheduledWorkflow":
            return parse_time(dig(status, "trigger", "lastTriggeredTime"))
        return None

    # -- GitOps --------------------------------------------------------------------------------------
    def sync(self, obj: KubeObject) -> Verdict:
        status = as_dict(obj.body.get("status"))
        operation = as_dict(status.get("operationState"))
        finished = parse_time(operation.get("finishedAt"))
        phase = as_str(operation.get("phase"))
        synced = as_str(dig(status, "sync", "status"))
        health = as_str(dig(status, "health", "status"))
        attrs: dict[str, JsonValue] = {"sync_status": synced, "health": health}
        if phase == SUCCEEDED and self.recent(finished):
            assert finished is not None
            return Verdict(Strength.verified, finished,
                           f"Argo CD last synced it successfully on {_day(finished)}", attrs)
        if synced == "Synced" and health == "Healthy":
            return Verdict(Strength.active, finished, "it is Synced and Healthy", attrs)
        if synced or health:
            return Verdict(Strength.declared, None, f"it is {synced or '?'} / {health or '?'}", attrs)
        return DECLARED


# -- judging objects with the repository detectors ---------------------------------------------------
@dataclass(frozen=True)
class Placed:
    """An object judged, with where its evidence points."""

    obj: KubeObject
    subject: str
    locator: str
    shown: str  # replaces the object's internal path in summaries
    file: str | None = None  # manifests: the file, relative to the manifests root
    run_key: RunKey | None = None


def judged_findings(objects: list[KubeObject], label: str) -> list[Finding]:
    """Findings of every detector that judges Kubernetes objects, plus alert rules and
    Argo CD Applications, over a context that holds only these objects."""
    ctx = RepoContext(EmptyTree(label))
    use_kube_objects(ctx, objects)
    detectors = [d for d in all_detectors() if d.signals & DETECTED_SIGNALS]
    findings = [f for f in run_detectors(ctx, detectors) if f.signal in DETECTED_SIGNALS]
    for obj in objects:
        if obj.kind == "PrometheusRule" and obj.group == "monitoring.coreos.com":
            findings.extend(alert_rule_findings(obj))
    served = {(s.obj.kind, s.obj.namespace, s.obj.name) for s in served_objects(ctx)}
    for obj in objects:
        if obj.kind == "Application" and obj.group == "argoproj.io":
            found = application_finding(obj, served)
            if found is not None:
                findings.append(found)
    return findings


def prometheus_rules(obj: KubeObject) -> Iterator[AlertRule]:
    """The alerting rules of a PrometheusRule object."""
    owner = obj.attributes()
    for group in as_list(obj.spec.get("groups")):
        group = as_dict(group)
        for rule in as_list(group.get("rules")):
            rule = as_dict(rule)
            if not as_str(rule.get("alert")) or "expr" not in rule:
                continue
            yield AlertRule(
                path=obj.path,
                line=line_in(rule, "alert", default=obj.line),
                name=as_str(rule.get("alert")),
                expr=" ".join(as_str(rule.get("expr")).split()),
                labels={str(k): as_str(v) for k, v in as_dict(rule.get("labels")).items()},
                annotations={str(k): as_str(v) for k, v in as_dict(rule.get("annotations")).items()},
                group=as_str(group.get("name")),
                owner=owner,
            )


def alert_rule_findings(obj: KubeObject) -> Iterator[Finding]:
    """Drift and model alerts of a PrometheusRule, classified like rule files in a repository."""
    for rule in prometheus_rules(obj):
        category = rule.category  # monitoring.classify_alert_rule
        if category not in ("drift", "model_quality", "serving_health"):
            continue
        shown = rule.expr if len(rule.expr) <= 80 else rule.expr[:77] + "..."
        attributes: dict[str, JsonValue] = {**rule.owner, "alert": rule.name, "expr": rule.expr[:500]}
        if rule.group:
            attributes["group"] = rule.group
        if model := model_label(rule.expr, rule.labels):
            attributes["model"] = model
        if category == "drift":
            yield Finding(DRIFT_RULE, obj.path, rule.line,
                          f"alert `{rule.name}` in {obj.path} fires on drift ({shown})", attributes)
        else:
            what = "model quality" if category == "model_quality" else "model serving health"
            yield Finding(MODEL_RULE, obj.path, rule.line,
                          f"alert `{rule.name}` in {obj.path} watches {what} ({shown})",
                          {**attributes, "category": category})


def application_finding(app: KubeObject, served: set[tuple[str, str, str]]) -> Finding | None:
    """An Argo CD Application that syncs model serving automatically (GitOps delivery)."""
    spec = app.spec
    automated = dig(spec, "syncPolicy", "automated")
    if not isinstance(automated, dict):
        return None  # a person presses sync: not automated deployment
    sources = [as_dict(spec.get("source"))] + [as_dict(s) for s in as_list(spec.get("sources"))]
    sources = [s for s in sources if s]
    deployed = []
    for resource in as_list(dig(app.body, "status", "resources")):
        resource = as_dict(resource)
        key = (as_str(resource.get("kind")), as_str(resource.get("namespace")),
               as_str(resource.get("name")))
        if key[0] in SERVED_KINDS or key in served:
            deployed.append(f"{key[0]} `{key[2]}`")
    described = [as_str(s.get("path")) or as_str(s.get("chart")) for s in sources]
    if not deployed and (dig(app.body, "status", "resources") is not None
                         or not mentions_model(app.name, *described)):
        return None
    repos = [as_str(s.get("repoURL")) for s in sources if as_str(s.get("repoURL"))]
    what = ", ".join(deployed[:4]) if deployed else "model serving"
    origin = f" from {repos[0]}" + (f" ({described[0]})" if described and described[0] else "") \
        if repos else ""
    attributes: dict[str, JsonValue] = {
        **app.attributes(), "system": "argocd", "automated": True,
        "prune": as_dict(automated).get("prune") is True,
        "self_heal": as_dict(automated).get("selfHeal") is True,
        "deploys": deployed[:20], "repos": repos,
    }
    return Finding(DEPLOYMENT, app.path, app.line_of("spec", "syncPolicy"),
                   f"Argo CD Application `{app.name}` in {app.path} deploys {what}{origin} "
                   "with automated sync", attributes)


# -- the collector ---------------------------------------------------------------------------------
class KubernetesCollector(Collector):
    """A live cluster or a directory of manifests, judged by the repository detectors."""

    type = "kubernetes"
    config_model = KubernetesSource
    # Namespaces are partitioned. Every shard reads and judges the whole cluster (objects
    # refer to each other across namespaces) and emits the evidence of the namespaces it
    # owns; cluster-scoped objects go with the source.
    shardable = True

    def __init__(self, config: KubernetesSource, ctx: CollectContext) -> None:
        super().__init__(config, ctx)
        self.config: KubernetesSource = config

    @classmethod
    def signals(cls) -> frozenset[str]:
        return SIGNALS

    def collect(self) -> Iterator[Evidence]:
        with cyclic_gc_paused():
            evidence = self.read_and_judge()
        yield from evidence

    def read_and_judge(self) -> list[Evidence]:
        if self.config.manifests is not None:
            placed = self.manifest_objects(self.config.manifests)
            judge = None
        else:
            placed, runs = self.cluster_objects()
            judge = Judge(self.ctx.now, self.config.lookback_days, runs)
        by_path = {p.obj.path: p for p in placed}
        findings = [f for f in judged_findings([p.obj for p in placed], self.config.name)
                    if f.path in by_path]
        # what one detector found an object serves, for the findings of the others
        models: dict[str, str] = {}
        for finding in findings:
            if isinstance(found := finding.attributes.get("model"), str) and found:
                models.setdefault(finding.path, found)
        evidence = []
        for finding in findings:
            where = by_path[finding.path]
            if not self.owns_namespace(where.obj.namespace):
                continue
            verdict = DECLARED if judge is None else judge.verdict(finding.signal, where.obj,
                                                                   where.run_key)
            evidence.append(self.to_evidence(finding, where, verdict, models.get(finding.path)))
        return evidence

    # -- sources of objects ----------------------------------------------------------------------
    def manifest_objects(self, root: Path) -> list[Placed]:
        if not root.exists():
            raise SourceError(f"{root}: no such file or directory")
        placed: list[Placed] = []
        for file in manifest_files(root):
            relative = file.name if root.is_file() else file.relative_to(root).as_posix()

            def warn(line: int, message: str, relative: str = relative) -> None:
                where = f"{relative}:{line}" if line else relative
                self.status.warnings.append(f"{where}: {message}")

            try:
                if file.stat().st_size > MAX_MANIFEST_BYTES:
                    warn(0, f"larger than {MAX_MANIFEST_BYTES // 1_000_000} MB, not read")
                    continue
                text = file.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                warn(0, f"cannot read: {exc.strerror or type(exc).__name__}")
                continue
            for doc in manifest_documents(text, file.suffix.lower(), warn):
                for obj in objects_in_document(relative, doc):
                    placed.append(self.place_manifest(obj, relative, len(placed)))
        return placed

    def place_manifest(self, obj: KubeObject, relative: str, index: int) -> Placed:
        internal = KubeObject(path=f"{relative}#{index}", kind=obj.kind,
                              api_version=obj.api_version, name=obj.name,
                              namespace=obj.namespace, body=obj.body)
        line = obj.line
        return Placed(internal, self.subject(obj.namespace, obj.kind, obj.name),
                      f"{relative}:{line}", relative, file=relative)

    def cluster_objects(self) -> tuple[list[Placed], dict[RunKey, RunStats]]:
        configuration = client_configuration(self.config)
        self.ctx.add_secrets(loaded_credentials(configuration))  # before the first request
        reader = ClusterReader(self.config, configuration)
        try:
            listing, versions = reader.read()
        except ApiError as error:
            raise SourceError(error.reason) from error
        finally:
            self.status.requests += reader.requests
            reader.close()
            self.ctx.add_secrets(loaded_credentials(configuration))  # tokens refreshed meanwhile
        for resource, reason in listing.failed:
            self.partial(reason, list(resource.signals))
        runs = self.index_runs(listing)
        placed: list[Placed] = []
        for resource, items in listing.items.items():
            if resource.kind in ("Job", "Workflow"):
                continue  # runs: they prove their origin ran (index_runs)
            for version, body in items:
                if resource.kind in OWNED_WORKLOADS and self.controlled(body):
                    continue
                placed.append(self.place_live(resource, version, body, reader.host))
        placed.extend(self.ad_hoc_workflows(listing, versions, reader.host, runs))
        return placed, runs

    @staticmethod
    def controlled(body: dict[str, Any]) -> bool:
        owners = as_list(dig(body, "metadata", "ownerReferences"))
        return any(as_dict(o).get("controller") is True for o in owners)

    def index_runs(self, listing: Listing) -> dict[RunKey, RunStats]:
        """Runs of Jobs and Workflows, by what they are runs of."""
        runs: dict[RunKey, RunStats] = {}
        for resource, items in listing.items.items():
            for _, body in items:
                metadata = as_dict(body.get("metadata"))
                name, namespace = as_str(metadata.get("name")), as_str(metadata.get("namespace"))
                if resource.kind == "Job":
                    owner = next((as_dict(o) for o in as_list(metadata.get("ownerReferences"))
                                  if as_dict(o).get("kind") == "CronJob"), None)
                    if owner is None:
                        continue
                    phase, finished = job_phase(body)
                    runs.setdefault(("CronJob", namespace, as_str(owner.get("name"))), RunStats()).add(
                        name, parse_time(dig(body, "status", "startTime")), finished, phase)
                elif resource.kind == "Workflow":
                    origin = workflow_origin(body) or ("Workflow", namespace, workflow_stem(body))
                    status = as_dict(body.get("status"))
                    runs.setdefault(origin, RunStats()).add(
                        name, parse_time(status.get("startedAt")) or parse_time(
                            metadata.get("creationTimestamp")),
                        parse_time(status.get("finishedAt")), as_str(status.get("phase")))
                elif resource.kind == "ScheduledWorkflow":
                    history = as_list(dig(body, "status", "workflowHistory", "completed"))
                    for run in (as_dict(r) for r in history):
                        runs.setdefault(("ScheduledWorkflow", namespace, name), RunStats()).add(
                            as_str(run.get("name")),
                            parse_time(run.get("startedAt")) or parse_time(run.get("scheduledAt")),
                            parse_time(run.get("finishedAt")), as_str(run.get("phase")))
        return runs

    def ad_hoc_workflows(self, listing: Listing, versions: dict[Resource, str], host: str,
                         runs: dict[RunKey, RunStats]) -> list[Placed]:
        """One object per group of Workflow runs that no schedule, template or sensor owns:
        the newest run, named after the group, so its evidence stays the same across runs."""
        newest: dict[RunKey, tuple[str, dict[str, Any]]] = {}
        for resource, items in listing.items.items():
            if resource.kind != "Workflow":
                continue
            for version, body in items:
                if workflow_origin(body) is not None:
                    continue
                namespace = as_str(dig(body, "metadata", "namespace"))
                key = ("Workflow", namespace, workflow_stem(body))
                created = as_str(dig(body, "metadata", "creationTimestamp"))
                if key not in newest or created > as_str(
                        dig(newest[key][1], "metadata", "creationTimestamp")):
                    newest[key] = (version, body)
        placed = []
        for key, (version, body) in sorted(newest.items()):
            workflow = next(r for r in RESOURCES if r.kind == "Workflow")
            run_name = as_str(dig(body, "metadata", "name"))
            group = self.place_live(workflow, version, body, host, name=key[2])
            placed.append(Placed(group.obj, group.subject,
                                 self.api_url(host, workflow, version, key[1], run_name),
                                 group.shown, run_key=key))
        return placed

    def place_live(self, resource: Resource, version: str, body: dict[str, Any], host: str,
                   name: str | None = None) -> Placed:
        metadata = as_dict(body.get("metadata"))
        namespace = as_str(metadata.get("namespace"))
        name = name or as_str(metadata.get("name"))
        path = f"{namespace}/{resource.kind}/{name}" if namespace else f"{resource.kind}/{name}"
        obj = KubeObject(path=path, kind=resource.kind,
                         api_version=f"{resource.group}/{version}", name=name,
                         namespace=namespace, body=body)
        shown = f"namespace {namespace}" if namespace else "the cluster"
        run_key: RunKey | None = None
        if resource.kind in ("CronJob", "CronWorkflow", "ScheduledWorkflow", "Sensor",
                             "WorkflowTemplate", "ClusterWorkflowTemplate"):
            run_key = (resource.kind, namespace, name)
        return Placed(obj, self.subject(namespace, resource.kind, name),
                      self.api_url(host, resource, version, namespace, name), shown,
                      run_key=run_key)

    @staticmethod
    def api_url(host: str, resource: Resource, version: str, namespace: str, name: str) -> str:
        prefix = f"{host}/apis/{resource.group}/{version}"
        if namespace:
            return f"{prefix}/namespaces/{namespace}/{resource.plural}/{name}"
        return f"{prefix}/{resource.plural}/{name}"

    def owns_namespace(self, namespace: str) -> bool:
        if not namespace:
            return self.owns_source()
        return self.ctx.owns(f"k8s:{self.config.name}/{namespace}")

    def subject(self, namespace: str, kind: str, name: str) -> str:
        parts = [self.config.name, namespace, kind, name] if namespace else [
            self.config.name, kind, name]
        return "k8s:" + "/".join(parts)

    # -- evidence ----------------------------------------------------------------------------------
    def to_evidence(self, finding: Finding, where: Placed, verdict: Verdict,
                    detected_model: str | None = None) -> Evidence:
        obj = where.obj
        summary = finding.summary.replace(f" in {obj.path}", f" in {where.shown}").replace(
            obj.path, where.shown)
        if verdict.note:
            summary = f"{summary}; {verdict.note}"
        attributes: dict[str, JsonValue] = {**finding.attributes, **verdict.attributes}
        links: list[str] = []
        model = self.model_of(obj, finding.attributes) or detected_model
        if model:
            attributes["model"] = model
            links.append(f"model:{model}")
        for repo in as_list(attributes.get("repos")):
            if subject := subject_for_remote(as_str(repo)):
                links.append(subject)
        locator = where.locator
        if where.file is not None:  # manifests: point at the finding's own line
            locator = f"{where.file}:{finding.line}" if finding.line else where.file
        return self.evidence(
            signal=finding.signal,
            subject=where.subject,
            locator=locator,
            path=where.file,
            line=finding.line if where.file is not None else None,
            strength=verdict.strength,
            summary=summary,
            occurred_at=verdict.occurred_at,
            attributes=attributes,
            links=links,
        )

    def model_of(self, obj: KubeObject, attributes: dict[str, JsonValue]) -> str | None:
        """The model an object serves or trains: a model label or annotation, a model URI,
        or what the detector found (the InferenceService name, an `app` label...)."""
        for key in self.config.model_keys:
            value = (obj.labels.get(key) or obj.annotations.get(key) or "").strip()
            if value:
                return model_from_uri(value) or (None if "://" in value or ":/" in value else value)
        uri = as_str(attributes.get("storage_uri"))
        if uri and (name := model_from_uri(uri)):
            return name
        found = attributes.get("model")
        return found if isinstance(found, str) and found else None
