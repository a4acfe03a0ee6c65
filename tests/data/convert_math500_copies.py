"""Build tests/data/math500_copies.jsonl: MATH-500 problems where a piece of the problem statement, copied into
`\\boxed{}`, is graded correct by plain math-verify (it evaluates what it parses).

Each math span of a problem ($...$, $$...$$, \\[...\\], \\(...\\), and their parts split at `=`, `,`, `\\quad`)
becomes a completion "So the answer is $\\boxed{span}$."; those that plain `parse`/`verify` credits are kept, with
the problem, its answer and its official solution. `label` is read by hand off each case: `restates` when the span
still asks for work (an expression to evaluate or simplify), `picks` when it is a value as given (a number or a
choice quoted from the problem, which no grader can refuse without refusing the true answer).

Usage: python tests/data/convert_math500_copies.py MATH500.jsonl
MATH500.jsonl: HuggingFaceH4/MATH-500's test split as JSON lines (the copy used: MobileLLM/BudgetThinker at
94881101cf32c019bca75190508f09ff072c85a2, evaluation/data/math500/test.jsonl, whose problems carry a
"Return your final response within \\boxed{}. " prefix that is removed here).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from pathlib import Path

OUT = Path(__file__).with_name("math500_copies.jsonl")
SOURCE = {
    "source": "MobileLLM/BudgetThinker",
    "commit": "94881101cf32c019bca75190508f09ff072c85a2",
    "path": "evaluation/data/math500/test.jsonl",
}
PREFIX = "Return your final response within \\boxed{}. "
SPAN = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\[(.+?)\\\]|\\\((.+?)\\\)", re.DOTALL)
# (problem, span) pairs read as a value quoted from the problem, not work left undone
PICKS = {
    ("test/intermediate_algebra/964.json", "1"),
    ("test/intermediate_algebra/1510.json", "0"),
    ("test/precalculus/819.json", "c"),
    ("test/prealgebra/1834.json", "\\sqrt{53}"),
    ("test/prealgebra/65.json", "6"),
    ("test/precalculus/1252.json", "1"),
}


def spans(problem: str) -> list[str]:
    found: set[str] = set()
    for match in SPAN.finditer(problem):
        span = next(g for g in match.groups() if g is not None).strip().rstrip(".,")
        found |= {span} | {part.strip() for part in re.split(r"=|,|\\quad|\\text\{and\}", span)}
    return sorted(s for s in found if s and _balanced(s))


def _balanced(span: str) -> bool:
    """Splitting at `,` and `=` cuts some spans mid-bracket, and tables' `&` rows are not answers."""
    return "&" not in span and all(span.count(a) == span.count(b) for a, b in ("()", "{}", "[]"))


def credited(gold: str, response: str) -> bool:
    from math_verify import parse, verify

    logging.disable(logging.WARNING)
    try:
        return bool(verify(parse(f"${gold}$"), parse(response)))
    except BaseException:  # noqa: BLE001 - a crash is no credit
        return False


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("math500", type=Path)
    rows = [json.loads(line) for line in parser.parse_args().math500.read_text().splitlines() if line.strip()]
    out = []
    for row in rows:
        problem = row["problem"].removeprefix(PREFIX)
        for span in spans(problem):
            response = f"So the answer is $\\boxed{{{span}}}$."
            if credited(row["answer"], response):
                label = "picks" if (row["unique_id"], span) in PICKS else "restates"
                out.append(
                    {
                        **SOURCE,
                        "unique_id": row["unique_id"],
                        "problem": problem,
                        "answer": row["answer"],
                        "solution": row["solution"],
                        "copied": span,
                        "label": label,
                    }
                )
    OUT.write_text("".join(json.dumps(case) + "\n" for case in out))
    print(
        f"{len(out)} credited copies from {len({c['unique_id'] for c in out})} of {len(rows)} problems -> {OUT}"
    )


if __name__ == "__main__":
    main()
