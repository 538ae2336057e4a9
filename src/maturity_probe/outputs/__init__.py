"""Outputs: one module per format, each rendering an Assessment and computing nothing."""

from __future__ import annotations

from collections.abc import Callable

from maturity_probe.assessment import Assessment
from maturity_probe.outputs import json_out, markdown, table

Renderer = Callable[[Assessment, bool], str]

RENDERERS: dict[str, Renderer] = {
    "table": table.render,
    "json": json_out.render,
    "markdown": markdown.render,
}
