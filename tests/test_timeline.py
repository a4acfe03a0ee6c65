"""The probe's per-problem timeline from hand-built step stores, and the four analyses in the quick demo."""

from __future__ import annotations

import csv
import json

from store_build import build_store

from rlvr.evaluate.timeline import step_counts, timeline, write_timeline

PROBLEMS = [
    {"id": p, "prompt": p, "problem": p, "answer": "1"} for p in ("kept", "lost", "gained", "never", "back")
]
# correct samples of 2 at steps 0, 10, 20 (20 before 10 on purpose: steps sort as numbers, not names)
CORRECT = {
    "kept": (2, 1, 1),
    "lost": (1, 1, 0),
    "gained": (0, 0, 2),
    "never": (0, 0, 0),
    "back": (1, 0, 1),
}


def run_dir(tmp_path):
    for step in (0, 20, 10):
        column = {0: 0, 10: 1, 20: 2}[step]
        samples = {
            p: [("x \\boxed{1}", "1", True)] * c[column] + [("x \\boxed{2}", "2", False)] * (2 - c[column])
            for p, c in CORRECT.items()
        }
        build_store(
            tmp_path / "run" / "probe" / "heldout" / f"step-{step}", PROBLEMS, samples, f"step-{step}"
        )
    return tmp_path / "run"


def test_timeline_by_last_and_first_solved_step(tmp_path):
    rows = {r["problem"]: r for r in timeline(step_counts(run_dir(tmp_path) / "probe" / "heldout"))}
    assert rows["kept"]["steps"] == [0, 10, 20]
    expected = {  # (first solved, last solved, status), read off CORRECT
        "kept": (0, 20, "kept"),
        "lost": (0, 10, "lost"),
        "gained": (20, 20, "gained"),
        "never": (None, None, "never"),
        "back": (0, 20, "regained"),
    }
    assert {p: (r["first_solved"], r["last_solved"], r["status"]) for p, r in rows.items()} == expected
    order = [r["problem"] for r in timeline(step_counts(run_dir(tmp_path / "b") / "probe" / "heldout"))]
    assert order == ["never", "lost", "back", "kept", "gained"]  # by last solved, then first solved, then id


def test_write_timeline_files_and_wandb_table(tmp_path):
    import wandb

    from rlvr.evaluate.timeline import log_timeline_table
    from rlvr.tracking import init_wandb

    run = run_dir(tmp_path)
    written = write_timeline(run)
    assert [p.name for p in written] == ["timeline.csv", "timeline.md", "timeline.png"]
    table = list(csv.reader((run / "timeline.csv").open()))
    assert table[0] == ["problem", "first solved", "last solved", "status", "step 0", "step 10", "step 20"]
    assert ["lost", "0", "10", "lost", "1/2", "1/2", "0/2"] in table
    assert (run / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "lost 1" in (run / "timeline.md").read_text()
    wandb_run = init_wandb("rlvr-test", tmp_path / "wandb", name="timeline")
    rows = timeline(step_counts(run / "probe" / "heldout"))
    assert log_timeline_table(rows, "heldout", wandb_run)
    wandb_run.finish()
    assert wandb.run is None and list((tmp_path / "wandb").glob("wandb/offline-run-*/*.wandb"))


def test_quick_demo_report_has_the_four_analyses(demo_out):
    md = (demo_out / "report" / "report.md").read_text()
    for title in (
        "## Answer support: distinct correct answers and solutions",
        "## Step-verified pass@k",
        "## Boundary probe over training steps",
        "## Token entropy over GRPO steps",
        "![Per-problem timeline over GRPO steps]",
    ):
        assert title in md
    coverage = json.loads((demo_out / "report" / "coverage.json").read_text())
    assert set(coverage["answer_support"]["models"]) == {"base", "rl", "distilled"}
    # the probe samples sequentially, where step-verified pass@k has no unbiased estimate: left out, said why
    assert "Step-verified pass@k is left out" in md and "step_verified" not in coverage
    records = [json.loads(x) for x in (demo_out / "rl" / "probe.jsonl").read_text().splitlines()]
    assert all(r["metrics"]["heldout"]["entropy"] > 0 for r in records)
    assert (demo_out / "rl" / "timeline.png").exists() and (demo_out / "rl" / "timeline.csv").exists()
