"""What researchers bring from TRL, open-r1, OpenRLHF and lm-eval: their own data columns, a system prompt,
a template file, rewards by import path, several datasets per evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from test_train import localized

from rlvr.cli import main as rlvr

REWARD_MODULE = '''
import json, os

def digit_reward(completions, **kwargs):
    """1.0 for a completion with a digit; records each call so the test sees TRL called it."""
    with open(os.environ["RLVR_TEST_REWARD_LOG"], "a") as f:
        f.write(json.dumps(len(completions)) + "\\n")
    texts = [c if isinstance(c, str) else c[0]["content"] for c in completions]
    return [float(any(ch.isdigit() for ch in t)) for t in texts]
'''


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory) -> Path:
    from rlvr.train.tiny_task import write_task

    return write_task(tmp_path_factory.mktemp("tiny-task"), train=16, probe=4)


def _parquet(rows: list[dict], path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _renamed(task_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (task_dir / "train.jsonl").read_text().splitlines()]
    return [{"uid": r["id"], "question_text": r["problem"], "solution": r["answer"]} for r in rows]


def test_recipe_with_own_parquet_columns_system_prompt_and_an_imported_reward_trains(
    task_dir, tmp_path, monkeypatch
):
    (tmp_path / "my_rewards.py").write_text(REWARD_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    log = tmp_path / "reward_calls.jsonl"
    monkeypatch.setenv("RLVR_TEST_REWARD_LOG", str(log))
    data = _parquet(_renamed(task_dir), tmp_path / "train.parquet")
    recipe_path = localized("grpo.yaml", task_dir, tmp_path)
    raw = yaml.safe_load(recipe_path.read_text())
    raw["data"] = {
        "dataset": str(data),
        "problem_key": "question_text",
        "answer_key": "solution",
        "id_key": "uid",
        "template": "plain",
        "chat": "raw",
        "system_prompt": "Add the numbers {carefully}.",
    }
    raw["rewards"] = {"math": 1.0, "my_rewards:digit_reward": 0.5}
    raw["probe"] = {"enabled": False}
    recipe_path.write_text(yaml.safe_dump(raw))

    from rlvr.train.build import build_dataset
    from rlvr.train.recipe import load_recipe

    recipe = load_recipe(recipe_path)
    from transformers import AutoTokenizer

    dataset = build_dataset(recipe, AutoTokenizer.from_pretrained(task_dir / "model"))
    first = _renamed(task_dir)[0]
    assert (
        dataset[0]["prompt"]
        == f"Add the numbers {{carefully}}.\n\nQuestion: {first['question_text']}\nAnswer:"
    )
    assert dataset[0]["answer"] == first["solution"]

    assert rlvr(["train", str(recipe_path)]) == 0
    assert (tmp_path / "run" / "checkpoint-2").is_dir()
    assert len(log.read_text().splitlines()) >= 2  # TRL called the imported reward at each step


def test_a_reward_path_that_does_not_import_is_refused_before_training(task_dir, tmp_path, capsys):
    recipe = localized("grpo.yaml", task_dir, tmp_path)
    raw = yaml.safe_load(recipe.read_text())
    raw["rewards"] = {"no_such_module:reward": 1.0}
    recipe.write_text(yaml.safe_dump(raw))
    assert rlvr(["train", str(recipe), "--check"]) == 2
    assert "cannot import module 'no_such_module'" in capsys.readouterr().err


def test_eval_of_two_datasets_writes_both_stores_and_a_summary(tiny_model_dir, tmp_path):
    a = tmp_path / "adds.jsonl"
    a.write_text(
        "".join(
            json.dumps({"id": f"a{i}", "problem": f"What is {i} + 1?", "answer": str(i + 1)}) + "\n"
            for i in range(3)
        )
    )
    template = tmp_path / "ask.j2"
    template.write_text("Please add. {{ problem }}")
    out = tmp_path / "evals"
    b_only = tmp_path / "b_renamed.parquet"
    _parquet(
        [{"id": f"b{i}", "problem": f"What is {i} + 2?", "answer": str(i + 2)} for i in range(2)], b_only
    )
    code = rlvr(
        [
            "eval",
            "--model",
            tiny_model_dir,
            "--dataset",
            f"{a},{b_only}",
            "--n",
            "4",
            "--max-tokens",
            "8",
            "--template-file",
            str(template),
            "--chat",
            "raw",
            "--no-progress",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["datasets"]) == [str(a), str(b_only)]
    assert summary["datasets"][str(a)]["problems"] == 3 and summary["datasets"][str(b_only)]["problems"] == 2
    assert "| dataset | problems | pass@1 | pass@2 | pass@4 |" in (out / "summary.md").read_text()
    for name, count in (("adds", 3), ("b_renamed", 2)):
        problems = [json.loads(line) for line in (out / name / "problems.jsonl").read_text().splitlines()]
        assert len(problems) == count and problems[0]["prompt"].startswith("Please add. What is")


def test_own_column_names_are_read_and_a_missing_one_is_named(tmp_path):
    from rlvr.data import Columns, load_problems

    path = _parquet([{"uid": "x", "q": "What is 1 + 1?", "gold": "2"}], tmp_path / "own.parquet")
    problems, kind = load_problems(str(path), columns=Columns(problem="q", answer="gold", id="uid"))
    assert (problems[0].id, problems[0].problem, problems[0].answer, kind) == (
        "x",
        "What is 1 + 1?",
        "2",
        "math",
    )
    with pytest.raises(ValueError, match="has no column 'question'.*its columns: uid, q, gold"):
        load_problems(str(path), columns=Columns(problem="question", answer="gold"))


def test_help_lists_choices_that_match_the_registries():
    from rlvr.data import DATASETS
    from rlvr.evaluate.runner import DATASET_NAMES, TEMPLATE_NAMES
    from rlvr.templates import TEMPLATES

    assert set(DATASET_NAMES) == set(DATASETS) and set(TEMPLATE_NAMES) == set(TEMPLATES)


def test_reward_adapters_agree_with_trl():
    from trl.rewards import get_soft_overlong_punishment, think_format_reward

    from rlvr.rewards import get_reward

    texts = ["<think>a</think> 4", "4", "<think>a<think>b</think>", "<think>x</think><answer>4</answer>"]
    assert get_reward("think_format")(completions=texts) == think_format_reward(
        [[{"content": t}] for t in texts]
    )
    ids = [[1] * n for n in (10, 16, 17, 19, 20, 25)]
    ours = get_reward("overlong", max_length=20, buffer=4)(completions=[""] * len(ids), completion_ids=ids)
    assert ours == get_soft_overlong_punishment(20, 4)(ids)
    # DAPO's formula by hand: 0 up to 16 tokens, (16 - L) / 4 up to 20, then -1
    assert ours == [0.0, 0.0, -0.25, -0.75, -1.0, -1.0]
    with pytest.raises(ValueError, match="counts tokens"):
        get_reward("overlong")(completions=["x"])
