"""Values that cross between the test harness and the program under test: plain data only.

Source text shared by both sides of the code grader's two sandboxed processes (it is inlined into their
scripts, which run on the system Python with nothing of rlvr installed). Only exact built-in types pass:
an object whose `__eq__` says yes to everything, or a subclass of int with one, cannot be sent, so it
cannot reach the tests' comparisons.

Nothing here imports a module: the program's side starts a fresh interpreter per program, and `json`
alone (with `re` and `enum`) would add a third to its start-up. Answers are written as JSON by hand
(`json_line`), requests arrive as `marshal` data from the harness (a built-in module, and trusted data).
"""

_SCALARS = (type(None), bool, int, float, str)
# collections' dicts compare equal to a plain dict of their items (a Counter's zero counts aside, where the
# plain dict is the stricter): an honest solution returns them (MBPP 40, 88), so they cross as plain dicts
_DICTS = ("Counter", "OrderedDict", "defaultdict")
_MAX_DEPTH = 200


class NotPlain(Exception):
    """A value that is not plain data (its type name is the message)."""


def encode_value(value, depth=0):
    if depth > _MAX_DEPTH:
        raise NotPlain(f"nesting deeper than {_MAX_DEPTH}")
    kind = type(value)
    if kind.__module__ == "numpy" and hasattr(value, "tolist"):
        value = value.tolist()  # numpy scalars and arrays: their plain equivalent, checked below
        kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is list:
        return [encode_value(v, depth + 1) for v in value]
    if kind is tuple:
        return {"t": [encode_value(v, depth + 1) for v in value]}
    if kind is dict or kind.__module__ == "collections" and kind.__name__ in _DICTS:
        items = dict.items(value)  # dict's own, whatever the class says: the harness sees a plain dict
        return {"d": [[encode_value(k, depth + 1), encode_value(v, depth + 1)] for k, v in items]}
    if kind is set or kind is frozenset:
        return {"s" if kind is set else "f": [encode_value(v, depth + 1) for v in value]}
    if kind is bytes:
        return {"b": value.hex()}
    if kind is complex:
        return {"c": [value.real, value.imag]}
    raise NotPlain(kind.__name__)


def decode_value(data, depth=0):
    if depth > _MAX_DEPTH:
        raise NotPlain(f"nesting deeper than {_MAX_DEPTH}")
    kind = type(data)
    if kind in _SCALARS:
        return data
    if kind is list:
        return [decode_value(v, depth + 1) for v in data]
    if kind is not dict or len(data) != 1:
        raise NotPlain("malformed value")
    ((tag, body),) = data.items()
    if tag == "t" and type(body) is list:
        return tuple(decode_value(v, depth + 1) for v in body)
    if tag == "d" and type(body) is list and all(type(p) is list and len(p) == 2 for p in body):
        return {decode_value(k, depth + 1): decode_value(v, depth + 1) for k, v in body}
    if tag in ("s", "f") and type(body) is list:
        items = [decode_value(v, depth + 1) for v in body]
        return set(items) if tag == "s" else frozenset(items)
    if tag == "b" and type(body) is str:
        return bytes.fromhex(body)
    if tag == "c" and type(body) is list and len(body) == 2 and all(type(x) in (int, float) for x in body):
        return complex(body[0], body[1])
    raise NotPlain("malformed value")


# JSON string escapes: quote, backslash, control characters and lone surrogates (not encodable in UTF-8)
_ESCAPES = {c: f"\\u{c:04x}" for c in [*range(0x20), 0x7F, *range(0xD800, 0xE000)]}
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\"})


def _json_text(value):
    kind = type(value)
    if kind is str:
        return '"' + value.translate(_ESCAPES) + '"'
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)  # past 4300 digits: ValueError, as from json.dumps
    if kind is float:
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if kind is list:
        return "[" + ",".join(_json_text(v) for v in value) + "]"
    if kind is dict:
        return "{" + ",".join(_json_text(k) + ":" + _json_text(v) for k, v in value.items()) + "}"
    raise NotPlain(kind.__name__)


def json_line(message):
    """`message` (str keys, encoded values) as one line of JSON that json.loads reads back equal."""
    return _json_text(message) + "\n"
