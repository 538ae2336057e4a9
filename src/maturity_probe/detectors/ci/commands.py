"""What a CI command does, found by following what it calls.

A command is judged by the program it runs (`pytest`, `docker build`, `az ml job
create`, `kubectl apply -f` of a serving manifest ...) and, when it runs project code,
by that code: Python scripts through their parsed facts (`purposes.py`), shell scripts
line by line, Makefile targets through their recipes, `dvc repro` through the stages of
`dvc.yaml` and `mlflow run` through the MLproject entry point. Every purpose found comes
with the chain that shows it ("runs `make train`, whose recipe runs `python train.py`
at Makefile:4, which calls clf.fit at train.py:12"). Job names are never evidence.
"""

from __future__ import annotations

import configparser
import json
import posixpath
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from maturity_probe.detectors.ci.nodes import logical_lines, str_list
from maturity_probe.detectors.context import RepoContext
from maturity_probe.detectors.purposes import script_purposes, starts_training_run
from maturity_probe.pyfacts import PyFacts
from maturity_probe.yamlio import as_dict, as_str

PURPOSES = (
    "test", "lint", "build", "data_validation", "train", "evaluate", "register", "deploy",
    "deploy_pipeline", "security",
)  # fmt: skip
MAX_FOLLOW = 4  # how deep scripts calling scripts are followed
MAX_MODULES = 8  # project modules followed per Python script

SERVING_KINDS = (
    "InferenceService", "SeldonDeployment", "ServingRuntime", "ClusterServingRuntime",
    "InferenceGraph", "TrainedModel", "BentoDeployment",
)  # fmt: skip
MODEL_SERVER_IMAGES = (
    "tensorflow/serving", "tritonserver", "seldonio/mlserver", "torchserve", "kserve/",
    "bentoml/", "vllm/vllm-openai", "text-generation-inference", "openvino/model_server",
    "seldonio/seldon-core-s2i", "pytorch/torchserve",
)  # fmt: skip
SECURITY_TOOLS = {
    "trivy": "Trivy", "grype": "Grype", "snyk": "Snyk", "bandit": "Bandit",
    "gitleaks": "gitleaks", "pip-audit": "pip-audit", "safety": "safety",
    "semgrep": "Semgrep", "osv-scanner": "OSV-Scanner", "trufflehog": "TruffleHog",
    "checkov": "Checkov", "tfsec": "tfsec", "codeql": "CodeQL",
}  # fmt: skip
# Programs that run tests: the code is executed and checked against expectations.
TEST_TOOLS = (
    "pytest", "py.test", "nosetests", "unittest", "behave", "jest", "vitest", "mocha", "karma",
    "jasmine", "ava", "ctest",
)  # fmt: skip
# Programs that only read the code (linters, formatters in check mode, type checkers): a
# job running them checks style and types, it does not test what the code does.
LINT_TOOLS = (
    "ruff", "flake8", "pylint", "mypy", "pyright", "pycodestyle", "pydocstyle", "yamllint",
    "pyflakes", "pytype", "eslint", "stylelint", "tsc", "hadolint", "shellcheck",
    "golangci-lint", "markdownlint", "actionlint", "codespell", "vulture", "interrogate",
    "sqlfluff", "ansible-lint", "tflint", "biome", "clang-tidy", "cpplint",
)  # fmt: skip
# Names of make targets, tox environments, nox sessions and npm scripts, used only when
# what they run cannot be read (an opaque recipe, a tox.ini outside the repository).
TEST_TASK_NAMES = {
    "test", "tests", "unit", "unittest", "unittests", "unit-test", "unit-tests", "integration",
    "integration-test", "integration-tests", "functional", "e2e", "smoke", "coverage", "cov",
}  # fmt: skip
LINT_TASK_NAMES = {
    "lint", "linters", "linting", "style", "format", "fmt", "format-check", "check-format",
    "typecheck", "type-check", "typing", "types", "mypy", "flake8", "ruff", "pylint", "pyright",
    "pre-commit", "precommit", "static", "codestyle", "pep8", "black", "isort",
}  # fmt: skip
_PYTHON_ENV = re.compile(r"^(?:py|pypy)(?:\d+(?:\.\d+)?)?$")  # tox factors py, py311, pypy3
# (action / orb / pipe / task name prefix, purpose, tool)
KNOWN_USES: tuple[tuple[str, str, str | None], ...] = (
    ("github/codeql-action/", "security", "CodeQL"),
    ("aquasecurity/trivy-action", "security", "Trivy"),
    ("anchore/scan-action", "security", "Grype"),
    ("snyk/actions", "security", "Snyk"),
    ("snyk/", "security", "Snyk"),
    ("gitleaks/gitleaks-action", "security", "gitleaks"),
    ("pypa/gh-action-pip-audit", "security", "pip-audit"),
    ("pyupio/safety", "security", "safety"),
    ("returntocorp/semgrep-action", "security", "Semgrep"),
    ("semgrep/semgrep-action", "security", "Semgrep"),
    ("google/osv-scanner-action", "security", "OSV-Scanner"),
    ("trufflesecurity/trufflehog", "security", "TruffleHog"),
    ("atlassian/git-secrets-scan", "security", "git-secrets"),
    ("snyksecurityscan", "security", "Snyk"),
    ("docker/build-push-action", "build", None),
    ("docker/bake-action", "build", None),
    ("redhat-actions/buildah-build", "build", None),
    ("pypa/gh-action-pypi-publish", "build", None),
    ("circleci/docker/publish", "build", None),
    ("circleci/aws-ecr/build-and-push-image", "build", None),
    ("circleci/aws-ecr/build_and_push_image", "build", None),
    ("circleci/gcp-gcr/build-and-push-image", "build", None),
    ("atlassian/aws-ecr-push-image", "build", None),
    ("astral-sh/ruff-action", "lint", "ruff"),
    ("chartboost/ruff-action", "lint", "ruff"),
    ("pre-commit/action", "lint", "pre-commit"),
    ("py-actions/flake8", "lint", "flake8"),
    ("psf/black", "lint", "black"),
    ("jakebailey/pyright-action", "lint", "pyright"),
    ("golangci/golangci-lint-action", "lint", "golangci-lint"),
    ("github/super-linter", "lint", "Super-Linter"),
    ("super-linter/super-linter", "lint", "Super-Linter"),
    ("wearerequired/lint-action", "lint", None),
    ("reviewdog/", "lint", "reviewdog"),
    ("circleci/python/test", "test", None),
    ("circleci/node/test", "test", None),
    ("publishtestresults", "test", None),  # Azure: publishes the results of a test run
    ("vstest", "test", None),
    ("azure/aml-deploy", "deploy", None),
)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PYTHON = re.compile(r"^(?:python[\d.]*|py|pythonw)$")
_WORKSPACE = re.compile(
    r"^(?:\$\{?(?:GITHUB_WORKSPACE|CI_PROJECT_DIR|WORKSPACE|BITBUCKET_CLONE_DIR|"
    r"CIRCLE_WORKING_DIRECTORY)\}?|\$\{\{\s*github\.workspace\s*\}\}|"
    r"\$\((?:Build\.SourcesDirectory|System\.DefaultWorkingDirectory|Pipeline\.Workspace)\)|"
    r"~/project)/?"
)
_SKIPPED_PREFIXES = {
    "sudo", "time", "nohup", "exec", "xvfb-run", "then", "do", "else", "if", "elif", "while",
    "until", "!", "{", "(", "command", "env", "caffeinate",
}  # fmt: skip
_RUNNERS = {"poetry", "pipenv", "uv", "pdm", "hatch", "rye", "pixi"}
_LAUNCHERS = {"torchrun", "accelerate", "deepspeed", "horovodrun", "mpirun", "composer"}
_MAKE_VAR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\?=|:=|::=|\+=|=)\s*(.*)$")
_MAKE_RULE = re.compile(r"^([^\s:=#][^:=#]*?)\s*::?(?!=)\s*(.*)$")
_KIND_LINE = re.compile(r"^\s*kind:\s*[\"']?(" + "|".join(SERVING_KINDS) + r")\b", re.MULTILINE)


@dataclass(frozen=True)
class Hit:
    """A purpose a command shows; `because` continues "runs `cmd`" with the why."""

    purpose: str
    because: str = ""
    tool: str | None = None

    def nested(self, prefix: str) -> Hit:
        because = f"{prefix}, {self.because}" if self.because else prefix
        return Hit(self.purpose, because, self.tool)


@dataclass(frozen=True)
class Makefile:
    path: str
    first_target: str | None
    targets: dict[str, tuple[int, list[str], list[tuple[str, int]]]]  # prereqs, recipe lines


def short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_commands(line: str) -> list[str]:
    """Simple commands of a shell line, split at `&&`, `||`, `;`, `|` and `&` outside quotes."""
    parts: list[str] = []
    current: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(line):
        char = line[i]
        if quote:
            if char == quote:
                quote = None
            elif char == "\\" and quote == '"' and i + 1 < len(line):
                current.append(char)
                i += 1
                char = line[i]
            current.append(char)
        elif char in "'\"":
            quote = char
            current.append(char)
        elif char in ";|&":
            parts.append("".join(current))
            current = []
            if i + 1 < len(line) and line[i + 1] == char:
                i += 1
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def words(command: str) -> list[str]:
    try:
        return shlex.split(command, comments=True)
    except ValueError:
        return command.split()


def _strip_prefixes(tokens: list[str]) -> list[str]:
    """Drop what only wraps a command: `VAR=x`, `sudo`, `poetry run`, `conda run -n env`,
    `pipx run`, `uvx` ..."""
    for _ in range(12):
        if not tokens:
            return tokens
        first = tokens[0]
        if _ASSIGNMENT.match(first) or first in _SKIPPED_PREFIXES:
            tokens = tokens[1:]
        elif first == "timeout":
            rest = [t for t in tokens[1:] if not t.startswith("-")]
            tokens = rest[1:]
        elif first in _RUNNERS and len(tokens) > 1 and tokens[1] in ("run", "exec"):
            tokens = _drop_options(tokens[2:])
        elif first == "pipx" and len(tokens) > 1 and tokens[1] == "run":  # a tool run in passing
            tokens = _drop_options(tokens[2:], valued=("--spec", "--python"))
        elif first == "uvx":
            tokens = _drop_options(tokens[1:], valued=("--from", "--with", "--python", "-p"))
        elif first in ("conda", "mamba", "micromamba") and len(tokens) > 1 and tokens[1] == "run":
            tokens = _drop_options(tokens[2:], valued=("-n", "--name", "-p", "--prefix"))
        elif first in ("docker", "podman") and len(tokens) > 2 and (
            tokens[1] in ("run", "exec") or tokens[1:3] == ["compose", "run"]
        ):
            inner = next((i for i, t in enumerate(tokens) if i > 2 and (
                _PYTHON.match(posixpath.basename(t)) or t in ("bash", "sh", "make", "dvc"))), None)
            if inner is None:
                return tokens
            tokens = tokens[inner:]
        else:
            return tokens
    return tokens


_SUBSTITUTION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=\$\((.+)\)$")


def simple_commands(line: str) -> list[list[str]]:
    """Tokens of each simple command of a shell line, wrappers (`sudo`, `VAR=x` ...) dropped.

    `job=$(az ml ... )` counts as the command it substitutes: its output is kept, so it ran.
    """
    found = []
    for part in split_commands(line):
        substituted = _SUBSTITUTION.match(part)
        tokens = _strip_prefixes(words(substituted.group(1) if substituted else part))
        if tokens:
            found.append(tokens)
    return found


def _drop_options(tokens: list[str], valued: tuple[str, ...] = ("--with", "--group")) -> list[str]:
    while tokens and tokens[0].startswith("-"):
        tokens = tokens[2:] if tokens[0] in valued else tokens[1:]
    return tokens


KUBECTL_VALUED_OPTIONS = ("-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user",
                          "-s", "--server", "--as", "--token", "--request-timeout")


def _after_global_options(args: list[str], valued: tuple[str, ...]) -> list[str]:
    """The arguments from the sub-command on: `kubectl -n prod apply ...` -> `apply ...`."""
    index = 0
    while index < len(args) and args[index].startswith("-"):
        index += 2 if args[index] in valued else 1
    return args[index:]


def _positionals(args: list[str], valued: tuple[str, ...] = ()) -> list[str]:
    found = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in valued
        else:
            found.append(arg)
    return found


class Classifier:
    """Classifies commands of one repository; caches what it reads."""

    def __init__(self, ctx: RepoContext) -> None:
        self.ctx = ctx
        self._python_cache: dict[str, list[Hit]] = {}
        self._makefiles: dict[str, Makefile | None] = {}
        self._dirs: set[str] | None = None

    # -- paths -------------------------------------------------------------------
    def resolve(self, path: str, workdir: str = "") -> str | None:
        """The repository file a command argument names, relative to the workdir or root."""
        path = _WORKSPACE.sub("", path.strip())
        if not path or "$" in path or path.startswith("/"):
            return None
        for base in dict.fromkeys((workdir, "")):
            candidate = posixpath.normpath(posixpath.join(base, path)) if base else (
                posixpath.normpath(path)
            )
            if candidate.startswith("..") or candidate == ".":
                continue
            if self.ctx.exists(candidate):
                return candidate
        return None

    def directory(self, path: str, workdir: str = "") -> str | None:
        path = _WORKSPACE.sub("", path.strip()).rstrip("/")
        if "$" in path or path.startswith("/"):
            return None
        base = posixpath.normpath(posixpath.join(workdir, path)) if path else workdir
        base = "" if base == "." else base
        return base if base in self._directories() else None

    def _directories(self) -> set[str]:
        """Every directory holding a listed file ("" is the root)."""
        if self._dirs is None:
            self._dirs = {""}
            for path in self.ctx.paths:
                parts = path.split("/")[:-1]
                self._dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        return self._dirs

    # -- lines and commands --------------------------------------------------------
    def lines(
        self, lines: list[tuple[str, int]], workdir: str, depth: int
    ) -> list[tuple[str, int, Hit]]:
        """Hits of a sequence of shell lines; `cd` carries over to the following lines."""
        found = []
        for text, number in lines:
            for part in split_commands(text):
                tokens = _strip_prefixes(words(part))
                if tokens[:1] == ["cd"] and len(tokens) > 1:
                    target = self.directory(tokens[1], workdir)
                    workdir = target if target is not None else workdir
                    continue
                for hit in self.command(tokens, text, workdir, depth):
                    found.append((part, number, hit))
        return found

    def command(self, tokens: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        """Hits of one simple command (tokens already stripped of wrappers)."""
        if not tokens or depth > MAX_FOLLOW:
            return []
        program = posixpath.basename(tokens[0])
        args = tokens[1:]
        if _PYTHON.match(program):
            return self.python_command(args, workdir, depth)
        handler = _PROGRAMS.get(program)
        if handler is not None:
            return handler(self, args, line, workdir, depth)
        if program in _LAUNCHERS:
            return self.launcher(args, workdir, depth)
        if program in SECURITY_TOOLS:
            return [Hit("security", tool=SECURITY_TOOLS[program])]
        if program in TEST_TOOLS:
            return [Hit("test")]
        if program in LINT_TOOLS:
            return [Hit("lint", tool=program)]
        path = self.resolve(tokens[0], workdir)
        if path is not None:
            return self.run_file(path, workdir, depth)
        return []

    def run_file(self, path: str, workdir: str, depth: int) -> list[Hit]:
        if path.endswith(".py"):
            return self.python_file(path, depth)
        text = self.ctx.text(path) or ""
        first = text.split("\n", 1)[0]
        if first.startswith("#!") and "python" in first:
            return self.python_file(path, depth)
        if path.endswith((".sh", ".bash")) or (first.startswith("#!") and "sh" in first):
            return self.shell_file(path, workdir, depth)
        return []

    # -- Python --------------------------------------------------------------------
    def python_command(self, args: list[str], workdir: str, depth: int) -> list[Hit]:
        index = 0
        while index < len(args):
            arg = args[index]
            if arg == "-c":
                return []
            if arg == "-m" and index + 1 < len(args):
                return self.python_module(args[index + 1], args[index + 2 :], workdir, depth)
            if arg in ("-W", "-X", "-Q"):
                index += 2
                continue
            if not arg.startswith("-"):
                break
            index += 1
        else:
            return []
        script, rest = args[index], args[index + 1 :]
        if posixpath.basename(script) == "setup.py" and {"sdist", "bdist_wheel"} & set(rest):
            return [Hit("build")]
        if posixpath.basename(script) in ("setup.py", "manage.py") and rest[:1] == ["test"]:
            return [Hit("test")]  # `python setup.py test`, Django's `python manage.py test`
        path = self.resolve(script, workdir)
        if path is None:
            return []
        return self.run_file(path, workdir, depth)

    def python_module(self, module: str, args: list[str], workdir: str, depth: int) -> list[Hit]:
        alias = {"pip_audit": "pip-audit", "build": "python-build", "torch.distributed.run":
                 "torchrun", "torch.distributed.launch": "torchrun", "great_expectations":
                 "great_expectations", "unittest": "unittest"}.get(module, module)
        if alias in _PROGRAMS or alias in SECURITY_TOOLS or alias in TEST_TOOLS or (
            alias in LINT_TOOLS or alias in _LAUNCHERS
        ):
            return self.command([alias, *args], "", workdir, depth)
        path = self.module_file(module, [workdir, "", "src"])
        return self.python_file(path, depth) if path else []

    def module_file(self, module: str, bases: list[str]) -> str | None:
        relative = module.replace(".", "/")
        for base in dict.fromkeys(bases):
            for candidate in (f"{relative}.py", f"{relative}/__main__.py", f"{relative}/__init__.py"):
                path = posixpath.normpath(posixpath.join(base, candidate)) if base else candidate
                if self.ctx.exists(path):
                    return path
        return None

    def launcher(self, args: list[str], workdir: str, depth: int) -> list[Hit]:
        """`torchrun train.py`, `accelerate launch -m pkg.train`, `mpirun python train.py`."""
        for index, arg in enumerate(args):
            if arg == "-m" and index + 1 < len(args):
                return self.python_module(args[index + 1], [], workdir, depth)
            if arg.endswith(".py"):
                path = self.resolve(arg, workdir)
                return self.python_file(path, depth) if path else []
            if _PYTHON.match(posixpath.basename(arg)):
                return self.python_command(args[index + 1 :], workdir, depth)
        return []

    def python_file(self, path: str, depth: int) -> list[Hit]:
        if path not in self._python_cache:
            self._python_cache[path] = []  # guards against import cycles
            self._python_cache[path] = self._python_purposes(path, depth)
        return self._python_cache[path]

    def _python_purposes(self, path: str, depth: int) -> list[Hit]:
        facts = self.ctx.python(path)
        if facts is None:
            return []
        found: dict[str, Hit] = {}
        for purpose, shown in script_purposes(facts).items():
            name = "data_validation" if purpose == "validate_data" else purpose
            found[name] = Hit(name, f"which {shown.reason} at {path}:{shown.line}")
        started = starts_training_run(facts)
        if started is not None and "train" not in found:
            found["train"] = Hit("train", f"which {started.reason} at {path}:{started.line}")
        if depth < MAX_FOLLOW:
            for called, module_path in self.local_modules(path, facts):
                for module_hit in self.python_file(module_path, depth + 1):
                    if module_hit.purpose not in found:
                        found[module_hit.purpose] = module_hit.nested(
                            f"which calls {called} from {module_path}"
                        )
        evaluate = found.get("evaluate")
        if "train" in found and evaluate and "mlflow.evaluate" not in evaluate.because and (
            "mlflow.models.evaluate" not in evaluate.because
        ):
            del found["evaluate"]  # metrics computed while training are not a model validation
        return list(found.values())

    def local_modules(self, path: str, facts: PyFacts) -> list[tuple[str, str]]:
        """Project modules whose functions the script calls, as (call, module file)."""
        bases = [posixpath.dirname(path), "", "src"]
        found: dict[str, str] = {}
        for module in sorted(facts.imports, key=len):
            called = next((c.name for c in facts.calls if c.name.startswith(module + ".")), None)
            if called is None:
                continue
            module_path = self.module_file(module, bases)
            if module_path and module_path != path and module_path not in found.values():
                found[called] = module_path
            if len(found) >= MAX_MODULES:
                break
        return list(found.items())

    # -- shell scripts and Makefiles -------------------------------------------------
    def shell_file(self, path: str, workdir: str, depth: int) -> list[Hit]:
        text = self.ctx.text(path)
        if text is None:
            return []
        hits: dict[str, Hit] = {}
        for command, number, hit in self.lines(logical_lines(text, 1), workdir, depth + 1):
            if hit.purpose not in hits:
                hits[hit.purpose] = hit.nested(f"which runs `{short(command)}` at {path}:{number}")
        return list(hits.values())

    def shell(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        """`bash scripts/train.sh`, `sh -c "..."`, `source env.sh`."""
        for index, arg in enumerate(args):
            if arg == "-c" and index + 1 < len(args):
                inner = [(args[index + 1], 0)]
                return [hit for _, _, hit in self.lines(inner, workdir, depth + 1)]
            if arg.startswith("-"):
                continue
            path = self.resolve(arg, workdir)
            if path is None:
                return []
            return self.python_file(path, depth) if path.endswith(".py") else self.shell_file(
                path, workdir, depth
            )
        return []

    def makefile(self, path: str) -> Makefile | None:
        if path not in self._makefiles:
            self._makefiles[path] = _parse_makefile(path, self.ctx.text(path))
        return self._makefiles[path]

    def make(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        directory, file_name, targets = workdir, None, []
        index = 0
        while index < len(args):
            arg = args[index]
            if arg in ("-C", "--directory") and index + 1 < len(args):
                directory = self.directory(args[index + 1], workdir) or directory
                index += 1
            elif arg in ("-f", "--file", "--makefile") and index + 1 < len(args):
                file_name = args[index + 1]
                index += 1
            elif not arg.startswith("-") and "=" not in arg:
                targets.append(arg)
            index += 1
        names = [file_name] if file_name else ["Makefile", "makefile", "GNUmakefile"]
        path = next((p for n in names if (p := self.resolve(n, directory))), None)
        makefile = self.makefile(path) if path else None
        hits: dict[str, Hit] = {}
        first = makefile.first_target if makefile else None
        for target in targets or ([first] if first else []):
            found = self.make_target(makefile, target, directory, depth, set()) if makefile else []
            # `make test` / `make lint` say what they do even when the recipe is opaque;
            # GNU's standard target `check` runs the self-tests
            named = None if _checks(found) else task_purpose(target, check="test")
            for hit in [*found, *([Hit(named)] if named else [])]:
                hits.setdefault(hit.purpose, hit)
        return list(hits.values())

    def make_target(
        self, makefile: Makefile, target: str, workdir: str, depth: int, seen: set[str]
    ) -> list[Hit]:
        if target in seen or target not in makefile.targets or depth > MAX_FOLLOW:
            return []
        seen.add(target)
        _, prerequisites, recipe = makefile.targets[target]
        hits: dict[str, Hit] = {}
        for command, number, hit in self.lines(recipe, workdir, depth + 1):
            where = f"whose target `{target}` runs `{short(command)}` at {makefile.path}:{number}"
            hits.setdefault(hit.purpose, hit.nested(where))
        for prerequisite in prerequisites:
            for hit in self.make_target(makefile, prerequisite, workdir, depth + 1, seen):
                hits.setdefault(hit.purpose, hit)
        return list(hits.values())

    # -- ML tools ------------------------------------------------------------------
    def dvc(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        if not (args[:1] == ["repro"] or args[:2] == ["exp", "run"]):
            return []
        path = self.resolve("dvc.yaml", workdir)
        stages = as_dict(as_dict(self.ctx.yaml(path)).get("stages")) if path else {}
        # `dvc repro $FLAGS` / `${{ inputs.stage }}`: variables name no stage we can see
        wanted = [a for a in _positionals(args[1:]) if a != "run" and "$" not in a]
        hits: dict[str, Hit] = {}
        for name, stage in stages.items():
            if wanted and as_str(name) not in wanted:
                continue
            stage_dir = posixpath.join(posixpath.dirname(path or ""), as_str(as_dict(stage).get("wdir")))
            for command in str_list(as_dict(stage).get("cmd")):
                stage_lines = [(command, 0)]
                for _, _, hit in self.lines(stage_lines, posixpath.normpath(stage_dir).strip("."),
                                            depth + 1):
                    where = f"which runs DVC stage `{name}` (`{short(command, 60)}`) in {path}"
                    hits.setdefault(hit.purpose, hit.nested(where))
        if "train" not in hits and not stages:
            hits["train"] = Hit("train", "which reproduces the DVC pipeline")
        return list(hits.values())

    def mlflow(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        head = args[:2]
        if head[:1] == ["run"]:
            return self.mlflow_project(args[1:], workdir, depth)
        if head == ["models", "build-docker"]:
            return [Hit("build", "which builds a model-serving image")]
        if head[:1] == ["deployments"] and head[1:] in (["create"], ["update"]):
            return [Hit("deploy", "which creates a model deployment")]
        if head[:1] in (["sagemaker"], ["azureml"]) and "deploy" in args:
            return [Hit("deploy")]
        return []

    def mlflow_project(self, args: list[str], workdir: str, depth: int) -> list[Hit]:
        positionals = _positionals(args, ("-e", "--entry-point", "-P", "--param-list", "-b",
                                          "--backend", "--experiment-name", "--env-manager",
                                          "-c", "--backend-config", "--run-name", "--version"))
        entry = "main"
        for index, arg in enumerate(args[:-1]):
            if arg in ("-e", "--entry-point"):
                entry = args[index + 1]
        project = self.directory(positionals[0] if positionals else ".", workdir)
        path = self.resolve("MLproject", project or "") if project is not None else None
        command = as_str(as_dict(as_dict(as_dict(self.ctx.yaml(path)).get("entry_points")).get(
            entry)).get("command")) if path else ""
        hits: dict[str, Hit] = {}
        if command:
            for _, _, hit in self.lines([(command, 0)], project or "", depth + 1):
                where = f"which runs MLproject entry point `{entry}` (`{short(command, 60)}`)"
                hits.setdefault(hit.purpose, hit.nested(where))
        if "train" not in hits:
            hits["train"] = Hit("train", "which runs an MLflow project")
        return list(hits.values())

    def az(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        words_ = [a for a in args if not a.startswith("-")][:3]
        group = " ".join(words_[:2])
        action = words_[2] if len(words_) > 2 else ""
        if words_[:2] == ["acr", "build"]:
            return [Hit("build")]
        if group == "ml job" and action == "create":
            return [Hit("train", "which submits an Azure ML job")]
        if group in ("ml online-deployment", "ml batch-deployment") and action in (
            "create", "update"
        ):
            return [Hit("deploy", "which creates an Azure ML deployment")]
        if group == "ml model" and action in ("create", "register"):
            return [Hit("register", "which registers a model in Azure ML")]
        if group == "ml model" and action == "deploy":
            return [Hit("deploy")]
        if group == "ml schedule" and action == "create":
            return [Hit("deploy_pipeline", "which schedules an Azure ML pipeline")]
        return []

    def aws(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        positionals = [a for a in args if not a.startswith("-")]
        if positionals[:1] != ["sagemaker"] or len(positionals) < 2:
            return []
        operation = positionals[1]
        purpose = {
            "create-endpoint": "deploy", "update-endpoint": "deploy",
            "start-pipeline-execution": "train", "create-training-job": "train",
            "create-model-package": "register", "update-model-package": "register",
            "create-pipeline": "deploy_pipeline", "update-pipeline": "deploy_pipeline",
        }.get(operation)  # fmt: skip
        return [Hit(purpose, f"which calls SageMaker {operation}")] if purpose else []

    def gcloud(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        positionals = [a for a in args if not a.startswith("-") and a not in ("beta", "alpha")]
        joined = " ".join(positionals[:4])
        for prefix, purpose in (
            ("ai endpoints deploy-model", "deploy"), ("ai models upload", "register"),
            ("ai custom-jobs create", "train"), ("ai hp-tuning-jobs create", "train"),
            ("ai-platform jobs submit training", "train"), ("builds submit", "build"),
            ("ai-platform versions create", "deploy"),
        ):  # fmt: skip
            if joined.startswith(prefix):
                return [Hit(purpose, f"which runs gcloud {prefix}")]
        return []

    def kfp(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        positionals = [a for a in args if not a.startswith("-")]
        head = positionals[:2]
        if head in (["run", "submit"], ["run", "create"]):
            return [Hit("train", "which starts a Kubeflow pipeline run")]
        if head in (["pipeline", "upload"], ["pipeline", "create"], ["pipeline-version", "create"],
                    ["recurring-run", "create"], ["pipeline", "upload-version"]):
            return [Hit("deploy_pipeline", f"which runs kfp {' '.join(head)}")]
        return []

    def bentoml(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        if args[:1] == ["deploy"] or args[:2] == ["deployment", "create"]:
            return [Hit("deploy", "which deploys a Bento")]
        if args[:1] in (["build"], ["containerize"]):
            return [Hit("build")]
        return []

    def docker(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        positionals = [a for a in args if not a.startswith("-")]
        head = positionals[:2]
        if head[:1] in (["build"], ["push"]) or head in (["buildx", "build"], ["image", "build"],
                                                         ["compose", "build"], ["image", "push"]):
            return [Hit("build")]
        if head == ["scout", "cves"]:
            return [Hit("security", tool="Docker Scout")]
        return []

    def kubectl(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        args = _after_global_options(args, KUBECTL_VALUED_OPTIONS)
        if not args or args[0] not in ("apply", "create", "replace"):
            return []
        files: list[str] = []
        for index, arg in enumerate(args[:-1]):
            if arg in ("-f", "--filename"):
                files.append(args[index + 1])
            elif arg in ("-k", "--kustomize"):
                files += self.kustomization(args[index + 1], workdir)
        if "-" in files:  # `envsubst < k8s/isvc.yaml | kubectl apply -f -`
            files += [w for w in words(line) if w.endswith((".yaml", ".yml"))]
        for file in files:
            for path in self.manifest_files(file, workdir, recursive="-R" in args):
                reason = self.serving_manifest(path)
                if reason:
                    return [Hit("deploy", f"which applies {reason}")]
        return []

    def kustomization(self, directory: str, workdir: str) -> list[str]:
        base = self.directory(directory, workdir)
        if base is None:
            return []
        for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
            path = self.resolve(name, base)
            if path:
                resources = str_list(as_dict(self.ctx.yaml(path)).get("resources"))
                return [posixpath.join(base, r) for r in resources]
        return []

    def manifest_files(self, file: str, workdir: str, recursive: bool) -> list[str]:
        if "*" in file:
            pattern = posixpath.normpath(posixpath.join(workdir, _WORKSPACE.sub("", file)))
            return self.ctx.matching(pattern)
        path = self.resolve(file, workdir)
        if path is not None:
            return [path]
        directory = self.directory(file, workdir)
        if directory is None:
            return []
        pattern = "**/*.{yaml,yml}" if recursive else "*.{yaml,yml}"
        return self.ctx.matching(f"{directory}/{pattern}" if directory else pattern)

    def serving_manifest(self, path: str) -> str | None:
        """`kind InferenceService at k8s/isvc.yaml:3`, or a workload running a model server."""
        if not path.endswith((".yaml", ".yml", ".json")):
            return None
        for doc in self.ctx.yaml_docs(path):
            for item in [doc, *as_dict(doc).get("items", [])] if isinstance(doc, dict) else []:
                item = as_dict(item)
                kind = as_str(item.get("kind"))
                at = f"{path}:{getattr(item, 'line', 0) or 1}"
                if kind in SERVING_KINDS:
                    return f"kind {kind} at {at}"
                image = _model_server_image(item, 0)
                if image:
                    return f"a {kind or 'workload'} running model server image {image} at {at}"
        return None

    def helm(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        if not args or args[0] not in ("upgrade", "install"):
            return []
        valued = ("-f", "--values", "--set", "--set-string", "--set-file", "-n", "--namespace",
                  "--version", "--timeout", "--kube-context", "--kubeconfig", "--repo",
                  "--description", "--post-renderer")
        positionals = _positionals(args[1:], valued)
        values = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--set", "--set-string")]
        for value in values:
            image = next((m for m in MODEL_SERVER_IMAGES if m in value), None)
            if image:
                return [Hit("deploy", f"which sets the model server image {image}")]
        chart = positionals[1] if len(positionals) > 1 else (positionals[0] if positionals else "")
        directory = self.directory(chart, workdir) if chart else None
        if directory is None or not self.ctx.exists(posixpath.join(directory, "Chart.yaml")):
            return []
        value_files = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-f", "--values")]
        return self.chart(directory, value_files, workdir)

    def chart(self, directory: str, value_files: list[str], workdir: str) -> list[Hit]:
        for path in self.ctx.matching(f"{directory}/templates/**/*.{{yaml,yml,tpl}}"):
            template = self.ctx.text(path) or ""
            match = _KIND_LINE.search(template)
            if match:
                number = template.count("\n", 0, match.start()) + 1
                reason = f"which installs chart {directory} with kind {match.group(1)} at {path}:{number}"
                return [Hit("deploy", reason)]
        candidates = [posixpath.join(directory, "values.yaml"),
                      *(p for f in value_files if (p := self.resolve(f, workdir)))]
        for path in candidates:
            text = self.ctx.text(path) if self.ctx.exists(path) else None
            image = next((m for m in MODEL_SERVER_IMAGES if text and m in text), None)
            if image:
                return [Hit("deploy", f"which installs chart {directory} with model server image "
                                      f"{image} ({path})")]
        return []

    def gh(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        """`gh workflow run train.yml` starts another workflow: its jobs' purposes count."""
        positionals = _positionals(args, ("-f", "-F", "--field", "--raw-field", "-r", "--ref",
                                          "-R", "--repo"))
        if positionals[:2] != ["workflow", "run"] or len(positionals) < 3:
            return []
        target = positionals[2]
        path = next((p for p in (f".github/workflows/{target}",) if self.ctx.exists(p)), None)
        if path is None:
            return []
        from maturity_probe.detectors.ci.registry import classify_file_jobs

        return [hit.nested(f"which starts workflow {path}")
                for hit in classify_file_jobs(self.ctx, "github-actions", path, depth + 1)]

    def great_expectations(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        positionals = [a for a in args if not a.startswith("-")]
        if positionals[:2] == ["checkpoint", "run"]:
            return [Hit("data_validation", "which runs a Great Expectations checkpoint")]
        return []

    def soda(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        return [Hit("data_validation", "which runs Soda checks")] if args[:1] == ["scan"] else []

    def package(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        """`poetry build`, `hatch build`, `pip wheel`, `twine upload`, `uv build`."""
        positionals = [a for a in args if not a.startswith("-")]
        if positionals[:1] in (["build"], ["wheel"], ["upload"], ["publish"]):
            return [Hit("build")]
        return []

    def python_build(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        return [Hit("build")]

    def kaniko(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        return [Hit("build")] if any(a.startswith(("--context", "--dockerfile")) for a in args) else []

    def image_builder(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        return [Hit("build")] if args[:1] in (["build"], ["bud"], ["publish"]) else []

    def jvm_build(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        """mvn / gradle goals: `test`, `verify` test; `package`, `install`, `build` package."""
        goals = {a.split(":")[-1] for a in args if not a.startswith("-")}
        hits = [Hit("test")] if goals & {"test", "verify", "check"} else []
        if goals & {"package", "install", "build", "assemble", "publish", "deploy", "jib"}:
            hits.append(Hit("build"))
        return hits

    def js_build(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        """npm / yarn / pnpm scripts, judged by what package.json says they run; by their
        name (`test`, `lint`, `build`) when it cannot be read."""
        positionals = [a for a in args if not a.startswith("-")]
        if positionals[:1] in (["run"], ["run-script"]):
            positionals = positionals[1:]
        script = {"t": "test", "tst": "test"}.get(positionals[0], positionals[0]) if (
            positionals) else ""
        if not script or script in ("ci", "install", "i", "add", "exec", "x", "dlx"):
            return []
        path = self.resolve("package.json", workdir)
        scripts = as_dict(_json(self.ctx.text(path) if path else None).get("scripts"))
        text = as_str(scripts.get(script))
        if NPM_PLACEHOLDER in text:
            return []  # `npm init`'s "no test specified": nothing runs
        if text:
            found = [hit.nested(f"whose script `{script}` runs `{short(text, 60)}` ({path})")
                     for _, _, hit in self.lines([(text, 0)], workdir, depth + 1)]
            if found:
                return found
        elif script in TEST_TOOLS or script in LINT_TOOLS:  # `yarn jest`, `pnpm eslint .`
            return self.command(positionals, line, workdir, depth)
        named = task_purpose(script, check="lint")
        return [Hit(named)] if named else [Hit("build")] if script == "build" else []

    def npx(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        """`npx --yes eslint .`: the package's program, as if run directly."""
        return self.command(_drop_options(args, valued=("-p", "--package")), line, workdir, depth)

    def native_build(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        """go / cargo / dotnet: `test` tests, `vet` / `clippy` / `fmt --check` lint, `build`
        builds."""
        first = args[0] if args else ""
        if first == "test":
            return [Hit("test")]
        if first in ("vet", "clippy") or (
            first in ("fmt", "format") and {"--check", "--verify-no-changes"} & set(args)
        ):
            return [Hit("lint", tool=first)]
        return [Hit("build")] if first in ("build", "publish", "pack") else []

    def pre_commit(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        """`pre-commit run --all-files`: the hooks, mostly linters and formatters."""
        return [Hit("lint", tool="pre-commit")] if args[:1] == ["run"] else []

    def coverage(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        """`coverage run -m pytest` runs tests; `coverage report` only reads their results."""
        return [Hit("test")] if args[:1] == ["run"] else []

    def tox(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        """tox environments, judged by their `commands` in tox.ini; by their names (`lint`,
        `py311`) when tox.ini cannot be read. Plain `tox` runs the envlist."""
        envs: list[str] = []
        for index, arg in enumerate(args):
            flag, equals, value = arg.partition("=")
            if flag in ("-e", "--env", "-f", "--factor") and not equals and index + 1 < len(args):
                value = args[index + 1]
            if flag in ("-e", "--env", "-f", "--factor"):
                envs += [e.strip() for e in value.split(",") if e.strip() and "$" not in e]
        path = self.resolve("tox.ini", workdir)
        ini = _tox_ini(self.ctx.text(path)) if path else None
        if not envs and ini is not None:
            envs = _expand_braces(ini.get("tox", {}).get("envlist", "")) or ["testenv"]
        if not envs:
            return [Hit("test")]  # the envlist of an unreadable tox configuration
        hits: dict[str, Hit] = {}
        for env in envs:
            commands = _tox_commands(ini, env) if ini is not None else []
            found = [hit.nested(f"which runs tox environment `{env}` (`{short(text, 60)}`) "
                                f"in {path}")
                     for text, _, hit in self.lines([(c, 0) for c in commands], workdir, depth + 1)]
            named = None if _checks(found) else task_purpose(env, check="test", python_envs=True)
            for hit in [*found, *([Hit(named)] if named else [])]:
                hits.setdefault(hit.purpose, hit)
        return list(hits.values())

    def nox(self, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        """nox sessions, judged by the `session.run(...)` calls in noxfile.py; by their names
        when it cannot be read. Plain `nox` runs every session."""
        sessions: list[str] = []
        noxfile = "noxfile.py"
        index = 0
        while index < len(args):
            arg = args[index]
            if arg in ("-s", "--session", "--sessions", "-e"):
                index += 1
                while index < len(args) and not args[index].startswith("-"):
                    sessions.append(args[index])
                    index += 1
                continue
            if arg in ("-f", "--noxfile") and index + 1 < len(args):
                noxfile = args[index + 1]
                index += 1
            index += 1
        path = self.resolve(noxfile, workdir)
        facts = self.ctx.python(path) if path else None
        if facts is None and not sessions:
            return [Hit("test")]  # every session of a noxfile we cannot read
        defined = [d for d in facts.definitions if d.owner is None and any(
            dec.split(".")[-1] == "session" for dec in d.decorators)] if facts else []
        wanted = {s.split("(")[0].split("-")[0] for s in sessions}  # `tests-3.11(django='5')`
        hits: dict[str, Hit] = {}
        for session in defined:
            if wanted and session.name not in wanted:
                continue
            runs = [c for c in facts.calls if c.name.endswith(".run") and c.str_args
                    and session.line <= c.line <= session.end_line] if facts else []
            found = [hit.nested(f"which runs nox session `{session.name}` (`{short(text, 60)}` "
                                f"at {path}:{run.line})")
                     for run in runs
                     for text in [" ".join(run.str_args)]
                     for hit in self.command(_strip_prefixes(list(run.str_args)), text, workdir,
                                             depth + 1)]
            named = None if _checks(found) else task_purpose(session.name, check="test")
            for hit in [*found, *([Hit(named)] if named else [])]:
                hits.setdefault(hit.purpose, hit)
        for name in sorted(wanted - {d.name for d in defined}):  # unreadable, or named otherwise
            if purpose := task_purpose(name, check="test", python_envs=True):
                hits.setdefault(purpose, Hit(purpose))
        return list(hits.values())


NPM_PLACEHOLDER = "Error: no test specified"


def _json(text: str | None) -> dict[str, Any]:
    try:
        loaded = json.loads(text) if text else {}
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _tox_ini(text: str | None) -> dict[str, dict[str, str]] | None:
    """The sections of a tox.ini (values uninterpreted), or None when it cannot be read."""
    if text is None:
        return None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return {name: dict(parser[name]) for name in parser.sections()}


def _expand_braces(text: str) -> list[str]:
    """tox's envlist: `py{310,311}-unit, lint` -> py310-unit, py311-unit, lint."""
    names: list[str] = []
    for item in re.split(r",(?![^{]*\})|\n", text):
        pending = [item.strip()]
        while pending and len(names) < 50:
            name = pending.pop(0)
            brace = re.search(r"\{([^{}]*)\}", name)
            if brace is None:
                names += [name] if name else []
                continue
            pending += [name[: brace.start()] + option.strip() + name[brace.end():]
                        for option in brace.group(1).split(",")]
    return list(dict.fromkeys(names))


def _tox_commands(ini: dict[str, dict[str, str]], env: str) -> list[str]:
    """An environment's commands (its own section, else [testenv]'s), substitutions left
    out: `{envpython} -m pytest {posargs}` -> `python -m pytest`."""
    section = ini.get(f"testenv:{env}", {})
    text = section.get("commands", ini.get("testenv", {}).get("commands", ""))
    commands = []
    for raw in text.replace("\\\n", " ").splitlines():
        command = raw.strip().lstrip("-!").strip()
        command = re.sub(r"\{env(?:python|bindir/python)\}", "python", command)
        command = re.sub(r"\{[^{}]*\}/?", "", command).strip()
        if command and not command.startswith("#"):
            commands.append(command)
    return commands


def task_purpose(name: str, *, check: str | None, python_envs: bool = False) -> str | None:
    """"test" or "lint" for a task named like one (`unit-tests`, `lint:py`, tox's `py311`).

    Only for tasks whose commands cannot be read; `check` is what a bare `check` means
    for this kind of task, and `python_envs` counts tox's `py311` factors as test runs.
    """
    lowered = name.lower()
    for candidate in (lowered, *re.split(r"[-_:.]", lowered)):
        if candidate in LINT_TASK_NAMES:
            return "lint"
        if candidate in TEST_TASK_NAMES or (python_envs and _PYTHON_ENV.match(candidate)):
            return "test"
    return check if lowered == "check" else None


def _checks(hits: list[Hit]) -> bool:
    return any(hit.purpose in ("test", "lint") for hit in hits)


def _model_server_image(node: Any, depth: int) -> str | None:
    if depth > 10:
        return None
    if isinstance(node, dict):
        image = as_str(node.get("image")).lower()
        match = next((m for m in MODEL_SERVER_IMAGES if m in image), None)
        if match:
            return image
        for value in node.values():
            if isinstance(value, dict | list) and (found := _model_server_image(value, depth + 1)):
                return found
    elif isinstance(node, list):
        for item in node:
            if found := _model_server_image(item, depth + 1):
                return found
    return None


def _parse_makefile(path: str, text: str | None) -> Makefile | None:
    if text is None:
        return None
    variables: dict[str, str] = {}
    targets: dict[str, tuple[int, list[str], list[tuple[str, int]]]] = {}
    first: str | None = None
    current: list[tuple[str, int]] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith("\t"):
            if current is not None:
                recipe = raw.strip().lstrip("@-+").strip()
                if recipe and not recipe.startswith("#"):
                    current.append((_expand(recipe, variables), number))
            continue
        stripped = raw.split("#", 1)[0].rstrip()
        if not stripped:
            continue
        if variable := _MAKE_VAR.match(stripped):
            variables[variable.group(1)] = _expand(variable.group(2).strip(), variables)
            current = None
            continue
        rule = _MAKE_RULE.match(stripped)
        if rule is None:
            current = None
            continue
        names = rule.group(1).split()
        prerequisites, _, inline = rule.group(2).partition(";")
        current = [(inline.strip(), number)] if inline.strip() else []
        for name in names:
            if name.startswith("."):
                continue
            targets[name] = (number, prerequisites.split(), current)
            first = first or name
    return Makefile(path, first, targets)


def _expand(text: str, variables: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        return variables.get(match.group(1) or match.group(2), match.group(0))

    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}", value, text)


Handler = Callable[[Classifier, list[str], str, str, int], list[Hit]]


def _security_subcommand(tool: str, subcommands: tuple[str, ...]) -> Handler:
    def handler(self: Classifier, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        positionals = [a for a in args if not a.startswith("-")]
        if not subcommands or (positionals and positionals[0] in subcommands):
            return [Hit("security", tool=tool)]
        return []

    return handler


def _formatter_check(tool: str) -> Handler:
    """`black --check`, `isort --check-only`, `prettier --check` lint; without the flag
    they rewrite files."""

    def handler(self: Classifier, args: list[str], line: str, workdir: str, depth: int) -> list[Hit]:
        if {"--check", "--check-only", "--diff", "--list-different"} & set(args):
            return [Hit("lint", tool=tool)]
        return []

    return handler


_PROGRAMS: dict[str, Handler] = {
    "bash": Classifier.shell, "sh": Classifier.shell, "zsh": Classifier.shell,
    "source": Classifier.shell, ".": Classifier.shell,
    "make": Classifier.make, "gmake": Classifier.make,
    "dvc": Classifier.dvc, "mlflow": Classifier.mlflow, "az": Classifier.az,
    "aws": Classifier.aws, "gcloud": Classifier.gcloud, "kfp": Classifier.kfp,
    "bentoml": Classifier.bentoml, "docker": Classifier.docker, "podman": Classifier.image_builder,
    "buildah": Classifier.image_builder, "img": Classifier.image_builder,
    "pack": Classifier.image_builder, "ko": Classifier.image_builder,
    "executor": Classifier.kaniko,
    "kubectl": Classifier.kubectl, "oc": Classifier.kubectl, "helm": Classifier.helm,
    "gh": Classifier.gh,
    "great_expectations": Classifier.great_expectations, "gx": Classifier.great_expectations,
    "soda": Classifier.soda,
    "poetry": Classifier.package, "hatch": Classifier.package, "pdm": Classifier.package,
    "flit": Classifier.package, "twine": Classifier.package, "uv": Classifier.package,
    "pip": Classifier.package, "pip3": Classifier.package, "python-build": Classifier.python_build,
    "mvn": Classifier.jvm_build, "gradle": Classifier.jvm_build, "gradlew": Classifier.jvm_build,
    "npm": Classifier.js_build, "yarn": Classifier.js_build, "pnpm": Classifier.js_build,
    "go": Classifier.native_build, "cargo": Classifier.native_build,
    "npx": Classifier.npx, "pnpx": Classifier.npx, "bunx": Classifier.npx,
    "dotnet": Classifier.native_build, "tox": Classifier.tox, "nox": Classifier.nox,
    "pre-commit": Classifier.pre_commit, "coverage": Classifier.coverage,
    "black": _formatter_check("black"), "isort": _formatter_check("isort"),
    "prettier": _formatter_check("prettier"),
    "safety": _security_subcommand("safety", ("check", "scan")),
    "snyk": _security_subcommand("Snyk", ("test", "monitor", "container", "code", "iac")),
    "codeql": _security_subcommand("CodeQL", ("database",)),
}  # fmt: skip


def known_use(name: str) -> Hit | None:
    """What a well-known action, orb, pipe or task does."""
    lowered = name.lower().split("@")[0]
    for prefix, purpose, tool in KNOWN_USES:
        if lowered.startswith(prefix):
            return Hit(purpose, tool=tool)
    return None
