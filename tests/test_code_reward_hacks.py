"""Reward hacks a policy finds in code RL, each against the real HumanEval tasks: all must score 0.

HumanEval's 164 canonical solutions (tests/data/HumanEval.jsonl.gz, from openai/human-eval) must all
still pass. Every hack gets a verdict that says what it tried.
"""

from __future__ import annotations

import builtins
import gzip
import json
import keyword
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from rlvr.benchmarks import humaneval_row, mbpp_plus_row
from rlvr.rewards import CodeReward
from rlvr.rewards.sandbox import SandboxLimits

PROJECT = Path(__file__).resolve().parents[1]
GOOD_ADD = "def add(a, b):\n    return a + b\n"
TASKS = [json.loads(line) for line in gzip.open(Path(__file__).parent / "data/HumanEval.jsonl.gz", "rt")]


@pytest.fixture(scope="module")
def grader() -> CodeReward:
    return CodeReward(limits=SandboxLimits(timeout=5.0, cpu_seconds=5, memory_mb=1024))


def grade(grader, programs, tasks):
    rows = [humaneval_row(t) for t in tasks]
    return grader.grade(programs, [r["tests"] for r in rows], [r["entry_point"] for r in rows])


def test_all_164_canonical_solutions_pass(grader):
    """With the tests as rlvr builds them (`humaneval_row`: the prompt's helpers defined by the tests)."""
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


# --- Names the program defines reach the tests only where the tests look them up and do not bind them ---

BUILTIN_NAMES = sorted(
    n for n in dir(builtins) if n.isidentifier() and not keyword.iskeyword(n) and not n.startswith("_")
)
SHADOW_ALL = "".join(f"def {name}(*args, **kwargs):\n    return []\n" for name in BUILTIN_NAMES)
# A test script that fails if any builtin's name is bound in its namespace, and calls the one owed function.
SEES_REAL_BUILTINS = (
    "import builtins\n"
    "for name in dir(builtins):\n"
    "    assert name not in globals() or name in ('__builtins__', '__name__'), name\n"
    "assert double(2) == 4 and abs(double(-3) + 6) < 1e-9\n"
)


def test_a_program_defining_every_builtin_changes_nothing_the_tests_compute(grader):
    """An honest program may name a helper `max` or `sum`: the tests still compute with the real ones."""
    right = SHADOW_ALL + "def double(x):\n    return x * 2\n"
    wrong = SHADOW_ALL + "def double(x):\n    return 0\n"
    passed, failed = grader.grade([right, wrong], [SEES_REAL_BUILTINS] * 2)
    assert passed.extra["status"] == "passed", passed.detail
    assert failed.extra["status"] == "failed"
    for name in ("abs", "dir", "globals"):  # the builtins this test reads: each named as withheld
        assert f"{name} (a builtin)" in failed.detail, failed.detail


def test_every_builtin_name_alone_is_withheld(grader):
    """One program per builtin name, each shadowing it with a function that would make a loop vacuous or a
    comparison true; with a wrong answer every one of them fails."""
    tests = (
        "for i, (a, b) in enumerate(zip(range(3), [0, 2, 4])):\n"
        "    assert abs(double(a) - b) < 1e-9 and all([len(str(b)) > 0]) and isinstance(b, int)\n"
        "    assert sorted([b, 0])[-1] == max(b, 0) == sum([b]) and min(map(int, [b])) == b\n"
    )
    programs = [
        f"def {name}(*args, **kwargs):\n    return []\ndef double(x):\n    return 0\n"
        for name in BUILTIN_NAMES
    ]
    grades = grader.grade(programs, [tests] * len(programs))
    assert [n for n, g in zip(BUILTIN_NAMES, grades) if g.correct] == []
    assert {g.extra["status"] for g in grades} == {"failed"}
    read = {
        "enumerate",
        "zip",
        "range",
        "abs",
        "all",
        "len",
        "str",
        "isinstance",
        "int",
        "sorted",
        "max",
        "sum",
    }
    for name, grade in zip(BUILTIN_NAMES, grades):
        if name in read | {"min", "map"}:
            assert f"{name} (a builtin)" in grade.detail, (name, grade.detail)


def _mbpp_plus_tests() -> str:
    row = {
        "task_id": 2,
        "prompt": "Write a function to find the shared elements from the given two lists.",
        "test_list": ["assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))"],
        "test_imports": ["import math"],
        "test": "import numpy as np\n"
        "def assertion(out, exp, atol):\n"
        "    if atol == 0:\n        assert out == exp\n    else:\n        assert np.allclose(out, exp, rtol=1e-07, atol=atol)\n"
        "inputs = [[(3, 4, 5, 6), (5, 7, 4, 10)], [(1, 2, 3, 4), (5, 4, 3, 7)]]\n"
        "results = [(4, 5), (3, 4)]\n"
        "for i, (inp, exp) in enumerate(zip(inputs, results)):\n"
        "    assertion(similar_elements(*inp), exp, 0)\n",
    }
    return mbpp_plus_row(row)["tests"]


SHARED = "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b)))\n"
NOT_SHARED = "def similar_elements(a, b):\n    return ()\n"
LCB_CALL = {"fn_name": "twoSum", "cases": [{"input": "[2,7,11,15]\n9", "output": "[0, 1]"}]}
WRONG_TWO_SUM = "class Solution:\n    def twoSum(self, nums, target):\n        return [9, 9]\n"
CHECK_ADD = "def check(candidate):\n    assert candidate(2, 3) == 5\n"
RANGE_TASKS = [t for t in TASKS if "range(" in t["test"]]
ABS_TASKS = [t for t in TASKS if "abs(" in t["test"]]
# (program, tests, entry point, the withheld name the verdict must name)
SHADOWING = {
    "LiveCodeBench call style, enumerate": (
        "def enumerate(*a):\n    return []\n" + WRONG_TWO_SUM,
        LCB_CALL,
        None,
        "enumerate",
    ),
    "MBPP+ zip": ("def zip(*a):\n    return []\n" + NOT_SHARED, _mbpp_plus_tests(), None, "zip"),
    "MBPP+ enumerate": (
        "def enumerate(*a):\n    return []\n" + NOT_SHARED,
        _mbpp_plus_tests(),
        None,
        "enumerate",
    ),
    "MBPP+ the test's own assertion()": (
        "def assertion(*a):\n    pass\n" + NOT_SHARED,
        _mbpp_plus_tests(),
        None,
        "assertion",
    ),
    "assert script, abs": (
        "def abs(x):\n    return 0\ndef half(x):\n    return 7\n",
        "assert abs(half(1) - 0.5) < 1e-9\n",
        None,
        "abs",
    ),
    "HumanEval, the tests' own check()": (
        "def check(candidate):\n    pass\ndef add(a, b):\n    return 0\n",
        CHECK_ADD,
        "add",
        "check",
    ),
}


@pytest.mark.parametrize("case", list(SHADOWING))
def test_shadowing_scores_zero_and_says_what_was_withheld(grader, case):
    program, tests, entry_point, name = SHADOWING[case]
    (grade,) = grader.grade([program], [tests], [entry_point])
    assert not grade.correct and grade.extra["status"] == "failed", grade.detail
    assert f"not given to the tests: {name} (" in grade.detail, grade.detail


def test_shadowing_range_or_abs_passes_no_humaneval_task(grader):
    tasks = RANGE_TASKS + ABS_TASKS
    programs = [
        f"def {'range' if t in RANGE_TASKS else 'abs'}(*a):\n    return []\n"
        + t["prompt"]
        + "    return None\n"
        for t in tasks
    ]
    grades = grade(grader, programs, tasks)
    assert len(tasks) >= 8 and sum(g.correct for g in grades) == 0, [g.detail for g in grades if g.correct]


def test_honest_solutions_still_pass_with_their_owed_names(grader):
    """MBPP+ through its real row shape, LiveCodeBench call style, and HumanEval/38, whose check calls the
    prompt's own helper `encode_cyclic` by name."""
    cyclic = next(t for t in TASKS if t["entry_point"] == "decode_cyclic")
    right_two_sum = (
        "class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n"
        "        for i, x in enumerate(nums):\n            if target - x in seen:\n                return [seen[target - x], i]\n"
        "            seen[x] = i\n"
    )
    grades = grader.grade(
        [
            "def max(*a):\n    return 0\n" + SHARED,
            right_two_sum,
            cyclic["prompt"] + cyclic["canonical_solution"],
        ],
        [_mbpp_plus_tests(), LCB_CALL, cyclic["test"]],
        [None, None, "decode_cyclic"],
    )
    assert [g.extra["status"] for g in grades] == ["passed"] * 3, [g.detail for g in grades]


def test_a_stop_iteration_cannot_end_the_tests_loop_early(grader):
    """`all(map(...))` over the program's answers would be vacuously true if its StopIteration got through."""
    tests = "assert all(map(lambda x: double(x) == 2 * x, [1, 2, 3]))\n"
    programs = [f"def double(x):\n    raise {kind}\n" for kind in ("StopIteration", "StopAsyncIteration")]
    grades = grader.grade(programs, [tests] * 2)
    assert [g.correct for g in grades] == [False, False]
    assert {g.extra["status"] for g in grades} == {"runtime_error"}, [g.detail for g in grades]


def test_stdin_styles_ignore_the_program_names(grader):
    shadow = SHADOW_ALL.replace("def print(", "def _print(").replace("def input(", "def _input(")
    apps = '{"inputs": ["1 2\\n"], "outputs": ["3\\n"]}'
    grades = grader.grade(
        [shadow + "print(0)\n", shadow + "print(sum(map(int, input().split())))\n"], [apps] * 2
    )
    assert [g.correct for g in grades] == [False, False]  # the program's own `sum` and `map` return []


# --- Hostile programs, in every isolation mode this machine has ---


def _modes() -> list[str]:
    from rlvr.rewards.isolation import _works

    forced = os.environ.get("RLVR_SANDBOX")
    return [forced] if forced else [m for m in ("bwrap", "unshare") if _works(m)] or ["none"]


@pytest.fixture(params=_modes())
def mode_grader(request, monkeypatch):
    """A grader in one isolation mode (RLVR_SANDBOX set for the test, harnesses restarted for it)."""
    if request.param == "none":
        pytest.skip("neither bubblewrap nor unshare works here")
    monkeypatch.setenv("RLVR_SANDBOX", request.param)
    with CodeReward(limits=SandboxLimits(timeout=5.0, cpu_seconds=5, memory_mb=1024)) as graded:
        assert graded.isolation == request.param
        yield graded


def _leftovers(pid: int) -> list[str]:
    """Run directories of process `pid` (other processes on the machine may be grading at the same time)."""
    found = []
    for folder in (tempfile.gettempdir(), "/dev/shm", "/var/tmp"):
        found += [str(p) for p in Path(folder).glob(f"rlvr-sandbox-{pid}-*")]
    return found


def test_tampering_with_its_own_directory_downs_nothing_but_itself(mode_grader):
    tamper = [
        "import os\nfor f in os.listdir('.'):\n    os.remove(f)\n",
        "import os\nos.symlink('loop', 'loop')\nos.symlink('/dev/null', 'output.txt')\nos.mkdir('stdout')\n",
        "import os, shutil\nos.chmod('.', 0)\n",
        "import os\nos.mkdir('output.txt')\nos.symlink('/proc/self/fd/1', 'x')\n",
    ]
    programs = [t + "def add(a, b):\n    return a + b\n" for t in tamper] + [GOOD_ADD]
    grades = mode_grader.grade(programs, [CHECK_ADD] * len(programs), ["add"] * len(programs))
    assert len(grades) == len(programs)
    assert grades[-1].extra["status"] == "passed"  # the batch goes on


def test_the_output_cap_holds_whatever_the_program_does_to_its_files(mode_grader):
    tricks = [
        "import sys\nsys.stdout.write('x' * (3 << 20))\nsys.stdout.flush()\nimport os\n"
        "os.symlink('/dev/null', 'output.txt')\n",
        "import os\nos.write(1, b'x' * (3 << 20))\nos.close(1)\nos.close(2)\n",
        "import os\nfd = os.dup(2)\nos.close(1)\nos.close(2)\nfor _ in range(3):\n    os.write(fd, b'y' * (1 << 20))\n",
    ]
    programs = [t + "def add(a, b):\n    return a + b\n" for t in tricks]
    grades = mode_grader.grade(programs, [CHECK_ADD] * len(programs), ["add"] * len(programs))
    assert [g.extra["status"] for g in grades] == ["output_limit"] * len(programs), [g.detail for g in grades]


def test_no_host_file_is_in_reach(mode_grader, tmp_path):
    """Not the host's /etc, home, project, test data or sample stores; its /tmp, /dev/shm and /var/tmp are
    private: what it writes there is gone, what the host keeps there is not visible."""
    from rlvr.rewards.sandbox import run_python

    token = secrets.token_hex(8)
    store = tmp_path / "store"
    store.mkdir()
    (store / "problems.jsonl").write_text('{"id": "p1", "answer": "42"}\n')
    planted = [Path(tempfile.gettempdir()) / f"rlvr-host-{token}", Path("/dev/shm") / f"rlvr-host-{token}"]
    for path in planted:
        path.write_text("secret")
    try:
        paths = [
            "/etc/passwd",
            "/root",
            "/home",
            str(PROJECT / "pyproject.toml"),
            str(PROJECT / "tests/data"),
        ]
        paths += [str(store / "problems.jsonl"), *map(str, planted)]
        probe = (
            f"import os, glob\npaths = {paths!r}\n"
            "print(sum(os.path.exists(p) for p in paths), len(glob.glob('/tmp/**/problems.jsonl', recursive=True)))\n"
            f"for d in ('/tmp', '/dev/shm', '/var/tmp'):\n    open(os.path.join(d, 'rlvr-left-{token}'), 'w').write('x')\n"
            "print(sorted(os.listdir('/tmp')))\n"
        )
        result = run_python(probe)
        assert result.status == "ok", result.stderr
        seen, listing = result.stdout.splitlines()
        assert seen == "0 0" and listing == f"['rlvr-left-{token}']"
        for folder in (tempfile.gettempdir(), "/dev/shm", "/var/tmp"):
            assert not (Path(folder) / f"rlvr-left-{token}").exists()
        # the stdin/stdout route: a program that finds the stored answer would print it and pass
        finder = (
            "import glob, json\nfor p in glob.glob('/tmp/**/problems.jsonl', recursive=True):\n"
            "    print(json.loads(open(p).readline())['answer'])\n    break\nelse:\n    print('none')\n"
        )
        (grade,) = mode_grader.grade([finder], [[{"input": "", "output": "42"}]])
        assert grade.extra["status"] == "failed"
    finally:
        for path in planted:
            path.unlink()


def test_no_process_outlives_its_run(mode_grader):
    token = secrets.token_hex(8)
    escape = (
        "import os, subprocess\nif os.fork() == 0:\n    os.setsid()\n"
        f"    subprocess.Popen(['/usr/bin/python3', '-c', 'import time; time.sleep(60)', '{token}'])\n"
        "    os._exit(0)\n"
        "def add(a, b):\n    return a + b\n"
    )
    (grade,) = mode_grader.grade([escape], [CHECK_ADD], ["add"])
    assert grade.extra["status"] == "passed"
    time.sleep(0.5)
    alive = [p for p in Path("/proc").glob("[0-9]*") if token in _cmdline(p)]
    assert alive == []


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_a_closed_pool_and_an_ended_process_leave_no_directory():
    with CodeReward(limits=SandboxLimits(timeout=5.0)) as graded:
        assert graded.grade([GOOD_ADD], [CHECK_ADD], ["add"])[0].correct
        assert _leftovers(os.getpid())  # the harness's, while the pool is open
    assert _leftovers(os.getpid()) == []
    code = (
        "import os\nfrom rlvr.rewards import CodeReward\n"
        f"assert CodeReward().grade([{GOOD_ADD!r}], [{CHECK_ADD!r}], ['add'])[0].correct\nprint(os.getpid())\n"
    )
    stale = Path(tempfile.gettempdir()) / f"rlvr-sandbox-{_a_pid_that_ended()}-killed"
    (stale / "work").mkdir(parents=True)
    pid = int(
        subprocess.run(
            [sys.executable, "-c", code], check=True, timeout=120, capture_output=True, text=True
        ).stdout
    )
    assert _leftovers(pid) == []
    assert not stale.exists()  # what a killed process left, removed by the next one


def _a_pid_that_ended() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_without_file_isolation_grading_is_refused_unless_asked_for():
    from rlvr.rewards.isolation import SandboxUnavailable, _mode

    with pytest.raises(SandboxUnavailable, match="choose one of bwrap, unshare, rlimits"):
        _mode("nsjail")
    env = {**os.environ, "PATH": "/nonexistent"}
    env.pop("RLVR_SANDBOX", None)
    code = "from rlvr.rewards import CodeReward\nCodeReward()\n"
    refused = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode != 0
    assert "would see this machine's files; install bubblewrap" in refused.stderr.strip().splitlines()[-1]
    allowed = subprocess.run(
        [sys.executable, "-W", "always", "-c", code + "print('graded')"],
        env={**env, "RLVR_SANDBOX": "rlimits"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert allowed.stdout.strip() == "graded" and "can read every file this user can" in allowed.stderr


# --- Found by trying to break the grader from its public interface ---


def test_the_prompts_own_helpers_are_the_tests_own():
    """HumanEval/32, /38 and /50 check the answer with a helper the prompt defines; a program that redefines
    the helper (an identity encoder, a poly that is always 0) must not be what the tests call."""
    by_id = {t["task_id"]: t for t in TASKS}
    hacks = {
        "HumanEval/32": "def poly(*a):\n    return 0.0\ndef find_zero(xs):\n    return 0.0\n",
        "HumanEval/38": "def encode_cyclic(s):\n    return s\ndef decode_cyclic(s):\n    return s\n",
        "HumanEval/50": "def encode_shift(s):\n    return s\ndef decode_shift(s):\n    return s\n",
    }
    grades = grade(
        CodeReward(limits=SandboxLimits(timeout=5.0)), list(hacks.values()), [by_id[t] for t in hacks]
    )
    assert [g.correct for g in grades] == [False] * 3, [g.detail for g in grades]
    assert all("(the tests' own)" in g.detail for g in grades), [g.detail for g in grades]


def test_check_code_without_an_entry_point_is_a_test_error(grader):
    """Else `check` is defined, never called, and every program passes (a dataset mapped without its
    entry_point column)."""
    (result,) = grader.grade(["x = 1\n"], [CHECK_ADD], [None])
    assert result.extra["status"] == "test_error" and not result.correct


def test_the_numpy_stand_in_refuses_sets_as_numpy_does(grader):
    test = (
        "import numpy as np\ndef assertion(out, exp, atol):\n    exact_match = out == exp\n"
        "    if not exact_match and atol != 0:\n        assert np.allclose(out, exp, rtol=1e-07, atol=atol)\n"
        "    else:\n        assert exact_match\n"
        "for i, (inp, exp) in enumerate(zip([[[3.5, 1.25, 2.0]]], [[1.25, 2.0, 3.5]])):\n"
        "    assertion(sort_floats(*inp), exp, 1e-6)\n"
    )
    row = mbpp_plus_row(
        {
            "task_id": 1,
            "prompt": "Sort floats.",
            "test": test,
            "test_imports": [],
            "test_list": ["assert sort_floats([2.0, 1.0]) == [1.0, 2.0]"],
            "code": "def sort_floats(x):\n    return sorted(x)\n",
        }
    )
    programs = ["def sort_floats(x):\n    return set(x)\n", "def sort_floats(x):\n    return sorted(x)\n"]
    grades = grader.grade(programs, [row["tests"]] * 2, [row["entry_point"]] * 2)
    assert [g.correct for g in grades] == [False, True], [g.detail for g in grades]


def test_a_message_nested_past_the_parsers_depth_is_that_programs_verdict(grader):
    crash = (
        "import os, sys\nos.write(int(sys.argv[2]), b'{\"ready\": ' + b'[' * 100000 + b']' * 100000 + b'}\\n')\n"
        "import time\ntime.sleep(2)\n"
    )
    grades = grader.grade([crash, GOOD_ADD], [CHECK_ADD] * 2, ["add"] * 2)
    assert grades[0].extra["status"] == "tampered" and grades[1].correct, [g.detail for g in grades]


def test_lists_of_different_lengths_are_refused(grader):
    with pytest.raises(ValueError, match="2 completions but 1 entry points"):
        grader.grade([GOOD_ADD, GOOD_ADD], [CHECK_ADD] * 2, ["add"])


def test_no_nested_user_namespace_and_no_capability(mode_grader):
    """Inside, a program can neither open a user namespace of its own (kernel surface bubblewrap's
    --disable-userns closes) nor hold any capability."""
    from rlvr.rewards.sandbox import run_python

    probe = (
        "import ctypes\nprint(ctypes.CDLL(None, use_errno=True).unshare(0x10000000))\n"
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith(('CapEff', 'CapBnd'))])\n"
    )
    result = run_python(probe)
    assert result.stdout.split("\n")[:2] == ["-1", "['0000000000000000', '0000000000000000']"], result
