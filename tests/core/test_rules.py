"""Rules files: bundled rules load cleanly; every mistake is reported as file:line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from maturity_probe.inference.exemptions import load_exemptions
from maturity_probe.inference.rules import RulesError, load_rules


def write_rules(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root


def problems_of(rules_dir: Path) -> list[str]:
    with pytest.raises(RulesError) as caught:
        load_rules(rules_dir)
    return caught.value.problems


def test_bundled_rules_have_the_four_seed_models_in_order() -> None:
    rules = load_rules()
    assert list(rules.models) == ["microsoft", "google", "five_stage", "seven_stage"]
    assert [lv.name for lv in rules.models["microsoft"].levels] == [
        "No MLOps", "DevOps but no MLOps", "Automated training",
        "Automated model deployment", "Full MLOps automated retraining",
    ]
    assert rules.models["google"].max_level == 2
    assert rules.models["five_stage"].max_level == 5
    assert rules.models["seven_stage"].max_level == 7


def test_unknown_signal_is_reported_with_file_line_and_suggestion(tmp_path: Path) -> None:
    rules_dir = write_rules(tmp_path, {"capabilities.yaml": """capabilities:
  typo:
    title: Typo
    recommendation: fix
    any_of:
      - signal: ci.trainig_job
"""})
    problems = problems_of(rules_dir)
    assert problems == [
        f"{rules_dir / 'capabilities.yaml'}:6: unknown signal `ci.trainig_job` "
        "(did you mean `ci.training_job`?)"
    ]


def test_bad_predicate_operator_and_operand(tmp_path: Path) -> None:
    rules_dir = write_rules(tmp_path, {"capabilities.yaml": """capabilities:
  bad:
    title: Bad
    recommendation: fix
    any_of:
      - signal: ci.training_job
        where:
          count: {greater: 2}
          cron: {matches: "([unclosed"}
          steps: {in: train}
"""})
    problems = problems_of(rules_dir)
    file = rules_dir / "capabilities.yaml"
    assert f"{file}:8: unknown operator `greater`" in problems[0]
    assert problems[1].startswith(f"{file}:9: predicate on `cron`: invalid regular expression")
    assert problems[2] == f"{file}:10: predicate on `steps`: `in` needs a list"


def test_unknown_capability_and_cycle(tmp_path: Path) -> None:
    rules_dir = write_rules(tmp_path, {
        "capabilities.yaml": """capabilities:
  a:
    title: A
    recommendation: r
    any_of:
      - capability: b
  b:
    title: B
    recommendation: r
    all_of:
      - capability: a
""",
        "models/m.yaml": """id: m
name: M
source: test
levels:
  - level: 0
    name: zero
  - level: 1
    name: one
    requirements:
      - id: r1
        title: R1
        criterion: c
        capability: experiment_trackin
""",
    })
    problems = problems_of(rules_dir)
    assert any("capability cycle: a -> b -> a" in p for p in problems)
    assert f"{rules_dir / 'models/m.yaml'}:10: unknown capability `experiment_trackin` " \
           "(did you mean `experiment_tracking`?)" in problems


def test_typo_in_field_name_and_invalid_yaml(tmp_path: Path) -> None:
    rules_dir = write_rules(tmp_path, {
        "capabilities.yaml": """capabilities:
  c:
    title: C
    recomendation: r
    any_of:
      - signal: ci.test_job
""",
        "models/broken.yaml": "id: x\nlevels: [\n",
    })
    problems = problems_of(rules_dir)
    file = rules_dir / "capabilities.yaml"
    assert any(p.startswith(f"{file}:4: unknown field `recomendation` in a capability") for p in problems)
    assert f"{file}:3: missing `recommendation`" in problems
    assert any(p.startswith(f"{rules_dir / 'models/broken.yaml'}:") and "invalid YAML" in p
               for p in problems)


def test_model_levels_must_be_in_order_and_requirements_need_capability_or_reason(
    tmp_path: Path,
) -> None:
    rules_dir = write_rules(tmp_path, {"models/m.yaml": """id: m
name: M
source: test
levels:
  - level: 0
    name: zero
  - level: 2
    name: two
    requirements:
      - id: r
        title: R
        criterion: c
"""})
    problems = problems_of(rules_dir)
    path = rules_dir / "models/m.yaml"
    assert f"{path}:7: levels must be numbered 0, 1, 2, ... in order (expected 1)" in problems
    assert (f"{path}:10: requirement `r` needs exactly one of `capability` or "
            "`not_assessable` (a reason)") in problems


def test_user_rules_add_and_override(tmp_path: Path) -> None:
    rules_dir = write_rules(tmp_path, {
        "capabilities.yaml": """capabilities:
  ci_tests:
    title: Tests in CI, our way
    recommendation: Use our shared pipeline template.
    all_of:
      - signal: ci.test_job
      - signal: quality.model_tests
""",
        "models/house.yaml": """id: house
name: House model
source: our handbook
levels:
  - level: 0
    name: Start
  - level: 1
    name: Tested
    requirements:
      - id: tested
        title: Tested
        criterion: every model is tested
        capability: ci_tests
""",
    })
    rules = load_rules(rules_dir)
    assert rules.capabilities["ci_tests"].title == "Tests in CI, our way"
    assert list(rules.models)[:4] == ["microsoft", "google", "five_stage", "seven_stage"]
    assert "house" in rules.models


def test_rules_dir_that_is_empty_or_missing(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope") == [f"{tmp_path / 'nope'}: not a directory of rules"]
    assert "no signals.yaml, capabilities.yaml or models/*.yaml" in problems_of(tmp_path)[0]


def test_exemption_errors(tmp_path: Path) -> None:
    rules = load_rules()
    file = tmp_path / ".maturity-probe.yml"
    file.write_text("""exemptions:
  - requirement: microsoft/l3-ab-test
    reason: batch only
  - capability: progressive_delivery
  - capability: feature_stor
    reason: none
""")
    with pytest.raises(RulesError) as caught:
        load_exemptions(file, rules)
    assert caught.value.problems == [
        f"{file}:2: unknown requirement `microsoft/l3-ab-test` "
        "(did you mean `microsoft/l3-ab-testing`?)",
        f"{file}:4: exemption needs a `reason`",
        f"{file}:5: unknown capability `feature_stor` (did you mean `feature_store`?)",
    ]
    file.write_text("exemptions:\n  - requirement: microsoft/l3-ab-testing\n"
                    "    reason: batch-only model\n")
    (exemption,) = load_exemptions(file, rules)
    assert exemption.target == "microsoft/l3-ab-testing" and exemption.origin == f"{file}:2"


def test_rules_check_command(tmp_path: Path) -> None:
    good = write_rules(tmp_path / "good", {"capabilities.yaml": """capabilities:
  extra:
    title: Extra
    recommendation: r
    any_of:
      - signal: ci.test_job
"""})
    ok = subprocess.run([sys.executable, "-m", "maturity_probe", "rules", "check", str(good)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "ok — 4 models" in ok.stdout
    bad = write_rules(tmp_path / "bad", {"capabilities.yaml": "capabilities:\n  x:\n    title: X\n"
                                         "    recommendation: r\n    any_of:\n"
                                         "      - signal: nope.signal\n"})
    done = subprocess.run([sys.executable, "-m", "maturity_probe", "rules", "check", str(bad)],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == f"error: {bad / 'capabilities.yaml'}:6: unknown signal `nope.signal`\n"
    assert "Traceback" not in done.stderr
