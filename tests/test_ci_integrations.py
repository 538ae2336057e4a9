"""The GitHub Action (action.yml), the GitLab CI template and the README's snippets.

The action's shell steps and the template's script run for real in bash, on a real git
repository, with the installed maturity-probe behind a wrapper that records each
invocation; every recorded command line is then parsed by the real CLI. The README's
command lines are parsed the same way, and its YAML snippets may only use the inputs and
variables the action and the template declare.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli_lines import parse_command_line, probe_invocations, substitute
from support import TEST_AND_TRAIN_WORKFLOW

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
GITLAB_TEMPLATE = ROOT / "templates" / "gitlab" / "maturity-probe.gitlab-ci.yml"
README = ROOT / "README.md"
PROBE = Path(sys.executable).with_name("maturity-probe")

TRAIN = """import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression


def main(data: str, out: str) -> None:
    frame = pd.read_csv(data)
    model = LogisticRegression(max_iter=500)
    model.fit(frame.drop(columns=["churned"]), frame["churned"])
    joblib.dump(model, out)


if __name__ == "__main__":
    import sys

    main(sys.argv[2], sys.argv[4])
"""
TEST_TRAIN = """from src.train import main


def test_main_is_callable() -> None:
    assert callable(main)
"""


@pytest.fixture
def project(make_repo: Callable[..., Path]) -> Path:
    return make_repo({
        ".github/workflows/ci.yml": TEST_AND_TRAIN_WORKFLOW,
        "src/__init__.py": "",
        "src/train.py": TRAIN,
        "tests/test_train.py": TEST_TRAIN,
        "requirements.txt": "pandas==2.2.2\nscikit-learn==1.5.0\njoblib==1.4.2\n",
    }, name="churn")


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Path, Path]:
    """A bin directory whose `maturity-probe` logs its arguments, then runs the real one."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "invocations.jsonl"
    wrapper = bin_dir / "maturity-probe"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"{shlex.quote(sys.executable)} -c 'import json, sys; print(json.dumps(sys.argv[1:]))' \"$@\" "
        f">> {shlex.quote(str(log))}\n"
        f"exec {shlex.quote(str(PROBE))} \"$@\"\n")
    wrapper.chmod(0o755)
    return bin_dir, log


def invocations(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


# -- the GitHub Action ---------------------------------------------------------------------------

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def expression(text: str, context: dict[str, Any]) -> str:
    """The GitHub expressions action.yml uses: `inputs.X`, `github.action_path`,
    `steps.ID.outputs.X`, and `A == 'literal'`."""
    def evaluate(source: str) -> str:
        compared = re.fullmatch(r"([\w.-]+)\s*==\s*'([^']*)'", source)
        if compared:
            return "true" if evaluate(compared.group(1)) == compared.group(2) else "false"
        value: Any = context
        for part in source.split("."):
            value = value[part]
        return str(value)

    return _EXPRESSION.sub(lambda m: evaluate(m.group(1)), text)


def run_action(workspace: Path, bin_dir: Path, tmp_path: Path, **given: str) -> tuple[int, dict[str, Any]]:
    """Run the action's own shell steps like a runner does (`uses:` steps and the install
    step, which pip-installs, are left out); returns the last exit code and the context."""
    action = yaml.safe_load(ACTION.read_text())
    inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    unknown = set(given) - set(inputs)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    inputs.update(given)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    summary = tmp_path / "step-summary.md"
    context: dict[str, Any] = {"inputs": inputs, "github": {"action_path": str(ROOT)}, "steps": {},
                               "summary": summary}
    code = 0
    for index, step in enumerate(action["runs"]["steps"]):
        if "uses" in step or step.get("name") == "Install maturity-probe":
            continue
        if "if" in step and expression(step["if"], context) != "true":
            continue
        assert step["shell"] == "bash"
        outputs = tmp_path / f"output-{index}"
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "RUNNER_TEMP": str(runner_temp),
               "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary),
               "GITHUB_PATH": str(tmp_path / "github-path")}
        env.update({key: expression(str(value), context) for key, value in step.get("env", {}).items()})
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                              cwd=workspace, env=env, capture_output=True, text=True, timeout=180)
        code = done.returncode
        if outputs.exists():
            pairs = (line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
            context["steps"][step.get("id", str(index))] = {"outputs": dict(pairs)}
        if code != 0:
            context["stderr"] = done.stderr
            break
    return code, context


def test_action_declares_a_composite_action_with_pinned_actions() -> None:
    action = yaml.safe_load(ACTION.read_text())
    assert action["runs"]["using"] == "composite"
    assert {"path", "baseline", "min-level", "args", "upload-sarif", "version"} <= set(action["inputs"])
    assert all(spec.get("description") for spec in action["inputs"].values())
    used = [step["uses"] for step in action["runs"]["steps"] if "uses" in step]
    assert all(re.fullmatch(r"[\w-]+/[\w/-]+@v\d+", uses) for uses in used), used
    assert "github/codeql-action/upload-sarif@v3" in used
    for step in action["runs"]["steps"]:  # inputs reach scripts through env, never pasted in
        assert "run" not in step or "${{" not in step["run"], step.get("name")


def test_action_fails_below_a_minimum_and_writes_summary_and_sarif(
        project: Path, recorded: tuple[Path, Path], tmp_path: Path) -> None:
    bin_dir, log = recorded
    subprocess.run([str(PROBE), "gate", ".", "--write-baseline", "maturity-baseline.json"], cwd=project,
                   check=True, capture_output=True)
    code, context = run_action(project, bin_dir, tmp_path, baseline="maturity-baseline.json",
                               **{"min-level": "microsoft=1 google=2", "upload-sarif": "true"})
    assert code == 1, context.get("stderr")
    assert context["steps"]["gate"]["outputs"] == {"exit-code": "1", "result": "failed"}
    summary = context["summary"].read_text()
    assert summary.startswith("## maturity gate FAILED") and "google" in summary
    sarif = json.loads((project / "maturity-probe.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    ran = invocations(log)
    assert [argv[0] for argv in ran] == ["gate", "audit"]
    for argv in ran:
        parse_command_line(argv)
    gate = parse_command_line(ran[0]).params
    assert gate["min_level"] == ["microsoft=1", "google=2"]
    assert str(gate["baseline"]) == "maturity-baseline.json"


def test_action_passes_with_extra_arguments_and_no_sarif(project: Path, recorded: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    bin_dir, log = recorded
    subprocess.run([str(PROBE), "gate", ".", "--write-baseline", "baseline.json"], cwd=project,
                   check=True, capture_output=True)
    code, context = run_action(project, bin_dir, tmp_path, baseline="baseline.json",
                               args="--strict --model microsoft")
    assert code == 0, context.get("stderr")
    assert context["steps"]["gate"]["outputs"] == {"exit-code": "0", "result": "passed"}
    assert context["summary"].read_text().startswith("## maturity gate passed")
    assert not (project / "maturity-probe.sarif").exists()
    [argv] = invocations(log)
    params = parse_command_line(argv).params
    assert params["strict"] is True and params["model"] == ["microsoft"]


# -- the GitLab CI template --------------------------------------------------------------------


def test_gitlab_template_gates_and_keeps_the_code_quality_report(
        project: Path, recorded: tuple[Path, Path]) -> None:
    bin_dir, log = recorded
    template = yaml.safe_load(GITLAB_TEMPLATE.read_text())
    hidden, job = template[".maturity-probe"], template["maturity-probe"]
    assert job["extends"] == ".maturity-probe"
    assert hidden["artifacts"]["when"] == "always"
    report = hidden["artifacts"]["reports"]["codequality"]
    subprocess.run([str(PROBE), "gate", ".", "--write-baseline", "maturity-baseline.json"], cwd=project,
                   check=True, capture_output=True)
    variables = {**hidden["variables"], "MATURITY_PROBE_BASELINE": "maturity-baseline.json",
                 "MATURITY_PROBE_MIN_LEVEL": "microsoft=1 google=2"}
    env = {**os.environ, **{k: str(v) for k, v in variables.items()},
           "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", "\n".join(hidden["script"])], cwd=project,
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 1, done.stderr  # below google=2: the job fails
    issues = json.loads((project / report).read_text())
    assert issues and len({issue["fingerprint"] for issue in issues}) == len(issues)
    assert (project / "maturity-probe.md").read_text().startswith("## maturity gate FAILED")
    assert set(hidden["artifacts"]["paths"]) == {"maturity-probe.md", report}
    ran = invocations(log)
    assert [argv[0] for argv in ran] == ["audit", "gate"]
    for argv in ran:
        parse_command_line(argv)
    assert parse_command_line(ran[1]).params["min_level"] == ["microsoft=1", "google=2"]


# -- the README ----------------------------------------------------------------------------------

README_VALUES = {"JOB_COMPLETION_INDEX": "0", "id -u": "1000", "PWD": "/work/checkout",
                 "GITHUB_TOKEN": "token", "MLFLOW_TOKEN": "token", "GITHUB_STEP_SUMMARY": "summary.md",
                 "GROUP": "nightly-2026-06-01", "URL": "postgresql://probe:secret@db:5432/maturity"}


def readme_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), re.S | re.M)


def readme_command_lines() -> list[list[str]]:
    """maturity-probe invocations in the README's shell blocks (also inside `docker run`)
    and in its inline code spans (not the usage synopses, which have [optional] parts)."""
    found = []
    for block in readme_blocks("sh"):
        for words in (w for line in block.splitlines() for w in [shlex.split(line, comments=True)] if w):
            if words[:2] == ["docker", "run"]:
                image = next(i for i, w in enumerate(words) if w.startswith("maturity-probe:"))
                found.append([substitute(w, README_VALUES) for w in words[image + 1:]])
        found += probe_invocations(block, README_VALUES)
    for span in re.findall(r"`((?:\.venv/bin/)?maturity-probe [^`\[]+)`", README.read_text()):
        found += probe_invocations(span.replace("DATE", "2026-06-01"), README_VALUES)
    return found


COMPLETION_OPTIONS = {"--install-completion", "--show-completion"}  # parsing them would run them


def test_readme_command_lines_parse_with_the_cli() -> None:
    lines = readme_command_lines()
    assert len(lines) >= 25
    completion = [argv for argv in lines if COMPLETION_OPTIONS & set(argv)]
    assert {argv[0] for argv in completion} == COMPLETION_OPTIONS  # tested in test_cli_completion.py
    commands = set()
    for argv in lines:
        if argv in completion:
            continue
        try:
            commands.add(parse_command_line(argv).info_name)
        except Exception as exc:  # the line, and why
            pytest.fail(f"README: maturity-probe {shlex.join(argv)}: {exc}")
    assert {"audit", "gate", "scan", "report", "history", "diff", "trend", "show"} <= commands


def test_readme_snippets_use_only_declared_inputs_and_variables() -> None:
    inputs = set(yaml.safe_load(ACTION.read_text())["inputs"])
    template_variables = set(yaml.safe_load(GITLAB_TEMPLATE.read_text())[".maturity-probe"]["variables"])
    workflows = [doc for doc in map(yaml.safe_load, readme_blocks("yaml")) if isinstance(doc, dict)]
    steps = [step for doc in workflows for job in doc.get("jobs", {}).values() for step in job["steps"]]
    ours = [step for step in steps if step.get("uses", "").startswith("maturity-probe/maturity-probe@")]
    assert ours and all(set(step["with"]) <= inputs for step in ours)
    gitlab = [doc for doc in workflows if "include" in doc]
    assert gitlab and all(doc["include"][0]["remote"].endswith(str(GITLAB_TEMPLATE.relative_to(ROOT)))
                          for doc in gitlab)
    assert all(set(doc["maturity-probe"]["variables"]) <= template_variables for doc in gitlab)


def test_a_renamed_option_is_caught() -> None:
    """The check these tests rely on can fail."""
    with pytest.raises(Exception, match="No such option"):
        parse_command_line(["scan", "--config", "platform.yaml", "--shards", "0/4"])
    with pytest.raises(Exception, match="not one of"):
        parse_command_line(["report", "--format", "pdf"])
