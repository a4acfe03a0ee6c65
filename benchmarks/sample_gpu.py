"""Sampling throughput: `rlvr eval` against one plain `model.generate` of every sequence at once.

Ours: `run_eval` with `--samples-per-call auto` (and with 256 per call, the old default), model load, grading
and the store included. Baseline: load the same model and run one `generate(do_sample=True)` call of all
problems x n sequences (the best single plain call when it fits), nothing graded or stored. Same local model,
prompts and settings, in one process. The model is Qwen2.5-0.5B-shaped with random weights on a GPU (24 layers,
hidden 896, 2 KV heads, vocabulary 151,936, bf16), and a small one of the same family on a CPU, where the GPU
shape would take minutes; `--shape` picks another. An untimed plain generate of the full batch warms the GPU
first (the first call of a shape pays its start-up: 12 s against 6.5 s on an H100), and a tiny untimed
`rlvr eval` pays rlvr's imports and starts the math verifier workers, so the side that runs first is not charged for
what a process pays once. Cached memory is released between sides. rlvr's lines also say where its time went:
load, generate, and the grading and storing of the last call (the part that nothing overlaps).
Usage: python benchmarks/sample_gpu.py [--problems 32] [--n 32] [--max-tokens 128] [--shape auto|qwen0.5b|small]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

SHAPES = {
    "qwen0.5b": {
        "hidden_size": 896,
        "intermediate_size": 4864,
        "num_hidden_layers": 24,
        "num_attention_heads": 14,
        "num_key_value_heads": 2,
        "vocab_size": 151936,
    },
    "small": {
        "hidden_size": 128,
        "intermediate_size": 512,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "vocab_size": 8192,
    },
}


def build(out: Path, shape: str, dtype) -> None:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from rlvr.tiny import build_tokenizer

    tokenizer = build_tokenizer(
        [f"What is {a} + {b}? {a + b}" for a in range(50) for b in range(50)], vocab_size=400
    )
    config = Qwen2Config(
        **SHAPES[shape],
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).to(dtype).save_pretrained(out)  # ids past the tokenizer's 400 decode to nothing
    tokenizer.save_pretrained(out)


def load(model_dir: str, device: str, dtype):
    """The tokenizer (left padding, as generate needs for a batch) and the model, on `device`."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = "left"
    return tokenizer, AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).to(device).eval()


def plain_generate(
    model_dir: str, prompts: list[str], n: int, max_tokens: int, device: str, dtype
) -> tuple[float, int]:
    import torch

    start = time.perf_counter()
    tokenizer, model = load(model_dir, device, dtype)
    batch = tokenizer(
        [p for p in prompts for _ in range(n)], return_tensors="pt", padding=True, add_special_tokens=False
    ).to(device)
    torch.manual_seed(0)
    with torch.no_grad():
        out = model.generate(
            **batch,
            do_sample=True,
            temperature=0.6,
            top_p=0.95,
            top_k=None,
            max_new_tokens=max_tokens,
            pad_token_id=tokenizer.pad_token_id,
        )
    if device == "cuda":
        torch.cuda.synchronize()
    tokens = int((out[:, batch["input_ids"].shape[1] :] != tokenizer.pad_token_id).sum())
    return time.perf_counter() - start, tokens


def warm_up(model_dir: str, prompts: list[str], n: int, max_tokens: int, device: str, dtype) -> None:
    """The plain call once, untimed: CUDA context, cuBLAS handles and the kernels for the full batch's shapes, paid
    before either side's clock (on an H100 the first generate of 1,024 sequences took 12 s and the next 6.4 s,
    after a warm-up of 8 short ones)."""
    plain_generate(model_dir, prompts, n, max_tokens, device, dtype)
    release(device)


def release(device: str) -> None:
    """Give cached GPU memory back, so the next side's `auto` sizing sees the card's free memory."""
    import gc

    import torch

    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()


class Phases:
    """Where `rlvr eval`'s time goes: the backend's construction (model load), its calls, and the grading and
    storing of the last call, which nothing overlaps. Times the runner's own functions by wrapping them."""

    def __init__(self) -> None:
        self.seconds = {"load": 0.0, "generate": 0.0, "last grading": 0.0}

    def __enter__(self) -> Phases:
        from rlvr.evaluate import runner

        self._saved = runner.make_backend, runner._grade_and_store
        make_backend, grade_and_store = self._saved

        def timed_backend(*args, **kwargs):
            start = time.perf_counter()
            backend = make_backend(*args, **kwargs)
            self.seconds["load"] += time.perf_counter() - start
            stream = backend.stream

            def timed_stream(*a, **k):
                calls = stream(*a, **k)
                while True:
                    start = time.perf_counter()
                    try:
                        finished = next(calls)
                    except StopIteration:
                        return
                    finally:
                        self.seconds["generate"] += time.perf_counter() - start
                    yield finished

            backend.stream = timed_stream
            return backend

        def timed_grading(*args):
            start = time.perf_counter()
            grade_and_store(*args)
            self.seconds["last grading"] = time.perf_counter() - start  # the last call's is what remains

        runner.make_backend, runner._grade_and_store = timed_backend, timed_grading
        return self

    def __exit__(self, *exc) -> None:
        from rlvr.evaluate import runner

        runner.make_backend, runner._grade_and_store = self._saved

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())


def ours(
    model_dir: str, data: str, out: str, n: int, max_tokens: int, per_call: str
) -> tuple[float, int, Phases]:
    from rlvr.evaluate.runner import EvalConfig, run_eval
    from rlvr.evaluate.store import SampleStore

    start = time.perf_counter()
    with Phases() as phases:
        run_eval(
            EvalConfig(
                model=model_dir,
                out=out,
                data_file=data,
                template="plain",
                chat="raw",
                n=n,
                temperature=0.6,
                top_p=0.95,
                max_tokens=max_tokens,
                backend="hf",
                samples_per_call=per_call,
                progress=False,
            )
        )
    seconds = time.perf_counter() - start
    return seconds, sum(r["tokens"] for r in SampleStore.open_existing(out).records()), phases


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problems", type=int, default=32)
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--shape", default="auto", choices=("auto", *SHAPES))
    args = parser.parse_args()
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    shape = args.shape if args.shape != "auto" else ("qwen0.5b" if device == "cuda" else "small")
    if device == "cpu":
        print("no GPU here: the GPU comparison is skipped; running the CPU comparison on the small shape")
        args.problems, args.n, args.max_tokens = (
            min(args.problems, 8),
            min(args.n, 16),
            min(args.max_tokens, 32),
        )
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = str(Path(tmp) / "model")
        build(Path(model_dir), shape, dtype)
        data = Path(tmp) / "problems.jsonl"
        rows = [
            {"id": f"p{i}", "problem": f"What is {i} + {i % 7}?", "answer": str(i + i % 7)}
            for i in range(args.problems)
        ]
        data.write_text("".join(json.dumps(r) + "\n" for r in rows))
        prompts = [
            f"Question: {r['problem']}\nAnswer:" for r in rows
        ]  # the plain template's text, for the baseline
        warm_up(model_dir, prompts, args.n, args.max_tokens, device, dtype)
        ours(
            model_dir, str(data), str(Path(tmp) / "warm"), 2, 4, "auto"
        )  # imports, verifier workers: paid once
        release(device)
        total = args.problems * args.n
        results = {}
        results["plain generate, one call"] = plain_generate(
            model_dir, prompts, args.n, args.max_tokens, device, dtype
        )
        release(device)
        results["rlvr eval, auto"] = ours(
            model_dir, str(data), str(Path(tmp) / "auto"), args.n, args.max_tokens, "auto"
        )
        release(device)
        results["rlvr eval, 256 per call"] = ours(
            model_dir, str(data), str(Path(tmp) / "256"), args.n, args.max_tokens, "256"
        )
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    print(
        f"{name}, shape {shape}: {args.problems} problems x {args.n} samples, {args.max_tokens} new tokens at most"
    )
    for label, (seconds, tokens, *phases) in results.items():
        print(
            f"{label:26s} {seconds:7.1f} s  {total / seconds:8.1f} samples/s  {tokens / seconds:9.0f} tokens/s"
            + (f"  ({phases[0]})" if phases else "")
        )
    base = results["plain generate, one call"][0]
    print(
        f"rlvr eval auto / plain generate: {base / results['rlvr eval, auto'][0]:.2f}x the plain call's speed"
    )
    print(
        f"rlvr eval auto / 256 per call:   {results['rlvr eval, 256 per call'][0] / results['rlvr eval, auto'][0]:.2f}x"
    )


if __name__ == "__main__":
    main()
