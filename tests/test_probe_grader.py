"""The probe grades with the run's own grader: a user's reward with grade() as it is, a shaping-only one of
the user's only with `probe.reward` naming a grader (never math, silently)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from cli_helpers import one_line_error
from test_train import localized

from rlvr.cli import main as rlvr

USER_REWARDS = textwrap.dedent(
    """
    from rlvr.rewards.verdict import Grade


    def brevity(prompts=None, completions=None, **columns):
        return [1.0 if len(c) < 40 else 0.0 for c in completions]


    class LastToken:
        '''Correct when the completion's last whitespace-separated token is the answer.'''

        __name__ = "last_token"

        def grade(self, completions, answer):
            out = []
            for text, gold in zip(completions, answer):
                last = text.split()[-1].strip(".") if text.split() else None
                out.append(Grade("correct" if last == str(gold) else "wrong", f"last:{last}"))
            return out

        def describe(self):
            return {"grader": "last_token", "reads": "the last token"}

        def __call__(self, prompts=None, completions=None, answer=None, **columns):
            return [g.reward for g in self.grade(completions, answer)]


    last_token = LastToken()


    class NoDescribe:
        def grade(self, completions, answer):
            return [Grade("wrong") for _ in completions]

        def __call__(self, prompts=None, completions=None, **columns):
            return [0.0 for _ in completions]


    no_describe = NoDescribe()
    """
)


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory) -> Path:
    from rlvr.train.tiny_task import write_task

    return write_task(tmp_path_factory.mktemp("probe-grader-task"), train=16, probe=4)


@pytest.fixture
def user_module(tmp_path, monkeypatch) -> str:
    (tmp_path / "user_rewards_probe.py").write_text(USER_REWARDS)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "user_rewards_probe"


def test_a_shaping_only_reward_of_ones_own_needs_probe_reward(task_dir, tmp_path, capsys, user_module):
    recipe = localized("grpo.yaml", task_dir, tmp_path, rewards={f"{user_module}:brevity": 1.0})
    raw = recipe.read_text().replace("  math: 1.0\n", "")
    recipe.write_text(raw)
    err = one_line_error(capsys, "train", str(recipe), "--check")
    assert "probe.reward" in err and f"{user_module}:brevity" in err, err
    err = one_line_error(capsys, "train", str(recipe))  # training refuses before any model loads
    assert "probe.reward" in err, err
    err = one_line_error(capsys, "train", str(recipe), "probe.reward=format", "--check")
    assert "probe.reward 'format' only shapes training" in err, err
    err = one_line_error(capsys, "train", str(recipe), f"probe.reward={user_module}:no_describe", "--check")
    assert "has no describe()" in err, err
    assert rlvr(["train", str(recipe), "probe.reward=math_strict", "--check"]) == 0
    assert rlvr(["train", str(recipe), "probe.enabled=false", "--check"]) == 0  # no probe, nothing to grade


def test_which_grader_the_probe_uses(user_module):
    from rlvr.train.recipe import probe_grader

    assert probe_grader({"math_strict": 1.0, "format": 0.2}) == "math_strict"
    assert probe_grader({"format": 1.0}) == "math"  # rlvr's own shaping rewards: the default grader
    assert probe_grader({f"{user_module}:last_token": 1.0}) == f"{user_module}:last_token"
    assert probe_grader({f"{user_module}:brevity": 1.0}, "code") == "code"


def test_a_run_probes_with_the_users_own_grader(task_dir, tmp_path, user_module):
    """A real GRPO step whose reward is the user's grader: the probe's store says so and holds its verdicts."""
    from rlvr.train.build import train
    from rlvr.train.recipe import load_recipe

    run_dir = tmp_path / "run"
    recipe = load_recipe(
        Path(__file__).resolve().parents[1] / "recipes" / "tiny" / "grpo.yaml",
        [
            f"model.path={task_dir / 'model'}",
            f"data.data_file={task_dir / 'train.jsonl'}",
            f"data.probe_file={task_dir / 'probe.jsonl'}",
            f"trainer.output_dir={run_dir}",
            "trainer.max_steps=1",
            "rewards={" + f"{user_module}:last_token" + ": 1.0}",
            "probe.n=4",
        ],
    )
    train(recipe)
    meta = json.loads((run_dir / "probe" / "probe" / "step-0" / "meta.json").read_text())
    assert meta["grader"] == f"{user_module}:last_token"
    assert meta["grader_settings"] == {"grader": "last_token", "reads": "the last token"}
    stored = [
        json.loads(line)
        for path in (run_dir / "probe" / "probe" / "step-0").rglob("*.jsonl")
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    extracted = [r["extracted"] for r in stored if "extracted" in r]
    assert extracted and all(e.startswith("last:") for e in extracted)


def test_the_grader_example_in_the_docs_grades(tmp_path, monkeypatch):
    """docs/rewards.md's own grader, run through the evaluation's grading path."""
    from rlvr.evaluate.grading import grade_records
    from rlvr.rewards import get_reward, is_grader

    page = (Path(__file__).resolve().parents[1] / "docs" / "rewards.md").read_text()
    example = page.split("# my_graders.py\n", 1)[1].split("```", 1)[0]
    (tmp_path / "my_graders.py").write_text(example)
    monkeypatch.syspath_prepend(str(tmp_path))
    grader = get_reward("my_graders:exact_integer")
    assert is_grader(grader) and grader.describe() == {"grader": "exact_integer"}
    records = [
        {"problem": "p", "text": "4 + 3\n7"},
        {"problem": "p", "text": "8"},
        {"problem": "p", "text": ""},
    ]
    grade_records(grader, records, {"p": {"answer": "7"}})
    assert [r["verdict"] for r in records] == ["correct", "wrong", "no_answer"]
    assert grader(completions=["x\n7"], answer=["7"]) == [1.0]
