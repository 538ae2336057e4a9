"""The container image (Dockerfile) and the Kubernetes manifests (deploy/kubernetes/).

Manifests: every field is checked against the Kubernetes API's own models (those of the
official Python client), kinds and apiVersions, RBAC that only reads, pods that run
unprivileged, Secrets behind every credential the platform config names, and every
maturity-probe command line parsed by the real CLI. The image: a pinned base, a build
stage whose files are enough to build the wheel (built here, from exactly those files), a
non-root runtime and the entrypoint the manifests rely on.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import kubernetes.client.models as k8s_models
import pytest
import yaml

from cli_lines import parse_command_line, probe_invocations
from maturity_probe.collectors.kubernetes import RESOURCES
from maturity_probe.config import load_config
from maturity_probe.shards import check_group_id, parse_shard

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = ROOT / "deploy" / "kubernetes"
DOCKERFILE = ROOT / "Dockerfile"
API_VERSIONS = {
    "Namespace": "v1", "ServiceAccount": "v1", "ConfigMap": "v1", "Service": "v1",
    "PersistentVolumeClaim": "v1", "ClusterRole": "rbac.authorization.k8s.io/v1",
    "ClusterRoleBinding": "rbac.authorization.k8s.io/v1", "CronJob": "batch/v1", "Job": "batch/v1",
    "Deployment": "apps/v1",
}
READ_VERBS = {"get", "list", "watch"}
NIGHT = "2026-06-01"
# what Kubernetes ($(VAR) in args) and the shell ($(...), $var) fill in at run time
RUNTIME_VALUES = {"JOB_COMPLETION_INDEX": "2", "date -u +%Y-%m-%d": NIGHT, "night": NIGHT}


def documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        found += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def of_kind(*kinds: str) -> list[tuple[str, dict[str, Any]]]:
    return [(name, doc) for name, doc in documents() if doc["kind"] in kinds]


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return dict(spec["template"]["spec"])


def workloads() -> list[tuple[str, dict[str, Any]]]:
    return of_kind("CronJob", "Job", "Deployment")


def unknown_fields(value: Any, type_name: str, where: str) -> list[str]:
    """Keys the Kubernetes API does not define and values of the wrong type, walking the
    client's model types (`V1PodSpec`, `List[V1Container]`, `Dict[str, str]`, `int`...)."""
    listed = re.fullmatch(r"List\[(.*)\]", type_name)
    if listed:
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [p for i, item in enumerate(value)
                for p in unknown_fields(item, listed.group(1), f"{where}[{i}]")]
    mapped = re.fullmatch(r"Dict\[str, (.*)\]", type_name)
    if mapped:
        if not isinstance(value, dict):
            return [f"{where}: expected a mapping"]
        return [p for k, item in value.items() for p in unknown_fields(item, mapped.group(1), f"{where}.{k}")]
    scalar = {"str": str, "int": int, "bool": bool}.get(type_name)
    if scalar is not None:
        wrong = not isinstance(value, scalar) or (scalar is int and isinstance(value, bool))
        return [f"{where}: expected {type_name}, not {value!r}"] if wrong else []
    model = getattr(k8s_models, type_name, None)
    if model is None:  # object (an int or a string), datetime
        return []
    if not isinstance(value, dict):
        return [f"{where}: expected a {type_name} mapping"]
    by_json_key = {key: attribute for attribute, key in model.attribute_map.items()}
    problems = []
    for key, item in value.items():
        if key not in by_json_key:
            problems.append(f"{where}.{key}: not a field of {type_name}")
        else:
            problems += unknown_fields(item, model.openapi_types[by_json_key[key]], f"{where}.{key}")
    return problems


def test_kinds_and_api_versions() -> None:
    found = documents()
    kinds = sorted(doc["kind"] for _, doc in found)
    assert {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "CronJob",
            "Deployment", "Service", "PersistentVolumeClaim"} <= set(kinds)
    for name, doc in found:
        assert doc["apiVersion"] == API_VERSIONS[doc["kind"]], (name, doc["kind"])
        if doc["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
            assert doc["metadata"]["namespace"] == "maturity-probe", (name, doc["kind"])


def test_every_field_is_one_the_kubernetes_api_defines() -> None:
    problems = []
    for name, doc in documents():
        problems += unknown_fields(doc, f"V1{doc['kind']}", f"{name}:{doc['kind']}/{doc['metadata']['name']}")
    assert problems == []


def test_the_field_check_can_fail() -> None:
    pod = {"containers": [{"name": "c", "imag": "x"}]}
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x"},
           "spec": {"completionmode": "Indexed", "template": {"spec": pod}}}
    job["spec"]["parallelism"] = "4"
    assert unknown_fields(job, "V1Job", "job") == [
        "job.spec.completionmode: not a field of V1JobSpec",
        "job.spec.template.spec.containers[0].imag: not a field of V1Container",
        "job.spec.parallelism: expected int, not '4'"]


def test_kustomization_lists_existing_manifests_and_the_image() -> None:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    for resource in kustomization["resources"]:
        assert (MANIFESTS / resource).is_file(), resource
    assert "sharded.yaml" not in kustomization["resources"]  # it replaces cronjob.yaml, never beside it
    images = {container["image"].split(":")[0] for _, doc in workloads()
              for container in pod_spec(doc)["containers"]}
    assert images == {image["name"] for image in kustomization["images"]}


def test_rbac_only_reads_what_the_kubernetes_collector_lists() -> None:
    [(_, role)] = of_kind("ClusterRole")
    granted = set()
    for rule in role["rules"]:
        assert set(rule["verbs"]) <= READ_VERBS, rule
        assert "*" not in rule["apiGroups"] + rule["resources"] + rule["verbs"], rule
        assert not {"secrets", "configmaps", "pods/exec"} & set(rule["resources"]), rule
        granted |= {(group, resource) for group in rule["apiGroups"] for resource in rule["resources"]}
    wanted = {(resource.group, resource.plural) for resource in RESOURCES}
    assert granted == wanted  # nothing more than the collector reads, nothing it would miss
    [(_, binding)] = of_kind("ClusterRoleBinding")
    [(_, account)] = of_kind("ServiceAccount")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["metadata"]["name"],
                                    "namespace": account["metadata"]["namespace"]}]


def test_pods_run_unprivileged() -> None:
    assert workloads()
    for name, doc in workloads():
        spec = pod_spec(doc)
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, (name, container["name"])
            assert context["readOnlyRootFilesystem"] is True, (name, container["name"])
            assert context["capabilities"] == {"drop": ["ALL"]}, (name, container["name"])
            assert not context.get("privileged"), (name, container["name"])
        uses_cluster = spec.get("serviceAccountName") == "maturity-probe"
        assert uses_cluster or spec.get("automountServiceAccountToken") is False, name


def container_commands(spec: dict[str, Any]) -> list[tuple[dict[str, Any], list[str]]]:
    """(container, maturity-probe arguments) of every invocation in the pod: exec form
    (the image's entrypoint is maturity-probe) or inside `sh -c`."""
    found = []
    for container in spec["containers"]:
        command = container.get("command")
        if command is None:
            found.append((container, list(container["args"])))
        else:
            assert command == ["/bin/sh", "-c"], command
            found += [(container, argv) for argv in probe_invocations(container["args"][0], RUNTIME_VALUES)]
    return found


def test_every_command_line_parses_with_the_cli() -> None:
    parsed = {}
    for name, doc in workloads():
        for container, argv in container_commands(pod_spec(doc)):
            ctx = parse_command_line(argv)
            parsed[(name, doc["metadata"]["name"])] = (ctx.info_name, ctx.params, container)
    assert {info for info, _, _ in parsed.values()} == {"scan", "report", "serve"}
    assert len(parsed) == len(workloads())  # one maturity-probe command per workload


def test_scans_read_the_mounted_config_and_get_every_secret_it_names(tmp_path: Path) -> None:
    [(_, configmap)] = of_kind("ConfigMap")
    config_file = tmp_path / "platform.yaml"
    config_file.write_text(configmap["data"]["platform.yaml"])
    config = load_config(config_file)  # the real validator: a typo in the config fails here
    credentials = {value for source in config.sources for field, value in source
                   if field.endswith("_env") and value}
    assert credentials == {"MLFLOW_TRACKING_TOKEN", "GITHUB_TOKEN"}
    scans = 0
    for name, doc in workloads():
        spec = pod_spec(doc)
        mounts = {v["name"]: v for v in spec.get("volumes", [])}
        for container, argv in container_commands(spec):
            params = parse_command_line(argv).params
            from_secrets = {env["name"] for env in container.get("env", [])
                            if "secretKeyRef" in env.get("valueFrom", {})}
            assert "MATURITY_PROBE_STORE" in from_secrets, name  # every command reads the store
            if "config" not in params:
                continue
            scans += 1
            assert credentials <= from_secrets, (name, credentials - from_secrets)
            assert spec["serviceAccountName"] == "maturity-probe"
            mount = next(m for m in container["volumeMounts"]
                         if str(params["config"]).startswith(m["mountPath"] + "/"))
            assert mounts[mount["name"]]["configMap"]["name"] == configmap["metadata"]["name"]
            assert str(params["config"]) == f"{mount['mountPath']}/platform.yaml"
    assert scans == 2  # the nightly CronJob and the shards


def test_sharded_scan_and_its_report_agree_on_shards_and_group() -> None:
    cronjobs = {doc["metadata"]["name"]: doc for _, doc in of_kind("CronJob")}
    shards, report = cronjobs["maturity-probe-shards"], cronjobs["maturity-probe-report"]
    job = shards["spec"]["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    [(_, scan)] = container_commands(pod_spec(shards))
    [(_, merge)] = container_commands(pod_spec(report))
    scan_params = parse_command_line(scan).params
    merge_params = parse_command_line(merge).params
    shard = parse_shard(scan_params["shard"])  # the real parser: K/N with K < N
    assert (shard.index, shard.count) == (2, job["completions"]) and job["parallelism"] == job["completions"]
    assert check_group_id(scan_params["scan_group"]) == merge_params["scan_group"] == f"nightly-{NIGHT}"
    assert scan_params["quiet"] is True
    assert merge_params["output_format"].value == "html"
    volume = next(m for m in pod_spec(report)["containers"][0]["volumeMounts"] if m["name"] == "reports")
    assert str(merge_params["output"]).startswith(volume["mountPath"] + "/")
    # the report starts after the shards' deadline, so only late retries are waited for
    hours = {d["metadata"]["name"]: int(d["spec"]["schedule"].split()[1]) for _, d in of_kind("CronJob")}
    deadline_hours = job["activeDeadlineSeconds"] / 3600
    assert hours["maturity-probe-report"] - hours["maturity-probe-shards"] >= deadline_hours


# -- the image -------------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def test_image_base_is_pinned_and_shared_by_both_stages() -> None:
    args = dict(value.split("=", 1) for kind, value in instructions() if kind == "ARG" and "=" in value)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", args["PYTHON_IMAGE"])
    build, runtime = stages()
    assert build[0] == ("FROM", "${PYTHON_IMAGE} AS build") and runtime[0] == ("FROM", "${PYTHON_IMAGE}")


def test_image_runs_as_a_user_without_privileges_with_the_cli_as_entrypoint() -> None:
    _, runtime = stages()
    kinds = [kind for kind, _ in runtime]
    users = [value for kind, value in runtime if kind == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*:[1-9]\d*", users[-1]), users
    assert kinds.index("USER") > max(i for i, kind in enumerate(kinds) if kind == "RUN")
    entrypoint = [value for kind, value in runtime if kind == "ENTRYPOINT"]
    assert [json.loads(value) for value in entrypoint] == [["maturity-probe"]]
    uid = int(users[-1].split(":")[0])
    assert all(pod_spec(doc)["securityContext"]["runAsUser"] == uid for _, doc in workloads())
    # the wheels are mounted for the install, never copied into a layer
    assert not any(kind == "COPY" and "--from=build" in value for kind, value in runtime)


def build_context() -> list[str]:
    build, _ = stages()
    return [source for kind, value in build if kind == "COPY" for source in value.split()[:-1]]


def test_dockerignore_keeps_the_build_files_and_drops_the_rest() -> None:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

    def ignored(name: str) -> bool:
        return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)

    assert build_context() == ["pyproject.toml", "README.md", "src", "configs", "schemas"]
    assert not any(ignored(name) for name in build_context())
    assert all(ignored(name) for name in (".git", ".venv", "tests", "examples", "benchmarks"))


def test_the_build_stage_files_are_enough_to_build_the_wheel(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.fail("git is needed")
    context = tmp_path / "context"
    context.mkdir()
    for source in build_context():
        path = ROOT / source
        if path.is_dir():
            shutil.copytree(path, context / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, context / source)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--wheel-dir", str(tmp_path / "wheels"), str(context)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    [wheel] = (tmp_path / "wheels").glob("maturity_probe-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert {"maturity_probe/cli.py", "maturity_probe/_configs/capabilities.yaml",
            "maturity_probe/_schemas/assessment.schema.json"} <= names
    assert "maturity-probe = maturity_probe.cli:main" in entry_points
