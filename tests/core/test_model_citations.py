"""Client-facing reports cite the public publications of the maturity models, never the
internal seed files they were transcribed from."""

from __future__ import annotations

import re

import pytest

from maturity_probe.inference.engine import assess
from maturity_probe.inference.rules import load_rules
from maturity_probe.outputs import RENDERERS
from support import NOW, ev, source

RULES = load_rules()
INTERNAL = re.compile(r"seed|\b00\d_[0-9a-f]{16}\b|\.txt\b", re.IGNORECASE)
PUBLICATIONS = {
    "microsoft": ("Microsoft's MLOps maturity model", "How Smooth Are Your Data Team's Operations?",
                  "DataCamp"),
    "google": ("MLOps: Continuous delivery and automation pipelines in machine learning",
               "Google Cloud"),
    "five_stage": ("Five Stages to getting MLOps done right", "LatentView"),
    "seven_stage": ("Josh Poduska", "The 7 Stages of MLOps Maturity", "Domino Data Lab"),
}


@pytest.mark.parametrize("model_id", sorted(PUBLICATIONS))
def test_model_source_is_the_public_publication(model_id: str) -> None:
    citation = RULES.models[model_id].source
    assert not INTERNAL.search(citation), citation
    for part in PUBLICATIONS[model_id]:
        assert part in citation


def test_every_bundled_model_has_a_citation() -> None:
    assert set(RULES.models) == set(PUBLICATIONS)


@pytest.mark.parametrize("output", ["json", "html", "sarif"])
def test_reports_cite_the_publication_and_name_no_seed_file(output: str) -> None:
    evidence = [ev("ci.pipeline", locator=".github/workflows/ci.yml:1"),
                ev("ci.test_job", locator=".github/workflows/ci.yml:8")]
    assessment = assess(RULES, evidence, [source()], now=NOW, target="churn-model")
    rendered = RENDERERS[output](assessment, True)
    assert "DataCamp blog, June 2022" in rendered and "Domino Data Lab blog" in rendered
    assert not re.search(r"\b00\d_[0-9a-f]{16}\.txt|seed 00\d", rendered)
