"""Publish a compiled training pipeline to Kubeflow Pipelines as a new version.

    python pipelines/publish.py build/training_pipeline.yaml --version "$CI_COMMIT_SHORT_SHA"

Run by the `publish-pipeline` CI job on the default branch: production runs always use
the reviewed pipeline of the latest commit.
"""

from __future__ import annotations

import argparse
import os

import kfp

PIPELINE_NAME = "fraud-training"


def client() -> kfp.Client:
    return kfp.Client(host=os.environ["KFP_HOST"], existing_token=os.environ.get("KFP_TOKEN"))


def publish(package: str, version: str) -> str:
    kfp_client = client()
    pipeline_id = kfp_client.get_pipeline_id(PIPELINE_NAME)
    if pipeline_id is None:
        pipeline = kfp_client.upload_pipeline(
            package, pipeline_name=PIPELINE_NAME, description="fraud-detector training pipeline"
        )
        pipeline_id = pipeline.pipeline_id
    published = kfp_client.upload_pipeline_version(package, pipeline_version_name=version, pipeline_id=pipeline_id)
    return published.pipeline_version_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("package")
    parser.add_argument("--version", required=True)
    args = parser.parse_args()
    print(f"{PIPELINE_NAME} version {args.version}: {publish(args.package, args.version)}")


if __name__ == "__main__":
    main()
