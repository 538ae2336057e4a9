"""moto's server on 127.0.0.1 for the sagemaker collector's tests and benchmark, behind
a small proxy.

moto 5 answers SageMaker model packages, pipelines, endpoints, model cards, EventBridge,
CloudWatch and Application Auto Scaling, but not `ListMonitoringSchedules` nor
`ListMonitoringExecutions` (HTTP 500). The proxy forwards every request to moto except
those two operations, which it answers from recorded responses
(tests/fixtures/sagemaker/<region>/<Operation>.json), moved in time so that they keep
their age relative to now. It can also inject faults per region and operation: an AWS
error (403 AccessDenied, 400 ThrottlingException...) a number of times, or a dropped
connection (a region that cannot be reached).
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sagemaker"
STUBBED = ("ListMonitoringSchedules", "ListMonitoringExecutions")
# Keys of recorded responses that hold timestamps (epoch seconds in AWS JSON protocols).
TIME_KEYS = ("CreationTime", "LastModifiedTime", "ScheduledTime")
_SCOPE = re.compile(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/")


@dataclass
class Fault:
    region: str | None  # None: every region
    operation: str | None  # e.g. "ListRules"; None: every operation
    status: int = 400
    code: str = "AccessDeniedException"
    message: str = "User is not authorized to perform this action"
    times: int | None = None  # None: for good
    drop: bool = False  # close the connection without an answer


@dataclass
class ProxyState:
    moto: tuple[str, int]
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (region, service, op)
    recorded: Path = FIXTURES
    page_size: int = 10  # what the recorded operations return per page by default

    def operations(self, name: str, region: str | None = None) -> list[tuple[str, str, str]]:
        return [r for r in self.requests if r[2] == name and (region is None or r[0] == region)]


def _operation(path: str, headers: Any, body: bytes) -> str:
    """The operation of a request: JSON (X-Amz-Target), query (Action=) or CBOR (path)."""
    target = headers.get("X-Amz-Target") or ""
    if target:
        return str(target.rsplit(".", 1)[-1])
    routed = re.search(r"/operation/([A-Za-z]+)$", path)
    if routed:
        return routed.group(1)
    match = re.search(rb"(?:^|&)Action=([A-Za-z]+)", body)
    return match.group(1).decode() if match else ""


def recorded_answer(state: ProxyState, region: str, operation: str, request: dict[str, Any]
                    ) -> dict[str, Any]:
    """A recorded response, its timestamps moved to now, paginated like the service."""
    file = state.recorded / region / f"{operation}.json"
    if not file.is_file():
        key = {"ListMonitoringSchedules": "MonitoringScheduleSummaries",
               "ListMonitoringExecutions": "MonitoringExecutionSummaries"}[operation]
        return {key: []}
    document = json.loads(file.read_text())
    shift = time.time() - float(document.pop("_recorded_at"))
    key = next(iter(document))
    items = [dict(i) for i in document[key]]
    for item in items:
        for name in TIME_KEYS:
            if isinstance(item.get(name), int | float):
                item[name] = item[name] + shift
    after = request.get("ScheduledTimeAfter")
    if isinstance(after, int | float):
        items = [i for i in items if i.get("ScheduledTime", 0) >= after]
    start = int(request.get("NextToken") or 0)
    size = int(request.get("MaxResults") or state.page_size)
    answer: dict[str, Any] = {key: items[start:start + size]}
    if start + size < len(items):
        answer["NextToken"] = str(start + size)
    return answer


class _Proxy(BaseHTTPRequestHandler):
    server: _ProxyServer
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def _handle(self, method: str) -> None:
        state = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        scope = _SCOPE.search(self.headers.get("Authorization") or "")
        region, service = (scope.group(1), scope.group(2)) if scope else ("", "")
        operation = _operation(self.path, self.headers, body)
        with self.server.lock:
            state.requests.append((region, service, operation))
            fault = next((f for f in state.faults
                          if f.region in (None, region) and f.operation in (None, operation)
                          and (f.times is None or f.times > 0)), None)
            if fault is not None and fault.times is not None:
                fault.times -= 1
        if fault is not None and fault.drop:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault is not None and "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
            self._send_xml_error(fault)  # query protocol (STS)
            return
        if fault is not None:
            self._send(fault.status, {"__type": fault.code, "message": fault.message},
                       {"x-amzn-ErrorType": fault.code})
            return
        if service == "sagemaker" and operation in STUBBED:
            request = json.loads(body or b"{}")
            self._send(200, recorded_answer(state, region, operation, request))
            return
        self._forward(method, body)

    def _forward(self, method: str, body: bytes) -> None:
        host, port = self.server.state.moto
        connection = http.client.HTTPConnection(host, port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
        connection.request(method, self.path, body=body, headers=headers)
        answer = connection.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("content-length", "connection", "transfer-encoding",
                                   "server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        connection.close()

    def _send_xml_error(self, fault: Fault) -> None:
        data = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{fault.code}</Code>"
                f"<Message>{fault.message}</Message></Error>"
                "<RequestId>6c1e0d3a-5a1b-4b7e-9d6c-2f1b8e0c4a11</RequestId></ErrorResponse>").encode()
        self.send_response(fault.status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send(self, status: int, document: dict[str, Any], headers: dict[str, str] | None = None
              ) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", "6c1e0d3a-5a1b-4b7e-9d6c-2f1b8e0c4a11")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: ProxyState) -> None:
        super().__init__(("127.0.0.1", 0), _Proxy)
        self.state = state
        self.lock = threading.Lock()


@dataclass
class AwsStack:
    """moto behind the proxy: `url` is what the collector's endpoint_url points at;
    `moto_url` seeds data directly."""

    url: str
    moto_url: str
    state: ProxyState

    def client(self, service: str, region: str) -> Any:
        import boto3

        return boto3.client(service, region_name=region, endpoint_url=self.moto_url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def reset(self) -> None:
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.moto_url}/moto-api/reset",
                                                      method="POST"), timeout=30).read()
        self.state.faults.clear()
        self.state.requests.clear()


@contextmanager
def moto_stack(moto_url: str | None = None) -> Iterator[AwsStack]:
    """moto's threaded server on 127.0.0.1 (or the one at `moto_url`) and the proxy."""
    server = None
    if moto_url is None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        moto_url = f"http://{host}:{port}"
    host, _, port_text = moto_url.removeprefix("http://").partition(":")
    proxy = _ProxyServer(ProxyState(moto=(host, int(port_text))))
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield AwsStack(f"http://127.0.0.1:{proxy.server_address[1]}", moto_url, proxy.state)
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join(timeout=5)
        if server is not None:
            server.stop()


# -- a realistic account -----------------------------------------------------------------------
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"
ECR = "683313688378.dkr.ecr.eu-west-1.amazonaws.com"
XGBOOST = f"{ECR}/sagemaker-xgboost:1.7-1"
SKLEARN = f"{ECR}/sagemaker-scikit-learn:1.2-1-cpu-py3"
CODE = "/opt/ml/processing/input/code"
AUC = {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.EvaluateChurnModel.PropertyFiles.EvaluationReport"},
                       "Path": "metrics.auc.value"}}
TRAINING_PIPELINE = {
    "Version": "2020-12-01",
    "Metadata": {},
    "Parameters": [{"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": "ml.m5.xlarge"},
                   {"Name": "ModelApprovalStatus", "Type": "String",
                    "DefaultValue": "PendingManualApproval"}],
    "PipelineExperimentConfig": {"ExperimentName": {"Get": "Execution.PipelineName"},
                                 "TrialName": {"Get": "Execution.PipelineExecutionId"}},
    "Steps": [
        {"Name": "PreprocessChurnData", "Type": "Processing",
         "Arguments": {"ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.xlarge",
                                                                  "InstanceCount": 1,
                                                                  "VolumeSizeInGB": 30}},
                       "AppSpecification": {"ImageUri": SKLEARN,
                                            "ContainerEntrypoint": ["python3", f"{CODE}/preprocess.py"]},
                       "RoleArn": ROLE}},
        {"Name": "TrainChurnModel", "Type": "Training",
         "Arguments": {"AlgorithmSpecification": {"TrainingImage": XGBOOST, "TrainingInputMode": "File"},
                       "OutputDataConfig": {"S3OutputPath": "s3://acme-ml-models/churn/training"},
                       "ResourceConfig": {"InstanceCount": 1, "VolumeSizeInGB": 30,
                                          "InstanceType": {"Get": "Parameters.TrainingInstanceType"}},
                       "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
                       "RoleArn": ROLE},
         "DependsOn": ["PreprocessChurnData"]},
        {"Name": "EvaluateChurnModel", "Type": "Processing",
         "Arguments": {"AppSpecification": {"ImageUri": XGBOOST,
                                            "ContainerEntrypoint": ["python3", f"{CODE}/evaluate.py"]},
                       "RoleArn": ROLE},
         "PropertyFiles": [{"PropertyFileName": "EvaluationReport", "OutputName": "evaluation",
                            "FilePath": "evaluation.json"}]},
        {"Name": "CheckAUC", "Type": "Condition",
         "Arguments": {"Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": AUC,
                                       "RightValue": 0.8}],
                       "IfSteps": [{"Name": "RegisterChurnModel", "Type": "RegisterModel",
                                    "Arguments": {
                                        "ModelPackageGroupName": "churn",
                                        "ModelApprovalStatus": {"Get": "Parameters.ModelApprovalStatus"}}}],
                       "ElseSteps": [{"Name": "AUCTooLow", "Type": "Fail",
                                      "Arguments": {"ErrorMessage": "AUC below 0.8"}}]}},
    ],
}
BATCH_PIPELINE = {"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": [
    {"Name": "ScoreCustomers", "Type": "Transform",
     "Arguments": {"ModelName": "churn-model-v7", "TransformResources": {"InstanceType": "ml.m5.large",
                                                                          "InstanceCount": 1}}}]}


def seed_account(stack: AwsStack, region: str = "eu-west-1") -> None:
    """What a team serving a churn model and a fraud model might have in one region."""
    sm = stack.client("sagemaker", region)
    sm.create_model_package_group(
        ModelPackageGroupName="churn",
        ModelPackageGroupDescription=("Customer churn classifier (XGBoost) trained weekly on the "
                                      "feature store's customer_activity view; owner: growth-ml."))
    sm.create_model_package_group(ModelPackageGroupName="fraud-detector")
    for status in ("Approved", "Rejected", "Approved", "PendingManualApproval"):
        sm.create_model_package(
            ModelPackageGroupName="churn", ModelApprovalStatus=status,
            ModelPackageDescription="weekly retrain",
            InferenceSpecification={"Containers": [{"Image": XGBOOST,
                                                    "ModelDataUrl": "s3://acme-ml-models/churn/model.tar.gz"}],
                                    "SupportedContentTypes": ["text/csv"],
                                    "SupportedResponseMIMETypes": ["text/csv"]})
    for _ in range(2):
        sm.create_model_package(ModelPackageGroupName="fraud-detector", ModelApprovalStatus="Approved")
    sm.create_pipeline(PipelineName="churn-training", RoleArn=ROLE,
                       PipelineDefinition=json.dumps(TRAINING_PIPELINE),
                       PipelineDescription="Preprocess, train, evaluate and register the churn model")
    sm.start_pipeline_execution(PipelineName="churn-training")
    sm.create_pipeline(PipelineName="churn-batch-scoring", RoleArn=ROLE,
                       PipelineDefinition=json.dumps(BATCH_PIPELINE))
    for model in ("churn-model-v7", "churn-model-v8", "fraud-model-v3"):
        sm.create_model(ModelName=model, ExecutionRoleArn=ROLE,
                        PrimaryContainer={"Image": XGBOOST,
                                          "ModelDataUrl": f"s3://acme-ml-models/{model}/model.tar.gz"})
    sm.create_endpoint_config(
        EndpointConfigName="churn-prod-config-2026-05",
        ProductionVariants=[
            {"VariantName": "champion", "ModelName": "churn-model-v7", "InstanceType": "ml.m5.large",
             "InitialInstanceCount": 2, "InitialVariantWeight": 0.9},
            {"VariantName": "challenger", "ModelName": "churn-model-v8",
             "InstanceType": "ml.m5.large", "InitialInstanceCount": 1, "InitialVariantWeight": 0.1}],
        DataCaptureConfig={"EnableCapture": True, "InitialSamplingPercentage": 20,
                           "DestinationS3Uri": "s3://acme-ml-monitoring/churn-prod/capture",
                           "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]})
    sm.create_endpoint(EndpointName="churn-prod", EndpointConfigName="churn-prod-config-2026-05")
    sm.create_endpoint_config(
        EndpointConfigName="fraud-prod-config",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "fraud-model-v3",
                             "InstanceType": "ml.c5.xlarge", "InitialInstanceCount": 1,
                             "InitialVariantWeight": 1.0}])
    sm.create_endpoint(EndpointName="fraud-prod", EndpointConfigName="fraud-prod-config")
    sm.create_model_card(ModelCardName="churn", ModelCardStatus="Approved",
                         Content=json.dumps({"model_overview": {"model_description": "Churn classifier"}}))
    sm.create_model_card(ModelCardName="fraud-detector", ModelCardStatus="Draft",
                         Content=json.dumps({"model_overview": {"model_description": "Fraud scores"}}))
    pipeline_arn = f"arn:aws:sagemaker:{region}:{ACCOUNT}:pipeline/churn-training"
    events = stack.client("events", region)
    events.put_rule(Name="churn-weekly-retrain", ScheduleExpression="cron(0 3 ? * MON *)",
                    State="ENABLED", Description="Retrain the churn model every Monday")
    events.put_rule(Name="churn-retrain-on-drift", State="ENABLED",
                    EventPattern=json.dumps({"source": ["aws.cloudwatch"],
                                             "detail-type": ["CloudWatch Alarm State Change"],
                                             "detail": {"alarmName": ["churn-feature-drift"],
                                                        "state": {"value": ["ALARM"]}}}))
    events.put_rule(Name="churn-retrain-on-new-data", State="ENABLED",
                    EventPattern=json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created"],
                                             "detail": {"bucket": {"name": ["acme-ml-data"]},
                                                        "object": {"key": [{"prefix": "churn/"}]}}}))
    events.put_rule(Name="old-retrain", ScheduleExpression="rate(1 day)", State="DISABLED")
    events.put_rule(Name="nightly-report", ScheduleExpression="cron(0 6 * * ? *)", State="ENABLED")
    for rule in ("churn-weekly-retrain", "churn-retrain-on-drift", "churn-retrain-on-new-data",
                 "old-retrain"):
        events.put_targets(Rule=rule, Targets=[{
            "Id": "pipeline", "Arn": pipeline_arn,
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/events-start-pipeline",
            "SageMakerPipelineParameters": {"PipelineParameterList": [
                {"Name": "ModelApprovalStatus", "Value": "PendingManualApproval"}]}}])
    events.put_targets(Rule="nightly-report", Targets=[{
        "Id": "lambda", "Arn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:send-report"}])
    cloudwatch = stack.client("cloudwatch", region)
    cloudwatch.put_metric_alarm(
        AlarmName="churn-feature-drift", Namespace="/aws/sagemaker/Endpoints/data-metrics",
        MetricName="feature_baseline_drift_total_charges", Statistic="Maximum", Period=3600,
        EvaluationPeriods=1, Threshold=0.2, ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "Endpoint", "Value": "churn-prod"},
                    {"Name": "MonitoringSchedule", "Value": "churn-prod-data-quality"}],
        AlarmDescription="Drift of total_charges against the training baseline")
    cloudwatch.put_metric_alarm(
        AlarmName="churn-prod-5xx", Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors",
        Statistic="Sum", Period=300, EvaluationPeriods=2, Threshold=5,
        ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": "EndpointName", "Value": "churn-prod"},
                    {"Name": "VariantName", "Value": "champion"}])
    cloudwatch.put_metric_alarm(
        AlarmName="billing-over-budget", Namespace="AWS/Billing", MetricName="EstimatedCharges",
        Statistic="Maximum", Period=21600, EvaluationPeriods=1, Threshold=5000,
        ComparisonOperator="GreaterThanThreshold")
    scaling = stack.client("application-autoscaling", region)
    scaling.register_scalable_target(
        ServiceNamespace="sagemaker", ResourceId="endpoint/churn-prod/variant/champion",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount", MinCapacity=2, MaxCapacity=6)
    scaling.put_scaling_policy(
        PolicyName="churn-invocations-per-instance", ServiceNamespace="sagemaker",
        ResourceId="endpoint/churn-prod/variant/champion",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount", PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})
