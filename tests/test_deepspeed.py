"""DeepSpeed ZeRO-2 and ZeRO-3 for real: two CPU processes over gloo, through the shipped accelerate configs
(launch/accelerate/zero2.yaml, zero3.yaml) with one override on a CPU (`--mixed_precision no`: rlvr trains in
fp32 there), SFT on a model large enough that ZeRO-3 shards it under DeepSpeed's own persistence threshold,
the in-process probe on, and final weights compared with DDP's. A hang fails within minutes: each process
dumps its stacks and exits (faulthandler, tests/zero_train.py) and the launcher is killed past a timeout."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("deepspeed")  # rlvr[deepspeed]; `make` installs it, so CI always runs these tests

ROOT = Path(__file__).resolve().parents[1]
ENTRY = Path(__file__).with_name("zero_train.py")
BIN = Path(sys.executable).parent
HANG_S = 420  # per process (faulthandler); the launcher gets a minute more


@pytest.fixture(scope="module")
def task(tmp_path_factory) -> Path:
    """SFT on the tiny arithmetic task (its loss, unlike GRPO's on an untrained model that never earns a
    reward, moves the weights, so agreeing with DDP means something), with the boundary probe on. Hidden size
    320 puts every weight matrix (>= 102,400 elements) above ZeRO-3's default persistence threshold
    (100,000), so each rank holds half of it."""
    from rlvr.tiny import save_tiny_model
    from rlvr.train.tiny_task import make_problems

    out = tmp_path_factory.mktemp("zero-task")
    for name, rows in (("train.jsonl", make_problems(16, seed=1)), ("probe.jsonl", make_problems(4, seed=2))):
        (out / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    corpus = [f"Question: {r['problem']}\nAnswer:{r['completion']}" for r in make_problems(200, seed=3)]
    save_tiny_model(out / "model", corpus, vocab_size=400, hidden_size=320, layers=2, heads=4)
    raw = yaml.safe_load((ROOT / "recipes" / "tiny" / "sft.yaml").read_text())
    raw["model"]["path"] = str(out / "model")
    raw["data"].update(data_file=str(out / "train.jsonl"), probe_file=str(out / "probe.jsonl"))
    raw["trainer"].update(max_steps=2, save_steps=2, disable_tqdm=True)
    raw["probe"] = {"enabled": True, "n": 4, "max_tokens": 16, "temperature": 1.0, "seed": 0}
    (out / "sft.yaml").write_text(yaml.safe_dump(raw))
    return out


def launch(command: list[str], out: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "WANDB_MODE": "offline"}
    env["RLVR_HANG_S"] = str(HANG_S)
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        log, _ = process.communicate(timeout=HANG_S + 60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        log, _ = process.communicate()
        pytest.fail(f"{command[:4]} still running after {HANG_S + 60} s:\n{log[-6000:]}")
    assert process.returncode == 0, log[-6000:]
    (out.parent / f"{out.name}.log").write_text(log)


def train(task: Path, out: Path, launcher: list[str], probe: bool) -> Path:
    launch(
        [
            *launcher,
            str(ENTRY),
            str(task / "sft.yaml"),
            f"trainer.output_dir={out}",
            f"probe.enabled={str(probe).lower()}",
        ],
        out,
    )
    return out


def weights(run: Path, final: str = "final") -> dict:
    from safetensors.torch import load_file

    return load_file(str(run / final / "model.safetensors"))


@pytest.fixture(scope="module")
def ddp(task) -> Path:
    torchrun = shutil.which("torchrun", path=str(BIN)) or shutil.which("torchrun")
    return train(
        task, task / "ddp", [torchrun, "--nproc_per_node", "2", "--master_port", "29561"], probe=False
    )


@pytest.mark.parametrize(("stage", "port"), [(2, 29562), (3, 29563)])
def test_zero_on_two_cpu_processes_probes_and_matches_ddp(task, ddp, stage, port):
    accelerate = [
        str(BIN / "accelerate"),
        "launch",
        "--config_file",
        str(ROOT / "launch" / "accelerate" / f"zero{stage}.yaml"),
    ]
    accelerate += ["--num_processes", "2", "--mixed_precision", "no", "--main_process_port", str(port)]
    run = train(task, task / f"zero{stage}", accelerate, probe=True)
    shards = sorted(p.name for p in (run / "checkpoint-2").glob("global_step2/*optim_states.pt"))
    assert len(shards) == 2, shards  # DeepSpeed's checkpoint: one optimizer partition per rank
    held = [json.loads((run / f"held-{rank}.json").read_text()) for rank in (0, 1)]
    full = held[0]["full"]
    if stage == 3:  # parameters sharded: the two ranks together hold each element about once
        assert all(h["held"] < 0.6 * full for h in held) and sum(h["held"] for h in held) >= full
    else:
        assert all(h["held"] == full for h in held)
    steps = [json.loads(line)["step"] for line in (run / "probe.jsonl").read_text().splitlines()]
    assert steps == [0, 2]  # rank 0 probed at the start and at the save, and training went on
    start = weights(task / "model", "")
    reference, trained = weights(ddp), weights(run)
    assert set(reference) <= set(trained)  # DeepSpeed's save may also write the tied lm_head: the embedding
    if "lm_head.weight" in trained and "lm_head.weight" not in reference:
        assert (trained["lm_head.weight"] == trained["model.embed_tokens.weight"]).all()
    moved = max((reference[k] - start[k]).abs().max().item() for k in reference)
    assert moved > 1e-6  # DDP's training changed the weights, so agreeing with it means something
    gap = max((trained[k] - reference[k]).abs().max().item() for k in reference)
    assert gap < 1e-5, f"ZeRO-{stage} final weights differ from DDP's by {gap}"
