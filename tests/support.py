"""Small builders for evidence and source statuses, shared repository files, and a local
HTTP server, for tests."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from maturity_probe.evidence import Evidence, SourceState, SourceStatus, Strength, evidence_id

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

# A GitHub Actions workflow that tests on every push and pull request ...
TEST_WORKFLOW = """name: ci
on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install -r requirements.txt
      - run: pytest -q tests
"""
# A churn model's training script (no experiment tracking) ...
TRAIN_SCRIPT = '''\
"""Train the churn classifier on the prepared features."""
import joblib
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier


def main() -> None:
    frame = pd.read_parquet("data/features.parquet")
    model = GradientBoostingClassifier(n_estimators=300, max_depth=3)
    model.fit(frame.drop(columns=["churned"]), frame["churned"])
    joblib.dump(model, "models/churn.joblib")


if __name__ == "__main__":
    main()
'''
# ... and the same, then trains a model.
TEST_AND_TRAIN_WORKFLOW = TEST_WORKFLOW + """  train:
    runs-on: ubuntu-latest
    needs: test
    steps:
      - uses: actions/checkout@v4
      - run: pip install -r requirements.txt
      - run: python src/train.py --data data/churn.csv --out models/churn.joblib
"""


def ev(
    signal: str,
    *,
    locator: str = "file.yml:1",
    strength: Strength = Strength.declared,
    source: str = "repo",
    subject: str = "repo:demo",
    occurred_at: datetime | None = None,
    **attributes: Any,
) -> Evidence:
    path = locator.split(":")[0]
    return Evidence(
        id=evidence_id(source, signal, subject, locator),
        signal=signal,
        subject=subject,
        source=source,
        locator=locator,
        path=path,
        line=1,
        strength=strength,
        summary=f"{signal} at {locator}",
        observed_at=NOW,
        occurred_at=occurred_at,
        attributes=attributes,
    )


def source(name: str = "repo", type_: str = "repo", state: SourceState = SourceState.ok,
           reason: str = "", unavailable: list[str] | None = None) -> SourceStatus:
    return SourceStatus(name=name, type=type_, status=state, reason=reason,
                        unavailable_signals=unavailable or [])


@contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` answering on a free port of 127.0.0.1 (its base URL) until the block ends."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def send_body(handler: http.server.BaseHTTPRequestHandler, status: int, body: bytes,
              content_type: str = "application/json") -> None:
    """Answer the request `handler` holds with `status` and `body`."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
