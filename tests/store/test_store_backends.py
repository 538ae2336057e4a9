"""The store on SQLite and on a real PostgreSQL: what a scan writes, that it writes all of
it or nothing, how scans are named, and the one-line errors of every store command."""

from __future__ import annotations

import json
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pg_server import RunningPostgres, free_port, postgres, store_url  # noqa: F401  (fixtures)
from sqlalchemy import event, func, select, text
from store_support import run_cli

from maturity_probe.assessment import Assessment
from maturity_probe.errors import UserError
from maturity_probe.evidence import SourceState, Strength
from maturity_probe.history import trend_series
from maturity_probe.inference.correlate import System
from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules
from maturity_probe.store import Store, compressed_json, json_parts, schema, scope_levels, system_scope
from support import NOW, ev, source

RULES = load_rules()
TABLES = (schema.scans, schema.sources, schema.evidence, schema.levels)


def platform_assessment(hours_later: int = 0, *, with_deploy: bool = True) -> Assessment:
    """A churn repository trained and deployed from CI, and an MLflow registry that failed."""
    evidence = [
        ev("ci.pipeline", locator=".github/workflows/train.yml:1", subject="github:acme/churn"),
        ev("ci.test_job", locator=".github/workflows/ci.yml:8", subject="github:acme/churn"),
        ev("ci.training_job", locator=".github/workflows/train.yml:12", subject="github:acme/churn",
           strength=Strength.verified),
        ev("vcs.training_code_versioned", locator="src/train.py", subject="github:acme/churn"),
        ev("code.ml_training", locator="src/train.py:9", subject="github:acme/churn"),
    ]
    if with_deploy:
        evidence.append(ev("ci.model_deployment_job", locator=".github/workflows/deploy.yml:20",
                           subject="github:acme/churn"))
    statuses = [source(), source("registry", "mlflow", SourceState.failed,
                                 "cannot connect to http://127.0.0.1:1")]
    return assess(RULES, evidence, statuses, now=NOW + timedelta(hours=hours_later),
                  target="platform.yaml",
                  systems=[System("churn", ("github:acme/churn",), declared=True)])


def row_counts(store: Store) -> dict[str, int]:
    with store.connection() as connection:
        return {table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in TABLES}


def test_a_scan_is_stored_whole_with_platform_and_system_levels(store_url: str) -> None:  # noqa: F811
    assessment = platform_assessment()
    with Store.open(store_url) as store:
        scan_id = store.save(assessment, config_key="acme")
        assert scan_id.startswith("20260601T120000Z-")
        assert store.assessment(scan_id) == assessment  # the JSON, byte for byte
        assert row_counts(store) == {"scans": 1, "sources": 2, "evidence": len(assessment.evidence),
                                     "levels": 2 * len(assessment.maturity)}
        record = store.record(scan_id)
    assert record.levels == scope_levels(assessment)
    assert set(record.levels) == {"platform", "system:churn"}
    assert record.levels["platform"]["microsoft"] == (
        assessment.maturity["microsoft"].level, assessment.maturity["microsoft"].at_least)
    assert record.levels["system:churn"]["microsoft"] == (
        assessment.systems["churn"].maturity["microsoft"].level,
        assessment.systems["churn"].maturity["microsoft"].at_least)
    assert [(s.name, s.status, s.reason) for s in record.sources] == [
        ("registry", "failed", "cannot connect to http://127.0.0.1:1"), ("repo", "ok", "")]
    assert record.generated_at == NOW and record.config_key == "acme" and not record.is_shard


def test_a_system_name_longer_than_the_scope_column_still_saves(store_url: str) -> None:  # noqa: F811
    long_name = "churn-" + "x" * 400
    assessment = platform_assessment()
    assessment = assessment.model_copy(update={"systems": {long_name: assessment.systems["churn"]}})
    with Store.open(store_url) as store:
        record = store.record(store.save(assessment, config_key="acme"))
    scope = next(s for s in record.levels if s != "platform")
    assert len(scope) == 300 and scope.startswith("system:churn-xxx") and scope == system_scope(long_name)
    assert trend_series([record], system=long_name)[0].scope == scope


def test_an_interrupted_save_leaves_nothing_half_written(store_url: str) -> None:  # noqa: F811
    with Store.open(store_url) as store:
        store.save(platform_assessment(), config_key="acme")
        before = row_counts(store)

        def interrupt(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO LEVELS"):
                raise RuntimeError("the scan was interrupted")

        # the last write of a scan fails: its scan, sources and evidence rows go too
        event.listen(store.engine, "before_cursor_execute", interrupt)
        with pytest.raises(RuntimeError, match="interrupted"):
            store.save(platform_assessment(24), config_key="acme")
        event.remove(store.engine, "before_cursor_execute", interrupt)
        assert row_counts(store) == before

        # the database refuses a row half way (two evidence items with one id)
        broken = platform_assessment(48)
        broken = broken.model_copy(update={"evidence": [*broken.evidence, broken.evidence[0]]})
        with pytest.raises(UserError, match="could not save the scan"):
            store.save(broken, config_key="acme")
        assert row_counts(store) == before
        assert len(store.scans()) == 1


def test_scans_are_named_by_id_prefix_last_and_last_n(store_url: str) -> None:  # noqa: F811
    with Store.open(store_url) as store:
        first = store.save(platform_assessment(0), config_key="acme")
        second = store.save(platform_assessment(24), config_key="acme")
        other = store.save(platform_assessment(48), config_key="fraud")
        shard = store.save(platform_assessment(72), config_key="acme", group_id="group-1",
                           shard=(0, 2))
        twin = store.save(platform_assessment(0), config_key="acme")  # same second as `first`

        assert [r.id for r in store.scans()] == [shard, other, second, *sorted([first, twin],
                                                                              reverse=True)]
        assert store.resolve("last") == other  # the newest whole scan
        assert store.resolve("last", whole=False) == shard
        assert store.latest() == store.assessment(other)
        assert store.resolve("last", config_key="acme", whole=True) == second
        assert store.resolve("last~1", config_key="acme", whole=True) in (first, twin)
        assert store.resolve(second) == second
        assert store.resolve(second[:18]) == second
        assert store.record(shard).is_shard and store.record(shard).group_id == "group-1"
        assert [r.id for r in store.scans(group_id="group-1")] == [shard]

        with pytest.raises(UserError, match=r"^scan id '20260601T120000Z-' is ambiguous"):
            store.resolve("20260601T120000Z-")
        with pytest.raises(UserError, match=r"^no stored scan '2025'$"):
            store.resolve("2025")
        with pytest.raises(UserError, match=r"^no stored scan of acme for 'last~9' \(3 stored\)$"):
            store.resolve("last~9", config_key="acme", whole=True)
        with pytest.raises(UserError, match=r"^scan 'last~one': expected last or last~N"):
            store.resolve("last~one")
        with pytest.raises(UserError, match="no stored scan '%'"):
            store.resolve("%")  # a LIKE wildcard is a plain character


def test_opening_again_keeps_the_schema_and_the_scans(store_url: str) -> None:  # noqa: F811
    with Store.open(store_url) as store:
        scan_id = store.save(platform_assessment(), config_key="acme")
    with Store.open(store_url) as store, store.connection() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
            "0002"]
        assert [r.id for r in store.scans()] == [scan_id]


def test_assessments_are_stored_compressed_and_older_scans_still_read(store_url: str) -> None:  # noqa: F811
    older = platform_assessment()
    store = Store(store_url)
    try:  # a store of the first schema, with a scan written as it wrote them: JSON text
        store.migrate("0001")
        with store._writing() as connection:
            connection.execute(schema.scans.insert().values(
                id="20260601T120000Z-0ld5ca75", group_id="20260601T120000Z-0ld5ca75",
                config_key="acme", target=older.target, generated_at=older.generated_at,
                tool_version=older.tool.version, schema_version=older.schema_version,
                assessment=older.model_dump_json()))
    finally:
        store.engine.dispose()
    later = platform_assessment(hours_later=1)
    with Store.open(store_url) as store:  # upgraded on opening
        assert store.assessment("20260601T120000Z-0ld5ca75") == older
        scan_id = store.save(later, config_key="acme")
        assert store.assessment(scan_id) == later
        assert [r.id for r in store.scans()] == [scan_id, "20260601T120000Z-0ld5ca75"]
        with store.connection() as connection:
            row = connection.execute(select(schema.scans.c.assessment, schema.scans.c.assessment_zlib)
                                     .where(schema.scans.c.id == scan_id)).one()
        document = later.model_dump_json().encode()
        assert row.assessment == "" and zlib.decompress(row.assessment_zlib) == document
        assert len(row.assessment_zlib) < len(document) / 3
        with store._writing() as connection:  # a damaged row is one line, not a traceback
            connection.execute(schema.scans.update().where(schema.scans.c.id == scan_id)
                               .values(assessment_zlib=b"not zlib"))
        with pytest.raises(UserError, match=f"stored assessment of scan {scan_id} is damaged"):
            store.assessment(scan_id)


def test_the_stored_json_is_made_piecewise_and_is_exactly_model_dump_json() -> None:
    evidence = [ev("ci.training_job", locator=f"train-{n}.yml:1", subject=subject,
                   note='quotes " and \\ backslashes, ünïcode ✓, a\ttab')
                for n, subject in enumerate(["github:acme/churn", "github:acme/fraud ✓", 'repo:"odd"'])]
    systems = [System(name, (subject,), declared=True) for name, subject in
               [("churn", "github:acme/churn"), ("fraud ✓", "github:acme/fraud ✓"), ('"odd"', 'repo:"odd"')]]
    full = assess(RULES, evidence, [source()], now=NOW, target="platform.yaml", systems=systems)
    empty = assess(RULES, [], [], now=NOW, target="empty")
    assert len(full.systems) == 3 and not empty.systems and not empty.evidence
    for assessment in (full, empty):
        document = assessment.model_dump_json().encode()
        assert b"".join(json_parts(assessment)) == document
        assert zlib.decompress(compressed_json(assessment)) == document


def test_a_downgrade_puts_compressed_assessments_back_as_text(store_url: str) -> None:  # noqa: F811
    from alembic import command
    from alembic.config import Config

    assessment = platform_assessment()
    with Store.open(store_url) as store:
        scan_id = store.save(assessment, config_key="acme")
        config = Config()
        config.set_main_option("script_location", "maturity_probe.store:migrations")
        with store._writing() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
        with store.connection() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0001"
            row = connection.execute(text("SELECT * FROM scans")).mappings().one()
        assert "assessment_zlib" not in row and row["assessment"] == assessment.model_dump_json()
    with Store.open(store_url) as store:  # and up again: read from the text
        assert store.assessment(scan_id) == assessment


# -- one-line errors of the commands --------------------------------------------------------


def error_of(*args: str) -> str:
    done = run_cli(*args)
    assert done.code == 2, (done.stdout, done.stderr)
    assert done.stdout == "" and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    return done.stderr


def test_an_unreachable_or_refusing_postgresql_is_one_line_without_the_password(
        postgres: RunningPostgres) -> None:  # noqa: F811
    closed = free_port()
    message = error_of("history", "--store", f"postgresql://probe:pg-pass-canary@127.0.0.1:{closed}/ml")
    assert message.startswith(f"error: store postgresql://***@127.0.0.1:{closed}/ml: connection "
                              f"failed: connection to server at \"127.0.0.1\", port {closed} failed")
    assert "pg-pass-canary" not in message
    missing = postgres.url("no_such_database", password="pg-pass-canary")
    message = error_of("show", "last", "--store", missing)
    assert 'database "no_such_database" does not exist' in message
    assert "pg-pass-canary" not in message and "***@127.0.0.1" in message
    message = error_of("trend", "--store", f"postgresql://probe:pg-pass-canary@127.0.0.1:{closed}"
                                           "/ml?password=pg-pass-canary")
    assert "pg-pass-canary" not in message


def test_a_bad_store_url_is_one_line() -> None:
    assert error_of("history", "--store", "not a url").startswith(
        "error: store not a url: not a usable store URL (Could not parse SQLAlchemy URL")
    assert error_of("history", "--store", "mongodb://h/db").startswith(
        "error: store mongodb://h/db: not a usable store URL (Can't load plugin")
    assert "use sqlite:///PATH or postgresql://" in error_of("diff", "--store", "oracle://u:secret@h/db")


def test_an_empty_store_and_unknown_scans_are_one_line(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'empty.db'}"
    first_scan = "run `maturity-probe scan --config FILE` first"
    # no scans yet is an empty history (scripts read `{"scans": []}`), said on stderr
    empty = run_cli("history", "--store", store, "--format", "json")
    assert (empty.code, json.loads(empty.stdout), empty.stderr) == (0, {"scans": []}, "")
    said = run_cli("history", "--store", store)
    assert (said.code, said.stdout, said.stderr) == (0, "", f"no stored scans: {first_scan}\n")
    assert error_of("trend", "--store", store) == f"error: no stored scans: {first_scan}\n"
    assert error_of("trend", "--platform", "acme", "--store", store) == (
        f"error: no stored scans of acme: {first_scan}\n")
    assert error_of("show", "--store", store) == "error: no stored scan for 'last' (the store is empty)\n"
    assert error_of("diff", "--store", store) == "error: no stored scan for 'last' (the store is empty)\n"
    with Store.open(store) as opened:
        only = opened.save(platform_assessment(), config_key="acme")
    assert error_of("show", "--platform", "other", "--store", store) == (
        "error: no stored scan of other for 'last' (platforms stored: acme)\n")
    assert error_of("show", "last~1", "--store", store) == (
        "error: no stored scan for 'last~1' (1 stored)\n")
    assert error_of("show", "last~", "--store", store) == (
        "error: scan 'last~': expected last or last~N, e.g. last~1\n")
    assert error_of("show", "", "--store", store) == (
        "error: no scan given: name one by its id (or a prefix), last or last~N\n")
    assert error_of("diff", "--store", store) == (
        f"error: no stored scan of acme before {only} to compare with: give two scans, diff A B\n")
    assert error_of("show", "nope", "--store", store) == "error: no stored scan 'nope'\n"
    assert error_of("diff", "nope", only, "--store", store) == "error: no stored scan 'nope'\n"
    assert error_of("history", "--config", str(tmp_path / "absent.yaml"), "--store", store) == (
        f"error: {tmp_path / 'absent.yaml'}: no such file\n")
    assert error_of("history", "--config", "x.yaml", "--platform", "acme", "--store", store) == (
        "error: give either --config FILE or --platform NAME, not both\n")
    assert error_of("gate", "--against", "last", "--store", store) == (
        "error: gate --against needs --config FILE: scans are stored per platform config\n")
