"""Inside fresh user, mount, pid, net, ipc and uts namespaces: the filesystem view bubblewrap gives, then exec.

The `unshare` mode's second half, run as `python -I -S -c <this file's text> WORK SIZE DIRS PROGRAM ARGS...` by
`unshare --user --map-root-user --mount ...` (see rewards/isolation.py). It runs before any untrusted code, as
the namespaces' root, and builds a private root on a tmpfs: the read-only system directories (DIRS, colon
separated), the program's own directory WORK at /sandbox, private /tmp, /var/tmp and /dev/shm of SIZE bytes
each, a minimal /dev and a /proc of the new pid namespace. It pivots into it, detaches the host's root, makes
the new root read-only, drops every capability for good (bounding set, securebits: root gains none at exec)
and execs PROGRAM. Nothing of the host's files is left in the namespace to reach.
"""

import ctypes
import os
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
# statvfs's f_flag bits (ST_*) as mount flags (MS_*): a bind mount's remount must keep the locked ones
_ST_TO_MS = {1: 1, 2: 2, 4: 4, 8: 8, 16: 16, 64: 64, 1024: 1024, 2048: 2048, 4096: 1 << 21}
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "ppc64le": 203, "s390x": 217, "riscv64": 41}
_DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"rlvr sandbox: {what}: {os.strerror(error)}")


def _mount(source, target, fstype, flags, data=None):
    encode = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(
        _libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
        f"mount {target}",
    )


def _mount_points_under(path):
    """Every mount point at or below `path`, from /proc/self/mountinfo (octal escapes decoded)."""
    points = []
    with open("/proc/self/mountinfo") as info:
        for line in info:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == path or point.startswith(path + "/"):
                points.append(point)
    return points


def _read_only(path):
    """Remount a recursive bind and every mount under it read-only, keeping each mount's own flags."""
    for point in _mount_points_under(path):
        kept = 0
        for st, ms in _ST_TO_MS.items():
            if os.statvfs(point).f_flag & st:
                kept |= ms
        _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | kept)


def _bind(source, target, read_only):
    if os.path.islink(source):  # merged /usr: /lib -> usr/lib
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(os.readlink(source), target)
        return
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "w").close()
    _mount(source, target, None, MS_BIND | MS_REC)
    if read_only:
        _read_only(target)


def _tmpfs(target, size, mode):
    os.makedirs(target, exist_ok=True)
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode={mode}")


def _drop_capabilities():
    """No capability now or after exec, for this process and anything it starts."""
    securebits = (
        1 | 2 | 4 | 8 | 32 | 64 | 128
    )  # noroot, no_setuid_fixup, keep_caps off, no ambient: all locked
    _check(_libc.prctl(28, securebits, 0, 0, 0), "PR_SET_SECUREBITS")
    for cap in range(64):
        if _libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP; EINVAL past the last capability
            break
    _libc.prctl(47, 4, 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()
    _check(_libc.capset(header, data), "capset")
    _check(_libc.prctl(38, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")


def main(argv):
    work, size, dirs, program = argv[0], argv[1], argv[2].split(":"), argv[3:]
    root = os.path.join(os.path.dirname(work), "root")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing below propagates back to the host
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for directory in dirs:
        _bind(directory, root + directory, read_only=True)
    _bind(work, root + "/sandbox", read_only=False)
    _tmpfs(root + "/dev", "1m", "0755")
    for device in _DEVICES:
        _bind("/dev/" + device, f"{root}/dev/{device}", read_only=False)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
    ):
        os.symlink(target, f"{root}/dev/{name}")
    os.symlink("/proc/self/fd/2", f"{root}/dev/stderr")
    for private in ("/tmp", "/var/tmp", "/dev/shm"):
        _tmpfs(root + private, size, "1777")
    os.makedirs(root + "/proc")
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chdir(root)
    number = _PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(f"rlvr sandbox: no pivot_root syscall number known for {os.uname().machine}")
    _check(_libc.syscall(number, b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "detach the host's root")
    os.chdir("/")
    with open("/proc/sys/user/max_user_namespaces", "w") as limit:  # no nested user namespaces, as bwrap's
        limit.write("0")  # --disable-userns: this namespace's own limit (the host's is untouched)
    _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chdir("/sandbox")
    _drop_capabilities()
    env = {"PATH": "/usr/bin:/bin", "HOME": "/sandbox", "PYTHONDONTWRITEBYTECODE": "1"}
    os.execve(program[0], program, env)


if __name__ == "__main__":
    main(sys.argv[1:])
