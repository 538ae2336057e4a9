"""The example platform the demo builds: five ML systems of one organisation, each a
repository from examples/ plus what its team runs in MLflow and Prometheus (the table in
README.md tells the same story)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Training:
    """How a model is trained, as its MLflow runs show it."""

    experiment: str
    user: str  # mlflow.user: automation (gitlab-ci, jenkins...) or a person
    source_type: str  # mlflow.source.type: JOB / PROJECT for automation, LOCAL / NOTEBOOK for people
    entry_point: str  # mlflow.source.name
    every_days: int  # one run every N days...
    runs: int  # ...this many, the newest `every_days` days ago at most
    metrics: dict[str, float]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Registration:
    """The registered model its runs produce (one version per run)."""

    model: str
    description: str
    validated: bool  # versions carry validation_status=passed (set by the evaluation step)
    aliases: dict[str, int] = field(default_factory=dict)  # alias -> versions back from the newest


@dataclass(frozen=True)
class DemoSystem:
    example: str  # folder in examples/
    remote: str  # the `origin` of its repository; MLflow runs record the same URL
    story: str  # one line for the console
    training: Training
    registration: Registration | None = None


SYSTEMS = [
    DemoSystem(
        example="fraud-platform",
        remote="https://gitlab.com/northbank/risk-ml/fraud-platform.git",
        story="Kubeflow + GitLab CI, retrained weekly, drift and precision alerts live in Prometheus",
        training=Training(
            experiment="fraud-detector", user="gitlab-ci", source_type="JOB",
            entry_point="pipelines/training_pipeline.py", every_days=7, runs=12,
            metrics={"auc_pr": 0.71, "precision_at_review": 0.43, "recall": 0.82},
            tags={"ci": "gitlab", "orchestrator": "kubeflow"},
        ),
        registration=Registration(
            model="fraud-detector",
            description=("Scores card authorisations for fraud in under 150 ms; payments above the "
                         "review threshold go to the fraud analysts. PyTorch, Feast online features."),
            validated=True, aliases={"champion": 1, "challenger": 0},
        ),
    ),
    DemoSystem(
        example="churn-model",
        remote="https://github.com/acme-telco/churn-model.git",
        story="DVC + MLflow + KServe canary, retrained weekly, serving alerts but no drift monitor",
        training=Training(
            experiment="churn-classifier", user="github-actions", source_type="PROJECT",
            entry_point="train", every_days=7, runs=10,
            metrics={"auc": 0.84, "recall_at_10pct": 0.37, "brier": 0.11},
            tags={"ci": "github-actions"},
        ),
        registration=Registration(
            model="churn-classifier",
            description=("Probability that a customer cancels within 30 days; weekly scores for the "
                         "retention team. See MODEL_CARD.md in the repository."),
            validated=True, aliases={"champion": 0, "staging": 0},
        ),
    ),
    DemoSystem(
        example="batch-scoring-jenkins",
        remote="https://github.com/grocer-analytics/demand-forecast.git",
        story="Azure ML pipeline run by Jenkins every Monday, batch endpoint, no online monitoring",
        training=Training(
            experiment="demand-forecast", user="jenkins", source_type="JOB",
            entry_point="azureml/pipelines/training-pipeline.yml", every_days=7, runs=8,
            metrics={"wape": 0.21, "bias": -0.02},
            tags={"ci": "jenkins"},
        ),
        registration=Registration(
            model="demand-forecast",
            description="Next-7-days unit demand per store and SKU, scored nightly in batch.",
            validated=True, aliases={"production": 0},
        ),
    ),
    DemoSystem(
        example="flask-scoring",
        remote="https://github.com/carmarket/price-api.git",
        story="a Flask API in a container; the model is trained and registered by hand",
        training=Training(
            experiment="used-car-price", user="maria", source_type="LOCAL",
            entry_point="src/train.py", every_days=30, runs=3,
            metrics={"mae_eur": 1180.0, "r2": 0.91},
        ),
        registration=Registration(
            model="used-car-price",
            description="Suggested asking price for a used-car listing.",
            validated=False,
        ),
    ),
    DemoSystem(
        example="notebook-pilot",
        remote="https://github.com/parcelco/late-delivery-pilot.git",
        story="notebooks and a training script on a laptop, nothing deployed",
        training=Training(
            experiment="late-delivery-pilot", user="jonas", source_type="LOCAL",
            entry_point="train.py", every_days=4, runs=4,
            metrics={"f1": 0.62},
        ),
    ),
]
