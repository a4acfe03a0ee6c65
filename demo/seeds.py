"""`rlvr demo --seeds 0,1,2,3,4`: the whole demo once per seed, then what holds across them.

Floating-point results differ between CPUs, so one seed's exact figures are one machine's; the story is what
holds in every seed. Each seed runs into OUT/seed-K (resumable on its own, like one demo); OUT/summary.md
and summary.json give per seed the pass@1 gain with its interval, the crossover k, pass@k_max of each model,
coverage and the per-family figures, then the median and range across seeds; two figures draw one curve per
seed (pass@k of both models; held-out pass@k over GRPO steps).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path


def seed_summary(out: Path, seed: int) -> dict:
    """The numbers of one seed's demo that the summary compares across seeds."""
    from rlvr.demo.run import comparison, family_numbers

    result, counts, records, _ = comparison(out)
    base, rl = result.curves
    k = result.k_max
    only = result.coverage["only"]
    families = family_numbers(counts)
    return {
        "seed": seed,
        "k_max": k,
        "problems": len(counts[0].problems),
        "base_pass@1": float(base.mean[0]),
        "rl_pass@1": float(rl.mean[0]),
        "gain_pass@1": float(result.diff.diff[0]),
        "gain_low": float(result.diff.low[0]),
        "gain_high": float(result.diff.high[0]),
        f"base_pass@{k}": float(base.mean[-1]),
        f"rl_pass@{k}": float(rl.mean[-1]),
        "gap_at_k_max": float(result.diff.diff[-1]),
        "gap_at_k_max_low": float(result.diff.low[-1]),
        "gap_at_k_max_high": float(result.diff.high[-1]),
        "crossover_k": result.cross.k_star if result.cross else None,
        "base_only": int(only["base"]["count"]),
        "rl_only": int(only["rl"]["count"]),
        "families": families,
        "curves": {"base": [float(x) for x in base.mean], "rl": [float(x) for x in rl.mean]},
        "probe": [{"step": r["step"], **r["metrics"]["heldout"]} for r in records],
    }


def _spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def across(rows: list[dict]) -> dict:
    """Median and range across seeds, and in how many seeds each claim of the demo holds."""
    k = rows[0]["k_max"]
    numeric = [
        "base_pass@1",
        "rl_pass@1",
        "gain_pass@1",
        f"base_pass@{k}",
        f"rl_pass@{k}",
        "base_only",
        "rl_only",
    ]
    out = {key: _spread([r[key] for r in rows]) for key in numeric}
    crossovers = [r["crossover_k"] for r in rows if r["crossover_k"] is not None]
    out["crossover_k"] = (
        {**_spread(crossovers), "seeds_with_crossover": len(crossovers)} if crossovers else None
    )
    out["holds"] = {
        "RL raises pass@1 beyond its 95% interval": sum(r["gain_low"] > 0 for r in rows),
        "the base overtakes RL at some k": sum(r["crossover_k"] is not None for r in rows),
        f"the base is ahead at k = {k}": sum(r[f"base_pass@{k}"] > r[f"rl_pass@{k}"] for r in rows),
        f"... and its lead at k = {k} excludes 0 (paired 95% interval)": sum(
            r["gap_at_k_max_high"] < 0 for r in rows
        ),
        "the base alone solves more problems than RL alone": sum(r["base_only"] > r["rl_only"] for r in rows),
        "chain coverage shrinks (solved at all)": sum(
            r["families"]["chain"]["rl_solved"] < r["families"]["chain"]["base_solved"]
            for r in rows
            if "chain" in r["families"]
        ),
    }
    return out


def _pct(x: float) -> str:
    return f"{x * 100:.1f}"


def markdown(rows: list[dict], summary: dict, command: str) -> str:
    k = rows[0]["k_max"]
    lines = [
        f"# rlvr demo across {len(rows)} seeds",
        "",
        f"Made by `{command}`; one directory per seed beside this file.",
        "",
        f"| seed | base pass@1 | rl pass@1 | gain [95% CI] (points) | base pass@{k} | rl pass@{k} | "
        f"base overtakes at k | base only / rl only | chains solved at all (base -> rl) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        chain = r["families"].get("chain")
        chain_text = f"{chain['base_solved']} -> {chain['rl_solved']} of {chain['problems']}" if chain else ""
        lines.append(
            f"| {r['seed']} | {_pct(r['base_pass@1'])}% | {_pct(r['rl_pass@1'])}% | {r['gain_pass@1'] * 100:+.1f} "
            f"[{r['gain_low'] * 100:+.1f}, {r['gain_high'] * 100:+.1f}] | {_pct(r[f'base_pass@{k}'])}% | "
            f"{_pct(r[f'rl_pass@{k}'])}% | {r['crossover_k'] if r['crossover_k'] is not None else 'never'} | "
            f"{r['base_only']} / {r['rl_only']} | {chain_text} |"
        )
    lines += [
        "",
        "| seed | precedence pass@1 (base -> rl) | chain pass@1 (base -> rl) | "
        f"chain pass@{k} (base -> rl) |",
        "| --- | --- | --- | --- |",
    ]
    for r in rows:
        p, c = r["families"].get("precedence"), r["families"].get("chain")
        if p and c:
            lines.append(
                f"| {r['seed']} | {_pct(p['base_pass@1'])}% -> {_pct(p['rl_pass@1'])}% | "
                f"{_pct(c['base_pass@1'])}% -> {_pct(c['rl_pass@1'])}% | "
                f"{_pct(c[f'base_pass@{k}'])}% -> {_pct(c[f'rl_pass@{k}'])}% |"
            )
    lines += ["", "Across seeds (median, range):", ""]
    for key in ("base_pass@1", "rl_pass@1", f"base_pass@{k}", f"rl_pass@{k}"):
        v = summary[key]
        lines.append(f"- {key}: {_pct(v['median'])}% ({_pct(v['min'])} to {_pct(v['max'])})")
    v = summary["gain_pass@1"]
    lines.append(
        f"- pass@1 gain of RL: {v['median'] * 100:+.1f} points ({v['min'] * 100:+.1f} to {v['max'] * 100:+.1f})"
    )
    if summary["crossover_k"]:
        c = summary["crossover_k"]
        lines.append(
            f"- base overtakes at k: median {c['median']:g} ({c['min']} to {c['max']}), "
            f"in {c['seeds_with_crossover']} of {len(rows)} seeds"
        )
    lines += ["", "Claims, and in how many seeds they hold:", ""]
    lines += [f"- {claim}: {count} of {len(rows)}" for claim, count in summary["holds"].items()]
    return "\n".join(lines) + "\n"


def figures(rows: list[dict], out: Path) -> list[Path]:
    """passk_seeds.png and probe_seeds.png: one pair of curves per seed."""
    from rlvr.evaluate.plots import seeds_passk_figure, seeds_probe_figure

    k = rows[0]["k_max"]
    passk = {f"seed {r['seed']}": (r["curves"]["base"], r["curves"]["rl"]) for r in rows}
    probe = {
        f"seed {r['seed']}": (
            [p["step"] for p in r["probe"]],
            [p["pass@1"] for p in r["probe"]],
            [p[f"pass@{k}"] for p in r["probe"]],
        )
        for r in rows
    }
    written = [out / "passk_seeds.png", out / "probe_seeds.png"]
    written[0].write_bytes(seeds_passk_figure(passk))
    written[1].write_bytes(seeds_probe_figure(probe, k))
    return written


def run_seeds(out: str | Path, seeds: list[int], quick: bool = False, progress: bool = True) -> Path:
    """Every seed's demo (each resumable), then summary.md, summary.json and the two figures."""
    from rlvr.demo.run import DemoConfig, run_demo

    command = f"rlvr demo --seeds {','.join(map(str, seeds))}{' --quick' if quick else ''} --out {out}"
    out = Path(out).resolve()
    rows = []
    for number, seed in enumerate(seeds, 1):
        print(f"[demo] seed {seed} ({number} of {len(seeds)})", flush=True)
        run_demo(DemoConfig(out=str(out / f"seed-{seed}"), quick=quick, seed=seed, progress=progress))
        rows.append(seed_summary(out / f"seed-{seed}", seed))
    summary = across(rows)
    (out / "summary.json").write_text(json.dumps({"seeds": rows, "across": summary}, indent=2))
    (out / "summary.md").write_text(markdown(rows, summary, command))
    figures(rows, out)
    print((out / "summary.md").read_text(), flush=True)
    return out / "summary.md"
