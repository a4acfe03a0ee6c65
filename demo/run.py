"""`rlvr demo`: task -> pretrained base model -> GRPO with the boundary probe -> distillation control ->
perplexity -> a report of the paper's three links (base, RL and distilled models).

Every stage writes into OUT and is skipped when its output is already there, so a killed demo resumes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from rlvr.demo import task


class Families(NamedTuple):
    """How a demo's problem ids split into families, and the order to show them in."""

    of: Callable[[str], str]
    names: tuple[str, ...]


TINY_FAMILIES = Families(task.family, ("precedence", "chain"))


@dataclass
class DemoConfig:
    out: str = field(
        default="demo_out", metadata={"help": "Where the data, models, run, probe log and report go."}
    )
    quick: bool = field(
        default=False, metadata={"help": "A smaller run of every stage (about 2 minutes; used by the tests)."}
    )
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
    n: int  # n_max of the probe's sequential rule
    stop_at_correct: int | None  # the rule's m (None: uniform n)


# The probe samples each problem until its 16th correct answer (sequential pass@k, exactly unbiased): the
# samples that uniform n = 256 spent on settled problems buy n_max = 1024, a boundary four times as deep.
FULL = Scale(
    held_out=48,
    train_problems=512,
    corpus=40000,
    pretrain_steps=1500,
    grpo_steps=80,
    save_every=20,
    n=1024,
    stop_at_correct=16,
)
QUICK = Scale(
    held_out=8,
    train_problems=64,
    corpus=8000,
    pretrain_steps=400,
    grpo_steps=4,
    save_every=2,
    n=16,
    stop_at_correct=4,
)


def write_data(out: Path, scale: Scale, seed: int) -> tuple[Path, Path]:
    from rlvr.demo.task import needs_precedence, rows, split

    train, held = split(seed, scale.held_out)
    train = [
        e for e in train if needs_precedence(e)
    ]  # RL spends its steps where the reward tells strategies apart
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
    return pretrain(
        path, corpus(train, scale.corpus, seed + 1), scale.pretrain_steps, seed=seed, progress=progress
    )


def model_section(path: str) -> dict:
    """The demos' recipe `model:` block: float32 weights, with eager attention on a GPU (deterministic_attention)."""
    from rlvr.demo.pretrain import deterministic_attention

    section = {"path": path, "dtype": "float32"}
    if attention := deterministic_attention():
        section["attn_implementation"] = attention
    return section


def recipe_for(
    out: Path, scale: Scale, seed: int, train_file: Path, held_file: Path, progress: bool = True
) -> dict:
    """The GRPO recipe the demo runs; written to OUT/recipe.yaml so it can be rerun with `rlvr train`."""
    return {
        "model": model_section(str(out / "base")),
        "data": {
            "data_file": str(train_file),
            "probe_file": str(held_file),
            "template": "plain",
            "chat": "raw",
        },
        "algorithm": "grpo",
        "rewards": {"math": 1.0},
        "trainer": {
            "output_dir": str(out / "rl"),
            "max_steps": scale.grpo_steps,
            "save_steps": scale.save_every,
            "per_device_train_batch_size": 32,
            "num_generations": 8,
            "max_completion_length": 40,
            "temperature": 1.0,
            "learning_rate": 1e-4,
            "lr_scheduler_type": "constant",
            "beta": 0.0,
            "logging_steps": 10,
            "seed": seed,
            "data_seed": seed,
            "save_only_model": True,
            "disable_tqdm": not progress,
            "report_to": ["wandb"],
            # float32 on a GPU too (TRL defaults to bf16 autocast and gradient checkpointing there): the
            # model is tiny, and the demo should train the same way on any machine
            "bf16": False,
            "gradient_checkpointing": False,
        },
        "probe": {
            "enabled": True,
            "n": scale.n,
            "stop_at_correct": scale.stop_at_correct,
            "max_tokens": 40,
            "temperature": 1.0,
            "top_p": 1.0,
            "seed": seed,
            "backend": "hf",
        },
        "logging": {"project": "rlvr-demo", "name": "demo-grpo", "report_to": "wandb"},
    }


def _models(out: Path, distilled: bool):
    """(counts, probe records, stores) of base (probe step 0), RL (last probe) and, if asked, distilled."""
    from rlvr.evaluate.store import SampleStore
    from rlvr.train.probe import probe_history

    probe_dir = out / "rl" / "probe" / "heldout"
    records = probe_history(out / "rl")
    stores = {"base": probe_dir / "step-0", "rl": probe_dir / f"step-{records[-1]['step']}"}
    if distilled:
        stores["distilled"] = out / "distill" / "eval" / "heldout"
    counts = [SampleStore.open_existing(path).counts(label) for label, path in stores.items()]
    return counts, records, list(stores.values())


def comparison(out: Path, distilled: bool = False):
    """(comparison, counts, probe records, stores) of base and RL, with the distilled model when asked."""
    from rlvr.evaluate.report import compare

    counts, records, stores = _models(out, distilled)
    return compare(counts), counts, records, stores


def perplexities(out: Path, stores: dict[str, Path], progress: bool, base: Path | None = None) -> dict:
    """The base model's perplexity on each model's correct answers (up to 8 per problem), with the problem
    of each, keyed by the answering model's label as `rlvr perplexity` writes them; perplexity/perplexity.json
    once done."""
    from rlvr.evaluate.perplexity import store_perplexities

    path = out / "perplexity" / "perplexity.json"
    if path.exists():
        return json.loads(path.read_text())
    base = base or out / "base"
    result: dict = {"model": str(base), "scored": "correct answers", "perplexity": {}, "problems": {}}
    for label, store in stores.items():
        result["problems"][label], result["perplexity"][label] = store_perplexities(
            str(base), store, progress=progress
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result))
    return result


def perplexity_groups(scored: dict, families: Families = TINY_FAMILIES) -> dict[str, list[float]]:
    """Perplexities by answering model and problem family, e.g. 'rl · chain'."""
    groups: dict[str, list[float]] = {}
    for label, values in scored["perplexity"].items():
        for pid, value in zip(scored["problems"][label], values):
            groups.setdefault(f"{label} · {families.of(pid)}", []).append(value)
    return dict(sorted(groups.items(), key=lambda kv: (kv[0].split(" · ")[1], kv[0])))


def perplexity_findings(scored: dict, families: Families = TINY_FAMILIES) -> list[str]:
    from rlvr.evaluate.perplexity import median_interval

    def describe(values: dict[str, list[float]]) -> str:
        parts = []
        for name, v in values.items():
            median, low, high = median_interval(v)
            parts.append(f"{name} {median:.3f} [{low:.3f}, {high:.3f}] ({len(v)})")
        return "; ".join(parts)

    overall = {f"{label}'s": v for label, v in scored["perplexity"].items()}
    return [
        "Median perplexity of the base model on each model's correct answers (95% bootstrap interval, answers): "
        + describe(overall)
        + ".",
        "By family: " + describe(perplexity_groups(scored, families)) + ".",
    ]


def report(
    out: Path,
    progress: bool = False,
    families: Families = TINY_FAMILIES,
    distilled: bool = True,
    base: Path | None = None,
    more_findings: Callable[[dict[str, Path]], list[str]] | None = None,
    steps_verifier: str | None = "arithmetic",
) -> Path:
    """Base (probe step 0), the final RL checkpoint and, when asked, the distilled model at n samples: the pass@k
    chart, coverage sets, the probe over steps, per-family curves, the perplexity chart under `base` (OUT/base by
    default), step-verified pass@k under `steps_verifier` (None: none) and the findings, with
    `more_findings(store by label)` after the comparison's own."""
    from rlvr.evaluate.answer_support import support_findings
    from rlvr.evaluate.cli_compare import _case_studies
    from rlvr.evaluate.plots import box_figure
    from rlvr.evaluate.report import Section, spend_sentences, write_report
    from rlvr.evaluate.timeline import table_rows, timeline_figure, timeline_findings
    from rlvr.tracking import log_comparison
    from rlvr.train.probe import steps_png

    result, counts, records, stores = comparison(out, distilled)
    labelled = dict(zip((c.label for c in counts), stores))
    scored = perplexities(out, labelled, progress, base)
    extra = {
        "pass@k by problem family": family_figure(counts, families),
        "Perplexity of the base model on each model's correct answers": box_figure(
            perplexity_groups(scored, families),
            "perplexity under the base model",
            "base model's perplexity on correct answers, by model and family",
        ),
    }
    steps_note = []
    if steps_verifier and any(c.rule is not None for c in counts):
        steps_verifier = None  # the stop follows correctness, not the steps: no unbiased step-verified pass@k
        steps_note = [
            "Step-verified pass@k is left out: the probe sampled each problem until its "
            f"{counts[0].rule.m}th correct answer, a stop that follows the answers' correctness, not the "
            "steps', so no unbiased step-verified estimate exists; set probe.stop_at_correct to null to "
            "measure it."
        ]
    support, steps, timeline_rows = demo_analyses(out, result, stores, steps_verifier)
    probe = Section(
        "Boundary probe over training steps",
        timeline_findings(timeline_rows),
        table_rows(timeline_rows),
        figures={
            "Boundary probe over training steps": steps_png(
                records, "heldout", "held-out pass@k over GRPO steps"
            ),
            "Per-problem timeline over GRPO steps": timeline_figure(
                timeline_rows, "held-out problems by probe step"
            ),
        },
    )
    html = write_report(
        result,
        out / "report",
        extra_figures=extra,
        case_studies=_case_studies([str(s) for s in stores], result),
        answer_support=support,
        steps=steps,
        sections=[probe, entropy_section(records)]
        + ([Section("Step-verified pass@k", steps_note)] if steps_note else []),
    )
    log_comparison(result, "rlvr-demo", out)
    log_timeline_wandb(out, timeline_rows)
    findings = (
        result.findings
        + spend_sentences(result)
        + support_findings(support)
        + (steps_findings(result, steps) if steps else steps_note)
        + timeline_findings(timeline_rows)
        + entropy_section(records)[1]
        + (more_findings(labelled) if more_findings else [])
        + perplexity_findings(scored, families)
        + family_findings(counts, families)
    )
    (out / "report" / "findings.txt").write_text("\n".join(findings) + "\n")
    return html


def demo_analyses(
    out: Path, result, stores: list[Path], steps_verifier: str | None
) -> tuple[dict, dict | None, list[dict]]:
    """Answer support and step-verified pass@k (under `steps_verifier`; None: none) of the compared models, and
    the probe's per-problem timeline of held-out problems."""
    from rlvr.evaluate.cli_compare import store_analyses
    from rlvr.evaluate.timeline import step_counts, timeline

    support, steps = store_analyses([str(s) for s in stores], result, steps_verifier)
    return support, steps, timeline(step_counts(out / "rl" / "probe" / "heldout"))


def steps_findings(result, steps: dict) -> list[str]:
    from rlvr.evaluate.report import step_verified_section

    return step_verified_section(result, steps)[1]


def entropy_section(records: list[dict]) -> tuple[str, list[str], list[list[str]]]:
    """The policy's mean token entropy on its own probe samples at each step, beside pass@1 and pass@n."""
    rows = [r for r in records if "entropy" in r["metrics"].get("heldout", {})]
    if not rows:
        return "Token entropy over GRPO steps", [], [[""]]
    keys = [k for k in rows[-1]["metrics"]["heldout"] if k.startswith("pass@")]
    first, last = keys[0], keys[-1]
    spent = all("samples" in r["metrics"]["heldout"] for r in rows)
    table = [
        ["step", "mean token entropy (nats)", first, last]
        + (["samples drawn", "uniform n would draw"] if spent else [])
    ] + [
        [
            str(r["step"]),
            f"{r['metrics']['heldout']['entropy']:.3f}",
            f"{r['metrics']['heldout'][first] * 100:.1f}",
            f"{r['metrics']['heldout'][last] * 100:.1f}",
        ]
        + (
            [f"{r['metrics']['heldout']['samples']:,}", f"{r['metrics']['heldout']['uniform_samples']:,}"]
            if spent
            else []
        )
        for r in rows
    ]
    e0, e1 = rows[0]["metrics"]["heldout"]["entropy"], rows[-1]["metrics"]["heldout"]["entropy"]
    sentence = (
        f"The policy's mean token entropy on its own probe samples went from {e0:.3f} nats at step "
        f"{rows[0]['step']} to {e1:.3f} at step {rows[-1]['step']}."
    )
    return "Token entropy over GRPO steps", [sentence], table


def log_timeline_wandb(out: Path, rows: list[dict]) -> None:
    """The per-problem timeline as a W&B table (offline unless WANDB_API_KEY is set)."""
    from rlvr.evaluate.timeline import log_timeline_table
    from rlvr.tracking import init_wandb

    run = init_wandb("rlvr-demo", out, name="timeline")
    log_timeline_table(rows, "heldout", run)
    run.finish()


def by_family(counts, families: Families = TINY_FAMILIES) -> dict[str, list]:
    """Each model's counts split into the task's problem families (precedence, chain)."""
    from rlvr.evaluate.counts import split_by

    groups = split_by(counts, families.of)
    return {name: groups[name] for name in families.names if name in groups}


def family_figure(counts, families: Families = TINY_FAMILIES) -> bytes:
    """One pass@k panel per family, each model in the same colour in every panel."""
    from dataclasses import replace

    from rlvr.evaluate.plots import panels_passk_figure
    from rlvr.evaluate.stats import bootstrap_curve

    panels = {
        name: [replace(bootstrap_curve(c), label=c.label) for c in cs]
        for name, cs in by_family(counts, families).items()
    }
    return panels_passk_figure(panels, "pass@k by problem family")


def family_numbers(counts, families: Families = TINY_FAMILIES) -> dict[str, dict]:
    """Per family and model: pass@1, pass@k at the largest k, and how many problems it solves at all
    (keys `{label}_pass@1`, `{label}_pass@{k}`, `{label}_solved`)."""
    out = {}
    for name, subsets in by_family(counts, families).items():
        curves = {c.label: c.matrix().mean(axis=0) for c in subsets}
        k = min(len(curve) for curve in curves.values())
        numbers: dict = {"problems": len(subsets[0].problems), "k": k}
        for c in subsets:
            numbers[f"{c.label}_pass@1"] = float(curves[c.label][0])
            numbers[f"{c.label}_pass@{k}"] = float(curves[c.label][k - 1])
            numbers[f"{c.label}_solved"] = int((c.correct > 0).sum())
        out[name] = numbers
    return out


def _family_row(numbers: dict, labels: list[str], key: str, percent: bool = True) -> str:
    return " / ".join(
        f"{numbers[f'{label}_{key}'] * 100:.1f}%" if percent else str(numbers[f"{label}_{key}"])
        for label in labels
    )


def family_findings(counts, families: Families = TINY_FAMILIES) -> list[str]:
    labels = [c.label for c in counts]
    lines = []
    for name, f in family_numbers(counts, families).items():
        k = f["k"]
        lines.append(
            f"{name} problems ({f['problems']}), {' / '.join(labels)}: pass@1 {_family_row(f, labels, 'pass@1')}, "
            f"pass@{k} {_family_row(f, labels, f'pass@{k}')}, solved at all {_family_row(f, labels, 'solved', False)}."
        )
    return lines


def hide_progress_bars() -> None:
    """--no-progress: also transformers' and the Hub's own bars (loading, saving), here and in child processes."""
    import os

    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    from transformers.utils import logging

    logging.disable_progress_bar()


def start(progress: bool) -> float:
    """Every demo's environment: W&B offline (no account needed), bars on or off; returns the start time."""
    import os

    os.environ.setdefault("WANDB_MODE", "offline")
    if not progress:
        hide_progress_bars()
    return time.perf_counter()


def task_and_recipe(out: Path, quick: bool, seed: int, progress: bool, tag: str) -> Path:
    """The demo's task, base model and GRPO recipe in OUT (each reused when there), for the demos that sweep
    over that recipe; returns OUT/recipe.yaml."""
    import yaml

    scale = QUICK if quick else FULL
    print(f"[{tag}] 1/3 the demo's task and base model -> {out / 'data'}, {out / 'base'}", flush=True)
    train_file, held_file = write_data(out, scale, seed)
    base_model(out, scale, seed, progress)
    recipe_file = out / "recipe.yaml"
    recipe = recipe_for(out, scale, seed, train_file, held_file, progress)
    recipe_file.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return recipe_file


def train_rl(out: Path, raw: dict) -> None:
    """Write the GRPO recipe to OUT/recipe.yaml (rerun it with `rlvr train`) and train, unless OUT/rl/final is there."""
    import yaml

    from rlvr.train.build import train
    from rlvr.train.recipe import validate

    (out / "recipe.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    if not (out / "rl" / "final").exists():
        train(validate(raw, str(out / "recipe.yaml")))


def finish(tag: str, findings: Path, started: float, result: Path) -> Path:
    """Print the findings (when there are any) and the time taken; returns `result`."""
    if findings.exists():
        for line in findings.read_text().splitlines():
            print(f"  {line}")
    print(f"[{tag}] done in {time.perf_counter() - started:.0f}s: {result}", flush=True)
    return result


def _shown(path: Path) -> str:
    """`path` relative to the working directory when under it (as a user would type it), else absolute."""
    import os

    try:
        return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)
    except ValueError:  # another drive
        return str(path)


def reproduce_commands(
    out: Path, raw: dict, problems: str = "problems.jsonl", base: Path | None = None
) -> list[str]:
    """The `rlvr eval` and `rlvr compare` commands that probe the demo's base (OUT/base unless `base`) and RL
    models on `problems` (a JSONL of id, problem, answer) with the probe's prompt format and sampling settings."""
    probe, data = raw["probe"], raw["data"]
    settings = (
        f"--template {data['template']} --chat {data['chat']} --max-tokens {probe['max_tokens']} "
        f"--temperature {probe['temperature']} --top-p {probe['top_p']} --seed {probe['seed']} --n {probe['n']}"
    )
    if probe.get("stop_at_correct"):  # the probe's sequential rule
        settings += f" --stop-at-correct {probe['stop_at_correct']}"
        if probe.get("min_samples"):
            settings += f" --min-samples {probe['min_samples']}"
    dtype = probe.get("dtype") or raw["model"].get(
        "dtype"
    )  # the probe samples in the model's dtype unless told
    if dtype in ("bfloat16", "float16", "float32"):
        settings += " --dtype " + {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32"}[dtype]
    models = {"base": base or out / "base", "rl": out / "rl" / "final"}
    commands = [
        f"rlvr eval --model {_shown(path)} --data-file {problems} {settings} --out runs/mine/{label}"
        for label, path in models.items()
    ]
    return commands + ["rlvr compare runs/mine/base runs/mine/rl --labels base,rl --out reports/mine"]


def print_reproduce(out: Path, raw: dict, base: Path | None = None) -> None:
    print("[demo] the probe on your own problems (a JSONL of id, problem, answer):", flush=True)
    for command in reproduce_commands(out, raw, base=base):
        print(f"  {command}", flush=True)


def run_demo(cfg: DemoConfig) -> Path:
    started = start(cfg.progress)
    out = Path(cfg.out).resolve()
    scale = QUICK if cfg.quick else FULL
    print(
        f"[demo] 1/6 task: {scale.held_out} held-out problems, {scale.train_problems} for RL -> {out / 'data'}",
        flush=True,
    )
    train_file, held_file = write_data(out, scale, cfg.seed)
    print(
        f"[demo] 2/6 base model: pretraining {scale.pretrain_steps} steps on worked solutions -> {out / 'base'}",
        flush=True,
    )
    base_model(out, scale, cfg.seed, cfg.progress)
    raw = recipe_for(out, scale, cfg.seed, train_file, held_file, cfg.progress)
    print(
        f"[demo] 3/6 GRPO for {scale.grpo_steps} steps, probing pass@1..{scale.n} at step 0 and every "
        f"{scale.save_every} steps, each problem until its {scale.stop_at_correct}th correct sample -> {out / 'rl'}",
        flush=True,
    )
    train_rl(out, raw)
    print(
        f"[demo] 4/6 distillation control: SFT of the base on a teacher's solutions ({scale.grpo_steps} steps), "
        f"sampled like the probe -> {out / 'distill'}",
        flush=True,
    )
    from rlvr.demo.distill import distill_and_evaluate

    distill_and_evaluate(out, raw, scale.train_problems, cfg.seed, scale.held_out, cfg.progress)
    print(
        "[demo] 5/6 perplexity of the base on each model's correct answers; 6/6 report of base, RL, distilled",
        flush=True,
    )
    finish("demo", out / "report" / "findings.txt", started, report(out, cfg.progress))
    print_reproduce(out, raw)
    return out / "report" / "report.html"
