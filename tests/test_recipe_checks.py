"""Recipes checked whole (keys, values, paths) before any model loads; finished and torn runs on rerun."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml
from cli_helpers import one_line_error
from test_train import localized

from rlvr.cli import main as rlvr


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory) -> Path:
    from rlvr.train.tiny_task import write_task

    return write_task(tmp_path_factory.mktemp("tiny-task"), train=16, probe=4)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "trainer.max_steps=ten",
            "trainer.max_steps: 'ten' is not a whole number (GRPOConfig.max_steps takes a whole number)",
        ),
        ("model.lora='yes'", "model.lora: expected a mapping"),
        ("probe.enabled='no'", "probe.enabled: 'no' is not true or false; write true or false, unquoted"),
        ("data.chat=rawr", "data.chat: 'rawr' is not one of auto, chat, raw; did you mean 'raw'?"),
        ("data.template=qwen-boxd", "did you mean 'qwen-boxed'?"),
        ("model.dtype=bf16", "model.dtype: 'bf16' is not one of auto, bfloat16, float16, float32"),
        ("trainer.num_generations=[4]", "trainer.num_generations: [4] is not a whole number"),
        ("rewards.math=heavy", "rewards.math: 'heavy' is not a number"),
        ("probe=5", "probe: expected a mapping"),
        ("probe.top_p=0", "probe.top_p must be in (0, 1]"),
        ("probe.top_k=-1", "probe.top_k must be 0 (every token) or more, not -1"),
        ("probe.min_p=1", "probe.min_p must be in [0, 1) (0 turns it off), not 1"),
        ("probe.stop=['']", "probe.stop must be non-empty strings"),
        ("probe.temperature=-0.5", "probe.temperature must be 0 (greedy) or more, not -0.5"),
        ("probe.max_tokens=0", "probe.max_tokens must be at least 1"),
        ("probe.ks=[0,1024]", "probe.ks [0, 1024] must lie in [1, probe.n=8]"),
        ("probe.limit=-3", "probe.limit must be at least 1 (leave it out for every problem), not -3"),
        ("data.limit=0", "data.limit must be at least 1"),
        ("probe.every=0", "probe.every must be at least 1, not 0"),
        (
            "trainer.num_generations=3",
            "generation_batch_size (4) must be divisible by num_generations (3)",
        ),  # TRL's
    ],
)
def test_check_rejects_bad_values_in_one_line(task_dir, tmp_path, capsys, override, expected):
    recipe = localized("grpo.yaml", task_dir, tmp_path)
    err = one_line_error(capsys, "train", str(recipe), override, "--check")
    assert expected in err, err


def test_yaml_numbers_without_a_dot_are_numbers(task_dir, tmp_path):
    from rlvr.train.recipe import load_recipe

    path = localized("grpo.yaml", task_dir, tmp_path)
    path.write_text(path.read_text().replace("learning_rate: 0.0001", "learning_rate: 1e-4"))
    assert load_recipe(path).trainer["learning_rate"] == 1e-4


def test_yaml_syntax_error_names_file_and_line(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("model:\n  path: x\ntrainer:\n  max_steps: [1, 2\n  seed: 0\n")
    err = one_line_error(capsys, "train", str(path), "--check")
    assert f"{path}:5:" in err and "YAML syntax error" in err


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("model.path=runs/nowhere/model", "model.path runs/nowhere/model: no such directory"),
        (
            "model.path=missing-org/missing-model",
            "HF_HUB_OFFLINE is set but the Hub id is not in the local cache",
        ),
        ("data.data_file=nowhere.jsonl", "data.data_file: nowhere.jsonl does not exist"),
        ("probe.datasets=[math5000]", "probe.datasets: math5000 does not exist (nor a benchmark name"),
    ],
)
def test_paths_are_checked_before_any_model_loads(task_dir, tmp_path, capsys, override, expected):
    recipe = localized("grpo.yaml", task_dir, tmp_path)
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    err = one_line_error(capsys, "train", str(recipe), override)
    assert expected in err, err
    assert not (tmp_path / "run").exists()  # nothing started


def test_a_finished_run_is_not_trained_again_and_a_torn_checkpoint_is_skipped(task_dir, tmp_path, capsys):
    recipe = localized("grpo.yaml", task_dir, tmp_path)
    run = tmp_path / "run"
    assert rlvr(["train", str(recipe), "probe.enabled=false"]) == 0
    weights = run / "final" / "model.safetensors"
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}, weights.stat().st_mtime_ns
    capsys.readouterr()
    assert rlvr(["train", str(recipe), "probe.enabled=false"]) == 0
    assert "is finished (step 2" in capsys.readouterr().out
    assert ({p.name: p.stat().st_mtime_ns for p in run.iterdir()}, weights.stat().st_mtime_ns) == before

    torn = run / "checkpoint-2" / "model.safetensors"
    torn.write_bytes(torn.read_bytes()[: torn.stat().st_size // 2])  # a kill during save
    assert rlvr(["train", str(recipe), "probe.enabled=false", "trainer.max_steps=3"]) == 0
    out = capsys.readouterr().out
    assert "checkpoint-2 is torn (model.safetensors is cut short)" in out
    state = json.loads((run / "checkpoint-3" / "trainer_state.json").read_text())
    assert state["global_step"] == 3
    assert json.loads((run / "finished.json").read_text())["global_step"] == 3
    assert torn.exists()  # left on disk, not deleted


def test_thread_count_is_the_machines_not_its_load(monkeypatch):
    """torch's thread count orders its float sums, so it is fixed by the cores this process may use (what
    sched_getaffinity reports), whatever another process keeps busy; an explicit count wins."""
    import subprocess
    import sys
    import time

    from rlvr.threads import cpu_threads

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("RLVR_NUM_THREADS", raising=False)
    idle = cpu_threads()
    assert 1 <= idle <= len(os.sched_getaffinity(0))
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        os.sched_setaffinity(spinner.pid, {max(os.sched_getaffinity(0))})
        time.sleep(0.3)
        assert cpu_threads() == idle
    finally:
        spinner.kill()
        spinner.wait()
    monkeypatch.setenv("RLVR_NUM_THREADS", "3")
    assert cpu_threads() == 3


def test_shipped_recipes_still_validate():
    from rlvr.train.recipe import load_recipe

    for path in sorted((Path(__file__).resolve().parents[1] / "recipes").rglob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        if "model" in raw:
            load_recipe(path)


RECIPES = Path(__file__).resolve().parents[1] / "recipes"
SHIPPED = sorted(p for p in RECIPES.rglob("*.yaml") if "model" in (yaml.safe_load(p.read_text()) or {}))
NOT_CACHED = re.compile(
    r"^(?P<recipe>\S+): valid, but not cached here: (?P<listed>.+); "
    r"fetch them with `rlvr fetch (?P<names>[^`]+)` \(needs the network\)$"
)


@pytest.fixture(scope="module")
def shipped_cwd(tmp_path_factory) -> Path:
    """A working directory holding what recipes/tiny/ expect (`python -m rlvr.train.tiny_task runs/tiny`)."""
    from rlvr.train.tiny_task import write_task

    cwd = tmp_path_factory.mktemp("shipped")
    write_task(cwd / "runs" / "tiny", train=16, probe=4)
    return cwd


def test_recipes_name_only_files_that_ship_or_that_the_tiny_task_writes():
    for path in SHIPPED:
        raw = yaml.safe_load(path.read_text())
        data = raw.get("data") or {}
        for key in ("data_file", "probe_file", "template_file"):
            file = data.get(key)
            if file:
                assert file.startswith("runs/tiny/") or (RECIPES.parent / file).is_file(), (path, key, file)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(RECIPES)))
def test_every_shipped_recipe_checks_or_says_what_to_fetch(path, shipped_cwd, tmp_path, monkeypatch, capsys):
    """--check passes, or ends in the one line naming the uncached model and registry datasets and the command
    that fetches them; nothing else (no error, no other line)."""
    from rlvr.data import DATASETS

    monkeypatch.chdir(shipped_cwd)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("RLVR_CACHE", str(tmp_path / "empty-cache"))  # no registry dataset is fetched here
    capsys.readouterr()  # what building the tiny task printed
    assert rlvr(["train", str(path), "--check"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out[captured.out.index("{\n") :])  # the resolved recipe (after any library's notice)
    raw = yaml.safe_load(path.read_text())
    data, probe = raw.get("data") or {}, raw.get("probe") or {}
    expected = [data["dataset"]] if data.get("dataset") in DATASETS and not data.get("data_file") else []
    if probe.get("enabled"):
        expected += [d for d in probe.get("datasets") or [] if d in DATASETS and d not in expected]
    model = raw["model"]["path"]
    hub_model = "/" in model and not model.startswith(("runs/", "/", ".")) and not os.path.exists(model)
    if not expected and not hub_model:
        assert captured.err == "", captured.err
        return
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    match = NOT_CACHED.match(lines[0])
    assert match, lines[0]
    names = match["names"].split()
    assert [n for n in names if n in DATASETS] == expected
    assert set(names) - set(expected) <= {model}  # the model, unless this machine's Hub cache has it
    assert match["recipe"] == str(path)


def test_probe_dtype_is_its_own_and_defaults_to_the_models(tmp_path):
    from rlvr.train.probe import eval_config
    from rlvr.train.recipe import RecipeError, validate

    def recipe(probe: dict, model_dtype: str = "float32"):
        return validate(
            {
                "model": {"path": str(tmp_path), "dtype": model_dtype},
                "data": {"data_file": str(tmp_path / "d.jsonl")},
                "trainer": {"output_dir": str(tmp_path / "run")},
                "probe": {"enabled": True, **probe},
            }
        )

    assert eval_config(recipe({"dtype": "bfloat16"}), 0, "m", "p", {}).dtype == "bfloat16"
    assert eval_config(recipe({}), 0, "m", "p", {}).dtype == "float32"
    with pytest.raises(RecipeError, match="probe.dtype"):
        recipe({"dtype": "bf17"})
    # a saved recipe (rlvr probe --watch reads it back) writes the default out as null
    assert recipe({"dtype": None}).probe.dtype is None
