"""Runs inside a verifier worker process: math-verify's parse/verify, which may hang or blow up."""

from __future__ import annotations

import logging
import signal


def _parse(answer: str):
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    # Wrapped in $...$: bare text lets math-verify's expression parser take the last number of an
    # equation (its known false positive "3*x-1*y+13=0" == "3x+4y+14=0"). The bare text is read only
    # when the wrapped one yields no expression (a matrix in parentheses, say).
    config = [LatexExtractionConfig(), ExprExtractionConfig()]
    # A `$` inside an answer (`8 \\text{$7$}`) would split it into several formulas, each a candidate that
    # verify accepts if any matches: one box would hedge between answers. The box is already math.
    answer = answer.replace("$", " ")
    parsed = parse(f"${answer}$", extraction_config=config, parsing_timeout=None)
    if not any(not isinstance(p, str) for p in parsed):
        parsed = parse(answer, extraction_config=config, parsing_timeout=None) or parsed
    return parsed


RELATIVE_TOLERANCE = 1e-5  # numbers that verify equal must also agree this closely (see _close)


def _numbers(parsed: list) -> list[complex]:
    """The parsed candidates that are plain numbers (no symbols, no sets), as complex values."""
    import sympy

    values = []
    for item in parsed:
        if isinstance(item, sympy.Expr) and item.is_number:
            try:
                value = complex(sympy.N(item.doit(), 30))  # doit: UnevaluatedExpr (percent)
            except (TypeError, ValueError):  # a number sympy cannot evaluate: math-verify's verdict stands
                continue
            if value == value:  # not nan
                values.append(value)
    return values


def _close(gold_parsed: list, pred_parsed: list) -> bool:
    """math-verify compares numbers rounded to 6 decimal places, so 0 equals 0.0000004 and 0.000001 equals
    0.00000123: for a small gold one fixed guess scores. Where both sides are numbers they must also agree
    to a relative 1e-5 (which a value of 0.05 or more rounded to 6 places always does)."""
    gold_values, pred_values = _numbers(gold_parsed), _numbers(pred_parsed)
    if not gold_values or not pred_values:
        return True  # expressions, sets, intervals: math-verify's verdict stands
    return any(
        abs(g - p) <= RELATIVE_TOLERANCE * max(abs(g), abs(p)) for g in gold_values for p in pred_values
    )


def _equal(gold: str, pred: str) -> bool:
    from math_verify import verify

    gold_parsed, pred_parsed = _parse(gold), _parse(pred)
    if not (gold_parsed and pred_parsed and verify(gold_parsed, pred_parsed, timeout_seconds=None)):
        return False
    return _close(gold_parsed, pred_parsed)


def _verify(gold: str, pred: str) -> bool:
    """As written first; then the normalised forms, which can only add a match."""
    from rlvr.rewards.math_normalize import second_chance

    if _equal(gold, pred):
        return True
    normalized = second_chance(gold, pred)
    return normalized is not None and _equal(*normalized)


def _reading(text: str) -> dict | None:
    """What the verifier reads in `text`, for callers that rule out pairs it could never accept without asking it
    (the chance floor, answer classes): None when it parses nothing, else whether a candidate is a formula, the
    string candidates (compared as stripped text), and the plain numbers `_close` compares, as [real, imag]."""
    parsed = _parse(text)
    if not parsed:
        return None
    return {
        "formula": any(not isinstance(p, str) for p in parsed),
        "strings": [p.strip() for p in parsed if isinstance(p, str)],
        "numbers": [[v.real, v.imag] for v in _numbers(parsed)],
    }


# `\\boxed{2^{2^{35}}}` would take 4 GiB per worker before its CPU limit ends it, and a batch runs many workers:
# past this an allocation fails (MemoryError, verdict "error") instead of the machine swapping.
MEMORY_LIMIT = 2 << 30


def _limit_memory() -> None:
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ValueError, OSError):  # a hard limit already lower: keep it
        pass


def main() -> None:
    """Answer JSON lines [key, gold, pred] on stdin with [key, true|false|"error"] on stdout; a gold of null asks
    what the verifier reads in pred instead (`_reading`)."""
    import json
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.disable(logging.WARNING)
    _limit_memory()
    import math_verify  # noqa: F401  (imported before the first request is timed)

    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        key, gold, pred = json.loads(line)
        try:
            result: bool | str | dict | None = _reading(pred) if gold is None else _verify(gold, pred)
        except BaseException:  # noqa: BLE001 - anything the parser raises is a verdict, not a crash
            result = "error"
        out.write(json.dumps([key, result]) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
