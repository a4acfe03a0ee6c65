"""`rlvr demo --quick`: the whole loop end to end (task, base model, GRPO with the probe, distillation control,
perplexity, the three-model report)."""

from __future__ import annotations

import json

import pytest


def test_quick_demo_writes_the_report_with_curves_and_probe(demo_out):
    html = (demo_out / "report" / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 6  # pass@k, Cover@τ, accuracy, perplexity, probe, families
    assert "Boundary probe over training steps" in html and "pass@k by problem family" in html
    assert "Perplexity of the base model on each model" in html
    findings = (demo_out / "report" / "findings.txt").read_text()
    assert "precedence problems (6), base / rl / distilled" in findings and "chain problems (2)" in findings
    assert (
        "rl − base" in findings
        and "distilled − base" in findings
        and "Median perplexity of the base" in findings
    )
    labels = {line.split(",")[0] for line in (demo_out / "report" / "passk.csv").read_text().splitlines()[1:]}
    assert labels == {"base", "rl", "distilled"}
    # the chance floor beside every curve: a passk.csv column, its report section, a finding per model
    assert all(row.split(",")[5] for row in (demo_out / "report" / "passk.csv").read_text().splitlines()[1:])
    assert "Chance floor (%)" in html
    assert all(
        f"{label} clears its chance floor" in findings or f"{label} does not clear" in findings
        for label in labels
    )
    steps = [json.loads(line)["step"] for line in (demo_out / "rl" / "probe.jsonl").read_text().splitlines()]
    assert steps == [0, 2, 4]
    assert list(demo_out.glob("rl/wandb/offline-run-*/*.wandb"))  # the training run, offline W&B, no account
    assert list(demo_out.glob("wandb/offline-run-*/*.wandb"))  # the comparison


def test_distillation_control_has_a_right_teacher_and_the_probes_settings(demo_out):
    import re

    import yaml

    from rlvr.demo.task import family
    from rlvr.evaluate.store import IDENTITY_KEYS

    teacher = [json.loads(line) for line in (demo_out / "data" / "teacher.jsonl").read_text().splitlines()]
    held = {json.loads(line)["id"] for line in (demo_out / "data" / "heldout.jsonl").read_text().splitlines()}
    assert teacher and not {t["id"] for t in teacher} & held
    assert {family(t["id"]) for t in teacher} >= {"precedence", "chain"}  # RL trains on precedence only
    for t in teacher:  # right on every family: the boxed value is Python's own arithmetic
        expression = t["problem"].removeprefix("Compute ").rstrip(".")
        assert int(re.search(r"\\boxed\{(-?\d+)\}", t["completion"]).group(1)) == eval(expression)  # noqa: S307
    rl, sft = (
        yaml.safe_load((demo_out / name).read_text())["trainer"]
        for name in ("recipe.yaml", "distill_recipe.yaml")
    )
    for key in (
        "max_steps",
        "per_device_train_batch_size",
        "learning_rate",
        "bf16",
        "gradient_checkpointing",
    ):
        assert sft[key] == rl[key], key
    probe, distilled = (
        json.loads((demo_out / path / "meta.json").read_text())
        for path in ("rl/probe/heldout/step-0", "distill/eval/heldout")
    )
    assert {k: probe.get(k) for k in IDENTITY_KEYS if k != "model"} == {
        k: distilled.get(k) for k in IDENTITY_KEYS if k != "model"
    }
    assert probe["problems_sha256"] == distilled["problems_sha256"]


def test_perplexity_scores_up_to_eight_correct_answers_per_problem(demo_out):
    from rlvr.evaluate.store import SampleStore

    scored = json.loads((demo_out / "perplexity" / "perplexity.json").read_text())["perplexity"]
    stores = {
        "rl": "rl/probe/heldout/step-4",
        "distilled": "distill/eval/heldout",
        "base": "rl/probe/heldout/step-0",
    }
    for label, path in stores.items():
        counts = SampleStore.open_existing(demo_out / path).counts()
        values = scored[label]
        assert len(values) == sum(min(8, int(c)) for c in counts.correct)
        assert all(v >= 1.0 for v in values)


def test_printed_commands_probe_the_demos_models_as_the_probe_did(demo_out, tmp_path, monkeypatch):
    """The `rlvr eval` / `rlvr compare` lines the demo ends with, run on its held-out problems: they sample
    under the probe's identity (template, chat, n, temperature, ...) and write a report."""
    import shlex

    import yaml

    from rlvr.cli import main
    from rlvr.demo.run import reproduce_commands
    from rlvr.evaluate.store import IDENTITY_KEYS, RULE_KEYS

    raw = yaml.safe_load((demo_out / "recipe.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    commands = reproduce_commands(demo_out, raw, problems=str(demo_out / "data" / "heldout.jsonl"))
    assert [c.split()[:2] for c in commands] == [["rlvr", "eval"], ["rlvr", "eval"], ["rlvr", "compare"]]
    for command in commands:
        assert main(shlex.split(command)[1:] + (["--no-progress"] if " eval " in command else [])) == 0
    probe = json.loads((demo_out / "rl" / "probe" / "heldout" / "step-0" / "meta.json").read_text())
    mine = json.loads((tmp_path / "runs" / "mine" / "base" / "meta.json").read_text())
    # dtype is written as typed (fp32 against the recipe's float32), reward as the probe names it
    keys = [k for k in IDENTITY_KEYS + RULE_KEYS if k not in ("model", "dtype", "reward") and k in probe]
    assert probe["stop_at_correct"] is not None  # the probe samples sequentially, and so do the commands
    assert {k: mine.get(k) for k in keys} == {k: probe[k] for k in keys} and "--dtype fp32" in commands[0]
    assert (tmp_path / "reports" / "mine" / "report.html").exists()


def test_rerun_resumes_instead_of_redoing(demo_out, capsys):
    from rlvr.cli import main

    outputs = [
        demo_out / "base" / "model.safetensors",
        demo_out / "distill" / "final" / "model.safetensors",
        demo_out / "perplexity" / "perplexity.json",
    ]
    before = [path.stat().st_mtime_ns for path in outputs]
    assert main(["demo", "--quick", "--out", str(demo_out), "--no-progress"]) == 0
    assert [path.stat().st_mtime_ns for path in outputs] == before
    printed = capsys.readouterr().out.splitlines()
    assert printed[-4].startswith("[demo] the probe on your own problems")  # the last lines: what to run next
    assert printed[-1].strip().startswith("rlvr compare runs/mine/base runs/mine/rl")
    assert len((demo_out / "rl" / "probe.jsonl").read_text().splitlines()) == 3


def test_task_and_pretraining_are_deterministic_under_a_seed(tmp_path):
    import torch
    from safetensors.torch import load_file

    from rlvr.demo.pretrain import pretrain
    from rlvr.demo.task import answer, corpus, split

    train, held = split(0, 8)
    assert (train, held) == split(0, 8) and not set(train) & set(held)
    assert all(eval(e.text) == answer(e) for e in held)  # noqa: S307 - our own arithmetic strings
    pairs = corpus(train, 200, 1)
    assert pairs == corpus(train, 200, 1)
    a = load_file(
        pretrain(tmp_path / "a", pairs, steps=3, hidden=32, layers=1, progress=False) / "model.safetensors"
    )
    b = load_file(
        pretrain(tmp_path / "b", pairs, steps=3, hidden=32, layers=1, progress=False) / "model.safetensors"
    )
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_worked_solutions_follow_their_strategy():
    import random

    from rlvr.demo.task import Expression, solution

    e = Expression(3, "+", 4, "*", 2)
    rng = random.Random(0)
    assert solution(e, "precedence", rng) == " 4 * 2 = 8. 3 + 8 = 11. The answer is \\boxed{11}."
    assert solution(e, "left_to_right", rng) == " 3 + 4 = 7. 7 * 2 = 14. The answer is \\boxed{14}."
    assert solution(e, "swapped", rng) == " 2 * 4 = 8. 8 + 3 = 11. The answer is \\boxed{11}."
    slipped = solution(e, "slip", rng)
    assert slipped.startswith(" 4 * 2 = 8. 3 + 8 = ") and ("{10}" in slipped or "{12}" in slipped)


def test_subtraction_chains_are_right_only_left_to_right():
    import random

    from rlvr.demo.task import all_expressions, answer, family, is_chain, steps

    chains = [e for e in all_expressions() if is_chain(e)]
    rng = random.Random(0)
    assert chains and all(family(e.id) == "chain" for e in chains)
    assert all(steps(e, "left_to_right", rng)[1] == eval(e.text) == answer(e) for e in chains)  # noqa: S307
    assert all(steps(e, "right_first", rng)[1] != answer(e) for e in chains)


def test_demo_report_opens_with_findings_and_chart_in_a_browser(demo_out, tmp_path):
    """The demo's report at 1280x800 in headless Chromium: findings and the pass@k chart on the first screen,
    every figure drawn at 70% or more of its natural width (benchmarks/report_screen.py's checks)."""
    import shutil
    import sys
    from pathlib import Path

    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("needs Debian's chromium (apt-get install chromium); CI installs it")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from report_screen import layout, problems

    page = tmp_path / "report.html"
    shutil.copy(demo_out / "report" / "report.html", page)
    found = layout(page)
    assert problems(found) == []
    assert found["findings_items"] >= 10  # three models: 3 curves, 3 or more per pair, coverage
