"""The policy's token entropy over its own samples (the paper's Figure 17), in one scoring pass.

At each position where a sample drew a token, the entropy of the distribution it was drawn from,
softmax(logits / temperature) (top-p is not applied), including the position that drew the end of sequence
for a sample that stopped. The mean is over all such positions of all scored samples (token-weighted).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from rlvr.evaluate.answer_support import ENTROPY_FILE

MAX_PER_PROBLEM = 16  # samples per problem scored: the mean settles long before n = 256


@torch.no_grad()
def token_entropies(
    model,
    tokenizer,
    prompts: list[str],
    responses: list[str],
    stopped: list[bool],
    temperature: float = 1.0,
    batch_size: int = 16,
) -> list[list[float]]:
    """Per response, the entropy (nats) at each position that drew one of its tokens (and its end token)."""
    device = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out: list[list[float]] = []
    for start in range(0, len(prompts), batch_size):
        seqs, spans = [], []
        for prompt, response, stop in zip(
            prompts[start : start + batch_size],
            responses[start : start + batch_size],
            stopped[start : start + batch_size],
        ):
            p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            r = tokenizer(response, add_special_tokens=False)["input_ids"]
            seqs.append(p + r)
            spans.append((len(p) - 1, len(p) + len(r) - (0 if stop else 1)))
        width = max(len(s) for s in seqs)
        ids = torch.tensor([s + [pad_id] * (width - len(s)) for s in seqs], device=device)
        attention = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=device)
        logits = model(input_ids=ids, attention_mask=attention).logits.float() / max(temperature, 1e-6)
        logp = torch.log_softmax(logits, dim=-1)
        entropy = -(logp.exp() * logp).sum(-1)
        for row, (lo, hi) in zip(entropy, spans):
            out.append(row[lo:hi].tolist())
    return out


def store_entropy(
    model_path: str | Path,
    store_dir: str | Path,
    max_per_problem: int = MAX_PER_PROBLEM,
    batch_size: int = 16,
    device: str | None = None,
) -> dict:
    """Mean token entropy of `model_path` over (up to `max_per_problem` per problem of) the samples in a store
    it wrote, at the store's temperature; written to STORE/entropy.json and returned."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr.evaluate.store import SampleStore

    store = SampleStore.open_existing(store_dir)
    temperature = float(store.meta.get("temperature") or 1.0)
    prompts = {str(p["id"]): p["prompt"] for p in store.problems()}
    taken: dict[str, int] = {}
    chosen = []
    for record in store.records():
        pid = str(record["problem"])
        if taken.get(pid, 0) < max_per_problem:
            taken[pid] = taken.get(pid, 0) + 1
            chosen.append(record)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        from rlvr.threads import fix_cpu_threads

        fix_cpu_threads()
    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    model = AutoModelForCausalLM.from_pretrained(str(model_path), dtype=torch.float32).to(device).eval()
    values = token_entropies(
        model,
        tokenizer,
        [prompts[str(r["problem"])] for r in chosen],
        [r["text"] for r in chosen],
        [r.get("finish_reason") == "stop" for r in chosen],
        temperature,
        batch_size,
    )
    flat = [v for row in values for v in row]
    result = {
        "mean_token_entropy": sum(flat) / len(flat) if flat else float("nan"),
        "tokens": len(flat),
        "samples": len(chosen),
        "temperature": temperature,
        "model": str(model_path),
    }
    (Path(store_dir) / ENTROPY_FILE).write_text(json.dumps(result, indent=2))
    return result
