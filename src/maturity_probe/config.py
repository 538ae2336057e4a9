"""The platform config (`scan --config platform.yaml`), validated with line numbers.

    sources:
      - type: mlflow
        name: prod-mlflow
        tracking_uri: http://127.0.0.1:5000
        token_env: MLFLOW_TRACKING_TOKEN

Each source entry is validated by its collector's own pydantic model. Credentials are
never in the file: entries name environment variables (`*_env`) or files (`*_file`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from maturity_probe import yamlio
from maturity_probe.collectors import SourceConfig, collector_types, resolve_path


class ConfigError(Exception):
    """An invalid config file; `problems` are `file:line: message` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# Strict like the sources' fields (collectors.SourceConfig): `true` is not the number 1.
_STRICT = ConfigDict(extra="forbid", strict=True)


class SystemSpec(BaseModel):
    """An ML system declared by hand: the subjects that belong together."""

    model_config = _STRICT

    repos: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)
    endpoints: list[str] = Field(default_factory=list)
    match_labels: dict[str, str] = Field(default_factory=dict)


class Concurrency(BaseModel):
    """How many sources a scan reads at once."""

    model_config = _STRICT

    total: int = Field(default=8, ge=1, le=64, description="Sources read at the same time, at most.")
    per_type: dict[str, int] = Field(
        default_factory=dict,
        description="At most this many sources of one type at once, e.g. {github: 2}.",
    )

    @field_validator("per_type")
    @classmethod
    def _known_types(cls, value: dict[str, int]) -> dict[str, int]:
        kinds = collector_types()
        for kind, limit in value.items():
            if kind not in kinds:
                raise ValueError(f"unknown source type {kind!r} (known: {', '.join(sorted(kinds))})")
            if limit < 1:
                raise ValueError(f"{kind}: the limit must be at least 1")
        return value


class PlatformSettings(BaseModel):
    """Everything in the file besides `sources`."""

    model_config = _STRICT

    name: str | None = Field(None, description="The platform's name: the key its scans are "
                             "stored under (default: the config file's absolute path).")
    systems: dict[str, SystemSpec] = Field(default_factory=dict)
    models: list[str] = Field(default_factory=list, description="Maturity models to assess.")
    # strict=False: a path is text in YAML
    rules: Path | None = Field(None, strict=False, description="Extra rules directory (like --rules).")
    exemptions: Path | None = Field(None, strict=False,
                                    description="Exemptions file (like --exemptions).")
    concurrency: Concurrency = Field(default_factory=Concurrency)


class PlatformConfig(PlatformSettings):
    """The whole file. `sources` holds each collector's own validated config."""

    sources: list[SourceConfig]
    file: Path
    _model_lines: list[int] = PrivateAttr(default_factory=list)  # of `models:` items


def _has_child(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _problems(exc: ValidationError, file: Path, root: Any, prefix: tuple[Any, ...] = (),
              label: str = "") -> list[str]:
    """Pydantic errors as `file:line: field: message`, the line found by walking the YAML."""
    lines = []
    for error in exc.errors():
        loc = (*prefix, *error["loc"])
        node: Any = root
        line = yamlio.line_of(root)
        for part in loc:
            if not _has_child(node, part):
                break
            line = yamlio.line_of(node, part) or line
            node = node[part]
        field = label + ".".join(str(p) for p in loc)
        message = plain_message(error["msg"])
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "missing":
            message = "required field missing"
        elif error["type"] in _SCALAR_TYPE_ERRORS:
            message += f" (got {_as_yaml(error['input'])})"
        lines.append(f"{file}:{line}: {field}: {message}")
    return lines


def plain_message(message: str) -> str:
    """A validation message without pydantic's `Value error, ` (a validator's ValueError)
    or `Assertion failed, ` prefix, which says nothing to a user."""
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


# A scalar of the wrong type (`lookback_days: true`): the message says what was given.
_SCALAR_TYPE_ERRORS = {"int_type", "float_type", "bool_type", "string_type"}


def _as_yaml(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "true" if value is True else "false" if value is False else "null"
    if isinstance(value, str):
        return json.dumps(value[:40])
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    return str(value)[:40]


def _source(file: Path, entries: Any, index: int, entry: Any, base: Path,
            problems: list[str]) -> SourceConfig | None:
    line = yamlio.line_of(entries, index)
    if not isinstance(entry, dict):
        problems.append(f"{file}:{line}: sources.{index}: each source must be a mapping")
        return None
    kinds = collector_types()
    kind = entry.get("type")
    known = ", ".join(sorted(kinds))
    if kind is None:
        problems.append(f"{file}:{yamlio.line_of(entry) or line}: sources.{index}.type: "
                        f"required field missing (one of: {known})")
        return None
    if kind not in kinds:
        problems.append(f"{file}:{yamlio.line_of(entry, 'type') or line}: sources.{index}.type: "
                        f"unknown source type {kind!r} (known: {known})")
        return None
    model = kinds[kind].config_model
    try:
        return model.model_validate(dict(entry), context={"base_dir": base})
    except ValidationError as exc:
        problems.extend(_problems(exc, file, entries, (index,), label="sources."))
        return None


def config_key(config: PlatformConfig) -> str:
    """What groups the stored scans of one platform: its `name`, else the file's absolute path."""
    return config.name or str(config.file.resolve())


def load_config(file: Path) -> PlatformConfig:
    """Read and validate a platform config; every problem is reported, with its line."""
    try:
        data = yamlio.load_file(file)  # UserError when unreadable or not UTF-8
    except yamlio.YamlError as exc:
        raise ConfigError([f"{file}:{exc.line}: {exc.describe()}"]) from exc
    if not isinstance(data, dict):
        raise ConfigError([f"{file}:1: the config must be a mapping with a `sources:` list"])
    base = file.resolve().parent
    problems: list[str] = []
    entries = data.get("sources")
    sources: list[SourceConfig] = []
    if not isinstance(entries, list) or not entries:
        problems.append(f"{file}:{yamlio.line_of(data, 'sources') or 1}: sources: "
                        "must be a non-empty list")
        entries = []
    for index, entry in enumerate(entries):
        config = _source(file, entries, index, entry, base, problems)
        if config is not None:
            sources.append(config)
    names = [s.name for s in sources]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{file}:{yamlio.line_of(data, 'sources')}: sources: duplicate name {name!r}")
    settings = None
    try:
        settings = PlatformSettings.model_validate({k: v for k, v in data.items() if k != "sources"})
    except ValidationError as exc:
        problems.extend(_problems(exc, file, data))
    if problems or settings is None:
        raise ConfigError(problems)
    fields = settings.model_dump()
    for key in ("rules", "exemptions"):
        if fields[key] is not None:
            fields[key] = resolve_path(fields[key], base)
    platform = PlatformConfig(**fields, sources=sources, file=file)
    models = data.get("models")
    platform._model_lines = [yamlio.line_of(models, i) for i in range(len(platform.models))]
    return platform


def check_config_models(config: PlatformConfig, known: Collection[str]) -> None:
    """The config's `models:` must name models of the rules (known only once the rules,
    perhaps the config's own `rules:`, are loaded): ConfigError naming each line."""
    lines = config._model_lines or [0] * len(config.models)
    problems = [f"{config.file}:{line}: models: unknown model {model!r} "
                f"(known: {', '.join(known)})"
                for model, line in zip(config.models, lines, strict=True) if model not in known]
    if problems:
        raise ConfigError(problems)


def secret_from_env(variable: str | None) -> str | None:
    """A credential from the environment variable the config names (never from the file)."""
    if not variable:
        return None
    value = os.environ.get(variable)
    return value or None


def config_schema() -> dict[str, Any]:
    """JSON Schema of the config file, with each source type as a `type`-tagged variant."""
    variants = []
    definitions: dict[str, Any] = {}
    for kind, cls in sorted(collector_types().items()):
        schema = cls.config_model.model_json_schema()
        definitions.update(schema.pop("$defs", {}))
        definitions[f"source_{kind}"] = schema
        variants.append({"$ref": f"#/$defs/source_{kind}"})
    document = PlatformSettings.model_json_schema()
    definitions.update(document.pop("$defs", {}))
    document["properties"]["sources"] = {"type": "array", "minItems": 1,
                                         "items": {"oneOf": variants}}
    document["required"] = ["sources"]
    document["$defs"] = definitions
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "maturity-probe platform config"
    return document
