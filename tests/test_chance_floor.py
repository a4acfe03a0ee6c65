"""The chance floor against exact hand computations, and an untrained model whose pass@k is no more than it."""

from __future__ import annotations

import csv
import json
import math
import subprocess
from fractions import Fraction

from store_build import build_store
from store_helpers import eval_cmd

from rlvr.cli import main
from rlvr.evaluate.chance_floor import floor_curve, guess_probabilities
from rlvr.evaluate.store import SampleStore
from rlvr.rewards import get_reward

PROBLEMS = [
    {"id": "a", "prompt": "Qa", "answer": "1/2"},
    {"id": "b", "prompt": "Qb", "answer": "3"},
    {"id": "c", "prompt": "Qc", "answer": "7"},
]
# (text, extracted, correct) per sample; 4 samples each
SAMPLES = {
    "a": [("", "3", False), ("", "0.5", True), ("", None, False), ("", "\\frac12", True)],
    "b": [("", "3.0", True), ("", "7", False), ("", "x+1", False), ("", "1/2", False)],
    "c": [("", "03", False), ("", "7", True), ("", "::::", False), ("", "9", False)],
}


def _hand_floor(q: dict[str, Fraction], k: int) -> Fraction:
    return sum((1 - (1 - x) ** k for x in q.values()), Fraction(0)) / len(q)


def test_floor_equals_the_hand_computed_fractions(tmp_path):
    store_dir = build_store(tmp_path / "s", PROBLEMS, SAMPLES, "m")
    store = SampleStore.open_existing(store_dir)
    q = guess_probabilities(get_reward("math"), store.records(), store.problems())
    # a (gold 1/2) guesses from b and c's 8 samples: 1/2 is one -> 1/8
    # b (gold 3) from a and c: 3 and 03 -> 2/8 (0.5, \frac12, 7, ::::, 9 and the missing answer fail)
    # c (gold 7) from a and b: 7 -> 1/8
    assert q == {"a": Fraction(1, 8), "b": Fraction(1, 4), "c": Fraction(1, 8)}
    curve = floor_curve(q, 4)
    for k in range(1, 5):
        assert math.isclose(curve[k - 1], float(_hand_floor(q, k)), rel_tol=1e-12)
    assert _hand_floor(q, 1) == Fraction(1, 6)
    results = json.loads((store_dir / "results.json").read_text())
    assert math.isclose(results["chance_floor"]["4"], float(_hand_floor(q, 4)), rel_tol=1e-12)
    assert set(results["chance_floor"]) == {"1", "2", "3", "4"}


def test_only_the_records_given_count():
    """A caller counting a prefix of each problem's samples (sequential stores) gets that prefix's floor."""
    records = [
        {"problem": pid, "sample": i, "extracted": extracted}
        for pid, rows in SAMPLES.items()
        for i, (_, extracted, _) in enumerate(rows)
        if i < 2
    ]
    q = guess_probabilities(get_reward("math"), records, PROBLEMS)
    # a from b,c's first two: 3.0, 7, 03, 7 -> 0; b from a,c's: 3, 0.5, 03, 7 -> 2/4; c from a,b's: 3, 0.5, 3.0, 7 -> 1/4
    assert q == {"a": Fraction(0), "b": Fraction(1, 2), "c": Fraction(1, 4)}


def test_compare_shows_the_floor_and_says_when_it_is_not_cleared(tmp_path):
    store_dir = build_store(tmp_path / "s", PROBLEMS, SAMPLES, "m")
    out = tmp_path / "report"
    assert main(["compare", str(store_dir), "--out", str(out), "--resamples", "50"]) == 0
    rows = list(csv.DictReader((out / "passk.csv").open()))
    q = {"a": Fraction(1, 8), "b": Fraction(1, 4), "c": Fraction(1, 8)}
    assert math.isclose(float(rows[3]["chance_floor"]), float(_hand_floor(q, 4)), rel_tol=1e-5)
    md = (out / "report.md").read_text()
    assert "## Chance floor (%)" in md
    # pass@4 is 1 on every problem (each has a correct sample): 100% against a floor of 45.1%, with three
    # problems the bootstrap interval of the difference never reaches 0
    assert "m clears its chance floor at k = 4" in md
    assert "chance floor" in (out / "report.html").read_text()


def test_an_untrained_model_does_not_clear_its_floor(tiny_model_dir, tmp_path):
    """An untrained model answers at random: on problems whose answers are single digits its guesses at one
    problem are as good as its answers to it, so its pass@k lies within its floor at every k. The prompts
    hold no digits: a random model with tied embeddings echoes its prompt's tokens, and "What is 3 + 0?"
    would hand it the answer."""
    data = tmp_path / "digits.jsonl"
    names = ["apple", "river", "stone", "cloud", "maple", "tiger", "ocean", "ember", "frost", "lemon"]
    rows = [
        {"id": f"d{i}", "problem": f"Which digit does the word {name} bring to mind?", "answer": str(i)}
        for i, name in enumerate(names)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    store_dir = tmp_path / "store"
    subprocess.run(
        eval_cmd(tiny_model_dir, str(data), store_dir), check=True, capture_output=True, timeout=600
    )
    results = json.loads((store_dir / "results.json").read_text())
    assert results["pass_at_k"]["16"] > 0  # it does answer digits, sometimes the right one
    out = tmp_path / "report"
    assert main(["compare", str(store_dir), "--out", str(out), "--labels", "untrained"]) == 0
    rows = list(csv.DictReader((out / "passk.csv").open()))
    for row in rows:
        assert float(row["ci_low"]) <= float(row["chance_floor"]) + 1e-9, (
            row
        )  # within its floor, up to interval
    md = (out / "report.md").read_text()
    assert "untrained does not clear its chance floor at k = 16" in md
    assert "last clears" not in md  # at no k
