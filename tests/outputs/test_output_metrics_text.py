"""Prometheus text exposition: promtool's linter, values, escaping, atomic textfile writes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from outputs_support import NOW, full_assessment

from maturity_probe.assessment import Assessment
from maturity_probe.outputs import metrics

SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def promtool() -> str:
    for candidate in ("/usr/bin/promtool", "/usr/local/bin/promtool"):
        if os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("promtool is not installed (apt-get install prometheus)")


def lint(text: str) -> None:
    done = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), (
        done.stdout + done.stderr)


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), value)


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, line
        labels = {k: unescape(v) for k, v in LABEL.findall(match["labels"] or "")}
        found.setdefault(match["name"], []).append((labels, float(match["value"])))
    return found


def value(found: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    hits = [v for got, v in found[name] if all(got.get(k) == want for k, want in labels.items())]
    assert len(hits) == 1, (name, labels, hits)
    return hits[0]


def test_passes_promtool_lint_and_has_help_and_type_once() -> None:
    text = metrics.render(full_assessment())
    lint(text)
    for name in metrics.metric_names():
        assert text.count(f"# HELP {name} ") == 1, name
        assert text.count(f"# TYPE {name} gauge") == 1, name


def test_levels_statuses_kpis_and_sources() -> None:
    found = samples(metrics.render(full_assessment()))
    assert value(found, "maturity_probe_level", model="alpha", scope="platform") == 2
    assert value(found, "maturity_probe_level", model="beta", scope="platform") == 1
    assert value(found, "maturity_probe_level_at_least", model="beta", scope="platform") == 1
    assert value(found, "maturity_probe_level", model="alpha", scope="system", system="fraud") == 1
    assert value(found, "maturity_probe_level", model="alpha", scope="system", system="churn") == 2
    assert value(found, "maturity_probe_max_level", model="alpha") == 3
    assert value(found, "maturity_probe_systems", model="beta", level="1") == 2
    # one-hot: exactly one status holds per requirement
    per_requirement: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for labels, number in found["maturity_probe_requirement_status"]:
        per_requirement.setdefault((labels["model"], labels["requirement"]), []).append(
            (labels["status"], number))
    assert len(per_requirement) == 9
    assert all(sum(n for _, n in rows) == 1 and len(rows) == 5 for rows in per_requirement.values())
    assert dict(per_requirement[("alpha", "training")])["not_applicable"] == 1
    assert dict(per_requirement[("alpha", "registry")])["unknown"] == 1
    assert value(found, "maturity_probe_kpi", kpi="out_training_runs", subject="repo:churn") == 4
    # a label value with quotes and a backslash comes back intact
    assert value(found, "maturity_probe_kpi", subject='repo:odd "name" \\ here') == 2.5
    assert not [labels for labels, _ in found["maturity_probe_kpi"] if labels["kpi"] == "out_lead_time"]
    assert value(found, "maturity_probe_source_up", source="prod-mlflow", type="mlflow") == 0
    assert value(found, "maturity_probe_source_up", source="prom") == 1
    assert value(found, "maturity_probe_source_status", source="prom", status="partial") == 1
    assert value(found, "maturity_probe_source_duration_seconds", source="prom") == 1.25
    assert value(found, "maturity_probe_source_requests", source="prom") == 12
    assert value(found, "maturity_probe_scan_timestamp_seconds") == NOW.timestamp()


def test_label_values_with_newlines_quotes_and_backslashes_are_escaped() -> None:
    odd = full_assessment().model_copy(update={"target": 'C:\\ci\\"plat"\nform.yaml'})
    text = metrics.render(odd)
    assert 'target="C:\\\\ci\\\\\\"plat\\"\\nform.yaml"' in text
    lint(text)
    assert value(samples(text), "maturity_probe_scan_info")  == 1
    assert samples(text)["maturity_probe_scan_info"][0][0]["target"] == odd.target


def test_an_empty_assessment_still_says_when_it_ran() -> None:
    empty = full_assessment().model_copy(update={"maturity": {}, "systems": {}, "sources": [],
                                                 "kpis": [], "system_levels": {}})
    text = metrics.render(empty)
    lint(text)
    assert set(samples(text)) == {"maturity_probe_scan_timestamp_seconds", "maturity_probe_scan_info"}


# -- the `metrics` command -------------------------------------------------------------------


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "maturity_probe", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def write_assessment(path: Path, assessment: Assessment) -> Path:
    path.write_text(assessment.model_dump_json())
    return path


def test_metrics_command_writes_the_textfile_and_stdout(tmp_path: Path) -> None:
    source = write_assessment(tmp_path / "a.json", full_assessment())
    out = tmp_path / "maturity.prom"
    done = cli("metrics", "--input", str(source), "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text() == metrics.render(full_assessment())
    assert out.stat().st_mode & 0o044 == 0o044, "node_exporter must be able to read it"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "maturity.prom"]
    done = cli("metrics", "--input", str(source), "--output", "-")
    assert done.returncode == 0 and done.stdout == out.read_text()


def test_a_reader_never_sees_a_partial_textfile(tmp_path: Path) -> None:
    """Rewrite the file while another thread reads it: every read is one whole version."""
    from maturity_probe.outputs.files import write_atomic

    big = metrics.render(full_assessment())
    small = metrics.render(full_assessment().model_copy(update={"systems": {}, "kpis": []}))
    out = tmp_path / "maturity.prom"
    write_atomic(out, small)
    first = out.open(encoding="utf-8")  # held open, its inode number cannot be reused
    inode = out.stat().st_ino
    seen: set[str] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(out.read_text())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for round_ in range(200):
            write_atomic(out, big if round_ % 2 == 0 else small)
    finally:
        stop.set()
        reader.join()
    assert seen <= {big, small} and len(seen) == 2
    assert out.stat().st_ino != inode  # replaced by rename, never rewritten in place
    assert first.read() == small  # the first version is intact
    first.close()
    assert [p.name for p in tmp_path.iterdir()] == ["maturity.prom"]


@pytest.mark.parametrize("where", ["missing-dir/maturity.prom", "file.txt/maturity.prom", "."])
def test_unwritable_output_is_one_line(tmp_path: Path, where: str) -> None:
    source = write_assessment(tmp_path / "a.json", full_assessment())
    (tmp_path / "file.txt").write_text("x")
    target = tmp_path / where
    done = cli("metrics", "--input", str(source), "--output", str(target))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert re.fullmatch(r"error: .+: cannot write: .+\n", done.stderr), done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "file.txt"]


def test_empty_store_and_bad_input_are_one_line(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    done = cli("metrics", "--store", store)
    assert done.returncode == 2 and done.stderr == (
        "error: the store is empty: run `maturity-probe scan` first\n")
    (tmp_path / "bad.json").write_text('{"hello": 1}')
    done = cli("metrics", "--input", str(tmp_path / "bad.json"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "not a maturity-probe assessment" in done.stderr
    done = cli("metrics", "--store", store, "--input", str(tmp_path / "bad.json"))
    assert done.returncode == 2 and "not both" in done.stderr
