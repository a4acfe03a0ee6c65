"""The demo's base model: a small Qwen2 built and pretrained here on worked solutions (minutes on a CPU; on the
GPU when there is one)."""

from __future__ import annotations

import math
import random
from pathlib import Path

from rlvr.templates import get_template

PROMPT = get_template("plain").raw  # "Question: {problem}\nAnswer:"; the demo trains and evaluates with it


def deterministic_attention() -> str | None:
    """The attention every demo trains with: eager on a GPU, whose backward is deterministic; SDPA's
    memory-efficient and flash backward kernels are not (torch's deterministic mode only warns about them unless
    made strict, and strict mode stops at any op without a deterministic kernel), and the demos promise that a
    rerun under the same seed reproduces every sample. None (transformers' default) on a CPU."""
    import torch

    return "eager" if torch.cuda.is_available() else None


def pretrain(
    out_dir: str | Path,
    pairs: list[tuple[str, str]],
    steps: int,
    hidden: int = 128,
    layers: int = 4,
    batch_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    progress: bool = True,
) -> Path:
    """Train a fresh tiny model on `pairs` (problem, worked solution) with next-token loss; save it."""
    import torch
    from tqdm.auto import tqdm

    from rlvr.threads import fix_cpu_threads
    from rlvr.tiny import build_model, build_tokenizer

    fix_cpu_threads()

    out = Path(out_dir)
    texts = [PROMPT.format(problem=p) + s + "<|im_end|>" for p, s in pairs]
    tokenizer = build_tokenizer(texts[:20000], vocab_size=640)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    # the weights are initialised on the CPU either way
    model = build_model(
        tokenizer,
        hidden_size=hidden,
        layers=layers,
        heads=4,
        seed=seed,
        max_positions=128,
        attn_implementation=deterministic_attention(),
    ).to(device)
    # Train on the tokenization every later reader gets: a tokenizer reloaded beside a Qwen2 config
    # pre-tokenizes digits one by one, unlike the in-memory one it was saved from.
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    model.config.save_pretrained(out)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(out)
    encoded = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    warmup = max(steps // 20, 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0))))
    )
    rng = random.Random(seed)
    torch.manual_seed(seed)
    model.train()
    bar = tqdm(range(steps), desc="pretrain base model", disable=not progress, dynamic_ncols=True)
    for _ in bar:
        batch = [encoded[rng.randrange(len(encoded))] for _ in range(batch_size)]
        width = max(len(x) for x in batch)
        ids = torch.full((batch_size, width), tokenizer.pad_token_id)
        labels = torch.full((batch_size, width), -100)
        mask = torch.zeros((batch_size, width), dtype=torch.long)
        for i, x in enumerate(batch):
            ids[i, : len(x)] = torch.tensor(x)
            labels[i, : len(x)] = torch.tensor(x)
            mask[i, : len(x)] = 1
        loss = model(input_ids=ids.to(device), attention_mask=mask.to(device), labels=labels.to(device)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        bar.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()
    model.save_pretrained(out)
    return out
