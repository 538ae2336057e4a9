"""Quality, reproducibility and governance: model tests, data and model validation, bias and
explainability, pinned environments, container images, model cards, code review, feature
stores and infrastructure as code.

Python is judged on its parsed facts (an import or call that is only in a comment or a
string counts for nothing); configuration files on their parsed YAML / JSON, or, for the
line-oriented formats (requirements files, Dockerfiles, CODEOWNERS, HCL), line by line.
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
from maturity_probe.detectors.context import Finding, RepoContext, vocabulary
from maturity_probe.detectors.manifests import YAML_GLOBS, cloudformation_resources, dig, text_lines
from maturity_probe.detectors.mlcode import (
    library_words,
    ml_libraries,
    training_scripts,
)
from maturity_probe.detectors.monitoring import words_of
from maturity_probe.detectors.pipelines import orchestrated_pipelines
from maturity_probe.detectors.purposes import script_purposes
from maturity_probe.detectors.serving import module_files, scoring_scripts
from maturity_probe.evidence import JsonValue
from maturity_probe.pyfacts import Call, PyFacts
from maturity_probe.words import plural
from maturity_probe.yamlio import as_dict, as_list, as_str

TEST_GLOBS = ("**/test_*.py", "**/*_test.py", "**/tests/**/*.py")
MAX_LISTED = 10


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _line(path: str, line: int | None) -> int | None:
    """Notebook code lines are lines of the joined cells, not of the file."""
    return None if path.lower().endswith(".ipynb") else line


def library_use(facts: PyFacts, prefixes: tuple[str, ...]) -> Call | None:
    """The first call, decorator or base class that uses a library (resolved through imports)."""
    uses = [c for c in [*facts.calls, *facts.decorators] if _under(c.name, prefixes)]
    uses += [Call(base, cls.line) for cls in facts.classes for base in cls.bases
             if _under(base, prefixes)]  # fmt: skip
    return min(uses, key=lambda c: c.line) if uses else None


def _library_findings(
    ctx: RepoContext,
    signal: str,
    libraries: dict[str, tuple[str, ...]],
    what: str,
    key: str = "library",
) -> Iterator[Finding]:
    """One finding per file (scripts and notebooks) that uses one of the libraries."""
    for path, facts in ctx.python_mentioning(*library_words(libraries), notebooks=True):
        used = [(name, call) for name, prefixes in libraries.items()
                if (call := library_use(facts, prefixes)) is not None]  # fmt: skip
        if not used:
            continue
        used.sort(key=lambda item: item[1].line)
        name, call = used[0]
        names = [n for n, _ in used]
        yield Finding(
            signal=signal,
            path=path,
            line=_line(path, call.line),
            summary=f"{path} {what} with {', '.join(names)} ({call.name} at line {call.line})",
            attributes={key: name, "libraries" if key == "library" else f"{key}s": names},
        )


# -- tests of model code ---------------------------------------------------------------------------
ML_CODE_WORDS = frozenset({"model", "models", "train", "training", "trainer", "feature",
                           "features", "featurize", "predict", "prediction", "predictor",
                           "inference", "score", "scoring", "pipeline", "pipelines", "evaluate",
                           "evaluation", "preprocess", "preprocessing", "estimator",
                           "classifier", "regressor", "forecast"})  # fmt: skip
TEST_ML_LIBRARIES = ("mlflow", "torch", "tensorflow", "keras", "sklearn", "xgboost", "lightgbm",
                     "catboost", "transformers", "pytorch_lightning", "lightning")  # fmt: skip


@dataclass(frozen=True)
class TestedCode:
    line: int
    target: str  # the module or library the test exercises
    kind: str  # project_ml_code | ml_library
    reason: str


def _ml_module(ctx: RepoContext, path: str) -> str | None:
    """Why a project module is ML code (model, training, feature or scoring code)."""
    for script in training_scripts(ctx):
        if script.path == path:
            return f"trains a model: it {script.reason}"
    for scoring in scoring_scripts(ctx):
        if scoring.path == path:
            return f"is a scoring script: it {scoring.reason}"
    facts = ctx.python(path)
    if facts is not None:
        purposes = script_purposes(facts)
        if purposes:
            purpose, hit = next(iter(purposes.items()))
            return f"{purpose}s: it {hit.reason}" if purpose != "validate_data" else hit.reason
        libraries = ml_libraries(facts)
        if libraries:
            return f"uses {libraries[0]}"
    stem = posixpath.splitext(path)[0]
    named = [w for w in words_of(stem) if w in ML_CODE_WORDS]
    if named:
        return f"is named for {named[0]} code"
    return None


def tested_ml_code(ctx: RepoContext, path: str, facts: PyFacts) -> TestedCode | None:
    """What ML code a test file exercises: a project module that is ML code, or an ML library."""
    near = posixpath.dirname(path)
    seen: set[str] = set()
    for module, line in sorted(facts.imports.items(), key=lambda item: (item[1], item[0])):
        for target in module_files(ctx, module, near=near)[:1]:
            if target in seen or target == path:
                continue
            seen.add(target)
            reason = _ml_module(ctx, target)
            if reason:
                return TestedCode(line, module, "project_ml_code", f"{target} {reason}")
    for relative, line in sorted(facts.relative_imports.items(), key=lambda item: item[1]):
        dots = len(relative) - len(relative.lstrip("."))
        base = near
        for _ in range(dots - 1):
            base = posixpath.dirname(base)
        stem = posixpath.join(base, relative[dots:].replace(".", "/"))
        for target in (f"{stem}.py", f"{stem}/__init__.py"):
            if ctx.exists(target) and target not in seen and (reason := _ml_module(ctx, target)):
                return TestedCode(line, relative, "project_ml_code", f"{target} {reason}")
    library_line = facts.imports_any(*TEST_ML_LIBRARIES)
    if library_line is not None:
        library = min((m for m in facts.imports if _under(m, TEST_ML_LIBRARIES)),
                      key=lambda m: (facts.imports[m], m))  # fmt: skip
        return TestedCode(library_line, library, "ml_library", f"it uses {library}")
    return None


def _is_test_file(path: str) -> bool:
    name = posixpath.basename(path)
    return name.startswith("test_") or name.endswith("_test.py")


@detector(signals=["quality.model_tests"], wants=TEST_GLOBS)
def model_tests(ctx: RepoContext) -> Iterator[Finding]:
    """Emits quality.model_tests: test files that exercise the project's model, training,
    feature or scoring code, or ML libraries (tests of unrelated utilities do not count)."""
    for path in ctx.matching("**/test_*.py", "**/*_test.py"):
        if not _is_test_file(path):
            continue
        facts = ctx.python(path)
        if facts is None:
            continue
        tested = tested_ml_code(ctx, path, facts)
        if tested is None:
            continue
        tests = [c for c in facts.definitions if c.name.startswith("test")]
        why = tested.reason
        if tested.kind == "project_ml_code":
            why = f"it imports {tested.target}, and {tested.reason}"
        yield Finding(
            signal="quality.model_tests",
            path=path,
            line=tested.line,
            summary=f"{path} tests ML code ({plural(tests, 'test')}): {why}",
            attributes={"kind": tested.kind, "target": tested.target, "tests": len(tests)},
        )


# -- data validation ---------------------------------------------------------------------------------
DATA_VALIDATION_LIBRARIES: dict[str, tuple[str, ...]] = {
    "great_expectations": ("great_expectations",),
    "pandera": ("pandera",),
    "tfdv": ("tensorflow_data_validation",),
    "deepchecks": ("deepchecks.tabular.suites.data_integrity",
                   "deepchecks.tabular.suites.train_test_validation",
                   "deepchecks.nlp.suites.data_integrity",
                   "deepchecks.nlp.suites.train_test_validation",
                   "deepchecks.vision.suites.data_integrity",
                   "deepchecks.vision.suites.train_test_validation"),
    "soda": ("soda.scan",),
}  # fmt: skip
DATA_VALIDATION_WORDS = library_words(DATA_VALIDATION_LIBRARIES)
GX_CONFIGS = ("**/great_expectations.yml", "**/great_expectations.yaml")
GX_SUITES = ("**/expectations/**/*.json",)


@detector(signals=["quality.data_validation"], wants=["**/*.py", "**/*.ipynb", *GX_CONFIGS,
                                                      *GX_SUITES, *YAML_GLOBS])  # fmt: skip
def data_validation(ctx: RepoContext) -> Iterator[Finding]:
    """Emits quality.data_validation: Great Expectations projects and suites, Soda checks, and
    code validating data with Great Expectations, pandera, TFDV or deepchecks suites."""
    yield from _library_findings(ctx, "quality.data_validation", DATA_VALIDATION_LIBRARIES,
                                 "validates data")  # fmt: skip
    projects = []
    for path in ctx.matching(*GX_CONFIGS):
        doc = as_dict(ctx.yaml(path))
        if "config_version" not in doc and "expectations_store_name" not in doc and (
            "stores" not in doc
        ):
            continue
        root = posixpath.dirname(path)
        projects.append(root)
        suites = [p for p in ctx.matching(*GX_SUITES) if p.startswith(root + "/")]
        yield Finding(
            signal="quality.data_validation",
            path=path,
            line=yamlio.line_of(doc, "config_version") or yamlio.line_of(doc) or None,
            summary=f"Great Expectations project {path} with {plural(suites, 'expectation suite')}",
            attributes={"library": "great_expectations", "kind": "project",
                        "suites": len(suites)},
        )
    for path in ctx.matching(*GX_SUITES):
        if any(path.startswith(root + "/") for root in projects):
            continue
        text = ctx.text(path)
        if text is None or ("expectation_type" not in text and '"type"' not in text):
            continue
        try:
            suite = json.loads(text)
        except (ValueError, RecursionError):
            continue
        expectations = as_list(as_dict(suite).get("expectations"))
        if not expectations:
            continue
        yield Finding(
            signal="quality.data_validation",
            path=path,
            line=text_lines(text, '"expectations"'),
            summary=f"expectation suite {path} declares {plural(expectations, 'expectation')}",
            attributes={"library": "great_expectations", "kind": "suite",
                        "expectations": len(expectations)},
        )
    yield from _soda_checks(ctx)


SODA_WORDS = vocabulary("checks for ")


def _soda_checks(ctx: RepoContext) -> Iterator[Finding]:
    for path in ctx.config_mentioning(*SODA_WORDS, globs=YAML_GLOBS):
        for doc in ctx.yaml_docs(path):
            checks = [k for k in as_dict(doc) if isinstance(k, str) and k.startswith("checks for ")]
            if checks:
                yield Finding(
                    signal="quality.data_validation",
                    path=path,
                    line=yamlio.line_of(doc, checks[0]) or None,
                    summary=f"Soda checks in {path} validate {', '.join(c[11:] for c in checks)}",
                    attributes={"library": "soda", "kind": "checks", "datasets": len(checks)},
                )
                break


# -- model validation ----------------------------------------------------------------------------
MODEL_EVALUATION_SUITES = ("deepchecks.tabular.suites.model_evaluation",
                           "deepchecks.tabular.suites.full_suite",
                           "deepchecks.nlp.suites.model_evaluation",
                           "deepchecks.vision.suites.model_evaluation")  # fmt: skip


MODEL_VALIDATION_WORDS = vocabulary("validation_thresholds", "validate_evaluation_results",
                                    "MetricThreshold", "model_evaluation", "full_suite")


def validation_gates(facts: PyFacts) -> list[tuple[Call, str]]:
    """Calls that hold a model to thresholds before it is promoted, with the reason."""
    gates = []
    for call in facts.calls:
        if _under(call.name, ("mlflow.evaluate", "mlflow.models.evaluate")) and (
            "validation_thresholds" in call.keywords
        ):
            gates.append((call, "evaluates the model with validation thresholds"))
        elif _under(call.name, ("mlflow.validate_evaluation_results",
                                "mlflow.models.validate_evaluation_results")):  # fmt: skip
            gates.append((call, "validates evaluation results against a baseline"))
        elif _under(call.name, ("mlflow.models.MetricThreshold",
                                "mlflow.models.evaluation.MetricThreshold")):  # fmt: skip
            gates.append((call, "sets a metric threshold for model validation"))
        elif _under(call.name, MODEL_EVALUATION_SUITES) and call.attr != "run":
            gates.append((call, "runs a deepchecks model evaluation suite"))
    # the evaluation that applies the thresholds is the decisive call, then the earliest
    gates.sort(key=lambda gate: ("validation_thresholds" not in gate[0].keywords, gate[0].line))
    return gates


@detector(signals=["quality.model_validation"], wants=["**/*.py", "**/*.ipynb", *YAML_GLOBS])
def model_validation(ctx: RepoContext) -> Iterator[Finding]:
    """Emits quality.model_validation: mlflow.evaluate thresholds, deepchecks model evaluation
    suites, and pipeline gates on an evaluation (SageMaker ConditionStep, KFP conditions,
    Azure ML if_else, Argo `when`)."""
    for path, facts in ctx.python_mentioning(*MODEL_VALIDATION_WORDS, notebooks=True):
        gates = validation_gates(facts)
        if not gates:
            continue
        call, reason = gates[0]
        yield Finding(
            signal="quality.model_validation",
            path=path,
            line=_line(path, call.line),
            summary=f"{path} {reason} ({call.name} at line {call.line})",
            attributes={"kind": "code", "call": call.name},
        )
    for pipeline in orchestrated_pipelines(ctx):
        for gate in pipeline.gates:
            yield Finding(
                signal="quality.model_validation",
                path=pipeline.path,
                line=gate.line,
                summary=f"{pipeline.describe()} gates on model evaluation: {gate.reason}",
                attributes={"kind": "pipeline_gate", "framework": pipeline.framework},
            )


# -- bias and explainability ---------------------------------------------------------------------
BIAS_EXPLAINABILITY_LIBRARIES: dict[str, tuple[str, ...]] = {
    "fairlearn": ("fairlearn",),
    "aif360": ("aif360",),
    "shap": ("shap",),
    "lime": ("lime",),
    "sagemaker-clarify": ("sagemaker.clarify", "sagemaker.workflow.clarify_check_step"),
    "responsibleai": ("responsibleai", "raiwidgets"),
    "interpret": ("interpret",),
    "alibi": ("alibi.explainers",),
    "captum": ("captum",),
    "dalex": ("dalex",),
    "eli5": ("eli5",),
}


BIAS_EXPLAINABILITY_WORDS = library_words(BIAS_EXPLAINABILITY_LIBRARIES)


@detector(signals=["quality.bias_explainability"], wants=["**/*.py", "**/*.ipynb"])
def bias_explainability(ctx: RepoContext) -> Iterator[Finding]:
    """Emits quality.bias_explainability: code (scripts and notebooks) using fairlearn, AIF360,
    SHAP, LIME, SageMaker Clarify, Responsible AI, InterpretML, alibi, captum, dalex or eli5."""
    yield from _library_findings(ctx, "quality.bias_explainability",
                                 BIAS_EXPLAINABILITY_LIBRARIES, "checks bias or explains models")


# -- pinned environments ---------------------------------------------------------------------------
LOCK_FILES = {"poetry.lock": "poetry.lock", "uv.lock": "uv.lock", "pipfile.lock": "Pipfile.lock",
              "pdm.lock": "pdm.lock", "pixi.lock": "pixi.lock",
              "requirements.lock": "requirements.lock", "conda-lock.yml": "conda-lock",
              "conda-lock.yaml": "conda-lock"}  # fmt: skip
LOCK_GLOBS = ("**/poetry.lock", "**/uv.lock", "**/Pipfile.lock", "**/pdm.lock", "**/pixi.lock",
              "**/requirements.lock", "**/*conda-lock.yml", "**/*conda-lock.yaml",
              "**/conda-*.lock")  # fmt: skip
REQUIREMENTS_GLOBS = ("**/requirements*.txt", "**/requirements/*.txt")
CONDA_GLOBS = ("**/environment*.yml", "**/environment*.yaml", "**/conda*.yml", "**/conda*.yaml")
_PIP_PINNED = re.compile(r"===?\s*[\w.*+!-]+")
_CONDA_PINNED = re.compile(r"^[\w.:/-]+(?:\[[^\]]*\])?\s*={1,3}\s*[\w.*+!]+")


def requirement_lines(text: str) -> list[tuple[int, str]]:
    """(line, requirement) of a pip requirements file: continuations joined, options skipped."""
    found: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if not line:
            continue
        if line.startswith("--hash") and found:  # a hash on its own line belongs to the last one
            found[-1] = (found[-1][0], found[-1][1] + " " + line)
        elif not line.startswith("-"):  # -r, -c, -e, --index-url: not requirements
            found.append((start, line))
    return found


def pip_pinned(requirement: str) -> bool:
    return bool(_PIP_PINNED.search(requirement)) or "--hash=" in requirement


@detector(signals=["repro.pinned_environment"], wants=[*LOCK_GLOBS, *REQUIREMENTS_GLOBS,
                                                       *CONDA_GLOBS])  # fmt: skip
def pinned_environment(ctx: RepoContext) -> Iterator[Finding]:
    """Emits repro.pinned_environment: lock files, fully pinned requirements files, conda
    environments pinning every package."""
    for path in ctx.matching(*LOCK_GLOBS):
        name = posixpath.basename(path).lower()
        kind = LOCK_FILES.get(name, "conda-lock")
        yield Finding(
            signal="repro.pinned_environment",
            path=path,
            line=None,
            summary=f"{path} locks the environment ({kind})",
            attributes={"kind": kind, "ratio": 1.0},
        )
    for path in ctx.matching(*REQUIREMENTS_GLOBS):
        text = ctx.text(path)
        requirements = requirement_lines(text) if text is not None else []
        if not requirements or not all(pip_pinned(r) for _, r in requirements):
            continue
        hashed = all("--hash=" in r for _, r in requirements)
        yield Finding(
            signal="repro.pinned_environment",
            path=path,
            line=requirements[0][0],
            summary=f"{path} pins all {plural(requirements, 'requirement')} "
            f"({'with hashes' if hashed else 'with =='})",
            attributes={"kind": "requirements", "pinned": len(requirements),
                        "total": len(requirements), "ratio": 1.0, "hashes": hashed},
        )
    yield from _conda_environments(ctx)


def _conda_environments(ctx: RepoContext) -> Iterator[Finding]:
    for path in ctx.matching(*CONDA_GLOBS):
        if "lock" in posixpath.basename(path).lower():
            continue
        doc = as_dict(ctx.yaml(path))
        dependencies = as_list(doc.get("dependencies"))
        if not dependencies:
            continue
        pinned = total = 0
        for entry in dependencies:
            if isinstance(entry, str):
                if entry.strip() == "pip":
                    continue  # the installer itself, listed to install the pip section
                total += 1
                pinned += bool(_CONDA_PINNED.match(entry.strip()))
            elif isinstance(entry, dict):
                for requirement in as_list(entry.get("pip")):
                    text = as_str(requirement)
                    if text.startswith("-"):
                        continue
                    total += 1
                    pinned += pip_pinned(text)
        if total == 0 or pinned < total:
            continue
        yield Finding(
            signal="repro.pinned_environment",
            path=path,
            line=yamlio.line_of(doc, "dependencies") or None,
            summary=f"conda environment {path} pins all {plural(total, 'package')}",
            attributes={"kind": "conda", "pinned": pinned, "total": total, "ratio": 1.0},
        )


# -- container images ---------------------------------------------------------------------------------
DOCKERFILE_GLOBS = ("**/Dockerfile", "**/Dockerfile.*", "**/*.Dockerfile", "**/*.dockerfile",
                    "**/Containerfile")  # fmt: skip
DEVCONTAINER_GLOBS = ("**/.devcontainer/devcontainer.json", "**/.devcontainer/*/devcontainer.json",
                      "**/.devcontainer.json")  # fmt: skip


def dockerfile_stages(text: str) -> list[tuple[int, str, str]]:
    """(line, image, stage name) of each FROM instruction (flags skipped)."""
    stages = []
    for number, raw in enumerate(text.splitlines(), 1):
        words = raw.split()
        if len(words) < 2 or words[0].upper() != "FROM":
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        if not args:
            continue
        name = args[2] if len(args) >= 3 and args[1].upper() == "AS" else ""
        stages.append((number, args[0], name))
    return stages


def base_image(stages: list[tuple[int, str, str]]) -> str:
    """The image the final stage builds on, following `FROM builder` back to its base."""
    names = {name.lower(): image for _, image, name in stages if name}
    image = stages[-1][1]
    for _ in range(len(stages)):
        if image.lower() not in names:
            break
        image = names[image.lower()]
    return image


def strip_json_comments(text: str) -> str:
    """JSON with comments (devcontainer.json) as plain JSON: `//` and `/* */` outside strings."""
    out = []
    i = 0
    in_string = False
    while i < len(text):
        char = text[i]
        if in_string:
            out.append(char)
            if char == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
            continue
        else:
            out.append(char)
        i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))  # trailing commas


@detector(signals=["repro.container_image"], wants=[*DOCKERFILE_GLOBS, *DEVCONTAINER_GLOBS])
def container_image(ctx: RepoContext) -> Iterator[Finding]:
    """Emits repro.container_image: Dockerfiles / Containerfiles and devcontainer definitions."""
    for path in ctx.matching(*DOCKERFILE_GLOBS):
        text = ctx.text(path)
        stages = dockerfile_stages(text) if text is not None else []
        if not stages:
            continue
        base = base_image(stages)
        yield Finding(
            signal="repro.container_image",
            path=path,
            line=stages[-1][0],
            summary=f"{path} builds a container image from {base}"
            + (f" in {len(stages)} stages" if len(stages) > 1 else ""),
            attributes={"kind": "dockerfile", "base_image": base, "stages": len(stages)},
        )
    for path in ctx.matching(*DEVCONTAINER_GLOBS):
        text = ctx.text(path)
        if text is None:
            continue
        try:
            config = as_dict(json.loads(strip_json_comments(text)))
        except (ValueError, RecursionError):
            ctx.warn(path, None, "invalid JSON, ignored")
            continue
        image = as_str(config.get("image"))
        dockerfile = as_str(dig(config, "build", "dockerfile")) or as_str(config.get("dockerFile"))
        compose = config.get("dockerComposeFile")
        if not (image or dockerfile or compose):
            continue
        source = image or (f"the Dockerfile {dockerfile}" if dockerfile else "Docker Compose")
        key = '"image"' if image else ('"build"' if dockerfile else '"dockerComposeFile"')
        attributes: dict[str, JsonValue] = {"kind": "devcontainer"}
        if image:
            attributes["base_image"] = image
        yield Finding(
            signal="repro.container_image",
            path=path,
            line=text_lines(text, key),
            summary=f"{path} defines a development container from {source}",
            attributes=attributes,
        )


# -- model cards ----------------------------------------------------------------------------------------
MODEL_CARD_GLOBS = ("**/model_card*.md", "**/model-card*.md", "**/modelcard*.md")
HF_MODEL_KEYS = ("library_name", "pipeline_tag", "base_model", "model-index", "datasets",
                 "metrics", "model_name")  # fmt: skip
MODEL_CARD_TOOLKITS = {"model_card_toolkit": ("model_card_toolkit",),
                       "huggingface_hub": ("huggingface_hub.ModelCard",
                                           "huggingface_hub.ModelCardData",
                                           "huggingface_hub.repocard.ModelCard")}  # fmt: skip
MODEL_CARD_WORDS = library_words(MODEL_CARD_TOOLKITS)
WEIGHT_FILES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".h5", ".ckpt", ".gguf")


def front_matter(text: str) -> tuple[dict[Any, Any], str] | None:
    """The YAML front matter of a Markdown file and its text, or None."""
    if not text.startswith("---"):
        return None
    end = text.find("\n---", 3)
    if end < 0:
        return None
    block = text[3:end]
    try:
        return as_dict(yamlio.load_one(block)), block
    except yamlio.YamlError:
        return None


def _model_dir(ctx: RepoContext, directory: str) -> bool:
    """A directory that holds a model: named for models, or holding weight files."""
    if set(words_of(directory)) & {"model", "models"}:
        return True
    weights = ctx.derived("quality.weight_dirs", lambda: {
        posixpath.dirname(p) for p in ctx.paths if p.lower().endswith(WEIGHT_FILES)})
    return directory in weights


@detector(signals=["governance.model_card"], wants=[*MODEL_CARD_GLOBS, "**/README.md",
                                                    "**/*.py", "**/*.ipynb"])  # fmt: skip
def model_card(ctx: RepoContext) -> Iterator[Finding]:
    """Emits governance.model_card: model card files, Hugging Face model READMEs
    (`model-index` / license front matter in a model directory), and model card toolkits."""
    for path in ctx.matching(*MODEL_CARD_GLOBS):
        text = ctx.text(path)
        if text is None or not text.strip():
            continue
        heading = next((n for n, line in enumerate(text.splitlines(), 1) if line.startswith("#")),
                       1)  # fmt: skip
        yield Finding(
            signal="governance.model_card",
            path=path,
            line=heading,
            summary=f"{path} is a model card",
            attributes={"kind": "markdown"},
        )
    for path in ctx.matching("**/README.md"):
        text = ctx.text(path)
        found = front_matter(text) if text is not None else None
        if found is None:
            continue
        meta, _ = found
        hf_keys = [k for k in HF_MODEL_KEYS if k in meta]
        directory = posixpath.dirname(path)
        if "model-index" not in meta and not (
            "license" in meta and hf_keys and _model_dir(ctx, directory)
        ):
            continue
        key = "model-index" if "model-index" in meta else "license"
        yield Finding(
            signal="governance.model_card",
            path=path,
            line=yamlio.line_of(meta, key) or None,
            summary=f"{path} is a Hugging Face model card (front matter: "
            f"{', '.join(sorted({key, *hf_keys}))})",
            attributes={"kind": "huggingface"},
        )
    yield from _library_findings(ctx, "governance.model_card", MODEL_CARD_TOOLKITS,
                                 "writes a model card")  # fmt: skip


# -- code review -----------------------------------------------------------------------------------------
CODEOWNERS_PATHS = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")


@detector(signals=["governance.code_review"], wants=[*CODEOWNERS_PATHS, ".github/settings.yml"])
def code_review(ctx: RepoContext) -> Iterator[Finding]:
    """Emits governance.code_review: CODEOWNERS files with owners, and a Probot settings file
    requiring pull-request reviews."""
    for path in CODEOWNERS_PATHS:
        if not ctx.exists(path):
            continue
        text = ctx.text(path) or ""
        rules = [
            (number, line.split())
            for number, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.lstrip().startswith(("#", "[", "^["))
            and len(line.split()) >= 2
        ]  # fmt: skip
        if not rules:
            continue
        owners = sorted({o for _, fields in rules for o in fields[1:] if "@" in o})
        yield Finding(
            signal="governance.code_review",
            path=path,
            line=rules[0][0],
            summary=f"{path} assigns reviewers: {plural(rules, 'rule')}, owners "
            f"{', '.join(owners[:MAX_LISTED])}",
            attributes={"kind": "codeowners", "rules": len(rules), "owners": owners[:MAX_LISTED]},
        )
    settings = ".github/settings.yml"
    if ctx.exists(settings):
        doc = as_dict(ctx.yaml(settings))
        for branch in as_list(doc.get("branches")):
            reviews = as_dict(dig(branch, "protection", "required_pull_request_reviews"))
            count = reviews.get("required_approving_review_count")
            if isinstance(count, int) and count >= 1:
                protection = as_dict(dig(branch, "protection"))
                yield Finding(
                    signal="governance.code_review",
                    path=settings,
                    line=yamlio.line_of(protection, "required_pull_request_reviews") or None,
                    summary=f"{settings} requires {plural(count, 'approving review')} on "
                    f"branch {as_str(as_dict(branch).get('name'))}",
                    attributes={"kind": "branch-protection", "approvals": count},
                )
                break


# -- feature stores ---------------------------------------------------------------------------------------
FEATURE_STORE_LIBRARIES: dict[str, tuple[str, ...]] = {
    "feast": ("feast.Entity", "feast.FeatureView", "feast.FeatureService", "feast.FeatureStore",
              "feast.BatchFeatureView", "feast.StreamFeatureView", "feast.on_demand_feature_view",
              "feast.feature_view", "feast.entity", "feast.feature_store", "feast.OnDemandFeatureView"),
    "tecton": ("tecton",),
    "sagemaker": ("sagemaker.feature_store",),
    "vertex": ("google.cloud.aiplatform.Featurestore", "google.cloud.aiplatform.featurestore",
               "google.cloud.aiplatform.FeatureOnlineStore", "google.cloud.aiplatform.FeatureView",
               "google.cloud.aiplatform_v1.FeaturestoreServiceClient",
               "vertexai.resources.preview.feature_store"),
    "databricks": ("databricks.feature_store", "databricks.feature_engineering"),
    "hopsworks": ("hsfs",),
}  # fmt: skip


FEATURE_STORE_WORDS = library_words(FEATURE_STORE_LIBRARIES)
FEATURE_GROUP_WORDS = vocabulary("create_feature_group")


@detector(signals=["feature_store.definition"], wants=["**/feature_store.yaml",
                                                       "**/feature_store.yml", "**/*.py",
                                                       "**/*.ipynb"])  # fmt: skip
def feature_store(ctx: RepoContext) -> Iterator[Finding]:
    """Emits feature_store.definition: Feast repositories (feature_store.yaml) and code defining
    or reading features with Feast, Tecton, SageMaker, Vertex AI, Databricks or Hopsworks."""
    for path in ctx.matching("**/feature_store.yaml", "**/feature_store.yml"):
        doc = as_dict(ctx.yaml(path))
        if "project" not in doc or not any(k in doc for k in ("registry", "provider",
                                                              "online_store", "offline_store")):
            continue
        yield Finding(
            signal="feature_store.definition",
            path=path,
            line=yamlio.line_of(doc, "project") or None,
            summary=f"{path} configures the Feast feature repository "
            f"`{as_str(doc.get('project'))}` (provider {as_str(doc.get('provider')) or 'default'})",
            attributes={"tool": "feast", "tools": ["feast"], "kind": "config",
                        "project": as_str(doc.get("project"))},
        )
    yield from _library_findings(ctx, "feature_store.definition", FEATURE_STORE_LIBRARIES,
                                 "defines or reads features", key="tool")  # fmt: skip
    for path, facts in ctx.python_mentioning(*FEATURE_GROUP_WORDS, notebooks=True):
        calls = facts.calls_named("create_feature_group")
        if calls and facts.imports_any("boto3") and not facts.imports_any("sagemaker"):
            yield Finding(
                signal="feature_store.definition",
                path=path,
                line=_line(path, calls[0].line),
                summary=f"{path} creates a SageMaker feature group ({calls[0].name})",
                attributes={"tool": "sagemaker", "tools": ["sagemaker"]},
            )


# -- infrastructure as code ----------------------------------------------------------------------------
_HCL_BLOCK = re.compile(r'^\s*(resource|module|provider|data|terraform)\b\s*("|\{)', re.MULTILINE)
_BICEP_RESOURCE = re.compile(r"^\s*(resource|module)\s+\w+\s+'", re.MULTILINE)
IAC_TOOLS = {"terraform": "Terraform", "bicep": "Bicep", "cloudformation": "CloudFormation",
             "pulumi": "Pulumi", "helm": "Helm", "kustomize": "Kustomize", "aws-cdk": "AWS CDK",
             "terragrunt": "Terragrunt"}  # fmt: skip


CFN_WORDS = vocabulary("AWSTemplateFormatVersion")


def _iac_files(ctx: RepoContext) -> Iterator[tuple[str, str, int | None]]:
    """(tool, path, line of the decisive block or key) of each infrastructure-as-code file."""
    for path in ctx.matching("**/*.tf"):
        text = ctx.text(path)
        match = _HCL_BLOCK.search(text) if text is not None else None
        if match and text is not None:
            yield "terraform", path, text.count("\n", 0, match.start(1)) + 1
    for path in ctx.matching("**/terragrunt.hcl"):
        yield "terragrunt", path, None
    for path in ctx.matching("**/*.bicep"):
        text = ctx.text(path)
        match = _BICEP_RESOURCE.search(text) if text is not None else None
        if match and text is not None:
            yield "bicep", path, text.count("\n", 0, match.start(1)) + 1
    seen: set[str] = set()
    for resource in cloudformation_resources(ctx):
        if resource.path not in seen:
            seen.add(resource.path)
            yield "cloudformation", resource.path, resource.line
    for path in ctx.config_mentioning(*CFN_WORDS):
        text = ctx.text(path)
        if path not in seen and text is not None and "Resources" in text:
            # a template whose resources are all built by intrinsic functions is one too
            yield "cloudformation", path, text_lines(text, "AWSTemplateFormatVersion")
    for path in ctx.matching("**/Pulumi.yaml", "**/Pulumi.yml"):
        doc = as_dict(ctx.yaml(path))
        if doc.get("runtime"):
            yield "pulumi", path, yamlio.line_of(doc, "runtime") or None
    for path in ctx.matching("**/Chart.yaml"):
        doc = as_dict(ctx.yaml(path))
        if doc.get("name") and doc.get("apiVersion"):
            yield "helm", path, yamlio.line_of(doc, "name") or None
    for path in ctx.matching("**/kustomization.yaml", "**/kustomization.yml", "**/Kustomization"):
        doc = as_dict(ctx.yaml(path))
        keys = [k for k in ("resources", "bases", "components", "patches", "helmCharts") if k in doc]
        if keys:
            yield "kustomize", path, yamlio.line_of(doc, keys[0]) or None
    for path in ctx.matching("**/cdk.json"):
        text = ctx.text(path)
        if text is not None and '"app"' in text:
            yield "aws-cdk", path, text_lines(text, '"app"')


@detector(signals=["infra.as_code"], wants=["**/*.tf", "**/*.bicep", "**/terragrunt.hcl",
                                            "**/Pulumi.yaml", "**/Chart.yaml",
                                            "**/kustomization.yaml", "**/cdk.json", "**/*.json",
                                            "**/*.template", *YAML_GLOBS])  # fmt: skip
def infrastructure_as_code(ctx: RepoContext) -> Iterator[Finding]:
    """Emits infra.as_code: Terraform, Terragrunt, Bicep, CloudFormation / SAM, Pulumi, Helm
    charts, Kustomize and AWS CDK (one finding per tool, at its first file)."""
    by_tool: dict[str, list[tuple[str, int | None]]] = {}
    for tool, path, line in _iac_files(ctx):
        by_tool.setdefault(tool, []).append((path, line))
    for tool, files in by_tool.items():
        path, line = files[0]
        others = f" and {plural(len(files) - 1, 'more file')}" if len(files) > 1 else ""
        yield Finding(
            signal="infra.as_code",
            path=path,
            line=line,
            summary=f"{path}{others} define{'' if others else 's'} infrastructure with "
            f"{IAC_TOOLS[tool]}",
            attributes={"tool": tool, "files": len(files),
                        "paths": [p for p, _ in files[:MAX_LISTED]]},
        )
