"""The `maturity-probe` command line (typer). Commands only wire options to the flow."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import click
import typer
from rich.console import Console, RenderableType

from maturity_probe import __version__
from maturity_probe.assessment import Assessment
from maturity_probe.config import (
    ConfigError,
    check_config_models,
    config_key,
    config_schema,
    load_config,
    plain_message,
)
from maturity_probe.errors import UserError
from maturity_probe.gate import EXIT_USAGE, GateResult, compare, load_baseline, parse_min_levels
from maturity_probe.inference.rules import RulesError, RuleSet, load_rules
from maturity_probe.outputs import RENDERERS, html, json_out, md, table
from maturity_probe.outputs.files import write_atomic
from maturity_probe.progress import ScanProgress
from maturity_probe.progress import for_stderr as progress_for_stderr
from maturity_probe.run import audit_target, check_models, scan_config
from maturity_probe.runner import abandoned_sources
from maturity_probe.shards import check_group_id, check_joins_group, merged_group, parse_shard

if TYPE_CHECKING:
    from maturity_probe.collectors import Shard
    from maturity_probe.store import Store

app = typer.Typer(
    name="maturity-probe",
    help="Infer MLOps maturity from the tooling an organisation really runs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=True,  # --install-completion / --show-completion for the shell it runs in
)
rules_app = typer.Typer(help="Check and inspect maturity rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
config_app = typer.Typer(help="The platform config file (scan --config).", no_args_is_help=True)
app.add_typer(config_app, name="config")

stdout = Console()
stderr = Console(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"
    junit = "junit"
    sarif = "sarif"
    codequality = "codequality"
    metrics = "metrics"


class GateFormat(StrEnum):
    text = "text"
    markdown = "markdown"


class ListFormat(StrEnum):
    """history and trend."""

    table = "table"
    json = "json"


class DiffFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"maturity-probe {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colours in terminal output (also NO_COLOR=1).")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show each HTTP request of every source on "
                           "stderr (time, source, method, URL, status; secrets redacted).")
    ] = False,
) -> None:
    """Infer MLOps maturity from the tooling an organisation really runs."""
    if no_color or os.environ.get("NO_COLOR"):
        stdout.no_color = stderr.no_color = True
    if verbose:
        from maturity_probe import requestlog

        requestlog.enable(sys.stderr)


FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")]
ExplainOption = Annotated[
    bool, typer.Option("--explain", help="List the evidence behind every requirement.")
]
RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="Directory of extra or overriding rules (capabilities.yaml, "
                 "models/*.yaml, signals.yaml)."),
]
ModelOption = Annotated[
    list[str] | None,
    typer.Option("--model", "-m", metavar="MODEL", help="Only this maturity model (repeatable): microsoft, "
                 "google, five_stage, seven_stage."),
]
ExemptionsOption = Annotated[
    Path | None,
    typer.Option("--exemptions", help="YAML file of not-applicable requirements with reasons "
                 "(default: .maturity-probe.yml in the audited repository)."),
]


def _write(text: str, output: Path | None, quiet: bool = False) -> None:
    """To stdout (no --output, or `-`), else atomically to the file."""
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    write_atomic(output, text)
    if not quiet:
        stderr.print(f"wrote {output}")


def _emit(assessment: Assessment, fmt: OutputFormat, output: Path | None, explain: bool,
          quiet: bool = False) -> None:
    if fmt == OutputFormat.table and output is None:
        table.print_to(stdout, assessment, explain)
        return
    _write(RENDERERS[fmt.value](assessment, explain), output, quiet)


@app.command()
def audit(
    path: Annotated[str, typer.Argument(
        metavar="PATH_OR_URL",
        help="A local checkout, or a GitHub / GitLab repository URL (token from GITHUB_TOKEN / "
        "GITLAB_TOKEN; MATURITY_PROBE_GITHUB_API_URL and MATURITY_PROBE_GITLAB_URL point at "
        "another API root).")],
    model: ModelOption = None,
    output_format: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    rules: RulesOption = None,
    exemptions: ExemptionsOption = None,
    explain: ExplainOption = False,
) -> None:
    """Audit a repository: a level per maturity model, each explained by evidence."""
    ruleset = load_rules(rules)
    assessment = audit_target(path, ruleset, models=check_models(ruleset, model or []),
                              exemptions_file=exemptions)
    _emit(assessment, output_format, output, explain)


ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Platform config file (instead of PATH).")
]
OnlyOption = Annotated[
    list[str] | None, typer.Option("--only", metavar="SOURCE", help="Scan only this source (repeatable).")
]
SkipOption = Annotated[
    list[str] | None, typer.Option("--skip", metavar="SOURCE", help="Skip this source (repeatable).")
]
StoreOption = Annotated[
    str | None,
    typer.Option("--store", help="Store URL (default: MATURITY_PROBE_STORE, else a SQLite file "
                 "in the user's data directory)."),
]


def _assess(path: str | None, config_file: Path | None, ruleset: RuleSet, models: list[str],
            exemptions: Path | None, only: list[str] | None = None,
            skip: list[str] | None = None, shard: Shard | None = None,
            progress: ScanProgress | None = None) -> Assessment:
    """One assessment of a checkout (PATH) or of a platform (--config)."""
    if (path is None) == (config_file is None):
        raise UserError("give either a PATH to a checkout or --config FILE, not both")
    if config_file is not None:
        config = load_config(config_file)
        if not models:  # --model overrides the config's `models:`
            check_config_models(config, list(ruleset.models))
        chosen = check_models(ruleset, models or config.models)
        return scan_config(config, ruleset, models=chosen, only=only, skip=skip,
                           exemptions_file=exemptions, shard=shard, progress=progress)
    assert path is not None
    return audit_target(path, ruleset, models=check_models(ruleset, models),
                        exemptions_file=exemptions)


@app.command()
def scan(
    config: Annotated[Path, typer.Option("--config", "-c", help="Platform config file.")],
    model: ModelOption = None,
    output_format: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    rules: RulesOption = None,
    exemptions: ExemptionsOption = None,
    only: OnlyOption = None,
    skip: SkipOption = None,
    explain: ExplainOption = False,
    store: StoreOption = None,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Do not record the scan in the history store.")
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option("--shard", help="Scan only shard K of N (K/N, K from 0 to N-1, e.g. "
                     "$JOB_COMPLETION_INDEX/4): the repositories, models, namespaces and regions "
                     "it owns. Needs --scan-group; merge with report --scan-group."),
    ] = None,
    scan_group: Annotated[
        str | None,
        typer.Option("--scan-group", help="Id shared by the shards of one run (default: a new "
                     "id per scan)."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress or log lines on stderr.")
    ] = False,
) -> None:
    """Scan every source of a platform config, assess them together and store the scan."""
    part = parse_shard(shard) if shard is not None else None
    group = check_group_id(scan_group) if scan_group is not None else None
    if part is not None and group is None:
        raise UserError("--shard needs --scan-group ID, the same for every shard of one run")
    if part is not None and no_store:
        raise UserError("--shard needs the store: report --scan-group merges the stored shards")
    loaded = load_config(config)
    ruleset = load_rules(rules or loaded.rules)
    with contextlib.ExitStack() as closing:
        opened = None
        if not no_store:  # opened first: a store that cannot be used fails before the scan
            from maturity_probe.store import Store

            opened = closing.enter_context(Store.open(store))
            if part is not None and group is not None:
                check_joins_group(opened, group, config_key(loaded), part)
        progress = None if quiet else progress_for_stderr(stderr, sys.stderr, len(loaded.sources))
        try:
            assessment = _assess(None, config, ruleset, model or [], exemptions, only, skip,
                                 shard=part, progress=progress)
        finally:
            if progress is not None:
                progress.close()
        if opened is not None:
            try:
                scan_id = opened.save(assessment, config_key=config_key(loaded), group_id=group,
                                      shard=(part.index, part.count) if part else None)
            except UserError:  # the scan's outputs are not lost with the store
                _emit(assessment, output_format, output, explain, quiet)
                raise
            if not quiet:
                what = f"shard {part} of scan group {group}" if part else "scan"
                stderr.print(f"stored {what} {scan_id} in {opened.display_url}")
    _emit(assessment, output_format, output, explain, quiet)


@config_app.command("schema")
def config_schema_command() -> None:
    """Print the JSON Schema of the platform config, for editors."""
    sys.stdout.write(json.dumps(config_schema(), indent=2, sort_keys=True) + "\n")


@app.command()
def gate(
    path: Annotated[str | None, typer.Argument(metavar="PATH", help="A local checkout to assess.")] = None,
    config: ConfigOption = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Assessment JSON to compare with.")
    ] = None,
    min_level: Annotated[
        list[str] | None,
        typer.Option("--min-level", metavar="MODEL=LEVEL", help="Minimum level, MODEL=LEVEL (repeatable)."),
    ] = None,
    write_baseline: Annotated[
        Path | None, typer.Option("--write-baseline", help="Record this assessment as a baseline.")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on any lost requirement, even if no level drops.")
    ] = False,
    model: ModelOption = None,
    rules: RulesOption = None,
    exemptions: ExemptionsOption = None,
    output_format: Annotated[
        GateFormat, typer.Option("--format", "-f", help="text, or markdown for a PR comment / "
                                 "job summary.")
    ] = GateFormat.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the report to a file.")
    ] = None,
    against: Annotated[
        str | None,
        typer.Option("--against", help="Stored scan to compare with, instead of --baseline: last "
                     "(the newest stored scan of the same --config), last~N, or a scan id. The "
                     "gate itself stores nothing."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Fail (exit 1) when maturity regresses below a baseline or a minimum level."""
    if baseline is not None and against is not None:
        raise UserError("give either --baseline FILE or --against SCAN, not both")
    if baseline is None and against is None and not min_level and write_baseline is None:
        raise UserError("gate needs --baseline FILE, --against last, --min-level MODEL=LEVEL or "
                        "--write-baseline FILE")
    loaded = load_config(config) if config else None
    ruleset = load_rules(rules or (loaded.rules if loaded else None))
    minimums = parse_min_levels(min_level or [], {m.id: m.max_level for m in ruleset.models.values()})
    base = load_baseline(baseline) if baseline is not None else None
    stored_note = None
    if against is not None:
        if loaded is None:
            raise UserError("gate --against needs --config FILE: scans are stored per platform config")
        from maturity_probe.history import stored_baseline
        from maturity_probe.store import Store

        with Store.open(store) as opened:
            base, stored_note = stored_baseline(opened, against, config_key(loaded))
    assessment = _assess(path, config, ruleset, model or [], exemptions)
    if write_baseline is not None:
        _write(json_out.render(assessment), write_baseline)
    result = compare(assessment, base, minimums, ruleset, strict=strict)
    if stored_note:
        result.notes.insert(0, stored_note)
    report = _gate_report(assessment, base, result, output_format)
    sys.stdout.write(report)
    if output is not None:
        _write(report, output)
    raise typer.Exit(result.exit_code)


def _gate_report(assessment: Assessment, base: Assessment | None, result: GateResult,
                 fmt: GateFormat) -> str:
    """The gate's verdict: one line per model, then one line per lost requirement."""
    failures, notes = result.failures, result.notes
    rows = []
    for model in assessment.maturity.values():
        was = base.maturity.get(model.model) if base else None
        qualifier = "at least " if model.at_least else ""  # as audit says it (labels.level_text)
        before = f" (baseline {was.level})" if was else ""
        rows.append(f"{model.model}: {qualifier}level {model.level}{before} — {model.level_name}")
    verdict = result.verdict
    if fmt == GateFormat.markdown:
        # paths, names and reasons from the audited repository: escaped (outputs/md.py)
        lines = [f"## maturity gate {verdict}", ""] + [f"- {md.text(r)}" for r in rows]
        if failures:
            lines += ["", "### Why it failed", ""] + [f"- ✘ {md.text(f)}" for f in failures]
        if notes:
            lines += ["", "### Notes", ""] + [f"- {md.text(n)}" for n in notes]
        return "\n".join(lines) + "\n"
    lines = [*rows, *(f"✘ {f}" for f in failures), *(f"• {n}" for n in notes),
             f"maturity gate {verdict}"]
    return "\n".join(lines) + "\n"


@app.command()
def schema() -> None:
    """Print the JSON Schema of the assessment that `audit`, `scan` and `report` write with
    `--format json`."""
    sys.stdout.write(json_out.schema())


MAX_TREND_POINTS = 200


def _read_assessment(path: Path) -> Assessment:
    """An assessment JSON written by `--format json` (`-` reads stdin)."""
    from maturity_probe import yamlio
    from maturity_probe.gate import parse_assessment

    if str(path) == "-":
        return parse_assessment(yamlio.decode_text(sys.stdin.buffer.read(), "stdin"), "stdin")
    return parse_assessment(yamlio.read_text(path), str(path))  # UserError on any problem


@app.command()
def metrics(
    store: StoreOption = None,
    input_file: Annotated[
        Path | None, typer.Option("--input", "-i", help="Assessment JSON instead of the store.")
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to replace atomically (for node_exporter's "
                           "textfile collector, name it *.prom), or - for stdout.")
    ] = Path("-"),
) -> None:
    """Prometheus text exposition of the latest stored scan (or of --input)."""
    if store is not None and input_file is not None:
        raise UserError("give either --store URL or --input FILE, not both")
    from maturity_probe.outputs import metrics as exposition

    if input_file is not None:
        assessment = _read_assessment(input_file)
    else:
        from maturity_probe.store import Store

        with Store.open(store) as opened:
            assessment = opened.latest()
    _write(exposition.render(assessment), output)


@app.command()
def serve(
    store: StoreOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")] = 9464,
) -> None:
    """Serve /metrics (the store's latest scan, for Prometheus) and /healthz."""
    from maturity_probe.outputs.metrics_server import serve as serve_metrics
    from maturity_probe.store import Store

    with Store.open(store) as opened:
        serve_metrics(opened, host, port)


def _history(opened: Store, scan_id: str) -> list[html.TrendPoint]:
    """Platform levels of the stored scans of the same config, up to this one, oldest first."""
    found = [r for r in opened.scans(group_id=scan_id) if r.id == scan_id]
    this = found[0] if found else next(r for r in opened.scans() if r.id == scan_id)
    records = [r for r in opened.scans(config_key=this.config_key)
               if r.shard_index is None and r.generated_at <= this.generated_at]
    records = sorted(records, key=lambda r: (r.generated_at, r.id))[-MAX_TREND_POINTS:]
    return [html.TrendPoint(r.generated_at, r.levels.get("platform", {}), r.id) for r in records]


@app.command()
def report(
    scan: Annotated[
        str, typer.Option("--scan", help="Stored scan: an id, a unique id prefix, last or last~N.")
    ] = "last",
    output_format: FormatOption = OutputFormat.html,
    output: OutputOption = None,
    store: StoreOption = None,
    explain: ExplainOption = False,
    scan_group: Annotated[
        str | None,
        typer.Option("--scan-group", help="Merge the stored shards of this scan group (scan "
                     "--shard K/N --scan-group ID) into one assessment, stored once as the "
                     "group's scan."),
    ] = None,
    rules: RulesOption = None,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="With --scan-group: do not store the merged scan.")
    ] = False,
) -> None:
    """Render a stored scan; the HTML report shows the trend of earlier scans of its config."""
    from maturity_probe.store import Store

    if scan_group is not None and scan != "last":
        raise UserError("give either --scan SCAN or --scan-group ID, not both")
    with Store.open(store) as opened:
        if scan_group is not None:
            assessment, merged_id, stored = merged_group(opened, check_group_id(scan_group),
                                                         load_rules(rules), save=not no_store)
            if stored:
                stderr.print(f"stored the merged scan {merged_id} of scan group {scan_group} "
                             f"in {opened.display_url}")
            history = (_history(opened, merged_id)
                       if merged_id and output_format == OutputFormat.html else [])
        else:
            scan_id = opened.resolve(scan)
            assessment = opened.assessment(scan_id)
            history = _history(opened, scan_id) if output_format == OutputFormat.html else []
    if output_format == OutputFormat.html:
        _write(html.render(assessment, explain, history=history if len(history) > 1 else ()),
               output)
        return
    _emit(assessment, output_format, output, explain)


# -- the history store: history, show, diff, trend ------------------------------------------

PlatformOption = Annotated[
    str | None,
    typer.Option("--platform", help="Only scans of this platform: its config's `name:` (else the "
                 "config file's absolute path). Instead of --config."),
]
ScanConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Only scans of this platform config file.")
]


def _platform_key(config: Path | None, platform: str | None) -> str | None:
    """The config key of --config FILE or --platform NAME (None: every platform)."""
    if config is not None and platform is not None:
        raise UserError("give either --config FILE or --platform NAME, not both")
    return config_key(load_config(config)) if config is not None else platform


def _no_scans(key: str | None) -> UserError:
    where = f" of {key}" if key else ""
    return UserError(f"no stored scans{where}: run `maturity-probe scan --config FILE` first")


def _print_tables(tables: list[RenderableType]) -> None:
    """Tables on the terminal; piped, as wide plain text (rich would squeeze them to 80)."""
    console = stdout if stdout.is_terminal else Console(width=200, no_color=True,
                                                        highlight=False)
    for item in tables:
        console.print(item)


@app.command()
def history(
    config: ScanConfigOption = None,
    platform: PlatformOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many scans.")] = 20,
    output_format: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table, or json (see above).")
    ] = ListFormat.table,
    store: StoreOption = None,
) -> None:
    """Stored scans, newest first: id, time, platform, shard, each model's platform level
    (≥N: at least N, as a failed source could have shown more), number of ML systems and
    how the sources went.

    --format json: {"scans": [{"id", "generated_at" (UTC, ISO 8601), "config_key", "target",
    "group_id", "shard": null | {"index" (0-based), "count"}, "levels": {MODEL: {"level",
    "at_least"}}, "systems": {SYSTEM: {MODEL: {"level", "at_least"}}}, "sources": [{"name",
    "type", "status" (ok | partial | failed), "reason"}]}]}
    """
    from maturity_probe import history as hist
    from maturity_probe.outputs.history_views import history_table
    from maturity_probe.store import Store

    key = _platform_key(config, platform)
    with Store.open(store) as opened:
        records = opened.scans(config_key=key, limit=limit)
    if output_format == ListFormat.json:  # no scans yet is an empty history, not an error
        sys.stdout.write(json.dumps(hist.history_json(records), indent=2) + "\n")
        return
    if not records:
        sys.stderr.write(f"{_no_scans(key)}\n")
        return
    _print_tables([history_table(records)])


@app.command()
def show(
    scan: Annotated[str, typer.Argument(
        help="Stored scan: an id, a unique id prefix, last or last~N.")] = "last",
    config: ScanConfigOption = None,
    platform: PlatformOption = None,
    output_format: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    explain: ExplainOption = False,
    store: StoreOption = None,
) -> None:
    """Show a stored scan like `audit` shows a fresh one (last: the newest whole scan, of
    --config / --platform when given; shards are named by their id)."""
    from maturity_probe.store import Store

    key = _platform_key(config, platform)
    with Store.open(store) as opened:
        assessment = opened.assessment(opened.resolve(scan, config_key=key, whole=True))
    _emit(assessment, output_format, output, explain)


@app.command()
def diff(
    before: Annotated[str | None, typer.Argument(
        metavar="A", help="The earlier scan (id, prefix, last~N; default: the stored scan of "
        "the same platform just before B).")] = None,
    after: Annotated[str | None, typer.Argument(
        metavar="B", help="The later scan (default: last).")] = None,
    config: ScanConfigOption = None,
    platform: PlatformOption = None,
    output_format: Annotated[
        DiffFormat, typer.Option("--format", "-f", help="text, markdown (PR comment, job summary) "
                                 "or json (see above).")
    ] = DiffFormat.text,
    output: OutputOption = None,
    store: StoreOption = None,
) -> None:
    """What changed between two stored scans, for the platform and per ML system: levels
    moved, requirements met or lost, evidence that appeared or disappeared. Evidence is
    matched by id, else by source, signal, subject and file (a moved line is no change).

    --format json: {"from": SCAN, "to": SCAN, "levels": [{"scope" ("platform" |
    "system:NAME"), "system" (NAME | null), "model", "from": LEVEL | null, "to": LEVEL |
    null}], "requirements": [{"scope", "system", "model", "requirement", "title", "level",
    "from": STATUS | null, "to": STATUS | null, "change" (met | lost | changed)}],
    "evidence": {"appeared": [EVIDENCE], "disappeared": [EVIDENCE], "changed": [{"from":
    EVIDENCE, "to": EVIDENCE}]}, "evidence_by_system": [{"system" (NAME | null: no system),
    "appeared": [ID], "disappeared": [ID], "changed": [ID]}]} where SCAN is {"id",
    "generated_at", "config_key"}, LEVEL {"level", "at_least"}, STATUS met | unmet | unknown |
    not_assessable | not_applicable (null: not assessed), EVIDENCE {"id", "signal", "subject",
    "source", "locator", "strength", "summary", "systems": [NAME]} (a disappeared item's
    systems are those of the earlier scan). Exit code 0 whatever changed.
    """
    from maturity_probe import history as hist
    from maturity_probe.outputs.history_views import diff_markdown, diff_text
    from maturity_probe.store import Store

    key = _platform_key(config, platform)
    with Store.open(store) as opened:
        later = opened.record(opened.resolve(after or "last", config_key=key, whole=True))
        if before is None:
            same = opened.scans(config_key=later.config_key, whole=True)
            earlier_ids = [r.id for r in same if r.generated_at < later.generated_at
                           or (r.generated_at == later.generated_at and r.id < later.id)]
            if not earlier_ids:
                raise UserError(f"no stored scan of {later.config_key} before {later.id} to "
                                "compare with: give two scans, diff A B")
            earlier = opened.record(earlier_ids[0])
        else:
            earlier = opened.record(opened.resolve(before, config_key=key or later.config_key,
                                                   whole=True))
        result = hist.diff_scans(earlier, opened.assessment(earlier.id),
                                 later, opened.assessment(later.id))
    if output_format == DiffFormat.json:
        _write(json.dumps(result.to_json(), indent=2) + "\n", output)
    else:
        _write((diff_markdown if output_format == DiffFormat.markdown else diff_text)(result), output)


@app.command()
def trend(
    config: ScanConfigOption = None,
    platform: PlatformOption = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only this maturity model.")] = None,
    system: Annotated[str | None, typer.Option("--system", help="Only this ML system.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="The newest N scans.")] = 30,
    output_format: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table, or json (see above).")
    ] = ListFormat.table,
    store: StoreOption = None,
) -> None:
    """Levels over time, per model, for the platform and each ML system (whole scans of one
    platform: --config / --platform, else the platform of the newest scan).

    --format json: {"config_key", "series": [{"scope" ("platform" | "system:NAME"), "system"
    (NAME | null), "model", "points": [{"scan_id", "generated_at", "level", "at_least"}]
    (oldest first)}]}
    """
    from maturity_probe import history as hist
    from maturity_probe.outputs.history_views import trend_tables
    from maturity_probe.store import Store

    key = _platform_key(config, platform)
    with Store.open(store) as opened:
        if key is None:
            newest = opened.scans(limit=1, whole=True)
            if not newest:
                raise _no_scans(None)
            key = newest[0].config_key
        records = opened.scans(config_key=key, limit=limit, whole=True)
    if not records:
        raise _no_scans(key)
    series = hist.trend_series(records, model=model, system=system)
    if output_format == ListFormat.json:
        sys.stdout.write(json.dumps(hist.trend_json(key, series), indent=2) + "\n")
        return
    _print_tables(list(trend_tables(key, series)))


@rules_app.command("check")
def rules_check(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Rules directory to validate.")],
) -> None:
    """Validate a rules directory: unknown signals or capabilities, bad predicates, cycles."""
    ruleset: RuleSet = load_rules(directory)
    typer.echo(
        f"{directory}: ok — {len(ruleset.models)} models, {len(ruleset.capabilities)} "
        f"capabilities, {len(ruleset.signals)} signals"
    )


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2."""
    try:
        _run()
    except SystemExit as exc:
        if abandoned_sources():
            # A timed-out source's threads may wait on the network for a long time, and
            # Python would join them before exiting: leave without them.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(exc.code if isinstance(exc.code, int) else 1)
        raise


def _run() -> None:
    try:
        code = app(standalone_mode=False)
    except (click.exceptions.Exit, typer.Exit) as exc:
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, typer.Abort):
        sys.exit(130)
    except (click.ClickException, typer.TyperException) as exc:
        # typer raises its own copy of click's exceptions (it vendors click since 0.2x):
        # an unknown option or a bad value is a usage error too, never a traceback
        message = getattr(exc, "message", None)
        if isinstance(message, str):  # typer checks choices with pydantic: `Value error, ...`
            exc.message = plain_message(message)  # type: ignore[misc]  # Final in click's stubs
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            sys.stderr.write(f"error: {exc}\n")
        sys.exit(EXIT_USAGE)
    except UserError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(EXIT_USAGE)
    except (RulesError, ConfigError) as exc:
        sys.stderr.writelines(f"error: {problem}\n" for problem in exc.problems)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
