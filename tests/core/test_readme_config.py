"""The platform.yaml shown in the README is a valid config: users copy it."""

from __future__ import annotations

from pathlib import Path

from maturity_probe.config import load_config

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_platform_config_loads(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("# platform.yaml\n")
    config_file = tmp_path / "platform.yaml"
    config_file.write_text(text[start:text.index("```", start)], encoding="utf-8")
    config = load_config(config_file)
    assert {s.type for s in config.sources} == {
        "github", "gitlab", "mlflow", "prometheus", "kubernetes", "sagemaker", "repo"}
    assert config.name == "acme"
    assert "churn" in config.systems
