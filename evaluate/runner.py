"""`rlvr eval`: sample n answers per problem, grade them with the training grader, store, compute pass@k."""

from __future__ import annotations

import hashlib
import importlib.metadata
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rlvr.evaluate.backends import SamplingSettings, make_backend, resolve_backend_name
from rlvr.evaluate.grading import grade_records
from rlvr.evaluate.store import SampleStore

DATASET_NAMES = ("gsm8k", "math500", "aime24", "aime25", "amc23", "minerva", "olympiadbench", "humaneval_plus",
                 "mbpp_plus", "livecodebench")  # rlvr.data.DATASETS, listed here so --help needs no import
TEMPLATE_NAMES = ("qwen-boxed", "r1", "plain", "code")  # rlvr.templates.TEMPLATES


@dataclass
class EvalConfig:
    model: str = field(metadata={"help": "Model path or Hub id."})
    out: str = field(metadata={"help": "Sample store directory; rerunning the same command resumes into it."})
    dataset: str | None = field(default=None, metadata={
        "help": "Benchmark name(s), comma-separated (" + ", ".join(DATASET_NAMES) + "), a local JSONL/Parquet/CSV "
                "file, or a Hub dataset id (org/name). With several, one store per dataset under --out and a "
                "summary table."})
    data_file: str | None = field(default=None, metadata={"help": "JSONL/Parquet/CSV with id, problem, answer or tests."})
    split: str | None = field(default=None, metadata={"help": "Dataset split (default: the benchmark's; train for Hub ids)."})
    dataset_config: str | None = field(default=None, metadata={"help": "Hub dataset config (subset) name."})
    revision: str | None = field(default=None, metadata={"help": "Hub dataset revision (commit) to pin."})
    problem_key: str | None = field(default=None, metadata={"help": "Column holding the problem (default problem/prompt/question)."})
    answer_key: str | None = field(default=None, metadata={"help": "Column holding the gold answer (default answer)."})
    tests_key: str | None = field(default=None, metadata={"help": "Column holding code tests (default tests)."})
    entry_point_key: str | None = field(default=None, metadata={"help": "Column holding the entry point (default entry_point)."})
    id_key: str | None = field(default=None, metadata={"help": "Column holding the problem id (default id, else the row number)."})
    release: str | None = field(default=None, metadata={
        "help": "LiveCodeBench release: release_v1..release_v6 (all problems up to it; default release_v6) or v1..v6 (its new ones)."})
    since: str | None = field(default=None, metadata={"help": "Only problems whose contest date is on or after this (YYYY-MM-DD; LiveCodeBench)."})
    until: str | None = field(default=None, metadata={"help": "Only problems whose contest date is on or before this (YYYY-MM-DD)."})
    template: str | None = field(default=None, metadata={"help": "Prompt template; default qwen-boxed (math) or code.",
                                                         "choices": TEMPLATE_NAMES})
    template_file: str | None = field(default=None, metadata={
        "help": "Your own template: Jinja (.jinja/.j2, {{ problem }}) or Python format text ({problem}); wins over --template."})
    system_prompt: str | None = field(default=None, metadata={"help": "System prompt; replaces the template's system line."})
    chat: str = field(default="auto", metadata={"help": "auto: the tokenizer's chat template when it has one; chat; raw.",
                                                "choices": ("auto", "chat", "raw")})
    n: int = field(default=256, metadata={"help": "Samples per problem."})
    temperature: float = field(default=0.6, metadata={"help": "Sampling temperature."})
    top_p: float = field(default=0.95, metadata={"help": "Nucleus sampling top-p."})
    max_tokens: int = field(default=1024, metadata={"help": "Most new tokens per sample."})
    seed: int = field(default=0, metadata={"help": "Sampling seed; each generate call derives its own from it."})
    backend: str = field(default="auto", metadata={"help": "auto (vLLM with a GPU), vllm or hf.", "choices": ("auto", "vllm", "hf")})
    dtype: str = field(default="auto", metadata={"help": "Model dtype.", "choices": ("auto", "bf16", "fp16", "fp32")})
    reward: str | None = field(default=None, metadata={"help": "Grader name; default math (math data) or code."})
    samples_per_call: int = field(default=256, metadata={"help": "Sequences per generate call (packs problems)."})
    limit: int | None = field(default=None, metadata={"help": "Evaluate only the first N problems."})
    shard: str | None = field(default=None, metadata={"help": "i/N: evaluate slice i of N (merge by sharing --out)."})
    label: str | None = field(default=None, metadata={"help": "Name of this model in reports."})
    progress: bool = field(default=True, metadata={"help": "Show a progress bar."})


def _slug(dataset: str) -> str:
    path = Path(dataset)
    return path.stem if path.is_file() else dataset.replace("/", "__")


def _run_several(cfg: EvalConfig, datasets: list[str]) -> dict:
    """One store per dataset under --out (each resumes on its own), then summary.json and summary.md."""
    import dataclasses
    import json

    out = Path(cfg.out)
    per_dataset = {}
    for dataset in datasets:
        store = out / _slug(dataset)
        results = run_eval(dataclasses.replace(cfg, dataset=dataset, out=str(store)))
        per_dataset[dataset] = {"store": str(store), "problems": len(results.get("problems", {})),
                                "summary": results.get("summary", {})}
    ks = sorted({k for r in per_dataset.values() for k in r["summary"]}, key=lambda k: int(k.split("@")[1]))
    lines = ["| dataset | problems | " + " | ".join(ks) + " |", "| --- | --- |" + " --- |" * len(ks)]
    for dataset, r in per_dataset.items():
        cells = [f"{r['summary'][k] * 100:.1f}" if k in r["summary"] else "" for k in ks]
        lines.append(f"| {dataset} | {r['problems']} | " + " | ".join(cells) + " |")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps({"model": cfg.model, "datasets": per_dataset}, indent=2))
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    return {"summary": {}, "datasets": per_dataset, "table": "\n".join(lines)}


def call_seed(seed: int, call_index: int) -> int:
    return int(hashlib.sha256(f"{seed}:{call_index}".encode()).hexdigest()[:8], 16)


def plan_calls(problem_ids: list[str], n: int, per_call: int) -> list[list[tuple[str, int, int]]]:
    """Units (problem, first sample, count) grouped into generate calls of at most `per_call` sequences.

    The plan depends only on the problem list and the settings, so resumes and shards reproduce it."""
    units = [(pid, start, min(per_call, n - start)) for pid in problem_ids for start in range(0, n, per_call)]
    calls, current, size = [], [], 0
    for unit in units:
        if current and size + unit[2] > per_call:
            calls.append(current)
            current, size = [], 0
        current.append(unit)
        size += unit[2]
    if current:
        calls.append(current)
    return calls


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


def provenance() -> dict:
    """What results.json records of how it was made: rlvr's version, the command line, the git commit."""
    import shlex
    import subprocess
    import sys

    from rlvr import __version__

    commit = None
    try:
        done = subprocess.run(["git", "-C", str(Path(__file__).resolve().parent), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=5)
        if done.returncode == 0:
            commit = done.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    program = Path(sys.argv[0]).name
    program = "rlvr" if program in ("rlvr", "cli.py", "__main__.py") else program
    return {"rlvr_version": __version__, "command": shlex.join([program, *sys.argv[1:]]), "git_commit": commit}


def _versions() -> dict:
    out = {}
    for package in ("rlvr", "torch", "transformers", "trl", "math-verify", "vllm"):
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def run_eval(cfg: EvalConfig) -> dict:
    from rlvr.data import load_problems
    from rlvr.rewards import get_reward
    from rlvr.templates import get_template, render

    if cfg.n < 1 or cfg.samples_per_call < 1:
        raise ValueError("--n and --samples-per-call must be at least 1")
    datasets = [d.strip() for d in (cfg.dataset or "").split(",") if d.strip()]
    if len(datasets) > 1 and not cfg.data_file:
        return _run_several(cfg, datasets)
    shard = parse_shard(cfg.shard)
    from rlvr.model_path import model_path_problem

    if problem := model_path_problem(cfg.model):
        raise ValueError(f"--model {problem}")
    from rlvr.data import Columns

    columns = Columns(cfg.problem_key, cfg.answer_key, cfg.tests_key, cfg.entry_point_key, cfg.id_key)
    problems, kind = load_problems(cfg.dataset, cfg.data_file, cfg.split, cfg.limit, config=cfg.dataset_config,
                                   revision=cfg.revision, columns=columns, release=cfg.release, since=cfg.since,
                                   until=cfg.until)
    template = get_template(cfg.template or ("code" if kind == "code" else "qwen-boxed"), cfg.template_file,
                            cfg.system_prompt)
    grader_name = cfg.reward or ("code" if kind == "code" else "math")
    grader = get_reward(grader_name)
    if not hasattr(grader, "grade"):
        raise ValueError(f"reward {grader_name!r} only shapes training; evaluation needs a grader such as math or code")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(cfg.model)
    prompts = {p.id: render(template, p.problem, tokenizer, cfg.chat) for p in problems}
    from rlvr.prompt_length import check_prompt_lengths

    check_prompt_lengths(prompts, tokenizer, cfg.model, cfg.max_tokens, "--max-tokens")
    meta = {**{k: v for k, v in asdict(cfg).items() if k not in ("out", "shard", "progress", "backend", "label")},
            "template": template.name, "grader": grader_name, "grader_settings": grader.describe(),
            "label": cfg.label or Path(cfg.model.rstrip("/")).name, "kind": kind, "versions": _versions()}
    rows = [{"id": p.id, "prompt": prompts[p.id], "problem": p.problem, **p.columns()} for p in problems]
    store = SampleStore.create_or_resume(cfg.out, meta, rows, shard)

    calls = list(enumerate(plan_calls([p.id for p in problems], cfg.n, cfg.samples_per_call)))
    if shard:
        calls = [c for c in calls if c[0] % shard[1] == shard[0]]
    done = store.done()
    todo = [(i, units) for i, units in calls
            if any(s not in done.get(pid, ()) for pid, start, count in units for s in range(start, start + count))]
    rows_by_id = {row["id"]: row for row in rows}
    settings = SamplingSettings(cfg.n, cfg.temperature, cfg.top_p, cfg.max_tokens)
    total = sum(count for _, units in todo for _, _, count in units)
    if todo:
        backend = make_backend(resolve_backend_name(cfg.backend), cfg.model, cfg.dtype)
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="sample", desc=f"eval {meta['label']}", disable=not cfg.progress, dynamic_ncols=True)
        for call_index, units in todo:
            started = time.perf_counter()
            outputs = backend.generate([prompts[pid] for pid, _, _ in units], [c for _, _, c in units], settings,
                                       call_seed(cfg.seed, call_index))
            records = [
                {"problem": pid, "sample": start + offset, "text": gen.text, "tokens": gen.tokens,
                 "finish_reason": gen.finish_reason}
                for (pid, start, _), gens in zip(units, outputs)
                for offset, gen in enumerate(gens)
                if start + offset not in done.get(pid, ())
            ]
            grade_records(grader, records, rows_by_id)
            store.append(records)
            bar.update(len(records))
            bar.set_postfix(samples_per_s=f"{len(records) / max(time.perf_counter() - started, 1e-9):.0f}")
        bar.close()
    records = store.records()
    missing = store.missing(records)
    store.close()
    if missing and shard:
        return {"summary": {}, "missing": missing}
    if missing:  # every planned call ran, so a sample is missing only if the backend returned too few
        raise RuntimeError(f"{sum(missing.values())} samples missing after sampling (e.g. problem {next(iter(missing))})")
    return store.write_results(provenance(), records)
