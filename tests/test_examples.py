"""The bundled example projects (examples/) reach the maturity levels their READMEs state.

Each example is copied into a fresh git repository with a short history (its training
and scoring code are changed in a second commit), audited like a user's checkout, and
every model's level is compared with the "Intended maturity" table of its README.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import GIT_ENV, git
from maturity_probe.assessment import Assessment, Status
from maturity_probe.inference.rules import load_rules
from maturity_probe.run import audit_checkout

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NAMES = ["notebook-pilot", "flask-scoring", "churn-model", "fraud-platform", "batch-scoring-jenkins"]
RULES = load_rules()
MODELS = sorted(RULES.models)
_LEVEL_ROW = re.compile(r"^\|\s*([a-z_]+)\s*\|\s*(\d+)\s*\|", re.MULTILINE)
FIRST_COMMIT = "2026-01-05T10:00:00+00:00"
SECOND_COMMIT = "2026-02-16T15:30:00+00:00"
MAX_FILE_BYTES = 64 * 1024  # examples are read, not vendored data

# Levels the detectors cannot show yet although the example has the practice; each case
# fails loudly (strict xfail) once the detector learns it, so the mark gets removed.
DETECTOR_GAPS: dict[tuple[str, str], str] = {}


def intended_levels(name: str) -> dict[str, int]:
    """The "Intended maturity" table of an example's README: model id -> level."""
    text = (EXAMPLES / name / "README.md").read_text(encoding="utf-8")
    section = text.split("## Intended maturity", 1)[1]
    return {model: int(level) for model, level in _LEVEL_ROW.findall(section) if model in RULES.models}


CACHE_DIRS = {"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache"}  # not the example's


def example_files(name: str) -> list[Path]:
    return sorted(p for p in (EXAMPLES / name).rglob("*")
                  if p.is_file() and not CACHE_DIRS.intersection(p.parts))


def build_repo(name: str, root: Path) -> Path:
    """The example as a git repository: everything in one commit, then its code revised."""
    repo = root / name
    shutil.copytree(EXAMPLES / name, repo, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"Import {name}", date=FIRST_COMMIT)
    code = [p for p in repo.rglob("*.py") if "tests" not in p.relative_to(repo).parts]
    for path in code:  # a later change to the training and scoring code: a second commit
        path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n\n# Reviewed for release.\n",
                        encoding="utf-8")
    git(repo, "commit", "-q", "-a", "-m", "Review model code before release", date=SECOND_COMMIT)
    return repo


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("examples")
    return {name: build_repo(name, root) for name in NAMES}


@pytest.fixture(scope="module")
def audits(repos: dict[str, Path]) -> dict[str, Assessment]:
    return {name: audit_checkout(path, RULES) for name, path in repos.items()}


def level_cases() -> list[object]:
    cases = []
    for name in NAMES:
        for model, level in sorted(intended_levels(name).items()):
            marks = []
            if (name, model) in DETECTOR_GAPS:
                marks.append(pytest.mark.xfail(strict=True, reason=DETECTOR_GAPS[(name, model)]))
            cases.append(pytest.param(name, model, level, id=f"{name}-{model}", marks=marks))
    return cases


@pytest.mark.parametrize("name", NAMES)
def test_readme_states_a_level_for_every_model(name: str) -> None:
    levels = intended_levels(name)
    assert sorted(levels) == MODELS, name
    for model, level in levels.items():
        assert 0 <= level <= RULES.models[model].levels[-1].level, (name, model, level)


@pytest.mark.parametrize(("name", "model", "intended"), level_cases())
def test_example_reaches_its_intended_level(audits: dict[str, Assessment], name: str, model: str,
                                            intended: int) -> None:
    result = audits[name].maturity[model]
    blocking = [
        (r.id, r.status.value, r.reason)
        for r in result.requirements
        if r.level in (intended, intended + 1) and r.blocking
        and r.status not in (Status.met, Status.not_assessable, Status.not_applicable)
    ]  # fmt: skip
    assert result.level == intended, blocking


def test_the_top_example_is_not_held_by_unknowns(audits: dict[str, Assessment]) -> None:
    """fraud-platform shows every practice in its files: no level rests on a missing source."""
    for model, result in audits["fraud-platform"].maturity.items():
        assert result.level == result.max_level and not result.at_least, model


def test_history_of_training_and_scoring_code_is_evidence(audits: dict[str, Assessment]) -> None:
    assessment = audits["churn-model"]
    by_id = assessment.evidence_by_id()
    requirements = {r.id: r for r in assessment.maturity["microsoft"].requirements}
    for requirement, path in (("l2-training-code-versioned", "src/train.py"),
                              ("l2-scoring-script-versioned", "src/serve.py")):
        found = requirements[requirement]
        assert found.status == Status.met, (requirement, found.reason)
        assert path in {by_id[e].path for e in found.evidence}, requirement


def test_batch_example_exempts_ab_testing_with_its_reason(audits: dict[str, Assessment]) -> None:
    requirements = {r.id: r for r in audits["batch-scoring-jenkins"].maturity["microsoft"].requirements}
    ab_testing = requirements["l3-ab-testing"]
    assert ab_testing.status == Status.not_applicable
    assert ab_testing.reason and "batch" in ab_testing.reason.lower()
    # the exemption belongs to that repository only
    other = {r.id: r for r in audits["flask-scoring"].maturity["microsoft"].requirements}
    assert other["l3-ab-testing"].status == Status.unmet


def test_cli_audits_the_quick_start_example_as_json(repos: dict[str, Path]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "maturity_probe", "audit", str(repos["churn-model"]), "--format", "json"],
        capture_output=True, text=True, timeout=120, env={**os.environ, **GIT_ENV},
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {m: r["level"] for m, r in report["maturity"].items()} == intended_levels("churn-model")
    evidence = {e["id"]: e for e in report["evidence"]}
    microsoft = {r["id"]: r for r in report["maturity"]["microsoft"]["requirements"]}
    deployment = microsoft["l3-automated-model-deployment"]
    assert deployment["status"] == "met"
    locators = [evidence[e]["locator"] for e in deployment["evidence"]]
    assert any(locator.startswith(".github/workflows/deploy.yml:") for locator in locators), locators
    canary = microsoft["l3-ab-testing"]
    assert [evidence[e]["path"] for e in canary["evidence"]] == ["deploy/inference-service.yaml"]
    assert not report["exemptions"]
    unmet = {r["id"] for r in report["maturity"]["microsoft"]["requirements"] if r["status"] == "unmet"}
    assert "l4-post-deployment-metrics" in unmet  # no monitoring: the reason it stops at 3


def test_in_place_audit_of_an_example_inside_a_repository(tmp_path: Path) -> None:
    """The README demo audits examples/churn-model inside this repository's own checkout."""
    outer = tmp_path / "checkout"
    shutil.copytree(EXAMPLES / "churn-model", outer / "examples" / "churn-model",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git(outer, "init", "-q", "-b", "main")
    git(outer, "add", "-A")
    git(outer, "commit", "-q", "-m", "Add the churn example", date=FIRST_COMMIT)
    result = audit_checkout(outer / "examples" / "churn-model", RULES, models=["microsoft"])
    assert result.maturity["microsoft"].level == intended_levels("churn-model")["microsoft"]


# -- the examples are real projects -------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_example_files_parse(name: str) -> None:
    files = example_files(name)
    assert len(files) >= 8, f"{name} is too small to be a realistic project"
    for path in files:
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(EXAMPLES)
        assert len(text.encode()) <= MAX_FILE_BYTES, where
        if path.suffix == ".py":
            ast.parse(text, filename=str(where))
        elif path.suffix in (".yml", ".yaml"):
            list(yaml.safe_load_all(text))
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix == ".ipynb":
            notebook = json.loads(text)
            assert notebook["nbformat"] == 4, where
            code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
            assert code, where
            for source in code:
                ast.parse(source, filename=str(where))


@pytest.mark.parametrize("name", NAMES)
def test_example_has_tests_or_says_why_not(name: str) -> None:
    tests = [p for p in example_files(name) if p.name.startswith("test_") and p.suffix == ".py"]
    if name == "notebook-pilot":
        assert not tests  # a pilot: nothing is tested yet, which its README's levels reflect
    else:
        assert tests, name
