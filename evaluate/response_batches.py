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

    def start(self, row: int) -> int:
        """Index among the kept logits of the first position predicting one of `row`'s response tokens: the
        prompt's last; with an empty prompt nothing predicts the first response token, so the second's."""
        return max(self.prompt_lengths[row] - 1, 0) - self.first

    def unpredicted(self, row: int) -> int:
        """Response tokens of `row` that no position predicts: its first when the prompt is empty."""
        return 1 if self.prompt_lengths[row] == 0 and self.response_lengths[row] else 0

    def logits(self, model) -> torch.Tensor:
        """The model's logits at positions first .. width - 1 (sliced again for a model that takes
        `logits_to_keep` but returns every position)."""
        out = model(input_ids=self.ids, attention_mask=self.attention, logits_to_keep=self.keep).logits
        return out[:, -self.keep :]


def response_batches(tokenizer, prompts: list[str], responses: list[str], batch_size: int, device):
    """Yields ResponseBatch of up to `batch_size` samples, shortest first; each sample's tokens are its prompt's
    then its response's, tokenized apart (as they were sampled). Samples with no tokens at all are left out."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    encoded = [
        (
            tokenizer(p, add_special_tokens=False)["input_ids"],
            tokenizer(r, add_special_tokens=False)["input_ids"],
        )
        for p, r in zip(prompts, responses)
    ]
    order = sorted(
        (i for i, (p, r) in enumerate(encoded) if p or r),
        key=lambda i: len(encoded[i][0]) + len(encoded[i][1]),
    )
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
