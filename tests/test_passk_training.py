"""Pass@k training: the closed-form group advantage against an independent count over every k-subset in exact
fractions, its limiting cases, its config check, and a real PassKTrainer step on the tiny model."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


def subset_terms(correct: list[bool], k: int) -> tuple[Fraction, list[Fraction]]:
    """From the definition, by enumeration: R is the share of k-subsets that hold a correct rollout; a rollout's
    advantage numerator is the mean pass of the k-subsets that hold it, minus R."""
    n = len(correct)
    subsets = list(itertools.combinations(range(n), k))
    passed = {s: any(correct[i] for i in s) for s in subsets}
    reward = Fraction(sum(passed.values()), len(subsets))
    numerators = []
    for i in range(n):
        holding = [passed[s] for s in subsets if i in s]
        numerators.append(Fraction(sum(holding), len(holding)) - reward)
    return reward, numerators


GROUPS = [(n, n_neg, k) for n in range(1, 9) for n_neg in range(n + 1) for k in range(1, n + 1)]


@pytest.mark.parametrize(("n", "n_neg", "k"), GROUPS)
def test_closed_form_equals_the_count_over_every_k_subset(n, n_neg, k):
    from rlvr.train.passk import passk_group_advantages, passk_terms

    correct = [True] * (n - n_neg) + [False] * n_neg
    reward, numerators = subset_terms(correct, k)
    got_reward, right, wrong = passk_terms(n, n_neg, k)
    assert got_reward == reward  # exact: Fractions of exact binomials
    assert all(num == (right if c else wrong) for num, c in zip(numerators, correct))
    variance = reward * (1 - reward)
    expected = [0.0] * n if variance == 0 else [float(x) / math.sqrt(variance) for x in numerators]
    assert passk_group_advantages(correct, k) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_sixteen_rollouts_at_k_4_and_16_against_the_count():
    """The demo's settings (N = 16), where float binomials would already round: still exact."""
    from rlvr.train.passk import passk_terms

    for n_neg in range(17):
        correct = [True] * (16 - n_neg) + [False] * n_neg
        for k in (4, 16):
            reward, numerators = subset_terms(correct, k)
            got_reward, right, wrong = passk_terms(16, n_neg, k)
            assert got_reward == reward
            assert numerators == [right if c else wrong for c in correct]


@pytest.mark.parametrize(
    ("correct", "k"),
    [
        ([False] * 6, 3),  # all wrong: R = 0
        ([True] * 6, 3),  # all right: R = 1
        ([True, True, True, True, False, False], 3),  # fewer wrong than k: every 3-subset passes, R = 1
        ([True] + [False] * 5, 6),  # k = N with one right: the only subset passes
    ],
)
def test_degenerate_groups_have_zero_sigma_and_zero_advantages(correct, k):
    from rlvr.train.passk import passk_group_advantages

    reward, numerators = subset_terms(correct, k)
    assert reward in (0, 1) and all(x == 0 for x in numerators)  # no signal by the definition itself
    assert passk_group_advantages(correct, k) == [0.0] * len(correct)


@pytest.mark.parametrize("correct", [[True, False, False, True, False], [True] + [False] * 15, [True, False]])
def test_k_1_is_grpos_mean_centred_advantage_over_sigma(correct):
    from rlvr.train.passk import passk_group_advantages

    rewards = [float(c) for c in correct]
    mean = sum(rewards) / len(rewards)
    sigma = math.sqrt(sum((r - mean) ** 2 for r in rewards) / len(rewards))  # population std of the group
    got = passk_group_advantages(correct, 1)
    assert [a * sigma for a in got] == pytest.approx([r - mean for r in rewards], abs=1e-12)


def test_batch_advantages_threshold_summed_rewards_and_leave_unscored_rollouts_out():
    import torch

    from rlvr.train.passk import passk_advantages, passk_group_advantages

    nan = float("nan")
    # two groups of 4: weighted sums of a 0/1 verifier and a 0.2 format bonus; the second has an unscored one
    rewards = torch.tensor([1.2, 0.2, 0.0, 1.0, nan, 0.2, 1.0, 0.0])
    advantages, group_rewards = passk_advantages(rewards, 4, 2, 0.5)
    first = passk_group_advantages([True, False, False, True], 2)
    second = passk_group_advantages([False, True, False], 2)  # three scored rollouts, k still 2
    assert advantages.tolist() == pytest.approx(first + [0.0] + second)
    assert group_rewards.tolist() == pytest.approx([1 - 1 / 6, 1 - 1 / 3])
    # fewer scored rollouts than k: k drops to their number
    advantages, _ = passk_advantages(torch.tensor([nan, nan, 1.0, 0.0]), 4, 3, 0.5)
    assert advantages.tolist() == pytest.approx([0.0, 0.0, *passk_group_advantages([True, False], 2)])


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory) -> Path:
    from rlvr.train.tiny_task import write_task

    return write_task(tmp_path_factory.mktemp("tiny-task"), train=16, probe=4)


def tiny_passk(task_dir: Path, tmp_path: Path, **trainer) -> Path:
    raw = yaml.safe_load((RECIPES / "tiny" / "grpo.yaml").read_text())
    raw["model"]["path"] = str(task_dir / "model")
    raw["data"]["data_file"] = str(task_dir / "train.jsonl")
    raw["data"]["probe_file"] = str(task_dir / "probe.jsonl")
    raw["algorithm"] = "passk"
    raw["probe"]["enabled"] = False
    raw["trainer"].update({"output_dir": str(tmp_path / "run"), "disable_tqdm": True, **trainer})
    path = tmp_path / "passk.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_passk_k_from_num_generations_up_is_refused_in_one_line(task_dir, tmp_path):
    from rlvr.train.build import build_config
    from rlvr.train.recipe import load_recipe

    recipe = load_recipe(tiny_passk(task_dir, tmp_path), ["trainer.passk_k=5"])
    with pytest.raises(ValueError, match=r"trainer.passk_k=5 must lie in \[1, num_generations=4\)"):
        build_config(recipe)
    recipe = load_recipe(tiny_passk(task_dir, tmp_path), ["trainer.passk_k=4"])
    with pytest.raises(ValueError, match="trainer.passk_k=4 equals num_generations: .* nothing trains"):
        build_config(recipe)
    config = build_config(load_recipe(tiny_passk(task_dir, tmp_path), ["trainer.passk_k=3"]))
    assert type(config).__name__ == "PassKConfig" and config.passk_k == 3
    config = build_config(load_recipe(tiny_passk(task_dir, tmp_path)))  # default: half the rollouts
    assert config.passk_k == 2


def test_passk_fields_are_read_from_source_like_the_dataclass():
    import dataclasses

    from rlvr.train.config_fields import config_fields
    from rlvr.train.recipe import trainer_config_class

    cls = trainer_config_class("passk")
    from_source = config_fields("PassKConfig", lambda: None)
    assert set(from_source) == {f.name for f in dataclasses.fields(cls)}
    assert from_source["passk_k"] == ("union", (("int",), ("none",)))
    assert from_source["passk_threshold"] == ("float",)


def parity_reward(completions, **kwargs) -> list[float]:
    """A verifier stand-in whose verdicts vary within a group on the untrained model: even-length completions."""
    return [float(len(c) % 2 == 0) for c in completions]


def length_bonus(completions, **kwargs) -> list[float]:
    return [float(len(c) > 8) for c in completions]


def test_a_passk_trainer_step_uses_the_pass_at_k_advantage_of_the_thresholded_reward_sum(task_dir, tmp_path):
    """A real PassKTrainer step: the advantages it trained on (TRL's log of them) against the count over
    k-subsets of the rollouts whose weighted reward sum (1.0 x parity + 0.3 x length bonus) reaches 0.5."""
    from rlvr.train.build import build_trainer
    from rlvr.train.recipe import load_recipe

    here = Path(__file__).stem
    recipe = load_recipe(
        tiny_passk(
            task_dir, tmp_path, max_steps=1, per_device_train_batch_size=8, num_generations=4, passk_k=3
        )
    )
    recipe.rewards = {f"{here}:parity_reward": 1.0, f"{here}:length_bonus": 0.3}
    trainer = build_trainer(recipe)
    assert type(trainer).__name__ == "PassKTrainer"
    trainer.train()
    parity = list(trainer._logs["rewards"]["parity_reward"])
    bonus = list(trainer._logs["rewards"]["length_bonus"])
    advantages = list(trainer._logs["advantages"])
    assert len(parity) == len(advantages) == 8
    expected = []
    for start in (0, 4):
        correct = [p + 0.3 * b >= 0.5 for p, b in zip(parity[start : start + 4], bonus[start : start + 4])]
        reward, numerators = subset_terms(correct, 3)
        variance = reward * (1 - reward)
        expected += [0.0] * 4 if variance == 0 else [float(x) / math.sqrt(variance) for x in numerators]
    assert advantages == pytest.approx(expected, abs=1e-6)
    assert any("passk/group_reward" in entry for entry in trainer.state.log_history)
