# ruff: noqa: F821 - runs with _plain_values.py prepended (see sandbox.run_tests)
"""Program side of the code grader: runs the model's program and answers calls from the test harness.

Appended to _plain_values.py's source and run in its own sandbox, apart from the tests: nothing here is
trusted. The program may rewrite any of it; all it can change is what it answers, and the harness checks
every answer.
"""

import marshal as _marshal
import os as _os
import sys as _sys


def _serve(read_fd, write_fd):
    reader = _os.fdopen(read_fd, "rb")
    writer = _os.fdopen(write_fd, "w", encoding="utf-8")

    def send(message):
        writer.write(json_line(message))
        writer.flush()

    with open("solution.py") as f:
        source = f.read()
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        exec(compile(source, "solution.py", "exec"), namespace)
    except BaseException as exc:  # noqa: BLE001 - SystemExit included: it is reported, not obeyed
        send({"load_error": type(exc).__name__, "message": str(exc)[:500]})
        _os._exit(0)
    names = [
        k for k, v in namespace.items() if callable(v) and not isinstance(v, type) and not k.startswith("__")
    ]
    classes = [k for k, v in namespace.items() if isinstance(v, type) and not k.startswith("__")]
    send({"ready": names, "classes": classes})
    while True:
        header = reader.readline(32)  # the length of a marshal-encoded (name, args, kwargs) from the harness
        if not header:
            break
        name, args, kwargs = _marshal.loads(reader.read(int(header)))
        function = namespace.get(name)
        try:
            result = function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            send({"raised": type(exc).__name__, "message": str(exc)[:500]})
            if isinstance(exc, (SystemExit, KeyboardInterrupt)):
                _os._exit(0)
            continue
        try:
            send({"ok": encode_value(result)})
        except NotPlain as exc:
            send({"not_plain": str(exc)})
        except (ValueError, RecursionError) as exc:
            send({"not_plain": type(exc).__name__})
    _os._exit(0)


if __name__ == "__main__":
    _sys.stdin = open(_os.devnull)
    _serve(int(_sys.argv[1]), int(_sys.argv[2]))
