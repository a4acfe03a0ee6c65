"""Per-response perplexity of one model on stored responses: how expected are another model's answers?"""

from __future__ import annotations

import math
from pathlib import Path

import torch


@torch.no_grad()
def response_perplexities(
    model_path: str,
    prompts: list[str],
    responses: list[str],
    batch_size: int = 16,
    device: str | None = None,
    progress: bool = True,
) -> list[float]:
    """exp(mean negative log-likelihood of the response tokens given the prompt), one per response."""
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr.models import resolve_model

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model_path = resolve_model(model_path, progress)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    model = (
        AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32 if device == "cpu" else "auto")
        .to(device)
        .eval()
    )
    out: list[float] = []
    for start in tqdm(range(0, len(prompts), batch_size), desc="perplexity", disable=not progress):
        seqs, masks = [], []
        for prompt, response in zip(
            prompts[start : start + batch_size], responses[start : start + batch_size]
        ):
            p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            r = tokenizer(response, add_special_tokens=False)["input_ids"]
            seqs.append(p + r)
            masks.append([0] * len(p) + [1] * len(r))
        width = max(len(s) for s in seqs)
        ids = torch.tensor([s + [pad_id] * (width - len(s)) for s in seqs], device=device)
        attention = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=device)
        scored = torch.tensor([m + [0] * (width - len(m)) for m in masks], device=device, dtype=torch.float32)
        logits = model(input_ids=ids, attention_mask=attention).logits[:, :-1].float()
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none")
        weight = scored[:, 1:]
        for row_nll, row_w in zip(nll, weight):
            count = row_w.sum().item()
            out.append(math.exp((row_nll * row_w).sum().item() / count) if count else float("nan"))
    return out


def store_perplexities(
    model_path: str,
    store_path: str | Path,
    correct_only: bool = True,
    max_per_problem: int = 8,
    batch_size: int = 16,
    progress: bool = True,
) -> tuple[list[str], list[float]]:
    """(problem ids, perplexities) under `model_path` of a sample store's responses: the correct ones (or all),
    at most `max_per_problem` per problem, in the store's order."""
    from rlvr.evaluate.store import SampleStore

    store = SampleStore.open_existing(store_path)
    prompts = {str(p["id"]): p["prompt"] for p in store.problems()}
    per_problem: dict[str, int] = {}
    chosen = []
    for record in store.records():
        pid = str(record["problem"])
        if (record["correct"] or not correct_only) and per_problem.get(pid, 0) < max_per_problem:
            per_problem[pid] = per_problem.get(pid, 0) + 1
            chosen.append(record)
    values = (
        response_perplexities(
            model_path,
            [prompts[str(r["problem"])] for r in chosen],
            [r["text"] for r in chosen],
            batch_size,
            progress=progress,
        )
        if chosen
        else []
    )
    return [str(r["problem"]) for r in chosen], values


def median_interval(values: list[float], resamples: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """(median, 2.5%, 97.5%) of the finite values: a percentile bootstrap over responses."""
    import numpy as np

    finite = np.asarray([v for v in values if math.isfinite(v)])
    if not len(finite):
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    boot = np.median(finite[rng.integers(0, len(finite), (resamples, len(finite)))], axis=1)
    return float(np.median(finite)), float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))
