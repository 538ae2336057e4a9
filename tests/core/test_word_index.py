"""The shared word index and path globbing: same answers as the plain way, fewer reads."""

from __future__ import annotations

import random
from pathlib import Path

from conftest import MakeRepo, by_signal
from maturity_probe.detectors import run_detectors
from maturity_probe.detectors.context import RepoContext, _word_pattern, glob_regex
from maturity_probe.filetree import MAX_TEXT_BYTES, LocalTree


class CountingTree(LocalTree):
    """A local tree that counts reads per file."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: dict[str, int] = {}

    def read_bytes(self, path: str, limit: int = MAX_TEXT_BYTES) -> bytes:
        self.reads[path] = self.reads.get(path, 0) + 1
        return super().read_bytes(path, limit)


def held_words(words: frozenset[str], text: str) -> set[str]:
    pattern, inside = _word_pattern(words)
    return {w for hit in pattern.findall(text) for w in inside[hit]}


def test_word_index_equals_testing_every_word() -> None:
    # overlapping words ("sagemaker" / "makers"), words inside words ("train" / "training"),
    # a word that is a prefix of another ("fit" / "fitness") and regex characters
    words = frozenset({"sagemaker", "makers", "train", "training", "fit", "fitness", "AWS::",
                       '"panels"', "a.b", "mlflow", "flow"})  # fmt: skip
    assert held_words(words, "sagemakers") == {"sagemaker", "makers"}
    assert held_words(words, "retraining the fitness model") == {"train", "training", "fit",
                                                                 "fitness"}  # fmt: skip
    assert held_words(words, "Type: AWS::SageMaker") == {"AWS::"}
    assert held_words(words, "axb mlflo") == set()  # `.` is no wildcard
    rng = random.Random(7)
    alphabet = "aefgiklmnorstw. :"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 80)))
        text += rng.choice(sorted(words)) if rng.random() < 0.5 else ""
        assert held_words(words, text) == {w for w in words if w in text}, text


def test_globs_narrowed_by_directory_or_extension_match_like_the_regex(make_repo: MakeRepo) -> None:
    paths = [".github/workflows/ci.yml", ".GitHub/Workflows/Deploy.YAML", "ci/.github/workflows/x.yml",
             "env/environment-dev.yml", "conda.lock", "conda-linux.lock", "Jenkinsfile.release",
             "sub/Jenkinsfile.nightly", "model_card.md", "docs/Model_Card_v2.MD", "README",
             ".circleci/config.yml", "requirements/base.txt", "requirements-dev.txt"]  # fmt: skip
    ctx = RepoContext(LocalTree(make_repo(dict.fromkeys(paths, "x\n"))))
    for globs in (
        (".github/workflows/*.yml", ".github/workflows/*.yaml"),
        ("**/environment*.yml", "**/conda-*.lock"),
        ("**/Jenkinsfile.*",),
        ("**/model_card*.md", ".circleci/config.yml"),
        ("**/requirements/*.txt", "**/requirements*.txt", "**/README"),
    ):
        expected = sorted(p for p in ctx.paths if any(glob_regex(g).match(p) for g in globs))
        assert ctx.matching(*globs) == expected, globs
        assert expected, globs


def test_config_files_without_declared_words_are_read_once(make_repo: MakeRepo) -> None:
    """Kubernetes, CloudFormation, alert-rule, dashboard and Alertmanager detectors all
    answer from the shared word index: an unrelated YAML / JSON file is read once."""
    files: dict[str, str | bytes] = {
        f"settings/conf_{i}.yaml": f"name: conf{i}\nvalues: [1, 2, 3]\n" for i in range(150)
    }
    files.update({f"configs/conf_{i}.json": f'{{"id": {i}, "items": [1, 2]}}' for i in range(150)})
    files["deploy/isvc.yaml"] = (
        "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n"
        "  name: churn\nspec:\n  predictor:\n    model:\n      modelFormat:\n        name: sklearn\n"
        "      storageUri: gs://acme-models/churn/7\n"
    )
    files["monitoring/drift.rules.yml"] = (
        "groups:\n  - name: churn-model\n    rules:\n      - alert: ChurnFeatureDrift\n"
        "        expr: churn_feature_psi > 0.2\n        for: 1h\n"
    )
    tree = CountingTree(make_repo(files))
    findings = run_detectors(RepoContext(tree))
    assert [f.path for f in by_signal(findings, "serving.model_server")] == ["deploy/isvc.yaml"]
    assert [f.path for f in by_signal(findings, "monitor.drift_alert_rule")] == [
        "monitoring/drift.rules.yml"
    ]
    unrelated = [p for p in tree.reads if p.startswith(("settings/", "configs/"))]
    assert len(unrelated) == 300
    assert {tree.reads[p] for p in unrelated} == {1}
