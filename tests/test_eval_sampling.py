"""Top-k, min-p and stop strings (vLLM's conventions): the draw against exact fractions, top-k 1 against greedy,
a stop string against the same seed's unstopped sample, the flags through `rlvr eval` and the store's identity."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
import torch
from cli_helpers import one_line_error
from store_helpers import eval_cmd, snapshot

from rlvr.cli import main as rlvr
from rlvr.evaluate.backends.base import SamplingSettings
from rlvr.evaluate.plan import pack_calls, plan_units, sample_seed
from rlvr.evaluate.seeded_sampling import draw


@pytest.mark.parametrize(
    "temperature,top_k,min_p,top_p",
    [(0.8, 3, 0.0, 1.0), (0.8, 0, 0.2, 0.9), (1.0, 5, 0.1, 0.7), (0.6, 1, 0.0, 0.95)],
)
def test_top_k_and_min_p_draw_what_is_left_then_its_nucleus(temperature, top_k, min_p, top_p):
    """vLLM's order: min-p (against the most probable token), top-k (ties with the k-th kept), then top-p over
    what is left, renormalised; computed here in exact fractions and checked against draws on a grid of u."""
    logits = torch.tensor([[2.0, 0.5, 1.0, -1.0, 0.0, 1.5, 1.0, -0.5]])  # 1.0 twice: a tie at k = 3
    weights = [
        Fraction(x).limit_denominator(10**12)
        for x in torch.softmax(logits[0].double() / temperature, 0).tolist()
    ]
    values = logits[0].tolist()
    kth = sorted(values, reverse=True)[top_k - 1] if top_k else min(values)
    left = [i for i in range(8) if weights[i] >= Fraction(min_p) * max(weights) and values[i] >= kth]
    total = sum(weights[i] for i in left)
    nucleus, mass = [], Fraction(0)
    for i in sorted(left, key=lambda i: (-weights[i], i)):  # keep while the mass before is below top_p
        if mass >= top_p:
            break
        nucleus.append(i)
        mass += weights[i] / total
    if top_k == 3:
        assert len(left) == 4  # both tied tokens kept
    grid = 20_000
    u = (torch.arange(grid, dtype=torch.float64) + 0.5) / grid
    tokens = draw(logits.expand(grid, -1), u, temperature, top_p, top_k=top_k, min_p=min_p).tolist()
    for i in range(8):
        expected = weights[i] / total / mass if i in nucleus else 0
        assert abs(tokens.count(i) / grid - float(expected)) < 2 / grid + 1e-6, i


def test_top_k_and_min_p_from_the_head_draw_the_whole_sorted_vocabulary():
    """The CPU's head-first top-p (seeded_sampling._draw_from_head) draws the definition's tokens after the
    top-k and min-p cuts too."""
    generator = torch.Generator().manual_seed(0)
    rows, vocab = 128, 6000
    ranks = torch.argsort(torch.rand(rows, vocab, generator=generator), dim=-1).float() + 1
    logits = -torch.linspace(0.5, 4.0, rows).unsqueeze(1) * torch.log(ranks)
    u = torch.rand(rows, generator=generator, dtype=torch.float64)
    for top_k, min_p in ((50, 0.0), (0, 0.01), (400, 0.001), (2000, 0.0)):
        expected = draw(logits, u, 0.9, 0.95, head=False, top_k=top_k, min_p=min_p)
        assert torch.equal(draw(logits, u, 0.9, 0.95, top_k=top_k, min_p=min_p), expected), (top_k, min_p)


@pytest.fixture(scope="module")
def backend(tiny_model_dir):
    from rlvr.evaluate.backends.hf import HFBackend

    return HFBackend(tiny_model_dir, device="cpu")


def _requests(per_call: int = 48) -> list:
    prompts = {f"p{i}": f"What is {i} + {i % 3}?" + " 7" * i for i in range(4)}  # four prompt lengths
    calls = pack_calls(
        plan_units(list(prompts), 12), {}, per_call, prompts, lambda pid, s: sample_seed(3, pid, s)
    )
    return [r for call in calls for r in call]


@pytest.mark.parametrize("pruned", [True, False], ids=["pruned", "generate"])
def test_top_k_1_samples_what_greedy_decoding_does(backend, pruned):
    backend.prune_finished = pruned
    try:
        requests = _requests()
        greedy = backend.generate(requests, SamplingSettings(n=12, temperature=0.0, max_tokens=16))
        top1 = backend.generate(
            requests, SamplingSettings(n=12, temperature=1.0, top_p=1.0, top_k=1, max_tokens=16)
        )
        sampled = backend.generate(
            requests, SamplingSettings(n=12, temperature=1.0, top_p=1.0, max_tokens=16)
        )
    finally:
        backend.prune_finished = True
    assert top1 == greedy
    assert sampled != greedy  # the check has teeth: without top-k the seeds draw other tokens


@pytest.mark.parametrize("stop", ["3", " 4", "e"])
@pytest.mark.parametrize("pruned", [True, False], ids=["pruned", "generate"])
def test_a_stop_string_cuts_the_sample_where_its_unstopped_text_first_holds_it(backend, stop, pruned):
    """The same seeds without and with the stop string: each stopped sample is the unstopped one's text cut
    before the stop string's first occurrence, its tokens those up to the one completing it (counted here by
    decoding every prefix of the unstopped tokens), a natural end; a sample without it is unchanged."""
    from rlvr.evaluate.pruned_decode import sample_pruned

    tokenizer, eos = backend.tokenizer, backend.eos_ids
    requests = _requests()
    plain = SamplingSettings(n=12, temperature=1.0, top_p=0.95, top_k=40, min_p=0.01, max_tokens=24)
    stopped = SamplingSettings(**{**plain.__dict__, "stop": (stop,)})
    backend.prune_finished = pruned
    try:
        got = [g for gens in backend.generate(requests, stopped) for g in gens]
    finally:
        backend.prune_finished = True
    rows = [(r.prompt, s) for r in requests for s in r.seeds]
    batch = tokenizer([p for p, _ in rows], return_tensors="pt", padding=True, add_special_tokens=False)
    unstopped = sample_pruned(
        backend.model,
        batch["input_ids"],
        batch["attention_mask"],
        [s for _, s in rows],
        24,
        eos,
        1.0,
        0.95,
        top_k=40,
        min_p=0.01,
    )
    cut = 0
    for tokens, generation in zip(unstopped, got, strict=True):
        text = tokenizer.decode(tokens, skip_special_tokens=True)
        if stop not in text:
            ended = "stop" if tokens[-1] in eos else "length"
            assert (generation.text, generation.tokens, generation.finish_reason) == (
                text,
                len(tokens),
                ended,
            )
            continue
        cut += 1
        completing = next(
            t
            for t in range(1, len(tokens) + 1)
            if stop in tokenizer.decode(tokens[:t], skip_special_tokens=True)
        )
        assert (generation.text, generation.tokens, generation.finish_reason) == (
            text[: text.index(stop)],
            completing,
            "stop",
        )
    assert 10 < cut < len(got)  # many samples are cut, at many places, and some are not


def test_the_flags_reach_the_store_and_call_size_does_not_change_the_samples(
    tiny_model_dir, data_file, tmp_path, capsys
):
    """Top-k, min-p and a stop string from the command line: meta.json and results.json record them, some
    samples end on the stop string (cut before it), and 8 per call, auto (256) and a resume at 5 per call
    store the same samples."""
    flags = ("--limit", "3", "--top-k", "30", "--min-p", "0.02", "--stop", "3", "--temperature", "1.0")
    stores = {}
    for per_call in ("8", "auto"):
        argv = eval_cmd(tiny_model_dir, data_file, tmp_path / per_call, *flags)[3:]
        argv[argv.index("--samples-per-call") + 1] = per_call
        assert rlvr(argv) == 0
        stores[per_call] = argv
    meta = json.loads((tmp_path / "8" / "meta.json").read_text())
    assert (meta["top_k"], meta["min_p"], meta["stop"]) == (30, 0.02, ["3"])
    sampling = json.loads((tmp_path / "8" / "results.json").read_text())["sampling"]
    assert (sampling["top_k"], sampling["min_p"], sampling["stop"]) == (30, 0.02, ["3"])
    records = [json.loads(line) for line in (tmp_path / "8" / "samples.jsonl").read_text().splitlines()]
    assert not any("3" in r["text"] for r in records)
    assert any(r["finish_reason"] == "stop" and r["tokens"] < 12 for r in records)
    assert snapshot(tmp_path / "auto") == snapshot(tmp_path / "8")
    samples = tmp_path / "auto" / "samples.jsonl"
    samples.write_text("".join(samples.read_text().splitlines(keepends=True)[:20]))
    (tmp_path / "auto" / "results.json").unlink()
    argv = stores["auto"]
    argv[argv.index("--samples-per-call") + 1] = "5"
    assert rlvr(argv) == 0
    assert snapshot(tmp_path / "auto") == snapshot(tmp_path / "8")
    argv[argv.index("--top-k") + 1] = "31"
    capsys.readouterr()
    err = one_line_error(capsys, *argv)
    assert "top_k=30, not 31" in err and "another --out" in err


def test_a_store_made_before_these_settings_resumes_only_with_them_off(
    tiny_model_dir, data_file, full_run, tmp_path, capsys
):
    store = tmp_path / "store"
    shutil.copytree(full_run, store)
    meta = json.loads((store / "meta.json").read_text())
    for key in ("top_k", "min_p", "stop"):
        meta.pop(key, None)  # as an older rlvr wrote it
    (store / "meta.json").write_text(json.dumps(meta))
    argv = eval_cmd(tiny_model_dir, data_file, store)[3:]
    assert rlvr(argv) == 0
    for extra, told in (
        (("--top-k", "5"), "top_k=0, not 5"),
        (("--min-p", "0.1"), "min_p=0.0, not 0.1"),
        (("--stop", "</answer>"), "stop=[], not ['</answer>']"),
    ):
        capsys.readouterr()
        err = one_line_error(capsys, *argv, *extra)
        assert told in err, err


@pytest.mark.parametrize(
    "flags,expected",
    [
        (("--top-k", "-1"), "--top-k must be 0 (every token) or more, not -1"),
        (("--min-p", "1"), "--min-p must be in [0, 1)"),
        (("--min-p", "-0.1"), "--min-p must be in [0, 1)"),
        (("--stop", ""), "--stop must be non-empty strings"),
    ],
)
def test_out_of_range_values_are_refused_in_one_line(
    tiny_model_dir, data_file, tmp_path, capsys, flags, expected
):
    err = one_line_error(capsys, *eval_cmd(tiny_model_dir, data_file, tmp_path / "s", *flags)[3:])
    assert expected in err, err
    assert not Path(tmp_path / "s").exists()
