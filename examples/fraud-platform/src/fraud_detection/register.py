"""Register and promote fraud-detector versions in the MLflow model registry.

    python -m fraud_detection.register register --run-id <run> --alias candidate
    python -m fraud_detection.register promote --from candidate --to challenger
    python -m fraud_detection.register promote --from challenger --to champion

`candidate` is set by the training pipeline when the release criteria pass; CI moves it
to `challenger` (served as the canary in production) and, after the manual production
approval, to `champion`.
"""

from __future__ import annotations

import argparse
import subprocess

import mlflow
from mlflow import MlflowClient

from fraud_detection import MODEL_NAME


def data_version() -> str:
    """DVC hash of the reference data this release is monitored against (lineage tag)."""
    done = subprocess.run(
        ["git", "log", "-1", "--format=%H", "--", "data/reference"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


def register(run_id: str, alias: str) -> str:
    version = mlflow.register_model(f"runs:/{run_id}/model", MODEL_NAME, tags={"reference_data": data_version()})
    MlflowClient().set_registered_model_alias(MODEL_NAME, alias, version.version)
    return version.version


def promote(source: str, target: str) -> str:
    client = MlflowClient()
    version = client.get_model_version_by_alias(MODEL_NAME, source)
    client.set_registered_model_alias(MODEL_NAME, target, version.version)
    client.set_model_version_tag(MODEL_NAME, version.version, f"promoted_to_{target}", "true")
    return version.version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("register")
    new.add_argument("--run-id", required=True)
    new.add_argument("--alias", default="candidate")
    move = commands.add_parser("promote")
    move.add_argument("--from", dest="source", required=True)
    move.add_argument("--to", dest="target", required=True)
    args = parser.parse_args()

    if args.command == "register":
        print(f"{MODEL_NAME} v{register(args.run_id, args.alias)} @{args.alias}")
    else:
        print(f"{MODEL_NAME} v{promote(args.source, args.target)}: @{args.source} -> @{args.target}")


if __name__ == "__main__":
    main()
