"""The sagemaker collector when AWS says no: a refused read makes its signals unknown, a
region that cannot be reached leaves the others going, throttling is retried, and bad
credentials fail the source with one line. Faults come from the proxy in front of moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from moto_server import AwsStack, Fault, moto_stack, seed_account

from maturity_probe.collectors import CollectContext, run_collector
from maturity_probe.collectors.sagemaker import TRIGGERS, SageMakerCollector, SageMakerSource
from maturity_probe.config import ConfigError, load_config
from maturity_probe.evidence import Evidence, SourceState, SourceStatus
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsStack]:
    with moto_stack() as stack:
        yield stack


@pytest.fixture
def account(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> AwsStack:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    aws.reset()
    seed_account(aws, "eu-west-1")
    seed_account(aws, "us-east-1")
    aws.state.requests.clear()
    return aws


def scan(stack: AwsStack, **options: object) -> tuple[list[Evidence], SourceStatus]:
    settings: dict[str, object] = {"regions": ["eu-west-1", "us-east-1"], "max_attempts": 1,
                                   **options}
    config = SageMakerSource(name="aws-prod", endpoint_url=stack.url, **settings)  # type: ignore[arg-type]
    return run_collector(SageMakerCollector(config, CollectContext(now=datetime.now(UTC))))


def regions(evidence: list[Evidence]) -> set[str]:
    return {e.subject.split("/")[1] for e in evidence}


def test_a_refused_read_makes_its_signals_unknown_and_keeps_the_rest(account: AwsStack) -> None:
    account.state.faults.append(Fault(region="eu-west-1", operation="ListRules"))
    evidence, status = scan(account)
    assert status.status == SourceState.partial
    assert status.reason == ("eu-west-1: EventBridge rules: events list_rules: AccessDeniedException "
                             "(HTTP 400): User is not authorized to perform this action")
    assert status.unavailable_signals == sorted(TRIGGERS)
    triggers = [e for e in evidence if e.signal in TRIGGERS]
    assert regions(triggers) == {"us-east-1"}  # the other region still shows them
    assert regions(evidence) == {"eu-west-1", "us-east-1"}
    # the rules' signals are unknown (not unmet) where no evidence shows them
    result = assess(load_rules(), [e for e in evidence if e.signal != "retrain.on_data_change"],
                    [status], now=datetime.now(UTC), target="aws-prod")
    unknown = result.capabilities["retraining_trigger"]
    assert unknown.status.value == "met"  # the schedule of us-east-1 shows it


def test_regions_read_at_once_report_in_config_order(account: AwsStack) -> None:
    """Regions are read concurrently; their evidence and reasons come in config order."""
    for region in ("us-east-1", "eu-west-1"):
        account.state.faults.append(Fault(region=region, operation="ListRules"))
    evidence, status = scan(account)
    assert status.reason.split("; ") == [
        f"{region}: EventBridge rules: events list_rules: AccessDeniedException (HTTP 400): "
        "User is not authorized to perform this action" for region in ("eu-west-1", "us-east-1")]
    order = [e.subject.split("/")[1] for e in evidence]
    assert order == sorted(order, key=["eu-west-1", "us-east-1"].index)  # one region, then the other
    again, status_again = scan(account, regions=["us-east-1", "eu-west-1"])
    assert status_again.reason.split("; ")[0].startswith("us-east-1: ")
    assert {e.id for e in again} == {e.id for e in evidence}
    assert status_again.requests == status.requests


def test_an_unreachable_region_is_partial_and_the_others_go_on(account: AwsStack) -> None:
    account.state.faults.append(Fault(region="us-east-1", operation=None, drop=True))
    evidence, status = scan(account)
    assert status.status == SourceState.partial
    assert status.reason.startswith("region us-east-1 failed: cannot connect: ")
    assert "\n" not in status.reason
    assert regions(evidence) == {"eu-west-1"}
    # the region stops at its first failure: no time spent on each of its reads
    assert {op for region, _, op in account.state.requests if region == "us-east-1"} == {
        "ListModelPackageGroups"}


def test_every_region_failing_fails_the_source(account: AwsStack) -> None:
    account.state.faults.append(Fault(region=None, operation=None, status=400,
                                      code="UnrecognizedClientException",
                                      message="The security token included in the request is invalid."))
    evidence, status = scan(account)
    assert evidence == [] and status.status == SourceState.failed
    assert status.reason == (
        "every region failed: eu-west-1: the credentials were refused (sagemaker "
        "list_model_package_groups: UnrecognizedClientException (HTTP 400): The security token "
        "included in the request is invalid.); us-east-1: the credentials were refused (sagemaker "
        "list_model_package_groups: UnrecognizedClientException (HTTP 400): The security token "
        "included in the request is invalid.)")


def test_throttling_is_retried_by_botocore(account: AwsStack) -> None:
    account.state.faults.append(Fault(region="eu-west-1", operation="ListModelPackages", times=2,
                                      code="ThrottlingException", message="Rate exceeded"))
    evidence, status = scan(account, max_attempts=4, retry_mode="standard")
    assert status.status == SourceState.ok
    assert len(account.state.operations("ListModelPackages", "eu-west-1")) == 3
    assert status.requests == len(account.state.requests)  # retries are counted
    assert any(e.subject.endswith("eu-west-1/model-package-group/churn") for e in evidence)


def test_a_server_error_after_retries_makes_one_area_unknown(account: AwsStack) -> None:
    account.state.faults.append(Fault(region="us-east-1", operation="ListModelCards", status=500,
                                      code="InternalFailure", message="An internal error occurred"))
    _evidence, status = scan(account, max_attempts=2, retry_mode="standard")
    assert status.status == SourceState.partial
    assert status.reason == ("us-east-1: model cards: sagemaker list_model_cards: InternalFailure "
                             "(HTTP 500): An internal error occurred")
    assert status.unavailable_signals == ["governance.model_card"]
    assert len(account.state.operations("ListModelCards", "us-east-1")) == 2


def test_an_assumed_role_reads_the_account(account: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_EXTERNAL_ID", "ext-id-7731-secret")
    evidence, status = scan(account, role_arn="arn:aws:iam::123456789012:role/maturity-probe-read-only",
                            external_id_env="AUDIT_EXTERNAL_ID")
    assert status.status == SourceState.ok
    assert account.state.operations("AssumeRole") == [("eu-west-1", "sts", "AssumeRole")]
    assert regions(evidence) == {"eu-west-1", "us-east-1"}


def test_a_refused_role_fails_the_source_without_its_external_id(
        account: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_EXTERNAL_ID", "ext-id-7731-secret")
    account.state.faults.append(Fault(region=None, operation="AssumeRole", status=403,
                                      code="AccessDenied",
                                      message="Not authorized to perform sts:AssumeRole"))
    evidence, status = scan(account, role_arn="arn:aws:iam::123456789012:role/maturity-probe-read-only",
                            external_id_env="AUDIT_EXTERNAL_ID")
    assert evidence == [] and status.status == SourceState.failed
    assert status.reason == ("cannot assume role arn:aws:iam::123456789012:role/maturity-probe-read-only: "
                             "AccessDenied: Not authorized to perform sts:AssumeRole")
    assert "ext-id-7731-secret" not in status.reason


def test_missing_credentials_and_profiles_fail_the_source(
        aws: AwsStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    _, status = scan(aws)
    assert (status.status, status.reason) == (
        SourceState.failed, "no AWS credentials: set a profile, a role the environment can assume, "
                            "or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY")
    _, status = scan(aws, profile="ml-audit")
    assert (status.status, status.reason) == (SourceState.failed,
                                              "AWS profile 'ml-audit' is not configured")


def test_region_names_are_checked_with_their_line(tmp_path: Path) -> None:
    file = tmp_path / "platform.yaml"
    file.write_text("sources:\n  - type: sagemaker\n    name: aws-prod\n"
                    "    regions: [eu-west-1, Ireland]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert caught.value.problems == [
        f"{file}:4: sources.0.regions: 'Ireland' is not an AWS region name (e.g. eu-west-1)"]
    file.write_text(json.dumps({"sources": [{"type": "sagemaker", "name": "x", "regions": []}]}))
    with pytest.raises(ConfigError):
        load_config(file)
