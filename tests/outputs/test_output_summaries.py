"""The sentences every output shows for evidence read as English: counts agree with their
nouns ("1 commit", "2 jobs", never "1 commits" or "job(s)"), names are words (no schema
identifiers or internal trigger kinds), and no word is doubled."""

from __future__ import annotations

import re

from conftest import MakeRepo, by_signal, detect
from maturity_probe.words import either, plural

JENKINSFILE = """pipeline {
    agent any
    triggers {
        cron('H 2 * * 1')
    }
    stages {
        stage('Unit tests') {
            steps {
                sh 'pytest -q tests'
            }
        }
    }
}
"""
AZURE_PIPELINE = """trigger:
  branches:
    include: [main]
  paths:
    include:
      - src/score.py
      - azureml/endpoints/*

pr: none

stages:
  - stage: Release
    jobs:
      - job: Smoke
        pool:
          vmImage: ubuntu-latest
        steps:
          - script: python -m pytest tests/test_score.py
            displayName: Smoke tests
      - job: Lint
        pool:
          vmImage: ubuntu-latest
        steps:
          - script: ruff check src
"""
BATCH_DEPLOYMENT = """$schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
name: gbm
endpoint_name: demand-forecast-batch
model: azureml:demand-forecast@latest
compute: azureml:cpu-cluster
resources:
  instance_count: 2
"""
PYFUNC = """import mlflow.pyfunc
import pandas as pd


class ChurnModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        import joblib

        self.model = joblib.load(context.artifacts["model"])

    def predict(self, context, model_input: pd.DataFrame):
        return self.model.predict_proba(model_input)[:, 1]
"""
TEST_SCORE = """from src.serve import ChurnModel


def test_model_class_is_a_pyfunc_model():
    assert ChurnModel.__name__ == "ChurnModel"
"""


def summaries(make_repo: MakeRepo) -> dict[str, list[str]]:
    root = make_repo({
        "Jenkinsfile": JENKINSFILE,
        "azure-pipelines.yml": AZURE_PIPELINE,
        "azureml/endpoints/batch-deployment.yml": BATCH_DEPLOYMENT,
        "src/__init__.py": "",
        "src/serve.py": PYFUNC,
        "tests/test_score.py": TEST_SCORE,
    }, date="2026-11-23T09:00:00+00:00")
    found: dict[str, list[str]] = {}
    for finding in detect(root):
        found.setdefault(finding.signal, []).append(finding.summary)
    return found


def test_counts_agree_with_their_nouns_and_names_are_words(make_repo: MakeRepo) -> None:
    found = summaries(make_repo)
    assert found["vcs.repository"] == ["1 commit, the last on 2026-11-23"]
    pipelines = sorted(found["ci.pipeline"])
    assert pipelines == [
        "Azure Pipelines pipeline azure-pipelines.yml with 2 jobs (Smoke, Lint), triggered by "
        "pushes or changes to filtered paths",
        "Jenkins pipeline Jenkinsfile with 1 job (Unit tests), triggered by pushes or a schedule",
    ]
    assert "src/serve.py is a scoring script: it defines class `ChurnModel`, which is an MLflow " \
        "pyfunc PythonModel" in found["serving.scoring_script"][0]
    assert "azureml/endpoints/batch-deployment.yml defines an Azure ML model batch deployment" \
        in found["serving.model_server"]
    assert any("1 commit, last changed on 2026-11-23" in s
               for s in found["vcs.scoring_script_versioned"])
    assert any("(1 test)" in s for s in found["quality.model_tests"])
    every = [s for sentences in found.values() for s in sentences]
    for sentence in every:
        assert "(s)" not in sentence, sentence
        assert not re.search(r"\b1 (?!is\b|was\b|class\b)\w+s\b", sentence), sentence
        assert not re.search(r"\b(\w+) \1\b", sentence), sentence  # "Jenkinsfile Jenkinsfile"
        assert "path_filter" not in sentence and "modelBatchDeployment" not in sentence
        assert " it class " not in sentence


def test_versioned_training_script_and_many_commits(make_repo: MakeRepo) -> None:
    root = make_repo({"train.py": "from sklearn.linear_model import LogisticRegression\n\n"
                                  "model = LogisticRegression().fit([[0], [1]], [0, 1])\n"},
                     commits=[{"README.md": "# churn\n", "__date__": "2026-02-01T10:00:00+00:00"}])
    findings = detect(root)
    [repository] = by_signal(findings, "vcs.repository")
    assert repository.summary == "2 commits, the last on 2026-02-01"
    [training] = by_signal(findings, "vcs.training_code_versioned")
    assert training.summary == ("training script train.py is tracked by git: 1 commit, last "
                                "changed on 2026-01-05")


def test_plural_and_either() -> None:
    assert [plural(n, "commit") for n in (0, 1, 2)] == ["0 commits", "1 commit", "2 commits"]
    assert plural(["a"], "job") == "1 job" and plural(["a", "b"], "job") == "2 jobs"
    assert plural(3, "entry", "entries") == "3 entries" and plural(1, "entry", "entries") == "1 entry"
    assert either([]) == "" and either(["a"]) == "a" and either(["a", "b"]) == "a or b"
    assert either(["a", "b or c", "d"]) == "a, b or c, or d"
