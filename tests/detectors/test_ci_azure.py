"""CI detectors on Azure Pipelines: schedules, path triggers, templates, deployment jobs."""

from __future__ import annotations

from conftest import MakeRepo, by_signal, detect, detect_with_context

TRAIN_PY = """\
from azure.ai.ml import MLClient, load_job
from azure.identity import DefaultAzureCredential

ml_client = MLClient.from_config(credential=DefaultAzureCredential())
pipeline_job = load_job("pipelines/train-pipeline.yml")
ml_client.jobs.create_or_update(pipeline_job, experiment_name="credit-risk")
"""

PIPELINE = """\
trigger:
  branches:
    include: [main]
  paths:
    include:
      - data/credit/*.dvc
      - src/*

pr: none

schedules:
  - cron: "0 1 * * 0"
    displayName: Weekly retraining
    branches:
      include: [main]
    always: true

resources:
  webhooks:
    - webhook: modelDriftAlert
      connection: AzureMonitorConnection

variables:
  - group: mlops-secrets

stages:
  - stage: Build
    jobs:
      - job: unit
        pool:
          vmImage: ubuntu-latest
        steps:
          - task: UsePythonVersion@0
            inputs:
              versionSpec: "3.11"
          - script: python -m pytest tests/unit
            displayName: Unit tests
          - template: templates/security-steps.yml
  - template: templates/train-stage.yml
    parameters:
      environment: dev
  - stage: Release
    dependsOn: Train
    condition: and(succeeded(), ne(variables['Build.Reason'], 'Schedule'))
    jobs:
      - deployment: deploy_endpoint
        environment: credit-prod
        strategy:
          runOnce:
            deploy:
              steps:
                - task: AzureCLI@2
                  inputs:
                    azureSubscription: prod-connection
                    scriptType: bash
                    scriptLocation: inlineScript
                    inlineScript: |
                      az ml online-deployment create --file deploy/blue.yml --all-traffic
"""

TRAIN_STAGE = """\
parameters:
  - name: environment
    type: string

stages:
  - stage: Train
    jobs:
      - job: submit_training
        steps:
          - task: PythonScript@0
            inputs:
              scriptSource: filePath
              scriptPath: src/submit_training.py
"""

SECURITY_STEPS = """\
steps:
  - script: |
      pip install bandit
      bandit -r src -f json -o bandit.json
    displayName: Bandit
"""


def test_schedules_paths_webhooks_templates_and_deployment_jobs(make_repo: MakeRepo) -> None:
    root = make_repo({
        "azure-pipelines.yml": PIPELINE,
        "templates/train-stage.yml": TRAIN_STAGE,
        "templates/security-steps.yml": SECURITY_STEPS,
        "src/submit_training.py": TRAIN_PY,
    })
    findings, ctx = detect_with_context(root)
    assert ctx.warnings == []

    [pipeline] = by_signal(findings, "ci.pipeline")  # templates are not pipelines
    assert pipeline.path == "azure-pipelines.yml"
    assert pipeline.attributes["job_names"] == ["unit", "submit_training", "deploy_endpoint"]

    [training] = by_signal(findings, "ci.training_job")
    assert (training.path, training.line) == ("templates/train-stage.yml", 8)
    assert training.attributes["pipeline"] == "azure-pipelines.yml"
    assert "submits an Azure ML job" in training.summary

    [scheduled] = by_signal(findings, "retrain.scheduled")
    assert (scheduled.path, scheduled.line, scheduled.attributes["cron"]) == (
        "azure-pipelines.yml", 12, "0 1 * * 0"
    )
    [data] = by_signal(findings, "retrain.on_data_change")
    assert data.attributes["paths"] == ["data/credit/*.dvc"]
    [alert] = by_signal(findings, "retrain.on_alert")
    assert alert.attributes["detail"] == "webhook modelDriftAlert"

    [deployment] = by_signal(findings, "ci.model_deployment_job")
    assert deployment.attributes["triggers"] == ["event", "path_filter", "push"]  # not Schedule
    [gated] = by_signal(findings, "ci.gated_release")
    assert gated.attributes["approval"].startswith("environment `credit-prod`")
    [environments] = by_signal(findings, "ci.deployment_environments")
    assert environments.attributes["environments"] == ["credit-prod"]

    [security] = by_signal(findings, "security.scanning")
    assert security.attributes["tools"] == ["Bandit"]
    assert [f.attributes["job"] for f in by_signal(findings, "ci.test_job")] == ["unit"]


def test_no_trigger_commented_schedule_and_disabled_job(make_repo: MakeRepo) -> None:
    pipeline = """\
trigger: none
# schedules:
#   - cron: "0 1 * * *"
#     branches: {include: [main]}
jobs:
  - job: train
    steps:
      - script: python src/submit_training.py
  - job: old_train
    condition: false
    steps:
      - script: python src/submit_training.py
"""
    root = make_repo({"pipelines/azure-pipelines-train.yml": pipeline,
                      "src/submit_training.py": TRAIN_PY})
    findings = detect(root)
    assert by_signal(findings, "retrain.scheduled") == []
    [training] = by_signal(findings, "ci.training_job")
    assert training.attributes["job"] == "train"
    assert training.attributes["triggers"] == []
    [pipeline_finding] = by_signal(findings, "ci.pipeline")
    assert pipeline_finding.attributes["disabled_jobs"] == 1


def test_schedule_only_condition_and_upstream_pipeline(make_repo: MakeRepo) -> None:
    pipeline = """\
resources:
  pipelines:
    - pipeline: features
      source: feature-engineering
      trigger: true
schedules:
  - cron: "30 2 * * *"
    branches: {include: [main]}
steps:
  - bash: python src/submit_training.py
    condition: eq(variables['Build.Reason'], 'Schedule')
  - bash: |
      helm upgrade --install web charts/web
"""
    root = make_repo({".azure-pipelines/nightly.yml": pipeline,
                      "src/submit_training.py": TRAIN_PY})
    findings = detect(root)
    [training] = by_signal(findings, "ci.training_job")
    assert training.line == 9  # the implicit job of a steps-only pipeline
    assert training.attributes["triggers"] == ["push", "schedule", "upstream"]
    assert by_signal(findings, "retrain.on_alert") == []  # upstream not named for monitoring
    [scheduled] = by_signal(findings, "retrain.scheduled")
    assert scheduled.attributes["cron"] == "30 2 * * *"


def test_missing_template_warns(make_repo: MakeRepo) -> None:
    pipeline = "stages:\n  - template: templates/missing.yml\n"
    root = make_repo({"azure-pipelines.yml": pipeline})
    _, ctx = detect_with_context(root)
    assert ctx.warnings == [
        "azure-pipelines.yml:2: template `templates/missing.yml` not found in the repository"
    ]
