"""The shared raw data of a repository: each code file is read once for all detectors."""

from __future__ import annotations

from pathlib import Path

from capability_fragments import files_for
from conftest import MakeRepo
from maturity_probe.detectors import run_detectors
from maturity_probe.detectors.context import RepoContext, vocabulary
from maturity_probe.filetree import MAX_TEXT_BYTES, LocalTree
from maturity_probe.inference.rules import load_rules

TRAIN = "import sklearn.linear_model as lm\n\nlm.LogisticRegression().fit([[0]], [0])\n"
SWEEP = "import wandb\n\nwandb.init(project='churn')\nwandb.log({'auc': 0.9})\n"
vocabulary("wandb", "fit", "training")


class CountingTree(LocalTree):
    """A local tree that counts reads per file."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: dict[str, int] = {}

    def read_bytes(self, path: str, limit: int = MAX_TEXT_BYTES) -> bytes:
        self.reads[path] = self.reads.get(path, 0) + 1
        return super().read_bytes(path, limit)


def test_declared_words_are_answered_from_one_read_of_each_file(make_repo: MakeRepo) -> None:
    files: dict[str, str | bytes] = {f"pkg/mod_{i}.py": f"def f{i}():\n    return {i}\n"
                                     for i in range(300)}  # more files than the text cache holds
    files.update({"src/train.py": TRAIN, "src/sweep.py": SWEEP, "src/notes.py": "# training\n"})
    tree = CountingTree(make_repo(files))
    ctx = RepoContext(tree)
    assert [p for p, _ in ctx.python_mentioning("fit")] == ["src/train.py"]
    assert tree.reads["pkg/mod_7.py"] == 1
    for _ in range(3):
        found = [p for p, _ in ctx.python_mentioning("wandb", "fit")]
        assert sorted(found) == ["src/sweep.py", "src/train.py"]
    assert tree.reads["pkg/mod_7.py"] == 1  # answered from the index
    # "training" holds "train"-like words; the index still reports the longer word
    assert [p for p, _ in ctx.python_mentioning("training")] == ["src/notes.py"]
    assert not ctx.undeclared_words
    # an undeclared word is still answered, by reading everything again, and recorded
    assert ctx.python_mentioning("polyfit_xyz") == []
    assert ctx.undeclared_words == {"polyfit_xyz"}


def test_a_full_audit_uses_only_declared_words(make_repo: MakeRepo) -> None:
    """Every detector declares its words, so no detector re-reads the whole repository."""
    root = make_repo(files_for(set(load_rules().capabilities)))
    ctx = RepoContext(LocalTree(root))
    findings = run_detectors(ctx)
    assert findings
    assert ctx.undeclared_words == set()
