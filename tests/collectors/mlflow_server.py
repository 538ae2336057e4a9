"""Fixtures (a pytest plugin) with real MLflow servers for the mlflow collector tests.

Test modules load it with `pytest_plugins = ["mlflow_server"]` (so one session-scoped
server is shared by every module) and import helpers from mlflow_support.

`mlflow_server` runs `mlflow server` on 127.0.0.1 (SQLite backend, artifacts in a temp
dir) once per session; `mlflow_world` populates it through MlflowClient with one set of
experiments and models per scenario (names carry the scenario prefix). Times the API
cannot set (a version's creation time) are backdated in the SQLite store. `empty_scan`
reads the server before anything is populated; `world_scan` once after. The basic-auth
server is `mlflow_auth_server`. Failure doubles: `refused_url` (nobody listens),
`silent_url` (accepts and never answers) and `error_page_url` (an HTML 502 page).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from mlflow_support import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    ErrorPage,
    RunningMlflow,
    World,
    client_credentials,
    collect,
    free_port,
    populate_lineage,
    populate_tracked,
    populate_unlinked,
    populate_weekly,
    start_mlflow,
    stop_mlflow,
)

from maturity_probe.evidence import Evidence, SourceStatus
from support import serving

# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMlflow]:
    server = start_mlflow(tmp_path_factory.mktemp("mlflow"))
    try:
        yield server
    finally:
        stop_mlflow(server.process)


@pytest.fixture(scope="session")
def empty_scan(mlflow_server: RunningMlflow) -> tuple[list[Evidence], SourceStatus]:
    """The collector's view of the server before any scenario is populated."""
    return collect(mlflow_server.url)


@pytest.fixture(scope="session")
def mlflow_world(mlflow_server: RunningMlflow,
                 empty_scan: tuple[list[Evidence], SourceStatus]) -> World:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server.url)
    world = World(url=mlflow_server.url, now=datetime.now(UTC))
    populate_tracked(client, world)
    populate_unlinked(client, world)
    populate_lineage(client, world, mlflow_server.db)
    populate_weekly(client, world, mlflow_server.db)
    return world


@pytest.fixture(scope="session")
def mlflow_auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMlflow]:
    """An MLflow server with basic auth; the admin owns one registered model."""
    root = tmp_path_factory.mktemp("mlflow-auth")
    config = root / "basic_auth.ini"
    config.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{root / 'basic_auth.db'}\n"
        f"admin_username = {ADMIN_USER}\n"
        f"admin_password = {ADMIN_PASSWORD}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    server = start_mlflow(root, app_name="basic-auth", extra_env={
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "test-only-flask-secret",
    })
    try:
        from mlflow.tracking import MlflowClient

        with client_credentials(ADMIN_USER, ADMIN_PASSWORD):
            client = MlflowClient(tracking_uri=server.url)
            client.create_registered_model("auth-scoring", description="Behind basic auth.")
            client.create_model_version("auth-scoring", "s3://acme-models/scoring/1",
                                        await_creation_for=0)
        yield server
    finally:
        stop_mlflow(server.process)


@pytest.fixture
def error_page_url() -> Iterator[str]:
    with serving(ErrorPage) as url:
        yield url


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A socket that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in accepted:
            conn.close()
        listener.close()


@pytest.fixture
def refused_url() -> str:
    """A port nobody listens on."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def world_scan(mlflow_world: World) -> tuple[list[Evidence], SourceStatus]:
    """One collection of the populated server, shared by the scenario tests."""
    return collect(mlflow_world.url, now=mlflow_world.now + timedelta(minutes=5))
