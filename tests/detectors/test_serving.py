"""Serving detectors: scoring scripts, their history, model servers, traffic, autoscaling."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import MakeRepo, by_signal, detect, detect_with_context
from maturity_probe.detectors.context import Finding
from maturity_probe.detectors.serving import image_server

AZUREML_SCORE = '''\
import json
import os

import joblib
import numpy as np


def init():
    global model
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model.pkl")
    model = joblib.load(model_path)


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return model.predict(data).tolist()
'''

SAGEMAKER_INFERENCE = '''\
import os

import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def predict_fn(input_data, model):
    return model.predict_proba(input_data)
'''

MLFLOW_PYFUNC = '''\
import mlflow.pyfunc
import pandas as pd


class ChurnModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        import joblib
        self.model = joblib.load(context.artifacts["model"])

    def predict(self, context, model_input: pd.DataFrame):
        return self.model.predict(model_input)
'''

BENTO_SERVICE = '''\
import bentoml
import numpy as np


@bentoml.service(resources={"cpu": "2"})
class IrisClassifier:
    def __init__(self) -> None:
        self.model = bentoml.sklearn.load_model("iris_clf:latest")

    @bentoml.api
    def classify(self, features: np.ndarray) -> np.ndarray:
        return self.model.predict(features)
'''

KSERVE_MODEL = '''\
from typing import Dict

import joblib
from kserve import Model, ModelServer


class FraudModel(Model):
    def __init__(self, name: str):
        super().__init__(name)
        self.load()

    def load(self):
        self.model = joblib.load("/mnt/models/model.joblib")
        self.ready = True

    def predict(self, payload: Dict, headers: Dict[str, str] = None) -> Dict:
        return {"predictions": self.model.predict(payload["instances"]).tolist()}


if __name__ == "__main__":
    ModelServer().start([FraudModel("fraud")])
'''

FASTAPI_APP = '''\
import joblib
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="churn scoring")
model = joblib.load("models/churn.joblib")


class Customer(BaseModel):
    tenure: int
    monthly_charges: float


@app.post("/predict")
def predict(customer: Customer) -> dict:
    frame = pd.DataFrame([customer.model_dump()])
    return {"churn": float(model.predict_proba(frame)[0, 1])}
'''

FASTAPI_WITH_HELPER = '''\
from fastapi import FastAPI

from .model import predictor

api = FastAPI()


@api.post("/score")
def score(payload: dict) -> dict:
    return {"score": predictor.predict([payload["features"]]).tolist()}
'''

HELPER_MODULE = '''\
import torch

predictor = torch.jit.load("artifacts/model.pt")
'''

FLASK_NO_MODEL = '''\
from flask import Flask, jsonify

# import joblib  -- the model used to be served from here
app = Flask(__name__)


@app.route("/health")
def health():
    return jsonify(status="ok")


@app.route("/hello/<name>")
def hello(name):
    return jsonify(message=f"hello {name}")
'''

TRITON_MODEL = '''\
import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        self.scale = 2.0

    def execute(self, requests):
        responses = []
        for request in requests:
            data = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            out = pb_utils.Tensor("OUTPUT0", (data * self.scale).astype(np.float32))
            responses.append(pb_utils.InferenceResponse(output_tensors=[out]))
        return responses
'''

TORCHSERVE_HANDLER = '''\
import torch
from ts.torch_handler.base_handler import BaseHandler


class SentimentHandler(BaseHandler):
    def preprocess(self, data):
        return torch.tensor([row.get("body") for row in data])

    def postprocess(self, output):
        return output.argmax(dim=1).tolist()
'''

TEST_OF_APP = '''\
import joblib
from fastapi import FastAPI
from fastapi.testclient import TestClient


def test_predict_route():
    app = FastAPI()
    model = joblib.load("tests/data/tiny.joblib")
    assert model is not None
    assert TestClient(app)
'''


def _one(findings: list[Finding], path: str) -> Finding:
    matches = [f for f in findings if f.path == path]
    assert len(matches) == 1, matches
    return matches[0]


def test_scoring_scripts_of_every_kind(make_repo: MakeRepo) -> None:
    root = make_repo({
        "deploy/azureml/score.py": AZUREML_SCORE,
        "sagemaker/inference.py": SAGEMAKER_INFERENCE,
        "src/churn/pyfunc_model.py": MLFLOW_PYFUNC,
        "bento/service.py": BENTO_SERVICE,
        "kserve/fraud_model.py": KSERVE_MODEL,
        "api/main.py": FASTAPI_APP,
        "scoring/app.py": FASTAPI_WITH_HELPER,
        "scoring/model.py": HELPER_MODULE,
        "scoring/__init__.py": "",
        "triton/models/scaler/1/model.py": TRITON_MODEL,
        "torchserve/handler.py": TORCHSERVE_HANDLER,
        "web/app.py": FLASK_NO_MODEL,
        "tests/test_api.py": TEST_OF_APP,
    })  # fmt: skip
    scripts = by_signal(detect(root), "serving.scoring_script")
    kinds = {f.path: (f.attributes["kind"], f.line) for f in scripts}
    assert kinds == {
        "deploy/azureml/score.py": ("azureml", 8),
        "sagemaker/inference.py": ("sagemaker", 6),
        "src/churn/pyfunc_model.py": ("mlflow_pyfunc", 5),
        "bento/service.py": ("bentoml", 6),
        "kserve/fraud_model.py": ("kserve", 7),
        "api/main.py": ("fastapi", 6),
        "scoring/app.py": ("fastapi", 5),
        "triton/models/scaler/1/model.py": ("triton", 5),
        "torchserve/handler.py": ("torchserve", 5),
    }
    helper = _one(scripts, "scoring/app.py")
    assert "scoring/model.py calls torch.jit.load" in helper.summary
    assert "api/main.py" in _one(scripts, "api/main.py").summary


def test_flask_app_without_a_model_is_not_a_scoring_script(make_repo: MakeRepo) -> None:
    root = make_repo({"web/app.py": FLASK_NO_MODEL, "tests/test_api.py": TEST_OF_APP})
    findings = detect(root)
    assert by_signal(findings, "serving.scoring_script") == []
    assert by_signal(findings, "vcs.scoring_script_versioned") == []


def test_scoring_script_history_counts_commits(make_repo: MakeRepo) -> None:
    root = make_repo(
        {"score.py": AZUREML_SCORE, "README.md": "# churn\n"},
        commits=[
            {"score.py": AZUREML_SCORE + "\n# v2: batch inputs\n",
             "__date__": "2026-02-01T09:00:00+00:00"},
            {"README.md": "# churn model\n", "__date__": "2026-02-15T09:00:00+00:00"},
            {"score.py": AZUREML_SCORE + "\n# v3: float32 inputs\n",
             "__date__": "2026-03-02T12:30:00+00:00"},
        ],
        date="2026-01-05T10:00:00+00:00",
    )  # fmt: skip
    versioned = by_signal(detect(root), "vcs.scoring_script_versioned")
    assert len(versioned) == 1
    finding = versioned[0]
    assert (finding.path, finding.line) == ("score.py", 8)
    assert finding.attributes["commits"] == 3
    assert finding.occurred_at == datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
    assert finding.attributes["last_change"] == "2026-03-02T12:30:00+00:00"
    assert "3 commits, last changed on 2026-03-02" in finding.summary


def test_scoring_script_outside_git_is_not_versioned(make_repo: MakeRepo) -> None:
    root = make_repo({"score.py": AZUREML_SCORE}, git_repo=False)
    findings = detect(root)
    assert [f.path for f in by_signal(findings, "serving.scoring_script")] == ["score.py"]
    assert by_signal(findings, "vcs.scoring_script_versioned") == []


INFERENCE_SERVICE = '''\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: churn
  namespace: ml-prod
  annotations:
    serving.kserve.io/deploymentMode: Serverless
spec:
  predictor:
    minReplicas: 1
    maxReplicas: 8
    canaryTrafficPercent: 10
    model:
      modelFormat:
        name: sklearn
      storageUri: gs://acme-models/churn/v7
'''

SELDON_DEPLOYMENT = '''\
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: fraud
spec:
  predictors:
    - name: main
      traffic: 75
      graph:
        name: classifier
        implementation: SKLEARN_SERVER
        modelUri: s3://models/fraud/v3
      componentSpecs:
        - hpaSpec:
            minReplicas: 2
            maxReplicas: 6
    - name: challenger
      traffic: 25
      graph:
        name: classifier
        implementation: XGBOOST_SERVER
        modelUri: s3://models/fraud/v4
'''

TRITON_DEPLOYMENT = '''\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: triton-recsys
  namespace: serving
  labels:
    app: triton-recsys
spec:
  replicas: 2
  selector:
    matchLabels:
      app: triton-recsys
  template:
    metadata:
      labels:
        app: triton-recsys
    spec:
      containers:
        - name: triton
          image: nvcr.io/nvidia/tritonserver:24.01-py3
          args: ["tritonserver", "--model-repository=s3://acme/triton-models"]
          ports:
            - containerPort: 8000
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: triton-recsys
  namespace: serving
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: triton-recsys
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: triton-recsys
  namespace: serving
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: triton-recsys
  analysis:
    interval: 1m
    stepWeight: 10
'''

WEB_DEPLOYMENT = '''\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: storefront
spec:
  template:
    metadata:
      labels:
        app: storefront
    spec:
      containers:
        - name: web
          image: nginx:1.25
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: storefront
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: storefront
  minReplicas: 2
  maxReplicas: 20
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: checkout
spec:
  strategy:
    canary:
      steps:
        - setWeight: 20
        - pause: {duration: 10m}
  template:
    spec:
      containers:
        - name: checkout
          image: ghcr.io/acme/checkout:2.3.1
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: storefront
spec:
  hosts: [storefront.acme.example]
  http:
    - route:
        - destination: {host: storefront-v1}
          weight: 90
        - destination: {host: storefront-v2}
          weight: 10
'''

SCORING_APP_DEPLOYMENT = '''\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: churn-api
spec:
  template:
    metadata:
      labels:
        app: churn-api
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/churn-api:1.4.0
          command: ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8080"]
'''

MODEL_ROLLOUT = '''\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: sentiment
spec:
  strategy:
    blueGreen:
      activeService: sentiment-active
      previewService: sentiment-preview
  template:
    spec:
      containers:
        - name: torchserve
          image: pytorch/torchserve:0.9.0-cpu
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: sentiment
spec:
  hosts: [sentiment.ml.svc.cluster.local]
  http:
    - route:
        - destination: {host: sentiment-model-v1}
          weight: 80
        - destination: {host: sentiment-model-v2}
          weight: 20
'''


def test_kubernetes_model_servers(make_repo: MakeRepo) -> None:
    root = make_repo({
        "k8s/isvc.yaml": INFERENCE_SERVICE,
        "k8s/seldon.yaml": SELDON_DEPLOYMENT,
        "k8s/triton.yaml": TRITON_DEPLOYMENT,
        "k8s/web.yaml": WEB_DEPLOYMENT,
        "k8s/churn-api.yaml": SCORING_APP_DEPLOYMENT,
        "k8s/sentiment.yaml": MODEL_ROLLOUT,
        "api/main.py": FASTAPI_APP,
    })  # fmt: skip
    findings = detect(root)
    servers = {(f.path, f.attributes["name"]): f for f in by_signal(findings, "serving.model_server")}
    assert set(servers) == {
        ("k8s/isvc.yaml", "churn"),
        ("k8s/seldon.yaml", "fraud"),
        ("k8s/triton.yaml", "triton-recsys"),
        ("k8s/churn-api.yaml", "churn-api"),
        ("k8s/sentiment.yaml", "sentiment"),
    }
    isvc = servers[("k8s/isvc.yaml", "churn")]
    assert isvc.line == 9
    assert isvc.attributes == {
        "kind": "InferenceService", "name": "churn", "namespace": "ml-prod", "server": "kserve",
        "model": "churn", "storage_uri": "gs://acme-models/churn/v7",
    }  # fmt: skip
    triton = servers[("k8s/triton.yaml", "triton-recsys")]
    assert (triton.line, triton.attributes["server"]) == (20, "triton")
    api = servers[("k8s/churn-api.yaml", "churn-api")]
    assert api.attributes["server"] == "fastapi"
    assert "scoring script api/main.py" in api.summary

    delivery = {(f.path, f.attributes["kind"]): f
                for f in by_signal(findings, "serving.progressive_delivery")}  # fmt: skip
    assert set(delivery) == {
        ("k8s/isvc.yaml", "InferenceService"),
        ("k8s/seldon.yaml", "SeldonDeployment"),
        ("k8s/triton.yaml", "Canary"),
        ("k8s/sentiment.yaml", "Rollout"),
        ("k8s/sentiment.yaml", "VirtualService"),
    }
    assert delivery[("k8s/isvc.yaml", "InferenceService")].attributes["percent"] == 10
    assert delivery[("k8s/isvc.yaml", "InferenceService")].line == 12
    assert delivery[("k8s/seldon.yaml", "SeldonDeployment")].attributes["traffic"] == {
        "main": 75, "challenger": 25}  # fmt: skip
    assert delivery[("k8s/sentiment.yaml", "Rollout")].attributes["strategy"] == "blueGreen"

    scaling = {(f.path, f.attributes["kind"]) for f in by_signal(findings, "serving.autoscaling")}
    assert scaling == {
        ("k8s/isvc.yaml", "InferenceService"),
        ("k8s/seldon.yaml", "SeldonDeployment"),
        ("k8s/triton.yaml", "HorizontalPodAutoscaler"),
    }


def test_web_workloads_are_not_model_serving(make_repo: MakeRepo) -> None:
    root = make_repo({"k8s/web.yaml": WEB_DEPLOYMENT, "web/app.py": FLASK_NO_MODEL})
    findings = detect(root)
    for signal in ("serving.model_server", "serving.progressive_delivery", "serving.autoscaling"):
        assert by_signal(findings, signal) == [], signal


KIND_LIST = '''\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata:
      name: churn-predictor
    spec:
      selector: {app: churn}
  - apiVersion: serving.kserve.io/v1beta1
    kind: InferenceService
    metadata:
      name: churn
      namespace: ml
    spec:
      predictor:
        sklearn:
          storageUri: s3://models/churn
'''

HELM_CHART = "apiVersion: v2\nname: recsys\nversion: 0.3.0\n"

HELM_TEMPLATE = '''\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "recsys.fullname" . }}
  labels:
    {{- include "recsys.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  template:
    spec:
      containers:
        - name: triton
          image: "nvcr.io/nvidia/tritonserver:{{ .Values.tritonVersion }}"
          {{- with .Values.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
'''

HELM_BROKEN = '''\
{{- if .Values.ingress.enabled -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $fullName }}
spec:
  rules:
  {{- range .Values.ingress.hosts }}
    - host: {{ .host | quote }}
      http:
        paths:
          {{- range .paths }}
          - path: {{ .path }}
  {{- end }}
    {{- end }}
  tls: {{ toYaml .Values.tls }} [
{{- end }}
'''


def test_kind_list_and_helm_templates(make_repo: MakeRepo) -> None:
    root = make_repo({
        "export/serving.yaml": KIND_LIST,
        "charts/recsys/Chart.yaml": HELM_CHART,
        "charts/recsys/templates/deployment.yaml": HELM_TEMPLATE,
        "charts/recsys/templates/ingress.yaml": HELM_BROKEN,
    })  # fmt: skip
    findings, ctx = detect_with_context(root)
    servers = by_signal(findings, "serving.model_server")
    by_path = {f.path: f for f in servers}
    assert set(by_path) == {"export/serving.yaml", "charts/recsys/templates/deployment.yaml"}
    isvc = by_path["export/serving.yaml"]
    assert isvc.attributes["namespace"] == "ml"
    assert isvc.attributes["storage_uri"] == "s3://models/churn"
    assert isvc.line == 16
    assert by_path["charts/recsys/templates/deployment.yaml"].line == 13
    assert not [w for w in ctx.warnings if "ingress.yaml" in w]


def test_dockerfiles_of_model_servers(make_repo: MakeRepo) -> None:
    root = make_repo({
        "serving/torchserve/Dockerfile": (
            "FROM pytorch/torchserve:0.9.0-cpu\n"
            "COPY model-store/ /home/model-server/model-store/\n"
            'CMD ["torchserve", "--start", "--model-store", "model-store"]\n'
        ),
        "Dockerfile": (
            "FROM python:3.11-slim AS base\n"
            "WORKDIR /code\n"
            "COPY requirements.txt .\n"
            "RUN pip install --no-cache-dir \\\n"
            "    -r requirements.txt\n"
            "COPY api/ ./api/\n"
            'CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0"]\n'
        ),
        "docs/Dockerfile": (
            "FROM python:3.11-slim\n"
            "COPY . /site\n"
            "CMD python -m http.server 8000\n"
        ),
        "api/main.py": FASTAPI_APP,
    })  # fmt: skip
    servers = {f.path: f for f in by_signal(detect(root), "serving.model_server")}
    assert set(servers) == {"serving/torchserve/Dockerfile", "Dockerfile"}
    assert (servers["serving/torchserve/Dockerfile"].line,
            servers["serving/torchserve/Dockerfile"].attributes["server"]) == (1, "torchserve")  # fmt: skip
    assert servers["Dockerfile"].line == 7
    assert servers["Dockerfile"].attributes["server"] == "fastapi"


def test_dockerfile_of_a_plain_web_app_is_not_a_model_server(make_repo: MakeRepo) -> None:
    root = make_repo({
        "Dockerfile": (
            "FROM python:3.11-slim\n"
            "COPY . /app\n"
            'CMD ["gunicorn", "web.app:app", "--bind", "0.0.0.0:8000"]\n'
        ),
        "web/app.py": FLASK_NO_MODEL,
    })  # fmt: skip
    assert by_signal(detect(root), "serving.model_server") == []


CLOUDFORMATION = '''\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ChurnEndpointConfig:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - VariantName: champion
          ModelName: !Ref ChampionModel
          InitialVariantWeight: 0.9
          InitialInstanceCount: 1
          InstanceType: ml.m5.large
        - VariantName: challenger
          ModelName: !Ref ChallengerModel
          InitialVariantWeight: 0.1
          InitialInstanceCount: 1
          InstanceType: ml.m5.large
  ChurnEndpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointName: churn-prod
      EndpointConfigName: !GetAtt ChurnEndpointConfig.EndpointConfigName
  ChurnScaling:
    Type: AWS::ApplicationAutoScaling::ScalableTarget
    Properties:
      ServiceNamespace: sagemaker
      ScalableDimension: sagemaker:variant:DesiredInstanceCount
      ResourceId: endpoint/churn-prod/variant/champion
      MinCapacity: 1
      MaxCapacity: 4
  LogsBucket:
    Type: AWS::S3::Bucket
'''

TERRAFORM = '''\
resource "aws_sagemaker_endpoint_configuration" "fraud" {
  name = "fraud-config"

  production_variants {
    variant_name           = "primary"
    model_name             = aws_sagemaker_model.fraud.name
    initial_instance_count = 1
    instance_type          = "ml.c5.xlarge"
  }
}

resource "aws_sagemaker_endpoint" "fraud" {
  name                 = "fraud"
  endpoint_configuration_name = aws_sagemaker_endpoint_configuration.fraud.name
}

resource "aws_appautoscaling_target" "fraud" {
  # scale the primary variant between 1 and 3 instances
  service_namespace  = "sagemaker"
  resource_id        = "endpoint/${aws_sagemaker_endpoint.fraud.name}/variant/primary"
  scalable_dimension = "sagemaker:variant:DesiredInstanceCount"
  min_capacity       = 1
  max_capacity       = 3
}

resource "aws_appautoscaling_target" "ecs" {
  service_namespace  = "ecs"
  resource_id        = "service/web/storefront"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = 2
  max_capacity       = 8
}
'''

AZUREML_ENDPOINT = '''\
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json
name: churn-endpoint
auth_mode: key
traffic:
  blue: 90
  green: 10
'''

AZUREML_DEPLOYMENT = '''\
$schema: https://azuremlschemas.azureedge.net/latest/kubernetesOnlineDeployment.schema.json
name: green
endpoint_name: churn-endpoint
model: azureml:churn-model:7
code_configuration:
  code: ../../src
  scoring_script: score.py
environment: azureml:sklearn-env:3
scale_settings:
  type: target_utilization
  min_instances: 1
  max_instances: 5
'''

VERTEX_DEPLOY = '''\
from google.cloud import aiplatform

aiplatform.init(project="acme-ml", location="europe-west4")
endpoint = aiplatform.Endpoint.create(display_name="churn-endpoint")
model = aiplatform.Model("projects/acme-ml/locations/europe-west4/models/123")
model.deploy(endpoint=endpoint, machine_type="n1-standard-4", traffic_percentage=100)
'''


def test_cloud_endpoints_as_code(make_repo: MakeRepo) -> None:
    root = make_repo({
        "infra/sagemaker.yaml": CLOUDFORMATION,
        "infra/fraud.tf": TERRAFORM,
        "azureml/endpoint.yml": AZUREML_ENDPOINT,
        "azureml/deployment-green.yml": AZUREML_DEPLOYMENT,
        "deploy/vertex_deploy.py": VERTEX_DEPLOY,
    })  # fmt: skip
    findings = detect(root)
    servers = {(f.path, f.line): f.attributes for f in by_signal(findings, "serving.model_server")}
    assert servers == {
        ("infra/sagemaker.yaml", 17): {"kind": "AWS::SageMaker::Endpoint", "server": "sagemaker",
                                       "name": "churn-prod"},
        ("infra/fraud.tf", 12): {"kind": "aws_sagemaker_endpoint", "server": "sagemaker",
                                 "name": "fraud"},
        ("azureml/endpoint.yml", 1): {"kind": "managedOnlineEndpoint", "server": "azureml",
                                      "name": "churn-endpoint"},
        ("azureml/deployment-green.yml", 1): {
            "kind": "kubernetesOnlineDeployment", "server": "azureml", "name": "green",
            "endpoint": "churn-endpoint", "model": "azureml:churn-model:7",
            "scoring_script": "score.py"},
        ("deploy/vertex_deploy.py", 4): {"kind": "code", "server": "vertex",
                                         "call": "google.cloud.aiplatform.Endpoint.create"},
    }  # fmt: skip
    delivery = {(f.path, f.line) for f in by_signal(findings, "serving.progressive_delivery")}
    # one Terraform variant is no split; two CloudFormation variants and the Azure ML
    # traffic split are
    assert delivery == {("infra/sagemaker.yaml", 3), ("azureml/endpoint.yml", 4)}
    scaling = {(f.path, f.line) for f in by_signal(findings, "serving.autoscaling")}
    assert scaling == {
        ("infra/sagemaker.yaml", 22), ("infra/fraud.tf", 17), ("azureml/deployment-green.yml", 10)
    }


def test_model_server_images_match_whole_name_parts() -> None:
    assert image_server("nvcr.io/nvidia/tritonserver:24.01-py3") == "triton"
    assert image_server("docker.io/seldonio/mlserver:1.5.0-sklearn") == "mlserver"
    assert image_server("kserve/sklearnserver@sha256:0123abcd") == "kserve"
    assert image_server("ghcr.io/acme/htmlserver:2.0") is None  # `mlserver` inside a word
    assert image_server("kserve/kserve-controller:v0.12.0") is None  # control plane
    assert image_server("python:3.11-slim") is None
