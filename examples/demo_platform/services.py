"""The demo's local services: a real `mlflow server`, a real Prometheus and the model-metrics
exporter, each on a free port of 127.0.0.1, in its own process group, with its log in the
demo's directory. `Services.stop_all()` ends every process the demo started (and their
children), and is safe to call twice."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

MARKER_ENV = "MATURITY_PROBE_DEMO"  # set on every started process: tests look for leftovers by it
MLFLOW_TIMEOUT = 120.0  # /health answers after ~8 s on 2 cores; a cold first start takes longer
PROMETHEUS_TIMEOUT = 30.0


class DemoError(Exception):
    """The demo cannot go on; the message says why, in one line."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def find_executable(name: str, hint: str) -> str:
    """`name` next to this interpreter (the virtualenv), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise DemoError(f"`{name}` is not installed ({hint}); scripts/setup.sh --demo installs it")
    return found


class Services:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: list[str],
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = self.root / f"{name}.log"
        with log.open("wb") as stream:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=stream, stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {}), MARKER_ENV: str(self.root)},
                start_new_session=True,  # its own process group: Ctrl-C reaches the demo, which stops it
            )
        self.started.append((name, process))
        return process

    def wait_until(self, name: str, ready: Callable[[], bool], timeout: float) -> None:
        process = dict(self.started)[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = (self.root / f"{name}.log").read_text(errors="replace").strip()[-1500:]
                raise DemoError(f"{name} exited with status {process.returncode}:\n{tail}")
            if ready():
                return
            time.sleep(0.3)
        raise DemoError(f"{name} was not ready within {timeout:.0f} s (log: {self.root / name}.log)")

    def stop_all(self) -> None:
        """SIGTERM to each process group, newest first; SIGKILL what is left after 15 s.
        A second Ctrl-C (or a SIGTERM) while it runs does not cut it short."""
        with _signals_ignored():
            while self.started:
                self._stop(self.started[-1][1])
                self.started.pop()
            # a signal that landed between a child's start and its registration leaves it
            # unlisted: find such strays by the marker in their environment
            for pgid in _marked_groups(self.root):
                _stop_group(pgid)

    def _stop(self, process: subprocess.Popen[bytes]) -> None:
        _stop_group(process.pid, process)

    # -- the three services ---------------------------------------------------------------
    def start_mlflow(self) -> str:
        root = self.root / "mlflow"
        (root / "tmp").mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.start("mlflow", [
            find_executable("mlflow", "pip install 'maturity-probe[demo]'"), "server",
            "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
            "--default-artifact-root", str(root / "artifacts"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ], env={
            # MLflow 3 otherwise starts a job runner whose consumers eat the CPU and outlive SIGTERM
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            "TMPDIR": str(root / "tmp"),
        })
        return f"http://127.0.0.1:{port}"

    def start_exporter(self) -> str:
        port = free_port()
        self.start("exporter", [sys.executable, str(Path(__file__).with_name("exporter.py")),
                                "--port", str(port)])
        return f"127.0.0.1:{port}"

    def start_prometheus(self, rule_files: list[Path], target: str) -> str:
        root = self.root / "prometheus"
        root.mkdir(parents=True, exist_ok=True)
        config = root / "prometheus.yml"
        config.write_text("\n".join([
            "global:",
            "  scrape_interval: 1s        # production: 15s-1m; the demo has a minute",
            "  evaluation_interval: 1s",
            "rule_files:",
            *(f"  - {path}" for path in rule_files),
            "scrape_configs:",
            "  - job_name: model-serving",
            "    static_configs:",
            f"      - targets: ['{target}']",
            "",
        ]))
        port = free_port()
        self.start("prometheus", [
            find_executable("prometheus", "apt-get install prometheus"),
            f"--config.file={config}", f"--storage.tsdb.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        ])
        return f"http://127.0.0.1:{port}"


def _stop_group(pgid: int, leader: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM to a process group, SIGKILL what is left after 15 s; reap our own child."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    if leader is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            leader.wait(timeout=15)
    deadline = time.monotonic() + 15  # workers may outlive their parent for a moment
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    if leader is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            leader.wait(timeout=5)


def _marked_groups(root: Path) -> set[int]:
    """Process groups of live processes carrying this demo's marker in their environment."""
    wanted = f"{MARKER_ENV}={root}".encode()
    groups = set()
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if wanted in (proc / "environ").read_bytes().split(b"\0"):
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                if fields[0] != "Z":
                    groups.add(int(fields[2]))
    return groups


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs (zombies, waiting for a parent that may never
    reap them in a container, do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (command)"
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False
