"""Control rewards (random, format_only, wrong_label): what each pays, and training with each on the tiny task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from rlvr.rewards import get_reward
from rlvr.rewards.controls import wrong_labels

ROOT = Path(__file__).resolve().parents[1]


class Step:  # what TRL passes as trainer_state: only global_step is read
    def __init__(self, step: int) -> None:
        self.global_step = step


def test_random_coins_ignore_the_text_and_repeat_with_the_seed():
    prompts = [f"Compute {i} + 1." for i in range(50) for _ in range(8)]  # 8 rollouts per prompt
    right = [f"\\boxed{{{i + 1}}}" for i in range(50) for _ in range(8)]
    garbage = ["xyz"] * len(prompts)
    reward = get_reward("random", seed=3)
    coins = reward(prompts, right, trainer_state=Step(5))
    assert coins == reward(prompts, garbage, trainer_state=Step(5))  # the text changes nothing
    assert coins == get_reward("random", seed=3)(prompts, garbage, trainer_state=Step(5))  # reproduced
    assert coins != reward(prompts, right, trainer_state=Step(6))  # a new step draws new coins
    assert coins != get_reward("random", seed=4)(prompts, right, trainer_state=Step(5))
    assert set(coins) == {0.0, 1.0}
    # 400 fair coins: 200 expected, sd 10; a bound of 5 sd
    assert 150 <= sum(coins) <= 250
    # the rollouts of one prompt do not share one coin (a group with mixed coins has advantages)
    groups = [coins[i : i + 8] for i in range(0, len(coins), 8)]
    assert sum(len(set(g)) == 2 for g in groups) > 25


def test_format_only_pays_a_stated_answer_right_or_wrong():
    reward = get_reward("format_only")
    completions = [
        "5 + 2 = 7. The answer is \\boxed{7}.",
        "The answer is \\boxed{8}.",
        "add five and two",
        "",
    ]
    assert reward(["Compute 5 + 2."] * 4, completions, answer=["7"] * 4) == [1.0, 1.0, 0.0, 0.0]
    code = ["```python\nprint(1)\n```", "print(1)"]
    assert reward(["p", "p"], code, tests=["[]", "[]"]) == [1.0, 0.0]


def test_wrong_labels_send_every_gold_to_another_value():
    golds = ["1", "2", "2", "3", "4", " 4"]
    labels = wrong_labels(golds, seed=0)
    assert sorted(labels) == ["1", "2", "3", "4"]  # one entry per distinct value
    assert sorted(labels.values()) == ["1", "2", "3", "4"]  # a permutation of them
    assert all(labels[value] != value for value in labels)  # with no fixed point
    assert labels == wrong_labels(golds, seed=0) and any(
        wrong_labels(golds, seed=s) != labels for s in range(1, 5)
    )
    with pytest.raises(ValueError, match="at least two distinct gold answers"):
        wrong_labels(["5", "5"])


def test_wrong_label_pays_the_other_problems_answer_and_never_the_right_one():
    golds = ["7", "10", "3"]
    reward = get_reward("wrong_label", golds=golds, seed=1)
    other = reward.wrong_answer("7")
    assert other in ("10", "3")
    prompts = ["Compute 5 + 2."] * 3
    completions = ["\\boxed{7}", f"\\boxed{{{other}}}", "no answer"]
    assert reward(prompts, completions, answer=["7"] * 3) == [0.0, 1.0, 0.0]
    with pytest.raises(KeyError, match="answer"):
        reward(prompts, completions)


def test_controls_shape_training_and_the_probe_grades_with_the_true_grader(tmp_path):
    from rlvr.rewards import is_grader
    from rlvr.train.probe import grader_name
    from rlvr.train.recipe import validate

    raw = {"model": {"path": "m"}, "data": {"data_file": "d.jsonl"}}
    for name in ("random", "format_only", "wrong_label"):
        assert not is_grader(get_reward(name, golds=["1", "2"]))
        recipe = validate({**raw, "rewards": name})  # a bare name, as `rewards=random` gives it
        assert recipe.rewards == {name: 1.0}
        assert grader_name(recipe) is None  # rlvr eval's choice: math for answers, code for tests
    assert grader_name(validate({**raw, "rewards": {"random": 1.0, "code": 1.0}})) == "code"


@pytest.fixture(scope="module")
def tiny_cwd(tmp_path_factory) -> Path:
    """What recipes/tiny/grpo.yaml expects: `python -m rlvr.train.tiny_task runs/tiny`."""
    from rlvr.train.tiny_task import write_task

    cwd = tmp_path_factory.mktemp("controls")
    write_task(cwd / "runs" / "tiny", train=16, probe=4)
    return cwd


@pytest.mark.parametrize("control", ["random", "format_only", "wrong_label"])
def test_tiny_recipe_trains_with_each_control(control, tiny_cwd, monkeypatch):
    from rlvr.cli import main

    monkeypatch.chdir(tiny_cwd)
    out = f"runs/tiny/{control}"
    probe = "probe.enabled=true" if control == "wrong_label" else "probe.enabled=false"
    args = ["train", str(ROOT / "recipes" / "tiny" / "grpo.yaml"), f"rewards={control}", probe]
    assert main([*args, f"trainer.output_dir={out}"]) == 0
    run = tiny_cwd / out
    assert (run / "checkpoint-2").is_dir() and (run / "final" / "model.safetensors").exists()
    if control == "wrong_label":  # the probe of a control run grades with math, the task's true grader
        meta = json.loads((run / "probe" / "probe" / "step-2" / "meta.json").read_text())
        assert meta["grader"] == "math"
        assert yaml.safe_load((run / "recipe.yaml").read_text())["rewards"] == {"wrong_label": 1.0}


@pytest.mark.parametrize("control", ["random", "format_only", "wrong_label"])
@pytest.mark.parametrize(
    ("tag", "true_recipe"), [("tiny", "tiny/grpo.yaml"), ("qwen25_math_1p5b", "grpo_qwen25_math_1p5b.yaml")]
)
def test_each_control_recipe_is_its_true_reward_recipe_but_for_the_reward(control, tag, true_recipe):
    """The same budget: every key but the reward, where the run goes and what it is called."""
    arm = yaml.safe_load((ROOT / "recipes" / "controls" / f"{tag}_{control}.yaml").read_text())
    true = yaml.safe_load((ROOT / "recipes" / true_recipe).read_text())
    assert true["rewards"] == {"math": 1.0} and arm["rewards"] == {control: 1.0}
    assert control in arm["trainer"].pop("output_dir") and control in str(arm.get("logging", {}))
    true["trainer"].pop("output_dir")
    for section in ("rewards", "logging"):
        arm.pop(section), true.pop(section)
    assert arm == true


@pytest.mark.parametrize(
    ("sweep", "recipe"), [("sweep", "grpo_qwen25_math_1p5b"), ("tiny_sweep", "tiny/grpo")]
)
def test_control_sweeps_run_the_true_reward_against_the_three_controls(sweep, recipe):
    raw = yaml.safe_load((ROOT / "recipes" / "controls" / f"{sweep}.yaml").read_text())
    assert raw["grid"] == {"rewards": ["math", "random", "format_only", "wrong_label"]}
    assert raw["recipe"] == f"recipes/{recipe}.yaml" and not raw.get("overrides")
    from rlvr.train.sweep import load_sweep

    runs = load_sweep(ROOT / "recipes" / "controls" / f"{sweep}.yaml").runs()  # every run's recipe validated
    assert [run.name for run in runs] == [f"rewards-{arm}" for arm in raw["grid"]["rewards"]]
