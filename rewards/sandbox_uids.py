"""Who a sandboxed program runs as: as root, a uid of its slot's own, apart from every other program and harness.

Each process on the machine that runs sandboxes as root holds a block of uids by an flock, so that one
process's cleanup (which kills every process of a slot's uid) never touches another process's programs.
"""

from __future__ import annotations

import fcntl
import os
import resource
import subprocess
import tempfile
import threading

MAX_SLOTS = 256  # concurrent runs per process
HARNESS_UID_OFFSET = MAX_SLOTS  # the test harness of slot s runs as the program's uid + 256, apart from it
_UID_BASE = 40000  # as root, process k on the machine runs its programs as 40000 + 512 k + slot ...
_UID_BLOCK = 2 * MAX_SLOTS
_UID_BLOCKS = 48  # ... for k < 48: every uid below 65536, which user-namespace maps usually cover

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
        folder = os.path.join(tempfile.gettempdir(), f"rlvr-uid-locks-{os.geteuid()}")
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
    """The uid a slot's programs run as when we are root (a harness slot carries HARNESS_UID_OFFSET)."""
    if not 0 <= slot < _UID_BLOCK:
        raise ValueError(f"sandbox slot {slot} out of range: at most {MAX_SLOTS} runs at once per process")
    return _UID_BASE + _UID_BLOCK * uid_block() + slot


def drop_privileges_fn(slot: int, limits=None):
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


def kill_everything_of(slot: int, python: str) -> None:
    """Outside a pid namespace a program can escape its process group: kill all of its uid's processes."""
    if os.geteuid() != 0:
        return
    subprocess.run(
        [python, "-S", "-c", "import os, signal\ntry: os.kill(-1, signal.SIGKILL)\nexcept OSError: pass"],
        preexec_fn=drop_privileges_fn(slot, None),
        timeout=10,
        check=False,
    )
