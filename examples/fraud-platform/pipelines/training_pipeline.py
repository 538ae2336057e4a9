"""The fraud-detector training pipeline (Kubeflow Pipelines v2).

build_features (Spark) -> validate_data (Great Expectations) -> train (PyTorch, GPU)
-> evaluate (quality + fairness) -> register, only when the release criteria pass.

    COMPONENT_IMAGE=<image> python pipelines/training_pipeline.py --output build/training_pipeline.yaml

CI compiles it with the image built from the same commit and publishes it
(pipelines/publish.py); training runs are started by pipelines/run.py.
"""

import argparse
import os

from kfp import compiler, dsl

IMAGE = os.environ.get("COMPONENT_IMAGE", "registry.gitlab.northbank.example/risk/fraud-platform/train:latest")
FEATURE_BUCKET = "gs://risk-ml-features/training"


@dsl.container_component
def build_features(snapshot_date: str, days: int, features: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["spark-submit", "--master", "local[*]", "--driver-memory", "48g"],
        args=[
            "/app/src/fraud_detection/features/spark_aggregates.py",
            "--transactions", "gs://risk-lake/curated/transactions/",
            "--labels", "gs://risk-lake/curated/chargebacks/",
            "--snapshot-date", snapshot_date,
            "--days", days,
            "--out", dsl.ConcatPlaceholder([FEATURE_BUCKET, "/", snapshot_date]),
            "--uri-out", features,
        ],
    )  # fmt: skip


@dsl.container_component
def validate_data(features: str):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-m", "fraud_detection.validate_data"],
        args=["--data", dsl.ConcatPlaceholder([features, "/train"]), "--checkpoint", "transactions_training"],
    )


@dsl.container_component
def train(features: str, epochs: int, run_id: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-m", "fraud_detection.train"],
        args=[
            "--train",
            dsl.ConcatPlaceholder([features, "/train"]),
            "--epochs",
            epochs,
            "--pipeline-run-id",
            dsl.PIPELINE_JOB_ID_PLACEHOLDER,
            "--run-id-out",
            run_id,
        ],
    )


@dsl.container_component
def evaluate(run_id: str, features: str, metrics: dsl.Output[dsl.Metrics], passed: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-m", "fraud_detection.evaluate"],
        args=[
            "--run-id", run_id,
            "--holdout", dsl.ConcatPlaceholder([features, "/holdout"]),
            "--metrics-out", metrics.path,
            "--passed-out", passed,
        ],
    )  # fmt: skip


@dsl.container_component
def register(run_id: str):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-m", "fraud_detection.register"],
        args=["register", "--run-id", run_id, "--alias", "candidate"],
    )


@dsl.pipeline(name="fraud-training", description="Weekly or drift-triggered retraining of fraud-detector")
def fraud_training(snapshot_date: str, days: int = 120, epochs: int = 20):
    features = build_features(snapshot_date=snapshot_date, days=days)
    features.set_cpu_limit("16").set_memory_limit("64G")
    validated = validate_data(features=features.output)
    trained = train(features=features.output, epochs=epochs).after(validated)
    trained.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)
    evaluated = evaluate(run_id=trained.output, features=features.output)
    with dsl.If(evaluated.outputs["passed"] == "true", name="release-criteria-met"):
        register(run_id=trained.output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", default="build/training_pipeline.yaml")
    args = parser.parse_args()
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    compiler.Compiler().compile(fraud_training, package_path=args.output)
    print(f"compiled fraud-training with component image {IMAGE} to {args.output}")


if __name__ == "__main__":
    main()
