"""Outputs: one module per format, each rendering an Assessment and computing nothing."""

from __future__ import annotations

from collections.abc import Callable

from maturity_probe.assessment import Assessment
from maturity_probe.outputs import codequality, html, json_out, junit, markdown, metrics, sarif, table

Renderer = Callable[[Assessment, bool], str]

RENDERERS: dict[str, Renderer] = {
    "table": table.render,
    "json": json_out.render,
    "markdown": markdown.render,
    "html": html.render,
    "junit": junit.render,
    "sarif": sarif.render,
    "codequality": codequality.render,
    "metrics": metrics.render,
}
