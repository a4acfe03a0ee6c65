"""The policy's token entropy over its own samples (the paper's Figure 17), in one scoring pass.

At each position where a sample drew a token, the entropy of the distribution it was drawn from,
softmax(logits / temperature) (top-p, top-k and min-p are not applied), including the position that drew the
end of sequence for a sample that stopped. The mean is over all such positions of all scored samples (token-weighted).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from rlvr.evaluate.answer_support import ENTROPY_FILE

MAX_PER_PROBLEM = 16  # samples per problem scored: the mean settles long before n = 256
SCORING_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}  # else float32


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
    from rlvr.evaluate.response_batches import response_batches

    device = next(model.parameters()).device
    out: list[list[float]] = [[] for _ in prompts]
    for batch in response_batches(tokenizer, prompts, responses, batch_size, device):
        logp = torch.log_softmax(batch.logits(model).float() / max(temperature, 1e-6), dim=-1)
        entropy = -(logp.exp() * logp).sum(-1)
        for row, index in enumerate(batch.indices):
            lo = batch.start(row)
            drawn = batch.response_lengths[row] + (1 if stopped[index] else 0) - batch.unpredicted(row)
            out[index] = entropy[row, lo : lo + drawn].tolist()
    return out


def store_entropy(
    model_path: str | Path,
    store_dir: str | Path,
    max_per_problem: int = MAX_PER_PROBLEM,
    batch_size: int = 16,
    device: str | None = None,
) -> dict:
    """Mean token entropy of `model_path` over (up to `max_per_problem` per problem of) the samples in a store
    it wrote, at the store's temperature and in the precision they were drawn in (its sampled dtype);
    written to STORE/entropy.json and returned."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr.evaluate.store import SampleStore

    store = SampleStore.open_existing(store_dir)
    temperature = float(store.meta.get("temperature") or 1.0)
    prompts = {str(p["id"]): p["prompt"] for p in store.problems()}
    taken: dict[str, int] = {}
    chosen = []
    for record in store.counted_records():
        pid = str(record["problem"])
        if taken.get(pid, 0) < max_per_problem:
            taken[pid] = taken.get(pid, 0) + 1
            chosen.append(record)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        from rlvr.threads import fix_cpu_threads

        fix_cpu_threads()
    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    dtype = SCORING_DTYPES.get(store.meta.get("sampled_dtype"), torch.float32)
    model = AutoModelForCausalLM.from_pretrained(str(model_path), dtype=dtype).to(device).eval()
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
        "dtype": str(dtype).removeprefix("torch."),
        "model": str(model_path),
    }
    (Path(store_dir) / ENTROPY_FILE).write_text(json.dumps(result, indent=2))
    return result
