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
    parsed = parse(f"${answer}$", extraction_config=config, parsing_timeout=None)
    if not any(not isinstance(p, str) for p in parsed):
        parsed = parse(answer, extraction_config=config, parsing_timeout=None) or parsed
    return parsed


def _equal(gold: str, pred: str) -> bool:
    from math_verify import verify

    gold_parsed, pred_parsed = _parse(gold), _parse(pred)
    return bool(gold_parsed and pred_parsed and verify(gold_parsed, pred_parsed, timeout_seconds=None))


def _verify(gold: str, pred: str) -> bool:
    """As written first; then the normalised forms, which can only add a match."""
    from rlvr.rewards.math_normalize import second_chance

    if _equal(gold, pred):
        return True
    normalized = second_chance(gold, pred)
    return normalized is not None and _equal(*normalized)


def main() -> None:
    """Answer JSON lines [key, gold, pred] on stdin with [key, true|false|"error"] on stdout."""
    import json
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.disable(logging.WARNING)
    import math_verify  # noqa: F401  (imported before the first request is timed)

    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        key, gold, pred = json.loads(line)
        try:
            result: bool | str = _verify(gold, pred)
        except BaseException:  # noqa: BLE001 - anything the parser raises is a verdict, not a crash
            result = "error"
        out.write(json.dumps([key, result]) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
