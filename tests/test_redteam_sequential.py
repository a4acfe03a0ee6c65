"""Red team of sequential pass@k (`rlvr eval --stop-at-correct`): what held up, and what misleads a reader.

Each test was a finding of a red-team pass (briefed with the interface only), kept as a regression test once
fixed, or checks independently of the code's own derivation what held up: the estimator's unbiasedness by brute
force over every 0/1 sequence.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from rlvr.evaluate.answer_support import answer_support
from rlvr.evaluate.counts import Counts, load_counts
from rlvr.evaluate.sequential import StopRule, stop_point
from rlvr.evaluate.sequential_plan import SequentialPlanner
from rlvr.evaluate.store import RESULTS_SCHEMA_VERSION, SampleStore

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _my_stop(seq, m: int, n_max: int, n_min: int) -> tuple[int, int]:
    """The rule written out again from the feature's description (not from sequential.py)."""
    c = 0
    for i, x in enumerate(seq):
        c += x
        if c >= m and i + 1 >= n_min:
            return i + 1, c
    return n_max, c


@pytest.mark.parametrize("n_max", [1, 2, 5, 8])
def test_held_estimator_unbiased_over_every_sequence(n_max):
    """Every 0/1 sequence of length n_max weighted p^s (1-p)^(n-s): the mean of Counts.matrix is 1-(1-p)^k for
    every k <= n_max, every m (also m > n_max) and every floor (0..n_max, so T = n_min and n_min = n_max)."""
    seqs = np.array(list(itertools.product([0, 1], repeat=n_max)))
    s = seqs.sum(1)
    for m in range(1, n_max + 2):
        for n_min in range(n_max + 1):
            tc = [_my_stop(q, m, n_max, n_min) for q in seqs]
            rule = StopRule(m, n_max, n_min)
            ids = [str(i) for i in range(len(seqs))]
            mat = Counts("x", ids, [t for t, _ in tc], [c for _, c in tc], rule=rule).matrix(n_max)
            for p in (0.0, 0.05, 0.5, 0.9, 1.0):
                mean = (p**s * (1 - p) ** (n_max - s)) @ mat
                np.testing.assert_allclose(mean, 1 - (1 - p) ** np.arange(1, n_max + 1), atol=1e-12)


def _record(pid: str, i: int, ok: bool, text: str) -> dict:
    return {
        "problem": pid,
        "sample": i,
        "text": text,
        "extracted": "1" if ok else "2",
        "verdict": "correct" if ok else "wrong",
        "correct": ok,
        "tokens": 3,
        "finish_reason": "stop",
    }


def _store(path: Path, n: int, records: list[dict], pids: list[str], m: int | None) -> Path:
    meta = {"n": n, "label": path.name, "seed": 0, "stop_at_correct": m, "min_samples": 0 if m else None}
    rows = [{"id": p, "prompt": "q", "problem": "q", "answer": "1"} for p in pids]
    store = SampleStore.create_or_resume(path, meta, rows)
    store.append(records)
    store.close()
    return path


# Same model, same seeds: the sequential store holds a prefix of the uniform store's samples.
OUTCOMES = [False, True, True, False, True, True]  # m = 1 stops at index 1 (T = 2, c = 1)
TEXTS = [f"solution {i} \\boxed{{{1 if ok else 2}}}" for i, ok in enumerate(OUTCOMES)]


def test_answer_support_counts_only_the_samples_the_rule_counts(tmp_path):
    """Drawn past the stop (in flight) samples stay stored uncounted; answer support must not count them."""
    recs = [_record("a", i, ok, TEXTS[i]) for i, ok in enumerate(OUTCOMES[:3])]  # sample 2 is past the stop
    seq = _store(tmp_path / "seq", 6, recs, ["a"], m=1)
    assert SampleStore.open_existing(seq).stops() == {"a": (2, 1)}
    per = answer_support([("seq", seq)])["models"]["seq"]["per_problem"]["a"]
    assert per["solutions"] == 1  # got 2: sample 2 (past the stop) counted
    assert per["answer_entropy_bits"] == 1.0  # got 0.918: entropy over 3 samples, not the 2 counted


def test_answer_support_does_not_report_a_stop_as_lost_solutions(tmp_path):
    """A sequential store of the same samples as a uniform store: `rlvr compare` reports the sequential one
    "lost" the base's solutions (tiny model, rate grader, n=32, m=3: lost 47 of 68). It should count like the
    rule, refuse, or say the stores are not comparable; here it reports pure stopping as lost reasoning."""
    uni = _store(
        tmp_path / "uni", 6, [_record("a", i, ok, TEXTS[i]) for i, ok in enumerate(OUTCOMES)], ["a"], None
    )
    seq = _store(
        tmp_path / "seq", 6, [_record("a", i, ok, TEXTS[i]) for i, ok in enumerate(OUTCOMES[:2])], ["a"], 1
    )
    with pytest.raises(ValueError, match="same rule"):  # refused, not reported as lost solutions
        answer_support([("uni", uni), ("seq", seq)])


def _interrupted_sequential_store(
    tmp_path: Path, p: float, m: int, n_max: int, problems: int, calls: int
) -> Path:
    """What `rlvr eval --stop-at-correct` leaves after `calls` generate calls (a kill, or a peek while it runs):
    the planner that the runner uses picks the samples, graded by a Bernoulli(p) per (problem, index)."""
    rng = np.random.default_rng(0)
    draws = rng.random((problems, n_max)) < p
    ids = [f"q{i}" for i in range(problems)]
    planner = SequentialPlanner(ids, StopRule(m, n_max), {}, {i: "q" for i in ids}, lambda pid, s: 0)
    records = []
    for _ in range(calls):
        batch = [
            _record(r.problem, s, bool(draws[int(r.problem[1:]), s]), "t")
            for r in planner.next_call(10**9)
            for s in r.samples
        ]
        planner.record(batch)
        records += batch
    return _store(tmp_path / "partial", n_max, records, ids, m)


def test_allow_partial_on_an_unfinished_sequential_store_says_it_is_biased(tmp_path, capsys):
    """A uniform store read with --allow-partial counts a prefix the plan fixed in advance: unbiased. Under the
    rule, how far an open problem got depends on its own grades (the planner asks more of problems with fewer
    correct), so c/t over its prefix is biased (p = 0.05, m = 3, after two calls pass@1 reads about 0.059):
    the reader says so in one line."""
    p, problems = 0.05, 2000
    store = _interrupted_sequential_store(tmp_path, p, m=3, n_max=64, problems=problems, calls=2)
    counts = load_counts(store, allow_partial=True)
    assert counts.open.any() and len(counts.problems) == problems
    err = capsys.readouterr().err
    assert "still open under --stop-at-correct 3" in err and "biased" in err


def test_counts_refuse_a_stop_the_rule_cannot_produce():
    """read_counts_csv refuses such rows; the Python API computes a curve from them: 4 correct of 5, rate 0.25."""
    with pytest.raises(ValueError):
        _ = Counts("x", ["a"], [5], [4], rule=StopRule(2, 10)).rate


def test_docs_describe_the_sequential_rule():
    assert "--stop-at-correct" in (DOCS / "evaluate.md").read_text()


def test_results_schema_doc_gives_the_current_version():
    row = next(
        line
        for line in (DOCS / "results-schema.md").read_text().splitlines()
        if line.startswith("| `schema_version`")
    )
    assert f"`{RESULTS_SCHEMA_VERSION}`" in row, row


def test_held_stop_point_ignores_samples_past_a_gap_and_past_n_max():
    rule = StopRule(2, 4)
    assert stop_point({0: True, 2: True, 3: True}, rule) is None  # gap at 1: open, not (3, 2)
    assert stop_point({0: False, 1: True, 2: False, 3: False, 4: True, 5: True}, rule) == (4, 1)


def test_regrade_refuses_a_results_json_from_a_newer_rlvr(tmp_path):
    """docs/results-schema.md: "A reader should refuse a schema_version it does not know; rlvr's own readers do,
    in one line". `rlvr regrade` prints the old file's summary as "before" whatever its version."""
    import argparse
    import json

    from rlvr.evaluate.cli_regrade import run

    recs = [_record("a", i, ok, TEXTS[i]) for i, ok in enumerate(OUTCOMES[:2])]
    store = _store(tmp_path / "seq", 6, recs, ["a"], m=1)
    (store / "results.json").write_text(json.dumps({"schema_version": 99, "summary": {"pass@1": 123.0}}))
    args = argparse.Namespace(
        store=str(store),
        reward="rate_grader:grader",
        out=str(tmp_path / "out"),
        allow_partial=False,
        steps_verifier=None,
        judge_model=None,
        judge_backend="auto",
    )
    with pytest.raises(ValueError, match="schema"):
        run(args)


class _TextBackend:
    """Stands in for the model: one fixed text per (problem, sample); streams like HFBackend (an empty call,
    the planner waiting on grades, is passed over)."""

    def stream(self, calls, settings, chunk_size=None):
        from rlvr.evaluate.backends.base import Generation

        for call in calls:
            if call:
                yield [(r, [Generation(f"{r.problem}-{s}", 3, "stop") for s in r.samples]) for r in call]


def test_a_grading_error_ends_a_sequential_run():
    """With the HF backend the planner yields empty calls while every open problem waits on grades; if the
    grading thread raised (a grader bug, a full disk in store.append), those grades never come, so it polls
    forever and the error is never raised. CLI repro: one problem of rate ~0 (answer 1000), --stop-at-correct 1,
    a rate grader that raises on its 2nd batch: `timeout 150 rlvr eval ...` exits 124 with 2 samples stored
    (uniform sampling with the same grader ends at once with the grader's error)."""
    import threading

    from rlvr.evaluate.runner import sample_and_grade

    planner = SequentialPlanner(["a"], StopRule(1, 64), {}, {"a": "q"}, lambda pid, s: s)
    batches = []

    def grade_and_store(records):
        batches.append(records)
        if len(batches) == 2:
            raise OSError(28, "No space left on device")
        planner.record([{**r, "correct": False} for r in records])

    outcome = {}

    def target():
        try:
            sample_and_grade(
                _TextBackend(), planner.calls(8, wait_s=0.05), None, grade_and_store, chunk_size=8
            )
        except OSError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=10)
    alive = thread.is_alive()
    planner.record([{"problem": "a", "sample": i, "correct": True} for i in range(64)])  # let a hung run end
    thread.join(timeout=10)
    assert not alive, "sample_and_grade still running 10 s after the grading error"
    assert "error" in outcome
