"""`rlvr demo --seeds 0,1,2,3,4 [--objectives]`: the whole demo once per seed, then what holds across them.

Floating-point results differ between CPUs, so one seed's exact figures are one machine's; the story is what
holds in every seed. Each seed runs into OUT/seed-K (resumable on its own, like one demo), with --objectives
also GRPO against pass@k training into OUT/seed-K/objectives. OUT/summary.md and summary.json give per seed
and per model against the base (GRPO, the distilled model and, with --objectives, the objectives' runs) the
pass@1 gain with its interval, the crossover k, pass@k_max, coverage and the per-family figures, then the
median and range across seeds and in how many seeds each claim holds; two figures draw one curve per seed
(pass@k of base and RL; held-out pass@k over GRPO steps).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path


def _model_numbers(label: str, curve, pair, families: dict) -> dict:
    """One model against the base: pass@1 and pass@k_max, the paired gains [low, high], crossover, coverage."""
    d = pair.diff
    chain = families.get("chain")
    return {
        "pass@1": float(curve.mean[0]),
        "k_max": len(curve.mean),
        "pass@k_max": float(curve.mean[-1]),
        "gain_pass@1": [float(d.diff[0]), float(d.low[0]), float(d.high[0])],
        "gap_at_k_max": [float(d.diff[-1]), float(d.low[-1]), float(d.high[-1])],
        "crossover_k": pair.cross.k_star,
        "base_only": int(pair.coverage["only"]["base"]["count"]),
        "only": int(pair.coverage["only"][label]["count"]),
        "chain_solved": None if chain is None else [chain["base_solved"], chain[f"{label}_solved"]],
    }


def _objective_models(path: Path) -> dict:
    """The objectives' runs (OUT/seed-K/objectives/summary.json) in the same form, keyed by run name."""
    summary = json.loads(path.read_text())
    k = summary["k_max"]
    out = {}
    for r in summary["runs"]:
        chain = r["families"].get("chain")
        out[r["run"]] = {
            "pass@1": r["pass@1"][0],
            "k_max": k,
            "pass@k_max": r[f"pass@{k}"][0],
            "gain_pass@1": r["gain_pass@1"],
            "gap_at_k_max": r[f"gain_pass@{k}"],
            "crossover_k": r["crossover_k"],
            "base_only": r["base_only"],
            "only": r["run_only"],
            "chain_solved": None if chain is None else [chain["base_solved"], chain["solved"]],
        }
    return out


def seed_summary(out: Path, seed: int) -> dict:
    """The numbers of one seed's demo that the summary compares across seeds."""
    from rlvr.demo.run import comparison, family_numbers

    distilled = (out / "distill" / "eval" / "heldout" / "results.json").exists()
    result, counts, records, _ = comparison(out, distilled)
    base, rl = result.curves[:2]
    k = result.k_max
    pair = result.pairs[0]
    only = pair.coverage["only"]
    families = family_numbers(counts)
    models = {
        c.label: _model_numbers(c.label, curve, p, families)
        for c, curve, p in zip(counts[1:], result.curves[1:], result.pairs)
    }
    objectives = out / "objectives" / "summary.json"
    if objectives.exists():
        models.update(_objective_models(objectives))
    return {
        "seed": seed,
        "k_max": k,
        "problems": len(counts[0].problems),
        "base_pass@1": float(base.mean[0]),
        "rl_pass@1": float(rl.mean[0]),
        "gain_pass@1": float(pair.diff.diff[0]),
        "gain_low": float(pair.diff.low[0]),
        "gain_high": float(pair.diff.high[0]),
        f"base_pass@{k}": float(base.mean[-1]),
        f"rl_pass@{k}": float(rl.mean[-1]),
        "gap_at_k_max": float(pair.diff.diff[-1]),
        "gap_at_k_max_low": float(pair.diff.low[-1]),
        "gap_at_k_max_high": float(pair.diff.high[-1]),
        "crossover_k": pair.cross.k_star,
        "base_only": int(only["base"]["count"]),
        "rl_only": int(only["rl"]["count"]),
        "families": families,
        "models": models,
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
    out["models"] = model_claims(rows)
    return out


def model_claims(rows: list[dict]) -> dict:
    """Per model that every seed has (GRPO, distilled, the objectives' runs): in how many seeds each claim holds."""
    names = [m for m in rows[0]["models"] if all(m in r["models"] for r in rows)]
    out = {}
    for name in names:
        ms = [r["models"][name] for r in rows]
        out[name] = {
            "gain_pass@1": _spread([m["gain_pass@1"][0] for m in ms]),
            "pass@k_max": _spread([m["pass@k_max"] for m in ms]),
            "holds": {
                "raises pass@1 beyond its 95% interval": sum(m["gain_pass@1"][1] > 0 for m in ms),
                "the base overtakes it at some k": sum(m["crossover_k"] is not None for m in ms),
                "the base's lead at k = n excludes 0": sum(m["gap_at_k_max"][2] < 0 for m in ms),
                "the base alone solves more problems than it alone": sum(
                    m["base_only"] > m["only"] for m in ms
                ),
                "it solves fewer chain problems at all than the base": sum(
                    m["chain_solved"] is not None and m["chain_solved"][1] < m["chain_solved"][0] for m in ms
                ),
            },
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
    lines += model_markdown(rows, summary)
    return "\n".join(lines) + "\n"


def model_markdown(rows: list[dict], summary: dict) -> list[str]:
    """Every model against the base, seed by seed, and each model's claims across seeds."""
    names = list(summary["models"])
    if not names:
        return []
    lines = [
        "",
        "## Every model against the base",
        "",
        "| seed | model | pass@1 gain [95% CI] (points) | n | pass@n gap [95% CI] (points) | "
        "base overtakes at k | base only / model only | chains solved at all (base -> model) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def ci(v: list[float]) -> str:
        return f"{v[0] * 100:+.1f} [{v[1] * 100:+.1f}, {v[2] * 100:+.1f}]"

    for r in rows:
        for name in names:
            m = r["models"][name]
            chain = f"{m['chain_solved'][0]} -> {m['chain_solved'][1]}" if m["chain_solved"] else ""
            cross = m["crossover_k"] if m["crossover_k"] is not None else "never"
            lines.append(
                f"| {r['seed']} | {name} | {ci(m['gain_pass@1'])} | {m['k_max']} | {ci(m['gap_at_k_max'])} | {cross} | "
                f"{m['base_only']} / {m['only']} | {chain} |"
            )
    lines += ["", "Per model, in how many seeds each claim holds (median pass@1 gain, range):", ""]
    for name, claims in summary["models"].items():
        g = claims["gain_pass@1"]
        held = "; ".join(f"{claim} {count} of {len(rows)}" for claim, count in claims["holds"].items())
        lines.append(
            f"- **{name}** ({g['median'] * 100:+.1f} points, {g['min'] * 100:+.1f} to {g['max'] * 100:+.1f}): {held}"
        )
    return lines


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


def run_seeds(
    out: str | Path,
    seeds: list[int],
    quick: bool = False,
    progress: bool = True,
    objectives: bool = False,
    launcher: str = "local",
) -> Path:
    """Every seed's demo (each resumable) and, with `objectives`, its objectives comparison; then summary.md,
    summary.json and the two figures."""
    from rlvr.demo.run import DemoConfig, run_demo

    flags = (" --quick" if quick else "") + (" --objectives" if objectives else "")
    command = f"rlvr demo --seeds {','.join(map(str, seeds))}{flags} --out {out}"
    out = Path(out).resolve()
    rows = []
    for number, seed in enumerate(seeds, 1):
        print(f"[demo] seed {seed} ({number} of {len(seeds)})", flush=True)
        run_demo(DemoConfig(out=str(out / f"seed-{seed}"), quick=quick, seed=seed, progress=progress))
        if objectives:
            from rlvr.demo.objectives import run_objectives

            run_objectives(out / f"seed-{seed}", quick, seed, launcher, progress)
        rows.append(seed_summary(out / f"seed-{seed}", seed))
    summary = across(rows)
    (out / "summary.json").write_text(json.dumps({"seeds": rows, "across": summary}, indent=2))
    (out / "summary.md").write_text(markdown(rows, summary, command))
    figures(rows, out)
    print((out / "summary.md").read_text(), flush=True)
    return out / "summary.md"
