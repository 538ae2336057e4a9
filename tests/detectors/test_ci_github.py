"""CI detectors on GitHub Actions workflows."""

from __future__ import annotations

from conftest import MakeRepo, by_signal, detect, detect_with_context

TRAIN_PY = """\
import argparse

import joblib
import pandas as pd
from sklearn.ensemble import RandomForestClassifier


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="data/train.csv")
    args = parser.parse_args()
    frame = pd.read_csv(args.data)
    model = RandomForestClassifier(n_estimators=200, random_state=0)
    model.fit(frame.drop(columns=["churned"]), frame["churned"])
    joblib.dump(model, "model.joblib")


if __name__ == "__main__":
    main()
"""
TRAIN_FIT_LINE = 14

ISVC_YAML = """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: churn
spec:
  predictor:
    sklearn:
      storageUri: s3://models/churn/v3
"""

WEB_DEPLOYMENT_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: website
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""

NIGHTLY_WORKFLOW = """\
name: nightly
on:
  schedule:
    - cron: "17 3 * * 1"
  push:
    branches: [main]
jobs:
  ci:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install -r requirements.txt
      - name: Fit
        run: |
          echo "fitting"
          python src/train.py --data data/train.csv
"""


def test_job_named_ci_running_a_training_script_is_a_scheduled_training_job(
    make_repo: MakeRepo,
) -> None:
    root = make_repo({".github/workflows/nightly.yml": NIGHTLY_WORKFLOW, "src/train.py": TRAIN_PY})
    findings = detect(root)

    [training] = by_signal(findings, "ci.training_job")
    assert (training.path, training.line) == (".github/workflows/nightly.yml", 8)
    assert training.attributes["job"] == "ci"
    assert f"src/train.py:{TRAIN_FIT_LINE}" in training.summary
    assert "python src/train.py" in training.summary

    [scheduled] = by_signal(findings, "retrain.scheduled")
    assert scheduled.attributes["cron"] == "17 3 * * 1"
    assert scheduled.attributes["system"] == "github-actions"
    assert (scheduled.path, scheduled.line) == (".github/workflows/nightly.yml", 4)

    [pipeline] = by_signal(findings, "ci.pipeline")
    assert pipeline.attributes["system"] == "github-actions"
    assert pipeline.attributes["jobs"] == 1


def test_job_named_train_that_only_echoes_is_not_a_training_job(make_repo: MakeRepo) -> None:
    workflow = """\
name: train
on:
  schedule:
    - cron: "0 4 * * *"
jobs:
  train:
    name: Train model
    runs-on: ubuntu-latest
    steps:
      - run: echo "python src/train.py would run here"
      - run: python -c "print('training placeholder')"
      - run: make train
"""
    root = make_repo({
        ".github/workflows/train.yml": workflow,
        "Makefile": "train:\n\techo 'not wired yet'\n",
    })
    findings = detect(root)
    assert by_signal(findings, "ci.training_job") == []
    assert by_signal(findings, "retrain.scheduled") == []
    assert len(by_signal(findings, "ci.pipeline")) == 1


def test_disabled_and_commented_out_schedules_are_not_retraining(make_repo: MakeRepo) -> None:
    commented = """\
name: train
on:
  push:
    branches: [main]
  # schedule:
  #   - cron: "0 3 * * *"
jobs:
  fit:
    runs-on: ubuntu-latest
    steps:
      - run: python src/train.py
"""
    disabled_job = """\
name: retrain
on:
  schedule:
    - cron: "0 5 * * *"
jobs:
  fit:
    if: false
    runs-on: ubuntu-latest
    steps:
      - run: python src/train.py
  fit-again:
    if: ${{ false }}
    runs-on: ubuntu-latest
    steps:
      - run: python src/train.py
"""
    root = make_repo({
        ".github/workflows/train.yml": commented,
        ".github/workflows/retrain.yml": disabled_job,
        # GitHub only runs workflows directly in .github/workflows
        ".github/workflows/disabled/nightly.yml": NIGHTLY_WORKFLOW,
        ".github/workflow/nightly.yml": NIGHTLY_WORKFLOW,
        "src/train.py": TRAIN_PY,
    })
    findings = detect(root)
    assert by_signal(findings, "retrain.scheduled") == []
    [training] = by_signal(findings, "ci.training_job")  # only the push-triggered one
    assert training.path == ".github/workflows/train.yml"
    assert training.attributes["triggers"] == ["push"]
    assert {f.path for f in by_signal(findings, "ci.pipeline")} == {
        ".github/workflows/train.yml", ".github/workflows/retrain.yml",
    }


def test_job_condition_on_event_name_narrows_triggers(make_repo: MakeRepo) -> None:
    workflow = """\
on:
  schedule:
    - cron: "0 2 * * *"
    - cron: "0 12 * * 0"
  push:
jobs:
  quick-fit:
    if: github.event_name != 'schedule'
    runs-on: ubuntu-latest
    steps:
      - run: python src/train.py
  weekly-fit:
    if: github.event.schedule == '0 12 * * 0'
    runs-on: ubuntu-latest
    steps:
      - run: python src/train.py
"""
    root = make_repo({".github/workflows/fit.yml": workflow, "src/train.py": TRAIN_PY})
    findings = detect(root)
    [scheduled] = by_signal(findings, "retrain.scheduled")
    assert scheduled.attributes["cron"] == "0 12 * * 0"
    assert scheduled.attributes["jobs"] == ["weekly-fit"]
    assert scheduled.line == 4


def test_data_path_filters_and_dispatch_events_trigger_retraining(make_repo: MakeRepo) -> None:
    on_data = """\
on:
  push:
    paths:
      - "data/**"
      - "dvc.lock"
      - "!docs/**"
jobs:
  fit:
    runs-on: ubuntu-latest
    steps:
      - run: python src/train.py
"""
    on_code = """\
on:
  push:
    paths: ["src/**", "requirements.txt"]
  workflow_dispatch:
jobs:
  fit:
    runs-on: ubuntu-latest
    steps:
      - run: python src/train.py
"""
    on_drift = """\
on:
  repository_dispatch:
    types: [model-drift-detected]
jobs:
  fit:
    runs-on: ubuntu-latest
    steps:
      - run: python src/train.py
"""
    root = make_repo({
        ".github/workflows/data.yml": on_data,
        ".github/workflows/code.yml": on_code,
        ".github/workflows/drift.yml": on_drift,
        "src/train.py": TRAIN_PY,
    })
    findings = detect(root)
    [data_change] = by_signal(findings, "retrain.on_data_change")
    assert data_change.path == ".github/workflows/data.yml"
    assert data_change.attributes["paths"] == ["data/**", "dvc.lock"]
    assert data_change.line == 4
    [alert] = by_signal(findings, "retrain.on_alert")
    assert alert.path == ".github/workflows/drift.yml"
    assert alert.attributes["detail"] == "model-drift-detected"
    assert len(by_signal(findings, "ci.training_job")) == 3


def test_model_deployment_gated_by_environment_and_environment_summary(
    make_repo: MakeRepo,
) -> None:
    workflow = """\
on:
  push:
    branches: [main]
jobs:
  deploy-staging:
    environment: staging
    runs-on: ubuntu-latest
    steps:
      - run: kubectl apply -f k8s/isvc.yaml -n staging
  deploy-prod:
    needs: deploy-staging
    environment:
      name: production
      url: https://churn.example.invalid
    runs-on: ubuntu-latest
    steps:
      - run: kubectl apply -f k8s/
  website:
    environment: web
    runs-on: ubuntu-latest
    steps:
      - run: kubectl apply -f web/deployment.yaml
"""
    root = make_repo({
        ".github/workflows/deploy.yml": workflow,
        "k8s/isvc.yaml": ISVC_YAML,
        "web/deployment.yaml": WEB_DEPLOYMENT_YAML,
    })
    findings = detect(root)
    deployments = by_signal(findings, "ci.model_deployment_job")
    assert {f.attributes["job"] for f in deployments} == {"deploy-staging", "deploy-prod"}
    assert "kind InferenceService at k8s/isvc.yaml:1" in deployments[0].summary
    gated = by_signal(findings, "ci.gated_release")
    assert {f.attributes["job"] for f in gated} == {"deploy-staging", "deploy-prod"}
    [environments] = by_signal(findings, "ci.deployment_environments")
    assert environments.attributes == {
        "environments": ["production", "staging"],
        "count": 2,
        "jobs": [".github/workflows/deploy.yml:5", ".github/workflows/deploy.yml:10"],
    }


def test_local_composite_action_and_reusable_workflow_are_followed(make_repo: MakeRepo) -> None:
    caller = """\
on:
  schedule:
    - cron: "30 1 * * *"
jobs:
  retrain:
    uses: ./.github/workflows/train-reusable.yml
    secrets: inherit
"""
    reusable = """\
on:
  workflow_call:
jobs:
  run:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: ./.github/actions/fit-model
"""
    action = """\
name: fit-model
description: Fit the churn model
runs:
  using: composite
  steps:
    - shell: bash
      run: bash scripts/fit.sh
"""
    script = "#!/usr/bin/env bash\nset -euo pipefail\n\n# fit the model\npython src/train.py\n"
    root = make_repo({
        ".github/workflows/nightly.yml": caller,
        ".github/workflows/train-reusable.yml": reusable,
        ".github/actions/fit-model/action.yml": action,
        "scripts/fit.sh": script,
        "src/train.py": TRAIN_PY,
    })
    findings = detect(root)
    training = {f.attributes["job"]: f for f in by_signal(findings, "ci.training_job")}
    assert set(training) == {"retrain", "run"}
    assert "scripts/fit.sh:5" in training["run"].summary
    assert "whose step runs `bash scripts/fit.sh`" in training["run"].summary
    [scheduled] = by_signal(findings, "retrain.scheduled")
    assert scheduled.attributes["jobs"] == ["retrain"]
    assert scheduled.path == ".github/workflows/nightly.yml"


def test_malformed_workflow_warns_with_file_and_line_and_the_rest_goes_on(
    make_repo: MakeRepo,
) -> None:
    broken = """\
on:
  push:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: pytest
      - run: "unterminated
"""
    root = make_repo({
        ".github/workflows/broken.yml": broken,
        ".github/workflows/nightly.yml": NIGHTLY_WORKFLOW,
        "src/train.py": TRAIN_PY,
    })
    findings, ctx = detect_with_context(root)
    assert any(w.startswith(".github/workflows/broken.yml:") and w.split(":")[1].isdigit()
               for w in ctx.warnings), ctx.warnings
    assert [f.path for f in by_signal(findings, "ci.pipeline")] == [".github/workflows/nightly.yml"]
    assert len(by_signal(findings, "retrain.scheduled")) == 1


def test_workflow_of_unexpected_shape_warns_and_does_not_crash(make_repo: MakeRepo) -> None:
    weird = """\
on: [push, pull_request]
jobs:
  - build
  - test
"""
    strange_steps = """\
'on':
  push:
    paths: data/**
jobs:
  odd:
    steps: "not a list"
  odder:
    steps:
      - 42
      - run: [python, src/train.py]
      - uses: null
"""
    root = make_repo({
        ".github/workflows/weird.yml": weird,
        ".github/workflows/strange.yml": strange_steps,
    })
    findings, ctx = detect_with_context(root)
    assert any(w.startswith(".github/workflows/weird.yml:2") for w in ctx.warnings)
    assert by_signal(findings, "ci.training_job") == []


def test_test_build_and_security_jobs(make_repo: MakeRepo) -> None:
    workflow = """\
on: [push, pull_request]
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: ruff check . && mypy src
  unit:
    runs-on: ubuntu-latest
    steps:
      - run: python -m pytest -q tests/
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          push: true
          tags: ghcr.io/acme/churn:latest
      - uses: aquasecurity/trivy-action@0.28.0
        with:
          image-ref: ghcr.io/acme/churn:latest
  wheel:
    runs-on: ubuntu-latest
    steps:
      - run: python -m build && twine check dist/*
  codeql:
    runs-on: ubuntu-latest
    steps:
      - uses: github/codeql-action/init@v3
      - uses: github/codeql-action/analyze@v3
  audit:
    runs-on: ubuntu-latest
    steps:
      - run: pip install pip-audit bandit
      - run: pip-audit -r requirements.txt
      - run: bandit -r src -ll
"""
    dependabot = """\
version: 2
updates:
  - package-ecosystem: pip
    directory: /
    schedule:
      interval: weekly
  - package-ecosystem: github-actions
    directory: /
    schedule:
      interval: weekly
"""
    root = make_repo({
        ".github/workflows/ci.yml": workflow,
        ".github/dependabot.yml": dependabot,
        "renovate.json": '{"extends": ["config:recommended"]}\n',
    })
    findings = detect(root)
    assert {f.attributes["job"] for f in by_signal(findings, "ci.test_job")} == {"unit"}
    [lint] = by_signal(findings, "ci.lint_job")  # ruff and mypy check the code, they test nothing
    assert lint.attributes["job"] == "lint"
    assert {f.attributes["job"] for f in by_signal(findings, "ci.build_job")} == {"image", "wheel"}
    security = by_signal(findings, "security.scanning")
    tools = {tuple(f.attributes["tools"]) for f in security}
    assert tools == {("Trivy",), ("CodeQL",), ("Bandit", "pip-audit"), ("Dependabot",),
                     ("Renovate",)}
    [dependabot_finding] = [f for f in security if f.path == ".github/dependabot.yml"]
    assert dependabot_finding.attributes["ecosystems"] == ["github-actions", "pip"]
    assert by_signal(findings, "ci.training_job") == []


def test_repository_without_scanners_has_no_security_finding(make_repo: MakeRepo) -> None:
    workflow = "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
    root = make_repo({".github/workflows/ci.yml": workflow, "README.md": "# safety first\n"})
    findings = detect(root)
    assert by_signal(findings, "security.scanning") == []
    assert len(by_signal(findings, "ci.test_job")) == 1
