"""Tests and static checks are different CI signals: a job that only lints tests nothing.

`ci.test_job` is a job that runs tests (pytest, unittest, tox / nox test sessions, make
test, npm test, go test ...); `ci.lint_job` a job that lints, type-checks or checks the
formatting. Both are judged by what the job really runs, in every CI system.
"""

from __future__ import annotations

import pytest

from conftest import MakeRepo, by_signal, detect
from maturity_probe.detectors.context import Finding
from maturity_probe.inference.rules import load_rules
from maturity_probe.run import audit_checkout

RULES = load_rules()

INSTALL = "pip install -r requirements-dev.txt"


def workflow(*runs: str) -> str:
    steps = "".join(f"      - run: {run}\n" for run in runs)
    return (
        "name: ci\non:\n  push:\n    branches: [main]\n  pull_request:\njobs:\n  check:\n"
        "    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
        "      - uses: actions/setup-python@v5\n        with:\n          python-version: "
        f'"3.11"\n{steps}'
    )


def kinds(findings: list[Finding]) -> tuple[int, int]:
    """(test jobs, lint jobs)"""
    return len(by_signal(findings, "ci.test_job")), len(by_signal(findings, "ci.lint_job"))


def only_commands(make_repo: MakeRepo, *runs: str, files: dict[str, str] | None = None,
                  ) -> tuple[int, int]:
    root = make_repo({".github/workflows/ci.yml": workflow(INSTALL, *runs), **(files or {})})
    return kinds(detect(root))


def test_a_job_that_only_lints_is_a_lint_job_not_a_test_job(make_repo: MakeRepo) -> None:
    root = make_repo({".github/workflows/ci.yml": workflow(INSTALL, "ruff check .",
                                                           "mypy src")})
    findings = detect(root)
    assert by_signal(findings, "ci.test_job") == []
    [lint] = by_signal(findings, "ci.lint_job")
    assert (lint.path, lint.line, lint.attributes["job"]) == (".github/workflows/ci.yml", 7, "check")
    assert lint.summary.startswith("job `check` in .github/workflows/ci.yml lints or type-checks")
    assert "ruff check ." in lint.summary


def test_a_job_that_lints_and_tests_is_both_and_the_test_cites_the_tests(
    make_repo: MakeRepo,
) -> None:
    root = make_repo({".github/workflows/ci.yml": workflow(INSTALL, "ruff check .", "pytest -q")})
    findings = detect(root)
    [test] = by_signal(findings, "ci.test_job")
    [lint] = by_signal(findings, "ci.lint_job")
    assert test.summary.endswith("runs tests (runs `pytest -q`)")
    assert test.attributes["reasons"] == ["runs `pytest -q`"]
    assert lint.attributes["reasons"] == ["runs `ruff check .`"]


@pytest.mark.parametrize(("command", "expected"), [
    ("python -m pytest tests/", (1, 0)),
    ("python -m unittest discover -s tests", (1, 0)),
    ("coverage run -m pytest && coverage xml", (1, 0)),
    ("coverage report --fail-under=80", (0, 0)),  # reads the results of another job's run
    ("python manage.py test", (1, 0)),
    ("go test ./...", (1, 0)),
    ("go vet ./...", (0, 1)),
    ("cargo clippy -- -D warnings", (0, 1)),
    ("mvn -B verify", (1, 0)),
    ("dotnet test", (1, 0)),
    ("dotnet format --verify-no-changes", (0, 1)),
    ("pre-commit run --all-files", (0, 1)),
    ("black --check src tests", (0, 1)),
    ("black src tests", (0, 0)),  # rewrites files, checks nothing
    ("isort --check-only .", (0, 1)),
    ("python -m mypy src", (0, 1)),
    ("npx --yes eslint .", (0, 1)),
    ("npx jest --ci", (1, 0)),
    ("poetry run flake8 src", (0, 1)),
    ("poetry run pytest", (1, 0)),
    ("pipx run ruff check .", (0, 1)),  # tools run in passing by pipx / uv
    ("uvx --from ruff==0.6.9 ruff check .", (0, 1)),
    ("uvx pytest -q", (1, 0)),
])
def test_commands_are_tests_or_static_checks(make_repo: MakeRepo, command: str,
                                             expected: tuple[int, int]) -> None:
    assert only_commands(make_repo, command) == expected


MAKEFILE = """\
PYTHON ?= python3

.PHONY: lint test check

lint:
\truff check src tests
\tmypy src

test:
\t$(PYTHON) -m pytest -q tests

check: lint test
"""


def test_make_targets_are_judged_by_their_recipes(make_repo: MakeRepo) -> None:
    files = {"Makefile": MAKEFILE}
    assert only_commands(make_repo, "make lint", files=files) == (0, 1)
    assert only_commands(make_repo, "make test", files=files) == (1, 0)
    assert only_commands(make_repo, "make check", files=files) == (1, 1)


def test_opaque_make_targets_are_judged_by_their_names(make_repo: MakeRepo) -> None:
    files = {"Makefile": "lint:\n\t./tools/style\n\ncheck:\n\t./tools/everything\n"}
    assert only_commands(make_repo, "make lint", files=files) == (0, 1)
    assert only_commands(make_repo, "make check", files=files) == (1, 0)  # GNU: the self-tests
    assert only_commands(make_repo, "make docs", files=files) == (0, 0)


TOX_INI = """\
[tox]
envlist = py{310,311}, lint

[testenv]
deps = -r requirements-dev.txt
commands =
    {envpython} -m pytest {posargs:tests}

[testenv:lint]
skip_install = true
deps = ruff
commands =
    ruff check src tests
    ruff format --check src tests

[testenv:docs]
commands = sphinx-build -b html docs docs/_build
"""


def test_tox_environments_are_judged_by_their_commands(make_repo: MakeRepo) -> None:
    files = {"tox.ini": TOX_INI}
    assert only_commands(make_repo, "tox -e lint", files=files) == (0, 1)
    assert only_commands(make_repo, "tox -e py311", files=files) == (1, 0)
    assert only_commands(make_repo, "tox run -e docs", files=files) == (0, 0)
    assert only_commands(make_repo, "tox", files=files) == (1, 1)  # the envlist


def test_tox_environments_outside_a_readable_tox_ini_are_judged_by_their_names(
    make_repo: MakeRepo,
) -> None:
    assert only_commands(make_repo, "tox -e lint,type") == (0, 1)
    assert only_commands(make_repo, "tox -e py311-django42") == (1, 0)
    assert only_commands(make_repo, "tox") == (1, 0)  # the default envlist runs the tests


NOXFILE = '''\
"""Sessions for CI and local development."""
import nox

nox.options.sessions = ["tests", "lint"]


@nox.session(python=["3.10", "3.11"])
def tests(session: nox.Session) -> None:
    session.install("-r", "requirements-dev.txt")
    session.run("pytest", "-q", "tests")


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff", "mypy")
    session.run("ruff", "check", "src", "tests")
    session.run("mypy", "src")


@nox.session
def release(session: nox.Session) -> None:
    session.run("python", "-m", "build")
'''


def test_nox_sessions_are_judged_by_their_runs(make_repo: MakeRepo) -> None:
    files = {"noxfile.py": NOXFILE}
    assert only_commands(make_repo, "nox -s lint", files=files) == (0, 1)
    assert only_commands(make_repo, "nox -s tests-3.11", files=files) == (1, 0)
    assert only_commands(make_repo, "nox --session release", files=files) == (0, 0)
    assert only_commands(make_repo, "nox", files=files) == (1, 1)


def test_nox_session_reason_names_the_call(make_repo: MakeRepo) -> None:
    root = make_repo({".github/workflows/ci.yml": workflow("nox -s lint"), "noxfile.py": NOXFILE})
    [lint] = by_signal(detect(root), "ci.lint_job")
    assert "nox session `lint` (`ruff check src` at noxfile.py:16)" in lint.summary


PACKAGE_JSON = """\
{
  "name": "price-dashboard",
  "private": true,
  "scripts": {
    "build": "vite build",
    "test": "vitest run",
    "lint": "eslint . && prettier --check src",
    "typecheck": "tsc --noEmit"
  }
}
"""


def test_npm_scripts_are_judged_by_what_package_json_runs(make_repo: MakeRepo) -> None:
    files = {"package.json": PACKAGE_JSON}
    assert only_commands(make_repo, "npm test", files=files) == (1, 0)
    assert only_commands(make_repo, "npm run lint", files=files) == (0, 1)
    assert only_commands(make_repo, "pnpm typecheck", files=files) == (0, 1)
    placeholder = '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'
    assert only_commands(make_repo, "npm test", files={"package.json": placeholder}) == (0, 0)
    assert only_commands(make_repo, "yarn lint") == (0, 1)  # no package.json: by its name


def test_well_known_lint_actions_are_lint_jobs(make_repo: MakeRepo) -> None:
    workflow_text = """\
on: pull_request
jobs:
  style:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: astral-sh/ruff-action@v3
      - uses: pre-commit/action@v3.0.1
"""
    findings = detect(make_repo({".github/workflows/style.yml": workflow_text}))
    assert kinds(findings) == (0, 1)
    [lint] = by_signal(findings, "ci.lint_job")
    assert lint.attributes["reasons"] == ["uses `astral-sh/ruff-action@v3`",
                                          "uses `pre-commit/action@v3.0.1`"]


GITLAB_CI = """\
include:
  - template: Jobs/Code-Quality.gitlab-ci.yml

stages: [test]

lint:
  stage: test
  image: python:3.11
  script:
    - pip install flake8 pylint
    - flake8 src
    - pylint src/fraud

unit-tests:
  stage: test
  image: python:3.11
  script:
    - pip install -r requirements.txt
    - pytest --junitxml=report.xml
  artifacts:
    reports:
      junit: report.xml
"""


def test_gitlab_lint_and_test_jobs_and_the_code_quality_template(make_repo: MakeRepo) -> None:
    findings = detect(make_repo({".gitlab-ci.yml": GITLAB_CI}))
    assert [f.attributes["job"] for f in by_signal(findings, "ci.test_job")] == ["unit-tests"]
    lint_jobs = {(f.attributes["job"], f.line) for f in by_signal(findings, "ci.lint_job")}
    assert lint_jobs == {("lint", 6), ("code_quality", 2)}


JENKINSFILE = """\
pipeline {
    agent { docker { image 'python:3.11' } }
    stages {
        stage('Static checks') {
            steps {
                sh 'pip install ruff mypy'
                sh 'ruff check src && mypy src'
            }
        }
        stage('Package') {
            steps {
                sh 'docker build -t registry.example.com/forecast:${GIT_COMMIT} .'
            }
        }
    }
}
"""


def test_jenkins_stage_that_only_lints_is_no_test(make_repo: MakeRepo) -> None:
    findings = detect(make_repo({"Jenkinsfile": JENKINSFILE}))
    assert kinds(findings) == (0, 1)
    assert by_signal(findings, "ci.lint_job")[0].attributes["job"] == "Static checks"


AZURE = """\
trigger:
  branches:
    include: [main]

pool:
  vmImage: ubuntu-latest

stages:
  - stage: Checks
    jobs:
      - job: style
        steps:
          - script: |
              pip install black mypy
              black --check .
              mypy src
      - job: dotnet_unit
        steps:
          - task: DotNetCoreCLI@2
            inputs:
              command: test
              projects: tests/**/*.csproj
      - job: java_it
        steps:
          - task: Maven@3
            inputs:
              mavenPomFile: pom.xml
              goals: verify
"""


def test_azure_script_and_task_jobs(make_repo: MakeRepo) -> None:
    findings = detect(make_repo({"azure-pipelines.yml": AZURE}))
    tests = sorted(f.attributes["job"] for f in by_signal(findings, "ci.test_job"))
    assert tests == ["dotnet_unit", "java_it"]
    assert [f.attributes["job"] for f in by_signal(findings, "ci.lint_job")] == ["style"]


CIRCLECI = """\
version: 2.1
orbs:
  python: circleci/python@2.1.1
jobs:
  lint:
    docker:
      - image: cimg/python:3.11
    steps:
      - checkout
      - run: pip install ruff && ruff check .
workflows:
  main:
    jobs:
      - lint
      - python/test:
          pkg-manager: pip
"""

BITBUCKET = """\
image: python:3.11
pipelines:
  default:
    - step:
        name: Lint
        script:
          - pip install pylint
          - pylint src
"""


def test_circleci_and_bitbucket(make_repo: MakeRepo) -> None:
    circle = detect(make_repo({".circleci/config.yml": CIRCLECI}))
    assert [f.attributes["job"] for f in by_signal(circle, "ci.lint_job")] == ["lint"]
    assert [f.attributes["job"] for f in by_signal(circle, "ci.test_job")] == ["python/test"]
    assert kinds(detect(make_repo({"bitbucket-pipelines.yml": BITBUCKET}))) == (0, 1)


SCORE_PY = '''\
"""Price API: loads the model once and scores JSON rows."""
import joblib
import pandas as pd
from flask import Flask, jsonify, request

app = Flask(__name__)
model = joblib.load("models/price_model.joblib")


@app.post("/predict")
def predict():
    rows = pd.DataFrame(request.get_json()["rows"])
    return jsonify(prices=model.predict(rows).tolist())
'''

TEST_SCORE_PY = '''\
from score import app


def test_predict_returns_one_price_per_row():
    client = app.test_client()
    response = client.post("/predict", json={"rows": [{"km": 1000, "year": 2019}]})
    assert len(response.get_json()["prices"]) == 1
'''


@pytest.mark.parametrize(("runs", "tested"), [
    (("ruff check .",), False),
    (("ruff check .", "pytest -q"), True),
])
def test_lint_does_not_satisfy_the_test_requirements(make_repo: MakeRepo, runs: tuple[str, ...],
                                                     tested: bool) -> None:
    root = make_repo({
        ".github/workflows/ci.yml": workflow(INSTALL, *runs),
        "score.py": SCORE_PY,
        "tests/test_score.py": TEST_SCORE_PY,
    })
    assessment = audit_checkout(root, RULES, models=["microsoft"])
    by_id = assessment.evidence_by_id()
    requirements = {r.id: r for r in assessment.maturity["microsoft"].requirements}
    for requirement in ("l1-basic-integration-tests", "l3-tests-for-each-release"):
        assert (requirements[requirement].status.value == "met") == tested, requirement
        assert all(by_id[e].signal != "ci.lint_job" for e in requirements[requirement].evidence)
    pipeline = assessment.capabilities["ci_pipeline"]
    assert pipeline.status.value == "met"
    assert "ci.lint_job" in {by_id[e].signal for e in pipeline.evidence}
