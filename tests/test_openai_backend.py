"""`rlvr eval --backend openai` against vLLM's own OpenAI server (the vLLM lane, `make test-vllm`, .venv-vllm).

The server runs from the lane's venv on 127.0.0.1 (rlvr.evaluate.backends.vllm_server) with a random 2-layer Qwen2 of head_dim
32 (vLLM's CPU attention needs >= 32) and the in-process backend's engine options. Checked: the store is complete;
two runs give the same texts (each request carries its sample's seed); the in-process `--backend vllm` with the
same model and seeds gives the same samples; kill -9 of the server mid-run, then a restarted server, resumes to
the same store. Skipped without vLLM, failed instead in the lane (RLVR_VLLM_LANE=1).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

if importlib.util.find_spec("vllm") is None:
    if os.environ.get("RLVR_VLLM_LANE") == "1":
        raise RuntimeError("RLVR_VLLM_LANE=1 but vLLM does not import: build .venv-vllm with make test-vllm")
    pytest.skip("vLLM is not installed (make test-vllm runs these)", allow_module_level=True)

from rlvr.evaluate.backends.vllm_server import VLLMServer  # noqa: E402

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB of KV cache; the machine is shared
os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
pytestmark = pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="checks vLLM's CPU build; a GPU runs vLLM's GPU build"
)

PROBLEMS, N, MAX_TOKENS = 24, 32, 24
ENV = {**os.environ, "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> str:
    from conftest import TINY_CORPUS

    from rlvr.tiny import save_tiny_model

    out = tmp_path_factory.mktemp("served-model")
    save_tiny_model(out, TINY_CORPUS, vocab_size=400, hidden_size=64, layers=2, heads=2)
    return str(out)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("served-data") / "problems.jsonl"
    rows = [
        {"id": f"q{i}", "problem": f"What is {i} + {i % 5}?", "answer": str(i + i % 5)}
        for i in range(PROBLEMS)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.fixture(scope="module")
def server(model_dir, tmp_path_factory):
    running = VLLMServer(model_dir, log=tmp_path_factory.mktemp("server") / "vllm.log").start()
    yield running
    running.kill()


def eval_command(model: str, data: str, out: Path, backend: str, *extra: str) -> list[str]:
    command = [sys.executable, "-m", "rlvr.cli", "eval", "--model", model, "--data-file", data]
    command += ["--template", "plain", "--chat", "raw", "--n", str(N), "--max-tokens", str(MAX_TOKENS)]
    command += [
        "--temperature",
        "1.0",
        "--seed",
        "3",
        "--backend",
        backend,
        "--no-progress",
        "--out",
        str(out),
    ]
    return [*command, *extra]


def texts(store: Path) -> dict[tuple[str, int], tuple[str, int, str]]:
    rows = [json.loads(x) for x in (store / "samples.jsonl").read_text().splitlines() if x.strip()]
    got: dict[tuple[str, int], tuple[str, int, str]] = {}
    for r in rows:
        got.setdefault((r["problem"], r["sample"]), (r["text"], r["tokens"], r["finish_reason"]))
    return got


@pytest.fixture(scope="module")
def served_store(server, model_dir, data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("served") / "store"
    command = eval_command(model_dir, data, out, "openai", "--base-url", server.url)
    subprocess.run(command, env=ENV, check=True, timeout=900)
    return out


def test_the_store_is_complete_and_records_the_server(served_store, model_dir):
    got = texts(served_store)
    assert set(got) == {(f"q{i}", s) for i in range(PROBLEMS) for s in range(N)}
    assert all(0 < tokens <= MAX_TOKENS for _, tokens, _ in got.values())
    results = json.loads((served_store / "results.json").read_text())
    assert sum(p["n"] for p in results["problems"].values()) == PROBLEMS * N
    meta = json.loads((served_store / "meta.json").read_text())
    assert (meta["backend"], meta["served_model"], meta["server_version"]) == ("openai", model_dir, "0.31.0")
    assert meta["server_ignores_seed"] is False  # vLLM honours a request's seed


def test_two_runs_give_the_same_texts(served_store, server, model_dir, data, tmp_path):
    out = tmp_path / "again"
    command = eval_command(model_dir, data, out, "openai", "--base-url", server.url, "--concurrency", "17")
    subprocess.run(command, env=ENV, check=True, timeout=900)
    assert texts(out) == texts(served_store)


def test_the_in_process_vllm_backend_gives_the_same_samples(served_store, model_dir, data, tmp_path):
    """Same engine version, options, dtype (float32), prompts tokenized alike and per-request seeds: the
    samples are the same, text, token count and finish reason."""
    out = tmp_path / "in-process"
    subprocess.run(
        eval_command(model_dir, data, out, "vllm", "--dtype", "fp32"), env=ENV, check=True, timeout=900
    )
    assert texts(out) == texts(served_store)


def test_kill_9_of_the_server_mid_run_then_a_restarted_server_resumes(
    served_store, server, model_dir, data, tmp_path
):
    out = tmp_path / "killed"
    command = eval_command(model_dir, data, out, "openai", "--base-url", server.url, "--request-retries", "2")
    run = subprocess.Popen(command, env=ENV, stderr=subprocess.PIPE, text=True)
    lines = out / "samples.jsonl"
    deadline = time.monotonic() + 600
    while run.poll() is None and time.monotonic() < deadline:
        if lines.exists() and len(lines.read_text().splitlines()) >= 128:
            break
        time.sleep(0.1)
    assert run.poll() is None, "the run ended before the server could be killed"
    server.kill()
    _, err = run.communicate(timeout=300)
    assert run.returncode == 2
    assert "rerun the same command to resume" in err.strip().splitlines()[-1]
    stored = texts(out)
    assert 128 <= len(stored) < PROBLEMS * N
    assert all(
        served_store_text == stored[key]
        for key, served_store_text in texts(served_store).items()
        if key in stored
    )
    server.start()  # the same model at the same address
    subprocess.run(command, env=ENV, check=True, timeout=900)
    assert texts(out) == texts(served_store)
    assert (out / "results.json").exists()
