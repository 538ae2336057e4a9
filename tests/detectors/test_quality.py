"""Quality, reproducibility and governance detectors."""

from __future__ import annotations

import json

from conftest import MakeRepo, by_signal, detect
from maturity_probe.detectors.context import Finding
from maturity_probe.detectors.quality import base_image, dockerfile_stages, requirement_lines


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def one(findings: list[Finding], signal: str, path: str) -> Finding:
    matching = [f for f in by_signal(findings, signal) if f.path == path]
    assert len(matching) == 1, (signal, path, [(f.path, f.summary) for f in findings])
    return matching[0]


def paths(findings: list[Finding], signal: str) -> set[str]:
    return {f.path for f in by_signal(findings, signal)}


# -- tests of model code ---------------------------------------------------------------------------
TRAIN = '''\
import pandas as pd
from sklearn.linear_model import LogisticRegression


def train(frame: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression(max_iter=500).fit(frame.drop(columns="y"), frame["y"])
'''

FEATURES = '''\
import pandas as pd


def add_tenure(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["tenure_days"] = (frame["snapshot"] - frame["signup"]).dt.days
    return frame
'''

SLUGS = '''\
import re


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
'''

TEST_TRAIN = '''\
"""Training converges on a separable toy set."""
import pandas as pd

from churn.training import train


def test_train_separates_classes():
    frame = pd.DataFrame({"x": [0, 1, 0, 1], "y": [0, 1, 0, 1]})
    model = train(frame)
    assert (model.predict(frame[["x"]]) == frame["y"]).all()
'''

TEST_FEATURES = '''\
import pandas as pd

from churn.features import add_tenure


def test_tenure_in_days():
    frame = pd.DataFrame({"snapshot": pd.to_datetime(["2025-01-31"]),
                          "signup": pd.to_datetime(["2025-01-01"])})
    assert add_tenure(frame)["tenure_days"].tolist() == [30]
'''

TEST_TORCH = '''\
import torch


def test_softmax_sums_to_one():
    probabilities = torch.softmax(torch.tensor([1.0, 2.0, 3.0]), dim=0)
    assert torch.isclose(probabilities.sum(), torch.tensor(1.0))
'''

TEST_SLUGS = '''\
from churn.text import slugify


def test_slugify():
    assert slugify("Hello World!") == "hello-world"
'''


def test_tests_of_model_code_and_ml_libraries(make_repo: MakeRepo) -> None:
    root = make_repo({
        "src/churn/__init__.py": "",
        "src/churn/training.py": TRAIN,
        "src/churn/features.py": FEATURES,
        "src/churn/text.py": SLUGS,
        "tests/test_training.py": TEST_TRAIN,
        "tests/unit/test_features.py": TEST_FEATURES,
        "tests/test_numerics.py": TEST_TORCH,
        "tests/test_text.py": TEST_SLUGS,
        "tests/conftest.py": "import pytest\n",
    })
    findings = detect(root)
    found = {f.path: f for f in by_signal(findings, "quality.model_tests")}
    assert set(found) == {"tests/test_training.py", "tests/unit/test_features.py",
                          "tests/test_numerics.py"}  # not the slug helper's test
    training = found["tests/test_training.py"]
    assert training.line == line_of(TEST_TRAIN, "from churn.training")
    assert training.attributes == {"kind": "project_ml_code", "target": "churn.training",
                                   "tests": 1}
    assert "src/churn/training.py trains a model" in training.summary
    assert found["tests/unit/test_features.py"].attributes["target"] == "churn.features"
    assert found["tests/test_numerics.py"].attributes["kind"] == "ml_library"


def test_no_tests_no_model_tests(make_repo: MakeRepo) -> None:
    findings = detect(make_repo({"src/churn/training.py": TRAIN, "src/test_data.csv": "a,b\n"}))
    assert not by_signal(findings, "quality.model_tests")


# -- data validation -----------------------------------------------------------------------------
GX_CODE = '''\
import great_expectations as gx

context = gx.get_context()
validator = context.sources.pandas_default.read_csv("data/raw/orders.csv")
validator.expect_column_values_to_not_be_null("order_id")
'''

PANDERA_SCHEMA = '''\
import pandera as pa
from pandera.typing import Series


class Orders(pa.DataFrameModel):
    order_id: Series[int] = pa.Field(unique=True)
    amount: Series[float] = pa.Field(ge=0)
'''

DEEPCHECKS_DATA = '''\
from deepchecks.tabular import Dataset
from deepchecks.tabular.suites import data_integrity

suite = data_integrity()
result = suite.run(Dataset(frame, label="churned"))
'''

PANDERA_UNUSED = '''\
# import great_expectations as gx
import pandera  # noqa: F401  (planned)

NOTE = "great_expectations.get_context() will validate this later"
'''

GX_CONFIG = '''\
config_version: 3.0
datasources: {}
stores:
  expectations_store:
    class_name: ExpectationsStore
expectations_store_name: expectations_store
'''

GX_SUITE = '''\
{
  "expectation_suite_name": "orders",
  "expectations": [
    {"expectation_type": "expect_column_values_to_not_be_null", "kwargs": {"column": "order_id"}},
    {"expectation_type": "expect_column_values_to_be_between",
     "kwargs": {"column": "amount", "min_value": 0}}
  ],
  "meta": {"great_expectations_version": "0.18.8"}
}
'''

SODA_CHECKS = '''\
checks for orders:
  - row_count > 0
  - missing_count(order_id) = 0
  - duplicate_count(order_id) = 0
'''


def test_data_validation_in_code_and_config(make_repo: MakeRepo) -> None:
    root = make_repo({
        "validation/gx_check.py": GX_CODE,
        "validation/schemas.py": PANDERA_SCHEMA,
        "validation/integrity.py": DEEPCHECKS_DATA,
        "gx/great_expectations.yml": GX_CONFIG,
        "gx/expectations/orders.json": GX_SUITE,
        "contracts/expectations/customers.json": GX_SUITE.replace("orders", "customers"),
        "soda/checks.yml": SODA_CHECKS,
        "src/todo.py": PANDERA_UNUSED,
    })
    findings = detect(root)
    found = {f.path: f for f in by_signal(findings, "quality.data_validation")}
    assert set(found) == {"validation/gx_check.py", "validation/schemas.py",
                          "validation/integrity.py", "gx/great_expectations.yml",
                          "contracts/expectations/customers.json", "soda/checks.yml"}
    assert found["validation/gx_check.py"].attributes["library"] == "great_expectations"
    assert found["validation/schemas.py"].attributes["library"] == "pandera"
    assert found["validation/schemas.py"].line == line_of(PANDERA_SCHEMA, "class Orders")
    assert found["validation/integrity.py"].attributes["library"] == "deepchecks"
    assert found["gx/great_expectations.yml"].attributes["suites"] == 1
    assert found["contracts/expectations/customers.json"].attributes["expectations"] == 2
    assert found["soda/checks.yml"].attributes["library"] == "soda"


# -- model validation ----------------------------------------------------------------------------
MLFLOW_GATE = '''\
import mlflow
from mlflow.models import MetricThreshold

thresholds = {"roc_auc": MetricThreshold(threshold=0.8, min_absolute_change=0.01,
                                         greater_is_better=True)}
with mlflow.start_run():
    mlflow.evaluate(candidate_uri, holdout, targets="churned", model_type="classifier",
                    validation_thresholds=thresholds, baseline_model=baseline_uri)
'''

MLFLOW_NO_GATE = '''\
import mlflow

with mlflow.start_run():
    result = mlflow.evaluate(candidate_uri, holdout, targets="churned", model_type="classifier")
    print(result.metrics["roc_auc"])
'''

DEEPCHECKS_MODEL = '''\
from deepchecks.tabular.suites import model_evaluation

result = model_evaluation().run(train_ds, test_ds, model)
result.save_as_html("reports/model_evaluation.html")
'''

SAGEMAKER_GATED = '''\
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import ProcessingStep, TrainingStep

train = TrainingStep(name="TrainModel", estimator=estimator)
evaluate = ProcessingStep(name="EvaluateModel", processor=processor, code="evaluate.py")
gate = ConditionStep(name="AucAboveThreshold",
                     conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=0.8)],
                     if_steps=[register], else_steps=[])
pipeline = Pipeline(name="ChurnPipeline", steps=[train, evaluate, gate])
'''

KFP_UNGATED = '''\
from kfp import dsl


@dsl.component
def fetch_data() -> str:
    return "gs://acme/raw.csv"


@dsl.component
def train_model(data: str) -> str:
    return data


@dsl.pipeline(name="no-gate")
def pipeline(full: bool = True) -> None:
    data = fetch_data()
    with dsl.If(full == True):  # noqa: E712  (a parameter switch, not an evaluation)
        train_model(data=data.output)
'''


def test_model_validation_thresholds_suites_and_pipeline_gates(make_repo: MakeRepo) -> None:
    root = make_repo({
        "validation/gate.py": MLFLOW_GATE,
        "validation/report.py": MLFLOW_NO_GATE,
        "validation/deepchecks_suite.py": DEEPCHECKS_MODEL,
        "sm/pipeline.py": SAGEMAKER_GATED,
        "kfp/pipeline.py": KFP_UNGATED,
    })
    findings = detect(root)
    found = {f.path: f for f in by_signal(findings, "quality.model_validation")}
    assert set(found) == {"validation/gate.py", "validation/deepchecks_suite.py",
                          "sm/pipeline.py"}
    assert found["validation/gate.py"].line == line_of(MLFLOW_GATE, "mlflow.evaluate(")
    assert found["validation/gate.py"].attributes == {"kind": "code", "call": "mlflow.evaluate"}
    assert found["sm/pipeline.py"].attributes == {"kind": "pipeline_gate",
                                                  "framework": "sagemaker"}
    assert found["sm/pipeline.py"].line == line_of(SAGEMAKER_GATED, "gate = ConditionStep")
    assert "ConditionStep" in found["sm/pipeline.py"].summary


# -- bias and explainability ---------------------------------------------------------------------
FAIRLEARN = '''\
from fairlearn.metrics import MetricFrame, selection_rate

frame = MetricFrame(metrics=selection_rate, y_true=y, y_pred=predictions,
                    sensitive_features=customers["age_band"])
print(frame.by_group)
'''

SHAP_NOTEBOOK_CODE = '''\
import shap

explainer = shap.Explainer(model)
shap.plots.beeswarm(explainer(holdout))
'''

COMMENTED_SHAP = '''\
# import shap
# explainer = shap.TreeExplainer(model)
EXPLAIN = "run shap.TreeExplainer(model) to explain"
'''


def test_bias_and_explainability_libraries(make_repo: MakeRepo) -> None:
    notebook = json.dumps({"cells": [{"cell_type": "code", "source": SHAP_NOTEBOOK_CODE,
                                      "metadata": {}, "outputs": []}],
                           "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    root = make_repo({"analysis/fairness.py": FAIRLEARN, "notebooks/explain.ipynb": notebook,
                      "analysis/later.py": COMMENTED_SHAP})
    found = {f.path: f for f in by_signal(detect(root), "quality.bias_explainability")}
    assert set(found) == {"analysis/fairness.py", "notebooks/explain.ipynb"}
    assert found["analysis/fairness.py"].attributes["library"] == "fairlearn"
    assert found["analysis/fairness.py"].line == 3
    assert found["notebooks/explain.ipynb"].line is None
    assert found["notebooks/explain.ipynb"].attributes["library"] == "shap"


# -- pinned environments ---------------------------------------------------------------------------
PINNED_REQUIREMENTS = '''\
# Generated by pip-compile
--index-url https://pypi.org/simple
pandas==2.2.2
scikit-learn==1.5.0 \\
    --hash=sha256:5a5e1d1bd3c3b6c4f8e0e7f7c8f1a3c2e4d6b8a0c2e4f6a8b0d2e4f6a8c0e2f4
numpy===1.26.4  # exact
'''

LOOSE_REQUIREMENTS = '''\
pandas>=2.0
scikit-learn==1.5.0
mlflow
'''

CONDA_PINNED = '''\
name: churn
channels:
  - conda-forge
dependencies:
  - python=3.11.9
  - pandas=2.2.2
  - conda-forge::scikit-learn==1.5.0
  - pip
  - pip:
      - mlflow==2.14.1
'''

CONDA_LOOSE = '''\
name: exploration
dependencies:
  - python=3.11
  - pandas
  - pip:
      - mlflow>=2
'''


def test_pinned_environments(make_repo: MakeRepo) -> None:
    root = make_repo({
        "poetry.lock": "[[package]]\nname = \"pandas\"\nversion = \"2.2.2\"\n",
        "service/uv.lock": "version = 1\n",
        "requirements.txt": PINNED_REQUIREMENTS,
        "requirements-dev.txt": LOOSE_REQUIREMENTS,
        "environment.yml": CONDA_PINNED,
        "notebooks/environment.yaml": CONDA_LOOSE,
    })
    found = {f.path: f for f in by_signal(detect(root), "repro.pinned_environment")}
    assert set(found) == {"poetry.lock", "service/uv.lock", "requirements.txt", "environment.yml"}
    assert found["poetry.lock"].attributes["kind"] == "poetry.lock"
    assert found["service/uv.lock"].attributes["kind"] == "uv.lock"
    requirements = found["requirements.txt"]
    assert requirements.attributes["kind"] == "requirements"
    assert requirements.attributes["total"] == 3
    assert requirements.attributes["ratio"] == 1.0
    assert requirements.line == 3
    conda = found["environment.yml"]
    assert conda.attributes == {"kind": "conda", "pinned": 4, "total": 4, "ratio": 1.0}
    assert conda.line == line_of(CONDA_PINNED, "dependencies:")


def test_requirement_lines_join_continuations_and_skip_options() -> None:
    lines = requirement_lines(PINNED_REQUIREMENTS)
    assert [n for n, _ in lines] == [3, 4, 6]
    assert "--hash=sha256" in lines[1][1]


# -- container images ---------------------------------------------------------------------------------
MULTI_STAGE = '''\
# syntax=docker/dockerfile:1
ARG PYTHON=3.11
FROM --platform=linux/amd64 python:${PYTHON}-slim AS builder
RUN pip wheel -r requirements.txt -w /wheels

FROM nvidia/cuda:12.2.0-runtime-ubuntu22.04 AS runtime
COPY --from=builder /wheels /wheels

FROM runtime
CMD ["python", "-m", "churn.serve"]
'''

DEVCONTAINER = '''\
// Development container for the data science team
{
  "name": "churn",
  "image": "mcr.microsoft.com/devcontainers/python:3.11",  // pinned minor
  /* extensions for notebooks */
  "customizations": {"vscode": {"extensions": ["ms-toolsai.jupyter"]}},
  "postCreateCommand": "pip install -r requirements.txt",
}
'''


def test_dockerfiles_and_devcontainers(make_repo: MakeRepo) -> None:
    root = make_repo({"docker/train.Dockerfile": MULTI_STAGE,
                      "Dockerfile": "FROM python:3.11-slim\nCOPY . /app\n",
                      ".devcontainer/devcontainer.json": DEVCONTAINER,
                      "docs/Dockerfile.md": "# How we build images\nSee the Dockerfile.\n"})
    found = {f.path: f for f in by_signal(detect(root), "repro.container_image")}
    assert set(found) == {"docker/train.Dockerfile", "Dockerfile",
                          ".devcontainer/devcontainer.json"}
    train = found["docker/train.Dockerfile"]
    assert train.attributes == {"kind": "dockerfile", "stages": 3,
                                "base_image": "nvidia/cuda:12.2.0-runtime-ubuntu22.04"}
    assert train.line == line_of(MULTI_STAGE, "FROM runtime")
    dev = found[".devcontainer/devcontainer.json"]
    assert dev.attributes["base_image"] == "mcr.microsoft.com/devcontainers/python:3.11"
    assert dev.line == line_of(DEVCONTAINER, '"image"')


def test_base_image_follows_stage_names() -> None:
    stages = dockerfile_stages(MULTI_STAGE)
    assert [image for _, image, _ in stages] == ["python:${PYTHON}-slim",
                                                 "nvidia/cuda:12.2.0-runtime-ubuntu22.04",
                                                 "runtime"]
    assert base_image(stages) == "nvidia/cuda:12.2.0-runtime-ubuntu22.04"


# -- model cards ----------------------------------------------------------------------------------------
HF_README = '''\
---
license: apache-2.0
library_name: transformers
pipeline_tag: text-classification
model-index:
  - name: ticket-router
    results: []
---

# ticket-router

Routes support tickets to teams.
'''

DOCS_README = '''\
---
license: mit
title: Project documentation
---

# Docs
'''


def test_model_cards(make_repo: MakeRepo) -> None:
    root = make_repo({
        "MODEL_CARD.md": "# Model card: churn\n\n## Intended use\nRetention targeting.\n",
        "models/ticket-router/README.md": HF_README,
        "docs/README.md": DOCS_README,
        "docs/model-card-template.md": "",
        "reports/card.py": "import model_card_toolkit as mct\n\ntoolkit = mct.ModelCardToolkit('out')\n",
    })
    found = {f.path: f for f in by_signal(detect(root), "governance.model_card")}
    assert set(found) == {"MODEL_CARD.md", "models/ticket-router/README.md", "reports/card.py"}
    assert found["models/ticket-router/README.md"].attributes == {"kind": "huggingface"}
    assert found["models/ticket-router/README.md"].line == line_of(HF_README, "model-index")
    assert found["MODEL_CARD.md"].line == 1


# -- code review -------------------------------------------------------------------------------------------
SETTINGS = '''\
repository:
  name: churn
branches:
  - name: main
    protection:
      required_pull_request_reviews:
        required_approving_review_count: 2
        dismiss_stale_reviews: true
      enforce_admins: true
'''


def test_codeowners_and_review_settings(make_repo: MakeRepo) -> None:
    root = make_repo({
        "docs/CODEOWNERS": "# owners\n\n/src/models/ @acme/ml-team\n*.tf ops@acme.example\n",
        "src/CODEOWNERS": "* @someone\n",  # not a location a host reads
        ".github/settings.yml": SETTINGS,
    })
    found = {f.path: f for f in by_signal(detect(root), "governance.code_review")}
    assert set(found) == {"docs/CODEOWNERS", ".github/settings.yml"}
    assert found["docs/CODEOWNERS"].line == 3
    assert found["docs/CODEOWNERS"].attributes["owners"] == ["@acme/ml-team", "ops@acme.example"]
    assert found[".github/settings.yml"].attributes == {"kind": "branch-protection",
                                                         "approvals": 2}


def test_codeowners_without_rules_is_no_review(make_repo: MakeRepo) -> None:
    root = make_repo({".github/CODEOWNERS": "# TODO: add owners\n\n",
                      ".github/settings.yml": SETTINGS.replace("2", "0")})
    assert not by_signal(detect(root), "governance.code_review")


# -- feature stores ------------------------------------------------------------------------------------------
FEAST_YAML = '''\
project: churn_features
registry: data/registry.db
provider: local
online_store:
  type: redis
  connection_string: "localhost:6379"
'''

FEAST_DEFS = '''\
from datetime import timedelta

from feast import Entity, FeatureView, Field, FileSource
from feast.types import Int64

customer = Entity(name="customer", join_keys=["customer_id"])
activity = FeatureView(name="activity", entities=[customer], ttl=timedelta(days=1),
                       schema=[Field(name="sessions", dtype=Int64)],
                       source=FileSource(path="data/activity.parquet", timestamp_field="ts"))
'''

SAGEMAKER_FEATURES = '''\
from sagemaker.feature_store.feature_group import FeatureGroup

group = FeatureGroup(name="customers", sagemaker_session=session)
group.load_feature_definitions(data_frame=frame)
group.create(s3_uri="s3://acme/offline", record_identifier_name="customer_id",
             event_time_feature_name="ts", role_arn=role, enable_online_store=True)
'''


def test_feature_stores(make_repo: MakeRepo) -> None:
    root = make_repo({"feature_repo/feature_store.yaml": FEAST_YAML,
                      "feature_repo/definitions.py": FEAST_DEFS,
                      "aws/features.py": SAGEMAKER_FEATURES,
                      "configs/feature_store.yaml": "enabled: false\n"})
    found = {f.path: f for f in by_signal(detect(root), "feature_store.definition")}
    assert set(found) == {"feature_repo/feature_store.yaml", "feature_repo/definitions.py",
                          "aws/features.py"}
    assert found["feature_repo/feature_store.yaml"].attributes["project"] == "churn_features"
    assert found["feature_repo/definitions.py"].attributes["tool"] == "feast"
    assert found["feature_repo/definitions.py"].line == line_of(FEAST_DEFS, "Entity(")
    assert found["aws/features.py"].attributes["tool"] == "sagemaker"


# -- infrastructure as code ---------------------------------------------------------------------------------
TERRAFORM = '''\
# ML platform buckets
resource "aws_s3_bucket" "models" {
  bucket = "acme-models"
}
'''

CLOUDFORMATION = '''\
AWSTemplateFormatVersion: "2010-09-09"
Description: Model endpoint
Resources:
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointConfigName: !Ref EndpointConfig
'''

BICEP = '''\
param location string = resourceGroup().location

resource workspace 'Microsoft.MachineLearningServices/workspaces@2024-04-01' = {
  name: 'mlw-churn'
  location: location
}
'''


def test_infrastructure_as_code_one_finding_per_tool(make_repo: MakeRepo) -> None:
    root = make_repo({
        "infra/main.tf": TERRAFORM,
        "infra/storage.tf": TERRAFORM.replace("models", "data"),
        "infra/variables.tf": 'variable "region" {\n  default = "eu-west-1"\n}\n',
        "cfn/endpoint.yaml": CLOUDFORMATION,
        "azure/workspace.bicep": BICEP,
        "charts/churn/Chart.yaml": "apiVersion: v2\nname: churn\nversion: 0.1.0\n",
        "deploy/overlays/prod/kustomization.yaml": "resources:\n  - ../../base\n",
        "Pulumi.yaml": "name: ml-platform\nruntime: python\n",
        "docs/aws.yaml": "# mentions AWS::S3::Bucket but is not a template\nnotes: []\n",
    })
    found = {f.attributes["tool"]: f for f in by_signal(detect(root), "infra.as_code")}
    assert set(found) == {"terraform", "cloudformation", "bicep", "helm", "kustomize", "pulumi"}
    terraform = found["terraform"]
    assert terraform.path == "infra/main.tf"
    assert terraform.line == 2
    assert terraform.attributes["files"] == 2  # variables only is no infrastructure
    assert found["cloudformation"].path == "cfn/endpoint.yaml"
    assert found["bicep"].line == line_of(BICEP, "resource workspace")
    assert found["kustomize"].path == "deploy/overlays/prod/kustomization.yaml"


def test_no_quality_signals_in_a_bare_repository(make_repo: MakeRepo) -> None:
    findings = detect(make_repo({"README.md": "# demo\n", "src/app.py": "print('hello')\n"}))
    quality = {"quality.model_tests", "quality.data_validation", "quality.model_validation",
               "quality.bias_explainability", "repro.pinned_environment", "repro.container_image",
               "governance.model_card", "governance.code_review", "feature_store.definition",
               "infra.as_code"}
    assert not [f for f in findings if f.signal in quality]
