"""Shell completion: `--show-completion` prints a script for the shell it runs in, that
script completes commands, options and option values in a real bash, and
`--install-completion` installs it in the user's shell configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMAND = Path(sys.executable).with_name("maturity-probe")  # the installed entry point


def in_bash(script: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Run `script` in bash, so maturity-probe finds bash as its parent shell (`; true`
    stops bash from exec-ing the last command in its own place)."""
    env = {**os.environ, "HOME": str(home), "PATH": f"{COMMAND.parent}:{os.environ['PATH']}",
           "SHELL": "/bin/bash"}
    return subprocess.run(["bash", "-c", f"{script}\ntrue"], capture_output=True, text=True,
                          timeout=60, env=env)


@pytest.fixture
def bash_script(tmp_path: Path) -> Path:
    done = in_bash("maturity-probe --show-completion", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "complete -o default -F _maturity_probe_completion maturity-probe" in done.stdout
    script = tmp_path / "completion.bash"
    script.write_text(done.stdout)
    return script


def complete(script: Path, words: list[str], home: Path) -> list[str]:
    """What bash offers for the last word, through the printed completion function."""
    quoted = " ".join(f"'{w}'" for w in words)
    done = in_bash(f"source {script}\nCOMP_WORDS=({quoted})\nCOMP_CWORD={len(words) - 1}\n"
                   "_maturity_probe_completion maturity-probe\nprintf '%s\\n' \"${COMPREPLY[@]}\"", home)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_show_completion_prints_a_working_bash_script(bash_script: Path, tmp_path: Path) -> None:
    assert complete(bash_script, ["maturity-probe", "sc"], tmp_path) == ["scan", "schema"]
    assert "--verbose" in complete(bash_script, ["maturity-probe", "--ver"], tmp_path)
    assert complete(bash_script, ["maturity-probe", "audit", "--format", ""], tmp_path) == [
        "table", "json", "markdown", "html", "junit", "sarif", "codequality", "metrics"]


def test_install_completion_writes_the_users_bash_configuration(tmp_path: Path) -> None:
    done = in_bash("maturity-probe --install-completion", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "bash completion installed in" in done.stdout
    installed = tmp_path / ".bash_completions" / "maturity-probe.sh"
    assert "_MATURITY_PROBE_COMPLETE=complete_bash" in installed.read_text()
    assert str(installed) in (tmp_path / ".bashrc").read_text()
