"""Files a user hands the probe (platform config, rules, exemptions, a baseline, an
assessment) and the audited repository's own `.maturity-probe.yml`: a file that is not
UTF-8 text, a mistyped key or value, is one `error:` line naming the file and line with exit
code 2 (for `gate`, never the 1 of a regression), or for the audited repository's file a
warning, never a traceback."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from conftest import MakeRepo
from maturity_probe.cli import main
from support import TRAIN_SCRIPT

FILES: dict[str, str | bytes] = {
    "src/train.py": TRAIN_SCRIPT,
    "requirements.txt": "pandas==2.2.2\nscikit-learn==1.5.0\njoblib==1.4.2\n",
}

# Not UTF-8 at all: a gzip header and compressed-looking bytes where a JSON or YAML file is due.
BINARY = bytes.fromhex("1f8b0800000000000003") + bytes(range(128, 256)) * 3

EXEMPTIONS = """\
exemptions:
  - requirement: microsoft/l3-ab-testing
    reason: batch-only model, scored nightly; no online serving to A/B test
"""


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        *args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    """Run the CLI entry point in-process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["maturity-probe", *args])
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    with pytest.raises(SystemExit) as done:
        main()
    out, err = capsys.readouterr()
    code = done.value.code
    return code if isinstance(code, int) else 1, out, err


def assert_usage_error(result: tuple[int, str, str], *messages: str) -> None:
    code, out, err = result
    assert "Traceback" not in err
    assert (code, out, err) == (2, "", "".join(f"error: {m}\n" for m in messages))


# -- files that are not UTF-8 text ---------------------------------------------------------


def test_a_binary_baseline_is_a_usage_error_not_a_regression(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_repo(FILES)
    baseline = tmp_path / "baseline.json"
    baseline.write_bytes(BINARY)
    assert_usage_error(run(monkeypatch, capsys, "gate", str(root), "--baseline", str(baseline)),
                       f"{baseline}:1: not UTF-8 text")


def test_a_latin1_byte_in_a_config_comment_names_its_line(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_repo(FILES)
    config = tmp_path / "platform.yaml"
    config.write_bytes(b"name: churn-platform\nsources:\n  # \xe9quipe donn\xe9es\n"
                       b"  - type: repo\n    name: churn\n    path: " + str(root).encode() + b"\n")
    assert_usage_error(run(monkeypatch, capsys, "scan", "-c", str(config), "--no-store"),
                       f"{config}:3: not UTF-8 text")
    # the same file in UTF-8 scans
    config.write_text(config.read_bytes().decode("latin-1"), encoding="utf-8")
    code, out, err = run(monkeypatch, capsys, "scan", "-c", str(config), "--no-store", "-q",
                         "-f", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["sources"][0]["name"] == "churn"


def test_a_binary_exemptions_file_given_by_option_is_an_error(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_repo(FILES)
    exemptions = tmp_path / "exemptions.yml"
    exemptions.write_bytes(BINARY)
    assert_usage_error(run(monkeypatch, capsys, "audit", str(root), "--exemptions", str(exemptions)),
                       f"{exemptions}:1: not UTF-8 text")
    missing = tmp_path / "absent.yml"
    assert_usage_error(run(monkeypatch, capsys, "audit", str(root), "--exemptions", str(missing)),
                       f"{missing}: no such file")


def test_a_binary_exemptions_file_in_the_audited_repository_is_a_warning(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_repo({**FILES, ".maturity-probe.yml": BINARY})
    code, out, err = run(monkeypatch, capsys, "audit", str(root), "-f", "json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["exemptions"] == []
    assert result["warnings"] == [f"{root / '.maturity-probe.yml'}:1: not UTF-8 text; its "
                                  "exemptions are ignored"]
    assert result["maturity"]["microsoft"]["level"] >= 0

    # the same repository with a text file: its exemption applies, no warning
    (root / ".maturity-probe.yml").write_text(EXEMPTIONS)
    code, out, err = run(monkeypatch, capsys, "audit", str(root), "-f", "json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert [e["target"] for e in result["exemptions"]] == ["microsoft/l3-ab-testing"]
    assert result["warnings"] == []

    # a link out of the checkout is not followed: the repository does not choose what is read
    outside = root.parent / "elsewhere.yml"
    outside.write_text(EXEMPTIONS)
    (root / ".maturity-probe.yml").unlink()
    (root / ".maturity-probe.yml").symlink_to(outside)
    code, out, err = run(monkeypatch, capsys, "audit", str(root), "-f", "json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["exemptions"] == []
    assert (f"{root / '.maturity-probe.yml'}: links out of the checkout; its exemptions are "
            "ignored") in result["warnings"]


def test_a_binary_metrics_input_is_an_error_from_a_file_and_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    assessment = tmp_path / "assessment.json"
    assessment.write_bytes(b'{"schema_version": "1.0",\n "target": "caf\xe9"}\n')
    assert_usage_error(run(monkeypatch, capsys, "metrics", "--input", str(assessment)),
                       f"{assessment}:2: not UTF-8 text")
    assert_usage_error(run(monkeypatch, capsys, "metrics", "--input", "-", stdin=BINARY),
                       "stdin:1: not UTF-8 text")
    assessment.write_text('{"schema_version": "1.0",\n "target": "café",\n "target": "x"}\n')
    assert_usage_error(run(monkeypatch, capsys, "metrics", "--input", str(assessment)),
                       f"{assessment}:3: duplicate key 'target' (first on line 2)")


def test_a_rules_file_that_is_not_utf8_is_reported_by_rules_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    rules = tmp_path / "house-rules"
    rules.mkdir()
    (rules / "capabilities.yaml").write_bytes(
        b"capabilities:\n  house_tests:\n    title: Tests in CI \x96 our way\n")
    assert_usage_error(run(monkeypatch, capsys, "rules", "check", str(rules)),
                       f"{rules / 'capabilities.yaml'}:3: not UTF-8 text")


# -- a key written twice ---------------------------------------------------------------------


def platform_config(tmp_path: Path, root: Path, body: str) -> Path:
    """A platform config whose `{root}` placeholders name the checkout."""
    config = tmp_path / "platform.yaml"
    config.write_text(body.replace("{root}", str(root)))
    return config


def test_a_key_written_twice_in_the_platform_config_is_an_error(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_repo(FILES)
    config = platform_config(tmp_path, root, "name: churn-platform\nmodels: [microsoft]\n"
                             "name: churn-platfrom\nsources:\n  - type: repo\n    name: churn\n"
                             "    path: {root}\n")
    assert_usage_error(run(monkeypatch, capsys, "scan", "-c", str(config), "--no-store"),
                       f"{config}:3: duplicate key 'name' (first on line 1)")
    config = platform_config(tmp_path, root, "sources:\n"
                             "  - {type: repo, name: churn, path: {root}}\n"
                             "  - {type: repo, name: r1, name: r2, path: {root}}\n")
    assert_usage_error(run(monkeypatch, capsys, "scan", "-c", str(config), "--no-store"),
                       f"{config}:3: duplicate key 'name' (first on line 3)")


def test_keys_merged_from_an_anchor_may_be_overridden() -> None:
    from maturity_probe import yamlio

    text = ("defaults: &defaults\n  lookback_days: 30\n  scan_timeout_seconds: 120\n"
            "prod:\n  <<: *defaults\n  lookback_days: 90\n")
    loaded = yamlio.load_one(text, unique_keys=True)
    assert loaded["prod"] == {"lookback_days": 90, "scan_timeout_seconds": 120}
    with pytest.raises(yamlio.YamlError) as caught:
        yamlio.load_one(text + "  lookback_days: 7\n", unique_keys=True)
    assert (caught.value.line, caught.value.describe()) == (
        7, "duplicate key 'lookback_days' (first on line 6)")


def test_a_key_written_twice_in_rules_or_exemptions_is_an_error(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rules = tmp_path / "house-rules"
    rules.mkdir()
    (rules / "capabilities.yaml").write_text(
        "capabilities:\n  house_tests:\n    title: Tests in CI, our way\n"
        "    recommendation: Run the unit tests on every push.\n"
        "    any_of:\n      - signal: ci.test_job\n    title: Tests in CI\n")
    assert_usage_error(run(monkeypatch, capsys, "rules", "check", str(rules)),
                       f"{rules / 'capabilities.yaml'}:7: duplicate key 'title' (first on line 3)")
    root = make_repo({**FILES, ".maturity-probe.yml": EXEMPTIONS + "    reason: none\n"})
    assert_usage_error(run(monkeypatch, capsys, "audit", str(root)),
                       f"{root / '.maturity-probe.yml'}:4: duplicate key 'reason' (first on line 3)")


# A real-world slip: `env:` given twice in one job. GitHub takes the file; so does the probe.
TRAINING_WORKFLOW_WITH_A_REPEATED_KEY = """\
name: weekly-training
on:
  schedule:
    - cron: "0 3 * * 1"
jobs:
  train:
    runs-on: ubuntu-latest
    env:
      DATA_PATH: data/features.parquet
    env:
      DATA_PATH: data/features-v2.parquet
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt
      - run: python src/train.py
"""


def test_a_key_written_twice_in_a_scanned_repository_file_is_read_last_wins(
    make_repo: MakeRepo,
) -> None:
    from conftest import by_signal, detect
    from maturity_probe import yamlio

    assert yamlio.load_one(TRAINING_WORKFLOW_WITH_A_REPEATED_KEY)["jobs"]["train"]["env"] == {
        "DATA_PATH": "data/features-v2.parquet"}
    root = make_repo({**FILES, ".github/workflows/train.yml": TRAINING_WORKFLOW_WITH_A_REPEATED_KEY})
    [training] = by_signal(detect(root), "ci.training_job")
    assert (training.path, training.line) == (".github/workflows/train.yml", 6)
    assert by_signal(detect(root), "retrain.scheduled")


# -- numbers are numbers ---------------------------------------------------------------------


def test_config_numbers_are_strict_and_lookback_is_bounded(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_repo(FILES)
    config = platform_config(tmp_path, root, """\
concurrency:
  total: true
  per_type: {repo: "2"}
sources:
  - type: repo
    name: churn
    path: {root}
    lookback_days: true
  - type: repo
    name: fraud
    path: {root}
    lookback_days: 1000000
    scan_timeout_seconds: "60"
  - type: kubernetes
    name: deploy
    manifests: {root}
    page_size: 1.5
""")
    assert_usage_error(
        run(monkeypatch, capsys, "scan", "-c", str(config), "--no-store"),
        f"{config}:8: sources.0.lookback_days: Input should be a valid integer (got true)",
        f"{config}:12: sources.1.lookback_days: Input should be less than or equal to 3650",
        f"{config}:13: sources.1.scan_timeout_seconds: Input should be a valid number (got \"60\")",
        f"{config}:17: sources.2.page_size: Input should be a valid integer (got 1.5)",
        f"{config}:2: concurrency.total: Input should be a valid integer (got true)",
        f"{config}:3: concurrency.per_type.repo: Input should be a valid integer (got \"2\")",
    )
    # the longest lookback, paths as text and a whole number for a float field are fine
    config = platform_config(tmp_path, root, """\
concurrency: {total: 2, per_type: {repo: 1}}
sources:
  - {type: repo, name: churn, path: {root}, lookback_days: 3650, scan_timeout_seconds: 60}
""")
    code, out, err = run(monkeypatch, capsys, "scan", "-c", str(config), "--no-store", "-q",
                         "-f", "json")
    assert (code, err) == (0, "")
    assert [s["status"] for s in json.loads(out)["sources"]] == ["ok"]


def test_the_config_schema_keeps_number_types_and_shows_the_lookback_bound() -> None:
    from maturity_probe.config import config_schema

    schema = config_schema()
    for kind in ("repo", "mlflow", "kubernetes", "github"):
        lookback = schema["$defs"][f"source_{kind}"]["properties"]["lookback_days"]
        assert (lookback["type"], lookback["minimum"], lookback["maximum"]) == ("integer", 1, 3650)
    repo = schema["$defs"]["source_repo"]["properties"]
    assert repo["path"]["type"] == "string" and repo["scan_timeout_seconds"]["type"] == "number"
    assert schema["$defs"]["Concurrency"]["properties"]["total"]["type"] == "integer"


# -- names that must name something ----------------------------------------------------------

HOUSE_SIGNALS = """\
signals:
  house.canary_release:
    description: A canary release step in the house deploy tool.
    seed: "004 enterprise practices: progressive delivery"
    phrase: releases to a canary first
    emitted_by: {repo: declared, nosuchsource: active, githb: declared}
"""


def test_rules_check_rejects_an_unknown_source_type_in_emitted_by(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    rules = tmp_path / "house-rules"
    rules.mkdir()
    signals = rules / "signals.yaml"
    signals.write_text(HOUSE_SIGNALS)
    assert_usage_error(
        run(monkeypatch, capsys, "rules", "check", str(rules)),
        f"{signals}:6: unknown source type `nosuchsource` in `emitted_by` (known: github, gitlab, "
        "kubernetes, mlflow, prometheus, repo, sagemaker)",
        f"{signals}:6: unknown source type `githb` in `emitted_by` (did you mean `github`?)",
    )
    signals.write_text(HOUSE_SIGNALS.replace(", nosuchsource: active, githb: declared",
                                             ", github: declared, kubernetes: active"))
    code, out, err = run(monkeypatch, capsys, "rules", "check", str(rules))
    assert (code, err) == (0, "") and out.startswith(f"{rules}: ok")


def test_the_bundled_catalog_names_only_known_source_types() -> None:
    from maturity_probe.collectors import collector_types
    from maturity_probe.inference.rules import load_rules

    emitters = {kind for spec in load_rules().signals.values() for kind in spec.emitted_by}
    assert emitters <= set(collector_types()) and "repo" in emitters


def test_an_exemption_names_a_requirement_or_a_capability_not_both(
    make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_repo({**FILES, ".maturity-probe.yml": """\
exemptions:
  - requirement: microsoft/l3-ab-testing
    capability: progressive_delivery
    reason: batch-only model, scored nightly; no online serving to A/B test
  - capability: progressive_delivery
    reson: batch-only model
"""})
    file = root / ".maturity-probe.yml"
    assert_usage_error(
        run(monkeypatch, capsys, "audit", str(root)),
        f"{file}:3: an exemption names a `requirement` or a `capability`, not both",
        f"{file}:6: unknown field `reson` in an exemption (expected: capability, reason, requirement)",
    )
    file.write_text(EXEMPTIONS + "  - capability: progressive_delivery\n"
                    "    reason: batch-only model, nothing to deliver progressively\n")
    code, out, err = run(monkeypatch, capsys, "audit", str(root), "-f", "json")
    assert (code, err) == (0, "")
    assert sorted(e["target"] for e in json.loads(out)["exemptions"]) == [
        "capability:progressive_delivery", "microsoft/l3-ab-testing"]


def test_an_unknown_model_in_the_config_names_its_line(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_repo(FILES)
    config = platform_config(tmp_path, root, "name: churn-platform\nmodels:\n  - microsoft\n"
                             "  - microsft\nsources:\n  - {type: repo, name: churn, path: {root}}\n")
    assert_usage_error(run(monkeypatch, capsys, "scan", "-c", str(config), "--no-store"),
                       f"{config}:4: models: unknown model 'microsft' (known: microsoft, google, "
                       "five_stage, seven_stage)")
    # --model chooses instead of the config's list
    code, out, err = run(monkeypatch, capsys, "scan", "-c", str(config), "--no-store", "-q",
                         "-m", "google", "-f", "json")
    assert (code, err) == (0, "")
    assert list(json.loads(out)["maturity"]) == ["google"]


def test_a_source_without_a_type_says_the_field_is_missing(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_repo(FILES)
    config = platform_config(tmp_path, root, """\
sources:
  - {type: repo, name: churn, path: {root}}
  - {type: repo, name: fraud, path: {root}}
  - name: prod-mlflow
    tracking_uri: http://127.0.0.1:5000
  - type: mlfow
    name: staging-mlflow
    tracking_uri: http://127.0.0.1:5001
""")
    known = "github, gitlab, kubernetes, mlflow, prometheus, repo, sagemaker"
    assert_usage_error(run(monkeypatch, capsys, "scan", "-c", str(config), "--no-store"),
                       f"{config}:4: sources.2.type: required field missing (one of: {known})",
                       f"{config}:6: sources.3.type: unknown source type 'mlfow' (known: {known})")


# -- messages say what is wrong, nothing else ------------------------------------------------


def test_validator_messages_come_without_pydantics_value_error_prefix(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_repo(FILES)
    config = platform_config(tmp_path, root, """\
concurrency:
  per_type: {githb: 2}
sources:
  - {type: repo, name: churn, path: {root}}
  - type: prometheus
    name: edge-prom
    url: http://scraper:s3cret@prom.internal:9090
""")
    assert_usage_error(
        run(monkeypatch, capsys, "scan", "-c", str(config), "--no-store"),
        f"{config}:7: sources.1.url: must not hold credentials: name them with username_env / "
        "password_env",
        f"{config}:2: concurrency.per_type: unknown source type 'githb' (known: github, gitlab, "
        "kubernetes, mlflow, prometheus, repo, sagemaker)",
    )
    code, out, err = run(monkeypatch, capsys, "audit", str(root), "-f", "xml")
    assert (code, out) == (2, "")
    assert err.endswith("Invalid value for '--format' / '-f': 'xml' is not one of 'table', "
                        "'json', 'markdown', 'html', 'junit', 'sarif', 'codequality', 'metrics'.\n")
    assert "Value error" not in err


# -- a baseline or an assessment that is not one -----------------------------------------------


def test_a_broken_baseline_is_named_like_every_other_file(
    make_repo: MakeRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_repo(FILES)
    baseline = tmp_path / "baseline.json"
    code, written, err = run(monkeypatch, capsys, "audit", str(root), "-f", "json")
    assert code == 0
    document = json.loads(written)

    def gate_on(text: str) -> tuple[int, str, str]:
        baseline.write_text(text)
        return run(monkeypatch, capsys, "gate", str(root), "--baseline", str(baseline))

    # a comma lost in a hand edit
    assert_usage_error(gate_on('{\n  "schema_version": "1.0",\n  "target": "churn"\n  "tool": {}\n}\n'),
                       f"{baseline}:4: invalid JSON at column 3: Expecting ',' delimiter")
    assert_usage_error(gate_on(""), f"{baseline}: empty, not a maturity-probe assessment")
    assert_usage_error(gate_on("[]"), f"{baseline}: not a maturity-probe assessment: the JSON "
                       "is not an object")
    document["maturity"]["microsoft"]["level"] = "three"
    assert_usage_error(gate_on(json.dumps(document, indent=2)),
                       f"{baseline}: not a maturity-probe assessment: maturity.microsoft.level: "
                       "Input should be a valid integer, unable to parse string as an integer")
    repeated = written.replace('  "target": ', '  "target": "elsewhere",\n  "target": ', 1)
    line = repeated[:repeated.index('"target"')].count("\n") + 1
    assert_usage_error(gate_on(repeated),
                       f"{baseline}:{line + 1}: duplicate key 'target' (first on line {line})")
    document = {**json.loads(written), "schema_version": "0.9"}
    assert_usage_error(gate_on(json.dumps(document)),
                       f"{baseline}: schema version 0.9 is not compatible with 1.0; write a new "
                       "baseline with --write-baseline")
    # the baseline as written passes the gate against the same repository
    code, out, err = gate_on(written)
    assert (code, err) == (0, "") and out.endswith("maturity gate passed\n")
