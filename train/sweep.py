"""`rlvr sweep SWEEP.yaml`: a grid over recipe keys expanded into runs, launched locally, with accelerate or SLURM.

name: kl-ablation                  # W&B group; runs go to <output_dir>/<run name>
recipe: recipes/grpo_qwen25_math_1p5b.yaml
output_dir: runs/sweeps/kl-ablation
overrides: [trainer.max_steps=500] # applied to every run (or a mapping: trainer.max_steps: 500)
grid:
  trainer.beta: [0.0, 0.001]
  trainer.num_generations: [8, 32]
accelerate_config: launch/accelerate/multi_gpu.yaml
slurm: {template: launch/slurm/train.sbatch, nodes: 1, gpus_per_node: 8, time: "24:00:00", partition: gpu}
families: my_task:family           # optional: problem id -> family name, for per-family curves in the report
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
import shlex
import string
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

LAUNCHERS = ("local", "accelerate", "slurm")
SWEEP_KEYS = (
    "name",
    "recipe",
    "output_dir",
    "overrides",
    "grid",
    "launcher",
    "accelerate_config",
    "slurm",
    "families",
)
SLURM_DEFAULTS = {
    "template": "launch/slurm/train.sbatch",
    "nodes": 1,
    "gpus_per_node": 8,
    "cpus_per_task": 32,
    "time": "24:00:00",
    "partition": "gpu",
    "processes_per_node": None,  # default: gpus_per_node, or 1 process on a node without GPUs
    "accelerate": None,  # default: the accelerate beside the interpreter that runs `rlvr sweep`
    "extra": "",
}
PACKAGED = "launch/"  # launch/... paths not found on disk are read from the copy installed with rlvr


@dataclass
class Run:
    name: str
    point: dict
    overrides: list[str]
    output_dir: Path


@dataclass
class Sweep:
    name: str
    recipe: Path
    output_dir: Path
    grid: dict[str, list]
    overrides: list[str] = field(default_factory=list)
    launcher: str = "local"
    accelerate_config: str = "launch/accelerate/single_gpu.yaml"
    slurm: dict = field(default_factory=dict)
    source: Path = Path(".")
    families: str | None = None

    def family_function(self):
        """The `families` import path as a function (problem id -> family name), or None."""
        if not self.families:
            return None
        import importlib

        module, _, name = self.families.partition(":")
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise ValueError(
                f"sweep {self.source}: families {self.families!r} is not an importable module:function "
                f"({exc})"
            ) from None

    def runs(self) -> list[Run]:
        keys = list(self.grid)
        out = []
        for values in itertools.product(*(self.grid[k] for k in keys)):
            point = dict(zip(keys, values))
            name = "_".join(f"{k.split('.')[-1]}-{v}" for k, v in point.items())
            name = re.sub(r"[^A-Za-z0-9_.=-]", "", name)
            run_dir = self.output_dir / name
            overrides = [
                *self.overrides,
                *(f"{k}={_text(v)}" for k, v in point.items()),
                f"trainer.output_dir={run_dir}",
                f"logging.group={self.name}",
                f"logging.name={name}",
                f"logging.config={json.dumps({'sweep': self.name, **point})}",
            ]
            out.append(Run(name, point, overrides, run_dir))
        return out


def _text(value) -> str:
    """A grid value as override text that YAML reads back to the same value."""
    return value if isinstance(value, str) else json.dumps(value)


def _resolve(path: str, base: Path) -> Path:
    """Relative paths are tried from the working directory, then from the sweep file's directory and the
    directories above it (so `recipes/...` works from anywhere in or outside the project)."""
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    for directory in (base.resolve(), *base.resolve().parents):
        if (directory / candidate).exists():
            return directory / candidate
    return packaged(path) or candidate


def packaged(path: str) -> Path | None:
    """`launch/...` (accelerate configs, SLURM templates) from the copy installed as rlvr.launch, so that a
    `pip install rlvr` without a checkout finds them; None when there is none."""
    if not path.startswith(PACKAGED):
        return None
    from importlib.resources import files

    installed = Path(str(files("rlvr.launch"))) / path[len(PACKAGED) :]
    return installed if installed.exists() else None


def load_sweep(
    path: str | Path, extra_overrides: list[str] | None = None, trainer_configs: bool = False
) -> Sweep:
    """The sweep with every run's recipe validated; with `trainer_configs`, each run's TRL config built too, so
    a grid point TRL refuses (num_generations not dividing the batch) fails before the first run trains."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"sweep file {path} does not exist")
    raw = yaml.safe_load(path.read_text()) or {}
    for key in raw:
        if key not in SWEEP_KEYS:
            close = difflib.get_close_matches(key, SWEEP_KEYS, n=1)
            raise ValueError(
                f"unknown key {key!r} in sweep {path}"
                + (f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(SWEEP_KEYS)}")
            )
    for key in ("name", "recipe", "grid"):
        if key not in raw:
            raise ValueError(f"sweep {path} needs `{key}`")
    grid = raw["grid"]
    if not isinstance(grid, dict) or not grid or not all(isinstance(v, list) and v for v in grid.values()):
        raise ValueError(
            f"sweep {path}: grid maps recipe keys to non-empty lists, e.g. trainer.beta: [0.0, 0.001]"
        )
    slurm = {**SLURM_DEFAULTS, **(raw.get("slurm") or {})}
    unknown = set(slurm) - set(SLURM_DEFAULTS)
    if unknown:
        raise ValueError(
            f"sweep {path}: unknown slurm keys {sorted(unknown)}; valid: {', '.join(SLURM_DEFAULTS)}"
        )
    overrides = raw.get("overrides") or []
    if isinstance(overrides, dict):  # `key: value` lines, as a recipe is written, read as `- key=value` ones
        overrides = [f"{key}={_text(value)}" for key, value in overrides.items()]
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise ValueError(
            f"sweep {path}: overrides is a list of section.key=value or a mapping of section.key: value, "
            f"e.g. trainer.max_steps: 500; got {overrides!r}"
        )
    sweep = Sweep(
        name=raw["name"],
        recipe=_resolve(raw["recipe"], path.parent),
        output_dir=Path(raw.get("output_dir", f"runs/sweeps/{raw['name']}")),
        grid=grid,
        overrides=[*overrides, *(extra_overrides or [])],
        launcher=raw.get("launcher", "local"),
        accelerate_config=str(
            _resolve(raw.get("accelerate_config", "launch/accelerate/single_gpu.yaml"), path.parent)
        ),
        slurm=slurm,
        source=path,
        families=raw.get("families"),
    )
    from rlvr.train.recipe import load_recipe

    for run in sweep.runs():  # every run's recipe is validated before anything launches
        load_recipe(sweep.recipe, run.overrides)
    if trainer_configs:
        check_trainer_configs(sweep)
    return sweep


def check_trainer_configs(sweep: Sweep, here: bool = True) -> None:
    """Each run's TRL config built, so that a grid point TRL refuses fails before the first run trains;
    `here=False` checks for the machines the runs are meant for (SLURM's nodes), not this one."""
    from rlvr.train.build import build_config
    from rlvr.train.recipe import load_recipe

    for run in sweep.runs():
        try:
            build_config(load_recipe(sweep.recipe, run.overrides), here=here)
        except ValueError as exc:
            raise ValueError(f"sweep run {run.name}: {exc}") from None


def train_command(sweep: Sweep, run: Run, launcher: str) -> list[str]:
    entry = ["-m", "rlvr.train", str(sweep.recipe), *run.overrides]
    if launcher == "accelerate":
        return [*_accelerate_launch(), "--config_file", str(sweep.accelerate_config), *entry]
    return [sys.executable, *entry]


def _accelerate_script() -> str:
    """The `accelerate` script of this environment (beside the interpreter: a venv used without activating
    it), else the one on PATH; a SLURM job runs it by this path, whatever the job's PATH holds."""
    import shutil

    beside = Path(sys.executable).parent / "accelerate"
    found = str(beside) if beside.exists() else shutil.which("accelerate")
    if not found:
        raise FileNotFoundError(
            f"no accelerate script beside {sys.executable} or on PATH: pip install accelerate"
        )
    return found


def _accelerate_launch() -> list[str]:
    """This environment's `accelerate launch`: the script beside this interpreter (a venv used without
    activating it), else the one on PATH, else `python -m accelerate.commands.launch`."""
    import shutil

    beside = Path(sys.executable).parent / "accelerate"
    if beside.exists():
        return [str(beside), "launch"]
    return (
        ["accelerate", "launch"]
        if shutil.which("accelerate")
        else [sys.executable, "-m", "accelerate.commands.launch"]
    )


def slurm_script(sweep: Sweep, run: Run) -> str:
    """The sbatch script for one run, from the sweep's template (string.Template `${...}` fields)."""
    template_path = _resolve(str(sweep.slurm["template"]), sweep.source.parent)
    if not template_path.exists():
        raise FileNotFoundError(f"SLURM template {sweep.slurm['template']} not found")
    gpus = int(sweep.slurm["gpus_per_node"])
    fields = {
        **sweep.slurm,
        "processes_per_node": sweep.slurm["processes_per_node"] or gpus or 1,
        "accelerate": shlex.quote(sweep.slurm["accelerate"] or _accelerate_script()),
        "job_name": f"{sweep.name}-{run.name}",
        "output_dir": str(run.output_dir),
        "accelerate_config": shlex.quote(str(sweep.accelerate_config)),
        "recipe": shlex.quote(str(sweep.recipe)),
        "overrides": " ".join(shlex.quote(o) for o in run.overrides),
    }
    script = string.Template(template_path.read_text()).substitute(fields)
    # an empty option (partition: "") or no GPUs (gpus_per_node: 0) leaves the line out: SLURM's default
    unset = re.compile(r"#SBATCH --(?:[\w-]+=|gpus-per-node=0)\s*$")
    return "".join(line for line in script.splitlines(keepends=True) if not unset.match(line.strip()))


def follow_hint(sweep: Sweep, runs: list[Run], jobs: list[str]) -> str:
    """What to type to watch submitted jobs, where their logs are, and how to compare the runs afterwards."""
    lines = [f"[sweep] submitted {len(jobs)} SLURM jobs: {', '.join(jobs)}"]
    lines.append(f"[sweep] follow them: squeue -j {','.join(jobs)}")
    for run, job in zip(runs, jobs):
        lines.append(f"[sweep]   {run.name}: job {job}, log {run.output_dir / f'slurm-{job}.out'}")
    lines.append(f"[sweep] once they end: rlvr sweep {sweep.source} --report")
    return "\n".join(lines)


def launch(sweep: Sweep, launcher: str | None = None, dry_run: bool = False) -> list[Run]:
    launcher = launcher or sweep.launcher
    if launcher not in LAUNCHERS:
        raise ValueError(f"--launcher {launcher!r}: choose one of {', '.join(LAUNCHERS)}")
    runs = sweep.runs()
    sweep.output_dir.mkdir(parents=True, exist_ok=True)
    jobs = []
    for i, run in enumerate(runs, 1):
        if launcher == "slurm":
            script = slurm_script(sweep, run)
            path = sweep.output_dir / "slurm" / f"{run.name}.sbatch"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(script)
            if dry_run:
                print(f"# ---- {path}\n{script}")
            else:
                run.output_dir.mkdir(parents=True, exist_ok=True)  # slurmd opens --output before the job runs
                submitted = subprocess.run(
                    ["sbatch", "--parsable", str(path)], check=True, capture_output=True, text=True
                )
                jobs.append(submitted.stdout.strip().split(";")[0])
            continue
        command = train_command(sweep, run, launcher)
        print(f"[sweep] run {i}/{len(runs)} {run.name}: {shlex.join(command)}", flush=True)
        if not dry_run:
            subprocess.run(command, check=True)
    if jobs:
        print(follow_hint(sweep, runs, jobs), flush=True)
    return runs
