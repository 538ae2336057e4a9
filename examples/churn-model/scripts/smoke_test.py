"""Send two known customers to a deployed churn-classifier and check the answer's shape.

python scripts/smoke_test.py --url https://churn-classifier.churn-staging.ml.acme-telco.internal
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request

CUSTOMERS = {
    "customer_id": ["SMOKE-1", "SMOKE-2"],
    "snapshot_date": ["2025-12-31", "2025-12-31"],
    "signup_date": ["2019-03-14", "2025-11-02"],
    "plan": ["family", "basic"],
    "contract": ["two_year", "monthly"],
    "payment_method": ["direct_debit", "invoice"],
    "autopay": [True, False],
    "region": ["north", "west"],
    "monthly_charges": [61.5, 21.0],
    "data_gb_30d": [48.2, 0.4],
    "calls_30d": [120, 3],
    "support_tickets_90d": [0, 4],
    "late_payments_12m": [0, 2],
}


def v2_request(columns: dict[str, list]) -> dict:
    """An open-inference-protocol request with one input per column (pandas codec)."""

    def datatype(values: list) -> str:
        if all(isinstance(v, bool) for v in values):
            return "BOOL"
        if all(isinstance(v, int) for v in values):
            return "INT64"
        if all(isinstance(v, float) for v in values):
            return "FP64"
        return "BYTES"

    return {
        "parameters": {"content_type": "pd"},
        "inputs": [
            {"name": name, "shape": [len(values)], "datatype": datatype(values), "data": values}
            for name, values in columns.items()
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()

    body = json.dumps(v2_request(CUSTOMERS)).encode()
    request = urllib.request.Request(
        f"{args.url}/v2/models/churn-classifier/infer", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=args.timeout) as response:
        answer = json.load(response)
    outputs = {o["name"]: o["data"] for o in answer["outputs"]}
    probabilities = outputs.get("churn_probability", [])
    if len(probabilities) != 2 or not all(0 <= p <= 1 for p in probabilities):
        sys.exit(f"unexpected answer: {answer}")
    if probabilities[1] <= probabilities[0]:
        sys.exit(f"a new, unhappy monthly customer should score above a loyal one: {probabilities}")
    print(f"ok: {dict(zip(CUSTOMERS['customer_id'], probabilities, strict=True))}")


if __name__ == "__main__":
    main()
