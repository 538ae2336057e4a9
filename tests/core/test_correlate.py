"""ML systems: subjects joined across sources by links, labels and declarations."""

from __future__ import annotations

import random

from maturity_probe.config import SystemSpec
from maturity_probe.evidence import Strength
from maturity_probe.inference.correlate import correlate
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules
from support import NOW, ev, source

REPO = "github:acme/churn-model"


def platform_evidence():  # type: ignore[no-untyped-def]
    return [
        ev("ci.training_job", subject=REPO, locator=".github/workflows/train.yml:9"),
        ev("ci.test_job", subject=REPO, locator=".github/workflows/ci.yml:8"),
        ev("ci.pipeline", subject=REPO, locator=".github/workflows/ci.yml:1"),
        ev("code.model_registration", subject="mlflow:prod/churn", locator="http://mlflow/#/models/churn",
           source="prod", strength=Strength.verified),
        ev("serving.model_server", subject="k8s:prod/ml/InferenceService/churn", locator="isvc/churn",
           source="cluster", strength=Strength.active, model="churn"),
        ev("monitor.drift_alert_rule", subject="prometheus:prom/model/churn", locator="rule/ChurnDrift",
           source="prom", strength=Strength.verified, model="churn"),
        ev("monitor.model_metrics", subject="prometheus:prom/model/fraud", locator="series/fraud",
           source="prom", strength=Strength.verified, model="fraud"),
        # the Prometheus server's coverage figure links every model: a hub, not glue
        ev("monitor.model_metrics", subject="prometheus:prom", locator="coverage", source="prom"),
        ev("ci.pipeline", subject="github:acme/dashboards", locator="ci.yml:1"),
        ev("infra.as_code", subject="platform:shared", locator="main.tf:1"),
    ]


def with_links(items):  # type: ignore[no-untyped-def]
    """Add the links collectors emit: lineage, model labels, the hub's coverage."""
    out = []
    for item in items:
        links = list(item.links)
        if item.subject == "mlflow:prod/churn":
            links += ["model:churn", REPO]
        if item.subject == "prometheus:prom":
            links += ["model:churn", "model:fraud"]
        out.append(item.model_copy(update={"links": links}))
    return out


def test_subjects_join_into_systems_by_links_and_model_labels() -> None:
    systems = {s.name: s for s in correlate(with_links(platform_evidence()))}
    assert set(systems) == {"churn", "fraud", "dashboards"}
    assert systems["churn"].subjects == (
        REPO,
        "k8s:prod/ml/InferenceService/churn",
        "mlflow:prod/churn",
        "prometheus:prom/model/churn",
    )
    assert systems["fraud"].subjects == ("prometheus:prom/model/fraud",)
    assert not any("prometheus:prom" in s.subjects for s in systems.values())
    assert not any("platform:shared" in s.subjects for s in systems.values())


def test_declared_system_claims_its_subjects_and_what_links_to_them() -> None:
    declared = {
        "retention": SystemSpec(repos=[REPO]),
        "fraud-detection": SystemSpec(match_labels={"model": "fraud"}),
    }
    systems = {s.name: s for s in correlate(with_links(platform_evidence()), declared)}
    assert systems["retention"].declared
    assert "mlflow:prod/churn" in systems["retention"].subjects  # completed by lineage links
    assert systems["fraud-detection"].subjects == ("prometheus:prom/model/fraud",)
    assert "churn" not in systems and "fraud" not in systems


def test_correlation_is_deterministic() -> None:
    items = with_links(platform_evidence())
    first = correlate(items)
    for seed in range(5):
        shuffled = items[:]
        random.Random(seed).shuffle(shuffled)
        assert correlate(shuffled) == first


def test_systems_are_assessed_on_their_own_evidence() -> None:
    rules = load_rules()
    items = with_links(platform_evidence())
    result = assess(rules, items, [source(), source("prod", "mlflow"), source("prom", "prometheus"),
                                   source("cluster", "kubernetes")],
                    now=NOW, target="platform.yaml", systems=correlate(items))
    churn = result.systems["churn"]
    assert set(churn.evidence) == {i.id for i in items if i.subject in churn.subjects}
    statuses = {r.id: r.status.value for r in churn.maturity["microsoft"].requirements}
    assert statuses["l1-devops-pipeline"] == "met"
    fraud = result.systems["fraud"]
    assert {r.id: r.status.value for r in fraud.maturity["microsoft"].requirements}[
        "l1-devops-pipeline"] == "unmet"
    assert sum(result.system_levels["microsoft"].values()) == 3
    unassigned = {i.id for i in items if i.subject in ("prometheus:prom", "platform:shared")}
    assert set(result.unassigned_evidence) == unassigned
