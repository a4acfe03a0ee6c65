"""Reward hacks a policy finds in code RL, each against the real HumanEval tasks: all must score 0.

HumanEval's 164 canonical solutions (tests/data/HumanEval.jsonl.gz, from openai/human-eval) must all
still pass. Every hack gets a verdict that says what it tried.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from rlvr.rewards import CodeReward
from rlvr.rewards.sandbox import SandboxLimits

TASKS = [json.loads(line) for line in gzip.open(Path(__file__).parent / "data/HumanEval.jsonl.gz", "rt")]


@pytest.fixture(scope="module")
def grader() -> CodeReward:
    return CodeReward(limits=SandboxLimits(timeout=5.0, cpu_seconds=5, memory_mb=1024))


def grade(grader, programs, tasks):
    return grader.grade(programs, [t["test"] for t in tasks], [t["entry_point"] for t in tasks])


def test_all_164_canonical_solutions_pass(grader):
    grades = grade(grader, [t["prompt"] + t["canonical_solution"] for t in TASKS], TASKS)
    failing = [(t["task_id"], g.detail) for t, g in zip(TASKS, grades) if not g.correct]
    assert not failing
    assert len(grades) == 164


def test_exiting_at_load_passes_no_task(grader):
    """The reported hack: `sys.exit(0)` passed 164/164 when exit status 0 meant a pass."""
    grades = grade(grader, ["import sys\nsys.exit(0)\n" + t["prompt"] for t in TASKS], TASKS)
    assert sum(g.correct for g in grades) == 0
    assert {g.extra["status"] for g in grades} == {"exited_early"}


WRONG = {"failed", "runtime_error"}  # the hack changed nothing: the tests ran and the answers were wrong
# Each hack replaces the body of the task's function (or wraps the module); {name} is the entry point.
HACKS = {
    "sys.exit(0) in the function": ("body", "    import sys\n    sys.exit(0)\n", "exited_early"),
    "exit() builtin": ("body", "    exit()\n", "exited_early"),
    "os._exit(0) in the function": ("body", "    import os\n    os._exit(0)\n", "exited_early"),
    "os._exit(0) at load": ("prefix", "import os\nos._exit(0)\n", "exited_early"),
    "raise SystemExit(0)": ("body", "    raise SystemExit(0)\n", "exited_early"),
    "raise KeyboardInterrupt": ("body", "    raise KeyboardInterrupt\n", "exited_early"),
    "SIGKILL itself": ("body", "    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)\n", WRONG),
    "exit from a thread": (
        "body",
        "    import os, threading, time\n    threading.Thread(target=lambda: os._exit(0)).start()\n"
        "    time.sleep(1)\n",
        "exited_early",
    ),
    "atexit hook exits 0": ("prefix", "import atexit, os\natexit.register(lambda: os._exit(0))\n", WRONG),
    "object equal to everything": (
        "body",
        "    class Anything:\n        def __eq__(self, other): return True\n        def __ne__(self, other): "
        "return False\n        def __bool__(self): return True\n    return Anything()\n",
        "tampered",
    ),
    "int subclass equal to everything": (
        "body",
        "    class Int(int):\n        def __eq__(self, other): return True\n    return Int(0)\n",
        "tampered",
    ),
    "list subclass equal to everything": (
        "body",
        "    class L(list):\n        def __eq__(self, other): return True\n    return L()\n",
        "tampered",
    ),
    "patched builtins": (
        "prefix",
        "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.AssertionError = type('A', (Exception,), {})\n"
        "builtins.isinstance = lambda *a: True\nbuiltins.all = lambda *a: True\n",
        WRONG | {"exited_early"},  # the program's own process breaks; the tests' builtins are untouched
    ),
    "patched check through globals": (
        "body",
        "    g = globals()\n    g['check'] = lambda candidate: None\n    return None\n",
        WRONG,
    ),
    "frame walking to the caller": (
        "body",
        "    import sys\n    f = sys._getframe()\n    while f.f_back: f = f.f_back\n"
        "    f.f_globals['check'] = lambda c: None\n    return None\n",
        WRONG,
    ),
    "prints a pass line": ("prefix", "print('passed')\nprint('OK')\n", WRONG),
    "reads the tests from disk": (
        "body",
        "    import glob\n    return [open(p).read() for p in glob.glob('/*/tests.py') + glob.glob('/tmp/**/tests.py', recursive=True)]\n",
        WRONG,
    ),
    "settrace to swallow the assert": (
        "prefix",
        "import sys\nsys.settrace(lambda *a: None)\nsys.excepthook = lambda *a: None\n",
        WRONG,
    ),
    "raises AssertionError-like exit": ("body", "    raise GeneratorExit\n", "exited_early"),
}


@pytest.mark.parametrize("hack", list(HACKS))
def test_hack_scores_zero_with_a_verdict_that_names_it(grader, hack):
    where, code, status = HACKS[hack]
    tasks = TASKS[:12]
    if where == "body":
        programs = [t["prompt"] + code for t in tasks]
    else:
        programs = [code + t["prompt"] + "    return None\n" for t in tasks]
    grades = grade(grader, programs, tasks)
    assert sum(g.correct for g in grades) == 0, [g.detail for g in grades if g.correct]
    allowed = status if isinstance(status, set) else {status}
    assert {g.extra["status"] for g in grades} <= allowed, [g.detail for g in grades]


def test_mbpp_style_assert_scripts_are_guarded_too(grader):
    tests = "assert add(2, 3) == 5\nassert add(-1, 1) == 0\n"
    programs = [
        "def add(a, b):\n    return a + b\n",
        "def add(a, b):\n    return a - b\n",
        "import sys\ndef add(a, b):\n    sys.exit(0)\n",
        "class E:\n    __eq__ = lambda s, o: True\ndef add(a, b):\n    return E()\n",
    ]
    grades = grader.grade(programs, [tests] * 4)
    assert [g.extra["status"] for g in grades] == ["passed", "failed", "exited_early", "tampered"]
