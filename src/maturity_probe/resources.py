"""Where the bundled rules and schemas live, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent.parent  # src/maturity_probe -> repository root


def _bundled(installed: str, checkout: str) -> Path:
    inside = _PACKAGE / installed  # wheels carry the files under the package
    return inside if inside.is_dir() else _CHECKOUT / checkout


def configs_dir() -> Path:
    """The bundled `configs/` directory (signals, capabilities, maturity models)."""
    return _bundled("_configs", "configs")


def schemas_dir() -> Path:
    return _bundled("_schemas", "schemas")
