"""One random stream per sample, whatever batch it is drawn in.

`model.generate(do_sample=True)` draws every row from one global generator, so a sample's text depends on
which other samples shared its call: the call size would decide the results, and a machine with more memory
would get other samples than one with less. Here each sample owns a seed (from the run's seed, its problem and
its index), and its token at step t is drawn by inverse CDF from a counter-based uniform splitmix64(seed, t):
the same draw in a call of 8 or of 4,096, on a resume, on another shard. `SeededSampler` is a logits processor
that does the draw and leaves one finite logit, so `generate` runs greedy and picks it.
"""

from __future__ import annotations

import torch
from transformers import LogitsProcessor

_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_ROWS_PER_DRAW = 512  # rows sorted at once: bounds the sampler's memory at vocab x 512 x ~24 bytes
_HEAD = 256  # on a CPU, top-p looks among this many most probable tokens first (_draw_from_head)
# vLLM samples greedily below this temperature (its _SAMPLING_EPS); below it logits / temperature overflow float32
# to inf and the softmax to nan (1e-40 drew the least probable token), so here too it is greedy
GREEDY_BELOW = 1e-5


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _shift_right(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical right shift of int64 (torch's >> is arithmetic)."""
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def splitmix64(x: torch.Tensor) -> torch.Tensor:
    """splitmix64's finaliser on int64 tensors, wrapping like uint64."""
    z = x + _signed(_GOLDEN)
    z = (z ^ _shift_right(z, 30)) * _signed(_MIX1)
    z = (z ^ _shift_right(z, 27)) * _signed(_MIX2)
    return z ^ _shift_right(z, 31)


def uniforms(seeds: torch.Tensor, step: int) -> torch.Tensor:
    """One uniform in [0, 1) per seed for this decoding step (float64)."""
    bits = splitmix64(splitmix64(seeds) + step)
    return _shift_right(bits, 11).to(torch.float64) * (2.0**-53)


def restrict(scaled: torch.Tensor, top_k: int = 0, min_p: float = 0.0) -> torch.Tensor:
    """Temperature-scaled logits with the tokens min-p and top-k leave out set to -inf, in vLLM's order (min-p,
    top-k, then top-p on what is left, renormalised): min-p keeps tokens at least min_p times as probable as the
    most probable one; top-k keeps those at least as large as the k-th largest (ties with it kept, as vLLM and
    transformers keep them). 0 turns either off."""
    if min_p > 0:
        probs = torch.softmax(scaled, dim=-1)
        scaled = scaled.masked_fill(probs < min_p * probs.amax(dim=-1, keepdim=True), float("-inf"))
    if 0 < top_k < scaled.shape[-1]:
        kth = torch.topk(scaled, top_k, dim=-1).values[:, -1:]
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    return scaled


def draw(
    logits: torch.Tensor,
    u: torch.Tensor,
    temperature: float,
    top_p: float,
    head: bool = True,
    top_k: int = 0,
    min_p: float = 0.0,
) -> torch.Tensor:
    """Token ids drawn from softmax(logits / temperature), restricted by min-p and top-k (`restrict`) and then
    to the top-p nucleus, by inverse CDF at u: over the stable sort of the whole vocabulary, which a CPU
    shortcuts by its head where that is the same draw (`head=False` computes the definition directly). A
    temperature below GREEDY_BELOW is greedy, as in vLLM."""
    if temperature < GREEDY_BELOW:
        return logits.argmax(dim=-1)
    scaled = logits.float() / temperature
    if top_k > 0 or min_p > 0:
        scaled = restrict(scaled, top_k, min_p)
    probs = torch.softmax(scaled, dim=-1)
    if top_p >= 1.0:
        return _inverse_cdf(probs, u).squeeze(1)
    use_head = head and probs.device.type == "cpu" and probs.shape[1] > 4 * _HEAD
    # the head holds at most _HEAD times the largest probability: flatter rows go straight to the full sort
    hopeful = probs.amax(dim=-1) * _HEAD >= top_p if use_head else None
    if hopeful is None or not bool(hopeful.any()):
        return _draw_full(probs, u, top_p)
    if bool(hopeful.all()):  # no row copies
        tokens, decided = _draw_from_head(probs, u, top_p)
    else:
        tokens = torch.empty(probs.shape[0], dtype=torch.long)
        decided = torch.zeros(probs.shape[0], dtype=torch.bool)
        tokens[hopeful], decided[hopeful] = _draw_from_head(probs[hopeful], u[hopeful], top_p)
    if not bool(decided.all()):
        rest = ~decided
        tokens[rest] = _draw_full(probs[rest], u[rest], top_p)
    return tokens


def _draw_full(probs: torch.Tensor, u: torch.Tensor, top_p: float) -> torch.Tensor:
    """The definition: the nucleus of the stable sort of the whole vocabulary."""
    return _draw_sorted(*torch.sort(probs, dim=-1, descending=True, stable=True), u, top_p)[0]


def _inverse_cdf(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Each row's index (rows x 1) where its cumulative mass first exceeds u times its total."""
    cdf = torch.cumsum(probs, dim=-1)
    target = (u.to(cdf.dtype) * cdf[:, -1]).unsqueeze(1)
    index = torch.searchsorted(cdf, target, right=True).clamp_(max=cdf.shape[1] - 1)
    # a target at the very top of a float32 cdf can land past the last token with mass; step back to it. The cdf
    # rises only at tokens with mass, so only such rows land on a token without any
    past = (probs.gather(1, index) == 0).squeeze(1)
    if bool(past.any()):
        last = (probs[past] > 0).cumsum(-1).argmax(-1, keepdim=True)
        index[past] = torch.minimum(index[past], last)
    return index


def _draw_sorted(
    probs: torch.Tensor, order: torch.Tensor, u: torch.Tensor, top_p: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(token ids, their positions) from probabilities sorted in descending order, `order` their token ids."""
    before = torch.cumsum(probs, dim=-1) - probs
    kept = probs.masked_fill(before >= top_p, 0.0)  # the first token is kept for any top_p > 0
    position = _inverse_cdf(kept, u)
    return order.gather(1, position).squeeze(1), position.squeeze(1)


def _draw_from_head(probs: torch.Tensor, u: torch.Tensor, top_p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(tokens, decided): the draw over the whole sorted vocabulary, from its _HEAD most probable entries,
    for the rows where that is provably the same draw: on a CPU a stable sort of 49,152 probabilities costs about 25
    times a top-256 (benchmarks/sampler.py). It is bit for bit the same because a CPU cumsum adds in order
    (in float64), so the head's running sums are the full sort's first ones. Two conditions per row:
    - every token past the head is outside the nucleus: its mass-before is at least the head's sum less the
      head's smallest probability, and rounding is monotone, so that bound at or above top_p settles it;
    - the drawn token's probability is above the head's smallest: tokens tied with that one may have been
      cut at the head's end in another order than the stable sort's.
    Rows that miss either (flat distributions: tiny or untrained models, high temperatures) are not decided."""
    values, index = torch.topk(probs, _HEAD, dim=-1)
    index, by_index = index.sort(
        dim=-1
    )  # equal probabilities in vocabulary order, as the stable sort has them
    values, by_value = values.gather(1, by_index).sort(dim=-1, descending=True, stable=True)
    tokens, position = _draw_sorted(values, index.gather(1, by_value), u, top_p)
    smallest = values[:, -1]
    decided = (torch.cumsum(values, dim=-1)[:, -1] - smallest >= top_p) & (  # the full sort's own running sum
        values.gather(1, position.unsqueeze(1)).squeeze(1) > smallest
    )
    return tokens, decided


def draw_rows(
    logits: torch.Tensor,
    seeds: torch.Tensor,
    step: int,
    temperature: float,
    top_p: float,
    top_k: int = 0,
    min_p: float = 0.0,
) -> torch.Tensor:
    """Each row's token at this step from its own seed, _ROWS_PER_DRAW rows at a time."""
    chosen = torch.empty(logits.shape[0], dtype=torch.long, device=logits.device)
    for start in range(0, logits.shape[0], _ROWS_PER_DRAW):
        rows = slice(start, start + _ROWS_PER_DRAW)
        u = uniforms(seeds[rows], step)
        chosen[rows] = draw(logits[rows], u, temperature, top_p, top_k=top_k, min_p=min_p)
    return chosen


class SeededSampler(LogitsProcessor):
    """Draws each row's next token from its own seed; generate must run with do_sample=False."""

    def __init__(
        self,
        seeds: list[int],
        prompt_length: int,
        temperature: float,
        top_p: float,
        top_k: int = 0,
        min_p: float = 0.0,
    ) -> None:
        self.seeds = torch.tensor(seeds, dtype=torch.int64)
        self.prompt_length = prompt_length
        self.temperature = temperature
        self.top_p = top_p
        self.top_k = top_k
        self.min_p = min_p

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        step = input_ids.shape[1] - self.prompt_length
        if self.seeds.device != scores.device:
            self.seeds = self.seeds.to(scores.device)
        chosen = draw_rows(scores, self.seeds, step, self.temperature, self.top_p, self.top_k, self.min_p)
        out = torch.full_like(scores, float("-inf"))
        out.scatter_(1, chosen.unsqueeze(1), 0.0)
        return out
