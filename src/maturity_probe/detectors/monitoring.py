"""Model monitoring and retraining triggers.

Monitoring: drift computed in code or configured in the cloud, Prometheus alert rules on
drift or on a model's quality and serving health, metrics exported by serving code,
Grafana dashboards of model metrics. Retraining triggers: Kubernetes CronJobs, Argo
CronWorkflows and Kubeflow ScheduledWorkflows that train; Argo Events sensors,
Alertmanager webhooks and EventBridge rules that start a training pipeline.

The alert-rule vocabulary (`DRIFT_WORDS`, `MODEL_SERVER_METRIC_PREFIXES`, ...) and
`classify_alert_rule` are public so that the live Prometheus collector classifies the
rules it reads exactly as this detector classifies rule files.
"""

from __future__ import annotations

import itertools
import json
import posixpath
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from maturity_probe import yamlio
from maturity_probe.detectors import detector
from maturity_probe.detectors.context import Finding, RepoContext, vocabulary
from maturity_probe.detectors.manifests import (
    CLOUDFORMATION_GLOBS,
    TERRAFORM_GLOBS,
    YAML_GLOBS,
    KubeObject,
    TfBlock,
    cloudformation_resources,
    command_tokens,
    containers,
    dig,
    embedded_yaml,
    find_object,
    image_of,
    image_repository,
    kube_objects,
    line_in,
    objects_of_kind,
    pod_labels,
    pod_spec,
    terraform_blocks,
    text_lines,
    walk_dicts,
    yaml_documents,
)
from maturity_probe.detectors.purposes import script_purposes
from maturity_probe.detectors.serving import (
    MODEL_SERVER_IMAGES,
    ServedObject,
    is_test_path,
    resolve_repo_file,
    scoring_scripts,
    served_objects,
)
from maturity_probe.evidence import JsonValue
from maturity_probe.pyfacts import Call, PyFacts, parse_python
from maturity_probe.redact import redact
from maturity_probe.yamlio import as_dict, as_list, as_str

RULE_GLOBS = (*YAML_GLOBS, "**/*.rules")
# Words that make a config file worth parsing (see context.vocabulary).
ALERT_RULE_WORDS = vocabulary("expr")
AZUREML_MONITOR_WORDS = vocabulary("monitoring_signals", "data_drift_signal")
DASHBOARD_FILE_WORDS = vocabulary('"panels"')
ALERTMANAGER_WORDS = vocabulary("receiver")

# -- alert-rule vocabulary (shared with the Prometheus collector) ------------------------------
# Words are matched on the words of alert names, expressions, labels and annotations:
# `HighFeatureDriftPSI` and `feature_drift_psi` both read as feature, drift, psi.
DRIFT_WORDS = ("drift", "drifted", "drifting", "psi", "wasserstein", "divergence", "jensen",
               "kolmogorov", "skewness_drift")  # fmt: skip
DRIFT_PHRASES = (("data", "quality"), ("feature", "distribution"),
                 ("feature", "distributions"), ("population", "stability"),
                 ("distribution", "shift"), ("covariate", "shift"), ("kl", "divergence"))  # fmt: skip
DRIFT_METRIC_PREFIXES = ("evidently_", "nannyml_", "whylogs_", "whylabs_", "alibi_detect_")
# "drift" of clocks or of infrastructure configuration is not data drift.
NOT_DRIFT_WORDS = ("clock", "ntp", "timex", "chrony", "timesync", "config", "configuration",
                   "terraform", "helm", "gitops", "argocd", "infrastructure")  # fmt: skip
MODEL_QUALITY_WORDS = ("accuracy", "auc", "roc", "f1", "precision", "recall", "rmse", "mse",
                       "mae", "mape", "r2", "logloss", "misclassification", "misclassified")  # fmt: skip
MODEL_QUALITY_PHRASES = (("prediction", "error"), ("prediction", "errors"),
                         ("predictions", "error"), ("log", "loss"), ("model", "performance"),
                         ("model", "quality"))  # fmt: skip
MODEL_SERVER_METRIC_PREFIXES = ("seldon_", "kserve_", "revision_", "nv_inference_",
                                "ts_inference_", "ts_queue_latency", ":tensorflow:serving",
                                "tensorflow_serving", "mlserver_", "bentoml_", "vllm:", "tgi_",
                                "ray_serve_", "torchserve_", "model_server_")  # fmt: skip
MODEL_SUBJECT_WORDS = ("model", "models", "prediction", "predictions", "predict", "predictor",
                       "inference", "scoring", "serving")  # fmt: skip
SERVING_HEALTH_WORDS = ("latency", "latencies", "duration", "seconds", "error", "errors", "5xx",
                        "failure", "failures", "failed", "request", "requests", "throughput",
                        "qps", "rps", "availability", "available", "unavailable", "down", "up",
                        "timeout", "timeouts", "queue", "saturation", "slow", "replicas")  # fmt: skip
MODEL_LABELS = ("model", "model_name", "model_version", "inference_service", "isvc",
                "seldon_deployment_id")  # fmt: skip
TRAINING_WORDS = ("train", "training", "trainer", "retrain", "retraining", "finetune",
                  "finetuning")  # fmt: skip
PIPELINE_WORDS = ("pipeline", "pipelines", "dag", "workflow", "workflows", "cronjob", "job")
FRESHNESS_WORDS = ("stale", "staleness", "fresh", "freshness", "last", "age", "old", "since",
                   "late", "overdue", "missed", "missing", "failed", "failure", "failures",
                   "error", "errors", "successful", "success", "time")  # fmt: skip
PIPELINE_METRIC_PREFIXES = ("airflow_", "argo_workflows_", "kube_cronjob_", "kube_job_",
                            "kfp_", "dagster_", "prefect_")  # fmt: skip

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_METRIC_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_MODEL_MATCHER = re.compile(
    r"\b(" + "|".join(MODEL_LABELS) + r')\s*(?:=~|=|!=|!~)\s*"([^"]*)"'
)


def words_of(*texts: str) -> list[str]:
    """Lower-case words of names and expressions, splitting camelCase and snake_case."""
    words: list[str] = []
    for text in texts:
        lower = text.lower()
        spaced = lower if lower == text else _CAMEL.sub(" ", text).lower()  # camelCase needs capitals
        words.extend(filter(None, _NON_WORD.split(spaced)))
    return words


def _has_phrase(words: list[str], phrases: tuple[tuple[str, str], ...]) -> bool:
    pairs = set(itertools.pairwise(words))
    return any(phrase in pairs for phrase in phrases)


def metric_names(expr: str) -> list[str]:
    """Identifiers of a PromQL expression (metric names, functions and label names alike)."""
    return _METRIC_NAME.findall(expr)


def model_label(expr: str, labels: dict[str, str]) -> str | None:
    """The model an alert is about: a model label, or a model matcher in its expression."""
    for key in MODEL_LABELS:
        if labels.get(key):
            return labels[key]
    match = _MODEL_MATCHER.search(expr)
    return match.group(2) if match and match.group(2) else None


# Categories in the order they are decided; user patterns (`extra_patterns`) use these keys.
ALERT_CATEGORIES = ("drift", "model_quality", "pipeline_freshness", "serving_health")


def _extra_category(
    name: str, expr: str, extra_patterns: Mapping[str, Sequence[str]]
) -> str | None:
    """The first category whose user pattern matches the name or a metric of the expression."""
    texts = [name, *metric_names(expr)]
    for category in ALERT_CATEGORIES:
        for pattern in extra_patterns.get(category, ()):
            if any(re.search(pattern, text, re.IGNORECASE) for text in texts):
                return category
    return None


def classify_alert_rule(
    name: str,
    expr: str,
    labels: dict[str, str],
    annotations: dict[str, str],
    extra_patterns: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """What an alert rule watches: drift | model_quality | pipeline_freshness |
    serving_health | other.

    Decided on the words of its name, expression, labels and annotations, and on the
    metric names of its expression (model-server and drift-library prefixes).
    `extra_patterns` (category -> regular expressions a user configured) are tried first,
    case-insensitively, on the name and on the metric names of the expression.
    """
    if extra_patterns and (category := _extra_category(name, expr, extra_patterns)):
        return category
    label_text = " ".join(f"{k} {v}" for k, v in labels.items())
    subject_words = words_of(name, expr, label_text)
    words = subject_words + words_of(" ".join(annotations.values()))
    metrics = [m.lower() for m in metric_names(expr)]
    word_set = set(words)
    if not word_set & set(NOT_DRIFT_WORDS) and (
        word_set & set(DRIFT_WORDS)
        or _has_phrase(words, DRIFT_PHRASES)
        or any(m.startswith(DRIFT_METRIC_PREFIXES) for m in metrics)
    ):
        return "drift"
    if word_set & set(MODEL_QUALITY_WORDS) or _has_phrase(words, MODEL_QUALITY_PHRASES):
        return "model_quality"
    subject = set(subject_words)
    if (subject & set(TRAINING_WORDS) or (subject & {"model", "models"} and subject
                                          & set(PIPELINE_WORDS))) and (
        subject & set(FRESHNESS_WORDS) or any(m.startswith(PIPELINE_METRIC_PREFIXES)
                                              for m in metrics)
    ):  # fmt: skip
        return "pipeline_freshness"
    if any(m.startswith(MODEL_SERVER_METRIC_PREFIXES) for m in metrics):
        return "serving_health"
    if model_label(expr, labels) is not None:
        return "serving_health"
    if subject & set(MODEL_SUBJECT_WORDS) and subject & set(SERVING_HEALTH_WORDS):
        return "serving_health"
    return "other"


# -- alert rules in files -----------------------------------------------------------------------
@dataclass(frozen=True)
class AlertRule:
    path: str
    line: int  # line of `alert:`
    name: str
    expr: str
    labels: dict[str, str]
    annotations: dict[str, str]
    group: str
    owner: dict[str, JsonValue]  # kind / name / namespace of the manifest holding it

    @property
    def category(self) -> str:
        return classify_alert_rule(self.name, self.expr, self.labels, self.annotations)


def alert_rules(ctx: RepoContext) -> list[AlertRule]:
    """Alerting rules of rule files, PrometheusRule manifests, chart values and ConfigMaps."""
    return ctx.derived("monitoring.alert_rules", lambda: list(_find_alert_rules(ctx)))


def _find_alert_rules(ctx: RepoContext) -> Iterator[AlertRule]:
    candidates = ctx.config_mentioning(*ALERT_RULE_WORDS, globs=YAML_GLOBS)
    for path in sorted({*candidates, *ctx.matching("**/*.rules")}):
        text = ctx.text(path)
        if text is None or "alert" not in text or "expr" not in text:
            continue
        for doc in yaml_documents(ctx, path):
            owner = _owner(doc)
            yield from _rules_in(path, doc, owner, offset=0)
            for key_line, inner in _embedded_docs(doc, "groups"):
                yield from _rules_in(path, inner, owner, offset=key_line)


def _owner(doc: Any) -> dict[str, JsonValue]:
    body = as_dict(doc)
    if not body.get("kind") or not body.get("apiVersion"):
        return {}
    owner: dict[str, JsonValue] = {"kind": as_str(body.get("kind"))}
    for key in ("name", "namespace"):
        if value := as_str(dig(body, "metadata", key)):
            owner[key] = value
    return owner


def _embedded_docs(doc: Any, marker: str) -> Iterator[tuple[int, Any]]:
    """YAML held in string values (ConfigMap data, Secret stringData) that has `marker:`."""
    for mapping in walk_dicts(doc, max_depth=6):
        for key, value in mapping.items():
            if isinstance(value, str) and f"{marker}:" in value and "\n" in value:
                key_line = yamlio.line_of(mapping, key)
                for inner in embedded_yaml(value):
                    yield key_line, inner


def _rules_in(path: str, doc: Any, owner: dict[str, JsonValue], offset: int) -> Iterator[AlertRule]:
    for mapping in walk_dicts(doc):
        groups = mapping.get("groups")
        if not isinstance(groups, list):
            continue
        for group in groups:
            group_name = as_str(as_dict(group).get("name"))
            for rule in as_list(as_dict(group).get("rules")):
                rule = as_dict(rule)
                if not rule.get("alert") or "expr" not in rule:
                    continue
                yield AlertRule(
                    path=path,
                    line=offset + line_in(rule, "alert", default=1),
                    name=as_str(rule.get("alert")),
                    expr=" ".join(as_str(rule.get("expr")).split()),
                    labels={str(k): as_str(v) for k, v in as_dict(rule.get("labels")).items()},
                    annotations={
                        str(k): as_str(v) for k, v in as_dict(rule.get("annotations")).items()
                    },
                    group=group_name,
                    owner=owner,
                )


def _rule_attributes(rule: AlertRule) -> dict[str, JsonValue]:
    attributes: dict[str, JsonValue] = {**rule.owner, "alert": rule.name, "expr": rule.expr[:500]}
    if rule.group:
        attributes["group"] = rule.group
    if model := model_label(rule.expr, rule.labels):
        attributes["model"] = model
    return attributes


@detector(signals=["monitor.drift_alert_rule", "monitor.model_alert_rule"], wants=RULE_GLOBS)
def prometheus_alert_rule(ctx: RepoContext) -> Iterator[Finding]:
    """Emits monitor.drift_alert_rule, monitor.model_alert_rule: Prometheus alerting rules.

    Rule files, PrometheusRule manifests, chart values and ConfigMaps holding rules,
    classified by `classify_alert_rule`: drift alerts, and alerts on a model's quality
    or serving health.
    """
    for rule in alert_rules(ctx):
        category = rule.category
        shown = rule.expr if len(rule.expr) <= 80 else rule.expr[:77] + "..."
        if category == "drift":
            yield Finding(
                signal="monitor.drift_alert_rule",
                path=rule.path,
                line=rule.line,
                summary=f"alert `{rule.name}` in {rule.path} fires on drift ({shown})",
                attributes=_rule_attributes(rule),
            )
        elif category in ("model_quality", "serving_health"):
            what = "model quality" if category == "model_quality" else "model serving health"
            yield Finding(
                signal="monitor.model_alert_rule",
                path=rule.path,
                line=rule.line,
                summary=f"alert `{rule.name}` in {rule.path} watches {what} ({shown})",
                attributes={**_rule_attributes(rule), "category": category},
            )


# -- drift detection ------------------------------------------------------------------------------
DRIFT_CODE_WORDS = vocabulary(
    "evidently", "alibi_detect", "whylogs", "nannyml", "deepchecks", "frouros", "model_monitor",
    "create_monitoring_schedule", "quality_check_step", "datadrift", "azure.ai.ml",
    "model_monitoring", "ModelDeploymentMonitoringJob", "ml_monitoring",
)  # fmt: skip
METRICS_CODE_WORDS = vocabulary("prometheus", "bentoml", "mlserver", "metrics")


def _drift_call(facts: PyFacts) -> tuple[str, Call] | None:
    """(library, first call) when the module computes drift with a known library."""
    imports_cloud = facts.imports_any("sagemaker", "boto3") is not None
    checks: list[tuple[str, list[Call]]] = []
    for call in facts.calls:
        name, lower = call.name, call.name.lower()
        library = None
        if name.startswith("evidently.") and "drift" in lower:
            library = "evidently"
        elif name.startswith("alibi_detect.cd.") or (
            name.startswith("alibi_detect.") and "drift" in lower
        ):
            library = "alibi_detect"
        elif name.startswith("whylogs.") and ("constraints" in lower or "drift" in lower):
            library = "whylogs"
        elif name.startswith("nannyml.") and ("drift" in lower or call.attr in ("CBPE", "DLE")):
            library = "nannyml"
        elif name.startswith("deepchecks.") and (
            "drift" in lower or call.attr == "train_test_validation"
        ):
            library = "deepchecks"
        elif name.startswith("frouros.detectors"):
            library = "frouros"
        elif (name.startswith("sagemaker.model_monitor") and call.attr in (
            "DefaultModelMonitor", "ModelQualityMonitor", "ModelMonitor"
        )) or name.startswith("sagemaker.workflow.quality_check_step") or (
            call.attr == "create_monitoring_schedule" and imports_cloud
        ):  # fmt: skip
            library = "sagemaker"
        elif name.startswith("azureml.datadrift") or (
            name.startswith("azure.ai.ml.entities")
            and ("Drift" in call.attr or call.attr in ("MonitorDefinition", "MonitorSchedule",
                                                       "DataQualitySignal"))
        ):  # fmt: skip
            library = "azureml"
        elif name.startswith("google.cloud.aiplatform.model_monitoring") or (
            name.startswith(("google.cloud.aiplatform", "vertexai"))
            and ("ModelDeploymentMonitoringJob" in name or "ml_monitoring" in name)
        ):
            library = "vertex"
        if library is not None:
            checks.append((library, [call]))
    if not checks:
        return None
    library, calls = min(checks, key=lambda item: item[1][0].line)
    return library, calls[0]


@detector(signals=["monitor.drift_detection"], wants=["**/*.py"])
def drift_detection_code(ctx: RepoContext) -> Iterator[Finding]:
    """Emits monitor.drift_detection: code computing drift or setting up model monitoring.

    Evidently drift presets and metrics, alibi-detect drift detectors, whylogs
    constraints, NannyML, deepchecks drift checks, frouros, SageMaker Model Monitor,
    Azure ML data drift monitors, Vertex model monitoring.
    """
    for path, facts in ctx.python_mentioning(*DRIFT_CODE_WORDS):
        if is_test_path(path):
            continue
        found = _drift_call(facts)
        if found is None:
            continue
        library, call = found
        yield Finding(
            signal="monitor.drift_detection",
            path=path,
            line=call.line,
            summary=f"{path} computes drift with {library} (calls {call.name})",
            attributes={"library": library, "call": call.name},
        )


AZUREML_DRIFT_SIGNALS = ("data_drift", "prediction_drift", "data_quality",
                         "feature_attribution_drift")  # fmt: skip
SAGEMAKER_MONITOR_RESOURCES = ("AWS::SageMaker::MonitoringSchedule",
                               "AWS::SageMaker::DataQualityJobDefinition",
                               "AWS::SageMaker::ModelQualityJobDefinition")  # fmt: skip
TF_MONITOR_RESOURCES = ("aws_sagemaker_monitoring_schedule",
                        "aws_sagemaker_data_quality_job_definition")  # fmt: skip


@detector(
    signals=["monitor.drift_detection"], wants=(*CLOUDFORMATION_GLOBS, *TERRAFORM_GLOBS)
)
def drift_monitor_definition(ctx: RepoContext) -> Iterator[Finding]:
    """Emits monitor.drift_detection: drift monitors defined as configuration.

    Azure ML monitor schedules (`monitoring_signals` of type data_drift, prediction_drift,
    data_quality), SageMaker monitoring schedules and data / model quality job
    definitions in CloudFormation or Terraform.
    """
    for path in ctx.config_mentioning(*AZUREML_MONITOR_WORDS, globs=YAML_GLOBS):
        for doc in yaml_documents(ctx, path):
            found = _azureml_monitor(doc)
            if found is not None:
                line, kinds = found
                yield Finding(
                    signal="monitor.drift_detection",
                    path=path,
                    line=line,
                    summary=f"{path} defines an Azure ML model monitor ({', '.join(kinds)})",
                    attributes={"library": "azureml", "signals": kinds},
                )
                break
    for resource in cloudformation_resources(ctx):
        if resource.type in SAGEMAKER_MONITOR_RESOURCES:
            yield Finding(
                signal="monitor.drift_detection",
                path=resource.path,
                line=resource.line,
                summary=(f"{resource.path} defines SageMaker Model Monitor "
                         f"{resource.type.rsplit('::', 1)[-1]} {resource.logical_id}"),
                attributes={"library": "sagemaker", "kind": resource.type},
            )  # fmt: skip
    for block in terraform_blocks(ctx):
        if block.type in TF_MONITOR_RESOURCES:
            yield Finding(
                signal="monitor.drift_detection",
                path=block.path,
                line=block.line,
                summary=f"{block.path} defines SageMaker Model Monitor {block.type}.{block.name}",
                attributes={"library": "sagemaker", "kind": block.type},
            )


def _azureml_monitor(doc: Any) -> tuple[int, list[str]] | None:
    for mapping in walk_dicts(doc, max_depth=8):
        if "data_drift_signal" in mapping:
            return line_in(mapping, "data_drift_signal"), ["data_drift"]
        signals = mapping.get("monitoring_signals")
        if isinstance(signals, dict):
            kinds = sorted({as_str(as_dict(s).get("type")) for s in signals.values()}
                           & set(AZUREML_DRIFT_SIGNALS))  # fmt: skip
            if kinds:
                return line_in(mapping, "monitoring_signals"), kinds
    return None


# -- model metrics ----------------------------------------------------------------------------------
PROMETHEUS_METRIC_TYPES = ("Counter", "Histogram", "Gauge", "Summary", "Info", "Enum")
METRICS_MIDDLEWARE = (
    "prometheus_fastapi_instrumentator.Instrumentator",
    "prometheus_flask_exporter.PrometheusMetrics",
    "starlette_exporter.PrometheusMiddleware",
    "starlette_prometheus.PrometheusMiddleware",
)
MODEL_SERVER_POD_LABELS = ("serving.kserve.io/inferenceservice",
                           "serving.kubeflow.org/inferenceservice", "seldon-deployment-id",
                           "seldon-app", "seldon.io/model", "ray.io/serve")  # fmt: skip


def _metric_calls(facts: PyFacts) -> list[Call]:
    return [
        c for c in facts.calls
        if c.attr in PROMETHEUS_METRIC_TYPES
        and c.name.startswith(("prometheus_client.", "bentoml.metrics."))
    ]  # fmt: skip


@detector(signals=["monitor.model_metrics"], wants=["**/*.py"])
def serving_code_metrics(ctx: RepoContext) -> Iterator[Finding]:
    """Emits monitor.model_metrics: serving code that exports metrics.

    prometheus_client / bentoml.metrics metrics in a scoring script, next to one, or
    named after models and predictions; Prometheus middleware in a scoring app; MLServer
    custom metrics; Seldon model classes with a metrics() method.
    """
    scripts = {s.path: s for s in scoring_scripts(ctx)}
    script_dirs = {posixpath.dirname(p) for p in scripts}
    for path, facts in ctx.python_mentioning(*METRICS_CODE_WORDS):
        if is_test_path(path):
            continue
        in_serving = path in scripts or posixpath.dirname(path) in script_dirs
        metrics = _metric_calls(facts)
        names = sorted({c.str_args[0] for c in metrics if c.str_args})
        middleware = facts.calls_to(*METRICS_MIDDLEWARE)
        custom = facts.calls_to("mlserver.register", "mlserver.log")
        seldon_metrics = path in scripts and scripts[path].kind == "seldon" and any(
            "metrics" in cls.methods for cls in facts.classes
        )
        about_models = any(set(words_of(n)) & set(MODEL_SUBJECT_WORDS) for n in names)
        bento = any(c.name.startswith("bentoml.metrics.") for c in metrics)
        reason = None
        if metrics and (in_serving or about_models or bento):
            first = min(metrics, key=lambda c: c.line)
            types = ", ".join(sorted({c.attr for c in metrics}))
            library = "bentoml.metrics" if bento else "prometheus_client"
            reason = first.line, f"defines {library} metrics ({types})"
        elif middleware and in_serving:
            first = middleware[0]
            reason = first.line, f"instruments the app with {first.name.rsplit('.', 1)[-1]}"
            names = names or ["http_requests_total", "http_request_duration_seconds"]
        elif custom:
            reason = custom[0].line, "records MLServer custom metrics"
        elif seldon_metrics:
            cls = next(c for c in facts.classes if "metrics" in c.methods)
            reason = cls.line, f"returns Seldon custom metrics from {cls.name}.metrics()"
        if reason is None:
            continue
        line, why = reason
        shown = f": {', '.join(names[:5])}" if names else ""
        yield Finding(
            signal="monitor.model_metrics",
            path=path,
            line=line,
            summary=f"{path} exports model-serving metrics: it {why}{shown}",
            attributes={"metrics": names[:20], "source": "code"},
        )


@detector(signals=["monitor.model_metrics"], wants=YAML_GLOBS)
def model_server_scrape(ctx: RepoContext) -> Iterator[Finding]:
    """Emits monitor.model_metrics: ServiceMonitors / PodMonitors selecting model servers."""
    for obj in kube_objects(ctx):
        if obj.kind not in ("ServiceMonitor", "PodMonitor") or obj.group != "monitoring.coreos.com":
            continue
        selector = as_dict(obj.spec.get("selector"))
        match_labels = {str(k): as_str(v) for k, v in as_dict(selector.get("matchLabels")).items()}
        keys = [as_str(as_dict(e).get("key")) for e in as_list(selector.get("matchExpressions"))]
        target = _scraped_model_server(ctx, obj.kind, match_labels, keys)
        if target is None:
            continue
        yield Finding(
            signal="monitor.model_metrics",
            path=obj.path,
            line=obj.line_of("spec", "selector"),
            summary=f"{obj.describe()} in {obj.path} scrapes metrics of {target}",
            attributes={**obj.attributes(), "selector": dict(match_labels), "target": target,
                        "source": "scrape"},
        )  # fmt: skip


LabelSets = list[tuple[ServedObject, frozenset[tuple[str, str]], frozenset[tuple[str, str]]]]


@dataclass(frozen=True)
class ServedLabelIndex:
    """Model servers in order, with their labels, and which servers carry each label pair."""

    served: LabelSets
    by_label: dict[tuple[str, str], list[int]]  # a pair of its or its pods' labels -> positions
    by_pod_label: dict[tuple[str, str], list[int]]  # a pair of its pods' labels -> positions

    def carrying(self, pairs: frozenset[tuple[str, str]] | set[tuple[str, str]],
                 index: dict[tuple[str, str], list[int]]) -> set[int]:
        """Positions of the servers that carry every pair (looked up, not scanned)."""
        found: set[int] | None = None
        for pair in pairs:
            positions = set(index.get(pair, ()))
            found = positions if found is None else found & positions
            if not found:
                return set()
        return found or set()


def _served_label_index(ctx: RepoContext) -> ServedLabelIndex:
    """Every model server's labels, indexed once: each ServiceMonitor or PodMonitor is
    matched by lookups rather than compared with every model server."""
    def build() -> ServedLabelIndex:
        served: LabelSets = [(s, frozenset({**s.obj.labels, **pod_labels(s.obj)}.items()),
                              frozenset(pod_labels(s.obj).items())) for s in served_objects(ctx)]
        by_label: dict[tuple[str, str], list[int]] = {}
        by_pod_label: dict[tuple[str, str], list[int]] = {}
        for position, (_, labels, pods) in enumerate(served):
            for pair in labels:
                by_label.setdefault(pair, []).append(position)
            for pair in pods:
                by_pod_label.setdefault(pair, []).append(position)
        return ServedLabelIndex(served, by_label, by_pod_label)

    return ctx.derived("monitoring.served_label_index", build)


ServiceSelectors = list[tuple[KubeObject, frozenset[tuple[str, str]], frozenset[tuple[str, str]]]]


def _service_selectors(ctx: RepoContext) -> ServiceSelectors:
    """(Service, the pod labels it selects, its own labels) of every Service, computed once."""
    def build() -> ServiceSelectors:
        found: ServiceSelectors = []
        for service in objects_of_kind(ctx, "Service"):
            selector = as_dict(service.spec.get("selector"))
            pods = frozenset((str(k), as_str(v)) for k, v in selector.items())
            found.append((service, pods, frozenset(service.labels.items())))
        return found

    return ctx.derived("monitoring.service_selectors", build)


def _scraped_model_server(
    ctx: RepoContext, kind: str, match_labels: dict[str, str], keys: list[str]
) -> str | None:
    if any(k in MODEL_SERVER_POD_LABELS for k in [*match_labels, *keys]):
        return "model-server pods (by their serving label)"
    if not match_labels:
        return None
    selected = set(match_labels.items())
    # the Services this monitor selects, with the pods they select in turn
    services = [(service, pods) for service, pods, labels in _service_selectors(ctx)
                if pods and selected <= labels] if kind == "ServiceMonitor" else []  # fmt: skip
    index = _served_label_index(ctx)
    # the first model server (in order) that the monitor selects directly or through a Service
    direct = index.carrying(selected, index.by_label)
    through: dict[int, KubeObject] = {}
    for service, pods in services:
        for position in index.carrying(pods, index.by_pod_label):
            through.setdefault(position, service)
    if direct or through:
        first = min(direct | through.keys())
        served = index.served[first][0]
        if first in direct:
            return f"the model server {served.obj.describe()}"
        return f"the model server {served.obj.describe()} (Service `{through[first].name}`)"
    values = " ".join(match_labels.values())
    if any(needle.strip("/") in values.lower() for needle, _ in MODEL_SERVER_IMAGES):
        return f"model-server pods labelled {values}"
    return None


# -- dashboards -------------------------------------------------------------------------------------
DASHBOARD_WORDS = (*MODEL_SUBJECT_WORDS, "drift", "psi")
MAX_PANELS = 2_000


@dataclass(frozen=True)
class DashboardMatch:
    title: str
    uid: str
    panels: list[str]  # titles of the panels about models


def model_dashboard(dashboard: Any) -> DashboardMatch | None:
    """Whether a Grafana dashboard JSON shows model metrics, and which panels do."""
    body = as_dict(dashboard)
    if "panels" not in body and isinstance(body.get("dashboard"), dict):
        body = body["dashboard"]
    if not isinstance(body.get("title"), str) or not (
        isinstance(body.get("panels"), list) or isinstance(body.get("rows"), list)
    ):
        return None
    matched: list[str] = []
    for panel in _panels(body):
        title = as_str(panel.get("title"))
        queries = []
        for target in as_list(panel.get("targets")):
            target = as_dict(target)
            queries += [as_str(target.get(k)) for k in ("expr", "expression", "query", "rawSql")]
        text_words = set(words_of(title, as_str(panel.get("description")), *queries))
        metrics = [m.lower() for q in queries for m in metric_names(q)]
        if text_words & set(DASHBOARD_WORDS) or any(
            m.startswith(MODEL_SERVER_METRIC_PREFIXES + DRIFT_METRIC_PREFIXES) for m in metrics
        ):
            matched.append(title or "(untitled panel)")
    if not matched:
        return None
    return DashboardMatch(as_str(body.get("title")), as_str(body.get("uid")), matched)


def _panels(body: dict[Any, Any]) -> Iterator[dict[Any, Any]]:
    """Panels of a dashboard: top level, inside collapsed rows, and legacy `rows`."""
    stack = [*as_list(body.get("panels"))]
    for row in as_list(body.get("rows")):
        stack += as_list(as_dict(row).get("panels"))
    count = 0
    while stack and count < MAX_PANELS:
        panel = as_dict(stack.pop(0))
        count += 1
        stack += as_list(panel.get("panels"))
        yield panel


def _dashboard_finding(
    path: str, line: int, match: DashboardMatch, extra: dict[str, JsonValue]
) -> Finding:
    attributes: dict[str, JsonValue] = {**extra, "title": match.title, "panels": match.panels[:10]}
    if match.uid:
        attributes["uid"] = match.uid
    return Finding(
        signal="monitor.dashboard",
        path=path,
        line=line,
        summary=(f"Grafana dashboard `{match.title}` in {path} shows model metrics "
                 f"(panels: {', '.join(match.panels[:3])})"),
        attributes=attributes,
    )  # fmt: skip


@detector(signals=["monitor.dashboard"], wants=["**/*.json", *YAML_GLOBS])
def grafana_dashboard(ctx: RepoContext) -> Iterator[Finding]:
    """Emits monitor.dashboard: Grafana dashboards whose panels show model metrics.

    Dashboard JSON files, GrafanaDashboard resources and ConfigMaps holding dashboards.
    """
    for path in ctx.config_mentioning(*DASHBOARD_FILE_WORDS, globs=("**/*.json",)):
        text = ctx.text(path)
        if text is None:
            continue
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            continue
        match = model_dashboard(doc)
        if match is not None:
            line = text_lines(text, json.dumps(match.panels[0])) if match.panels else 1
            yield _dashboard_finding(path, line, match, {"kind": "grafana-dashboard"})
    for obj in kube_objects(ctx):
        if obj.kind == "GrafanaDashboard":
            sources = [("spec", "json")]
        elif obj.kind == "ConfigMap":
            sources = [("data", str(k)) for k in as_dict(obj.body.get("data"))]
        else:
            continue
        for section, key in sources:
            value = dig(obj.body, section, key)
            if not isinstance(value, str) or '"panels"' not in value:
                continue
            try:
                match = model_dashboard(json.loads(value))
            except (ValueError, RecursionError):
                continue
            if match is not None:
                yield _dashboard_finding(obj.path, obj.line_of(section, key), match,
                                         obj.attributes())
                break


# -- training commands (for retraining triggers) ---------------------------------------------------
TRAINING_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("dvc", "repro"), ("dvc", "exp", "run"), ("mlflow", "run"),
    ("sagemaker", "create-training-job"), ("ai", "custom-jobs", "create"),
    ("az", "ml", "job", "create"),
)  # fmt: skip
TRAINING_KINDS = ("PyTorchJob", "TFJob", "XGBoostJob", "MPIJob", "PaddleJob", "JAXJob",
                  "TrainJob", "TrainingJob", "RayJob")  # fmt: skip
MAX_TEMPLATE_DEPTH = 3


def command_trains(ctx: RepoContext, tokens: list[str], near: str = "") -> str | bool | None:
    """Why a command trains a model; False when the scripts it runs are known not to.

    A script found in the repository is judged on its code (purposes.script_purposes);
    one that is not there, on its name. None means the command says nothing.
    """
    words = [posixpath.basename(t) for t in tokens]
    for command in TRAINING_COMMANDS:
        if command[0] in words:
            start = words.index(command[0])
            if all(c in words[start:] for c in command[1:]):
                return f"runs `{' '.join(command)}`"
    scripts = _scripts_run(tokens)
    judged_no = False
    for reference in scripts:
        for candidate in resolve_repo_file(ctx, reference, near)[:1]:
            facts = ctx.python(candidate)
            if facts is None:
                continue
            hit = script_purposes(facts).get("train")
            if hit is not None:
                return f"runs {candidate}, which {hit.reason}"
            judged_no = True
    # an explicit sub-command (`churn-cli train`) says more than a script's name
    for token in tokens:
        if token.lower() in TRAINING_WORDS:
            return f"runs `{' '.join(tokens[:6])}`"
    if judged_no:
        return False
    for reference in scripts:
        stem = posixpath.splitext(posixpath.basename(reference))[0]
        if set(words_of(stem)) & set(TRAINING_WORDS):
            return f"runs {reference}"
    return None


def _scripts_run(tokens: list[str]) -> list[str]:
    """Python scripts, modules and notebooks a command runs."""
    found = []
    for i, token in enumerate(tokens):
        if token.endswith((".py", ".ipynb")) and not token.startswith("-"):
            found.append(token)
        elif token == "-m" and i + 1 < len(tokens) and i > 0 and "python" in tokens[i - 1]:
            module = tokens[i + 1]
            found.append(module.replace(".", "/") + ".py")
    return found


def image_trains(image: str) -> str | None:
    name = image_repository(image).rsplit("/", 1)[-1]
    return f"uses the training image {image}" if set(words_of(name)) & set(TRAINING_WORDS) else None


def container_trains(ctx: RepoContext, container: dict[Any, Any], near: str) -> str | bool | None:
    tokens = command_tokens(container.get("command"), container.get("args"))
    verdict = command_trains(ctx, tokens, near)
    if verdict is not None:
        return verdict
    return image_trains(image_of(container))


def pod_trains(ctx: RepoContext, spec: dict[Any, Any], near: str) -> str | bool | None:
    """Why a pod spec's containers train; False when their scripts are known not to."""
    verdicts = [container_trains(ctx, c, near) for c in containers(spec)]
    reason = next((v for v in verdicts if isinstance(v, str)), None)
    return reason if reason else (False if False in verdicts else None)


def workflow_trains(
    ctx: RepoContext, spec: Any, near: str, depth: int = 0
) -> str | bool | None:
    """Why an Argo workflow spec trains (its templates or referenced templates)."""
    if depth > MAX_TEMPLATE_DEPTH:
        return None
    spec = as_dict(spec)
    verdicts: list[str | bool | None] = []
    names: list[str] = []
    ref = as_str(dig(spec, "workflowTemplateRef", "name"))
    if ref:
        verdicts.append(_template_ref_trains(ctx, ref, near, depth))
    for template in as_list(spec.get("templates")):
        template = as_dict(template)
        names.append(as_str(template.get("name")))
        verdicts.append(_template_trains(ctx, template, near, depth))
    reason = next((v for v in verdicts if isinstance(v, str)), None)
    if reason:
        return reason
    if False in verdicts:
        return False
    trained = next((n for n in names if set(words_of(n)) & set(TRAINING_WORDS)), None)
    return f"has the step `{trained}`" if trained else None


def _template_trains(
    ctx: RepoContext, template: dict[Any, Any], near: str, depth: int
) -> str | bool | None:
    container = as_dict(template.get("container"))
    if container:
        return container_trains(ctx, container, near)
    script = as_dict(template.get("script"))
    if script:
        source = as_str(script.get("source"))
        facts = parse_python(source) if "python" in " ".join(
            command_tokens(script.get("command"))) else None  # fmt: skip
        if facts is not None:
            hit = script_purposes(facts).get("train")
            return f"runs an inline script that {hit.reason}" if hit else False
        return container_trains(ctx, script, near)
    for step in as_list(as_dict(template.get("containerSet")).get("containers")):
        verdict = container_trains(ctx, as_dict(step), near)
        if verdict:
            return verdict
    manifest = as_str(dig(template, "resource", "manifest"))
    if manifest:
        for doc in embedded_yaml(manifest):
            kind = as_str(as_dict(doc).get("kind"))
            if kind in TRAINING_KINDS:
                return f"creates a {kind}"
    for step in [*_steps(template), *as_list(dig(template, "dag", "tasks"))]:
        ref = as_str(dig(step, "templateRef", "name"))
        if ref:
            verdict = _template_ref_trains(ctx, ref, near, depth)
            if verdict:
                return verdict
    return None


def _steps(template: dict[Any, Any]) -> list[Any]:
    steps: list[Any] = []
    for group in as_list(template.get("steps")):
        steps += group if isinstance(group, list) else [group]
    return steps


def _template_ref_trains(ctx: RepoContext, name: str, near: str, depth: int) -> str | bool | None:
    for kind in ("WorkflowTemplate", "ClusterWorkflowTemplate"):
        referenced = find_object(ctx, kind, name)
        if referenced is not None:
            verdict = workflow_trains(ctx, referenced.spec, near, depth + 1)
            return f"uses {kind} `{name}`, which {verdict}" if isinstance(verdict, str) else verdict
    return None


# -- scheduled retraining ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Schedule:
    line: int
    cron: str
    suspended: bool
    spec_trains: str | bool | None


def _schedule_of(ctx: RepoContext, obj: KubeObject) -> Schedule | None:
    near = posixpath.dirname(obj.path)
    spec = obj.spec
    if obj.kind == "CronJob" and obj.group in ("batch", ""):
        return Schedule(obj.line_of("spec", "schedule"), as_str(spec.get("schedule")),
                        spec.get("suspend") is True, pod_trains(ctx, pod_spec(obj), near))
    if obj.kind == "CronWorkflow" and obj.group == "argoproj.io":
        schedules = [as_str(s) for s in as_list(spec.get("schedules"))]
        cron = as_str(spec.get("schedule")) or ", ".join(s for s in schedules if s)
        key = "schedule" if "schedule" in spec else "schedules"
        return Schedule(obj.line_of("spec", key), cron, spec.get("suspend") is True,
                        workflow_trains(ctx, spec.get("workflowSpec"), near))
    if obj.kind == "ScheduledWorkflow" and obj.group == "kubeflow.org":
        trigger = as_dict(spec.get("trigger"))
        cron = as_str(dig(trigger, "cronSchedule", "cron"))
        interval = dig(trigger, "periodicSchedule", "intervalSecond")
        if not cron and interval is not None:
            cron = f"every {as_str(interval)}s"
        keys = (("cronSchedule", "cron") if "cronSchedule" in trigger
                else ("periodicSchedule", "intervalSecond"))  # fmt: skip
        line = obj.line_of("spec", "trigger", *keys)
        return Schedule(line, cron, spec.get("enabled") is False,
                        workflow_trains(ctx, dig(spec, "workflow", "spec"), near))
    return None


def _named_training(obj: KubeObject) -> str | None:
    return f"is named {obj.name}" if set(words_of(obj.name)) & set(TRAINING_WORDS) else None


@detector(signals=["retrain.scheduled"], wants=YAML_GLOBS)
def scheduled_training_manifest(ctx: RepoContext) -> Iterator[Finding]:
    """Emits retrain.scheduled: CronJobs, CronWorkflows and ScheduledWorkflows that train.

    Training is judged on what the containers run (training scripts in the repository,
    `dvc repro`, `mlflow run`, training images); suspended schedules are ignored. Also
    Argo Events sensors on a calendar event source that start a training workflow.
    """
    for obj in kube_objects(ctx):
        schedule = _schedule_of(ctx, obj)
        if (schedule is None or not schedule.cron or schedule.suspended
                or schedule.spec_trains is False):  # fmt: skip
            continue
        reason = schedule.spec_trains or _named_training(obj)
        if not reason:
            continue
        yield Finding(
            signal="retrain.scheduled",
            path=obj.path,
            line=schedule.line,
            summary=f"{obj.describe()} in {obj.path} trains on schedule `{schedule.cron}`: it {reason}",
            attributes={**obj.attributes(), "cron": schedule.cron, "reason": reason},
        )
    for sensor, trigger in _training_sensors(ctx):
        if trigger.sources and set(trigger.sources.values()) == {"calendar"}:
            cron = ", ".join(trigger.schedules) or "calendar"
            yield Finding(
                signal="retrain.scheduled",
                path=sensor.path,
                line=trigger.line,
                summary=(f"Sensor `{sensor.name}` in {sensor.path} starts training on a calendar "
                         f"event ({cron}): it {trigger.reason}"),
                attributes={**sensor.attributes(), "cron": cron, "reason": trigger.reason},
            )  # fmt: skip


# -- training triggered by events and alerts -----------------------------------------------------------
# URLs that start a pipeline: (pattern over the lower-cased URL, system).
PIPELINE_TRIGGER_URLS: tuple[tuple[str, str], ...] = (
    (r"/repos/[^/]+/[^/]+/dispatches", "github-repository-dispatch"),
    (r"/actions/workflows/[^/]+/dispatches", "github-workflow-dispatch"),
    (r"/trigger/pipeline", "gitlab-pipeline-trigger"),
    (r"/api/v1/dags/[^/]+/dagruns", "airflow"),
    (r"/apis/v[12](?:beta1)?/(?:runs|experiments/[^/]+/runs)", "kubeflow-pipelines"),
    (r"/api/v1/workflows/[^/]+(?:/submit)?/?$", "argo-workflows"),
    (r"/api/v1/events/", "argo-workflows"),
    (r"eventsource", "argo-events"),
    (r"pipelineendpointsubmit|/pipelineruns", "azureml"),
    (r"startpipelineexecution", "sagemaker"),
    (r"/buildwithparameters|/job/[^/]+/build\b", "jenkins"),
    (r"/create_flow_run", "prefect"),
)
# Argo Events sources that are neither alerts nor webhooks: schedules, storage, git.
NOT_ALERT_SOURCES = ("calendar", "minio", "file", "hdfs", "sftp", "github", "gitlab",
                     "bitbucket", "bitbucketserver", "gerrit", "resource")  # fmt: skip
_EVENT_SOURCE_META = ("template", "service", "eventBusName", "replicas", "replica")


def pipeline_trigger(url: str) -> str | None:
    """The system whose pipeline a URL starts, if it is a known trigger endpoint."""
    lower = url.lower().split("?", 1)[0]
    for pattern, system in PIPELINE_TRIGGER_URLS:
        if re.search(pattern, lower):
            return system
    return None


def safe_url(url: str) -> str:
    """A URL fit for evidence: no credentials, no query string."""
    return redact(url.split("?", 1)[0])


@dataclass(frozen=True)
class SensorTrigger:
    line: int
    reason: str
    sources: dict[str, str]  # event source name -> type (webhook, calendar, ...)
    schedules: list[str]


def _event_source_types(ctx: RepoContext, name: str) -> tuple[list[str], list[str]]:
    """(types, calendar schedules) of an Argo Events EventSource of the repository."""
    source = find_object(ctx, "EventSource", name)
    if source is None:
        return [], []
    types = [str(k) for k in source.spec if k not in _EVENT_SOURCE_META]
    schedules = [as_str(as_dict(c).get("schedule") or as_dict(c).get("interval"))
                 for c in as_dict(source.spec.get("calendar")).values()]  # fmt: skip
    return types, [s for s in schedules if s]


def _training_sensors(ctx: RepoContext) -> list[tuple[KubeObject, SensorTrigger]]:
    return ctx.derived("monitoring.training_sensors", lambda: list(_find_sensors(ctx)))


def _find_sensors(ctx: RepoContext) -> Iterator[tuple[KubeObject, SensorTrigger]]:
    for sensor in kube_objects(ctx):
        if sensor.kind != "Sensor" or sensor.group != "argoproj.io":
            continue
        sources: dict[str, str] = {}
        schedules: list[str] = []
        for dependency in as_list(sensor.spec.get("dependencies")):
            name = as_str(as_dict(dependency).get("eventSourceName"))
            types, crons = _event_source_types(ctx, name) if name else ([], [])
            sources[name or as_str(as_dict(dependency).get("name"))] = (
                types[0] if len(types) == 1 else ",".join(types) or "unknown"
            )
            schedules += crons
        for index, trigger in enumerate(as_list(sensor.spec.get("triggers"))):
            template = as_dict(as_dict(trigger).get("template"))
            reason = _trigger_trains(ctx, sensor, template)
            if reason:
                line = yamlio.line_of(sensor.spec.get("triggers"), index) or sensor.line
                yield sensor, SensorTrigger(line, reason, sources, schedules)
                break


def _trigger_trains(ctx: RepoContext, sensor: KubeObject, template: dict[Any, Any]) -> str | None:
    near = posixpath.dirname(sensor.path)
    for key in ("argoWorkflow", "k8s"):
        resource = as_dict(dig(template, key, "source", "resource"))
        if not resource:
            continue
        kind = as_str(resource.get("kind"))
        if kind in TRAINING_KINDS:
            return f"creates a {kind}"
        if kind == "Workflow":
            verdict = workflow_trains(ctx, resource.get("spec"), near)
            if isinstance(verdict, str):
                return f"submits a Workflow that {verdict}"
            name = as_str(dig(resource, "metadata", "generateName")) or as_str(
                dig(resource, "metadata", "name"))  # fmt: skip
            if verdict is None and set(words_of(name)) & set(TRAINING_WORDS):
                return f"submits the Workflow `{name}`"
        if kind in ("Job", "PipelineRun"):
            verdict = pod_trains(ctx, as_dict(dig(resource, "spec", "template", "spec")), near)
            if isinstance(verdict, str):
                return f"creates a {kind} that {verdict}"
    url = as_str(dig(template, "http", "url"))
    if url and (system := pipeline_trigger(url)):
        return f"calls the {system} pipeline API ({safe_url(url)})"
    return None


@detector(signals=["retrain.on_alert"], wants=YAML_GLOBS)
def sensor_triggered_training(ctx: RepoContext) -> Iterator[Finding]:
    """Emits retrain.on_alert: Argo Events sensors that start training on an event.

    The trigger must submit a training Workflow (or training job / pipeline call); sensors
    fed only by calendar, storage or git event sources are not alerts.
    """
    for sensor, trigger in _training_sensors(ctx):
        types = {t for value in trigger.sources.values() for t in value.split(",")}
        if types and types <= set(NOT_ALERT_SOURCES):
            continue
        sources = ", ".join(f"{n} ({t})" for n, t in trigger.sources.items()) or "an event"
        yield Finding(
            signal="retrain.on_alert",
            path=sensor.path,
            line=trigger.line,
            summary=(f"Sensor `{sensor.name}` in {sensor.path} starts training when "
                     f"{sources} fires: it {trigger.reason}"),
            attributes={**sensor.attributes(), "trigger": "argo-events",
                        "event_sources": dict(trigger.sources), "reason": trigger.reason},
        )  # fmt: skip


# -- Alertmanager webhooks ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Webhook:
    receiver: str
    url: str
    line: int


def _receivers(config: dict[Any, Any]) -> list[Webhook]:
    hooks = []
    for receiver in as_list(config.get("receivers")):
        receiver = as_dict(receiver)
        name = as_str(receiver.get("name"))
        for key in ("webhook_configs", "webhookConfigs"):
            for hook in as_list(receiver.get(key)):
                url = as_str(as_dict(hook).get("url"))
                if url:
                    hooks.append(Webhook(name, url, line_in(hook, "url")))
    return hooks


def _routes(route: Any, inherited: tuple[str, ...] = (), depth: int = 0) -> Iterator[
    tuple[str, list[str]]
]:
    """(receiver, matchers inherited down the tree) for each route of a routing tree."""
    route = as_dict(route)
    matchers = list(inherited)
    for key in ("match", "match_re"):
        matchers += [f"{k} {as_str(v)}" for k, v in as_dict(route.get(key)).items()]
    for matcher in as_list(route.get("matchers")):
        if isinstance(matcher, dict):  # AlertmanagerConfig CR
            matchers.append(f"{as_str(matcher.get('name'))} {as_str(matcher.get('value'))}")
        else:
            matchers.append(as_str(matcher))
    receiver = as_str(route.get("receiver"))
    if receiver:
        yield receiver, matchers
    if depth < 12:
        for child in as_list(route.get("routes")):
            yield from _routes(child, tuple(matchers), depth + 1)


def _about_models(texts: list[str]) -> bool:
    text = " ".join(texts)
    words = set(words_of(text))
    return classify_alert_rule(text, "", {}, {}) != "other" or bool(
        words & set(TRAINING_WORDS) or words & {"model", "models", "drift"}
    )


def _alertmanager_configs(ctx: RepoContext) -> Iterator[tuple[str, dict[Any, Any], int, dict[
    str, JsonValue
]]]:
    """(path, config, line offset, owner) of Alertmanager configurations and CRs."""
    for path in ctx.config_mentioning(*ALERTMANAGER_WORDS, globs=YAML_GLOBS):
        text = ctx.text(path)
        if text is None or "url" not in text:
            continue
        for doc in yaml_documents(ctx, path):
            owner = _owner(doc)
            if owner.get("kind") == "AlertmanagerConfig":
                yield path, as_dict(as_dict(doc).get("spec")), 0, owner
                continue
            for mapping in walk_dicts(doc, max_depth=8):
                if isinstance(mapping.get("receivers"), list) and "route" in mapping:
                    yield path, mapping, 0, owner
            for key_line, inner in _embedded_docs(doc, "receivers"):
                for mapping in walk_dicts(inner, max_depth=8):
                    if isinstance(mapping.get("receivers"), list) and "route" in mapping:
                        yield path, mapping, key_line, owner


@detector(signals=["retrain.on_alert"], wants=YAML_GLOBS)
def alertmanager_triggered_training(ctx: RepoContext) -> Iterator[Finding]:
    """Emits retrain.on_alert: Alertmanager webhooks that start a training pipeline.

    A receiver whose webhook URL starts a pipeline (GitHub dispatches, GitLab trigger,
    Airflow dagRuns, Kubeflow runs, Argo, Azure ML, SageMaker, Jenkins, Prefect) and that
    drift / model alerts are routed to (or, routed at all, that is named for retraining).
    """
    for path, config, offset, owner in _alertmanager_configs(ctx):
        routes = list(_routes(config.get("route")))
        for hook in _receivers(config):
            system = pipeline_trigger(hook.url)
            if system is None:
                continue
            routed = [m for receiver, m in routes if receiver == hook.receiver]
            if not routed:  # a receiver no route uses never fires
                continue
            if not (any(_about_models(m) for m in routed if m) or _about_models([hook.receiver])):
                continue
            matchers = next((m for m in routed if m and _about_models(m)), [])
            when = f"alerts matching {', '.join(matchers)}" if matchers else "its alerts"
            yield Finding(
                signal="retrain.on_alert",
                path=path,
                line=offset + hook.line,
                summary=(f"Alertmanager receiver `{hook.receiver}` in {path} starts a pipeline "
                         f"({system}) when {when} fire"),
                attributes={**owner, "trigger": "alertmanager", "receiver": hook.receiver,
                            "system": system, "url": safe_url(hook.url), "matchers": matchers},
            )  # fmt: skip


# -- EventBridge rules ---------------------------------------------------------------------------------
def _alarm_pattern(text: str) -> bool:
    lower = text.lower()
    return ("cloudwatch alarm state change" in lower or "aws.cloudwatch" in lower
            or ("aws.sagemaker" in lower and "monitor" in lower))  # fmt: skip


def _cfn_pipeline_ids(ctx: RepoContext, path: str) -> set[str]:
    return {r.logical_id for r in cloudformation_resources(ctx)
            if r.path == path and r.type == "AWS::SageMaker::Pipeline"}  # fmt: skip


def _targets_pipeline(target: dict[Any, Any], pipelines: set[str]) -> bool:
    if "SageMakerPipelineParameters" in target:
        return True
    arn = target.get("Arn")
    text = json.dumps(arn, default=str) if not isinstance(arn, str) else arn
    return ":pipeline/" in text or any(p in text for p in pipelines)


def alarm_event_pattern(pattern: str) -> bool:
    """Whether an EventBridge event pattern (as text) matches CloudWatch alarm or Model
    Monitor events. Public: the SageMaker collector judges live rules with it."""
    return _alarm_pattern(pattern)


def targets_sagemaker_pipeline(target: dict[Any, Any]) -> bool:
    """Whether an EventBridge target starts a SageMaker pipeline (shared, as above)."""
    return _targets_pipeline(target, set())


@detector(signals=["retrain.on_alert", "retrain.scheduled"],
          wants=(*CLOUDFORMATION_GLOBS, *TERRAFORM_GLOBS))  # fmt: skip
def eventbridge_training_trigger(ctx: RepoContext) -> Iterator[Finding]:
    """Emits retrain.on_alert, retrain.scheduled: EventBridge rules starting a SageMaker pipeline.

    A rule matching CloudWatch alarm or Model Monitor events is an alert trigger; a rule
    with a schedule expression is scheduled retraining (CloudFormation and Terraform).
    """
    for rule in cloudformation_resources(ctx):
        if rule.type != "AWS::Events::Rule":
            continue
        pipelines = _cfn_pipeline_ids(ctx, rule.path)
        targets = [as_dict(t) for t in as_list(rule.properties.get("Targets"))]
        if not any(_targets_pipeline(t, pipelines) for t in targets):
            continue
        schedule = as_str(rule.properties.get("ScheduleExpression"))
        pattern = json.dumps(rule.properties.get("EventPattern"), default=str)
        attributes: dict[str, JsonValue] = {"kind": rule.type, "name": rule.logical_id}
        if schedule:
            yield Finding("retrain.scheduled", rule.path, rule.line,
                          f"EventBridge rule {rule.logical_id} in {rule.path} starts a SageMaker "
                          f"pipeline on schedule `{schedule}`",
                          {**attributes, "cron": schedule})  # fmt: skip
        elif _alarm_pattern(pattern):
            yield Finding("retrain.on_alert", rule.path, rule.line,
                          f"EventBridge rule {rule.logical_id} in {rule.path} starts a SageMaker "
                          "pipeline when a CloudWatch alarm or Model Monitor event fires",
                          {**attributes, "trigger": "eventbridge"})  # fmt: skip
    blocks = terraform_blocks(ctx)
    rules = {b.name: b for b in blocks if b.type == "aws_cloudwatch_event_rule"}
    for target in blocks:
        if target.type != "aws_cloudwatch_event_target" or not _tf_targets_pipeline(target):
            continue
        match = re.search(r"aws_cloudwatch_event_rule\.([\w-]+)\.", target.body)
        rule_block = rules.get(match.group(1)) if match else None
        if rule_block is None:
            continue
        tf_schedule = rule_block.string_attribute("schedule_expression")
        attributes = {"kind": rule_block.type, "name": rule_block.name}
        if tf_schedule:
            yield Finding("retrain.scheduled", rule_block.path, rule_block.line,
                          f"EventBridge rule {rule_block.name} in {rule_block.path} starts a "
                          f"SageMaker pipeline on schedule `{tf_schedule}`",
                          {**attributes, "cron": tf_schedule})  # fmt: skip
        elif _alarm_pattern(rule_block.body):
            yield Finding("retrain.on_alert", rule_block.path, rule_block.line,
                          f"EventBridge rule {rule_block.name} in {rule_block.path} starts a "
                          "SageMaker pipeline when a CloudWatch alarm or Model Monitor event fires",
                          {**attributes, "trigger": "eventbridge"})  # fmt: skip


def _tf_targets_pipeline(target: TfBlock) -> bool:
    return bool(target.has_block("sagemaker_pipeline_target")) or (
        "aws_sagemaker_pipeline." in target.body or ":pipeline/" in target.body
    )
