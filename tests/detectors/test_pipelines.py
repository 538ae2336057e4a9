"""Pipeline detectors: orchestrated ML pipelines, data preparation, data and model versioning,
and schedules and data triggers declared in orchestrator code and config."""

from __future__ import annotations

import json

import yaml

from conftest import MakeRepo, by_signal, detect, detect_with_context
from maturity_probe.detectors.context import Finding, RepoContext
from maturity_probe.detectors.pipelines import name_kinds, scheduled_training
from maturity_probe.filetree import LocalTree


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle`."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def one(findings: list[Finding], signal: str, path: str) -> Finding:
    matching = [f for f in by_signal(findings, signal) if f.path == path]
    assert len(matching) == 1, (signal, path, [(f.path, f.summary) for f in findings])
    return matching[0]


TRAIN = '''\
import joblib
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier


def train_model(features: str, output: str) -> None:
    frame = pd.read_parquet(features)
    target = frame.pop("churned")
    model = GradientBoostingClassifier().fit(frame, target)
    joblib.dump(model, output)


if __name__ == "__main__":
    train_model("data/features.parquet", "models/model.pkl")
'''

PREPARE = '''\
import pandas as pd

raw = pd.read_csv("data/raw/customers.csv")
raw = raw.dropna(subset=["customer_id"])
raw.to_parquet("data/prepared.parquet", index=False)
'''

EVALUATE = '''\
import json

import joblib
import pandas as pd
from sklearn.metrics import roc_auc_score

model = joblib.load("models/model.pkl")
holdout = pd.read_parquet("data/holdout.parquet")
target = holdout.pop("churned")
auc = roc_auc_score(target, model.predict_proba(holdout)[:, 1])
json.dump({"auc": auc}, open("metrics.json", "w"))
'''

# -- MLproject and DVC -----------------------------------------------------------------------------
MLPROJECT = '''\
name: churn

python_env: python_env.yaml

entry_points:
  main:
    parameters:
      n_estimators: {type: int, default: 200}
    command: "python train.py --n-estimators {n_estimators}"
  validate:
    command: "python evaluate.py"
'''

DVC_YAML = '''\
stages:
  prepare:
    cmd: python src/prepare.py
    deps:
      - src/prepare.py
      - data/raw/customers.csv
    outs:
      - data/prepared.parquet
  train:
    cmd: python src/train.py
    deps:
      - src/train.py
      - data/prepared.parquet
    params:
      - train.n_estimators
    outs:
      - models/model.pkl
  evaluate:
    cmd: python src/evaluate.py
    deps:
      - src/evaluate.py
      - models/model.pkl
    metrics:
      - metrics.json:
          cache: false
'''

DVC_LOCK = '''\
schema: '2.0'
stages:
  prepare:
    cmd: python src/prepare.py
    deps:
    - path: data/raw/customers.csv
      hash: md5
      md5: 6f1ed002ab5595859014ebf0951522d9
      size: 104857
    - path: src/prepare.py
      hash: md5
      md5: 0cc175b9c0f1b6a831c399e269772661
      size: 312
    outs:
    - path: data/prepared.parquet
      hash: md5
      md5: 92eb5ffee6ae2fec3ad71c777531578f
      size: 88211
  train:
    cmd: python src/train.py
    outs:
    - path: models/model.pkl
      hash: md5
      md5: 4a8a08f09d37b73795649038408b5f33
      size: 1048576
'''

DVC_PREPARE_ONLY = '''\
stages:
  clean:
    cmd: python etl/clean.py
    deps: [etl/clean.py, data/raw/customers.csv]
    outs: [data/prepared.parquet]
'''


def test_mlproject_entry_points_are_steps(make_repo: MakeRepo) -> None:
    root = make_repo({"MLproject": MLPROJECT, "train.py": TRAIN, "evaluate.py": EVALUATE})
    finding = one(detect(root), "pipeline.orchestrated", "MLproject")
    assert finding.attributes["framework"] == "mlflow"
    assert finding.attributes["steps"] == ["train", "evaluate"]
    assert finding.attributes["stages"] == ["main", "validate"]
    assert finding.line == line_of(MLPROJECT, "entry_points:")
    assert "runs train.py" in finding.summary


def test_dvc_pipeline_steps_data_and_model_versioning(make_repo: MakeRepo) -> None:
    root = make_repo({"dvc.yaml": DVC_YAML, "dvc.lock": DVC_LOCK, "src/prepare.py": PREPARE,
                      "src/train.py": TRAIN, "src/evaluate.py": EVALUATE})
    findings = detect(root)
    pipeline = one(findings, "pipeline.orchestrated", "dvc.yaml")
    assert pipeline.attributes["framework"] == "dvc"
    assert pipeline.attributes["steps"] == ["prepare", "train", "evaluate"]
    assert pipeline.attributes["stages"] == ["prepare", "train", "evaluate"]
    assert "src/train.py" in pipeline.summary

    prep = one(findings, "pipeline.data_preparation", "dvc.yaml")
    assert prep.line == line_of(DVC_YAML, "prepare:")
    assert prep.attributes == {"framework": "dvc", "step": "prepare", "kind": "prepare"}
    assert "writes a data set" in prep.summary

    data = one(findings, "data.versioning", "dvc.yaml")
    assert data.attributes["items"] == ["data/prepared.parquet", "data/raw/customers.csv"]
    lock = one(findings, "data.versioning", "dvc.lock")
    assert lock.attributes["items"] == ["data/prepared.parquet", "data/raw/customers.csv"]
    assert "content hash pinned" in lock.summary

    model = one(findings, "model.artifact_versioning", "dvc.yaml")
    assert model.attributes["items"] == ["models/model.pkl"]
    assert model.line == line_of(DVC_YAML, "- models/model.pkl")
    assert one(findings, "model.artifact_versioning", "dvc.lock").attributes["tool"] == "dvc"


def test_data_only_dvc_pipeline_is_data_preparation_not_ml(make_repo: MakeRepo) -> None:
    root = make_repo({"dvc.yaml": DVC_PREPARE_ONLY, "etl/clean.py": PREPARE})
    findings = detect(root)
    assert not by_signal(findings, "pipeline.orchestrated")
    assert not by_signal(findings, "model.artifact_versioning")
    assert one(findings, "pipeline.data_preparation", "dvc.yaml").attributes["step"] == "clean"


def test_dvc_files_and_git_lfs_patterns(make_repo: MakeRepo) -> None:
    files = {
        "data/raw/customers.csv.dvc": "outs:\n- md5: 3f0b8c1a2e4d5f6a7b8c9d0e1f2a3b4c\n"
                                      "  size: 1048576\n  hash: md5\n  path: customers.csv\n",
        "models/encoder.pt.dvc": "outs:\n- md5: 1f0b8c1a2e4d5f6a7b8c9d0e1f2a3b4c\n"
                                 "  size: 20971520\n  path: encoder.pt\n",
        ".gitattributes": "# large files\n*.onnx filter=lfs diff=lfs merge=lfs -text\n"
                          "data/**/*.parquet filter=lfs diff=lfs merge=lfs -text\n"
                          "*.png binary\n",
    }
    findings = detect(make_repo(files))
    data = {f.path: f for f in by_signal(findings, "data.versioning")}
    assert set(data) == {"data/raw/customers.csv.dvc", ".gitattributes"}
    assert data["data/raw/customers.csv.dvc"].attributes["items"] == ["data/raw/customers.csv"]
    assert data[".gitattributes"].attributes == {
        "tool": "git-lfs", "items": ["data/**/*.parquet"], "count": 1}
    assert data[".gitattributes"].line == 3
    models = {f.path: f for f in by_signal(findings, "model.artifact_versioning")}
    assert set(models) == {"models/encoder.pt.dvc", ".gitattributes"}
    assert models[".gitattributes"].attributes["items"] == ["*.onnx"]
    assert models[".gitattributes"].line == 2


def test_malformed_and_odd_dvc_files_do_not_crash(make_repo: MakeRepo) -> None:
    files = {"dvc.yaml": "stages:\n  train:\n    cmd: [python, train.py\n",
             "other/dvc.yaml": "stages:\n  - train\n  - evaluate\n",
             "weird.dvc": "outs: 12\n"}
    findings, ctx = detect_with_context(make_repo(files))
    assert not by_signal(findings, "pipeline.orchestrated")
    assert not by_signal(findings, "data.versioning")
    assert any(w.startswith("dvc.yaml:") and "invalid YAML" in w for w in ctx.warnings)


# -- Airflow ------------------------------------------------------------------------------------------
AIRFLOW_TRAINING_DAG = '''\
"""Weekly retraining of the churn model."""
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

from churn.training import train_model

with DAG(
    dag_id="churn_retraining",
    start_date=datetime(2025, 1, 1),
    schedule="0 3 * * 1",
    catchup=False,
) as dag:
    prepare = BashOperator(task_id="prepare_features", bash_command="python /opt/churn/prepare.py")
    fit = PythonOperator(task_id="fit", python_callable=train_model,
                         op_kwargs={"features": "data/features.parquet", "output": "model.pkl"})
    check = BashOperator(task_id="check_model", bash_command="python jobs/evaluate.py")
    prepare >> fit >> check
'''

AIRFLOW_TASKFLOW_DAG = '''\
import pendulum
from airflow.decorators import dag, task


@dag(schedule="@daily", start_date=pendulum.datetime(2025, 1, 1), catchup=False)
def nightly_model():
    @task
    def extract() -> str:
        return "s3://acme/raw/today.csv"

    @task
    def train(path: str) -> None:
        import pandas as pd
        from sklearn.linear_model import LogisticRegression

        frame = pd.read_csv(path)
        LogisticRegression().fit(frame.drop(columns="y"), frame["y"])

    train(extract())


nightly_model()
'''

AIRFLOW_ETL_DAG = '''\
from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator


def extract_orders():
    return []


def load_warehouse():
    return None


with DAG("orders_etl", start_date=datetime(2025, 1, 1), schedule_interval="@hourly") as dag:
    extract = PythonOperator(task_id="extract_orders", python_callable=extract_orders)
    load = PythonOperator(task_id="load_warehouse", python_callable=load_warehouse)
    extract >> load
'''

AIRFLOW_MANUAL_DAG = '''\
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("adhoc_training", start_date=datetime(2025, 1, 1), schedule=None) as dag:
    BashOperator(task_id="train_model", bash_command="python train.py")
'''

AIRFLOW_DATASET_DAG = '''\
from datetime import datetime

from airflow import DAG
from airflow.datasets import Dataset
from airflow.operators.bash import BashOperator

features = Dataset("s3://acme/features/churn.parquet")

with DAG("retrain_on_new_features", start_date=datetime(2025, 1, 1), schedule=[features]) as dag:
    BashOperator(task_id="retrain", bash_command="python /opt/churn/train.py")
'''

TRAINING_MODULE = '''\
import joblib
import pandas as pd
from xgboost import XGBClassifier


def train_model(features: str, output: str) -> None:
    frame = pd.read_parquet(features)
    model = XGBClassifier(n_estimators=400)
    model.fit(frame.drop(columns="churned"), frame["churned"])
    joblib.dump(model, output)
'''


def test_airflow_dag_steps_and_cron_schedule(make_repo: MakeRepo) -> None:
    root = make_repo({"dags/churn.py": AIRFLOW_TRAINING_DAG,
                      "src/churn/training.py": TRAINING_MODULE,
                      "src/churn/__init__.py": "", "jobs/evaluate.py": EVALUATE})
    findings = detect(root)
    pipeline = one(findings, "pipeline.orchestrated", "dags/churn.py")
    assert pipeline.attributes["framework"] == "airflow"
    assert pipeline.attributes["name"] == "churn_retraining"
    assert pipeline.attributes["stages"] == ["prepare_features", "fit", "check_model"]
    assert pipeline.attributes["steps"] == ["prepare", "featurize", "train", "evaluate"]
    assert "train_model() of src/churn/training.py" in pipeline.summary
    scheduled = one(findings, "retrain.scheduled", "dags/churn.py")
    assert scheduled.attributes == {"framework": "airflow", "schedule": "cron 0 3 * * 1",
                                    "cron": "0 3 * * 1"}
    assert scheduled.line == line_of(AIRFLOW_TRAINING_DAG, "with DAG(")
    assert "trains" in scheduled.summary
    assert not by_signal(findings, "retrain.on_data_change")  # a cron is no data trigger


def test_airflow_taskflow_dag_with_preset_schedule(make_repo: MakeRepo) -> None:
    findings = detect(make_repo({"dags/nightly.py": AIRFLOW_TASKFLOW_DAG}))
    pipeline = one(findings, "pipeline.orchestrated", "dags/nightly.py")
    assert pipeline.attributes["stages"] == ["extract", "train"]
    assert pipeline.attributes["steps"] == ["prepare", "train"]
    scheduled = one(findings, "retrain.scheduled", "dags/nightly.py")
    assert scheduled.attributes["cron"] == "0 0 * * *"
    assert scheduled.attributes["schedule"] == "@daily"


def test_etl_dag_is_a_data_pipeline_not_a_training_schedule(make_repo: MakeRepo) -> None:
    findings = detect(make_repo({"dags/orders.py": AIRFLOW_ETL_DAG}))
    assert not by_signal(findings, "pipeline.orchestrated")
    assert not by_signal(findings, "retrain.scheduled")
    prep = one(findings, "pipeline.data_preparation", "dags/orders.py")
    assert prep.attributes["step"] == "extract_orders"


def test_unscheduled_and_dataset_triggered_dags(make_repo: MakeRepo) -> None:
    findings = detect(make_repo({"dags/adhoc.py": AIRFLOW_MANUAL_DAG,
                                 "dags/on_features.py": AIRFLOW_DATASET_DAG}))
    assert {f.path for f in by_signal(findings, "pipeline.orchestrated")} == {
        "dags/adhoc.py", "dags/on_features.py"}
    assert not by_signal(findings, "retrain.scheduled")
    on_data = one(findings, "retrain.on_data_change", "dags/on_features.py")
    assert on_data.attributes == {"framework": "airflow", "schedule": "updates of its datasets"}


# -- Prefect, Dagster, Metaflow, ZenML, Kedro ------------------------------------------------------
PREFECT_FLOW = '''\
from prefect import flow, task
from sklearn.ensemble import RandomForestRegressor


@task
def load_sales():
    import pandas as pd
    return pd.read_parquet("s3://acme/sales.parquet")


@task
def fit_forecaster(frame):
    return RandomForestRegressor().fit(frame.drop(columns="units"), frame["units"])


@flow(log_prints=True)
def demand_training():
    fit_forecaster(load_sales())


if __name__ == "__main__":
    demand_training.serve(name="weekly-demand", cron="15 4 * * 1")
'''

PREFECT_YAML = '''\
name: analytics
prefect-version: 2.19.0
deployments:
  - name: nightly-demand
    entrypoint: flows/demand.py:demand_training
    work_pool:
      name: k8s
    schedules:
      - cron: "0 2 * * *"
        timezone: Europe/Paris
  - name: report
    entrypoint: flows/report.py:weekly_report
    schedules:
      - cron: "0 6 * * 1"
'''

PREFECT_REPORT = '''\
from prefect import flow


@flow
def weekly_report():
    print("sales report")
'''

DAGSTER_DEFS = '''\
from dagster import Definitions, ScheduleDefinition, asset, define_asset_job, sensor, RunRequest
from sklearn.linear_model import LinearRegression


@asset
def cleaned_orders():
    import pandas as pd
    frame = pd.read_csv("data/orders.csv")
    frame.to_parquet("data/cleaned.parquet")
    return frame


@asset
def price_model(cleaned_orders):
    return LinearRegression().fit(cleaned_orders[["qty"]], cleaned_orders["price"])


training_job = define_asset_job("training_job", selection=["cleaned_orders", "price_model"])
nightly = ScheduleDefinition(job=training_job, cron_schedule="0 1 * * *")


@sensor(job=training_job)
def new_orders_file(context):
    yield RunRequest(run_key="orders")


defs = Definitions(assets=[cleaned_orders, price_model], jobs=[training_job],
                   schedules=[nightly], sensors=[new_orders_file])
'''

METAFLOW_FLOW = '''\
from metaflow import FlowSpec, schedule, step


@schedule(daily=True)
class ChurnFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train)

    @step
    def train(self):
        from sklearn.tree import DecisionTreeClassifier
        self.model = DecisionTreeClassifier().fit([[0], [1]], [0, 1])
        self.next(self.end)

    @step
    def end(self):
        print("done")

    def helper(self):
        return None


if __name__ == "__main__":
    ChurnFlow()
'''

ZENML_PIPELINE = '''\
from zenml import pipeline, step
from zenml.config.schedule import Schedule


@step
def importer() -> list:
    return [1, 2, 3]


@step
def trainer(rows: list) -> float:
    from sklearn.dummy import DummyRegressor
    return DummyRegressor().fit([[r] for r in rows], rows).score([[1]], [1])


@pipeline
def training_pipeline():
    trainer(importer())


schedule = Schedule(cron_expression="0 5 * * *")
training_pipeline.with_options(schedule=schedule)()
'''

KEDRO_PIPELINE = '''\
from kedro.pipeline import Pipeline, node, pipeline

from .nodes import evaluate_model, split_data, train_model


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline([
        node(split_data, inputs=["model_input_table", "params:split"], outputs=["X", "y"],
             name="split_data_node"),
        node(train_model, inputs=["X", "y"], outputs="regressor", name="train_model_node"),
        node(evaluate_model, inputs=["regressor", "X", "y"], outputs=None),
    ])
'''

KEDRO_NODES = '''\
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score


def split_data(data: pd.DataFrame, parameters: dict):
    return data.drop(columns="price"), data["price"]


def train_model(X, y):
    return LinearRegression().fit(X, y)


def evaluate_model(regressor, X, y):
    return r2_score(y, regressor.predict(X))
'''


def test_prefect_flow_serve_and_prefect_yaml_schedules(make_repo: MakeRepo) -> None:
    root = make_repo({"flows/demand.py": PREFECT_FLOW, "flows/report.py": PREFECT_REPORT,
                      "prefect.yaml": PREFECT_YAML})
    findings = detect(root)
    pipeline = one(findings, "pipeline.orchestrated", "flows/demand.py")
    assert pipeline.attributes["framework"] == "prefect"
    assert pipeline.attributes["stages"] == ["load_sales", "fit_forecaster"]
    assert "train" in pipeline.attributes["steps"]
    scheduled = {(f.path, f.attributes["cron"]) for f in by_signal(findings, "retrain.scheduled")}
    # the report flow trains nothing: its schedule is not a retraining schedule
    assert scheduled == {("flows/demand.py", "15 4 * * 1"), ("prefect.yaml", "0 2 * * *")}
    from_yaml = one(findings, "retrain.scheduled", "prefect.yaml")
    assert from_yaml.line == line_of(PREFECT_YAML, '- cron: "0 2 * * *"')


def test_dagster_assets_schedule_and_sensor(make_repo: MakeRepo) -> None:
    findings = detect(make_repo({"orchestration/definitions.py": DAGSTER_DEFS}))
    path = "orchestration/definitions.py"
    pipeline = one(findings, "pipeline.orchestrated", path)
    assert pipeline.attributes["framework"] == "dagster"
    assert pipeline.attributes["name"] == "training_job"
    assert pipeline.attributes["steps"] == ["prepare", "train"]
    assert one(findings, "pipeline.data_preparation", path).attributes["step"] == "cleaned_orders"
    scheduled = one(findings, "retrain.scheduled", path)
    assert scheduled.attributes["cron"] == "0 1 * * *"
    assert scheduled.line == line_of(DAGSTER_DEFS, "ScheduleDefinition(job")
    sensor = one(findings, "retrain.on_data_change", path)
    assert sensor.line == line_of(DAGSTER_DEFS, "@sensor")


def test_metaflow_zenml_and_kedro(make_repo: MakeRepo) -> None:
    root = make_repo({"flows/churn_flow.py": METAFLOW_FLOW, "pipelines/training.py": ZENML_PIPELINE,
                      "src/spaceflights/pipelines/data_science/pipeline.py": KEDRO_PIPELINE,
                      "src/spaceflights/pipelines/data_science/nodes.py": KEDRO_NODES,
                      "src/spaceflights/pipelines/data_science/__init__.py": ""})
    findings = detect(root)
    metaflow = one(findings, "pipeline.orchestrated", "flows/churn_flow.py")
    assert metaflow.attributes["framework"] == "metaflow"
    assert metaflow.attributes["stages"] == ["start", "train", "end"]  # helper is no step
    assert metaflow.attributes["steps"] == ["train"]
    assert one(findings, "retrain.scheduled", "flows/churn_flow.py").attributes["cron"] == (
        "0 0 * * *")
    zenml = one(findings, "pipeline.orchestrated", "pipelines/training.py")
    assert zenml.attributes["framework"] == "zenml"
    assert zenml.attributes["stages"] == ["trainer", "importer"]
    assert one(findings, "retrain.scheduled", "pipelines/training.py").attributes["cron"] == (
        "0 5 * * *")
    kedro_path = "src/spaceflights/pipelines/data_science/pipeline.py"
    kedro = one(findings, "pipeline.orchestrated", kedro_path)
    assert kedro.attributes["framework"] == "kedro"
    assert kedro.attributes["stages"] == ["split_data_node", "train_model_node", "evaluate_model"]
    assert kedro.attributes["steps"] == ["prepare", "train", "evaluate"]


# -- Kubeflow, Vertex AI, Argo ---------------------------------------------------------------------------
KFP_PIPELINE = '''\
"""Churn training pipeline for Kubeflow Pipelines."""
from kfp import dsl
from kfp.client import Client


@dsl.component(base_image="python:3.11", packages_to_install=["scikit-learn", "pandas"])
def preprocess(raw: str, features: dsl.Output[dsl.Dataset]) -> None:
    import pandas as pd
    pd.read_csv(raw).dropna().to_parquet(features.path)


@dsl.component(base_image="python:3.11", packages_to_install=["scikit-learn", "pandas"])
def train(features: dsl.Input[dsl.Dataset], model: dsl.Output[dsl.Model]) -> None:
    import joblib
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    frame = pd.read_parquet(features.path)
    joblib.dump(LogisticRegression().fit(frame.drop(columns="y"), frame["y"]), model.path)


@dsl.component(base_image="python:3.11", packages_to_install=["scikit-learn"])
def evaluate(model: dsl.Input[dsl.Model]) -> float:
    from sklearn.metrics import accuracy_score
    return accuracy_score([1, 0], [1, 0])


@dsl.component(base_image="python:3.11")
def deploy(model: dsl.Input[dsl.Model]) -> None:
    print("deploying", model.uri)


@dsl.pipeline(name="churn-training")
def churn_pipeline(raw: str = "gs://acme/raw.csv") -> None:
    features = preprocess(raw=raw)
    model = train(features=features.outputs["features"])
    score = evaluate(model=model.outputs["model"])
    with dsl.If(score.output >= 0.8):
        deploy(model=model.outputs["model"])


if __name__ == "__main__":
    client = Client(host="https://kfp.acme.internal")
    client.create_recurring_run(
        experiment_id="exp-1",
        job_name="churn-weekly",
        cron_expression="0 0 4 * * 1",
        pipeline_package_path="churn.yaml",
    )
'''

KFP_COMPILED = '''\
# PIPELINE DEFINITION
# Name: fraud-training
components:
  comp-condition-1:
    dag:
      tasks:
        push-model:
          cachingOptions: {}
          componentRef:
            name: comp-push-model
          taskInfo:
            name: push-model
  comp-fit:
    executorLabel: exec-fit
  comp-push-model:
    executorLabel: exec-push-model
  comp-score:
    executorLabel: exec-score
deploymentSpec:
  executors:
    exec-fit:
      container:
        args:
        - --executor_input
        - '{{$}}'
        - --function_to_execute
        - fit
        command:
        - sh
        - -ec
        - 'program_path=$(mktemp -d)

          printf "%s" "$0" > "$program_path/ephemeral_component.py"

          python3 -m kfp.dsl.executor_main --component_module_path
          "$program_path/ephemeral_component.py" "$@"'
        - |
          import kfp
          from kfp import dsl

          def fit(rows: int) -> str:
              from xgboost import XGBClassifier
              model = XGBClassifier()
              model.fit([[0], [1]], [0, 1])
              return 'ok'
        image: python:3.11
    exec-push-model:
      container:
        command: [python, push.py]
        image: gcr.io/acme/push:1
    exec-score:
      container:
        command: [python, score_holdout.py]
        image: gcr.io/acme/score:1
pipelineInfo:
  name: fraud-training
root:
  dag:
    tasks:
      condition-1:
        componentRef:
          name: comp-condition-1
        dependentTasks:
        - score
        triggerPolicy:
          condition: inputs.parameter_values['pipelinechannel--score-Output'] >= 0.9
        taskInfo:
          name: condition-1
      fit:
        componentRef:
          name: comp-fit
        taskInfo:
          name: fit
      score:
        componentRef:
          name: comp-score
        dependentTasks:
        - fit
        taskInfo:
          name: score
schemaVersion: 2.1.0
sdkVersion: kfp-2.7.0
'''

VERTEX_PIPELINE = '''\
from google.cloud import aiplatform
from google_cloud_pipeline_components.v1.custom_job import CustomTrainingJobOp
from google_cloud_pipeline_components.v1.model import ModelUploadOp
from kfp import compiler, dsl


@dsl.pipeline(name="sales-forecast")
def forecast_pipeline(project: str) -> None:
    training = CustomTrainingJobOp(project=project, display_name="forecast-train", worker_pool_specs=[])
    ModelUploadOp(project=project, display_name="forecast").after(training)


compiler.Compiler().compile(forecast_pipeline, "forecast.json")
job = aiplatform.PipelineJob(display_name="sales-forecast", template_path="forecast.json")
job.create_schedule(display_name="forecast-nightly", cron="30 1 * * *")
'''

ARGO_TEMPLATE = '''\
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: churn-training
  namespace: ml
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - name: preprocess
            template: run-step
          - name: train
            template: train-model
            dependencies: [preprocess]
          - name: evaluate
            template: evaluate-model
            dependencies: [train]
          - name: promote
            template: promote-model
            dependencies: [evaluate]
            when: "{{tasks.evaluate.outputs.parameters.auc}} > 0.85"
    - name: run-step
      container:
        image: ghcr.io/acme/churn:1.4
        command: [python, pipelines/prepare.py]
    - name: train-model
      script:
        image: python:3.11
        command: [python]
        source: |
          from sklearn.ensemble import RandomForestClassifier
          RandomForestClassifier().fit([[0], [1]], [0, 1])
    - name: evaluate-model
      container:
        image: ghcr.io/acme/churn:1.4
        command: [python, -m, churn.evaluate]
      outputs:
        parameters:
          - name: auc
            valueFrom: {path: /tmp/auc}
    - name: promote-model
      container:
        image: ghcr.io/acme/churn:1.4
        args: ["python", "register.py"]
'''

ARGO_CRON = '''\
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: nightly-retrain
spec:
  schedule: "0 2 * * *"
  workflowSpec:
    entrypoint: retrain
    templates:
      - name: retrain
        container:
          image: ghcr.io/acme/churn-train:1.4
          command: [python, train.py]
'''

ARGO_BUILD = '''\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: build-images-
spec:
  entrypoint: build
  templates:
    - name: build
      container:
        image: gcr.io/kaniko-project/executor:v1.23.0
        args: ["--dockerfile=Dockerfile", "--destination=ghcr.io/acme/api:latest"]
'''


def test_kfp_dsl_pipeline_and_recurring_run(make_repo: MakeRepo) -> None:
    root = make_repo({"pipelines/churn.py": KFP_PIPELINE})
    findings = detect(root)
    pipeline = one(findings, "pipeline.orchestrated", "pipelines/churn.py")
    assert pipeline.attributes["framework"] == "kubeflow"
    assert pipeline.attributes["name"] == "churn-training"
    assert pipeline.attributes["stages"] == ["preprocess", "train", "evaluate", "deploy"]
    assert pipeline.attributes["steps"] == ["prepare", "train", "evaluate", "deploy"]
    assert pipeline.line == line_of(KFP_PIPELINE, "@dsl.pipeline")
    scheduled = one(findings, "retrain.scheduled", "pipelines/churn.py")
    assert scheduled.attributes["framework"] == "kubeflow"
    assert scheduled.attributes["cron"] == "0 0 4 * * 1"
    assert scheduled.line == line_of(KFP_PIPELINE, "create_recurring_run")


def test_compiled_kfp_pipeline_steps_from_embedded_code(make_repo: MakeRepo) -> None:
    findings = detect(make_repo({"pipelines/fraud.yaml": KFP_COMPILED}))
    pipeline = one(findings, "pipeline.orchestrated", "pipelines/fraud.yaml")
    assert pipeline.attributes["framework"] == "kubeflow"
    assert pipeline.attributes["name"] == "fraud-training"
    assert sorted(pipeline.attributes["stages"]) == ["fit", "push-model", "score"]
    assert pipeline.attributes["steps"] == ["train", "register"]
    assert "XGBClassifier" in pipeline.summary or "fit" in pipeline.summary


def test_vertex_pipeline_and_schedule(make_repo: MakeRepo) -> None:
    findings = detect(make_repo({"vertex/forecast.py": VERTEX_PIPELINE}))
    pipeline = one(findings, "pipeline.orchestrated", "vertex/forecast.py")
    assert pipeline.attributes["framework"] == "vertex"
    assert pipeline.attributes["steps"] == ["train", "register"]
    scheduled = one(findings, "retrain.scheduled", "vertex/forecast.py")
    assert scheduled.attributes == {"framework": "vertex", "schedule": "cron 30 1 * * *",
                                    "cron": "30 1 * * *"}


VERTEX_RUNNER = '''\
from google.cloud import aiplatform

aiplatform.init(project="acme-ml", location="europe-west4")
job = aiplatform.PipelineJob(display_name="fraud", template_path="fraud.json",
                             pipeline_root="gs://acme-ml/pipeline-root")
schedule = aiplatform.PipelineJobSchedule(pipeline_job=job, display_name="fraud-weekly")
schedule.create(cron="0 7 * * 1", max_concurrent_run_count=1)
'''


def test_vertex_schedule_of_a_compiled_json_template(make_repo: MakeRepo) -> None:
    compiled = json.dumps(yaml.safe_load(KFP_COMPILED), indent=2)
    findings = detect(make_repo({"vertex/fraud.json": compiled, "vertex/run.py": VERTEX_RUNNER}))
    pipeline = one(findings, "pipeline.orchestrated", "vertex/fraud.json")
    assert pipeline.attributes["steps"] == ["train", "register"]
    scheduled = one(findings, "retrain.scheduled", "vertex/run.py")
    assert scheduled.attributes["cron"] == "0 7 * * 1"
    assert scheduled.line == line_of(VERTEX_RUNNER, "schedule.create")
    assert "vertex/fraud.json" in scheduled.summary


def test_argo_workflow_templates_and_cron_workflows(make_repo: MakeRepo) -> None:
    root = make_repo({"argo/training.yaml": ARGO_TEMPLATE, "argo/nightly.yaml": ARGO_CRON,
                      "argo/build.yaml": ARGO_BUILD, "pipelines/prepare.py": PREPARE})
    findings, ctx = detect_with_context(root)
    template = one(findings, "pipeline.orchestrated", "argo/training.yaml")
    assert template.attributes["framework"] == "argo"
    assert template.attributes["kind"] == "WorkflowTemplate"
    assert template.attributes["steps"] == ["prepare", "train", "evaluate", "register"]
    cron = one(findings, "pipeline.orchestrated", "argo/nightly.yaml")
    assert cron.attributes["steps"] == ["train"]
    # an image build is not an ML pipeline
    assert not [f for f in by_signal(findings, "pipeline.orchestrated")
                if f.path == "argo/build.yaml"]
    # CronWorkflow schedules belong to the manifest detectors, not to this module
    assert list(scheduled_training(ctx)) == []


def test_kubeflow_v1_compiled_argo_workflow_is_kubeflow(make_repo: MakeRepo) -> None:
    compiled = ARGO_BUILD.replace(
        "  generateName: build-images-\n",
        "  generateName: sales-\n  annotations:\n"
        "    pipelines.kubeflow.org/kfp_sdk_version: 1.8.22\n",
    ).replace("name: build\n", "name: train-model\n").replace("entrypoint: build",
                                                              "entrypoint: train-model")
    finding = one(detect(make_repo({"kfp/sales.yaml": compiled})), "pipeline.orchestrated",
                  "kfp/sales.yaml")
    assert finding.attributes["framework"] == "kubeflow"


# -- Azure ML and SageMaker ------------------------------------------------------------------------------
AZURE_PIPELINE = '''\
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
display_name: credit-default-training
settings:
  default_compute: azureml:cpu-cluster
jobs:
  prep_data:
    type: command
    code: ../src
    command: python prep.py --raw ${{inputs.raw}} --out ${{outputs.prepared}}
    environment: azureml:sklearn-env:3
  train_model:
    type: command
    component: ./components/train.yml
  evaluate_model:
    type: command
    code: ../src
    command: python evaluate.py --model ${{parent.jobs.train_model.outputs.model}}
  gate:
    type: if_else
    condition: ${{parent.jobs.evaluate_model.outputs.passed}}
    true_block: ${{parent.jobs.register}}
  register:
    type: command
    code: ../src
    command: python register.py
'''

AZURE_COMPONENT = '''\
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: train_credit_model
type: command
code: ../../src
command: python train.py --data ${{inputs.data}} --model ${{outputs.model}}
environment: azureml:sklearn-env:3
'''

AZURE_SCHEDULE = '''\
$schema: https://azuremlschemas.azureedge.net/latest/schedule.schema.json
name: weekly-credit-training
trigger:
  type: cron
  expression: "0 6 * * 1"
  time_zone: "UTC"
create_job: ./pipeline.yml
'''

AZURE_COMMAND_JOB = '''\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: ../src
command: python train.py --epochs 10
environment: azureml:pytorch-env:7
compute: azureml:gpu-cluster
experiment_name: credit-default
'''

SAGEMAKER_PIPELINE = '''\
from sagemaker.estimator import Estimator
from sagemaker.processing import ScriptProcessor
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.workflow.functions import JsonGet
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.step_collections import RegisterModel
from sagemaker.workflow.steps import ProcessingStep, TrainingStep
from sagemaker.workflow.triggers import PipelineSchedule

processor = ScriptProcessor(image_uri="acme/sklearn:1", command=["python3"], role="r",
                            instance_type="ml.m5.xlarge", instance_count=1)
estimator = Estimator(image_uri="acme/xgb:1", role="r", instance_type="ml.m5.xlarge",
                      instance_count=1)

step_process = ProcessingStep(name="PreprocessAbaloneData", processor=processor,
                              code="scripts/preprocessing.py")
step_train = TrainingStep(name="TrainAbaloneModel", estimator=estimator)
step_eval = ProcessingStep(name="EvaluateAbaloneModel", processor=processor,
                           code="scripts/evaluation.py")
step_register = RegisterModel(name="RegisterAbaloneModel", estimator=estimator,
                              model_package_group_name="abalone")
step_cond = ConditionStep(
    name="CheckMSEAbaloneEvaluation",
    conditions=[ConditionGreaterThanOrEqualTo(left=JsonGet(step_name="EvaluateAbaloneModel",
                                                           property_file="evaluation",
                                                           json_path="r2"), right=0.7)],
    if_steps=[step_register],
    else_steps=[],
)
pipeline = Pipeline(name="AbalonePipeline", steps=[step_process, step_train, step_eval, step_cond])
pipeline.upsert(role_arn="arn:aws:iam::123456789012:role/sm")
pipeline.put_triggers(triggers=[PipelineSchedule(name="weekly", cron="0 4 ? * MON *")])
'''


def test_azure_ml_pipeline_components_and_schedule(make_repo: MakeRepo) -> None:
    root = make_repo({"azureml/pipeline.yml": AZURE_PIPELINE,
                      "azureml/components/train.yml": AZURE_COMPONENT,
                      "azureml/schedule.yml": AZURE_SCHEDULE,
                      "src/prep.py": PREPARE, "src/train.py": TRAIN, "src/evaluate.py": EVALUATE,
                      "src/register.py": "import mlflow\nmlflow.register_model('runs:/1/m', 'c')\n"})
    findings = detect(root)
    pipeline = one(findings, "pipeline.orchestrated", "azureml/pipeline.yml")
    assert pipeline.attributes["framework"] == "azureml"
    assert pipeline.attributes["kind"] == "pipeline-job"
    assert pipeline.attributes["steps"] == ["prepare", "train", "evaluate", "register"]
    assert "src/train.py" in pipeline.summary  # through the component's code directory
    scheduled = one(findings, "retrain.scheduled", "azureml/schedule.yml")
    assert scheduled.attributes["cron"] == "0 6 * * 1"
    assert scheduled.line == line_of(AZURE_SCHEDULE, "trigger:")


def test_azure_ml_command_job(make_repo: MakeRepo) -> None:
    root = make_repo({"jobs/train-job.yml": AZURE_COMMAND_JOB, "src/train.py": TRAIN})
    finding = one(detect(root), "pipeline.orchestrated", "jobs/train-job.yml")
    assert finding.attributes["kind"] == "command-job"
    assert finding.attributes["steps"] == ["train"]


def test_sagemaker_pipeline_steps_and_schedule(make_repo: MakeRepo) -> None:
    root = make_repo({"sm/pipeline.py": SAGEMAKER_PIPELINE,
                      "sm/scripts/preprocessing.py": PREPARE, "sm/scripts/evaluation.py": EVALUATE})
    findings = detect(root)
    pipeline = one(findings, "pipeline.orchestrated", "sm/pipeline.py")
    assert pipeline.attributes["framework"] == "sagemaker"
    assert pipeline.attributes["name"] == "AbalonePipeline"
    assert pipeline.attributes["steps"] == ["prepare", "train", "evaluate", "register"]
    assert pipeline.line == line_of(SAGEMAKER_PIPELINE, "pipeline = Pipeline(")
    scheduled = one(findings, "retrain.scheduled", "sm/pipeline.py")
    assert scheduled.attributes["schedule"] == "cron 0 4 ? * MON *"


# -- data pipelines and what is not a pipeline ---------------------------------------------------------
def test_dbt_project_is_data_preparation(make_repo: MakeRepo) -> None:
    dbt = ("name: acme_analytics\nversion: '1.0.0'\nconfig-version: 2\nprofile: acme\n"
           "model-paths: [models]\n")
    findings = detect(make_repo({"warehouse/dbt_project.yml": dbt}))
    prep = one(findings, "pipeline.data_preparation", "warehouse/dbt_project.yml")
    assert prep.attributes["framework"] == "dbt"
    assert prep.line == 1
    assert not by_signal(findings, "pipeline.orchestrated")


def test_plain_scripts_and_tests_are_not_pipelines(make_repo: MakeRepo) -> None:
    test_dag = AIRFLOW_TRAINING_DAG  # a DAG inside the test suite is a fixture, not a pipeline
    findings = detect(make_repo({"src/train.py": TRAIN, "tests/test_dag.py": test_dag,
                                 "README.md": "Run `python src/train.py`.\n"}))
    for signal in ("pipeline.orchestrated", "pipeline.data_preparation", "retrain.scheduled",
                   "retrain.on_data_change", "data.versioning", "model.artifact_versioning"):
        assert not by_signal(findings, signal), signal


def test_step_names_tell_their_kinds() -> None:
    assert name_kinds("PreprocessAbaloneData") == {"prepare"}
    assert name_kinds("train-model") == {"train"}
    assert name_kinds("validate_data") == set()
    assert name_kinds("validate_model") == {"evaluate"}
    assert name_kinds("upload-model") == {"register"}
    assert name_kinds("build_features") == {"featurize"}
    assert name_kinds("notify_slack") == set()


def test_pipeline_yaml_with_unexpected_types_does_not_crash(make_repo: MakeRepo) -> None:
    files = {
        "MLproject": "name: x\nentry_points: [main, other]\n",
        "azureml/pipeline.yml": "$schema: https://azuremlschemas.azureedge.net/latest/"
                                "pipelineJob.schema.json\ntype: pipeline\njobs:\n  a: 3\n  b: [1]\n",
        "argo/wf.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: []\n"
                        "spec:\n  templates: {a: 1}\n",
        "pipelines/bad.json": json.dumps({"pipelineInfo": 1, "deploymentSpec": [], "root": "x"}),
    }
    root = make_repo(files)
    findings = detect(root)
    assert not by_signal(findings, "pipeline.orchestrated")
    ctx = RepoContext(LocalTree(root))
    assert list(scheduled_training(ctx)) == []
