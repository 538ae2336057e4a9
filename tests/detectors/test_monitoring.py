"""Monitoring detectors: drift, alert rules, model metrics, dashboards, retraining triggers."""

from __future__ import annotations

import json

import pytest

from conftest import MakeRepo, by_signal, detect
from maturity_probe.detectors.monitoring import classify_alert_rule

RULE_FILE = '''\
groups:
  - name: churn-model
    rules:
      - alert: ChurnFeatureDriftHigh
        expr: max by (feature) (evidently_feature_drift_score{model="churn"}) > 0.2
        for: 30m
        labels:
          severity: warning
        annotations:
          summary: Input drift on {{ $labels.feature }}
      - alert: ChurnModelAccuracyLow
        expr: churn_model_accuracy_7d < 0.82
        for: 1h
        labels:
          severity: critical
          model: churn
      - alert: FraudPredictorLatencyHigh
        expr: |
          histogram_quantile(0.99,
            sum(rate(seldon_api_executor_client_requests_seconds_bucket{deployment_name="fraud"}[5m])) by (le)
          ) > 0.5
        for: 10m
  - name: nodes
    rules:
      - alert: NodeDiskAlmostFull
        expr: node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes < 0.1
        for: 15m
      - alert: NodeClockSkewDetected
        expr: abs(node_timex_offset_seconds) > 0.05
        annotations:
          summary: Clock drift on {{ $labels.instance }}
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
'''

PROMETHEUS_RULE = '''\
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: recsys-drift
  namespace: monitoring
spec:
  groups:
    - name: recsys
      rules:
        - alert: RecsysPredictionPSI
          expr: recsys_prediction_psi{model_name="ranker"} > 0.25
          labels:
            team: ml
'''

RULES_CONFIGMAP = '''\
apiVersion: v1
kind: ConfigMap
metadata:
  name: prometheus-rules
data:
  model.rules.yml: |
    groups:
      - name: serving
        rules:
          - alert: TritonInferenceFailures
            expr: rate(nv_inference_request_failure[5m]) > 0
'''


def test_alert_rules_are_classified(make_repo: MakeRepo) -> None:
    root = make_repo({
        "monitoring/alerts.yml": RULE_FILE,
        "k8s/recsys-rules.yaml": PROMETHEUS_RULE,
        "k8s/prometheus-rules-cm.yaml": RULES_CONFIGMAP,
    })  # fmt: skip
    findings = detect(root)
    drift = {f.attributes["alert"]: f for f in by_signal(findings, "monitor.drift_alert_rule")}
    assert set(drift) == {"ChurnFeatureDriftHigh", "RecsysPredictionPSI"}
    churn = drift["ChurnFeatureDriftHigh"]
    assert (churn.path, churn.line) == ("monitoring/alerts.yml", 4)
    assert churn.attributes["model"] == "churn"
    assert churn.attributes["group"] == "churn-model"
    recsys = drift["RecsysPredictionPSI"]
    assert recsys.attributes["kind"] == "PrometheusRule"
    assert recsys.attributes["name"] == "recsys-drift"
    assert recsys.attributes["namespace"] == "monitoring"
    assert recsys.attributes["model"] == "ranker"

    model = {f.attributes["alert"]: f for f in by_signal(findings, "monitor.model_alert_rule")}
    assert set(model) == {"ChurnModelAccuracyLow", "FraudPredictorLatencyHigh",
                          "TritonInferenceFailures"}  # fmt: skip
    assert model["ChurnModelAccuracyLow"].attributes["category"] == "model_quality"
    assert model["FraudPredictorLatencyHigh"].attributes["category"] == "serving_health"
    triton = model["TritonInferenceFailures"]
    assert (triton.path, triton.line) == ("k8s/prometheus-rules-cm.yaml", 10)


def test_infrastructure_alerts_are_not_model_alerts(make_repo: MakeRepo) -> None:
    infra_only = RULE_FILE.split("  - name: nodes\n")[1]
    root = make_repo({"monitoring/alerts.yml": "groups:\n  - name: nodes\n" + infra_only})
    findings = detect(root)
    assert by_signal(findings, "monitor.drift_alert_rule") == []
    assert by_signal(findings, "monitor.model_alert_rule") == []


@pytest.mark.parametrize(
    ("name", "expr", "labels", "expected"),
    [
        ("FeatureDrift", "nannyml_univariate_drift_alert > 0", {}, "drift"),
        ("DataQualityDegraded", "whylabs_data_quality_score < 0.9", {}, "drift"),
        ("HostClockDrift", "abs(node_timex_offset_seconds) > 0.05", {}, "other"),
        ("ArgoCDConfigDrift", 'argocd_app_info{sync_status="OutOfSync"} == 1', {}, "other"),
        ("FraudF1Low", "fraud_f1_score < 0.7", {}, "model_quality"),
        ("ChurnTrainingStale",
         'time() - kube_cronjob_status_last_successful_time{cronjob="churn-retrain"} > 691200',
         {}, "pipeline_freshness"),
        ("ModelServerDown", 'up{job="torchserve"} == 0', {"model_name": "sentiment"},
         "serving_health"),
        ("KServeErrors", "sum(rate(revision_request_count{response_code_class='5xx'}[5m])) > 1",
         {}, "serving_health"),
        ("HighMemory", "container_memory_working_set_bytes > 1e9", {}, "other"),
    ],
)
def test_classify_alert_rule(name: str, expr: str, labels: dict[str, str], expected: str) -> None:
    assert classify_alert_rule(name, expr, labels, {}) == expected


EVIDENTLY_JOB = '''\
import pandas as pd
from evidently.metric_preset import DataDriftPreset
from evidently.report import Report

reference = pd.read_parquet("data/reference.parquet")
current = pd.read_parquet("data/last_week.parquet")

report = Report(metrics=[DataDriftPreset()])
report.run(reference_data=reference, current_data=current)
report.save_html("reports/drift.html")
'''

EVIDENTLY_CLASSIFICATION_ONLY = '''\
import pandas as pd
from evidently.metric_preset import ClassificationPreset
from evidently.report import Report

# from evidently.metric_preset import DataDriftPreset
report = Report(metrics=[ClassificationPreset()])
report.run(reference_data=None, current_data=pd.read_parquet("scored.parquet"))
'''

ALIBI_DETECTOR = '''\
import numpy as np
from alibi_detect.cd import KSDrift

x_ref = np.load("data/x_ref.npy")
detector = KSDrift(x_ref, p_val=0.05)


def check(batch):
    return detector.predict(batch)["data"]["is_drift"]
'''

SAGEMAKER_MONITOR = '''\
import sagemaker
from sagemaker.model_monitor import CronExpressionGenerator, DefaultModelMonitor

monitor = DefaultModelMonitor(
    role=sagemaker.get_execution_role(),
    instance_count=1,
    instance_type="ml.m5.xlarge",
)
monitor.create_monitoring_schedule(
    endpoint_input="churn-prod",
    schedule_cron_expression=CronExpressionGenerator.daily(),
)
'''

AZUREML_MONITOR = '''\
$schema: http://azureml/sdk-2-0/Schedule.json
name: churn_monitoring
trigger:
  type: recurrence
  frequency: day
  interval: 1
create_monitor:
  compute:
    instance_type: standard_e4s_v3
  monitoring_target:
    ml_task: classification
    endpoint_deployment_id: azureml:churn-endpoint:green
  monitoring_signals:
    advanced_data_drift:
      type: data_drift
      features:
        top_n_feature_importance: 10
    quality:
      type: data_quality
'''


def test_drift_detection(make_repo: MakeRepo) -> None:
    root = make_repo({
        "monitoring/drift_report.py": EVIDENTLY_JOB,
        "monitoring/quality_report.py": EVIDENTLY_CLASSIFICATION_ONLY,
        "serving/drift.py": ALIBI_DETECTOR,
        "sagemaker/monitor.py": SAGEMAKER_MONITOR,
        "azureml/monitor.yml": AZUREML_MONITOR,
        "tests/test_drift.py": EVIDENTLY_JOB,
        "infra/monitor.yaml": (
            "Resources:\n"
            "  ChurnDataQuality:\n"
            "    Type: AWS::SageMaker::DataQualityJobDefinition\n"
            "    Properties:\n"
            "      RoleArn: arn:aws:iam::123456789012:role/monitor\n"
        ),
    })  # fmt: skip
    found = {f.path: (f.line, f.attributes["library"])
             for f in by_signal(detect(root), "monitor.drift_detection")}  # fmt: skip
    assert found == {
        "monitoring/drift_report.py": (8, "evidently"),
        "serving/drift.py": (5, "alibi_detect"),
        "sagemaker/monitor.py": (4, "sagemaker"),
        "azureml/monitor.yml": (13, "azureml"),
        "infra/monitor.yaml": (2, "sagemaker"),
    }


INSTRUMENTED_APP = '''\
import time

import joblib
from fastapi import FastAPI
from prometheus_client import Counter, Histogram, make_asgi_app

PREDICTIONS = Counter("churn_predictions_total", "Predictions served", ["outcome"])
LATENCY = Histogram("churn_prediction_latency_seconds", "Time to score one request")

app = FastAPI()
app.mount("/metrics", make_asgi_app())
model = joblib.load("model.joblib")


@app.post("/predict")
def predict(features: list[float]) -> dict:
    start = time.perf_counter()
    score = float(model.predict_proba([features])[0, 1])
    PREDICTIONS.labels(outcome="churn" if score > 0.5 else "stay").inc()
    LATENCY.observe(time.perf_counter() - start)
    return {"score": score}
'''

PLAIN_METRICS_APP = '''\
from flask import Flask
from prometheus_client import Counter

REQUESTS = Counter("shop_http_requests_total", "HTTP requests")
app = Flask(__name__)


@app.route("/")
def index():
    REQUESTS.inc()
    return "shop"
'''

TRITON_SERVING = '''\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: triton
  labels: {app: triton}
spec:
  template:
    metadata:
      labels: {app: triton}
    spec:
      containers:
        - name: triton
          image: nvcr.io/nvidia/tritonserver:24.01-py3
---
apiVersion: v1
kind: Service
metadata:
  name: triton
  labels: {app: triton, metrics: "true"}
spec:
  selector: {app: triton}
  ports: [{name: metrics, port: 8002}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: triton
  namespace: monitoring
spec:
  selector:
    matchLabels: {app: triton, metrics: "true"}
  endpoints: [{port: metrics}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: shop
spec:
  selector:
    matchLabels: {app: shop}
  endpoints: [{port: http}]
'''


def test_model_metrics(make_repo: MakeRepo) -> None:
    root = make_repo({
        "api/app.py": INSTRUMENTED_APP,
        "shop/app.py": PLAIN_METRICS_APP,
        "k8s/triton.yaml": TRITON_SERVING,
    })  # fmt: skip
    metrics = {f.path: f for f in by_signal(detect(root), "monitor.model_metrics")}
    assert set(metrics) == {"api/app.py", "k8s/triton.yaml"}
    code = metrics["api/app.py"]
    assert code.line == 7
    assert code.attributes["metrics"] == ["churn_prediction_latency_seconds",
                                          "churn_predictions_total"]  # fmt: skip
    scrape = metrics["k8s/triton.yaml"]
    assert scrape.attributes["kind"] == "ServiceMonitor"
    assert scrape.attributes["name"] == "triton"
    assert scrape.line == 30


def _dashboard(title: str, panels: list[tuple[str, str]]) -> dict[str, object]:
    return {
        "title": title,
        "uid": title.lower().replace(" ", "-"),
        "schemaVersion": 39,
        "panels": [
            {"type": "row", "title": "Overview", "collapsed": True, "panels": [
                {"type": "timeseries", "title": panel, "targets": [{"expr": expr, "refId": "A"}]}
                for panel, expr in panels
            ]},
        ],
    }  # fmt: skip


def test_dashboards(make_repo: MakeRepo) -> None:
    model_dash = _dashboard("Fraud serving", [
        ("Requests per second", 'sum(rate(seldon_api_executor_server_requests_seconds_count[5m]))'),
        ("p95 latency", "histogram_quantile(0.95, sum by (le) "
                        "(rate(seldon_api_executor_server_requests_seconds_bucket[5m])))"),
    ])  # fmt: skip
    node_dash = _dashboard("Nodes", [("CPU", "1 - avg(rate(node_cpu_seconds_total{mode='idle'}[5m]))")])
    drift_dash = _dashboard("Churn drift", [("Share of drifted features", "evidently_share_drifted")])
    configmap = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: churn-dashboard\n"
        "  labels: {grafana_dashboard: \"1\"}\ndata:\n"
        f"  churn.json: {json.dumps(json.dumps(drift_dash))}\n"
    )
    root = make_repo({
        "grafana/fraud.json": json.dumps(model_dash, indent=2),
        "grafana/nodes.json": json.dumps(node_dash, indent=2),
        "k8s/dashboards.yaml": configmap,
        "package.json": '{"name": "ui", "version": "1.0.0"}',
    })  # fmt: skip
    found = {f.path: f for f in by_signal(detect(root), "monitor.dashboard")}
    assert set(found) == {"grafana/fraud.json", "k8s/dashboards.yaml"}
    fraud = found["grafana/fraud.json"]
    assert fraud.attributes["title"] == "Fraud serving"
    assert fraud.attributes["panels"] == ["Requests per second", "p95 latency"]
    text = json.dumps(model_dash, indent=2).splitlines()
    assert fraud.line is not None
    assert '"Requests per second"' in text[fraud.line - 1]
    assert found["k8s/dashboards.yaml"].line == 7


TRAIN_SCRIPT = '''\
import joblib
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier

frame = pd.read_parquet("data/churn.parquet")
model = GradientBoostingClassifier(n_estimators=300)
model.fit(frame.drop(columns="churn"), frame["churn"])
joblib.dump(model, "model.joblib")
'''

REPORT_SCRIPT = '''\
import pandas as pd

frame = pd.read_parquet("data/scored.parquet")
frame.groupby("segment")["score"].mean().to_csv("reports/weekly.csv")
'''


def _cronjob(name: str, command: str, *, suspend: bool = False) -> str:
    return f'''\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
  namespace: ml
spec:
  schedule: "0 3 * * 1"
  suspend: {"true" if suspend else "false"}
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: job
              image: ghcr.io/acme/churn:1.8.0
              command: {command}
'''


CRON_WORKFLOW = '''\
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: nightly-churn
spec:
  schedule: "30 1 * * *"
  timezone: Europe/Paris
  workflowSpec:
    entrypoint: main
    templates:
      - name: main
        script:
          image: python:3.11
          command: [python]
          source: |
            import pandas as pd
            from xgboost import XGBClassifier
            frame = pd.read_parquet("/data/churn.parquet")
            XGBClassifier().fit(frame.drop(columns="y"), frame["y"])
---
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: weekly-dvc
spec:
  schedules: ["0 5 * * 0"]
  workflowSpec:
    workflowTemplateRef:
      name: dvc-pipeline
---
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: dvc-pipeline
spec:
  entrypoint: repro
  templates:
    - name: repro
      container:
        image: ghcr.io/acme/dvc-runner:3
        command: [sh, -c]
        args: ["git pull && dvc pull && dvc repro && dvc push"]
'''


def test_scheduled_retraining(make_repo: MakeRepo) -> None:
    root = make_repo({
        "src/train.py": TRAIN_SCRIPT,
        "src/report.py": REPORT_SCRIPT,
        "k8s/train-cron.yaml": _cronjob("churn-retrain", '["python", "/app/src/train.py"]'),
        "k8s/paused.yaml": _cronjob("churn-retrain-paused", '["python", "src/train.py"]',
                                    suspend=True),
        "k8s/backup.yaml": _cronjob("db-backup", '["/bin/sh", "-c", "backup.sh --all"]'),
        "k8s/report.yaml": _cronjob("model-retrain-report", '["python", "src/report.py"]'),
        "argo/cron.yaml": CRON_WORKFLOW,
    })  # fmt: skip
    scheduled = {f.attributes["name"]: f for f in by_signal(detect(root), "retrain.scheduled")}
    assert set(scheduled) == {"churn-retrain", "nightly-churn", "weekly-dvc"}
    cron = scheduled["churn-retrain"]
    assert (cron.path, cron.line) == ("k8s/train-cron.yaml", 7)
    assert cron.attributes["cron"] == "0 3 * * 1"
    assert cron.attributes["kind"] == "CronJob"
    assert cron.attributes["namespace"] == "ml"
    assert "src/train.py" in cron.summary
    assert "GradientBoostingClassifier" in cron.summary or "fit" in cron.summary
    assert scheduled["nightly-churn"].attributes["cron"] == "30 1 * * *"
    assert "dvc repro" in scheduled["weekly-dvc"].summary


WEBHOOK_SOURCE = '''\
apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: drift-webhook
spec:
  service:
    ports: [{port: 12000, targetPort: 12000}]
  webhook:
    drift:
      port: "12000"
      endpoint: /drift
      method: POST
---
apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: weekly
spec:
  calendar:
    sunday:
      schedule: "0 4 * * 0"
'''


def _sensor(name: str, source: str) -> str:
    return f'''\
apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata:
  name: {name}
spec:
  dependencies:
    - name: event
      eventSourceName: {source}
      eventName: drift
  triggers:
    - template:
        name: retrain
        argoWorkflow:
          operation: submit
          source:
            resource:
              apiVersion: argoproj.io/v1alpha1
              kind: Workflow
              metadata:
                generateName: churn-
              spec:
                entrypoint: train
                templates:
                  - name: train
                    container:
                      image: ghcr.io/acme/churn:1.8.0
                      command: [python, src/train.py]
'''


ALERTMANAGER = '''\
global:
  resolve_timeout: 5m
route:
  receiver: ops-slack
  routes:
    - matchers:
        - alertname =~ ".*Drift.*"
      receiver: retrain-churn
    - matchers:
        - alertname = "NodeDiskAlmostFull"
      receiver: ops-dispatch
receivers:
  - name: ops-slack
    slack_configs:
      - api_url: https://hooks.slack.com/services/T000/B000/XXXX
        channel: "#ops"
  - name: retrain-churn
    webhook_configs:
      - url: https://bot:s3cret@api.github.com/repos/acme/churn/dispatches?token=abc123
        send_resolved: false
  - name: ops-dispatch
    webhook_configs:
      - url: https://gitlab.acme.example/api/v4/projects/42/trigger/pipeline
'''

EVENTBRIDGE = '''\
Resources:
  RetrainPipeline:
    Type: AWS::SageMaker::Pipeline
    Properties:
      PipelineName: churn-retrain
      RoleArn: arn:aws:iam::123456789012:role/sm
  DriftAlarmRule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern:
        source: [aws.cloudwatch]
        detail-type: [CloudWatch Alarm State Change]
        detail:
          alarmName: [churn-feature-drift]
      Targets:
        - Id: retrain
          Arn: !Sub "arn:aws:sagemaker:${AWS::Region}:${AWS::AccountId}:pipeline/churn-retrain"
          RoleArn: arn:aws:iam::123456789012:role/events
          SageMakerPipelineParameters:
            PipelineParameterList: []
  NightlyRule:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: cron(0 2 * * ? *)
      Targets:
        - Id: nightly
          Arn: !GetAtt RetrainPipeline.Arn
          RoleArn: arn:aws:iam::123456789012:role/events
  OpsRule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {source: [aws.cloudwatch]}
      Targets:
        - Id: notify
          Arn: arn:aws:sns:eu-west-1:123456789012:ops
'''


def test_training_triggered_by_alerts(make_repo: MakeRepo) -> None:
    root = make_repo({
        "src/train.py": TRAIN_SCRIPT,
        "events/sources.yaml": WEBHOOK_SOURCE,
        "events/drift-sensor.yaml": _sensor("retrain-on-drift", "drift-webhook"),
        "events/weekly-sensor.yaml": _sensor("retrain-weekly", "weekly"),
        "monitoring/alertmanager.yml": ALERTMANAGER,
        "infra/retrain.yaml": EVENTBRIDGE,
    })  # fmt: skip
    findings = detect(root)
    on_alert = {(f.path, f.line): f for f in by_signal(findings, "retrain.on_alert")}
    assert set(on_alert) == {
        ("events/drift-sensor.yaml", 11),
        ("monitoring/alertmanager.yml", 19),
        ("infra/retrain.yaml", 7),
    }
    sensor = on_alert[("events/drift-sensor.yaml", 11)]
    assert sensor.attributes["event_sources"] == {"drift-webhook": "webhook"}
    assert "src/train.py" in sensor.summary
    hook = on_alert[("monitoring/alertmanager.yml", 19)]
    assert hook.attributes["system"] == "github-repository-dispatch"
    assert hook.attributes["url"] == "https://***@api.github.com/repos/acme/churn/dispatches"
    assert "s3cret" not in hook.summary and "abc123" not in json.dumps(hook.attributes)

    scheduled = {(f.path, f.attributes["cron"]) for f in by_signal(findings, "retrain.scheduled")}
    assert scheduled == {
        ("events/weekly-sensor.yaml", "0 4 * * 0"),
        ("infra/retrain.yaml", "cron(0 2 * * ? *)"),
    }


def test_alert_routes_without_training_are_not_triggers(make_repo: MakeRepo) -> None:
    # the drift route now goes to Slack: the dispatch receiver is never used
    unrouted = ALERTMANAGER.replace("receiver: retrain-churn", "receiver: ops-slack")
    root = make_repo({
        "alertmanager/alertmanager.yml": unrouted,
        "infra/ops.yaml": "Resources:\n  OpsRule:\n" + EVENTBRIDGE.split("  OpsRule:\n")[1],
    })  # fmt: skip
    findings = detect(root)
    assert by_signal(findings, "retrain.on_alert") == []
    assert by_signal(findings, "retrain.scheduled") == []


def _scheduled_workflow(name: str, *, enabled: bool) -> str:
    return f'''\
apiVersion: kubeflow.org/v1beta1
kind: ScheduledWorkflow
metadata:
  name: {name}
  namespace: kubeflow-user
spec:
  enabled: {"true" if enabled else "false"}
  maxConcurrency: 1
  trigger:
    cronSchedule:
      cron: "0 0 6 * * 1"
  workflow:
    spec:
      entrypoint: churn-pipeline
      templates:
        - name: churn-pipeline
          dag:
            tasks:
              - {{name: preprocess, template: preprocess}}
              - {{name: train-model, template: train-model, dependencies: [preprocess]}}
        - name: preprocess
          container:
            image: ghcr.io/acme/churn-steps:2.0
            command: [python3, -m, churn.steps.preprocess]
        - name: train-model
          container:
            image: ghcr.io/acme/churn-steps:2.0
            command: [churn-steps, train, --epochs, "20"]
'''


def test_kubeflow_recurring_runs(make_repo: MakeRepo) -> None:
    root = make_repo({
        "kfp/recurring.yaml": _scheduled_workflow("churn-weekly", enabled=True),
        "kfp/disabled.yaml": _scheduled_workflow("churn-daily", enabled=False),
    })  # fmt: skip
    scheduled = by_signal(detect(root), "retrain.scheduled")
    assert [(f.path, f.line, f.attributes["cron"]) for f in scheduled] == [
        ("kfp/recurring.yaml", 11, "0 0 6 * * 1")
    ]
    assert scheduled[0].attributes["kind"] == "ScheduledWorkflow"
    assert "churn-steps train" in scheduled[0].summary


BROKEN_SHAPES = '''\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: half-written}
spec: TODO
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: retrain}
spec:
  schedule: [not, a, string]
  jobTemplate: {spec: {template: {spec: {containers: "python train.py"}}}}
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: rules}
spec:
  groups:
    - 42
    - name: model
      rules: "ModelDown"
    - rules: [{alert: {nested: true}, expr: [1, 2]}]
---
apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata: {name: s}
spec:
  dependencies: "drift"
  triggers: [{template: {argoWorkflow: {source: {resource: [1]}}}}]
---
apiVersion: v1
kind: List
items: "nothing"
'''


def test_unexpected_shapes_do_not_crash(make_repo: MakeRepo) -> None:
    root = make_repo({
        "k8s/broken.yaml": BROKEN_SHAPES,
        "grafana/empty.json": '{"title": "Models", "panels": [1, {"panels": "x", "targets": [5]}]}',
        "Dockerfile": 'FROM\nCMD ["unterminated\nENTRYPOINT [1, 2]\nCMD \\\n',
        "alertmanager.yml": "route: {receiver: 3}\nreceivers: [{name: x, webhook_configs: [{url: 7}]}]\n",
    })  # fmt: skip
    findings = detect(root)
    monitoring_signals = {f.signal for f in findings} & {
        "monitor.drift_alert_rule", "monitor.model_alert_rule", "retrain.scheduled",
        "retrain.on_alert", "serving.model_server", "monitor.dashboard"}  # fmt: skip
    # the half-written InferenceService still names a KServe service; nothing else is usable
    assert monitoring_signals == {"serving.model_server"}


ALERTMANAGER_CONFIG_CR = '''\
apiVersion: monitoring.coreos.com/v1alpha1
kind: AlertmanagerConfig
metadata:
  name: fraud-retraining
  namespace: ml
spec:
  route:
    receiver: airflow-retrain
    matchers:
      - name: alertname
        value: FraudModelAucLow
        matchType: "="
  receivers:
    - name: airflow-retrain
      webhookConfigs:
        - url: http://airflow-webserver.airflow:8080/api/v1/dags/fraud_training/dagRuns
          sendResolved: false
'''


def test_alertmanager_config_resource_starting_a_dag(make_repo: MakeRepo) -> None:
    root = make_repo({"k8s/alertmanager-config.yaml": ALERTMANAGER_CONFIG_CR})
    found = by_signal(detect(root), "retrain.on_alert")
    assert [(f.path, f.line) for f in found] == [("k8s/alertmanager-config.yaml", 16)]
    assert found[0].attributes["system"] == "airflow"
    assert found[0].attributes["kind"] == "AlertmanagerConfig"
    assert found[0].attributes["matchers"] == ["alertname FraudModelAucLow"]
