"""Validate the training table with the Great Expectations suite in gx/ before training.

python -m fraud_detection.validate_data --data gs://.../train --checkpoint transactions_training
"""

from __future__ import annotations

import argparse
import sys

import great_expectations as gx
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--checkpoint", default="transactions_training")
    parser.add_argument("--context", default="gx")
    args = parser.parse_args()

    context = gx.get_context(mode="file", project_root_dir=args.context)
    checkpoint = context.checkpoints.get(args.checkpoint)
    result = checkpoint.run(batch_parameters={"dataframe": pd.read_parquet(args.data)})
    context.build_data_docs()
    if not result.success:
        sys.exit(f"checkpoint {args.checkpoint} failed: the training table does not meet its expectations")
    print(f"checkpoint {args.checkpoint} passed")


if __name__ == "__main__":
    main()
