"""`rlvr demo`: task -> pretrained base model -> GRPO with the boundary probe -> base-versus-RL report.

Every stage writes into OUT and is skipped when its output is already there, so a killed demo resumes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class DemoConfig:
    out: str = field(default="demo_out", metadata={"help": "Where the data, models, run, probe log and report go."})
    quick: bool = field(default=False, metadata={"help": "A smaller run of every stage (about 2 minutes; used by the tests)."})
    seed: int = field(default=0, metadata={"help": "Seeds the task, pretraining, GRPO and sampling."})
    progress: bool = field(default=True, metadata={"help": "Show progress bars."})


@dataclass(frozen=True)
class Scale:
    held_out: int
    train_problems: int
    corpus: int
    pretrain_steps: int
    grpo_steps: int
    save_every: int
    n: int


FULL = Scale(held_out=48, train_problems=512, corpus=40000, pretrain_steps=1500, grpo_steps=80, save_every=20, n=256)
QUICK = Scale(held_out=8, train_problems=64, corpus=8000, pretrain_steps=400, grpo_steps=4, save_every=2, n=16)


def write_data(out: Path, scale: Scale, seed: int) -> tuple[Path, Path]:
    from rlvr.demo.task import needs_precedence, rows, split

    train, held = split(seed, scale.held_out)
    train = [e for e in train if needs_precedence(e)]  # RL spends its steps where the reward tells strategies apart
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    train_file, held_file = data / "train.jsonl", data / "heldout.jsonl"
    import random

    picked = random.Random(seed).sample(train, min(scale.train_problems, len(train)))
    for path, items in ((train_file, picked), (held_file, held)):
        path.write_text("".join(json.dumps(r) + "\n" for r in rows(items)))
    return train_file, held_file


def base_model(out: Path, scale: Scale, seed: int, progress: bool) -> Path:
    from rlvr.demo.pretrain import pretrain
    from rlvr.demo.task import corpus, split

    path = out / "base"
    if (path / "model.safetensors").exists():
        return path
    train, _ = split(seed, scale.held_out)  # held-out problems never appear in pretraining
    return pretrain(path, corpus(train, scale.corpus, seed + 1), scale.pretrain_steps, seed=seed, progress=progress)


def recipe_for(out: Path, scale: Scale, seed: int, train_file: Path, held_file: Path) -> dict:
    """The GRPO recipe the demo runs; written to OUT/recipe.yaml so it can be rerun with `rlvr train`."""
    return {
        "model": {"path": str(out / "base"), "dtype": "float32"},
        "data": {"data_file": str(train_file), "probe_file": str(held_file), "template": "plain", "chat": "raw"},
        "algorithm": "grpo",
        "rewards": {"math": 1.0},
        "trainer": {"output_dir": str(out / "rl"), "max_steps": scale.grpo_steps, "save_steps": scale.save_every,
                    "per_device_train_batch_size": 32, "num_generations": 8, "max_completion_length": 40,
                    "temperature": 1.0, "learning_rate": 1e-4, "lr_scheduler_type": "constant", "beta": 0.0,
                    "logging_steps": 10, "seed": seed, "data_seed": seed, "save_only_model": True,
                    "disable_tqdm": False, "report_to": ["wandb"]},
        "probe": {"enabled": True, "n": scale.n, "max_tokens": 40, "temperature": 1.0, "top_p": 1.0, "seed": seed,
                  "backend": "hf"},
        "logging": {"project": "rlvr-demo", "name": "demo-grpo", "report_to": "wandb"},
    }


def comparison(out: Path):
    """(base-versus-RL comparison, their counts, the probe records) of one demo directory."""
    from rlvr.evaluate.report import compare
    from rlvr.evaluate.store import SampleStore
    from rlvr.train.probe import probe_history

    probe_dir = out / "rl" / "probe" / "heldout"
    records = probe_history(out / "rl")
    last = records[-1]["step"]
    stores = [probe_dir / "step-0", probe_dir / f"step-{last}"]
    counts = [SampleStore.open_existing(stores[0]).counts("base"), SampleStore.open_existing(stores[1]).counts("rl")]
    return compare(counts), counts, records, stores


def report(out: Path) -> Path:
    """Base (probe step 0) against the final RL checkpoint at n samples, plus the probe over steps."""
    from rlvr.evaluate.cli_compare import _case_studies
    from rlvr.evaluate.report import write_report
    from rlvr.train.probe import steps_png

    result, counts, records, stores = comparison(out)
    extra = {"Boundary probe over training steps": steps_png(records, "heldout", "held-out pass@k over GRPO steps"),
             "pass@k by problem family": family_figure(counts)}
    html = write_report(result, out / "report", extra_figures=extra,
                        case_studies=_case_studies([str(s) for s in stores], result))
    from rlvr.tracking import log_comparison

    log_comparison(result, "rlvr-demo", out)
    (out / "report" / "findings.txt").write_text("\n".join(result.findings + family_findings(counts)) + "\n")
    return html


def by_family(counts) -> dict[str, list]:
    """Each model's counts split into the task's problem families (precedence, chain)."""
    from rlvr.demo.task import family

    out: dict[str, list] = {}
    for c in counts:
        for name in ("precedence", "chain"):
            ids = [p for p in c.problems if family(p) == name]
            if ids:
                out.setdefault(name, []).append(c.subset(ids))
    return out


def family_figure(counts) -> bytes:
    from dataclasses import replace

    from rlvr.evaluate.plots import passk_figure
    from rlvr.evaluate.stats import bootstrap_curve

    curves = [replace(bootstrap_curve(c), label=f"{c.label} · {name}") for name, cs in by_family(counts).items() for c in cs]
    return passk_figure(curves, title="pass@k by problem family")


def family_numbers(counts) -> dict[str, dict]:
    """Per family, base and RL: pass@1, pass@k at the largest k, and how many problems each solves at all."""
    from rlvr.evaluate.passk import mean_pass_at_k

    out = {}
    for name, (base, rl) in by_family(counts).items():
        b, r = mean_pass_at_k(base.n, base.correct), mean_pass_at_k(rl.n, rl.correct)
        k = len(b)
        out[name] = {"problems": len(base.problems), "k": k, "base_pass@1": float(b[0]), "rl_pass@1": float(r[0]),
                     f"base_pass@{k}": float(b[-1]), f"rl_pass@{k}": float(r[-1]),
                     "base_solved": int((base.correct > 0).sum()), "rl_solved": int((rl.correct > 0).sum())}
    return out


def family_findings(counts) -> list[str]:
    lines = []
    for name, f in family_numbers(counts).items():
        k = f["k"]
        lines.append(f"{name} problems ({f['problems']}): pass@1 {f['base_pass@1'] * 100:.1f}% -> {f['rl_pass@1'] * 100:.1f}%, "
                     f"pass@{k} {f[f'base_pass@{k}'] * 100:.1f}% -> {f[f'rl_pass@{k}'] * 100:.1f}%, solved at all "
                     f"{f['base_solved']} -> {f['rl_solved']}.")
    return lines


def run_demo(cfg: DemoConfig) -> Path:
    import os

    import yaml

    from rlvr.train.build import train
    from rlvr.train.recipe import validate

    os.environ.setdefault("WANDB_MODE", "offline")  # the demo never needs an account
    started = time.perf_counter()
    out = Path(cfg.out).resolve()
    scale = QUICK if cfg.quick else FULL
    print(f"[demo] 1/4 task: {scale.held_out} held-out problems, {scale.train_problems} for RL -> {out / 'data'}", flush=True)
    train_file, held_file = write_data(out, scale, cfg.seed)
    print(f"[demo] 2/4 base model: pretraining {scale.pretrain_steps} steps on worked solutions -> {out / 'base'}", flush=True)
    base_model(out, scale, cfg.seed, cfg.progress)
    raw = recipe_for(out, scale, cfg.seed, train_file, held_file)
    (out / "recipe.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    print(f"[demo] 3/4 GRPO for {scale.grpo_steps} steps, probing pass@1..{scale.n} at step 0 and every "
          f"{scale.save_every} steps -> {out / 'rl'}", flush=True)
    if not (out / "rl" / "final").exists():
        train(validate(raw, str(out / "recipe.yaml")))
    print("[demo] 4/4 compare base and RL", flush=True)
    html = report(out)
    for line in (out / "report" / "findings.txt").read_text().splitlines():
        print(f"  {line}")
    print(f"[demo] done in {time.perf_counter() - started:.0f}s: {html}", flush=True)
    return html
