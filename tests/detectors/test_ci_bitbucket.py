"""CI detectors on Bitbucket Pipelines: anchored steps, custom pipelines, deployments."""

from __future__ import annotations

from conftest import MakeRepo, by_signal, detect, detect_with_context

TRAIN_PY = """\
import catboost
import pandas as pd

frame = pd.read_csv("data/listings.csv")
model = catboost.CatBoostRegressor(iterations=500, verbose=False)
model.fit(frame.drop(columns=["price"]), frame["price"])
model.save_model("model.cbm")
"""

DEPLOY_SH = """\
#!/bin/sh
set -e
aws sagemaker create-endpoint-config --endpoint-config-name "pricing-$BITBUCKET_BUILD_NUMBER" \\
    --production-variants file://deploy/variants.json
aws sagemaker update-endpoint --endpoint-name pricing \\
    --endpoint-config-name "pricing-$BITBUCKET_BUILD_NUMBER"
"""

CONFIG = """\
image: python:3.11

definitions:
  steps:
    - step: &test
        name: Test
        caches: [pip]
        script:
          - pip install -r requirements.txt
          - pytest -q
    - step: &train
        name: Train
        script:
          - pip install -r requirements.txt
          - python src/train.py
        artifacts: [model.cbm]

pipelines:
  default:
    - step: *test
  branches:
    main:
      - step: *test
      - step:
          <<: *train
          condition:
            changesets:
              includePaths:
                - "data/**"
      - step:
          name: Deploy
          deployment: production
          trigger: manual
          script:
            - ./deploy/deploy.sh
            - pipe: atlassian/slack-notify:2.2.0
              variables:
                WEBHOOK_URL: $SLACK_WEBHOOK
  pull-requests:
    '**':
      - parallel:
          - step: *test
          - step:
              name: Secrets scan
              script:
                - pipe: atlassian/git-secrets-scan:0.6.1
  custom:
    nightly-retrain:
      - step: *train
    train-on-demand:
      - variables:
          - name: EPOCHS
      - step: *train
"""


def test_anchored_steps_custom_pipelines_and_manual_deployment(make_repo: MakeRepo) -> None:
    root = make_repo({
        "bitbucket-pipelines.yml": CONFIG,
        "src/train.py": TRAIN_PY,
        "deploy/deploy.sh": DEPLOY_SH,
    })
    findings, ctx = detect_with_context(root)
    assert ctx.warnings == []

    [pipeline] = by_signal(findings, "ci.pipeline")
    assert pipeline.attributes["system"] == "bitbucket-pipelines"

    [test] = by_signal(findings, "ci.test_job")  # one anchored step, used four times
    assert (test.line, test.attributes["triggers"]) == (5, ["pull_request", "push"])

    training = by_signal(findings, "ci.training_job")
    assert {(f.line, tuple(f.attributes["triggers"])) for f in training} == {
        (11, ("manual", "schedule")),  # the anchor, run by the custom pipelines
        (25, ("path_filter", "push")),  # merged into a new step on main, with a data filter
    }
    [scheduled] = by_signal(findings, "retrain.scheduled")
    assert (scheduled.line, scheduled.attributes["cron"]) == (48, None)
    [data] = by_signal(findings, "retrain.on_data_change")
    assert (data.line, data.attributes["paths"]) == (29, ["data/**"])

    [deployment] = by_signal(findings, "ci.model_deployment_job")
    assert "which calls SageMaker update-endpoint" in deployment.summary
    assert "deploy/deploy.sh:5" in deployment.summary
    [gated] = by_signal(findings, "ci.gated_release")
    assert gated.attributes["approval"] == "manual step (`trigger: manual`)"
    [environments] = by_signal(findings, "ci.deployment_environments")
    assert environments.attributes["environments"] == ["production"]

    [security] = by_signal(findings, "security.scanning")
    assert security.attributes["tools"] == ["git-secrets"]


def test_custom_pipeline_not_named_as_a_schedule_is_manual(make_repo: MakeRepo) -> None:
    config = """\
pipelines:
  custom:
    retrain-model:
      - step:
          name: Retrain
          script:
            - python src/train.py
"""
    root = make_repo({"bitbucket-pipelines.yml": config, "src/train.py": TRAIN_PY})
    findings = detect(root)
    [training] = by_signal(findings, "ci.training_job")
    assert training.attributes["triggers"] == ["manual"]
    assert by_signal(findings, "retrain.scheduled") == []
