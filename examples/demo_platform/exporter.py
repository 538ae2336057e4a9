"""A tiny model-metrics exporter: what the demo platform's model servers and monitoring
jobs would expose to Prometheus, served on 127.0.0.1 at /metrics.

    python exporter.py --port 9700

- churn-classifier (KServe-style model server): prediction counter and latency histogram.
- fraud-detector (the FastAPI scoring service of examples/fraud-platform and its
  monitoring jobs): decisions, latency, missing online features, the Evidently drift
  scores and the 7-day precision that the repository's PrometheusRule alerts on.

Counters grow with time at a fixed request rate, so `rate()` has something to show.
Standard library only: it runs without the project installed.
"""

from __future__ import annotations

import argparse
import http.server
import signal
import sys
import time
from types import FrameType

STARTED = time.monotonic()
LATENCY_BUCKETS = (("0.025", 0.55), ("0.05", 0.82), ("0.1", 0.96), ("0.15", 0.99), ("0.5", 1.0),
                   ("+Inf", 1.0))  # fmt: skip


def family(name: str, kind: str, help_text: str, samples: list[str]) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *samples]


def histogram(name: str, labels: str, count: int, mean_seconds: float) -> list[str]:
    lines = [f'{name}_bucket{{{labels},le="{le}"}} {int(count * share)}' for le, share in LATENCY_BUCKETS]
    return [*lines, f"{name}_sum{{{labels}}} {count * mean_seconds:.3f}", f"{name}_count{{{labels}}} {count}"]


def exposition() -> str:
    """The current values, in Prometheus text format 0.0.4."""
    elapsed = time.monotonic() - STARTED
    churn = int(120 + elapsed * 8)  # ~8 scoring requests per second
    fraud = int(5000 + elapsed * 60)  # ~60 card authorisations per second
    lines: list[str] = []
    lines += family("model_predictions_total", "counter", "Predictions served by the model server.",
                    [f'model_predictions_total{{model="churn-classifier",namespace="retention"}} {churn}'])
    lines += family("model_request_duration_seconds", "histogram", "Latency of prediction requests.",
                    histogram("model_request_duration_seconds", 'model="churn-classifier"', churn, 0.031))
    lines += family("fraud_predictions_total", "counter", "Payments scored, by decision.", [
        f'fraud_predictions_total{{model="fraud-detector",decision="approve"}} {int(fraud * 0.97)}',
        f'fraud_predictions_total{{model="fraud-detector",decision="review"}} {int(fraud * 0.03)}',
    ])
    lines += family("fraud_prediction_latency_seconds", "histogram", "Scoring latency per payment.",
                    histogram("fraud_prediction_latency_seconds", 'model="fraud-detector"', fraud, 0.042))
    lines += family("fraud_feature_missing_total", "counter", "Payments scored without online features.",
                    [f'fraud_feature_missing_total{{model="fraud-detector"}} {int(fraud * 0.004)}'])
    lines += family("evidently_feature_drift_score", "gauge",
                    "Wasserstein distance of a feature from the training reference (Evidently).", [
                        'evidently_feature_drift_score{model="fraud-detector",feature="amount"} 0.07',
                        'evidently_feature_drift_score{model="fraud-detector",feature="merchant_risk"} 0.12',
                    ])
    lines += family("evidently_prediction_drift_score", "gauge",
                    "Drift of the fraud score distribution from the reference window (Evidently).",
                    ['evidently_prediction_drift_score{model="fraud-detector"} 0.04'])
    lines += family("fraud_model_precision_7d", "gauge",
                    "Precision of the last 7 days of reviews, from analyst verdicts.",
                    ['fraud_model_precision_7d{model="fraud-detector"} 0.41'])
    return "\n".join(lines) + "\n"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/metrics":
            self.send_error(404)
            return
        body = exposition().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return  # Prometheus scrapes every second: no access log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
