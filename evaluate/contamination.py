"""The prefix-completion probe for memorised problems (Wu et al. 2025, arXiv 2507.10532).

Each problem's first 60% (by whitespace words) is given to the model as raw text, no chat template; its greedy
continuation is compared with the rest of the problem: exact match and ROUGE-L over whitespace tokens. A model
that completes a problem it was never shown is rare; one that completes most of a benchmark has likely seen it,
and its gains there may be recall. Results per problem (by id) are appended to DIR/contamination.jsonl as they
come (a rerun resumes) and summarised in DIR/contamination.json, which `rlvr compare --contamination` reads.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULT = "contamination.json"
PARTS = "contamination.jsonl"
SETTINGS = "settings.json"
_WORD_RE = re.compile(r"\S+")


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two token lists (dynamic programming, one row kept)."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(reference: list[str], candidate: list[str]) -> float:
    """ROUGE-L F1 (Lin 2004, beta = 1): the harmonic mean of LCS / len(candidate) and LCS / len(reference)."""
    if not reference or not candidate:
        return 0.0
    lcs = lcs_length(reference, candidate)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(candidate), lcs / len(reference)
    return 2 * precision * recall / (precision + recall)


def split_text(text: str, fraction: float) -> tuple[str, str] | None:
    """(prefix, rest) cut at a word boundary after round(fraction * words) words, at least one word on each
    side; None for a text of fewer than two words. The prefix keeps the text's own characters."""
    words = list(_WORD_RE.finditer(text))
    if len(words) < 2:
        return None
    cut = min(max(round(fraction * len(words)), 1), len(words) - 1)
    end = words[cut - 1].end()
    return text[:end], text[end:]


def score(reference: str, continuation: str) -> dict:
    """Exact match and ROUGE-L of the continuation's first len(reference) words against the reference's words
    (the model may go on past the problem's end: into a solution, say)."""
    ref = reference.split()
    candidate = continuation.split()[: len(ref)]
    return {"exact_match": candidate == ref, "rouge_l": rouge_l(ref, candidate)}


@dataclass
class ContaminationConfig:
    model: str = field(metadata={"help": "Model directory, Hub id or GGUF file."})
    out: str = field(metadata={"help": "Directory for contamination.json (and the per-problem JSONL)."})
    dataset: str | None = field(
        default=None, metadata={"help": "Benchmark name, data file or Hub dataset id."}
    )
    data_file: str | None = field(
        default=None, metadata={"help": "JSONL/Parquet/CSV with id and problem columns."}
    )
    split: str | None = field(default=None, metadata={"help": "Dataset split."})
    limit: int | None = field(default=None, metadata={"help": "Only the first N problems."})
    prefix_fraction: float = field(
        default=0.6, metadata={"help": "Share of each problem's words given as the prompt (Wu et al.: 0.6)."}
    )
    threshold: float = field(
        default=0.75, metadata={"help": "ROUGE-L at or above which a problem counts as likely seen."}
    )
    batch_size: int = field(default=16, metadata={"help": "Problems per generate call."})
    dtype: str = field(
        default="auto",
        metadata={"help": "Model dtype.", "choices": ("auto", "bfloat16", "float16", "float32")},
    )
    progress: bool = field(default=True, metadata={"help": "Show a progress bar."})

    def check(self) -> None:
        if not 0 < self.prefix_fraction < 1:
            raise ValueError(
                f"--prefix-fraction {self.prefix_fraction} must lie strictly between 0 and 1 (0.6: the first 60%)"
            )
        if not 0 <= self.threshold <= 1:
            raise ValueError(f"--threshold {self.threshold} is a ROUGE-L value: give one in [0, 1]")
        if self.batch_size < 1:
            raise ValueError(f"--batch-size {self.batch_size} must be at least 1")

    def settings(self, model_dir: str) -> dict:
        """What the results depend on: a directory holding other settings is refused, not mixed."""
        return {
            "model": str(self.model),
            "model_dir": str(model_dir),
            "dataset": self.dataset,
            "data_file": self.data_file,
            "split": self.split,
            "prefix_fraction": self.prefix_fraction,
        }


def _done(out: Path) -> dict[str, dict]:
    """Finished problems by id; unreadable lines (a line cut by a crash) are skipped and done again."""
    path = out / PARTS
    records = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
                records[str(record["id"])] = record
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return records


def _append(out: Path, records: list[dict]) -> None:
    with (out / PARTS).open("a") as f:
        f.write("".join(json.dumps(r) + "\n" for r in records))
        f.flush()
        os.fsync(f.fileno())


def _load(model_dir: str, dtype: str):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
    model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    return tokenizer, model


def greedy_continuations(tokenizer, model, prefixes: list[str], new_tokens: list[int]) -> list[str]:
    """Each prefix's greedy continuation (raw text, no template), up to its own token budget."""
    import torch

    encoded = tokenizer(prefixes, return_tensors="pt", padding=True).to(model.device)
    with torch.inference_mode():
        output = model.generate(
            **encoded,
            do_sample=False,
            max_new_tokens=max(new_tokens),
            pad_token_id=tokenizer.pad_token_id,
        )
    width = encoded["input_ids"].shape[1]
    return [
        tokenizer.decode(row[width : width + budget], skip_special_tokens=True)
        for row, budget in zip(output, new_tokens)
    ]


def run_contamination(cfg: ContaminationConfig) -> dict:
    from rlvr.data import load_problems
    from rlvr.model_path import model_path_problem
    from rlvr.models import resolve_model

    cfg.check()
    if problem := model_path_problem(cfg.model):
        raise ValueError(f"--model {problem}")
    problems, _ = load_problems(cfg.dataset, cfg.data_file, cfg.split, cfg.limit)
    model_dir = resolve_model(cfg.model, cfg.progress)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = cfg.settings(model_dir)
    if (out / SETTINGS).exists():
        held = json.loads((out / SETTINGS).read_text())
        if held != settings:
            changed = ", ".join(k for k in settings if held.get(k) != settings[k])
            raise ValueError(f"{out} holds a contamination run with another {changed}; give another --out")
    else:
        (out / SETTINGS).write_text(json.dumps(settings, indent=2))
    done = _done(out)
    todo = []
    for p in problems:
        if str(p.id) in done:
            continue
        parts = split_text(p.problem, cfg.prefix_fraction)
        if parts is None:
            done[str(p.id)] = {"id": str(p.id), "skipped": "fewer than two words"}
            _append(out, [done[str(p.id)]])
        else:
            todo.append((str(p.id), *parts))
    if todo:
        from tqdm.auto import tqdm

        tokenizer, model = _load(model_dir, cfg.dtype)
        batches = [todo[i : i + cfg.batch_size] for i in range(0, len(todo), cfg.batch_size)]
        for batch in tqdm(batches, desc="prefix completion", disable=not cfg.progress, dynamic_ncols=True):
            # the reference's own token count and a margin: tokenizations differ at the cut
            budgets = [
                len(tokenizer(rest, add_special_tokens=False)["input_ids"]) + 8 for _, _, rest in batch
            ]
            continuations = greedy_continuations(
                tokenizer, model, [prefix for _, prefix, _ in batch], budgets
            )
            records = [
                {"id": pid, "prefix": prefix, "reference": rest, "continuation": text, **score(rest, text)}
                for (pid, prefix, rest), text in zip(batch, continuations)
            ]
            done.update({r["id"]: r for r in records})
            _append(out, records)
    result = summarize(cfg, [done[str(p.id)] for p in problems])
    (out / RESULT).write_text(json.dumps(result, indent=2))
    return result


def summarize(cfg: ContaminationConfig, records: list[dict]) -> dict:
    scored = [r for r in records if "skipped" not in r]
    n = len(scored)
    exact = sum(r["exact_match"] for r in scored) / n if n else 0.0
    mean_rouge = sum(r["rouge_l"] for r in scored) / n if n else 0.0
    seen = [r["id"] for r in scored if r["rouge_l"] >= cfg.threshold]
    source = cfg.data_file or cfg.dataset
    finding = (
        f"{cfg.model} completes {exact * 100:.1f}% of {n} problems of {source} exactly from a "
        f"{cfg.prefix_fraction * 100:.0f}% prefix (mean ROUGE-L {mean_rouge:.3f}); {len(seen)} reach ROUGE-L >= "
        f"{cfg.threshold:g} and are likely seen."
    )
    return {
        "settings": {k: v for k, v in asdict(cfg).items() if k not in ("progress", "out")},
        "problems": n,
        "skipped": [r["id"] for r in records if "skipped" in r],
        "exact_match": exact,
        "rouge_l": mean_rouge,
        "threshold": cfg.threshold,
        "likely_seen": seen,
        "per_problem": {
            r["id"]: {k: r[k] for k in ("exact_match", "rouge_l", "reference", "continuation")}
            for r in scored
        },
        "finding": finding,
    }
