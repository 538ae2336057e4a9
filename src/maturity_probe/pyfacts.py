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
MAX_KEYWORD_LITERAL = 2000  # keyword literals hold commands and cron expressions
MAX_ARG_REFS = 3

Literal = str | int | float | bool | None


@dataclass(frozen=True)
class Call:
    name: str  # resolved dotted name, e.g. "mlflow.register_model" or "model.fit"
    line: int
    keywords: frozenset[str] = frozenset()
    # String literals passed positionally (the first few), e.g. a metric's name in
    # `Counter("predictions_total", ...)`; recorded as data, never evaluated.
    str_args: tuple[str, ...] = ()
    # Keyword arguments given as constants (`schedule="0 3 * * *"`, `schedule=None`;
    # f-strings keep their literal parts with `{}` for each placeholder) ...
    kw_literals: tuple[tuple[str, Literal], ...] = ()
    # ... or as names, attributes or calls, resolved like call names
    # (`python_callable=train` -> "train", `schedule=timedelta(days=1)` -> "datetime.timedelta").
    kw_refs: tuple[tuple[str, str], ...] = ()
    # The first positional arguments' resolved names (None where not a name), e.g. the
    # function of Kedro's `node(train_model, ...)`.
    arg_refs: tuple[str | None, ...] = ()

    @property
    def attr(self) -> str:
        """The last part of the name: `fit` for `model.fit`."""
        return self.name.rsplit(".", 1)[-1]

    def has_literal(self, keyword: str) -> bool:
        return any(key == keyword for key, _ in self.kw_literals)

    def literal(self, keyword: str) -> Literal:
        """The constant given for `keyword` (None when absent or not a constant)."""
        return next((value for key, value in self.kw_literals if key == keyword), None)

    def text(self, *keywords: str) -> str | None:
        """The first of `keywords` given as a string constant."""
        for keyword in keywords:
            value = self.literal(keyword)
            if isinstance(value, str):
                return value
        return None

    def ref(self, keyword: str) -> str | None:
        """The resolved name given for `keyword` (a name, attribute or call)."""
        return next((value for key, value in self.kw_refs if key == keyword), None)


@dataclass(frozen=True)
class Function:
    """A function or method definition and the lines its body spans."""

    name: str
    line: int
    end_line: int
    decorators: tuple[str, ...]
    owner: str | None = None  # the class of a method


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
    definitions: list[Function] = field(default_factory=list)  # every def, nested too
    relative_names: dict[str, str] = field(default_factory=dict)  # "train" -> ".nodes.train"

    def within(self, function: Function) -> PyFacts:
        """The facts of one function body: the module's imports, the calls inside it."""
        inside = range(function.line, function.end_line + 1)
        return PyFacts(
            imports=self.imports,
            calls=[c for c in self.calls if c.line in inside],
            functions={},
            classes=[c for c in self.classes if c.line in inside],
            decorators=[d for d in self.decorators if d.line in inside],
            relative_imports=self.relative_imports,
            definitions=[d for d in self.definitions if d.line in inside and d != function],
            relative_names=self.relative_names,
        )

    def decorated(self, *prefixes: str) -> list[Function]:
        """Definitions with a decorator equal to or under one of the dotted prefixes."""
        return [
            d
            for d in self.definitions
            if any(n == p or n.startswith(p + ".") for n in d.decorators for p in prefixes)
        ]

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
        self.owners: list[str | None] = []  # enclosing class (or None in a function)

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
            prefix = base if node.module is None else base + "."
            for alias in node.names:
                self.facts.relative_names[alias.asname or alias.name] = prefix + alias.name
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
            kw_literals: list[tuple[str, Literal]] = []
            kw_refs: list[tuple[str, str]] = []
            for keyword in node.keywords:
                if keyword.arg is None:
                    continue
                is_literal, literal = _literal(keyword.value)
                if is_literal:
                    kw_literals.append((keyword.arg, literal))
                elif (ref := self.reference(keyword.value)) is not None:
                    kw_refs.append((keyword.arg, ref))
            arg_refs = tuple(self.reference(arg) for arg in node.args[:MAX_ARG_REFS])
            self.facts.calls.append(
                Call(name, node.lineno, keywords, str_args, tuple(kw_literals), tuple(kw_refs),
                     arg_refs)
            )
        self.generic_visit(node)

    def reference(self, node: ast.AST) -> str | None:
        """The resolved name of a name, attribute or call expression."""
        if isinstance(node, ast.Call):
            return self.resolve(node.func)
        if isinstance(node, ast.Name | ast.Attribute):
            return self.resolve(node)
        return None

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
        decorators = self._decorators(node.decorator_list)
        if node.col_offset == 0:
            self.facts.functions.setdefault(node.name, node.lineno)
        line = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        self.facts.definitions.append(
            Function(node.name, line, node.end_lineno or node.lineno, decorators,
                     self.owners[-1] if self.owners else None)
        )
        self.owners.append(None)  # functions nested in a method are not methods
        self.generic_visit(node)
        self.owners.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = tuple(name for base in node.bases if (name := self.resolve(base)))
        methods = frozenset(
            item.name
            for item in node.body
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        )
        decorators = self._decorators(node.decorator_list)
        self.facts.classes.append(ClassDef(node.name, node.lineno, bases, methods, decorators))
        self.owners.append(node.name)
        self.generic_visit(node)
        self.owners.pop()

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (
            isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
        ):
            self.facts.has_main_guard = True
        self.generic_visit(node)


def _literal(node: ast.AST) -> tuple[bool, Literal]:
    """(True, value) for a constant or an f-string (text with `{}` placeholders)."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str):
            return True, value[:MAX_KEYWORD_LITERAL]
        if value is None or isinstance(value, bool | int | float):
            return True, value
        return False, None
    if isinstance(node, ast.JoinedStr):
        parts = [
            part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else "{}"
            for part in node.values
        ]
        return True, "".join(parts)[:MAX_KEYWORD_LITERAL]
    return False, None


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
