"""Benchmarks by name (Hub ids and column mappings) and local data files: problems for eval and training."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rlvr.benchmarks import LCB_RELEASES, humaneval_row, lcb_row, mbpp_plus_row
from rlvr.model_path import looks_like_hub_id
from rlvr.training_sets import (
    OMNI_RULE_SHA256,
    OMNI_RULE_URL,
    fetch_url_rows,
    first_verified_trace,
    local_copy,
    math_solution_row,
    omni_rule_split,
    read_local_copy,
    write_local_copy,
)


@dataclass(frozen=True)
class Columns:
    """Which column holds what, for data with its own names (OpenRLHF's --input_key/--label_key, open-r1's
    dataset columns). None: the usual names (problem/prompt/question, answer, tests, entry_point, id)."""

    problem: str | None = None
    answer: str | None = None
    tests: str | None = None
    entry_point: str | None = None
    id: str | None = None

    def apply(self, row: dict, where: str) -> dict:
        renamed = dict(row)
        for logical in ("problem", "answer", "tests", "entry_point", "id"):
            key = getattr(self, logical)
            if key is None:
                continue
            if key not in row:
                raise ValueError(
                    f"{where} has no column {key!r} (the {logical} column asked for); "
                    f"its columns: {', '.join(map(str, row))}"
                )
            renamed[logical] = row[key]
        return renamed


@dataclass(frozen=True)
class DatasetSpec:
    """A benchmark or training set by name: where it lives (pinned to a commit where one was verified) and how
    its rows read."""

    hub_id: str
    split: str
    kind: str  # "math" or "code"
    columns: Columns = Columns()
    config: str | None = None
    revision: str | None = None  # None: not pinned yet (docs/train.md lists which)
    convert: Callable[[dict], dict] | None = None  # row -> rlvr row, where prompts or tests must be built
    parquet: str | None = None  # files under the repo at `revision`, "{release}" filled in (LiveCodeBench)
    default_release: str | None = None
    url: str | None = None  # a JSONL file at a pinned URL instead of a Hub dataset, checked by `sha256`
    sha256: str | None = None
    select: Callable[[list, str], list] | None = None  # (located rows, split) -> the split's rows
    training: bool = False  # a training set (recipes' data.dataset), not a benchmark


DATASETS: dict[str, DatasetSpec] = {
    # revisions: gsm8k and MATH-500 as pinned by other projects' evaluation code, humanevalplus as lm-eval pins it
    "gsm8k": DatasetSpec(
        "openai/gsm8k",
        "test",
        "math",
        Columns(problem="question"),
        config="main",
        revision="740312add88f781978c0658806c59bc2815b9866",
    ),
    "math500": DatasetSpec(
        "HuggingFaceH4/MATH-500",
        "test",
        "math",
        Columns(id="unique_id"),
        revision="6e4ed1a2a79af7d8630a6b768ec859cb5af4d3be",
    ),
    "aime24": DatasetSpec(
        "HuggingFaceH4/aime_2024",
        "train",
        "math",
        Columns(id="id"),
        revision="2fe88a2f1091d5048c0f36abc874fb997b3dd99a",
    ),
    "aime25": DatasetSpec(
        "math-ai/aime25",
        "test",
        "math",
        Columns(id="id"),
        revision="563bb8404243c5f09de6ec262f2db674fe5bce9b",
    ),
    "amc23": DatasetSpec("math-ai/amc23", "test", "math", Columns(problem="question", id="id")),
    "minerva": DatasetSpec("math-ai/minervamath", "test", "math", Columns(problem="question")),
    "olympiadbench": DatasetSpec(
        "math-ai/olympiadbench", "test", "math", Columns(problem="question", answer="final_answer", id="id")
    ),
    "humaneval_plus": DatasetSpec(
        "evalplus/humanevalplus",
        "test",
        "code",
        convert=humaneval_row,
        revision="d32357cf319e50e9c8d8dab5ea876c72b0fd321b",
    ),
    "mbpp_plus": DatasetSpec("evalplus/mbppplus", "test", "code", convert=mbpp_plus_row),
    # the last commit with Parquet configs per release (current main is a loading script datasets >= 4 refuses)
    "livecodebench": DatasetSpec(
        "livecodebench/code_generation_lite",
        "test",
        "code",
        convert=lcb_row,
        revision="48d36ed304dca42cf8ab20e941262ccd096518a3",
        parquet="{release}/test-*.parquet",
        default_release="release_v6",
    ),
    # Training sets. GSM8K's train split at the commit pinned for its test split above.
    "gsm8k_train": DatasetSpec(
        "openai/gsm8k",
        "train",
        "math",
        Columns(problem="question"),
        config="main",
        revision="740312add88f781978c0658806c59bc2815b9866",
        training=True,
    ),
    # MATH's 7,500 training problems (all seven subjects), at the commit Marin's task compendium pins.
    "math_train": DatasetSpec(
        "EleutherAI/hendrycks_math",
        "train",
        "math",
        convert=math_solution_row,
        revision="21a5633873b6a120296cce3e2df9d5550074f4a3",
        parquet="*/train-*.parquet",
        training=True,
    ),
    # SimpleRL-Zoo's MATH level 3-5 set (about 8,000 problems; question, gt_answer, level, subject): not pinned.
    "simplerl_zoo_l3to5": DatasetSpec(
        "hkust-nlp/SimpleRL-Zoo-Data",
        "train",
        "math",
        Columns(problem="question", answer="gt_answer"),
        parquet="simplelr_qwen_level3to5/train.parquet",
        training=True,
    ),
    # Omni-MATH-Rule (2,821 problems) from GitHub at a pinned commit, split 2,000 / 821 by content.
    "omni_math_rule_train": DatasetSpec(
        "KbsdJames/omni-math-rule",
        "train",
        "math",
        url=OMNI_RULE_URL,
        sha256=OMNI_RULE_SHA256,
        select=omni_rule_split,
        training=True,
    ),
    # The distillation control's teacher: DeepSeek-R1's traces for NuminaMath-1.5 problems (default config,
    # 93,733 rows), at the commit a datasets cache records; the completion is the first math-verify-correct trace.
    "openr1_math_traces": DatasetSpec(
        "open-r1/OpenR1-Math-220k",
        "train",
        "math",
        convert=first_verified_trace,
        config="default",
        revision="e4e141ec9dea9f8326f4d347be56105859b2bd68",
        training=True,
    ),
    "omni_math_rule_test": DatasetSpec(
        "KbsdJames/omni-math-rule",
        "test",
        "math",
        url=OMNI_RULE_URL,
        sha256=OMNI_RULE_SHA256,
        select=omni_rule_split,
    ),
}


@dataclass
class Problem:
    id: str
    problem: str
    answer: str | None = None
    tests: object = None
    entry_point: str | None = None
    extra: dict = field(default_factory=dict)

    def columns(self) -> dict:
        """What a grader reads, as TRL dataset columns."""
        if self.tests is not None:
            return {"tests": self.tests, "entry_point": self.entry_point}
        return {"answer": self.answer}


def _gold(value) -> str | None:
    """Gold answers: GSM8K's '... #### 72' -> '72'; a one-element list -> its element; None when empty."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    text = text.split("####")[-1].strip() if "####" in text else text.strip()
    return text if text and text.lower() not in ("none", "null", "nan") else None


def load_problems(
    dataset: str | None = None,
    data_file: str | None = None,
    split: str | None = None,
    limit: int | None = None,
    *,
    config: str | None = None,
    revision: str | None = None,
    columns: Columns | None = None,
    release: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> tuple[list[Problem], str]:
    """(problems, kind). `data_file` (JSONL, Parquet or CSV) wins over `dataset`, which is a benchmark name
    (rlvr.data.DATASETS), a local file, or any Hub dataset id (org/name, with `config`, `split`, `revision`
    and `columns` naming its columns)."""
    columns = columns or Columns()
    source = data_file or dataset
    if (
        data_file and dataset in DATASETS and (DATASETS[dataset].convert or DATASETS[dataset].select)
    ):  # a downloaded file, own shape (and, for Omni-MATH-Rule, the whole file: its split is selected)
        problems = _registry_rows(dataset, _located_file_rows(Path(data_file)))
    elif data_file:
        problems = _from_file(Path(data_file), columns)
    elif dataset in DATASETS:
        problems = _from_hub(dataset, split, release, revision)
    elif dataset and Path(dataset).is_file():
        problems = _from_file(Path(dataset), columns)
    elif dataset and looks_like_hub_id(dataset) and not Path(dataset).exists():
        problems = _from_hub_id(dataset, config, split, revision, columns)
    elif dataset:
        raise ValueError(
            f"unknown dataset {dataset!r}: not a benchmark name ({', '.join(DATASETS)}), an existing "
            f"file, or a Hub dataset id like org/name"
        )
    else:
        raise ValueError("give --dataset NAME or --data-file PATH")
    problems = _in_window(problems, since, until, str(source))
    if not problems:
        raise ValueError(f"no problems in {source}" + (" in that date window" if since or until else ""))
    if limit:
        problems = problems[:limit]
    kind = "code" if problems[0].tests is not None else "math"
    repeated = [(i, n) for i, n in Counter(p.id for p in problems).items() if n > 1]
    if repeated:  # the store knows samples by problem id
        named = ", ".join(f"{i!r} ({n} rows)" for i, n in repeated[:5]) + (
            f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""
        )
        raise ValueError(f"{source}: problem ids are not unique: {named}; give each row its own id")
    return problems, kind


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")  # a BOM (Excel's UTF-8 CSV) is not part of the first column's name
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ValueError(
            f"{path}: line {line}, column {column} is not UTF-8 (byte 0x{data[exc.start]:02x}); "
            f"save the file as UTF-8"
        ) from None


def _rows_from_file(path: Path) -> list[tuple[int, object]]:
    """(line number, row) for every row of a data file, with errors that name the file and line."""
    if not path.exists():
        raise FileNotFoundError(f"--data-file {path} does not exist")
    if path.is_dir():
        raise ValueError(f"--data-file {path} is a directory; give a .jsonl, .json, .csv or .parquet file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(enumerate(pq.read_table(path).to_pylist(), 1))
    if suffix not in (".jsonl", ".json", ".csv"):
        raise ValueError(f"--data-file {path}: use .jsonl, .json, .csv or .parquet")
    text = _decode(path, path.read_bytes())
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        rows = []
        for row in reader:
            if None in row or None in row.values():
                raise ValueError(
                    f"{path}: line {reader.line_num} has a different number of fields than the header "
                    f"({', '.join(reader.fieldnames or [])}); quote fields that contain commas"
                )
            rows.append((reader.line_num, row))
        return rows
    if suffix == ".json" and text.lstrip().startswith("["):
        try:
            return list(enumerate(json.loads(text), 1))
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg})"
            ) from None
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"{path}: line {number}, column {exc.colno}: invalid JSON ({exc.msg}); "
                    f"each line must be one JSON object"
                ) from None
    return rows


def _located_file_rows(path: Path):
    """("FILE: line N" or "FILE: row N" for Parquet, row) for every row of a data file."""
    word = "row" if path.suffix.lower() == ".parquet" else "line"
    return ((f"{path}: {word} {number}", row) for number, row in _rows_from_file(path))


def _from_file(path: Path, columns: Columns) -> list[Problem]:
    return _problems_from_rows(_located_file_rows(path), columns)


def _hub_rows(name: str, what: str, load, hint: str):
    """("NAME row N", row) for the rows `load(datasets)` fetches, or an error that says what to do offline."""
    try:
        import datasets

        rows = load(datasets)
    except Exception as exc:  # offline, gated, renamed: say what to do instead
        raise ValueError(
            f"could not load {what} from the Hugging Face Hub: {type(exc).__name__}: {exc}. {hint}"
        ) from exc
    return ((f"{name} row {i}", row) for i, row in enumerate(rows))


def _from_hub_id(
    name: str, config: str | None, split: str | None, revision: str | None, columns: Columns
) -> list[Problem]:
    rows = _hub_rows(
        name,
        repr(name),
        lambda ds: ds.load_dataset(name, config, split=split or "train", revision=revision),
        "If the Hub cannot be reached, download it elsewhere and pass the file as --dataset or --data-file",
    )
    return _problems_from_rows(rows, columns)


def _problems_from_rows(located_rows, columns: Columns) -> list[Problem]:
    problems = []
    for index, (where, row) in enumerate(located_rows):
        if not isinstance(row, dict):
            raise ValueError(
                f"{where} is a JSON {type(row).__name__}, not an object like "
                f'{{"id": ..., "problem": ..., "answer": ...}}'
            )
        row = columns.apply(row, where)
        text = row.get("problem", row.get("prompt", row.get("question")))
        if text is None:
            raise ValueError(f"{where} has no `problem` (or `prompt`) column")
        if not str(text).strip():
            raise ValueError(f"{where}: the problem is empty; give it its text, or drop the row")
        if "answer" not in row and "tests" not in row:
            raise ValueError(f"{where} needs an `answer` (math) or `tests` (code) column")
        tests = row.get("tests")
        if isinstance(tests, str) and tests.strip().startswith(("[", "{")):
            try:
                tests = json.loads(tests)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: `tests` looks like JSON but is not ({exc.msg})") from None
        answer = None
        if tests is None:
            answer = _gold(row.get("answer"))
            if answer is None:
                raise ValueError(
                    f"{where}: the answer is empty ({row.get('answer')!r}); give every math problem "
                    f"a gold answer, or drop the row"
                )
        problems.append(
            Problem(
                id=str(row.get("id", index)),
                problem=str(text),
                answer=answer,
                tests=tests,
                entry_point=row.get("entry_point") or None,
                extra={
                    k: v
                    for k, v in row.items()
                    if k not in {"id", "problem", "prompt", "answer", "tests", "entry_point"}
                },
            )
        )
    return problems


def _from_hub(
    name: str, split: str | None, release: str | None, revision: str | None = None
) -> list[Problem]:
    spec = DATASETS[name]
    revision = revision or spec.revision
    split = split or spec.split
    if spec.default_release:  # LiveCodeBench: Parquet per release, read through datasets' own cache
        release = release or spec.default_release
        if release not in LCB_RELEASES:
            raise ValueError(
                f"unknown release {release!r} of {name}; choose one of {', '.join(LCB_RELEASES)}"
            )
        files = f"hf://datasets/{spec.hub_id}@{revision}/" + spec.parquet.format(release=release)

        def load(ds):
            return ds.load_dataset("parquet", data_files={"test": files}, split="test")

        return _registry_rows(name, _hub_rows(name, f"{name!r} ({spec.hub_id})", load, _offline_hint(name)))
    copy = registry_copy(name, split, revision)
    rows = read_local_copy(copy)
    if rows is None:
        if spec.url:
            raw = fetch_url_rows(spec.url, spec.sha256, f"{name!r}")
        else:
            if spec.parquet:
                files = f"hf://datasets/{spec.hub_id}@{revision or 'main'}/{spec.parquet}"

                def load(ds):
                    return ds.load_dataset("parquet", data_files={split: files}, split=split)
            else:

                def load(ds):
                    return ds.load_dataset(spec.hub_id, spec.config, split=split, revision=revision)

            raw = [row for _, row in _hub_rows(name, f"{name!r} ({spec.hub_id})", load, _offline_hint(name))]
        if spec.convert is not None:  # the copy holds rows in rlvr's shape (and only what they need)
            raw = [spec.convert(row) for row in raw]
        write_local_copy(copy, raw)
        rows = [(f"{name} row {i}", row) for i, row in enumerate(raw)]
    if spec.select is not None:
        rows = spec.select(rows, split)
    return _problems_from_rows(rows, spec.columns)


def registry_copy(name: str, split: str | None = None, revision: str | None = None):
    """The local copy of a registry dataset (its rows as fetched, before any split is selected from them)."""
    spec = DATASETS[name]
    if spec.url:  # one file, whatever split is read from it
        return local_copy(f"url-{spec.sha256[:16]}", "all", None)
    return local_copy(name, split or spec.split, revision or spec.revision)


def is_fetched(name: str) -> bool | None:
    """Whether a registry dataset is in its local copy (None: LiveCodeBench, which datasets caches itself)."""
    return None if DATASETS[name].default_release else registry_copy(name).is_file()


def _offline_hint(name: str) -> str:
    fetch = (
        ""
        if DATASETS[name].default_release
        else f"run `rlvr fetch {name}` where it can and copy {registry_copy(name).parent.parent} here, or "
    )
    return (
        f"If the Hub cannot be reached here, {fetch}download it elsewhere and pass --data-file PATH "
        f"(with --dataset {name}, a file in the dataset's own shape)."
    )


def _registry_rows(name: str, located_rows) -> list[Problem]:
    """A benchmark's rows, in its own shape, as problems."""
    spec = DATASETS[name]
    if spec.convert is not None:
        located_rows = ((where, spec.convert(row)) for where, row in located_rows)
    if spec.select is not None:
        located_rows = spec.select(list(located_rows), spec.split)
    return _problems_from_rows(located_rows, spec.columns)


def _in_window(problems: list[Problem], since: str | None, until: str | None, source: str) -> list[Problem]:
    """Problems whose contest date lies in [since, until] (ISO dates; LiveCodeBench's point is contamination)."""
    if not (since or until):
        return problems
    if not all(p.extra.get("contest_date") for p in problems):
        raise ValueError(
            f"{source} has no contest dates; --since/--until select LiveCodeBench problems by date"
        )
    return [
        p
        for p in problems
        if (not since or p.extra["contest_date"] >= since) and (not until or p.extra["contest_date"] <= until)
    ]
