"""CI detectors on GitLab CI: includes, extends, anchors, !reference, rules and only/except."""

from __future__ import annotations

from conftest import MakeRepo, by_signal, detect, detect_with_context
from maturity_probe.detectors.ci.gitlab import parse_gitlab
from maturity_probe.detectors.ci.nodes import MAX_ITEMS
from maturity_probe.detectors.context import RepoContext
from maturity_probe.filetree import LocalTree

TRAIN_PY = """\
import lightgbm as lgb
import pandas as pd

frame = pd.read_parquet("data/train.parquet")
model = lgb.LGBMRegressor(n_estimators=400)
model.fit(frame.drop(columns=["demand"]), frame["demand"])
model.booster_.save_model("model.txt")
"""

DEPLOY_PY = """\
import sagemaker
from sagemaker.model import Model

session = sagemaker.Session()
model = Model(image_uri="123.dkr.ecr.eu-west-1.amazonaws.com/demand:latest",
              model_data="s3://models/demand/model.tar.gz", role="arn:aws:iam::123:role/sm",
              sagemaker_session=session)
model.deploy(initial_instance_count=1, instance_type="ml.m5.large", endpoint_name="demand")
"""

GITLAB_CI = """\
include:
  - local: ci/templates.yml
  - local: /ci/security.yml
  - template: Security/SAST.gitlab-ci.yml

stages: [test, train, deploy]

default:
  image: python:3.11
  before_script:
    - pip install -r requirements.txt

variables:
  PIP_CACHE_DIR: .cache/pip

.on_schedule: &on_schedule
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"

unit-tests:
  stage: test
  script:
    - pytest -q tests/

fit-model:
  extends: .python-job
  stage: train
  <<: *on_schedule
  script:
    - !reference [.setup, script]
    - python src/train.py

deploy-endpoint:
  extends: .python-job
  stage: deploy
  environment:
    name: production
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
      when: manual
  script:
    - python deploy/sagemaker_deploy.py
"""

TEMPLATES = """\
.setup:
  script:
    - echo "preparing workspace"
    - export PYTHONPATH=src

.python-job:
  image: python:3.11-slim
  tags: [docker]
  retry: 1
"""

SECURITY = """\
dependency-audit:
  stage: test
  script:
    - pip-audit -r requirements.txt
"""


def test_include_extends_anchors_and_reference(make_repo: MakeRepo) -> None:
    root = make_repo({
        ".gitlab-ci.yml": GITLAB_CI,
        "ci/templates.yml": TEMPLATES,
        "ci/security.yml": SECURITY,
        "src/train.py": TRAIN_PY,
        "deploy/sagemaker_deploy.py": DEPLOY_PY,
    })
    findings, ctx = detect_with_context(root)
    assert ctx.warnings == []

    [pipeline] = by_signal(findings, "ci.pipeline")
    assert pipeline.attributes["system"] == "gitlab-ci"
    assert pipeline.attributes["job_names"] == ["dependency-audit", "unit-tests", "fit-model",
                                                "deploy-endpoint"]

    [training] = by_signal(findings, "ci.training_job")
    assert (training.path, training.line) == (".gitlab-ci.yml", 25)
    assert training.attributes["triggers"] == ["schedule"]
    assert "src/train.py:6" in training.summary

    [scheduled] = by_signal(findings, "retrain.scheduled")
    assert scheduled.attributes["cron"] is None  # GitLab schedules live in the project settings
    assert scheduled.line == 18  # the rule inherited through the anchor

    [deployment] = by_signal(findings, "ci.model_deployment_job")
    assert "calls model.deploy at deploy/sagemaker_deploy.py:8" in deployment.summary
    [gated] = by_signal(findings, "ci.gated_release")
    assert gated.attributes["approval"] == "manual job (`when: manual`)"
    [environments] = by_signal(findings, "ci.deployment_environments")
    assert environments.attributes["environments"] == ["production"]

    security = by_signal(findings, "security.scanning")
    assert {(f.path, tuple(f.attributes["tools"])) for f in security} == {
        ("ci/security.yml", ("pip-audit",)),
        (".gitlab-ci.yml", ("Security/SAST.gitlab-ci.yml",)),
    }


def test_reference_commands_keep_their_own_file_and_line(make_repo: MakeRepo) -> None:
    root = make_repo({
        ".gitlab-ci.yml": "include: ci/templates.yml\n\nfit:\n  script:\n"
                          "    - !reference [.train, script]\n",
        "ci/templates.yml": ".train:\n  script:\n    - cd src\n    - python train.py\n",
        "src/train.py": TRAIN_PY,
    })
    [training] = by_signal(detect(root), "ci.training_job")
    assert training.attributes["reasons"] == [
        "runs `python train.py`, which calls model.fit at src/train.py:6"
    ]
    assert training.path == ".gitlab-ci.yml"


def test_only_except_and_when_never(make_repo: MakeRepo) -> None:
    config = """\
nightly-train:
  only:
    - schedules
  script:
    - python src/train.py

push-train:
  except:
    - schedules
  script:
    - python src/train.py

never-train:
  rules:
    - when: never
  script:
    - python src/train.py

not-on-schedule:
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
      when: never
    - when: on_success
  script:
    - python src/train.py

disabled:
  when: never
  script:
    - python src/train.py

.hidden-train:
  only: [schedules]
  script:
    - python src/train.py
"""
    root = make_repo({".gitlab-ci.yml": config, "src/train.py": TRAIN_PY})
    findings = detect(root)
    jobs = {f.attributes["job"]: f for f in by_signal(findings, "ci.training_job")}
    assert set(jobs) == {"nightly-train", "push-train", "not-on-schedule"}
    [scheduled] = by_signal(findings, "retrain.scheduled")
    assert scheduled.attributes["jobs"] == ["nightly-train"]
    assert scheduled.line == 2


def test_trigger_sources_changes_and_workflow_rules(make_repo: MakeRepo) -> None:
    config = """\
workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "trigger"
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH == "main"

retrain-on-drift:
  rules:
    - if: $CI_PIPELINE_SOURCE == "trigger" && $REASON == "drift"
  script:
    - python src/train.py

retrain-on-data:
  rules:
    - changes:
        paths:
          - data/**/*.dvc
          - src/**/*.py
  script:
    - python src/train.py

scheduled-but-workflow-blocks-it:
  rules:
    - if: $CI_PIPELINE_SOURCE =~ /^(schedule|web)$/
  script:
    - python src/train.py
"""
    root = make_repo({".gitlab-ci.yml": config, "src/train.py": TRAIN_PY})
    findings = detect(root)
    [alert] = by_signal(findings, "retrain.on_alert")
    assert alert.attributes["jobs"] == ["retrain-on-drift"]
    assert alert.line == 9
    [data] = by_signal(findings, "retrain.on_data_change")
    assert data.attributes["paths"] == ["data/**/*.dvc"]
    assert by_signal(findings, "retrain.scheduled") == []


def test_child_pipeline_trigger_job_starts_training(make_repo: MakeRepo) -> None:
    parent = """\
train-child:
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
  trigger:
    include: ci/train-pipeline.yml
    strategy: depend
"""
    child = "train:\n  script:\n    - python src/train.py\n"
    root = make_repo({".gitlab-ci.yml": parent, "ci/train-pipeline.yml": child,
                      "src/train.py": TRAIN_PY})
    [scheduled] = by_signal(detect(root), "retrain.scheduled")
    assert "starts child pipeline ci/train-pipeline.yml" in scheduled.summary


def test_missing_include_and_malformed_file_warn(make_repo: MakeRepo) -> None:
    root = make_repo({
        ".gitlab-ci.yml": "include:\n  - local: ci/missing.yml\ntest:\n  script: [pytest]\n",
    })
    findings, ctx = detect_with_context(root)
    assert ".gitlab-ci.yml:1: included file `ci/missing.yml` not found in the repository" in (
        ctx.warnings
    )
    assert len(by_signal(findings, "ci.test_job")) == 1

    broken = make_repo({".gitlab-ci.yml": "test:\n  script:\n    - pytest\n  - oops\n"})
    findings, ctx = detect_with_context(broken)
    assert any(w.startswith(".gitlab-ci.yml:4") for w in ctx.warnings), ctx.warnings
    assert by_signal(findings, "ci.pipeline") == []


def test_aliases_repeating_a_script_many_times_are_read_within_bounds(make_repo: MakeRepo) -> None:
    levels = "s0: &s0 [python src/train.py, pytest]\n" + "".join(
        f"s{i}: &s{i} [{', '.join([f'*s{i - 1}'] * 8)}]\n" for i in range(1, 8)
    )  # 2 * 8**7 commands once expanded
    config = ".lists:\n  " + levels.replace("\n", "\n  ").rstrip() + "\n\nfit:\n  script: *s7\n"
    root = make_repo({".gitlab-ci.yml": config, "src/train.py": TRAIN_PY})
    ctx = RepoContext(LocalTree(root))
    ci_file = parse_gitlab(ctx)
    assert ci_file is not None
    [job] = ci_file.jobs
    assert 0 < len(job.commands) <= MAX_ITEMS
    assert job.commands[0].text == "python src/train.py"
