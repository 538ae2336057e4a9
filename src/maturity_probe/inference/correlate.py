"""Correlate subjects into ML systems: the repo that trains `churn`, the registered model
`churn`, the endpoint that serves it, the monitors labelled with it.

Subjects are joined by the links collectors put on evidence (a model version's git
commit links the model to its repository; a label `model: churn` links a workload or a
Prometheus series to `model:churn`) and by the `attributes.model` they carry. Subjects
that link to several models or repositories (a Prometheus server, an MLflow server's
experiments) are platform-wide hubs: they never glue systems together. Explicit
`systems:` entries in the config claim their subjects — and everything linked to them —
under the name the user chose.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from maturity_probe.evidence import Evidence

MODEL_KEY = "model:"
REPO_PREFIXES = ("github:", "gitlab:", "git:", "repo:")


class DeclaredSystem(Protocol):
    """What correlation needs of a `systems:` entry (config.SystemSpec)."""

    repos: list[str]
    models: list[str]
    endpoints: list[str]
    match_labels: dict[str, str]


@dataclass(frozen=True)
class System:
    name: str
    subjects: tuple[str, ...]  # evidence subjects that belong to it, sorted
    declared: bool


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, node: str) -> str:
        self.parent.setdefault(node, node)
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:  # path compression
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            # the smaller key wins, so the result does not depend on the order of unions
            low, high = sorted((root_a, root_b))
            self.parent[high] = low


def _links_of(item: Evidence) -> set[str]:
    links = set(item.links)
    model = item.attributes.get("model")
    if isinstance(model, str) and model:
        links.add(MODEL_KEY + model)
    return links


def _labels_match(item: Evidence, wanted: Mapping[str, str]) -> bool:
    if not wanted:
        return False
    labels: dict[str, Any] = {**item.attributes}
    nested = item.attributes.get("labels")
    if isinstance(nested, dict):
        labels.update(nested)
    return all(str(labels.get(key)) == value for key, value in wanted.items())


def _is_hub(links: set[str]) -> bool:
    """A platform-wide subject: it links several models, or several repositories and no model
    (an MLflow server's experiments, a Prometheus server's coverage)."""
    models = sum(1 for n in links if n.startswith(MODEL_KEY))
    repos = sum(1 for n in links if n.startswith(REPO_PREFIXES))
    return models >= 2 or (models == 0 and repos >= 2)


def _is_anchor(node: str) -> bool:
    """Nodes that make a group of subjects an ML system: a model or a repository."""
    return node.startswith(MODEL_KEY) or node.startswith(REPO_PREFIXES)


def _auto_name(nodes: Iterable[str]) -> str:
    models = sorted(n.removeprefix(MODEL_KEY) for n in nodes if n.startswith(MODEL_KEY))
    if models:
        return models[0]
    repos = sorted(n for n in nodes if n.startswith(REPO_PREFIXES))
    return repos[0].split(":", 1)[1].rstrip("/").rsplit("/", 1)[-1]


def correlate(
    evidence: list[Evidence], declared: Mapping[str, DeclaredSystem] | None = None
) -> list[System]:
    """ML systems over the evidence's subjects, sorted by name; deterministic."""
    declared = declared or {}
    subjects = sorted({item.subject for item in evidence})
    links: dict[str, set[str]] = defaultdict(set)
    for item in evidence:
        links[item.subject] |= _links_of(item)
    hubs = {s for s in subjects if _is_hub(links[s])}

    groups = _UnionFind()
    for subject in subjects:
        groups.find(subject)
        if subject in hubs:
            continue
        for node in links[subject]:
            if node not in hubs:
                groups.union(subject, node)

    components: dict[str, set[str]] = defaultdict(set)
    for node in list(groups.parent):
        components[groups.find(node)].add(node)

    evidence_subjects = set(subjects)
    claimed: set[str] = set()  # component roots taken by a declared system
    systems: list[System] = []
    for name in sorted(declared):
        spec = declared[name]
        members = set(spec.repos) | set(spec.endpoints)
        members |= {m if ":" in m else MODEL_KEY + m for m in spec.models}
        members |= {e.subject for e in evidence if _labels_match(e, spec.match_labels)}
        nodes = set(members)
        for member in members:
            root = groups.find(member)
            if root not in claimed:
                claimed.add(root)
                nodes |= components.get(root, set())
        systems.append(System(name, tuple(sorted(nodes & evidence_subjects)), declared=True))

    taken_by_declared = {s for system in systems for s in system.subjects}
    used_names = set(declared)
    for root in sorted(components):
        nodes = components[root]
        if root in claimed or not any(_is_anchor(n) for n in nodes):
            continue
        members = (nodes & evidence_subjects) - taken_by_declared - hubs
        if not members:
            continue
        name = _auto_name(nodes)
        unique, counter = name, 2
        while unique in used_names:
            unique, counter = f"{name}-{counter}", counter + 1
        used_names.add(unique)
        systems.append(System(unique, tuple(sorted(members)), declared=False))
    return sorted(systems, key=lambda s: s.name)
