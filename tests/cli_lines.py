"""maturity-probe command lines written in files (README snippets, action.yml, the GitLab
template, Kubernetes manifests), checked against the real command line: parsing them with
the CLI's own click command fails on a renamed option, a missing value or a bad choice."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any

import typer

from maturity_probe.cli import app

_SUBSTITUTION = re.compile(r"\$\((?P<command>[^()]*)\)|\$\{(?P<braced>\w+)\}|\$(?P<plain>\w+)")
_STOP_TOKENS = {">", ">>", "2>", "2>&1", "|", "||", "&&", ";", "&"}


def parse_command_line(argv: list[str]) -> Any:
    """Parse `maturity-probe ARGV` as the CLI would, without running the command; returns
    the innermost command's context (`.params` holds the parsed values)."""
    command = typer.main.get_command(app)
    ctx = command.make_context("maturity-probe", list(argv))
    while hasattr(command, "resolve_command"):  # a group (typer vendors its own click)
        rest = [*ctx._protected_args, *ctx.args]
        name, found, rest = command.resolve_command(ctx, rest)
        assert name is not None and found is not None, argv
        command = found
        ctx = command.make_context(name, rest, parent=ctx)
    return ctx


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace `$(command)`, `${VAR}` and `$VAR` by the given values; an unknown one is a
    KeyError, so a new variable in a file makes the test say what it needs."""
    def value(match: re.Match[str]) -> str:
        key = match.group("command") or match.group("braced") or match.group("plain")
        if key not in values:
            raise KeyError(f"no test value for ${key!r} in {text!r}")
        return values[key]

    return _SUBSTITUTION.sub(value, text)


def shell_commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script, as words (redirections and what follows a
    pipe or `&&` start a new command or are dropped); `exec` and `VAR=value` prefixes go."""
    commands: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        current: list[str] = []
        skip_next = False
        for token in lexer:
            if skip_next:
                skip_next = False
                continue
            if token in _STOP_TOKENS or set(token) <= set("|&;<>"):
                if current:
                    commands.append(current)
                current = []
                skip_next = token in (">", ">>", "2>", "<")  # the redirection's target
                continue
            current.append(token)
        if current:
            commands.append(current)
    cleaned = []
    for words in commands:
        while words and (words[0] == "exec" or re.match(r"^\w+=", words[0])):
            words = words[1:]
        if words:
            cleaned.append(words)
    return cleaned


def probe_invocations(script: str, values: Mapping[str, str]) -> list[list[str]]:
    """The argument lists of every `maturity-probe` command in a shell script, after
    substituting variables and command substitutions with `values`."""
    found = []
    for words in shell_commands(script):
        if words[0].rsplit("/", 1)[-1] == "maturity-probe":
            found.append([substitute(word, values) for word in words[1:]])
    return found
