"""The code grader and its sandbox, against correct, wrong and hostile programs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rlvr.rewards import CodeReward, get_reward
from rlvr.rewards.code_reward import extract_program
from rlvr.rewards.sandbox import SandboxLimits, isolation_mode, run_python

PROJECT = Path(__file__).resolve().parents[1]
CHECK = "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n"
GOOD = "```python\ndef add(a, b):\n    return a + b\n```"


@pytest.fixture(scope="module")
def grader() -> CodeReward:
    return CodeReward(limits=SandboxLimits(timeout=3.0, cpu_seconds=3, memory_mb=512))


def test_humaneval_style_pass_and_fail(grader):
    bad = "def add(a, b):\n    return a - b\n"
    grades = grader.grade([GOOD, bad, "no code at all ```"], [CHECK] * 3, ["add"] * 3)
    assert [g.verdict for g in grades[:2]] == ["correct", "wrong"], grades
    assert grades[1].extra["status"] == "failed"


def test_stdin_stdout_cases_name_the_failing_test(grader):
    cases = [
        {"input": "2\n", "output": "4\n"},
        {"input": "5\n", "output": "10"},
        {"input": "0", "output": "0"},
    ]
    doubles = "n = int(input())\nprint(n * 2)\n"
    wrong_on_second = "n = int(input())\nprint(4 if n == 2 else n)\n"
    grades = grader.grade([doubles, wrong_on_second], [cases, cases])
    assert grades[0].verdict == "correct"
    assert grades[1].verdict == "wrong" and grades[1].detail == "failed: test 1"


def test_apps_style_json_tests(grader):
    tests = '{"inputs": ["1 2\\n"], "outputs": ["3\\n"]}'
    assert grader(completions=["a, b = map(int, input().split())\nprint(a + b)"], tests=[tests]) == [1.0]


def test_runtime_error_timeout_and_memory_verdicts(grader):
    grades = grader.grade(
        [
            "def add(a, b):\n    raise RuntimeError('boom')",
            "def add(a, b):\n    while True: pass",
            "x = bytearray(8 * 2**30)\ndef add(a, b): return a + b",
        ],
        [CHECK] * 3,
        ["add"] * 3,
    )
    assert grades[0].extra["status"] == "runtime_error"
    assert grades[1].verdict == "timeout"
    assert grades[2].extra["status"] == "memory_limit"


def test_extract_program_takes_last_fence():
    text = "first\n```python\nx = 1\n```\nthen\n```py\ny = 2\n```"
    assert extract_program(text) == "y = 2\n"
    assert extract_program("print(1)") == "print(1)"


def test_sandbox_environment_is_clean():
    os.environ["RLVR_TEST_SECRET"] = "hunter2"
    result = run_python("import os\nprint(sorted(os.environ))\nprint(os.getcwd())")
    assert result.status == "ok"
    assert "RLVR_TEST_SECRET" not in result.stdout
    assert str(PROJECT) not in result.stdout


@pytest.fixture()
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    seen: list = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                seen.append(conn.recv(100))
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


def test_hostile_programs(grader, listener, tmp_path):
    port, seen = listener
    os.environ["RLVR_TEST_SECRET"] = "hunter2"
    fake_home = tmp_path / "home"
    (fake_home / "docs").mkdir(parents=True)
    (fake_home / "docs" / "thesis.tex").write_text("precious")
    target = PROJECT / "pwned-by-sandbox.txt"
    solution = "\ndef add(a, b):\n    return a + b\n"
    hostile = {
        "fork bomb": "import os\nwhile True:\n    os.fork()",
        "infinite loop": "while True:\n    pass",
        "50 GB allocation": "blob = bytearray(50 * 2**30)",
        "write into the project": f"open({str(target)!r}, 'w').write('x')",
        "read a parent secret": "import os\nassert os.environ['RLVR_TEST_SECRET'] == 'hunter2'",
        "socket to localhost": f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'leak')",
        "kill its parent": f"import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill({os.getpid()}, signal.SIGKILL)",
        "print 1 GB": "import sys\nfor _ in range(1024):\n    sys.stdout.write('x' * 2**20)",
        "rm -rf a fake HOME": f"import shutil, os\nshutil.rmtree({str(fake_home)!r})\nassert not os.path.exists({str(fake_home)!r})",
    }
    programs = [code + solution for code in hostile.values()]
    grades = grader.grade(programs, [CHECK] * len(programs), ["add"] * len(programs))
    for name, grade in zip(hostile, grades):
        if name == "socket to localhost" and isolation_mode() == "rlimits":
            continue  # no network namespace in this mode, as its warning says
        assert grade.verdict != "correct", f"{name} passed: {grade}"
    assert not target.exists()
    assert (fake_home / "docs" / "thesis.tex").read_text() == "precious"
    assert seen == [] or isolation_mode() == "rlimits"
    # the pool keeps working, and a correct solution passes right after the suite
    assert grader.grade([GOOD], [CHECK], ["add"])[0].verdict == "correct"


def test_each_process_gets_uids_of_its_own():
    from rlvr.rewards import sandbox

    mine = sandbox.uid_block()
    code = "from rlvr.rewards import sandbox; print(sandbox.uid_block(), sandbox.sandbox_uid(3))"
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(other[0]) != mine and int(other[1]) != sandbox.sandbox_uid(3)
    with pytest.raises(ValueError, match="at most 256 runs"):
        sandbox.sandbox_uid(2 * sandbox.MAX_SLOTS)


def _unshare_works() -> bool:
    from rlvr.rewards.isolation import _works

    return os.geteuid() == 0 and _works("unshare")


@pytest.mark.skipif(
    not _unshare_works(), reason="needs root and unshare (the mode used where bwrap is missing)"
)
def test_without_bwrap_one_process_cleanup_spares_another_process_programs(monkeypatch):
    """Outside a pid namespace each run ends by killing every process of its uid. Seen on a GPU machine
    without bwrap: two graders on one machine shared uids and killed each other's programs (correct
    solutions scored 0)."""
    from rlvr.rewards import sandbox

    monkeypatch.setattr(sandbox, "isolation_mode", lambda: "unshare")
    code = (
        "from rlvr.rewards import sandbox\nsandbox.isolation_mode = lambda: 'unshare'\n"
        "r = sandbox.run_python('import time\\ntime.sleep(4)\\nprint(\"survived\")', "
        "limits=sandbox.SandboxLimits(timeout=30))\nprint(r.status, r.stdout.strip())"
    )
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    runs = 0
    while other.poll() is None:
        assert run_python("print(1)").stdout == "1\n"
        runs += 1
    assert other.stdout.read().split() == ["ok", "survived"] and runs > 3


def test_isolation_is_reported():
    assert isolation_mode() in {"bwrap", "unshare", "rlimits"}
    assert get_reward("code").describe()["isolation"] == isolation_mode()


def test_unknown_reward_suggests_the_closest_name():
    with pytest.raises(KeyError, match="math_strict"):
        get_reward("math_strikt")


def test_many_runs_in_a_row_leave_no_residue(grader):
    """Leftover sandbox processes count against the slot's process limit; 150 runs must all pass."""
    programs = [GOOD] * 150
    grades = grader.grade(programs, [CHECK] * 150, ["add"] * 150)
    assert [g.detail for g in grades] == ["passed"] * 150


def test_a_harness_outlives_the_thread_that_started_it():
    """bwrap --die-with-parent follows the starting thread; a discarded grader's threads used to take their
    harnesses with them, and the next grader's first run failed with "the test harness died"."""
    import time

    from rlvr.rewards import sandbox

    program = "def add(a, b):\n    return a + b\n"
    sandbox._drop_server(7)
    starter = threading.Thread(target=sandbox.run_tests, args=(program, CHECK, "add"), kwargs={"slot": 7})
    starter.start()
    starter.join()
    time.sleep(0.5)
    assert sandbox._SERVERS[7].alive()
    assert sandbox.run_tests(program, CHECK, "add", slot=7).status == "passed"
