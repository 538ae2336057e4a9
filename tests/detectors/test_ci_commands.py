"""What CI commands do: followed through shell scripts, Makefiles, DVC, MLprojects, modules."""

from __future__ import annotations

from conftest import MakeRepo, by_signal, detect
from maturity_probe.detectors.ci.commands import split_commands

TRAIN_PY = """\
import pandas as pd
import xgboost as xgb


def main() -> None:
    frame = pd.read_parquet("data/features.parquet")
    booster = xgb.XGBClassifier(max_depth=6)
    booster.fit(frame.drop(columns=["label"]), frame["label"])
    booster.save_model("model.json")


if __name__ == "__main__":
    main()
"""

EVALUATE_PY = """\
import json

import joblib
import pandas as pd
from sklearn.metrics import f1_score, roc_auc_score

model = joblib.load("model.joblib")
holdout = pd.read_csv("data/holdout.csv")
scores = model.predict_proba(holdout.drop(columns=["y"]))[:, 1]
report = {"auc": roc_auc_score(holdout["y"], scores), "f1": f1_score(holdout["y"], scores > 0.5)}
json.dump(report, open("metrics.json", "w"))
if report["auc"] < 0.8:
    raise SystemExit("model below acceptance threshold")
"""

TRAIN_AND_SCORE_PY = """\
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from features import load

X_train, X_test, y_train, y_test = load()
clf = LogisticRegression(max_iter=500)
clf.fit(X_train, y_train)
print(accuracy_score(y_test, clf.predict(X_test)))
"""

REGISTER_PY = """\
import mlflow

RUN_ID = open("run_id.txt").read().strip()
mlflow.register_model(f"runs:/{RUN_ID}/model", "churn-classifier")
"""

VALIDATE_PY = """\
import pandas as pd
import pandera as pa

schema = pa.DataFrameSchema({"age": pa.Column(int, pa.Check.ge(0)), "plan": pa.Column(str)})
schema.validate(pd.read_csv("data/customers.csv"))
"""

PACKAGE_MODULE = """\
from churn.data import load_training_frame
from sklearn.ensemble import GradientBoostingClassifier


def run() -> None:
    frame = load_training_frame()
    GradientBoostingClassifier().fit(frame.drop(columns=["y"]), frame["y"])


if __name__ == "__main__":
    run()
"""

PIPELINE_PY = """\
import kfp
from kfp import compiler

from pipelines.training import training_pipeline

compiler.Compiler().compile(training_pipeline, "pipeline.yaml")
client = kfp.Client(host="https://kfp.example.invalid")
client.upload_pipeline("pipeline.yaml", pipeline_name="churn-training")
"""


def workflow(*runs: str, on: str = "push") -> str:
    steps = "".join(f"      - run: {run}\n" for run in runs)
    return f"on: {on}\njobs:\n  job:\n    runs-on: ubuntu-latest\n    steps:\n{steps}"


def purposes_of(findings: list, signal: str) -> list[str]:  # type: ignore[type-arg]
    return [f.summary for f in by_signal(findings, signal)]


def test_split_commands_respects_quotes() -> None:
    assert split_commands("cd src && python train.py --msg 'a && b' | tee log; echo done") == [
        "cd src", "python train.py --msg 'a && b'", "tee log", "echo done",
    ]


def test_shell_script_is_followed_line_by_line(make_repo: MakeRepo) -> None:
    script = """\
#!/usr/bin/env bash
set -euo pipefail
# python src/evaluate.py  (disabled)
export MLFLOW_TRACKING_URI=http://mlflow:5000
cd src && \\
  python train.py
"""
    root = make_repo({
        ".github/workflows/ci.yml": workflow("./scripts/retrain.sh"),
        "scripts/retrain.sh": script,
        "src/train.py": TRAIN_PY,
        "src/evaluate.py": EVALUATE_PY,
    })
    findings = detect(root)
    [training] = purposes_of(findings, "ci.training_job")
    assert "runs `./scripts/retrain.sh`" in training
    assert "at scripts/retrain.sh:5" in training
    assert "src/train.py:8" in training
    assert by_signal(findings, "ci.model_evaluation_job") == []  # commented out in the script


def test_makefile_target_recipe_and_prerequisites_are_followed(make_repo: MakeRepo) -> None:
    makefile = """\
PYTHON ?= python3
SRC := src

.PHONY: all train validate evaluate

all: train

validate:
\t$(PYTHON) $(SRC)/validate.py

train: validate
\t@echo "training"
\t$(PYTHON) $(SRC)/train.py

evaluate:
\t$(PYTHON) $(SRC)/evaluate.py
"""
    root = make_repo({
        ".github/workflows/ci.yml": workflow("make train", "make -C . evaluate"),
        "Makefile": makefile,
        "src/train.py": TRAIN_PY,
        "src/validate.py": VALIDATE_PY,
        "src/evaluate.py": EVALUATE_PY,
    })
    findings = detect(root)
    [training] = purposes_of(findings, "ci.training_job")
    assert "whose target `train` runs `python3 src/train.py` at Makefile:13" in training
    [validation] = purposes_of(findings, "ci.data_validation_job")
    assert "imports pandera" in validation and "Makefile:9" in validation
    [evaluation] = purposes_of(findings, "ci.model_evaluation_job")
    assert "src/evaluate.py" in evaluation


def test_make_test_is_a_test_job_even_with_an_opaque_recipe(make_repo: MakeRepo) -> None:
    root = make_repo({
        ".github/workflows/ci.yml": workflow("make test"),
        "Makefile": "test:\n\t./tools/run-all-the-checks\n",
    })
    assert len(by_signal(detect(root), "ci.test_job")) == 1


def test_training_script_metrics_are_not_a_model_evaluation(make_repo: MakeRepo) -> None:
    root = make_repo({
        ".github/workflows/ci.yml": workflow("cd src && python train_and_score.py"),
        "src/train_and_score.py": TRAIN_AND_SCORE_PY,
        "src/features.py": "def load():\n    return [], [], [], []\n",
    })
    findings = detect(root)
    assert len(by_signal(findings, "ci.training_job")) == 1
    assert by_signal(findings, "ci.model_evaluation_job") == []


def test_module_invocation_and_called_project_modules(make_repo: MakeRepo) -> None:
    wrapper = """\
from churn.training import run

run()
"""
    root = make_repo({
        ".github/workflows/ci.yml": workflow("python -m churn.training", "python run_all.py"),
        "src/churn/__init__.py": "",
        "src/churn/data.py": "def load_training_frame():\n    return None\n",
        "src/churn/training.py": PACKAGE_MODULE,
        "run_all.py": wrapper,
    })
    findings = detect(root)
    [training] = by_signal(findings, "ci.training_job")
    reasons = training.attributes["reasons"]
    assert reasons[0].startswith("runs `python -m churn.training`, which calls")
    assert "src/churn/training.py:7" in reasons[0]
    assert "which calls churn.training.run from src/churn/training.py" in reasons[1]


def test_dvc_repro_follows_dvc_yaml_stages(make_repo: MakeRepo) -> None:
    dvc_yaml = """\
stages:
  featurize:
    cmd: python src/featurize.py
    deps: [data/raw]
    outs: [data/features.parquet]
  train:
    cmd: python src/train.py
    deps: [data/features.parquet, src/train.py]
    outs: [model.json]
"""
    root = make_repo({
        ".github/workflows/ci.yml": workflow("dvc pull", "dvc repro"),
        "dvc.yaml": dvc_yaml,
        "src/featurize.py": "import pandas as pd\n\npd.read_csv('data/raw/a.csv')\n",
        "src/train.py": TRAIN_PY,
    })
    [training] = purposes_of(detect(root), "ci.training_job")
    assert "which runs DVC stage `train` (`python src/train.py`) in dvc.yaml" in training


def test_mlflow_run_follows_the_mlproject_entry_point(make_repo: MakeRepo) -> None:
    mlproject = """\
name: churn
python_env: python_env.yaml
entry_points:
  main:
    parameters:
      max_depth: {type: int, default: 6}
    command: "python src/train.py --max-depth {max_depth}"
  validate:
    command: "python src/validate.py"
"""
    root = make_repo({
        ".github/workflows/ci.yml": workflow("mlflow run . -P max_depth=8",
                                             "mlflow run . -e validate"),
        "MLproject": mlproject,
        "src/train.py": TRAIN_PY,
        "src/validate.py": VALIDATE_PY,
    })
    findings = detect(root)
    [training] = purposes_of(findings, "ci.training_job")
    assert "MLproject entry point `main`" in training and "src/train.py:8" in training
    assert len(by_signal(findings, "ci.data_validation_job")) == 1


def test_platform_clis_are_classified(make_repo: MakeRepo) -> None:
    root = make_repo({
        ".github/workflows/train.yml": workflow(
            "az ml job create --file jobs/pipeline.yml --resource-group rg --workspace-name ws"
        ),
        ".github/workflows/register.yml": workflow(
            "az ml model create --name churn --path azureml://jobs/$RUN/outputs/model"
        ),
        ".github/workflows/deploy.yml": workflow(
            "az ml online-deployment update --name blue --endpoint churn -f deploy/blue.yml"
        ),
        ".github/workflows/sm.yml": workflow(
            "aws sagemaker update-endpoint --endpoint-name churn --endpoint-config-name v4"
        ),
        ".github/workflows/kfp.yml": workflow("kfp pipeline upload -p churn pipeline.yaml"),
        ".github/workflows/gx.yml": workflow("great_expectations checkpoint run customers"),
    })
    findings = detect(root)
    by_file = {
        signal: sorted(f.path.rsplit("/", 1)[-1] for f in by_signal(findings, signal))
        for signal in ("ci.training_job", "ci.model_registration_job", "ci.model_deployment_job",
                       "ci.pipeline_deployment_job", "ci.data_validation_job")
    }
    assert by_file == {
        "ci.training_job": ["train.yml"],
        "ci.model_registration_job": ["register.yml"],
        "ci.model_deployment_job": ["deploy.yml", "sm.yml"],
        "ci.pipeline_deployment_job": ["kfp.yml"],
        "ci.data_validation_job": ["gx.yml"],
    }


def test_scripts_that_register_evaluate_and_publish_pipelines(make_repo: MakeRepo) -> None:
    root = make_repo({
        ".github/workflows/release.yml": workflow(
            "python scripts/evaluate.py", "python scripts/register.py",
            "python scripts/publish_pipeline.py",
        ),
        "scripts/evaluate.py": EVALUATE_PY,
        "scripts/register.py": REGISTER_PY,
        "scripts/publish_pipeline.py": PIPELINE_PY,
        "pipelines/__init__.py": "",
        "pipelines/training.py": "def training_pipeline():\n    pass\n",
    })
    findings = detect(root)
    assert "calls mlflow.register_model at scripts/register.py:4" in purposes_of(
        findings, "ci.model_registration_job")[0]
    assert "roc_auc_score" in purposes_of(findings, "ci.model_evaluation_job")[0]
    assert "upload_pipeline" in purposes_of(findings, "ci.pipeline_deployment_job")[0]
    assert by_signal(findings, "ci.training_job") == []


def test_helm_chart_with_serving_resources_is_a_model_deployment(make_repo: MakeRepo) -> None:
    template = """\
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: {{ .Release.Name }}
spec:
  predictors:
    - graph:
        modelUri: {{ .Values.modelUri }}
"""
    root = make_repo({
        ".github/workflows/model.yml": workflow(
            "helm upgrade --install churn charts/churn -f charts/churn/values-prod.yaml --wait"
        ),
        ".github/workflows/app.yml": workflow("helm upgrade --install web charts/web"),
        "charts/churn/Chart.yaml": "apiVersion: v2\nname: churn\nversion: 0.1.0\n",
        "charts/churn/values-prod.yaml": "modelUri: s3://models/churn/7\n",
        "charts/churn/templates/seldon.yaml": template,
        "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "charts/web/values.yaml": "image: nginx:1.27\n",
        "charts/web/templates/deployment.yaml": "kind: Deployment\nmetadata:\n  name: web\n",
    })
    [deployment] = by_signal(detect(root), "ci.model_deployment_job")
    assert deployment.path == ".github/workflows/model.yml"
    assert "SeldonDeployment at charts/churn/templates/seldon.yaml:2" in deployment.summary


def test_model_server_image_in_a_plain_deployment(make_repo: MakeRepo) -> None:
    manifest = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: recommender
spec:
  template:
    spec:
      containers:
        - name: serving
          image: tensorflow/serving:2.16.1
          args: ["--model_name=recommender", "--model_base_path=/models/recommender"]
"""
    root = make_repo({
        ".github/workflows/deploy.yml": workflow(
            "envsubst < deploy/serving.yaml | kubectl apply -f -"
        ),
        "deploy/serving.yaml": manifest,
    })
    [deployment] = by_signal(detect(root), "ci.model_deployment_job")
    assert "model server image tensorflow/serving:2.16.1" in deployment.summary


def test_gh_workflow_run_starts_the_training_workflow(make_repo: MakeRepo) -> None:
    dispatcher = """\
on:
  schedule:
    - cron: "0 6 * * 1-5"
jobs:
  kick:
    runs-on: ubuntu-latest
    steps:
      - run: gh workflow run train.yml --ref main
        env:
          GH_TOKEN: ${{ github.token }}
"""
    root = make_repo({
        ".github/workflows/dispatch.yml": dispatcher,
        ".github/workflows/train.yml": workflow("python src/train.py", on="workflow_dispatch"),
        "src/train.py": TRAIN_PY,
    })
    [scheduled] = by_signal(detect(root), "retrain.scheduled")
    assert scheduled.attributes["jobs"] == ["kick"]
    assert "which starts workflow .github/workflows/train.yml" in scheduled.summary


def test_unresolvable_and_missing_scripts_are_not_evidence(make_repo: MakeRepo) -> None:
    root = make_repo({
        ".github/workflows/ci.yml": workflow(
            "python $SCRIPTS/train.py", "bash scripts/missing.sh", "python /opt/train.py",
            "python ../outside/train.py",
        ),
    })
    findings = detect(root)
    assert by_signal(findings, "ci.training_job") == []
    assert len(by_signal(findings, "ci.pipeline")) == 1


def test_kubectl_global_options_before_the_verb_still_deploy(make_repo: MakeRepo) -> None:
    manifest = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: churn
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: s3://models/churn/4
"""
    root = make_repo({
        ".github/workflows/deploy.yml": workflow(
            "kubectl --context prod -n ml-serving apply -f deploy/isvc.yaml"
        ),
        ".github/workflows/inspect.yml": workflow("kubectl -n ml-serving get -f deploy/isvc.yaml"),
        "deploy/isvc.yaml": manifest,
    })
    [deployment] = by_signal(detect(root), "ci.model_deployment_job")
    assert deployment.path == ".github/workflows/deploy.yml"


def test_dvc_repro_with_variable_arguments_reproduces_the_whole_pipeline(
    make_repo: MakeRepo,
) -> None:
    root = make_repo({
        ".github/workflows/ci.yml": workflow("dvc repro $REPRO_FLAGS"),
        "dvc.yaml": "stages:\n  train:\n    cmd: python src/train.py\n    deps: [src/train.py]\n",
        "src/train.py": TRAIN_PY,
    })
    [training] = purposes_of(detect(root), "ci.training_job")
    assert "which runs DVC stage `train`" in training
