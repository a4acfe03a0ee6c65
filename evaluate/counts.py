"""Per-problem (n, correct) counts, from a counts CSV or a sample store: what every analysis reads."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rlvr.evaluate.passk import pass_at_k_matrix
from rlvr.evaluate.sequential import StopRule, closed_form_matrix, estimator_params, fits_rule


@dataclass
class Counts:
    """Results of one model on one dataset: problem ids with sample and correct counts.

    `n` is the samples each problem's estimate counts and `correct` the correct ones among them. Under a
    sequential rule (`rule`, see sequential.py) `n` is the stopping index T, and the pass@k of a problem comes
    from the rule's estimator, defined for every k up to n_max; `k_limit` is the largest k every problem
    supports. Every analysis reads pass@k through `matrix`, the per-problem rate through `rate`."""

    label: str
    problems: list[str]
    n: np.ndarray
    correct: np.ndarray
    source: str = ""
    rule: StopRule | None = None
    open: np.ndarray | None = None  # problems the rule left open (an unfinished store, allow_partial)
    spend: dict | None = None  # a store's samples and tokens drawn against uniform n (SampleStore.spend)

    def __post_init__(self) -> None:
        self.n = np.asarray(self.n, dtype=np.int64)
        self.correct = np.asarray(self.correct, dtype=np.int64)
        if not (len(self.problems) == len(self.n) == len(self.correct)):
            raise ValueError(f"{self.label}: problems, n and correct differ in length")
        if len(self.problems) == 0:
            raise ValueError(f"{self.label}: no problems in {self.source or 'the input'}")
        if self.open is None:
            self.open = np.zeros(len(self.problems), dtype=bool)
        if self.rule is not None:
            self.open = np.asarray(self.open, dtype=bool)
            misfit = [
                p
                for p, t, c, still_open in zip(
                    self.problems, self.n.tolist(), self.correct.tolist(), self.open
                )
                if not still_open and not fits_rule(t, c, self.rule)
            ]
            if misfit:
                raise ValueError(
                    f"{self.label}: problem {misfit[0]}'s n and correct cannot come from its stop rule (stop at "
                    f"correct {self.rule.m}, n_max {self.rule.n_max}, min_samples {self.rule.n_min})"
                )

    def _params(self) -> tuple[np.ndarray, np.ndarray]:
        pairs = [
            (t, c) if still_open else estimator_params(t, c, self.rule)
            for t, c, still_open in zip(self.n.tolist(), self.correct.tolist(), self.open.tolist())
        ]
        return np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])

    @property
    def k_caps(self) -> np.ndarray:
        """The largest k each problem's estimate supports: n_max under a rule (n of a problem left open),
        else n."""
        if self.rule is None:
            return self.n
        return np.where(self.open, self.n, self.rule.n_max)

    @property
    def k_limit(self) -> int:
        return int(self.k_caps.min())

    def matrix(self, k_max: int | None = None) -> np.ndarray:
        """Per-problem unbiased pass@k, k = 1..k_max (default k_limit), as a (problems x k_max) array."""
        k_max = self.k_limit if k_max is None else int(k_max)
        if not 1 <= k_max <= self.k_limit:
            raise ValueError(
                f"{self.label}: k={k_max} lies outside [1, {self.k_limit}], what its samples support"
            )
        if self.rule is None:
            return pass_at_k_matrix(self.n, self.correct, k_max)
        a, b = self._params()
        return closed_form_matrix(a, b, k_max)

    @property
    def rate(self) -> np.ndarray:
        """Per-problem unbiased success rate: pass@1 of each problem."""
        return self.matrix(1)[:, 0]

    @property
    def accuracy(self) -> np.ndarray:
        return self.rate

    def subset(self, problems: list[str]) -> Counts:
        index = {p: i for i, p in enumerate(self.problems)}
        rows = [index[p] for p in problems]
        return Counts(
            self.label,
            list(problems),
            self.n[rows],
            self.correct[rows],
            self.source,
            self.rule,
            self.open[rows],
            self.spend,
        )


def split_by(counts: list[Counts], group_of) -> dict[str, list[Counts]]:
    """Models on the same problems (as `align` leaves them) split by `group_of(problem id)`, a problem family
    say: group -> one subset per model, groups in order of first appearance."""
    groups: dict[str, list[str]] = {}
    for pid in counts[0].problems:
        groups.setdefault(group_of(pid), []).append(pid)
    return {name: [c.subset(ids) for c in counts] for name, ids in groups.items()}


def preview(ids: list[str], shown: int = 5) -> str:
    """The first few ids of a list, for messages: "p1, p2, p3, p4, p5 ..."."""
    return ", ".join(ids[:shown]) + (" ..." if len(ids) > shown else "")


def read_counts_csv(path: str | Path, label: str | None = None) -> Counts:
    """CSV with header `problem,n,correct` (extra columns are ignored; a UTF-8 BOM is fine)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = {"problem", "n", "correct"} - set(reader.fieldnames or [])
            if missing:
                raise ValueError(
                    f"{path}: a counts file needs columns problem,n,correct; missing {sorted(missing)}"
                )
            rows = [(reader.line_num, row) for row in reader]
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8 CSV"
        ) from None
    problems, n, correct = [], [], []
    for line, row in rows:
        if None in row or None in row.values():
            fields = sum(v is not None for k, v in row.items() if k is not None) + len(row.get(None) or [])
            raise ValueError(
                f"{path}: line {line} has {fields} fields; the header has {len(reader.fieldnames)}"
            )
        for column in ("n", "correct"):
            if not row[column].strip().isdigit():
                raise ValueError(f"{path}: line {line}: {column}={row[column]!r} is not a whole number")
        problems.append(row["problem"])
        n.append(int(row["n"]))
        correct.append(int(row["correct"]))
    if len(set(problems)) != len(problems):
        twice = next(p for i, p in enumerate(problems) if p in problems[:i])
        raise ValueError(f"{path}: problem {twice!r} appears twice")
    n_array = np.array(n, dtype=np.int64)
    correct_array = np.array(correct, dtype=np.int64)
    bad = np.flatnonzero((correct_array > n_array) | (n_array <= 0))
    if len(bad):
        raise ValueError(f"{path}: row for problem {problems[bad[0]]} has correct outside [0, n] or n <= 0")
    rule = _csv_rule(path, rows)
    if rule is not None:
        misfit = [p for p, t, c in zip(problems, n, correct) if not fits_rule(t, c, rule)]
        if misfit:
            raise ValueError(
                f"{path}: the row of problem {misfit[0]} cannot come from its stop rule (stop at correct "
                f"{rule.m}, n_max {rule.n_max}, min_samples {rule.n_min}); check n and correct"
            )
    return Counts(label or path.stem, problems, n_array, correct_array, str(path), rule)


def _csv_rule(path: Path, rows: list) -> StopRule | None:
    """The sequential rule of a counts file written from a sequential store (columns stop_at_correct, n_max,
    min_samples, the same on every row), or None."""
    if not rows or "stop_at_correct" not in rows[0][1]:
        return None
    values = {
        (row.get("stop_at_correct"), row.get("n_max"), row.get("min_samples") or "0") for _, row in rows
    }
    if len(values) != 1:
        raise ValueError(f"{path}: stop_at_correct, n_max and min_samples must be the same on every row")
    m, n_max, n_min = next(iter(values))
    try:
        return StopRule(int(m), int(n_max), int(n_min))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: the stop rule columns do not make a rule ({exc})") from None


def write_counts_csv(counts: Counts, path: str | Path) -> None:
    """problem,n,correct; a sequential store's counts add its rule (stop_at_correct, n_max, min_samples) on
    every row, so that the file is read back with the same estimator."""
    rule = counts.rule
    if rule is not None and bool(np.any(counts.open)):
        raise ValueError(
            f"{counts.label}: problems still open under its stop rule cannot be written as counts"
        )
    with Path(path).open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["problem", "n", "correct"] + (["stop_at_correct", "n_max", "min_samples"] if rule else [])
        )
        for p, n, c in zip(counts.problems, counts.n, counts.correct):
            writer.writerow([p, int(n), int(c)] + ([rule.m, rule.n_max, rule.n_min] if rule else []))


def load_counts(source: str | Path, label: str | None = None, allow_partial: bool = False) -> Counts:
    """A counts CSV or a sample store directory; an unfinished store is refused unless `allow_partial`."""
    path = Path(source)
    if path.is_dir():
        from rlvr.evaluate.store import SampleStore

        store = SampleStore.open_existing(path)
        records = store.records()
        store.check_complete(records, allow_partial)
        counts = store.counts(label, records)
        if counts.rule is not None and counts.open.any():
            import sys

            print(
                f"rlvr: {int(counts.open.sum())} problems of {path} are still open under --stop-at-correct "
                f"{counts.rule.m}; their estimates come from a prefix whose length followed their own grades, "
                f"so they are biased: finish the store for unbiased figures",
                file=sys.stderr,
            )
        return counts
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such counts file or sample store")
    return read_counts_csv(path, label)


def align(counts: list[Counts], intersect: bool = False) -> tuple[list[Counts], dict[str, list[str]]]:
    """Every model on the same problems, in the first model's order, and what each input left out.

    Different problem sets are refused unless `intersect`: a comparison silently over fewer problems
    than asked for is a wrong result."""
    common = set(counts[0].problems)
    for c in counts[1:]:
        common &= set(c.problems)
    left_out = {c.label: [p for p in c.problems if p not in common] for c in counts}
    if not common:
        raise ValueError("the inputs share no problem ids; are they results on the same dataset?")
    if any(left_out.values()) and not intersect:
        parts = [
            f"{label} has {len(ids)} the others lack ({preview(ids)})"
            for label, ids in left_out.items()
            if ids
        ]
        raise ValueError(
            f"the inputs' problem sets differ: {'; '.join(parts)}. Pass --intersect to compare over "
            f"the {len(common)} problems they share, or evaluate them on the same data"
        )
    order = [p for p in counts[0].problems if p in common]
    return [c.subset(order) for c in counts], {label: ids for label, ids in left_out.items() if ids}
