"""Training from recipes on the tiny local model: validation, overrides, GRPO/RLOO/SFT steps."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rlvr.train.recipe import RecipeError, load_recipe

RECIPES = Path(__file__).resolve().parents[1] / "recipes" / "tiny"


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory) -> Path:
    from rlvr.train.tiny_task import write_task

    return write_task(tmp_path_factory.mktemp("tiny-task"), train=16, probe=4)


def localized(name: str, task_dir: Path, tmp_path: Path, **changes) -> Path:
    raw = yaml.safe_load((RECIPES / name).read_text())
    raw["model"]["path"] = str(task_dir / "model")
    raw["model"].pop(
        "tiny_task", None
    )  # the fixture's task; a missing path stays missing (test_tiny_recipes.py)
    raw["data"]["data_file"] = str(task_dir / "train.jsonl")
    if "probe_file" in raw["data"]:
        raw["data"]["probe_file"] = str(task_dir / "probe.jsonl")
    raw["trainer"]["output_dir"] = str(tmp_path / "run")
    for section, values in changes.items():
        raw.setdefault(section, {}).update(values)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(
    ("override", "bad", "suggestion"),
    [
        ("trainer.learnig_rate=1e-5", "learnig_rate", "learning_rate"),
        ("model.pth=x", "pth", "path"),
        ("probe.ks_=[1]", "ks_", "ks"),
        ("rewards.mathh=1.0", "mathh", "math"),
        ("algorithm=grp", "grp", "grpo"),
        ("trainr.max_steps=1", "trainr", "trainer"),
    ],
)
def test_misspelled_keys_name_the_key_and_the_fix(task_dir, tmp_path, override, bad, suggestion):
    with pytest.raises(RecipeError) as info:
        load_recipe(localized("grpo.yaml", task_dir, tmp_path), [override])
    assert repr(bad) in str(info.value) and repr(suggestion) in str(info.value)


def test_overrides_apply(task_dir, tmp_path):
    recipe = load_recipe(
        localized("grpo.yaml", task_dir, tmp_path),
        ["trainer.learning_rate=3e-6", "algorithm=dr_grpo", "probe.n=8", "logging.tags=[a,b]"],
    )
    assert recipe.trainer["learning_rate"] == 3e-6
    assert recipe.algorithm == "dr_grpo" and recipe.probe.n == 8 and recipe.logging.tags == ["a", "b"]
    from rlvr.train.build import build_config

    config = build_config(recipe)
    assert config.loss_type == "dr_grpo" and config.scale_rewards == "none"  # the preset reached TRL
    import torch

    assert config.learning_rate == 3e-6
    # on a CPU rlvr turns TRL's bf16 default off; on a GPU the default (bf16 on) stands
    assert config.bf16 is torch.cuda.is_available()


@pytest.mark.parametrize("name", ["grpo.yaml", "rloo.yaml", "ppo.yaml", "sft.yaml"])
def test_two_steps_write_checkpoints(task_dir, tmp_path, name):
    from rlvr.train.build import train

    recipe = load_recipe(localized(name, task_dir, tmp_path), ["probe.enabled=false"])
    out = Path(train(recipe))
    assert (out / "checkpoint-2").is_dir() and (out / "final" / "model.safetensors").exists()


def test_ast_field_reader_agrees_with_the_imported_dataclasses():
    import dataclasses
    import typing

    from rlvr.train.config_fields import config_fields
    from rlvr.train.recipe import trainer_config_class
    from rlvr.train.recipe_values import kind_of_hint

    for algorithm, name in [
        ("grpo", "GRPOConfig"),
        ("rloo", "RLOOConfig"),
        ("sft", "SFTConfig"),
        ("ppo", "PPOConfig"),
    ]:
        cls = trainer_config_class(algorithm)
        imported = {f.name for f in dataclasses.fields(cls)}
        from_source = config_fields(name, lambda: None)
        assert set(from_source) == imported
        hints = typing.get_type_hints(cls)  # the value kinds read from source are those of the real classes
        assert {f: kind_of_hint(hints[f]) for f in imported} == from_source


def test_validation_does_not_import_trl(task_dir, tmp_path):
    """A typo must fail fast: checking trainer keys reads TRL's source instead of importing it (seconds)."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom rlvr.train.recipe import load_recipe, RecipeError\n"
        f"try:\n    load_recipe({str(localized('ppo.yaml', task_dir, tmp_path))!r}, ['trainer.vf_cof=1'])\n"
        "except RecipeError as e:\n    print(e)\nprint('trl' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'vf_cof'" in out and "'vf_coef'" in out
    assert out.strip().endswith("False False")


def test_torchrun_two_processes_train_and_probe_once(task_dir, tmp_path):
    """DDP over gloo on the CPU: both ranks train, rank 0 alone probes (one probe.jsonl line per step)."""
    import json
    import os
    import shutil
    import subprocess
    import sys

    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    recipe = localized("grpo.yaml", task_dir, tmp_path)
    # CPU ranks over gloo on any machine: two NCCL ranks cannot share one GPU
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        [
            torchrun,
            "--nproc_per_node",
            "2",
            "--master_port",
            "29531",
            "-m",
            "rlvr.train",
            str(recipe),
            "trainer.disable_tqdm=true",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run = tmp_path / "run"
    assert json.loads((run / "run_info.json").read_text())["world_size"] == 2
    assert (run / "checkpoint-2" / "model.safetensors").exists()
    steps = [json.loads(line)["step"] for line in (run / "probe.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2]
