"""The `sagemaker` collector: what an AWS account runs for ML, region by region.

With boto3 it reads, in each configured region: model package groups and all their
versioned packages (one paginated listing for the whole registry, never one per group:
approval statuses show gated releases), pipelines, their definitions and recent
executions (automated training, `verified` by a recent success), endpoints and their
configs (live variants and traffic split, data capture), endpoint autoscaling,
monitoring schedules and their recent executions (one listing for all schedules),
EventBridge rules that start SageMaker pipelines (schedules, alarm patterns and new-data
patterns are retraining triggers), CloudWatch alarms on endpoint and Model Monitor
metrics, and model cards.

Listings use botocore paginators; throttling and 5xx answers are retried by botocore's
retry modes (`adaptive` by default). A service that refuses one kind of read
(AccessDenied) makes the signals it could show unknown and the source `partial`; a
region that cannot be reached at all is `partial` with the region in the reason, and
the other regions go on. Regions are read at once; their evidence and reasons come in
config order. Credentials come from the environment, a profile, or an assumed (read-only)
role, never from the config.

The live-data classifications are shared with the repository detectors: EventBridge
patterns and targets (monitoring.alarm_event_pattern / targets_sagemaker_pipeline),
alarm categories (monitoring.classify_alert_rule) and pipeline step kinds
(pipelines.class_kinds / name_kinds).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, field_validator

from maturity_probe import requestlog
from maturity_probe.collectors import CollectContext, Collector, SourceConfig, SourceError
from maturity_probe.config import secret_from_env
from maturity_probe.detectors.monitoring import (
    alarm_event_pattern,
    classify_alert_rule,
    targets_sagemaker_pipeline,
)
from maturity_probe.detectors.pipelines import STEP_KINDS, class_kinds, name_kinds
from maturity_probe.errors import first_line
from maturity_probe.evidence import Evidence, JsonValue, Strength

INSTALL_HINT = "the sagemaker collector needs `pip install 'maturity-probe[aws]'`"

REGISTRY = ["registry.model_registered", "registry.model_documented", "ci.gated_release"]
PIPELINES = ["pipeline.orchestrated", "pipeline.data_preparation", "quality.model_validation"]
ENDPOINTS = ["serving.model_server", "serving.progressive_delivery", "monitor.model_metrics"]
AUTOSCALING = ["serving.autoscaling"]
MONITORS = ["monitor.drift_detection", "quality.bias_explainability"]
TRIGGERS = ["retrain.scheduled", "retrain.on_alert", "retrain.on_data_change"]
ALARMS = ["monitor.drift_alert_rule", "monitor.model_alert_rule"]
CARDS = ["governance.model_card"]
SIGNALS = frozenset(REGISTRY + PIPELINES + ENDPOINTS + AUTOSCALING + MONITORS + TRIGGERS
                    + ALARMS + CARDS)

# Errors that say the credentials themselves do not work: every read would fail alike.
CREDENTIAL_ERRORS = frozenset({"UnrecognizedClientException", "InvalidClientTokenId",
                               "ExpiredToken", "ExpiredTokenException", "InvalidSignatureException",
                               "SignatureDoesNotMatch", "AuthFailure", "MissingAuthenticationToken"})
LIVE_ENDPOINT_STATES = frozenset({"InService", "Updating", "SystemUpdating", "RollingBack"})
DONE_MONITORING = frozenset({"Completed", "CompletedWithViolations"})
DRIFT_MONITORS = frozenset({"DataQuality", "ModelQuality"})
BIAS_MONITORS = frozenset({"ModelBias", "ModelExplainability"})
ALARM_NAMESPACES = ("AWS/SageMaker", "/aws/sagemaker/")
MAX_STEP_DEPTH = 8


class SageMakerSource(SourceConfig):
    """An AWS account's SageMaker, EventBridge and CloudWatch, in one or more regions."""

    type: Literal["sagemaker"] = "sagemaker"
    regions: list[str] = Field(min_length=1, description="AWS regions to read, e.g. [eu-west-1].")
    profile: str | None = Field(None, description="AWS profile (default: the environment's credentials).")
    role_arn: str | None = Field(None, description="A read-only role to assume first.")
    external_id_env: str | None = Field(None, description="Environment variable holding the "
                                        "external ID the role requires.")
    endpoint_url: str | None = Field(None, description="One endpoint for every AWS API "
                                     "(tests, compatible implementations).")
    timeout_seconds: int = Field(30, ge=1, le=600, description="Connect and read timeout of each request.")
    max_attempts: int = Field(6, ge=1, le=20, description="Attempts of a throttled or failing "
                              "request, retries included (botocore retry modes).")
    retry_mode: Literal["standard", "adaptive"] = Field(
        "adaptive", description="botocore retry mode; `adaptive` also slows down when throttled.")
    page_size: int = Field(100, ge=1, le=100, description="Items per list request.")

    @field_validator("regions")
    @classmethod
    def _region_names(cls, value: list[str]) -> list[str]:
        for region in value:
            if not re.match(r"^[a-z]{2}(-[a-z]+)+-\d+$", region):
                raise ValueError(f"{region!r} is not an AWS region name (e.g. eu-west-1)")
        return list(dict.fromkeys(value))


class AreaError(Exception):
    """One kind of read failed in a region; the message is the one-line reason."""


class RegionError(Exception):
    """A region cannot be read at all (network, credentials); the one-line reason."""


@dataclass
class PipelineFacts:
    name: str
    arn: str
    steps: list[tuple[str, str]]  # (name, type), nested steps included
    executions: list[dict[str, Any]] = field(default_factory=list)

    def last_success(self) -> datetime | None:
        times = [e.get("StartTime") for e in self.executions
                 if e.get("PipelineExecutionStatus") == "Succeeded"]
        known = [t for t in times if isinstance(t, datetime)]
        return max(known) if known else None

    def last_start(self) -> datetime | None:
        known = [t for e in self.executions if isinstance(t := e.get("StartTime"), datetime)]
        return max(known) if known else None


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def pipeline_steps(definition: Any) -> list[tuple[str, str]]:
    """(name, type) of every step of a SageMaker pipeline definition, branches included."""
    try:
        document = json.loads(definition) if isinstance(definition, str) else definition
    except ValueError:
        return []
    found: list[tuple[str, str]] = []

    def walk(steps: Any, depth: int) -> None:
        if depth > MAX_STEP_DEPTH or not isinstance(steps, list):
            return
        for step in steps:
            if not isinstance(step, dict):
                continue
            found.append((str(step.get("Name") or ""), str(step.get("Type") or "")))
            arguments = step.get("Arguments")
            if isinstance(arguments, dict):
                walk(arguments.get("IfSteps"), depth + 1)
                walk(arguments.get("ElseSteps"), depth + 1)

    walk(document.get("Steps") if isinstance(document, dict) else None, 0)
    return found


def step_kinds(name: str, step_type: str) -> set[str]:
    """Kinds of work a step does, from its type (`Training`) and its name (`EvaluateModel`)."""
    kinds = class_kinds(step_type) | name_kinds(name)
    if step_type in ("RegisterModel",):
        kinds.add("register")
    return kinds


class SageMakerCollector(Collector):
    """Reads SageMaker, EventBridge, CloudWatch and Application Auto Scaling, region by region."""

    type = "sagemaker"
    config_model = SageMakerSource
    shardable = True  # regions are partitioned

    def __init__(self, config: SageMakerSource, ctx: CollectContext) -> None:
        super().__init__(config, ctx)
        self.config: SageMakerSource = config
        self.since = ctx.now - timedelta(days=config.lookback_days)
        self.lock = threading.Lock()  # the regions' threads count requests and make clients

    @classmethod
    def signals(cls) -> frozenset[str]:
        return SIGNALS

    def collect(self) -> Iterator[Evidence]:
        # a sharded scan reads the regions its shard owns
        regions = [r for r in self.config.regions if self.ctx.owns(self.region_key(r))]
        if not regions:
            return
        session = self.session()
        readers = [RegionReader(self, session, region) for region in regions]
        # regions are read at once; their evidence and problems are taken in config order
        with ThreadPoolExecutor(len(readers), requestlog.worker_prefix("region")) as pool:
            outcomes = list(pool.map(RegionReader.read_all, readers))
        failed: list[str] = []
        for reader, (evidence, error) in zip(readers, outcomes, strict=True):
            for reason, signals in reader.problems:
                self.partial(reason, signals)
            if error is not None:
                failed.append(f"{reader.region}: {error}")
                self.partial(f"region {reader.region} failed: {error}", sorted(SIGNALS))
            yield from evidence
        if failed and len(failed) == len(regions):
            raise SourceError("every region failed: " + "; ".join(failed))

    def region_key(self, region: str) -> str:
        return f"sagemaker:{self.config.name}/{region}"

    # -- credentials -------------------------------------------------------------------------
    def session(self) -> Any:
        try:
            import boto3
            import botocore.exceptions as errors
        except ImportError as exc:
            raise SourceError(INSTALL_HINT) from exc
        try:
            session = boto3.Session(profile_name=self.config.profile)
        except errors.ProfileNotFound as exc:
            raise SourceError(f"AWS profile {self.config.profile!r} is not configured") from exc
        if session.get_credentials() is None:
            raise SourceError("no AWS credentials: set a profile, a role the environment can "
                              "assume, or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY")
        if not self.config.role_arn:
            return session
        sts = session.client("sts", region_name=self.config.regions[0],
                             endpoint_url=self.config.endpoint_url, config=self.botocore_config())
        self.count_requests(sts)
        request: dict[str, Any] = {"RoleArn": self.config.role_arn,
                                   "RoleSessionName": "maturity-probe", "DurationSeconds": 3600}
        external_id = secret_from_env(self.config.external_id_env)
        if external_id:
            request["ExternalId"] = external_id
        try:
            credentials = sts.assume_role(**request)["Credentials"]
        except errors.ClientError as exc:
            error = exc.response.get("Error", {})
            raise SourceError(f"cannot assume role {self.config.role_arn}: "
                              f"{error.get('Code', 'error')}: {first_line(error.get('Message', ''))}"
                              ) from exc
        except errors.BotoCoreError as exc:
            raise SourceError(f"cannot assume role {self.config.role_arn}: "
                              f"{first_line(str(exc))}") from exc
        return boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                             aws_secret_access_key=credentials["SecretAccessKey"],
                             aws_session_token=credentials["SessionToken"])

    def botocore_config(self, region: str | None = None) -> Any:
        from botocore.config import Config

        return Config(region_name=region,
                      retries={"mode": self.config.retry_mode,
                               "total_max_attempts": self.config.max_attempts},
                      connect_timeout=self.config.timeout_seconds,
                      read_timeout=self.config.timeout_seconds,
                      user_agent_extra="maturity-probe")

    def count_requests(self, client: Any) -> None:
        """Count every HTTP request a client sends, retries included."""
        def count(**_: Any) -> None:
            with self.lock:
                self.status.requests += 1

        client.meta.events.register("before-send", count)

    # -- evidence helpers ----------------------------------------------------------------------
    def subject(self, region: str, kind: str, name: str) -> str:
        return f"sagemaker:{self.config.name}/{region}/{kind}/{name}"

    def recent(self, moment: Any) -> bool:
        return isinstance(moment, datetime) and moment >= self.since


class RegionReader:
    """The reads of one region; each area fails on its own, the region only on network or
    credential errors."""

    def __init__(self, collector: SageMakerCollector, session: Any, region: str) -> None:
        self.collector = collector
        self.config = collector.config
        self.region = region
        self.session = session
        self.clients: dict[str, Any] = {}
        self.pipelines: dict[str, PipelineFacts] = {}
        self.endpoint_states: dict[str, str] = {}
        self.problems: list[tuple[str, list[str]]] = []  # (reason, signals) of failed areas

    def client(self, service: str) -> Any:
        if service not in self.clients:
            with self.collector.lock:  # a boto3 session is not thread-safe; its clients are
                client = self.session.client(service, region_name=self.region,
                                             endpoint_url=self.config.endpoint_url,
                                             config=self.collector.botocore_config(self.region))
            self.collector.count_requests(client)
            self.clients[service] = client
        return self.clients[service]

    def read_all(self) -> tuple[list[Evidence], str | None]:
        """The region's evidence, or what it had and why the region failed."""
        evidence: list[Evidence] = []
        try:
            evidence.extend(self.read())
        except RegionError as error:
            return evidence, str(error)
        return evidence, None

    def read(self) -> Iterator[Evidence]:
        areas: list[tuple[str, list[str], Callable[[], Iterator[Evidence]]]] = [
            ("model registry", REGISTRY, self.registry),
            ("pipelines", PIPELINES, self.pipeline_evidence),
            ("endpoints", ENDPOINTS, self.endpoints),
            ("endpoint autoscaling", AUTOSCALING, self.autoscaling),
            ("monitoring schedules", MONITORS, self.monitors),
            ("EventBridge rules", TRIGGERS, self.triggers),
            ("CloudWatch alarms", ALARMS, self.alarms),
            ("model cards", CARDS, self.model_cards),
        ]
        for area, signals, read in areas:
            try:
                found = list(read())  # an area is read whole before its evidence counts
            except AreaError as error:
                self.problems.append((f"{self.region}: {area}: {error}", signals))
                continue
            yield from found

    # -- requests ----------------------------------------------------------------------------
    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self.guarded(
            lambda: getattr(self.client(service), operation)(**params), f"{service} {operation}")
        return answer

    def pages(self, service: str, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paginated listing."""
        def read() -> list[dict[str, Any]]:
            paginator = self.client(service).get_paginator(operation)
            items: list[dict[str, Any]] = []
            for page in paginator.paginate(**params,
                                           PaginationConfig={"PageSize": self.config.page_size}):
                items.extend(i for i in page.get(key, []) if isinstance(i, dict))
            return items

        items: list[dict[str, Any]] = self.guarded(read, f"{service} {operation}")
        return items

    def guarded(self, request: Callable[[], Any], what: str) -> Any:
        import botocore.exceptions as errors

        try:
            return request()
        except errors.ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code") or "error")
            message = first_line(error.get("Message") or "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            reason = f"{what}: {code}" + (f" (HTTP {status})" if status else "") + (
                f": {message}" if message else "")
            if code in CREDENTIAL_ERRORS:
                raise RegionError(f"the credentials were refused ({reason})") from exc
            raise AreaError(reason) from exc
        except (errors.EndpointConnectionError, errors.ConnectTimeoutError,
                errors.ConnectionClosedError) as exc:
            raise RegionError(f"cannot connect: {first_line(str(exc))}") from exc
        except errors.ReadTimeoutError as exc:
            raise RegionError(f"no answer within {self.config.timeout_seconds} s "
                              f"({what})") from exc
        except errors.NoCredentialsError as exc:
            raise RegionError("no AWS credentials") from exc
        except errors.BotoCoreError as exc:
            raise AreaError(f"{what}: {first_line(str(exc))}") from exc

    def evidence(self, **fields: Any) -> Evidence:
        return self.collector.evidence(**fields)

    def subject(self, kind: str, name: str) -> str:
        return self.collector.subject(self.region, kind, name)

    # -- model registry ------------------------------------------------------------------------
    def registry(self) -> Iterator[Evidence]:
        groups = self.pages("sagemaker", "list_model_package_groups", "ModelPackageGroupSummaryList")
        packages = self.pages("sagemaker", "list_model_packages", "ModelPackageSummaryList",
                              ModelPackageType="Versioned")
        by_group: dict[str, list[dict[str, Any]]] = {}
        for package in packages:
            by_group.setdefault(str(package.get("ModelPackageGroupName") or ""), []).append(package)
        for group in groups:
            name = str(group.get("ModelPackageGroupName") or "")
            if not name:
                continue
            versions = sorted(by_group.get(name, []),
                              key=lambda p: int(p.get("ModelPackageVersion") or 0))
            yield from self.group_evidence(group, name, versions)

    def group_evidence(self, group: dict[str, Any], name: str, versions: list[dict[str, Any]]
                       ) -> Iterator[Evidence]:
        collector = self.collector
        subject = self.subject("model-package-group", name)
        locator = str(group.get("ModelPackageGroupArn") or subject)
        statuses = [str(v.get("ModelApprovalStatus") or "") for v in versions]
        approved = [v for v in versions if v.get("ModelApprovalStatus") == "Approved"]
        pending = statuses.count("PendingManualApproval")
        rejected = statuses.count("Rejected")
        newest = versions[-1] if versions else None
        created = newest.get("CreationTime") if newest else group.get("CreationTime")
        counts: dict[str, JsonValue] = {
            "versions": len(versions), "approved_versions": len(approved),
            "pending_versions": pending, "rejected_versions": rejected,
        }
        if newest is not None:
            counts["latest_version"] = newest.get("ModelPackageVersion")
            counts["latest_approval_status"] = newest.get("ModelApprovalStatus")
        recent = collector.recent(created) and newest is not None
        yield self.evidence(
            signal="registry.model_registered", subject=subject, locator=locator,
            strength=Strength.active if recent else Strength.declared,
            summary=(f"model package group `{name}` in {self.region} holds "
                     f"{_plural(len(versions), 'version')} ({len(approved)} approved, {pending} "
                     f"pending, {rejected} rejected)"
                     + (f"; version {counts['latest_version']} was registered on "
                        f"{_day(created)}" if recent and isinstance(created, datetime) else "")),
            occurred_at=created if isinstance(created, datetime) else None,
            attributes=counts, links=[f"model:{name}"])
        description = str(group.get("ModelPackageGroupDescription") or "").strip()
        if description:
            yield self.evidence(
                signal="registry.model_documented", subject=subject, locator=locator,
                strength=Strength.declared,
                summary=f"model package group `{name}` has a {len(description)}-character description",
                attributes={"description_chars": len(description)}, links=[f"model:{name}"])
        if pending or rejected:
            yield from self.gate_evidence(name, subject, locator, approved, pending, rejected, counts)

    def gate_evidence(self, name: str, subject: str, locator: str, approved: list[dict[str, Any]],
                      pending: int, rejected: int, counts: dict[str, JsonValue]
                      ) -> Iterator[Evidence]:
        """Versions wait for (or were refused) an approval: releases go through a gate."""
        collector = self.collector
        last_approved = max((a["CreationTime"] for a in approved
                             if isinstance(a.get("CreationTime"), datetime)), default=None)
        if collector.recent(last_approved):
            assert last_approved is not None
            strength = Strength.verified
            note = f"; a version registered on {_day(last_approved)} was approved"
        elif pending:
            strength, note = Strength.active, f"; {_plural(pending, 'version')} awaiting approval"
        else:
            strength, note = Strength.declared, ""
        yield self.evidence(
            signal="ci.gated_release", subject=subject, locator=locator, strength=strength,
            summary=(f"model package group `{name}` in {self.region} gates releases on manual "
                     f"approval ({len(approved)} approved, {pending} pending, {rejected} rejected)"
                     + note),
            occurred_at=last_approved if strength == Strength.verified else None,
            attributes={**counts, "gate": "sagemaker-model-approval"}, links=[f"model:{name}"])

    # -- pipelines ------------------------------------------------------------------------------
    def read_pipelines(self) -> dict[str, PipelineFacts]:
        """Pipelines, their steps, and the recent executions of those that ran lately."""
        if self.pipelines:
            return self.pipelines
        for summary in self.pages("sagemaker", "list_pipelines", "PipelineSummaries"):
            name = str(summary.get("PipelineName") or "")
            if not name:
                continue
            described = self.call("sagemaker", "describe_pipeline", PipelineName=name)
            facts = PipelineFacts(name, str(summary.get("PipelineArn") or ""),
                                  pipeline_steps(described.get("PipelineDefinition")))
            last = summary.get("LastExecutionTime")
            if last is None or self.collector.recent(last):  # older runs cannot verify anything
                facts.executions = self.call(
                    "sagemaker", "list_pipeline_executions", PipelineName=name,
                    SortBy="CreationTime", SortOrder="Descending", MaxResults=self.config.page_size,
                ).get("PipelineExecutionSummaries", [])
            self.pipelines[name] = facts
        return self.pipelines

    def run_strength(self, facts: PipelineFacts) -> tuple[Strength, datetime | None, str,
                                                          dict[str, JsonValue]]:
        collector = self.collector
        success, start = facts.last_success(), facts.last_start()
        recent = [e for e in facts.executions if collector.recent(e.get("StartTime"))]
        attrs: dict[str, JsonValue] = {
            "executions_in_lookback": len(recent),
            "successful_executions_in_lookback": sum(
                1 for e in recent if e.get("PipelineExecutionStatus") == "Succeeded"),
        }
        if collector.recent(success):
            assert success is not None
            attrs["last_success"] = success.isoformat()
            return Strength.verified, success, f"an execution succeeded on {_day(success)}", attrs
        if collector.recent(start):
            assert start is not None
            status = next((str(e.get("PipelineExecutionStatus")) for e in facts.executions
                           if e.get("StartTime") == start), "")
            return (Strength.active, start, f"it last ran on {_day(start)} ({status}), with no "
                    f"success in the last {self.config.lookback_days} days", attrs)
        return (Strength.declared, None,
                f"it has not run in the last {self.config.lookback_days} days", attrs)

    def pipeline_evidence(self) -> Iterator[Evidence]:
        for facts in self.read_pipelines().values():
            subject = self.subject("pipeline", facts.name)
            kinds_by_step = [(n, t, step_kinds(n, t)) for n, t in facts.steps]
            kinds = [k for k in STEP_KINDS if any(k in ks for _, _, ks in kinds_by_step)]
            strength, when, note, attrs = self.run_strength(facts)
            stages = [n for n, _, _ in kinds_by_step][:20]
            shown = "; ".join(f"{n} ({t})" for n, t, _ in kinds_by_step[:6])
            common = {"framework": "sagemaker", "name": facts.name, **attrs}
            yield self.evidence(
                signal="pipeline.orchestrated", subject=subject, locator=facts.arn or subject,
                strength=strength, occurred_at=when,
                summary=(f"SageMaker pipeline `{facts.name}` in {self.region} orchestrates "
                         f"{_plural(len(facts.steps), 'step')}: {shown}; {note}"),
                attributes={**common, "steps": kinds, "stages": stages})
            prepare = next(((n, t) for n, t, ks in kinds_by_step if ks & {"prepare", "featurize"}),
                           None)
            if prepare is not None:
                yield self.evidence(
                    signal="pipeline.data_preparation", subject=subject,
                    locator=facts.arn or subject, strength=strength, occurred_at=when,
                    summary=(f"step {prepare[0]} ({prepare[1]}) of SageMaker pipeline "
                             f"`{facts.name}` prepares data; {note}"),
                    attributes={**common, "step": prepare[0]})
            gate = self.validation_gate(kinds_by_step)
            if gate is not None:
                yield self.evidence(
                    signal="quality.model_validation", subject=subject,
                    locator=facts.arn or subject, strength=strength, occurred_at=when,
                    summary=f"SageMaker pipeline `{facts.name}` {gate}; {note}",
                    attributes={**common, "kind": "pipeline_gate"})

    @staticmethod
    def validation_gate(steps: list[tuple[str, str, set[str]]]) -> str | None:
        """A step that stops the pipeline unless the model passed an evaluation."""
        for name, step_type, _ in steps:
            if step_type in ("QualityCheck", "ClarifyCheck"):
                return f"fails when the {step_type} step `{name}` finds violations"
        evaluates = any("evaluate" in kinds for _, _, kinds in steps)
        condition = next((n for n, t, _ in steps if t == "Condition"), None)
        if condition and evaluates:
            return f"lets later steps run only when condition step `{condition}` holds on the evaluation"
        return None

    # -- endpoints ------------------------------------------------------------------------------
    def endpoints(self) -> Iterator[Evidence]:
        for summary in self.pages("sagemaker", "list_endpoints", "Endpoints"):
            name = str(summary.get("EndpointName") or "")
            if not name:
                continue
            endpoint = self.call("sagemaker", "describe_endpoint", EndpointName=name)
            config_name = str(endpoint.get("EndpointConfigName") or "")
            config = self.call("sagemaker", "describe_endpoint_config",
                               EndpointConfigName=config_name) if config_name else {}
            self.endpoint_states[name] = str(endpoint.get("EndpointStatus") or "")
            yield from self.endpoint_evidence(name, endpoint, config)

    def endpoint_evidence(self, name: str, endpoint: dict[str, Any], config: dict[str, Any]
                          ) -> Iterator[Evidence]:
        subject = self.subject("endpoint", name)
        locator = str(endpoint.get("EndpointArn") or subject)
        status = str(endpoint.get("EndpointStatus") or "")
        live = status in LIVE_ENDPOINT_STATES
        configured = {str(v.get("VariantName")): v for v in config.get("ProductionVariants", [])
                      if isinstance(v, dict)}
        variants = [v for v in endpoint.get("ProductionVariants", []) if isinstance(v, dict)] or list(
            configured.values())
        models = sorted({str(v.get("ModelName")) for v in configured.values() if v.get("ModelName")})
        instances = sorted({str(v.get("InstanceType")) for v in configured.values()
                            if v.get("InstanceType")})
        modified = endpoint.get("LastModifiedTime")
        attrs: dict[str, JsonValue] = {"server": "sagemaker", "status": status,
                                       "variants": len(variants), "models": models,
                                       "instance_types": instances}
        state = f"it is {status}" if status else "its status is unknown"
        yield self.evidence(
            signal="serving.model_server", subject=subject, locator=locator,
            strength=Strength.active if live else Strength.declared,
            summary=(f"SageMaker endpoint `{name}` in {self.region} serves "
                     f"{', '.join(models) or 'a model'}"
                     + (f" on {', '.join(instances)}" if instances else "") + f"; {state}"),
            occurred_at=modified if live and isinstance(modified, datetime) else None,
            attributes=attrs)
        weights: dict[str, float] = {}
        for variant in variants:
            variant_name = str(variant.get("VariantName"))
            weight = variant.get("CurrentWeight",
                                 configured.get(variant_name, {}).get("InitialVariantWeight"))
            if isinstance(weight, int | float) and weight > 0:
                weights[variant_name] = float(weight)
        shadows = endpoint.get("ShadowProductionVariants") or config.get("ShadowProductionVariants")
        if len(weights) > 1 or shadows:
            total = sum(weights.values()) or 1.0
            traffic: dict[str, JsonValue] = {v: round(100 * w / total, 1) for v, w in weights.items()}
            strategy = "shadow" if shadows else "split"
            shown = ", ".join(f"{p}% to {v}" for v, p in traffic.items())
            yield self.evidence(
                signal="serving.progressive_delivery", subject=subject, locator=locator,
                strength=Strength.active if live else Strength.declared,
                summary=(f"SageMaker endpoint `{name}` in {self.region} "
                         + (f"splits traffic between variants ({shown})" if strategy == "split"
                            else "mirrors traffic to shadow variants") + f"; {state}"),
                attributes={"server": "sagemaker", "strategy": strategy, "traffic": traffic})
        yield from self.capture_evidence(name, subject, locator, endpoint, config, live, state)

    def capture_evidence(self, name: str, subject: str, locator: str, endpoint: dict[str, Any],
                         config: dict[str, Any], live: bool, state: str) -> Iterator[Evidence]:
        capture = endpoint.get("DataCaptureConfig") or {}
        configured = config.get("DataCaptureConfig") or {}
        if not (capture.get("EnableCapture") or configured.get("EnableCapture")):
            return
        capturing = capture.get("CaptureStatus", "Started") != "Stopped"
        percent = capture.get("CurrentSamplingPercentage",
                              configured.get("InitialSamplingPercentage"))
        destination = str(capture.get("DestinationS3Uri") or configured.get("DestinationS3Uri") or "")
        yield self.evidence(
            signal="monitor.model_metrics", subject=subject, locator=locator,
            strength=Strength.active if live and capturing else Strength.declared,
            summary=(f"SageMaker endpoint `{name}` in {self.region} captures "
                     f"{f'{percent}% of ' if percent is not None else ''}its requests and "
                     f"predictions for monitoring" + (f" to {destination}" if destination else "")
                     + f"; {state}"),
            attributes={"source": "data_capture", "sampling_percent": percent,
                        "destination": destination})

    # -- endpoint autoscaling --------------------------------------------------------------------
    def autoscaling(self) -> Iterator[Evidence]:
        targets = self.pages("application-autoscaling", "describe_scalable_targets",
                             "ScalableTargets", ServiceNamespace="sagemaker")
        if not targets:
            return
        policies = self.pages("application-autoscaling", "describe_scaling_policies",
                              "ScalingPolicies", ServiceNamespace="sagemaker")
        policy_names: dict[str, list[str]] = {}
        for policy in policies:
            policy_names.setdefault(str(policy.get("ResourceId")), []).append(
                str(policy.get("PolicyName")))
        for target in targets:
            resource = str(target.get("ResourceId") or "")
            match = re.match(r"^endpoint/([^/]+)/variant/([^/]+)$", resource)
            if not match:
                continue
            endpoint, variant = match.groups()
            low, high = target.get("MinCapacity"), target.get("MaxCapacity")
            names = policy_names.get(resource, [])
            scales = bool(names) and isinstance(high, int) and isinstance(low, int) and high > low
            live = self.endpoint_states.get(endpoint) in LIVE_ENDPOINT_STATES
            yield self.evidence(
                signal="serving.autoscaling", subject=self.subject("endpoint", endpoint),
                locator=str(target.get("ScalableTargetARN") or resource),
                strength=Strength.active if scales and live else Strength.declared,
                summary=(f"variant {variant} of SageMaker endpoint `{endpoint}` in {self.region} "
                         f"scales between {low} and {high} instances"
                         + (f" ({', '.join(names)})" if names else " but has no scaling policy")),
                attributes={"server": "sagemaker", "variant": variant, "min": low, "max": high,
                            "policies": names})

    # -- model monitoring -------------------------------------------------------------------------
    def monitors(self) -> Iterator[Evidence]:
        schedules = self.pages("sagemaker", "list_monitoring_schedules",
                               "MonitoringScheduleSummaries")
        if not schedules:
            return
        executions = self.pages("sagemaker", "list_monitoring_executions",
                                "MonitoringExecutionSummaries",
                                ScheduledTimeAfter=self.collector.since,
                                SortBy="ScheduledTime", SortOrder="Descending")
        by_schedule: dict[str, list[dict[str, Any]]] = {}
        for execution in executions:
            by_schedule.setdefault(str(execution.get("MonitoringScheduleName")), []).append(execution)
        for schedule in schedules:
            yield from self.monitor_evidence(schedule, by_schedule.get(
                str(schedule.get("MonitoringScheduleName")), []))

    def monitor_evidence(self, schedule: dict[str, Any], runs: list[dict[str, Any]]
                         ) -> Iterator[Evidence]:
        name = str(schedule.get("MonitoringScheduleName") or "")
        kind = str(schedule.get("MonitoringType") or "DataQuality")
        endpoint = str(schedule.get("EndpointName") or "")
        status = str(schedule.get("MonitoringScheduleStatus") or "")
        if kind in BIAS_MONITORS:
            signal, what = "quality.bias_explainability", (
                "bias" if kind == "ModelBias" else "feature attributions (explainability)")
        else:
            signal, what = "monitor.drift_detection", (
                "data quality drift" if kind == "DataQuality" else "model quality")
        done = [r for r in runs if r.get("MonitoringExecutionStatus") in DONE_MONITORING
                and self.collector.recent(r.get("ScheduledTime"))]
        violations = sum(1 for r in done if r.get("MonitoringExecutionStatus")
                         == "CompletedWithViolations")
        latest = max(runs, key=lambda r: r.get("ScheduledTime") or self.collector.since,
                     default=None)
        attrs: dict[str, JsonValue] = {
            "library": "sagemaker", "monitoring_type": kind, "schedule": name, "status": status,
            "executions_in_lookback": len(runs), "completed_in_lookback": len(done),
            "with_violations": violations,
        }
        if latest is not None:
            attrs["last_execution_status"] = str(latest.get("MonitoringExecutionStatus"))
        last_done = max((r["ScheduledTime"] for r in done), default=None)
        if last_done is not None:
            strength, when = Strength.verified, last_done
            note = (f"it last completed on {_day(last_done)}"
                    + (f" ({_plural(violations, 'run')} found violations)" if violations else ""))
        elif status == "Scheduled":
            strength, when, note = Strength.active, None, "it is scheduled, with no completed run yet"
        else:
            strength, when, note = Strength.declared, None, f"it is {status or 'not running'}"
        subject = self.subject("endpoint", endpoint) if endpoint else self.subject(
            "monitoring-schedule", name)
        yield self.evidence(
            signal=signal, subject=subject,
            locator=str(schedule.get("MonitoringScheduleArn") or subject), strength=strength,
            occurred_at=when,
            summary=(f"SageMaker Model Monitor schedule `{name}` in {self.region} watches "
                     f"{what} of endpoint `{endpoint}`; {note}"),
            attributes=attrs)

    # -- retraining triggers ------------------------------------------------------------------------
    def triggers(self) -> Iterator[Evidence]:
        for rule in self.pages("events", "list_rules", "Rules"):
            kind = self.trigger_kind(rule)
            if kind is None or rule.get("State") != "ENABLED":
                continue  # a disabled rule starts nothing, like a suspended CronJob
            targets = self.pages("events", "list_targets_by_rule", "Targets", Rule=rule["Name"])
            for target in targets:
                if not targets_sagemaker_pipeline(target):
                    continue
                arn = str(target.get("Arn") or "")
                pipeline = arn.split(":pipeline/", 1)[1].split("/")[0] if ":pipeline/" in arn else ""
                yield self.trigger_evidence(rule, kind, pipeline)

    @staticmethod
    def trigger_kind(rule: dict[str, Any]) -> str | None:
        pattern = str(rule.get("EventPattern") or "")
        if rule.get("ScheduleExpression"):
            return "schedule"
        if alarm_event_pattern(pattern):
            return "alert"
        if '"aws.s3"' in pattern and re.search(r"Object ?Created", pattern):
            return "data"
        return None

    def trigger_evidence(self, rule: dict[str, Any], kind: str, pipeline: str) -> Evidence:
        name = str(rule.get("Name"))
        subject = self.subject("pipeline", pipeline) if pipeline else self.subject("rule", name)
        attrs: dict[str, JsonValue] = {"trigger": "eventbridge", "rule": name, "pipeline": pipeline}
        facts = self.pipelines.get(pipeline)
        if kind == "schedule":
            cron = str(rule.get("ScheduleExpression"))
            attrs["cron"] = cron
            success = facts.last_success() if facts else None
            if self.collector.recent(success):
                assert success is not None
                strength, when = Strength.verified, success
                note = f"; the pipeline last succeeded on {_day(success)}"
            else:
                strength, when, note = Strength.active, None, "; no successful run in the lookback"
            return self.evidence(
                signal="retrain.scheduled", subject=subject, locator=str(rule.get("Arn") or name),
                strength=strength, occurred_at=when, attributes=attrs,
                summary=(f"EventBridge rule `{name}` in {self.region} starts SageMaker pipeline "
                         f"`{pipeline}` on schedule `{cron}`{note}"))
        if kind == "alert":
            alarms = re.findall(r'"alarmName"\s*:\s*\[([^\]]*)\]', str(rule.get("EventPattern")))
            named = re.findall(r'"([^"]+)"', alarms[0]) if alarms else []
            attrs["alarms"] = named
            return self.evidence(
                signal="retrain.on_alert", subject=subject, locator=str(rule.get("Arn") or name),
                strength=Strength.active, attributes=attrs,
                summary=(f"EventBridge rule `{name}` in {self.region} starts SageMaker pipeline "
                         f"`{pipeline}` when "
                         + (f"alarm {', '.join(named)} fires" if named
                            else "a CloudWatch alarm or Model Monitor event fires")))
        return self.evidence(
            signal="retrain.on_data_change", subject=subject, locator=str(rule.get("Arn") or name),
            strength=Strength.active, attributes=attrs,
            summary=(f"EventBridge rule `{name}` in {self.region} starts SageMaker pipeline "
                     f"`{pipeline}` when new objects land in S3"))

    # -- CloudWatch alarms -----------------------------------------------------------------------------
    def alarms(self) -> Iterator[Evidence]:
        for alarm in self.pages("cloudwatch", "describe_alarms", "MetricAlarms",
                                AlarmTypes=["MetricAlarm"]):
            found = self.alarm_evidence(alarm)
            if found is not None:
                yield found

    def alarm_evidence(self, alarm: dict[str, Any]) -> Evidence | None:
        metrics = [alarm] + [m.get("MetricStat", {}).get("Metric", {})
                             for m in alarm.get("Metrics", []) if isinstance(m, dict)]
        namespaces = [str(m.get("Namespace") or "") for m in metrics]
        if not any(n.startswith(ALARM_NAMESPACES) for n in namespaces):
            return None
        names = [str(m.get("MetricName")) for m in metrics if m.get("MetricName")]
        expressions = [str(m.get("Expression")) for m in alarm.get("Metrics", [])
                       if isinstance(m, dict) and m.get("Expression")]
        dimensions = {str(d.get("Name")): str(d.get("Value"))
                      for m in metrics for d in m.get("Dimensions", []) if isinstance(d, dict)}
        name = str(alarm.get("AlarmName") or "")
        description = str(alarm.get("AlarmDescription") or "")
        category = classify_alert_rule(name, " ".join(names + expressions), dimensions,
                                       {"description": description} if description else {})
        # AWS/SageMaker metrics name `EndpointName`; Model Monitor's metrics name `Endpoint`
        endpoint = dimensions.get("EndpointName") or dimensions.get("Endpoint") or ""
        if category == "other" and endpoint:
            category = "serving_health"  # a SageMaker metric of one endpoint
        if category not in ("drift", "model_quality", "serving_health"):
            return None
        enabled = alarm.get("ActionsEnabled") is not False
        state = str(alarm.get("StateValue") or "")
        attrs: dict[str, JsonValue] = {"alarm": name, "metric": ", ".join(names) or None,
                                       "namespace": namespaces[0] or None, "state": state,
                                       "actions_enabled": enabled}
        if endpoint:
            attrs["endpoint"] = endpoint
        subject = self.subject("endpoint", endpoint) if endpoint else self.subject("alarm", name)
        watch = {"drift": "fires on drift", "model_quality": "watches model quality",
                 "serving_health": "watches model serving health"}[category]
        signal = "monitor.drift_alert_rule" if category == "drift" else "monitor.model_alert_rule"
        if signal == "monitor.model_alert_rule":
            attrs["category"] = category
        return self.evidence(
            signal=signal, subject=subject, locator=str(alarm.get("AlarmArn") or name),
            strength=Strength.active if enabled else Strength.declared,
            summary=(f"CloudWatch alarm `{name}` in {self.region} {watch} "
                     f"({', '.join(names) or 'metric math'}"
                     + (f" of endpoint {endpoint}" if endpoint else "") + f"); it is {state}"
                     + ("" if enabled else ", with its actions disabled")),
            attributes=attrs)

    # -- model cards ------------------------------------------------------------------------------------
    def model_cards(self) -> Iterator[Evidence]:
        for card in self.pages("sagemaker", "list_model_cards", "ModelCardSummaries"):
            status = str(card.get("ModelCardStatus") or "")
            name = str(card.get("ModelCardName") or "")
            if not name or status == "Archived":
                continue
            subject = self.subject("model-card", name)
            yield self.evidence(
                signal="governance.model_card", subject=subject,
                locator=str(card.get("ModelCardArn") or subject),
                strength=Strength.active if status == "Approved" else Strength.declared,
                summary=f"SageMaker model card `{name}` in {self.region} is {status}",
                occurred_at=card.get("LastModifiedTime") if status == "Approved" else None,
                attributes={"status": status}, links=[f"model:{name}"])
