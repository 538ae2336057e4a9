"""Realistic repository fragments, one per capability of configs/capabilities.yaml.

Each fragment is a small set of files that a real ML project would contain to show one
practice. The level tests compose them into real git repositories: the union of the
fragments of every capability a level requires must reach exactly that level.
"""

from __future__ import annotations

from support import TEST_WORKFLOW

Files = dict[str, str]

TRAIN = '''"""Train the churn classifier from the prepared feature table."""
import argparse

import joblib
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier


def train(features: str, output: str) -> None:
    frame = pd.read_parquet(features)
    target = frame.pop("churned")
    model = GradientBoostingClassifier(n_estimators=300, max_depth=3)
    model.fit(frame, target)
    joblib.dump(model, output)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--features", default="data/features.parquet")
    parser.add_argument("--output", default="models/model.joblib")
    args = parser.parse_args()
    train(args.features, args.output)
'''

SCORE = '''"""Scoring script for the managed online endpoint (Azure ML init/run contract)."""
import json
import os

import joblib
import pandas as pd

model = None


def init() -> None:
    global model
    model_dir = os.environ.get("AZUREML_MODEL_DIR", "models")
    model = joblib.load(os.path.join(model_dir, "model.joblib"))


def run(raw_data: str) -> str:
    rows = pd.DataFrame(json.loads(raw_data)["data"])
    return json.dumps({"churn_probability": model.predict_proba(rows)[:, 1].tolist()})
'''

DVC_PREPARE = '''stages:
  prepare:
    cmd: python src/prepare.py --raw data/raw/customers.csv --out data/features.parquet
    deps:
      - src/prepare.py
      - data/raw/customers.csv
    outs:
      - data/features.parquet
'''

PREPARE = '''"""Clean the raw customer extract and build the feature table."""
import argparse

import pandas as pd


def prepare(raw: str, out: str) -> None:
    frame = pd.read_csv(raw, parse_dates=["signup_date"])
    frame = frame.dropna(subset=["customer_id"]).drop_duplicates("customer_id")
    frame["tenure_days"] = (frame["snapshot_date"] - frame["signup_date"]).dt.days
    frame.to_parquet(out, index=False)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw")
    parser.add_argument("--out")
    args = parser.parse_args()
    prepare(args.raw, args.out)
'''

DVC_PIPELINE = '''stages:
  featurize:
    cmd: python src/featurize.py
    deps: [src/featurize.py, data/customers.csv]
    outs: [data/features.parquet]
  fit:
    cmd: python src/fit.py
    deps: [src/fit.py, data/features.parquet]
    outs: [models/model.joblib]
'''

FIT = TRAIN.replace("Train the churn classifier", "Fit the churn model")

CI_BUILD = '''name: build
on:
  push:
    branches: [main]
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: docker build -t ghcr.io/acme/churn:${{ github.sha }} .
      - run: docker push ghcr.io/acme/churn:${{ github.sha }}
'''

DOCKERFILE = '''FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY src/ src/
CMD ["python", "src/train.py"]
'''

TRAIN_WORKFLOW = '''name: train
on:
  workflow_dispatch:
jobs:
  train:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt
      - run: python src/train.py --features data/features.parquet
'''

SCHEDULED_TRAINING = '''name: nightly-retrain
on:
  schedule:
    - cron: "30 2 * * 1"
jobs:
  retrain:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt
      - run: python src/retrain.py
'''

DRIFT_RETRAIN_WORKFLOW = '''name: retrain-on-drift
on:
  repository_dispatch:
    types: [model-drift-detected]
jobs:
  retrain:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt
      - run: python src/retrain_on_drift.py
'''

DRIFT_MONITOR = '''"""Compare this week's scoring requests with the training reference for drift."""
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset


def drift_report(reference: str, current: str, out: str) -> None:
    report = Report([DataDriftPreset()])
    result = report.run(reference_data=pd.read_parquet(reference),
                        current_data=pd.read_parquet(current))
    result.save_html(out)
'''

TRACKED_EXPERIMENT = '''"""Hyper-parameter sweep, logged to the MLflow tracking server."""
import mlflow
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score


def sweep(features: str) -> None:
    frame = pd.read_parquet(features)
    target = frame.pop("churned")
    for c in (0.01, 0.1, 1.0):
        with mlflow.start_run():
            model = LogisticRegression(C=c, max_iter=500).fit(frame, target)
            mlflow.log_param("C", c)
            mlflow.log_metric("auc", roc_auc_score(target, model.predict_proba(frame)[:, 1]))
'''

REGISTER = '''"""Register the evaluated model version in the MLflow model registry."""
import sys

import mlflow

run_id = sys.argv[1]
version = mlflow.register_model(f"runs:/{run_id}/model", "churn-classifier")
print(f"registered churn-classifier version {version.version}")
'''

EVALUATE = '''"""Evaluate the candidate model and block promotion below the AUC threshold."""
import sys

import joblib
import pandas as pd
from sklearn.metrics import roc_auc_score

THRESHOLD = 0.80

model = joblib.load("models/model.joblib")
holdout = pd.read_parquet("data/holdout.parquet")
target = holdout.pop("churned")
auc = roc_auc_score(target, model.predict_proba(holdout)[:, 1])
print(f"holdout AUC {auc:.3f}")
if auc < THRESHOLD:
    sys.exit(f"AUC {auc:.3f} below {THRESHOLD}: not promoting")
'''

EVALUATE_WORKFLOW = '''name: evaluate
on:
  workflow_dispatch:
jobs:
  evaluate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt
      - run: python src/evaluate.py
'''

INFERENCE_SERVICE = '''apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: churn-classifier
  namespace: ml-serving
  labels:
    model: churn-classifier
spec:
  predictor:
    model:
      modelFormat:
        name: sklearn
      storageUri: s3://acme-models/churn-classifier/v12
'''

CANARY_SERVICE = '''apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: fraud-scorer
  namespace: ml-serving
spec:
  predictor:
    canaryTrafficPercent: 10
    model:
      modelFormat:
        name: xgboost
      storageUri: s3://acme-models/fraud-scorer/v7
'''

AUTOSCALED_SERVICE = '''apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: recommender
  namespace: ml-serving
spec:
  predictor:
    minReplicas: 2
    maxReplicas: 20
    scaleMetric: concurrency
    scaleTarget: 10
    model:
      modelFormat:
        name: pytorch
      storageUri: s3://acme-models/recommender/v3
'''

DEPLOY_WORKFLOW = '''name: deploy
on:
  push:
    branches: [main]
jobs:
  deploy-model:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: kubectl apply -f deploy/serving.yaml
'''

GATED_DEPLOY_WORKFLOW = '''name: release
on:
  workflow_dispatch:
jobs:
  release-model:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - run: kubectl apply -f deploy/release.yaml
'''

STAGED_DEPLOY_WORKFLOW = '''name: promote
on:
  push:
    tags: ["v*"]
jobs:
  staging:
    runs-on: ubuntu-latest
    environment: staging
    steps:
      - uses: actions/checkout@v4
      - run: kubectl apply -f deploy/staged.yaml --context staging
  production:
    needs: staging
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - run: kubectl apply -f deploy/staged.yaml --context production
'''

KFP_PIPELINE = '''"""The training pipeline, compiled and published to Kubeflow Pipelines from CI."""
import kfp
from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def train_op(features: str) -> str:
    return features


@dsl.pipeline(name="churn-training")
def training_pipeline(features: str = "gs://acme/features") -> None:
    train_op(features=features)


if __name__ == "__main__":
    compiler.Compiler().compile(training_pipeline, "pipeline.yaml")
    client = kfp.Client(host="https://kfp.internal.acme.com")
    client.upload_pipeline("pipeline.yaml", pipeline_name="churn-training")
'''

PUBLISH_PIPELINE_WORKFLOW = '''name: publish-pipeline
on:
  push:
    branches: [main]
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install kfp
      - run: python pipelines/publish.py
'''

MODEL_TESTS = '''"""Unit tests of the training code."""
import pandas as pd

from src.train import train


def test_train_writes_a_model(tmp_path):
    features = tmp_path / "features.parquet"
    pd.DataFrame({"tenure_days": [1, 200, 30, 400], "churned": [1, 0, 1, 0]}).to_parquet(features)
    output = tmp_path / "model.joblib"
    train(str(features), str(output))
    assert output.exists()
'''

GE_VALIDATION = '''"""Validate the raw extract before it feeds training."""
import great_expectations as gx

context = gx.get_context()
batch = context.data_sources.pandas_default.read_csv("data/raw/customers.csv")
suite = gx.ExpectationSuite(name="customers")
suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column="customer_id"))
result = batch.validate(suite)
if not result.success:
    raise SystemExit("raw customers extract failed validation")
'''

FEAST_REPO = '''project: churn
registry: data/registry.db
provider: local
online_store:
  type: sqlite
  path: data/online_store.db
entity_key_serialization_version: 2
'''

FEAST_FEATURES = '''"""Customer features shared by training and serving."""
from datetime import timedelta

from feast import Entity, FeatureView, Field, FileSource
from feast.types import Float32, Int64

customer = Entity(name="customer", join_keys=["customer_id"])
activity_source = FileSource(path="data/activity.parquet", timestamp_field="event_timestamp")
customer_activity = FeatureView(
    name="customer_activity",
    entities=[customer],
    ttl=timedelta(days=7),
    schema=[Field(name="sessions_7d", dtype=Int64), Field(name="spend_7d", dtype=Float32)],
    source=activity_source,
)
'''

TORCH_MODEL = '''"""A small feed-forward network for session embeddings."""
import torch
from torch import nn


class SessionEncoder(nn.Module):
    def __init__(self, features: int, hidden: int = 64) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, 16))

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.layers(batch)


def fit(model: nn.Module, loader, epochs: int = 5) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        for inputs, targets in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(inputs), targets)
            loss.backward()
            optimizer.step()
'''

SERVING_METRICS = '''"""Prediction API with Prometheus metrics per model."""
import joblib
from fastapi import FastAPI
from prometheus_client import Counter, Histogram, make_asgi_app

PREDICTIONS = Counter("model_predictions_total", "Predictions served", ["model"])
LATENCY = Histogram("model_prediction_latency_seconds", "Prediction latency", ["model"])

app = FastAPI()
app.mount("/metrics", make_asgi_app())
model = joblib.load("models/model.joblib")


@app.post("/predict")
def predict(rows: list[dict]) -> dict:
    with LATENCY.labels(model="churn").time():
        scores = model.predict_proba([list(r.values()) for r in rows])[:, 1]
    PREDICTIONS.labels(model="churn").inc(len(rows))
    return {"scores": scores.tolist()}
'''

DRIFT_ALERTS = '''groups:
  - name: model-drift
    rules:
      - alert: ChurnFeatureDrift
        expr: max by (model) (evidently_feature_drift_score{model="churn"}) > 0.3
        for: 30m
        labels:
          severity: warning
          model: churn
        annotations:
          summary: Input feature drift detected for the churn model
'''

DASHBOARD = '''{
  "title": "Churn model - serving and quality",
  "panels": [
    {"type": "timeseries", "title": "Predictions per second",
     "targets": [{"expr": "sum(rate(model_predictions_total{model=\\"churn\\"}[5m]))"}]},
    {"type": "timeseries", "title": "Prediction latency p95",
     "targets": [{"expr":
       "histogram_quantile(0.95, sum by (le) (rate(model_prediction_latency_seconds_bucket[5m])))"}]}
  ],
  "schemaVersion": 39
}
'''

SHAP_ANALYSIS = '''"""Explain the model's predictions on the holdout set."""
import joblib
import pandas as pd
import shap

model = joblib.load("models/model.joblib")
holdout = pd.read_parquet("data/holdout.parquet")
explainer = shap.TreeExplainer(model)
values = explainer.shap_values(holdout)
shap.summary_plot(values, holdout, show=False)
'''

MODEL_CARD = '''# Model card: churn classifier

## Intended use
Ranks active customers by probability of cancelling within 30 days, for the retention team.

## Training data
Twelve months of customer activity snapshots (2025-01 to 2025-12), 1.2 M rows.

## Evaluation
Holdout AUC 0.86; calibrated probabilities (Brier 0.09).

## Limitations
Not validated for customers younger than 30 days; retrained weekly.
'''

TERRAFORM = '''terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}

resource "aws_s3_bucket" "models" {
  bucket = "acme-ml-models"
}

resource "aws_iam_role" "training" {
  name               = "ml-training"
  assume_role_policy = file("policies/training-trust.json")
}
'''

DEPENDABOT = '''version: 2
updates:
  - package-ecosystem: pip
    directory: "/"
    schedule:
      interval: weekly
  - package-ecosystem: docker
    directory: "/"
    schedule:
      interval: weekly
'''

POETRY_LOCK = '''# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.

[[package]]
name = "pandas"
version = "2.2.2"
description = "Powerful data structures for data analysis"
optional = false
python-versions = ">=3.9"
files = []

[[package]]
name = "scikit-learn"
version = "1.5.0"
description = "A set of python modules for machine learning"
optional = false
python-versions = ">=3.9"
files = []

[metadata]
lock-version = "2.0"
python-versions = "^3.11"
content-hash = "4f2a1c0d2b0e9d7a"
'''

PYPROJECT_POETRY = '''[tool.poetry]
name = "churn"
version = "0.3.0"
description = "Churn model"
authors = ["Data Science <ds@acme.example>"]

[tool.poetry.dependencies]
python = "^3.11"
pandas = "2.2.2"
scikit-learn = "1.5.0"
'''

FRAGMENTS: dict[str, Files] = {
    "ml_work_present": {"src/train.py": TRAIN},
    "version_control": {"README.md": "# churn\n\nCustomer churn model.\n"},
    "scoring_script": {"src/score.py": SCORE},
    "scoring_script_versioned": {"src/score.py": SCORE},
    "training_code_versioned": {"src/train.py": TRAIN},
    "automated_data_pipeline": {"dvc.yaml": DVC_PREPARE, "src/prepare.py": PREPARE},
    "data_versioning": {
        "data/raw/customers.csv.dvc": "outs:\n- md5: 3f0b8c1a2e4d5f6a7b8c9d0e1f2a3b4c\n"
                                      "  size: 1048576\n  path: customers.csv\n",
    },
    "data_validation": {"src/validate_data.py": GE_VALIDATION},
    "feature_store": {"feature_repo/feature_store.yaml": FEAST_REPO,
                      "feature_repo/features.py": FEAST_FEATURES},
    "experiment_tracking": {"src/sweep.py": TRACKED_EXPERIMENT},
    "ml_metadata": {"src/sweep.py": TRACKED_EXPERIMENT},
    "model_versioning": {"src/register.py": REGISTER},
    "model_registry": {"src/register.py": REGISTER},
    "orchestrated_pipeline": {"pipeline/dvc.yaml": DVC_PIPELINE,
                              "pipeline/src/fit.py": FIT},
    "automated_training": {".github/workflows/train.yml": TRAIN_WORKFLOW,
                           "src/train.py": TRAIN},
    "retraining_trigger": {".github/workflows/nightly-retrain.yml": SCHEDULED_TRAINING,
                           "src/retrain.py": TRAIN},
    "scheduled_jobs": {".github/workflows/nightly-retrain.yml": SCHEDULED_TRAINING,
                       "src/retrain.py": TRAIN},
    "retraining_on_production_metrics": {
        ".github/workflows/retrain-on-drift.yml": DRIFT_RETRAIN_WORKFLOW,
        "src/retrain_on_drift.py": TRAIN,
        "monitoring/drift.py": DRIFT_MONITOR,
    },
    "distributed_or_deep_learning": {"src/encoder.py": TORCH_MODEL},
    "ci_pipeline": {".github/workflows/ci.yml": TEST_WORKFLOW},
    "ci_tests": {".github/workflows/ci.yml": TEST_WORKFLOW},
    "automated_release": {".github/workflows/build.yml": CI_BUILD, "Dockerfile": DOCKERFILE},
    "model_tests_in_ci": {".github/workflows/ci.yml": TEST_WORKFLOW, "src/train.py": TRAIN,
                          "tests/test_train.py": MODEL_TESTS},
    "automated_model_deployment": {".github/workflows/deploy.yml": DEPLOY_WORKFLOW,
                                   "deploy/serving.yaml": INFERENCE_SERVICE},
    "pipeline_deployment": {".github/workflows/publish-pipeline.yml": PUBLISH_PIPELINE_WORKFLOW,
                            "pipelines/publish.py": KFP_PIPELINE},
    "model_validation": {".github/workflows/evaluate.yml": EVALUATE_WORKFLOW,
                         "src/evaluate.py": EVALUATE},
    "gated_release": {".github/workflows/release.yml": GATED_DEPLOY_WORKFLOW,
                      "deploy/release.yaml": INFERENCE_SERVICE},
    "separate_environments": {".github/workflows/promote.yml": STAGED_DEPLOY_WORKFLOW,
                              "deploy/staged.yaml": INFERENCE_SERVICE},
    "model_serving": {"src/score.py": SCORE},
    "managed_serving": {"deploy/churn-isvc.yaml": INFERENCE_SERVICE},
    "progressive_delivery": {"deploy/fraud-isvc.yaml": CANARY_SERVICE},
    "scalable_serving": {"deploy/recommender-isvc.yaml": AUTOSCALED_SERVICE},
    "production_model_monitoring": {"monitoring/drift.py": DRIFT_MONITOR},
    "post_deployment_metrics": {"service/app.py": SERVING_METRICS},
    "drift_alerting": {"monitoring/rules/drift.rules.yml": DRIFT_ALERTS},
    "centralized_model_analytics": {"monitoring/dashboards/churn.json": DASHBOARD},
    "containerized_environment": {"Dockerfile": DOCKERFILE},
    "container_builds_in_ci": {".github/workflows/build.yml": CI_BUILD, "Dockerfile": DOCKERFILE},
    "reproducible_environment": {"pyproject.toml": PYPROJECT_POETRY, "poetry.lock": POETRY_LOCK},
    "model_documentation": {"MODEL_CARD.md": MODEL_CARD},
    "bias_and_explainability": {"analysis/explain.py": SHAP_ANALYSIS},
    "code_review": {".github/CODEOWNERS": "* @acme/ml-platform\n/src/ @acme/data-science\n"},
    "security_scanning": {".github/dependabot.yml": DEPENDABOT},
    "infrastructure_as_code": {"infra/main.tf": TERRAFORM},
}


def files_for(capabilities: set[str]) -> Files:
    """The union of the fragments of these capabilities (a README keeps the repo non-empty)."""
    files: Files = {"README.md": "# example\n"}
    for capability in sorted(capabilities):
        files.update(FRAGMENTS[capability])
    return files
