"""SLURM for real, on the one-node cluster .ci/slurm-up starts: a sweep submitted from outside the checkout by a
venv that is not activated trains every grid point to final/ with its probe, and an eval array job fills one
store equal to a local `rlvr eval`. Skipped where sbatch is missing, but a failure in CI (CI=true)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
WAIT_S = 900  # a job that hangs fails the test in minutes, never at CI's limit


@pytest.fixture(scope="module", autouse=True)
def cluster():
    """A cluster that answers, or a skip (a failure in CI, which starts one with .ci/slurm-up)."""
    missing = None
    if not shutil.which("sbatch"):
        missing = "sbatch is not installed"
    else:
        nodes = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=30)
        if not re.search(r"^(idle|mixed|allocated)", nodes.stdout, re.M):
            missing = f"no SLURM node is up ({(nodes.stdout + nodes.stderr).strip()!r})"
    if missing:
        message = f"{missing}: start a one-node cluster with .ci/slurm-up (as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def unactivated_env() -> dict:
    """The environment of a shell that never activated the venv: its bin/ is not on PATH."""
    path = [
        p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p).resolve() != VENV_BIN.resolve()
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(PATH=os.pathsep.join(path), OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    env.update(WANDB_MODE="offline", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return env


def wait_for(jobs: list[str], logs: list[Path]) -> None:
    """Until squeue no longer lists the jobs; past WAIT_S they are cancelled and the test fails with their logs."""
    deadline = time.monotonic() + WAIT_S
    while subprocess.run(
        ["squeue", "-h", "-j", ",".join(jobs)], capture_output=True, text=True
    ).stdout.strip():
        if time.monotonic() > deadline:
            subprocess.run(["scancel", *jobs])
            tails = "\n".join(f"== {p}\n{p.read_text()[-2000:] if p.exists() else '(none)'}" for p in logs)
            pytest.fail(f"SLURM jobs {jobs} still queued or running after {WAIT_S} s\n{tails}")
        time.sleep(2)


def test_sweep_from_outside_the_checkout_trains_every_point_and_reports(tmp_path):
    from rlvr.train.tiny_task import write_task

    write_task(tmp_path / "runs" / "tiny", train=16, probe=4)  # where recipes/tiny/grpo.yaml looks
    recipes = tmp_path / "recipes" / "tiny"  # a copy of the recipes and nothing else: no launch/ here
    recipes.mkdir(parents=True)
    for name in ("sweep.yaml", "grpo.yaml"):
        shutil.copy(ROOT / "recipes" / "tiny" / name, recipes / name)
    env = unactivated_env()
    assert shutil.which("accelerate", path=env["PATH"]) != str(VENV_BIN / "accelerate")
    command = [
        str(VENV_BIN / "rlvr"),
        "sweep",
        "recipes/tiny/sweep.yaml",
        "trainer.max_steps=1",
        "trainer.disable_tqdm=true",
        "probe.n=4",
        "--launcher",
        "slurm",
    ]
    submitted = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert submitted.returncode == 0, submitted.stderr[-3000:]
    out = submitted.stdout
    jobs = re.search(r"submitted 4 SLURM jobs: ([\d, ]+)", out).group(1).split(", ")
    assert f"squeue -j {','.join(jobs)}" in out
    logs = [tmp_path / p for p in re.findall(r"log (\S+slurm-\d+\.out)", out)]
    assert len(logs) == 4 and "rlvr sweep recipes/tiny/sweep.yaml --report" in out
    wait_for(jobs, logs)
    runs = sorted((tmp_path / "runs" / "tiny" / "sweep").glob("beta-*"))
    assert len(runs) == 4
    for run, log in zip(runs, sorted(logs)):
        text = log.read_text()
        assert (run / "final" / "model.safetensors").exists(), text[-3000:]
        steps = [yaml.safe_load(line)["step"] for line in (run / "probe.jsonl").read_text().splitlines()]
        assert steps == [0, 1], text[-3000:]
    report = subprocess.run(
        [*command[:3], "--report"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert report.returncode == 0, report.stderr[-3000:]
    table = (tmp_path / "runs" / "tiny" / "sweep" / "report" / "sweep.md").read_text()
    assert all(f"| {run.name} |" in table for run in runs)


def test_eval_array_job_fills_one_store_equal_to_a_local_eval(tiny_model_dir, data_file, full_run, tmp_path):
    from importlib.resources import files

    from store_helpers import eval_cmd, same_results, snapshot

    local = eval_cmd(tiny_model_dir, data_file, full_run)
    flags = local[local.index("--n") : local.index("--out")]  # the same sampling settings as the local run
    template = Path(str(files("rlvr.launch"))) / "slurm" / "eval_array.sbatch"  # as installed with rlvr
    out = tmp_path / "store"
    env = {**unactivated_env(), "RLVR": str(VENV_BIN / "rlvr")}
    sbatch = ["sbatch", "--parsable", "--array=0-1", "--gpus-per-node=0", "--cpus-per-task=1"]
    sbatch += ["--output", str(tmp_path / "slurm-%A_%a.out"), str(template)]
    job = subprocess.run(
        [*sbatch, tiny_model_dir, data_file, str(out), *flags],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    wait_for([job], sorted(tmp_path.glob("slurm-*.out")))
    logs = "\n".join(p.read_text()[-1500:] for p in sorted(tmp_path.glob("slurm-*.out")))
    assert sorted(p.name for p in out.glob("samples*.jsonl")) == [
        "samples.shard-0-of-2.jsonl",
        "samples.shard-1-of-2.jsonl",
    ], logs
    assert snapshot(out) == snapshot(full_run)
    assert same_results(out, full_run), logs
