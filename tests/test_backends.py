"""Backend selection, the sampling plan, per-sample seeds and the vLLM request mapping, testable without vLLM."""

from __future__ import annotations

import importlib.util
import platform
from fractions import Fraction

import pytest
import torch

from rlvr.evaluate.backends import SamplingSettings, resolve_backend_name
from rlvr.evaluate.backends.vllm import external_id, sampling_params_kwargs
from rlvr.evaluate.plan import PLAN_UNIT, pack_calls, plan_units, sample_seed
from rlvr.evaluate.seeded_sampling import SeededSampler, draw, splitmix64, uniforms


def test_auto_falls_back_to_hf_without_vllm_or_gpu():
    expected = "vllm" if importlib.util.find_spec("vllm") and torch.cuda.is_available() else "hf"
    assert resolve_backend_name("auto") == expected
    with pytest.raises(ValueError, match="unknown backend"):
        resolve_backend_name("vlm")


def test_vllm_request_is_one_sample_with_its_own_seed():
    kwargs = sampling_params_kwargs(
        SamplingSettings(n=256, temperature=0.6, top_p=0.95, max_tokens=4096), seed=11
    )
    assert kwargs == {"n": 1, "temperature": 0.6, "top_p": 0.95, "max_tokens": 4096, "seed": 11}
    limited = SamplingSettings(
        n=4, temperature=0.6, top_p=0.95, max_tokens=64, top_k=20, min_p=0.05, stop=("\n\n",)
    )
    assert sampling_params_kwargs(limited, seed=3) == {
        "n": 1,
        "temperature": 0.6,
        "top_p": 0.95,
        "max_tokens": 64,
        "seed": 3,
        "top_k": 20,  # only when set: off is the engine's own default
        "min_p": 0.05,
        "stop": ["\n\n"],
    }
    # vLLM 0.31's engine returns "<id>-<8 random chars>" from enqueue; outputs carry "<id>"
    assert external_id("17-a1b2c3d4") == "17" and external_id("17") == "17"


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_vllm_backend_without_vllm_says_how_to_install():
    from rlvr.evaluate.backends.vllm import VLLMBackend

    with pytest.raises(ValueError, match=r"rlvr\[vllm\]"):
        VLLMBackend("some/model")


def _seed(pid: str, sample: int) -> int:
    return sample_seed(7, pid, sample)


def _samples(calls) -> list[tuple[str, int, int]]:
    return [(r.problem, s, seed) for call in calls for r in call for s, seed in zip(r.samples, r.seeds)]


def test_calls_are_filled_exactly_and_units_split_without_touching_seeds():
    prompts = {"a": "A", "b": "B", "c": "C"}
    units = plan_units(list(prompts), n=100)
    assert [(pid, len(r)) for pid, r in units] == [
        ("a", PLAN_UNIT),
        ("a", 100 - PLAN_UNIT),
        ("b", PLAN_UNIT),
        ("b", 100 - PLAN_UNIT),
        ("c", PLAN_UNIT),
        ("c", 100 - PLAN_UNIT),
    ]
    for per_call in (1, 7, 64, 300, 10_000):
        calls = pack_calls(units, {}, per_call, prompts, _seed)
        sizes = [sum(len(r.samples) for r in call) for call in calls]
        assert sizes[:-1] == [per_call] * (len(sizes) - 1) and 0 < sizes[-1] <= per_call
        # whatever the call size: every sample once, in plan order, with the seed of its problem and index
        assert _samples(calls) == [(pid, s, _seed(pid, s)) for pid in "abc" for s in range(100)]


def test_shards_own_the_same_samples_whatever_the_call_size():
    prompts = {f"p{i}": str(i) for i in range(5)}
    owners = {}
    for shard in range(3):
        units = plan_units(list(prompts), n=150, shard=(shard, 3))
        owned = {(pid, s) for pid, r in units for s in r}
        for per_call in (5, 256):
            assert {(p, s) for p, s, _ in _samples(pack_calls(units, {}, per_call, prompts, _seed))} == owned
        owners[shard] = owned
    assert sum(len(o) for o in owners.values()) == 5 * 150 == len(set().union(*owners.values()))


def test_a_killed_run_repacks_the_same_remaining_calls():
    prompts = {f"p{i}": str(i) for i in range(6)}
    units = plan_units(list(prompts), n=40)
    calls = pack_calls(units, {}, 48, prompts, _seed)
    done: dict[str, set[int]] = {}
    for pid, s, _ in _samples(calls[:2]):  # two calls were stored before the kill
        done.setdefault(pid, set()).add(s)
    assert pack_calls(units, done, 48, prompts, _seed) == calls[2:]


def test_sample_seeds_differ_by_problem_index_and_run_seed():
    seeds = {sample_seed(s, p, i) for s in (0, 1) for p in ("a", "b") for i in range(50)}
    assert len(seeds) == 200 and all(0 <= x < 2**63 for x in seeds)
    assert sample_seed(3, "a", 5) == sample_seed(3, "a", 5)


def _splitmix64(x: int) -> int:
    mask = (1 << 64) - 1
    z = (x + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def test_counter_rng_is_splitmix64_with_uint64_wraparound():
    xs = [0, 1, 2**31, 2**62 + 12345, 2**63 - 1, 987654321987654321]
    got = splitmix64(torch.tensor(xs, dtype=torch.int64)).tolist()
    assert [g & ((1 << 64) - 1) for g in got] == [_splitmix64(x) for x in xs]
    step = 5
    expected = [(_splitmix64((_splitmix64(x) + step) & ((1 << 64) - 1)) >> 11) / 2**53 for x in xs]
    assert uniforms(torch.tensor(xs), step).tolist() == expected


def test_inverse_cdf_draws_follow_the_nucleus_distribution():
    logits = torch.tensor([[2.0, 0.5, 1.0, -1.0, 0.0, 1.5]])
    temperature, top_p = 0.8, 0.85
    weights = [
        Fraction(x).limit_denominator(10**12)
        for x in torch.softmax(logits[0].double() / temperature, 0).tolist()
    ]
    order = sorted(range(6), key=lambda i: -weights[i])
    nucleus, mass = [], Fraction(0)
    for i in order:  # keep tokens while the mass before them is below top_p
        if mass >= top_p:
            break
        nucleus.append(i)
        mass += weights[i]
    grid = 20_000
    u = (torch.arange(grid, dtype=torch.float64) + 0.5) / grid
    tokens = draw(logits.expand(grid, -1), u, temperature, top_p).tolist()
    for i in range(6):
        expected = weights[i] / mass if i in nucleus else 0
        assert abs(tokens.count(i) / grid - float(expected)) < 2 / grid + 1e-6, i


def _tie_run_across_the_head(rows: int, vocab: int, generator) -> torch.Tensor:
    """Logits whose 10 largest hold half the mass and whose next 400 are equal (0.45 in all), at random
    places: the 256-token head ends inside that run, cut wherever top-k cuts it."""
    out = []
    for _ in range(rows):
        place = torch.randperm(vocab, generator=generator)
        probs = torch.full((vocab,), 0.05 / (vocab - 410))
        probs[place[:10]], probs[place[10:410]] = 0.05, 0.45 / 400
        out.append(probs.log())
    return torch.stack(out)


@pytest.mark.parametrize("shape", ["zipf", "ties", "tie run", "flat"])
def test_top_p_from_the_head_draws_the_tokens_of_the_whole_sorted_vocabulary(shape):
    """On a CPU top-p draws from the 256 most probable tokens where that is provably the same draw: the same
    token for every row and u (0, just under 1, random), with ties cut at the head's end (bf16 logits)."""
    from rlvr.evaluate.seeded_sampling import _draw_from_head

    generator = torch.Generator().manual_seed(0)
    rows, vocab = 192, 6000
    ranks = torch.argsort(torch.rand(rows, vocab, generator=generator), dim=-1).float() + 1
    peak = torch.linspace(0.5, 6.0, rows).unsqueeze(1)  # from near-flat rows to sharply peaked ones
    logits = {
        "zipf": -peak * torch.log(ranks) + 0.3 * torch.randn(rows, vocab, generator=generator),
        "ties": (-peak * torch.log(ranks)).to(torch.bfloat16).float(),  # runs of equal logits everywhere
        "tie run": _tie_run_across_the_head(rows, vocab, generator),
        "flat": 0.2 * torch.randn(rows, vocab, generator=generator),
    }[shape]
    u = torch.rand(rows, generator=generator, dtype=torch.float64)
    u[:8], u[8:16] = 0.0, 1 - 2.0**-53
    decided_share = []
    for temperature in (0.6, 1.0) if shape != "tie run" else (1.0,):
        for top_p in (0.3, 0.9, 0.95, 0.999) if shape != "tie run" else (0.6, 0.7):
            expected = draw(
                logits, u, temperature, top_p, head=False
            )  # the definition: the whole sorted vocabulary
            assert torch.equal(draw(logits, u, temperature, top_p), expected), (temperature, top_p)
            tokens, decided = _draw_from_head(torch.softmax(logits / temperature, dim=-1), u, top_p)
            assert torch.equal(tokens[decided], expected[decided])
            decided_share.append(decided.float().mean().item())
    if shape == "flat":
        assert max(decided_share) == 0.0  # nothing is decided from the head: every row takes the full sort
    else:  # the head decides most draws (the fast path runs), not all (the full sort runs too)
        assert 0.5 < sum(decided_share) / len(decided_share) and min(decided_share) < 1.0


def test_a_row_draws_the_same_token_in_any_batch():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(40, 300, generator=generator)
    seeds = [sample_seed(0, "p", i) for i in range(40)]
    prompt = torch.zeros(40, 9, dtype=torch.long)
    whole = SeededSampler(seeds, 4, 0.7, 0.95)(prompt, logits).argmax(-1)
    for rows in (slice(0, 1), slice(3, 17), slice(17, 40)):
        part = SeededSampler(seeds[rows], 4, 0.7, 0.95)(prompt[rows], logits[rows]).argmax(-1)
        assert torch.equal(part, whole[rows])
    later = SeededSampler(seeds, 4, 0.7, 0.95)(torch.zeros(40, 10, dtype=torch.long), logits).argmax(-1)
    assert not torch.equal(later, whole), "the next step must draw new uniforms"


class _StandInEngine:
    """vLLM 0.31's offline surface as VLLMBackend uses it (LLM.enqueue, llm_engine.step and the unfinished
    counts), finishing requests out of order. vLLM cannot run here; this checks our bookkeeping only."""

    def __init__(self) -> None:
        self.queue: list[tuple[str, object]] = []
        self.counter = 0
        self.most_queued = 0
        self.llm_engine = self

    def enqueue(self, prompts, params, use_tqdm=True, tokenization_kwargs=None):
        assert tokenization_kwargs == {"add_special_tokens": False} and use_tqdm is False
        ids = []
        for prompt, p in zip(prompts, params):
            self.queue.append((str(self.counter), (prompt, p)))
            ids.append(f"{self.counter}-abcd1234")
            self.counter += 1
        self.most_queued = max(self.most_queued, len(self.queue))
        return ids

    def get_num_unfinished_requests(self) -> int:
        return len(self.queue)

    def has_unfinished_requests(self) -> bool:
        return bool(self.queue)

    def step(self):
        from types import SimpleNamespace as NS

        done, self.queue = self.queue[::-3], [q for q in self.queue if q not in self.queue[::-3]]
        return [
            NS(
                request_id=rid,
                finished=True,
                outputs=[NS(text=f"{prompt}/{p.seed}", token_ids=[1, 2], finish_reason="stop")],
            )
            for rid, (prompt, p) in done
        ]


def test_vllm_stream_returns_every_sample_to_its_request():
    from types import SimpleNamespace

    from rlvr.evaluate.backends.vllm import VLLMBackend

    engine = _StandInEngine()
    backend = VLLMBackend("unused", llm=engine, sampling_params=SimpleNamespace)
    prompts = {f"p{i}": f"P{i}" for i in range(7)}
    chunks = pack_calls(plan_units(list(prompts), n=90), {}, 100, prompts, _seed)
    batches = list(backend.stream(chunks, SamplingSettings(n=90, max_tokens=5)))
    got = [(r.problem, r.samples[0], gens[0].text) for batch in batches for r, gens in batch]
    assert sorted(got) == sorted(
        (pid, s, f"{prompts[pid]}/{_seed(pid, s)}") for pid in prompts for s in range(90)
    )
    assert engine.most_queued <= 150


def test_bf16_on_a_cpu_says_whether_it_runs_natively(tiny_model_dir, capsys):
    """bf16 is opt-in on a CPU (auto stays fp32); where oneDNN has no bf16 kernels it says fp32 is faster."""
    from rlvr.evaluate.backends.hf import HFBackend, cpu_has_bf16

    assert HFBackend(tiny_model_dir, device="cpu").model.dtype == torch.float32
    capsys.readouterr()
    backend = HFBackend(tiny_model_dir, dtype="bf16", device="cpu")
    assert backend.model.dtype == torch.bfloat16
    warned = "no native bfloat16" in capsys.readouterr().err
    assert warned == (not cpu_has_bf16())
    if platform.machine() == "x86_64":  # oneDNN's bf16 kernels need avx512_bf16 (AMX CPUs have it too)
        assert warned == ("avx512_bf16" not in open("/proc/cpuinfo").read())
