"""`rlvr contamination`: ROUGE-L by hand, and the positive and negative controls: a tiny model trained on half of a
problem set flags that half and not the other; an untrained one flags none."""

from __future__ import annotations

import json
import random
from fractions import Fraction
from pathlib import Path

import pytest

from rlvr.evaluate.contamination import lcs_length, rouge_l, score, split_text

WORDS = (
    "apple river stone cloud seven orange lamp tiger paper window garden silver frog candle mountain "
    "engine rabbit violin pocket marble kettle ladder forest button mirror copper tunnel pepper"
).split()


def test_rouge_l_is_the_f1_of_the_longest_common_subsequence():
    reference, candidate = "a b c d e".split(), "a x c e".split()
    assert lcs_length(reference, candidate) == 3  # a c e
    precision, recall = Fraction(3, 4), Fraction(3, 5)
    assert rouge_l(reference, candidate) == pytest.approx(
        float(2 * precision * recall / (precision + recall))
    )
    assert (
        rouge_l(reference, reference) == 1.0
        and rouge_l(reference, ["z"]) == 0.0
        and rouge_l([], ["a"]) == 0.0
    )
    assert lcs_length("x a y b z c".split(), "a b c".split()) == 3


def test_the_prefix_is_the_texts_first_words_and_the_rest_is_scored_on_as_many_words():
    assert split_text("one two  three four five", 0.6) == ("one two  three", " four five")
    assert split_text("one two", 0.9) == ("one", " two")  # at least one word on each side
    assert split_text("alone", 0.6) is None
    # the continuation may run past the problem's end: only as many words as the reference are compared
    assert score(" four five.", " four five. The answer is") == {"exact_match": True, "rouge_l": 1.0}
    assert score(" four five", " four six")["exact_match"] is False


@pytest.fixture(scope="module")
def problem_set(tmp_path_factory) -> tuple[Path, list[dict]]:
    rng = random.Random(0)
    rows = [{"id": f"p{i}", "problem": " ".join(rng.choices(WORDS, k=20)), "answer": "0"} for i in range(16)]
    path = tmp_path_factory.mktemp("contamination") / "problems.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, rows


def tiny_model(out: Path, texts: list[str], trained_on: list[str], steps: int) -> Path:
    """A tiny Qwen2 (rlvr.tiny) trained with plain next-token loss on `trained_on` for `steps` full batches."""
    import torch
    from transformers import AutoTokenizer

    from rlvr.tiny import build_model, build_tokenizer

    tokenizer = build_tokenizer(texts, vocab_size=300)
    model = build_model(tokenizer, hidden_size=64, layers=2, heads=4, seed=0)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    model.config.save_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)  # the tokenization a reader of the directory gets
    if steps:
        batch = tokenizer([t + tokenizer.eos_token for t in trained_on], return_tensors="pt", padding=True)
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
        torch.manual_seed(0)
        model.train()
        for _ in range(steps):
            model(**batch, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        model.eval()
    model.save_pretrained(out)
    return out


def run_cli(model: Path, data: Path, out: Path, capsys) -> tuple[dict, str]:
    from rlvr.cli import main

    assert (
        main(
            [
                "contamination",
                "--model",
                str(model),
                "--data-file",
                str(data),
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    return json.loads((out / "contamination.json").read_text()), capsys.readouterr().out


def test_a_model_trained_on_half_the_problems_flags_that_half_and_an_untrained_one_none(
    problem_set, tmp_path, capsys
):
    data, rows = problem_set
    texts = [r["problem"] for r in rows]
    seen = [r for i, r in enumerate(rows) if i % 2 == 0]
    trained = tiny_model(tmp_path / "trained", texts, [r["problem"] for r in seen], steps=300)
    result, printed = run_cli(trained, data, tmp_path / "out-trained", capsys)
    assert set(result["likely_seen"]) == {r["id"] for r in seen}
    assert set(result["per_problem"]) == {r["id"] for r in rows}  # every problem, keyed by its id
    for r in rows:  # the reference is the problem's last 8 of 20 words
        record = result["per_problem"][r["id"]]
        assert record["reference"].split() == r["problem"].split()[12:]
    exact = sum(result["per_problem"][r["id"]]["exact_match"] for r in rows)
    assert result["exact_match"] == pytest.approx(exact / 16)
    assert result["rouge_l"] == pytest.approx(sum(p["rouge_l"] for p in result["per_problem"].values()) / 16)
    assert result["finding"] in printed and "8 reach ROUGE-L >= 0.75" in result["finding"]

    untrained = tiny_model(tmp_path / "untrained", texts, [], steps=0)
    result, _ = run_cli(untrained, data, tmp_path / "out-untrained", capsys)
    assert result["likely_seen"] == [] and result["exact_match"] == 0.0

    # a rerun resumes from the per-problem lines; other settings in the same directory are refused
    from rlvr.cli import main

    assert (
        main(
            [
                "contamination",
                "--model",
                str(untrained),
                "--data-file",
                str(data),
                "--out",
                str(tmp_path / "out-untrained"),
                "--no-progress",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "contamination",
                "--model",
                str(untrained),
                "--data-file",
                str(data),
                "--out",
                str(tmp_path / "out-untrained"),
                "--prefix-fraction",
                "0.5",
            ]
        )
        == 2
    )
    assert "prefix_fraction" in capsys.readouterr().err


def test_compare_splits_the_curves_into_likely_seen_and_unseen_problems(tmp_path, capsys):
    from rlvr.cli import main

    ids = [f"p{i}" for i in range(6)]
    per_problem = {
        pid: {"exact_match": False, "rouge_l": value, "reference": "", "continuation": ""}
        for pid, value in zip(ids, (1.0, 0.9, 0.8, 0.2, 0.0, 0.5))
    }
    (tmp_path / "contamination.json").write_text(json.dumps({"threshold": 0.75, "per_problem": per_problem}))
    base = [4, 4, 4, 2, 2, 2]  # correct of n = 4
    rl = [4, 4, 4, 0, 1, 2]
    for name, correct in (("base", base), ("rl", rl)):
        (tmp_path / f"{name}.csv").write_text(
            "problem,n,correct\n" + "".join(f"{p},4,{c}\n" for p, c in zip(ids, correct))
        )
    args = [
        "compare",
        str(tmp_path / "base.csv"),
        str(tmp_path / "rl.csv"),
        "--out",
        str(tmp_path / "report"),
        "--contamination",
        str(tmp_path),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    # seen: p0-p2 (ROUGE-L >= 0.75): pass@1 1.0 for both; unseen: p3-p5, base 6/12 = 50.0%, rl 3/12 = 25.0%
    assert "3 likely seen, 3 unseen of 6 problems" in printed
    assert "rl − base at pass@1: +0.0 points on likely seen, -25.0 points on unseen." in printed
    report = (tmp_path / "report" / "report.md").read_text()
    assert "| likely seen | 3 | 100.0 | 100.0 |" in report and "| unseen | 3 | 50.0 | 25.0 |" in report
    # a stricter threshold moves p1, p2 to unseen: unseen base (4+4+2+2+2)/20 = 70%, rl (4+4+0+1+2)/20 = 55%
    assert main([*args, "--contamination-threshold", "0.95"]) == 0
    assert "1 likely seen, 5 unseen of 6 problems" in capsys.readouterr().out
    report = (tmp_path / "report" / "report.md").read_text()
    assert "| unseen | 5 | 70.0 | 55.0 |" in report


def test_bad_settings_are_one_line_naming_the_flag(capsys, tmp_path, problem_set):
    from cli_helpers import one_line_error

    data = str(problem_set[0])
    base = ["contamination", "--model", str(tmp_path), "--data-file", data, "--out", str(tmp_path / "o")]
    assert "--prefix-fraction 1.5 must lie strictly between 0 and 1" in one_line_error(
        capsys, *base, "--prefix-fraction", "1.5"
    )
    assert "--threshold 2.0 is a ROUGE-L value" in one_line_error(capsys, *base, "--threshold", "2")
    counts = tmp_path / "base.csv"
    counts.write_text("problem,n,correct\np0,4,1\n")
    missing = one_line_error(
        capsys,
        "compare",
        str(counts),
        "--out",
        str(tmp_path / "r"),
        "--contamination",
        str(tmp_path / "none.json"),
    )
    assert "--contamination" in missing and "rlvr contamination" in missing
