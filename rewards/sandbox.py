"""Run an untrusted Python program: the only place model-written code ever executes.

Isolation, strongest available first: bubblewrap (`bwrap --unshare-all`, read-only system, a fresh
writable working directory, no network, no parent environment), else `unshare` (user, net and pid
namespaces), else resource limits alone. In every mode the program gets wall-clock, CPU, address-space,
file-size and process-count limits, its own session, a cleared environment, capped output and, when we
are root, an unprivileged uid of its own (so process limits bind and the caller's files are out of reach).
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import resource
import secrets
import select
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

OK = "ok"
RUNTIME_ERROR = "runtime_error"
TIMEOUT = "timeout"
MEMORY_LIMIT = "memory_limit"
OUTPUT_LIMIT = "output_limit"
SANDBOX_ERROR = "sandbox_error"

MAX_SLOTS = 256  # concurrent runs per process
_HARNESS_UID_OFFSET = MAX_SLOTS  # the test harness of slot s runs as the program's uid + 256, apart from it
_UID_BASE = 40000  # as root, process k on the machine runs its programs as 40000 + 512 k + slot ...
_UID_BLOCK = 2 * MAX_SLOTS
_UID_BLOCKS = 48  # ... for k < 48: every uid below 65536, which user-namespace maps usually cover
_HERE = os.path.dirname(os.path.abspath(__file__))
_SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")


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


@dataclass
class RunResult:
    status: str
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float


def _interpreter() -> str:
    """A system Python under /usr when there is one: it is inside the read-only binds."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.path.exists(candidate):
            return candidate
    return sys.executable


def _bwrap_prefix(workdir: str, python: str) -> list[str]:
    # --as-pid-1: no reaper process inside; on hosts whose init reaps slowly its zombies would count
    # against the process limit of the slot's uid.
    cmd = ["bwrap", "--unshare-all", "--as-pid-1", "--die-with-parent", "--new-session"]
    binds = [d for d in _SYSTEM_DIRS if os.path.isdir(d)]
    real = os.path.realpath(python)
    prefix = os.path.dirname(os.path.dirname(real))
    if not any(real.startswith(d + "/") for d in binds):
        binds.append(prefix)
    for d in binds:
        cmd += ["--ro-bind", d, d]
    cmd += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--bind",
        workdir,
        "/sandbox",
        "--chdir",
        "/sandbox",
        "--clearenv",
        "--setenv",
        "PATH",
        "/usr/bin:/bin",
        "--setenv",
        "HOME",
        "/sandbox",
        "--setenv",
        "PYTHONDONTWRITEBYTECODE",
        "1",
    ]
    return cmd


def _probe(cmd: list[str]) -> bool:
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=20, preexec_fn=_drop_privileges_fn(0, None))
        return done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@functools.lru_cache(maxsize=1)
def isolation_mode() -> str:
    """'bwrap', 'unshare' or 'rlimits': the strongest that works here, warned about once if not bwrap."""
    probe_dir = tempfile.mkdtemp(prefix="rlvr-probe-")
    os.chmod(probe_dir, 0o777)
    try:
        if shutil.which("bwrap") and _probe(_bwrap_prefix(probe_dir, _interpreter()) + ["/bin/true"]):
            return "bwrap"
        if shutil.which("unshare") and _probe(["unshare", "--user", "--net", "--pid", "--fork", "/bin/true"]):
            warnings.warn(
                "rlvr sandbox: bubblewrap is not available, running generated code under `unshare` "
                "(user, net, pid namespaces) and resource limits; install it with `apt-get install bubblewrap`.",
                stacklevel=2,
            )
            return "unshare"
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)
    warnings.warn(
        "rlvr sandbox: neither bubblewrap nor unprivileged namespaces work here; generated code runs "
        "with resource limits and a separate uid only (no network isolation). Install bubblewrap.",
        stacklevel=2,
    )
    return "rlimits"


_BLOCK_HELD: dict[int, tuple[int, int]] = {}  # pid -> (block, lock fd), so a forked child claims its own
_BLOCK_LOCK = threading.Lock()


def uid_block() -> int:
    """A block of uids that this process alone uses on this machine, held by an flock until it exits.

    Outside a pid namespace a finished run kills every process of its slot's uid; with uids shared between
    processes (two ranks of one node, two graders) one process's cleanup killed the other's programs and
    their correct answers scored 0."""
    with _BLOCK_LOCK:
        held = _BLOCK_HELD.get(os.getpid())
        if held is not None:
            return held[0]
        folder = os.path.join(tempfile.gettempdir(), f"rlvr-sandbox-uids-{os.geteuid()}")
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.lstat(folder)
        if info.st_uid != os.geteuid() or not os.path.isdir(folder) or os.path.islink(folder):
            raise RuntimeError(
                f"rlvr sandbox: {folder} is not a folder of this user's; remove it and run again"
            )
        for block in range(_UID_BLOCKS):
            fd = os.open(os.path.join(folder, f"{block}.lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            _BLOCK_HELD[os.getpid()] = (block, fd)
            return block
    raise RuntimeError(
        f"rlvr sandbox: {_UID_BLOCKS} processes on this machine already run sandboxes as root; "
        "wait for one to finish or run fewer graders at once"
    )


def sandbox_uid(slot: int) -> int:
    """The uid a slot's programs run as when we are root (a harness slot carries _HARNESS_UID_OFFSET)."""
    if not 0 <= slot < _UID_BLOCK:
        raise ValueError(f"sandbox slot {slot} out of range: at most {MAX_SLOTS} runs at once per process")
    return _UID_BASE + _UID_BLOCK * uid_block() + slot


def _drop_privileges_fn(slot: int, limits: SandboxLimits | None):
    """preexec_fn for the child: limits first, then (as root) a uid of the slot's own (`slot` may carry
    the harness offset). The uid is looked up here, in the parent: a preexec_fn must not take locks."""
    uid = sandbox_uid(slot) if os.geteuid() == 0 else None

    def apply() -> None:
        os.setsid()
        if limits is not None:
            mb = 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mb, limits.memory_mb * mb))
            resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
            resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mb * mb, limits.file_size_mb * mb))
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)

    return apply


def _kill_everything_of(slot: int) -> None:
    """Outside a pid namespace a program can escape its process group: kill all of its uid's processes."""
    if os.geteuid() != 0:
        return
    subprocess.run(
        [
            _interpreter(),
            "-S",
            "-c",
            "import os, signal\ntry: os.kill(-1, signal.SIGKILL)\nexcept OSError: pass",
        ],
        preexec_fn=_drop_privileges_fn(slot, None),
        timeout=10,
        check=False,
    )


def run_python(source: str, stdin: str = "", limits: SandboxLimits | None = None, slot: int = 0) -> RunResult:
    """Run `source` as a Python program in the sandbox; `slot` picks the uid (one per concurrent run)."""
    limits = limits or SandboxLimits()
    mode = isolation_mode()
    python = _interpreter()
    start = time.monotonic()
    workdir = _prepare({"main.py": source, "stdin.txt": stdin}, slot)
    try:
        cmd, env = _command(mode, workdir, python, ["-I", "main.py"])
        with open(os.path.join(workdir, "stdin.txt"), "rb") as stdin_file:
            try:
                proc = subprocess.Popen(
                    cmd,
                    stdin=stdin_file,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    cwd=workdir,
                    env=env,
                    preexec_fn=_drop_privileges_fn(slot, limits),
                    close_fds=True,
                )
            except OSError as exc:
                return RunResult(SANDBOX_ERROR, None, "", str(exc), time.monotonic() - start)
            status, out, err = _collect(proc, limits, start)
        if mode != "bwrap":
            _kill_everything_of(slot)
        return _classify(status, proc.returncode, out, err, time.monotonic() - start, mode)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


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
    workdir = tempfile.mkdtemp(prefix="rlvr-sandbox-")
    for name, text in files.items():
        with open(os.path.join(workdir, name), "w") as f:
            f.write(text)
    if os.geteuid() == 0:
        uid = sandbox_uid(uid_slot)
        for path in [workdir] + [os.path.join(workdir, n) for n in files]:
            os.chown(path, uid, uid)
    return workdir


def _command(mode: str, workdir: str, python: str, args: list[str]) -> tuple[list[str], dict[str, str]]:
    if mode == "bwrap":
        return _bwrap_prefix(workdir, python) + [python, *args], {}
    cmd = [python, *args]
    if mode == "unshare":
        cmd = ["unshare", "--user", "--net", "--pid", "--fork", "--kill-child"] + cmd
    return cmd, {"PATH": "/usr/bin:/bin", "HOME": workdir, "PYTHONDONTWRITEBYTECODE": "1"}


class _HarnessServer:
    """A long-lived test harness for one pool slot, in its own sandbox (uid 62000 + slot). It runs only
    the tests, never a program, so reusing it across programs shares nothing a program could touch;
    it saves a second interpreter start per program."""

    MAX_RUNS = 256  # then a fresh one: test code may leak memory

    def __init__(self, slot: int, limits: SandboxLimits) -> None:
        mode = isolation_mode()
        python = _interpreter()
        self.workdir = _prepare({"main.py": _script("_code_harness.py")}, slot + _HARNESS_UID_OFFSET)
        ours, theirs = socket.socketpair()
        server_limits = SandboxLimits(**{**limits.__dict__, "cpu_seconds": 3600})
        cmd, env = _command(mode, self.workdir, python, ["-I", "-S", "main.py", str(theirs.fileno())])
        self.process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.workdir,
            env=env,
            preexec_fn=_drop_privileges_fn(slot + _HARNESS_UID_OFFSET, server_limits),
            pass_fds=(theirs.fileno(),),
        )
        theirs.close()
        self.sock = ours
        self.runs = 0

    def alive(self) -> bool:
        return self.process.poll() is None and self.runs < self.MAX_RUNS

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
        shutil.rmtree(self.workdir, ignore_errors=True)


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
    object of the program's can fake a pass. One run per slot at a time.
    """
    limits = limits or SandboxLimits()
    mode = isolation_mode()
    python = _interpreter()
    nonce = secrets.token_hex(16)
    start = time.monotonic()
    deadline = start + limits.timeout
    to_program = os.pipe()
    from_program = os.pipe()
    program_dir = _prepare({"solution.py": program, "main.py": _script("_code_candidate.py")}, slot)
    program_proc = None
    try:
        try:
            server = _server(slot, limits)
            cmd, env = _command(
                mode, program_dir, python, ["-I", "main.py", str(to_program[0]), str(from_program[1])]
            )
            with open(os.path.join(program_dir, "output.txt"), "wb") as output:  # counted, never parsed
                program_proc = subprocess.Popen(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=output,
                    cwd=program_dir,
                    env=env,
                    preexec_fn=_drop_privileges_fn(slot, limits),
                    pass_fds=(to_program[0], from_program[1]),
                )
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
            for fd in (*to_program, *from_program):
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
            return TestRun(TIMEOUT, "", time.monotonic() - start)
        if os.path.getsize(os.path.join(program_dir, "output.txt")) > limits.max_output_bytes:
            return TestRun(
                OUTPUT_LIMIT, "the program printed more than the output cap", time.monotonic() - start
            )
        return _test_verdict(line, nonce, program_code, time.monotonic() - start)
    finally:
        if program_proc is not None and program_proc.poll() is None:
            _kill_group(program_proc)
            program_proc.wait()
        if mode != "bwrap":
            _kill_everything_of(slot)
        shutil.rmtree(program_dir, ignore_errors=True)


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
