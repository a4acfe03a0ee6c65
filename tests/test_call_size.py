"""`--samples-per-call auto`: the memory arithmetic against a real KV cache, the halving retry on
out-of-memory, and grading beside generation."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from rlvr.evaluate import call_size
from rlvr.evaluate.backends.base import SamplingSettings
from rlvr.evaluate.plan import pack_calls, plan_units, sample_seed


def _gqa_model():
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=300,
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=3,
        num_attention_heads=8,
        num_key_value_heads=2,
        max_position_embeddings=256,
    )
    torch.manual_seed(0)
    return Qwen2ForCausalLM(config).eval()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_kv_arithmetic_matches_a_real_cache(dtype):
    model = _gqa_model().to(dtype)
    batch, tokens = 5, 23
    with torch.no_grad():
        out = model(torch.randint(0, 300, (batch, tokens)), use_cache=True)
    cache_bytes = sum(
        t.numel() * t.element_size()
        for layer in out.past_key_values.layers
        for t in (layer.keys, layer.values)
    )
    assert cache_bytes == batch * tokens * call_size.kv_bytes_per_token(
        model.config, torch.finfo(dtype).bits // 8
    )


def test_auto_size_fills_the_margin_of_a_fake_budget():
    from transformers import Qwen2Config

    qwen05 = Qwen2Config(
        vocab_size=151936,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
    )  # Qwen2.5-0.5B's shape
    per_sequence = call_size.bytes_per_sequence(qwen05, 2, prompt_tokens=200, max_tokens=1024)
    assert per_sequence > 12_288 * 1224  # 24 layers x 2 KV heads x 64 dims x K,V x bf16 = 12 KiB per token
    free = 70 * 2**30
    fitted = call_size.fit_samples_per_call(free, per_sequence, qwen05.vocab_size)
    sampler = call_size.SAMPLER_ROWS * qwen05.vocab_size * 24
    assert (
        fitted * per_sequence + sampler
        <= free * call_size.MEMORY_MARGIN
        < (fitted + 1) * per_sequence + sampler
    )
    assert 1024 < fitted < call_size.MAX_SAMPLES_PER_CALL
    assert call_size.fit_samples_per_call(10 * 2**20, per_sequence, qwen05.vocab_size) == 1  # never zero
    assert (
        call_size.fit_samples_per_call(2**50, per_sequence, qwen05.vocab_size)
        == call_size.MAX_SAMPLES_PER_CALL
    )


def test_samples_per_call_accepts_auto_or_a_positive_count():
    assert call_size.parse_samples_per_call("auto") is None
    assert call_size.parse_samples_per_call("512") == 512 and call_size.parse_samples_per_call(8) == 8
    for bad in ("0", "-3", "lots", 0):
        with pytest.raises(ValueError, match="--samples-per-call takes auto or a positive count"):
            call_size.parse_samples_per_call(bad)


def _calls(per_call: int, n: int = 8):
    prompts = {f"p{i}": f"What is {i} + {i % 3}?" for i in range(3)}
    return pack_calls(
        plan_units(list(prompts), n), {}, per_call, prompts, lambda pid, s: sample_seed(7, pid, s)
    )


def test_out_of_memory_halves_the_call_and_keeps_every_seed(tiny_model_dir, capsys):
    from rlvr.evaluate.backends.hf import HFBackend

    settings = SamplingSettings(n=8, temperature=0.8, top_p=0.95, max_tokens=10)
    backend = HFBackend(tiny_model_dir, device="cpu")
    backend.prune_finished = False  # packed generate, the GPU's path, where memory runs out
    expected = [g.text for _, gens in next(backend.stream(_calls(24), settings)) for g in gens]
    real_generate = backend.model.generate

    def generate_within_six_rows(**kwargs):  # a device that holds 6 sequences
        if kwargs["input_ids"].shape[0] > 6:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated: more than 6 rows)")
        return real_generate(**kwargs)

    backend.model.generate = generate_within_six_rows
    got = [g.text for _, gens in next(backend.stream(_calls(24), settings)) for g in gens]
    assert got == expected and backend.row_limit == 6
    assert "out of memory at 24 sequences per call; retrying at 12" in capsys.readouterr().err


def test_grading_runs_while_the_next_call_generates(tiny_model_dir):
    """The store receives call i's graded samples while call i+1 is being generated."""
    from rlvr.evaluate.backends.hf import HFBackend
    from rlvr.evaluate.runner import sample_and_grade
    from rlvr.rewards import get_reward

    backend = HFBackend(tiny_model_dir, device="cpu")
    grader = get_reward("math")
    spans: dict[str, list[tuple[float, float]]] = {"generate": [], "grade": []}
    real_generate = backend.generate

    def timed_generate(requests, settings):
        start = time.perf_counter()
        out = real_generate(requests, settings)
        spans["generate"].append((start, time.perf_counter()))
        return out

    backend.generate = timed_generate
    stored, threads = [], set()

    def grade_and_store(records):
        start = time.perf_counter()
        threads.add(threading.current_thread().name)
        for record, grade in zip(
            records, grader.grade([r["text"] for r in records], answer=["3"] * len(records))
        ):
            record.update(correct=grade.correct, verdict=grade.verdict)
        stored.extend(records)
        spans["grade"].append((start, time.perf_counter()))

    sample_and_grade(
        backend,
        _calls(4, n=16),
        SamplingSettings(n=16, temperature=1.0, top_p=1.0, max_tokens=40),
        grade_and_store,
    )
    assert len(stored) == 48 and sorted((r["problem"], r["sample"]) for r in stored) == sorted(
        (f"p{i}", s) for i in range(3) for s in range(16)
    )
    assert threads == {"rlvr-grade_0"}
    overlaps = [(g, s) for g in spans["grade"] for s in spans["generate"] if g[0] < s[1] and s[0] < g[1]]
    assert overlaps, f"grading never overlapped generation: {spans}"


def test_call_size_and_vllm_flags_are_checked_before_anything_loads(capsys, tmp_path):
    from cli_helpers import one_line_error

    args = (
        "eval",
        "--model",
        str(tmp_path / "missing"),
        "--data-file",
        str(tmp_path / "missing.jsonl"),
        "--out",
        str(tmp_path / "out"),
        "--backend",
        "hf",
    )
    assert "--samples-per-call takes auto or a positive count" in one_line_error(
        capsys, *args, "--samples-per-call", "0"
    )
    err = one_line_error(capsys, *args, "--tensor-parallel-size", "2", "--max-model-len", "4096")
    assert "--tensor-parallel-size, --max-model-len only apply to --backend vllm (this run uses hf)" in err
