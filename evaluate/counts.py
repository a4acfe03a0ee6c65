"""Per-problem (n, correct) counts, from a counts CSV or a sample store: what every analysis reads."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Counts:
    """Results of one model on one dataset: problem ids with sample and correct counts."""

    label: str
    problems: list[str]
    n: np.ndarray
    correct: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        if not (len(self.problems) == len(self.n) == len(self.correct)):
            raise ValueError(f"{self.label}: problems, n and correct differ in length")
        if len(self.problems) == 0:
            raise ValueError(f"{self.label}: no problems in {self.source or 'the input'}")

    @property
    def accuracy(self) -> np.ndarray:
        return self.correct / self.n

    def subset(self, problems: list[str]) -> Counts:
        index = {p: i for i, p in enumerate(self.problems)}
        rows = [index[p] for p in problems]
        return Counts(self.label, list(problems), self.n[rows], self.correct[rows], self.source)


def read_counts_csv(path: str | Path, label: str | None = None) -> Counts:
    """CSV with header `problem,n,correct` (extra columns are ignored)."""
    path = Path(path)
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = {"problem", "n", "correct"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: a counts file needs columns problem,n,correct; missing {sorted(missing)}")
        rows = list(reader)
    problems = [r["problem"] for r in rows]
    if len(set(problems)) != len(problems):
        raise ValueError(f"{path}: a problem id appears twice")
    n = np.array([int(r["n"]) for r in rows], dtype=np.int64)
    correct = np.array([int(r["correct"]) for r in rows], dtype=np.int64)
    bad = np.flatnonzero((correct < 0) | (correct > n) | (n <= 0))
    if len(bad):
        raise ValueError(f"{path}: row for problem {problems[bad[0]]} has correct outside [0, n] or n <= 0")
    return Counts(label or path.stem, problems, n, correct, str(path))


def write_counts_csv(counts: Counts, path: str | Path) -> None:
    with Path(path).open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["problem", "n", "correct"])
        for p, n, c in zip(counts.problems, counts.n, counts.correct):
            writer.writerow([p, int(n), int(c)])


def load_counts(source: str | Path, label: str | None = None) -> Counts:
    """A counts CSV or a sample store directory."""
    path = Path(source)
    if path.is_dir():
        from rlvr.evaluate.store import SampleStore

        return SampleStore.open_existing(path).counts(label)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such counts file or sample store")
    return read_counts_csv(path, label)


def align(counts: list[Counts]) -> list[Counts]:
    """Restrict every model to the problems all of them have, in the first model's order."""
    common = set(counts[0].problems)
    for c in counts[1:]:
        common &= set(c.problems)
    if not common:
        raise ValueError("the inputs share no problem ids; are they results on the same dataset?")
    order = [p for p in counts[0].problems if p in common]
    return [c.subset(order) for c in counts]
