"""`rlvr regrade`: grade a sample store again with another grader or mode, without re-sampling."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="sample store directory written by `rlvr eval`")
    parser.add_argument("--reward", required=True, help="grader name, e.g. math_strict, math, code")
    parser.add_argument("--out", help="where the regraded store goes (default: STORE-REWARD)")
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="regrade an unfinished store (its results.json then says how many samples it lacks)",
    )
    from rlvr.evaluate.cli_compare import add_steps_arguments

    add_steps_arguments(parser)


def regrade(store_dir: str, reward: str, out: str | None = None, allow_partial: bool = False) -> Path:
    """A new store beside `store_dir` with every sample graded by `reward`; an unfinished store is refused
    (naming what it lacks) before anything is graded or written, unless `allow_partial`."""
    from rlvr.evaluate.grading import grade_records
    from rlvr.evaluate.store import SampleStore
    from rlvr.rewards import get_reward

    source = SampleStore.open_existing(store_dir)
    records = source.records()
    missing = source.check_complete(records, allow_partial)
    grader = get_reward(reward)
    if not hasattr(grader, "grade"):
        raise ValueError(f"reward {reward!r} is not a grader; use math, math_strict or code")
    target = Path(out or f"{str(store_dir).rstrip('/')}-{reward}")
    if target.exists():
        raise ValueError(f"{target} exists; pass another --out")
    if missing:
        print(
            f"rlvr: regrading {store_dir} unfinished: {sum(missing.values())} samples missing over "
            f"{len(missing)} problems",
            file=sys.stderr,
        )
    grade_records(grader, records, {str(p["id"]): p for p in source.problems()})
    if source.rule is not None:
        _check_stops(source, records, reward, target, allow_partial)
    meta = {
        **source.meta,
        "grader": reward,
        "grader_settings": grader.describe(),
        "regraded_from": str(store_dir),
    }
    target.mkdir(parents=True)
    shutil.copy(Path(store_dir) / "problems.jsonl", target / "problems.jsonl")
    (target / "meta.json").write_text(json.dumps(meta, indent=2))
    store = SampleStore.open_existing(target)
    store.append(records)
    from rlvr.evaluate.runner import provenance

    store.write_results(provenance(), allow_partial=allow_partial)
    return target


def _check_stops(source, records: list[dict], reward: str, target: Path, allow_partial: bool) -> None:
    """A sequential store's stops, walked again in index order under the new grades: the new grader may
    close a problem earlier (later samples go uncounted) or need samples that were never drawn."""
    old, new = source.stops(), source.stops(records)
    short = [pid for pid, stop in new.items() if stop is None]
    if short and not allow_partial:
        raise ValueError(
            f"under {reward}, {len(short)} problems of {source.path} (e.g. {short[0]}) would need samples "
            f"--stop-at-correct {source.rule.m} never drew; pass --allow-partial to regrade what is stored, then "
            f"rerun its `rlvr eval` command with --reward {reward} --out {target} to draw the rest"
        )
    moved = sum(1 for pid in new if new[pid] != old.get(pid))
    print(
        f"rlvr: stops recomputed in index order under {reward}: {moved} of {len(new)} problems stop elsewhere",
        file=sys.stderr,
    )


def run(args: argparse.Namespace) -> int:
    from rlvr.evaluate.store import SampleStore, read_results

    if (Path(args.store) / "results.json").exists():  # a newer store is refused before anything is written
        read_results(Path(args.store) / "results.json")

    target = regrade(args.store, args.reward, args.out, args.allow_partial)
    before = (
        read_results(Path(args.store) / "results.json")["summary"]
        if (Path(args.store) / "results.json").exists()
        else {}
    )
    after = read_results(target / "results.json")["summary"]
    print(f"{'k':>10}  {'before':>8}  {'after':>8}")
    for key, value in after.items():
        print(f"{key:>10}  {before.get(key, float('nan')):8.4f}  {value:8.4f}")
    print(f"regraded store: {target} ({len(SampleStore.open_existing(target).records())} samples)")
    if args.steps_verifier:
        print_step_verified(target, args.steps_verifier, args.judge_model, args.judge_backend)
    return 0


def print_step_verified(store: str | Path, name: str, judge_model: str | None, judge_backend: str) -> dict:
    """STORE/steps.json from the stored samples (no re-sampling), and pass@k beside step-verified pass@k."""
    from rlvr.evaluate.passk import log2_ks
    from rlvr.evaluate.step_verified import load_steps_verifier, store_step_verified

    data = store_step_verified(store, name, load_steps_verifier(name, judge_model, judge_backend))
    print(f"{'k':>10}  {'pass@k':>8}  {'steps ok':>8}   (steps verifier {name})")
    for k in log2_ks(len(data["step_pass_at_k"])):
        print(
            f"{'pass@' + str(k):>10}  {data['pass_at_k'][str(k)]:8.4f}  {data['step_pass_at_k'][str(k)]:8.4f}"
        )
    print(
        f"correct samples with a wrong step: {data['rejected']}, not judged: {data['undetermined']}; "
        f"{Path(store) / 'steps.json'}"
    )
    return data
