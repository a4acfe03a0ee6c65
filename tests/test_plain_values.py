"""The wire format between the code grader's two sandboxed processes."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

from rlvr.rewards._plain_values import NotPlain, decode_value, encode_value, json_line

TRICKY_STRINGS = [
    "",
    '"',
    "\\",
    "\\u0041",
    "\x00\x1f\x7f",
    "\ud800",
    "\udfff x",
    "é ☃ 𝔘",
    "line\nbreak",
    "</s>",
]


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def random_value(rng: random.Random, depth: int = 0):
    kinds = ["int", "float", "str", "bool", "none"] + (
        ["list", "tuple", "dict", "set", "bytes"] if depth < 4 else []
    )
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.choice([0, -1, 2**70, -(10**40), rng.randint(-1000, 1000)])
    if kind == "float":
        return rng.choice([0.1, -2.5e-300, 1e308, float("inf"), float("-inf"), rng.random()])
    if kind == "str":
        return rng.choice(TRICKY_STRINGS) + chr(rng.randint(0, 0x2FFFF) if rng.random() < 0.5 else 65)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "bytes":
        return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 5)))
    items = [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == "list":
        return items
    if kind == "tuple":
        return tuple(items)
    hashable = [v for v in items if _hashable(v)]
    if kind == "set":
        return set(hashable)
    return {k: v for k, v in zip(hashable, items)}


def test_json_line_is_read_back_equal_by_the_json_module():
    rng = random.Random(0)
    for _ in range(2000):
        value = random_value(rng)
        line = json_line({"ok": encode_value(value)})
        assert line.endswith("\n") and "\n" not in line[:-1]
        line.encode("utf-8")  # lone surrogates are escaped, so the line is always writable
        assert decode_value(json.loads(line)["ok"]) == value


def test_json_line_writes_non_finite_floats_as_the_json_module_reads_them():
    read = json.loads(json_line({"ok": [float("nan"), float("inf"), float("-inf")]}))["ok"]
    assert math.isnan(read[0]) and read[1:] == [float("inf"), float("-inf")]


def test_only_exact_builtin_types_are_plain():
    class Everything(int):
        def __eq__(self, other):
            return True

    with pytest.raises(NotPlain):
        encode_value(Everything(1))
    with pytest.raises(NotPlain):
        json_line({"ok": object()})


def test_the_program_side_imports_no_module_at_start_up():
    """The program's interpreter starts once per graded program: json, re or enum would cost a third more."""
    rewards = Path(__file__).resolve().parents[1] / "rewards"
    source = (rewards / "_plain_values.py").read_text() + (rewards / "_code_candidate.py").read_text()
    source = source.replace('if __name__ == "__main__":', "if False:")
    probe = "import sys\nbefore = set(sys.modules)\nexec(sys.stdin.read(), {})\nprint(sorted(set(sys.modules) - before))"
    done = subprocess.run(
        [sys.executable, "-I", "-c", probe], input=source, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
