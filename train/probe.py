"""The boundary probe: pass@k of each checkpoint on held-out problems, over training steps.

Step 0 is the recipe's starting model; every later point is a saved `checkpoint-N`. Each point is a
plain `rlvr eval` into RUN_DIR/probe/<dataset>/step-N (so it resumes, and equals a standalone eval with
the same seed), summarised into RUN_DIR/probe.jsonl, W&B (x-axis: the global step) and RUN_DIR/probe.png.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from rlvr.train.recipe import Recipe, RecipeError

PROBE_LOG = "probe.jsonl"
RUN_RECIPE = "recipe.yaml"
WANDB_RUN_FILE = "wandb_run.json"


def probe_targets(recipe: Recipe) -> list[tuple[str, dict]]:
    """(name, data arguments for EvalConfig) per probe dataset: benchmark names or data files."""
    entries = list(recipe.probe.datasets) or ([recipe.data.probe_file] if recipe.data.probe_file else [])
    if not entries:
        raise RecipeError("the probe needs held-out problems: set data.probe_file or probe.datasets")
    from rlvr.data import DATASETS

    targets = []
    for entry in entries:
        if entry in DATASETS:
            targets.append((entry, {"dataset": entry}))
        else:
            targets.append((Path(entry).stem, {"data_file": str(entry)}))
    return targets


def probe_ks(recipe: Recipe) -> list[int]:
    from rlvr.evaluate.passk import log2_ks

    return sorted(recipe.probe.ks or log2_ks(recipe.probe.n))  # ks within [1, n]: checked with the recipe


def grader_name(recipe: Recipe) -> str | None:
    """The probe grades with the run's own grader (or `probe.reward`), never a different notion of correct. A
    run trained on a control reward (random, format_only, wrong_label) alone is graded by the true grader of
    its task's kind (None: math for answers, code for tests, as `rlvr eval` picks it)."""
    from rlvr.rewards.controls import CONTROL_PROBE_GRADER
    from rlvr.rewards.registry import is_control, names_grader
    from rlvr.train.recipe import probe_grader

    names = [str(name) for name in recipe.rewards]
    if (
        recipe.probe.reward is None
        and any(is_control(name) for name in names)
        and not any(names_grader(name) for name in names if not is_control(name))
    ):
        return CONTROL_PROBE_GRADER
    return probe_grader(recipe.rewards, recipe.probe.reward)


def read_probe_log(run_dir: str | Path) -> list[dict]:
    path = Path(run_dir) / PROBE_LOG
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def probe_history(run_dir: str | Path) -> list[dict]:
    """The probe log by step, one record per step (a step probed again keeps its last record)."""
    return sorted({r["step"]: r for r in read_probe_log(run_dir)}.values(), key=lambda r: r["step"])


def eval_config(recipe: Recipe, step: int, model_path: str, name: str, data: dict, progress: bool = True):
    from rlvr.evaluate.runner import EvalConfig

    p = recipe.probe
    return EvalConfig(
        model=str(model_path),
        out=str(recipe.output_dir / "probe" / name / f"step-{step}"),
        template=recipe.data.template,
        template_file=recipe.data.template_file,
        system_prompt=recipe.data.system_prompt,
        chat=recipe.data.chat,
        n=p.n,
        stop_at_correct=p.stop_at_correct,
        min_samples=p.min_samples,
        temperature=p.temperature,
        top_p=p.top_p,
        top_k=p.top_k,
        min_p=p.min_p,
        stop=list(p.stop),
        max_tokens=p.max_tokens,
        seed=p.seed,
        backend=p.backend,
        dtype="auto" if p.backend == "openai" else p.dtype or recipe.model.dtype,  # a server's is its own
        reward=grader_name(recipe),
        samples_per_call=p.samples_per_call,
        limit=p.limit,
        **({"base_url": p.base_url, "concurrency": p.concurrency} if p.backend == "openai" else {}),
        label=f"step-{step}",
        progress=progress,
        **data,
    )


def probe_point(recipe: Recipe, step: int, model_path: str | Path, progress: bool = True) -> dict:
    """Evaluate one model on every probe dataset; append one line to probe.jsonl and return it."""
    import torch

    from rlvr.evaluate.runner import run_eval
    from rlvr.evaluate.stats import coverage, sampling_efficiency_gap
    from rlvr.evaluate.store import SampleStore
    from rlvr.tracking import append_jsonl

    ks = probe_ks(recipe)
    record: dict = {"step": step, "model": str(model_path), "metrics": {}}
    # Sampling seeds the global RNGs; the trainer's own stream must not notice that a probe ran.
    py_state = random.getstate()
    import numpy as np

    np_state = np.random.get_state()
    with torch.random.fork_rng(
        devices=list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    ):
        for name, data in probe_targets(recipe):
            cfg = eval_config(recipe, step, str(model_path), name, data, progress)
            results = run_eval(cfg)
            counts = SampleStore.open_existing(cfg.out).counts()
            curve = results["pass_at_k"]
            metrics = {f"pass@{k}": curve[str(k)] for k in ks}
            floor = results.get("chance_floor")  # guessing from its own answers (none for code)
            if floor:
                metrics.update({f"chance_floor@{k}": floor[str(k)] for k in ks})
            solved = coverage([counts])["solved"][counts.label]["count"]
            metrics["coverage"] = solved / len(counts.problems)
            spend = results["spend"]
            metrics["samples"] = spend["samples"]  # drawn, against uniform n's cost
            metrics["tokens"] = spend["tokens"]
            metrics["uniform_samples"] = spend["uniform_samples"]
            if cfg.backend != "openai":  # through a server, scoring would load the model here: left out
                metrics["entropy"] = policy_entropy(str(model_path), cfg.out)
            step0 = recipe.output_dir / "probe" / name / "step-0"
            if (step0 / "results.json").exists():
                base = SampleStore.open_existing(step0).counts()
                metrics["delta_se"] = sampling_efficiency_gap(counts, base, k=max(ks), resamples=200)[
                    "delta_se"
                ]
            record["metrics"][name] = metrics
    random.setstate(py_state)
    np.random.set_state(np_state)
    append_jsonl(recipe.output_dir / PROBE_LOG, record)
    draw_probe(recipe.output_dir)
    from rlvr.evaluate.timeline import write_timeline

    write_timeline(recipe.output_dir, log_wandb=True)
    return record


def policy_entropy(model_path: str, store_dir: str | Path) -> float:
    """Mean token entropy of the probed model over its own samples (STORE/entropy.json, kept on a resume)."""
    from rlvr.evaluate.answer_support import token_entropy
    from rlvr.evaluate.entropy import store_entropy
    from rlvr.models import resolve_model

    done = token_entropy(store_dir)
    return (
        done
        if done is not None
        else store_entropy(resolve_model(model_path, False), store_dir)["mean_token_entropy"]
    )


def probe_line(metrics: dict) -> str:
    """One probe point for the console: rates to 3 decimals, then samples drawn against uniform n."""
    rates = ", ".join(f"{k}={v:.3f}" for k, v in metrics.items() if isinstance(v, float))
    if "samples" not in metrics:
        return rates
    return (
        f"{rates}; {metrics['samples']:,} samples ({metrics['tokens']:,} tokens) drawn, uniform n "
        f"{metrics['uniform_samples']:,}"
    )


def wandb_payload(record: dict) -> dict:
    """probe/<dataset>/<metric> plus the step axis the HF W&B callback defines."""
    payload = {
        f"probe/{name}/{key}": value
        for name, metrics in record["metrics"].items()
        for key, value in metrics.items()
    }
    payload["train/global_step"] = record["step"]
    return payload


def steps_png(records: list[dict], name: str, title: str) -> bytes:
    """pass@1, a middle k and the largest k of one probe dataset over steps."""
    from rlvr.evaluate.plots import steps_figure

    rows = [r for r in records if name in r["metrics"]]
    keys = [k for k in rows[-1]["metrics"][name] if k.startswith("pass@")]
    shown = sorted({keys[0], keys[len(keys) // 2], keys[-1]}, key=lambda k: int(k[5:]))
    series = {key: [r["metrics"][name][key] for r in rows] for key in shown}
    entropy = [(r["step"], r["metrics"][name]["entropy"]) for r in rows if "entropy" in r["metrics"][name]]
    return steps_figure(
        [r["step"] for r in rows], series, title, entropy=tuple(map(list, zip(*entropy))) or None
    )


def draw_probe(run_dir: str | Path) -> list[Path]:
    """RUN_DIR/probe.png (and probe-<dataset>.png with several datasets): pass@1 and pass@k over steps."""
    run_dir = Path(run_dir)
    records = probe_history(run_dir)
    if not records:
        return []
    names = list(records[-1]["metrics"])
    written = []
    for name in names:
        path = run_dir / ("probe.png" if len(names) == 1 else f"probe-{name}.png")
        path.write_bytes(steps_png(records, name, f"boundary probe: {name}"))
        written.append(path)
    return written


def probed_steps(run_dir: str | Path) -> set[int]:
    return {int(r["step"]) for r in read_probe_log(run_dir)}


def save_run_recipe(recipe: Recipe) -> Path:
    """The resolved recipe beside the checkpoints, so `rlvr probe --watch RUN_DIR` needs nothing else."""
    import dataclasses

    import yaml

    raw = {k: v for k, v in dataclasses.asdict(recipe).items() if k != "source"}
    path = recipe.output_dir / RUN_RECIPE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path
