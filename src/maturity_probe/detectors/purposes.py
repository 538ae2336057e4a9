"""What a Python script does for the ML lifecycle, from its parsed facts.

Shared by the CI classifier (a job's purpose comes from the scripts it runs) and by
the code detectors. A purpose maps to the line and call that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from maturity_probe.pyfacts import PyFacts

ML_LIBRARIES = (
    "sklearn", "xgboost", "lightgbm", "catboost", "torch", "tensorflow", "keras",
    "transformers", "pytorch_lightning", "lightning", "statsmodels", "prophet", "jax",
    "flax", "sentence_transformers", "autogluon", "h2o", "pyspark.ml", "sagemaker",
    "azure.ai.ml",
)  # fmt: skip
METRIC_MODULES = ("sklearn.metrics", "torchmetrics", "evaluate", "scipy.stats")
DATA_VALIDATION_MODULES = (
    "great_expectations", "pandera", "tensorflow_data_validation", "deepchecks",
    "soda", "pydantic_pandas",
)  # fmt: skip
DRIFT_MODULES = ("evidently", "alibi_detect", "whylogs", "nannyml", "deepchecks", "frouros")
REGISTRY_CALLS = (
    "mlflow.register_model",
    "mlflow.tracking.MlflowClient.create_model_version",
    "mlflow.tracking.MlflowClient.create_registered_model",
    "mlflow.tracking.MlflowClient.set_registered_model_alias",
    "mlflow.tracking.MlflowClient.transition_model_version_stage",
    "mlflow.MlflowClient.create_model_version",
    "mlflow.MlflowClient.create_registered_model",
    "mlflow.MlflowClient.set_registered_model_alias",
    "mlflow.MlflowClient.transition_model_version_stage",
    "azureml.core.Model.register",
    "google.cloud.aiplatform.Model.upload",
    "wandb.run.link_model",
    "wandb.link_model",
)
REGISTRY_ATTRS = (
    "register_model", "create_model_version", "set_registered_model_alias",
    "transition_model_version_stage", "create_model_package", "link_model",
)  # fmt: skip
DEPLOY_ATTRS = (
    "create_endpoint", "update_endpoint", "create_deployment", "update_deployment",
    "begin_create_or_update_online_deployment",
)  # fmt: skip
PIPELINE_DEPLOY_ATTRS = ("upsert", "upload_pipeline", "upload_pipeline_version",
                         "create_recurring_run", "create_schedule")  # fmt: skip


@dataclass(frozen=True)
class PurposeHit:
    line: int
    reason: str  # e.g. "calls mlflow.register_model"


def _first(calls: list, reason_prefix: str = "calls") -> PurposeHit | None:  # type: ignore[type-arg]
    if not calls:
        return None
    call = min(calls, key=lambda c: c.line)
    return PurposeHit(call.line, f"{reason_prefix} {call.name}")


def trains(facts: PyFacts) -> PurposeHit | None:
    """A script trains when it fits a model of an ML library (or runs a training loop)."""
    if facts.imports_any(*ML_LIBRARIES) is None:
        return None
    fit = [c for c in facts.calls_named("fit", "train", "fit_generator") if c.name != "fit"]
    if fit:
        return _first(fit)
    backward = facts.calls_named("backward")
    step = facts.calls_named("step")
    if backward and step:
        return _first(backward, "runs a training loop:")
    return None


def evaluates(facts: PyFacts) -> PurposeHit | None:
    """A script evaluates a model when it calls mlflow.evaluate or computes model metrics."""
    hit = _first(facts.calls_to("mlflow.evaluate", "mlflow.models.evaluate"))
    if hit:
        return hit
    metric_calls = facts.calls_to(*METRIC_MODULES)
    if metric_calls:
        return _first(metric_calls)
    return None


def registers(facts: PyFacts) -> PurposeHit | None:
    """A script registers a model when it calls a registry API or logs with a model name."""
    hit = _first(facts.calls_to(*REGISTRY_CALLS)) or _first(
        facts.calls_with_keyword("registered_model_name"), "logs a model with"
    )
    if hit:
        return hit
    attr_calls = [c for c in facts.calls_named(*REGISTRY_ATTRS)]
    if attr_calls and facts.imports_any("mlflow", "sagemaker", "boto3", "azure", "wandb",
                                        "google.cloud"):
        return _first(attr_calls)
    # SageMaker SDK: model.register(...) / estimator.register(...) create model packages
    if facts.imports_any("sagemaker") and (reg := facts.calls_named("register")):
        return _first(reg)
    if facts.imports_any("azure.ai.ml") and (
        models := [c for c in facts.calls if c.name.endswith("models.create_or_update")]
    ):
        return _first(models)
    return None


def deploys(facts: PyFacts) -> PurposeHit | None:
    """A script deploys a model when it creates or updates a serving endpoint."""
    hit = _first(facts.calls_to("mlflow.deployments"))
    if hit and any(c.attr in ("create_deployment", "update_deployment") for c in facts.calls):
        return hit
    cloud = facts.imports_any("sagemaker", "boto3", "azure.ai.ml", "google.cloud.aiplatform",
                              "kserve", "seldon_core")
    if cloud is None:
        return None
    calls = facts.calls_named(*DEPLOY_ATTRS)
    calls += [c for c in facts.calls if c.name.endswith(("online_deployments.begin_create_or_update",
                                                         "online_endpoints.begin_create_or_update"))]
    if facts.imports_any("sagemaker", "google.cloud.aiplatform"):
        calls += facts.calls_named("deploy")
    return _first(calls)


def deploys_pipeline(facts: PyFacts) -> PurposeHit | None:
    """A script deploys a training pipeline when it publishes or schedules it."""
    if facts.imports_any("kfp", "sagemaker", "azure.ai.ml", "google.cloud.aiplatform") is None:
        return None
    return _first(facts.calls_named(*PIPELINE_DEPLOY_ATTRS))


PIPELINE_RUN_ATTRS = ("create_run_from_pipeline_func", "create_run_from_pipeline_package",
                      "run_pipeline", "start_pipeline_execution", "create_training_job")  # fmt: skip
PLATFORM_JOB_CLASSES = ("PipelineJob", "CustomJob", "CustomTrainingJob", "CustomContainerTrainingJob",
                        "AutoMLTabularTrainingJob", "HyperparameterTuningJob")  # fmt: skip


def starts_training_run(facts: PyFacts) -> PurposeHit | None:
    """A script starts training elsewhere: a pipeline run or job on an ML platform.

    Not part of `script_purposes`: such a script trains no model itself, but a CI job
    running it does start training (KFP runs, SageMaker pipelines, Azure ML and Vertex
    jobs, MLflow projects).
    """
    hit = _first(facts.calls_to("mlflow.run", "mlflow.projects.run"), "starts an MLflow project:")
    if hit:
        return hit
    if facts.imports_any("kfp", "boto3", "sagemaker"):
        hit = _first(facts.calls_named(*PIPELINE_RUN_ATTRS), "starts a pipeline run:")
    if hit is None and facts.imports_any("sagemaker.workflow"):
        hit = _first(facts.calls_named("start"), "starts a SageMaker pipeline:")
    if hit is None and facts.imports_any("azure.ai.ml"):
        jobs = [c for c in facts.calls if c.name.endswith(("jobs.create_or_update",
                                                           "jobs.begin_create_or_update"))]
        hit = _first(jobs, "submits an Azure ML job:")
    if hit is None and facts.imports_any("azureml.core"):
        hit = _first(facts.calls_named("submit"), "submits an Azure ML run:")
    if hit is None and facts.imports_any("google.cloud.aiplatform"):
        job_classes = [c for c in facts.calls if c.attr in PLATFORM_JOB_CLASSES]
        if job_classes:
            hit = _first(facts.calls_named("run", "submit"), "starts a Vertex AI job:")
    return hit


def validates_data(facts: PyFacts) -> PurposeHit | None:
    """A script validates data when it uses a data validation library."""
    line = facts.imports_any(*DATA_VALIDATION_MODULES)
    if line is None:
        return None
    module = min(
        (m for m in facts.imports if any(m == p or m.startswith(p + ".")
                                         for p in DATA_VALIDATION_MODULES)),
        key=lambda m: facts.imports[m],
    )
    return PurposeHit(line, f"imports {module}")


DATA_FRAME_LIBRARIES = ("pandas", "polars", "pyspark", "dask", "duckdb", "pyarrow", "datasets")
DATA_WRITE_ATTRS = ("to_csv", "to_parquet", "to_feather", "to_sql", "to_json", "to_pickle",
                    "to_hdf", "write_parquet", "write_csv", "write_table", "saveAsTable",
                    "insertInto", "save_to_disk", "to_delta", "write_deltalake")  # fmt: skip


def prepares_data(facts: PyFacts) -> PurposeHit | None:
    """A script prepares data when it uses a data-frame library and writes a data set.

    Not part of `script_purposes`: training scripts often write data too, so callers
    decide (the pipeline detectors count it for steps that do not train).
    """
    if facts.imports_any(*DATA_FRAME_LIBRARIES) is None:
        return None
    writes = [c for c in facts.calls if c.attr in DATA_WRITE_ATTRS or ".write." in c.name]
    return _first(writes, "writes a data set with")


def script_purposes(facts: PyFacts) -> dict[str, PurposeHit]:
    """Every lifecycle purpose a script shows: train, evaluate, register, deploy, ..."""
    checks = {
        "train": trains,
        "evaluate": evaluates,
        "register": registers,
        "deploy": deploys,
        "deploy_pipeline": deploys_pipeline,
        "validate_data": validates_data,
    }
    found = {}
    for purpose, check in checks.items():
        hit = check(facts)
        if hit is not None:
            found[purpose] = hit
    return found
