"""Azure ML batch serving and data asset versions: YAML definitions and CLI calls in CI."""

from __future__ import annotations

from conftest import MakeRepo, by_signal, detect

BATCH_ENDPOINT = '''\
$schema: https://azuremlschemas.azureedge.net/latest/batchEndpoint.schema.json
name: churn-batch
description: Monthly churn scores for every active subscriber
auth_mode: aad_token
defaults:
  deployment_name: gbm
'''

MODEL_BATCH_DEPLOYMENT = '''\
$schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
name: gbm
endpoint_name: churn-batch
type: model
model: azureml:churn-model:12
code_configuration:
  code: ../src
  scoring_script: batch_score.py
environment: azureml:churn-env:4
compute: azureml:cpu-cluster
resources:
  instance_count: 2
settings:
  mini_batch_size: 10
  output_action: append_row
  output_file_name: scores.csv
'''

PIPELINE_BATCH_DEPLOYMENT = '''\
# Scores with the preprocessing pipeline in front of the model
$schema: https://azuremlschemas.azureedge.net/latest/pipelineComponentBatchDeployment.schema.json
name: with-features
endpoint_name: churn-batch
type: pipeline
component: ./scoring-pipeline.yml
settings:
  default_compute: cpu-cluster
'''

# Not serving: compute, an environment, a description that only names a batch endpoint.
COMPUTE = '''\
$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json
name: cpu-cluster
type: amlcompute
size: STANDARD_DS3_v2
min_instances: 0
max_instances: 4
description: Runs the jobs of the batchEndpoint deployments
'''

GITHUB_DEPLOY = '''\
name: release
on:
  workflow_dispatch:
    inputs:
      model_version:
        required: true
jobs:
  deploy-batch:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - uses: azure/login@v2
        with:
          creds: ${{ secrets.AZURE_CREDENTIALS }}
      - name: Deploy and smoke-score
        run: |
          az extension add --name ml --yes
          az ml batch-endpoint show --name churn-batch || echo "first release"
          az ml batch-deployment create -f azureml/deployment.yml --set-default \
            --set model=azureml:churn-model:${{ inputs.model_version }}
          run=$(az ml batch-endpoint invoke --name churn-batch --input azureml:churn-sample:1 -o tsv)
          az ml job stream --name "$run"
  report:
    runs-on: ubuntu-latest
    needs: deploy-batch
    steps:
      - name: List endpoints for the release notes
        run: |
          az ml batch-endpoint list -o table
          # az ml online-endpoint create --file azureml/online.yml
          az ml job create --file azureml/train.yml
'''

GITLAB_SAGEMAKER = '''\
stages: [deploy]

deploy-endpoint:
  stage: deploy
  image: amazon/aws-cli:2.15.0
  script:
    - CONFIG=fraud-$CI_COMMIT_SHORT_SHA
    - aws sagemaker create-endpoint-config --endpoint-config-name $CONFIG --production-variants file://v.json
    - aws sagemaker update-endpoint --endpoint-name fraud-scoring --endpoint-config-name $CONFIG
  rules:
    - if: $CI_COMMIT_TAG
'''


def test_batch_endpoints_and_deployments_are_model_servers(make_repo: MakeRepo) -> None:
    root = make_repo({
        "azureml/endpoint.yml": BATCH_ENDPOINT,
        "azureml/deployment.yml": MODEL_BATCH_DEPLOYMENT,
        "azureml/deployment-pipeline.yml": PIPELINE_BATCH_DEPLOYMENT,
        "azureml/compute.yml": COMPUTE,
    })  # fmt: skip
    findings = detect(root)
    servers = {(f.path, f.line): f.attributes for f in by_signal(findings, "serving.model_server")}
    assert servers == {
        ("azureml/endpoint.yml", 1): {"kind": "batchEndpoint", "server": "azureml",
                                      "name": "churn-batch"},
        ("azureml/deployment.yml", 1): {
            "kind": "modelBatchDeployment", "server": "azureml", "name": "gbm",
            "endpoint": "churn-batch", "model": "azureml:churn-model:12",
            "scoring_script": "batch_score.py"},
        ("azureml/deployment-pipeline.yml", 2): {
            "kind": "pipelineComponentBatchDeployment", "server": "azureml",
            "name": "with-features", "endpoint": "churn-batch",
            "component": "./scoring-pipeline.yml"},
    }  # fmt: skip
    # batch deployments split no traffic and do not autoscale on load
    assert not by_signal(findings, "serving.progressive_delivery")
    assert not by_signal(findings, "serving.autoscaling")


def test_ci_jobs_that_manage_model_endpoints(make_repo: MakeRepo) -> None:
    root = make_repo({
        ".github/workflows/release.yml": GITHUB_DEPLOY,
        ".gitlab-ci.yml": GITLAB_SAGEMAKER,
    })  # fmt: skip
    servers = {(f.path, f.line): f for f in by_signal(detect(root), "serving.model_server")}
    # `show`, `list`, a commented-out create and `az ml job create` are no endpoints
    assert set(servers) == {(".github/workflows/release.yml", 20), (".gitlab-ci.yml", 9)}
    azure = servers[(".github/workflows/release.yml", 20)]
    assert azure.attributes == {
        "kind": "ci", "server": "azureml", "system": "github-actions", "job": "deploy-batch",
        "commands": ["az ml batch-deployment create", "az ml batch-endpoint invoke"],
    }  # fmt: skip
    assert "manages a model endpoint (Azure ML)" in azure.summary
    sagemaker = servers[(".gitlab-ci.yml", 9)].attributes
    assert sagemaker["server"] == "sagemaker"
    assert sagemaker["commands"] == ["aws sagemaker update-endpoint"]
    assert sagemaker["endpoint"] == "fraud-scoring"


DATA_ASSET = '''\
# Curated transactions, registered by the nightly snapshot job
$schema: https://azuremlschemas.azureedge.net/latest/data.schema.json
name: transactions
type: mltable
path: ./transactions
'''

DATA_ASSET_PINNED = '''\
$schema: https://azuremlschemas.azureedge.net/latest/data.schema.json
name: holdout
version: "7"
type: uri_file
path: azureml://datastores/curated/paths/holdout/2025-10.parquet
'''

DATASTORE = '''\
$schema: https://azuremlschemas.azureedge.net/latest/azureBlob.schema.json
name: curated
type: azure_blob
account_name: acmecurated
container_name: curated
'''

PIPELINE_JOB = '''\
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
display_name: fraud-training
inputs:
  transactions:
    type: mltable
    path: azureml:transactions:20251101
  raw_events:
    type: uri_folder
    path: azureml://datastores/curated/paths/events/
  labels:
    type: uri_file
    path: azureml:labels@latest
  baseline_model:
    type: mlflow_model
    path: azureml:fraud-model:3
  region: azureml:eu:1
jobs:
  train:
    type: command
    code: ../src
    environment: azureml:fraud-env:2
    command: python train.py --data ${{inputs.data}} --holdout ${{inputs.holdout}}
    inputs:
      data: ${{parent.inputs.transactions}}
      holdout:
        path: azureml:holdout:7
'''

UNPINNED_JOB = '''\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
command: python score.py --data ${{inputs.data}}
code: ../src
environment: azureml:fraud-env:2
inputs:
  data:
    type: uri_folder
    path: azureml://datastores/curated/paths/latest/
'''

GITLAB_SNAPSHOT = '''\
stages: [data, train]

snapshot-transactions:
  stage: data
  image: mcr.microsoft.com/azure-cli:2.61.0
  script:
    - az extension add --name ml --yes
    - az ml data list --name transactions -o table
    - az ml data create --file azureml/data/transactions.yml --version "$(date +%Y%m%d)"
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"

register-holdout:
  stage: data
  image: mcr.microsoft.com/azure-cli:2.61.0
  script:
    - az ml data create --name holdout --version 8 --type uri_file --path ./holdout.parquet
    # - az ml data create --name scratch --path ./tmp
    - az ml data show --name holdout --version 8
'''


def test_azure_ml_data_asset_versions(make_repo: MakeRepo) -> None:
    root = make_repo({
        "azureml/data/transactions.yml": DATA_ASSET,
        "azureml/data/holdout.yml": DATA_ASSET_PINNED,
        "azureml/datastore.yml": DATASTORE,
        "azureml/pipeline.yml": PIPELINE_JOB,
        "azureml/score-job.yml": UNPINNED_JOB,
        ".gitlab-ci.yml": GITLAB_SNAPSHOT,
    })  # fmt: skip
    found = {(f.path, f.line): f for f in by_signal(detect(root), "data.versioning")}
    assert {key: f.attributes["items"] for key, f in found.items()} == {
        ("azureml/data/transactions.yml", 2): ["transactions"],
        ("azureml/data/holdout.yml", 1): ["holdout:7"],
        # the pinned mltable input and the pinned job input; not the datastore URI, the
        # `@latest` reference, the pinned model or the literal `region`
        ("azureml/pipeline.yml", 5): ["holdout:7", "transactions:20251101"],
        # the dated snapshot (name from its YAML) and the numbered holdout; not list / show
        (".gitlab-ci.yml", 9): ["holdout:8", "transactions"],
    }
    assert all(f.attributes["tool"] == "azureml" for f in found.values())
    snapshot = found[(".gitlab-ci.yml", 9)].summary
    assert "job `snapshot-transactions` registers a new version" in snapshot
    assert "immutable" in found[("azureml/data/transactions.yml", 2)].summary


def test_azure_ml_files_without_data_versions(make_repo: MakeRepo) -> None:
    root = make_repo({
        "azureml/datastore.yml": DATASTORE,
        "azureml/score-job.yml": UNPINNED_JOB,
        "azureml/endpoint.yml": BATCH_ENDPOINT,
        # a data asset schema that is not Azure ML's, and a data.schema.json without a name
        "schemas/data.yml": "$schema: https://example.com/schemas/data.schema.json\nname: rows\n",
        "azureml/broken.yml": "$schema: https://azuremlschemas.azureedge.net/latest/data.schema.json\n",
        ".github/workflows/release.yml": GITHUB_DEPLOY,
    })  # fmt: skip
    assert not by_signal(detect(root), "data.versioning")
