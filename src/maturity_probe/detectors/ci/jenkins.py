"""Jenkinsfiles (declarative and scripted Groovy pipelines) as normalized jobs.

Groovy is not parsed fully: a small tokenizer that knows strings and comments feeds a
reader of `name(args) { block }` statements. That is enough for the declarative
structure (`triggers { cron(...) }`, `stages { stage('x') { steps { sh '...' } } }`,
`input`, `when`) and for `sh` steps in scripted pipelines. Comments are dropped by the
tokenizer, so a commented-out `cron(...)` is not a trigger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from maturity_probe.detectors.ci.model import CiFile, CiJob, Command, Trigger
from maturity_probe.detectors.ci.nodes import logical_lines
from maturity_probe.detectors.context import RepoContext

SYSTEM = "jenkins"
JENKINSFILE_GLOBS = ("**/Jenkinsfile", "**/Jenkinsfile.*", "**/*.jenkinsfile", "**/*.Jenkinsfile")
MAX_NESTING = 60
SHELL_STEPS = ("sh", "bat", "powershell", "pwsh")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_PUNCT = set("{}()[],:;=")
_CAUSES = {  # when { triggeredBy ... } cause -> trigger kinds it lets through
    "TimerTrigger": "schedule", "TimerTriggerCause": "schedule",
    "SCMTrigger": "push", "SCMTriggerCause": "push", "BranchIndexingCause": "push",
    "UserIdCause": "manual", "UpstreamCause": "upstream", "GenericCause": "event",
}  # fmt: skip


@dataclass(frozen=True)
class Token:
    kind: str  # ident, string, punct, newline, other
    value: str
    line: int


class GroovyError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def tokenize(text: str) -> list[Token]:
    """Tokens of Groovy source, without comments; strings keep their start line."""
    tokens: list[Token] = []
    i, n, line = 0, len(text), 1
    while i < n:
        char = text[i]
        if char == "\n":
            tokens.append(Token("newline", "\n", line))
            line += 1
            i += 1
        elif char in " \t\r\f":
            i += 1
        elif text.startswith("//", i) or (char == "#" and i == 0 and text.startswith("#!")):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
        elif text.startswith(("'''", '"""'), i):
            quote = text[i : i + 3]
            end = text.find(quote, i + 3)
            if end < 0:
                raise GroovyError("unterminated triple-quoted string", line)
            tokens.append(Token("string", text[i + 3 : end], line))
            line += text.count("\n", i, end + 3)
            i = end + 3
        elif char in "'\"":
            value, i = _quoted(text, i, line)
            tokens.append(Token("string", value, line))
        elif match := _IDENT.match(text, i):
            tokens.append(Token("ident", match.group(0), line))
            i = match.end()
        elif char in _PUNCT:
            tokens.append(Token("punct", char, line))
            i += 1
        else:
            tokens.append(Token("other", char, line))
            i += 1
    return tokens


def _quoted(text: str, start: int, line: int) -> tuple[str, int]:
    """A single-line string; `${...}` interpolations may hold quotes of their own."""
    quote = text[start]
    i = start + 1
    out: list[str] = []
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif char == quote:
            return "".join(out), i + 1
        elif char == "\n":
            raise GroovyError("unterminated string", line)
        elif quote == '"' and text.startswith("${", i):
            depth, j = 0, i
            while j < len(text) and text[j] != "\n":
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            out.append(text[i:j])
            i = j
        else:
            out.append(char)
            i += 1
    raise GroovyError("unterminated string", line)


@dataclass
class Statement:
    """`name args... { block }`; `inner` holds closures passed inside parentheses."""

    name: str
    line: int
    args: list[Token] = field(default_factory=list)
    block: list[Statement] | None = None
    inner: list[Statement] = field(default_factory=list)

    def strings(self) -> list[Token]:
        return [t for t in self.args if t.kind == "string"]

    def first_string(self) -> str | None:
        strings = self.strings()
        return strings[0].value if strings else None

    def keyword_string(self, key: str) -> Token | None:
        """The string after `key:` in the arguments (`sh script: '...'`)."""
        for index, token in enumerate(self.args[:-2]):
            following = self.args[index + 1 : index + 3]
            if token.kind == "ident" and token.value == key and following[0].value == ":":
                return following[1] if following[1].kind == "string" else None
        return None

    def children(self) -> list[Statement]:
        return [*(self.block or []), *self.inner]

    def walk(self, depth: int = 0) -> list[Statement]:
        if depth > MAX_NESTING:
            return []
        found = [self]
        for child in self.children():
            found += child.walk(depth + 1)
        return found


class _Reader:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def statements(self, depth: int) -> list[Statement]:
        if depth > MAX_NESTING:
            raise GroovyError("nested too deeply", self.tokens[self.i].line)
        found: list[Statement] = []
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            if token.kind == "newline" or token.value == ";":
                self.i += 1
            elif token.value == "}":
                return found
            else:
                found.append(self.statement(depth))
        return found

    def statement(self, depth: int) -> Statement:
        first = self.tokens[self.i]
        stmt = Statement(first.value if first.kind == "ident" else "", first.line)
        if first.kind != "ident":
            stmt.args.append(first)
        self.i += 1
        parens = 0
        while self.i < len(self.tokens):
            token = self.tokens[self.i]
            if token.kind == "newline" or token.value == ";":
                if parens == 0 and not self._continues(stmt):
                    return stmt
                self.i += 1
            elif token.value in "([" and token.kind == "punct":
                parens += 1
                stmt.args.append(token)
                self.i += 1
            elif token.value in ")]" and token.kind == "punct":
                parens -= 1
                stmt.args.append(token)
                self.i += 1
            elif token.value == "{" and token.kind == "punct":
                self.i += 1
                block = self.statements(depth + 1)
                self._close(token)
                if parens > 0:
                    stmt.inner += block
                else:
                    stmt.block = (stmt.block or []) + block
                    return stmt
            elif token.value == "}":
                return stmt
            else:
                stmt.args.append(token)
                self.i += 1
        return stmt

    def _continues(self, stmt: Statement) -> bool:
        """A line ending in `,`, `:` or an operator goes on on the next line."""
        return bool(stmt.args) and stmt.args[-1].value in (",", ":", "=", "+", "(", "[")

    def _close(self, opening: Token) -> None:
        if self.i >= len(self.tokens) or self.tokens[self.i].value != "}":
            raise GroovyError("unbalanced `{`", opening.line)
        self.i += 1


def parse_groovy(text: str) -> list[Statement]:
    tokens = tokenize(text)
    reader = _Reader(tokens)
    statements = reader.statements(0)
    if reader.i < len(tokens):
        raise GroovyError("unbalanced `}`", tokens[reader.i].line)
    return statements


def parse_jenkinsfile(ctx: RepoContext, path: str) -> CiFile | None:
    text = ctx.text(path)
    if text is None:
        return None
    try:
        statements = parse_groovy(text)
    except GroovyError as exc:
        ctx.warn(path, exc.line, f"Jenkinsfile not understood, ignored: {exc}")
        return None
    root = Statement("", 1, block=statements)
    pipeline = next((s for s in statements if s.name == "pipeline" and s.block), None)
    scope = pipeline or root
    triggers = _triggers(scope, path)
    if not any(t.kind == "push" for t in triggers):  # multibranch jobs build on every push
        triggers.insert(0, Trigger("push", "scm", path, scope.line or 1))
    jobs = [_stage_job(stage, path, triggers) for stage in _leaf_stages(scope, 0)]
    return CiFile(SYSTEM, path, scope.line or 1, tuple(jobs))


def _triggers(scope: Statement, path: str) -> list[Trigger]:
    """`triggers { ... }` of a declarative pipeline, or `pipelineTriggers([...])` calls."""
    found: list[Trigger] = []
    for stmt in scope.walk():
        if stmt.name == "triggers" and stmt.block is not None:
            for call in stmt.block:
                found += _trigger_call(call.name, call.args, path, call.line)
        elif stmt.name == "properties" or any(t.value == "pipelineTriggers" for t in stmt.args):
            found += _calls_in_args(stmt.args, path)
    return found


def _calls_in_args(args: list[Token], path: str) -> list[Trigger]:
    found = []
    for index, token in enumerate(args):
        if token.kind == "ident" and index + 1 < len(args) and args[index + 1].value == "(":
            depth, end = 0, index + 1
            for end in range(index + 1, len(args)):
                depth += {"(": 1, ")": -1}.get(args[end].value, 0)
                if depth == 0:
                    break
            found += _trigger_call(token.value, args[index + 1 : end + 1], path, token.line)
    return found


def _trigger_call(name: str, args: list[Token], path: str, at: int) -> list[Trigger]:
    strings = [t.value for t in args if t.kind == "string"]
    if name in ("cron", "parameterizedCron"):
        specs = [s for value in strings for s in value.splitlines() if s.strip()]
        return [
            Trigger("schedule", name, path, at, " ".join(spec.split("%")[0].split()))
            for spec in specs
            if spec.strip()
        ]
    if name == "pollSCM":
        return [Trigger("push", name, path, at, strings[0] if strings else None)]
    if name in ("githubPush", "bitbucketPush", "gitlab", "gitee"):
        return [Trigger("push", name, path, at)]
    if name == "upstream":
        return [Trigger("upstream", name, path, at, ",".join(strings) or None)]
    if name == "GenericTrigger":
        return [Trigger("event", name, path, at, " ".join(strings) or "generic webhook")]
    return []


def _leaf_stages(scope: Statement, depth: int) -> list[Statement]:
    """Stages that run steps; stages holding `stages`/`parallel` are only groups."""
    leaves: list[Statement] = []
    if depth > MAX_NESTING:
        return leaves
    for child in scope.children():
        if child.name == "stage" and child.block is not None:
            nested = _leaf_stages(child, depth + 1)
            leaves += nested if nested else [child]
        elif child.name not in ("steps", "post"):
            leaves += _leaf_stages(child, depth + 1)
    return leaves


def _stage_job(stage: Statement, path: str, triggers: list[Trigger]) -> CiJob:
    name = stage.first_string() or f"stage at line {stage.line}"
    commands: list[Command] = []
    approval = None
    disabled = False
    for child in stage.children():
        if child.name == "when":
            triggers, disabled = _when(child, path, triggers)
        elif child.name == "input":
            approval = "`input` approval before the stage"
    for stmt in stage.walk():
        if stmt.name == "when":
            continue
        if stmt.name in SHELL_STEPS:
            token = stmt.keyword_string("script") or next(iter(stmt.strings()), None)
            if token is not None:
                commands += [Command(t, path, n) for t, n in logical_lines(token.value, token.line)]
        elif stmt.name == "input" and approval is None and stmt is not stage:
            approval = f"`input` step at line {stmt.line}"
        commands += _implicit_commands(stmt, path)
    return CiJob(
        system=SYSTEM,
        file=path,
        line=stage.line,
        name=name,
        stage=name,
        commands=tuple(commands),
        triggers=tuple(triggers),
        needs_approval=approval is not None,
        approval=approval,
        disabled=disabled,
        pipeline_file=path,
    )


def _implicit_commands(stmt: Statement, path: str) -> list[Command]:
    """Groovy steps that stand for shell commands (`docker.build`, `kubernetesDeploy`)."""
    found = []
    for token in [Token("ident", stmt.name, stmt.line), *stmt.args]:
        if token.kind == "ident" and token.value == "docker.build":
            found.append(Command("docker build .", path, token.line))
    if stmt.name == "kubernetesDeploy":
        configs = stmt.keyword_string("configs")
        if configs is not None:
            found.append(Command(f"kubectl apply -f {configs.value}", path, configs.line))
    return found


def _when(when: Statement, path: str, triggers: list[Trigger]) -> tuple[list[Trigger], bool]:
    """Narrow triggers by `when { triggeredBy ... }`, add `changeset` path filters."""
    allowed: set[str] = set()
    denied: set[str] = set()
    disabled = False
    filters: list[Trigger] = []
    for stmt in when.walk():
        if stmt.name == "triggeredBy":
            kinds = {_CAUSES[t.value] for t in stmt.args if t.value in _CAUSES}
            kinds |= {_CAUSES[s.value] for s in stmt.strings() if s.value in _CAUSES}
            negated = any(
                parent.name == "not" and any(s is stmt for s in parent.walk())
                for parent in when.walk()
            )
            (denied if negated else allowed).update(kinds)
        elif stmt.name == "changeset":
            glob = stmt.keyword_string("pattern") or next(iter(stmt.strings()), None)
            if glob is not None:
                filters.append(Trigger("path_filter", "push", path, stmt.line, glob.value))
        elif stmt.name == "expression" and stmt.block is not None:
            values = [t.value for s in stmt.block for t in [Token("ident", s.name, s.line), *s.args]]
            disabled = disabled or [v for v in values if v not in ("return", "")] == ["false"]
    kept = [
        t for t in triggers
        if (not allowed or t.kind in allowed) and t.kind not in denied
    ]  # fmt: skip
    return kept + filters, disabled
