"""Recipes: one YAML file per experiment, validated whole before any model loads.

Sections: model, data, algorithm, trainer (passed to the TRL config), rewards (registry names with
weights), probe, logging. `key=value` overrides use dotted paths (trainer.learning_rate=1e-6).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rlvr.templates import TEMPLATES
from rlvr.train.config_fields import config_fields
from rlvr.train.recipe_values import check, describe, kind_of_hint

ALGORITHMS = ("grpo", "rloo", "ppo", "passk", "reinforce_pp", "dr_grpo", "dapo", "sft")

# Presets over GRPO: what each algorithm changes in TRL's GRPOConfig (recipe `trainer` keys still win).
PRESETS: dict[str, dict] = {
    "grpo": {},
    # REINFORCE++: no per-group std scaling; advantages normalised over the whole batch; small KL.
    "reinforce_pp": {"scale_rewards": "batch", "beta": 0.001, "loss_type": "dapo"},
    # Dr. GRPO: no std scaling, loss normalised by a constant (no length bias).
    "dr_grpo": {"scale_rewards": "none", "loss_type": "dr_grpo", "beta": 0.0},
    # DAPO: clip-higher, token-level loss, no KL, truncated completions masked.
    "dapo": {"loss_type": "dapo", "epsilon_high": 0.28, "beta": 0.0, "mask_truncated_completions": True},
}


@dataclass
class LoraSection:
    r: int = field(default=16, metadata={"help": "LoRA rank."})
    alpha: int = field(default=32, metadata={"help": "LoRA alpha."})
    dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    target_modules: list[str] | str = field(default="all-linear", metadata={"help": "Modules to adapt."})


MODEL_DTYPES = ("auto", "bfloat16", "float16", "float32")


@dataclass
class ModelSection:
    path: str = field(default="", metadata={"help": "Model path or Hub id."})
    dtype: str = field(
        default="auto",
        metadata={
            "help": "auto, bfloat16, float16, float32.",
            "choices": MODEL_DTYPES,
        },
    )
    attn_implementation: str | None = field(default=None, metadata={"help": "e.g. sdpa, flash_attention_2."})
    rollout_dtype: str | None = field(
        default=None,
        metadata={
            "help": "RL rollouts drawn by rlvr's pruned decode loop from a copy of the policy in this dtype "
            "(bfloat16 on a CPU with avx512_bf16: docs/benchmarks.md); TRL still scores them in model.dtype, with "
            "no importance-sampling correction for the gap. Default: TRL's generate, in model.dtype.",
            "choices": (*MODEL_DTYPES[1:], None),  # None: TRL generates
        },
    )
    lora: LoraSection | None = field(
        default=None, metadata={"help": "LoRA settings; absent trains all weights."}
    )
    tiny_task: bool = field(
        default=False,
        metadata={
            "help": "Build rlvr's tiny model and generated task (python -m rlvr.train.tiny_task DIR) when path is "
            "a missing DIR/model; another path (an override) builds nothing. The recipes/tiny/ recipes set it."
        },
    )


@dataclass
class DataSection:
    dataset: str | None = field(
        default=None,
        metadata={
            "help": "Benchmark name from rlvr.data.DATASETS, a local JSONL/Parquet/CSV file, or a Hub dataset id (org/name)."
        },
    )
    data_file: str | None = field(
        default=None, metadata={"help": "JSONL/Parquet/CSV with id, problem, answer or tests."}
    )
    split: str | None = field(default=None, metadata={"help": "Training split."})
    config: str | None = field(default=None, metadata={"help": "Hub dataset config (subset) name."})
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
    id_key: str | None = field(default=None, metadata={"help": "Column holding the problem id (default id)."})
    release: str | None = field(
        default=None, metadata={"help": "LiveCodeBench release (release_v1..6 or v1..6)."}
    )
    since: str | None = field(
        default=None, metadata={"help": "Only problems with a contest date on or after (YYYY-MM-DD)."}
    )
    until: str | None = field(
        default=None, metadata={"help": "Only problems with a contest date on or before (YYYY-MM-DD)."}
    )
    template: str = field(
        default="qwen-boxed", metadata={"help": "Prompt template.", "choices": tuple(TEMPLATES)}
    )
    template_file: str | None = field(
        default=None,
        metadata={
            "help": "Your own template: Jinja (.jinja/.j2, {{ problem }}) or Python format text ({problem})."
        },
    )
    system_prompt: str | None = field(
        default=None, metadata={"help": "System prompt; replaces the template's system line."}
    )
    chat: str = field(
        default="auto",
        metadata={"help": "auto, chat or raw prompt rendering.", "choices": ("auto", "chat", "raw")},
    )
    limit: int | None = field(default=None, metadata={"help": "Use only the first N problems."})
    completion_column: str = field(default="completion", metadata={"help": "Teacher traces, for sft."})
    probe_file: str | None = field(
        default=None, metadata={"help": "Held-out problems for the boundary probe."}
    )


@dataclass
class ProbeSection:
    enabled: bool = field(default=False, metadata={"help": "Evaluate pass@k at step 0 and at every save."})
    datasets: list[str] = field(
        default_factory=list,
        metadata={"help": "Benchmark names or data files to probe (default: data.probe_file)."},
    )
    every: int = field(default=1, metadata={"help": "Probe every Nth save (1: every checkpoint)."})
    n: int = field(
        default=256, metadata={"help": "Samples per probe problem (with stop_at_correct, the most: n_max)."}
    )
    stop_at_correct: int | None = field(
        default=None,
        metadata={
            "help": "Sequential pass@k: sample each probe problem only until its m-th correct sample (or n); "
            "exactly unbiased at every k (docs/evaluate.md). Default: all n samples."
        },
    )
    min_samples: int | None = field(
        default=None, metadata={"help": "With stop_at_correct: at least this many samples of each problem."}
    )
    ks: list[int] | None = field(default=None, metadata={"help": "ks to log (default 1, 2, 4, ..., n)."})
    max_tokens: int = field(default=512, metadata={"help": "Most new tokens per probe sample."})
    temperature: float = field(default=0.6, metadata={"help": "Probe sampling temperature."})
    top_p: float = field(default=0.95, metadata={"help": "Probe sampling top-p."})
    top_k: int = field(default=0, metadata={"help": "Probe sampling top-k; 0 turns it off."})
    min_p: float = field(default=0.0, metadata={"help": "Probe sampling min-p; 0 turns it off."})
    stop: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Stop strings: a probe sample ends at the first, cut before it (vLLM's convention)."
        },
    )
    limit: int | None = field(default=None, metadata={"help": "Probe only the first N problems."})
    samples_per_call: int | str = field(
        default="auto",
        metadata={
            "help": "Sequences per generate call, or auto (what the free GPU memory holds; 256 on a CPU)."
        },
    )
    backend: str = field(
        default="hf",
        metadata={
            "help": "auto, vllm, hf, or openai (servers at probe.base_url serving the checkpoint: docs/scale.md).",
            "choices": ("auto", "vllm", "hf", "openai"),
        },
    )
    base_url: str | None = field(
        default=None, metadata={"help": "openai: the servers' URLs, comma-separated (http://host:8000,...)."}
    )
    concurrency: int = field(
        default=256, metadata={"help": "openai: most requests in flight, over all URLs."}
    )
    mode: str = field(
        default="inprocess",
        metadata={
            "help": "inprocess (rank 0) or detached (rlvr probe --watch).",
            "choices": ("inprocess", "detached"),
        },
    )
    seed: int = field(default=0, metadata={"help": "Probe sampling seed."})
    reward: str | None = field(
        default=None,
        metadata={
            "help": "The grader the probe scores with: a registered name (math, math_strict, code) or "
            "module:function with grade() and describe(); default: the grader among `rewards`. Needed when "
            "every reward of a run is shaping only and one is your own."
        },
    )
    dtype: str | None = field(
        default=None,
        metadata={
            "help": "Probe sampling dtype, apart from training's (bfloat16 samples a CPU with avx512_bf16 "
            "about twice as fast as float32: docs/benchmarks.md); default model.dtype.",
            "choices": (*MODEL_DTYPES, None),  # None: model.dtype
        },
    )


@dataclass
class LoggingSection:
    project: str = field(default="rlvr", metadata={"help": "W&B project."})
    group: str | None = field(default=None, metadata={"help": "W&B group (a sweep's name)."})
    tags: list[str] = field(default_factory=list, metadata={"help": "W&B tags."})
    name: str | None = field(default=None, metadata={"help": "W&B run name."})
    report_to: str = field(
        default="wandb",
        metadata={"help": "wandb (offline unless WANDB_API_KEY) or none.", "choices": ("wandb", "none")},
    )
    config: dict = field(
        default_factory=dict, metadata={"help": "Extra W&B config (a sweep puts its grid point here)."}
    )


@dataclass
class Recipe:
    model: ModelSection
    data: DataSection
    algorithm: str = "grpo"
    trainer: dict = field(default_factory=dict)
    rewards: dict[str, float] = field(default_factory=lambda: {"math": 1.0})
    probe: ProbeSection = field(default_factory=ProbeSection)
    logging: LoggingSection = field(default_factory=LoggingSection)
    source: str = ""

    @property
    def output_dir(self) -> Path:
        return Path(self.trainer.get("output_dir", "runs/rlvr"))


# (module, class) of each algorithm's trainer config; the presets use GRPO's, PPO GRPO's plus value fields,
# pass@k training GRPO's plus passk_k and passk_threshold.
CONFIG_CLASSES = {
    "ppo": ("rlvr.train.ppo", "PPOConfig"),
    "passk": ("rlvr.train.passk", "PassKConfig"),
    "rloo": ("trl", "RLOOConfig"),
    "sft": ("trl", "SFTConfig"),
}
GRPO_CONFIG = ("trl", "GRPOConfig")
SECTIONS = {"model": ModelSection, "data": DataSection, "probe": ProbeSection, "logging": LoggingSection}
TOP_KEYS = ("model", "data", "algorithm", "trainer", "rewards", "probe", "logging")


class RecipeError(ValueError):
    """A recipe problem, phrased as what to change."""


def _suggest(key: str, valid, where: str) -> str:
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(sorted(valid))}"
    return f"unknown key {key!r} in {where}{hint}"


def _build(cls, values, where: str):
    """A section from its mapping: every key known, every value of its field's type and choices."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise RecipeError(
            f"{where}: expected a mapping of keys ({', '.join(f.name for f in dataclasses.fields(cls))}), "
            f"got {values!r}"
        )
    values = dict(values)
    names = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in values:
        if key not in names:
            raise RecipeError(_suggest(key, names, where))
    if cls is ModelSection and "lora" in values:
        lora = values["lora"]
        if lora is True:  # `lora: true`: the defaults
            lora = {}
        values["lora"] = None if lora in (None, False) else _build(LoraSection, lora, f"{where}.lora")
    for key, value in values.items():
        if key == "lora" and cls is ModelSection:
            continue
        values[key] = check(
            value, kind_of_hint(hints[key]), f"{where}.{key}", choices=names[key].metadata.get("choices", ())
        )
    return cls(**values)


def trainer_config_class(algorithm: str):
    """The config class for an algorithm (imports trl; validation reads field names without it)."""
    import importlib

    module, name = CONFIG_CLASSES.get(algorithm, GRPO_CONFIG)
    return getattr(importlib.import_module(module), name)


def _set_dotted(raw: dict, dotted: str, value) -> None:
    keys = dotted.split(".")
    node = raw
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise RecipeError(f"override {dotted}: {key} is not a section")
    node[keys[-1]] = value


def parse_overrides(pairs: list[str]) -> list[tuple[str, object]]:
    out = []
    for pair in pairs:
        if "=" not in pair:
            raise RecipeError(
                f"override {pair!r} must look like section.key=value, e.g. trainer.learning_rate=1e-6"
            )
        key, text = pair.split("=", 1)
        value = yaml.safe_load(text)
        if isinstance(value, str):
            try:  # YAML 1.1 reads 1e-6 as a string; a user typing it means the number
                value = float(value)
            except ValueError:
                pass
        out.append((key.strip(), value))
    return out


def validate(raw: dict, source: str = "") -> Recipe:
    """The whole recipe checked: sections, keys (with the closest valid one), algorithm, trainer keys, rewards."""
    if not isinstance(raw, dict):
        raise RecipeError(f"{source}: a recipe is a YAML mapping with sections {', '.join(TOP_KEYS)}")
    for key in raw:
        if key not in TOP_KEYS:
            raise RecipeError(_suggest(key, TOP_KEYS, "the recipe"))
    algorithm = raw.get("algorithm", "grpo")
    if algorithm not in ALGORITHMS:
        close = difflib.get_close_matches(str(algorithm), ALGORITHMS, n=1)
        raise RecipeError(
            f"unknown algorithm {algorithm!r}"
            + (f"; did you mean {close[0]!r}?" if close else f"; choose one of {ALGORITHMS}")
        )
    model = _build(ModelSection, raw.get("model"), "model")
    if not model.path:
        raise RecipeError("model.path is required (a local directory or a Hub id)")
    data = _build(DataSection, raw.get("data"), "data")
    if not (data.dataset or data.data_file):
        raise RecipeError("data needs dataset (a benchmark name) or data_file")
    trainer = dict(raw.get("trainer") or {})
    class_name = CONFIG_CLASSES.get(algorithm, GRPO_CONFIG)[1]
    valid = config_fields(class_name, lambda: trainer_config_class(algorithm))
    for key in trainer:
        if key not in valid:
            raise RecipeError(_suggest(key, valid, f"trainer (fields of {class_name})"))
        trainer[key] = check(
            trainer[key], valid[key], f"trainer.{key}", f"{class_name}.{key} takes {describe(valid[key])}"
        )
    rewards = raw.get("rewards") or {"math": 1.0}
    if isinstance(rewards, str):  # `rewards=random` on the command line: names at weight 1.0
        rewards = [name.strip() for name in rewards.split(",") if name.strip()]
    if isinstance(rewards, list):
        rewards = {name: 1.0 for name in rewards}
    if not isinstance(rewards, dict):
        raise RecipeError(
            f"rewards: expected a mapping of reward names to weights (math: 1.0), got {rewards!r}"
        )
    from rlvr.rewards.registry import check_reward_name

    for name in rewards:
        try:  # a registered name (the closest one suggested) or a function by import path
            check_reward_name(str(name))
        except KeyError as exc:
            raise RecipeError(f"rewards: {exc.args[0]}") from None
        rewards[name] = check(1.0 if rewards[name] is None else rewards[name], ("float",), f"rewards.{name}")
    probe = _build(ProbeSection, raw.get("probe"), "probe")
    from rlvr.evaluate.backends.base import setting_problems

    problems = [(f"data.{key}", problem) for key, problem in setting_problems(limit=data.limit)]
    problems += [
        (f"probe.{key}", problem)
        for key, problem in setting_problems(
            n=probe.n,
            max_tokens=probe.max_tokens,
            temperature=probe.temperature,
            top_p=probe.top_p,
            top_k=probe.top_k,
            min_p=probe.min_p,
            stop=probe.stop,
            limit=probe.limit,
        )
    ]
    if problems:
        raise RecipeError("; ".join(f"{key} {problem}" for key, problem in problems))
    if bad := [k for k in probe.ks or [] if not 1 <= k <= probe.n]:
        raise RecipeError(f"probe.ks {bad} must lie in [1, probe.n={probe.n}]")
    if probe.stop_at_correct is not None or probe.min_samples is not None:
        from rlvr.evaluate.sequential import StopRule

        if probe.stop_at_correct is None:
            raise RecipeError(
                "probe.min_samples only applies with probe.stop_at_correct; set it, or drop min_samples"
            )
        try:
            StopRule(probe.stop_at_correct, probe.n, probe.min_samples or 0)
        except ValueError as exc:
            raise RecipeError(f"probe.stop_at_correct / probe.min_samples: {exc}") from None
    if (probe.backend == "openai") != (probe.base_url is not None):
        raise RecipeError(
            "probe.backend openai needs probe.base_url (the servers' URLs), and probe.base_url needs "
            "probe.backend openai"
        )
    if probe.every < 1:
        raise RecipeError(f"probe.every must be at least 1, not {probe.every}")
    if probe.enabled:
        probe_grader(rewards, probe.reward)
    if model.rollout_dtype and (algorithm == "sft" or model.lora):
        why = (
            "sft has no rollouts"
            if algorithm == "sft"
            else "it copies whole weights, and LoRA trains adapters"
        )
        raise RecipeError(f"model.rollout_dtype: {why}; remove model.rollout_dtype")
    return Recipe(
        model,
        data,
        algorithm,
        trainer,
        {k: float(v) for k, v in rewards.items()},
        probe,
        _build(LoggingSection, raw.get("logging"), "logging"),
        source,
    )


_GRADER_HINT = "math, math_strict, code, or module:function with grade() and describe() (docs/rewards.md)"


def probe_grader(rewards: dict, named: str | None = None) -> str:
    """The grader the probe scores with: `probe.reward` when set, else the run's own grader among `rewards`,
    else math where every reward is rlvr's shaping one. A user's reward without grade() is never replaced by
    math silently: the run must name its grader."""
    from rlvr.rewards.registry import BUILT_IN, check_reward_name, grader_problem, names_grader

    if named:
        try:
            check_reward_name(str(named))
        except KeyError as exc:
            raise RecipeError(f"probe.reward: {exc.args[0]}") from None
        if problem := grader_problem(str(named)):
            raise RecipeError(f"probe.reward {named!r} {problem}; name a grader: {_GRADER_HINT}")
        return str(named)
    graders = [str(name) for name in rewards if names_grader(str(name))]
    if graders:
        if problem := grader_problem(graders[0]):
            raise RecipeError(f"rewards: {graders[0]!r} {problem}, so the probe cannot grade with it; add it")
        return graders[0]
    own = [str(name) for name in rewards if str(name) not in BUILT_IN]
    if own:
        raise RecipeError(
            f"rewards: {own[0]!r} has no grade(), so the probe cannot tell a right answer; set probe.reward to "
            f"the grader that does: {_GRADER_HINT}"
        )
    return "math"


def check_paths(recipe: Recipe, model: bool = True) -> None:
    """The model and the files a recipe names exist: checked before any model loads. `model=False` leaves out
    the model (`--check` names a Hub model missing from the cache in its own line)."""
    from rlvr.data import DATASETS
    from rlvr.model_path import looks_like_hub_id, model_path_problem

    if recipe.model.tiny_task:
        from rlvr.train.tiny_task import build_when_missing

        build_when_missing(recipe.model.path)
    problem = model_path_problem(recipe.model.path) if model else None
    if problem:
        raise RecipeError(f"model.path {problem}")
    files = [("data.data_file", recipe.data.data_file), ("data.template_file", recipe.data.template_file)]
    dataset = recipe.data.dataset
    if dataset and dataset not in DATASETS and not os.path.isfile(dataset) and not looks_like_hub_id(dataset):
        raise RecipeError(
            f"data.dataset {dataset!r}: not a benchmark name ({', '.join(DATASETS)}), an existing file, "
            f"or a Hub dataset id like org/name"
        )
    if recipe.probe.enabled:  # the probe's files matter only when it runs
        files.append(("data.probe_file", recipe.data.probe_file))
        files += [("probe.datasets", d) for d in recipe.probe.datasets if d not in DATASETS]
    for key, file in files:
        if file and not os.path.isfile(file):
            extra = f" (nor a benchmark name: {', '.join(DATASETS)})" if key == "probe.datasets" else ""
            raise RecipeError(f"{key}: {file} does not exist{extra}")


def load_recipe(path: str | Path, overrides: list[str] | None = None) -> Recipe:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"recipe {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RecipeError(
            f"{where}: YAML syntax error: {problem}; check the indentation and quoting there"
        ) from None
    for key, value in parse_overrides(overrides or []):
        if key.split(".")[0] not in TOP_KEYS:
            raise RecipeError(f"override {key}: " + _suggest(key.split(".")[0], TOP_KEYS, "the recipe"))
        _set_dotted(raw, key, value)
    return validate(raw, str(path))
