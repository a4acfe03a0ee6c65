"""Sweeps: a 2 x 2 grid run locally with its comparison; SLURM scripts that bash accepts; every recipe validates."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory) -> Path:
    from rlvr.train.tiny_task import write_task

    return write_task(tmp_path_factory.mktemp("sweep-task"), train=16, probe=4)


def sweep_args(task_dir: Path, out: Path) -> list[str]:
    return [
        str(ROOT / "recipes" / "tiny" / "sweep.yaml"),
        f"model.path={task_dir / 'model'}",
        f"data.data_file={task_dir / 'train.jsonl'}",
        f"data.probe_file={task_dir / 'probe.jsonl'}",
        "trainer.disable_tqdm=true",
    ]


def test_grid_expands_into_named_runs_with_their_point(task_dir, tmp_path):
    from rlvr.train.sweep import load_sweep

    sweep = load_sweep(ROOT / "recipes" / "tiny" / "sweep.yaml", sweep_args(task_dir, tmp_path)[1:])
    runs = sweep.runs()
    assert [r.point for r in runs] == [
        {"trainer.beta": b, "trainer.num_generations": g} for b in (0.0, 0.01) for g in (2, 4)
    ]
    assert len({r.output_dir for r in runs}) == 4
    assert all(
        "logging.group=tiny-sweep" in r.overrides and f"logging.name={r.name}" in r.overrides for r in runs
    )
    from rlvr.train.recipe import load_recipe

    recipe = load_recipe(sweep.recipe, runs[3].overrides)  # the W&B config carries the grid point
    assert recipe.logging.config == {
        "sweep": "tiny-sweep",
        "trainer.beta": 0.01,
        "trainer.num_generations": 4,
    }
    assert recipe.trainer["beta"] == 0.01 and recipe.trainer["num_generations"] == 4


def test_local_sweep_runs_four_runs_and_writes_the_comparison(task_dir, tmp_path, monkeypatch):
    from rlvr.cli import main

    monkeypatch.chdir(tmp_path)  # the sweep's output_dir (runs/tiny/sweep) is relative
    assert main(["sweep", *sweep_args(task_dir, tmp_path), "--launcher", "local"]) == 0
    out = tmp_path / "runs" / "tiny" / "sweep"
    runs = sorted(p for p in out.iterdir() if (p / "probe.jsonl").exists())
    assert len(runs) == 4 and all((p / "checkpoint-2").is_dir() for p in runs)
    table = (out / "report" / "sweep.md").read_text()
    assert all(f"| {p.name} |" in table for p in runs)
    assert (out / "report" / "sweep.html").stat().st_size > 5000


def test_slurm_dry_run_prints_scripts_bash_accepts(task_dir, tmp_path, monkeypatch, capsys):
    from rlvr.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["sweep", *sweep_args(task_dir, tmp_path), "--launcher", "slurm", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("#SBATCH --job-name=tiny-sweep-") == 4
    scripts = sorted((tmp_path / "runs" / "tiny" / "sweep" / "slurm").glob("*.sbatch"))
    assert len(scripts) == 4
    for script in scripts:
        subprocess.run(["bash", "-n", str(script)], check=True)
        text = script.read_text()
        assert "${" not in text.replace("${SLURM", "")  # every template field was filled
        assert "-m rlvr.train" in text and "logging.group=tiny-sweep" in text


def test_misspelled_grid_key_fails_before_anything_runs(tmp_path):
    from rlvr.train.recipe import RecipeError
    from rlvr.train.sweep import load_sweep

    path = tmp_path / "s.yaml"
    path.write_text(
        f"name: s\nrecipe: {ROOT / 'recipes' / 'tiny' / 'grpo.yaml'}\ngrid:\n  trainer.bta: [0.0, 0.1]\n"
    )
    with pytest.raises(RecipeError, match="'bta'.*'beta'"):
        load_sweep(path)


def test_a_grid_point_trl_refuses_fails_before_the_first_run(task_dir, tmp_path, monkeypatch, capsys):
    """num_generations 3 does not divide the tiny recipe's generation batch of 4: TRL refuses it when its config
    is built, which used to be after the runs before it in the grid had trained."""
    from rlvr.cli import main

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "s.yaml"
    path.write_text(
        f"name: s\nrecipe: {ROOT / 'recipes' / 'tiny' / 'grpo.yaml'}\ngrid:\n  trainer.num_generations: [2, 3]\n"
    )
    assert main(["sweep", str(path), *sweep_args(task_dir, tmp_path)[1:], "--launcher", "local"]) == 2
    err = capsys.readouterr().err
    assert (
        "sweep run num_generations-3: generation_batch_size (4) must be divisible by num_generations (3)"
        in err
    )
    assert not (tmp_path / "runs").exists()  # nothing trained


def test_overrides_as_a_mapping_are_the_list_and_anything_else_is_named(task_dir, tmp_path):
    """A mapping used to be read key by key ("override 'model.path' must look like section.key=value")."""
    from rlvr.train.sweep import load_sweep

    head = f"name: s\nrecipe: {ROOT / 'recipes' / 'tiny' / 'grpo.yaml'}\ngrid:\n  trainer.beta: [0.0, 0.1]\n"
    settings = {
        "model.path": str(task_dir / "model"),
        "data.data_file": str(task_dir / "train.jsonl"),
        "data.probe_file": str(task_dir / "probe.jsonl"),
        "trainer.max_steps": 3,
    }
    as_list, as_mapping = tmp_path / "list.yaml", tmp_path / "mapping.yaml"
    as_list.write_text(head + "overrides:\n" + "".join(f"  - {k}={v}\n" for k, v in settings.items()))
    as_mapping.write_text(head + "overrides:\n" + "".join(f"  {k}: {v}\n" for k, v in settings.items()))
    runs = [load_sweep(path).runs() for path in (as_list, as_mapping)]
    assert [r.overrides for r in runs[0]] == [r.overrides for r in runs[1]]
    assert "trainer.max_steps=3" in runs[1][0].overrides
    bad = tmp_path / "bad.yaml"
    bad.write_text(head + "overrides: trainer.max_steps=3\n")
    with pytest.raises(ValueError, match="overrides is a list of section.key=value or a mapping"):
        load_sweep(bad)


@pytest.mark.parametrize("recipe", sorted((ROOT / "recipes").glob("*.yaml")), ids=lambda p: p.name)
def test_full_size_recipes_validate(recipe):
    from rlvr.train.recipe import load_recipe

    load_recipe(recipe)


def test_accelerate_launch_is_found_without_an_activated_venv(tmp_path, monkeypatch):
    from rlvr.train import sweep

    monkeypatch.setattr(sweep.sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert sweep._accelerate_launch() == [
        str(tmp_path / "bin" / "python"),
        "-m",
        "accelerate.commands.launch",
    ]
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "accelerate").write_text("")
    assert sweep._accelerate_launch() == [str(tmp_path / "bin" / "accelerate"), "launch"]


def test_accelerate_dry_run_prints_one_launch_per_run(task_dir, tmp_path, monkeypatch, capsys):
    from rlvr.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["sweep", *sweep_args(task_dir, tmp_path), "--launcher", "accelerate", "--dry-run"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[sweep] run")]
    assert len(lines) == 4
    assert all(
        "accelerate launch --config_file " in line
        and "launch/accelerate/single_gpu.yaml -m rlvr.train" in line
        for line in lines
    )
    assert not (tmp_path / "runs" / "tiny" / "sweep" / "beta-0.0_num_generations-2").exists()  # nothing ran


def test_slurm_script_hands_every_override_to_the_trainer_intact(task_dir, tmp_path, monkeypatch):
    """Run a rendered script with stand-ins for srun, scontrol and accelerate that record their arguments."""
    import os
    import stat

    from rlvr.train.sweep import launch, load_sweep

    monkeypatch.chdir(tmp_path)
    sweep = load_sweep(ROOT / "recipes" / "tiny" / "sweep.yaml", sweep_args(task_dir, tmp_path)[1:])
    fake = tmp_path / "bin"
    sweep.slurm["accelerate"] = str(fake / "accelerate")  # the job runs the accelerate it was given
    run = launch(sweep, "slurm", dry_run=True)[0]
    fake.mkdir()
    record = tmp_path / "argv.txt"
    scripts = {
        "scontrol": "echo node1",
        "srun": 'while [[ $1 == --* ]]; do shift; done; exec "$@"',
        "accelerate": f'printf "%s\\n" "$@" > {record}',
    }
    for name, body in scripts.items():
        (fake / name).write_text(f"#!/bin/bash\n{body}\n")
        (fake / name).chmod((fake / name).stat().st_mode | stat.S_IEXEC)
    env = {
        **os.environ,
        "PATH": f"{fake}:{os.environ['PATH']}",
        "SLURM_NNODES": "1",
        "SLURM_NODEID": "0",
        "SLURM_JOB_NODELIST": "node1",
    }
    script = tmp_path / "runs" / "tiny" / "sweep" / "slurm" / f"{run.name}.sbatch"
    subprocess.run(["bash", str(script)], env=env, check=True)
    argv = record.read_text().splitlines()
    assert (
        argv[0] == "launch"
        and argv[argv.index("--num_processes") + 1] == "1"
        and argv[argv.index("--machine_rank") + 1] == "0"
    )
    tail = argv[argv.index("rlvr.train") + 1 :]
    assert tail == [str(sweep.recipe), *run.overrides]


def test_a_slurm_sweep_is_checked_for_its_nodes_not_the_login_node(tmp_path, monkeypatch, capsys):
    """The KL ablation generates with vLLM colocated, which needs a GPU: a login node without one prints (and
    submits) its SLURM scripts; only a run on this machine is held to this machine's hardware."""
    import torch

    from rlvr.cli import main
    from rlvr.train.sweep import check_trainer_configs, load_sweep

    monkeypatch.chdir(tmp_path)
    path = (
        tmp_path / "kl.yaml"
    )  # recipes/ablations/kl.yaml with the accelerate script named (it varies by venv)
    text = (ROOT / "recipes" / "ablations" / "kl.yaml").read_text()
    text = text.replace("recipe: recipes/", f"recipe: {ROOT}/recipes/")
    path.write_text(text.replace("slurm:\n", "slurm:\n  accelerate: /opt/venv/bin/accelerate\n"))
    assert main(["sweep", str(path), "--launcher", "slurm", "--dry-run"]) == 0
    assert capsys.readouterr().out.count("#SBATCH --job-name=ablation-kl-beta-") == 2
    if not torch.cuda.is_available():
        with pytest.raises(
            ValueError, match="sweep run beta-0.0: trainer.use_vllm with vllm_mode colocate needs a GPU"
        ):
            check_trainer_configs(load_sweep(path), here=True)
