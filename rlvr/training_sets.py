"""Training sets in the dataset registry: the rows they need converted, the Omni-MATH-Rule split, and the local
copy of every registry dataset that lets training and `--check` run offline.

- `math_train` (EleutherAI/hendrycks_math): MATH's own solutions end in `\\boxed{...}`; the gold answer is the
  last boxed expression, as MATH's authors grade it.
- `omni_math_rule_train` / `omni_math_rule_test`: Omni-MATH-Rule, the 2,821 Omni-MATH problems whose answers a
  rule-based grader can check (KbsdJames/omni-math-rule on GitHub; one JSONL file, fetched once and checked by
  its SHA-256). Yue et al. (2025) train on 2,000 of them and test on 821 without publishing which; rlvr's split
  is fixed by content: rows ordered by the SHA-256 of their problem text, the first 821 are the test split
  (repeated problems hash alike, so none straddles the two).
- `openr1_math_traces` (open-r1/OpenR1-Math-220k): teacher traces for the distillation control.
- The local copy: a registry dataset loaded from the Hub (or a URL) is written once as JSONL under
  `cache_dir()/data/`, keyed by name, split and revision; later loads read it, so a run offline has the rows.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

OMNI_RULE_COMMIT = "bda09972374225ab2186582615307d909965b864"
OMNI_RULE_URL = (
    f"https://raw.githubusercontent.com/KbsdJames/omni-math-rule/{OMNI_RULE_COMMIT}"
    "/evaluation/data/omni_math_rule/test.jsonl"
)
OMNI_RULE_SHA256 = "d566d5b5a9865a04b507fdc4c0669cf0ff391748e13f190ecc925e78b584b172"
OMNI_RULE_TEST_SIZE = 821  # of 2,821: the paper's 2,000 train / 821 test


def last_boxed(text: str) -> str | None:
    """The content of the last `\\boxed{...}` (or `\\fbox{...}`) in `text`, braces balanced; None if there is none."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    brace = text.find("{", start)
    if brace < 0:
        return None
    depth = 0
    for i in range(brace, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[brace + 1 : i].strip() or None
    return None


def math_solution_row(row: dict) -> dict:
    """A MATH row (problem, level, type, solution) with its gold answer: the solution's last boxed expression."""
    return {**row, "answer": last_boxed(str(row.get("solution") or ""))}


def first_verified_trace(row: dict) -> dict:
    """An OpenR1-Math row as an SFT example: problem, answer and, as `completion`, the first DeepSeek-R1
    generation that math-verify marked correct, else the first the dataset's Llama judge did (every row has
    one or the other, by the dataset's construction). Only these columns are kept: the other generations are
    most of the dataset's 5 GB."""
    generations = row.get("generations") or []
    completion = None
    for marks in (row.get("correctness_math_verify"), row.get("correctness_llama")):
        completion = next((g for g, ok in zip(generations, marks or []) if ok), None)
        if completion is not None:
            break
    return {
        "id": row.get("uuid"),
        "problem": row.get("problem"),
        "answer": row.get("answer"),
        "completion": completion,
    }


def omni_rule_split(located_rows: list[tuple[str, dict]], split: str) -> list[tuple[str, dict]]:
    """rlvr's 2,000 / 821 split of Omni-MATH-Rule, by the SHA-256 of each problem's text (row ids kept)."""
    rows = [(where, {**row, "id": f"omni-rule-{i}"}) for i, (where, row) in enumerate(located_rows)]
    order = sorted(
        range(len(rows)), key=lambda i: (hashlib.sha256(str(rows[i][1]["problem"]).encode()).hexdigest(), i)
    )
    test = set(order[:OMNI_RULE_TEST_SIZE])
    return [rows[i] for i in range(len(rows)) if (i in test) == (split == "test")]


def local_copy(name: str, split: str, revision: str | None) -> Path:
    """Where the registry dataset `name` is kept once fetched: cache_dir()/data/NAME/SPLIT@REVISION.jsonl."""
    from rlvr.models import cache_dir

    return cache_dir() / "data" / name / f"{split}@{revision or 'main'}.jsonl"


def read_local_copy(path: Path) -> list[tuple[str, dict]] | None:
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(f"{path} line {i}", json.loads(line)) for i, line in enumerate(lines, 1) if line.strip()]


def write_local_copy(path: Path, rows: list[dict]) -> None:
    """Written whole, then renamed into place, so a killed fetch never leaves a partial copy that reads as done."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    os.replace(tmp, path)


def fetch_url_rows(url: str, sha256: str, what: str) -> list[dict]:
    """The JSONL rows at `url`, refused unless the bytes have the pinned SHA-256 (a moved or edited file)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except OSError as exc:
        raise ValueError(
            f"could not download {what} from {url}: {exc}. If this machine is offline, run `rlvr fetch` "
            f"for it on one that is online and copy {local_copy_hint()} here"
        ) from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ValueError(f"{what}: {url} has SHA-256 {digest}, not the pinned {sha256}; refusing it")
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]


def local_copy_hint() -> str:
    from rlvr.models import cache_dir

    return str(cache_dir() / "data")
