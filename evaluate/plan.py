"""The sampling plan: which samples exist, which shard owns them, and how they pack into generate calls.

Samples carry their own seeds (sample_seed; drawn by seeded_sampling), so the plan is split in two. What depends only
on the problems and settings: units of up to PLAN_UNIT samples of one problem, and the shard that owns each
unit. What depends on the machine: how many samples one call holds. Packing splits units at call
boundaries, never seeds, so a resume, a shard or a machine with more memory draws the same samples.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

PLAN_UNIT = 64  # samples per unit; shards own whole units
SAMPLE_SEEDS = "per-sample-v1"  # stored in meta.json: how samples get their seeds (a store's identity)


@dataclass(frozen=True)
class Request:
    """Samples of one problem for one generate call."""

    problem: str
    prompt: str
    samples: tuple[int, ...]
    seeds: tuple[int, ...]


def sample_seed(seed: int, problem: str, sample: int) -> int:
    """The seed of one sample: a 63-bit hash of the run's seed, the problem id and the sample index."""
    digest = hashlib.sha256(f"{seed}:{problem}:{sample}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def parse_shard(shard: str | None) -> tuple[int, int] | None:
    if not shard:
        return None
    try:
        i, total = (int(x) for x in shard.split("/"))
    except ValueError as exc:
        raise ValueError(f"--shard takes i/N, e.g. 0/4; got {shard!r}") from exc
    if not 0 <= i < total:
        raise ValueError(f"--shard {shard}: i must lie in [0, N)")
    return i, total


def plan_units(
    problem_ids: list[str], n: int, shard: tuple[int, int] | None = None
) -> list[tuple[str, range]]:
    """(problem, sample indices) units in plan order; with a shard, only the units it owns."""
    units = [
        (pid, range(start, min(start + PLAN_UNIT, n)))
        for pid in problem_ids
        for start in range(0, n, PLAN_UNIT)
    ]
    if shard:
        units = [unit for i, unit in enumerate(units) if i % shard[1] == shard[0]]
    return units


def pack_calls(
    units: list[tuple[str, range]], done: dict[str, set[int]], per_call: int, prompts: dict[str, str], seed_of
) -> list[list[Request]]:
    """The samples not yet done, in plan order, filled into calls of exactly `per_call` (the last may be
    shorter). A killed run's missing samples are a suffix of the plan, so a rerun packs the same calls."""
    if per_call < 1:
        raise ValueError("samples per call must be at least 1")
    calls: list[list[Request]] = []
    current: list[Request] = []
    room = per_call
    for pid, samples in units:
        todo = [s for s in samples if s not in done.get(pid, ())]
        while todo:
            take, todo = todo[:room], todo[room:]
            current.append(Request(pid, prompts[pid], tuple(take), tuple(seed_of(pid, s) for s in take)))
            room -= len(take)
            if room == 0:
                calls.append(current)
                current, room = [], per_call
    if current:
        calls.append(current)
    return calls


def count_stored(units: list[tuple[str, range]], done: dict[str, set[int]]) -> tuple[int, int]:
    """(samples of the plan already stored, samples in the plan)."""
    planned = sum(len(samples) for _, samples in units)
    stored = sum(1 for pid, samples in units for s in samples if s in done.get(pid, ()))
    return stored, planned
