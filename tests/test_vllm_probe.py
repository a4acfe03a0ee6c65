"""The boundary probe with `probe.backend: vllm` on vLLM's CPU build: in-process during training and detached
with `rlvr probe --watch`. TRL's own vLLM generation in training is refused on a CPU in one line (training
generates with transformers here). Skipped without vLLM; in the vLLM lane (RLVR_VLLM_LANE=1) that fails."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

RECIPES = Path(__file__).resolve().parents[1] / "recipes" / "tiny"


def _needs_vllm() -> None:
    if importlib.util.find_spec("vllm") is None:
        if os.environ.get("RLVR_VLLM_LANE") == "1":
            pytest.fail("RLVR_VLLM_LANE=1 but vLLM does not import: build .venv-vllm with make test-vllm")
        pytest.skip("vLLM is not installed (make test-vllm runs these)")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory) -> Path:
    """recipes/tiny's task with a model vLLM's CPU attention takes (head_dim 32)."""
    from rlvr.tiny import save_tiny_model
    from rlvr.train.tiny_task import make_problems

    out = tmp_path_factory.mktemp("vllm-probe-task")
    for name, rows in (("train.jsonl", make_problems(8, seed=1)), ("probe.jsonl", make_problems(4, seed=2))):
        (out / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    corpus = [f"Question: {r['problem']}\nAnswer:{r['completion']}" for r in make_problems(300, seed=3)]
    save_tiny_model(out / "model", corpus, vocab_size=400, hidden_size=64, layers=2, heads=2)
    return out


def overrides(task_dir: Path, run_dir: Path, *more: str) -> list[str]:
    return [
        f"model.path={task_dir / 'model'}",
        f"data.data_file={task_dir / 'train.jsonl'}",
        f"data.probe_file={task_dir / 'probe.jsonl'}",
        f"trainer.output_dir={run_dir}",
        "probe.backend=vllm",
        "probe.n=4",
        *more,
    ]


def _store_backend_texts(run_dir: Path, step: int) -> list[str]:
    store = run_dir / "probe" / "probe" / f"step-{step}"
    return [json.loads(x)["text"] for x in (store / "samples.jsonl").read_text().splitlines() if x.strip()]


def test_in_process_probe_on_vllm_equals_a_standalone_vllm_eval(task_dir, tmp_path):
    _needs_vllm()
    from rlvr.cli import main
    from rlvr.train.build import train
    from rlvr.train.probe import read_probe_log
    from rlvr.train.recipe import load_recipe

    run_dir = tmp_path / "run"
    train(load_recipe(RECIPES / "grpo.yaml", overrides(task_dir, run_dir)))
    assert [r["step"] for r in read_probe_log(run_dir)] == [0, 1, 2]
    args = ["eval", "--model", str(task_dir / "model"), "--data-file", str(task_dir / "probe.jsonl")]
    args += ["--template", "plain", "--chat", "raw", "--n", "4", "--max-tokens", "16", "--temperature", "1.0"]
    args += ["--seed", "0", "--backend", "vllm", "--reward", "math", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "alone")]) == 0
    alone = [json.loads(x)["text"] for x in (tmp_path / "alone" / "samples.jsonl").read_text().splitlines()]
    assert sorted(_store_backend_texts(run_dir, 0)) == sorted(alone)


def test_watch_probes_every_checkpoint_on_vllm(task_dir, tmp_path):
    _needs_vllm()
    from rlvr.cli import main
    from rlvr.train.build import train
    from rlvr.train.probe import read_probe_log
    from rlvr.train.recipe import load_recipe

    run_dir = tmp_path / "run"
    train(load_recipe(RECIPES / "grpo.yaml", overrides(task_dir, run_dir, "probe.mode=detached")))
    assert read_probe_log(run_dir) == []
    assert main(["probe", "--watch", str(run_dir), "--no-progress"]) == 0
    assert [r["step"] for r in read_probe_log(run_dir)] == [0, 1, 2]
    meta = json.loads((run_dir / "probe" / "probe" / "step-2" / "meta.json").read_text())
    assert meta["versions"]["vllm-cpu"] == "0.31.0"


@pytest.mark.parametrize("mode", ["colocate", "server"])
def test_trl_vllm_generation_on_a_cpu_is_refused_in_one_line(mode, task_dir, tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU runs TRL's vLLM generation")
    from cli_helpers import one_line_error

    from rlvr.cli import main

    recipe = tmp_path / "r.yaml"
    recipe.write_text((RECIPES / "grpo.yaml").read_text())
    err = one_line_error(
        capsys,
        "train",
        str(recipe),
        *overrides(task_dir, tmp_path / "run", "trainer.use_vllm=true", f"trainer.vllm_mode={mode}"),
    )
    assert f"trainer.use_vllm with vllm_mode {mode} needs" in err
    assert not (tmp_path / "run").exists()  # refused before any model loads or checkpoint is written
    # --check validates the recipe for the GPU machine it is meant for (a login node checks a cluster's recipe)
    assert (
        main(
            ["train", str(recipe), *overrides(task_dir, tmp_path / "run", "trainer.use_vllm=true", "--check")]
        )
        == 0
    )
