"""ML code detectors: training scripts and their history, notebooks, experiment tracking,
model registration, distributed and deep learning stacks, and inputs that must be skipped."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from conftest import MakeRepo, by_signal, detect, detect_with_context, signals
from maturity_probe.detectors.context import RepoContext
from maturity_probe.detectors.mlcode import training_scripts
from maturity_probe.filetree import LocalTree

TRAIN_SKLEARN = '''\
"""Train the churn classifier."""
import argparse

import joblib
import pandas as pd
from sklearn.ensemble import RandomForestClassifier


def main(features: str, output: str) -> None:
    frame = pd.read_parquet(features)
    target = frame.pop("churned")
    clf = RandomForestClassifier(n_estimators=200)
    clf.fit(frame, target)
    joblib.dump(clf, output)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--features")
    parser.add_argument("--output")
    args = parser.parse_args()
    main(args.features, args.output)
'''

TRAIN_TORCH_LOOP = '''\
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


def run(loader) -> None:
    net = Net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(net(inputs), targets)
        loss.backward()
        optimizer.step()
'''

CURVE_FIT = '''\
"""Fit a growth curve to monthly sign-ups (no ML library involved)."""
import numpy as np


def fit(xs, ys):
    return np.polyfit(xs, ys, deg=2)


coefficients = fit([1, 2, 3], [2, 4, 9])
'''

TRAIN_IN_TEST = '''\
from sklearn.linear_model import LogisticRegression


def test_model_learns():
    model = LogisticRegression().fit([[0], [1]], [0, 1])
    assert model.predict([[1]])[0] == 1
'''

MLFLOW_AUTOLOG = '''\
import mlflow
import xgboost as xgb


def train(dtrain, params):
    mlflow.set_experiment("fraud")
    mlflow.xgboost.autolog()
    with mlflow.start_run():
        booster = xgb.train(params, dtrain, num_boost_round=200)
        mlflow.log_metric("best_iteration", booster.best_iteration)
    return booster
'''

WANDB_LOGGING = '''\
import wandb as wb


def sweep(config):
    run = wb.init(project="recsys", config=config)
    for epoch in range(config["epochs"]):
        wb.log({"epoch": epoch, "loss": 1.0 / (epoch + 1)})
    run.finish()
'''

LIGHTNING_LOGGER = '''\
import pytorch_lightning as pl
from pytorch_lightning.loggers import MLFlowLogger


def fit(model, data):
    logger = MLFlowLogger(experiment_name="encoder", tracking_uri="http://mlflow:5000")
    pl.Trainer(max_epochs=5, logger=logger).fit(model, data)
'''

COMMENTED_TRACKING = '''\
"""Baseline without tracking (the MLflow calls were switched off)."""
# import mlflow
# import wandb
import pandas as pd

HELP = "call mlflow.log_metric('auc', value) to record the metric"


def summarize(frame: pd.DataFrame) -> dict:
    # mlflow.log_metric("rows", len(frame))
    return {"rows": len(frame), "note": "wandb.log is not used here"}
'''

MLFLOW_LOAD_ONLY = '''\
import mlflow.pyfunc

model = mlflow.pyfunc.load_model("models:/churn/Production")
'''

REGISTRY_CALLS = '''\
import mlflow
from mlflow.tracking import MlflowClient
from sklearn.linear_model import Ridge


def train_and_register(x, y):
    with mlflow.start_run() as run:
        model = Ridge().fit(x, y)
        mlflow.sklearn.log_model(model, "model", registered_model_name="demand-forecast")
    client = MlflowClient()
    version = MlflowClient().create_model_version("demand-forecast", f"runs:/{run.info.run_id}/model",
                                                  run.info.run_id)
    client.set_registered_model_alias("demand-forecast", "champion", version.version)
'''

SAGEMAKER_REGISTER = '''\
from sagemaker.model import Model

model = Model(image_uri="123.dkr.ecr.eu-west-1.amazonaws.com/churn:1", model_data="s3://m/model.tar.gz")
model.register(
    content_types=["text/csv"],
    response_types=["text/csv"],
    model_package_group_name="churn-models",
    approval_status="PendingManualApproval",
)
'''

AZURE_REGISTER = '''\
from azure.ai.ml import MLClient
from azure.ai.ml.entities import Model
from azure.identity import DefaultAzureCredential

ml_client = MLClient.from_config(DefaultAzureCredential())
ml_client.models.create_or_update(Model(path="outputs/model", name="credit-risk", type="mlflow_model"))
'''

VERTEX_UPLOAD = '''\
from google.cloud import aiplatform

aiplatform.init(project="acme-ml", location="europe-west4")
aiplatform.Model.upload(
    display_name="churn",
    artifact_uri="gs://acme-models/churn/",
    serving_container_image_uri="europe-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest",
)
'''

NOT_A_REGISTRY = '''\
import atexit

REGISTRY = {}


def register_model(name, factory):
    REGISTRY[name] = factory


register_model("baseline", dict)
atexit.register(REGISTRY.clear)
'''

SPARK_JOB = '''\
from pyspark.sql import SparkSession, functions as F

spark = SparkSession.builder.appName("features").getOrCreate()
events = spark.read.parquet("s3://acme/events/")
events.groupBy("customer_id").agg(F.count("*").alias("events")).write.parquet("s3://acme/f/")
'''

RAY_TUNE = '''\
import ray
from ray import tune


def objective(config):
    return {"score": config["x"] ** 2}


ray.init()
tune.Tuner(objective, param_space={"x": tune.uniform(0, 1)}).fit()
'''

UNUSED_IMPORTS = '''\
import dask  # noqa: F401  (kept for the optional backend)
import tensorflow as tf  # noqa: F401

ROWS = 10
'''

KERAS_MODEL = '''\
from tensorflow import keras

model = keras.Sequential([keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
'''


def notebook(*cells: str) -> str:
    return json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "source": cell.splitlines(True),
                   "outputs": [], "execution_count": None} for cell in cells],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    })


# -- training scripts ----------------------------------------------------------------------------
def test_training_script_is_found_with_its_library_and_fit_line(make_repo: MakeRepo) -> None:
    root = make_repo({"src/train.py": TRAIN_SKLEARN, "src/net.py": TRAIN_TORCH_LOOP})
    found = {f.path: f for f in by_signal(detect(root), "code.ml_training")}
    assert set(found) == {"src/train.py", "src/net.py"}
    sklearn = found["src/train.py"]
    assert sklearn.line == 13  # clf.fit(frame, target)
    assert sklearn.attributes["library"] == "sklearn"
    assert "src/train.py" in sklearn.summary and "fit" in sklearn.summary
    torch = found["src/net.py"]
    assert torch.attributes["library"] == "torch"
    assert torch.line == 20  # loss.backward(): a training loop
    assert "training loop" in torch.summary


def test_fit_without_ml_library_and_tests_are_not_training_code(make_repo: MakeRepo) -> None:
    root = make_repo({"src/growth.py": CURVE_FIT, "tests/test_model.py": TRAIN_IN_TEST,
                      "src/model_test.py": TRAIN_IN_TEST})
    assert by_signal(detect(root), "code.ml_training") == []


def test_training_code_history_comes_from_one_git_log(make_repo: MakeRepo) -> None:
    root = make_repo(
        {"src/train.py": TRAIN_SKLEARN, "src/growth.py": CURVE_FIT},
        commits=[{"src/train.py": TRAIN_SKLEARN.replace("200", "300"),
                  "__date__": "2026-02-10T09:30:00+00:00"}],
    )
    (root / "scratch_train.py").write_text(TRAIN_SKLEARN)  # untracked: not versioned
    findings, ctx = detect_with_context(root)
    assert {f.path for f in by_signal(findings, "code.ml_training")} == {
        "src/train.py", "scratch_train.py"}
    versioned = by_signal(findings, "vcs.training_code_versioned")
    assert [f.path for f in versioned] == ["src/train.py"]
    finding = versioned[0]
    assert finding.attributes["commits"] == 2
    assert finding.occurred_at == datetime(2026, 2, 10, 9, 30, tzinfo=UTC)
    assert finding.attributes["last_change"].startswith("2026-02-10")
    assert finding.line == 13
    # the list is computed once and shared with other detectors
    assert training_scripts(ctx) is training_scripts(ctx)


def test_outside_git_training_code_is_found_but_not_versioned(make_repo: MakeRepo) -> None:
    root = make_repo({"src/train.py": TRAIN_SKLEARN}, git_repo=False)
    found = signals(detect(root))
    assert "code.ml_training" in found
    assert "vcs.training_code_versioned" not in found


# -- notebooks ---------------------------------------------------------------------------------------
def test_notebooks_are_counted_once_and_are_not_pipelines(make_repo: MakeRepo) -> None:
    dag_cell = ('from airflow import DAG\nfrom airflow.operators.python import PythonOperator\n'
                'with DAG("nb_train", schedule="@daily") as dag:\n'
                '    PythonOperator(task_id="train_model", python_callable=print)\n')
    kfp_cell = ('from kfp import dsl\n\n@dsl.component\ndef train_op() -> None:\n    pass\n\n'
                '@dsl.pipeline(name="nb")\ndef pipe() -> None:\n    train_op()\n')
    files = {
        "notebooks/01_eda.ipynb": notebook("import pandas as pd\ndf = pd.read_csv('x.csv')"),
        "notebooks/02_pipeline.ipynb": notebook(dag_cell, kfp_cell),
        "notebooks/03_tracking.ipynb": notebook("%pip install mlflow", MLFLOW_AUTOLOG),
        "notebooks/.ipynb_checkpoints/01_eda-checkpoint.ipynb": notebook("x = 1"),
    }
    findings = detect(make_repo(files))
    counted = by_signal(findings, "code.notebooks")
    assert len(counted) == 1
    assert counted[0].attributes["count"] == 3
    assert counted[0].attributes["paths"] == [
        "notebooks/01_eda.ipynb", "notebooks/02_pipeline.ipynb", "notebooks/03_tracking.ipynb"]
    assert not by_signal(findings, "pipeline.orchestrated")
    assert not by_signal(findings, "retrain.scheduled")
    assert not by_signal(findings, "code.ml_training")  # notebooks count as notebooks
    tracking = by_signal(findings, "code.experiment_tracking")
    assert [(f.path, f.line) for f in tracking] == [("notebooks/03_tracking.ipynb", None)]


def test_no_notebooks_no_finding(make_repo: MakeRepo) -> None:
    assert not by_signal(detect(make_repo({"src/train.py": TRAIN_SKLEARN})), "code.notebooks")


# -- experiment tracking --------------------------------------------------------------------------
def test_experiment_tracking_per_file_with_library_and_kinds(make_repo: MakeRepo) -> None:
    root = make_repo({"src/train_xgb.py": MLFLOW_AUTOLOG, "src/sweep.py": WANDB_LOGGING,
                      "src/encoder.py": LIGHTNING_LOGGER})
    found = {f.path: f for f in by_signal(detect(root), "code.experiment_tracking")}
    assert set(found) == {"src/train_xgb.py", "src/sweep.py", "src/encoder.py"}
    mlflow = found["src/train_xgb.py"]
    assert mlflow.attributes["library"] == "mlflow"
    assert mlflow.attributes["kinds"] == ["autolog", "log_metric", "run"]
    assert mlflow.line == 6  # mlflow.set_experiment
    wandb = found["src/sweep.py"]  # imported under an alias
    assert wandb.attributes["library"] == "wandb"
    assert wandb.attributes["kinds"] == ["log_metric", "run"]
    assert found["src/encoder.py"].attributes == {
        "library": "mlflow", "libraries": ["mlflow"], "kinds": ["logger"]}


def test_comments_and_strings_are_not_tracking(make_repo: MakeRepo) -> None:
    root = make_repo({"src/baseline.py": COMMENTED_TRACKING, "src/serve.py": MLFLOW_LOAD_ONLY})
    findings = detect(root)
    assert not by_signal(findings, "code.experiment_tracking")
    assert not by_signal(findings, "code.model_registration")


# -- model registration ----------------------------------------------------------------------------
def test_model_registration_calls_with_registry_and_model(make_repo: MakeRepo) -> None:
    root = make_repo({"src/register.py": REGISTRY_CALLS, "aws/register.py": SAGEMAKER_REGISTER,
                      "azure/register.py": AZURE_REGISTER, "gcp/upload.py": VERTEX_UPLOAD})
    found = by_signal(detect(root), "code.model_registration")
    got = sorted((f.path, f.line, f.attributes["registry"], f.attributes.get("model"))
                 for f in found)
    assert got == [
        ("aws/register.py", 4, "sagemaker", "churn-models"),
        ("azure/register.py", 6, "azureml", None),
        ("gcp/upload.py", 4, "vertex", None),
        ("src/register.py", 9, "mlflow", "demand-forecast"),
        ("src/register.py", 11, "mlflow", "demand-forecast"),
        ("src/register.py", 13, "mlflow", "demand-forecast"),
    ]
    mlflow = next(f for f in found if f.line == 9)
    assert "MLflow registry" in mlflow.summary and "src/register.py" in mlflow.summary


def test_local_register_functions_are_not_a_registry(make_repo: MakeRepo) -> None:
    root = make_repo({"src/plugins.py": NOT_A_REGISTRY})
    assert not by_signal(detect(root), "code.model_registration")


# -- modelling stack --------------------------------------------------------------------------------
def test_distributed_and_deep_learning_one_finding_per_framework(make_repo: MakeRepo) -> None:
    root = make_repo({"jobs/features.py": SPARK_JOB, "jobs/more_features.py": SPARK_JOB,
                      "tune/search.py": RAY_TUNE, "src/net.py": TRAIN_TORCH_LOOP,
                      "src/keras_model.py": KERAS_MODEL, "src/legacy.py": UNUSED_IMPORTS})
    findings = detect(root)
    distributed = {f.attributes["framework"]: f for f in by_signal(findings,
                                                                   "code.distributed_compute")}
    assert set(distributed) == {"spark", "ray"}  # `import dask` alone is no use of Dask
    assert distributed["spark"].attributes["files"] == 2
    assert distributed["spark"].path == "jobs/features.py"
    assert distributed["spark"].line == 1
    deep = {f.attributes["framework"]: f for f in by_signal(findings, "code.deep_learning")}
    assert set(deep) == {"pytorch", "tensorflow"}
    assert deep["tensorflow"].path == "src/keras_model.py"  # not the unused import


def test_classic_ml_is_not_deep_learning(make_repo: MakeRepo) -> None:
    findings = detect(make_repo({"src/train.py": TRAIN_SKLEARN}))
    assert not by_signal(findings, "code.deep_learning")
    assert not by_signal(findings, "code.distributed_compute")


# -- inputs that must be skipped ---------------------------------------------------------------------
def test_huge_binary_broken_and_looping_files_are_skipped_quickly(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    five_mb = 5 * 1024 * 1024
    files: dict[str, str | bytes] = {
        "web/app.min.js": "var a=1;" * (five_mb // 8),
        "src/generated.py": "x = [" + "1," * (five_mb // 2) + "]\n",
        "src/model.py": b"\x00\x01PK\x03\x04" + os.urandom(4096),
        "src/broken.py": "import mlflow\ndef train(:\n    mlflow.log_metric('a', 1)\n",
        "src/train.py": TRAIN_SKLEARN,
    }
    root = make_repo(files, git_repo=False)
    os.symlink("b", root / "a")
    os.symlink("a", root / "b")
    started = time.monotonic()
    findings, ctx = detect_with_context(root)
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"took {elapsed:.1f}s"
    assert [f.path for f in by_signal(findings, "code.ml_training")] == ["src/train.py"]
    assert not by_signal(findings, "code.experiment_tracking")
    assert any(w.startswith("src/broken.py") and "does not parse" in w for w in ctx.warnings)
    assert any(w.startswith("src/generated.py") for w in ctx.warnings)
    assert all(not f.path.startswith(("a", "b", "web/")) for f in findings)


def test_symlink_loop_in_a_git_repository(make_repo: MakeRepo) -> None:
    root = make_repo({"src/train.py": TRAIN_SKLEARN})
    os.symlink("b", root / "a")
    os.symlink("a", root / "b")
    ctx = RepoContext(LocalTree(root))
    assert "a" in ctx.paths  # git lists the links; reading them must not loop
    assert ctx.text("a") is None
    assert [s.path for s in training_scripts(ctx)] == ["src/train.py"]


