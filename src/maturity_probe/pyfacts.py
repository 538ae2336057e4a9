"""What a Python file does, read with `ast` (never executed, never grepped).

Each file is parsed once per scan; detectors ask questions of the resulting facts.
Names are resolved through imports, so `import mlflow as mf; mf.sklearn.autolog()`
records the call `mlflow.sklearn.autolog`, and a commented-out import records nothing.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field

MAX_STR_ARGS = 3  # string literals kept per call (metric names, model names, paths)
MAX_STR_ARG = 200


@dataclass(frozen=True)
class Call:
    name: str  # resolved dotted name, e.g. "mlflow.register_model" or "model.fit"
    line: int
    keywords: frozenset[str] = frozenset()
    # String literals passed positionally (the first few), e.g. a metric's name in
    # `Counter("predictions_total", ...)`; recorded as data, never evaluated.
    str_args: tuple[str, ...] = ()

    @property
    def attr(self) -> str:
        """The last part of the name: `fit` for `model.fit`."""
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class ClassDef:
    name: str
    line: int
    bases: tuple[str, ...]
    methods: frozenset[str]
    decorators: tuple[str, ...]


@dataclass
class PyFacts:
    """Imports, calls, definitions and decorators of one Python module."""

    imports: dict[str, int] = field(default_factory=dict)  # module -> first line
    calls: list[Call] = field(default_factory=list)
    functions: dict[str, int] = field(default_factory=dict)  # top-level function -> line
    classes: list[ClassDef] = field(default_factory=list)
    decorators: list[Call] = field(default_factory=list)  # on functions and classes
    relative_imports: dict[str, int] = field(default_factory=dict)  # ".model" -> first line
    has_main_guard: bool = False

    def imports_any(self, *prefixes: str) -> int | None:
        """Line of the first import of a module equal to or under one of the prefixes."""
        lines = [
            line
            for module, line in self.imports.items()
            if any(module == p or module.startswith(p + ".") for p in prefixes)
        ]
        return min(lines) if lines else None

    def calls_to(self, *prefixes: str) -> list[Call]:
        """Calls whose resolved name equals or starts with one of the dotted prefixes."""
        return [
            call
            for call in self.calls
            if any(call.name == p or call.name.startswith(p + ".") for p in prefixes)
        ]

    def calls_named(self, *attrs: str) -> list[Call]:
        """Calls whose last name part is one of `attrs` (`fit` matches `clf.fit`)."""
        wanted = set(attrs)
        return [call for call in self.calls if call.attr in wanted]

    def calls_with_keyword(self, keyword: str) -> list[Call]:
        return [call for call in self.calls if keyword in call.keywords]


class _Visitor(ast.NodeVisitor):
    def __init__(self, facts: PyFacts) -> None:
        self.facts = facts
        self.aliases: dict[str, str] = {}  # local name -> dotted origin

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.facts.imports.setdefault(alias.name, node.lineno)
            local = alias.asname or alias.name.split(".")[0]
            self.aliases[local] = alias.name if alias.asname else alias.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:  # relative imports are the project's own code: kept apart
            base = "." * node.level + (node.module or "")
            if node.module is None:
                for alias in node.names:
                    self.facts.relative_imports.setdefault(base + alias.name, node.lineno)
            else:
                self.facts.relative_imports.setdefault(base, node.lineno)
            return
        if node.module is None:
            return
        self.facts.imports.setdefault(node.module, node.lineno)
        for alias in node.names:
            origin = f"{node.module}.{alias.name}"
            self.facts.imports.setdefault(origin, node.lineno)
            self.aliases[alias.asname or alias.name] = origin

    def resolve(self, node: ast.AST) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Call):  # e.g. MlflowClient().create_model_version
            inner = self.resolve(node.func)
            if inner is None:
                return None
            parts.append(inner)
            return ".".join(reversed(parts))
        if not isinstance(node, ast.Name):
            return None
        parts.append(self.aliases.get(node.id, node.id))
        return ".".join(reversed(parts))

    def visit_Call(self, node: ast.Call) -> None:
        name = self.resolve(node.func)
        if name is not None:
            keywords = frozenset(k.arg for k in node.keywords if k.arg)
            str_args = tuple(
                arg.value[:MAX_STR_ARG]
                for arg in node.args[:MAX_STR_ARGS]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            )
            self.facts.calls.append(Call(name, node.lineno, keywords, str_args))
        self.generic_visit(node)

    def _decorators(self, decorators: list[ast.expr]) -> tuple[str, ...]:
        names = []
        for decorator in decorators:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            name = self.resolve(target)
            if name is not None:
                names.append(name)
                self.facts.decorators.append(Call(name, decorator.lineno))
        return tuple(names)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._function(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._decorators(node.decorator_list)
        if node.col_offset == 0:
            self.facts.functions.setdefault(node.name, node.lineno)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = tuple(name for base in node.bases if (name := self.resolve(base)))
        methods = frozenset(
            item.name
            for item in node.body
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        )
        decorators = self._decorators(node.decorator_list)
        self.facts.classes.append(ClassDef(node.name, node.lineno, bases, methods, decorators))
        self.generic_visit(node)

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (
            isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
        ):
            self.facts.has_main_guard = True
        self.generic_visit(node)


def parse_python(source: str) -> PyFacts | None:
    """Facts of a Python module, or None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    facts = PyFacts()
    try:
        _Visitor(facts).visit(tree)
    except RecursionError:
        return None
    return facts


def notebook_code(source: str) -> str | None:
    """The code cells of a Jupyter notebook joined into one module (magics dropped)."""
    try:
        notebook = json.loads(source)
    except ValueError:
        return None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        return None
    lines: list[str] = []
    for cell in notebook["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        text = cell.get("source", "")
        text = "".join(text) if isinstance(text, list) else str(text)
        for line in text.splitlines():
            stripped = line.lstrip()
            lines.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)
