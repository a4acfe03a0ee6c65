"""Run an untrusted Python program: the only place model-written code ever executes.

Isolation (rewards/isolation.py): bubblewrap, or `unshare` with a private root that gives the same view, or by
explicit opt-in resource limits alone. In every mode the program gets wall-clock, CPU, address-space,
file-size and process-count limits, its own session, a cleared environment, capped output and, when we
are root, an unprivileged uid of its own (rewards/sandbox_uids.py). What it prints reaches the grader through
pipes only, and its directories are removed when the run, the pool or the interpreter ends.
"""

from __future__ import annotations

import atexit
import functools
import glob
import json
import os
import secrets
import select
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from rlvr.rewards.isolation import SandboxUnavailable, command, interpreter, isolation_mode
from rlvr.rewards.sandbox_uids import (
    HARNESS_UID_OFFSET,
    MAX_SLOTS,
    drop_privileges_fn,
    kill_everything_of,
    sandbox_uid,
    uid_block,
)

__all__ = [
    "MAX_SLOTS",
    "RunResult",
    "SandboxLimits",
    "SandboxUnavailable",
    "TestRun",
    "close_servers",
    "isolation_mode",
    "run_python",
    "run_tests",
    "sandbox_uid",
    "uid_block",
]

OK = "ok"
RUNTIME_ERROR = "runtime_error"
TIMEOUT = "timeout"
MEMORY_LIMIT = "memory_limit"
OUTPUT_LIMIT = "output_limit"
SANDBOX_ERROR = "sandbox_error"

_HERE = os.path.dirname(os.path.abspath(__file__))
_DIR_PREFIX = "rlvr-sandbox-"


@dataclass
class SandboxLimits:
    """Resource limits for one program run."""

    timeout: float = field(
        default=10.0, metadata={"help": "Wall-clock seconds before the program is killed."}
    )
    cpu_seconds: int = field(default=10, metadata={"help": "CPU seconds (RLIMIT_CPU)."})
    memory_mb: int = field(default=1024, metadata={"help": "Address space in MiB (RLIMIT_AS)."})
    file_size_mb: int = field(default=16, metadata={"help": "Largest file the program may write, MiB."})
    max_processes: int = field(default=64, metadata={"help": "Processes and threads (RLIMIT_NPROC)."})
    max_output_bytes: int = field(default=1 << 20, metadata={"help": "Captured stdout+stderr cap."})
    tmp_mb: int = field(
        default=64, metadata={"help": "Size of each private /tmp, /var/tmp and /dev/shm, MiB."}
    )


@dataclass
class RunResult:
    status: str
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float


def run_python(source: str, stdin: str = "", limits: SandboxLimits | None = None, slot: int = 0) -> RunResult:
    """Run `source` as a Python program in the sandbox; `slot` picks the uid (one per concurrent run)."""
    limits = limits or SandboxLimits()
    mode = isolation_mode()
    python = interpreter()
    start = time.monotonic()
    workdir = _prepare({"main.py": source, "stdin.txt": stdin}, slot)
    try:
        cmd, env = command(mode, workdir, python, ["-I", "main.py"], limits.tmp_mb << 20)
        with open(os.path.join(workdir, "stdin.txt"), "rb") as stdin_file:
            try:
                proc = subprocess.Popen(
                    cmd,
                    stdin=stdin_file,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    cwd=workdir,
                    env=env,
                    preexec_fn=drop_privileges_fn(slot, limits),
                    close_fds=True,
                )
            except OSError as exc:
                return RunResult(SANDBOX_ERROR, None, "", str(exc), time.monotonic() - start)
            status, out, err = _collect(proc, limits, start)
        if mode == "rlimits":
            kill_everything_of(slot, python)
        return _classify(status, proc.returncode, out, err, time.monotonic() - start, mode)
    finally:
        _remove(workdir)


def _collect(proc: subprocess.Popen, limits: SandboxLimits, start: float) -> tuple[str | None, bytes, bytes]:
    """Read stdout/stderr up to the cap until exit or deadline; kill the whole group on either limit."""
    buffers = {proc.stdout: bytearray(), proc.stderr: bytearray()}
    selector = selectors.DefaultSelector()
    for stream in buffers:
        selector.register(stream, selectors.EVENT_READ)
    status = None
    deadline = start + limits.timeout
    while selector.get_map():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            status = TIMEOUT
            break
        for key, _ in selector.select(timeout=remaining):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                selector.unregister(key.fileobj)
                continue
            buffers[key.fileobj] += chunk
        if sum(len(b) for b in buffers.values()) > limits.max_output_bytes:
            status = OUTPUT_LIMIT
            break
    selector.close()
    if status is not None:
        _kill_group(proc)
    try:
        proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        status = TIMEOUT
        _kill_group(proc)
        proc.wait()
    for stream in buffers:
        stream.close()
    cap = limits.max_output_bytes
    return status, bytes(buffers[proc.stdout][:cap]), bytes(buffers[proc.stderr][:cap])


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass


def _classify(status, returncode, out: bytes, err: bytes, seconds: float, mode: str) -> RunResult:
    stdout = out.decode("utf-8", "replace")
    stderr = err.decode("utf-8", "replace")
    if status is None:
        if returncode == 0:
            status = OK
        elif "MemoryError" in stderr or returncode == -signal.SIGKILL and not stderr:
            status = MEMORY_LIMIT
        elif returncode in (-signal.SIGXCPU,):
            status = TIMEOUT
        elif mode == "bwrap" and stderr.startswith("bwrap:"):
            status = SANDBOX_ERROR
        else:
            status = RUNTIME_ERROR
    return RunResult(status, returncode, stdout, stderr, seconds)


@dataclass
class TestRun:
    """What the test harness reported: `status` is passed, failed, runtime_error, memory_limit,
    exited_early, tampered, test_error, or the sandbox's timeout, output_limit, sandbox_error."""

    status: str
    detail: str
    seconds: float


@functools.cache
def _script(name: str) -> str:
    """A sandbox-side script with the plain-value codec prepended (read once per process)."""
    with open(os.path.join(_HERE, "_plain_values.py")) as f:
        values = f.read()
    with open(os.path.join(_HERE, name)) as f:
        return values + "\n" + f.read()


def _prepare(files: dict[str, str], uid_slot: int) -> str:
    """A run's directory: `<base>/work` holds `files` (the program's own, writable), `<base>/root` is where
    the unshare mode mounts its private root. The base's name carries our pid, so that a later process
    can remove what a killed one left."""
    _remove_stale_once()
    base = tempfile.mkdtemp(prefix=f"{_DIR_PREFIX}{os.getpid()}-")
    os.chmod(base, 0o711)
    workdir = os.path.join(base, "work")
    os.mkdir(workdir, 0o700)
    os.mkdir(os.path.join(base, "root"), 0o700)
    for name, text in files.items():
        with open(os.path.join(workdir, name), "w") as f:
            f.write(text)
    if os.geteuid() == 0:
        uid = sandbox_uid(uid_slot)
        for path in [workdir, os.path.join(base, "root")] + [os.path.join(workdir, n) for n in files]:
            os.chown(path, uid, uid)
    return workdir


def _remove(workdir: str) -> None:
    """Remove a run's whole directory (rmtree does not follow the program's symlinks)."""
    shutil.rmtree(os.path.dirname(workdir), ignore_errors=True)


@functools.cache
def _remove_stale_once() -> None:
    """Directories of rlvr processes that no longer run (killed before their exit handlers ran)."""
    for path in glob.glob(os.path.join(tempfile.gettempdir(), _DIR_PREFIX + "*-*")):
        pid = os.path.basename(path)[len(_DIR_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _HarnessServer:
    """A long-lived test harness for one pool slot, in its own sandbox (uid 62000 + slot). It runs only
    the tests, never a program, so reusing it across programs shares nothing a program could touch;
    it saves a second interpreter start per program."""

    MAX_RUNS = 256  # then a fresh one: test code may leak memory

    def __init__(self, slot: int, limits: SandboxLimits) -> None:
        self.mode = mode = isolation_mode()
        python = interpreter()
        self.workdir = _prepare({"main.py": _script("_code_harness.py")}, slot + HARNESS_UID_OFFSET)
        ours, theirs = socket.socketpair()
        server_limits = SandboxLimits(**{**limits.__dict__, "cpu_seconds": 3600})
        cmd, env = command(
            mode, self.workdir, python, ["-I", "-S", "main.py", str(theirs.fileno())], limits.tmp_mb << 20
        )
        self.process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.workdir,
            env=env,
            preexec_fn=drop_privileges_fn(slot + HARNESS_UID_OFFSET, server_limits),
            pass_fds=(theirs.fileno(),),
        )
        theirs.close()
        self.sock = ours
        self.runs = 0

    def alive(self) -> bool:
        """Running, not yet due for a fresh one, and of the isolation mode in force now."""
        return self.process.poll() is None and self.runs < self.MAX_RUNS and self.mode == isolation_mode()

    def send(self, nonce: str, entry_point: str | None, tests: str, fds: tuple[int, int]) -> None:
        payload = tests.encode()
        header = (
            json.dumps({"nonce": nonce, "entry_point": entry_point, "length": len(payload)}).encode() + b"\n"
        )
        socket.send_fds(self.sock, [header], list(fds))
        self.sock.sendall(payload)
        self.runs += 1

    def receive(self, deadline: float) -> str | None:
        """The status line, or None when the deadline passes first."""
        buffer = b""
        while not buffer.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.sock], [], [], remaining)[0]:
                return None
            chunk = self.sock.recv(1 << 16)
            if not chunk or len(buffer) > 1 << 20:
                raise OSError("the test harness died")
            buffer += chunk
        return buffer.decode("utf-8", "replace")

    def close(self) -> None:
        _kill_group(self.process)
        self.process.wait()
        self.sock.close()
        _remove(self.workdir)


_SERVERS: dict[int, _HarnessServer] = {}
_SERVERS_LOCK = threading.Lock()
# bwrap's --die-with-parent ends a harness when the *thread* that started it exits (PR_SET_PDEATHSIG), as a
# grader's pool threads do when it is discarded: a harness could die between the check and the next run
# ("the test harness died"). They are started from this one thread, which lives as long as the process.
_SPAWNER = ThreadPoolExecutor(1, thread_name_prefix="rlvr-harness-spawner")


def _server(slot: int, limits: SandboxLimits) -> _HarnessServer:
    with _SERVERS_LOCK:
        server = _SERVERS.get(slot)
        if server is None or not server.alive():
            if server is not None:
                server.close()
            server = _SERVERS[slot] = _SPAWNER.submit(_HarnessServer, slot, limits).result()
        return server


def _drop_server(slot: int) -> None:
    with _SERVERS_LOCK:
        server = _SERVERS.pop(slot, None)
    if server is not None:
        server.close()


def close_servers() -> None:
    """End every test harness of this process and remove their directories (they restart on demand)."""
    with _SERVERS_LOCK:
        servers = list(_SERVERS.values())
        _SERVERS.clear()
    for server in servers:
        server.close()


atexit.register(close_servers)


class _OutputCounter:
    """Drains a program's stdout and stderr (one pipe) on a thread of its own, counting and dropping the
    bytes; past the cap it kills the program's group. The program cannot touch the count: it is here."""

    def __init__(self, read_fd: int, cap: int) -> None:
        self.read_fd, self.cap, self.count = read_fd, cap, 0
        self.process: subprocess.Popen | None = None
        self.thread = threading.Thread(target=self._drain, daemon=True, name="rlvr-program-output")
        self.thread.start()

    def _drain(self) -> None:
        try:
            while chunk := os.read(self.read_fd, 1 << 16):
                self.count += len(chunk)
                if self.count > self.cap and self.process is not None:
                    _kill_group(self.process)
        except OSError:
            pass
        finally:
            os.close(self.read_fd)

    @property
    def over(self) -> bool:
        return self.count > self.cap

    def finish(self) -> None:
        self.thread.join(timeout=2.0)


def run_tests(
    program: str,
    tests: str,
    entry_point: str | None = None,
    limits: SandboxLimits | None = None,
    slot: int = 0,
) -> TestRun:
    """Run check-style `tests` against `program`, each in a sandbox of its own.

    The program never shares a process with the tests: the harness calls its functions over a pipe and
    receives plain data back. Only the harness knows the run's nonce, and it sends it with a status
    only after the tests ran to their end, so no exit code, exit hook, thread or equal-to-everything
    object of the program's can fake a pass. One run per slot at a time. Whatever fails on our side is
    this program's `sandbox_error`, never an exception for its batch.
    """
    limits = limits or SandboxLimits()
    start = time.monotonic()
    try:
        return _run_tests(program, tests, entry_point, limits, slot, start)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        _drop_server(slot)
        return TestRun(SANDBOX_ERROR, f"{type(exc).__name__}: {exc}"[:300], time.monotonic() - start)


def _run_tests(program, tests, entry_point, limits: SandboxLimits, slot: int, start: float) -> TestRun:
    mode = isolation_mode()
    python = interpreter()
    nonce = secrets.token_hex(16)
    deadline = start + limits.timeout
    program_dir = _prepare({"solution.py": program, "main.py": _script("_code_candidate.py")}, slot)
    to_program, from_program, output = os.pipe(), os.pipe(), os.pipe()
    counter = _OutputCounter(output[0], limits.max_output_bytes)
    program_proc = None
    try:
        try:
            server = _server(slot, limits)
            cmd, env = command(
                mode,
                program_dir,
                python,
                ["-I", "main.py", str(to_program[0]), str(from_program[1])],
                limits.tmp_mb << 20,
            )
            program_proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=output[1],
                stderr=output[1],
                cwd=program_dir,
                env=env,
                preexec_fn=drop_privileges_fn(slot, limits),
                pass_fds=(to_program[0], from_program[1]),
            )
            counter.process = program_proc
            if counter.over:
                _kill_group(program_proc)
            try:
                server.send(nonce, entry_point, tests, (to_program[1], from_program[0]))
            except OSError:  # bwrap's --die-with-parent ended it with the thread that started it: once more
                _drop_server(slot)
                server = _server(slot, limits)
                server.send(nonce, entry_point, tests, (to_program[1], from_program[0]))
        except OSError as exc:
            _drop_server(slot)
            return TestRun(SANDBOX_ERROR, str(exc), time.monotonic() - start)
        finally:
            for fd in (*to_program, *from_program, output[1]):
                os.close(fd)
        try:
            line = server.receive(deadline)
        except OSError as exc:
            _drop_server(slot)
            return TestRun(SANDBOX_ERROR, str(exc), time.monotonic() - start)
        try:  # how the program ended counts only if it ended by itself (an EOF the harness saw)
            program_code = program_proc.wait(timeout=0.5) if line is not None else None
        except subprocess.TimeoutExpired:
            program_code = None
        _kill_group(program_proc)
        program_proc.wait()
        if line is None:  # the harness sees EOF once the program is killed; else it is stuck in the tests
            try:
                late = server.receive(time.monotonic() + 2.0)
            except OSError:
                late = None
            if late is None:
                _drop_server(slot)
            if counter.over:
                return TestRun(
                    OUTPUT_LIMIT, "the program printed more than the output cap", time.monotonic() - start
                )
            return TestRun(TIMEOUT, "", time.monotonic() - start)
        counter.finish()
        if counter.over:
            return TestRun(
                OUTPUT_LIMIT, "the program printed more than the output cap", time.monotonic() - start
            )
        return _test_verdict(line, nonce, program_code, time.monotonic() - start)
    finally:
        if program_proc is not None and program_proc.poll() is None:
            _kill_group(program_proc)
            program_proc.wait()
        if mode == "rlimits":
            kill_everything_of(slot, python)
        counter.finish()
        _remove(program_dir)


def _signal_of(returncode: int | None) -> int | None:
    """The signal that ended a process, directly (negative code) or through bwrap (128 + signal)."""
    if returncode is None:
        return None
    if returncode < 0:
        return -returncode
    return returncode - 128 if returncode > 128 else None


def _test_verdict(reply: str, nonce: str, program_code, seconds: float) -> TestRun:
    """The harness's status line, read only when it carries this run's nonce."""
    for line in reply.splitlines():
        token, _, rest = line.partition(" ")
        if token == nonce:
            verdict, _, detail = rest.partition(" ")
            try:
                detail = json.loads(detail)
            except ValueError:
                pass
            if verdict == "exited_early":
                signum = _signal_of(program_code)
                if signum == signal.SIGXCPU:
                    return TestRun(TIMEOUT, "CPU time limit", seconds)
                if signum is not None:
                    return TestRun(RUNTIME_ERROR, f"killed by signal {signum}", seconds)
            return TestRun(verdict, str(detail), seconds)
    return TestRun(
        SANDBOX_ERROR, f"the test harness answered without this run's nonce: {reply[:200]!r}", seconds
    )
