"""`rlvr demo --model smollm2`: the paper's experiment on a real pretrained model, SmolLM2-135M-Instruct.

Stages, each skipped when its output exists (a killed demo resumes): 1 the task (`real_task`: sums and
differences RL trains on, word problems it never sees), 2 the base (the GGUF converted once, cached), 3 GRPO
with the math grader on prompts rendered by the model's own chat template, the boundary probe at step 0 and at
each checkpoint, 4 the base model's perplexity on each model's correct answers, 5 the report of base against
the final checkpoint. There is no distillation stage: its SFT and its own n = 256 evaluation would not fit the
budget of 30 minutes on 2 CPU cores (see `REAL` for the sizes chosen to fit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rlvr.demo import real_task
from rlvr.demo.run import Families, model_section

REAL_FAMILIES = Families(real_task.family, real_task.FAMILIES)


@dataclass(frozen=True)
class RealScale:
    held_out_per_family: int
    train_problems: int
    grpo_steps: int
    save_every: int
    rollouts: int  # completions per prompt (GRPO's group)
    prompts_per_step: int
    n: int  # probe samples per problem: n_max of the sequential rule
    stop_at_correct: int | None  # the rule's m: each problem sampled until its m-th correct answer
    max_tokens: int  # for rollouts and probe samples alike
    temperature: float
    learning_rate: float


# Sized to 30 minutes on 2 CPU cores (docs/real-model.md): the probe samples in bfloat16, 768 rows a call, at
# 430-560 tokens/s there, and the base's answers average ~30 tokens, so its probe of 48 x 256 takes 11-14
# minutes; a GRPO step of 16 completions (bfloat16 rollouts, float32 loss) takes 7-20 s as the answers shorten.
REAL = RealScale(
    held_out_per_family=16,
    train_problems=256,
    grpo_steps=12,
    save_every=12,
    rollouts=8,
    prompts_per_step=2,
    n=256,
    stop_at_correct=16,
    max_tokens=64,
    temperature=0.8,
    learning_rate=3e-5,
)
REAL_QUICK = RealScale(
    held_out_per_family=1,
    train_problems=8,
    grpo_steps=2,
    save_every=2,
    rollouts=4,
    prompts_per_step=1,
    n=4,
    stop_at_correct=2,
    max_tokens=16,
    temperature=0.8,
    learning_rate=3e-5,
)


def write_data(out: Path, scale: RealScale, seed: int) -> tuple[Path, Path]:
    train, held = real_task.make_splits(seed, scale.held_out_per_family, scale.train_problems)
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    train_file, held_file = data / "train.jsonl", data / "heldout.jsonl"
    for path, rows in ((train_file, train), (held_file, held)):
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return train_file, held_file


def recipe_for(
    out: Path,
    scale: RealScale,
    seed: int,
    model: str,
    train_file: Path,
    held_file: Path,
    progress: bool = True,
) -> dict:
    """The GRPO recipe; written to OUT/recipe.yaml so that `rlvr train OUT/recipe.yaml` reruns it."""
    return {
        "model": {**model_section(model), "rollout_dtype": "bfloat16"},
        "data": {
            "data_file": str(train_file),
            "probe_file": str(held_file),
            "template": "plain",
            "chat": "chat",
        },
        "algorithm": "grpo",
        "rewards": {"math": 1.0},
        "trainer": {
            "output_dir": str(out / "rl"),
            "max_steps": scale.grpo_steps,
            "save_steps": scale.save_every,
            "per_device_train_batch_size": scale.rollouts * scale.prompts_per_step,
            "num_generations": scale.rollouts,
            "max_completion_length": scale.max_tokens,
            "temperature": scale.temperature,
            "learning_rate": scale.learning_rate,
            "lr_scheduler_type": "constant",
            "beta": 0.0,
            "logging_steps": 1,
            "seed": seed,
            "data_seed": seed,
            "save_only_model": True,
            "disable_tqdm": not progress,
            "report_to": ["wandb"],
        },
        "probe": {
            "enabled": True,
            "n": scale.n,
            "stop_at_correct": scale.stop_at_correct,
            "max_tokens": scale.max_tokens,
            "temperature": scale.temperature,
            "top_p": 1.0,
            "seed": seed,
            "backend": "hf",
            "dtype": "bfloat16",
            "samples_per_call": 768,
        },
        "logging": {"project": "rlvr-demo", "name": "demo-real-grpo", "report_to": "wandb"},
    }


def stop_findings(stores: dict[str, Path]) -> list[str]:
    """How each model's samples ended: at the end of the assistant's turn (stop) or at the token limit."""
    from rlvr.evaluate.store import SampleStore

    parts = []
    for label, path in stores.items():
        records = SampleStore.open_existing(path).records()
        stopped = sum(r["finish_reason"] == "stop" for r in records)
        mean_tokens = sum(r["tokens"] for r in records) / len(records)
        parts.append(
            f"{label} {stopped}/{len(records)} ({100 * stopped / len(records):.1f}%, mean {mean_tokens:.1f} tokens)"
        )
    return ["Samples that ended their turn (stop) rather than at the token limit: " + "; ".join(parts) + "."]


def run_real_demo(
    model: str, out_dir: str, quick: bool = False, seed: int = 0, progress: bool = True
) -> Path:
    from rlvr.demo.run import finish, print_reproduce, report, start, train_rl
    from rlvr.models import resolve_model

    started = start(progress)
    out = Path(out_dir).resolve()
    scale = REAL_QUICK if quick else REAL
    held = scale.held_out_per_family * len(real_task.FAMILIES)
    print(
        f"[demo] 1/5 task: {held} held-out problems ({', '.join(real_task.FAMILIES)}), {scale.train_problems} "
        f"for RL ({', '.join(real_task.TRAINED)} only) -> {out / 'data'}",
        flush=True,
    )
    train_file, held_file = write_data(out, scale, seed)
    print(f"[demo] 2/5 base model: {model}", flush=True)
    base = Path(resolve_model(model, progress))
    raw = recipe_for(out, scale, seed, model, train_file, held_file, progress)
    print(
        f"[demo] 3/5 GRPO for {scale.grpo_steps} steps ({scale.prompts_per_step} prompts x {scale.rollouts} "
        f"rollouts), probing pass@1..{scale.n} at step 0 and every {scale.save_every} steps -> {out / 'rl'}",
        flush=True,
    )
    train_rl(out, raw)
    print(
        "[demo] 4/5 perplexity of the base on each model's correct answers; 5/5 report of base against RL",
        flush=True,
    )
    # no steps verifier: the task asks for the number only, and the arithmetic one judges `x op y = v` steps that
    # end in \boxed{v} (rewards/steps_arithmetic.py), so it would reject every right answer here
    html = report(
        out,
        progress,
        REAL_FAMILIES,
        distilled=False,
        base=base,
        more_findings=stop_findings,
        steps_verifier=None,
    )
    finish("demo", out / "report" / "findings.txt", started, html)
    print_reproduce(out, raw, Path(model))  # as the user named it: smollm2, a GGUF file or a directory
    return html
