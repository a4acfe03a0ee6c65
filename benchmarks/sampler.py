"""Top-p sampling step on a CPU: rlvr's seeded draw against the same draw over a stable sort of the whole vocabulary.

The draw is rlvr's definition of a sample (stable sort, nucleus, inverse CDF at the sample's own uniform), so
the baseline is that definition computed directly (`draw(..., head=False)`), as rlvr computed it before and
still does on a GPU: the full sort. Ours takes the
256 most probable tokens first where that provably gives the same token, and the full sort elsewhere. Same
logits, uniforms and settings on both sides; the tokens must agree exactly. Logits: Zipf-like rows (a language
model's next-token distribution has that shape), from sharply peaked to nearly flat, at a 49,152-token
vocabulary (SmolLM2) and a 151,936-token one (Qwen2.5).
Usage: python benchmarks/sampler.py [--rows 256] [--temperature 0.6] [--top-p 0.95] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time


def logits_like_a_model(rows: int, vocab: int, seed: int = 0):
    import torch

    generator = torch.Generator().manual_seed(seed)
    ranks = torch.argsort(torch.rand(rows, vocab, generator=generator), dim=-1).float() + 1
    peak = torch.linspace(0.8, 3.0, rows).unsqueeze(1)  # nearly flat rows to sharply peaked ones
    return -peak * torch.log(ranks) + 0.5 * torch.randn(rows, vocab, generator=generator)


def best_of(repeat: int, fn, *args) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--temperature", type=float, default=0.6)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import torch

    from rlvr.evaluate.seeded_sampling import draw
    from rlvr.threads import fix_cpu_threads

    fix_cpu_threads()
    print(
        f"{args.rows} rows, temperature {args.temperature}, top-p {args.top_p}, {torch.get_num_threads()} threads, "
        f"best of {args.repeat}"
    )
    for vocab in (49152, 151936):
        logits = logits_like_a_model(args.rows, vocab)
        u = torch.rand(args.rows, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        base, expected = best_of(args.repeat, draw, logits, u, args.temperature, args.top_p, False)
        ours, tokens = best_of(args.repeat, draw, logits, u, args.temperature, args.top_p)
        agree = float((tokens == expected).float().mean()) * 100
        print(
            f"vocabulary {vocab:7d}: full sort {base * 1000:7.1f} ms, rlvr {ours * 1000:7.1f} ms per step "
            f"({base / ours:.1f}x), tokens agree {agree:.1f}%"
        )


if __name__ == "__main__":
    main()
