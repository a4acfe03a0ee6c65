"""The boundary probe: in-process during training, detached with `rlvr probe --watch`, logged to W&B."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from wandb_log import history

RECIPES = Path(__file__).resolve().parents[1] / "recipes" / "tiny"


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory) -> Path:
    from rlvr.train.tiny_task import write_task

    return write_task(tmp_path_factory.mktemp("probe-task"), train=16, probe=6)


def overrides(task_dir: Path, run_dir: Path, *more: str) -> list[str]:
    return [
        f"model.path={task_dir / 'model'}",
        f"data.data_file={task_dir / 'train.jsonl'}",
        f"data.probe_file={task_dir / 'probe.jsonl'}",
        f"trainer.output_dir={run_dir}",
        *more,
    ]


@pytest.fixture(scope="module")
def probed_run(task_dir, tmp_path_factory):
    """Two GRPO steps with the probe in-process and W&B offline."""
    import os

    from rlvr.train.build import train
    from rlvr.train.recipe import load_recipe

    run_dir = tmp_path_factory.mktemp("probed") / "run"
    old = {"WANDB_MODE": os.environ.get("WANDB_MODE")}
    os.environ["WANDB_MODE"] = "offline"
    try:
        train(
            load_recipe(
                RECIPES / "grpo.yaml",
                overrides(task_dir, run_dir, "logging.report_to=wandb", "trainer.learning_rate=5e-2"),
            )
        )
    finally:
        for key, value in old.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    return run_dir


def test_probe_logs_step_zero_and_every_save(probed_run):
    from rlvr.train.probe import read_probe_log

    records = read_probe_log(probed_run)
    assert [r["step"] for r in records] == [0, 1, 2]
    metrics = records[0]["metrics"]["probe"]
    ks = (1, 2, 4, 8)
    floors = {f"chance_floor@{k}" for k in ks}
    assert set(metrics) == {f"pass@{k}" for k in ks} | floors | {"coverage", "delta_se", "entropy"} | {
        "samples",
        "tokens",
        "uniform_samples",
    }
    assert metrics["samples"] == metrics["uniform_samples"] == 6 * 8  # uniform: every sample drawn
    results = json.loads((probed_run / "probe" / "probe" / "step-0" / "results.json").read_text())
    assert {f"chance_floor@{k}": results["chance_floor"][str(k)] for k in ks} == {
        f: metrics[f] for f in floors
    }
    assert (probed_run / "timeline.csv").exists() and (probed_run / "timeline.png").exists()
    assert records[1]["model"].endswith("checkpoint-1")
    assert (probed_run / "probe.png").stat().st_size > 1000
    # ΔSE against step 0 is pass@1(step) - pass@8(step 0); at step 0 itself, pass@1 - pass@8 of the same model.
    assert metrics["delta_se"] == pytest.approx(metrics["pass@1"] - metrics["pass@8"])


def test_probe_at_step_zero_equals_a_standalone_eval(probed_run, task_dir, tmp_path):
    from rlvr.cli import main

    out = tmp_path / "eval"
    assert (
        main(
            [
                "eval",
                "--model",
                str(task_dir / "model"),
                "--data-file",
                str(task_dir / "probe.jsonl"),
                "--template",
                "plain",
                "--chat",
                "raw",
                "--n",
                "8",
                "--temperature",
                "1.0",
                "--max-tokens",
                "16",
                "--seed",
                "0",
                "--backend",
                "hf",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    standalone = json.loads((out / "results.json").read_text())
    probed = json.loads((probed_run / "probe" / "probe" / "step-0" / "results.json").read_text())
    assert standalone["problems"] == probed["problems"] and standalone["pass_at_k"] == probed["pass_at_k"]
    texts = lambda d: [json.loads(line)["text"] for line in (d / "samples.jsonl").read_text().splitlines()]  # noqa: E731
    assert texts(out) == texts(probed_run / "probe" / "probe" / "step-0")


def test_probe_samples_with_the_recipes_top_k_min_p_and_stop(task_dir, tmp_path):
    """probe.top_k, probe.min_p and probe.stop reach the probe's store: its samples are those of `rlvr eval`
    with --top-k, --min-p and --stop."""
    from rlvr.cli import main
    from rlvr.train.probe import probe_point
    from rlvr.train.recipe import load_recipe

    more = ("probe.top_k=12", "probe.min_p=0.02", 'probe.stop=["1"]')
    recipe = load_recipe(RECIPES / "grpo.yaml", overrides(task_dir, tmp_path / "run", *more))
    probe_point(recipe, 0, task_dir / "model", progress=False)
    step0 = tmp_path / "run" / "probe" / "probe" / "step-0"
    meta = json.loads((step0 / "meta.json").read_text())
    assert (meta["top_k"], meta["min_p"], meta["stop"]) == (12, 0.02, ["1"])
    out = tmp_path / "eval"
    argv = ["eval", "--model", str(task_dir / "model"), "--data-file", str(task_dir / "probe.jsonl")]
    argv += ["--template", "plain", "--chat", "raw", "--n", "8", "--temperature", "1.0", "--max-tokens", "16"]
    argv += ["--top-k", "12", "--min-p", "0.02", "--stop", "1"]
    argv += ["--seed", "0", "--backend", "hf", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    rows = lambda d: [  # noqa: E731
        (r["text"], r["tokens"], r["finish_reason"])
        for r in map(json.loads, (d / "samples.jsonl").read_text().splitlines())
    ]
    assert rows(out) == rows(step0) and not any("1" in text for text, _, _ in rows(out))


def test_offline_wandb_run_holds_probe_metrics_keyed_by_step(probed_run):
    files = list(probed_run.glob("wandb/offline-run-*/*.wandb"))  # the run's W&B files live in RUN_DIR
    assert len(files) == 1
    rows = [row for row in history(files[0]) if "probe/probe/pass@1" in row]
    from rlvr.train.probe import read_probe_log

    expected = {r["step"]: r["metrics"]["probe"]["pass@8"] for r in read_probe_log(probed_run)}
    assert {row["train/global_step"]: row["probe/probe/pass@8"] for row in rows} == pytest.approx(expected)


def test_detached_probe_watches_checkpoints(task_dir, tmp_path):
    from rlvr.cli import main
    from rlvr.train.build import train
    from rlvr.train.probe import read_probe_log
    from rlvr.train.recipe import load_recipe

    run_dir = tmp_path / "run"
    train(load_recipe(RECIPES / "grpo.yaml", overrides(task_dir, run_dir, "probe.mode=detached")))
    assert read_probe_log(run_dir) == []  # training itself did not probe
    assert main(["probe", "--watch", str(run_dir), "--no-progress"]) == 0  # `final` exists: probes all, stops
    assert [r["step"] for r in read_probe_log(run_dir)] == [0, 1, 2]
    assert main(["probe", "--watch", str(run_dir), "--once", "--no-progress"]) == 0
    assert len(read_probe_log(run_dir)) == 3  # nothing probed twice


def test_sequential_probe_equals_a_standalone_sequential_eval(task_dir, tmp_path):
    """probe.stop_at_correct: `rlvr probe --watch` samples each checkpoint under the rule, and step 0 counts
    what `rlvr eval --stop-at-correct` counts."""
    from rlvr.cli import main
    from rlvr.evaluate.store import SampleStore
    from rlvr.train.build import train
    from rlvr.train.probe import read_probe_log
    from rlvr.train.recipe import load_recipe

    run_dir = tmp_path / "run"
    more = ("probe.mode=detached", "probe.stop_at_correct=2", "trainer.max_steps=1", "trainer.save_steps=1")
    train(load_recipe(RECIPES / "grpo.yaml", overrides(task_dir, run_dir, *more)))
    assert main(["probe", "--watch", str(run_dir), "--no-progress"]) == 0
    records = read_probe_log(run_dir)
    assert [r["step"] for r in records] == [0, 1]
    step0 = run_dir / "probe" / "probe" / "step-0"
    assert json.loads((step0 / "results.json").read_text())["sequential"] == {
        "stop_at_correct": 2,
        "n_max": 8,
        "min_samples": 0,
    }
    out = tmp_path / "eval"
    argv = ["eval", "--model", str(task_dir / "model"), "--data-file", str(task_dir / "probe.jsonl")]
    argv += ["--template", "plain", "--chat", "raw", "--n", "8", "--temperature", "1.0", "--max-tokens", "16"]
    argv += ["--seed", "0", "--backend", "hf", "--stop-at-correct", "2", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    counted = lambda d: SampleStore.open_existing(d).counts()  # noqa: E731
    a, b = counted(out), counted(step0)
    assert a.problems == b.problems and list(a.n) == list(b.n) and list(a.correct) == list(b.correct)
    assert records[0]["metrics"]["probe"]["samples"] == len(SampleStore.open_existing(step0).records())


def test_watcher_started_before_the_run_says_what_it_waits_for(tmp_path):
    """A mistyped RUN_DIR must not look like a probe that has nothing to do yet; --once refuses at once."""
    import select
    import subprocess
    import sys

    run_dir = tmp_path / "not-started"
    command = [sys.executable, "-m", "rlvr.cli", "probe", "--watch", str(run_dir), "--interval", "0.2"]
    once = subprocess.run([*command, "--once"], capture_output=True, text=True, timeout=120)
    assert once.returncode == 2 and f"{run_dir / 'recipe.yaml'} does not exist" in once.stderr
    waiting = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        spoke, _, _ = select.select([waiting.stderr], [], [], 60)  # rlvr's imports take a few seconds
        line = waiting.stderr.readline() if spoke else "(nothing said in 60 s)"
        assert line.startswith(f"[probe] waiting for {run_dir / 'recipe.yaml'}") and "probe.mode" in line
        time.sleep(1.0)
        assert waiting.poll() is None  # still watching, as the run may start later
    finally:
        waiting.kill()
        waiting.wait()


def test_watcher_logs_into_the_trainers_wandb_run(task_dir, tmp_path, monkeypatch):
    from rlvr.train.build import train
    from rlvr.train.probe import WANDB_RUN_FILE
    from rlvr.train.recipe import load_recipe
    from rlvr.train.watch import watch

    monkeypatch.setenv("WANDB_MODE", "offline")
    run_dir = tmp_path / "run"
    train(
        load_recipe(
            RECIPES / "grpo.yaml",
            overrides(task_dir, run_dir, "probe.mode=detached", "logging.report_to=wandb"),
        )
    )
    run_id = json.loads((run_dir / WANDB_RUN_FILE).read_text())["id"]
    watch(run_dir, progress=False)
    files = sorted(
        run_dir.glob(f"wandb/offline-run-*-{run_id}*/*.wandb")
    )  # "-1" when both start in one second
    assert len(files) == 2  # the trainer's and the watcher's, one run id: `wandb sync` merges them
    rows = [row for row in history(files[-1]) if "probe/probe/pass@1" in row]
    assert sorted(row["train/global_step"] for row in rows) == [0, 1, 2]


def test_switching_the_probe_on_does_not_change_training(task_dir, tmp_path):
    """The probe samples with its own seeds; the trainer's random streams must not notice."""
    import torch
    from safetensors.torch import load_file
    from test_ppo import digit_share

    from rlvr.rewards import register_reward
    from rlvr.train.build import train
    from rlvr.train.recipe import load_recipe

    register_reward("digit_share", lambda **kw: digit_share)  # a reward the random model earns: weights move
    finals = []
    for enabled in ("true", "false"):
        run_dir = tmp_path / enabled
        train(
            load_recipe(
                RECIPES / "grpo.yaml",
                overrides(
                    task_dir,
                    run_dir,
                    f"probe.enabled={enabled}",
                    "rewards={digit_share: 1.0}",
                    "probe.reward=math",  # a shaping reward of one's own: the probe's grader is named
                    "trainer.learning_rate=1e-2",
                ),
            )
        )
        finals.append(load_file(run_dir / "final" / "model.safetensors"))
    start = load_file(task_dir / "model" / "model.safetensors")
    assert not torch.equal(finals[0]["model.embed_tokens.weight"], start["model.embed_tokens.weight"])
    assert finals[0].keys() == finals[1].keys() and all(
        torch.equal(finals[0][k], finals[1][k]) for k in finals[0]
    )
