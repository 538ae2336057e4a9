"""Sample repositories served by the fake GitHub and GitLab servers of the collector tests.

Each `SampleRepo` holds the files of a realistic project, the history of those files and
what the host knows about it (workflow runs, pipelines, environments, protection ...).
Times are given in days before `NOW`, the scan clock the tests use.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def blob_sha(content: bytes) -> str:
    """The git blob id of a file's content, as hosts report it."""
    return hashlib.sha1(b"blob %d\x00" % len(content) + content).hexdigest()


# -- what hosts know ------------------------------------------------------------------------
@dataclass
class RunSpec:
    event: str  # GitHub event / GitLab pipeline source
    conclusion: str  # success, failure, cancelled
    days_ago: float


@dataclass
class WorkflowSpec:
    id: int
    name: str
    path: str
    state: str = "active"  # active, disabled_manually, disabled_inactivity
    runs: list[RunSpec] = field(default_factory=list)


@dataclass
class EnvironmentSpec:
    name: str
    reviewers: int = 0  # required reviewers (GitHub) / required approvals (GitLab)
    wait_timer: int = 0


@dataclass
class DeploymentSpec:
    environment: str
    days_ago: float
    state: str = "success"
    job: str = "deploy"


@dataclass
class ReleaseSpec:
    tag: str
    days_ago: float
    author: str = "github-actions[bot]"


@dataclass
class PipelineSpec:
    id: int
    source: str  # push, schedule, web, trigger, merge_request_event ...
    status: str
    days_ago: float
    ref: str = "main"
    jobs: list[tuple[str, str]] = field(default_factory=list)  # (job name, status)


@dataclass
class ScheduleSpec:
    cron: str
    active: bool = True
    description: str = "nightly retraining"


@dataclass
class SampleRepo:
    owner: str  # GitHub owner, or GitLab namespace (group/subgroup)
    name: str
    files: dict[str, str]
    commits: list[tuple[float, list[str]]] = field(default_factory=list)  # (days ago, paths)
    default_branch: str = "main"
    archived: bool = False
    fork: bool = False
    truncated_tree: bool = False
    # GitHub
    workflows: list[WorkflowSpec] = field(default_factory=list)
    environments: list[EnvironmentSpec] = field(default_factory=list)
    deployments: list[DeploymentSpec] = field(default_factory=list)
    review_approvals: int = 0  # branch protection and ruleset, required approving reviews
    required_checks: list[str] = field(default_factory=list)
    releases: list[ReleaseSpec] = field(default_factory=list)
    # GitLab
    pipelines: list[PipelineSpec] = field(default_factory=list)
    schedules: list[ScheduleSpec] = field(default_factory=list)
    model_versions: list[tuple[str, str, float]] = field(default_factory=list)  # name, version, days

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def history(self) -> list[tuple[float, list[str]]]:
        """Commits newest first; without any, one initial commit of every file."""
        commits = self.commits or [(120.0, sorted(self.files))]
        return sorted(commits, key=lambda c: c[0])


# -- file contents ---------------------------------------------------------------------------
TRAIN = '''"""Train the churn classifier and log the run to MLflow."""
from __future__ import annotations

import argparse

import joblib
import mlflow
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import train_test_split

from churn.features import build_features


def train(table: str, output: str) -> float:
    frame = build_features(pd.read_parquet(table))
    target = frame.pop("churned")
    x_train, x_test, y_train, y_test = train_test_split(frame, target, test_size=0.2)
    mlflow.sklearn.autolog()
    with mlflow.start_run(run_name="weekly-retrain"):
        model = GradientBoostingClassifier(n_estimators=300, max_depth=3)
        model.fit(x_train, y_train)
        score = model.score(x_test, y_test)
        mlflow.log_metric("holdout_accuracy", score)
    joblib.dump(model, output)
    return score


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--table", default="data/customers.parquet")
    parser.add_argument("--output", default="models/churn.joblib")
    args = parser.parse_args()
    train(args.table, args.output)
'''

FEATURES = '''"""Feature engineering shared by training and serving."""
from __future__ import annotations

import pandas as pd


def build_features(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["tenure_years"] = out["tenure_months"] / 12
    out["charges_per_month"] = out["total_charges"] / out["tenure_months"].clip(lower=1)
    return out.drop(columns=["customer_id"])
'''

SERVE = '''"""Online scoring API for the churn model."""
from __future__ import annotations

import joblib
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel

from churn.features import build_features

app = FastAPI(title="churn-scoring")
model = joblib.load("models/churn.joblib")


class Customer(BaseModel):
    customer_id: str
    tenure_months: int
    total_charges: float


@app.post("/predict")
def predict(customer: Customer) -> dict[str, float]:
    frame = build_features(pd.DataFrame([customer.model_dump()]))
    return {"churn_probability": float(model.predict_proba(frame)[0, 1])}
'''

TEST_FEATURES = '''import pandas as pd

from churn.features import build_features


def test_build_features_adds_tenure_years() -> None:
    frame = pd.DataFrame({"customer_id": ["a"], "tenure_months": [24], "total_charges": [480.0]})
    features = build_features(frame)
    assert features["tenure_years"].iloc[0] == 2
    assert "customer_id" not in features
'''

REQUIREMENTS = """fastapi==0.111.0
joblib==1.4.2
mlflow==2.14.1
pandas==2.2.2
scikit-learn==1.5.0
"""

DOCKERFILE = """FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY src/ src/
COPY models/ models/
ENV PYTHONPATH=/app/src
CMD ["uvicorn", "churn.serve:app", "--host", "0.0.0.0", "--port", "8080"]
"""

INFERENCE_SERVICE = """apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: churn
  namespace: ml-serving
spec:
  predictor:
    minReplicas: 1
    containers:
      - name: kserve-container
        image: ghcr.io/acme/churn-model:latest
        ports:
          - containerPort: 8080
"""

CI_WORKFLOW = """name: ci
on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install -r requirements.txt pytest
      - run: pytest -q tests
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pipx run ruff check .
"""

RETRAIN_WORKFLOW = """name: weekly-retrain
on:
  schedule:
    - cron: "0 3 * * 1"
  workflow_dispatch:
jobs:
  retrain:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install -r requirements.txt
      - run: python src/churn/train.py --table data/customers.parquet
        env:
          MLFLOW_TRACKING_URI: ${{ secrets.MLFLOW_TRACKING_URI }}
"""

DEPLOY_WORKFLOW = """name: deploy
on:
  push:
    branches: [main]
jobs:
  staging:
    runs-on: ubuntu-latest
    environment: staging
    steps:
      - uses: actions/checkout@v4
      - run: kubectl apply -f deploy/inference-service.yaml --context staging
  production:
    needs: staging
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - run: kubectl apply -f deploy/inference-service.yaml --context production
"""

RELEASE_WORKFLOW = """name: release
on:
  push:
    tags: ["v*"]
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: docker build -t ghcr.io/acme/churn-model:${{ github.ref_name }} .
      - run: docker push ghcr.io/acme/churn-model:${{ github.ref_name }}
"""

FRONTEND_PACKAGE = """{
  "name": "web-frontend",
  "version": "3.2.0",
  "private": true,
  "scripts": {"build": "vite build", "test": "vitest run"},
  "dependencies": {"react": "18.3.1", "react-dom": "18.3.1"},
  "devDependencies": {"vite": "5.2.11", "vitest": "1.6.0"}
}
"""

FRONTEND_CI = """name: ci
on: [push, pull_request]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm ci
      - run: npm test
"""

GITLAB_CI = """stages: [test, train, deploy]

default:
  image: python:3.11-slim

unit-tests:
  stage: test
  script:
    - pip install -r requirements.txt pytest
    - pytest -q tests
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH

train-model:
  stage: train
  script:
    - pip install -r requirements.txt
    - python src/fraud/train.py --table data/transactions.parquet
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"

deploy-model:
  stage: deploy
  environment: production
  script:
    - kubectl apply -f deploy/inference-service.yaml
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
      when: manual

lint:
  stage: test
  script:
    - uvx ruff check .
"""


def churn_files() -> dict[str, str]:
    return {
        "README.md": "# churn-model\n\nWeekly retrained customer churn classifier.\n",
        "requirements.txt": REQUIREMENTS,
        "Dockerfile": DOCKERFILE,
        "src/churn/__init__.py": "",
        "src/churn/features.py": FEATURES,
        "src/churn/train.py": TRAIN,
        "src/churn/serve.py": SERVE,
        "tests/test_features.py": TEST_FEATURES,
        "deploy/inference-service.yaml": INFERENCE_SERVICE,
        ".github/workflows/ci.yml": CI_WORKFLOW,
        ".github/workflows/retrain.yml": RETRAIN_WORKFLOW,
        ".github/workflows/deploy.yml": DEPLOY_WORKFLOW,
        ".github/workflows/release.yml": RELEASE_WORKFLOW,
        "docs/architecture.png": "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    }


def fraud_files() -> dict[str, str]:
    """The GitLab flavour: the same ML project driven by .gitlab-ci.yml."""
    files = {k.replace("churn", "fraud"): v.replace("churn", "fraud")
             for k, v in churn_files().items() if not k.startswith(".github/")}
    files[".gitlab-ci.yml"] = GITLAB_CI
    return files


def frontend_files() -> dict[str, str]:
    return {
        "README.md": "# web-frontend\n",
        "package.json": FRONTEND_PACKAGE,
        "src/index.tsx": "import { createRoot } from 'react-dom/client';\n",
        ".github/workflows/ci.yml": FRONTEND_CI,
    }


# -- the organisation the GitHub tests scan ----------------------------------------------------
def github_org() -> list[SampleRepo]:
    churn = SampleRepo(
        "acme", "churn-model", churn_files(),
        commits=[(200, sorted(churn_files())), (40, ["src/churn/train.py", "src/churn/serve.py"]),
                 (6, ["src/churn/serve.py"])],
        workflows=[
            WorkflowSpec(1001, "ci", ".github/workflows/ci.yml",
                         runs=[RunSpec("push", "success", 2), RunSpec("pull_request", "failure", 3)]),
            WorkflowSpec(1002, "weekly-retrain", ".github/workflows/retrain.yml",
                         runs=[RunSpec("schedule", "success", 4), RunSpec("schedule", "failure", 11),
                               RunSpec("schedule", "success", 18)]),
            WorkflowSpec(1003, "deploy", ".github/workflows/deploy.yml",
                         runs=[RunSpec("push", "success", 6)]),
            WorkflowSpec(1004, "release", ".github/workflows/release.yml",
                         runs=[RunSpec("push", "success", 30)]),
        ],
        environments=[EnvironmentSpec("staging"), EnvironmentSpec("production", reviewers=2)],
        deployments=[DeploymentSpec("production", 6), DeploymentSpec("staging", 6)],
        review_approvals=1,
        required_checks=["test"],
        releases=[ReleaseSpec("v1.4.0", 30)],
    )
    fraud = SampleRepo(
        "acme", "fraud-model",
        {k.replace("churn", "fraud"): v.replace("churn", "fraud") for k, v in churn_files().items()
         if k not in (".github/workflows/deploy.yml", ".github/workflows/release.yml")},
        workflows=[
            WorkflowSpec(2001, "ci", ".github/workflows/ci.yml", runs=[RunSpec("push", "success", 1)]),
            WorkflowSpec(2002, "weekly-retrain", ".github/workflows/retrain.yml",
                         state="disabled_inactivity"),
        ],
        releases=[ReleaseSpec("2026.05", 20, author="jdoe")],
    )
    forecast = SampleRepo(
        "acme", "forecast-model",
        {k.replace("churn", "forecast"): v.replace("churn", "forecast")
         for k, v in churn_files().items()
         if k not in (".github/workflows/deploy.yml", ".github/workflows/release.yml")},
        workflows=[
            WorkflowSpec(3001, "ci", ".github/workflows/ci.yml", runs=[RunSpec("push", "success", 50)]),
            # scheduled, but the last scheduled run is from months ago: outside the lookback
            WorkflowSpec(3002, "weekly-retrain", ".github/workflows/retrain.yml",
                         runs=[RunSpec("schedule", "success", 150)]),
        ],
    )
    frontend = SampleRepo("acme", "web-frontend", frontend_files(),
                          workflows=[WorkflowSpec(4001, "ci", ".github/workflows/ci.yml",
                                                  runs=[RunSpec("push", "success", 1)])])
    legacy = SampleRepo("acme", "ml-legacy", {"README.md": "# archived\n"}, archived=True)
    fork = SampleRepo("acme", "sklearn-fork", {"README.md": "# fork\n"}, fork=True)
    return [churn, fraud, forecast, frontend, legacy, fork]


# -- the group the GitLab tests scan -----------------------------------------------------------
def gitlab_group() -> list[SampleRepo]:
    fraud = SampleRepo(
        "data-science", "fraud", fraud_files(),
        commits=[(200, sorted(fraud_files())), (9, ["src/fraud/serve.py"])],
        pipelines=[
            PipelineSpec(9003, "schedule", "success", 3,
                         jobs=[("train-model", "success")]),
            PipelineSpec(9002, "push", "success", 5,
                         jobs=[("unit-tests", "success"), ("deploy-model", "success")]),
            PipelineSpec(9001, "schedule", "failed", 10, jobs=[("train-model", "failed")]),
            PipelineSpec(8990, "push", "success", 25, ref="v2.1.0",
                         jobs=[("unit-tests", "success")]),
        ],
        schedules=[ScheduleSpec("0 2 * * *")],
        environments=[EnvironmentSpec("production", reviewers=1)],
        deployments=[DeploymentSpec("production", 5, job="deploy-model")],
        review_approvals=2,
        releases=[ReleaseSpec("v2.1.0", 25, author="release-bot")],
        model_versions=[("fraud-detector", "2.1.0", 5), ("fraud-detector", "2.0.0", 40)],
    )
    sentiment = SampleRepo(
        "data-science/nlp", "sentiment",
        {k.replace("fraud", "sentiment"): v.replace("fraud", "sentiment")
         for k, v in fraud_files().items()},
        pipelines=[PipelineSpec(7001, "push", "success", 2, jobs=[("unit-tests", "success")])],
        schedules=[ScheduleSpec("0 4 * * 0", active=False)],
    )
    return [fraud, sentiment]


# -- generated organisations for the benchmark --------------------------------------------------
def generated_org(count: int, seed: int = 7) -> list[SampleRepo]:
    """`count` repositories of an organisation: ML projects, services and libraries."""
    rng = random.Random(seed)
    repos = []
    for i in range(count):
        kind = rng.choices(["ml", "service", "library", "docs"], weights=[4, 3, 2, 1])[0]
        name = f"{kind}-{i:03d}"
        if kind == "ml":
            files = {k.replace("churn", f"m{i}"): v.replace("churn", f"m{i}")
                     for k, v in churn_files().items()}
            if rng.random() < 0.5:
                files.pop(".github/workflows/deploy.yml")
            workflows = [WorkflowSpec(i * 10 + 1, "ci", ".github/workflows/ci.yml",
                                      runs=[RunSpec("push", "success", rng.randint(1, 60))]),
                         WorkflowSpec(i * 10 + 2, "weekly-retrain", ".github/workflows/retrain.yml",
                                      runs=[RunSpec("schedule", rng.choice(["success", "failure"]),
                                                    rng.randint(1, 120))])]
            repo = SampleRepo("acme", name, files, workflows=workflows,
                              review_approvals=rng.choice([0, 1]))
        elif kind == "service":
            files = {"README.md": f"# {name}\n", "requirements.txt": "flask==3.0.3\n",
                     "app/main.py": "from flask import Flask\n\napp = Flask(__name__)\n",
                     "Dockerfile": "FROM python:3.11-slim\nCOPY app/ app/\n",
                     ".github/workflows/ci.yml": CI_WORKFLOW}
            repo = SampleRepo("acme", name, files, workflows=[WorkflowSpec(
                i * 10 + 1, "ci", ".github/workflows/ci.yml", runs=[RunSpec("push", "success", 3)])])
        elif kind == "library":
            repo = SampleRepo("acme", name, frontend_files(), workflows=[WorkflowSpec(
                i * 10 + 1, "ci", ".github/workflows/ci.yml", runs=[RunSpec("push", "success", 9)])])
        else:
            repo = SampleRepo("acme", name, {"README.md": f"# {name}\n", "docs/index.md": "# Docs\n"})
        repos.append(repo)
    return repos


def generated_group(count: int, seed: int = 11) -> list[SampleRepo]:
    """`count` projects of a GitLab group: ML projects with pipelines, services, libraries."""
    rng = random.Random(seed)
    repos = []
    for i in range(count):
        kind = rng.choices(["ml", "service", "library", "docs"], weights=[4, 3, 2, 1])[0]
        name = f"{kind}-{i:03d}"
        if kind == "ml":
            files = {k.replace("fraud", f"m{i}"): v.replace("fraud", f"m{i}")
                     for k, v in fraud_files().items()}
            pipelines = [PipelineSpec(i * 100 + 2, "push", "success", rng.randint(1, 30),
                                      jobs=[("unit-tests", "success")]),
                         PipelineSpec(i * 100 + 1, "schedule", rng.choice(["success", "failed"]),
                                      rng.randint(1, 120), jobs=[("train-model", "success")])]
            repo = SampleRepo("acme", name, files, pipelines=pipelines,
                              schedules=[ScheduleSpec("0 2 * * *", active=rng.random() < 0.8)],
                              review_approvals=rng.choice([0, 1]))
        elif kind == "service":
            files = {"README.md": f"# {name}\n", "requirements.txt": "flask==3.0.3\n",
                     "app/main.py": "from flask import Flask\n\napp = Flask(__name__)\n",
                     "Dockerfile": "FROM python:3.11-slim\nCOPY app/ app/\n",
                     ".gitlab-ci.yml": "test:\n  script:\n    - pytest -q\n"}
            repo = SampleRepo("acme", name, files, pipelines=[
                PipelineSpec(i * 100 + 1, "push", "success", 3, jobs=[("test", "success")])])
        elif kind == "library":
            files = {**{k: v for k, v in frontend_files().items() if not k.startswith(".github/")},
                     ".gitlab-ci.yml": "test:\n  image: node:20\n  script:\n    - npm ci\n    - npm test\n"}
            repo = SampleRepo("acme", name, files, pipelines=[
                PipelineSpec(i * 100 + 1, "push", "success", 9, jobs=[("test", "success")])])
        else:
            repo = SampleRepo("acme", name, {"README.md": f"# {name}\n", "docs/index.md": "# Docs\n"})
        repos.append(repo)
    return repos
