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

    from rlvr.evaluate.response_batches import response_batches
    from rlvr.models import resolve_model

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model_path = resolve_model(model_path, progress)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = (
        AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32 if device == "cpu" else "auto")
        .to(device)
        .eval()
    )
    out = [float("nan")] * len(prompts)
    batches = response_batches(tokenizer, prompts, responses, batch_size, device)
    for batch in tqdm(batches, total=-(-len(prompts) // batch_size), desc="perplexity", disable=not progress):
        # the kept logits at positions first .. width - 2 predict the tokens at first + 1 .. width - 1
        logits = batch.logits(model)[:, :-1].float()
        targets = batch.ids[:, batch.first + 1 :]
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
        for row, index in enumerate(batch.indices):
            lo = batch.start(row)
            scored = nll[row, lo : lo + batch.response_lengths[row] - batch.unpredicted(row)]
            if len(scored):
                out[index] = math.exp(scored.mean().item())
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
    for record in store.counted_records():  # under a sequential rule, the samples it counts
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
