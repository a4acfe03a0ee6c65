"""Step-verified pass@k ("CoT-pass@k", Wen et al. 2025): a sample counts only when its answer is correct and
a steps verifier judges its reasoning right. Computed from a sample store alone, so no model is re-sampled.

A verdict of None (the verifier cannot tell) does not count as verified; how many there were is reported.
Only correct samples are judged: a wrong answer is never step-verified.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rlvr.evaluate.counts import Counts

STEPS_FILE = "steps.json"


def backend_judge(model: str, backend: str = "auto", dtype: str = "auto", max_tokens: int = 8):
    """`generate(prompts) -> replies` through rlvr's sampling backends: greedy, one reply per prompt."""
    from rlvr.evaluate.backends import SamplingSettings, make_backend
    from rlvr.evaluate.plan import Request

    engine = make_backend(backend, model, dtype)
    settings = SamplingSettings(n=1, temperature=0.0, top_p=1.0, max_tokens=max_tokens)

    def generate(prompts: list[str]) -> list[str]:
        requests = [Request(str(i), p, (0,), (0,)) for i, p in enumerate(prompts)]
        return [g[0].text for g in engine.generate(requests, settings)] if requests else []

    return generate


def load_steps_verifier(name: str, judge_model: str | None = None, backend: str = "auto"):
    """The steps verifier `name`; `judge` asks `judge_model` through rlvr's backends."""
    from rlvr.rewards.steps import check_steps_verifier_name, get_steps_verifier

    check_steps_verifier_name(name)
    if name == "judge":
        if not judge_model:
            raise KeyError("--steps-verifier judge needs --judge-model MODEL (any model rlvr can sample)")
        return get_steps_verifier(name, generate=backend_judge(judge_model, backend))
    return get_steps_verifier(name)


def verify_records(verifier, records: list[dict], problems: dict[str, dict]) -> list[bool | None]:
    """One verdict per record: the verifier's on correct samples, False on the others."""
    chosen = [r for r in records if r.get("correct")]
    rows = [problems[str(r["problem"])] for r in chosen]
    texts = [r["text"] for r in chosen]
    if hasattr(verifier, "many"):
        judged = verifier.many(rows, texts)
    else:
        judged = [verifier(p, t) for p, t in zip(rows, texts)]
    by_id = {id(r): v for r, v in zip(chosen, judged)}
    return [by_id[id(r)] if r.get("correct") else False for r in records]


def step_verified(records: list[dict], verdicts: list[bool | None], label: str, order: list[str]) -> dict:
    """{'counts': Counts of step-verified correct samples, 'undetermined': correct samples judged None,
    'rejected': correct samples judged False}."""
    n: dict[str, int] = {}
    verified: dict[str, int] = {}
    undetermined = rejected = 0
    for record, verdict in zip(records, verdicts):
        pid = str(record["problem"])
        n[pid] = n.get(pid, 0) + 1
        verified[pid] = verified.get(pid, 0) + (verdict is True)
        if record.get("correct"):
            undetermined += verdict is None
            rejected += verdict is False
    present = [p for p in order if p in n]
    counts = Counts(
        label, present, np.array([n[p] for p in present]), np.array([verified[p] for p in present])
    )
    return {"counts": counts, "undetermined": undetermined, "rejected": rejected}


def store_step_verified(
    store_dir: str | Path, verifier_name: str, verifier, label: str | None = None, write: bool = True
) -> dict:
    """Judge a store's correct samples; steps.json's dict (written to STORE/steps.json when `write`)."""
    from rlvr.evaluate.store import SampleStore

    store = SampleStore.open_existing(store_dir)
    if store.rule is not None:
        raise ValueError(
            f"{store.path} was sampled with --stop-at-correct: its stop follows the answers' correctness, not the "
            f"steps', so step-verified pass@k would be biased; evaluate with a uniform --n for --steps-verifier"
        )
    records = store.records()
    problems = {str(p["id"]): p for p in store.problems()}
    verdicts = verify_records(verifier, records, problems)
    label = label or store.meta.get("label") or store.path.name
    result = step_verified(records, verdicts, label, list(problems))
    data = steps_data(verifier_name, store.counts(label, records), result, records, verdicts)
    if write:
        (store.path / STEPS_FILE).write_text(json.dumps(data, indent=2))
    return data


def steps_data(verifier_name: str, counts: Counts, result: dict, records, verdicts) -> dict:
    """steps.json: per problem n, correct, steps_correct; both curves; each judged sample's verdict."""
    steps = result["counts"]
    k_max = counts.k_limit
    plain = counts.matrix(k_max).mean(axis=0)
    verified = steps.matrix(k_max).mean(axis=0)
    data = {
        "verifier": verifier_name,
        "problems": {
            p: {"n": int(n), "correct": int(c), "steps_correct": int(s)}
            for p, n, c, s in zip(counts.problems, counts.n, counts.correct, steps.correct)
        },
        "undetermined": result["undetermined"],
        "rejected": result["rejected"],
        "pass_at_k": {str(k + 1): float(v) for k, v in enumerate(plain)},
        "step_pass_at_k": {str(k + 1): float(v) for k, v in enumerate(verified)},
        "samples": [
            [str(r["problem"]), int(r["sample"]), v] for r, v in zip(records, verdicts) if r.get("correct")
        ],
    }
    return data
