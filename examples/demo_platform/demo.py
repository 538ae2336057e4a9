"""maturity-probe demo: scan a small but real ML platform running on this machine.

    python examples/demo_platform/demo.py [--out DIR]      (scripts/demo.sh sets up, then runs this)

1. builds five git repositories from examples/ (ML systems at very different levels);
2. starts a real `mlflow server`, a real Prometheus and a model-metrics exporter, on
   free ports of 127.0.0.1 only;
3. seeds MLflow with each system's training runs (git commit and repository tags that
   point at those repositories), registered models, versions, aliases and validation
   tags; loads Prometheus with the teams' alert rules, one of them straight from the
   fraud repository's PrometheusRule, and lets it scrape the exporter;
4. writes platform.yaml and runs `maturity-probe scan --config platform.yaml` into a
   throwaway store, then `maturity-probe report` to write the HTML report;
5. stops every process it started (also on Ctrl-C, SIGTERM or an error) and prints where
   the report is, with a summary per ML system.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import yaml
from platform_spec import SYSTEMS
from repos import Commit, build_repo
from seed_mlflow import seed
from services import PROMETHEUS_TIMEOUT, DemoError, Services, find_executable, http_ok

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent
FRAUD_RULES = EXAMPLES / "fraud-platform" / "monitoring" / "prometheus" / "fraud-model-rules.yaml"
MODELS = ["microsoft", "google", "five_stage", "seven_stage"]


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def operator_rule_file(prometheus_rule: Path, target: Path) -> Path:
    """A PrometheusRule resource as the Prometheus Operator hands it to Prometheus: its
    `spec.groups` as a rule file."""
    resource = yaml.safe_load(prometheus_rule.read_text(encoding="utf-8"))
    target.write_text(yaml.safe_dump({"groups": resource["spec"]["groups"]}, sort_keys=False))
    return target


def prometheus_json(url: str, path: str, **params: str) -> Any:
    import urllib.request

    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    with urllib.request.urlopen(f"{url}{path}{query}", timeout=5) as response:
        return json.load(response)["data"]


def wait_for_monitoring(prometheus: str) -> None:
    """Until Prometheus has scraped the exporter a few times and evaluated every rule."""
    def settled() -> bool:
        scrapes = prometheus_json(prometheus, "/api/v1/query",
                                  query='count_over_time(up{job="model-serving"}[1m])')["result"]
        groups = prometheus_json(prometheus, "/api/v1/rules")["groups"]
        evaluated = all(rule.get("health") == "ok" for group in groups for rule in group["rules"])
        return bool(scrapes) and float(scrapes[0]["value"][1]) >= 3 and evaluated

    deadline = time.monotonic() + PROMETHEUS_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if settled():
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise DemoError(f"Prometheus did not scrape the exporter within {PROMETHEUS_TIMEOUT:.0f} s")


def write_platform_config(out: Path, mlflow: str, prometheus: str) -> Path:
    sources: list[dict[str, Any]] = [
        {"type": "repo", "name": system.example, "path": f"repos/{system.example}"} for system in SYSTEMS
    ]
    sources += [
        {"type": "mlflow", "name": "mlflow", "tracking_uri": mlflow},
        {"type": "prometheus", "name": "prometheus", "url": prometheus, "lookback_days": 30},
    ]
    # ML systems are found by correlation (MLflow lineage to repositories, model labels in
    # Prometheus); one is declared by hand to give it a name: its repository also names the
    # Azure ML asset `azureml:demand-forecast@latest`.
    systems = {"demand-forecast": {"repos": ["github:grocer-analytics/demand-forecast"]}}
    config = out / "platform.yaml"
    config.write_text(
        "# The demo platform: five teams' repositories, their MLflow server and their Prometheus.\n"
        "# Written by examples/demo_platform/demo.py; the services it names are stopped after the scan.\n"
        + yaml.safe_dump({"name": "demo-platform", "models": MODELS, "systems": systems,
                          "sources": sources}, sort_keys=False)
    )
    return config


def maturity_probe(out: Path, *args: str) -> None:
    """Run the real command line in the demo directory, showing the command."""
    print(f"$ maturity-probe {' '.join(args)}", flush=True)
    done = subprocess.run([find_executable("maturity-probe", "pip install -e ."), *args], cwd=out)
    if done.returncode != 0:
        raise DemoError(f"maturity-probe {args[0]} exited with status {done.returncode}")


def summary(assessment: dict[str, Any]) -> str:
    """A table of the ML systems found: the level per maturity model, and which sources
    saw each one."""
    source_of = {item["id"]: item["source"] for item in assessment["evidence"]}
    rows = [["ML system", *MODELS, "evidence from"]]
    systems = sorted(assessment["systems"].values(),
                     key=lambda s: [-s["maturity"][m]["level"] for m in MODELS] + [s["name"]])
    for system in systems:
        levels = [("≥" if system["maturity"][m]["at_least"] else "") + str(system["maturity"][m]["level"])
                  for m in MODELS]
        seen_by = sorted({source_of[e] for e in system["evidence"]})
        rows.append([system["name"], *levels, ", ".join(seen_by)])
    platform = assessment["maturity"]
    rows.append(["(whole platform)", *(str(platform[m]["level"]) for m in MODELS), ""])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1]
             for row in rows]
    lines += ["", "What holds each system at its Microsoft level (the next level's gaps):"]
    for system in systems:
        next_level = system["maturity"]["microsoft"]["next_level"]
        if next_level:
            gaps = "; ".join(f"{gap['title']} ({gap['status']})" for gap in next_level["gaps"][:2])
            more = len(next_level["gaps"]) - 2
            lines.append(f"  {system['name']} → {next_level['level']}: {gaps}"
                         + (f"; {more} more" if more > 0 else ""))
    failed = [s["name"] for s in assessment["sources"] if s["status"] != "ok"]
    lines += ["", f"{len(assessment['sources'])} sources scanned"
              + (f", not ok: {', '.join(failed)}" if failed else ", all ok")]
    return "\n".join(["", *(("  " + line).rstrip() for line in lines)])


def run(out: Path, services: Services) -> str:
    now = datetime.now(UTC).replace(microsecond=0)
    say(f"Building {len(SYSTEMS)} example repositories in {out / 'repos'}")
    commits: dict[str, list[Commit]] = {}
    for system in SYSTEMS:
        span = timedelta(days=system.training.every_days * system.training.runs + 14)
        commits[system.example] = build_repo(system.example, system.remote, out / "repos",
                                             first=now - span, now=now)
        print(f"    {system.example:<24}{system.story}")

    say("Starting MLflow, Prometheus and a model-metrics exporter on 127.0.0.1")
    mlflow = services.start_mlflow()
    exporter = services.start_exporter()
    rules = [operator_rule_file(FRAUD_RULES, out / "fraud-detector-rules.yml"),
             HERE / "prometheus" / "churn-classifier.yml", HERE / "prometheus" / "platform.yml"]
    prometheus = services.start_prometheus(rules, exporter)
    services.wait_until("exporter", lambda: http_ok(f"http://{exporter}/metrics"), 15)
    services.wait_until("prometheus", lambda: http_ok(f"{prometheus}/-/ready"), PROMETHEUS_TIMEOUT)
    print(f"    Prometheus  {prometheus}   (scraping the exporter at {exporter})")
    services.wait_until("mlflow", lambda: http_ok(f"{mlflow}/health"), 120)
    print(f"    MLflow      {mlflow}")

    say("Seeding MLflow with the teams' training runs, models, versions and aliases")
    seed(mlflow, out / "mlflow" / "mlflow.db", SYSTEMS, commits, now)
    wait_for_monitoring(prometheus)

    say("Scanning the platform")
    config = write_platform_config(out, mlflow, prometheus)
    store = "sqlite:///store.db"
    maturity_probe(out, "scan", "--config", config.name, "--store", store, "--format", "json",
                   "--output", "assessment.json")
    maturity_probe(out, "report", "--store", store, "--format", "html", "--output", "report.html")

    say("Stopping the services the demo started")
    services.stop_all()
    return summary(json.loads((out / "assessment.json").read_text(encoding="utf-8")))


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through `finally`, which stops the services


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="directory for the demo's files (default: a new "
                        "temporary directory)")
    args = parser.parse_args(argv)
    out: Path = (args.out or Path(tempfile.mkdtemp(prefix="maturity-probe-demo-"))).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        parser.error(f"{out} is not empty")
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    services = Services(out)
    try:
        table = run(out, services)
    except DemoError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ndemo: interrupted", file=sys.stderr)
        return 130
    finally:
        services.stop_all()
    print(table)
    report = out / "report.html"
    print(f"\nReport: {report}\n        open file://{report} in a browser (it is one self-contained file)")
    print(f"Everything else the demo wrote (platform.yaml, assessment.json, logs) is in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
