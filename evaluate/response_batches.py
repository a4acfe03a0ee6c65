"""Batches of prompt + response token ids for scoring passes (entropy, perplexity) that cost what the responses do.

Scoring a stored sample needs the model's logits only where a response token is drawn, but a forward pass runs
over every position of the padded batch. Two things keep that small: samples are batched in order of length,
so a batch pads to about its own length rather than to the longest sample's, and logits are kept only from the
batch's first drawing position on (`logits_to_keep`), so the prompts' logits are never built.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class ResponseBatch:
    indices: list[int]  # positions in the caller's lists, in this batch's row order
    ids: torch.Tensor  # rows x width, right-padded
    attention: torch.Tensor
    prompt_lengths: list[int]
    response_lengths: list[int]
    first: int  # the first position whose logits predict a response token: min prompt length - 1
    keep: int  # logits_to_keep: positions first .. width - 1


def response_batches(tokenizer, prompts: list[str], responses: list[str], batch_size: int, device):
    """Yields ResponseBatch of up to `batch_size` samples, shortest first; each sample's tokens are its prompt's
    then its response's, tokenized apart (as they were sampled)."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    encoded = [
        (
            tokenizer(p, add_special_tokens=False)["input_ids"],
            tokenizer(r, add_special_tokens=False)["input_ids"],
        )
        for p, r in zip(prompts, responses)
    ]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]) + len(encoded[i][1]))
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        seqs = [encoded[i][0] + encoded[i][1] for i in indices]
        width = max(len(s) for s in seqs)
        first = max(0, min(len(encoded[i][0]) for i in indices) - 1)
        yield ResponseBatch(
            indices=indices,
            ids=torch.tensor([s + [pad_id] * (width - len(s)) for s in seqs], device=device),
            attention=torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=device),
            prompt_lengths=[len(encoded[i][0]) for i in indices],
            response_lengths=[len(encoded[i][1]) for i in indices],
            first=first,
            keep=width - first,
        )
