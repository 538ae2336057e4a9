"""ML code: training scripts, notebooks, experiment tracking, registration, compute stacks.

Every judgement is made on parsed Python (`ast`, see pyfacts): an import that is
commented out, or a call that only appears in a string, is no evidence. Notebooks are
counted as notebooks; their code also counts for tracking, registration and the
modelling stack (a notebook's line numbers are not file lines, so those findings carry
no line).

"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from maturity_probe.detectors import detector
from maturity_probe.detectors.context import (
    Finding,
    RepoContext,
    vocabulary,
)
from maturity_probe.detectors.purposes import ML_LIBRARIES, REGISTRY_CALLS, trains
from maturity_probe.detectors.serving import is_test_path
from maturity_probe.evidence import JsonValue
from maturity_probe.pyfacts import Call, PyFacts
from maturity_probe.words import plural

NOTEBOOK_SAMPLE = 10


def library_words(libraries: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The top-level package names of libraries given by import prefixes (declared words)."""
    return vocabulary(*sorted({p.split(".")[0] for prefixes in libraries.values()
                               for p in prefixes}))  # fmt: skip


# -- vocabularies ------------------------------------------------------------------------------
TRAINING_WORDS = vocabulary("fit", "train", "backward")

# Experiment trackers: library -> import prefixes.
TRACKERS: dict[str, tuple[str, ...]] = {
    "mlflow": ("mlflow",),
    "wandb": ("wandb",),
    "neptune": ("neptune", "neptune_client"),
    "comet_ml": ("comet_ml",),
    "clearml": ("clearml",),
    "aim": ("aim",),
    "dvclive": ("dvclive",),
}
# What a tracker call does, by its last name part.
TRACKING_KINDS: dict[str, str] = {
    "autolog": "autolog",
    "log_metric": "log_metric", "log_metrics": "log_metric", "log": "log_metric",
    "track": "log_metric", "report_scalar": "log_metric", "log_scalar": "log_metric",
    "log_param": "log_param", "log_params": "log_param", "log_parameters": "log_param",
    "log_parameter": "log_param", "connect": "log_param", "set_tag": "log_param",
    "set_tags": "log_param",
    "log_artifact": "log_artifact", "log_artifacts": "log_artifact", "Artifact": "log_artifact",
    "log_figure": "log_artifact", "log_image": "log_artifact", "log_table": "log_artifact",
    "log_dict": "log_artifact", "log_input": "log_artifact", "upload_artifact": "log_artifact",
    "log_model": "log_model",
    "start_run": "run", "init": "run", "init_run": "run", "Experiment": "run", "Run": "run",
    "Live": "run", "set_experiment": "run", "create_experiment": "run", "start": "run",
}  # fmt: skip
# Training-framework loggers and callbacks that send runs to a tracker.
TRACKER_LOGGERS = {"MLFlowLogger": "mlflow", "WandbLogger": "wandb", "NeptuneLogger": "neptune",
                   "CometLogger": "comet_ml", "MLflowCallback": "mlflow",
                   "WandbCallback": "wandb", "NeptuneCallback": "neptune",
                   "CometCallback": "comet_ml", "ClearMLCallback": "clearml",
                   "DVCLiveCallback": "dvclive", "DVCLiveLogger": "dvclive"}  # fmt: skip
TRACKING_WORDS = vocabulary(*TRACKERS, *TRACKER_LOGGERS, "report_to")

# Registries: prefix of the resolved call -> registry.
REGISTRY_PREFIXES = (("mlflow", "mlflow"), ("azureml", "azureml"), ("azure.ai.ml", "azureml"),
                     ("google.cloud.aiplatform", "vertex"), ("wandb", "wandb"),
                     ("sagemaker", "sagemaker"), ("boto3", "sagemaker"))  # fmt: skip
# Method names that register a model, whatever the object, with the registry they imply
# (the file must import that registry's SDK).
REGISTRY_METHODS: dict[str, tuple[str, ...]] = {
    "register_model": ("mlflow", "azureml"),
    "create_model_version": ("mlflow",),
    "create_registered_model": ("mlflow",),
    "set_registered_model_alias": ("mlflow",),
    "transition_model_version_stage": ("mlflow",),
    "create_model_package": ("sagemaker",),
    "link_model": ("wandb",),
}
# "register" also covers register_model, registered_model_name and RegisterModel.
REGISTRATION_WORDS = vocabulary("register", "create_model_version", "model_package", "link_model",
                                "Model.upload", "models.create_or_update",
                                "set_registered_model_alias", "transition_model_version_stage")
SDK_IMPORTS = {"mlflow": ("mlflow",), "azureml": ("azureml", "azure.ai.ml"),
               "sagemaker": ("sagemaker", "boto3"), "wandb": ("wandb",),
               "vertex": ("google.cloud.aiplatform",)}  # fmt: skip
REGISTRY_NAMES = {"mlflow": "MLflow", "azureml": "Azure ML", "sagemaker": "SageMaker",
                  "vertex": "Vertex AI", "wandb": "W&B"}  # fmt: skip

# Modelling stacks: framework -> import / call prefixes.
DISTRIBUTED: dict[str, tuple[str, ...]] = {
    "spark": ("pyspark",),
    "ray": ("ray",),
    "dask": ("dask", "dask_ml"),
    "horovod": ("horovod",),
    "torch.distributed": ("torch.distributed", "torch.nn.parallel.DistributedDataParallel"),
    "deepspeed": ("deepspeed",),
}
DEEP_LEARNING: dict[str, tuple[str, ...]] = {
    "pytorch": ("torch", "pytorch_lightning", "lightning"),
    "tensorflow": ("tensorflow", "keras", "tf_keras"),
    "jax": ("jax", "flax", "optax"),
    "transformers": ("transformers", "sentence_transformers"),
}
DISTRIBUTED_WORDS = library_words(DISTRIBUTED)
DEEP_LEARNING_WORDS = library_words(DEEP_LEARNING)


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _line(path: str, line: int) -> int | None:
    """Lines of notebook code are lines of the joined cells, not of the file."""
    return None if path.lower().endswith(".ipynb") else line


# -- training scripts (shared) -------------------------------------------------------------
@dataclass(frozen=True)
class TrainingScript:
    """A Python file (not a test, not a notebook) that trains a model."""

    path: str
    line: int  # the fit / train call, or the training loop's backward()
    reason: str  # e.g. "calls sklearn.ensemble.RandomForestClassifier.fit"
    library: str  # the ML library it trains with
    libraries: tuple[str, ...]  # every ML library it imports


def training_scripts(ctx: RepoContext) -> list[TrainingScript]:
    """The repository's training scripts (computed once, shared through ctx.derived)."""
    return ctx.derived("mlcode.training_scripts", lambda: list(_find_training_scripts(ctx)))


def _find_training_scripts(ctx: RepoContext) -> Iterator[TrainingScript]:
    for path, facts in ctx.python_mentioning(*TRAINING_WORDS):
        if is_test_path(path):
            continue
        hit = trains(facts)
        if hit is None:
            continue
        libraries = ml_libraries(facts)
        call_name = hit.reason.rsplit(" ", 1)[-1]
        library = next((lib for lib in libraries if _under(call_name, (lib,))), libraries[0])
        yield TrainingScript(path, hit.line, hit.reason, library, tuple(libraries))


def ml_libraries(facts: PyFacts) -> list[str]:
    """The ML libraries a module imports, in the order of their first import."""
    first: dict[str, int] = {}
    for library in ML_LIBRARIES:
        line = facts.imports_any(library)
        if line is not None:
            first[library] = line
    return sorted(first, key=lambda lib: (first[lib], lib))


@detector(signals=["code.ml_training"], wants=["**/*.py"])
def ml_training(ctx: RepoContext) -> Iterator[Finding]:
    """Emits code.ml_training: Python scripts that fit or train a model with an ML library."""
    for script in training_scripts(ctx):
        yield Finding(
            signal="code.ml_training",
            path=script.path,
            line=script.line,
            summary=f"{script.path} trains a model with {script.library}: it {script.reason}",
            attributes={"library": script.library, "libraries": list(script.libraries)},
        )


@detector(signals=["vcs.training_code_versioned"], wants=["**/*.py"])
def training_code_versioned(ctx: RepoContext) -> Iterator[Finding]:
    """Emits vcs.training_code_versioned: training scripts tracked by git (commits, last change)."""
    if ctx.history is None:
        return
    scripts = training_scripts(ctx)
    if not scripts:
        return
    histories = ctx.history.file_history([s.path for s in scripts])
    for script in scripts:
        history = histories.get(script.path)
        if history is None:  # untracked or ignored: not under version control
            continue
        yield Finding(
            signal="vcs.training_code_versioned",
            path=script.path,
            line=script.line,
            summary=(
                f"training script {script.path} is tracked by git: "
                f"{plural(history.commits, 'commit')}, last changed on "
                f"{history.last_change.date().isoformat()}"
            ),
            attributes={
                "commits": history.commits,
                "last_change": history.last_change.isoformat(),
            },
            occurred_at=history.last_change,
        )


# -- notebooks -------------------------------------------------------------------------------
@detector(signals=["code.notebooks"], wants=["**/*.ipynb"])
def notebooks(ctx: RepoContext) -> Iterator[Finding]:
    """Emits code.notebooks: one finding counting the repository's Jupyter notebooks."""
    found = [p for p in ctx.matching("**/*.ipynb") if ".ipynb_checkpoints/" not in p]
    if not found:
        return
    sample = found[:NOTEBOOK_SAMPLE]
    more = f" and {len(found) - len(sample)} more" if len(found) > len(sample) else ""
    yield Finding(
        signal="code.notebooks",
        path=found[0],
        line=None,
        summary=f"{plural(found, 'Jupyter notebook')}: {', '.join(sample)}{more}",
        attributes={"count": len(found), "paths": list(sample)},
    )


# -- experiment tracking ----------------------------------------------------------------------
def tracking_calls(facts: PyFacts) -> list[tuple[str, str, Call]]:
    """(library, kind, call) of every call that logs to an experiment tracker."""
    found = []
    for call in facts.calls:
        library = next((lib for lib, prefixes in TRACKERS.items() if _under(call.name, prefixes)),
                       None)  # fmt: skip
        if library is not None and call.attr in TRACKING_KINDS:
            found.append((library, TRACKING_KINDS[call.attr], call))
        elif call.attr in TRACKER_LOGGERS and "." in call.name:  # an imported class
            found.append((TRACKER_LOGGERS[call.attr], "logger", call))
        elif isinstance(report_to := call.literal("report_to"), str):
            # transformers' TrainingArguments(report_to="wandb")
            for library in TRACKERS:
                if library in report_to:
                    found.append((library, "logger", call))
    return found


@detector(signals=["code.experiment_tracking"], wants=["**/*.py", "**/*.ipynb"])
def experiment_tracking(ctx: RepoContext) -> Iterator[Finding]:
    """Emits code.experiment_tracking: code (scripts and notebooks) that logs runs to a tracker."""
    for path, facts in ctx.python_mentioning(*TRACKING_WORDS, notebooks=True):
        calls = tracking_calls(facts)
        if not calls:
            continue
        calls.sort(key=lambda found: found[2].line)
        library, _, first = calls[0]
        libraries = sorted({lib for lib, _, _ in calls})
        kinds = sorted({kind for _, kind, _ in calls})
        yield Finding(
            signal="code.experiment_tracking",
            path=path,
            line=_line(path, first.line),
            summary=(
                f"{path} logs runs to {', '.join(libraries)} "
                f"({', '.join(kinds)}; first {first.name} at line {first.line})"
            ),
            attributes={"library": library, "libraries": list(libraries), "kinds": list(kinds)},
        )


# -- model registration -----------------------------------------------------------------------
def registration_calls(facts: PyFacts) -> list[tuple[str, Call]]:
    """(registry, call) of every call that puts a model into a model registry."""
    found: dict[int, tuple[str, Call]] = {}

    def add(registry: str, call: Call) -> None:
        found.setdefault(id(call), (registry, call))

    def imported(registry: str) -> bool:
        return facts.imports_any(*SDK_IMPORTS[registry]) is not None

    for call in facts.calls:
        by_prefix = next((reg for prefix, reg in REGISTRY_PREFIXES if _under(call.name, (prefix,))),
                         None)  # fmt: skip
        if _under(call.name, REGISTRY_CALLS) and by_prefix:
            add(by_prefix, call)
        elif call.name.startswith("google.cloud.aiplatform.Model.upload"):
            add("vertex", call)
        elif "registered_model_name" in call.keywords and imported("mlflow") and (
            not call.has_literal("registered_model_name")
            or call.literal("registered_model_name") is not None
        ):
            add("mlflow", call)
        elif call.attr in REGISTRY_METHODS:
            registry = next((r for r in REGISTRY_METHODS[call.attr] if imported(r)), None)
            if registry is not None:
                add(registry, call)
        elif _sagemaker_registers(call) and imported("sagemaker"):
            add("sagemaker", call)
        elif call.name.endswith("models.create_or_update") and facts.imports_any("azure.ai.ml"):
            add("azureml", call)
    return sorted(found.values(), key=lambda item: item[1].line)


def _sagemaker_registers(call: Call) -> bool:
    """RegisterModel steps, and Model.register / Estimator.register (model packages)."""
    if call.name.startswith("sagemaker.workflow.step_collections.RegisterModel"):
        return True
    return call.attr == "register" and not _under(call.name, ("atexit", "abc", "functools"))


def _model_name(call: Call) -> str | None:
    named = call.text("registered_model_name", "name", "model_name", "model_package_group_name")
    if named:
        return named
    if call.attr == "register_model" and call.str_args:
        return call.str_args[-1]  # register_model(model_uri, name)
    if call.attr in ("create_model_version", "create_registered_model",
                     "set_registered_model_alias", "transition_model_version_stage") and (
        call.str_args
    ):
        return call.str_args[0]  # the registered model's name comes first
    return None


@detector(signals=["code.model_registration"], wants=["**/*.py", "**/*.ipynb"])
def model_registration(ctx: RepoContext) -> Iterator[Finding]:
    """Emits code.model_registration: calls that register a model (MLflow, SageMaker, Azure ML,
    Vertex AI, W&B)."""
    for path, facts in ctx.python_mentioning(*REGISTRATION_WORDS, notebooks=True):
        for registry, call in registration_calls(facts):
            attributes: dict[str, JsonValue] = {"registry": registry, "call": call.name}
            model = _model_name(call)
            if model:
                attributes["model"] = model
            named = f" `{model}`" if model else ""
            yield Finding(
                signal="code.model_registration",
                path=path,
                line=_line(path, call.line),
                summary=(
                    f"{path} registers a model{named} in the {REGISTRY_NAMES[registry]} "
                    f"registry ({call.name} at line {call.line})"
                ),
                attributes=attributes,
            )


# -- modelling stack --------------------------------------------------------------------------
def framework_use(facts: PyFacts, prefixes: tuple[str, ...]) -> int | None:
    """Line of the first import of a framework that the module really uses (calls or subclasses).

    An import alone, never used, says little; a commented-out one says nothing.
    """
    line = facts.imports_any(*prefixes)
    used = any(_under(c.name, prefixes) for c in facts.calls) or any(
        _under(base, prefixes) for cls in facts.classes for base in cls.bases
    ) or any(_under(d.name, prefixes) for d in facts.decorators)
    if not used:
        return None
    if line is None:  # e.g. `import torch` then torch.distributed.init_process_group()
        line = min(c.line for c in facts.calls if _under(c.name, prefixes))
    return line


def _stack_findings(
    ctx: RepoContext,
    signal: str,
    frameworks: dict[str, tuple[str, ...]],
    words: tuple[str, ...],
    what: str,
) -> Iterator[Finding]:
    users: dict[str, list[tuple[str, int]]] = {}
    for path, facts in ctx.python_mentioning(*words, notebooks=True):
        if is_test_path(path):
            continue
        for framework, prefixes in frameworks.items():
            line = framework_use(facts, prefixes)
            if line is not None:
                users.setdefault(framework, []).append((path, line))
    for framework, files in users.items():
        # a script says more than a notebook: it is the first example when there is one
        files.sort(key=lambda item: (item[0].lower().endswith(".ipynb"), item[0]))
        path, line = files[0]
        others = f" and {plural(len(files) - 1, 'other file')}" if len(files) > 1 else ""
        verb = "use" if len(files) > 1 else "uses"
        yield Finding(
            signal=signal,
            path=path,
            line=_line(path, line),
            summary=f"{path}{others} {verb} {what} {framework}",
            attributes={"framework": framework, "files": len(files)},
        )


@detector(signals=["code.distributed_compute"], wants=["**/*.py", "**/*.ipynb"])
def distributed_compute(ctx: RepoContext) -> Iterator[Finding]:
    """Emits code.distributed_compute: code using Spark, Ray, Dask, Horovod, torch.distributed or
    DeepSpeed (one finding per framework)."""
    yield from _stack_findings(ctx, "code.distributed_compute", DISTRIBUTED, DISTRIBUTED_WORDS,
                               "the distributed framework")  # fmt: skip


@detector(signals=["code.deep_learning"], wants=["**/*.py", "**/*.ipynb"])
def deep_learning(ctx: RepoContext) -> Iterator[Finding]:
    """Emits code.deep_learning: code using PyTorch, TensorFlow/Keras, JAX/Flax or transformers
    (one finding per framework)."""
    yield from _stack_findings(ctx, "code.deep_learning", DEEP_LEARNING, DEEP_LEARNING_WORDS,
                               "the deep learning framework")  # fmt: skip
