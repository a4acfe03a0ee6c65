"""How a sandboxed program is isolated: bubblewrap, or `unshare` with a private root, or (by opt-in) nothing.

Both real modes give the same view: the read-only system directories, the program's own working directory
at /sandbox, private /tmp, /var/tmp and /dev/shm that vanish with the run, a minimal /dev, no network and
nothing of the host's files (no /home, /root, /etc, the project, any sample store). `unshare` builds it
with util-linux's `unshare` and rewards/_private_root.py, for the many GPU machines without bubblewrap.
`rlimits` (resource limits and, as root, a uid of its own) isolates no files: it is refused unless asked
for by name, as human-eval ships with execution disabled.

`RLVR_SANDBOX=bwrap|unshare|rlimits` forces a mode; unset, the strongest that works here is used.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

from rlvr.rewards.sandbox_uids import drop_privileges_fn

MODES = ("bwrap", "unshare", "rlimits")
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
_HERE = os.path.dirname(os.path.abspath(__file__))
_NAMESPACES = ["--user", "--map-root-user", "--mount", "--net", "--pid", "--ipc", "--uts"]


class SandboxUnavailable(RuntimeError):
    """No isolation mode that keeps the host's files out of reach works here (or the forced one fails)."""


def interpreter() -> str:
    """A system Python under /usr when there is one: it is inside the read-only binds."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.path.exists(candidate):
            return candidate
    return sys.executable


def read_only_dirs(python: str) -> list[str]:
    """The system directories, plus the interpreter's prefix when it lives elsewhere (a conda or venv)."""
    dirs = [d for d in SYSTEM_DIRS if os.path.lexists(d)]
    real = os.path.realpath(python)
    if not any(real.startswith(d + "/") for d in dirs):
        dirs.append(os.path.dirname(os.path.dirname(real)))
    return dirs


def _bwrap_prefix(workdir: str, python: str, tmp_bytes: int) -> list[str]:
    # --as-pid-1: no reaper process inside; on hosts whose init reaps slowly its zombies would count
    # against the process limit of the slot's uid.
    cmd = ["bwrap", "--unshare-all", "--as-pid-1", "--die-with-parent", "--new-session"]
    if _bwrap_disables_userns():  # no nested user namespaces inside (bubblewrap >= 0.8)
        cmd += ["--unshare-user", "--disable-userns"]
    for d in read_only_dirs(python):
        cmd += ["--ro-bind", d, d]
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    for private in ("/tmp", "/var/tmp", "/dev/shm"):
        cmd += ["--size", str(tmp_bytes), "--tmpfs", private]
    cmd += ["--bind", workdir, "/sandbox", "--remount-ro", "/", "--chdir", "/sandbox", "--clearenv"]
    for name, value in (("PATH", "/usr/bin:/bin"), ("HOME", "/sandbox"), ("PYTHONDONTWRITEBYTECODE", "1")):
        cmd += ["--setenv", name, value]
    return cmd


@functools.cache
def _bwrap_disables_userns() -> bool:
    try:
        return (
            "--disable-userns" in subprocess.run(["bwrap", "--help"], capture_output=True, text=True).stdout
        )
    except OSError:
        return False


@functools.cache
def _private_root_source() -> str:
    with open(os.path.join(_HERE, "_private_root.py")) as f:
        return f.read()


def _unshare_prefix(workdir: str, python: str, tmp_bytes: int) -> list[str]:
    """`unshare` into new namespaces, then _private_root.py builds the root and execs the program."""
    dirs = ":".join(read_only_dirs(python))
    return [
        "unshare",
        *_NAMESPACES,
        "--fork",
        "--kill-child",
        python,
        "-I",
        "-S",
        "-c",
        _private_root_source(),
    ] + [
        workdir,
        str(tmp_bytes),
        dirs,
    ]


def command(mode: str, workdir: str, python: str, args: list[str], tmp_bytes: int) -> tuple[list[str], dict]:
    """The command line and environment that run `python args...` in `workdir` under `mode`."""
    if mode == "bwrap":
        return _bwrap_prefix(workdir, python, tmp_bytes) + [python, *args], {}
    if mode == "unshare":
        return _unshare_prefix(workdir, python, tmp_bytes) + [python, *args], {}
    return [python, *args], {"PATH": "/usr/bin:/bin", "HOME": workdir, "PYTHONDONTWRITEBYTECODE": "1"}


def _works(mode: str) -> bool:
    """Run /bin/true under `mode` in a throwaway directory laid out as a real run's."""
    base = tempfile.mkdtemp(prefix=f"rlvr-sandbox-{os.getpid()}-probe-")
    try:
        work = os.path.join(base, "work")
        os.mkdir(work)
        os.mkdir(os.path.join(base, "root"))
        os.chmod(base, 0o711)
        os.chmod(work, 0o777)
        cmd, env = command(mode, work, interpreter(), ["-S", "-c", "pass"], 1 << 20)
        done = subprocess.run(
            cmd, capture_output=True, timeout=20, env=env or None, preexec_fn=drop_privileges_fn(0, None)
        )
        return done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        shutil.rmtree(base, ignore_errors=True)


def isolation_mode() -> str:
    """'bwrap' or 'unshare' (the strongest that works here), or the mode RLVR_SANDBOX names."""
    return _mode(os.environ.get("RLVR_SANDBOX", "").strip().lower())


@functools.cache
def _mode(forced: str) -> str:
    if forced and forced not in MODES:
        raise SandboxUnavailable(
            f"RLVR_SANDBOX={forced!r}: choose one of {', '.join(MODES)} (or leave it unset)"
        )
    if forced == "rlimits":
        warnings.warn(
            "rlvr sandbox: RLVR_SANDBOX=rlimits runs generated code with resource limits only: it can read "
            "every file this user can (test solutions, sample stores, the project) and reach the network.",
            stacklevel=3,
        )
        return "rlimits"
    usable = {"bwrap": shutil.which("bwrap"), "unshare": shutil.which("unshare")}
    for mode in [forced] if forced else ["bwrap", "unshare"]:
        if usable[mode] and _works(mode):
            return mode
    if forced:
        raise SandboxUnavailable(
            f"RLVR_SANDBOX={forced}: that isolation does not work on this machine "
            f"({'not installed' if not usable[forced] else 'it failed to start a program'}); unset it to use another"
        )
    raise SandboxUnavailable(
        "rlvr sandbox: neither bubblewrap nor user+mount namespaces (`unshare`) work here, so generated code "
        "would see this machine's files; install bubblewrap (apt-get install bubblewrap), or set "
        "RLVR_SANDBOX=rlimits to run it with resource limits only"
    )
