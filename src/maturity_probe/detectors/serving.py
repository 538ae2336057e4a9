"""Model serving: scoring scripts, model servers, traffic splitting and autoscaling.

A scoring script is Python that answers predictions with a model (Azure ML init/run,
SageMaker model_fn, MLflow pyfunc, BentoML, KServe, Seldon, Triton, TorchServe, or a
FastAPI / Flask app that loads a model). Model servers are the infrastructure that runs
them: Kubernetes manifests, Dockerfiles, cloud endpoint definitions in IaC or code.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from maturity_probe import yamlio
from maturity_probe.detectors import detector
from maturity_probe.detectors.ci.registry import CI_GLOBS, Invocation, invocations
from maturity_probe.detectors.context import Finding, RepoContext, vocabulary
from maturity_probe.detectors.manifests import (
    CLOUDFORMATION_GLOBS,
    TERRAFORM_GLOBS,
    YAML_GLOBS,
    KubeObject,
    cloudformation_resources,
    command_tokens,
    containers,
    dig,
    find_object,
    image_of,
    image_repository,
    kube_objects,
    line_in,
    pod_labels,
    pod_spec,
    split_shell,
    terraform_blocks,
    yaml_documents,
)
from maturity_probe.evidence import JsonValue
from maturity_probe.pyfacts import PyFacts
from maturity_probe.words import plural
from maturity_probe.yamlio import as_dict, as_list, as_str

DOCKERFILE_GLOBS = ("**/Dockerfile", "**/Dockerfile.*", "**/*.Dockerfile", "**/*.dockerfile",
                    "**/Containerfile")  # fmt: skip

# Calls that load a trained model (resolved names, prefix match).
MODEL_LOAD_CALLS = (
    "joblib.load", "pickle.load", "pickle.loads", "cloudpickle.load", "dill.load",
    "skops.io.load", "torch.load", "torch.jit.load", "tensorflow.saved_model.load",
    "tensorflow.keras.models.load_model", "keras.models.load_model", "keras.saving.load_model",
    "tensorflow.lite.Interpreter", "onnxruntime.InferenceSession", "xgboost.Booster",
    "lightgbm.Booster", "transformers.pipeline", "sentence_transformers.SentenceTransformer",
    "spacy.load", "fasttext.load_model", "ultralytics.YOLO", "bentoml.models.get",
    "azureml.core.Model.get_model_path", "azureml.core.model.Model.get_model_path",
    "mlflow.pyfunc.load_model", "mlflow.models.Model.load",
)  # fmt: skip
# Method names that load a model whatever the object (`booster.load_model(...)`).
MODEL_LOAD_ATTRS = ("load_model", "from_pretrained", "load_learner", "load_from_checkpoint")

# Container images of model servers: (substring of the image repository, server).
MODEL_SERVER_IMAGES: tuple[tuple[str, str], ...] = (
    ("tritonserver", "triton"),
    ("torchserve", "torchserve"),
    ("tensorflow/serving", "tensorflow-serving"),
    ("tensorflow-serving", "tensorflow-serving"),
    ("mlserver", "mlserver"),
    ("seldonio/", "seldon"),
    ("bentoml", "bentoml"),
    ("vllm", "vllm"),
    ("text-generation-inference", "tgi"),
    ("text-embeddings-inference", "tei"),
    ("kserve/", "kserve"),
    ("kfserving/", "kserve"),
    ("openvino/model_server", "openvino"),
)
# Words of images of the same projects that are control plane, not model servers.
NOT_MODEL_SERVER_IMAGES = ("controller", "operator", "initializer", "webhook", "executor",
                           "agent", "router", "scheduler", "yatai", "dashboard")  # fmt: skip
# Programs that are model servers: (words of the command, server).
MODEL_SERVER_COMMANDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("tritonserver",), "triton"),
    (("torchserve", "--start"), "torchserve"),
    (("tensorflow_model_server",), "tensorflow-serving"),
    (("mlflow", "models", "serve"), "mlflow"),
    (("bentoml", "serve"), "bentoml"),
    (("mlserver", "start"), "mlserver"),
    (("seldon-core-microservice",), "seldon"),
    (("vllm", "serve"), "vllm"),
    (("text-generation-launcher",), "tgi"),
)
ASGI_WSGI_SERVERS = ("uvicorn", "gunicorn", "hypercorn", "waitress-serve", "daphne")
MODEL_WORDS = ("model", "models", "predict", "prediction", "predictions", "predictor",
               "inference", "scoring", "score", "serving")  # fmt: skip
_APP_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*(?:\(\))?$")
_PYTHON = re.compile(r"^(?:.*/)?python[\d.]*$")


# -- scoring scripts --------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoringScript:
    """A Python file that serves predictions with a model."""

    path: str
    line: int  # the decisive def / class / decorator / app line
    kind: str  # azureml | sagemaker | mlflow_pyfunc | bentoml | kserve | seldon | triton | ...
    reason: str  # e.g. "defines init() and run() and loads a model with joblib.load"


def scoring_scripts(ctx: RepoContext) -> list[ScoringScript]:
    """Every scoring script of the repository (computed once, shared through ctx.derived)."""
    return ctx.derived("serving.scoring_scripts", lambda: list(_find_scoring_scripts(ctx)))


SCORING_WORDS = vocabulary(
    "def init", "model_fn", "predict_fn", "PythonModel", "set_model", "bentoml", "kserve",
    "kfserving", "mlserver", "seldon", "TritonPythonModel", "torch_handler", "fastapi", "flask",
    "ray.serve", "import serve", "litserve", "starlette", "sanic", "aiohttp", "gradio",
)  # fmt: skip
ENDPOINT_WORDS = vocabulary("aiplatform", "sagemaker", "azure.ai.ml", "boto3", "aws_cdk")


def _find_scoring_scripts(ctx: RepoContext) -> Iterator[ScoringScript]:
    for path, facts in ctx.python_mentioning(*SCORING_WORDS):
        if is_test_path(path):
            continue
        found = scoring_kind(ctx, path, facts)
        if found is not None:
            yield found


def is_test_path(path: str) -> bool:
    """Test code is not the thing it tests."""
    parts = path.lower().split("/")
    name = parts[-1]
    return (
        any(part in ("test", "tests", "testing") for part in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def scoring_kind(ctx: RepoContext, path: str, facts: PyFacts) -> ScoringScript | None:
    """Whether a Python file is a scoring script, of which kind and why (first match wins)."""
    load = model_load(facts)
    functions = facts.functions
    if "init" in functions and "run" in functions and (
        load or facts.imports_any("azureml", "azure.ai.ml", "inference_schema")
    ):
        why = f" and loads a model with {load}" if load else ""
        return ScoringScript(path, functions["init"], "azureml",
                             f"defines the Azure ML entry points init() and run(){why}")
    if "model_fn" in functions or ("predict_fn" in functions and "input_fn" in functions):
        name = "model_fn" if "model_fn" in functions else "predict_fn"
        return ScoringScript(path, functions[name], "sagemaker",
                             f"defines the SageMaker inference handler {name}()")
    for cls in facts.classes:
        kind = _class_kind(cls.bases, cls.name, cls.methods, cls.decorators, facts)
        if kind is not None:
            return ScoringScript(path, cls.line, kind[0],
                                 f"defines class `{cls.name}`, which {kind[1]}")
    if calls := facts.calls_to("mlflow.models.set_model"):
        return ScoringScript(path, calls[0].line, "mlflow_pyfunc",
                             "defines an MLflow model from code (mlflow.models.set_model)")
    if calls := facts.calls_to("bentoml.Service"):
        return ScoringScript(path, calls[0].line, "bentoml", "creates a bentoml.Service")
    if "handle" in functions and facts.imports_any("ts"):
        return ScoringScript(path, functions["handle"], "torchserve",
                             "defines a TorchServe handle() entry point")
    for decorator in facts.decorators:
        if decorator.name.startswith("ray.serve.deployment"):
            return ScoringScript(path, decorator.line, "other", "is a Ray Serve deployment")
    return _web_app(ctx, path, facts, load)


def _class_kind(
    bases: tuple[str, ...],
    name: str,
    methods: frozenset[str],
    decorators: tuple[str, ...],
    facts: PyFacts,
) -> tuple[str, str] | None:
    if any(b.startswith("mlflow.pyfunc.") and b.endswith(("PythonModel", "ChatModel"))
           for b in bases):
        return "mlflow_pyfunc", "is an MLflow pyfunc PythonModel"
    if "bentoml.service" in decorators:
        return "bentoml", "is a BentoML service (@bentoml.service)"
    if any(b in ("kserve.Model", "kserve.model.Model", "kfserving.KFModel",
                 "kfserving.kfmodel.KFModel") for b in bases):
        return "kserve", "is a KServe custom predictor (kserve.Model)"
    if any(b in ("mlserver.MLModel", "mlserver.model.MLModel") for b in bases):
        return "seldon", "is a Seldon MLServer runtime (mlserver.MLModel)"
    if "predict" in methods and facts.imports_any("seldon_core"):
        return "seldon", "is a Seldon Core model class with predict()"
    if name == "TritonPythonModel" and "execute" in methods:
        return "triton", "is a Triton Python backend model (execute())"
    if any(b.startswith("ts.torch_handler.") for b in bases):
        return "torchserve", "is a TorchServe handler"
    if any(b in ("litserve.LitAPI", "litserve.api.LitAPI") for b in bases):
        return "other", "is a LitServe API"
    return None


def model_load(facts: PyFacts) -> str | None:
    """Name of the first call that loads a trained model, if the module makes one."""
    calls = facts.calls_to(*MODEL_LOAD_CALLS) + facts.calls_named(*MODEL_LOAD_ATTRS)
    return min(calls, key=lambda c: c.line).name if calls else None


_WEB_APPS = (
    ("fastapi.FastAPI", "fastapi", "FastAPI"),
    ("fastapi.APIRouter", "fastapi", "FastAPI"),
    ("flask.Flask", "flask", "Flask"),
    ("flask.Blueprint", "flask", "Flask"),
    ("starlette.applications.Starlette", "other", "Starlette"),
    ("sanic.Sanic", "other", "Sanic"),
    ("aiohttp.web.Application", "other", "aiohttp"),
    ("gradio.Interface", "other", "Gradio"),
)


def _web_app(
    ctx: RepoContext, path: str, facts: PyFacts, load: str | None
) -> ScoringScript | None:
    """A web app counts as a scoring script only when it (or a module it imports) loads a model."""
    for constructor, kind, label in _WEB_APPS:
        calls = facts.calls_to(constructor)
        if not calls:
            continue
        if load:
            reason = f"is a {label} app that loads a model ({load})"
        else:
            helper = _imported_model_load(ctx, path, facts)
            if helper is None:
                return None
            reason = f"is a {label} app that loads a model ({helper[0]} calls {helper[1]})"
        return ScoringScript(path, calls[0].line, kind, reason)
    return None


def _imported_model_load(ctx: RepoContext, path: str, facts: PyFacts) -> tuple[str, str] | None:
    """(module path, call) when a project module the file imports loads a model: one hop."""
    for module_path in local_modules(ctx, path, facts)[:20]:
        imported = ctx.python(module_path)
        if imported is not None and (call := model_load(imported)):
            return module_path, call
    return None


def local_modules(ctx: RepoContext, path: str, facts: PyFacts) -> list[str]:
    """Repository files of the project modules a Python file imports."""
    here = posixpath.dirname(path)
    wanted: list[str] = []
    for relative in facts.relative_imports:
        dots = len(relative) - len(relative.lstrip("."))
        base = here
        for _ in range(dots - 1):
            base = posixpath.dirname(base)
        rest = relative[dots:].replace(".", "/")
        stem = posixpath.join(base, rest) if rest else base
        wanted += [f"{stem}.py", f"{stem}/__init__.py"]
    found = [p for p in wanted if ctx.exists(p)]
    for module in facts.imports:
        found += module_files(ctx, module, near=here)
    return list(dict.fromkeys(p for p in found if p != path))


def module_files(ctx: RepoContext, module: str, near: str = "") -> list[str]:
    """Repository files that can be the module `a.b` (a/b.py, src/a/b.py, ...)."""
    stem = module.replace(".", "/")
    return resolve_repo_file(ctx, f"{stem}.py", near) or resolve_repo_file(
        ctx, f"{stem}/__init__.py", near
    )


def resolve_repo_file(ctx: RepoContext, reference: str, near: str = "") -> list[str]:
    """Repository paths a file reference may mean: exact, relative to `near`, or by suffix.

    Container paths such as `/app/src/train.py` end with the repository path; a
    suffix match on whole path components finds it. Paths under `near` come first.
    """
    if not ctx.paths:  # objects of a live cluster: no files to resolve against
        return []
    ref = posixpath.normpath(reference.strip())
    exact = []
    if near and not ref.startswith("/"):
        exact.append(posixpath.normpath(posixpath.join(near, ref)))
    ref = ref.lstrip("/")
    if ref not in ("", ".") and not ref.startswith("../"):
        exact.append(ref)
    found = [p for p in exact if ctx.exists(p)]
    if found or ref in ("", ".") or ref.startswith("../"):
        return found[:1]
    index: dict[str, list[str]] = ctx.derived("serving.basename_index", lambda: _basenames(ctx))
    candidates = [
        p
        for p in index.get(posixpath.basename(ref), [])
        if ref.endswith("/" + p) or p.endswith("/" + ref)
    ]
    return sorted(candidates, key=lambda p: (not p.startswith(near + "/") if near else False,
                                             len(p)))


def _basenames(ctx: RepoContext) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for path in ctx.paths:
        index.setdefault(posixpath.basename(path), []).append(path)
    return index


@detector(signals=["serving.scoring_script"], wants=["**/*.py"])
def scoring_script(ctx: RepoContext) -> Iterator[Finding]:
    """Emits serving.scoring_script: Python that serves predictions with a model.

    Azure ML init()/run(), SageMaker model_fn, MLflow pyfunc, BentoML, KServe, Seldon,
    Triton, TorchServe handlers, Ray Serve, and FastAPI/Flask apps that load a model.
    """
    for script in scoring_scripts(ctx):
        yield Finding(
            signal="serving.scoring_script",
            path=script.path,
            line=script.line,
            summary=f"{script.path} is a scoring script: it {script.reason}",
            attributes={"kind": script.kind},
        )


@detector(signals=["vcs.scoring_script_versioned"], wants=["**/*.py"])
def scoring_script_versioned(ctx: RepoContext) -> Iterator[Finding]:
    """Emits vcs.scoring_script_versioned: scoring scripts tracked by git (commits, last change)."""
    if ctx.history is None:
        return
    scripts = scoring_scripts(ctx)
    if not scripts:
        return
    histories = ctx.history.file_history(sorted({s.path for s in scripts}))
    for script in scripts:
        history = histories.get(script.path)
        if history is None or history.commits == 0:
            continue
        when = history.last_change.date().isoformat()
        yield Finding(
            signal="vcs.scoring_script_versioned",
            path=script.path,
            line=script.line,
            summary=(
                f"scoring script {script.path} is under version control: "
                f"{plural(history.commits, 'commit')}, last changed on {when}"
            ),
            attributes={
                "kind": script.kind,
                "commits": history.commits,
                "last_change": history.last_change.isoformat(),
            },
            occurred_at=history.last_change,
        )


# -- model servers in commands and images ------------------------------------------------------
@dataclass(frozen=True)
class ServerMatch:
    server: str  # triton | torchserve | kserve | seldon | fastapi | ...
    reason: str


def image_server(image: str) -> str | None:
    """The model server an image is, from its repository name (never from its tag)."""
    repository = image_repository(image).lower()
    if not repository or set(re.split(r"[^a-z0-9]+", repository)) & set(NOT_MODEL_SERVER_IMAGES):
        return None
    for needle, server in MODEL_SERVER_IMAGES:
        # whole name parts only: `mlserver` is not in `acme/htmlserver`
        if re.search(rf"(?:^|[/._-]){re.escape(needle.strip('/'))}(?:$|[/._-])", repository):
            return server
    return None


def command_server(ctx: RepoContext, tokens: list[str], near: str = "") -> ServerMatch | None:
    """The model server a command starts: a model-server program or a scoring app."""
    words = [posixpath.basename(t) for t in tokens]
    for program, server in MODEL_SERVER_COMMANDS:
        if program[0] in words:
            start = words.index(program[0])
            if all(p in words[start:] for p in program[1:]):
                return ServerMatch(server, f"runs `{' '.join(program)}`")
    if "vllm.entrypoints" in " ".join(tokens):
        return ServerMatch("vllm", "runs the vLLM OpenAI server")
    target = _app_target(words, tokens)
    if target is None:
        return None
    reference, how = target
    scripts = {s.path: s for s in scoring_scripts(ctx)}
    for candidate in resolve_repo_file(ctx, reference, near):
        if candidate in scripts:
            script = scripts[candidate]
            return ServerMatch(script.kind, f"runs {how}, the scoring script {candidate}")
    return None


def _app_target(words: list[str], tokens: list[str]) -> tuple[str, str] | None:
    """(file reference, what runs it) for `uvicorn a.b:app`, `python x.py`, `python -m a.b`."""
    for i, word in enumerate(words):
        rest = tokens[i + 1 :]
        if word in ASGI_WSGI_SERVERS:
            for token in rest:
                if _APP_SPEC.match(token):
                    module = token.split(":", 1)[0]
                    return module.replace(".", "/") + ".py", f"{word} {token}"
        if word == "fastapi" and rest[:1] in (["run"], ["dev"]):
            script = next((t for t in rest[1:] if t.endswith(".py")), "main.py")
            return script, f"fastapi run {script}"
    for i, word in enumerate(words):
        rest = tokens[i + 1 :]
        if _PYTHON.match(word):
            if rest[:1] == ["-m"] and len(rest) > 1:
                return rest[1].replace(".", "/") + ".py", f"python -m {rest[1]}"
            script = next((t for t in rest if not t.startswith("-")), "")
            if script.endswith(".py"):
                return script, f"python {script}"
    return None


# -- model servers in Kubernetes -------------------------------------------------------------------
@dataclass(frozen=True)
class ServedObject:
    """A Kubernetes object that serves a model."""

    obj: KubeObject
    server: str
    line: int
    reason: str
    model: str | None
    storage_uri: str | None = None
    image: str | None = None


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod", "Rollout",
                  "Service")  # fmt: skip


def served_objects(ctx: RepoContext) -> list[ServedObject]:
    """Every Kubernetes object of the repository that serves a model (computed once)."""
    return ctx.derived("serving.served_objects", lambda: list(_find_served(ctx)))


def _find_served(ctx: RepoContext) -> Iterator[ServedObject]:
    for obj in kube_objects(ctx):
        found = _served(ctx, obj)
        if found is not None:
            yield found


def _served(ctx: RepoContext, obj: KubeObject) -> ServedObject | None:
    group, spec = obj.group, obj.spec
    if obj.kind == "InferenceService" and group in ("serving.kserve.io", "serving.kubeflow.org"):
        predictor = as_dict(spec.get("predictor")) or as_dict(dig(spec, "default", "predictor"))
        uri, model_format = _predictor_storage(predictor)
        return ServedObject(
            obj, "kserve", obj.line_of("spec", "predictor"),
            f"KServe InferenceService{f' serving a {model_format} model' if model_format else ''}",
            model=obj.name or None, storage_uri=uri,
        )  # fmt: skip
    if obj.kind in ("ServingRuntime", "ClusterServingRuntime") and group == "serving.kserve.io":
        return ServedObject(obj, "kserve", obj.line, "KServe serving runtime", model=None)
    if obj.kind == "SeldonDeployment" and group == "machinelearning.seldon.io":
        graphs = [as_dict(as_dict(p).get("graph")) for p in as_list(spec.get("predictors"))]
        uri = next((as_str(g.get("modelUri")) for g in graphs if g.get("modelUri")), None)
        return ServedObject(obj, "seldon", obj.line_of("spec", "predictors"),
                            "Seldon Core deployment", model=obj.name or None, storage_uri=uri)
    if group == "mlops.seldon.io" and obj.kind in ("Model", "Server"):
        uri = as_str(spec.get("storageUri")) or None
        what = "Seldon Core 2 model" if obj.kind == "Model" else "Seldon Core 2 model server"
        return ServedObject(obj, "seldon", obj.line_of("spec"), what,
                            model=obj.name if obj.kind == "Model" else None, storage_uri=uri)
    if obj.kind == "RayService" and group == "ray.io":
        return ServedObject(obj, "ray-serve", obj.line_of("spec"), "Ray Serve service",
                            model=obj.name or None)
    if obj.kind not in WORKLOAD_KINDS:
        return None
    near = posixpath.dirname(obj.path)
    model = _model_label(obj)
    for container in containers(pod_spec(obj)):
        image = image_of(container)
        if server := image_server(image):
            return ServedObject(obj, server, line_in(container, "image", default=obj.line),
                                f"runs the model-server image {image}", model=model, image=image)
        tokens = command_tokens(container.get("command"), container.get("args"))
        if match := command_server(ctx, tokens, near):
            line = line_in(container, "command" if "command" in container else "args",
                           default=obj.line)
            return ServedObject(obj, match.server, line, match.reason, model=model,
                                image=image or None)
    return None


def _predictor_storage(predictor: dict[Any, Any]) -> tuple[str | None, str | None]:
    """(storageUri, model format) of a KServe predictor, new or framework-keyed style."""
    model = as_dict(predictor.get("model"))
    if model:
        fmt = as_str(dig(model, "modelFormat", "name")) or None
        return as_str(model.get("storageUri")) or None, fmt
    for framework, body in predictor.items():
        if isinstance(body, dict) and "storageUri" in body:
            return as_str(body.get("storageUri")) or None, str(framework)
    return None, None


def _model_label(obj: KubeObject) -> str | None:
    labels = {**obj.labels, **pod_labels(obj)}
    for key in ("model", "model_name", "app.kubernetes.io/name", "app"):
        if labels.get(key):
            return labels[key]
    return obj.name or None


def serving_names(ctx: RepoContext) -> set[str]:
    """Names and app labels of the model-serving objects, to recognise what refers to them."""
    return ctx.derived("serving.serving_names", lambda: _serving_names(ctx))


def _serving_names(ctx: RepoContext) -> set[str]:
    names: set[str] = set()
    for served in served_objects(ctx):
        names.add(served.obj.name)
        labels = {**served.obj.labels, **pod_labels(served.obj)}
        names.update(labels.get(k, "") for k in ("app", "app.kubernetes.io/name"))
    names.discard("")
    return names


def is_served(ctx: RepoContext, kind: str, name: str) -> bool:
    """Whether the repository's object `kind/name` serves a model."""
    served = ctx.derived("serving.served_keys",
                         lambda: {(s.obj.kind, s.obj.name) for s in served_objects(ctx)})
    return (kind, name) in served


def mentions_model(*texts: str) -> bool:
    """Whether names or hosts read as model serving (`churn-model`, `fraud-predictor`)."""
    for text in texts:
        words = re.split(r"[^a-z0-9]+", text.lower())
        if any(word in MODEL_WORDS for word in words):
            return True
    return False


@detector(signals=["serving.model_server"], wants=YAML_GLOBS)
def kubernetes_model_server(ctx: RepoContext) -> Iterator[Finding]:
    """Emits serving.model_server: KServe, Seldon, Ray Serve and model-server workloads.

    InferenceService, ServingRuntime, SeldonDeployment, Seldon Core 2 Model/Server,
    RayService, and Deployments / StatefulSets / Rollouts / Knative Services whose
    container is a model-server image or runs a scoring app.
    """
    for served in served_objects(ctx):
        obj = served.obj
        attributes: dict[str, JsonValue] = {**obj.attributes(), "server": served.server}
        for key, value in (("model", served.model), ("storage_uri", served.storage_uri),
                           ("image", served.image)):
            if value:
                attributes[key] = value
        yield Finding(
            signal="serving.model_server",
            path=obj.path,
            line=served.line,
            summary=f"{obj.describe()} in {obj.path} serves a model: {served.reason}",
            attributes=attributes,
        )


# -- Dockerfiles ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str  # upper case: FROM, CMD, ENTRYPOINT, ...
    arguments: str


def dockerfile_instructions(text: str) -> list[Instruction]:
    """Instructions of a Dockerfile, continuation lines joined, comments dropped."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        joined = " ".join(pending)
        pending = []
        keyword, _, arguments = joined.partition(" ")
        instructions.append(Instruction(start, keyword.upper(), arguments.strip()))
    return instructions


def exec_form(arguments: str) -> list[str]:
    """Words of a CMD / ENTRYPOINT / RUN: JSON exec form or shell form."""
    if arguments.startswith("["):
        try:
            value = json.loads(arguments)
        except ValueError:
            value = None
        if isinstance(value, list):
            return command_tokens(value)
    return split_shell(arguments)


def dockerfile_server(ctx: RepoContext, path: str) -> tuple[int, ServerMatch, str] | None:
    """(line, server, base image) when a Dockerfile builds a model-server image."""
    text = ctx.text(path)
    if text is None:
        return None
    near = posixpath.dirname(path)
    base = ""
    for instruction in dockerfile_instructions(text):
        if instruction.keyword == "FROM":
            words = [w for w in instruction.arguments.split() if not w.startswith("--")]
            base = words[0] if words else ""
            if server := image_server(base):
                return instruction.line, ServerMatch(server, f"builds on {base}"), base
        elif instruction.keyword in ("CMD", "ENTRYPOINT"):
            tokens = exec_form(instruction.arguments)
            if match := command_server(ctx, tokens, near):
                return instruction.line, match, base
    return None


@detector(signals=["serving.model_server"], wants=DOCKERFILE_GLOBS)
def dockerfile_model_server(ctx: RepoContext) -> Iterator[Finding]:
    """Emits serving.model_server: Dockerfiles of model-server images.

    FROM a model-server base image (Triton, TorchServe, TF Serving, MLServer, vLLM...)
    or CMD / ENTRYPOINT running a model server or a scoring app (uvicorn app module,
    `mlflow models serve`, `bentoml serve`, `torchserve --start`).
    """
    for path in ctx.matching(*DOCKERFILE_GLOBS):
        found = dockerfile_server(ctx, path)
        if found is None:
            continue
        line, match, base = found
        attributes: dict[str, JsonValue] = {"kind": "Dockerfile", "server": match.server}
        if base:
            attributes["image"] = base
        yield Finding(
            signal="serving.model_server",
            path=path,
            line=line,
            summary=f"{path} builds a model-server image: it {match.reason}",
            attributes=attributes,
        )


# -- cloud endpoints -------------------------------------------------------------------------------
AZUREML_ONLINE_SCHEMAS = ("managedOnlineEndpoint", "managedOnlineDeployment",
                          "kubernetesOnlineEndpoint", "kubernetesOnlineDeployment")  # fmt: skip
# Batch endpoints score data sets on a schedule or on demand; `batchDeployment` is the
# schema before CLI 2.7 split it into model and pipeline-component deployments.
AZUREML_BATCH_SCHEMAS = ("batchEndpoint", "modelBatchDeployment", "pipelineComponentBatchDeployment",
                         "batchDeployment")  # fmt: skip
AZUREML_SCHEMA_WORDS = {  # for summaries: the schema names are identifiers
    "managedOnlineEndpoint": "managed online endpoint",
    "managedOnlineDeployment": "managed online deployment",
    "kubernetesOnlineEndpoint": "Kubernetes online endpoint",
    "kubernetesOnlineDeployment": "Kubernetes online deployment",
    "batchEndpoint": "batch endpoint",
    "modelBatchDeployment": "model batch deployment",
    "pipelineComponentBatchDeployment": "pipeline component batch deployment",
    "batchDeployment": "batch deployment",
}
AZUREML_ENDPOINT_WORDS = vocabulary("OnlineEndpoint", "OnlineDeployment", "batchEndpoint",
                                    "BatchDeployment", "batchDeployment")  # fmt: skip


@dataclass(frozen=True)
class AzureMLDoc:
    path: str
    schema: str  # one of AZUREML_ONLINE_SCHEMAS or AZUREML_BATCH_SCHEMAS
    body: dict[Any, Any]
    line: int

    @property
    def online(self) -> bool:
        return self.schema in AZUREML_ONLINE_SCHEMAS


def azureml_endpoint_docs(ctx: RepoContext) -> list[AzureMLDoc]:
    """Azure ML online and batch endpoint and deployment YAML files (CLI v2 `$schema`)."""

    def build() -> list[AzureMLDoc]:
        found = []
        for path in ctx.config_mentioning(*AZUREML_ENDPOINT_WORDS, globs=YAML_GLOBS):
            for doc in yaml_documents(ctx, path):
                body = as_dict(doc)
                schema_url = as_str(body.get("$schema")).rsplit("/", 1)[-1]
                schema = schema_url.removesuffix(".schema.json")
                if schema in AZUREML_ONLINE_SCHEMAS or schema in AZUREML_BATCH_SCHEMAS:
                    found.append(AzureMLDoc(path, schema, body, line_in(body, "$schema")))
        return found

    return ctx.derived("serving.azureml_endpoints", build)


def azureml_online_docs(ctx: RepoContext) -> list[AzureMLDoc]:
    """Azure ML online endpoints and deployments (the ones that split traffic and autoscale)."""
    return [doc for doc in azureml_endpoint_docs(ctx) if doc.online]


def _azureml_model(body: dict[Any, Any]) -> str | None:
    model = body.get("model")
    if isinstance(model, dict):
        return as_str(model.get("name")) or as_str(model.get("path")) or None
    return as_str(model) or None


@detector(signals=["serving.model_server"], wants=(*CLOUDFORMATION_GLOBS, *TERRAFORM_GLOBS))
def cloud_endpoint_definition(ctx: RepoContext) -> Iterator[Finding]:
    """Emits serving.model_server: SageMaker, Azure ML and Vertex endpoints defined as code.

    AWS::SageMaker::Endpoint (CloudFormation), aws_sagemaker_endpoint and
    google_vertex_ai_endpoint (Terraform), Azure ML online and batch endpoint / deployment
    YAML (a batch endpoint serves a model to scoring jobs instead of requests).
    """
    for resource in cloudformation_resources(ctx):
        if resource.type == "AWS::SageMaker::Endpoint":
            name = as_str(resource.properties.get("EndpointName")) or resource.logical_id
            yield Finding(
                signal="serving.model_server",
                path=resource.path,
                line=resource.line,
                summary=f"{resource.path} defines the SageMaker endpoint {resource.logical_id}",
                attributes={"kind": resource.type, "server": "sagemaker", "name": name},
            )
    tf_endpoints = {"aws_sagemaker_endpoint": ("sagemaker", "SageMaker"),
                    "google_vertex_ai_endpoint": ("vertex", "Vertex AI")}  # fmt: skip
    for block in terraform_blocks(ctx):
        if block.type in tf_endpoints:
            server, label = tf_endpoints[block.type]
            yield Finding(
                signal="serving.model_server",
                path=block.path,
                line=block.line,
                summary=f"{block.path} defines the {label} endpoint {block.type}.{block.name}",
                attributes={"kind": block.type, "server": server, "name": block.name},
            )
    for doc in azureml_endpoint_docs(ctx):
        attributes: dict[str, JsonValue] = {"kind": doc.schema, "server": "azureml"}
        for key, value in (
            ("name", as_str(doc.body.get("name"))),
            ("endpoint", as_str(doc.body.get("endpoint_name"))),
            ("model", _azureml_model(doc.body)),
            ("component", as_str(doc.body.get("component"))),
            ("scoring_script", as_str(dig(doc.body, "code_configuration", "scoring_script"))),
        ):
            if value:
                attributes[key] = value
        yield Finding(
            signal="serving.model_server",
            path=doc.path,
            line=doc.line,
            summary=f"{doc.path} defines an Azure ML {AZUREML_SCHEMA_WORDS[doc.schema]}",
            attributes=attributes,
        )


# Endpoint-creating calls in code: (server, imported module, resolved prefixes, method
# names, keywords one of which a method call must pass).
_ENDPOINT_CALLS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("vertex", "google.cloud.aiplatform",
     ("google.cloud.aiplatform.Endpoint.create", "google.cloud.aiplatform.PrivateEndpoint.create"),
     ("deploy",), ("machine_type", "traffic_split", "traffic_percentage", "min_replica_count")),
    ("sagemaker", "sagemaker", (), ("deploy",),
     ("initial_instance_count", "instance_type", "serverless_inference_config", "endpoint_name")),
    ("sagemaker", "boto3", (), ("create_endpoint",), ("EndpointConfigName",)),
    ("sagemaker", "aws_cdk", ("aws_cdk.aws_sagemaker.CfnEndpoint",), (), ()),
    ("azureml", "azure.ai.ml",
     ("azure.ai.ml.entities.ManagedOnlineEndpoint", "azure.ai.ml.entities.ManagedOnlineDeployment",
      "azure.ai.ml.entities.KubernetesOnlineEndpoint",
      "azure.ai.ml.entities.KubernetesOnlineDeployment"), (), ()),
)  # fmt: skip


@detector(signals=["serving.model_server"], wants=["**/*.py"])
def endpoint_in_code(ctx: RepoContext) -> Iterator[Finding]:
    """Emits serving.model_server: code that creates a Vertex, SageMaker or Azure ML endpoint."""
    for path, facts in ctx.python_mentioning(*ENDPOINT_WORDS):
        if is_test_path(path):
            continue
        for server, module, prefixes, methods, keywords in _ENDPOINT_CALLS:
            if facts.imports_any(module) is None:
                continue
            calls = facts.calls_to(*prefixes) if prefixes else []
            calls += [c for c in facts.calls_named(*methods) if c.keywords & set(keywords)]
            if calls:
                call = min(calls, key=lambda c: c.line)
                yield Finding(
                    signal="serving.model_server",
                    path=path,
                    line=call.line,
                    summary=f"{path} creates a {server} model endpoint (calls {call.name})",
                    attributes={"kind": "code", "server": server, "call": call.name},
                )
                break


# Cloud CLI commands that create, update or call a model endpoint, by program:
# (server, label, verbs that follow the program; alpha / beta tracks ignored).
_ENDPOINT_COMMANDS: dict[str, tuple[str, str, frozenset[tuple[str, ...]]]] = {
    "az": ("azureml", "Azure ML", frozenset(
        {("ml", f"{mode}-endpoint", action) for mode in ("online", "batch")
         for action in ("create", "update", "invoke")}
        | {("ml", f"{mode}-deployment", action) for mode in ("online", "batch")
           for action in ("create", "update")})),
    "aws": ("sagemaker", "SageMaker", frozenset(
        {("sagemaker", "create-endpoint"), ("sagemaker", "update-endpoint")})),
    "gcloud": ("vertex", "Vertex AI", frozenset(
        {("ai", "endpoints", "create"), ("ai", "endpoints", "deploy-model")})),
}  # fmt: skip


def _endpoint_verbs(call: Invocation, known: frozenset[tuple[str, ...]]) -> tuple[str, ...] | None:
    verbs = tuple(v for v in call.verbs(5) if v not in ("alpha", "beta"))
    return next((v for v in (verbs[:2], verbs[:3]) if v in known), None)


@detector(signals=["serving.model_server"], wants=CI_GLOBS)
def endpoint_in_ci(ctx: RepoContext) -> Iterator[Finding]:
    """Emits serving.model_server: CI jobs that create, update or invoke a cloud model endpoint.

    `az ml online-endpoint|batch-endpoint create|update|invoke`, `az ml online-deployment|
    batch-deployment create|update`, `aws sagemaker create-endpoint|update-endpoint`,
    `gcloud ai endpoints create|deploy-model`; one finding per job, at its first such command.
    """
    by_job: dict[tuple[str, int, str], list[tuple[Invocation, str, str]]] = {}
    for program, (server, _, known) in _ENDPOINT_COMMANDS.items():
        for call in invocations(ctx, program):
            verbs = _endpoint_verbs(call, known)
            if verbs is not None:
                key = (call.job.file, call.job.line, call.job.name)
                by_job.setdefault(key, []).append((call, server, f"{program} {' '.join(verbs)}"))
    for calls in by_job.values():
        first, server, shown = min(calls, key=lambda c: (c[0].command.file, c[0].command.line))
        job = first.job
        label = _ENDPOINT_COMMANDS[shown.split()[0]][1]
        attributes: dict[str, JsonValue] = {
            "kind": "ci", "server": server, "system": job.system, "job": job.name,
            "commands": sorted({c[2] for c in calls}),
        }  # fmt: skip
        name = first.option("--name", "-n", "--endpoint-name", "-e", "--endpoint")
        if name and "$" not in name:
            attributes["endpoint"] = name
        yield Finding(
            signal="serving.model_server",
            path=first.command.file,
            line=first.command.line,
            summary=f"job `{job.name}` in {job.file} manages a model endpoint ({label}): `{shown}`",
            attributes=attributes,
        )


# -- progressive delivery --------------------------------------------------------------------------
@detector(signals=["serving.progressive_delivery"], wants=YAML_GLOBS)
def kubernetes_progressive_delivery(ctx: RepoContext) -> Iterator[Finding]:
    """Emits serving.progressive_delivery: traffic split between model versions in manifests.

    KServe canaryTrafficPercent, Seldon predictor traffic / shadow, Seldon Core 2
    Experiments, Argo Rollouts canary / blue-green and Flagger Canaries of a model
    server, Istio VirtualService weights between model services.
    """
    for obj in kube_objects(ctx):
        found = _split(ctx, obj)
        if found is None:
            continue
        line, strategy, reason, extra = found
        yield Finding(
            signal="serving.progressive_delivery",
            path=obj.path,
            line=line,
            summary=f"{obj.describe()} in {obj.path} {reason}",
            attributes={**obj.attributes(), "strategy": strategy, **extra},
        )


def _split(
    ctx: RepoContext, obj: KubeObject
) -> tuple[int, str, str, dict[str, JsonValue]] | None:
    spec = obj.spec
    if obj.kind == "InferenceService":
        for keys in (("spec", "predictor", "canaryTrafficPercent"),
                     ("spec", "canaryTrafficPercent")):
            percent = dig(obj.body, *keys)
            if isinstance(percent, int | float) and not isinstance(percent, bool):
                return (obj.line_of(*keys), "canary",
                        f"sends {percent}% of traffic to the latest model revision (canary)",
                        {"percent": percent})  # fmt: skip
        return None
    if obj.kind == "SeldonDeployment":
        predictors = [as_dict(p) for p in as_list(spec.get("predictors"))]
        if any(p.get("shadow") is True for p in predictors):
            return obj.line_of("spec", "predictors"), "shadow", "mirrors traffic to a shadow model", {}
        weights = {as_str(p.get("name")): p.get("traffic") for p in predictors
                   if isinstance(p.get("traffic"), int)}  # fmt: skip
        if len(predictors) > 1 and sum(1 for w in weights.values() if w) > 1:
            return (obj.line_of("spec", "predictors"), "split",
                    "splits traffic between model predictors", {"traffic": weights})  # fmt: skip
        return None
    if obj.kind == "Experiment" and obj.group == "mlops.seldon.io":
        candidates = as_list(spec.get("candidates"))
        if spec.get("mirror"):
            return obj.line_of("spec", "mirror"), "shadow", "mirrors traffic to a model", {}
        if len(candidates) > 1:
            return (obj.line_of("spec", "candidates"), "split",
                    f"splits traffic between {len(candidates)} model candidates", {})  # fmt: skip
        return None
    if obj.kind == "Rollout" and obj.group == "argoproj.io":
        strategy = next((s for s in ("canary", "blueGreen") if dig(spec, "strategy", s)), None)
        if strategy is None or not _rollout_serves_model(ctx, obj):
            return None
        return (obj.line_of("spec", "strategy", strategy), strategy,
                f"rolls out a model server with an Argo Rollouts {strategy} strategy", {})
    if obj.kind == "Canary" and obj.group == "flagger.app":
        target = as_dict(spec.get("targetRef"))
        kind, name = as_str(target.get("kind")) or "Deployment", as_str(target.get("name"))
        if not is_served(ctx, kind, name):
            return None
        return (obj.line_of("spec", "targetRef"), "canary",
                f"runs Flagger canary analysis of the model server {kind} `{name}`",
                {"target": name})  # fmt: skip
    if obj.kind == "VirtualService" and obj.group == "networking.istio.io":
        return _weighted_routes(ctx, obj)
    return None


def _rollout_serves_model(ctx: RepoContext, obj: KubeObject) -> bool:
    if is_served(ctx, obj.kind, obj.name):
        return True
    ref = as_dict(dig(obj.spec, "workloadRef"))
    kind, name = as_str(ref.get("kind")) or "Deployment", as_str(ref.get("name"))
    return bool(name) and is_served(ctx, kind, name)


def _weighted_routes(
    ctx: RepoContext, obj: KubeObject
) -> tuple[int, str, str, dict[str, JsonValue]] | None:
    model_names = serving_names(ctx)
    hosts = [as_str(h) for h in as_list(obj.spec.get("hosts"))]
    http = as_list(obj.spec.get("http"))
    for index, route in enumerate(http):
        destinations = [as_dict(d) for d in as_list(as_dict(route).get("route"))]
        weighted = [d for d in destinations
                    if isinstance(d.get("weight"), int) and d["weight"] > 0]  # fmt: skip
        if len(weighted) < 2:
            continue
        targets = [as_str(dig(d, "destination", "host")) for d in weighted]
        subsets = [as_str(dig(d, "destination", "subset")) for d in weighted]
        first_labels = [t.split(".", 1)[0] for t in targets]
        known = any(label.startswith(tuple(model_names)) for label in first_labels if model_names)
        if known or mentions_model(obj.name, *hosts, *targets):
            split = {f"{t}{'/' + s if s else ''}": d["weight"]
                     for t, s, d in zip(targets, subsets, weighted, strict=True)}  # fmt: skip
            line = line_in(as_dict(route), "route", default=yamlio.line_of(http, index) or obj.line)
            return line, "split", "splits traffic between model services by weight", {"traffic": split}
    return None


@detector(signals=["serving.progressive_delivery"], wants=(*CLOUDFORMATION_GLOBS, *TERRAFORM_GLOBS))
def endpoint_traffic_split(ctx: RepoContext) -> Iterator[Finding]:
    """Emits serving.progressive_delivery: endpoint variants with weights or shadows.

    SageMaker endpoint configs with several (or shadow) production variants in
    CloudFormation / Terraform; Azure ML endpoints whose `traffic:` splits deployments.
    """
    for resource in cloudformation_resources(ctx):
        if resource.type != "AWS::SageMaker::EndpointConfig":
            continue
        variants = as_list(resource.properties.get("ProductionVariants"))
        shadows = as_list(resource.properties.get("ShadowProductionVariants"))
        if len(variants) > 1 or shadows:
            strategy = "shadow" if shadows else "split"
            names = [as_str(as_dict(v).get("VariantName")) for v in [*variants, *shadows]]
            yield Finding(
                signal="serving.progressive_delivery",
                path=resource.path,
                line=resource.line,
                summary=(f"SageMaker endpoint config {resource.logical_id} in {resource.path} "
                         f"routes traffic across variants {', '.join(n for n in names if n)}"),
                attributes={"kind": resource.type, "strategy": strategy,
                            "variants": len(variants) + len(shadows)},
            )  # fmt: skip
    for block in terraform_blocks(ctx):
        if block.type != "aws_sagemaker_endpoint_configuration":
            continue
        variant_blocks = block.has_block("production_variants")
        shadow_blocks = block.has_block("shadow_production_variants")
        if variant_blocks > 1 or shadow_blocks:
            yield Finding(
                signal="serving.progressive_delivery",
                path=block.path,
                line=block.line,
                summary=(f"SageMaker endpoint configuration {block.name} in {block.path} "
                         f"routes traffic across {variant_blocks + shadow_blocks} variants"),
                attributes={"kind": block.type, "strategy": "shadow" if shadow_blocks else "split",
                            "variants": variant_blocks + shadow_blocks},
            )  # fmt: skip
    for doc in azureml_online_docs(ctx):
        traffic = as_dict(doc.body.get("traffic"))
        mirror = as_dict(doc.body.get("mirror_traffic"))
        live = {str(k): v for k, v in traffic.items() if isinstance(v, int) and v > 0}
        if len(live) > 1 or any(isinstance(v, int) and v > 0 for v in mirror.values()):
            key = "traffic" if len(live) > 1 else "mirror_traffic"
            yield Finding(
                signal="serving.progressive_delivery",
                path=doc.path,
                line=line_in(doc.body, key),
                summary=f"Azure ML endpoint in {doc.path} splits traffic between deployments",
                attributes={"kind": doc.schema, "strategy": "split" if key == "traffic" else "shadow",
                            "traffic": live},
            )  # fmt: skip


# -- autoscaling ----------------------------------------------------------------------------------
@detector(signals=["serving.autoscaling"], wants=YAML_GLOBS)
def kubernetes_autoscaling(ctx: RepoContext) -> Iterator[Finding]:
    """Emits serving.autoscaling: autoscaled model servers in manifests.

    HPAs and KEDA ScaledObjects targeting a model server, KServe min/max replicas and
    scale targets, Knative autoscaling annotations, Seldon hpaSpec / kedaSpec, Seldon
    Core 2 Model and Server replica ranges.
    """
    for obj in kube_objects(ctx):
        found = _scales(ctx, obj)
        if found is None:
            continue
        line, reason, extra = found
        yield Finding(
            signal="serving.autoscaling",
            path=obj.path,
            line=line,
            summary=f"{obj.describe()} in {obj.path} {reason}",
            attributes={**obj.attributes(), **extra},
        )


_KNATIVE_AUTOSCALING = "autoscaling.knative.dev/"


def _scales(ctx: RepoContext, obj: KubeObject) -> tuple[int, str, dict[str, JsonValue]] | None:
    spec = obj.spec
    if (obj.kind == "HorizontalPodAutoscaler" and obj.group == "autoscaling") or (
        obj.kind == "ScaledObject" and obj.group == "keda.sh"
    ):
        ref = as_dict(spec.get("scaleTargetRef"))
        kind, name = as_str(ref.get("kind")) or "Deployment", as_str(ref.get("name"))
        served_kinds = ("InferenceService", "SeldonDeployment")
        known = find_object(ctx, kind, name) is not None
        if is_served(ctx, kind, name) or kind in served_kinds or (
            not known and mentions_model(name)
        ):
            extra: dict[str, JsonValue] = {"target": f"{kind}/{name}"}
            for key in ("minReplicas", "maxReplicas", "minReplicaCount", "maxReplicaCount"):
                if isinstance(spec.get(key), int):
                    extra[key] = spec[key]
            what = "HPA" if obj.kind == "HorizontalPodAutoscaler" else "KEDA ScaledObject"
            return (obj.line_of("spec", "scaleTargetRef"),
                    f"autoscales the model server {kind} `{name}` ({what})", extra)  # fmt: skip
        return None
    if obj.kind == "InferenceService":
        predictor = as_dict(spec.get("predictor"))
        lo, hi = predictor.get("minReplicas"), predictor.get("maxReplicas")
        for key in ("scaleTarget", "scaleMetric", "autoScaling"):
            if key in predictor:
                return (obj.line_of("spec", "predictor", key),
                        f"autoscales its predictor ({key})", {})  # fmt: skip
        if isinstance(hi, int) and hi > (lo if isinstance(lo, int) else 1):
            return (obj.line_of("spec", "predictor", "maxReplicas"),
                    f"autoscales its predictor between {lo if isinstance(lo, int) else 1} "
                    f"and {hi} replicas", {"minReplicas": lo if isinstance(lo, int) else 1,
                                           "maxReplicas": hi})  # fmt: skip
        return _knative_annotations(obj, ("metadata", "annotations"))
    if obj.kind == "Service" and is_served(ctx, obj.kind, obj.name):
        return _knative_annotations(obj, ("spec", "template", "metadata", "annotations"))
    if obj.kind == "SeldonDeployment":
        for predictor in as_list(spec.get("predictors")):
            for component in as_list(as_dict(predictor).get("componentSpecs")):
                for key in ("hpaSpec", "kedaSpec"):
                    if key in as_dict(component):
                        return (line_in(component, key, default=obj.line),
                                f"autoscales its predictor ({key})", {})  # fmt: skip
        return None
    if obj.group == "mlops.seldon.io" and obj.kind in ("Model", "Server"):
        lo, hi = spec.get("minReplicas"), spec.get("maxReplicas")
        if isinstance(hi, int) and hi > (lo if isinstance(lo, int) else 1):
            return (obj.line_of("spec", "maxReplicas"),
                    f"autoscales up to {hi} replicas", {"maxReplicas": hi})  # fmt: skip
    return None


def _knative_annotations(
    obj: KubeObject, keys: tuple[str, ...]
) -> tuple[int, str, dict[str, JsonValue]] | None:
    annotations = as_dict(dig(obj.body, *keys))
    for key, value in annotations.items():
        if str(key).startswith(_KNATIVE_AUTOSCALING):
            return (line_in(annotations, str(key), default=obj.line),
                    f"sets Knative autoscaling ({key}: {as_str(value)})", {"annotation": str(key)})
    return None


@detector(signals=["serving.autoscaling"], wants=(*CLOUDFORMATION_GLOBS, *TERRAFORM_GLOBS))
def endpoint_autoscaling(ctx: RepoContext) -> Iterator[Finding]:
    """Emits serving.autoscaling: endpoint autoscaling defined as code.

    SageMaker ScalableTargets (CloudFormation AWS::ApplicationAutoScaling::ScalableTarget,
    Terraform aws_appautoscaling_target with service_namespace sagemaker) and Azure ML
    deployments with `scale_settings: {type: target_utilization}`.
    """
    for resource in cloudformation_resources(ctx):
        props = resource.properties
        if resource.type == "AWS::ApplicationAutoScaling::ScalableTarget" and (
            as_str(props.get("ServiceNamespace")) == "sagemaker"
            or as_str(props.get("ScalableDimension")).startswith("sagemaker:")
        ):
            yield Finding(
                signal="serving.autoscaling",
                path=resource.path,
                line=resource.line,
                summary=(f"{resource.path} autoscales a SageMaker endpoint variant "
                         f"({resource.logical_id})"),
                attributes={"kind": resource.type, "server": "sagemaker",
                            "min": props.get("MinCapacity"), "max": props.get("MaxCapacity")},
            )  # fmt: skip
    for block in terraform_blocks(ctx):
        if block.type == "aws_appautoscaling_target" and (
            block.string_attribute("service_namespace") == "sagemaker"
        ):
            yield Finding(
                signal="serving.autoscaling",
                path=block.path,
                line=block.line,
                summary=f"{block.path} autoscales a SageMaker endpoint variant ({block.name})",
                attributes={"kind": block.type, "server": "sagemaker"},
            )
    for doc in azureml_online_docs(ctx):
        if as_str(dig(doc.body, "scale_settings", "type")) == "target_utilization":
            yield Finding(
                signal="serving.autoscaling",
                path=doc.path,
                line=line_in(doc.body, "scale_settings", "type"),
                summary=f"Azure ML deployment in {doc.path} autoscales on target utilisation",
                attributes={"kind": doc.schema, "server": "azureml"},
            )
