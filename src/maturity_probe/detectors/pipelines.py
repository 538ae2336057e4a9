"""Orchestrated ML pipelines, data preparation, data and model versioning, scheduled training.

A pipeline is read from its definition: MLproject, dvc.yaml, Kubeflow (DSL code and
compiled IR), Argo Workflows, Azure ML job YAML and SDK code, SageMaker Pipelines,
Airflow, Prefect, Dagster, Metaflow, ZenML, Kedro and Vertex AI code. Each step gets
the kinds it shows (prepare, featurize, train, evaluate, register, deploy), from its name
and from what it runs: a local script is judged on its code (purposes), an inline
function on its body. Notebooks are never pipelines.

General-purpose orchestrators (Airflow, Prefect, Dagster, Kedro, Argo, DVC) count as ML
pipelines only when a step does ML work; a pipeline of data steps only is a data
pipeline (pipeline.data_preparation). Argo CronWorkflows and Kubernetes CronJobs are
scheduled by the monitoring detectors; schedules written in orchestrator code and
config (Airflow, Prefect, Dagster, Metaflow, ZenML, KFP recurring runs, SageMaker and
Vertex schedules, Azure ML schedules) are read here.
"""

from __future__ import annotations

import itertools
import json
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from maturity_probe import yamlio
from maturity_probe.detectors import detector
from maturity_probe.detectors.ci.registry import CI_GLOBS, Invocation, invocations
from maturity_probe.detectors.context import Finding, RepoContext, vocabulary
from maturity_probe.detectors.manifests import (
    YAML_GLOBS,
    command_tokens,
    dig,
    kube_objects,
    line_in,
    text_lines,
)
from maturity_probe.detectors.monitoring import words_of
from maturity_probe.detectors.purposes import prepares_data, script_purposes
from maturity_probe.detectors.serving import is_test_path, module_files, resolve_repo_file
from maturity_probe.evidence import JsonValue
from maturity_probe.pyfacts import Call, Function, PyFacts, parse_python
from maturity_probe.words import plural
from maturity_probe.yamlio import as_dict, as_list, as_str

STEP_KINDS = ("prepare", "featurize", "train", "evaluate", "register", "deploy")
ML_KINDS = frozenset({"featurize", "train", "evaluate", "register", "deploy"})
DATA_KINDS = frozenset({"prepare", "featurize"})
MAX_STAGE_NAMES = 20
MAX_CALLEES = 12
# Cron presets of Airflow, Prefect and others, as cron expressions.
CRON_PRESETS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
                "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *",
                "@annually": "0 0 1 1 *"}  # fmt: skip

# Words of a step's name that tell its kind (`preprocess-data`, `TrainModel`, `fit`).
NAME_WORDS: dict[str, frozenset[str]] = {
    "prepare": frozenset({
        "prep", "prepare", "preprocess", "preprocessing", "preparation", "clean", "cleaning",
        "cleanse", "ingest", "ingestion", "extract", "etl", "elt", "split", "transform",
        "wrangle", "process", "processing", "collect", "dbt", "dataprep", "preprocessor",
    }),
    "featurize": frozenset({
        "feature", "features", "featurize", "featurise", "featurization", "featurizer",
        "vectorize", "embed", "embeddings", "featureengineering",
    }),
    "train": frozenset({
        "train", "training", "trainer", "retrain", "retraining", "fit", "tune", "tuning",
        "hpo", "hyperparameter", "hyperparameters", "finetune", "finetuning",
    }),
    "evaluate": frozenset({
        "eval", "evaluate", "evaluation", "evaluator", "metrics", "benchmark", "assess",
        "validate", "validation", "validator",
    }),
    "register": frozenset({"register", "registration", "registry", "promote", "promotion"}),
    "deploy": frozenset({"deploy", "deployment", "deployer", "serve", "serving", "rollout",
                         "endpoint"}),
}  # fmt: skip
# Pairs of words that tell a kind no single word does.
NAME_PHRASES: dict[tuple[str, str], str] = {
    ("load", "data"): "prepare", ("download", "data"): "prepare", ("fetch", "data"): "prepare",
    ("upload", "model"): "register", ("model", "upload"): "register", ("push", "model"): "register",
    ("publish", "model"): "register", ("test", "model"): "evaluate",
}  # fmt: skip
# "validate_data", "data_validation": checking data, not evaluating a model.
DATA_CHECK_WORDS = frozenset({"data", "dataset", "schema", "input", "inputs"})
# Operators and step classes that tell what a step does by their own name.
CLASS_WORDS: dict[str, str] = {
    "training": "train", "tuning": "train", "automl": "train", "processing": "prepare",
    "spark": "prepare", "dbt": "prepare", "glue": "prepare", "dataproc": "prepare",
    "bigquery": "prepare", "emr": "prepare", "endpoint": "deploy", "register": "register",
}  # fmt: skip
METRIC_WORDS = frozenset({"accuracy", "auc", "roc", "f1", "precision", "recall", "rmse", "mse",
                          "mae", "r2", "score", "metric", "metrics", "loss", "threshold"})  # fmt: skip

FEATURE_LIBRARIES = ("featuretools", "tsfresh", "feature_engine", "category_encoders",
                     "sklearn.feature_extraction")  # fmt: skip
BUILTINS = frozenset({"print", "len", "str", "int", "float", "bool", "dict", "list", "tuple",
                      "set", "range", "enumerate", "zip", "isinstance", "getattr", "setattr",
                      "super", "open", "format", "sorted", "min", "max", "sum", "any", "all",
                      "type", "repr", "round", "abs", "map", "filter", "next", "iter"})  # fmt: skip

# File types of trained models and of data sets (for DVC outputs and Git LFS patterns).
MODEL_EXTENSIONS = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".keras", ".onnx", ".pb",
                    ".safetensors", ".ckpt", ".tflite", ".mlmodel", ".cbm", ".sav", ".gguf",
                    ".model", ".h5", ".hdf5", ".bin", ".mar", ".engine", ".plan")  # fmt: skip
WEAK_MODEL_EXTENSIONS = (".h5", ".hdf5", ".bin", ".pkl", ".pickle")  # also used for data
MODEL_DIRS = frozenset({"model", "models", "checkpoints", "checkpoint", "weights"})
DATA_EXTENSIONS = (".csv", ".tsv", ".parquet", ".json", ".jsonl", ".feather", ".arrow", ".avro",
                   ".orc", ".xlsx", ".xls", ".npy", ".npz", ".zip", ".gz", ".tar", ".tfrecord",
                   ".txt", ".db", ".sqlite", ".zarr", ".nc", ".jpg", ".jpeg", ".png", ".wav",
                   ".h5", ".hdf5", ".pkl", ".pickle", ".xml", ".delta")  # fmt: skip
DATA_DIRS = frozenset({"data", "datasets", "dataset", "raw", "processed", "interim", "features"})
CODE_EXTENSIONS = (".py", ".r", ".sh", ".ipynb", ".yaml", ".yml", ".toml", ".cfg", ".ini",
                   ".sql", ".js", ".ts", ".scala", ".java", ".md")  # fmt: skip

PIPELINE_GLOBS = ("**/MLproject", "**/dvc.yaml", "**/dvc.lock", "**/*.dvc", "**/.gitattributes",
                  "**/dbt_project.yml", "**/prefect.yaml", "**/*.py", "**/*.json",
                  *YAML_GLOBS)  # fmt: skip
FRAMEWORK_LABELS = {
    "mlflow": "MLflow project", "dvc": "DVC pipeline", "kubeflow": "Kubeflow pipeline",
    "vertex": "Vertex AI pipeline", "argo": "Argo workflow", "azureml": "Azure ML pipeline",
    "sagemaker": "SageMaker pipeline", "airflow": "Airflow DAG", "prefect": "Prefect flow",
    "dagster": "Dagster job", "metaflow": "Metaflow flow", "zenml": "ZenML pipeline",
    "kedro": "Kedro pipeline", "dbt": "dbt project",
}  # fmt: skip


# -- model ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One step of a pipeline and the kinds of work it shows."""

    name: str
    line: int | None
    kinds: frozenset[str]
    because: str = ""  # e.g. "runs src/train.py, which calls sklearn...fit"

    def describe(self) -> str:
        kinds = "/".join(k for k in STEP_KINDS if k in self.kinds) or "unclassified"
        return f"{self.name} ({kinds}{': ' + self.because if self.because else ''})"


@dataclass(frozen=True)
class Gate:
    """A condition that lets later steps run only when an evaluation passes."""

    line: int | None
    reason: str


@dataclass
class Pipeline:
    """A pipeline definition: one file, one framework, its steps and its gates."""

    framework: str
    path: str
    line: int | None
    name: str
    steps: list[Step] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)
    general: bool = False  # a general-purpose orchestrator, not an ML platform
    kind: str = ""  # e.g. "command-job" for a single Azure ML job

    @property
    def kinds(self) -> list[str]:
        """Kinds of all steps, in lifecycle order."""
        present = {kind for step in self.steps for kind in step.kinds}
        return [k for k in STEP_KINDS if k in present]

    @property
    def is_ml(self) -> bool:
        """An ML pipeline: a step does ML work, or an ML platform's pipeline of unknown steps."""
        kinds = set(self.kinds)
        return bool(kinds & ML_KINDS) or (not self.general and bool(self.steps) and not kinds)

    def first(self, *kinds: str) -> Step | None:
        return next((s for s in self.steps if s.kinds & set(kinds)), None)

    def describe(self) -> str:
        label = FRAMEWORK_LABELS.get(self.framework, f"{self.framework} pipeline")
        named = f" `{self.name}`" if self.name else ""
        return f"{label}{named} in {self.path}"


@dataclass(frozen=True)
class Target:
    """What a trigger runs: pipelines of a file (optionally one by name), or just names."""

    paths: tuple[str, ...] = ()
    pipeline: str | None = None
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Trigger:
    """A schedule or a data trigger declared in orchestrator code or config."""

    framework: str
    path: str
    line: int | None
    kind: str  # "schedule" or "data"
    schedule: str  # human: "cron 0 3 * * 1", "@daily", "every 3600 s", "asset sensor"
    target: Target
    cron: str | None = None


# -- step kinds ------------------------------------------------------------------------------------
def name_kinds(*names: str) -> set[str]:
    """Kinds a step's name tells: `preprocess-data` prepares, `TrainModel` trains."""
    kinds: set[str] = set()
    for name in names:
        words = words_of(name)
        present = set(words)
        for kind, kind_words in NAME_WORDS.items():
            if present & kind_words:
                kinds.add(kind)
        for pair in itertools.pairwise(words):
            if pair in NAME_PHRASES:
                kinds.add(NAME_PHRASES[pair])
        if "evaluate" in kinds and present & DATA_CHECK_WORDS and not present & {"model"}:
            kinds.discard("evaluate")  # validate_data checks data, it evaluates no model
    return kinds


def class_kinds(class_name: str) -> set[str]:
    """Kinds an operator or step class tells (`SageMakerTrainingOperator` trains)."""
    return {CLASS_WORDS[w] for w in words_of(class_name) if w in CLASS_WORDS}


def facts_kinds(facts: PyFacts) -> dict[str, str]:
    """Kinds of work a module or function body does, each with the reason."""
    kinds: dict[str, str] = {}
    purposes = script_purposes(facts)
    for purpose in ("train", "evaluate", "register", "deploy"):
        if purpose in purposes:
            kinds[purpose] = purposes[purpose].reason
    evaluation = kinds.get("evaluate", "")
    if "train" in kinds and "mlflow" not in evaluation:
        kinds.pop("evaluate", None)  # metrics computed while training are not an evaluation
    if "train" not in kinds and (prepared := prepares_data(facts)):
        featurizing = facts.imports_any(*FEATURE_LIBRARIES)
        kinds["featurize" if featurizing else "prepare"] = prepared.reason
    return kinds


def script_kinds(ctx: RepoContext, path: str) -> dict[str, str]:
    """Kinds of work a repository script does (parsed once per scan)."""

    def build() -> dict[str, str]:
        facts = ctx.python(path) if path.endswith(".py") else None
        return facts_kinds(facts) if facts is not None else {}

    return ctx.derived(f"pipelines.script_kinds:{path}", build)


def scripts_in(tokens: list[str]) -> list[str]:
    """Python scripts (`python src/train.py`) and modules (`python -m pkg.train`) a command runs."""
    found = []
    for index, token in enumerate(tokens):
        if token.endswith(".py") and not token.startswith("-"):
            found.append(token)
        elif token == "-m" and index + 1 < len(tokens) and index > 0 and (
            "python" in tokens[index - 1]
        ):
            found.append(tokens[index + 1].replace(".", "/") + ".py")
    return found


def command_step(
    ctx: RepoContext, name: str, line: int | None, command: Any, near: str, *extra_names: str
) -> Step:
    """A step that runs a command: kinds from its names and from the scripts it runs."""
    kinds = name_kinds(name, *extra_names)
    reasons = []
    for reference in scripts_in(command_tokens(command)):
        kinds |= name_kinds(posixpath.splitext(posixpath.basename(reference))[0])
        for script in resolve_repo_file(ctx, reference, near)[:1]:
            shown = script_kinds(ctx, script)
            kinds |= set(shown)
            reasons.append(
                f"runs {script}, which {next(iter(shown.values()))}" if shown else f"runs {script}"
            )
        if not reasons:
            reasons.append(f"runs {reference}")
    return Step(name, line, frozenset(kinds), "; ".join(reasons))


# -- resolving functions in Python ---------------------------------------------------------------
def _definition(facts: PyFacts, name: str) -> Function | None:
    return next((d for d in facts.definitions if d.name == name and d.owner is None), None)


def resolve_function(
    ctx: RepoContext, path: str, facts: PyFacts, name: str
) -> tuple[str, PyFacts, Function | None] | None:
    """The file, facts and definition of a called function of this file or a project module."""
    head, _, rest = name.partition(".")
    if not rest and (local := _definition(facts, name)) is not None:
        return path, facts, local
    if head in facts.relative_names:
        name = facts.relative_names[head] + (f".{rest}" if rest else "")
    if name.startswith("."):
        dots = len(name) - len(name.lstrip("."))
        module, _, function = name[dots:].rpartition(".")
        base = posixpath.dirname(path)
        for _ in range(dots - 1):
            base = posixpath.dirname(base)
        stem = posixpath.join(base, module.replace(".", "/")) if module else base
        candidates = [p for p in (f"{stem}.py", f"{stem}/__init__.py") if ctx.exists(p)]
    else:
        module, _, function = name.rpartition(".")
        if not module or facts.imports_any(module) is None:
            return None
        candidates = module_files(ctx, module, near=posixpath.dirname(path))
    target = next((c for c in candidates if c != path), None)
    if target is None:
        return None
    target_facts = ctx.python(target)
    if target_facts is None:
        return None
    return target, target_facts, _definition(target_facts, function)


def function_step(
    ctx: RepoContext,
    path: str,
    facts: PyFacts,
    function: Function,
    *,
    name: str | None = None,
    line: int | None = None,
    home: str | None = None,
) -> Step:
    """A step that is a Python function: kinds from its name, its body, and the project
    functions its body calls (one level). `home` is the file that refers to the function
    (the function's own file when None): reasons name the function's file when it differs."""
    body = facts.within(function)
    shown = facts_kinds(body)
    kinds = name_kinds(name or function.name) | set(shown)
    where = f" of {path}" if home is not None and home != path else ""
    reasons = [f"{function.name}(){where} {reason}" for reason in list(shown.values())[:1]]
    for call in body.calls[: MAX_CALLEES * 4]:
        if call.name in BUILTINS or call.name.startswith("self."):
            continue
        resolved = resolve_function(ctx, path, facts, call.name)
        if resolved is None:
            continue
        callee_path, callee_facts, callee = resolved
        if callee is None or callee == function:
            continue
        callee_shown = facts_kinds(callee_facts.within(callee))
        new = set(callee_shown) - kinds
        if new:
            kinds |= new
            reasons.append(f"calls {callee.name}() of {callee_path}, which "
                           f"{callee_shown[sorted(new)[0]]}")  # fmt: skip
    step_line = line if line is not None else function.line
    return Step(name or function.name, step_line, frozenset(kinds), "; ".join(reasons))


def body_steps(
    ctx: RepoContext,
    path: str,
    facts: PyFacts,
    function: Function,
    skip: tuple[str, ...],
    op_prefixes: tuple[str, ...] = (),
) -> list[Step]:
    """Steps a pipeline function calls: project functions (components, steps, tasks) and,
    by name, components built elsewhere (`train_op = load_component(...)`)."""
    steps: list[Step] = []
    seen: set[str] = set()
    for call in facts.within(function).calls:
        if call.name in seen or call.name in BUILTINS or _under(call.name, skip):
            continue
        seen.add(call.name)
        resolved = resolve_function(ctx, path, facts, call.name)
        if resolved is not None and resolved[2] is not None and resolved[2] != function:
            steps.append(function_step(ctx, resolved[0], resolved[1], resolved[2],
                                       line=call.line, home=path))  # fmt: skip
        elif "." not in call.name or (_under(call.name, op_prefixes) and call.attr[:1].isupper()):
            steps.append(Step(call.attr, call.line,
                              frozenset(name_kinds(call.attr) | class_kinds(call.attr))))  # fmt: skip
        if len(steps) >= MAX_CALLEES * 4:
            break
    return steps


def _under(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _cron_or_text(value: Any) -> tuple[str | None, str]:
    """(cron, human description) of a literal schedule value."""
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text in CRON_PRESETS:
            return CRON_PRESETS[text], text
        if len(text.split()) < 5:
            return None, text
        return text, f"cron {text}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return None, f"every {value} s"
    return None, "a schedule"


# -- YAML and JSON definitions ----------------------------------------------------------------------
def _mlproject(ctx: RepoContext) -> Iterator[Pipeline]:
    for path in ctx.matching("**/MLproject"):
        doc = as_dict(ctx.yaml(path))
        entry_points = as_dict(doc.get("entry_points"))
        if not entry_points:
            continue
        near = posixpath.dirname(path)
        steps = [
            command_step(ctx, str(name), yamlio.line_of(entry_points, name),
                         as_dict(body).get("command"), near)
            for name, body in entry_points.items()
        ]  # fmt: skip
        name = as_str(doc.get("name")) or posixpath.basename(near) or "MLproject"
        line = yamlio.line_of(doc, "entry_points") or None
        yield Pipeline("mlflow", path, line, name, steps)


def dvc_stages(ctx: RepoContext, path: str) -> Iterator[tuple[str, dict[Any, Any], int]]:
    """(name, stage, line) of each stage of a dvc.yaml or dvc.lock (`foreach` stages too)."""
    stages = as_dict(as_dict(ctx.yaml(path)).get("stages"))
    for name, body in stages.items():
        stage = as_dict(body)
        if "do" in stage:  # foreach / matrix stages keep their definition under `do`
            stage = as_dict(stage.get("do")) or stage
        yield str(name), stage, yamlio.line_of(stages, name)


def _dvc(ctx: RepoContext) -> Iterator[Pipeline]:
    for path in ctx.matching("**/dvc.yaml"):
        near = posixpath.dirname(path)
        steps = []
        for name, stage, stage_line in dvc_stages(ctx, path):
            workdir = posixpath.normpath(posixpath.join(near, as_str(stage.get("wdir")) or "."))
            steps.append(command_step(ctx, name, stage_line, stage.get("cmd"),
                                      "" if workdir == "." else workdir))  # fmt: skip
        if steps:
            doc = as_dict(ctx.yaml(path))
            yield Pipeline("dvc", path, yamlio.line_of(doc, "stages") or None, "", steps,
                           general=True)  # fmt: skip


ARGO_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")


def _argo(ctx: RepoContext) -> Iterator[Pipeline]:
    for obj in kube_objects(ctx):
        if obj.group != "argoproj.io" or obj.kind not in ARGO_KINDS:
            continue
        spec = obj.spec
        if obj.kind == "CronWorkflow":
            spec = as_dict(spec.get("workflowSpec"))
        kubeflow = any(key.startswith("pipelines.kubeflow.org") for key in obj.annotations)
        templates = [as_dict(t) for t in as_list(spec.get("templates"))]
        callers = _argo_callers(templates)
        near = posixpath.dirname(obj.path)
        steps = []
        for template in templates:
            name = as_str(template.get("name"))
            step = _argo_template_step(ctx, template, name, callers.get(name, []), near)
            if step is not None:
                steps.append(step)
        kinds_by_name = {s.name: s.kinds for s in steps}
        for caller, template_name in ((c, t) for t, cs in callers.items() for c in cs):
            kinds_by_name.setdefault(caller, kinds_by_name.get(template_name, frozenset()))
        gates = list(_argo_gates(templates, kinds_by_name))
        yield Pipeline("kubeflow" if kubeflow else "argo", obj.path, obj.line,
                       obj.name or obj.kind, steps, gates, general=not kubeflow,
                       kind=obj.kind)  # fmt: skip


def _argo_tasks(template: dict[Any, Any]) -> list[dict[Any, Any]]:
    """DAG tasks and (parallel) steps of a template."""
    tasks = [as_dict(t) for t in as_list(dig(template, "dag", "tasks"))]
    for group in as_list(template.get("steps")):
        items = group if isinstance(group, list) else [group]
        tasks.extend(as_dict(item) for item in items)
    return tasks


def _argo_callers(templates: list[dict[Any, Any]]) -> dict[str, list[str]]:
    """Template name -> names of the tasks and steps that run it."""
    callers: dict[str, list[str]] = {}
    for template in templates:
        for task in _argo_tasks(template):
            target = as_str(task.get("template")) or as_str(dig(task, "templateRef", "template"))
            if target:
                callers.setdefault(target, []).append(as_str(task.get("name")))
    return callers


def _argo_template_step(
    ctx: RepoContext, template: dict[Any, Any], name: str, callers: list[str], near: str
) -> Step | None:
    line = yamlio.line_of(template) or None
    script = as_dict(template.get("script"))
    if script:
        source = as_str(script.get("source"))
        facts = parse_python(source) if "python" in " ".join(
            command_tokens(script.get("command"))) else None  # fmt: skip
        shown = facts_kinds(facts) if facts is not None else {}
        kinds = name_kinds(name, *callers) | set(shown)
        because = f"an inline script that {next(iter(shown.values()))}" if shown else ""
        return Step(name, line, frozenset(kinds), because)
    container = as_dict(template.get("container"))
    containers = [container] if container else [
        as_dict(c) for c in as_list(dig(template, "containerSet", "containers"))
    ]
    if not containers:
        return None  # a DAG or steps template: its tasks are the steps
    command = [part for c in containers for part in command_tokens(c.get("command"),
                                                                   c.get("args"))]  # fmt: skip
    return command_step(ctx, name, line, command, near, *callers)


def _argo_gates(
    templates: list[dict[Any, Any]], kinds_by_name: dict[str, frozenset[str]]
) -> Iterator[Gate]:
    for template in templates:
        for task in _argo_tasks(template):
            when = as_str(task.get("when"))
            if not when:
                continue
            words = set(words_of(when))
            after = next((n for n, kinds in kinds_by_name.items()
                          if "evaluate" in kinds and n and n.lower() in when.lower()), None)  # fmt: skip
            if after or words & METRIC_WORDS:
                yield Gate(yamlio.line_of(task, "when") or None,
                           f"step `{as_str(task.get('name'))}` runs only when `{when}`")  # fmt: skip


KFP_IR_WORDS = vocabulary("pipelineInfo")
AZURE_YAML_WORDS = vocabulary("azureml", "type: pipeline")
AZURE_SCHEDULE_WORDS = vocabulary("create_job")


def _kfp_ir_documents(ctx: RepoContext) -> Iterator[tuple[str, Any, str]]:
    """(path, pipeline spec, text) of compiled KFP v2 pipelines (YAML, or JSON such as Vertex's)."""
    for path in ctx.config_mentioning(*KFP_IR_WORDS, globs=(*YAML_GLOBS, "**/*.json")):
        text = ctx.text(path)
        if text is None or "pipelineInfo" not in text or "deploymentSpec" not in text:
            continue
        if path.lower().endswith(".json"):
            try:
                docs = [json.loads(text)]
            except (ValueError, RecursionError):
                ctx.warn(path, None, "invalid JSON, ignored")
                continue
        else:
            docs = ctx.yaml_docs(path)
        for doc in docs:
            spec = as_dict(doc)
            spec = as_dict(spec.get("pipelineSpec")) or spec
            if "pipelineInfo" in spec and "root" in spec:
                yield path, spec, text


def _kfp_ir(ctx: RepoContext) -> Iterator[Pipeline]:
    for path, spec, text in _kfp_ir_documents(ctx):
        components = as_dict(spec.get("components"))
        executors = as_dict(dig(spec, "deploymentSpec", "executors"))
        near = posixpath.dirname(path)
        dags = [as_dict(dig(spec, "root", "dag"))]
        dags += [as_dict(as_dict(c).get("dag")) for c in components.values()]
        steps: list[Step] = []
        conditions: list[tuple[str, dict[Any, Any]]] = []
        for dag in dags:
            tasks = as_dict(dag.get("tasks"))
            for task_name, body in tasks.items():
                task = as_dict(body)
                if dig(task, "triggerPolicy", "condition"):
                    conditions.append((str(task_name), task))
                component = as_dict(components.get(as_str(dig(task, "componentRef", "name"))))
                executor = as_dict(executors.get(as_str(component.get("executorLabel"))))
                if not executor:
                    continue  # a sub-DAG (condition, loop): its own tasks are the steps
                container = as_dict(executor.get("container"))
                line = yamlio.line_of(tasks, task_name) or None
                steps.append(_kfp_ir_step(ctx, str(task_name), line, container, near))
        gates = [
            Gate(yamlio.line_of(task, "triggerPolicy") or None,
                 f"task `{name}` runs only when `{as_str(dig(task, 'triggerPolicy', 'condition'))}`")
            for name, task in conditions
            if _kfp_condition_gates(task, steps)
        ]  # fmt: skip
        framework = "vertex" if "google-cloud-pipeline-components" in text or (
            "google_cloud_pipeline_components" in text) else "kubeflow"  # fmt: skip
        name = as_str(dig(spec, "pipelineInfo", "name")) or posixpath.basename(path)
        line = yamlio.line_of(spec, "pipelineInfo") or text_lines(text, "pipelineInfo")
        yield Pipeline(framework, path, line, name, steps, gates, kind="compiled")


def _kfp_ir_step(
    ctx: RepoContext, name: str, line: int | None, container: dict[Any, Any], near: str
) -> Step:
    parts = [as_str(p) for p in [*as_list(container.get("command")), *as_list(container.get("args"))]]
    for source in (p for p in parts if "def " in p and "\n" in p):
        facts = parse_python(source)  # a lightweight component's embedded function
        if facts is not None:
            shown = facts_kinds(facts)
            kinds = name_kinds(name) | set(shown)
            because = f"its code {next(iter(shown.values()))}" if shown else ""
            return Step(name, line, frozenset(kinds), because)
    return command_step(ctx, name, line, [p for p in parts if "\n" not in p], near)


def _kfp_condition_gates(task: dict[Any, Any], steps: list[Step]) -> bool:
    condition = as_str(dig(task, "triggerPolicy", "condition"))
    after = {as_str(t) for t in as_list(task.get("dependentTasks"))}
    evaluated = any("evaluate" in s.kinds and s.name in after for s in steps)
    return evaluated or bool(set(words_of(condition)) & METRIC_WORDS)


def _azure_schema(doc: dict[Any, Any]) -> str:
    schema = as_str(doc.get("$schema"))
    return schema if "azureml" in schema.lower() else ""


def _azure_component(ctx: RepoContext, reference: str, near: str) -> tuple[str, dict[Any, Any]]:
    """(path, document) of a local component YAML a job refers to (`./train.yml`, `file:...`)."""
    if reference.startswith("azureml:") or not reference.endswith((".yml", ".yaml")):
        return "", {}
    reference = reference.removeprefix("file:")
    for path in resolve_repo_file(ctx, reference, near)[:1]:
        return path, as_dict(ctx.yaml(path))
    return "", {}


def azure_job_steps(ctx: RepoContext, jobs: dict[Any, Any], near: str) -> list[Step]:
    """Steps of an Azure ML pipeline job's `jobs:` (commands, local components)."""
    steps = []
    for name, body in jobs.items():
        if not isinstance(body, dict):
            continue
        job = body
        component = job.get("component")
        component_doc = as_dict(component)
        component_near = near
        if isinstance(component, str):
            found, component_doc = _azure_component(ctx, component, near)
            component_near = posixpath.dirname(found) if found else near
        command = job.get("command") or component_doc.get("command")
        code = as_str(job.get("code")) or as_str(component_doc.get("code"))
        code_near = component_near if not job.get("code") else near
        workdir = posixpath.normpath(posixpath.join(code_near, code.removeprefix("file:"))) if (
            code and "://" not in code and not code.startswith("azureml:")) else code_near  # fmt: skip
        workdir = "" if workdir == "." else workdir
        line = yamlio.line_of(jobs, name) or None
        steps.append(command_step(ctx, str(name), line, command, workdir,
                                  as_str(component_doc.get("name")),
                                  as_str(job.get("display_name"))))  # fmt: skip
    return steps


def _azure_yaml(ctx: RepoContext) -> Iterator[Pipeline]:
    for path in ctx.config_mentioning(*AZURE_YAML_WORDS, globs=YAML_GLOBS):
        text = ctx.text(path)
        if text is None or ("jobs" not in text and "command" not in text):
            continue
        doc = as_dict(ctx.yaml(path))
        schema = _azure_schema(doc)
        job_type = as_str(doc.get("type"))
        near = posixpath.dirname(path)
        name = as_str(doc.get("display_name")) or as_str(doc.get("name")) or as_str(
            doc.get("experiment_name")) or posixpath.basename(path)  # fmt: skip
        jobs = as_dict(doc.get("jobs"))
        if (job_type == "pipeline" or "pipelinejob" in schema.lower()) and jobs:
            steps = azure_job_steps(ctx, jobs, near)
            gates = [
                Gate(yamlio.line_of(jobs, job_name) or None,
                     f"job `{job_name}` branches on `{as_str(as_dict(job).get('condition'))}`")
                for job_name, job in jobs.items()
                if as_str(as_dict(job).get("type")) == "if_else"
            ]  # fmt: skip
            if gates and not any("evaluate" in s.kinds for s in steps):
                gates = []
            yield Pipeline("azureml", path, yamlio.line_of(doc, "jobs") or None, name, steps,
                           gates, kind="pipeline-job")  # fmt: skip
        elif schema and ("commandjob" in schema.lower() or "sweepjob" in schema.lower()):
            line = yamlio.line_of(doc, "command") or yamlio.line_of(doc, "trial") or None
            single = azure_job_steps(ctx, {name: doc if "command" in doc else
                                           as_dict(doc.get("trial"))}, near)  # fmt: skip
            yield Pipeline("azureml", path, line, name, single, kind=f"{job_type or 'command'}-job")


def _dbt(ctx: RepoContext) -> Iterator[Pipeline]:
    for path in ctx.matching("**/dbt_project.yml"):
        doc = as_dict(ctx.yaml(path))
        if not doc.get("name"):
            continue
        line = yamlio.line_of(doc, "name") or None
        step = Step("models", line, frozenset({"prepare"}), "dbt transforms data with SQL models")
        yield Pipeline("dbt", path, line, as_str(doc.get("name")), [step], general=True)


# -- Python definitions ---------------------------------------------------------------------------
PYTHON_FRAMEWORK_WORDS = vocabulary("airflow", "prefect", "dagster", "metaflow", "zenml", "kedro",
                                    "kfp", "sagemaker", "aiplatform", "azure",
                                    "google_cloud_pipeline_components")  # fmt: skip


@dataclass
class _Found:
    pipelines: list[Pipeline] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)


def _python_definitions(ctx: RepoContext) -> _Found:
    def build() -> _Found:
        found = _Found()
        for path, facts in ctx.python_mentioning(*PYTHON_FRAMEWORK_WORDS):
            if is_test_path(path):
                continue
            for parse in PYTHON_PARSERS:
                parse(ctx, path, facts, found)
        return found

    return ctx.derived("pipelines.python", build)


def _stem(path: str) -> str:
    return posixpath.splitext(posixpath.basename(path))[0]


def _airflow(ctx: RepoContext, path: str, facts: PyFacts, found: _Found) -> None:
    dags = [c for c in facts.calls if c.name.startswith("airflow.") and c.attr in ("DAG", "dag")]
    bare = [d for d in facts.decorators if d.name.startswith("airflow.") and d.attr == "dag"]
    if not dags and not bare:
        return
    decorated = facts.decorated("airflow.decorators.dag", "airflow.sdk.dag")
    first = min([*dags, *bare], key=lambda c: c.line)
    name = first.text("dag_id") or (first.str_args[0] if first.str_args else "") or (
        decorated[0].name if decorated else _stem(path))  # fmt: skip
    steps = []
    for call in facts.calls:
        if "task_id" not in call.keywords:
            continue
        task = call.text("task_id") or call.attr
        step = command_step(ctx, task, call.line, call.text("bash_command"),
                            posixpath.dirname(path))  # fmt: skip
        kinds = set(step.kinds) | class_kinds(call.attr)
        reasons = [step.because] if step.because else []
        callable_name = call.ref("python_callable")
        if callable_name and (resolved := resolve_function(ctx, path, facts, callable_name)):
            target_path, target_facts, function = resolved
            if function is not None:
                callee = function_step(ctx, target_path, target_facts, function, home=path)
                kinds |= callee.kinds
                reasons += [callee.because] if callee.because else []
        steps.append(Step(task, call.line, frozenset(kinds), "; ".join(reasons)))
    for function in facts.decorated("airflow.decorators.task", "airflow.sdk.task"):
        steps.append(function_step(ctx, path, facts, function))
    found.pipelines.append(Pipeline("airflow", path, first.line, name, steps, general=True))
    for dag in dags:
        keyword = next((k for k in ("schedule", "schedule_interval", "timetable")
                        if k in dag.keywords), None)  # fmt: skip
        if keyword is None:
            continue
        target = Target(paths=(path,))
        value = dag.literal(keyword)
        if dag.has_literal(keyword):
            if value is None or value in ("@once", "None"):
                continue
            cron, text = _cron_or_text(value)
            found.triggers.append(Trigger("airflow", path, dag.line, "schedule", text, target, cron))
        elif facts.calls_to("airflow.datasets.Dataset", "airflow.Dataset", "airflow.sdk.Asset"):
            found.triggers.append(Trigger("airflow", path, dag.line, "data",
                                          "updates of its datasets", target))  # fmt: skip
        else:
            reference = dag.ref(keyword) or "an expression"
            found.triggers.append(Trigger("airflow", path, dag.line, "schedule",
                                          f"a {reference} schedule", target))  # fmt: skip


def _prefect(ctx: RepoContext, path: str, facts: PyFacts, found: _Found) -> None:
    flows = facts.decorated("prefect.flow")
    tasks = facts.decorated("prefect.task")
    task_names = {t.name for t in tasks}
    for flow in flows:
        called = {c.name for c in facts.within(flow).calls}
        steps = [function_step(ctx, path, facts, t) for t in tasks if t.name in called]
        steps += [s for s in body_steps(ctx, path, facts, flow, ("prefect",))
                  if s.name not in task_names]  # fmt: skip
        if not steps:
            steps = [function_step(ctx, path, facts, flow)]
        found.pipelines.append(Pipeline("prefect", path, flow.line, flow.name, steps,
                                        general=True))  # fmt: skip
    if facts.imports_any("prefect") is None:
        return
    schedule_keywords = ("cron", "interval", "rrule", "schedule", "schedules")
    for call in facts.calls:
        flow_name = call.name.rsplit(".", 1)[0] if "." in call.name else ""
        if call.attr in ("serve", "deploy", "to_deployment") and flow_name:
            target = _function_target(ctx, path, facts, flow_name)
        elif call.attr == "build_from_flow" or call.name == "prefect.deployments.Deployment":
            flow_ref = call.ref("flow")
            target = _function_target(ctx, path, facts, flow_ref) if flow_ref else Target()
        else:
            continue
        keyword = next((k for k in schedule_keywords if k in call.keywords), None)
        if keyword is None:
            continue
        cron, text = _cron_or_text(call.literal(keyword))
        if not call.has_literal(keyword):
            cron = _nearby_cron(facts, call)
            text = f"cron {cron}" if cron else f"a {call.ref(keyword) or 'schedule object'} schedule"
        found.triggers.append(Trigger("prefect", path, call.line, "schedule", text, target, cron))


def _nearby_cron(facts: PyFacts, call: Call) -> str | None:
    """The cron of a schedule object built in the same statement (`schedule=CronSchedule(...)`)."""
    for other in facts.calls:
        if call.line <= other.line <= call.line + 15 and other.attr.endswith(("Schedule", "Trigger")):
            cron = other.text("cron", "expression", "cron_expression") or (
                other.str_args[0] if other.str_args else None)  # fmt: skip
            if cron:
                return cron
    return None


def _function_target(ctx: RepoContext, path: str, facts: PyFacts, name: str) -> Target:
    """The pipeline a reference names: a function here or in a project module."""
    resolved = resolve_function(ctx, path, facts, name)
    if resolved is None:
        return Target(names=(name,))
    function = resolved[2]
    return Target(paths=(resolved[0],), pipeline=function.name if function else None,
                  names=(name,))  # fmt: skip


def _module_target(ctx: RepoContext, path: str, facts: PyFacts, name: str | None) -> Target:
    """The file that defines a referenced job (here, or the project module it comes from)."""
    if not name:
        return Target(paths=(path,))
    module = name.rpartition(".")[0]
    if module and facts.imports_any(module) is not None:
        files = module_files(ctx, module, near=posixpath.dirname(path))
        if files:
            return Target(paths=(files[0],), names=(name,))
    head = name.split(".")[0]
    if head in facts.relative_names:
        resolved = resolve_function(ctx, path, facts, name)
        if resolved is not None:
            return Target(paths=(resolved[0],), names=(name,))
    return Target(paths=(path,), names=(name,))


def _dagster(ctx: RepoContext, path: str, facts: PyFacts, found: _Found) -> None:
    if facts.imports_any("dagster") is None:
        return
    ops = facts.decorated("dagster.op", "dagster.asset", "dagster.multi_asset",
                          "dagster.graph_asset")  # fmt: skip
    jobs = facts.decorated("dagster.job", "dagster.graph")
    asset_jobs = facts.calls_to("dagster.define_asset_job")
    if ops or jobs or asset_jobs:
        job_names = [j.name for j in jobs] + [
            c.text("name") or (c.str_args[0] if c.str_args else "") for c in asset_jobs]
        steps = [function_step(ctx, path, facts, op) for op in ops]
        for job_function in jobs:
            steps += [s for s in body_steps(ctx, path, facts, job_function, ("dagster",))
                      if s.name not in {o.name for o in ops}]  # fmt: skip
        lines = [d.line for d in (*ops, *jobs)] + [c.line for c in asset_jobs]
        name = next((n for n in job_names if n), _stem(path))
        found.pipelines.append(Pipeline("dagster", path, min(lines), name, steps, general=True))
    for call in facts.calls:
        if call.name in ("dagster.ScheduleDefinition", "dagster.schedule"):
            job = call.ref("job") or call.text("job_name")
            cron, text = _cron_or_text(call.literal("cron_schedule"))
            target = _module_target(ctx, path, facts, job)
            found.triggers.append(Trigger("dagster", path, call.line, "schedule", text, target,
                                          cron))  # fmt: skip
        elif call.name == "dagster.build_schedule_from_partitioned_job":
            job = call.arg_refs[0] if call.arg_refs else call.ref("job")
            found.triggers.append(Trigger("dagster", path, call.line, "schedule",
                                          "the job's partitions",
                                          _module_target(ctx, path, facts, job)))  # fmt: skip
        elif call.name in ("dagster.sensor", "dagster.asset_sensor", "dagster.multi_asset_sensor"):
            job = call.ref("job") or call.text("job_name") or call.ref("target")
            if job is None and "jobs" not in call.keywords:
                continue
            kind = call.attr.replace("_", " ")
            found.triggers.append(Trigger("dagster", path, call.line, "data", f"a {kind}",
                                          _module_target(ctx, path, facts, job)))  # fmt: skip


def _metaflow(ctx: RepoContext, path: str, facts: PyFacts, found: _Found) -> None:
    for flow in facts.classes:
        if not any(_under(base, ("metaflow.FlowSpec",)) for base in flow.bases):
            continue
        steps = [
            function_step(ctx, path, facts, method)
            for method in facts.definitions
            if method.owner == flow.name and any(_under(d, ("metaflow.step",)) for d in method.decorators)
        ]  # fmt: skip
        found.pipelines.append(Pipeline("metaflow", path, flow.line, flow.name, steps))
        for decorator in facts.decorators:
            if decorator.name != "metaflow.schedule" or not flow.line - 20 <= decorator.line:
                continue
            if decorator.line > flow.line:
                continue
            call = next((c for c in facts.calls if c.line == decorator.line
                         and c.name == decorator.name), decorator)  # fmt: skip
            cron, text = _cron_or_text(call.literal("cron"))
            for period in ("hourly", "daily", "weekly"):
                if call.literal(period) is True:
                    cron, text = _cron_or_text(f"@{period}")
            if not call.keywords:
                cron, text = _cron_or_text("@daily")  # Metaflow's default schedule
            found.triggers.append(Trigger("metaflow", path, call.line, "schedule", text,
                                          Target(paths=(path,), pipeline=flow.name), cron))  # fmt: skip


def _zenml(ctx: RepoContext, path: str, facts: PyFacts, found: _Found) -> None:
    pipelines = facts.decorated("zenml.pipeline", "zenml.pipelines.pipeline")
    for pipeline in pipelines:
        steps = body_steps(ctx, path, facts, pipeline, ("zenml",))
        found.pipelines.append(Pipeline("zenml", path, pipeline.line, pipeline.name, steps))
    scheduled = [c for c in facts.calls if c.attr == "with_options" and "schedule" in c.keywords]
    targets = [_function_target(ctx, path, facts, c.name.rsplit(".", 1)[0]) for c in scheduled]
    target = targets[0] if targets else Target(paths=(path,))
    for call in facts.calls:
        if _under(call.name, ("zenml",)) and call.attr == "Schedule":
            cron, text = _cron_or_text(call.literal("cron_expression"))
            if cron is None and call.has_literal("interval_second"):
                cron, text = _cron_or_text(call.literal("interval_second"))
            found.triggers.append(Trigger("zenml", path, call.line, "schedule", text, target,
                                          cron))  # fmt: skip


def _kedro(ctx: RepoContext, path: str, facts: PyFacts, found: _Found) -> None:
    nodes = facts.calls_to("kedro.pipeline.node", "kedro.pipeline.node.node")
    if not nodes:
        return
    steps = []
    for node in nodes:
        function_name = node.arg_refs[0] if node.arg_refs else node.ref("func")
        name = node.text("name") or (function_name or "node").rsplit(".", 1)[-1]
        kinds = name_kinds(name)
        because = ""
        resolved = resolve_function(ctx, path, facts, function_name) if function_name else None
        if resolved is not None and resolved[2] is not None:
            callee = function_step(ctx, resolved[0], resolved[1], resolved[2], home=path)
            kinds |= callee.kinds
            because = callee.because or f"runs {resolved[2].name}() of {resolved[0]}"
        steps.append(Step(name, node.line, frozenset(kinds), because))
    containing = posixpath.basename(posixpath.dirname(path)) or _stem(path)
    found.pipelines.append(Pipeline("kedro", path, nodes[0].line, containing, steps,
                                    general=True))  # fmt: skip


KFP_PIPELINES = ("kfp.dsl.pipeline", "kfp.v2.dsl.pipeline")
KFP_CONDITIONS = ("kfp.dsl.Condition", "kfp.dsl.If", "kfp.dsl.Elif", "kfp.v2.dsl.Condition")
VERTEX_MODULES = ("google.cloud.aiplatform", "google_cloud_pipeline_components")


def _kubeflow(ctx: RepoContext, path: str, facts: PyFacts, found: _Found) -> None:
    framework = "vertex" if facts.imports_any(*VERTEX_MODULES) else "kubeflow"
    for pipeline in facts.decorated(*KFP_PIPELINES):
        steps = body_steps(ctx, path, facts, pipeline, ("kfp",),
                           op_prefixes=("google_cloud_pipeline_components",))  # fmt: skip
        for op in facts.within(pipeline).calls_to("kfp.dsl.ContainerOp"):
            op_name = op.text("name") or "container-op"
            steps.append(command_step(ctx, op_name, op.line, op.text("command"),
                                      posixpath.dirname(path)))  # fmt: skip
        decorator = next((c for c in facts.calls if c.line == pipeline.line
                          and _under(c.name, KFP_PIPELINES)), None)  # fmt: skip
        name = (decorator.text("name") if decorator else None) or pipeline.name
        gates = []
        if any("evaluate" in s.kinds for s in steps):
            conditions = facts.within(pipeline).calls_to(*KFP_CONDITIONS)
            gates = [Gate(c.line, f"{c.name} at line {c.line} gates later steps on the evaluation")
                     for c in conditions]
        found.pipelines.append(Pipeline(framework, path, pipeline.line, name, steps, gates))
    if facts.imports_any("kfp") is not None:
        for call in facts.calls_named("create_recurring_run"):
            cron, text = _cron_or_text(call.literal("cron_expression"))
            if cron is None and call.has_literal("interval_second"):
                cron, text = _cron_or_text(call.literal("interval_second"))
            found.triggers.append(Trigger("kubeflow", path, call.line, "schedule", text,
                                          _package_target(ctx, path, call), cron))  # fmt: skip
    if facts.imports_any("google.cloud.aiplatform") is not None:
        schedules = facts.calls_to("google.cloud.aiplatform.PipelineJobSchedule")
        for call in facts.calls:
            if "cron" not in call.keywords or not (
                call.attr == "create_schedule" or (schedules and call.attr == "create")
            ):
                continue
            cron, text = _cron_or_text(call.literal("cron"))
            jobs = facts.calls_to("google.cloud.aiplatform.PipelineJob")
            template = next((j.text("template_path") for j in jobs if j.text("template_path")),
                            None)  # fmt: skip
            names = tuple(n for j in [*jobs, *schedules, call] if (n := j.text("display_name")))
            paths = tuple(resolve_repo_file(ctx, template, posixpath.dirname(path))[:1]) if (
                template) else ()  # fmt: skip
            found.triggers.append(Trigger("vertex", path, call.line, "schedule", text,
                                          Target(paths=(*paths, path), names=names), cron))  # fmt: skip


def _package_target(ctx: RepoContext, path: str, call: Call) -> Target:
    package = call.text("pipeline_package_path")
    paths = tuple(resolve_repo_file(ctx, package, posixpath.dirname(path))[:1]) if package else ()
    names = tuple(n for n in (call.text("job_name"), *call.str_args) if n)
    return Target(paths=(*paths, path), names=names)


SAGEMAKER_STEP_KINDS = {"TrainingStep": "train", "TuningStep": "train", "AutoMLStep": "train",
                        "RegisterModel": "register", "EndpointConfigStep": "deploy",
                        "EndpointStep": "deploy"}  # fmt: skip


def _sagemaker(ctx: RepoContext, path: str, facts: PyFacts, found: _Found) -> None:
    definitions = facts.calls_to("sagemaker.workflow.pipeline.Pipeline")
    functions = facts.decorated("sagemaker.workflow.function_step.step")
    if not definitions and not functions:
        return
    steps, gates = [], []
    for call in facts.calls_to("sagemaker.workflow"):
        if not (call.attr.endswith("Step") or call.attr in SAGEMAKER_STEP_KINDS):
            continue
        name = call.text("name") or (call.str_args[0] if call.str_args else call.attr)
        if call.attr == "ConditionStep":
            gates.append(Gate(call.line, f"ConditionStep `{name}` lets later steps run only "
                                         "when its conditions hold"))  # fmt: skip
            continue
        kinds = name_kinds(name)
        if call.attr in SAGEMAKER_STEP_KINDS:
            kinds.add(SAGEMAKER_STEP_KINDS[call.attr])
        if (call.ref("step_args") or "").endswith(".register"):
            kinds.add("register")
        step = command_step(ctx, name, call.line, call.text("code"), posixpath.dirname(path))
        steps.append(Step(name, call.line, frozenset(kinds | step.kinds), step.because))
        if call.attr == "QualityCheckStep" and facts.calls_named("ModelQualityCheckConfig"):
            gates.append(Gate(call.line, f"QualityCheckStep `{name}` fails the pipeline when "
                                         "model quality violates its baseline"))  # fmt: skip
    steps += [function_step(ctx, path, facts, f) for f in functions]
    first = definitions[0] if definitions else None
    name = (first.text("name") if first else None) or _stem(path)
    line = first.line if first else functions[0].line
    found.pipelines.append(Pipeline("sagemaker", path, line, name, steps, gates))
    for call in facts.calls_to("sagemaker.workflow.triggers.PipelineSchedule"):
        value = call.text("cron", "rate", "at")
        cron, text = _cron_or_text(value)
        if value and value.startswith(("cron(", "rate(")):
            cron, text = (value if value.startswith("cron(") else None), value
        found.triggers.append(Trigger("sagemaker", path, call.line, "schedule", text,
                                      Target(paths=(path,)), cron))  # fmt: skip


def _azure_python(ctx: RepoContext, path: str, facts: PyFacts, found: _Found) -> None:
    near = posixpath.dirname(path)
    component_steps = []
    for call in facts.calls_to("azure.ai.ml.command", "azure.ai.ml.load_component"):
        if call.attr == "command":
            code = call.text("code") or "."
            workdir = posixpath.normpath(posixpath.join(near, code))
            component_steps.append(command_step(
                ctx, call.text("name", "display_name") or "command", call.line,
                call.text("command"), "" if workdir == "." else workdir))
            continue
        source = call.text("source") or (call.str_args[0] if call.str_args else "")
        found_path, doc = _azure_component(ctx, source, near)
        if doc:
            workdir = posixpath.normpath(posixpath.join(posixpath.dirname(found_path),
                                                        as_str(doc.get("code")) or "."))  # fmt: skip
            component_steps.append(command_step(
                ctx, as_str(doc.get("name")) or _stem(found_path), call.line, doc.get("command"),
                "" if workdir == "." else workdir))
    for pipeline in facts.decorated("azure.ai.ml.dsl.pipeline"):
        steps = body_steps(ctx, path, facts, pipeline, ("azure",))
        steps += component_steps
        gates = [Gate(c.line, f"{c.name} at line {c.line} branches on the evaluation")
                 for c in facts.within(pipeline).calls_to("azure.ai.ml") if c.attr == "condition"]
        if not any("evaluate" in s.kinds for s in steps):
            gates = []
        found.pipelines.append(Pipeline("azureml", path, pipeline.line, pipeline.name, steps,
                                        gates, kind="sdk"))  # fmt: skip
    for definition in facts.calls_to("azureml.pipeline.core.Pipeline"):
        steps = []
        for call in facts.calls_to("azureml.pipeline.steps"):
            source = call.text("source_directory") or "."
            workdir = posixpath.normpath(posixpath.join(near, source))
            steps.append(command_step(ctx, call.text("name") or call.attr, call.line,
                                      call.text("script_name"),
                                      "" if workdir == "." else workdir))  # fmt: skip
        found.pipelines.append(Pipeline("azureml", path, definition.line,
                                        definition.text("description") or _stem(path), steps,
                                        kind="sdk-v1"))  # fmt: skip
    for call in [*facts.calls_to("azure.ai.ml.entities.JobSchedule"),
                 *facts.calls_to("azureml.pipeline.core.Schedule.create")]:  # fmt: skip
        trigger = next((c for c in facts.calls if c.attr in ("CronTrigger", "RecurrenceTrigger",
                                                             "ScheduleRecurrence")), None)  # fmt: skip
        cron = trigger.text("expression") if trigger else None
        text = f"cron {cron}" if cron else (
            f"every {trigger.literal('interval') or 1} {trigger.text('frequency') or 'period'}"
            if trigger else "a schedule")  # fmt: skip
        found.triggers.append(Trigger("azureml", path, call.line, "schedule", text,
                                      Target(paths=(path,)), cron))  # fmt: skip


PYTHON_PARSERS = (_airflow, _prefect, _dagster, _metaflow, _zenml, _kedro, _kubeflow, _sagemaker,
                  _azure_python)  # fmt: skip


# -- schedules in config files -------------------------------------------------------------------
def _prefect_yaml_triggers(ctx: RepoContext) -> Iterator[Trigger]:
    for path in ctx.matching("**/prefect.yaml", "**/prefect.yml"):
        near = posixpath.dirname(path)
        deployments = as_list(as_dict(ctx.yaml(path)).get("deployments"))
        for deployment in (as_dict(d) for d in deployments):
            schedules = as_list(deployment.get("schedules")) or (
                [deployment["schedule"]] if deployment.get("schedule") else [])  # fmt: skip
            entrypoint = as_str(deployment.get("entrypoint"))
            script, _, flow = entrypoint.partition(":")
            paths = tuple(resolve_repo_file(ctx, script, near)[:1]) if script else ()
            target = Target(paths=paths, pipeline=flow or None,
                            names=(as_str(deployment.get("name")), flow))  # fmt: skip
            for schedule in (as_dict(s) for s in schedules):
                value = schedule.get("cron") or schedule.get("interval") or schedule.get("rrule")
                if value is None:
                    continue
                cron, text = _cron_or_text(value)
                line = yamlio.line_of(schedule) or yamlio.line_of(deployment) or None
                yield Trigger("prefect", path, line, "schedule", text, target, cron)


def _azure_schedule_triggers(ctx: RepoContext) -> list[Trigger]:
    return ctx.derived("pipelines.azure_schedules", lambda: list(_find_azure_schedules(ctx)))


def _find_azure_schedules(ctx: RepoContext) -> Iterator[Trigger]:
    for path in ctx.config_mentioning(*AZURE_SCHEDULE_WORDS, globs=YAML_GLOBS):
        text = ctx.text(path)
        if text is None or "trigger" not in text:
            continue
        doc = as_dict(ctx.yaml(path))
        trigger = as_dict(doc.get("trigger"))
        if not trigger or "create_job" not in doc:
            continue
        cron = as_str(trigger.get("expression")) or None
        description = f"cron {cron}" if cron else (
            f"every {as_str(trigger.get('interval')) or 1} {as_str(trigger.get('frequency'))}")
        job = doc.get("create_job")
        near = posixpath.dirname(path)
        if isinstance(job, str):
            found = _azure_component(ctx, job, near)[0]
            target = Target(paths=(found,) if found else (), names=(job,))
        else:
            target = Target(paths=(path,), names=(as_str(doc.get("name")),))
        line = yamlio.line_of(doc, "trigger") or None
        yield Trigger("azureml", path, line, "schedule", description, target, cron)


def _azure_inline_jobs(ctx: RepoContext) -> Iterator[Pipeline]:
    """Pipelines written inline in an Azure ML schedule (`create_job:` with `jobs:`)."""
    for trigger in _azure_schedule_triggers(ctx):
        if trigger.target.paths != (trigger.path,):
            continue
        job = as_dict(as_dict(ctx.yaml(trigger.path)).get("create_job"))
        jobs = as_dict(job.get("jobs"))
        if jobs:
            steps = azure_job_steps(ctx, jobs, posixpath.dirname(trigger.path))
            yield Pipeline("azureml", trigger.path, yamlio.line_of(job, "jobs") or None,
                           as_str(job.get("display_name")) or trigger.path, steps,
                           kind="pipeline-job")  # fmt: skip


# -- public API -------------------------------------------------------------------------------------
def orchestrated_pipelines(ctx: RepoContext) -> list[Pipeline]:
    """Every pipeline definition of the repository (computed once, shared via ctx.derived)."""

    def build() -> list[Pipeline]:
        found: list[Pipeline] = []
        for finder in (_mlproject, _dvc, _argo, _kfp_ir, _azure_yaml, _azure_inline_jobs, _dbt):
            found.extend(finder(ctx))
        found.extend(_python_definitions(ctx).pipelines)
        return found

    return ctx.derived("pipelines.pipelines", build)


@dataclass(frozen=True)
class ResolvedTrigger:
    trigger: Trigger
    trains: str | None  # why what it runs trains a model


def pipeline_triggers(ctx: RepoContext) -> list[ResolvedTrigger]:
    """Schedules and data triggers with the reason (if any) the thing they run trains."""

    def build() -> list[ResolvedTrigger]:
        triggers = [*_python_definitions(ctx).triggers, *_prefect_yaml_triggers(ctx),
                    *_azure_schedule_triggers(ctx)]  # fmt: skip
        pipelines = orchestrated_pipelines(ctx)
        return [ResolvedTrigger(t, _target_trains(t.target, pipelines)) for t in triggers]

    return ctx.derived("pipelines.triggers", build)


def _target_trains(target: Target, pipelines: list[Pipeline]) -> str | None:
    for pipeline in pipelines:
        if pipeline.path not in target.paths:
            continue
        if target.pipeline and pipeline.name != target.pipeline:
            continue
        step = pipeline.first("train")
        if step is not None:
            return f"{pipeline.describe()} trains in step {step.describe()}"
    for name in target.names:
        if name and "train" in name_kinds(name):
            return f"it runs `{name}`"
    return None


# -- detectors ----------------------------------------------------------------------------------------
def _stage_list(pipeline: Pipeline) -> str:
    shown = [s.describe() for s in pipeline.steps[:6]]
    more = f", and {len(pipeline.steps) - 6} more" if len(pipeline.steps) > 6 else ""
    return "; ".join(shown) + more


@detector(signals=["pipeline.orchestrated"], wants=PIPELINE_GLOBS)
def orchestrated_pipeline(ctx: RepoContext) -> Iterator[Finding]:
    """Emits pipeline.orchestrated: ML pipeline definitions (MLproject, DVC, Kubeflow, Argo,
    Azure ML, SageMaker, Airflow, Prefect, Dagster, Metaflow, ZenML, Kedro, Vertex AI)."""
    for pipeline in orchestrated_pipelines(ctx):
        if not pipeline.is_ml:
            continue
        attributes: dict[str, JsonValue] = {
            "framework": pipeline.framework,
            "steps": pipeline.kinds,
            "stages": [s.name for s in pipeline.steps[:MAX_STAGE_NAMES]],
        }
        if pipeline.name:
            attributes["name"] = pipeline.name
        if pipeline.kind:
            attributes["kind"] = pipeline.kind
        count = len(pipeline.steps)
        yield Finding(
            signal="pipeline.orchestrated",
            path=pipeline.path,
            line=pipeline.line,
            summary=f"{pipeline.describe()} orchestrates {plural(count, 'step')}: "
            f"{_stage_list(pipeline)}",
            attributes=attributes,
        )


@detector(signals=["pipeline.data_preparation"], wants=PIPELINE_GLOBS)
def data_preparation(ctx: RepoContext) -> Iterator[Finding]:
    """Emits pipeline.data_preparation: pipeline steps that prepare data or build features,
    and data pipelines (dbt projects, ETL DAGs)."""
    for pipeline in orchestrated_pipelines(ctx):
        step = pipeline.first(*DATA_KINDS)
        if step is None:
            continue
        kind = "featurize" if "featurize" in step.kinds else "prepare"
        what = "builds features" if kind == "featurize" else "prepares data"
        yield Finding(
            signal="pipeline.data_preparation",
            path=pipeline.path,
            line=step.line if step.line is not None else pipeline.line,
            summary=f"step {step.describe()} of {pipeline.describe()} {what}",
            attributes={"framework": pipeline.framework, "step": step.name, "kind": kind},
        )


@detector(signals=["retrain.scheduled"], wants=PIPELINE_GLOBS)
def scheduled_training(ctx: RepoContext) -> Iterator[Finding]:
    """Emits retrain.scheduled: schedules in orchestrator code and config (Airflow, Prefect,
    Dagster, Metaflow, ZenML, KFP recurring runs, SageMaker, Vertex, Azure ML) of pipelines
    that train."""
    yield from _trigger_findings(ctx, "schedule", "retrain.scheduled")


@detector(signals=["retrain.on_data_change"], wants=PIPELINE_GLOBS)
def data_triggered_training(ctx: RepoContext) -> Iterator[Finding]:
    """Emits retrain.on_data_change: Airflow dataset schedules and Dagster sensors that start
    a pipeline that trains."""
    yield from _trigger_findings(ctx, "data", "retrain.on_data_change")


def _trigger_findings(ctx: RepoContext, kind: str, signal: str) -> Iterator[Finding]:
    for resolved in pipeline_triggers(ctx):
        trigger = resolved.trigger
        if trigger.kind != kind or resolved.trains is None:
            continue
        attributes: dict[str, JsonValue] = {"framework": trigger.framework,
                                            "schedule": trigger.schedule}  # fmt: skip
        if trigger.cron:
            attributes["cron"] = trigger.cron
        yield Finding(
            signal=signal,
            path=trigger.path,
            line=trigger.line,
            summary=f"{trigger.path} starts training on {trigger.schedule}: {resolved.trains}",
            attributes=attributes,
        )


# -- data and model versioning ------------------------------------------------------------------------
def is_model_path(path: str) -> bool:
    """A trained model file or directory (`models/model.pkl`, `model.onnx`, `checkpoints/`)."""
    lowered = path.lower().rstrip("/")
    parts = lowered.split("/")
    name = parts[-1]
    if name.endswith(CODE_EXTENSIONS):
        return False
    in_model_dir = any(part in MODEL_DIRS or part.startswith("model") for part in parts)
    if name.endswith(WEAK_MODEL_EXTENSIONS):
        return in_model_dir
    return name.endswith(MODEL_EXTENSIONS) or (in_model_dir and not name.endswith(DATA_EXTENSIONS))


def is_data_path(path: str) -> bool:
    """A data set file or directory (`data/raw/customers.csv`, `features.parquet`)."""
    lowered = path.lower().rstrip("/")
    if is_model_path(lowered) or lowered.endswith(CODE_EXTENSIONS):
        return False
    parts = lowered.split("/")
    return lowered.endswith(DATA_EXTENSIONS) or any(part in DATA_DIRS for part in parts)


@dataclass(frozen=True)
class Versioned:
    """A data set or model that DVC or Git LFS versions."""

    path: str  # the file that says so
    line: int | None
    item: str  # the versioned data or model path (or LFS pattern)
    tool: str  # dvc | git-lfs
    role: str  # output | input | report (DVC metrics and plots) | tracked | pattern
    how: str  # "tracked by the DVC file x.dvc", "an output of stage `fit` in dvc.yaml", ...


def versioned_items(ctx: RepoContext) -> list[Versioned]:
    """Everything DVC or Git LFS versions (computed once)."""
    return ctx.derived("pipelines.versioned", lambda: list(_find_versioned(ctx)))


def _dvc_entries(node: Any) -> Iterator[tuple[str, int | None]]:
    """(path, line) of `deps` / `outs` entries: strings, or mappings keyed by path."""
    items = as_list(node)
    for index, entry in enumerate(items):
        line = yamlio.line_of(items, index) or None
        if isinstance(entry, str):
            yield entry, line
        elif isinstance(entry, dict):
            if isinstance(entry.get("path"), str):
                yield entry["path"], line
            else:
                for key in entry:
                    yield str(key), line


def _find_versioned(ctx: RepoContext) -> Iterator[Versioned]:
    for path in ctx.matching("**/*.dvc"):
        near = posixpath.dirname(path)
        doc = as_dict(ctx.yaml(path))
        for item, line in _dvc_entries(doc.get("outs")):
            full = posixpath.normpath(posixpath.join(near, item))
            yield Versioned(path, line, full, "dvc", "tracked", f"tracked by the DVC file {path}")
    for path in ctx.matching("**/dvc.yaml", "**/dvc.lock"):
        near = posixpath.dirname(path)
        lock = path.endswith(".lock")
        for stage, body, stage_line in dvc_stages(ctx, path):
            for section in ("outs", "deps", "metrics", "plots"):
                for item, line in _dvc_entries(body.get(section)):
                    full = posixpath.normpath(posixpath.join(near, item))
                    role = {"outs": "output", "deps": "input"}.get(section, "report")
                    pinned = " (content hash pinned)" if lock else ""
                    yield Versioned(path, line or stage_line, full, "dvc", role,
                                    f"an {role} of stage `{stage}` in {path}{pinned}")  # fmt: skip
    for path in ctx.matching("**/.gitattributes"):
        text = ctx.text(path) or ""
        for number, raw in enumerate(text.splitlines(), 1):
            fields = raw.split()
            if len(fields) >= 2 and not fields[0].startswith("#") and "filter=lfs" in fields[1:]:
                pattern = fields[0]
                yield Versioned(path, number, pattern, "git-lfs", "pattern",
                                f"stored with Git LFS by {path}")  # fmt: skip


@detector(signals=["data.versioning"], wants=["**/*.dvc", "**/dvc.yaml", "**/dvc.lock",
                                              "**/.gitattributes"])  # fmt: skip
def data_versioning(ctx: RepoContext) -> Iterator[Finding]:
    """Emits data.versioning: data sets versioned by DVC (.dvc files, dvc.yaml / dvc.lock
    data inputs and outputs) or Git LFS patterns on data files (one finding per file)."""
    yield from _versioning_findings(ctx, "data.versioning", _is_data, "data")


# -- Azure ML data assets ------------------------------------------------------------------------------
# An Azure ML data asset version is immutable (a new one is made on every registration), and
# jobs that name `azureml:NAME:VERSION` read exactly that version: both let a model be traced
# back to its data. A datastore URI (`azureml://datastores/...`) is a location, not a version.
AZURE_DATA_WORDS = vocabulary("data.schema.json")
AZURE_DATA_INPUT_TYPES = ("uri_folder", "uri_file", "mltable")
_AZUREML_PINNED = re.compile(r"^azureml:(?!//)([\w.-]+):([\w.-]+)$")


@dataclass(frozen=True)
class DataAsset:
    """An Azure ML data asset a repository registers or pins a version of."""

    path: str  # the file that says so
    line: int | None
    name: str  # `sales-history`, or `sales-history:20251027` when the version is fixed
    how: str  # "defined in azureml/data/sales.yml", "input `sales` pins version 3", ...


def azureml_data_assets(ctx: RepoContext) -> list[DataAsset]:
    """Azure ML data asset definitions, pinned job inputs and CI registrations (computed once)."""
    return ctx.derived("pipelines.azureml_data", lambda: [
        *_data_asset_definitions(ctx), *_pinned_data_inputs(ctx), *_data_registrations(ctx)])


def _data_asset(doc: Any) -> tuple[str, str] | None:
    """(name, version or '') of an Azure ML data asset YAML document."""
    body = as_dict(doc)
    name = as_str(body.get("name"))
    if not name or not _azure_schema(body).endswith("/data.schema.json"):
        return None
    return name, as_str(body.get("version"))


def _data_asset_definitions(ctx: RepoContext) -> Iterator[DataAsset]:
    for path in ctx.config_mentioning(*AZURE_DATA_WORDS, globs=YAML_GLOBS):
        for doc in ctx.yaml_docs(path):
            if (asset := _data_asset(doc)) is not None:
                name, version = asset
                how = (f"version {version} defined in {path}" if version else
                       f"defined in {path}, each registration an immutable new version")
                yield DataAsset(path, line_in(doc, "$schema") or None,
                                f"{name}:{version}" if version else name, how)  # fmt: skip


def _pinned_data_inputs(ctx: RepoContext) -> Iterator[DataAsset]:
    for path in ctx.config_mentioning(*AZURE_YAML_WORDS, globs=YAML_GLOBS):
        doc = as_dict(ctx.yaml(path))
        if "job" not in _azure_schema(doc).lower() and as_str(doc.get("type")) != "pipeline":
            continue
        sections = [as_dict(doc.get("inputs"))]
        sections += [as_dict(as_dict(job).get("inputs")) for job in as_dict(doc.get("jobs")).values()]
        for inputs in sections:
            for key, value in inputs.items():
                data = as_dict(value)  # a bare string input is a literal, not data
                kind = as_str(data.get("type")) or "uri_folder"
                pinned = _AZUREML_PINNED.match(as_str(data.get("path")))
                if pinned and kind in AZURE_DATA_INPUT_TYPES:
                    name, version = pinned.groups()
                    yield DataAsset(path, yamlio.line_of(inputs, key) or None, f"{name}:{version}",
                                    f"input `{key}` of the job {path} pins version {version}")


def _data_registrations(ctx: RepoContext) -> Iterator[DataAsset]:
    for call in invocations(ctx, "az"):
        if call.verbs(3) != ("ml", "data", "create"):
            continue
        name, version = _registered_asset(ctx, call)
        version_shown = f" --version {version}" if version else ""
        yield DataAsset(call.command.file, call.command.line,
                        name if not version or "$" in version else f"{name}:{version}",
                        f"job `{call.job.name}` registers a new version with "
                        f"`az ml data create{version_shown}`")  # fmt: skip


def _registered_asset(ctx: RepoContext, call: Invocation) -> tuple[str, str]:
    """(name, version) of `az ml data create`, from its options or the YAML file it names."""
    name = call.option("--name", "-n") or ""
    version = call.option("--version", "-v") or ""
    file = call.option("--file", "-f") or ""
    found = resolve_repo_file(ctx, file, call.command.workdir) if file and "$" not in file else []
    asset = next((a for a in map(_data_asset, ctx.yaml_docs(found[0])) if a), None) if found else None
    if asset is not None:
        name, version = name or asset[0], version or asset[1]
    return name or "a data asset", version


@detector(signals=["data.versioning"], wants=(*YAML_GLOBS, *CI_GLOBS))
def azureml_data_versioning(ctx: RepoContext) -> Iterator[Finding]:
    """Emits data.versioning: Azure ML data asset versions (data asset YAML, job inputs
    pinned to `azureml:NAME:VERSION`, `az ml data create` in CI), one finding per file."""
    by_file: dict[str, list[DataAsset]] = {}
    for asset in azureml_data_assets(ctx):
        by_file.setdefault(asset.path, []).append(asset)
    for path, assets in by_file.items():
        names = sorted({a.name for a in assets})
        yield Finding(
            signal="data.versioning",
            path=path,
            line=assets[0].line,
            summary=f"data versioned as Azure ML data assets: {', '.join(names[:5])} ({assets[0].how})",
            attributes={"tool": "azureml", "items": names[:MAX_STAGE_NAMES], "count": len(names)},
        )


@detector(signals=["model.artifact_versioning"], wants=["**/*.dvc", "**/dvc.yaml", "**/dvc.lock",
                                                        "**/.gitattributes"])  # fmt: skip
def model_artifact_versioning(ctx: RepoContext) -> Iterator[Finding]:
    """Emits model.artifact_versioning: model files versioned by DVC (outputs, .dvc files) or
    Git LFS patterns on model files (one finding per file)."""
    yield from _versioning_findings(ctx, "model.artifact_versioning", _is_model, "model")


def _is_model(item: Versioned) -> bool:
    if item.role in ("input", "report"):
        return False  # a model a stage reads is versioned where it is written
    if item.tool == "git-lfs":  # a pattern: `*.pkl`, `models/**`
        name = item.item.lower().rstrip("*/")
        return name.endswith(MODEL_EXTENSIONS) or is_model_path(name.replace("*", "x"))
    return is_model_path(item.item)


def _is_data(item: Versioned) -> bool:
    if item.role == "report" or _is_model(item):
        return False
    return is_data_path(item.item.replace("*", "x"))


def _versioning_findings(
    ctx: RepoContext, signal: str, wanted: Callable[[Versioned], bool], what: str
) -> Iterator[Finding]:
    by_file: dict[str, list[Versioned]] = {}
    for item in versioned_items(ctx):
        if wanted(item):
            by_file.setdefault(item.path, []).append(item)
    for path, items in by_file.items():
        first = items[0]
        names = sorted({i.item for i in items})
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        yield Finding(
            signal=signal,
            path=path,
            line=first.line,
            summary=f"{what} versioned with {first.tool}: {shown} ({first.how})",
            attributes={"tool": first.tool, "items": names[:MAX_STAGE_NAMES], "count": len(names)},
        )
