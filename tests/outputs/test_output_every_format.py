"""Every registered format renders an Assessment with failed sources, unknowns, not
assessable and not applicable requirements, systems and KPIs — the same bytes each time,
and saying that a source failed."""

from __future__ import annotations

import pytest
from outputs_support import full_assessment

from maturity_probe.outputs import RENDERERS


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_renders_a_troubled_assessment_deterministically(name: str) -> None:
    render = RENDERERS[name]
    first = render(full_assessment(), False)
    assert first == render(full_assessment(), False)
    assert first.endswith("\n")
    assert "prod-mlflow" in first  # the failed source is never silently dropped


def test_the_cli_offers_every_registered_format() -> None:
    from maturity_probe.cli import OutputFormat

    assert {f.value for f in OutputFormat} == set(RENDERERS)
