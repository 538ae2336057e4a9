"""The platform the platform-scan tests and fixtures work with (fixtures: platform_services.py).

One session holds:

- three local git repositories with GitHub remotes: acme/churn-model (prepares data with
  DVC, trains, tests, deploys, retrains weekly and when the drift alert's webhook calls),
  acme/fraud-model (trains, no deployment), acme/web-frontend (no ML at all);
- a real `mlflow server` with the registered models `churn` (two versions from CI runs
  of acme/churn-model, validated, aliased production) and `fraud` (one version from a run
  of acme/fraud-model), and a third model `sandbox` with no lineage;
- a real Prometheus scraping a model server that serves churn and fraud (model label),
  with the serving and drift rules of tests/fixtures/prometheus;
- Kubernetes manifests (tests/fixtures/kubernetes/manifests) in several namespaces.

`Platform.config(...)` writes a platform config over them. The scan clock is fixed
(`Platform.now`, given to CLI runs as MATURITY_PROBE_NOW) so that scans of the same data
give the same bytes.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "collectors"))  # the sample repos

from host_repos import churn_files, frontend_files

from conftest import git, write_files

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MANIFESTS = FIXTURES / "kubernetes" / "manifests"
REPOS = {
    "churn-model": "https://github.com/acme/churn-model.git",
    "fraud-model": "https://github.com/acme/fraud-model.git",
    "web-frontend": "https://github.com/acme/web-frontend.git",
}


@dataclass
class Platform:
    """The running services and what the config needs to reach them."""

    root: Path
    repos: dict[str, Path]
    mlflow_url: str
    prometheus_url: str
    now: datetime

    def sources(self) -> list[dict[str, Any]]:
        """The config entries of every service."""
        return [
            *({"type": "repo", "name": repo, "path": str(path)} for repo, path in self.repos.items()),
            {"type": "mlflow", "name": "prod-mlflow", "tracking_uri": self.mlflow_url},
            {"type": "prometheus", "name": "prod-prom", "url": self.prometheus_url,
             "lookback_days": 30},
            {"type": "kubernetes", "name": "prod-k8s", "manifests": str(MANIFESTS)},
        ]

    def config(self, extra_sources: list[dict[str, Any]] | None = None, *,
               without: tuple[str, ...] = (), changes: dict[str, dict[str, Any]] | None = None,
               name: str = "acme-platform", **settings: Any) -> Path:
        """A platform config over every service but those `without`, with `changes` to some
        entries (by source name), plus `extra_sources`."""
        changes = changes or {}
        sources = [{**entry, **changes.get(entry["name"], {})} for entry in self.sources()
                   if entry["name"] not in without]
        document = {"name": name, "sources": [*sources, *(extra_sources or [])], **settings}
        file = self.root / f"platform-{len(list(self.root.glob('platform-*.yaml')))}.yaml"
        file.write_text(yaml.safe_dump(document, sort_keys=False))
        return file

    def cli_env(self, **extra: str) -> dict[str, str]:
        """Environment of a `maturity-probe` subprocess: the fixed clock, no colours."""
        return {**os.environ, "MATURITY_PROBE_NOW": self.now.isoformat(), "NO_COLOR": "1",
                **extra}


# -- the repositories ----------------------------------------------------------------------------


def _repository(root: Path, remote: str, files: dict[str, str], days_ago: list[int]) -> Path:
    """A real git repository with `origin` at `remote`: one commit per entry of `days_ago`."""
    root.mkdir(parents=True)
    write_files(root, {k: v for k, v in files.items() if not k.endswith(".png")})
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", remote)
    now = datetime.now(UTC)
    for number, age in enumerate(days_ago):
        if number:
            (root / "CHANGELOG.md").write_text(f"change {number}\n")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", f"change {number}", date=(now - timedelta(days=age)).isoformat())
    return root


PREPARE = """\
\"\"\"Build the churn features from the raw billing and support-ticket extracts.\"\"\"
import sys

import pandas as pd


def prepare(raw: str, features: str) -> None:
    frame = pd.read_csv(raw, parse_dates=["signup_date"])
    frame = frame.dropna(subset=["customer_id"])
    frame["tenure_days"] = (pd.Timestamp.now() - frame["signup_date"]).dt.days
    frame["tickets_per_month"] = frame["tickets"] / (frame["tenure_days"] / 30).clip(lower=1)
    frame.to_parquet(features, index=False)


if __name__ == "__main__":
    prepare(sys.argv[1], sys.argv[2])
"""
DVC_PIPELINE = """\
stages:
  prepare:
    cmd: python src/churn/prepare.py data/raw.csv data/features.parquet
    deps:
      - src/churn/prepare.py
      - data/raw.csv
    outs:
      - data/features.parquet
  train:
    cmd: python src/churn/train.py data/features.parquet models/churn.pkl
    deps:
      - src/churn/train.py
      - data/features.parquet
    outs:
      - models/churn.pkl
"""


def make_repos(root: Path) -> dict[str, Path]:
    fraud = {k.replace("churn", "fraud"): v.replace("churn", "fraud") for k, v in churn_files().items()
             if k not in (".github/workflows/deploy.yml", ".github/workflows/release.yml")}
    churn = {**churn_files(), "src/churn/prepare.py": PREPARE, "dvc.yaml": DVC_PIPELINE}
    # the drift alert's webhook also starts the retraining
    churn[".github/workflows/retrain.yml"] = churn[".github/workflows/retrain.yml"].replace(
        "  workflow_dispatch:\n", "  workflow_dispatch:\n  repository_dispatch:\n    types: [churn-drift]\n")
    return {
        "churn-model": _repository(root / "churn-model", REPOS["churn-model"], churn, [60, 20, 3]),
        "fraud-model": _repository(root / "fraud-model", REPOS["fraud-model"], fraud, [90, 10]),
        "web-frontend": _repository(root / "web-frontend", REPOS["web-frontend"], frontend_files(), [5]),
    }


# -- MLflow --------------------------------------------------------------------------------------


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def seed_mlflow(url: str) -> None:
    """churn (2 versions, validated, production alias), fraud (1 version), sandbox (none)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=url)
    now = datetime.now(UTC)
    experiment = client.create_experiment("churn-training")
    versions: dict[str, list[str]] = {"churn": [], "fraud": []}
    for model, days in (("churn", [9, 2]), ("fraud", [4])):
        for day in days:
            start = now - timedelta(days=day, hours=2)
            run = client.create_run(experiment, start_time=_ms(start), tags={
                "mlflow.user": "github-actions", "mlflow.source.type": "PROJECT",
                "mlflow.source.git.commit": f"{day:02d}" + "ab12cd34" * 4 + "ef56ab",
                "mlflow.source.git.repoURL": REPOS[f"{model}-model"],
            })
            run_id = str(run.info.run_id)
            client.log_metric(run_id, "auc", 0.87, timestamp=_ms(start))
            client.set_terminated(run_id, status="FINISHED", end_time=_ms(start + timedelta(hours=1)))
            versions[model].append(run_id)
    for model, run_ids in versions.items():
        client.create_registered_model(model, description=f"The {model} classifier, retrained weekly.")
        for run_id in run_ids:
            client.create_model_version(model, f"runs:/{run_id}/model", run_id=run_id,
                                        await_creation_for=0, tags={"validation_status": "passed"})
    client.set_registered_model_alias("churn", "production", "2")
    client.create_registered_model("sandbox")
