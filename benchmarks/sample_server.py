"""Sampling through a server: `rlvr eval --backend openai` against vLLM's OpenAI server, and the same vLLM engine
in-process (`rlvr eval --backend vllm`), same model, problems, n and settings.

Both are whole `run_eval`s in this process (prompts, requests, grading and the store included), each timed after
an untimed tiny eval of its own that pays what a process or a server pays once (imports, the in-process engine's
load, the server's first requests); the server is started before and is not timed, as a lab's servers are up
before an evaluation. tokens/s is the stored samples' tokens over the eval's wall time. The model is a random
Qwen2 of benchmarks/sample_gpu.py's shapes: `small` (float32) on a CPU, `qwen0.5b` (bfloat16) on a GPU.
Needs vLLM (on a CPU the lane's venv: make .venv-vllm/.rlvr-installed; .venv-vllm/bin/python benchmarks/...).
Each side runs `--rounds` times, alternated, and its fastest run counts (the machine may be shared).
Usage: python benchmarks/sample_server.py [--problems 16] [--n 16] [--max-tokens 64] [--concurrency 256] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def eval_config(model: str, data: str, out: Path, backend: str, args, **more):
    from rlvr.evaluate.runner import EvalConfig

    return EvalConfig(
        model=model,
        data_file=data,
        out=str(out),
        template="plain",
        chat="raw",
        n=args.n,
        max_tokens=args.max_tokens,
        temperature=1.0,
        seed=0,
        backend=backend,
        progress=False,
        **more,
    )


def timed_eval(cfg) -> tuple[float, int]:
    from rlvr.evaluate.runner import run_eval

    start = time.perf_counter()
    run_eval(cfg)
    seconds = time.perf_counter() - start
    lines = (Path(cfg.out) / "samples.jsonl").read_text().splitlines()
    return seconds, sum(json.loads(line)["tokens"] for line in lines if line.strip())


def texts(store: Path) -> dict[tuple[str, int], str]:
    rows = [json.loads(line) for line in (store / "samples.jsonl").read_text().splitlines() if line.strip()]
    return {(r["problem"], r["sample"]): r["text"] for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=16)
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2, help="timed runs of each side, alternated")
    args = parser.parse_args()
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        print("sample_server: skipped, vLLM is not installed here (run it with .venv-vllm/bin/python)")
        return
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sample_gpu import build

    from rlvr.evaluate.backends.vllm_server import VLLMServer

    gpu = torch.cuda.is_available()
    shape, dtype = ("qwen0.5b", torch.bfloat16) if gpu else ("small", torch.float32)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = str(tmp / "model")
        build(Path(model), shape, dtype)
        data = tmp / "problems.jsonl"
        rows = [
            {"id": f"p{i}", "problem": f"What is {i} + {i % 7}?", "answer": str(i + i % 7)} for i in range(64)
        ]
        data.write_text("".join(json.dumps(r) + "\n" for r in rows))
        server = VLLMServer(model, log=tmp / "vllm.log", dtype=str(dtype).removeprefix("torch.")).start()
        try:
            openai = {"base_url": server.url, "concurrency": args.concurrency}
            small = argparse.Namespace(n=2, max_tokens=4)
            timed_eval(eval_config(model, str(data), tmp / "warm-server", "openai", small, limit=2, **openai))
            timed_eval(eval_config(model, str(data), tmp / "warm-engine", "vllm", small, limit=2))
            limit = {"limit": args.problems}
            runs: dict[str, list[tuple[float, int]]] = {"vllm": [], "openai": []}
            for round_ in range(args.rounds):  # alternated, so that neither side gets the quieter minutes
                for side, more in (("vllm", {}), ("openai", openai)):
                    out = tmp / f"{side}-{round_}"
                    runs[side].append(
                        timed_eval(eval_config(model, str(data), out, side, args, **limit, **more))
                    )
            same = texts(tmp / "vllm-0") == texts(tmp / "openai-0")
        finally:
            server.kill()
    (engine_s, engine_tokens), (served_s, served_tokens) = (min(runs[side]) for side in ("vllm", "openai"))
    device = torch.cuda.get_device_name() if gpu else "CPU"
    print(
        f"{device}, model {shape} ({dtype}), {args.problems} problems x n={args.n}, {args.max_tokens} new tokens"
    )
    print(
        f"in-process --backend vllm: {engine_tokens} tokens in {engine_s:.1f} s = {engine_tokens / engine_s:.0f} tokens/s"
    )
    print(
        f"server --backend openai:   {served_tokens} tokens in {served_s:.1f} s = {served_tokens / served_s:.0f} tokens/s"
    )
    print(f"best of {args.rounds} alternated runs each; the same samples on both sides: {same}")
    print(f"ratio (server / in-process): {(served_tokens / served_s) / (engine_tokens / engine_s):.2f}x")


if __name__ == "__main__":
    main()
