"""recipes/tiny/ run from a fresh checkout: their model and task are built when missing (model.tiny_task)."""

from __future__ import annotations

from pathlib import Path

from rlvr.cli import main as rlvr

RECIPES = Path(__file__).resolve().parents[1] / "recipes" / "tiny"


def test_a_tiny_recipe_builds_its_task_then_trains(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["train", str(RECIPES / "grpo.yaml"), "trainer.max_steps=1", "probe.enabled=false"]
    assert rlvr(argv) == 0
    task = tmp_path / "runs" / "tiny"
    assert "rlvr: building the tiny model and task in runs/tiny" in capsys.readouterr().out
    assert len((task / "train.jsonl").read_text().splitlines()) == 64  # write_task's defaults: 64 and 16
    assert len((task / "probe.jsonl").read_text().splitlines()) == 16
    assert (task / "grpo" / "checkpoint-1").is_dir() and not (task / ".tiny_task.partial").exists()
    weights = (task / "model" / "model.safetensors").read_bytes()
    assert rlvr(argv + ["trainer.output_dir=runs/tiny/again"]) == 0  # built once, then reused
    assert "building" not in capsys.readouterr().out
    assert (task / "model" / "model.safetensors").read_bytes() == weights


def test_a_tiny_recipe_pointed_at_another_model_builds_nothing(tmp_path, monkeypatch, capsys):
    from cli_helpers import one_line_error

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    err = one_line_error(capsys, "train", str(RECIPES / "grpo.yaml"), "model.path=missing-org/missing-model")
    assert "model.path missing-org/missing-model: no such directory" in err
    assert not (tmp_path / "runs").exists()
