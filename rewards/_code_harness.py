# ruff: noqa: F821 - runs with _plain_values.py prepended (see sandbox.run_tests)
"""Test side of the code grader: runs the tests, calling the program in the other sandbox.

Appended to _plain_values.py's source and run in a sandbox of its own, with a different uid and pid
namespace from the program's, so the program can neither reach the tests nor write this process's
output. For each program it answers one line on its socket, `<nonce> <status> <detail>`; `passed` only
after the tests ran to their end. Status:
passed, failed (an assert failed), runtime_error, memory_limit, exited_early (the program ended its
process or raised SystemExit/KeyboardInterrupt), tampered (it returned something that is not plain data,
or broke the protocol), test_error (the tests themselves need what this harness cannot pass).
"""

import builtins as _builtins
import json as _json
import marshal as _marshal
import os as _os
import sys as _sys


class _Finished(BaseException):
    def __init__(self, status, detail=""):
        super().__init__(status)
        self.status, self.detail = status, detail


class CandidateError(Exception):
    """An exception the program raised that is not a built-in one (or one that would steer the tests)."""


_ENDS_ITERATION = ("StopIteration", "StopAsyncIteration")
_BUILTIN_NAMES = frozenset(dir(_builtins))
_OWED_CACHE = {}


def _star_imported(tests):
    """Names that `from module import *` lines of the tests bring in (imported here, on the tests' side)."""
    import ast

    names = set()
    for node in ast.walk(ast.parse(tests)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and any(a.name == "*" for a in node.names):
            try:
                module = __import__(node.module, fromlist=["*"])
            except Exception:  # noqa: BLE001 - the tests' own exec reports it
                continue
            names.update(
                getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
            )
    return names


def _looked_up_and_bound(tests):
    """(names the tests read from their globals, names the tests bind themselves), at every scope."""
    cached = _OWED_CACHE.get(tests)
    if cached is not None:
        return cached
    import symtable

    read, bound = set(), _star_imported(tests)
    tables = [symtable.symtable(tests, "tests.py", "exec")]
    while tables:
        table = tables.pop()
        module = table.get_type() == "module"
        for symbol in table.get_symbols():
            name = symbol.get_name()
            if module and (symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace()):
                bound.add(name)
            elif symbol.is_declared_global() and symbol.is_assigned():
                bound.add(name)
            if symbol.is_referenced() and (module or symbol.is_global()):
                read.add(name)
        tables.extend(table.get_children())
    if len(_OWED_CACHE) > 256:
        _OWED_CACHE.clear()
    _OWED_CACHE[tests] = (read, bound)
    return read, bound


def owed_names(tests, entry_point, offered):
    """Which of the program's names the tests receive: those they look up and neither define nor import
    themselves, never a builtin's (but the entry point the dataset names, which may be one: MBPP's `sum`);
    and the ones withheld, with why (for the verdict)."""
    read, bound = _looked_up_and_bound(tests)
    wanted = (read | {entry_point, "check"}) if entry_point else read  # the harness calls check(entry point)
    given, withheld = [], []
    for name in offered:
        if name not in wanted:
            continue
        if name == entry_point and name not in bound:
            given.append(name)
        elif name in _BUILTIN_NAMES:
            withheld.append(f"{name} (a builtin)")
        elif name in bound:
            withheld.append(f"{name} (the tests' own)")
        else:
            given.append(name)
    return given, withheld


class _Link:
    def __init__(self, to_fd, from_fd):
        self.writer = _os.fdopen(to_fd, "wb")
        self.reader = _os.fdopen(from_fd, "r", encoding="utf-8", errors="replace")

    def receive(self):
        line = self.reader.readline(64 << 20)
        if not line:
            raise _Finished("exited_early", "the program's process ended before the tests did")
        try:
            message = _json.loads(line)
        except (ValueError, RecursionError):
            raise _Finished("tampered", "the program wrote something other than an answer") from None
        if type(message) is not dict or len(message) == 0:
            raise _Finished("tampered", "the program wrote something other than an answer")
        return message

    def call(self, name, args, kwargs):
        try:  # plain data only, rebuilt from its encoding so that no subclass crosses
            plain_args = decode_value(encode_value(list(args)))
            plain_kwargs = decode_value(encode_value(dict(kwargs)))
            request = _marshal.dumps((name, plain_args, plain_kwargs))
        except (NotPlain, ValueError) as exc:
            raise _Finished(
                "test_error", f"the tests pass a {exc}, which cannot cross to the program"
            ) from None
        try:
            self.writer.write(b"%d\n" % len(request) + request)
            self.writer.flush()
        except (BrokenPipeError, OSError):
            raise _Finished("exited_early", "the program's process ended before the tests did") from None
        reply = self.receive()
        if "ok" in reply:
            try:
                return decode_value(reply["ok"])
            except (NotPlain, TypeError, ValueError) as exc:
                raise _Finished("tampered", f"the program returned a malformed value ({exc})") from None
        if "not_plain" in reply:
            raise _Finished("tampered", "{} returned a {}, not plain data".format(name, reply["not_plain"]))
        if "raised" in reply:
            kind = str(reply["raised"])
            if kind in ("SystemExit", "KeyboardInterrupt", "GeneratorExit"):
                raise _Finished("exited_early", f"{name} raised {kind}")
            if kind == "MemoryError":
                raise _Finished("memory_limit", f"{name} ran out of memory")
            error = getattr(_builtins, kind, None)
            if kind in _ENDS_ITERATION or not (isinstance(error, type) and issubclass(error, Exception)):
                error = CandidateError  # a StopIteration would end the tests' map()/zip() loop as if done
            try:
                exc = error(str(reply.get("message", "")))
            except TypeError:  # an exception type whose constructor wants more than a message
                exc = CandidateError(str(reply.get("message", "")))
            exc.from_program = "{}: {}".format(kind, reply.get("message", ""))
            raise exc
        raise _Finished("tampered", "the program wrote something other than an answer")


def _proxy(link, name):
    def call(*args, **kwargs):
        return link.call(name, args, kwargs)

    call.__name__ = name
    return call


def _run(meta, tests, to_program, from_program):
    link = _Link(to_program, from_program)
    try:
        _run_linked(meta, tests, link)
    finally:
        for stream in (link.writer, link.reader):
            try:
                stream.close()
            except OSError:
                pass


def _run_linked(meta, tests, link):
    first = link.receive()
    if "load_error" in first:
        kind = first["load_error"]
        if kind in ("SystemExit", "KeyboardInterrupt"):
            raise _Finished("exited_early", f"the program raised {kind} while loading")
        if kind == "MemoryError":
            raise _Finished("memory_limit", "the program ran out of memory while loading")
        raise _Finished("runtime_error", "{}: {}".format(kind, first.get("message", "")))
    if type(first.get("ready")) is not list:
        raise _Finished("tampered", "the program wrote something other than an answer")
    offered = [name for name in first["ready"] if type(name) is str and name.isidentifier()]
    entry_point = meta.get("entry_point")
    try:
        given, withheld = owed_names(tests, entry_point, offered)
        read, bound = _looked_up_and_bound(tests)
    except (SyntaxError, ValueError) as exc:
        raise _Finished("test_error", f"the tests do not compile: {exc}") from None
    classes = sorted(read & set(first.get("classes") or ()) - bound - _BUILTIN_NAMES)
    if classes:  # objects of the program's own classes cannot cross to the tests as plain data
        raise _Finished(
            "test_error", f"the tests build the program's own class {classes[0]}, which cannot be graded"
        )
    # HumanEval calls check(entry point); other tests call the entry point by name
    calls_check = bool(entry_point) and "check" in bound
    if not entry_point and "check" in bound and "check" not in read:
        raise _Finished(
            "test_error", "the tests define check(candidate) but no entry point says what it checks"
        )
    note = f" (not given to the tests: {', '.join(withheld)})"[:300] if withheld else ""
    namespace = {"__name__": "__main__", "__builtins__": _builtins}
    namespace.update({name: _proxy(link, name) for name in given})
    try:
        exec(compile(tests, "tests.py", "exec"), namespace)
        if entry_point and entry_point not in offered:
            raise _Finished("failed", f"the program defines no function {entry_point!r}")
        if calls_check:
            check = namespace.get("check")
            if not callable(check):
                raise _Finished("test_error", "the tests define no check(candidate) function")
            check(_proxy(link, entry_point))
        elif entry_point and entry_point not in read:
            raise _Finished("test_error", f"the tests neither define check() nor call {entry_point}")
    except _Finished as done:
        if note and done.status != "passed":
            done.detail = f"{done.detail}{note}"
        raise
    except AssertionError as exc:
        raise _Finished("failed", f"AssertionError: {str(exc)[:200]}{note}") from None
    except MemoryError:
        raise _Finished("memory_limit", "out of memory") from None
    except Exception as exc:  # noqa: BLE001
        where = getattr(exc, "from_program", None) or f"{type(exc).__name__}: {exc}"
        raise _Finished("runtime_error", where[:300] + note) from None
    raise _Finished("passed")


def _serve(sock_fd):
    """One run per request on the socket: a header line with the fds of the program's pipes attached,
    then the tests; the reply is the status line. The harness outlives many programs and never runs one."""
    import socket

    sock = socket.socket(fileno=sock_fd)
    buffer = b""
    while True:
        data, fds, _, _ = socket.recv_fds(sock, 1 << 16, 2)
        if not data:
            _os._exit(0)
        buffer += data
        while b"\n" not in buffer:
            chunk = sock.recv(1 << 16)
            if not chunk:
                _os._exit(0)
            buffer += chunk
        header, _, buffer = buffer.partition(b"\n")
        meta = _json.loads(header)
        while len(buffer) < meta["length"]:
            chunk = sock.recv(1 << 16)
            if not chunk:
                _os._exit(0)
            buffer += chunk
        tests, buffer = buffer[: meta["length"]].decode(), buffer[meta["length"] :]
        try:
            _run(meta, tests, fds[0], fds[1])
        except _Finished as done:
            line = "{} {} {}\n".format(meta["nonce"], done.status, _json.dumps(done.detail))
        else:
            line = "{} test_error {}\n".format(
                meta["nonce"], _json.dumps("the harness ended without a verdict")
            )
        sock.sendall(line.encode())


if __name__ == "__main__":
    _serve(int(_sys.argv[1]))
