"""CI detectors on CircleCI: scheduled workflows and pipelines, orbs, approvals."""

from __future__ import annotations

from conftest import MakeRepo, by_signal, detect

TRAIN_PY = """\
from sklearn.svm import SVC
from sklearn.datasets import load_iris

X, y = load_iris(return_X_y=True)
classifier = SVC(probability=True).fit(X, y)
"""

CONFIG = """\
version: 2.1

orbs:
  python: circleci/python@2.1.1
  ecr: circleci/aws-ecr@9.3.4
  snyk: snyk/snyk@2.2.0

commands:
  install:
    steps:
      - python/install-packages:
          pkg-manager: pip
  fit:
    parameters:
      epochs: {type: integer, default: 5}
    steps:
      - run:
          name: Fit the model
          command: python src/train.py

jobs:
  test:
    docker: [{image: cimg/python:3.11}]
    steps:
      - checkout
      - install
      - run: pytest -q
  train:
    docker: [{image: cimg/python:3.11}]
    steps:
      - checkout
      - install
      - fit
  deploy:
    docker: [{image: cimg/python:3.11}]
    steps:
      - checkout
      - run:
          name: Roll out the serving manifest
          command: kubectl apply -f k8s/seldon.yaml
  unused:
    docker: [{image: cimg/python:3.11}]
    steps:
      - run: python src/train.py

workflows:
  commit:
    jobs:
      - test
      - ecr/build_and_push_image:
          repo: churn
          requires: [test]
      - train:
          requires: [test]
      - hold:
          type: approval
          requires: [train]
      - deploy:
          requires: [hold]
  nightly:
    triggers:
      - schedule:
          cron: "0 2 * * *"
          filters:
            branches:
              only: main
    jobs:
      - train
"""

SELDON = """\
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: iris
spec:
  predictors:
    - name: default
      graph:
        name: classifier
        implementation: SKLEARN_SERVER
        modelUri: gs://models/iris
"""


def test_workflows_schedules_orbs_and_approval(make_repo: MakeRepo) -> None:
    root = make_repo({".circleci/config.yml": CONFIG, "src/train.py": TRAIN_PY,
                      "k8s/seldon.yaml": SELDON})
    findings = detect(root)

    [training] = by_signal(findings, "ci.training_job")  # `unused` is in no workflow
    assert (training.attributes["job"], training.line) == ("train", 28)
    assert "whose" not in training.summary and "src/train.py:5" in training.summary
    assert training.attributes["triggers"] == ["push", "schedule"]

    [scheduled] = by_signal(findings, "retrain.scheduled")
    assert (scheduled.line, scheduled.attributes["cron"]) == (63, "0 2 * * *")

    [build] = by_signal(findings, "ci.build_job")
    assert build.attributes["job"] == "ecr/build_and_push_image"
    assert "circleci/aws-ecr/build_and_push_image" in build.summary

    [gated] = by_signal(findings, "ci.gated_release")
    assert gated.attributes["approval"] == "approval job `hold`"
    [security] = by_signal(findings, "security.scanning")
    assert security.attributes["tools"] == ["Snyk"]  # the orb is declared for the pipeline
    assert len(by_signal(findings, "ci.test_job")) == 1


def test_scheduled_pipeline_condition_and_disabled_workflow(make_repo: MakeRepo) -> None:
    config = """\
version: 2.1
jobs:
  retrain:
    docker: [{image: cimg/python:3.11}]
    steps:
      - checkout
      - run: |
          pip install -r requirements.txt
          python src/train.py
workflows:
  scheduled-retrain:
    when:
      and:
        - equal: [scheduled_pipeline, << pipeline.trigger_source >>]
        - equal: ["nightly", << pipeline.schedule.name >>]
    jobs: [retrain]
  off:
    when: false
    jobs: [retrain]
"""
    root = make_repo({".circleci/config.yml": config, "src/train.py": TRAIN_PY})
    findings = detect(root)
    [scheduled] = by_signal(findings, "retrain.scheduled")
    assert scheduled.attributes["cron"] is None
    assert scheduled.line == 12
    [training] = by_signal(findings, "ci.training_job")
    assert training.attributes["triggers"] == ["schedule"]
    assert training.attributes["reasons"] == [
        "runs `python src/train.py`, which calls sklearn.svm.SVC.fit at src/train.py:5"
    ]


def test_plain_commit_workflow_has_no_retraining_trigger(make_repo: MakeRepo) -> None:
    config = """\
version: 2.1
jobs:
  build:
    docker: [{image: cimg/python:3.11}]
    steps:
      - checkout
      - run: python src/train.py
workflows:
  main:
    jobs: [build]
"""
    root = make_repo({".circleci/config.yml": config, "src/train.py": TRAIN_PY})
    findings = detect(root)
    assert len(by_signal(findings, "ci.training_job")) == 1
    assert by_signal(findings, "retrain.scheduled") == []
    assert by_signal(findings, "retrain.on_alert") == []
