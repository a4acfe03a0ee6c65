"""model.rollout_dtype: TRL's trainers with rollouts from rlvr's pruned decode on a low-precision policy copy."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rlvr.train.recipe import RecipeError

RECIPES = Path(__file__).resolve().parents[1] / "recipes" / "tiny"


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory) -> Path:
    from rlvr.train.tiny_task import write_task

    return write_task(tmp_path_factory.mktemp("rollout-task"), train=16, probe=4)


def _recipe(task_dir: Path, out: Path, *extra: str, base: str = "grpo.yaml"):
    from rlvr.train.recipe import load_recipe

    return load_recipe(
        RECIPES / base,
        [
            f"model.path={task_dir / 'model'}",
            f"data.data_file={task_dir / 'train.jsonl'}",
            f"trainer.output_dir={out}",
            "trainer.disable_tqdm=true",
            "trainer.save_steps=100",
            "probe.enabled=false",
            *extra,
        ],
    )


def _prompt_ids(trainer, count: int) -> list[list[int]]:
    rows = [trainer.train_dataset[i]["prompt"] for i in range(count)]
    return [trainer._tokenizer(text, add_special_tokens=False)["input_ids"] for text in rows]


def test_rollouts_are_the_pruned_decode_of_a_bfloat16_copy_with_the_runs_seeds(task_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    from rlvr.evaluate.plan import sample_seed
    from rlvr.evaluate.pruned_decode import sample_pruned
    from rlvr.train.build import build_trainer

    trainer = build_trainer(_recipe(task_dir, tmp_path / "run", "model.rollout_dtype=bfloat16"))
    prompts = _prompt_ids(trainer, 2)
    prompts = [prompts[0]] * 4 + [prompts[1]] * 4  # one GRPO group per prompt, prompts of unequal length
    assert len(prompts[0]) != len(prompts[-1])
    first, logprobs = trainer._generate_single_turn(prompts, None, {}, 4)
    second, _ = trainer._generate_single_turn(prompts, None, {}, 4)
    assert logprobs is None  # TRL recomputes them with the policy, as it does for generate

    copy = AutoModelForCausalLM.from_pretrained(task_dir / "model", dtype=torch.bfloat16).eval()
    width = max(map(len, prompts))
    ids = torch.tensor([[0] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    eos = set(trainer.eos_token_ids)
    for call, got in enumerate((first, second)):
        seeds = [sample_seed(0, f"rollout:0:{call}:0", row) for row in range(len(prompts))]
        expected = sample_pruned(copy, ids, mask, seeds, 16, eos, 1.0, 1.0)
        assert got == expected
    assert first != second  # a second call within a step draws new samples
    assert all(0 < len(c) <= 16 for c in first)
    assert all(c[-1] in eos for c in first if len(c) < 16)


def test_grpo_trains_and_the_copy_follows_the_policy(task_dir, tmp_path):
    from test_ppo import digit_share

    from rlvr.rewards import register_reward
    from rlvr.train.build import build_trainer

    register_reward("digit_share", lambda **kw: digit_share)  # a reward the random model earns: weights move
    recipe = _recipe(
        task_dir,
        tmp_path / "run",
        "model.rollout_dtype=bfloat16",
        "rewards={digit_share: 1.0}",
        "trainer.max_steps=3",
        "trainer.learning_rate=1e-2",
    )
    trainer = build_trainer(recipe)
    start = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.train()
    rewards = [e["reward"] for e in trainer.state.log_history if "reward" in e]
    assert len(rewards) == 3
    policy = list(trainer.model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(start, policy))  # the optimizer moved the policy
    trainer._generate_single_turn(_prompt_ids(trainer, 1), None, {}, 4)  # a rollout after the last step
    copy = trainer._rollout_model
    assert all(p.dtype == torch.bfloat16 for p in copy.parameters())
    for mine, theirs in zip(copy.parameters(), policy, strict=True):
        assert torch.equal(mine, theirs.detach().to(torch.bfloat16))
    assert all(b.dtype == torch.float32 for name, b in copy.named_buffers() if "inv_freq" in name)


def test_rloo_takes_the_rollouts_without_logprobs(task_dir, tmp_path):
    from rlvr.train.build import build_trainer

    recipe = _recipe(task_dir, tmp_path / "run", "model.rollout_dtype=bfloat16", "algorithm=rloo")
    trainer = build_trainer(recipe)
    completions = trainer._generate_single_turn(_prompt_ids(trainer, 1) * 4, None, {})
    assert isinstance(completions, list) and len(completions) == 4 and isinstance(completions[0], list)


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("trainer.top_k=5", "trainer.top_k"),
        ("trainer.min_p=0.1", "trainer.min_p"),
        ("trainer.repetition_penalty=1.1", "trainer.repetition_penalty"),
        ("trainer.generation_kwargs={no_repeat_ngram_size: 2}", "trainer.generation_kwargs"),
    ],
)
def test_settings_the_loop_cannot_sample_are_refused(task_dir, tmp_path, setting, named):
    from rlvr.train.build import build_trainer

    recipe = _recipe(task_dir, tmp_path / "run", "model.rollout_dtype=bfloat16", setting)
    with pytest.raises(RecipeError, match=f"model.rollout_dtype.*{named}") as caught:
        build_trainer(recipe)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("base", "setting", "named"),
    [
        ("sft.yaml", "algorithm=sft", "sft has no rollouts"),
        ("grpo.yaml", "model.lora={r: 4, alpha: 8}", "LoRA"),
    ],
)
def test_recipes_without_whole_weight_rollouts_are_refused_when_read(
    task_dir, tmp_path, base, setting, named
):
    with pytest.raises(RecipeError, match=f"model.rollout_dtype: .*{named}"):
        _recipe(task_dir, tmp_path / "run", "model.rollout_dtype=bfloat16", setting, base=base)


def test_rollout_dtype_takes_only_a_concrete_dtype(task_dir, tmp_path):
    with pytest.raises(RecipeError, match="model.rollout_dtype"):
        _recipe(task_dir, tmp_path / "run", "model.rollout_dtype=auto")


def test_ppo_rollouts_leave_its_value_hook_to_the_policy(task_dir, tmp_path):
    from rlvr.train.build import build_trainer

    trainer = build_trainer(
        _recipe(task_dir, tmp_path / "run", "model.rollout_dtype=bfloat16", base="ppo.yaml")
    )
    completions, _ = trainer._generate_single_turn(_prompt_ids(trainer, 1) * 4, None, {}, 4)
    assert len(completions) == 4
    assert trainer._hidden is None  # the copy's forward ran no hook of the trainer's
    assert not any("v_head" in name for name, _ in trainer._rollout_model.named_parameters())
