"""PPO on GRPO's machinery: GAE against hand-computed returns, and learning on a toy task."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rlvr.train.ppo import gae, last_token_rewards

RECIPES = Path(__file__).resolve().parents[1] / "recipes" / "tiny"


def test_gae_with_lambda_one_is_reward_to_go_minus_value():
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    values = torch.tensor([[0.5, 0.25, -1.0, 7.0]])  # the masked 7.0 must not leak in
    rewards = last_token_rewards(torch.tensor([2.0]), mask)
    assert rewards.tolist() == [[0.0, 0.0, 2.0, 0.0]]
    adv, ret = gae(rewards, values, mask, gamma=1.0, lam=1.0)
    assert torch.allclose(adv, torch.tensor([[1.5, 1.75, 3.0, 0.0]]))
    assert torch.allclose(ret[:, :3], torch.tensor([[2.0, 2.0, 2.0]]))


def test_gae_with_lambda_zero_is_the_one_step_td_error():
    mask = torch.ones(1, 3)
    values = torch.tensor([[0.5, 0.25, -1.0]])
    rewards = last_token_rewards(torch.tensor([1.0]), mask)
    gamma = 0.9
    adv, _ = gae(rewards, values, mask, gamma=gamma, lam=0.0)
    expected = [0 + gamma * 0.25 - 0.5, 0 + gamma * -1.0 - 0.25, 1.0 - -1.0]
    assert torch.allclose(adv, torch.tensor([expected]))


def test_gae_matches_a_direct_sum_of_discounted_td_errors():
    torch.manual_seed(0)
    mask = torch.tensor([[1.0] * 5 + [0.0] * 2])
    values = torch.randn(1, 7)
    rewards = last_token_rewards(torch.tensor([1.0]), mask)
    gamma, lam = 0.97, 0.8
    adv, _ = gae(rewards, values, mask, gamma, lam)
    v = [float(x) for x in values[0, :5]] + [0.0]
    r = [0.0, 0.0, 0.0, 0.0, 1.0]
    deltas = [r[t] + gamma * v[t + 1] - v[t] for t in range(5)]
    direct = [sum((gamma * lam) ** (j - t) * deltas[j] for j in range(t, 5)) for t in range(5)]
    assert torch.allclose(adv[0, :5], torch.tensor(direct), atol=1e-6)


def digit_share(prompts, completions, **columns):
    """Toy reward: the share of a completion's characters that are digits."""
    from rlvr.rewards.verdict import completion_text

    texts = [completion_text(c) for c in completions]
    return [sum(ch.isdigit() for ch in t) / max(len(t), 1) for t in texts]


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory) -> Path:
    from rlvr.train.tiny_task import write_task

    return write_task(tmp_path_factory.mktemp("ppo-task"), train=16, probe=4)


def test_ppo_value_loss_falls_and_reward_rises(task_dir, tmp_path):
    from rlvr.rewards import register_reward
    from rlvr.train.build import build_trainer
    from rlvr.train.recipe import load_recipe

    register_reward("digit_share", lambda **kw: digit_share)
    recipe = load_recipe(
        RECIPES / "ppo.yaml",
        [
            f"model.path={task_dir / 'model'}",
            f"data.data_file={task_dir / 'train.jsonl'}",
            f"trainer.output_dir={tmp_path / 'run'}",
            "rewards={digit_share: 1.0}",
            "trainer.max_steps=30",
            "trainer.learning_rate=2e-2",
            "trainer.lr_scheduler_type=constant",
            "trainer.save_steps=30",
            "trainer.max_completion_length=8",
            "trainer.per_device_train_batch_size=8",
            "trainer.num_generations=8",
            "trainer.disable_tqdm=true",
            "probe.enabled=false",
        ],
    )
    trainer = build_trainer(recipe)
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "reward" in entry]
    rewards = [entry["reward"] for entry in logs]
    value_losses = [entry["ppo/value_loss"] for entry in logs]
    first, last = sum(rewards[:5]) / 5, sum(rewards[-5:]) / 5
    assert last > first + 0.3, rewards
    assert sum(value_losses[-5:]) / 5 < 0.5 * sum(value_losses[:5]) / 5, value_losses
    checkpoint = tmp_path / "run" / "checkpoint-30"
    head = torch.load(checkpoint / "value_head.pt")
    assert head["weight"].abs().sum() > 0  # the head learned and was saved beside the policy
    assert head["weight"].device.type == "cpu"  # loads on a machine without the GPU it trained on
    from safetensors.torch import load_file

    assert not any(k.startswith("v_head") for k in load_file(checkpoint / "model.safetensors"))


def test_ppo_with_lora_saves_the_adapter_and_the_value_head(task_dir, tmp_path):
    from rlvr.train.build import train
    from rlvr.train.recipe import load_recipe

    recipe = load_recipe(
        RECIPES / "ppo.yaml",
        [
            f"model.path={task_dir / 'model'}",
            f"data.data_file={task_dir / 'train.jsonl'}",
            f"trainer.output_dir={tmp_path / 'run'}",
            "model.lora={r: 4, alpha: 8}",
            "trainer.disable_tqdm=true",
        ],
    )
    out = Path(train(recipe))
    checkpoint = out / "checkpoint-2"
    assert (checkpoint / "adapter_model.safetensors").exists() and (checkpoint / "value_head.pt").exists()
    from safetensors.torch import load_file

    assert all("lora" in k for k in load_file(checkpoint / "adapter_model.safetensors"))


def test_ppo_resume_restores_the_value_head(task_dir, tmp_path):
    from rlvr.rewards import register_reward
    from rlvr.train.build import build_trainer, train
    from rlvr.train.recipe import load_recipe

    register_reward(
        "digit_share", lambda **kw: digit_share
    )  # a reward the random model earns, so values move
    overrides = [
        f"model.path={task_dir / 'model'}",
        f"data.data_file={task_dir / 'train.jsonl'}",
        f"trainer.output_dir={tmp_path / 'run'}",
        "trainer.disable_tqdm=true",
        "trainer.learning_rate=1e-2",
        "rewards={digit_share: 1.0}",
    ]
    train(load_recipe(RECIPES / "ppo.yaml", overrides))
    saved = torch.load(tmp_path / "run" / "checkpoint-2" / "value_head.pt")
    fresh = build_trainer(load_recipe(RECIPES / "ppo.yaml", overrides))
    head = fresh.accelerator.unwrap_model(fresh.model).v_head
    assert not torch.equal(head.weight.detach().cpu(), saved["weight"])  # a new trainer starts from zeros
    fresh._load_from_checkpoint(str(tmp_path / "run" / "checkpoint-2"))
    assert torch.equal(head.weight.detach().cpu(), saved["weight"].cpu())
    assert torch.equal(head.bias.detach().cpu(), saved["bias"].cpu())
